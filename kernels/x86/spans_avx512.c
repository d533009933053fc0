/*
 * spans_avx512.c - the avx512 versions of the spans kernels (compiled for avx512 only).
 *
 * firsts_in_runs: a run (a person) of up to 16 rows is one masked load and
 * one conflict detection (AVX-512CD's vpconflictd gives each lane the lanes
 * before it that hold the same key: a first has none).  Longer runs take
 * the portable scan.
 *
 * Nothing else pays over AVX2, so this set keeps AVX2's
 * (kernels/x86/spans_avx2.c) and the portable ones.  The stays were measured (AMD EPYC, persons of
 * 5-50 and 20-200 rows, speedup over the reference): sixteen lanes with
 * mask registers 3.7x and 6.8x against AVX2's 4.4x and 7.4x, because a
 * stay's scan mostly ends within the first eight rows and this CPU splits
 * 512-bit operations in two; eight lanes (AVX-512VL, masked tail) tied
 * with AVX2.  The window sums are a sequential two-pointer walk; the sorts
 * and ranks scatter (radix, counting: an AVX-512 histogram does not beat
 * the scalar one on 256 buckets) or branch on data (selection).
 */
#include <immintrin.h>

#include "ms_kernels_inline.h"
#include "ms_kernels.h"
#include "ms_kernels_sets.h"

static size_t firsts_in_runs_conflict(const int32_t *key, const uint32_t *start, size_t nruns, uint8_t *first)
{
    const __m128i one = _mm_set1_epi8(1);
    size_t m = 0;
    for (size_t r = 0; r < nruns; r++) {
        size_t s = start[r], n = start[r + 1] - s;
        if (n <= 16) {
            __mmask16 live = (__mmask16)((1u << n) - 1);
            /* Lanes past the run load as 0 and come after every live lane:
             * a lane's conflicts are with lanes before it only. */
            __m512i v = _mm512_maskz_loadu_epi32(live, key + s);
            __m512i c = _mm512_conflict_epi32(v);
            __mmask16 firsts = (__mmask16)(live & ~_mm512_test_epi32_mask(c, c));
            _mm_mask_storeu_epi8(first + s, live, _mm_maskz_mov_epi8(firsts, one));
            m += (size_t)__builtin_popcount(firsts);
            continue;
        }
        m += ms_k_firsts_scan(key, s, s + n, first);
    }
    return m;
}

void ms_kfill_spans_avx512(ms_kernels_t *t) { t->firsts_in_runs = firsts_in_runs_conflict; }
