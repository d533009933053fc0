/*
 * bench_kernels.c - every kernel of the dispatch table (kernels/ms_kernels.h)
 * for every instruction set this CPU runs, at working sets that fit L1, L2,
 * L3 and one that lives in memory: records/s and input bytes/s, the
 * reference's figure beside it with the ratio, and the fraction of the
 * machine's practical read bandwidth the kernel reaches, that bandwidth
 * being a streaming read (sum of uint64 words) of the same number of bytes
 * measured in the same run at the same size.
 *
 * What a model developer wants to know is whether a fast version is worth
 * its code, and how far it is from what the memory lets it do: x ref says
 * the first, % of stream the second (a kernel at 90% of the stream is done;
 * one at 5% of the stream on a dense column has room to go).
 *
 * Inputs follow the models (docs/models.md) and are generated before the
 * clock starts, from a fixed seed: institution ids in runs of 1-8 (rows
 * sorted by person), visit types with ~3% inpatient stays, doctor ids known
 * on ~70% of rows, person ids in runs of 1-20, amounts in fen under 10^9,
 * shares near the threshold, per-person histories (5-40 rows, ~10% stays)
 * and per-drug histories (4-100 lines over 730 days).  The kernels that
 * work on one person or one history (inside_other_stay, window_max_sum:
 * their references are quadratic in the history's length) are called once
 * per history over the whole array, as the models call them, so that their
 * records/s compare with the others'.
 *
 * Before any timing, every set's result is checked against the reference's
 * on the smallest working set: a benchmark must not time a wrong kernel.
 *
 *   bench_kernels [--kernel NAME[,NAME]]... [--isa LIST] [--sizes l1,l2,l3,mem]
 *                 [--repeat N] [--max-bytes N] [--caches L1,L2,L3] [--seed N] [--json]
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define STREAM_X86 1
#endif

#include "ms_bench.h"
#include "ms_kernels.h"

#define NKEYS 1000        /* institutions of a batch: the count table is 8 KB, so it fits L1 beside the input */
#define MAXREP 99
#define SAMPLE_S 0.010    /* one timed call of fn loops the kernel for about this long: a clock read
                           * costs tens of ns, an L1-sized call a few microseconds */
#define CALL_BUDGET_S 0.25 /* a kernel called per history (a quadratic reference) or n log n (sort,
                            * rank) whose one call would take longer is timed on a prefix of its
                            * input, reported per record, and the row says so */
#define PROBE_N 65536      /* ... estimated from a call on this many records */
#define BIG_BYTES ((size_t)64 << 20) /* one call over this much lasts long enough for the clock */
#define MIN_BYTES 4096

static volatile uint64_t sink; /* every result ends here, so no call is optimised away */

/* ------------------------------------------------------------------ */
/* Deterministic data: splitmix64 (ms_bench_scramble is its finaliser). */

typedef struct {
    uint64_t s;
} rng_t;

static uint64_t rnd(rng_t *r)
{
    r->s += 0x9e3779b97f4a7c15ull;
    return ms_bench_scramble(r->s);
}

static uint64_t below(rng_t *r, uint64_t m) { return rnd(r) % m; }

/* One input, with room for every kernel's columns; only those of the
 * kernel being measured are allocated. */
typedef struct {
    size_t n;       /* records of one call over the whole input */
    size_t n_run;   /* rows one call processes: n, or a prefix when time-capped */
    size_t nsel;    /* selected rows (the *_sel kernels) */
    size_t ws;      /* bytes of the arrays the kernel reads: the stream reads as many */
    size_t ngroups; /* persons or histories: rows group[g] .. group[g + 1] - 1 */
    size_t ng_run;  /* the groups one call processes (n_run = group[ng_run]) */
    uint32_t *group;
    int32_t *key;
    int64_t *val, *counts;
    uint8_t *u8, *flag;
    uint32_t *u32, *sel, *idx_out;
    uint64_t *ids, *u64, *u64_orig;
    int64_t *a, *a_orig, *b;
    int32_t *inst, *admit, *discharge, *settle, *day, *i32, *i32_orig, *tmp;
    uint8_t *stay;
    uint32_t *qty;
    unsigned char *raw, *raw_out;
    int64_t ppm, window;
    void *blocks[24];
    int nblocks;
} data_t;

static void *dalloc(data_t *d, size_t bytes)
{
    bytes = (bytes + 63) / 64 * 64;
    if (bytes == 0) bytes = 64;
    void *p = d->nblocks < 24 ? aligned_alloc(64, bytes) : NULL;
    if (!p) {
        fprintf(stderr, "bench_kernels: out of memory (%zu bytes); lower --max-bytes\n", bytes);
        exit(1);
    }
    d->blocks[d->nblocks++] = p;
    return p;
}

static void dfree(data_t *d)
{
    for (int i = 0; i < d->nblocks; i++) free(d->blocks[i]);
    memset(d, 0, sizeof *d);
}

/* Institution ids in runs of 1-8 rows (a person's visits, persons sorted);
 * 40% of runs at the 32 largest institutions, as in a real extract. */
static void gen_keys(rng_t *r, int32_t *key, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint64_t x = rnd(r);
        int32_t k = (x & 0xff) < 102 ? (int32_t)((x >> 8) % 32) : (int32_t)((x >> 16) % NKEYS);
        for (size_t run = 1 + (x >> 40) % 8; run && i < n; run--) key[i++] = k;
    }
}

/* An amount in fen under 10^9, spread over orders of magnitude. */
static int64_t gen_money(rng_t *r)
{
    static const int64_t p10[] = {1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};
    uint64_t x = rnd(r);
    return (int64_t)((x >> 8) % (uint64_t)p10[x % 7]);
}

/* Visit types (io/ms_schema.h): 1 inpatient ~3%, 2 pharmacy ~7%, 0
 * outpatient; four rows from one draw (the mem input has 256 M of them). */
static void gen_visits(rng_t *r, uint8_t *vt, size_t n)
{
    for (size_t i = 0; i < n; i += 4) {
        uint64_t x = rnd(r);
        for (size_t j = 0; j < 4 && i + j < n; j++) {
            uint64_t v = (x >> (16 * j) & 0xffff) % 1000;
            vt[i + j] = v < 30 ? 1 : v < 100 ? 2 : 0;
        }
    }
}

/* Groups of lo..hi rows (the last one cut at n). */
static void gen_groups(data_t *d, rng_t *r, size_t lo, size_t hi)
{
    d->group = dalloc(d, (d->n / lo + 2) * sizeof *d->group);
    size_t g = 0, i = 0;
    while (i < d->n) {
        d->group[g++] = (uint32_t)i;
        i += lo + below(r, hi - lo + 1);
    }
    d->group[g] = (uint32_t)d->n;
    d->ngroups = g;
}

/* ------------------------------------------------------------------ */
/* The kernels: how to make an input of n records, call the kernel once over
 * it, and say what it wrote (for the check against the reference). */

enum { CAP_NONE, CAP_GROUPS, CAP_NLOGN };

typedef struct {
    const char *what;
    const void *p;
    size_t len, esize;
} region_t;

typedef struct {
    const char *name;
    size_t slot;          /* offsetof the member in ms_kernels_t: same pointer, same code */
    double ws_per_rec;    /* bytes of input arrays per row: sizes the input to a working set */
    double bytes_per_rec; /* input bytes read per record: bytes/s */
    int on_sel;           /* a record is a selected row (nsel per call), not a row */
    int capped;           /* may be timed on a prefix: CAP_GROUPS (per history) or CAP_NLOGN */
    const char *doc;      /* what a record is, what is counted as read */
    void (*make)(data_t *d, rng_t *r);
    void (*reset)(data_t *d); /* before a checked call: accumulators zero, inputs restored, outputs poisoned */
    void (*prep)(data_t *d);  /* before each timed call (outside the clock): restore what the kernel reorders */
    uint64_t (*run)(const ms_kernels_t *k, data_t *d);
    int (*outs)(data_t *d, uint64_t ret, region_t *o);
} spec_t;

static void reset_counts(data_t *d) { memset(d->counts, 0, NKEYS * sizeof *d->counts); }

