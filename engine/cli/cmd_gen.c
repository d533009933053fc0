/*
 * cmd_gen.c - medsweep gen.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_cli.h"
#include "ms_fs.h"
#include "ms_gen.h"
#include "ms_schema.h"

static const char help[] =
    "usage: medsweep gen --out DIR [options]\n"
    "\n"
    "Make a synthetic national data set with planted fraud and its ground truth:\n"
    "provinces and counties, hospitals, clinics and pharmacies of every kind and\n"
    "tier, persons with their outpatient visits, inpatient stays and pharmacy\n"
    "purchases, DRG/DIP groups and drug traceability codes - and, at a few\n"
    "institutions of ordinary size, every fraud pattern of the models.\n"
    "DIR/truth/institutions.csv and DIR/truth/records.csv say who cheats and\n"
    "which records are planted (docs/generator.md describes every pattern).\n"
    "Cheaters cheat with graded intensities (0.3 to 1.7 times --intensity).\n"
    "DIR/truth/hard_negatives.csv (inst_code,kind) lists honest institutions that\n"
    "look like cheaters on one indicator: tertiary_heavy, l2_high_severity,\n"
    "oncology_cycles, frail_readmissions, rehab_nursing, cataract_campaign,\n"
    "preadmission_workup, family_pharmacy, tiny_extreme.\n"
    "\n"
    "The same options give the same bytes, whatever the thread count.\n"
    "\n"
    "options:\n"
    "  --out DIR            where to write (required)\n"
    "  --institutions N     designated institutions (default 200)\n"
    "  --persons N          insured persons (default 100000: ~780,000 settlements)\n"
    "  --days N             length of the window in days (default 365)\n"
    "  --start YYYY-MM-DD   first day of the window (default 2025-01-01)\n"
    "  --seed N             random seed (default 1)\n"
    "  --intensity X        strength of the planted fraud, 0..10 (default 1; 0 = none)\n"
    "  --fraud-share X      share of institutions that cheat, 0..0.5 (default 0.05;\n"
    "                       at least one institution per pattern)\n"
    "  --hard-share X       share of institutions that are honest look-alikes (hard\n"
    "                       negatives), 0..0.5 (default 0.09: 2 of each of the 9 kinds\n"
    "                       in a 200-institution world; at least 1 of each kind that\n"
    "                       finds a candidate; 0 = none)\n"
    "  --flatten            write a poorer extract of the same world, as some bureaus\n"
    "                       export it: every cost in `other`, no beds, one severity\n"
    "                       per DRG/DIP family, one department, inpatient stays only\n"
    "                       (truth follows: records and institutions left out go)\n"
    "  --bills              also write the itemised bill of every settlement\n"
    "                       (service_items: lines that add up exactly, category by\n"
    "                       category, to its cost columns) and the knowledge base of\n"
    "                       their catalogue (knowledge.h5; knowledge/ with --csv),\n"
    "                       with every rule of the rule base planted at a few\n"
    "                       institutions (truth: rule_sex ... rule_empty_brush) and\n"
    "                       honest look-alikes in truth/hard_negatives.csv; the\n"
    "                       settlements and drug items stay those of the world\n"
    "                       without it (not with --flatten)\n"
    "  --csv                write canonical CSV (for medsweep import) instead of HDF5\n"
    "  --partitions N       partitions (default: one per ~2.5 million settlements)\n"
    "  --chunk-rows N       rows per HDF5 chunk, 1024..16777216 (default 65536)\n"
    "  --threads N          threads (default: all cores)\n"
    "  --replace            replace an earlier world in DIR\n"
    "  --quiet              no progress lines\n"
    "  -h, --help           this text\n"
    "\n"
    "examples:\n"
    "  medsweep gen --out world/                       # a small world in seconds\n"
    "  medsweep gen --persons 2000000 --institutions 5000 --out big/\n"
    "  medsweep gen --out billed/ --bills --csv            # with itemised bills, as CSV\n";

static int parse_double(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return *s && !*end ? 0 : -1;
}

int ms_cmd_gen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},         {"institutions", required_argument, 0, 'i'},
        {"persons", required_argument, 0, 'p'},     {"days", required_argument, 0, 'd'},
        {"start", required_argument, 0, 'S'},       {"seed", required_argument, 0, 's'},
        {"intensity", required_argument, 0, 'x'},   {"fraud-share", required_argument, 0, 'f'},
        {"csv", no_argument, 0, 'c'},               {"partitions", required_argument, 0, 'P'},
        {"threads", required_argument, 0, 't'},     {"replace", no_argument, 0, 'r'},
        {"quiet", no_argument, 0, 'q'},             {"help", no_argument, 0, 'h'},
        {"hard-share", required_argument, 0, 'H'},  {"flatten", no_argument, 0, 'F'},
        {"chunk-rows", required_argument, 0, 'C'},  {"bills", no_argument, 0, 'B'},
        {0, 0, 0, 0},
    };
    ms_gen_opts_t o;
    ms_gen_opts_init(&o);
    o.progress = ms_cli_progress;
    const char *out = NULL;
    unsigned long long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'i':
            if (ms_cli_uint_option("gen", "--institutions", optarg, 20, 4000000, &v)) return MS_EXIT_USAGE;
            o.institutions = (uint32_t)v;
            break;
        case 'p':
            if (ms_cli_uint_option("gen", "--persons", optarg, 1, 1000000000ull, &v)) return MS_EXIT_USAGE;
            o.persons = v;
            break;
        case 'd':
            if (ms_cli_uint_option("gen", "--days", optarg, 30, 3650, &v)) return MS_EXIT_USAGE;
            o.days = (int32_t)v;
            break;
        case 'S':
            if (ms_date_parse(optarg, strlen(optarg), &o.first_day))
                return ms_cli_usage_error("gen", "--start wants a date YYYY-MM-DD, got '%s'", optarg);
            break;
        case 's':
            if (ms_cli_parse_uint(optarg, ~0ull, &v)) return ms_cli_usage_error("gen", "--seed wants a number, got '%s'", optarg);
            o.seed = v;
            break;
        case 'x':
            if (parse_double(optarg, &o.intensity) || !(o.intensity >= 0 && o.intensity <= 10))
                return ms_cli_usage_error("gen", "--intensity wants 0..10, got '%s'", optarg);
            break;
        case 'f':
            if (parse_double(optarg, &o.fraud_share) || !(o.fraud_share >= 0 && o.fraud_share <= 0.5))
                return ms_cli_usage_error("gen", "--fraud-share wants 0..0.5, got '%s'", optarg);
            break;
        case 'H':
            if (parse_double(optarg, &o.hard_share) || !(o.hard_share >= 0 && o.hard_share <= 0.5))
                return ms_cli_usage_error("gen", "--hard-share wants 0..0.5, got '%s'", optarg);
            break;
        case 'F': o.flatten = 1; break;
        case 'B': o.bills = 1; break;
        case 'c': o.csv = 1; break;
        case 'P':
            if (ms_cli_uint_option("gen", "--partitions", optarg, 1, 100000, &v)) return MS_EXIT_USAGE;
            o.partitions = (uint32_t)v;
            break;
        case 'C':
            if (ms_cli_uint_option("gen", "--chunk-rows", optarg, 1024, 1u << 24, &v)) return MS_EXIT_USAGE;
            o.chunk_rows = (uint32_t)v;
            break;
        case 't':
            if (ms_cli_uint_option("gen", "--threads", optarg, 1, 4096, &v)) return MS_EXIT_USAGE;
            o.threads = (int)v;
            break;
        case 'r': o.replace = 1; break;
        case 'q': o.progress = NULL; break;
        case 'h': fputs(help, stdout); return MS_EXIT_OK;
        default: return ms_cli_usage_error("gen", "unknown option");
        }
    }
    if (!out) return ms_cli_usage_error("gen", "--out DIR is required");
    if (optind != argc) return ms_cli_usage_error("gen", "unexpected argument '%s'", argv[optind]);
    char *dir = ms_path_normalize(out); /* "world/" is world: its temporary is world.generating-<pid> */
    if (!dir) return ms_cli_fail("gen", ms_error_set(MS_E_NOMEM, "out of memory"));
    out = dir;
    ms_gen_result_t res;
    ms_status_t st = ms_gen(&o, out, &res);
    if (st != MS_OK) {
        free(dir);
        return ms_cli_fail("gen", st);
    }
    printf("generated %llu persons: %llu settlements, %llu drug items in %u partitions%s, %.1f s "
           "(%.2f M rows/s, peak memory %.0f MiB)\n",
           (unsigned long long)res.persons, (unsigned long long)res.settlements,
           (unsigned long long)res.drug_items, res.partitions, o.csv ? " (written as CSV)" : "", res.seconds,
           res.seconds > 0 ? (double)(res.settlements + res.drug_items + res.service_items) / res.seconds / 1e6 : 0.0,
           (double)ms_peak_rss() / 1048576.0);
    if (o.bills)
        printf("bills: %llu bill lines, knowledge base of %u items\n", (unsigned long long)res.service_items,
               res.knowledge_items);
    printf("planted: %u institutions, %llu records (truth in %s/truth/)\n", res.planted_institutions,
           (unsigned long long)res.planted_records, out);
    printf("hard negatives: %u honest look-alike institutions (truth/hard_negatives.csv)\n", res.hard_negatives);
    free(dir);
    return MS_EXIT_OK;
}
