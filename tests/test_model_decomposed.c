/*
 * test_model_decomposed.c - decomposed hospitalization on hand-built cases.
 *
 * One person per case, so that every flag is explained by one history:
 *   H0001  readmissions: 15 days later (flagged) and 16 (not, until the
 *          window is 16); same category under another code (flagged); same
 *          MDC under another category (flagged); another category and MDC,
 *          or one stay ungrouped (not).
 *   H0002  a same-day readmission (both indicators), a same-day one with
 *          another diagnosis (same-day only), overlapping stays (neither).
 *   H0002 -> H0003  a readmission elsewhere (not).
 *   H0003/H0004  transfers X -> Y -> X within 30 days (B and C flagged), one
 *          whose return takes 31 days (not), and X,Y,X,Y (each stay once).
 *   H0005  a person with 100 stays, each 1 day after the last (99 flags; the
 *          scratch array grows).
 * Ten single stays of other persons pad every institution's denominator.
 * Every flagged stay must be a clue of model decomposed, and nothing else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ms_testdata.h"
#include "ms_testsweep.h"
#include "ms_testutil.h"

enum { READM, SAME_DAY, PINGPONG };
static const char *const ind_name[] = {"readmission_15", "same_day_readmission", "transfer_pingpong"};

/* An expected clue: settlement s flagged by indicator ind. */
static void want(ms_testclues_t *ws, const ms_settlement_t *s, int ind)
{
    static const char *const codes[] = {"H0001", "H0002", "H0003", "H0004", "H0005"};
    ms_testclues_add(ws, codes[s->inst_code], ind_name[ind], s->settle_id);
}

static ms_settlement_t *stay(ms_testdata_t *t, uint64_t person, uint32_t inst, int32_t admit, int32_t discharge,
                             int32_t group, int32_t diag)
{
    ms_settlement_t *s = ms_testdata_stay(t, person, inst, admit, discharge, group);
    s->diag_main = diag;
    return s;
}

static void expect(const ms_testsweep_t *f, const char *inst, int ind, long long want_num, long long want_den)
{
    ms_testsweep_expect(f, inst, ind_name[ind], want_num, want_den);
}

