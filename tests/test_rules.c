/*
 * test_rules.c - the rule base (models/ms_rules.h, docs/rules.md) on
 * hand-built claims at the edges of every template, and its `rules` section
 * of the rule configuration (engine/ms_config.h).
 *
 * The knowledge base is built by hand (sorted codes, one exclusive pair):
 *   A01  treatment, ages 18..60          B01  bed
 *   C01  exam                            C02  lab
 *   D01  drug, 2 units a day, 30 days a line
 *   D02  drug, trace_required            E01, E02  exclusive
 *   F01  female only                     I01  inpatient only
 *   O01  outpatient only                 S01  diagnoses I10, E11
 * Edges: repeat on day 7 (hit) and 8 (not); exactly the daily maximum and
 * one thousandth over; 117 days of supply in 90 (pass) and 118 (hit);
 * bed-days LOS + 1 and LOS + 2; ages min - 1, min, max, max + 1; and so on.
 * A reference check compares repeat_exam and excess_supply with deliberately
 * naive (quadratic) versions on thousands of random claims and histories.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ms_config.h"
#include "ms_knowledge.h"
#include "ms_rules.h"
#include "ms_schema.h"
#include "ms_testutil.h"

#define D0 20514 /* 2026-03-02 */

/* ------------------------------------------------------ knowledge base */

enum { A01, B01, C01, C02, D01, D02, E01, E02, F01, I01, O01, S01, NITEMS };

static ms_knowledge_t kb;
static uint32_t kb_pairs[1][2];

static void kb_item(int id, const char *code, const char *name, int cat)
{
    ms_kb_item_t *it = &kb.items[id];
    it->item_code = strdup(code);
    it->name = strdup(name);
    it->category = (uint8_t)cat;
    it->sex = MS_KB_NONE;
    it->min_age = it->max_age = MS_KB_NONE;
    it->max_qty_milli = MS_KB_NONE;
    it->max_days_supply = MS_KB_NONE;
    it->setting = MS_SETTING_ANY;
}

static int kb_setup(void **state)
{
    (void)state;
    memset(&kb, 0, sizeof kb);
    kb.n_items = NITEMS;
    kb.items = calloc(NITEMS, sizeof *kb.items);
    kb_item(A01, "A01", "adult therapy", MS_CAT_TREATMENT);
    kb.items[A01].min_age = 18;
    kb.items[A01].max_age = 60;
    kb_item(B01, "B01", "ward bed", MS_CAT_BED);
    kb_item(C01, "C01", "CT scan", MS_CAT_EXAM);
    kb_item(C02, "C02", "blood count", MS_CAT_LAB);
    kb_item(D01, "D01", "metformin", MS_CAT_DRUG);
    kb.items[D01].max_qty_milli = 2000;
    kb.items[D01].max_days_supply = 30;
    kb_item(D02, "D02", "insulin pen", MS_CAT_DRUG);
    kb.items[D02].trace_required = 1;
    kb_item(E01, "E01", "full panel", MS_CAT_LAB);
    kb_item(E02, "E02", "part of panel", MS_CAT_LAB);
    kb_item(F01, "F01", "gynaecological exam", MS_CAT_EXAM);
    kb.items[F01].sex = MS_SEX_F;
    kb_item(I01, "I01", "ward nursing", MS_CAT_NURSING);
    kb.items[I01].setting = MS_SETTING_INPATIENT;
    kb_item(O01, "O01", "clinic fee", MS_CAT_OTHER);
    kb.items[O01].setting = MS_SETTING_OUTPATIENT;
    kb_item(S01, "S01", "statin", MS_CAT_DRUG);
    kb.items[S01].ndiag = 2;
    kb.items[S01].diag = calloc(2, sizeof(char *));
    kb.items[S01].diag[0] = strdup("I10");
    kb.items[S01].diag[1] = strdup("E11");
    kb_pairs[0][0] = E01;
    kb_pairs[0][1] = E02;
    kb.exclusive = kb_pairs;
    kb.n_exclusive = 1;
    for (int i = 0; i < NITEMS; i++) assert_int_equal(ms_knowledge_find(&kb, kb.items[i].item_code, 3), i);
    return 0;
}

static int kb_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < kb.n_items; i++) {
        free(kb.items[i].item_code);
        free(kb.items[i].name);
        for (size_t k = 0; k < kb.items[i].ndiag; k++) free(kb.items[i].diag[k]);
        free(kb.items[i].diag);
    }
    free(kb.items);
    memset(&kb, 0, sizeof kb);
    return 0;
}

/* -------------------------------------------------------------- claims */

typedef struct {
    ms_claim_t c;
    ms_rule_line_t line[256], hist[256];
    ms_rule_trace_t trace[16];
} claim_t;

static void claim_init(claim_t *cl, int visit, int32_t admit, int32_t discharge)
{
    memset(cl, 0, sizeof *cl);
    cl->c.settle_id = 1000;
    cl->c.person_id = 42;
    cl->c.inst = 3;
    cl->c.visit_type = (uint8_t)visit;
    cl->c.admit_date = admit;
    cl->c.discharge_date = discharge;
    cl->c.age = 40;
    cl->c.sex = MS_SEX_M;
    cl->c.diag_main = "J18.9";
}

static ms_rule_line_t mkline(uint64_t settle, uint32_t line_no, int32_t date, const char *code, int cat,
                             int64_t qty_milli, int32_t days_supply)
{
    ms_rule_line_t l;
    memset(&l, 0, sizeof l);
    l.settle_id = settle;
    l.line_no = line_no;
    l.date = date;
    l.item = ms_knowledge_find(&kb, code, strlen(code));
    l.item_code = code;
    l.category = (uint8_t)cat;
    l.qty_milli = qty_milli;
    l.unit_price = 100000;
    l.amount = qty_milli / 10;
    l.days_supply = days_supply;
    l.inst = 3;
    return l;
}

/* A line of the claim (appended: callers add them in (date, line_no) order). */
static size_t add(claim_t *cl, int32_t date, const char *code, int cat, int64_t qty_milli, int32_t days_supply)
{
    size_t i = cl->c.nlines++;
    cl->line[i] = mkline(cl->c.settle_id, (uint32_t)i + 1, date, code, cat, qty_milli, days_supply);
    return i;
}

/* A line of the person's history (appended in (date, settle_id, line_no) order). */
static void add_hist(claim_t *cl, uint64_t settle, int32_t date, const char *code, int cat, int64_t qty_milli,
                     int32_t days_supply)
{
    size_t i = cl->c.nhistory++;
    cl->hist[i] = mkline(settle, (uint32_t)i + 1, date, code, cat, qty_milli, days_supply);
}

static void add_trace(claim_t *cl, const char *code, uint32_t qty)
{
    cl->trace[cl->c.ntraces].item = ms_knowledge_find(&kb, code, strlen(code));
    cl->trace[cl->c.ntraces++].qty = qty;
}

static void apply(const ms_ruleset_t *rs, claim_t *cl, ms_rule_hits_t *h)
{
    cl->c.lines = cl->line;
    cl->c.history = cl->hist;
    cl->c.traces = cl->trace;
    assert_int_equal(ms_rules_apply(rs, &cl->c, h), MS_OK);
    for (size_t k = 1; k < h->n; k++)
        assert_true(h->hit[k - 1].line < h->hit[k].line ||
                    (h->hit[k - 1].line == h->hit[k].line && h->hit[k - 1].rule < h->hit[k].rule));
}

/* --------------------------------------------------------------- rules */

/* A rule set of one instance of template t (defaults), changed by the
 * caller through *r before compiling when set is given. */
typedef void (*tweak_t)(ms_rule_t *r);

