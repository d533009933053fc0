/*
 * ms_gen_person.c - one person's history: stays, visits, pharmacy purchases,
 * and whatever the plan and the cheating institutions nearby add to it.
 *
 * Everything here comes from the person's own random stream (seed, 2, index)
 * and the read-only world, so the result does not depend on which thread
 * runs it or in which order.  Events are collected, sorted by date (then by
 * creation order), and only then numbered: settle_id = (index + 1) * 8192 +
 * n, so the rows come out sorted as a partition must be.
 *
 * Natural stays never overlap each other and no natural visit falls strictly
 * inside a stay: an overlapping stay, a same-day readmission or a visit during
 * a stay is always a planted record.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ms_buf.h"
#include "ms_gen_internal.h"
#include "ms_search.h"

#define MAX_EVENTS 8000

typedef struct {
    ms_settlement_t s;
    int8_t pattern;          /* planted ms_pattern_t, or -1 */
    uint32_t fam;            /* DRG family of a stay */
    uint32_t order;          /* creation order: the sort's tie-break */
    uint32_t item_first, item_count;
    uint8_t workup;          /* an elective admission with a work-up visit days before */
} event_t;

typedef struct {
    ms_drug_item_t d;
    int8_t pattern;
} item_t;

struct gen_scratch {
    event_t *ev;
    size_t nev, cap_ev;
    item_t *it;
    size_t nit, cap_it;
    uint32_t *order;
    size_t cap_order;
    gen_bill_event_t *bev;    /* --bills: the kept settlements, in order */
    size_t cap_bev;
    gen_bill_scratch_t *bills;
};

gen_scratch_t *gen_scratch_new(void) { return calloc(1, sizeof(gen_scratch_t)); }

void gen_scratch_free(gen_scratch_t *sc)
{
    if (!sc) return;
    free(sc->ev);
    free(sc->it);
    free(sc->order);
    free(sc->bev);
    gen_bill_scratch_free(sc->bills);
    free(sc);
}

/* Everything a history needs while it is being made. */
typedef struct {
    const gen_world_t *w;
    const gen_person_t *p;
    gen_scratch_t *sc;
    ms_rng_t r;
    int32_t first, last;     /* window [first, last) */
    uint32_t usual_pharmacy;
    uint32_t item_seq;
    int oom;
} ctx_t;

static event_t *new_event(ctx_t *c)
{
    gen_scratch_t *sc = c->sc;
    if (sc->nev >= MAX_EVENTS) return NULL;
    if (ms_grow(&sc->ev, &sc->cap_ev, sc->nev + 1, sizeof *sc->ev, 64) != MS_OK) {
        c->oom = 1;
        return NULL;
    }
    event_t *e = &sc->ev[sc->nev];
    memset(e, 0, sizeof *e);
    e->order = (uint32_t)sc->nev++;
    e->pattern = -1;
    e->s.person_id = c->p->id;
    e->s.age = c->p->age;
    e->s.sex = c->p->sex;
    e->s.person_region = c->w->county[c->p->county].code;
    e->s.group_code = -1;
    e->s.proc_main = -1;
    e->s.n_diag = 1;
    e->s.pay_scheme = MS_PAY_FFS;
    return e;
}

/* ------------------------------------------------------------ occupancy */

/* Does [a, b] touch any stay (sharing a day counts)? */
static int stay_conflict(const ctx_t *c, int32_t a, int32_t b)
{
    for (size_t i = 0; i < c->sc->nev; i++) {
        const ms_settlement_t *s = &c->sc->ev[i].s;
        if (s->visit_type == MS_VISIT_INPATIENT && a <= s->discharge_date && s->admit_date <= b) return 1;
    }
    return 0;
}

/* Is day v strictly inside a stay? */
static int inside_stay(const ctx_t *c, int32_t v)
{
    for (size_t i = 0; i < c->sc->nev; i++) {
        const ms_settlement_t *s = &c->sc->ev[i].s;
        if (s->visit_type == MS_VISIT_INPATIENT && s->admit_date < v && v < s->discharge_date) return 1;
    }
    return 0;
}

static int32_t random_day(ctx_t *c, int32_t margin)
{
    int32_t span = c->last - c->first - margin;
    return c->first + (int32_t)ms_rng_below(&c->r, (uint64_t)(span > 1 ? span : 1));
}

/* ----------------------------------------------------------------- money */

/* Split total into the nine categories by fractions (which need not add up
 * to 1): exact in fen, the remainder goes to the largest share. */
static void split_costs(ms_settlement_t *s, int64_t total, const double f[MS_N_COST_CATEGORIES])
{
    double sum = 0;
    int big = 0;
    for (int k = 0; k < MS_N_COST_CATEGORIES; k++) {
        sum += f[k];
        if (f[k] > f[big]) big = k;
    }
    int64_t part[MS_N_COST_CATEGORIES], used = 0;
    for (int k = 0; k < MS_N_COST_CATEGORIES; k++) {
        part[k] = sum > 0 ? (int64_t)floor((double)total * f[k] / sum) : 0;
        used += part[k];
    }
    part[big] += total - used;
    s->drug = part[0], s->exam = part[1], s->lab = part[2], s->consumable = part[3];
    s->treatment = part[4], s->surgery = part[5], s->bed = part[6], s->nursing = part[7];
    s->other = part[8];
    s->total = total;
}

static void set_fund_share(ms_settlement_t *s, double share)
{
    if (share < 0) share = 0;
    if (share > 1) share = 1;
    s->fund_pay = (int64_t)llround((double)s->total * share);
    s->self_pay = s->total - s->fund_pay;
}

static uint32_t doctor_of(ctx_t *c, uint32_t inst)
{
    if (ms_rng_chance(&c->r, 0.01)) return 0; /* unknown doctor */
    return (inst + 1) * 1000 + 1 + (uint32_t)ms_rng_below(&c->r, c->w->inst[inst].doctors);
}

/* ----------------------------------------------------------------- stays */

/* How a stay is costed: naturally (by its group), planted treatment-light,
 * or one of the honest kinds of the hard negatives. */
typedef enum { COST_NATURAL, COST_LIGHT, COST_CHEMO, COST_REHAB, COST_NURSING, COST_CATARACT } cost_kind_t;

static uint8_t natural_severity(ctx_t *c, uint32_t inst, const gen_family_t *f)
{
    if (f->nvariants == 1) return 0;
    uint8_t level = c->w->refs.inst[inst].level;
    int hard = c->w->inst[inst].hard;
    double p2 = (level == 3 ? 0.20 : level == 2 ? 0.12 : 0.06) + (c->p->age >= 70 ? 0.05 : 0);
    double p1 = level == 3 ? 0.30 : level == 2 ? 0.25 : 0.18;
    /* Hard negatives: the referral centre of the province's sickest, and a
     * secondary hospital with an ICU that takes them too. */
    if (hard == MS_HN_TERTIARY_HEAVY) p2 = 0.34 + (c->p->age >= 70 ? 0.05 : 0), p1 = 0.36;
    else if (hard == MS_HN_L2_HIGH_SEVERITY) p2 = 0.24 + (c->p->age >= 70 ? 0.05 : 0), p1 = 0.36;
    double u = ms_rng_unit(&c->r);
    return u < p2 ? 2 : u < p2 + p1 ? 1 : 0;
}

