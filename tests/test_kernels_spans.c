/*
 * test_kernels_spans.c - the spans kernels (stays, rolling windows, sorts,
 * ranks) of every set this machine runs equal their references exactly:
 * every length up to twice the widest vector and some large ones, at
 * unaligned starts, on random data and on awkward data (all days equal,
 * stays of 0 to 2 days, settlements exactly on the bounds, the extremes
 * of int32 and uint64, quantities near UINT32_MAX, sorted and reversed
 * input, all values equal).  A few cases computed by hand pin the
 * references themselves.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ms_kernels.h"
#include "ms_testutil.h"

/* Fail with what differed: the set, the case and the length. */
#define CHECK(cond, ...)                                                                                            \
    do {                                                                                                            \
        if (!(cond)) {                                                                                              \
            print_error(__VA_ARGS__);                                                                               \
            fail();                                                                                                 \
        }                                                                                                           \
    } while (0)

/* Lengths: every one up to twice the widest vector (16 int32), then large. */
static const size_t big_lengths[] = {63, 64, 65, 1000, 5000};
#define NSMALL 41
#define NLENGTHS (NSMALL + sizeof big_lengths / sizeof *big_lengths)
static size_t length_at(size_t i) { return i < NSMALL ? i : big_lengths[i - NSMALL]; }

/* The sets to compare: every fast one this machine runs. */
static const ms_kernels_t *set_at(int s) { return ms_kernels_for((ms_isa_t)s); }

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    assert_non_null(p);
    return p;
}

/* --- The first row of each key within each run --- */

/* Runs of lengths 0..40 (so some pass 16, the conflict path's limit) over
 * keys from a pool of `pool` (1: every row repeats; large: all distinct),
 * keys at both ends of int32 among them; compared with the reference for
 * every set, from an unaligned start. */
static void test_firsts_in_runs(void **state)
{
    (void)state;
    uint64_t rnd = 17;
    const int32_t ends[] = {INT32_MIN, INT32_MAX, 0, -1};
    const size_t pools[] = {1, 2, 3, 7, 40, 1000000};
    for (size_t p = 0; p < sizeof pools / sizeof *pools; p++)
        for (size_t off = 0; off < 3; off++) {
            size_t nruns = 120, n = 0;
            uint32_t *start = xmalloc((nruns + 1) * sizeof *start);
            for (size_t r = 0; r < nruns; r++) {
                start[r] = (uint32_t)n;
                n += r < 41 ? r : ms_test_below(&rnd, 24);
            }
            start[nruns] = (uint32_t)n;
            int32_t *key = xmalloc((n + off) * sizeof *key);
            for (size_t i = 0; i < n; i++) {
                uint64_t x = ms_test_below(&rnd, pools[p]);
                key[off + i] = x < 4 && pools[p] > 4 ? ends[x] : (int32_t)x;
            }
            uint8_t *want = xmalloc(n + off), *got = xmalloc(n + off);
            size_t m = ms_kernels_ref()->firsts_in_runs(key + off, start, nruns, want + off);
            for (int st = MS_ISA_PORTABLE; st < MS_ISA_COUNT; st++) {
                const ms_kernels_t *k = set_at(st);
                if (!k) continue;
                memset(got, 0xee, n + off);
                size_t mk = k->firsts_in_runs(key + off, start, nruns, got + off);
                CHECK(mk == m, "firsts_in_runs %s pool %zu: %zu firsts, reference %zu", k->name, pools[p], mk, m);
                CHECK(!memcmp(got + off, want + off, n), "firsts_in_runs %s pool %zu: flags differ", k->name, pools[p]);
                for (size_t i = 0; i < off; i++) CHECK(got[i] == 0xee, "firsts_in_runs %s wrote before its rows", k->name);
            }
            free(start), free(key), free(want), free(got);
        }
}

/* By hand: a person at institutions 5, 5, 9, 5, 9, 2 counts 5, 9 and 2
 * once; the next person's 5 is a first again; an empty run has none; 17
 * rows of one key (past the 16-lane path) have one first. */
