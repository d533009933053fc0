/*
 * test_model_cost_shift.c - cost shifting on hand-built cases.
 *
 * test_cases: every case is one person with one DRG/DIP stay at H0001
 * (admitted on day A), light in exams and labs for its group (10% of its
 * total against 40% for the plain stays of H0003 that set the group's
 * median), and the outpatient visits around it: 3 days before and mostly
 * exams (flagged), 4 days before (flagged only with window = 4), on the
 * admission day, at another institution, or with exams and labs just under
 * half the total (not flagged), exactly half (flagged), two qualifying
 * visits (the larger is the clue), one visit before two stays (two stays
 * flagged, one clue), a fee-for-service stay (not counted).  Self-pay at
 * exactly 35% of the total is flagged, one fen less is not; a stay of total
 * 0 has no self-pay share.
 *
 * test_light_for_group: a preceded stay counts only when its exams and labs
 * are below light_share x its group's median share: normal for its group
 * (not counted), exactly half the median (not), one ppm below (counted), a
 * stay lighter than another group's norm but normal for its own (not), a
 * group of one stay (never light), total 0 (never light); light_share's
 * bounds in the rule file.
 *
 * test_spill_same_answer: 400,000 grouped stays of scattered shares, a
 * third of them preceded, through the smallest --memory-cap (the shuffle
 * spills, the big group is reduced from merged pieces): the same bytes, and
 * the numerators the test computes itself.
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

#define G_NONE 2 /* F015: severity 0, mean cost 10,000 yuan */

static ms_settlement_t *visit(ms_testdata_t *t, uint64_t person, uint32_t inst, int32_t day, int64_t drug,
                              int64_t exam, int64_t lab)
{
    ms_settlement_t *s = ms_testdata_visit(t, person, inst, day);
    ms_testdata_cost(s, drug, 0, 0.5);
    s->exam = exam;
    s->lab = lab;
    s->total = drug + exam + lab;
    s->fund_pay = s->total / 2;
    s->self_pay = s->total - s->fund_pay;
    return s;
}

static void self_pay(ms_settlement_t *s, int64_t self)
{
    s->self_pay = self;
    s->fund_pay = s->total - self;
}

/* A plain stay (exam 20%, lab 20%) made light: exam 5%, lab 5%, the rest
 * moved to drugs; total and payments kept. */
static ms_settlement_t *light_stay(ms_testdata_t *t, uint64_t person, uint32_t inst, int32_t admit,
                                   int32_t discharge, int32_t group)
{
    ms_settlement_t *s = ms_testdata_stay(t, person, inst, admit, discharge, group);
    int64_t el = s->exam + s->lab;
    s->exam = s->total / 20;
    s->lab = s->total / 20;
    s->drug += el - s->exam - s->lab;
    return s;
}

typedef struct {
    uint64_t p1, p2, p6, p7_small, p7_large, p10, p1_stay, p3_stay;
} ids_t;

