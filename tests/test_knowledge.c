/*
 * test_knowledge.c - the knowledge base (io/ms_knowledge.h): knowledge/
 * items.csv and exclusive_items.csv loaded and validated, knowledge.h5
 * written and read back, the CSV written back out.
 *
 * A good directory loads with every field exact, items sorted by code, ids
 * that find and pair them, and the checksum kept through CSV -> h5 -> CSV.
 * A damaged knowledge.h5 is refused naming its path.  Each kind of bad
 * input is refused with a message that names the file, the line and the
 * column.
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
#include "ms_knowledge.h"
#include "ms_schema.h"
#include "ms_status.h"
#include "ms_testutil.h"

#define ITEMS_HEADER                                                                          \
    "item_code,name,category,sex,min_age,max_age,max_qty_per_day,max_days_supply,setting,"   \
    "diagnoses,trace_required\n"

/* Out of code order on purpose; a name that needs quoting. */
static const char *const good_items =
    ITEMS_HEADER
    "X003,\"Amoxicillin capsule, 0.25 g\",drug,,,,2.5,7,,J01;J02.9,1\n"
    "A001,Chest CT,exam,,18,,1,,outpatient,,0\n"
    "M010,Prenatal check,exam,F,16,50,1,,,Z34;O09,0\n"
    "B200,Ward bed,bed,,,,1,,inpatient,,0\n"
    "C007,Prostate-specific antigen,lab,M,40,120,0.125,,,,0\n";

static const char *const good_pairs =
    "item_a,item_b\n"
    "X003,A001\n"
    "M010,C007\n";

/* A test's directories: root (removed at the end), root/knowledge, root/data. */
typedef struct {
    char *root;
    char kdir[600], data[600];
} dirs_t;

static void dirs_make(dirs_t *d, const char *name)
{
    d->root = ms_test_dir(name);
    assert_non_null(d->root);
    snprintf(d->kdir, sizeof d->kdir, "%s/knowledge", d->root);
    snprintf(d->data, sizeof d->data, "%s/data", d->root);
    assert_int_equal(ms_mkdirs(d->kdir), MS_OK);
    assert_int_equal(ms_mkdirs(d->data), MS_OK);
}

static void dirs_free(dirs_t *d)
{
    ms_remove_tree(d->root);
    free(d->root);
}

/* A directory holding the good tables, loaded into kb. */
static void load_good(dirs_t *d, const char *name, ms_knowledge_t *kb)
{
    dirs_make(d, name);
    ms_test_put(d->kdir, "items.csv", good_items);
    ms_test_put(d->kdir, "exclusive_items.csv", good_pairs);
    ms_status_t st = ms_knowledge_load_csv(d->kdir, kb);
    if (st != MS_OK) print_error("%s\n", ms_error_detail());
    assert_int_equal(st, MS_OK);
}

static int32_t id_of(const ms_knowledge_t *kb, const char *code)
{
    return ms_knowledge_find(kb, code, strlen(code));
}

/* Two knowledge bases hold the same content, field by field. */
static void assert_same(const ms_knowledge_t *a, const ms_knowledge_t *b)
{
    assert_int_equal(a->n_items, b->n_items);
    for (size_t i = 0; i < a->n_items; i++) {
        const ms_kb_item_t *x = &a->items[i], *y = &b->items[i];
        assert_string_equal(x->item_code, y->item_code);
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->category, y->category);
        assert_int_equal(x->sex, y->sex);
        assert_int_equal(x->min_age, y->min_age);
        assert_int_equal(x->max_age, y->max_age);
        assert_int_equal(x->max_qty_milli, y->max_qty_milli);
        assert_int_equal(x->max_days_supply, y->max_days_supply);
        assert_int_equal(x->setting, y->setting);
        assert_int_equal(x->ndiag, y->ndiag);
        for (size_t k = 0; k < x->ndiag; k++) assert_string_equal(x->diag[k], y->diag[k]);
        assert_int_equal(x->trace_required, y->trace_required);
    }
    assert_int_equal(a->n_exclusive, b->n_exclusive);
    for (size_t i = 0; i < a->n_exclusive; i++) {
        assert_int_equal(a->exclusive[i][0], b->exclusive[i][0]);
        assert_int_equal(a->exclusive[i][1], b->exclusive[i][1]);
    }
    assert_true(a->checksum == b->checksum);
}

