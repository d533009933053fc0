/*
 * ms_rules.c - the rule base over itemised bills (ms_rules.h, docs/rules.md):
 * the templates, their defaults, compiling a configuration against a
 * knowledge base, and applying it to one claim.  The reasons' words are in
 * ms_rules_reasons.c.
 *
 * The templates, exactly (L is a line of the claim; "known" means L.item is
 * an id of the knowledge base, "listed" that the rule has no item list or
 * lists L.item_code; a line that is not listed is never a hit):
 *
 *   sex            known, the item's sex is set and differs from the claim's.
 *                  observed: the claim's sex, limit: the item's (MS_SEX_*).
 *   age            known, the item has min_age and/or max_age, and the
 *                  claim's age < min_age (limit min_age) or > max_age (limit
 *                  max_age).  observed: the age.
 *   over_qty       known, the item has max_qty_milli: the running sum of
 *                  qty_milli over the claim's lines of that item on that
 *                  date, in line order up to and including L, > max.  Every
 *                  line from the one that crosses the maximum on is a hit
 *                  (observed: the running sum, limit: the maximum).  Exactly
 *                  the maximum passes.
 *   excess_supply  L is a drug line (category drug) with days_supply > 0,
 *                  known: supply = the days_supply of the person's lines of
 *                  the same item (history, and the claim's lines up to and
 *                  including L in (date, line_no) order) dated in
 *                  (L.date - window_days, L.date]; a hit when supply * 100 >
 *                  window_days * (100 + tolerance_pct) (observed: supply,
 *                  limit: window_days * (100 + tolerance_pct) / 100, rounded
 *                  down: the most that passes).  Failing that, a hit when
 *                  L.days_supply > the item's max_days_supply (observed:
 *                  days_supply, limit: max_days_supply).  One hit per line:
 *                  the window's first.  (A line-max hit always has a limit
 *                  below the window's, which is how its reason tells them
 *                  apart.)
 *   duplicate      known, the item has an exclusive partner: a partner line
 *                  of the same person and date exists, among the history's
 *                  lines of that date (any settlement) or the claim's earlier
 *                  lines of that date.  The hit is the later line, L; the
 *                  partner reported (other_date, other_settle, other_item) is
 *                  the first one, the history's before the claim's, each in
 *                  its order.  observed and limit: 0.
 *   bed_days       inpatient claims only: the claim's bed lines (category
 *                  bed; known or not: the rule reads no item facts) in line
 *                  order, running days = ceil(running sum of qty_milli /
 *                  1000); every bed line from the one where running days >
 *                  (discharge_date - admit_date) + extra_days on is a hit
 *                  (observed: running days, limit: LOS + extra_days).
 *   scope          known, the item lists diagnoses, and
 *                  ms_kb_item_covers(item, diag_main) is false.  observed
 *                  and limit: 0.
 *   repeat_exam    L's category is in categories, known: the latest (by
 *                  date, settle_id, line_no) earlier line of the same item,
 *                  from the history dated in [L.date - window_days, L.date]
 *                  or from the claim dated in [L.date - window_days,
 *                  L.date - 1] (the same item twice on one date of one claim
 *                  is over_qty's business).  observed: the days between,
 *                  limit: window_days; other_date, other_settle: that line's.
 *   setting        known: the item is inpatient-only and the claim is not
 *                  inpatient, or outpatient-only and the claim is inpatient.
 *                  observed: the claim's visit_type, limit: the item's
 *                  setting.
 *   empty_brush    L is a drug line, known, the item is trace_required: a
 *                  hit when the packages of that item scanned for the claim
 *                  (sum of traces[].qty) are fewer than the units billed for
 *                  it (ceil of the sum of qty_milli over the claim's drug
 *                  lines of that item / 1000); every such line of the item is
 *                  a hit (observed: packages scanned, limit: units billed).
 *
 * Unknown items (-1) are passed by every template that reads the item's
 * facts; repeat_exam, excess_supply and duplicate match lines by item id, so
 * they need a known item too.  Only bed_days judges unknown items.
 *
 * Costs: every template is one pass over the claim's lines with a backward
 * scan within a date (over_qty, duplicate) or the window (excess_supply,
 * repeat_exam), and a binary search into the person's history by date; no
 * allocation but the hits list's growth.
 */
