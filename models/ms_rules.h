/*
 * ms_rules.h - the rule base over itemised bills (规则库; MODELS.md section
 * 7, docs/rules.md): rules as data, applied to one claim at a time.
 *
 * A rule is an instance of a template (sex, age, over_qty, ...) with its own
 * name, parameters, weight and on/off switch, read from the rule
 * configuration (ms_config: the `rules` list).  A bureau adds a second
 * instance of a template (another window, another item list) without
 * recompiling.  The same compiled rule set, on the same knowledge base,
 * judges a claim before settlement (pre-notification, engine/check) and
 * after it (the weekly sweep): one function, ms_rules_apply, does both.
 *
 * A claim is one settlement with its bill lines, the traceability codes
 * scanned for it, and (for the rules that look across a person's history:
 * excess_supply, repeat_exam, duplicate) the person's earlier lines, at any
 * institution.  Nothing here allocates behind the caller's back except the
 * hits list, and nothing is global: a compiled rule set is read-only and may
 * be shared by any number of threads.
 *
 * Units: dates are days since 1970-01-01; quantities thousandths of a unit;
 * money fen; unit prices ten-thousandths of a yuan.
 */
#ifndef MS_RULES_H
#define MS_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "ms_knowledge.h"
#include "ms_status.h"

typedef enum {
    MS_RULE_SEX,            /* 限性别: an item restricted to one sex, billed for the other */
    MS_RULE_AGE,            /* 限年龄: outside the item's age range */
    MS_RULE_OVER_QTY,       /* 超量: more units of an item on one day of a claim than its daily maximum */
    MS_RULE_EXCESS_SUPPLY,  /* 超量开药: days of supply of one drug over a window, above the window
                               by more than a tolerance, across institutions */
    MS_RULE_DUPLICATE,      /* 重复收费: two mutually exclusive items for one person on one day */
    MS_RULE_BED_DAYS,       /* 超标准收费: bed-days of a stay above its length of stay + 1 */
    MS_RULE_SCOPE,          /* 限定支付范围: an item paid only for listed diagnoses, billed for another */
    MS_RULE_REPEAT_EXAM,    /* 重复检查: the same exam or lab item again within a window */
    MS_RULE_SETTING,        /* an inpatient-only item billed as outpatient, or the reverse */
    MS_RULE_EMPTY_BRUSH,    /* 空刷/串换: a trace_required drug billed in more whole units than the
                               claim's scanned packages of it */
    MS_RULE_TEMPLATE_COUNT
} ms_rule_template_t;

/* A template's name as the configuration writes it ("repeat_exam"), and the
 * template of a name (or -1). */
const char *ms_rule_template_name(int t);
int ms_rule_template_find(const char *name);

/* What a template is, in one line (the configuration's comments), and which
 * of the parameters below it reads (MS_RULE_P_* bits; items, weight and
 * enabled belong to every template). */
const char *ms_rule_template_description(int t);
enum {
    MS_RULE_P_WINDOW = 1u << 0,      /* window_days */
    MS_RULE_P_TOLERANCE = 1u << 1,   /* tolerance_pct */
    MS_RULE_P_EXTRA = 1u << 2,       /* extra_days */
    MS_RULE_P_CATEGORIES = 1u << 3,  /* categories */
};
unsigned ms_rule_template_params(int t);

/* The parameters' bounds (the configuration refuses a value outside them,
 * and so does ms_ruleset_compile). */
#define MS_RULE_WINDOW_MIN 1
#define MS_RULE_WINDOW_MAX 3650
#define MS_RULE_TOLERANCE_MIN 0
#define MS_RULE_TOLERANCE_MAX 1000
#define MS_RULE_EXTRA_MIN 0
#define MS_RULE_EXTRA_MAX 365
#define MS_RULE_WEIGHT_MIN 0
#define MS_RULE_WEIGHT_MAX 1000
#define MS_RULE_NAME_MAX 64          /* bytes of a rule's name: letters, digits, '_' */

/* One line of a bill.  item is the knowledge base's id of item_code, or -1
 * when the knowledge base does not list it (the rules that need the item's
 * facts then pass it by). */
typedef struct {
    uint64_t settle_id;
    uint32_t line_no;
    int32_t date;
    int32_t item;
    const char *item_code;      /* NUL-terminated; for the reasons */
    uint8_t category;           /* ms_item_category_t */
    int64_t qty_milli;          /* > 0 */
    int64_t unit_price;         /* 1/10000 yuan */
    int64_t amount;             /* fen */
    int32_t days_supply;        /* 0: not stated */
    uint32_t doctor_id;
    int32_t inst;               /* the institution's id (sweep: refs; check: as given); history rules
                                   report it */
} ms_rule_line_t;

/* A scanned package of the claim (drug_items.csv), by item. */
typedef struct {
    int32_t item;               /* knowledge-base id of its drug code, -1 unknown */
    uint32_t qty;               /* packages */
} ms_rule_trace_t;

