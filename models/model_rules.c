/*
 * model_rules.c - the rule base over itemised bills in the weekly sweep
 * (MODELS.md section 7; docs/rules.md).
 *
 * The rules themselves live in ms_rules.c, compiled once by the engine from
 * the configuration's `rules` list and the dataset's knowledge base
 * (env->rules); this model hands them the same claims pre-notification
 * does (engine/check), one settlement at a time, so a claim judged before
 * settlement and the same claim judged in the sweep hit the same rules.
 *
 * A claim is a settlement, its bill lines, the packages scanned for it and
 * the person's earlier lines.  The three tables arrive one after another
 * (settlements, drug items, service items), each sorted by person, so the
 * model reads a partition whole (descriptor: whole_partition):
 *   batch (settlements)  the facts a claim needs, per settlement, appended
 *                        in partition order (person, admission, settle_id);
 *   batch (drug items)   the scanned packages of drugs whose packages must
 *                        be scanned, in partition order;
 *   person (service items)  a person's lines are contiguous: per settlement,
 *                        in (admission, settle_id) order, the claim is its
 *                        lines, its packages, and as history the lines of
 *                        the person's settlements before it.
 * Memory: the facts and packages of one partition (about 48 and 24 bytes a
 * row), freed with the state; the partition bounds it.
 *
 * Indicators: one per template.  Per institution, num = its claims
 * (settlements with bill lines) with a line that an enabled rule of the
 * template hits, den = its claims with a line the template could hit (an
 * item the knowledge base restricts that way; an inpatient bed line for
 * bed_days; a drug line with days of supply for excess_supply; a watched
 * category for repeat_exam).  The unit an inspector pulls is the claim,
 * and a share of the claims that could break a rule does not shrink with
 * the length of bills or with what else the institution does.  A clue per violating
 * line and template (once, whatever the instances that hit it):
 * the settlement, the line's date and amount, the line number and the
 * figures behind the hit; for a repeat or a duplicate, the earlier line's
 * settlement and date as its counterpart.
 */
#include <stdlib.h>
#include <string.h>

#include "ms_clues.h"
#include "ms_model.h"
#include "ms_rules.h"
#include "ms_search.h"
#include "ms_tally.h"

#define FACTS {{"line_no", MS_FACT_COUNT}, {"observed", MS_FACT_COUNT}, {"limit", MS_FACT_COUNT}}
#define FACTS_MILLI {{"line_no", MS_FACT_COUNT}, {"observed", MS_FACT_MILLI}, {"limit", MS_FACT_MILLI}}

