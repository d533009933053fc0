/*
 * ms_sweep.c - the sweep engine.
 *
 * Threads.  One OpenMP worker per planned thread, pinned to its core
 * (ms_plan_t).  Each worker owns, for the whole sweep, one reader per table
 * and its quality-filter buffers, allocated after pinning so that their
 * pages are first touched on the worker's NUMA node.
 *
 * Queues.  Slices of partitions are the unit of work (a partition of many
 * records is cut into slices of whole chunks, by the data alone), partitions
 * the unit of persistence.  Each NUMA node has a queue of the slices of the
 * partitions whose home it is (in partition, then slice order); a worker
 * takes from its own node's queue (one atomic add) and, when that is empty,
 * from the other nodes' queues in turn.  Which worker sweeps which slice
 * changes from run to run; nothing in the output depends on it: a
 * partition's slices are merged in slice order.
 *
 * Pipeline.  For a partition: open both tables, then for each table read
 * batches of whole persons (the reader decodes chunks in this thread, no
 * lock), drop rows that fail the quality checks, hand the batch to every
 * model (batch callback, then one person callback per person), emit keyed
 * records into the shuffle.  The kernel's read-ahead (posix_fadvise on the
 * next chunk) keeps the disk busy while the worker decodes and computes.
 *
 * Ordering.  Each slice gets fresh model states; when a partition's last
 * slice is done its merged states are saved to
 * OUT/.sweep-state/part-N.partial and freed.  After all
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

#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_dist.h"
#include "ms_sweep_int.h"

_Static_assert(MS_REJECT_COUNT == MS_RUN_REJECT_REASONS, "ms_run_summary_t holds every reject reason");

void ms_sweep_opts_init(ms_sweep_opts_t *o)
{
    memset(o, 0, sizeof *o);
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

/* The caller's test hook (test builds only; docs/engine.md) at a point of
 * the run. */
static void test_hook(const sweep_t *sw, const char *point)
{
    if (sw->o->test_hook) sw->o->test_hook(point, 0);
}

/* ----------------------------------------------------------------- setup */

/* On --resume: is partition p's partial there and whole?  A damaged one
 * (checksum, truncation, another partition's) is removed and the partition
 * swept again, noted in run.json and on the console: its records are still
 * in the dataset, so the result is the same as if it had never been
 * written.  Only a failure to read or remove it stops the sweep. */
static ms_status_t resume_partition(sweep_t *sw, uint32_t p)
{
    if (!ms_partial_exists(sw->state_dir, p)) return MS_OK;
    ms_status_t st = ms_partial_check(sw->state_dir, p);
    if (st == MS_OK) {
        sw->resumed[p] = 1;
        return MS_OK;
    }
    if (st != MS_E_CORRUPT) return st;
    snprintf(sw->redo_msg[p], sizeof sw->redo_msg[p], "%s", ms_error_detail());
    MS_TRY(ms_partial_remove(sw->state_dir, p));
    sw->nredone++;
    return MS_OK;
}

