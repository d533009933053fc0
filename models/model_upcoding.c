/*
 * model_upcoding.c - DRG/DIP upcoding (docs/models.md).
 *
 * Stays coded into a heavier group than the care given.  A "grouped stay" is
 * an inpatient settlement paid by DRG or DIP with a group code; a "CC/MCC
 * stay" is a grouped stay whose group has severity 1 or 2.
 *
 * Indicators (docs/models.md has the formulas):
 *   severity_share      CC/MCC stays among grouped stays of families with more
 *                       than one severity, standardised indirectly: expected =
 *                       sum over families of the institution's stays times
 *                       its peer group's CC/MCC share in that family;
 *   cost_to_weight      grouped stays cheaper than cheap_share x their group's
 *                       mean cost (an upcoded stay is cheap for its group);
 *   short_severe_stay   CC/MCC stays shorter than short_share x the group's
 *                       expected length of stay;
 *   diagnosis_inflation diagnoses per CC/MCC stay (ratio, against peers);
 *   case_mix_index      group weight per grouped stay (ratio, in thousandths).
 *
 * State: per-institution int64 counters, the flagged stays as clues, and the
 * stays per (institution, family) with how many were CC/MCC, which finalize
 * needs for the expected count once the peer groups are known.  That table
 * is models/ms_pairs: dense when institutions x families is small
 * (MS_PAIRS_DENSE_MAX cells, 16 MiB a state), the pairs actually seen
 * otherwise, so a state never grows beyond the data.
 * Everything merges by adding; clues are sorted in finalize, and the
 * expected count is summed in (institution, family) order whatever the
 * representation, so outputs do not depend on threads, partitions or layout.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ms_clues.h"
#include "ms_kernels.h"
#include "ms_model.h"
#include "ms_pairs.h"
#include "ms_select.h"
#include "ms_tally.h"

enum { U_SEVERITY, U_COST, U_SHORT, U_DIAG, U_CMI, U_COUNT };

static const ms_param_t cheap_params[] = {
    {
        .name = "cheap_share",
        .description = "a grouped stay whose total cost is below this share of its group's national mean cost is cheap for its group",
        .min = 0.05,
        .def = 0.5,
        .max = 1,
    },
};
static const ms_param_t short_params[] = {
    {
        .name = "short_share",
        .description = "a CC/MCC stay shorter than this share of its group's expected length of stay is short",
        .min = 0.1,
        .def = 0.5,
        .max = 1,
    },
};

/* Upcoding shows in the coding only together with what the coding pays
 * for: severe stays that are cheap or short for their group.  Severity (or
 * weight, or diagnoses) that rises with cost and length of stay is a
 * heavier case mix, not upcoding. */
static const char *const upcoded_stays[] = {"cost_to_weight", "short_severe_stay", NULL};

static const ms_indicator_t indicators[U_COUNT] = {
    [U_SEVERITY] = {
        .name = "severity_share",
        .description = "share of grouped stays coded into a CC or MCC variant, in families with more than one "
                       "severity; expected count from the peer group's share in each family",
        .kind = MS_IND_SHARE,
        .direction = +1,
        .reason = "CC/MCC share",
        .facts = {{"group_code", MS_FACT_GROUP}, {"diagnoses", MS_FACT_COUNT}},
        .corroborated_by = upcoded_stays,
    },
    [U_COST] = {
        .name = "cost_to_weight",
        .description = "share of grouped stays costing less than cheap_share of their group's mean cost",
        .params = cheap_params,
        .nparams = 1,
        .kind = MS_IND_SHARE,
        .direction = +1,
        .reason = "stays cheap for their group",
        .facts = {{"group_code", MS_FACT_GROUP}, {"total_yuan", MS_FACT_FEN}, {"group_cheap_below_yuan", MS_FACT_FEN}},
    },
    [U_SHORT] = {
        .name = "short_severe_stay",
        .description = "share of CC/MCC stays shorter than short_share of their group's expected length of stay",
        .params = short_params,
        .nparams = 1,
        .kind = MS_IND_SHARE,
        .direction = +1,
        .reason = "short CC/MCC stays",
        .facts = {{"group_code", MS_FACT_GROUP}, {"stay_days", MS_FACT_COUNT}},
    },
    [U_DIAG] = {
        .name = "diagnosis_inflation",
        .description = "diagnoses on CC/MCC stays (numerator) per CC/MCC stay (denominator)",
        .kind = MS_IND_RATIO,
        .direction = +1,
        .reason = "diagnoses per CC/MCC stay",
        .num_unit = "diagnoses",
        .den_unit = "CC/MCC stays",
        .corroborated_by = upcoded_stays,
    },
    [U_CMI] = {
        .name = "case_mix_index",
        .description = "sum of group weights x 1000 (numerator) over grouped stays x 1000 (denominator)",
        .kind = MS_IND_RATIO,
        .direction = +1,
        .reason = "case-mix index",
        .evidence_unit = 1000, /* stays x 1000 */
        .num_unit = "group weight x 1000",
        .den_unit = "stays x 1000",
        .corroborated_by = upcoded_stays,
    },
};

