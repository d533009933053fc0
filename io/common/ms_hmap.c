/*
 * ms_hmap.c - open addressing over (hash, id) slots.
 */
#include "ms_hmap.h"

#include <stdlib.h>
#include <string.h>

void ms_hmap_free(ms_hmap_t *m)
{
    free(m->id);
    free(m->hash);
    memset(m, 0, sizeof *m);
}

uint32_t ms_hmap_find(const ms_hmap_t *m, uint64_t h, ms_hmap_eq_fn eq, const void *ctx)
{
    if (!m->cap) return MS_HMAP_NONE;
    for (size_t j = h & (m->cap - 1); m->id[j] != MS_HMAP_NONE; j = (j + 1) & (m->cap - 1))
        if (m->hash[j] == h && eq(ctx, m->id[j])) return m->id[j];
    return MS_HMAP_NONE;
}

static void place(uint32_t *id, uint64_t *hash, size_t cap, uint64_t h, uint32_t v)
{
    size_t j = h & (cap - 1);
    while (id[j] != MS_HMAP_NONE) j = (j + 1) & (cap - 1);
    id[j] = v;
    hash[j] = h;
}

static ms_status_t rehash(ms_hmap_t *m, size_t cap)
{
    uint32_t *id = malloc(cap * sizeof *id);
    uint64_t *hash = malloc(cap * sizeof *hash);
    if (!id || !hash) {
        free(id);
        free(hash);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < cap; i++) id[i] = MS_HMAP_NONE;
    for (size_t i = 0; i < m->cap; i++)
        if (m->id[i] != MS_HMAP_NONE) place(id, hash, cap, m->hash[i], m->id[i]);
    free(m->id);
    free(m->hash);
    m->id = id;
    m->hash = hash;
    m->cap = cap;
    return MS_OK;
}

ms_status_t ms_hmap_insert(ms_hmap_t *m, uint64_t h, uint32_t id)
{
    if ((m->n + 1) * 2 > m->cap) MS_TRY(rehash(m, m->cap ? m->cap * 2 : 1024));
    place(m->id, m->hash, m->cap, h, id);
    m->n++;
    return MS_OK;
}