static void make_count_by_key(data_t *d, rng_t *r)
{
    d->key = dalloc(d, d->n * sizeof *d->key);
    d->counts = dalloc(d, NKEYS * sizeof *d->counts);
    gen_keys(r, d->key, d->n);
    reset_counts(d);
    d->ws = d->n * 4;
}
static uint64_t run_count_by_key(const ms_kernels_t *k, data_t *d)
{
    k->count_by_key(d->key, d->n, d->counts);
    return (uint64_t)d->counts[d->key[0]];
}
static int outs_counts(data_t *d, uint64_t ret, region_t *o)
{
    (void)ret;
    o[0] = (region_t){"counts", d->counts, NKEYS * sizeof *d->counts, 8};
    return 1;
}

static void make_sum_by_key(data_t *d, rng_t *r)
{
    make_count_by_key(d, r);
    d->val = dalloc(d, d->n * sizeof *d->val);
    for (size_t i = 0; i < d->n; i++) d->val[i] = gen_money(r);
    d->ws = d->n * 12;
}
static uint64_t run_sum_by_key(const ms_kernels_t *k, data_t *d)
{
    return k->sum_by_key(d->key, d->val, d->n, d->counts);
}

/* Rows counted about half the time, at random: the volume model's count
 * of a person's first visit of each institution (and its outpatient
 * visits), where a branch on the selection mispredicts. */
static void make_count_by_key_if(data_t *d, rng_t *r)
{
    make_count_by_key(d, r);
    d->u8 = dalloc(d, d->n);
    for (size_t i = 0; i < d->n; i++) d->u8[i] = (uint8_t)(rnd(r) >> 63);
    d->ws = d->n * 5;
}
static uint64_t run_count_by_key_if(const ms_kernels_t *k, data_t *d)
{
    k->count_by_key_if(d->key, d->u8, 1, d->n, d->counts);
    return (uint64_t)d->counts[d->key[0]];
}

static void make_select_eq_u8(data_t *d, rng_t *r)
{
    d->u8 = dalloc(d, d->n);
    /* Room for n, as the contract says; only the ~3% selected are written,
     * so the untouched pages of a large input cost nothing. */
    d->idx_out = dalloc(d, d->n * sizeof *d->idx_out);
    gen_visits(r, d->u8, d->n);
    d->ws = d->n;
}
static void reset_idx_out(data_t *d) { memset(d->idx_out, 0xa5, d->n * sizeof *d->idx_out); }
static uint64_t run_select_eq_u8(const ms_kernels_t *k, data_t *d)
{
    return k->select_eq_u8(d->u8, d->n, 1, d->idx_out);
}
static int outs_select(data_t *d, uint64_t ret, region_t *o)
{
    if (ret > d->n) return 0;
    o[0] = (region_t){"idx", d->idx_out, (size_t)ret * sizeof *d->idx_out, 4};
    return 1;
}

/* Doctor ids, known (non-zero) on ~70% of rows. */
static void gen_doctors(rng_t *r, uint32_t *doc, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t x = rnd(r);
        doc[i] = (x & 0xffff) % 100 < 70 ? (uint32_t)(1 + (x >> 16) % 50000) : 0;
    }
}

static void make_select_nz_u32(data_t *d, rng_t *r)
{
    d->u32 = dalloc(d, d->n * sizeof *d->u32);
    d->idx_out = dalloc(d, d->n * sizeof *d->idx_out);
    gen_doctors(r, d->u32, d->n);
    d->ws = d->n * 4;
}
static uint64_t run_select_nz_u32(const ms_kernels_t *k, data_t *d)
{
    return k->select_nz_u32(d->u32, d->n, d->idx_out);
}

/* count_by_key_sel over the rows with a known doctor (~70%, model_overload). */
static void make_count_by_key_sel(data_t *d, rng_t *r)
{
    make_count_by_key(d, r);
    uint32_t *doc = malloc(d->n * sizeof *doc);
    d->sel = dalloc(d, d->n * sizeof *d->sel);
    if (!doc) {
        fprintf(stderr, "bench_kernels: out of memory\n");
        exit(1);
    }
    gen_doctors(r, doc, d->n);
    d->nsel = ms_kernels_ref()->select_nz_u32(doc, d->n, d->sel);
    free(doc);
    d->ws = d->n * 4 + d->nsel * 4;
}
static uint64_t run_count_by_key_sel(const ms_kernels_t *k, data_t *d)
{
    k->count_by_key_sel(d->key, d->sel, d->nsel, d->counts);
    return (uint64_t)d->counts[d->key[0]];
}

/* sum_by_key_sel over the inpatient stays (~3%): the amounts of the stays
 * per institution. */
static void make_sum_by_key_sel(data_t *d, rng_t *r)
{
    make_sum_by_key(d, r);
    uint8_t *vt = malloc(d->n);
    d->sel = dalloc(d, d->n * sizeof *d->sel);
    if (!vt) {
        fprintf(stderr, "bench_kernels: out of memory\n");
        exit(1);
    }
    gen_visits(r, vt, d->n);
    d->nsel = ms_kernels_ref()->select_eq_u8(vt, d->n, 1, d->sel);
    free(vt);
    d->ws = d->n * 12 + d->nsel * 4;
}
static uint64_t run_sum_by_key_sel(const ms_kernels_t *k, data_t *d)
{
    return k->sum_by_key_sel(d->key, d->val, d->sel, d->nsel, d->counts);
}

/* Person ids ascending, in runs of 1-20 rows. */
static void make_segments_u64(data_t *d, rng_t *r)
{
    d->ids = dalloc(d, d->n * sizeof *d->ids);
    d->idx_out = dalloc(d, (d->n + 1) * sizeof *d->idx_out);
    uint64_t id = 110101190001010000ull;
    size_t i = 0;
    while (i < d->n) {
        uint64_t x = rnd(r);
        id += 1 + (x >> 8) % 1000;
        for (size_t run = 1 + x % 20; run && i < d->n; run--) d->ids[i++] = id;
    }
    d->ws = d->n * 8;
}
static void reset_segments(data_t *d) { memset(d->idx_out, 0xa5, (d->n + 1) * sizeof *d->idx_out); }
static uint64_t run_segments_u64(const ms_kernels_t *k, data_t *d)
{
    return k->segments_u64(d->ids, d->n, d->idx_out);
}
static int outs_segments(data_t *d, uint64_t ret, region_t *o)
{
    if (ret > d->n) return 0;
    o[0] = (region_t){"start", d->idx_out, ((size_t)ret + 1) * sizeof *d->idx_out, 4};
    return 1;
}

static void make_add_i64(data_t *d, rng_t *r)
{
    d->a = dalloc(d, d->n * sizeof *d->a);
    d->a_orig = dalloc(d, d->n * sizeof *d->a_orig);
    d->b = dalloc(d, d->n * sizeof *d->b);
    for (size_t i = 0; i < d->n; i++) {
        d->a_orig[i] = d->a[i] = gen_money(r);
        d->b[i] = gen_money(r);
    }
    d->ws = d->n * 16;
}
static void reset_add_i64(data_t *d) { memcpy(d->a, d->a_orig, d->n * sizeof *d->a); }
/* Timed calls keep adding into dst: at most ~10^9 per call, so int64 holds
 * ~10^10 calls, more than any run makes. */
static uint64_t run_add_i64(const ms_kernels_t *k, data_t *d) { return k->add_i64(d->a, d->b, d->n); }
static int outs_add_i64(data_t *d, uint64_t ret, region_t *o)
{
    (void)ret;
    o[0] = (region_t){"dst", d->a, d->n * sizeof *d->a, 8};
    return 1;
}

/* part within a few fen of the threshold's ceiling (a 30% share), ~1% of
 * totals zero: the exact comparison decides every row. */
