/*
 * model_volume.c - per-institution volumes and fund totals.
 *
 * The engine's first real model, and the baseline every other ranking is
 * compared with ("rank by fund payment"): how many settlements, stays,
 * visits, purchases and distinct persons each institution has, what they
 * cost and what the fund paid.  State: one int64 array per counter, indexed
 * by institution id; merged by adding (exact).
 */
#include <stdlib.h>
#include <string.h>

#include "ms_kernels.h"
#include "ms_model.h"

enum {
    V_SETTLEMENTS, V_INPATIENT, V_OUTPATIENT, V_PHARMACY, V_PERSONS, V_TOTAL, V_FUND, V_ITEMS,
    V_ITEM_AMOUNT, V_COUNT
};

static const ms_indicator_t indicators[V_COUNT] = {
    [V_SETTLEMENTS] = {"settlements", "settlements of every kind", NULL, 0, MS_IND_INFO, 0, NULL, 0, 0},
    [V_INPATIENT] = {"inpatient_stays", "inpatient stays (numerator) among settlements (denominator)", NULL, 0, MS_IND_INFO, 0, NULL, 0, 0},
    [V_OUTPATIENT] = {"outpatient_visits", "outpatient visits among settlements", NULL, 0, MS_IND_INFO, 0, NULL, 0, 0},
    [V_PHARMACY] = {"pharmacy_purchases", "retail pharmacy purchases among settlements", NULL, 0, MS_IND_INFO, 0, NULL, 0, 0},
    [V_PERSONS] = {"persons", "distinct persons with at least one settlement", NULL, 0, MS_IND_INFO, 0, NULL, 0, 0},
    [V_TOTAL] = {"total_cost", "total cost of all settlements, in fen", NULL, 0, MS_IND_INFO, 0, NULL, 0, 0},
    [V_FUND] = {"fund_payment", "fund payment of all settlements, in fen", NULL, 0, MS_IND_INFO, 0, NULL, 0, 0},
    [V_ITEMS] = {"drug_items", "coded drug packages dispensed", NULL, 0, MS_IND_INFO, 0, NULL, 0, 0},
    [V_ITEM_AMOUNT] = {"drug_item_amount", "amount of coded drug packages, in fen", NULL, 0, MS_IND_INFO, 0, NULL, 0, 0},
};

typedef struct {
    uint32_t n_inst;
    int64_t *c;          /* [V_COUNT * n_inst] */
} volume_t;

static void volume_free(void *state)
{
    volume_t *v = state;
    if (!v) return;
    free(v->c);
    free(v);
}

static ms_status_t alloc_state(uint32_t n_inst, void **state)
{
    volume_t *v = calloc(1, sizeof *v);
    if (v) v->c = calloc((size_t)V_COUNT * (n_inst ? n_inst : 1), sizeof *v->c);
    if (!v || !v->c) {
        volume_free(v);
        return ms_error_set(MS_E_NOMEM, "volume: out of memory");
    }
    v->n_inst = n_inst;
    *state = v;
    return MS_OK;
}

static ms_status_t volume_init(const ms_model_env_t *env, void **state)
{
    return alloc_state((uint32_t)env->refs->n_inst, state);
}

static int64_t *counter(volume_t *v, int k) { return v->c + (size_t)k * v->n_inst; }

static ms_status_t volume_batch(void *state, ms_table_id_t table, const ms_batch_t *b, ms_emit_t *emit)
{
    (void)emit;
    volume_t *v = state;
    const ms_kernels_t *k = ms_kernels();
    if (table == MS_TABLE_SETTLEMENTS) {
        const int32_t *inst = b->col[MS_SC_inst_code];
        const uint8_t *vt = b->col[MS_SC_visit_type];
        k->count_by_key(inst, b->rows, counter(v, V_SETTLEMENTS));
        k->count_by_key_if(inst, vt, MS_VISIT_INPATIENT, b->rows, counter(v, V_INPATIENT));
        k->count_by_key_if(inst, vt, MS_VISIT_OUTPATIENT, b->rows, counter(v, V_OUTPATIENT));
        k->count_by_key_if(inst, vt, MS_VISIT_PHARMACY, b->rows, counter(v, V_PHARMACY));
        k->sum_by_key(inst, b->col[MS_SC_total], b->rows, counter(v, V_TOTAL));
        k->sum_by_key(inst, b->col[MS_SC_fund_pay], b->rows, counter(v, V_FUND));
    } else {
        const int32_t *inst = b->col[MS_DC_inst_code];
        k->count_by_key(inst, b->rows, counter(v, V_ITEMS));
        k->sum_by_key(inst, b->col[MS_DC_amount], b->rows, counter(v, V_ITEM_AMOUNT));
    }
    return MS_OK;
}

