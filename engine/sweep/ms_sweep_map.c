/*
 * ms_sweep_map.c - the map stage: pinned workers take partitions from their
 * NUMA node's queue (then the others'), read batches of whole persons, drop
 * untrusted rows, hand the batches to the models, emit keyed records, and
 * persist each partition's states; progress goes to the caller's callback.
 */
#include "ms_sweep_int.h"

/* Report progress to the caller's callback: at most four times a second
 * (force: the end of the map stage), one thread at a time. */
void sw_progress(sweep_t *sw, int force)
{
    if (!sw->o->progress) return;
    double t = ms_now_s();
#pragma omp critical(sweep_progress)
    {
        if (force || t - sw->last_print >= 0.25) {
            sw->last_print = t;
            uint64_t rows, parts;
#pragma omp atomic read
            rows = sw->rows_done;
#pragma omp atomic read
            parts = sw->parts_done;
            double el = t - sw->t0;
            ms_progress_t p = {.job = "sweep",
                               .stage = "",
                               .done = parts,
                               .total = sw->nparts,
                               .unit = "partitions",
                               .records = rows,
                               .seconds = el,
                               .eta_seconds = -1,
                               .finished = force};
            if (rows > 0 && sw->total_rows >= rows)
                p.eta_seconds = el * (double)(sw->total_rows - rows) / (double)rows;
            sw->o->progress(sw->o->progress_ctx, &p);
        }
    }
}

/* Open table t of partition p, or mark why not. */
ms_status_t sw_open_part(sweep_t *sw, uint32_t p, const ms_table_t *t, ms_part_t **part)
{
    char path[4096];
    ms_dataset_part_path(sw->ds.dir, t, p, path, sizeof path);
    return ms_part_open(path, t, &sw->ds.refs, part);
}

/* Sweep one table of one partition through the models in `run`. */
static ms_status_t sweep_table(sweep_t *sw, worker_t *w, ms_part_t *part, ms_table_id_t table, const uint8_t *run,
                               ms_partial_t *out)
{
    const ms_table_t *t = ms_table(table);
    ms_reader_t **r = &w->reader[table];
    size_t batch = sw->o->batch_rows ? sw->o->batch_rows : sw->plan.batch_rows;
    if (*r) MS_TRY(ms_reader_seek(*r, part, 0, ms_part_nchunks(part)));
    else MS_TRY(ms_reader_open(part, sw->cols[table], 0, ms_part_nchunks(part), batch, sw->o->read_mode, r));
    ms_batch_t b, view;
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
            sw_model_view(mod, table, &b, &view);
            if (mod->batch) MS_TRY(sw_model_checked(mod, table, mod->batch(w->states[m], table, &view, &w->emit[m])));
            if (!mod->person) continue;
            const uint64_t *pid = b.col[pid_col];
            for (size_t i = 0; i < b.rows;) {
                size_t j = i + 1;
                while (j < b.rows && pid[j] == pid[i]) j++;
                MS_TRY(sw_model_checked(mod, table, mod->person(w->states[m], table, &view, i, j, &w->emit[m])));
                i = j;
            }
        }
