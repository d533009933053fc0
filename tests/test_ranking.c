/*
 * test_ranking.c - what an inspector may rely on in ranked.csv.
 *
 * - An institution with a handful of records never reaches the top, however
 *   extreme they are (one stay of the heaviest group: case-mix index 1.8
 *   against peers' 1.0), while the same pattern on enough stays does.
 * - Every institution with data has a row; a row has a reason exactly when
 *   its priority is above 0; priority never increases down the file; the
 *   likely recovery is never above the suspicious amount, and both are 0
 *   without a credible deviation.
 * - A full hospital is no fraud: beds overflow is a reason only above 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ms_config.h"
#include "ms_fs.h"
#include "ms_score.h"
#include "ms_testcsv.h"
#include "ms_testdata.h"
#include "ms_testsweep.h"
#include "ms_testutil.h"

#ifndef MIN_DEN
#define MIN_DEN "11"
#endif

/* Row r's priority. */
static double priority(const ms_testcsv_t *t, size_t r) { return strtod(ms_testcsv_get(t, r, "priority"), NULL); }

/* The row of inst, or fails. */
static size_t row_of(const ms_testcsv_t *t, const char *inst)
{
    for (size_t r = 0; r < ms_testcsv_rows(t); r++)
        if (ms_testcsv_is(t, r, "inst_code", inst)) return r;
    fail_msg("%s has no row in ranked.csv", inst);
    return 0;
}

/* A row's reasons, joined. */
static void reasons(const ms_testcsv_t *t, size_t r, char *out, size_t cap)
{
    snprintf(out, cap, "%s|%s|%s", ms_testcsv_get(t, r, "reason_1"), ms_testcsv_get(t, r, "reason_2"),
             ms_testcsv_get(t, r, "reason_3"));
}

/* What holds for every ranked.csv. */
static void check_ranked_file(const char *out, size_t institutions_with_data)
{
    ms_testcsv_t *t = ms_testcsv_read(out, "ranked.csv");
    if (institutions_with_data) assert_int_equal(ms_testcsv_rows(t), institutions_with_data);
    for (size_t r = 0; r < ms_testcsv_rows(t); r++) {
        double p = priority(t, r);
        assert_true(p >= 0 && p <= 1);
        if (r > 0) assert_true(priority(t, r - 1) >= p);
        int reason = *ms_testcsv_get(t, r, "reason_1") != '\0';
        if (reason != (p > 0))
            fail_msg("row %zu (%s): priority %g but reason '%s'", r + 1, ms_testcsv_get(t, r, "inst_code"), p,
                     ms_testcsv_get(t, r, "reason_1"));
        double sus = strtod(ms_testcsv_get(t, r, "suspicious_amount_yuan"), NULL);
        double rec = strtod(ms_testcsv_get(t, r, "likely_recovery_yuan"), NULL);
        assert_true(rec >= 0 && rec <= sus + 0.005);
        if (p == 0) assert_true(sus == 0 && rec == 0);
        assert_int_equal(ms_testcsv_ll(t, r, "rank"), (long long)r + 1);
    }
    ms_testcsv_free(t);
}

/* Twelve ordinary hospitals of one peer group with 40 stays each in the
 * lightest variant of their family; then H0013 with one stay of the
 * heaviest variant, cheap and short (every upcoding indicator at its most
 * extreme), and H0014 with 15 such stays. */
