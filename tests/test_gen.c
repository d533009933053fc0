/*
 * test_gen.c - medsweep gen, through the real program.
 *
 * The same seed gives byte-identical files with 1 and 2 threads; every
 * invariant of docs/schema.md holds on every row (inspect --verify); every planted
 * record in truth/records.csv exists at its institution and shows the
 * pattern it is planted for; a --csv world imported is the same dataset,
 * byte for byte, as the one generated directly; intensity 0 plants nothing.
 * Hard negatives: every kind is listed, none cheats, and each shows its
 * honest trait in its records; --flatten writes the poorer extract it
 * promises, which verifies and imports.  A world of many institutions per
 * person is still the one the generator made before its indexes.
 *
 * --bills: every settlement's bill lines add up exactly, category by
 * category, to its cost columns and lie within its dates; the knowledge
 * base loads and knows every line's item; the rule base (models/ms_rules)
 * run over every claim finds each planted rule violation, nothing of the
 * rules that honest bills never break at honest institutions, the noise of
 * the others at a low rate, and the honest look-alikes within the rules;
 * the settlements, drug items and the rest of the truth are those of the
 * world without --bills; 1 and 2 threads give the same bytes; the CSV
 * world imports and exports back to the same CSV.
 *
 * The fixture world runs at --intensity 2: cheaters cheat at 0.3-1.7 times
 * the intensity, and a weak one in a small world plants too few records to
 * check 10 of every pattern.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ms_dataset.h"
#include "ms_fs.h"
#include "ms_knowledge.h"
#include "ms_part.h"
#include "ms_reader.h"
#include "ms_rules.h"
#include "ms_testcsv.h"
#include "ms_testdata.h"
#include "ms_testutil.h"

#define WORLD "--persons 30000 --institutions 120 --seed 11 --partitions 3 --intensity 2 --quiet"

typedef struct {
    char *dir;     /* first: ms_test_dir_teardown frees it */
    char a[600];   /* generated with 1 thread */
    char bills[600]; /* the same world with --bills, 1 thread */
} fx_t;

static int gen(const char *out, const char *extra)
{
    char *log = NULL;
    int rc = ms_test_cli(&log, "gen --out %s " WORLD " %s", out, extra);
    if (rc) print_error("gen --out %s " WORLD " %s\n%s\n", out, extra, log);
    free(log);
    return rc;
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    f->dir = ms_test_dir("gen");
    snprintf(f->a, sizeof f->a, "%s/a", f->dir);
    if (gen(f->a, "--threads 1")) return -1;
    snprintf(f->bills, sizeof f->bills, "%s/bills", f->dir);
    if (gen(f->bills, "--bills --threads 1")) return -1;
    *state = f;
    return 0;
}

static void same_tree(const char *a, const char *b, int skip_truth)
{
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "diff -r %s %s %s", skip_truth ? "-x truth -x rejected.csv" : "", a, b);
    ms_test_run_ok(cmd, NULL);
}

static void test_deterministic_across_threads(void **state)
{
    fx_t *f = *state;
    char b[700];
    snprintf(b, sizeof b, "%s/b", f->dir);
    assert_int_equal(gen(b, "--threads 2"), 0);
    same_tree(f->a, b, 0);
    /* ... hard negatives included (on by default). */
    ms_testcsv_t *hn = ms_testcsv_read(f->a, "truth/hard_negatives.csv");
    assert_true(ms_testcsv_rows(hn) >= 9);
    ms_testcsv_free(hn);
    /* Another seed is another world. */
    char c[700], cmd[1600];
    snprintf(c, sizeof c, "%s/c", f->dir);
    assert_int_equal(
        ms_test_cli(NULL, "gen --out %s --persons 30000 --institutions 120 --seed 12 --partitions 3 --quiet", c), 0);
    snprintf(cmd, sizeof cmd, "cmp -s %s/settlements/part-00000.h5 %s/settlements/part-00000.h5", f->a, c);
    assert_int_not_equal(ms_test_run(cmd, NULL), 0);
}

static void test_invariants_hold(void **state)
{
    fx_t *f = *state;
    char *out = NULL;
    ms_test_cli_ok(&out, "inspect %s --verify", f->a);
    assert_non_null(strstr(out, ", 0 violations"));
    free(out);
}

/* ---------------------------------------------------- planted records */

typedef struct {
    ms_settlement_t *s;
    size_t ns;
    ms_drug_item_t *d;
    size_t nd;
    ms_refs_t refs;
    /* Indexes (world_index), so that checking thousands of planted records
     * stays fast: */
    uint64_t *by_id;          /* settle_id << 24 | row, sorted (rows < 2^24) */
    uint64_t *doctor_days;    /* doctor_id << 32 | settle_date of every settlement, sorted */
    size_t *item_lo, *item_hi;/* the run of each drug item's person in d */
} world_t;

