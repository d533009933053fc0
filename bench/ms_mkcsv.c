/*
 * ms_mkcsv - write a random but valid world in canonical CSV
 * (institutions.csv, groups.csv, settlements.csv, drug_items.csv), for
 * tests, benchmarks and the sample data set.  See io/synth/ms_fakecsv.h.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_fakecsv.h"
#include "ms_schema.h"

static void usage(FILE *fp)
{
    fputs("usage: ms_mkcsv --out DIR [options]\n"
          "Writes DIR/institutions.csv, groups.csv, settlements.csv and drug_items.csv:\n"
          "random but valid canonical CSV (docs/schema.md), the same for the same options.\n"
          "\n"
          "  --settlements N                    settlement rows (default 20000)\n"
          "  --drug-items-per-pharmacy-visit K  mean coded drug items per pharmacy visit\n"
          "                                     (default 2; 0 = no drug items)\n"
          "  --institutions N                   (default settlements/200, at least 5)\n"
          "  --groups N                         DRG/DIP groups (default 60)\n"
          "  --seed S                           (default 1)\n"
          "  --start YYYY-MM-DD                 first day of the window (default 2023-01-01)\n"
          "  --days N                           length of the window (default 365)\n"
          "  --awkward                          add rare awkward but valid values (zero money,\n"
          "                                     maximum-length codes, huge amounts, UTF-8 names)\n"
          "  --unicode                          UTF-8 (Chinese) institution names only\n"
          "  --progress                         progress lines on stderr\n"
          "  --quiet                            no summary line\n"
          "  --out DIR                          output directory (created if missing)\n",
          fp);
}

/* --progress: a line on stderr every 2 seconds and at the end. */
static void progress_line(void *ctx, const ms_progress_t *p)
{
    double *last = ctx;
    if (!p->finished && p->seconds - *last < 2.0) return;
    *last = p->seconds;
    fprintf(stderr, "ms_mkcsv: %llu / %llu %s, %.1f s\n", (unsigned long long)p->done,
            (unsigned long long)p->total, p->unit, p->seconds);
}

static int parse_u64(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-') goto bad;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max) goto bad;
    *out = v;
    return 0;
bad:
    fprintf(stderr, "ms_mkcsv: %s: bad value '%s'\n", opt, s ? s : "");
    return -1;
}

/* parse_u64, and at least 1. */
static int parse_count(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
    if (parse_u64(opt, s, max, out)) return -1;
    if (*out == 0) {
        fprintf(stderr, "ms_mkcsv: %s must be at least 1\n", opt);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    ms_fake_opts_t o;
    ms_fake_opts_init(&o);
    const char *out = NULL;
    int quiet = 0;
    double progress_last = 0;
    enum { O_SETT = 256, O_K, O_INST, O_GROUPS, O_SEED, O_START, O_DAYS, O_AWK, O_UNI, O_PROG, O_QUIET, O_OUT };
    static const struct option longopts[] = {
        {"settlements", required_argument, NULL, O_SETT},
        {"drug-items-per-pharmacy-visit", required_argument, NULL, O_K},
        {"institutions", required_argument, NULL, O_INST},
        {"groups", required_argument, NULL, O_GROUPS},
        {"seed", required_argument, NULL, O_SEED},
        {"start", required_argument, NULL, O_START},
        {"days", required_argument, NULL, O_DAYS},
        {"awkward", no_argument, NULL, O_AWK},
        {"unicode", no_argument, NULL, O_UNI},
        {"progress", no_argument, NULL, O_PROG},
        {"quiet", no_argument, NULL, O_QUIET},
        {"out", required_argument, NULL, O_OUT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    uint64_t v;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case O_SETT:
            if (parse_u64("--settlements", optarg, (1ull << 47) - 1, &v)) return 2;
            o.settlements = v;
            break;
        case O_K: {
            char *end;
            errno = 0;
            double k = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(k >= 0 && k <= 100)) {
                fprintf(stderr, "ms_mkcsv: --drug-items-per-pharmacy-visit: bad value '%s' (0..100)\n", optarg);
                return 2;
            }
            o.drug_items_per_pharmacy_visit = k;
            break;
        }
        case O_INST:
            if (parse_u64("--institutions", optarg, 100000000, &v)) return 2;
            o.institutions = (uint32_t)v;
            break;
        case O_GROUPS:
            if (parse_count("--groups", optarg, 1000000, &v)) return 2;
            o.groups = (uint32_t)v;
            break;
        case O_SEED:
            if (parse_u64("--seed", optarg, UINT64_MAX, &v)) return 2;
            o.seed = v;
            break;
        case O_START: {
            int32_t d;
            if (ms_date_parse(optarg, strlen(optarg), &d) != 0) {
                fprintf(stderr, "ms_mkcsv: --start: bad date '%s' (YYYY-MM-DD)\n", optarg);
                return 2;
            }
            o.first_day = d;
            break;
        }
        case O_DAYS:
            if (parse_count("--days", optarg, 36500, &v)) return 2;
            o.days = (int32_t)v;
            break;
        case O_AWK:
            o.flags |= MS_FAKE_AWKWARD;
            break;
        case O_UNI:
            o.flags |= MS_FAKE_UNICODE;
            break;
        case O_PROG:
            o.progress = progress_line;
            o.progress_ctx = &progress_last;
            break;
        case O_QUIET:
            quiet = 1;
            break;
        case O_OUT:
            out = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ms_mkcsv: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (!out) {
        fprintf(stderr, "ms_mkcsv: --out DIR is required\n");
        usage(stderr);
        return 2;
    }

    ms_fake_stats_t st;
    if (ms_fake_write_stats(&o, out, &st) != 0) {
        fprintf(stderr, "ms_mkcsv: %s\n", ms_fake_error());
        return 1;
    }
    if (!quiet) {
        uint64_t rows = st.institutions + st.groups + st.settlements + st.drug_items;
        printf("ms_mkcsv: wrote %s: %" PRIu64 " settlements (%" PRIu64 " persons), %" PRIu64
               " drug items, %" PRIu64 " institutions, %" PRIu64 " groups; %.1f MB in %.2f s"
               " (%.2f M rows/s)\n",
               out, st.settlements, st.persons, st.drug_items, st.institutions, st.groups,
               (double)st.bytes / 1e6, st.seconds, st.seconds > 0 ? (double)rows / st.seconds / 1e6 : 0.0);
    }
    return 0;
}
