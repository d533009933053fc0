/*
 * model_decomposed.c - decomposed hospitalization (docs/models.md).
 *
 * One stay split into several, so that each stays under its group's payment
 * or is paid twice.  Everything here is one person's history, which the
 * partitioning keeps in one partition and the reader in one batch, sorted by
 * (admit_date, settle_id): the person callback copies the person's inpatient
 * stays into a scratch array kept in the state (grown, never shrunk: no
 * allocation per row or per person once it is big enough) and looks at
 * pairs and triples of them.
 *
 * Definitions (gap = later stay's admit_date - earlier stay's discharge_date,
 * in days; an earlier stay still open at the later admission, gap < 0, is an
 * overlap, never a readmission):
 *   readmission_15        stay S at institution X whose previous stay at X
 *                         (in admit order) has 0 <= gap <= window (default
 *                         15) and the same main-diagnosis category (first
 *                         three characters of the diag_main text) or, when
 *                         both stays are grouped, the same MDC.  S is flagged.
 *   same_day_readmission  the same pair with gap == 0, whatever the
 *                         diagnoses.  S is flagged.
 *   transfer_pingpong     three consecutive stays of the person A at X, B at
 *                         Y != X, C at X, with 0 <= gap(A,B) <= window and
 *                         0 <= gap(B,C) <= window (default 30).  B is flagged
 *                         at Y and C at X; a stay flagged by two triples
 *                         (X,Y,X,Y) counts once.
 * Every indicator: numerator = flagged stays of the institution, denominator
 * = its inpatient stays; one clue per flagged stay (date = its admit_date,
 * amount = its fund payment).
 *
 * State: num and den per indicator and institution (exact integer sums, so
 * merge order does not matter for them), the clues (appended in partition
 * order, sorted in finalize), and, for mapping only, the category of every
 * diagnosis id and the MDC of every group, computed once in init so that no
 * string is looked at per row.
 */
#include <stdlib.h>
#include <string.h>

#include "ms_buf.h"
#include "ms_clues.h"
#include "ms_model.h"
#include "ms_select.h"
#include "ms_tally.h"

enum { D_READMISSION, D_SAME_DAY, D_PINGPONG, D_COUNT };

static const ms_param_t readmission_params[] = {
    {
        .name = "window",
        .description = "most days from a discharge to a readmission at the same institution (inclusive)",
        .min = 1,
        .def = 15,
        .max = 90,
        .integer = 1,
    },
};

static const ms_param_t pingpong_params[] = {
    {
        .name = "window",
        .description = "most days from leaving one institution to admission at the other, each way (inclusive)",
        .min = 1,
        .def = 30,
        .max = 365,
        .integer = 1,
    },
};

static const ms_indicator_t indicators[D_COUNT] = {
    [D_READMISSION] = {
        .name = "readmission_15",
        .description = "share of the institution's inpatient stays admitted 0 to 15 days (window) after the same "
                       "person's discharge from the same institution, with the same main-diagnosis category "
                       "(first three characters) or the same MDC",
        .params = readmission_params,
        .nparams = 1,
        .kind = MS_IND_SHARE,
        .direction = +1,
        .reason = "readmissions within 15 days",
        .facts = {{"previous_discharge_date", MS_FACT_DATE}, {"days_after_discharge", MS_FACT_COUNT}},
        .other = "the same person's previous stay at the institution",
        .clue_date = "admission",
    },
    [D_SAME_DAY] = {
        .name = "same_day_readmission",
        .description = "share of the institution's inpatient stays admitted on the day the same person was "
                       "discharged from the same institution",
        .kind = MS_IND_SHARE,
        .direction = +1,
        .reason = "same-day readmissions",
        .facts = {{"previous_discharge_date", MS_FACT_DATE}, {"days_after_discharge", MS_FACT_COUNT}},
        .other = "the same person's previous stay at the institution",
        .clue_date = "admission",
    },
    [D_PINGPONG] = {
        .name = "transfer_pingpong",
        .description = "share of the institution's inpatient stays in a transfer X -> Y -> X of one person between "
                       "two institutions, each move within 30 days (window) of the discharge",
        .params = pingpong_params,
        .nparams = 1,
        .kind = MS_IND_SHARE,
        .direction = +1,
        .reason = "transfers back and forth",
        .facts = {{"previous_discharge_date", MS_FACT_DATE}, {"days_after_discharge", MS_FACT_COUNT}},
        .other = "the stay before it, at the other institution",
        .clue_date = "admission",
    },
};

/* One inpatient stay of the person being looked at. */
typedef struct {
    size_t row;            /* in the batch */
    int32_t inst, admit, discharge, cat;
    char mdc;              /* 0: not grouped */
    uint8_t planned;       /* a treatment cycle (oncology): a planned readmission */
    uint8_t pingpong;      /* already flagged by transfer_pingpong */
} stay_t;

