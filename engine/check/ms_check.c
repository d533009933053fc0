/*
 * ms_check.c - pre-notification: a checker (configuration, knowledge base,
 * institutions, compiled rules, the dataset's recent bill lines), one claim
 * as JSON in, its verdict as JSON out.
 *
 * Exact numbers: quantities, prices and amounts are decimals in the
 * claim's text and integers here (thousandths, ten-thousandths of a yuan,
 * fen), never doubles.  A decimal is given as a JSON string ("1.5"); a JSON
 * integer (2) is taken as it is; a JSON number with a fraction (1.5) is
 * refused, because jansson has already turned it into a double and its
 * text is gone.
 *
 * Threads: the checker is read-only after ms_checker_open (the history
 * index included: built there, in the opening thread); every call works on
 * its own parse tree and arrays (one claim's worth, its history from the
 * dataset too, freed before it returns), and reports its error in the
 * calling thread's detail.
 */
#include "ms_check.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_check_history.h"
#include "ms_config.h"
#include "ms_fmt.h"
#include "ms_fs.h"
#include "ms_refs.h"
#include "ms_schema.h"

#define CLAIM_ID_MAX 128
#define DAYS_SUPPLY_MAX 36500
#define MS_CHECK_NEED_KB 4u

struct ms_checker {
    ms_config_t cfg;
    ms_knowledge_t kb;     /* empty (no items) without a knowledge base */
    int have_kb;
    ms_refs_t refs;
    int have_refs;
    ms_ruleset_t *rs;
    char config_hash[17];
    ms_history_t *hist;    /* the dataset's recent bill lines; NULL: none */
};

/* ------------------------------------------------------------------ */
/* The checker */

ms_status_t ms_checker_open(const ms_check_opts_t *o, ms_checker_t **out)
{
    *out = NULL;
    ms_checker_t *ck = calloc(1, sizeof *ck);
    if (!ck) return ms_error_set(MS_E_NOMEM, "out of memory");
    if (o->history_days < 0 || o->history_days > MS_CHECK_HISTORY_DAYS_MAX) {
        free(ck);
        return ms_error_set(MS_E_USAGE, "history days: wants 0..%d, got %d", MS_CHECK_HISTORY_DAYS_MAX,
                            o->history_days);
    }
    ms_status_t st = ms_config_load(o->config, &ck->cfg);
    if (st != MS_OK) {
        free(ck);
        return st;
    }
    snprintf(ck->config_hash, sizeof ck->config_hash, "%016llx", (unsigned long long)ck->cfg.hash);
    if (o->dataset) {
        if (!ms_is_dir(o->dataset)) {
            st = ms_error_set(MS_E_USAGE, "no dataset directory at %s", o->dataset);
            goto fail;
        }
        char *inst = ms_path_join(o->dataset, "institutions.h5");
        if (!inst) {
            st = ms_error_set(MS_E_NOMEM, "out of memory");
            goto fail;
        }
        int have_inst = ms_path_exists(inst);
        free(inst);
        if (have_inst) {
            if ((st = ms_refs_read(o->dataset, &ck->refs)) != MS_OK) goto fail;
            ck->have_refs = 1;
        }
        if (!o->knowledge && ms_knowledge_present(o->dataset)) {
            if ((st = ms_knowledge_read(o->dataset, &ck->kb)) != MS_OK) goto fail;
            ck->have_kb = 1;
        }
        if (!have_inst && !ck->have_kb && !o->knowledge) {
            st = ms_error_set(MS_E_USAGE, "%s holds neither knowledge.h5 nor institutions.h5: not a dataset",
                              o->dataset);
            goto fail;
        }
    }
    if (o->knowledge) {
        if ((st = ms_knowledge_load_csv(o->knowledge, &ck->kb)) != MS_OK) goto fail;
        ck->have_kb = 1;
    }
    /* The history index: only where the history rules can run (a knowledge
     * base) and the bill lines can be read (the reference files). */
    if (o->dataset && o->history_days > 0 && ck->have_refs && ck->have_kb &&
        (st = ms_history_build(o->dataset, &ck->refs, &ck->kb, o->history_days, &ck->hist)) != MS_OK)
        goto fail;
    if ((st = ms_ruleset_compile(&ck->cfg.rules, &ck->kb, &ck->rs)) != MS_OK) goto fail;
    *out = ck;
    return MS_OK;
fail:
    ms_checker_close(ck);
    return st;
}

void ms_checker_close(ms_checker_t *ck)
{
    if (!ck) return;
    ms_history_free(ck->hist);
    ms_ruleset_free(ck->rs);
    if (ck->have_refs) ms_refs_free(&ck->refs);
    ms_knowledge_free(&ck->kb);
    ms_config_free(&ck->cfg);
    free(ck);
}

void ms_checker_info(const ms_checker_t *ck, ms_checker_info_t *info)
{
    memset(info, 0, sizeof *info);
    info->rules = ms_ruleset_count(ck->rs);
    info->knowledge_items = ck->kb.n_items;
    info->exclusive_pairs = ck->kb.n_exclusive;
    info->institutions = ck->have_refs ? ck->refs.n_inst : 0;
    memcpy(info->config_hash, ck->config_hash, sizeof info->config_hash);
    if (ck->hist) {
        ms_history_info_t h;
        ms_history_info(ck->hist, &h);
        info->history_days = h.days;
        info->history_lines = h.lines;
        info->history_bytes = h.bytes;
        info->history_from = h.from;
        info->history_to = h.to;
    }
}

