/*
 * spans_avx512.c - the avx512 versions of the spans kernels (compiled for avx512 only).
 *
 * None pays over AVX2, so this set keeps AVX2's (kernels/x86/spans_avx2.c)
 * and the portable ones.  The stays were measured (AMD EPYC, persons of
 * 5-50 and 20-200 rows, speedup over the reference): sixteen lanes with
 * mask registers 3.7x and 6.8x against AVX2's 4.4x and 7.4x, because a
 * stay's scan mostly ends within the first eight rows and this CPU splits
 * 512-bit operations in two; eight lanes (AVX-512VL, masked tail) tied
 * with AVX2.  The window sums are a sequential two-pointer walk; the sorts
 * and ranks scatter (radix, counting: an AVX-512 histogram does not beat
 * the scalar one on 256 buckets) or branch on data (selection).
 */
#include "ms_kernels.h"
#include "ms_kernels_sets.h"

void ms_kfill_spans_avx512(ms_kernels_t *t) { (void)t; }
