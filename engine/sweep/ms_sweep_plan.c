/*
 * ms_sweep_plan.c - what the sweep is sized from: the dataset's window and
 * size, the memory budget (--memory-cap split between the workers and the
 * keyed aggregations), and the per-node partition queues.
 */
#include "ms_sweep_int.h"

ms_status_t sw_make_queues(sweep_t *sw)
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

/* The window the dataset covers, and its size, from the partitions'
 * attributes (one HDF5 open each, no data read). */
ms_status_t sw_dataset_dates(sweep_t *sw)
{
    sw->min_date = INT32_MAX;
    sw->max_date = INT32_MIN;
    for (uint32_t p = 0; p < sw->ds.nparts[MS_TABLE_SETTLEMENTS]; p++) {
        ms_part_t *part = NULL;
        if (sw_open_part(sw, p, ms_table(MS_TABLE_SETTLEMENTS), &part) != MS_OK) continue; /* reported when swept */
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
        if (sw_open_part(sw, p, ms_table(MS_TABLE_DRUG_ITEMS), &part) != MS_OK) continue;
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
