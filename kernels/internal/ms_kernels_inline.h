/*
 * ms_kernels_inline.h - pieces that several versions of a kernel share,
 * static inline so that each file's copy is compiled for its own
 * instruction set (a function passed in is declared always_inline by its
 * file, so that it is inlined, not called through memory).
 */
#ifndef MS_KERNELS_INLINE_H
#define MS_KERNELS_INLINE_H

#include <stddef.h>
#include <stdint.h>

/* add_i64: the first element whose add overflowed, from the wrapped
 * results (dst[i] - src[i] gives back the operand), once a version's
 * folded flag said that one did; 1 + its index. */
static inline size_t ms_k_add_i64_first(const int64_t *dst, const int64_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t r = (uint64_t)dst[i], b = (uint64_t)src[i], a = r - b;
        if (((a ^ r) & (b ^ r)) >> 63) return i + 1;
    }
    return 0; /* not reached when an add overflowed */
}

/* firsts_in_runs over one run [s, e): each row's key looked for among the
 * run's earlier rows, stopping at the first match (a person's rows repeat
 * a few institutions, so most searches end early); the firsts counted. */
static inline size_t ms_k_firsts_scan(const int32_t *key, size_t s, size_t e, uint8_t *first)
{
    size_t m = 0;
    for (size_t i = s; i < e; i++) {
        size_t j = s;
        while (j < i && key[j] != key[i]) j++;
        first[i] = j == i;
        m += j == i;
    }
    return m;
}

/* inside_other_stay: each stay of two days or more (a shorter one has no
 * day strictly inside it) is scanned by the version's hit function: does a
 * row at another institution than k, admitted before d, settle strictly
 * inside (a, d)? */
typedef int (*ms_stay_hit_fn)(const int32_t *inst, const int32_t *admit, const int32_t *settle, size_t n, int32_t a,
                              int32_t d, int32_t k);

static inline size_t ms_k_inside_other_stay_by(const int32_t *inst, const int32_t *admit, const int32_t *discharge,
                                               const int32_t *settle, const uint8_t *stay, size_t n, uint8_t *flag,
                                               ms_stay_hit_fn hit_fn)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t a = admit[i], d = discharge[i];
        uint8_t hit = stay[i] && (int64_t)d - a >= 2 && hit_fn(inst, admit, settle, n, a, d, inst[i]);
        flag[i] = hit;
        m += hit;
    }
    return m;
}

#endif
