/*
 * ms_sweep_summary.h - what a sweep read, rejected and took, as the
 * outputs that are read by people (report.html) show it; run.json has the
 * same figures.  Filled by the sweep before the outputs are written.
 */
#ifndef MS_SWEEP_SUMMARY_H
#define MS_SWEEP_SUMMARY_H

#include <stdint.h>

#define MS_RUN_REJECT_REASONS 5 /* = MS_REJECT_COUNT (engine/sweep/ms_sweep.h) */

typedef struct {
    const char *dataset;        /* the dataset swept (its path) */
    int32_t min_date, max_date; /* of its settlements, days since 1970-01-01 */
    uint64_t rows[2];           /* settlements, drug items read */
    uint64_t rejected[2][MS_RUN_REJECT_REASONS]; /* per table and reason (ms_reject_name order) */
    const char *const *reject_names; /* [MS_RUN_REJECT_REASONS] the reasons' names */
    uint32_t partitions, partitions_skipped;
    double seconds;             /* the sweep's wall time up to the outputs */
    const char *config_hash;    /* run.json's configuration.hash */
    const char *version;        /* medsweep's */
    /* The rule base over itemised bills (docs/rules.md). */
    int bills;                  /* the dataset has bill lines (service_items) */
    uint64_t bill_lines;        /* read (0 when no model read them) */
    int rules_not_run;          /* rules left out: the knowledge base they read is missing */
    int rules_run;              /* rules that ran */
} ms_run_summary_t;

#endif