static int cmp_key(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void world_index(world_t *w)
{
    assert_true(w->ns < (1u << 24));
    w->by_id = malloc((w->ns ? w->ns : 1) * sizeof *w->by_id);
    w->doctor_days = malloc((w->ns ? w->ns : 1) * sizeof *w->doctor_days);
    for (size_t i = 0; i < w->ns; i++) {
        w->by_id[i] = w->s[i].settle_id << 24 | i;
        w->doctor_days[i] = (uint64_t)w->s[i].doctor_id << 32 | (uint32_t)w->s[i].settle_date;
    }
    qsort(w->by_id, w->ns, sizeof *w->by_id, cmp_key);
    qsort(w->doctor_days, w->ns, sizeof *w->doctor_days, cmp_key);
    w->item_lo = malloc((w->nd ? w->nd : 1) * sizeof *w->item_lo);
    w->item_hi = malloc((w->nd ? w->nd : 1) * sizeof *w->item_hi);
    for (size_t a = 0; a < w->nd;) { /* a person's items are one run */
        size_t b = a;
        while (b < w->nd && w->d[b].person_id == w->d[a].person_id) b++;
        for (size_t i = a; i < b; i++) w->item_lo[i] = a, w->item_hi[i] = b;
        a = b;
    }
}

static void world_index_free(world_t *w)
{
    free(w->by_id), free(w->doctor_days), free(w->item_lo), free(w->item_hi);
    w->by_id = w->doctor_days = NULL;
    w->item_lo = w->item_hi = NULL;
}

/* First index of sorted v[0..n) whose value is >= key. */
static size_t key_lower(const uint64_t *v, size_t n, uint64_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < key) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static const ms_settlement_t *find_settlement(const world_t *w, uint64_t id)
{
    if (w->by_id) {
        size_t k = key_lower(w->by_id, w->ns, id << 24);
        if (k < w->ns && w->by_id[k] >> 24 == id) return &w->s[w->by_id[k] & 0xffffff];
        return NULL;
    }
    for (size_t i = 0; i < w->ns; i++)
        if (w->s[i].settle_id == id) return &w->s[i];
    return NULL;
}

static int is_minor(const world_t *w, int32_t diag)
{
    const char *d = w->refs.diagnoses.str[diag];
    return !strncmp(d, "J06", 3) || !strncmp(d, "I10", 3) || !strncmp(d, "E11.9", 5) ||
           !strncmp(d, "K29", 3) || !strncmp(d, "M54", 3);
}

/* Does settlement s (planted as pattern) show the pattern? */
static int shows_pattern(const world_t *w, const ms_settlement_t *s, const char *pattern)
{
    int inpatient = s->visit_type == MS_VISIT_INPATIENT;
    if (!strcmp(pattern, "overlapping_stay")) {
        for (size_t i = 0; i < w->ns; i++) {
            const ms_settlement_t *o = &w->s[i];
            if (o->person_id == s->person_id && o->inst_code != s->inst_code &&
                o->settle_date > s->admit_date && o->settle_date < s->discharge_date)
                return inpatient;
        }
        return 0;
    }
    if (!strcmp(pattern, "treatment_light_stay"))
        return inpatient && (s->bed + s->nursing + s->other) * 10 >= s->total * 8;
    if (!strcmp(pattern, "group_admission")) {
        int same = 0;
        for (size_t i = 0; i < w->ns; i++) {
            const ms_settlement_t *o = &w->s[i];
            same += o->visit_type == MS_VISIT_INPATIENT && o->inst_code == s->inst_code &&
                    o->admit_date == s->admit_date && o->person_region == s->person_region;
        }
        return inpatient && same >= 5 && s->person_region != w->refs.inst[s->inst_code].region;
    }
    if (!strcmp(pattern, "minor_diagnosis_admission")) return inpatient && is_minor(w, s->diag_main);
    if (!strcmp(pattern, "beds_overflow") || !strcmp(pattern, "transfer_pingpong")) return inpatient;
    if (!strcmp(pattern, "upcoding"))
        return inpatient && s->group_code >= 0 && w->refs.groups[s->group_code].severity >= 1;
    if (!strcmp(pattern, "decomposed_stay")) {
        for (size_t i = 0; i < w->ns; i++) {
            const ms_settlement_t *o = &w->s[i];
            if (o != s && o->person_id == s->person_id && o->inst_code == s->inst_code &&
                o->visit_type == MS_VISIT_INPATIENT && o->discharge_date <= s->admit_date &&
                s->admit_date - o->discharge_date <= 15)
                return inpatient;
        }
        return 0;
    }
    if (!strcmp(pattern, "doctor_overload")) {
        /* Settlements signed by the doctor that day. */
        uint64_t key = (uint64_t)s->doctor_id << 32 | (uint32_t)s->settle_date;
        size_t n = key_lower(w->doctor_days, w->ns, key + 1) - key_lower(w->doctor_days, w->ns, key);
        return s->visit_type == MS_VISIT_OUTPATIENT && n > 60;
    }
    if (!strcmp(pattern, "preadmission_costs")) {
        for (size_t i = 0; i < w->ns; i++) {
            const ms_settlement_t *o = &w->s[i];
            int gap = o->admit_date - s->settle_date;
            if (o->person_id == s->person_id && o->inst_code == s->inst_code &&
                o->visit_type == MS_VISIT_INPATIENT && o->group_code >= 0 && gap >= 1 && gap <= 3)
                return s->visit_type == MS_VISIT_OUTPATIENT && (s->exam + s->lab) * 10 >= s->total * 6;
        }
        return 0;
    }
    if (!strcmp(pattern, "self_pay_shift")) return inpatient && s->self_pay * 10 >= s->total * 4;
    return -1; /* a drug pattern */
}

static int item_shows_pattern(const world_t *w, const ms_drug_item_t *x, const char *pattern)
{
    if (!strcmp(pattern, "returned_drugs")) {
        for (size_t i = 0; i < w->nd; i++) {
            const ms_drug_item_t *o = &w->d[i];
            if (o != x && o->trace_hi == x->trace_hi && o->trace_lo == x->trace_lo && o->date < x->date &&
                o->person_id != x->person_id)
                return 1;
        }
        return 0;
    }
    if (!strcmp(pattern, "hoarding_buyers")) {
        int64_t qty = 0;
        int32_t insts[64];
        int ninst = 0;
        size_t at = (size_t)(x - w->d); /* the buyer's items */
        for (size_t i = w->item_lo[at]; i < w->item_hi[at]; i++) {
            const ms_drug_item_t *o = &w->d[i];
            if (o->person_id != x->person_id || o->drug_code != x->drug_code) continue;
            if (o->date < x->date - 29 || o->date > x->date + 29) continue;
            qty += o->qty;
            int seen = 0;
            for (int k = 0; k < ninst; k++) seen |= insts[k] == o->inst_code;
            if (!seen && ninst < 64) insts[ninst++] = o->inst_code;
        }
        return qty >= 15 && ninst >= 3;
    }
    return 0;
}

static void test_planted_records_show_their_pattern(void **state)
{
    fx_t *f = *state;
    ms_dataset_t ds;
    assert_int_equal(ms_dataset_open(f->a, &ds), MS_OK);
    world_t w;
    memset(&w, 0, sizeof w);
    w.refs = ds.refs;
    assert_int_equal(ms_testdata_load(&ds, MS_TABLE_SETTLEMENTS, (void **)&w.s, &w.ns), MS_OK);
    assert_int_equal(ms_testdata_load(&ds, MS_TABLE_DRUG_ITEMS, (void **)&w.d, &w.nd), MS_OK);
    world_index(&w);

    size_t len = 0;
    char *text = ms_test_read(f->a, "truth/records.csv", &len);
    assert_true(!strncmp(text, "settle_id,person_id,inst_code,pattern,trace_code\n", 49));
    if (!strchr(text, '\n')) {
        fail_msg("records.csv has no header line");
        return;
    }
    if (text[len - 1] != '\n') {
        fail_msg("records.csv: unterminated line");
        return;
    }
    ms_testcsv_t *rec = ms_testcsv_read(f->a, "truth/records.csv");
    int count[32] = {0}, shown[32] = {0};
    char *names[32];
    int npat = 0;
    for (size_t r = 0; r < ms_testcsv_rows(rec); r++) {
        const char *sid_s = ms_testcsv_get(rec, r, "settle_id"), *pid_s = ms_testcsv_get(rec, r, "person_id");
        const char *inst = ms_testcsv_get(rec, r, "inst_code"), *pattern = ms_testcsv_get(rec, r, "pattern");
        const char *trace = ms_testcsv_get(rec, r, "trace_code");
        assert_true(*sid_s && *pid_s && *inst && *pattern); /* the four fields every record has */
        unsigned long long sid = strtoull(sid_s, NULL, 10), pid = strtoull(pid_s, NULL, 10);
        int k = 0;
        while (k < npat && strcmp(names[k], pattern)) k++;
        if (k == npat) names[npat++] = strdup(pattern);
        count[k]++;
        const ms_settlement_t *s = find_settlement(&w, sid);
        if (!s) {
            fail_msg("planted settle_id %llu is not in the dataset", sid);
            return;
        }
        assert_int_equal(s->person_id, pid);
        assert_string_equal(w.refs.inst[s->inst_code].inst_code, inst);
        int ok = shows_pattern(&w, s, pattern);
        if (ok < 0) {
            /* Drug patterns name the package: find the item. */
            assert_int_equal(strlen(trace), 20);
            unsigned long long hi, lo;
            sscanf(trace, "%10llu%10llu", &hi, &lo);
            ok = 0;
            for (size_t i = 0; i < w.nd && !ok; i++)
                if (w.d[i].settle_id == sid && w.d[i].trace_hi == hi && w.d[i].trace_lo == lo)
                    ok = item_shows_pattern(&w, &w.d[i], pattern);
        }
        shown[k] += ok;
    }
    /* Every pattern is planted, in numbers a model can see, and (nearly)
     * every planted record shows it: an overload visit pushed aside by a
     * stay, for example, leaves its doctor-day a little lighter. */
    assert_int_equal(npat, 13);
    for (int k = 0; k < npat; k++) {
        print_message("  %-28s %5d planted, %5d show the pattern\n", names[k], count[k], shown[k]);
        assert_true(count[k] >= 10);
        assert_true(shown[k] * 100 >= count[k] * 95);
        free(names[k]);
    }
    ms_testcsv_free(rec);
    free(text);
    world_index_free(&w);
    free(w.s);
    free(w.d);
    ms_dataset_close(&ds);
}

static void test_csv_world_imports_to_the_same_dataset(void **state)
{
    fx_t *f = *state;
    char csv[700], data[700], cmd[2000];
    snprintf(csv, sizeof csv, "%s/csv", f->dir);
    snprintf(data, sizeof data, "%s/imported", f->dir);
    assert_int_equal(gen(csv, "--csv"), 0);
    snprintf(cmd, sizeof cmd, "%s/settlements.csv", csv);
    assert_true(ms_path_exists(cmd));
    ms_test_cli_ok(NULL, "import %s %s --partitions 3 --quiet", csv, data);
    same_tree(f->a, data, 1);
    /* The truth comes along with the CSV. */
    snprintf(cmd, sizeof cmd, "cmp %s/truth/records.csv %s/truth/records.csv", f->a, csv);
    assert_int_equal(ms_test_run(cmd, NULL), 0);
}

static void test_intensity_zero_plants_nothing(void **state)
{
    fx_t *f = *state;
    char d[700];
    snprintf(d, sizeof d, "%s/clean", f->dir);
    assert_int_equal(gen(d, "--intensity 0"), 0);
    char *t = ms_test_read(d, "truth/records.csv", NULL);
    assert_string_equal(t, "settle_id,person_id,inst_code,pattern,trace_code\n");
    free(t);
    t = ms_test_read(d, "truth/institutions.csv", NULL);
    assert_string_equal(t, "inst_code,pattern,intensity\n");
    free(t);
}

/* ---------------------------------------------------- hard negatives */

#define HN_WORLD "--persons 60000 --institutions 300 --seed 5 --quiet"

static const char *const hn_kinds[] = {"tertiary_heavy",     "l2_high_severity", "oncology_cycles",
                                       "frail_readmissions", "rehab_nursing",    "cataract_campaign",
                                       "preadmission_workup", "family_pharmacy", "tiny_extreme"};
#define N_HN_KINDS 9
enum { HN_TERT, HN_L2, HN_ONC, HN_FRAIL, HN_REHAB, HN_CAT, HN_WORKUP, HN_FAMILY, HN_TINY };

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Groups whose family has more than one severity (where severity can be
 * inflated). */
static uint8_t *multi_severity_groups(const ms_refs_t *r)
{
    uint8_t *m = calloc(r->n_groups ? r->n_groups : 1, 1);
    for (size_t g = 0; g < r->n_groups; g++)
        for (size_t h = 0; h < r->n_groups && !m[g]; h++)
            m[g] = !strcmp(r->groups[g].family, r->groups[h].family) &&
                   r->groups[g].severity != r->groups[h].severity;
    return m;
}

static int same_category(const world_t *w, const ms_settlement_t *a, const ms_settlement_t *b)
{
    return !strncmp(w->refs.diagnoses.str[a->diag_main], w->refs.diagnoses.str[b->diag_main], 3);
}

/* Severity of the honest heavy hospitals: more CC/MCC stays, costed and
 * kept as long as their groups say. */
typedef struct {
    long grouped, severe;      /* grouped stays in multi-severity families; CC/MCC among them */
    double cost_ratio, los_ratio; /* sums over the CC/MCC stays: total / mean_cost, LOS / expected */
} sev_t;

static void sev_add(sev_t *v, const world_t *w, const ms_settlement_t *s, const uint8_t *multi)
{
    if (s->visit_type != MS_VISIT_INPATIENT || s->group_code < 0 || !multi[s->group_code]) return;
    const ms_group_t *g = &w->refs.groups[s->group_code];
    v->grouped++;
    if (g->severity == 0) return;
    v->severe++;
    v->cost_ratio += (double)s->total / (double)g->mean_cost;
    v->los_ratio += (s->discharge_date - s->admit_date) / (double)g->expected_los;
}

typedef struct {
    int32_t inst, day, region;
} batch_key_t;

static int cmp_batch(const void *a, const void *b)
{
    const batch_key_t *x = a, *y = b;
    if (x->inst != y->inst) return x->inst < y->inst ? -1 : 1;
    if (x->day != y->day) return x->day < y->day ? -1 : 1;
    return x->region < y->region ? -1 : x->region > y->region;
}

static void test_hard_negatives_show_their_trait(void **state)
{
    fx_t *f = *state;
    char d[700];
    snprintf(d, sizeof d, "%s/hard", f->dir);
    ms_test_cli_ok(NULL, "gen --out %s " HN_WORLD, d);
    char *text = ms_test_read(d, "truth/hard_negatives.csv", NULL);
    assert_true(!strncmp(text, "inst_code,kind\n", 15));
    free(text);

    ms_dataset_t ds;
    assert_int_equal(ms_dataset_open(d, &ds), MS_OK);
    world_t w;
    memset(&w, 0, sizeof w);
    w.refs = ds.refs;
    assert_int_equal(ms_testdata_load(&ds, MS_TABLE_SETTLEMENTS, (void **)&w.s, &w.ns), MS_OK);
    assert_int_equal(ms_testdata_load(&ds, MS_TABLE_DRUG_ITEMS, (void **)&w.d, &w.nd), MS_OK);
    size_t ni = w.refs.n_inst;
    int *kind = malloc(ni * sizeof *kind);
    uint8_t *cheat = calloc(ni, 1);
    for (size_t i = 0; i < ni; i++) kind[i] = -1;

    /* Every kind, none of them a cheater. */
    ms_testcsv_t *ch = ms_testcsv_read(d, "truth/institutions.csv");
    for (size_t r = 0; r < ms_testcsv_rows(ch); r++) {
        const char *code = ms_testcsv_get(ch, r, "inst_code");
        int32_t id = ms_refs_inst_find(&w.refs, code, strlen(code));
        assert_true(id >= 0);
        cheat[id] = 1;
    }
    ms_testcsv_t *hn = ms_testcsv_read(d, "truth/hard_negatives.csv");
    int count[N_HN_KINDS] = {0};
    for (size_t r = 0; r < ms_testcsv_rows(hn); r++) {
        const char *code = ms_testcsv_get(hn, r, "inst_code"), *k = ms_testcsv_get(hn, r, "kind");
        int32_t id = ms_refs_inst_find(&w.refs, code, strlen(code));
        int kk = 0;
        while (kk < N_HN_KINDS && strcmp(hn_kinds[kk], k)) kk++;
        if (id < 0 || kk == N_HN_KINDS) fail_msg("hard_negatives.csv: unknown %s,%s", code, k);
        if (cheat[id]) fail_msg("hard negative %s (%s) is a cheater", code, k);
        if (kind[id] >= 0) fail_msg("hard negative %s listed twice", code);
        kind[id] = kk;
        count[kk]++;
    }
    for (int k = 0; k < N_HN_KINDS; k++) {
        print_message("  %-20s %d institutions\n", hn_kinds[k], count[k]);
        assert_true(count[k] >= 1);
    }

    uint8_t *multi = multi_severity_groups(&w.refs);
    sev_t sev_hn[2] = {{0}}, sev_peer[2] = {{0}};        /* tertiary, L2 */
    long onc_pairs = 0, onc_cycles = 0;                   /* consecutive stays <= 28 days apart; 14-28, same category */
    long fr_stays = 0, fr_readm = 0, fr_age = 0, fr_other_or_late = 0, peer_stays = 0, peer_readm = 0;
    long rehab_long = 0, rehab_days = 0;
    double rehab_bed_nursing = 0;
    long workups = 0, workup_stays = 0;
    long tiny_rows[64] = {0};
    int tiny_extreme[64] = {0}, ntiny = 0;
    int32_t tiny_id[64];
    batch_key_t *bk = malloc((w.ns ? w.ns : 1) * sizeof *bk);
    size_t nbk = 0;
    int64_t *stay_total = malloc((w.ns ? w.ns : 1) * sizeof *stay_total);
    int64_t *stay_weight = malloc((w.ns ? w.ns : 1) * sizeof *stay_weight);
    size_t nstay = 0, nweight = 0;
    for (size_t i = 0; i < ni; i++)
        if (kind[i] == HN_TINY && ntiny < 64) tiny_id[ntiny++] = (int32_t)i;

    /* One pass over each person's run of settlements. */
    for (size_t a = 0; a < w.ns;) {
        size_t b = a;
        while (b < w.ns && w.s[b].person_id == w.s[a].person_id) b++;
        for (size_t j = a; j < b; j++) {
            const ms_settlement_t *s = &w.s[j];
            int k = kind[s->inst_code];
            int inpatient = s->visit_type == MS_VISIT_INPATIENT;
            const ms_institution_t *x = &w.refs.inst[s->inst_code];
            for (int t = 0; t < ntiny; t++)
                if (tiny_id[t] == s->inst_code) tiny_rows[t]++;
            if (!inpatient) {
                /* A work-up visit: small exams and labs days before a stay there. */
                if (k == HN_WORKUP && s->visit_type == MS_VISIT_OUTPATIENT)
                    for (size_t m = a; m < b; m++) {
                        const ms_settlement_t *o = &w.s[m];
                        int gap = o->admit_date - s->settle_date;
                        if (o->visit_type == MS_VISIT_INPATIENT && o->inst_code == s->inst_code && gap >= 1 &&
                            gap <= 7 && (s->exam + s->lab) * 10 >= s->total * 8 && s->total <= 100000) {
                            workups++;
                            break;
                        }
                    }
                continue;
            }
            stay_total[nstay++] = s->total;
            if (s->group_code >= 0) stay_weight[nweight++] = llround(w.refs.groups[s->group_code].weight * 10000);
            if (k == HN_TERT) sev_add(&sev_hn[0], &w, s, multi);
            if (k == HN_L2) sev_add(&sev_hn[1], &w, s, multi);
            if (k < 0 && !cheat[s->inst_code] && x->level == 2 && x->kind == MS_KIND_GENERAL)
                sev_add(&sev_peer[1], &w, s, multi);
            if (k < 0 && !cheat[s->inst_code] && x->level == 3) sev_add(&sev_peer[0], &w, s, multi);
            if (k == HN_WORKUP) workup_stays++;
            int32_t los = s->discharge_date - s->admit_date;
            if (k == HN_REHAB && los >= 14) {
                rehab_long++;
                rehab_days += los;
                rehab_bed_nursing += (double)(s->bed + s->nursing) / (double)s->total;
            }
            if (k == HN_CAT && s->person_region != x->region && s->proc_main >= 0 && s->surgery > 0 && los <= 2 &&
                s->age >= 60)
                bk[nbk++] = (batch_key_t){s->inst_code, s->admit_date, s->person_region};
            /* The person's previous stay at the same institution. */
            const ms_settlement_t *p = NULL;
            for (size_t m = a; m < j; m++)
                if (w.s[m].visit_type == MS_VISIT_INPATIENT && w.s[m].inst_code == s->inst_code) p = &w.s[m];
            int gap = p ? s->admit_date - p->discharge_date : -1;
            if (k == HN_ONC && p && s->admit_date - p->admit_date <= 28) {
                onc_pairs++;
                int every = s->admit_date - p->admit_date;
                onc_cycles += every >= 14 && every <= 28 && same_category(&w, s, p);
            }
            if (k == HN_FRAIL) {
                fr_stays++;
                if (p && gap >= 1 && gap <= 30) {
                    fr_readm++;
                    fr_age += s->age;
                    fr_other_or_late += !same_category(&w, s, p) || gap > 3;
                }
            } else if (k < 0 && !cheat[s->inst_code] && x->level >= 1 && x->level <= 2) {
                peer_stays++;
                peer_readm += p && gap >= 1 && gap <= 30;
            }
        }
        a = b;
    }

    /* tertiary_heavy, l2_high_severity: more CC/MCC than their peers, at
     * the cost and length of stay of their groups. */
    for (int t = 0; t < 2; t++) {
        const sev_t *h = &sev_hn[t], *p = &sev_peer[t];
        double share = (double)h->severe / (double)(h->grouped ? h->grouped : 1);
        double peer = (double)p->severe / (double)(p->grouped ? p->grouped : 1);
        double cost = h->cost_ratio / (double)(h->severe ? h->severe : 1);
        double los = h->los_ratio / (double)(h->severe ? h->severe : 1);
        print_message("  %-20s CC/MCC %.2f (peers %.2f), CC/MCC cost %.2f and LOS %.2f of their groups'\n",
                      hn_kinds[t], share, peer, cost, los);
        assert_true(h->grouped >= 30);
        assert_true(share >= peer + 0.1);
        assert_true(cost >= 0.8 && los >= 0.8);
    }
    /* oncology_cycles: planned readmissions 14-28 days apart, same diagnosis. */
    print_message("  oncology_cycles      %ld cycles 14-28 days apart, same category, of %ld stays <= 28 days apart\n",
                  onc_cycles, onc_pairs);
    assert_true(onc_cycles >= 20 && onc_cycles * 10 >= onc_pairs * 7);
    /* frail_readmissions: many more readmissions than other hospitals, of
     * old patients, mostly for another condition or after a few days. */
    double fr = (double)fr_readm / (double)(fr_stays ? fr_stays : 1);
    double pr = (double)peer_readm / (double)(peer_stays ? peer_stays : 1);
    print_message("  frail_readmissions   readmitted within 30 days %.3f (other hospitals %.3f), mean age %.0f\n", fr,
                  pr, fr_readm ? (double)fr_age / (double)fr_readm : 0.0);
    assert_true(fr_readm >= 10 && fr >= 2 * pr);
    assert_true(fr_age >= 70 * fr_readm && fr_other_or_late * 10 >= fr_readm * 7);
    /* rehab_nursing: long stays, bed and nursing most of their cost. */
    print_message("  rehab_nursing        %ld stays of 14+ days, mean %.0f days, bed + nursing %.2f of cost\n",
                  rehab_long, (double)rehab_days / (double)(rehab_long ? rehab_long : 1),
                  rehab_bed_nursing / (double)(rehab_long ? rehab_long : 1));
    assert_true(rehab_long >= 20 && rehab_days >= 20 * rehab_long);
    assert_true(rehab_bed_nursing >= 0.5 * (double)rehab_long);
    /* cataract_campaign: same-day batches of 5+ operated elderly from one other county. */
    qsort(bk, nbk, sizeof *bk, cmp_batch);
    int batches = 0;
    for (size_t i = 0; i < nbk;) {
        size_t j = i;
        while (j < nbk && !cmp_batch(&bk[i], &bk[j])) j++;
        batches += j - i >= 5;
        i = j;
    }
    print_message("  cataract_campaign    %d same-day batches of 5+ operated persons from another county\n", batches);
    assert_true(batches >= 3 * count[HN_CAT]);
    /* preadmission_workup: small exam-and-lab visits before admissions. */
    print_message("  preadmission_workup  %ld work-up visits of at most 1000 yuan before %ld stays\n", workups,
                  workup_stays);
    assert_true(workups >= 10 && workups * 5 >= workup_stays);
    /* family_pharmacy: purchases of 3-6 packages; chronic drugs bought
     * there and elsewhere too. */
    long family_buys = 0, elsewhere = 0;
    for (size_t a = 0; a < w.nd;) {
        size_t b = a;
        while (b < w.nd && w.d[b].settle_id == w.d[a].settle_id) b++;
        family_buys += kind[w.d[a].inst_code] == HN_FAMILY && b - a >= 3 && b - a <= 6;
        a = b;
    }
    for (size_t a = 0; a < w.nd;) {
        size_t b = a;
        while (b < w.nd && w.d[b].person_id == w.d[a].person_id) b++;
        for (size_t i = a; i < b; i++) {
            if (kind[w.d[i].inst_code] != HN_FAMILY) continue;
            int other = 0, first = 1;
            for (size_t j = a; j < b; j++) {
                if (w.d[j].drug_code != w.d[i].drug_code) continue;
                if (j < i && w.d[j].inst_code == w.d[i].inst_code) first = 0;
                other |= w.d[j].inst_code != w.d[i].inst_code;
            }
            elsewhere += first && other;
        }
        a = b;
    }
    print_message("  family_pharmacy      %ld purchases of 3-6 packages; %ld buyer-drugs bought there and elsewhere\n",
                  family_buys, elsewhere);
    assert_true(family_buys >= 20 && elsewhere >= 5);
    /* tiny_extreme: 1-10 records, one of them extreme. */
    qsort(stay_total, nstay, sizeof *stay_total, cmp_i64);
    qsort(stay_weight, nweight, sizeof *stay_weight, cmp_i64);
    int64_t p95_total = stay_total[nstay * 95 / 100], p95_weight = nweight ? stay_weight[nweight * 95 / 100] : 0;
    for (size_t j = 0; j < w.ns; j++) {
        const ms_settlement_t *s = &w.s[j];
        for (int t = 0; t < ntiny; t++) {
            if (tiny_id[t] != s->inst_code) continue;
            int heavy = s->visit_type == MS_VISIT_INPATIENT &&
                        (s->total >= p95_total ||
                         (s->group_code >= 0 && llround(w.refs.groups[s->group_code].weight * 10000) >= p95_weight));
            int self_paid = s->self_pay * 10 >= s->total * 8 && s->total >= 50000;
            tiny_extreme[t] |= heavy || self_paid;
        }
    }
    for (int t = 0; t < ntiny; t++) {
        print_message("  tiny_extreme         %s: %ld records, extreme: %s\n", w.refs.inst[tiny_id[t]].inst_code,
                      tiny_rows[t], tiny_extreme[t] ? "yes" : "no");
        assert_true(tiny_rows[t] >= 1 && tiny_rows[t] <= 10);
        assert_true(tiny_extreme[t]);
    }
    free(bk), free(stay_total), free(stay_weight), free(multi), free(kind), free(cheat);
    ms_testcsv_free(ch);
    ms_testcsv_free(hn);
    free(w.s);
    free(w.d);
    ms_dataset_close(&ds);
}

/* -------------------------------------------------------------- flatten */

static void test_flatten_writes_a_poorer_extract(void **state)
{
    fx_t *f = *state;
    char flat[700], csv[700], data[700], e1[700], e2[700], cmd[3000];
    snprintf(flat, sizeof flat, "%s/flat", f->dir);
    snprintf(csv, sizeof csv, "%s/flatcsv", f->dir);
    snprintf(data, sizeof data, "%s/flatimported", f->dir);
    snprintf(e1, sizeof e1, "%s/flatexport1", f->dir);
    snprintf(e2, sizeof e2, "%s/flatexport2", f->dir);
    assert_int_equal(gen(flat, "--flatten"), 0);
    char *out = NULL;
    ms_test_cli_ok(&out, "inspect %s --verify", flat);
    assert_non_null(strstr(out, ", 0 violations"));
    free(out);

    ms_dataset_t ds;
    assert_int_equal(ms_dataset_open(flat, &ds), MS_OK);
    world_t w;
    memset(&w, 0, sizeof w);
    w.refs = ds.refs;
    assert_int_equal(ms_testdata_load(&ds, MS_TABLE_SETTLEMENTS, (void **)&w.s, &w.ns), MS_OK);
    assert_int_equal(ms_testdata_load(&ds, MS_TABLE_DRUG_ITEMS, (void **)&w.d, &w.nd), MS_OK);
    /* Inpatient only, every cost in `other`, one department; no drug items. */
    assert_true(w.ns > 1000);
    assert_int_equal(w.nd, 0);
    uint8_t *has = calloc(w.refs.n_inst, 1);
    uint64_t *ids = malloc(w.ns * sizeof *ids);
    for (size_t i = 0; i < w.ns; i++) {
        const ms_settlement_t *s = &w.s[i];
        assert_int_equal(s->visit_type, MS_VISIT_INPATIENT);
        assert_true(s->total == s->other && s->drug == 0 && s->exam == 0 && s->lab == 0 && s->consumable == 0 &&
                    s->treatment == 0 && s->surgery == 0 && s->bed == 0 && s->nursing == 0);
        assert_int_equal(s->dept, w.s[0].dept);
        has[s->inst_code] = 1;
        ids[i] = s->settle_id;
    }
    /* No beds; every group of a family the same severity. */
    for (size_t i = 0; i < w.refs.n_inst; i++) assert_int_equal(w.refs.inst[i].beds, 0);
    uint8_t *multi = multi_severity_groups(&w.refs);
    for (size_t g = 0; g < w.refs.n_groups; g++) assert_int_equal(multi[g], 0);
    free(multi);
    /* The truth follows: records that exist, institutions with settlements. */
    qsort(ids, w.ns, sizeof *ids, cmp_u64);
    ms_testcsv_t *rec = ms_testcsv_read(flat, "truth/records.csv");
    assert_true(ms_testcsv_rows(rec) > 0);
    for (size_t r = 0; r < ms_testcsv_rows(rec); r++) {
        uint64_t id = ms_testcsv_u64(rec, r, "settle_id");
        assert_non_null(bsearch(&id, ids, w.ns, sizeof *ids, cmp_u64));
    }
    ms_testcsv_free(rec);
    const char *files[2] = {"truth/institutions.csv", "truth/hard_negatives.csv"};
    for (int k = 0; k < 2; k++) {
        ms_testcsv_t *t = ms_testcsv_read(flat, files[k]);
        assert_true(ms_testcsv_rows(t) > 0);
        for (size_t r = 0; r < ms_testcsv_rows(t); r++) {
            const char *code = ms_testcsv_get(t, r, "inst_code");
            int32_t id = ms_refs_inst_find(&w.refs, code, strlen(code));
            assert_true(id >= 0 && has[id]);
        }
        ms_testcsv_free(t);
    }
    free(has), free(ids), free(w.s), free(w.d);
    ms_dataset_close(&ds);

    /* The same extract as CSV imports (every row validated) to the same rows. */
    assert_int_equal(gen(csv, "--flatten --csv"), 0);
    ms_test_cli_ok(NULL, "import %s %s --partitions 3 --quiet", csv, data);
    ms_test_cli_ok(NULL, "export %s %s", flat, e1);
    ms_test_cli_ok(NULL, "export %s %s", data, e2);
    same_tree(e1, e2, 1);
    snprintf(cmd, sizeof cmd, "diff -r %s/truth %s/truth", flat, csv);
    ms_test_run_ok(cmd, NULL);
}

/* Many institutions per person (two thousand counties, most of them with a
 * handful of residents): the generator finds persons, cheaters and
 * candidates through indexes, not walks, and the world is still the one
 * the walks made.  The counts and the digest were those of the walking
 * generator (before the indexes) for the same options; a deliberate change
 * of the world changes them. */
static void test_many_institutions_per_person(void **state)
{
    fx_t *f = *state;
    char a[700], b[700], cmd[2400], *out = NULL;
    const char *opts = "--persons 2000 --institutions 40000 --seed 5";
    snprintf(a, sizeof a, "%s/many1", f->dir);
    snprintf(b, sizeof b, "%s/many2", f->dir);
    ms_test_cli_ok(&out, "gen --out %s %s --threads 1", a, opts);
    assert_non_null(strstr(out, "93276 settlements, 311168 drug items"));
    assert_non_null(strstr(out, "132678 records"));
    assert_non_null(strstr(out, "3600 honest"));
    free(out);
    ms_test_cli_ok(NULL, "gen --out %s %s --threads 2 --quiet", b, opts);
    same_tree(a, b, 0);
    snprintf(cmd, sizeof cmd, "cat %s/truth/records.csv %s/truth/institutions.csv %s/truth/hard_negatives.csv | md5sum",
             a, a, a);
    ms_test_run_ok(cmd, &out);
    assert_non_null(strstr(out, "ce0a595e9b7e75bbb0198e1bc38041db"));
    free(out);
}

/* ------------------------------------------------------------- --bills */

/* A --bills world loaded whole: rows, its knowledge base, and the bill
 * lines and drug items of each settlement found by settle_id. */
typedef struct {
    ms_dataset_t ds;
    ms_settlement_t *s;
    size_t ns;
    ms_drug_item_t *d;
    size_t nd;
    ms_service_item_t *b;
    size_t nb;
    ms_knowledge_t kb;
    int32_t *item_kb;         /* refs.items id -> knowledge-base id */
    int32_t *drug_kb;         /* refs.drugs id -> knowledge-base id (-1: none) */
    uint32_t *line_by_id;     /* lines by (settle_id, line_no) */
    uint32_t *item_by_id;     /* drug items by settle_id */
} bills_t;

static const ms_service_item_t *g_lines;
static const ms_drug_item_t *g_items;

static int cmp_line_by_id(const void *a, const void *b)
{
    const ms_service_item_t *x = &g_lines[*(const uint32_t *)a], *y = &g_lines[*(const uint32_t *)b];
    if (x->settle_id != y->settle_id) return x->settle_id < y->settle_id ? -1 : 1;
    return x->line_no < y->line_no ? -1 : x->line_no > y->line_no;
}

static int cmp_item_by_id(const void *a, const void *b)
{
    const ms_drug_item_t *x = &g_items[*(const uint32_t *)a], *y = &g_items[*(const uint32_t *)b];
    return x->settle_id < y->settle_id ? -1 : x->settle_id > y->settle_id;
}

static void bills_load(bills_t *x, const char *dir)
{
    memset(x, 0, sizeof *x);
    assert_int_equal(ms_dataset_open(dir, &x->ds), MS_OK);
    assert_int_equal(ms_testdata_load(&x->ds, MS_TABLE_SETTLEMENTS, (void **)&x->s, &x->ns), MS_OK);
    assert_int_equal(ms_testdata_load(&x->ds, MS_TABLE_DRUG_ITEMS, (void **)&x->d, &x->nd), MS_OK);
    assert_int_equal(ms_testdata_load(&x->ds, MS_TABLE_SERVICE_ITEMS, (void **)&x->b, &x->nb), MS_OK);
    assert_int_equal(ms_knowledge_read(dir, &x->kb), MS_OK);
    const ms_refs_t *r = &x->ds.refs;
    x->item_kb = malloc((r->items.count + 1) * sizeof *x->item_kb);
    x->drug_kb = malloc((r->drugs.count + 1) * sizeof *x->drug_kb);
    for (size_t i = 0; i < r->items.count; i++)
        x->item_kb[i] = ms_knowledge_find(&x->kb, r->items.str[i], strlen(r->items.str[i]));
    for (size_t i = 0; i < r->drugs.count; i++)
        x->drug_kb[i] = ms_knowledge_find(&x->kb, r->drugs.str[i], strlen(r->drugs.str[i]));
    x->line_by_id = malloc((x->nb + 1) * sizeof *x->line_by_id);
    x->item_by_id = malloc((x->nd + 1) * sizeof *x->item_by_id);
    for (size_t i = 0; i < x->nb; i++) x->line_by_id[i] = (uint32_t)i;
    for (size_t i = 0; i < x->nd; i++) x->item_by_id[i] = (uint32_t)i;
    g_lines = x->b;
    g_items = x->d;
    qsort(x->line_by_id, x->nb, sizeof *x->line_by_id, cmp_line_by_id);
    qsort(x->item_by_id, x->nd, sizeof *x->item_by_id, cmp_item_by_id);
}

static void bills_free(bills_t *x)
{
    free(x->s), free(x->d), free(x->b), free(x->item_kb), free(x->drug_kb), free(x->line_by_id), free(x->item_by_id);
    ms_knowledge_free(&x->kb);
    ms_dataset_close(&x->ds);
}

/* The run [*lo, *hi) of settlement id in a by-id index (lines: key is a
 * line's settle_id; items: a drug item's). */
static void lines_of(const bills_t *x, uint64_t id, size_t *lo, size_t *hi)
{
    size_t a = 0, b = x->nb;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (x->b[x->line_by_id[m]].settle_id < id) a = m + 1;
        else b = m;
    }
    *lo = a;
    while (b < x->nb && x->b[x->line_by_id[b]].settle_id == id) b++;
    *hi = a > b ? a : b;
}

