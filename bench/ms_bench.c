#include "ms_bench.h"

#include <stdlib.h>
#include <time.h>

#include "ms_fs.h"

double ms_bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int ms_bench_run(ms_bench_fn fn, void *ctx, int repeats, ms_bench_result_t *res)
{
    ms_bench_work_t w = {0, 0};
    if (repeats < 1) repeats = 1;
    int rc = fn(ctx, &w); /* warm-up */
    if (rc) return rc;
    double *t = malloc((size_t)repeats * sizeof *t);
    if (!t) return -1;
    for (int i = 0; i < repeats; i++) {
        double t0 = ms_bench_now();
        rc = fn(ctx, &w);
        t[i] = ms_bench_now() - t0;
        if (rc) {
            free(t);
            return rc;
        }
    }
    qsort(t, (size_t)repeats, sizeof *t, cmp_double);
    res->repeats = repeats;
    res->min_s = t[0];
    res->max_s = t[repeats - 1];
    res->median_s = repeats % 2 ? t[repeats / 2] : (t[repeats / 2 - 1] + t[repeats / 2]) / 2;
    res->records = w.records;
    res->bytes = w.bytes;
    res->records_per_s = res->median_s > 0 ? (double)w.records / res->median_s : 0;
    res->bytes_per_s = res->median_s > 0 ? (double)w.bytes / res->median_s : 0;
    res->peak_rss = ms_peak_rss();
    free(t);
    return 0;
}

void ms_bench_print(FILE *fp, const char *name, const ms_bench_result_t *r)
{
    fprintf(fp, "%-34s %8.2f M rec/s %7.3f GB/s  median %.3f s (min %.3f, max %.3f, n=%d)  peak %.0f MiB\n",
            name, r->records_per_s / 1e6, r->bytes_per_s / 1e9, r->median_s, r->min_s, r->max_s,
            r->repeats, (double)r->peak_rss / 1048576.0);
}

void ms_bench_json(FILE *fp, const char *name, const ms_bench_result_t *r)
{
    fprintf(fp,
            "{\"name\": \"%s\", \"records\": %llu, \"bytes\": %llu, \"median_s\": %.6f, "
            "\"min_s\": %.6f, \"max_s\": %.6f, \"repeats\": %d, \"records_per_s\": %.1f, "
            "\"bytes_per_s\": %.1f, \"peak_rss\": %llu}",
            name, (unsigned long long)r->records, (unsigned long long)r->bytes, r->median_s, r->min_s,
            r->max_s, r->repeats, r->records_per_s, r->bytes_per_s, (unsigned long long)r->peak_rss);
}