/* ------------------------------------------------------------ good input */

static void test_categories(void **state)
{
    (void)state;
    assert_int_equal(MS_CAT_COUNT, MS_N_COST_CATEGORIES);
    for (int c = 0; c < MS_CAT_COUNT; c++) {
        const char *n = ms_item_category_name(c);
        assert_int_equal(ms_item_category_find(n, strlen(n)), c);
    }
    assert_string_equal(ms_item_category_name(MS_CAT_DRUG), "drug");
    assert_string_equal(ms_item_category_name(MS_CAT_OTHER), "other");
    assert_int_equal(ms_item_category_find("drugs", 5), -1);
    assert_int_equal(ms_item_category_find("drugs", 4), MS_CAT_DRUG);
    assert_int_equal(ms_item_category_find("", 0), -1);
}

static void test_good_dir_loads(void **state)
{
    (void)state;
    dirs_t d;
    ms_knowledge_t kb;
    load_good(&d, "kb-good", &kb);
    assert_int_equal(kb.n_items, 5);
    static const char *const order[] = {"A001", "B200", "C007", "M010", "X003"};
    for (int i = 0; i < 5; i++) {
        assert_string_equal(kb.items[i].item_code, order[i]);
        assert_int_equal(id_of(&kb, order[i]), i);
    }
    assert_int_equal(id_of(&kb, "A00"), -1);
    assert_int_equal(id_of(&kb, "A0011"), -1);
    assert_int_equal(ms_knowledge_find(&kb, "A0011", 4), 0);
    assert_int_equal(id_of(&kb, "ZZZ"), -1);

    const ms_kb_item_t *x = &kb.items[id_of(&kb, "X003")];
    assert_string_equal(x->name, "Amoxicillin capsule, 0.25 g");
    assert_int_equal(x->category, MS_CAT_DRUG);
    assert_int_equal(x->sex, MS_KB_NONE);
    assert_int_equal(x->min_age, MS_KB_NONE);
    assert_int_equal(x->max_age, MS_KB_NONE);
    assert_int_equal(x->max_qty_milli, 2500);
    assert_int_equal(x->max_days_supply, 7);
    assert_int_equal(x->setting, MS_SETTING_ANY);
    assert_int_equal(x->ndiag, 2);
    assert_string_equal(x->diag[0], "J01");
    assert_string_equal(x->diag[1], "J02.9");
    assert_int_equal(x->trace_required, 1);

    const ms_kb_item_t *a = &kb.items[id_of(&kb, "A001")];
    assert_int_equal(a->category, MS_CAT_EXAM);
    assert_int_equal(a->min_age, 18);
    assert_int_equal(a->max_age, MS_KB_NONE);
    assert_int_equal(a->max_qty_milli, 1000);
    assert_int_equal(a->max_days_supply, MS_KB_NONE);
    assert_int_equal(a->setting, MS_SETTING_OUTPATIENT);
    assert_int_equal(a->ndiag, 0);
    assert_int_equal(a->trace_required, 0);

    const ms_kb_item_t *m = &kb.items[id_of(&kb, "M010")];
    assert_int_equal(m->sex, MS_SEX_F);
    assert_int_equal(m->min_age, 16);
    assert_int_equal(m->max_age, 50);
    const ms_kb_item_t *c = &kb.items[id_of(&kb, "C007")];
    assert_int_equal(c->category, MS_CAT_LAB);
    assert_int_equal(c->sex, MS_SEX_M);
    assert_int_equal(c->max_age, 120);
    assert_int_equal(c->max_qty_milli, 125);
    assert_int_equal(kb.items[id_of(&kb, "B200")].setting, MS_SETTING_INPATIENT);
    assert_int_equal(kb.items[id_of(&kb, "B200")].category, MS_CAT_BED);

    /* Pairs as ids, a < b, sorted; looked up in either order. */
    assert_int_equal(kb.n_exclusive, 2);
    assert_int_equal(kb.exclusive[0][0], 0);
    assert_int_equal(kb.exclusive[0][1], 4);
    assert_int_equal(kb.exclusive[1][0], 2);
    assert_int_equal(kb.exclusive[1][1], 3);
    int32_t ia = id_of(&kb, "A001"), ix = id_of(&kb, "X003");
    int32_t ic = id_of(&kb, "C007"), im = id_of(&kb, "M010");
    assert_true(ms_knowledge_exclusive(&kb, ia, ix));
    assert_true(ms_knowledge_exclusive(&kb, ix, ia));
    assert_true(ms_knowledge_exclusive(&kb, im, ic));
    assert_true(ms_knowledge_exclusive(&kb, ic, im));
    assert_false(ms_knowledge_exclusive(&kb, ia, ic));
    assert_false(ms_knowledge_exclusive(&kb, ia, ia));
    assert_false(ms_knowledge_exclusive(&kb, -1, ia));

    /* Prefix matching; no prefix covers every diagnosis. */
    assert_true(ms_kb_item_covers(x, "J01.0", 5));
    assert_true(ms_kb_item_covers(x, "J01", 3));
    assert_true(ms_kb_item_covers(x, "J02.90", 6));
    assert_false(ms_kb_item_covers(x, "J02.8", 5));
    assert_false(ms_kb_item_covers(x, "J0", 2));
    assert_false(ms_kb_item_covers(x, "J011", 2)); /* len counts, not the NUL */
    assert_false(ms_kb_item_covers(x, "K01", 3));
    assert_true(ms_kb_item_covers(a, "K01", 3));
    assert_true(ms_kb_item_covers(a, "", 0));

    assert_true(kb.checksum == ms_knowledge_checksum(&kb));
    assert_true(kb.checksum != 0);
    ms_knowledge_free(&kb);
    dirs_free(&d);
}

