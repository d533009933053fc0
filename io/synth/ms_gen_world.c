/*
 * ms_gen_world.c - the generator's world: geography, institutions, doctors,
 * DRG/DIP groups, code dictionaries, drugs, the cheating institutions and the
 * plan of coordinated fraud.  Built once, sequentially, from the seed; small
 * (proportional to institutions and planted records, not to persons).
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_buf.h"
#include "ms_gen_internal.h"
#include "ms_synth_util.h"

/* ------------------------------------------------------------- pickers */

static int picker_build(gen_picker_t *p, const uint32_t *items, const double *w, uint32_t n)
{
    p->n = 0;
    p->item = malloc((n ? n : 1) * sizeof *p->item);
    p->cum = malloc((n ? n : 1) * sizeof *p->cum);
    if (!p->item || !p->cum) return -1;
    double acc = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (w[i] <= 0) continue;
        acc += w[i];
        p->item[p->n] = items[i];
        p->cum[p->n++] = acc;
    }
    return 0;
}

static void picker_free(gen_picker_t *p)
{
    free(p->item);
    free(p->cum);
    p->item = NULL;
    p->cum = NULL;
    p->n = 0;
}

uint32_t gen_pick(const gen_picker_t *p, ms_rng_t *r)
{
    if (p->n == 0) return UINT32_MAX;
    double x = ms_rng_unit(r) * p->cum[p->n - 1];
    return p->item[ms_synth_cum_slot_f64(p->cum, p->n, x)];
}

/* The slot of item in picker p, or p->n: a binary search, as every
 * picker lists its items in increasing order (picker_build keeps the order
 * it is given, always increasing; picker_remove keeps it). */
typedef struct {
    const uint32_t *item;
    uint32_t x;
} item_key_t;

static int item_below(const void *ctx, size_t i)
{
    const item_key_t *k = ctx;
    return k->item[i] < k->x;
}

static uint32_t picker_find(const gen_picker_t *p, uint32_t item)
{
    item_key_t key = {p->item, item};
    size_t k = ms_lower_bound(p->n, item_below, &key);
    return k < p->n && p->item[k] == item ? (uint32_t)k : p->n;
}

/* Probability that picker p returns item. */
static double picker_prob(const gen_picker_t *p, uint32_t item)
{
    uint32_t i = picker_find(p, item);
    if (i == p->n) return 0;
    return (p->cum[i] - (i ? p->cum[i - 1] : 0)) / p->cum[p->n - 1];
}

/* ------------------------------------------------------------ geography */

static const char *const syllables[] = {"An", "Bao", "Chang", "Da", "De", "Feng", "Gu", "He",
                                        "Hua", "Jin", "Kang", "Le", "Lin", "Ming", "Ning", "Ping",
                                        "Qing", "Rui", "Shan", "Tai", "Wen", "Xin", "Yang", "Zhen"};
#define NSYL (sizeof syllables / sizeof syllables[0])

static void county_name(uint32_t c, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s", syllables[c % NSYL], syllables[(c / NSYL + c * 7) % NSYL]);
    /* "AnBao" -> "Anbao": one capital. */
    for (char *q = out + strlen(syllables[c % NSYL]); *q; q++)
        if (*q >= 'A' && *q <= 'Z') *q = (char)(*q - 'A' + 'a');
}