static ms_ruleset_t *one_rule(int t, tweak_t tweak)
{
    ms_rules_config_t rc = {1, calloc(1, sizeof(ms_rule_t))};
    assert_int_equal(ms_rule_init(&rc.rule[0], t, NULL), MS_OK);
    if (tweak) tweak(&rc.rule[0]);
    ms_ruleset_t *rs = NULL;
    assert_int_equal(ms_ruleset_compile(&rc, &kb, &rs), MS_OK);
    ms_rules_config_free(&rc);
    return rs;
}

static ms_ruleset_t *all_rules(void)
{
    ms_rules_config_t rc;
    assert_int_equal(ms_rules_defaults(&rc), MS_OK);
    assert_int_equal(rc.n, MS_RULE_TEMPLATE_COUNT);
    ms_ruleset_t *rs = NULL;
    assert_int_equal(ms_ruleset_compile(&rc, &kb, &rs), MS_OK);
    ms_rules_config_free(&rc);
    assert_int_equal(ms_ruleset_count(rs), MS_RULE_TEMPLATE_COUNT);
    return rs;
}

static void is_hit(const ms_rule_hits_t *h, size_t k, uint32_t rule, uint32_t line, int64_t observed, int64_t limit)
{
    assert_true(k < h->n);
    if (h->hit[k].rule != rule || h->hit[k].line != line || h->hit[k].observed != observed ||
        h->hit[k].limit != limit)
        print_error("hit %zu: rule %u line %u observed %lld limit %lld; wanted rule %u line %u observed %lld limit "
                    "%lld\n",
                    k, h->hit[k].rule, h->hit[k].line, (long long)h->hit[k].observed, (long long)h->hit[k].limit, rule,
                    line, (long long)observed, (long long)limit);
    assert_int_equal(h->hit[k].rule, rule);
    assert_int_equal(h->hit[k].line, line);
    assert_int_equal(h->hit[k].observed, observed);
    assert_int_equal(h->hit[k].limit, limit);
}

/* The reason of hit k in both languages contains every piece (NULL-ended
 * lists: zh pieces, then NULL, then en pieces, then NULL). */
static void reason_has(const ms_ruleset_t *rs, const claim_t *cl, const ms_rule_hit_t *h, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, h);
    const char *langs[] = {"zh", "en"};
    for (int l = 0; l < 2; l++) {
        ms_rule_hit_reason(rs, &cl->c, h, langs[l], buf, sizeof buf);
        for (const char *p = va_arg(ap, const char *); p; p = va_arg(ap, const char *)) ms_test_contains(buf, p);
    }
    va_end(ap);
}

/* ------------------------------------------------------------ templates */

static void test_sex(void **state)
{
    (void)state;
    ms_ruleset_t *rs = one_rule(MS_RULE_SEX, NULL);
    ms_rule_hits_t h = {0};
    claim_t cl;
    claim_init(&cl, MS_VISIT_OUTPATIENT, D0, D0);
    add(&cl, D0, "C01", MS_CAT_EXAM, 1000, 0);
    add(&cl, D0, "F01", MS_CAT_EXAM, 1000, 0);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 1);
    is_hit(&h, 0, 0, 1, MS_SEX_M, MS_SEX_F);
    reason_has(rs, &cl, &h.hit[0], "F01", "女", "男", NULL, "F01", "female", "male", NULL);
    cl.c.sex = MS_SEX_F;
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 0);
    ms_rule_hits_free(&h);
    ms_ruleset_free(rs);
}

static void test_age(void **state)
{
    (void)state;
    ms_ruleset_t *rs = one_rule(MS_RULE_AGE, NULL);
    ms_rule_hits_t h = {0};
    claim_t cl;
    claim_init(&cl, MS_VISIT_OUTPATIENT, D0, D0);
    add(&cl, D0, "A01", MS_CAT_TREATMENT, 1000, 0);
    const int ages[] = {17, 18, 60, 61, 0, 120};
    const int hits[] = {1, 0, 0, 1, 1, 1};
    const int limits[] = {18, 0, 0, 60, 18, 60};
    for (int k = 0; k < 6; k++) {
        cl.c.age = (uint8_t)ages[k];
        apply(rs, &cl, &h);
        assert_int_equal(h.n, hits[k]);
        if (hits[k]) is_hit(&h, 0, 0, 0, ages[k], limits[k]);
    }
    cl.c.age = 17;
    apply(rs, &cl, &h);
    reason_has(rs, &cl, &h.hit[0], "A01", "17", "18", NULL, "aged 18 or over", "aged 17", NULL);
    cl.c.age = 61;
    apply(rs, &cl, &h);
    reason_has(rs, &cl, &h.hit[0], "61", "60 岁及以下", NULL, "aged 60 or under", "aged 61", NULL);
    ms_rule_hits_free(&h);
    ms_ruleset_free(rs);
}

static void test_over_qty(void **state)
{
    (void)state;
    ms_ruleset_t *rs = one_rule(MS_RULE_OVER_QTY, NULL);
    ms_rule_hits_t h = {0};
    claim_t cl;
    /* Exactly the daily maximum (2.000) in two lines: passes. */
    claim_init(&cl, MS_VISIT_INPATIENT, D0, D0 + 3);
    add(&cl, D0, "D01", MS_CAT_DRUG, 1000, 0);
    add(&cl, D0, "C01", MS_CAT_EXAM, 1000, 0);
    add(&cl, D0, "D01", MS_CAT_DRUG, 1000, 0);
    add(&cl, D0 + 1, "D01", MS_CAT_DRUG, 2000, 0); /* another day: its own maximum */
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 0);
    /* One thousandth over: the crossing line and every later one of the day. */
    cl.line[2].qty_milli = 1001;
    add(&cl, D0 + 1, "D01", MS_CAT_DRUG, 1, 0);
    cl.line[3].date = D0; /* (date order kept: lines 0..3 on D0, 4 on D0 + 1) */
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 2);
    is_hit(&h, 0, 0, 2, 2001, 2000);
    is_hit(&h, 1, 0, 3, 4001, 2000);
    reason_has(rs, &cl, &h.hit[0], "D01", "2026-03-02", "2.001", "2.000", NULL, "2.001 units of D01", "2026-03-02",
               "daily maximum 2.000", NULL);
    /* The next day starts again: 0.001 passes. */
    ms_rule_hits_free(&h);
    ms_ruleset_free(rs);
}

static void test_excess_supply(void **state)
{
    (void)state;
    ms_ruleset_t *rs = one_rule(MS_RULE_EXCESS_SUPPLY, NULL);
    ms_rule_hits_t h = {0};
    claim_t cl;
    claim_init(&cl, MS_VISIT_PHARMACY, D0, D0);
    /* 90 days in the window (D0 - 89 .. D0) at other pharmacies, one line
     * just outside it (D0 - 90). */
    add_hist(&cl, 10, D0 - 90, "D01", MS_CAT_DRUG, 1000, 30);
    add_hist(&cl, 11, D0 - 89, "D01", MS_CAT_DRUG, 1000, 30);
    add_hist(&cl, 12, D0 - 50, "D01", MS_CAT_DRUG, 1000, 30);
    add_hist(&cl, 12, D0 - 50, "C01", MS_CAT_EXAM, 1000, 0);
    add_hist(&cl, 13, D0 - 20, "D01", MS_CAT_DRUG, 1000, 30);
    add_hist(&cl, 14, D0 + 1, "D01", MS_CAT_DRUG, 1000, 30); /* later: not in L's window */
    add(&cl, D0, "D01", MS_CAT_DRUG, 1000, 27);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 0); /* 117 days: 130% */
    cl.line[0].days_supply = 28;
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 1); /* 118 days: 131% */
    is_hit(&h, 0, 0, 0, 118, 117);
    reason_has(rs, &cl, &h.hit[0], "D01", "118", "117", "90", NULL, "118 days of supply", "in the 90 days to 2026-03-02",
               "at most 117", NULL);
    /* The claim's own lines count up to L: 27 + 1 over two lines. */
    cl.line[0].days_supply = 27;
    add(&cl, D0, "D01", MS_CAT_DRUG, 1000, 1);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 1);
    is_hit(&h, 0, 0, 1, 118, 117);
    /* One line above the drug's 30 days a line, with no history. */
    claim_init(&cl, MS_VISIT_PHARMACY, D0, D0);
    add(&cl, D0, "D01", MS_CAT_DRUG, 1000, 30);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 0);
    cl.line[0].days_supply = 31;
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 1);
    is_hit(&h, 0, 0, 0, 31, 30);
    reason_has(rs, &cl, &h.hit[0], "31", "30", "单次", NULL, "31 days of supply of D01", "in one line", "at most 30",
               NULL);
    /* days_supply not stated, or not a drug line: not judged. */
    cl.line[0].days_supply = 0;
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 0);
    cl.line[0].days_supply = 200;
    cl.line[0].category = MS_CAT_OTHER;
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 0);
    ms_rule_hits_free(&h);
    ms_ruleset_free(rs);
}