/* ----------------------------------------------------------------- state */

typedef struct {
    uint32_t n_inst, n_groups, nfam;  /* nfam: families with more than one severity */
    /* per group, from the reference data and the rules */
    uint8_t *severe;                  /* severity >= 1 */
    int32_t *fam;                     /* family index, -1 for a one-severity family */
    int64_t *cheap_below;             /* cheap when total < this (fen) */
    double *short_below;              /* short when length < this (days) */
    int64_t *w1000;                   /* weight x 1000, rounded */
    /* counters */
    ms_tally_t t;                     /* U_COUNT indicators, and the clues */
    ms_pairs_t pairs;                    /* (institution, family) -> stays, CC/MCC stays */
    ms_select_t stays;                /* batch scratch: the inpatient rows */
} upcoding_t;

static void upcoding_free(void *state)
{
    upcoding_t *s = state;
    if (!s) return;
    free(s->severe), free(s->fam), free(s->cheap_below), free(s->short_below), free(s->w1000);
    ms_tally_free(&s->t);
    ms_pairs_free(&s->pairs);
    ms_select_free(&s->stays);
    free(s);
}


typedef struct {
    const char *family;
    uint32_t g;
} fam_of_t;

static int cmp_fam_of(const void *x, const void *y)
{
    const fam_of_t *a = x, *b = y;
    int c = strcmp(a->family, b->family);
    return c ? c : (a->g > b->g) - (a->g < b->g);
}

/* Family index per group: families in byte order of their names, counting
 * only those with more than one severity (a one-variant family cannot be
 * upcoded within itself). */
static ms_status_t map_families(upcoding_t *s, const ms_refs_t *refs)
{
    uint32_t n = s->n_groups;
    fam_of_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!order) return ms_error_set(MS_E_NOMEM, "upcoding: out of memory");
    for (uint32_t g = 0; g < n; g++) order[g] = (fam_of_t){refs->groups[g].family, g};
    qsort(order, n, sizeof *order, cmp_fam_of);
    s->nfam = 0;
    for (uint32_t i = 0; i < n;) {
        uint32_t j = i;
        unsigned sev_mask = 0;
        while (j < n && !strcmp(order[j].family, order[i].family))
            sev_mask |= 1u << (refs->groups[order[j++].g].severity & 7);
        int multi = (sev_mask & (sev_mask - 1)) != 0;
        for (uint32_t k = i; k < j; k++) s->fam[order[k].g] = multi ? (int32_t)s->nfam : -1;
        s->nfam += (uint32_t)multi;
        i = j;
    }
    free(order);
    return MS_OK;
}

