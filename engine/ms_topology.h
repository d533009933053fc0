/*
 * ms_topology.h - the machine as the sweep sees it (hwloc), and the plan
 * for using it: which core each worker runs on, which NUMA node each
 * partition lives on, how many rows a batch holds.
 *
 * A topology is read from this machine, or built from an hwloc synthetic
 * description ("node:2 core:8 pu:1") to plan for and test machines we do not
 * have; on a synthetic topology nothing is bound and memory comes from
 * malloc, but the plan is the one the real machine would get.
 */
#ifndef MS_TOPOLOGY_H
#define MS_TOPOLOGY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ms_status.h"

typedef struct {
    int nnodes;              /* NUMA nodes, at least 1 */
    int ncores;              /* cores, at least 1 */
    int *core_node;          /* [ncores] NUMA node of each core */
    int *core_pu;            /* [ncores] OS index of the core's first PU (to bind to) */
    uint64_t *node_memory;   /* [nnodes] bytes, 0 when unknown */
    size_t l2_bytes;         /* per-core L2 (or the smallest cache above L1), 0 unknown */
    size_t l3_bytes;         /* last-level cache of a node, 0 unknown */
    int synthetic;           /* built from a description: bind and membind are no-ops */
    char *description;       /* "this machine" or the synthetic string */
    char *cpus;              /* the PUs the process may use, as a list ("0-3,8"): this
                                machine's cores are only those of its affinity mask
                                (taskset, Slurm, mpirun's binding) and cgroup */
    int restricted;          /* the affinity mask (or a share) left out some of the machine's PUs */
    int shares;              /* the cores were shared among this many processes (0, 1: not) */
    void *hw;                /* hwloc_topology_t */
} ms_topology_t;

/* Load this machine's topology (synthetic == NULL) or a synthetic one.  A
 * malformed description is MS_E_USAGE naming it.  This machine's topology
 * holds only the cores the process may run on: the ones in its affinity
 * mask (as taskset, Slurm and mpirun set it) and its cgroup, so that a sweep
 * never plans or pins a worker outside its allocation. */
ms_status_t ms_topology_load(ms_topology_t *t, const char *synthetic);
/* The same, keeping only share `share` of `nshares` equal shares of the
 * allocation's cores (contiguous, at least one core each): for processes
 * that were given the same CPUs, such as MPI ranks on one node started
 * without binding, so that their workers do not pile onto the same cores.
 * nshares <= 1, or a synthetic topology: as ms_topology_load. */
ms_status_t ms_topology_load_share(ms_topology_t *t, const char *synthetic, int share, int nshares);
void ms_topology_free(ms_topology_t *t);

/* The version of hwloc as linked ("2.9.0"), for run.json. */
void ms_topology_hwloc_version(char *out, size_t cap);

typedef struct {
    int nthreads;
    int *thread_core;        /* [nthreads] core index of each worker */
    int *thread_node;        /* [nthreads] its NUMA node */
    uint32_t nparts;
    int *part_node;          /* [nparts] home node of each partition */
    size_t batch_rows;       /* rows per batch for the columns being read */
    size_t row_bytes;        /* decoded bytes per row of those columns */
} ms_plan_t;

/* The workers a sweep runs when not told (--threads): OMP_NUM_THREADS when it
 * is set to a positive number (its first, for a nested list), else one per
 * core of t (the cores of the allocation). */
int ms_topology_default_threads(const ms_topology_t *t);

/* Plan a sweep: threads (0 = one per core; more than the cores is allowed
 * and wraps around), nparts partitions, row_bytes decoded per row.  Workers
 * are spread over the nodes in turn, so every node's memory is used; each
 * partition's home is the node of worker (p mod nthreads), so nodes get
 * partitions in proportion to their workers; a batch is sized so that its
 * decoded columns take half of the L2 cache (4096..65536 rows, a power of
 * two; 16384 when the cache size is unknown). */
ms_status_t ms_plan_make(const ms_topology_t *t, int threads, uint32_t nparts, size_t row_bytes,
                         ms_plan_t *plan);
void ms_plan_free(ms_plan_t *plan);

/* What `medsweep topology` prints: nodes, cores, caches, then the plan. */
void ms_topology_print(const ms_topology_t *t, FILE *fp);
void ms_plan_print(const ms_topology_t *t, const ms_plan_t *plan, FILE *fp);

/* Pin the calling thread to a core (no-op on a synthetic topology).  A
 * refusal by the OS is not an error for the sweep: it returns MS_E_IO with
 * the reason and the caller may carry on unpinned. */
ms_status_t ms_topology_bind_thread(const ms_topology_t *t, int core);

/* Memory on a node (hwloc_alloc_membind), falling back to malloc when the
 * OS refuses or the topology is synthetic; free with ms_topology_free_mem. */
void *ms_topology_alloc(const ms_topology_t *t, int node, size_t bytes);
void ms_topology_free_mem(const ms_topology_t *t, void *p, size_t bytes);

#endif