static void build_world(ms_testdata_t *t, ids_t *id)
{
    int32_t A = ms_testdata_day("2025-05-10");
    ms_testdata_init(t, 3, 1);
    /* p1: all exams 3 days before; self-pay exactly 35%. */
    id->p1 = visit(t, 1, 0, A - 3, 0, 10000, 0)->settle_id;
    ms_settlement_t *s = light_stay(t, 1, 0, A, A + 5, G_NONE);
    self_pay(s, 350000);
    id->p1_stay = s->settle_id;
    /* p2: 4 days before; self-pay one fen under 35%. */
    id->p2 = visit(t, 2, 0, A - 4, 0, 10000, 0)->settle_id;
    self_pay(light_stay(t, 2, 0, A, A + 5, G_NONE), 349999);
    /* p3: on the admission day; self-pay 40%. */
    visit(t, 3, 0, A, 0, 0, 10000);
    s = light_stay(t, 3, 0, A, A + 5, G_NONE);
    self_pay(s, 400000);
    id->p3_stay = s->settle_id;
    /* p4: at another institution. */
    visit(t, 4, 1, A - 3, 0, 10000, 0);
    light_stay(t, 4, 0, A, A + 5, G_NONE);
    /* p5: exams and labs 4999 of 10000. */
    visit(t, 5, 0, A - 2, 5001, 2500, 2499);
    light_stay(t, 5, 0, A, A + 5, G_NONE);
    /* p6: exactly half. */
    id->p6 = visit(t, 6, 0, A - 1, 5000, 2500, 2500)->settle_id;
    light_stay(t, 6, 0, A, A + 5, G_NONE);
    /* p7: two qualifying visits before a DIP stay. */
    id->p7_small = visit(t, 7, 0, A - 2, 4000, 6000, 0)->settle_id;
    id->p7_large = visit(t, 7, 0, A - 1, 2000, 8000, 0)->settle_id;
    light_stay(t, 7, 0, A, A + 5, G_NONE)->pay_scheme = MS_PAY_DIP;
    /* p8: a fee-for-service stay. */
    visit(t, 8, 0, A - 1, 0, 10000, 0);
    ms_testdata_stay(t, 8, 0, A, A + 5, -1);
    /* p9: a grouped stay with nothing to pay. */
    ms_testdata_cost(ms_testdata_stay(t, 9, 0, A, A + 5, G_NONE), 0, 0, 0.5);
    /* p10: one visit, then two short stays within the window. */
    id->p10 = visit(t, 10, 0, A - 1, 0, 10000, 0)->settle_id;
    light_stay(t, 10, 0, A, A, G_NONE);
    light_stay(t, 10, 0, A + 1, A + 1, G_NONE);
    /* The group's norm: 12 plain stays at H0003 (exams and labs 40%), more
     * than H0001's 9 light ones (10%), so the median is 40% and 10% is
     * below half of it. */
    for (uint64_t p = 201; p <= 212; p++) ms_testdata_stay(t, p, 2, A + 20, A + 25, G_NONE);
}

/* The settle_ids of the clues of (H0001, cost_shift, indicator) in OUT/clues.csv, in file order. */
static size_t clue_ids(const char *out, const char *ind, uint64_t *ids, size_t max)
{
    ms_testcsv_t *clues = ms_testcsv_read(out, "clues.csv");
    size_t n = ms_testsweep_clue_ids(clues, "H0001", "cost_shift", ind, ids, max);
    ms_testcsv_free(clues);
    return n;
}

