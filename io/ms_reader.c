/*
 * ms_reader.c - batches of whole persons from a chunk range.
 *
 * The reader decodes chunks straight into per-column staging buffers
 * (rows [s_lo, s_hi) of the partition) and hands out windows of them.
 * Before a chunk is appended, rows already handed out are dropped by moving
 * the unconsumed tail to the front, so the staging holds at most one batch
 * plus one chunk, unless a single person is longer than that.
 *
 * Range ownership: a person belongs to the range holding its first row.  So
 * a range [lo, hi) starts after the person that was running at the end of
 * chunk lo-1, and ends where the person running at the end of chunk hi-1
 * ends.  Only the person_id column is decoded to find these two rows.
 */
#include "ms_reader.h"

#include <stdlib.h>
#include <string.h>

struct ms_reader {
    const ms_part_t *p;
    const ms_table_t *t;
    uint64_t cols;
    int pid_col;
    ms_read_mode_t mode;
    size_t batch_rows;
    size_t chunk_rows;
    uint64_t start, end, pos;
    uint64_t s_lo, s_hi;
    size_t cap;
    size_t next_chunk;
    unsigned char *buf[MS_MAX_COLUMNS];
    unsigned char *scratch;
    uint64_t *pidbuf;       /* one decoded person_id chunk, for range ends */
    int rows_only;          /* batches of rows, not of whole persons (ms_reader_open_rows) */
};

void ms_reader_close(ms_reader_t *r)
{
    if (!r) return;
    for (int c = 0; c < MS_MAX_COLUMNS; c++) free(r->buf[c]);
    free(r->scratch);
    free(r->pidbuf);
    free(r);
}

/* First row at or after `row` whose person differs from `person`. */
static ms_status_t person_end(ms_reader_t *r, uint64_t row, uint64_t person, uint64_t *out)
{
    uint64_t rows = ms_part_info(r->p)->rows;
    while (row < rows) {
        size_t k = (size_t)(row / r->chunk_rows);
        MS_TRY(ms_part_read_chunk(r->p, r->pid_col, k, r->mode, r->scratch, r->pidbuf));
        size_t n = ms_part_chunk_nrows(r->p, k);
        for (size_t i = (size_t)(row % r->chunk_rows); i < n; i++, row++)
            if (r->pidbuf[i] != person) {
                *out = row;
                return MS_OK;
            }
    }
    *out = rows;
    return MS_OK;
}

/* The person of the last row of chunk k (k is not the last chunk). */
static ms_status_t last_person(ms_reader_t *r, size_t k, uint64_t *person)
{
    MS_TRY(ms_part_read_chunk(r->p, r->pid_col, k, r->mode, r->scratch, r->pidbuf));
    *person = r->pidbuf[ms_part_chunk_nrows(r->p, k) - 1];
    return MS_OK;
}

static ms_status_t find_range(ms_reader_t *r, size_t lo, size_t hi)
{
    size_t nchunks = ms_part_nchunks(r->p);
    uint64_t rows = ms_part_info(r->p)->rows;
    uint64_t person;
    if (hi > nchunks) hi = nchunks;
    if (lo >= hi) {
        r->start = r->end = rows;
        return MS_OK;
    }
    r->start = 0;
    if (lo > 0) {
        MS_TRY(last_person(r, lo - 1, &person));
        MS_TRY(person_end(r, (uint64_t)lo * r->chunk_rows, person, &r->start));
    }
    r->end = rows;
    if (hi < nchunks) {
        MS_TRY(last_person(r, hi - 1, &person));
        MS_TRY(person_end(r, (uint64_t)hi * r->chunk_rows, person, &r->end));
    }
    if (r->start > r->end) r->start = r->end;
    return MS_OK;
}

static ms_status_t grow(ms_reader_t *r, size_t need)
{
    size_t cap = r->cap ? r->cap : need;
    while (cap < need) cap *= 2;
    if (cap == r->cap) return MS_OK;
    for (int c = 0; c < r->t->ncols; c++) {
        if (!(r->cols >> c & 1)) continue;
        void *nb = realloc(r->buf[c], cap * ms_ctype_size(r->t->cols[c].type));
        if (!nb) return ms_error_set(MS_E_NOMEM, "out of memory (a person with %zu rows?)", need);
        r->buf[c] = nb;
    }
    r->cap = cap;
    return MS_OK;
}

/* Append the next chunk to the staging, first dropping rows before pos. */
static ms_status_t stage_chunk(ms_reader_t *r)
{
    size_t keep = 0;
    if (r->pos >= r->s_hi) {
        /* Nothing staged is still needed (or the range starts mid-chunk). */
        r->s_lo = r->s_hi;
    } else {
        size_t drop = (size_t)(r->pos - r->s_lo);
        keep = (size_t)(r->s_hi - r->pos);
        for (int c = 0; c < r->t->ncols && drop > 0; c++) {
            if (!(r->cols >> c & 1)) continue;
            size_t es = ms_ctype_size(r->t->cols[c].type);
            memmove(r->buf[c], r->buf[c] + drop * es, keep * es);
        }
        r->s_lo = r->pos;
    }
    MS_TRY(grow(r, keep + r->chunk_rows));
    size_t k = r->next_chunk++;
    /* The next chunk's bytes start coming while this one is decoded. */
    ms_part_prefetch(r->p, r->cols, k + 1);
    for (int c = 0; c < r->t->ncols; c++) {
        if (!(r->cols >> c & 1)) continue;
        size_t es = ms_ctype_size(r->t->cols[c].type);
        MS_TRY(ms_part_read_chunk(r->p, c, k, r->mode, r->scratch, r->buf[c] + keep * es));
    }
    r->s_hi += ms_part_chunk_nrows(r->p, k);
    return MS_OK;
}