/* The checksum sees every field: one thousandth of a unit changes it. */
static void test_checksum_sees_every_field(void **state)
{
    (void)state;
    dirs_t d;
    ms_knowledge_t kb;
    load_good(&d, "kb-sum", &kb);
    uint64_t sum = kb.checksum;
    int32_t x = id_of(&kb, "X003");
    kb.items[x].max_qty_milli++;
    assert_true(ms_knowledge_checksum(&kb) != sum);
    kb.items[x].max_qty_milli--;
    kb.items[x].diag[1][4] = '8';
    assert_true(ms_knowledge_checksum(&kb) != sum);
    kb.items[x].diag[1][4] = '9';
    kb.exclusive[1][1] = 4;
    assert_true(ms_knowledge_checksum(&kb) != sum);
    kb.exclusive[1][1] = 3;
    assert_true(ms_knowledge_checksum(&kb) == sum);
    ms_knowledge_free(&kb);
    dirs_free(&d);
}

static void test_exclusive_file_is_optional(void **state)
{
    (void)state;
    dirs_t d;
    ms_knowledge_t kb;
    dirs_make(&d, "kb-nopairs");
    ms_test_put(d.kdir, "items.csv", good_items);
    assert_int_equal(ms_knowledge_load_csv(d.kdir, &kb), MS_OK);
    assert_int_equal(kb.n_items, 5);
    assert_int_equal(kb.n_exclusive, 0);
    assert_false(ms_knowledge_exclusive(&kb, 0, 4));
    ms_knowledge_free(&kb);
    dirs_free(&d);
}

static void test_items_file_is_required(void **state)
{
    (void)state;
    dirs_t d;
    ms_knowledge_t kb;
    dirs_make(&d, "kb-noitems");
    ms_test_put(d.kdir, "exclusive_items.csv", good_pairs);
    assert_int_equal(ms_knowledge_load_csv(d.kdir, &kb), MS_E_IO);
    ms_test_contains(ms_error_detail(), "items.csv");
    assert_int_equal(kb.n_items, 0);
    assert_null(kb.items);
    dirs_free(&d);
}

/* Columns may come in any order, as in every other table. */
static void test_column_order_is_free(void **state)
{
    (void)state;
    dirs_t d;
    ms_knowledge_t kb, ref;
    load_good(&d, "kb-order", &ref);
    ms_test_put(d.kdir, "items.csv",
        "trace_required,diagnoses,setting,max_days_supply,max_qty_per_day,max_age,min_age,sex,"
        "category,name,item_code\n"
        "1,J01;J02.9,,7,2.5,,,,drug,\"Amoxicillin capsule, 0.25 g\",X003\n"
        "0,,outpatient,,1,,18,,exam,Chest CT,A001\n"
        "0,Z34;O09,,,1,50,16,F,exam,Prenatal check,M010\n"
        "0,,inpatient,,1,,,,bed,Ward bed,B200\n"
        "0,,,,0.125,120,40,M,lab,Prostate-specific antigen,C007\n");
    ms_test_put(d.kdir, "exclusive_items.csv", "item_b,item_a\nC007,M010\nA001,X003\n");
    assert_int_equal(ms_knowledge_load_csv(d.kdir, &kb), MS_OK);
    assert_same(&kb, &ref);
    ms_knowledge_free(&kb);
    ms_knowledge_free(&ref);
    dirs_free(&d);
}