typedef struct {
    ms_tally_t t;          /* first: ms_tally_state_*; D_COUNT indicators */
    uint32_t n_inst;
    /* mapping only (NULL in a loaded state) */
    int32_t *cat;          /* [n_diag] category id of each diagnosis id */
    size_t n_diag;
    char *mdc;             /* [n_groups] */
    size_t n_groups;
    stay_t *stays;         /* scratch: one person's inpatient stays */
    size_t cap_stays;
    ms_select_t inpatient; /* scratch: a batch's inpatient rows */
    int32_t window_readmission, window_pingpong;
} decomposed_t;

static void decomposed_free(void *state)
{
    decomposed_t *s = state;
    if (!s) return;
    ms_tally_free(&s->t);
    free(s->cat), free(s->mdc), free(s->stays);
    ms_select_free(&s->inpatient);
    free(s);
}

/* A state with zeroed counters for n institutions, or NULL. */
static decomposed_t *alloc_state(uint32_t n)
{
    decomposed_t *s = calloc(1, sizeof *s);
    if (!s || ms_tally_init(&s->t, n, D_COUNT) != MS_OK) {
        decomposed_free(s);
        return NULL;
    }
    s->n_inst = n;
    return s;
}

/* Category of every diagnosis: the dictionary is sorted by byte order, so
 * codes sharing their first three characters are neighbours and a category
 * is a run of equal prefixes (a code shorter than three characters is its
 * own prefix). */
static void diagnosis_categories(const ms_dict_t *d, int32_t *cat)
{
    int32_t id = -1;
    const char *prev = NULL;
    size_t prev_len = 0;
    for (size_t i = 0; i < d->count; i++) {
        const char *t = d->str[i];
        size_t len = strnlen(t, 3);
        if (!prev || len != prev_len || memcmp(t, prev, len)) id++;
        cat[i] = id;
        prev = t;
        prev_len = len;
    }
}

static ms_status_t decomposed_init(const ms_model_env_t *env, void **state)
{
    const ms_refs_t *r = env->refs;
    decomposed_t *s = alloc_state((uint32_t)r->n_inst);
    if (!s) return ms_error_set(MS_E_NOMEM, "decomposed: out of memory");
    s->n_diag = r->diagnoses.count;
    s->n_groups = r->n_groups;
    s->cap_stays = 64;
    s->cat = malloc((s->n_diag ? s->n_diag : 1) * sizeof *s->cat);
    s->mdc = malloc(s->n_groups ? s->n_groups : 1);
    s->stays = malloc(s->cap_stays * sizeof *s->stays);
    if (!s->cat || !s->mdc || !s->stays) {
        decomposed_free(s);
        return ms_error_set(MS_E_NOMEM, "decomposed: out of memory");
    }
    diagnosis_categories(&r->diagnoses, s->cat);
    for (size_t g = 0; g < s->n_groups; g++) s->mdc[g] = r->groups[g].mdc;
    s->window_readmission = (int32_t)ms_param(env, D_READMISSION, 0);
    s->window_pingpong = (int32_t)ms_param(env, D_PINGPONG, 0);
    *state = s;
    return MS_OK;
}

/* Count stay st as flagged by indicator ind, with its clue: the stay
 * before it (other) is the other half of the evidence, and the days
 * between the two a fact. */
static ms_status_t flag(decomposed_t *s, int ind, const stay_t *st, const stay_t *other, const ms_batch_t *b)
{
    const uint64_t *sid = ms_col(b, MS_SC_settle_id), *pid = ms_col(b, MS_SC_person_id);
    const int64_t *fund = ms_col(b, MS_SC_fund_pay);
    (*ms_tally_num(&s->t, ind, (uint32_t)st->inst))++;
    ms_clue_t c = ms_clue(sid[st->row], pid[st->row], (uint32_t)st->inst, ind, st->admit, fund[st->row]);
    ms_clue_other(&c, sid[other->row], (uint32_t)other->inst, other->admit, fund[other->row]);
    c.fact[0] = other->discharge;
    c.fact[1] = (int64_t)st->admit - other->discharge;
    return ms_clues_add(&s->t.clues, &c);
}

/* The batch's inpatient rows, for the persons that follow. */
static ms_status_t decomposed_batch(void *state, ms_table_id_t table, const ms_batch_t *b, ms_emit_t *emit)
{
    (void)emit;
    if (table != MS_TABLE_SETTLEMENTS) return MS_OK;
    decomposed_t *s = state;
    return ms_select_visits(&s->inpatient, b, MS_VISIT_INPATIENT);
}

