/*
 * ms_topology.c - the machine through hwloc, and the plan for using it.
 *
 * Design:
 *  - Loading copies what the sweep needs out of hwloc into plain arrays
 *    (cores, their NUMA node and first PU, node memory, L2/L3 sizes), so that
 *    ms_plan_make is a pure function of those arrays and its arguments: the
 *    same topology and arguments always give the same plan, and a synthetic
 *    description gives exactly the plan the real machine would get.
 *  - Nodes and cores are numbered by hwloc's logical order.  A core's node is
 *    the NUMA node whose cpuset contains the core's cpuset: in hwloc 2 NUMA
 *    nodes are memory children, not ancestors, of the cores they serve.
 *  - Workers go to nodes in turn (node 0, node 1, ..., node 0, ...), taking
 *    each node's cores in order and skipping nodes whose cores are used up,
 *    then wrap round when there are more workers than cores.  Partition p's
 *    home is worker (p mod nthreads)'s node, so node shares follow worker
 *    shares.
 *  - Binding and node-local memory touch the OS only for this machine's
 *    topology; on a synthetic one they succeed without doing anything
 *    (memory from malloc).  Binding and allocation only read the topology,
 *    which hwloc allows from several threads at once.
 */
#include "ms_topology.h"

#include <errno.h>
#include <hwloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS_BATCH_MIN_ROWS 4096u
#define MS_BATCH_MAX_ROWS 65536u
#define MS_BATCH_DEFAULT_ROWS 16384u

static hwloc_topology_t topo_of(const ms_topology_t *t)
{
    return (hwloc_topology_t)t->hw;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* The cache objects above core 0's first PU: the L2 (or, without one, the
 * lowest cache above L1) and the L3. */
static void read_caches(hwloc_topology_t topo, hwloc_obj_t core, size_t *l2, size_t *l3)
{
    *l2 = 0;
    *l3 = 0;
    unsigned l2_depth = 0;
    if (!core) return;
    hwloc_obj_t pu = hwloc_get_obj_inside_cpuset_by_type(topo, core->cpuset, HWLOC_OBJ_PU, 0);
    for (hwloc_obj_t o = pu ? pu : core; o; o = o->parent) {
        if (!hwloc_obj_type_is_cache(o->type) || hwloc_obj_type_is_icache(o->type) || !o->attr) continue;
        unsigned depth = o->attr->cache.depth;
        size_t size = (size_t)o->attr->cache.size;
        if (depth >= 2 && size && (!l2_depth || depth < l2_depth)) {
            l2_depth = depth;
            *l2 = size;
        }
        if (depth == 3 && size) *l3 = size;
    }
}

/* The index of the NUMA node serving a core: the node whose cpuset contains
 * the core's, else the first that shares a PU with it, else node 0. */
static int node_of_core(hwloc_topology_t topo, int nnodes, hwloc_obj_t core)
{
    int shared = -1;
    for (int i = 0; i < nnodes; i++) {
        hwloc_obj_t node = hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, (unsigned)i);
        if (!node || !node->cpuset) continue;
        if (hwloc_bitmap_isincluded(core->cpuset, node->cpuset)) return i;
        if (shared < 0 && hwloc_bitmap_intersects(core->cpuset, node->cpuset)) shared = i;
    }
    return shared >= 0 ? shared : 0;
}

/* Keep only this process's share of the cores: cores [share * n / nshares,
 * (share + 1) * n / nshares), or core share % n when there are fewer cores
 * than shares. */
static int restrict_to_share(hwloc_topology_t topo, int share, int nshares)
{
    hwloc_obj_type_t type = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
    int n = hwloc_get_nbobjs_by_type(topo, type);
    if (n <= 0) return 0;
    int lo = (int)((long)share * n / nshares), hi = (int)((long)(share + 1) * n / nshares);
    if (hi <= lo) lo = share % n, hi = lo + 1;
    hwloc_bitmap_t keep = hwloc_bitmap_alloc();
    if (!keep) return -1;
    for (int i = lo; i < hi; i++) {
        hwloc_obj_t core = hwloc_get_obj_by_type(topo, type, (unsigned)i);
        if (core && core->cpuset) hwloc_bitmap_or(keep, keep, core->cpuset);
    }
    int rc = hwloc_topology_restrict(topo, keep, HWLOC_RESTRICT_FLAG_REMOVE_CPULESS);
    hwloc_bitmap_free(keep);
    return rc;
}

