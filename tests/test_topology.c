/*
 * test_topology.c - the machine as hwloc shows it, and the sweep's plan.
 *
 * What must hold: synthetic topologies give the nodes, cores and PUs they
 * describe; the plan uses every core once by default, spreads fewer workers
 * over the nodes in turn, wraps more workers round the cores, homes
 * partitions on nodes in proportion to their workers, and sizes batches to
 * half the L2 within 4096..65536 rows (a power of two); the plan depends on
 * nothing but the topology and the arguments.  A malformed description is a
 * usage error.  On a synthetic topology binding and node-local memory succeed
 * without touching the OS; on this machine they work or binding is refused
 * with MS_E_IO (containers may refuse).  `medsweep topology` runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ms_testutil.h"
#include "ms_topology.h"

static void load(ms_topology_t *t, const char *desc)
{
    ms_status_t st = ms_topology_load(t, desc);
    if (st != MS_OK) print_error("%s: %s\n", desc ? desc : "this machine", ms_error_detail());
    assert_int_equal(st, MS_OK);
}

static void plan(const ms_topology_t *t, int threads, uint32_t nparts, ms_plan_t *p)
{
    assert_int_equal(ms_plan_make(t, threads, nparts, 160, p), MS_OK);
}

/* What ms_topology_print / ms_plan_print write, as a string (caller frees). */
static char *printed(const ms_topology_t *t, const ms_plan_t *p)
{
    FILE *fp = tmpfile();
    assert_non_null(fp);
    ms_topology_print(t, fp);
    if (p) ms_plan_print(t, p, fp);
    long len = ftell(fp);
    assert_true(len > 0);
    rewind(fp);
    char *buf = calloc((size_t)len + 1, 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    return buf;
}

static void test_synthetic_shapes(void **state)
{
    (void)state;
    static const struct {
        const char *desc;
        int nnodes, ncores, pus_per_core;
    } cases[] = {
        {"node:1 core:2 pu:1", 1, 2, 1},
        {"node:2 core:8 pu:1", 2, 16, 1},
        {"node:4 core:4 pu:1", 4, 16, 1},
        {"package:1 node:4 core:4 pu:1", 4, 16, 1},
        {"node:2 core:4 pu:2", 2, 8, 2},
        {"package:2 core:3 pu:4", 1, 6, 4}, /* no NUMA level: one node */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ms_topology_t t;
        load(&t, cases[k].desc);
        assert_int_equal(t.nnodes, cases[k].nnodes);
        assert_int_equal(t.ncores, cases[k].ncores);
        assert_true(t.synthetic);
        assert_string_equal(t.description, cases[k].desc);
        int per_node = cases[k].ncores / cases[k].nnodes;
        for (int c = 0; c < t.ncores; c++) {
            assert_int_equal(t.core_node[c], c / per_node);
            assert_int_equal(t.core_pu[c], c * cases[k].pus_per_core);
        }
        for (int n = 0; n < t.nnodes; n++) assert_true(t.node_memory[n] > 0);
        assert_int_equal(t.l2_bytes, 0); /* no caches in these descriptions */
        assert_int_equal(t.l3_bytes, 0);
        ms_topology_free(&t);
        assert_null(t.core_node);
        assert_null(t.hw);
        ms_topology_free(&t); /* twice is harmless */
    }
}

static void test_synthetic_caches(void **state)
{
    (void)state;
    ms_topology_t t;
    load(&t, "node:2 l3:1(size=32MiB) core:8 l2:1(size=1MiB) pu:1");
    assert_int_equal(t.l2_bytes, 1u << 20);
    assert_int_equal(t.l3_bytes, 32u << 20);
    ms_topology_free(&t);
    /* Only an L3: it is the smallest cache above L1, so it stands for the L2. */
    load(&t, "node:1 l3:1(size=8MiB) core:4 pu:1");
    assert_int_equal(t.l2_bytes, 8u << 20);
    assert_int_equal(t.l3_bytes, 8u << 20);
    ms_topology_free(&t);
}

static void test_batch_rows(void **state)
{
    (void)state;
    static const struct {
        const char *desc;
        size_t row_bytes, rows;
    } cases[] = {
        {"node:1 core:2 pu:1", 160, 16384},                          /* unknown: default */
        {"node:1 core:2 l2:1(size=5MiB) pu:1", 160, 16384},          /* exactly half */
        {"node:1 core:2 l2:1(size=8MiB) pu:1", 160, 16384},          /* 26214 -> 16384 */
        {"node:1 core:2 l2:1(size=1MiB) pu:1", 160, 4096},           /* 3276 -> minimum */
        {"node:1 core:2 l2:1(size=64MiB) pu:1", 160, 65536},         /* 209715 -> maximum */
        {"node:1 core:2 l2:1(size=2MiB) pu:1", 8, 65536},            /* 131072 -> maximum */
        {"node:1 core:2 l2:1(size=2MiB) pu:1", 16, 65536},           /* exactly the maximum */
        {"node:1 core:2 l2:1(size=2MiB) pu:1", 24, 32768},           /* 43690 -> 32768 */
        {"node:1 core:2 l2:1(size=1000000) pu:1", 1, 65536},         /* 500000 -> maximum */
        {"node:1 core:2 l2:1(size=1000000) pu:1", 100000, 4096},     /* 5 -> minimum */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ms_topology_t t;
        ms_plan_t p;
        load(&t, cases[k].desc);
        assert_int_equal(ms_plan_make(&t, 0, 8, cases[k].row_bytes, &p), MS_OK);
        assert_int_equal(p.batch_rows, cases[k].rows);
        assert_int_equal(p.row_bytes, cases[k].row_bytes);
        ms_plan_free(&p);
        ms_topology_free(&t);
    }
    /* Any row size: a power of two in range. */
    ms_topology_t t;
    load(&t, "node:2 core:4 l2:1(size=3MiB) pu:1");
    for (size_t rb = 1; rb < 5000; rb = rb * 3 + 1) {
        ms_plan_t p;
        assert_int_equal(ms_plan_make(&t, 0, 8, rb, &p), MS_OK);
        assert_true(p.batch_rows >= 4096 && p.batch_rows <= 65536);
        assert_int_equal(p.batch_rows & (p.batch_rows - 1), 0);
        assert_true(p.batch_rows == 4096 || p.batch_rows * rb <= t.l2_bytes / 2);
        ms_plan_free(&p);
    }
    ms_topology_free(&t);
}

static void test_plan_every_core_once(void **state)
{
    (void)state;
    static const char *const descs[] = {"node:1 core:2 pu:1", "node:2 core:8 pu:1",
                                        "node:4 core:4 pu:1", "node:2 core:4 pu:2"};
    for (size_t k = 0; k < sizeof descs / sizeof descs[0]; k++) {
        ms_topology_t t;
        ms_plan_t p;
        load(&t, descs[k]);
        plan(&t, 0, 64, &p);
        assert_int_equal(p.nthreads, t.ncores);
        int *seen = calloc((size_t)t.ncores, sizeof *seen);
        for (int i = 0; i < p.nthreads; i++) {
            assert_true(p.thread_core[i] >= 0 && p.thread_core[i] < t.ncores);
            seen[p.thread_core[i]]++;
            assert_int_equal(p.thread_node[i], t.core_node[p.thread_core[i]]);
            assert_int_equal(p.thread_node[i], i % t.nnodes); /* equal nodes: in turn */
        }
        for (int c = 0; c < t.ncores; c++) assert_int_equal(seen[c], 1);
        free(seen);
        ms_plan_free(&p);
        ms_topology_free(&t);
    }
}

static void test_plan_fewer_threads(void **state)
{
    (void)state;
    static const struct {
        const char *desc;
        int threads;
    } cases[] = {
        {"node:2 core:8 pu:1", 1}, {"node:2 core:8 pu:1", 3},  {"node:2 core:8 pu:1", 6},
        {"node:4 core:4 pu:1", 2}, {"node:4 core:4 pu:1", 6},  {"node:4 core:4 pu:1", 15},
        {"node:2 core:4 pu:2", 5}, {"package:1 node:4 core:4 pu:1", 9},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ms_topology_t t;
        ms_plan_t p;
        load(&t, cases[k].desc);
        plan(&t, cases[k].threads, 64, &p);
        assert_int_equal(p.nthreads, cases[k].threads);
        for (int i = 0; i < p.nthreads; i++) {
            assert_int_equal(p.thread_node[i], i % t.nnodes);
            assert_int_equal(t.core_node[p.thread_core[i]], p.thread_node[i]);
            for (int j = 0; j < i; j++) assert_int_not_equal(p.thread_core[i], p.thread_core[j]);
        }
        ms_plan_free(&p);
        ms_topology_free(&t);
    }
    /* The exact order: node 0's first core, node 1's first core, ... */
    ms_topology_t t;
    ms_plan_t p;
    load(&t, "node:2 core:8 pu:1");
    plan(&t, 6, 64, &p);
    static const int want[] = {0, 8, 1, 9, 2, 10};
    for (int i = 0; i < 6; i++) assert_int_equal(p.thread_core[i], want[i]);
    ms_plan_free(&p);
    ms_topology_free(&t);
}

static void test_plan_more_threads_wraps(void **state)
{
    (void)state;
    ms_topology_t t;
    ms_plan_t all, p;
    load(&t, "node:2 core:8 pu:1");
    plan(&t, 0, 64, &all);
    plan(&t, 40, 64, &p);
    assert_int_equal(p.nthreads, 40);
    for (int i = 0; i < 40; i++) {
        assert_int_equal(p.thread_core[i], all.thread_core[i % 16]);
        assert_int_equal(p.thread_node[i], i % 2);
    }
    ms_plan_free(&p);
    ms_plan_free(&all);
    ms_topology_free(&t);

    load(&t, "node:1 core:2 pu:1");
    plan(&t, 5, 64, &p);
    static const int want[] = {0, 1, 0, 1, 0};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(p.thread_core[i], want[i]);
        assert_int_equal(p.thread_node[i], 0);
    }
    ms_plan_free(&p);
    ms_topology_free(&t);
}

