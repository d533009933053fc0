/* ms_kernels_ref.h - the reference kernels (see ../ms_kernels.h). */
#ifndef MS_KERNELS_REF_H
#define MS_KERNELS_REF_H

#include <stddef.h>
#include <stdint.h>

void ms_k_count_by_key_ref(const int32_t *key, size_t n, int64_t *counts);
size_t ms_k_sum_by_key_ref(const int32_t *key, const int64_t *val, size_t n, int64_t *sums);
void ms_k_count_by_key_if_ref(const int32_t *key, const uint8_t *sel, uint8_t want, size_t n,
                              int64_t *counts);
size_t ms_k_add_i64_ref(int64_t *dst, const int64_t *src, size_t n);
void ms_k_share_at_least_ref(const int64_t *part, const int64_t *total, size_t n, int64_t ppm, uint8_t *flag);

#endif