/* In template order (ms_rule_template_t). */
static const ms_indicator_t indicators[MS_RULE_TEMPLATE_COUNT] = {
    [MS_RULE_SEX] = {.name = "sex",
                     .description = "share of the institution's claims (settlements with bill lines) with a line for an item the "
                                    "knowledge base restricts to the other sex",
                     .kind = MS_IND_SHARE, .direction = +1, .impossible = 1,
                     .reason = "items billed for the wrong sex", .facts = FACTS,
                     .clue_record = "bill line",
                     .num_unit = "claims", .den_unit = "claims"},
    [MS_RULE_AGE] = {.name = "age",
                     .description = "share of claims with a line for an item outside its age range",
                     .kind = MS_IND_SHARE, .direction = +1,
                     .reason = "items billed outside their age range", .facts = FACTS,
                     .clue_record = "bill line",
                     .num_unit = "claims", .den_unit = "claims"},
    [MS_RULE_OVER_QTY] = {.name = "over_qty",
                          .description = "share of claims with a line past an item's daily maximum",
                          .kind = MS_IND_SHARE, .direction = +1,
                          .reason = "units over the daily maximum", .facts = FACTS_MILLI,
                          .clue_record = "bill line",
                     .num_unit = "claims", .den_unit = "claims"},
    [MS_RULE_EXCESS_SUPPLY] = {.name = "excess_supply",
                               .description = "share of claims with a drug line whose days of supply, summed over the window across "
                                              "institutions, exceed the window by more than the tolerance",
                               .kind = MS_IND_SHARE, .direction = +1,
                               .reason = "drugs prescribed beyond the days they cover", .facts = FACTS,
                               .clue_record = "bill line",
                     .num_unit = "claims", .den_unit = "claims"},
    [MS_RULE_DUPLICATE] = {.name = "duplicate",
                           .description = "share of claims with a line for an item billed with a mutually exclusive one "
                                          "for the same person on the same day",
                           .kind = MS_IND_SHARE, .direction = +1,
                           .reason = "mutually exclusive items charged together", .facts = FACTS,
                           .other = "the line it is charged with", .clue_record = "bill line",
                           .num_unit = "claims", .den_unit = "claims"},
    [MS_RULE_BED_DAYS] = {.name = "bed_days",
                          .description = "share of claims with bed-days beyond the stay's length + extra days",
                          .kind = MS_IND_SHARE, .direction = +1,
                          .reason = "bed-days beyond the stay", .facts = FACTS,
                          .clue_record = "bill line",
                     .num_unit = "claims", .den_unit = "claims"},
    [MS_RULE_SCOPE] = {.name = "scope",
                       .description = "share of claims with a line for an item paid only for diagnoses the settlement's main "
                                      "diagnosis is not among",
                       .kind = MS_IND_SHARE, .direction = +1,
                       .reason = "items outside their payment scope", .facts = FACTS,
                       .clue_record = "bill line",
                     .num_unit = "claims", .den_unit = "claims"},
    [MS_RULE_REPEAT_EXAM] = {.name = "repeat_exam",
                             .description = "share of claims with a line repeating an exam or lab item for the same person "
                                            "within the window, at any institution",
                             .kind = MS_IND_SHARE, .direction = +1,
                             .reason = "repeated examinations", .facts = FACTS,
                             .other = "the earlier examination", .clue_record = "bill line",
                             .num_unit = "claims", .den_unit = "claims"},
    [MS_RULE_SETTING] = {.name = "setting",
                         .description = "share of claims with a line for an inpatient-only item billed as outpatient, "
                                        "or the reverse",
                         .kind = MS_IND_SHARE, .direction = +1,
                         .reason = "items billed in the wrong setting", .facts = FACTS,
                         .clue_record = "bill line",
                     .num_unit = "claims", .den_unit = "claims"},
    [MS_RULE_EMPTY_BRUSH] = {.name = "empty_brush",
                             .description = "share of claims with a line for a drug whose packages must be scanned, "
                                            "billed with fewer scanned packages than units",
                             .kind = MS_IND_SHARE, .direction = +1,
                             .reason = "drugs billed without their scanned packages", .facts = FACTS,
                             .clue_record = "bill line",
                     .num_unit = "claims", .den_unit = "claims"},
};

/* What a claim needs of its settlement. */
typedef struct {
    uint64_t person_id, settle_id;
    int64_t fund;
    int32_t admit, discharge, inst, diag;
    uint8_t visit, age, sex;
} fact_t;

/* A scanned package line of a drug whose packages must be scanned. */
typedef struct {
    uint64_t person_id, settle_id;
    int32_t item;
    uint32_t qty;
} pack_t;

typedef struct {
    ms_tally_t t;                 /* first: ms_tally_state_*; one indicator per template */
    const ms_ruleset_t *rules;    /* NULL: no knowledge base, or no rule enabled */
    const ms_refs_t *refs;
    int32_t *item_of;             /* [refs->items.count]: the knowledge base's id of each item code */
    int32_t *drug_of;             /* [refs->drugs.count]: the same for drug codes */
    uint16_t *can;                /* [kb items]: bit t when a line of the item could be hit by template t */
    uint32_t exam_cats;           /* categories some enabled repeat_exam rule watches */
    fact_t *fact;                 /* the partition's settlements, in order */
    size_t nfact, capfact;
    pack_t *pack;
    size_t npack, cappack;
    /* Scratch for one person. */
    ms_rule_line_t *line, *hist;
    size_t capline, caphist;
    ms_rule_trace_t *trace;
    size_t captrace;
    ms_rule_hits_t hits;
} rules_t;

