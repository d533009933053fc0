/*
 * test_bills.c - the itemised bill (service_items.csv) and the knowledge
 * base (knowledge/) through import, inspect --verify and the sweep.
 *
 * A small extract whose settlements 1 and 3 have bill lines adding up to
 * their cost columns (settlement 2 has none) imports with its knowledge
 * base; each kind of bad line is refused naming file, line and column, and
 * with --skip-bad the line goes to rejected.csv with, when the settlement's
 * remaining lines no longer add up, every other line of its settlement (the
 * settlement itself stays); inspect --verify passes on the dataset and finds
 * a partition tampered with; a dataset with bills sweeps to the same
 * outputs as one without, since no model reads them, and a model that
 * declares their columns gets every line, whole persons per batch, with
 * run.json counting them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ms_dataset.h"
#include "ms_fs.h"
#include "ms_import.h"
#include "ms_inspect.h"
#include "ms_knowledge.h"
#include "ms_model.h"
#include "ms_part.h"
#include "ms_schema.h"
#include "ms_sweep.h"
#include "ms_tally.h"
#include "ms_testbills.h"
#include "ms_testcsv.h"
#include "ms_testdata.h"
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

static const char settlements_csv[] =
    "settle_id,person_id,inst_code,visit_type,admit_date,discharge_date,settle_date,age,sex,"
    "person_region,dept,doctor_id,diag_main,n_diag,proc_main,pay_scheme,group_code,total,"
    "fund_pay,self_pay,drug,exam,lab,consumable,treatment,surgery,bed,nursing,other\n"
    "1,100,H001,inpatient,2024-03-01,2024-03-05,2024-03-05,67,M,110101,IM,501,J18.9,3,81.51,drg,ES21,"
    "1000.00,800.00,200.00,300.00,100.00,100.00,50.00,150.00,0.00,200.00,50.00,50.00\n"
    "2,100,P003,pharmacy,2024-03-10,2024-03-10,2024-03-10,67,M,110101,OTH,0,I10.x00,1,,ffs,,"
    "55.50,40.00,15.50,55.50,0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00\n"
    "3,200,H002,outpatient,2024-04-02,2024-04-02,2024-04-02,5,F,110102,PED,77,J06.9,1,,ffs,,"
    "30.00,20.00,10.00,10.00,0.00,20.00,0.00,0.00,0.00,0.00,0.00,0.00\n";

static const char drug_items_csv[] =
    "settle_id,person_id,inst_code,date,drug_code,trace_code,qty,amount\n"
    "2,100,P003,2024-03-10,XC01,81234567890123456789,1,55.50\n";

/* Lines 2-10: settlement 1, its nine categories (surgery 0 has no line);
 * lines 11-12: settlement 3.  Column order is free: line_no after person_id. */
static const char service_items_csv[] =
    "settle_id,person_id,line_no,inst_code,date,item_code,category,qty,unit_price,amount,days_supply,doctor_id\n"
    "1,100,1,H001,2024-03-01,D001,drug,2,100.00,200.00,7,501\n"
    "1,100,2,H001,2024-03-02,D002,drug,0.5,200.0000,100.00,0,501\n"
    "1,100,3,H001,2024-03-01,E001,exam,1,100,100.00,0,501\n"
    "1,100,4,H001,2024-03-02,L001,lab,1,100,100.00,0,0\n"
    "1,100,5,H001,2024-03-03,C001,consumable,10,5,50.00,0,0\n"
    "1,100,6,H001,2024-03-03,T001,treatment,1.5,100,150.00,0,0\n"
    "1,100,7,H001,2024-03-05,B001,bed,4,50,200.00,0,0\n"
    "1,100,8,H001,2024-03-05,N001,nursing,1,50,50.00,0,0\n"
    "1,100,9,H001,2024-03-04,O001,other,1,50.1234,50.00,0,0\n"
    "3,200,1,H002,2024-04-02,D003,drug,1,10,10.00,3,77\n"
    "3,200,2,H002,2024-04-02,L002,lab,1,20,20.00,0,77\n";

