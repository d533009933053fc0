/*
 * model_false_hosp.c - false hospitalization (docs/models.md).
 *
 * Stays that did not happen, or did not need to.  Six indicators per
 * institution, computed in three places:
 *
 *   batch    per inpatient row: stays (the denominator of most indicators),
 *            treatment-light stays, minor-diagnosis stays; and the keyed
 *            records below;
 *   person   a person's whole history is contiguous (docs/schema.md: partitioned
 *            and sorted by person), so an overlapping stay is found by
 *            scanning the person's rows: a settlement at another institution
 *            whose settle_date lies strictly inside the stay;
 *   reduce   two keyed aggregations:
 *              group:  k0 = inst, k1 = person_region (every admission from that
 *                      county; batches are found per day in the reducer),
 *                      one per stay from a county other than the
 *                      institution's own; a key with at least batch_size
 *                      values is a group admission, all its stays flagged;
 *              census: k0 = inst, k1 = 0, one per stay at an
 *                      institution with approved beds; the reducer sees all
 *                      of the institution's stays and sweeps their
 *                      admission and leaving days for the peak census.
 *
 * Definitions (also in the indicator descriptions):
 *   census on day d = stays with admit <= d < max(discharge, admit + 1):
 *     a patient is not in a bed on the discharge day, and a same-day stay
 *     occupies its day;
 *   beds_overflow = peak census / approved beds (institutions with beds);
 *     its clues are the stays admitted on the first peak day, when the peak
 *     is above the beds (at most 1000, smallest settle_ids first);
 *   admission_rate = stays x 365 / (beds x days in the window), the window
 *     being the dataset's settle dates;
 *   treatment-light: bed + nursing + other >= share x total, exactly (the
 *     share in millionths, compared in integers), over stays with total > 0;
 *   minor diagnosis: the main diagnosis starts with an item of the list; a
 *     table by diagnosis id is built once in init, so rows do no string work.
 * Every clue is a stay: its settle_id, admission date and fund payment.
 *
 * The per-stay work is one fused loop in batch rather than kernels: it
 * touches only inpatient rows, and each flagged stay becomes a clue and
 * most stays a shuffle record, which no generic kernel does.
 *
 * State: num and den per indicator and institution (int64, merged by
 * adding) and the clues found (appended in merge order, sorted in
 * finalize).  Reducing states start empty and add only counts and clues, so
 * the order in which threads reduce keys does not matter.  save/load
 * persist the map phase only: the shuffle is re-mapped on --resume and
 * reduced after the partials are loaded.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ms_clues.h"
#include "ms_kernels.h"
#include "ms_model.h"
#include "ms_search.h"
#include "ms_select.h"
#include "ms_tally.h"

enum { I_OVERLAP, I_LIGHT, I_GROUP, I_MINOR, I_BEDS, I_RATE, I_COUNT };

static const ms_param_t light_params[] = {
    {
        .name = "share",
        .description = "a stay is treatment-light when bed, nursing and other costs are at least this share of its total",
        .min = 0.5,
        .def = 0.8,
        .max = 1.0,
    },
};

static const ms_param_t group_params[] = {
    {
        .name = "batch_size",
        .description = "fewest admissions to one institution on one day from one other county that make a group",
        .min = 2,
        .def = 5,
        .max = 100,
        .integer = 1,
    },
    {
        .name = "surprise_sd",
        .description = "a batch must also exceed the institution's usual daily admissions from that county by this many "
                       "Poisson standard deviations (a provincial centre admits many from every county; 0: off)",
        .min = 0,
        .def = 4,
        .max = 20,
    },
};

static const ms_param_t minor_params[] = {
    {
        .name = "diagnoses",
        .description = "main diagnoses normally treated as outpatients; an item matches every code that starts with it",
        .min = 0,
        .def = 0,
        .max = 0,
        .kind = MS_PARAM_LIST,
        .def_list = "J06,I10,E11.9,K29,M54",
    },
};

/* Many admissions per bed are a short-stay hospital's normal (day cycles,
 * quick turnover): evidence of false stays only where the stays themselves
 * look false too. */
