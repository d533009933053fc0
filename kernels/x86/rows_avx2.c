/*
 * rows_avx2.c - the AVX2 versions of the rows kernels (compiled for AVX2
 * only): selections and runs of ids 32 or 16 rows at a time, add_i64 and
 * share_at_least 4 lanes at a time, the codec's unshuffle 32 elements at
 * a time and Fletcher-32 16 words at a time.  Counts and sums by key are
 * scattered adds, which do not vectorise (a gather/scatter would lose to
 * the portable runs summed in a register): they keep the portable
 * versions.
 */
#include <immintrin.h>
#include <string.h>

#include "ms_fletcher_blocks.h"
#include "ms_kernels_inline.h"
#include "ms_kernels.h"
#include "ms_kernels_sets.h"
#include "ms_unshuffle_sizes.h"

/* --- Writing a selection from a mask --- */

/* Rows base + the set bits of mask8 written at idx[m] with one 8-lane
 * store (room: m <= base and base + 8 <= n); returns the new m. */
static inline size_t write8(uint32_t *idx, size_t m, size_t base, unsigned mask8)
{
    __m256i p = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)ms_k_bit_pos[mask8]));
    _mm256_storeu_si256((__m256i *)(void *)(idx + m), _mm256_add_epi32(p, _mm256_set1_epi32((int)(uint32_t)base)));
    return m + (size_t)__builtin_popcount(mask8);
}

/* --- Selections --- */

/* 32 rows at a time: one compare, one movemask, four table writes; blocks
 * without a match cost one predictable branch. */
static size_t select_eq_u8_avx2(const uint8_t *col, size_t n, uint8_t want, uint32_t *idx)
{
    const __m256i w = _mm256_set1_epi8((char)want);
    size_t m = 0, i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(col + i));
        uint32_t mask = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, w));
        if (!mask) continue;
        for (int q = 0; q < 4; q++) m = write8(idx, m, i + 8 * (size_t)q, mask >> (8 * q) & 0xff);
    }
    for (; i < n; i++) {
        idx[m] = (uint32_t)i;
        m += col[i] == want;
    }
    return m;
}

/* 16 rows at a time: two 8-lane compares with zero, their masks inverted. */
static size_t select_nz_u32_avx2(const uint32_t *col, size_t n, uint32_t *idx)
{
    const __m256i z = _mm256_setzero_si256();
    size_t m = 0, i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(col + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(col + i + 8));
        unsigned zero = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(a, z))) |
                        (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(b, z))) << 8;
        if (zero == 0xffff) continue;
        m = write8(idx, m, i, ~zero & 0xff);
        m = write8(idx, m, i + 8, ~zero >> 8 & 0xff);
    }
    for (; i < n; i++) {
        idx[m] = (uint32_t)i;
        m += col[i] != 0;
    }
    return m;
}

/* --- Runs of ids --- */

/* id[i] against id[i - 1], 8 rows at a time (two 4-lane compares). */
static size_t segments_u64_avx2(const uint64_t *id, size_t n, uint32_t *start)
{
    start[0] = 0;
    if (!n) return 0;
    size_t k = 1, i = 1;
    for (; i + 8 <= n; i += 8) {
        __m256i a0 = _mm256_loadu_si256((const __m256i *)(const void *)(id + i));
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(const void *)(id + i - 1));
        __m256i a1 = _mm256_loadu_si256((const __m256i *)(const void *)(id + i + 4));
        __m256i b1 = _mm256_loadu_si256((const __m256i *)(const void *)(id + i + 3));
        unsigned eq = (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(a0, b0))) |
                      (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(a1, b1))) << 4;
        if (eq == 0xff) continue;
        k = write8(start, k, i, ~eq & 0xff);
    }
    for (; i < n; i++) {
        start[k] = (uint32_t)i;
        k += id[i] != id[i - 1];
    }
    start[k] = (uint32_t)n;
    return k;
}

/* --- Element-wise sums and shares --- */

/* Wrapping adds 8 elements at a time, the overflow test ((a^r) & (b^r),
 * sign bit) OR-ed into one register, looked at once at the end. */
static size_t add_i64_avx2(int64_t *dst, const int64_t *src, size_t n)
{
    __m256i bad = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int h = 0; h < 8; h += 4) {
            __m256i *d = (__m256i *)(void *)(dst + i + h);
            __m256i a = _mm256_loadu_si256(d), b = _mm256_loadu_si256((const __m256i *)(const void *)(src + i + h));
            __m256i r = _mm256_add_epi64(a, b);
            bad = _mm256_or_si256(bad, _mm256_and_si256(_mm256_xor_si256(a, r), _mm256_xor_si256(b, r)));
            _mm256_storeu_si256(d, r);
        }
    uint64_t tail = 0;
    for (; i < n; i++) {
        uint64_t a = (uint64_t)dst[i], b = (uint64_t)src[i], r = a + b;
        tail |= (a ^ r) & (b ^ r);
        dst[i] = (int64_t)r;
    }
    if (!_mm256_movemask_pd(_mm256_castsi256_pd(bad)) && !(tail >> 63)) return 0;
    return ms_k_add_i64_first(dst, src, n);
}