typedef struct {
    char *dir; /* first: ms_test_dir_teardown frees it */
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
    ms_test_put(f->csv, "service_items.csv", service_items_csv);
    ms_testbills_knowledge(f->csv);
}

/* Replace the first occurrence of old by new_text in CSV file name. */
static void mutate(fx_t *f, const char *name, const char *old, const char *new_text)
{
    ms_test_replace(f->csv, name, old, new_text, strlen(new_text));
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    f->dir = ms_test_dir("bills");
    snprintf(f->csv, sizeof f->csv, "%s/csv", f->dir);
    snprintf(f->out, sizeof f->out, "%s/data", f->dir);
    *state = f;
    return 0;
}

static int per_test_setup(void **state)
{
    fx_t *f = *state;
    write_base(f);
    ms_remove_tree(f->out);
    return 0;
}

static ms_status_t run_import(fx_t *f, int skip_bad, ms_import_result_t *res)
{
    ms_import_opts_t o;
    memset(&o, 0, sizeof o);
    o.skip_bad = skip_bad;
    o.partitions = 3;
    ms_import_result_t r;
    return ms_import(f->csv, f->out, &o, res ? res : &r);
}

/* inspect --verify of the dataset: its violations, the report in *text
 * (caller frees) when text is not NULL. */
static uint64_t verify(const char *dir, char **text)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    ms_inspect_opts_t io = {1, 2, 0};
    ms_inspect_result_t ir;
    ms_status_t st = ms_inspect(dir, &io, fp, &ir);
    fclose(fp);
    assert_true(st == MS_OK || st == MS_E_INVARIANT);
    assert_int_equal(st == MS_OK, ir.violations == 0);
    if (text) *text = buf;
    else free(buf);
    return ir.violations;
}

/* ------------------------------------------------------------------ */

static void test_good_bills_and_knowledge(void **state)
{
    fx_t *f = *state;
    ms_import_result_t res;
    ms_status_t st = run_import(f, 0, &res);
    if (st != MS_OK) print_error("%s\n", ms_error_detail());
    assert_int_equal(st, MS_OK);
    assert_int_equal(res.settlements, 3);
    assert_int_equal(res.drug_items, 1);
    assert_int_equal(res.service_items, 11);
    assert_true(res.have_service_items);
    assert_true(res.have_knowledge);
    assert_int_equal(res.knowledge_items, 27);
    ms_dataset_t ds;
    assert_int_equal(ms_dataset_open(f->out, &ds), MS_OK);
    assert_int_equal(ds.nparts[MS_TABLE_SERVICE_ITEMS], 3);
    /* The item dictionary: the codes used, sorted. */
    assert_int_equal(ds.refs.items.count, 11);
    assert_string_equal(ds.refs.items.str[0], "B001");
    assert_string_equal(ds.refs.items.str[10], "T001");
    /* Lines in (person_id, date, settle_id, line_no) order, every encoding
     * exact: qty in thousandths, unit_price in ten-thousandths, amount in fen. */
    ms_service_item_t *b;
    size_t n;
    assert_int_equal(ms_testdata_load(&ds, MS_TABLE_SERVICE_ITEMS, (void **)&b, &n), MS_OK);
    assert_int_equal(n, 11);
    size_t at = n;
    for (size_t i = 0; i < n; i++) {
        if (i) {
            const ms_service_item_t *p = &b[i - 1], *x = &b[i];
            if (p->person_id == x->person_id) {
                assert_true(p->date <= x->date);
                if (p->date == x->date)
                    assert_true(p->settle_id < x->settle_id ||
                                (p->settle_id == x->settle_id && p->line_no < x->line_no));
            }
        }
        if (b[i].settle_id == 1 && b[i].line_no == 2) at = i;
    }
    assert_true(at < n);
    assert_int_equal(b[at].qty, 500);
    assert_int_equal(b[at].unit_price, 2000000);
    assert_int_equal(b[at].amount, 10000);
    assert_int_equal(b[at].category, MS_CAT_DRUG);
    assert_string_equal(ds.refs.items.str[b[at].item_code], "D002");
    assert_string_equal(ds.refs.inst[b[at].inst_code].inst_code, "H001");
    assert_int_equal(b[at].date, ms_testdata_day("2024-03-02"));
    free(b);
    ms_dataset_close(&ds);
    /* The knowledge base, stored whole. */
    assert_true(ms_knowledge_present(f->out));
    ms_knowledge_t kb;
    memset(&kb, 0, sizeof kb);
    assert_int_equal(ms_knowledge_read(f->out, &kb), MS_OK);
    assert_int_equal(kb.n_items, 27);
    assert_int_equal(kb.n_exclusive, 2);
    ms_knowledge_free(&kb);
    /* And the dataset verifies clean, bills and knowledge base included. */
    char *text;
    assert_int_equal(verify(f->out, &text), 0);
    ms_test_contains(text, "service_items: 3 partitions, 11 rows");
    ms_test_contains(text, "knowledge.h5: 27 items, 2 exclusive pairs");
    free(text);
}