const ms_ruleset_t *ms_checker_ruleset(const ms_checker_t *ck) { return ck->rs; }
const ms_knowledge_t *ms_checker_knowledge(const ms_checker_t *ck) { return &ck->kb; }

/* What each template needs beyond the bill (MS_CLAIM_* and
 * MS_CHECK_NEED_KB): every template but bed_days reads the items' facts or
 * matches lines by knowledge-base id (models/ms_rules.c). */
static unsigned template_needs(int t)
{
    switch (t) {
    case MS_RULE_BED_DAYS: return 0;
    case MS_RULE_EMPTY_BRUSH: return MS_CHECK_NEED_KB | MS_CLAIM_TRACES;
    case MS_RULE_EXCESS_SUPPLY:
    case MS_RULE_REPEAT_EXAM: return MS_CHECK_NEED_KB | MS_CLAIM_HISTORY;
    default: return MS_CHECK_NEED_KB;
    }
}

const char *ms_check_rule_missing(const ms_checker_t *ck, size_t r, unsigned carries)
{
    unsigned need = template_needs((int)ms_ruleset_rule(ck->rs, r)->tmpl);
    if ((need & MS_CHECK_NEED_KB) && !ck->have_kb) return "knowledge";
    if ((need & MS_CLAIM_HISTORY) && !(carries & MS_CLAIM_HISTORY)) return "history";
    if ((need & MS_CLAIM_TRACES) && !(carries & MS_CLAIM_TRACES)) return "traces";
    return NULL;
}

ms_status_t ms_check_claim(const ms_checker_t *ck, const ms_claim_t *c, ms_rule_hits_t *hits)
{
    return ms_rules_apply(ck->rs, c, hits);
}

ms_status_t ms_check_history(const ms_checker_t *ck, const ms_claim_t *c, ms_rule_line_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!ck->hist) return ms_error_set(MS_E_USAGE, "this checker holds no history from a dataset");
    if (!c->nlines) return MS_OK;
    int32_t first = c->lines[0].date, last = c->lines[0].date;
    for (size_t i = 1; i < c->nlines; i++) {
        if (c->lines[i].date < first) first = c->lines[i].date;
        if (c->lines[i].date > last) last = c->lines[i].date;
    }
    ms_history_info_t h;
    ms_history_info(ck->hist, &h);
    return ms_history_person(ck->hist, &ck->kb, c->person_id, c->settle_id, first - h.days, last, out, n);
}

/* ------------------------------------------------------------------ */
/* JSON out: one line, compact, keys in a fixed order.  A writer that
 * remembers the first failed append, so the calls need no checks. */

typedef struct {
    ms_buf_t *b;
    ms_status_t st;
} jw_t;

static void jw_put(jw_t *w, const char *s, size_t n)
{
    if (w->st == MS_OK) w->st = ms_buf_put(w->b, s, n);
}

static void jw_lit(jw_t *w, const char *s) { jw_put(w, s, strlen(s)); }

static void jw_str(jw_t *w, const char *s)
{
    if (w->st == MS_OK) w->st = ms_check_json_string(w->b, s);
}

static void jw_i64(jw_t *w, int64_t v)
{
    char t[MS_FMT_I64_MAX];
    jw_put(w, t, ms_fmt_i64(t, v));
}

static void jw_u64(jw_t *w, uint64_t v)
{
    char t[MS_FMT_I64_MAX];
    jw_put(w, t, ms_fmt_u64(t, v));
}

static void jw_date(jw_t *w, int32_t day)
{
    char t[11];
    ms_date_format(day, t);
    jw_put(w, "\"", 1);
    jw_put(w, t, 10);
    jw_put(w, "\"", 1);
}

