/*
 * ms_registry.c - the one list of models.  Order is the order of outputs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ms_model.h"

extern const ms_model_t ms_model_volume;
extern const ms_model_t ms_model_overload;
extern const ms_model_t ms_model_false_hosp;
extern const ms_model_t ms_model_decomposed;
extern const ms_model_t ms_model_upcoding;
extern const ms_model_t ms_model_cost_shift;
extern const ms_model_t ms_model_drugs;

static const ms_model_t *const registry[] = {
    &ms_model_volume,
    &ms_model_overload,
    &ms_model_false_hosp,
    &ms_model_decomposed,
    &ms_model_upcoding,
    &ms_model_cost_shift,
    &ms_model_drugs,
};

const ms_model_t *const *ms_models(int *count)
{
    *count = (int)(sizeof registry / sizeof registry[0]);
    return registry;
}

const ms_model_t *ms_model_find(const char *name)
{
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (!strcmp(registry[i]->name, name)) return registry[i];
    return NULL;
}

void ms_model_result_free(ms_model_result_t *r)
{
    free(r->num);
    free(r->den);
    free(r->expected);
    free(r->clues);
    memset(r, 0, sizeof *r);
}

ms_status_t ms_model_result_alloc(ms_model_result_t *r, uint32_t n_inst, int nind, int with_expected)
{
    memset(r, 0, sizeof *r);
    size_t n = (size_t)n_inst * (size_t)nind;
    r->n_inst = n_inst;
    r->nind = nind;
    r->num = calloc(n ? n : 1, sizeof *r->num);
    r->den = calloc(n ? n : 1, sizeof *r->den);
    if (with_expected) {
        r->expected = malloc((n ? n : 1) * sizeof *r->expected);
        for (size_t i = 0; r->expected && i < n; i++) r->expected[i] = (double)NAN;
    }
    if (!r->num || !r->den || (with_expected && !r->expected)) {
        ms_model_result_free(r);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    return MS_OK;
}
