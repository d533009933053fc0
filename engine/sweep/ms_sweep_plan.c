/*
 * ms_sweep_plan.c - what the sweep is sized from: the dataset's partitions
 * (checked against what they record), its window and size, the memory
 * budget (--memory-cap split between the workers and the keyed
 * aggregations), and the per-node partition queues.
 */
#include "ms_sweep_int.h"

/* The partition set (ms_dataset_partset): a partition file missing, one the
 * dataset does not have, or one that is not the partition its name says
 * stops the sweep before anything is written; with --skip-bad its partition
 * number is excluded from both tables.  Allocates the per-partition arrays. */
ms_status_t sw_check_partitions(sweep_t *sw)
{
    MS_TRY(ms_dataset_partset(&sw->ds, &sw->set));
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

ms_status_t sw_make_queues(sweep_t *sw)
{
    uint32_t n = sw->nparts;
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

/* --memory-cap bounds the whole sweep.  What a worker needs is known from
 * the plan (its readers' staging: a batch plus two chunks of every column
 * read, the chunk scratch, the quality buffers); the libraries and the
 * reference data get a fixed allowance; keyed aggregation, shared by the
 * models that use it, gets the rest. */
#define FIXED_ALLOWANCE ((size_t)64 << 20)

ms_status_t sw_budget_memory(sweep_t *sw)
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
    int shuffles = sw->nkeyed;
    size_t least = need + (shuffles ? (size_t)16 << 20 : 0);
    if (sw->memory_cap < least)
        return ms_error_set(MS_E_USAGE, "--memory-cap %zu MiB is too small for %d threads: at least %zu MiB",
                            sw->memory_cap >> 20, sw->plan.nthreads, (least >> 20) + 1);
    sw->shuffle_cap = shuffles ? (sw->memory_cap - need) / (size_t)shuffles : 0;
    return MS_OK;
}
