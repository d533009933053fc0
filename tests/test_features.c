/*
 * test_features.c - features.h5 describes itself (docs/models.md,
 * "features.h5").
 *
 * A small generated world is swept twice, with the default rules and with
 * other rules.  Each features.h5 has, on its root, medsweep's version and
 * the configuration hash of its own run.json, and the money unit; every
 * dataset a unit, a description and the datasets that label its rows and
 * columns, of the right lengths; money columns the money unit; the
 * indicators' kinds and directions are enums whose names are words (and the
 * right ones for known indicators); every string is variable-length UTF-8,
 * which h5py reads as str.  A wider world (16,000 institutions) checks
 * the matrices' cells against indicators.csv.  Read with the HDF5 C API:
 * no Python needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hdf5.h>
#include <jansson.h>

#include "ms_testcsv.h"
#include "ms_testutil.h"

typedef struct {
    char *dir;          /* first: ms_test_dir_teardown frees it */
    char out[1024];     /* the sweep with the default rules */
    char other[1024];   /* the sweep with other rules */
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    *state = f; /* the teardown removes the directory even when setup fails */
    f->dir = ms_test_dir("features");
    assert_non_null(f->dir);
    char data[1024], rules[1024];
    snprintf(data, sizeof data, "%s/world", f->dir);
    snprintf(rules, sizeof rules, "%s/rules.cfg", f->dir);
    snprintf(f->out, sizeof f->out, "%s/out", f->dir);
    snprintf(f->other, sizeof f->other, "%s/other", f->dir);
    ms_test_cli_ok(NULL, "gen --out %s --persons 3000 --institutions 30 --threads 2 --quiet", data);
    ms_test_cli_ok(NULL, "sweep %s --out %s --threads 2 --quiet", data, f->out);
    assert_int_equal(ms_test_write_file(rules, "scoring = { z_flag = 4; };\n"), 0);
    ms_test_cli_ok(NULL, "sweep %s --out %s --config %s --threads 2 --quiet", data, f->other, rules);
    return 0;
}

/* A string attribute of obj (path below it, "." for obj itself): asserted
 * to be there, scalar, variable-length UTF-8.  Returns a copy (caller
 * frees). */
static char *attr_text(hid_t obj, const char *path, const char *name)
{
    if (H5Aexists_by_name(obj, path, name, H5P_DEFAULT) <= 0) {
        print_error("%s has no attribute %s\n", path, name);
        fail();
    }
    hid_t a = H5Aopen_by_name(obj, path, name, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(a >= 0);
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    assert_int_equal(H5Tget_class(t), H5T_STRING);
    assert_true(H5Tis_variable_str(t) > 0);
    assert_int_equal(H5Tget_cset(t), H5T_CSET_UTF8);
    assert_int_equal(H5Sget_simple_extent_type(sp), H5S_SCALAR);
    char *v = NULL;
    assert_true(H5Aread(a, t, &v) >= 0);
    assert_non_null(v);
    char *copy = strdup(v);
    H5free_memory(v);
    H5Sclose(sp), H5Tclose(t), H5Aclose(a);
    return copy;
}

static void attr_is(hid_t obj, const char *path, const char *name, const char *want)
{
    char *v = attr_text(obj, path, name);
    if (strcmp(v, want)) print_error("%s attribute %s is \"%s\", not \"%s\"\n", path, name, v, want);
    assert_string_equal(v, want);
    free(v);
}

/* The length of dimension k of dataset path. */
static hsize_t extent(hid_t file, const char *path, int k)
{
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    if (d < 0) print_error("no dataset %s\n", path);
    assert_true(d >= 0);
    hid_t sp = H5Dget_space(d);
    hsize_t dims[2] = {0, 0};
    int rank = H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp), H5Dclose(d);
    assert_true(rank > k);
    return dims[k];
}

/* Every dataset: unit, description, rows (and columns for a matrix), each
 * naming a dataset as long as that dimension; strings variable-length
 * UTF-8, none empty. */
