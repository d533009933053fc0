/*
 * ms_bench.h - the one timing helper every benchmark uses.
 *
 * ms_bench_run() calls fn once to warm up (page cache, allocations), then
 * `repeats` times, and reports the median wall time with records/s and
 * bytes/s derived from what fn says it processed.  Peak memory is the
 * process's VmHWM after the runs.
 */
#ifndef MS_BENCH_H
#define MS_BENCH_H

#include <stdint.h>
#include <stdio.h>

typedef struct {
    uint64_t records;   /* processed by one call */
    uint64_t bytes;     /* bytes processed by one call (decoded or input size) */
} ms_bench_work_t;

typedef struct {
    double median_s, min_s, max_s;
    double records_per_s, bytes_per_s;
    uint64_t records, bytes;
    uint64_t peak_rss;
    int repeats;
} ms_bench_result_t;

/* fn returns 0 on success, filling *work; ctx is passed through. */
typedef int (*ms_bench_fn)(void *ctx, ms_bench_work_t *work);

/* Returns 0, or fn's non-zero result. */
int ms_bench_run(ms_bench_fn fn, void *ctx, int repeats, ms_bench_result_t *res);

double ms_bench_now(void);

/* A bijection on 64 bits (splitmix's finaliser): distinct i give distinct,
 * well-spread keys. */
static inline uint64_t ms_bench_scramble(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

/* One line: "name  12.3 M rec/s  1.23 GB/s  median 0.81 s (min 0.80, max 0.83, n=5)  peak 123 MiB" */
void ms_bench_print(FILE *fp, const char *name, const ms_bench_result_t *r);

/* The same as one JSON object (no trailing newline). */
void ms_bench_json(FILE *fp, const char *name, const ms_bench_result_t *r);

#endif
