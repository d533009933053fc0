/*
 * ms_sweep_reduce.c - merge and reduce: partials loaded and merged in
 * partition order; each keyed aggregation reduced by every thread and
 * merged in thread order.
 */
#include "ms_dist.h"
#include "ms_sweep_int.h"

typedef struct {
    const ms_keyed_t *keyed;
    void **tid_states;
    const void *global;
} reduce_ctx_t;

static size_t floor_fn(void *vctx, ms_key_t key)
{
    reduce_ctx_t *c = vctx;
    return c->keyed->floor(c->global, key.k0, key.k1);
}

static ms_status_t reduce_fn(void *vctx, int tid, ms_key_t key, const void *values, size_t n)
{
    reduce_ctx_t *c = vctx;
    return c->keyed->reduce(c->tid_states[tid], key.k0, key.k1, values, n);
}

typedef struct {
    sweep_t *sw;
    ms_status_t (*fn)(sweep_t *, int, void **, void **);
    void **a, **b;
} each_model_t;

static ms_status_t each_model_job(void *ctx, int m)
{
    each_model_t *e = ctx;
    ms_status_t st = e->fn(e->sw, m, e->a, e->b);
    return st == MS_OK ? st : ms_error_wrap(st, "model %s: ", e->sw->models[m]->name);
}

ms_status_t sw_each_model(sweep_t *sw, ms_status_t (*fn)(sweep_t *, int, void **, void **), void **a, void **b)
{
    each_model_t e = {sw, fn, a, b};
    return ms_parallel_jobs(sw->nmodels, sw->plan.nthreads, each_model_job, &e);
}

static ms_status_t merge_one(sweep_t *sw, int m, void **global, void **from)
{
    return sw->models[m]->merge(global[m], from[m]);
}

ms_status_t sw_init_all(sweep_t *sw, void **global)
{
    for (int m = 0; m < sw->nmodels; m++) MS_TRY(sw->models[m]->init(&sw->env[m], &global[m]));
    return MS_OK;
}

/* A partial's rows read and rejected, into the sweep's. */
static void add_counts(ms_sweep_result_t *res, const ms_partial_t *p)
{
    for (int t = 0; t < MS_TABLE_COUNT; t++) {
        res->rows[t] += p->rows[t];
        for (int r = 0; r < MS_REJECT_COUNT; r++) res->rejected[t][r] += p->rejected[t][r];
    }
}

/* The partitions worker t's state holds, added to res's counts; the
 * state is freed, or becomes the global one when take is set. */
static ms_status_t merge_acc(sweep_t *sw, int t, void **global, ms_sweep_result_t *res, int take)
{
    ms_partial_t *a = &sw->acc[t];
    ms_status_t st = MS_OK;
    if (take) {
        for (int m = 0; m < sw->nmodels; m++) {
            global[m] = a->states[m];
            a->states[m] = NULL;
        }
    } else {
        st = sw_each_model(sw, merge_one, global, a->states);
    }
    add_counts(res, a);
    ms_partial_free(a, sw->models);
    return st;
}

ms_status_t sw_merge_all(sweep_t *sw, void **global, ms_sweep_result_t *res)
{
    uint32_t n = sw->nparts;
    /* The first worker's state is the start (merges only add), else a
     * fresh one. */
    int first = -1;
    for (int t = 0; sw->acc && t < sw->plan.nthreads && first < 0; t++)
        if (sw->acc[t].states) first = t;
    if (first >= 0) MS_TRY(merge_acc(sw, first, global, res, 1));
    else MS_TRY(sw_init_all(sw, global));
    for (uint32_t p = 0; p < n; p++) {
        char why[640];
        if (ms_partial_skipped(sw->state_dir, p, why, sizeof why)) {
            sw->skipped[p] = 1;
            res->partitions_skipped++;
            if (!sw->part_msg[p][0]) snprintf(sw->part_msg[p], sizeof sw->part_msg[p], "%s", why);
            continue;
        }
        /* Another rank's partition: its range's merged state comes from it
         * (sw_gather_states); only its exclusion is noted here. */
        if (p < sw->part_lo || p >= sw->part_hi) continue;
        if (sw->in_acc && sw->in_acc[p]) continue; /* in a worker's state, below */
        ms_partial_t pt;
        MS_TRY(ms_partial_read(sw->state_dir, p, sw->models, sw->nmodels, sw->env, &pt));
        ms_status_t st = sw_each_model(sw, merge_one, global, pt.states);
        add_counts(res, &pt);
        ms_partial_free(&pt, sw->models);
        MS_TRY(st);
    }
    /* The other partitions this run swept, as each worker merged them. */
    for (int t = 0; sw->acc && t < sw->plan.nthreads; t++)
        if (sw->acc[t].states) MS_TRY(merge_acc(sw, t, global, res, 0));
    return MS_OK;
}

/* Each keyed aggregation of each model: reduced by every thread into states
 * of its own, merged into the model's in thread order. */
