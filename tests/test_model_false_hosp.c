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

#include "ms_testdata.h"
#include "ms_testsweep.h"
#include "ms_testutil.h"

enum { H_OVERLAP, H_OVERLAP2, H_LIGHT, H_GROUP, H_MINOR, H_BEDS, H_NOBEDS, H_CAP, N_INST };

typedef struct {
    ms_testdata_t t;
    ms_testclues_t flags;        /* what the test expects flagged */
    uint64_t person;
    uint64_t group4[4];          /* the batch of 4: flagged only with batch_size 4 */
    uint64_t e11[3];             /* E11, E11.2, E11.900: flagged with diagnoses = ["E11"] */
    /* The evidence a clue must carry (clues.csv, docs/models.md, Clues). */
    uint64_t overlap_stay, overlap_visit;    /* the stay at H0001 and the visit at H0002 inside it */
    uint64_t overlap2_stay, overlap2_short;  /* the stay at H0002 and the short stay at H0001 inside it */
    uint64_t light80, minor_i10, beds_s5;
    int32_t d;
} world_t;

static void expect(world_t *w, uint32_t inst, const char *indicator, uint64_t sid)
{
    ms_testclues_add(&w->flags, w->t.refs.inst[inst].inst_code, indicator, sid);
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
    w->overlap_stay = s->settle_id;
    w->overlap_visit = ms_testdata_visit(t, p, H_OVERLAP2, d + 2)->settle_id;
    w->d = d;
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
    w->overlap2_stay = s->settle_id;
    w->overlap2_short = ms_testdata_stay(t, p, H_OVERLAP, d + 12, d + 15, -1)->settle_id;

    /* Treatment-light stays at H0003. */
    s = cost_split(ms_testdata_stay(t, w->person++, H_LIGHT, d, d + 4, -1), 1000000, 800000); /* 80% */
    expect(w, H_LIGHT, "treatment_light_stay", s->settle_id);
    w->light80 = s->settle_id;
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
        if (!strcmp(minor[i], "I10.x00")) w->minor_i10 = s->settle_id;
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
    w->beds_s5 = s->settle_id;
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

/* The row of clues.csv for (indicator, settle_id); fails the test if none. */
static size_t clue_row(const ms_testcsv_t *clues, const char *indicator, uint64_t sid)
{
    for (size_t r = 0; r < ms_testcsv_rows(clues); r++)
        if (ms_testcsv_is(clues, r, "indicator", indicator) && ms_testcsv_u64(clues, r, "settle_id") == sid) return r;
    fail_msg("no %s clue for settlement %llu", indicator, (unsigned long long)sid);
    return 0;
}

static void date_is(const ms_testcsv_t *clues, size_t r, const char *col, int32_t day)
{
    char want[11];
    ms_date_format(day, want);
    assert_string_equal(ms_testcsv_get(clues, r, col), want);
}

/* Each clue carries what an inspector checks: the institution by name, the
 * other half of an overlap, the shares behind a share test, the diagnosis,
 * the peak day and its census. */
static void check_evidence(const world_t *w, const char *out)
{
    const ms_refs_t *refs = &w->t.refs;
    ms_testcsv_t *clues = ms_testcsv_read(out, "clues.csv");
    size_t r = clue_row(clues, "overlapping_stay", w->overlap_stay);
    assert_string_equal(ms_testcsv_get(clues, r, "inst_name"), refs->inst[H_OVERLAP].name);
    assert_string_equal(ms_testcsv_get(clues, r, "date_is"), "admission");
    date_is(clues, r, "date", w->d);
    date_is(clues, r, "discharge_date", w->d + 5);
    assert_int_equal(ms_testcsv_u64(clues, r, "other_settle_id"), w->overlap_visit);
    assert_string_equal(ms_testcsv_get(clues, r, "other_inst_code"), refs->inst[H_OVERLAP2].inst_code);
    assert_string_equal(ms_testcsv_get(clues, r, "other_inst_name"), refs->inst[H_OVERLAP2].name);
    date_is(clues, r, "other_date", w->d + 2);
    r = clue_row(clues, "overlapping_stay", w->overlap2_stay);
    assert_int_equal(ms_testcsv_u64(clues, r, "other_settle_id"), w->overlap2_short);
    assert_string_equal(ms_testcsv_get(clues, r, "other_inst_code"), refs->inst[H_OVERLAP].inst_code);
    date_is(clues, r, "other_date", w->d + 15); /* the short stay's settlement */
    r = clue_row(clues, "treatment_light_stay", w->light80);
    assert_string_equal(ms_testcsv_get(clues, r, "bed_nursing_other_yuan"), "8000.00");
    assert_string_equal(ms_testcsv_get(clues, r, "total_yuan"), "10000.00");
    assert_string_equal(ms_testcsv_get(clues, r, "bed_nursing_other_share"), "0.800000");
    assert_string_equal(ms_testcsv_get(clues, r, "other_settle_id"), ""); /* no counterpart */
    r = clue_row(clues, "minor_diagnosis_admission", w->minor_i10);
    assert_string_equal(ms_testcsv_get(clues, r, "diagnosis_code"), "I10.x00");
    r = clue_row(clues, "beds_overflow", w->beds_s5);
    date_is(clues, r, "peak_day", w->d + 32);
    assert_string_equal(ms_testcsv_get(clues, r, "inpatients_on_peak_day"), "4");
    assert_string_equal(ms_testcsv_get(clues, r, "approved_beds"), "2");
    for (size_t q = 0; q < ms_testcsv_rows(clues); q++)
        if (ms_testcsv_is(clues, q, "indicator", "group_admission")) {
            assert_string_equal(ms_testcsv_get(clues, q, "patient_county"), "110102");
            assert_string_equal(ms_testcsv_get(clues, q, "admissions_from_county_that_day"), "5");
        }
    ms_testcsv_free(clues);
}

static void test_indicators_and_clues(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "model-false-hosp", "false_hosp");
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    build(w);
    long long days = window_days(&w->t);
    ms_testsweep_data(&f, &w->t);
    /* Clues on indicators with small denominators are dropped from
     * clues.csv (docs/models.md, small numbers): this world is small. */
    ms_testsweep_rules(&f, "scoring = { min_denominator = 1; all_clues = 1; };\n");
    ms_testsweep_run(&f, f.out, "--threads 1");

    ms_testsweep_expect(&f, "H0001", "overlapping_stay", 1, 5);
    ms_testsweep_expect(&f, "H0002", "overlapping_stay", 1, 1);
    ms_testsweep_expect(&f, "H0003", "treatment_light_stay", 2, 4);
    ms_testsweep_expect(&f, "H0003", "overlapping_stay", 0, 5);
    ms_testsweep_expect(&f, "H0004", "group_admission", 5, 19);
    ms_testsweep_expect(&f, "H0005", "minor_diagnosis_admission", 7, 13);
    ms_testsweep_expect(&f, "H0004", "beds_overflow", 18, 100); /* 14 on [d, d+5) and 4 of the five-day group */
    ms_testsweep_expect(&f, "H0006", "beds_overflow", 4, 2);
    ms_testsweep_expect(&f, "H0006", "admission_rate", 6 * 365, 2 * days);
    ms_testsweep_expect(&f, "H0004", "admission_rate", 19 * 365, 100 * days);
    ms_testsweep_expect(&f, "H0007", "overlapping_stay", 0, 1);
    ms_testsweep_expect(&f, "H0008", "beds_overflow", 1005, 1);
    long long num, den;
    assert_int_equal(ms_testdata_indicator(f.out, "H0007", "false_hosp", "beds_overflow", &num, &den), -1);
    assert_int_equal(ms_testdata_indicator(f.out, "H0007", "false_hosp", "admission_rate", &num, &den), -1);

    /* Every flagged record is a clue, and nothing else is; each carries
     * its evidence. */
    ms_testsweep_clues_are(&f, &w->flags, 0);
    check_evidence(w, f.out);

    /* The same bytes with 3 threads. */
    ms_testsweep_same_run(&f, "--threads 3");

    /* The rule configuration: batches of 4, the E11 family, a 79.99% share. */
    ms_testsweep_rules(&f, "scoring = { min_denominator = 1; all_clues = 1; };\n"
                           "models = { false_hosp = {\n"
                           "  group_admission = { batch_size = 4; };\n"
                           "  minor_diagnosis_admission = { diagnoses = [\"E11\"]; };\n"
                           "  treatment_light_stay = { share = 0.7999; };\n"
                           "}; };\n");
    ms_testsweep_run(&f, f.out, NULL);
    ms_testsweep_expect(&f, "H0004", "group_admission", 9, 19);
    ms_testsweep_expect(&f, "H0005", "minor_diagnosis_admission", 3, 13);
    ms_testsweep_expect(&f, "H0003", "treatment_light_stay", 4, 4);
    ms_testcsv_t *clues = ms_testcsv_read(f.out, "clues.csv");
    const char *group = w->t.refs.inst[H_GROUP].inst_code, *minor = w->t.refs.inst[H_MINOR].inst_code;
    for (int i = 0; i < 4; i++)
        assert_true(ms_testsweep_clue_count(clues, group, "false_hosp", "group_admission", w->group4[i]));
    for (int i = 0; i < 3; i++)
        assert_true(ms_testsweep_clue_count(clues, minor, "false_hosp", "minor_diagnosis_admission", w->e11[i]));
    ms_testcsv_free(clues);

    ms_testclues_free(&w->flags);
    ms_testdata_free(&w->t);
    free(w);
    ms_testsweep_done(&f);
}

static void test_configuration_errors(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "model-false-hosp-cfg", "false_hosp");
    static const ms_testsweep_bad_t cases[] = {
        {"models = { false_hosp = { group_admission = { batch_size = 1; }; }; };",
         "'models.false_hosp.group_admission.batch_size' = 1 is out of range (allowed 2..100)"},
        {"models = { false_hosp = { treatment_light_stay = { share = 1.5; }; }; };",
         "'models.false_hosp.treatment_light_stay.share' = 1.5 is out of range (allowed 0.5..1)"},
        {"models = { false_hosp = { minor_diagnosis_admission = { diagnoses = 3; }; }; };",
         "must be a list of strings"},
    };
    ms_testsweep_refused(&f, cases, sizeof cases / sizeof *cases);
    /* The defaults are printed, and read back. */
    ms_testsweep_defaults("diagnoses = [\"J06\", \"I10\", \"E11.9\", \"K29\", \"M54\"];", "batch_size = 5;",
                          "share = 0.8;", NULL);
    ms_testsweep_done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_indicators_and_clues),
        cmocka_unit_test(test_configuration_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