ms_status_t ms_topology_load(ms_topology_t *t, const char *synthetic)
{
    return ms_topology_load_share(t, synthetic, 0, 1);
}

ms_status_t ms_topology_load_share(ms_topology_t *t, const char *synthetic, int share, int nshares)
{
    if (!t) return ms_error_set(MS_E_USAGE, "ms_topology_load: no topology to fill");
    memset(t, 0, sizeof *t);

    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) != 0)
        return ms_error_errno(MS_E_NOMEM, errno, "topology: hwloc could not start");
    if (synthetic) {
        if (hwloc_topology_set_synthetic(topo, synthetic) != 0) {
            hwloc_topology_destroy(topo);
            return ms_error_set(MS_E_USAGE,
                                "synthetic topology '%s' is not a valid hwloc description "
                                "(e.g. \"node:2 core:8 pu:1\")",
                                synthetic);
        }
    }
    if (hwloc_topology_load(topo) != 0) {
        int err = errno;
        hwloc_topology_destroy(topo);
        if (synthetic)
            return ms_error_set(MS_E_USAGE, "synthetic topology '%s' could not be built", synthetic);
        return ms_error_errno(MS_E_IO, err, "topology: hwloc could not read this machine");
    }
    /* This machine: only the PUs the process may run on.  hwloc already
     * leaves out what the cgroup forbids; the affinity mask it does not. */
    int restricted = 0;
    if (!synthetic) {
        hwloc_bitmap_t bound = hwloc_bitmap_alloc();
        hwloc_const_cpuset_t all = hwloc_topology_get_topology_cpuset(topo);
        if (bound && hwloc_get_cpubind(topo, bound, HWLOC_CPUBIND_PROCESS) == 0) {
            hwloc_bitmap_and(bound, bound, all);
            if (!hwloc_bitmap_iszero(bound) && !hwloc_bitmap_isequal(bound, all)) {
                if (hwloc_topology_restrict(topo, bound, HWLOC_RESTRICT_FLAG_REMOVE_CPULESS) != 0) {
                    int err = errno;
                    hwloc_bitmap_free(bound);
                    hwloc_topology_destroy(topo);
                    return ms_error_errno(MS_E_IO, err,
                                          "topology: hwloc could not restrict this machine to the CPUs the "
                                          "process may use");
                }
                restricted = 1;
            }
        }
        hwloc_bitmap_free(bound);
        if (nshares > 1 && share >= 0 && share < nshares) {
            if (restrict_to_share(topo, share, nshares) != 0) {
                int err = errno;
                hwloc_topology_destroy(topo);
                return ms_error_errno(MS_E_IO, err, "topology: hwloc could not keep share %d of %d of the cores",
                                      share, nshares);
            }
            restricted = 1;
            t->shares = nshares;
        }
    }
    t->hw = topo;
    t->synthetic = synthetic != NULL;
    t->restricted = restricted;
    char *cpus = NULL;
    if (hwloc_bitmap_list_asprintf(&cpus, hwloc_topology_get_topology_cpuset(topo)) < 0 || !cpus) {
        free(cpus);
        ms_topology_free(t);
        return ms_error_set(MS_E_NOMEM, "topology: out of memory");
    }
    t->cpus = cpus;

    hwloc_obj_type_t core_type = HWLOC_OBJ_CORE;
    int ncores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    if (ncores <= 0) {
        core_type = HWLOC_OBJ_PU;
        ncores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
    }
    if (ncores <= 0) {
        ms_topology_free(t);
        return ms_error_set(MS_E_INTERNAL, "topology %s has no cores and no PUs",
                            synthetic ? synthetic : "of this machine");
    }
    int numa = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
    int nnodes = numa > 0 ? numa : 1;

    t->nnodes = nnodes;
    t->ncores = ncores;
    t->core_node = calloc((size_t)ncores, sizeof *t->core_node);
    t->core_pu = calloc((size_t)ncores, sizeof *t->core_pu);
    t->node_memory = calloc((size_t)nnodes, sizeof *t->node_memory);
    t->description = dup_str(synthetic ? synthetic : "this machine");
    if (!t->core_node || !t->core_pu || !t->node_memory || !t->description) {
        ms_topology_free(t);
        return ms_error_set(MS_E_NOMEM, "topology: out of memory for %d cores", ncores);
    }

    for (int i = 0; i < ncores; i++) {
        hwloc_obj_t core = hwloc_get_obj_by_type(topo, core_type, (unsigned)i);
        if (!core || !core->cpuset) {
            ms_topology_free(t);
            return ms_error_set(MS_E_INTERNAL, "topology: core %d has no cpuset", i);
        }
        int first = hwloc_bitmap_first(core->cpuset);
        t->core_pu[i] = first >= 0 ? first : (int)core->os_index;
        t->core_node[i] = numa > 0 ? node_of_core(topo, numa, core) : 0;
    }
    if (numa > 0) {
        for (int i = 0; i < numa; i++) {
            hwloc_obj_t node = hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, (unsigned)i);
            t->node_memory[i] = node && node->attr ? node->attr->numanode.local_memory : 0;
        }
    } else {
        t->node_memory[0] = hwloc_get_root_obj(topo)->total_memory;
    }

    read_caches(topo, hwloc_get_obj_by_type(topo, core_type, 0), &t->l2_bytes, &t->l3_bytes);
    return MS_OK;
}

