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

#include "ms_fs.h"
#include "ms_testdata.h"
#include "ms_testutil.h"

enum { READM, SAME_DAY, PINGPONG };
static const char *const ind_name[] = {"readmission_15", "same_day_readmission", "transfer_pingpong"};

/* The expected clues: settle_id, institution, indicator. */
typedef struct {
    uint64_t sid;
    const char *inst;
    int ind;
} want_t;

typedef struct {
    want_t w[256];
    size_t n;
} wants_t;

static void want(wants_t *ws, const ms_settlement_t *s, int ind)
{
    static const char *const codes[] = {"H0001", "H0002", "H0003", "H0004", "H0005"};
    assert_true(ws->n < sizeof ws->w / sizeof *ws->w);
    ws->w[ws->n++] = (want_t){s->settle_id, codes[s->inst_code], ind};
}

static ms_settlement_t *stay(ms_testdata_t *t, uint64_t person, uint32_t inst, int32_t admit, int32_t discharge,
                             int32_t group, int32_t diag)
{
    ms_settlement_t *s = ms_testdata_stay(t, person, inst, admit, discharge, group);
    s->diag_main = diag;
    return s;
}

/* Column of name in a CSV header line, or -1. */
static int column(const char *header, const char *name)
{
    size_t len = strlen(name);
    int k = 0;
    for (const char *p = header; p; p = strchr(p, ','), p = p ? p + 1 : NULL, k++)
        if (!strncmp(p, name, len) && (p[len] == ',' || p[len] == '\0')) return k;
    return -1;
}

/* Field k of a CSV line without quoting, copied into out. */
static void field(const char *line, int k, char *out, size_t cap)
{
    const char *p = line;
    for (int i = 0; i < k && p; i++) p = strchr(p, ','), p = p ? p + 1 : NULL;
    size_t n = p ? strcspn(p, ",") : 0;
    if (n >= cap) n = cap - 1;
    memcpy(out, p ? p : "", n);
    out[n] = '\0';
}

/* Number of clues of model decomposed in OUT/clues.csv (read by its header,
 * whatever other columns it has), asserting each wanted one is there exactly
 * once. */
static size_t check_clues(const char *out, const wants_t *ws)
{
    char path[700];
    snprintf(path, sizeof path, "%s/clues.csv", out);
    char *text = ms_test_slurp(path, NULL);
    assert_non_null(text);
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    assert_non_null(line);
    int c_inst = column(line, "inst_code"), c_model = column(line, "model"), c_ind = column(line, "indicator"),
        c_sid = column(line, "settle_id");
    assert_true(c_inst >= 0 && c_model >= 0 && c_ind >= 0 && c_sid >= 0);
    size_t n = 0, seen[256] = {0};
    while ((line = strtok_r(NULL, "\n", &save))) {
        char inst[64], model[64], ind[64], sid[32];
        field(line, c_model, model, sizeof model);
        if (strcmp(model, "decomposed")) continue;
        n++;
        field(line, c_inst, inst, sizeof inst);
        field(line, c_ind, ind, sizeof ind);
        field(line, c_sid, sid, sizeof sid);
        for (size_t i = 0; i < ws->n; i++)
            if (!strcmp(inst, ws->w[i].inst) && !strcmp(ind, ind_name[ws->w[i].ind]) &&
                strtoull(sid, NULL, 10) == ws->w[i].sid)
                seen[i]++;
    }
    free(text);
    for (size_t i = 0; i < ws->n; i++) {
        if (seen[i] != 1)
            print_error("clue %s %s %llu seen %zu times\n", ws->w[i].inst, ind_name[ws->w[i].ind],
                        (unsigned long long)ws->w[i].sid, seen[i]);
        assert_int_equal(seen[i], 1);
    }
    return n;
}

static void expect(const char *out, const char *inst, int ind, long long want_num, long long want_den)
{
    long long num = -1, den = -1;
    int rc = ms_testdata_indicator(out, inst, "decomposed", ind_name[ind], &num, &den);
    if (rc || num != want_num || den != want_den)
        print_error("%s %s: %lld/%lld, want %lld/%lld\n", inst, ind_name[ind], num, den, want_num, want_den);
    assert_int_equal(rc, 0);
    assert_int_equal(num, want_num);
    assert_int_equal(den, want_den);
}

