/*
 * model_overload.c - impossible workload (docs/models.md).
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
#include "ms_kernels.h"
#include "ms_model.h"
#include "ms_select.h"
#include "ms_tally.h"

static const ms_param_t params[] = {
    {
        .name = "ceiling_outpatient",
        .description = "most outpatient settlements one doctor can sign in a day",
        .min = 10,
        .def = 60,
        .max = 1000,
        .integer = 1,
    },
    {
        .name = "ceiling_inpatient",
        .description = "most inpatient settlements one doctor can sign in a day",
        .min = 5,
        .def = 30,
        .max = 1000,
        .integer = 1,
    },
    {
        .name = "ceiling_pharmacy",
        .description = "most pharmacy settlements one doctor can sign in a day",
        .min = 10,
        .def = 200,
        .max = 5000,
        .integer = 1,
    },
};

static const ms_indicator_t indicators[] = {
    {
        .name = "overloaded_doctor_days",
        .description = "share of the institution's settlements signed by a doctor on a day with more settlements of "
                       "that visit type than the ceiling",
        .params = params,
        .nparams = 3,
        .kind = MS_IND_SHARE,
        .direction = +1,
        .reason = "settlements signed on overloaded doctor-days",
        .facts = {{"doctor_id", MS_FACT_ID}, {"doctor_settlements_that_day", MS_FACT_COUNT}},
    },
};

/* The one keyed aggregation: (doctor, visit type << 32 | day) -> value_t. */
enum { K_DOCTOR_DAYS };

/* What a doctor-day's settlements carry to the reduce: 28 bytes, packed
 * (the day is the key's).  Values are sorted by their bytes: no padding. */
typedef struct {
    uint64_t settle_id, person_id;
    int64_t fund;
    int32_t inst;
} __attribute__((packed)) value_t;

_Static_assert(sizeof(value_t) == 28, "value_t is packed");

typedef struct {
    ms_tally_t t;        /* first: ms_tally_state_*; one indicator */
    uint32_t ceiling[3];
    ms_select_t known;   /* a batch's settlements with a known doctor */
} overload_t;

static void overload_free(void *state)
{
    overload_t *s = state;
    if (!s) return;
    ms_tally_free(&s->t);
    ms_select_free(&s->known);
    free(s);
}