static void rules_free(void *state)
{
    rules_t *s = state;
    if (!s) return;
    ms_tally_free(&s->t);
    free(s->item_of);
    free(s->drug_of);
    free(s->can);
    free(s->fact);
    free(s->pack);
    free(s->line);
    free(s->hist);
    free(s->trace);
    ms_rule_hits_free(&s->hits);
    free(s);
}

/* Which templates a line of each known item could break: a claim counts in
 * a template's denominator when one of its lines could (a share of the
 * records that could be flagged, as every share indicator is). */
static ms_status_t eligibility(rules_t *s, const ms_model_env_t *env)
{
    const ms_knowledge_t *kb = env->kb;
    for (size_t r = 0; env->rules && r < ms_ruleset_count(env->rules); r++) {
        const ms_rule_t *rule = ms_ruleset_rule(env->rules, r);
        if (rule->tmpl == MS_RULE_REPEAT_EXAM) s->exam_cats |= rule->p.categories;
    }
    size_t n = kb ? kb->n_items : 0;
    s->can = calloc(n ? n : 1, sizeof *s->can);
    if (!s->can) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const ms_kb_item_t *it = &kb->items[i];
        uint16_t m = 0;
        if (it->sex != MS_KB_NONE) m |= 1u << MS_RULE_SEX;
        if (it->min_age != MS_KB_NONE || it->max_age != MS_KB_NONE) m |= 1u << MS_RULE_AGE;
        if (it->max_qty_milli != MS_KB_NONE) m |= 1u << MS_RULE_OVER_QTY;
        if (it->ndiag > 0) m |= 1u << MS_RULE_SCOPE;
        if (it->setting != MS_SETTING_ANY) m |= 1u << MS_RULE_SETTING;
        if (it->category == MS_CAT_DRUG && it->trace_required) m |= 1u << MS_RULE_EMPTY_BRUSH;
        s->can[i] = m;
    }
    for (size_t k = 0; kb && k < kb->n_exclusive; k++) {
        s->can[kb->exclusive[k][0]] |= 1u << MS_RULE_DUPLICATE;
        s->can[kb->exclusive[k][1]] |= 1u << MS_RULE_DUPLICATE;
    }
    return MS_OK;
}

/* The templates that could hit one of the claim's lines. */
static uint32_t claim_could(const rules_t *s, const ms_claim_t *c)
{
    uint32_t m = 0;
    for (size_t i = 0; i < c->nlines; i++) {
        const ms_rule_line_t *l = &c->lines[i];
        if (l->category == MS_CAT_BED && c->visit_type == MS_VISIT_INPATIENT) m |= 1u << MS_RULE_BED_DAYS;
        if (l->item < 0) continue; /* the other templates need the item's facts */
        m |= s->can[l->item];
        if (l->category == MS_CAT_DRUG && l->days_supply > 0) m |= 1u << MS_RULE_EXCESS_SUPPLY;
        if (l->category < 32 && (s->exam_cats >> l->category & 1)) m |= 1u << MS_RULE_REPEAT_EXAM;
    }
    return m;
}

static ms_status_t rules_init(const ms_model_env_t *env, void **state)
{
    rules_t *s = calloc(1, sizeof *s);
    if (!s) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_status_t st = ms_tally_init(&s->t, (uint32_t)env->refs->n_inst, MS_RULE_TEMPLATE_COUNT);
    if (st == MS_OK) st = ms_knowledge_ids(env->kb, &env->refs->items, &s->item_of);
    if (st == MS_OK) st = ms_knowledge_ids(env->kb, &env->refs->drugs, &s->drug_of);
    if (st == MS_OK) st = eligibility(s, env);
    if (st != MS_OK) {
        rules_free(s);
        return st;
    }
    s->t.ind = indicators;
    s->t.refs = env->refs;
    s->rules = env->rules;
    s->refs = env->refs;
    *state = s;
    return MS_OK;
}

