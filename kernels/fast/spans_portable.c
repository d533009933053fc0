/*
 * spans_portable.c - fast versions over a person's history and a key's
 * values in plain C, for any CPU: the base that the x86 sets build on.
 *
 * The references are quadratic (stays, windows) or go through qsort's
 * comparison callback (sorts, ranks); what pays here is the algorithm:
 * early exits on the admit order, two pointers, radix and counting sorts,
 * and a selection instead of a sort.
 */
#include <string.h>

#include "ms_kernels_inline.h"
#include "ms_kernels.h"
#include "ms_kernels_sets.h"

/* --- Visits inside another institution's stay --- */

/* Rows are admit ascending, so once a row is admitted on or after the
 * stay's discharge, no later row can be a hit: the scan over j stops
 * there, and at the first hit.  It goes a block of STAY_BLOCK rows at a
 * time, each block without branches (the compiler vectorises it with the
 * base instruction set), since a branch per row mispredicts.  A stay
 * shorter than two days has no day strictly inside it and needs no scan. */
enum { STAY_BLOCK = 8 };

static inline __attribute__((always_inline)) int stay_hit(const int32_t *inst, const int32_t *admit, const int32_t *settle, size_t n, int32_t a,
                    int32_t d, int32_t k)
{
    size_t j = 0;
    for (; j + STAY_BLOCK <= n; j += STAY_BLOCK) {
        int hit = 0;
        for (size_t b = j; b < j + STAY_BLOCK; b++)
            hit |= (admit[b] < d) & (inst[b] != k) & (settle[b] > a) & (settle[b] < d);
        if (hit) return 1;
        if (admit[j + STAY_BLOCK - 1] >= d) return 0;
    }
    for (; j < n && admit[j] < d; j++)
        if (inst[j] != k && settle[j] > a && settle[j] < d) return 1;
    return 0;
}

static size_t inside_other_stay_scan(const int32_t *inst, const int32_t *admit, const int32_t *discharge,
                                     const int32_t *settle, const uint8_t *stay, size_t n, uint8_t *flag)
{
    return ms_k_inside_other_stay_by(inst, admit, discharge, settle, stay, n, flag, stay_hit);
}

/* --- Rolling-window sums --- */

/* Days ascending, so the rows in the window ending at r are a run [l, r]
 * whose start only moves forward: two pointers and a running sum, O(n).
 * The sum is exact in uint64 (n uint32 quantities), so subtracting the
 * rows that leave it is exact too.  A window of at most 0 days holds no
 * row; one over 2^32 days holds every row (days are int32), which keeps
 * day - window inside int64 for any window. */
static uint64_t window_max_sum_two_ptr(const int32_t *day, const uint32_t *qty, size_t n, int64_t window)
{
    if (window <= 0) return 0;
    if (window > ((int64_t)1 << 33)) window = (int64_t)1 << 33;
    uint64_t best = 0, sum = 0;
    size_t l = 0;
    for (size_t r = 0; r < n; r++) {
        int64_t from = (int64_t)day[r] - window; /* rows with day > from */
        sum += qty[r];
        while ((int64_t)day[l] <= from) sum -= qty[l++];
        if (sum > best) best = sum;
    }
    return best;
}

/* --- Sorting days --- */

enum {
    SORT_SMALL = 32,        /* insertion sort up to here */
    COUNT_RANGE = 4096,     /* counting sort's histogram (16 KiB on the stack) */
};

static void insertion_i32(int32_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        int32_t x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
        v[j] = x;
    }
}

/* Days span a few years: a histogram of the range, then the values
 * written back in order.  range < COUNT_RANGE, n < 2^32. */
static void counting_i32(int32_t *v, size_t n, int32_t lo, uint32_t range)
{
    uint32_t hist[COUNT_RANGE];
    memset(hist, 0, (range + 1) * sizeof *hist);
    for (size_t i = 0; i < n; i++) hist[(uint32_t)v[i] - (uint32_t)lo]++;
    size_t o = 0;
    for (uint32_t b = 0; b <= range; b++)
        for (uint32_t c = hist[b]; c; c--) v[o++] = (int32_t)((uint32_t)lo + b);
}

