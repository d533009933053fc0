/*
 * ms_clues.c - the list of clues a model keeps (see ms_clues.h).
 */
#include "ms_clues.h"

#include <stdlib.h>
#include <string.h>

enum { CLUE_BYTES = 8 + 8 + 4 + 2 + 4 + 8 + 8 + 4 + 4 + 8 + 8 * MS_CLUE_FACTS };

/* Room for at least need clues. */
static ms_status_t reserve(ms_clues_t *l, size_t need)
{
    if (need <= l->cap) return MS_OK;
    size_t cap = l->cap ? l->cap * 2 : 256;
    if (cap < need) cap = need;
    if (cap > SIZE_MAX / sizeof *l->v) return ms_error_set(MS_E_NOMEM, "clues: out of memory");
    ms_clue_t *v = realloc(l->v, cap * sizeof *v);
    if (!v) return ms_error_set(MS_E_NOMEM, "clues: out of memory");
    l->v = v;
    l->cap = cap;
    return MS_OK;
}

ms_clue_t ms_clue(uint64_t settle_id, uint64_t person_id, uint32_t inst, int indicator, int32_t date, int64_t amount)
{
    ms_clue_t c;
    memset(&c, 0, sizeof c); /* no stray bytes: clues are compared and saved whole */
    c.settle_id = settle_id;
    c.person_id = person_id;
    c.inst = inst;
    c.indicator = (uint16_t)indicator;
    c.date = date;
    c.amount = amount;
    c.other_inst = MS_CLUE_NO_INST;
    return c;
}

void ms_clue_other(ms_clue_t *c, uint64_t settle_id, uint32_t inst, int32_t date, int64_t amount)
{
    c->other_settle = settle_id;
    c->other_inst = inst;
    c->other_date = date;
    c->other_amount = amount;
}

ms_status_t ms_clues_add(ms_clues_t *l, const ms_clue_t *c)
{
    MS_TRY(reserve(l, l->n + 1));
    l->v[l->n++] = *c;
    return MS_OK;
}

ms_status_t ms_clues_push(ms_clues_t *l, uint64_t settle_id, uint64_t person_id, uint32_t inst, int indicator,
                          int32_t date, int64_t amount)
{
    ms_clue_t c = ms_clue(settle_id, person_id, inst, indicator, date, amount);
    return ms_clues_add(l, &c);
}

ms_status_t ms_clues_append(ms_clues_t *into, const ms_clues_t *from)
{
    if (!from->n) return MS_OK;
    MS_TRY(reserve(into, into->n + from->n));
    memcpy(into->v + into->n, from->v, from->n * sizeof *from->v);
    into->n += from->n;
    return MS_OK;
}

ms_status_t ms_clues_save(const ms_clues_t *l, ms_buf_t *out)
{
    uint64_t n = l->n;
    MS_TRY(ms_buf_put(out, &n, sizeof n));
    for (size_t i = 0; i < l->n; i++) {
        const ms_clue_t *c = &l->v[i];
        unsigned char rec[CLUE_BYTES];
        memcpy(rec, &c->settle_id, 8);
        memcpy(rec + 8, &c->person_id, 8);
        memcpy(rec + 16, &c->inst, 4);
        memcpy(rec + 20, &c->indicator, 2);
        memcpy(rec + 22, &c->date, 4);
        memcpy(rec + 26, &c->amount, 8);
        memcpy(rec + 34, &c->other_settle, 8);
        memcpy(rec + 42, &c->other_inst, 4);
        memcpy(rec + 46, &c->other_date, 4);
        memcpy(rec + 50, &c->other_amount, 8);
        memcpy(rec + 58, c->fact, 8 * MS_CLUE_FACTS);
        MS_TRY(ms_buf_put(out, rec, sizeof rec));
    }
    return MS_OK;
}

ms_status_t ms_clues_load(ms_clues_t *l, const unsigned char **p, size_t *left, uint32_t n_inst, int nind)
{
    uint64_t n;
    if (*left < sizeof n) return ms_error_set(MS_E_CORRUPT, "saved clues are truncated");
    memcpy(&n, *p, sizeof n);
    if (n > (*left - sizeof n) / CLUE_BYTES) return ms_error_set(MS_E_CORRUPT, "saved clues are truncated");
    MS_TRY(reserve(l, l->n + (size_t)n));
    const unsigned char *r = *p + sizeof n;
    for (uint64_t i = 0; i < n; i++, r += CLUE_BYTES) {
        ms_clue_t c;
        memset(&c, 0, sizeof c);
        memcpy(&c.settle_id, r, 8);
        memcpy(&c.person_id, r + 8, 8);
        memcpy(&c.inst, r + 16, 4);
        memcpy(&c.indicator, r + 20, 2);
        memcpy(&c.date, r + 22, 4);
        memcpy(&c.amount, r + 26, 8);
        memcpy(&c.other_settle, r + 34, 8);
        memcpy(&c.other_inst, r + 42, 4);
        memcpy(&c.other_date, r + 46, 4);
        memcpy(&c.other_amount, r + 50, 8);
        memcpy(c.fact, r + 58, 8 * MS_CLUE_FACTS);
        if (c.inst >= n_inst || (int)c.indicator >= nind || (c.other_inst != MS_CLUE_NO_INST && c.other_inst >= n_inst))
            return ms_error_set(MS_E_CORRUPT, "saved clue %llu is out of range", (unsigned long long)i);
        l->v[l->n++] = c;
    }
    size_t used = sizeof n + (size_t)n * CLUE_BYTES;
    *p += used;
    *left -= used;
    return MS_OK;
}

