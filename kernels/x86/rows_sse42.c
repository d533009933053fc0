/*
 * rows_sse42.c - the SSE4.2 versions of the rows kernels (compiled for
 * SSE4.2 only): selections and runs of ids 16 or 8 rows at a time, and
 * the codec's unshuffle and Fletcher-32 (SSE2 code, SSE2 being part of
 * SSE4.2).  Counts and sums by key (scattered adds), add_i64 and
 * share_at_least (which the compiler already vectorises with SSE2) keep
 * the portable versions.
 */
#include <nmmintrin.h>
#include <string.h>

#include "ms_fletcher_blocks.h"
#include "ms_kernels.h"
#include "ms_kernels_sets.h"
#include "ms_unshuffle_sizes.h"

/* --- Writing a selection from a mask --- */

/* Rows base + the set bits of mask8 written at idx[m]; returns the new m.
 * Always stores 8 entries: the caller's idx has room for them (m <= base
 * and base + 8 <= n). */
static inline size_t write8(uint32_t *idx, size_t m, size_t base, unsigned mask8)
{
    __m128i p = _mm_loadl_epi64((const __m128i *)(const void *)ms_k_bit_pos[mask8]);
    __m128i b = _mm_set1_epi32((int)(uint32_t)base);
    _mm_storeu_si128((__m128i *)(void *)(idx + m), _mm_add_epi32(_mm_cvtepu8_epi32(p), b));
    _mm_storeu_si128((__m128i *)(void *)(idx + m + 4), _mm_add_epi32(_mm_cvtepu8_epi32(_mm_srli_si128(p, 4)), b));
    return m + (size_t)__builtin_popcount(mask8);
}

/* --- Selections --- */

/* 16 rows at a time: one compare, one movemask; blocks without a match (a
 * sparse selection) cost one predictable branch. */
static size_t select_eq_u8_sse42(const uint8_t *col, size_t n, uint8_t want, uint32_t *idx)
{
    const __m128i w = _mm_set1_epi8((char)want);
    size_t m = 0, i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(col + i));
        unsigned mask = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, w));
        if (!mask) continue;
        m = write8(idx, m, i, mask & 0xff);
        m = write8(idx, m, i + 8, mask >> 8);
    }
    for (; i < n; i++) {
        idx[m] = (uint32_t)i;
        m += col[i] == want;
    }
    return m;
}

/* 8 rows at a time: two compares with zero, their sign masks, inverted. */
static size_t select_nz_u32_sse42(const uint32_t *col, size_t n, uint32_t *idx)
{
    const __m128i z = _mm_setzero_si128();
    size_t m = 0, i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(col + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(col + i + 4));
        unsigned zero = (unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(a, z))) |
                        (unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(b, z))) << 4;
        if (zero == 0xff) continue;
        m = write8(idx, m, i, ~zero & 0xff);
    }
    for (; i < n; i++) {
        idx[m] = (uint32_t)i;
        m += col[i] != 0;
    }
    return m;
}

/* --- Runs of ids --- */

/* id[i] against id[i - 1], 8 rows at a time (four 2-lane compares); the
 * rows that differ start runs. */
static size_t segments_u64_sse42(const uint64_t *id, size_t n, uint32_t *start)
{
    start[0] = 0;
    if (!n) return 0;
    size_t k = 1, i = 1;
    for (; i + 8 <= n; i += 8) {
        unsigned eq = 0;
        for (int j = 0; j < 4; j++) {
            __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(id + i + 2 * j));
            __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(id + i + 2 * j - 1));
            eq |= (unsigned)_mm_movemask_pd(_mm_castsi128_pd(_mm_cmpeq_epi64(a, b))) << (2 * j);
        }
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

/* --- The codec's unshuffle --- */

/* 16 elements of 4 byte planes n bytes apart (p: the first plane's bytes
 * of these elements), byte-transposed: c[k] holds elements 4k..4k+3, each
 * as its 4 bytes in plane order. */
static inline void transpose4(const unsigned char *p, size_t n, __m128i c[4])
{
    __m128i a0 = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i a1 = _mm_loadu_si128((const __m128i *)(const void *)(p + n));
    __m128i a2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 2 * n));
    __m128i a3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 3 * n));
    __m128i b0 = _mm_unpacklo_epi8(a0, a1), b1 = _mm_unpackhi_epi8(a0, a1);
    __m128i b2 = _mm_unpacklo_epi8(a2, a3), b3 = _mm_unpackhi_epi8(a2, a3);
    c[0] = _mm_unpacklo_epi16(b0, b2), c[1] = _mm_unpackhi_epi16(b0, b2);
    c[2] = _mm_unpacklo_epi16(b1, b3), c[3] = _mm_unpackhi_epi16(b1, b3);
}