static void test_duplicate(void **state)
{
    (void)state;
    ms_ruleset_t *rs = one_rule(MS_RULE_DUPLICATE, NULL);
    ms_rule_hits_t h = {0};
    claim_t cl;
    /* Within the claim: the later line. */
    claim_init(&cl, MS_VISIT_OUTPATIENT, D0, D0);
    add(&cl, D0, "E02", MS_CAT_LAB, 1000, 0);
    add(&cl, D0, "C01", MS_CAT_EXAM, 1000, 0);
    add(&cl, D0, "E01", MS_CAT_LAB, 1000, 0);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 1);
    is_hit(&h, 0, 0, 2, 0, 0);
    assert_int_equal(h.hit[0].other_item, E02);
    assert_int_equal(h.hit[0].other_date, D0);
    assert_int_equal(h.hit[0].other_settle, 1000);
    reason_has(rs, &cl, &h.hit[0], "E01", "E02", "2026-03-02", "1000", NULL, "E01 (full panel) billed with E02",
               "on 2026-03-02", "settlement 1000", NULL);
    /* Against a history line of the same day (another settlement). */
    claim_init(&cl, MS_VISIT_OUTPATIENT, D0, D0);
    add_hist(&cl, 77, D0 - 1, "E02", MS_CAT_LAB, 1000, 0); /* the day before: not a duplicate */
    add(&cl, D0, "E01", MS_CAT_LAB, 1000, 0);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 0);
    add_hist(&cl, 78, D0, "E02", MS_CAT_LAB, 1000, 0);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 1);
    is_hit(&h, 0, 0, 0, 0, 0);
    assert_int_equal(h.hit[0].other_settle, 78);
    assert_int_equal(h.hit[0].other_item, E02);
    /* Not on the next day of one claim either. */
    claim_init(&cl, MS_VISIT_INPATIENT, D0, D0 + 2);
    add(&cl, D0, "E01", MS_CAT_LAB, 1000, 0);
    add(&cl, D0 + 1, "E02", MS_CAT_LAB, 1000, 0);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 0);
    ms_rule_hits_free(&h);
    ms_ruleset_free(rs);
}

static void test_bed_days(void **state)
{
    (void)state;
    ms_ruleset_t *rs = one_rule(MS_RULE_BED_DAYS, NULL);
    ms_rule_hits_t h = {0};
    claim_t cl;
    claim_init(&cl, MS_VISIT_INPATIENT, D0, D0 + 10); /* LOS 10: at most 11 bed-days */
    add(&cl, D0, "B01", MS_CAT_BED, 5000, 0);
    add(&cl, D0 + 4, "C01", MS_CAT_EXAM, 1000, 0);
    add(&cl, D0 + 5, "B01", MS_CAT_BED, 5000, 0);
    add(&cl, D0 + 10, "B01", MS_CAT_BED, 1000, 0);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 0); /* LOS + 1 */
    add(&cl, D0 + 10, "ZZBED", MS_CAT_BED, 500, 0); /* an unknown bed item counts too: 11.5 -> 12 */
    add(&cl, D0 + 10, "B01", MS_CAT_BED, 500, 0);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 2); /* LOS + 2, from the crossing line on */
    is_hit(&h, 0, 0, 4, 12, 11);
    is_hit(&h, 1, 0, 5, 12, 11);
    reason_has(rs, &cl, &h.hit[0], "12", "10", "11", NULL, "12 bed-days", "a stay of 10 days", "at most 11", NULL);
    /* Not an inpatient claim: not judged. */
    cl.c.visit_type = MS_VISIT_OUTPATIENT;
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 0);
    ms_rule_hits_free(&h);
    ms_ruleset_free(rs);
}

static void test_scope(void **state)
{
    (void)state;
    ms_ruleset_t *rs = one_rule(MS_RULE_SCOPE, NULL);
    ms_rule_hits_t h = {0};
    claim_t cl;
    claim_init(&cl, MS_VISIT_OUTPATIENT, D0, D0);
    add(&cl, D0, "S01", MS_CAT_DRUG, 1000, 30);
    add(&cl, D0, "D01", MS_CAT_DRUG, 1000, 30); /* no diagnoses listed: any */
    const char *diags[] = {"I10", "I10.x00", "E11.9", "J18.9", "I1", "", "e11"};
    const int hits[] = {0, 0, 0, 1, 1, 1, 1};
    for (int k = 0; k < 7; k++) {
        cl.c.diag_main = diags[k];
        apply(rs, &cl, &h);
        assert_int_equal(h.n, hits[k]);
        if (hits[k]) is_hit(&h, 0, 0, 0, 0, 0);
    }
    cl.c.diag_main = "J18.9";
    apply(rs, &cl, &h);
    reason_has(rs, &cl, &h.hit[0], "S01", "I10;E11", "J18.9", NULL, "paid only for diagnoses I10;E11",
               "main diagnosis J18.9", NULL);
    ms_rule_hits_free(&h);
    ms_ruleset_free(rs);
}

static void test_repeat_exam(void **state)
{
    (void)state;
    ms_ruleset_t *rs = one_rule(MS_RULE_REPEAT_EXAM, NULL);
    ms_rule_hits_t h = {0};
    claim_t cl;
    /* Day 8: not a repeat; day 7: a repeat. */
    claim_init(&cl, MS_VISIT_OUTPATIENT, D0, D0);
    add_hist(&cl, 20, D0 - 8, "C01", MS_CAT_EXAM, 1000, 0);
    add(&cl, D0, "C01", MS_CAT_EXAM, 1000, 0);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 0);
    add_hist(&cl, 21, D0 - 7, "C01", MS_CAT_EXAM, 1000, 0);
    add_hist(&cl, 22, D0 - 3, "C02", MS_CAT_LAB, 1000, 0); /* another item */
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 1);
    is_hit(&h, 0, 0, 0, 7, 7);
    assert_int_equal(h.hit[0].other_date, D0 - 7);
    assert_int_equal(h.hit[0].other_settle, 21);
    reason_has(rs, &cl, &h.hit[0], "C01", "2026-02-23", "21", "7 天", NULL, "C01 (CT scan) on 2026-03-02",
               "7 days after", "2026-02-23", "settlement 21", "within 7 days", NULL);
    /* The same day at another settlement: a repeat (0 days). */
    add_hist(&cl, 23, D0, "C01", MS_CAT_EXAM, 1000, 0);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 1);
    is_hit(&h, 0, 0, 0, 0, 7);
    assert_int_equal(h.hit[0].other_settle, 23);
    /* Twice on one date of one claim: over_qty's business. */
    claim_init(&cl, MS_VISIT_INPATIENT, D0 - 3, D0);
    add(&cl, D0 - 3, "C01", MS_CAT_EXAM, 1000, 0);
    add(&cl, D0 - 3, "C01", MS_CAT_EXAM, 1000, 0);
    add(&cl, D0 - 3, "D01", MS_CAT_DRUG, 1000, 0); /* not an exam or lab category */
    add(&cl, D0, "D01", MS_CAT_DRUG, 1000, 0);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 0);
    /* Within the claim on a later date: the latest earlier line. */
    add(&cl, D0, "C01", MS_CAT_EXAM, 1000, 0);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 1);
    is_hit(&h, 0, 0, 4, 3, 7);
    assert_int_equal(h.hit[0].other_settle, 1000);
    assert_int_equal(h.hit[0].other_date, D0 - 3);
    ms_rule_hits_free(&h);
    ms_ruleset_free(rs);
}

