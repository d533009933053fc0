/*
 * test_model_drugs.c - returned drugs and hoarding buyers on hand-built cases.
 *
 * Repeated traceability codes: the sales of one code are made by persons in
 * different partitions (the default two), so they meet only in the
 * shuffle.  A code sold twice flags the later sale at its institution and
 * reports the first as first_sale_of_repeated_code at the first seller; three
 * times flags two; once flags nothing; "first" is by date even when the
 * later sale has the smaller settlement id.
 *
 * Hoarding: 300 ordinary buyers of a drug take 2 packages each (the 99th
 * percentile is 2, the limit 3 x 2 = 6).  A buyer with 7 packages over days
 * d, d+10 and d+29 at three institutions is a hoarder (also when those 7
 * lines are among the 47 of a long history of other drugs); the same with the
 * last purchase on d+30 (5 at most in any 30 days) is not, nor one with 7
 * at two institutions.  With window_days = 31 the second one is.
 *
 * Bounded memory: a bigger world swept with the smallest memory cap the
 * engine allows for one thread (read from its own error message) must write
 * the same indicators.csv and clues.csv as the in-memory sweep.
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

enum { H_A, H_B, H_C, H_D, H_P1, H_P2, H_P3, H_P4, H_N, N_INST };
enum { DRUG_TRACE = 0, DRUG_HOARD = 1, DRUG_BULK = 2 };

typedef struct {
    ms_testdata_t t;
    ms_testclues_t flags;       /* what the test expects flagged */
    uint64_t next_person;
    uint64_t serial;            /* trace_lo of the next fresh package */
    long long lines[N_INST];
    /* The evidence clues must carry (clues.csv). */
    uint64_t code1_first, code1_repeat, code2_first, code2_at_c, hoard_p1;
    int32_t d;
} world_t;

static void expect(world_t *w, uint32_t inst, const char *indicator, uint64_t sid)
{
    ms_testclues_add(&w->flags, w->t.refs.inst[inst].inst_code, indicator, sid);
}

/* A fresh person in partition part (of 2). */
static uint64_t person_in(world_t *w, uint32_t part)
{
    while (ms_person_partition(w->next_person, 2) != part) w->next_person++;
    return w->next_person++;
}

/* A purchase of one package with code (hi, lo); returns its settle_id. */
static uint64_t sale(world_t *w, uint64_t person, uint32_t inst, int32_t day, uint32_t drug, uint64_t hi,
                     uint64_t lo)
{
    ms_settlement_t *s = ms_testdata_visit(&w->t, person, inst, day);
    ms_testdata_item(&w->t, s, drug, hi, lo);
    w->lines[inst]++;
    return s->settle_id;
}

/* n packages with fresh codes in one settlement. */
static uint64_t buy(world_t *w, uint64_t person, uint32_t inst, int32_t day, uint32_t drug, int n)
{
    ms_settlement_t *s = ms_testdata_visit(&w->t, person, inst, day);
    uint64_t sid = s->settle_id;
    for (int i = 0; i < n; i++) ms_testdata_item(&w->t, s, drug, 1234567890, w->serial++);
    w->lines[inst] += n;
    return sid;
}