static ms_status_t alloc_state(const ms_model_env_t *env, void **state)
{
    const ms_refs_t *refs = env->refs;
    upcoding_t *s = calloc(1, sizeof *s);
    if (!s) return ms_error_set(MS_E_NOMEM, "upcoding: out of memory");
    s->n_inst = (uint32_t)refs->n_inst;
    s->n_groups = (uint32_t)refs->n_groups;
    size_t ng = s->n_groups ? s->n_groups : 1;
    s->severe = malloc(ng * sizeof *s->severe);
    s->fam = malloc(ng * sizeof *s->fam);
    s->cheap_below = malloc(ng * sizeof *s->cheap_below);
    s->short_below = malloc(ng * sizeof *s->short_below);
    s->w1000 = malloc(ng * sizeof *s->w1000);
    ms_status_t st = MS_OK;
    if (!s->severe || !s->fam || !s->cheap_below || !s->short_below || !s->w1000 ||
        ms_tally_init(&s->t, s->n_inst, U_COUNT) != MS_OK)
        st = ms_error_set(MS_E_NOMEM, "upcoding: out of memory");
    if (st == MS_OK) st = map_families(s, refs);
    if (st == MS_OK) {
        st = ms_pairs_init(&s->pairs, s->n_inst, s->nfam, MS_PAIRS_DENSE_MAX);
    }
    if (st != MS_OK) {
        upcoding_free(s);
        return st;
    }
    int64_t cheap_ppm = llround(ms_param(env, U_COST, 0) * MS_PPM);
    double short_share = ms_param(env, U_SHORT, 0);
    for (uint32_t g = 0; g < s->n_groups; g++) {
        const ms_group_t *gr = &refs->groups[g];
        s->severe[g] = gr->severity >= 1;
        s->cheap_below[g] = ms_share_ceil(gr->mean_cost, cheap_ppm);
        s->short_below[g] = short_share * (double)gr->expected_los;
        s->w1000[g] = llround((double)gr->weight * 1000.0);
    }
    *state = s;
    return MS_OK;
}

static ms_status_t upcoding_init(const ms_model_env_t *env, void **state) { return alloc_state(env, state); }

static ms_status_t upcoding_batch(void *state, ms_table_id_t table, const ms_batch_t *b, ms_emit_t *emit)
{
    (void)emit;
    if (table != MS_TABLE_SETTLEMENTS) return MS_OK;
    upcoding_t *s = state;
    const uint64_t *sid = ms_col(b, MS_SC_settle_id), *pid = ms_col(b, MS_SC_person_id);
    const int32_t *inst = ms_col(b, MS_SC_inst_code), *grp = ms_col(b, MS_SC_group_code);
    const int32_t *admit = ms_col(b, MS_SC_admit_date), *disch = ms_col(b, MS_SC_discharge_date);
    const int32_t *day = ms_col(b, MS_SC_settle_date);
    const uint8_t *pay = ms_col(b, MS_SC_pay_scheme), *ndiag = ms_col(b, MS_SC_n_diag);
    const int64_t *total = ms_col(b, MS_SC_total), *fund = ms_col(b, MS_SC_fund_pay);
    int64_t *sev_num = ms_tally_num_of(&s->t, U_SEVERITY), *sev_den = ms_tally_den_of(&s->t, U_SEVERITY);
    int64_t *cost_num = ms_tally_num_of(&s->t, U_COST), *cost_den = ms_tally_den_of(&s->t, U_COST);
    int64_t *short_num = ms_tally_num_of(&s->t, U_SHORT), *short_den = ms_tally_den_of(&s->t, U_SHORT);
    int64_t *diag_num = ms_tally_num_of(&s->t, U_DIAG), *diag_den = ms_tally_den_of(&s->t, U_DIAG);
    int64_t *cmi_num = ms_tally_num_of(&s->t, U_CMI), *cmi_den = ms_tally_den_of(&s->t, U_CMI);
    MS_TRY(ms_select_visits(&s->stays, b, MS_VISIT_INPATIENT));
    for (size_t x = 0; x < s->stays.n; x++) {
        size_t i = s->stays.idx[x];
        int32_t g = grp[i], in = inst[i];
        if (g < 0 || (uint32_t)g >= s->n_groups ||
            (pay[i] != MS_PAY_DRG && pay[i] != MS_PAY_DIP))
            continue;
        cost_den[in]++;
        cmi_num[in] += s->w1000[g];
        cmi_den[in] += 1000;
        if (total[i] < s->cheap_below[g]) {
            cost_num[in]++;
            ms_clue_t c = ms_clue(sid[i], pid[i], (uint32_t)in, U_COST, day[i], fund[i]);
            c.fact[0] = g;
            c.fact[1] = total[i];
            c.fact[2] = s->cheap_below[g];
            MS_TRY(ms_clues_add(&s->t.clues, &c));
        }
        int severe = s->severe[g];
        if (severe) {
            short_den[in]++;
            diag_den[in]++;
            diag_num[in] += ndiag[i];
            if ((double)(disch[i] - admit[i]) < s->short_below[g]) {
                short_num[in]++;
                ms_clue_t c = ms_clue(sid[i], pid[i], (uint32_t)in, U_SHORT, day[i], fund[i]);
                c.fact[0] = g;
                c.fact[1] = disch[i] - admit[i];
                MS_TRY(ms_clues_add(&s->t.clues, &c));
            }
        }
        if (s->fam[g] >= 0) {
            sev_den[in]++;
            if (severe) {
                sev_num[in]++;
                ms_clue_t c = ms_clue(sid[i], pid[i], (uint32_t)in, U_SEVERITY, day[i], fund[i]);
                c.fact[0] = g;
                c.fact[1] = ndiag[i];
                MS_TRY(ms_clues_add(&s->t.clues, &c));
            }
            MS_TRY(ms_pairs_add(&s->pairs, (uint32_t)in, (uint32_t)s->fam[g], 1, severe));
        }
    }
    return MS_OK;
}

