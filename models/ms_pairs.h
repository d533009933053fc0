/*
 * ms_pairs.h - two int64 counts per (a, b) pair of small ids, e.g.
 * (institution, DRG family) -> stays and CC/MCC stays.
 *
 * Dense (an array of na x nb cells) when na x nb is at most dense_max cells,
 * sparse (the pairs actually seen, in io/common's hash map) otherwise, so a
 * table never grows beyond its data.  Both give the same answers: cells are
 * read back in key order whatever the representation (tested against each
 * other in tests/test_pairs.c).
 */
#ifndef MS_PAIRS_H
#define MS_PAIRS_H

#include <stddef.h>
#include <stdint.h>

#include "ms_hmap.h"
#include "ms_status.h"

/* The largest table kept dense: 2^20 cells, 16 MiB. */
#define MS_PAIRS_DENSE_MAX ((uint64_t)1 << 20)

typedef struct {
    uint64_t key;        /* a << 32 | b */
    int64_t n[2];
} ms_pair_cell_t;

typedef struct {
    uint32_t na, nb;
    int64_t *dense;          /* [na * nb * 2], or NULL when sparse */
    ms_pair_cell_t *cells;   /* sparse: the pairs seen, in order of arrival */
    size_t ncells, cap;
    ms_hmap_t map;           /* sparse: key -> index in cells */
} ms_pairs_t;

ms_status_t ms_pairs_init(ms_pairs_t *p, uint32_t na, uint32_t nb, uint64_t dense_max);
void ms_pairs_free(ms_pairs_t *p);

/* (a, b) += (n0, n1). */
ms_status_t ms_pairs_add(ms_pairs_t *p, uint32_t a, uint32_t b, int64_t n0, int64_t n1);
/* The counts of (a, b), zeros when never added. */
void ms_pairs_get(const ms_pairs_t *p, uint32_t a, uint32_t b, int64_t n[2]);
/* into += from (same shape, any representations). */
ms_status_t ms_pairs_merge(ms_pairs_t *into, const ms_pairs_t *from);
/* The cells with a non-zero count (dense) or ever added (sparse), in key
 * order; the caller frees *out. */
ms_status_t ms_pairs_cells(const ms_pairs_t *p, ms_pair_cell_t **out, size_t *n);

#endif