static void test_cases(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "model-cost-shift", "cost_shift");
    ms_testdata_t t;
    ids_t id;
    build_world(&t, &id);
    ms_testsweep_data(&f, &t);
    /* Clues are written only for indicators big enough to report: report all. */
    ms_testsweep_rules(&f, "scoring = { min_denominator = 1; all_clues = 1; };\n");
    ms_testsweep_run(&f, f.out, NULL);

    /* Grouped stays: p1-p7, p9 and p10's two; flagged: p1, p6, p7, p10 twice
     * (all light for the group; H0003's plain stays are not preceded). */
    ms_testsweep_expect(&f, "H0001", "preadmission_costs", 5, 10);
    /* Self-pay: p9 (total 0) left out; flagged: p1 (35%), p3 (40%). */
    ms_testsweep_expect(&f, "H0001", "self_pay_share", 2, 9);
    long long num, den;
    assert_int_equal(ms_testdata_indicator(f.out, "H0002", "cost_shift", "preadmission_costs", &num, &den), -1);
    ms_testsweep_expect(&f, "H0003", "preadmission_costs", 0, 12);

    uint64_t ids[16];
    size_t n = clue_ids(f.out, "preadmission_costs", ids, 16);
    assert_int_equal(n, 4); /* p10's visit once */
    uint64_t want[4] = {id.p1, id.p6, id.p7_large, id.p10};
    for (size_t i = 0; i < 4; i++) assert_int_equal(ids[i], want[i]); /* ascending already */
    n = clue_ids(f.out, "self_pay_share", ids, 16);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], id.p1_stay);
    assert_int_equal(ids[1], id.p3_stay);

    /* window = 4 reaches p2's visit; high_share = 0.4 drops p1's 35%. */
    ms_testsweep_rules(&f, "scoring = { min_denominator = 1; all_clues = 1; };\n"
                           "models = { cost_shift = { preadmission_costs = { window = 4; };\n"
                           "  self_pay_share = { high_share = 0.4; }; }; };\n");
    ms_testsweep_run(&f, f.out, NULL);
    ms_testsweep_expect(&f, "H0001", "preadmission_costs", 6, 10);
    ms_testsweep_expect(&f, "H0001", "self_pay_share", 1, 9);
    n = clue_ids(f.out, "preadmission_costs", ids, 16);
    assert_int_equal(n, 5);
    assert_int_equal(ids[1], id.p2);

    /* A stricter exam share: p6's exact half no longer counts. */
    ms_testsweep_rules(&f, "scoring = { min_denominator = 1; all_clues = 1; };\n"
                           "models = { cost_shift = { preadmission_costs = { exam_lab_share = 0.51; }; }; };\n");
    ms_testsweep_run(&f, f.out, NULL);
    ms_testsweep_expect(&f, "H0001", "preadmission_costs", 4, 10);

    /* One thread or three: the same bytes. */
    ms_testsweep_rules(&f, "scoring = { min_denominator = 1; all_clues = 1; };\n");
    ms_testsweep_run(&f, f.out, "--threads 1");
    ms_testsweep_same_run(&f, "--threads 3");
    ms_testdata_free(&t);
    ms_testsweep_done(&f);
}

/* A grouped stay of total 10,000 yuan whose exams and labs are el fen (el
 * ppm of the total), split between exam and lab. */
static ms_settlement_t *stay_el(ms_testdata_t *t, uint64_t person, uint32_t inst, int32_t admit, int32_t group,
                                int64_t el)
{
    ms_settlement_t *s = ms_testdata_stay(t, person, inst, admit, admit + 3, group);
    s->total = 1000000;
    s->exam = el / 2;
    s->lab = el - s->exam;
    s->drug = s->total - el;
    s->consumable = s->treatment = s->surgery = s->bed = s->nursing = s->other = 0;
    s->fund_pay = s->total * 7 / 10;
    s->self_pay = s->total - s->fund_pay;
    return s;
}

enum { GA = 2, GS0 = 3, GS1 = 4, GC = 5 }; /* groups of two families */