static void test_handful_never_tops(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "ranking-handful", NULL);
    ms_testdata_t t;
    ms_testdata_init(&t, 14, 2);
    int32_t day = ms_testdata_day("2025-02-03");
    uint64_t person = 1;
    for (uint32_t h = 0; h < 12; h++)
        for (int k = 0; k < 40; k++) {
            int32_t g = (k % 2) * 3 + 2; /* F01 or F02, severity 0 (suffix 5, weight 1.0) */
            ms_testdata_stay(&t, person++, h, day + k, day + k + 6, g);
        }
    for (uint32_t h = 12; h < 14; h++)
        for (int k = 0; k < (h == 12 ? 1 : 15); k++) {
            ms_settlement_t *s = ms_testdata_stay(&t, person++, h, day + k, day + k + 1, 0); /* F01 MCC, weight 1.8 */
            ms_testdata_cost(s, 200000, 0, 0.7); /* 2,000 yuan against a mean of 18,000 */
        }
    ms_testsweep_data(&f, &t);
    ms_testsweep_run(&f, f.out, NULL);
    check_ranked_file(f.out, 14);
    ms_testcsv_t *rk = ms_testcsv_read(f.out, "ranked.csv");
    size_t one = row_of(rk, "H0013"), many = row_of(rk, "H0014");
    /* One record, however extreme: no priority, no reason, not near the top. */
    assert_true(priority(rk, one) == 0);
    assert_true(one >= 1);
    /* Fifteen such stays: upcoding, at the top, for its cheap short stays. */
    assert_int_equal(many, 0);
    assert_true(priority(rk, many) > 0);
    const char *why = ms_testcsv_get(rk, many, "reason_1");
    assert_true(strstr(why, "cheap") || strstr(why, "short"));
    /* Peer percentiles with ties counting half: H0014 alone at the top of
     * its peers (100); the thirteen others share priority 0, below the
     * middle, not at the top, however many share it. */
    assert_string_equal(ms_testcsv_get(rk, many, "peer_percentile"), "100.0");
    for (size_t r = 0; r < ms_testcsv_rows(rk); r++)
        if (r != many) assert_string_equal(ms_testcsv_get(rk, r, "peer_percentile"), "46.2");
    ms_testcsv_free(rk);
    /* The same in Chinese (--lang zh, the default without the test
     * harness's --lang en) and with a byte-order mark (--excel): the same
     * order and figures, the words in Chinese, the codes as they were. */
    ms_testsweep_run(&f, f.out2, "--lang zh --excel");
    size_t len = 0;
    char *raw = ms_test_read(f.out2, "ranked.csv", &len);
    assert_true(len > 3 && !memcmp(raw, "\xEF\xBB\xBF", 3));
    free(raw);
    raw = ms_test_read(f.out, "ranked.csv", &len);
    assert_true(len > 3 && memcmp(raw, "\xEF\xBB\xBF", 3)); /* no mark without --excel */
    free(raw);
    raw = ms_test_read(f.out2, "clues.csv", &len);
    assert_true(len > 3 && !memcmp(raw, "\xEF\xBB\xBF", 3));
    assert_non_null(strstr(raw, "住院费用明显低于所入组别")); /* cost_to_weight's finding */
    assert_null(strstr(raw, "stays cheap for their group"));
    free(raw);
    ms_testcsv_t *zh = ms_testcsv_read(f.out2, "ranked.csv");
    rk = ms_testcsv_read(f.out, "ranked.csv");
    assert_int_equal(ms_testcsv_rows(zh), ms_testcsv_rows(rk));
    for (size_t r = 0; r < ms_testcsv_rows(rk); r++) {
        /* the first column's name carries the mark */
        assert_string_equal(ms_testcsv_get(zh, r, "inst_code"), ms_testcsv_get(rk, r, "inst_code"));
        assert_string_equal(ms_testcsv_get(zh, r, "priority"), ms_testcsv_get(rk, r, "priority"));
        assert_string_equal(ms_testcsv_get(zh, r, "level"), ms_testcsv_get(rk, r, "level"));
        assert_string_equal(ms_testcsv_get(rk, r, "level_name"), "level 2");
        assert_string_equal(ms_testcsv_get(zh, r, "level_name"), "二级");
        assert_string_equal(ms_testcsv_get(zh, r, "province"), "北京"); /* regions 1101xx */
        assert_string_equal(ms_testcsv_get(rk, r, "province"), "Beijing");
    }
    why = ms_testcsv_get(zh, many, "reason_1");
    assert_non_null(strstr(why, "同类机构"));
    assert_null(strstr(why, "vs peers"));
    ms_testcsv_free(zh);
    ms_testcsv_free(rk);
    /* The case-mix index alone (its corroborating indicators not scored):
     * one stay is still too few records to be a reason, whatever its
     * weight (it rests on stays, not on weight x 1000). */
    ms_testsweep_rules(&f, "models = { upcoding = { cost_to_weight = { weight = 0.0; }; "
                           "short_severe_stay = { weight = 0.0; }; }; };\n"
                           "scoring = { all_clues = 1; min_denominator = " MIN_DEN "; };\n");
    ms_testsweep_run(&f, f.out, NULL);
    check_ranked_file(f.out, 14);
    rk = ms_testcsv_read(f.out, "ranked.csv");
    assert_true(priority(rk, row_of(rk, "H0013")) == 0);
    assert_true(priority(rk, row_of(rk, "H0014")) > 0);
    assert_non_null(strstr(ms_testcsv_get(rk, row_of(rk, "H0014"), "reason_1"), "case-mix index"));
    ms_testcsv_free(rk);
    ms_testdata_free(&t);
    ms_testsweep_done(&f);
}

