/*
 * ms_pairs.c - counts per pair, dense or sparse.
 */
#include "ms_pairs.h"

#include <stdlib.h>
#include <string.h>

#include "ms_buf.h"
#include "ms_kernels.h"

ms_status_t ms_pairs_init(ms_pairs_t *p, uint32_t na, uint32_t nb, uint64_t dense_max)
{
    memset(p, 0, sizeof *p);
    p->na = na;
    p->nb = nb;
    uint64_t cells = (uint64_t)na * nb;
    if (cells <= dense_max) {
        p->dense = calloc(cells ? (size_t)cells * 2 : 1, sizeof *p->dense);
        if (!p->dense) return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    return MS_OK;
}

void ms_pairs_free(ms_pairs_t *p)
{
    free(p->dense);
    free(p->cells);
    ms_hmap_free(&p->map);
    memset(p, 0, sizeof *p);
}

typedef struct {
    const ms_pairs_t *p;
    uint64_t key;
} probe_t;

static int same_key(const void *ctx, uint32_t id)
{
    const probe_t *q = ctx;
    return q->p->cells[id].key == q->key;
}

static uint32_t find(const ms_pairs_t *p, uint64_t key)
{
    probe_t q = {p, key};
    return ms_hmap_find(&p->map, ms_hash_u64(key), same_key, &q);
}

/* The error of a count that left int64 (only past the contract's limits,
 * or from a damaged saved state). */
static ms_status_t overflow(uint32_t a, uint32_t b)
{
    return ms_error_set(MS_E_INVARIANT, "the counts of pair (%u, %u) overflow int64", a, b);
}

/* c += (n0, n1), checked. */
static ms_status_t add2(int64_t *c, uint32_t a, uint32_t b, int64_t n0, int64_t n1)
{
    if (__builtin_add_overflow(c[0], n0, &c[0]) || __builtin_add_overflow(c[1], n1, &c[1])) return overflow(a, b);
    return MS_OK;
}

ms_status_t ms_pairs_add(ms_pairs_t *p, uint32_t a, uint32_t b, int64_t n0, int64_t n1)
{
    if (p->dense) return add2(p->dense + ((size_t)a * p->nb + b) * 2, a, b, n0, n1);
    uint64_t key = (uint64_t)a << 32 | b;
    uint32_t id = find(p, key);
    if (id == MS_HMAP_NONE) {
        if (p->ncells >= MS_HMAP_NONE) return ms_error_set(MS_E_NOMEM, "too many pairs");
        MS_TRY(ms_grow(&p->cells, &p->cap, p->ncells + 1, sizeof *p->cells, 1024));
        id = (uint32_t)p->ncells;
        MS_TRY(ms_hmap_insert(&p->map, ms_hash_u64(key), id));
        p->cells[p->ncells++] = (ms_pair_cell_t){key, {0, 0}};
    }
    return add2(p->cells[id].n, a, b, n0, n1);
}

void ms_pairs_get(const ms_pairs_t *p, uint32_t a, uint32_t b, int64_t n[2])
{
    if (p->dense) {
        const int64_t *c = p->dense + ((size_t)a * p->nb + b) * 2;
        n[0] = c[0];
        n[1] = c[1];
        return;
    }
    uint32_t id = find(p, (uint64_t)a << 32 | b);
    n[0] = id == MS_HMAP_NONE ? 0 : p->cells[id].n[0];
    n[1] = id == MS_HMAP_NONE ? 0 : p->cells[id].n[1];
}

ms_status_t ms_pairs_merge(ms_pairs_t *a, const ms_pairs_t *b)
{
    if (a->na != b->na || a->nb != b->nb) return ms_error_set(MS_E_INTERNAL, "merging pair tables of other shapes");
    if (a->dense && b->dense) {
        size_t bad = ms_kernels()->add_i64(a->dense, b->dense, (size_t)a->na * a->nb * 2);
        return bad ? overflow((uint32_t)((bad - 1) / 2 / a->nb), (uint32_t)((bad - 1) / 2 % a->nb)) : MS_OK;
    }
    if (b->dense) {
        for (size_t i = 0; i < (size_t)b->na * b->nb; i++) {
            const int64_t *c = b->dense + 2 * i;
            if (c[0] || c[1]) MS_TRY(ms_pairs_add(a, (uint32_t)(i / b->nb), (uint32_t)(i % b->nb), c[0], c[1]));
        }
        return MS_OK;
    }
    for (size_t i = 0; i < b->ncells; i++) {
        const ms_pair_cell_t *c = &b->cells[i];
        MS_TRY(ms_pairs_add(a, (uint32_t)(c->key >> 32), (uint32_t)c->key, c->n[0], c->n[1]));
    }
    return MS_OK;
}

static int cmp_cell(const void *x, const void *y)
{
    uint64_t a = ((const ms_pair_cell_t *)x)->key, b = ((const ms_pair_cell_t *)y)->key;
    return a < b ? -1 : a > b;
}

ms_status_t ms_pairs_cells(const ms_pairs_t *p, ms_pair_cell_t **out, size_t *n)
{
    size_t k = 0;
    if (p->dense) {
        size_t cells = (size_t)p->na * p->nb;
        for (size_t i = 0; i < cells; i++) k += p->dense[2 * i] != 0 || p->dense[2 * i + 1] != 0;
        ms_pair_cell_t *c = malloc((k ? k : 1) * sizeof *c);
        if (!c) return ms_error_set(MS_E_NOMEM, "out of memory");
        k = 0;
        for (size_t i = 0; i < cells; i++) {
            if (p->dense[2 * i] == 0 && p->dense[2 * i + 1] == 0) continue;
            c[k].key = (uint64_t)(i / p->nb) << 32 | (uint64_t)(i % p->nb);
            c[k].n[0] = p->dense[2 * i];
            c[k].n[1] = p->dense[2 * i + 1];
            k++;
        }
        *out = c;
        *n = k;
        return MS_OK;
    }
    ms_pair_cell_t *c = malloc((p->ncells ? p->ncells : 1) * sizeof *c);
    if (!c) return ms_error_set(MS_E_NOMEM, "out of memory");
    if (p->ncells) memcpy(c, p->cells, p->ncells * sizeof *c);
    qsort(c, p->ncells, sizeof *c, cmp_cell);
    *out = c;
    *n = p->ncells;
    return MS_OK;
}
