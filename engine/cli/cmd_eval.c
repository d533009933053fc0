/*
 * cmd_eval.c - medsweep eval: how well a sweep found the planted fraud.
 *
 * For each planted pattern P (truth/institutions.csv): the candidates are
 * every institution except those planted with another pattern, the
 * positives those planted with P, K the number of positives.  Three
 * rankings are measured:
 *   sweep         ranked.csv's order (institutions it does not list tie
 *                 below it, in inst_code order);
 *   simple screen a deliberately simple peer screen computed here from
 *                 indicators.csv (ms_eval_screen.c has the exact formula):
 *                 per scored indicator (share or ratio, of a model with
 *                 default weight > 0) a shrunk share v* = (num + 30 p) /
 *                 (den + 30) or a log ratio log(max(num/den, 0.01 p) / p)
 *                 against the peer group's pooled p; its one-sided peer
 *                 z = max(0, dir (x - mean_g) / sd_g); per model the sum
 *                 of its z divided by the 99th percentile of that sum over
 *                 institutions; the score is the sum over models (ties by
 *                 inst_code).  Peer
 *                 groups: (kind, level, province) from ranked.csv (then
 *                 ranked_<model>.csv), < 5 institutions -> (kind, level)
 *                 nationwide; institutions none of them lists are one group;
 *   fund payment  the naive baseline, by the indicator a model names as
 *                 eval's baseline (baseline_indicator: volume's
 *                 fund_payment), from indicators.csv.
 *   precision@K = positives in the top K / K;  recall@K = the same / positives
 *   ROC AUC = P(a positive ranks above a negative), ties counting one half.
 * "overall": every institution, positives = every planted one.
 *
 * Per model: each planted pattern belongs to the model meant to find it
 * (pattern_model below, from docs/generator.md); the model's own list
 * (ranked_<model>.csv, unlisted institutions tied below) and the simple
 * screen's score of that model alone (its sum of z: the order of its scaled
 * sum, and still an order when the 99th percentile is 0 and the scaled sum
 * all zeros) are measured with positives = the institutions planted with
 * any of its patterns, candidates = every institution except those planted
 * only with other models' patterns.
 *
 * Hard negatives (truth/hard_negatives.csv: inst_code,kind, when it exists):
 * honest institutions that look like cheaters on one indicator; for each of
 * the three rankings, how many reach the overall top K (K = the planted
 * institutions), and of which kinds.  One that is also planted is not
 * counted.
 *
 * JSON (--json): the array of pattern rows as before (pattern, k, sweep,
 * baseline = fund payment), each with screen and, when its model is known,
 * model and model_list; the "overall" row also carries models (the per-model
 * lists), screen_p99, screen_groups and, when the file exists,
 * hard_negatives.
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ms_buf.h"
#include "ms_cli.h"
#include "ms_csv.h"
#include "ms_eval_screen.h"
#include "ms_hmap.h"
#include "ms_model.h"

#define MAXPAT 64
#define MAXMOD 32
#define MAXHK 32
#define UNRANKED (-1e300)

/* The model of docs/models.md meant to find each pattern of the generator
 * (docs/generator.md, "Planted fraud"). */
static const struct {
    const char *pattern, *model;
} pattern_model[] = {
    {"overlapping_stay", "false_hosp"},   {"treatment_light_stay", "false_hosp"},
    {"group_admission", "false_hosp"},    {"minor_diagnosis_admission", "false_hosp"},
    {"beds_overflow", "false_hosp"},      {"upcoding", "upcoding"},
    {"decomposed_stay", "decomposed"},    {"transfer_pingpong", "decomposed"},
    {"doctor_overload", "overload"},      {"preadmission_costs", "cost_shift"},
    {"self_pay_shift", "cost_shift"},     {"returned_drugs", "drugs"},
    {"hoarding_buyers", "drugs"},
    /* The rule base over itemised bills (gen --bills): one pattern per template. */
    {"rule_sex", "rules"},                {"rule_age", "rules"},
    {"rule_over_qty", "rules"},           {"rule_excess_supply", "rules"},
    {"rule_duplicate", "rules"},          {"rule_bed_days", "rules"},
    {"rule_scope", "rules"},              {"rule_repeat_exam", "rules"},
    {"rule_setting", "rules"},            {"rule_empty_brush", "rules"},
};