static int32_t natural_los(ctx_t *c, const ms_group_t *g)
{
    double v = (double)g->expected_los * ms_rng_lognormal(&c->r, 0.35);
    return v < 1 ? 1 : (int32_t)lround(v);
}

/* A stay at inst of family fam and severity sev, costed as severity
 * cost_sev of the same family.  Returns NULL when it cannot be placed. */
static event_t *add_stay(ctx_t *c, uint32_t inst, uint32_t fam, uint8_t sev, uint8_t cost_sev,
                         int32_t admit, int32_t los, cost_kind_t kind, int8_t pattern)
{
    const gen_world_t *w = c->w;
    const gen_family_t *f = &w->fam[fam];
    if (f->nvariants == 1) sev = cost_sev = 0;
    const ms_group_t *gc = &w->refs.groups[f->group[cost_sev]];
    event_t *e = new_event(c);
    if (!e) return NULL;
    ms_settlement_t *s = &e->s;
    const ms_institution_t *x = &w->refs.inst[inst];
    s->inst_code = (int32_t)inst;
    s->visit_type = MS_VISIT_INPATIENT;
    s->admit_date = admit;
    s->discharge_date = s->settle_date = admit + los;
    s->dept = c->p->age < 14 ? MS_DEPT_PED : f->dept;
    s->doctor_id = doctor_of(c, inst);
    s->diag_main = (int32_t)w->diag_map[f->diag_first + ms_rng_below(&c->r, f->diag_count)];
    if (f->proc_count) s->proc_main = (int32_t)w->proc_map[f->proc_first + ms_rng_below(&c->r, f->proc_count)];
    unsigned nd = 1 + ms_rng_poisson(&c->r, 1.0 + 2.5 * sev);
    s->n_diag = (uint8_t)(nd > 50 ? 50 : nd);
    uint8_t scheme = w->prov[w->county[w->inst[inst].county].province].scheme;
    if (scheme != MS_PAY_FFS && x->level >= 1 && ms_rng_chance(&c->r, 0.95)) {
        s->pay_scheme = scheme;
        s->group_code = (int32_t)f->group[sev];
    }
    double tier = x->level == 3 ? 1.15 : x->level == 2 ? 1.0 : 0.8;
    int64_t total;
    double fr[MS_N_COST_CATEGORIES];
    if (kind == COST_LIGHT) {
        /* A bed was billed, little was done. */
        total = (int64_t)llround(los * 18000.0 * ms_rng_lognormal(&c->r, 0.2));
        static const double light[MS_N_COST_CATEGORIES] = {0.04, 0.02, 0.02, 0, 0.03, 0, 0.55, 0.25, 0.09};
        memcpy(fr, light, sizeof fr);
    } else if (kind == COST_REHAB || kind == COST_NURSING) {
        /* Rehabilitation: a bed and nursing every day, therapy sessions,
         * few drugs; long-term nursing care: bed and nursing, little else.
         * Priced by the day, not by the group. */
        total = (int64_t)llround(los * (kind == COST_REHAB ? 42000.0 : 30000.0) * ms_rng_lognormal(&c->r, 0.25));
        static const double rehab[MS_N_COST_CATEGORIES] = {0.10, 0.03, 0.03, 0.01, 0.22, 0, 0.28, 0.28, 0.05};
        static const double care[MS_N_COST_CATEGORIES] = {0.09, 0.01, 0.02, 0.01, 0.04, 0, 0.38, 0.42, 0.03};
        const double *b = kind == COST_REHAB ? rehab : care;
        for (int k = 0; k < MS_N_COST_CATEGORIES; k++) fr[k] = b[k] * ms_rng_lognormal(&c->r, 0.25);
    } else {
        /* By the group: natural, a chemotherapy cycle (mostly drugs) or a
         * cataract operation (surgery and the lens). */
        static const double base[MS_N_COST_CATEGORIES] = {0.28, 0.12, 0.10, 0.08, 0.10, 0, 0.08, 0.06, 0.03};
        static const double chemo[MS_N_COST_CATEGORIES] = {0.55, 0.05, 0.10, 0.05, 0.10, 0, 0.06, 0.05, 0.04};
        static const double eye[MS_N_COST_CATEGORIES] = {0.08, 0.08, 0.06, 0.32, 0.06, 0.26, 0.04, 0.04, 0.06};
        const double *b = kind == COST_CHEMO ? chemo : kind == COST_CATARACT ? eye : base;
        total = (int64_t)llround((double)gc->mean_cost * ms_rng_lognormal(&c->r, kind == COST_CATARACT ? 0.2 : 0.3) *
                                 tier);
        for (int k = 0; k < MS_N_COST_CATEGORIES; k++) fr[k] = b[k] * ms_rng_lognormal(&c->r, 0.25);
        if (f->surgical && kind == COST_NATURAL) fr[5] = 0.15 * ms_rng_lognormal(&c->r, 0.25), fr[3] *= 2;
    }
    if (total < 100) total = 100;
    split_costs(s, total, fr);
    double share = x->level == 3 ? 0.65 : x->level == 2 ? 0.72 : 0.80;
    set_fund_share(s, share * (0.95 + 0.1 * ms_rng_unit(&c->r)));
    e->pattern = pattern;
    e->fam = fam;
    return e;
}

/* A free admission day for a stay of los days, or INT32_MIN. */
static int32_t free_admit(ctx_t *c, int32_t los, int tries)
{
    for (int t = 0; t < tries; t++) {
        int32_t a = random_day(c, 0);
        if (!stay_conflict(c, a, a + los)) return a;
    }
    return INT32_MIN;
}

static uint32_t pick_family(ctx_t *c, int medical_only)
{
    for (int t = 0; t < 20; t++) {
        uint32_t f = gen_pick(&c->w->fam_pick, &c->r);
        if (!medical_only || !c->w->fam[f].surgical) return f;
    }
    return gen_pick(&c->w->fam_pick, &c->r);
}

/* A surgical family by prevalence (or fam, after 30 medical draws). */
static uint32_t pick_surgical_family(ctx_t *c, uint32_t fam)
{
    for (int t = 0; t < 30; t++) {
        uint32_t f = gen_pick(&c->w->fam_pick, &c->r);
        if (c->w->fam[f].surgical) return f;
    }
    return fam;
}

static uint32_t natural_hospital(ctx_t *c)
{
    const gen_world_t *w = c->w;
    const gen_county_t *ct = &w->county[c->p->county];
    const gen_province_t *pv = &w->prov[ct->province];
    uint32_t i = ms_rng_chance(&c->r, 0.25) ? gen_pick(&pv->tertiary, &c->r) : gen_pick(&ct->inpatient, &c->r);
    if (i == UINT32_MAX) i = gen_pick(&ct->inpatient, &c->r);
    if (i == UINT32_MAX) i = gen_pick(&pv->inpatient, &c->r);
    return i;
}

/* ---------------------------------------------------------------- visits */

/* A new event of one day (an outpatient visit or a pharmacy purchase). */
static event_t *new_day_event(ctx_t *c, uint32_t inst, uint8_t visit_type, int32_t day)
{
    event_t *e = new_event(c);
    if (!e) return NULL;
    e->s.inst_code = (int32_t)inst;
    e->s.visit_type = visit_type;
    e->s.admit_date = e->s.discharge_date = e->s.settle_date = day;
    return e;
}

