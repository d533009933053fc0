/*
 * test_roundtrip.c - CSV -> HDF5 -> CSV, exact to the fen and the character.
 *
 * A random world (io/synth/ms_fakecsv, awkward values on), with itemised
 * bills for part of its settlements and a knowledge base
 * (tests/support/ms_testbills), is imported and exported; every line of
 * every file comes back (settlements in partition order, so lines are
 * compared as sorted multisets; the export itself is canonical, so export
 * -> import -> export is byte-identical, the knowledge base included).  The
 * import is deterministic: 1 and 2 threads give byte-identical files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ms_fakecsv.h"
#include "ms_fs.h"
#include "ms_export.h"
#include "ms_import.h"
#include "ms_inspect.h"
#include "ms_knowledge.h"
#include "ms_testbills.h"
#include "ms_testutil.h"

static const char *const files[] = {"institutions.csv", "groups.csv", "settlements.csv",
                                    "drug_items.csv", "service_items.csv"};
#define NFILES (int)(sizeof files / sizeof files[0])
static const char *const kb_files[] = {"knowledge/items.csv", "knowledge/exclusive_items.csv"};

static void same_lines(const char *a_dir, const char *b_dir, const char *name)
{
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd, "diff <(LC_ALL=C sort %s/%s) <(LC_ALL=C sort %s/%s) | head -20",
             a_dir, name, b_dir, name);
    char full[2200];
    snprintf(full, sizeof full, "bash -c '%s'", cmd);
    ms_test_run(full, &out);
    if (out && *out) print_error("%s differs:\n%s\n", name, out);
    assert_string_equal(out, "");
    free(out);
}

static void same_bytes(const char *a, const char *b)
{
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd, "cmp %s %s", a, b);
    int rc = ms_test_run(cmd, &out);
    if (rc) print_error("%s\n", out);
    assert_int_equal(rc, 0);
    free(out);
}

static void import(const char *csv, const char *out, int threads, uint32_t parts)
{
    ms_import_opts_t o;
    memset(&o, 0, sizeof o);
    o.threads = threads;
    o.partitions = parts;
    o.chunk_rows = 4096;
    ms_import_result_t res;
    ms_status_t st = ms_import(csv, out, &o, &res);
    if (st != MS_OK) print_error("import: %s\n", ms_error_detail());
    assert_int_equal(st, MS_OK);
}

static void test_roundtrip_random(void **state)
{
    (void)state;
    char *dir = ms_test_dir("roundtrip");
    char csv[600], d1[600], d2[600], e1[600], d3[600], e2[600];
    snprintf(csv, sizeof csv, "%s/csv", dir);
    snprintf(d1, sizeof d1, "%s/data1", dir);
    snprintf(d2, sizeof d2, "%s/data2", dir);
    snprintf(e1, sizeof e1, "%s/export1", dir);
    snprintf(d3, sizeof d3, "%s/data3", dir);
    snprintf(e2, sizeof e2, "%s/export2", dir);
    ms_fake_opts_t o;
    ms_fake_opts_init(&o);
    o.settlements = 30000;
    o.seed = 20261123;
    o.flags = MS_FAKE_AWKWARD;
    assert_int_equal(ms_fake_write(&o, csv), 0);
    size_t lines = ms_testbills_write(csv, 0.5, 20261124, 1);
    assert_true(lines > 20000);
    ms_testbills_knowledge(csv);

    import(csv, d1, 1, 5);
    assert_int_equal(ms_export(d1, e1), MS_OK);
    for (int i = 0; i < NFILES; i++) same_lines(csv, e1, files[i]);

    /* Canonical: importing the export and exporting again changes nothing. */
    import(e1, d3, 2, 5);
    assert_int_equal(ms_export(d3, e2), MS_OK);
    for (int i = 0; i < NFILES + 2; i++) {
        char a[700], b[700];
        const char *name = i < NFILES ? files[i] : kb_files[i - NFILES];
        snprintf(a, sizeof a, "%s/%s", e1, name);
        snprintf(b, sizeof b, "%s/%s", e2, name);
        same_bytes(a, b);
    }
    /* The knowledge base is the one imported, to its checksum. */
    ms_knowledge_t k0, k1, k3;
    memset(&k0, 0, sizeof k0), memset(&k1, 0, sizeof k1), memset(&k3, 0, sizeof k3);
    char kdir[700];
    snprintf(kdir, sizeof kdir, "%s/knowledge", csv);
    assert_int_equal(ms_knowledge_load_csv(kdir, &k0), MS_OK);
    assert_int_equal(ms_knowledge_read(d1, &k1), MS_OK);
    assert_int_equal(ms_knowledge_read(d3, &k3), MS_OK);
    assert_int_equal(k1.n_items, 27);
    assert_true(k0.checksum == k1.checksum && k1.checksum == k3.checksum);
    ms_knowledge_free(&k0), ms_knowledge_free(&k1), ms_knowledge_free(&k3);

    /* Deterministic: 2 threads write the same bytes as 1. */
    import(csv, d2, 2, 5);
    const char *rel[] = {"institutions.h5",           "groups.h5",
                         "settlements/part-00000.h5", "settlements/part-00004.h5",
                         "drug_items/part-00003.h5",  "service_items/part-00002.h5",
                         "knowledge.h5"};
    for (int i = 0; i < 7; i++) {
        char a[700], b[700];
        snprintf(a, sizeof a, "%s/%s", d1, rel[i]);
        snprintf(b, sizeof b, "%s/%s", d2, rel[i]);
        same_bytes(a, b);
    }

    /* And the dataset verifies clean. */
    ms_inspect_opts_t io = {1, 2, 0};
    ms_inspect_result_t ir;
    FILE *devnull = fopen("/dev/null", "w");
    assert_int_equal(ms_inspect(d1, &io, devnull, &ir), MS_OK);
    fclose(devnull);
    assert_int_equal(ir.violations, 0);
    assert_true(ir.rows > 30000 + lines); /* settlements, drug items and bill lines */
    ms_remove_tree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