static void test_light_for_group(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "model-cost-shift-light", "cost_shift");
    ms_testdata_t t;
    ms_testdata_init(&t, 3, 2);
    int32_t A = ms_testdata_day("2025-06-02");
    /* Norms set at H0003: group GA 40% exams and labs (20 stays), GC 10%
     * (10 stays).  With H0001's stays below: GA's 25 shares have median
     * (rank 13) 400000 ppm, GC's 12 have (rank 6) 100000 ppm. */
    for (uint64_t p = 100; p < 120; p++) stay_el(&t, p, 2, A, GA, 400000);
    for (uint64_t p = 120; p < 130; p++) stay_el(&t, p, 2, A, GC, 100000);
    uint64_t v[11];
    /* q1: preceded, normal for GA: an honest work-up. */
    v[1] = visit(&t, 1, 0, A - 2, 0, 10000, 0)->settle_id;
    stay_el(&t, 1, 0, A, GA, 400000);
    /* q2: preceded, exactly light_share x median (200000 ppm): not light. */
    v[2] = visit(&t, 2, 0, A - 2, 0, 10000, 0)->settle_id;
    stay_el(&t, 2, 0, A, GA, 200000);
    /* q3: preceded, one ppm below: counted. */
    v[3] = visit(&t, 3, 0, A - 2, 0, 6000, 4000)->settle_id;
    stay_el(&t, 3, 0, A, GA, 199999);
    /* q4: light but not preceded. */
    stay_el(&t, 4, 0, A, GA, 100000);
    /* q5: preceded, no exams or labs at all: counted. */
    v[5] = visit(&t, 5, 0, A - 1, 0, 0, 10000)->settle_id;
    stay_el(&t, 5, 0, A, GA, 0);
    /* q6: preceded, 15%: light for GA's norm but normal for its group GC. */
    v[6] = visit(&t, 6, 0, A - 1, 0, 10000, 0)->settle_id;
    stay_el(&t, 6, 0, A, GC, 150000);
    /* q7: preceded, under half of GC's 10%: counted. */
    v[7] = visit(&t, 7, 0, A - 3, 0, 10000, 0)->settle_id;
    stay_el(&t, 7, 0, A, GC, 49999);
    /* q8, q9: preceded, each alone in its group: its own median, never light. */
    v[8] = visit(&t, 8, 0, A - 1, 0, 10000, 0)->settle_id;
    stay_el(&t, 8, 0, A, GS1, 100000);
    v[9] = visit(&t, 9, 0, A - 1, 0, 10000, 0)->settle_id;
    stay_el(&t, 9, 0, A, GS0, 0);
    /* q10: preceded, total 0: no share, never light, outside GA's median. */
    v[10] = visit(&t, 10, 0, A - 1, 0, 10000, 0)->settle_id;
    ms_testdata_cost(ms_testdata_stay(&t, 10, 0, A, A + 3, GA), 0, 0, 0.5);
    ms_testsweep_data(&f, &t);

    ms_testsweep_rules(&f, "scoring = { min_denominator = 1; all_clues = 1; };\n");
    ms_testsweep_run(&f, f.out, NULL);
    ms_testsweep_expect(&f, "H0001", "preadmission_costs", 3, 10);
    ms_testsweep_expect(&f, "H0003", "preadmission_costs", 0, 30);
    ms_testclues_t want = {0};
    ms_testclues_add(&want, "H0001", "preadmission_costs", v[3]);
    ms_testclues_add(&want, "H0001", "preadmission_costs", v[5]);
    ms_testclues_add(&want, "H0001", "preadmission_costs", v[7]);
    ms_testsweep_clues_are(&f, &want, 1); /* and no other clue of cost_shift */
    ms_testclues_free(&want);
    uint64_t ids[16];
    size_t n = clue_ids(f.out, "preadmission_costs", ids, 16);
    assert_int_equal(n, 3);
    /* One thread or three: the same bytes. */
    ms_testsweep_run(&f, f.out, "--threads 1");
    ms_testsweep_same_run(&f, "--threads 3");

    /* light_share = 1: below the median itself: q2, q3, q5 in GA, q7 in GC;
     * q1 at the median is not below it, the groups of one never are. */
    ms_testsweep_rules(&f, "scoring = { min_denominator = 1; all_clues = 1; };\n"
                           "models = { cost_shift = { preadmission_costs = { light_share = 1; }; }; };\n");
    ms_testsweep_run(&f, f.out, NULL);
    ms_testsweep_expect(&f, "H0001", "preadmission_costs", 4, 10);
    n = clue_ids(f.out, "preadmission_costs", ids, 16);
    assert_int_equal(n, 4);
    assert_int_equal(ids[1], v[3]);
    /* light_share = 0.05: under 20000 ppm in GA (q5), 5000 in GC (none). */
    ms_testsweep_rules(&f, "scoring = { min_denominator = 1; all_clues = 1; };\n"
                           "models = { cost_shift = { preadmission_costs = { light_share = 0.05; }; }; };\n");
    ms_testsweep_run(&f, f.out, NULL);
    ms_testsweep_expect(&f, "H0001", "preadmission_costs", 1, 10);

    static const ms_testsweep_bad_t cases[] = {
        {"models = { cost_shift = { preadmission_costs = { light_share = 0.04; }; }; };",
         "'models.cost_shift.preadmission_costs.light_share' = 0.04 is out of range (allowed 0.05..1)"},
        {"models = { cost_shift = { preadmission_costs = { light_share = 1.01; }; }; };",
         "'models.cost_shift.preadmission_costs.light_share' = 1.01 is out of range (allowed 0.05..1)"},
    };
    ms_testsweep_refused(&f, cases, sizeof cases / sizeof *cases);
    ms_testsweep_defaults("light_share = 0.5;", NULL);
    ms_testdata_free(&t);
    ms_testsweep_done(&f);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

