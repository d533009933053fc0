/*
 * test_inspect.c - medsweep inspect [--verify], through the real program.
 *
 * A sound dataset verifies with exit 0.  Each kind of damage gets exit 1 and
 * a line that names where it is: a truncated partition (the file), a
 * corrupted chunk (file, column, chunk), a partition from another dataset
 * (the reference mismatch), rows that break the contract (file, row, rule),
 * a lost partition (its name).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ms_fakecsv.h"
#include "ms_fs.h"
#include "ms_part.h"
#include "ms_testdata.h"
#include "ms_testutil.h"

typedef struct {
    char *dir;             /* first: ms_test_dir_teardown frees it */
    char a[600], b[600];   /* two imported datasets of different worlds */
} fx_t;

static void make_dataset(const char *root, const char *name, uint64_t seed, char *out, size_t cap)
{
    char csv[700];
    snprintf(csv, sizeof csv, "%s/%s-csv", root, name);
    snprintf(out, cap, "%s/%s", root, name);
    ms_fake_opts_t o;
    ms_fake_opts_init(&o);
    o.settlements = 5000;
    o.seed = seed;
    assert_int_equal(ms_fake_write(&o, csv), 0);
    ms_test_cli_ok(NULL, "import %s %s --partitions 4 --quiet", csv, out);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    f->dir = ms_test_dir("inspect");
    make_dataset(f->dir, "a", 1, f->a, sizeof f->a);
    make_dataset(f->dir, "b", 2, f->b, sizeof f->b);
    *state = f;
    return 0;
}

/* Run inspect on path; returns exit status and output. */
static int inspect(const char *path, int verify, char **out)
{
    return ms_test_cli(out, "inspect %s %s", path, verify ? "--verify" : "");
}

/* inspect [--verify] exits 1 on path, saying every piece of the list that
 * ends with NULL. */
__attribute__((sentinel)) static void inspect_fails(const char *path, int verify, ...)
{
    char *out = NULL;
    assert_int_equal(inspect(path, verify, &out), 1);
    va_list ap;
    va_start(ap, verify);
    ms_test_contains_v(out, ap);
    va_end(ap);
    free(out);
}

/* A copy of dataset a to damage. */
static void copy_a(fx_t *f, const char *name, char *out, size_t cap)
{
    char cmd[3000];
    snprintf(out, cap, "%s/%s", f->dir, name);
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r %s %s", out, f->a, out);
    assert_int_equal(ms_test_run(cmd, NULL), 0);
}

static void test_sound_dataset(void **state)
{
    fx_t *f = *state;
    char *out = NULL;
    assert_int_equal(inspect(f->a, 0, &out), 0);
    ms_test_contains(out, "settlements: 4 partitions, 5000 rows");
    ms_test_contains(out, "compression ratio");
    ms_test_contains(out, "schema version 1");
    free(out);
    assert_int_equal(inspect(f->a, 1, &out), 0);
    ms_test_contains(out, ", 0 violations");
    free(out);
    /* One file alone. */
    char part[700];
    snprintf(part, sizeof part, "%s/settlements/part-00001.h5", f->a);
    assert_int_equal(inspect(part, 1, &out), 0);
    ms_test_contains(out, "partition 1 of 4");
    ms_test_contains(out, "(matches)");
    free(out);
}

static void test_truncated_partition(void **state)
{
    fx_t *f = *state;
    char d[700], part[800], cmd[1000];
    copy_a(f, "trunc", d, sizeof d);
    snprintf(part, sizeof part, "%s/settlements/part-00002.h5", d);
    struct stat sb;
    stat(part, &sb);
    snprintf(cmd, sizeof cmd, "truncate -s %lld %s", (long long)sb.st_size / 2, part);
    assert_int_equal(ms_test_run(cmd, NULL), 0);
    inspect_fails(d, 1, "part-00002.h5", "truncated", NULL);
}

static void test_corrupted_chunk(void **state)
{
    fx_t *f = *state;
    char d[700], part[800], *out = NULL;
    copy_a(f, "corrupt", d, sizeof d);
    snprintf(part, sizeof part, "%s/settlements/part-00003.h5", d);
    ms_testdata_damage(part, MS_TABLE_SETTLEMENTS, MS_SC_fund_pay, 0, 3, 0x5a, 0xa5);
    inspect_fails(d, 1, "part-00003.h5", "column fund_pay, chunk 0", NULL);
    /* Without --verify nothing is decoded: the summary still works. */
    assert_int_equal(inspect(d, 0, &out), 0);
    free(out);
}

static void test_partition_from_other_dataset(void **state)
{
    fx_t *f = *state;
    char d[700], cmd[1600];
    copy_a(f, "foreign", d, sizeof d);
    snprintf(cmd, sizeof cmd, "cp %s/settlements/part-00001.h5 %s/settlements/part-00001.h5", f->b, d);
    assert_int_equal(ms_test_run(cmd, NULL), 0);
    inspect_fails(d, 1, "part-00001.h5", "other reference files", NULL);
}

static void test_broken_rows(void **state)
{
    /* A partition written directly, breaking rules the import would refuse. */
    fx_t *f = *state;
    char d[700], part[800];
    copy_a(f, "rows", d, sizeof d);
    snprintf(part, sizeof part, "%s/settlements/part-00000.h5", d);
    ms_part_t *p = NULL;
    assert_int_equal(ms_part_open(part, ms_table(MS_TABLE_SETTLEMENTS), NULL, &p), MS_OK);
    ms_part_info_t info = *ms_part_info(p);
    ms_part_close(p);
    ms_settlement_t rows[3];
    memset(rows, 0, sizeof rows);
    uint64_t pid = 0;
    while (ms_person_partition(pid, 4) != 0) pid++;
    for (int i = 0; i < 3; i++) {
        rows[i].settle_id = 900 + (uint64_t)i;
        rows[i].person_id = pid;
        rows[i].admit_date = rows[i].discharge_date = rows[i].settle_date = 19500;
        rows[i].total = rows[i].fund_pay = rows[i].drug = 1000;
        rows[i].n_diag = 1;
        rows[i].person_region = 110101;
        rows[i].group_code = rows[i].proc_main = -1;
    }
    rows[1].self_pay = 5;                 /* fund + self != total */
    rows[2].discharge_date = 19499;       /* before admission (outpatient too) */
    rows[2].visit_type = MS_VISIT_INPATIENT;
    info.rows = 3;
    assert_int_equal(ms_part_write_rows(part, ms_table(MS_TABLE_SETTLEMENTS), rows, &info), MS_OK);
    inspect_fails(d, 1, "part-00000.h5 row 1 (settle_id 901): fund_pay + self_pay != total",
                  "part-00000.h5 row 2 (settle_id 902): discharge_date before admit_date",
                  /* Drug items of partition 0 now point at settlements that are gone. */
                  "drug item's settlement is not in the matching settlements partition", NULL);
}

static void test_lost_partition(void **state)
{
    fx_t *f = *state;
    char d[700], part[800];
    copy_a(f, "lost", d, sizeof d);
    snprintf(part, sizeof part, "%s/settlements/part-00001.h5", d);
    assert_int_equal(unlink(part), 0);
    inspect_fails(d, 0, "part-00001.h5 is missing", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sound_dataset),
        cmocka_unit_test(test_truncated_partition),
        cmocka_unit_test(test_corrupted_chunk),
        cmocka_unit_test(test_partition_from_other_dataset),
        cmocka_unit_test(test_broken_rows),
        cmocka_unit_test(test_lost_partition),
    };
    return cmocka_run_group_tests(tests, setup, ms_test_dir_teardown);
}