#include "ms_rules.h"

#include <stdlib.h>
#include <string.h>

#include "ms_schema.h"
#include "ms_search.h"

/* ------------------------------------------------------------ templates */

typedef struct {
    const char *name;
    const char *description;
    unsigned params;
} template_t;

static const template_t templates[MS_RULE_TEMPLATE_COUNT] = {
    [MS_RULE_SEX] = {"sex", "限性别: an item the knowledge base restricts to one sex, billed for the other", 0},
    [MS_RULE_AGE] = {"age", "限年龄: an item billed for a patient younger than its min_age or older than its max_age",
                     0},
    [MS_RULE_OVER_QTY] = {"over_qty",
                          "超量: more units of an item for one claim on one day than its max_qty_per_day; every "
                          "line from the one that crosses the maximum",
                          0},
    [MS_RULE_EXCESS_SUPPLY] = {"excess_supply",
                               "超量开药: a person's days of supply of one drug over window_days, across "
                               "institutions, above window_days by more than tolerance_pct; or one line above "
                               "the drug's max_days_supply",
                               MS_RULE_P_WINDOW | MS_RULE_P_TOLERANCE},
    [MS_RULE_DUPLICATE] = {"duplicate",
                           "重复收费: two mutually exclusive items (exclusive_items.csv) for one person on one "
                           "day; the later line",
                           0},
    [MS_RULE_BED_DAYS] = {"bed_days",
                          "超标准收费: a stay's bed-day lines adding up to more days than its length of stay + "
                          "extra_days",
                          MS_RULE_P_EXTRA},
    [MS_RULE_SCOPE] = {"scope",
                       "限定支付范围: an item paid only for listed diagnoses, billed on a claim whose main "
                       "diagnosis is not among them",
                       0},
    [MS_RULE_REPEAT_EXAM] = {"repeat_exam",
                             "重复检查: an item of the listed categories for the same person again within "
                             "window_days, at any institution",
                             MS_RULE_P_WINDOW | MS_RULE_P_CATEGORIES},
    [MS_RULE_SETTING] = {"setting", "an inpatient-only item billed as outpatient, or an outpatient-only item billed "
                                    "as inpatient",
                         0},
    [MS_RULE_EMPTY_BRUSH] = {"empty_brush",
                             "空刷/串换: a drug that must be scanned (trace_required) billed in more whole units "
                             "than the claim's scanned packages of it",
                             0},
};

const char *ms_rule_template_name(int t)
{
    return t >= 0 && t < MS_RULE_TEMPLATE_COUNT ? templates[t].name : "?";
}

int ms_rule_template_find(const char *name)
{
    for (int t = 0; name && t < MS_RULE_TEMPLATE_COUNT; t++)
        if (!strcmp(templates[t].name, name)) return t;
    return -1;
}

const char *ms_rule_template_description(int t)
{
    return t >= 0 && t < MS_RULE_TEMPLATE_COUNT ? templates[t].description : "";
}

unsigned ms_rule_template_params(int t) { return t >= 0 && t < MS_RULE_TEMPLATE_COUNT ? templates[t].params : 0; }

const char *ms_rule_name_problem(const char *name)
{
    if (!name || !*name) return "is empty";
    size_t n = strlen(name);
    if (n > MS_RULE_NAME_MAX) return "is longer than 64 bytes";
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return "may hold only letters, digits and '_'";
    }
    return NULL;
}

/* ------------------------------------------------------ configuration */

ms_status_t ms_rule_init(ms_rule_t *r, int t, const char *name)
{
    memset(r, 0, sizeof *r);
    if (t < 0 || t >= MS_RULE_TEMPLATE_COUNT) return ms_error_set(MS_E_USAGE, "rules: unknown template %d", t);
    r->name = strdup(name ? name : templates[t].name);
    if (!r->name) return ms_error_set(MS_E_NOMEM, "rules: out of memory");
    r->tmpl = (ms_rule_template_t)t;
    r->enabled = 1;
    r->weight = 1.0;
    r->p.window_days = t == MS_RULE_EXCESS_SUPPLY ? 90 : t == MS_RULE_REPEAT_EXAM ? 7 : 0;
    r->p.tolerance_pct = t == MS_RULE_EXCESS_SUPPLY ? 30 : 0;
    r->p.extra_days = t == MS_RULE_BED_DAYS ? 1 : 0;
    r->p.categories = t == MS_RULE_REPEAT_EXAM ? (1u << MS_CAT_EXAM | 1u << MS_CAT_LAB) : 0;
    return MS_OK;
}

