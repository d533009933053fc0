/*
 * spans_sse42.c - the sse42 versions of the spans kernels (compiled for sse42 only).
 *
 * Only the stays pay: for one stay, eight rows are tested at once, in two
 * halves of four.  The window sums are a sequential two-pointer walk, and
 * the sorts and ranks scatter (radix, counting) or branch on data
 * (selection): they stay portable (kernels/fast/spans_portable.c).
 */
#include <immintrin.h>

#include "ms_kernels_inline.h"
#include "ms_kernels.h"
#include "ms_kernels_sets.h"

/* The hits among four rows: admitted before d, settled strictly inside
 * (a, d), at another institution than k; all ones in a lane that hits. */
static inline __m128i hits4(const int32_t *inst, const int32_t *admit, const int32_t *settle, __m128i a,
                            __m128i d, __m128i k, __m128i *before)
{
    __m128i ad = _mm_loadu_si128((const __m128i *)admit);
    __m128i in = _mm_loadu_si128((const __m128i *)inst);
    __m128i se = _mm_loadu_si128((const __m128i *)settle);
    *before = _mm_cmpgt_epi32(d, ad);
    __m128i inside = _mm_and_si128(_mm_cmpgt_epi32(se, a), _mm_cmpgt_epi32(d, se));
    return _mm_andnot_si128(_mm_cmpeq_epi32(in, k), _mm_and_si128(*before, inside));
}

/* The portable scan (stop on the first row admitted on or after the
 * discharge, or the first hit), eight rows a block; the last few rows
 * one at a time. */
static inline __attribute__((always_inline)) int stay_hit(const int32_t *inst, const int32_t *admit, const int32_t *settle, size_t n, int32_t a,
                    int32_t d, int32_t k)
{
    const __m128i va = _mm_set1_epi32(a), vd = _mm_set1_epi32(d), vk = _mm_set1_epi32(k);
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m128i b0, b1;
        __m128i h = _mm_or_si128(hits4(inst + j, admit + j, settle + j, va, vd, vk, &b0),
                                 hits4(inst + j + 4, admit + j + 4, settle + j + 4, va, vd, vk, &b1));
        if (!_mm_testz_si128(h, h)) return 1;
        if (!_mm_test_all_ones(_mm_and_si128(b0, b1))) return 0;
    }
    if (j + 4 <= n) {
        __m128i b0, h = hits4(inst + j, admit + j, settle + j, va, vd, vk, &b0);
        if (!_mm_testz_si128(h, h)) return 1;
        if (!_mm_test_all_ones(b0)) return 0;
        j += 4;
    }
    for (; j < n && admit[j] < d; j++)
        if (inst[j] != k && settle[j] > a && settle[j] < d) return 1;
    return 0;
}

static size_t inside_other_stay_sse42(const int32_t *inst, const int32_t *admit, const int32_t *discharge,
                                      const int32_t *settle, const uint8_t *stay, size_t n, uint8_t *flag)
{
    return ms_k_inside_other_stay_by(inst, admit, discharge, settle, stay, n, flag, stay_hit);
}

void ms_kfill_spans_sse42(ms_kernels_t *t) { t->inside_other_stay = inside_other_stay_sse42; }