static void test_firsts_in_runs_by_hand(void **state)
{
    (void)state;
    int32_t key[6 + 2 + 17] = {5, 5, 9, 5, 9, 2, 5, 5};
    for (int i = 8; i < 25; i++) key[i] = 3;
    const uint32_t start[] = {0, 6, 6, 8, 25};
    const uint8_t want[25] = {1, 0, 1, 0, 0, 1, 1, 0, 1};
    for (int st = MS_ISA_REF; st < MS_ISA_COUNT; st++) {
        const ms_kernels_t *k = set_at(st);
        if (!k) continue;
        uint8_t got[25];
        memset(got, 7, sizeof got);
        assert_int_equal(k->firsts_in_runs(key, start, 4, got), 5);
        assert_memory_equal(got, want, sizeof want);
    }
}

/* --- Visits inside another institution's stay --- */

typedef struct {
    int32_t *inst, *admit, *discharge, *settle;
    uint8_t *stay;
} person_t;

enum { STAY_RANDOM, STAY_SAME_DAY, STAY_SHORT, STAY_ONE_INST, STAY_ON_BOUNDS, STAY_EXTREMES, STAY_EARLY, STAY_PATTERNS };

/* One person's rows, admit ascending, by pattern: random; every row on one
 * day; stays of 0, 1 or 2 days; one institution throughout (overlapping
 * stays there never flag); every settlement on some stay's admit or
 * discharge day (never strictly inside, so nothing flags); days near the
 * ends of int32; settlements up to 20 days before admission (a row
 * admitted on or after a stay's discharge never counts, wherever it
 * settled). */
static void make_person(const person_t *p, size_t n, int pattern, uint64_t *s)
{
    int64_t day = pattern == STAY_EXTREMES ? INT32_MIN : -30; /* stays across day 0 too */
    for (size_t i = 0; i < n; i++) {
        if (pattern != STAY_SAME_DAY) day += (int64_t)ms_test_below(s, 4);
        if (pattern == STAY_EXTREMES && i == n / 2) day = INT32_MAX - 40;
        if (day > INT32_MAX) day = INT32_MAX;
        int64_t len = (int64_t)ms_test_below(s, pattern == STAY_SHORT ? 3 : 15);
        if (day + len > INT32_MAX) len = INT32_MAX - day;
        p->admit[i] = (int32_t)day;
        p->discharge[i] = (int32_t)(day + len);
        p->settle[i] = (int32_t)(day + (int64_t)ms_test_below(s, (uint64_t)len + 1));
        if (pattern == STAY_EARLY) p->settle[i] -= (int32_t)ms_test_below(s, 21);
        p->inst[i] = pattern == STAY_ONE_INST ? 7 : (int32_t)ms_test_below(s, 4);
        if (pattern == STAY_EXTREMES && ms_test_below(s, 4) == 0) p->inst[i] = ms_test_below(s, 2) ? INT32_MIN : INT32_MAX;
        p->stay[i] = (uint8_t)(ms_test_below(s, 3) != 0);
        if (pattern == STAY_ON_BOUNDS) {
            /* Every row a stay from day 100 to 110 (all overlapping), at
             * several institutions, settled on day 100 or 110. */
            p->admit[i] = 100, p->discharge[i] = 110;
            p->settle[i] = ms_test_below(s, 2) ? 100 : 110;
        }
    }
}

static person_t person_alloc(size_t n, size_t off)
{
    person_t p = {xmalloc((n + off) * 4), xmalloc((n + off) * 4), xmalloc((n + off) * 4), xmalloc((n + off) * 4),
                  xmalloc(n + off)};
    p.inst += off, p.admit += off, p.discharge += off, p.settle += off, p.stay += off;
    return p;
}

static void person_free(person_t *p, size_t off)
{
    free(p->inst - off), free(p->admit - off), free(p->discharge - off), free(p->settle - off), free(p->stay - off);
}

static size_t stays(const ms_kernels_t *k, const person_t *p, size_t n, uint8_t *flag)
{
    memset(flag, 0xAA, n); /* every flag must be written */
    return k->inside_other_stay(p->inst, p->admit, p->discharge, p->settle, p->stay, n, flag);
}

