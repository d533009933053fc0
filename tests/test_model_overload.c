/*
 * test_model_overload.c - impossible workload on hand-built cases.
 *
 * A doctor with exactly the ceiling's number of outpatient settlements in a
 * day is not flagged; one more, and every settlement of that doctor-day is.
 * Settlements of other days, of unknown doctors (0), and of another visit
 * type (with its own ceiling) do not count towards it.
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

static void test_ceiling_and_one_above(void **state)
{
    (void)state;
    char *dir = ms_test_dir("model-overload");
    char data[600], out[600];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    ms_testdata_t t;
    ms_testdata_init(&t, 3, 2);
    int32_t day = ms_testdata_day("2025-03-03");
    /* H0001: doctor 1001 signs exactly 60 outpatient visits on one day. */
    for (int i = 0; i < 60; i++) ms_testdata_visit(&t, 100 + (uint64_t)i, 0, day)->doctor_id = 1001;
    /* H0002: doctor 2001 signs 61 on one day, and 10 on the next. */
    for (int i = 0; i < 61; i++) ms_testdata_visit(&t, 200 + (uint64_t)i, 1, day)->doctor_id = 2001;
    for (int i = 0; i < 10; i++) ms_testdata_visit(&t, 300 + (uint64_t)i, 1, day + 1)->doctor_id = 2001;
    /* H0003: 70 visits by unknown doctors, and 35 inpatient stays signed by one
     * doctor on one day (inpatient ceiling 30). */
    for (int i = 0; i < 70; i++) ms_testdata_visit(&t, 400 + (uint64_t)i, 2, day);
    for (int i = 0; i < 35; i++) ms_testdata_stay(&t, 500 + (uint64_t)i, 2, day - 3, day, 0)->doctor_id = 3001;
    assert_int_equal(ms_testdata_write(&t, data), MS_OK);
    char *log = NULL;
    int rc = ms_testdata_sweep(data, out, "--models overload", &log);
    if (rc) print_error("%s\n", log);
    assert_int_equal(rc, 0);
    free(log);
    long long num, den;
    assert_int_equal(ms_testdata_indicator(out, "H0001", "overload", "overloaded_doctor_days", &num, &den), 0);
    assert_int_equal(num, 0);
    assert_int_equal(den, 60);
    assert_int_equal(ms_testdata_indicator(out, "H0002", "overload", "overloaded_doctor_days", &num, &den), 0);
    assert_int_equal(num, 61);
    assert_int_equal(den, 71);
    assert_int_equal(ms_testdata_indicator(out, "H0003", "overload", "overloaded_doctor_days", &num, &den), 0);
    assert_int_equal(num, 35);
    assert_int_equal(den, 35); /* unknown doctors are not in the denominator */
    /* A stricter ceiling from the rule configuration flags H0001 too. */
    char cfg[700], extra[800];
    snprintf(cfg, sizeof cfg, "%s/rules.cfg", dir);
    ms_test_write_file(cfg, "models = { overload = { overloaded_doctor_days = { ceiling_outpatient = 59; }; }; };\n");
    snprintf(extra, sizeof extra, "--models overload --config %s", cfg);
    assert_int_equal(ms_testdata_sweep(data, out, extra, NULL), 0);
    assert_int_equal(ms_testdata_indicator(out, "H0001", "overload", "overloaded_doctor_days", &num, &den), 0);
    assert_int_equal(num, 60);
    ms_testdata_free(&t);
    ms_remove_tree(dir);
    free(dir);
}

