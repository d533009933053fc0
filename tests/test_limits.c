/*
 * test_limits.c - the limits of the data contract (docs/schema.md, Limits)
 * and what happens beyond them.
 *
 * Import refuses money above the per-record limit with a named error (the
 * defect: two settlements of 50,000,000,000,000,000.00 yuan at one
 * institution imported, and the sweep wrote a negative total_cost).  A
 * dataset written by the test-data helper bypasses import: amounts at the
 * limit sum exactly, sums that reach INT64_MAX exactly are exact, and sums
 * beyond int64 stop the sweep with an error that names the model, the
 * indicator and the institution, whether the overflow happens inside one
 * partition (the kernels) or when partitions are merged (the tally); a row
 * whose cost categories overflow is not trusted.  Dates format without
 * undefined behaviour for every int32.
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
#include "ms_schema.h"
#include "ms_testcsv.h"
#include "ms_testdata.h"
#include "ms_testsweep.h"
#include "ms_testutil.h"

/* A person of partition part (of 2): the first id from `from` up. */
static uint64_t person_in(uint32_t part, uint64_t from)
{
    while (ms_person_partition(from, 2) != part) from++;
    return from;
}

/* A settlement of fen at inst for person, all of it drug, all paid by the fund. */
static ms_settlement_t *visit_of(ms_testdata_t *t, uint64_t person, uint32_t inst, int64_t fen)
{
    ms_settlement_t *s = ms_testdata_visit(t, person, inst, ms_testdata_day("2025-03-03"));
    ms_testdata_cost(s, fen, 0, 1.0);
    s->fund_pay = fen; /* exactly: the helper splits through a double */
    s->self_pay = 0;
    return s;
}

/* Sweep f->data with the volume model; exit status, output in *log. */
static int sweep_volume(ms_testsweep_t *f, char **log)
{
    return ms_testdata_sweep(f->data, f->out, "--models volume", log);
}

/* The sweep fails (exit status 1) naming every piece; no indicators.csv is
 * left with a wrong total. */
static void expect_overflow(ms_testsweep_t *f, const char *const *pieces)
{
    char *log = NULL;
    int rc = sweep_volume(f, &log);
    if (rc != 1) print_error("exit status %d: %s\n", rc, log ? log : "");
    assert_int_equal(rc, 1);
    for (; *pieces; pieces++) ms_test_contains(log, *pieces);
    free(log);
    long long num = 0, den = 0;
    if (ms_testdata_indicator(f->out, "H0001", "volume", "total_cost", &num, &den) == 0) {
        print_error("total_cost written after an overflow: %lld\n", num);
        fail();
    }
}

/* The first count of reason in out/run.json (the settlements'). */
static long long rejected(const char *out, const char *reason)
{
    char *run = ms_test_read(out, "run.json", NULL), key[80];
    snprintf(key, sizeof key, "\"%s\"", reason);
    const char *at = strstr(run, key);
    assert_non_null(at);
    at = strchr(at, ':');
    assert_non_null(at);
    long long n = strtoll(at + 1, NULL, 10);
    free(run);
    return n;
}

/* ------------------------------------------------------------------ */
/* Import                                                               */

#define SETTLE_HEADER                                                                        \
    "settle_id,person_id,inst_code,visit_type,admit_date,discharge_date,settle_date,age,sex," \
    "person_region,dept,doctor_id,diag_main,n_diag,proc_main,pay_scheme,group_code,total,"   \
    "fund_pay,self_pay,drug,exam,lab,consumable,treatment,surgery,bed,nursing,other\n"
#define HUGE "50000000000000000.00" /* yuan: 5 x 10^18 fen, under INT64_MAX, above the limit */
#define HUGE_ROW(id, person)                                                                   \
    #id "," #person ",H001,outpatient,2024-03-01,2024-03-01,2024-03-01,40,F,110101,IM,0,J18.9,1,,ffs,," HUGE \
        "," HUGE ",0.00," HUGE ",0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00\n"

