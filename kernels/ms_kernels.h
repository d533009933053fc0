/*
 * ms_kernels.h - hot loops over column arrays, called through one table.
 *
 * Each kernel has a plain reference version (kernels/ref/), the definition
 * of what it computes, and may have fast versions: a portable one (plain C
 * that breaks dependency chains or uses a better algorithm; kernels/fast/)
 * and one per x86 instruction set (SSE4.2, AVX2, AVX-512; kernels/x86/),
 * each in its own file compiled for that set.  One table per instruction
 * set is built from the one below it (reference < portable < SSE4.2 <
 * AVX2 < AVX-512), each set overriding the kernels it does better.
 *
 * ms_kernels() is chosen once, at start-up, by CPU detection: the highest
 * set this CPU (and its operating system) runs.  The environment variable
 * MS_KERNELS forces one: "ref" (every reference), "portable", "sse42",
 * "avx2" or "avx512" (refused when the CPU lacks it: ms_kernels_env_check).
 * Hot loops never test the CPU.  Tests compare every version with its
 * reference, exactly, for every set the machine runs (tests/test_kernels*.c).
 *
 * Kernels include nothing from the rest of the project.  docs/kernels.md
 * says how to add one.
 */
#ifndef MS_KERNELS_H
#define MS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Shares compared exactly, in whole fen: an integer x is at least
 * amount x ppm / 10^6 exactly when x >= ms_share_ceil(amount, ppm)
 * (0 <= amount, 0 <= ppm <= 10^6; no overflow for any int64 amount). */
#define MS_PPM 1000000
static inline int64_t ms_share_ceil(int64_t amount, int64_t ppm)
{
    int64_t q = amount / MS_PPM, r = amount % MS_PPM;
    return q * ppm + (r * ppm + MS_PPM - 1) / MS_PPM;
}

/* floor(10^6 x part / total) for total > 0, clamped to 0..10^6: the
 * largest p with ms_share_ceil(total, p) <= part (ceil(total x p / 10^6) <=
 * part exactly when total x p <= part x 10^6), so exact for any int64. */
static inline uint32_t ms_share_ppm(int64_t part, int64_t total)
{
    if (part <= 0) return 0;
    if (part >= total) return MS_PPM;
    int64_t lo = 0, hi = MS_PPM; /* ms_share_ceil(total, lo) <= part < ms_share_ceil(total, hi) */
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (ms_share_ceil(total, mid) <= part)
            lo = mid;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}

/* Overflow.  A count cannot overflow: it is at most the rows counted, and
 * no dataset holds 2^63 rows (8 bytes each would be 64 EiB).  A sum can:
 * the contract bounds each amount (docs/schema.md, Limits: 10^11 fen), so
 * 92 million records fit, but a per-institution sum over a national
 * extract may hold more.  So every add of a sum is checked, in the fast
 * versions as in the references, in the same order per key: both return 0
 * when every partial sum fits int64, else 1 + the index of the first row
 * (element) whose add overflowed, and then leave the same values (each
 * overflowing add wrapped modulo 2^64: meaningless, but equal, so that
 * the versions stay comparable).  The caller turns a report into an error
 * that names what overflowed (ms_status MS_E_INVARIANT). */
#define MS_KERNEL_OK 0

/* The instruction sets, in the order their tables build on each other. */
typedef enum {
    MS_ISA_REF = 0,   /* the references */
    MS_ISA_PORTABLE,  /* fast versions in plain C, for any CPU */
    MS_ISA_SSE42,
    MS_ISA_AVX2,
    MS_ISA_AVX512,    /* AVX-512 F, BW, CD, DQ and VL */
    MS_ISA_COUNT
} ms_isa_t;