/* x * c for 0 <= x < 2^43 and 0 <= c < 2^32, exact (under 2^63): AVX2
 * multiplies 32-bit halves only, so x's low and high halves separately. */
static inline __m256i mul43(__m256i x, __m256i c)
{
    __m256i lo = _mm256_mul_epu32(x, c), hi = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), c);
    return _mm256_add_epi64(lo, _mm256_slli_epi64(hi, 32));
}

/* The portable version's decision, 4 elements at a time: when every
 * total and part is in [0, 2^43), part x 10^6 >= total x ppm in 64 bits;
 * otherwise these 4 elements by the exact general path.  The 4 flags are
 * the 4 sign bits, spread to bytes by a 16-entry table. */
static void share_at_least_avx2(const int64_t *part, const int64_t *total, size_t n, int64_t ppm, uint8_t *flag)
{
    static const uint32_t bytes4[16] = {
        0x00000000, 0x00000001, 0x00000100, 0x00000101, 0x00010000, 0x00010001, 0x00010100, 0x00010101,
        0x01000000, 0x01000001, 0x01000100, 0x01000101, 0x01010000, 0x01010001, 0x01010100, 0x01010101};
    const __m256i vppm = _mm256_set1_epi64x(ppm), vmil = _mm256_set1_epi64x(MS_PPM);
    const __m256i high = _mm256_set1_epi64x(~(((int64_t)1 << 43) - 1)), zero = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256i t = _mm256_loadu_si256((const __m256i *)(const void *)(total + i));
        __m256i p = _mm256_loadu_si256((const __m256i *)(const void *)(part + i));
        if (!_mm256_testz_si256(_mm256_or_si256(t, p), high)) {
            for (size_t j = i; j < i + 4; j++) flag[j] = total[j] > 0 && part[j] >= ms_share_ceil(total[j], ppm);
            continue;
        }
        __m256i under = _mm256_cmpgt_epi64(mul43(t, vppm), mul43(p, vmil));
        __m256i yes = _mm256_andnot_si256(under, _mm256_cmpgt_epi64(t, zero));
        memcpy(flag + i, &bytes4[_mm256_movemask_pd(_mm256_castsi256_pd(yes))], 4);
    }
    for (; i < n; i++) {
        int64_t t = total[i];
        if ((t | part[i]) >> 43) flag[i] = t > 0 && part[i] >= ms_share_ceil(t, ppm);
        else flag[i] = t > 0 && part[i] * MS_PPM >= t * ppm;
    }
}

/* --- The codec's unshuffle --- */

/* 32 elements of 4 byte planes n bytes apart, byte-transposed within each
 * 128-bit lane: c[k] holds elements 4k..4k+3 (low lane) and 16+4k..19+4k
 * (high lane), each as its 4 bytes in plane order. */
static inline void transpose4x32(const unsigned char *p, size_t n, __m256i c[4])
{
    __m256i a0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
    __m256i a1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + n));
    __m256i a2 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 2 * n));
    __m256i a3 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 3 * n));
    __m256i b0 = _mm256_unpacklo_epi8(a0, a1), b1 = _mm256_unpackhi_epi8(a0, a1);
    __m256i b2 = _mm256_unpacklo_epi8(a2, a3), b3 = _mm256_unpackhi_epi8(a2, a3);
    c[0] = _mm256_unpacklo_epi16(b0, b2), c[1] = _mm256_unpackhi_epi16(b0, b2);
    c[2] = _mm256_unpacklo_epi16(b1, b3), c[3] = _mm256_unpackhi_epi16(b1, b3);
}

/* The low lanes of x and y (32 bytes that follow each other in the
 * output), or their high lanes. */
#define LOWS(x, y) _mm256_permute2x128_si256(x, y, 0x20)
#define HIGHS(x, y) _mm256_permute2x128_si256(x, y, 0x31)

static inline __attribute__((always_inline)) size_t unshuffle2_avx2(const unsigned char *s, unsigned char *d, size_t n)
{
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(s + n + i));
        __m256i lo = _mm256_unpacklo_epi8(a, b), hi = _mm256_unpackhi_epi8(a, b);
        __m256i *o = (__m256i *)(void *)(d + i * 2);
        _mm256_storeu_si256(o, LOWS(lo, hi));
        _mm256_storeu_si256(o + 1, HIGHS(lo, hi));
    }
    return i;
}

