/*
 * test_shuffle.c - keyed aggregation through ms_shuffle.
 *
 * What must hold: the reducer sees every distinct key exactly once with all
 * its values in memcmp order, exactly as a plain sort of all records would
 * group them, whatever the cap (no spill, spill and multi-pass merges), the
 * emitting and reducing thread counts, the bucket count, or which thread
 * emitted which record; keys arrive ascending within a bucket; memory stays
 * under the cap; spill files are removed; I/O failures name the file and a
 * full disk is MS_E_NOSPACE; the lowest failing bucket's error is returned.
 * The radix sort the reduce uses gives exactly the bytes of the plain
 * comparison sort kept as its reference (ms_shuffle_sort), on random and
 * awkward inputs, and a whole shuffle gives the same answer with either.
 *
 * Every test runs in a fixture (fixture_t): its own directory, a reducer
 * context and a data set with its reference answer, made before the test and
 * removed after it; run_shuffle and run_exact shuffle the fixture's data.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>
#include <omp.h>
#include <xxhash.h>

#include "ms_buf.h"
#include "ms_fs.h"
#include "ms_shuffle.h"
#include "ms_testutil.h"

#define NREC 300000
#define HUGE_CAP ((size_t)1 << 30)
#define TINY_CAP ((size_t)64 << 10)
#define MAXT 8

/* ---- data and the reference ------------------------------------------- */

typedef struct {
    ms_key_t *keys;
    unsigned char *vals;
    size_t n, vs;
} dataset_t;

/* k0 below k0_space and k1 below k1_space (0: any 64-bit value). */
static dataset_t make_data(size_t n, size_t vs, uint64_t k0_space, uint64_t k1_space, uint64_t seed)
{
    dataset_t d = {.keys = malloc((n ? n : 1) * sizeof(ms_key_t)), .vals = malloc(n * vs + 1), .n = n, .vs = vs};
    uint64_t r = seed;
    for (size_t i = 0; d.keys && d.vals && i < n; i++) {
        d.keys[i].k0 = k0_space ? ms_test_below(&r, k0_space) : ms_test_rand(&r);
        d.keys[i].k1 = k1_space ? ms_test_below(&r, k1_space) : ms_test_rand(&r);
        for (size_t j = 0; j < vs; j++) d.vals[i * vs + j] = (unsigned char)ms_test_rand(&r);
    }
    return d;
}

static void free_data(dataset_t *d)
{
    free(d->keys);
    free(d->vals);
    d->keys = NULL;
    d->vals = NULL;
}

/* What a run reduces to: order-free sums over per-key digests of
 * (key, n, values in order). */
typedef struct {
    uint64_t keys, values, sum, xor;
} digest_t;

static uint64_t group_hash(ms_key_t key, const void *vals, size_t n, size_t vs)
{
    uint64_t seed = XXH3_64bits_withSeed(&key, sizeof key, (uint64_t)n);
    return XXH3_64bits_withSeed(vals, n * vs, seed);
}

static void digest_add(digest_t *d, uint64_t h, size_t n)
{
    d->keys++;
    d->values += n;
    d->sum += h;
    d->xor ^= h;
}

static size_t g_ref_vs;

static int ref_cmp(const void *a, const void *b)
{
    ms_key_t x, y;
    memcpy(&x, a, sizeof x);
    memcpy(&y, b, sizeof y);
    if (x.k0 != y.k0) return x.k0 < y.k0 ? -1 : 1;
    if (x.k1 != y.k1) return x.k1 < y.k1 ? -1 : 1;
    return memcmp((const unsigned char *)a + 16, (const unsigned char *)b + 16, g_ref_vs);
}

/* The plain answer: sort every record at once and walk the groups. */
static digest_t reference(const dataset_t *d)
{
    digest_t dg = {0};
    const size_t rs = 16 + d->vs;
    unsigned char *a = malloc(d->n * rs + 1);
    unsigned char *vals = malloc(d->n * d->vs + 1);
    if (!a || !vals) {
        free(a);
        free(vals);
        fail();
        return dg;
    }
    for (size_t i = 0; i < d->n; i++) {
        memcpy(a + i * rs, &d->keys[i], 16);
        memcpy(a + i * rs + 16, d->vals + i * d->vs, d->vs);
    }
    g_ref_vs = d->vs;
    qsort(a, d->n, rs, ref_cmp);
    for (size_t i = 0; i < d->n;) {
        size_t j = i;
        while (j < d->n && memcmp(a + j * rs, a + i * rs, 16) == 0) {
            memcpy(vals + (j - i) * d->vs, a + j * rs + 16, d->vs);
            j++;
        }
        ms_key_t key;
        memcpy(&key, a + i * rs, 16);
        digest_add(&dg, group_hash(key, vals, j - i, d->vs), j - i);
        i = j;
    }
    free(a);
    free(vals);
    return dg;
}

/* ---- the reducer -------------------------------------------------------- */

typedef struct {
    _Alignas(64) digest_t d;
    uint64_t unsorted; /* groups whose values were not in memcmp order */
    uint64_t max_n;
    ms_key_t *log;     /* keys in arrival order (when logging) */
    size_t nlog, caplog;
} slot_t;

typedef struct {
    size_t vs;
    int log;
    int nfail;          /* keys on which the reducer fails */
    ms_key_t fail[2];
    slot_t slot[MAXT];
} red_ctx_t;

static ms_status_t reducer(void *vctx, int tid, ms_key_t key, const void *values, size_t n)
{
    red_ctx_t *c = vctx;
    if (tid < 0 || tid >= MAXT) return ms_error_set(MS_E_INTERNAL, "reducer: thread %d", tid);
    slot_t *sl = &c->slot[tid];
    const unsigned char *v = values;
    for (size_t i = 1; i < n; i++)
        if (memcmp(v + (i - 1) * c->vs, v + i * c->vs, c->vs) > 0) {
            sl->unsorted++;
            break;
        }
    digest_add(&sl->d, group_hash(key, values, n, c->vs), n);
    if (n > sl->max_n) sl->max_n = n;
    if (c->log) {
        if (ms_grow(&sl->log, &sl->caplog, sl->nlog + 1, sizeof *sl->log, 1024) != MS_OK)
            return ms_error_set(MS_E_NOMEM, "reducer log");
        sl->log[sl->nlog++] = key;
    }
    for (int i = 0; i < c->nfail; i++)
        if (key.k0 == c->fail[i].k0 && key.k1 == c->fail[i].k1)
            return ms_error_set(MS_E_INPUT, "reducer refused key %016llx", (unsigned long long)key.k0);
    return MS_OK;
}