void ms_rule_free(ms_rule_t *r)
{
    if (!r) return;
    free(r->name);
    for (size_t i = 0; i < r->p.nitems; i++) free(r->p.items[i]);
    free(r->p.items);
    memset(r, 0, sizeof *r);
}

ms_status_t ms_rules_defaults(ms_rules_config_t *rc)
{
    rc->n = 0;
    rc->rule = calloc(MS_RULE_TEMPLATE_COUNT, sizeof *rc->rule);
    if (!rc->rule) return ms_error_set(MS_E_NOMEM, "rules: out of memory");
    for (int t = 0; t < MS_RULE_TEMPLATE_COUNT; t++) {
        ms_status_t st = ms_rule_init(&rc->rule[t], t, NULL);
        if (st != MS_OK) {
            ms_rules_config_free(rc);
            return st;
        }
        rc->n++;
    }
    return MS_OK;
}

void ms_rules_config_free(ms_rules_config_t *rc)
{
    if (!rc) return;
    for (size_t i = 0; rc->rule && i < rc->n; i++) ms_rule_free(&rc->rule[i]);
    free(rc->rule);
    rc->rule = NULL;
    rc->n = 0;
}

/* ---------------------------------------------------------- compiling */

typedef struct {
    ms_rule_t r;               /* a deep copy of the configured instance */
    int32_t *ids;              /* [nids] sorted: listed codes the knowledge base knows */
    size_t nids;
    const char **unknown;      /* [nunknown] listed codes it does not know (into r.p.items) */
    size_t nunknown;
    int64_t supply_x100;       /* excess_supply: window_days * (100 + tolerance_pct) */
} crule_t;

struct ms_ruleset {
    const ms_knowledge_t *kb;
    uint32_t n_items;          /* kb's, or 0 */
    size_t n;
    crule_t *rule;             /* [n]: the enabled rules */
    uint8_t *partner;          /* [n_items] 1: the item is in an exclusive pair */
};

void ms_ruleset_free(ms_ruleset_t *rs)
{
    if (!rs) return;
    for (size_t i = 0; i < rs->n; i++) {
        ms_rule_free(&rs->rule[i].r);
        free(rs->rule[i].ids);
        free((void *)rs->rule[i].unknown);
    }
    free(rs->rule);
    free(rs->partner);
    free(rs);
}

size_t ms_ruleset_count(const ms_ruleset_t *rs) { return rs ? rs->n : 0; }

