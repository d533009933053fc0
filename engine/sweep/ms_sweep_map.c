/*
 * ms_sweep_map.c - the map stage: pinned workers take partitions from their
 * NUMA node's queue (then the others'), read batches of whole persons, drop
 * untrusted rows, hand the batches to the models, emit keyed records, and
 * persist each partition's states; progress goes to the caller's callback.
 */
#include "ms_sweep_int.h"

/* Report progress to the caller's callback, one thread at a time: after a
 * batch at most four times a second, and always when a partition ends
 * (SW_AT_PARTITION) and when the map stage does (SW_AT_END, finished).
 * The time left is guessed only once a partition has ended, from the map
 * stage's rate so far: before that the rows done (a batch or two, after
 * the plan and the states' first pages) say nothing about the rate. */
void sw_progress(sweep_t *sw, sw_progress_at_t at)
{
    if (!sw->o->progress) return;
    double t = ms_now_s();
#pragma omp critical(sweep_progress)
    {
        if (at != SW_AT_BATCH || t - sw->last_print >= 0.25) {
            sw->last_print = t;
            uint64_t rows, parts;
#pragma omp atomic read
            rows = sw->rows_done;
#pragma omp atomic read
            parts = sw->parts_done;
            ms_progress_t p = {.job = "sweep",
                               .stage = "",
                               .done = parts,
                               .total = sw->part_hi - sw->part_lo,
                               .unit = "partitions",
                               .records = rows,
                               .seconds = t - sw->t0,
                               .eta_seconds = -1,
                               .finished = at == SW_AT_END};
            if (parts > 0 && rows > 0 && sw->my_rows >= rows)
                p.eta_seconds = (t - sw->map_t0) * (double)(sw->my_rows - rows) / (double)rows;
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

/* Sweep chunks [lo, hi) of one table of one partition through the models
 * in `run`. */
static ms_status_t sweep_table(sweep_t *sw, worker_t *w, ms_part_t *part, ms_table_id_t table, size_t lo, size_t hi,
                               const uint8_t *run, ms_partial_t *out)
{
    const ms_table_t *t = ms_table(table);
    ms_reader_t **r = &w->reader[table];
    size_t batch = sw->o->batch_rows ? sw->o->batch_rows : sw->plan.batch_rows;
    if (*r) MS_TRY(ms_reader_seek(*r, part, lo, hi));
    else MS_TRY(ms_reader_open(part, sw->cols[table], lo, hi, batch, sw->o->read_mode, r));
    ms_batch_t b, view;
    ms_status_t st;
    int pid_col = ms_table_column(t, "person_id");
    const ms_kernels_t *k = ms_kernels();
    for (;;) {
        double t0 = ms_thread_cpu_s();
        st = ms_reader_next(*r, &b);
        if (st != MS_OK || !b.rows) break;
        size_t raw = b.rows;
        MS_TRY(ms_quality_filter(&w->quality[table], &sw->ds.refs, table, &b, out->rejected[table]));
        out->rows[table] += raw;
        /* The batch's persons, once for every model. */
        MS_TRY(ms_grow(&w->starts, &w->starts_cap, b.rows + 1, sizeof *w->starts, 4096));
        b.npersons = k->segments_u64(b.col[pid_col], b.rows, w->starts);
        b.persons = w->starts;
        double t1 = ms_thread_cpu_s();
        w->read_cpu += t1 - t0;
        for (int m = 0; m < sw->nmodels; m++) {
            const ms_model_t *mod = sw->models[m];
            if (!run[m] || !ms_model_cols(mod, table)) continue;
            sw_model_view(mod, table, &b, &view);
            MS_TRY(sw_keys_warm(sw, w, m, table, &b));
            if (mod->batch) MS_TRY(sw_model_checked(mod, table, mod->batch(out->states[m], table, &view, &w->emit[m])));
            double t2 = ms_thread_cpu_s();
            for (size_t s = 0; mod->person && s < b.npersons; s++)
                MS_TRY(sw_model_checked(mod, table, mod->person(out->states[m], table, &view, b.persons[s],
                                                                b.persons[s + 1], &w->emit[m])));
            double t3 = ms_thread_cpu_s();
            w->model_cpu[2 * m] += t2 - t1;
            w->model_cpu[2 * m + 1] += t3 - t2;
            t1 = t3;
        }
#pragma omp atomic
        sw->rows_done += raw;
        sw_progress(sw, SW_AT_BATCH);
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

/* Sweep slice sl of partition p with the models marked in run, into out
 * (fresh states; the caller frees them with ms_partial_free, whatever
 * happened). */
static ms_status_t sweep_slice(sweep_t *sw, worker_t *w, uint32_t p, uint32_t sl, const uint8_t *run,
                               ms_partial_t *out)
{
    uint32_t ns = sw->runs[p].nslices;
    memset(out, 0, sizeof *out);
    out->index = p;
    out->states = calloc((size_t)sw->nmodels, sizeof *out->states);
    if (!out->states) return ms_error_set(MS_E_NOMEM, "out of memory");
    out->nmodels = sw->nmodels;
    ms_part_t *parts[MS_TABLE_COUNT] = {NULL};
    ms_status_t st = MS_OK;
    /* A table no model reads (cols 0) is not opened. */
    for (int t = 0; t < MS_TABLE_COUNT && st == MS_OK; t++)
        if (p < sw->ds.nparts[t] && sw->cols[t]) st = sw_open_part(sw, p, ms_table((ms_table_id_t)t), &parts[t]);
    /* With --skip-bad and keyed aggregation, read the partition through
     * once before the models see it: records emitted into the shuffle
     * cannot be taken back, so a partition found damaged halfway would
     * leave part of itself in the result it is meant to be excluded from.
     * Such a partition is one slice (ms_sweep_plan.c). */
    int shuffled = 0;
    for (int m = 0; m < sw->nmodels; m++) shuffled |= run[m] && sw->models[m]->nkeyed > 0;
    for (int t = 0; t < MS_TABLE_COUNT && st == MS_OK && sw->o->skip_bad && shuffled; t++)
        if (parts[t]) st = verify_table(sw, w, parts[t], (ms_table_id_t)t);
    for (int m = 0; st == MS_OK && m < sw->nmodels; m++)
        if (run[m])
            st = sw_model_checked(sw->models[m], MS_TABLE_SETTLEMENTS,
                                  sw->models[m]->init(&sw->env[m], &out->states[m]));
    for (int t = 0; t < MS_TABLE_COUNT && st == MS_OK; t++) {
        if (!parts[t]) continue;
        size_t nc = ms_part_nchunks(parts[t]);
        st = sweep_table(sw, w, parts[t], (ms_table_id_t)t, nc * sl / ns, nc * (sl + 1) / ns, run, out);
    }
    for (int t = 0; t < MS_TABLE_COUNT; t++) ms_part_close(parts[t]);
    return st;
}

/* out += in: the slice after it, model by model, and its counts. */
static ms_status_t merge_slice(sweep_t *sw, ms_partial_t *out, const ms_partial_t *in)
{
    for (int t = 0; t < MS_TABLE_COUNT; t++) {
        out->rows[t] += in->rows[t];
        for (int k = 0; k < MS_REJECT_COUNT; k++) out->rejected[t][k] += in->rejected[t][k];
    }
    for (int m = 0; m < sw->nmodels; m++) {
        if (!out->states[m]) continue;
        ms_status_t st = sw->models[m]->merge(out->states[m], in->states[m]);
        if (st != MS_OK) return ms_error_wrap(st, "model %s: ", sw->models[m]->name);
    }
    return MS_OK;
}

/* Partition p's states, written to its partial, into worker tid's own
 * (the first one it ends is taken whole).  Merges only add, and the clues
 * are sorted when a model finalises, so which worker holds a partition and
 * in what order they are merged changes no result. */
static ms_status_t accumulate(sweep_t *sw, int tid, uint32_t p, ms_partial_t *whole)
{
    ms_partial_t *acc = &sw->acc[tid];
    if (!acc->states) {
        *acc = *whole;
        memset(whole, 0, sizeof *whole);
    } else {
        MS_TRY(merge_slice(sw, acc, whole));
    }
    sw->in_acc[p] = 1;
    return MS_OK;
}

/* Partition p failed (st, with ms_error_detail saying why); called under
 * its lock, for its first failure only.  With --skip-bad a damaged
 * partition is left out and the sweep goes on; otherwise it stops. */
static void partition_failed(sweep_t *sw, uint32_t p, ms_status_t st, int resumed)
{
    snprintf(sw->part_msg[p], sizeof sw->part_msg[p], "%s", ms_error_detail());
    sw->part_st[p] = st;
    int bad_input = st == MS_E_CORRUPT || st == MS_E_SCHEMA || st == MS_E_MISMATCH || st == MS_E_IO;
    if (sw->o->skip_bad && bad_input && !resumed) {
        sw->skipped[p] = 1;
        ms_status_t mk = ms_partial_mark_skipped(sw->state_dir, p, sw->part_msg[p]);
        if (mk == MS_OK) return;
        snprintf(sw->part_msg[p], sizeof sw->part_msg[p], "%s", ms_error_detail());
        sw->part_st[p] = mk;
        sw->skipped[p] = 0;
    }
#pragma omp atomic write
    sw->failed = 1;
}

/* Slice sl of partition p has ended, its states in *slice when it was
 * swept for keeps (states NULL otherwise).  Slices are merged into the
 * partition's in slice order, whoever ends them; *last is set for the
 * worker that ends the partition's last slice, and *whole then holds the
 * partition's merged states (NULL states when it failed). */
static void slice_end(sweep_t *sw, uint32_t p, uint32_t sl, ms_partial_t *slice, ms_status_t st, int resumed,
                      int *last, ms_partial_t *whole)
{
    part_run_t *r = &sw->runs[p];
    *last = 0;
    memset(whole, 0, sizeof *whole);
    omp_set_lock(&r->lock);
    if (st != MS_OK && sw->part_st[p] == MS_OK && !sw->skipped[p]) partition_failed(sw, p, st, resumed);
    r->pending[sl] = *slice;
    memset(slice, 0, sizeof *slice);
    r->done[sl] = 1;
    r->ended++;
    /* Merge what is next in slice order, while it has ended. */
    for (; r->merged < r->nslices && r->done[r->merged]; r->merged++) {
        ms_partial_t *next = &r->pending[r->merged];
        if (r->merged == 0) {
            r->acc = *next;
        } else {
            if (r->acc.states && next->states && sw->part_st[p] == MS_OK && !sw->skipped[p]) {
                ms_status_t mst = merge_slice(sw, &r->acc, next);
                if (mst != MS_OK) partition_failed(sw, p, mst, resumed);
            }
            ms_partial_free(next, sw->models);
        }
        memset(next, 0, sizeof *next);
    }
    if (r->ended == r->nslices) {
        *last = 1;
        if (sw->part_st[p] == MS_OK && !sw->skipped[p]) *whole = r->acc;
        else ms_partial_free(&r->acc, sw->models);
        memset(&r->acc, 0, sizeof r->acc);
    }
    omp_unset_lock(&r->lock);
}

/* The next unit for a worker on node: its own queue, then the others'. */
static int next_unit(sweep_t *sw, int node, uint32_t *p, uint32_t *sl)
{
    for (int k = 0; k < sw->topo.nnodes; k++) {
        node_queue_t *q = &sw->queues[(node + k) % sw->topo.nnodes];
        uint32_t i;
#pragma omp atomic capture
        i = q->next++;
        if (i < q->n) {
            *p = (uint32_t)(q->units[i] >> 32);
            *sl = (uint32_t)q->units[i];
            return 1;
        }
    }
    return 0;
}

/* A worker's per-model arrays, allocated after pinning. */
static ms_status_t worker_alloc(sweep_t *sw, worker_t *w, int tid)
{
    size_t n = (size_t)sw->nmodels;
    w->emit = calloc(n, sizeof *w->emit);
    w->all = calloc(n, 1);
    w->shuffled = calloc(n, 1);
    w->model_cpu = calloc(2 * n, sizeof *w->model_cpu);
    if (!w->emit || !w->all || !w->shuffled || !w->model_cpu) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (int m = 0; m < sw->nmodels; m++) {
        const ms_model_t *mod = sw->models[m];
        w->all[m] = 1;
        w->shuffled[m] = mod->nkeyed > 0;
        w->emit[m] = (ms_emit_t){(void *const *)(sw->kimpl + sw->keyed_base[m]), mod->nkeyed, tid, sw_emit_fn};
    }
    return MS_OK;
}

/* Add the worker's costs to the sweep's, and free what it holds. */
static void worker_free(sweep_t *sw, worker_t *w)
{
#pragma omp atomic
    sw->read_cpu += w->read_cpu;
    for (int m = 0; w->model_cpu && m < 2 * sw->nmodels; m++)
#pragma omp atomic
        sw->model_map_cpu[m] += w->model_cpu[m];
    for (int t = 0; t < MS_TABLE_COUNT; t++) {
        ms_reader_close(w->reader[t]);
        ms_quality_free(&w->quality[t]);
    }
    free(w->emit), free(w->all), free(w->shuffled), free(w->model_cpu), free(w->starts);
    free(w->keys.k0), free(w->keys.k1);
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
        worker_free(sw, &w);
        return;
    }
    uint32_t p, sl;
    while (next_unit(sw, node, &p, &sl)) {
        int stop;
#pragma omp atomic read
        stop = sw->failed;
        if (stop) break;
        part_run_t *r = &sw->runs[p];
        omp_set_lock(&r->lock);
        int pass = sw->skipped[p] || sw->part_st[p] != MS_OK; /* excluded, or failed in another slice */
        omp_unset_lock(&r->lock);
        int resumed = sw->resumed[p];
        ms_partial_t slice;
        memset(&slice, 0, sizeof slice);
        ms_status_t st = MS_OK;
        if (!pass && sw->count_st && sw->count_st[p] != MS_OK) {
            /* The key count could not read it (--skip-bad): its keyed
             * records cannot be emitted, so it fails as the map would. */
            st = ms_error_set(sw->count_st[p], "%s", sw->count_msg[p]);
        } else if (!pass && resumed) {
            /* Loaded later; only the shuffle's map must be redone. */
            if (sw->nkeyed) st = sweep_slice(sw, &w, p, sl, w.shuffled, &slice);
            ms_partial_free(&slice, sw->models);
        } else if (!pass) {
            st = sweep_slice(sw, &w, p, sl, w.all, &slice);
            if (st != MS_OK) ms_partial_free(&slice, sw->models);
        }
        int last;
        ms_partial_t whole;
        slice_end(sw, p, sl, &slice, st, resumed, &last, &whole);
        if (!last) continue;
        /* The partition's last slice: persist the partition. */
        if (whole.states) {
            st = ms_partial_write(sw->state_dir, &whole, sw->models);
            if (st != MS_OK) {
                omp_set_lock(&r->lock);
                partition_failed(sw, p, st, resumed);
                omp_unset_lock(&r->lock);
            } else {
                int written;
#pragma omp atomic capture
                written = ++sw->written;
                if (sw->o->test_hook) sw->o->test_hook("partition", (uint32_t)written);
            }
        }
        if (whole.states && st == MS_OK && sw->accumulate) {
            /* Kept, merged into this worker's: the merge stage takes it
             * from here instead of reading the partial back. */
            st = accumulate(sw, tid, p, &whole);
            if (st != MS_OK) {
                omp_set_lock(&r->lock);
                partition_failed(sw, p, st, resumed);
                omp_unset_lock(&r->lock);
            }
        }
        ms_partial_free(&whole, sw->models);
#pragma omp atomic
        sw->parts_done++;
        sw_progress(sw, SW_AT_PARTITION);
    }
    worker_free(sw, &w);
}