static ms_status_t ensure_staged(ms_reader_t *r, uint64_t upto)
{
    while (r->s_hi < upto) MS_TRY(stage_chunk(r));
    return MS_OK;
}

/* Allocate (or grow) the per-column staging and the scratch for p. */
static ms_status_t reader_buffers(ms_reader_t *r, const ms_part_t *p)
{
    size_t chunk_rows = ms_part_info(p)->chunk_rows;
    size_t scratch = ms_part_scratch_size(p);
    if (chunk_rows > r->chunk_rows || !r->scratch) {
        free(r->scratch);
        free(r->pidbuf);
        r->scratch = malloc(scratch);
        r->pidbuf = malloc(chunk_rows * sizeof *r->pidbuf);
        if (!r->scratch || !r->pidbuf) return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    r->chunk_rows = chunk_rows;
    return grow(r, r->batch_rows + 2 * chunk_rows);
}

ms_status_t ms_reader_seek(ms_reader_t *r, const ms_part_t *p, size_t chunk_lo, size_t chunk_hi)
{
    if (ms_part_table(p) != r->t)
        return ms_error_set(MS_E_USAGE, "%s: reader is for table %s", ms_part_path(p), r->t->name);
    r->p = p;
    MS_TRY(reader_buffers(r, p));
    MS_TRY(find_range(r, chunk_lo, chunk_hi));
    r->pos = r->start;
    r->next_chunk = (size_t)(r->start / r->chunk_rows);
    r->s_lo = r->s_hi = (uint64_t)r->next_chunk * r->chunk_rows;
    return MS_OK;
}

static ms_status_t reader_open(const ms_part_t *p, uint64_t cols, size_t chunk_lo, size_t chunk_hi,
                               size_t batch_rows, ms_read_mode_t mode, int rows_only, ms_reader_t **out)
{
    *out = NULL;
    ms_reader_t *r = calloc(1, sizeof *r);
    if (!r) return ms_error_set(MS_E_NOMEM, "out of memory");
    r->t = ms_part_table(p);
    r->pid_col = ms_table_column(r->t, "person_id");
    r->rows_only = rows_only;
    r->cols = (cols | (rows_only ? 0 : 1ull << r->pid_col)) & MS_ALL_COLUMNS(r->t);
    r->mode = mode;
    r->batch_rows = batch_rows ? batch_rows : ms_part_info(p)->chunk_rows;
    r->cap = 0;
    ms_status_t st = ms_reader_seek(r, p, chunk_lo, chunk_hi);
    if (st != MS_OK) {
        ms_reader_close(r);
        return st;
    }
    *out = r;
    return MS_OK;
}

ms_status_t ms_reader_open(const ms_part_t *p, uint64_t cols, size_t chunk_lo, size_t chunk_hi,
                           size_t batch_rows, ms_read_mode_t mode, ms_reader_t **out)
{
    return reader_open(p, cols, chunk_lo, chunk_hi, batch_rows, mode, 0, out);
}

ms_status_t ms_reader_open_rows(const ms_part_t *p, uint64_t cols, size_t chunk_lo, size_t chunk_hi,
                                size_t batch_rows, ms_read_mode_t mode, ms_reader_t **out)
{
    return reader_open(p, cols, chunk_lo, chunk_hi, batch_rows, mode, 1, out);
}

ms_status_t ms_reader_next(ms_reader_t *r, ms_batch_t *b)
{
    memset(b, 0, sizeof *b);
    if (r->pos >= r->end) return MS_OK;
    uint64_t end = r->pos + r->batch_rows < r->end ? r->pos + r->batch_rows : r->end;
    MS_TRY(ensure_staged(r, end < r->end ? end + 1 : end));
    if (end < r->end && !r->rows_only) {
        const uint64_t *pid = (const uint64_t *)r->buf[r->pid_col];
        uint64_t e = end;
        while (e > r->pos && pid[e - r->s_lo] == pid[e - 1 - r->s_lo]) e--;
        if (e == r->pos) {
            /* One person longer than a batch: the batch takes all of it. */
            e = end;
            for (;;) {
                if (e >= r->end) break;
                MS_TRY(ensure_staged(r, e + 1));
                pid = (const uint64_t *)r->buf[r->pid_col];
                if (pid[e - r->s_lo] != pid[e - 1 - r->s_lo]) break;
                e++;
            }
        }
        end = e;
    }
    b->rows = (size_t)(end - r->pos);
    b->first_row = r->pos;
    for (int c = 0; c < r->t->ncols; c++)
        if (r->cols >> c & 1)
            b->col[c] = r->buf[c] + (size_t)(r->pos - r->s_lo) * ms_ctype_size(r->t->cols[c].type);
    r->pos = end;
    return MS_OK;
}
