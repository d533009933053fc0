/*
 * ms_sweep_int.h - what the files of engine/sweep share: the sweep's state,
 * a worker's, and the functions of each concern.  Private to engine/sweep.
 *
 *   ms_sweep.c         the driver: set-up, the stages in order, clean-up
 *   ms_sweep_models.c  which models run, the batch each sees, named failures
 *   ms_sweep_map.c     workers, queues, the map pipeline, progress
 *   ms_sweep_plan.c    the partition set, dataset window and size, memory
 *                      budget, node queues
 *   ms_sweep_state.c   output directory and its lock, manifest, resume, the
 *                      new outputs swapped in whole
 *   ms_sweep_reduce.c  merge in partition order, keyed reduce
 *   ms_sweep_runjson.c run.json
 *   ms_partial.c       a partition's persisted states
 *   ms_quality.c       the data-quality filter
 */
#ifndef MS_SWEEP_INT_H
#define MS_SWEEP_INT_H

/* Models a sweep may leave out for want of bill lines. */
#define MS_SWEEP_NOT_RUN_MAX 8

#include <jansson.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "ms_clock.h"
#include "ms_config.h"
#include "ms_dataset.h"
#include "ms_output.h"
#include "ms_parallel.h"
#include "ms_score.h"
#include "ms_kernels.h"
#include "ms_libversions.h"
#include "ms_fs.h"
#include "ms_model.h"
#include "ms_knowledge.h"
#include "ms_part.h"
#include "ms_rules.h"
#include "ms_partial.h"
#include "ms_quality.h"
#include "ms_shuffle.h"
#include "ms_topology.h"

#ifndef MS_VERSION
#define MS_VERSION "dev"
#endif

#define STATE_DIR ".sweep-state"
/* In STATE_DIR: the lock held for the whole run (flock; the holder's pid in
 * it), and the folder the outputs are written into before they replace
 * OUT's whole. */
#define LOCK_FILE "lock"
#define STAGE_DIR "output"

/* ----------------------------------------------------------------- state */
/* A batch's keys of one keyed aggregation (ms_sweep_keys.c), grown as
 * batches need. */
typedef struct {
    uint64_t *k0, *k1;
    size_t cap;
} sw_keybuf_t;

typedef struct {
    ms_reader_t *reader[MS_TABLE_COUNT];
    ms_quality_t quality[MS_TABLE_COUNT];
    /* [nmodels] each, for the whole sweep */
    ms_emit_t *emit;
    uint8_t *all, *shuffled;
    uint32_t *starts;          /* a batch's persons: ms_kernels()->segments_u64 */
    sw_keybuf_t keys;          /* a batch's keys (sw_keys_warm) */
    size_t starts_cap;
    double read_cpu;           /* CPU seconds reading and screening batches */
    double *model_cpu;         /* [2 * nmodels] CPU seconds in each model's batch, then person */
} worker_t;

/* Work units are slices of partitions: a partition of more than
 * SLICE_ROWS settlements (and 16 per institution) is cut into slices of
 * about that many (whole
 * chunks of each table; a person belongs to the slice where its first row
 * lies, ms_reader.h), so that a dataset of few partitions still keeps every
 * worker busy.  The cut depends on the data only, never on the threads.
 * Each slice gets fresh model states; a partition's slices are merged in
 * slice order (whichever worker finishes them) and the partition's
 * partial is written once, by the worker that completes it. */
#define SLICE_ROWS ((uint64_t)8 * MS_DEFAULT_CHUNK_ROWS)

typedef struct {
    uint64_t *units;          /* partition << 32 | slice, of the partitions whose home is this node */
    uint32_t n;
    uint32_t next;            /* atomic cursor */
} node_queue_t;

/* A partition while its slices are swept. */
typedef struct {
    omp_lock_t lock;
    uint32_t nslices;
    uint32_t merged;          /* slices merged into acc, in slice order */
    uint32_t ended;           /* slices finished, failed or passed over */
    ms_partial_t acc;         /* slices [0, merged) merged */
    ms_partial_t *pending;    /* [nslices] finished slices waiting for their turn */
    uint8_t *done;            /* [nslices] ended */
} part_run_t;

/* One keyed aggregation as the models' emits reach it (ms_sweep_keys.c):
 * its shuffle, and, when its keys were counted before the map, the counts
 * that decide which records it holds. */
typedef struct {
    ms_shuffle_t *shuf;
    const ms_keyed_t *kd;
    int model;                /* index into sweep_t.models */
    unsigned bits;            /* the count has 1 << bits counters (0: no count planned) */
    uint8_t *count;           /* [1 << bits] keys counted, at most 255 (atomic adds); NULL: every record is held */
    void *floor_state;        /* the model's state fresh from init, for kd->floor */
    uint64_t *left_out;       /* [nthreads * 8] records left out, per thread (a line each) */
    uint64_t left_total;      /* summed after the map */
} sw_keyed_t;