typedef struct {
    char code[40];
    double score;              /* sweep: -rank in ranked.csv */
    double baseline;           /* fund payment */
    double screen;             /* the simple screen's score */
    double msweep[MAXMOD];     /* -rank in ranked_<model>.csv */
    double mscreen[MAXMOD];    /* the simple screen's sum of the model's z */
    uint64_t planted;          /* bit p: planted with pattern p */
    int known;                 /* kind, level, province read from a ranked file */
    char kind[32], level[16], province[8];
    int hard;                  /* 1 + index in hk[] when a hard negative, else 0 */
} entry_t;

typedef struct {
    size_t entry;
    int slot;
    double num, den;
} cell_t;

typedef struct {
    entry_t *e;
    size_t n, cap;
    ms_hmap_t index;           /* inst_code -> entry */
    char patterns[MAXPAT][48];
    int npat, too_many_patterns;
    int pmodel[MAXPAT];        /* pattern -> index in models[], or -1 */
    const ms_model_t *models[MAXMOD]; /* registry models with default weight > 0 */
    int nmodels, has_list[MAXMOD];
    ms_screen_t screen;
    cell_t *cells;
    size_t ncells, capcells;
    int cur_model;             /* the model whose ranked_<model>.csv is being read */
    char hk[MAXHK][48];        /* hard-negative kinds, alphabetical (sort_hard_kinds) */
    int nhk, hard_listed, hard_nodata;
} evalset_t;

/* ------------------------------------------------------------ reading */

typedef struct {
    const evalset_t *s;
    const char *code;
} code_key_t;

static int same_code(const void *ctx, uint32_t id)
{
    const code_key_t *k = ctx;
    return !strcmp(k->s->e[id].code, k->code);
}

static entry_t *lookup(evalset_t *s, const char *code)
{
    code_key_t k = {s, code};
    uint32_t id = ms_hmap_find(&s->index, ms_hash_str(code), same_code, &k);
    return id == MS_HMAP_NONE ? NULL : &s->e[id];
}

/* Give up on memory: eval has nothing to leave half done. */
static void out_of_memory(void)
{
    fputs("medsweep eval: error: out of memory\n", stderr);
    exit(MS_EXIT_FAIL);
}

static entry_t *find(evalset_t *s, const char *code)
{
    entry_t *x = lookup(s, code);
    if (x) return x;
    if (ms_grow(&s->e, &s->cap, s->n + 1, sizeof *s->e, 1024) != MS_OK ||
        ms_hmap_insert(&s->index, ms_hash_str(code), (uint32_t)s->n) != MS_OK)
        out_of_memory();
    x = &s->e[s->n++];
    memset(x, 0, sizeof *x);
    snprintf(x->code, sizeof x->code, "%s", code);
    x->score = UNRANKED;
    for (int m = 0; m < MAXMOD; m++) x->msweep[m] = UNRANKED;
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
    if (p == MAXPAT) {
        s->too_many_patterns = 1;
        return;
    }
    if (p == s->npat) snprintf(s->patterns[s->npat++], 48, "%s", f[1].s);
    find(s, f[0].s)->planted |= UINT64_C(1) << p;
}

static void take_group(entry_t *x, const ms_field_t *f)
{
    if (x->known) return;
    x->known = 1;
    snprintf(x->kind, sizeof x->kind, "%s", f[2].s);
    snprintf(x->level, sizeof x->level, "%s", f[3].s);
    snprintf(x->province, sizeof x->province, "%.2s", f[4].s);
}

/* An inst_code as the sweep wrote it: a code that would start a spreadsheet
 * formula has a leading "'" there (engine/ms_output.c); the truth has the
 * code itself. */
static const char *sweep_code(const ms_field_t *f)
{
    const char *c = f->s;
    if (c[0] == '\'' && (c[1] == '=' || c[1] == '+' || c[1] == '-' || c[1] == '@' || c[1] == '\t' || c[1] == '\r'))
        return c + 1;
    return c;
}

static void ranked_row(evalset_t *s, const ms_field_t *f)
{
    find(s, sweep_code(&f[1]))->score = -atof(f[0].s); /* rank 1 is the best */
}