const ms_rule_t *ms_ruleset_rule(const ms_ruleset_t *rs, size_t r) { return rs && r < rs->n ? &rs->rule[r].r : NULL; }

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static ms_status_t check_rule(const ms_rule_t *r)
{
    const char *name = r->name ? r->name : "(unnamed)";
    const char *problem = ms_rule_name_problem(r->name);
    if (problem) return ms_error_set(MS_E_USAGE, "rules: the name \"%.64s\" %s", name, problem);
    if ((int)r->tmpl < 0 || r->tmpl >= MS_RULE_TEMPLATE_COUNT)
        return ms_error_set(MS_E_USAGE, "rules.%s: unknown template %d", name, (int)r->tmpl);
    if (!(r->weight >= MS_RULE_WEIGHT_MIN && r->weight <= MS_RULE_WEIGHT_MAX))
        return ms_error_set(MS_E_USAGE, "rules.%s: weight %g is out of range (allowed 0..1000)", name, r->weight);
    unsigned p = templates[r->tmpl].params;
    if ((p & MS_RULE_P_WINDOW) && (r->p.window_days < MS_RULE_WINDOW_MIN || r->p.window_days > MS_RULE_WINDOW_MAX))
        return ms_error_set(MS_E_USAGE, "rules.%s: window_days %d is out of range (allowed 1..3650)", name,
                            (int)r->p.window_days);
    if ((p & MS_RULE_P_TOLERANCE) &&
        (r->p.tolerance_pct < MS_RULE_TOLERANCE_MIN || r->p.tolerance_pct > MS_RULE_TOLERANCE_MAX))
        return ms_error_set(MS_E_USAGE, "rules.%s: tolerance_pct %d is out of range (allowed 0..1000)", name,
                            (int)r->p.tolerance_pct);
    if ((p & MS_RULE_P_EXTRA) && (r->p.extra_days < MS_RULE_EXTRA_MIN || r->p.extra_days > MS_RULE_EXTRA_MAX))
        return ms_error_set(MS_E_USAGE, "rules.%s: extra_days %d is out of range (allowed 0..365)", name,
                            (int)r->p.extra_days);
    if ((p & MS_RULE_P_CATEGORIES) && (r->p.categories >> MS_CAT_COUNT))
        return ms_error_set(MS_E_USAGE, "rules.%s: categories 0x%x name no category", name, r->p.categories);
    for (size_t i = 0; i < r->p.nitems; i++)
        if (!r->p.items || !r->p.items[i]) return ms_error_set(MS_E_USAGE, "rules.%s: item %zu is missing", name, i + 1);
    return MS_OK;
}

static ms_status_t copy_rule(ms_rule_t *d, const ms_rule_t *s)
{
    memset(d, 0, sizeof *d);
    d->name = strdup(s->name);
    d->tmpl = s->tmpl;
    d->enabled = s->enabled;
    d->weight = s->weight;
    d->p = s->p;
    d->p.items = NULL;
    d->p.nitems = 0;
    if (!d->name) return ms_error_set(MS_E_NOMEM, "rules: out of memory");
    if (s->p.nitems) {
        d->p.items = calloc(s->p.nitems, sizeof *d->p.items);
        if (!d->p.items) return ms_error_set(MS_E_NOMEM, "rules: out of memory");
        for (size_t i = 0; i < s->p.nitems; i++) {
            d->p.items[i] = strdup(s->p.items[i]);
            if (!d->p.items[i]) return ms_error_set(MS_E_NOMEM, "rules: out of memory");
            d->p.nitems = i + 1;
        }
    }
    return MS_OK;
}

static ms_status_t compile_rule(ms_ruleset_t *rs, crule_t *c)
{
    const ms_rule_t *r = &c->r;
    c->supply_x100 = (int64_t)r->p.window_days * (100 + r->p.tolerance_pct);
    if (!r->p.nitems) return MS_OK;
    c->ids = malloc(r->p.nitems * sizeof *c->ids);
    c->unknown = malloc(r->p.nitems * sizeof *c->unknown);
    if (!c->ids || !c->unknown) return ms_error_set(MS_E_NOMEM, "rules: out of memory");
    for (size_t i = 0; i < r->p.nitems; i++) {
        const char *code = r->p.items[i];
        int32_t id = rs->kb ? ms_knowledge_find(rs->kb, code, strlen(code)) : -1;
        if (id >= 0) c->ids[c->nids++] = id;
        else c->unknown[c->nunknown++] = code;
    }
    qsort(c->ids, c->nids, sizeof *c->ids, cmp_i32);
    return MS_OK;
}