/* The defect as reported: two such settlements at one institution.  The
 * command line refuses them with file, line, column, value and the limit,
 * and leaves no dataset. */
static void test_import_refuses_huge_amounts(void **state)
{
    (void)state;
    char *dir = ms_test_dir("limits-import");
    char csv[600], data[600], path[700];
    snprintf(csv, sizeof csv, "%s/csv", dir);
    snprintf(data, sizeof data, "%s/data", dir);
    ms_mkdirs(csv);
    snprintf(path, sizeof path, "%s/institutions.csv", csv);
    ms_test_write_file(path, "inst_code,name,kind,level,ownership,region,beds\n"
                             "H001,First Hospital,general,3,public,110101,800\n");
    snprintf(path, sizeof path, "%s/groups.csv", csv);
    ms_test_write_file(path, "group_code,family,severity,weight,mdc,surgical,expected_los,mean_cost\n"
                             "ES21,ES2,1,1.25,E,0,8.5,12000.00\n");
    snprintf(path, sizeof path, "%s/settlements.csv", csv);
    ms_test_write_file(path, SETTLE_HEADER HUGE_ROW(1, 100) HUGE_ROW(2, 100));
    char *out = NULL;
    int rc = ms_test_cli(&out, "import %s %s --quiet", csv, data);
    if (rc != 1) print_error("exit status %d: %s\n", rc, out ? out : "");
    assert_int_equal(rc, 1);
    ms_test_contains(out, "settlements.csv line 2, column total");
    ms_test_contains(out, HUGE);
    ms_test_contains(out, "limit of 1000000000.00 yuan");
    free(out);
    assert_false(ms_path_exists(data));
    /* With --skip-bad both rows are rejected, and named in rejected.csv. */
    ms_test_cli_ok(&out, "import %s %s --quiet --skip-bad", csv, data);
    free(out);
    char *rej = ms_test_read(data, "rejected.csv", NULL);
    ms_test_contains(rej, "settlements.csv,2,total," HUGE ",");
    ms_test_contains(rej, "settlements.csv,3,total," HUGE ",");
    free(rej);
    ms_remove_tree(dir);
    free(dir);
}

/* ------------------------------------------------------------------ */
/* Sums                                                                 */

/* Amounts at the contract's limit, at one institution, in both
 * partitions and in runs of one person: exact sums. */
static void test_sums_at_the_limit_are_exact(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "limits-exact", "volume");
    ms_testdata_t t;
    ms_testdata_init(&t, 3, 1);
    enum { N = 3000 };
    for (int i = 0; i < N; i++) visit_of(&t, 1000 + (uint64_t)i % 40, 0, MS_MONEY_MAX_FEN);
    /* H0002: at the limit less one fen, and one fen. */
    visit_of(&t, 5000, 1, MS_MONEY_MAX_FEN - 1);
    visit_of(&t, 5001, 1, 1);
    ms_testsweep_data(&f, &t);
    ms_testsweep_run(&f, f.out, NULL);
    ms_testsweep_expect(&f, "H0001", "total_cost", (long long)N * MS_MONEY_MAX_FEN, 0);
    ms_testsweep_expect(&f, "H0001", "fund_payment", (long long)N * MS_MONEY_MAX_FEN, 0);
    ms_testsweep_expect(&f, "H0002", "total_cost", MS_MONEY_MAX_FEN, 0);
    ms_testdata_free(&t);
    ms_testsweep_done(&f);
}

/* Beyond the contract: sums that reach INT64_MAX exactly are still exact,
 * in one partition (kernel) and across two (merge). */
