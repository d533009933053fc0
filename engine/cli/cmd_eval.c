/*
 * cmd_eval.c - medsweep eval: how well a sweep found the planted fraud.
 *
 * For each planted pattern P (truth/institutions.csv): the candidates are
 * every institution except those planted with another pattern, the
 * positives those planted with P, K the number of positives.  The sweep's
 * order is ranked.csv (unranked institutions tie below it); the naive
 * baseline orders by the indicator a model names as eval's baseline
 * (baseline_indicator: volume's fund_payment), from indicators.csv.
 *   precision@K = positives in the top K / K;  recall@K = the same / positives
 *   ROC AUC = P(a positive ranks above a negative), ties counting one half.
 * "overall": every institution, positives = every planted one.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_cli.h"
#include "ms_csv.h"
#include "ms_model.h"

typedef struct {
    char code[40];
    double score, baseline;
    int pattern[4];     /* indices into the pattern list, -1 terminated */
} entry_t;

typedef struct {
    entry_t *e;
    size_t n, cap;
    char patterns[32][48];
    int npat;
} evalset_t;

static entry_t *find(evalset_t *s, const char *code)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->e[i].code, code)) return &s->e[i];
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->e = realloc(s->e, s->cap * sizeof *s->e);
    }
    entry_t *x = &s->e[s->n++];
    memset(x, 0, sizeof *x);
    snprintf(x->code, sizeof x->code, "%s", code);
    x->score = -1e300;
    x->pattern[0] = -1;
    return x;
}

static ms_status_t read_csv(const char *path, const char *const *cols, int ncols,
                            void (*row)(evalset_t *, const ms_field_t *), evalset_t *s)
{
    ms_csv_t *c = NULL;
    MS_TRY(ms_csv_open_subset(path, cols, ncols, &c));
    const ms_field_t *f;
    uint64_t line;
    ms_status_t st;
    while ((st = ms_csv_next(c, &f, &line)) == MS_OK && f) row(s, f);
    ms_csv_close(c);
    return st;
}

static void truth_row(evalset_t *s, const ms_field_t *f)
{
    int p = 0;
    while (p < s->npat && strcmp(s->patterns[p], f[1].s)) p++;
    if (p == s->npat && s->npat < 32) snprintf(s->patterns[s->npat++], 48, "%s", f[1].s);
    entry_t *x = find(s, f[0].s);
    int k = 0;
    while (x->pattern[k] >= 0 && k < 3) k++;
    x->pattern[k] = p;
    x->pattern[k + 1] = -1;
}

static void ranked_row(evalset_t *s, const ms_field_t *f)
{
    find(s, f[1].s)->score = -atof(f[0].s); /* rank 1 is the best */
}

static void indicator_row(evalset_t *s, const ms_field_t *f)
{
    int ind;
    const ms_model_t *b = ms_models_baseline(&ind);
    if (b && !strcmp(f[1].s, b->name) && !strcmp(f[2].s, b->indicators[ind].name))
        find(s, f[0].s)->baseline = atof(f[3].s);
    else find(s, f[0].s);
}

static int has(const entry_t *e, int p)
{
    for (int k = 0; e->pattern[k] >= 0; k++)
        if (p < 0 || e->pattern[k] == p) return 1;
    return 0;
}

typedef struct {
    double precision, recall, auc;
    int k, positives, hits;
} metrics_t;

static const evalset_t *sort_set;
static int by_baseline;

static int cmp_entry(const void *a, const void *b)
{
    const entry_t *x = &sort_set->e[*(const size_t *)a], *y = &sort_set->e[*(const size_t *)b];
    double u = by_baseline ? x->baseline : x->score, v = by_baseline ? y->baseline : y->score;
    if (u != v) return u > v ? -1 : 1;
    return strcmp(x->code, y->code);
}

