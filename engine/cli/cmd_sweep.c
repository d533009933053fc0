/*
 * cmd_sweep.c - medsweep sweep and medsweep models.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_cli.h"
#include "ms_config.h"
#include "ms_dist.h"
#include "ms_fs.h"
#include "ms_i18n.h"
#include "ms_model.h"
#include "ms_sweep.h"

static const char help[] =
    "usage: medsweep sweep DATASET_DIR --out OUT_DIR [options]\n"
    "\n"
    "Stream every partition of a dataset through the models on every core and\n"
    "write what they found.  The same dataset and configuration give the same\n"
    "output files, byte for byte, whatever the number of threads or NUMA nodes.\n"
    "\n"
    "Writes into OUT_DIR (each file whole or not at all):\n"
    "  ranked.csv       every institution with data, the strongest credible evidence\n"
    "                   first (column priority, 0..1; docs/models.md), each with its\n"
    "                   reasons in words and figures, its peer percentile, and the\n"
    "                   suspicious amount and likely recovery in yuan\n"
    "  ranked_MODEL.csv the same ranked by one model\n"
    "  clues.csv        the records behind every indicator, with their evidence\n"
    "                   (the other half of an overlap or a repeat, the doctor, the\n"
    "                   diagnosis, the shares): where to start\n"
    "  report.html      one page to read first: the week, the top of the list,\n"
    "                   views by model and province, a dossier per institution\n"
    "  indicators.csv   every indicator of every model, per institution\n"
    "  features.h5      indicators, peer values, deviations and scores (for model\n"
    "                   developers: h5py, pandas)\n"
    "  run.json         what was read and rejected, configuration, versions,\n"
    "                   per-stage times, records per second, peak memory\n"
    "\n"
    "options:\n"
    "  --out DIR          output directory (required)\n"
    "  --threads N        workers (default: OMP_NUM_THREADS when set, else one per core\n"
    "                     of those the process may use: its affinity mask, as taskset,\n"
    "                     Slurm or mpirun set it; each pinned to its core)\n"
    "  --config FILE      the rule configuration (thresholds, lists, weights; default:\n"
    "                     the built-in rules, printed by 'medsweep models --config')\n"
    "  --models LIST      comma-separated models to run (default: all; see\n"
    "                     medsweep models)\n"
    "  --resume           finish a sweep that was interrupted (killed, crashed, out\n"
    "                     of disk): partitions already done are not swept again\n"
    "  --replace          replace an earlier sweep in OUT_DIR (it stays as it was\n"
    "                     until the new one is complete)\n"
    "  --skip-bad         exclude a missing or corrupt partition (reported in\n"
    "                     run.json and on the console) instead of stopping\n"
    "  --memory-cap BYTES memory for the whole sweep (default: half the RAM, at\n"
    "                     most 4G; suffixes K, M, G): the workers' buffers and\n"
    "                     the models' state get what they need, keyed aggregation\n"
    "                     the rest, and spills to disk beyond it; a cap too small\n"
    "                     is refused up front with the least that would do\n"
    "  --batch-rows N     rows per batch (default: from the L2 cache size)\n"
    "  --topology DESC    plan for an hwloc synthetic topology (see medsweep\n"
    "                     topology --help); threads are then not pinned\n"
    "  --read-mode MODE   pread (default) or h5 (H5Dread_chunk, for comparison)\n"
    "  --top N            cut the ranked lists to N rows (features.h5 keeps all)\n"
    "  --all-columns      read every column even if no model needs it (benchmarks)\n"
    "  --no-key-count     hold every keyed record (doctor-days, traceability codes)\n"
    "                     instead of counting keys first and holding only those\n"
    "                     that can matter: the same outputs, more memory and time\n"
    "                     (a check, and how spilling is tested)\n"
    "  --lang zh|en       the language of the words people read: reasons in\n"
    "                     ranked.csv, findings in clues.csv, report.html (default\n"
    "                     zh, the bureau's); column names stay English\n"
    "  --excel            CSV files start with a UTF-8 byte-order mark, so that a\n"
    "                     spreadsheet shows the Chinese right\n"
    "  --quiet            no progress display\n"
    "  -h, --help         this text\n"
    "\n"
    "On a cluster (docs/cluster.md): started by mpirun or srun, each process is one\n"
    "rank of one sweep.  Ranks share the partitions (contiguous ranges), send each\n"
    "keyed record to the rank that reduces its key (MPI collectives), and rank 0\n"
    "merges every partition's states in partition order and writes OUT_DIR: the\n"
    "same bytes as one process.  OUT_DIR must be on a file system every rank sees;\n"
    "--threads and --memory-cap are per rank.  A rank that dies ends the job\n"
    "(mpirun names it); --resume then finishes from the partitions done.\n"
    "  mpirun -np 4 medsweep sweep data/2026-w47 --out sweeps/2026-w47\n"
    "\n"
    "Exit status 0: the outputs are complete and can be trusted; 1: they cannot\n"
    "(stderr says why; with --resume the sweep can be finished later); 2: a usage\n"
    "error (an option, the rules, --models, or --resume with nothing to resume).\n"
    "\n"
    "example:\n"
    "  medsweep sweep data/2026-w47 --out sweeps/2026-w47\n";

#ifdef MS_TEST_HOOKS
/* Test hooks: compiled into medsweep-testhooks only, never into the shipped
 * medsweep (docs/engine.md, Faults).
 *   MS_SWEEP_KILL_AFTER=N  SIGKILL right after the N-th partition persisted
 *   MS_SWEEP_KILL_AT=POINT SIGKILL at merge, reduce, write or install
 *   MS_SWEEP_STOP_AFTER=N  SIGSTOP right after the N-th partition persisted
 *                          (a test runs another sweep, then sends SIGCONT)
 *   MS_SWEEP_KILL_RANK=R   the hooks above act in rank R only (mpirun)
 *   MS_SWEEP_SLICE_ROWS=N  cut partitions into slices of N settlements
 *                          (small worlds get the slicing big ones do) */
