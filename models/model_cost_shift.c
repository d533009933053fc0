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
 *                       zero), AND light in exams and labs for their group:
 *                       the stay's (exam + lab) share of its total, in ppm
 *                       rounded down, is below light_share x the median
 *                       share of every grouped stay (total above zero) of
 *                       its DRG/DIP group nationwide.  Cost shifting moves
 *                       the stay's own exams out of it; an honest work-up
 *                       is done in addition and leaves the stay normal.  A
 *                       visit on the admission day does not count: it may be
 *                       the admission itself.  The clue is that visit (the
 *                       one with the most exams and labs), once per person
 *                       even when it precedes two stays;
 *   self_pay_share      grouped stays with self_pay >= high_share x total,
 *                       among grouped stays with a total above zero.
 *
 * Map (person callback: a person's settlements are contiguous and sorted by
 * admission date): self_pay_share whole, the denominators, and per grouped
 * stay with a total above zero one record of the keyed aggregation `group`
 * (k0 = group code): the stay's share and, when a qualifying visit precedes
 * it (the look back covers at most `window` days of the person's rows), the
 * visit as the clue.  Reduce (one key = one group, every institution's
 * stays): values arrive sorted by their bytes, whose first four are the
 * share big-endian, so the nearest-rank median is the value of rank
 * ceil(n / 2); the preceded stays below light_share x median add to their
 * institution's numerator and push their visit as a clue.  Clues of a visit
 * before two stays (maybe of two groups, reduced by two threads) are
 * identical records, adjacent once sorted: finalize keeps one.
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
#include "ms_select.h"
#include "ms_tally.h"

enum { C_PREADMISSION, C_SELF_PAY, C_COUNT };

/* The keyed aggregations (keyed[] below). */
enum { K_GROUP };

#define NO_INST UINT32_MAX

/* One grouped stay (total above zero), keyed by its group.  Values are
 * sorted by their bytes: no padding, the share first (big-endian). */
typedef struct {
    uint8_t share_be[4]; /* floor(10^6 x (exam + lab) / total), big-endian */
    uint32_t inst;       /* the stay's institution when a qualifying visit precedes it, else NO_INST */
    uint64_t settle_id;  /* the visit's (the clue), 0 when none */
    uint64_t person_id;
    int64_t fund;        /* the visit's fund payment */
    int32_t date;        /* the visit's settle date */
    int32_t stay_admit;  /* the stay's (the clue's counterpart) admission, settlement and fund payment */
    uint64_t stay_settle;
    int64_t stay_fund;
    int64_t exam_lab;    /* the visit's exams and labs, fen */
} stay_t;

_Static_assert(sizeof(stay_t) == 64, "stay_t has no padding");

static const ms_param_t pre_params[] = {
    {
        .name = "window",
        .description = "days before admission in which an outpatient settlement counts (1 = the day before)",
        .min = 1,
        .def = 3,
        .max = 30,
        .integer = 1,
    },
    {
        .name = "exam_lab_share",
        .description = "an outpatient settlement counts when its exams and labs are at least this share of its total",
        .min = 0,
        .def = 0.5,
        .max = 1,
    },
    {
        .name = "light_share",
        .description = "a preceded stay counts when its exams and labs share of its total is below this multiple of "
                       "the median share of its DRG/DIP group's stays nationwide (moved out, not added)",
        .min = 0.05,
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
                       "settlement of the same person at the same institution mostly made of exams and labs, "
                       "while the stay itself is light in exams and labs for its group",
        .params = pre_params,
        .nparams = 3,
        .kind = MS_IND_SHARE,
        .direction = +1,
        .reason = "exams billed as outpatient before admission",
        .facts = {{"visit_exam_lab_yuan", MS_FACT_FEN}, {"stay_exam_lab_share", MS_FACT_PPM},
                  {"group_median_exam_lab_share", MS_FACT_PPM}},
        .other = "the stay that followed the visit",
    },
    [C_SELF_PAY] = {
        .name = "self_pay_share",
        .description = "share of DRG/DIP stays (total above zero) whose self-pay is at least high_share of the total",
        .params = self_params,
        .nparams = 1,
        .kind = MS_IND_SHARE,
        .direction = +1,
        .reason = "high self-pay on DRG/DIP stays",
        .facts = {{"self_pay_yuan", MS_FACT_FEN}, {"total_yuan", MS_FACT_FEN}, {"self_pay_share", MS_FACT_PPM}},
    },
};


typedef struct {
    ms_tally_t t;         /* first: ms_tally_state_*; C_COUNT indicators */
    uint32_t n_inst;
    int32_t window;
    int64_t exam_lab_ppm, light_ppm, high_ppm;
    ms_select_t stays;    /* a batch's inpatient rows */
} cost_shift_t;

static void cost_shift_free(void *state)
{
    cost_shift_t *s = state;
    if (!s) return;
    ms_tally_free(&s->t);
    ms_select_free(&s->stays);
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
    s->light_ppm = llround(ms_param(env, C_PREADMISSION, 2) * MS_PPM);
    s->high_ppm = llround(ms_param(env, C_SELF_PAY, 0) * MS_PPM);
    return s;
}

static ms_status_t cost_shift_init(const ms_model_env_t *env, void **state)
{
    *state = new_state(env);
    return *state ? MS_OK : ms_error_set(MS_E_NOMEM, "cost_shift: out of memory");
}


static void put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static ms_status_t cost_shift_batch(void *state, ms_table_id_t table, const ms_batch_t *b, ms_emit_t *emit)
{
    if (table != MS_TABLE_SETTLEMENTS) return MS_OK;
    cost_shift_t *s = state;
    const uint64_t *sid = ms_col(b, MS_SC_settle_id), *pid = ms_col(b, MS_SC_person_id);
    const int32_t *inst = ms_col(b, MS_SC_inst_code), *grp = ms_col(b, MS_SC_group_code);
    const int32_t *admit = ms_col(b, MS_SC_admit_date), *day = ms_col(b, MS_SC_settle_date);
    const uint8_t *vt = ms_col(b, MS_SC_visit_type), *pay = ms_col(b, MS_SC_pay_scheme);
    const int64_t *total = ms_col(b, MS_SC_total), *fund = ms_col(b, MS_SC_fund_pay), *self = ms_col(b, MS_SC_self_pay);
    const int64_t *exam = ms_col(b, MS_SC_exam), *lab = ms_col(b, MS_SC_lab);
    int64_t *pre_den = ms_tally_den_of(&s->t, C_PREADMISSION);
    int64_t *self_num = ms_tally_num_of(&s->t, C_SELF_PAY), *self_den = ms_tally_den_of(&s->t, C_SELF_PAY);
    MS_TRY(ms_select_visits(&s->stays, b, MS_VISIT_INPATIENT));
    for (size_t k = 0; k < s->stays.n; k++) {
        size_t i = s->stays.idx[k];
        if (grp[i] < 0 || (pay[i] != MS_PAY_DRG && pay[i] != MS_PAY_DIP)) continue;
        int32_t in = inst[i];
        pre_den[in]++;
        if (total[i] <= 0) continue; /* no share: neither in the group's median nor light */
        self_den[in]++;
        if (self[i] >= ms_share_ceil(total[i], s->high_ppm)) {
            self_num[in]++;
            ms_clue_t c = ms_clue(sid[i], pid[i], (uint32_t)in, C_SELF_PAY, day[i], fund[i]);
            c.fact[0] = self[i];
            c.fact[1] = total[i];
            c.fact[2] = ms_share_ppm(self[i], total[i]);
            MS_TRY(ms_clues_add(&s->t.clues, &c));
        }
        /* Look back over the person's rows admitted 1..window days earlier
         * (a person's rows are sorted by admission date, so they lie just
         * before i). */
        int32_t from = admit[i] - s->window;
        size_t end = b->rows, best = end;
        int64_t best_el = 0;
        for (size_t j = i; j-- > 0 && pid[j] == pid[i] && admit[j] >= from;) {
            if (admit[j] >= admit[i] || vt[j] != MS_VISIT_OUTPATIENT || inst[j] != in) continue;
            int64_t el = exam[j] + lab[j];
            if (el <= 0 || el < ms_share_ceil(total[j], s->exam_lab_ppm)) continue;
            if (best == end || el > best_el || (el == best_el && sid[j] < sid[best])) {
                best = j;
                best_el = el;
            }
        }
        /* Every grouped stay goes to its group's median; a preceded one
         * carries its visit, counted in reduce if the stay is light. */
        stay_t v;
        memset(&v, 0, sizeof v);
        put_be32(v.share_be, ms_share_ppm(exam[i] + lab[i], total[i]));
        v.inst = NO_INST;
        if (best != end) {
            v.inst = (uint32_t)in;
            v.settle_id = sid[best];
            v.person_id = pid[best];
            v.fund = fund[best];
            v.date = day[best];
            v.exam_lab = best_el;
            v.stay_settle = sid[i];
            v.stay_admit = admit[i];
            v.stay_fund = fund[i];
        }
        MS_TRY(ms_emit(emit, K_GROUP, (uint64_t)(uint32_t)grp[i], 0, &v));
    }
    return MS_OK;
}

/* One group's stays, nationwide, sorted by share: the nearest-rank median
 * (rank ceil(n / 2)); the preceded stays with share x 10^6 < light_ppm x
 * median count at their institution, their visit a clue. */
static ms_status_t reduce_group(void *state, uint64_t k0, uint64_t k1, const void *vals, size_t n)
{
    (void)k1;
    cost_shift_t *s = state;
    const unsigned char *values = vals;
    if (n == 0) return MS_OK;
    stay_t v;
    memcpy(&v, values + ((n + 1) / 2 - 1) * sizeof v, sizeof v);
    uint32_t median = get_be32(v.share_be);
    int64_t limit = s->light_ppm * (int64_t)median;
    uint32_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(&v, values + i * sizeof v, sizeof v);
        uint32_t share = get_be32(v.share_be);
        if (share < prev)
            return ms_error_set(MS_E_INTERNAL, "group %llu: stays not in share order", (unsigned long long)k0);
        prev = share;
        if (v.inst == NO_INST || (int64_t)share * MS_PPM >= limit) continue;
        if (v.inst >= s->n_inst) return ms_error_set(MS_E_INTERNAL, "stay at unknown institution %u", v.inst);
        (*ms_tally_num(&s->t, C_PREADMISSION, v.inst))++;
        /* The visit, the stay after it, and the shares behind the test. */
        ms_clue_t c = ms_clue(v.settle_id, v.person_id, v.inst, C_PREADMISSION, v.date, v.fund);
        ms_clue_other(&c, v.stay_settle, v.inst, v.stay_admit, v.stay_fund);
        c.fact[0] = v.exam_lab;
        c.fact[1] = share;
        c.fact[2] = median;
        MS_TRY(ms_clues_add(&s->t.clues, &c));
    }
    return MS_OK;
}

