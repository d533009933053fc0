/*
 * test_model_upcoding.c - DRG/DIP upcoding on hand-built cases.
 *
 * Four institutions of one peer group (ms_testdata's institutions share kind,
 * level and region) and three families: F01 and F02 with the usual three
 * severities, F03 with one variant (not counted in the severity share).
 * H0001 codes most of its F01 stays as MCC, H0002 and H0003 mostly severity
 * 0, H0004 has only a fee-for-service stay (not grouped).  The sweep checks
 * every numerator and denominator in indicators.csv, the clues, and a rule
 * change through --config; the library check runs the model's callbacks
 * directly to see the expected count (not in indicators.csv) for one and two
 * peer groups, and that save/load/merge and the sparse (institution, family)
 * table give the same result as one dense state.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ms_model.h"
#include "ms_testdata.h"
#include "ms_testsweep.h"
#include "ms_testutil.h"

/* Group ids: family f has MCC 3f, CC 3f+1, none 3f+2; F039 (one variant) is 6. */
enum { G1_MCC = 0, G1_CC = 1, G1_NONE = 2, G2_MCC = 3, G2_CC = 4, G2_NONE = 5, G3 = 6 };

static int32_t A; /* admission day of every stay */
static uint64_t next_person;

static ms_settlement_t *stay(ms_testdata_t *t, uint32_t inst, int32_t g, int los, int ndiag)
{
    ms_settlement_t *s = ms_testdata_stay(t, ++next_person, inst, A, A + los, g);
    s->n_diag = (uint8_t)ndiag;
    return s;
}

static void build_world(ms_testdata_t *t, uint64_t *short_ids)
{
    A = ms_testdata_day("2025-03-01");
    next_person = 1000;
    ms_testdata_init(t, 4, 2);
    ms_refs_t *r = &t->refs;
    /* A one-variant family F03 (weight 1.2346: 1234.6 thousandths, rounded to 1235). */
    r->groups = realloc(r->groups, (r->n_groups + 1) * sizeof *r->groups);
    ms_group_t *g3 = &r->groups[r->n_groups++];
    memset(g3, 0, sizeof *g3);
    g3->group_code = strdup("F039");
    g3->family = strdup("F03");
    g3->severity = 0;
    g3->weight = 1.2346f;
    g3->mdc = 'E';
    g3->expected_los = 5.0f;
    g3->mean_cost = 1234600;
    r->groups[G1_CC].expected_los = 8.0f; /* half is 4 days exactly */

    /* H0001: F01 12 MCC, 4 CC, 4 none; F03 5 stays. */
    for (int i = 0; i < 12; i++) {
        ms_settlement_t *s = stay(t, 0, G1_MCC, i == 0 ? 5 : i == 1 ? 6 : 10, 8);
        if (i == 0) short_ids[0] = s->settle_id; /* 5 < 0.5 x 10.2 */
    }
    static const int cc_los[4] = {4, 4, 3, 10};
    for (int i = 0; i < 4; i++) {
        ms_settlement_t *s = stay(t, 0, G1_CC, cc_los[i], 3);
        if (cc_los[i] == 3) short_ids[1] = s->settle_id; /* 3 < 0.5 x 8; 4 is not */
    }
    /* Severity 0: two cheap (one fen under half the mean), two at exactly half. */
    static const int64_t none_total[4] = {499999, 499999, 500000, 500000};
    for (int i = 0; i < 4; i++) ms_testdata_cost(stay(t, 0, G1_NONE, 1, 5), none_total[i], 0, 0.7);
    for (int i = 0; i < 5; i++) {
        ms_settlement_t *s = stay(t, 0, G3, 10, 2);
        if (i == 0) ms_testdata_cost(s, 617299, 0, 0.7); /* half of 1234600 is 617300 */
        if (i == 1) ms_testdata_cost(s, 617300, 0, 0.7);
    }
    /* H0002: F01 2 MCC, 2 CC, 16 none; F02 (paid by DIP) 5 CC, 5 none. */
    for (int i = 0; i < 2; i++) stay(t, 1, G1_MCC, 10, 1);
    for (int i = 0; i < 2; i++) stay(t, 1, G1_CC, 10, 1);
    for (int i = 0; i < 16; i++) stay(t, 1, G1_NONE, 10, 1);
    for (int i = 0; i < 5; i++) stay(t, 1, G2_CC, 10, 1)->pay_scheme = MS_PAY_DIP;
    for (int i = 0; i < 5; i++) stay(t, 1, G2_NONE, 10, 1)->pay_scheme = MS_PAY_DIP;
    /* H0003: F01 1 CC, 9 none; F02 10 none. */
    stay(t, 2, G1_CC, 10, 1);
    for (int i = 0; i < 9; i++) stay(t, 2, G1_NONE, 10, 1);
    for (int i = 0; i < 10; i++) stay(t, 2, G2_NONE, 10, 1);
    /* H0004: a fee-for-service stay that carries a group, and a visit. */
    stay(t, 3, G1_MCC, 2, 9)->pay_scheme = MS_PAY_FFS;
    ms_testdata_visit(t, 99, 3, A);
}

