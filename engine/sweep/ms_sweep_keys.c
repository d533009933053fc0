/*
 * ms_sweep_keys.c - the key count: before the map, the keys of the keyed
 * aggregations that declare them (ms_keyed_t.keys) are counted from their
 * key columns alone, so that the map holds only the records whose key can
 * pass its floor (docs/engine.md, Key count).
 *
 * A doctor-day at or under its ceiling, or a traceability code sold once,
 * gives its reducer nothing; most keys are such keys, and until now each
 * of their records was emitted, held to the reduce (at 2,600 institutions
 * two thirds of a sweep's memory) and then left out before the sort.  Now
 * each key is hashed to one of 2^bits saturating 8-bit counters (many keys
 * to one counter at most, so a counter is never below the count of any key
 * that maps to it), and an emit whose counter is at most its key's floor is
 * left out at once.  Every record of a key meets the same counter, so a key
 * is held whole or not at all, and every key over its floor is held: the
 * reduce sees the same keys with the same values, and the outputs are the
 * same bytes (tests compare with --no-key-count).  Counts are sums, so they
 * do not depend on threads or order; with several ranks they are summed
 * over the ranks before the map.
 *
 * The pass reads the key columns alone (ms_reader_open_rows: batches of
 * rows, not of whole persons) of the partitions this rank maps, those
 * resumed too (their keyed records are emitted again), without the quality
 * filter: it counts a row the filter drops, which can only hold a record
 * more.  A partition that cannot be read leaves every record held for the
 * whole sweep (the map then says what is wrong with it); with --skip-bad
 * the count goes on, and the map fails that partition instead of sweeping
 * it with keys uncounted, so --skip-bad leaves it out.
 */
#include "ms_dist.h"
#include "ms_sweep_int.h"

#define KEY_SEED 0x6b6579636f756e74ull /* the shuffle's bucket hash is another */
#define MIN_BITS 16
#define MAX_BITS 40
#define LINE_U64 8 /* left_out counters a cache line apart */

/* A key's counter: the top bits of a multiply-xorshift-multiply mix of
 * both words (a few instructions; every key is hashed three times, in the
 * count, the prefetch and the emit, where XXH3 took 20-30 instructions). */
static inline size_t key_slot(uint64_t k0, uint64_t k1, unsigned bits)
{
    uint64_t h = k0 * 0x9e3779b97f4a7c15ull ^ k1 * 0xc2b2ae3d27d4eb4full ^ KEY_SEED;
    h ^= h >> 31;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 29;
    return (size_t)(h >> (64 - bits));
}

ms_status_t sw_keys_setup(sweep_t *sw)
{
    sw->kf = calloc((size_t)sw->nkeyed + 1, sizeof *sw->kf);
    sw->kimpl = calloc((size_t)sw->nkeyed + 1, sizeof *sw->kimpl);
    if (!sw->kf || !sw->kimpl) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (int m = 0; m < sw->nmodels; m++)
        for (int k = 0; k < sw->models[m]->nkeyed; k++) {
            sw_keyed_t *kf = &sw->kf[sw->keyed_base[m] + k];
            kf->kd = &sw->models[m]->keyed[k];
            kf->model = m;
            sw->kimpl[sw->keyed_base[m] + k] = kf;
        }
    return MS_OK;
}

/* Four counters per key expected (a power of two from 4 to 8; a key sold
 * once then shares its counter with another key about one time in six to
 * one in nine), at most a quarter of the aggregation's share of the cap. */
void sw_keys_plan(sweep_t *sw)
{
    for (int i = 0; i < sw->nkeyed; i++) {
        sw_keyed_t *kf = &sw->kf[i];
        const ms_keyed_t *kd = kf->kd;
        kf->bits = 0;
        if (sw->o->no_key_count || !kd->keys || !kd->floor) continue;
        double keys = sw_keyed_records(sw, kd) * (kd->key_share > 0 ? kd->key_share : 1);
        unsigned bits = MIN_BITS;
        while (bits < MAX_BITS && (double)((uint64_t)1 << bits) < 4 * keys) bits++;
        while (bits >= MIN_BITS && ((size_t)1 << bits) > sw->keyed_cap[i] / 4) bits--;
        if (bits < MIN_BITS) continue;
        kf->bits = bits;
        sw->keyed_cap[i] -= (size_t)1 << bits;
    }
}

/* The keys of aggregation kf in batch b, into kb (grown to the batch):
 * its keys callback, given only its key columns; how many in *n. */
