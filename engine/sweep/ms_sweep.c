/*
 * ms_sweep.c - the sweep engine.
 *
 * Threads.  One OpenMP worker per planned thread, pinned to its core
 * (ms_plan_t).  Each worker owns, for the whole sweep, one reader per table
 * and its quality-filter buffers, allocated after pinning so that their
 * pages are first touched on the worker's NUMA node.
 *
 * Queues.  Partitions are the unit of work and of persistence.  Each NUMA
 * node has a queue of the partitions whose home it is (in partition order);
 * a worker takes from its own node's queue (one atomic add) and, when that
 * is empty, from the other nodes' queues in turn.  Which worker sweeps which
 * partition changes from run to run; nothing in the output depends on it.
 *
 * Pipeline.  For a partition: open both tables, then for each table read
 * batches of whole persons (the reader decodes chunks in this thread, no
 * lock), drop rows that fail the quality checks, hand the batch to every
 * model (batch callback, then one person callback per person), emit keyed
 * records into the shuffle.  The kernel's read-ahead (posix_fadvise on the
 * next chunk) keeps the disk busy while the worker decodes and computes.
 *
 * Ordering.  Each partition gets fresh model states; when it is done they
 * are saved to OUT/.sweep-state/part-N.partial and freed.  After all
 * partitions, the main thread loads the partials in partition order and
 * merges them (model merge callbacks: into += later), so every sum, list and
 * floating-point reduction happens in the same order whatever the threads,
 * nodes or scheduling.  Keyed aggregation is reduced after the map phase;
 * its per-thread states are merged in thread order and must be commutative.
 *
 * Resume.  Finished partitions are not swept again: their partials are
 * loaded.  The shuffle is not persisted: on resume its map phase re-reads
 * the finished partitions for the models that use it (docs/engine.md).
 */
#include "ms_sweep.h"

#include <errno.h>
#include <jansson.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "ms_config.h"
#include "ms_dataset.h"
#include "ms_output.h"
#include "ms_score.h"
#include "ms_kernels.h"
#include "ms_libversions.h"
#include "ms_fs.h"
#include "ms_model.h"
#include "ms_part.h"
#include "ms_partial.h"
#include "ms_quality.h"
#include "ms_shuffle.h"
#include "ms_topology.h"

#ifndef MS_VERSION
#define MS_VERSION "dev"
#endif

#define MAX_MODELS 32
#define STATE_DIR ".sweep-state"

void ms_sweep_opts_init(ms_sweep_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->progress = 1;
    o->read_mode = MS_READ_PREAD;
}