/* Without service_items.csv and knowledge/: the dataset has neither, and
 * its reference checksum is the one it always had (the item dictionary is
 * not part of it when empty). */
static void test_without_bills(void **state)
{
    fx_t *f = *state;
    ms_import_result_t res;
    assert_int_equal(run_import(f, 0, &res), MS_OK);
    ms_dataset_t ds;
    assert_int_equal(ms_dataset_open(f->out, &ds), MS_OK);
    uint64_t with = ds.refs.groups_checksum;
    ms_dataset_close(&ds);
    ms_remove_tree(f->out);
    char path[700];
    snprintf(path, sizeof path, "%s/service_items.csv", f->csv);
    unlink(path);
    snprintf(path, sizeof path, "%s/knowledge", f->csv);
    ms_remove_tree(path);
    assert_int_equal(run_import(f, 0, &res), MS_OK);
    assert_false(res.have_service_items);
    assert_false(res.have_knowledge);
    assert_int_equal(res.service_items, 0);
    assert_false(ms_knowledge_present(f->out));
    snprintf(path, sizeof path, "%s/service_items", f->out);
    assert_false(ms_path_exists(path));
    assert_int_equal(ms_dataset_open(f->out, &ds), MS_OK);
    assert_int_equal(ds.refs.items.count, 0);
    assert_int_equal(ds.nparts[MS_TABLE_SERVICE_ITEMS], 0);
    assert_true(ds.refs.groups_checksum != with);
    ms_dataset_close(&ds);
    assert_int_equal(verify(f->out, NULL), 0);
}

/* ------------------------------------------------------------------ */
/* Bad lines: one case each, refused naming file, line and column; with
 * --skip-bad the line and, when its settlement's lines then no longer add
 * up, all the settlement's other lines are rejected. */

typedef struct {
    const char *what, *old, *new_text;
    const char *where; /* "service_items.csv line N, column C" */
    const char *why;   /* a piece of the reason */
    uint64_t rejected, kept;
} bad_case_t;

