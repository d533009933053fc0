/*
 * ms_import.h - canonical CSV into a dataset directory (medsweep import).
 *
 * Pass 1 streams each CSV once: every field validated, money parsed to fen,
 * codes looked up or added to the dictionaries, rows spilled to binary files
 * per partition (by ms_person_partition).  A large file is split into ranges
 * at record boundaries (quote parity) and parsed by several threads, each
 * with its own spill files and dictionary maps, merged in range order.  Pass 2, in parallel over
 * partitions: load one partition's spill, remap dictionary ids to their
 * sorted rank, sort by (person_id, date, settle_id), check cross-row rules
 * (unique settle_id, drug items and bill lines pointing at their settlement,
 * bill lines adding up to it), write the
 * HDF5 partition.  Memory: one partition plus the dictionaries, whatever the
 * size of the CSV.
 *
 * Everything is built in DATASET_DIR.importing-<pid> and renamed into place
 * at the end, so a failed or killed import leaves no dataset behind.  What
 * a killed import leaves (its DATASET_DIR.importing-<pid>) the next import
 * into DATASET_DIR removes when no process has that pid any more
 * (res->leftovers_removed).
 *
 * Progress goes to opts->progress (job "import"): stages "settlements.csv",
 * "service_items.csv" and "drug_items.csv" (percent of the file read,
 * records so far) and
 * "sorting and writing" (partitions done of all).  One call at a time, at
 * most about four a second, finished = 1 on the last report of each stage.
 */
#ifndef MS_IMPORT_H
#define MS_IMPORT_H

#include <stdint.h>

#include "ms_progress.h"
#include "ms_status.h"

typedef struct {
    int skip_bad;          /* import good rows, write bad ones to rejected.csv */
    int replace;           /* replace an existing dataset */
    uint32_t partitions;   /* 0 = choose from the size of settlements.csv */
    uint32_t chunk_rows;   /* 0 = MS_DEFAULT_CHUNK_ROWS */
    int threads;           /* 0 = OpenMP default */
    ms_progress_fn progress; /* progress reports (job "import"); NULL: silent */
    void *progress_ctx;      /* passed back to progress */
} ms_import_opts_t;

typedef struct {
    uint64_t institutions, groups, settlements, drug_items, service_items;
    int have_service_items;     /* the extract had service_items.csv */
    int have_knowledge;         /* the extract had knowledge/ (DATASET_DIR/knowledge.h5 written) */
    uint64_t knowledge_items;   /* items of its knowledge base */
    uint64_t rejected;     /* rows written to rejected.csv (skip_bad) */
    uint32_t partitions;
    uint32_t leftovers_removed; /* DATASET_DIR.importing-<pid> of imports whose process is gone, removed */
    double seconds;
} ms_import_result_t;

ms_status_t ms_import(const char *csv_dir, const char *dataset_dir, const ms_import_opts_t *opts,
                      ms_import_result_t *res);

#endif