static ms_status_t rules_batch(void *state, ms_table_id_t table, const ms_batch_t *b, ms_emit_t *emit)
{
    (void)emit;
    rules_t *s = state;
    if (!s->rules) return MS_OK;
    if (table == MS_TABLE_SETTLEMENTS) {
        MS_TRY(ms_grow((void **)&s->fact, &s->capfact, s->nfact + b->rows, sizeof *s->fact, 4096));
        const uint64_t *pid = ms_col(b, MS_SC_person_id), *sid = ms_col(b, MS_SC_settle_id);
        const int32_t *inst = ms_col(b, MS_SC_inst_code), *adm = ms_col(b, MS_SC_admit_date),
                      *dis = ms_col(b, MS_SC_discharge_date), *diag = ms_col(b, MS_SC_diag_main);
        const uint8_t *vt = ms_col(b, MS_SC_visit_type), *age = ms_col(b, MS_SC_age), *sex = ms_col(b, MS_SC_sex);
        const int64_t *fund = ms_col(b, MS_SC_fund_pay);
        for (size_t i = 0; i < b->rows; i++)
            s->fact[s->nfact++] = (fact_t){pid[i], sid[i], fund[i], adm[i], dis[i], inst[i], diag[i], vt[i], age[i],
                                           sex[i]};
    } else if (table == MS_TABLE_DRUG_ITEMS) {
        const uint64_t *pid = ms_col(b, MS_DC_person_id), *sid = ms_col(b, MS_DC_settle_id);
        const int32_t *drug = ms_col(b, MS_DC_drug_code);
        const uint32_t *qty = ms_col(b, MS_DC_qty);
        for (size_t i = 0; i < b->rows; i++) {
            int32_t item = drug[i] >= 0 && (size_t)drug[i] < s->refs->drugs.count ? s->drug_of[drug[i]] : -1;
            if (item < 0) continue; /* no rule reads a package the knowledge base does not list */
            MS_TRY(ms_grow((void **)&s->pack, &s->cappack, s->npack + 1, sizeof *s->pack, 4096));
            s->pack[s->npack++] = (pack_t){pid[i], sid[i], item, qty[i]};
        }
    }
    return MS_OK;
}

/* A person's facts and packages: the first at or after the person
 * (ms_lower_bound, by person_id). */
typedef struct {
    const rules_t *s;
    uint64_t person;
} find_t;

static int fact_below(const void *ctx, size_t i)
{
    const find_t *f = ctx;
    return f->s->fact[i].person_id < f->person;
}

static int pack_below(const void *ctx, size_t i)
{
    const find_t *f = ctx;
    return f->s->pack[i].person_id < f->person;
}

/* One violating line: counted once per template, a clue per hit. */
static ms_status_t record_hit(rules_t *s, const ms_claim_t *c, const fact_t *f, const ms_rule_hit_t *h,
                              uint8_t *seen_line, uint8_t *seen_claim)
{
    const ms_rule_t *r = ms_ruleset_rule(s->rules, h->rule);
    int t = (int)r->tmpl;
    const ms_rule_line_t *l = &c->lines[h->line];
    uint32_t inst = (uint32_t)l->inst;
    if (!seen_claim[t]) {
        (*ms_tally_num(&s->t, t, (uint32_t)f->inst))++;
        seen_claim[t] = 1;
    }
    /* A line hit by two instances of one template is one clue. */
    if (seen_line[t]) return MS_OK;
    seen_line[t] = 1;
    ms_clue_t k = ms_clue(c->settle_id, c->person_id, inst, t, l->date, l->amount);
    if (h->other_settle) {
        /* The earlier line's institution: the claim's own, or a history line's. */
        uint32_t oinst = (uint32_t)f->inst;
        for (size_t i = 0; i < c->nhistory; i++)
            if (c->history[i].settle_id == h->other_settle) {
                oinst = (uint32_t)c->history[i].inst;
                break;
            }
        ms_clue_other(&k, h->other_settle, oinst, h->other_date, 0);
    }
    k.fact[0] = l->line_no;
    k.fact[1] = h->observed;
    k.fact[2] = h->limit;
    return ms_clues_add(&s->t.clues, &k);
}

