/*
 * test_kernels.c - every fast kernel equals its reference, exactly, on
 * random and awkward inputs: empty, one row, every run length, one key
 * throughout, alternating keys, keys at both ends of the range, values at
 * the extremes of int64 that cancel; and sums that overflow int64, which
 * both versions report alike (the first row whose add overflowed) and
 * leave with the same values.
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
                /* values >> 3: at most 2^60 each, so some long runs of one
                 * key overflow; both versions say so at the same row. */
                size_t of = f->sum_by_key(key + off, val + off, n, sf);
                size_t orf = r->sum_by_key(key + off, val + off, n, sr);
                assert_int_equal(of, orf);
                f->count_by_key_if(key + off, sel + off, 1, n, if_);
                r->count_by_key_if(key + off, sel + off, 1, n, ir);
                assert_memory_equal(cf, cr, sizeof cf);
                assert_memory_equal(sf, sr, sizeof sf);
                assert_memory_equal(if_, ir, sizeof if_);
                int64_t *d1 = malloc((n + 1) * sizeof *d1), *d2 = malloc((n + 1) * sizeof *d2);
                for (size_t i = 0; i < n; i++) d1[i] = d2[i] = (int64_t)i - 5;
                assert_int_equal(f->add_i64(d1, val + off, n), 0);
                assert_int_equal(r->add_i64(d2, val + off, n), 0);
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

/* The overflow report of the checked sums: exactly INT64_MAX and
 * INT64_MIN are sums, one more is an overflow, at the row where it
 * happens; a later row that brings the sum back does not hide it. */
static void test_sum_overflow_reported(void **state)
{
    (void)state;
    const ms_kernels_t *set[2] = {ms_kernels(), ms_kernels_ref()};
    const int64_t half = INT64_MAX / 2;
    for (int v = 0; v < 2; v++) {
        const ms_kernels_t *k = set[v];
        /* Runs (fast path) and alternating keys (one-row runs). */
        int32_t run[] = {1, 1, 1, 1, 0}, alt[] = {1, 0, 1, 0, 1};
        int64_t val[] = {half, half, 1, 0, 7};
        int64_t sums[2] = {0, 0};
        assert_int_equal(k->sum_by_key(run, val, 5, sums), 0);
        assert_int_equal(sums[1], INT64_MAX);
        assert_int_equal(sums[0], 7);
        int64_t one[] = {1};
        int32_t key1[] = {1};
        assert_int_equal(k->sum_by_key(key1, one, 1, sums), 1);
        assert_int_equal(sums[1], INT64_MIN); /* wrapped */
        /* The defect: two amounts of 5 x 10^18 fen at one institution. */
        int64_t huge[] = {5000000000000000000ll, 5000000000000000000ll, -5000000000000000000ll};
        int32_t same[] = {3, 3, 3};
        int64_t s4[4] = {0};
        assert_int_equal(k->sum_by_key(same, huge, 3, s4), 2); /* row 1; row 2 overflows back */
        assert_int_equal(s4[3], 5000000000000000000ll);
        int64_t s2[2] = {0, 0};
        int64_t av[] = {INT64_MIN, 5, -1, 9, 2};
        assert_int_equal(k->sum_by_key(alt, av, 5, s2), 3); /* INT64_MIN + -1 at row 2 */
        /* Several overflows: the first one is reported. */
        int64_t many[] = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX};
        memset(s2, 0, sizeof s2);
        assert_int_equal(k->sum_by_key(alt, many, 5, s2), 3);
        /* add_i64: element-wise. */
        int64_t d[4] = {INT64_MAX - 1, INT64_MIN, 5, INT64_MAX}, src[4] = {1, 0, -5, 0};
        assert_int_equal(k->add_i64(d, src, 4), 0);
        assert_int_equal(d[0], INT64_MAX);
        int64_t src2[4] = {0, -1, 0, 1};
        assert_int_equal(k->add_i64(d, src2, 4), 2);
        assert_int_equal(k->add_i64(d, src2, 0), 0);
    }
}

/* Fast against reference where sums overflow at random places: the same
 * report and the same (wrapped) values, at every length and key pattern. */
static void test_overflow_fast_equals_ref(void **state)
{
    (void)state;
    const ms_kernels_t *f = ms_kernels(), *r = ms_kernels_ref();
    uint64_t s = 77;
    size_t sizes[] = {1, 2, 3, 7, 16, 17, 100, 1000, 4099};
    size_t reported = 0;
    for (size_t a = 0; a < sizeof sizes / sizeof *sizes; a++)
        for (int pattern = 0; pattern < 5; pattern++)
            for (int rep = 0; rep < 4; rep++) {
                size_t n = sizes[a];
                int32_t *key = malloc(n * sizeof *key);
                int64_t *val = malloc(n * sizeof *val), *d1 = malloc(n * sizeof *d1), *d2 = malloc(n * sizeof *d2);
                make_keys(key, n, pattern, &s);
                for (size_t i = 0; i < n; i++) {
                    /* Mostly near the extremes, either sign, some small. */
                    uint64_t x = ms_test_rand(&s);
                    val[i] = ms_test_below(&s, 4) ? (int64_t)(x >> 1) - (int64_t)(x & 1) * INT64_MAX
                                                  : (int64_t)ms_test_below(&s, 1000);
                    d1[i] = d2[i] = (int64_t)(ms_test_rand(&s) >> 1) * (ms_test_below(&s, 2) ? 1 : -1);
                }
                int64_t sf[NKEYS] = {0}, sr[NKEYS] = {0};
                size_t of = f->sum_by_key(key, val, n, sf), orf = r->sum_by_key(key, val, n, sr);
                assert_int_equal(of, orf);
                assert_memory_equal(sf, sr, sizeof sf);
                reported += of != 0;
                size_t af = f->add_i64(d1, val, n), ar = r->add_i64(d2, val, n);
                assert_int_equal(af, ar);
                assert_memory_equal(d1, d2, n * sizeof *d1);
                reported += af != 0;
                /* The report is the first overflowing element: recompute it. */
                size_t want = 0;
                for (size_t i = 0; i < n && !want; i++) {
                    int64_t back = (int64_t)((uint64_t)d2[i] - (uint64_t)val[i]), t;
                    if (__builtin_add_overflow(back, val[i], &t)) want = i + 1;
                }
                assert_int_equal(ar, want);
                free(key), free(val), free(d1), free(d2);
            }
    assert_true(reported > 50); /* the overflow paths did run */
}

static void test_reference_is_the_definition(void **state)
{
    (void)state;
    const ms_kernels_t *r = ms_kernels_ref();
    int32_t key[] = {3, 3, 1, 3};
    int64_t val[] = {10, -4, 7, 1}, counts[4] = {0}, sums[4] = {0};
    r->count_by_key(key, 4, counts);
    assert_int_equal(r->sum_by_key(key, val, 4, sums), 0);
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
        cmocka_unit_test(test_sum_overflow_reported),
        cmocka_unit_test(test_overflow_fast_equals_ref),
        cmocka_unit_test(test_reference_is_the_definition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