static void make_share_at_least(data_t *d, rng_t *r)
{
    d->a = dalloc(d, d->n * sizeof *d->a);
    d->b = dalloc(d, d->n * sizeof *d->b);
    d->flag = dalloc(d, d->n);
    d->ppm = 300000;
    for (size_t i = 0; i < d->n; i++) {
        int64_t total = below(r, 100) ? gen_money(r) : 0;
        int64_t part = ms_share_ceil(total, d->ppm) + (int64_t)below(r, 5) - 2;
        d->b[i] = total;
        d->a[i] = part < 0 ? 0 : part > total ? total : part;
    }
    d->ws = d->n * 16;
}
static void reset_flag(data_t *d) { memset(d->flag, 0xa5, d->n); }
static uint64_t run_share_at_least(const ms_kernels_t *k, data_t *d)
{
    k->share_at_least(d->a, d->b, d->n, d->ppm, d->flag);
    return d->flag[0] | (uint64_t)d->flag[d->n - 1] << 1;
}
static int outs_flag(data_t *d, uint64_t ret, region_t *o)
{
    (void)ret;
    o[0] = (region_t){"flag", d->flag, d->n, 1};
    return 1;
}

/* A chunk of 8-byte elements as HDF5's shuffle filter stored it. */
static void make_raw(data_t *d, rng_t *r)
{
    d->raw = dalloc(d, d->n * 8);
    for (size_t i = 0; i < d->n; i++) {
        uint64_t x = rnd(r);
        memcpy(d->raw + i * 8, &x, 8);
    }
    d->ws = d->n * 8;
}
static void make_unshuffle(data_t *d, rng_t *r)
{
    make_raw(d, r);
    d->raw_out = dalloc(d, d->n * 8);
}
static void reset_unshuffle(data_t *d) { memset(d->raw_out, 0xa5, d->n * 8); }
static uint64_t run_unshuffle(const ms_kernels_t *k, data_t *d)
{
    k->unshuffle(d->raw, d->raw_out, d->n, 8);
    return d->raw_out[0];
}
static int outs_unshuffle(data_t *d, uint64_t ret, region_t *o)
{
    (void)ret;
    o[0] = (region_t){"dst", d->raw_out, d->n * 8, 8};
    return 1;
}

static uint64_t run_fletcher32(const ms_kernels_t *k, data_t *d) { return k->fletcher32(d->raw, d->n * 8); }

/* Persons of 1-20 rows at 1-4 institutions: each one's distinct
 * institutions (the volume model's persons), one call over every run. */
static void make_firsts_in_runs(data_t *d, rng_t *r)
{
    d->inst = dalloc(d, d->n * 4);
    d->flag = dalloc(d, d->n);
    gen_groups(d, r, 1, 20);
    for (size_t g = 0; g < d->ngroups; g++) {
        int32_t insts[4];
        size_t ninst = 1 + below(r, 4);
        for (size_t j = 0; j < 4; j++) insts[j] = (int32_t)below(r, NKEYS);
        for (size_t i = d->group[g]; i < d->group[g + 1]; i++) d->inst[i] = insts[below(r, ninst)];
    }
    d->ws = d->n * 5 + d->ngroups * 4;
}
static uint64_t run_firsts_in_runs(const ms_kernels_t *k, data_t *d)
{
    return k->firsts_in_runs(d->inst, d->group, d->ng_run, d->flag);
}

/* Persons of 5-40 rows at 1-3 institutions, admit ascending, ~10% stays of
 * 1-20 days settled at discharge, other visits settled within 2 days: some
 * visits fall inside another institution's stay. */
static void make_inside_other_stay(data_t *d, rng_t *r)
{
    size_t n = d->n;
    d->inst = dalloc(d, n * 4);
    d->admit = dalloc(d, n * 4);
    d->discharge = dalloc(d, n * 4);
    d->settle = dalloc(d, n * 4);
    d->stay = dalloc(d, n);
    d->flag = dalloc(d, n);
    gen_groups(d, r, 5, 40);
    for (size_t g = 0; g < d->ngroups; g++) {
        int32_t insts[3];
        size_t ninst = 1 + below(r, 3);
        for (size_t j = 0; j < 3; j++) insts[j] = (int32_t)below(r, NKEYS);
        int32_t day = 20000 + (int32_t)below(r, 100);
        for (size_t i = d->group[g]; i < d->group[g + 1]; i++) {
            day += (int32_t)below(r, 20);
            int stay = below(r, 10) == 0;
            d->inst[i] = insts[below(r, ninst)];
            d->admit[i] = day;
            d->stay[i] = (uint8_t)stay;
            d->discharge[i] = stay ? day + 1 + (int32_t)below(r, 20) : day;
            d->settle[i] = stay ? d->discharge[i] : day + (int32_t)below(r, 3);
        }
    }
    d->ws = n * 17;
}
static uint64_t run_inside_other_stay(const ms_kernels_t *k, data_t *d)
{
    uint64_t m = 0;
    for (size_t g = 0; g < d->ng_run; g++) {
        size_t s = d->group[g], len = d->group[g + 1] - s;
        m += k->inside_other_stay(d->inst + s, d->admit + s, d->discharge + s, d->settle + s, d->stay + s, len,
                                  d->flag + s);
    }
    return m;
}

/* Per-drug histories of one buyer: 4-100 lines over 730 days, days
 * ascending, 1-60 units a line; the 30-day window of model_drugs. */
static void make_window_max_sum(data_t *d, rng_t *r)
{
    d->day = dalloc(d, d->n * 4);
    d->qty = dalloc(d, d->n * 4);
    d->window = 30;
    gen_groups(d, r, 4, 100);
    for (size_t g = 0; g < d->ngroups; g++) {
        size_t s = d->group[g], len = d->group[g + 1] - s;
        uint64_t gap = 2 * 730 / len + 1;
        int32_t day = 20000 + (int32_t)below(r, 30);
        for (size_t i = s; i < s + len; i++) {
            d->day[i] = day;
            d->qty[i] = 1 + (uint32_t)below(r, 60);
            day += (int32_t)below(r, gap);
        }
    }
    d->ws = d->n * 8;
}
/* Every history's maximum enters the result, in order: a check that sees
 * each one. */
static uint64_t run_window_max_sum(const ms_kernels_t *k, data_t *d)
{
    uint64_t h = 0;
    for (size_t g = 0; g < d->ng_run; g++) {
        size_t s = d->group[g], len = d->group[g + 1] - s;
        h = (h ^ k->window_max_sum(d->day + s, d->qty + s, len, d->window)) * 0x100000001b3ull;
    }
    return h;
}

/* Days in a 730-day range, in no order. */
static void make_sort_i32(data_t *d, rng_t *r)
{
    d->i32 = dalloc(d, d->n * 4);
    d->i32_orig = dalloc(d, d->n * 4);
    d->tmp = dalloc(d, d->n * 4);
    for (size_t i = 0; i < d->n; i++) d->i32_orig[i] = d->i32[i] = 20000 + (int32_t)below(r, 730);
    d->ws = d->n * 4;
}
static void prep_sort_i32(data_t *d) { memcpy(d->i32, d->i32_orig, d->n_run * 4); }
static uint64_t run_sort_i32(const ms_kernels_t *k, data_t *d)
{
    k->sort_i32(d->i32, d->n_run, d->tmp);
    return (uint64_t)d->i32[d->n_run / 2];
}
static int outs_sort(data_t *d, uint64_t ret, region_t *o)
{
    (void)ret;
    o[0] = (region_t){"v", d->i32, d->n_run * 4, 4};
    return 1;
}

/* Random values; the 99th percentile by nearest rank, as model_drugs asks. */
static void make_rank_u64(data_t *d, rng_t *r)
{
    d->u64 = dalloc(d, d->n * 8);
    d->u64_orig = dalloc(d, d->n * 8);
    for (size_t i = 0; i < d->n; i++) d->u64_orig[i] = d->u64[i] = rnd(r);
    d->ws = d->n * 8;
}
static void prep_rank_u64(data_t *d) { memcpy(d->u64, d->u64_orig, d->n_run * 8); }
static uint64_t run_rank_u64(const ms_kernels_t *k, data_t *d)
{
    size_t rank = (d->n_run * 99 + 99) / 100;
    return k->rank_u64(d->u64, d->n_run, rank < 1 ? 1 : rank);
}
/* Shares 0..1 in steps of 10^-6, as scoring sorts a peer group's values
 * and residuals (kept in u64 storage; sorted as doubles in place). */
