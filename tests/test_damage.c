/*
 * test_damage.c - damage that used to take the process down, and what a
 * killed import leaves behind (docs/reliability.md).
 *
 * A partition whose HDF5 metadata is damaged in a way that makes libhdf5
 * crash (SIGFPE in H5D__chunk_set_info, SIGSEGV in attribute decoding or
 * H5F__accum_read) is probed in a child process: `inspect --verify` exits 1
 * naming the file, `sweep` exits 1 naming it, and `sweep --skip-bad`
 * excludes the partition from both tables (the same result as without its
 * files) and lists it in run.json.
 *
 * An import removes the DATASET.importing-<pid> directories of earlier
 * imports into the same DATASET whose process is gone, and says so; one
 * whose process runs is left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ms_fakecsv.h"
#include "ms_fs.h"
#include "ms_testdata.h"
#include "ms_testutil.h"

typedef struct {
    char *dir;        /* first: ms_test_dir_teardown frees it */
    char data[1024];  /* a small generated world (a dataset), two partitions */
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    f->dir = ms_test_dir("damage");
    assert_non_null(f->dir);
    snprintf(f->data, sizeof f->data, "%s/world", f->dir);
    ms_test_cli_ok(NULL, "gen --out %s --persons 3000 --institutions 30 --partitions 2 --threads 2 --quiet",
                   f->data);
    *state = f;
    return 0;
}

/* A copy of the dataset to damage: f->dir/name. */
static void copy_data(const fx_t *f, const char *name, char *out, size_t cap)
{
    char cmd[4096];
    snprintf(out, cap, "%s/%s", f->dir, name);
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r %s %s", out, f->data, out);
    assert_int_equal(ms_test_run(cmd, NULL), 0);
}