static herr_t check_object(hid_t file, const char *name, const H5L_info_t *info, void *count)
{
    (void)info;
    hid_t d = H5Oopen(file, name, H5P_DEFAULT);
    assert_true(d >= 0);
    if (H5Iget_type(d) != H5I_DATASET) {
        H5Oclose(d);
        return 0;
    }
    char path[256];
    snprintf(path, sizeof path, "/%s", name);
    hid_t sp = H5Dget_space(d), t = H5Dget_type(d);
    hsize_t dims[2] = {0, 0};
    int rank = H5Sget_simple_extent_dims(sp, dims, NULL);
    if (H5Tget_class(t) == H5T_STRING) {
        assert_true(H5Tis_variable_str(t) > 0);
        assert_int_equal(H5Tget_cset(t), H5T_CSET_UTF8);
        char **v = calloc(dims[0] + 1, sizeof *v);
        assert_true(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
        for (hsize_t i = 0; i < dims[0]; i++) {
            if (!v[i] || !*v[i]) print_error("%s[%llu] is empty\n", path, (unsigned long long)i);
            assert_true(v[i] && *v[i]);
            H5free_memory(v[i]);
        }
        free(v);
    }
    H5Tclose(t), H5Sclose(sp), H5Oclose(d);
    char *unit = attr_text(file, path, "unit"), *what = attr_text(file, path, "description");
    assert_true(*unit && *what);
    free(unit), free(what);
    char *rows = attr_text(file, path, "rows");
    assert_int_equal(extent(file, rows, 0), dims[0]);
    free(rows);
    assert_true(rank == 1 || rank == 2);
    if (rank == 2) {
        char *cols = attr_text(file, path, "columns");
        assert_int_equal(extent(file, cols, 0), dims[1]);
        free(cols);
    } else {
        assert_true(H5Aexists_by_name(file, path, "columns", H5P_DEFAULT) == 0);
    }
    ++*(int *)count;
    return 0;
}

/* The configuration hash and the version run.json says. */
static void run_json(const char *out, char *hash, char *version)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/run.json", out);
    json_t *root = json_load_file(path, 0, NULL);
    assert_non_null(root);
    const char *h = json_string_value(json_object_get(json_object_get(root, "configuration"), "hash"));
    const char *v = json_string_value(json_object_get(root, "medsweep"));
    assert_non_null(h);
    assert_non_null(v);
    snprintf(hash, 64, "%s", h);
    snprintf(version, 64, "%s", v);
    json_decref(root);
}

static hid_t open_features(const char *out)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/features.h5", out);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    return file;
}

static void test_root_says_version_hash_and_money(void **state)
{
    const fx_t *f = *state;
    char hash[64], version[64], other_hash[64], other_version[64];
    run_json(f->out, hash, version);
    run_json(f->other, other_hash, other_version);
    /* Other rules, another hash: the attribute is the run's, not a constant. */
    assert_string_not_equal(hash, other_hash);
    hid_t file = open_features(f->out);
    attr_is(file, ".", "config_hash", hash);
    attr_is(file, ".", "medsweep_version", version);
    attr_is(file, ".", "money_unit", "yuan");
    char *layout = attr_text(file, ".", "layout");
    ms_test_contains(layout, "/institutions/inst_code");
    ms_test_contains(layout, "/indicators/name");
    free(layout);
    H5Fclose(file);
    file = open_features(f->other);
    attr_is(file, ".", "config_hash", other_hash);
    H5Fclose(file);
}

static void test_every_dataset_has_unit_meaning_and_labels(void **state)
{
    const fx_t *f = *state;
    hid_t file = open_features(f->out);
    int count = 0;
    assert_true(H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, check_object, &count) >= 0);
    assert_int_equal(count, 21); /* every dataset of ms_features.h */
    /* Money in the money unit. */
    char *money = attr_text(file, ".", "money_unit");
    attr_is(file, "/suspicious_yuan", "unit", money);
    attr_is(file, "/recovery_yuan", "unit", money);
    free(money);
    attr_is(file, "/percentile", "unit", "percent 0..100");
    attr_is(file, "/z", "columns", "/indicators/name");
    attr_is(file, "/model_score", "columns", "/models/name");
    attr_is(file, "/overall", "rows", "/institutions/inst_code");
    H5Fclose(file);
}

