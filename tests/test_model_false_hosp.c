/*
 * test_model_false_hosp.c - false hospitalization on hand-built cases.
 *
 * One institution per indicator (so the expected numbers read plainly), a
 * distinct person per case unless the case needs the same person, and the
 * default two partitions, so that group admissions and the census of an
 * institution come from both partitions through the shuffle.  Every flagged
 * record must be in clues.csv; a changed rule configuration must change the
 * flags; 1 and 3 threads must write the same bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ms_fs.h"
#include "ms_testdata.h"
#include "ms_testutil.h"

enum { H_OVERLAP, H_OVERLAP2, H_LIGHT, H_GROUP, H_MINOR, H_BEDS, H_NOBEDS, H_CAP, N_INST };

#define MAX_FLAGS 1100

/* What the test expects flagged: (institution, indicator, settle_id). */
typedef struct {
    uint32_t inst;
    const char *indicator;
    uint64_t settle_id;
} flag_t;

typedef struct {
    ms_testdata_t t;
    flag_t flag[MAX_FLAGS];
    int nflags;
    uint64_t person;
    uint64_t group4[4];          /* the batch of 4: flagged only with batch_size 4 */
    uint64_t e11[3];             /* E11, E11.2, E11.900: flagged with diagnoses = ["E11"] */
} world_t;

static void expect(world_t *w, uint32_t inst, const char *indicator, uint64_t sid)
{
    assert_true(w->nflags < MAX_FLAGS);
    w->flag[w->nflags++] = (flag_t){inst, indicator, sid};
}

/* Main diagnoses of the world, sorted by byte order as a dictionary must be. */
static const char *const diag_codes[] = {"A00.0",  "E11",     "E11.2", "E11.900", "I10", "I10.x00", "J05.0",
                                         "J06.900", "K2",     "K29.7", "K29.700", "M5",  "M54.500"};
#define N_DIAG (sizeof diag_codes / sizeof *diag_codes)

static int32_t diag_id(const char *code)
{
    for (size_t i = 0; i < N_DIAG; i++)
        if (!strcmp(diag_codes[i], code)) return (int32_t)i;
    fail_msg("no diagnosis %s", code);
    return -1;
}

/* A stay whose costs are split: light = bed + nursing + other, the rest drug. */
static ms_settlement_t *cost_split(ms_settlement_t *s, int64_t total, int64_t light)
{
    ms_testdata_cost(s, total, 0, 0.7);
    s->drug = total - light;
    s->bed = light / 2;
    s->nursing = light / 4;
    s->other = light - s->bed - s->nursing;
    return s;
}

