/*
 * model_overload.c - impossible workload (MODELS.md section 5).
 *
 * A doctor with more settlements in one day than one person can handle, by
 * visit type.  Doctor-days cross partitions (a doctor's patients are hashed
 * everywhere), so the counting is keyed aggregation: every settlement with a
 * known doctor emits (doctor, visit type, day) -> (settle_id, fund, inst);
 * the reducer sees each doctor-day whole and flags all its settlements when
 * the count is over the ceiling.  doctor_id is taken to be national (a
 * doctor working at two institutions on one day is one person).
 *
 * Indicator: per institution, settlements signed by overloaded doctor-days
 * (numerator) over its settlements with a known doctor (denominator).
 */
#include <stdlib.h>
#include <string.h>

#include "ms_clues.h"
#include "ms_model.h"
#include "ms_tally.h"

static const ms_param_t params[] = {
    {"ceiling_outpatient", "most outpatient settlements one doctor can sign in a day", 10, 60, 1000, MS_PARAM_NUMBER, NULL},
    {"ceiling_inpatient", "most inpatient settlements one doctor can sign in a day", 5, 30, 1000, MS_PARAM_NUMBER, NULL},
    {"ceiling_pharmacy", "most pharmacy settlements one doctor can sign in a day", 10, 200, 5000, MS_PARAM_NUMBER, NULL},
};

static const ms_indicator_t indicators[] = {
    {"overloaded_doctor_days",
     "share of the institution's settlements signed by a doctor on a day with more settlements of "
     "that visit type than the ceiling",
     params, 3, MS_IND_SHARE, +1, "settlements signed on overloaded doctor-days", 0, 0},
};

typedef struct {
    uint64_t settle_id, person_id;
    int64_t fund;
    int32_t inst;
    int32_t day;
} value_t;

typedef struct {
    uint32_t n_inst;
    ms_tally_t t;        /* one indicator */
    uint32_t ceiling[3];
} overload_t;

static void overload_free(void *state)
{
    overload_t *s = state;
    if (!s) return;
    ms_tally_free(&s->t);
    free(s);
}

static ms_status_t alloc_state(const ms_model_env_t *env, uint32_t n, void **state)
{
    overload_t *s = calloc(1, sizeof *s);
    if (!s || ms_tally_init(&s->t, n, 1) != MS_OK) {
        overload_free(s);
        return ms_error_set(MS_E_NOMEM, "overload: out of memory");
    }
    s->n_inst = n;
    for (int k = 0; k < 3; k++) s->ceiling[k] = (uint32_t)ms_param(env, 0, k);
    *state = s;
    return MS_OK;
}

static ms_status_t overload_init(const ms_model_env_t *env, void **state)
{
    return alloc_state(env, (uint32_t)env->refs->n_inst, state);
}

static ms_status_t overload_batch(void *state, ms_table_id_t table, const ms_batch_t *b, ms_emit_t *emit)
{
    if (table != MS_TABLE_SETTLEMENTS) return MS_OK;
    overload_t *s = state;
    const uint32_t *doc = b->col[MS_SC_doctor_id];
    const int32_t *inst = b->col[MS_SC_inst_code], *day = b->col[MS_SC_settle_date];
    const uint8_t *vt = b->col[MS_SC_visit_type];
    const uint64_t *sid = b->col[MS_SC_settle_id], *pid = b->col[MS_SC_person_id];
    const int64_t *fund = b->col[MS_SC_fund_pay];
    for (size_t i = 0; i < b->rows; i++) {
        if (doc[i] == 0) continue; /* unknown doctor: cannot be judged */
        (*ms_tally_den(&s->t, 0, (uint32_t)inst[i]))++;
        value_t v = {sid[i], pid[i], fund[i], inst[i], day[i]};
        uint64_t k1 = (uint64_t)vt[i] << 32 | (uint32_t)day[i];
        MS_TRY(emit->emit(emit->impl, emit->tid, doc[i], k1, &v));
    }
    return MS_OK;
}

static ms_status_t overload_reduce(void *state, uint64_t k0, uint64_t k1, const void *values, size_t n)
{
    overload_t *s = state;
    unsigned vt = (unsigned)(k1 >> 32);
    if (vt > 2 || n <= s->ceiling[vt]) return MS_OK;
    (void)k0;
    for (size_t i = 0; i < n; i++) {
        value_t v;
        memcpy(&v, (const char *)values + i * sizeof v, sizeof v);
        (*ms_tally_num(&s->t, 0, (uint32_t)v.inst))++;
        MS_TRY(ms_clues_push(&s->t.clues, v.settle_id, v.person_id, (uint32_t)v.inst, 0, v.day, v.fund));
    }
    return MS_OK;
}

static ms_status_t overload_merge(void *into, const void *from)
{
    overload_t *a = into;
    const overload_t *b = from;
    ms_status_t st = ms_tally_merge(&a->t, &b->t);
    return st == MS_OK ? st : ms_error_wrap(st, "overload: ");
}

/* Only the denominators are mapped per partition; flags come from reduce. */
static ms_status_t overload_save(const void *state, ms_buf_t *out)
{
    const overload_t *s = state;
    MS_TRY(ms_buf_put(out, &s->n_inst, sizeof s->n_inst));
    return ms_buf_put(out, s->t.den, s->n_inst * sizeof *s->t.den);
}

static ms_status_t overload_load(const ms_model_env_t *env, const void *data, size_t len, void **state)
{
    uint32_t n;
    if (len < sizeof n) return ms_error_set(MS_E_CORRUPT, "overload: saved state is truncated");
    memcpy(&n, data, sizeof n);
    if (n != env->refs->n_inst || len != sizeof n + n * sizeof(int64_t))
        return ms_error_set(MS_E_CORRUPT, "overload: saved state does not fit this dataset");
    MS_TRY(alloc_state(env, n, state));
    memcpy(((overload_t *)*state)->t.den, (const char *)data + sizeof n, n * sizeof(int64_t));
    return MS_OK;
}

static ms_status_t overload_finalize(void *state, const ms_model_env_t *env, ms_model_result_t *res)
{
    (void)env;
    overload_t *s = state;
    /* Reducing threads met the doctor-days in any order: the tally sorts the evidence. */
    return ms_tally_finalize(&s->t, res, 0);
}

const ms_model_t ms_model_overload = {
    .name = "overload",
    .version = "1",
    .description = "impossible workload: doctors with more settlements in a day than one person can handle",
    .settlement_cols = 1ull << MS_SC_doctor_id | 1ull << MS_SC_inst_code | 1ull << MS_SC_settle_date |
                       1ull << MS_SC_visit_type | 1ull << MS_SC_settle_id | 1ull << MS_SC_fund_pay |
                       1ull << MS_SC_person_id,
    .indicators = indicators,
    .nindicators = 1,
    .shuffle_value_size = sizeof(value_t),
    .init = overload_init,
    .batch = overload_batch,
    .merge = overload_merge,
    .save = overload_save,
    .load = overload_load,
    .reduce = overload_reduce,
    .finalize = overload_finalize,
    .free = overload_free,
};
