/*
 * ms_testsweep.h - a model test's fixture, and what it reads back.
 *
 * A test makes a fresh directory (ms_testsweep_init), writes a dataset of
 * ms_testdata rows into it (ms_testsweep_data), may give rules
 * (ms_testsweep_rules), sweeps it with the real medsweep
 * (ms_testsweep_run), checks indicators.csv and clues.csv (by the header's
 * column names, ms_testcsv) and removes the directory (ms_testsweep_done).
 */
#ifndef MS_TESTSWEEP_H
#define MS_TESTSWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "ms_testcsv.h"
#include "ms_testdata.h"

typedef struct {
    char *dir;          /* $MS_TEST_TMP/<name>-<pid>, fresh */
    char data[600];     /* dir/data: the dataset */
    char out[600];      /* dir/out: the sweep's output */
    char out2[600];     /* dir/out2: another sweep's, to compare with out */
    char cfg[600];      /* dir/rules.cfg: the rules of ms_testsweep_rules */
    const char *model;  /* the model swept (--models) and checked; NULL: all */
    int has_rules;      /* cfg written: sweeps pass --config cfg */
} ms_testsweep_t;

/* A fresh directory for a test of model (NULL: every model). */
void ms_testsweep_init(ms_testsweep_t *f, const char *name, const char *model);
/* Remove the directory. */
void ms_testsweep_done(ms_testsweep_t *f);

/* Write t into f->data (asserting it is written). */
void ms_testsweep_data(ms_testsweep_t *f, ms_testdata_t *t);
/* Write rules into f->cfg: the sweeps that follow read them (--config).
 * Without rules a sweep asks for all clues (ms_testdata_sweep). */
void ms_testsweep_rules(ms_testsweep_t *f, const char *text);
/* Sweep f->data into out (f->out or f->out2) with --models f->model, the
 * rules, and args (NULL: none), in English (--lang en) unless args say a
 * --lang; asserts exit status 0 (the log is printed when not). */
void ms_testsweep_run(const ms_testsweep_t *f, const char *out, const char *args);

/* Sweep again into f->out2 with args: indicators.csv and clues.csv are the
 * same bytes as f->out's (asserted). */
void ms_testsweep_same_run(const ms_testsweep_t *f, const char *args);

/* f->out's indicator (inst, f->model, indicator) is num/den: asserts that
 * it is there and both numbers (what differs is printed). */
void ms_testsweep_expect(const ms_testsweep_t *f, const char *inst, const char *indicator, long long num,
                         long long den);

/* settle_id in ms_testsweep_clue_count: any. */
#define MS_TEST_ANY_ID UINT64_MAX

/* The rows of clues.csv (read with ms_testcsv) of inst, model and indicator
 * (each NULL: any): their number, and the settle_ids of the first max of
 * them in file order in ids. */
size_t ms_testsweep_clue_ids(const ms_testcsv_t *clues, const char *inst, const char *model, const char *indicator,
                             uint64_t *ids, size_t max);
/* The number of those rows that name settle_id (MS_TEST_ANY_ID: any). */
size_t ms_testsweep_clue_count(const ms_testcsv_t *clues, const char *inst, const char *model,
                               const char *indicator, uint64_t settle_id);

/* Clues a test expects: (institution, indicator, settle_id). */
typedef struct {
    const char *inst, *indicator;
    uint64_t settle_id;
} ms_testclue_t;

typedef struct {
    ms_testclue_t *v;
    size_t n, cap;
} ms_testclues_t;

void ms_testclues_add(ms_testclues_t *l, const char *inst, const char *indicator, uint64_t settle_id);
void ms_testclues_free(ms_testclues_t *l);

/* f->out's clues of f->model are want, and nothing else: each expected clue
 * is there exactly once when once is set, at least once when not (a missing
 * one is printed), and f->model has as many clues as want has (asserted). */
void ms_testsweep_clues_are(const ms_testsweep_t *f, const ms_testclues_t *want, int once);

/* Rules `medsweep models --config` refuses: each text, written to f->cfg,
 * exits 2 (a usage error) with a message that contains want. */
typedef struct {
    const char *text, *want;
} ms_testsweep_bad_t;

void ms_testsweep_refused(const ms_testsweep_t *f, const ms_testsweep_bad_t *cases, size_t n);
/* The defaults `medsweep models --config` prints (exit status 0) contain
 * every piece of the list that ends with NULL. */
void ms_testsweep_defaults(const char *piece, ...) __attribute__((sentinel));

/* The smallest --memory-cap, in MiB, that `sweep data --models model
 * --threads threads` accepts, read from the message refusing a smaller one
 * (tests of keyed aggregations force a spill with it). */
long ms_testsweep_min_cap_mib(const char *data, const char *out, const char *model, int threads);

#endif