static ms_status_t setup(sweep_t *sw)
{
    const ms_sweep_opts_t *o = sw->o;
    sw->rank = ms_dist_rank();
    sw->nranks = ms_dist_size();
    if (o->model_list) MS_TRY(ms_config_load_for(o->config, o->model_list, o->nmodel_list, &sw->cfg));
    else MS_TRY(ms_config_load(o->config, &sw->cfg));
    /* The partitions as found, then against what they record: a missing or
     * unexpected one is refused (or with --skip-bad excluded) here, before
     * anything is written. */
    MS_TRY(ms_dataset_open_as_found(o->dataset, &sw->ds));
    MS_TRY(sw_select_models(sw));
    if (sw->nmodels == 0 && sw->nnot_run > 0)
        return ms_error_set(MS_E_USAGE, "model '%s' reads itemised bills (service_items), and %s has none",
                            sw->not_run[0]->name, sw->ds.dir);
    if (sw->nmodels == 0) return ms_error_set(MS_E_USAGE, "no models to run");
    /* The columns read of each table, before the partition set: a table
     * no model reads (the bill lines, until a model declares them) is
     * neither probed nor read. */
    for (int m = 0; m < sw->nmodels; m++)
        for (int t = 0; t < MS_TABLE_COUNT; t++) sw->cols[t] |= ms_model_cols(sw->models[m], (ms_table_id_t)t);
    for (int t = 0; t < MS_TABLE_COUNT; t++) {
        const ms_table_t *tb = ms_table((ms_table_id_t)t);
        if (!sw->cols[t] && !o->all_columns) continue;
        sw->cols[t] |= ms_quality_columns((ms_table_id_t)t) | 1ull << ms_table_column(tb, "person_id");
        if (o->all_columns) sw->cols[t] = MS_ALL_COLUMNS(tb);
    }
    MS_TRY(sw_check_partitions(sw));
    MS_TRY(sw_dataset_dates(sw));
    MS_TRY(ms_peers_make(&sw->ds.refs, &sw->cfg, &sw->peer, &sw->npeer));
    sw->env = calloc((size_t)sw->nmodels, sizeof *sw->env);
    sw->keyed_base = calloc((size_t)sw->nmodels, sizeof *sw->keyed_base);
    sw->model_map_cpu = calloc(2 * (size_t)sw->nmodels, sizeof *sw->model_map_cpu);
    sw->model_reduce_s = calloc((size_t)sw->nmodels, sizeof *sw->model_reduce_s);
    if (!sw->env || !sw->keyed_base || !sw->model_map_cpu || !sw->model_reduce_s)
        return ms_error_set(MS_E_NOMEM, "out of memory");
    for (int m = 0; m < sw->nmodels; m++) {
        sw->keyed_base[m] = sw->nkeyed;
        sw->nkeyed += sw->models[m]->nkeyed;
    }
    sw->shuf = calloc((size_t)sw->nkeyed + 1, sizeof *sw->shuf);
    if (!sw->shuf) return ms_error_set(MS_E_NOMEM, "out of memory");
    MS_TRY(sw_keys_setup(sw));
    /* The rule base: the configuration's rules compiled against the
     * dataset's knowledge base (without one, only the rules that need no
     * item facts can hit; run.json says which did not run). */
    if (sw->cols[MS_TABLE_SERVICE_ITEMS]) {
        if (ms_knowledge_present(sw->ds.dir)) {
            MS_TRY(ms_knowledge_read(sw->ds.dir, &sw->kb));
            sw->has_kb = 1;
        }
        MS_TRY(ms_ruleset_compile(&sw->cfg.rules, sw->has_kb ? &sw->kb : NULL, &sw->rules));
    }
    for (int m = 0; m < sw->nmodels; m++) {
        sw->env[m].refs = &sw->ds.refs;
        sw->env[m].min_date = sw->min_date;
        sw->env[m].max_date = sw->max_date;
        sw->env[m].cfg = ms_config_model(&sw->cfg, sw->models[m]);
        sw->env[m].kb = sw->has_kb ? &sw->kb : NULL;
        sw->env[m].rules = sw->rules;
    }
    /* A batch's size is planned on the rows of the first table read (the
     * settlements, unless no model reads them), as slices are. */
    int first = MS_TABLE_SETTLEMENTS;
    while (first + 1 < MS_TABLE_COUNT && !sw->cols[first]) first++;
    size_t row_bytes = 0;
    const ms_table_t *st = ms_table((ms_table_id_t)first);
    for (int c = 0; c < st->ncols; c++)
        if (sw->cols[first] >> c & 1) row_bytes += ms_ctype_size(st->cols[c].type);
    int share, nshares;
    ms_dist_cpu_share(&share, &nshares);
    MS_TRY(ms_topology_load_share(&sw->topo, o->topology, share, nshares));
    int threads = o->threads ? o->threads : ms_topology_default_threads(&sw->topo);
    MS_TRY(ms_plan_make(&sw->topo, threads, sw->nparts, row_bytes, &sw->plan));
    /* A cap the sweep cannot keep is refused before OUT is touched. */
    MS_TRY(sw_budget_memory(sw));
    sw_keys_plan(sw);
    sw_compute_config_hash(sw);
    return MS_OK;
}

