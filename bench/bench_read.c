/*
 * bench_read.c - partition read throughput: rows/s and decoded GB/s.
 *
 * Reads every column of every settlement partition of a dataset through the
 * batch reader, with 1..N threads, in either read mode (pread: chunk bytes
 * read with pread, no HDF5 lock; h5: H5Dread_chunk under HDF5's global
 * lock).  Work is split into (partition, chunk range) units handed out
 * dynamically, so threads share partitions.  Each batch is summed (total
 * column) so the compiler cannot skip work, and the sum is checked equal
 * across runs.
 *
 *   bench_read DATASET [--threads 1,2] [--mode pread|h5|both] [--repeat 3] [--json]
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_bench.h"
#include "ms_dataset.h"
#include "ms_part.h"
#include "ms_reader.h"

typedef struct {
    ms_part_t **parts;
    uint32_t nparts;
    size_t span;              /* chunks per work unit */
    size_t nunits;
    uint32_t *unit_part;
    size_t *unit_lo;
    int threads;
    ms_read_mode_t mode;
    int64_t checksum;
    int failed;
} read_ctx_t;

static int read_all(void *vctx, ms_bench_work_t *w)
{
    read_ctx_t *c = vctx;
    const ms_table_t *t = ms_table(MS_TABLE_SETTLEMENTS);
    uint64_t rows = 0;
    int64_t sum = 0;
    int failed = 0;
#pragma omp parallel num_threads(c->threads) reduction(+ : rows, sum) reduction(| : failed)
    {
        /* One reader per thread for the whole pass, moved from unit to unit. */
        ms_reader_t *r = NULL;
#pragma omp for schedule(dynamic, 1)
        for (size_t u = 0; u < c->nunits; u++) {
            ms_part_t *p = c->parts[c->unit_part[u]];
            size_t lo = c->unit_lo[u], hi = lo + c->span;
            ms_status_t st = r ? ms_reader_seek(r, p, lo, hi)
                               : ms_reader_open(p, MS_ALL_COLUMNS(t), lo, hi, 65536, c->mode, &r);
            if (st != MS_OK) {
                fprintf(stderr, "bench_read: %s\n", ms_error_detail());
                failed = 1;
                continue;
            }
            ms_batch_t b;
            while ((st = ms_reader_next(r, &b)) == MS_OK && b.rows) {
                const int64_t *tot = b.col[MS_SC_total];
                for (size_t i = 0; i < b.rows; i++) sum += tot[i];
                rows += b.rows;
            }
            if (st != MS_OK) {
                fprintf(stderr, "bench_read: %s\n", ms_error_detail());
                failed = 1;
            }
        }
        ms_reader_close(r);
    }
    if (failed) return 1;
    if (c->checksum != INT64_MIN && c->checksum != sum) {
        fprintf(stderr, "bench_read: checksum changed between runs\n");
        return 1;
    }
    c->checksum = sum;
    size_t row_bytes = 0;
    for (int i = 0; i < t->ncols; i++) row_bytes += ms_ctype_size(t->cols[i].type);
    w->records = rows;
    w->bytes = rows * row_bytes;
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *threads_arg = "1,2", *mode_arg = "both";
    int repeat = 3, json = 0;
    size_t span = 4;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads_arg = argv[++i];
        else if (!strcmp(argv[i], "--mode") && i + 1 < argc) mode_arg = argv[++i];
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--span") && i + 1 < argc) span = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--json")) json = 1;
        else if (argv[i][0] != '-' && !dir) dir = argv[i];
        else {
            fprintf(stderr, "usage: bench_read DATASET [--threads 1,2,4] [--mode pread|h5|both] "
                            "[--repeat N] [--span CHUNKS] [--json]\n");
            return 2;
        }
    }
    if (!dir || span == 0) {
        fprintf(stderr, "usage: bench_read DATASET [options]\n");
        return 2;
    }
    ms_dataset_t ds;
    if (ms_dataset_open(dir, &ds) != MS_OK) {
        fprintf(stderr, "bench_read: %s\n", ms_error_detail());
        return 1;
    }
    read_ctx_t c = {0};
    c.nparts = ds.nparts[MS_TABLE_SETTLEMENTS];
    c.parts = calloc(c.nparts, sizeof *c.parts);
    c.span = span;
    size_t cap = 0;
    for (uint32_t k = 0; k < c.nparts; k++) {
        char path[4096];
        ms_dataset_part_path(dir, ms_table(MS_TABLE_SETTLEMENTS), k, path, sizeof path);
        if (ms_part_open(path, ms_table(MS_TABLE_SETTLEMENTS), &ds.refs, &c.parts[k]) != MS_OK) {
            fprintf(stderr, "bench_read: %s\n", ms_error_detail());
            return 1;
        }
        cap += (ms_part_nchunks(c.parts[k]) + span - 1) / span;
    }
    c.unit_part = malloc((cap ? cap : 1) * sizeof *c.unit_part);
    c.unit_lo = malloc((cap ? cap : 1) * sizeof *c.unit_lo);
    for (uint32_t k = 0; k < c.nparts; k++)
        for (size_t lo = 0; lo < ms_part_nchunks(c.parts[k]); lo += span) {
            c.unit_part[c.nunits] = k;
            c.unit_lo[c.nunits++] = lo;
        }
    if (!json)
        printf("bench_read: %s, %u partitions, %zu work units of %zu chunks\n", dir, c.nparts, c.nunits, span);
    int rc = 0, first = 1;
    if (json) printf("[");
    for (int m = 0; m < 2 && !rc; m++) {
        const char *mname = m == 0 ? "pread" : "h5";
        if (strcmp(mode_arg, "both") && strcmp(mode_arg, mname)) continue;
        c.mode = (ms_read_mode_t)m;
        char *list = strdup(threads_arg), *save = NULL;
        for (char *tok = strtok_r(list, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
            c.threads = atoi(tok);
            c.checksum = INT64_MIN;
            ms_bench_result_t res;
            char name[64];
            snprintf(name, sizeof name, "read %s, %d thread%s", mname, c.threads, c.threads > 1 ? "s" : "");
            rc = ms_bench_run(read_all, &c, repeat, &res);
            if (rc) break;
            if (json) {
                printf("%s\n  ", first ? "" : ",");
                ms_bench_json(stdout, name, &res);
                first = 0;
            } else {
                ms_bench_print(stdout, name, &res);
            }
        }
        free(list);
    }
    if (json) printf("\n]\n");
    for (uint32_t k = 0; k < c.nparts; k++) ms_part_close(c.parts[k]);
    free(c.parts), free(c.unit_part), free(c.unit_lo);
    ms_dataset_close(&ds);
    return rc;
}