static void sweep_test_hook(const char *point, uint32_t n)
{
    const char *v;
    /* MS_SWEEP_KILL_RANK=R: the hooks act in rank R only (the cluster mode). */
    if ((v = getenv("MS_SWEEP_KILL_RANK")) && atoi(v) != ms_dist_rank()) return;
    if (!strcmp(point, "partition")) {
        if ((v = getenv("MS_SWEEP_STOP_AFTER")) && atoi(v) > 0 && n == (uint32_t)atoi(v)) raise(SIGSTOP);
        if ((v = getenv("MS_SWEEP_KILL_AFTER")) && atoi(v) > 0 && n >= (uint32_t)atoi(v)) raise(SIGKILL);
    } else if ((v = getenv("MS_SWEEP_KILL_AT")) && !strcmp(v, point)) {
        raise(SIGKILL);
    }
}
#endif

static int sweep_main(int argc, char **argv);

/* Under mpirun or srun this process is one rank of the sweep (docs/cluster.md):
 * every rank runs the same command; rank 0 alone prints and writes. */
int ms_cmd_sweep(int argc, char **argv)
{
    ms_status_t st = ms_dist_start(&argc, &argv);
    if (st != MS_OK) return ms_cli_fail("sweep", st);
    int rc;
    if (ms_dist_rank() != 0) {
        /* Quiet: rank 0 says what every rank agreed on. */
        FILE *out = freopen("/dev/null", "w", stdout);
        FILE *err = freopen("/dev/null", "w", stderr);
        (void)out, (void)err;
    }
    rc = sweep_main(argc, argv);
    ms_dist_stop();
    return rc;
}