/* s escaped for the inside of a JSON string (no quotes). */
static ms_status_t json_escape(ms_buf_t *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s;
    for (const char *p = s;; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
        MS_TRY(ms_buf_put(out, run, (size_t)(p - run)));
        if (!ch) return MS_OK;
        char esc[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
        if (ch == '"' || ch == '\\' || ch == '\n' || ch == '\t') {
            esc[1] = ch == '\n' ? 'n' : ch == '\t' ? 't' : (char)ch;
            MS_TRY(ms_buf_put(out, esc, 2));
        } else {
            MS_TRY(ms_buf_put(out, esc, 6));
        }
        run = p + 1;
    }
}

ms_status_t ms_check_json_string(ms_buf_t *out, const char *s)
{
    MS_TRY(ms_buf_put(out, "\"", 1));
    MS_TRY(json_escape(out, s));
    return ms_buf_put(out, "\"", 1);
}

static void jw_esc(jw_t *w, const char *s)
{
    if (w->st == MS_OK) w->st = json_escape(w->b, s);
}

/* Thousandths as a JSON number with three decimals ("3.000"). */
static void jw_milli(jw_t *w, int64_t v)
{
    char t[MS_FMT_I64_MAX + 2];
    uint64_t a = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    size_t n = 0;
    if (v < 0) t[n++] = '-';
    n += ms_fmt_u64(t + n, a / 1000);
    t[n++] = '.';
    t[n++] = (char)('0' + a / 100 % 10);
    t[n++] = (char)('0' + a / 10 % 10);
    t[n++] = (char)('0' + a % 10);
    jw_put(w, t, n);
}

static const char *setting_word(int64_t s)
{
    return s == MS_SETTING_INPATIENT ? "inpatient" : s == MS_SETTING_OUTPATIENT ? "outpatient" : "any";
}

/* "observed" and "limit" in the template's own terms (docs/prenotification.md):
 * words for sex and setting, units with three decimals for over_qty, the
 * diagnosis and the item's prefixes for scope, null for duplicate (its
 * figures are the other line's), whole numbers (years, days, packages)
 * otherwise. */
static void jw_figures(jw_t *w, const ms_checker_t *ck, const ms_claim_t *c, const ms_rule_t *r,
                       const ms_rule_line_t *l, const ms_rule_hit_t *h)
{
    const ms_kb_item_t *it = l->item >= 0 && (size_t)l->item < ck->kb.n_items ? &ck->kb.items[l->item] : NULL;
    jw_lit(w, ",\"observed\":");
    switch (r->tmpl) {
    case MS_RULE_SEX:
        jw_str(w, h->observed >= 0 && h->observed < ms_enum_sex.count ? ms_enum_sex.names[h->observed] : "?");
        jw_lit(w, ",\"limit\":");
        jw_str(w, h->limit >= 0 && h->limit < ms_enum_sex.count ? ms_enum_sex.names[h->limit] : "?");
        return;
    case MS_RULE_SETTING:
        jw_str(w, h->observed >= 0 && h->observed < ms_enum_visit_type.count ? ms_enum_visit_type.names[h->observed]
                                                                             : "?");
        jw_lit(w, ",\"limit\":");
        jw_str(w, setting_word(h->limit));
        return;
    case MS_RULE_OVER_QTY:
        jw_milli(w, h->observed);
        jw_lit(w, ",\"limit\":");
        jw_milli(w, h->limit);
        return;
    case MS_RULE_SCOPE:
        jw_str(w, c->diag_main ? c->diag_main : "");
        jw_lit(w, ",\"limit\":\"");
        for (size_t d = 0; it && d < it->ndiag; d++) {
            if (d) jw_put(w, ";", 1);
            jw_esc(w, it->diag[d]);
        }
        jw_lit(w, "\"");
        return;
    case MS_RULE_DUPLICATE: jw_lit(w, "null,\"limit\":null"); return;
    default:
        jw_i64(w, h->observed);
        jw_lit(w, ",\"limit\":");
        jw_i64(w, h->limit);
        return;
    }
}

static ms_status_t lang_check(const char *lang, const char **out)
{
    if (!lang) lang = "zh";
    if (strcmp(lang, "zh") && strcmp(lang, "en"))
        return ms_error_set(MS_E_USAGE, "language '%s': wants zh or en", lang);
    *out = lang;
    return MS_OK;
}

ms_status_t ms_check_verdict(const ms_checker_t *ck, const ms_claim_t *c, const char *claim_id,
                             unsigned carries, const ms_rule_hits_t *hits, const char *lang,
                             ms_buf_t *out)
{
    MS_TRY(lang_check(lang, &lang));
    size_t nrules = ms_ruleset_count(ck->rs), nrun = 0, nhits = 0, len0 = out->len;
    for (size_t i = 0; i < hits->n; i++)
        nhits += ms_check_rule_missing(ck, hits->hit[i].rule, carries) == NULL;
    jw_t w = {out, MS_OK};
    jw_lit(&w, "{\"claim_id\":");
    jw_str(&w, claim_id ? claim_id : "");
    jw_lit(&w, nhits ? ",\"verdict\":\"hit\",\"hits\":[" : ",\"verdict\":\"pass\",\"hits\":[");
    char reason[1024];
    int first = 1;
    for (size_t i = 0; i < hits->n; i++) {
        const ms_rule_hit_t *h = &hits->hit[i];
        if (ms_check_rule_missing(ck, h->rule, carries)) continue;
        const ms_rule_t *r = ms_ruleset_rule(ck->rs, h->rule);
        const ms_rule_line_t *l = &c->lines[h->line];
        jw_lit(&w, first ? "{\"rule\":" : ",{\"rule\":");
        first = 0;
        jw_str(&w, r->name);
        jw_lit(&w, ",\"template\":");
        jw_str(&w, ms_rule_template_name((int)r->tmpl));
        jw_lit(&w, ",\"line_no\":");
        jw_u64(&w, l->line_no);
        jw_lit(&w, ",\"item_code\":");
        jw_str(&w, l->item_code ? l->item_code : "");
        jw_lit(&w, ",\"date\":");
        jw_date(&w, l->date);
        ms_rule_hit_reason(ck->rs, c, h, lang, reason, sizeof reason);
        jw_lit(&w, ",\"reason\":");
        jw_str(&w, reason);
        jw_figures(&w, ck, c, r, l, h);
        if (h->other_settle || h->other_date) {
            jw_lit(&w, ",\"other_date\":");
            jw_date(&w, h->other_date);
            jw_lit(&w, ",\"other_settle_id\":");
            jw_u64(&w, h->other_settle);
        }
        if (h->other_item >= 0 && (size_t)h->other_item < ck->kb.n_items) {
            jw_lit(&w, ",\"other_item_code\":");
            jw_str(&w, ck->kb.items[h->other_item].item_code);
        }
        jw_lit(&w, "}");
    }
    for (size_t r = 0; r < nrules; r++) nrun += ms_check_rule_missing(ck, r, carries) == NULL;
    /* The verdict's score: the weights of the rules it hits, each once,
     * added in the configuration's order (the same sum every time). */
    double score = 0;
    for (size_t r = 0; r < nrules; r++)
        for (size_t i = 0; i < hits->n; i++)
            if (hits->hit[i].rule == r && !ms_check_rule_missing(ck, r, carries)) {
                score += ms_ruleset_rule(ck->rs, r)->weight;
                break;
            }
    char num[40];
    snprintf(num, sizeof num, "%.6g", score);
    jw_lit(&w, "],\"score\":");
    jw_lit(&w, num);
    jw_lit(&w, ",\"rules_run\":");
    jw_u64(&w, nrun);
    jw_lit(&w, ",\"rules_not_run\":[");
    first = 1;
    for (size_t r = 0; r < nrules; r++) {
        const char *missing = ms_check_rule_missing(ck, r, carries);
        if (!missing) continue;
        jw_lit(&w, first ? "{\"rule\":" : ",{\"rule\":");
        first = 0;
        jw_str(&w, ms_ruleset_rule(ck->rs, r)->name);
        jw_lit(&w, ",\"missing\":");
        jw_str(&w, missing);
        jw_lit(&w, "}");
    }
    jw_lit(&w, "],\"history\":");
    jw_lit(&w, !(carries & MS_CLAIM_HISTORY)            ? "\"none\"}"
               : (carries & MS_CLAIM_HISTORY_DATASET) ? "\"dataset\"}"
                                                      : "\"claim\"}");
    if (w.st != MS_OK) {
        out->len = len0;
        return ms_error_set(w.st, "out of memory writing a verdict");
    }
    return MS_OK;
}

/* ------------------------------------------------------------------ */
/* JSON in.  Every field is checked where it stands, in the document's
 * order, and the first fault is the error: its path ("lines[3].qty"), the
 * value as given and what is wanted. */

typedef struct {
    const char *arr; /* "lines", "traces", "history", or NULL: the claim itself */
    size_t idx;
} where_t;

static ms_status_t bad(const where_t *w, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static ms_status_t bad(const where_t *w, const char *field, const char *fmt, ...)
{
    char path[96], msg[512];
    if (w->arr && field) snprintf(path, sizeof path, "%s[%zu].%s", w->arr, w->idx, field);
    else if (w->arr) snprintf(path, sizeof path, "%s[%zu]", w->arr, w->idx);
    else snprintf(path, sizeof path, "%s", field ? field : "claim");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ms_error_set(MS_E_INPUT, "%s: %s", path, msg);
}

/* A value as a message quotes it: a string in quotes (at most 40 bytes),
 * a number as written, else its kind. */
static const char *show(const json_t *v, char *buf, size_t cap)
{
    switch (json_typeof(v)) {
    case JSON_STRING: {
        size_t n = json_string_length(v);
        snprintf(buf, cap, "\"%.*s\"%s", (int)(n > 40 ? 40 : n), json_string_value(v), n > 40 ? "..." : "");
        return buf;
    }
    case JSON_INTEGER: snprintf(buf, cap, "%lld", (long long)json_integer_value(v)); return buf;
    case JSON_REAL: snprintf(buf, cap, "%.17g", json_real_value(v)); return buf;
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    case JSON_NULL: return "null";
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    }
    return "?";
}

/* The member key of o, or NULL; counts it in *seen when present. */
static json_t *member(json_t *o, const char *key, size_t *seen)
{
    json_t *v = json_object_get(o, key);
    if (v) (*seen)++;
    return v;
}

/* Every member of o is one of names (NULL-terminated): checked only when
 * o has more members than were taken. */
static ms_status_t no_strangers(const where_t *w, json_t *o, size_t seen, const char *const *names,
                                const char *what)
{
    if (json_object_size(o) == seen) return MS_OK;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        size_t i = 0;
        while (names[i] && strcmp(names[i], key)) i++;
        if (!names[i]) {
            char list[512] = "";
            for (i = 0; names[i]; i++) {
                if (i) strncat(list, ", ", sizeof list - strlen(list) - 1);
                strncat(list, names[i], sizeof list - strlen(list) - 1);
            }
            return bad(w, key, "not a field of %s (its fields: %s)", what, list);
        }
    }
    return MS_OK;
}

static ms_status_t missing(const where_t *w, const char *key) { return bad(w, key, "missing"); }

/* An unsigned integer min..max: a JSON integer; for the 64-bit ids (max
 * UINT64_MAX) also a string of digits, since ids beyond 2^63 - 1 do not fit
 * a JSON integer in jansson. */
static ms_status_t get_uint(const where_t *w, json_t *v, const char *key, uint64_t min, uint64_t max,
                            uint64_t *out)
{
    char sh[64];
    uint64_t x = 0;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0 || (uint64_t)i < min || (uint64_t)i > max) goto range;
        *out = (uint64_t)i;
        return MS_OK;
    }
    if (json_is_string(v) && max == UINT64_MAX) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (n == 0 || n > 20) goto range;
        for (size_t i = 0; i < n; i++) {
            if (s[i] < '0' || s[i] > '9') goto range;
            unsigned d = (unsigned)(s[i] - '0');
            if (x > (UINT64_MAX - d) / 10) goto range;
            x = x * 10 + d;
        }
        if (x < min || x > max) goto range;
        *out = x;
        return MS_OK;
    }