static void test_sum_of_int64_max_is_exact(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "limits-max", "volume");
    ms_testdata_t t;
    ms_testdata_init(&t, 3, 1);
    const int64_t half = INT64_MAX / 2; /* half + half + 1 = INT64_MAX */
    uint64_t p0 = person_in(0, 100), p1 = person_in(1, 100);
    visit_of(&t, p0, 0, half);
    visit_of(&t, p0, 0, half + 1);
    visit_of(&t, p0, 1, half);
    visit_of(&t, p1, 1, half + 1);
    ms_testsweep_data(&f, &t);
    ms_testsweep_run(&f, f.out, NULL);
    ms_testsweep_expect(&f, "H0001", "total_cost", INT64_MAX, 0);
    ms_testsweep_expect(&f, "H0002", "total_cost", INT64_MAX, 0);
    ms_testdata_free(&t);
    ms_testsweep_done(&f);
}

/* The defect's amounts written straight into a dataset: one person, one
 * partition, one batch: the kernel reports the overflow. */
static void test_overflow_in_a_partition(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "limits-kernel", "volume");
    ms_testdata_t t;
    ms_testdata_init(&t, 3, 1);
    visit_of(&t, 100, 1, 1000);
    visit_of(&t, 101, 0, 5000000000000000000ll);
    visit_of(&t, 101, 0, 5000000000000000000ll);
    ms_testsweep_data(&f, &t);
    static const char *const pieces[] = {"model volume", "total_cost", "H0001", "overflow", NULL};
    expect_overflow(&f, pieces);
    /* Verification names the amount above the limit (and adds nothing that
     * could overflow). */
    char *out = NULL;
    assert_int_equal(ms_test_cli(&out, "inspect %s --verify", f.data), 1);
    ms_test_contains(out, "above the limit of 100000000000 fen per record");
    free(out);
    ms_testdata_free(&t);
    ms_testsweep_done(&f);
}

/* The same amounts at one institution in two partitions: each partition's
 * sum fits, their merge does not. */
static void test_overflow_across_partitions(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "limits-merge", "volume");
    ms_testdata_t t;
    ms_testdata_init(&t, 3, 1);
    visit_of(&t, person_in(0, 100), 0, 5000000000000000000ll);
    visit_of(&t, person_in(1, 100), 0, 5000000000000000000ll);
    visit_of(&t, person_in(1, 500), 2, 1000);
    ms_testsweep_data(&f, &t);
    static const char *const pieces[] = {"model volume", "total_cost", "H0001", "overflow", NULL};
    expect_overflow(&f, pieces);
    ms_testdata_free(&t);
    ms_testsweep_done(&f);
}

/* Drug item amounts too (drug_item_amount). */
static void test_overflow_of_drug_amounts(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "limits-drugs", "volume");
    ms_testdata_t t;
    ms_testdata_init(&t, 3, 1);
    ms_settlement_t *s = visit_of(&t, 100, 0, 1000);
    ms_settlement_t copy = *s;
    ms_testdata_item(&t, &copy, 0, 1, 1)->amount = INT64_MAX;
    ms_testdata_item(&t, &copy, 0, 1, 2)->amount = 1;
    ms_testsweep_data(&f, &t);
    static const char *const pieces[] = {"model volume", "drug_item_amount", "H0001", "overflow", NULL};
    expect_overflow(&f, pieces);
    ms_testdata_free(&t);
    ms_testsweep_done(&f);
}

/* A row whose nine categories overflow int64 (and wrap around to its
 * total) does not add up: the quality check takes it out. */
static void test_categories_that_overflow_are_not_trusted(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "limits-quality", "volume");
    ms_testdata_t t;
    ms_testdata_init(&t, 3, 1);
    visit_of(&t, 100, 0, 1000);
    ms_settlement_t *s = visit_of(&t, 101, 0, 0);
    s->drug = INT64_MAX;
    s->exam = INT64_MAX;
    s->lab = 2; /* 2 x INT64_MAX + 2 = 2^64: 0 when wrapped */
    /* fund_pay + self_pay beyond int64 (a wrapped sum is negative, never
     * the total, but the add itself must not overflow). */
    s = visit_of(&t, 102, 0, 1000);
    s->fund_pay = INT64_MAX;
    s->self_pay = 1;
    ms_testsweep_data(&f, &t);
    ms_testsweep_run(&f, f.out, NULL);
    ms_testsweep_expect(&f, "H0001", "total_cost", 1000, 0);
    ms_testsweep_expect(&f, "H0001", "settlements", 1, 0);
    assert_int_equal(rejected(f.out, "sums_do_not_add_up"), 2);
    ms_testdata_free(&t);
    ms_testsweep_done(&f);
}

