/*
 * test_import.c - medsweep import on small hand-built extracts.
 *
 * A valid extract imports; each bad input is refused with a message that
 * names file, line, column and reason, and leaves no dataset behind;
 * --skip-bad imports the good rows and lists the bad ones in rejected.csv;
 * an existing dataset is replaced only when asked, and only once the new one
 * is complete.
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
#include "ms_import.h"
#include "ms_schema.h"
#include "ms_testutil.h"

static const char institutions_csv[] =
    "inst_code,name,kind,level,ownership,region,beds\n"
    "H001,\"First Hospital, East\",general,3,public,110101,800\n"
    "H002,Clinic Two,clinic,0,private,110102,0\n"
    "P003,Pharmacy Three,pharmacy,0,private,120101,0\n";

static const char groups_csv[] =
    "group_code,family,severity,weight,mdc,surgical,expected_los,mean_cost\n"
    "ES21,ES2,1,1.25,E,0,8.5,12000.00\n"
    "ES23,ES2,0,0.9,E,0,6,8000.50\n";

#define SETTLE_HEADER                                                                        \
    "settle_id,person_id,inst_code,visit_type,admit_date,discharge_date,settle_date,age,sex," \
    "person_region,dept,doctor_id,diag_main,n_diag,proc_main,pay_scheme,group_code,total,"   \
    "fund_pay,self_pay,drug,exam,lab,consumable,treatment,surgery,bed,nursing,other\n"

/* Line 2, 3, 4. */
static const char settlements_csv[] =
    SETTLE_HEADER
    "1,100,H001,inpatient,2024-03-01,2024-03-05,2024-03-05,67,M,110101,IM,501,J18.9,3,81.51,drg,ES21,"
    "1000.00,800.00,200.00,300.00,100.00,100.00,50.00,150.00,0.00,200.00,50.00,50.00\n"
    "2,100,P003,pharmacy,2024-03-10,2024-03-10,2024-03-10,67,M,110101,OTH,0,I10.x00,1,,ffs,,"
    "55.50,40.00,15.50,55.50,0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00\n"
    "3,200,H002,outpatient,2024-04-02,2024-04-02,2024-04-02,5,F,110102,PED,77,J06.9,1,,ffs,,"
    "30.00,20.00,10.00,10.00,0.00,20.00,0.00,0.00,0.00,0.00,0.00,0.00\n";

static const char drug_items_csv[] =
    "settle_id,person_id,inst_code,date,drug_code,trace_code,qty,amount\n"
    "2,100,P003,2024-03-10,XC01,81234567890123456789,1,55.50\n";

typedef struct {
    char *dir;
    char csv[512], out[512];
} fx_t;

static void write_csv(const char *dir, const char *name, const char *text)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(ms_test_write_file(path, text), 0);
}

static void write_base(fx_t *f)
{
    ms_remove_tree(f->csv);
    ms_mkdirs(f->csv);
    write_csv(f->csv, "institutions.csv", institutions_csv);
    write_csv(f->csv, "groups.csv", groups_csv);
    write_csv(f->csv, "settlements.csv", settlements_csv);
    write_csv(f->csv, "drug_items.csv", drug_items_csv);
}

