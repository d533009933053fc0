/*
 * test_kernels.c - every fast kernel equals its reference, exactly, on
 * random and awkward inputs: empty, one row, every run length, one key
 * throughout, alternating keys, keys at both ends of the range, values at
 * the extremes of int64 that cancel; and sums that overflow int64, which
 * both versions report alike (the first row whose add overflowed) and
 * leave with the same values.  The rows kernels are compared for every
 * set this CPU runs (ms_kernels_for), at every length up to twice the
 * widest vector, at unaligned starts, and with guards past what each may
 * write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* ------------------------------------------------------------------ */
/* The rows kernels of every set against the references.               */

/* What is being compared, printed when a comparison fails. */
static char ctx[200];
#define CASE(...) snprintf(ctx, sizeof ctx, __VA_ARGS__)
#define SAME_INT(got, want)                                                                          \
    do {                                                                                             \
        unsigned long long got_ = (unsigned long long)(got), want_ = (unsigned long long)(want);     \
        if (got_ != want_) fail_msg("%s: %s is %llu, the reference %llu", ctx, #got, got_, want_); \
    } while (0)
#define SAME_MEM(got, want, bytes)                                                          \
    do {                                                                                    \
        size_t bytes_ = (bytes);                                                            \
        if (bytes_ && memcmp((got), (want), bytes_)) fail_msg("%s: %s differs", ctx, #got); \
    } while (0)

/* Lengths: every one up to twice the widest vector (64 bytes of u8: 64
 * rows; 70 covers 16 u32 and 8 u64 lanes many times), then larger ones
 * with odd tails. */
static size_t lengths[80];
static size_t nlengths(void)
{
    static const size_t big[] = {100, 255, 1000, 4099, 65537};
    size_t k = 0;
    for (size_t n = 0; n <= 70; n++) lengths[k++] = n;
    for (size_t i = 0; i < sizeof big / sizeof *big; i++) lengths[k++] = big[i];
    return k;
}

/* The sets above the references that this CPU runs. */
static int fast_sets(const ms_kernels_t *set[MS_ISA_COUNT])
{
    int k = 0;
    for (int s = MS_ISA_PORTABLE; s < MS_ISA_COUNT; s++)
        if (ms_kernels_for((ms_isa_t)s)) set[k++] = ms_kernels_for((ms_isa_t)s);
    assert_true(k >= 1); /* portable always */
    return k;
}

#define GUARD 16
#define CANARY 0xdeadbeefu

static void guard_set(uint32_t *p) { for (int g = 0; g < GUARD; g++) p[g] = CANARY; }
static void guard_check(const uint32_t *p)
{
    for (int g = 0; g < GUARD; g++)
        if (p[g] != CANARY) fail_msg("%s: wrote past its room", ctx);
}

/* Values for sums: 0 large (runs of one key overflow), 1 any int64
 * (overflows everywhere), 2 small (none). */
static int64_t make_val(int pattern, uint64_t *s)
{
    uint64_t x = ms_test_rand(s);
    return pattern == 0 ? (int64_t)x >> 3 : pattern == 1 ? (int64_t)x : (int64_t)(x % 2001) - 1000;
}

/* Counts and sums by key, directly and where a selection column says so. */
static void test_by_key_sets(void **state)
{
    (void)state;
    const ms_kernels_t *set[MS_ISA_COUNT], *r = ms_kernels_ref();
    int ns = fast_sets(set);
    size_t nl = nlengths();
    uint64_t s = 11;
    for (size_t a = 0; a < nl; a++)
        for (size_t off = 0; off < 8; off++)
            for (int pattern = 0; pattern < 5; pattern++) {
                size_t n = lengths[a];
                int32_t *key = malloc((n + 8) * sizeof *key);
                int64_t *val = malloc((n + 8) * sizeof *val);
                uint8_t *sel = malloc(n + 8);
                int vp = (int)((off + (size_t)pattern) % 3);
                make_keys(key + off, n, pattern, &s);
                for (size_t i = 0; i < n; i++) {
                    val[off + i] = make_val(vp, &s);
                    sel[off + i] = (uint8_t)(ms_test_below(&s, 4) == 3 ? 255 : ms_test_below(&s, 3));
                }
                int64_t start[NKEYS];
                for (int k = 0; k < NKEYS; k++) start[k] = vp == 2 ? 0 : (int64_t)ms_test_rand(&s) >> 2;
                for (int v = 0; v < ns; v++) {
                    const ms_kernels_t *f = set[v];
                    int64_t cf[NKEYS] = {0}, cr[NKEYS] = {0}, sf[NKEYS], sr[NKEYS];
                    CASE("%s count_by_key n=%zu off=%zu keys=%d", f->name, n, off, pattern);
                    f->count_by_key(key + off, n, cf);
                    r->count_by_key(key + off, n, cr);
                    SAME_MEM(cf, cr, sizeof cf);
                    CASE("%s sum_by_key n=%zu off=%zu keys=%d vals=%d", f->name, n, off, pattern, vp);
                    memcpy(sf, start, sizeof sf), memcpy(sr, start, sizeof sr);
                    SAME_INT(f->sum_by_key(key + off, val + off, n, sf), r->sum_by_key(key + off, val + off, n, sr));
                    SAME_MEM(sf, sr, sizeof sf);
                    for (int w = 0; w < 3; w++) {
                        uint8_t want = w == 0 ? 1 : w == 1 ? 255 : 0;
                        int64_t iff[NKEYS] = {0}, ir[NKEYS] = {0};
                        CASE("%s count_by_key_if n=%zu off=%zu keys=%d want=%u", f->name, n, off, pattern, want);
                        f->count_by_key_if(key + off, sel + off, want, n, iff);
                        r->count_by_key_if(key + off, sel + off, want, n, ir);
                        SAME_MEM(iff, ir, sizeof iff);
                    }
                }
                free(key), free(val), free(sel);
            }
}

/* Selection patterns: 0 none, 1 all, 2 alternating, 3 random half,
 * 4 sparse, 5 random blocks of matches and misses (whole vectors of
 * each). */
static int make_pick(int pattern, size_t i, uint64_t *s, int *block)
{
    switch (pattern) {
    case 0: return 0;
    case 1: return 1;
    case 2: return (int)(i % 2);
    case 3: return (int)ms_test_below(s, 2);
    case 4: return ms_test_below(s, 40) == 0;
    default:
        if (ms_test_below(s, 24) == 0) *block = !*block;
        return *block;
    }
}

/* Selection vectors from u8 and u32 columns. */
static void test_select_sets(void **state)
{
    (void)state;
    const ms_kernels_t *set[MS_ISA_COUNT], *r = ms_kernels_ref();
    int ns = fast_sets(set);
    size_t nl = nlengths();
    uint64_t s = 12;
    for (size_t a = 0; a < nl; a++)
        for (size_t off = 0; off < 8; off++)
            for (int pattern = 0; pattern < 6; pattern++) {
                size_t n = lengths[a];
                uint8_t *c8 = malloc(n + 8);
                uint32_t *c32 = malloc((n + 8) * sizeof *c32);
                uint32_t *xf = malloc((n + GUARD) * sizeof *xf), *xr = malloc((n + 1) * sizeof *xr);
                /* The wanted value at both ends of the range and between. */
                uint8_t want = off % 3 == 0 ? 0 : off % 3 == 1 ? 255 : 7;
                int block = 0, block32 = 1;
                for (size_t i = 0; i < n; i++) {
                    c8[off + i] = make_pick(pattern, i, &s, &block) ? want : (uint8_t)(want ^ (1u << ms_test_below(&s, 8)));
                    static const uint32_t nz[] = {1, 0x80000000u, UINT32_MAX, 0x100};
                    c32[off + i] = make_pick(pattern, i, &s, &block32) ? nz[ms_test_below(&s, 4)] : 0;
                }
                for (int v = 0; v < ns; v++) {
                    const ms_kernels_t *f = set[v];
                    CASE("%s select_eq_u8 n=%zu off=%zu pattern=%d want=%u", f->name, n, off, pattern, want);
                    guard_set(xf + n);
                    size_t mf = f->select_eq_u8(c8 + off, n, want, xf), mr = r->select_eq_u8(c8 + off, n, want, xr);
                    SAME_INT(mf, mr);
                    SAME_MEM(xf, xr, mr * sizeof *xr);
                    guard_check(xf + n);
                    CASE("%s select_nz_u32 n=%zu off=%zu pattern=%d", f->name, n, off, pattern);
                    guard_set(xf + n);
                    mf = f->select_nz_u32(c32 + off, n, xf), mr = r->select_nz_u32(c32 + off, n, xr);
                    SAME_INT(mf, mr);
                    SAME_MEM(xf, xr, mr * sizeof *xr);
                    guard_check(xf + n);
                }
                free(c8), free(c32), free(xf), free(xr);
            }
}

/* Counts and sums by key over a selection (none, all, alternating,
 * random, sparse, blocks), checked sums overflowing as above. */
static void test_by_key_sel_sets(void **state)
{
    (void)state;
    const ms_kernels_t *set[MS_ISA_COUNT], *r = ms_kernels_ref();
    int ns = fast_sets(set);
    size_t nl = nlengths();
    uint64_t s = 13;
    for (size_t a = 0; a < nl; a++)
        for (int kp = 0; kp < 5; kp++)
            for (int sp = 0; sp < 6; sp++) {
                size_t n = lengths[a], nsel = 0, off = (size_t)(kp + sp) % 8;
                int32_t *key = malloc((n + 8) * sizeof *key);
                int64_t *val = malloc((n + 8) * sizeof *val);
                uint32_t *idx = malloc((n + 8) * sizeof *idx);
                int vp = (kp + sp) % 3, block = 0;
                make_keys(key, n, kp, &s);
                for (size_t i = 0; i < n; i++) {
                    val[i] = make_val(vp, &s);
                    if (make_pick(sp, i, &s, &block)) idx[off + nsel++] = (uint32_t)i;
                }
                int64_t start[NKEYS];
                for (int k = 0; k < NKEYS; k++) start[k] = vp == 2 ? 0 : (int64_t)ms_test_rand(&s) >> 2;
                for (int v = 0; v < ns; v++) {
                    const ms_kernels_t *f = set[v];
                    int64_t cf[NKEYS] = {0}, cr[NKEYS] = {0}, sf[NKEYS], sr[NKEYS];
                    CASE("%s count_by_key_sel n=%zu nsel=%zu keys=%d sel=%d", f->name, n, nsel, kp, sp);
                    f->count_by_key_sel(key, idx + off, nsel, cf);
                    r->count_by_key_sel(key, idx + off, nsel, cr);
                    SAME_MEM(cf, cr, sizeof cf);
                    CASE("%s sum_by_key_sel n=%zu nsel=%zu keys=%d sel=%d vals=%d", f->name, n, nsel, kp, sp, vp);
                    memcpy(sf, start, sizeof sf), memcpy(sr, start, sizeof sr);
                    SAME_INT(f->sum_by_key_sel(key, val, idx + off, nsel, sf), r->sum_by_key_sel(key, val, idx + off, nsel, sr));
                    SAME_MEM(sf, sr, sizeof sf);
                }
                free(key), free(val), free(idx);
            }
}

/* Ids: 0 one id throughout, 1 all distinct, 2 random runs of 1-8,
 * 3 random runs of 1-100, 4 runs differing only in the top bit, 5 runs
 * differing only in the high 32 bits. */
static void make_ids(uint64_t *id, size_t n, int pattern, uint64_t *s)
{
    uint64_t cur = ms_test_rand(s);
    size_t left = 0;
    for (size_t i = 0; i < n; i++) {
        if (pattern == 0) {
            id[i] = UINT64_MAX;
            continue;
        }
        if (pattern == 1) {
            id[i] = i * 0x9e3779b97f4a7c15ull;
            continue;
        }
        if (!left) {
            left = 1 + (size_t)ms_test_below(s, pattern == 3 ? 100 : pattern == 2 ? 8 : 3);
            cur = pattern == 4 ? cur ^ (1ull << 63) : pattern == 5 ? cur + (1ull << 32) : ms_test_rand(s) % 5;
        }
        id[i] = cur;
        left--;
    }
}

static void test_segments_sets(void **state)
{
    (void)state;
    const ms_kernels_t *set[MS_ISA_COUNT], *r = ms_kernels_ref();
    int ns = fast_sets(set);
    size_t nl = nlengths();
    uint64_t s = 14;
    for (size_t a = 0; a < nl; a++)
        for (size_t off = 0; off < 8; off++)
            for (int pattern = 0; pattern < 6; pattern++) {
                size_t n = lengths[a];
                uint64_t *id = malloc((n + 8) * sizeof *id);
                uint32_t *sf = malloc((n + 1 + GUARD) * sizeof *sf), *sr = malloc((n + 1) * sizeof *sr);
                make_ids(id + off, n, pattern, &s);
                for (int v = 0; v < ns; v++) {
                    const ms_kernels_t *f = set[v];
                    CASE("%s segments_u64 n=%zu off=%zu ids=%d", f->name, n, off, pattern);
                    guard_set(sf + n + 1);
                    size_t kf = f->segments_u64(id + off, n, sf), kr = r->segments_u64(id + off, n, sr);
                    SAME_INT(kf, kr);
                    SAME_MEM(sf, sr, (kr + 1) * sizeof *sr);
                    guard_check(sf + n + 1);
                }
                free(id), free(sf), free(sr);
            }
}

/* Element-wise checked adds: 0 small (no overflow), 1 any int64 (early
 * overflows), 2 one overflow at a random element (up, or down), 3 the
 * extremes reached exactly without overflow. */
static void test_add_i64_sets(void **state)
{
    (void)state;
    const ms_kernels_t *set[MS_ISA_COUNT], *r = ms_kernels_ref();
    int ns = fast_sets(set);
    size_t nl = nlengths();
    uint64_t s = 15;
    for (size_t a = 0; a < nl; a++)
        for (size_t off = 0; off < 8; off++)
            for (int pattern = 0; pattern < 4; pattern++) {
                size_t n = lengths[a];
                int64_t *src = malloc((n + 8) * sizeof *src), *d0 = malloc((n + 8) * sizeof *d0);
                int64_t *df = malloc((n + 8) * sizeof *df), *dr = malloc((n + 8) * sizeof *dr);
                size_t bad = n ? (size_t)ms_test_below(&s, n) : 0;
                for (size_t i = 0; i < n; i++) {
                    int64_t x = make_val(2, &s), y = make_val(2, &s);
                    if (pattern == 1) x = (int64_t)ms_test_rand(&s), y = (int64_t)ms_test_rand(&s);
                    if (pattern == 2 && i == bad) x = off % 2 ? INT64_MAX : INT64_MIN, y = off % 2 ? 1 : -1;
                    if (pattern == 3) x = i % 2 ? INT64_MAX - 7 : INT64_MIN + 7, y = i % 2 ? 7 : -7;
                    src[off + i] = y, d0[off + i] = x;
                }
                for (int v = 0; v < ns; v++) {
                    const ms_kernels_t *f = set[v];
                    CASE("%s add_i64 n=%zu off=%zu pattern=%d", f->name, n, off, pattern);
                    memcpy(df, d0, (n + 8) * sizeof *df), memcpy(dr, d0, (n + 8) * sizeof *dr);
                    size_t of = f->add_i64(df + off, src + off, n), orr = r->add_i64(dr + off, src + off, n);
                    SAME_INT(of, orr);
                    SAME_MEM(df, dr, (n + 8) * sizeof *df); /* nothing outside touched either */
                    if (pattern == 2 && n) assert_int_equal(orr, bad + 1);
                }
                free(src), free(d0), free(df), free(dr);
            }
}

/* The exact share test, every set: totals and parts on both sides of
 * 2^43 (the fast path's bound) mixed in one vector, negative ones,
 * boundaries (exactly the share, one fen under) and every ppm extreme. */
static void test_share_sets(void **state)
{
    (void)state;
    const ms_kernels_t *set[MS_ISA_COUNT], *r = ms_kernels_ref();
    int ns = fast_sets(set);
    size_t nl = nlengths();
    uint64_t s = 16;
    const int64_t ppms[] = {0, 1, 350000, 999999, 1000000};
    const int64_t b43 = (int64_t)1 << 43;
    for (size_t a = 0; a < nl; a++)
        for (size_t off = 0; off < 8; off++) {
            size_t n = lengths[a];
            int64_t ppm = ppms[(a + off) % 5];
            int64_t *part = malloc((n + 8) * sizeof *part), *total = malloc((n + 8) * sizeof *total);
            uint8_t *ff = malloc(n + 8 + GUARD), *fr = malloc(n + 8);
            int rare = off % 2; /* half the cases: slow lanes rare, so most vectors take the fast path */
            for (size_t i = 0; i < n; i++) {
                int kind = (int)ms_test_below(&s, rare ? 60 : 12);
                int64_t t = kind == 0 ? 0 : kind == 1 ? -(int64_t)ms_test_below(&s, 1000)
                          : kind == 2 ? b43 - 1 - (int64_t)ms_test_below(&s, 2) : kind == 3 ? b43 + (int64_t)ms_test_below(&s, 2)
                          : kind == 4 ? (int64_t)(ms_test_rand(&s) >> 1)
                          : kind == 5 ? b43 + (int64_t)ms_test_below(&s, 3 * (uint64_t)b43) /* 64-bit products overflow */
                          : (int64_t)ms_test_below(&s, 100000000000ll);
                __int128 exact = ((__int128)t * ppm + 999999) / 1000000;
                int64_t p = (int64_t)exact - (int64_t)ms_test_below(&s, 2);
                if (kind == 6) p = b43 + (int64_t)ms_test_below(&s, 3 * (uint64_t)b43); /* p x 10^6 overflows */
                if (ms_test_below(&s, 16) == 0) p = -p - 1;
                part[off + i] = p, total[off + i] = t;
            }
            for (int v = 0; v < ns; v++) {
                const ms_kernels_t *f = set[v];
                CASE("%s share_at_least n=%zu off=%zu ppm=%lld", f->name, n, off, (long long)ppm);
                memset(ff + off + n, 0xa5, GUARD);
                f->share_at_least(part + off, total + off, n, ppm, ff + off);
                r->share_at_least(part + off, total + off, n, ppm, fr + off);
                SAME_MEM(ff + off, fr + off, n);
                for (int g = 0; g < GUARD; g++)
                    if (ff[off + n + (size_t)g] != 0xa5) fail_msg("%s: wrote past its room", ctx);
            }
            free(part), free(total), free(ff), free(fr);
        }
}

/* The codec's unshuffle: element sizes 1, 2, 3, 4, 8 and 16, every count
 * up to 70, odd large ones, unaligned source and destination. */
static void test_unshuffle_sets(void **state)
{
    (void)state;
    const ms_kernels_t *set[MS_ISA_COUNT], *r = ms_kernels_ref();
    int ns = fast_sets(set);
    size_t nl = nlengths();
    const size_t esizes[] = {1, 2, 3, 4, 8, 16};
    uint64_t s = 17;
    for (size_t e = 0; e < sizeof esizes / sizeof *esizes; e++)
        for (size_t a = 0; a < nl; a++)
            for (size_t off = 0; off < 8; off += 1 + (lengths[a] > 1000)) {
                size_t n = lengths[a] + (lengths[a] > 70 && lengths[a] % 2 == 0), es = esizes[e], bytes = n * es;
                size_t doff = (off * 3) % 8;
                unsigned char *src = malloc(bytes + 8), *df = malloc(bytes + 8 + GUARD), *dr = malloc(bytes + 8);
                for (size_t i = 0; i < bytes; i++) src[off + i] = (unsigned char)ms_test_rand(&s);
                r->unshuffle(src + off, dr + doff, n, es);
                for (int v = 0; v < ns; v++) {
                    const ms_kernels_t *f = set[v];
                    CASE("%s unshuffle n=%zu esize=%zu off=%zu,%zu", f->name, n, es, off, doff);
                    memset(df, 0x5a, bytes + 8); /* not the last set's result */
                    memset(df + doff + bytes, 0xa5, GUARD);
                    f->unshuffle(src + off, df + doff, n, es);
                    SAME_MEM(df + doff, dr + doff, bytes);
                    for (int g = 0; g < GUARD; g++)
                        if (df[doff + bytes + (size_t)g] != 0xa5) fail_msg("%s: wrote past its room", ctx);
                }
                free(src), free(df), free(dr);
            }
}

/* HDF5's Fletcher32, every set: every length up to 1100 bytes (three
 * 360-word blocks and every vector tail), from every address mod 8, on
 * random bytes, all 0xff (the sums wrap), all 0x00, and words on either
 * side of 0x8000 (the vector versions flip their top bit); and HDF5's own
 * values (H5_checksum_fletcher32, taken from libhdf5). */
static void test_fletcher32_sets(void **state)
{
    (void)state;
    const ms_kernels_t *set[MS_ISA_COUNT], *r = ms_kernels_ref();
    int ns = fast_sets(set);
    enum { MAX = 1100 };
    unsigned char *mem = malloc(MAX + 8), *big = malloc(65537 * 8);
    uint64_t s = 18;
    for (int pattern = 0; pattern < 5; pattern++) {
        for (size_t i = 0; i < MAX + 8; i++)
            mem[i] = pattern <= 1 ? (unsigned char)ms_test_rand(&s) : pattern == 2 ? 0xff : pattern == 3 ? 0x00
                   : (unsigned char)(i % 4 < 2 ? (i % 2 ? 0xff : 0x7f) : (i % 2 ? 0 : 0x80));
        for (size_t off = 0; off < 8; off++)
            for (size_t len = 0; len <= MAX; len++) {
                uint32_t want = r->fletcher32(mem + off, len);
                for (int v = 0; v < ns; v++) {
                    CASE("%s fletcher32 len=%zu off=%zu pattern=%d", set[v]->name, len, off, pattern);
                    SAME_INT(set[v]->fletcher32(mem + off, len), want);
                }
            }
    }
    for (size_t i = 0; i < 65537 * 8; i++) big[i] = (unsigned char)ms_test_rand(&s);
    unsigned char b[1101];
    for (size_t i = 0; i < sizeof b; i++) b[i] = (unsigned char)(i * 7 + 3);
    const ms_kernels_t *all[MS_ISA_COUNT + 1] = {r};
    for (int v = 0; v < ns; v++) all[v + 1] = set[v];
    for (int v = 0; v <= ns; v++) {
        const ms_kernels_t *f = all[v];
        CASE("%s fletcher32 of HDF5's values", f->name);
        SAME_INT(f->fletcher32("abcde", 5), 0x4ff029c7);
        SAME_INT(f->fletcher32("abcdef", 6), 0x50562a2d);
        SAME_INT(f->fletcher32(b, 720), 0xad72d1aa);
        SAME_INT(f->fletcher32(b, 1100), 0x4adaf501);
        SAME_INT(f->fletcher32(b, 1101), 0x56dc0c02);
        CASE("%s fletcher32 of 512 KiB", f->name);
        SAME_INT(f->fletcher32(big + 1, 65537 * 8 - 1), r->fletcher32(big + 1, 65537 * 8 - 1));
    }
    free(mem), free(big);
}

/* The set names: each parses back to its set; unknown names do not; the
 * tables carry their names.  MS_KERNELS is read by ms_kernels_env_check
 * on every call: an unknown name is refused with a message naming it, a
 * set this CPU runs is accepted, and unset is fine. */
static void test_isa_names_and_env(void **state)
{
    (void)state;
    for (int s = 0; s < MS_ISA_COUNT; s++) {
        assert_int_equal(ms_isa_parse(ms_isa_name((ms_isa_t)s)), s);
        const ms_kernels_t *k = ms_kernels_for((ms_isa_t)s);
        if (k) assert_string_equal(k->name, ms_isa_name((ms_isa_t)s));
    }
    assert_int_equal(ms_isa_parse("nonsense"), -1);
    assert_int_equal(ms_isa_parse(""), -1);
    assert_int_equal(ms_isa_parse("AVX2"), -1);
    assert_string_equal(ms_isa_name(MS_ISA_COUNT), "?");
    assert_non_null(ms_kernels_for(MS_ISA_REF));
    assert_non_null(ms_kernels_for(MS_ISA_PORTABLE));
    assert_null(ms_kernels_for(MS_ISA_COUNT));
    assert_non_null(ms_kernels_for(ms_isa_best()));
    assert_ptr_equal(ms_kernels_for(MS_ISA_REF)->count_by_key, ms_kernels_ref()->count_by_key);

    const char *old = getenv("MS_KERNELS");
    char *saved = old ? strdup(old) : NULL;
    char msg[256] = "";
    setenv("MS_KERNELS", "nonsense", 1);
    assert_int_equal(ms_kernels_env_check(msg, sizeof msg), -1);
    ms_test_contains(msg, "nonsense");
    ms_test_contains(msg, "not a kernel set");
    for (int s = 0; s < MS_ISA_COUNT; s++) {
        setenv("MS_KERNELS", ms_isa_name((ms_isa_t)s), 1);
        msg[0] = 0;
        int rc = ms_kernels_env_check(msg, sizeof msg);
        if (ms_kernels_for((ms_isa_t)s)) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, -1);
            ms_test_contains(msg, "cannot run");
        }
    }
    unsetenv("MS_KERNELS");
    assert_int_equal(ms_kernels_env_check(msg, sizeof msg), 0);
    if (saved) setenv("MS_KERNELS", saved, 1);
    free(saved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_equals_ref),
        cmocka_unit_test(test_share_at_least),
        cmocka_unit_test(test_sum_overflow_reported),
        cmocka_unit_test(test_overflow_fast_equals_ref),
        cmocka_unit_test(test_reference_is_the_definition),
        cmocka_unit_test(test_by_key_sets),
        cmocka_unit_test(test_select_sets),
        cmocka_unit_test(test_by_key_sel_sets),
        cmocka_unit_test(test_segments_sets),
        cmocka_unit_test(test_add_i64_sets),
        cmocka_unit_test(test_share_sets),
        cmocka_unit_test(test_unshuffle_sets),
        cmocka_unit_test(test_fletcher32_sets),
        cmocka_unit_test(test_isa_names_and_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
