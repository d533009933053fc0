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

ms_status_t ms_error_set(ms_status_t st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail_buf, sizeof detail_buf, fmt, ap);
    va_end(ap);
    return st;
}

ms_status_t ms_error_errno(ms_status_t st, int err, const char *fmt, ...)
{
    char head[MS_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    if (err == ENOSPC || err == EDQUOT) st = MS_E_NOSPACE;
    else if (err == ENOMEM) st = MS_E_NOMEM;
    snprintf(detail_buf, sizeof detail_buf, "%.800s: %.200s", head, strerror(err));
    return st;
}

ms_status_t ms_error_wrap(ms_status_t st, const char *fmt, ...)
{
    char head[MS_DETAIL_MAX], old[MS_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, detail_buf, sizeof old);
    snprintf(detail_buf, sizeof detail_buf, "%.400s%.600s", head, old);
    return st;
}

const char *ms_error_detail(void) { return detail_buf; }

void ms_error_clear(void) { detail_buf[0] = '\0'; }
