/*
 * ms_cli.h - the subcommands of the medsweep program.
 *
 * Each subcommand is a function taking its own argv (argv[0] = its name)
 * and returning the process exit status: 0 success, 1 the output cannot be
 * trusted (a message on stderr says why), 2 a usage error.  Only these
 * functions and main print or decide the exit status; the layers below
 * return ms_status_t.
 */
#ifndef MS_CLI_H
#define MS_CLI_H

#include <stddef.h>

#include "ms_progress.h"
#include "ms_status.h"

enum { MS_EXIT_OK = 0, MS_EXIT_FAIL = 1, MS_EXIT_USAGE = 2 };

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} ms_cmd_t;

int ms_cmd_import(int argc, char **argv);
int ms_cmd_export(int argc, char **argv);
int ms_cmd_inspect(int argc, char **argv);
int ms_cmd_gen(int argc, char **argv);
int ms_cmd_sweep(int argc, char **argv);
int ms_cmd_models(int argc, char **argv);
int ms_cmd_eval(int argc, char **argv);
int ms_cmd_topology(int argc, char **argv);
int ms_cmd_check(int argc, char **argv);
int ms_cmd_serve(int argc, char **argv);

/* Print "medsweep CMD: error: DETAIL" for a failed status; returns the exit
 * status for it: MS_EXIT_USAGE for MS_E_USAGE (bad rules, an unknown model,
 * nothing to resume), MS_EXIT_FAIL for every other status. */
int ms_cli_fail(const char *cmd, ms_status_t st);
/* Print a usage error with a pointer to --help; returns MS_EXIT_USAGE. */
int ms_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The progress display: give as the progress callback of a long job, with
 * a NULL context.  On a terminal one line rewritten in place (at most four
 * times a second); otherwise a plain line every ten seconds and at the end
 * of every stage. */
void ms_cli_progress(void *ctx, const ms_progress_t *p);
/* Parse a positive integer option value; returns 0 or -1. */
int ms_cli_parse_uint(const char *s, unsigned long long max, unsigned long long *out);
/* Parse a size in bytes: digits with an optional suffix K, M or G (powers of
 * 1024).  Anything else - a sign ("-1G" is not a size), spaces, an empty
 * string, a value past SIZE_MAX - is refused; returns 0 or -1. */
int ms_cli_parse_size(const char *s, size_t *out);
/* Parse the value s of option opt of command cmd as an integer of min..max;
 * if it is not one, print the usage error "OPT wants MIN..MAX, got 'S'".
 * Returns 0, or MS_EXIT_USAGE after the message. */
int ms_cli_uint_option(const char *cmd, const char *opt, const char *s, unsigned long long min,
                       unsigned long long max, unsigned long long *out);

#endif
