/*
 * cmd_serve.c - medsweep serve: pre-notification over HTTP until SIGINT or
 * SIGTERM.
 */
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_check.h"
#include "ms_cli.h"
#include "ms_schema.h"
#include "ms_serve.h"

static const char help[] =
    "usage: medsweep serve [--data DATASET | --knowledge DIR] [--config FILE]\n"
    "                      [--history-days N] [--listen 127.0.0.1:8080] [--threads N]\n"
    "                      [--max-body BYTES]\n"
    "\n"
    "Pre-notification (事前提醒) over HTTP: a hospital system POSTs each claim\n"
    "before it is settled and gets back \"pass\" or the rules it hits, with their\n"
    "reasons (docs/prenotification.md).  The same rules and knowledge base as\n"
    "`medsweep check` and the weekly sweep.\n"
    "\n"
    "endpoints:\n"
    "  POST /v1/check          one claim as JSON -> 200 its verdict as JSON\n"
    "  POST /v1/check?lang=en  the reasons in English (default zh)\n"
    "  GET  /healthz           200 {\"status\":\"ok\",\"rules\":N,\"knowledge_items\":M,\n"
    "                          \"history_lines\":H,\"config_hash\":\"...\"}\n"
    "A body that is not JSON or not a valid claim is 400 {\"error\":\"...\"} naming\n"
    "the JSON path; a body over --max-body 413; another method 405; another path\n"
    "404.\n"
    "\n"
    "options:\n"
    "  --data DATASET      a dataset made by import: its knowledge base\n"
    "                      (knowledge.h5), its institutions and, where it has\n"
    "                      itemised bills (service_items), the persons' recent\n"
    "                      bill lines, read into memory at start: the history of\n"
    "                      a claim that sends none (\"history\":\"dataset\")\n"
    "  --knowledge DIR     a knowledge base as CSV (DIR/items.csv,\n"
    "                      DIR/exclusive_items.csv), instead of the dataset's\n"
    "  --config FILE       the rule configuration (default: the built-in rules)\n"
    "  --history-days N    the look-back of that history: the person's lines of\n"
    "                      the N days before the claim's first line up to its\n"
    "                      last; the dataset's lines of the N days before its\n"
    "                      latest are held (default 180; 0: none)\n"
    "  --listen HOST:PORT  the address to listen on (default 127.0.0.1:8080;\n"
    "                      [::1]:8080 for IPv6, 0.0.0.0:8080 for every interface,\n"
    "                      port 0 for any free one: the line printed says which)\n"
    "  --threads N         threads answering requests (default: one per core the\n"
    "                      process may use)\n"
    "  --max-body BYTES    the largest claim accepted (default 1M; suffixes K, M, G)\n"
    "  --connections N     open connections at once (default 1024)\n"
    "  --timeout S         an idle connection is closed after S seconds (default 30)\n"
    "  -h, --help          this text\n"
    "\n"
    "Prints one line once it listens.  SIGINT or SIGTERM stops it gracefully: no\n"
    "new connections, the requests in flight answered (at most 10 s), exit 0.\n"
    "Exit status 1: it could not start (the address is taken or not this\n"
    "machine's, the knowledge base or a bill partition is unreadable); 2: a usage\n"
    "error.\n"
    "\n"
    "example:\n"
    "  medsweep serve --data data/2026-w47 --listen 127.0.0.1:8080 &\n"
    "  curl -s --data-binary @claim.json 'http://127.0.0.1:8080/v1/check?lang=en'\n";

static void log_line(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "medsweep serve: %s\n", msg);
}

/* One thread per CPU of the affinity mask. */
static unsigned default_threads(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return (unsigned)CPU_COUNT(&set);
    return 1;
}