ms_status_t ms_ruleset_compile(const ms_rules_config_t *rc, const ms_knowledge_t *kb, ms_ruleset_t **out)
{
    *out = NULL;
    for (size_t i = 0; i < rc->n; i++) {
        MS_TRY(check_rule(&rc->rule[i]));
        for (size_t j = 0; j < i; j++)
            if (!strcmp(rc->rule[i].name, rc->rule[j].name))
                return ms_error_set(MS_E_USAGE, "rules: the name '%s' is used twice", rc->rule[i].name);
    }
    ms_ruleset_t *rs = calloc(1, sizeof *rs);
    if (!rs) return ms_error_set(MS_E_NOMEM, "rules: out of memory");
    rs->kb = kb;
    rs->n_items = kb ? (uint32_t)kb->n_items : 0;
    ms_status_t st = MS_OK;
    rs->rule = calloc(rc->n ? rc->n : 1, sizeof *rs->rule);
    rs->partner = calloc(rs->n_items ? rs->n_items : 1, 1);
    if (!rs->rule || !rs->partner) st = ms_error_set(MS_E_NOMEM, "rules: out of memory");
    for (size_t i = 0; st == MS_OK && kb && i < kb->n_exclusive; i++)
        for (int k = 0; k < 2; k++)
            if (kb->exclusive[i][k] < rs->n_items) rs->partner[kb->exclusive[i][k]] = 1;
    for (size_t i = 0; st == MS_OK && i < rc->n; i++) {
        if (!rc->rule[i].enabled) continue;
        crule_t *c = &rs->rule[rs->n++];
        st = copy_rule(&c->r, &rc->rule[i]);
        if (st == MS_OK) st = compile_rule(rs, c);
    }
    if (st != MS_OK) {
        ms_ruleset_free(rs);
        return st;
    }
    *out = rs;
    return MS_OK;
}

/* ------------------------------------------------------------ applying */

/* The knowledge base's facts of a line's item, or NULL when it is unknown. */
static inline const ms_kb_item_t *item_of(const ms_ruleset_t *rs, int32_t item)
{
    return item >= 0 && (uint32_t)item < rs->n_items ? &rs->kb->items[item] : NULL;
}

/* 1 if the rule applies to the line (no item list, or the line's item is
 * listed). */
static int listed(const crule_t *c, const ms_rule_line_t *l)
{
    if (!c->r.p.nitems) return 1;
    if (l->item >= 0) {
        size_t lo = 0, hi = c->nids;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (c->ids[mid] < l->item) lo = mid + 1;
            else hi = mid;
        }
        if (lo < c->nids && c->ids[lo] == l->item) return 1;
    }
    /* Codes the knowledge base does not know are matched as text (a line
     * whose code is listed, whatever its item id). */
    for (size_t i = 0; i < c->nunknown; i++)
        if (l->item_code && !strcmp(c->unknown[i], l->item_code)) return 1;
    return 0;
}

static ms_status_t grow(ms_rule_hits_t *h, size_t need)
{
    if (need <= h->cap) return MS_OK;
    size_t cap = h->cap ? h->cap * 2 : 16;
    while (cap < need) cap *= 2;
    if (cap > SIZE_MAX / sizeof *h->hit) return ms_error_set(MS_E_NOMEM, "rules: out of memory");
    ms_rule_hit_t *v = realloc(h->hit, cap * sizeof *v);
    if (!v) return ms_error_set(MS_E_NOMEM, "rules: out of memory");
    h->hit = v;
    h->cap = cap;
    return MS_OK;
}

typedef struct {
    const ms_ruleset_t *rs;
    const crule_t *c;
    const ms_claim_t *claim;
    uint32_t rule;
    ms_rule_hits_t *out;
} ctx_t;

static ms_status_t hit(const ctx_t *x, size_t line, int64_t observed, int64_t limit, int32_t other_date,
                       uint64_t other_settle, int32_t other_item)
{
    MS_TRY(grow(x->out, x->out->n + 1));
    ms_rule_hit_t *h = &x->out->hit[x->out->n++];
    h->rule = x->rule;
    h->line = (uint32_t)line;
    h->observed = observed;
    h->limit = limit;
    h->other_date = other_date;
    h->other_settle = other_settle;
    h->other_item = other_item;
    return MS_OK;
}

#define HIT(line, obs, lim) MS_TRY(hit(x, (line), (obs), (lim), 0, 0, -1))

typedef struct {
    const ms_claim_t *c;
    int32_t day;
} day_key_t;

static int history_below(const void *ctx, size_t i)
{
    const day_key_t *k = ctx;
    return k->c->history[i].date < k->day;
}

/* The first history line dated on or after day (ms_lower_bound). */
static size_t history_from(const ms_claim_t *c, int32_t day)
{
    day_key_t k = {c, day};
    return ms_lower_bound(c->nhistory, history_below, &k);
}

