/*
 * bench_codes.c - repeated traceability-code detection at scale: N codes,
 * a share of them sold twice, through the engine's shuffle (the same keyed
 * aggregation and the same 64-byte records as the drugs model), in memory
 * or with a forced spill.  Prints codes/s per core, the repeats found (which
 * must equal the repeats planted), peak memory and the spill figures.
 *
 *   bench_codes [--codes 100000000] [--repeat 0.001] [--threads 2]
 *               [--memory-cap BYTES] [--dir SPILL_DIR]
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_bench.h"
#include "ms_fs.h"
#include "ms_shuffle.h"

typedef struct {
    uint8_t sortkey[12];
    uint32_t tag;
    uint64_t id;
    int64_t amount;
    uint64_t qty, lines;
    uint32_t inst;
    int32_t date;
    uint32_t ninst, zero;
} value_t; /* the drugs model's record: 64 bytes */


typedef struct {
    uint64_t repeats[256];
} counts_t;

static ms_status_t reduce(void *ctx, int tid, ms_key_t key, const void *values, size_t n)
{
    (void)key, (void)values;
    ((counts_t *)ctx)->repeats[tid] += n - 1;
    return MS_OK;
}

int main(int argc, char **argv)
{
    uint64_t ncodes = 100000000;
    double rate = 0.001;
    int threads = 2;
    size_t cap = (size_t)12 << 30;
    const char *dir = "build/bench-codes-spill";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--codes")) ncodes = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--repeat")) rate = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--memory-cap")) cap = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--dir")) dir = argv[i + 1];
    }
    if (threads < 1 || threads > 256) threads = 1;
    uint64_t every = rate > 0 ? (uint64_t)(1.0 / rate + 0.5) : 0, planted = 0;
    ms_shuffle_t *s = NULL;
    if (ms_shuffle_create(dir, threads, sizeof(value_t), cap, 0, &s) != MS_OK) {
        fprintf(stderr, "bench_codes: %s\n", ms_error_detail());
        return 1;
    }
    double t0 = ms_bench_now();
    int failed = 0;
#pragma omp parallel num_threads(threads) reduction(+ : planted) reduction(| : failed)
    {
        int tid = omp_get_thread_num();
#pragma omp for schedule(static)
        for (uint64_t i = 0; i < ncodes; i++) {
            /* Code i; every `every`-th line repeats the code of the line before. */
            uint64_t c = every && i % every == 1 ? i - 1 : i;
            planted += c != i;
            uint64_t x = ms_bench_scramble(c);
            ms_key_t key = {(x >> 30) % 10000000000ull, x % 10000000000ull};
            value_t v;
            memset(&v, 0, sizeof v);
            v.date = (int32_t)(20000 + i % 365);
            v.id = i;
            v.amount = 1000;
            v.tag = 1;
            if (!failed && ms_shuffle_emit(s, tid, key, &v) != MS_OK) failed = 1;
        }
    }
    double t1 = ms_bench_now();
    counts_t counts;
    memset(&counts, 0, sizeof counts);
    if (failed || ms_shuffle_reduce(s, threads, reduce, &counts) != MS_OK) {
        fprintf(stderr, "bench_codes: %s\n", ms_error_detail());
        ms_shuffle_free(s);
        return 1;
    }
    double t2 = ms_bench_now();
    uint64_t found = 0;
    for (int t = 0; t < threads; t++) found += counts.repeats[t];
    ms_shuffle_stats_t st;
    ms_shuffle_stats(s, &st);
    printf("%llu codes, %llu planted repeats, %llu found (%s); %d threads, memory cap %.0f MiB\n",
           (unsigned long long)ncodes, (unsigned long long)planted, (unsigned long long)found,
           found == planted ? "exact" : "WRONG", threads, (double)cap / 1048576.0);
    printf("  emit %.2f s, reduce %.2f s: %.2f M codes/s, %.2f M codes/s per core; peak memory %.0f MiB\n",
           t1 - t0, t2 - t1, (double)ncodes / (t2 - t0) / 1e6, (double)ncodes / (t2 - t0) / threads / 1e6,
           (double)ms_peak_rss() / 1048576.0);
    printf("  spilled %llu records in %u files (%.1f GiB)\n", (unsigned long long)st.spilled_records,
           st.spill_files, (double)st.spill_bytes / 1073741824.0);
    ms_shuffle_free(s);
    return found == planted ? 0 : 1;
}