/* Copy the person's inpatient stays into the scratch array; returns their count. */
static ms_status_t collect_stays(decomposed_t *s, const ms_batch_t *b, size_t begin, size_t end, size_t *count)
{
    const int32_t *inst = ms_col(b, MS_SC_inst_code), *admit = ms_col(b, MS_SC_admit_date);
    const int32_t *dis = ms_col(b, MS_SC_discharge_date), *diag = ms_col(b, MS_SC_diag_main);
    const int32_t *grp = ms_col(b, MS_SC_group_code);
    const uint8_t *dept = ms_col(b, MS_SC_dept);
    size_t n = 0, lo, hi;
    ms_select_person(&s->inpatient, begin, end, &lo, &hi);
    for (size_t x = lo; x < hi; x++) {
        size_t i = s->inpatient.idx[x];
        if (inst[i] < 0 || (uint32_t)inst[i] >= s->n_inst) continue;
        MS_TRY(ms_grow(&s->stays, &s->cap_stays, n + 1, sizeof *s->stays, 64));
        stay_t *st = &s->stays[n++];
        st->row = i;
        st->inst = inst[i];
        st->admit = admit[i];
        st->discharge = dis[i];
        st->cat = diag[i] >= 0 && (size_t)diag[i] < s->n_diag ? s->cat[diag[i]] : -1;
        st->mdc = grp[i] >= 0 && (size_t)grp[i] < s->n_groups ? s->mdc[grp[i]] : 0;
        st->pingpong = 0;
        /* Chemotherapy and radiotherapy come in cycles: an oncology ward's
         * readmission is planned treatment, not a stay cut in two. */
        st->planned = dept[i] == MS_DEPT_ONC;
    }
    *count = n;
    return MS_OK;
}

static ms_status_t decomposed_person(void *state, ms_table_id_t table, const ms_batch_t *b, size_t begin,
                                     size_t end, ms_emit_t *emit)
{
    (void)emit;
    if (table != MS_TABLE_SETTLEMENTS) return MS_OK;
    decomposed_t *s = state;
    if (!s->cat) return ms_error_set(MS_E_INTERNAL, "decomposed: mapping with a loaded state");
    size_t n = 0;
    MS_TRY(collect_stays(s, b, begin, end, &n));
    const stay_t *st = s->stays;
    for (size_t k = 0; k < n; k++) {
        for (int ind = 0; ind < D_COUNT; ind++) (*ms_tally_den(&s->t, ind, (uint32_t)st[k].inst))++;
        /* Readmissions: the previous stay at the same institution. */
        size_t j = k;
        while (j > 0 && st[j - 1].inst != st[k].inst) j--;
        if (j > 0) {
            const stay_t *p = &st[j - 1];
            int64_t gap = (int64_t)st[k].admit - p->discharge;
            int related = (st[k].cat >= 0 && st[k].cat == p->cat) || (st[k].mdc && st[k].mdc == p->mdc);
            if (gap >= 0 && gap <= s->window_readmission && related && !st[k].planned)
                MS_TRY(flag(s, D_READMISSION, &st[k], p, b));
            if (gap == 0) MS_TRY(flag(s, D_SAME_DAY, &st[k], p, b));
        }
        /* Ping-pong: this stay closes a triple X, Y, X of consecutive stays. */
        if (k >= 2) {
            stay_t *a = &s->stays[k - 2], *m = &s->stays[k - 1], *c = &s->stays[k];
            int64_t out = (int64_t)m->admit - a->discharge, back = (int64_t)c->admit - m->discharge;
            if (a->inst == c->inst && m->inst != a->inst && out >= 0 && out <= s->window_pingpong && back >= 0 &&
                back <= s->window_pingpong) {
                if (!m->pingpong) MS_TRY(flag(s, D_PINGPONG, m, a, b));
                m->pingpong = 1;
                c->pingpong = 1;
                MS_TRY(flag(s, D_PINGPONG, c, m, b));
            }
        }
    }
    return MS_OK;
}

static ms_status_t decomposed_finalize(void *state, const ms_model_env_t *env, ms_model_result_t *res)
{
    (void)env;
    decomposed_t *s = state;
    return ms_tally_finalize(&s->t, res, 0);
}

const ms_model_t ms_model_decomposed = {
    .name = "decomposed",
    .version = "3", /* 2: oncology cycles are planned readmissions;
                       3: clues carry their evidence (counterpart and facts) */
    .description = "decomposed hospitalization: readmissions, same-day readmissions and transfers back and forth",
    .settlement_cols = 1ull << MS_SC_settle_id | 1ull << MS_SC_person_id | 1ull << MS_SC_inst_code |
                       1ull << MS_SC_visit_type | 1ull << MS_SC_admit_date | 1ull << MS_SC_discharge_date |
                       1ull << MS_SC_diag_main | 1ull << MS_SC_group_code | 1ull << MS_SC_fund_pay |
                       1ull << MS_SC_dept,
    .indicators = indicators,
    .nindicators = D_COUNT,
    .default_weight = 1,
    .init = decomposed_init,
    .batch = decomposed_batch,
    .person = decomposed_person,
    .merge = ms_tally_state_merge,
    .save = ms_tally_state_save,
    .load = ms_tally_state_load,
    .finalize = decomposed_finalize,
    .free = decomposed_free,
};