static void ranked_row_groups(evalset_t *s, const ms_field_t *f)
{
    ranked_row(s, f);
    take_group(find(s, sweep_code(&f[1])), f);
}

static void model_row(evalset_t *s, const ms_field_t *f)
{
    find(s, sweep_code(&f[1]))->msweep[s->cur_model] = -atof(f[0].s);
}

static void model_row_groups(evalset_t *s, const ms_field_t *f)
{
    model_row(s, f);
    take_group(find(s, sweep_code(&f[1])), f);
}

static void indicator_row(evalset_t *s, const ms_field_t *f)
{
    int ind;
    const ms_model_t *b = ms_models_baseline(&ind);
    entry_t *x = find(s, sweep_code(&f[0]));
    if (b && !strcmp(f[1].s, b->name) && !strcmp(f[2].s, b->indicators[ind].name)) x->baseline = atof(f[3].s);
    int slot = ms_screen_slot(&s->screen, f[1].s, f[2].s);
    if (slot < 0) return;
    if (ms_grow(&s->cells, &s->capcells, s->ncells + 1, sizeof *s->cells, 4096) != MS_OK) out_of_memory();
    s->cells[s->ncells++] = (cell_t){(size_t)(x - s->e), slot, atof(f[3].s), atof(f[4].s)};
}

static void hard_row(evalset_t *s, const ms_field_t *f)
{
    s->hard_listed++;
    entry_t *x = lookup(s, f[0].s);
    if (!x) {
        s->hard_nodata++;
        return;
    }
    int k = 0;
    while (k < s->nhk && strcmp(s->hk[k], f[1].s)) k++;
    if (k == MAXHK) k = MAXHK - 1; /* the rest share the last kind */
    else if (k == s->nhk) snprintf(s->hk[s->nhk++], sizeof s->hk[0], "%s", f[1].s);
    x->hard = k + 1;
}

/* Hard-negative kinds in alphabetical order. */
static void sort_hard_kinds(evalset_t *s)
{
    int rank[MAXHK];
    char sorted[MAXHK][48];
    for (int a = 0; a < s->nhk; a++) {
        rank[a] = 0;
        for (int b = 0; b < s->nhk; b++) rank[a] += strcmp(s->hk[b], s->hk[a]) < 0;
    }
    for (int a = 0; a < s->nhk; a++) memcpy(sorted[rank[a]], s->hk[a], sizeof sorted[0]);
    memcpy(s->hk, sorted, (size_t)s->nhk * sizeof sorted[0]);
    for (size_t i = 0; i < s->n; i++)
        if (s->e[i].hard) s->e[i].hard = rank[s->e[i].hard - 1] + 1;
}

/* A ranked file: with kind, level and region when it has them. */
static ms_status_t read_ranked(const char *path, void (*plain)(evalset_t *, const ms_field_t *),
                               void (*groups)(evalset_t *, const ms_field_t *), evalset_t *s)
{
    static const char *const gcols[] = {"rank", "inst_code", "kind", "level", "region"};
    ms_status_t st = read_csv(path, gcols, 5, groups, s);
    if (st != MS_E_SCHEMA) return st;
    ms_error_clear();
    return read_csv(path, gcols, 2, plain, s);
}

/* ------------------------------------------------------------ measuring */

enum { BY_SWEEP, BY_BASELINE, BY_SCREEN, BY_MODEL_SWEEP, BY_MODEL_SCREEN };

static double value(const entry_t *e, int by, int m)
{
    switch (by) {
    case BY_SWEEP: return e->score;
    case BY_BASELINE: return e->baseline;
    case BY_SCREEN: return e->screen;
    case BY_MODEL_SWEEP: return e->msweep[m];
    default: return e->mscreen[m];
    }
}

typedef struct {
    double precision, recall, auc;
    int k, positives, hits;
} metrics_t;

static const evalset_t *sort_set;
static int sort_by, sort_m;

static int cmp_entry(const void *a, const void *b)
{
    const entry_t *x = &sort_set->e[*(const size_t *)a], *y = &sort_set->e[*(const size_t *)b];
    double u = value(x, sort_by, sort_m), v = value(y, sort_by, sort_m);
    if (u != v) return u > v ? -1 : 1;
    return strcmp(x->code, y->code);
}