static event_t *add_outpatient(ctx_t *c, uint32_t inst, int32_t day, uint32_t diag, int8_t pattern)
{
    event_t *e = new_day_event(c, inst, MS_VISIT_OUTPATIENT, day);
    if (!e) return NULL;
    ms_settlement_t *s = &e->s;
    s->dept = c->p->age < 14 ? MS_DEPT_PED : c->p->age >= 70 && ms_rng_chance(&c->r, 0.3) ? MS_DEPT_GER : MS_DEPT_IM;
    s->doctor_id = doctor_of(c, inst);
    s->diag_main = (int32_t)diag;
    double yuan = (c->p->age < 14 ? 90.0 : 140.0) * ms_rng_lognormal(&c->r, 0.7);
    static const double base[MS_N_COST_CATEGORIES] = {0.45, 0.15, 0.15, 0.03, 0.17, 0, 0, 0, 0.05};
    double fr[MS_N_COST_CATEGORIES];
    for (int k = 0; k < MS_N_COST_CATEGORIES; k++) fr[k] = base[k] * ms_rng_lognormal(&c->r, 0.3);
    split_costs(s, (int64_t)llround(yuan * 100), fr);
    set_fund_share(s, 0.5 * (0.9 + 0.2 * ms_rng_unit(&c->r)));
    e->pattern = pattern;
    return e;
}

static uint32_t outpatient_diag(ctx_t *c)
{
    /* Any outpatient code but the last (Z76.000, for pharmacies). */
    return c->w->diag_map[ms_rng_below(&c->r, c->w->n_outpatient_diag - 1)];
}

static uint32_t local_outpatient_inst(ctx_t *c)
{
    const gen_county_t *ct = &c->w->county[c->p->county];
    uint32_t i = gen_pick(&ct->outpatient, &c->r);
    if (i == UINT32_MAX) i = gen_pick(&c->w->prov[ct->province].inpatient, &c->r);
    return i;
}

/* Trace code of the person's n-th natural package of drug d. */
static void natural_trace(const ctx_t *c, uint32_t drug, uint64_t *hi, uint64_t *lo)
{
    uint64_t serial = c->p->index * 8192 + (c->item_seq & 8191);
    *hi = (uint64_t)c->w->drug[drug].prefix * 1000 + serial / 10000000000ull;
    *lo = serial % 10000000000ull;
}

static item_t *new_item(ctx_t *c, event_t *e)
{
    gen_scratch_t *sc = c->sc;
    if (ms_grow(&sc->it, &sc->cap_it, sc->nit + 1, sizeof *sc->it, 64) != MS_OK) {
        c->oom = 1;
        return NULL;
    }
    if (e->item_count == 0) e->item_first = (uint32_t)sc->nit;
    e->item_count++;
    item_t *it = &sc->it[sc->nit++];
    memset(it, 0, sizeof *it);
    it->pattern = -1;
    return it;
}

/* A pharmacy purchase of n packages of drug at inst on day.  Items must be
 * added right after the event (they are contiguous).  trace: explicit code,
 * or NULL for the person's natural serials. */
static event_t *add_purchase(ctx_t *c, uint32_t inst, int32_t day, uint32_t drug, unsigned n,
                             const uint64_t *trace, int8_t pattern, int chronic)
{
    const gen_world_t *w = c->w;
    event_t *e = new_day_event(c, inst, MS_VISIT_PHARMACY, day);
    if (!e) return NULL;
    ms_settlement_t *s = &e->s;
    s->dept = MS_DEPT_OTH;
    s->doctor_id = 0;
    s->diag_main = (int32_t)(chronic ? w->diag_map[ms_rng_below(&c->r, 3) == 0 ? 2 : 0]
                                     : w->diag_map[w->n_outpatient_diag - 1]);
    int64_t total = 0;
    for (unsigned k = 0; k < n; k++) {
        item_t *it = new_item(c, e);
        if (!it) return NULL;
        it->d.person_id = c->p->id;
        it->d.inst_code = (int32_t)inst;
        it->d.date = day;
        it->d.drug_code = (int32_t)drug;
        it->d.qty = 1;
        it->d.amount = w->drug[drug].price;
        if (trace) {
            it->d.trace_hi = trace[0];
            it->d.trace_lo = trace[1];
        } else {
            natural_trace(c, drug, &it->d.trace_hi, &it->d.trace_lo);
            c->item_seq++;
        }
        it->pattern = pattern;
        total += it->d.amount;
    }
    double fr[MS_N_COST_CATEGORIES] = {1, 0, 0, 0, 0, 0, 0, 0, 0};
    split_costs(s, total, fr);
    set_fund_share(s, chronic ? 0.7 : 0.4);
    e->pattern = pattern;
    return e;
}

/* A day near `day` not strictly inside a stay (the discharge day if needed). */
static int32_t free_visit_day(const ctx_t *c, int32_t day)
{
    for (size_t i = 0; i < c->sc->nev; i++) {
        const ms_settlement_t *s = &c->sc->ev[i].s;
        if (s->visit_type == MS_VISIT_INPATIENT && s->admit_date < day && day < s->discharge_date)
            return s->discharge_date;
    }
    return day;
}

/* ------------------------------------------------------------ the parts */

static double inpatient_rate(int age)
{
    return age < 15 ? 0.08 : age < 40 ? 0.09 : age < 60 ? 0.17 : age < 75 ? 0.33 : 0.5;
}

static double outpatient_rate(int age)
{
    return age < 5 ? 7.0 : age < 15 ? 4.0 : age < 40 ? 3.0 : age < 60 ? 4.5 : 7.0;
}

typedef struct {
    const gen_act_t *acts;
    uint64_t person;
} act_key_t;

static int act_below(const void *ctx, size_t i)
{
    const act_key_t *k = ctx;
    return k->acts[i].person < k->person;
}

/* The plan's actions for person (acts are sorted by person). */
static const gen_act_t *first_act(const gen_world_t *w, uint64_t person, size_t *n)
{
    act_key_t key = {w->acts, person};
    size_t lo = ms_lower_bound(w->nacts, act_below, &key);
    size_t k = lo;
    while (k < w->nacts && w->acts[k].person == person) k++;
    *n = k - lo;
    return &w->acts[lo];
}

/* Planted stays that each nearby person may get (light, minor, ping-pong
 * of the person's county, beds overflow of the province); overlapping stays
 * come last (they need visits).  The cheaters come from the county's list
 * (built once, in institution order), not from a walk over every cheater. */