static void build(world_t *w)
{
    memset(w, 0, sizeof *w);
    ms_testdata_init(&w->t, N_INST, 1);
    w->next_person = 1000;
    w->serial = 1;
    int32_t d = ms_testdata_day("2025-03-03");
    uint64_t sid;

    /* Code 1: sold twice, first at H_A (partition 0), again at H_B (1). */
    w->d = d;
    sid = sale(w, person_in(w, 0), H_A, d, DRUG_TRACE, 111, 1);
    expect(w, H_A, "first_sale_of_repeated_code", sid);
    w->code1_first = sid;
    sid = sale(w, person_in(w, 1), H_B, d + 10, DRUG_TRACE, 111, 1);
    expect(w, H_B, "repeated_trace_code", sid);
    w->code1_repeat = sid;
    /* Code 2: three times: H_A first, then H_B and H_C (same day, H_B's
     * settlement first). */
    sid = sale(w, person_in(w, 1), H_A, d + 1, DRUG_TRACE, 222, 2);
    expect(w, H_A, "first_sale_of_repeated_code", sid);
    w->code2_first = sid;
    sid = sale(w, person_in(w, 0), H_B, d + 5, DRUG_TRACE, 222, 2);
    expect(w, H_B, "repeated_trace_code", sid);
    sid = sale(w, person_in(w, 1), H_C, d + 5, DRUG_TRACE, 222, 2);
    expect(w, H_C, "repeated_trace_code", sid);
    w->code2_at_c = sid;
    /* Code 3: the later sale (H_D, day d+20) has the smaller settle_id:
     * the first is H_C's on day d. */
    sid = sale(w, person_in(w, 0), H_D, d + 20, DRUG_TRACE, 333, 3);
    expect(w, H_D, "repeated_trace_code", sid);
    sid = sale(w, person_in(w, 1), H_C, d, DRUG_TRACE, 333, 3);
    expect(w, H_C, "first_sale_of_repeated_code", sid);
    /* Code 4: once.  Codes 5 and 6 differ from code 1 in one half only. */
    sale(w, person_in(w, 0), H_D, d, DRUG_TRACE, 444, 4);
    sale(w, person_in(w, 1), H_D, d + 3, DRUG_TRACE, 111, 2);
    sale(w, person_in(w, 0), H_D, d + 4, DRUG_TRACE, 112, 1);

    /* Hoarding: 300 ordinary buyers of 2 packages at H_N. */
    for (int i = 0; i < 300; i++) buy(w, person_in(w, (uint32_t)i & 1), H_N, d + i % 50, DRUG_HOARD, 2);
    /* 3 + 2 + 2 = 7 within [d, d+29] at three institutions: a hoarder,
     * with a long history: 40 lines of three other drugs around those
     * days (47 lines in all, so the person's lines are merge-sorted by
     * drug and date, not insertion-sorted; they are the only buyer of
     * those drugs, whose limits are then their own). */
    uint64_t p = person_in(w, 0);
    for (int i = 0; i < 40; i++) buy(w, p, H_D, d - 20 + i, DRUG_BULK + (uint32_t)(i * 7 % 3), 1);
    w->hoard_p1 = buy(w, p, H_P1, d, DRUG_HOARD, 3);
    expect(w, H_P1, "hoarding_buyer_share", w->hoard_p1);
    expect(w, H_P2, "hoarding_buyer_share", buy(w, p, H_P2, d + 10, DRUG_HOARD, 2));
    expect(w, H_P3, "hoarding_buyer_share", buy(w, p, H_P3, d + 29, DRUG_HOARD, 2));
    /* The same with the last purchase on d+30: 5 at most in 30 days. */
    p = person_in(w, 1);
    buy(w, p, H_P1, d, DRUG_HOARD, 3);
    buy(w, p, H_P2, d + 10, DRUG_HOARD, 2);
    buy(w, p, H_P4, d + 30, DRUG_HOARD, 2);
    /* 7 in two days, at two institutions only. */
    p = person_in(w, 0);
    buy(w, p, H_P1, d, DRUG_HOARD, 4);
    buy(w, p, H_P2, d + 1, DRUG_HOARD, 3);
}

static void check(const ms_testsweep_t *f, const world_t *w, uint32_t inst, const char *ind, long long want_num,
                  long long want_den)
{
    ms_testsweep_expect(f, w->t.refs.inst[inst].inst_code, ind, want_num, want_den);
}

/* A fresh directory and the hand-built world. */
static world_t *start(ms_testsweep_t *f, const char *name)
{
    ms_testsweep_init(f, name, "drugs");
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    build(w);
    return w;
}

static void finish(ms_testsweep_t *f, world_t *w)
{
    ms_testclues_free(&w->flags);
    ms_testdata_free(&w->t);
    free(w);
    ms_testsweep_done(f);
}

/* The row of clues.csv for (indicator, settle_id); fails the test if none. */
static size_t clue_row(const ms_testcsv_t *clues, const char *indicator, uint64_t sid)
{
    for (size_t r = 0; r < ms_testcsv_rows(clues); r++)
        if (ms_testcsv_is(clues, r, "indicator", indicator) && ms_testcsv_u64(clues, r, "settle_id") == sid) return r;
    fail_msg("no %s clue for settlement %llu", indicator, (unsigned long long)sid);
    return 0;
}