/* Severity that rises with cost is a heavier case mix, not upcoding: a
 * hospital whose stays are all in the MCC variant at that variant's full
 * cost and length has no upcoding reason. */
static void test_heavy_case_mix_is_not_upcoding(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "ranking-heavy", "upcoding");
    ms_testdata_t t;
    ms_testdata_init(&t, 12, 2);
    int32_t day = ms_testdata_day("2025-02-03");
    uint64_t person = 1;
    for (uint32_t h = 0; h < 12; h++)
        for (int k = 0; k < 40; k++) {
            /* H0001: all MCC (weight 1.8), full cost, 11 days; the others
             * mostly without complications. */
            int sev = h == 0 ? 2 : (k % 10 == 0 ? 2 : 0);
            int32_t g = (k % 2) * 3 + (2 - sev);
            ms_testdata_stay(&t, person++, h, day + k, day + k + (sev ? 11 : 6), g);
        }
    ms_testsweep_data(&f, &t);
    ms_testsweep_run(&f, f.out, NULL);
    ms_testcsv_t *rk = ms_testcsv_read(f.out, "ranked.csv");
    size_t r = row_of(rk, "H0001");
    assert_true(priority(rk, r) == 0);
    assert_string_equal(ms_testcsv_get(rk, r, "reason_1"), "");
    ms_testcsv_free(rk);
    /* Its severity share does deviate on its own: the indicator is there. */
    ms_testsweep_expect(&f, "H0001", "severity_share", 40, 40);
    ms_testdata_free(&t);
    ms_testsweep_done(&f);
}

/* Beds overflow: 12 beds full (peak 12) is no reason; 12 beds with a peak
 * of 20 is, and says it is above the limit. */
static void test_full_is_not_overflow(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "ranking-beds", "false_hosp");
    ms_testdata_t t;
    ms_testdata_init(&t, 12, 1);
    for (uint32_t h = 0; h < 12; h++) t.refs.inst[h].beds = h < 2 ? 12 : 60;
    int32_t day = ms_testdata_day("2025-03-03");
    uint64_t person = 1;
    for (uint32_t h = 0; h < 12; h++) {
        int peak = h == 0 ? 12 : h == 1 ? 20 : 12;
        for (int k = 0; k < peak; k++) ms_testdata_stay(&t, person++, h, day, day + 5, 2);
        for (int k = 0; k < 20; k++) ms_testdata_stay(&t, person++, h, day + 30 + 7 * k, day + 33 + 7 * k, 2);
    }
    ms_testsweep_data(&f, &t);
    ms_testsweep_run(&f, f.out, NULL);
    check_ranked_file(f.out, 12);
    ms_testcsv_t *rk = ms_testcsv_read(f.out, "ranked.csv");
    size_t full = row_of(rk, "H0001"), over = row_of(rk, "H0002");
    char full_why[600], over_why[600];
    reasons(rk, full, full_why, sizeof full_why);
    reasons(rk, over, over_why, sizeof over_why);
    assert_null(strstr(full_why, "beds"));
    if (!strstr(over_why, "peak inpatients over approved beds 1.67, above the limit of 1.00"))
        fail_msg("H0002's reasons: %s", over_why);
    ms_testcsv_free(rk);
    ms_testdata_free(&t);
    ms_testsweep_done(&f);
}