static ms_status_t build_geography(gen_world_t *w, ms_rng_t *r)
{
    uint32_t ni = w->o.institutions;
    w->nprov = ni / 150 + 2;
    if (w->nprov > MS_SYNTH_NPROVINCES) w->nprov = MS_SYNTH_NPROVINCES;
    uint32_t per = ni / (w->nprov * 8) + 1;
    if (per > 60) per = 60;
    w->ncounty = w->nprov * (per + 1);
    w->prov = calloc(w->nprov, sizeof *w->prov);
    w->county = calloc(w->ncounty, sizeof *w->county);
    uint32_t *items = malloc(w->ncounty * sizeof *items);
    double *wt = malloc(w->ncounty * sizeof *wt);
    if (!w->prov || !w->county || !items || !wt) {
        free(items), free(wt);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    for (uint32_t p = 0; p < w->nprov; p++)
        /* Most provinces pay stays by DRG, some by DIP, a few still by fee. */
        w->prov[p].scheme = p % 10 == 9 ? MS_PAY_FFS : p % 3 == 2 ? MS_PAY_DIP : MS_PAY_DRG;
    for (uint32_t c = 0; c < w->ncounty; c++) {
        uint32_t p = c % w->nprov, k = c / w->nprov;
        w->county[c].province = p;
        w->county[c].code = ms_synth_province_codes[p] * 10000 + (int32_t)(1 + k / 20) * 100 + (int32_t)(1 + k % 20);
        w->county[c].population = ms_rng_lognormal(r, 0.9);
        items[c] = c;
        wt[c] = w->county[c].population;
    }
    int rc = picker_build(&w->county_pick, items, wt, w->ncounty);
    free(items), free(wt);
    return rc ? ms_error_set(MS_E_NOMEM, "out of memory") : MS_OK;
}

/* --------------------------------------------------------- institutions */

typedef struct {
    ms_institution_t pub;
    gen_inst_t gen;
} inst_tmp_t;

static int cmp_inst_tmp(const void *a, const void *b)
{
    return strcmp(((const inst_tmp_t *)a)->pub.inst_code, ((const inst_tmp_t *)b)->pub.inst_code);
}

static const char *const kind_word[] = {"General Hospital", "Specialty Hospital", "Health Center",
                                        "Clinic", "Pharmacy"};

static void make_institution(gen_world_t *w, ms_rng_t *r, uint32_t county, uint8_t kind,
                             uint32_t *seq, inst_tmp_t *t)
{
    ms_institution_t *x = &t->pub;
    gen_inst_t *g = &t->gen;
    memset(t, 0, sizeof *t);
    g->county = county;
    g->pattern = -1;
    g->hard = -1;
    g->rule = -1;
    g->bill_hard = -1;
    x->kind = kind;
    x->region = w->county[county].code;
    double u = ms_rng_unit(r);
    switch (kind) {
    case MS_KIND_GENERAL:
        x->level = u < 0.15 ? 3 : u < 0.6 ? 2 : 1;
        x->beds = (int32_t)((x->level == 3 ? 900 : x->level == 2 ? 260 : 70) * ms_rng_lognormal(r, 0.35));
        x->ownership = ms_rng_chance(r, 0.85) ? MS_OWN_PUBLIC : MS_OWN_PRIVATE;
        break;
    case MS_KIND_SPECIALTY:
        x->level = u < 0.2 ? 3 : u < 0.8 ? 2 : 1;
        x->beds = (int32_t)((x->level == 3 ? 450 : x->level == 2 ? 130 : 40) * ms_rng_lognormal(r, 0.35));
        x->ownership = ms_rng_chance(r, 0.7) ? MS_OWN_PUBLIC : MS_OWN_PRIVATE;
        break;
    case MS_KIND_PRIMARY:
        x->level = 1;
        x->beds = ms_rng_chance(r, 0.15) ? 0 : (int32_t)(30 * ms_rng_lognormal(r, 0.4));
        x->ownership = ms_rng_chance(r, 0.9) ? MS_OWN_PUBLIC : MS_OWN_PRIVATE;
        break;
    case MS_KIND_CLINIC:
        x->level = 0;
        x->ownership = ms_rng_chance(r, 0.7) ? MS_OWN_PRIVATE : MS_OWN_PUBLIC;
        break;
    default:
        x->level = 0;
        x->ownership = ms_rng_chance(r, 0.9) ? MS_OWN_PRIVATE : MS_OWN_PUBLIC;
        break;
    }
    /* Attractiveness: hospitals by beds, the rest heavy-tailed; a few are
     * tiny (a handful of records: the small-number hard negatives). */
    g->weight = x->beds > 0 ? x->beds * ms_rng_lognormal(r, 0.3) : 25.0 * ms_rng_lognormal(r, 0.9);
    if (ms_rng_chance(r, 0.03)) g->weight *= 0.01, g->tiny = 1;
    char code[40], name[128], cname[32];
    ms_synth_inst_code(code, sizeof code, kind, x->region, seq[county]++, 5);
    county_name(county, cname, sizeof cname);
    if (kind == MS_KIND_GENERAL && x->level == 3)
        snprintf(name, sizeof name, "%s People's Hospital No. %u", cname, seq[county]);
    else
        snprintf(name, sizeof name, "%s %s %u", cname, kind_word[kind], seq[county]);
    x->inst_code = strdup(code);
    x->name = strdup(name);
}

static ms_status_t build_institutions(gen_world_t *w, ms_rng_t *r)
{
    uint32_t n = w->o.institutions;
    inst_tmp_t *t = calloc(n, sizeof *t);
    uint32_t *seq = calloc(w->ncounty, sizeof *seq);
    if (!t || !seq) {
        free(t), free(seq);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    /* Every county gets a clinic and a pharmacy (as far as there are
     * institutions), then a general hospital in every county, then the rest. */
    uint32_t k = 0;
    for (uint32_t c = 0; c < w->ncounty && k < n; c++) make_institution(w, r, c, MS_KIND_CLINIC, seq, &t[k++]);
    for (uint32_t c = 0; c < w->ncounty && k < n; c++) make_institution(w, r, c, MS_KIND_PHARMACY, seq, &t[k++]);
    for (uint32_t c = 0; c < w->ncounty && k < n; c++) make_institution(w, r, c, MS_KIND_GENERAL, seq, &t[k++]);
    while (k < n) {
        uint32_t c = gen_pick(&w->county_pick, r);
        double u = ms_rng_unit(r);
        uint8_t kind = u < 0.12 ? MS_KIND_GENERAL : u < 0.2 ? MS_KIND_SPECIALTY : u < 0.45 ? MS_KIND_PRIMARY
                     : u < 0.75 ? MS_KIND_CLINIC : MS_KIND_PHARMACY;
        make_institution(w, r, c, kind, seq, &t[k++]);
    }
    qsort(t, n, sizeof *t, cmp_inst_tmp);
    w->refs.inst = calloc(n, sizeof *w->refs.inst);
    w->inst = calloc(n, sizeof *w->inst);
    if (!w->refs.inst || !w->inst) {
        free(t), free(seq);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < n; i++) {
        w->refs.inst[i] = t[i].pub;
        w->inst[i] = t[i].gen;
    }
    w->refs.n_inst = n;
    free(t), free(seq);
    return MS_OK;
}

/* Weight of institution i in picker k of its county (province 0) or
 * province (province 1): k 0 outpatient visits (county) or tertiary care
 * (province), 1 stays, 2 pharmacy purchases. */
static double choice_weight(const gen_world_t *w, uint32_t i, int province, int k)
{
    static const double outpatient_factor[] = {0.8, 0.3, 1.0, 1.0, 0.0};
    const ms_institution_t *x = &w->refs.inst[i];
    double wt = w->inst[i].weight;
    if (k == 0) return province ? (x->level == 3 ? wt : 0) : wt * outpatient_factor[x->kind];
    if (k == 1) return x->beds > 0 ? wt : 0;
    return x->kind == MS_KIND_PHARMACY ? wt : 0;
}

/* The three pickers of county (province 0) or province (province 1) a,
 * over its institutions inst[0 .. m) (in increasing order), with items and
 * wt as scratch of m entries. */
static int build_area_choice(gen_world_t *w, int province, const uint32_t *inst, uint32_t m,
                             gen_picker_t *const pk[3], uint32_t *items, double *wt)
{
    for (int k = 0; k < 3; k++) {
        for (uint32_t j = 0; j < m; j++) {
            items[j] = inst[j];
            wt[j] = choice_weight(w, inst[j], province, k);
        }
        if (picker_build(pk[k], items, wt, m)) return -1;
    }
    return 0;
}

/* Institutions grouped by area (county or province of each institution in
 * key[i]), each group in institution order: group a is inst[first[a] ..
 * first[a + 1]).  first has nareas + 1 entries. */
static void group_by_area(uint32_t n, const uint32_t *key, uint32_t nareas, uint32_t *first, uint32_t *inst)
{
    memset(first, 0, ((size_t)nareas + 1) * sizeof *first);
    for (uint32_t i = 0; i < n; i++) first[key[i] + 1]++;
    for (uint32_t a = 0; a < nareas; a++) first[a + 1] += first[a];
    for (uint32_t i = 0; i < n; i++) inst[first[key[i]]++] = i;
    for (uint32_t a = nareas; a > 0; a--) first[a] = first[a - 1];
    first[0] = 0;
}

/* Pickers of each county and province, over the sorted institutions: each
 * area's institutions are grouped once (in institution order, as the
 * pickers list them), not found by a walk over all institutions per area. */
static ms_status_t build_choice(gen_world_t *w)
{
    uint32_t n = w->o.institutions;
    uint32_t nareas = w->ncounty > w->nprov ? w->ncounty : w->nprov;
    uint32_t *items = malloc(n * sizeof *items);
    double *wt = malloc(n * sizeof *wt);
    uint32_t *key = malloc(n * sizeof *key);
    uint32_t *inst = malloc(n * sizeof *inst);
    uint32_t *first = malloc(((size_t)nareas + 1) * sizeof *first);
    int rc = !items || !wt || !key || !inst || !first;
    if (!rc) {
        for (uint32_t i = 0; i < n; i++) key[i] = w->inst[i].county;
        group_by_area(n, key, w->ncounty, first, inst);
    }
    for (uint32_t c = 0; c < w->ncounty && !rc; c++) {
        gen_county_t *ct = &w->county[c];
        gen_picker_t *const pk[3] = {&ct->outpatient, &ct->inpatient, &ct->pharmacy};
        rc = build_area_choice(w, 0, inst + first[c], first[c + 1] - first[c], pk, items, wt);
    }
    if (!rc) {
        for (uint32_t i = 0; i < n; i++) key[i] = w->county[w->inst[i].county].province;
        group_by_area(n, key, w->nprov, first, inst);
    }
    for (uint32_t p = 0; p < w->nprov && !rc; p++) {
        gen_province_t *pv = &w->prov[p];
        gen_picker_t *const pk[3] = {&pv->tertiary, &pv->inpatient, &pv->pharmacy};
        rc = build_area_choice(w, 1, inst + first[p], first[p + 1] - first[p], pk, items, wt);
    }
    free(items), free(wt), free(key), free(inst), free(first);
    return rc ? ms_error_set(MS_E_NOMEM, "out of memory") : MS_OK;
}

/* -------------------------------------------------- groups and codes */

/* Growing list of strings (a code universe before sorting). */
typedef struct {
    char **s;
    uint32_t n;
    size_t cap;
} strlist_t;

static int strlist_add(strlist_t *l, const char *s)
{
    if (ms_grow(&l->s, &l->cap, (size_t)l->n + 1, sizeof *l->s, 64) != MS_OK) return -1;
    l->s[l->n] = strdup(s);
    return l->s[l->n++] ? 0 : -1;
}

static int cmp_strp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sort a universe into a dictionary; remap[i] = final id of the i-th added. */
static ms_status_t strlist_to_dict(strlist_t *l, ms_dict_t *d, uint32_t **remap)
{
    *remap = malloc((l->n ? l->n : 1) * sizeof **remap);
    d->str = malloc((l->n ? l->n : 1) * sizeof *d->str);
    if (!*remap || !d->str) return ms_error_set(MS_E_NOMEM, "out of memory");
    memcpy(d->str, l->s, l->n * sizeof *d->str);
    qsort(d->str, l->n, sizeof *d->str, cmp_strp);
    d->count = l->n;
    for (uint32_t i = 0; i < l->n; i++) (*remap)[i] = (uint32_t)ms_dict_find(d, l->s[i], strlen(l->s[i]));
    free(l->s);
    memset(l, 0, sizeof *l);
    return MS_OK;
}

/* Outpatient conditions; the first five are the minor-diagnosis examples of
 * docs/models.md (normally treated as outpatients). */
static const char *const outpatient_codes[] = {
    "I10.x00", "J06.900", "E11.900", "K29.700", "M54.500", "I10", "J06.9", "E11.9", "K29.7", "M54.5",
    "J02.9", "K30", "R51", "Z00.000", "H10.9", "L30.9", "N39.0", "R10.4", "Z76.000",
};
#define N_OUTPATIENT_CODES (sizeof outpatient_codes / sizeof outpatient_codes[0])

static const uint8_t mdc_dept[26] = {
    /* A..Z */ MS_DEPT_OTH, MS_DEPT_NEU, MS_DEPT_OPH, MS_DEPT_DEN, MS_DEPT_IM, MS_DEPT_CAR, MS_DEPT_IM,
    MS_DEPT_IM, MS_DEPT_ORT, MS_DEPT_SUR, MS_DEPT_IM, MS_DEPT_NEP, MS_DEPT_SUR, MS_DEPT_OBS,
    MS_DEPT_OBS, MS_DEPT_PED, MS_DEPT_IM, MS_DEPT_ONC, MS_DEPT_IM, MS_DEPT_OTH, MS_DEPT_OTH,
    MS_DEPT_OTH, MS_DEPT_SUR, MS_DEPT_OTH, MS_DEPT_OTH, MS_DEPT_REH};

typedef struct {
    ms_group_t g;
    uint32_t fam;
    uint8_t sev;
} group_tmp_t;

static int cmp_group_tmp(const void *a, const void *b)
{
    return strcmp(((const group_tmp_t *)a)->g.group_code, ((const group_tmp_t *)b)->g.group_code);
}

static ms_status_t build_groups_and_codes(gen_world_t *w, ms_rng_t *r)
{
    static const char mdcs[] = "BCDEFGHIJKLMNORSTUXZ";
    /* CHS-DRG style: the second letter A-H marks a surgical family. */
    static const char surg_adj[] = "ABCDEFGH", med_adj[] = "JQRSTUVWXYZ";
    w->nfam = 60 + w->o.institutions / 40;
    if (w->nfam > 600) w->nfam = 600;
    w->fam = calloc(w->nfam, sizeof *w->fam);
    group_tmp_t *gt = calloc((size_t)w->nfam * 3, sizeof *gt);
    double *prev = malloc(w->nfam * sizeof *prev);
    uint32_t *fitems = malloc(w->nfam * sizeof *fitems);
    if (!w->fam || !gt || !prev || !fitems) {
        free(gt), free(prev), free(fitems);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    strlist_t diag = {0}, proc = {0};
    uint32_t ng = 0;
    int oom = 0;
    char used_cat[4096][4];
    uint32_t ncat = 0;
    for (size_t i = 0; i < N_OUTPATIENT_CODES; i++) oom |= strlist_add(&diag, outpatient_codes[i]);
    for (uint32_t f = 0; f < w->nfam && !oom; f++) {
        gen_family_t *fm = &w->fam[f];
        char mdc = mdcs[f % (sizeof mdcs - 1)];
        /* A third of each MDC's families are surgical; (surgical, j) maps
         * to a distinct (letter, digit) for up to 72 / 99 families per MDC. */
        uint32_t slot = f / (uint32_t)(sizeof mdcs - 1);
        int surgical = slot % 3 == 0;
        uint32_t j = surgical ? slot / 3 : slot / 3 * 2 + (slot % 3 - 1);
        uint32_t nl = surgical ? (uint32_t)(sizeof surg_adj - 1) : (uint32_t)(sizeof med_adj - 1);
        char a = surgical ? surg_adj[j % nl] : med_adj[j % nl];
        int digit = (int)(j / nl % 9) + 1;
        char family[8];
        snprintf(family, sizeof family, "%c%c%d", mdc, a, digit);
        fm->surgical = (uint8_t)surgical;
        fm->dept = fm->surgical && mdc_dept[mdc - 'A'] == MS_DEPT_IM ? MS_DEPT_SUR : mdc_dept[mdc - 'A'];
        fm->prevalence = ms_rng_lognormal(r, 1.0);
        prev[f] = fm->prevalence;
        fitems[f] = f;
        fm->nvariants = ms_rng_chance(r, 0.15) ? 1 : 3;
        double w0 = ms_rng_lognormal(r, 0.45) * (fm->surgical ? 1.8 : 0.9);
        double los0 = 6.0 * ms_rng_lognormal(r, 0.3) + (fm->surgical ? 2 : 0);
        for (int v = 0; v < fm->nvariants; v++) {
            static const double wf[3] = {1.0, 1.3, 1.8}, lf[3] = {1.0, 1.3, 1.7};
            static const char suffix[3] = {'5', '3', '1'};
            uint8_t sev = fm->nvariants == 1 ? 0 : (uint8_t)v;
            group_tmp_t *g = &gt[ng++];
            char code[16];
            snprintf(code, sizeof code, "%s%c", family, fm->nvariants == 1 ? '9' : suffix[v]);
            g->g.group_code = strdup(code);
            g->g.family = strdup(family);
            g->g.severity = sev;
            g->g.weight = (float)(round(w0 * wf[sev] * 10000) / 10000);
            g->g.mdc = mdc;
            g->g.surgical = fm->surgical;
            g->g.expected_los = (float)(round(los0 * lf[sev] * 10) / 10);
            g->g.mean_cost = (int64_t)llround((double)g->g.weight * 1000000.0); /* 10,000 yuan per unit weight */
            g->fam = f;
            g->sev = sev;
        }
        /* One ICD category of its own, not an outpatient one. */
        char cat[4];
        for (;;) {
            static const char letters[] = "ACDGIJKNQS";
            /* Two draws, in this order (C leaves the order of a call's
             * arguments open: gcc and clang made different worlds). */
            unsigned num = (unsigned)ms_rng_below(r, 100);
            char letter = letters[ms_rng_below(r, sizeof letters - 1)];
            snprintf(cat, sizeof cat, "%c%02u", letter, num);
            int clash = !strcmp(cat, "J06") || !strcmp(cat, "I10") || !strcmp(cat, "E11") ||
                        !strcmp(cat, "K29") || !strcmp(cat, "M54") || !strcmp(cat, "J02") ||
                        !strcmp(cat, "K30") || !strcmp(cat, "N39");
            for (uint32_t k = 0; k < ncat && !clash; k++) clash = !strcmp(used_cat[k], cat);
            if (!clash || ncat >= 1000) break;
        }
        memcpy(used_cat[ncat++ % 4096], cat, 4);
        fm->diag_first = diag.n;
        fm->diag_count = 2 + (uint32_t)ms_rng_below(r, 2);
        for (uint32_t k = 0; k < fm->diag_count && !oom; k++) {
            char code[16];
            if (k == 0) snprintf(code, sizeof code, "%s.9", cat);
            else if (k == 1) snprintf(code, sizeof code, "%s.900", cat);
            else snprintf(code, sizeof code, "%s.0%02u", cat, (unsigned)ms_rng_below(r, 100));
            oom |= strlist_add(&diag, code);
        }
        fm->proc_first = proc.n;
        fm->proc_count = fm->surgical ? 1 + (uint32_t)ms_rng_below(r, 2) : 0;
        for (uint32_t k = 0; k < fm->proc_count && !oom; k++) {
            char code[16];
            snprintf(code, sizeof code, "%02u.%02u", (unsigned)(f % 86 + 1), (unsigned)(k * 10 + 1 + f / 86 % 9));
            oom |= strlist_add(&proc, code);
        }
    }
    if (oom) return ms_error_set(MS_E_NOMEM, "out of memory");
    /* Groups sorted by code; families point at the final ids. */
    qsort(gt, ng, sizeof *gt, cmp_group_tmp);
    w->refs.groups = calloc(ng, sizeof *w->refs.groups);
    if (!w->refs.groups) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (uint32_t f = 0; f < w->nfam; f++) w->fam[f].group[0] = w->fam[f].group[1] = w->fam[f].group[2] = GEN_NOGROUP;
    for (uint32_t i = 0; i < ng; i++) {
        w->refs.groups[i] = gt[i].g;
        w->fam[gt[i].fam].group[gt[i].sev] = i;
    }
    w->refs.n_groups = ng;
    free(gt);
    if (picker_build(&w->fam_pick, fitems, prev, w->nfam)) return ms_error_set(MS_E_NOMEM, "out of memory");
    free(prev), free(fitems);

    /* Code dictionaries: diagnoses and procedures, then remap the ranges
     * (ranges stay contiguous in "added" order; remember the final ids). */
    uint32_t *dmap = NULL, *pmap = NULL;
    uint32_t nd_added = diag.n;
    MS_TRY(strlist_to_dict(&diag, &w->refs.diagnoses, &dmap));
    MS_TRY(strlist_to_dict(&proc, &w->refs.procedures, &pmap));
    w->diag_map = dmap;
    w->proc_map = pmap;
    w->n_diag_added = nd_added;
    w->n_outpatient_diag = (uint32_t)N_OUTPATIENT_CODES;
    return MS_OK;
}

static ms_status_t build_drugs(gen_world_t *w, ms_rng_t *r)
{
    uint32_t n = 150 + w->o.institutions / 10;
    if (n > 3000) n = 3000;
    strlist_t l = {0};
    static const char atc[] = "ABCDGHJLMNRS";
    for (uint32_t i = 0; i < n; i++) {
        char code[40];
        snprintf(code, sizeof code, "X%c%02u%c%cA%04uA%03u", atc[i % (sizeof atc - 1)], (unsigned)(i % 17 + 1),
                 'A' + (char)(i % 7), 'A' + (char)(i / 7 % 26), (unsigned)i, (unsigned)(i % 997));
        if (strlist_add(&l, code)) return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    uint32_t *map = NULL;
    MS_TRY(strlist_to_dict(&l, &w->refs.drugs, &map));
    w->drug = calloc(n, sizeof *w->drug);
    w->chronic_drugs = malloc(n * sizeof *w->chronic_drugs);
    if (!w->drug || !w->chronic_drugs) {
        free(map);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < n; i++) {
        gen_drug_t *d = &w->drug[map[i]];
        d->chronic = ms_rng_chance(r, 0.2);
        double yuan = (d->chronic ? 25.0 : 40.0) * ms_rng_lognormal(r, 0.9);
        d->price = (int64_t)llround((yuan < 2 ? 2 : yuan > 3000 ? 3000 : yuan) * 100);
        d->prefix = 8100000 + map[i];
        if (d->chronic) w->chronic_drugs[w->nchronic++] = map[i];
    }
    if (w->nchronic == 0) {
        w->drug[0].chronic = 1;
        w->chronic_drugs[w->nchronic++] = 0;
    }
    free(map);
    return MS_OK;
}

/* ------------------------------------------------------------- persons */

uint64_t gen_person_id(uint64_t index) { return 320000000000ull + index * 13; }

void gen_person_attrs(const gen_world_t *w, uint64_t index, gen_person_t *p)
{
    ms_rng_t r;
    ms_rng_seed(&r, ms_rng_key(w->o.seed, 1, index));
    p->index = index;
    p->id = gen_person_id(index);
    double u = ms_rng_unit(&r);
    p->age = (uint8_t)(u < 0.16 ? ms_rng_range(&r, 0, 14) : u < 0.78 ? ms_rng_range(&r, 15, 59)
                                                              : ms_rng_range(&r, 60, 98));
    p->sex = (uint8_t)ms_rng_below(&r, 2);
    p->county = gen_pick(&w->county_pick, &r);
}

/* Mean yearly rates the person generator uses (ms_gen_person.c), averaged
 * over the age mix: for expected volumes only. */
#define MEAN_OUTPATIENT_RATE 4.5
#define MEAN_INPATIENT_RATE 0.18
#define MEAN_STAY_DAYS 10.0

static ms_status_t expected_volumes(gen_world_t *w)
{
    uint32_t n = w->o.institutions;
    w->years = w->o.days / 365.0;
    w->exp_stays = calloc(n, sizeof *w->exp_stays);
    w->exp_visits = calloc(n, sizeof *w->exp_visits);
    w->county_persons = calloc(w->ncounty, sizeof *w->county_persons);
    if (!w->exp_stays || !w->exp_visits || !w->county_persons) return ms_error_set(MS_E_NOMEM, "out of memory");
    double total = w->county_pick.n ? w->county_pick.cum[w->county_pick.n - 1] : 1;
    for (uint32_t c = 0; c < w->ncounty; c++)
        w->county_persons[c] = (double)w->o.persons * w->county[c].population / total;
    for (uint32_t i = 0; i < n; i++) {
        const gen_inst_t *g = &w->inst[i];
        const gen_county_t *c = &w->county[g->county];
        double persons = w->county_persons[g->county];
        w->exp_visits[i] = persons * MEAN_OUTPATIENT_RATE * w->years * picker_prob(&c->outpatient, i);
        w->exp_stays[i] = persons * MEAN_INPATIENT_RATE * w->years * 0.75 * picker_prob(&c->inpatient, i);
    }
    /* A quarter of stays go to the province's tertiary hospitals. */
    for (uint32_t c = 0; c < w->ncounty; c++) {
        const gen_province_t *pv = &w->prov[w->county[c].province];
        for (uint32_t k = 0; k < pv->tertiary.n; k++) {
            uint32_t i = pv->tertiary.item[k];
            w->exp_stays[i] += w->county_persons[c] * MEAN_INPATIENT_RATE * w->years * 0.25 *
                               picker_prob(&pv->tertiary, i);
        }
    }
    /* Approved beds follow demand, as in a real health system (a world with
     * few persons per institution would otherwise have empty hospitals):
     * the mean census (stays x ~10 days, readmissions included) at 70-85%
     * occupancy, plus room for the day-to-day swings of a small ward
     * (3 standard deviations of a Poisson census), so that only planted
     * stays push the peak census past the beds.  Clinics and pharmacies
     * keep 0. */
    ms_rng_t r;
    ms_rng_seed(&r, ms_rng_key(w->o.seed, 3, 0));
    for (uint32_t i = 0; i < n; i++) {
        ms_institution_t *x = &w->refs.inst[i];
        if (x->beds <= 0) continue;
        double census = w->exp_stays[i] * 1.04 * MEAN_STAY_DAYS / (double)w->o.days;
        double beds = census / (0.70 + 0.15 * ms_rng_unit(&r)) + 3.0 * sqrt(census) + 2.0;
        x->beds = (int32_t)ceil(beds);
    }
    /* Doctors: about 12 outpatients a day each, plus one per 15 beds. */
    for (uint32_t i = 0; i < n; i++) {
        const ms_institution_t *x = &w->refs.inst[i];
        if (x->kind == MS_KIND_PHARMACY) continue;
        double daily = w->exp_visits[i] / (w->o.days > 0 ? w->o.days : 1);
        uint32_t d = (uint32_t)ceil(daily / 12.0) + (uint32_t)(x->beds / 15);
        w->inst[i].doctors = d < 1 ? 1 : d > 999 ? 999 : d;
    }
    return MS_OK;
}

/* --------------------------------------------------------------- fraud */

/* Which institutions may take up a pattern, in five classes of patterns
 * with the same rule. */
enum { ELIG_OVERLOAD, ELIG_PHARMACY, ELIG_BEDS, ELIG_GROUPED, ELIG_HOSPITAL, ELIG_CLASSES };

static int elig_class(ms_pattern_t pat)
{
    switch (pat) {
    case MS_PAT_OVERLOAD:
        return ELIG_OVERLOAD;
    case MS_PAT_RETURNED_DRUGS:
    case MS_PAT_HOARDING:
        return ELIG_PHARMACY;
    case MS_PAT_BEDS_OVERFLOW:
        return ELIG_BEDS;
    case MS_PAT_UPCODING:
    case MS_PAT_DECOMPOSED:
    case MS_PAT_PREADMISSION:
    case MS_PAT_SELF_PAY:
        return ELIG_GROUPED;
    default:
        return ELIG_HOSPITAL;
    }
}

/* Could institution i take up a pattern of class cls, were it free (no
 * pattern, no partner)?  Fixed while the cheaters are chosen. */
static int elig_base(const gen_world_t *w, uint32_t i, int cls)
{
    const ms_institution_t *x = &w->refs.inst[i];
    const gen_inst_t *g = &w->inst[i];
    int hospital = (x->kind == MS_KIND_GENERAL || x->kind == MS_KIND_SPECIALTY || x->kind == MS_KIND_PRIMARY) &&
                   x->beds >= 1 && x->level <= 2;
    int paid_by_group = w->prov[w->county[g->county].province].scheme != MS_PAY_FFS;
    switch (cls) {
    case ELIG_OVERLOAD:
        return x->kind != MS_KIND_PHARMACY && x->level <= 2 && w->exp_visits[i] >= 50;
    case ELIG_PHARMACY:
        return x->kind == MS_KIND_PHARMACY && g->weight > 1;
    case ELIG_BEDS:
        return hospital && x->beds >= 3 && w->exp_stays[i] >= 20;
    case ELIG_GROUPED:
        return hospital && paid_by_group && w->exp_stays[i] >= 20;
    default:
        return hospital && w->exp_stays[i] >= 5;
    }
}

static int inst_free(const gen_world_t *w, uint32_t i) { return w->inst[i].pattern < 0 && !w->inst[i].is_partner; }

/* The candidates of one class: the institutions of elig_base in increasing
 * order, and a Fenwick tree over them counting those still free, so that
 * the k-th free candidate (the k-th entry of the list a walk over every
 * institution would make) is found in O(log n). */
typedef struct {
    uint32_t n, top;          /* top: the highest power of two <= n */
    uint32_t *item;
    uint32_t *tree;           /* 1-based */
    uint32_t total;           /* free candidates */
} cand_set_t;

static int cand_build(cand_set_t *c, const gen_world_t *w, int cls)
{
    uint32_t n = w->o.institutions;
    memset(c, 0, sizeof *c);
    c->item = malloc((n ? n : 1) * sizeof *c->item);
    if (!c->item) return -1;
    for (uint32_t i = 0; i < n; i++)
        if (elig_base(w, i, cls)) c->item[c->n++] = i;
    c->tree = calloc((size_t)c->n + 1, sizeof *c->tree);
    if (!c->tree) return -1;
    for (uint32_t k = 1; k <= c->n; k++) {
        c->tree[k] += inst_free(w, c->item[k - 1]) ? 1 : 0;
        uint32_t up = k + (k & -k);
        if (up <= c->n) c->tree[up] += c->tree[k];
    }
    for (uint32_t k = 0; k < c->n; k++) c->total += inst_free(w, c->item[k]) ? 1 : 0;
    c->top = 1;
    while (c->top <= c->n / 2) c->top *= 2;
    return 0;
}

static void cand_free(cand_set_t *c)
{
    free(c->item), free(c->tree);
    memset(c, 0, sizeof *c);
}

/* Institution i became free (delta 1) or taken (-1). */
static void cand_update(cand_set_t *c, uint32_t i, int delta)
{
    item_key_t key = {c->item, i};
    size_t k = ms_lower_bound(c->n, item_below, &key);
    if (k == c->n || c->item[k] != i) return;
    for (size_t j = k + 1; j <= c->n; j += j & (0 - j)) c->tree[j] += (uint32_t)delta;
    c->total += (uint32_t)delta;
}

/* The k-th (from 0) free candidate, k < total. */
static uint32_t cand_kth(const cand_set_t *c, uint32_t k)
{
    uint32_t pos = 0;
    for (uint32_t step = c->n ? c->top : 0; step; step >>= 1)
        if (pos + step <= c->n && c->tree[pos + step] <= k) {
            pos += step;
            k -= c->tree[pos];
        }
    return c->item[pos];
}

static void cand_update_all(cand_set_t *sets, uint32_t i, int delta)
{
    for (int k = 0; k < ELIG_CLASSES; k++) cand_update(&sets[k], i, delta);
}

static ms_status_t add_act(gen_world_t *w, size_t *cap, const gen_act_t *a)
{
    MS_TRY(ms_grow(&w->acts, cap, w->nacts + 1, sizeof *w->acts, 1024));
    w->acts[w->nacts++] = *a;
    return MS_OK;
}

/* A county other than home to bring persons from: of the same province
 * when one comes up in 26 draws, then any (home again after 50 misses, in
 * a one-county world). */
static uint32_t other_county(const gen_world_t *w, ms_rng_t *r, uint32_t home, uint32_t province)
{
    uint32_t src = home;
    for (int t = 0; t < 50 && src == home; t++) {
        uint32_t c = gen_pick(&w->county_pick, r);
        if (w->county[c].province == province || t > 25) src = c;
    }
    return src;
}

/* ------------------------------------------------- finding persons
 *
 * find_person draws person indices from the plan's stream until one lives
 * in the county (then the province, then anywhere) and is old enough,
 * trying at most 64 x counties + 256 times per pass.  Each draw used to
 * compute the person's attributes (a stream seeded per person), and a pass
 * over a county without such a person runs all its draws: with hundreds of
 * thousands of institutions (two thousand counties, many planned records)
 * the plan spent minutes there.  The person index answers the same
 * questions from a table (every person's county and age, computed once) and
 * skips a pass that cannot succeed by jumping the stream over its draws (the
 * xoshiro256 step is linear over GF(2): the jump is a 256 x 256 bit matrix,
 * the step's power `tries`), so every draw, and so every result, is the one
 * the walk makes.  The table is built once the walk has made persons / 4
 * draws (small plans never pay for it) and only up to PINDEX_MAX_PERSONS
 * persons (7 bytes and a bit each: county, age, the per-county lists and
 * the bitmap of one county); it is freed with the plan. */

#define PINDEX_MAX_PERSONS (1ull << 27)
#define PINDEX_AGES 100 /* ages 0..98, and 99 for "nobody that old" */

struct gen_person_index {
    uint64_t slow_draws;      /* draws made without the table */
    int state;                /* 0 not built, 1 built, -1 never (too many persons, no memory) */
    uint16_t *county;         /* per person */
    uint8_t *age;
    uint8_t *prov_of;         /* per county */
    uint32_t *county_ge;      /* [county * PINDEX_AGES + a]: residents aged a or more */
    uint32_t *prov_ge;        /* [province * PINDEX_AGES + a] */
    uint32_t *county_first;   /* persons of county c: by_county[county_first[c] .. county_first[c + 1]) */
    uint32_t *by_county;
    uint64_t *bits;           /* one bit per person: those of bits_county aged bits_min or more */
    uint32_t bits_county;     /* UINT32_MAX: none */
    int bits_min;
    int can_jump;
    uint64_t jump[256][4];    /* the stream's state after `tries` draws, as a matrix */
};

/* ms_rng_below (io/common/ms_rng.c) inlined for the person search's loop:
 * the same output, the same state. */
__extension__ typedef unsigned __int128 gen_u128;

static inline uint64_t xo_below(ms_rng_t *r, uint64_t n)
{
    uint64_t *s = r->s, x = s[1] * 5;
    uint64_t result = ((x << 7) | (x >> 57)) * 9;
    ms_rng_step(s);
    return (uint64_t)(((gen_u128)result * n) >> 64);
}

/* Up to `tries` draws of ms_rng_below(r, n) (the state in registers):
 * 1 and *found the first draw whose bit is set, else 0. */
static int scan_bits(ms_rng_t *r, uint64_t n, uint64_t tries, const uint64_t *bits, uint64_t *found)
{
    uint64_t s0 = r->s[0], s1 = r->s[1], s2 = r->s[2], s3 = r->s[3];
    int hit = 0;
    for (uint64_t t = 0; t < tries; t++) {
        uint64_t x = s1 * 5, out = ((x << 7) | (x >> 57)) * 9, u = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= u;
        s3 = (s3 << 45) | (s3 >> 19);
        uint64_t idx = (uint64_t)(((gen_u128)out * n) >> 64);
        if (bits[idx >> 6] >> (idx & 63) & 1) {
            *found = idx;
            hit = 1;
            break;
        }
    }
    r->s[0] = s0, r->s[1] = s1, r->s[2] = s2, r->s[3] = s3;
    return hit;
}

/* out = m applied to v (m's column j: the image of bit j). */
static void gf2_apply(uint64_t m[256][4], const uint64_t v[4], uint64_t out[4])
{
    uint64_t o[4] = {0, 0, 0, 0};
    for (int j = 0; j < 256; j++)
        if (v[j >> 6] >> (j & 63) & 1)
            for (int q = 0; q < 4; q++) o[q] ^= m[j][q];
    memcpy(out, o, sizeof o);
}

/* c = a b (c may not be a or b). */
static void gf2_mul(uint64_t a[256][4], uint64_t b[256][4], uint64_t c[256][4])
{
    for (int j = 0; j < 256; j++) gf2_apply(a, b[j], c[j]);
}

/* The matrix of `steps` xoshiro256 steps into p->jump; checked against
 * stepping on one state (a mismatch leaves can_jump 0: the search steps). */
static int pindex_make_jump(struct gen_person_index *p, uint64_t steps)
{
    uint64_t (*base)[4] = malloc(3 * 256 * sizeof *base);
    if (!base) return 0;
    uint64_t (*tmp)[4] = base + 256, (*acc)[4] = base + 512;
    for (int j = 0; j < 256; j++) {
        memset(base[j], 0, sizeof base[j]);
        base[j][j >> 6] = 1ull << (j & 63);
        memcpy(acc[j], base[j], sizeof acc[j]); /* identity */
        ms_rng_step(base[j]);
    }
    for (uint64_t e = steps; e; e >>= 1) {
        if (e & 1) {
            gf2_mul(base, acc, tmp);
            memcpy(acc, tmp, 256 * sizeof *acc);
        }
        if (e > 1) {
            gf2_mul(base, base, tmp);
            memcpy(base, tmp, 256 * sizeof *base);
        }
    }
    memcpy(p->jump, acc, sizeof p->jump);
    free(base);
    ms_rng_t a, b;
    ms_rng_seed(&a, 0x9E3779B97F4A7C15ull);
    b = a;
    for (uint64_t t = 0; t < steps; t++) ms_rng_step(a.s);
    gf2_apply(p->jump, b.s, b.s);
    return memcmp(a.s, b.s, sizeof a.s) == 0;
}

static void pindex_free(struct gen_person_index *p)
{
    if (!p) return;
    free(p->county), free(p->age), free(p->prov_of), free(p->county_ge), free(p->prov_ge);
    free(p->county_first), free(p->by_county), free(p->bits);
    free(p);
}

/* Every person's county and age, and the counts by area and age. */
static void pindex_build(const gen_world_t *w, struct gen_person_index *p)
{
    uint64_t n = w->o.persons;
    p->state = -1;
    if (n > PINDEX_MAX_PERSONS || w->ncounty > UINT16_MAX) return;
    p->county = malloc(n * sizeof *p->county);
    p->age = malloc(n);
    p->prov_of = malloc(w->ncounty);
    p->county_ge = calloc((size_t)w->ncounty * PINDEX_AGES, sizeof *p->county_ge);
    p->prov_ge = calloc((size_t)w->nprov * PINDEX_AGES, sizeof *p->prov_ge);
    p->county_first = calloc((size_t)w->ncounty + 1, sizeof *p->county_first);
    p->by_county = malloc(n * sizeof *p->by_county);
    p->bits = calloc((n + 63) / 64, sizeof *p->bits);
    if (!p->county || !p->age || !p->prov_of || !p->county_ge || !p->prov_ge || !p->county_first ||
        !p->by_county || !p->bits) {
        free(p->county), free(p->age), free(p->prov_of), free(p->county_ge), free(p->prov_ge);
        free(p->county_first), free(p->by_county), free(p->bits);
        p->county = NULL, p->age = NULL, p->prov_of = NULL, p->county_ge = p->prov_ge = NULL;
        p->county_first = p->by_county = NULL, p->bits = NULL;
        return;
    }
    p->bits_county = UINT32_MAX;
    int threads = w->o.threads > 0 ? w->o.threads : omp_get_max_threads();
    uint16_t *pc = p->county;
    uint8_t *pa = p->age;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < (int64_t)n; i++) {
        gen_person_t q;
        gen_person_attrs(w, (uint64_t)i, &q);
        pc[i] = (uint16_t)q.county;
        pa[i] = q.age;
    }
    for (uint32_t c = 0; c < w->ncounty; c++) p->prov_of[c] = (uint8_t)w->county[c].province;
    for (uint64_t i = 0; i < n; i++)
        p->county_ge[(size_t)pc[i] * PINDEX_AGES + (pa[i] < PINDEX_AGES - 1 ? pa[i] : PINDEX_AGES - 2)]++;
    for (uint32_t c = 0; c < w->ncounty; c++) {
        uint32_t *g = p->county_ge + (size_t)c * PINDEX_AGES;
        uint32_t *h = p->prov_ge + (size_t)p->prov_of[c] * PINDEX_AGES;
        for (int a = PINDEX_AGES - 2; a >= 0; a--) g[a] += g[a + 1];
        for (int a = 0; a < PINDEX_AGES; a++) h[a] += g[a];
        p->county_first[c + 1] = p->county_first[c] + g[0];
    }
    uint32_t *fill = p->county_first; /* advanced per county, then shifted back */
    for (uint64_t i = 0; i < n; i++) p->by_county[fill[pc[i]]++] = (uint32_t)i;
    for (uint32_t c = w->ncounty; c > 0; c--) fill[c] = fill[c - 1];
    fill[0] = 0;
    p->can_jump = pindex_make_jump(p, 64ull * w->ncounty + 256);
    p->state = 1;
}

/* A random person living in county c (or, failing that, in province p, or
 * anywhere) and at least min_age old: of the first `tries` draws of a pass,
 * the first who qualifies. */
static uint64_t find_person(const gen_world_t *w, ms_rng_t *r, uint32_t county, uint32_t province,
                            int min_age)
{
    struct gen_person_index *pi = w->pindex;
    uint64_t n = w->o.persons, tries = 64ull * w->ncounty + 256;
    if (pi && pi->state == 0 && pi->slow_draws >= n / 4) pindex_build(w, pi);
    if (!pi || pi->state != 1) {
        gen_person_t p;
        for (int pass = 0; pass < 3; pass++)
            for (uint64_t t = 0; t < tries; t++) {
                uint64_t idx = ms_rng_below(r, n);
                if (pi) pi->slow_draws++;
                gen_person_attrs(w, idx, &p);
                if (p.age < min_age && pass < 2) continue;
                if (pass == 0 && p.county != county) continue;
                if (pass == 1 && w->county[p.county].province != province) continue;
                return idx;
            }
        return ms_rng_below(r, n);
    }
    const uint16_t *pc = pi->county;
    const uint8_t *pa = pi->age;
    int a = min_age < 0 ? 0 : min_age > PINDEX_AGES - 1 ? PINDEX_AGES - 1 : min_age;
    uint8_t min = (uint8_t)a;
    /* Pass 0: the county, from a bitmap of its residents old enough (small
     * enough to stay in cache, which a table of all persons is not); kept
     * for the next call, often for the same county. */
    if (pi->county_ge[(size_t)county * PINDEX_AGES + a] == 0 && pi->can_jump) {
        gf2_apply(pi->jump, r->s, r->s);
    } else {
        uint64_t *bits = pi->bits;
        if (pi->bits_county != county || pi->bits_min != a) {
            uint32_t old = pi->bits_county;
            if (old != UINT32_MAX)
                for (uint32_t k = pi->county_first[old]; k < pi->county_first[old + 1]; k++)
                    bits[pi->by_county[k] >> 6] = 0;
            for (uint32_t k = pi->county_first[county]; k < pi->county_first[county + 1]; k++) {
                uint32_t i = pi->by_county[k];
                if (pa[i] >= min) bits[i >> 6] |= 1ull << (i & 63);
            }
            pi->bits_county = county;
            pi->bits_min = a;
        }
        uint64_t idx;
        if (scan_bits(r, n, tries, bits, &idx)) return idx;
    }
    /* Pass 1: the province. */
    if (pi->prov_ge[(size_t)province * PINDEX_AGES + a] == 0 && pi->can_jump) {
        gf2_apply(pi->jump, r->s, r->s);
    } else {
        for (uint64_t t = 0; t < tries; t++) {
            uint64_t idx = xo_below(r, n);
            if (pi->prov_of[pc[idx]] == province && pa[idx] >= min) return idx;
        }
    }
    /* Pass 2: anyone (the first draw). */
    return ms_rng_below(r, n);
}

static int cmp_act(const void *a, const void *b)
{
    const gen_act_t *x = a, *y = b;
    if (x->person != y->person) return x->person < y->person ? -1 : 1;
    if (x->day != y->day) return x->day < y->day ? -1 : 1;
    return x->kind < y->kind ? -1 : x->kind > y->kind;
}

/* Batches of persons brought in from another county of the province (a
 * group admission, a cataract campaign): nbatch batches of size_lo +
 * [0, size_span) persons at least min_age old, each batch on one day at
 * least margin days before the window ends, as acts like *a (kind and
 * institution set by the caller; day, arg and person set here). */
static ms_status_t plan_batches(gen_world_t *w, ms_rng_t *r, size_t *cap, gen_act_t *a, uint32_t nbatch,
                                uint32_t size_lo, uint32_t size_span, int32_t margin, int min_age, uint32_t home,
                                uint32_t province)
{
    ms_status_t st = MS_OK;
    for (uint32_t b = 0; b < nbatch && st == MS_OK; b++) {
        uint32_t size = size_lo + (uint32_t)ms_rng_below(r, size_span);
        uint32_t src = other_county(w, r, home, province);
        a->day = w->o.first_day + (int32_t)ms_rng_below(r, (uint64_t)(w->o.days > margin ? w->o.days - margin : 1));
        a->arg = src;
        for (uint32_t k = 0; k < size && st == MS_OK; k++) {
            a->person = find_person(w, r, src, w->county[src].province, min_age);
            st = add_act(w, cap, a);
        }
    }
    return st;
}

static ms_status_t plan_fraud(gen_world_t *w, ms_rng_t *r)
{
    uint32_t n = w->o.institutions;
    double I = w->o.intensity;
    if (I <= 0 || w->o.fraud_share <= 0 || w->o.persons == 0) return MS_OK;
    uint32_t want = (uint32_t)llround(w->o.fraud_share * n);
    if (want < MS_PAT_COUNT) want = MS_PAT_COUNT;
    /* Each slot draws among the institutions eligible for its pattern, in
     * institution order: the k-th free candidate of its class. */
    cand_set_t sets[ELIG_CLASSES];
    memset(sets, 0, sizeof sets);
    for (int k = 0; k < ELIG_CLASSES; k++)
        if (cand_build(&sets[k], w, k)) {
            for (int q = 0; q < ELIG_CLASSES; q++) cand_free(&sets[q]);
            return ms_error_set(MS_E_NOMEM, "out of memory");
        }
    size_t cap = 0;
    uint32_t pairs = 0;
    ms_rng_t ru;
    ms_rng_seed(&ru, ms_rng_key(w->o.seed, 5, 0));
    double u0 = ms_rng_unit(&ru);
    ms_status_t st = MS_OK;
    for (uint32_t j = 0; j < want && st == MS_OK; j++) {
        ms_pattern_t pat = (ms_pattern_t)(j % MS_PAT_COUNT);
        cand_set_t *cs = &sets[elig_class(pat)];
        uint32_t m = cs->total;
        if (m == 0) continue;
        uint32_t x = cand_kth(cs, (uint32_t)ms_rng_below(r, m));
        gen_inst_t *g = &w->inst[x];
        const ms_institution_t *inst = &w->refs.inst[x];
        g->pattern = (int8_t)pat;
        cand_update_all(sets, x, -1);
        /* Graded: from 0.3 to 1.7 times the intensity, spread over the
         * cheaters (golden-ratio steps from a random start, jittered), so
         * that every world has cheaters that cheat a little and cheaters
         * that cheat a lot. */
        double q = u0 + j * 0.6180339887498949 + 0.08 * (ms_rng_unit(r) - 0.5);
        q -= floor(q);
        g->intensity = (float)(I * (0.3 + 1.4 * q));
        w->pattern_count[pat]++;
        double gi = g->intensity;
        double locals = w->county_persons[g->county] > 1 ? w->county_persons[g->county] : 1;
        double target = gi * fmax(20.0, 0.3 * w->exp_stays[x]);
        uint32_t province = w->county[g->county].province;
        gen_act_t a;
        memset(&a, 0, sizeof a);
        a.inst = x;
        switch (pat) {
        case MS_PAT_OVERLAP:
            g->plant_rate = target / (0.9 * locals);
            break;
        case MS_PAT_LIGHT_STAY:
        case MS_PAT_MINOR_DIAGNOSIS:
            g->plant_rate = target / (0.35 * locals);
            break;
        case MS_PAT_PINGPONG: {
            /* A partner hospital nearby (same county if possible). */
            /* An ordinary hospital like itself (the scheme needs a willing
             * partner, not a big tertiary centre). */
            gen_picker_t *pk = &w->county[g->county].inpatient;
            uint32_t y = x;
#define BAD_PARTNER(y) ((y) == x || (y) == UINT32_MAX || w->inst[y].pattern >= 0 || w->inst[y].is_partner || w->refs.inst[y].level > 2)
            for (int t = 0; t < 20 && BAD_PARTNER(y); t++) y = gen_pick(pk, r);
            for (int t = 0; t < 50 && BAD_PARTNER(y); t++) y = gen_pick(&w->prov[province].inpatient, r);
            if (BAD_PARTNER(y)) y = UINT32_MAX;
#undef BAD_PARTNER
            if (y == UINT32_MAX) {
                /* No partner nearby: this hospital cannot ping-pong. */
                g->pattern = -1;
                cand_update_all(sets, x, 1);
                w->pattern_count[pat]--;
                want++;
                break;
            }
            g->partner = y;
            w->inst[y].is_partner = 1;
            cand_update_all(sets, y, -1);
            g->plant_rate = gi * fmax(12.0, 0.15 * w->exp_stays[x]) / (0.35 * locals);
            break;
        }
        case MS_PAT_BEDS_OVERFLOW: {
            /* Enough 20-day stays to add 0.8 x the approved beds to the
             * census: with the natural census it runs past 100%. */
            double stays = gi * 0.8 * inst->beds * w->o.days / 20.0;
            double province_persons = 0;
            for (uint32_t c = 0; c < w->ncounty; c++)
                if (w->county[c].province == province) province_persons += w->county_persons[c];
            g->plant_rate = stays / (0.35 * (province_persons > 1 ? province_persons : 1));
            break;
        }
        case MS_PAT_GROUP_ADMISSION: {
            a.kind = GEN_ACT_GROUP_STAY;
            st = plan_batches(w, r, &cap, &a, (uint32_t)ceil(target / 7.0), 5, 6, 15, 50, g->county, province);
            break;
        }
        case MS_PAT_OVERLOAD: {
            uint32_t ndays = (uint32_t)llround(fmax(3.0, 8.0 * gi));
            for (uint32_t d = 0; d < ndays && st == MS_OK; d++) {
                uint32_t count = 90 + (uint32_t)ms_rng_below(r, 60);
                a.kind = GEN_ACT_OVERLOAD_VISIT;
                a.day = w->o.first_day + (int32_t)ms_rng_below(r, (uint64_t)w->o.days);
                a.arg = (x + 1) * 1000 + 1; /* the institution's first doctor */
                for (uint32_t k = 0; k < count && st == MS_OK; k++) {
                    a.person = find_person(w, r, g->county, province, 0);
                    st = add_act(w, &cap, &a);
                }
            }
            break;
        }
        case MS_PAT_RETURNED_DRUGS: {
            uint32_t npairs = (uint32_t)llround(gi * 30);
            for (uint32_t k = 0; k < npairs && st == MS_OK; k++) {
                uint32_t drug = (uint32_t)ms_rng_below(r, w->refs.drugs.count);
                uint64_t serial = 9000000000000ull + pairs;
                gen_act_t f = a;
                f.kind = GEN_ACT_RESOLD_FIRST;
                f.day = w->o.first_day + (int32_t)ms_rng_below(r, (uint64_t)(w->o.days > 61 ? w->o.days - 61 : 1));
                f.arg = drug;
                f.pair = pairs;
                f.trace_hi = (uint64_t)w->drug[drug].prefix * 1000 + serial / 10000000000ull;
                f.trace_lo = serial % 10000000000ull;
                f.person = find_person(w, r, g->county, province, 0);
                gen_act_t s2 = f;
                s2.kind = GEN_ACT_RESOLD_SECOND;
                s2.day = f.day + (int32_t)ms_rng_range(r, 3, 60);
                /* Another buyer (a county of one resident may not have one). */
                for (int t = 0; t < 50; t++) {
                    s2.person = find_person(w, r, g->county, province, 0);
                    if (s2.person != f.person) break;
                }
                if (s2.person == f.person) continue;
                /* The first sale happens at another pharmacy: the buyer's
                 * usual one, unless that is x (the person generator picks
                 * another then). */
                st = add_act(w, &cap, &f);
                if (st == MS_OK) st = add_act(w, &cap, &s2);
                pairs++;
            }
            break;
        }
        case MS_PAT_HOARDING: {
            uint32_t nh = (uint32_t)llround(fmax(3.0, 5.0 * gi));
            for (uint32_t k = 0; k < nh && st == MS_OK; k++) {
                a.kind = GEN_ACT_HOARDER;
                a.day = w->o.first_day;
                a.arg = (uint32_t)ms_rng_below(r, w->refs.drugs.count);
                a.person = find_person(w, r, g->county, province, 30);
                st = add_act(w, &cap, &a);
            }
            break;
        }
        default: /* upcoding, decomposed, pre-admission, self-pay: natural stays */
            break;
        }
        (void)inst;
    }
    for (int k = 0; k < ELIG_CLASSES; k++) cand_free(&sets[k]);
    if (st == MS_OK && w->nacts > 1) qsort(w->acts, w->nacts, sizeof *w->acts, cmp_act);
    return st;
}

/* The per-county lists of the cheaters whose pattern plants per person
 * (gen_world_t: pp_county_*, ov_county_*): a person walks those of its
 * county, not every cheater of the world.  In institution order, the order
 * of the walk they replace. */
static ms_status_t pp_lists(gen_world_t *w)
{
    uint32_t n = w->o.institutions, nc = w->ncounty;
    w->pp_county_first = calloc((size_t)nc + 1, sizeof *w->pp_county_first);
    w->ov_county_first = calloc((size_t)nc + 1, sizeof *w->ov_county_first);
    uint32_t *nprov_beds = calloc(w->nprov, sizeof *nprov_beds);
    uint32_t *fill = malloc(((size_t)nc + 1) * 2 * sizeof *fill);
    if (!w->pp_county_first || !w->ov_county_first || !nprov_beds || !fill) {
        free(nprov_beds), free(fill);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    /* Count: beds overflow plants province-wide, the others in the county. */
    for (uint32_t i = 0; i < n; i++) {
        int pat = w->inst[i].pattern;
        uint32_t c = w->inst[i].county;
        if (pat == MS_PAT_OVERLAP) w->ov_county_first[c + 1]++;
        else if (pat == MS_PAT_BEDS_OVERFLOW) nprov_beds[w->county[c].province]++;
        else if (pat == MS_PAT_LIGHT_STAY || pat == MS_PAT_MINOR_DIAGNOSIS || pat == MS_PAT_PINGPONG)
            w->pp_county_first[c + 1]++;
    }
    for (uint32_t c = 0; c < nc; c++) {
        w->pp_county_first[c + 1] += nprov_beds[w->county[c].province] + w->pp_county_first[c];
        w->ov_county_first[c + 1] += w->ov_county_first[c];
    }
    free(nprov_beds);
    w->pp_county_inst = malloc((w->pp_county_first[nc] ? w->pp_county_first[nc] : 1) * sizeof *w->pp_county_inst);
    w->ov_county_inst = malloc((w->ov_county_first[nc] ? w->ov_county_first[nc] : 1) * sizeof *w->ov_county_inst);
    if (!w->pp_county_inst || !w->ov_county_inst) {
        free(fill);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    uint32_t *fpp = fill, *fov = fill + nc + 1;
    memcpy(fpp, w->pp_county_first, ((size_t)nc + 1) * sizeof *fpp);
    memcpy(fov, w->ov_county_first, ((size_t)nc + 1) * sizeof *fov);
    /* A province's beds-overflow cheaters go to each of its counties. */
    uint32_t *prov_counties = NULL;
    uint32_t *prov_first = calloc((size_t)w->nprov + 1, sizeof *prov_first);
    if (prov_first) prov_counties = malloc((nc ? nc : 1) * sizeof *prov_counties);
    if (!prov_first || !prov_counties) {
        free(fill), free(prov_first), free(prov_counties);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    for (uint32_t c = 0; c < nc; c++) prov_first[w->county[c].province + 1]++;
    for (uint32_t p = 0; p < w->nprov; p++) prov_first[p + 1] += prov_first[p];
    {
        uint32_t *pf = malloc(((size_t)w->nprov + 1) * sizeof *pf);
        if (!pf) {
            free(fill), free(prov_first), free(prov_counties);
            return ms_error_set(MS_E_NOMEM, "out of memory");
        }
        memcpy(pf, prov_first, ((size_t)w->nprov + 1) * sizeof *pf);
        for (uint32_t c = 0; c < nc; c++) prov_counties[pf[w->county[c].province]++] = c;
        free(pf);
    }
    for (uint32_t i = 0; i < n; i++) {
        int pat = w->inst[i].pattern;
        uint32_t c = w->inst[i].county;
        if (pat == MS_PAT_OVERLAP) w->ov_county_inst[fov[c]++] = i;
        else if (pat == MS_PAT_BEDS_OVERFLOW) {
            uint32_t p = w->county[c].province;
            for (uint32_t k = prov_first[p]; k < prov_first[p + 1]; k++) {
                uint32_t cc = prov_counties[k];
                w->pp_county_inst[fpp[cc]++] = i;
            }
        } else if (pat == MS_PAT_LIGHT_STAY || pat == MS_PAT_MINOR_DIAGNOSIS || pat == MS_PAT_PINGPONG)
            w->pp_county_inst[fpp[c]++] = i;
    }
    free(fill), free(prov_first), free(prov_counties);
    return MS_OK;
}

/* ------------------------------------------------------ hard negatives */

/* Take item out of picker p (if it is there): it is never drawn again. */
static void picker_remove(gen_picker_t *p, uint32_t item)
{
    uint32_t k = picker_find(p, item);
    if (k == p->n) return;
    double wk = p->cum[k] - (k ? p->cum[k - 1] : 0);
    for (uint32_t i = k + 1; i < p->n; i++) {
        p->item[i - 1] = p->item[i];
        p->cum[i - 1] = p->cum[i] - wk;
    }
    p->n--;
}

static int has_beds_l12(const ms_institution_t *x)
{
    return (x->kind == MS_KIND_GENERAL || x->kind == MS_KIND_SPECIALTY || x->kind == MS_KIND_PRIMARY) &&
           x->beds >= 1 && x->level >= 1 && x->level <= 2;
}

/* Can institution i be a hard negative of kind k?  tier 0: the kind's
 * natural home (an oncology hospital is a specialty hospital, a campaign
 * needs volume); tier 1: a fallback when none is left; tier 2: any
 * institution of the broad class, for worlds with few persons per
 * institution.  Never a cheater or a ping-pong partner. */
static int hn_eligible(const gen_world_t *w, uint32_t i, int k, int tier, double pharmacy_median)
{
    const ms_institution_t *x = &w->refs.inst[i];
    const gen_inst_t *g = &w->inst[i];
    if (g->pattern >= 0 || g->is_partner || g->hard >= 0) return 0;
    double E = w->exp_stays[i], min_e = tier == 0 ? 20 : tier == 1 ? 5 : 0;
    int grouped = w->prov[w->county[g->county].province].scheme != MS_PAY_FFS;
    int gs = x->kind == MS_KIND_GENERAL || x->kind == MS_KIND_SPECIALTY;
    int hosp = has_beds_l12(x) && !g->tiny;
    switch (k) {
    case MS_HN_TERTIARY_HEAVY:
        return tier == 0 && gs && x->level == 3 && x->beds >= 1 && !g->tiny;
    case MS_HN_L2_HIGH_SEVERITY:
        return hosp && gs && x->level == 2 && grouped && E >= min_e;
    case MS_HN_ONCOLOGY_CYCLES:
        return hosp && (tier == 0 ? x->kind == MS_KIND_SPECIALTY && E >= 5 : tier == 1 ? x->kind == MS_KIND_GENERAL && E >= 5 : 1);
    case MS_HN_FRAIL_READMISSIONS:
        return hosp && (tier == 2 || x->kind != MS_KIND_SPECIALTY) && E >= min_e;
    case MS_HN_REHAB_NURSING:
        return hosp && (tier == 0 ? x->kind != MS_KIND_GENERAL && E >= 5 : tier == 1 ? x->kind == MS_KIND_GENERAL && E >= 5 : 1);
    case MS_HN_CATARACT_CAMPAIGN:
        return hosp && (tier == 2 || gs) && E >= min_e;
    case MS_HN_PREADMISSION_WORKUP:
        return hosp && grouped && E >= min_e;
    case MS_HN_FAMILY_PHARMACY:
        return tier < 2 && x->kind == MS_KIND_PHARMACY && g->weight > 1 && (tier || g->weight >= pharmacy_median);
    case MS_HN_TINY_EXTREME: {
        if (x->level > 2 || tier == 2) return 0;
        if (tier == 0) return g->tiny;
        /* Not the only institution of its county that serves its role. */
        const gen_county_t *ct = &w->county[g->county];
        const gen_picker_t *pk = x->kind == MS_KIND_PHARMACY ? &ct->pharmacy : &ct->outpatient;
        return (x->kind == MS_KIND_CLINIC || x->kind == MS_KIND_PHARMACY) && pk->n >= 2;
    }
    default:
        return 0;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The families and the drug the hard negatives use. */
static void hn_families(gen_world_t *w)
{
    static const char mdcs[] = "BCDEFGHIJKLMNORSTUXZ";
    w->fam_chemo = w->fam_eye = w->fam_heavy = UINT32_MAX;
    w->fam_rehab[0] = w->fam_rehab[1] = w->fam_rehab[2] = UINT32_MAX;
    double heavy = -1;
    for (uint32_t f = 0; f < w->nfam; f++) {
        char mdc = mdcs[f % (sizeof mdcs - 1)];
        const gen_family_t *fm = &w->fam[f];
        if (mdc == 'R' && !fm->surgical && w->fam_chemo == UINT32_MAX) w->fam_chemo = f;
        if (mdc == 'C' && fm->surgical && w->fam_eye == UINT32_MAX) w->fam_eye = f;
        int ri = mdc == 'Z' ? 0 : mdc == 'B' ? 1 : mdc == 'I' ? 2 : -1;
        if (ri >= 0 && !fm->surgical && w->fam_rehab[ri] == UINT32_MAX) w->fam_rehab[ri] = f;
        const ms_group_t *g = &w->refs.groups[fm->group[fm->nvariants == 3 ? 2 : 0]];
        if ((double)g->weight > heavy) heavy = (double)g->weight, w->fam_heavy = f;
    }
    /* 60 families at least: every MDC has a surgical and two medical ones. */
    for (int k = 0; k < 3; k++)
        if (w->fam_rehab[k] == UINT32_MAX) w->fam_rehab[k] = w->fam_chemo;
    w->drug_dear = 0;
    for (uint32_t d = 1; d < w->refs.drugs.count; d++)
        if (w->drug[d].price > w->drug[w->drug_dear].price) w->drug_dear = d;
}

/* Build the per-county and per-province lists of hard negatives whose
 * records come from local persons. */
static ms_status_t hn_lists(gen_world_t *w)
{
    uint32_t n = w->o.institutions;
    w->hn_county_first = calloc((size_t)w->ncounty + 1, sizeof *w->hn_county_first);
    w->hn_prov_first = calloc((size_t)w->nprov + 1, sizeof *w->hn_prov_first);
    if (!w->hn_county_first || !w->hn_prov_first) return ms_error_set(MS_E_NOMEM, "out of memory");
    uint32_t nc = 0, np = 0;
    for (uint32_t i = 0; i < n; i++) {
        int k = w->inst[i].hard;
        if (k == MS_HN_ONCOLOGY_CYCLES) w->hn_prov_first[w->county[w->inst[i].county].province + 1]++, np++;
        else if (k == MS_HN_FRAIL_READMISSIONS || k == MS_HN_REHAB_NURSING || k == MS_HN_FAMILY_PHARMACY)
            w->hn_county_first[w->inst[i].county + 1]++, nc++;
    }
    for (uint32_t c = 0; c < w->ncounty; c++) w->hn_county_first[c + 1] += w->hn_county_first[c];
    for (uint32_t p = 0; p < w->nprov; p++) w->hn_prov_first[p + 1] += w->hn_prov_first[p];
    w->hn_county_inst = malloc((nc ? nc : 1) * sizeof *w->hn_county_inst);
    w->hn_prov_inst = malloc((np ? np : 1) * sizeof *w->hn_prov_inst);
    uint32_t *fc = malloc(((size_t)w->ncounty + w->nprov + 1) * sizeof *fc);
    if (!w->hn_county_inst || !w->hn_prov_inst || !fc) {
        free(fc);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    uint32_t *fp = fc + w->ncounty;
    memcpy(fc, w->hn_county_first, w->ncounty * sizeof *fc);
    memcpy(fp, w->hn_prov_first, w->nprov * sizeof *fp);
    for (uint32_t i = 0; i < n; i++) {
        int k = w->inst[i].hard;
        if (k == MS_HN_ONCOLOGY_CYCLES) w->hn_prov_inst[fp[w->county[w->inst[i].county].province]++] = i;
        else if (k == MS_HN_FRAIL_READMISSIONS || k == MS_HN_REHAB_NURSING || k == MS_HN_FAMILY_PHARMACY)
            w->hn_county_inst[fc[w->inst[i].county]++] = i;
    }
    free(fc);
    return MS_OK;
}

/* Approved beds of an honest hospital whose work adds census (bed-days
 * over the window) to its natural one: sized as every hospital's beds
 * (expected_volumes), with room for a batch of `batch` same-day admissions. */
static void hn_beds(gen_world_t *w, ms_rng_t *r, uint32_t i, double added_bed_days, int batch)
{
    ms_institution_t *x = &w->refs.inst[i];
    double census = w->exp_stays[i] * 1.04 * MEAN_STAY_DAYS / (double)w->o.days + added_bed_days / (double)w->o.days;
    double beds = census / (0.70 + 0.15 * ms_rng_unit(r)) + 3.0 * sqrt(census) + 2.0 + batch;
    if ((int32_t)ceil(beds) > x->beds) x->beds = (int32_t)ceil(beds);
    double daily = w->exp_visits[i] / (w->o.days > 0 ? w->o.days : 1);
    uint32_t d = (uint32_t)ceil(daily / 12.0) + (uint32_t)(x->beds / 15);
    w->inst[i].doctors = d < 1 ? 1 : d > 999 ? 999 : d;
}

/* Shares of the population at or above an age (the age mix of
 * gen_person_attrs: 0-14 16%, 15-59 62%, 60-98 22%, uniform in each). */
static double share_aged(int age)
{
    if (age >= 60) return 0.22 * (99 - age) / 39.0;
    if (age >= 15) return 0.22 + 0.62 * (60 - age) / 45.0;
    return 0.22 + 0.62 + 0.16 * (15 - age) / 15.0;
}

static double province_persons(const gen_world_t *w, uint32_t province)
{
    double s = 0;
    for (uint32_t c = 0; c < w->ncounty; c++)
        if (w->county[c].province == province) s += w->county_persons[c];
    return s > 1 ? s : 1;
}

/* Choose the hard negatives (round-robin over the kinds, like the
 * cheaters, among institutions that do not cheat) and plan what they need:
 * per-person rates, campaign batches, a tiny institution's few records.
 * From its own stream (seed, 4, 0), after the fraud plan: --hard-share
 * changes neither the cheaters nor their plan. */
static ms_status_t plan_hard_negatives(gen_world_t *w)
{
    uint32_t n = w->o.institutions;
    hn_families(w);
    if (w->o.hard_share <= 0 || w->o.persons == 0) return hn_lists(w);
    ms_rng_t rr, *r = &rr;
    ms_rng_seed(r, ms_rng_key(w->o.seed, 4, 0));
    uint32_t want = (uint32_t)llround(w->o.hard_share * n);
    if (want < MS_HN_COUNT) want = MS_HN_COUNT;
    /* Flagship pharmacies: at least the median attractiveness of pharmacies. */
    double *pw = malloc(n * sizeof *pw);
    uint32_t *chosen = malloc(want * sizeof *chosen);
    if (!pw || !chosen) {
        free(pw), free(chosen);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    uint32_t npw = 0;
    for (uint32_t i = 0; i < n; i++)
        if (w->refs.inst[i].kind == MS_KIND_PHARMACY && w->inst[i].weight > 1) pw[npw++] = w->inst[i].weight;
    qsort(pw, npw, sizeof *pw, cmp_double);
    double median = npw ? pw[npw / 2] : 0;
    free(pw);
    /* Candidates of kind k, tier t: list[k][t][0 .. m[k][t]). */
#define HN_TIERS 3
    uint32_t m[MS_HN_COUNT][HN_TIERS];
    size_t total = 0;
    for (int k = 0; k < MS_HN_COUNT; k++)
        for (int t = 0; t < HN_TIERS; t++) {
            m[k][t] = 0;
            for (uint32_t i = 0; i < n; i++) m[k][t] += (uint32_t)hn_eligible(w, i, k, t, median);
            total += m[k][t];
        }
    uint32_t *cand = malloc((total ? total : 1) * sizeof *cand), *list[MS_HN_COUNT][HN_TIERS];
    if (!cand) {
        free(chosen);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    total = 0;
    for (int k = 0; k < MS_HN_COUNT; k++)
        for (int t = 0; t < HN_TIERS; t++) {
            list[k][t] = cand + total;
            m[k][t] = 0;
            for (uint32_t i = 0; i < n; i++)
                if (hn_eligible(w, i, k, t, median)) list[k][t][m[k][t]++] = i;
            total += m[k][t];
        }
    uint32_t nchosen = 0;
    for (uint32_t j = 0; j < want; j++) {
        int k = (int)(j % MS_HN_COUNT);
        uint32_t x = UINT32_MAX;
        for (int t = 0; t < HN_TIERS && x == UINT32_MAX; t++) {
            uint32_t *l = list[k][t];
            while (m[k][t] > 0 && x == UINT32_MAX) {
                uint32_t s = (uint32_t)ms_rng_below(r, m[k][t]);
                uint32_t i = l[s];
                l[s] = l[--m[k][t]]; /* taken, or taken already by another kind */
                if (w->inst[i].hard < 0) x = i;
            }
        }
        if (x == UINT32_MAX) continue;
        w->inst[x].hard = (int8_t)k;
        w->hn_count[k]++;
        chosen[nchosen++] = x;
    }
    free(cand);

    /* Tiny institutions get no natural traffic: only their planned records. */
    for (uint32_t q = 0; q < nchosen; q++) {
        uint32_t x = chosen[q];
        if (w->inst[x].hard != MS_HN_TINY_EXTREME) continue;
        gen_county_t *ct = &w->county[w->inst[x].county];
        gen_province_t *pv = &w->prov[ct->province];
        picker_remove(&ct->outpatient, x), picker_remove(&ct->inpatient, x), picker_remove(&ct->pharmacy, x);
        picker_remove(&pv->tertiary, x), picker_remove(&pv->inpatient, x), picker_remove(&pv->pharmacy, x);
    }

    size_t cap = w->nacts;
    ms_status_t st = MS_OK;
    for (uint32_t q = 0; q < nchosen && st == MS_OK; q++) {
        uint32_t x = chosen[q];
        gen_inst_t *g = &w->inst[x];
        const ms_institution_t *inst = &w->refs.inst[x];
        double E = w->exp_stays[x];
        double locals = w->county_persons[g->county] > 1 ? w->county_persons[g->county] : 1;
        uint32_t province = w->county[g->county].province;
        gen_act_t a;
        memset(&a, 0, sizeof a);
        a.inst = x;
        switch ((ms_hard_negative_t)g->hard) {
        case MS_HN_ONCOLOGY_CYCLES: {
            /* Courses of 4-8 cycles from the whole province, 35+. */
            double courses = fmax(6.0, 0.12 * E);
            g->hn_rate = courses / (share_aged(35) * province_persons(w, province));
            hn_beds(w, r, x, courses * (5.0 + 6.0 * 2.0), 0);
            break;
        }
        case MS_HN_FRAIL_READMISSIONS: {
            double stays = fmax(25.0, 0.5 * E);
            g->hn_rate = stays / (share_aged(75) * locals);
            hn_beds(w, r, x, stays * 1.5 * 9.0, 0);
            break;
        }
        case MS_HN_REHAB_NURSING: {
            /* Mostly rehabilitation and nursing care. */
            double stays = fmax(30.0, 1.5 * E);
            g->hn_rate = stays / (share_aged(55) * locals);
            hn_beds(w, r, x, stays * 36.0, 0);
            break;
        }
        case MS_HN_FAMILY_PHARMACY: {
            /* About one in ten of its chronic buyers buys for the family. */
            double buyers = locals * 0.17 * picker_prob(&w->county[g->county].pharmacy, x);
            g->hn_rate = fmax(8.0, 0.1 * buyers) / (share_aged(30) * locals);
            break;
        }
        case MS_HN_CATARACT_CAMPAIGN: {
            /* Batches of 5-15 persons aged 60+ from one other county of the
             * province (another province when it has one county), operated
             * on the day they arrive. */
            uint32_t batches = (uint32_t)fmax(4.0, round(E / 15.0));
            hn_beds(w, r, x, batches * 10.0 * 1.0, 15);
            a.kind = GEN_ACT_HN_CATARACT;
            st = plan_batches(w, r, &cap, &a, batches, 5, 11, 5, 60, g->county, province);
            break;
        }
        case MS_HN_TINY_EXTREME: {
            /* 1-10 records of local persons, one of them extreme. */
            uint32_t nrec = 1 + (uint32_t)ms_rng_below(r, 10), extreme = (uint32_t)ms_rng_below(r, nrec);
            int margin = 60;
            for (uint32_t k = 0; k < nrec && st == MS_OK; k++) {
                a.kind = GEN_ACT_HN_TINY;
                a.day = w->o.first_day + (int32_t)ms_rng_below(r, (uint64_t)(w->o.days > margin ? w->o.days - margin : 1));
                a.arg = k == extreme ? GEN_TINY_EXTREME : 0;
                if (inst->beds > 0 && inst->kind != MS_KIND_PHARMACY && (k == extreme || ms_rng_chance(r, 0.4)))
                    a.arg |= GEN_TINY_STAY;
                a.person = find_person(w, r, g->county, province, 0);
                st = add_act(w, &cap, &a);
            }
            break;
        }
        default: /* tertiary_heavy, l2_high_severity, preadmission_workup: their natural stays */
            break;
        }
    }
    free(chosen);
    if (st == MS_OK && w->nacts > 1) qsort(w->acts, w->nacts, sizeof *w->acts, cmp_act);
    if (st == MS_OK) st = hn_lists(w);
    return st;
}

/* --flatten: the reference data of a poorer extract (no beds, one severity
 * per family); the records are flattened as they are written. */
static void flatten_refs(gen_world_t *w)
{
    for (size_t i = 0; i < w->refs.n_inst; i++) w->refs.inst[i].beds = 0;
    for (size_t g = 0; g < w->refs.n_groups; g++) w->refs.groups[g].severity = 0;
}

/* --------------------------------------------------------------- world */

ms_status_t gen_world_build(gen_world_t *w, const ms_gen_opts_t *o)
{
    memset(w, 0, sizeof *w);
    w->o = *o;
    ms_rng_t r;
    ms_rng_seed(&r, ms_rng_key(o->seed, 0, 0));
    ms_status_t st = build_geography(w, &r);
    if (st == MS_OK) st = build_institutions(w, &r);
    if (st == MS_OK) st = build_choice(w);
    if (st == MS_OK) st = build_groups_and_codes(w, &r);
    if (st == MS_OK) st = build_drugs(w, &r);
    if (st == MS_OK) st = expected_volumes(w);
    if (st == MS_OK && !(w->pindex = calloc(1, sizeof *w->pindex))) st = ms_error_set(MS_E_NOMEM, "out of memory");
    if (st == MS_OK) st = plan_fraud(w, &r);
    if (st == MS_OK) st = pp_lists(w);
    if (st == MS_OK) st = plan_hard_negatives(w);
    if (st == MS_OK && o->bills) st = gen_bills_build(w); /* its own stream: the world above is unchanged */
    pindex_free(w->pindex);
    w->pindex = NULL;
    if (st == MS_OK && o->flatten) flatten_refs(w);
    if (st == MS_OK) st = ms_refs_finish(&w->refs);
    if (st != MS_OK) gen_world_free(w);
    return st;
}

void gen_world_free(gen_world_t *w)
{
    for (uint32_t c = 0; c < w->ncounty; c++) {
        picker_free(&w->county[c].outpatient);
        picker_free(&w->county[c].inpatient);
        picker_free(&w->county[c].pharmacy);
    }
    for (uint32_t p = 0; p < w->nprov; p++) {
        picker_free(&w->prov[p].tertiary);
        picker_free(&w->prov[p].inpatient);
        picker_free(&w->prov[p].pharmacy);
    }
    picker_free(&w->county_pick);
    picker_free(&w->fam_pick);
    free(w->prov), free(w->county), free(w->inst), free(w->fam);
    free(w->diag_map), free(w->proc_map), free(w->drug), free(w->chronic_drugs);
    free(w->exp_stays), free(w->exp_visits), free(w->county_persons), free(w->acts);
    free(w->pp_county_first), free(w->pp_county_inst), free(w->ov_county_first), free(w->ov_county_inst);
    pindex_free(w->pindex);
    free(w->hn_county_first), free(w->hn_county_inst), free(w->hn_prov_first), free(w->hn_prov_inst);
    gen_bills_free(w);
    ms_refs_free(&w->refs);
    memset(w, 0, sizeof *w);
}