/* The names of kind and direction of indicator want ("model.indicator"),
 * by the enums' own names. */
static void indicator_codes(hid_t file, const char *want, char *kind, char *direction)
{
    hsize_t n = extent(file, "/indicators/name", 0);
    char **names = calloc(n, sizeof *names);
    int32_t *kinds = calloc(n, sizeof *kinds), *dirs = calloc(n, sizeof *dirs);
    hid_t d = H5Dopen2(file, "/indicators/name", H5P_DEFAULT), t = H5Dget_type(d);
    assert_true(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, names) >= 0);
    H5Tclose(t), H5Dclose(d);
    hsize_t at = n;
    for (hsize_t i = 0; i < n; i++)
        if (!strcmp(names[i], want)) at = i;
    if (at == n) print_error("no indicator %s\n", want);
    assert_true(at < n);
    const char *what[2] = {"/indicators/kind", "/indicators/direction"};
    int32_t *v[2] = {kinds, dirs};
    char *out[2] = {kind, direction};
    for (int k = 0; k < 2; k++) {
        d = H5Dopen2(file, what[k], H5P_DEFAULT);
        t = H5Dget_type(d);
        assert_int_equal(H5Tget_class(t), H5T_ENUM);
        hid_t mt = H5Tget_native_type(t, H5T_DIR_DEFAULT);
        assert_true(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v[k]) >= 0);
        assert_true(H5Tenum_nameof(mt, &v[k][at], out[k], 32) >= 0);
        H5Tclose(mt), H5Tclose(t), H5Dclose(d);
    }
    for (hsize_t i = 0; i < n; i++) H5free_memory(names[i]);
    free(names), free(kinds), free(dirs);
}

static void test_kinds_and_directions_are_words(void **state)
{
    const fx_t *f = *state;
    hid_t file = open_features(f->out);
    /* The enums name every code (ms_ind_kind_t, direction -1/+1). */
    const char *kinds[] = {"info", "share", "ratio"};
    hid_t d = H5Dopen2(file, "/indicators/kind", H5P_DEFAULT), t = H5Dget_type(d);
    assert_int_equal(H5Tget_nmembers(t), 3);
    for (int32_t k = 0; k < 3; k++) {
        char name[32];
        assert_true(H5Tenum_nameof(t, &k, name, sizeof name) >= 0);
        assert_string_equal(name, kinds[k]);
    }
    H5Tclose(t), H5Dclose(d);
    d = H5Dopen2(file, "/indicators/direction", H5P_DEFAULT);
    t = H5Dget_type(d);
    int32_t v;
    assert_int_equal(H5Tget_nmembers(t), 2);
    assert_true(H5Tenum_valueof(t, "higher", &v) >= 0);
    assert_int_equal(v, 1);
    assert_true(H5Tenum_valueof(t, "lower", &v) >= 0);
    assert_int_equal(v, -1);
    H5Tclose(t), H5Dclose(d);
    /* Known indicators: a share and a ratio, both higher-is-suspicious. */
    char kind[32], dir[32];
    indicator_codes(file, "overload.overloaded_doctor_days", kind, dir);
    assert_string_equal(kind, "share");
    assert_string_equal(dir, "higher");
    indicator_codes(file, "false_hosp.beds_overflow", kind, dir);
    assert_string_equal(kind, "ratio");
    assert_string_equal(dir, "higher");
    H5Fclose(file);
}

/* Dataset path read whole as native type t into a new array of n x size. */
static void *read_all(hid_t file, const char *path, hid_t t, size_t n, size_t size)
{
    void *v = calloc(n ? n : 1, size);
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(d);
    return v;
}

/* The matrices are written a block of rows at a time from the columns the
 * scoring holds (about 1 MiB of rows: 6,898 institutions at 19 indicators),
 * so a world of 16,000 institutions spans three blocks, the last one
 * short.  Every cell of /numerator and /denominator is indicators.csv's
 * figure for that institution and indicator (0 and 0 where it has no row),
 * /value is numerator / denominator where that is a share or ratio it
 * reports, and /reported and /z agree (z is 0 where not reported). */
