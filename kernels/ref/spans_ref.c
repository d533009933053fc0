/*
 * spans_ref.c - the reference kernels over a person's history and a key's
 * values: visits inside another institution's stay, rolling-window sums,
 * sorting and nearest ranks.  The definitions, written for clarity (the
 * quadratic loops are the point: nothing clever to get wrong); every fast
 * version must give identical results.
 */
#include <stdlib.h>

#include "ms_kernels_ref.h"

size_t ms_k_firsts_in_runs_ref(const int32_t *key, const uint32_t *start, size_t nruns, uint8_t *first)
{
    size_t m = 0;
    for (size_t r = 0; r < nruns; r++)
        for (size_t i = start[r]; i < start[r + 1]; i++) {
            first[i] = 1;
            for (size_t j = start[r]; j < i; j++)
                if (key[j] == key[i]) first[i] = 0;
            m += first[i];
        }
    return m;
}

size_t ms_k_inside_other_stay_ref(const int32_t *inst, const int32_t *admit, const int32_t *discharge,
                                  const int32_t *settle, const uint8_t *stay, size_t n, uint8_t *flag)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        flag[i] = 0;
        if (!stay[i]) continue;
        for (size_t j = 0; j < n; j++)
            if (admit[j] < discharge[i] && inst[j] != inst[i] && settle[j] > admit[i] && settle[j] < discharge[i])
                flag[i] = 1;
        m += flag[i];
    }
    return m;
}

uint64_t ms_k_window_max_sum_ref(const int32_t *day, const uint32_t *qty, size_t n, int64_t window)
{
    uint64_t best = 0;
    for (size_t r = 0; r < n; r++) {
        uint64_t sum = 0;
        for (size_t l = 0; l <= r; l++)
            if ((int64_t)day[l] > (int64_t)day[r] - window) sum += qty[l];
        if (sum > best) best = sum;
    }
    return best;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

void ms_k_sort_i32_ref(int32_t *v, size_t n, int32_t *tmp)
{
    (void)tmp;
    if (n > 1) qsort(v, n, sizeof *v, cmp_i32);
}

static int cmp_f64(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void ms_k_sort_f64_ref(double *v, size_t n, uint64_t *tmp)
{
    (void)tmp;
    if (n > 1) qsort(v, n, sizeof *v, cmp_f64);
    for (size_t i = 0; i < n; i++)
        if (v[i] == 0) v[i] = 0.0; /* -0.0 too */
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

uint64_t ms_k_rank_u64_ref(uint64_t *v, size_t n, size_t rank)
{
    if (n > 1) qsort(v, n, sizeof *v, cmp_u64);
    return v[rank - 1];
}