int ms_sweep_output_exists(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/run.json", dir);
    if (ms_path_exists(path)) return 1;
    snprintf(path, sizeof path, "%s/" STATE_DIR, dir);
    return ms_is_dir(path);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ----------------------------------------------------------------- state */

typedef struct {
    ms_reader_t *reader[2];
    ms_quality_t quality[2];
} worker_t;

typedef struct {
    uint32_t *parts;          /* partitions whose home is this node */
    uint32_t n;
    uint32_t next;            /* atomic cursor */
} node_queue_t;

typedef struct {
    const ms_sweep_opts_t *o;
    ms_dataset_t ds;
    ms_config_t cfg;
    ms_model_env_t env[MAX_MODELS];  /* one per model: its rules */
    uint32_t *peer;                  /* [n_inst] peer group */
    uint32_t npeer;
    const ms_model_t *models[MAX_MODELS];
    int nmodels;
    uint64_t cols[2];
    ms_topology_t topo;
    ms_plan_t plan;
    char *state_dir;
    ms_shuffle_t *shuf[MAX_MODELS];
    uint8_t *resumed;         /* [nparts] partial found at start */
    node_queue_t *queues;     /* [topo.nnodes] */
    ms_status_t *part_st;     /* [nparts] */
    char (*part_msg)[640];
    uint8_t *skipped;         /* [nparts] */
    int failed;
    int pinned_all;
    /* progress */
    uint64_t rows_done, parts_done;
    double t0, last_print;
    int kill_after, written;
    size_t memory_cap, shuffle_cap;
    int32_t min_date, max_date;
    uint64_t total_rows;
    double stage[6];
    char config_hash[20];
} sweep_t;

enum { ST_PLAN, ST_MAP, ST_MERGE, ST_REDUCE, ST_FINALIZE, ST_WRITE };
static const char *const stage_names[6] = {"plan", "map", "merge", "reduce", "finalize", "write"};

/* Test hooks (docs/engine.md): kill -9 ourselves at a chosen point. */
static void maybe_kill_at(const char *stage)
{
    const char *at = getenv("MS_SWEEP_KILL_AT");
    if (at && !strcmp(at, stage)) raise(SIGKILL);
}

/* ---------------------------------------------------------------- models */

static ms_status_t select_models(sweep_t *sw)
{
    int n;
    const ms_model_t *const *all = ms_models(&n);
    const char *list = sw->o->models;
    if (!list || !*list || !strcmp(list, "all")) {
        for (int i = 0; i < n && i < MAX_MODELS; i++) sw->models[sw->nmodels++] = all[i];
        return MS_OK;
    }
    /* In registry order, whatever order they were named in. */
    char *copy = strdup(list), *save = NULL;
    if (!copy) return ms_error_set(MS_E_NOMEM, "out of memory");
    int want[MAX_MODELS] = {0};
    ms_status_t st = MS_OK;
    for (char *tok = strtok_r(copy, ",", &save); tok && st == MS_OK; tok = strtok_r(NULL, ",", &save)) {
        int k = 0;
        while (k < n && strcmp(all[k]->name, tok)) k++;
        if (k == n) st = ms_error_set(MS_E_USAGE, "unknown model '%s' (medsweep models lists them)", tok);
        else want[k] = 1;
    }
    free(copy);
    /* The volume model always runs: it counts the records each institution
     * had swept, which every ranked row reports. */
    for (int i = 0; i < n; i++)
        if (!strcmp(all[i]->name, "volume")) want[i] = 1;
    for (int i = 0; st == MS_OK && i < n && i < MAX_MODELS; i++)
        if (want[i]) sw->models[sw->nmodels++] = all[i];
    return st;
}

static ms_status_t emit_fn(void *impl, int tid, uint64_t k0, uint64_t k1, const void *value)
{
    return ms_shuffle_emit(impl, tid, (ms_key_t){k0, k1}, value);
}

/* -------------------------------------------------------------- progress */

static void progress(sweep_t *sw, int force)
{
    if (!sw->o->progress) return;
    double t = now_s();
    int tty = isatty(2);
    double every = tty ? 0.25 : 10.0;
    int print = 0;
#pragma omp critical(sweep_progress)
    {
        if (force || t - sw->last_print >= every) {
            sw->last_print = t;
            print = 1;
        }
    }
    if (!print) return;
    uint64_t rows, parts;
#pragma omp atomic read
    rows = sw->rows_done;
#pragma omp atomic read
    parts = sw->parts_done;
    double el = t - sw->t0, rate = el > 0 ? (double)rows / el : 0;
    uint32_t n = sw->ds.nparts[MS_TABLE_SETTLEMENTS];
    double eta = rows > 0 && sw->total_rows > rows ? el * (double)(sw->total_rows - rows) / (double)rows : 0;
    char eta_text[16] = "--:--";
    if (rows > 0) snprintf(eta_text, sizeof eta_text, "%d:%02d", (int)eta / 60, (int)eta % 60);
    fprintf(stderr, "%ssweep: %llu/%u partitions, %.1f M records, %.2f M rec/s, ETA %s%s", tty ? "\r" : "",
            (unsigned long long)parts, n, (double)rows / 1e6, rate / 1e6, eta_text, tty ? "   " : "\n");
    if (tty && force) fputc('\n', stderr);
}

/* ------------------------------------------------------------- the sweep */

/* Open table t of partition p, or mark why not. */
static ms_status_t open_part(sweep_t *sw, uint32_t p, const ms_table_t *t, ms_part_t **part)
{
    char path[4096];
    ms_dataset_part_path(sw->ds.dir, t, p, path, sizeof path);
    return ms_part_open(path, t, &sw->ds.refs, part);
}

/* Sweep one table of one partition through the models in `run`. */
static ms_status_t sweep_table(sweep_t *sw, worker_t *w, int tid, ms_part_t *part, ms_table_id_t table,
                               void **states, const uint8_t *run, ms_partial_t *out)
{
    const ms_table_t *t = ms_table(table);
    ms_reader_t **r = &w->reader[table];
    size_t batch = sw->o->batch_rows ? sw->o->batch_rows : sw->plan.batch_rows;
    if (*r) MS_TRY(ms_reader_seek(*r, part, 0, ms_part_nchunks(part)));
    else MS_TRY(ms_reader_open(part, sw->cols[table], 0, ms_part_nchunks(part), batch, sw->o->read_mode, r));
    ms_emit_t emit[MAX_MODELS];
    for (int m = 0; m < sw->nmodels; m++) emit[m] = (ms_emit_t){sw->shuf[m], tid, emit_fn};
    ms_batch_t b;
    ms_status_t st;
    int pid_col = ms_table_column(t, "person_id");
    while ((st = ms_reader_next(*r, &b)) == MS_OK && b.rows) {
        size_t raw = b.rows;
        MS_TRY(ms_quality_filter(&w->quality[table], &sw->ds.refs, table, &b, out->rejected[table]));
        out->rows[table] += raw;
        for (int m = 0; m < sw->nmodels; m++) {
            const ms_model_t *mod = sw->models[m];
            uint64_t need = table == MS_TABLE_SETTLEMENTS ? mod->settlement_cols : mod->drug_cols;
            if (!run[m] || !need) continue;
            if (mod->batch) MS_TRY(mod->batch(states[m], table, &b, &emit[m]));
            if (!mod->person) continue;
            const uint64_t *pid = b.col[pid_col];
            for (size_t i = 0; i < b.rows;) {
                size_t j = i + 1;
                while (j < b.rows && pid[j] == pid[i]) j++;
                MS_TRY(mod->person(states[m], table, &b, i, j, &emit[m]));
                i = j;
            }
        }
#pragma omp atomic
        sw->rows_done += raw;
        progress(sw, 0);
    }
    return st;
}

/* Read every batch of one table (decoding every chunk of the columns the
 * sweep reads), giving them to no model. */
static ms_status_t verify_table(sweep_t *sw, worker_t *w, ms_part_t *part, ms_table_id_t table)
{
    ms_reader_t **r = &w->reader[table];
    size_t batch = sw->o->batch_rows ? sw->o->batch_rows : sw->plan.batch_rows;
    if (*r) MS_TRY(ms_reader_seek(*r, part, 0, ms_part_nchunks(part)));
    else MS_TRY(ms_reader_open(part, sw->cols[table], 0, ms_part_nchunks(part), batch, sw->o->read_mode, r));
    ms_batch_t b;
    ms_status_t st;
    while ((st = ms_reader_next(*r, &b)) == MS_OK && b.rows) {}
    return st;
}

/* Sweep partition p with the models marked in run; persist when asked. */
static ms_status_t sweep_partition(sweep_t *sw, worker_t *w, int tid, uint32_t p, const uint8_t *run, int persist)
{
    ms_partial_t out;
    memset(&out, 0, sizeof out);
    out.index = p;
    out.nmodels = sw->nmodels;
    void *states[MAX_MODELS] = {0};
    out.states = states;
    ms_part_t *parts[2] = {NULL, NULL};
    ms_status_t st = MS_OK;
    for (int t = 0; t < 2 && st == MS_OK; t++)
        if (p < sw->ds.nparts[t] && sw->cols[t]) st = open_part(sw, p, ms_table((ms_table_id_t)t), &parts[t]);
    /* With --skip-bad and keyed aggregation, read the partition through
     * once before the models see it: records emitted into the shuffle
     * cannot be taken back, so a partition found damaged halfway would
     * leave part of itself in the result it is meant to be excluded from. */
    int shuffled = 0;
    for (int m = 0; m < sw->nmodels; m++) shuffled |= run[m] && sw->shuf[m] != NULL;
    for (int t = 0; t < 2 && st == MS_OK && sw->o->skip_bad && shuffled; t++)
        if (parts[t]) st = verify_table(sw, w, parts[t], (ms_table_id_t)t);
    for (int m = 0; st == MS_OK && m < sw->nmodels; m++)
        if (run[m]) st = sw->models[m]->init(&sw->env[m], &states[m]);
    for (int t = 0; t < 2 && st == MS_OK; t++)
        if (parts[t]) st = sweep_table(sw, w, tid, parts[t], (ms_table_id_t)t, states, run, &out);
    if (st == MS_OK && persist) st = ms_partial_write(sw->state_dir, &out, sw->models);
    for (int m = 0; m < sw->nmodels; m++)
        if (states[m]) sw->models[m]->free(states[m]);
    ms_part_close(parts[0]);
    ms_part_close(parts[1]);
    return st;
}

/* The next partition for a worker on node: its own queue, then the others'. */
static int next_partition(sweep_t *sw, int node, uint32_t *p)
{
    for (int k = 0; k < sw->topo.nnodes; k++) {
        node_queue_t *q = &sw->queues[(node + k) % sw->topo.nnodes];
        uint32_t i;
#pragma omp atomic capture
        i = q->next++;
        if (i < q->n) {
            *p = q->parts[i];
            return 1;
        }
    }
    return 0;
}

static void worker_run(sweep_t *sw, int tid)
{
    worker_t w;
    memset(&w, 0, sizeof w);
    int node = sw->plan.thread_node[tid];
    if (ms_topology_bind_thread(&sw->topo, sw->plan.thread_core[tid]) != MS_OK) {
#pragma omp atomic write
        sw->pinned_all = 0;
    }
    uint8_t all[MAX_MODELS], shuffled[MAX_MODELS];
    for (int m = 0; m < sw->nmodels; m++) {
        all[m] = 1;
        shuffled[m] = sw->shuf[m] != NULL;
    }
    uint32_t p;
    while (next_partition(sw, node, &p)) {
        int stop;
#pragma omp atomic read
        stop = sw->failed;
        if (stop) break;
        ms_status_t st;
        int resumed = sw->resumed[p];
        if (resumed) {
            /* Loaded later; only the shuffle's map must be redone. */
            int any = 0;
            for (int m = 0; m < sw->nmodels; m++) any |= shuffled[m];
            st = any ? sweep_partition(sw, &w, tid, p, shuffled, 0) : MS_OK;
        } else {
            st = sweep_partition(sw, &w, tid, p, all, 1);
        }
        if (st != MS_OK) {
            snprintf(sw->part_msg[p], sizeof sw->part_msg[p], "%s", ms_error_detail());
            sw->part_st[p] = st;
            int bad_input = st == MS_E_CORRUPT || st == MS_E_SCHEMA || st == MS_E_MISMATCH || st == MS_E_IO;
            if (sw->o->skip_bad && bad_input && !resumed) {
                sw->skipped[p] = 1;
                ms_status_t mk = ms_partial_mark_skipped(sw->state_dir, p, sw->part_msg[p]);
                if (mk != MS_OK) {
                    snprintf(sw->part_msg[p], sizeof sw->part_msg[p], "%s", ms_error_detail());
                    sw->part_st[p] = mk;
                    sw->skipped[p] = 0;
#pragma omp atomic write
                    sw->failed = 1;
                }
            } else {
#pragma omp atomic write
                sw->failed = 1;
            }
        } else if (!resumed) {
            int written;
#pragma omp atomic capture
            written = ++sw->written;
            if (sw->kill_after > 0 && written >= sw->kill_after) raise(SIGKILL);
        }
#pragma omp atomic
        sw->parts_done++;
        progress(sw, 0);
    }
    for (int t = 0; t < 2; t++) {
        ms_reader_close(w.reader[t]);
        ms_quality_free(&w.quality[t]);
    }
}

/* ----------------------------------------------------------------- setup */

static ms_status_t make_queues(sweep_t *sw)
{
    uint32_t n = sw->ds.nparts[MS_TABLE_SETTLEMENTS];
    sw->queues = calloc((size_t)sw->topo.nnodes, sizeof *sw->queues);
    if (!sw->queues) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (int k = 0; k < sw->topo.nnodes; k++) {
        sw->queues[k].parts = malloc((n ? n : 1) * sizeof(uint32_t));
        if (!sw->queues[k].parts) return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    for (uint32_t p = 0; p < n; p++) {
        node_queue_t *q = &sw->queues[sw->plan.part_node[p]];
        q->parts[q->n++] = p;
    }
    return MS_OK;
}

/* The manifest: what must be equal for partials to be reused. */
static char *manifest_text(const sweep_t *sw)
{
    char ref[40], *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (!fp) return NULL;
    ms_refs_checksum_text(&sw->ds.refs, ref);
    fprintf(fp, "medsweep sweep state 1\nreference %s\npartitions %u %u\n", ref,
            sw->ds.nparts[MS_TABLE_SETTLEMENTS], sw->ds.nparts[MS_TABLE_DRUG_ITEMS]);
    for (int m = 0; m < sw->nmodels; m++) fprintf(fp, "model %s %s\n", sw->models[m]->name, sw->models[m]->version);
    fprintf(fp, "config %s\n", sw->config_hash);
    fclose(fp);
    return buf;
}

static void compute_config_hash(sweep_t *sw)
{
    /* What changes results: the rules (resolved) and the models with their
     * versions.  Threads and topology do not. */
    XXH3_state_t *s = XXH3_createState();
    XXH3_64bits_reset(s);
    XXH3_64bits_update(s, &sw->cfg.hash, sizeof sw->cfg.hash);
    for (int m = 0; m < sw->nmodels; m++) {
        XXH3_64bits_update(s, sw->models[m]->name, strlen(sw->models[m]->name) + 1);
        XXH3_64bits_update(s, sw->models[m]->version, strlen(sw->models[m]->version) + 1);
    }
    snprintf(sw->config_hash, sizeof sw->config_hash, "%016llx", (unsigned long long)XXH3_64bits_digest(s));
    XXH3_freeState(s);
}

static ms_status_t prepare_output(sweep_t *sw)
{
    const ms_sweep_opts_t *o = sw->o;
    int exists = ms_sweep_output_exists(o->out);
    char state[4200];
    snprintf(state, sizeof state, "%s/" STATE_DIR, o->out);
    if (o->resume) {
        if (!ms_is_dir(state))
            return ms_error_set(MS_E_USAGE, "%s holds no interrupted sweep to resume%s", o->out,
                                exists ? " (it is finished)" : "");
    } else if (exists && !o->replace) {
        return ms_error_set(MS_E_EXISTS, ms_is_dir(state)
                                             ? "%s holds an interrupted sweep; --resume finishes it, --replace starts over"
                                             : "%s already holds a sweep; use --replace",
                            o->out);
    } else {
        MS_TRY(ms_outdir_check(o->out, 1, ms_sweep_output_exists, "a sweep"));
        if (exists) MS_TRY(ms_remove_tree(o->out));
    }
    MS_TRY(ms_mkdirs(state));
    sw->state_dir = strdup(state);
    return sw->state_dir ? MS_OK : ms_error_set(MS_E_NOMEM, "out of memory");
}

/* The window the dataset covers, and its size, from the partitions'
 * attributes (one HDF5 open each, no data read). */
static ms_status_t dataset_dates(sweep_t *sw)
{
    sw->min_date = INT32_MAX;
    sw->max_date = INT32_MIN;
    for (uint32_t p = 0; p < sw->ds.nparts[MS_TABLE_SETTLEMENTS]; p++) {
        ms_part_t *part = NULL;
        if (open_part(sw, p, ms_table(MS_TABLE_SETTLEMENTS), &part) != MS_OK) continue; /* reported when swept */
        const ms_part_info_t *info = ms_part_info(part);
        if (info->rows) {
            if (info->min_date < sw->min_date) sw->min_date = info->min_date;
            if (info->max_date > sw->max_date) sw->max_date = info->max_date;
        }
        sw->total_rows += info->rows;
        ms_part_close(part);
    }
    for (uint32_t p = 0; p < sw->ds.nparts[MS_TABLE_DRUG_ITEMS]; p++) {
        ms_part_t *part = NULL;
        if (open_part(sw, p, ms_table(MS_TABLE_DRUG_ITEMS), &part) != MS_OK) continue;
        sw->total_rows += ms_part_info(part)->rows;
        ms_part_close(part);
    }
    if (sw->min_date > sw->max_date) sw->min_date = sw->max_date = 0;
    return MS_OK;
}

/* Physical memory in bytes (0 unknown). */
static size_t physical_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && size > 0 ? (size_t)pages * (size_t)size : 0;
}

/* --memory-cap bounds the whole sweep.  What a worker needs is known from
 * the plan (its readers' staging: a batch plus two chunks of every column
 * read, the chunk scratch, the quality buffers); the libraries and the
 * reference data get a fixed allowance; keyed aggregation, shared by the
 * models that use it, gets the rest. */
#define FIXED_ALLOWANCE ((size_t)64 << 20)

static ms_status_t budget_memory(sweep_t *sw)
{
    size_t phys = physical_memory();
    size_t dflt = phys ? phys / 2 : (size_t)4 << 30;
    if (dflt > (size_t)4 << 30) dflt = (size_t)4 << 30;
    sw->memory_cap = sw->o->memory_cap ? sw->o->memory_cap : dflt;
    size_t batch = sw->o->batch_rows ? sw->o->batch_rows : sw->plan.batch_rows;
    size_t per_thread = 0;
    for (int t = 0; t < 2; t++) {
        const ms_table_t *tb = ms_table((ms_table_id_t)t);
        size_t row = 0;
        for (int c = 0; c < tb->ncols; c++)
            if (sw->cols[t] >> c & 1) row += ms_ctype_size(tb->cols[c].type);
        if (row) per_thread += (2 * batch + 2 * MS_DEFAULT_CHUNK_ROWS) * row + 3 * MS_DEFAULT_CHUNK_ROWS * 8;
    }
    size_t states = (size_t)(sw->plan.nthreads + 2) * sw->ds.refs.n_inst * 8 * 16;
    size_t need = FIXED_ALLOWANCE + (size_t)sw->plan.nthreads * per_thread + states;
    int shuffles = 0;
    for (int m = 0; m < sw->nmodels; m++) shuffles += sw->models[m]->shuffle_value_size > 0;
    size_t least = need + (shuffles ? (size_t)16 << 20 : 0);
    if (sw->memory_cap < least)
        return ms_error_set(MS_E_USAGE, "--memory-cap %zu MiB is too small for %d threads: at least %zu MiB",
                            sw->memory_cap >> 20, sw->plan.nthreads, (least >> 20) + 1);
    sw->shuffle_cap = shuffles ? (sw->memory_cap - need) / (size_t)shuffles : 0;
    return MS_OK;
}

static ms_status_t setup(sweep_t *sw)
{
    const ms_sweep_opts_t *o = sw->o;
    MS_TRY(ms_config_load(o->config, &sw->cfg));
    MS_TRY(ms_dataset_open(o->dataset, &sw->ds));
    MS_TRY(select_models(sw));
    if (sw->nmodels == 0) return ms_error_set(MS_E_USAGE, "no models to run");
    MS_TRY(dataset_dates(sw));
    MS_TRY(ms_peers_make(&sw->ds.refs, &sw->cfg, &sw->peer, &sw->npeer));
    for (int m = 0; m < sw->nmodels; m++) {
        sw->env[m].refs = &sw->ds.refs;
        sw->env[m].min_date = sw->min_date;
        sw->env[m].max_date = sw->max_date;
        sw->env[m].cfg = ms_config_model(&sw->cfg, sw->models[m]);
    }
    for (int m = 0; m < sw->nmodels; m++) {
        sw->cols[MS_TABLE_SETTLEMENTS] |= sw->models[m]->settlement_cols;
        sw->cols[MS_TABLE_DRUG_ITEMS] |= sw->models[m]->drug_cols;
    }
    for (int t = 0; t < 2; t++) {
        const ms_table_t *tb = ms_table((ms_table_id_t)t);
        if (!sw->cols[t] && !o->all_columns) continue;
        sw->cols[t] |= ms_quality_columns((ms_table_id_t)t) | 1ull << ms_table_column(tb, "person_id");
        if (o->all_columns) sw->cols[t] = MS_ALL_COLUMNS(tb);
    }
    size_t row_bytes = 0;
    const ms_table_t *st = ms_table(MS_TABLE_SETTLEMENTS);
    for (int c = 0; c < st->ncols; c++)
        if (sw->cols[0] >> c & 1) row_bytes += ms_ctype_size(st->cols[c].type);
    MS_TRY(ms_topology_load(&sw->topo, o->topology));
    MS_TRY(ms_plan_make(&sw->topo, o->threads, sw->ds.nparts[MS_TABLE_SETTLEMENTS], row_bytes, &sw->plan));
    compute_config_hash(sw);
    MS_TRY(prepare_output(sw));
    char *man = manifest_text(sw);
    if (!man) return ms_error_set(MS_E_NOMEM, "out of memory");
    /* A sweep killed before it wrote its manifest had done nothing yet. */
    char mpath[4300];
    snprintf(mpath, sizeof mpath, "%s/manifest", sw->state_dir);
    ms_status_t mst = o->resume && ms_path_exists(mpath) ? ms_manifest_check(sw->state_dir, man)
                                                          : ms_manifest_write(sw->state_dir, man);
    free(man);
    MS_TRY(mst);
    uint32_t n = sw->ds.nparts[MS_TABLE_SETTLEMENTS];
    sw->resumed = calloc(n, 1);
    sw->skipped = calloc(n, 1);
    sw->part_st = calloc(n, sizeof *sw->part_st);
    sw->part_msg = calloc(n, sizeof *sw->part_msg);
    if (!sw->resumed || !sw->skipped || !sw->part_st || !sw->part_msg)
        return ms_error_set(MS_E_NOMEM, "out of memory");
    for (uint32_t p = 0; o->resume && p < n; p++) sw->resumed[p] = (uint8_t)ms_partial_exists(sw->state_dir, p);
    MS_TRY(budget_memory(sw));
    for (int m = 0; m < sw->nmodels; m++) {
        if (!sw->models[m]->shuffle_value_size) continue;
        char dir[4300];
        snprintf(dir, sizeof dir, "%s/shuffle-%s", sw->state_dir, sw->models[m]->name);
        MS_TRY(ms_shuffle_create(dir, sw->plan.nthreads, sw->models[m]->shuffle_value_size, sw->shuffle_cap, 0,
                                 &sw->shuf[m]));
    }
    const char *k = getenv("MS_SWEEP_KILL_AFTER");
    sw->kill_after = k ? atoi(k) : 0;
    sw->pinned_all = !sw->topo.synthetic;
    return make_queues(sw);
}

/* -------------------------------------------------------- merge, reduce */

typedef struct {
    const ms_model_t *model;
    void **tid_states;
} reduce_ctx_t;

static ms_status_t reduce_fn(void *vctx, int tid, ms_key_t key, const void *values, size_t n)
{
    reduce_ctx_t *c = vctx;
    return c->model->reduce(c->tid_states[tid], key.k0, key.k1, values, n);
}

static ms_status_t merge_all(sweep_t *sw, void **global, ms_sweep_result_t *res)
{
    uint32_t n = sw->ds.nparts[MS_TABLE_SETTLEMENTS];
    for (int m = 0; m < sw->nmodels; m++) MS_TRY(sw->models[m]->init(&sw->env[m], &global[m]));
    for (uint32_t p = 0; p < n; p++) {
        char why[640];
        if (ms_partial_skipped(sw->state_dir, p, why, sizeof why)) {
            sw->skipped[p] = 1;
            res->partitions_skipped++;
            if (!sw->part_msg[p][0]) snprintf(sw->part_msg[p], sizeof sw->part_msg[p], "%s", why);
            continue;
        }
        ms_partial_t pt;
        MS_TRY(ms_partial_read(sw->state_dir, p, sw->models, sw->nmodels, sw->env, &pt));
        ms_status_t st = MS_OK;
        for (int m = 0; m < sw->nmodels && st == MS_OK; m++) st = sw->models[m]->merge(global[m], pt.states[m]);
        for (int t = 0; t < 2; t++) {
            res->rows[t] += pt.rows[t];
            for (int r = 0; r < MS_REJECT_COUNT; r++) res->rejected[t][r] += pt.rejected[t][r];
        }
        ms_partial_free(&pt, sw->models);
        MS_TRY(st);
    }
    return MS_OK;
}

static ms_status_t reduce_all(sweep_t *sw, void **global)
{
    for (int m = 0; m < sw->nmodels; m++) {
        if (!sw->shuf[m]) continue;
        const ms_model_t *mod = sw->models[m];
        int nt = sw->plan.nthreads;
        void **tid_states = calloc((size_t)nt, sizeof *tid_states);
        if (!tid_states) return ms_error_set(MS_E_NOMEM, "out of memory");
        ms_status_t st = MS_OK;
        for (int t = 0; t < nt && st == MS_OK; t++) st = mod->init(&sw->env[m], &tid_states[t]);
        reduce_ctx_t ctx = {mod, tid_states};
        if (st == MS_OK) st = ms_shuffle_reduce(sw->shuf[m], nt, reduce_fn, &ctx);
        for (int t = 0; t < nt && st == MS_OK; t++) st = mod->merge(global[m], tid_states[t]);
        for (int t = 0; t < nt; t++)
            if (tid_states[t]) mod->free(tid_states[t]);
        free(tid_states);
        MS_TRY(st);
    }
    return MS_OK;
}

/* -------------------------------------------------------------- outputs */

static json_t *reject_json(const uint64_t *r)
{
    json_t *o = json_object();
    for (int k = 0; k < MS_REJECT_COUNT; k++) json_object_set_new(o, ms_reject_name((ms_reject_t)k), json_integer((json_int_t)r[k]));
    return o;
}

static ms_status_t write_run_json(sweep_t *sw, const ms_sweep_result_t *res)
{
    const ms_sweep_opts_t *o = sw->o;
    json_t *root = json_object();
    json_object_set_new(root, "medsweep", json_string(MS_VERSION));
    json_object_set_new(root, "command", json_string("sweep"));
    char ref[40];
    ms_refs_checksum_text(&sw->ds.refs, ref);
    json_t *ds = json_object();
    json_object_set_new(ds, "path", json_string(o->dataset));
    json_object_set_new(ds, "reference_checksum", json_string(ref));
    json_object_set_new(ds, "settlement_partitions", json_integer(sw->ds.nparts[0]));
    json_object_set_new(ds, "drug_item_partitions", json_integer(sw->ds.nparts[1]));
    json_object_set_new(root, "dataset", ds);
    json_t *rows = json_object();
    json_object_set_new(rows, "settlements", json_integer((json_int_t)res->rows[0]));
    json_object_set_new(rows, "drug_items", json_integer((json_int_t)res->rows[1]));
    json_object_set_new(root, "rows_read", rows);
    json_t *rej = json_object();
    json_object_set_new(rej, "settlements", reject_json(res->rejected[0]));
    json_object_set_new(rej, "drug_items", reject_json(res->rejected[1]));
    json_object_set_new(root, "rows_rejected", rej);
    json_t *parts = json_object(), *skipped = json_array();
    for (uint32_t p = 0; p < sw->ds.nparts[0]; p++) {
        if (!sw->skipped[p]) continue;
        json_t *s = json_object();
        json_object_set_new(s, "partition", json_integer(p));
        json_object_set_new(s, "reason", json_string(sw->part_msg[p]));
        json_array_append_new(skipped, s);
    }
    json_object_set_new(parts, "total", json_integer(res->partitions));
    json_object_set_new(parts, "resumed", json_integer(res->partitions_resumed));
    json_object_set_new(parts, "skipped", skipped);
    json_object_set_new(root, "partitions", parts);
    json_t *models = json_array();
    for (int m = 0; m < sw->nmodels; m++) {
        json_t *mo = json_object();
        json_object_set_new(mo, "name", json_string(sw->models[m]->name));
        json_object_set_new(mo, "version", json_string(sw->models[m]->version));
        json_array_append_new(models, mo);
    }
    json_object_set_new(root, "models", models);
    json_t *cfg = json_object();
    json_object_set_new(cfg, "hash", json_string(sw->config_hash));
    json_object_set_new(cfg, "rules_file", o->config ? json_string(o->config) : json_null());
    char fh[20];
    snprintf(fh, sizeof fh, "%016llx", (unsigned long long)sw->cfg.file_hash);
    json_object_set_new(cfg, "rules_file_hash", o->config ? json_string(fh) : json_null());
    json_object_set_new(cfg, "threads", json_integer(sw->plan.nthreads));
    json_object_set_new(cfg, "batch_rows", json_integer((json_int_t)(o->batch_rows ? o->batch_rows : sw->plan.batch_rows)));
    json_object_set_new(cfg, "read_mode", json_string(o->read_mode == MS_READ_H5 ? "h5" : "pread"));
    json_object_set_new(cfg, "memory_cap", json_integer((json_int_t)sw->memory_cap));
    json_object_set_new(cfg, "shuffle_memory", json_integer((json_int_t)sw->shuffle_cap));
    json_object_set_new(cfg, "topology", json_string(sw->topo.description));
    json_object_set_new(cfg, "numa_nodes", json_integer(sw->topo.nnodes));
    json_object_set_new(cfg, "threads_pinned", json_boolean(sw->pinned_all));
    json_object_set_new(cfg, "kernels", json_string(ms_kernels()->name));
    json_object_set_new(root, "configuration", cfg);
    json_t *stages = json_object();
    for (int s = 0; s < 6; s++) json_object_set_new(stages, stage_names[s], json_real(sw->stage[s]));
    json_object_set_new(root, "stage_seconds", stages);
    json_t *tp = json_object();
    double map = sw->stage[ST_MAP] > 0 ? sw->stage[ST_MAP] : 1e-9;
    json_object_set_new(tp, "records", json_integer((json_int_t)(res->rows[0] + res->rows[1])));
    json_object_set_new(tp, "seconds", json_real(res->seconds));
    json_object_set_new(tp, "records_per_second_map", json_real((double)(sw->rows_done) / map));
    json_object_set_new(root, "throughput", tp);
    json_object_set_new(root, "peak_memory_bytes", json_integer((json_int_t)ms_peak_rss()));
    json_t *ver = json_object();
    char v[64];
    ms_io_hdf5_version(v, sizeof v);
    json_object_set_new(ver, "hdf5", json_string(v));
    ms_topology_hwloc_version(v, sizeof v);
    json_object_set_new(ver, "hwloc", json_string(v));
    json_object_set_new(ver, "lz4", json_string(ms_io_lz4_version()));
    json_object_set_new(ver, "jansson", json_string(jansson_version_str()));
    json_object_set_new(root, "versions", ver);

    char path[4200];
    snprintf(path, sizeof path, "%s/run.json", o->out);
    ms_afile_t f;
    ms_status_t st = ms_afile_open(&f, path);
    if (st == MS_OK) {
        if (json_dumpf(root, f.fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
            ms_afile_abort(&f);
            st = ms_error_set(MS_E_IO, "cannot write %s", path);
        } else {
            fputc('\n', f.fp);
            st = ms_afile_commit(&f);
        }
    }
    json_decref(root);
    return st;
}

/* ---------------------------------------------------------------- sweep */

static void cleanup(sweep_t *sw)
{
    for (int m = 0; m < sw->nmodels; m++) ms_shuffle_free(sw->shuf[m]);
    for (int k = 0; sw->queues && k < sw->topo.nnodes; k++) free(sw->queues[k].parts);
    free(sw->queues);
    ms_plan_free(&sw->plan);
    ms_topology_free(&sw->topo);
    free(sw->resumed), free(sw->skipped), free(sw->part_st), free(sw->part_msg), free(sw->state_dir);
    ms_dataset_close(&sw->ds);
    ms_config_free(&sw->cfg);
    free(sw->peer);
}

static ms_status_t first_error(const sweep_t *sw)
{
    for (uint32_t p = 0; p < sw->ds.nparts[0]; p++)
        if (sw->part_st[p] != MS_OK && !sw->skipped[p])
            return ms_error_set(sw->part_st[p], "partition %u: %s", p, sw->part_msg[p]);
    return MS_OK;
}

ms_status_t ms_sweep(const ms_sweep_opts_t *o, ms_sweep_result_t *res)
{
    memset(res, 0, sizeof *res);
    sweep_t sw;
    memset(&sw, 0, sizeof sw);
    sw.o = o;
    sw.t0 = now_s();
    double t = sw.t0;
    ms_status_t st = setup(&sw);
    sw.stage[ST_PLAN] = now_s() - t;
    if (st == MS_OK) {
        t = now_s();
#pragma omp parallel num_threads(sw.plan.nthreads)
        worker_run(&sw, omp_get_thread_num());
        sw.stage[ST_MAP] = now_s() - t;
        progress(&sw, 1);
        st = first_error(&sw);
    }
    void *global[MAX_MODELS] = {0};
    ms_model_result_t results[MAX_MODELS];
    memset(results, 0, sizeof results);
    if (st == MS_OK) {
        maybe_kill_at("merge");
        t = now_s();
        st = merge_all(&sw, global, res);
        sw.stage[ST_MERGE] = now_s() - t;
    }
    if (st == MS_OK) {
        maybe_kill_at("reduce");
        t = now_s();
        st = reduce_all(&sw, global);
        sw.stage[ST_REDUCE] = now_s() - t;
    }
    for (int m = 0; st == MS_OK && m < sw.nmodels; m++) {
        t = now_s();
        sw.env[m].peer = sw.peer;
        sw.env[m].npeer = sw.npeer;
        st = sw.models[m]->finalize(global[m], &sw.env[m], &results[m]);
        sw.stage[ST_FINALIZE] += now_s() - t;
    }
    ms_score_t score;
    memset(&score, 0, sizeof score);
    if (st == MS_OK) {
        t = now_s();
        score.refs = &sw.ds.refs;
        score.cfg = &sw.cfg;
        score.peer = sw.peer;
        score.npeer = sw.npeer;
        score.nmodels = sw.nmodels;
        score.models = sw.models;
        score.results = results;
        for (int m = 0; m < sw.nmodels; m++)
            if (!strcmp(sw.models[m]->name, "volume")) score.records = results[m].num; /* indicator 0: settlements */
        st = ms_score_run(&score);
        sw.stage[ST_FINALIZE] += now_s() - t;
    }
    if (st == MS_OK) {
        maybe_kill_at("write");
        t = now_s();
        res->partitions = sw.ds.nparts[0];
        for (uint32_t p = 0; p < res->partitions; p++) res->partitions_resumed += sw.resumed[p];
        res->seconds = now_s() - sw.t0;
        ms_output_t out = {o->out, &score, o->top};
        st = ms_output_write(&out);
        sw.stage[ST_WRITE] = now_s() - t;
        res->ranked = score.n_ranked;
        if (st == MS_OK) st = write_run_json(&sw, res);
        if (st == MS_OK) st = ms_remove_tree(sw.state_dir);
        res->peak_rss = ms_peak_rss();
    }
    ms_score_free(&score);
    for (int m = 0; m < sw.nmodels; m++) {
        if (global[m]) sw.models[m]->free(global[m]);
        ms_model_result_free(&results[m]);
    }
    cleanup(&sw);
    return st;
}
