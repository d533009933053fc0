/*
 * fuzz_csv - the CSV reader (io/ms_csv.h) on settlements.csv: the canonical
 * header, then the input as the body.  Every record is read; a bad record
 * (MS_E_INPUT) is skipped while ms_csv_can_continue says reading can go on.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ms_csv.h"
#include "ms_fuzz_file.h"
#include "ms_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *names[MS_MAX_COLUMNS];
static char header[4096];
static int ncols;

static void init(void)
{
    const ms_table_t *t = ms_table(MS_TABLE_SETTLEMENTS);
    size_t len = 0;
    ncols = t->ncols;
    for (int i = 0; i < t->ncols; i++) {
        names[i] = t->cols[i].name;
        size_t l = strlen(names[i]);
        if (len + l + 2 > sizeof header) abort();
        memcpy(header + len, names[i], l);
        len += l;
        header[len++] = i + 1 < t->ncols ? ',' : '\n';
    }
    header[len] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ncols) init();
    ms_fuzz_file_t f;
    ms_fuzz_file_open(&f, "settlements.csv", header, strlen(header), data, size);
    ms_csv_t *c = NULL;
    if (ms_csv_open(f.path, names, ncols, &c) == MS_OK) {
        for (;;) {
            const ms_field_t *fields = NULL;
            uint64_t line = 0;
            ms_status_t st = ms_csv_next(c, &fields, &line);
            if (st == MS_E_INPUT) {
                (void)ms_csv_error_reason(c);
                if (!ms_csv_can_continue(c)) break;
                continue;
            }
            if (st != MS_OK || !fields) break;
            for (int i = 0; i < ncols; i++) /* touch every field, to its NUL */
                if (strlen(fields[i].s) != fields[i].len) abort();
            (void)ms_csv_bytes_read(c);
        }
        ms_csv_close(c);
    }
    ms_fuzz_file_close(&f);
    return 0;
}