/* hist[0, *nhist) += line[0, nl): both sorted by (date, settle_id,
 * line_no), merged from the back in place (hist has room for the person's
 * every line). */
static void merge_history(rules_t *s, size_t *nhist, size_t nl)
{
    size_t i = *nhist, j = nl, o = *nhist + nl;
    while (j > 0) {
        const ms_rule_line_t *a = i > 0 ? &s->hist[i - 1] : NULL, *b = &s->line[j - 1];
        int a_after = a && (a->date > b->date ||
                            (a->date == b->date && (a->settle_id > b->settle_id ||
                                                    (a->settle_id == b->settle_id && a->line_no > b->line_no))));
        s->hist[--o] = a_after ? s->hist[--i] : s->line[--j];
    }
    *nhist += nl;
}

static ms_status_t rules_person(void *state, ms_table_id_t table, const ms_batch_t *b, size_t begin, size_t end,
                                ms_emit_t *emit)
{
    (void)emit;
    rules_t *s = state;
    if (table != MS_TABLE_SERVICE_ITEMS || !s->rules || begin == end) return MS_OK;
    const uint64_t *pid = ms_col(b, MS_SIC_person_id), *sid = ms_col(b, MS_SIC_settle_id);
    const uint32_t *lno = ms_col(b, MS_SIC_line_no), *doc = ms_col(b, MS_SIC_doctor_id);
    const int32_t *date = ms_col(b, MS_SIC_date), *code = ms_col(b, MS_SIC_item_code),
                  *days = ms_col(b, MS_SIC_days_supply), *inst = ms_col(b, MS_SIC_inst_code);
    const uint8_t *cat = ms_col(b, MS_SIC_category);
    const int64_t *qty = ms_col(b, MS_SIC_qty), *price = ms_col(b, MS_SIC_unit_price), *amt = ms_col(b, MS_SIC_amount);
    uint64_t person = pid[begin];
    size_t n = end - begin;
    MS_TRY(ms_grow((void **)&s->line, &s->capline, n, sizeof *s->line, 64));
    MS_TRY(ms_grow((void **)&s->hist, &s->caphist, n, sizeof *s->hist, 64));
    find_t key = {s, person};
    size_t f0 = ms_lower_bound(s->nfact, fact_below, &key), f1 = f0;
    while (f1 < s->nfact && s->fact[f1].person_id == person) f1++;
    size_t p0 = ms_lower_bound(s->npack, pack_below, &key), p1 = p0;
    while (p1 < s->npack && s->pack[p1].person_id == person) p1++;
    /* Settlements are in (admission, settle_id) order: each is a claim,
     * the lines of those before it its history. */
    size_t nhist = 0;
    for (size_t k = f0; k < f1; k++) {
        const fact_t *f = &s->fact[k];
        size_t nl = 0;
        for (size_t i = begin; i < end; i++) {
            if (sid[i] != f->settle_id) continue;
            int32_t item = code[i] >= 0 && (size_t)code[i] < s->refs->items.count ? s->item_of[code[i]] : -1;
            s->line[nl++] = (ms_rule_line_t){.settle_id = sid[i], .line_no = lno[i], .date = date[i], .item = item,
                                             .item_code = code[i] >= 0 && (size_t)code[i] < s->refs->items.count
                                                              ? s->refs->items.str[code[i]]
                                                              : "",
                                             .category = cat[i], .qty_milli = qty[i], .unit_price = price[i],
                                             .amount = amt[i], .days_supply = days[i], .doctor_id = doc[i],
                                             .inst = inst[i]};
        }
        if (nl == 0) continue;
        size_t nt = 0;
        MS_TRY(ms_grow((void **)&s->trace, &s->captrace, p1 - p0 + 1, sizeof *s->trace, 16));
        for (size_t q = p0; q < p1; q++)
            if (s->pack[q].settle_id == f->settle_id) s->trace[nt++] = (ms_rule_trace_t){s->pack[q].item, s->pack[q].qty};
        const char *diag = f->diag >= 0 && (size_t)f->diag < s->refs->diagnoses.count ? s->refs->diagnoses.str[f->diag]
                                                                                        : "";
        ms_claim_t c = {.settle_id = f->settle_id, .person_id = person, .inst = f->inst, .visit_type = f->visit,
                        .admit_date = f->admit, .discharge_date = f->discharge, .age = f->age, .sex = f->sex,
                        .diag_main = diag, .lines = s->line, .nlines = nl, .traces = s->trace, .ntraces = nt,
                        .history = s->hist, .nhistory = nhist};
        MS_TRY(ms_rules_apply(s->rules, &c, &s->hits));
        /* The claim counts once in the denominator of every template that
         * could hit one of its lines, and once in the numerator of each
         * that does. */
        uint32_t could = claim_could(s, &c);
        uint8_t seen_line[MS_RULE_TEMPLATE_COUNT], seen_claim[MS_RULE_TEMPLATE_COUNT] = {0};
        size_t last = SIZE_MAX;
        for (size_t h = 0; h < s->hits.n; h++) {
            if (s->hits.hit[h].line != last) {
                memset(seen_line, 0, sizeof seen_line);
                last = s->hits.hit[h].line;
            }
            MS_TRY(record_hit(s, &c, f, &s->hits.hit[h], seen_line, seen_claim));
        }
        for (int t = 0; t < MS_RULE_TEMPLATE_COUNT; t++)
            if (could >> t & 1 || seen_claim[t]) (*ms_tally_den(&s->t, t, (uint32_t)f->inst))++;
        /* This claim's lines join the history of the ones after it, which
         * stays in (date, settle_id, line_no) order. */
        merge_history(s, &nhist, nl);
    }
    return MS_OK;
}