static void make_sort_f64(data_t *d, rng_t *r)
{
    d->u64 = dalloc(d, d->n * 8);
    d->u64_orig = dalloc(d, d->n * 8);
    d->ids = dalloc(d, d->n * 8);
    for (size_t i = 0; i < d->n; i++) {
        double x = (double)below(r, 1000001) / 1e6;
        memcpy(&d->u64_orig[i], &x, 8);
    }
    memcpy(d->u64, d->u64_orig, d->n * 8);
    d->ws = d->n * 8;
}
static uint64_t run_sort_f64(const ms_kernels_t *k, data_t *d)
{
    k->sort_f64((double *)(void *)d->u64, d->n_run, d->ids);
    return d->u64[d->n_run / 2];
}
static int outs_sort_f64(data_t *d, uint64_t ret, region_t *o)
{
    (void)ret;
    o[0] = (region_t){"v", d->u64, d->n_run * 8, 8};
    return 1;
}
static int outs_none(data_t *d, uint64_t ret, region_t *o)
{
    (void)d, (void)ret, (void)o;
    return 0;
}

#define SLOT(m) offsetof(ms_kernels_t, m)

static const spec_t specs[] = {
    {"count_by_key", SLOT(count_by_key), 4, 4, 0, 0, "a row; reads key (4 B)", make_count_by_key, reset_counts,
     NULL, run_count_by_key, outs_counts},
    {"sum_by_key", SLOT(sum_by_key), 12, 12, 0, 0, "a row; reads key, val (12 B)", make_sum_by_key, reset_counts,
     NULL, run_sum_by_key, outs_counts},
    {"count_by_key_if", SLOT(count_by_key_if), 5, 5, 0, 0, "a row; reads key, flag (5 B); ~50% counted",
     make_count_by_key_if, reset_counts, NULL, run_count_by_key_if, outs_counts},
    {"select_eq_u8", SLOT(select_eq_u8), 1, 1, 0, 0, "a row; reads visit type (1 B); ~3% selected",
     make_select_eq_u8, reset_idx_out, NULL, run_select_eq_u8, outs_select},
    {"select_nz_u32", SLOT(select_nz_u32), 4, 4, 0, 0, "a row; reads doctor id (4 B); ~70% selected",
     make_select_nz_u32, reset_idx_out, NULL, run_select_nz_u32, outs_select},
    {"count_by_key_sel", SLOT(count_by_key_sel), 6.8, 8, 1, 0,
     "a selected row (~70%, known doctor); reads idx, key[idx] (8 B)", make_count_by_key_sel, reset_counts, NULL,
     run_count_by_key_sel, outs_counts},
    {"sum_by_key_sel", SLOT(sum_by_key_sel), 12.12, 16, 1, 0,
     "a selected row (~3%, stays); reads idx, key[idx], val[idx] (16 B)", make_sum_by_key_sel, reset_counts, NULL,
     run_sum_by_key_sel, outs_counts},
    {"segments_u64", SLOT(segments_u64), 8, 8, 0, 0, "a row; reads id (8 B); runs of 1-20", make_segments_u64,
     reset_segments, NULL, run_segments_u64, outs_segments},
    {"add_i64", SLOT(add_i64), 16, 16, 0, 0, "an element; reads dst, src (16 B), writes dst", make_add_i64,
     reset_add_i64, NULL, run_add_i64, outs_add_i64},
    {"share_at_least", SLOT(share_at_least), 16, 16, 0, 0, "a row; reads part, total (16 B), writes a flag",
     make_share_at_least, reset_flag, NULL, run_share_at_least, outs_flag},
    {"unshuffle", SLOT(unshuffle), 8, 8, 0, 0, "an 8-byte element; reads 8 B, writes 8 B", make_unshuffle,
     reset_unshuffle, NULL, run_unshuffle, outs_unshuffle},
    {"fletcher32", SLOT(fletcher32), 8, 8, 0, 0, "8 bytes of the chunk; reads 8 B", make_raw, NULL, NULL,
     run_fletcher32, outs_none},
    {"firsts_in_runs", SLOT(firsts_in_runs), 5, 5, 0, CAP_GROUPS,
     "a row of a person (1-20 rows at 1-4 institutions); reads key (4 B), writes a flag", make_firsts_in_runs,
     reset_flag, NULL, run_firsts_in_runs, outs_flag},
    {"inside_other_stay", SLOT(inside_other_stay), 17, 17, 0, CAP_GROUPS,
     "a row of a person (5-40 rows, ~10% stays), one call per person; reads 4 x 4 B + stay (17 B)",
     make_inside_other_stay, reset_flag, NULL, run_inside_other_stay, outs_flag},
    {"window_max_sum", SLOT(window_max_sum), 8, 8, 0, CAP_GROUPS,
     "a line of a drug history (4-100 lines), one call per history; reads day, qty (8 B)", make_window_max_sum,
     NULL, NULL, run_window_max_sum, outs_none},
    {"sort_i32", SLOT(sort_i32), 4, 4, 0, CAP_NLOGN, "a day (730-day range); reads 4 B (sorted in place)", make_sort_i32,
     prep_sort_i32, prep_sort_i32, run_sort_i32, outs_sort},
    {"sort_f64", SLOT(sort_f64), 8, 8, 0, CAP_NLOGN, "a share 0..1 (a peer group's values); reads 8 B (sorted in place)",
     make_sort_f64, prep_rank_u64, prep_rank_u64, run_sort_f64, outs_sort_f64},
    {"rank_u64", SLOT(rank_u64), 8, 8, 0, CAP_NLOGN, "a random value; reads 8 B (99th percentile)", make_rank_u64,
     prep_rank_u64, prep_rank_u64, run_rank_u64, outs_none},
};
#define NSPECS (sizeof specs / sizeof *specs)

/* Two sets hold the same code for a kernel when their slots hold the same
 * pointer (most sets inherit from the one below). */
static int same_code(const spec_t *s, const ms_kernels_t *a, const ms_kernels_t *b)
{
    return !memcmp((const char *)a + s->slot, (const char *)b + s->slot, sizeof a->count_by_key);
}

static size_t records_per_call(const spec_t *s, const data_t *d) { return s->on_sel ? d->nsel : d->n_run; }

static void make_data(const spec_t *s, data_t *d, size_t target, uint64_t seed, size_t ks)
{
    memset(d, 0, sizeof *d);
    d->n = (size_t)((double)target / s->ws_per_rec);
    if (d->n < 64) d->n = 64;
    rng_t r = {seed * 0x2545f4914f6cdd1dull + ks};
    s->make(d, &r);
    d->n_run = d->n;
    d->ng_run = d->ngroups;
}

/* Time a call on the first `rows` rows only (whole groups, at least one). */
static void set_prefix(data_t *d, size_t rows)
{
    if (rows > d->n) rows = d->n;
    d->n_run = rows;
    if (!d->group) return;
    size_t g = d->ngroups;
    while (g > 1 && d->group[g] > rows) g--;
    d->ng_run = g;
    d->n_run = d->group[g];
}

/* ------------------------------------------------------------------ */
/* The stream: the practical read bandwidth, with the widest vectors this
 * CPU runs (an AVX-512 kernel would otherwise beat a "bandwidth" read with
 * SSE2 in L1). */

static uint64_t stream_sum_plain(const uint64_t *w, size_t n)
{
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) s0 += w[i], s1 += w[i + 1], s2 += w[i + 2], s3 += w[i + 3];
    for (; i < n; i++) s0 += w[i];
    return s0 + s1 + s2 + s3;
}

#ifdef STREAM_X86
__attribute__((target("avx2"))) static uint64_t stream_sum_avx2(const uint64_t *w, size_t n)
{
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_add_epi64(a0, _mm256_loadu_si256((const __m256i *)(w + i)));
        a1 = _mm256_add_epi64(a1, _mm256_loadu_si256((const __m256i *)(w + i + 4)));
        a2 = _mm256_add_epi64(a2, _mm256_loadu_si256((const __m256i *)(w + i + 8)));
        a3 = _mm256_add_epi64(a3, _mm256_loadu_si256((const __m256i *)(w + i + 12)));
    }
    a0 = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    uint64_t lane[4];
    _mm256_storeu_si256((__m256i *)lane, a0);
    uint64_t s = lane[0] + lane[1] + lane[2] + lane[3];
    for (; i < n; i++) s += w[i];
    return s;
}

