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
#include <sys/stat.h>

#include <cmocka.h>

#include "ms_dataset.h"
#include "ms_fs.h"
#include "ms_import.h"
#include "ms_schema.h"
#include "ms_testcsv.h"
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

static void write_base(fx_t *f)
{
    ms_remove_tree(f->csv);
    ms_mkdirs(f->csv);
    ms_test_put(f->csv, "institutions.csv", institutions_csv);
    ms_test_put(f->csv, "groups.csv", groups_csv);
    ms_test_put(f->csv, "settlements.csv", settlements_csv);
    ms_test_put(f->csv, "drug_items.csv", drug_items_csv);
}

/* Replace the first occurrence of old by new in CSV file name
 * (ms_test_replace, with the bytes' count, for text holding a NUL byte). */
static void mutate(fx_t *f, const char *name, const char *old, const char *new_text)
{
    ms_test_replace(f->csv, name, old, new_text, strlen(new_text));
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

/* ------------------------------------------------------------------ */
/* Byte-level errors of the CSV reader: named at their own line, whatever
 * the block the reader was parsing or the threads reading the file. */

/* The defect: the reader looked for a NUL byte only after parsing a whole
 * block (1 MiB), and named the line where the block ended: a NUL on line 2
 * of this 4-line file was "line 5". */
static void test_nul_byte_line(void **state)
{
    fx_t *f = *state;
    ms_test_replace(f->csv, "settlements.csv", "J18.9", "J1\0" "8.9", 5);
    const char *p[] = {"settlements.csv line 2: NUL byte in column diag_main (field 13)", NULL};
    expect_refused(f, MS_E_INPUT, p);
    /* The record is whole (only one byte is bad): --skip-bad rejects it and
     * reads on. */
    ms_import_result_t res;
    assert_int_equal(run_import(f, 1, 0, &res), MS_OK);
    assert_int_equal(res.settlements, 2);
    assert_int_equal(res.rejected, 1);
    char *rej = ms_test_read(f->out, "rejected.csv", NULL);
    ms_test_contains(rej, "\nsettlements.csv,2,,,NUL byte in column diag_main (field 13)\n");
    free(rej);
    ms_remove_tree(f->out);
    /* In a quoted field over two lines: the NUL's own (physical) line, and
     * the line where its record starts. */
    write_base(f);
    ms_test_replace(f->csv, "institutions.csv", "\"First Hospital, East\"", "\"First Hospital,\nEa\0st\"", 23);
    const char *q[] = {"institutions.csv line 3: NUL byte in column name (field 2) of the record that "
                       "starts on line 2",
                       NULL};
    expect_refused(f, MS_E_INPUT, q);
    /* In the header. */
    write_base(f);
    ms_test_replace(f->csv, "groups.csv", "severity", "seve\0rity", 9);
    const char *h[] = {"groups.csv line 1: NUL byte in the header (field 3)", NULL};
    expect_refused(f, MS_E_INPUT, h);
}

/* Without --skip-bad the first bad record of the file is the one named,
 * also when a later one breaks the parser in the same block. */
static void test_first_error_in_file_order(void **state)
{
    fx_t *f = *state;
    mutate(f, "settlements.csv", "2024-03-10,2024-03-10,2024-03-10", "2024-02-30,2024-03-10,2024-03-10");
    mutate(f, "settlements.csv", "3,200,H002,outpatient", "3,200,H002,out\"patient");
    const char *p[] = {"settlements.csv line 3, column admit_date", "2024-02-30", NULL};
    expect_refused(f, MS_E_INPUT, p);
    write_base(f);
    mutate(f, "settlements.csv", "2024-03-10,2024-03-10,2024-03-10", "2024-02-30,2024-03-10,2024-03-10");
    ms_test_replace(f->csv, "settlements.csv", "3,200,H002", "3,2\0" "00,H002", 10);
    expect_refused(f, MS_E_INPUT, p);
    /* Alone, the stray quote is named at its line. */
    write_base(f);
    mutate(f, "settlements.csv", "3,200,H002,outpatient", "3,200,H002,out\"patient");
    const char *q[] = {"settlements.csv line 4: malformed CSV", NULL};
    expect_refused(f, MS_E_INPUT, q);
}

/* A settlements.csv above 64 MiB (the size from which pass 1 reads a file
 * in parallel ranges) with a NUL byte at line NUL_LINE, in the last third:
 * 1, 2 and 3 threads name that line, in the same words. */
#define BIG_ROWS 520000u
#define NUL_LINE 371293u

static void test_nul_byte_line_large(void **state)
{
    fx_t *f = *state;
    char path[700];
    snprintf(path, sizeof path, "%s/settlements.csv", f->csv);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(SETTLE_HEADER, fp);
    for (uint32_t i = 1; i <= BIG_ROWS; i++) {
        fprintf(fp, "%u,%u,H002,outpatient,2024-04-02,2024-04-02,2024-04-02,5,F,110102,PED,77,", i,
                200 + i % 4999);
        if (i + 1 == NUL_LINE) fwrite("J0\0" "6.9", 1, 6, fp);
        else fputs("J06.9", fp);
        fputs(",1,,ffs,,30.00,20.00,10.00,10.00,0.00,20.00,0.00,0.00,0.00,0.00,0.00,0.00\n", fp);
    }
    assert_int_equal(fclose(fp), 0);
    ms_test_put(f->csv, "drug_items.csv", "settle_id,person_id,inst_code,date,drug_code,trace_code,qty,amount\n");
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true((uint64_t)sb.st_size > ((uint64_t)64 << 20));
    char want[200];
    snprintf(want, sizeof want, "settlements.csv line %u: NUL byte in column diag_main (field 13)", NUL_LINE);
    for (int threads = 1; threads <= 3; threads++) {
        ms_import_opts_t o;
        memset(&o, 0, sizeof o);
        o.threads = threads;
        o.partitions = 3;
        ms_import_result_t res;
        ms_status_t st = ms_import(f->csv, f->out, &o, &res);
        const char *d = ms_error_detail();
        if (st != MS_E_INPUT || strcmp(d, want))
            print_error("%d threads: status %d, '%s', expected '%s'\n", threads, st, d, want);
        assert_int_equal(st, MS_E_INPUT);
        assert_string_equal(d, want);
        assert_false(ms_path_exists(f->out));
    }
    write_base(f); /* the 70 MB file goes */
}

/* ------------------------------------------------------------------ */
/* rejected.csv is opened in spreadsheets too: a value from the extract
 * never becomes a formula there, nor writes a control character. */

static int formula_start(const char *s)
{
    return s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r';
}

static void test_rejected_csv_neutralised(void **state)
{
    fx_t *f = *state;
    /* Lines 2-4: a formula as inst_code, an ESC sequence (clear the screen)
     * in visit_type, a negative amount; the good rows move to lines 5-7. */
    mutate(f, "settlements.csv", "nursing,other\n",
           "nursing,other\n"
           "11,300,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",outpatient,2024-04-02,2024-04-02,2024-04-02,5,F,"
           "110102,PED,77,J06.9,1,,ffs,,30.00,20.00,10.00,10.00,0.00,20.00,0.00,0.00,0.00,0.00,0.00,0.00\n"
           "12,300,H002,out\033[2Jpatient,2024-04-02,2024-04-02,2024-04-02,5,F,"
           "110102,PED,77,J06.9,1,,ffs,,30.00,20.00,10.00,10.00,0.00,20.00,0.00,0.00,0.00,0.00,0.00,0.00\n"
           "13,300,H002,outpatient,2024-04-02,2024-04-02,2024-04-02,5,F,"
           "110102,PED,77,J06.9,1,,ffs,,30.00,20.00,10.00,-12.50,0.00,20.00,0.00,0.00,0.00,0.00,0.00,0.00\n");
    ms_import_result_t res;
    assert_int_equal(run_import(f, 1, 0, &res), MS_OK);
    assert_int_equal(res.settlements, 3);
    assert_int_equal(res.rejected, 3);
    /* No control character but the line ends, anywhere in the file. */
    size_t len = 0;
    char *raw = ms_test_read(f->out, "rejected.csv", &len);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)raw[i];
        if ((ch < 0x20 && ch != '\n') || ch == 0x7f) print_error("byte 0x%02x at %zu of:\n%s\n", ch, i, raw);
        assert_false((ch < 0x20 && ch != '\n') || ch == 0x7f);
    }
    free(raw);
    /* Valid CSV: read back by column name, five columns a row. */
    ms_testcsv_t *t = ms_testcsv_read(f->out, "rejected.csv");
    assert_int_equal(ms_testcsv_rows(t), 3);
    static const char *const cols[] = {"file", "line", "column", "value", "reason"};
    for (size_t c = 0; c < 5; c++) assert_int_equal(ms_testcsv_column(t, cols[c]), (int)c);
    static const char *const want[3][4] = {
        {"2", "inst_code", "'=HYPERLINK(\"http://x\",\"y\")", "unknown inst_code '=HYPERLINK(\"http://x\",\"y\")'"},
        {"3", "visit_type", "out\\x1b[2Jpatient", "unknown visit_type 'out\\x1b[2Jpatient'"},
        {"4", "drug", "'-12.50", "negative amount ('-12.50')"},
    };
    for (size_t r = 0; r < 3; r++) {
        assert_string_equal(ms_testcsv_get(t, r, "file"), "settlements.csv");
        assert_string_equal(ms_testcsv_get(t, r, "line"), want[r][0]);
        assert_string_equal(ms_testcsv_get(t, r, "column"), want[r][1]);
        const char *v = ms_testcsv_get(t, r, "value"), *why = ms_testcsv_get(t, r, "reason");
        if (strcmp(v, want[r][2])) print_error("row %zu: value '%s', expected '%s'\n", r + 1, v, want[r][2]);
        assert_string_equal(v, want[r][2]);
        ms_test_contains(why, want[r][3]);
        assert_false(formula_start(v));
        assert_false(formula_start(why));
    }
    ms_testcsv_free(t);
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
        cmocka_unit_test_setup(test_nul_byte_line, per_test_setup),
        cmocka_unit_test_setup(test_first_error_in_file_order, per_test_setup),
        cmocka_unit_test_setup(test_nul_byte_line_large, per_test_setup),
        cmocka_unit_test_setup(test_rejected_csv_neutralised, per_test_setup),
        cmocka_unit_test_setup(test_existing_dataset, per_test_setup),
        cmocka_unit_test_setup(test_unwritable_output, per_test_setup),
        cmocka_unit_test_setup(test_full_disk, per_test_setup),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
