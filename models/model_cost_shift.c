/*
 * model_cost_shift.c - cost shifting (docs/models.md).
 *
 * Under DRG/DIP the stay is paid by its group, so costs moved out of the
 * stay are paid twice.  A "grouped stay" is an inpatient settlement paid by
 * DRG or DIP with a group code.
 *
 * Indicators (docs/models.md has the formulas):
 *   preadmission_costs  grouped stays preceded, 1 to window days before
 *                       admission, by an outpatient settlement of the same
 *                       person at the same institution whose exams and labs
 *                       are at least exam_lab_share of its total (and not
 *                       zero).  A visit on the admission day does not count:
 *                       it may be the admission itself.  The clue is that
 *                       visit (the one with the most exams and labs), once
 *                       per person even when it precedes two stays;
 *   self_pay_share      grouped stays with self_pay >= high_share x total,
 *                       among grouped stays with a total above zero.
 *
 * Everything is per person (a person's settlements are contiguous and sorted
 * by admission date), so the person callback does all the work; the look
 * back from a stay covers at most `window` days of that person's rows.
 * Shares are compared exactly in integers (parts per million of fen).
 * State: a tally (ms_tally.h): per-institution int64 counters and the
 * clues; merged by adding and appending, clues sorted in finalize.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ms_clues.h"
#include "ms_kernels.h"
#include "ms_model.h"
#include "ms_tally.h"

enum { C_PREADMISSION, C_SELF_PAY, C_COUNT };

static const ms_param_t pre_params[] = {
    {
        .name = "window",
        .description = "days before admission in which an outpatient settlement counts (1 = the day before)",
        .min = 1,
        .def = 3,
        .max = 30,
    },
    {
        .name = "exam_lab_share",
        .description = "an outpatient settlement counts when its exams and labs are at least this share of its total",
        .min = 0,
        .def = 0.5,
        .max = 1,
    },
};
static const ms_param_t self_params[] = {
    {
        .name = "high_share",
        .description = "a grouped stay whose self-pay is at least this share of its total is flagged",
        .min = 0.05,
        .def = 0.35,
        .max = 1,
    },
};

static const ms_indicator_t indicators[C_COUNT] = {
    [C_PREADMISSION] = {
        .name = "preadmission_costs",
        .description = "share of DRG/DIP stays preceded, in the window days before admission, by an outpatient "
                       "settlement of the same person at the same institution mostly made of exams and labs",
        .params = pre_params,
        .nparams = 2,
        .kind = MS_IND_SHARE,
        .direction = +1,
        .reason = "exams billed as outpatient before admission",
    },
    [C_SELF_PAY] = {
        .name = "self_pay_share",
        .description = "share of DRG/DIP stays (total above zero) whose self-pay is at least high_share of the total",
        .params = self_params,
        .nparams = 1,
        .kind = MS_IND_SHARE,
        .direction = +1,
        .reason = "high self-pay on DRG/DIP stays",
    },
};


typedef struct {
    ms_tally_t t;         /* first: ms_tally_state_*; C_COUNT indicators */
    uint32_t n_inst;
    int32_t window;
    int64_t exam_lab_ppm, high_ppm;
} cost_shift_t;

static void cost_shift_free(void *state)
{
    cost_shift_t *s = state;
    if (!s) return;
    ms_tally_free(&s->t);
    free(s);
}

/* A fresh state, or NULL when out of memory. */
static cost_shift_t *new_state(const ms_model_env_t *env)
{
    cost_shift_t *s = calloc(1, sizeof *s);
    if (s) s->n_inst = (uint32_t)env->refs->n_inst;
    if (!s || ms_tally_init(&s->t, s->n_inst, C_COUNT) != MS_OK) {
        cost_shift_free(s);
        return NULL;
    }
    s->window = (int32_t)ms_param(env, C_PREADMISSION, 0);
    s->exam_lab_ppm = llround(ms_param(env, C_PREADMISSION, 1) * MS_PPM);
    s->high_ppm = llround(ms_param(env, C_SELF_PAY, 0) * MS_PPM);
    return s;
}

static ms_status_t cost_shift_init(const ms_model_env_t *env, void **state)
{
    *state = new_state(env);
    return *state ? MS_OK : ms_error_set(MS_E_NOMEM, "cost_shift: out of memory");
}


