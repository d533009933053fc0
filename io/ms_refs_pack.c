/*
 * ms_refs_pack.c - one reference file's part of ms_refs_t as bytes and
 * back (internal/ms_refs_pack.h).
 */
#include "ms_refs_pack.h"

#include <stdlib.h>
#include <string.h>

static ms_status_t put(ms_buf_t *b, const void *p, size_t n) { return ms_buf_put(b, p, n); }

static ms_status_t put_u64(ms_buf_t *b, uint64_t v) { return put(b, &v, sizeof v); }

static ms_status_t put_str(ms_buf_t *b, const char *s)
{
    uint32_t len = s ? (uint32_t)strlen(s) : UINT32_MAX; /* UINT32_MAX: NULL */
    MS_TRY(put(b, &len, sizeof len));
    return s ? put(b, s, len) : MS_OK;
}

static ms_status_t put_dict(ms_buf_t *b, const ms_dict_t *d)
{
    MS_TRY(put_u64(b, d->count));
    for (size_t i = 0; i < d->count; i++) MS_TRY(put_str(b, d->str[i]));
    return MS_OK;
}

ms_status_t ms_refs_pack(const ms_refs_t *r, int which, uint64_t stored, ms_buf_t *out)
{
    MS_TRY(put_u64(out, stored));
    if (which == 0) {
        MS_TRY(put_u64(out, r->n_inst));
        for (size_t i = 0; i < r->n_inst; i++) {
            const ms_institution_t *x = &r->inst[i];
            MS_TRY(put_str(out, x->inst_code));
            MS_TRY(put_str(out, x->name));
            MS_TRY(put(out, &x->kind, sizeof x->kind));
            MS_TRY(put(out, &x->level, sizeof x->level));
            MS_TRY(put(out, &x->ownership, sizeof x->ownership));
            MS_TRY(put(out, &x->region, sizeof x->region));
            MS_TRY(put(out, &x->beds, sizeof x->beds));
        }
        return MS_OK;
    }
    MS_TRY(put_u64(out, r->n_groups));
    for (size_t i = 0; i < r->n_groups; i++) {
        const ms_group_t *g = &r->groups[i];
        MS_TRY(put_str(out, g->group_code));
        MS_TRY(put_str(out, g->family));
        MS_TRY(put(out, &g->severity, sizeof g->severity));
        MS_TRY(put(out, &g->weight, sizeof g->weight));
        MS_TRY(put(out, &g->mdc, sizeof g->mdc));
        MS_TRY(put(out, &g->surgical, sizeof g->surgical));
        MS_TRY(put(out, &g->expected_los, sizeof g->expected_los));
        MS_TRY(put(out, &g->mean_cost, sizeof g->mean_cost));
    }
    MS_TRY(put_dict(out, &r->diagnoses));
    MS_TRY(put_dict(out, &r->procedures));
    MS_TRY(put_dict(out, &r->drugs));
    return put_dict(out, &r->items);
}

typedef struct {
    const unsigned char *p, *end;
} cursor_t;

static ms_status_t short_reply(void)
{
    return ms_error_set(MS_E_INTERNAL, "the reference file's reader sent back bytes cut short or running on");
}

static ms_status_t get(cursor_t *c, void *v, size_t n)
{
    if ((size_t)(c->end - c->p) < n) return short_reply();
    memcpy(v, c->p, n);
    c->p += n;
    return MS_OK;
}

/* A count of items of at least min_bytes each, no more than the bytes left allow. */
static ms_status_t get_count(cursor_t *c, size_t min_bytes, size_t *n)
{
    uint64_t v = 0;
    MS_TRY(get(c, &v, sizeof v));
    if (v > (uint64_t)(c->end - c->p) / min_bytes) return short_reply();
    *n = (size_t)v;
    return MS_OK;
}

static ms_status_t get_str(cursor_t *c, char **s)
{
    uint32_t len = 0;
    MS_TRY(get(c, &len, sizeof len));
    if (len == UINT32_MAX) {
        *s = NULL;
        return MS_OK;
    }
    if ((size_t)(c->end - c->p) < len) return short_reply();
    if (!(*s = malloc((size_t)len + 1))) return ms_error_set(MS_E_NOMEM, "out of memory");
    memcpy(*s, c->p, len);
    (*s)[len] = '\0';
    c->p += len;
    return MS_OK;
}

static ms_status_t get_dict(cursor_t *c, ms_dict_t *d)
{
    size_t n = 0;
    MS_TRY(get_count(c, sizeof(uint32_t), &n));
    if (n == 0) return MS_OK; /* as read: no array (items of a dataset without bill lines) */
    if (!(d->str = calloc(n ? n : 1, sizeof *d->str))) return ms_error_set(MS_E_NOMEM, "out of memory");
    while (d->count < n) MS_TRY(get_str(c, &d->str[d->count++]));
    return MS_OK;
}

ms_status_t ms_refs_unpack(const unsigned char *p, size_t n, int which, ms_refs_t *r, uint64_t *stored)
{
    cursor_t c = {p, p + n};
    MS_TRY(get(&c, stored, sizeof *stored));
    if (which == 0) {
        size_t count = 0;
        MS_TRY(get_count(&c, 2 * sizeof(uint32_t), &count));
        if (!(r->inst = calloc(count ? count : 1, sizeof *r->inst))) return ms_error_set(MS_E_NOMEM, "out of memory");
        /* Counted before it is filled: what a cut-short entry holds is freed
         * with the rest (ms_refs_free; the array is zeroed). */
        while (r->n_inst < count) {
            ms_institution_t *x = &r->inst[r->n_inst++];
            MS_TRY(get_str(&c, &x->inst_code));
            MS_TRY(get_str(&c, &x->name));
            MS_TRY(get(&c, &x->kind, sizeof x->kind));
            MS_TRY(get(&c, &x->level, sizeof x->level));
            MS_TRY(get(&c, &x->ownership, sizeof x->ownership));
            MS_TRY(get(&c, &x->region, sizeof x->region));
            MS_TRY(get(&c, &x->beds, sizeof x->beds));
        }
    } else {
        size_t count = 0;
        MS_TRY(get_count(&c, 2 * sizeof(uint32_t), &count));
        if (!(r->groups = calloc(count ? count : 1, sizeof *r->groups)))
            return ms_error_set(MS_E_NOMEM, "out of memory");
        while (r->n_groups < count) {
            ms_group_t *g = &r->groups[r->n_groups++];
            MS_TRY(get_str(&c, &g->group_code));
            MS_TRY(get_str(&c, &g->family));
            MS_TRY(get(&c, &g->severity, sizeof g->severity));
            MS_TRY(get(&c, &g->weight, sizeof g->weight));
            MS_TRY(get(&c, &g->mdc, sizeof g->mdc));
            MS_TRY(get(&c, &g->surgical, sizeof g->surgical));
            MS_TRY(get(&c, &g->expected_los, sizeof g->expected_los));
            MS_TRY(get(&c, &g->mean_cost, sizeof g->mean_cost));
        }
        MS_TRY(get_dict(&c, &r->diagnoses));
        MS_TRY(get_dict(&c, &r->procedures));
        MS_TRY(get_dict(&c, &r->drugs));
        MS_TRY(get_dict(&c, &r->items));
    }
    return c.p == c.end ? MS_OK : short_reply();
}
