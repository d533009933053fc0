/*
 * ms_sweep_runjson.c - run.json: what was swept, with which rules, models,
 * threads and libraries, how long each stage took and how much memory.
 */
#include <errno.h>

#include "ms_dist.h"
#include "ms_sweep_int.h"

const char *const sw_stage_names[SW_STAGES] = {"plan", "map", "merge", "reduce", "finalize", "write"};

static json_t *reject_json(const uint64_t *r)
{
    json_t *o = json_object();
    for (int k = 0; k < MS_REJECT_COUNT; k++) json_object_set_new(o, ms_reject_name((ms_reject_t)k), json_integer((json_int_t)r[k]));
    return o;
}

/* Why rule i of the configuration did not run (NULL: it ran). */
static const char *rule_not_run(const sweep_t *sw, size_t i)
{
    const ms_rule_t *r = &sw->cfg.rules.rule[i];
    if (!r->enabled) return "disabled in the configuration";
    if (!sw->has_kb && r->tmpl != MS_RULE_BED_DAYS)
        return "the dataset has no knowledge base (knowledge.h5): the item facts it reads are unknown";
    return NULL;
}

void sw_rules_count(const sweep_t *sw, int *run, int *no_kb)
{
    *run = *no_kb = 0;
    for (size_t i = 0; sw->rules && i < sw->cfg.rules.n; i++) {
        const char *why = rule_not_run(sw, i);
        *run += !why;
        *no_kb += why && sw->cfg.rules.rule[i].enabled;
    }
}

/* The rule base as run: every configured rule, whether it ran, and why not
 * (disabled; no knowledge base for a rule that reads item facts). */
static json_t *sw_rules_json(const sweep_t *sw)
{
    json_t *o = json_object(), *list = json_array();
    json_object_set_new(o, "knowledge_base", sw->has_kb ? json_true() : json_false());
    if (sw->has_kb) json_object_set_new(o, "knowledge_items", json_integer((json_int_t)sw->kb.n_items));
    size_t ran = 0;
    for (size_t i = 0; i < sw->cfg.rules.n; i++) {
        const ms_rule_t *r = &sw->cfg.rules.rule[i];
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(r->name));
        json_object_set_new(e, "template", json_string(ms_rule_template_name((int)r->tmpl)));
        const char *why = rule_not_run(sw, i);
        json_object_set_new(e, "run", why ? json_false() : json_true());
        if (why) json_object_set_new(e, "why", json_string(why));
        ran += !why;
        json_array_append_new(list, e);
    }
    json_object_set_new(o, "run", json_integer((json_int_t)ran));
    json_object_set_new(o, "rules", list);
    return o;
}