static ms_status_t rule_sex(const ctx_t *x)
{
    const ms_claim_t *c = x->claim;
    for (size_t i = 0; i < c->nlines; i++) {
        const ms_kb_item_t *it = item_of(x->rs, c->lines[i].item);
        if (!it || it->sex == MS_KB_NONE || it->sex == (int)c->sex || !listed(x->c, &c->lines[i])) continue;
        HIT(i, c->sex, it->sex);
    }
    return MS_OK;
}

static ms_status_t rule_age(const ctx_t *x)
{
    const ms_claim_t *c = x->claim;
    for (size_t i = 0; i < c->nlines; i++) {
        const ms_kb_item_t *it = item_of(x->rs, c->lines[i].item);
        if (!it || !listed(x->c, &c->lines[i])) continue;
        if (it->min_age != MS_KB_NONE && (int)c->age < it->min_age) HIT(i, c->age, it->min_age);
        else if (it->max_age != MS_KB_NONE && (int)c->age > it->max_age) HIT(i, c->age, it->max_age);
    }
    return MS_OK;
}

static ms_status_t rule_over_qty(const ctx_t *x)
{
    const ms_claim_t *c = x->claim;
    const ms_rule_line_t *L = c->lines;
    for (size_t i = 0; i < c->nlines; i++) {
        const ms_kb_item_t *it = item_of(x->rs, L[i].item);
        if (!it || it->max_qty_milli == MS_KB_NONE || !listed(x->c, &L[i])) continue;
        int64_t sum = L[i].qty_milli;
        for (size_t j = i; j-- > 0 && L[j].date == L[i].date;)
            if (L[j].item == L[i].item) sum += L[j].qty_milli;
        if (sum > it->max_qty_milli) HIT(i, sum, it->max_qty_milli);
    }
    return MS_OK;
}

static ms_status_t rule_excess_supply(const ctx_t *x)
{
    const ms_claim_t *c = x->claim;
    const ms_rule_line_t *L = c->lines;
    int32_t w = x->c->r.p.window_days;
    for (size_t i = 0; i < c->nlines; i++) {
        if (L[i].category != MS_CAT_DRUG || L[i].days_supply <= 0) continue;
        const ms_kb_item_t *it = item_of(x->rs, L[i].item);
        if (!it || !listed(x->c, &L[i])) continue;
        int32_t from = L[i].date - w + 1; /* the window: [from, date] */
        int64_t supply = 0;
        for (size_t h = history_from(c, from); h < c->nhistory && c->history[h].date <= L[i].date; h++)
            if (c->history[h].item == L[i].item && c->history[h].days_supply > 0) supply += c->history[h].days_supply;
        for (size_t j = i + 1; j-- > 0 && L[j].date >= from;)
            if (L[j].item == L[i].item && L[j].days_supply > 0) supply += L[j].days_supply;
        if (supply * 100 > x->c->supply_x100) HIT(i, supply, x->c->supply_x100 / 100);
        else if (it->max_days_supply != MS_KB_NONE && L[i].days_supply > it->max_days_supply)
            HIT(i, L[i].days_supply, it->max_days_supply);
    }
    return MS_OK;
}

static ms_status_t rule_duplicate(const ctx_t *x)
{
    const ms_claim_t *c = x->claim;
    const ms_rule_line_t *L = c->lines;
    const uint8_t *partner = x->rs->partner;
    for (size_t i = 0; i < c->nlines; i++) {
        if (!item_of(x->rs, L[i].item) || !partner[L[i].item] || !listed(x->c, &L[i])) continue;
        const ms_rule_line_t *other = NULL;
        for (size_t h = history_from(c, L[i].date); !other && h < c->nhistory && c->history[h].date == L[i].date; h++) {
            const ms_rule_line_t *o = &c->history[h];
            if (item_of(x->rs, o->item) && partner[o->item] && ms_knowledge_exclusive(x->rs->kb, o->item, L[i].item))
                other = o;
        }
        size_t first = i;
        while (first > 0 && L[first - 1].date == L[i].date) first--;
        for (size_t j = first; !other && j < i; j++)
            if (item_of(x->rs, L[j].item) && partner[L[j].item] && ms_knowledge_exclusive(x->rs->kb, L[j].item, L[i].item))
                other = &L[j];
        if (other) MS_TRY(hit(x, i, 0, 0, other->date, other->settle_id, other->item));
    }
    return MS_OK;
}