static digest_t ctx_total(const red_ctx_t *c, uint64_t *unsorted)
{
    digest_t t = {0};
    *unsorted = 0;
    for (int i = 0; i < MAXT; i++) {
        t.keys += c->slot[i].d.keys;
        t.values += c->slot[i].d.values;
        t.sum += c->slot[i].d.sum;
        t.xor ^= c->slot[i].d.xor;
        *unsorted += c->slot[i].unsorted;
    }
    return t;
}

static void ctx_free(red_ctx_t *c)
{
    for (int i = 0; i < MAXT; i++) {
        free(c->slot[i].log);
        c->slot[i].log = NULL;
    }
}

/* ---- the fixture -------------------------------------------------------- */

/* What every test starts from, and what its teardown removes (whether the
 * test passed, failed or was skipped). */
typedef struct {
    char *dir;       /* the test's directory; first, for ms_test_dir_teardown */
    char spill[700]; /* the spill directory run_shuffle uses: dir/spill */
    red_ctx_t *c;    /* the reducer's context */
    dataset_t d;     /* the records to shuffle (fixture_data) */
    digest_t ref;    /* their reference answer */
} fixture_t;

static void fixture_free(fixture_t *fx)
{
    ctx_free(fx->c);
    free(fx->c);
    free_data(&fx->d);
}

/* The initial state is the name of the test's directory. */
static int fixture_setup(void **state)
{
    const char *name = *state;
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx) return -1;
    fx->dir = ms_test_dir(name);
    fx->c = calloc(1, sizeof *fx->c);
    if (!fx->dir || !fx->c) {
        free(fx->c);
        free(fx->dir);
        free(fx);
        return -1;
    }
    snprintf(fx->spill, sizeof fx->spill, "%s/spill", fx->dir);
    *state = fx;
    return 0;
}

static int fixture_teardown(void **state)
{
    fixture_free(*state);
    return ms_test_dir_teardown(state);
}

/* A test with its fixture; dir names the test's directory. */
#define FIXTURE_TEST(f, dir) cmocka_unit_test_prestate_setup_teardown(f, fixture_setup, fixture_teardown, (char[]){dir})

/* Make the fixture's data set (as make_data) and its reference answer. */
static void fixture_data(fixture_t *fx, size_t n, size_t vs, uint64_t k0_space, uint64_t k1_space, uint64_t seed)
{
    free_data(&fx->d);
    fx->d = make_data(n, vs, k0_space, k1_space, seed);
    fx->ref = reference(&fx->d);
}

/* ---- running a shuffle -------------------------------------------------- */

typedef enum { ASSIGN_ROUND_ROBIN, ASSIGN_BLOCKS, ASSIGN_HASHED } assign_t;

typedef struct {
    int map_threads, red_threads;
    assign_t assign;
    size_t cap;
    uint32_t nbuckets;
    ms_shuffle_sort_t sort; /* the reduce's sort (0: radix) */
} opts_t;

typedef struct {
    ms_shuffle_stats_t map, all; /* after the map, after the reduce */
    int files_after_reduce;      /* left in the spill directory */
    int dir_after_free;          /* the spill directory still exists */
    char detail[1024];           /* the error's detail */
} outcome_t;