/* Pattern p (-1: overall), ordered by the sweep or the baseline. */
static metrics_t measure(const evalset_t *s, int p, int baseline)
{
    metrics_t m = {0, 0, 0, 0, 0, 0};
    size_t *idx = malloc((s->n ? s->n : 1) * sizeof *idx), n = 0;
    for (size_t i = 0; i < s->n; i++) {
        const entry_t *e = &s->e[i];
        if (p >= 0 && has(e, -1) && !has(e, p)) continue; /* planted with another pattern */
        idx[n++] = i;
        m.positives += has(e, p);
    }
    sort_set = s;
    by_baseline = baseline;
    qsort(idx, n, sizeof *idx, cmp_entry);
    m.k = m.positives;
    for (size_t r = 0; r < n && r < (size_t)m.k; r++) m.hits += has(&s->e[idx[r]], p);
    m.precision = m.k ? (double)m.hits / m.k : 0;
    m.recall = m.positives ? (double)m.hits / m.positives : 0;
    /* AUC from ranks, ties counting one half. */
    double pairs = 0, good = 0;
    for (size_t a = 0; a < n; a++) {
        const entry_t *ea = &s->e[idx[a]];
        if (!has(ea, p)) continue;
        double sa = baseline ? ea->baseline : ea->score;
        for (size_t b = 0; b < n; b++) {
            const entry_t *eb = &s->e[idx[b]];
            if (has(eb, p)) continue;
            double sb = baseline ? eb->baseline : eb->score;
            pairs++;
            good += sa > sb ? 1 : sa == sb ? 0.5 : 0;
        }
    }
    m.auc = pairs > 0 ? good / pairs : 0;
    free(idx);
    return m;
}

static const char help[] =
    "usage: medsweep eval OUT_DIR --truth DATASET_DIR/truth [--json]\n"
    "\n"
    "Measure how well a sweep of a generated world found the planted fraud:\n"
    "precision@K (K = the number of institutions planted with the pattern),\n"
    "recall@K and ROC AUC, per planted pattern and overall, beside the same\n"
    "figures for the naive ranking by total fund payment.  For a pattern, the\n"
    "institutions planted with other patterns are left out.\n"
    "\n"
    "options:\n"
    "  --truth DIR   the world's truth directory (medsweep gen writes DIR/truth)\n"
    "  --json        print JSON instead of the table\n";

int ms_cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {
        {"truth", required_argument, 0, 't'}, {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *truth = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 't') truth = optarg;
        else if (c == 'j') json = 1;
        else if (c == 'h') {
            fputs(help, stdout);
            return MS_EXIT_OK;
        } else return ms_cli_usage_error("eval", "unknown option");
    }
    if (argc - optind != 1 || !truth) return ms_cli_usage_error("eval", "wants OUT_DIR and --truth DIR");
    const char *out = argv[optind];
    evalset_t s;
    memset(&s, 0, sizeof s);
    char path[4096];
    static const char *const tcols[] = {"inst_code", "pattern", "intensity"};
    static const char *const rcols[] = {"rank", "inst_code"};
    static const char *const icols[] = {"inst_code", "model", "indicator", "numerator", "denominator"};
    snprintf(path, sizeof path, "%s/indicators.csv", out);
    ms_status_t st = read_csv(path, icols, 5, indicator_row, &s);
    snprintf(path, sizeof path, "%s/institutions.csv", truth);
    if (st == MS_OK) st = read_csv(path, tcols, 3, truth_row, &s);
    snprintf(path, sizeof path, "%s/ranked.csv", out);
    if (st == MS_OK) st = read_csv(path, rcols, 2, ranked_row, &s);
    if (st != MS_OK) {
        free(s.e);
        return ms_cli_fail("eval", st);
    }
    json_t *root = json_array();
    if (!json)
        printf("%-28s %4s | %-23s | %-23s\n%-28s %4s | %7s %7s %7s | %7s %7s %7s\n", "pattern", "K", "sweep",
               "baseline (fund payment)", "", "", "prec@K", "rec@K", "AUC", "prec@K", "rec@K", "AUC");
    for (int p = 0; p <= s.npat; p++) {
        int pat = p < s.npat ? p : -1;
        metrics_t a = measure(&s, pat, 0), b = measure(&s, pat, 1);
        const char *name = pat >= 0 ? s.patterns[pat] : "overall";
        if (json) {
            json_t *o = json_pack("{s:s, s:i, s:{s:f, s:f, s:f}, s:{s:f, s:f, s:f}}", "pattern", name, "k", a.k,
                                  "sweep", "precision_at_k", a.precision, "recall_at_k", a.recall, "auc", a.auc,
                                  "baseline", "precision_at_k", b.precision, "recall_at_k", b.recall, "auc", b.auc);
            json_array_append_new(root, o);
        } else {
            printf("%-28s %4d | %7.3f %7.3f %7.3f | %7.3f %7.3f %7.3f\n", name, a.k, a.precision, a.recall, a.auc,
                   b.precision, b.recall, b.auc);
        }
    }
    if (json) {
        json_dumpf(root, stdout, JSON_INDENT(2));
        putchar('\n');
    }
    json_decref(root);
    free(s.e);
    return MS_EXIT_OK;
}