void ms_topology_free(ms_topology_t *t)
{
    if (!t) return;
    if (t->hw) hwloc_topology_destroy(topo_of(t));
    free(t->core_node);
    free(t->core_pu);
    free(t->node_memory);
    free(t->description);
    free(t->cpus);
    memset(t, 0, sizeof *t);
}

int ms_topology_default_threads(const ms_topology_t *t)
{
    const char *env = getenv("OMP_NUM_THREADS");
    if (env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (end != env && (*end == '\0' || *end == ',') && v > 0 && v <= 4096) return (int)v;
    }
    return t && t->ncores > 0 ? t->ncores : 1;
}

/* Rows per batch so that rows x row_bytes is about half of l2: the largest
 * power of two not above it, within MIN..MAX.  *bound is -1 when raised to
 * the minimum, +1 when cut to the maximum, 0 otherwise. */
static size_t batch_rows_for(size_t l2, size_t row_bytes, int *bound)
{
    *bound = 0;
    if (!l2) return MS_BATCH_DEFAULT_ROWS;
    size_t target = l2 / 2 / row_bytes;
    if (target < MS_BATCH_MIN_ROWS) {
        *bound = -1;
        return MS_BATCH_MIN_ROWS;
    }
    if (target > MS_BATCH_MAX_ROWS) {
        *bound = 1;
        return MS_BATCH_MAX_ROWS;
    }
    size_t rows = MS_BATCH_MIN_ROWS;
    while (rows * 2 <= target) rows *= 2;
    return rows;
}

