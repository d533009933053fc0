/*
 * ms_line.c - rows assembled in a buffer (ms_line.h).
 */
#include "ms_line.h"

#include <string.h>

#include "ms_fmt.h"

void ms_line_flush(ms_line_t *l)
{
    if (l->len) fwrite_unlocked(l->buf, 1, l->len, l->fp);
    l->len = 0;
}

void ms_line_put_long(ms_line_t *l, const char *s, size_t n)
{
    ms_line_flush(l);
    if (n > MS_LINE_CAP) {
        fwrite_unlocked(s, 1, n, l->fp);
        return;
    }
    memcpy(l->buf, s, n);
    l->len = n;
}

void ms_line_str(ms_line_t *l, const char *s) { ms_line_put(l, s, strlen(s)); }

void ms_line_u64(ms_line_t *l, uint64_t v)
{
    if (l->len + MS_FMT_I64_MAX > MS_LINE_CAP) ms_line_flush(l);
    l->len += ms_fmt_u64(l->buf + l->len, v);
}

void ms_line_i64(ms_line_t *l, int64_t v)
{
    if (l->len + MS_FMT_I64_MAX > MS_LINE_CAP) ms_line_flush(l);
    l->len += ms_fmt_i64(l->buf + l->len, v);
}

void ms_line_fixed(ms_line_t *l, double v, int decimals)
{
    if (l->len + MS_FMT_FIXED_MAX > MS_LINE_CAP) ms_line_flush(l);
    l->len += ms_fmt_fixed(l->buf + l->len, v, decimals);
}
