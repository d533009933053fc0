/*
 * ms_reader.h - column batches from a partition, never splitting a person.
 *
 * A reader covers the chunk range [chunk_lo, chunk_hi) of one partition and
 * hands out batches of about batch_rows rows of the requested columns.  A
 * batch always ends at a change of person_id, so a person's whole history
 * (settlements or drug items) is inside one batch; a person longer than
 * batch_rows gets a longer batch.  Ranges compose: the readers of
 * [0,a) and [a,n) together yield every row exactly once, each person
 * belonging to the range in which its first row lies, so several threads can
 * read one partition in parallel.
 *
 * Each reader owns its buffers (allocated at open, grown only for a person
 * longer than the buffer) and is used by one thread.
 */
#ifndef MS_READER_H
#define MS_READER_H

#include "ms_part.h"

typedef struct {
    size_t rows;                     /* 0 at the end */
    uint64_t first_row;              /* row index in the partition */
    const void *col[MS_MAX_COLUMNS]; /* by table column index; NULL if not requested */
    /* The batch's persons, set by the sweep for its models (the reader
     * leaves them NULL and 0): person k's rows are [persons[k],
     * persons[k + 1]) for k < npersons, and persons[npersons] == rows. */
    const uint32_t *persons;
    size_t npersons;
} ms_batch_t;

typedef struct ms_reader ms_reader_t;

/* cols: bitmask of table column indices to read (person_id is always read). */
ms_status_t ms_reader_open(const ms_part_t *p, uint64_t cols, size_t chunk_lo, size_t chunk_hi,
                           size_t batch_rows, ms_read_mode_t mode, ms_reader_t **out);
/* The same rows of the same range (a person still belongs to the range
 * holding its first row), in batches of batch_rows that may end inside a
 * person, and only the columns cols (person_id too only if asked): for a
 * pass that looks at rows one at a time (the sweep's key count). */
ms_status_t ms_reader_open_rows(const ms_part_t *p, uint64_t cols, size_t chunk_lo, size_t chunk_hi,
                                size_t batch_rows, ms_read_mode_t mode, ms_reader_t **out);
/* Point an open reader at another range, of the same or another partition
 * of the same table, keeping its buffers (no allocation once they are big
 * enough): a worker keeps one reader for the whole sweep. */
ms_status_t ms_reader_seek(ms_reader_t *r, const ms_part_t *p, size_t chunk_lo, size_t chunk_hi);
/* Next batch; b->rows == 0 at the end. */
ms_status_t ms_reader_next(ms_reader_t *r, ms_batch_t *b);
void ms_reader_close(ms_reader_t *r);

#define MS_ALL_COLUMNS(t) ((t)->ncols >= 64 ? ~0ull : ((1ull << (t)->ncols) - 1))

#endif
