#include "ms_dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_fs.h"

void ms_dataset_part_path(const char *dir, const ms_table_t *t, uint32_t index, char *out,
                          size_t cap)
{
    snprintf(out, cap, "%s/%s/part-%05u.h5", dir, t->name, index);
}

int ms_dataset_exists(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/institutions.h5", dir);
    if (ms_path_exists(path)) return 1;
    for (int t = 0; t < MS_TABLE_COUNT; t++) {
        snprintf(path, sizeof path, "%s/%s", dir, ms_table((ms_table_id_t)t)->name);
        if (ms_is_dir(path)) return 1;
    }
    return 0;
}

static ms_status_t count_parts(const char *dir, const ms_table_t *t, uint32_t *n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, t->name);
    *n = 0;
    if (!ms_is_dir(path)) return MS_OK;
    for (;;) {
        ms_dataset_part_path(dir, t, *n, path, sizeof path);
        if (!ms_path_exists(path)) break;
        (*n)++;
    }
    /* A later partition without this one means a partition was lost. */
    for (uint32_t k = *n + 1; k < *n + 64; k++) {
        ms_dataset_part_path(dir, t, k, path, sizeof path);
        if (ms_path_exists(path)) {
            ms_dataset_part_path(dir, t, *n, path, sizeof path);
            return ms_error_set(MS_E_CORRUPT, "%s is missing (partition %u exists)", path, k);
        }
    }
    return MS_OK;
}

ms_status_t ms_dataset_open(const char *dir, ms_dataset_t *ds)
{
    memset(ds, 0, sizeof *ds);
    if (!ms_is_dir(dir)) return ms_error_set(MS_E_IO, "%s is not a directory", dir);
    if (!ms_dataset_exists(dir))
        return ms_error_set(MS_E_IO, "%s holds no dataset (no institutions.h5, no partitions)", dir);
    ds->dir = strdup(dir);
    if (!ds->dir) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_status_t st = ms_refs_read(dir, &ds->refs);
    for (int t = 0; st == MS_OK && t < MS_TABLE_COUNT; t++)
        st = count_parts(dir, ms_table((ms_table_id_t)t), &ds->nparts[t]);
    if (st == MS_OK && ds->nparts[MS_TABLE_SETTLEMENTS] == 0)
        st = ms_error_set(MS_E_CORRUPT, "%s has no settlement partitions", dir);
    if (st != MS_OK) ms_dataset_close(ds);
    return st;
}

void ms_dataset_close(ms_dataset_t *ds)
{
    ms_refs_free(&ds->refs);
    free(ds->dir);
    memset(ds, 0, sizeof *ds);
}
