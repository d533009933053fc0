/*
 * ms_check.h - pre-notification (事前提醒): one claim judged by the rule
 * base before it is settled (docs/prenotification.md).
 *
 * A hospital system sends a claim (a settlement with its itemised bill, the
 * packages scanned for it and, for the rules that look across time, the
 * person's earlier lines); the answer is "pass", or the rules it hits with
 * their reasons.  The rules are the weekly sweep's (models/ms_rules.h, the
 * `rules` section of the rule configuration), applied by the same function
 * to the same knowledge base, so a claim judged here is judged as the sweep
 * will judge it.
 *
 * A checker holds what every claim is judged against: the configuration,
 * the knowledge base, the institutions (optional), the compiled rule set
 * and (optional) the dataset's recent bill lines, the history of a claim
 * that brings none (ms_check_history.h).
 * It is read-only once opened: any number of threads may check claims with
 * one checker at the same time.  Nothing here is global, and nothing prints.
 *
 * Two ways in:
 *   ms_check_claim  a claim already in memory (ms_claim_t: ids, days,
 *                   thousandths, fen), as the sweep and the benchmarks hold it;
 *   ms_check_json   a claim as JSON text, as the server and `medsweep check`
 *                   receive it: parsed, every field validated (an error names
 *                   the JSON path: `lines[3].qty: "1.2345" has more than 3
 *                   decimals`), codes resolved, rules applied, and the
 *                   verdict written as JSON.
 */
#ifndef MS_CHECK_H
#define MS_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "ms_buf.h"
#include "ms_knowledge.h"
#include "ms_rules.h"
#include "ms_status.h"

/* Limits of one claim (more is refused naming the array). */
#define MS_CHECK_MAX_LINES 10000
#define MS_CHECK_MAX_HISTORY 100000
#define MS_CHECK_MAX_TRACES 100000

/* The look-back of the history taken from a dataset's bills (days before a
 * claim's first line): `medsweep check` and `serve` default, and most. */
#define MS_CHECK_HISTORY_DAYS 180
#define MS_CHECK_HISTORY_DAYS_MAX 3650

typedef struct {
    const char *config;    /* the rule configuration (libconfig); NULL: the built-in rules */
    const char *dataset;   /* a dataset directory: its knowledge.h5 and institutions.h5 (each
                              optional, one at least); NULL: none */
    const char *knowledge; /* a knowledge CSV directory (items.csv, exclusive_items.csv); taken
                              instead of the dataset's knowledge.h5; NULL: none */
    int history_days;      /* 1..MS_CHECK_HISTORY_DAYS_MAX: a claim without "history" is given
                              the person's bill lines from the dataset's service_items (when it
                              has them, its institutions.h5 and a knowledge base), those of the
                              history_days before the claim's first line up to its last; the
                              dataset's lines within history_days of its latest are indexed in
                              memory at open.  0: none (such a claim's history rules do not
                              run) */
} ms_check_opts_t;

typedef struct ms_checker ms_checker_t;

/* Open a checker.  Without a knowledge base the rules that need one are
 * reported as not run with every verdict.  With a dataset, history_days > 0
 * and bill lines in the dataset, the history index is built here, in the
 * calling thread (every service_items partition is read once).  Errors:
 * the configuration's (MS_E_USAGE naming file, line and key), the
 * knowledge base's and the reference files' (naming file, line, column), a
 * dataset that is no directory or holds neither knowledge.h5 nor
 * institutions.h5 (MS_E_USAGE), history_days out of its range
 * (MS_E_USAGE), a bill partition that cannot be read (naming it). */
ms_status_t ms_checker_open(const ms_check_opts_t *o, ms_checker_t **out);
/* NULL is allowed. */
void ms_checker_close(ms_checker_t *ck);

typedef struct {
    size_t rules;           /* enabled rules */
    size_t knowledge_items; /* 0: no knowledge base */
    size_t exclusive_pairs;
    size_t institutions;    /* 0: no reference files (inst_code is then not resolved) */
    char config_hash[17];   /* the resolved configuration's hash, as run.json writes it */
    int32_t history_days;   /* > 0: claims without "history" get the dataset's (its look-back);
                               0: they do not */
    size_t history_lines;   /* bill lines held for them (0 without) */
    size_t history_bytes;   /* the memory those take */
    int32_t history_from, history_to; /* the dates those lines cover (history_days > 0) */
} ms_checker_info_t;