static void test_setting(void **state)
{
    (void)state;
    ms_ruleset_t *rs = one_rule(MS_RULE_SETTING, NULL);
    ms_rule_hits_t h = {0};
    claim_t cl;
    claim_init(&cl, MS_VISIT_OUTPATIENT, D0, D0);
    add(&cl, D0, "I01", MS_CAT_NURSING, 1000, 0);
    add(&cl, D0, "O01", MS_CAT_OTHER, 1000, 0);
    add(&cl, D0, "C01", MS_CAT_EXAM, 1000, 0);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 1);
    is_hit(&h, 0, 0, 0, MS_VISIT_OUTPATIENT, MS_SETTING_INPATIENT);
    reason_has(rs, &cl, &h.hit[0], "I01", "限住院使用", "门诊", NULL, "I01", "for inpatient use only",
               "billed as outpatient", NULL);
    cl.c.visit_type = MS_VISIT_INPATIENT;
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 1);
    is_hit(&h, 0, 0, 1, MS_VISIT_INPATIENT, MS_SETTING_OUTPATIENT);
    reason_has(rs, &cl, &h.hit[0], "O01", "限门诊使用", "住院", NULL, "for outpatient use only", "billed as inpatient",
               NULL);
    cl.c.visit_type = MS_VISIT_PHARMACY; /* not inpatient: the inpatient-only item */
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 1);
    is_hit(&h, 0, 0, 0, MS_VISIT_PHARMACY, MS_SETTING_INPATIENT);
    ms_rule_hits_free(&h);
    ms_ruleset_free(rs);
}

static void test_empty_brush(void **state)
{
    (void)state;
    ms_ruleset_t *rs = one_rule(MS_RULE_EMPTY_BRUSH, NULL);
    ms_rule_hits_t h = {0};
    claim_t cl;
    claim_init(&cl, MS_VISIT_PHARMACY, D0, D0);
    add(&cl, D0, "D02", MS_CAT_DRUG, 1500, 0);
    add(&cl, D0, "D01", MS_CAT_DRUG, 5000, 0); /* not trace_required */
    add(&cl, D0, "D02", MS_CAT_DRUG, 1000, 0); /* 2.5 units: 3 whole units billed */
    add_trace(&cl, "D01", 1);
    add_trace(&cl, "D02", 2);
    add_trace(&cl, "D02", 1);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 0); /* enough packages */
    cl.c.ntraces = 2;         /* two of three */
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 2);
    is_hit(&h, 0, 0, 0, 2, 3);
    is_hit(&h, 1, 0, 2, 2, 3);
    reason_has(rs, &cl, &h.hit[0], "D02", "3 单位", "2 盒", NULL, "3 units of D02", "2 packages scanned", NULL);
    cl.c.ntraces = 0; /* none at all */
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 2);
    is_hit(&h, 0, 0, 0, 0, 3);
    ms_rule_hits_free(&h);
    ms_ruleset_free(rs);
}

static void list_c02(ms_rule_t *r)
{
    r->p.nitems = 2;
    r->p.items = calloc(2, sizeof(char *));
    r->p.items[0] = strdup("C02");
    r->p.items[1] = strdup("ZZ9"); /* not in the knowledge base: matched as text */
}

static void test_items_list(void **state)
{
    (void)state;
    ms_ruleset_t *rs = one_rule(MS_RULE_REPEAT_EXAM, list_c02);
    ms_rule_hits_t h = {0};
    claim_t cl;
    claim_init(&cl, MS_VISIT_OUTPATIENT, D0, D0);
    add_hist(&cl, 20, D0 - 2, "C01", MS_CAT_EXAM, 1000, 0);
    add_hist(&cl, 20, D0 - 2, "C02", MS_CAT_LAB, 1000, 0);
    add(&cl, D0, "C01", MS_CAT_EXAM, 1000, 0);
    add(&cl, D0, "C02", MS_CAT_LAB, 1000, 0);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 1);
    is_hit(&h, 0, 0, 1, 2, 7);
    ms_ruleset_free(rs);
    /* bed_days reads no item facts: a listed unknown code counts. */
    rs = one_rule(MS_RULE_BED_DAYS, list_c02);
    claim_init(&cl, MS_VISIT_INPATIENT, D0, D0 + 1);
    add(&cl, D0, "B01", MS_CAT_BED, 5000, 0); /* not listed: not counted */
    add(&cl, D0, "ZZ9", MS_CAT_BED, 2000, 0);
    add(&cl, D0 + 1, "ZZ9", MS_CAT_BED, 1000, 0);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 1);
    is_hit(&h, 0, 0, 2, 3, 2);
    ms_rule_hits_free(&h);
    ms_ruleset_free(rs);
}

static void disable(ms_rule_t *r) { r->enabled = 0; }

static void test_disabled(void **state)
{
    (void)state;
    ms_ruleset_t *rs = one_rule(MS_RULE_SEX, disable);
    assert_int_equal(ms_ruleset_count(rs), 0);
    ms_rule_hits_t h = {0};
    claim_t cl;
    claim_init(&cl, MS_VISIT_OUTPATIENT, D0, D0);
    add(&cl, D0, "F01", MS_CAT_EXAM, 1000, 0);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 0);
    ms_rule_hits_free(&h);
    ms_ruleset_free(rs);
}

static void test_two_instances(void **state)
{
    (void)state;
    ms_rules_config_t rc = {3, calloc(3, sizeof(ms_rule_t))};
    assert_int_equal(ms_rule_init(&rc.rule[0], MS_RULE_REPEAT_EXAM, NULL), MS_OK);
    assert_int_equal(ms_rule_init(&rc.rule[1], MS_RULE_SEX, "sex_off"), MS_OK);
    rc.rule[1].enabled = 0;
    assert_int_equal(ms_rule_init(&rc.rule[2], MS_RULE_REPEAT_EXAM, "repeat_30d"), MS_OK);
    rc.rule[2].p.window_days = 30;
    ms_ruleset_t *rs = NULL;
    assert_int_equal(ms_ruleset_compile(&rc, &kb, &rs), MS_OK);
    assert_int_equal(ms_ruleset_count(rs), 2);
    assert_string_equal(ms_ruleset_rule(rs, 0)->name, "repeat_exam");
    assert_string_equal(ms_ruleset_rule(rs, 1)->name, "repeat_30d");
    assert_int_equal(ms_ruleset_rule(rs, 1)->p.window_days, 30);
    /* The same name twice is refused. */
    free(rc.rule[2].name);
    rc.rule[2].name = strdup("repeat_exam");
    ms_ruleset_t *bad = NULL;
    assert_int_equal(ms_ruleset_compile(&rc, &kb, &bad), MS_E_USAGE);
    ms_test_contains(ms_error_detail(), "'repeat_exam' is used twice");
    assert_null(bad);
    rc.rule[2].p.window_days = 0;
    free(rc.rule[2].name);
    rc.rule[2].name = strdup("repeat_0d");
    assert_int_equal(ms_ruleset_compile(&rc, &kb, &bad), MS_E_USAGE);
    ms_test_contains(ms_error_detail(), "window_days 0 is out of range");
    ms_rules_config_free(&rc);

    ms_rule_hits_t h = {0};
    claim_t cl;
    claim_init(&cl, MS_VISIT_OUTPATIENT, D0, D0);
    add_hist(&cl, 20, D0 - 20, "C01", MS_CAT_EXAM, 1000, 0);
    add(&cl, D0, "C01", MS_CAT_EXAM, 1000, 0);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 1);
    is_hit(&h, 0, 1, 0, 20, 30);
    reason_has(rs, &cl, &h.hit[0], "[repeat_30d]", "20", NULL, "[repeat_30d]", "within 30 days", NULL);
    add_hist(&cl, 21, D0 - 5, "C01", MS_CAT_EXAM, 1000, 0);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 2);
    is_hit(&h, 0, 0, 0, 5, 7);
    is_hit(&h, 1, 1, 0, 5, 30);
    char buf[512];
    ms_rule_hit_reason(rs, &cl.c, &h.hit[0], "en", buf, sizeof buf);
    assert_null(strchr(buf, '[')); /* the template's own instance says no name */
    ms_rule_hits_free(&h);
    ms_ruleset_free(rs);
}

