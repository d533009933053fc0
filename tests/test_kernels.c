/*
 * test_kernels.c - every fast kernel equals its reference, exactly, on
 * random and awkward inputs: empty, one row, every run length, one key
 * throughout, alternating keys, keys at both ends of the range, values at
 * the extremes of int64 that cancel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ms_kernels.h"
#include "ms_testutil.h"

#define NKEYS 97

/* Key patterns: 0 random, 1 sorted runs, 2 one key, 3 alternating, 4 extremes. */
static void make_keys(int32_t *k, size_t n, int pattern, uint64_t *s)
{
    for (size_t i = 0; i < n; i++) {
        switch (pattern) {
        case 0: k[i] = (int32_t)ms_test_below(s, NKEYS); break;
        case 1: k[i] = (int32_t)((i / (1 + i % 7)) % NKEYS); break;
        case 2: k[i] = 42; break;
        case 3: k[i] = (int32_t)(i % 2 ? NKEYS - 1 : 0); break;
        default: k[i] = ms_test_below(s, 2) ? 0 : NKEYS - 1; break;
        }
    }
}

static void test_fast_equals_ref(void **state)
{
    (void)state;
    const ms_kernels_t *f = ms_kernels(), *r = ms_kernels_ref();
    uint64_t s = 1;
    size_t sizes[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 100, 1000, 65537};
    for (size_t a = 0; a < sizeof sizes / sizeof *sizes; a++)
        for (int pattern = 0; pattern < 5; pattern++)
            for (int off = 0; off < 2; off++) {
                size_t n = sizes[a];
                int32_t *key = malloc((n + 1) * sizeof *key);
                int64_t *val = malloc((n + 1) * sizeof *val);
                uint8_t *sel = malloc(n + 1);
                make_keys(key + off, n, pattern, &s);
                for (size_t i = 0; i < n; i++) {
                    /* Large values that cancel: exact integer sums must agree. */
                    val[off + i] = (int64_t)ms_test_rand(&s) >> 3;
                    sel[off + i] = (uint8_t)ms_test_below(&s, 3);
                }
                int64_t cf[NKEYS] = {0}, cr[NKEYS] = {0}, sf[NKEYS] = {0}, sr[NKEYS] = {0};
                int64_t if_[NKEYS] = {0}, ir[NKEYS] = {0};
                f->count_by_key(key + off, n, cf);
                r->count_by_key(key + off, n, cr);
                f->sum_by_key(key + off, val + off, n, sf);
                r->sum_by_key(key + off, val + off, n, sr);
                f->count_by_key_if(key + off, sel + off, 1, n, if_);
                r->count_by_key_if(key + off, sel + off, 1, n, ir);
                assert_memory_equal(cf, cr, sizeof cf);
                assert_memory_equal(sf, sr, sizeof sf);
                assert_memory_equal(if_, ir, sizeof if_);
                int64_t *d1 = malloc((n + 1) * sizeof *d1), *d2 = malloc((n + 1) * sizeof *d2);
                for (size_t i = 0; i < n; i++) d1[i] = d2[i] = (int64_t)i - 5;
                f->add_i64(d1, val + off, n);
                r->add_i64(d2, val + off, n);
                if (n) assert_memory_equal(d1, d2, n * sizeof *d1);
                free(key), free(val), free(sel), free(d1), free(d2);
            }
}

/* The exact share test against 128-bit arithmetic, fast against reference,
 * at the boundaries (exactly the share, one fen under) and at the extremes. */
static void test_share_at_least(void **state)
{
    (void)state;
    const ms_kernels_t *f = ms_kernels(), *r = ms_kernels_ref();
    uint64_t s = 9;
    enum { N = 4096 };
    int64_t *part = malloc(N * sizeof *part), *total = malloc(N * sizeof *total);
    uint8_t *ff = malloc(N), *fr = malloc(N);
    const int64_t ppms[] = {0, 1, 350000, 500000, 800000, 999999, 1000000};
    for (size_t q = 0; q < sizeof ppms / sizeof *ppms; q++) {
        int64_t ppm = ppms[q];
        for (size_t i = 0; i < N; i++) {
            int kind = (int)(i % 6);
            int64_t t = kind == 0 ? 0 : kind == 1 ? (int64_t)ms_test_below(&s, 1000000)
                      : kind == 2 ? (int64_t)(ms_test_rand(&s) >> 2) : (int64_t)ms_test_below(&s, 100000000000ll);
            __int128 exact = ((__int128)t * ppm + 999999) / 1000000; /* ceil */
            int64_t p = (int64_t)exact - (kind == 3 ? 1 : 0) + (kind == 5 ? (int64_t)ms_test_below(&s, 3) : 0);
            if (p < 0) p = 0;
            part[i] = p;
            total[i] = t;
        }
        f->share_at_least(part, total, N, ppm, ff);
        r->share_at_least(part, total, N, ppm, fr);
        assert_memory_equal(ff, fr, N);
        for (size_t i = 0; i < N; i++) {
            int want = total[i] > 0 && (__int128)part[i] * 1000000 >= (__int128)total[i] * ppm;
            assert_int_equal(fr[i], want);
            assert_int_equal(ms_share_ceil(total[i], ppm) <= part[i], total[i] <= 0 ? ms_share_ceil(total[i], ppm) <= part[i] : want);
        }
    }
    free(part), free(total), free(ff), free(fr);
}

static void test_reference_is_the_definition(void **state)
{
    (void)state;
    const ms_kernels_t *r = ms_kernels_ref();
    int32_t key[] = {3, 3, 1, 3};
    int64_t val[] = {10, -4, 7, 1}, counts[4] = {0}, sums[4] = {0};
    r->count_by_key(key, 4, counts);
    r->sum_by_key(key, val, 4, sums);
    assert_int_equal(counts[3], 3);
    assert_int_equal(counts[1], 1);
    assert_int_equal(sums[3], 7);
    assert_int_equal(sums[1], 7);
    assert_string_equal(r->name, "ref");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_equals_ref),
        cmocka_unit_test(test_share_at_least),
        cmocka_unit_test(test_reference_is_the_definition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