static void items_of(const bills_t *x, uint64_t id, size_t *lo, size_t *hi)
{
    size_t a = 0, b = x->nd;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (x->d[x->item_by_id[m]].settle_id < id) a = m + 1;
        else b = m;
    }
    *lo = a;
    while (b < x->nd && x->d[x->item_by_id[b]].settle_id == id) b++;
    *hi = a > b ? a : b;
}

/* Settle ids of truth/records.csv's rows of one pattern (sorted). */
static uint64_t *truth_ids(const char *dir, const char *pattern, size_t *n)
{
    ms_testcsv_t *rec = ms_testcsv_read(dir, "truth/records.csv");
    uint64_t *v = malloc((ms_testcsv_rows(rec) + 1) * sizeof *v);
    *n = 0;
    for (size_t r = 0; r < ms_testcsv_rows(rec); r++)
        if (ms_testcsv_is(rec, r, "pattern", pattern)) v[(*n)++] = ms_testcsv_u64(rec, r, "settle_id");
    ms_testcsv_free(rec);
    qsort(v, *n, sizeof *v, cmp_u64);
    return v;
}

static void test_bills_add_up(void **state)
{
    fx_t *f = *state;
    char *out = NULL;
    ms_test_cli_ok(&out, "inspect %s --verify", f->bills);
    assert_non_null(strstr(out, ", 0 violations"));
    free(out);
    bills_t x;
    bills_load(&x, f->bills);
    const ms_refs_t *r = &x.ds.refs;
    size_t nbrush;
    uint64_t *brush = truth_ids(f->bills, "rule_empty_brush", &nbrush);
    long lines[3] = {0}, settl[3] = {0}, coded = 0, coded_match = 0;
    int min_stay = 1000, max_stay = 0;
    for (size_t i = 0; i < x.ns; i++) {
        const ms_settlement_t *s = &x.s[i];
        size_t lo, hi;
        lines_of(&x, s->settle_id, &lo, &hi);
        int64_t sum[MS_N_COST_CATEGORIES] = {0};
        const int64_t want[MS_N_COST_CATEGORIES] = {s->drug, s->exam,    s->lab,     s->consumable, s->treatment,
                                                    s->surgery, s->bed, s->nursing, s->other};
        for (size_t k = lo; k < hi; k++) {
            const ms_service_item_t *l = &x.b[x.line_by_id[k]];
            if (l->line_no != k - lo + 1 || l->person_id != s->person_id || l->inst_code != s->inst_code ||
                l->date < s->admit_date || l->date > s->discharge_date || l->qty <= 0 || l->unit_price < 0 ||
                l->doctor_id != s->doctor_id) {
                fail_msg("settlement %llu line %u: numbered, of its person and institution, in its dates",
                         (unsigned long long)s->settle_id, l->line_no);
                return;
            }
            int32_t kb = x.item_kb[l->item_code];
            assert_true(kb >= 0);
            assert_int_equal(l->category, x.kb.items[kb].category);
            /* amount = qty x unit_price rounded to the fen (< half a fen off) */
            int64_t err = l->qty * l->unit_price - l->amount * 100000;
            assert_true(err > -50000 && err < 50000);
            sum[l->category] += l->amount;
        }
        for (int c = 0; c < MS_N_COST_CATEGORIES; c++)
            if (sum[c] != want[c]) {
                fail_msg("settlement %llu: category %d lines add up to %lld fen, the column says %lld",
                         (unsigned long long)s->settle_id, c, (long long)sum[c], (long long)want[c]);
                return;
            }
        if (s->total > 0) assert_true(hi > lo);
        lines[s->visit_type] += (long)(hi - lo);
        settl[s->visit_type]++;
        if (s->visit_type == MS_VISIT_INPATIENT) {
            min_stay = (int)(hi - lo) < min_stay ? (int)(hi - lo) : min_stay;
            max_stay = (int)(hi - lo) > max_stay ? (int)(hi - lo) : max_stay;
        }
        /* A purchase: one line of the drug its packages were scanned for,
         * as many units as packages (unless planted: another drug billed). */
        if (s->visit_type == MS_VISIT_PHARMACY && hi > lo) {
            size_t a, b;
            items_of(&x, s->settle_id, &a, &b);
            const ms_service_item_t *l = &x.b[x.line_by_id[lo]];
            const char *code = r->items.str[l->item_code];
            int same = hi - lo == 1 && b > a && !strcmp(code, r->drugs.str[x.d[x.item_by_id[a]].drug_code]) &&
                       l->qty == (int64_t)(b - a) * 1000;
            coded++;
            coded_match += same;
            if (!same) assert_non_null(bsearch(&s->settle_id, brush, nbrush, sizeof *brush, cmp_u64));
        }
    }
    static const char *const vt[3] = {"outpatient visit", "inpatient stay", "pharmacy purchase"};
    for (int t = 0; t < 3; t++)
        print_message("  %-18s %8ld settlements, %9ld lines, %.1f a settlement\n", vt[t], settl[t], lines[t],
                      (double)lines[t] / (double)(settl[t] ? settl[t] : 1));
    print_message("  stays: %d to %d lines; purchases billing their scanned drug: %ld of %ld\n", min_stay, max_stay,
                  coded_match, coded);
    double per_visit = (double)lines[0] / (double)settl[0], per_stay = (double)lines[1] / (double)settl[1];
    assert_true(per_visit >= 3 && per_visit <= 8);
    assert_true(per_stay >= 8 && per_stay <= 25);
    assert_true(coded_match >= coded - (long)nbrush && coded_match * 100 >= coded * 95);
    free(brush);
    bills_free(&x);
}