static const char *const false_stays[] = {"overlapping_stay", "treatment_light_stay", "group_admission",
                                          "minor_diagnosis_admission", "beds_overflow", NULL};

static const ms_indicator_t indicators[I_COUNT] = {
    [I_OVERLAP] = {
        .name = "overlapping_stay",
        .description = "share of inpatient stays during which the same person has a settlement at another institution "
                       "dated strictly between admission and discharge",
        .kind = MS_IND_SHARE,
        .direction = +1,
        .reason = "overlapping stays",
        .facts = {{"discharge_date", MS_FACT_DATE}},
        .other = "the settlement at another institution dated inside the stay",
        .clue_date = "admission",
    },
    [I_LIGHT] = {
        .name = "treatment_light_stay",
        .description = "share of inpatient stays (total > 0) whose bed, nursing and other costs are at least the "
                       "configured share of the total",
        .params = light_params,
        .nparams = 1,
        .kind = MS_IND_SHARE,
        .direction = +1,
        .reason = "treatment-light stays",
        .facts = {{"bed_nursing_other_yuan", MS_FACT_FEN},
                  {"total_yuan", MS_FACT_FEN},
                  {"bed_nursing_other_share", MS_FACT_PPM}},
        .clue_date = "admission",
    },
    [I_GROUP] = {
        .name = "group_admission",
        .description = "share of inpatient stays admitted in a batch of at least batch_size persons from one county "
                       "other than the institution's own, on one day",
        .params = group_params,
        .nparams = 2,
        .kind = MS_IND_SHARE,
        .direction = +1,
        .reason = "group admissions from other counties",
        .facts = {{"patient_county", MS_FACT_ID}, {"admissions_from_county_that_day", MS_FACT_COUNT}},
        .clue_date = "admission",
    },
    [I_MINOR] = {
        .name = "minor_diagnosis_admission",
        .description = "share of inpatient stays whose main diagnosis is on the list of conditions normally treated "
                       "as outpatients",
        .params = minor_params,
        .nparams = 1,
        .kind = MS_IND_SHARE,
        .direction = +1,
        .reason = "admissions for minor diagnoses",
        .facts = {{"diagnosis_code", MS_FACT_DIAG}},
        .clue_date = "admission",
    },
    [I_BEDS] = {
        .name = "beds_overflow",
        .description = "most patients in hospital on one day (numerator) over approved beds (denominator)",
        .kind = MS_IND_RATIO,
        .direction = +1,
        .reason = "peak inpatients over approved beds",
        .evidence = MS_EVIDENCE_NUM, /* the peak census: patients */
        .num_unit = "inpatients on the peak day",
        .den_unit = "approved beds",
        .suspicious_above = 1,
        .facts = {{"peak_day", MS_FACT_DATE},
                  {"inpatients_on_peak_day", MS_FACT_COUNT},
                  {"approved_beds", MS_FACT_COUNT}},
        .clue_date = "admission",
    },
    [I_RATE] = {
        .name = "admission_rate",
        .description = "inpatient admissions x 365 (numerator) over approved beds x days in the window (denominator): "
                       "admissions per bed per year",
        .kind = MS_IND_RATIO,
        .direction = +1,
        .reason = "admissions per bed per year",
        .evidence = MS_EVIDENCE_NUM, /* admissions x 365 */
        .num_unit = "admissions x 365",
        .den_unit = "approved beds x days",
        .evidence_unit = 365,
        .corroborated_by = false_stays,
    },
};

#define PEAK_CLUES_MAX 1000

/* The keyed aggregations (keyed[] below). */
enum { K_GROUP, K_CENSUS };

/* A stay, as both aggregations carry it.  No implicit padding: values are
 * sorted by their bytes. */
typedef struct {
    uint64_t settle_id, person_id;
    int64_t fund;
    int32_t admit, discharge;
} value_t;

_Static_assert(sizeof(value_t) == 32, "value_t has no padding");

