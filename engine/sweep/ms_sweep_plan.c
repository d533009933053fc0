/*
 * ms_sweep_plan.c - what the sweep is sized from: the dataset's partitions
 * (checked against what they record), its window and size, the memory
 * budget (--memory-cap split between the workers and the keyed
 * aggregations), and the per-node partition queues.
 */
#include "ms_sweep_int.h"

#include <malloc.h>

/* The partition set (ms_dataset_partset): a partition file missing, one the
 * dataset does not have, or one that is not the partition its name says
 * stops the sweep before anything is written; with --skip-bad its partition
 * number is excluded from every table.  The bill lines' files are judged
 * only when a model reads them (sw->cols, set before).  Allocates the
 * per-partition arrays. */
ms_status_t sw_check_partitions(sweep_t *sw)
{
    unsigned tables = 1u << MS_TABLE_SETTLEMENTS | 1u << MS_TABLE_DRUG_ITEMS;
    if (sw->cols[MS_TABLE_SERVICE_ITEMS]) tables |= 1u << MS_TABLE_SERVICE_ITEMS;
    MS_TRY(ms_dataset_partset_tables(&sw->ds, tables, &sw->set));
    uint32_t n = sw->nparts = sw->set.count;
    sw->resumed = calloc(n ? n : 1, 1);
    sw->skipped = calloc(n ? n : 1, 1);
    sw->part_st = calloc(n ? n : 1, sizeof *sw->part_st);
    sw->part_msg = calloc(n ? n : 1, sizeof *sw->part_msg);
    sw->redo_msg = calloc(n ? n : 1, sizeof *sw->redo_msg);
    if (!sw->resumed || !sw->skipped || !sw->part_st || !sw->part_msg || !sw->redo_msg)
        return ms_error_set(MS_E_NOMEM, "out of memory");
    if (sw->set.nfaults && !sw->o->skip_bad) {
        size_t more = sw->set.nfaults - 1;
        char also[64] = "";
        if (more) snprintf(also, sizeof also, " (and %zu more such file%s)", more, more > 1 ? "s" : "");
        return ms_error_set(MS_E_CORRUPT, "%s%s; --skip-bad sweeps the dataset without %s", sw->set.fault[0].why, also,
                            more ? "the partitions concerned" : "that partition");
    }
    for (size_t k = 0; k < sw->set.nfaults; k++) {
        const ms_partfault_t *f = &sw->set.fault[k];
        if (f->index >= n) continue; /* never read: recorded in run.json */
        char *msg = sw->part_msg[f->index];
        size_t at = strlen(msg);
        snprintf(msg + at, sizeof sw->part_msg[0] - at, "%s%s", at ? "; " : "", f->why);
        sw->skipped[f->index] = 1;
        sw->part_st[f->index] = MS_E_CORRUPT;
    }
    return MS_OK;
}

/* Record the partitions the set excluded in the state, as the workers do
 * for those they cannot read (ms_partial_mark_skipped).  On resume, a
 * partition skipped by the interrupted run and not finished is swept again:
 * its mark goes, or the merge would leave it out even once it is read. */
ms_status_t sw_mark_skipped_partitions(sweep_t *sw)
{
    for (uint32_t p = 0; p < sw->nparts; p++) {
        if (sw->skipped[p]) {
            sw->resumed[p] = 0;
            MS_TRY(ms_partial_mark_skipped(sw->state_dir, p, sw->part_msg[p]));
        } else if (!sw->resumed[p]) {
            MS_TRY(ms_partial_unmark_skipped(sw->state_dir, p));
        }
    }
    return MS_OK;
}

/* Partition numbers beyond the dataset's whose files were excluded. */
uint32_t sw_stray_partitions(const sweep_t *sw)
{
    uint32_t n = 0;
    for (size_t k = 0; k < sw->set.nfaults; k++)
        n += sw->set.fault[k].index >= sw->nparts && (k == 0 || sw->set.fault[k - 1].index != sw->set.fault[k].index);
    return n;
}