static int owner(size_t i, size_t n, int nt, assign_t a)
{
    switch (a) {
    case ASSIGN_ROUND_ROBIN: return (int)(i % (size_t)nt);
    case ASSIGN_BLOCKS: return (int)(i * (size_t)nt / n);
    case ASSIGN_HASHED: {
        uint64_t r = i * 0x2545f4914f6cdd1dull;
        return (int)(ms_test_rand(&r) % (uint64_t)nt);
    }
    }
    return 0;
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* Shuffle the fixture's data through fx->spill: emit it from o->map_threads
 * emitting roles (OpenMP threads take them in turn, so the roles exist even
 * if fewer threads are granted), reduce into fx->c, free.  Returns the first
 * error, its detail in out->detail. */
static ms_status_t run_shuffle(fixture_t *fx, const opts_t *o, outcome_t *out)
{
    const char *spill_dir = fx->spill;
    const dataset_t *d = &fx->d;
    red_ctx_t *c = fx->c;
    memset(out, 0, sizeof *out);
    memset(c->slot, 0, sizeof c->slot);
    c->vs = d->vs;
    ms_shuffle_t *s = NULL;
    ms_status_t st = ms_shuffle_create(spill_dir, o->map_threads, d->vs, o->cap, o->nbuckets, &s);
    if (st != MS_OK) {
        snprintf(out->detail, sizeof out->detail, "%s", ms_error_detail());
        return st;
    }
    ms_shuffle_set_sort(s, o->sort);
#pragma omp parallel num_threads(o->map_threads)
    {
        ms_status_t mine = MS_OK;
        for (int role = omp_get_thread_num(); role < o->map_threads && mine == MS_OK;
             role += omp_get_num_threads())
            for (size_t i = 0; i < d->n && mine == MS_OK; i++)
                if (owner(i, d->n, o->map_threads, o->assign) == role)
                    mine = ms_shuffle_emit(s, role, d->keys[i], d->vals + i * d->vs);
        if (mine != MS_OK) {
#pragma omp critical
            if (st == MS_OK) {
                st = mine;
                snprintf(out->detail, sizeof out->detail, "%s", ms_error_detail());
            }
        }
    }
    ms_shuffle_stats(s, &out->map);
    ms_status_t rst = ms_shuffle_reduce(s, o->red_threads, reducer, c);
    if (st == MS_OK && rst != MS_OK) snprintf(out->detail, sizeof out->detail, "%s", ms_error_detail());
    if (st == MS_OK) st = rst;
    ms_shuffle_stats(s, &out->all);
    out->files_after_reduce = count_files(spill_dir);
    ms_shuffle_free(s);
    out->dir_after_free = ms_path_exists(spill_dir);
    return st;
}

/* What the reducer met (fx->c) is the reference answer: every key once,
 * whole, its values in order. */
static void assert_reference_answer(const fixture_t *fx)
{
    uint64_t unsorted;
    digest_t got = ctx_total(fx->c, &unsorted);
    assert_int_equal(got.keys, fx->ref.keys);
    assert_int_equal(got.values, fx->ref.values);
    assert_int_equal(got.sum, fx->ref.sum);
    assert_int_equal(got.xor, fx->ref.xor);
    assert_int_equal(unsorted, 0);
}

/* Run and require the reference answer; returns the outcome. */
static outcome_t run_exact(fixture_t *fx, const opts_t *o)
{
    outcome_t out;
    ms_status_t st = run_shuffle(fx, o, &out);
    if (st != MS_OK) print_error("run failed: %s: %s\n", ms_status_str(st), out.detail);
    assert_int_equal(st, MS_OK);
    assert_reference_answer(fx);
    assert_int_equal(out.all.records, fx->d.n);
    /* Every spill file goes with its bucket; the directory, made by the
     * shuffle, goes with it. */
    assert_int_equal(out.files_after_reduce, 0);
    assert_false(out.dir_after_free);
    return out;
}

/* ---- tests -------------------------------------------------------------- */

/* (1) random records, huge and tiny caps, 1..3 emitting and reducing
 * threads, three ways of assigning records to threads. */
static void test_random_exact(void **state)
{
    fixture_t *fx = *state;
    for (int space = 0; space < 2; space++) {
        /* 2400 keys of ~125 values, or ~300k keys of one value. */
        if (space == 0) fixture_data(fx, NREC, 8, 600, 4, 11);
        else fixture_data(fx, NREC, 8, 0, 0, 12);
        for (int tiny = 0; tiny < 2; tiny++) {
            for (int mt = 1; mt <= 3; mt++) {
                opts_t o = {.map_threads = mt, .red_threads = 4 - mt, .assign = (assign_t)(mt - 1),
                            .cap = tiny ? TINY_CAP : HUGE_CAP,
                            /* 32 buckets of ~225 KB: none fits a share */
                            .nbuckets = tiny && mt == 2 ? 32 : 0};
                outcome_t out = run_exact(fx, &o);
                uint32_t nb = o.nbuckets ? o.nbuckets : 64u * (uint32_t)mt;
                assert_int_equal(out.all.buckets, nb);
                if (!tiny) {
                    assert_int_equal(out.all.spill_files, 0);
                    assert_int_equal(out.all.spilled_records, 0);
                    assert_int_equal(out.all.spill_bytes, 0);
                } else {
                    assert_true(out.map.spilled_records > 0);
                    assert_true(out.map.spill_files > 0);
                    assert_true(out.all.peak_bytes > 0);
                    /* The design's bound: map shares plus reduce shares
                     * never exceed the cap (no key outgrows half a share). */
                    assert_true(out.all.peak_bytes <= o.cap);
                    /* Buckets larger than the cap cannot fit any share: they
                     * must have gone through run files. */
                    if (fx->d.n * 24 / nb > o.cap) assert_true(out.all.spill_files > out.map.spill_files);
                    print_message("space %d map %d reduce %d: records %llu spilled %llu files %u/%u "
                                  "bytes %llu peak %zu\n",
                                  space, mt, o.red_threads, (unsigned long long)out.all.records,
                                  (unsigned long long)out.all.spilled_records, out.map.spill_files,
                                  out.all.spill_files, (unsigned long long)out.all.spill_bytes,
                                  out.all.peak_bytes);
                }
            }
        }
        /* Same records, one emitting thread per record chosen by hash, three
         * reducers, other bucket count. */
        opts_t o = {.map_threads = 3, .red_threads = 3, .assign = ASSIGN_HASHED, .cap = TINY_CAP,
                    .nbuckets = 7};
        run_exact(fx, &o);
        /* The reference sort, in memory and through runs: the same answer. */
        for (int tiny = 0; tiny < 2; tiny++) {
            o = (opts_t){.map_threads = 2, .red_threads = 2, .assign = ASSIGN_ROUND_ROBIN,
                         .cap = tiny ? TINY_CAP : HUGE_CAP, .sort = MS_SHUFFLE_SORT_REF};
            run_exact(fx, &o);
        }
        /* Both sorts with a cap that makes the map spill and leaves every
         * bucket small enough for memory: spilled records read back, no
         * run written. */
        for (int ref = 0; ref < 2; ref++) {
            o = (opts_t){.map_threads = 2, .red_threads = 2, .assign = ASSIGN_BLOCKS, .cap = (size_t)4 << 20,
                         .sort = ref ? MS_SHUFFLE_SORT_REF : MS_SHUFFLE_SORT_RADIX};
            outcome_t out = run_exact(fx, &o);
            assert_true(out.map.spilled_records > 0);
            assert_int_equal(out.all.spill_bytes, out.all.spilled_records * 24);
            assert_true(out.all.peak_bytes <= o.cap);
        }
    }
}


/* (1b) Buckets moved between shuffles, as the cluster mode moves them
 * between ranks: records emitted into R shuffles (one per "rank", each
 * spilling under a tiny cap), every bucket taken from the ranks that do not
 * own it (in small pieces, spill files included) and put into the one that
 * does; reducing every shuffle then gives the reference answer: each key
 * met once, whole, its values in order. */
typedef struct {
    ms_shuffle_t *to;
    uint64_t pieces;
} move_ctx_t;

static ms_status_t move_piece(void *vctx, const void *records, size_t n)
{
    move_ctx_t *m = vctx;
    m->pieces++;
    return ms_shuffle_put(m->to, 1, records, n);
}

static void test_move_buckets(void **state)
{
    fixture_t *fx = *state;
    fixture_data(fx, NREC, 8, 600, 4, 21);
    for (int R = 1; R <= 3; R++) {
        memset(fx->c->slot, 0, sizeof fx->c->slot);
        fx->c->vs = fx->d.vs;
        ms_shuffle_t *s[3] = {0};
        for (int r = 0; r < R; r++) {
            char dir[800];
            snprintf(dir, sizeof dir, "%s-r%d", fx->spill, r);
            assert_int_equal(ms_shuffle_create(dir, 2, fx->d.vs, TINY_CAP, 48, &s[r]), MS_OK);
        }
        for (size_t i = 0; i < fx->d.n; i++)
            assert_int_equal(ms_shuffle_emit(s[i % (size_t)R], (int)(i / 7 % 2), fx->d.keys[i], fx->d.vals + i * fx->d.vs),
                             MS_OK);
        uint64_t taken = 0, pieces = 0;
        for (uint32_t b = 0; b < ms_shuffle_nbuckets(s[0]); b++)
            for (int r = 0; r < R; r++) {
                if ((int)(b % (uint32_t)R) == r) continue;
                move_ctx_t m = {s[b % (uint32_t)R], 0};
                uint64_t n = 0;
                assert_int_equal(ms_shuffle_take_bucket(s[r], b, 40 * 24, move_piece, &m, &n), MS_OK);
                taken += n;
                pieces += m.pieces;
            }
        uint64_t emitted = 0, put = 0, spilled = 0;
        for (int r = 0; r < R; r++) {
            ms_shuffle_stats_t st;
            ms_shuffle_stats(s[r], &st);
            emitted += st.records;
            put += st.put_records;
            spilled += st.spilled_records;
            assert_int_equal(ms_shuffle_reduce(s[r], 2, reducer, fx->c), MS_OK);
            ms_shuffle_free(s[r]);
        }
        assert_reference_answer(fx);
        assert_int_equal(emitted, fx->d.n);
        assert_int_equal(put, taken);
        assert_true(spilled > 0);
        /* (R - 1) / R of the records move, in pieces of at most 40. */
        if (R > 1) {
            assert_true(taken > fx->d.n * (uint64_t)(R - 1) / (uint64_t)R * 9 / 10);
            assert_true(pieces >= taken / 40);
        } else {
            assert_int_equal(taken, 0);
        }
    }
}

static uint32_t bucket_of(ms_key_t key, uint32_t nb)
{
    /* White box: the bucket hash the header documents. */
    return (uint32_t)(XXH3_64bits(&key, sizeof key) % nb);
}

static int key_cmp(const void *a, const void *b)
{
    const ms_key_t *x = a, *y = b;
    if (x->k0 != y->k0) return x->k0 < y->k0 ? -1 : 1;
    if (x->k1 != y->k1) return x->k1 < y->k1 ? -1 : 1;
    return 0;
}

/* (2) keys reach the reducer ascending within a bucket, a bucket is reduced
 * by one thread in one go, and every key arrives exactly once. */
static void test_order_once(void **state)
{
    fixture_t *fx = *state;
    red_ctx_t *c = fx->c;
    fixture_data(fx, 100000, 4, 3000, 5, 21);
    const uint64_t nkeys = fx->ref.keys;
    /* Small buckets (in memory) and large ones (run files and merges). */
    const uint32_t nbs[] = {24, 256};
    for (size_t k = 0; k < 2; k++) {
        c->log = 1;
        opts_t o = {.map_threads = 3, .red_threads = 3, .assign = ASSIGN_ROUND_ROBIN, .cap = TINY_CAP,
                    .nbuckets = nbs[k]};
        run_exact(fx, &o);
        uint8_t *seen = calloc(nbs[k], 1);
        ms_key_t *all = malloc(nkeys * sizeof *all);
        if (!seen || !all) {
            free(seen);
            free(all);
            fail();
            return;
        }
        size_t nall = 0;
        for (int t = 0; t < MAXT; t++) {
            const slot_t *sl = &c->slot[t];
            for (size_t i = 0; i < sl->nlog; i++) {
                uint32_t b = bucket_of(sl->log[i], nbs[k]);
                if (i == 0 || b != bucket_of(sl->log[i - 1], nbs[k])) {
                    /* A new bucket: it must not have been seen anywhere. */
                    assert_int_equal(seen[b], 0);
                    seen[b] = 1;
                } else {
                    assert_true(key_cmp(&sl->log[i - 1], &sl->log[i]) < 0);
                }
                assert_true(nall < nkeys);
                all[nall++] = sl->log[i];
            }
        }
        assert_int_equal(nall, nkeys);
        qsort(all, nall, sizeof *all, key_cmp);
        for (size_t i = 1; i < nall; i++) assert_true(key_cmp(&all[i - 1], &all[i]) < 0);
        free(all);
        free(seen);
        ctx_free(c);
    }
}

/* (3) value sizes 1, 13 and 256, no records, one key with 100k values. */
static void test_edges(void **state)
{
    fixture_t *fx = *state;

    /* 1-byte values over 50 keys: nearly every record has equal twins. */
    fixture_data(fx, 200000, 1, 50, 1, 31);
    opts_t o = {.map_threads = 2, .red_threads = 2, .assign = ASSIGN_BLOCKS, .cap = 16 << 10, .nbuckets = 0};
    run_exact(fx, &o);
    o.cap = HUGE_CAP;
    run_exact(fx, &o);

    /* 256-byte values in one bucket of ~5 MB under a 64 KiB cap: ~170 runs,
     * more than the read buffers take, so merges go through extra passes. */
    fixture_data(fx, 20000, 256, 0, 0, 32);
    o = (opts_t){.map_threads = 2, .red_threads = 2, .assign = ASSIGN_ROUND_ROBIN, .cap = TINY_CAP, .nbuckets = 1};
    outcome_t out = run_exact(fx, &o);
    assert_true(out.all.peak_bytes <= o.cap);
    assert_true(out.all.spill_bytes > 2 * out.map.spill_bytes); /* runs written more than once */
    o.cap = HUGE_CAP;
    o.nbuckets = 0;
    run_exact(fx, &o);

    /* 13-byte values (not a multiple of 8), an odd number of records, in
     * memory and through runs, with either sort. */
    fixture_data(fx, 30001, 13, 300, 2, 35);
    for (int k = 0; k < 4; k++) {
        o = (opts_t){.map_threads = 2, .red_threads = 2, .assign = ASSIGN_HASHED, .cap = k % 2 ? TINY_CAP : HUGE_CAP,
                     .nbuckets = 3, .sort = k < 2 ? MS_SHUFFLE_SORT_RADIX : MS_SHUFFLE_SORT_REF};
        run_exact(fx, &o);
    }

    /* No records. */
    fixture_data(fx, 0, 8, 0, 0, 33);
    o = (opts_t){.map_threads = 3, .red_threads = 2, .assign = ASSIGN_BLOCKS, .cap = TINY_CAP, .nbuckets = 0};
    out = run_exact(fx, &o);
    assert_int_equal(out.all.records, 0);
    assert_int_equal(out.all.spill_files, 0);
    assert_int_equal(out.all.peak_bytes, 0);

    /* One key, 100k values: one bucket, far over the cap, one call. */
    fixture_data(fx, 100000, 8, 1, 1, 34);
    assert_int_equal(fx->ref.keys, 1);
    o = (opts_t){.map_threads = 2, .red_threads = 2, .assign = ASSIGN_HASHED, .cap = TINY_CAP, .nbuckets = 0};
    out = run_exact(fx, &o);
    uint64_t max_n = 0;
    for (int t = 0; t < MAXT; t++)
        if (fx->c->slot[t].max_n > max_n) max_n = fx->c->slot[t].max_n;
    assert_int_equal(max_n, 100000);
    /* The key's values must be held together: the only way past the cap. */
    assert_true(out.all.peak_bytes >= 100000 * 8);
}

/* (4) peak memory on a bucket-heavy run, with every reducer count. */
static void test_peak(void **state)
{
    fixture_t *fx = *state;
    fixture_data(fx, 100000, 32, 20000, 1, 41);
    for (int rt = 1; rt <= 3; rt++) {
        for (size_t cap = 32 << 10; cap <= (256 << 10); cap *= 2) {
            opts_t o = {.map_threads = 2, .red_threads = rt, .assign = ASSIGN_BLOCKS, .cap = cap, .nbuckets = 16};
            outcome_t out = run_exact(fx, &o);
            assert_true(out.all.peak_bytes <= cap);
            assert_true(out.all.peak_bytes >= cap / 4); /* the cap is used, not ignored */
        }
    }
}

/* With few file descriptors the spill files are reopened for every append
 * instead of being kept open: same answer. */
static void test_few_descriptors(void **state)
{
    fixture_t *fx = *state;
    struct rlimit old, low;
    if (getrlimit(RLIMIT_NOFILE, &old) != 0) {
        fail();
        return;
    }
    low = old;
    if (low.rlim_cur == RLIM_INFINITY || low.rlim_cur > 256) low.rlim_cur = 256;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    fixture_data(fx, 100000, 8, 0, 0, 71);
    /* 3 x 192 spill files: more than half the 256 descriptors. */
    opts_t o = {.map_threads = 3, .red_threads = 2, .assign = ASSIGN_BLOCKS, .cap = TINY_CAP, .nbuckets = 0};
    outcome_t out = run_exact(fx, &o);
    assert_int_equal(out.map.spill_files, 576);
    setrlimit(RLIMIT_NOFILE, &old);
}

/* (5) an unwritable spill directory, and a spill file that cannot be made. */
static void test_unwritable(void **state)
{
    fixture_t *fx = *state;
    char file[600], spill[700];
    snprintf(file, sizeof file, "%s/plain", fx->dir);
    snprintf(spill, sizeof spill, "%s/spill", file);
    assert_int_equal(ms_test_write_file(file, "not a directory\n"), 0);
    ms_shuffle_t *s = NULL;
    assert_int_equal(ms_shuffle_create(spill, 1, 8, TINY_CAP, 0, &s), MS_E_IO);
    assert_null(s);
    assert_non_null(strstr(ms_error_detail(), spill));

    /* A directory where thread 0's bucket 0 spill file should go. */
    char blocker[800];
    snprintf(spill, sizeof spill, "%s/spill2", fx->dir);
    snprintf(blocker, sizeof blocker, "%s/t000-b0000.spill", spill);
    assert_int_equal(ms_mkdirs(blocker), MS_OK);
    assert_int_equal(ms_shuffle_create(spill, 1, 8, 4096, 1, &s), MS_OK);
    if (!s) {
        fail();
        return;
    }
    ms_status_t st = MS_OK;
    unsigned char v[8] = {0};
    for (uint64_t i = 0; i < 10000 && st == MS_OK; i++) st = ms_shuffle_emit(s, 0, (ms_key_t){i, i}, v);
    assert_int_equal(st, MS_E_IO);
    assert_non_null(strstr(ms_error_detail(), blocker));
    /* The map is incomplete: the reduce refuses. */
    fx->c->vs = 8;
    assert_int_equal(ms_shuffle_reduce(s, 1, reducer, fx->c), MS_E_IO);
    ms_shuffle_free(s);
    assert_true(ms_is_dir(blocker)); /* not ours: left alone */
}

/* (6) a full disk, in the map and in the reduce. */
static char g_mnt[600];
static int g_mounted;

static int umount_teardown(void **state)
{
    (void)state;
    if (g_mounted) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "umount '%s'", g_mnt);
        ms_test_run(cmd, NULL);
        g_mounted = 0;
    }
    return 0;
}

