/*
 * ms_i18n.h - the message catalogue: every word a person reads in the
 * outputs (ranked.csv's reasons, clues.csv's findings, report.html), in
 * Chinese (the national bureau's default) and English, in one table
 * (ms_i18n.c).  Column names of the CSV files and names in features.h5
 * stay English: they are identifiers tools rely on.
 *
 * Keys: "model.<model>" (a model's name); "<model>.<indicator>.name",
 * ".reason" (what a ranked row says), ".other" (a clue's counterpart);
 * "level.<0..3>", "kind.<kind>", "province.<2 digits>"; "word.<...>"
 * (clues.csv's record and date words); "report.<...>" (report.html).
 * The number formats of reasons are in ms_score_reasons, one per
 * language.  English words of indicators come from the models'
 * descriptors when the catalogue has none.
 */
#ifndef MS_I18N_H
#define MS_I18N_H

#include "ms_model.h"

typedef enum { MS_LANG_ZH = 0, MS_LANG_EN = 1 } ms_lang_t;

/* "zh" or "en"; 0 on success, -1 for anything else. */
int ms_lang_parse(const char *s, ms_lang_t *out);
const char *ms_lang_code(ms_lang_t lang);

/* The message of key in lang, or NULL when the catalogue has none. */
const char *ms_msg(ms_lang_t lang, const char *key);
/* The same, or fallback when the catalogue has none. */
const char *ms_msg_or(ms_lang_t lang, const char *key, const char *fallback);

/* An indicator's words in lang (zh from the catalogue, en from the
 * catalogue or else the model's descriptor): its display name, the reason
 * a ranked row gives, and what its clues' counterpart is (NULL: none). */
const char *ms_msg_indicator(ms_lang_t lang, const ms_model_t *m, int ind);
const char *ms_msg_reason(ms_lang_t lang, const ms_model_t *m, int ind);
const char *ms_msg_other(ms_lang_t lang, const ms_model_t *m, int ind);
const char *ms_msg_model(ms_lang_t lang, const ms_model_t *m);

/* An institution's level (0..3) and kind (ms_enum_kind), and the province
 * of a 6-digit region code, in words ("" when unknown). */
const char *ms_msg_level(ms_lang_t lang, int level);
const char *ms_msg_kind(ms_lang_t lang, const char *kind);
const char *ms_msg_province(ms_lang_t lang, int region);

/* Every key of the catalogue (tests: both languages present, sorted). */
size_t ms_msg_count(void);
const char *ms_msg_key(size_t i);

/* A part of the catalogue: messages sorted by key.  The catalogue is the
 * sweep's words (ms_i18n.c) and report.html's (ms_i18n_report.c); a key
 * is in one part only. */
typedef struct {
    const char *key, *zh, *en;
} ms_msg_entry_t;
extern const ms_msg_entry_t ms_report_messages[];
extern const size_t ms_report_nmessages;

#endif