static ms_status_t overload_init(const ms_model_env_t *env, void **state)
{
    overload_t *s = calloc(1, sizeof *s);
    if (!s || ms_tally_init(&s->t, (uint32_t)env->refs->n_inst, 1) != MS_OK) {
        overload_free(s);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    for (int k = 0; k < 3; k++) s->ceiling[k] = (uint32_t)ms_param(env, 0, k);
    *state = s;
    return MS_OK;
}

static ms_status_t overload_batch(void *state, ms_table_id_t table, const ms_batch_t *b, ms_emit_t *emit)
{
    if (table != MS_TABLE_SETTLEMENTS) return MS_OK;
    overload_t *s = state;
    const uint32_t *doc = ms_col(b, MS_SC_doctor_id);
    const int32_t *inst = ms_col(b, MS_SC_inst_code), *day = ms_col(b, MS_SC_settle_date);
    const uint8_t *vt = ms_col(b, MS_SC_visit_type);
    const uint64_t *sid = ms_col(b, MS_SC_settle_id), *pid = ms_col(b, MS_SC_person_id);
    const int64_t *fund = ms_col(b, MS_SC_fund_pay);
    /* An unknown doctor (0) cannot be judged: only the others count. */
    MS_TRY(ms_select_nonzero(&s->known, b, MS_SC_doctor_id));
    ms_kernels()->count_by_key_sel(inst, s->known.idx, s->known.n, ms_tally_den_of(&s->t, 0));
    for (size_t k = 0; k < s->known.n; k++) {
        uint32_t i = s->known.idx[k];
        value_t v = {sid[i], pid[i], fund[i], inst[i]};
        uint64_t k1 = (uint64_t)vt[i] << 32 | (uint32_t)day[i];
        MS_TRY(ms_emit(emit, K_DOCTOR_DAYS, doc[i], k1, &v));
    }
    return MS_OK;
}

static ms_status_t overload_reduce(void *state, uint64_t k0, uint64_t k1, const void *values, size_t n)
{
    overload_t *s = state;
    unsigned vt = (unsigned)(k1 >> 32);
    int32_t day = (int32_t)(uint32_t)k1;
    if (vt > 2 || n <= s->ceiling[vt]) return MS_OK;
    for (size_t i = 0; i < n; i++) {
        value_t v;
        memcpy(&v, (const char *)values + i * sizeof v, sizeof v);
        (*ms_tally_num(&s->t, 0, (uint32_t)v.inst))++;
        /* The doctor and how many settlements of this visit type they
         * signed that day. */
        ms_clue_t c = ms_clue(v.settle_id, v.person_id, (uint32_t)v.inst, 0, day, v.fund);
        c.fact[0] = (int64_t)k0;
        c.fact[1] = (int64_t)n;
        MS_TRY(ms_clues_add(&s->t.clues, &c));
    }
    return MS_OK;
}

/* A doctor-day at or under its visit type's ceiling is no clue. */
static size_t overload_floor(const void *state, uint64_t k0, uint64_t k1)
{
    (void)k0;
    const overload_t *s = state;
    unsigned vt = (unsigned)(k1 >> 32);
    return vt > 2 ? SIZE_MAX : s->ceiling[vt];
}

/* The key of every settlement overload_batch emits: its doctor's (a known
 * one), its visit type and day. */
static size_t overload_keys(const ms_batch_t *b, uint64_t *k0, uint64_t *k1)
{
    const uint32_t *doc = ms_col(b, MS_SC_doctor_id);
    const int32_t *day = ms_col(b, MS_SC_settle_date);
    const uint8_t *vt = ms_col(b, MS_SC_visit_type);
    size_t n = 0;
    for (size_t i = 0; i < b->rows; i++) {
        k0[n] = doc[i];
        k1[n] = (uint64_t)vt[i] << 32 | (uint32_t)day[i];
        n += doc[i] != 0;
    }
    return n;
}

static ms_status_t overload_finalize(void *state, const ms_model_env_t *env, ms_model_result_t *res)
{
    (void)env;
    overload_t *s = state;
    /* Reducing threads met the doctor-days in any order: the tally sorts the evidence. */
    return ms_tally_finalize(&s->t, res, 0);
}

static const ms_keyed_t keyed[] = {
    [K_DOCTOR_DAYS] = {.name = "doctor_days",
                       .value_size = sizeof(value_t),
                       .reduce = overload_reduce,
                       .per_settlement = 1, /* every settlement with a doctor */
                       .floor = overload_floor,
                       .key_table = MS_TABLE_SETTLEMENTS,
                       .key_cols = 1ull << MS_SC_doctor_id | 1ull << MS_SC_settle_date | 1ull << MS_SC_visit_type,
                       .keys = overload_keys,
                       .key_share = 0.1 /* a doctor's day is many settlements */},
};

const ms_model_t ms_model_overload = {
    .name = "overload",
    .version = "3", /* 2: saved as a tally; 3: clues carry their evidence (counterpart and facts) */
    .description = "impossible workload: doctors with more settlements in a day than one person can handle",
    .settlement_cols = 1ull << MS_SC_doctor_id | 1ull << MS_SC_inst_code | 1ull << MS_SC_settle_date |
                       1ull << MS_SC_visit_type | 1ull << MS_SC_settle_id | 1ull << MS_SC_fund_pay |
                       1ull << MS_SC_person_id,
    .indicators = indicators,
    .nindicators = 1,
    .keyed = keyed,
    .nkeyed = 1,
    .default_weight = 1,
    .init = overload_init,
    .batch = overload_batch,
    .merge = ms_tally_state_merge,
    .save = ms_tally_state_save, /* the denominators: flags come from reduce */
    .load = ms_tally_state_load,
    .finalize = overload_finalize,
    .free = overload_free,
};