/* Both halves of a repeated code, the code and the drug; a hoarder's drug,
 * window quantity and institutions; a drug line's amount is not a fund
 * payment. */
static void check_evidence(const world_t *w, const char *out)
{
    const ms_refs_t *refs = &w->t.refs;
    char day[11];
    ms_testcsv_t *clues = ms_testcsv_read(out, "clues.csv");
    size_t r = clue_row(clues, "repeated_trace_code", w->code1_repeat);
    assert_string_equal(ms_testcsv_get(clues, r, "trace_code"), "0000000111-0000000001");
    assert_string_equal(ms_testcsv_get(clues, r, "drug_code"), refs->drugs.str[DRUG_TRACE]);
    assert_string_equal(ms_testcsv_get(clues, r, "record"), "drug line");
    assert_string_equal(ms_testcsv_get(clues, r, "date_is"), "sale");
    assert_string_equal(ms_testcsv_get(clues, r, "fund_pay_yuan"), "");
    assert_true(*ms_testcsv_get(clues, r, "line_amount_yuan"));
    assert_int_equal(ms_testcsv_u64(clues, r, "other_settle_id"), w->code1_first);
    assert_string_equal(ms_testcsv_get(clues, r, "other_inst_code"), refs->inst[H_A].inst_code);
    ms_date_format(w->d, day);
    assert_string_equal(ms_testcsv_get(clues, r, "other_date"), day);
    assert_true(*ms_testcsv_get(clues, r, "other_line_amount_yuan"));
    r = clue_row(clues, "first_sale_of_repeated_code", w->code1_first);
    assert_int_equal(ms_testcsv_u64(clues, r, "other_settle_id"), w->code1_repeat);
    assert_string_equal(ms_testcsv_get(clues, r, "other_inst_code"), refs->inst[H_B].inst_code);
    /* A third sale's other half is the first sale, not the second. */
    r = clue_row(clues, "repeated_trace_code", w->code2_at_c);
    assert_int_equal(ms_testcsv_u64(clues, r, "other_settle_id"), w->code2_first);
    assert_string_equal(ms_testcsv_get(clues, r, "trace_code"), "0000000222-0000000002");
    r = clue_row(clues, "hoarding_buyer_share", w->hoard_p1);
    assert_string_equal(ms_testcsv_get(clues, r, "drug_code"), refs->drugs.str[DRUG_HOARD]);
    assert_string_equal(ms_testcsv_get(clues, r, "buyer_max_quantity_in_window"), "7");
    assert_string_equal(ms_testcsv_get(clues, r, "buyer_institutions"), "3");
    ms_testcsv_free(clues);
}

