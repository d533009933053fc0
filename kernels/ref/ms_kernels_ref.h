/* ms_kernels_ref.h - the reference kernels (see ../ms_kernels.h): the
 * definition of each loop, written for clarity. */
#ifndef MS_KERNELS_REF_H
#define MS_KERNELS_REF_H

#include <stddef.h>
#include <stdint.h>

/* rows_ref.c */
void ms_k_count_by_key_ref(const int32_t *key, size_t n, int64_t *counts);
size_t ms_k_sum_by_key_ref(const int32_t *key, const int64_t *val, size_t n, int64_t *sums);
void ms_k_count_by_key_if_ref(const int32_t *key, const uint8_t *sel, uint8_t want, size_t n,
                              int64_t *counts);
size_t ms_k_select_eq_u8_ref(const uint8_t *col, size_t n, uint8_t want, uint32_t *idx);
size_t ms_k_select_nz_u32_ref(const uint32_t *col, size_t n, uint32_t *idx);
void ms_k_count_by_key_sel_ref(const int32_t *key, const uint32_t *idx, size_t nsel, int64_t *counts);
size_t ms_k_sum_by_key_sel_ref(const int32_t *key, const int64_t *val, const uint32_t *idx, size_t nsel,
                               int64_t *sums);
size_t ms_k_segments_u64_ref(const uint64_t *id, size_t n, uint32_t *start);
size_t ms_k_add_i64_ref(int64_t *dst, const int64_t *src, size_t n);
void ms_k_share_at_least_ref(const int64_t *part, const int64_t *total, size_t n, int64_t ppm, uint8_t *flag);
void ms_k_unshuffle_ref(const void *src, void *dst, size_t n, size_t esize);
uint32_t ms_k_fletcher32_ref(const void *data, size_t len);

/* spans_ref.c */
size_t ms_k_firsts_in_runs_ref(const int32_t *key, const uint32_t *start, size_t nruns, uint8_t *first);
size_t ms_k_inside_other_stay_ref(const int32_t *inst, const int32_t *admit, const int32_t *discharge,
                                  const int32_t *settle, const uint8_t *stay, size_t n, uint8_t *flag);
uint64_t ms_k_window_max_sum_ref(const int32_t *day, const uint32_t *qty, size_t n, int64_t window);
void ms_k_sort_i32_ref(int32_t *v, size_t n, int32_t *tmp);
void ms_k_sort_f64_ref(double *v, size_t n, uint64_t *tmp);
uint64_t ms_k_rank_u64_ref(uint64_t *v, size_t n, size_t rank);

#endif