/* The candidates for the patterns of mask, ordered by ranking (by, m):
 * every institution not planted, or planted with one of them.  Their count
 * is returned; positives in *positives. */
static size_t order(const evalset_t *s, uint64_t mask, int by, int m, size_t *idx, int *positives)
{
    size_t n = 0;
    *positives = 0;
    for (size_t i = 0; i < s->n; i++) {
        const entry_t *e = &s->e[i];
        if (e->planted && !(e->planted & mask)) continue; /* planted with another pattern only */
        idx[n++] = i;
        *positives += (e->planted & mask) != 0;
    }
    sort_set = s, sort_by = by, sort_m = m;
    qsort(idx, n, sizeof *idx, cmp_entry);
    return n;
}

static metrics_t measure(const evalset_t *s, uint64_t mask, int by, int m)
{
    metrics_t r = {0, 0, 0, 0, 0, 0};
    size_t *idx = malloc((s->n ? s->n : 1) * sizeof *idx);
    if (!idx) return r;
    size_t n = order(s, mask, by, m, idx, &r.positives);
    r.k = r.positives;
    for (size_t q = 0; q < n && q < (size_t)r.k; q++) r.hits += (s->e[idx[q]].planted & mask) != 0;
    r.precision = r.k ? (double)r.hits / r.k : 0;
    r.recall = r.positives ? (double)r.hits / r.positives : 0;
    /* AUC from the order, ties counting one half. */
    double pairs = 0, good = 0;
    for (size_t a = 0; a < n; a++) {
        const entry_t *ea = &s->e[idx[a]];
        if (!(ea->planted & mask)) continue;
        double sa = value(ea, by, m);
        for (size_t b = 0; b < n; b++) {
            const entry_t *eb = &s->e[idx[b]];
            if (eb->planted & mask) continue;
            double sb = value(eb, by, m);
            pairs++;
            good += sa > sb ? 1 : sa == sb ? 0.5 : 0;
        }
    }
    r.auc = pairs > 0 ? good / pairs : 0;
    free(idx);
    return r;
}

/* Hard negatives in the overall top K of ranking by: their count, and per
 * kind in kinds[nhk]. */
static int hard_in_top(const evalset_t *s, int by, int *kinds)
{
    size_t *idx = malloc((s->n ? s->n : 1) * sizeof *idx);
    int positives, count = 0;
    memset(kinds, 0, MAXHK * sizeof *kinds);
    if (!idx) return 0;
    size_t n = order(s, ~UINT64_C(0), by, 0, idx, &positives);
    for (size_t q = 0; q < n && q < (size_t)positives; q++) {
        const entry_t *e = &s->e[idx[q]];
        if (e->hard && !e->planted) count++, kinds[e->hard - 1]++;
    }
    free(idx);
    return count;
}

/* ------------------------------------------------------------ the screen */

static ms_status_t run_screen(evalset_t *s)
{
    ms_screen_t *sc = &s->screen;
    MS_TRY(ms_screen_size(sc, s->n));
    for (size_t c = 0; c < s->ncells; c++) {
        size_t at = (size_t)s->cells[c].slot * s->n + s->cells[c].entry;
        sc->num[at] = s->cells[c].num; /* a repeated row: the last one */
        sc->den[at] = s->cells[c].den;
    }
    const char **kind = malloc((s->n ? s->n : 1) * 3 * sizeof *kind);
    if (!kind) return ms_error_set(MS_E_NOMEM, "eval: no memory for peer groups");
    const char **level = kind + s->n, **province = level + s->n;
    for (size_t i = 0; i < s->n; i++) kind[i] = s->e[i].kind, level[i] = s->e[i].level, province[i] = s->e[i].province;
    ms_status_t st = ms_screen_run(sc, kind, level, province);
    free(kind);
    MS_TRY(st);
    for (size_t i = 0; i < s->n; i++) {
        s->e[i].screen = sc->score[i];
        for (int m = 0; m < s->nmodels; m++) {
            int sm = ms_screen_model(sc, s->models[m]->name);
            /* The model's sum: the order of its scaled sum, and still an order when q_m = 0. */
            s->e[i].mscreen[m] = sm >= 0 ? sc->sum[(size_t)sm * s->n + i] : 0;
        }
    }
    return MS_OK;
}

