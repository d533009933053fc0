/*
 * ms_progress.h - how long jobs (import, gen, sweep) report progress.
 *
 * Library code never prints: it fills an ms_progress_t and calls the
 * callback its caller gave it (NULL: nobody listens).  The command line
 * (engine/cli) turns the reports into the progress line on the terminal.
 * A job calls the callback from whichever thread made progress, never from
 * two threads at once, at most every few hundred milliseconds; done = 1 on
 * the last report of a stage.
 */
#ifndef MS_PROGRESS_H
#define MS_PROGRESS_H

#include <stdint.h>

typedef struct {
    const char *job;     /* "import", "gen", "sweep" */
    const char *stage;   /* what is being done now: "settlements.csv", "sorting and writing", "partitions" */
    uint64_t done, total;/* units of the stage (0 total: unknown) */
    const char *unit;    /* "partitions", "%", ... */
    uint64_t records;    /* records handled so far (0: not counted) */
    double seconds;      /* since the job started */
    double eta_seconds;  /* < 0 unknown */
    int finished;        /* last report of this stage */
} ms_progress_t;

typedef void (*ms_progress_fn)(void *ctx, const ms_progress_t *p);

#endif