/* ------------------------------------------------------------------ */
/* Dates                                                                */

static void test_date_format_is_defined_for_every_int32(void **state)
{
    (void)state;
    char out[11];
    const int32_t far[] = {INT32_MAX, INT32_MAX - 1, INT32_MAX - 719468, INT32_MAX - 719469, INT32_MIN,
                           INT32_MIN + 1, INT32_MIN + 146096, -719529, 2932897};
    for (size_t i = 0; i < sizeof far / sizeof *far; i++) {
        memset(out, 'x', sizeof out);
        ms_date_format(far[i], out);
        assert_int_equal(strlen(out), 10);
        assert_string_equal(out, "0000-00-00");
    }
    /* The edges of what prints: 0000-01-01 and 9999-12-31. */
    ms_date_format(-719528, out);
    assert_string_equal(out, "0000-01-01");
    ms_date_format(2932896, out);
    assert_string_equal(out, "9999-12-31");
    ms_date_format(0, out);
    assert_string_equal(out, "1970-01-01");
    /* Every day of the contract's window round-trips. */
    int32_t lo, hi, d;
    assert_int_equal(ms_date_parse("1900-01-01", 10, &lo), 0);
    assert_int_equal(ms_date_parse("2199-12-31", 10, &hi), 0);
    assert_int_equal(lo, MS_DAY_MIN);
    assert_int_equal(hi, MS_DAY_MAX);
    for (int32_t x = lo; x <= hi; x++) {
        ms_date_format(x, out);
        assert_int_equal(ms_date_parse(out, 10, &d), 0);
        assert_int_equal(d, x);
    }
    /* Outside the window: a real day, refused as out of range. */
    assert_int_equal(ms_date_parse("1899-12-31", 10, &d), -2);
    assert_int_equal(ms_date_parse("2200-01-01", 10, &d), -2);
    assert_int_equal(ms_date_parse("2200-02-30", 10, &d), -1);
}

/* A partition whose dates are far outside the window (written without
 * import): writing it formats them (its min_date/max_date attributes) without
 * undefined behaviour, as "0000-00-00", which readers refuse as no date, so
 * verification and a sweep fail cleanly instead of reading it. */
static void test_far_dates_in_a_partition(void **state)
{
    (void)state;
    ms_testsweep_t f;
    ms_testsweep_init(&f, "limits-dates", "volume");
    ms_testdata_t t;
    ms_testdata_init(&t, 3, 1);
    t.partitions = 1;
    visit_of(&t, 100, 0, 1000);
    ms_settlement_t *s = visit_of(&t, 101, 0, 2000);
    s->admit_date = s->discharge_date = s->settle_date = INT32_MAX;
    assert_int_equal(ms_testdata_write(&t, f.data), MS_OK);
    char *out = NULL;
    assert_int_equal(ms_test_cli(&out, "inspect %s --verify", f.data), 1);
    free(out);
    out = NULL;
    assert_int_equal(sweep_volume(&f, &out), 1);
    free(out);
    ms_testdata_free(&t);
    ms_testsweep_done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_refuses_huge_amounts),
        cmocka_unit_test(test_sums_at_the_limit_are_exact),
        cmocka_unit_test(test_sum_of_int64_max_is_exact),
        cmocka_unit_test(test_overflow_in_a_partition),
        cmocka_unit_test(test_overflow_across_partitions),
        cmocka_unit_test(test_overflow_of_drug_amounts),
        cmocka_unit_test(test_categories_that_overflow_are_not_trusted),
        cmocka_unit_test(test_date_format_is_defined_for_every_int32),
        cmocka_unit_test(test_far_dates_in_a_partition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
