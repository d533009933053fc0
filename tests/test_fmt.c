/*
 * test_fmt.c - numbers to text without printf (io/common/ms_fmt.h).
 *
 * What must hold: ms_fmt_i64, ms_fmt_u64 and ms_fmt_fixed write exactly what
 * snprintf writes with "%lld", "%llu" and "%.Nf", for the extremes, for
 * values on and next to every rounding boundary (ties are where a fast
 * formatter goes wrong), for NaN, infinities, -0.0 and subnormals, and for
 * millions of random values of every magnitude and sign.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ms_fmt.h"
#include "ms_testutil.h"

static void same_fixed(double v, int d)
{
    char want[400], got[MS_FMT_FIXED_MAX + 1];
    snprintf(want, sizeof want, "%.*f", d, v);
    size_t n = ms_fmt_fixed(got, v, d);
    got[n] = '\0';
    if (strcmp(want, got) != 0) print_error("%.17g with %d decimals: printf '%s', ms_fmt_fixed '%s'\n", v, d, want, got);
    assert_string_equal(got, want);
}

static void same_i64(int64_t v)
{
    char want[32], got[MS_FMT_I64_MAX + 1];
    snprintf(want, sizeof want, "%lld", (long long)v);
    got[ms_fmt_i64(got, v)] = '\0';
    assert_string_equal(got, want);
    if (v >= 0) {
        snprintf(want, sizeof want, "%llu", (unsigned long long)v);
        got[ms_fmt_u64(got, (uint64_t)v)] = '\0';
        assert_string_equal(got, want);
    }
}

static void test_integers(void **state)
{
    (void)state;
    const int64_t fixed[] = {0, 1, -1, 9, 10, -10, 99, 100, INT64_MAX, INT64_MIN, INT64_MIN + 1, 1000000000000LL};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) same_i64(fixed[i]);
    char got[24];
    got[ms_fmt_u64(got, UINT64_MAX)] = '\0';
    assert_string_equal(got, "18446744073709551615");
    uint64_t rng = 1;
    for (int i = 0; i < 1000000; i++) {
        uint64_t r = ms_test_rand(&rng);
        same_i64((int64_t)(r >> (r & 63)) * ((r & 64) ? -1 : 1));
    }
}

static void test_awkward_doubles(void **state)
{
    (void)state;
    const double vals[] = {0.0, -0.0, 0.5, 1.5, 2.5, -0.5, -2.5, 0.125, 0.375, 1.005, 2.675, 0.045, 1e-5, -1e-5,
                           0.00005, 0.00015, 0.99995, 9.99995, 123456.78905, 1e15, 1e16, 9007199254740991.0,
                           9007199254740993.0, 4503599627370495.5, DBL_MAX, -DBL_MAX, DBL_MIN, 4.9e-324, -4.9e-324,
                           INFINITY, -INFINITY, NAN, -NAN, 0.1, 0.2, 0.3, 100.0, 99.99999999, 1.0 / 3.0};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++)
        for (int d = 0; d <= 9; d++) same_fixed(vals[i], d);
    /* Every tie k + 0.5 / 10^d that a double can hold exactly, and its
     * neighbours one ulp either side. */
    for (int d = 0; d <= 4; d++)
        for (int k = 0; k < 20000; k++) {
            double t = ((double)k + 0.5) / pow(10, d);
            same_fixed(t, d), same_fixed(-t, d);
            same_fixed(nextafter(t, 0), d), same_fixed(nextafter(t, INFINITY), d);
        }
}

static void test_random_doubles(void **state)
{
    (void)state;
    uint64_t rng = 7;
    for (int i = 0; i < 2000000; i++) {
        uint64_t r = ms_test_rand(&rng);
        double v;
        if (i & 1) {
            /* Any bit pattern: every magnitude, NaNs and infinities. */
            memcpy(&v, &r, sizeof v);
        } else {
            /* Money and shares: 0.01 steps, and ratios near 1. */
            v = (double)(int64_t)(r % 2000000000000ULL - 1000000000000LL) / ((i & 2) ? 100.0 : 1e6);
        }
        same_fixed(v, (int)(r >> 60) % 10);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_awkward_doubles),
        cmocka_unit_test(test_random_doubles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