/* Clues of (inst, upcoding, indicator), ascending; *has set when settle_id is among them. */
static int count_clues(const ms_testcsv_t *clues, const char *inst, const char *ind, uint64_t settle_id, int *has)
{
    uint64_t ids[64];
    size_t n = ms_testsweep_clue_ids(clues, inst, "upcoding", ind, ids, 64);
    assert_true(n <= 64);
    *has = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(i == 0 || ids[i] > ids[i - 1]); /* sorted by settle_id within (inst, indicator) */
        *has |= ids[i] == settle_id;
    }
    return (int)n;
}

static void test_sweep(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "model-upcoding", "upcoding");
    ms_testdata_t t;
    uint64_t short_ids[2] = {0, 0};
    build_world(&t, short_ids);
    ms_testsweep_data(&f, &t);
    /* Clues are written only for indicators big enough to report: report all. */
    ms_testsweep_rules(&f, "scoring = { min_denominator = 1; all_clues = 1; };\n");
    ms_testsweep_run(&f, f.out, NULL);

    ms_testsweep_expect(&f, "H0001", "severity_share", 16, 20);
    ms_testsweep_expect(&f, "H0002", "severity_share", 9, 30);
    ms_testsweep_expect(&f, "H0003", "severity_share", 1, 20);
    ms_testsweep_expect(&f, "H0001", "cost_to_weight", 3, 25);
    ms_testsweep_expect(&f, "H0002", "cost_to_weight", 0, 30);
    ms_testsweep_expect(&f, "H0003", "cost_to_weight", 0, 20);
    ms_testsweep_expect(&f, "H0001", "short_severe_stay", 2, 16);
    ms_testsweep_expect(&f, "H0002", "short_severe_stay", 0, 9);
    ms_testsweep_expect(&f, "H0003", "short_severe_stay", 0, 1);
    ms_testsweep_expect(&f, "H0001", "diagnosis_inflation", 12 * 8 + 4 * 3, 16);
    ms_testsweep_expect(&f, "H0002", "diagnosis_inflation", 9, 9);
    ms_testsweep_expect(&f, "H0003", "diagnosis_inflation", 1, 1);
    ms_testsweep_expect(&f, "H0001", "case_mix_index", 12 * 1800 + 4 * 1300 + 4 * 1000 + 5 * 1235, 25000);
    ms_testsweep_expect(&f, "H0002", "case_mix_index", 2 * 1800 + 2 * 1300 + 16 * 1000 + 5 * 1300 + 5 * 1000, 30000);
    ms_testsweep_expect(&f, "H0003", "case_mix_index", 1300 + 9 * 1000 + 10 * 1000, 20000);
    long long num, den;
    assert_int_equal(ms_testdata_indicator(f.out, "H0004", "upcoding", "case_mix_index", &num, &den), -1);

    int has = 0;
    ms_testcsv_t *clues = ms_testcsv_read(f.out, "clues.csv");
    assert_int_equal(count_clues(clues, "H0001", "severity_share", 0, &has), 16);
    assert_int_equal(count_clues(clues, "H0002", "severity_share", 0, &has), 9);
    assert_int_equal(count_clues(clues, "H0001", "cost_to_weight", 0, &has), 3);
    assert_int_equal(count_clues(clues, "H0001", "short_severe_stay", short_ids[0], &has), 2);
    assert_true(has);
    assert_int_equal(count_clues(clues, "H0001", "short_severe_stay", short_ids[1], &has), 2);
    assert_true(has);
    assert_int_equal(count_clues(clues, "H0001", "diagnosis_inflation", 0, &has), 0); /* ratios carry no clues */
    ms_testcsv_free(clues);

    /* A looser rule: at 60% of the mean every severity-0 and F03 stay of H0001
     * priced under the mean is cheap; a shorter limit flags no CC stay. */
    ms_testsweep_rules(&f, "scoring = { min_denominator = 1; all_clues = 1; };\n"
                           "models = { upcoding = { cost_to_weight = { cheap_share = 0.6; };\n"
                           "  short_severe_stay = { short_share = 0.3; }; }; };\n");
    ms_testsweep_run(&f, f.out, NULL);
    ms_testsweep_expect(&f, "H0001", "cost_to_weight", 6, 25);
    ms_testsweep_expect(&f, "H0001", "short_severe_stay", 0, 16); /* 0.3 x 10.2 = 3.06, 0.3 x 8 = 2.4 */
    ms_testsweep_expect(&f, "H0001", "severity_share", 16, 20);
    ms_testdata_free(&t);
    ms_testsweep_done(&f);
}