static void test_unknown_item(void **state)
{
    (void)state;
    ms_ruleset_t *rs = all_rules();
    ms_rule_hits_t h = {0};
    claim_t cl;
    claim_init(&cl, MS_VISIT_OUTPATIENT, D0, D0);
    add_hist(&cl, 20, D0 - 1, "ZZ1", MS_CAT_EXAM, 1000, 0);
    add_hist(&cl, 20, D0, "ZZ2", MS_CAT_DRUG, 1000, 500);
    add(&cl, D0, "ZZ1", MS_CAT_EXAM, 99000, 0);
    add(&cl, D0, "ZZ2", MS_CAT_DRUG, 99000, 500);
    assert_int_equal(cl.line[0].item, -1);
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 0);
    /* An item id the knowledge base does not have is unknown too. */
    cl.line[0].item = NITEMS + 5;
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 0);
    ms_rule_hits_free(&h);
    ms_ruleset_free(rs);
    /* No knowledge base at all: only bed_days can judge. */
    ms_rules_config_t rc;
    assert_int_equal(ms_rules_defaults(&rc), MS_OK);
    assert_int_equal(ms_ruleset_compile(&rc, NULL, &rs), MS_OK);
    ms_rules_config_free(&rc);
    claim_init(&cl, MS_VISIT_INPATIENT, D0, D0);
    add(&cl, D0, "B01", MS_CAT_BED, 3000, 0);
    cl.line[0].item = -1;
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 1);
    assert_string_equal(ms_ruleset_rule(rs, h.hit[0].rule)->name, "bed_days");
    ms_rule_hits_free(&h);
    ms_ruleset_free(rs);
}

/* Every template at once, on many lines: hits sorted by (line, rule). */
static void test_many_hits_sorted(void **state)
{
    (void)state;
    ms_ruleset_t *rs = all_rules();
    ms_rule_hits_t h = {0};
    claim_t cl;
    claim_init(&cl, MS_VISIT_OUTPATIENT, D0, D0);
    cl.c.age = 70;
    for (int k = 0; k < 40; k++) {
        add(&cl, D0, "F01", MS_CAT_EXAM, 1000, 0);   /* sex */
        add(&cl, D0, "A01", MS_CAT_TREATMENT, 1000, 0); /* age */
        add(&cl, D0, "I01", MS_CAT_NURSING, 1000, 0);   /* setting */
    }
    add_hist(&cl, 5, D0 - 1, "F01", MS_CAT_EXAM, 1000, 0); /* every F01 line a repeat */
    apply(rs, &cl, &h);
    assert_int_equal(h.n, 160);
    for (size_t k = 0; k < h.n; k++) {
        const char *name = ms_ruleset_rule(rs, h.hit[k].rule)->name;
        int kind = (int)(h.hit[k].line % 3);
        assert_string_equal(name, kind == 0 ? (k % 4 == 0 ? "sex" : "repeat_exam") : kind == 1 ? "age" : "setting");
    }
    ms_rule_hits_free(&h);
    ms_ruleset_free(rs);
}

/* ------------------------------------------------ the naive reference */

static int before(const ms_rule_line_t *a, const ms_rule_line_t *b)
{
    if (a->date != b->date) return a->date < b->date;
    if (a->settle_id != b->settle_id) return a->settle_id < b->settle_id;
    return a->line_no < b->line_no;
}

static int known(int32_t item) { return item >= 0 && item < (int32_t)kb.n_items; }

/* repeat_exam, quadratic: any earlier line of the same item within the
 * window, the latest of them. */
static int naive_repeat(const claim_t *cl, size_t i, int32_t w, uint32_t cats, ms_rule_hit_t *out)
{
    const ms_rule_line_t *L = &cl->line[i], *best = NULL;
    if (!(cats >> L->category & 1u) || !known(L->item)) return 0;
    for (size_t k = 0; k < cl->c.nhistory; k++) {
        const ms_rule_line_t *o = &cl->hist[k];
        int32_t gap = L->date - o->date;
        if (o->item == L->item && gap >= 0 && gap <= w && (!best || before(best, o))) best = o;
    }
    for (size_t k = 0; k < cl->c.nlines; k++) {
        const ms_rule_line_t *o = &cl->line[k];
        int32_t gap = L->date - o->date;
        if (o->item == L->item && gap >= 1 && gap <= w && (!best || before(best, o))) best = o;
    }
    if (!best) return 0;
    out->observed = L->date - best->date;
    out->limit = w;
    out->other_date = best->date;
    out->other_settle = best->settle_id;
    out->other_item = -1;
    return 1;
}

/* excess_supply, quadratic. */
static int naive_supply(const claim_t *cl, size_t i, int32_t w, int32_t tol, ms_rule_hit_t *out)
{
    const ms_rule_line_t *L = &cl->line[i];
    if (L->category != MS_CAT_DRUG || L->days_supply <= 0 || !known(L->item)) return 0;
    int64_t supply = 0;
    for (size_t k = 0; k < cl->c.nhistory; k++) {
        const ms_rule_line_t *o = &cl->hist[k];
        if (o->item == L->item && o->date > L->date - w && o->date <= L->date && o->days_supply > 0)
            supply += o->days_supply;
    }
    for (size_t k = 0; k < cl->c.nlines; k++) {
        const ms_rule_line_t *o = &cl->line[k];
        int upto = o->date < L->date || (o->date == L->date && o->line_no <= L->line_no);
        if (o->item == L->item && upto && o->date > L->date - w && o->days_supply > 0) supply += o->days_supply;
    }
    memset(out, 0, sizeof *out);
    out->other_item = -1;
    if (supply * 100 > (int64_t)w * (100 + tol)) {
        out->observed = supply;
        out->limit = (int64_t)w * (100 + tol) / 100;
        return 1;
    }
    int32_t max = kb.items[L->item].max_days_supply;
    if (max != MS_KB_NONE && L->days_supply > max) {
        out->observed = L->days_supply;
        out->limit = max;
        return 1;
    }
    return 0;
}

static int cmp_line(const void *a, const void *b)
{
    const ms_rule_line_t *x = a, *y = b;
    return before(x, y) ? -1 : before(y, x) ? 1 : 0;
}

static const char *const ref_codes[] = {"C01", "C02", "D01", "E01", "ZZ1"};
static const int ref_cats[] = {MS_CAT_EXAM, MS_CAT_LAB, MS_CAT_DRUG, MS_CAT_LAB, MS_CAT_DRUG};

static ms_rule_line_t random_line(uint64_t *seed, uint64_t settle, uint32_t line_no, int32_t date)
{
    int k = (int)ms_test_below(seed, 5);
    int cat = ms_test_below(seed, 8) ? ref_cats[k] : (int)ms_test_below(seed, MS_CAT_COUNT);
    int32_t ds = ms_test_below(seed, 4) ? (int32_t)ms_test_below(seed, 45) : 0;
    return mkline(settle, line_no, date, ref_codes[k], cat, 1 + (int64_t)ms_test_below(seed, 3000), ds);
}