static int same_clue(const ms_clue_t *a, const ms_clue_t *b)
{
    return a->settle_id == b->settle_id && a->person_id == b->person_id && a->inst == b->inst &&
           a->indicator == b->indicator && a->date == b->date && a->amount == b->amount;
}

static ms_status_t cost_shift_finalize(void *state, const ms_model_env_t *env, ms_model_result_t *res)
{
    (void)env;
    cost_shift_t *s = state;
    MS_TRY(ms_tally_finalize(&s->t, res, 0));
    /* A visit before two light stays is one clue, with the first of the
     * stays as its counterpart (sorted: duplicates are adjacent, the
     * smallest counterpart first). */
    size_t k = 0;
    for (size_t i = 0; i < res->nclues; i++)
        if (k == 0 || res->clues[i].indicator != C_PREADMISSION || !same_clue(&res->clues[i], &res->clues[k - 1]))
            res->clues[k++] = res->clues[i];
    res->nclues = k;
    return MS_OK;
}

static const ms_keyed_t keyed[] = {
    [K_GROUP] = {.name = "group", .value_size = sizeof(stay_t), .reduce = reduce_group, .per_settlement = 0.03},
};

const ms_model_t ms_model_cost_shift = {
    .name = "cost_shift",
    .version = "4", /* 2: saved state laid out through ms_tally; 3: preadmission_costs needs the stay light in
                       exams and labs for its group (keyed aggregation `group`, numerator counted in reduce);
                       4: clues carry their evidence (counterpart and facts) */
    .description = "cost shifting: costs of DRG/DIP stays moved to outpatient visits or to the patient",
    .settlement_cols = 1ull << MS_SC_settle_id | 1ull << MS_SC_person_id | 1ull << MS_SC_inst_code |
                       1ull << MS_SC_visit_type | 1ull << MS_SC_admit_date | 1ull << MS_SC_settle_date |
                       1ull << MS_SC_pay_scheme | 1ull << MS_SC_group_code | 1ull << MS_SC_total |
                       1ull << MS_SC_fund_pay | 1ull << MS_SC_self_pay | 1ull << MS_SC_exam | 1ull << MS_SC_lab,
    .indicators = indicators,
    .nindicators = C_COUNT,
    .keyed = keyed,
    .nkeyed = 1,
    .default_weight = 1,
    .init = cost_shift_init,
    .batch = cost_shift_batch,
    .merge = ms_tally_state_merge,
    .save = ms_tally_state_save,
    .load = ms_tally_state_load,
    .finalize = cost_shift_finalize,
    .free = cost_shift_free,
};