static void test_matrices_hold_the_figures(void **state)
{
    const fx_t *f = *state;
    char data[1024], out[1024];
    snprintf(data, sizeof data, "%s/wide", f->dir);
    snprintf(out, sizeof out, "%s/wide-out", f->dir);
    ms_test_cli_ok(NULL, "gen --out %s --persons 20000 --institutions 16000 --threads 2 --quiet", data);
    ms_test_cli_ok(NULL, "sweep %s --out %s --threads 2 --quiet", data, out);
    hid_t file = open_features(out);
    size_t n = extent(file, "/institutions/inst_code", 0), J = extent(file, "/indicators/name", 0);
    assert_true(n == 16000 && J > 0);
    assert_int_equal(extent(file, "/numerator", 0), n);
    assert_int_equal(extent(file, "/numerator", 1), J);
    hid_t vs = H5Tcopy(H5T_C_S1);
    H5Tset_size(vs, H5T_VARIABLE);
    char **codes = read_all(file, "/institutions/inst_code", vs, n, sizeof(char *));
    char **names = read_all(file, "/indicators/name", vs, J, sizeof(char *));
    int64_t *num = read_all(file, "/numerator", H5T_NATIVE_INT64, n * J, 8);
    int64_t *den = read_all(file, "/denominator", H5T_NATIVE_INT64, n * J, 8);
    double *value = read_all(file, "/value", H5T_NATIVE_DOUBLE, n * J, 8);
    double *z = read_all(file, "/z", H5T_NATIVE_DOUBLE, n * J, 8);
    uint8_t *rep = read_all(file, "/reported", H5T_NATIVE_UINT8, n * J, 1);
    uint8_t *seen = calloc(n * J, 1);
    ms_testcsv_t *t = ms_testcsv_read(out, "indicators.csv");
    size_t matched = 0;
    for (size_t r = 0; r < ms_testcsv_rows(t); r++) {
        char name[256];
        snprintf(name, sizeof name, "%s.%s", ms_testcsv_get(t, r, "model"), ms_testcsv_get(t, r, "indicator"));
        size_t j = 0, i = 0;
        while (j < J && strcmp(names[j], name)) j++;
        if (j == J) continue; /* not scored: not in the matrices */
        const char *code = ms_testcsv_get(t, r, "inst_code");
        /* inst_code is sorted: the reference data's order. */
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (strcmp(codes[mid], code) < 0) lo = mid + 1;
            else hi = mid;
        }
        i = lo;
        assert_true(i < n && !strcmp(codes[i], code));
        size_t at = i * J + j;
        assert_int_equal(num[at], ms_testcsv_ll(t, r, "numerator"));
        assert_int_equal(den[at], ms_testcsv_ll(t, r, "denominator"));
        seen[at] = 1;
        matched++;
    }
    assert_true(matched > n); /* most institutions have rows for several indicators */
    for (size_t at = 0; at < n * J; at++) {
        if (!seen[at]) assert_true(num[at] == 0 && den[at] == 0);
        if (rep[at]) assert_true(den[at] > 0 && value[at] == (double)num[at] / (double)den[at]);
        else assert_true(z[at] == 0);
    }
    /* Every block holds reported cells (the last row's too, or a row near it). */
    size_t last = 0;
    for (size_t at = 0; at < n * J; at++)
        if (rep[at]) last = at / J;
    assert_true(last > n - 200);
    ms_testcsv_free(t);
    for (size_t i = 0; i < n; i++) H5free_memory(codes[i]);
    for (size_t j = 0; j < J; j++) H5free_memory(names[j]);
    free(codes), free(names), free(num), free(den), free(value), free(z), free(rep), free(seen);
    H5Tclose(vs);
    H5Fclose(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_says_version_hash_and_money),
        cmocka_unit_test(test_every_dataset_has_unit_meaning_and_labels),
        cmocka_unit_test(test_kinds_and_directions_are_words),
        cmocka_unit_test(test_matrices_hold_the_figures),
    };
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* absent attributes are asked about on purpose */
    return cmocka_run_group_tests(tests, setup, ms_test_dir_teardown);
}