/* Slices of partition p: by its settlements (or the first table the sweep
 * reads, when it reads no settlement), from the row counts its files record.  One
 * with --skip-bad and keyed aggregation: the partition is read through
 * before any of it is emitted (ms_sweep_map.c). */
static uint32_t slices_of(const sweep_t *sw, uint32_t p, int shuffled)
{
    if (sw->o->skip_bad && shuffled) return 1;
    for (int m = 0; m < sw->nmodels; m++)
        if (sw->models[m]->whole_partition) return 1;
    int t = MS_TABLE_SETTLEMENTS;
    while (t + 1 < MS_TABLE_COUNT && !sw->cols[t]) t++;
    uint64_t rows = p < sw->set.nfiles[t] && sw->set.ok[t][p] ? sw->set.info[t][p].rows : 0;
    /* A slice's fixed cost is the models' fresh state for every
     * institution (hundreds of bytes each: zeroed, filled, merged), so a
     * slice holds at least 16 settlements per institution of the country. */
    uint64_t per = (uint64_t)16 * sw->ds.refs.n_inst;
    if (per < SLICE_ROWS) per = SLICE_ROWS;
    if (sw->o->slice_rows) per = sw->o->slice_rows;
    uint64_t n = (rows + per - 1) / per;
    return n < 1 ? 1 : n > 4096 ? 4096 : (uint32_t)n;
}