typedef struct {
    ms_tally_t t;                /* first: ms_tally_state_*; I_COUNT indicators */
    uint32_t n_inst;
    /* rules, resolved in init */
    int64_t share_ppm;
    uint32_t batch_size;
    double surprise_sd;
    double window_days;          /* days the dataset covers */
    int32_t *days;               /* reduce scratch: one key's admission days */
    size_t days_cap;
    uint8_t *minor;              /* [diagnoses.count]: 1 when on the list */
    ms_select_t stays;           /* batch scratch: the inpatient rows */
    int64_t *light_part, *light_total; /* batch scratch, per stay: bed + nursing + other, total */
    uint8_t *light_flag;         /* batch scratch, per stay: treatment-light or not */
    size_t light_part_cap, light_total_cap, light_flag_cap;
    uint8_t *is_stay, *inside;   /* person scratch, per row: a stay to test, and its verdict */
    size_t is_stay_cap, inside_cap;
    size_t ndiag;
    const ms_refs_t *refs;
    /* reduce scratch (one state per reducing thread), grown, never per row */
    int32_t *arrive, *leave, *sort_tmp;
    uint64_t *pick;
    size_t arrive_cap, leave_cap, sort_tmp_cap, pick_cap;
} false_hosp_t;

static void false_hosp_free(void *state)
{
    false_hosp_t *s = state;
    if (!s) return;
    ms_tally_free(&s->t);
    free(s->minor);
    free(s->arrive), free(s->leave), free(s->sort_tmp), free(s->pick), free(s->days);
    free(s->light_part), free(s->light_total), free(s->light_flag), free(s->is_stay), free(s->inside);
    ms_select_free(&s->stays);
    free(s);
}

typedef struct {
    const ms_dict_t *dict;
    const char *key;
} dict_key_t;

static int dict_below(const void *ctx, size_t i)
{
    const dict_key_t *q = ctx;
    return strcmp(q->dict->str[i], q->key) < 0;
}

/* minor[d] = 1 when diagnosis d starts with an item of the list.  The
 * dictionary is sorted, so the codes with a given prefix are one run. */
static void mark_minor(const ms_dict_t *dict, const char *const *items, size_t nitems, uint8_t *minor)
{
    for (size_t k = 0; k < nitems; k++) {
        const char *item = items[k];
        size_t len = item ? strlen(item) : 0;
        if (!len) continue;
        dict_key_t q = {dict, item};
        for (size_t d = ms_lower_bound(dict->count, dict_below, &q); d < dict->count && !strncmp(dict->str[d], item, len); d++) minor[d] = 1;
    }
}

static ms_status_t alloc_state(const ms_model_env_t *env, uint32_t n, void **state)
{
    const ms_refs_t *refs = env->refs;
    false_hosp_t *s = calloc(1, sizeof *s);
    if (s && ms_tally_init(&s->t, n, I_COUNT) == MS_OK) {
        s->ndiag = refs->diagnoses.count;
        s->minor = calloc(s->ndiag ? s->ndiag : 1, 1);
    }
    if (!s || !s->t.num || !s->minor) {
        false_hosp_free(s);
        return ms_error_set(MS_E_NOMEM, "false_hosp: out of memory");
    }
    s->n_inst = n;
    s->refs = refs;
    s->share_ppm = llround(ms_param(env, I_LIGHT, 0) * MS_PPM);
    s->batch_size = (uint32_t)ceil(ms_param(env, I_GROUP, 0));
    s->surprise_sd = ms_param(env, I_GROUP, 1);
    s->window_days = env->max_date >= env->min_date ? (double)(env->max_date - env->min_date + 1) : 1.0;
    size_t nitems;
    const char *const *items = ms_param_list(env, I_MINOR, 0, &nitems);
    mark_minor(&refs->diagnoses, items, nitems, s->minor);
    *state = s;
    return MS_OK;
}

static ms_status_t false_hosp_init(const ms_model_env_t *env, void **state)
{
    return alloc_state(env, (uint32_t)env->refs->n_inst, state);
}

