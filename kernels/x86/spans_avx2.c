/*
 * spans_avx2.c - the avx2 versions of the spans kernels (compiled for avx2 only).
 *
 * Only the stays pay: for one stay, eight rows are tested at once.  The
 * window sums are a sequential two-pointer walk, and the sorts and ranks
 * scatter (radix, counting) or branch on data (selection): they stay
 * portable (kernels/fast/spans_portable.c).
 */
#include <immintrin.h>

#include "ms_kernels_inline.h"
#include "ms_kernels.h"
#include "ms_kernels_sets.h"

/* Is some row of the eight loaded (the `live` lanes of them) a hit for
 * the stay (a, d) at institution k, and is one admitted on or after d
 * (the end of the scan, rows being admit ascending)?  Bit 0: hit, bit 1:
 * end. */
static inline int block8(__m256i ad, __m256i in, __m256i se, __m256i live, __m256i a, __m256i d, __m256i k)
{
    __m256i before = _mm256_and_si256(_mm256_cmpgt_epi32(d, ad), live);
    __m256i inside = _mm256_and_si256(_mm256_cmpgt_epi32(se, a), _mm256_cmpgt_epi32(d, se));
    __m256i hit = _mm256_andnot_si256(_mm256_cmpeq_epi32(in, k), _mm256_and_si256(before, inside));
    int end = !_mm256_testc_si256(before, live); /* some live lane not before */
    return (_mm256_testz_si256(hit, hit) ? 0 : 1) | end << 1;
}

/* The portable scan (stop on the first row admitted on or after the
 * discharge, or the first hit), a block of eight rows at a time; the last
 * block masked (maskload reads nothing past the end). */
static inline __attribute__((always_inline)) int stay_hit8(const int32_t *inst, const int32_t *admit, const int32_t *settle, size_t n, int32_t a,
                     int32_t d, int32_t k)
{
    const __m256i va = _mm256_set1_epi32(a), vd = _mm256_set1_epi32(d), vk = _mm256_set1_epi32(k);
    const __m256i all = _mm256_set1_epi32(-1);
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256i ad = _mm256_loadu_si256((const __m256i *)(admit + j));
        __m256i in = _mm256_loadu_si256((const __m256i *)(inst + j));
        __m256i se = _mm256_loadu_si256((const __m256i *)(settle + j));
        int r = block8(ad, in, se, all, va, vd, vk);
        if (r) return r & 1;
    }
    if (j == n) return 0;
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - j)), iota);
    __m256i ad = _mm256_maskload_epi32(admit + j, live);
    __m256i in = _mm256_maskload_epi32(inst + j, live);
    __m256i se = _mm256_maskload_epi32(settle + j, live);
    return block8(ad, in, se, live, va, vd, vk) & 1;
}

static size_t inside_other_stay_avx2(const int32_t *inst, const int32_t *admit, const int32_t *discharge,
                                     const int32_t *settle, const uint8_t *stay, size_t n, uint8_t *flag)
{
    return ms_k_inside_other_stay_by(inst, admit, discharge, settle, stay, n, flag, stay_hit8);
}

void ms_kfill_spans_avx2(ms_kernels_t *t) { t->inside_other_stay = inside_other_stay_avx2; }
