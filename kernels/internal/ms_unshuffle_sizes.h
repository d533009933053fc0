/*
 * ms_unshuffle_sizes.h - HDF5's byte unshuffle by element size, for every
 * version of the kernel: sizes 2, 4 and 8 (the columns' integers) through
 * the set's code for them, which handles the leading elements it can and
 * returns how many; the elements it leaves are gathered here one by one.
 * Other sizes go plane by plane, each plane read in order.  Static inline:
 * each file's copy is compiled for its own instruction set (declare the
 * size functions always_inline so that they are not called per chunk
 * through memory).
 */
#ifndef MS_UNSHUFFLE_SIZES_H
#define MS_UNSHUFFLE_SIZES_H

#include <stddef.h>
#include <string.h>

typedef size_t (*ms_unshuffle_size_fn)(const unsigned char *s, unsigned char *d, size_t n);

static inline void ms_unshuffle_by_size(const void *src, void *dst, size_t n, size_t esize, ms_unshuffle_size_fn u2,
                                        ms_unshuffle_size_fn u4, ms_unshuffle_size_fn u8)
{
    const unsigned char *s = src;
    unsigned char *d = dst;
    if (esize <= 1 || n <= 1) {
        memcpy(d, s, n * esize);
        return;
    }
    ms_unshuffle_size_fn f = esize == 2 ? u2 : esize == 4 ? u4 : esize == 8 ? u8 : NULL;
    if (!f) {
        for (size_t b = 0; b < esize; b++) {
            const unsigned char *p = s + b * n;
            for (size_t i = 0; i < n; i++) d[i * esize + b] = p[i];
        }
        return;
    }
    for (size_t i = f(s, d, n); i < n; i++)
        for (size_t b = 0; b < esize; b++) d[i * esize + b] = s[b * n + i];
}

#endif