static ms_status_t false_hosp_batch(void *state, ms_table_id_t table, const ms_batch_t *b, ms_emit_t *emit)
{
    if (table != MS_TABLE_SETTLEMENTS) return MS_OK;
    false_hosp_t *s = state;
    const int32_t *inst = ms_col(b, MS_SC_inst_code), *admit = ms_col(b, MS_SC_admit_date);
    const int32_t *discharge = ms_col(b, MS_SC_discharge_date), *region = ms_col(b, MS_SC_person_region);
    const int32_t *diag = ms_col(b, MS_SC_diag_main), *grp = ms_col(b, MS_SC_group_code);
    const int32_t *proc = ms_col(b, MS_SC_proc_main);
    const uint8_t *dept = ms_col(b, MS_SC_dept);
    const uint64_t *sid = ms_col(b, MS_SC_settle_id), *pid = ms_col(b, MS_SC_person_id);
    const int64_t *total = ms_col(b, MS_SC_total), *fund = ms_col(b, MS_SC_fund_pay);
    const int64_t *bed = ms_col(b, MS_SC_bed), *nursing = ms_col(b, MS_SC_nursing), *other = ms_col(b, MS_SC_other);
    const ms_institution_t *ref = s->refs->inst;

    /* Every inpatient stay is in the denominators (group, minor, overlap) and
     * the admission count. */
    const ms_kernels_t *k = ms_kernels();
    MS_TRY(ms_select_visits(&s->stays, b, MS_VISIT_INPATIENT));
    const uint32_t *stay = s->stays.idx;
    size_t nstays = s->stays.n;
    k->count_by_key_sel(inst, stay, nstays, ms_tally_den_of(&s->t, I_OVERLAP));
    /* Treatment-light: the share test for the batch's stays in one kernel. */
    MS_TRY(ms_grow(&s->light_part, &s->light_part_cap, nstays + 1, sizeof *s->light_part, 1024));
    MS_TRY(ms_grow(&s->light_total, &s->light_total_cap, nstays + 1, sizeof *s->light_total, 1024));
    MS_TRY(ms_grow(&s->light_flag, &s->light_flag_cap, nstays + 1, sizeof *s->light_flag, 1024));
    for (size_t x = 0; x < nstays; x++) {
        uint32_t i = stay[x];
        s->light_part[x] = bed[i] + nursing[i] + other[i];
        s->light_total[x] = total[i];
    }
    k->share_at_least(s->light_part, s->light_total, nstays, s->share_ppm, s->light_flag);
    for (size_t x = 0; x < nstays; x++) {
        uint32_t i = stay[x];
        int32_t h = inst[i];
        /* A stay on a care ward (rehabilitation, geriatric long-term care)
         * is bed and nursing by nature: treatment-light is judged on acute
         * stays only. */
        if (total[i] > 0 && dept[i] != MS_DEPT_REH && dept[i] != MS_DEPT_GER) {
            (*ms_tally_den(&s->t, I_LIGHT, (uint32_t)h))++;
            if (s->light_flag[x]) {
                (*ms_tally_num(&s->t, I_LIGHT, (uint32_t)h))++;
                ms_clue_t c = ms_clue(sid[i], pid[i], (uint32_t)h, I_LIGHT, admit[i], fund[i]);
                c.fact[0] = s->light_part[x];
                c.fact[1] = s->light_total[x];
                c.fact[2] = ms_share_ppm(s->light_part[x], s->light_total[x]);
                MS_TRY(ms_clues_add(&s->t.clues, &c));
            }
        }
        if (diag[i] >= 0 && (size_t)diag[i] < s->ndiag && s->minor[diag[i]]) {
            (*ms_tally_num(&s->t, I_MINOR, (uint32_t)h))++;
            ms_clue_t c = ms_clue(sid[i], pid[i], (uint32_t)h, I_MINOR, admit[i], fund[i]);
            c.fact[0] = diag[i];
            MS_TRY(ms_clues_add(&s->t.clues, &c));
        }
        value_t v = {sid[i], pid[i], fund[i], admit[i], discharge[i]};
        /* An operation that happened (a surgical group, with a procedure)
         * is a campaign's patient, not a bed filled for nothing: batches of
         * them from another county are no group admission. */
        int operated = grp[i] >= 0 && (size_t)grp[i] < s->refs->n_groups && s->refs->groups[grp[i]].surgical &&
                       proc[i] >= 0;
        if (region[i] != ref[h].region && !operated) {
            /* Keyed by (institution, county): the reducer sees the county's
             * every admission there, so it knows what a usual day is. */
            uint64_t k1 = (uint32_t)region[i];
            MS_TRY(ms_emit(emit, K_GROUP, (uint64_t)(uint32_t)h, k1, &v));
        }
        if (ref[h].beds > 0) {
            MS_TRY(ms_emit(emit, K_CENSUS, (uint64_t)(uint32_t)h, 0, &v));
        }
    }
    return MS_OK;
}