ms_status_t sw_make_queues(sweep_t *sw)
{
    uint32_t n = sw->nparts;
    int shuffled = sw->nkeyed > 0;
    sw->queues = calloc((size_t)sw->topo.nnodes, sizeof *sw->queues);
    sw->runs = calloc(n ? n : 1, sizeof *sw->runs);
    if (sw->accumulate) {
        sw->acc = calloc((size_t)sw->plan.nthreads, sizeof *sw->acc);
        sw->in_acc = calloc(n ? n : 1, 1);
    }
    if (!sw->queues || !sw->runs || (sw->accumulate && (!sw->acc || !sw->in_acc)))
        return ms_error_set(MS_E_NOMEM, "out of memory");
    size_t units = 0;
    for (uint32_t p = 0; p < n; p++) {
        part_run_t *r = &sw->runs[p];
        omp_init_lock(&r->lock);
        r->nslices = slices_of(sw, p, shuffled);
        r->pending = calloc(r->nslices, sizeof *r->pending);
        r->done = calloc(r->nslices, 1);
        if (!r->pending || !r->done) return ms_error_set(MS_E_NOMEM, "out of memory");
        units += r->nslices;
    }
    for (int k = 0; k < sw->topo.nnodes; k++) {
        sw->queues[k].units = malloc((units ? units : 1) * sizeof(uint64_t));
        if (!sw->queues[k].units) return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    /* This rank's partitions only (all of them without MPI). */
    for (uint32_t p = sw->part_lo; p < sw->part_hi; p++) {
        for (int t = 0; t < MS_TABLE_COUNT; t++)
            if ((t != MS_TABLE_SERVICE_ITEMS || sw->cols[t]) && p < sw->set.nfiles[t] && sw->set.ok[t][p] &&
                !sw->skipped[p])
                sw->my_rows += sw->set.info[t][p].rows;
        node_queue_t *q = &sw->queues[sw->plan.part_node[p]];
        for (uint32_t sl = 0; sl < sw->runs[p].nslices; sl++) q->units[q->n++] = (uint64_t)p << 32 | sl;
    }
    return MS_OK;
}

void sw_free_queues(sweep_t *sw)
{
    for (int k = 0; sw->queues && k < sw->topo.nnodes; k++) free(sw->queues[k].units);
    free(sw->queues);
    for (uint32_t p = 0; sw->runs && p < sw->nparts; p++) {
        part_run_t *r = &sw->runs[p];
        if (!r->pending) continue;
        for (uint32_t sl = 0; sl < r->nslices; sl++) ms_partial_free(&r->pending[sl], sw->models);
        ms_partial_free(&r->acc, sw->models);
        free(r->pending);
        free(r->done);
        omp_destroy_lock(&r->lock);
    }
    free(sw->runs);
    for (int t = 0; sw->acc && t < sw->plan.nthreads; t++) ms_partial_free(&sw->acc[t], sw->models);
    free(sw->acc), free(sw->in_acc);
    sw->queues = NULL;
    sw->runs = NULL;
    sw->acc = NULL;
    sw->in_acc = NULL;
}

/* The window the dataset covers, and its size, from the attributes of the
 * partitions swept (read when the set was checked; no data read).  One that
 * cannot be opened is reported when swept. */
ms_status_t sw_dataset_dates(sweep_t *sw)
{
    sw->min_date = INT32_MAX;
    sw->max_date = INT32_MIN;
    for (int t = 0; t < MS_TABLE_COUNT; t++) {
        for (uint32_t p = 0; p < sw->nparts && p < sw->set.nfiles[t]; p++) {
            if (sw->skipped[p] || !sw->set.ok[t][p]) continue;
            const ms_part_info_t *info = &sw->set.info[t][p];
            if (t == MS_TABLE_SETTLEMENTS && info->rows) {
                if (info->min_date < sw->min_date) sw->min_date = info->min_date;
                if (info->max_date > sw->max_date) sw->max_date = info->max_date;
            }
            sw->table_rows[t] += info->rows;
            sw->total_rows += info->rows;
        }
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

/* --memory-cap bounds the whole sweep.  The sweep's stages hold different
 * things, so the budget is the largest of them (docs/engine.md, Memory):
 *   map     per worker: its readers' staging (a batch plus two chunks of
 *           every column read, the chunk scratch, the quality buffers), the
 *           models' states of the slice in hand and, while a partition is
 *           saved, a block of a model's saved bytes and its compressed
 *           copy, or the largest model's state if smaller
 *           (MS_PARTIAL_WRITE_BYTES: the state is compressed as it is
 *           saved; until 2026-12-02 the largest model's serialised state
 *           was held whole); the slices of a
 *           partition waiting to be merged in order (at most its slices);
 *           keyed aggregation gets the rest of the cap;
 *   merge   the merged states, a partition's loaded states and one model's
 *           saved bytes (a partial is read one model at a time);
 *   reduce  the merged states, plus one model's state per reducing thread,
 *           plus the keyed aggregation's share;
 *   score   each model's results (numerator, denominator, expected: 24 bytes
 *           per institution and indicator) and the scoring's arrays (about
 *           64 bytes per institution and scored indicator, 96 per
 *           institution); merged states are freed as each model finalises;
 *   write   the scoring's arrays still, beside what the writers add:
 *           the ranked order and the report's per-institution tables (32
 *           bytes per institution) and features.h5's row buffer (1 MiB:
 *           its matrices are written from the columns where they are).
 * The libraries get a fixed allowance, and the reference data what it
 * holds (at 420,000 institutions about 45 MiB: counted in the 64 MiB
 * until 2026-12-02, which then did not cover a least-cap sweep's merge).
 * The states' size is measured, not guessed: a fresh state of every model
 * is made and the heap asked how much it grew; all are made before any is
 * freed, so that each comes from fresh heap that calloc() need not clear
 * (one made in the memory of the one before was cleared: pages touched
 * only to be measured). */
#define FIXED_ALLOWANCE ((size_t)64 << 20)

/* What a heap block of n bytes takes: malloc's header, 16-byte steps. */
static size_t heap_block(size_t n)
{
    size_t b = (n + 8 + 15) / 16 * 16;
    return b < 32 ? 32 : b;
}

static size_t dict_bytes(const ms_dict_t *d)
{
    size_t b = heap_block(d->count * sizeof *d->str);
    for (size_t i = 0; i < d->count; i++) b += heap_block(strlen(d->str[i]) + 1);
    return b;
}

/* The bytes the reference data holds: its arrays and strings. */
static size_t refs_bytes(const ms_refs_t *r)
{
    size_t b = heap_block(r->n_inst * sizeof *r->inst) + heap_block(r->n_groups * sizeof *r->groups);
    for (size_t i = 0; i < r->n_inst; i++)
        b += heap_block(strlen(r->inst[i].inst_code) + 1) + heap_block(strlen(r->inst[i].name) + 1);
    for (size_t i = 0; i < r->n_groups; i++)
        b += heap_block(strlen(r->groups[i].group_code) + 1) + heap_block(strlen(r->groups[i].family) + 1);
    return b + dict_bytes(&r->diagnoses) + dict_bytes(&r->procedures) + dict_bytes(&r->drugs) +
           dict_bytes(&r->items);
}

/* Bytes the heap has handed out: small blocks and mmapped ones. */
static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* One fresh state of every model: their total size and the largest one's.
 * A heap that cannot say (a sanitiser's) leaves the tallies' arrays (16
 * bytes per institution and indicator) as the floor. */
static ms_status_t measure_states(sweep_t *sw, size_t *total, size_t *largest)
{
    *total = *largest = 0;
    void **made = calloc((size_t)sw->nmodels + 1, sizeof *made);
    if (!made) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_status_t st = MS_OK;
    for (int m = 0; st == MS_OK && m < sw->nmodels; m++) {
        const ms_model_t *mod = sw->models[m];
        size_t before = heap_in_use();
        st = sw_model_checked(mod, MS_TABLE_SETTLEMENTS, mod->init(&sw->env[m], &made[m]));
        size_t after = heap_in_use();
        size_t floor = (size_t)sw->ds.refs.n_inst * (size_t)mod->nindicators * 16;
        size_t bytes = after > before ? after - before : 0;
        if (bytes < floor) bytes = floor;
        *total += bytes;
        if (bytes > *largest) *largest = bytes;
    }
    for (int m = sw->nmodels - 1; m >= 0; m--)
        if (made[m]) sw->models[m]->free(made[m]);
    free(made);
    return st;
}

static size_t max2(size_t a, size_t b) { return a > b ? a : b; }

/* The least cap for stages that hold keyed (the map, merge and reduce,
 * beside keyed aggregation's 16 MiB at least, when there is any) and score
 * bytes. */
static size_t least_cap(size_t fixed, size_t keyed, size_t score, int shuffles)
{
    return fixed + max2(keyed + (shuffles ? (size_t)16 << 20 : 0), score);
}

/* The bytes keyed aggregation m, k expects to hold: the records it emits
 * per settlement, drug item and bill line, times the dataset's rows, at 16
 * bytes of key and its value each. */
double sw_keyed_records(const sweep_t *sw, const ms_keyed_t *kd)
{
    const uint64_t *rows = sw->table_rows;
    return kd->per_settlement * (double)rows[MS_TABLE_SETTLEMENTS] +
           kd->per_drug_item * (double)rows[MS_TABLE_DRUG_ITEMS] +
           kd->per_service_item * (double)rows[MS_TABLE_SERVICE_ITEMS];
}

static double keyed_bytes(const sweep_t *sw, const ms_keyed_t *kd)
{
    return sw_keyed_records(sw, kd) * (double)(16 + kd->value_size);
}

/* What every keyed aggregation together expects to hold. */
static double keyed_want(const sweep_t *sw)
{
    double total = 0;
    for (int m = 0; m < sw->nmodels; m++)
        for (int k = 0; k < sw->models[m]->nkeyed; k++) total += keyed_bytes(sw, &sw->models[m]->keyed[k]);
    return total;
}

/* The keyed aggregations share shuffle_cap by the bytes each expects to
 * hold (ms_keyed_t: records per settlement and per drug item, times the
 * dataset's rows and the record's size), after a floor of an eighth of an
 * equal share each: an equal split had the two that take a record per row
 * spill while the others held a fraction of theirs.  Sizing only: what
 * spills never changes a result. */
static ms_status_t share_keyed(sweep_t *sw)
{
    int n = sw->nkeyed;
    sw->keyed_cap = calloc((size_t)(n ? n : 1), sizeof *sw->keyed_cap);
    if (!sw->keyed_cap) return ms_error_set(MS_E_NOMEM, "out of memory");
    if (!n) return MS_OK;
    double *want = calloc((size_t)n, sizeof *want), total = 0;
    if (!want) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (int m = 0; m < sw->nmodels; m++) {
        for (int k = 0; k < sw->models[m]->nkeyed; k++) {
            want[sw->keyed_base[m] + k] = keyed_bytes(sw, &sw->models[m]->keyed[k]);
            total += want[sw->keyed_base[m] + k];
        }
    }
    size_t floor = sw->shuffle_cap / (size_t)n / 8, rest = sw->shuffle_cap - floor * (size_t)n;
    for (int i = 0; i < n; i++)
        sw->keyed_cap[i] = floor + (size_t)(total > 0 ? (double)rest * (want[i] / total) : (double)rest / n);
    free(want);
    return MS_OK;
}

ms_status_t sw_budget_memory(sweep_t *sw)
{
    size_t phys = physical_memory();
    size_t dflt = phys ? phys / 2 : (size_t)4 << 30;
    if (dflt > (size_t)4 << 30) dflt = (size_t)4 << 30;
    sw->memory_cap = sw->o->memory_cap ? sw->o->memory_cap : dflt;
    size_t batch = sw->o->batch_rows ? sw->o->batch_rows : sw->plan.batch_rows;
    size_t per_thread = 0;
    for (int t = 0; t < MS_TABLE_COUNT; t++) {
        const ms_table_t *tb = ms_table((ms_table_id_t)t);
        size_t row = 0;
        for (int c = 0; c < tb->ncols; c++)
            if (sw->cols[t] >> c & 1) row += ms_ctype_size(tb->cols[c].type);
        if (row) per_thread += (2 * batch + 2 * MS_DEFAULT_CHUNK_ROWS) * row + 3 * MS_DEFAULT_CHUNK_ROWS * 8;
    }
    size_t states, largest;
    MS_TRY(measure_states(sw, &states, &largest));
    /* States that grow with the partition they hold (the rules model keeps
     * a partition's settlement facts): as much as the largest partition
     * makes them, in every state in hand. */
    size_t grow = 0;
    for (int m = 0; m < sw->nmodels; m++)
        for (int t = 0; t < MS_TABLE_COUNT; t++) {
            if (!sw->models[m]->state_per_row[t]) continue;
            uint64_t most = 0;
            for (uint32_t p = 0; p < sw->nparts && p < sw->set.nfiles[t]; p++)
                if (sw->set.ok[t][p] && sw->set.info[t][p].rows > most) most = sw->set.info[t][p].rows;
            grow += (size_t)most * sw->models[m]->state_per_row[t];
        }
    states += grow;
    size_t nt = (size_t)sw->plan.nthreads, n_inst = sw->ds.refs.n_inst;
    size_t nind = 0, scored = 0;
    for (int m = 0; m < sw->nmodels; m++) {
        nind += (size_t)sw->models[m]->nindicators;
        for (int i = 0; i < sw->models[m]->nindicators; i++) scored += sw->models[m]->indicators[i].kind != MS_IND_INFO;
    }
    /* A partition's slices are merged in order: those ended before an
     * earlier one wait, at most all the slices of a partition. */
    size_t slices = 1;
    for (uint32_t p = 0; p < sw->nparts; p++) {
        size_t k = slices_of(sw, p, sw->nkeyed > 0);
        if (k > slices) slices = k;
    }
    /* Saving a partition touches a block's worth of its buffers at most,
     * and no more than the state it saves. */
    size_t saving = largest < MS_PARTIAL_WRITE_BYTES ? largest : MS_PARTIAL_WRITE_BYTES;
    size_t map = nt * (per_thread + states + saving) + slices * states;
    size_t merge = 2 * states + largest;
    size_t reduce = states + nt * largest;
    /* and writing; and each scoring thread's work arrays (an indicator at a
     * time: three doubles per institution) */
    size_t score = n_inst * (nind * 24 + scored * 64 + 96) + n_inst * 32 + ((size_t)1 << 20) + nt * n_inst * 24;
    int shuffles = sw->nkeyed;
    /* The stages that share the cap with keyed aggregation: its records are
     * held from the map until the reduce, through the merge (until
     * 2026-12-02 the merge was left out: under the least cap a
     * 420,000-institution sweep then peaked at 912-919 MiB while merging,
     * over a cap of 883 MiB). */
    size_t keyed = max2(max2(map, merge), reduce);
    size_t fixed = FIXED_ALLOWANCE + refs_bytes(&sw->ds.refs);
    size_t need = least_cap(fixed, keyed, score, shuffles);
    sw->budget_states = states;
    sw->budget_score = score;
    sw->budget_reduce = reduce;
    /* A worker that keeps the partitions it ends merged in a state of its
     * own holds one more state through the map and until the merge stage
     * has taken it: done only when the cap still leaves the keyed
     * aggregations all they expect to hold (nothing spills for it). */
    size_t map_acc = map + nt * states, merge_acc = (nt + 2) * states + largest;
    size_t keyed_acc = max2(max2(map_acc, merge_acc), reduce);
    size_t need_acc = least_cap(fixed, keyed_acc, score, shuffles);
    double want = keyed_want(sw);
    sw->accumulate = sw->memory_cap >= need_acc && (double)(sw->memory_cap - fixed - keyed_acc) >= want;
    if (sw->accumulate) keyed = keyed_acc;
    sw->budget_merge = sw->accumulate ? merge_acc : merge;
    if (sw->memory_cap < need)
        return ms_error_set(MS_E_USAGE,
                            "--memory-cap %zu MiB is too small for this sweep with %zu thread%s: it needs at least "
                            "%zu MiB (each worker's read buffers %.1f MiB; the models' state for %zu institutions is "
                            "%.1f MiB per partition in hand; scoring and writing %.1f MiB;%s %zu MiB for the libraries and "
                            "%.1f MiB for the reference data); give a larger cap%s",
                            sw->memory_cap >> 20, nt, nt == 1 ? "" : "s", (need >> 20) + 1, per_thread / 1048576.0,
                            n_inst, states / 1048576.0, score / 1048576.0,
                            shuffles ? " keyed aggregation 16 MiB at least;" : "", FIXED_ALLOWANCE >> 20,
                            (fixed - FIXED_ALLOWANCE) / 1048576.0,
                            nt > 1 && keyed > max2(merge, score) ? " or fewer --threads" : "");
    sw->shuffle_cap = shuffles ? sw->memory_cap - fixed - keyed : 0;
    return share_keyed(sw);
}

/* The heap keeps freed blocks (engine/cli/main.c: a partition's states,
 * saved and loaded bytes reuse pages instead of faulting fresh ones), and
 * what it keeps is resident: after the map, the map's freed states and
 * buffers; a stage that holds blocks of other sizes (the merge's states,
 * the scoring's arrays) grows the heap beside them.  Under a roomy cap that
 * costs nothing; where the resident bytes and the next stage's would pass
 * the cap, the free pages are handed back first (malloc_trim: every free
 * page of the heap, not only its top).  Without it a 420,000-institution
 * sweep under the least cap (883 MiB) held 485 MiB of free heap at the end
 * of the merge and peaked at 912-919 MiB. */
void sw_fit_heap(const sweep_t *sw, size_t need)
{
    size_t rss = ms_rss();
    if (rss && rss + need > sw->memory_cap) malloc_trim(0);
}