static void build(world_t *w)
{
    memset(w, 0, sizeof *w);
    ms_testdata_t *t = &w->t;
    ms_testdata_init(t, N_INST, 2);
    w->person = 1000;
    ms_dict_free(&t->refs.diagnoses);
    t->refs.diagnoses.count = N_DIAG;
    t->refs.diagnoses.str = calloc(N_DIAG, sizeof(char *));
    for (size_t i = 0; i < N_DIAG; i++) t->refs.diagnoses.str[i] = strdup(diag_codes[i]);
    t->refs.inst[H_BEDS].beds = 2;
    t->refs.inst[H_NOBEDS].beds = 0;
    t->refs.inst[H_CAP].beds = 1;
    int32_t d = ms_testdata_day("2025-03-03");
    ms_settlement_t *s;

    /* Overlapping stays at H0001, stays [d, d+5]. */
    uint64_t p = w->person++; /* a visit elsewhere strictly inside: flagged */
    s = ms_testdata_stay(t, p, H_OVERLAP, d, d + 5, -1);
    expect(w, H_OVERLAP, "overlapping_stay", s->settle_id);
    ms_testdata_visit(t, p, H_OVERLAP2, d + 2);
    p = w->person++; /* elsewhere on the discharge day: not flagged */
    ms_testdata_stay(t, p, H_OVERLAP, d, d + 5, -1);
    ms_testdata_visit(t, p, H_OVERLAP2, d + 5);
    p = w->person++; /* elsewhere on the admission day: not flagged */
    ms_testdata_stay(t, p, H_OVERLAP, d, d + 5, -1);
    ms_testdata_visit(t, p, H_OVERLAP2, d);
    p = w->person++; /* at the same institution inside the stay: not flagged */
    ms_testdata_stay(t, p, H_OVERLAP, d, d + 5, -1);
    ms_testdata_visit(t, p, H_OVERLAP, d + 2);
    /* A stay at H0002 [d+10, d+20] with a short stay at H0001 [d+12, d+15]
     * settled strictly inside it: the long stay is flagged, not the short. */
    p = w->person++;
    s = ms_testdata_stay(t, p, H_OVERLAP2, d + 10, d + 20, -1);
    expect(w, H_OVERLAP2, "overlapping_stay", s->settle_id);
    ms_testdata_stay(t, p, H_OVERLAP, d + 12, d + 15, -1);

    /* Treatment-light stays at H0003. */
    s = cost_split(ms_testdata_stay(t, w->person++, H_LIGHT, d, d + 4, -1), 1000000, 800000); /* 80% */
    expect(w, H_LIGHT, "treatment_light_stay", s->settle_id);
    cost_split(ms_testdata_stay(t, w->person++, H_LIGHT, d, d + 4, -1), 1000000, 799900); /* 79.99% */
    /* 0.8 x 1234567 = 987653.6: 987654 is at least the share, 987653 is not. */
    s = cost_split(ms_testdata_stay(t, w->person++, H_LIGHT, d, d + 4, -1), 1234567, 987654);
    expect(w, H_LIGHT, "treatment_light_stay", s->settle_id);
    cost_split(ms_testdata_stay(t, w->person++, H_LIGHT, d, d + 4, -1), 1234567, 987653);
    cost_split(ms_testdata_stay(t, w->person++, H_LIGHT, d, d + 4, -1), 0, 0); /* no cost: not judged */

    /* Group admissions at H0004 (county 110101) on day d. */
    for (int i = 0; i < 5; i++) { /* 5 from 110102: all flagged */
        s = ms_testdata_stay(t, w->person++, H_GROUP, d, d + 5, -1);
        s->person_region = 110102;
        expect(w, H_GROUP, "group_admission", s->settle_id);
    }
    for (int i = 0; i < 4; i++) { /* 4 from 110103: none */
        s = ms_testdata_stay(t, w->person++, H_GROUP, d, d + 5, -1);
        s->person_region = 110103;
        w->group4[i] = s->settle_id;
    }
    for (int i = 0; i < 5; i++) /* 5 from the institution's own county: none */
        ms_testdata_stay(t, w->person++, H_GROUP, d, d + 5, -1);
    for (int i = 0; i < 5; i++) { /* 5 from 110102, but on five days: none */
        s = ms_testdata_stay(t, w->person++, H_GROUP, d + 1 + i, d + 6, -1);
        s->person_region = 110102;
    }

    /* Minor-diagnosis admissions at H0005, one stay per diagnosis. */
    static const char *const minor[] = {"E11.900", "I10", "I10.x00", "J06.900", "K29.7", "K29.700", "M54.500"};
    static const char *const other[] = {"A00.0", "E11", "E11.2", "J05.0", "K2", "M5"};
    for (size_t i = 0; i < sizeof minor / sizeof *minor; i++) {
        s = ms_testdata_stay(t, w->person++, H_MINOR, d, d + 3, -1);
        s->diag_main = diag_id(minor[i]);
        expect(w, H_MINOR, "minor_diagnosis_admission", s->settle_id);
        if (!strcmp(minor[i], "E11.900")) w->e11[2] = s->settle_id;
    }
    for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
        s = ms_testdata_stay(t, w->person++, H_MINOR, d, d + 3, -1);
        s->diag_main = diag_id(other[i]);
        if (!strcmp(other[i], "E11")) w->e11[0] = s->settle_id;
        if (!strcmp(other[i], "E11.2")) w->e11[1] = s->settle_id;
    }
    ms_testdata_visit(t, w->person++, H_MINOR, d)->diag_main = diag_id("J06.900"); /* outpatient */

    /* Census at H0006 (2 beds), c = d + 30.  Present on c+2: S1, S2, S3
     * (same day), S5 = 4, the peak, first reached on c+2.  On c+3: S2, S4,
     * S5, S6 = 4 (S1 left that day).  Counting discharge days would give 5
     * on c+3; dropping the same-day stay would move the peak to c+3. */
    int32_t c = d + 30;
    ms_testdata_stay(t, w->person++, H_BEDS, c, c + 3, -1);                       /* S1 */
    ms_testdata_stay(t, w->person++, H_BEDS, c + 1, c + 4, -1);                   /* S2 */
    s = ms_testdata_stay(t, w->person++, H_BEDS, c + 2, c + 2, -1);               /* S3 */
    expect(w, H_BEDS, "beds_overflow", s->settle_id);
    ms_testdata_stay(t, w->person++, H_BEDS, c + 3, c + 6, -1);                   /* S4 */
    s = ms_testdata_stay(t, w->person++, H_BEDS, c + 2, c + 10, -1);              /* S5 */
    expect(w, H_BEDS, "beds_overflow", s->settle_id);
    ms_testdata_stay(t, w->person++, H_BEDS, c + 3, c + 5, -1);                   /* S6 */

    /* H0007 has no approved beds: its stay counts, its bed ratios do not. */
    ms_testdata_stay(t, w->person++, H_NOBEDS, d, d + 2, -1);

    /* H0008 (1 bed) admits 1005 on one day: the peak day's clues stop at
     * 1000, the smallest settle_ids. */
    for (int i = 0; i < 1005; i++) {
        s = ms_testdata_stay(t, w->person++, H_CAP, d + 60, d + 61, -1);
        if (i < 1000) expect(w, H_CAP, "beds_overflow", s->settle_id);
    }
}

