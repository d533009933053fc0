/*
 * ms_kernels.c - the dispatch table: references first, then the fast
 * versions this CPU can run (chosen once; hot loops never test the CPU).
 */
#include "ms_kernels.h"

#include <threads.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ms_kernels_ref.h"

static const ms_kernels_t ref_table = {
    ms_k_count_by_key_ref, ms_k_sum_by_key_ref, ms_k_count_by_key_if_ref, ms_k_add_i64_ref,
    ms_k_share_at_least_ref, "ref",
};

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

static void sum_by_key_runs(const int32_t *key, const int64_t *val, size_t n, int64_t *sums)
{
    size_t i = 0;
    while (i < n) {
        int32_t k = key[i];
        int64_t s = val[i];
        size_t j = i + 1;
        for (; j < n && key[j] == k; j++) s += val[j];
        sums[k] += s;
        i = j;
    }
}

static void add_i64_fast(int64_t *restrict dst, const int64_t *restrict src, size_t n)
{
    /* restrict lets the compiler vectorise; results are exact either way. */
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
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

static ms_kernels_t table;
static once_flag once = ONCE_FLAG_INIT;

static void init_table(void)
{
    table = ref_table;
    const char *env = getenv("MS_KERNELS");
    if (env && !strcmp(env, "ref")) return;
    table.count_by_key = count_by_key_runs;
    table.sum_by_key = sum_by_key_runs;
    table.add_i64 = add_i64_fast;
    table.share_at_least = share_at_least_fast;
    table.name = "fast";
}

const ms_kernels_t *ms_kernels(void)
{
    call_once(&once, init_table);
    return &table;
}

const ms_kernels_t *ms_kernels_ref(void) { return &ref_table; }