range:
    return bad(w, key, "wants an integer %llu..%llu, got %s", (unsigned long long)min, (unsigned long long)max,
               show(v, sh, sizeof sh));
}

static ms_status_t field_uint(const where_t *w, json_t *o, const char *key, size_t *seen, int required,
                             uint64_t min, uint64_t max, uint64_t dflt, uint64_t *out)
{
    json_t *v = member(o, key, seen);
    if (!v) {
        if (required) return missing(w, key);
        *out = dflt;
        return MS_OK;
    }
    return get_uint(w, v, key, min, max, out);
}

/* Text of 1..max bytes without control characters. */
static ms_status_t field_text(const where_t *w, json_t *o, const char *key, size_t *seen, int required,
                             size_t max, const char **out, size_t *len)
{
    char sh[64];
    json_t *v = member(o, key, seen);
    if (!v) {
        if (required) return missing(w, key);
        *out = NULL;
        *len = 0;
        return MS_OK;
    }
    if (!json_is_string(v)) return bad(w, key, "wants a string, got %s", show(v, sh, sizeof sh));
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0 || n > max) return bad(w, key, "wants 1..%zu bytes, got %zu", max, n);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return bad(w, key, "%s holds a control character", show(v, sh, sizeof sh));
    *out = s;
    *len = n;
    return MS_OK;
}