static int32_t window_days(const ms_testdata_t *t)
{
    int32_t lo = t->s[0].settle_date, hi = lo;
    for (size_t i = 1; i < t->ns; i++) {
        if (t->s[i].settle_date < lo) lo = t->s[i].settle_date;
        if (t->s[i].settle_date > hi) hi = t->s[i].settle_date;
    }
    return hi - lo + 1;
}

static void check(const char *out, const char *inst, const char *ind, long long want_num, long long want_den)
{
    long long num = -1, den = -1;
    int rc = ms_testdata_indicator(out, inst, "false_hosp", ind, &num, &den);
    if (rc || num != want_num || den != want_den)
        print_error("%s %s: got %lld/%lld (rc %d), want %lld/%lld\n", inst, ind, num, den, rc, want_num, want_den);
    assert_int_equal(rc, 0);
    assert_int_equal(num, want_num);
    assert_int_equal(den, want_den);
}

/* clues.csv: the false_hosp lines, and whether one names (inst, indicator,
 * settle_id).  Columns are found by the header's names. */
static int column_of(const char *csv, const char *name)
{
    int col = 0;
    size_t len = strlen(name);
    for (const char *p = csv; *p && *p != '\n'; col++) {
        size_t n = strcspn(p, ",\n");
        if (n == len && !strncmp(p, name, len)) return col;
        p += n;
        if (*p == ',') p++;
    }
    fail_msg("no column %s in clues.csv", name);
    return -1;
}

