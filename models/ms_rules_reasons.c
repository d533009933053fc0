/*
 * ms_rules_reasons.c - a rule's hit in words, in Chinese or English
 * (ms_rule_hit_reason; docs/rules.md lists the wording).
 *
 * The models layer cannot use the engine's message catalogue, so the two
 * languages' words live here, in one table: a text per template (and per
 * variant: age below the minimum or above the maximum, supply over the
 * window or over one line's maximum) with {placeholders} that this file
 * fills in from the hit, the claim, the rule and the knowledge base.  No
 * printf format comes from the table.
 */
#include "ms_rules.h"

#include <string.h>

#include "ms_fmt.h"
#include "ms_schema.h"

enum { LANG_ZH, LANG_EN, LANG_COUNT };

/* The texts: which one a hit takes (more than one per template where the
 * figures mean different things). */
enum {
    T_SEX,
    T_AGE_MIN,
    T_AGE_MAX,
    T_OVER_QTY,
    T_SUPPLY_WINDOW,
    T_SUPPLY_LINE,
    T_DUPLICATE,
    T_BED_DAYS,
    T_SCOPE,
    T_REPEAT_EXAM,
    T_SETTING,
    T_EMPTY_BRUSH,
    T_COUNT
};

/* Placeholders:
 *   {item} {other_item}  the item's code, with its name when the knowledge
 *                        base knows it: "C01 (CT scan)"
 *   {date} {other_date}  the line's date, the other line's (YYYY-MM-DD)
 *   {other_settle}       the other line's settlement
 *   {obs} {lim}          observed and limit, as whole numbers
 *   {obs_qty} {lim_qty}  the same in units with three decimals ("3.000")
 *   {sex_obs} {sex_lim}  the claim's sex, the item's, in words
 *   {visit} {setting}    the claim's visit type, the item's setting, in words
 *   {diag} {diags}       the claim's main diagnosis; the item's prefixes
 *   {window} {tol}       the rule's window_days and tolerance_pct
 *   {los}                the stay's length (discharge - admission, days) */
static const char *const texts[T_COUNT][LANG_COUNT] = {
    [T_SEX] = {"限性别：{item} 限{sex_lim}性使用，参保人为{sex_obs}性",
               "sex-restricted item: {item} is for {sex_lim} patients only, billed for a {sex_obs} patient"},
    [T_AGE_MIN] = {"限年龄：{item} 限 {lim} 岁及以上使用，参保人 {obs} 岁",
                   "age-restricted item: {item} is for patients aged {lim} or over, billed for a patient aged {obs}"},
    [T_AGE_MAX] = {"限年龄：{item} 限 {lim} 岁及以下使用，参保人 {obs} 岁",
                   "age-restricted item: {item} is for patients aged {lim} or under, billed for a patient aged {obs}"},
    [T_OVER_QTY] = {"超量：{item} 于 {date} 累计 {obs_qty} 单位，日最大量 {lim_qty}",
                    "over quantity: {obs_qty} units of {item} on {date}, daily maximum {lim_qty}"},
    [T_SUPPLY_WINDOW] = {"超量开药：{item} 截至 {date} 的 {window} 天内累计供药 {obs} 天，上限 {lim} 天（{window} 天 + "
                         "{tol}%）",
                         "excessive prescribing: {obs} days of supply of {item} in the {window} days to {date}, at "
                         "most {lim} ({window} days + {tol}%)"},
    [T_SUPPLY_LINE] = {"超量开药：{item} 于 {date} 单次供药 {obs} 天，单次最多 {lim} 天",
                       "excessive prescribing: {obs} days of supply of {item} in one line on {date}, at most {lim}"},
    [T_DUPLICATE] = {"重复收费：{item} 与 {other_item} 于 {date} 同日收费（结算 {other_settle}），二者不得同时收取",
                     "duplicate charging: {item} billed with {other_item} on {date} (settlement {other_settle}); the "
                     "two are never billed together"},
    [T_BED_DAYS] = {"超标准收费：床位 {obs} 天，住院 {los} 天，最多 {lim} 天",
                    "bed-days beyond the stay: {obs} bed-days billed for a stay of {los} days, at most {lim}"},
    [T_SCOPE] = {"限定支付范围：{item} 限诊断 {diags} 支付，主诊断为 {diag}",
                 "restricted payment scope: {item} is paid only for diagnoses {diags}, main diagnosis {diag}"},
    [T_REPEAT_EXAM] = {"重复检查：{item} 于 {date} 再次检查，距上次（{other_date}，结算 {other_settle}）{obs} 天，在 "
                       "{lim} 天之内",
                       "repeated examination: {item} on {date}, {obs} days after the previous one ({other_date}, "
                       "settlement {other_settle}), within {lim} days"},
    [T_SETTING] = {"就医类型不符：{item} 限{setting}使用，本次为{visit}",
                   "setting mismatch: {item} is for {setting} use only, billed as {visit}"},
    [T_EMPTY_BRUSH] = {"空刷/串换：{item} 计费 {lim} 单位，扫码追溯 {obs} 盒",
                       "empty brushing: {lim} units of {item} billed, {obs} packages scanned"},
};