static void planted_stays(ctx_t *c)
{
    const gen_world_t *w = c->w;
    if (c->p->age < 50) return;
    uint32_t county = c->p->county;
    for (uint32_t k = w->pp_county_first[county]; k < w->pp_county_first[county + 1]; k++) {
        uint32_t x = w->pp_county_inst[k];
        const gen_inst_t *g = &w->inst[x];
        int pat = g->pattern;
        unsigned n = ms_rng_poisson(&c->r, g->plant_rate);
        for (unsigned j = 0; j < n; j++) {
            if (pat == MS_PAT_LIGHT_STAY) {
                int32_t los = (int32_t)ms_rng_range(&c->r, 4, 10), a = free_admit(c, los, 4);
                if (a != INT32_MIN) add_stay(c, x, pick_family(c, 1), 0, 0, a, los, COST_LIGHT, MS_PAT_LIGHT_STAY);
            } else if (pat == MS_PAT_MINOR_DIAGNOSIS) {
                int32_t los = (int32_t)ms_rng_range(&c->r, 3, 7), a = free_admit(c, los, 4);
                if (a == INT32_MIN) continue;
                event_t *e = add_stay(c, x, pick_family(c, 1), 0, 0, a, los, COST_NATURAL, MS_PAT_MINOR_DIAGNOSIS);
                if (e) e->s.diag_main = (int32_t)w->diag_map[ms_rng_below(&c->r, 5)];
            } else if (pat == MS_PAT_BEDS_OVERFLOW) {
                int32_t los = (int32_t)ms_rng_range(&c->r, 15, 25), a = free_admit(c, los, 4);
                if (a != INT32_MIN)
                    add_stay(c, x, pick_family(c, 1), 0, 0, a, los, COST_NATURAL, MS_PAT_BEDS_OVERFLOW);
            } else if (pat == MS_PAT_PINGPONG) {
                /* X -> partner -> X, each move within a week. */
                int32_t l1 = (int32_t)ms_rng_range(&c->r, 3, 8), l2 = (int32_t)ms_rng_range(&c->r, 3, 8);
                int32_t l3 = (int32_t)ms_rng_range(&c->r, 3, 8);
                int32_t g1 = (int32_t)ms_rng_range(&c->r, 1, 7), g2 = (int32_t)ms_rng_range(&c->r, 1, 7);
                int32_t span = l1 + g1 + l2 + g2 + l3, a = free_admit(c, span, 4);
                if (a == INT32_MIN) continue;
                uint32_t fam = pick_family(c, 1);
                add_stay(c, x, fam, 0, 0, a, l1, COST_NATURAL, MS_PAT_PINGPONG);
                add_stay(c, g->partner, fam, 0, 0, a + l1 + g1, l2, COST_NATURAL, MS_PAT_PINGPONG);
                add_stay(c, x, fam, 0, 0, a + l1 + g1 + l2 + g2, l3, COST_NATURAL, MS_PAT_PINGPONG);
            }
        }
    }
}

/* A frail elderly patient back at the hospital that discharged stay prev:
 * for another condition (65%) or the same, mostly after a few days. */
static void frail_readmission(ctx_t *c, int prev, int depth)
{
    const gen_world_t *w = c->w;
    const event_t *p = &c->sc->ev[prev];
    uint32_t inst = (uint32_t)p->s.inst_code, fam = p->fam;
    int32_t discharge = p->s.discharge_date;
    if (ms_rng_chance(&c->r, 0.65)) fam = pick_family(c, 1);
    int32_t admit = discharge + (ms_rng_chance(&c->r, 0.1) ? (int32_t)ms_rng_range(&c->r, 1, 2)
                                                            : (int32_t)ms_rng_range(&c->r, 3, 30));
    const gen_family_t *f = &w->fam[fam];
    uint8_t sev = natural_severity(c, inst, f);
    int32_t los = natural_los(c, &w->refs.groups[f->group[f->nvariants == 1 ? 0 : sev]]);
    if (stay_conflict(c, admit, admit + los)) return;
    event_t *e = add_stay(c, inst, fam, sev, sev, admit, los, COST_NATURAL, -1);
    if (!e) return;
    if (ms_rng_chance(&c->r, 0.5)) e->s.dept = MS_DEPT_GER;
    int idx = (int)(e - c->sc->ev);
    if (depth < 2 && ms_rng_chance(&c->r, 0.3)) frail_readmission(c, idx, depth + 1);
}

/* The institution-level behaviours of a cheating hospital, applied to one
 * of its natural stays. */
static void natural_stay(ctx_t *c, int readmission_of)
{
    const gen_world_t *w = c->w;
    uint32_t inst, fam;
    int32_t admit;
    if (readmission_of >= 0) {
        const event_t *prev = &c->sc->ev[readmission_of];
        inst = (uint32_t)prev->s.inst_code;
        fam = prev->fam;
        admit = prev->s.discharge_date + (ms_rng_chance(&c->r, 0.03) ? 1 : (int32_t)ms_rng_range(&c->r, 2, 15));
    } else {
        inst = natural_hospital(c);
        if (inst == UINT32_MAX) return;
        fam = pick_family(c, 0);
        /* A tertiary centre with a heavy case mix gets the complex surgery. */
        if (w->inst[inst].hard == MS_HN_TERTIARY_HEAVY && ms_rng_chance(&c->r, 0.3))
            fam = pick_surgical_family(c, fam);
        admit = INT32_MIN;
    }
    const gen_family_t *f = &w->fam[fam];
    uint8_t sev = natural_severity(c, inst, f);
    int32_t los = natural_los(c, &w->refs.groups[f->group[f->nvariants == 1 ? 0 : sev]]);
    if (admit == INT32_MIN) admit = free_admit(c, los, 3);
    if (admit == INT32_MIN || stay_conflict(c, admit, admit + los)) return;
    const gen_inst_t *g = &w->inst[inst];
    double I = g->intensity;
    int pat = g->pattern;
    if (pat == MS_PAT_UPCODING && f->nvariants == 3 && sev < 2 && ms_rng_chance(&c->r, fmin(0.9, 0.6 * I))) {
        /* Coded as a heavier variant; cost and stay of the real one. */
        uint8_t up = ms_rng_chance(&c->r, 0.7) ? 2 : 1;
        if (up <= sev) up = 2;
        int32_t short_los = (int32_t)lround(los * (0.4 + 0.4 * ms_rng_unit(&c->r)));
        event_t *e = add_stay(c, inst, fam, up, sev, admit, short_los < 1 ? 1 : short_los, COST_NATURAL,
                              MS_PAT_UPCODING);
        if (e) {
            unsigned nd = e->s.n_diag + 2 + (unsigned)ms_rng_below(&c->r, 4);
            e->s.n_diag = (uint8_t)(nd > 50 ? 50 : nd);
        }
        return;
    }
    if (pat == MS_PAT_DECOMPOSED && los >= 2 && ms_rng_chance(&c->r, fmin(0.9, 0.5 * I))) {
        /* One stay billed as two: the second starts the same day or soon. */
        int32_t l1 = los / 2, gap = ms_rng_chance(&c->r, 0.4) ? 0 : (int32_t)ms_rng_range(&c->r, 1, 10);
        int32_t l2 = los - l1 < 1 ? 1 : los - l1;
        event_t *a = add_stay(c, inst, fam, sev, sev, admit, l1, COST_NATURAL, -1);
        if (!a) return;
        int32_t a2 = admit + l1 + gap;
        for (size_t i = 0; i < c->sc->nev; i++) { /* the second part must fit */
            const ms_settlement_t *s = &c->sc->ev[i].s;
            if (&c->sc->ev[i] != a && s->visit_type == MS_VISIT_INPATIENT && a2 <= s->discharge_date &&
                s->admit_date <= a2 + l2)
                return;
        }
        add_stay(c, inst, fam, sev, sev, a2, l2, COST_NATURAL, MS_PAT_DECOMPOSED);
        return;
    }
    event_t *e = add_stay(c, inst, fam, sev, sev, admit, los, COST_NATURAL, -1);
    if (!e) return;
    int stay_index = (int)(e - c->sc->ev); /* e moves when events are added */
    int grouped = e->s.pay_scheme != MS_PAY_FFS;
    if (pat == MS_PAT_SELF_PAY && grouped && ms_rng_chance(&c->r, fmin(0.95, 0.7 * I))) {
        set_fund_share(&e->s, 0.4 + 0.2 * ms_rng_unit(&c->r));
        e->pattern = MS_PAT_SELF_PAY;
    }
    if (pat == MS_PAT_PREADMISSION && grouped && ms_rng_chance(&c->r, fmin(0.9, 0.6 * I))) {
        /* Exams and labs of the stay billed as an outpatient visit days before. */
        int32_t day = admit - (int32_t)ms_rng_range(&c->r, 1, 3);
        if (!inside_stay(c, day)) {
            size_t ei = (size_t)stay_index;
            int64_t moved = c->sc->ev[ei].s.total / 8;
            event_t *v = moved > 0 ? add_outpatient(c, inst, day, outpatient_diag(c), MS_PAT_PREADMISSION) : NULL;
            if (v) {
                static const double fr[MS_N_COST_CATEGORIES] = {0.05, 0.45, 0.40, 0, 0.05, 0, 0, 0, 0.05};
                split_costs(&v->s, moved, fr);
                set_fund_share(&v->s, 0.5);
                ms_settlement_t *st = &c->sc->ev[ei].s; /* ev may have moved */
                double keep[MS_N_COST_CATEGORIES] = {(double)st->drug, (double)st->exam * 0.3,
                                                     (double)st->lab * 0.3, (double)st->consumable,
                                                     (double)st->treatment, (double)st->surgery,
                                                     (double)st->bed, (double)st->nursing, (double)st->other};
                double share = (double)st->fund_pay / (double)(st->total ? st->total : 1);
                split_costs(st, st->total - moved, keep);
                set_fund_share(st, share);
            }
        }
    }
    /* An honest hospital examines its elective patients a few days before
     * admission (the visit is added once every stay is placed). */
    if (g->hard == MS_HN_PREADMISSION_WORKUP && readmission_of < 0 &&
        ms_rng_chance(&c->r, f->surgical ? 0.65 : 0.3))
        c->sc->ev[stay_index].workup = 1;
    if (readmission_of >= 0) return;
    /* The frail elderly of a hospital that treats them come back often, for
     * the same or for another condition. */
    if (g->hard == MS_HN_FRAIL_READMISSIONS && c->p->age >= 70) {
        if (ms_rng_chance(&c->r, 0.3)) frail_readmission(c, stay_index, 0);
        return;
    }
    /* A few percent come back within 15 days (same family: same MDC). */
    if (ms_rng_chance(&c->r, 0.04)) natural_stay(c, stay_index);
}

