/*
 * ms_testcsv.h - a sweep's CSV outputs (indicators.csv, clues.csv,
 * ranked*.csv, truth files) read back by the header's column names.
 *
 * The whole file is parsed as RFC 4180, as the engine writes it
 * (ms_csv_write_field): a quoted field loses its quotes and "" becomes ",
 * an empty field stays an empty field (columns never shift), a line may end
 * in \r\n.  Cells are looked up by column name, never by position, so a
 * test does not break when a column is added.
 */
#ifndef MS_TESTCSV_H
#define MS_TESTCSV_H

#include <stddef.h>
#include <stdint.h>

typedef struct ms_testcsv ms_testcsv_t;

/* dir/name parsed, or NULL when it cannot be read. */
ms_testcsv_t *ms_testcsv_load(const char *dir, const char *name);
/* The same, failing the test when it cannot be read. */
ms_testcsv_t *ms_testcsv_read(const char *dir, const char *name);
void ms_testcsv_free(ms_testcsv_t *t);

/* Data rows (the header not counted). */
size_t ms_testcsv_rows(const ms_testcsv_t *t);
/* Index of a column of the header, or -1. */
int ms_testcsv_column(const ms_testcsv_t *t, const char *name);
/* The cell of a data row in the named column ("" past the end of a short
 * row); the test fails when the header has no such column. */
const char *ms_testcsv_get(const ms_testcsv_t *t, size_t row, const char *column);
/* The cell as a number (strtoll / strtoull of it). */
long long ms_testcsv_ll(const ms_testcsv_t *t, size_t row, const char *column);
uint64_t ms_testcsv_u64(const ms_testcsv_t *t, size_t row, const char *column);
/* Does the row's cell in column equal want?  (want NULL: any.) */
int ms_testcsv_is(const ms_testcsv_t *t, size_t row, const char *column, const char *want);

#endif