typedef struct {
    const ms_sweep_opts_t *o;
    char *out;                       /* o->out without trailing slashes */
    int lock_fd;                     /* OUT/.sweep-state/lock, held; -1 */
    ms_dataset_t ds;
    ms_partset_t set;                /* the partition files against what they record */
    uint32_t nparts;                 /* the dataset's partitions (set.count) */
    ms_config_t cfg;
    ms_model_env_t *env;             /* [nmodels] one per model: its rules */
    uint32_t *peer;                  /* [n_inst] peer group */
    uint32_t npeer;
    const ms_model_t **models;       /* [nmodels] in registry order */
    int nmodels;
    const ms_model_t *not_run[MS_SWEEP_NOT_RUN_MAX]; /* models left out: the dataset has no bill lines */
    int nnot_run;
    ms_knowledge_t kb;               /* the dataset's knowledge base (has_kb: read) */
    int has_kb;
    ms_ruleset_t *rules;             /* cfg.rules compiled against kb, when a model reads bill lines */
    uint64_t cols[MS_TABLE_COUNT];   /* the columns read of each table (0: the table is not read) */
    ms_topology_t topo;
    ms_plan_t plan;
    char *state_dir;
    ms_shuffle_t **shuf;      /* [nkeyed] every keyed aggregation of every model */
    sw_keyed_t *kf;           /* [nkeyed] the same, as emits reach them */
    void **kimpl;             /* [nkeyed] &kf[k], the models' ms_emit_t.impl */
    char key_count_off[700];  /* why keys were not counted ("" when they were or none could be) */
    /* With --skip-bad, partitions the key count could not read (the count
     * stays on for the others): [nparts] their status (MS_OK: read) and
     * message, or NULL when none failed; the map fails such a partition
     * instead of emitting records whose keys were not all counted. */
    ms_status_t *count_st;
    char (*count_msg)[640];
    double key_count_s;       /* wall seconds of the key count */
    int *keyed_base;          /* [nmodels] index of the model's first in shuf */
    int nkeyed;
    uint8_t *resumed;         /* [nparts] partial found at start */
    char (*redo_msg)[640];    /* [nparts] why a damaged partial is swept again ("" when not) */
    uint32_t nredone;
    node_queue_t *queues;     /* [topo.nnodes] */
    part_run_t *runs;         /* [nparts] */
    /* With room in the cap (sw_budget_memory), each worker also merges the
     * partitions it ends into a state of its own, so the merge stage reads
     * back only the partials of partitions swept in an earlier run. */
    int accumulate;
    ms_partial_t *acc;        /* [nthreads] when accumulate */
    uint8_t *in_acc;          /* [nparts] merged into a worker's acc */
    ms_status_t *part_st;     /* [nparts] */
    char (*part_msg)[640];
    uint8_t *skipped;         /* [nparts] excluded (--skip-bad) */
    int failed;
    int worker_nomem;         /* a worker could not allocate its arrays */
    int pinned_all;
    /* progress */
    uint64_t rows_done, parts_done;
    double t0, map_t0, last_print; /* the sweep's and the map stage's start */
    int written;
    size_t memory_cap, shuffle_cap; /* shuffle_cap: all keyed aggregations together */
    size_t *keyed_cap;        /* [nkeyed] each one's share of shuffle_cap */
    size_t budget_states, budget_score; /* the budget's measured states and scoring estimate */
    size_t budget_merge, budget_reduce; /* what the merge and the reduce hold beside keyed aggregation */
    int32_t min_date, max_date;
    uint64_t total_rows;
    uint64_t table_rows[MS_TABLE_COUNT]; /* of total_rows, per table */
    double stage[6];
    /* Where the time went (run.json): CPU seconds of the map's reading and
     * of each model's batch and person callbacks ([2 * nmodels], batch
     * then person), summed over workers, and the wall seconds of each
     * model's reduce ([nmodels]). */
    double read_cpu, *model_map_cpu, *model_reduce_s;
    char config_hash[20];
    /* The cluster mode (docs/cluster.md): this process is rank `rank` of
     * `nranks` and maps the partitions [part_lo, part_hi); one rank alone
     * maps them all. */
    int rank, nranks;
    uint32_t part_lo, part_hi;
    uint64_t my_rows;         /* rows of this rank's partitions (progress) */
    uint64_t *keyed_sent;     /* [2 * nkeyed] records and bytes this rank sent in the exchange */
    double exchange_s;        /* wall seconds of the exchange */
    uint64_t *rank_stats;     /* [nranks * SW_RANK_STATS] at rank 0 (sw_gather_ranks) */
} sweep_t;

/* Per rank, gathered at rank 0: first and past-last partition, rows read,
 * keyed records and bytes sent, map and exchange microseconds (run.json);
 * then the rows its partials counted per table and the rows they rejected
 * per table and reason (RS_COUNTS + t, RS_REJECTED + t * MS_REJECT_COUNT + r). */
enum { RS_PART_LO, RS_PART_HI, RS_ROWS, RS_SENT_RECORDS, RS_SENT_BYTES, RS_MAP_US, RS_EXCHANGE_US, RS_COUNTS,
       RS_REJECTED = RS_COUNTS + MS_TABLE_COUNT, SW_RANK_STATS = RS_REJECTED + MS_TABLE_COUNT * MS_REJECT_COUNT };