static void test_inside_other_stay(void **state)
{
    (void)state;
    uint64_t s = 11;
    size_t flagged = 0, rows = 0; /* the random data flags some, not all */
    for (size_t li = 0; li < NLENGTHS; li++)
        for (int pattern = 0; pattern < STAY_PATTERNS; pattern++)
            for (size_t off = 0; off < 4; off++) {
                size_t n = length_at(li);
                if (n >= 1000 && off > 1) continue; /* the reference is quadratic */
                person_t p = person_alloc(n, off);
                make_person(&p, n, pattern, &s);
                uint8_t *fr = (uint8_t *)xmalloc(n + 3) + off, *ff = (uint8_t *)xmalloc(n + 3) + off;
                size_t mr = stays(ms_kernels_ref(), &p, n, fr);
                if (pattern == STAY_ONE_INST || pattern == STAY_ON_BOUNDS) assert_int_equal(mr, 0);
                if (pattern == STAY_RANDOM) flagged += mr, rows += n;
                for (int set = MS_ISA_PORTABLE; set < MS_ISA_COUNT; set++) {
                    const ms_kernels_t *k = set_at(set);
                    if (!k) continue;
                    size_t mf = stays(k, &p, n, ff);
                    CHECK(mf == mr && (!n || !memcmp(ff, fr, n)), "inside_other_stay %s: n %zu pattern %d off %zu: %zu flagged, ref %zu\n",
                          k->name, n, pattern, off, mf, mr);
                }
                free(fr - off), free(ff - off);
                person_free(&p, off);
            }
    assert_true(flagged > rows / 10 && flagged < rows / 10 * 9);
}

/* By hand: a 10-day stay (days 0 to 10) at institution 1 and a visit at
 * institution 2 settled on day 5 flags the stay, and only the stay. */
static void test_inside_other_stay_by_hand(void **state)
{
    (void)state;
    /* row:             0   1   2   3   4 */
    int32_t inst[] = {1, 2, 1, 3, 2};
    int32_t admit[] = {0, 0, 3, 5, 10};
    int32_t dis[] = {10, 0, 4, 5, 12};
    int32_t settle[] = {10, 0, 5, 5, 11};
    uint8_t stay[] = {1, 0, 1, 0, 1};
    /* Row 0 (stay 0..10, inst 1): row 3 (inst 3, settled 5) is inside;
     * row 1 settles on its admit, row 4 is admitted on its discharge.
     * Row 2 (stay 3..4, inst 1): no day strictly inside.
     * Row 4 (stay 10..12, inst 2): nothing settles on day 11 but itself. */
    for (int set = MS_ISA_REF; set < MS_ISA_COUNT; set++) {
        const ms_kernels_t *k = set_at(set);
        if (!k) continue;
        uint8_t flag[5];
        assert_int_equal(k->inside_other_stay(inst, admit, dis, settle, stay, 5, flag), 1);
        assert_memory_equal(flag, ((uint8_t[]){1, 0, 0, 0, 0}), 5);
        /* The visit moved to the stay's institution: no flag. */
        inst[3] = 1;
        assert_int_equal(k->inside_other_stay(inst, admit, dis, settle, stay, 5, flag), 0);
        /* Settled on the discharge day: no flag; one day before: flag. */
        inst[3] = 3, settle[3] = 10;
        assert_int_equal(k->inside_other_stay(inst, admit, dis, settle, stay, 5, flag), 0);
        settle[3] = 9;
        assert_int_equal(k->inside_other_stay(inst, admit, dis, settle, stay, 5, flag), 1);
        /* Row 4, admitted on the discharge day, settled inside the stay
         * (before its own admission): it does not count. */
        settle[3] = 10, settle[4] = 5;
        assert_int_equal(k->inside_other_stay(inst, admit, dis, settle, stay, 5, flag), 0);
        /* Row 4 moved to an overlapping stay, days 9 to 12, at the first
         * stay's institution 1: the first stay's settlement (day 10) is
         * inside it, but at the same institution, so no flag.  At
         * institution 2 it is flagged too. */
        settle[3] = 5, admit[4] = 9, inst[4] = 1;
        assert_int_equal(k->inside_other_stay(inst, admit, dis, settle, stay, 5, flag), 1);
        assert_memory_equal(flag, ((uint8_t[]){1, 0, 0, 0, 0}), 5);
        inst[4] = 2;
        assert_int_equal(k->inside_other_stay(inst, admit, dis, settle, stay, 5, flag), 2);
        assert_memory_equal(flag, ((uint8_t[]){1, 0, 0, 0, 1}), 5);
        admit[4] = 10, settle[4] = 11;
    }
}

/* --- Rolling-window sums --- */