/* The words the placeholders need. */
static const char *const sex_words[2][LANG_COUNT] = {{"男", "male"}, {"女", "female"}};
static const char *const visit_words[3][LANG_COUNT] = {
    {"门诊", "outpatient"}, {"住院", "inpatient"}, {"药店购药", "pharmacy"}};
static const char *const unknown_word[LANG_COUNT] = {"未知", "unknown"};
static const char *const none_word[LANG_COUNT] = {"无", "none"};

/* ------------------------------------------------------------ the buffer */

typedef struct {
    char *p;
    size_t n, cap;   /* bytes written, room (with the NUL) */
} out_t;

static void put(out_t *o, const char *s, size_t len)
{
    if (!o->cap) return;
    size_t room = o->cap - 1 - o->n;
    if (len > room) {
        len = room;
        /* Never half a UTF-8 character. */
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80) len--;
        o->cap = o->n + len + 1; /* full: nothing more fits */
    }
    memcpy(o->p + o->n, s, len);
    o->n += len;
    o->p[o->n] = '\0';
}

static void puts_(out_t *o, const char *s) { put(o, s, strlen(s)); }

static void put_i64(out_t *o, int64_t v)
{
    char t[MS_FMT_I64_MAX];
    put(o, t, ms_fmt_i64(t, v));
}

static void put_u64(out_t *o, uint64_t v)
{
    char t[MS_FMT_I64_MAX];
    put(o, t, ms_fmt_u64(t, v));
}

/* Thousandths as "3.000". */
static void put_milli(out_t *o, int64_t v)
{
    uint64_t a = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    if (v < 0) puts_(o, "-");
    put_u64(o, a / 1000);
    char t[4] = {'.', (char)('0' + a % 1000 / 100), (char)('0' + a % 100 / 10), (char)('0' + a % 10)};
    put(o, t, 4);
}

static void put_date(out_t *o, int32_t day)
{
    char t[11];
    ms_date_format(day, t);
    puts_(o, t);
}

static void put_item(out_t *o, const ms_knowledge_t *kb, int32_t item, const char *code, int lang)
{
    const ms_kb_item_t *it = kb && item >= 0 && (size_t)item < kb->n_items ? &kb->items[item] : NULL;
    if (!code) code = it ? it->item_code : unknown_word[lang];
    puts_(o, code);
    if (it && it->name) {
        puts_(o, lang == LANG_ZH ? "（" : " (");
        puts_(o, it->name);
        puts_(o, lang == LANG_ZH ? "）" : ")");
    }
}

/* -------------------------------------------------------------- reasons */

typedef struct {
    const ms_knowledge_t *kb;
    const ms_rule_t *rule;
    const ms_claim_t *c;
    const ms_rule_hit_t *h;
    const ms_rule_line_t *l;
    int lang;
} fill_t;

static int is(const char *name, size_t len, const char *want) { return strlen(want) == len && !memcmp(name, want, len); }