static ms_status_t rules_finalize(void *state, const ms_model_env_t *env, ms_model_result_t *res)
{
    (void)env;
    rules_t *s = state;
    return ms_tally_finalize(&s->t, res, 0);
}

const ms_model_t ms_model_rules = {
    .name = "rules",
    .version = "1",
    .description = "the rule base over itemised bills: red lines drawn on each bill line against the knowledge base "
                   "(docs/rules.md)",
    .settlement_cols = 1ull << MS_SC_person_id | 1ull << MS_SC_settle_id | 1ull << MS_SC_inst_code |
                       1ull << MS_SC_admit_date | 1ull << MS_SC_discharge_date | 1ull << MS_SC_diag_main |
                       1ull << MS_SC_visit_type | 1ull << MS_SC_age | 1ull << MS_SC_sex | 1ull << MS_SC_fund_pay,
    .drug_cols = 1ull << MS_DC_person_id | 1ull << MS_DC_settle_id | 1ull << MS_DC_drug_code | 1ull << MS_DC_qty,
    .service_cols = (1ull << MS_SIC_COUNT) - 1, /* every column of a bill line */
    .whole_partition = 1,
    .state_per_row = {[MS_TABLE_SETTLEMENTS] = sizeof(fact_t), [MS_TABLE_DRUG_ITEMS] = sizeof(pack_t)},
    .indicators = indicators,
    .nindicators = MS_RULE_TEMPLATE_COUNT,
    .default_weight = 1,
    .init = rules_init,
    .batch = rules_batch,
    .person = rules_person,
    .merge = ms_tally_state_merge,
    .save = ms_tally_state_save, /* the counts and clues: facts and packages are read again */
    .load = ms_tally_state_load,
    .finalize = rules_finalize,
    .free = rules_free,
};
