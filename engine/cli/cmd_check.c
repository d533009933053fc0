/*
 * cmd_check.c - medsweep check: pre-notification for claims in a file, one
 * JSON claim per line in, one JSON verdict per line out.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ms_check.h"
#include "ms_cli.h"
#include "ms_i18n.h"

static const char help[] =
    "usage: medsweep check [--data DATASET | --knowledge DIR] [--config FILE] [--history-days N]\n"
    "                      [--lang zh|en] [FILE|-]\n"
    "\n"
    "Pre-notification (事前提醒) from the command line: judge claims by the rule\n"
    "base before they are settled, as `medsweep serve` does over HTTP and the\n"
    "weekly sweep does afterwards (the same rules, the same knowledge base).\n"
    "\n"
    "Reads claims from FILE (or standard input: '-' or no FILE), one JSON object\n"
    "per line (docs/prenotification.md gives every field), and writes one verdict\n"
    "per claim to standard output, in the same order, one JSON object per line.\n"
    "A line that is not JSON or not a valid claim gives {\"line\":N,\"error\":\"...\"}\n"
    "instead, naming the JSON path (lines[3].qty: \"1.2345\" has more than 3\n"
    "decimals), and the other lines are still judged.  Blank lines are skipped.\n"
    "\n"
    "options:\n"
    "  --data DATASET    a dataset made by import: its knowledge base\n"
    "                    (knowledge.h5), its institutions and, where it has\n"
    "                    itemised bills (service_items), the persons' recent\n"
    "                    bill lines: the history of a claim that sends none\n"
    "  --knowledge DIR   a knowledge base as CSV (DIR/items.csv and\n"
    "                    DIR/exclusive_items.csv), instead of the dataset's\n"
    "  --config FILE     the rule configuration (its `rules` list; default: one\n"
    "                    rule per template with its defaults, printed by\n"
    "                    'medsweep models --config')\n"
    "  --history-days N  the look-back of that history: the person's lines of\n"
    "                    the N days before the claim's first line up to its last\n"
    "                    (default 180; 0: take no history from the dataset)\n"
    "  --lang zh|en      the language of the reasons (default zh)\n"
    "  -h, --help        this text\n"
    "\n"
    "Without a knowledge base only the rules that need none run (bed_days); the\n"
    "others are listed in every verdict's rules_not_run.  A claim without\n"
    "\"history\" is given the person's from the dataset's bills (--data, when it\n"
    "has them); without either it does not run excess_supply and repeat_exam.\n"
    "One without \"traces\" does not run empty_brush (send [] to say there are\n"
    "none).  Each verdict says where its history came from: \"history\":\n"
    "\"claim\", \"dataset\" or \"none\".\n"
    "\n"
    "Exit status 0: every line was judged; 1: some line was malformed (its\n"
    "verdict line says why; the others were judged), or the run failed (stderr);\n"
    "2: a usage error (an option, the rule configuration).\n"
    "\n"
    "example:\n"
    "  medsweep check --data data/2026-w47 --lang en claims.jsonl > verdicts.jsonl\n"
    "where a line of claims.jsonl (one line per claim; wrapped here) is\n"
    "  {\"claim_id\":\"c1\",\"settle_id\":1,\"person_id\":7,\"inst_code\":\"H001\",\n"
    "   \"visit_type\":\"outpatient\",\"admit_date\":\"2026-03-02\",\"discharge_date\":\"2026-03-02\",\n"
    "   \"age\":34,\"sex\":\"M\",\"diag_main\":\"J18.9\",\"lines\":[{\"line_no\":1,\"date\":\"2026-03-02\",\n"
    "   \"item_code\":\"XG01\",\"category\":\"drug\",\"qty\":\"2\",\"unit_price\":\"10.5000\",\n"
    "   \"amount\":\"21.00\"}],\"traces\":[],\"history\":[]}\n"
    "and its verdict line, when the knowledge base allows 1.5 units of XG01 a day:\n"
    "  {\"claim_id\":\"c1\",\"verdict\":\"hit\",\"hits\":[{\"rule\":\"over_qty\",\n"
    "   \"template\":\"over_qty\",\"line_no\":1,\"item_code\":\"XG01\",\"date\":\"2026-03-02\",\n"
    "   \"reason\":\"over quantity: 2.000 units of XG01 (Amoxicillin) on 2026-03-02, daily\n"
    "   maximum 1.500\",\"observed\":2.000,\"limit\":1.500}],\"score\":1,\"rules_run\":10,\"rules_not_run\":[],\n"
    "   \"history\":\"claim\"}\n"
    "Decimals (qty, unit_price, amount) go as strings, exactly: \"1.5\", not 1.5.\n";

/* {"line":n,"error":msg} */
static void print_error_line(unsigned long long line, const char *msg)
{
    json_t *o = json_pack("{s:I,s:s}", "line", (json_int_t)line, "error", msg);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (text) puts(text);
    else printf("{\"line\":%llu,\"error\":\"(out of memory)\"}\n", line);
    free(text);
    json_decref(o);
}

