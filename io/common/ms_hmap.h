/*
 * ms_hmap.h - the project's one hash map: 64-bit hashes to 32-bit ids.
 *
 * The map holds no keys: its user keeps the entries (strings, pairs, ...)
 * in an array of its own, indexed by id, and says how to hash a key and how
 * to tell whether entry id holds it.  Open addressing with linear probing,
 * at most half full, capacity a power of two.  Iterating the entries is the
 * user's own array, in insertion order, so nothing depends on the layout of
 * the slots.
 */
#ifndef MS_HMAP_H
#define MS_HMAP_H

#include <stddef.h>
#include <stdint.h>

#include "ms_status.h"

#define MS_HMAP_NONE UINT32_MAX

typedef struct {
    uint32_t *id;   /* [cap]: an entry's id, or MS_HMAP_NONE */
    uint64_t *hash; /* [cap]: its hash */
    size_t cap, n;
} ms_hmap_t;

/* Does entry id hold the key looked for?  ctx is the caller's. */
typedef int (*ms_hmap_eq_fn)(const void *ctx, uint32_t id);

void ms_hmap_free(ms_hmap_t *m);

/* The id of the entry with hash h for which eq(ctx, id) holds, or
 * MS_HMAP_NONE. */
uint32_t ms_hmap_find(const ms_hmap_t *m, uint64_t h, ms_hmap_eq_fn eq, const void *ctx);

/* Record that entry id has hash h (the caller has made sure it is not there:
 * ms_hmap_find first).  Grows the table; MS_E_NOMEM when it cannot. */
ms_status_t ms_hmap_insert(ms_hmap_t *m, uint64_t h, uint32_t id);

/* A hash of a 64-bit integer key, for maps keyed by integers. */
static inline uint64_t ms_hash_u64(uint64_t key)
{
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

/* A hash of a string (FNV-1a, 64 bits), for maps keyed by codes. */
static inline uint64_t ms_hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

#endif
