/*
 * ms_kernels_ref.c - the reference kernels: the definition of each loop,
 * written for clarity.  The fast versions must give identical results.
 */
#include "ms_kernels_ref.h"

#include "../ms_kernels.h"

void ms_k_count_by_key_ref(const int32_t *key, size_t n, int64_t *counts)
{
    for (size_t i = 0; i < n; i++) counts[key[i]]++;
}

/* Each add checked (__builtin_add_overflow stores the wrapped sum). */
size_t ms_k_sum_by_key_ref(const int32_t *key, const int64_t *val, size_t n, int64_t *sums)
{
    size_t first = 0;
    for (size_t i = 0; i < n; i++)
        if (__builtin_add_overflow(sums[key[i]], val[i], &sums[key[i]]) && !first) first = i + 1;
    return first;
}

void ms_k_count_by_key_if_ref(const int32_t *key, const uint8_t *sel, uint8_t want, size_t n,
                              int64_t *counts)
{
    for (size_t i = 0; i < n; i++)
        if (sel[i] == want) counts[key[i]]++;
}

size_t ms_k_add_i64_ref(int64_t *dst, const int64_t *src, size_t n)
{
    size_t first = 0;
    for (size_t i = 0; i < n; i++)
        if (__builtin_add_overflow(dst[i], src[i], &dst[i]) && !first) first = i + 1;
    return first;
}

void ms_k_share_at_least_ref(const int64_t *part, const int64_t *total, size_t n, int64_t ppm, uint8_t *flag)
{
    for (size_t i = 0; i < n; i++) flag[i] = total[i] > 0 && part[i] >= ms_share_ceil(total[i], ppm);
}