static ms_status_t upcoding_merge(void *into, const void *from)
{
    upcoding_t *a = into;
    const upcoding_t *b = from;
    if (a->n_inst != b->n_inst || a->nfam != b->nfam)
        return ms_error_set(MS_E_INTERNAL, "upcoding: merging states of different worlds");
    MS_TRY(ms_pairs_merge(&a->pairs, &b->pairs));
    return ms_tally_merge(&a->t, &b->t);
}

/* Saved: the tally (ms_tally_save), then {nfam, ncells} and the non-empty
 * (institution, family) cells in key order. */
typedef struct {
    uint32_t nfam, zero;
    uint64_t ncells;
} saved_t;

static ms_status_t upcoding_save(const void *state, ms_buf_t *out)
{
    const upcoding_t *s = state;
    ms_pair_cell_t *cells = NULL;
    size_t ncells = 0;
    MS_TRY(ms_pairs_cells(&s->pairs, &cells, &ncells));
    saved_t h = {s->nfam, 0, ncells};
    ms_status_t st = ms_tally_save(&s->t, out);
    if (st == MS_OK) st = ms_buf_put(out, &h, sizeof h);
    if (st == MS_OK) st = ms_buf_put(out, cells, ncells * sizeof *cells);
    free(cells);
    return st;
}

static ms_status_t upcoding_load(void *state, const void *data, size_t len)
{
    upcoding_t *s = state;
    const unsigned char *p = data;
    size_t left = len;
    saved_t h = {0, 0, 0};
    ms_status_t st = ms_tally_load(&s->t, &p, &left, s->n_inst, U_COUNT);
    if (st == MS_OK) {
        if (left >= sizeof h) memcpy(&h, p, sizeof h);
        if (left < sizeof h || h.nfam != s->nfam || h.zero || (left - sizeof h) / sizeof(ms_pair_cell_t) != h.ncells ||
            (left - sizeof h) % sizeof(ms_pair_cell_t))
            st = ms_error_set(MS_E_CORRUPT, "saved state does not fit this dataset");
        else
            p += sizeof h;
    }
    for (uint64_t i = 0, prev = 0; st == MS_OK && i < h.ncells; i++) {
        ms_pair_cell_t c;
        memcpy(&c, p + i * sizeof c, sizeof c);
        uint32_t a = (uint32_t)(c.key >> 32), f = (uint32_t)c.key;
        /* Save writes the non-empty cells in key order, each key once. */
        if (a >= s->n_inst || f >= s->nfam || (i > 0 && c.key <= prev) || (c.n[0] == 0 && c.n[1] == 0))
            st = ms_error_set(MS_E_CORRUPT, "saved state does not fit this dataset");
        else
            st = ms_pairs_add(&s->pairs, a, f, c.n[0], c.n[1]);
        prev = c.key;
    }
    return st;
}