typedef struct {
    uint64_t settle_id, person_id;
    int32_t inst;
    uint8_t visit_type;         /* MS_VISIT_* */
    int32_t admit_date, discharge_date;
    uint8_t age;
    uint8_t sex;                /* MS_SEX_* */
    const char *diag_main;      /* ICD-10 text, NUL-terminated ("" none) */
    const ms_rule_line_t *lines;/* sorted by (date, line_no) */
    size_t nlines;
    const ms_rule_trace_t *traces;
    size_t ntraces;
    const ms_rule_line_t *history; /* the person's earlier lines (other settlements, any
                                   institution), sorted by (date, settle_id, line_no) */
    size_t nhistory;
} ms_claim_t;

/* A template's parameters, resolved.  Each template reads the ones its
 * description names; items (when non-empty) restricts any rule to those
 * item codes. */
typedef struct {
    int32_t window_days;        /* excess_supply (90), repeat_exam (7) */
    int32_t tolerance_pct;      /* excess_supply: 30 */
    int32_t extra_days;         /* bed_days: 1 */
    uint32_t categories;        /* repeat_exam: bit c for category c (default exam, lab) */
    size_t nitems;
    char **items;               /* item codes the rule is limited to (0: every item) */
} ms_rule_params_t;

/* One rule instance, as configured. */
typedef struct {
    char *name;                 /* unique: "repeat_exam", "repeat_ct_30d" */
    ms_rule_template_t tmpl;
    int enabled;
    double weight;
    ms_rule_params_t p;
} ms_rule_t;

/* The rule configuration: every instance, in the configuration's order.
 * ms_rules_defaults gives one instance of each template, named as it,
 * with the defaults of MODELS.md section 7. */
typedef struct {
    size_t n;
    ms_rule_t *rule;
} ms_rules_config_t;

ms_status_t ms_rules_defaults(ms_rules_config_t *rc);
void ms_rules_config_free(ms_rules_config_t *rc);

/* One instance of template t with its defaults (enabled, weight 1, the
 * template's window, tolerance, extra days and categories, no item list),
 * named name (copied).  ms_rule_free releases what it owns. */
ms_status_t ms_rule_init(ms_rule_t *r, int t, const char *name);
void ms_rule_free(ms_rule_t *r);

/* NULL if name is a valid rule name (1..MS_RULE_NAME_MAX bytes of ASCII
 * letters, digits and '_'), else what is wrong with it. */
const char *ms_rule_name_problem(const char *name);

/* A rule set compiled against a knowledge base: item lists resolved to ids,
 * per-template lookups built.  Read-only once made.  Only enabled rules are
 * kept, in the configuration's order.  kb is referenced, not copied: it must
 * outlive the rule set; NULL is an empty knowledge base (every line's item
 * is then unknown, and only bed_days can hit).  A parameter out of its
 * bounds, an unknown template or a duplicate name is MS_E_USAGE. */
typedef struct ms_ruleset ms_ruleset_t;

ms_status_t ms_ruleset_compile(const ms_rules_config_t *rc, const ms_knowledge_t *kb, ms_ruleset_t **out);
void ms_ruleset_free(ms_ruleset_t *rs);
size_t ms_ruleset_count(const ms_ruleset_t *rs);           /* enabled rules */
const ms_rule_t *ms_ruleset_rule(const ms_ruleset_t *rs, size_t r);
const ms_knowledge_t *ms_ruleset_knowledge(const ms_ruleset_t *rs); /* as compiled (NULL: none) */

/* One violating line: which rule, which line, and the figures behind it
 * (what a reason says: "3.000 units on 2026-03-02, daily maximum 2.000").
 * What observed and limit hold for each template: models/ms_rules.c and
 * docs/rules.md.  A rule hits a line at most once. */
typedef struct {
    uint32_t rule;              /* index into the compiled set (ms_ruleset_rule) */
    uint32_t line;              /* index into claim->lines */
    int64_t observed;           /* the figure found (units x 1000, days, ...) */
    int64_t limit;              /* the figure allowed */
    int32_t other_date;         /* the earlier line it repeats or pairs with (repeat_exam,
                                   duplicate), else 0 */
    uint64_t other_settle;      /* its settlement, else 0 */
    int32_t other_item;         /* duplicate: the other item's id, else -1 */
} ms_rule_hit_t;

typedef struct {
    size_t n, cap;
    ms_rule_hit_t *hit;         /* sorted by (line, rule) */
} ms_rule_hits_t;

/* Apply every enabled rule to one claim; hits are appended to out (cleared
 * first).  Deterministic: the same claim gives the same hits in the same
 * order. */
ms_status_t ms_rules_apply(const ms_ruleset_t *rs, const ms_claim_t *c, ms_rule_hits_t *out);
void ms_rule_hits_free(ms_rule_hits_t *h);

/* A hit in words, in lang ("zh" or "en"), with its figures: written to buf
 * (NUL-terminated, truncated to cap). */
void ms_rule_hit_reason(const ms_ruleset_t *rs, const ms_claim_t *c, const ms_rule_hit_t *h,
                        const char *lang, char *buf, size_t cap);

#endif