static ms_status_t field_date(const where_t *w, json_t *o, const char *key, size_t *seen, int32_t *out)
{
    char sh[64];
    json_t *v = member(o, key, seen);
    if (!v) return missing(w, key);
    if (!json_is_string(v)) return bad(w, key, "wants a date \"YYYY-MM-DD\", got %s", show(v, sh, sizeof sh));
    int rc = ms_date_parse(json_string_value(v), json_string_length(v), out);
    if (rc == -2) return bad(w, key, "%s is outside %s", show(v, sh, sizeof sh), MS_DATE_WINDOW_TEXT);
    if (rc) return bad(w, key, "%s is not a date YYYY-MM-DD", show(v, sh, sizeof sh));
    return MS_OK;
}

/* One of an enum's words. */
static ms_status_t field_enum(const where_t *w, json_t *o, const char *key, size_t *seen, const ms_enum_t *e,
                             int *out)
{
    char sh[64], list[256] = "";
    json_t *v = member(o, key, seen);
    if (!v) return missing(w, key);
    int k = json_is_string(v) ? ms_enum_find(e, json_string_value(v), json_string_length(v)) : -1;
    if (k >= 0) {
        *out = k;
        return MS_OK;
    }
    for (int i = 0; i < e->count; i++) {
        if (i) strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, e->names[i], sizeof list - strlen(list) - 1);
    }
    return bad(w, key, "wants one of %s, got %s", list, show(v, sh, sizeof sh));
}

static ms_status_t field_category(const where_t *w, json_t *o, const char *key, size_t *seen, uint8_t *out)
{
    char sh[64], list[256] = "";
    json_t *v = member(o, key, seen);
    if (!v) return missing(w, key);
    int k = json_is_string(v) ? ms_item_category_find(json_string_value(v), json_string_length(v)) : -1;
    if (k >= 0) {
        *out = (uint8_t)k;
        return MS_OK;
    }
    for (int i = 0; i < MS_CAT_COUNT; i++) {
        if (i) strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, ms_item_category_name(i), sizeof list - strlen(list) - 1);
    }
    return bad(w, key, "wants one of %s, got %s", list, show(v, sh, sizeof sh));
}

/* "12.345" with at most dec decimals, scaled by 10^dec: 0, or -1 not a
 * decimal, -2 negative, -3 more decimals than dec (trailing zeros count,
 * as in ms_money_parse), -4 above max. */
static int parse_fixed(const char *s, size_t len, int dec, int64_t max, int64_t *out)
{
    size_t i = 0, nint = 0, nfrac = 0;
    if (len && s[0] == '-') return -2;
    while (i < len && s[i] >= '0' && s[i] <= '9') i++, nint++;
    size_t dot = i;
    if (i < len && s[i] == '.')
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++) nfrac++;
    if (i != len || nint + nfrac == 0) return -1;
    if (nfrac > (size_t)dec) return -3;
    int64_t v = 0;
    for (size_t k = 0; k < nint; k++) {
        if (v > max) return -4;
        v = v * 10 + (s[k] - '0');
    }
    for (int k = 0; k < dec; k++) {
        if (v > max) return -4;
        v = v * 10 + ((size_t)k < nfrac ? s[dot + 1 + (size_t)k] - '0' : 0);
    }
    if (v > max) return -4;
    *out = v;
    return 0;
}

/* A decimal of at most dec places (a string, or a JSON integer), scaled by
 * 10^dec, 0..max (min_one: > 0).  money: amounts in yuan go through the
 * project's money parser (ms_money_parse, two decimals). */