/* ------------------------------------------------------- round trips */

static void test_h5_round_trip(void **state)
{
    (void)state;
    dirs_t d;
    ms_knowledge_t kb, back;
    load_good(&d, "kb-h5", &kb);
    assert_false(ms_knowledge_present(d.data));
    assert_int_equal(ms_knowledge_write(&kb, d.data), MS_OK);
    assert_true(ms_knowledge_present(d.data));
    ms_status_t st = ms_knowledge_read(d.data, &back);
    if (st != MS_OK) print_error("%s\n", ms_error_detail());
    assert_int_equal(st, MS_OK);
    assert_same(&kb, &back);
    assert_true(back.checksum == ms_knowledge_checksum(&back));

    /* Nothing is left under a temporary name; the same content writes the
     * same bytes. */
    size_t n1 = 0, n2 = 0;
    char *first = ms_test_read(d.data, "knowledge.h5", &n1);
    assert_int_equal(ms_knowledge_write(&back, d.data), MS_OK);
    char *second = ms_test_read(d.data, "knowledge.h5", &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(first, second, n1);
    char *ls = NULL;
    char cmd[800];
    snprintf(cmd, sizeof cmd, "ls -A %s", d.data);
    ms_test_run_ok(cmd, &ls);
    assert_string_equal(ls, "knowledge.h5\n");
    free(ls), free(first), free(second);
    ms_knowledge_free(&kb);
    ms_knowledge_free(&back);
    dirs_free(&d);
}

static void test_empty_knowledge_round_trips(void **state)
{
    (void)state;
    dirs_t d;
    ms_knowledge_t kb, back;
    dirs_make(&d, "kb-empty");
    ms_test_put(d.kdir, "items.csv", ITEMS_HEADER);
    ms_test_put(d.kdir, "exclusive_items.csv", "item_a,item_b\n");
    assert_int_equal(ms_knowledge_load_csv(d.kdir, &kb), MS_OK);
    assert_int_equal(kb.n_items, 0);
    assert_int_equal(ms_knowledge_write(&kb, d.data), MS_OK);
    assert_int_equal(ms_knowledge_read(d.data, &back), MS_OK);
    assert_same(&kb, &back);
    ms_knowledge_free(&kb);
    ms_knowledge_free(&back);
    dirs_free(&d);
}

static void test_csv_round_trip(void **state)
{
    (void)state;
    dirs_t d;
    ms_knowledge_t kb, back;
    load_good(&d, "kb-csv", &kb);
    char out[700];
    snprintf(out, sizeof out, "%s/export/knowledge", d.root);
    assert_int_equal(ms_knowledge_write_csv(&kb, out), MS_OK);
    assert_int_equal(ms_knowledge_load_csv(out, &back), MS_OK);
    assert_same(&kb, &back);

    /* Sorted by code, decimals exact, the name quoted again. */
    char *items = ms_test_read(out, "items.csv", NULL);
    ms_test_contains(items, ITEMS_HEADER "A001,Chest CT,exam,,18,,1,,outpatient,,0\n");
    ms_test_contains(items, "C007,Prostate-specific antigen,lab,M,40,120,0.125,,,,0\n");
    ms_test_contains(items, "X003,\"Amoxicillin capsule, 0.25 g\",drug,,,,2.5,7,,J01;J02.9,1\n");
    char *pairs = ms_test_read(out, "exclusive_items.csv", NULL);
    assert_string_equal(pairs, "item_a,item_b\nA001,X003\nC007,M010\n");
    free(items), free(pairs);

    /* Written again from what was read back: the same bytes. */
    char again[700];
    snprintf(again, sizeof again, "%s/again", d.root);
    assert_int_equal(ms_knowledge_write_csv(&back, again), MS_OK);
    ms_test_same_files(out, again, "items.csv", "exclusive_items.csv", NULL);
    ms_knowledge_free(&kb);
    ms_knowledge_free(&back);
    dirs_free(&d);
}

/* Every way of writing a quantity reads back exactly. */
static void test_decimals_round_trip(void **state)
{
    (void)state;
    static const struct {
        const char *text, *canon;
        int64_t milli;
    } q[] = {{"0.001", "0.001", 1},   {"0.01", "0.01", 10},     {"0.100", "0.1", 100},
             {"1.000", "1", 1000},    {"007.5", "7.5", 7500},   {"12.345", "12.345", 12345},
             {"1000000", "1000000", 1000000000},
             {"9223372036854774.999", "9223372036854774.999", 9223372036854774999}};
    dirs_t d;
    dirs_make(&d, "kb-dec");
    for (size_t k = 0; k < sizeof q / sizeof q[0]; k++) {
        char text[400];
        snprintf(text, sizeof text, ITEMS_HEADER "Q1,Q,drug,,,,%s,,,,0\n", q[k].text);
        ms_test_put(d.kdir, "items.csv", text);
        ms_knowledge_t kb, back;
        assert_int_equal(ms_knowledge_load_csv(d.kdir, &kb), MS_OK);
        assert_int_equal(kb.items[0].max_qty_milli, q[k].milli);
        char out[700];
        snprintf(out, sizeof out, "%s/out", d.root);
        assert_int_equal(ms_knowledge_write_csv(&kb, out), MS_OK);
        char *items = ms_test_read(out, "items.csv", NULL);
        snprintf(text, sizeof text, "\nQ1,Q,drug,,,,%s,,,,0\n", q[k].canon);
        ms_test_contains(items, text);
        free(items);
        assert_int_equal(ms_knowledge_load_csv(out, &back), MS_OK);
        assert_true(back.checksum == kb.checksum);
        ms_knowledge_free(&kb);
        ms_knowledge_free(&back);
    }
    dirs_free(&d);
}

/* ------------------------------------------------------ damaged files */

/* Write the good knowledge base into d->data; its path in path. */
static void write_good_h5(dirs_t *d, const char *name, char *path, size_t cap)
{
    ms_knowledge_t kb;
    load_good(d, name, &kb);
    assert_int_equal(ms_knowledge_write(&kb, d->data), MS_OK);
    ms_knowledge_free(&kb);
    snprintf(path, cap, "%s/knowledge.h5", d->data);
}

static void write_bytes(const char *path, const char *bytes, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(bytes, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

/* Read d->data, expecting st and a message that names path and piece;
 * kb is left empty. */
static void expect_refused(const dirs_t *d, const char *path, ms_status_t want, const char *piece)
{
    ms_knowledge_t kb;
    ms_status_t st = ms_knowledge_read(d->data, &kb);
    if (st == MS_OK) print_error("damaged %s was read\n", path);
    assert_int_equal(st, want);
    ms_test_contains(ms_error_detail(), path);
    if (piece) ms_test_contains(ms_error_detail(), piece);
    assert_int_equal(kb.n_items, 0);
    assert_null(kb.items);
    assert_null(kb.exclusive);
}

/* A name changed inside the file: HDF5 reads it, the checksum does not
 * match. */
static void test_h5_content_damage_is_refused(void **state)
{
    (void)state;
    dirs_t d;
    char path[700];
    write_good_h5(&d, "kb-flip", path, sizeof path);
    size_t n;
    char *bytes = ms_test_slurp(path, &n);
    assert_non_null(bytes);
    const char *name = "Prostate-specific antigen";
    char *at = memmem(bytes, n, name, strlen(name));
    assert_non_null(at);
    at[0] = 'Q';
    write_bytes(path, bytes, n);
    free(bytes);
    expect_refused(&d, path, MS_E_CORRUPT, "does not match its checksum");
    dirs_free(&d);
}

static void test_truncated_h5_is_refused(void **state)
{
    (void)state;
    dirs_t d;
    char path[700];
    write_good_h5(&d, "kb-trunc", path, sizeof path);
    size_t n;
    char *bytes = ms_test_slurp(path, &n);
    assert_non_null(bytes);
    write_bytes(path, bytes, n / 2);
    free(bytes);
    expect_refused(&d, path, MS_E_CORRUPT, NULL);
    dirs_free(&d);
}

/* Bytes overwritten anywhere: refused naming the file, or (bytes HDF5
 * never reads) the very same content.  Never a crash, never other content. */
static void test_h5_damage_anywhere(void **state)
{
    (void)state;
    dirs_t d;
    char path[700];
    write_good_h5(&d, "kb-anywhere", path, sizeof path);
    ms_knowledge_t good;
    assert_int_equal(ms_knowledge_read(d.data, &good), MS_OK);
    size_t n;
    char *orig = ms_test_slurp(path, &n);
    assert_non_null(orig);
    char *bytes = malloc(n);
    assert_non_null(bytes);
    int refused = 0;
    for (size_t k = 1; k < 24; k++) {
        size_t off = n * k / 24;
        memcpy(bytes, orig, n);
        for (size_t i = off; i < off + 8 && i < n; i++) bytes[i] = (char)(bytes[i] ^ 0xa5);
        write_bytes(path, bytes, n);
        ms_knowledge_t kb;
        ms_status_t st = ms_knowledge_read(d.data, &kb);
        if (st == MS_OK) {
            assert_same(&good, &kb);
            ms_knowledge_free(&kb);
        } else {
            ms_test_contains(ms_error_detail(), path);
            refused++;
        }
    }
    assert_true(refused > 0);
    free(orig), free(bytes);
    ms_knowledge_free(&good);
    dirs_free(&d);
}

static void test_missing_h5(void **state)
{
    (void)state;
    dirs_t d;
    dirs_make(&d, "kb-missing");
    char path[700];
    snprintf(path, sizeof path, "%s/knowledge.h5", d.data);
    assert_false(ms_knowledge_present(d.data));
    expect_refused(&d, path, MS_E_IO, "missing");
    ms_test_put(d.data, "knowledge.h5", "not an HDF5 file\n");
    assert_true(ms_knowledge_present(d.data));
    expect_refused(&d, path, MS_E_CORRUPT, NULL);
    dirs_free(&d);
}

/* -------------------------------------------------------- bad input */

/* Load d's knowledge dir, expecting st and a message naming the file, the
 * line, the column and (when not NULL) piece. */
static void expect_bad(const dirs_t *d, ms_status_t want, const char *file, int line,
                       const char *column, const char *piece)
{
    ms_knowledge_t kb;
    ms_status_t st = ms_knowledge_load_csv(d->kdir, &kb);
    if (st == MS_OK) print_error("bad %s was loaded\n", file);
    assert_int_equal(st, want);
    const char *msg = ms_error_detail();
    char where[128];
    snprintf(where, sizeof where, "knowledge/%s line %d", file, line);
    ms_test_contains(msg, where);
    ms_test_contains(msg, column);
    if (piece) ms_test_contains(msg, piece);
    assert_int_equal(kb.n_items, 0);
    assert_null(kb.items);
    assert_null(kb.exclusive);
}

/* items.csv with two good rows, then row on line 4. */
static void bad_item(const char *name, const char *row, const char *column, const char *piece)
{
    dirs_t d;
    dirs_make(&d, name);
    char text[2048];
    snprintf(text, sizeof text,
             ITEMS_HEADER "A001,Chest CT,exam,,18,,1,,outpatient,,0\n"
                          "B200,Ward bed,bed,,,,1,,inpatient,,0\n%s\n",
             row);
    ms_test_put(d.kdir, "items.csv", text);
    char col[80];
    snprintf(col, sizeof col, "column %s", column);
    expect_bad(&d, MS_E_INPUT, "items.csv", 4, col, piece);
    dirs_free(&d);
}

/* The good items.csv, and exclusive_items.csv with pairs. */
static void bad_pairs(const char *name, const char *pairs, int line, const char *column,
                      const char *piece)
{
    dirs_t d;
    dirs_make(&d, name);
    ms_test_put(d.kdir, "items.csv", good_items);
    ms_test_put(d.kdir, "exclusive_items.csv", pairs);
    char col[80];
    snprintf(col, sizeof col, "column %s", column);
    expect_bad(&d, MS_E_INPUT, "exclusive_items.csv", line, col, piece);
    dirs_free(&d);
}

static void test_bad_column_header(void **state)
{
    (void)state;
    dirs_t d;
    dirs_make(&d, "kb-header");
    ms_test_put(d.kdir, "items.csv",
        "item_code,name,category,sex,min_age,max_age,max_qty_per_day,max_days_supply,setings,"
        "diagnoses,trace_required\nA001,Chest CT,exam,,18,,1,,,,0\n");
    expect_bad(&d, MS_E_SCHEMA, "items.csv", 1, "unknown column 'setings'", NULL);
    ms_test_put(d.kdir, "items.csv", "item_code,name\nA001,Chest CT\n");
    expect_bad(&d, MS_E_SCHEMA, "items.csv", 1, "missing column 'category'", NULL);
    ms_test_put(d.kdir, "items.csv", good_items);
    ms_test_put(d.kdir, "exclusive_items.csv", "item_a,item_c\nA001,X003\n");
    expect_bad(&d, MS_E_SCHEMA, "exclusive_items.csv", 1, "unknown column 'item_c'", NULL);
    dirs_free(&d);
}

/* The CSV layer's own errors name the file as knowledge/items.csv too. */
static void test_wrong_field_count(void **state)
{
    (void)state;
    dirs_t d;
    dirs_make(&d, "kb-fields");
    ms_test_put(d.kdir, "items.csv",
        ITEMS_HEADER "A001,Chest CT,exam,,18,,1,,outpatient,,0\nC007,PSA,lab,M,40,120\n");
    expect_bad(&d, MS_E_INPUT, "items.csv", 3, "6 fields, expected 11", NULL);
    dirs_free(&d);
}

static void test_duplicate_code(void **state)
{
    (void)state;
    bad_item("kb-dup", "A001,Chest CT again,exam,,,,1,,,,0", "item_code",
             "duplicate item_code 'A001' (first at line 2)");
}

static void test_unknown_item_in_pair(void **state)
{
    (void)state;
    bad_pairs("kb-unknown", "item_a,item_b\nA001,X003\nA001,Z999\n", 3, "item_b",
              "unknown item 'Z999'");
    bad_pairs("kb-unknown-a", "item_a,item_b\nZ999,A001\n", 2, "item_a", "unknown item 'Z999'");
}

static void test_item_paired_with_itself(void **state)
{
    (void)state;
    bad_pairs("kb-self", "item_a,item_b\nA001,X003\nM010,M010\n", 3, "item_b", "itself");
}

static void test_duplicate_pair_reversed(void **state)
{
    (void)state;
    bad_pairs("kb-duppair", "item_a,item_b\nA001,X003\nM010,C007\nX003,A001\n", 4, "item_b",
              "duplicate pair 'X003', 'A001' (given at line 2");
    bad_pairs("kb-duppair2", "item_a,item_b\nA001,X003\nA001,X003\n", 3, "item_b", "duplicate pair");
}

static void test_age_out_of_range(void **state)
{
    (void)state;
    bad_item("kb-age", "C007,PSA,lab,M,40,200,,,,,0", "max_age", "200 is outside 0..120");
    bad_item("kb-age2", "C007,PSA,lab,M,121,,,,,,0", "min_age", "121 is outside 0..120");
    bad_item("kb-age3", "C007,PSA,lab,M,-1,,,,,,0", "min_age", "'-1' is not a whole number");
    bad_item("kb-age4", "C007,PSA,lab,M,99999999999999999999,,,,,,0", "min_age", "is outside 0..120");
}

static void test_min_age_above_max_age(void **state)
{
    (void)state;
    bad_item("kb-minmax", "C007,PSA,lab,M,60,40,,,,,0", "min_age", "min_age 60 is above max_age 40");
}

static void test_bad_decimal(void **state)
{
    (void)state;
    bad_item("kb-dec4", "C007,PSA,lab,,,,2.5000,,,,0", "max_qty_per_day", "'2.5000'");
    bad_item("kb-dec0", "C007,PSA,lab,,,,0.000,,,,0", "max_qty_per_day", "> 0");
    bad_item("kb-decdot", "C007,PSA,lab,,,,2.,,,,0", "max_qty_per_day", "'2.'");
    bad_item("kb-decexp", "C007,PSA,lab,,,,1e3,,,,0", "max_qty_per_day", "'1e3'");
    bad_item("kb-decneg", "C007,PSA,lab,,,,-1,,,,0", "max_qty_per_day", "'-1'");
    bad_item("kb-dechuge", "C007,PSA,lab,,,,99999999999999999,,,,0", "max_qty_per_day", "too large");
    bad_item("kb-decedge", "C007,PSA,lab,,,,9223372036854775,,,,0", "max_qty_per_day", "too large");
}

static void test_bad_days_supply(void **state)
{
    (void)state;
    bad_item("kb-days", "C007,PSA,drug,,,,,0,,,0", "max_days_supply", "'0'");
    bad_item("kb-days2", "C007,PSA,drug,,,,,7.5,,,0", "max_days_supply", "'7.5'");
}

static void test_bad_category(void **state)
{
    (void)state;
    bad_item("kb-cat", "C007,PSA,labs,M,40,120,,,,,0", "category", "unknown category 'labs'");
    bad_item("kb-cat2", "C007,PSA,,M,40,120,,,,,0", "category", "empty value");
}

static void test_bad_sex(void **state)
{
    (void)state;
    bad_item("kb-sex", "C007,PSA,lab,X,40,120,,,,,0", "sex", "'X' is not M, F or empty");
    bad_item("kb-sex2", "C007,PSA,lab,m,40,120,,,,,0", "sex", "'m'");
}

static void test_bad_setting(void **state)
{
    (void)state;
    bad_item("kb-setting", "C007,PSA,lab,,,,,,home,,0", "setting",
             "'home' is not inpatient, outpatient or empty");
}

static void test_bad_trace_required(void **state)
{
    (void)state;
    bad_item("kb-trace", "C007,PSA,lab,,,,,,,,2", "trace_required", "'2' is not 0 or 1");
    bad_item("kb-trace2", "C007,PSA,lab,,,,,,,,", "trace_required", "'' is not 0 or 1");
}

static void test_bad_code_and_name(void **state)
{
    (void)state;
    bad_item("kb-name", "C007,,lab,,,,,,,,0", "name", "empty value");
    bad_item("kb-code", ",PSA,lab,,,,,,,,0", "item_code", "empty value");
    bad_item("kb-codelong", "C0070000000000000000000000000000X,PSA,lab,,,,,,,,0", "item_code",
             "longer than 32 bytes");
    bad_item("kb-codespace", "\"C007 \",PSA,lab,,,,,,,,0", "item_code", "visible ASCII");
    char row[400];
    snprintf(row, sizeof row, "C007,%0257d,lab,,,,,,,,0", 0);
    bad_item("kb-namelong", row, "name", "longer than 256 bytes");
}

static void test_bad_diagnoses(void **state)
{
    (void)state;
    bad_item("kb-diag", "C007,PSA,lab,,,,,,,J01;;J02,0", "diagnoses", "prefix ''");
    bad_item("kb-diag2", "C007,PSA,lab,,,,,,,J01;,0", "diagnoses", "prefix ''");
    bad_item("kb-diag3", "C007,PSA,lab,,,,,,,J0 1,0", "diagnoses", "prefix 'J0 1'");
    bad_item("kb-diag4", "C007,PSA,lab,,,,,,,A12345678901234567,0", "diagnoses", "1-16");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_categories),
        cmocka_unit_test(test_good_dir_loads),
        cmocka_unit_test(test_checksum_sees_every_field),
        cmocka_unit_test(test_exclusive_file_is_optional),
        cmocka_unit_test(test_items_file_is_required),
        cmocka_unit_test(test_column_order_is_free),
        cmocka_unit_test(test_h5_round_trip),
        cmocka_unit_test(test_empty_knowledge_round_trips),
        cmocka_unit_test(test_csv_round_trip),
        cmocka_unit_test(test_decimals_round_trip),
        cmocka_unit_test(test_h5_content_damage_is_refused),
        cmocka_unit_test(test_truncated_h5_is_refused),
        cmocka_unit_test(test_h5_damage_anywhere),
        cmocka_unit_test(test_missing_h5),
        cmocka_unit_test(test_bad_column_header),
        cmocka_unit_test(test_wrong_field_count),
        cmocka_unit_test(test_duplicate_code),
        cmocka_unit_test(test_unknown_item_in_pair),
        cmocka_unit_test(test_item_paired_with_itself),
        cmocka_unit_test(test_duplicate_pair_reversed),
        cmocka_unit_test(test_age_out_of_range),
        cmocka_unit_test(test_min_age_above_max_age),
        cmocka_unit_test(test_bad_decimal),
        cmocka_unit_test(test_bad_days_supply),
        cmocka_unit_test(test_bad_category),
        cmocka_unit_test(test_bad_sex),
        cmocka_unit_test(test_bad_setting),
        cmocka_unit_test(test_bad_trace_required),
        cmocka_unit_test(test_bad_code_and_name),
        cmocka_unit_test(test_bad_diagnoses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