__attribute__((target("avx512f"))) static uint64_t stream_sum_avx512(const uint64_t *w, size_t n)
{
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm512_add_epi64(a0, _mm512_loadu_si512((const void *)(w + i)));
        a1 = _mm512_add_epi64(a1, _mm512_loadu_si512((const void *)(w + i + 8)));
        a2 = _mm512_add_epi64(a2, _mm512_loadu_si512((const void *)(w + i + 16)));
        a3 = _mm512_add_epi64(a3, _mm512_loadu_si512((const void *)(w + i + 24)));
    }
    a0 = _mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3));
    uint64_t s = (uint64_t)_mm512_reduce_add_epi64(a0);
    for (; i < n; i++) s += w[i];
    return s;
}
#endif

typedef uint64_t (*stream_fn)(const uint64_t *w, size_t n);

static stream_fn stream_pick(const char **name)
{
#ifdef STREAM_X86
    if (ms_kernels_for(MS_ISA_AVX512)) return *name = "avx512", stream_sum_avx512;
    if (ms_kernels_for(MS_ISA_AVX2)) return *name = "avx2", stream_sum_avx2;
#endif
    *name = "plain C";
    return stream_sum_plain;
}

/* ------------------------------------------------------------------ */
/* Timing. */

typedef struct {
    const spec_t *s;
    const ms_kernels_t *k; /* NULL: the stream */
    data_t *d;
    stream_fn stream;
    const uint64_t *words;
    size_t nwords;
    int64_t iters;
    double inner[MAXREP + 2]; /* kernel-only seconds of each call to fn (kernels with prep) */
    int calls;
} meas_t;

/* One sample: the kernel `iters` times.  A kernel that reorders its input
 * (sort, rank) gets it back before each call, outside the clock; its time
 * is then the sum of the kernel's own intervals, kept in inner[]. */
static int meas_fn(void *vctx, ms_bench_work_t *w)
{
    meas_t *m = vctx;
    uint64_t acc = 0;
    double inner = 0;
    if (!m->k) {
        for (int64_t it = 0; it < m->iters; it++) acc += m->stream(m->words, m->nwords);
        w->records = (uint64_t)m->nwords * (uint64_t)m->iters;
        w->bytes = (uint64_t)m->nwords * 8 * (uint64_t)m->iters;
    } else {
        const spec_t *s = m->s;
        if (s->prep) {
            for (int64_t it = 0; it < m->iters; it++) {
                s->prep(m->d);
                double t0 = ms_bench_now();
                acc ^= s->run(m->k, m->d);
                inner += ms_bench_now() - t0;
            }
        } else {
            for (int64_t it = 0; it < m->iters; it++) acc ^= s->run(m->k, m->d);
        }
        size_t rec = records_per_call(s, m->d);
        w->records = (uint64_t)rec * (uint64_t)m->iters;
        w->bytes = (uint64_t)((double)rec * s->bytes_per_rec) * (uint64_t)m->iters;
    }
    sink ^= acc;
    if (m->calls < MAXREP + 2) m->inner[m->calls++] = inner;
    return 0;
}

/* The seconds of one sample at the current iters. */
static double sample_s(meas_t *m)
{
    ms_bench_work_t w;
    int c = m->calls;
    double t0 = ms_bench_now();
    meas_fn(m, &w);
    double t = ms_bench_now() - t0;
    return m->k && m->s->prep ? m->inner[c] : t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Choose iters so that a sample lasts about SAMPLE_S (not for a working
 * set in memory: one call is long enough there, and each costs a pass over
 * memory), then ms_bench_run. */
static void measure(meas_t *m, int repeats, int calibrate, ms_bench_result_t *res)
{
    m->iters = 1;
    m->calls = 0;
    for (int tries = 0; calibrate && tries < 30; tries++) {
        double t = sample_s(m);
        if (t >= SAMPLE_S / 4 || m->iters > ((int64_t)1 << 40)) {
            if (t < SAMPLE_S) m->iters = (int64_t)((double)m->iters * SAMPLE_S / (t > 0 ? t : 1e-9)) + 1;
            break;
        }
        m->iters *= t < SAMPLE_S / 1000 ? 64 : 4;
    }
    m->calls = 0;
    ms_bench_run(meas_fn, m, repeats, res);
    if (m->k && m->s->prep && m->calls > 1) {
        /* The clock of ms_bench_run saw the restores too: take the kernel's
         * own time, the median of the calls after the warm-up. */
        int n = m->calls - 1;
        double *t = m->inner + 1;
        qsort(t, (size_t)n, sizeof *t, cmp_double);
        res->min_s = t[0];
        res->max_s = t[n - 1];
        res->median_s = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
        res->records_per_s = res->median_s > 0 ? (double)res->records / res->median_s : 0;
        res->bytes_per_s = res->median_s > 0 ? (double)res->bytes / res->median_s : 0;
    }
}

/* A kernel called per history, or n log n, whose one call over the whole
 * input would last more than CALL_BUDGET_S (the references at mem) is
 * timed on a prefix: estimated from one call on PROBE_N rows. */
static void choose_prefix(const spec_t *s, const ms_kernels_t *k, data_t *d)
{
    set_prefix(d, d->n);
    if (s->capped == CAP_NONE || d->n <= 2 * PROBE_N) return;
    set_prefix(d, PROBE_N);
    size_t n0 = d->n_run;
    meas_t pm = {.s = s, .k = k, .d = d, .iters = 1};
    double t = sample_s(&pm), scale = (double)d->n / (double)n0;
    if (s->capped == CAP_NLOGN) scale *= (64.0 - __builtin_clzll(d->n)) / (64.0 - __builtin_clzll(n0));
    size_t rows = d->n;
    if (t * scale > CALL_BUDGET_S) rows = (size_t)((double)d->n * CALL_BUDGET_S / (t * scale));
    set_prefix(d, rows < n0 ? n0 : rows);
}

/* ------------------------------------------------------------------ */
/* The check: every set against the reference, exactly. */

static void describe(char *buf, size_t cap, const void *p, size_t esize)
{
    uint64_t v = 0;
    memcpy(&v, p, esize < 8 ? esize : 8); /* little-endian: the low bytes */
    if (esize == 8) snprintf(buf, cap, "%lld", (long long)v);
    else snprintf(buf, cap, "%llu", (unsigned long long)v);
}

static int check_kernel(const spec_t *s, size_t ks, const ms_kernels_t *const *sets, int nsets, size_t target,
                        uint64_t seed)
{
    const ms_kernels_t *ref = ms_kernels_ref();
    data_t d;
    make_data(s, &d, target, seed, ks);
    if (s->reset) s->reset(&d);
    uint64_t want = s->run(ref, &d);
    region_t ro[4];
    int nr = s->outs(&d, want, ro);
    void *copy[4] = {0};
    for (int i = 0; i < nr; i++) {
        copy[i] = malloc(ro[i].len ? ro[i].len : 1);
        if (!copy[i]) {
            fprintf(stderr, "bench_kernels: out of memory\n");
            exit(1);
        }
        memcpy(copy[i], ro[i].p, ro[i].len);
    }
    int bad = 0;
    for (int j = 0; j < nsets && !bad; j++) {
        const ms_kernels_t *k = sets[j];
        if (same_code(s, k, ref)) continue;
        if (s->reset) s->reset(&d);
        uint64_t got = s->run(k, &d);
        /* Outputs first: a void kernel's "result" here is made of its
         * outputs, and a wrong element says more than a wrong sum. */
        char why[256] = "";
        region_t o[4];
        int no = s->outs(&d, got, o);
        for (int i = 0; i < no && i < nr && !*why; i++) {
            if (o[i].len != ro[i].len || !memcmp(o[i].p, copy[i], o[i].len)) continue;
            size_t e;
            const unsigned char *a = o[i].p, *b = copy[i];
            for (e = 0; e + 1 < o[i].len / o[i].esize; e++)
                if (memcmp(a + e * o[i].esize, b + e * o[i].esize, o[i].esize)) break;
            char x[32], y[32];
            describe(x, sizeof x, a + e * o[i].esize, o[i].esize);
            describe(y, sizeof y, b + e * o[i].esize, o[i].esize);
            snprintf(why, sizeof why, "%s[%zu] is %s where the reference writes %s", o[i].what, e, x, y);
        }
        if (!*why && got != want)
            snprintf(why, sizeof why, "it returns %llu where the reference returns %llu", (unsigned long long)got,
                     (unsigned long long)want);
        if (*why) {
            fprintf(stderr,
                    "\nbench_kernels: ERROR: WRONG RESULT: %s of set %s differs from the reference\n"
                    "bench_kernels:   on %zu records (the L1 working set, seed %llu): %s.\n"
                    "bench_kernels:   Refusing to time a wrong kernel; tests/test_kernels.c should show it too.\n\n",
                    s->name, k->name, records_per_call(s, &d), (unsigned long long)seed, why);
            bad = 1;
        }
    }
    for (int i = 0; i < nr; i++) free(copy[i]);
    dfree(&d);
    return bad;
}

/* ------------------------------------------------------------------ */
/* The machine. */

typedef struct {
    size_t l1, l2, l3;
    size_t l3_sysconf; /* when sysfs said otherwise */
    char cpu[128];
    long cores;
} machine_t;

/* /sys/devices/system/cpu/cpu0/cache: the caches one core sees. */
static size_t sysfs_cache(int level, int data)
{
    for (int i = 0; i < 8; i++) {
        char path[96], buf[64];
        int lv = 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        FILE *fp = fopen(path, "r");
        if (!fp) break;
        if (fscanf(fp, "%d", &lv) != 1) lv = 0;
        fclose(fp);
        if (lv != level) continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        fp = fopen(path, "r");
        if (!fp) continue;
        if (!fgets(buf, sizeof buf, fp)) buf[0] = 0;
        fclose(fp);
        if (data ? strncmp(buf, "Data", 4) && strncmp(buf, "Unified", 7) : !!strncmp(buf, "Unified", 7)) continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        fp = fopen(path, "r");
        if (!fp) continue;
        unsigned long long v = 0;
        char unit = 0;
        int got = fscanf(fp, "%llu%c", &v, &unit);
        fclose(fp);
        if (got < 1) continue;
        return (size_t)(unit == 'K' ? v << 10 : unit == 'M' ? v << 20 : v);
    }
    return 0;
}

static void machine_info(machine_t *m)
{
    memset(m, 0, sizeof *m);
    long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE),
         l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
    m->l1 = l1 > 0 ? (size_t)l1 : (size_t)32 << 10;
    m->l2 = l2 > 0 ? (size_t)l2 : (size_t)1 << 20;
    m->l3 = l3 > 0 ? (size_t)l3 : (size_t)32 << 20;
    /* glibc's sysconf on some AMD machines and virtual machines reports the
     * L3 of the whole package (ten times one CCX's 32 MiB on the EPYC this
     * was written on); the kernel's sysfs says what one core shares. */
    size_t s3 = sysfs_cache(3, 0);
    if (s3 && s3 != m->l3) {
        m->l3_sysconf = m->l3;
        m->l3 = s3;
    }
    m->cores = sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(m->cpu, sizeof m->cpu, "unknown");
    FILE *fp = fopen("/proc/cpuinfo", "r");
    if (fp) {
        char line[512];
        while (fgets(line, sizeof line, fp)) {
            if (strncmp(line, "model name", 10)) continue;
            char *v = strchr(line, ':');
            if (!v) break;
            v++;
            while (*v == ' ' || *v == '\t') v++;
            v[strcspn(v, "\n")] = 0;
            snprintf(m->cpu, sizeof m->cpu, "%s", v);
            break;
        }
        fclose(fp);
    }
}