/* One of a tiny institution's few records: a stay, a visit or a purchase;
 * the extreme one a very heavy case, an expensive visit or purchase mostly
 * paid by the person. */
static void tiny_record(ctx_t *c, const gen_act_t *a)
{
    const gen_world_t *w = c->w;
    int extreme = (a->arg & GEN_TINY_EXTREME) != 0;
    const ms_institution_t *x = &w->refs.inst[a->inst];
    if (a->arg & GEN_TINY_STAY) {
        uint32_t fam = extreme ? w->fam_heavy : pick_family(c, 1);
        const gen_family_t *f = &w->fam[fam];
        uint8_t sev = extreme ? (f->nvariants == 3 ? 2 : 0) : natural_severity(c, a->inst, f);
        int32_t los = natural_los(c, &w->refs.groups[f->group[f->nvariants == 1 ? 0 : sev]]);
        int32_t admit = a->day;
        for (int t = 0; t < 8 && stay_conflict(c, admit, admit + los); t++) admit = random_day(c, los + 1);
        if (!stay_conflict(c, admit, admit + los)) add_stay(c, a->inst, fam, sev, sev, admit, los, COST_NATURAL, -1);
        return;
    }
    int32_t day = free_visit_day(c, a->day);
    if (x->kind == MS_KIND_PHARMACY) {
        uint32_t drug = extreme ? w->drug_dear : (uint32_t)ms_rng_below(&c->r, w->refs.drugs.count);
        unsigned n = extreme ? (unsigned)ms_rng_range(&c->r, 2, 4) : 1 + (unsigned)ms_rng_below(&c->r, 2);
        event_t *e = add_purchase(c, a->inst, day, drug, n, NULL, -1, 0);
        if (e && extreme) set_fund_share(&e->s, 0.05 + 0.1 * ms_rng_unit(&c->r));
        return;
    }
    event_t *e = add_outpatient(c, a->inst, day, outpatient_diag(c), -1);
    if (e && extreme) {
        /* A treatment the fund does not cover (implants, for example). */
        static const double fr[MS_N_COST_CATEGORIES] = {0.05, 0.05, 0.02, 0.30, 0.58, 0, 0, 0, 0};
        split_costs(&e->s, (int64_t)llround(300000.0 * ms_rng_lognormal(&c->r, 0.4)), fr);
        set_fund_share(&e->s, 0.05 + 0.1 * ms_rng_unit(&c->r));
    }
}

static int act_is_stay(const gen_act_t *a)
{
    return a->kind == GEN_ACT_GROUP_STAY || a->kind == GEN_ACT_HN_CATARACT ||
           (a->kind == GEN_ACT_HN_TINY && (a->arg & GEN_TINY_STAY));
}

static void coordinated(ctx_t *c, const gen_act_t *acts, size_t nacts, int stays)
{
    const gen_world_t *w = c->w;
    for (size_t k = 0; k < nacts; k++) {
        const gen_act_t *a = &acts[k];
        if (stays != act_is_stay(a)) continue;
        switch (a->kind) {
        case GEN_ACT_HN_CATARACT: {
            /* Day surgery, home the same day or the next. */
            double u = ms_rng_unit(&c->r);
            int32_t los = u < 0.3 ? 0 : u < 0.85 ? 1 : 2;
            if (!stay_conflict(c, a->day, a->day + los)) {
                event_t *e = add_stay(c, a->inst, w->fam_eye, 0, 0, a->day, los, COST_CATARACT, -1);
                if (e) e->s.dept = MS_DEPT_OPH;
            }
            break;
        }
        case GEN_ACT_HN_TINY:
            tiny_record(c, a);
            break;
        case GEN_ACT_GROUP_STAY: {
            int32_t los = (int32_t)ms_rng_range(&c->r, 5, 10);
            if (!stay_conflict(c, a->day, a->day + los))
                add_stay(c, a->inst, pick_family(c, 1), 0, 0, a->day, los, COST_NATURAL, MS_PAT_GROUP_ADMISSION);
            break;
        }
        case GEN_ACT_OVERLOAD_VISIT:
            if (!inside_stay(c, a->day)) {
                event_t *e = add_outpatient(c, a->inst, a->day, outpatient_diag(c), MS_PAT_OVERLOAD);
                if (e) e->s.doctor_id = a->arg;
            }
            break;
        case GEN_ACT_RESOLD_FIRST: {
            /* Bought honestly somewhere other than where it is sold again. */
            uint32_t inst = c->usual_pharmacy;
            const gen_province_t *pv = &w->prov[w->county[c->p->county].province];
            for (int t = 0; t < 20 && (inst == a->inst || inst == UINT32_MAX); t++) inst = gen_pick(&pv->pharmacy, &c->r);
            if (inst == a->inst) break;
            const uint64_t tr[2] = {a->trace_hi, a->trace_lo};
            if (inst != UINT32_MAX) add_purchase(c, inst, free_visit_day(c, a->day), a->arg, 1, tr, -1, 0);
            break;
        }
        case GEN_ACT_RESOLD_SECOND: {
            const uint64_t tr[2] = {a->trace_hi, a->trace_lo};
            add_purchase(c, a->inst, free_visit_day(c, a->day), a->arg, 1, tr, MS_PAT_RETURNED_DRUGS, 0);
            break;
        }
        case GEN_ACT_HOARDER: {
            /* Every month: 15-40 packages from 3-5 pharmacies, half at the
             * cheating one. */
            const gen_province_t *pv = &w->prov[w->county[w->inst[a->inst].county].province];
            for (int32_t m = c->first; m + 30 <= c->last; m += 30) {
                unsigned packages = (unsigned)ms_rng_range(&c->r, 15, 40);
                unsigned shops = (unsigned)ms_rng_range(&c->r, 3, 5);
                for (unsigned s = 0; s < shops && packages > 0; s++) {
                    uint32_t inst = s == 0 ? a->inst : gen_pick(&pv->pharmacy, &c->r);
                    if (inst == UINT32_MAX) inst = a->inst;
                    unsigned n = s == 0 ? packages / 2 : packages / (shops - s) + (s + 1 == shops ? packages : 0);
                    if (n > packages) n = packages;
                    if (n == 0) continue;
                    packages -= n;
                    int32_t day = free_visit_day(c, m + (int32_t)ms_rng_below(&c->r, 28));
                    add_purchase(c, inst, day, a->arg, n, NULL, inst == a->inst ? MS_PAT_HOARDING : -1, 0);
                }
            }
            break;
        }
        default:
            break;
        }
    }
}