static void test_bills_knowledge_base(void **state)
{
    fx_t *f = *state;
    char csv[700], kbdir[800];
    snprintf(csv, sizeof csv, "%s/billscsv", f->dir);
    assert_int_equal(gen(csv, "--bills --csv"), 0);
    snprintf(kbdir, sizeof kbdir, "%s/knowledge", csv);
    ms_knowledge_t kb;
    assert_int_equal(ms_knowledge_load_csv(kbdir, &kb), MS_OK);
    bills_t x;
    bills_load(&x, f->bills);
    assert_true(kb.checksum == x.kb.checksum);
    /* Every line's item is in it (item codes as text, from the CSV). */
    ms_testcsv_t *lines = ms_testcsv_read(csv, "service_items.csv");
    assert_int_equal(ms_testcsv_rows(lines), x.nb);
    for (size_t i = 0; i < ms_testcsv_rows(lines); i++) {
        const char *code = ms_testcsv_get(lines, i, "item_code");
        if (ms_knowledge_find(&kb, code, strlen(code)) < 0) {
            fail_msg("service_items.csv row %zu: item %s is not in knowledge/items.csv", i + 1, code);
            return;
        }
    }
    ms_testcsv_free(lines);
    /* Every kind of restriction, diagnosis prefixes of the world's codes,
     * coded drugs, exclusive pairs. */
    int sex[2] = {0}, ages = 0, qty = 0, days = 0, set[2] = {0}, diag = 0, trace = 0;
    for (size_t i = 0; i < kb.n_items; i++) {
        const ms_kb_item_t *it = &kb.items[i];
        if (it->sex >= 0) sex[it->sex]++;
        ages += it->min_age >= 0 || it->max_age >= 0;
        qty += it->max_qty_milli >= 0;
        days += it->max_days_supply >= 0;
        if (it->setting >= 0) set[it->setting]++;
        trace += it->trace_required;
        for (size_t k = 0; k < it->ndiag; k++) {
            int found = 0;
            for (size_t d = 0; d < x.ds.refs.diagnoses.count && !found; d++)
                found = !strncmp(x.ds.refs.diagnoses.str[d], it->diag[k], strlen(it->diag[k]));
            assert_true(found);
            diag++;
        }
    }
    print_message("  %zu items: sex M %d / F %d, ages %d, daily maximum %d, days of supply %d, inpatient %d / "
                  "outpatient %d only, diagnoses %d, coded drugs %d; %zu exclusive pairs\n",
                  kb.n_items, sex[0], sex[1], ages, qty, days, set[0], set[1], diag, trace, kb.n_exclusive);
    assert_true(sex[0] && sex[1] && ages && qty && days && set[0] && set[1] && diag && trace && kb.n_exclusive);
    ms_knowledge_free(&kb);
    bills_free(&x);
}

