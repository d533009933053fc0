/*
 * ms_output.h - what a sweep writes (docs/models.md, Outputs), each
 * file whole or not at all: ranked.csv, ranked_<model>.csv, clues.csv,
 * indicators.csv, features.h5.  run.json is written by the sweep itself.
 */
#ifndef MS_OUTPUT_H
#define MS_OUTPUT_H

#include "ms_score.h"

typedef struct {
    const char *dir;
    const ms_score_t *score;
    int top;                   /* cut the ranked lists (0: all); never the features */
    /* The data_coverage column of every ranked row: "complete", or what
     * was left out ("partial: 1 of 6 partitions skipped, see run.json"):
     * a list made with --skip-bad says so wherever it is read. */
    const char *coverage;
} ms_output_t;

ms_status_t ms_output_write(const ms_output_t *o);

#endif