static inline __attribute__((always_inline)) size_t unshuffle4_avx2(const unsigned char *s, unsigned char *d, size_t n)
{
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i c[4];
        transpose4x32(s + i, n, c);
        __m256i *o = (__m256i *)(void *)(d + i * 4);
        _mm256_storeu_si256(o, LOWS(c[0], c[1]));
        _mm256_storeu_si256(o + 1, LOWS(c[2], c[3]));
        _mm256_storeu_si256(o + 2, HIGHS(c[0], c[1]));
        _mm256_storeu_si256(o + 3, HIGHS(c[2], c[3]));
    }
    return i;
}

/* The halves of each element from planes 0-3 and 4-7, interleaved by
 * 4-byte units: elements 4k..4k+3 and 16+4k..19+4k per k. */
static inline __attribute__((always_inline)) size_t unshuffle8_avx2(const unsigned char *s, unsigned char *d, size_t n)
{
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i lo[4], hi[4];
        transpose4x32(s + i, n, lo);
        transpose4x32(s + 4 * n + i, n, hi);
        __m256i *o = (__m256i *)(void *)(d + i * 8);
        for (int k = 0; k < 4; k++) {
            __m256i u = _mm256_unpacklo_epi32(lo[k], hi[k]), v = _mm256_unpackhi_epi32(lo[k], hi[k]);
            _mm256_storeu_si256(o + k, LOWS(u, v));
            _mm256_storeu_si256(o + 4 + k, HIGHS(u, v));
        }
    }
    return i;
}

/* Element sizes 2, 4 and 8 in registers (ms_unshuffle_sizes.h). */
static void unshuffle_avx2(const void *src, void *dst, size_t n, size_t esize)
{
    ms_unshuffle_by_size(src, dst, n, esize, unshuffle2_avx2, unshuffle4_avx2, unshuffle8_avx2);
}

/* --- The codec's Fletcher-32 --- */

/* The sums of 8 lanes of 32 bits, mod 2^32. */
static inline uint32_t hsum8(__m256i v)
{
    __m128i x = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0x4e));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0xb1));
    return (uint32_t)_mm_cvtsi128_si32(x);
}

/* The words [0, n & ~15) of a block of n (<= 360): a += their sum, b +=
 * the sum of (n - i) * w_i, exactly as the scalar loop (mod 2^32).
 * vpmaddwd multiplies signed 16-bit lanes, so each word is taken as
 * w - 32768 (its top bit flipped) and 32768 times the weights added back;
 * a lane's sums stay under 2^31 for 360 words.  Returns n & ~15. */
static inline __attribute__((always_inline)) uint32_t block_sums_avx2(const unsigned char *data, uint32_t n, uint32_t *a, uint32_t *b)
{
    uint32_t n16 = n & ~15u;
    if (!n16) return 0;
    const __m256i swap = _mm256_setr_epi8(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14,
                                          1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
    const __m256i flip = _mm256_set1_epi16((short)0x8000), ones = _mm256_set1_epi16(1);
    const __m256i sixteen = _mm256_set1_epi16(16);
    __m256i wt = _mm256_sub_epi16(_mm256_set1_epi16((short)n),
                                  _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    __m256i sa = _mm256_setzero_si256(), sb = _mm256_setzero_si256();
    for (uint32_t i = 0; i < n16; i += 16) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(data + 2 * (size_t)i));
        x = _mm256_xor_si256(_mm256_shuffle_epi8(x, swap), flip); /* big-endian words, biased */
        sa = _mm256_add_epi32(sa, _mm256_madd_epi16(x, ones));
        sb = _mm256_add_epi32(sb, _mm256_madd_epi16(x, wt));
        wt = _mm256_sub_epi16(wt, sixteen);
    }
    uint32_t weights = n16 * n - n16 * (n16 - 1) / 2; /* sum of n - i over the words */
    *a += hsum8(sa) + 32768u * n16;
    *b += hsum8(sb) + 32768u * weights;
    return n16;
}

/* HDF5's Fletcher32 by blocks of 360 words (ms_fletcher_blocks.h),
 * sixteen words at a time. */
static uint32_t fletcher32_avx2(const void *data, size_t len)
{
    return ms_fletcher32_by_blocks(data, len, block_sums_avx2);
}

void ms_kfill_rows_avx2(ms_kernels_t *t)
{
    t->select_eq_u8 = select_eq_u8_avx2;
    t->select_nz_u32 = select_nz_u32_avx2;
    t->segments_u64 = segments_u64_avx2;
    t->add_i64 = add_i64_avx2;
    t->share_at_least = share_at_least_avx2;
    t->unshuffle = unshuffle_avx2;
    t->fletcher32 = fletcher32_avx2;
}
