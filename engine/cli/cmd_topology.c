/*
 * cmd_topology.c - medsweep topology.
 */
#include <getopt.h>
#include <stdio.h>

#include "ms_cli.h"
#include "ms_topology.h"

static const char help[] =
    "usage: medsweep topology [--synthetic DESC] [--threads N] [--partitions N]\n"
    "                         [--row-bytes N]\n"
    "\n"
    "Show the machine as the sweep sees it - NUMA nodes, their cores, the PU\n"
    "each worker binds to, memory per node, L2 and L3 sizes - and the plan a\n"
    "sweep would follow on it: which core and node each worker thread runs on,\n"
    "which node each partition's memory lives on, and how many rows a batch\n"
    "holds (half the L2 cache, 4096..65536 rows, a power of two).\n"
    "\n"
    "Workers are spread over the nodes in turn, so with fewer threads than cores\n"
    "every node is still used; a partition's home is the node of the worker\n"
    "that reads it, so nodes hold partitions in proportion to their workers.\n"
    "This machine is only the CPUs the process may use: its affinity mask (as\n"
    "taskset, Slurm or mpirun set it) and its cgroup; a sweep never plans or\n"
    "pins a worker outside them (try: taskset -c 1 medsweep topology).\n"
    "\n"
    "options:\n"
    "  --synthetic DESC  plan for a machine you do not have, given as an hwloc\n"
    "                    synthetic description (levels from the top, each\n"
    "                    TYPE:COUNT; nothing is bound):\n"
    "                      \"node:2 core:8 pu:1\"             2 nodes x 8 cores\n"
    "                      \"package:1 node:4 core:4 pu:1\"   4 nodes in one socket\n"
    "                      \"node:2 core:8 pu:2\"             with 2 hyperthreads\n"
    "                      \"node:2 l3:1(size=32MB) core:8 l2:1(size=1MB) pu:1\"\n"
    "                                                       with cache sizes\n"
    "                    (lstopo --of synthetic prints this machine's)\n"
    "  --threads N       worker threads (default: OMP_NUM_THREADS when set, else\n"
    "                    one per core; more than the cores wraps round and\n"
    "                    shares them)\n"
    "  --partitions N    partitions to place (default 64)\n"
    "  --row-bytes N     decoded bytes per row of the columns read (default 160,\n"
    "                    a whole settlement row)\n"
    "  -h, --help        this text\n"
    "\n"
    "example:\n"
    "  medsweep topology --synthetic \"node:2 core:8 pu:1\" --threads 6\n";

int ms_cmd_topology(int argc, char **argv)
{
    static const struct option opts[] = {
        {"synthetic", required_argument, 0, 's'}, {"threads", required_argument, 0, 't'},
        {"partitions", required_argument, 0, 'p'}, {"row-bytes", required_argument, 0, 'r'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0},
    };
    const char *synthetic = NULL;
    int threads = 0;
    uint32_t nparts = 64;
    size_t row_bytes = 160;
    unsigned long long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': synthetic = optarg; break;
        case 't':
            if (ms_cli_uint_option("topology", "--threads", optarg, 1, 4096, &v)) return MS_EXIT_USAGE;
            threads = (int)v;
            break;
        case 'p':
            if (ms_cli_uint_option("topology", "--partitions", optarg, 1, 100000, &v)) return MS_EXIT_USAGE;
            nparts = (uint32_t)v;
            break;
        case 'r':
            if (ms_cli_uint_option("topology", "--row-bytes", optarg, 1, 1u << 20, &v)) return MS_EXIT_USAGE;
            row_bytes = (size_t)v;
            break;
        case 'h': fputs(help, stdout); return MS_EXIT_OK;
        default: return ms_cli_usage_error("topology", "unknown option");
        }
    }
    if (optind != argc) return ms_cli_usage_error("topology", "takes no arguments, got '%s'", argv[optind]);

    ms_topology_t t;
    ms_status_t st = ms_topology_load(&t, synthetic);
    if (st == MS_E_USAGE) return ms_cli_usage_error("topology", "%s", ms_error_detail());
    if (st != MS_OK) return ms_cli_fail("topology", st);
    ms_plan_t plan;
    st = ms_plan_make(&t, threads ? threads : ms_topology_default_threads(&t), nparts, row_bytes, &plan);
    if (st != MS_OK) {
        ms_topology_free(&t);
        return ms_cli_fail("topology", st);
    }
    ms_topology_print(&t, stdout);
    putchar('\n');
    ms_plan_print(&t, &plan, stdout);
    fflush(stdout);
    ms_plan_free(&plan);
    ms_topology_free(&t);
    return MS_EXIT_OK;
}