#pragma omp atomic
        sw->rows_done += raw;
        sw_progress(sw, 0);
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
static ms_status_t sweep_partition(sweep_t *sw, worker_t *w, uint32_t p, const uint8_t *run, int persist)
{
    ms_partial_t out;
    memset(&out, 0, sizeof out);
    out.index = p;
    out.nmodels = sw->nmodels;
    void **states = w->states;
    memset(states, 0, (size_t)sw->nmodels * sizeof *states);
    out.states = states;
    ms_part_t *parts[2] = {NULL, NULL};
    ms_status_t st = MS_OK;
    for (int t = 0; t < 2 && st == MS_OK; t++)
        if (p < sw->ds.nparts[t] && sw->cols[t]) st = sw_open_part(sw, p, ms_table((ms_table_id_t)t), &parts[t]);
    /* With --skip-bad and keyed aggregation, read the partition through
     * once before the models see it: records emitted into the shuffle
     * cannot be taken back, so a partition found damaged halfway would
     * leave part of itself in the result it is meant to be excluded from. */
    int shuffled = 0;
    for (int m = 0; m < sw->nmodels; m++) shuffled |= run[m] && sw->models[m]->nkeyed > 0;
    for (int t = 0; t < 2 && st == MS_OK && sw->o->skip_bad && shuffled; t++)
        if (parts[t]) st = verify_table(sw, w, parts[t], (ms_table_id_t)t);
    for (int m = 0; st == MS_OK && m < sw->nmodels; m++)
        if (run[m]) st = sw_model_checked(sw->models[m], MS_TABLE_SETTLEMENTS, sw->models[m]->init(&sw->env[m], &states[m]));
    for (int t = 0; t < 2 && st == MS_OK; t++)
        if (parts[t]) st = sweep_table(sw, w, parts[t], (ms_table_id_t)t, run, &out);
    if (st == MS_OK && persist) st = ms_partial_write(sw->state_dir, &out, sw->models);
    for (int m = 0; m < sw->nmodels; m++)
        if (states[m]) sw->models[m]->free(states[m]);
    memset(states, 0, (size_t)sw->nmodels * sizeof *states);
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

/* A worker's per-model arrays, allocated after pinning. */
static ms_status_t worker_alloc(sweep_t *sw, worker_t *w, int tid)
{
    size_t n = (size_t)sw->nmodels;
    w->states = calloc(n, sizeof *w->states);
    w->emit = calloc(n, sizeof *w->emit);
    w->all = calloc(n, 1);
    w->shuffled = calloc(n, 1);
    if (!w->states || !w->emit || !w->all || !w->shuffled) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (int m = 0; m < sw->nmodels; m++) {
        const ms_model_t *mod = sw->models[m];
        w->all[m] = 1;
        w->shuffled[m] = mod->nkeyed > 0;
        w->emit[m] = (ms_emit_t){(void *const *)(sw->shuf + sw->keyed_base[m]), mod->nkeyed, tid, sw_emit_fn};
    }
    return MS_OK;
}

static void worker_free(worker_t *w)
{
    for (int t = 0; t < 2; t++) {
        ms_reader_close(w->reader[t]);
        ms_quality_free(&w->quality[t]);
    }
    free(w->states), free(w->emit), free(w->all), free(w->shuffled);
}

void sw_worker_run(sweep_t *sw, int tid)
{
    worker_t w;
    memset(&w, 0, sizeof w);
    int node = sw->plan.thread_node[tid];
    if (ms_topology_bind_thread(&sw->topo, sw->plan.thread_core[tid]) != MS_OK) {
#pragma omp atomic write
        sw->pinned_all = 0;
    }
    if (worker_alloc(sw, &w, tid) != MS_OK) {
#pragma omp atomic write
        sw->worker_nomem = 1;
#pragma omp atomic write
        sw->failed = 1;
        worker_free(&w);
        return;
    }
    uint32_t p;
    while (next_partition(sw, node, &p)) {
        int stop;
#pragma omp atomic read
        stop = sw->failed;
        if (stop) break;
        if (sw->skipped[p]) { /* excluded by the partition set */
#pragma omp atomic
            sw->parts_done++;
            continue;
        }
        ms_status_t st;
        int resumed = sw->resumed[p];
        if (resumed) {
            /* Loaded later; only the shuffle's map must be redone. */
            st = sw->nkeyed ? sweep_partition(sw, &w, p, w.shuffled, 0) : MS_OK;
        } else {
            st = sweep_partition(sw, &w, p, w.all, 1);
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
            if (sw->o->test_hook) sw->o->test_hook("partition", (uint32_t)written);
        }
#pragma omp atomic
        sw->parts_done++;
        sw_progress(sw, 0);
    }
    worker_free(&w);
}
