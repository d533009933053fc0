/*
 * ms_tally.c - per-indicator, per-institution counters and their clues
 * (ms_tally.h).
 */
#include "ms_tally.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_kernels.h"

static size_t cells_of(uint32_t n_inst, int nind) { return (size_t)n_inst * (size_t)(nind > 0 ? nind : 0); }

ms_status_t ms_tally_init(ms_tally_t *t, uint32_t n_inst, int nind)
{
    memset(t, 0, sizeof *t);
    size_t cells = cells_of(n_inst, nind);
    t->num = calloc(cells ? cells : 1, sizeof *t->num);
    t->den = calloc(cells ? cells : 1, sizeof *t->den);
    if (!t->num || !t->den) {
        ms_tally_free(t);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    t->n_inst = n_inst;
    t->nind = nind;
    return MS_OK;
}

void ms_tally_free(ms_tally_t *t)
{
    free(t->num);
    free(t->den);
    ms_clues_free(&t->clues);
    memset(t, 0, sizeof *t);
}

ms_status_t ms_tally_merge(ms_tally_t *into, const ms_tally_t *from)
{
    if (into->n_inst != from->n_inst || into->nind != from->nind)
        return ms_error_set(MS_E_INTERNAL, "merging states of different worlds");
    const ms_kernels_t *k = ms_kernels();
    size_t cells = cells_of(into->n_inst, into->nind);
    size_t bad = k->add_i64(into->num, from->num, cells);
    if (bad)
        return ms_tally_overflow(into, (int)((bad - 1) / into->n_inst), (uint32_t)((bad - 1) % into->n_inst), 0,
                                 "merging partitions");
    bad = k->add_i64(into->den, from->den, cells);
    if (bad)
        return ms_tally_overflow(into, (int)((bad - 1) / into->n_inst), (uint32_t)((bad - 1) % into->n_inst), 1,
                                 "merging partitions");
    return ms_clues_append(&into->clues, &from->clues);
}

ms_status_t ms_tally_overflow(const ms_tally_t *t, int ind, uint32_t inst, int den, const char *where)
{
    char ind_num[24], inst_num[24];
    snprintf(ind_num, sizeof ind_num, "#%d", ind);
    snprintf(inst_num, sizeof inst_num, "#%u", inst);
    const char *ind_name = t->ind && ind >= 0 && ind < t->nind ? t->ind[ind].name : ind_num;
    const char *inst_name = t->refs && inst < t->refs->n_inst ? t->refs->inst[inst].inst_code : inst_num;
    return ms_error_set(MS_E_INVARIANT,
                        "%s (%s) of institution %s overflows int64 when %s: its records add up to more than "
                        "int64 can hold, beyond the contract's limits (docs/schema.md, Limits)",
                        ind_name, den ? "denominator" : "numerator", inst_name, where);
}

ms_status_t ms_tally_save(const ms_tally_t *t, ms_buf_t *out)
{
    size_t cells = cells_of(t->n_inst, t->nind);
    MS_TRY(ms_buf_put(out, &t->n_inst, sizeof t->n_inst));
    MS_TRY(ms_buf_put(out, t->num, cells * sizeof *t->num));
    MS_TRY(ms_buf_put(out, t->den, cells * sizeof *t->den));
    return ms_clues_save(&t->clues, out);
}

ms_status_t ms_tally_load(ms_tally_t *t, const unsigned char **p, size_t *left, uint32_t n_inst, int nind)
{
    uint32_t n;
    if (*left < sizeof n) return ms_error_set(MS_E_CORRUPT, "saved state is truncated");
    memcpy(&n, *p, sizeof n);
    size_t cells = cells_of(n_inst, nind), arrays = cells * sizeof(int64_t);
    if (n != n_inst || t->n_inst != n_inst || t->nind != nind || (*left - sizeof n) / 2 < arrays)
        return ms_error_set(MS_E_CORRUPT, "saved state does not fit this dataset");
    const unsigned char *q = *p + sizeof n;
    memcpy(t->num, q, arrays);
    memcpy(t->den, q + arrays, arrays);
    *p += sizeof n + 2 * arrays;
    *left -= sizeof n + 2 * arrays;
    return ms_clues_load(&t->clues, p, left, n_inst, nind);
}

ms_status_t ms_tally_finalize(ms_tally_t *t, ms_model_result_t *res, int with_expected)
{
    memset(res, 0, sizeof *res);
    size_t cells = cells_of(t->n_inst, t->nind);
    if (with_expected) {
        res->expected = malloc((cells ? cells : 1) * sizeof *res->expected);
        if (!res->expected) return ms_error_set(MS_E_NOMEM, "out of memory");
        for (size_t i = 0; i < cells; i++) res->expected[i] = (double)NAN;
    }
    res->n_inst = t->n_inst;
    res->nind = t->nind;
    res->num = t->num;
    res->den = t->den;
    t->num = t->den = NULL; /* the shape stays: ms_tally_overflow names cells by it */
    /* Reducing threads met their keys in any order: sort the evidence. */
    ms_clues_sort(&t->clues);
    ms_clues_give(&t->clues, res);
    return MS_OK;
}

ms_status_t ms_tally_state_merge(void *into, const void *from) { return ms_tally_merge(into, from); }

ms_status_t ms_tally_state_save(const void *state, ms_buf_t *out) { return ms_tally_save(state, out); }

ms_status_t ms_tally_state_load(void *state, const void *data, size_t len)
{
    ms_tally_t *t = state;
    const unsigned char *p = data;
    size_t left = len;
    MS_TRY(ms_tally_load(t, &p, &left, t->n_inst, t->nind));
    return left ? ms_error_set(MS_E_CORRUPT, "saved state does not fit this dataset") : MS_OK;
}