static void write_whole(const char *path, const unsigned char *b, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

/* Recipe (a): the last byte of the first `08 00 18 00 00 00 00 00 03 02 02`
 * set to 0 (a chunked layout message: SIGFPE in H5D__chunk_set_info). */
static void damage_layout(const char *path)
{
    static const unsigned char pat[] = {0x08, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x02, 0x02};
    size_t n = 0;
    unsigned char *b = (unsigned char *)ms_test_slurp(path, &n);
    assert_non_null(b);
    size_t at = 0;
    while (at + sizeof pat <= n && memcmp(b + at, pat, sizeof pat) != 0) at++;
    assert_true(at + sizeof pat <= n);
    b[at + sizeof pat - 1] = 0;
    write_whole(path, b, n);
    free(b);
}

/* Recipe (b): truncated to 39,997 bytes, byte 25 and bytes 128..135 0xff. */
static void damage_superblock(const char *path)
{
    size_t n = 0;
    unsigned char *b = (unsigned char *)ms_test_slurp(path, &n);
    assert_non_null(b);
    assert_true(n > 39997);
    n = 39997;
    b[25] = 0xff;
    memset(b + 128, 0xff, 8);
    write_whole(path, b, n);
    free(b);
}

static void exits_saying(int rc, int want, char *log, const char *piece)
{
    if (rc != want) printf("exit status %d, wanted %d:\n%s\n", rc, want, log ? log : "");
    assert_int_equal(rc, want);
    ms_test_contains(log, piece);
    free(log);
}

/* One damaged TABLE/part-00000.h5 against inspect and the sweep. */
static void check_damaged(const fx_t *f, const char *name, const char *table, void (*damage)(const char *))
{
    char bad[1024], part[1300], out[1100], gone[1024], gone_out[1100], cmd[2400], file[200], said[300];
    copy_data(f, name, bad, sizeof bad);
    snprintf(file, sizeof file, "%s/part-00000.h5", table);
    snprintf(said, sizeof said, "%s is damaged", file);
    snprintf(part, sizeof part, "%s/%s", bad, file);
    damage(part);
    char *log = NULL;

    /* inspect: the dataset, and the file alone. */
    int rc = ms_test_cli(&log, "inspect %s --verify", bad);
    exits_saying(rc, 1, log, said);
    rc = ms_test_cli(&log, "inspect %s --verify", part);
    exits_saying(rc, 1, log, said);

    /* sweep: refused naming the partition, before anything is written. */
    snprintf(out, sizeof out, "%s-out", bad);
    rc = ms_testdata_sweep(bad, out, "--threads 2", &log);
    exits_saying(rc, 1, log, said);
    assert_false(ms_path_exists(out));

    /* sweep --skip-bad: partition 0 left out of both tables, listed. */
    rc = ms_testdata_sweep(bad, out, "--threads 2 --skip-bad", &log);
    exits_saying(rc, 0, log, "WARNING: 1 partitions");
    char *json = ms_test_read(out, "run.json", NULL);
    ms_test_contains(json, "\"partition\": 0");
    ms_test_contains(json, said);
    free(json);
    /* The same result as the dataset without partition 0's files. */
    copy_data(f, "without-0", gone, sizeof gone);
    snprintf(cmd, sizeof cmd, "rm %s/settlements/part-00000.h5 %s/drug_items/part-00000.h5", gone, gone);
    assert_int_equal(ms_test_run(cmd, NULL), 0);
    snprintf(gone_out, sizeof gone_out, "%s-out", gone);
    rc = ms_testdata_sweep(gone, gone_out, "--threads 2 --skip-bad", &log);
    exits_saying(rc, 0, log, "WARNING: 1 partitions");
    ms_test_same_files(out, gone_out, "indicators.csv", "clues.csv", "ranked.csv", NULL);
    ms_remove_tree(bad), ms_remove_tree(out), ms_remove_tree(gone), ms_remove_tree(gone_out);
}

/* SIGFPE in H5D__chunk_set_info. */
static void test_damaged_layout_message(void **state)
{
    check_damaged(*state, "layout", "settlements", damage_layout);
}

/* SIGSEGV (H5F__accum_read) with HDF5 1.10.8 and a drug items file of this
 * world (its settlements file gets a clean error from H5Fopen). */
static void test_damaged_superblock(void **state)
{
    check_damaged(*state, "superblock", "drug_items", damage_superblock);
}

/* A reference file's attribute message whose datatype size is damaged
 * (the high byte of the size of schema_version's datatype set to 0xff):
 * libhdf5 1.10.8 reads past the message in H5Aexists, which crashed
 * `export` with SIGSEGV. */
static void damage_attribute(const char *path)
{
    static const char pat[] = "\x0f\x00\x0c\x00\x08\x00schema_version";
    size_t n = 0, m = sizeof pat - 1;
    unsigned char *b = (unsigned char *)ms_test_slurp(path, &n);
    assert_non_null(b);
    size_t at = 0;
    while (at + m <= n && memcmp(b + at, pat, m) != 0) at++;
    assert_true(at + m <= n);
    b[at + 3] = 0xff;
    write_whole(path, b, n);
    free(b);
}

/* Damaged reference files (institutions.h5, groups.h5) are read first in a
 * child too: every command that opens the dataset exits 1 naming the file. */
static void test_damaged_reference_files(void **state)
{
    fx_t *f = *state;
    const char *files[] = {"institutions.h5", "groups.h5"};
    for (int i = 0; i < 2; i++) {
        char bad[1024], path[1200], out[1100];
        copy_data(f, files[i], bad, sizeof bad);
        snprintf(path, sizeof path, "%s/%s", bad, files[i]);
        damage_attribute(path);
        char *log = NULL;
        snprintf(out, sizeof out, "%s-csv", bad);
        int rc = ms_test_cli(&log, "export %s %s", bad, out);
        exits_saying(rc, 1, log, files[i]);
        snprintf(out, sizeof out, "%s-out", bad);
        rc = ms_testdata_sweep(bad, out, "--threads 2", &log);
        exits_saying(rc, 1, log, files[i]);
        rc = ms_test_cli(&log, "inspect %s --verify", bad);
        exits_saying(rc, 1, log, files[i]);
        rc = ms_test_cli(&log, "inspect %s", path);
        exits_saying(rc, 1, log, files[i]);
        ms_remove_tree(bad);
    }
}

/* export reads every partition: a damaged one is named, not a crash
 * (SIGFPE before export probed its partitions). */
static void test_export_of_damaged_partition(void **state)
{
    fx_t *f = *state;
    char bad[1024], path[1200], out[1100];
    copy_data(f, "export-layout", bad, sizeof bad);
    snprintf(path, sizeof path, "%s/settlements/part-00000.h5", bad);
    damage_layout(path);
    snprintf(out, sizeof out, "%s-csv", bad);
    char *log = NULL;
    int rc = ms_test_cli(&log, "export %s %s", bad, out);
    exits_saying(rc, 1, log, "settlements/part-00000.h5 is damaged");
    /* Nothing half-written: the CSV files are whole or absent. */
    char cmd[1300], *listing = NULL;
    snprintf(cmd, sizeof cmd, "ls -A %s | grep -c tmp || true", out);
    ms_test_run(cmd, &listing);
    assert_string_equal(listing, "0\n");
    free(listing);
    ms_remove_tree(bad), ms_remove_tree(out);
}

/* A pid no process has: a child's, once it is reaped. */
static long dead_pid(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(0);
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    return (long)pid;
}

static void make_leftover(const char *path)
{
    assert_int_equal(ms_mkdirs(path), MS_OK);
    char file[900];
    snprintf(file, sizeof file, "%s/settlements", path);
    assert_int_equal(ms_mkdirs(file), MS_OK);
    snprintf(file, sizeof file, "%s/settlements/part-00000.h5.tmp.1", path);
    assert_int_equal(ms_test_write_file(file, "half a partition"), 0);
}

/* The next import into DATASET removes DATASET.importing-<pid> of a dead
 * import, and only that. */
static void test_import_removes_dead_leftovers(void **state)
{
    fx_t *f = *state;
    char csv[700], ds[700], dead[800], live[800], other[800], odd[800];
    snprintf(csv, sizeof csv, "%s/leftover-csv", f->dir);
    snprintf(ds, sizeof ds, "%s/leftover", f->dir);
    ms_fake_opts_t o;
    ms_fake_opts_init(&o);
    o.settlements = 2000;
    assert_int_equal(ms_fake_write(&o, csv), 0);
    long pid = dead_pid();
    snprintf(dead, sizeof dead, "%s.importing-%ld", ds, pid);
    snprintf(live, sizeof live, "%s.importing-%ld", ds, (long)getpid());
    snprintf(other, sizeof other, "%s-other.importing-%ld", ds, pid);
    snprintf(odd, sizeof odd, "%s.importing-%ldx", ds, pid);
    make_leftover(dead);
    make_leftover(live);
    make_leftover(other);
    make_leftover(odd);
    char *log = NULL;
    ms_test_cli_ok(&log, "import %s %s --partitions 2 --quiet", csv, ds);
    ms_test_contains(log, "removed 1 leftover");
    free(log);
    assert_false(ms_path_exists(dead));
    assert_true(ms_is_dir(live));   /* its process (this test) runs */
    assert_true(ms_is_dir(other));  /* another dataset's */
    assert_true(ms_is_dir(odd));    /* not a pid */
    assert_true(ms_is_dir(ds));
    /* Nothing left over: nothing said. */
    ms_test_cli_ok(&log, "import %s %s --partitions 2 --quiet --replace", csv, ds);
    assert_null(strstr(log, "leftover"));
    free(log);
    ms_remove_tree(live), ms_remove_tree(other), ms_remove_tree(odd), ms_remove_tree(ds), ms_remove_tree(csv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_damaged_layout_message),
        cmocka_unit_test(test_damaged_superblock),
        cmocka_unit_test(test_damaged_reference_files),
        cmocka_unit_test(test_export_of_damaged_partition),
        cmocka_unit_test(test_import_removes_dead_leftovers),
    };
    return cmocka_run_group_tests(tests, setup, ms_test_dir_teardown);
}