ms_status_t sw_write_run_json(sweep_t *sw, const ms_sweep_result_t *res, const char *dir)
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
    /* The bill lines (service_items) are listed when a model reads them. */
    int bills = sw->cols[MS_TABLE_SERVICE_ITEMS] != 0;
    if (bills) json_object_set_new(ds, "service_item_partitions", json_integer(sw->ds.nparts[MS_TABLE_SERVICE_ITEMS]));
    json_object_set_new(root, "dataset", ds);
    json_t *rows = json_object();
    json_object_set_new(rows, "settlements", json_integer((json_int_t)res->rows[0]));
    json_object_set_new(rows, "drug_items", json_integer((json_int_t)res->rows[1]));
    if (bills) json_object_set_new(rows, "service_items", json_integer((json_int_t)res->rows[MS_TABLE_SERVICE_ITEMS]));
    json_object_set_new(root, "rows_read", rows);
    json_t *rej = json_object();
    json_object_set_new(rej, "settlements", reject_json(res->rejected[0]));
    json_object_set_new(rej, "drug_items", reject_json(res->rejected[1]));
    if (bills) json_object_set_new(rej, "service_items", reject_json(res->rejected[MS_TABLE_SERVICE_ITEMS]));
    json_object_set_new(root, "rows_rejected", rej);
    json_t *parts = json_object(), *skipped = json_array();
    for (uint32_t p = 0; p < sw->nparts; p++) {
        if (!sw->skipped[p]) continue;
        json_t *s = json_object();
        json_object_set_new(s, "partition", json_integer(p));
        json_object_set_new(s, "reason", json_string(sw->part_msg[p]));
        json_array_append_new(skipped, s);
    }
    /* Files numbered beyond the dataset's partitions, left out (--skip-bad):
     * one entry per number, the reasons of its tables together. */
    for (size_t k = 0; k < sw->set.nfaults; k++) {
        const ms_partfault_t *f = &sw->set.fault[k];
        if (f->index < sw->nparts) continue;
        char why[sizeof f->why * MS_TABLE_COUNT + 8];
        snprintf(why, sizeof why, "%s", f->why);
        while (k + 1 < sw->set.nfaults && sw->set.fault[k + 1].index == f->index) {
            size_t at = strlen(why);
            snprintf(why + at, sizeof why - at, "; %s", sw->set.fault[++k].why);
        }
        json_t *s = json_object();
        json_object_set_new(s, "partition", json_integer(f->index));
        json_object_set_new(s, "reason", json_string(why));
        json_array_append_new(skipped, s);
    }
    json_object_set_new(parts, "total", json_integer(res->partitions));
    json_object_set_new(parts, "resumed", json_integer(res->partitions_resumed));
    json_object_set_new(parts, "skipped", skipped);
    /* --resume: saved partials that were damaged, and so swept again. */
    json_t *redone = json_array();
    for (uint32_t p = 0; p < sw->nparts; p++) {
        if (!sw->redo_msg[p][0]) continue;
        json_t *s = json_object();
        json_object_set_new(s, "partition", json_integer(p));
        json_object_set_new(s, "reason", json_string(sw->redo_msg[p]));
        json_array_append_new(redone, s);
    }
    json_object_set_new(parts, "swept_again", redone);
    json_object_set_new(root, "partitions", parts);
    json_t *models = json_array();
    for (int m = 0; m < sw->nmodels; m++) {
        json_t *mo = json_object();
        json_object_set_new(mo, "name", json_string(sw->models[m]->name));
        json_object_set_new(mo, "version", json_string(sw->models[m]->version));
        /* Its cost (docs/kernels.md, Where a model spends its time): CPU
         * seconds in its batch and person callbacks, together per record of
         * the tables it reads, and the wall seconds of its reduce. */
        const ms_model_t *mod = sw->models[m];
        uint64_t recs = 0;
        for (int t = 0; t < MS_TABLE_COUNT; t++) recs += ms_model_cols(mod, (ms_table_id_t)t) ? res->rows[t] : 0;
        double batch = sw->model_map_cpu[2 * m], person = sw->model_map_cpu[2 * m + 1];
        json_object_set_new(mo, "map_cpu_seconds", json_real(batch + person));
        json_object_set_new(mo, "map_ns_per_record", json_real(recs ? (batch + person) * 1e9 / (double)recs : 0));
        json_object_set_new(mo, "batch_cpu_seconds", json_real(batch));
        json_object_set_new(mo, "person_cpu_seconds", json_real(person));
        json_object_set_new(mo, "reduce_seconds", json_real(sw->model_reduce_s[m]));
        json_array_append_new(models, mo);
    }
    json_object_set_new(root, "models", models);
    /* Models left out, and why (a model of the bill lines on a dataset
     * without them). */
    json_t *nr = json_array();
    for (int k = 0; k < sw->nnot_run; k++) {
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(sw->not_run[k]->name));
        json_object_set_new(e, "why", json_string("the dataset has no itemised bills (service_items)"));
        json_array_append_new(nr, e);
    }
    json_object_set_new(root, "models_not_run", nr);
    if (sw->rules) json_object_set_new(root, "rules", sw_rules_json(sw));
    /* What each keyed aggregation held and spilled: its memory share
     * against what it took (docs/engine.md, Memory). */
    json_t *keyed = json_array();
    for (int m = 0; m < sw->nmodels; m++) {
        for (int k = 0; k < sw->models[m]->nkeyed; k++) {
            ms_shuffle_stats_t ks;
            int at = sw->keyed_base[m] + k;
            ms_shuffle_stats(sw->shuf[at], &ks);
            json_t *ko = json_object();
            json_object_set_new(ko, "model", json_string(sw->models[m]->name));
            json_object_set_new(ko, "name", json_string(sw->models[m]->keyed[k].name));
            json_object_set_new(ko, "memory_cap", json_integer((json_int_t)sw->keyed_cap[at]));
            json_object_set_new(ko, "records", json_integer((json_int_t)ks.records));
            json_object_set_new(ko, "record_bytes", json_integer((json_int_t)ks.record_bytes));
            json_object_set_new(ko, "spilled_records", json_integer((json_int_t)ks.spilled_records));
            json_object_set_new(ko, "spill_bytes", json_integer((json_int_t)ks.spill_bytes));
            json_object_set_new(ko, "peak_bytes", json_integer((json_int_t)ks.peak_bytes));
            /* The key count (docs/engine.md): its counters (a byte each,
             * out of its share of the cap; key_count.off says when they
             * were not used), and the records it left out. */
            const sw_keyed_t *kf = &sw->kf[at];
            json_object_set_new(ko, "key_counters", json_integer(kf->bits ? (json_int_t)1 << kf->bits : 0));
            json_object_set_new(ko, "left_out_records", json_integer((json_int_t)kf->left_total));
            json_array_append_new(keyed, ko);
        }
    }
    json_object_set_new(root, "keyed_aggregations", keyed);
    json_t *kc = json_object();
    json_object_set_new(kc, "seconds", json_real(sw->key_count_s));
    json_object_set_new(kc, "off", sw->o->no_key_count ? json_string("--no-key-count")
                                   : sw->key_count_off[0] ? json_string(sw->key_count_off) : json_null());
    json_object_set_new(root, "key_count", kc);
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
    /* Each worker kept the partitions it swept merged (sw_budget_memory). */
    json_object_set_new(cfg, "merge_in_workers", json_boolean(sw->accumulate));
    json_object_set_new(cfg, "topology", json_string(sw->topo.description));
    /* The CPUs the sweep was given (its affinity mask) and where each worker
     * was pinned: a sweep never leaves its allocation. */
    json_object_set_new(cfg, "cpus", json_string(sw->topo.cpus ? sw->topo.cpus : ""));
    json_t *wc = json_array();
    for (int i = 0; i < sw->plan.nthreads; i++)
        json_array_append_new(wc, json_integer(sw->topo.synthetic ? -1 : sw->topo.core_pu[sw->plan.thread_core[i]]));
    json_object_set_new(cfg, "worker_cpus", wc);
    json_object_set_new(cfg, "numa_nodes", json_integer(sw->topo.nnodes));
    json_object_set_new(cfg, "threads_pinned", json_boolean(sw->pinned_all));
    json_object_set_new(cfg, "kernels", json_string(ms_kernels()->name));
    json_object_set_new(root, "configuration", cfg);
    /* The batch job this sweep ran in, when a scheduler started it: its id
     * (and array task, and how often it was requeued) ties the outputs to
     * the job's log (docs/cluster.md). */
    const char *job = getenv("SLURM_JOB_ID");
    if (job && *job) {
        json_t *sch = json_object();
        json_object_set_new(sch, "name", json_string("slurm"));
        json_object_set_new(sch, "job_id", json_string(job));
        const char *keys[][2] = {{"SLURM_JOB_NAME", "job_name"},          {"SLURM_ARRAY_JOB_ID", "array_job_id"},
                                 {"SLURM_ARRAY_TASK_ID", "array_task_id"}, {"SLURM_RESTART_COUNT", "restart_count"},
                                 {"SLURM_CLUSTER_NAME", "cluster"},        {"SLURM_JOB_NODELIST", "nodes"}};
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            const char *v = getenv(keys[k][0]);
            if (v && *v) json_object_set_new(sch, keys[k][1], json_string(v));
        }
        json_object_set_new(root, "scheduler", sch);
    }
    /* The cluster mode: the ranks, what each mapped and sent in the keyed
     * records' exchange (docs/cluster.md).  keyed_aggregations above are
     * rank 0's shuffles. */
    if (sw->nranks > 1 && sw->rank_stats) {
        json_t *cl = json_object(), *ranks = json_array();
        json_object_set_new(cl, "ranks", json_integer(sw->nranks));
        json_object_set_new(cl, "mpi", json_string(ms_dist_library()));
        for (int r = 0; r < sw->nranks; r++) {
            const uint64_t *x = sw->rank_stats + (size_t)r * SW_RANK_STATS;
            json_t *ro = json_object(), *pr = json_array();
            json_object_set_new(ro, "rank", json_integer(r));
            json_array_append_new(pr, json_integer((json_int_t)x[RS_PART_LO]));
            json_array_append_new(pr, json_integer((json_int_t)x[RS_PART_HI]));
            json_object_set_new(ro, "partitions", pr);
            json_object_set_new(ro, "rows_read", json_integer((json_int_t)x[RS_ROWS]));
            json_object_set_new(ro, "keyed_records_sent", json_integer((json_int_t)x[RS_SENT_RECORDS]));
            json_object_set_new(ro, "keyed_bytes_sent", json_integer((json_int_t)x[RS_SENT_BYTES]));
            json_object_set_new(ro, "map_seconds", json_real((double)x[RS_MAP_US] / 1e6));
            json_object_set_new(ro, "exchange_seconds", json_real((double)x[RS_EXCHANGE_US] / 1e6));
            json_array_append_new(ranks, ro);
        }
        json_object_set_new(cl, "per_rank", ranks);
        json_object_set_new(root, "cluster", cl);
    }
    json_t *stages = json_object();
    for (int s = 0; s < SW_STAGES; s++) json_object_set_new(stages, sw_stage_names[s], json_real(sw->stage[s]));
    json_object_set_new(root, "stage_seconds", stages);
    json_t *tp = json_object();
    double map = sw->stage[ST_MAP] > 0 ? sw->stage[ST_MAP] : 1e-9;
    json_object_set_new(tp, "records", json_integer((json_int_t)(res->rows[0] + res->rows[1] + res->rows[2])));
    json_object_set_new(tp, "seconds", json_real(res->seconds));
    uint64_t mapped = sw->rows_done;
    for (int r = 1; sw->nranks > 1 && sw->rank_stats && r < sw->nranks; r++)
        mapped += sw->rank_stats[(size_t)r * SW_RANK_STATS + RS_ROWS];
    json_object_set_new(tp, "records_per_second_map", json_real((double)mapped / map));
    /* The map's reading (decode, checksums, the quality screen, persons),
     * in CPU seconds over all workers: the floor under every model. */
    json_object_set_new(tp, "read_cpu_seconds", json_real(sw->read_cpu));
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

    char path[4600];
    snprintf(path, sizeof path, "%s/run.json", dir);
    ms_afile_t f;
    ms_status_t st = ms_afile_open(&f, path);
    if (st == MS_OK) {
        errno = 0;
        if (json_dumpf(root, f.fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
            /* A full disk shows here when run.json outgrows stdio's buffer:
             * say so, as every other write does. */
            int e = errno ? errno : EIO;
            ms_afile_abort(&f);
            st = ms_error_errno(MS_E_IO, e, "cannot write %s", path);
        } else {
            fputc('\n', f.fp);
            st = ms_afile_commit(&f);
        }
    }
    json_decref(root);
    return st;
}