/* Rank 0 (the only process without MPI): OUT and its state, locked; the
 * manifest; on --resume, which partitions are done.  The other ranks wait
 * for it and are told (ms_dist_bcast); they work in the same state
 * directory, which must be one that every rank sees (docs/cluster.md). */
static ms_status_t setup_output(sweep_t *sw)
{
    const ms_sweep_opts_t *o = sw->o;
    MS_TRY(sw_prepare_output(sw));
    char *man = sw_manifest_text(sw);
    if (!man) return ms_error_set(MS_E_NOMEM, "out of memory");
    /* A sweep killed before it wrote its manifest had done nothing yet. */
    char mpath[4300];
    snprintf(mpath, sizeof mpath, "%s/manifest", sw->state_dir);
    ms_status_t mst = o->resume && ms_path_exists(mpath) ? ms_manifest_check(sw->state_dir, man)
                                                          : ms_manifest_write(sw->state_dir, man);
    free(man);
    MS_TRY(mst);
    for (uint32_t p = 0; o->resume && p < sw->nparts; p++)
        MS_TRY(resume_partition(sw, p));
    return sw_mark_skipped_partitions(sw);
}

/* Every rank: rank 0's view of the state (which partitions are done or
 * excluded), then the shuffles and this rank's queues. */
static ms_status_t setup_work(sweep_t *sw)
{
    /* Contiguous ranges of partitions, as even as whole partitions allow. */
    sw->part_lo = (uint32_t)((uint64_t)sw->nparts * (uint64_t)sw->rank / (uint64_t)sw->nranks);
    sw->part_hi = (uint32_t)((uint64_t)sw->nparts * (uint64_t)(sw->rank + 1) / (uint64_t)sw->nranks);
    ms_status_t mine = MS_OK;
    sw->keyed_sent = calloc(2 * (size_t)sw->nkeyed + 1, sizeof *sw->keyed_sent);
    if (sw->rank == 0) sw->rank_stats = calloc((size_t)sw->nranks * SW_RANK_STATS, sizeof *sw->rank_stats);
    if (!sw->keyed_sent || (sw->rank == 0 && !sw->rank_stats)) mine = ms_error_set(MS_E_NOMEM, "out of memory");
    /* The collectives below are taken by every rank, a failed one too (it
     * says so at the agree after this). */
    if (sw->nranks > 1) {
        if (sw->rank != 0 && mine == MS_OK) {
            char state[4200];
            snprintf(state, sizeof state, "%s/" STATE_DIR, sw->out);
            if (!ms_is_dir(state))
                mine = ms_error_set(MS_E_IO, "%s, made by rank 0, is not there: OUT must be on a file system "
                                             "every rank sees", state);
            else if (!(sw->state_dir = strdup(state)))
                mine = ms_error_set(MS_E_NOMEM, "out of memory");
        }
        ms_dist_bcast(sw->resumed, sw->nparts);
        ms_dist_bcast(sw->skipped, sw->nparts);
    }
    /* Every rank's shuffles have as many buckets, so that a bucket is the
     * same keys everywhere (ms_dist_exchange); alone, the default. */
    uint64_t nbuckets = sw->nranks > 1 ? 64u * (uint64_t)sw->plan.nthreads : 0;
    ms_dist_max_u64(&nbuckets);
    MS_TRY(mine);
    for (int m = 0; m < sw->nmodels; m++) {
        const ms_model_t *mod = sw->models[m];
        for (int k = 0; k < mod->nkeyed; k++) {
            char dir[4300];
            if (sw->nranks > 1)
                snprintf(dir, sizeof dir, "%s/shuffle-%s-%s-r%d", sw->state_dir, mod->name, mod->keyed[k].name, sw->rank);
            else
                snprintf(dir, sizeof dir, "%s/shuffle-%s-%s", sw->state_dir, mod->name, mod->keyed[k].name);
            MS_TRY(ms_shuffle_create(dir, sw->plan.nthreads, mod->keyed[k].value_size, sw->keyed_cap[sw->keyed_base[m] + k],
                                     (uint32_t)nbuckets, &sw->shuf[sw->keyed_base[m] + k]));
            sw->kf[sw->keyed_base[m] + k].shuf = sw->shuf[sw->keyed_base[m] + k];
        }
    }
    sw->pinned_all = !sw->topo.synthetic;
    return sw_make_queues(sw);
}

