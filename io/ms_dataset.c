#include "ms_dataset.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_fs.h"

/* The most partitions a dataset has (docs/schema.md). */
#define PARTITIONS_MAX 100000u

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

/* One past the highest partition file of table t ("part-NNNNN.h5", exactly
 * as ms_dataset_part_path names it); present, when not NULL, gets a
 * [*n] array of which exist (caller frees).  0 when the folder is absent. */
static ms_status_t list_parts(const char *dir, const ms_table_t *t, uint32_t *n, uint8_t **present)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, t->name);
    *n = 0;
    if (present) *present = NULL;
    if (!ms_is_dir(path)) return MS_OK;
    ms_status_t st = MS_OK;
    for (int pass = 0; pass < (present ? 2 : 1) && st == MS_OK; pass++) {
        DIR *d = opendir(path);
        if (!d) return ms_error_errno(MS_E_IO, errno, "cannot list %s", path);
        if (pass == 1) {
            *present = calloc(*n ? *n : 1, 1);
            if (!*present) st = ms_error_set(MS_E_NOMEM, "out of memory");
        }
        for (struct dirent *e; st == MS_OK && (e = readdir(d)) != NULL;) {
            unsigned k;
            char again[64];
            if (sscanf(e->d_name, "part-%u.h5", &k) != 1 || k >= PARTITIONS_MAX) continue;
            snprintf(again, sizeof again, "part-%05u.h5", k);
            if (strcmp(again, e->d_name) != 0) continue; /* a temporary or another name */
            if (pass == 0 && k + 1 > *n) *n = k + 1;
            if (pass == 1) (*present)[k] = 1;
        }
        closedir(d);
    }
    if (st != MS_OK && present) {
        free(*present);
        *present = NULL;
    }
    return st;
}

static ms_status_t open_dataset(const char *dir, ms_dataset_t *ds, int as_found)
{
    memset(ds, 0, sizeof *ds);
    if (!ms_is_dir(dir)) return ms_error_set(MS_E_IO, "%s is not a directory", dir);
    if (!ms_dataset_exists(dir))
        return ms_error_set(MS_E_IO, "%s holds no dataset (no institutions.h5, no partitions)", dir);
    ds->dir = strdup(dir);
    if (!ds->dir) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_status_t st = ms_refs_read(dir, &ds->refs);
    for (int t = 0; st == MS_OK && t < MS_TABLE_COUNT; t++)
        st = as_found ? list_parts(dir, ms_table((ms_table_id_t)t), &ds->nparts[t], NULL)
                      : count_parts(dir, ms_table((ms_table_id_t)t), &ds->nparts[t]);
    if (st == MS_OK && ds->nparts[MS_TABLE_SETTLEMENTS] == 0)
        st = ms_error_set(MS_E_CORRUPT, "%s has no settlement partitions", dir);
    if (st != MS_OK) ms_dataset_close(ds);
    return st;
}

ms_status_t ms_dataset_open(const char *dir, ms_dataset_t *ds) { return open_dataset(dir, ds, 0); }

ms_status_t ms_dataset_open_as_found(const char *dir, ms_dataset_t *ds) { return open_dataset(dir, ds, 1); }

void ms_dataset_close(ms_dataset_t *ds)
{
    ms_refs_free(&ds->refs);
    free(ds->dir);
    memset(ds, 0, sizeof *ds);
}

/* ------------------------------------------------------ the partition set */

int ms_dataset_part_misplaced(const ms_part_info_t *info, uint32_t index, uint32_t count, char why[2][128])
{
    int n = 0;
    if (info->index != index)
        snprintf(why[n++], 128, "partition_index attribute is %u, file name says %u", info->index, index);
    if (info->count != count)
        snprintf(why[n++], 128, "partition_count attribute is %u, the dataset has %u", info->count, count);
    return n;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The count the partitions record: the most common among those that carry
 * their own number and a count the schema allows (ties: the smaller); with
 * none, the settlement files'. */
static ms_status_t recorded_count(ms_partset_t *set, uint32_t *count)
{
    size_t n = 0, cap = 1;
    for (int t = 0; t < MS_TABLE_COUNT; t++) cap += set->nfiles[t];
    uint32_t *v = malloc(cap * sizeof *v);
    if (!v) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (int t = 0; t < MS_TABLE_COUNT; t++)
        for (uint32_t k = 0; set->ok[t] && k < set->nfiles[t]; k++)
            if (set->ok[t][k] && set->info[t][k].index == k && set->info[t][k].count <= PARTITIONS_MAX)
                v[n++] = set->info[t][k].count;
    qsort(v, n, sizeof *v, cmp_u32);
    *count = set->nfiles[MS_TABLE_SETTLEMENTS];
    size_t best = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j] == v[i]) j++;
        if (j - i > best) best = j - i, *count = v[i];
        i = j;
    }
    free(v);
    return MS_OK;
}

static ms_status_t add_fault(ms_partset_t *set, size_t *cap, ms_partfault_kind_t kind, ms_table_id_t t, uint32_t k,
                             const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static ms_status_t add_fault(ms_partset_t *set, size_t *cap, ms_partfault_kind_t kind, ms_table_id_t t, uint32_t k,
                             const char *fmt, ...)
{
    if (set->nfaults == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        ms_partfault_t *f = realloc(set->fault, nc * sizeof *f);
        if (!f) return ms_error_set(MS_E_NOMEM, "out of memory");
        set->fault = f;
        *cap = nc;
    }
    ms_partfault_t *f = &set->fault[set->nfaults++];
    f->kind = kind;
    f->table = t;
    f->index = k;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->why, sizeof f->why, fmt, ap);
    va_end(ap);
    return MS_OK;
}