static const bad_case_t bad_cases[] = {
    {"unknown settle_id", "3,200,1,H002", "9,200,1,H002", "service_items.csv line 11, column settle_id",
     "no settlement with settle_id 9", 2, 9},
    {"person mismatch", "3,200,1,H002", "3,100,1,H002", "service_items.csv line 11, column person_id",
     "person_id 100 differs from the person_id 200 of settlement 3", 2, 9},
    {"inst mismatch", "3,200,2,H002", "3,200,2,H001", "service_items.csv line 12, column inst_code",
     "inst_code 'H001' differs from the inst_code 'H002' of settlement 3", 2, 9},
    {"date outside the stay", "2024-03-04,O001", "2024-03-06,O001", "service_items.csv line 10, column date",
     "date 2024-03-06 is outside the stay of settlement 1 (2024-03-01..2024-03-05)", 9, 2},
    {"duplicate line_no", "1,100,8,H001", "1,100,7,H001", "service_items.csv line 9, column line_no",
     "line_no 7 repeated in settlement 1 (first at line 8)", 9, 2},
    {"bad category", ",lab,1,20,", ",labs,1,20,", "service_items.csv line 12, column category",
     "unknown category 'labs'", 2, 9},
    {"qty with 4 decimals", ",10,5,50.00", ",10.0001,5,50.00", "service_items.csv line 6, column qty",
     "qty has more than 3 decimals ('10.0001')", 9, 2},
    {"qty of 0", ",10,5,50.00", ",0.000,5,50.00", "service_items.csv line 6, column qty", "qty must be > 0", 9, 2},
    {"negative price", ",1.5,100,150.00", ",1.5,-100,150.00", "service_items.csv line 7, column unit_price",
     "negative unit_price ('-100')", 9, 2},
    {"price with 5 decimals", ",50.1234,", ",50.12345,", "service_items.csv line 10, column unit_price",
     "unit_price has more than 4 decimals", 9, 2},
    {"amount with 3 decimals", ",2,100.00,200.00,", ",2,100.00,200.001,", "service_items.csv line 2, column amount",
     "more than two decimals", 9, 2},
    {"days_supply not a number", ",200.00,7,501", ",200.00,-7,501", "service_items.csv line 2, column days_supply",
     "not an unsigned integer", 9, 2},
    {"line_no 0", "3,200,2,H002", "3,200,0,H002", "service_items.csv line 12, column line_no", "line_no must be", 2,
     9},
    {"empty item_code", ",D003,drug,", ",,drug,", "service_items.csv line 11, column item_code", "empty value", 2, 9},
    {"lines do not add up", ",4,50,200.00", ",4,50,199.99", "service_items.csv line 8, column amount",
     "the lines of settlement 1 add up to 199.99 yuan in category bed, the settlement's bed is 200.00 yuan", 9, 2},
};

static void test_bad_lines(void **state)
{
    fx_t *f = *state;
    for (size_t k = 0; k < sizeof bad_cases / sizeof bad_cases[0]; k++) {
        const bad_case_t *c = &bad_cases[k];
        write_base(f);
        ms_remove_tree(f->out);
        mutate(f, "service_items.csv", c->old, c->new_text);
        /* Refused: the message names file, line, column and why; nothing is left. */
        ms_status_t st = run_import(f, 0, NULL);
        const char *d = ms_error_detail();
        if (st != MS_E_INPUT || !strstr(d, c->where) || !strstr(d, c->why))
            print_error("%s: status %d, '%s'\n", c->what, st, d);
        assert_int_equal(st, MS_E_INPUT);
        assert_non_null(strstr(d, c->where));
        assert_non_null(strstr(d, c->why));
        assert_false(ms_path_exists(f->out));
        /* --skip-bad: the settlements stay, the lines go to rejected.csv. */
        ms_import_result_t res;
        st = run_import(f, 1, &res);
        if (st != MS_OK) print_error("%s --skip-bad: %s\n", c->what, ms_error_detail());
        assert_int_equal(st, MS_OK);
        if (res.rejected != c->rejected || res.service_items != c->kept)
            print_error("%s --skip-bad: %llu rejected, %llu kept\n", c->what, (unsigned long long)res.rejected,
                        (unsigned long long)res.service_items);
        assert_int_equal(res.settlements, 3);
        assert_int_equal(res.rejected, c->rejected);
        assert_int_equal(res.service_items, c->kept);
        ms_testcsv_t *t = ms_testcsv_read(f->out, "rejected.csv");
        assert_int_equal(ms_testcsv_rows(t), c->rejected);
        char line[16];
        const char *at = strstr(c->where, "line ") + 5;
        snprintf(line, sizeof line, "%.*s", (int)strcspn(at, ","), at);
        int found = 0;
        for (size_t r = 0; r < ms_testcsv_rows(t); r++) {
            assert_string_equal(ms_testcsv_get(t, r, "file"), "service_items.csv");
            if (!strcmp(ms_testcsv_get(t, r, "line"), line)) {
                found = 1;
                assert_non_null(strstr(c->where, ms_testcsv_get(t, r, "column")));
                ms_test_contains(ms_testcsv_get(t, r, "reason"), c->why);
            }
        }
        assert_true(found);
        ms_testcsv_free(t);
        /* What was kept is sound. */
        assert_int_equal(verify(f->out, NULL), 0);
    }
}