static void test_configuration_errors(void **state)
{
    (void)state;
    char *dir = ms_test_dir("model-overload-cfg");
    char cfg[700], cmd[1500], *out = NULL;
    snprintf(cfg, sizeof cfg, "%s/rules.cfg", dir);
    const struct {
        const char *text, *want;
    } cases[] = {
        {"models = { overload = { overloaded_doctor_days = { ceiling_outpatient = 5; }; }; };",
         "line 1: 'models.overload.overloaded_doctor_days.ceiling_outpatient' = 5 is out of range (allowed 10..1000)"},
        {"models = { overload = { overloaded_doctor_days = { ceiling = 70; }; }; };",
         "unknown key 'ceiling' in models.overload.overloaded_doctor_days (allowed: weight, ceiling_outpatient"},
        {"models = { overload = { overloaded_doctor_days = { ceiling_outpatient = \"sixty\"; }; }; };",
         "must be a number (allowed 10..1000)"},
        {"scoring = { min_denominator = 0; };", "'scoring.min_denominator' = 0 is out of range (allowed 1..100000)"},
        {"models = { nonesuch = { weight = 1.0; }; };", "unknown key 'nonesuch' in models"},
        {"scoring = { min_denominator = ; };", "line 1: syntax error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ms_test_write_file(cfg, cases[i].text);
        snprintf(cmd, sizeof cmd, "%s models --config %s", ms_test_bin(), cfg);
        int rc = ms_test_run(cmd, &out);
        assert_int_equal(rc, 1);
        if (!strstr(out, cases[i].want)) print_error("'%s' not in: %s\n", cases[i].want, out);
        assert_non_null(strstr(out, cases[i].want));
        free(out);
    }
    /* The printed defaults read back to the same configuration. */
    snprintf(cmd, sizeof cmd, "%s models --config > %s && %s models --config %s", ms_test_bin(), cfg, ms_test_bin(), cfg);
    char *again = NULL, *first = NULL;
    assert_int_equal(ms_test_run(cmd, &again), 0);
    first = ms_test_slurp(cfg, NULL);
    assert_string_equal(first, again);
    free(first), free(again);
    ms_remove_tree(dir);
    free(dir);
}

/* An institution with fewer settlements than min_denominator is not
 * reported: no deviation, no ranking, no clue, even if all are flagged. */
static void test_small_denominator_suppressed(void **state)
{
    (void)state;
    char *dir = ms_test_dir("model-overload-small");
    char data[600], out[600], cfg[700], extra[900];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(cfg, sizeof cfg, "%s/rules.cfg", dir);
    ms_testdata_t t;
    ms_testdata_init(&t, 12, 1);
    int32_t day = ms_testdata_day("2025-05-05");
    /* H0001: 10 settlements, all by a doctor with 70 that day (60 of them
     * at H0002, which has 60 + 40 others). Others: 30 ordinary visits each. */
    for (int i = 0; i < 10; i++) ms_testdata_visit(&t, 1000 + (uint64_t)i, 0, day)->doctor_id = 7;
    for (int i = 0; i < 60; i++) ms_testdata_visit(&t, 2000 + (uint64_t)i, 1, day)->doctor_id = 7;
    for (int i = 0; i < 40; i++) ms_testdata_visit(&t, 3000 + (uint64_t)i, 1, day + 1 + i % 5)->doctor_id = 8;
    for (uint32_t h = 2; h < 12; h++)
        for (int i = 0; i < 30; i++)
            ms_testdata_visit(&t, 10000 * h + (uint64_t)i, h, day + i % 7)->doctor_id = 100 + h * 10 + (uint32_t)(i % 7);
    assert_int_equal(ms_testdata_write(&t, data), MS_OK);
    ms_test_write_file(cfg, "scoring = { all_clues = 0; };\n");
    snprintf(extra, sizeof extra, "--models overload --config %s", cfg);
    assert_int_equal(ms_testdata_sweep(data, out, extra, NULL), 0);
    char path[700];
    snprintf(path, sizeof path, "%s/ranked.csv", out);
    char *ranked = ms_test_slurp(path, NULL);
    snprintf(path, sizeof path, "%s/clues.csv", out);
    char *clues = ms_test_slurp(path, NULL);
    assert_null(strstr(ranked, "H0001"));   /* 10 < 11: not reported */
    assert_null(strstr(clues, "H0001"));
    assert_non_null(strstr(ranked, "H0002")); /* 60 of 100 flagged, peers 0 */
    assert_non_null(strstr(clues, "H0002"));
    free(ranked), free(clues);
    /* With a minimum of 10 it is reported. */
    ms_test_write_file(cfg, "scoring = { all_clues = 0; min_denominator = 10; };\n");
    assert_int_equal(ms_testdata_sweep(data, out, extra, NULL), 0);
    snprintf(path, sizeof path, "%s/ranked.csv", out);
    ranked = ms_test_slurp(path, NULL);
    assert_non_null(strstr(ranked, "H0001"));
    free(ranked);
    ms_testdata_free(&t);
    ms_remove_tree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ceiling_and_one_above),
        cmocka_unit_test(test_configuration_errors),
        cmocka_unit_test(test_small_denominator_suppressed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