static ms_status_t batch_keys(const sweep_t *sw, const sw_keyed_t *kf, const ms_batch_t *b, sw_keybuf_t *kb,
                              size_t *n)
{
    if (b->rows > kb->cap) {
        uint64_t *k0 = realloc(kb->k0, b->rows * sizeof *k0);
        if (k0) kb->k0 = k0;
        uint64_t *k1 = realloc(kb->k1, b->rows * sizeof *k1);
        if (k1) kb->k1 = k1;
        if (!k0 || !k1) return ms_error_set(MS_E_NOMEM, "out of memory");
        kb->cap = b->rows;
    }
    ms_batch_t view = *b;
    for (int col = 0; col < MS_MAX_COLUMNS; col++)
        if (!(kf->kd->key_cols >> col & 1)) view.col[col] = NULL;
    *n = kf->kd->keys(&view, kb->k0, kb->k1);
    if (ms_col_take_undeclared() >= 0 || *n > b->rows)
        return ms_error_set(MS_E_INTERNAL, "model %s: keyed aggregation %s: keys read a column outside key_cols or "
                                           "gave more keys than rows", sw->models[kf->model]->name, kf->kd->name);
    return MS_OK;
}

/* One thread's buffers for the pass. */
typedef struct {
    ms_reader_t *reader[MS_TABLE_COUNT];
    ms_part_t *part;          /* the partition of its last unit, kept open */
    int part_t;
    uint32_t part_p;
    sw_keybuf_t keys;
    size_t *slot;             /* [keys.cap] */
    size_t slot_cap;
} counter_t;

