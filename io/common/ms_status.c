#include "ms_status.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MS_DETAIL_MAX 1024

static _Thread_local char detail_buf[MS_DETAIL_MAX];

static const char *const status_text[MS_STATUS_COUNT] = {
    [MS_OK] = "ok",
    [MS_E_USAGE] = "usage error",
    [MS_E_IO] = "I/O error",
    [MS_E_NOSPACE] = "no space left on device",
    [MS_E_NOMEM] = "out of memory",
    [MS_E_INPUT] = "bad input",
    [MS_E_SCHEMA] = "schema error",
    [MS_E_CORRUPT] = "corrupt data",
    [MS_E_MISMATCH] = "reference mismatch",
    [MS_E_EXISTS] = "output exists",
    [MS_E_HDF5] = "HDF5 error",
    [MS_E_INVARIANT] = "invariant violated",
    [MS_E_INTERNAL] = "internal error",
};

const char *ms_status_str(ms_status_t st)
{
    if ((unsigned)st >= MS_STATUS_COUNT) return "unknown status";
    return status_text[st];
}

/* Store text as the detail, control characters escaped: a value quoted from
 * the data (an ESC sequence, a line feed inside a quoted CSV field, a C1
 * control in UTF-8) reaches a terminal as "\x1b", never as itself.  Text
 * without them is stored as it is, and escaping twice changes nothing. */
static void detail_store(const char *text)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, cap = sizeof detail_buf - 1;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        int c1 = p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f; /* U+0080..U+009F */
        if (*p >= 0x20 && *p != 0x7f && !c1) {
            if (o + 1 > cap) break;
            detail_buf[o++] = (char)*p;
            continue;
        }
        size_t need = c1 ? 8 : 4;
        if (o + need > cap) break;
        for (int k = 0; k < (c1 ? 2 : 1); k++) {
            detail_buf[o++] = '\\';
            detail_buf[o++] = 'x';
            detail_buf[o++] = hex[p[k] >> 4];
            detail_buf[o++] = hex[p[k] & 15];
        }
        p += c1;
    }
    detail_buf[o] = '\0';
}

ms_status_t ms_error_set(ms_status_t st, const char *fmt, ...)
{
    char text[MS_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    detail_store(text);
    return st;
}

ms_status_t ms_error_errno(ms_status_t st, int err, const char *fmt, ...)
{
    char head[MS_DETAIL_MAX], text[MS_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    if (err == ENOSPC || err == EDQUOT) st = MS_E_NOSPACE;
    else if (err == ENOMEM) st = MS_E_NOMEM;
    snprintf(text, sizeof text, "%.800s: %.200s", head, strerror(err));
    detail_store(text);
    return st;
}

ms_status_t ms_error_wrap(ms_status_t st, const char *fmt, ...)
{
    char head[MS_DETAIL_MAX], text[MS_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    snprintf(text, sizeof text, "%.400s%.600s", head, detail_buf);
    detail_store(text);
    return st;
}

const char *ms_error_detail(void) { return detail_buf; }

void ms_error_clear(void) { detail_buf[0] = '\0'; }