enum { WIN_RANDOM, WIN_SAME_DAY, WIN_GAPS, WIN_BIG_QTY, WIN_EXTREMES, WIN_PATTERNS };

/* Days ascending by pattern: random steps of 0 to 3; one day throughout;
 * steps of 0 or 40 (windows empty out); quantities near UINT32_MAX; days
 * from near INT32_MIN to near INT32_MAX. */
static void make_days(int32_t *day, uint32_t *qty, size_t n, int pattern, uint64_t *s)
{
    int64_t d = pattern == WIN_EXTREMES ? INT32_MIN : 0;
    for (size_t i = 0; i < n; i++) {
        if (pattern == WIN_RANDOM || pattern == WIN_BIG_QTY) d += (int64_t)ms_test_below(s, 4);
        if (pattern == WIN_GAPS) d += ms_test_below(s, 2) ? 40 : 0;
        if (pattern == WIN_EXTREMES) d += (int64_t)ms_test_below(s, 3) * (INT32_MAX / 4096);
        day[i] = (int32_t)(d < INT32_MAX ? d : INT32_MAX);
        qty[i] = pattern == WIN_BIG_QTY ? UINT32_MAX - (uint32_t)ms_test_below(s, 3) : (uint32_t)ms_test_below(s, 1000);
    }
}

static void test_window_max_sum(void **state)
{
    (void)state;
    uint64_t s = 12;
    const int64_t windows[] = {-5, 0, 1, 2, 7, 30, 365, (int64_t)1 << 31, (int64_t)1 << 40};
    for (size_t li = 0; li < NLENGTHS; li++)
        for (int pattern = 0; pattern < WIN_PATTERNS; pattern++)
            for (size_t off = 0; off < 4; off++) {
                size_t n = length_at(li);
                if (n >= 1000 && off > 1) continue;
                int32_t *day = xmalloc((n + off) * 4);
                uint32_t *qty = xmalloc((n + off) * 4);
                make_days(day + off, qty + off, n, pattern, &s);
                for (size_t w = 0; w < sizeof windows / sizeof *windows; w++) {
                    uint64_t r = ms_kernels_ref()->window_max_sum(day + off, qty + off, n, windows[w]);
                    for (int set = MS_ISA_PORTABLE; set < MS_ISA_COUNT; set++) {
                        const ms_kernels_t *k = set_at(set);
                        if (!k) continue;
                        uint64_t f = k->window_max_sum(day + off, qty + off, n, windows[w]);
                        CHECK(f == r, "window_max_sum %s: n %zu pattern %d off %zu window %lld: %llu, ref %llu\n", k->name,
                              n, pattern, off, (long long)windows[w], (unsigned long long)f, (unsigned long long)r);
                    }
                }
                free(day), free(qty);
            }
}

/* By hand: quantity 10 on days 0, 10, 29, 30.  A 30-day window ending on
 * day 30 holds days after 0 (10, 29, 30): 30; ending on 29, days after -1
 * (0, 10, 29): 30.  31 days hold all four: 40; 20 days two: 20; one day
 * one row.  With quantities 1 2 3 4, 2 and 20 days hold days 29 and 30 at
 * best (7), 21 days also day 10 (9).
 * Three rows of UINT32_MAX on one day sum past 2^32, exactly. */
static void test_window_max_sum_by_hand(void **state)
{
    (void)state;
    const int32_t day[] = {0, 10, 29, 30}, same[] = {5, 5, 5};
    const uint32_t qty[] = {10, 10, 10, 10}, big[] = {UINT32_MAX, UINT32_MAX, UINT32_MAX};
    const uint32_t rising[] = {1, 2, 3, 4};
    for (int set = MS_ISA_REF; set < MS_ISA_COUNT; set++) {
        const ms_kernels_t *k = set_at(set);
        if (!k) continue;
        assert_int_equal(k->window_max_sum(day, qty, 0, 30), 0);
        assert_int_equal(k->window_max_sum(day, qty, 4, 30), 30);
        assert_int_equal(k->window_max_sum(day, qty, 4, 31), 40);
        assert_int_equal(k->window_max_sum(day, qty, 4, 20), 20); /* two rows at most */
        assert_int_equal(k->window_max_sum(day, qty, 4, 1), 10);
        assert_int_equal(k->window_max_sum(day, rising, 4, 2), 7);   /* days 29, 30: 3 + 4 */
        assert_int_equal(k->window_max_sum(day, rising, 4, 20), 7);  /* days after 10: the same */
        assert_int_equal(k->window_max_sum(day, rising, 4, 21), 9);  /* days after 9: 2 + 3 + 4 */
        assert_int_equal(k->window_max_sum(same, big, 3, 1), 3 * (uint64_t)UINT32_MAX);
        assert_int_equal(k->window_max_sum(same, big, 3, 0), 0);
    }
}

