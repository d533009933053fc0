#include "ms_cli.h"

#include <errno.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ms_cli_fail(const char *cmd, ms_status_t st)
{
    const char *d = ms_error_detail();
    /* The status in words, unless the detail says it already ("No space
     * left on device (no space left on device)"). */
    const char *what = ms_status_str(st);
    if (*d && strcasestr(d, what)) fprintf(stderr, "medsweep %s: error: %s\n", cmd, d);
    else fprintf(stderr, "medsweep %s: error: %s%s(%s)\n", cmd, d, *d ? " " : "", what);
    /* A usage error (bad rules, an unknown model, --resume with nothing to
     * resume) is the caller's to fix, not a failed run. */
    return st == MS_E_USAGE ? MS_EXIT_USAGE : MS_EXIT_FAIL;
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

int ms_cli_parse_size(const char *s, size_t *out)
{
    if (!s || *s < '0' || *s > '9') return -1; /* strtoull would take "-1" and " 1" */
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno) return -1;
    unsigned long long mul = 1;
    if (*end == 'K' || *end == 'k') mul = 1ull << 10, end++;
    else if (*end == 'M' || *end == 'm') mul = 1ull << 20, end++;
    else if (*end == 'G' || *end == 'g') mul = 1ull << 30, end++;
    if (*end || v > (unsigned long long)SIZE_MAX / mul) return -1;
    *out = (size_t)(v * mul);
    return 0;
}

int ms_cli_uint_option(const char *cmd, const char *opt, const char *s, unsigned long long min,
                       unsigned long long max, unsigned long long *out)
{
    if (ms_cli_parse_uint(s, max, out) == 0 && *out >= min) return 0;
    return ms_cli_usage_error(cmd, "%s wants %llu..%llu, got '%s'", opt, min, max, s);
}

void ms_cli_progress(void *ctx, const ms_progress_t *p)
{
    (void)ctx;
    /* A log (not a terminal) gets a line every 10 s of a job's clock, the
     * first at 10 s, and each stage's last: a short run logs the same
     * lines every time. A clock that went back is a new job's. */
    static double last = 0;
    int tty = isatty(2);
    if (p->seconds < last) last = 0;
    if (!p->finished && p->seconds - last < (tty ? 0.25 : 10.0)) return;
    last = p->seconds;
    char line[256];
    int n = snprintf(line, sizeof line, "%s: %s", p->job, p->stage ? p->stage : "");
    if (p->total) n += snprintf(line + n, sizeof line - (size_t)n, " %llu/%llu%s%s", (unsigned long long)p->done,
                                (unsigned long long)p->total, p->unit ? " " : "", p->unit ? p->unit : "");
    if (p->records && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, ", %.1f M records, %.2f M rec/s", (double)p->records / 1e6,
                      p->seconds > 0 ? (double)p->records / p->seconds / 1e6 : 0.0);
    if ((size_t)n < sizeof line) {
        if (p->finished) n += snprintf(line + n, sizeof line - (size_t)n, " (%.1f s)", p->seconds);
        else if (p->eta_seconds >= 0)
            n += snprintf(line + n, sizeof line - (size_t)n, ", ETA %d:%02d", (int)p->eta_seconds / 60,
                          (int)p->eta_seconds % 60);
        else n += snprintf(line + n, sizeof line - (size_t)n, ", ETA --:--");
    }
    if (tty) {
        fprintf(stderr, "\r%s\033[K", line);
        if (p->finished) fputc('\n', stderr);
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
}
