#include "ms_testcsv.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ms_testutil.h"

struct ms_testcsv {
    char *path;
    char *text;       /* the fields, unquoted, each ended by a NUL */
    char **field;     /* every field of every line, the header's first */
    size_t *start;    /* line k's fields are field[start[k] .. start[k + 1]) */
    size_t nlines;    /* the header and the data rows */
};

/* RFC 4180: split src into fields and lines; empty lines are skipped. */
static void parse(ms_testcsv_t *t, const char *src, size_t len)
{
    char *out = t->text = malloc(2 * len + 2); /* each field adds at most its NUL */
    assert_non_null(out);
    size_t nf = 0, capf = 0, caps = 0;
    const char *p = src, *end = src + len;
    while (p < end) {
        if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) { /* an empty line */
            p += *p == '\r' ? 2 : 1;
            continue;
        }
        t->start = ms_test_grow(t->start, &caps, t->nlines, sizeof *t->start);
        t->start[t->nlines++] = nf;
        for (;;) { /* one field */
            t->field = ms_test_grow(t->field, &capf, nf, sizeof *t->field);
            t->field[nf++] = out;
            if (p < end && *p == '"') {
                for (p++; p < end; p++) {
                    if (*p == '"' && p + 1 < end && p[1] == '"') *out++ = *p++;
                    else if (*p == '"') break;
                    else *out++ = *p;
                }
                if (p < end) p++; /* the closing quote */
            }
            while (p < end && *p != ',' && *p != '\n' && !(*p == '\r' && p + 1 < end && p[1] == '\n'))
                *out++ = *p++;
            *out++ = '\0';
            if (p < end && *p == ',') {
                p++;
                continue;
            }
            if (p < end) p += *p == '\r' ? 2 : 1;
            break;
        }
    }
    t->start = ms_test_grow(t->start, &caps, t->nlines, sizeof *t->start);
    t->start[t->nlines] = nf;
}

ms_testcsv_t *ms_testcsv_load(const char *dir, const char *name)
{
    size_t len = 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *src = ms_test_slurp(path, &len);
    if (!src) return NULL;
    ms_testcsv_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->path = strdup(path);
    parse(t, src, len);
    free(src);
    return t;
}

ms_testcsv_t *ms_testcsv_read(const char *dir, const char *name)
{
    ms_testcsv_t *t = ms_testcsv_load(dir, name);
    if (!t) fail_msg("cannot read %s/%s", dir, name);
    return t;
}

void ms_testcsv_free(ms_testcsv_t *t)
{
    if (!t) return;
    free(t->path);
    free(t->text);
    free(t->field);
    free(t->start);
    free(t);
}

size_t ms_testcsv_rows(const ms_testcsv_t *t) { return t->nlines ? t->nlines - 1 : 0; }

int ms_testcsv_column(const ms_testcsv_t *t, const char *name)
{
    if (!t->nlines) return -1;
    for (size_t k = t->start[0]; k < t->start[1]; k++)
        if (!strcmp(t->field[k], name)) return (int)k;
    return -1;
}

const char *ms_testcsv_get(const ms_testcsv_t *t, size_t row, const char *column)
{
    int c = ms_testcsv_column(t, column);
    if (c < 0) fail_msg("no column %s in %s", column, t->path);
    assert_true(row + 1 < t->nlines);
    size_t at = t->start[row + 1] + (size_t)c;
    return at < t->start[row + 2] ? t->field[at] : "";
}

long long ms_testcsv_ll(const ms_testcsv_t *t, size_t row, const char *column)
{
    return strtoll(ms_testcsv_get(t, row, column), NULL, 10);
}

uint64_t ms_testcsv_u64(const ms_testcsv_t *t, size_t row, const char *column)
{
    return strtoull(ms_testcsv_get(t, row, column), NULL, 10);
}

int ms_testcsv_is(const ms_testcsv_t *t, size_t row, const char *column, const char *want)
{
    return !want || !strcmp(ms_testcsv_get(t, row, column), want);
}