/* 16 elements of 8 bytes at a time: an 8x16 byte transpose in registers,
 * the halves of each element from planes 0-3 and 4-7. */
static inline __attribute__((always_inline)) size_t unshuffle8_sse(const unsigned char *s, unsigned char *d, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i lo[4], hi[4];
        transpose4(s + i, n, lo);
        transpose4(s + 4 * n + i, n, hi);
        __m128i *o = (__m128i *)(void *)(d + i * 8);
        for (int k = 0; k < 4; k++) {
            _mm_storeu_si128(o + 2 * k, _mm_unpacklo_epi32(lo[k], hi[k]));
            _mm_storeu_si128(o + 2 * k + 1, _mm_unpackhi_epi32(lo[k], hi[k]));
        }
    }
    return i;
}

/* 16 elements of 4 bytes at a time. */
static inline __attribute__((always_inline)) size_t unshuffle4_sse(const unsigned char *s, unsigned char *d, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i c[4];
        transpose4(s + i, n, c);
        __m128i *o = (__m128i *)(void *)(d + i * 4);
        for (int k = 0; k < 4; k++) _mm_storeu_si128(o + k, c[k]);
    }
    return i;
}

/* 16 elements of 2 bytes at a time: the two planes interleaved. */
static inline __attribute__((always_inline)) size_t unshuffle2_sse(const unsigned char *s, unsigned char *d, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + n + i));
        __m128i *o = (__m128i *)(void *)(d + i * 2);
        _mm_storeu_si128(o, _mm_unpacklo_epi8(a, b));
        _mm_storeu_si128(o + 1, _mm_unpackhi_epi8(a, b));
    }
    return i;
}

/* Element sizes 2, 4 and 8 in registers (ms_unshuffle_sizes.h). */
static void unshuffle_sse42(const void *src, void *dst, size_t n, size_t esize)
{
    ms_unshuffle_by_size(src, dst, n, esize, unshuffle2_sse, unshuffle4_sse, unshuffle8_sse);
}

/* --- The codec's Fletcher-32 --- */

/* The words [0, n & ~7) of a block of n (<= 360): a += their sum, b += the
 * sum of (n - i) * w_i, exactly as the scalar loop (both mod 2^32).
 * pmaddwd multiplies signed 16-bit lanes, so each word is taken as
 * w - 32768 (its top bit flipped) and 32768 times the weights added back;
 * a lane's products stay under 2^31 for 360 words.  Returns n & ~7. */
static inline __attribute__((always_inline)) uint32_t block_sums_sse(const unsigned char *data, uint32_t n, uint32_t *a, uint32_t *b)
{
    uint32_t n8 = n & ~7u;
    if (!n8) return 0;
    const __m128i flip = _mm_set1_epi16((short)0x8000), ones = _mm_set1_epi16(1), eight = _mm_set1_epi16(8);
    __m128i wt = _mm_setr_epi16((short)n, (short)(n - 1), (short)(n - 2), (short)(n - 3), (short)(n - 4),
                                (short)(n - 5), (short)(n - 6), (short)(n - 7));
    __m128i sa = _mm_setzero_si128(), sb = _mm_setzero_si128();
    for (uint32_t i = 0; i < n8; i += 8) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(data + 2 * (size_t)i));
        x = _mm_or_si128(_mm_slli_epi16(x, 8), _mm_srli_epi16(x, 8)); /* big-endian words */
        x = _mm_xor_si128(x, flip);
        sa = _mm_add_epi32(sa, _mm_madd_epi16(x, ones));
        sb = _mm_add_epi32(sb, _mm_madd_epi16(x, wt));
        wt = _mm_sub_epi16(wt, eight);
    }
    uint32_t la[4], lb[4];
    _mm_storeu_si128((__m128i *)(void *)la, sa);
    _mm_storeu_si128((__m128i *)(void *)lb, sb);
    uint32_t weights = n8 * n - n8 * (n8 - 1) / 2; /* sum of n - i over the words */
    *a += la[0] + la[1] + la[2] + la[3] + 32768u * n8;
    *b += lb[0] + lb[1] + lb[2] + lb[3] + 32768u * weights;
    return n8;
}

/* HDF5's Fletcher32 by blocks of 360 words (ms_fletcher_blocks.h), eight
 * words at a time in SSE2. */
static uint32_t fletcher32_sse42(const void *data, size_t len)
{
    return ms_fletcher32_by_blocks(data, len, block_sums_sse);
}

void ms_kfill_rows_sse42(ms_kernels_t *t)
{
    t->select_eq_u8 = select_eq_u8_sse42;
    t->select_nz_u32 = select_nz_u32_sse42;
    t->segments_u64 = segments_u64_sse42;
    t->unshuffle = unshuffle_sse42;
    t->fletcher32 = fletcher32_sse42;
}