/* The disk goes before the directory it is mounted in. */
static int full_disk_teardown(void **state)
{
    umount_teardown(state);
    return fixture_teardown(state);
}

static void test_full_disk(void **state)
{
    fixture_t *fx = *state;
    snprintf(g_mnt, sizeof g_mnt, "%s/mnt", fx->dir);
    assert_int_equal(ms_mkdirs(g_mnt), MS_OK);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "mount -t tmpfs -o size=64k tmpfs '%s'", g_mnt);
    if (ms_test_run(cmd, NULL) != 0) {
        skip();
        return;
    }
    g_mounted = 1;
    snprintf(fx->spill, sizeof fx->spill, "%s/spill", g_mnt);

    /* Map: 4.8 MB of records through a 64 KiB disk. */
    fixture_data(fx, 200000, 8, 0, 0, 51);
    opts_t o = {.map_threads = 2, .red_threads = 2, .assign = ASSIGN_ROUND_ROBIN, .cap = 16 << 10, .nbuckets = 4};
    outcome_t out;
    assert_int_equal(run_shuffle(fx, &o, &out), MS_E_NOSPACE);
    assert_non_null(strstr(out.detail, fx->spill));
    assert_non_null(strstr(out.detail, ".spill"));
    assert_false(out.dir_after_free);

    /* Reduce: the spill fits (about 38 KB), its runs (as much again) do not. */
    fixture_data(fx, 1600, 8, 0, 0, 52);
    o = (opts_t){.map_threads = 1, .red_threads = 1, .assign = ASSIGN_BLOCKS, .cap = 8 << 10, .nbuckets = 1};
    assert_int_equal(run_shuffle(fx, &o, &out), MS_E_NOSPACE);
    assert_int_equal(out.map.records, 1600);
    assert_non_null(strstr(out.detail, "b0000-pass0.spill"));
    assert_false(out.dir_after_free);
    assert_int_equal(count_files(g_mnt), 0);
}

