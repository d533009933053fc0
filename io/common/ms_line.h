/*
 * ms_line.h - rows of a text file assembled in a buffer and written with
 * one fwrite per buffer-full, numbers through ms_fmt (printf's bytes
 * without printf).  The writers of large CSV files (export, the sweep's
 * outputs) use it; quoted text goes straight to fp after ms_line_flush.
 */
#ifndef MS_LINE_H
#define MS_LINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MS_LINE_CAP 8192

typedef struct {
    FILE *fp;
    size_t len;
    char buf[MS_LINE_CAP];
} ms_line_t;

/* Write what is buffered to fp (errors show in ferror(fp)). */
void ms_line_flush(ms_line_t *l);
/* A piece larger than the buffer goes straight to fp. */
void ms_line_put_long(ms_line_t *l, const char *s, size_t n);

/* The two calls of every field, inline: a function call each was a fifth
 * of the instructions spent writing indicators.csv. */
static inline void ms_line_put(ms_line_t *l, const char *s, size_t n)
{
    if (l->len + n > MS_LINE_CAP) {
        ms_line_put_long(l, s, n);
        return;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static inline void ms_line_char(ms_line_t *l, char c)
{
    if (l->len == MS_LINE_CAP) ms_line_flush(l);
    l->buf[l->len++] = c;
}

void ms_line_str(ms_line_t *l, const char *s);
void ms_line_u64(ms_line_t *l, uint64_t v);
void ms_line_i64(ms_line_t *l, int64_t v);
/* "%.<decimals>f" (ms_fmt_fixed). */
void ms_line_fixed(ms_line_t *l, double v, int decimals);

#endif