void ms_checker_info(const ms_checker_t *ck, ms_checker_info_t *info);
const ms_ruleset_t *ms_checker_ruleset(const ms_checker_t *ck);
const ms_knowledge_t *ms_checker_knowledge(const ms_checker_t *ck);

/* What a claim carries beyond its bill (a JSON claim without "history"
 * carries no history, unless the checker gives it the dataset's: the rules
 * that look across it do not run, rather than pass for want of data;
 * "history": [] says there is none). */
enum {
    MS_CLAIM_HISTORY = 1,   /* the person's earlier lines were given */
    MS_CLAIM_TRACES = 2,    /* the packages scanned for it were given */
    MS_CLAIM_ALL = 3,
    MS_CLAIM_HISTORY_DATASET = 8 /* with MS_CLAIM_HISTORY: those lines came from the checker's
                                    dataset (ms_check_history), not with the claim */
};

/* Why rule r (an index of ms_checker_ruleset) does not run on a claim that
 * carries `carries`: "knowledge", "history" or "traces"; NULL when it runs. */
const char *ms_check_rule_missing(const ms_checker_t *ck, size_t r, unsigned carries);

/* Apply every enabled rule to claim c (lines sorted by (date, line_no),
 * history by (date, settle_id, line_no), as ms_rules.h says); hits in
 * *hits (cleared first; free with ms_rule_hits_free).  The same as
 * ms_rules_apply with the checker's rule set. */
ms_status_t ms_check_claim(const ms_checker_t *ck, const ms_claim_t *c, ms_rule_hits_t *hits);

/* The person's history from the checker's dataset, as a JSON claim without
 * "history" is given it: the bill lines of c->person_id in the dataset's
 * service_items, other than those of c->settle_id, dated from the first of
 * c's lines minus history_days to the last of them, sorted by (date,
 * settle_id, line_no), in *out (malloc'd, the caller frees it; NULL when
 * *n is 0; item_code points into the checker, no price, amount or doctor).
 * A caller that judges c with them gives ms_check_verdict MS_CLAIM_HISTORY
 * | MS_CLAIM_HISTORY_DATASET.  MS_E_USAGE when the checker holds no
 * dataset history (ms_checker_info: history_days 0). */
ms_status_t ms_check_history(const ms_checker_t *ck, const ms_claim_t *c, ms_rule_line_t **out, size_t *n);

/* The verdict of claim c as one line of JSON (no newline), appended to
 * out: {"claim_id", "verdict": "pass"|"hit", "hits": [...], "score",
 * "rules_run", "rules_not_run": [...], "history": "claim"|"dataset"|"none"}
 * (docs/prenotification.md; history from carries).  Hits of rules that
 * do not run on what c carries are left out.  lang: "zh" or "en", the
 * language of the reasons. */
ms_status_t ms_check_verdict(const ms_checker_t *ck, const ms_claim_t *c, const char *claim_id,
                             unsigned carries, const ms_rule_hits_t *hits, const char *lang,
                             ms_buf_t *out);

/* Parse, validate and judge one claim given as JSON text (len bytes; the
 * format of docs/prenotification.md), appending its verdict to out as
 * ms_check_verdict writes it.  A claim that is not JSON or not valid
 * returns MS_E_INPUT, with the reason naming the JSON path in
 * ms_error_detail() and {"error": "<the same>"} appended to out; any other
 * failure (MS_E_NOMEM) appends nothing.  lang: "zh" or "en" (else
 * MS_E_USAGE). */
ms_status_t ms_check_json(const ms_checker_t *ck, const char *json, size_t len, const char *lang,
                          ms_buf_t *out);

/* Append s to out as a JSON string (quotes, escapes). */
ms_status_t ms_check_json_string(ms_buf_t *out, const char *s);

#endif