/* --- Sorting days --- */

enum {
    SORT_DAYS,      /* a 730-day range (counting sort) */
    SORT_WIDE,      /* all of int32 (four radix passes) */
    SORT_RANGE_4K,  /* ranges either side of the counting sort's 4096 */
    SORT_EXTREMES,  /* INT32_MIN and INT32_MAX and a few between */
    SORT_EQUAL,
    SORT_SORTED,
    SORT_REVERSED,
    SORT_DUPS,      /* few distinct values, far apart */
    SORT_PATTERNS
};

static void make_sort(int32_t *v, size_t n, int pattern, uint64_t *s)
{
    for (size_t i = 0; i < n; i++) {
        switch (pattern) {
        case SORT_DAYS: v[i] = 19000 + (int32_t)ms_test_below(s, 730); break;
        case SORT_WIDE: v[i] = (int32_t)(uint32_t)ms_test_rand(s); break;
        case SORT_RANGE_4K: v[i] = -2000 + (int32_t)ms_test_below(s, 4095 + (uint64_t)(n % 3)); break;
        case SORT_EXTREMES: {
            const int32_t x[] = {INT32_MIN, INT32_MAX, -1, 0, 1, INT32_MIN + 1, INT32_MAX - 1};
            v[i] = x[ms_test_below(s, 7)];
            break;
        }
        case SORT_EQUAL: v[i] = -7; break;
        case SORT_SORTED: v[i] = (int32_t)i * 3 - 50; break;
        case SORT_REVERSED: v[i] = 1000000 - (int32_t)i * 1000; break;
        default: v[i] = (int32_t)ms_test_below(s, 5) * 1000003; break;
        }
    }
}

static void test_sort_i32(void **state)
{
    (void)state;
    uint64_t s = 13;
    for (size_t li = 0; li <= NLENGTHS; li++)
        for (int pattern = 0; pattern < SORT_PATTERNS; pattern++)
            for (size_t off = 0; off < 4; off++) {
                size_t n = li < NLENGTHS ? length_at(li) : 100000;
                int32_t *src = xmalloc((n + off) * 4), *want = xmalloc(n * 4), *got = xmalloc((n + off) * 4);
                int32_t *tmp = xmalloc(n * 4);
                make_sort(src + off, n, pattern, &s);
                if (n) memcpy(want, src + off, n * 4);
                ms_kernels_ref()->sort_i32(want, n, tmp);
                for (int set = MS_ISA_PORTABLE; set < MS_ISA_COUNT; set++) {
                    const ms_kernels_t *k = set_at(set);
                    if (!k) continue;
                    if (n) memcpy(got + off, src + off, n * 4);
                    k->sort_i32(got + off, n, tmp);
                    CHECK(!n || !memcmp(got + off, want, n * 4), "sort_i32 %s: n %zu pattern %d off %zu\n", k->name, n,
                          pattern, off);
                }
                free(src), free(want), free(got), free(tmp);
            }
}

/* By hand: the extremes in order, duplicates kept; a permutation of 100
 * values spread over all of int32 (radix) and of 1000 days (counting)
 * comes back as the values in order. */
static void test_sort_i32_by_hand(void **state)
{
    (void)state;
    for (int set = MS_ISA_REF; set < MS_ISA_COUNT; set++) {
        const ms_kernels_t *k = set_at(set);
        if (!k) continue;
        int32_t v[] = {3, INT32_MIN, INT32_MAX, -1, 0, 3}, tmp[1000];
        k->sort_i32(v, 6, tmp);
        assert_memory_equal(v, ((int32_t[]){INT32_MIN, -1, 0, 3, 3, INT32_MAX}), sizeof v);
        int32_t w[100], d[1000];
        for (int i = 0; i < 100; i++) w[i] = (int32_t)(INT32_MIN + (int64_t)(i * 37 % 100) * 43000000);
        k->sort_i32(w, 100, tmp);
        for (int i = 0; i < 100; i++) assert_int_equal(w[i], (int32_t)(INT32_MIN + (int64_t)i * 43000000));
        for (int i = 0; i < 1000; i++) d[i] = 20000 + i * 333 % 1000;
        k->sort_i32(d, 1000, tmp);
        for (int i = 0; i < 1000; i++) assert_int_equal(d[i], 20000 + i);
    }
}

