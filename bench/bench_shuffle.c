/*
 * bench_shuffle.c - the keyed shuffle alone: emit N records from T threads,
 * then reduce them with a reducer that sums, timed apart, with the plain
 * reference sort and with the radix sort in the same run.
 *
 * Two key distributions, after the models that use the shuffle most:
 *   overload  doctor x (visit type, day): a few thousand distinct keys, many
 *             values per key (k0 = doctor, k1 = visit type << 32 | day);
 *   drugs     traceability codes: mostly unique 20-digit codes packed into
 *             k0/k1 (10 digits each), one code in a thousand sold twice.
 * Values are value_size bytes: a unique settlement id, then pseudo-random
 * bytes.  The input is generated before the clock starts; emitting reads it
 * as a model reads a batch.  Each line gives the median of the repeats as
 * records/s and record bytes/s (16 + value_size per record), records per
 * CPU-second (user + system time of the process: the machine may be shared),
 * the shuffle's own peak (ms_shuffle_stats) and the process's peak RSS for
 * that configuration (input included; reset between configurations).  The
 * reducer's checksum (order-sensitive within a key) must be the same for
 * both sorts and every repeat, or the program fails.
 *
 *   bench_shuffle [--n 1000000,10000000] [--vs 8,24,40,56] [--dist overload,drugs]
 *                 [--threads 2] [--repeat 3] [--sort both|ref|radix]
 *                 [--memory-cap BYTES] [--dir SPILL_DIR] [--json]
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ms_bench.h"
#include "ms_fs.h"
#include "ms_shuffle.h"

#define MAXT 256


typedef struct {
    ms_key_t *keys;
    unsigned char *vals;
    size_t n, vs;
} input_t;

static int make_input(input_t *in, const char *dist, size_t n, size_t vs)
{
    in->n = n;
    in->vs = vs;
    in->keys = malloc(n * sizeof *in->keys);
    in->vals = malloc(n * vs);
    if (!in->keys || !in->vals) return -1;
    int drugs = !strcmp(dist, "drugs");
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        uint64_t r = ms_bench_scramble(i + 0x9e3779b97f4a7c15ull);
        ms_key_t k;
        if (drugs) {
            /* Code i; every thousandth line repeats the code of the line before. */
            uint64_t c = i % 1000 == 1 ? i - 1 : i;
            uint64_t x = ms_bench_scramble(c);
            k.k0 = (x >> 30) % 10000000000ull;
            k.k1 = x % 10000000000ull;
        } else {
            /* 1000 doctors, 5 days, visit type 0 (90%), 1 or 2. */
            uint64_t doc = 1 + r % 1000, day = 20000 + (r >> 10) % 5, vt = (r >> 20) % 20;
            vt = vt < 18 ? 0 : vt - 17;
            k.k0 = doc;
            k.k1 = vt << 32 | day;
        }
        in->keys[i] = k;
        unsigned char v[512];
        uint64_t id = 1000000000ull + i, x = r;
        memcpy(v, &id, 8);
        for (size_t j = 8; j < vs; j += 8) {
            x = ms_bench_scramble(x + j);
            memcpy(v + j, &x, 8);
        }
        memcpy(in->vals + i * vs, v, vs);
    }
    return 0;
}

/* The reducer: per thread, keys, values, the sum of every value's first
 * eight bytes, and an order-sensitive check (sum over keys of a hash of the
 * key's values in the order given). */
typedef struct {
    _Alignas(64) uint64_t keys, values, sum, check;
} slot_t;

typedef struct {
    size_t vs;
    slot_t slot[MAXT];
} red_t;

static ms_status_t reducer(void *vctx, int tid, ms_key_t key, const void *values, size_t n)
{
    red_t *c = vctx;
    slot_t *s = &c->slot[tid];
    const unsigned char *v = values;
    uint64_t h = key.k0 * 0x9e3779b97f4a7c15ull ^ key.k1, sum = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = 0;
        memcpy(&x, v + i * c->vs, c->vs < 8 ? c->vs : 8);
        sum += x;
        h = (h ^ x) * 0x100000001b3ull;
    }
    s->keys++;
    s->values += n;
    s->sum += sum;
    s->check += h;
    return MS_OK;
}