enum { ST_PLAN, ST_MAP, ST_MERGE, ST_REDUCE, ST_FINALIZE, ST_WRITE };

#define SW_STAGES 6
extern const char *const sw_stage_names[SW_STAGES];

/* ms_sweep_models.c */
ms_status_t sw_select_models(sweep_t *sw);
ms_status_t sw_emit_fn(void *impl, int tid, uint64_t k0, uint64_t k1, const void *value);
void sw_model_view(const ms_model_t *mod, ms_table_id_t table, const ms_batch_t *b, ms_batch_t *view);
ms_status_t sw_model_checked(const ms_model_t *mod, ms_table_id_t table, ms_status_t st);

/* ms_sweep_keys.c: the key count (docs/engine.md, Key count).  plan takes
 * each counted aggregation's counters out of its share of the cap (after
 * sw_budget_memory); count reads the key columns of this rank's partitions
 * and sums the counts over the ranks (collective); a partition it cannot
 * read leaves every record held (key_count_off says why), or with
 * --skip-bad is left to the map to exclude (count_st); done frees the
 * counts after the map. */
ms_status_t sw_keys_setup(sweep_t *sw);
void sw_keys_plan(sweep_t *sw);
/* Records a keyed aggregation expects to emit in this sweep, about (its
 * per-row rates times the dataset's rows: ms_sweep_plan.c). */
double sw_keyed_records(const sweep_t *sw, const ms_keyed_t *kd);
ms_status_t sw_keys_count(sweep_t *sw);
/* Before model m sees batch b of table t in the map: the counters its
 * emits will read, fetched into the cache (each is a miss otherwise). */
ms_status_t sw_keys_warm(sweep_t *sw, worker_t *w, int m, ms_table_id_t t, const ms_batch_t *b);
void sw_keys_done(sweep_t *sw);
void sw_keys_free(sweep_t *sw);
/* ms_sweep_map.c */
/* When a progress report is due: after a batch (throttled), when a
 * partition ends, when the map stage ends (the finished report). */
typedef enum { SW_AT_BATCH, SW_AT_PARTITION, SW_AT_END } sw_progress_at_t;
void sw_progress(sweep_t *sw, sw_progress_at_t at);
ms_status_t sw_open_part(sweep_t *sw, uint32_t p, const ms_table_t *t, ms_part_t **part);
void sw_worker_run(sweep_t *sw, int tid);

/* ms_sweep_reduce.c */
/* fn(sw, m, a, b) for every model m, models in parallel (each model's own
 * work stays in its order, so nothing depends on the threads); the error is
 * the first failing model's, named. */
ms_status_t sw_each_model(sweep_t *sw, ms_status_t (*fn)(sweep_t *, int, void **, void **), void **a, void **b);

/* ms_sweep_plan.c */
ms_status_t sw_check_partitions(sweep_t *sw);
ms_status_t sw_mark_skipped_partitions(sweep_t *sw);
uint32_t sw_stray_partitions(const sweep_t *sw);
ms_status_t sw_make_queues(sweep_t *sw);
void sw_free_queues(sweep_t *sw);
ms_status_t sw_dataset_dates(sweep_t *sw);
ms_status_t sw_budget_memory(sweep_t *sw);
/* Before a stage that holds need bytes: the heap's free pages back to the
 * system when what the process holds and need would pass the cap. */
void sw_fit_heap(const sweep_t *sw, size_t need);

/* ms_sweep_state.c */
char *sw_manifest_text(const sweep_t *sw);
void sw_compute_config_hash(sweep_t *sw);
ms_status_t sw_prepare_output(sweep_t *sw);
ms_status_t sw_install_output(sweep_t *sw, const char *stage);

/* ms_sweep_reduce.c */
ms_status_t sw_merge_all(sweep_t *sw, void **global, ms_sweep_result_t *res);
ms_status_t sw_init_all(sweep_t *sw, void **global);
ms_status_t sw_reduce_all(sweep_t *sw, void **global);
/* The cluster mode.  sw_merge_all merges this rank's partitions only
 * [part_lo, part_hi); gather_states then merges every other rank's states
 * into rank 0's global in rank order (each rank's range state after the
 * merge, then with keyed_only its reduced states) and leaves the other
 * ranks' states empty again; gather_ranks collects each rank's figures at
 * rank 0 (sw->rank_stats) and adds the other ranks' rows and rejections
 * to rank 0's res. */
ms_status_t sw_gather_states(sweep_t *sw, void **global, int keyed_only);
ms_status_t sw_gather_ranks(sweep_t *sw, ms_sweep_result_t *res);

/* ms_sweep_runjson.c */
ms_status_t sw_write_run_json(sweep_t *sw, const ms_sweep_result_t *res, const char *dir);
/* The configured rules that ran, and those left out for want of a knowledge base. */
void sw_rules_count(const sweep_t *sw, int *run, int *no_kb);

#endif