/* --- Sorting doubles --- */

enum {
    F64_WIDE,      /* any finite bit pattern of either sign */
    F64_SHARES,    /* 0..1, as scoring's values and percentiles */
    F64_ZEROS,     /* -0.0 and +0.0 mixed with a few values */
    F64_EXTREMES,  /* infinities, DBL_MAX, the smallest subnormals */
    F64_SORTED,
    F64_REVERSED,
    F64_PATTERNS
};

static double make_f64(size_t i, size_t n, int pattern, uint64_t *s)
{
    switch (pattern) {
    case F64_WIDE: {
        uint64_t b = ms_test_rand(s);
        double x;
        if ((b >> 52 & 0x7ff) == 0x7ff) b &= ~((uint64_t)1 << 62); /* no NaN, no infinity */
        memcpy(&x, &b, sizeof x);
        return x;
    }
    case F64_SHARES: return (double)ms_test_below(s, 1001) / 1000.0;
    case F64_ZEROS: {
        const double x[] = {-0.0, 0.0, -0.0, 1.5, -1.5, 0.0};
        return x[ms_test_below(s, 6)];
    }
    case F64_EXTREMES: {
        const double x[] = {-1.0 / 0.0, 1.0 / 0.0, 1.7976931348623157e308, -1.7976931348623157e308,
                            4.9406564584124654e-324, -4.9406564584124654e-324, 2.2250738585072014e-308, 0.0, -0.0};
        return x[ms_test_below(s, 9)];
    }
    case F64_SORTED: return (double)i * 0.25 - 100;
    default: return (double)(n - i) * 1e6;
    }
}

static void test_sort_f64(void **state)
{
    (void)state;
    uint64_t s = 29;
    for (size_t li = 0; li <= NLENGTHS; li++)
        for (int pattern = 0; pattern < F64_PATTERNS; pattern++) {
            size_t n = li < NLENGTHS ? length_at(li) : 100000;
            double *src = xmalloc(n * 8 + 8), *want = xmalloc(n * 8 + 8), *got = xmalloc(n * 8 + 8);
            uint64_t *tmp = xmalloc(n * 8 + 8);
            for (size_t i = 0; i < n; i++) src[i] = make_f64(i, n, pattern, &s);
            if (n) memcpy(want, src, n * 8);
            ms_kernels_ref()->sort_f64(want, n, tmp);
            for (size_t i = 0; i < n; i++) {
                assert_false(want[i] == 0 && signbit(want[i])); /* -0.0 written as +0.0 */
                if (i) assert_true(want[i - 1] <= want[i]);
            }
            for (int set = MS_ISA_PORTABLE; set < MS_ISA_COUNT; set++) {
                const ms_kernels_t *k = set_at(set);
                if (!k) continue;
                if (n) memcpy(got, src, n * 8);
                k->sort_f64(got, n, tmp);
                CHECK(!n || !memcmp(got, want, n * 8), "sort_f64 %s: n %zu pattern %d\n", k->name, n, pattern);
            }
            free(src), free(want), free(got), free(tmp);
        }
}

/* --- Nearest ranks --- */

enum { RANK_RANDOM, RANK_DUPS, RANK_EQUAL, RANK_SORTED, RANK_REVERSED, RANK_EXTREMES, RANK_ORGAN, RANK_PATTERNS };

/* Values by pattern: random; few distinct; all equal; sorted; reversed;
 * 0 and UINT64_MAX only; up then down (organ pipe, a classic bad case for
 * median-of-3 pivots). */