/* LSD radix sort over the bytes of the offset from the minimum (an
 * unsigned key in the same order as the value), one pass per byte that
 * is not the same for every value: a range of a few years of days sorts
 * in two passes.  All four histograms in one read. */
static void radix_i32(int32_t *v, size_t n, int32_t *tmp, int32_t lo)
{
    size_t hist[4][256];
    memset(hist, 0, sizeof hist);
    for (size_t i = 0; i < n; i++) {
        uint32_t k = (uint32_t)v[i] - (uint32_t)lo;
        hist[0][k & 255]++, hist[1][(k >> 8) & 255]++, hist[2][(k >> 16) & 255]++, hist[3][k >> 24]++;
    }
    int32_t *src = v, *dst = tmp;
    for (int b = 0; b < 4; b++) {
        unsigned shift = 8u * (unsigned)b;
        if (hist[b][(((uint32_t)src[0] - (uint32_t)lo) >> shift) & 255] == n) continue; /* one bucket */
        size_t pos[256], o = 0;
        for (int c = 0; c < 256; c++) pos[c] = o, o += hist[b][c];
        for (size_t i = 0; i < n; i++) {
            uint32_t k = (uint32_t)src[i] - (uint32_t)lo;
            dst[pos[(k >> shift) & 255]++] = src[i];
        }
        int32_t *t = src;
        src = dst, dst = t;
    }
    if (src != v) memcpy(v, src, n * sizeof *v);
}

/* Counting sort when the range is small against n (its histogram walk
 * then costs less than radix's passes), radix sort otherwise. */