static void json_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fprintf(fp, "\\%c", *s);
        else if ((unsigned char)*s < 0x20) fprintf(fp, "\\u%04x", (unsigned)*s);
        else fputc(*s, fp);
    }
    fputc('"', fp);
}

/* ------------------------------------------------------------------ */
/* Options. */

static const char *const size_names[] = {"l1", "l2", "l3", "mem"};

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: bench_kernels [--kernel NAME[,NAME...]]... [--isa LIST] [--sizes l1,l2,l3,mem]\n"
            "                     [--repeat N] [--max-bytes N] [--caches L1,L2,L3] [--seed N] [--json] [--help]\n");
}

static void help(void)
{
    usage(stdout);
    printf("\n"
           "Times every kernel of the dispatch table (kernels/ms_kernels.h) for every instruction\n"
           "set this CPU runs, at four working sets, on inputs shaped like the models' (fixed seed).\n"
           "\n"
           "Options\n"
           "  --kernel NAME    only these kernels (repeatable, or a comma list; default all)\n"
           "  --isa LIST       only these sets: ref,portable,sse42,avx2,avx512 (default: all this CPU runs).\n"
           "                   The reference is always timed too: every row is compared with it.\n"
           "  --sizes LIST     working sets: l1, l2, l3 (half of each cache level), mem (4x L3, at least\n"
           "                   256 MiB, at most --max-bytes); default all\n"
           "  --repeat N       timed samples per figure, the median reported (default 5; the mem size\n"
           "                   takes (N+1)/2: one sample there is a whole pass over memory)\n"
           "  --max-bytes N    the largest working set, bytes, K/M/G suffixes (default 256M)\n"
           "  --caches A,B,C   L1d, L2, L3 sizes instead of the detected ones (e.g. 48K,2M,32M)\n"
           "  --seed N         the inputs' seed (default 1)\n"
           "  --json           one JSON object on stdout instead of the tables\n"
           "\n"
           "Columns (one table per working set, a row per kernel and set)\n"
           "  M rec/s    millions of records per second: the median of the samples.  A record is\n"
           "             what the kernel works through: a row, an element, 8 bytes of a checksummed\n"
           "             chunk, a selected row for the *_sel kernels (see the list below).\n"
           "  GB/s       input bytes read per second (10^9): records/s x the bytes the kernel reads\n"
           "             per record.  Writes are not counted.\n"
           "  ref M/s    the reference's M rec/s at the same working set, from the same run.\n"
           "  x ref      this set's records/s over the reference's: 1.00 is no gain, 4.00 four times\n"
           "             as fast.  \"=SET\" after a row: this set holds the same code as SET (it\n"
           "             inherits the kernel), so its figures are SET's, not timed again.\n"
           "  %% stream   GB/s over the stream's GB/s: the stream reads as many bytes as the\n"
           "             kernel's input at the same working set, summing uint64 words with the\n"
           "             widest vectors the CPU has, on one thread as the kernels, timed just before\n"
           "             and just after the kernel's sets (the faster kept).  It is the practical\n"
           "             bandwidth of that cache level (or of memory) for one core.\n"
           "\n"
           "Reading %% stream\n"
           "  Near 100%%: the kernel is bound by moving its input; a faster instruction set will not\n"
           "  help, only reading fewer bytes will.  Well under 100%% (say below 30%%) at l1 or l2:\n"
           "  the kernel is bound by its own work (dependency chains, branches, scattered updates)\n"
           "  and there is room to go.  Kernels that also write (select_*, segments_u64, add_i64,\n"
           "  share_at_least, unshuffle, sort_i32) move more bytes than they are credited, and the\n"
           "  *_sel kernels gather scattered rows (whole cache lines for a few bytes: sum_by_key_sel\n"
           "  at 3%%), so they cannot reach 100%%.  Above 100%% can happen where a kernel reads\n"
           "  several arrays at once (add_i64, share_at_least): two streams keep more loads and\n"
           "  prefetches in flight than the one the stream reads; and on a shared machine a\n"
           "  neighbour's burst during the stream lowers it (the stream is timed before and after\n"
           "  the kernel's sets, the faster one kept, which makes that rarer).\n"
           "  At l1 and l2 the same small input is passed again and again, and a CPU's branch\n"
           "  predictor can learn a few thousand rows by heart: a branchy kernel (most references,\n"
           "  window_max_sum) looks better there than on a batch of real rows.  Trust l3 and mem\n"
           "  for those; l1 is the best case of the kernel's own work.\n"
           "\n"
           "Example (l1 table)\n"
           "  kernel             set        M rec/s     GB/s   ref M/s    x ref  %% stream\n"
           "  count_by_key       ref          512.3    2.049     512.3     1.00      2.1%%  (4096 rec/call; stream 97.6 GB/s)\n"
           "                     portable    1630.1    6.520     512.3     3.18      6.7%%\n"
           "                     avx2        1630.1    6.520     512.3     3.18      6.7%%  =portable\n"
           "  The portable version counts 3.2 times the rows the reference does, and uses 6.7%% of\n"
           "  L1's bandwidth: the increments of the count table, not the reads, limit it.\n"
           "\n"
           "Kernels (what a record is; bytes read per record)\n");
    for (size_t i = 0; i < NSPECS; i++) printf("  %-18s %s\n", specs[i].name, specs[i].doc);
    printf("\n"
           "Before timing, each set's result is compared with the reference's on the L1-sized input;\n"
           "a difference is an error (exit 1).  sort_i32 and rank_u64 restore their input before\n"
           "each call, outside the clock.  When one call of sort_i32, rank_u64, inside_other_stay or\n"
           "window_max_sum would take more than %.2f s (the references' qsort or quadratic loop\n"
           "at mem) it is timed on a prefix of the input (whole histories), still per record, and\n"
           "the row says so.\n"
           "Exit status: 0, 1 on a wrong kernel or no memory, 2 on a bad option.\n",
           CALL_BUDGET_S);
}