/* The reducer's error from the lowest bucket comes back, every time. */
static void test_first_error(void **state)
{
    fixture_t *fx = *state;
    red_ctx_t *c = fx->c;
    fixture_data(fx, 50000, 8, 0, 0, 61);
    const dataset_t *d = &fx->d;
    const uint32_t nb = 64;
    /* Two keys in different buckets; the later one is met first. */
    ms_key_t lo = d->keys[0], hi = d->keys[1];
    for (size_t i = 1; i < d->n && bucket_of(hi, nb) == bucket_of(lo, nb); i++) hi = d->keys[i];
    if (bucket_of(lo, nb) > bucket_of(hi, nb)) {
        ms_key_t t = lo;
        lo = hi;
        hi = t;
    }
    char want[64];
    snprintf(want, sizeof want, "refused key %016llx", (unsigned long long)lo.k0);
    for (int rep = 0; rep < 6; rep++) {
        c->nfail = 2;
        c->fail[0] = hi;
        c->fail[1] = lo;
        opts_t o = {.map_threads = 2, .red_threads = 3, .assign = ASSIGN_ROUND_ROBIN,
                    .cap = rep % 2 ? TINY_CAP : HUGE_CAP, .nbuckets = nb};
        outcome_t out;
        assert_int_equal(run_shuffle(fx, &o, &out), MS_E_INPUT);
        assert_non_null(strstr(out.detail, want));
        assert_false(out.dir_after_free);
    }
}