static void sort_i32_radix(int32_t *v, size_t n, int32_t *tmp)
{
    if (n <= SORT_SMALL) {
        insertion_i32(v, n);
        return;
    }
    int32_t lo = v[0], hi = v[0];
    for (size_t i = 1; i < n; i++) {
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    uint32_t range = (uint32_t)hi - (uint32_t)lo;
    if (range == 0) return;
    if (range < COUNT_RANGE && range / 4 <= n && n < UINT32_MAX) counting_i32(v, n, lo, range);
    else radix_i32(v, n, tmp, lo);
}

/* --- Sorting doubles --- */

/* A double's bits as an unsigned key in the order of the values (no NaN):
 * a positive one with its sign bit set, a negative one with every bit
 * flipped; -0.0 is taken as +0.0. */
static inline uint64_t f64_key(double x)
{
    uint64_t b;
    x = x == 0 ? 0.0 : x;
    memcpy(&b, &x, sizeof b);
    return b >> 63 ? ~b : b | (uint64_t)1 << 63;
}

static inline double f64_of_key(uint64_t k)
{
    uint64_t b = k >> 63 ? k & ~((uint64_t)1 << 63) : ~k;
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

static void insertion_f64(double *v, size_t n)
{
    if (n) v[0] = v[0] == 0 ? 0.0 : v[0];
    for (size_t i = 1; i < n; i++) {
        double x = v[i] == 0 ? 0.0 : v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
        v[j] = x;
    }
}

/* LSD radix sort of the keys, a byte a pass, passes whose byte every key
 * shares skipped (all eight histograms in one read).  The keys are made in
 * v's own storage and turned back into values at the end. */
typedef uint64_t __attribute__((may_alias)) u64_alias_t; /* v's storage read as keys */

static void sort_f64_radix(double *v, size_t n, uint64_t *tmp)
{
    if (n <= SORT_SMALL) {
        insertion_f64(v, n);
        return;
    }
    size_t hist[8][256];
    memset(hist, 0, sizeof hist);
    u64_alias_t *src = (u64_alias_t *)(void *)v, *dst = tmp;
    for (size_t i = 0; i < n; i++) {
        double x;
        memcpy(&x, &src[i], sizeof x);
        uint64_t k = f64_key(x);
        memcpy(&src[i], &k, sizeof k);
        for (int b = 0; b < 8; b++) hist[b][(k >> (8 * b)) & 255]++;
    }
    for (int b = 0; b < 8; b++) {
        unsigned shift = 8u * (unsigned)b;
        if (hist[b][(src[0] >> shift) & 255] == n) continue; /* one bucket */
        size_t pos[256], o = 0;
        for (int c = 0; c < 256; c++) pos[c] = o, o += hist[b][c];
        for (size_t i = 0; i < n; i++) dst[pos[(src[i] >> shift) & 255]++] = src[i];
        u64_alias_t *t = src;
        src = dst, dst = t;
    }
    u64_alias_t *out = (u64_alias_t *)(void *)v;
    for (size_t i = 0; i < n; i++) {
        double x = f64_of_key(src[i]);
        memcpy(&out[i], &x, sizeof x);
    }
}

/* --- Nearest ranks --- */

enum { RANK_SMALL = 16 };

static void insertion_u64(uint64_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
        v[j] = x;
    }
}

static void sift_down_u64(uint64_t *v, size_t root, size_t n)
{
    uint64_t x = v[root];
    for (size_t c; (c = 2 * root + 1) < n; root = c) {
        if (c + 1 < n && v[c + 1] > v[c]) c++;
        if (v[c] <= x) break;
        v[root] = v[c];
    }
    v[root] = x;
}

/* The fallback when the pivots keep going wrong: O(n log n) always. */
static void heapsort_u64(uint64_t *v, size_t n)
{
    for (size_t i = n / 2; i-- > 0;) sift_down_u64(v, i, n);
    for (size_t e = n; e-- > 1;) {
        uint64_t t = v[0];
        v[0] = v[e], v[e] = t;
        sift_down_u64(v, 0, e);
    }
}

/* Hoare's partition of v[lo..hi] (hi - lo >= 2) around the median of the
 * first, middle and last: returns j, with v[lo..j] <= pivot <= v[j+1..hi]
 * and lo <= j < hi.  The ordered ends stop both scans without bound
 * checks; equal values are swapped evenly, so all-equal input splits in
 * the middle. */
static size_t partition_u64(uint64_t *v, size_t lo, size_t hi)
{
    size_t mid = lo + (hi - lo) / 2;
    uint64_t t;
    if (v[mid] < v[lo]) t = v[mid], v[mid] = v[lo], v[lo] = t;
    if (v[hi] < v[mid]) {
        t = v[hi], v[hi] = v[mid], v[mid] = t;
        if (v[mid] < v[lo]) t = v[mid], v[mid] = v[lo], v[lo] = t;
    }
    uint64_t p = v[mid];
    size_t i = lo, j = hi;
    for (;;) {
        while (v[++i] < p) {}
        while (v[--j] > p) {}
        if (i >= j) return j;
        t = v[i], v[i] = v[j], v[j] = t;
    }
}

/* Quickselect: keep only the side holding the rank, O(n) expected.  After
 * 2 log2(n) rounds (a bad run of pivots) the rest is heap-sorted, so the
 * worst case stays O(n log n). */
static uint64_t rank_u64_select(uint64_t *v, size_t n, size_t rank)
{
    size_t lo = 0, hi = n - 1, k = rank - 1;
    int budget = 2 * (64 - __builtin_clzll((unsigned long long)n | 1));
    while (hi - lo >= RANK_SMALL) {
        if (budget-- == 0) {
            heapsort_u64(v + lo, hi - lo + 1);
            return v[k];
        }
        size_t j = partition_u64(v, lo, hi);
        if (k <= j) hi = j;
        else lo = j + 1;
    }
    insertion_u64(v + lo, hi - lo + 1);
    return v[k];
}

/* Each run scanned with early exits (ms_kernels_inline.h); the reference
 * always scans every earlier row. */
static size_t firsts_in_runs_scan(const int32_t *key, const uint32_t *start, size_t nruns, uint8_t *first)
{
    size_t m = 0;
    for (size_t r = 0; r < nruns; r++) m += ms_k_firsts_scan(key, start[r], start[r + 1], first);
    return m;
}

void ms_kfill_spans_portable(ms_kernels_t *t)
{
    t->firsts_in_runs = firsts_in_runs_scan;
    t->inside_other_stay = inside_other_stay_scan;
    t->window_max_sum = window_max_sum_two_ptr;
    t->sort_i32 = sort_i32_radix;
    t->sort_f64 = sort_f64_radix;
    t->rank_u64 = rank_u64_select;
}