static ms_status_t field_decimal(const where_t *w, json_t *o, const char *key, size_t *seen, int required,
                                int dec, int64_t max, int positive, int money, int64_t *out)
{
    char sh[64];
    json_t *v = member(o, key, seen);
    if (!v) {
        if (required) return missing(w, key);
        *out = 0;
        return MS_OK;
    }
    int64_t scale = 1, x = 0;
    for (int k = 0; k < dec; k++) scale *= 10;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0) return bad(w, key, "%s is negative", show(v, sh, sizeof sh));
        if (i > max / scale) goto above;
        x = (int64_t)i * scale;
    } else if (json_is_real(v)) {
        return bad(w, key, "give a decimal as a string (\"%s\"), not the JSON number %s: its digits are not kept "
                   "exactly", show(v, sh, sizeof sh), sh);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (money) {
            int rc = ms_money_parse(s, n, &x);
            if (rc == MS_MONEY_RANGE) goto above;
            if (rc) return bad(w, key, "%s: %s", show(v, sh, sizeof sh), ms_money_error(rc));
            if (x > max) goto above;
        } else {
            int rc = parse_fixed(s, n, dec, max, &x);
            if (rc == -1) return bad(w, key, "%s is not a decimal number", show(v, sh, sizeof sh));
            if (rc == -2) return bad(w, key, "%s is negative", show(v, sh, sizeof sh));
            if (rc == -3) return bad(w, key, "%s has more than %d decimals", show(v, sh, sizeof sh), dec);
            if (rc == -4) goto above;
        }
    } else {
        return bad(w, key, "wants a decimal as a string (\"1.5\"), got %s", show(v, sh, sizeof sh));
    }
    if (positive && x == 0) return bad(w, key, "%s: must be more than 0", show(v, sh, sizeof sh));
    *out = x;
    return MS_OK;
above: {
    char lim[48];
    int64_t ip = max / scale, fp = max % scale;
    if (dec) snprintf(lim, sizeof lim, "%lld.%0*lld", (long long)ip, dec, (long long)fp);
    else snprintf(lim, sizeof lim, "%lld", (long long)ip);
    return bad(w, key, "%s is above the limit %s", show(v, sh, sizeof sh), lim);
}
}

/* An optional array of at most max elements; *n 0 and *present 0 when absent. */
static ms_status_t field_array(const where_t *w, json_t *o, const char *key, size_t *seen, size_t max,
                              json_t **arr, int *present)
{
    char sh[64];
    json_t *v = member(o, key, seen);
    *arr = v;
    *present = v != NULL;
    if (!v) return MS_OK;
    if (!json_is_array(v)) return bad(w, key, "wants an array, got %s", show(v, sh, sizeof sh));
    if (json_array_size(v) > max)
        return bad(w, key, "%zu elements, more than the limit of %zu", json_array_size(v), max);
    return MS_OK;
}

static ms_status_t element_object(const where_t *w, json_t *v)
{
    char sh[64];
    if (!json_is_object(v)) return bad(w, NULL, "wants an object, got %s", show(v, sh, sizeof sh));
    return MS_OK;
}

/* One claim, parsed: what ms_claim_t points to lives in the parse tree
 * (strings) and in these arrays. */
typedef struct {
    json_t *root;
    ms_claim_t c;
    const char *claim_id;
    ms_rule_line_t *lines, *history;
    ms_rule_trace_t *traces;
    unsigned carries;
} parsed_t;

static void parsed_free(parsed_t *p)
{
    json_decref(p->root);
    free(p->lines), free(p->history), free(p->traces);
}

/* The institution of a code: the reference files' id, or -1 (none there,
 * or no reference files). */
static int32_t inst_of(const ms_checker_t *ck, const char *code, size_t len)
{
    return ck->have_refs && code ? ms_refs_inst_find(&ck->refs, code, len) : -1;
}

static const char *const line_fields[] = {"line_no", "date", "item_code", "category", "qty", "unit_price",
                                          "amount", "days_supply", "doctor_id", NULL};
static const char *const history_fields[] = {"settle_id", "line_no", "inst_code", "date", "item_code",
                                             "category", "qty", "unit_price", "amount", "days_supply",
                                             "doctor_id", NULL};
static const char *const trace_fields[] = {"drug_code", "qty", "trace_code", NULL};
static const char *const claim_fields[] = {"claim_id", "settle_id", "person_id", "inst_code", "visit_type",
                                           "admit_date", "discharge_date", "age", "sex", "diag_main",
                                           "lines", "traces", "history", NULL};

/* A bill line (history: an earlier line, with its own settlement and
 * institution). */
