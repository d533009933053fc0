/*
 * cmd_import.c - medsweep import / medsweep export.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ms_cli.h"
#include "ms_fs.h"
#include "ms_export.h"
#include "ms_import.h"

static const char import_help[] =
    "usage: medsweep import CSV_DIR DATASET_DIR [options]\n"
    "\n"
    "Import a bureau's canonical CSV extract into a dataset of HDF5 partitions\n"
    "(the layout every sweep reads).  CSV_DIR holds institutions.csv, groups.csv,\n"
    "settlements.csv and, when there are any, drug_items.csv (drug line items\n"
    "with traceability codes), service_items.csv (the itemised bills) and\n"
    "knowledge/ (the knowledge base); see docs/schema.md for the columns and the\n"
    "rules each field must follow.\n"
    "\n"
    "Every field is validated.  By default the import stops at the first bad row,\n"
    "naming file, line, column and reason, and leaves nothing behind.\n"
    "\n"
    "options:\n"
    "  --skip-bad          import the good rows; write each bad row with its reason\n"
    "                      to DATASET_DIR/rejected.csv and print how many\n"
    "  --replace           replace a dataset already in DATASET_DIR (the old one is\n"
    "                      removed only once the new one is complete)\n"
    "  --partitions N      number of partitions (default: one per 256 MiB of\n"
    "                      settlements.csv); each must fit in memory when swept\n"
    "  --chunk-rows N      rows per HDF5 chunk (default 65536)\n"
    "  --threads N         threads for sorting and writing partitions (default: all)\n"
    "  --quiet             no progress lines\n"
    "  -h, --help          this text\n"
    "\n"
    "example:\n"
    "  medsweep import extracts/2026-w47 data/2026-w47\n";

int ms_cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        {"skip-bad", no_argument, 0, 's'},  {"replace", no_argument, 0, 'r'},
        {"partitions", required_argument, 0, 'p'}, {"chunk-rows", required_argument, 0, 'c'},
        {"threads", required_argument, 0, 't'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},      {0, 0, 0, 0},
    };
    ms_import_opts_t o = {0};
    o.progress = ms_cli_progress;
    unsigned long long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': o.skip_bad = 1; break;
        case 'r': o.replace = 1; break;
        case 'q': o.progress = NULL; break;
        case 'p':
            if (ms_cli_uint_option("import", "--partitions", optarg, 1, 100000, &v)) return MS_EXIT_USAGE;
            o.partitions = (uint32_t)v;
            break;
        case 'c':
            if (ms_cli_uint_option("import", "--chunk-rows", optarg, 1024, 1u << 24, &v)) return MS_EXIT_USAGE;
            o.chunk_rows = (uint32_t)v;
            break;
        case 't':
            if (ms_cli_uint_option("import", "--threads", optarg, 1, 4096, &v)) return MS_EXIT_USAGE;
            o.threads = (int)v;
            break;
        case 'h': fputs(import_help, stdout); return MS_EXIT_OK;
        default: return ms_cli_usage_error("import", "unknown option");
        }
    }
    if (argc - optind != 2)
        return ms_cli_usage_error("import", "wants CSV_DIR and DATASET_DIR");
    ms_import_result_t res;
    memset(&res, 0, sizeof res);
    char *csv_dir = ms_path_normalize(argv[optind]), *dataset_dir = ms_path_normalize(argv[optind + 1]);
    ms_status_t st = csv_dir && dataset_dir ? ms_import(csv_dir, dataset_dir, &o, &res)
                                            : ms_error_set(MS_E_NOMEM, "out of memory");
    free(csv_dir);
    if (st != MS_OK) {
        free(dataset_dir);
        return ms_cli_fail("import", st);
    }
    printf("imported %llu institutions, %llu groups, %llu settlements, %llu drug items into "
           "%u partitions in %.1f s (%.2f M settlements/s, peak memory %.0f MiB)\n",
           (unsigned long long)res.institutions, (unsigned long long)res.groups,
           (unsigned long long)res.settlements, (unsigned long long)res.drug_items,
           res.partitions, res.seconds, res.seconds > 0 ? (double)res.settlements / res.seconds / 1e6 : 0.0,
           (double)ms_peak_rss() / 1048576.0);
    if (res.have_service_items)
        printf("imported %llu bill lines (service_items.csv)\n", (unsigned long long)res.service_items);
    if (res.have_knowledge)
        printf("imported the knowledge base: %llu items (knowledge.h5)\n", (unsigned long long)res.knowledge_items);
    if (res.leftovers_removed)
        printf("removed %u leftover build director%s of killed imports (%s.importing-<pid>)\n",
               res.leftovers_removed, res.leftovers_removed > 1 ? "ies" : "y", dataset_dir);
    if (o.skip_bad)
        printf("rejected %llu bad rows%s\n", (unsigned long long)res.rejected,
               res.rejected ? " (see rejected.csv in the dataset directory)" : "");
    free(dataset_dir);
    return MS_EXIT_OK;
}

static const char export_help[] =
    "usage: medsweep export DATASET_DIR CSV_DIR\n"
    "\n"
    "Write a dataset back out as canonical CSV (institutions.csv, groups.csv,\n"
    "settlements.csv, drug_items.csv, and service_items.csv and knowledge/ when\n"
    "the dataset has them): every code turned back into its text,\n"
    "money in yuan with two decimals, dates as YYYY-MM-DD.  Settlements come in\n"
    "partition order (by person), not in the order of the original extract.\n";

int ms_cmd_export(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(export_help, stdout);
        return MS_EXIT_OK;
    }
    if (argc != 3) return ms_cli_usage_error("export", "wants DATASET_DIR and CSV_DIR");
    char *dataset_dir = ms_path_normalize(argv[1]), *csv_dir = ms_path_normalize(argv[2]);
    ms_status_t st = dataset_dir && csv_dir ? ms_export(dataset_dir, csv_dir) : ms_error_set(MS_E_NOMEM, "out of memory");
    free(dataset_dir);
    free(csv_dir);
    if (st != MS_OK) return ms_cli_fail("export", st);
    return MS_EXIT_OK;
}
