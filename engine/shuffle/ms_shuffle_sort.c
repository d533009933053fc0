/*
 * ms_shuffle_sort.c - the shuffle's record sort: fixed-size records ordered
 * by (k0, k1, value bytes), sorted in place without allocating.
 */
#include <stdint.h>
#include <string.h>

#include "ms_shuffle_int.h"

/* Word by word: a call to memcpy per swap costs more than the swap. */
static void rec_swap(unsigned char *a, unsigned char *b, size_t rs)
{
    size_t i = 0;
    for (; i + 8 <= rs; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        memcpy(a + i, &y, 8);
        memcpy(b + i, &x, 8);
    }
    for (; i < rs; i++) {
        unsigned char t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

static void insertion_sort(unsigned char *a, size_t n, size_t rs, size_t vs, unsigned char *tmp)
{
    for (size_t i = 1; i < n; i++) {
        if (ms_shuffle_rec_cmp(a + i * rs, a + (i - 1) * rs, vs) >= 0) continue;
        memcpy(tmp, a + i * rs, rs);
        size_t j = i - 1;
        while (j > 0 && ms_shuffle_rec_cmp(tmp, a + (j - 1) * rs, vs) < 0) j--;
        memmove(a + (j + 1) * rs, a + j * rs, (i - j) * rs);
        memcpy(a + j * rs, tmp, rs);
    }
}

static void sift_down(unsigned char *a, size_t root, size_t n, size_t rs, size_t vs)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && ms_shuffle_rec_cmp(a + child * rs, a + (child + 1) * rs, vs) < 0) child++;
        if (ms_shuffle_rec_cmp(a + root * rs, a + child * rs, vs) >= 0) return;
        rec_swap(a + root * rs, a + child * rs, rs);
        root = child;
    }
}

static void heap_sort(unsigned char *a, size_t n, size_t rs, size_t vs)
{
    for (size_t i = n / 2; i-- > 0;) sift_down(a, i, n, rs, vs);
    for (size_t end = n; end-- > 1;) {
        rec_swap(a, a + end * rs, rs);
        sift_down(a, 0, end, rs, vs);
    }
}

/* Order a[0] <= a[m] <= a[n-1] in place. */
static void order3(unsigned char *a, size_t m, size_t n, size_t rs, size_t vs)
{
    unsigned char *x = a, *y = a + m * rs, *z = a + (n - 1) * rs;
    if (ms_shuffle_rec_cmp(y, x, vs) < 0) rec_swap(x, y, rs);
    if (ms_shuffle_rec_cmp(z, y, vs) < 0) {
        rec_swap(y, z, rs);
        if (ms_shuffle_rec_cmp(y, x, vs) < 0) rec_swap(x, y, rs);
    }
}

/* Introsort in place on fixed-size records: Hoare partitioning around the
 * median of three (it stops on records equal to the pivot, so long runs of
 * equal records, common with small values, still split evenly), insertion
 * sort for short ranges and heapsort past the depth limit.  No allocation:
 * glibc's qsort would malloc a copy of the array, doubling the memory the
 * cap is meant to bound. */
static void quick_sort(unsigned char *a, size_t n, size_t rs, size_t vs, unsigned char *tmp,
                       unsigned char *piv, unsigned depth)
{
    while (n > 16) {
        if (depth == 0) {
            heap_sort(a, n, rs, vs);
            return;
        }
        depth--;
        /* With a[0] <= pivot <= a[n-1] both scans stop inside the range and
         * the split leaves records on both sides. */
        order3(a, n / 2, n, rs, vs);
        memcpy(piv, a + (n / 2) * rs, rs);
        size_t i = 0, j = n - 1;
        for (;;) {
            while (ms_shuffle_rec_cmp(a + i * rs, piv, vs) < 0) i++;
            while (ms_shuffle_rec_cmp(a + j * rs, piv, vs) > 0) j--;
            if (i >= j) break;
            rec_swap(a + i * rs, a + j * rs, rs);
            i++;
            j--;
        }
        /* [0, j] <= pivot <= [j+1, n): recurse on the smaller side so the
         * stack stays logarithmic. */
        size_t nl = j + 1;
        if (nl < n - nl) {
            quick_sort(a, nl, rs, vs, tmp, piv, depth);
            a += nl * rs;
            n -= nl;
        } else {
            quick_sort(a + nl * rs, n - nl, rs, vs, tmp, piv, depth);
            n = nl;
        }
    }
    insertion_sort(a, n, rs, vs, tmp);
}

void ms_shuffle_sort_records(unsigned char *a, size_t n, size_t rs, size_t vs)
{
    unsigned char tmp[MS_SHUFFLE_KEY_BYTES + 256], piv[MS_SHUFFLE_KEY_BYTES + 256];
    unsigned depth = 0;
    for (size_t m = n; m > 1; m >>= 1) depth += 2;
    quick_sort(a, n, rs, vs, tmp, piv, depth);
}