/* ------------------------------------------------------ hard negatives */

/* Chemotherapy: a first stay of 3-7 days, then cycles of 1-3 days every
 * 14, 21 or 28 days (admission to admission, +-2 days within 14-28), 4-8
 * stays, same diagnosis; a cycle that would touch another stay is skipped
 * (the course goes on). */
static void oncology_course(ctx_t *c, uint32_t x)
{
    const gen_world_t *w = c->w;
    uint32_t fam = w->fam_chemo;
    const gen_family_t *f = &w->fam[fam];
    int32_t diag = (int32_t)w->diag_map[f->diag_first + ms_rng_below(&c->r, f->diag_count)];
    double u = ms_rng_unit(&c->r);
    int32_t every = u < 0.25 ? 14 : u < 0.8 ? 21 : 28;
    int cycles = (int)ms_rng_range(&c->r, 4, 8);
    int32_t day = random_day(c, 0);
    for (int k = 0; k < cycles && day < c->last; k++) {
        int32_t los = k == 0 ? (int32_t)ms_rng_range(&c->r, 3, 7) : (int32_t)ms_rng_range(&c->r, 1, 3);
        if (!stay_conflict(c, day, day + los)) {
            event_t *e = add_stay(c, x, fam, 0, 0, day, los, COST_CHEMO, -1);
            if (e) e->s.diag_main = diag, e->s.dept = MS_DEPT_ONC;
        }
        int32_t next = every + (int32_t)ms_rng_range(&c->r, -2, 2);
        day += next < 14 ? 14 : next > 28 ? 28 : next;
    }
}

/* A frail elderly patient's stay (longer than usual), perhaps readmitted. */
static void frail_stay(ctx_t *c, uint32_t x)
{
    const gen_world_t *w = c->w;
    uint32_t fam = pick_family(c, 1);
    const gen_family_t *f = &w->fam[fam];
    uint8_t sev = natural_severity(c, x, f);
    int32_t los = (int32_t)lround(natural_los(c, &w->refs.groups[f->group[f->nvariants == 1 ? 0 : sev]]) * 1.2);
    int32_t admit = free_admit(c, los, 4);
    if (admit == INT32_MIN) return;
    event_t *e = add_stay(c, x, fam, sev, sev, admit, los, COST_NATURAL, -1);
    if (!e) return;
    if (ms_rng_chance(&c->r, 0.5)) e->s.dept = MS_DEPT_GER;
    int idx = (int)(e - c->sc->ev);
    if (ms_rng_chance(&c->r, 0.3)) frail_readmission(c, idx, 0);
}

/* Rehabilitation after a stroke, a fracture or an operation (2-13 weeks),
 * or, for the oldest, long-term nursing care on the same wards (3-13). */
static void rehab_stay(ctx_t *c, uint32_t x)
{
    const gen_world_t *w = c->w;
    int care = c->p->age >= 70 && ms_rng_chance(&c->r, 0.5);
    uint32_t fam = w->fam_rehab[ms_rng_below(&c->r, 3)];
    int32_t los = (int32_t)lround((care ? 40.0 : 28.0) * ms_rng_lognormal(&c->r, 0.35));
    los = los < (care ? 21 : 14) ? (care ? 21 : 14) : los > 90 ? 90 : los;
    int32_t admit = free_admit(c, los, 4);
    if (admit == INT32_MIN) return;
    event_t *e = add_stay(c, x, fam, 0, 0, admit, los, care ? COST_NURSING : COST_REHAB, -1);
    if (e) e->s.dept = care ? MS_DEPT_GER : MS_DEPT_REH;
}

/* Stays of the honest hospitals that take local persons: oncology (the
 * province), frail elderly and rehabilitation (the county). */
static void hn_stays(ctx_t *c)
{
    const gen_world_t *w = c->w;
    uint32_t county = c->p->county, prov = w->county[county].province;
    int age = c->p->age;
    for (uint32_t k = w->hn_prov_first[prov]; k < w->hn_prov_first[prov + 1]; k++) {
        uint32_t x = w->hn_prov_inst[k];
        if (age < 35) continue;
        unsigned n = ms_rng_poisson(&c->r, w->inst[x].hn_rate);
        for (unsigned j = 0; j < n; j++) oncology_course(c, x);
    }
    for (uint32_t k = w->hn_county_first[county]; k < w->hn_county_first[county + 1]; k++) {
        uint32_t x = w->hn_county_inst[k];
        int hard = w->inst[x].hard;
        if (hard == MS_HN_FRAIL_READMISSIONS && age >= 75) {
            unsigned n = ms_rng_poisson(&c->r, w->inst[x].hn_rate);
            for (unsigned j = 0; j < n; j++) frail_stay(c, x);
        } else if (hard == MS_HN_REHAB_NURSING && age >= 55) {
            unsigned n = ms_rng_poisson(&c->r, w->inst[x].hn_rate);
            for (unsigned j = 0; j < n; j++) rehab_stay(c, x);
        }
    }
}

/* Work-up visits before the elective admissions marked by natural_stay:
 * exams and labs of a few hundred yuan, 1-7 days before, same diagnosis. */
