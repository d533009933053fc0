/*
 * ms_output.h - what a sweep writes (docs/models.md, Outputs), each
 * file whole or not at all: ranked.csv, ranked_<model>.csv, clues.csv,
 * indicators.csv, features.h5.  run.json is written by the sweep itself.
 */
#ifndef MS_OUTPUT_H
#define MS_OUTPUT_H

#include "ms_i18n.h"
#include "ms_score.h"
#include "ms_sweep_summary.h"

typedef struct {
    const char *dir;
    const ms_score_t *score;
    int top;                   /* cut the ranked lists (0: all); never the features */
    /* The data_coverage column of every ranked row: "complete", or what
     * was left out ("partial: 1 of 6 partitions skipped, see run.json"):
     * a list made with --skip-bad says so wherever it is read. */
    const char *coverage;
    int threads;               /* files written at once (0 or 1: one at a time) */
    const char *version;       /* medsweep's, and run.json's configuration.hash: */
    const char *config_hash;   /* features.h5's attributes (NULL: "") */
    ms_lang_t lang;            /* the words of reasons, findings and report.html (--lang) */
    int excel;                 /* CSV files start with a UTF-8 byte-order mark (--excel) */
    const ms_run_summary_t *run; /* what was read and rejected (report.html's summary; NULL: none) */
} ms_output_t;

/* Every file, each by one thread, up to o->threads at once (the largest
 * first): the files are independent, so their bytes do not depend on it.
 * When some fail, the error is the first failing file's in a fixed order
 * (features.h5, indicators.csv, ranked.csv, clues.csv, report.html,
 * ranked_<model>.csv by model). */
ms_status_t ms_output_write(const ms_output_t *o);

#endif