typedef struct {
    /* --- Rows: selections, counts and sums by key (files rows_*.c) --- */

    /* counts[key[i]] += 1 for i < n (keys in range, checked by the caller) */
    void (*count_by_key)(const int32_t *key, size_t n, int64_t *counts);
    /* sums[key[i]] += val[i], checked: 0, or 1 + the first i whose add
     * overflowed */
    size_t (*sum_by_key)(const int32_t *key, const int64_t *val, size_t n, int64_t *sums);
    /* counts[key[i]] += (sel[i] == want) */
    void (*count_by_key_if)(const int32_t *key, const uint8_t *sel, uint8_t want, size_t n,
                            int64_t *counts);
    /* A selection vector: the rows i < n (ascending) with col[i] == want,
     * written to idx (room for n); returns how many. */
    size_t (*select_eq_u8)(const uint8_t *col, size_t n, uint8_t want, uint32_t *idx);
    /* The same for col[i] != 0. */
    size_t (*select_nz_u32)(const uint32_t *col, size_t n, uint32_t *idx);
    /* counts[key[idx[s]]] += 1 for s < nsel: a count by key over a selection. */
    void (*count_by_key_sel)(const int32_t *key, const uint32_t *idx, size_t nsel, int64_t *counts);
    /* sums[key[idx[s]]] += val[idx[s]] for s < nsel, checked: 0, or 1 + the
     * first s whose add overflowed. */
    size_t (*sum_by_key_sel)(const int32_t *key, const int64_t *val, const uint32_t *idx, size_t nsel,
                             int64_t *sums);
    /* The runs of equal ids (a person's rows in a batch sorted by person):
     * start[k] is the first row of run k, start[nruns] = n (room for n + 1);
     * returns nruns (0 when n is 0, start[0] = 0 then). */
    size_t (*segments_u64)(const uint64_t *id, size_t n, uint32_t *start);
    /* dst[i] += src[i], exact, checked: 0, or 1 + the first i whose sum
     * overflowed (dst[i] wrapped) */
    size_t (*add_i64)(int64_t *dst, const int64_t *src, size_t n);
    /* flag[i] = total[i] > 0 && part[i] >= total[i] x ppm / 10^6 (exact;
     * 0 <= ppm <= 10^6) */
    void (*share_at_least)(const int64_t *part, const int64_t *total, size_t n, int64_t ppm, uint8_t *flag);
    /* HDF5's byte unshuffle (filter 2): element size esize, n elements. */
    void (*unshuffle)(const void *src, void *dst, size_t n, size_t esize);
    /* HDF5's Fletcher32 checksum (H5_checksum_fletcher32) of len bytes. */
    uint32_t (*fletcher32)(const void *data, size_t len);

    /* --- Spans: a person's stays, windows, sorts and ranks (files spans_*.c) --- */

    /* The first row of each key within each run (a person's distinct
     * institutions): runs are [start[r], start[r + 1]) for r < nruns, as
     * segments_u64 writes them; first[i] = 1 when no earlier row of i's
     * run has key[i], else 0, for every row of every run.  Returns the
     * number of firsts. */
    size_t (*firsts_in_runs)(const int32_t *key, const uint32_t *start, size_t nruns, uint8_t *first);
    /* Visits inside another institution's stay.  Rows i < n are one
     * person's, admit ascending.  For each row with stay[i] != 0:
     * flag[i] = 1 when some row j at another institution (inst[j] !=
     * inst[i]) was admitted before the stay ended (admit[j] < discharge[i])
     * and settled strictly inside it (admit[i] < settle[j] < discharge[i]);
     * flag[i] = 0 otherwise and for every row with stay[i] == 0.  Returns
     * the number of rows flagged. */
    size_t (*inside_other_stay)(const int32_t *inst, const int32_t *admit, const int32_t *discharge,
                                const int32_t *settle, const uint8_t *stay, size_t n, uint8_t *flag);
    /* The largest rolling-window sum: days ascending, the most that
     * qty[l] adds up to over the rows l <= r with day[l] > day[r] - window,
     * for any r < n (0 when n is 0).  Exact in uint64. */
    uint64_t (*window_max_sum)(const int32_t *day, const uint32_t *qty, size_t n, int64_t window);
    /* v[0..n) sorted ascending, in place; tmp is scratch of n elements. */
    void (*sort_i32)(int32_t *v, size_t n, int32_t *tmp);
    /* v[0..n) (no NaN) sorted ascending, in place, each -0.0 written as
     * +0.0 (the two are equal, so no order tells them apart); tmp is
     * scratch of n elements. */
    void (*sort_f64)(double *v, size_t n, uint64_t *tmp);
    /* The value of nearest rank `rank` (1-based, 1 <= rank <= n) of v
     * ascending: what v[rank - 1] would be after sorting.  v is reordered
     * (its values kept). */
    uint64_t (*rank_u64)(uint64_t *v, size_t n, size_t rank);

    const char *name;          /* the set: "ref", "portable", "sse42", "avx2", "avx512" */
} ms_kernels_t;

/* The table in use (chosen on first call, thread-safe). */
const ms_kernels_t *ms_kernels(void);
/* The plain reference versions, always. */
const ms_kernels_t *ms_kernels_ref(void);
/* The table of one instruction set, or NULL when this CPU cannot run it. */
const ms_kernels_t *ms_kernels_for(ms_isa_t isa);
/* The name of a set ("avx2"), and the set of a name (-1 when unknown). */
const char *ms_isa_name(ms_isa_t isa);
int ms_isa_parse(const char *name);
/* The highest set this CPU runs. */
ms_isa_t ms_isa_best(void);

/* Is MS_KERNELS unset, or a set this CPU runs?  0 when so; otherwise -1,
 * and msg (of size cap) says what is wrong and what the CPU has. */
int ms_kernels_env_check(char *msg, size_t cap);

#endif