/* The CSV world imports (its bills and knowledge base validated against
 * its settlements) and exports back to the same CSV. */
static void test_bills_csv_world_imports(void **state)
{
    fx_t *f = *state;
    char csv[700], data[700], back[700];
    snprintf(csv, sizeof csv, "%s/billscsv", f->dir);
    snprintf(data, sizeof data, "%s/billsimported", f->dir);
    snprintf(back, sizeof back, "%s/billsexported", f->dir);
    if (!ms_is_dir(csv)) assert_int_equal(gen(csv, "--bills --csv"), 0);
    char *out = NULL;
    ms_test_cli_ok(&out, "import %s %s --partitions 3", csv, data);
    ms_test_contains(out, "bill lines");
    free(out);
    ms_test_cli_ok(&out, "inspect %s --verify", data);
    assert_non_null(strstr(out, ", 0 violations"));
    free(out);
    ms_test_cli_ok(NULL, "export %s %s", data, back);
    same_tree(csv, back, 1);
}

/* Without --bills nothing of them; with it, the rest of the world is the
 * world without. */
static void test_bills_leave_the_world_as_it_was(void **state)
{
    fx_t *f = *state;
    char path[800];
    snprintf(path, sizeof path, "%s/service_items", f->a);
    assert_false(ms_path_exists(path));
    snprintf(path, sizeof path, "%s/knowledge.h5", f->a);
    assert_false(ms_path_exists(path));
    char *t = ms_test_read(f->a, "truth/world.txt", NULL);
    assert_null(strstr(t, "bills"));
    free(t);
    ms_dataset_t a;
    assert_int_equal(ms_dataset_open(f->a, &a), MS_OK);
    assert_int_equal(a.nparts[MS_TABLE_SERVICE_ITEMS], 0);
    assert_int_equal(a.refs.items.count, 0);
    bills_t x;
    bills_load(&x, f->bills);
    ms_settlement_t *s;
    ms_drug_item_t *d;
    size_t ns, nd;
    assert_int_equal(ms_testdata_load(&a, MS_TABLE_SETTLEMENTS, (void **)&s, &ns), MS_OK);
    assert_int_equal(ms_testdata_load(&a, MS_TABLE_DRUG_ITEMS, (void **)&d, &nd), MS_OK);
    assert_int_equal(ns, x.ns);
    assert_int_equal(nd, x.nd);
    /* field by field (the structs' padding is not data) */
#define SAME_FIELD(name, st, ctype, en) same += a_->name == b_->name;
    for (size_t i = 0; i < ns; i++) {
        const ms_settlement_t *a_ = &s[i], *b_ = &x.s[i];
        int same = 0;
        MS_SETTLEMENT_COLUMNS(SAME_FIELD)
        assert_int_equal(same, MS_SC_COUNT);
    }
    for (size_t i = 0; i < nd; i++) {
        const ms_drug_item_t *a_ = &d[i], *b_ = &x.d[i];
        int same = 0;
        MS_DRUG_ITEM_COLUMNS(SAME_FIELD)
        assert_int_equal(same, MS_DC_COUNT);
    }
#undef SAME_FIELD
    free(s), free(d);
    /* The truth: the same rows, and the rules' rows and look-alikes besides. */
    static const char *const files[3] = {"truth/records.csv", "truth/institutions.csv", "truth/hard_negatives.csv"};
    static const char *const kinds[] = {"repeat_after_worsening", "long_prescription", "at_daily_max",
                                        "bed_days_los_plus_one"};
    for (int k = 0; k < 3; k++) {
        char *ta = ms_test_read(f->a, files[k], NULL), *tb = ms_test_read(f->bills, files[k], NULL);
        char *kept = calloc(strlen(tb) + 1, 1), *q = kept;
        for (char *line = tb; *line;) {
            char *nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line + 1) : strlen(line);
            int extra = strstr(line, ",rule_") && strstr(line, ",rule_") < line + len;
            for (size_t m = 0; m < sizeof kinds / sizeof kinds[0] && !extra; m++) {
                char want[64];
                snprintf(want, sizeof want, ",%s\n", kinds[m]);
                extra = len >= strlen(want) && !strncmp(line + len - strlen(want), want, strlen(want));
            }
            if (!extra) memcpy(q, line, len), q += len;
            line += len;
        }
        assert_string_equal(kept, ta);
        assert_true(strlen(tb) > strlen(ta));
        free(ta), free(tb), free(kept);
    }
    ms_dataset_close(&a);
    bills_free(&x);
}

