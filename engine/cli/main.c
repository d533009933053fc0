/*
 * main.c - the medsweep program: dispatch to a subcommand.
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "ms_cli.h"
#include "ms_dist.h"
#include "ms_kernels.h"

#ifndef MS_VERSION
#define MS_VERSION "dev"
#endif

static const ms_cmd_t commands[] = {
    {"gen", "make a synthetic data set with planted fraud and its truth", ms_cmd_gen},
    {"import", "import canonical CSV into a dataset of HDF5 partitions", ms_cmd_import},
    {"export", "write a dataset back out as canonical CSV", ms_cmd_export},
    {"sweep", "screen a dataset: every partition through every model", ms_cmd_sweep},
    {"eval", "measure a sweep of a generated world against its planted truth", ms_cmd_eval},
    {"models", "list the models, their indicators and parameters", ms_cmd_models},
    {"inspect", "describe a dataset or file; --verify checks every invariant", ms_cmd_inspect},
    {"topology", "show the machine's NUMA nodes, cores and caches, and the sweep's plan", ms_cmd_topology},
    {"check", "judge claims (JSON lines) by the rule base before settlement", ms_cmd_check},
    {"serve", "pre-notification over HTTP: POST a claim, get its verdict", ms_cmd_serve},
};

static void usage(FILE *fp)
{
    fprintf(fp,
            "medsweep %s - screen medical-insurance settlements for fraud\n"
            "\n"
            "usage: medsweep COMMAND [options]\n"
            "       medsweep COMMAND --help     (what a command does and its options)\n"
            "\n"
            "commands:\n",
            MS_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(fp, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(fp,
            "\n"
            "A typical week:\n"
            "  medsweep import extracts/ data/              # CSV -> HDF5 partitions\n"
            "  medsweep inspect data/ --verify              # what is there, and is it sound\n"
            "  medsweep sweep data/ --out sweeps/ --config rules.cfg\n"
            "                                               # -> sweeps/ranked.csv, clues.csv\n"
            "Try it on a synthetic world:\n"
            "  medsweep gen --out world/ && medsweep sweep world/ --out s/ && medsweep eval s/ --truth world/truth\n"
            "\n"
            "Environment:\n"
            "  MS_KERNELS=SET   the kernel set hot loops use: ref (the plain reference\n"
            "                   versions), portable, sse42, avx2 or avx512; default the\n"
            "                   best this CPU runs (here: %s).  Results are the same\n"
            "                   with every set; docs/kernels.md, bench/bench_kernels.\n"
            "\n"
            "Exit status: 0 success; 1 the output cannot be trusted (stderr says why);\n"
            "2 a usage error.  docs/weekly-sweep.md in the source tree walks through a\n"
            "week; docs/models.md gives every formula.\n",
            ms_isa_name(ms_isa_best()));
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return MS_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return MS_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        /* The cluster mode's MPI, or "none" (tests and scripts read it). */
        printf("medsweep %s (cluster mode: %s)\n", MS_VERSION, ms_dist_library());
        return MS_EXIT_OK;
    }
    /* The heap keeps large freed blocks for reuse instead of unmapping them.
     * A sweep allocates and frees the same large blocks over and over (each
     * partition's models' states, their saved and loaded bytes, the scoring's
     * arrays); unmapped, each came back as fresh pages that the kernel
     * faults in and zeroes one by one: at 420,000 institutions, 600,000
     * faults and a third of the sweep's CPU.  Peak memory is what is held at
     * once, as before: --memory-cap counts that.  (glibc; other C libraries
     * have no such knobs and keep their own policy.) */
#ifdef M_MMAP_THRESHOLD
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
    char why[256];
    if (ms_kernels_env_check(why, sizeof why) != 0) {
        fprintf(stderr, "medsweep: %s\n", why);
        return MS_EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "medsweep: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return MS_EXIT_USAGE;
}