/* ------------------------------------------------ through the library */

typedef struct {
    ms_model_config_t cfg;
    ms_indicator_config_t ind[8];
    double values[8][4];
} defaults_t;

/* The model's rules at their defaults, as the configuration would resolve them. */
static void make_defaults(const ms_model_t *m, defaults_t *d)
{
    memset(d, 0, sizeof *d);
    assert_true(m->nindicators <= 8);
    d->cfg.weight = 1.0;
    d->cfg.ind = d->ind;
    for (int i = 0; i < m->nindicators; i++) {
        assert_true(m->indicators[i].nparams <= 4);
        d->ind[i].weight = 1.0;
        d->ind[i].value = d->values[i];
        for (int p = 0; p < m->indicators[i].nparams; p++) d->values[i][p] = m->indicators[i].params[p].def;
    }
}

/* Column arrays of rows [lo, hi) of t->s, in the shape the reader hands out. */
typedef struct {
    ms_batch_t b;
    void *mem[MS_SC_COUNT];
} cols_t;

static void make_batch(const ms_testdata_t *t, size_t lo, size_t hi, cols_t *c)
{
    const ms_table_t *tab = ms_table(MS_TABLE_SETTLEMENTS);
    memset(c, 0, sizeof *c);
    c->b.rows = hi - lo;
    for (int k = 0; k < tab->ncols; k++) {
        size_t w = ms_ctype_size(tab->cols[k].type);
        char *a = malloc((hi - lo + 1) * w);
        for (size_t i = lo; i < hi; i++) memcpy(a + (i - lo) * w, (const char *)&t->s[i] + tab->cols[k].offset, w);
        c->mem[k] = a;
        c->b.col[k] = a;
    }
}

static void free_batch(cols_t *c)
{
    for (int k = 0; k < MS_SC_COUNT; k++) free(c->mem[k]);
}

/* Sweep rows [lo, hi) into a fresh state. */
static void *sweep_rows(const ms_model_t *m, const ms_model_env_t *env, const ms_testdata_t *t, size_t lo, size_t hi)
{
    void *st = NULL;
    assert_int_equal(m->init(env, &st), MS_OK);
    cols_t c;
    make_batch(t, lo, hi, &c);
    assert_int_equal(m->batch(st, MS_TABLE_SETTLEMENTS, &c.b, NULL), MS_OK);
    free_batch(&c);
    return st;
}

/* One state over every row, or two halves with the second saved, loaded and merged. */
static void run_model(const ms_model_t *m, ms_model_env_t *env, const ms_testdata_t *t, int split,
                      ms_model_result_t *res)
{
    void *st;
    if (!split) {
        st = sweep_rows(m, env, t, 0, t->ns);
    } else {
        size_t mid = t->ns / 2;
        while (mid < t->ns && t->s[mid].person_id == t->s[mid - 1].person_id) mid++;
        st = sweep_rows(m, env, t, 0, mid);
        void *second = sweep_rows(m, env, t, mid, t->ns), *loaded = NULL;
        ms_buf_t buf = {0};
        assert_int_equal(m->save(second, &buf), MS_OK);
        m->free(second);
        /* load fills a state fresh from init. */
        assert_int_equal(m->init(env, &loaded), MS_OK);
        assert_int_equal(m->load(loaded, buf.data, buf.len), MS_OK);
        assert_int_equal(m->init(env, &second), MS_OK);
        assert_int_not_equal(m->load(second, buf.data, buf.len - 1), MS_OK); /* truncated */
        m->free(second);
        ms_buf_free(&buf);
        assert_int_equal(m->merge(st, loaded), MS_OK);
        m->free(loaded);
    }
    assert_int_equal(m->finalize(st, env, res), MS_OK);
    m->free(st);
}