static int parse_bytes(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s) return -1;
    int shift = 0;
    switch (toupper((unsigned char)*end)) {
    case 'K': shift = 10, end++; break;
    case 'M': shift = 20, end++; break;
    case 'G': shift = 30, end++; break;
    default: break;
    }
    if (*end == 'i' || *end == 'I') end++;
    if (*end == 'B' || *end == 'b') end++;
    if (*end) return -1;
    *out = (size_t)(v << shift);
    return 0;
}

/* Splits a comma list into a copy; calls f on each name. */
static int each_name(const char *list, int (*f)(const char *name, void *ctx), void *ctx)
{
    char *copy = strdup(list), *save = NULL;
    int rc = 0;
    if (!copy) return 1;
    for (char *t = strtok_r(copy, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) rc = f(t, ctx);
    free(copy);
    return rc;
}

static int want_kernel(const char *name, void *ctx)
{
    int *want = ctx;
    for (size_t i = 0; i < NSPECS; i++)
        if (!strcmp(name, specs[i].name)) {
            want[i] = 1;
            return 0;
        }
    fprintf(stderr, "bench_kernels: unknown kernel '%s'; the kernels are:", name);
    for (size_t i = 0; i < NSPECS; i++) fprintf(stderr, "%s %s", i ? "," : "", specs[i].name);
    fprintf(stderr, "\n");
    return 2;
}

static int want_isa(const char *name, void *ctx)
{
    int *want = ctx;
    int s = ms_isa_parse(name);
    if (s < 0) {
        fprintf(stderr, "bench_kernels: unknown instruction set '%s' (one of: ref, portable, sse42, avx2, avx512)\n",
                name);
        return 2;
    }
    if (!ms_kernels_for((ms_isa_t)s)) {
        fprintf(stderr, "bench_kernels: this CPU cannot run the set '%s'; it runs:", name);
        for (int t = 0; t < MS_ISA_COUNT; t++)
            if (ms_kernels_for((ms_isa_t)t)) fprintf(stderr, " %s", ms_isa_name((ms_isa_t)t));
        fprintf(stderr, "\n");
        return 2;
    }
    want[s] = 1;
    return 0;
}

static int want_size(const char *name, void *ctx)
{
    int *want = ctx;
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, size_names[i])) {
            want[i] = 1;
            return 0;
        }
    fprintf(stderr, "bench_kernels: unknown size '%s' (one of: l1, l2, l3, mem)\n", name);
    return 2;
}

/* ------------------------------------------------------------------ */

typedef struct {
    ms_bench_result_t r;
    int same_as; /* -1, or the set whose figures these are */
    size_t n, n_run;
} cell_t;

static const char *human(char *buf, size_t cap, double bytes)
{
    if (bytes >= 1 << 30) snprintf(buf, cap, "%.1f GiB", bytes / (1 << 30));
    else if (bytes >= 1 << 20) snprintf(buf, cap, "%.1f MiB", bytes / (1 << 20));
    else snprintf(buf, cap, "%.0f KiB", bytes / 1024);
    return buf;
}