ms_status_t ms_plan_make(const ms_topology_t *t, int threads, uint32_t nparts, size_t row_bytes,
                         ms_plan_t *plan)
{
    if (!plan) return ms_error_set(MS_E_USAGE, "ms_plan_make: no plan to fill");
    memset(plan, 0, sizeof *plan);
    if (!t || t->ncores < 1 || t->nnodes < 1 || !t->core_node)
        return ms_error_set(MS_E_USAGE, "ms_plan_make: the topology is not loaded");
    if (threads < 0) return ms_error_set(MS_E_USAGE, "ms_plan_make: %d threads", threads);
    if (row_bytes == 0) return ms_error_set(MS_E_USAGE, "ms_plan_make: rows of 0 bytes");
    for (int c = 0; c < t->ncores; c++)
        if (t->core_node[c] < 0 || t->core_node[c] >= t->nnodes)
            return ms_error_set(MS_E_INTERNAL, "topology: core %d on node %d of %d", c,
                                t->core_node[c], t->nnodes);

    int ncores = t->ncores, nnodes = t->nnodes;
    int nthreads = threads ? threads : ncores;
    /* order[k]: the core the k-th worker (mod ncores) runs on. */
    int *order = malloc((size_t)ncores * sizeof *order);
    int *next = calloc((size_t)nnodes, sizeof *next); /* next core index to scan, per node */
    plan->thread_core = malloc((size_t)nthreads * sizeof *plan->thread_core);
    plan->thread_node = malloc((size_t)nthreads * sizeof *plan->thread_node);
    plan->part_node = nparts ? malloc((size_t)nparts * sizeof *plan->part_node) : NULL;
    if (!order || !next || !plan->thread_core || !plan->thread_node || (nparts && !plan->part_node)) {
        free(order);
        free(next);
        ms_plan_free(plan);
        return ms_error_set(MS_E_NOMEM, "plan: out of memory for %d threads and %u partitions",
                            nthreads, nparts);
    }

    int placed = 0;
    while (placed < ncores) {
        for (int n = 0; n < nnodes && placed < ncores; n++) {
            while (next[n] < ncores && t->core_node[next[n]] != n) next[n]++;
            if (next[n] < ncores) order[placed++] = next[n]++;
        }
    }
    for (int i = 0; i < nthreads; i++) {
        plan->thread_core[i] = order[i % ncores];
        plan->thread_node[i] = t->core_node[plan->thread_core[i]];
    }
    for (uint32_t p = 0; p < nparts; p++)
        plan->part_node[p] = plan->thread_node[p % (uint32_t)nthreads];
    free(order);
    free(next);

    int bound;
    plan->nthreads = nthreads;
    plan->nparts = nparts;
    plan->row_bytes = row_bytes;
    plan->batch_rows = batch_rows_for(t->l2_bytes, row_bytes, &bound);
    return MS_OK;
}

void ms_plan_free(ms_plan_t *plan)
{
    if (!plan) return;
    free(plan->thread_core);
    free(plan->thread_node);
    free(plan->part_node);
    memset(plan, 0, sizeof *plan);
}

/* "2.5 MiB", "640 KiB", "160 B": the largest binary unit, one decimal
 * unless whole. */
static const char *fmt_bytes(char *buf, size_t cap, uint64_t bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024.0;
        u++;
    }
    double tenths = (double)(uint64_t)(v * 10.0 + 0.5);
    if ((uint64_t)tenths % 10 == 0)
        snprintf(buf, cap, "%llu %s", (unsigned long long)tenths / 10, units[u]);
    else
        snprintf(buf, cap, "%.1f %s", tenths / 10.0, units[u]);
    return buf;
}

/* Append to buf (NUL-terminated, capacity cap) without overflowing; output
 * that does not fit ends in "...". */
static void append(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n >= cap - len && cap >= 4) memcpy(buf + cap - 4, "...", 4);
}

/* v[0..n) as runs: "0-7,9,12-13" ("none" when n is 0). */
static void fmt_ranges(char *buf, size_t cap, const int *v, int n)
{
    buf[0] = '\0';
    int i = 0, any = 0;
    while (i < n) {
        int j = i;
        while (j + 1 < n && v[j + 1] == v[j] + 1) j++;
        if (j == i)
            append(buf, cap, "%s%d", any ? "," : "", v[i]);
        else
            append(buf, cap, "%s%d-%d", any ? "," : "", v[i], v[j]);
        any = 1;
        i = j + 1;
    }
    if (!any) append(buf, cap, "none");
}

