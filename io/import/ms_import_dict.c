/*
 * ms_import_dict.c - codes to ids.  During pass 1 every code (institution,
 * group, diagnosis, procedure, drug, bill item) gets a provisional id: its row in the
 * reference file, or first-seen order for the dictionaries.  The strings
 * stay in the strmap_t's own arrays; io/common's ms_hmap finds them by
 * XXH3 hash.  Readers of parallel ranges keep their own maps, merged here in
 * range order.  At the end the dictionaries are sorted (final id = rank),
 * institutions and groups take their sorted positions, and the reference
 * files are written (with knowledge.h5 when the extract has a knowledge
 * base).
 */
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "ms_buf.h"
#include "ms_import_int.h"

/* ------------------------------------------------------------------ */
/* The string -> provisional id map.                                    */

typedef struct {
    const strmap_t *m;
    const char *s;
    size_t len;
} strkey_t;

static int strmap_eq(const void *ctx, uint32_t id)
{
    const strkey_t *k = ctx;
    return k->m->len[id] == k->len && memcmp(k->m->str[id], k->s, k->len) == 0;
}

void imp_strmap_free(strmap_t *m)
{
    if (!m->released)
        for (size_t i = 0; i < m->n; i++) free(m->str[i]);
    ms_hmap_free(&m->map);
    free(m->str);
    free(m->len);
    free(m->line);
    memset(m, 0, sizeof *m);
}

int32_t imp_strmap_find(const strmap_t *m, const char *s, size_t len)
{
    strkey_t k = {m, s, len};
    uint32_t id = ms_hmap_find(&m->map, XXH3_64bits(s, len), strmap_eq, &k);
    return id == MS_HMAP_NONE ? -1 : (int32_t)id;
}

int32_t imp_strmap_add(strmap_t *m, const char *s, size_t len, uint64_t line, int *added)
{
    *added = 0;
    uint64_t h = XXH3_64bits(s, len);
    strkey_t k = {m, s, len};
    uint32_t found = ms_hmap_find(&m->map, h, strmap_eq, &k);
    if (found != MS_HMAP_NONE) return (int32_t)found;
    if (m->n >= INT32_MAX) return -1;
    if (ms_grow(&m->str, &m->str_cap, m->n + 1, sizeof *m->str, 256) != MS_OK ||
        ms_grow(&m->len, &m->len_cap, m->n + 1, sizeof *m->len, 256) != MS_OK ||
        ms_grow(&m->line, &m->line_cap, m->n + 1, sizeof *m->line, 256) != MS_OK)
        return -1;
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, s, len);
    copy[len] = '\0';
    if (ms_hmap_insert(&m->map, h, (uint32_t)m->n) != MS_OK) {
        free(copy);
        return -1;
    }
    int32_t id = (int32_t)m->n++;
    m->str[id] = copy;
    m->len[id] = (uint32_t)len;
    m->line[id] = line;
    *added = 1;
    return id;
}

ms_status_t imp_strmap_merge(strmap_t *global, const strmap_t *m, int32_t **xl)
{
    *xl = malloc((m->n ? m->n : 1) * sizeof **xl);
    if (!*xl) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (size_t i = 0; i < m->n; i++) {
        int added;
        (*xl)[i] = imp_strmap_add(global, m->str[i], m->len[i], m->line[i], &added);
        if ((*xl)[i] < 0) return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    return MS_OK;
}

/* ------------------------------------------------------------------ */
/* Reference files: sorted dictionaries, final ids, checksums.          */

typedef struct {
    const char *s;
    int32_t id;
} dict_sort_t;

static int dict_sort_cmp(const void *a, const void *b)
{
    return strcmp(((const dict_sort_t *)a)->s, ((const dict_sort_t *)b)->s);
}

/* Sort a dictionary by strcmp: the final id of a code is its rank, so the
 * encoding depends only on the set of codes.  The strings move to d. */
static ms_status_t finish_dict(strmap_t *m, ms_dict_t *d, int32_t **remap)
{
    size_t n = m->n, cap = n ? n : 1;
    dict_sort_t *v = malloc(cap * sizeof *v);
    *remap = malloc(cap * sizeof **remap);
    d->str = malloc(cap * sizeof *d->str);
    if (!v || !*remap || !d->str) {
        free(v);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) v[i] = (dict_sort_t){m->str[i], (int32_t)i};
    qsort(v, n, sizeof *v, dict_sort_cmp);
    for (size_t r = 0; r < n; r++) {
        (*remap)[v[r].id] = (int32_t)r;
        d->str[r] = m->str[v[r].id];
    }
    d->count = n;
    m->released = 1;
    free(v);
    return MS_OK;
}

typedef int32_t (*ref_find_fn)(const ms_refs_t *r, const char *code, size_t len);

/* Provisional id (row in the CSV) -> id after ms_refs_finish sorted. */
static ms_status_t remap_refs(const ms_refs_t *refs, const strmap_t *m, ref_find_fn find,
                              int32_t **remap)
{
    *remap = malloc((m->n ? m->n : 1) * sizeof **remap);
    if (!*remap) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (size_t i = 0; i < m->n; i++) {
        (*remap)[i] = find(refs, m->str[i], m->len[i]);
        if ((*remap)[i] < 0)
            return ms_error_set(MS_E_INTERNAL, "code '%s' lost while sorting the references",
                                m->str[i]);
    }
    return MS_OK;
}

ms_status_t imp_finish_refs(import_t *im)
{
    MS_TRY(finish_dict(&im->diag, &im->refs.diagnoses, &im->diag_remap));
    MS_TRY(finish_dict(&im->proc, &im->refs.procedures, &im->proc_remap));
    MS_TRY(finish_dict(&im->drug, &im->refs.drugs, &im->drug_remap));
    MS_TRY(finish_dict(&im->item, &im->refs.items, &im->item_remap));
    MS_TRY(ms_refs_finish(&im->refs));
    MS_TRY(remap_refs(&im->refs, &im->inst, ms_refs_inst_find, &im->inst_remap));
    MS_TRY(remap_refs(&im->refs, &im->group, ms_refs_group_find, &im->group_remap));
    ms_refs_checksum_text(&im->refs, im->ref_checksum);
    MS_TRY(ms_refs_write(&im->refs, im->tmp_dir));
    return im->have_knowledge ? ms_knowledge_write(&im->kb, im->tmp_dir) : MS_OK;
}