int ms_cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, 0, 'd'},     {"knowledge", required_argument, 0, 'k'},
        {"config", required_argument, 0, 'C'},   {"listen", required_argument, 0, 'l'},
        {"threads", required_argument, 0, 't'},  {"max-body", required_argument, 0, 'b'},
        {"connections", required_argument, 0, 'n'}, {"timeout", required_argument, 0, 'T'},
        {"history-days", required_argument, 0, 'H'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    ms_check_opts_t co = {.history_days = MS_CHECK_HISTORY_DAYS};
    ms_serve_opts_t so;
    ms_serve_opts_init(&so);
    so.threads = default_threads();
    so.log = log_line;
    unsigned long long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': co.dataset = optarg; break;
        case 'k': co.knowledge = optarg; break;
        case 'C': co.config = optarg; break;
        case 'H':
            if (ms_cli_uint_option("serve", "--history-days", optarg, 0, MS_CHECK_HISTORY_DAYS_MAX, &v))
                return MS_EXIT_USAGE;
            co.history_days = (int)v;
            break;
        case 'l': so.listen = optarg; break;
        case 't':
            if (ms_cli_uint_option("serve", "--threads", optarg, 1, 1024, &v)) return MS_EXIT_USAGE;
            so.threads = (unsigned)v;
            break;
        case 'b':
            if (ms_cli_parse_size(optarg, &so.max_body) || so.max_body < 1024 || so.max_body > ((size_t)1 << 30))
                return ms_cli_usage_error("serve", "--max-body wants a size of 1K..1G, got '%s'", optarg);
            break;
        case 'n':
            if (ms_cli_uint_option("serve", "--connections", optarg, 1, 1000000, &v)) return MS_EXIT_USAGE;
            so.max_connections = (unsigned)v;
            break;
        case 'T':
            if (ms_cli_uint_option("serve", "--timeout", optarg, 1, 86400, &v)) return MS_EXIT_USAGE;
            so.timeout_s = (unsigned)v;
            break;
        case 'h': fputs(help, stdout); return MS_EXIT_OK;
        default: return ms_cli_usage_error("serve", "unknown option");
        }
    }
    if (optind < argc) return ms_cli_usage_error("serve", "takes no operand ('%s')", argv[optind]);

    ms_checker_t *ck = NULL;
    ms_status_t st = ms_checker_open(&co, &ck);
    if (st != MS_OK) return ms_cli_fail("serve", st);
    /* SIGINT and SIGTERM are taken by sigwait below, never by a pool thread:
     * blocked before the pool starts, so every thread inherits the mask. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    ms_server_t *srv = NULL;
    st = ms_serve_start(ck, &so, &srv);
    if (st != MS_OK) {
        ms_checker_close(ck);
        return ms_cli_fail("serve", st);
    }
    ms_checker_info_t info;
    ms_checker_info(ck, &info);
    /* Where a claim without "history" gets one: the dataset's lines held,
     * the dates they cover and their memory. */
    char hist[160] = "";
    if (info.history_days > 0) {
        char from[11], to[11];
        ms_date_format(info.history_from, from);
        ms_date_format(info.history_to, to);
        snprintf(hist, sizeof hist, " of %s..%s, %.1f MiB", from, to, (double)info.history_bytes / (1 << 20));
    }
    printf("medsweep serve: listening on http://%s (%zu rules, %zu knowledge items, %zu institutions, "
           "%zu history lines%s, %u thread%s, config %s)\n",
           ms_serve_address(srv), info.rules, info.knowledge_items, info.institutions, info.history_lines, hist,
           so.threads, so.threads == 1 ? "" : "s", info.config_hash);
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    printf("medsweep serve: %s: stopping once the requests in flight are answered\n",
           sig == SIGINT ? "SIGINT" : "SIGTERM");
    fflush(stdout);
    ms_serve_stats_t stats;
    ms_serve_stop(srv, &stats);
    ms_checker_close(ck);
    printf("medsweep serve: stopped after %llu requests (claims checked: %llu, client errors: %llu, "
           "server errors: %llu)\n",
           (unsigned long long)stats.requests, (unsigned long long)stats.claims_checked,
           (unsigned long long)stats.client_errors, (unsigned long long)stats.server_errors);
    return MS_EXIT_OK;
}
