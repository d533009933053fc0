/*
 * rows_portable.c - fast versions over rows in plain C, for any CPU: the
 * base that the x86 sets build on.
 */
#include "ms_kernels.h"
#include "ms_kernels_sets.h"


/* Fast versions.  Scattered adds (by key) do not vectorise; what pays is
 * breaking the dependency chain when consecutive rows hit the same key, as
 * they do in partitions sorted by person (whose visits cluster at a few
 * institutions): runs of equal keys are summed in a register first. */
static void count_by_key_runs(const int32_t *key, size_t n, int64_t *counts)
{
    size_t i = 0;
    while (i < n) {
        int32_t k = key[i];
        size_t j = i + 1;
        while (j < n && key[j] == k) j++;
        counts[k] += (int64_t)(j - i);
        i = j;
    }
}

/* Checked like the reference, add by add in row order (so that the report
 * and the values are the reference's), but the run's sum stays in a
 * register: the dependency goes through memory once per run.  (The check
 * costs about a third more than unchecked adds, some 0.4 ns a row; OR-ing
 * the flags branch-free and re-adding an overflowed run measured slower.) */
static size_t sum_by_key_runs(const int32_t *key, const int64_t *val, size_t n, int64_t *sums)
{
    size_t i = 0, first = 0;
    while (i < n) {
        int32_t k = key[i];
        int64_t s = sums[k];
        size_t j = i;
        for (; j < n && key[j] == k; j++)
            if (__builtin_expect(__builtin_add_overflow(s, val[j], &s), 0) && !first) first = j + 1;
        sums[k] = s;
        i = j;
    }
    return first;
}

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
    if (!(bad >> 63)) return 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = (uint64_t)dst[i], b = (uint64_t)src[i], a = r - b;
        if (((a ^ r) & (b ^ r)) >> 63) return i + 1;
    }
    return 0; /* not reached */
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

void ms_kfill_rows_portable(ms_kernels_t *t)
{
    t->count_by_key = count_by_key_runs;
    t->sum_by_key = sum_by_key_runs;
    t->add_i64 = add_i64_fast;
    t->share_at_least = share_at_least_fast;
}
