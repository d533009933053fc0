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

#include "ms_testcsv.h"
#include "ms_testdata.h"
#include "ms_testsweep.h"
#include "ms_testutil.h"

static void test_ceiling_and_one_above(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "model-overload", "overload");
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
    ms_testsweep_data(&f, &t);
    ms_testsweep_run(&f, f.out, NULL);
    ms_testsweep_expect(&f, "H0001", "overloaded_doctor_days", 0, 60);
    ms_testsweep_expect(&f, "H0002", "overloaded_doctor_days", 61, 71);
    ms_testsweep_expect(&f, "H0003", "overloaded_doctor_days", 35, 35); /* unknown doctors are not in the denominator */
    /* A stricter ceiling from the rule configuration flags H0001 too. */
    ms_testsweep_rules(&f, "models = { overload = { overloaded_doctor_days = { ceiling_outpatient = 59; }; }; };\n");
    ms_testsweep_run(&f, f.out, NULL);
    long long num, den;
    assert_int_equal(ms_testdata_indicator(f.out, "H0001", "overload", "overloaded_doctor_days", &num, &den), 0);
    assert_int_equal(num, 60);
    ms_testdata_free(&t);
    ms_testsweep_done(&f);
}

static void test_configuration_errors(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "model-overload-cfg", "overload");
    static const ms_testsweep_bad_t cases[] = {
        {"models = { overload = { overloaded_doctor_days = { ceiling_outpatient = 5; }; }; };",
         "line 1: 'models.overload.overloaded_doctor_days.ceiling_outpatient' = 5 is out of range (allowed 10..1000)"},
        {"models = { overload = { overloaded_doctor_days = { ceiling = 70; }; }; };",
         "unknown key 'ceiling' in models.overload.overloaded_doctor_days (allowed: weight, ceiling_outpatient"},
        {"models = { overload = { overloaded_doctor_days = { ceiling_outpatient = \"sixty\"; }; }; };",
         "must be a number (allowed 10..1000)"},
        {"scoring = { min_denominator = 0; };", "'scoring.min_denominator' = 0 is out of range (allowed 1..100000)"},
        {"models = { nonesuch = { weight = 1.0; }; };", "unknown key 'nonesuch' in models"},
        {"scoring = { min_denominator = ; };", "line 1: syntax error"},
        /* Counts are whole numbers. */
        {"scoring = { min_denominator = 11.5; };",
         "line 1: 'scoring.min_denominator' = 11.5 must be a whole number (allowed 1..100000)"},
        {"scoring = {\n  min_flagged_records = 2.25;\n};", "line 2: 'scoring.min_flagged_records' = 2.25 must be a whole"},
        {"models = { overload = { overloaded_doctor_days = { ceiling_outpatient = 60.5; }; }; };",
         "'models.overload.overloaded_doctor_days.ceiling_outpatient' = 60.5 must be a whole number (allowed 10..1000)"},
        /* List items are codes, matched exactly as written. */
        {"models = { false_hosp = { minor_diagnosis_admission = { diagnoses = [\"J06\", \"j06 \"]; }; }; };",
         "'models.false_hosp.minor_diagnosis_admission.diagnoses' item 2 \"j06 \" has a space"},
        {"models = { false_hosp = { minor_diagnosis_admission = { diagnoses = [\"J06\", \"\"]; }; }; };",
         "'models.false_hosp.minor_diagnosis_admission.diagnoses' item 2 is empty"},
        {"models = { false_hosp = { minor_diagnosis_admission = { diagnoses = [\" J06\"]; }; }; };",
         "matched case-sensitively"},
    };
    ms_testsweep_refused(&f, cases, sizeof cases / sizeof *cases);
    /* The printed defaults read back to the same configuration. */
    char *again = NULL, *first = NULL;
    assert_int_equal(ms_test_cli(&again, "models --config > %s && %s models --config %s", f.cfg, ms_test_bin(), f.cfg),
                     0);
    first = ms_test_slurp(f.cfg, NULL);
    assert_string_equal(first, again);
    free(first), free(again);
    ms_testsweep_done(&f);
}

/* The priority of inst's row in ranked.csv (every institution with data
 * has one). */
static double ranked_priority(const ms_testsweep_t *f, const char *inst)
{
    ms_testcsv_t *t = ms_testcsv_read(f->out, "ranked.csv");
    double p = -1;
    for (size_t r = 0; r < ms_testcsv_rows(t); r++)
        if (ms_testcsv_is(t, r, "inst_code", inst)) p = strtod(ms_testcsv_get(t, r, "priority"), NULL);
    ms_testcsv_free(t);
    assert_true(p >= 0);
    return p;
}

/* An institution with fewer settlements than min_denominator is not
 * reported: no deviation, no ranking, no clue, even if all are flagged. */
static void test_small_denominator_suppressed(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "model-overload-small", "overload");
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
    ms_testsweep_data(&f, &t);
    ms_testsweep_rules(&f, "scoring = { all_clues = 0; };\n");
    ms_testsweep_run(&f, f.out, NULL);
    char *clues = ms_test_read(f.out, "clues.csv", NULL);
    assert_true(ranked_priority(&f, "H0001") == 0); /* 10 < 11: not reported */
    assert_null(strstr(clues, "H0001"));
    assert_true(ranked_priority(&f, "H0002") > 0); /* 60 of 100 flagged, peers 0 */
    assert_non_null(strstr(clues, "H0002"));
    free(clues);
    /* Each clue names the doctor and how many settlements they signed that
     * day (70: 10 at H0001 and 60 at H0002). */
    ms_testcsv_t *cl = ms_testcsv_read(f.out, "clues.csv");
    size_t at_h2 = 0;
    for (size_t r = 0; r < ms_testcsv_rows(cl); r++) {
        if (!ms_testcsv_is(cl, r, "inst_code", "H0002")) continue;
        at_h2++;
        assert_string_equal(ms_testcsv_get(cl, r, "doctor_id"), "7");
        assert_string_equal(ms_testcsv_get(cl, r, "doctor_settlements_that_day"), "70");
        assert_string_equal(ms_testcsv_get(cl, r, "inst_name"), t.refs.inst[1].name);
    }
    assert_int_equal(at_h2, 60);
    ms_testcsv_free(cl);
    /* With a minimum of 10 it is reported. */
    ms_testsweep_rules(&f, "scoring = { all_clues = 0; min_denominator = 10; };\n");
    ms_testsweep_run(&f, f.out, NULL);
    assert_true(ranked_priority(&f, "H0001") > 0);
    ms_testdata_free(&t);
    ms_testsweep_done(&f);
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