/* A person counts once at each institution they used. */
static ms_status_t volume_person(void *state, ms_table_id_t table, const ms_batch_t *b, size_t begin,
                                 size_t end, ms_emit_t *emit)
{
    (void)emit;
    if (table != MS_TABLE_SETTLEMENTS) return MS_OK;
    volume_t *v = state;
    const int32_t *inst = b->col[MS_SC_inst_code];
    int64_t *persons = counter(v, V_PERSONS);
    for (size_t i = begin; i < end; i++) {
        size_t j = begin;
        while (j < i && inst[j] != inst[i]) j++;
        if (j == i) persons[inst[i]]++;
    }
    return MS_OK;
}

static ms_status_t volume_merge(void *into, const void *from)
{
    volume_t *a = into;
    const volume_t *b = from;
    if (a->n_inst != b->n_inst) return ms_error_set(MS_E_INTERNAL, "volume: merging states of different worlds");
    ms_kernels()->add_i64(a->c, b->c, (size_t)V_COUNT * a->n_inst);
    return MS_OK;
}

static ms_status_t volume_save(const void *state, ms_buf_t *out)
{
    const volume_t *v = state;
    MS_TRY(ms_buf_put(out, &v->n_inst, sizeof v->n_inst));
    return ms_buf_put(out, v->c, (size_t)V_COUNT * v->n_inst * sizeof *v->c);
}

static ms_status_t volume_load(const ms_model_env_t *env, const void *data, size_t len, void **state)
{
    uint32_t n;
    if (len < sizeof n) return ms_error_set(MS_E_CORRUPT, "volume: saved state is truncated");
    memcpy(&n, data, sizeof n);
    if (n != env->refs->n_inst || len != sizeof n + (size_t)V_COUNT * n * sizeof(int64_t))
        return ms_error_set(MS_E_CORRUPT, "volume: saved state does not fit this dataset");
    MS_TRY(alloc_state(n, state));
    memcpy(((volume_t *)*state)->c, (const char *)data + sizeof n, (size_t)V_COUNT * n * sizeof(int64_t));
    return MS_OK;
}

static ms_status_t volume_finalize(void *state, const ms_model_env_t *env, ms_model_result_t *res)
{
    (void)env;
    volume_t *v = state;
    size_t n = (size_t)V_COUNT * v->n_inst;
    memset(res, 0, sizeof *res);
    res->n_inst = v->n_inst;
    res->nind = V_COUNT;
    res->num = malloc((n ? n : 1) * sizeof *res->num);
    res->den = calloc(n ? n : 1, sizeof *res->den);
    if (!res->num || !res->den) {
        ms_model_result_free(res);
        return ms_error_set(MS_E_NOMEM, "volume: out of memory");
    }
    memcpy(res->num, v->c, n * sizeof *res->num);
    /* Shares of visit kinds have the settlements as denominator. */
    for (int k = V_INPATIENT; k <= V_PHARMACY; k++)
        memcpy(res->den + (size_t)k * v->n_inst, v->c, v->n_inst * sizeof *res->den);
    return MS_OK;
}

const ms_model_t ms_model_volume = {
    .name = "volume",
    .version = "1",
    .description = "per-institution volumes and fund totals (the naive baseline ranking)",
    .settlement_cols = 1ull << MS_SC_inst_code | 1ull << MS_SC_visit_type | 1ull << MS_SC_total |
                       1ull << MS_SC_fund_pay,
    .drug_cols = 1ull << MS_DC_inst_code | 1ull << MS_DC_amount,
    .indicators = indicators,
    .nindicators = V_COUNT,
    .init = volume_init,
    .batch = volume_batch,
    .person = volume_person,
    .merge = volume_merge,
    .save = volume_save,
    .load = volume_load,
    .finalize = volume_finalize,
    .free = volume_free,
};