static ms_status_t rule_bed_days(const ctx_t *x)
{
    const ms_claim_t *c = x->claim;
    if (c->visit_type != MS_VISIT_INPATIENT) return MS_OK;
    int64_t limit = (int64_t)c->discharge_date - c->admit_date + x->c->r.p.extra_days;
    int64_t milli = 0;
    for (size_t i = 0; i < c->nlines; i++) {
        if (c->lines[i].category != MS_CAT_BED || !listed(x->c, &c->lines[i])) continue;
        milli += c->lines[i].qty_milli;
        int64_t days = milli > 0 ? (milli + 999) / 1000 : 0;
        if (days > limit) HIT(i, days, limit);
    }
    return MS_OK;
}

static ms_status_t rule_scope(const ctx_t *x)
{
    const ms_claim_t *c = x->claim;
    const char *diag = c->diag_main ? c->diag_main : "";
    size_t dlen = strlen(diag);
    for (size_t i = 0; i < c->nlines; i++) {
        const ms_kb_item_t *it = item_of(x->rs, c->lines[i].item);
        if (!it || !it->ndiag || !listed(x->c, &c->lines[i])) continue;
        if (!ms_kb_item_covers(it, diag, dlen)) HIT(i, 0, 0);
    }
    return MS_OK;
}

/* (date, settle_id, line_no) of a before b. */
static int line_before(const ms_rule_line_t *a, const ms_rule_line_t *b)
{
    if (a->date != b->date) return a->date < b->date;
    if (a->settle_id != b->settle_id) return a->settle_id < b->settle_id;
    return a->line_no < b->line_no;
}

static ms_status_t rule_repeat_exam(const ctx_t *x)
{
    const ms_claim_t *c = x->claim;
    const ms_rule_line_t *L = c->lines;
    uint32_t cats = x->c->r.p.categories;
    int32_t w = x->c->r.p.window_days;
    for (size_t i = 0; i < c->nlines; i++) {
        if (L[i].category >= 32 || !(cats >> L[i].category & 1u)) continue;
        if (!item_of(x->rs, L[i].item) || !listed(x->c, &L[i])) continue;
        int32_t from = L[i].date - w;
        const ms_rule_line_t *best = NULL;
        for (size_t h = history_from(c, from); h < c->nhistory && c->history[h].date <= L[i].date; h++)
            if (c->history[h].item == L[i].item) best = &c->history[h]; /* ascending: the last is the latest */
        size_t j = i;
        while (j > 0 && L[j - 1].date == L[i].date) j--; /* the claim's lines before L's date */
        while (j-- > 0 && L[j].date >= from) {
            if (L[j].item != L[i].item) continue;
            if (!best || line_before(best, &L[j])) best = &L[j];
            break; /* descending: the first found is the claim's latest */
        }
        if (best) MS_TRY(hit(x, i, (int64_t)L[i].date - best->date, w, best->date, best->settle_id, -1));
    }
    return MS_OK;
}

static ms_status_t rule_setting(const ctx_t *x)
{
    const ms_claim_t *c = x->claim;
    int inpatient = c->visit_type == MS_VISIT_INPATIENT;
    for (size_t i = 0; i < c->nlines; i++) {
        const ms_kb_item_t *it = item_of(x->rs, c->lines[i].item);
        if (!it || !listed(x->c, &c->lines[i])) continue;
        if ((it->setting == MS_SETTING_INPATIENT && !inpatient) || (it->setting == MS_SETTING_OUTPATIENT && inpatient))
            HIT(i, c->visit_type, it->setting);
    }
    return MS_OK;
}