/* expected[i] = sum over families f of stays(i, f) x CC/MCC(peer, f) / stays(peer, f),
 * the peer group's counts including i itself (so a family only i codes is
 * expected at its own share).  Without peer groups (env->peer NULL), all
 * institutions are one group. */
static ms_status_t expected_severity(upcoding_t *s, const ms_model_env_t *env, double *expected)
{
    const uint32_t *peer = env->peer;
    uint32_t npeer = peer ? env->npeer : 1;
    for (uint32_t i = 0; i < s->n_inst; i++) {
        expected[i] = 0.0;
        if (peer && peer[i] >= npeer) return ms_error_set(MS_E_INTERNAL, "upcoding: peer group out of range");
    }
    ms_pair_cell_t *cells = NULL;
    size_t ncells = 0;
    MS_TRY(ms_pairs_cells(&s->pairs, &cells, &ncells));
    ms_pairs_t pp;
    ms_status_t st = ms_pairs_init(&pp, npeer, s->nfam, MS_PAIRS_DENSE_MAX);
    for (size_t k = 0; st == MS_OK && k < ncells; k++) {
        uint32_t i = (uint32_t)(cells[k].key >> 32), f = (uint32_t)cells[k].key;
        st = ms_pairs_add(&pp, peer ? peer[i] : 0, f, cells[k].n[0], cells[k].n[1]);
    }
    for (size_t k = 0; st == MS_OK && k < ncells; k++) {
        uint32_t i = (uint32_t)(cells[k].key >> 32), f = (uint32_t)cells[k].key;
        int64_t n[2];
        ms_pairs_get(&pp, peer ? peer[i] : 0, f, n);
        if (n[0] > 0) expected[i] += (double)cells[k].n[0] * ((double)n[1] / (double)n[0]);
    }
    ms_pairs_free(&pp);
    free(cells);
    return st;
}

static ms_status_t upcoding_finalize(void *state, const ms_model_env_t *env, ms_model_result_t *res)
{
    upcoding_t *s = state;
    /* Partitions arrive in a fixed order but rows within them do not matter:
     * the tally sorts the evidence so that it reads by institution and
     * indicator. */
    MS_TRY(ms_tally_finalize(&s->t, res, 1));
    ms_status_t st = expected_severity(s, env, res->expected + (size_t)U_SEVERITY * s->n_inst);
    if (st != MS_OK) {
        ms_model_result_free(res);
        return st;
    }
    return MS_OK;
}

const ms_model_t ms_model_upcoding = {
    .name = "upcoding",
    .version = "3", /* 2: saved state laid out through ms_tally;
                       3: clues carry their evidence (counterpart and facts) */
    .description = "DRG/DIP upcoding: stays coded into a heavier group than the care given",
    .settlement_cols = 1ull << MS_SC_settle_id | 1ull << MS_SC_person_id | 1ull << MS_SC_inst_code |
                       1ull << MS_SC_visit_type | 1ull << MS_SC_admit_date | 1ull << MS_SC_discharge_date |
                       1ull << MS_SC_settle_date | 1ull << MS_SC_n_diag | 1ull << MS_SC_pay_scheme |
                       1ull << MS_SC_group_code | 1ull << MS_SC_total | 1ull << MS_SC_fund_pay,
    .indicators = indicators,
    .nindicators = U_COUNT,
    .default_weight = 1,
    .init = upcoding_init,
    .batch = upcoding_batch,
    .merge = upcoding_merge,
    .save = upcoding_save,
    .load = upcoding_load,
    .finalize = upcoding_finalize,
    .free = upcoding_free,
};