static void count_homes(const ms_topology_t *t, const ms_plan_t *p, uint32_t *per_node)
{
    memset(per_node, 0, (size_t)t->nnodes * sizeof *per_node);
    for (uint32_t q = 0; q < p->nparts; q++) {
        assert_true(p->part_node[q] >= 0 && p->part_node[q] < t->nnodes);
        assert_int_equal(p->part_node[q], p->thread_node[q % (uint32_t)p->nthreads]);
        per_node[p->part_node[q]]++;
    }
}

static void test_plan_partition_homes(void **state)
{
    (void)state;
    static const struct {
        const char *desc;
        int threads;
        uint32_t nparts;
        uint32_t want[4];
    } cases[] = {
        {"node:2 core:8 pu:1", 0, 64, {32, 32}},
        {"node:2 core:8 pu:1", 3, 64, {43, 21}},   /* workers on nodes 0,1,0 */
        {"node:2 core:8 pu:1", 40, 64, {32, 32}},
        {"node:2 core:8 pu:1", 0, 7, {4, 3}},
        {"node:4 core:4 pu:1", 0, 64, {16, 16, 16, 16}},
        {"node:4 core:4 pu:1", 6, 64, {21, 21, 11, 11}}, /* workers on nodes 0,1,2,3,0,1 */
        {"node:4 core:4 pu:1", 0, 3, {1, 1, 1, 0}},
        {"node:1 core:2 pu:1", 0, 64, {64}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ms_topology_t t;
        ms_plan_t p;
        uint32_t got[4];
        load(&t, cases[k].desc);
        plan(&t, cases[k].threads, cases[k].nparts, &p);
        assert_int_equal(p.nparts, cases[k].nparts);
        count_homes(&t, &p, got);
        for (int n = 0; n < t.nnodes; n++) assert_int_equal(got[n], cases[k].want[n]);
        ms_plan_free(&p);
        ms_topology_free(&t);
    }
}

static void test_plan_deterministic(void **state)
{
    (void)state;
    ms_topology_t t1, t2;
    ms_plan_t a, b;
    load(&t1, "package:1 node:4 core:4 pu:2");
    load(&t2, "package:1 node:4 core:4 pu:2");
    plan(&t1, 11, 1000, &a);
    plan(&t2, 11, 1000, &b);
    assert_memory_equal(a.thread_core, b.thread_core, 11 * sizeof(int));
    assert_memory_equal(a.thread_node, b.thread_node, 11 * sizeof(int));
    assert_memory_equal(a.part_node, b.part_node, 1000 * sizeof(int));
    assert_int_equal(a.batch_rows, b.batch_rows);
    char *s1 = printed(&t1, &a), *s2 = printed(&t2, &b);
    assert_string_equal(s1, s2);
    free(s1);
    free(s2);
    ms_plan_free(&a);
    ms_plan_free(&b);
    ms_plan_free(&b); /* twice is harmless */
    ms_topology_free(&t1);
    ms_topology_free(&t2);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    static const char *const bad[] = {"bogus:3", "node:2 core:x pu:1", "node:2 core:8", "node:2 core:8 pu:1 node:2",
                                      "node:0 core:1 pu:1"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ms_topology_t t;
        assert_int_equal(ms_topology_load(&t, bad[k]), MS_E_USAGE);
        assert_non_null(strstr(ms_error_detail(), bad[k]));
        assert_null(t.hw);
        ms_topology_free(&t);
    }
    ms_topology_t t;
    ms_plan_t p;
    load(&t, "node:2 core:2 pu:1");
    assert_int_equal(ms_plan_make(&t, -1, 8, 160, &p), MS_E_USAGE);
    assert_int_equal(ms_plan_make(&t, 0, 8, 0, &p), MS_E_USAGE);
    assert_null(p.thread_core);
    assert_int_equal(ms_plan_make(&t, 0, 0, 160, &p), MS_OK); /* nothing to place is fine */
    assert_int_equal(p.nparts, 0);
    ms_plan_free(&p);
    ms_topology_free(&t);
}

static void test_synthetic_bind_alloc(void **state)
{
    (void)state;
    ms_topology_t t;
    load(&t, "node:2 core:8 pu:1");
    for (int c = 0; c < t.ncores; c++) assert_int_equal(ms_topology_bind_thread(&t, c), MS_OK);
    assert_int_equal(ms_topology_bind_thread(&t, -1), MS_E_USAGE);
    assert_int_equal(ms_topology_bind_thread(&t, t.ncores), MS_E_USAGE);
    for (int n = 0; n < t.nnodes; n++) {
        size_t bytes = 3u << 20;
        unsigned char *m = ms_topology_alloc(&t, n, bytes);
        assert_non_null(m);
        memset(m, 0xa5, bytes);
        assert_int_equal(m[bytes - 1], 0xa5);
        ms_topology_free_mem(&t, m, bytes);
    }
    void *z = ms_topology_alloc(&t, 0, 0);
    assert_non_null(z);
    ms_topology_free_mem(&t, z, 0);
    assert_null(ms_topology_alloc(&t, 2, 64));
    assert_null(ms_topology_alloc(&t, -1, 64));
    ms_topology_free_mem(&t, NULL, 64);
    ms_topology_free(&t);
}

static void test_this_machine(void **state)
{
    (void)state;
    ms_topology_t t;
    load(&t, NULL);
    assert_true(t.ncores >= 1);
    assert_true(t.nnodes >= 1);
    assert_false(t.synthetic);
    for (int c = 0; c < t.ncores; c++) {
        assert_true(t.core_node[c] >= 0 && t.core_node[c] < t.nnodes);
        assert_true(t.core_pu[c] >= 0);
    }
    ms_status_t st = ms_topology_bind_thread(&t, 0);
    if (st != MS_OK) {
        assert_int_equal(st, MS_E_IO);
        print_message("binding refused here (fine): %s\n", ms_error_detail());
    }
    for (int n = 0; n < t.nnodes; n++) {
        size_t bytes = (1u << 20) + 17;
        unsigned char *m = ms_topology_alloc(&t, n, bytes);
        assert_non_null(m);
        memset(m, 0x5a, bytes);
        assert_int_equal(m[0] + m[bytes - 1], 0xb4);
        ms_topology_free_mem(&t, m, bytes);
    }
    ms_plan_t p;
    plan(&t, 0, 64, &p);
    assert_int_equal(p.nthreads, t.ncores);
    assert_true(p.batch_rows >= 4096 && p.batch_rows <= 65536);
    char *s = printed(&t, &p);
    assert_non_null(strstr(s, "NUMA nodes: "));
    assert_non_null(strstr(s, "batch: "));
    free(s);
    ms_plan_free(&p);
    ms_topology_free(&t);
}

static void test_print_two_nodes(void **state)
{
    (void)state;
    ms_topology_t t;
    ms_plan_t p;
    load(&t, "node:2 core:8 pu:1");
    plan(&t, 0, 64, &p);
    char *s = printed(&t, &p);
    assert_non_null(strstr(s, "NUMA nodes: 2"));
    const char *plan_text = strstr(s, "plan: 16 threads");
    assert_non_null(plan_text);
    assert_non_null(strstr(plan_text, "node 0: 8 threads, home to 32 of 64 partitions (0, 2, 4,"));
    assert_non_null(strstr(plan_text, "node 1: 8 threads, home to 32 of 64 partitions (1, 3, 5,"));
    assert_non_null(strstr(plan_text, "cache size unknown: default"));
    free(s);
    ms_plan_free(&p);
    ms_topology_free(&t);

    load(&t, "node:1 core:2 l2:1(size=5MiB) pu:1");
    plan(&t, 0, 64, &p);
    s = printed(&t, &p);
    assert_non_null(strstr(s, "16384 rows x 160 B = 2.5 MiB ~ half of 5 MiB L2"));
    free(s);
    ms_plan_free(&p);
    ms_topology_free(&t);
}

static void test_command(void **state)
{
    (void)state;
    char *out = NULL;
    ms_test_cli_ok(&out, "topology");
    assert_non_null(strstr(out, "NUMA nodes"));
    assert_non_null(strstr(out, "plan: "));
    free(out);

    assert_int_equal(ms_test_cli(&out, "topology --synthetic 'node:2 core:8 pu:1' --threads 3 --partitions 64"), 0);
    assert_non_null(strstr(out, "NUMA nodes: 2"));
    assert_non_null(strstr(out, "node 0: 2 threads, home to 43 of 64 partitions"));
    assert_non_null(strstr(out, "node 1: 1 thread, home to 21 of 64 partitions"));
    free(out);

    assert_int_equal(ms_test_cli(&out, "topology --help"), 0);
    assert_non_null(strstr(out, "--synthetic"));
    free(out);

    static const char *const bad[] = {"--synthetic bogus:3", "--threads 0", "--partitions x",
                                      "--row-bytes 0", "extra"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(ms_test_cli(&out, "topology %s", bad[k]), 2);
        assert_non_null(strstr(out, "--help"));
        free(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synthetic_shapes),     cmocka_unit_test(test_synthetic_caches),
        cmocka_unit_test(test_batch_rows),           cmocka_unit_test(test_plan_every_core_once),
        cmocka_unit_test(test_plan_fewer_threads),   cmocka_unit_test(test_plan_more_threads_wraps),
        cmocka_unit_test(test_plan_partition_homes), cmocka_unit_test(test_plan_deterministic),
        cmocka_unit_test(test_bad_arguments),        cmocka_unit_test(test_synthetic_bind_alloc),
        cmocka_unit_test(test_this_machine),         cmocka_unit_test(test_print_two_nodes),
        cmocka_unit_test(test_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