static ms_status_t parse_line(const ms_checker_t *ck, const where_t *w, json_t *o, const ms_claim_t *c,
                              int history, ms_rule_line_t *l)
{
    size_t seen = 0, len;
    uint64_t u = 0;
    const char *code;
    MS_TRY(element_object(w, o));
    memset(l, 0, sizeof *l);
    if (history) {
        MS_TRY(field_uint(w, o, "settle_id", &seen, 1, 0, UINT64_MAX, 0, &l->settle_id));
        if (l->settle_id == c->settle_id)
            return bad(w, "settle_id", "%llu is the claim's own settlement (history holds earlier ones)",
                       (unsigned long long)l->settle_id);
        MS_TRY(field_uint(w, o, "line_no", &seen, 0, 1, UINT32_MAX, w->idx + 1, &u));
        l->line_no = (uint32_t)u;
        MS_TRY(field_text(w, o, "inst_code", &seen, 1, MS_INST_CODE_MAX, &code, &len));
        l->inst = inst_of(ck, code, len);
    } else {
        l->settle_id = c->settle_id;
        l->inst = c->inst;
        MS_TRY(field_uint(w, o, "line_no", &seen, 1, 1, UINT32_MAX, 0, &u));
        l->line_no = (uint32_t)u;
    }
    MS_TRY(field_date(w, o, "date", &seen, &l->date));
    if (!history && (l->date < c->admit_date || l->date > c->discharge_date)) {
        char a[11], b[11];
        ms_date_format(c->admit_date, a);
        ms_date_format(c->discharge_date, b);
        return bad(w, "date", "\"%s\" is outside the stay, %s..%s", json_string_value(json_object_get(o, "date")),
                   a, b);
    }
    MS_TRY(field_text(w, o, "item_code", &seen, 1, MS_ITEM_CODE_MAX, &l->item_code, &len));
    l->item = ms_knowledge_find(&ck->kb, l->item_code, len);
    MS_TRY(field_category(w, o, "category", &seen, &l->category));
    MS_TRY(field_decimal(w, o, "qty", &seen, 1, 3, (int64_t)MS_QTY_MAX * 1000, 1, 0, &l->qty_milli));
    MS_TRY(field_decimal(w, o, "unit_price", &seen, !history, 4, MS_MONEY_MAX_FEN * 100, 0, 0, &l->unit_price));
    MS_TRY(field_decimal(w, o, "amount", &seen, !history, 2, MS_MONEY_MAX_FEN, 0, 1, &l->amount));
    MS_TRY(field_uint(w, o, "days_supply", &seen, 0, 0, DAYS_SUPPLY_MAX, 0, &u));
    l->days_supply = (int32_t)u;
    MS_TRY(field_uint(w, o, "doctor_id", &seen, 0, 0, UINT32_MAX, 0, &u));
    l->doctor_id = (uint32_t)u;
    return no_strangers(w, o, seen, history ? history_fields : line_fields,
                        history ? "a history line" : "a bill line");
}

static ms_status_t parse_trace(const ms_checker_t *ck, const where_t *w, json_t *o, ms_rule_trace_t *t)
{
    size_t seen = 0, len;
    uint64_t u = 0;
    const char *code;
    MS_TRY(element_object(w, o));
    MS_TRY(field_text(w, o, "drug_code", &seen, 1, MS_DRUG_CODE_MAX, &code, &len));
    t->item = ms_knowledge_find(&ck->kb, code, len);
    MS_TRY(field_uint(w, o, "qty", &seen, 0, 1, MS_QTY_MAX, 1, &u));
    t->qty = (uint32_t)u;
    MS_TRY(field_text(w, o, "trace_code", &seen, 0, 20, &code, &len));
    if (code) {
        int digits = len == 20;
        for (size_t i = 0; digits && i < len; i++) digits = code[i] >= '0' && code[i] <= '9';
        if (!digits) return bad(w, "trace_code", "\"%s\" is not 20 digits", code);
    }
    return no_strangers(w, o, seen, trace_fields, "a trace");
}

/* Line numbers are unique (lines: line_no; history: settle_id and line_no):
 * sorted keys with their positions, neighbours compared. */
typedef struct {
    uint64_t a;
    uint32_t b, pos;
} key_t_;

static int key_cmp(const void *x, const void *y)
{
    const key_t_ *p = x, *q = y;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    if (p->b != q->b) return p->b < q->b ? -1 : 1;
    return p->pos < q->pos ? -1 : p->pos > q->pos;
}

static ms_status_t unique_lines(const char *arr, const ms_rule_line_t *l, size_t n, int history)
{
    if (n < 2) return MS_OK;
    key_t_ *k = malloc(n * sizeof *k);
    if (!k) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) k[i] = (key_t_){history ? l[i].settle_id : 0, l[i].line_no, (uint32_t)i};
    qsort(k, n, sizeof *k, key_cmp);
    ms_status_t st = MS_OK;
    for (size_t i = 1; i < n && st == MS_OK; i++)
        if (k[i].a == k[i - 1].a && k[i].b == k[i - 1].b) {
            where_t w = {arr, k[i].pos};
            st = history ? bad(&w, "line_no", "%u of settlement %llu repeats %s[%u]", k[i].b,
                               (unsigned long long)k[i].a, arr, k[i - 1].pos)
                         : bad(&w, "line_no", "%u repeats %s[%u]", k[i].b, arr, k[i - 1].pos);
        }
    free(k);
    return st;
}

static int line_cmp(const void *x, const void *y)
{
    const ms_rule_line_t *p = x, *q = y;
    if (p->date != q->date) return p->date < q->date ? -1 : 1;
    if (p->settle_id != q->settle_id) return p->settle_id < q->settle_id ? -1 : 1;
    return p->line_no < q->line_no ? -1 : p->line_no > q->line_no;
}