static void test_reference(void **state)
{
    (void)state;
    uint64_t seed = 20260302;
    ms_rule_hits_t h = {0};
    claim_t *cl = malloc(sizeof *cl);
    size_t total = 0, claims = 4000;
    for (size_t n = 0; n < claims; n++) {
        /* Random windows and tolerances, two instances each. */
        ms_rules_config_t rc = {4, calloc(4, sizeof(ms_rule_t))};
        assert_int_equal(ms_rule_init(&rc.rule[0], MS_RULE_REPEAT_EXAM, "r1"), MS_OK);
        assert_int_equal(ms_rule_init(&rc.rule[1], MS_RULE_EXCESS_SUPPLY, "s1"), MS_OK);
        assert_int_equal(ms_rule_init(&rc.rule[2], MS_RULE_REPEAT_EXAM, "r2"), MS_OK);
        assert_int_equal(ms_rule_init(&rc.rule[3], MS_RULE_EXCESS_SUPPLY, "s2"), MS_OK);
        rc.rule[2].p.window_days = 1 + (int32_t)ms_test_below(&seed, 20);
        rc.rule[2].p.categories = (uint32_t)ms_test_below(&seed, 1u << MS_CAT_COUNT);
        rc.rule[3].p.window_days = 1 + (int32_t)ms_test_below(&seed, 120);
        rc.rule[3].p.tolerance_pct = (int32_t)ms_test_below(&seed, 60);
        ms_ruleset_t *rs = NULL;
        assert_int_equal(ms_ruleset_compile(&rc, &kb, &rs), MS_OK);

        int inpatient = ms_test_below(&seed, 3) == 0;
        int32_t admit = D0 + (int32_t)ms_test_below(&seed, 30), los = inpatient ? (int32_t)ms_test_below(&seed, 15) : 0;
        claim_init(cl, inpatient ? MS_VISIT_INPATIENT : MS_VISIT_OUTPATIENT, admit, admit + los);
        cl->c.settle_id = 5000 + n;
        size_t nl = ms_test_below(&seed, 30), nh = ms_test_below(&seed, 60);
        /* line_no unique but not in date order: sort by (date, line_no). */
        for (size_t k = 0; k < nl; k++)
            cl->line[k] = random_line(&seed, cl->c.settle_id, (uint32_t)(nl - k) * 3,
                                      admit + (int32_t)ms_test_below(&seed, (uint64_t)los + 1));
        for (size_t k = 0; k < nh; k++)
            cl->hist[k] = random_line(&seed, 1 + ms_test_below(&seed, 40), (uint32_t)k + 1,
                                      admit - 150 + (int32_t)ms_test_below(&seed, 200));
        qsort(cl->line, nl, sizeof *cl->line, cmp_line);
        qsort(cl->hist, nh, sizeof *cl->hist, cmp_line);
        cl->c.nlines = nl;
        cl->c.nhistory = nh;
        apply(rs, cl, &h);

        size_t k = 0;
        for (size_t i = 0; i < nl; i++) {
            for (uint32_t r = 0; r < 4; r++) {
                const ms_rule_t *rule = ms_ruleset_rule(rs, r);
                ms_rule_hit_t want;
                memset(&want, 0, sizeof want);
                int is = rule->tmpl == MS_RULE_REPEAT_EXAM
                             ? naive_repeat(cl, i, rule->p.window_days, rule->p.categories, &want)
                             : naive_supply(cl, i, rule->p.window_days, rule->p.tolerance_pct, &want);
                if (!is) continue;
                assert_true(k < h.n);
                const ms_rule_hit_t *got = &h.hit[k++];
                if (got->rule != r || got->line != i || got->observed != want.observed || got->limit != want.limit ||
                    got->other_date != want.other_date || got->other_settle != want.other_settle ||
                    got->other_item != want.other_item)
                    print_error("claim %zu line %zu rule %u: got rule %u line %u %lld/%lld (%d, %llu), wanted "
                                "%lld/%lld (%d, %llu)\n",
                                n, i, r, got->rule, got->line, (long long)got->observed, (long long)got->limit,
                                got->other_date, (unsigned long long)got->other_settle, (long long)want.observed,
                                (long long)want.limit, want.other_date, (unsigned long long)want.other_settle);
                assert_int_equal(got->rule, r);
                assert_int_equal(got->line, i);
                assert_true(got->observed == want.observed && got->limit == want.limit);
                assert_true(got->other_date == want.other_date && got->other_settle == want.other_settle);
                assert_int_equal(got->other_item, want.other_item);
            }
        }
        assert_int_equal(k, h.n);
        total += h.n;
        ms_ruleset_free(rs);
        ms_rules_config_free(&rc);
    }
    assert_true(total > claims / 2); /* the random claims do hit */
    ms_rule_hits_free(&h);
    free(cl);
}

/* Throughput on typical claims (20 lines, 40 lines of history), every
 * default rule: printed, and checked against a floor far below the target
 * (50,000 claims a second a core) so that a loaded machine does not fail it. */