/* Overlapping stays: rows [begin, end) are one person's, sorted by
 * admit_date.  A settlement dated strictly inside a stay was admitted
 * before the discharge (settle_date >= admit_date), so the scan of each
 * stay stops at the first row admitted on or after its discharge. */
static ms_status_t false_hosp_person(void *state, ms_table_id_t table, const ms_batch_t *b, size_t begin,
                                     size_t end, ms_emit_t *emit)
{
    (void)emit;
    if (table != MS_TABLE_SETTLEMENTS || end - begin < 2) return MS_OK;
    false_hosp_t *s = state;
    const int32_t *inst = ms_col(b, MS_SC_inst_code), *admit = ms_col(b, MS_SC_admit_date);
    const int32_t *discharge = ms_col(b, MS_SC_discharge_date), *settle = ms_col(b, MS_SC_settle_date);
    const uint64_t *sid = ms_col(b, MS_SC_settle_id), *pid = ms_col(b, MS_SC_person_id);
    const int64_t *fund = ms_col(b, MS_SC_fund_pay);
    /* The person's stays of two days or more (a stay of one night has no
     * day strictly inside it); most persons have none. */
    size_t lo, hi, n = end - begin;
    ms_select_person(&s->stays, begin, end, &lo, &hi);
    if (lo == hi) return MS_OK;
    MS_TRY(ms_grow(&s->is_stay, &s->is_stay_cap, n, 1, 256));
    MS_TRY(ms_grow(&s->inside, &s->inside_cap, n, 1, 256));
    memset(s->is_stay, 0, n);
    size_t tested = 0;
    for (size_t x = lo; x < hi; x++) {
        uint32_t i = s->stays.idx[x];
        if (discharge[i] - admit[i] < 2) continue;
        s->is_stay[i - begin] = 1;
        tested++;
    }
    if (!tested) return MS_OK;
    size_t hits = ms_kernels()->inside_other_stay(inst + begin, admit + begin, discharge + begin, settle + begin,
                                                  s->is_stay, n, s->inside);
    for (size_t r = 0; hits && r < n; r++) {
        if (!s->inside[r]) continue;
        size_t i = begin + r;
        (*ms_tally_num(&s->t, I_OVERLAP, (uint32_t)inst[i]))++;
        /* The other half: the person's first settlement at another
         * institution dated strictly inside the stay (the kernel's test). */
        ms_clue_t c = ms_clue(sid[i], pid[i], (uint32_t)inst[i], I_OVERLAP, admit[i], fund[i]);
        for (size_t j = begin; j < end; j++)
            if (admit[j] < discharge[i] && inst[j] != inst[i] && settle[j] > admit[i] && settle[j] < discharge[i]) {
                ms_clue_other(&c, sid[j], (uint32_t)inst[j], settle[j], fund[j]);
                break;
            }
        c.fact[0] = discharge[i];
        MS_TRY(ms_clues_add(&s->t.clues, &c));
        hits--;
    }
    return MS_OK;
}

static ms_status_t grow_scratch(false_hosp_t *s, size_t n)
{
    MS_TRY(ms_grow(&s->arrive, &s->arrive_cap, n, sizeof *s->arrive, 1024));
    MS_TRY(ms_grow(&s->leave, &s->leave_cap, n, sizeof *s->leave, 1024));
    MS_TRY(ms_grow(&s->sort_tmp, &s->sort_tmp_cap, n, sizeof *s->sort_tmp, 1024));
    return ms_grow(&s->pick, &s->pick_cap, n, sizeof *s->pick, 1024);
}