static ms_status_t parse_claim(const ms_checker_t *ck, const char *json, size_t len, parsed_t *p)
{
    json_error_t err;
    where_t top = {NULL, 0};
    memset(p, 0, sizeof *p);
    p->root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (!p->root)
        return ms_error_set(MS_E_INPUT, "claim: not JSON: %s (line %d, column %d)", err.text, err.line, err.column);
    json_t *o = p->root;
    if (!json_is_object(o)) return bad(&top, NULL, "wants a JSON object {...}");
    ms_claim_t *c = &p->c;
    size_t seen = 0, n;
    uint64_t u = 0;
    const char *code;
    int k = 0;
    MS_TRY(field_text(&top, o, "claim_id", &seen, 1, CLAIM_ID_MAX, &p->claim_id, &n));
    MS_TRY(field_uint(&top, o, "settle_id", &seen, 1, 0, UINT64_MAX, 0, &c->settle_id));
    MS_TRY(field_uint(&top, o, "person_id", &seen, 1, 0, UINT64_MAX, 0, &c->person_id));
    MS_TRY(field_text(&top, o, "inst_code", &seen, 1, MS_INST_CODE_MAX, &code, &n));
    c->inst = inst_of(ck, code, n);
    MS_TRY(field_enum(&top, o, "visit_type", &seen, &ms_enum_visit_type, &k));
    c->visit_type = (uint8_t)k;
    MS_TRY(field_date(&top, o, "admit_date", &seen, &c->admit_date));
    MS_TRY(field_date(&top, o, "discharge_date", &seen, &c->discharge_date));
    if (c->discharge_date < c->admit_date) return bad(&top, "discharge_date", "before admit_date");
    if (c->visit_type != MS_VISIT_INPATIENT && c->discharge_date != c->admit_date)
        return bad(&top, "discharge_date", "must equal admit_date for %s visits", ms_enum_visit_type.names[k]);
    MS_TRY(field_uint(&top, o, "age", &seen, 1, 0, MS_AGE_MAX, 0, &u));
    c->age = (uint8_t)u;
    MS_TRY(field_enum(&top, o, "sex", &seen, &ms_enum_sex, &k));
    c->sex = (uint8_t)k;
    MS_TRY(field_text(&top, o, "diag_main", &seen, 1, MS_DIAG_MAX, &c->diag_main, &n));
    for (size_t i = 0; i < n; i++) {
        char ch = c->diag_main[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '.'))
            return bad(&top, "diag_main", "\"%s\": wants letters, digits or '.'", c->diag_main);
    }

    json_t *lines, *traces, *history;
    int present;
    MS_TRY(field_array(&top, o, "lines", &seen, MS_CHECK_MAX_LINES, &lines, &present));
    if (!present) return missing(&top, "lines");
    if (json_array_size(lines) == 0) return bad(&top, "lines", "empty (a claim has at least one bill line)");
    MS_TRY(field_array(&top, o, "traces", &seen, MS_CHECK_MAX_TRACES, &traces, &present));
    if (present) p->carries |= MS_CLAIM_TRACES;
    MS_TRY(field_array(&top, o, "history", &seen, MS_CHECK_MAX_HISTORY, &history, &present));
    if (present) p->carries |= MS_CLAIM_HISTORY;
    MS_TRY(no_strangers(&top, o, seen, claim_fields, "a claim"));

    size_t nl = json_array_size(lines), nt = traces ? json_array_size(traces) : 0;
    size_t nh = history ? json_array_size(history) : 0;
    p->lines = malloc(nl * sizeof *p->lines);
    p->traces = malloc((nt ? nt : 1) * sizeof *p->traces);
    p->history = malloc((nh ? nh : 1) * sizeof *p->history);
    if (!p->lines || !p->traces || !p->history) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (size_t i = 0; i < nl; i++) {
        where_t w = {"lines", i};
        MS_TRY(parse_line(ck, &w, json_array_get(lines, i), c, 0, &p->lines[i]));
    }
    for (size_t i = 0; i < nt; i++) {
        where_t w = {"traces", i};
        MS_TRY(parse_trace(ck, &w, json_array_get(traces, i), &p->traces[i]));
    }
    for (size_t i = 0; i < nh; i++) {
        where_t w = {"history", i};
        MS_TRY(parse_line(ck, &w, json_array_get(history, i), c, 1, &p->history[i]));
    }
    MS_TRY(unique_lines("lines", p->lines, nl, 0));
    MS_TRY(unique_lines("history", p->history, nh, 1));
    qsort(p->lines, nl, sizeof *p->lines, line_cmp);
    qsort(p->history, nh, sizeof *p->history, line_cmp);
    c->lines = p->lines;
    c->nlines = nl;
    c->traces = p->traces;
    c->ntraces = nt;
    c->history = p->history;
    c->nhistory = nh;
    /* No "history": the person's from the dataset, when the checker has it. */
    if (!(p->carries & MS_CLAIM_HISTORY) && ck->hist) {
        ms_rule_line_t *h;
        size_t nd;
        MS_TRY(ms_check_history(ck, c, &h, &nd));
        free(p->history);
        p->history = h;
        c->history = h;
        c->nhistory = nd;
        p->carries |= MS_CLAIM_HISTORY | MS_CLAIM_HISTORY_DATASET;
    }
    return MS_OK;
}

ms_status_t ms_check_json(const ms_checker_t *ck, const char *json, size_t len, const char *lang,
                          ms_buf_t *out)
{
    MS_TRY(lang_check(lang, &lang));
    parsed_t p;
    ms_status_t st = parse_claim(ck, json, len, &p);
    if (st == MS_E_INPUT) {
        size_t len0 = out->len;
        ms_status_t wst = ms_buf_put(out, "{\"error\":", 9);
        if (wst == MS_OK) wst = ms_check_json_string(out, ms_error_detail());
        if (wst == MS_OK) wst = ms_buf_put(out, "}", 1);
        if (wst != MS_OK) {
            out->len = len0;
            st = wst;
        }
    }
    if (st == MS_OK) {
        ms_rule_hits_t hits = {0};
        st = ms_check_claim(ck, &p.c, &hits);
        if (st == MS_OK) st = ms_check_verdict(ck, &p.c, p.claim_id, p.carries, &hits, lang, out);
        ms_rule_hits_free(&hits);
    }
    parsed_free(&p);
    return st;
}