/* ---------------------------------------------------------------- sweep */

static void cleanup(sweep_t *sw)
{
    sw_free_queues(sw); /* before the models: slices' states are freed by them */
    for (int k = 0; sw->shuf && k < sw->nkeyed; k++) ms_shuffle_free(sw->shuf[k]);
    sw_keys_free(sw);
    free(sw->kf), free(sw->kimpl), free(sw->count_st), free(sw->count_msg);
    free(sw->shuf), free(sw->keyed_cap), free(sw->keyed_base), free(sw->env), free(sw->models);
    free(sw->model_map_cpu), free(sw->model_reduce_s), free(sw->keyed_sent), free(sw->rank_stats);
    ms_plan_free(&sw->plan);
    ms_topology_free(&sw->topo);
    free(sw->resumed), free(sw->skipped), free(sw->part_st), free(sw->part_msg), free(sw->redo_msg);
    free(sw->state_dir);
    ms_partset_free(&sw->set);
    ms_dataset_close(&sw->ds);
    free(sw->out);
    if (sw->lock_fd >= 0) close(sw->lock_fd); /* the lock goes with it */
    ms_config_free(&sw->cfg);
    ms_ruleset_free(sw->rules);
    if (sw->has_kb) ms_knowledge_free(&sw->kb);
    free(sw->peer);
}

/* Model m's results from its merged state, which then goes: its results
 * hold what scoring needs, and the budget counts on the state's memory
 * going before long (ms_sweep_plan.c). */
static ms_status_t finalize_one(sweep_t *sw, int m, void **global, void **results)
{
    ms_model_result_t *res = (ms_model_result_t *)(void *)results;
    ms_status_t st = sw->models[m]->finalize(global[m], &sw->env[m], &res[m]);
    sw->models[m]->free(global[m]);
    global[m] = NULL;
    return st;
}