typedef struct {
    const input_t *in;
    int threads;
    size_t cap;
    const char *dir;
    int ref;
    /* per repeat */
    double emit_s, reduce_s, emit_cpu, reduce_cpu;
    uint64_t keys, sum, check;
    size_t peak;
    uint64_t spilled;
} run_t;

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int run_once(run_t *r, red_t *red)
{
    const input_t *in = r->in;
    ms_shuffle_t *s = NULL;
    if (ms_shuffle_create(r->dir, r->threads, in->vs, r->cap, 0, &s) != MS_OK) {
        fprintf(stderr, "bench_shuffle: %s\n", ms_error_detail());
        return 1;
    }
    ms_shuffle_set_sort(s, r->ref ? MS_SHUFFLE_SORT_REF : MS_SHUFFLE_SORT_RADIX);
    int failed = 0;
    double c0 = cpu_now(), t0 = ms_bench_now();
#pragma omp parallel num_threads(r->threads) reduction(| : failed)
    {
        int tid = omp_get_thread_num();
#pragma omp for schedule(static)
        for (size_t i = 0; i < in->n; i++)
            if (!failed && ms_shuffle_emit(s, tid, in->keys[i], in->vals + i * in->vs) != MS_OK) failed = 1;
    }
    double c1 = cpu_now(), t1 = ms_bench_now();
    memset(red, 0, sizeof *red);
    red->vs = in->vs;
    if (failed || ms_shuffle_reduce(s, r->threads, reducer, red) != MS_OK) {
        fprintf(stderr, "bench_shuffle: %s\n", ms_error_detail());
        ms_shuffle_free(s);
        return 1;
    }
    double c2 = cpu_now(), t2 = ms_bench_now();
    ms_shuffle_stats_t st;
    ms_shuffle_stats(s, &st);
    ms_shuffle_free(s);
    r->emit_s = t1 - t0;
    r->reduce_s = t2 - t1;
    r->emit_cpu = c1 - c0;
    r->reduce_cpu = c2 - c1;
    r->peak = st.peak_bytes;
    r->spilled = st.spilled_records;
    uint64_t keys = 0, values = 0, sum = 0, check = 0;
    for (int t = 0; t < MAXT; t++) {
        keys += red->slot[t].keys;
        values += red->slot[t].values;
        sum += red->slot[t].sum;
        check += red->slot[t].check;
    }
    if (values != in->n) {
        fprintf(stderr, "bench_shuffle: %llu values reduced of %zu\n", (unsigned long long)values, in->n);
        return 1;
    }
    r->keys = keys;
    r->sum = sum;
    r->check = check;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void reset_peak_rss(void)
{
    FILE *fp = fopen("/proc/self/clear_refs", "w");
    if (!fp) return;
    fputs("5", fp);
    fclose(fp);
}

static void report(const char *name, const double *t, const double *cpu, int repeat, uint64_t n, size_t rs,
                   size_t peak, int json, int *first)
{
    double tt[64], cc[64];
    memcpy(tt, t, (size_t)repeat * sizeof *t);
    memcpy(cc, cpu, (size_t)repeat * sizeof *cpu);
    ms_bench_result_t res = {0};
    res.repeats = repeat;
    qsort(tt, (size_t)repeat, sizeof *tt, cmp_double);
    res.min_s = tt[0];
    res.max_s = tt[repeat - 1];
    res.median_s = median(tt, repeat);
    double cpu_s = median(cc, repeat);
    res.records = n;
    res.bytes = n * rs;
    res.records_per_s = (double)n / res.median_s;
    res.bytes_per_s = (double)(n * rs) / res.median_s;
    res.peak_rss = ms_peak_rss();
    if (json) {
        printf("%s\n  {\"bench\": ", *first ? "" : ",");
        ms_bench_json(stdout, name, &res);
        printf(", \"cpu_s\": %.6f, \"records_per_cpu_s\": %.1f, \"shuffle_peak\": %zu}", cpu_s,
               (double)n / cpu_s, peak);
        *first = 0;
    } else {
        ms_bench_print(stdout, name, &res);
        printf("%34s %8.2f M rec/CPU-s  shuffle peak %.0f MiB\n", "", (double)n / cpu_s / 1e6,
               (double)peak / 1048576.0);
    }
}

int main(int argc, char **argv)
{
    const char *n_arg = "1000000,10000000", *vs_arg = "8,24,40,56", *dist_arg = "overload,drugs";
    const char *sort_arg = "both", *dir = "build/bench-shuffle-spill";
    int threads = 2, repeat = 3, json = 0;
    size_t cap = (size_t)8 << 30;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc) n_arg = argv[++i];
        else if (!strcmp(argv[i], "--vs") && i + 1 < argc) vs_arg = argv[++i];
        else if (!strcmp(argv[i], "--dist") && i + 1 < argc) dist_arg = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--sort") && i + 1 < argc) sort_arg = argv[++i];
        else if (!strcmp(argv[i], "--memory-cap") && i + 1 < argc) cap = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--json")) json = 1;
        else {
            fprintf(stderr, "usage: bench_shuffle [--n 1000000,10000000] [--vs 8,24,40,56] "
                            "[--dist overload,drugs] [--threads 2] [--repeat 3] [--sort both|ref|radix] "
                            "[--memory-cap BYTES] [--dir SPILL_DIR] [--json]\n");
            return 2;
        }
    }
    if (threads < 1 || threads > MAXT) threads = 1;
    if (repeat < 1) repeat = 1;
    if (repeat > 64) repeat = 64;
    int sorts[2], nsorts = 0;
    if (!strcmp(sort_arg, "both") || !strcmp(sort_arg, "ref")) sorts[nsorts++] = 1;
    if (!strcmp(sort_arg, "both") || !strcmp(sort_arg, "radix")) sorts[nsorts++] = 0;
    if (!json)
        printf("bench_shuffle: %d threads, memory cap %.0f MiB, median of %d (after one warm-up)\n", threads,
               (double)cap / 1048576.0, repeat);
    else
        printf("[");
    red_t *red = aligned_alloc(64, sizeof *red);
    if (!red) return 1;
    int rc = 0, first = 1;
    char *dists = strdup(dist_arg), *s1 = NULL;
    for (char *dist = strtok_r(dists, ",", &s1); dist && !rc; dist = strtok_r(NULL, ",", &s1)) {
        char *ns = strdup(n_arg), *s2 = NULL;
        for (char *nt = strtok_r(ns, ",", &s2); nt && !rc; nt = strtok_r(NULL, ",", &s2)) {
            size_t n = strtoull(nt, NULL, 10);
            char *vss = strdup(vs_arg), *s3 = NULL;
            for (char *vt = strtok_r(vss, ",", &s3); vt && !rc; vt = strtok_r(NULL, ",", &s3)) {
                size_t vs = strtoull(vt, NULL, 10);
                if (vs < 1 || vs > 256) {
                    fprintf(stderr, "bench_shuffle: value size %zu not in 1..256\n", vs);
                    rc = 2;
                    break;
                }
                input_t in = {0};
                if (make_input(&in, dist, n, vs)) {
                    fprintf(stderr, "bench_shuffle: out of memory for %zu records\n", n);
                    rc = 1;
                    break;
                }
                uint64_t keys = 0, sum = 0, check = 0;
                int have = 0;
                for (int k = 0; k < nsorts && !rc; k++) {
                    run_t r = {.in = &in, .threads = threads, .cap = cap, .dir = dir, .ref = sorts[k]};
                    double te[64], tr[64], ce[64], cr[64];
                    size_t peak = 0;
                    reset_peak_rss();
                    for (int i = -1; i < repeat && !rc; i++) {
                        rc = run_once(&r, red);
                        if (rc) break;
                        if (have && (r.keys != keys || r.sum != sum || r.check != check)) {
                            fprintf(stderr, "bench_shuffle: %s n=%zu vs=%zu: the reducer's answer changed "
                                            "(%s sort)\n", dist, n, vs, r.ref ? "reference" : "radix");
                            rc = 1;
                            break;
                        }
                        keys = r.keys, sum = r.sum, check = r.check, have = 1;
                        if (i < 0) continue; /* warm-up */
                        te[i] = r.emit_s, tr[i] = r.reduce_s, ce[i] = r.emit_cpu, cr[i] = r.reduce_cpu;
                        if (r.peak > peak) peak = r.peak;
                    }
                    if (rc) break;
                    char name[128];
                    snprintf(name, sizeof name, "%s n=%zu vs=%zu emit (%s)", dist, n, vs, r.ref ? "ref" : "radix");
                    report(name, te, ce, repeat, n, 16 + vs, peak, json, &first);
                    snprintf(name, sizeof name, "%s n=%zu vs=%zu reduce (%s)", dist, n, vs,
                             r.ref ? "ref" : "radix");
                    report(name, tr, cr, repeat, n, 16 + vs, peak, json, &first);
                    if (!json && r.spilled) printf("%34s spilled %llu records\n", "", (unsigned long long)r.spilled);
                }
                if (!json && !rc) printf("%34s %llu distinct keys\n", "", (unsigned long long)keys);
                free(in.keys);
                free(in.vals);
            }
            free(vss);
        }
        free(ns);
    }
    free(dists);
    free(red);
    if (json) printf("\n]\n");
    return rc;
}