static ms_status_t cost_shift_person(void *state, ms_table_id_t table, const ms_batch_t *b, size_t begin,
                                     size_t end, ms_emit_t *emit)
{
    (void)emit;
    if (table != MS_TABLE_SETTLEMENTS) return MS_OK;
    cost_shift_t *s = state;
    const uint64_t *sid = ms_col(b, MS_SC_settle_id), *pid = ms_col(b, MS_SC_person_id);
    const int32_t *inst = ms_col(b, MS_SC_inst_code), *grp = ms_col(b, MS_SC_group_code);
    const int32_t *admit = ms_col(b, MS_SC_admit_date), *day = ms_col(b, MS_SC_settle_date);
    const uint8_t *vt = ms_col(b, MS_SC_visit_type), *pay = ms_col(b, MS_SC_pay_scheme);
    const int64_t *total = ms_col(b, MS_SC_total), *fund = ms_col(b, MS_SC_fund_pay), *self = ms_col(b, MS_SC_self_pay);
    const int64_t *exam = ms_col(b, MS_SC_exam), *lab = ms_col(b, MS_SC_lab);
    int64_t *pre_num = ms_tally_num_of(&s->t, C_PREADMISSION), *pre_den = ms_tally_den_of(&s->t, C_PREADMISSION);
    int64_t *self_num = ms_tally_num_of(&s->t, C_SELF_PAY), *self_den = ms_tally_den_of(&s->t, C_SELF_PAY);
    size_t first_clue = s->t.clues.n; /* this person's clues start here */
    for (size_t i = begin; i < end; i++) {
        if (vt[i] != MS_VISIT_INPATIENT || grp[i] < 0 || (pay[i] != MS_PAY_DRG && pay[i] != MS_PAY_DIP)) continue;
        int32_t in = inst[i];
        pre_den[in]++;
        if (total[i] > 0) {
            self_den[in]++;
            if (self[i] >= ms_share_ceil(total[i], s->high_ppm)) {
                self_num[in]++;
                MS_TRY(ms_clues_push(&s->t.clues, sid[i], pid[i], (uint32_t)in, C_SELF_PAY, day[i], fund[i]));
            }
        }
        /* Look back over the person's rows admitted 1..window days earlier
         * (rows are sorted by admission date, so they lie just before i). */
        int32_t from = admit[i] - s->window;
        size_t best = end;
        int64_t best_el = 0;
        for (size_t j = i; j-- > begin && admit[j] >= from;) {
            if (admit[j] >= admit[i] || vt[j] != MS_VISIT_OUTPATIENT || inst[j] != in) continue;
            int64_t el = exam[j] + lab[j];
            if (el <= 0 || el < ms_share_ceil(total[j], s->exam_lab_ppm)) continue;
            if (best == end || el > best_el || (el == best_el && sid[j] < sid[best])) {
                best = j;
                best_el = el;
            }
        }
        if (best == end) continue;
        pre_num[in]++;
        int seen = 0;
        for (size_t k = first_clue; k < s->t.clues.n && !seen; k++)
            seen = s->t.clues.v[k].indicator == C_PREADMISSION && s->t.clues.v[k].settle_id == sid[best];
        if (!seen)
            MS_TRY(ms_clues_push(&s->t.clues, sid[best], pid[best], (uint32_t)in, C_PREADMISSION, day[best], fund[best]));
    }
    return MS_OK;
}

static ms_status_t cost_shift_finalize(void *state, const ms_model_env_t *env, ms_model_result_t *res)
{
    (void)env;
    cost_shift_t *s = state;
    return ms_tally_finalize(&s->t, res, 0);
}

const ms_model_t ms_model_cost_shift = {
    .name = "cost_shift",
    .version = "2", /* 2: saved state laid out through ms_tally */
    .description = "cost shifting: costs of DRG/DIP stays moved to outpatient visits or to the patient",
    .settlement_cols = 1ull << MS_SC_settle_id | 1ull << MS_SC_person_id | 1ull << MS_SC_inst_code |
                       1ull << MS_SC_visit_type | 1ull << MS_SC_admit_date | 1ull << MS_SC_settle_date |
                       1ull << MS_SC_pay_scheme | 1ull << MS_SC_group_code | 1ull << MS_SC_total |
                       1ull << MS_SC_fund_pay | 1ull << MS_SC_self_pay | 1ull << MS_SC_exam | 1ull << MS_SC_lab,
    .indicators = indicators,
    .nindicators = C_COUNT,
    .default_weight = 1,
    .init = cost_shift_init,
    .person = cost_shift_person,
    .merge = ms_tally_state_merge,
    .save = ms_tally_state_save,
    .load = ms_tally_state_load,
    .finalize = cost_shift_finalize,
    .free = cost_shift_free,
};