/* ---- the radix sort against the reference ------------------------------ */

/* Records of value size vs in one of several shapes. */
typedef enum {
    SHAPE_RANDOM,      /* random keys and values */
    SHAPE_SAME_KEY,    /* one key, random values */
    SHAPE_SAME_RECORD, /* every record equal */
    SHAPE_EXTREMES,    /* keys among 0, 1, UINT64_MAX - 1, UINT64_MAX; values of two bytes */
    SHAPE_DUPLICATES,  /* three keys, values of bytes 0 and 1: many equal records */
    SHAPE_LAST_BYTE,   /* one key, values differing in their last byte only */
    SHAPE_ONE_BIT,     /* one key, values differing in one bit in the middle */
    SHAPE_SMALL_KEYS,  /* overload-like: a few thousand small keys, unique values */
    SHAPE_CODES,       /* drugs-like: 10-digit k0 and k1, one in 50 repeated */
    SHAPE_STRIPES,     /* keys varying in every other bit: more runs of bits than a word packs */
    SHAPE_COUNT
} shape_t;

static void fill_records(unsigned char *a, size_t n, size_t vs, shape_t shape, uint64_t seed)
{
    const size_t rs = 16 + vs;
    uint64_t r = seed;
    const uint64_t ext[4] = {0, 1, UINT64_MAX - 1, UINT64_MAX};
    for (size_t i = 0; i < n; i++) {
        unsigned char *p = a + i * rs;
        ms_key_t k = {0, 0};
        switch (shape) {
        case SHAPE_RANDOM:
            k.k0 = ms_test_rand(&r);
            k.k1 = ms_test_rand(&r);
            for (size_t j = 0; j < vs; j++) p[16 + j] = (unsigned char)ms_test_rand(&r);
            break;
        case SHAPE_SAME_KEY:
            k = (ms_key_t){42, UINT64_MAX};
            for (size_t j = 0; j < vs; j++) p[16 + j] = (unsigned char)ms_test_rand(&r);
            break;
        case SHAPE_SAME_RECORD:
            k = (ms_key_t){7, 9};
            for (size_t j = 0; j < vs; j++) p[16 + j] = (unsigned char)(j * 37);
            break;
        case SHAPE_EXTREMES:
            k.k0 = ext[ms_test_below(&r, 4)];
            k.k1 = ext[ms_test_below(&r, 4)];
            for (size_t j = 0; j < vs; j++) p[16 + j] = ms_test_below(&r, 2) ? 0xff : 0;
            break;
        case SHAPE_DUPLICATES:
            k.k0 = ms_test_below(&r, 3);
            k.k1 = 5;
            for (size_t j = 0; j < vs; j++) p[16 + j] = (unsigned char)ms_test_below(&r, 2);
            break;
        case SHAPE_LAST_BYTE:
            k = (ms_key_t){1, 2};
            memset(p + 16, 0xa5, vs);
            p[16 + vs - 1] = (unsigned char)ms_test_rand(&r);
            break;
        case SHAPE_ONE_BIT:
            k = (ms_key_t){3, 4};
            memset(p + 16, 0x5a, vs);
            p[16 + vs / 2] ^= (unsigned char)(ms_test_below(&r, 2) << 3);
            break;
        case SHAPE_SMALL_KEYS: {
            k.k0 = 1 + ms_test_below(&r, 1000);
            k.k1 = ms_test_below(&r, 3) << 32 | (20000 + ms_test_below(&r, 5));
            uint64_t id = 1000000000ull + i;
            for (size_t j = 0; j < vs; j++)
                p[16 + j] = j < 8 ? (unsigned char)(id >> 8 * j) : (unsigned char)ms_test_rand(&r);
            break;
        }
        case SHAPE_CODES: {
            uint64_t c = i % 50 == 1 ? i - 1 : i;
            uint64_t x = c * 0x9e3779b97f4a7c15ull;
            x ^= x >> 29;
            k.k0 = (x >> 30) % 10000000000ull;
            k.k1 = x % 10000000000ull;
            for (size_t j = 0; j < vs; j++) p[16 + j] = (unsigned char)ms_test_rand(&r);
            break;
        }
        case SHAPE_STRIPES:
            k.k0 = ms_test_rand(&r) & 0x5555555555555555ull;
            k.k1 = ms_test_rand(&r) & 0x0101010101010101ull;
            for (size_t j = 0; j < vs; j++) p[16 + j] = (unsigned char)(ms_test_rand(&r) & 0x81);
            break;
        case SHAPE_COUNT: break;
        }
        memcpy(p, &k, 16);
    }
}

