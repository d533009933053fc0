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
 * is MS_E_INPUT naming file and line.  A record holding a NUL byte is
 * MS_E_INPUT naming the NUL's own (physical) line, in *line too, and its
 * column ("settlements.csv line 7: NUL byte in column name (field 2) of the
 * record that starts on line 6"); both are skipped, reading can go on.
 * Errors come in file order, whatever the block or range being read: one
 * that stops the parser (a stray quote) only after every record before it.
 * Fields stay valid until the next call. */
ms_status_t ms_csv_next(ms_csv_t *c, const ms_field_t **fields, uint64_t *line);
/* Bytes consumed so far and the file's size (for progress). */
uint64_t ms_csv_bytes_read(const ms_csv_t *c);
uint64_t ms_csv_file_size(const ms_csv_t *c);
const char *ms_csv_path(const ms_csv_t *c);
void ms_csv_close(ms_csv_t *c);

/* Write one field with RFC 4180 quoting when needed. */
void ms_csv_write_field(FILE *fp, const char *s, size_t len);

/* A text field of a file people open in a spreadsheet (ranked*.csv,
 * clues.csv, indicators.csv, rejected.csv: codes, names and values from the
 * extracts, reasons): one that starts with '=', '+', '-', '@', a tab or a CR
 * would be read as a formula (=HYPERLINK(...) becomes a live link), so it
 * gets a leading "'" (OWASP's rule for CSV injection), then the quoting of
 * ms_csv_write_field; any other text is written exactly as by it.  Numbers
 * are written with fprintf, never through here: -12.50 stays a number.  The
 * canonical export (io/ms_export.c) writes codes and names with
 * ms_csv_write_field, so that it reads back byte for byte. */
void ms_csv_write_text(FILE *fp, const char *s, size_t len);

/* Does ms_csv_write_text write s as it is (no quotes, no guard)?  A writer
 * that assembles rows in a buffer copies such text itself. */
int ms_csv_text_is_plain(const char *s, size_t len);
/* The same for raw values quoted from an extract (rejected.csv): every
 * control character (C0, DEL, a C1 control in UTF-8) is first written as
 * "\x1b", as in messages, so a cell holds no escape sequence and a row is
 * one line; the guard then looks at the text so escaped. */
void ms_csv_write_text_escaped(FILE *fp, const char *s, size_t len);

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