#define BIG 400000 /* stays: 400,000 x 56-byte shuffle records, over the 16-17 MiB of the smallest cap */

static void test_spill_same_answer(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "model-cost-shift-spill", "cost_shift");
    ms_testdata_t t;
    ms_testdata_init(&t, 3, 2);
    int32_t A = ms_testdata_day("2024-01-01");
    /* Four stays a person, 10 days apart; shares scattered over 0..600000
     * ppm; every third stay preceded the day before; 4 in 5 in group GA
     * (one key of 320,000 values), the rest in GC. */
    int64_t *share[2], n_g[2] = {0, 0};
    share[0] = malloc(BIG * sizeof *share[0]);
    share[1] = malloc(BIG * sizeof *share[1]);
    assert_non_null(share[0]);
    assert_non_null(share[1]);
    for (int64_t i = 0; i < BIG; i++) {
        int g = i % 5 == 4;
        int64_t el = (i * 7919) % 600001;
        share[g][n_g[g]++] = el;
    }
    int64_t median[2];
    for (int g = 0; g < 2; g++) {
        int64_t *sorted = malloc((size_t)n_g[g] * sizeof *sorted);
        assert_non_null(sorted);
        memcpy(sorted, share[g], (size_t)n_g[g] * sizeof *sorted);
        qsort(sorted, (size_t)n_g[g], sizeof *sorted, cmp_i64);
        median[g] = sorted[(n_g[g] + 1) / 2 - 1];
        free(sorted);
    }
    long long want_num[3] = {0, 0, 0}, want_den[3] = {0, 0, 0};
    for (int64_t i = 0; i < BIG; i++) {
        uint64_t person = 1000 + (uint64_t)(i / 4);
        int32_t admit = A + (int32_t)(i % 4) * 10;
        uint32_t inst = (uint32_t)(person % 3);
        int g = i % 5 == 4;
        int64_t el = (i * 7919) % 600001;
        int preceded = i % 3 == 0;
        if (preceded) visit(&t, person, inst, admit - 1, 0, 10000, 0);
        stay_el(&t, person, inst, admit, g ? GC : GA, el);
        want_den[inst]++;
        if (preceded && el * 1000000 < 500000 * median[g]) want_num[inst]++;
    }
    free(share[0]), free(share[1]);
    ms_testsweep_data(&f, &t);
    ms_testsweep_rules(&f, "scoring = { min_denominator = 1; all_clues = 1; };\n");
    ms_testsweep_run(&f, f.out, "--threads 1");
    static const char *codes[3] = {"H0001", "H0002", "H0003"};
    long long clues_want = 0;
    for (int k = 0; k < 3; k++) {
        assert_true(want_num[k] > 1000);
        ms_testsweep_expect(&f, codes[k], "preadmission_costs", want_num[k], want_den[k]);
        clues_want += want_num[k];
    }
    ms_testcsv_t *clues = ms_testcsv_read(f.out, "clues.csv");
    assert_int_equal(ms_testsweep_clue_count(clues, NULL, "cost_shift", "preadmission_costs", MS_TEST_ANY_ID),
                     clues_want); /* one visit a counted stay */
    ms_testcsv_free(clues);
    char args[100];
    for (int threads = 1; threads <= 2; threads++) {
        long mib = ms_testsweep_min_cap_mib(f.data, f.out2, "cost_shift", threads);
        snprintf(args, sizeof args, "--threads %d --memory-cap %ldM", threads, mib);
        ms_testsweep_same_run(&f, args);
    }
    ms_testdata_free(&t);
    ms_testsweep_done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_light_for_group),
        cmocka_unit_test(test_spill_same_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