int main(int argc, char **argv)
{
    int want_k[NSPECS] = {0}, want_s[MS_ISA_COUNT] = {0}, want_z[4] = {0};
    int any_k = 0, any_s = 0, any_z = 0, repeat = 5, json = 0, rc = 0;
    size_t max_bytes = (size_t)256 << 20;
    uint64_t seed = 1;
    const char *caches = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            help();
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (v && !strcmp(a, "--kernel")) {
            if ((rc = each_name(v, want_kernel, want_k))) return 2;
            any_k = 1, i++;
        } else if (v && !strcmp(a, "--isa")) {
            if ((rc = each_name(v, want_isa, want_s))) return 2;
            any_s = 1, i++;
        } else if (v && !strcmp(a, "--sizes")) {
            if ((rc = each_name(v, want_size, want_z))) return 2;
            any_z = 1, i++;
        } else if (v && !strcmp(a, "--repeat")) {
            char *end;
            long r = strtol(v, &end, 10);
            if (*end || r < 1 || r > MAXREP) {
                fprintf(stderr, "bench_kernels: --repeat takes 1 to %d, not '%s'\n", MAXREP, v);
                return 2;
            }
            repeat = (int)r, i++;
        } else if (v && !strcmp(a, "--max-bytes")) {
            if (parse_bytes(v, &max_bytes) || max_bytes < MIN_BYTES) {
                fprintf(stderr, "bench_kernels: --max-bytes takes a size of at least %d bytes (K/M/G suffixes), "
                                "not '%s'\n", MIN_BYTES, v);
                return 2;
            }
            i++;
        } else if (v && !strcmp(a, "--caches")) {
            caches = v, i++;
        } else if (v && !strcmp(a, "--seed")) {
            seed = strtoull(v, NULL, 10), i++;
        } else {
            fprintf(stderr, "bench_kernels: unknown option or missing value: %s\n", a);
            usage(stderr);
            fprintf(stderr, "(bench_kernels --help says what each does)\n");
            return 2;
        }
    }
    if (!any_k)
        for (size_t i = 0; i < NSPECS; i++) want_k[i] = 1;
    if (!any_s)
        for (int s = 0; s < MS_ISA_COUNT; s++) want_s[s] = ms_kernels_for((ms_isa_t)s) != NULL;
    if (!any_z)
        for (int z = 0; z < 4; z++) want_z[z] = 1;

    machine_t mc;
    machine_info(&mc);
    if (caches) {
        char c1[32], c2[32], c3[32];
        if (sscanf(caches, "%31[^,],%31[^,],%31s", c1, c2, c3) != 3 || parse_bytes(c1, &mc.l1) ||
            parse_bytes(c2, &mc.l2) || parse_bytes(c3, &mc.l3) || !mc.l1 || !mc.l2 || !mc.l3) {
            fprintf(stderr, "bench_kernels: --caches takes L1,L2,L3 sizes (e.g. 48K,2M,32M), not '%s'\n", caches);
            return 2;
        }
        mc.l3_sysconf = 0;
    }
    size_t target[4] = {mc.l1 / 2, mc.l2 / 2, mc.l3 / 2, 4 * mc.l3};
    if (target[3] < (size_t)256 << 20) target[3] = (size_t)256 << 20;
    for (int z = 0; z < 4; z++) {
        if (target[z] > max_bytes) target[z] = max_bytes;
        if (target[z] < MIN_BYTES) target[z] = MIN_BYTES;
    }
    int rep[4] = {repeat, repeat, repeat, (repeat + 1) / 2};

    /* The sets to time: the reference always (every row's ratio), then the
     * chosen ones the CPU runs. */
    const ms_kernels_t *sets[MS_ISA_COUNT];
    int nsets = 0, best = ms_isa_best();
    for (int s = 0; s < MS_ISA_COUNT; s++)
        if ((s == MS_ISA_REF || want_s[s]) && ms_kernels_for((ms_isa_t)s)) sets[nsets++] = ms_kernels_for((ms_isa_t)s);
    const char *stream_name;
    stream_fn stream = stream_pick(&stream_name);
    double t_start = ms_bench_now();

    /* The check, first: nothing is timed when any set is wrong. */
    for (size_t ks = 0; ks < NSPECS; ks++)
        if (want_k[ks] && check_kernel(&specs[ks], ks, sets, nsets, target[0], seed)) rc = 1;
    if (rc) return 1;

    char b1[32], b2[32], b3[32], b4[32];
    if (json) {
        printf("{\n  \"machine\": {\"cpu\": ");
        json_string(stdout, mc.cpu);
        printf(", \"cores\": %ld, \"l1d_bytes\": %zu, \"l2_bytes\": %zu, \"l3_bytes\": %zu, ", mc.cores, mc.l1, mc.l2,
               mc.l3);
        if (mc.l3_sysconf) printf("\"l3_bytes_sysconf\": %zu, ", mc.l3_sysconf);
        printf("\"best_isa\": \"%s\", \"isas\": [", ms_isa_name((ms_isa_t)best));
        for (int s = 0, f = 1; s < MS_ISA_COUNT; s++)
            if (ms_kernels_for((ms_isa_t)s)) printf("%s\"%s\"", f ? "" : ", ", ms_isa_name((ms_isa_t)s)), f = 0;
        printf("], \"stream\": \"%s\"},\n  \"options\": {\"repeat\": %d, \"max_bytes\": %zu, \"seed\": %llu},\n"
               "  \"sizes\": {",
               stream_name, repeat, max_bytes, (unsigned long long)seed);
        for (int z = 0, f = 1; z < 4; z++)
            if (want_z[z]) printf("%s\"%s\": {\"bytes\": %zu, \"repeat\": %d}", f ? "" : ", ", size_names[z], target[z],
                                  rep[z]), f = 0;
        printf("},\n  \"results\": [");
    } else {
        printf("bench_kernels: %s, %ld cores; L1d %s, L2 %s, L3 %s", mc.cpu, mc.cores, human(b1, sizeof b1, (double)mc.l1),
               human(b2, sizeof b2, (double)mc.l2), human(b3, sizeof b3, (double)mc.l3));
        if (mc.l3_sysconf) printf(" (sysfs; sysconf says %s)", human(b4, sizeof b4, (double)mc.l3_sysconf));
        printf("; best set %s\n", ms_isa_name((ms_isa_t)best));
        printf("   median of %d samples (mem: %d) after one warm-up; stream: %s; every set checked against ref first\n",
               repeat, rep[3], stream_name);
        printf("   l1 and l2 pass one small input again and again: branchy kernels look better there than on\n"
               "   real batches (the branch predictor learns it); bench_kernels --help says how to read this\n");
        if (want_z[3] && target[3] <= 2 * mc.l3)
            printf("   note: the mem size (%s) is not well beyond L3; --max-bytes %zuM makes it 4x L3\n",
                   human(b1, sizeof b1, (double)target[3]), 4 * mc.l3 >> 20);
    }
    fflush(stdout);

    int first = 1;
    for (int z = 0; z < 4; z++) {
        if (!want_z[z]) continue;
        if (!json) {
            static const char *const level[] = {"half of L1d", "half of L2", "half of L3", "memory"};
            printf("\n== %s: inputs of ~%s per kernel (%s)\n", size_names[z], human(b1, sizeof b1, (double)target[z]),
                   level[z]);
            printf("%-18s %-9s %9s %8s %9s %8s %9s\n", "kernel", "set", "M rec/s", "GB/s", "ref M/s", "x ref",
                   "% stream");
        }
        for (size_t ks = 0; ks < NSPECS; ks++) {
            if (!want_k[ks]) continue;
            const spec_t *s = &specs[ks];
            data_t d;
            make_data(s, &d, target[z], seed, ks);

            /* The stream over as many bytes as the kernel's input, timed just
             * before the kernel and again just after: the faster of the two is
             * the bandwidth (on a shared machine a neighbour's burst lowers one
             * of them, and a low stream would flatter every kernel). */
            size_t nwords = d.ws / 8 < 8 ? 8 : d.ws / 8;
            uint64_t *words = aligned_alloc(64, (nwords * 8 + 63) / 64 * 64);
            if (!words) {
                fprintf(stderr, "bench_kernels: out of memory for the stream (%zu bytes)\n", nwords * 8);
                return 1;
            }
            for (size_t i = 0; i < nwords; i++) words[i] = ms_bench_scramble(i);
            meas_t sm = {.stream = stream, .words = words, .nwords = nwords};
            ms_bench_result_t sres = {0}, sres2 = {0};
            measure(&sm, rep[z], target[z] < BIG_BYTES, &sres);

            cell_t cell[MS_ISA_COUNT];
            for (int j = 0; j < nsets; j++) {
                const ms_kernels_t *k = sets[j];
                cell_t *c = &cell[j];
                memset(c, 0, sizeof *c);
                c->same_as = -1;
                for (int i = 0; i < j; i++)
                    if (same_code(s, k, sets[i])) {
                        *c = cell[i];
                        c->same_as = cell[i].same_as >= 0 ? cell[i].same_as : i;
                        break;
                    }
                if (c->same_as >= 0) continue;
                choose_prefix(s, k, &d);
                meas_t m = {.s = s, .k = k, .d = &d};
                measure(&m, rep[z], target[z] < BIG_BYTES, &c->r);
                c->n = d.n;
                c->n_run = d.n_run;
            }
            measure(&sm, rep[z], target[z] < BIG_BYTES, &sres2);
            if (sres2.bytes_per_s > sres.bytes_per_s) sres = sres2;
            free(words);

            /* Report: the chosen sets (the reference only when chosen). */
            double refr = cell[0].r.records_per_s, sb = sres.bytes_per_s;
            int printed = 0;
            for (int j = 0; j < nsets; j++) {
                int isa = ms_isa_parse(sets[j]->name);
                if (!want_s[isa]) continue;
                const cell_t *c = &cell[j];
                double ratio = refr > 0 ? c->r.records_per_s / refr : 0;
                double frac = sb > 0 ? c->r.bytes_per_s / sb : 0;
                size_t rec = s->on_sel ? d.nsel : c->n;
                if (json) {
                    char name[96];
                    snprintf(name, sizeof name, "%s/%s/%s", s->name, sets[j]->name, size_names[z]);
                    printf("%s\n    {\"kernel\": \"%s\", \"isa\": \"%s\", \"size\": \"%s\", \"records_per_call\": %zu, "
                           "\"timed_records_per_call\": %zu, \"bytes_per_record\": %g, \"records_per_s\": %.1f, "
                           "\"bytes_per_s\": %.1f, \"ref_records_per_s\": %.1f, \"ratio_to_ref\": %.4f, "
                           "\"stream_bytes_per_s\": %.1f, \"fraction_of_bandwidth\": %.4f, \"same_as\": ",
                           first ? "" : ",", s->name, sets[j]->name, size_names[z], rec,
                           s->on_sel ? d.nsel : c->n_run, s->bytes_per_rec, c->r.records_per_s, c->r.bytes_per_s,
                           refr, ratio, sb, frac);
                    if (c->same_as >= 0) printf("\"%s\"", sets[c->same_as]->name);
                    else printf("null");
                    printf(", \"bench\": ");
                    ms_bench_json(stdout, name, &c->r);
                    printf("}");
                    first = 0;
                } else {
                    printf("%-18s %-9s %9.1f %8.3f %9.1f %8.2f %8.1f%%", printed ? "" : s->name, sets[j]->name,
                           c->r.records_per_s / 1e6, c->r.bytes_per_s / 1e9, refr / 1e6, ratio, 100 * frac);
                    if (c->same_as >= 0) printf("  =%s", sets[c->same_as]->name);
                    if (!printed) printf("  (%zu rec/call; stream %.1f GB/s)", rec, sb / 1e9);
                    if (c->n_run < c->n && c->same_as < 0)
                        printf("  timed on %zu of %zu rec (one call > %.2f s)", c->n_run, c->n, CALL_BUDGET_S);
                    printf("\n");
                }
                printed = 1;
            }
            fflush(stdout);
            dfree(&d);
        }
    }
    if (json) printf("\n  ],\n  \"seconds\": %.1f\n}\n", ms_bench_now() - t_start);
    else printf("\nbench_kernels: %.1f s\n", ms_bench_now() - t_start);
    return 0;
}