static ms_status_t rule_empty_brush(const ctx_t *x)
{
    const ms_claim_t *c = x->claim;
    const ms_rule_line_t *L = c->lines;
    int32_t last = -1;
    int64_t billed = 0, scanned = 0;
    for (size_t i = 0; i < c->nlines; i++) {
        if (L[i].category != MS_CAT_DRUG) continue;
        const ms_kb_item_t *it = item_of(x->rs, L[i].item);
        if (!it || !it->trace_required || !listed(x->c, &L[i])) continue;
        if (L[i].item != last) { /* the item's totals, once per run of its lines */
            int64_t milli = 0;
            scanned = 0;
            for (size_t j = 0; j < c->nlines; j++)
                if (L[j].item == L[i].item && L[j].category == MS_CAT_DRUG) milli += L[j].qty_milli;
            for (size_t t = 0; t < c->ntraces; t++)
                if (c->traces[t].item == L[i].item) scanned += c->traces[t].qty;
            billed = milli > 0 ? (milli + 999) / 1000 : 0;
            last = L[i].item;
        }
        if (scanned < billed) HIT(i, scanned, billed);
    }
    return MS_OK;
}

typedef ms_status_t (*rule_fn)(const ctx_t *x);

static const rule_fn rule_fns[MS_RULE_TEMPLATE_COUNT] = {
    [MS_RULE_SEX] = rule_sex,
    [MS_RULE_AGE] = rule_age,
    [MS_RULE_OVER_QTY] = rule_over_qty,
    [MS_RULE_EXCESS_SUPPLY] = rule_excess_supply,
    [MS_RULE_DUPLICATE] = rule_duplicate,
    [MS_RULE_BED_DAYS] = rule_bed_days,
    [MS_RULE_SCOPE] = rule_scope,
    [MS_RULE_REPEAT_EXAM] = rule_repeat_exam,
    [MS_RULE_SETTING] = rule_setting,
    [MS_RULE_EMPTY_BRUSH] = rule_empty_brush,
};

static inline int hit_before(const ms_rule_hit_t *a, const ms_rule_hit_t *b)
{
    return a->line != b->line ? a->line < b->line : a->rule < b->rule;
}

/* Sort hits by (line, rule): each rule's hits are already in line order,
 * one run per rule, so a bottom-up merge sort over the buffer's second half
 * (no allocation beyond the list's own growth).  Small lists: insertion. */
static ms_status_t sort_hits(ms_rule_hits_t *out)
{
    size_t n = out->n;
    if (n < 2) return MS_OK;
    if (n <= 32) {
        for (size_t i = 1; i < n; i++) {
            ms_rule_hit_t v = out->hit[i];
            size_t j = i;
            while (j > 0 && hit_before(&v, &out->hit[j - 1])) {
                out->hit[j] = out->hit[j - 1];
                j--;
            }
            out->hit[j] = v;
        }
        return MS_OK;
    }
    MS_TRY(grow(out, 2 * n));
    ms_rule_hit_t *a = out->hit, *b = out->hit + n;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t p = lo, q = mid, k = lo;
            while (p < mid && q < hi) b[k++] = hit_before(&a[q], &a[p]) ? a[q++] : a[p++];
            while (p < mid) b[k++] = a[p++];
            while (q < hi) b[k++] = a[q++];
        }
        ms_rule_hit_t *t = a;
        a = b;
        b = t;
    }
    if (a != out->hit) memcpy(out->hit, a, n * sizeof *a);
    return MS_OK;
}

ms_status_t ms_rules_apply(const ms_ruleset_t *rs, const ms_claim_t *c, ms_rule_hits_t *out)
{
    out->n = 0;
    if (!rs || !c) return ms_error_set(MS_E_USAGE, "rules: no rule set or no claim");
    if ((c->nlines && !c->lines) || (c->nhistory && !c->history) || (c->ntraces && !c->traces))
        return ms_error_set(MS_E_USAGE, "rules: claim %llu has lines, history or traces but no array",
                            (unsigned long long)c->settle_id);
    ctx_t x = {rs, NULL, c, 0, out};
    for (size_t r = 0; r < rs->n; r++) {
        x.c = &rs->rule[r];
        x.rule = (uint32_t)r;
        MS_TRY(rule_fns[x.c->r.tmpl](&x));
    }
    return sort_hits(out);
}

void ms_rule_hits_free(ms_rule_hits_t *h)
{
    if (!h) return;
    free(h->hit);
    memset(h, 0, sizeof *h);
}

const ms_knowledge_t *ms_ruleset_knowledge(const ms_ruleset_t *rs) { return rs ? rs->kb : NULL; }