void ms_topology_print(const ms_topology_t *t, FILE *fp)
{
    char a[64], list[256], pus[256];
    if (!t || !fp || t->ncores < 1) return;
    if (t->synthetic)
        fprintf(fp, "topology: synthetic \"%s\" (planned for, not bound to)\n", t->description);
    else
        fprintf(fp, "topology: %s\n", t->description ? t->description : "this machine");
    if (!t->synthetic)
        fprintf(fp, "CPUs this process may use: %s%s\n", t->cpus ? t->cpus : "?",
                t->shares > 1 ? " (its share of CPUs given to several ranks: the machine has more)"
                : t->restricted ? " (its affinity mask: the machine has more)" : "");
    fprintf(fp, "NUMA nodes: %d\n", t->nnodes);

    int *idx = malloc((size_t)t->ncores * sizeof *idx);
    int *pu = malloc((size_t)t->ncores * sizeof *pu);
    if (!idx || !pu) {
        free(idx);
        free(pu);
        return;
    }
    for (int n = 0; n < t->nnodes; n++) {
        int k = 0;
        for (int c = 0; c < t->ncores; c++)
            if (t->core_node[c] == n) {
                idx[k] = c;
                pu[k] = t->core_pu[c];
                k++;
            }
        fmt_ranges(list, sizeof list, idx, k);
        fmt_ranges(pus, sizeof pus, pu, k);
        fprintf(fp, "  node %d: %d core%s (%s), bound via PU%s %s, memory %s\n", n, k,
                k == 1 ? "" : "s", list, k == 1 ? "" : "s", pus,
                t->node_memory[n] ? fmt_bytes(a, sizeof a, t->node_memory[n]) : "unknown");
    }
    free(idx);
    free(pu);

    int npus = t->hw ? hwloc_get_nbobjs_by_type(topo_of(t), HWLOC_OBJ_PU) : 0;
    if (npus > t->ncores)
        fprintf(fp, "cores: %d (%d PUs: %d per core; a worker binds to its core's first PU)\n",
                t->ncores, npus, npus / t->ncores);
    else
        fprintf(fp, "cores: %d\n", t->ncores);
    fprintf(fp, "L2 per core: %s\n", t->l2_bytes ? fmt_bytes(a, sizeof a, t->l2_bytes) : "unknown");
    fprintf(fp, "L3: %s\n", t->l3_bytes ? fmt_bytes(a, sizeof a, t->l3_bytes) : "none or unknown");
}

