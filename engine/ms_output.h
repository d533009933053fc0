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
} ms_output_t;

ms_status_t ms_output_write(const ms_output_t *o);

#endif