int ms_cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, 0, 'd'}, {"knowledge", required_argument, 0, 'k'},
        {"config", required_argument, 0, 'C'}, {"lang", required_argument, 0, 'L'},
        {"history-days", required_argument, 0, 'H'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    ms_check_opts_t o = {.history_days = MS_CHECK_HISTORY_DAYS};
    unsigned long long v;
    const char *lang = "zh";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': o.dataset = optarg; break;
        case 'k': o.knowledge = optarg; break;
        case 'C': o.config = optarg; break;
        case 'H':
            if (ms_cli_uint_option("check", "--history-days", optarg, 0, MS_CHECK_HISTORY_DAYS_MAX, &v))
                return MS_EXIT_USAGE;
            o.history_days = (int)v;
            break;
        case 'L': {
            ms_lang_t l;
            if (ms_lang_parse(optarg, &l)) return ms_cli_usage_error("check", "--lang wants zh or en, got '%s'", optarg);
            lang = ms_lang_code(l);
            break;
        }
        case 'h': fputs(help, stdout); return MS_EXIT_OK;
        default: return ms_cli_usage_error("check", "unknown option");
        }
    }
    if (argc - optind > 1) return ms_cli_usage_error("check", "wants at most one FILE");
    const char *path = optind < argc ? argv[optind] : "-";
    FILE *in = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!in) return ms_cli_fail("check", ms_error_errno(MS_E_IO, errno, "cannot open %s", path));

    ms_checker_t *ck = NULL;
    ms_status_t st = ms_checker_open(&o, &ck);
    if (st != MS_OK) {
        if (in != stdin) fclose(in);
        return ms_cli_fail("check", st);
    }
    /* From a pipe or a terminal each verdict goes out as soon as it is
     * made (a hospital system may wait for it); from a file, in blocks. */
    struct stat sb;
    int interactive = fstat(fileno(in), &sb) || !S_ISREG(sb.st_mode);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long long lno = 0, bad = 0, judged = 0;
    ms_buf_t out = {0};
    while (st == MS_OK && (n = getline(&line, &cap, in)) >= 0) {
        lno++;
        size_t len = (size_t)n;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        if (strspn(line, " \t\r\n") >= len) continue;
        out.len = 0;
        st = ms_check_json(ck, line, len, lang, &out);
        if (st == MS_OK) {
            fwrite(out.data, 1, out.len, stdout);
            putchar('\n');
            judged++;
        } else if (st == MS_E_INPUT) {
            print_error_line(lno, ms_error_detail());
            bad++;
            st = MS_OK;
        }
        if (interactive) fflush(stdout);
    }
    int read_error = st == MS_OK && ferror(in);
    free(line);
    ms_buf_free(&out);
    ms_checker_close(ck);
    if (in != stdin) fclose(in);
    if (st != MS_OK) return ms_cli_fail("check", st);
    if (read_error) return ms_cli_fail("check", ms_error_errno(MS_E_IO, errno, "cannot read %s", path));
    if (fflush(stdout) || ferror(stdout))
        return ms_cli_fail("check", ms_error_errno(MS_E_IO, errno, "cannot write the verdicts"));
    if (bad) {
        fprintf(stderr, "medsweep check: %llu of %llu claims malformed (their lines say why)\n", bad, bad + judged);
        return MS_EXIT_FAIL;
    }
    return MS_EXIT_OK;
}
