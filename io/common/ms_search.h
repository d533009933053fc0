/*
 * ms_search.h - the one binary search: the first index in [0, n) for which
 * below(ctx, i) is false, or n when there is none.  below must be true on a
 * prefix of [0, n) and false after it (an array sorted by the key, and
 * "element i is less than the key").  Inline, so that a constant callback is
 * inlined too.
 *
 *   static int name_below(const void *ctx, size_t i) { ... < 0; }
 *   size_t i = ms_lower_bound(n, name_below, &key);
 */
#ifndef MS_SEARCH_H
#define MS_SEARCH_H

#include <stddef.h>

static inline size_t ms_lower_bound(size_t n, int (*below)(const void *ctx, size_t i), const void *ctx)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (below(ctx, mid)) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

#endif