/* A settlement whose lines do not add up is rejected whole with
 * --skip-bad: each of its lines names the settlement, the category and
 * both amounts. */
static void test_sums_skip_bad(void **state)
{
    fx_t *f = *state;
    mutate(f, "service_items.csv", "L002,lab,1,20,20.00", "L002,exam,1,20,20.00");
    ms_import_result_t res;
    assert_int_equal(run_import(f, 1, &res), MS_OK);
    assert_int_equal(res.rejected, 2);
    assert_int_equal(res.service_items, 9);
    char *rej = ms_test_read(f->out, "rejected.csv", NULL);
    ms_test_contains(rej, "service_items.csv,11,amount,10.00,");
    ms_test_contains(rej, "service_items.csv,12,amount,20.00,");
    ms_test_contains(rej, "the lines of settlement 3 add up to 20.00 yuan in category exam, the settlement's exam is "
                          "0.00 yuan");
    free(rej);
    /* The first category that differs is named: exam (20.00 against 0.00). */
    ms_remove_tree(f->out);
    assert_int_equal(run_import(f, 0, NULL), MS_E_INPUT);
    ms_test_contains(ms_error_detail(), "service_items.csv line 12, column amount: the lines of settlement 3 add up "
                                        "to 20.00 yuan in category exam, the settlement's exam is 0.00 yuan");
}

/* The command line: exit status 1 and the message on stderr. */
static void test_cli_refuses(void **state)
{
    fx_t *f = *state;
    mutate(f, "service_items.csv", ",4,50,200.00", ",4,50,199.99");
    char *out = NULL;
    int rc = ms_test_cli(&out, "import %s %s --quiet", f->csv, f->out);
    assert_int_equal(rc, 1);
    ms_test_contains(out, "service_items.csv line 8, column amount");
    free(out);
    rc = ms_test_cli(&out, "import %s %s --quiet --skip-bad", f->csv, f->out);
    assert_int_equal(rc, 0);
    ms_test_contains(out, "imported 2 bill lines (service_items.csv)");
    ms_test_contains(out, "rejected 9 bad rows");
    free(out);
}

/* A bad knowledge base stops the import, --skip-bad or not. */
static void test_bad_knowledge(void **state)
{
    fx_t *f = *state;
    mutate(f, "knowledge/items.csv", "E001,Item E001,exam,", "E001,Item E001,exams,");
    assert_int_equal(run_import(f, 0, NULL), MS_E_INPUT);
    ms_test_contains(ms_error_detail(), "items.csv line 5, column category");
    assert_int_equal(run_import(f, 1, NULL), MS_E_INPUT);
    assert_false(ms_path_exists(f->out));
    /* knowledge is a file, not a folder. */
    char path[700];
    snprintf(path, sizeof path, "%s/knowledge", f->csv);
    ms_remove_tree(path);
    assert_int_equal(ms_test_write_file(path, "x\n"), 0);
    assert_int_equal(run_import(f, 0, NULL), MS_E_IO);
    ms_test_contains(ms_error_detail(), "knowledge: it is not a directory");
}

/* ------------------------------------------------------------------ */
/* inspect --verify on a partition written by another tool. */

