/*
 * ms_sweep.h - medsweep sweep: every partition through every model, on
 * every core, merged in a fixed order; resumable after a kill.
 * docs/engine.md explains threads, queues, memory and ordering.
 */
#ifndef MS_SWEEP_H
#define MS_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "ms_progress.h"
#include "ms_reader.h"
#include "ms_status.h"

/* Why a row was not trusted (counted in run.json, never scored). */
typedef enum {
    MS_REJECT_UNKNOWN_INSTITUTION,
    MS_REJECT_UNKNOWN_CODE,
    MS_REJECT_DATES_OUT_OF_ORDER,
    MS_REJECT_SUMS_DO_NOT_ADD_UP,
    MS_REJECT_NEGATIVE_AMOUNT,
    MS_REJECT_COUNT
} ms_reject_t;

const char *ms_reject_name(ms_reject_t r);

typedef struct {
    const char *dataset;
    const char *out;
    int threads;               /* 0: one per core */
    const char *topology;      /* hwloc synthetic description for the plan, or NULL */
    const char *models;        /* comma-separated model names, NULL: all */
    const struct ms_model *const *model_list; /* the models to choose from, NULL: the registry's
                                                 (a test's or a benchmark's own models) */
    int nmodel_list;
    const char *config;        /* rule configuration file, NULL: defaults */
    int resume;                /* finish an interrupted sweep in out */
    int replace;               /* overwrite an earlier sweep in out */
    int skip_bad;              /* exclude unreadable partitions instead of failing */
    ms_progress_fn progress;   /* NULL: quiet */
    void *progress_ctx;
    size_t batch_rows;         /* 0: from the plan */
    size_t memory_cap;         /* bytes for the whole sweep, 0: half the RAM, at most 4 GiB */
    uint64_t slice_rows;       /* settlements per slice of a partition; 0: the default
                                  (docs/engine.md, Queues); tests set it */
    int all_columns;           /* read every column (benchmarks) */
    int no_key_count;          /* emit every keyed record, counting no keys first (docs/engine.md, Key count) */
    int top;                   /* cut the ranked lists to N rows (0: all) */
    int lang;                  /* ms_lang_t: the words of the outputs (0: Chinese, 1: English) */
    int excel;                 /* CSV outputs start with a UTF-8 byte-order mark */
    ms_read_mode_t read_mode;
    /* Test builds only (medsweep-testhooks, built with MS_TEST_HOOKS; NULL
     * in the shipped program): called with "partition" and how many
     * partitions this run has persisted, right after each, and with "merge",
     * "reduce", "write" and "install" (n 0) as the run reaches them. */
    void (*test_hook)(const char *point, uint32_t n);
} ms_sweep_opts_t;

typedef struct {
    uint32_t partitions, partitions_resumed, partitions_skipped;
    uint32_t partitions_redone; /* --resume: saved partials found damaged, swept again */
    uint64_t rows[MS_TABLE_COUNT]; /* settlements, drug items, bill lines read (a table no model reads: 0) */
    uint64_t rejected[MS_TABLE_COUNT][MS_REJECT_COUNT];
    double seconds;
    size_t peak_rss;
    uint32_t ranked;           /* institutions in ranked.csv (before --top) */
    uint32_t flagged;          /* of which with a priority above 0 (a reason) */
} ms_sweep_result_t;

void ms_sweep_opts_init(ms_sweep_opts_t *o);
ms_status_t ms_sweep(const ms_sweep_opts_t *o, ms_sweep_result_t *res);

/* Is dir the output of a sweep (finished or interrupted)? */
int ms_sweep_output_exists(const char *dir);

#endif
