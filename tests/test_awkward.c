/*
 * test_awkward.c - extracts without the contract's richness.
 *
 * Every cost in one category, zero beds everywhere, one severity per
 * family, one department for all: the indicators that need what is missing
 * carry no signal and say so (features.h5 no_signal), nothing divides by
 * zero or writes NaN, and the ranking is not flooded.
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

static void test_poor_extract(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "awkward", NULL);
    ms_testdata_t t;
    ms_testdata_init(&t, 30, 4);
    for (size_t i = 0; i < t.refs.n_inst; i++) t.refs.inst[i].beds = 0; /* zero beds */
    uint64_t s = 11;
    int32_t day0 = ms_testdata_day("2025-01-01");
    for (uint64_t p = 1; p <= 3000; p++) {
        uint32_t inst = (uint32_t)ms_test_below(&s, 30);
        int32_t a = day0 + (int32_t)ms_test_below(&s, 300);
        /* One severity per family: only the severity-0 variant (id 3f+2). */
        int32_t g = (int32_t)(3 * ms_test_below(&s, 4) + 2);
        ms_settlement_t *st = ms_testdata_stay(&t, p, inst, a, a + 3 + (int32_t)ms_test_below(&s, 5), g);
        ms_testdata_cost(st, 500000 + (int64_t)ms_test_below(&s, 100000), 6, 0.7); /* all cost in "bed" */
        st->dept = MS_DEPT_OTH;                                                    /* one department */
        ms_settlement_t *v = ms_testdata_visit(&t, p, inst, a + 40);
        v->dept = MS_DEPT_OTH;
        ms_testdata_cost(v, 8000, 6, 0.5);
    }
    ms_testsweep_data(&f, &t);
    ms_testsweep_run(&f, f.out, NULL);
    /* No NaN or infinity anywhere in what people open. */
    const char *files[] = {"ranked.csv", "indicators.csv", "clues.csv"};
    for (int k = 0; k < 3; k++) {
        char *text = ms_test_read(f.out, files[k], NULL);
        assert_null(strstr(text, "nan"));
        assert_null(strstr(text, "inf"));
        free(text);
    }
    /* Not flooded: every stay is "treatment-light" here, which tells nothing. */
    char *ranked = ms_test_read(f.out, "ranked.csv", NULL);
    assert_null(strstr(ranked, "treatment-light"));
    assert_null(strstr(ranked, "beds"));
    assert_null(strstr(ranked, "CC/MCC share"));
    free(ranked);
    /* Every institution with data has a row; at most a few chance
     * deviations have a priority (and then a reason). */
    ms_testcsv_t *rk = ms_testcsv_read(f.out, "ranked.csv");
    size_t flagged = 0;
    for (size_t r = 0; r < ms_testcsv_rows(rk); r++) {
        int has = strtod(ms_testcsv_get(rk, r, "priority"), NULL) > 0;
        flagged += (size_t)has;
        assert_int_equal(has, *ms_testcsv_get(rk, r, "reason_1") != '\0');
    }
    assert_true(flagged <= 3);
    ms_testcsv_free(rk);
    /* The silent indicators say so in features.h5. */
    char cmd[1000], *dump = NULL, *flags = NULL;
    snprintf(cmd, sizeof cmd, "h5dump -y -w 0 -d /indicators/name %s/features.h5", f.out);
    ms_test_run_ok(cmd, &dump);
    snprintf(cmd, sizeof cmd, "h5dump -y -w 0 -d /indicators/no_signal %s/features.h5", f.out);
    ms_test_run_ok(cmd, &flags);
    /* Walk the names (quoted) and the flags (numbers after "DATA {") together. */
    int silent_light = -1, silent_severity = -1, silent_beds = -1;
    char *n = strstr(dump, "DATA {"), *fl = strstr(flags, "DATA {");
    assert_non_null(n);
    assert_non_null(fl);
    fl += 6;
    while (n && fl && (n = strchr(n, '"')) != NULL) {
        char *end = strchr(n + 1, '"');
        if (!end) break;
        *end = '\0';
        long v = strtol(fl, &fl, 10);
        if (!strcmp(n + 1, "false_hosp.treatment_light_stay")) silent_light = (int)v;
        if (!strcmp(n + 1, "upcoding.severity_share")) silent_severity = (int)v;
        if (!strcmp(n + 1, "false_hosp.beds_overflow")) silent_beds = (int)v;
        while (*fl == ',' || *fl == ' ') fl++;
        n = end + 1;
    }
    assert_int_equal(silent_light, 1);
    assert_int_equal(silent_severity, 1);
    assert_int_equal(silent_beds, 1);
    free(dump);
    free(flags);
    dump = NULL;
    snprintf(cmd, sizeof cmd, "h5dump -d /z %s/features.h5 | grep -ci nan", f.out);
    ms_test_run(cmd, &dump);
    assert_int_equal(atoi(dump), 0);
    free(dump);
    ms_testdata_free(&t);
    ms_testsweep_done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_poor_extract)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
