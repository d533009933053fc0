/*
 * ms_inspect.h - describe a dataset or one of its files, and verify it.
 *
 * Verification reads every chunk of every column (so every checksum and
 * every LZ4 stream is checked) and every invariant of docs/schema.md: money adds
 * up, dates in order, codes known, rows sorted, each person in the partition
 * its hash names, drug items and bill lines pointing at a settlement of the
 * same person and institution, bill lines within its stay, unique by line_no
 * and adding up to its cost columns, partition attributes true, partition
 * built against these reference files, the knowledge base's checksum.
 * Partitions are verified in parallel; the report is printed in partition
 * order, so it is the same whatever the thread count.
 */
#ifndef MS_INSPECT_H
#define MS_INSPECT_H

#include <stdint.h>
#include <stdio.h>

#include "ms_status.h"

typedef struct {
    int verify;
    int threads;            /* 0 = OpenMP default */
    unsigned max_reports;   /* violations printed per partition (0 = 20) */
} ms_inspect_opts_t;

typedef struct {
    uint64_t rows;          /* rows verified */
    uint64_t violations;
} ms_inspect_result_t;

/* Print a description of PATH (a dataset directory, a partition or a
 * reference file) on out.  With verify, MS_E_INVARIANT when any violation
 * was found (each printed on out with its location). */
ms_status_t ms_inspect(const char *path, const ms_inspect_opts_t *o, FILE *out,
                       ms_inspect_result_t *res);

#endif
