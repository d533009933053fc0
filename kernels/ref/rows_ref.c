/*
 * rows_ref.c - the reference kernels over rows: selections, counts and sums
 * by key, runs of equal ids, exact shares, and the codec's unshuffle and
 * checksum.  The definition of each loop, written for clarity; every fast
 * version must give identical results.
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

size_t ms_k_select_eq_u8_ref(const uint8_t *col, size_t n, uint8_t want, uint32_t *idx)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (col[i] == want) idx[m++] = (uint32_t)i;
    return m;
}

size_t ms_k_select_nz_u32_ref(const uint32_t *col, size_t n, uint32_t *idx)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (col[i] != 0) idx[m++] = (uint32_t)i;
    return m;
}

void ms_k_count_by_key_sel_ref(const int32_t *key, const uint32_t *idx, size_t nsel, int64_t *counts)
{
    for (size_t s = 0; s < nsel; s++) counts[key[idx[s]]]++;
}

size_t ms_k_sum_by_key_sel_ref(const int32_t *key, const int64_t *val, const uint32_t *idx, size_t nsel,
                               int64_t *sums)
{
    size_t first = 0;
    for (size_t s = 0; s < nsel; s++) {
        uint32_t i = idx[s];
        if (__builtin_add_overflow(sums[key[i]], val[i], &sums[key[i]]) && !first) first = s + 1;
    }
    return first;
}

size_t ms_k_segments_u64_ref(const uint64_t *id, size_t n, uint32_t *start)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || id[i] != id[i - 1]) start[k++] = (uint32_t)i;
    start[k] = (uint32_t)n;
    return k;
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

/* HDF5's shuffle stores byte b of element i at b * n + i. */
void ms_k_unshuffle_ref(const void *src, void *dst, size_t n, size_t esize)
{
    const unsigned char *s = src;
    unsigned char *d = dst;
    for (size_t i = 0; i < n; i++)
        for (size_t b = 0; b < esize; b++) d[i * esize + b] = s[b * n + i];
}

/* HDF5's definition (H5_checksum_fletcher32), big-endian 16-bit word by
 * word, folded every 360 words; an odd last byte is the high byte of a
 * last word. */
uint32_t ms_k_fletcher32_ref(const void *data_, size_t len_)
{
    const unsigned char *data = data_;
    size_t len = len_ / 2;
    uint32_t sum1 = 0, sum2 = 0;
    while (len) {
        size_t tlen = len > 360 ? 360 : len;
        len -= tlen;
        do {
            sum1 += ((uint32_t)data[0] << 8) | (uint32_t)data[1];
            data += 2;
            sum2 += sum1;
        } while (--tlen);
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    if (len_ % 2) {
        sum1 += (uint32_t)*data << 8;
        sum2 += sum1;
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    return (sum2 << 16) | sum1;
}