/* Rewrite service_items partition p after fn changed its rows. */
static void tamper(const char *dir, uint32_t p, void (*fn)(ms_service_item_t *b, size_t n))
{
    char path[4096];
    ms_dataset_part_path(dir, ms_table(MS_TABLE_SERVICE_ITEMS), p, path, sizeof path);
    ms_part_t *part;
    assert_int_equal(ms_part_open(path, ms_table(MS_TABLE_SERVICE_ITEMS), NULL, &part), MS_OK);
    ms_part_info_t info = *ms_part_info(part);
    ms_part_close(part);
    ms_service_item_t *b;
    size_t n;
    assert_int_equal(ms_testdata_load_part(path, MS_TABLE_SERVICE_ITEMS, NULL, (void **)&b, &n), MS_OK);
    fn(b, n);
    assert_int_equal(ms_part_write_rows(path, ms_table(MS_TABLE_SERVICE_ITEMS), b, &info), MS_OK);
    free(b);
}

static void one_fen_more(ms_service_item_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i].settle_id == 1 && b[i].line_no == 8) b[i].amount += 1;
}

static void day_after(ms_service_item_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i].settle_id == 1 && b[i].line_no == 9) b[i].date = ms_testdata_day("2024-03-06");
}

static void line_no_twice(ms_service_item_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i].settle_id == 1 && b[i].line_no == 2) b[i].line_no = 1;
}

static void test_verify_tampered(void **state)
{
    static const struct {
        void (*fn)(ms_service_item_t *b, size_t n);
        const char *says;
    } cases[] = {
        {one_fen_more, "add up to 5001 fen in category nursing, the settlement's nursing is 5000 fen"},
        {day_after, "outside its settlement's stay"},
        {line_no_twice, "line_no 1 repeated in the settlement"},
    };
    fx_t *f = *state;
    assert_int_equal(run_import(f, 0, NULL), MS_OK);
    assert_int_equal(verify(f->out, NULL), 0);
    uint32_t p = ms_person_partition(100, 3);
    char *text;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tamper(f->out, p, cases[k].fn);
        assert_true(verify(f->out, &text) > 0);
        ms_test_contains(text, cases[k].says);
        free(text);
        /* A fresh dataset for what comes next. */
        ms_remove_tree(f->out);
        assert_int_equal(run_import(f, 0, NULL), MS_OK);
    }
    /* A damaged chunk: the checksum, as for every table. */
    char path[4096];
    ms_dataset_part_path(f->out, ms_table(MS_TABLE_SERVICE_ITEMS), p, path, sizeof path);
    ms_testdata_damage(path, MS_TABLE_SERVICE_ITEMS, MS_SIC_amount, 0, 2, 0x5a, 0xa5);
    assert_true(verify(f->out, &text) > 0);
    ms_test_contains(text, "service_items/part-0000");
    free(text);
}

/* ------------------------------------------------------------------ */
/* The sweep: no model reads the bills, so a dataset with them gives the
 * outputs of the same dataset without them, and run.json does not list
 * them. */