static int cmp_clue(const void *a, const void *b)
{
    const ms_clue_t *x = a, *y = b;
    if (x->inst != y->inst) return x->inst < y->inst ? -1 : 1;
    if (x->indicator != y->indicator) return x->indicator < y->indicator ? -1 : 1;
    if (x->settle_id != y->settle_id) return x->settle_id < y->settle_id ? -1 : 1;
    if (x->person_id != y->person_id) return x->person_id < y->person_id ? -1 : 1;
    if (x->date != y->date) return x->date < y->date ? -1 : 1;
    if (x->amount != y->amount) return x->amount < y->amount ? -1 : 1;
    if (x->other_settle != y->other_settle) return x->other_settle < y->other_settle ? -1 : 1;
    if (x->other_inst != y->other_inst) return x->other_inst < y->other_inst ? -1 : 1;
    if (x->other_date != y->other_date) return x->other_date < y->other_date ? -1 : 1;
    if (x->other_amount != y->other_amount) return x->other_amount < y->other_amount ? -1 : 1;
    for (int k = 0; k < MS_CLUE_FACTS; k++)
        if (x->fact[k] != y->fact[k]) return x->fact[k] < y->fact[k] ? -1 : 1;
    return 0;
}

void ms_clues_sort_ref(ms_clues_t *l)
{
    if (l->n > 1) qsort(l->v, l->n, sizeof *l->v, cmp_clue);
}

/* The sort key: (inst, indicator) in hi, settle_id in lo, and where the
 * clue is.  24 bytes moved per pass instead of a whole clue. */
typedef struct {
    uint64_t hi, lo;
    uint32_t at;
} clue_key_t;

static inline unsigned key_byte(const clue_key_t *k, unsigned d)
{
    return (unsigned)((d < 8 ? k->lo >> (8 * d) : k->hi >> (8 * (d - 8))) & 0xff);
}

/* Clues v[ix[0..n)] into cmp_clue's order (a merge sort on their places;
 * tmp holds n).  Only clues of one (inst, indicator, settle_id) come here. */
static void sort_run(const ms_clue_t *v, uint32_t *ix, uint32_t *tmp, size_t n)
{
    if (n < 16) {
        for (size_t i = 1; i < n; i++) {
            uint32_t x = ix[i];
            size_t j = i;
            for (; j > 0 && cmp_clue(&v[ix[j - 1]], &v[x]) > 0; j--) ix[j] = ix[j - 1];
            ix[j] = x;
        }
        return;
    }
    size_t h = n / 2;
    sort_run(v, ix, tmp, h);
    sort_run(v, ix + h, tmp, n - h);
    size_t a = 0, b = h, o = 0;
    while (a < h && b < n) tmp[o++] = cmp_clue(&v[ix[b]], &v[ix[a]]) < 0 ? ix[b++] : ix[a++];
    while (a < h) tmp[o++] = ix[a++];
    while (b < n) tmp[o++] = ix[b++];
    memcpy(ix, tmp, n * sizeof *ix);
}

/* A least-significant-digit radix sort of the keys (a byte a pass, passes
 * whose byte every key shares skipped), which is stable; clues that share
 * the whole key (two repeated trace codes of one settlement) are then put
 * in cmp_clue's order among themselves, and the clues gathered into a new
 * array in that order.  cmp_clue is a total order and clues it calls equal
 * are identical, so this is the reference's answer. */
void ms_clues_sort(ms_clues_t *l)
{
    size_t n = l->n;
    if (n < 2) return;
    clue_key_t *k = n <= UINT32_MAX ? malloc(n * sizeof *k) : NULL, *t = k ? malloc(n * sizeof *t) : NULL;
    ms_clue_t *out = t ? malloc(n * sizeof *out) : NULL;
    size_t(*count)[256] = out ? calloc(16, sizeof *count) : NULL;
    if (!count) {
        /* Without scratch: the reference, which needs none of its own. */
        free(k), free(t), free(out);
        ms_clues_sort_ref(l);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        k[i].hi = (uint64_t)l->v[i].inst << 16 | l->v[i].indicator;
        k[i].lo = l->v[i].settle_id;
        k[i].at = (uint32_t)i;
        for (unsigned d = 0; d < 16; d++) count[d][key_byte(&k[i], d)]++;
    }
    for (unsigned d = 0; d < 16; d++) {
        if (count[d][key_byte(&k[0], d)] == n) continue;
        size_t sum = 0;
        for (unsigned b = 0; b < 256; b++) {
            size_t c = count[d][b];
            count[d][b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) t[count[d][key_byte(&k[i], d)]++] = k[i];
        clue_key_t *x = k;
        k = t;
        t = x;
    }
    free(count);
    /* The places, in order; t's room is the runs' scratch. */
    uint32_t *ix = (uint32_t *)t, *tmp = ix + n;
    for (size_t i = 0; i < n; i++) ix[i] = k[i].at;
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && k[j].hi == k[i].hi && k[j].lo == k[i].lo;) j++;
        if (j - i > 1) sort_run(l->v, ix + i, tmp, j - i);
    }
    free(k);
    /* out[i] is the clue at ix[i] (the reads are random: the next ones
     * are fetched ahead).  memcpy moves padding bytes too (clues are
     * compared and saved whole). */
    for (size_t i = 0; i < n; i++) {
        if (i + 16 < n) __builtin_prefetch(&l->v[ix[i + 16]]);
        memcpy(&out[i], &l->v[ix[i]], sizeof *out);
    }
    free(l->v);
    l->v = out;
    l->cap = n;
    free(t);
}

void ms_clues_give(ms_clues_t *l, ms_model_result_t *res)
{
    res->clues = l->v;
    res->nclues = l->n;
    l->v = NULL;
    l->n = l->cap = 0;
}

void ms_clues_free(ms_clues_t *l)
{
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}