/* ------------------------------------------------------------ output */

static json_t *jmetrics(metrics_t m)
{
    return json_pack("{s:f, s:f, s:f, s:i}", "precision_at_k", m.precision, "recall_at_k", m.recall, "auc", m.auc,
                     "hits", m.hits);
}

static void print_metrics(metrics_t m) { printf(" | %7.3f %7.3f %7.3f", m.precision, m.recall, m.auc); }

static uint64_t model_mask(const evalset_t *s, int m)
{
    uint64_t mask = 0;
    for (int p = 0; p < s->npat; p++)
        if (s->pmodel[p] == m) mask |= UINT64_C(1) << p;
    return mask;
}

static json_t *hard_json(const evalset_t *s, int count, const int *kinds)
{
    json_t *k = json_object();
    for (int h = 0; h < s->nhk; h++) json_object_set_new(k, s->hk[h], json_integer(kinds[h]));
    return json_pack("{s:i, s:o}", "in_top_k", count, "kinds", k);
}

static void hard_print(const evalset_t *s, const char *name, int count, const int *kinds)
{
    printf("  %-14s %3d", name, count);
    const char *sep = "  ";
    for (int h = 0; h < s->nhk; h++)
        if (kinds[h]) printf("%s%s %d", sep, s->hk[h], kinds[h]), sep = ", ";
    putchar('\n');
}

