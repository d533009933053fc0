/*
 * rows_portable.c - fast versions over rows in plain C, for any CPU: the
 * base that the x86 sets build on.
 */
#include <string.h>

#include "ms_fletcher_blocks.h"
#include "ms_kernels_inline.h"
#include "ms_kernels.h"
#include "ms_kernels_sets.h"
#include "ms_unshuffle_sizes.h"

/* --- Counts and sums by key --- */

/* Scattered adds (by key) do not vectorise, and count_by_key,
 * sum_by_key, count_by_key_sel and sum_by_key_sel have no fast version:
 * an add into a table that sits in L1 (2,600 institutions x 8 bytes)
 * already goes at about a row a cycle, and over a selection the cost is
 * the indexed loads.  Summing runs of equal keys in a register first
 * (these files' earlier versions) measured 10-15% slower than the
 * references on the sweep's own batches, where a person's rows hit a few
 * institutions in short runs and the run ends mispredict (the volume
 * model's map, 1 thread, 16 M records: 0.19 s with the references, 0.22 s
 * with runs), and no faster over selections (bench_kernels).
 *
 * count_by_key_if: branch-free, each row adds 0 or 1.  The reference's
 * branch on the selection mispredicts when about half the rows are
 * counted, as for outpatient visits or a person's first visit of an
 * institution: the volume model's map 0.18 -> 0.12-0.15 s (runs of keys:
 * 0.15 s).  Where a few rows are counted (inpatient stays, 3%) the
 * reference's branch predicts well and the two are close. */
static void count_by_key_if_bf(const int32_t *key, const uint8_t *sel, uint8_t want, size_t n, int64_t *counts)
{
    for (size_t i = 0; i < n; i++) counts[key[i]] += sel[i] == want;
}

/* --- Selections and runs of ids --- */

/* Branch-free: every row's index is written at the end of the selection
 * and kept by advancing only when the row matches, so a selection of
 * about half the rows costs no mispredicted branches.  idx has room for n
 * and the write position never passes the row, so the extra writes stay
 * inside it. */
static size_t select_eq_u8_bf(const uint8_t *col, size_t n, uint8_t want, uint32_t *idx)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        idx[m] = (uint32_t)i;
        m += col[i] == want;
    }
    return m;
}

static size_t select_nz_u32_bf(const uint32_t *col, size_t n, uint32_t *idx)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        idx[m] = (uint32_t)i;
        m += col[i] != 0;
    }
    return m;
}

/* segments_u64 has no portable version: branch-free writes of every row
 * measured slower than the reference where persons have more than a few
 * rows (0.73-0.82x on runs of 1-20, bench_kernels), whose branch
 * mispredicts once per run; the x86 sets compare 2-8 ids at a time. */
/* --- Element-wise sums and shares --- */

/* Wrapping adds (unsigned, so defined) with the overflow test folded into
 * one flag, which keeps the loop vectorisable; an add overflowed when both
 * operands' signs differ from the result's.  Only when the flag is set is
 * the first such element looked for (dst[i] - src[i] gives back the
 * operand). */
static size_t add_i64_fast(int64_t *restrict dst, const int64_t *restrict src, size_t n)
{
    uint64_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t a = (uint64_t)dst[i], b = (uint64_t)src[i], r = a + b;
        bad |= (a ^ r) & (b ^ r);
        dst[i] = (int64_t)r;
    }
    return bad >> 63 ? ms_k_add_i64_first(dst, src, n) : 0;
}

/* The share test without the division when the total is under 2^43 fen
 * (88 billion yuan: every real settlement), where total x ppm fits in 63
 * bits; the exact general path otherwise.  Branch-light, vectorisable. */
static void share_at_least_fast(const int64_t *restrict part, const int64_t *restrict total, size_t n,
                                int64_t ppm, uint8_t *restrict flag)
{
    for (size_t i = 0; i < n; i++) {
        int64_t t = total[i];
        if ((t | part[i]) >> 43) flag[i] = t > 0 && part[i] >= ms_share_ceil(t, ppm);
        else flag[i] = t > 0 && part[i] * MS_PPM >= t * ppm;
    }
}

/* --- The codec's unshuffle and checksum --- */

/* One element size known to the compiler: each element's bytes are
 * gathered from the planes and written together, so the output is written
 * once, in order, instead of once per plane. */
#define UNSHUFFLE_FIXED(ES)                                                                  \
    static inline __attribute__((always_inline)) size_t unshuffle##ES(const unsigned char *s, \
                                                                      unsigned char *d, size_t n) \
    {                                                                                        \
        for (size_t i = 0; i < n; i++) {                                                     \
            unsigned char e[ES];                                                             \
            for (size_t b = 0; b < ES; b++) e[b] = s[b * n + i];                             \
            memcpy(d + i * ES, e, ES);                                                       \
        }                                                                                    \
        return n;                                                                            \
    }
UNSHUFFLE_FIXED(2)
UNSHUFFLE_FIXED(4)
UNSHUFFLE_FIXED(8)

static void unshuffle_planes(const void *src, void *dst, size_t n, size_t esize)
{
    ms_unshuffle_by_size(src, dst, n, esize, unshuffle2, unshuffle4, unshuffle8);
}

/* HDF5's Fletcher32 by blocks of 360 words (ms_fletcher_blocks.h), the
 * words of a block summed in plain C, which the compiler vectorises. */
static uint32_t fletcher32_blocks(const void *data, size_t len) { return ms_fletcher32_by_blocks(data, len, NULL); }

void ms_kfill_rows_portable(ms_kernels_t *t)
{
    t->count_by_key_if = count_by_key_if_bf;
    t->select_eq_u8 = select_eq_u8_bf;
    t->select_nz_u32 = select_nz_u32_bf;
    t->add_i64 = add_i64_fast;
    t->share_at_least = share_at_least_fast;
    t->unshuffle = unshuffle_planes;
    t->fletcher32 = fletcher32_blocks;
}
