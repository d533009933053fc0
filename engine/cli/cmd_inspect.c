/*
 * cmd_inspect.c - medsweep inspect.
 */
#include <getopt.h>
#include <stdio.h>

#include "ms_cli.h"
#include "ms_inspect.h"

static const char help[] =
    "usage: medsweep inspect PATH [--verify] [--threads N]\n"
    "\n"
    "Describe a dataset directory, one partition file or a reference file:\n"
    "tables, rows per partition, date ranges, sizes on disk and compression\n"
    "ratio, schema version, the reference files' checksum.\n"
    "\n"
    "options:\n"
    "  --verify         also read every chunk and check every invariant of the\n"
    "                   data contract: fund_pay + self_pay = total, cost\n"
    "                   categories add up, dates in order, codes known, rows\n"
    "                   sorted, persons in their hash partition, drug items tied\n"
    "                   to their settlement, partitions built against these\n"
    "                   reference files.  Each violation is printed with its\n"
    "                   file and row; the exit status is 1 if there is any.\n"
    "  --max-reports N  violations printed per partition (default 20)\n"
    "  --threads N      partitions verified at once (default: all cores)\n"
    "  -h, --help       this text\n";

int ms_cmd_inspect(int argc, char **argv)
{
    static const struct option opts[] = {
        {"verify", no_argument, 0, 'v'}, {"threads", required_argument, 0, 't'},
        {"max-reports", required_argument, 0, 'm'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    ms_inspect_opts_t o = {0, 0, 0};
    unsigned long long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'v': o.verify = 1; break;
        case 't':
            if (ms_cli_uint_option("inspect", "--threads", optarg, 1, 4096, &v)) return MS_EXIT_USAGE;
            o.threads = (int)v;
            break;
        case 'm':
            if (ms_cli_uint_option("inspect", "--max-reports", optarg, 1, 1000000, &v)) return MS_EXIT_USAGE;
            o.max_reports = (unsigned)v;
            break;
        case 'h': fputs(help, stdout); return MS_EXIT_OK;
        default: return ms_cli_usage_error("inspect", "unknown option");
        }
    }
    if (argc - optind != 1) return ms_cli_usage_error("inspect", "wants one PATH");
    ms_inspect_result_t res;
    ms_status_t st = ms_inspect(argv[optind], &o, stdout, &res);
    fflush(stdout);
    if (st != MS_OK) return ms_cli_fail("inspect", st);
    /* Without --verify nothing is decoded, but a partition that cannot even
     * be opened (UNREADABLE above) or a table whose partitions do not match
     * means the dataset cannot be trusted all the same. */
    if (res.violations)
        return ms_cli_fail("inspect", ms_error_set(MS_E_INVARIANT,
                                                   "%s is not sound: %llu problems (listed above); "
                                                   "--verify checks every invariant",
                                                   argv[optind], (unsigned long long)res.violations));
    return MS_EXIT_OK;
}