/* Field col of the line at p (copied into out). */
static void field_of(const char *p, int col, char *out, size_t cap)
{
    for (int k = 0; k < col && *p && *p != '\n'; k++) {
        p += strcspn(p, ",\n");
        if (*p == ',') p++;
    }
    size_t n = strcspn(p, ",\n");
    if (n >= cap) n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static int count_clues(const char *clues)
{
    int n = 0;
    for (const char *p = clues; (p = strstr(p, ",false_hosp,")) != NULL; p++) n++;
    return n;
}

static int has_clue(const char *clues, uint32_t inst, const char *indicator, uint64_t sid)
{
    int c_sid = column_of(clues, "settle_id");
    char prefix[200], want[32], got[32];
    snprintf(prefix, sizeof prefix, "H%04u,false_hosp,%s,", inst + 1, indicator);
    snprintf(want, sizeof want, "%llu", (unsigned long long)sid);
    for (const char *p = strchr(clues, '\n'); p && p[1]; p = strchr(p + 1, '\n')) {
        if (strncmp(p + 1, prefix, strlen(prefix))) continue;
        field_of(p + 1, c_sid, got, sizeof got);
        if (!strcmp(got, want)) return 1;
    }
    return 0;
}

static char *read_clues(const char *out)
{
    char path[700];
    snprintf(path, sizeof path, "%s/clues.csv", out);
    char *text = ms_test_slurp(path, NULL);
    assert_non_null(text);
    return text;
}

static void sweep(const char *data, const char *out, const char *extra)
{
    char *log = NULL;
    int rc = ms_testdata_sweep(data, out, extra, &log);
    if (rc) print_error("%s\n", log);
    free(log);
    assert_int_equal(rc, 0);
}

static void test_indicators_and_clues(void **state)
{
    (void)state;
    char *dir = ms_test_dir("model-false-hosp");
    char data[600], out[600], out3[600];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(out3, sizeof out3, "%s/out3", dir);
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    build(w);
    long long days = window_days(&w->t);
    assert_int_equal(ms_testdata_write(&w->t, data), MS_OK);
    /* Clues on indicators with small denominators are dropped from
     * clues.csv (MODELS.md, small numbers): this world is small. */
    char cfg[700], extra[900];
    snprintf(cfg, sizeof cfg, "%s/rules.cfg", dir);
    ms_test_write_file(cfg, "scoring = { min_denominator = 1; all_clues = 1; };\n");
    snprintf(extra, sizeof extra, "--models false_hosp --threads 1 --config %s", cfg);
    sweep(data, out, extra);

    check(out, "H0001", "overlapping_stay", 1, 5);
    check(out, "H0002", "overlapping_stay", 1, 1);
    check(out, "H0003", "treatment_light_stay", 2, 4);
    check(out, "H0003", "overlapping_stay", 0, 5);
    check(out, "H0004", "group_admission", 5, 19);
    check(out, "H0005", "minor_diagnosis_admission", 7, 13);
    check(out, "H0004", "beds_overflow", 18, 100); /* 14 on [d, d+5) and 4 of the five-day group */
    check(out, "H0006", "beds_overflow", 4, 2);
    check(out, "H0006", "admission_rate", 6 * 365, 2 * days);
    check(out, "H0004", "admission_rate", 19 * 365, 100 * days);
    check(out, "H0007", "overlapping_stay", 0, 1);
    check(out, "H0008", "beds_overflow", 1005, 1);
    long long num, den;
    assert_int_equal(ms_testdata_indicator(out, "H0007", "false_hosp", "beds_overflow", &num, &den), -1);
    assert_int_equal(ms_testdata_indicator(out, "H0007", "false_hosp", "admission_rate", &num, &den), -1);

    /* Every flagged record is a clue, and nothing else is. */
    char *clues = read_clues(out);
    for (int i = 0; i < w->nflags; i++) {
        if (!has_clue(clues, w->flag[i].inst, w->flag[i].indicator, w->flag[i].settle_id))
            print_error("missing clue H%04u %s %llu\n", w->flag[i].inst + 1, w->flag[i].indicator,
                        (unsigned long long)w->flag[i].settle_id);
        assert_true(has_clue(clues, w->flag[i].inst, w->flag[i].indicator, w->flag[i].settle_id));
    }
    assert_int_equal(count_clues(clues), w->nflags);

    /* The same bytes with 3 threads. */
    snprintf(extra, sizeof extra, "--models false_hosp --threads 3 --config %s", cfg);
    sweep(data, out3, extra);
    char *clues3 = read_clues(out3), path[700];
    assert_string_equal(clues, clues3);
    free(clues3);
    snprintf(path, sizeof path, "%s/indicators.csv", out);
    char *ind1 = ms_test_slurp(path, NULL);
    snprintf(path, sizeof path, "%s/indicators.csv", out3);
    char *ind3 = ms_test_slurp(path, NULL);
    assert_non_null(ind1);
    assert_non_null(ind3);
    assert_string_equal(ind1, ind3);
    free(ind1), free(ind3), free(clues);

    /* The rule configuration: batches of 4, the E11 family, a 79.99% share. */
    ms_test_write_file(cfg, "scoring = { min_denominator = 1; all_clues = 1; };\n"
                            "models = { false_hosp = {\n"
                            "  group_admission = { batch_size = 4; };\n"
                            "  minor_diagnosis_admission = { diagnoses = [\"E11\"]; };\n"
                            "  treatment_light_stay = { share = 0.7999; };\n"
                            "}; };\n");
    snprintf(extra, sizeof extra, "--models false_hosp --config %s", cfg);
    sweep(data, out, extra);
    check(out, "H0004", "group_admission", 9, 19);
    check(out, "H0005", "minor_diagnosis_admission", 3, 13);
    check(out, "H0003", "treatment_light_stay", 4, 4);
    clues = read_clues(out);
    for (int i = 0; i < 4; i++) assert_true(has_clue(clues, H_GROUP, "group_admission", w->group4[i]));
    for (int i = 0; i < 3; i++) assert_true(has_clue(clues, H_MINOR, "minor_diagnosis_admission", w->e11[i]));
    free(clues);

    ms_testdata_free(&w->t);
    free(w);
    ms_remove_tree(dir);
    free(dir);
}

static void test_configuration_errors(void **state)
{
    (void)state;
    char *dir = ms_test_dir("model-false-hosp-cfg");
    char cfg[700], cmd[1500], *out = NULL;
    snprintf(cfg, sizeof cfg, "%s/rules.cfg", dir);
    const struct {
        const char *text, *want;
    } cases[] = {
        {"models = { false_hosp = { group_admission = { batch_size = 1; }; }; };",
         "'models.false_hosp.group_admission.batch_size' = 1 is out of range (allowed 2..100)"},
        {"models = { false_hosp = { treatment_light_stay = { share = 1.5; }; }; };",
         "'models.false_hosp.treatment_light_stay.share' = 1.5 is out of range (allowed 0.5..1)"},
        {"models = { false_hosp = { minor_diagnosis_admission = { diagnoses = 3; }; }; };",
         "must be a list of strings"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ms_test_write_file(cfg, cases[i].text);
        snprintf(cmd, sizeof cmd, "%s models --config %s", ms_test_bin(), cfg);
        int rc = ms_test_run(cmd, &out);
        assert_int_equal(rc, 1);
        if (!strstr(out, cases[i].want)) print_error("'%s' not in: %s\n", cases[i].want, out);
        assert_non_null(strstr(out, cases[i].want));
        free(out);
    }
    /* The defaults are printed, and read back. */
    snprintf(cmd, sizeof cmd, "%s models --config", ms_test_bin());
    assert_int_equal(ms_test_run(cmd, &out), 0);
    assert_non_null(strstr(out, "diagnoses = [\"J06\", \"I10\", \"E11.9\", \"K29\", \"M54\"];"));
    assert_non_null(strstr(out, "batch_size = 5;"));
    assert_non_null(strstr(out, "share = 0.80000000000000004;"));
    free(out);
    ms_remove_tree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_indicators_and_clues),
        cmocka_unit_test(test_configuration_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