static void test_hand_built(void **state)
{
    (void)state;
    char *dir = ms_test_dir("model-decomposed");
    char data[600], out[600];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    ms_testdata_t t;
    ms_testdata_init(&t, 5, 3);
    /* Families F01 and F02 in MDC E, F03 in MDC F. */
    for (int g = 6; g < 9; g++) t.refs.groups[g].mdc = 'F';
    /* Diagnosis 1 is A00.1: the category of diagnosis 0 (A00.0) under another code. */
    free(t.refs.diagnoses.str[1]);
    t.refs.diagnoses.str[1] = strdup("A00.1");
    int32_t d = ms_testdata_day("2025-01-06");
    wants_t ws = {.n = 0};
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

    assert_int_equal(ms_testdata_write(&t, data), MS_OK);
    char *log = NULL;
    int rc = ms_testdata_sweep(data, out, "--models decomposed", &log);
    if (rc) print_error("%s\n", log);
    assert_int_equal(rc, 0);
    free(log);

    expect(out, "H0001", READM, 3, 22);
    expect(out, "H0001", SAME_DAY, 0, 22);
    expect(out, "H0001", PINGPONG, 0, 22);
    expect(out, "H0002", READM, 1, 17);
    expect(out, "H0002", SAME_DAY, 2, 17);
    expect(out, "H0002", PINGPONG, 0, 17);
    expect(out, "H0003", READM, 0, 17);
    expect(out, "H0003", PINGPONG, 2, 17);
    expect(out, "H0004", READM, 0, 14);
    expect(out, "H0004", PINGPONG, 3, 14);
    expect(out, "H0005", READM, 99, 110);
    expect(out, "H0005", SAME_DAY, 0, 110);
    assert_int_equal(check_clues(out, &ws), ws.n);

    /* The same bytes with three threads and small batches. */
    char out3[700];
    snprintf(out3, sizeof out3, "%s3", out);
    assert_int_equal(ms_testdata_sweep(data, out3, "--models decomposed --threads 3 --batch-rows 64", NULL), 0);
    char p1[800], p3[800];
    for (int k = 0; k < 2; k++) {
        const char *name = k ? "clues.csv" : "indicators.csv";
        snprintf(p1, sizeof p1, "%s/%s", out, name);
        snprintf(p3, sizeof p3, "%s/%s", out3, name);
        char *a = ms_test_slurp(p1, NULL), *b = ms_test_slurp(p3, NULL);
        assert_non_null(a);
        assert_non_null(b);
        assert_string_equal(a, b);
        free(a), free(b);
    }

    /* Wider windows from the rule configuration: day 16 and the 31-day return count. */
    char cfg[700], extra[800];
    snprintf(cfg, sizeof cfg, "%s/rules.cfg", dir);
    ms_test_write_file(cfg, "scoring = { all_clues = 1; };\n"
                            "models = { decomposed = { readmission_15 = { window = 16; }; "
                            "transfer_pingpong = { window = 31; }; }; };\n");
    snprintf(extra, sizeof extra, "--models decomposed --config %s", cfg);
    assert_int_equal(ms_testdata_sweep(data, out, extra, NULL), 0);
    expect(out, "H0001", READM, 4, 22);
    expect(out, "H0003", PINGPONG, 3, 17);
    expect(out, "H0004", PINGPONG, 4, 14);
    want(&ws, &(ms_settlement_t){.settle_id = day16_sid, .inst_code = 0}, READM);
    want(&ws, &(ms_settlement_t){.settle_id = day31_sid, .inst_code = 2}, PINGPONG);
    want(&ws, &(ms_settlement_t){.settle_id = day31_b, .inst_code = 3}, PINGPONG);
    assert_int_equal(check_clues(out, &ws), ws.n);

    ms_testdata_free(&t);
    ms_remove_tree(dir);
    free(dir);
}

static void test_configuration(void **state)
{
    (void)state;
    char *dir = ms_test_dir("model-decomposed-cfg");
    char cfg[700], cmd[1500], *out = NULL;
    snprintf(cfg, sizeof cfg, "%s/rules.cfg", dir);
    const struct {
        const char *text, *want;
    } cases[] = {
        {"models = { decomposed = { readmission_15 = { window = 91; }; }; };",
         "'models.decomposed.readmission_15.window' = 91 is out of range (allowed 1..90)"},
        {"models = { decomposed = { transfer_pingpong = { window = 0; }; }; };",
         "'models.decomposed.transfer_pingpong.window' = 0 is out of range (allowed 1..365)"},
        {"models = { decomposed = { same_day_readmission = { window = 3; }; }; };",
         "unknown key 'window' in models.decomposed.same_day_readmission"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ms_test_write_file(cfg, cases[i].text);
        snprintf(cmd, sizeof cmd, "%s models --config %s", ms_test_bin(), cfg);
        assert_int_equal(ms_test_run(cmd, &out), 1);
        if (!strstr(out, cases[i].want)) print_error("'%s' not in: %s\n", cases[i].want, out);
        assert_non_null(strstr(out, cases[i].want));
        free(out);
    }
    /* The model and its defaults are listed. */
    snprintf(cmd, sizeof cmd, "%s models --config", ms_test_bin());
    assert_int_equal(ms_test_run(cmd, &out), 0);
    assert_non_null(strstr(out, "decomposed"));
    assert_non_null(strstr(out, "readmission_15"));
    assert_non_null(strstr(out, "transfer_pingpong"));
    free(out);
    ms_remove_tree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_built),
        cmocka_unit_test(test_configuration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
