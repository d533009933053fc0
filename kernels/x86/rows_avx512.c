/*
 * rows_avx512.c - the AVX-512 versions of the rows kernels (compiled for
 * AVX-512 F, BW, DQ and VL only): the u32 selection and runs of ids
 * through mask compares and compresses, add_i64 and share_at_least 8 lanes
 * at a time.  Counts and sums by key (scattered adds, which do not
 * vectorise: conflict detection would cost more than the portable runs
 * summed in a register) keep the portable versions.  The u8 selection
 * keeps the AVX2 one: 64 rows per compare and a compress per 16 measured
 * no faster than AVX2's table of 8-bit masks (equal at a third of the rows
 * selected, 1.5 times slower at one in 40, on AMD Zen 4).  The codec's
 * unshuffle and Fletcher-32 keep the AVX2 ones too (at 32 bytes a step
 * they already move some 30-45 GB/s, near the L2 cache's bandwidth).
 */
#include <immintrin.h>

#include "ms_kernels_inline.h"
#include "ms_kernels.h"
#include "ms_kernels_sets.h"

/* --- Writing a selection from a mask --- */

/* Rows base + the set bits of mask16 (lowest first) written at idx[m];
 * returns the new m.  Compressed in a register and stored whole, not with
 * vpcompressd to memory (_mm512_mask_compressstoreu_epi32), which is
 * microcoded on AMD Zen 4: 12 times slower there, measured.  The 16
 * stores need room: m <= base and base + 16 <= n. */
static inline size_t write16(uint32_t *idx, size_t m, uint32_t base, __mmask16 mask16)
{
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m512i v = _mm512_maskz_compress_epi32(mask16, _mm512_add_epi32(iota, _mm512_set1_epi32((int)base)));
    _mm512_storeu_si512((void *)(idx + m), v);
    return m + (size_t)__builtin_popcount(mask16);
}

/* --- Selections --- */

/* 16 rows at a time: a mask test against themselves (non-zero lanes). */
static size_t select_nz_u32_avx512(const uint32_t *col, size_t n, uint32_t *idx)
{
    size_t m = 0, i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i x = _mm512_loadu_si512((const void *)(col + i));
        __mmask16 nz = _mm512_test_epi32_mask(x, x);
        if (!nz) continue;
        m = write16(idx, m, (uint32_t)i, nz);
    }
    for (; i < n; i++) {
        idx[m] = (uint32_t)i;
        m += col[i] != 0;
    }
    return m;
}

/* --- Runs of ids --- */

/* id[i] against id[i - 1], 16 rows at a time (two 8-lane compares). */
static size_t segments_u64_avx512(const uint64_t *id, size_t n, uint32_t *start)
{
    start[0] = 0;
    if (!n) return 0;
    size_t k = 1, i = 1;
    for (; i + 16 <= n; i += 16) {
        __mmask8 d0 = _mm512_cmpneq_epu64_mask(_mm512_loadu_si512((const void *)(id + i)),
                                               _mm512_loadu_si512((const void *)(id + i - 1)));
        __mmask8 d1 = _mm512_cmpneq_epu64_mask(_mm512_loadu_si512((const void *)(id + i + 8)),
                                               _mm512_loadu_si512((const void *)(id + i + 7)));
        __mmask16 d = (__mmask16)(d0 | (unsigned)d1 << 8);
        if (!d) continue;
        k = write16(start, k, (uint32_t)i, d);
    }
    for (; i < n; i++) {
        start[k] = (uint32_t)i;
        k += id[i] != id[i - 1];
    }
    start[k] = (uint32_t)n;
    return k;
}

/* --- Element-wise sums and shares --- */

/* Wrapping adds 8 lanes at a time; (a^r) & (b^r) in one ternary-logic
 * instruction (0x42: a != r and b != r), OR-ed into one register whose
 * sign bits are looked at once at the end.  The tail is a masked step. */
static size_t add_i64_avx512(int64_t *dst, const int64_t *src, size_t n)
{
    __m512i bad = _mm512_setzero_si512();
    for (size_t i = 0; i < n; i += 8) {
        __mmask8 live = n - i >= 8 ? (__mmask8)0xff : (__mmask8)((1u << (n - i)) - 1);
        __m512i a = _mm512_maskz_loadu_epi64(live, dst + i), b = _mm512_maskz_loadu_epi64(live, src + i);
        __m512i r = _mm512_add_epi64(a, b);
        bad = _mm512_or_si512(bad, _mm512_ternarylogic_epi64(a, b, r, 0x42));
        _mm512_mask_storeu_epi64(dst + i, live, r);
    }
    if (!_mm512_movepi64_mask(bad)) return 0;
    return ms_k_add_i64_first(dst, src, n);
}

/* The portable version's decision, 16 elements at a time: the lanes
 * whose total and part are in [0, 2^43) compare part x 10^6 with
 * total x ppm in 64 bits (vpmullq); any other lane is then redone by the
 * exact general path.  The masks become bytes with one masked move. */
static void share_at_least_avx512(const int64_t *part, const int64_t *total, size_t n, int64_t ppm,
                                  uint8_t *flag)
{
    const __m512i vppm = _mm512_set1_epi64(ppm), vmil = _mm512_set1_epi64(MS_PPM);
    const __m512i high = _mm512_set1_epi64(~(((int64_t)1 << 43) - 1)), zero = _mm512_setzero_si512();
    for (size_t i = 0; i < n; i += 16) {
        size_t left = n - i;
        __mmask16 live = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
        unsigned yes = 0, slow = 0;
        for (int h = 0; h < 2; h++) {
            __mmask8 l = (__mmask8)(live >> (8 * h));
            __m512i t = _mm512_maskz_loadu_epi64(l, total + i + 8 * h);
            __m512i p = _mm512_maskz_loadu_epi64(l, part + i + 8 * h);
            __mmask8 s = _mm512_test_epi64_mask(_mm512_or_si512(t, p), high);
            __mmask8 y = _mm512_cmpgt_epi64_mask(t, zero) &
                         _mm512_cmpge_epi64_mask(_mm512_mullo_epi64(p, vmil), _mm512_mullo_epi64(t, vppm));
            yes |= (unsigned)y << (8 * h);
            slow |= (unsigned)s << (8 * h);
        }
        _mm_mask_storeu_epi8(flag + i, live, _mm_maskz_set1_epi8((__mmask16)yes, 1));
        for (; slow; slow &= slow - 1) {
            size_t j = i + (size_t)__builtin_ctz(slow);
            flag[j] = total[j] > 0 && part[j] >= ms_share_ceil(total[j], ppm);
        }
    }
}

void ms_kfill_rows_avx512(ms_kernels_t *t)
{
    t->select_nz_u32 = select_nz_u32_avx512;
    t->segments_u64 = segments_u64_avx512;
    t->add_i64 = add_i64_avx512;
    t->share_at_least = share_at_least_avx512;
}