/* Sort a copy with each sort: the same bytes, and (for up to 100k records)
 * in the order qsort gives. */
static void check_sort(const unsigned char *a, size_t n, size_t vs, const char *what)
{
    const size_t rs = 16 + vs;
    unsigned char *ref = malloc(n * rs + 1), *fast = malloc(n * rs + 1), *plain = malloc(n * rs + 1);
    if (!ref || !fast || !plain) {
        free(ref), free(fast), free(plain);
        fail();
        return;
    }
    if (n) {
        memcpy(ref, a, n * rs);
        memcpy(fast, a, n * rs);
        memcpy(plain, a, n * rs);
    }
    assert_int_equal(ms_shuffle_sort(ref, n, vs, MS_SHUFFLE_SORT_REF), MS_OK);
    assert_int_equal(ms_shuffle_sort(fast, n, vs, MS_SHUFFLE_SORT_RADIX), MS_OK);
    g_ref_vs = vs;
    if (n <= 100000) qsort(plain, n, rs, ref_cmp);
    else memcpy(plain, ref, n * rs);
    if (n && (memcmp(ref, plain, n * rs) != 0 || memcmp(fast, ref, n * rs) != 0)) {
        size_t i = 0;
        while (i < n && memcmp(fast + i * rs, ref + i * rs, rs) == 0) i++;
        print_error("%s: n %zu value size %zu: the sorts differ at record %zu (reference %s qsort)\n", what, n, vs,
                    i, memcmp(ref, plain, n * rs) ? "differs from" : "equals");
        fail();
    }
    free(ref), free(fast), free(plain);
}

static const char *shape_name(shape_t sh)
{
    static const char *const names[SHAPE_COUNT] = {"random", "same key", "same record", "extremes", "duplicates",
                                                   "last byte", "one bit", "small keys", "codes", "stripes"};
    return names[sh];
}

/* (7) every shape, value sizes 1..256 (odd ones, ones not a multiple of 8,
 * ones at chunk edges), a range of counts; sorted and reverse-sorted input. */
static void test_sort_shapes(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 31, 33,
                            40, 56, 63, 64, 65, 100, 127, 128, 129, 200, 255, 256};
    const size_t counts[] = {0, 1, 2, 3, 17, 24, 25, 26, 100, 1000, 5000};
    unsigned char *a = malloc(5000 * (16 + 256));
    if (!a) {
        fail();
        return;
    }
    uint64_t seed = 81;
    for (size_t vi = 0; vi < sizeof sizes / sizeof *sizes; vi++) {
        const size_t vs = sizes[vi], rs = 16 + vs;
        for (int sh = 0; sh < SHAPE_COUNT; sh++) {
            for (size_t ci = 0; ci < sizeof counts / sizeof *counts; ci++) {
                const size_t n = counts[ci];
                /* The big counts for a few sizes only: the loop is long. */
                if (n >= 1000 && vi % 4 != 1 && vs != 256) continue;
                fill_records(a, n, vs, (shape_t)sh, seed++);
                check_sort(a, n, vs, shape_name((shape_t)sh));
                if (n < 3) continue;
                /* Already sorted, and reversed. */
                assert_int_equal(ms_shuffle_sort(a, n, vs, MS_SHUFFLE_SORT_REF), MS_OK);
                check_sort(a, n, vs, "sorted");
                unsigned char tmp[16 + 256];
                for (size_t i = 0; i < n / 2; i++) {
                    memcpy(tmp, a + i * rs, rs);
                    memcpy(a + i * rs, a + (n - 1 - i) * rs, rs);
                    memcpy(a + (n - 1 - i) * rs, tmp, rs);
                }
                check_sort(a, n, vs, "reversed");
            }
        }
    }
    free(a);
    /* Bad arguments. */
    unsigned char one[17] = {0};
    assert_int_equal(ms_shuffle_sort(one, 1, 0, MS_SHUFFLE_SORT_RADIX), MS_E_USAGE);
    assert_int_equal(ms_shuffle_sort(one, 1, 257, MS_SHUFFLE_SORT_REF), MS_E_USAGE);
    assert_int_equal(ms_shuffle_sort(NULL, 0, 8, MS_SHUFFLE_SORT_RADIX), MS_OK);
}

/* (8) a million records, the shapes the models emit and random ones. */
static void test_sort_million(void **state)
{
    (void)state;
    const size_t n = 1000000;
    const struct {
        shape_t shape;
        size_t vs;
    } cases[] = {{SHAPE_SMALL_KEYS, 32}, {SHAPE_CODES, 40}, {SHAPE_RANDOM, 8}, {SHAPE_DUPLICATES, 3}};
    unsigned char *a = malloc(n * (16 + 40));
    if (!a) {
        fail();
        return;
    }
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        fill_records(a, n, cases[k].vs, cases[k].shape, 91 + k);
        check_sort(a, n, cases[k].vs, shape_name(cases[k].shape));
    }
    free(a);
}

/* (8) A floor per key: every key with more values than its floor reaches
 * the reducer whole and in order, as without a floor; keys at or under it
 * may (their counter met another key's) but most do not.  Keys are dense
 * (counts 1 to ~12) so many sit under floors of 0..6; 1 and 2 reducing
 * threads, one record each and many per key. */
typedef struct {
    digest_t over[MAXT];
    uint64_t under[MAXT]; /* keys delivered at or under their floor */
    size_t vs;
} floor_ctx_t;

