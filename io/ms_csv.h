/*
 * ms_csv.h - canonical CSV input (RFC 4180) through libcsv.
 *
 * ms_csv_open reads the header and maps it onto the columns the caller
 * expects: column order is free, a missing, unknown or repeated column is
 * MS_E_SCHEMA naming it.  ms_csv_next then yields records one at a time,
 * their fields in the caller's order, with the line number where the record
 * starts (1 = header), counting newlines inside quoted fields.
 */
#ifndef MS_CSV_H
#define MS_CSV_H

#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include "ms_status.h"

typedef struct {
    const char *s;   /* NUL-terminated */
    size_t len;
} ms_field_t;

typedef struct ms_csv ms_csv_t;

ms_status_t ms_csv_open(const char *path, const char *const *columns, int ncolumns,
                        ms_csv_t **out);
/* The same, but columns not asked for are allowed and ignored (reading
 * files medsweep wrote, whose columns may grow). */
ms_status_t ms_csv_open_subset(const char *path, const char *const *columns, int ncolumns, ms_csv_t **out);

/* Parallel reading.  ms_csv_split finds nranges start offsets (start[0] = 0)
 * at record boundaries: each after a line feed with an even number of quotes
 * before it, near k * size / nranges; line[k] is the line where range k
 * starts.  Range 0 is opened with ms_csv_open_range (it reads the header),
 * the others with ms_csv_open_at, which copies the header mapping from
 * range 0's reader and numbers lines from line.  A reader stops at end. */
ms_status_t ms_csv_split(const char *path, int nranges, int nthreads, uint64_t *start,
                         uint64_t *line);
ms_status_t ms_csv_open_range(const char *path, const char *const *columns, int ncolumns,
                              uint64_t end, ms_csv_t **out);
ms_status_t ms_csv_open_at(const ms_csv_t *first, uint64_t start, uint64_t end, uint64_t line,
                           ms_csv_t **out);

/* *fields = NULL at end of file.  A record with the wrong number of fields
 * is MS_E_INPUT naming file and line.  Fields stay valid until the next call. */
ms_status_t ms_csv_next(ms_csv_t *c, const ms_field_t **fields, uint64_t *line);
/* Bytes consumed so far and the file's size (for progress). */
uint64_t ms_csv_bytes_read(const ms_csv_t *c);
uint64_t ms_csv_file_size(const ms_csv_t *c);
const char *ms_csv_path(const ms_csv_t *c);
void ms_csv_close(ms_csv_t *c);

/* Write one field with RFC 4180 quoting when needed. */
void ms_csv_write_field(FILE *fp, const char *s, size_t len);

/* After ms_csv_next returned MS_E_INPUT: nonzero when reading can go on
 * (the bad record, e.g. one with the wrong number of fields, was skipped),
 * zero when the parser itself is stuck (broken quoting, unreadable file). */
int ms_csv_can_continue(const ms_csv_t *c);

/* The reason of the last MS_E_INPUT from ms_csv_next, without file and line
 * ("28 fields, expected 29"), for rejected.csv. */
const char *ms_csv_error_reason(const ms_csv_t *c);

/* The file's base name ("settlements.csv"), used in every message. */
const char *ms_csv_name(const ms_csv_t *c);

#endif