static void workup_visits(ctx_t *c)
{
    size_t n = c->sc->nev;
    for (size_t i = 0; i < n; i++) {
        if (!c->sc->ev[i].workup) continue;
        const ms_settlement_t *st = &c->sc->ev[i].s;
        uint32_t inst = (uint32_t)st->inst_code;
        int32_t admit = st->admit_date, diag = st->diag_main;
        uint8_t dept = st->dept;
        int32_t day = admit - (ms_rng_chance(&c->r, 0.75) ? (int32_t)ms_rng_range(&c->r, 1, 3)
                                                           : (int32_t)ms_rng_range(&c->r, 4, 7));
        if (inside_stay(c, day)) continue;
        event_t *v = add_outpatient(c, inst, day, (uint32_t)diag, -1); /* st may move */
        if (!v) return;
        double yuan = 180.0 * ms_rng_lognormal(&c->r, 0.45);
        yuan = yuan < 40 ? 40 : yuan > 900 ? 900 : yuan;
        double fr[MS_N_COST_CATEGORIES] = {0, 0.48, 0.42, 0, 0.04, 0, 0, 0, 0.06};
        for (int k = 0; k < MS_N_COST_CATEGORIES; k++)
            if (fr[k] > 0) fr[k] *= ms_rng_lognormal(&c->r, 0.2);
        split_costs(&v->s, (int64_t)llround(yuan * 100), fr);
        set_fund_share(&v->s, 0.5 + 0.1 * ms_rng_unit(&c->r));
        v->s.dept = dept;
    }
}

/* A local buyer of a flagship pharmacy who buys for the family: each month
 * the chronic drugs of 2-3 members (2-6 packages), now and then at another
 * pharmacy; a few larger purchases of common drugs. */
static void hn_purchases(ctx_t *c)
{
    const gen_world_t *w = c->w;
    uint32_t county = c->p->county;
    if (c->p->age < 30) return;
    const gen_county_t *ct = &w->county[county];
    for (uint32_t k = w->hn_county_first[county]; k < w->hn_county_first[county + 1]; k++) {
        uint32_t x = w->hn_county_inst[k];
        if (w->inst[x].hard != MS_HN_FAMILY_PHARMACY) continue;
        if (ms_rng_poisson(&c->r, w->inst[x].hn_rate) == 0) continue;
        unsigned ndrugs = 1 + (unsigned)ms_rng_below(&c->r, 2);
        for (unsigned d = 0; d < ndrugs; d++) {
            uint32_t drug = w->chronic_drugs[ms_rng_below(&c->r, w->nchronic)];
            unsigned members = (unsigned)ms_rng_range(&c->r, 2, 3);
            for (int32_t m = c->first + (int32_t)ms_rng_below(&c->r, 30); m < c->last;
                 m += 28 + (int32_t)ms_rng_below(&c->r, 6)) {
                if (inside_stay(c, m)) continue;
                /* Now and then near another member's home or work. */
                uint32_t inst = x;
                if (ms_rng_chance(&c->r, 0.25)) {
                    inst = gen_pick(&ct->pharmacy, &c->r);
                    if (inst == x || inst == UINT32_MAX) inst = gen_pick(&w->prov[ct->province].pharmacy, &c->r);
                    if (inst == UINT32_MAX) inst = x;
                }
                unsigned packages = members + (unsigned)ms_rng_below(&c->r, members + 1);
                add_purchase(c, inst, m, drug, packages, NULL, -1, 1);
            }
        }
        unsigned acute = ms_rng_poisson(&c->r, 2.0 * w->years);
        for (unsigned j = 0; j < acute; j++) {
            int32_t day = random_day(c, 0);
            if (inside_stay(c, day)) continue;
            uint32_t drug = (uint32_t)ms_rng_below(&c->r, w->refs.drugs.count);
            add_purchase(c, x, day, drug, (unsigned)ms_rng_range(&c->r, 2, 4), NULL, -1, 0);
        }
    }
}

/* Stays around a visit this person made elsewhere: a patient in two places. */
static void overlapping_stays(ctx_t *c)
{
    const gen_world_t *w = c->w;
    uint32_t county = c->p->county;
    for (uint32_t k = w->ov_county_first[county]; k < w->ov_county_first[county + 1]; k++) {
        uint32_t x = w->ov_county_inst[k];
        unsigned n = ms_rng_poisson(&c->r, w->inst[x].plant_rate);
        for (unsigned j = 0; j < n; j++) {
            size_t nev = c->sc->nev, tries = 0;
            while (tries++ < 8 && nev > 0) {
                const ms_settlement_t *v = &c->sc->ev[ms_rng_below(&c->r, nev)].s;
                if (v->visit_type == MS_VISIT_INPATIENT || (uint32_t)v->inst_code == x) continue;
                int32_t a = v->settle_date - (int32_t)ms_rng_range(&c->r, 1, 3);
                int32_t b = v->settle_date + (int32_t)ms_rng_range(&c->r, 1, 3);
                if (stay_conflict(c, a, b)) continue;
                add_stay(c, x, pick_family(c, 1), 0, 0, a, b - a, COST_NATURAL, MS_PAT_OVERLAP);
                break;
            }
        }
    }
}

/* Person i uses the dictionary entries i, i+P, i+2P, ... once each, so that
 * every code of the world appears in the data: the dictionaries import
 * builds from the CSV are then the generator's own. */
static void coverage(ctx_t *c)
{
    const gen_world_t *w = c->w;
    uint64_t P = w->o.persons;
    for (uint64_t id = c->p->index; id < w->refs.diagnoses.count || id < w->refs.procedures.count; id += P) {
        uint32_t inst = local_outpatient_inst(c);
        int32_t day = free_visit_day(c, random_day(c, 0));
        if (inst == UINT32_MAX) break;
        uint32_t diag = id < w->refs.diagnoses.count ? (uint32_t)id : outpatient_diag(c);
        event_t *e = add_outpatient(c, inst, day, diag, -1);
        if (e && id < w->refs.procedures.count) e->s.proc_main = (int32_t)id;
    }
    for (uint64_t id = c->p->index; id < w->refs.drugs.count; id += P) {
        if (c->usual_pharmacy == UINT32_MAX) break;
        add_purchase(c, c->usual_pharmacy, free_visit_day(c, random_day(c, 0)), (uint32_t)id, 1, NULL, -1, 0);
    }
}

static void natural_visits(ctx_t *c)
{
    const gen_world_t *w = c->w;
    unsigned n = ms_rng_poisson(&c->r, outpatient_rate(c->p->age) * w->years);
    for (unsigned k = 0; k < n; k++) {
        int32_t day = random_day(c, 0);
        uint32_t inst = local_outpatient_inst(c);
        if (inside_stay(c, day) || inst == UINT32_MAX) continue;
        add_outpatient(c, inst, day, outpatient_diag(c), -1);
    }
    if (c->usual_pharmacy == UINT32_MAX) return;
    int age = c->p->age;
    double pchronic = age < 40 ? 0.03 : age < 60 ? 0.2 : 0.5;
    if (ms_rng_chance(&c->r, pchronic)) {
        uint32_t drug = w->chronic_drugs[ms_rng_below(&c->r, w->nchronic)];
        for (int32_t m = c->first + (int32_t)ms_rng_below(&c->r, 30); m < c->last; m += 28 + (int32_t)ms_rng_below(&c->r, 6)) {
            if (inside_stay(c, m)) continue;
            add_purchase(c, c->usual_pharmacy, m, drug, 1 + (unsigned)ms_rng_below(&c->r, 2), NULL, -1, 1);
        }
    }
    n = ms_rng_poisson(&c->r, 0.8 * w->years);
    for (unsigned k = 0; k < n; k++) {
        int32_t day = random_day(c, 0);
        if (inside_stay(c, day)) continue;
        uint32_t drug = (uint32_t)ms_rng_below(&c->r, w->refs.drugs.count);
        add_purchase(c, c->usual_pharmacy, day, drug, 1 + (unsigned)ms_rng_below(&c->r, 2), NULL, -1, 0);
    }
}