static size_t floor_of(ms_key_t key) { return (size_t)(key.k0 % 7); }

static size_t floor_cb(void *ctx, ms_key_t key)
{
    (void)ctx;
    return floor_of(key);
}

static ms_status_t floor_reducer(void *vctx, int tid, ms_key_t key, const void *values, size_t n)
{
    floor_ctx_t *c = vctx;
    if (n > floor_of(key)) digest_add(&c->over[tid], group_hash(key, values, n, c->vs), n);
    else c->under[tid]++;
    return MS_OK;
}

static void test_floor(void **state)
{
    (void)state;
    char *dir = ms_test_dir("shuffle-floor");
    const size_t n = 200000, vs = 12;
    dataset_t d = make_data(n, vs, 40000, 3, 77);
    assert_non_null(d.keys);
    /* The reference: groups over their floor, from the sorted records. */
    const size_t rs = 16 + vs;
    unsigned char *a = malloc(n * rs), *vals = malloc(n * vs);
    assert_true(a && vals);
    for (size_t i = 0; i < n; i++) {
        memcpy(a + i * rs, &d.keys[i], 16);
        memcpy(a + i * rs + 16, d.vals + i * vs, vs);
    }
    g_ref_vs = vs;
    qsort(a, n, rs, ref_cmp);
    digest_t want = {0};
    uint64_t groups = 0, under = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && memcmp(a + j * rs, a + i * rs, 16) == 0) {
            memcpy(vals + (j - i) * vs, a + j * rs + 16, vs);
            j++;
        }
        ms_key_t key;
        memcpy(&key, a + i * rs, 16);
        groups++;
        if (j - i > floor_of(key)) digest_add(&want, group_hash(key, vals, j - i, vs), j - i);
        else under++;
        i = j;
    }
    free(a);
    free(vals);
    assert_true(under > groups / 4); /* the floor has keys to leave out */
    for (int nt = 1; nt <= 2; nt++) {
        char spill[700];
        snprintf(spill, sizeof spill, "%s/floor%d", dir, nt);
        ms_shuffle_t *s = NULL;
        assert_int_equal(ms_shuffle_create(spill, nt, vs, HUGE_CAP, 0, &s), MS_OK);
        for (size_t i = 0; i < n; i++) assert_int_equal(ms_shuffle_emit(s, (int)(i % (size_t)nt), d.keys[i], d.vals + i * vs), MS_OK);
        floor_ctx_t c;
        memset(&c, 0, sizeof c);
        c.vs = vs;
        assert_int_equal(ms_shuffle_reduce_floor(s, nt, floor_reducer, floor_cb, &c), MS_OK);
        ms_shuffle_free(s);
        digest_t got = {0};
        uint64_t got_under = 0;
        for (int t = 0; t < MAXT; t++) {
            got.keys += c.over[t].keys;
            got.values += c.over[t].values;
            got.sum += c.over[t].sum;
            got.xor ^= c.over[t].xor;
            got_under += c.under[t];
        }
        assert_int_equal(got.keys, want.keys);
        assert_int_equal(got.values, want.values);
        assert_int_equal(got.sum, want.sum);
        assert_int_equal(got.xor, want.xor);
        print_message("  %d thread%s: %llu of %llu keys at or under their floor reached the reducer\n", nt,
                      nt > 1 ? "s" : "", (unsigned long long)got_under, (unsigned long long)under);
        assert_true(got_under < under / 2);
    }
    free_data(&d);
    ms_remove_tree(dir);
    free(dir);
}

static void test_usage(void **state)
{
    fixture_t *fx = *state;
    const char *dir = fx->dir;
    ms_shuffle_t *s = NULL;
    assert_int_equal(ms_shuffle_create(dir, 1, 0, TINY_CAP, 0, &s), MS_E_USAGE);
    assert_int_equal(ms_shuffle_create(dir, 1, 257, TINY_CAP, 0, &s), MS_E_USAGE);
    assert_int_equal(ms_shuffle_create(dir, 0, 8, TINY_CAP, 0, &s), MS_E_USAGE);
    assert_int_equal(ms_shuffle_create(dir, 1, 8, 0, 0, &s), MS_E_USAGE);
    assert_null(s);
    assert_int_equal(ms_shuffle_create(dir, 2, 8, TINY_CAP, 0, &s), MS_OK);
    if (!s) {
        fail();
        return;
    }
    unsigned char v[8] = {1};
    assert_int_equal(ms_shuffle_emit(s, 2, (ms_key_t){1, 2}, v), MS_E_USAGE);
    assert_int_equal(ms_shuffle_emit(s, 1, (ms_key_t){1, 2}, v), MS_OK);
    red_ctx_t *c = fx->c;
    c->vs = 8;
    assert_int_equal(ms_shuffle_reduce(s, 0, reducer, c), MS_OK);
    uint64_t unsorted;
    assert_int_equal(ctx_total(c, &unsorted).keys, 1);
    assert_int_equal(ms_shuffle_emit(s, 1, (ms_key_t){1, 2}, v), MS_E_USAGE);
    assert_int_equal(ms_shuffle_reduce(s, 0, reducer, c), MS_E_USAGE);
    ms_shuffle_free(s);
    ms_shuffle_free(NULL);
    assert_true(ms_is_dir(dir)); /* existed before: kept */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(test_random_exact, "shuffle-exact"),
        FIXTURE_TEST(test_order_once, "shuffle-order"),
        FIXTURE_TEST(test_edges, "shuffle-edges"),
        FIXTURE_TEST(test_peak, "shuffle-peak"),
        FIXTURE_TEST(test_few_descriptors, "shuffle-fds"),
        FIXTURE_TEST(test_unwritable, "shuffle-unwritable"),
        cmocka_unit_test_prestate_setup_teardown(test_full_disk, fixture_setup, full_disk_teardown,
                                                 (char[]){"shuffle-full"}),
        FIXTURE_TEST(test_first_error, "shuffle-error"),
        FIXTURE_TEST(test_usage, "shuffle-usage"),
        cmocka_unit_test(test_sort_shapes),
        cmocka_unit_test(test_sort_million),
        cmocka_unit_test(test_floor),
        FIXTURE_TEST(test_move_buckets, "shuffle_move"),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
