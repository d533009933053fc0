/*
 * test_gen.c - medsweep gen, through the real program.
 *
 * The same seed gives byte-identical files with 1 and 2 threads; every
 * invariant of docs/schema.md holds on every row (inspect --verify); every planted
 * record in truth/records.csv exists at its institution and shows the
 * pattern it is planted for; a --csv world imported is the same dataset,
 * byte for byte, as the one generated directly; intensity 0 plants nothing.
 */
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
#include "ms_part.h"
#include "ms_reader.h"
#include "ms_testcsv.h"
#include "ms_testdata.h"
#include "ms_testutil.h"

#define WORLD "--persons 30000 --institutions 120 --seed 11 --partitions 3 --quiet"

typedef struct {
    char *dir;     /* first: ms_test_dir_teardown frees it */
    char a[600];   /* generated with 1 thread */
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
} world_t;

static const ms_settlement_t *find_settlement(const world_t *w, uint64_t id)
{
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
        int n = 0;
        for (size_t i = 0; i < w->ns; i++)
            n += w->s[i].doctor_id == s->doctor_id && w->s[i].settle_date == s->settle_date;
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
        for (size_t i = 0; i < w->nd; i++) {
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
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic_across_threads),
        cmocka_unit_test(test_invariants_hold),
        cmocka_unit_test(test_planted_records_show_their_pattern),
        cmocka_unit_test(test_csv_world_imports_to_the_same_dataset),
        cmocka_unit_test(test_intensity_zero_plants_nothing),
        cmocka_unit_test(test_refuses_existing_output),
    };
    return cmocka_run_group_tests(tests, setup, ms_test_dir_teardown);
}