static ms_status_t reduce_census(void *state, uint64_t k0, uint64_t k1, const void *vals, size_t n)
{
    (void)k1;
    false_hosp_t *s = state;
    const unsigned char *values = vals;
    uint32_t h = (uint32_t)k0;
    if (h >= s->n_inst) return ms_error_set(MS_E_INTERNAL, "census key of unknown institution %u", h);
    int32_t beds = s->refs->inst[h].beds;
    if (beds <= 0) return MS_OK;
    MS_TRY(grow_scratch(s, n));
    for (size_t i = 0; i < n; i++) {
        value_t v;
        memcpy(&v, values + i * sizeof v, sizeof v);
        s->arrive[i] = v.admit;
        s->leave[i] = v.discharge > v.admit ? v.discharge : v.admit + 1;
    }
    const ms_kernels_t *k = ms_kernels();
    k->sort_i32(s->arrive, n, s->sort_tmp);
    k->sort_i32(s->leave, n, s->sort_tmp);
    /* The census only rises on admission days: evaluate it after the last
     * admission of each day, with every stay that left on or before it. */
    int64_t peak = 0;
    int32_t peak_day = 0;
    size_t gone = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && s->arrive[i + 1] == s->arrive[i]) continue;
        while (gone < n && s->leave[gone] <= s->arrive[i]) gone++;
        int64_t census = (int64_t)(i + 1) - (int64_t)gone;
        if (census > peak) peak = census, peak_day = s->arrive[i];
    }
    *ms_tally_num(&s->t, I_BEDS, (uint32_t)h) += peak;
    if (peak <= beds) return MS_OK;
    /* The stays admitted on the peak day; past PEAK_CLUES_MAX, the ones with
     * the smallest settle_ids (ids are unique: a threshold selects them). */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        value_t v;
        memcpy(&v, values + i * sizeof v, sizeof v);
        if (v.admit == peak_day) s->pick[m++] = v.settle_id;
    }
    uint64_t last = UINT64_MAX;
    if (m > PEAK_CLUES_MAX) last = k->rank_u64(s->pick, m, PEAK_CLUES_MAX);
    for (size_t i = 0; i < n; i++) {
        value_t v;
        memcpy(&v, values + i * sizeof v, sizeof v);
        if (v.admit == peak_day && v.settle_id <= last) {
            ms_clue_t c = ms_clue(v.settle_id, v.person_id, h, I_BEDS, v.admit, v.fund);
            c.fact[0] = peak_day;
            c.fact[1] = peak;
            c.fact[2] = beds;
            MS_TRY(ms_clues_add(&s->t.clues, &c));
        }
    }
    return MS_OK;
}

static ms_status_t reduce_group(void *state, uint64_t k0, uint64_t k1, const void *values, size_t n)
{
    false_hosp_t *s = state;
    uint32_t h = (uint32_t)k0;
    if (h >= s->n_inst) return ms_error_set(MS_E_INTERNAL, "group key of unknown institution %u", h);
    if (!n || n < s->batch_size) return MS_OK;
    /* The county's admissions by day: a batch is a day with at least
     * batch_size of them and more than lambda + surprise_sd * sqrt(lambda),
     * lambda the usual admissions per day from that county. */
    MS_TRY(ms_grow(&s->days, &s->days_cap, n, sizeof *s->days, 1024));
    MS_TRY(ms_grow(&s->sort_tmp, &s->sort_tmp_cap, n, sizeof *s->sort_tmp, 1024));
    for (size_t i = 0; i < n; i++) {
        value_t v;
        memcpy(&v, (const unsigned char *)values + i * sizeof v, sizeof v);
        s->days[i] = v.admit;
    }
    ms_kernels()->sort_i32(s->days, n, s->sort_tmp);
    double lambda = (double)n / s->window_days;
    double need = fmax((double)s->batch_size, s->surprise_sd > 0 ? lambda + s->surprise_sd * sqrt(lambda) : 0);
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b < n && s->days[b] == s->days[a]) b++;
        if ((double)(b - a) >= need) {
            /* Flag every stay admitted that day (values are in byte order:
             * scan them for the day). */
            for (size_t i = 0; i < n; i++) {
                value_t v;
                memcpy(&v, (const unsigned char *)values + i * sizeof v, sizeof v);
                if (v.admit != s->days[a]) continue;
                (*ms_tally_num(&s->t, I_GROUP, (uint32_t)h))++;
                ms_clue_t c = ms_clue(v.settle_id, v.person_id, h, I_GROUP, v.admit, v.fund);
                c.fact[0] = (int64_t)k1; /* the county */
                c.fact[1] = (int64_t)(b - a);
                MS_TRY(ms_clues_add(&s->t.clues, &c));
            }
        }
        a = b;
    }
    return MS_OK;
}