static void placeholder(out_t *o, const fill_t *f, const char *name, size_t len)
{
    const ms_kb_item_t *it = f->kb && f->l->item >= 0 && (size_t)f->l->item < f->kb->n_items ? &f->kb->items[f->l->item]
                                                                                              : NULL;
    int lang = f->lang;
    if (is(name, len, "item")) put_item(o, f->kb, f->l->item, f->l->item_code, lang);
    else if (is(name, len, "other_item")) put_item(o, f->kb, f->h->other_item, NULL, lang);
    else if (is(name, len, "date")) put_date(o, f->l->date);
    else if (is(name, len, "other_date")) put_date(o, f->h->other_date);
    else if (is(name, len, "other_settle")) put_u64(o, f->h->other_settle);
    else if (is(name, len, "obs")) put_i64(o, f->h->observed);
    else if (is(name, len, "lim")) put_i64(o, f->h->limit);
    else if (is(name, len, "obs_qty")) put_milli(o, f->h->observed);
    else if (is(name, len, "lim_qty")) put_milli(o, f->h->limit);
    else if (is(name, len, "sex_obs") || is(name, len, "sex_lim")) {
        int64_t s = is(name, len, "sex_obs") ? f->h->observed : f->h->limit;
        puts_(o, s == MS_SEX_M || s == MS_SEX_F ? sex_words[s][lang] : unknown_word[lang]);
    } else if (is(name, len, "visit")) {
        unsigned v = f->c->visit_type;
        puts_(o, v < 3 ? visit_words[v][lang] : unknown_word[lang]);
    } else if (is(name, len, "setting")) {
        int64_t s = f->h->limit;
        puts_(o, s == MS_SETTING_INPATIENT ? visit_words[MS_VISIT_INPATIENT][lang]
                 : s == MS_SETTING_OUTPATIENT ? visit_words[MS_VISIT_OUTPATIENT][lang]
                                              : unknown_word[lang]);
    } else if (is(name, len, "diag")) {
        puts_(o, f->c->diag_main && *f->c->diag_main ? f->c->diag_main : none_word[lang]);
    } else if (is(name, len, "diags")) {
        for (size_t k = 0; it && k < it->ndiag; k++) {
            if (k) puts_(o, ";");
            puts_(o, it->diag[k]);
        }
    } else if (is(name, len, "window")) put_i64(o, f->rule->p.window_days);
    else if (is(name, len, "tol")) put_i64(o, f->rule->p.tolerance_pct);
    else if (is(name, len, "los")) put_i64(o, (int64_t)f->c->discharge_date - f->c->admit_date);
    else put(o, name - 1, len + 2); /* not a placeholder: as written */
}

static int text_of(const ms_rule_t *rule, const ms_rule_hit_t *h)
{
    switch (rule->tmpl) {
    case MS_RULE_SEX: return T_SEX;
    case MS_RULE_AGE: return h->observed < h->limit ? T_AGE_MIN : T_AGE_MAX;
    case MS_RULE_OVER_QTY: return T_OVER_QTY;
    case MS_RULE_EXCESS_SUPPLY:
        /* The window's hits have its limit; a line-max hit's limit is always
         * below it (ms_rules.c). */
        return h->limit == (int64_t)rule->p.window_days * (100 + rule->p.tolerance_pct) / 100 ? T_SUPPLY_WINDOW
                                                                                              : T_SUPPLY_LINE;
    case MS_RULE_DUPLICATE: return T_DUPLICATE;
    case MS_RULE_BED_DAYS: return T_BED_DAYS;
    case MS_RULE_SCOPE: return T_SCOPE;
    case MS_RULE_REPEAT_EXAM: return T_REPEAT_EXAM;
    case MS_RULE_SETTING: return T_SETTING;
    case MS_RULE_EMPTY_BRUSH: return T_EMPTY_BRUSH;
    case MS_RULE_TEMPLATE_COUNT: break;
    }
    return -1;
}

void ms_rule_hit_reason(const ms_ruleset_t *rs, const ms_claim_t *c, const ms_rule_hit_t *h, const char *lang,
                        char *buf, size_t cap)
{
    if (!buf || !cap) return;
    buf[0] = '\0';
    out_t o = {buf, 0, cap};
    const ms_rule_t *rule = ms_ruleset_rule(rs, h->rule);
    if (!rule || !c || h->line >= c->nlines) return;
    fill_t f = {ms_ruleset_knowledge(rs), rule, c, h, &c->lines[h->line], lang && !strncmp(lang, "en", 2) ? LANG_EN : LANG_ZH};
    int t = text_of(rule, h);
    if (t < 0) return;
    /* A second instance of a template says its own name first. */
    if (strcmp(rule->name, ms_rule_template_name(rule->tmpl))) {
        puts_(&o, "[");
        puts_(&o, rule->name);
        puts_(&o, "] ");
    }
    const char *s = texts[t][f.lang];
    while (*s) {
        const char *open = strchr(s, '{');
        if (!open) {
            puts_(&o, s);
            break;
        }
        put(&o, s, (size_t)(open - s));
        const char *close = strchr(open, '}');
        if (!close) {
            puts_(&o, open);
            break;
        }
        placeholder(&o, &f, open + 1, (size_t)(close - open - 1));
        s = close + 1;
    }
}