static ms_status_t reduce_keyed(sweep_t *sw, int m, int k, void *global)
{
    const ms_model_t *mod = sw->models[m];
    int nt = sw->plan.nthreads;
    void **tid_states = calloc((size_t)nt, sizeof *tid_states);
    if (!tid_states) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_status_t st = MS_OK;
    for (int t = 0; t < nt && st == MS_OK; t++) st = mod->init(&sw->env[m], &tid_states[t]);
    reduce_ctx_t ctx = {&mod->keyed[k], tid_states, global};
    if (st == MS_OK)
        st = ms_shuffle_reduce_floor(sw->shuf[sw->keyed_base[m] + k], nt, reduce_fn,
                                     mod->keyed[k].floor ? floor_fn : NULL, &ctx);
    for (int t = 0; t < nt && st == MS_OK; t++) st = mod->merge(global, tid_states[t]);
    for (int t = 0; t < nt; t++)
        if (tid_states[t]) mod->free(tid_states[t]);
    free(tid_states);
    return st == MS_OK ? st : ms_error_wrap(st, "model %s, %s: ", mod->name, mod->keyed[k].name);
}

ms_status_t sw_reduce_all(sweep_t *sw, void **global)
{
    for (int m = 0; m < sw->nmodels; m++)
        for (int k = 0; k < sw->models[m]->nkeyed; k++) {
            double t = ms_now_s();
            MS_TRY(reduce_keyed(sw, m, k, global[m]));
            sw->model_reduce_s[m] += ms_now_s() - t;
        }
    return MS_OK;
}

/* ---- the cluster mode ---------------------------------------------------- */

typedef struct {
    sweep_t *sw;
    int m;
    void *global;
} gather_ctx_t;

/* Rank r's state of model m, loaded fresh and merged in. */
static ms_status_t merge_from_rank(void *vctx, int rank, const void *bytes, size_t len)
{
    gather_ctx_t *g = vctx;
    const ms_model_t *mod = g->sw->models[g->m];
    if (len == 0) return ms_error_set(MS_E_INTERNAL, "rank %d sent no state of model %s", rank, mod->name);
    void *st = NULL;
    ms_status_t s = mod->init(&g->sw->env[g->m], &st);
    if (s == MS_OK) s = mod->load(st, bytes, len);
    if (s == MS_OK) s = mod->merge(g->global, st);
    if (st) mod->free(st);
    return s == MS_OK ? s : ms_error_wrap(s, "model %s, rank %d's state: ", mod->name, rank);
}

ms_status_t sw_gather_states(sweep_t *sw, void **global, int keyed_only)
{
    ms_status_t st = MS_OK;
    for (int m = 0; m < sw->nmodels; m++) {
        if (keyed_only && sw->models[m]->nkeyed == 0) continue; /* nothing reduced */
        ms_buf_t buf = {0};
        ms_status_t mine = MS_OK;
        if (sw->rank != 0) mine = sw->models[m]->save(global[m], &buf);
        gather_ctx_t g = {sw, m, global[m]};
        /* A rank that could not save sends nothing, and fails at the agree. */
        ms_status_t s = ms_dist_to_root(mine == MS_OK ? buf.data : NULL, mine == MS_OK ? buf.len : 0, merge_from_rank, &g);
        ms_buf_free(&buf);
        if (st == MS_OK) st = mine != MS_OK ? mine : s;
        /* Sent: this rank's state starts again empty, for the reduce. */
        if (sw->rank != 0 && st == MS_OK) {
            sw->models[m]->free(global[m]);
            global[m] = NULL;
            st = sw->models[m]->init(&sw->env[m], &global[m]);
        }
    }
    return st;
}

ms_status_t sw_gather_ranks(sweep_t *sw, ms_sweep_result_t *res)
{
    uint64_t mine[SW_RANK_STATS] = {0};
    mine[RS_PART_LO] = sw->part_lo;
    mine[RS_PART_HI] = sw->part_hi;
    mine[RS_ROWS] = sw->rows_done;
    for (int k = 0; k < sw->nkeyed; k++) {
        mine[RS_SENT_RECORDS] += sw->keyed_sent[2 * k];
        mine[RS_SENT_BYTES] += sw->keyed_sent[2 * k + 1];
    }
    mine[RS_MAP_US] = (uint64_t)(sw->stage[ST_MAP] * 1e6);
    mine[RS_EXCHANGE_US] = (uint64_t)(sw->exchange_s * 1e6);
    for (int t = 0; t < MS_TABLE_COUNT; t++) {
        mine[RS_COUNTS + t] = res->rows[t];
        for (int r = 0; r < MS_REJECT_COUNT; r++) mine[RS_REJECTED + t * MS_REJECT_COUNT + r] = res->rejected[t][r];
    }
    MS_TRY(ms_dist_gather_u64(mine, SW_RANK_STATS, sw->rank_stats));
    for (int k = 1; sw->rank == 0 && k < sw->nranks; k++) {
        const uint64_t *x = sw->rank_stats + (size_t)k * SW_RANK_STATS;
        for (int t = 0; t < MS_TABLE_COUNT; t++) {
            res->rows[t] += x[RS_COUNTS + t];
            for (int r = 0; r < MS_REJECT_COUNT; r++) res->rejected[t][r] += x[RS_REJECTED + t * MS_REJECT_COUNT + r];
        }
    }
    return MS_OK;
}
