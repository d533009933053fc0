/*
 * ms_registry.c - the one list of models.  Order is the order of outputs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ms_buf.h"
#include "ms_model.h"

/* The one list of models, one line each, in the order of the outputs. */
#define MS_REGISTRY(X) \
    X(volume)          \
    X(overload)        \
    X(false_hosp)      \
    X(decomposed)      \
    X(upcoding)        \
    X(cost_shift)      \
    X(drugs)           \
    X(rules)

#define MS_DECLARE(name) extern const ms_model_t ms_model_##name;
#define MS_ENTRY(name) &ms_model_##name,
MS_REGISTRY(MS_DECLARE)
static const ms_model_t *const registry[] = {MS_REGISTRY(MS_ENTRY)};

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

int ms_model_indicator(const ms_model_t *m, const char *name)
{
    for (int i = 0; name && i < m->nindicators; i++)
        if (!strcmp(m->indicators[i].name, name)) return i;
    return -1;
}

ms_status_t ms_model_check(const ms_model_t *m)
{
    const char *name = m->name ? m->name : "(unnamed)";
#define BAD(...) return ms_error_set(MS_E_INTERNAL, "model '%s': " __VA_ARGS__)
    if (!m->name || !*m->name || !m->version || !m->description) BAD("%s", name, "needs a name, a version and a description");
    if (!m->init || !m->merge || !m->save || !m->load || !m->finalize || !m->free)
        BAD("%s", name, "needs init, merge, save, load, finalize and free");
    if (!m->batch && !m->person) BAD("%s", name, "needs a batch or a person callback");
    if (!(m->default_weight >= 0 && m->default_weight <= 1000)) BAD("%s", name, "default_weight is not in [0, 1000]");
    if (m->nindicators < 1 || !m->indicators) BAD("%s", name, "declares no indicator");
    for (int i = 0; i < m->nindicators; i++) {
        const ms_indicator_t *ind = &m->indicators[i];
        if (!ind->name) BAD("%s", name, "an indicator has no name");
        if (ms_model_indicator(m, ind->name) != i) BAD("indicator '%s' is declared twice", name, ind->name);
        if (ind->evidence_unit < 0) BAD("indicator '%s' has a negative evidence_unit", name, ind->name);
        for (const char *const *c = ind->corroborated_by; c && *c; c++)
            if (ms_model_indicator(m, *c) < 0 || ms_model_indicator(m, *c) == i)
                BAD("indicator '%s' is corroborated by '%s', not another of its indicators", name, ind->name, *c);
    }
    if (m->nkeyed < 0 || (m->nkeyed > 0 && !m->keyed)) BAD("%s", name, "nkeyed does not match keyed");
    for (int k = 0; k < m->nkeyed; k++) {
        const ms_keyed_t *a = &m->keyed[k];
        if (!a->name || !*a->name || !a->value_size || !a->reduce)
            BAD("keyed aggregation %d needs a name, a value size and a reducer", name, k);
        for (int j = 0; j < k; j++)
            if (!strcmp(m->keyed[j].name, a->name)) BAD("keyed aggregation '%s' is declared twice", name, a->name);
        if (a->keys && (!a->floor || !a->key_cols || a->key_table >= MS_TABLE_COUNT ||
                        (a->key_cols & ~ms_model_cols(m, a->key_table))))
            BAD("keyed aggregation '%s' gives keys without a floor, or from columns the model does not read",
                name, a->name);
    }
    if (m->records_indicator && ms_model_indicator(m, m->records_indicator) < 0)
        BAD("records_indicator '%s' is not one of its indicators", name, m->records_indicator);
    if (m->baseline_indicator && ms_model_indicator(m, m->baseline_indicator) < 0)
        BAD("baseline_indicator '%s' is not one of its indicators", name, m->baseline_indicator);
#undef BAD
    return MS_OK;
}

static const ms_model_t *named_indicator(int *indicator, int baseline)
{
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++) {
        const char *want = baseline ? registry[i]->baseline_indicator : registry[i]->records_indicator;
        if (want) {
            *indicator = ms_model_indicator(registry[i], want);
            return registry[i];
        }
    }
    *indicator = -1;
    return NULL;
}

const ms_model_t *ms_models_records(int *indicator) { return named_indicator(indicator, 0); }
const ms_model_t *ms_models_baseline(int *indicator) { return named_indicator(indicator, 1); }

/* ------------------------------------------------ undeclared columns */

/* What ms_col hands out for a column the model did not declare: zeros,
 * enough for any column of the batch (8 bytes a row at most). */
static _Thread_local unsigned char *zeros;
static _Thread_local size_t zeros_cap;
static _Thread_local int undeclared = -1;

const void *ms_col_undeclared(const ms_batch_t *b, int c)
{
    if (undeclared < 0) undeclared = c;
    size_t need = (b->rows ? b->rows : 1) * 8;
    if (need > zeros_cap) {
        unsigned char *z = calloc(need, 1);
        if (!z) return NULL;
        free(zeros);
        zeros = z;
        zeros_cap = need;
    }
    return zeros;
}

int ms_col_take_undeclared(void)
{
    int c = undeclared;
    undeclared = -1;
    return c;
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