/* Replace the first occurrence of old by new in CSV file name. */
static void mutate(fx_t *f, const char *name, const char *old, const char *new_text)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", f->csv, name);
    char *text = ms_test_slurp(path, NULL);
    assert_non_null(text);
    char *at = strstr(text, old);
    assert_non_null(at);
    size_t n = strlen(text) - strlen(old) + strlen(new_text) + 1;
    char *res = malloc(n);
    snprintf(res, n, "%.*s%s%s", (int)(at - text), text, new_text, at + strlen(old));
    assert_int_equal(ms_test_write_file(path, res), 0);
    free(text);
    free(res);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    f->dir = ms_test_dir("import");
    snprintf(f->csv, sizeof f->csv, "%s/csv", f->dir);
    snprintf(f->out, sizeof f->out, "%s/data", f->dir);
    write_base(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    ms_remove_tree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static int per_test_setup(void **state)
{
    fx_t *f = *state;
    write_base(f);
    ms_remove_tree(f->out);
    return 0;
}

static ms_status_t run_import(fx_t *f, int skip_bad, int replace, ms_import_result_t *res)
{
    ms_import_opts_t o;
    memset(&o, 0, sizeof o);
    o.skip_bad = skip_bad;
    o.replace = replace;
    o.partitions = 3;
    ms_import_result_t r;
    return ms_import(f->csv, f->out, &o, res ? res : &r);
}

/* The import fails with st, the message holds every piece, nothing is left. */
static void expect_refused(fx_t *f, ms_status_t st, const char *const *pieces)
{
    ms_status_t got = run_import(f, 0, 0, NULL);
    const char *d = ms_error_detail();
    if (got != st) print_error("status %d, detail: %s\n", got, d);
    assert_int_equal(got, st);
    for (; *pieces; pieces++) {
        if (!strstr(d, *pieces)) print_error("'%s' not in: %s\n", *pieces, d);
        assert_non_null(strstr(d, *pieces));
    }
    assert_false(ms_path_exists(f->out));
    /* No temporary directory is left beside it either. */
    char cmd[700], *out = NULL;
    snprintf(cmd, sizeof cmd, "ls -A %s", f->dir);
    ms_test_run(cmd, &out);
    assert_null(strstr(out, "data"));
    free(out);
}

static void test_valid_extract(void **state)
{
    fx_t *f = *state;
    ms_import_result_t res;
    assert_int_equal(run_import(f, 0, 0, &res), MS_OK);
    assert_int_equal(res.institutions, 3);
    assert_int_equal(res.groups, 2);
    assert_int_equal(res.settlements, 3);
    assert_int_equal(res.drug_items, 1);
    assert_int_equal(res.partitions, 3);
    ms_dataset_t ds;
    assert_int_equal(ms_dataset_open(f->out, &ds), MS_OK);
    assert_int_equal(ds.nparts[MS_TABLE_SETTLEMENTS], 3);
    assert_int_equal(ds.nparts[MS_TABLE_DRUG_ITEMS], 3);
    assert_int_equal(ds.refs.n_inst, 3);
    assert_string_equal(ds.refs.inst[0].name, "First Hospital, East");
    assert_int_equal(ds.refs.diagnoses.count, 3);
    assert_string_equal(ds.refs.diagnoses.str[0], "I10.x00"); /* sorted by byte */
    ms_dataset_close(&ds);
}

static void test_missing_column(void **state)
{
    fx_t *f = *state;
    mutate(f, "settlements.csv", "fund_pay,self_pay", "self_pay");
    const char *p[] = {"settlements.csv", "fund_pay", NULL};
    expect_refused(f, MS_E_SCHEMA, p);
}

static void test_unknown_column(void **state)
{
    fx_t *f = *state;
    mutate(f, "institutions.csv", "beds\n", "bedz\n");
    const char *p[] = {"institutions.csv", "bedz", NULL};
    expect_refused(f, MS_E_SCHEMA, p);
}

static void test_unknown_inst_code(void **state)
{
    fx_t *f = *state;
    mutate(f, "settlements.csv", "3,200,H002", "3,200,H999");
    const char *p[] = {"settlements.csv", "line 4", "inst_code", "H999", NULL};
    expect_refused(f, MS_E_INPUT, p);
}

static void test_malformed_date(void **state)
{
    fx_t *f = *state;
    mutate(f, "settlements.csv", "2024-04-02,2024-04-02,2024-04-02", "2024-04-31,2024-04-02,2024-04-02");
    const char *p[] = {"settlements.csv", "line 4", "admit_date", "2024-04-31", NULL};
    expect_refused(f, MS_E_INPUT, p);
}

static void test_three_decimals(void **state)
{
    fx_t *f = *state;
    mutate(f, "settlements.csv", "55.50,40.00", "55.505,40.00");
    const char *p[] = {"settlements.csv", "line 3", "total", "more than two decimals", NULL};
    expect_refused(f, MS_E_INPUT, p);
}

static void test_negative_amount(void **state)
{
    fx_t *f = *state;
    mutate(f, "settlements.csv", "30.00,20.00,10.00,10.00", "30.00,20.00,10.00,-10.00");
    const char *p[] = {"settlements.csv", "line 4", "drug", "negative", NULL};
    expect_refused(f, MS_E_INPUT, p);
}

static void test_categories_do_not_add_up(void **state)
{
    fx_t *f = *state;
    mutate(f, "settlements.csv", "300.00,100.00,100.00", "300.00,100.00,100.01");
    const char *p[] = {"settlements.csv", "line 2", "cost categories", NULL};
    expect_refused(f, MS_E_INPUT, p);
}

static void test_fund_self_do_not_add_up(void **state)
{
    fx_t *f = *state;
    mutate(f, "settlements.csv", "1000.00,800.00,200.00", "1000.00,800.00,199.99");
    const char *p[] = {"settlements.csv", "line 2", "fund_pay + self_pay", NULL};
    expect_refused(f, MS_E_INPUT, p);
}

static void test_discharge_before_admission(void **state)
{
    fx_t *f = *state;
    mutate(f, "settlements.csv", "2024-03-01,2024-03-05,2024-03-05", "2024-03-06,2024-03-05,2024-03-05");
    const char *p[] = {"settlements.csv", "line 2", "discharge_date before admit_date", NULL};
    expect_refused(f, MS_E_INPUT, p);
}

static void test_trace_code_19_digits(void **state)
{
    fx_t *f = *state;
    mutate(f, "drug_items.csv", "81234567890123456789", "8123456789012345678");
    const char *p[] = {"drug_items.csv", "line 2", "trace_code", "20 digits", NULL};
    expect_refused(f, MS_E_INPUT, p);
}

static void test_unknown_enum_and_group(void **state)
{
    fx_t *f = *state;
    mutate(f, "settlements.csv", ",drg,ES21,", ",drg,XX99,");
    const char *p[] = {"settlements.csv", "line 2", "group_code", "XX99", NULL};
    expect_refused(f, MS_E_INPUT, p);
    write_base(f);
    mutate(f, "settlements.csv", ",PED,", ",KID,");
    const char *q[] = {"settlements.csv", "line 4", "dept", "KID", NULL};
    expect_refused(f, MS_E_INPUT, q);
}

static void test_duplicate_settle_id(void **state)
{
    fx_t *f = *state;
    mutate(f, "settlements.csv", "\n3,200,H002", "\n1,200,H002");
    const char *p[] = {"settlements.csv", "line 4", "settle_id", NULL};
    expect_refused(f, MS_E_INPUT, p);
}

static void test_drug_item_without_settlement(void **state)
{
    fx_t *f = *state;
    mutate(f, "drug_items.csv", "2,100,P003", "9,100,P003");
    const char *p[] = {"drug_items.csv", "line 2", "settle_id", NULL};
    expect_refused(f, MS_E_INPUT, p);
}

static void test_malformed_quoting(void **state)
{
    fx_t *f = *state;
    mutate(f, "institutions.csv", "Clinic Two", "Clinic \"Two");
    const char *p[] = {"institutions.csv", NULL};
    expect_refused(f, MS_E_INPUT, p);
}

/* ------------------------------------------------------------------ */
/* Limits (docs/schema.md, Limits): each refused with file, line, column,
 * the value and the limit. */

#define HUGE "50000000000000000.00" /* yuan: 5 x 10^18 fen, fits int64, above the limit */
#define HUGE_ROWS                                                                                   \
    "4,300,H001,outpatient,2024-05-01,2024-05-01,2024-05-01,40,F,110101,IM,0,J18.9,1,,ffs," \
    "," HUGE "," HUGE ",0.00," HUGE ",0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00\n"                       \
    "5,300,H001,outpatient,2024-05-02,2024-05-02,2024-05-02,40,F,110101,IM,0,J18.9,1,,ffs," \
    "," HUGE "," HUGE ",0.00," HUGE ",0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00\n"

/* The defect: two settlements of 50,000,000,000,000,000.00 yuan at one
 * institution imported, and their sum overflowed in the sweep. */
static void test_money_above_the_limit(void **state)
{
    fx_t *f = *state;
    mutate(f, "settlements.csv", "0.00,0.00,0.00,0.00\n3,", "0.00,0.00,0.00,0.00\n" HUGE_ROWS "3,");
    const char *p[] = {"settlements.csv", "line 4, column total", HUGE, "limit of 1000000000.00 yuan", NULL};
    expect_refused(f, MS_E_INPUT, p);
    /* --skip-bad: both rejected, the rest imported. */
    ms_import_result_t res;
    assert_int_equal(run_import(f, 1, 0, &res), MS_OK);
    assert_int_equal(res.settlements, 3);
    assert_int_equal(res.rejected, 2);
    char path[700];
    snprintf(path, sizeof path, "%s/rejected.csv", f->out);
    char *rej = ms_test_slurp(path, NULL);
    assert_non_null(rej);
    assert_non_null(strstr(rej, "settlements.csv,4,total," HUGE ","));
    assert_non_null(strstr(rej, "settlements.csv,5,total," HUGE ","));
    assert_non_null(strstr(rej, "limit of 1000000000.00 yuan"));
    free(rej);
}

/* Exactly the limit is accepted, one fen more is not; every money column
 * (a category, a drug item's amount, a group's mean cost) has it. */
static void test_money_limit_edges(void **state)
{
    fx_t *f = *state;
    mutate(f, "settlements.csv", "30.00,20.00,10.00,10.00,0.00,20.00",
           "1000000000.00,999999980.00,20.00,999999980.00,0.00,20.00");
    assert_int_equal(run_import(f, 0, 0, NULL), MS_OK);
    ms_remove_tree(f->out);
    write_base(f);
    mutate(f, "settlements.csv", "30.00,20.00,10.00,10.00,0.00,20.00",
           "1000000000.01,999999980.01,20.00,999999980.01,0.00,20.00");
    const char *p[] = {"settlements.csv", "line 4, column total", "1000000000.01", "limit of 1000000000.00", NULL};
    expect_refused(f, MS_E_INPUT, p);
    write_base(f);
    mutate(f, "settlements.csv", "55.50,40.00,15.50,55.50", "55.50,40.00,15.50,99999999999999999999.00");
    const char *q[] = {"settlements.csv", "line 3, column drug", "99999999999999999999.00", "limit of", NULL};
    expect_refused(f, MS_E_INPUT, q);
    write_base(f);
    mutate(f, "drug_items.csv", ",1,55.50", ",1,1000000000.01");
    const char *r[] = {"drug_items.csv", "line 2, column amount", "1000000000.01", "limit of", NULL};
    expect_refused(f, MS_E_INPUT, r);
    write_base(f);
    mutate(f, "groups.csv", "12000.00", "2000000000.00");
    const char *g[] = {"groups.csv", "line 2, column mean_cost", "2000000000.00", "limit of", NULL};
    expect_refused(f, MS_E_INPUT, g);
}

/* Dates: a real calendar day outside 1900-01-01..2199-12-31 is refused
 * as outside the window, not as malformed. */
static void test_date_outside_the_window(void **state)
{
    fx_t *f = *state;
    mutate(f, "settlements.csv", "2024-04-02,2024-04-02,2024-04-02", "2200-01-01,2200-01-01,2200-01-01");
    const char *p[] = {"settlements.csv", "line 4, column admit_date", "2200-01-01",
                       "1900-01-01..2199-12-31", NULL};
    expect_refused(f, MS_E_INPUT, p);
    write_base(f);
    mutate(f, "drug_items.csv", "P003,2024-03-10", "P003,1899-12-31");
    const char *q[] = {"drug_items.csv", "line 2, column date", "1899-12-31", "1900-01-01..2199-12-31", NULL};
    expect_refused(f, MS_E_INPUT, q);
}

/* Quantities and counts. */
static void test_quantity_and_beds_limits(void **state)
{
    fx_t *f = *state;
    mutate(f, "drug_items.csv", ",1,55.50", ",1000001,55.50");
    const char *p[] = {"drug_items.csv", "line 2, column qty", "1-1000000", "1000001", NULL};
    expect_refused(f, MS_E_INPUT, p);
    write_base(f);
    mutate(f, "institutions.csv", "110101,800", "110101,100001");
    const char *q[] = {"institutions.csv", "line 2, column beds", "0-100000", "100001", NULL};
    expect_refused(f, MS_E_INPUT, q);
    /* The edges themselves are accepted. */
    write_base(f);
    mutate(f, "drug_items.csv", ",1,55.50", ",1000000,55.50");
    mutate(f, "institutions.csv", "110101,800", "110101,100000");
    assert_int_equal(run_import(f, 0, 0, NULL), MS_OK);
}

/* String lengths: names and families had none. */
static void test_string_limits(void **state)
{
    fx_t *f = *state;
    char name[400];
    memset(name, 'n', 257);
    name[257] = '\0';
    mutate(f, "institutions.csv", "Clinic Two", name);
    const char *p[] = {"institutions.csv", "line 3, column name", "1-256", NULL};
    expect_refused(f, MS_E_INPUT, p);
    write_base(f);
    name[256] = '\0';
    mutate(f, "institutions.csv", "Clinic Two", name);
    assert_int_equal(run_import(f, 0, 0, NULL), MS_OK);
    ms_remove_tree(f->out);
    write_base(f);
    mutate(f, "groups.csv", "ES23,ES2,", "ES23,ES2345678901234567,");
    const char *q[] = {"groups.csv", "line 3, column family", "1-16", NULL};
    expect_refused(f, MS_E_INPUT, q);
}

/* Partitions and chunk sizes, also when called as a library. */
static void test_partition_limits(void **state)
{
    fx_t *f = *state;
    ms_import_opts_t o;
    memset(&o, 0, sizeof o);
    ms_import_result_t res;
    o.partitions = MS_PARTITIONS_MAX + 1;
    assert_int_equal(ms_import(f->csv, f->out, &o, &res), MS_E_USAGE);
    assert_non_null(strstr(ms_error_detail(), "1-100000"));
    o.partitions = 2;
    o.chunk_rows = MS_CHUNK_ROWS_MIN - 1;
    assert_int_equal(ms_import(f->csv, f->out, &o, &res), MS_E_USAGE);
    assert_non_null(strstr(ms_error_detail(), "chunk"));
    assert_false(ms_path_exists(f->out));
}

static void test_skip_bad(void **state)
{
    fx_t *f = *state;
    mutate(f, "settlements.csv", "3,200,H002", "3,200,H999");
    mutate(f, "settlements.csv", "55.50,40.00", "55.505,40.00");
    ms_import_result_t res;
    assert_int_equal(run_import(f, 1, 0, &res), MS_OK);
    assert_int_equal(res.settlements, 1);
    /* The drug item's settlement (line 3) was rejected, so the item is too. */
    assert_int_equal(res.drug_items, 0);
    assert_int_equal(res.rejected, 3);
    char path[700];
    snprintf(path, sizeof path, "%s/rejected.csv", f->out);
    char *rej = ms_test_slurp(path, NULL);
    assert_non_null(rej);
    assert_true(strncmp(rej, "file,line,column,value,reason\n", 30) == 0);
    assert_non_null(strstr(rej, "settlements.csv,3,total,55.505,"));
    assert_non_null(strstr(rej, "settlements.csv,4,inst_code,H999,"));
    assert_non_null(strstr(rej, "drug_items.csv,2,"));
    free(rej);
}

static void test_existing_dataset(void **state)
{
    fx_t *f = *state;
    assert_int_equal(run_import(f, 0, 0, NULL), MS_OK);
    assert_int_equal(run_import(f, 0, 0, NULL), MS_E_EXISTS);
    assert_non_null(strstr(ms_error_detail(), "--replace"));
    /* A failing replace leaves the old dataset as it was. */
    mutate(f, "settlements.csv", "3,200,H002", "3,200,H999");
    assert_int_equal(run_import(f, 0, 1, NULL), MS_E_INPUT);
    ms_dataset_t ds;
    assert_int_equal(ms_dataset_open(f->out, &ds), MS_OK);
    ms_dataset_close(&ds);
    /* A good replace swaps it. */
    write_base(f);
    mutate(f, "groups.csv", "ES23,ES2,0,0.9", "ES23,ES2,0,0.95");
    assert_int_equal(run_import(f, 0, 1, NULL), MS_OK);
    assert_int_equal(ms_dataset_open(f->out, &ds), MS_OK);
    assert_true(ds.refs.groups[1].weight > 0.94f);
    ms_dataset_close(&ds);
}

static void test_unwritable_output(void **state)
{
    fx_t *f = *state;
    /* The parent is a regular file: no one can create a directory in it. */
    char file[700], out[800];
    snprintf(file, sizeof file, "%s/plainfile", f->dir);
    ms_test_write_file(file, "x");
    snprintf(out, sizeof out, "%s/data", file);
    ms_import_opts_t o;
    memset(&o, 0, sizeof o);
    ms_import_result_t res;
    assert_int_equal(ms_import(f->csv, out, &o, &res), MS_E_IO);
    assert_non_null(strstr(ms_error_detail(), "plainfile"));
    /* A read-only filesystem. */
    assert_int_equal(ms_import(f->csv, "/proc/medsweep-test-data", &o, &res), MS_E_IO);
    assert_non_null(strstr(ms_error_detail(), "/proc"));
}

static void test_full_disk(void **state)
{
    fx_t *f = *state;
    char mnt[700], cmd[900];
    snprintf(mnt, sizeof mnt, "%s/tiny", f->dir);
    ms_mkdirs(mnt);
    snprintf(cmd, sizeof cmd, "mount -t tmpfs -o size=64k tmpfs %s", mnt);
    if (ms_test_run(cmd, NULL) != 0) {
        print_message("cannot mount a small tmpfs here (not root?): full-disk test skipped\n");
        skip();
    }
    char out[800];
    snprintf(out, sizeof out, "%s/data", mnt);
    ms_import_opts_t o;
    memset(&o, 0, sizeof o);
    o.partitions = 16; /* 16 partitions x 2 tables of HDF5 overhead do not fit in 64 KiB */
    ms_import_result_t res;
    ms_status_t st = ms_import(f->csv, out, &o, &res);
    const char *d = ms_error_detail();
    if (st != MS_E_NOSPACE) print_error("status %d: %s\n", st, d);
    char *listing = NULL;
    snprintf(cmd, sizeof cmd, "ls -A %s", mnt);
    ms_test_run(cmd, &listing);
    snprintf(cmd, sizeof cmd, "umount %s", mnt);
    ms_test_run(cmd, NULL);
    assert_int_equal(st, MS_E_NOSPACE);
    /* Nothing half-written is left on the full disk. */
    assert_string_equal(listing, "");
    free(listing);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_valid_extract, per_test_setup),
        cmocka_unit_test_setup(test_missing_column, per_test_setup),
        cmocka_unit_test_setup(test_unknown_column, per_test_setup),
        cmocka_unit_test_setup(test_unknown_inst_code, per_test_setup),
        cmocka_unit_test_setup(test_malformed_date, per_test_setup),
        cmocka_unit_test_setup(test_three_decimals, per_test_setup),
        cmocka_unit_test_setup(test_negative_amount, per_test_setup),
        cmocka_unit_test_setup(test_categories_do_not_add_up, per_test_setup),
        cmocka_unit_test_setup(test_fund_self_do_not_add_up, per_test_setup),
        cmocka_unit_test_setup(test_discharge_before_admission, per_test_setup),
        cmocka_unit_test_setup(test_trace_code_19_digits, per_test_setup),
        cmocka_unit_test_setup(test_unknown_enum_and_group, per_test_setup),
        cmocka_unit_test_setup(test_duplicate_settle_id, per_test_setup),
        cmocka_unit_test_setup(test_drug_item_without_settlement, per_test_setup),
        cmocka_unit_test_setup(test_malformed_quoting, per_test_setup),
        cmocka_unit_test_setup(test_money_above_the_limit, per_test_setup),
        cmocka_unit_test_setup(test_money_limit_edges, per_test_setup),
        cmocka_unit_test_setup(test_date_outside_the_window, per_test_setup),
        cmocka_unit_test_setup(test_quantity_and_beds_limits, per_test_setup),
        cmocka_unit_test_setup(test_string_limits, per_test_setup),
        cmocka_unit_test_setup(test_partition_limits, per_test_setup),
        cmocka_unit_test_setup(test_skip_bad, per_test_setup),
        cmocka_unit_test_setup(test_existing_dataset, per_test_setup),
        cmocka_unit_test_setup(test_unwritable_output, per_test_setup),
        cmocka_unit_test_setup(test_full_disk, per_test_setup),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