static ms_status_t first_error(const sweep_t *sw)
{
    if (sw->worker_nomem) return ms_error_set(MS_E_NOMEM, "out of memory for a worker's model states");
    for (uint32_t p = 0; p < sw->nparts; p++)
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
    sw.lock_fd = -1;
    sw.t0 = ms_now_s();
    double t = sw.t0;
    ms_status_t st = MS_OK;
    if (!(sw.out = strdup(o->out))) st = ms_error_set(MS_E_NOMEM, "out of memory");
    for (size_t n = sw.out ? strlen(sw.out) : 0; n > 1 && sw.out[n - 1] == '/';) sw.out[--n] = '\0';
    /* With several ranks (docs/cluster.md) every step below is taken by
     * all of them, and ms_dist_agree after each tells every rank whether
     * any failed; alone it returns st. */
    if (st == MS_OK) st = setup(&sw);
    st = ms_dist_agree(st);
    if (st == MS_OK && sw.rank == 0) st = setup_output(&sw);
    st = ms_dist_agree(st);
    if (st == MS_OK) st = setup_work(&sw);
    st = ms_dist_agree(st);
    sw.stage[ST_PLAN] = ms_now_s() - t;
    if (st == MS_OK) {
        sw.map_t0 = t = ms_now_s();
        /* Collective with several ranks: every rank counts. */
        st = sw_keys_count(&sw);
        if (st == MS_OK) {
#pragma omp parallel num_threads(sw.plan.nthreads)
            sw_worker_run(&sw, omp_get_thread_num());
            st = first_error(&sw);
        }
        sw_keys_done(&sw);
        sw.stage[ST_MAP] = ms_now_s() - t;
        sw_progress(&sw, SW_AT_END);
        st = ms_dist_agree(st);
    }
    /* Each key's records to the rank that reduces it. */
    if (st == MS_OK && sw.nranks > 1) {
        t = ms_now_s();
        /* Every exchange is a collective: each rank takes part in all of
         * them, and keeps its first failure for the agree. */
        for (int k = 0; k < sw.nkeyed; k++) {
            ms_status_t e = ms_dist_exchange(sw.shuf[k], &sw.keyed_sent[2 * k], &sw.keyed_sent[2 * k + 1]);
            if (st == MS_OK) st = e;
        }
        sw.exchange_s = ms_now_s() - t;
        st = ms_dist_agree(st);
    }
    void **global = calloc((size_t)sw.nmodels + 1, sizeof *global);
    ms_model_result_t *results = calloc((size_t)sw.nmodels + 1, sizeof *results);
    if (st == MS_OK && (!global || !results)) st = ms_error_set(MS_E_NOMEM, "out of memory");
    if (st == MS_OK) {
        test_hook(&sw, "merge");
        t = ms_now_s();
        sw_fit_heap(&sw, sw.budget_merge);
        /* Each rank its own partitions, in partition order; then, at rank
         * 0, the other ranks' range states in rank order: partition order
         * again.  Alone: every partition. */
        st = sw_merge_all(&sw, global, res);
        res->partitions_skipped += sw_stray_partitions(&sw);
        st = ms_dist_agree(st);
        if (st == MS_OK && sw.nranks > 1) st = ms_dist_agree(sw_gather_states(&sw, global, 0));
        sw.stage[ST_MERGE] = ms_now_s() - t;
    } else {
        st = ms_dist_agree(st);
    }
    if (st == MS_OK) {
        test_hook(&sw, "reduce");
        t = ms_now_s();
        sw_fit_heap(&sw, sw.budget_reduce);
        st = sw_reduce_all(&sw, global);
        st = ms_dist_agree(st);
        /* What the other ranks reduced, added at rank 0 (merges only add). */
        if (st == MS_OK && sw.nranks > 1) st = ms_dist_agree(sw_gather_states(&sw, global, 1));
        sw.stage[ST_REDUCE] = ms_now_s() - t;
    }
    if (st == MS_OK && sw.nranks > 1) st = ms_dist_agree(sw_gather_ranks(&sw, res));
    /* Every rank has the same st here: only if all is well so far do they
     * meet once more, at the end, for rank 0's answer. */
    int meet_at_end = sw.nranks > 1 && st == MS_OK;
    if (sw.rank != 0) {
        /* Rank 0 finishes alone; every rank ends with its answer. */
        for (int k = 0; sw.shuf && k < sw.nkeyed; k++) {
            ms_shuffle_free(sw.shuf[k]);
            sw.shuf[k] = NULL;
        }
        if (meet_at_end) st = ms_dist_agree(MS_OK);
        for (int m = 0; m < sw.nmodels; m++)
            if (global && global[m]) sw.models[m]->free(global[m]);
        free(global);
        free(results);
        cleanup(&sw);
        return st;
    }
    if (st == MS_OK) {
        t = ms_now_s();
        sw_fit_heap(&sw, sw.budget_score);
        for (int m = 0; m < sw.nmodels; m++) {
            sw.env[m].peer = sw.peer;
            sw.env[m].npeer = sw.npeer;
        }
        st = sw_each_model(&sw, finalize_one, global, (void **)results);
        sw.stage[ST_FINALIZE] += ms_now_s() - t;
    }
    ms_score_t score;
    memset(&score, 0, sizeof score);
    if (st == MS_OK) {
        t = ms_now_s();
        score.refs = &sw.ds.refs;
        score.cfg = &sw.cfg;
        score.peer = sw.peer;
        score.npeer = sw.npeer;
        score.nmodels = sw.nmodels;
        score.lang = o->lang;
        score.threads = sw.plan.nthreads;
        score.models = sw.models;
        score.results = results;
        for (int m = 0; m < sw.nmodels; m++) {
            int ind = ms_model_indicator(sw.models[m], sw.models[m]->records_indicator);
            if (ind >= 0 && !score.records) score.records = results[m].num + (size_t)ind * results[m].n_inst;
        }
        st = ms_score_run(&score);
        sw.stage[ST_FINALIZE] += ms_now_s() - t;
    }
    if (st == MS_OK) {
        test_hook(&sw, "write");
        t = ms_now_s();
        res->partitions = sw.nparts;
        for (uint32_t p = 0; p < res->partitions; p++) res->partitions_resumed += sw.resumed[p];
        res->partitions_redone = sw.nredone;
        res->seconds = ms_now_s() - sw.t0;
        /* The outputs are written into the state, complete, and only then
         * replace OUT's (an earlier sweep's stay until that moment). */
        char stage[4400];
        snprintf(stage, sizeof stage, "%s/" STAGE_DIR, sw.state_dir);
        st = ms_remove_tree(stage);
        if (st == MS_OK) st = ms_mkdirs(stage);
        /* Files beyond the dataset's partitions, left out, take no records
         * away; a partition of the dataset left out does. */
        char coverage[128] = "complete";
        uint32_t missing = 0;
        for (uint32_t p = 0; p < sw.nparts; p++) missing += sw.skipped[p];
        if (missing)
            snprintf(coverage, sizeof coverage, "partial: %u of %u partitions skipped, see run.json", missing,
                     sw.nparts);
        /* What people read beside the lists (report.html); run.json has
         * the same figures. */
        static const char *reject_names[MS_REJECT_COUNT];
        for (int r = 0; r < MS_REJECT_COUNT; r++) reject_names[r] = ms_reject_name((ms_reject_t)r);
        ms_run_summary_t run = {.dataset = o->dataset, .min_date = sw.min_date, .max_date = sw.max_date,
                                .reject_names = reject_names, .partitions = sw.nparts,
                                .partitions_skipped = missing, .seconds = ms_now_s() - sw.t0,
                                .config_hash = sw.config_hash, .version = MS_VERSION};
        for (int tb = 0; tb < 2; tb++) {
            run.rows[tb] = res->rows[tb];
            for (int r = 0; r < MS_REJECT_COUNT; r++) run.rejected[tb][r] = res->rejected[tb][r];
        }
        run.bills = sw.ds.nparts[MS_TABLE_SERVICE_ITEMS] > 0;
        run.bill_lines = res->rows[MS_TABLE_SERVICE_ITEMS];
        sw_rules_count(&sw, &run.rules_run, &run.rules_not_run);
        ms_output_t out = {stage,         &score,         o->top,          coverage, sw.plan.nthreads, MS_VERSION,
                           sw.config_hash, (ms_lang_t)o->lang, o->excel, &run};
        if (st == MS_OK) st = ms_output_write(&out);
        sw.stage[ST_WRITE] = ms_now_s() - t;
        res->ranked = score.n_ranked;
        for (uint32_t r = 0; r < score.n_ranked; r++) res->flagged += score.priority[score.order[r]] > 0;
        if (st == MS_OK) st = sw_write_run_json(&sw, res, stage);
        if (st == MS_OK) test_hook(&sw, "install");
        if (st == MS_OK) st = sw_install_output(&sw, stage);
        res->peak_rss = ms_peak_rss();
    }
    /* The other ranks wait for rank 0's answer (a failed step before this
     * one was agreed on already). */
    if (meet_at_end) st = ms_dist_agree(st);
    ms_score_free(&score);
    for (int m = 0; m < sw.nmodels; m++) {
        if (global && global[m]) sw.models[m]->free(global[m]);
        if (results) ms_model_result_free(&results[m]);
    }
    free(global);
    free(results);
    cleanup(&sw);
    return st;
}