static void test_bills_deterministic_across_threads(void **state)
{
    fx_t *f = *state;
    char b[700];
    snprintf(b, sizeof b, "%s/bills2", f->dir);
    assert_int_equal(gen(b, "--bills --threads 2"), 0);
    same_tree(f->bills, b, 0);
}

/* The rule base over every claim: its lines, its scanned packages, and the
 * person's other lines as history. */
typedef struct {
    long settlements, hit[MS_RULE_TEMPLATE_COUNT];  /* settlements with a hit of each template */
} inst_hits_t;

static void test_bills_rules(void **state)
{
    fx_t *f = *state;
    bills_t x;
    bills_load(&x, f->bills);
    const ms_refs_t *refs = &x.ds.refs;
    ms_rules_config_t rc;
    ms_ruleset_t *rs = NULL;
    assert_int_equal(ms_rules_defaults(&rc), MS_OK);
    assert_int_equal(ms_ruleset_compile(&rc, &x.kb, &rs), MS_OK);
    size_t nrules = ms_ruleset_count(rs);
    int tmpl_of[64];
    for (size_t k = 0; k < nrules && k < 64; k++) tmpl_of[k] = ms_ruleset_rule(rs, k)->tmpl;

    /* Every planted settlement, by template. */
    size_t nplant[MS_RULE_TEMPLATE_COUNT];
    uint64_t *plant[MS_RULE_TEMPLATE_COUNT];
    long plant_hit[MS_RULE_TEMPLATE_COUNT] = {0};
    for (int t = 0; t < MS_RULE_TEMPLATE_COUNT; t++) {
        char name[64];
        snprintf(name, sizeof name, "rule_%s", ms_rule_template_name(t));
        plant[t] = truth_ids(f->bills, name, &nplant[t]);
    }
    inst_hits_t *ih = calloc(refs->n_inst, sizeof *ih);
    ms_rule_line_t *plines = NULL, *hist = NULL, *claim = NULL;
    size_t cap_p = 0, cap_h = 0, cap_c = 0;
    ms_rule_trace_t tr[256];
    ms_rule_hits_t hits = {0};
    long lines_total = 0;
    /* look-alike traits */
    long los1_stays = 0, los1_exact = 0, at_max = 0, long_rx = 0, late_repeats = 0;
    int32_t *bhn = calloc(refs->n_inst, sizeof *bhn);
    for (size_t i = 0; i < refs->n_inst; i++) bhn[i] = -1;
    ms_testcsv_t *hn = ms_testcsv_read(f->bills, "truth/hard_negatives.csv");
    static const char *const kinds[4] = {"repeat_after_worsening", "long_prescription", "at_daily_max",
                                         "bed_days_los_plus_one"};
    int nkinds[4] = {0};
    for (size_t r = 0; r < ms_testcsv_rows(hn); r++)
        for (int k = 0; k < 4; k++)
            if (ms_testcsv_is(hn, r, "kind", kinds[k])) {
                const char *code = ms_testcsv_get(hn, r, "inst_code");
                bhn[ms_refs_inst_find(refs, code, strlen(code))] = k;
                nkinds[k]++;
            }
    ms_testcsv_free(hn);
    for (int k = 0; k < 4; k++) assert_true(nkinds[k] >= 1);
    /* Who cheats (any pattern). */
    uint8_t *cheat = calloc(refs->n_inst, 1);
    int rule_inst[MS_RULE_TEMPLATE_COUNT];
    for (int t = 0; t < MS_RULE_TEMPLATE_COUNT; t++) rule_inst[t] = -1;
    ms_testcsv_t *ch = ms_testcsv_read(f->bills, "truth/institutions.csv");
    for (size_t r = 0; r < ms_testcsv_rows(ch); r++) {
        const char *code = ms_testcsv_get(ch, r, "inst_code"), *pat = ms_testcsv_get(ch, r, "pattern");
        int32_t id = ms_refs_inst_find(refs, code, strlen(code));
        cheat[id] = 1;
        if (!strncmp(pat, "rule_", 5)) rule_inst[ms_rule_template_find(pat + 5)] = id;
    }
    ms_testcsv_free(ch);
    for (int t = 0; t < MS_RULE_TEMPLATE_COUNT; t++) {
        print_message("  rule_%-14s planted at %s, %zu settlements\n", ms_rule_template_name(t),
                      rule_inst[t] >= 0 ? refs->inst[rule_inst[t]].inst_code : "-", nplant[t]);
        assert_true(rule_inst[t] >= 0); /* the truth names a planted institution for every template */
        assert_true(nplant[t] >= 1);
    }

    /* Persons: settlements are one run each (partition order), and so are
     * their lines. */
    size_t lb = 0;
    for (size_t a = 0; a < x.ns;) {
        size_t e = a;
        while (e < x.ns && x.s[e].person_id == x.s[a].person_id) e++;
        /* the person's lines, in the partition's order (date, settle_id, line_no) */
        while (lb < x.nb && x.b[lb].person_id < x.s[a].person_id) lb++;
        size_t le = lb;
        while (le < x.nb && x.b[le].person_id == x.s[a].person_id) le++;
        size_t np = le - lb;
        plines = ms_test_grow(plines, &cap_p, np, sizeof *plines);
        hist = ms_test_grow(hist, &cap_h, np, sizeof *hist);
        claim = ms_test_grow(claim, &cap_c, np, sizeof *claim);
        for (size_t k = 0; k < np; k++) {
            const ms_service_item_t *l = &x.b[lb + k];
            plines[k] = (ms_rule_line_t){l->settle_id, l->line_no, l->date, x.item_kb[l->item_code],
                                         refs->items.str[l->item_code], l->category, l->qty, l->unit_price,
                                         l->amount, l->days_supply, l->doctor_id, l->inst_code};
        }
        for (size_t j = a; j < e; j++) {
            const ms_settlement_t *s = &x.s[j];
            size_t nc = 0, nh = 0;
            for (size_t k = 0; k < np; k++) {
                if (plines[k].settle_id == s->settle_id) claim[nc++] = plines[k];
                else hist[nh++] = plines[k];
            }
            size_t ia, ib, nt = 0;
            items_of(&x, s->settle_id, &ia, &ib);
            for (size_t k = ia; k < ib && nt < 256; k++) {
                const ms_drug_item_t *d = &x.d[x.item_by_id[k]];
                tr[nt++] = (ms_rule_trace_t){x.drug_kb[d->drug_code], d->qty};
            }
            ms_claim_t c = {s->settle_id, s->person_id, s->inst_code, s->visit_type, s->admit_date,
                            s->discharge_date, s->age, s->sex, refs->diagnoses.str[s->diag_main], claim, nc,
                            tr, nt, hist, nh};
            assert_int_equal(ms_rules_apply(rs, &c, &hits), MS_OK);
            lines_total += (long)nc;
            int any[MS_RULE_TEMPLATE_COUNT] = {0};
            for (size_t h = 0; h < hits.n; h++) any[tmpl_of[hits.hit[h].rule]] = 1;
            inst_hits_t *w = &ih[s->inst_code];
            w->settlements++;
            for (int t = 0; t < MS_RULE_TEMPLATE_COUNT; t++) {
                w->hit[t] += any[t];
                if (bsearch(&s->settle_id, plant[t], nplant[t], sizeof *plant[t], cmp_u64)) plant_hit[t] += any[t];
            }
            /* The look-alikes' traits. */
            int k = bhn[s->inst_code];
            int32_t los = s->discharge_date - s->admit_date;
            if (k == 3 && s->visit_type == MS_VISIT_INPATIENT && s->bed > 0) {
                int64_t beds = 0;
                for (size_t q = 0; q < nc; q++)
                    if (claim[q].category == MS_CAT_BED) beds += claim[q].qty_milli;
                los1_stays++;
                los1_exact += beds == (int64_t)(los + 1) * 1000;
            }
            for (size_t q = 0; q < nc; q++) {
                const ms_kb_item_t *it = claim[q].item >= 0 ? &x.kb.items[claim[q].item] : NULL;
                if (k == 2 && it && it->max_qty_milli > 0 && claim[q].qty_milli == it->max_qty_milli) at_max++;
                if (k == 1 && claim[q].days_supply == 90) long_rx++;
                if (k == 0 && (claim[q].category == MS_CAT_EXAM))
                    for (size_t o = 0; o < q; o++)
                        late_repeats += claim[o].item == claim[q].item && claim[q].date - claim[o].date >= 8 &&
                                        claim[q].date - claim[o].date <= 10;
            }
        }
        lb = le;
        a = e;
    }

    /* Each template: the planted records hit it; at honest institutions
     * (no pattern, no look-alike) the rules that honest bills keep never
     * hit, and the noise of the others stays low; the planted institution
     * stands out against them. */
    for (int t = 0; t < MS_RULE_TEMPLATE_COUNT; t++) {
        double hmax = 0, hsum = 0;
        long hinst = 0, hhit = 0, hsett = 0;
        for (size_t i = 0; i < refs->n_inst; i++) {
            if (cheat[i] || bhn[i] >= 0 || ih[i].settlements < 200) continue;
            double rate = (double)ih[i].hit[t] / (double)ih[i].settlements;
            hmax = rate > hmax ? rate : hmax;
            hsum += rate;
            hinst++;
            hhit += ih[i].hit[t];
            hsett += ih[i].settlements;
        }
        const inst_hits_t *p = &ih[rule_inst[t]];
        double prate = (double)p->hit[t] / (double)(p->settlements ? p->settlements : 1);
        print_message("  %-14s planted %4zu, %4ld hit; planted institution %.4f of %ld settlements; "
                      "%ld honest institutions: mean %.5f, max %.5f (%ld of %ld settlements)\n",
                      ms_rule_template_name(t), nplant[t], plant_hit[t], prate, p->settlements, hinst,
                      hsum / (double)(hinst ? hinst : 1), hmax, hhit, hsett);
        assert_int_equal(plant_hit[t], (long)nplant[t]);
        assert_true(prate >= 3 * hmax && prate >= 0.005);
        int noise = t == MS_RULE_REPEAT_EXAM || t == MS_RULE_OVER_QTY || t == MS_RULE_BED_DAYS ||
                    t == MS_RULE_DUPLICATE;
        if (!noise) assert_int_equal(hhit, 0);
        else assert_true(hhit * 100 <= hsett); /* under 1% of their settlements */
        if (t == MS_RULE_REPEAT_EXAM) assert_true(hhit > 0); /* the honest base rate peers are ranked against */
    }
    /* The look-alikes: their trait, and within the rule it resembles (no
     * more than the honest noise). */
    print_message("  look-alikes: %ld exams repeated 8-10 days later; %ld lines of 90 days of supply; %ld lines at "
                  "their daily maximum; %ld of %ld stays billing LOS + 1 bed-days\n",
                  late_repeats, long_rx, at_max, los1_exact, los1_stays);
    assert_true(late_repeats >= 5 && long_rx >= 5 && at_max >= 20);
    assert_true(los1_stays >= 10 && los1_exact * 100 >= los1_stays * 98);
    static const int mimics[4] = {MS_RULE_REPEAT_EXAM, MS_RULE_EXCESS_SUPPLY, MS_RULE_OVER_QTY, MS_RULE_BED_DAYS};
    for (size_t i = 0; i < refs->n_inst; i++) {
        if (bhn[i] < 0) continue;
        int t = mimics[bhn[i]];
        double rate = (double)ih[i].hit[t] / (double)(ih[i].settlements ? ih[i].settlements : 1);
        print_message("  %-24s %s: %s %.5f of %ld settlements\n", kinds[bhn[i]], refs->inst[i].inst_code,
                      ms_rule_template_name(t), rate, ih[i].settlements);
        assert_true(rate <= 0.01);
        if (t == MS_RULE_EXCESS_SUPPLY) assert_int_equal(ih[i].hit[t], 0);
    }
    print_message("  %ld lines judged\n", lines_total);
    for (int t = 0; t < MS_RULE_TEMPLATE_COUNT; t++) free(plant[t]);
    free(ih), free(plines), free(hist), free(claim), free(bhn), free(cheat);
    ms_rule_hits_free(&hits);
    ms_ruleset_free(rs);
    ms_rules_config_free(&rc);
    bills_free(&x);
}