static void assert_same(const ms_model_result_t *a, const ms_model_result_t *b)
{
    size_t n = (size_t)a->nind * a->n_inst;
    assert_int_equal(a->nind, b->nind);
    assert_memory_equal(a->num, b->num, n * sizeof *a->num);
    assert_memory_equal(a->den, b->den, n * sizeof *a->den);
    assert_memory_equal(a->expected, b->expected, n * sizeof *a->expected);
    assert_int_equal(a->nclues, b->nclues);
    for (size_t i = 0; i < a->nclues; i++) {
        assert_int_equal(a->clues[i].settle_id, b->clues[i].settle_id);
        assert_int_equal(a->clues[i].indicator, b->clues[i].indicator);
        assert_int_equal(a->clues[i].inst, b->clues[i].inst);
        assert_int_equal(a->clues[i].amount, b->clues[i].amount);
    }
}

static void test_expected_through_library(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "model-upcoding-lib", "upcoding");
    ms_testdata_t t;
    uint64_t short_ids[2];
    build_world(&t, short_ids);
    /* Writing finishes the reference data and sorts the rows by person. */
    ms_testsweep_data(&f, &t);
    const ms_model_t *m = ms_model_find("upcoding");
    assert_non_null(m);
    defaults_t d;
    make_defaults(m, &d);
    ms_model_env_t env = {.refs = &t.refs, .cfg = &d.cfg};
    uint32_t one[4] = {0, 0, 0, 0}, two[4] = {0, 0, 1, 1};
    const size_t sev = 0; /* severity_share is indicator 0 */
    const uint32_t n = 4;

    /* One peer group: F01 21 of 50 stays CC/MCC, F02 5 of 20. */
    env.peer = one;
    env.npeer = 1;
    ms_model_result_t r1, r2;
    run_model(m, &env, &t, 0, &r1);
    assert_int_equal(r1.num[sev * n + 0], 16);
    assert_int_equal(r1.den[sev * n + 0], 20);
    assert_non_null(r1.expected);
    assert_true(fabs(r1.expected[sev * n + 0] - 20 * 0.42) < 1e-9);
    assert_true(fabs(r1.expected[sev * n + 1] - (20 * 0.42 + 10 * 0.25)) < 1e-9);
    assert_true(fabs(r1.expected[sev * n + 2] - (10 * 0.42 + 10 * 0.25)) < 1e-9);
    assert_true(r1.expected[sev * n + 3] == 0.0);
    assert_true(isnan(r1.expected[1 * n + 0])); /* other indicators: not standardised */

    /* Saved, loaded and merged halves: the same bytes.  (The dense and the
     * sparse (institution, family) tables agree: tests/test_pairs.c.) */
    run_model(m, &env, &t, 1, &r2);
    assert_same(&r1, &r2);
    ms_model_result_free(&r2);

    /* Two peer groups {H0001, H0002} and {H0003, H0004}: F01 shares 20/40
     * and 1/10, F02 5/10 and 0/10. */
    env.peer = two;
    env.npeer = 2;
    run_model(m, &env, &t, 0, &r2);
    assert_true(fabs(r2.expected[sev * n + 0] - 10.0) < 1e-9);
    assert_true(fabs(r2.expected[sev * n + 1] - 15.0) < 1e-9);
    assert_true(fabs(r2.expected[sev * n + 2] - 1.0) < 1e-9);
    ms_model_result_free(&r2);
    ms_model_result_free(&r1);

    /* A peer id out of range is a bug, reported, not a crash. */
    uint32_t bad[4] = {0, 0, 5, 0};
    env.peer = bad;
    env.npeer = 2;
    void *st = sweep_rows(m, &env, &t, 0, t.ns);
    assert_int_equal(m->finalize(st, &env, &r1), MS_E_INTERNAL);
    m->free(st);

    ms_testdata_free(&t);
    ms_testsweep_done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep),
        cmocka_unit_test(test_expected_through_library),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