static ms_status_t false_hosp_finalize(void *state, const ms_model_env_t *env, ms_model_result_t *res)
{
    false_hosp_t *s = state;
    uint32_t n = s->n_inst;
    /* Reducing threads met the keys in any order: the tally sorts the evidence. */
    MS_TRY(ms_tally_finalize(&s->t, res, 0));
    int64_t days = env->max_date >= env->min_date ? (int64_t)env->max_date - env->min_date + 1 : 0;
    for (uint32_t i = 0; i < n; i++) {
        int64_t stays = res->den[(size_t)I_OVERLAP * n + i], beds = env->refs->inst[i].beds;
        res->den[(size_t)I_GROUP * n + i] = stays;
        res->den[(size_t)I_MINOR * n + i] = stays;
        /* Without approved beds neither ratio means anything: not scored. */
        res->den[(size_t)I_BEDS * n + i] = beds > 0 ? beds : 0;
        if (beds <= 0) res->num[(size_t)I_BEDS * n + i] = 0;
        /* Checked: stays is a merged sum (or a loaded one), beyond int64 / 365
         * only past the contract's limits. */
        int64_t rate = 0;
        if (beds > 0 && days > 0 && __builtin_mul_overflow(stays, (int64_t)365, &rate))
            return ms_tally_overflow(&s->t, I_OVERLAP, i, 1, "computing admission_rate");
        res->num[(size_t)I_RATE * n + i] = rate;
        res->den[(size_t)I_RATE * n + i] = beds > 0 && days > 0 ? beds * days : 0;
    }
    return MS_OK;
}

static const ms_keyed_t keyed[] = {
    [K_GROUP] = {.name = "group", .value_size = sizeof(value_t), .reduce = reduce_group, .per_settlement = 0.005},
    [K_CENSUS] = {.name = "census", .value_size = sizeof(value_t), .reduce = reduce_census, .per_settlement = 0.03},
};

const ms_model_t ms_model_false_hosp = {
    .name = "false_hosp",
    .version = "6", /* 5: admission rate corroborated by false stays;
                       6: clues carry their evidence (counterpart and facts) */
    .description = "false hospitalization: overlapping, treatment-light, group and minor-diagnosis stays, "
                   "beds overflow and admission rate",
    .settlement_cols = 1ull << MS_SC_settle_id | 1ull << MS_SC_person_id | 1ull << MS_SC_inst_code |
                       1ull << MS_SC_visit_type | 1ull << MS_SC_admit_date | 1ull << MS_SC_discharge_date |
                       1ull << MS_SC_settle_date | 1ull << MS_SC_person_region | 1ull << MS_SC_diag_main |
                       1ull << MS_SC_total | 1ull << MS_SC_fund_pay | 1ull << MS_SC_bed |
                       1ull << MS_SC_nursing | 1ull << MS_SC_other | 1ull << MS_SC_group_code |
                       1ull << MS_SC_proc_main | 1ull << MS_SC_dept,
    .indicators = indicators,
    .nindicators = I_COUNT,
    .keyed = keyed,
    .nkeyed = 2,
    .default_weight = 1,
    .init = false_hosp_init,
    .batch = false_hosp_batch,
    .person = false_hosp_person,
    .merge = ms_tally_state_merge,
    .save = ms_tally_state_save,
    .load = ms_tally_state_load,
    .finalize = false_hosp_finalize,
    .free = false_hosp_free,
};
