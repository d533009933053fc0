/*
 * test_model_cost_shift.c - cost shifting on hand-built cases.
 *
 * Every case is one person with one DRG/DIP stay at H0001 (admitted on day
 * A) and the outpatient visits around it: 3 days before and mostly exams
 * (flagged), 4 days before (flagged only with window = 4), on the admission
 * day, at another institution, or with exams and labs just under half the
 * total (not flagged), exactly half (flagged), two qualifying visits (the
 * larger is the clue), one visit before two stays (two stays flagged, one
 * clue), a fee-for-service stay (not counted).  Self-pay at exactly 35% of
 * the total is flagged, one fen less is not; a stay of total 0 has no
 * self-pay share.
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

typedef struct {
    uint64_t p1, p2, p6, p7_small, p7_large, p10, p1_stay, p3_stay;
} ids_t;

static void build_world(ms_testdata_t *t, ids_t *id)
{
    int32_t A = ms_testdata_day("2025-05-10");
    ms_testdata_init(t, 2, 1);
    /* p1: all exams 3 days before; self-pay exactly 35%. */
    id->p1 = visit(t, 1, 0, A - 3, 0, 10000, 0)->settle_id;
    ms_settlement_t *s = ms_testdata_stay(t, 1, 0, A, A + 5, G_NONE);
    self_pay(s, 350000);
    id->p1_stay = s->settle_id;
    /* p2: 4 days before; self-pay one fen under 35%. */
    id->p2 = visit(t, 2, 0, A - 4, 0, 10000, 0)->settle_id;
    self_pay(ms_testdata_stay(t, 2, 0, A, A + 5, G_NONE), 349999);
    /* p3: on the admission day; self-pay 40%. */
    visit(t, 3, 0, A, 0, 0, 10000);
    s = ms_testdata_stay(t, 3, 0, A, A + 5, G_NONE);
    self_pay(s, 400000);
    id->p3_stay = s->settle_id;
    /* p4: at another institution. */
    visit(t, 4, 1, A - 3, 0, 10000, 0);
    ms_testdata_stay(t, 4, 0, A, A + 5, G_NONE);
    /* p5: exams and labs 4999 of 10000. */
    visit(t, 5, 0, A - 2, 5001, 2500, 2499);
    ms_testdata_stay(t, 5, 0, A, A + 5, G_NONE);
    /* p6: exactly half. */
    id->p6 = visit(t, 6, 0, A - 1, 5000, 2500, 2500)->settle_id;
    ms_testdata_stay(t, 6, 0, A, A + 5, G_NONE);
    /* p7: two qualifying visits before a DIP stay. */
    id->p7_small = visit(t, 7, 0, A - 2, 4000, 6000, 0)->settle_id;
    id->p7_large = visit(t, 7, 0, A - 1, 2000, 8000, 0)->settle_id;
    ms_testdata_stay(t, 7, 0, A, A + 5, G_NONE)->pay_scheme = MS_PAY_DIP;
    /* p8: a fee-for-service stay. */
    visit(t, 8, 0, A - 1, 0, 10000, 0);
    ms_testdata_stay(t, 8, 0, A, A + 5, -1);
    /* p9: a grouped stay with nothing to pay. */
    ms_testdata_cost(ms_testdata_stay(t, 9, 0, A, A + 5, G_NONE), 0, 0, 0.5);
    /* p10: one visit, then two short stays within the window. */
    id->p10 = visit(t, 10, 0, A - 1, 0, 10000, 0)->settle_id;
    ms_testdata_stay(t, 10, 0, A, A, G_NONE);
    ms_testdata_stay(t, 10, 0, A + 1, A + 1, G_NONE);
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

    /* Grouped stays: p1-p7, p9 and p10's two; flagged: p1, p6, p7, p10 twice. */
    ms_testsweep_expect(&f, "H0001", "preadmission_costs", 5, 10);
    /* Self-pay: p9 (total 0) left out; flagged: p1 (35%), p3 (40%). */
    ms_testsweep_expect(&f, "H0001", "self_pay_share", 2, 9);
    long long num, den;
    assert_int_equal(ms_testdata_indicator(f.out, "H0002", "cost_shift", "preadmission_costs", &num, &den), -1);

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