/* A generated world: the file's promises hold on every row. */
static void test_generated_world_rows(void **state)
{
    (void)state;
    char *dir = ms_test_dir("ranking-world");
    assert_int_equal(ms_test_cli(NULL, "gen --out %s/w --persons 30000 --institutions 150 --seed 5 --quiet", dir), 0);
    assert_int_equal(ms_test_cli(NULL, "sweep %s/w --out %s/s --quiet", dir, dir), 0);
    /* Every institution with settlements has a row. */
    ms_testcsv_t *ind = ms_testcsv_read(dir, "s/indicators.csv");
    size_t with_data = 0;
    for (size_t r = 0; r < ms_testcsv_rows(ind); r++)
        with_data += ms_testcsv_is(ind, r, "model", "volume") && ms_testcsv_is(ind, r, "indicator", "settlements") &&
                     ms_testcsv_ll(ind, r, "numerator") > 0;
    ms_testcsv_free(ind);
    assert_true(with_data > 100);
    char out[700];
    snprintf(out, sizeof out, "%s/s", dir);
    check_ranked_file(out, with_data);
    ms_remove_tree(dir);
    free(dir);
}

/* Peer groups (ms_peers_make) against the plain sort of (key, institution)
 * pairs: random kinds, tiers and provinces, groups of every size around
 * the minimum (those under it fall back to kind and tier nationwide), an
 * empty set, and regions at the extremes. */
static void test_peers_match_reference(void **state)
{
    (void)state;
    ms_config_t cfg;
    assert_int_equal(ms_config_load(NULL, &cfg), MS_OK);
    uint64_t seed = 7;
    for (int round = 0; round < 40; round++) {
        size_t n = round == 0 ? 0 : (size_t)(seed % 5000);
        ms_refs_t r;
        memset(&r, 0, sizeof r);
        r.n_inst = n;
        r.inst = calloc(n + 1, sizeof *r.inst);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t x = (uint32_t)(seed >> 33);
            r.inst[i].kind = (uint8_t)(x % (round % 3 + 2));
            r.inst[i].level = (uint8_t)(x / 7 % 4);
            r.inst[i].region = x % 97 == 0 ? (x % 2 ? INT32_MAX : INT32_MIN) : (int32_t)(x / 31 % (round + 2)) * 10000 + 101;
        }
        cfg.score[MS_SCORE_MIN_PEERS] = (double)(round % 8);
        uint32_t *a = NULL, *b = NULL, na = 0, nb = 0;
        assert_int_equal(ms_peers_make(&r, &cfg, &a, &na), MS_OK);
        assert_int_equal(ms_peers_make_ref(&r, &cfg, &b, &nb), MS_OK);
        assert_int_equal(na, nb);
        if (n) assert_memory_equal(a, b, n * sizeof *a);
        free(a), free(b), free(r.inst);
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    }
    ms_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peers_match_reference),
        cmocka_unit_test(test_handful_never_tops),
        cmocka_unit_test(test_heavy_case_mix_is_not_upcoding),
        cmocka_unit_test(test_full_is_not_overflow),
        cmocka_unit_test(test_generated_world_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