static int sweep_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},        {"threads", required_argument, 0, 't'},
        {"models", required_argument, 0, 'm'},     {"resume", no_argument, 0, 'R'},
        {"replace", no_argument, 0, 'r'},          {"skip-bad", no_argument, 0, 's'},
        {"memory-cap", required_argument, 0, 'M'}, {"batch-rows", required_argument, 0, 'b'},
        {"topology", required_argument, 0, 'T'},   {"read-mode", required_argument, 0, 'x'},
        {"all-columns", no_argument, 0, 'a'},      {"quiet", no_argument, 0, 'q'},
        {"config", required_argument, 0, 'C'},     {"top", required_argument, 0, 'N'},
        {"lang", required_argument, 0, 'L'},      {"excel", no_argument, 0, 'E'},
        {"no-key-count", no_argument, 0, 'K'},    {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    ms_sweep_opts_t o;
    ms_sweep_opts_init(&o);
    unsigned long long v;
    int c;
    o.progress = ms_cli_progress;
#ifdef MS_TEST_HOOKS
    o.test_hook = sweep_test_hook;
    if (getenv("MS_SWEEP_SLICE_ROWS")) o.slice_rows = strtoull(getenv("MS_SWEEP_SLICE_ROWS"), NULL, 10);
#endif
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': o.out = optarg; break;
        case 't':
            if (ms_cli_uint_option("sweep", "--threads", optarg, 1, 4096, &v)) return MS_EXIT_USAGE;
            o.threads = (int)v;
            break;
        case 'm': o.models = optarg; break;
        case 'R': o.resume = 1; break;
        case 'r': o.replace = 1; break;
        case 's': o.skip_bad = 1; break;
        case 'M':
            if (ms_cli_parse_size(optarg, &o.memory_cap) || o.memory_cap < (1u << 16))
                return ms_cli_usage_error("sweep", "--memory-cap wants a size of at least 64K, got '%s'", optarg);
            break;
        case 'b':
            if (ms_cli_uint_option("sweep", "--batch-rows", optarg, 64, 1u << 24, &v)) return MS_EXIT_USAGE;
            o.batch_rows = (size_t)v;
            break;
        case 'T': o.topology = optarg; break;
        case 'x':
            if (!strcmp(optarg, "pread")) o.read_mode = MS_READ_PREAD;
            else if (!strcmp(optarg, "h5")) o.read_mode = MS_READ_H5;
            else return ms_cli_usage_error("sweep", "--read-mode wants pread or h5, got '%s'", optarg);
            break;
        case 'a': o.all_columns = 1; break;
        case 'K': o.no_key_count = 1; break;
        case 'C': o.config = optarg; break;
        case 'N':
            if (ms_cli_parse_uint(optarg, 100000000, &v) || v == 0)
                return ms_cli_usage_error("sweep", "--top wants a positive number, got '%s'", optarg);
            o.top = (int)v;
            break;
        case 'q': o.progress = NULL; break;
        case 'L': {
            ms_lang_t lang;
            if (ms_lang_parse(optarg, &lang)) return ms_cli_usage_error("sweep", "--lang wants zh or en, got '%s'", optarg);
            o.lang = (int)lang;
            break;
        }
        case 'E': o.excel = 1; break;
        case 'h': fputs(help, stdout); return MS_EXIT_OK;
        default: return ms_cli_usage_error("sweep", "unknown option");
        }
    }
    if (argc - optind != 1) return ms_cli_usage_error("sweep", "wants one DATASET_DIR");
    if (!o.out) return ms_cli_usage_error("sweep", "--out OUT_DIR is required");
    if (o.resume && o.replace) return ms_cli_usage_error("sweep", "--resume and --replace exclude each other");
    /* "data/" and "sweeps/w47/." are data and sweeps/w47 (messages, run.json). */
    char *dataset = ms_path_normalize(argv[optind]), *out = ms_path_normalize(o.out);
    if (!dataset || !out) {
        free(dataset), free(out);
        return ms_cli_fail("sweep", ms_error_set(MS_E_NOMEM, "out of memory"));
    }
    o.dataset = dataset;
    o.out = out;
    ms_sweep_result_t res;
    ms_status_t st = ms_sweep(&o, &res);
    if (st != MS_OK) {
        int rc = ms_cli_fail("sweep", st);
        char state[4200];
        snprintf(state, sizeof state, "%s/.sweep-state", o.out);
        /* Not after a refused --resume (another dataset, rules or models):
         * that state cannot be finished by this command. */
        if (st != MS_E_USAGE && st != MS_E_EXISTS && !(o.resume && st == MS_E_MISMATCH) && ms_is_dir(state))
            fprintf(stderr, "medsweep sweep: finished partitions are kept; 'medsweep sweep %s --out %s --resume' "
                            "continues once the cause is fixed\n", o.dataset, o.out);
        free(dataset), free(out);
        return rc;
    }
    uint64_t rej = 0;
    for (int t = 0; t < MS_TABLE_COUNT; t++)
        for (int r = 0; r < MS_REJECT_COUNT; r++) rej += res.rejected[t][r];
    printf("swept %llu settlements and %llu drug items in %u partitions (%u resumed) in %.1f s "
           "(%.2f M records/s, peak memory %.0f MiB)\n",
           (unsigned long long)res.rows[0], (unsigned long long)res.rows[1], res.partitions,
           res.partitions_resumed, res.seconds,
           res.seconds > 0 ? (double)(res.rows[0] + res.rows[1] + res.rows[2]) / res.seconds / 1e6 : 0.0,
           (double)res.peak_rss / 1048576.0);
    if (res.rows[MS_TABLE_SERVICE_ITEMS])
        printf("and %llu bill lines (service_items)\n", (unsigned long long)res.rows[MS_TABLE_SERVICE_ITEMS]);
    if (rej) printf("rejected %llu rows that cannot be trusted (see run.json)\n", (unsigned long long)rej);
    if (res.partitions_redone)
        printf("note: %u saved partition%s damaged and %s swept again (see run.json)\n", res.partitions_redone,
               res.partitions_redone == 1 ? " was" : "s were", res.partitions_redone == 1 ? "was" : "were");
    if (res.partitions_skipped)
        printf("WARNING: %u partitions were unreadable or missing and skipped (see run.json)\n",
               res.partitions_skipped);
    printf("ranked %u institutions, %u with a credible reason: %s/ranked.csv\n", res.ranked, res.flagged, o.out);
    free(dataset), free(out);
    return MS_EXIT_OK;
}

