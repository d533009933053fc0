#include "ms_cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int ms_cli_fail(const char *cmd, ms_status_t st)
{
    const char *d = ms_error_detail();
    fprintf(stderr, "medsweep %s: error: %s%s(%s)\n", cmd, d, *d ? " " : "", ms_status_str(st));
    return MS_EXIT_FAIL;
}

int ms_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "medsweep %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'medsweep %s --help'.\n", cmd);
    return MS_EXIT_USAGE;
}

int ms_cli_parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    if (!s || *s < '0' || *s > '9') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max) return -1;
    *out = v;
    return 0;
}