ms_status_t ms_dataset_partset(const ms_dataset_t *ds, ms_partset_t *set)
{
    return ms_dataset_partset_tables(ds, (1u << MS_TABLE_COUNT) - 1, set);
}

ms_status_t ms_dataset_partset_tables(const ms_dataset_t *ds, unsigned tables, ms_partset_t *set)
{
    memset(set, 0, sizeof *set);
    uint8_t *present[MS_TABLE_COUNT] = {NULL};
    char **damage[MS_TABLE_COUNT] = {NULL}; /* what the probe said of a damaged file */
    int table_dir[MS_TABLE_COUNT] = {0};
    ms_status_t st = MS_OK;
    for (int t = 0; st == MS_OK && t < MS_TABLE_COUNT; t++) {
        const ms_table_t *tb = ms_table((ms_table_id_t)t);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", ds->dir, tb->name);
        if (!(tables >> t & 1)) continue;
        table_dir[t] = ms_is_dir(path);
        st = list_parts(ds->dir, tb, &set->nfiles[t], &present[t]);
        if (st != MS_OK || !table_dir[t]) continue;
        size_t n = set->nfiles[t] ? set->nfiles[t] : 1;
        set->info[t] = calloc(n, sizeof *set->info[t]);
        set->ok[t] = calloc(n, 1);
        set->damaged[t] = calloc(n, 1);
        damage[t] = calloc(n, sizeof *damage[t]);
        if (!set->info[t] || !set->ok[t] || !set->damaged[t] || !damage[t] || !present[t]) {
            st = ms_error_set(MS_E_NOMEM, "out of memory");
            break;
        }
        for (uint32_t k = 0; k < set->nfiles[t]; k++) {
            if (!present[t][k]) continue;
            /* Opened in a child, which sends back what the file records. */
            ms_probe_t verdict;
            ms_dataset_part_path(ds->dir, tb, k, path, sizeof path);
            st = ms_part_probe(path, tb, &ds->refs, &set->info[t][k], &verdict, NULL);
            if (st != MS_OK) break;
            if (verdict == MS_PROBE_DAMAGED) {
                set->damaged[t][k] = 1;
                damage[t][k] = strdup(ms_error_detail()); /* NULL: said shorter below */
            }
            /* MS_PROBE_REFUSED: reported by its reader */
            set->ok[t][k] = verdict == MS_PROBE_OPENED;
        }
    }
    if (st == MS_OK) st = recorded_count(set, &set->count);
    uint32_t span = set->count;
    for (int t = 0; t < MS_TABLE_COUNT; t++)
        if (set->nfiles[t] > span) span = set->nfiles[t];
    size_t cap = 0;
    for (uint32_t k = 0; st == MS_OK && k < span; k++) {
        for (int t = 0; st == MS_OK && t < MS_TABLE_COUNT; t++) {
            if (!table_dir[t]) continue;
            const ms_table_t *tb = ms_table((ms_table_id_t)t);
            char path[4096];
            ms_dataset_part_path(ds->dir, tb, k, path, sizeof path);
            int here = k < set->nfiles[t] && present[t][k];
            const ms_part_info_t *info = here && set->ok[t][k] ? &set->info[t][k] : NULL;
            char why[2][128];
            int nwhy;
            ms_table_id_t id = (ms_table_id_t)t;
            if (!here && k < set->count)
                st = add_fault(set, &cap, MS_PART_MISSING, id, k, "%s is missing (the dataset has %u partitions)",
                               path, set->count);
            else if (here && set->damaged[t][k] && damage[t][k])
                st = add_fault(set, &cap, MS_PART_DAMAGED, id, k, "%s", damage[t][k]);
            else if (here && set->damaged[t][k])
                st = add_fault(set, &cap, MS_PART_DAMAGED, id, k, "%s is damaged: HDF5 could not read its metadata",
                               path);
            else if (here && k >= set->count && info)
                st = add_fault(set, &cap, MS_PART_UNEXPECTED, id, k,
                               "%s is not one of the dataset's %u partitions (it records partition %u of %u)", path,
                               set->count, info->index, info->count);
            else if (here && k >= set->count)
                st = add_fault(set, &cap, MS_PART_UNEXPECTED, id, k, "%s is not one of the dataset's %u partitions",
                               path, set->count);
            else if (info && (nwhy = ms_dataset_part_misplaced(info, k, set->count, why)) > 0)
                st = add_fault(set, &cap, MS_PART_MISPLACED, id, k, "%s is not the partition its name says: %s%s%s",
                               path, why[0], nwhy > 1 ? "; " : "", nwhy > 1 ? why[1] : "");
        }
    }
    for (int t = 0; t < MS_TABLE_COUNT; t++) {
        for (uint32_t k = 0; damage[t] && k < set->nfiles[t]; k++) free(damage[t][k]);
        free(present[t]), free(damage[t]);
    }
    if (st != MS_OK) ms_partset_free(set);
    return st;
}

void ms_partset_free(ms_partset_t *set)
{
    for (int t = 0; t < MS_TABLE_COUNT; t++) free(set->info[t]), free(set->ok[t]), free(set->damaged[t]);
    free(set->fault);
    memset(set, 0, sizeof *set);
}