/* Add one batch's keys of aggregation kf. */
static ms_status_t count_batch(sweep_t *sw, sw_keyed_t *kf, counter_t *c, const ms_batch_t *b)
{
    size_t n;
    MS_TRY(batch_keys(sw, kf, b, &c->keys, &n));
    if (n > c->slot_cap) {
        size_t *slot = realloc(c->slot, n * sizeof *slot);
        if (!slot) return ms_error_set(MS_E_NOMEM, "out of memory");
        c->slot = slot;
        c->slot_cap = n;
    }
    for (size_t i = 0; i < n; i++) c->slot[i] = key_slot(c->keys.k0[i], c->keys.k1[i], kf->bits);
    uint8_t *cnt = kf->count;
    for (size_t i = 0; i < n; i++) {
        /* Each counter a miss: ask for the lines a few keys ahead. */
        if (i + 16 < n) __builtin_prefetch(&cnt[c->slot[i + 16]], 1);
        /* Threads count into the same counters: an add that stops at 255. */
        uint8_t *a = &cnt[c->slot[i]], v = __atomic_load_n(a, __ATOMIC_RELAXED);
        while (v < 255 &&
               !__atomic_compare_exchange_n(a, &v, (uint8_t)(v + 1), 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
    }
    return MS_OK;
}

/* Count slice sl of table t of partition p.  *read_failed: the failure was
 * the data's, not a model's (count_all decides what becomes of it). */
static ms_status_t count_unit(sweep_t *sw, counter_t *c, const uint64_t *tcols, int t, uint32_t p, uint32_t sl,
                              int *read_failed)
{
    *read_failed = 1;
    ms_status_t st = MS_OK;
    /* A thread's units are a run of slices: each partition opened once. */
    if (!c->part || c->part_t != t || c->part_p != p) {
        ms_part_close(c->part);
        c->part = NULL;
        MS_TRY(sw_open_part(sw, p, ms_table((ms_table_id_t)t), &c->part));
        c->part_t = t, c->part_p = p;
    }
    ms_part_t *part = c->part;
    size_t nc = ms_part_nchunks(part), ns = sw->runs[p].nslices;
    size_t lo = nc * sl / ns, hi = nc * (sl + 1) / ns;
    size_t batch = sw->o->batch_rows ? sw->o->batch_rows : sw->plan.batch_rows;
    ms_reader_t **r = &c->reader[t];
    st = *r ? ms_reader_seek(*r, part, lo, hi)
            : ms_reader_open_rows(part, tcols[t], lo, hi, batch, sw->o->read_mode, r);
    ms_batch_t b;
    while (st == MS_OK && (st = ms_reader_next(*r, &b)) == MS_OK && b.rows) {
        for (int k = 0; k < sw->nkeyed && st == MS_OK; k++) {
            sw_keyed_t *kf = &sw->kf[k];
            if (kf->count && (int)kf->kd->key_table == t) {
                st = count_batch(sw, kf, c, &b);
                if (st != MS_OK) *read_failed = 0;
            }
        }
    }
    if (st != MS_OK) {
        ms_part_close(c->part);
        c->part = NULL;
    }
    return st;
}

/* The count's progress on the terminal (a national week's count reads
 * for minutes): slices counted of all, at most four times a second, and
 * the last. */
static void count_progress(sweep_t *sw, uint64_t done, uint64_t total)
{
    if (!sw->o->progress) return;
    double t = ms_now_s();
#pragma omp critical(sweep_progress)
    {
        if (done == total || t - sw->last_print >= 0.25) {
            sw->last_print = t;
            ms_progress_t p = {.job = "sweep",
                               .stage = "counting keys",
                               .done = done,
                               .total = total,
                               .unit = "slices",
                               .seconds = t - sw->t0,
                               .eta_seconds = -1,
                               .finished = done == total};
            sw->o->progress(sw->o->progress_ctx, &p);
        }
    }
}

/* A partition the count could not read, under --skip-bad: kept for the
 * map (under the caller's lock). */
static ms_status_t count_failed(sweep_t *sw, uint32_t p, ms_status_t st, const char *msg)
{
    if (!sw->count_st) {
        sw->count_st = calloc(sw->nparts, sizeof *sw->count_st);
        sw->count_msg = calloc(sw->nparts, sizeof *sw->count_msg);
        if (!sw->count_st || !sw->count_msg) return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    if (sw->count_st[p] == MS_OK) {
        sw->count_st[p] = st;
        snprintf(sw->count_msg[p], sizeof sw->count_msg[p], "%s", msg);
    }
    return MS_OK;
}

/* The pass over this rank's units (slices of its partitions, as the map
 * cuts them).  A model's fault is returned; the data's is *read_failed,
 * with its message in msg, or with --skip-bad the partition's
 * (count_failed: the others are still counted). */
static ms_status_t count_all(sweep_t *sw, const uint64_t *tcols, int *read_failed, char *msg, size_t msg_size)
{
    size_t nt = (size_t)sw->plan.nthreads, nunits = 0;
    for (int t = 0; t < MS_TABLE_COUNT; t++)
        for (uint32_t p = sw->part_lo; tcols[t] && p < sw->part_hi; p++)
            if (p < sw->ds.nparts[t] && !sw->skipped[p]) nunits += sw->runs[p].nslices;
    uint64_t *units = malloc((nunits + 1) * sizeof *units);
    counter_t *ctr = calloc(nt, sizeof *ctr);
    if (!units || !ctr) {
        free(units), free(ctr);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    nunits = 0;
    for (int t = 0; t < MS_TABLE_COUNT; t++)
        for (uint32_t p = sw->part_lo; tcols[t] && p < sw->part_hi; p++)
            for (uint32_t sl = 0; p < sw->ds.nparts[t] && !sw->skipped[p] && sl < sw->runs[p].nslices; sl++)
                units[nunits++] = (uint64_t)t << 62 | (uint64_t)p << 32 | sl;
    /* The first failure in unit order, whichever thread met it. */
    size_t failed_at = SIZE_MAX;
    ms_status_t failed_st = MS_OK;
    int failed_read = 0;
    uint64_t done = 0;
    /* Each thread a run of units (static), so that it opens each of its
     * partitions once (an open is ~5 M instructions: the chunk index). */
#pragma omp parallel for schedule(static) num_threads(sw->plan.nthreads)
    for (size_t u = 0; u < nunits; u++) {
        size_t at;
#pragma omp atomic read
        at = failed_at;
        if (at < u) continue;
        int t = (int)(units[u] >> 62), rf;
        uint32_t p = (uint32_t)(units[u] >> 32 & 0x3fffffff);
        ms_status_t st = count_unit(sw, &ctr[omp_get_thread_num()], tcols, t, p, (uint32_t)units[u], &rf);
        if (st != MS_OK) {
#pragma omp critical(sweep_keys_failed)
            {
                /* --skip-bad: the partition is the map's to leave out. */
                if (rf && sw->o->skip_bad) st = count_failed(sw, p, st, ms_error_detail());
                if (st != MS_OK && u < failed_at) {
                    failed_at = u;
                    failed_st = st;
                    failed_read = rf;
                    snprintf(msg, msg_size, "%s", ms_error_detail());
                }
            }
        }
        uint64_t now;
#pragma omp atomic capture
        now = ++done;
        count_progress(sw, now, nunits);
    }
    for (size_t i = 0; i < nt; i++) {
        for (int t = 0; t < MS_TABLE_COUNT; t++) ms_reader_close(ctr[i].reader[t]);
        ms_part_close(ctr[i].part);
        free(ctr[i].keys.k0), free(ctr[i].keys.k1), free(ctr[i].slot);
    }
    free(ctr);
    free(units);
    *read_failed = failed_read;
    return failed_at == SIZE_MAX || failed_read ? MS_OK : ms_error_set(failed_st, "%s", msg);
}

/* Every rank takes the same collectives, whatever fails where. */
ms_status_t sw_keys_count(sweep_t *sw)
{
    double t0 = ms_now_s();
    size_t nt = (size_t)sw->plan.nthreads;
    uint64_t tcols[MS_TABLE_COUNT] = {0};
    int any = 0;
    for (int k = 0; k < sw->nkeyed; k++) {
        sw_keyed_t *kf = &sw->kf[k];
        /* Every rank the same counters (the fewest any rank planned). */
        uint64_t fewer = 64 - kf->bits;
        ms_dist_max_u64(&fewer);
        kf->bits = (unsigned)(64 - fewer);
        any |= kf->bits > 0;
    }
    if (!any) return MS_OK;
    ms_status_t mine = MS_OK;
    for (int k = 0; k < sw->nkeyed && mine == MS_OK; k++) {
        sw_keyed_t *kf = &sw->kf[k];
        if (!kf->bits) continue;
        kf->left_out = calloc(nt * LINE_U64, sizeof *kf->left_out);
        kf->count = calloc((size_t)1 << kf->bits, 1);
        if (!kf->left_out || !kf->count) mine = ms_error_set(MS_E_NOMEM, "out of memory for the key count");
        else mine = sw->models[kf->model]->init(&sw->env[kf->model], &kf->floor_state);
        tcols[kf->kd->key_table] |= kf->kd->key_cols;
    }
    int read_failed = 0;
    char msg[sizeof sw->key_count_off - 100] = "";
    if (mine == MS_OK) mine = count_all(sw, tcols, &read_failed, msg, sizeof msg);
    uint64_t off = mine != MS_OK || read_failed;
    ms_dist_max_u64(&off);
    if (off) {
        if (read_failed)
            snprintf(sw->key_count_off, sizeof sw->key_count_off, "a partition could not be read for it: %s", msg);
        else if (mine == MS_OK)
            snprintf(sw->key_count_off, sizeof sw->key_count_off, "another rank could not count");
        sw_keys_free(sw);
    } else {
        for (int k = 0; k < sw->nkeyed; k++)
            if (sw->kf[k].count) ms_dist_sum_sat_u8(sw->kf[k].count, (size_t)1 << sw->kf[k].bits);
    }
    sw->key_count_s = ms_now_s() - t0;
    sw->last_print = 0; /* the map's first report is a new line: not held back */
    return mine;
}

ms_status_t sw_keys_warm(sweep_t *sw, worker_t *w, int m, ms_table_id_t t, const ms_batch_t *b)
{
    for (int k = sw->keyed_base[m]; k < sw->keyed_base[m] + sw->models[m]->nkeyed; k++) {
        sw_keyed_t *kf = &sw->kf[k];
        if (!kf->count || kf->kd->key_table != t) continue;
        size_t n;
        MS_TRY(batch_keys(sw, kf, b, &w->keys, &n));
        for (size_t i = 0; i < n; i++)
            __builtin_prefetch(&kf->count[key_slot(w->keys.k0[i], w->keys.k1[i], kf->bits)], 0);
    }
    return MS_OK;
}

ms_status_t sw_emit_fn(void *impl, int tid, uint64_t k0, uint64_t k1, const void *value)
{
    sw_keyed_t *kf = impl;
    if (kf->count) {
        /* Counted before the map began: read only now. */
        uint8_t c = kf->count[key_slot(k0, k1, kf->bits)];
        if (c == 0)
            return ms_error_set(MS_E_INTERNAL, "keyed aggregation %s: a record's key (%llu, %llu) was never counted "
                                               "(its keys callback does not give every key it emits)",
                                kf->kd->name, (unsigned long long)k0, (unsigned long long)k1);
        if (c < 255 && c <= kf->kd->floor(kf->floor_state, k0, k1)) {
            kf->left_out[(size_t)tid * LINE_U64]++;
            return MS_OK;
        }
    }
    return ms_shuffle_emit(kf->shuf, tid, (ms_key_t){k0, k1}, value);
}

void sw_keys_done(sweep_t *sw)
{
    for (int k = 0; sw->kf && k < sw->nkeyed; k++) {
        sw_keyed_t *kf = &sw->kf[k];
        for (int t = 0; kf->left_out && t < sw->plan.nthreads; t++)
            kf->left_total += kf->left_out[(size_t)t * LINE_U64];
    }
    sw_keys_free(sw);
}

void sw_keys_free(sweep_t *sw)
{
    /* count_st and count_msg stay for the map; cleanup frees them. */
    for (int k = 0; sw->kf && k < sw->nkeyed; k++) {
        sw_keyed_t *kf = &sw->kf[k];
        if (kf->floor_state) sw->models[kf->model]->free(kf->floor_state);
        free(kf->count), free(kf->left_out);
        kf->floor_state = NULL, kf->count = NULL, kf->left_out = NULL;
    }
}
