/*
 * ms_fuzz_part.h - what the partition harnesses (fuzz_part, fuzz_part_data)
 * and their seed maker (fuzz_part_mkseed) share: a small partition's columns
 * made up from a few parameters, and reading an open partition through the
 * batch reader the way the sweep does.
 */
#ifndef MS_FUZZ_PART_H
#define MS_FUZZ_PART_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ms_part.h"
#include "ms_reader.h"
#include "ms_schema.h"

/* Columns of `rows` rows of table t (ms_table(t)->cols order), malloc'd,
 * free with ms_fuzz_cols_free.  person_id comes from pid (rows values) when
 * not NULL, else runs of 1-3 rows per person; the other columns are made up
 * from the row index (plausible: ids, dates in 2023, small codes). */
static inline void **ms_fuzz_cols_make(const ms_table_t *t, size_t rows, const uint64_t *pid)
{
    void **cols = calloc((size_t)t->ncols, sizeof *cols);
    if (!cols) abort();
    int pid_col = ms_table_column(t, "person_id"), date_col = t->date_col;
    uint64_t person = 500000000000ull;
    for (int c = 0; c < t->ncols; c++) {
        size_t es = ms_ctype_size(t->cols[c].type);
        unsigned char *v = calloc(rows ? rows : 1, es);
        if (!v) abort();
        for (size_t i = 0; i < rows; i++) {
            uint64_t x = (uint64_t)i * 2654435761u + (uint64_t)c * 40503u;
            if (c == pid_col) {
                if (!pid && i > 0 && x % 3 == 0) person += 7;
                uint64_t p = pid ? pid[i] : person;
                memcpy(v + i * 8, &p, 8);
            } else if (c == date_col || t->cols[c].type == MS_I32) {
                int32_t d = c == date_col ? 19358 + (int32_t)(i / 2) : (int32_t)(x % 97);
                memcpy(v + i * 4, &d, 4);
            } else if (t->cols[c].enumdef) {
                v[i] = (unsigned char)(x % 2);
            } else if (es == 1) {
                v[i] = (unsigned char)(x % 90);
            } else if (es == 4) {
                uint32_t u = (uint32_t)(x % 5000);
                memcpy(v + i * 4, &u, 4);
            } else {
                uint64_t u = c == 0 ? 241930271467367ull + i * 7919u : x % 2000000u;
                memcpy(v + i * 8, &u, 8);
            }
        }
        cols[c] = v;
    }
    return cols;
}

static inline void ms_fuzz_cols_free(const ms_table_t *t, void **cols)
{
    for (int c = 0; c < t->ncols; c++) free(cols[c]);
    free(cols);
}

/* Read partition p as the sweep does: one reader of every column over all
 * chunks, every batch.  Then, as workers sharing one partition would, two
 * readers over [0, split) and [split, n), which together must give every
 * row exactly once, in order, each batch of whole persons (aborts when
 * not: a reader bug).  Returns the first error (a damaged chunk). */
static inline ms_status_t ms_fuzz_read_all(const ms_part_t *p, size_t batch_rows, ms_read_mode_t mode,
                                           size_t split)
{
    const ms_table_t *t = ms_part_table(p);
    size_t n = ms_part_nchunks(p);
    uint64_t rows = ms_part_info(p)->rows;
    int pid_col = ms_table_column(t, "person_id");
    ms_reader_t *r = NULL;
    ms_status_t st = ms_reader_open(p, MS_ALL_COLUMNS(t), 0, n, batch_rows, mode, &r);
    uint64_t next = 0;
    ms_batch_t b;
    while (st == MS_OK && (st = ms_reader_next(r, &b)) == MS_OK && b.rows) {
        if (b.first_row != next) abort(); /* rows skipped or repeated */
        for (int c = 0; c < t->ncols; c++)
            if (!b.col[c]) abort(); /* a requested column missing */
        next += b.rows;
    }
    if (st == MS_OK && next != rows) abort(); /* one reader over everything gives every row */
    /* Two ranges, read by one reader moved with ms_reader_seek (as a worker
     * does), must compose to the whole. */
    if (st == MS_OK && n > 0) {
        split %= n + 1;
        next = 0;
        uint64_t last_pid = 0;
        int have_last = 0;
        for (int half = 0; st == MS_OK && half < 2; half++) {
            st = ms_reader_seek(r, p, half ? split : 0, half ? n : split);
            while (st == MS_OK && (st = ms_reader_next(r, &b)) == MS_OK && b.rows) {
                if (b.first_row != next) abort(); /* the ranges overlap or leave a gap */
                const uint64_t *pid = b.col[pid_col];
                /* A batch starts a new person: never the one the previous batch ended with. */
                if (have_last && pid[0] == last_pid) abort();
                last_pid = pid[b.rows - 1];
                have_last = 1;
                next += b.rows;
            }
        }
        if (st == MS_OK && next != rows) abort();
    }
    ms_reader_close(r);
    return st;
}

#endif