static void test_throughput(void **state)
{
    (void)state;
    ms_ruleset_t *rs = all_rules();
    enum { NCLAIMS = 64 };
    claim_t *cl = malloc(NCLAIMS * sizeof *cl);
    uint64_t seed = 7;
    static const char *const codes[] = {"A01", "B01", "C01", "C02", "D01", "D02", "E01", "E02", "S01", "ZZ1"};
    for (int n = 0; n < NCLAIMS; n++) {
        claim_init(&cl[n], n % 3 ? MS_VISIT_OUTPATIENT : MS_VISIT_INPATIENT, D0, D0 + (n % 3 ? 0 : 6));
        for (int k = 0; k < 20; k++) {
            int c = (int)ms_test_below(&seed, 10);
            int cat = c < 9 ? kb.items[ms_knowledge_find(&kb, codes[c], 3)].category : MS_CAT_OTHER;
            cl[n].line[k] = mkline(1000, (uint32_t)k + 1, D0 + (n % 3 ? 0 : k / 4), codes[c], cat, 1000, cat == MS_CAT_DRUG ? 10 : 0);
        }
        cl[n].c.nlines = 20;
        for (int k = 0; k < 40; k++) {
            int c = (int)ms_test_below(&seed, 10);
            int cat = c < 9 ? kb.items[ms_knowledge_find(&kb, codes[c], 3)].category : MS_CAT_OTHER;
            cl[n].hist[k] = mkline(100 + (uint64_t)k / 5, (uint32_t)k % 5 + 1, D0 - 200 + k * 5, codes[c], cat, 1000,
                                   cat == MS_CAT_DRUG ? 30 : 0);
        }
        cl[n].c.nhistory = 40;
        add_trace(&cl[n], "D02", 1);
        cl[n].c.lines = cl[n].line;
        cl[n].c.history = cl[n].hist;
        cl[n].c.traces = cl[n].trace;
    }
    ms_rule_hits_t h = {0};
    size_t hits = 0, runs = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double s = 0;
    do {
        for (int r = 0; r < 1000; r++, runs++) {
            assert_int_equal(ms_rules_apply(rs, &cl[runs % NCLAIMS].c, &h), MS_OK);
            hits += h.n;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    } while (s < 0.3);
    double rate = (double)runs / s;
    print_message("rules: %.0f claims/s on one core (20 lines, 40 of history, %zu rules; %.2f hits a claim)\n", rate,
                  ms_ruleset_count(rs), (double)hits / (double)runs);
#if !defined(MS_SANITIZED) && defined(NDEBUG)
    assert_true(rate > 10000);
#endif
    ms_rule_hits_free(&h);
    ms_ruleset_free(rs);
    free(cl);
}

/* One compiled rule set shared by four threads, each with its own hits
 * list: the same hits as one thread (and nothing for TSan to report). */
typedef struct {
    const ms_ruleset_t *rs;
    claim_t *cl;
    size_t n;
    size_t hits;
    uint64_t sum;
} worker_t;

static void *worker(void *arg)
{
    worker_t *w = arg;
    ms_rule_hits_t h = {0};
    for (int round = 0; round < 20; round++)
        for (size_t k = 0; k < w->n; k++) {
            if (ms_rules_apply(w->rs, &w->cl[k].c, &h) != MS_OK) return NULL;
            w->hits += h.n;
            for (size_t j = 0; j < h.n; j++)
                w->sum = w->sum * 31 + h.hit[j].line * 7919u + h.hit[j].rule * 131u + (uint64_t)h.hit[j].observed;
        }
    ms_rule_hits_free(&h);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    ms_ruleset_t *rs = all_rules();
    enum { NCLAIMS = 200, NTHREADS = 4 };
    claim_t *cl = calloc(NCLAIMS, sizeof *cl);
    uint64_t seed = 99;
    for (size_t n = 0; n < NCLAIMS; n++) {
        claim_init(&cl[n], (int)ms_test_below(&seed, 3), D0, D0 + (int32_t)ms_test_below(&seed, 5));
        size_t nl = 1 + ms_test_below(&seed, 25), nh = ms_test_below(&seed, 40);
        for (size_t k = 0; k < nl; k++)
            cl[n].line[k] = random_line(&seed, cl[n].c.settle_id, (uint32_t)(nl - k),
                                        D0 + (int32_t)ms_test_below(&seed, 5));
        for (size_t k = 0; k < nh; k++)
            cl[n].hist[k] = random_line(&seed, 1 + ms_test_below(&seed, 9), (uint32_t)k + 1,
                                        D0 - 100 + (int32_t)ms_test_below(&seed, 105));
        qsort(cl[n].line, nl, sizeof *cl[n].line, cmp_line);
        qsort(cl[n].hist, nh, sizeof *cl[n].hist, cmp_line);
        cl[n].c.nlines = nl;
        cl[n].c.nhistory = nh;
        cl[n].c.lines = cl[n].line;
        cl[n].c.history = cl[n].hist;
        cl[n].c.traces = cl[n].trace;
    }
    worker_t one = {rs, cl, NCLAIMS, 0, 0}, w[NTHREADS];
    worker(&one);
    assert_true(one.hits > 0);
    pthread_t t[NTHREADS];
    for (int k = 0; k < NTHREADS; k++) {
        w[k] = (worker_t){rs, cl, NCLAIMS, 0, 0};
        assert_int_equal(pthread_create(&t[k], NULL, worker, &w[k]), 0);
    }
    for (int k = 0; k < NTHREADS; k++) {
        assert_int_equal(pthread_join(t[k], NULL), 0);
        assert_int_equal(w[k].hits, one.hits);
        assert_true(w[k].sum == one.sum);
    }
    ms_ruleset_free(rs);
    free(cl);
}

/* ----------------------------------------------------- configuration */

typedef struct {
    char *dir;
} fx_t;

static int cfg_setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    f->dir = ms_test_dir("rules");
    *state = f;
    return kb_setup(NULL);
}

static int cfg_teardown(void **state)
{
    kb_teardown(NULL);
    return ms_test_dir_teardown(state);
}

static void write_cfg(const fx_t *f, const char *text, char *path, size_t cap)
{
    snprintf(path, cap, "%s/rules.cfg", f->dir);
    assert_int_equal(ms_test_write_file(path, text), 0);
}

/* The configuration's text, written. */
static char *config_text(const ms_config_t *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    assert_non_null(fp);
    ms_config_write(cfg, fp);
    fclose(fp);
    return text;
}

/* Load path, write it back, load that: the same hash and text. */
static void round_trip(const fx_t *f, const char *path)
{
    ms_config_t a, b;
    assert_int_equal(ms_config_load(path, &a), MS_OK);
    char *text = config_text(&a), again[1024];
    snprintf(again, sizeof again, "%s/again.cfg", f->dir);
    assert_int_equal(ms_test_write_file(again, text), 0);
    ms_status_t st = ms_config_load(again, &b);
    if (st != MS_OK) print_error("%s\n%s\n", ms_error_detail(), text);
    assert_int_equal(st, MS_OK);
    char *text2 = config_text(&b);
    assert_string_equal(text, text2);
    assert_true(a.hash == b.hash);
    assert_int_equal(a.rules.n, b.rules.n);
    free(text), free(text2);
    ms_config_free(&a);
    ms_config_free(&b);
}

static void test_config_defaults(void **state)
{
    fx_t *f = *state;
    ms_config_t cfg;
    assert_int_equal(ms_config_load(NULL, &cfg), MS_OK);
    assert_int_equal(cfg.rules.n, MS_RULE_TEMPLATE_COUNT);
    for (int t = 0; t < MS_RULE_TEMPLATE_COUNT; t++) {
        assert_string_equal(cfg.rules.rule[t].name, ms_rule_template_name(t));
        assert_int_equal(cfg.rules.rule[t].tmpl, t);
        assert_true(cfg.rules.rule[t].enabled);
    }
    char *text = config_text(&cfg);
    ms_test_contains(text, "rules = (");
    ms_test_contains(text, "    name = \"repeat_exam\";\n    template = \"repeat_exam\";\n    enabled = true;  # false: not run\n"
                           "    weight = 1;");
    ms_test_contains(text, "    window_days = 7;");
    ms_test_contains(text, "    window_days = 90;");
    ms_test_contains(text, "    tolerance_pct = 30;");
    ms_test_contains(text, "    extra_days = 1;");
    ms_test_contains(text, "    categories = [\"exam\", \"lab\"];");
    ms_test_contains(text, "    items = [];");
    ms_test_contains(text, "# 重复检查");
    uint64_t hash = cfg.hash;
    ms_config_free(&cfg);
    /* The defaults written out load to the same hash. */
    char path[1024];
    write_cfg(f, text, path, sizeof path);
    assert_int_equal(ms_config_load(path, &cfg), MS_OK);
    assert_true(cfg.hash == hash);
    ms_config_free(&cfg);
    round_trip(f, path);
    free(text);
    /* An empty list: no rules. */
    write_cfg(f, "rules = ();\n", path, sizeof path);
    assert_int_equal(ms_config_load(path, &cfg), MS_OK);
    assert_int_equal(cfg.rules.n, 0);
    assert_true(cfg.hash != hash);
    ms_config_free(&cfg);
    round_trip(f, path);
}