static void test_hand_built(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "model-decomposed", "decomposed");
    ms_testdata_t t;
    ms_testdata_init(&t, 5, 3);
    /* Families F01 and F02 in MDC E, F03 in MDC F. */
    for (int g = 6; g < 9; g++) t.refs.groups[g].mdc = 'F';
    /* Diagnosis 1 is A00.1: the category of diagnosis 0 (A00.0) under another code. */
    free(t.refs.diagnoses.str[1]);
    t.refs.diagnoses.str[1] = strdup("A00.1");
    int32_t d = ms_testdata_day("2025-01-06");
    ms_testclues_t ws = {0};
    const ms_settlement_t *day16;
    uint64_t day16_sid;

    /* H0001: readmissions. */
    stay(&t, 1, 0, d, d + 5, -1, 0);
    want(&ws, stay(&t, 1, 0, d + 20, d + 25, -1, 0), READM);        /* day 15 */
    stay(&t, 2, 0, d, d + 5, -1, 0);
    day16 = stay(&t, 2, 0, d + 21, d + 24, -1, 0);                   /* day 16 */
    day16_sid = day16->settle_id;
    stay(&t, 3, 0, d, d + 3, -1, 0);
    want(&ws, stay(&t, 3, 0, d + 10, d + 12, -1, 1), READM);        /* A00.0 then A00.1 */
    stay(&t, 4, 0, d, d + 3, 0, 2);
    want(&ws, stay(&t, 4, 0, d + 5, d + 8, 3, 3), READM);           /* A02, A03: both MDC E */
    stay(&t, 5, 0, d, d + 3, 0, 4);
    stay(&t, 5, 0, d + 5, d + 8, 6, 5);                              /* MDC E then F */
    stay(&t, 6, 0, d, d + 3, 0, 6);
    stay(&t, 6, 0, d + 5, d + 8, -1, 7);                             /* second stay ungrouped */
    ms_testdata_visit(&t, 6, 0, d + 4);                              /* an outpatient visit between */

    /* H0002: same day; a readmission elsewhere; overlapping stays. */
    stay(&t, 7, 1, d, d + 5, -1, 0);
    stay(&t, 7, 2, d + 7, d + 9, -1, 0);                             /* at H0003: not a readmission */
    stay(&t, 8, 1, d, d + 4, -1, 10);
    const ms_settlement_t *s = stay(&t, 8, 1, d + 4, d + 6, -1, 10);
    want(&ws, s, READM);
    want(&ws, s, SAME_DAY);
    stay(&t, 9, 1, d, d + 10, -1, 11);
    stay(&t, 9, 1, d + 3, d + 5, -1, 11);                            /* inside the first: neither */
    stay(&t, 10, 1, d + 20, d + 22, -1, 12);
    want(&ws, stay(&t, 10, 1, d + 22, d + 23, -1, 13), SAME_DAY);    /* another category: same day only */

    /* H0003 (X) and H0004 (Y): transfers. */
    stay(&t, 11, 2, d, d + 5, -1, 20);
    ms_testdata_visit(&t, 11, 0, d + 7);
    want(&ws, stay(&t, 11, 3, d + 10, d + 15, -1, 21), PINGPONG);
    want(&ws, stay(&t, 11, 2, d + 30, d + 32, -1, 22), PINGPONG);   /* back after 15 days */
    stay(&t, 12, 2, d, d + 5, -1, 20);
    stay(&t, 12, 3, d + 10, d + 15, -1, 21);
    const ms_settlement_t *day31 = stay(&t, 12, 2, d + 46, d + 48, -1, 22); /* back after 31 days */
    uint64_t day31_sid = day31->settle_id, day31_b = day31_sid - 1;
    stay(&t, 13, 2, d, d + 2, -1, 30);
    want(&ws, stay(&t, 13, 3, d + 3, d + 5, -1, 31), PINGPONG);
    want(&ws, stay(&t, 13, 2, d + 6, d + 8, -1, 32), PINGPONG);
    want(&ws, stay(&t, 13, 3, d + 9, d + 11, -1, 33), PINGPONG);

    /* H0005: 100 one-day stays of one person, each admitted a day after the last discharge. */
    for (int i = 0; i < 100; i++) {
        s = stay(&t, 14, 4, d + 2 * i, d + 2 * i + 1, -1, 40);
        if (i) want(&ws, s, READM);
    }

    /* Ten single stays of other persons at every institution, so that no
     * denominator is under the scoring's minimum (a clue never rests on a
     * denominator too small to report). */
    for (uint32_t i = 0; i < 5; i++)
        for (uint64_t k = 0; k < 10; k++) stay(&t, 100 + 10 * i + k, i, d + 60, d + 62, -1, 50);

    ms_testsweep_data(&f, &t);
    ms_testsweep_run(&f, f.out, NULL);

    expect(&f, "H0001", READM, 3, 22);
    expect(&f, "H0001", SAME_DAY, 0, 22);
    expect(&f, "H0001", PINGPONG, 0, 22);
    expect(&f, "H0002", READM, 1, 17);
    expect(&f, "H0002", SAME_DAY, 2, 17);
    expect(&f, "H0002", PINGPONG, 0, 17);
    expect(&f, "H0003", READM, 0, 17);
    expect(&f, "H0003", PINGPONG, 2, 17);
    expect(&f, "H0004", READM, 0, 14);
    expect(&f, "H0004", PINGPONG, 3, 14);
    expect(&f, "H0005", READM, 99, 110);
    expect(&f, "H0005", SAME_DAY, 0, 110);
    ms_testsweep_clues_are(&f, &ws, 1);

    /* The same bytes with three threads and small batches. */
    ms_testsweep_same_run(&f, "--threads 3 --batch-rows 64");

    /* Wider windows from the rule configuration: day 16 and the 31-day return count. */
    ms_testsweep_rules(&f, "scoring = { all_clues = 1; };\n"
                           "models = { decomposed = { readmission_15 = { window = 16; }; "
                           "transfer_pingpong = { window = 31; }; }; };\n");
    ms_testsweep_run(&f, f.out, NULL);
    expect(&f, "H0001", READM, 4, 22);
    expect(&f, "H0003", PINGPONG, 3, 17);
    expect(&f, "H0004", PINGPONG, 4, 14);
    ms_testclues_add(&ws, "H0001", ind_name[READM], day16_sid);
    ms_testclues_add(&ws, "H0003", ind_name[PINGPONG], day31_sid);
    ms_testclues_add(&ws, "H0004", ind_name[PINGPONG], day31_b);
    ms_testsweep_clues_are(&f, &ws, 1);

    ms_testclues_free(&ws);
    ms_testdata_free(&t);
    ms_testsweep_done(&f);
}

static void test_configuration(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "model-decomposed-cfg", "decomposed");
    static const ms_testsweep_bad_t cases[] = {
        {"models = { decomposed = { readmission_15 = { window = 91; }; }; };",
         "'models.decomposed.readmission_15.window' = 91 is out of range (allowed 1..90)"},
        {"models = { decomposed = { transfer_pingpong = { window = 0; }; }; };",
         "'models.decomposed.transfer_pingpong.window' = 0 is out of range (allowed 1..365)"},
        {"models = { decomposed = { same_day_readmission = { window = 3; }; }; };",
         "unknown key 'window' in models.decomposed.same_day_readmission"},
    };
    ms_testsweep_refused(&f, cases, sizeof cases / sizeof *cases);
    /* The model and its defaults are listed. */
    ms_testsweep_defaults("decomposed", "readmission_15", "transfer_pingpong", NULL);
    ms_testsweep_done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_built),
        cmocka_unit_test(test_configuration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