static void test_repeats_and_hoarders(void **state)
{
    (void)state;
    ms_testsweep_t f;
    world_t *w = start(&f, "model-drugs");
    ms_testsweep_data(&f, &w->t);
    ms_testsweep_rules(&f, "scoring = { min_denominator = 1; all_clues = 1; };\n");
    ms_testsweep_run(&f, f.out, "--threads 1");

    check(&f, w, H_A, "repeated_trace_code", 0, w->lines[H_A]);
    check(&f, w, H_A, "first_sale_of_repeated_code", 2, w->lines[H_A]);
    check(&f, w, H_B, "repeated_trace_code", 2, w->lines[H_B]);
    check(&f, w, H_C, "repeated_trace_code", 1, w->lines[H_C]);
    check(&f, w, H_C, "first_sale_of_repeated_code", 1, w->lines[H_C]);
    check(&f, w, H_D, "repeated_trace_code", 1, w->lines[H_D]);
    check(&f, w, H_D, "first_sale_of_repeated_code", 0, w->lines[H_D]);
    check(&f, w, H_P1, "hoarding_buyer_share", 3, w->lines[H_P1]);
    check(&f, w, H_P2, "hoarding_buyer_share", 2, w->lines[H_P2]);
    check(&f, w, H_P3, "hoarding_buyer_share", 2, w->lines[H_P3]);
    check(&f, w, H_P4, "hoarding_buyer_share", 0, w->lines[H_P4]);
    check(&f, w, H_N, "hoarding_buyer_share", 0, 600);
    check(&f, w, H_N, "repeated_trace_code", 0, 600);
    assert_int_equal(w->lines[H_P1], 10);

    ms_testsweep_clues_are(&f, &w->flags, 0);
    check_evidence(w, f.out);

    /* The same bytes with 3 threads. */
    ms_testsweep_same_run(&f, "--threads 3");

    /* A 31-day window: days d and d+30 are in one, so the second buyer
     * hoards too (3 + 2 + 2 at H_P1, H_P2, H_P4). */
    ms_testsweep_rules(&f, "scoring = { min_denominator = 1; all_clues = 1; };\n"
                           "models = { drugs = { hoarding_buyer_share = { window_days = 31; }; }; };\n");
    ms_testsweep_run(&f, f.out, NULL);
    check(&f, w, H_P1, "hoarding_buyer_share", 6, w->lines[H_P1]);
    check(&f, w, H_P2, "hoarding_buyer_share", 4, w->lines[H_P2]);
    check(&f, w, H_P4, "hoarding_buyer_share", 2, w->lines[H_P4]);
    /* Two institutions are enough with min_institutions = 2. */
    ms_testsweep_rules(&f, "scoring = { min_denominator = 1; all_clues = 1; };\n"
                           "models = { drugs = { hoarding_buyer_share = { min_institutions = 2; }; }; };\n");
    ms_testsweep_run(&f, f.out, NULL);
    check(&f, w, H_P1, "hoarding_buyer_share", 7, w->lines[H_P1]);
    check(&f, w, H_P2, "hoarding_buyer_share", 5, w->lines[H_P2]);

    finish(&f, w);
}

static void test_spill_same_answer(void **state)
{
    (void)state;
    ms_testsweep_t f;
    world_t *w = start(&f, "model-drugs-spill");
    /* 300,000 more lines (about 24 MB of shuffle records, over the 16 MiB
     * the smallest cap leaves the shuffle): 50,000 persons, 6 packages
     * each at one institution; after every 97th person, the next one buys
     * that person's last package again. */
    int32_t d = ms_testdata_day("2025-01-06");
    uint64_t prev_lo = 0;
    for (int i = 0; i < 50000; i++) {
        ms_settlement_t *s = ms_testdata_visit(&w->t, w->next_person++, (uint32_t)(i % N_INST), d + i % 300);
        for (int k = 0; k < 6; k++) {
            uint64_t lo = k == 0 && prev_lo ? prev_lo : w->serial++;
            ms_testdata_item(&w->t, s, DRUG_BULK + (uint32_t)k % 3, 987654321, lo);
        }
        prev_lo = i % 97 == 0 ? w->serial - 1 : 0;
    }
    ms_testsweep_data(&f, &w->t);
    ms_testsweep_rules(&f, "scoring = { min_denominator = 1; all_clues = 1; };\n");
    ms_testsweep_run(&f, f.out, "--threads 1");
    long mib = ms_testsweep_min_cap_mib(f.data, f.out2, "drugs", 1);
    char args[100];
    /* Every record held (no key count), so that the trace codes spill;
     * the first run counted keys: the same bytes either way. */
    snprintf(args, sizeof args, "--threads 1 --memory-cap %ldM --no-key-count", mib);
    ms_testsweep_same_run(&f, args);
    /* Every repeat is there: the hand-built four, and one per i % 97 == 0
     * below 49999 (person i + 1 sells person i's last package again). */
    ms_testcsv_t *clues = ms_testcsv_read(f.out, "clues.csv");
    size_t n = ms_testsweep_clue_count(clues, NULL, "drugs", "repeated_trace_code", MS_TEST_ANY_ID);
    assert_int_equal(n, 4 + 516); /* i = 0, 97, ..., 49955 */
    ms_testcsv_free(clues);
    finish(&f, w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repeats_and_hoarders),
        cmocka_unit_test(test_spill_same_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