/* ------------------------------------------------------------- assembly */

/* Events by (admit_date, creation order). */
static int event_before(const event_t *x, const event_t *y)
{
    if (x->s.admit_date != y->s.admit_date) return x->s.admit_date < y->s.admit_date;
    return x->order < y->order;
}

static int cmp_item(const void *a, const void *b)
{
    const ms_drug_item_t *x = &((const item_t *)a)->d, *y = &((const item_t *)b)->d;
    if (x->date != y->date) return x->date < y->date ? -1 : 1;
    if (x->settle_id != y->settle_id) return x->settle_id < y->settle_id ? -1 : 1;
    if (x->trace_hi != y->trace_hi) return x->trace_hi < y->trace_hi ? -1 : 1;
    return x->trace_lo < y->trace_lo ? -1 : x->trace_lo > y->trace_lo;
}

/* A person has few events, mostly in date order already: insertion sort. */
static void sort_events(const event_t *ev, uint32_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t x = v[i];
        size_t j = i;
        while (j > 0 && event_before(&ev[x], &ev[v[j - 1]])) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static ms_status_t emit(ctx_t *c, gen_rows_t *rows)
{
    gen_scratch_t *sc = c->sc;
    size_t n = sc->nev;
    if (ms_grow(&sc->order, &sc->cap_order, n, sizeof *sc->order, 1024) != MS_OK ||
        ms_grow(&rows->s, &rows->cap_s, rows->ns + n, sizeof *rows->s, 1024) != MS_OK ||
        ms_grow(&rows->d, &rows->cap_d, rows->nd + sc->nit, sizeof *rows->d, 1024) != MS_OK ||
        ms_grow(&rows->t, &rows->cap_t, rows->nt + n + sc->nit, sizeof *rows->t, 1024) != MS_OK)
        return ms_error_set(MS_E_NOMEM, "out of memory generating person %llu",
                            (unsigned long long)c->p->index);
    for (size_t i = 0; i < n; i++) sc->order[i] = (uint32_t)i;
    sort_events(sc->ev, sc->order, n);
    /* An extract covers settlements settled inside the window: stays that
     * run past its end (or visits moved before its start) are cut off, with
     * their drug items and any planted mark. */
    size_t kept = 0;
    for (size_t k = 0; k < n; k++) {
        const event_t *e = &sc->ev[sc->order[k]];
        if (e->s.settle_date >= c->first && e->s.settle_date < c->last) sc->order[kept++] = sc->order[k];
        else sc->ev[sc->order[k]].item_count = 0, sc->ev[sc->order[k]].s.settle_id = 0;
    }
    n = kept;
    int flat = c->w->o.flatten;
    for (size_t k = 0; k < n; k++) {
        event_t *e = &sc->ev[sc->order[k]];
        e->s.settle_id = (c->p->index + 1) * 8192 + k;
        if (flat) {
            /* A poorer extract: stays only (the rest dropped with their drug
             * items and truth, settle_ids kept), every cost in `other`, one
             * department. */
            if (e->s.visit_type != MS_VISIT_INPATIENT) {
                e->item_count = 0;
                continue;
            }
            ms_settlement_t *s = &e->s;
            s->drug = s->exam = s->lab = s->consumable = s->treatment = s->surgery = s->bed = s->nursing = 0;
            s->other = s->total;
            s->dept = MS_DEPT_OTH;
        }
        rows->s[rows->ns++] = e->s;
        for (uint32_t j = 0; j < e->item_count; j++) {
            item_t *it = &sc->it[e->item_first + j];
            it->d.settle_id = e->s.settle_id;
        }
        if (e->pattern >= 0 && e->pattern != MS_PAT_RETURNED_DRUGS && e->pattern != MS_PAT_HOARDING)
            rows->t[rows->nt++] = (struct gen_truth){e->s.settle_id, c->p->id, (uint32_t)e->s.inst_code,
                                                     (uint8_t)e->pattern, 0, 0};
    }
    /* --bills: the settlements to bill (their drug items move below). */
    if (c->w->bills) {
        if (ms_grow(&sc->bev, &sc->cap_bev, n, sizeof *sc->bev, 256) != MS_OK)
            return ms_error_set(MS_E_NOMEM, "out of memory generating person %llu",
                                (unsigned long long)c->p->index);
        for (size_t k = 0; k < n; k++) {
            const event_t *e = &sc->ev[sc->order[k]];
            sc->bev[k] = (gen_bill_event_t){&e->s, e->item_count ? sc->it[e->item_first].d.drug_code : -1,
                                            e->item_count, e->pattern};
        }
    }
    qsort(sc->it, sc->nit, sizeof *sc->it, cmp_item);
    for (size_t j = 0; j < sc->nit; j++) {
        const item_t *it = &sc->it[j];
        if (it->d.settle_id == 0) continue; /* its settlement was cut off */
        rows->d[rows->nd++] = it->d;
        if (it->pattern >= 0)
            rows->t[rows->nt++] = (struct gen_truth){it->d.settle_id, c->p->id, (uint32_t)it->d.inst_code,
                                                     (uint8_t)it->pattern, it->d.trace_hi, it->d.trace_lo};
    }
    if (c->w->bills) return gen_bills_person(c->w, c->p, &sc->bills, sc->bev, n, rows);
    return MS_OK;
}

ms_status_t gen_person_history(const gen_world_t *w, const gen_person_t *p, gen_scratch_t *sc,
                               gen_rows_t *rows)
{
    ctx_t c;
    memset(&c, 0, sizeof c);
    c.w = w;
    c.p = p;
    c.sc = sc;
    sc->nev = sc->nit = 0;
    ms_rng_seed(&c.r, ms_rng_key(w->o.seed, 2, p->index));
    c.first = w->o.first_day;
    c.last = w->o.first_day + w->o.days;
    const gen_county_t *ct = &w->county[p->county];
    c.usual_pharmacy = gen_pick(&ct->pharmacy, &c.r);
    if (c.usual_pharmacy == UINT32_MAX) c.usual_pharmacy = gen_pick(&w->prov[ct->province].pharmacy, &c.r);

    size_t nacts;
    const gen_act_t *acts = first_act(w, p->index, &nacts);
    coordinated(&c, acts, nacts, 1);            /* group admissions, campaigns: fixed days */
    planted_stays(&c);
    hn_stays(&c);
    unsigned stays = ms_rng_poisson(&c.r, inpatient_rate(p->age) * w->years);
    for (unsigned k = 0; k < stays; k++) natural_stay(&c, -1);
    workup_visits(&c);
    coordinated(&c, acts, nacts, 0);            /* visits and purchases of the plan */
    natural_visits(&c);
    hn_purchases(&c);
    coverage(&c);
    overlapping_stays(&c);
    if (c.oom) return ms_error_set(MS_E_NOMEM, "out of memory generating person %llu", (unsigned long long)p->index);
    return emit(&c, rows);
}