static const char help[] =
    "usage: medsweep eval OUT_DIR --truth DATASET_DIR/truth [--json]\n"
    "\n"
    "Measure how well a sweep of a generated world found the planted fraud:\n"
    "precision@K (K = the number of institutions planted with the pattern),\n"
    "recall@K and ROC AUC, per planted pattern and overall, for three rankings:\n"
    "the sweep (ranked.csv), a simple peer screen and the naive ranking by\n"
    "total fund payment.  For a pattern, the institutions planted with other\n"
    "patterns are left out.\n"
    "\n"
    "The simple screen (the yardstick the sweep must beat), from indicators.csv:\n"
    "for every share or ratio indicator of a model with default weight > 0,\n"
    "per institution with den > 0, against the pooled p = sum num / sum den of\n"
    "its peer group: x = (num + 30 p) / (den + 30) for a share, x =\n"
    "log(max(num/den, 0.01 p) / p) for a ratio; z = max(0, direction (x - mean)\n"
    "/ max(sd, 1e-9)), mean and population sd over the group's institutions\n"
    "with den > 0 (over all of them when the group has fewer than 3).  A model's\n"
    "score is the sum of its z divided by the nearest-rank 99th percentile of\n"
    "that sum over all institutions (0 when that is 0); the screen's score is\n"
    "the sum over models, ties by inst_code.  Peer groups: kind, level and\n"
    "province (first two digits of region) from ranked.csv (then the\n"
    "ranked_<model>.csv), kind and level nationwide when fewer than 5;\n"
    "institutions none of them lists form one group.\n"
    "\n"
    "Then per model: its own list (ranked_<model>.csv) and the screen's sum of\n"
    "that model's z alone, against the patterns the model is meant to find (K =\n"
    "their planted institutions).  When truth/hard_negatives.csv exists\n"
    "(inst_code,kind: honest institutions that look like cheaters), how many\n"
    "reach each ranking's overall top K, and of which kinds.\n"
    "\n"
    "options:\n"
    "  --truth DIR   the world's truth directory (medsweep gen writes DIR/truth)\n"
    "  --json        print JSON instead of the table: the array of pattern rows\n"
    "                (pattern, k, sweep, baseline = fund payment, screen, model,\n"
    "                model_list); the overall row adds models, screen_p99,\n"
    "                screen_groups and hard_negatives\n";

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
    int count;
    const ms_model_t *const *models = ms_models(&count);
    for (int m = 0; m < count && s.nmodels < MAXMOD; m++)
        if (models[m]->default_weight > 0) s.models[s.nmodels++] = models[m];
    char path[4096];
    static const char *const tcols[] = {"inst_code", "pattern", "intensity"};
    static const char *const icols[] = {"inst_code", "model", "indicator", "numerator", "denominator"};
    static const char *const hcols[] = {"inst_code", "kind"};
    ms_status_t st = ms_screen_init(&s.screen);
    snprintf(path, sizeof path, "%s/indicators.csv", out);
    if (st == MS_OK) st = read_csv(path, icols, 5, indicator_row, &s);
    snprintf(path, sizeof path, "%s/institutions.csv", truth);
    if (st == MS_OK) st = read_csv(path, tcols, 3, truth_row, &s);
    if (st == MS_OK && s.too_many_patterns)
        st = ms_error_set(MS_E_INPUT, "%s: more than %d patterns", path, MAXPAT);
    snprintf(path, sizeof path, "%s/ranked.csv", out);
    if (st == MS_OK) st = read_ranked(path, ranked_row, ranked_row_groups, &s);
    for (int m = 0; m < s.nmodels && st == MS_OK; m++) {
        snprintf(path, sizeof path, "%s/ranked_%s.csv", out, s.models[m]->name);
        if (access(path, F_OK)) continue;
        s.cur_model = m;
        s.has_list[m] = 1;
        st = read_ranked(path, model_row, model_row_groups, &s);
    }
    /* Hard negatives: only institutions already known (with data). */
    snprintf(path, sizeof path, "%s/hard_negatives.csv", truth);
    int has_hard = !access(path, F_OK);
    if (st == MS_OK && has_hard) st = read_csv(path, hcols, 2, hard_row, &s);
    if (st == MS_OK && has_hard) sort_hard_kinds(&s);
    if (st == MS_OK) st = run_screen(&s);
    if (st != MS_OK) {
        ms_screen_free(&s.screen);
        free(s.e), free(s.cells), ms_hmap_free(&s.index);
        return ms_cli_fail("eval", st);
    }
    for (int p = 0; p < s.npat; p++) {
        s.pmodel[p] = -1;
        for (size_t q = 0; q < sizeof pattern_model / sizeof pattern_model[0]; q++)
            if (!strcmp(pattern_model[q].pattern, s.patterns[p]))
                for (int m = 0; m < s.nmodels; m++)
                    if (!strcmp(s.models[m]->name, pattern_model[q].model)) s.pmodel[p] = m;
    }

    json_t *root = json_array();
    if (!json)
        printf("%-28s %4s | %-23s | %-23s | %s\n%-28s %4s | %7s %7s %7s | %7s %7s %7s | %7s %7s %7s\n", "pattern",
               "K", "sweep", "simple screen", "fund payment", "", "", "prec@K", "rec@K", "AUC", "prec@K", "rec@K",
               "AUC", "prec@K", "rec@K", "AUC");
    for (int p = 0; p <= s.npat; p++) {
        int pat = p < s.npat ? p : -1;
        uint64_t mask = pat >= 0 ? UINT64_C(1) << pat : ~UINT64_C(0);
        metrics_t a = measure(&s, mask, BY_SWEEP, 0), b = measure(&s, mask, BY_BASELINE, 0),
                  k = measure(&s, mask, BY_SCREEN, 0);
        const char *name = pat >= 0 ? s.patterns[pat] : "overall";
        if (json) {
            json_t *o = json_pack("{s:s, s:i, s:{s:f, s:f, s:f}, s:{s:f, s:f, s:f}, s:o}", "pattern", name, "k", a.k,
                                  "sweep", "precision_at_k", a.precision, "recall_at_k", a.recall, "auc", a.auc,
                                  "baseline", "precision_at_k", b.precision, "recall_at_k", b.recall, "auc", b.auc,
                                  "screen", jmetrics(k));
            int m = pat >= 0 ? s.pmodel[pat] : -1;
            if (m >= 0) {
                json_object_set_new(o, "model", json_string(s.models[m]->name));
                json_t *ml = json_object();
                json_object_set_new(ml, "sweep", s.has_list[m] ? jmetrics(measure(&s, mask, BY_MODEL_SWEEP, m))
                                                                : json_null());
                json_object_set_new(ml, "screen", jmetrics(measure(&s, mask, BY_MODEL_SCREEN, m)));
                json_object_set_new(o, "model_list", ml);
            } else if (pat >= 0) json_object_set_new(o, "model", json_null());
            json_array_append_new(root, o);
        } else {
            printf("%-28s %4d", name, a.k);
            print_metrics(a), print_metrics(k), print_metrics(b);
            putchar('\n');
        }
    }

    /* Per model: its own list against the patterns it is meant to find. */
    json_t *jmodels = json_array();
    int header = 0;
    for (int m = 0; m < s.nmodels; m++) {
        uint64_t mask = model_mask(&s, m);
        if (!mask) continue;
        metrics_t a = measure(&s, mask, BY_MODEL_SWEEP, m), k = measure(&s, mask, BY_MODEL_SCREEN, m),
                  b = measure(&s, mask, BY_BASELINE, 0);
        if (json) {
            json_t *pats = json_array();
            for (int p = 0; p < s.npat; p++)
                if (s.pmodel[p] == m) json_array_append_new(pats, json_string(s.patterns[p]));
            int sm = ms_screen_model(&s.screen, s.models[m]->name);
            json_array_append_new(
                jmodels, json_pack("{s:s, s:i, s:o, s:o, s:o, s:o, s:f}", "model", s.models[m]->name, "k", a.k,
                                   "patterns", pats, "sweep", s.has_list[m] ? jmetrics(a) : json_null(), "screen",
                                   jmetrics(k), "baseline", jmetrics(b), "screen_p99",
                                   sm >= 0 ? s.screen.p99[sm] : 0.0));
        } else {
            if (!header++)
                printf("\n%-28s %4s | %-23s | %-23s | %s\n", "model (its own list)", "K", "sweep ranked_<model>",
                       "simple screen, model", "fund payment");
            printf("%-28s %4d", s.models[m]->name, a.k);
            if (s.has_list[m]) print_metrics(a);
            else printf(" | %7s %7s %7s", "-", "-", "-");
            print_metrics(k), print_metrics(b);
            putchar('\n');
        }
    }

    /* Hard negatives in the overall top K. */
    int hk_sweep[MAXHK], hk_screen[MAXHK], hk_base[MAXHK];
    int h_sweep = 0, h_screen = 0, h_base = 0, ktop = 0;
    if (has_hard) {
        h_sweep = hard_in_top(&s, BY_SWEEP, hk_sweep);
        h_screen = hard_in_top(&s, BY_SCREEN, hk_screen);
        h_base = hard_in_top(&s, BY_BASELINE, hk_base);
        for (size_t i = 0; i < s.n; i++) ktop += s.e[i].planted != 0;
    }
    if (json) {
        json_t *overall = json_array_get(root, json_array_size(root) - 1);
        json_object_set_new(overall, "models", jmodels);
        json_t *p99 = json_object();
        for (int m = 0; m < s.screen.nmodels; m++)
            json_object_set_new(p99, s.screen.model_of[m]->name, json_real(s.screen.p99[m]));
        json_object_set_new(overall, "screen_p99", p99);
        json_object_set_new(overall, "screen_groups", json_integer(s.screen.ngroups));
        if (has_hard)
            json_object_set_new(overall, "hard_negatives",
                                json_pack("{s:i, s:i, s:i, s:o, s:o, s:o}", "listed", s.hard_listed, "without_data",
                                          s.hard_nodata, "k", ktop, "sweep", hard_json(&s, h_sweep, hk_sweep),
                                          "screen", hard_json(&s, h_screen, hk_screen), "baseline",
                                          hard_json(&s, h_base, hk_base)));
        json_dumpf(root, stdout, JSON_INDENT(2));
        putchar('\n');
    } else {
        json_decref(jmodels);
        if (has_hard) {
            printf("\nhard negatives in the overall top %d (%d listed", ktop, s.hard_listed);
            if (s.hard_nodata) printf(", %d without data", s.hard_nodata);
            printf("):\n");
            hard_print(&s, "sweep", h_sweep, hk_sweep);
            hard_print(&s, "simple screen", h_screen, hk_screen);
            hard_print(&s, "fund payment", h_base, hk_base);
        }
    }
    json_decref(root);
    ms_screen_free(&s.screen);
    free(s.e), free(s.cells), ms_hmap_free(&s.index);
    return MS_EXIT_OK;
}