static void test_config_second_instance(void **state)
{
    fx_t *f = *state;
    char path[1024];
    write_cfg(f,
              "rules = (\n"
              "  { name = \"repeat_exam\"; template = \"repeat_exam\"; enabled = true; weight = 1.0;\n"
              "    window_days = 7; categories = [\"exam\", \"lab\"]; items = []; },\n"
              "  { name = \"repeat_ct_30d\"; template = \"repeat_exam\"; window_days = 30; weight = 2.5;\n"
              "    categories = [\"exam\"]; items = [\"C01\", \"C\\\"Q\"]; },\n"
              "  { name = \"supply\"; template = \"excess_supply\"; window_days = 180; tolerance_pct = 0; },\n"
              "  { name = \"beds\"; template = \"bed_days\"; extra_days = 0; enabled = false; }\n"
              ");\n",
              path, sizeof path);
    ms_config_t cfg;
    ms_status_t st = ms_config_load(path, &cfg);
    if (st != MS_OK) print_error("%s\n", ms_error_detail());
    assert_int_equal(st, MS_OK);
    assert_int_equal(cfg.rules.n, 4);
    const ms_rule_t *r = &cfg.rules.rule[1];
    assert_string_equal(r->name, "repeat_ct_30d");
    assert_int_equal(r->tmpl, MS_RULE_REPEAT_EXAM);
    assert_int_equal(r->p.window_days, 30);
    assert_true(r->weight == 2.5);
    assert_int_equal(r->p.categories, 1u << MS_CAT_EXAM);
    assert_int_equal(r->p.nitems, 2);
    assert_string_equal(r->p.items[1], "C\"Q");
    assert_int_equal(cfg.rules.rule[2].p.window_days, 180);
    assert_int_equal(cfg.rules.rule[2].p.tolerance_pct, 0);
    assert_false(cfg.rules.rule[3].enabled);
    assert_int_equal(cfg.rules.rule[3].p.extra_days, 0);
    char *text = config_text(&cfg);
    ms_test_contains(text, "    name = \"repeat_ct_30d\";\n    template = \"repeat_exam\";\n    enabled = true;  # false: not run\n"
                           "    weight = 2.5;");
    ms_test_contains(text, "    items = [\"C01\", \"C\\\"Q\"];");
    ms_test_contains(text, "    enabled = false;  # false: not run");
    free(text);
    /* Compiled: the disabled one left out, the second instance kept. */
    ms_ruleset_t *rs = NULL;
    assert_int_equal(ms_ruleset_compile(&cfg.rules, &kb, &rs), MS_OK);
    assert_int_equal(ms_ruleset_count(rs), 3);
    assert_string_equal(ms_ruleset_rule(rs, 1)->name, "repeat_ct_30d");
    ms_ruleset_free(rs);
    ms_config_free(&cfg);
    round_trip(f, path);
}

static void test_config_refused(void **state)
{
    fx_t *f = *state;
    static const struct {
        const char *text, *want[3];
    } cases[] = {
        {"rules = (\n  { name = \"a\"; template = \"sex\"; window_days = 7; }\n);\n",
         {"line 2", "unknown key 'window_days' in rules.a (template sex)", "allowed: name, template, enabled, weight, items"}},
        {"rules = (\n { name = \"a\";\n   template = \"repeat_exam\";\n   windowdays = 7; }\n);\n",
         {"line 4", "unknown key 'windowdays'", "window_days, categories"}},
        {"rules = (\n { name = \"a\"; template = \"repeat_exam\";\n   window_days = \"7\"; }\n);\n",
         {"line 3", "'rules.a.window_days' must be a number", "1..3650"}},
        {"rules = (\n { name = \"a\"; template = \"repeat_exam\";\n   window_days = 0; }\n);\n",
         {"line 3", "'rules.a.window_days' = 0 is out of range", "1..3650"}},
        {"rules = (\n { name = \"a\"; template = \"repeat_exam\";\n   window_days = 3651; }\n);\n",
         {"line 3", "'rules.a.window_days' = 3651 is out of range", NULL}},
        {"rules = (\n { name = \"a\"; template = \"repeat_exam\";\n   window_days = 7.5; }\n);\n",
         {"line 3", "'rules.a.window_days' = 7.5 must be a whole number", NULL}},
        {"rules = (\n { name = \"s\"; template = \"excess_supply\";\n\n   tolerance_pct = 1001; }\n);\n",
         {"line 4", "'rules.s.tolerance_pct' = 1001 is out of range", "0..1000"}},
        {"rules = (\n { name = \"b\"; template = \"bed_days\"; extra_days = 366; }\n);\n",
         {"line 2", "'rules.b.extra_days' = 366 is out of range", "0..365"}},
        {"rules = (\n { name = \"b\"; template = \"bed_days\"; weight = -1; }\n);\n",
         {"line 2", "'rules.b.weight' = -1 is out of range", "0..1000"}},
        {"rules = (\n { name = \"b\"; template = \"bed_days\"; weight = 1001; }\n);\n",
         {"line 2", "'rules.b.weight' = 1001 is out of range", NULL}},
        {"rules = (\n { name = \"b\"; template = \"bed_days\"; enabled = 1; }\n);\n",
         {"line 2", "'rules.b.enabled' must be true or false", NULL}},
        {"rules = (\n { name = \"b\"; template = \"bed_day\"; }\n);\n",
         {"line 2", "'rules.b.template' \"bed_day\" is not a template", "bed_days"}},
        {"rules = (\n { name = \"x\"; template = \"sex\"; },\n { name = \"x\"; template = \"age\"; }\n);\n",
         {"line 3", "'rules[2].name' \"x\" is already the name of rules[1]", NULL}},
        {"rules = (\n { template = \"sex\"; }\n);\n", {"line 2", "rules[1] needs 'name'", NULL}},
        {"rules = (\n { name = \"x\"; }\n);\n", {"line 2", "rules.x needs 'template'", NULL}},
        {"rules = (\n { name = 7; template = \"sex\"; }\n);\n", {"line 2", "'rules[1].name' must be a string", NULL}},
        {"rules = (\n { name = \"a b\"; template = \"sex\"; }\n);\n",
         {"line 2", "'rules[1].name' \"a b\" may hold only letters, digits and '_'", NULL}},
        {"rules = (\n { name = \"r\"; template = \"repeat_exam\";\n categories = [\"exam\", \"xray\"]; }\n);\n",
         {"line 3", "'rules.r.categories' item 2 \"xray\" is not a category", "drug, exam, lab"}},
        {"rules = (\n { name = \"r\"; template = \"repeat_exam\";\n items = [\"C01\", \"\"]; }\n);\n",
         {"line 3", "'rules.r.items' item 2 is empty", NULL}},
        {"rules = (\n { name = \"r\"; template = \"repeat_exam\";\n items = \"C01\"; }\n);\n",
         {"line 3", "'rules.r.items' must be a list of strings", NULL}},
        {"rules = { sex = { template = \"sex\"; }; };\n", {"line 1", "rules must be a list", NULL}},
        {"rules = (\n { name = \"sex\"; template = \"sex\"; },\n \"age\" );\n", {"line 3", "rules[2] must be a group", NULL}},
        {"ruless = ();\n", {"line 1", "unknown key 'ruless'", "scoring, models, rules"}},
    };
    char path[1024];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        write_cfg(f, cases[k].text, path, sizeof path);
        ms_config_t cfg;
        ms_status_t st = ms_config_load(path, &cfg);
        if (st != MS_E_USAGE) print_error("case %zu loaded:\n%s\n", k, cases[k].text);
        assert_int_equal(st, MS_E_USAGE);
        const char *detail = ms_error_detail();
        ms_test_contains(detail, path);
        for (int w = 0; w < 3 && cases[k].want[w]; w++) ms_test_contains(detail, cases[k].want[w]);
    }
}

int main(void)
{
    const struct CMUnitTest rules[] = {
        cmocka_unit_test(test_sex),
        cmocka_unit_test(test_age),
        cmocka_unit_test(test_over_qty),
        cmocka_unit_test(test_excess_supply),
        cmocka_unit_test(test_duplicate),
        cmocka_unit_test(test_bed_days),
        cmocka_unit_test(test_scope),
        cmocka_unit_test(test_repeat_exam),
        cmocka_unit_test(test_setting),
        cmocka_unit_test(test_empty_brush),
        cmocka_unit_test(test_items_list),
        cmocka_unit_test(test_disabled),
        cmocka_unit_test(test_two_instances),
        cmocka_unit_test(test_unknown_item),
        cmocka_unit_test(test_many_hits_sorted),
        cmocka_unit_test(test_reference),
        cmocka_unit_test(test_throughput),
        cmocka_unit_test(test_threads),
    };
    const struct CMUnitTest config[] = {
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_second_instance),
        cmocka_unit_test(test_config_refused),
    };
    int failed = cmocka_run_group_tests_name("rules", rules, kb_setup, kb_teardown);
    failed += cmocka_run_group_tests_name("rules configuration", config, cfg_setup, cfg_teardown);
    return failed;
}