static int digits(int v)
{
    int d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

#define MS_PLAN_PRINT_THREADS 64
#define MS_PLAN_PRINT_PARTS 8

void ms_plan_print(const ms_topology_t *t, const ms_plan_t *plan, FILE *fp)
{
    char a[64], b[64];
    if (!t || !plan || !fp || t->nnodes < 1) return;
    fprintf(fp, "plan: %d thread%s on %d core%s, %u partition%s, %s per row\n", plan->nthreads,
            plan->nthreads == 1 ? "" : "s", t->ncores, t->ncores == 1 ? "" : "s", plan->nparts,
            plan->nparts == 1 ? "" : "s", fmt_bytes(a, sizeof a, plan->row_bytes));
    if (plan->nthreads > t->ncores)
        fprintf(fp, "  (more threads than cores: the order below wraps round, cores are shared)\n");

    int shown = plan->nthreads < MS_PLAN_PRINT_THREADS ? plan->nthreads : MS_PLAN_PRINT_THREADS;
    int wt = digits(shown - 1), wc = digits(t->ncores - 1);
    for (int i = 0; i < shown; i++) {
        int core = plan->thread_core[i];
        fprintf(fp, "  thread %*d -> core %*d (PU %d), node %d\n", wt, i, wc, core, t->core_pu[core],
                plan->thread_node[i]);
    }
    if (shown < plan->nthreads)
        fprintf(fp, "  ... %d more threads, continuing the same order\n", plan->nthreads - shown);

    for (int n = 0; n < t->nnodes; n++) {
        int workers = 0;
        for (int i = 0; i < plan->nthreads; i++) workers += plan->thread_node[i] == n;
        uint32_t home = 0;
        for (uint32_t p = 0; p < plan->nparts; p++) home += plan->part_node[p] == n;
        fprintf(fp, "  node %d: %d thread%s, home to %u of %u partitions", n, workers,
                workers == 1 ? "" : "s", home, plan->nparts);
        if (home) {
            uint32_t listed = 0;
            fputs(" (", fp);
            for (uint32_t p = 0; p < plan->nparts && listed < MS_PLAN_PRINT_PARTS; p++)
                if (plan->part_node[p] == n) fprintf(fp, "%s%u", listed++ ? ", " : "", p);
            fputs(home > listed ? ", ...)" : ")", fp);
        }
        fputc('\n', fp);
    }

    int bound;
    batch_rows_for(t->l2_bytes, plan->row_bytes, &bound);
    fmt_bytes(a, sizeof a, (uint64_t)plan->batch_rows * plan->row_bytes);
    if (!t->l2_bytes) {
        fprintf(fp, "batch: %zu rows x %zu B = %s (cache size unknown: default)\n",
                plan->batch_rows, plan->row_bytes, a);
        return;
    }
    fmt_bytes(b, sizeof b, t->l2_bytes);
    fprintf(fp, "batch: %zu rows x %zu B = %s ~ half of %s L2", plan->batch_rows, plan->row_bytes, a, b);
    if (bound)
        fprintf(fp, " (%s the %s-row %s: half the L2 holds %zu rows)", bound < 0 ? "raised to" : "cut to",
                bound < 0 ? "4096" : "65536", bound < 0 ? "minimum" : "maximum",
                t->l2_bytes / 2 / plan->row_bytes);
    fputc('\n', fp);
}

ms_status_t ms_topology_bind_thread(const ms_topology_t *t, int core)
{
    if (!t || !t->hw) return ms_error_set(MS_E_USAGE, "bind: the topology is not loaded");
    if (core < 0 || core >= t->ncores)
        return ms_error_set(MS_E_USAGE, "bind: core %d, the machine has %d", core, t->ncores);
    if (t->synthetic) return MS_OK;
    hwloc_topology_t topo = topo_of(t);
    hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(topo, (unsigned)t->core_pu[core]);
    if (!pu || !pu->cpuset)
        return ms_error_set(MS_E_INTERNAL, "bind: no PU %d for core %d", t->core_pu[core], core);
    if (hwloc_set_cpubind(topo, pu->cpuset, HWLOC_CPUBIND_THREAD) != 0)
        return ms_error_errno(MS_E_IO, errno, "bind: the OS refused to pin this thread to core %d (PU %d)",
                              core, t->core_pu[core]);
    return MS_OK;
}

/* Allocation sizes of 0 are taken as 1 both ways, so alloc and free agree. */
void *ms_topology_alloc(const ms_topology_t *t, int node, size_t bytes)
{
    if (!t || !t->hw) {
        ms_error_set(MS_E_USAGE, "alloc: the topology is not loaded");
        return NULL;
    }
    if (node < 0 || node >= t->nnodes) {
        ms_error_set(MS_E_USAGE, "alloc: node %d, the machine has %d", node, t->nnodes);
        return NULL;
    }
    if (!bytes) bytes = 1;
    void *p;
    if (t->synthetic) {
        p = malloc(bytes);
    } else {
        hwloc_topology_t topo = topo_of(t);
        hwloc_obj_t obj = hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, (unsigned)node);
        p = obj && obj->nodeset ? hwloc_alloc_membind(topo, bytes, obj->nodeset, HWLOC_MEMBIND_BIND,
                                                      HWLOC_MEMBIND_BYNODESET)
                                : NULL;
        if (!p) p = hwloc_alloc(topo, bytes); /* pairs with hwloc_free as well */
    }
    if (!p) ms_error_set(MS_E_NOMEM, "alloc: %zu bytes on node %d", bytes, node);
    return p;
}

void ms_topology_free_mem(const ms_topology_t *t, void *p, size_t bytes)
{
    if (!p || !t) return;
    if (t->synthetic || !t->hw)
        free(p);
    else
        hwloc_free(topo_of(t), p, bytes ? bytes : 1);
}

void ms_topology_hwloc_version(char *out, size_t cap)
{
    unsigned hv = hwloc_get_api_version();
    snprintf(out, cap, "%u.%u.%u", hv >> 16, (hv >> 8) & 0xff, hv & 0xff);
}