static void test_sweep_ignores_bills(void **state)
{
    fx_t *f = *state;
    assert_int_equal(run_import(f, 0, NULL), MS_OK);
    char plain[600], out1[600], out0[600], path[700];
    snprintf(plain, sizeof plain, "%s/plain", f->dir);
    snprintf(out1, sizeof out1, "%s/sweep-bills", f->dir);
    snprintf(out0, sizeof out0, "%s/sweep-plain", f->dir);
    snprintf(path, sizeof path, "%s/service_items.csv", f->csv);
    unlink(path);
    snprintf(path, sizeof path, "%s/knowledge", f->csv);
    ms_remove_tree(path);
    ms_import_opts_t o;
    memset(&o, 0, sizeof o);
    o.partitions = 3;
    ms_remove_tree(plain);
    assert_int_equal(ms_import(f->csv, plain, &o, NULL), MS_OK);
    /* Every model but the rule base's, which reads the bills. */
    const char *models = "volume,overload,false_hosp,decomposed,upcoding,cost_shift,drugs";
    ms_test_cli_ok(NULL, "sweep %s --out %s --quiet --threads 2 --models %s", f->out, out1, models);
    ms_test_cli_ok(NULL, "sweep %s --out %s --quiet --threads 2 --models %s", plain, out0, models);
    ms_test_same_files(out1, out0, "ranked.csv", "clues.csv", "indicators.csv", NULL);
    char *json = ms_test_read(out1, "run.json", NULL);
    assert_null(strstr(json, "service_item"));
    ms_test_contains(json, "\"drug_items\": 1");
    free(json);
    /* Without bills, the rule base is not run, and run.json says why. */
    ms_remove_tree(out0);
    ms_test_cli_ok(NULL, "sweep %s --out %s --quiet --threads 2", plain, out0);
    char *html = ms_test_read(out0, "report.html", NULL);
    ms_test_contains(html, "id=\"rules-not-run\">");
    free(html);
    json = ms_test_read(out0, "run.json", NULL);
    const char *nr = strstr(json, "\"models_not_run\"");
    assert_non_null(nr);
    ms_test_contains(nr, "\"name\": \"rules\"");
    ms_test_contains(nr, "\"why\": \"the dataset has no itemised bills (service_items)\"");
    free(json);
    /* Named, it is refused. */
    ms_remove_tree(out0);
    char *txt = NULL;
    assert_int_equal(ms_test_cli(&txt, "sweep %s --out %s --quiet --models rules", plain, out0), 2);
    ms_test_contains(txt, "model 'rules' reads itemised bills (service_items), and");
    free(txt);
    ms_remove_tree(plain);
}

/* A model of this file that reads the bills: lines and their amounts per
 * institution, and (person callback) that a person's lines come whole and
 * in order. */
typedef struct {
    ms_tally_t t;
} lines_t;

