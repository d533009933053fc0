/*
 * model_volume.c - per-institution volumes and fund totals.
 *
 * The engine's first real model, and the baseline every other ranking is
 * compared with ("rank by fund payment"): how many settlements, stays,
 * visits, purchases and distinct persons each institution has, what they
 * cost and what the fund paid.  State: one int64 array per counter, indexed
 * by institution id; merged by adding (exact).  The money sums are checked
 * (kernels' sum_by_key, the tally's merge): beyond int64 the sweep stops
 * naming the indicator and the institution, never a wrapped total.
 */
#include <stdlib.h>
#include <string.h>

#include "ms_buf.h"
#include "ms_kernels.h"
#include "ms_model.h"
#include "ms_tally.h"

enum {
    V_SETTLEMENTS, V_INPATIENT, V_OUTPATIENT, V_PHARMACY, V_PERSONS, V_TOTAL, V_FUND, V_ITEMS,
    V_ITEM_AMOUNT, V_COUNT
};

static const ms_indicator_t indicators[V_COUNT] = {
    [V_SETTLEMENTS] = {
        .name = "settlements",
        .description = "settlements of every kind",
        .num_unit = "settlements",
        .kind = MS_IND_INFO,
        .direction = 0,
        .reason = NULL,
    },
    [V_INPATIENT] = {
        .name = "inpatient_stays",
        .description = "inpatient stays (numerator) among settlements (denominator)",
        .num_unit = "stays",
        .den_unit = "settlements",
        .kind = MS_IND_INFO,
        .direction = 0,
        .reason = NULL,
    },
    [V_OUTPATIENT] = {
        .name = "outpatient_visits",
        .description = "outpatient visits among settlements",
        .num_unit = "visits",
        .den_unit = "settlements",
        .kind = MS_IND_INFO,
        .direction = 0,
        .reason = NULL,
    },
    [V_PHARMACY] = {
        .name = "pharmacy_purchases",
        .description = "retail pharmacy purchases among settlements",
        .num_unit = "purchases",
        .den_unit = "settlements",
        .kind = MS_IND_INFO,
        .direction = 0,
        .reason = NULL,
    },
    [V_PERSONS] = {
        .name = "persons",
        .description = "distinct persons with at least one settlement",
        .num_unit = "persons",
        .kind = MS_IND_INFO,
        .direction = 0,
        .reason = NULL,
    },
    [V_TOTAL] = {
        .name = "total_cost",
        .description = "total cost of all settlements",
        .num_unit = "yuan",
        .kind = MS_IND_INFO,
        .direction = 0,
        .reason = NULL,
    },
    [V_FUND] = {
        .name = "fund_payment",
        .description = "fund payment of all settlements",
        .num_unit = "yuan",
        .kind = MS_IND_INFO,
        .direction = 0,
        .reason = NULL,
    },
    [V_ITEMS] = {
        .name = "drug_items",
        .description = "coded drug packages dispensed",
        .num_unit = "packages",
        .kind = MS_IND_INFO,
        .direction = 0,
        .reason = NULL,
    },
    [V_ITEM_AMOUNT] = {
        .name = "drug_item_amount",
        .description = "amount of coded drug packages",
        .num_unit = "yuan",
        .kind = MS_IND_INFO,
        .direction = 0,
        .reason = NULL,
    },
};

/* The counters are the numerators of a tally: merged, saved and loaded by
 * the generic tally callbacks. */
typedef struct {
    ms_tally_t t;        /* first: ms_tally_state_* */
    /* batch scratch: each row's first visit of its institution by its person */
    uint8_t *first;
    size_t first_cap;
} volume_t;

static void volume_free(void *state)
{
    volume_t *v = state;
    if (!v) return;
    ms_tally_free(&v->t);
    free(v->first);
    free(v);
}