static void make_rank(uint64_t *v, size_t n, int pattern, uint64_t *s)
{
    for (size_t i = 0; i < n; i++) {
        switch (pattern) {
        case RANK_RANDOM: v[i] = ms_test_rand(s); break;
        case RANK_DUPS: v[i] = ms_test_below(s, 4) * 1000; break;
        case RANK_EQUAL: v[i] = 77; break;
        case RANK_SORTED: v[i] = i * 5; break;
        case RANK_REVERSED: v[i] = UINT64_MAX - i; break;
        case RANK_EXTREMES: v[i] = ms_test_below(s, 2) ? UINT64_MAX : 0; break;
        default: v[i] = i < n / 2 ? i : n - i; break;
        }
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* rank_u64 of set k on src at the given rank equals the sorted value, and
 * leaves v a permutation of src. */
static void check_rank(const ms_kernels_t *k, const uint64_t *src, const uint64_t *sorted, size_t n, size_t off,
                       size_t rank, int pattern)
{
    uint64_t *v = xmalloc((n + off) * 8);
    memcpy(v + off, src, n * 8);
    uint64_t got = k->rank_u64(v + off, n, rank);
    CHECK(got == sorted[rank - 1], "rank_u64 %s: n %zu rank %zu pattern %d off %zu: %llu, want %llu\n", k->name, n,
          rank, pattern, off, (unsigned long long)got, (unsigned long long)sorted[rank - 1]);
    qsort(v + off, n, 8, cmp_u64);
    CHECK(!memcmp(v + off, sorted, n * 8), "rank_u64 %s: n %zu pattern %d: values not kept\n", k->name, n, pattern);
    free(v);
}

static void test_rank_u64(void **state)
{
    (void)state;
    uint64_t s = 14;
    for (size_t li = 1; li <= NLENGTHS; li++)
        for (int pattern = 0; pattern < RANK_PATTERNS; pattern++) {
            size_t n = li < NLENGTHS ? length_at(li) : 100000;
            uint64_t *src = xmalloc(n * 8), *sorted = xmalloc(n * 8);
            make_rank(src, n, pattern, &s);
            memcpy(sorted, src, n * 8);
            /* The reference's answer is the sorted array's: it is a sort. */
            uint64_t r = ms_kernels_ref()->rank_u64(sorted, n, 1 + n / 2);
            assert_int_equal(r, sorted[n / 2]);
            size_t ranks[] = {1, n, 1 + n / 2, 1 + (size_t)ms_test_below(&s, n), 1 + (n * 9) / 10 - (n >= 10)};
            for (int set = MS_ISA_PORTABLE; set < MS_ISA_COUNT; set++) {
                const ms_kernels_t *k = set_at(set);
                if (!k) continue;
                for (size_t q = 0; q < sizeof ranks / sizeof *ranks; q++)
                    check_rank(k, src, sorted, n, q % 4, ranks[q], pattern);
            }
            free(src), free(sorted);
        }
}

/* By hand: 5 1 4 1 5 9 2 6 sorted is 1 1 2 4 5 5 6 9; 1000 values
 * 1000 down to 1 have rank k at k. */
static void test_rank_u64_by_hand(void **state)
{
    (void)state;
    for (int set = MS_ISA_REF; set < MS_ISA_COUNT; set++) {
        const ms_kernels_t *k = set_at(set);
        if (!k) continue;
        const uint64_t pi[] = {5, 1, 4, 1, 5, 9, 2, 6}, want[] = {1, 1, 2, 4, 5, 5, 6, 9};
        for (size_t r = 1; r <= 8; r++) {
            uint64_t v[8];
            memcpy(v, pi, sizeof v);
            assert_int_equal(k->rank_u64(v, 8, r), want[r - 1]);
        }
        uint64_t one = UINT64_MAX, down[1000];
        assert_int_equal(k->rank_u64(&one, 1, 1), UINT64_MAX);
        for (size_t r = 1; r <= 1000; r += 111) {
            for (size_t i = 0; i < 1000; i++) down[i] = 1000 - i;
            assert_int_equal(k->rank_u64(down, 1000, r), r);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_firsts_in_runs_by_hand),
        cmocka_unit_test(test_firsts_in_runs),
        cmocka_unit_test(test_inside_other_stay_by_hand),
        cmocka_unit_test(test_inside_other_stay),
        cmocka_unit_test(test_window_max_sum_by_hand),
        cmocka_unit_test(test_window_max_sum),
        cmocka_unit_test(test_sort_i32_by_hand),
        cmocka_unit_test(test_sort_i32),
        cmocka_unit_test(test_sort_f64),
        cmocka_unit_test(test_rank_u64_by_hand),
        cmocka_unit_test(test_rank_u64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