static ms_status_t lines_init(const ms_model_env_t *env, void **state)
{
    lines_t *c = calloc(1, sizeof *c);
    if (!c || ms_tally_init(&c->t, (uint32_t)env->refs->n_inst, 2) != MS_OK) {
        free(c);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    *state = c;
    return MS_OK;
}

static void lines_free(void *state)
{
    lines_t *c = state;
    if (c) ms_tally_free(&c->t);
    free(c);
}

static ms_status_t lines_person(void *state, ms_table_id_t table, const ms_batch_t *b, size_t begin, size_t end,
                                ms_emit_t *emit)
{
    (void)emit;
    if (table != MS_TABLE_SERVICE_ITEMS) return MS_OK;
    lines_t *c = state;
    const uint64_t *pid = ms_col(b, MS_SIC_person_id);
    const int32_t *inst = ms_col(b, MS_SIC_inst_code), *date = ms_col(b, MS_SIC_date);
    const int64_t *amount = ms_col(b, MS_SIC_amount);
    for (size_t i = begin; i < end; i++) {
        if (pid[i] != pid[begin] || (i > begin && date[i] < date[i - 1]))
            return ms_error_set(MS_E_INTERNAL, "a person's bill lines are not whole and in order");
        (*ms_tally_num(&c->t, 0, (uint32_t)inst[i]))++;
        (*ms_tally_den(&c->t, 0, (uint32_t)inst[i]))++;
        *ms_tally_num(&c->t, 1, (uint32_t)inst[i]) += amount[i];
        (*ms_tally_den(&c->t, 1, (uint32_t)inst[i]))++;
    }
    return MS_OK;
}

static ms_status_t lines_finalize(void *state, const ms_model_env_t *env, ms_model_result_t *res)
{
    (void)env;
    return ms_tally_finalize(&((lines_t *)state)->t, res, 0);
}

static const ms_indicator_t lines_ind[] = {
    {.name = "lines", .description = "bill lines", .kind = MS_IND_INFO},
    {.name = "amount", .description = "bill lines' amount (fen)", .kind = MS_IND_INFO},
};

static ms_status_t sweep_lines(const char *data, const char *out, uint64_t cols, ms_sweep_result_t *res)
{
    const ms_model_t lines = {.name = "lines", .version = "1", .description = "bill lines per institution",
                              .service_cols = cols, .indicators = lines_ind, .nindicators = 2,
                              .always_runs = 1, .records_indicator = "lines", .init = lines_init,
                              .person = lines_person, .merge = ms_tally_state_merge, .save = ms_tally_state_save,
                              .load = ms_tally_state_load, .finalize = lines_finalize, .free = lines_free};
    const ms_model_t *models[] = {&lines};
    ms_sweep_opts_t o;
    ms_sweep_opts_init(&o);
    o.dataset = data;
    o.out = out;
    o.replace = 1;
    o.threads = 2;
    o.model_list = models;
    o.nmodel_list = 1;
    return ms_sweep(&o, res);
}

static void test_model_reads_bills(void **state)
{
    fx_t *f = *state;
    assert_int_equal(run_import(f, 0, NULL), MS_OK);
    char out[600];
    snprintf(out, sizeof out, "%s/sweep-lines", f->dir);
    ms_sweep_result_t res;
    uint64_t cols = 1ull << MS_SIC_person_id | 1ull << MS_SIC_inst_code | 1ull << MS_SIC_date | 1ull << MS_SIC_amount;
    ms_status_t st = sweep_lines(f->out, out, cols, &res);
    if (st != MS_OK) fail_msg("%s", ms_error_detail());
    assert_int_equal(res.rows[MS_TABLE_SERVICE_ITEMS], 11);
    assert_int_equal(res.rows[MS_TABLE_DRUG_ITEMS], 0); /* not read: no model declares them */
    long long num, den;
    assert_int_equal(ms_testdata_indicator(out, "H001", "lines", "lines", &num, &den), 0);
    assert_int_equal(num, 9);
    assert_int_equal(ms_testdata_indicator(out, "H001", "lines", "amount", &num, &den), 0);
    assert_int_equal(num, 100000);
    assert_int_equal(ms_testdata_indicator(out, "H002", "lines", "lines", &num, &den), 0);
    assert_int_equal(num, 2);
    char *json = ms_test_read(out, "run.json", NULL);
    ms_test_contains(json, "\"service_items\": 11");
    ms_test_contains(json, "\"service_item_partitions\": 3");
    free(json);
    /* A bill column read without being declared is named. */
    st = sweep_lines(f->out, out, cols & ~(1ull << MS_SIC_date), &res);
    assert_int_not_equal(st, MS_OK);
    ms_test_contains(ms_error_detail(), "service_items.date, which it does not declare: add 1ull << MS_SIC_date to "
                                        "its service_cols");
    /* A dataset without bills: the model sees none. */
    char path[700];
    snprintf(path, sizeof path, "%s/service_items.csv", f->csv);
    unlink(path);
    ms_remove_tree(f->out);
    assert_int_equal(run_import(f, 0, NULL), MS_OK);
    st = sweep_lines(f->out, out, cols, &res);
    assert_int_equal(st, MS_E_USAGE);
    ms_test_contains(ms_error_detail(), "model 'lines' reads itemised bills (service_items), and");
    ms_remove_tree(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_good_bills_and_knowledge, per_test_setup),
        cmocka_unit_test_setup(test_without_bills, per_test_setup),
        cmocka_unit_test_setup(test_bad_lines, per_test_setup),
        cmocka_unit_test_setup(test_sums_skip_bad, per_test_setup),
        cmocka_unit_test_setup(test_cli_refuses, per_test_setup),
        cmocka_unit_test_setup(test_bad_knowledge, per_test_setup),
        cmocka_unit_test_setup(test_verify_tampered, per_test_setup),
        cmocka_unit_test_setup(test_sweep_ignores_bills, per_test_setup),
        cmocka_unit_test_setup(test_model_reads_bills, per_test_setup),
    };
    return cmocka_run_group_tests(tests, setup, ms_test_dir_teardown);
}