int ms_cmd_models(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        puts("usage: medsweep models [--config [FILE]]\n\n"
             "List every model the sweep runs, its indicators and their parameters.\n"
             "--config prints the complete rule configuration (the defaults, or FILE\n"
             "resolved and checked) in the format sweep --config reads.");
        return MS_EXIT_OK;
    }
    if (argc > 1 && !strcmp(argv[1], "--config")) {
        if (argc > 3) return ms_cli_usage_error("models", "--config takes at most one FILE");
        ms_config_t cfg;
        ms_status_t st = ms_config_load(argc == 3 ? argv[2] : NULL, &cfg);
        if (st != MS_OK) return ms_cli_fail("models", st);
        ms_config_write(&cfg, stdout);
        ms_config_free(&cfg);
        return MS_EXIT_OK;
    }
    if (argc > 1) return ms_cli_usage_error("models", "unknown argument '%s'", argv[1]);
    int n;
    const ms_model_t *const *m = ms_models(&n);
    for (int i = 0; i < n; i++) {
        printf("%s (version %s): %s\n", m[i]->name, m[i]->version, m[i]->description);
        for (int k = 0; k < m[i]->nindicators; k++) {
            const ms_indicator_t *ind = &m[i]->indicators[k];
            printf("  %-24s %s\n", ind->name, ind->description);
            for (int p = 0; p < ind->nparams; p++) {
                const ms_param_t *pa = &ind->params[p];
                if (pa->kind == MS_PARAM_LIST) { /* the default list, as the rules write it */
                    printf("    %-22s %s (default [", pa->name, pa->description);
                    const char *d = pa->def_list ? pa->def_list : "";
                    for (int item = 0; *d; item++) {
                        size_t len = strcspn(d, ",");
                        printf("%s\"%.*s\"", item ? ", " : "", (int)len, d);
                        d += len + (d[len] == ',');
                    }
                    printf("])\n");
                } else {
                    printf("    %-22s %s (default %g, allowed %g..%g)\n", pa->name, pa->description, pa->def,
                           pa->min, pa->max);
                }
            }
        }
        if (i + 1 < n) putchar('\n');
    }
    return MS_EXIT_OK;
}