static void test_refuses_existing_output(void **state)
{
    fx_t *f = *state;
    char *out = NULL;
    assert_int_equal(ms_test_cli(&out, "gen --out %s --quiet", f->a), 1);
    assert_non_null(strstr(out, "--replace"));
    free(out);
    assert_int_equal(ms_test_cli(&out, "gen --out %s --days 5", f->dir), 2);
    assert_non_null(strstr(out, "--days"));
    free(out);
    assert_int_equal(ms_test_cli(&out, "gen --out %s/x --bills --flatten", f->dir), 2);
    assert_non_null(strstr(out, "--flatten"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic_across_threads),
        cmocka_unit_test(test_invariants_hold),
        cmocka_unit_test(test_planted_records_show_their_pattern),
        cmocka_unit_test(test_csv_world_imports_to_the_same_dataset),
        cmocka_unit_test(test_intensity_zero_plants_nothing),
        cmocka_unit_test(test_hard_negatives_show_their_trait),
        cmocka_unit_test(test_flatten_writes_a_poorer_extract),
        cmocka_unit_test(test_many_institutions_per_person),
        cmocka_unit_test(test_bills_add_up),
        cmocka_unit_test(test_bills_knowledge_base),
        cmocka_unit_test(test_bills_csv_world_imports),
        cmocka_unit_test(test_bills_leave_the_world_as_it_was),
        cmocka_unit_test(test_bills_deterministic_across_threads),
        cmocka_unit_test(test_bills_rules),
        cmocka_unit_test(test_refuses_existing_output),
    };
    return cmocka_run_group_tests(tests, setup, ms_test_dir_teardown);
}