static ms_status_t volume_init(const ms_model_env_t *env, void **state)
{
    volume_t *v = calloc(1, sizeof *v);
    if (!v || ms_tally_init(&v->t, (uint32_t)env->refs->n_inst, V_COUNT) != MS_OK) {
        volume_free(v);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    v->t.ind = indicators; /* an overflow names the indicator and the institution */
    v->t.refs = env->refs;
    *state = v;
    return MS_OK;
}

static int64_t *counter(volume_t *v, int k) { return ms_tally_num_of(&v->t, k); }

/* Counts cannot overflow (at most the rows read); money sums can, beyond
 * the contract's limits: the kernel reports the first row whose add did. */
static ms_status_t sum_money(volume_t *v, int k, const int32_t *inst, const int64_t *val, size_t rows)
{
    size_t bad = ms_kernels()->sum_by_key(inst, val, rows, counter(v, k));
    return bad ? ms_tally_overflow(&v->t, k, (uint32_t)inst[bad - 1], 0, "summing a partition's rows") : MS_OK;
}

static ms_status_t volume_batch(void *state, ms_table_id_t table, const ms_batch_t *b, ms_emit_t *emit)
{
    (void)emit;
    volume_t *v = state;
    const ms_kernels_t *k = ms_kernels();
    if (table == MS_TABLE_SETTLEMENTS) {
        const int32_t *inst = ms_col(b, MS_SC_inst_code);
        const uint8_t *vt = ms_col(b, MS_SC_visit_type);
        k->count_by_key(inst, b->rows, counter(v, V_SETTLEMENTS));
        k->count_by_key_if(inst, vt, MS_VISIT_INPATIENT, b->rows, counter(v, V_INPATIENT));
        k->count_by_key_if(inst, vt, MS_VISIT_OUTPATIENT, b->rows, counter(v, V_OUTPATIENT));
        k->count_by_key_if(inst, vt, MS_VISIT_PHARMACY, b->rows, counter(v, V_PHARMACY));
        MS_TRY(sum_money(v, V_TOTAL, inst, ms_col(b, MS_SC_total), b->rows));
        MS_TRY(sum_money(v, V_FUND, inst, ms_col(b, MS_SC_fund_pay), b->rows));
        /* A person counts once at each institution they used: the rows
         * that are their person's first at that institution. */
        if (!b->persons) return ms_error_set(MS_E_INTERNAL, "volume: a batch without its persons");
        MS_TRY(ms_grow(&v->first, &v->first_cap, b->rows + 1, 1, 4096));
        k->firsts_in_runs(inst, b->persons, b->npersons, v->first);
        k->count_by_key_if(inst, v->first, 1, b->rows, counter(v, V_PERSONS));
    } else {
        const int32_t *inst = ms_col(b, MS_DC_inst_code);
        k->count_by_key(inst, b->rows, counter(v, V_ITEMS));
        MS_TRY(sum_money(v, V_ITEM_AMOUNT, inst, ms_col(b, MS_DC_amount), b->rows));
    }
    return MS_OK;
}

static ms_status_t volume_finalize(void *state, const ms_model_env_t *env, ms_model_result_t *res)
{
    (void)env;
    volume_t *v = state;
    uint32_t n = v->t.n_inst;
    MS_TRY(ms_tally_finalize(&v->t, res, 0));
    /* Shares of visit kinds have the settlements as denominator. */
    for (int k = V_INPATIENT; k <= V_PHARMACY; k++)
        memcpy(res->den + (size_t)k * n, res->num, n * sizeof *res->den);
    return MS_OK;
}

const ms_model_t ms_model_volume = {
    .name = "volume",
    .version = "2", /* 2: saved as a tally */
    .description = "per-institution volumes and fund totals (the naive baseline ranking)",
    .settlement_cols = 1ull << MS_SC_inst_code | 1ull << MS_SC_visit_type | 1ull << MS_SC_total |
                       1ull << MS_SC_fund_pay,
    .drug_cols = 1ull << MS_DC_inst_code | 1ull << MS_DC_amount,
    .indicators = indicators,
    .nindicators = V_COUNT,
    .default_weight = 0, /* descriptive: never in the overall score */
    .always_runs = 1,    /* every ranked row reports the records swept */
    .records_indicator = "settlements",
    .baseline_indicator = "fund_payment",
    .init = volume_init,
    .batch = volume_batch,
    .merge = ms_tally_state_merge,
    .save = ms_tally_state_save,
    .load = ms_tally_state_load,
    .finalize = volume_finalize,
    .free = volume_free,
};
