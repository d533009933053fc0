/*
 * ms_refs.c - institutions.h5 and groups.h5 (with the code dictionaries).
 *
 * Reference files are small (hundreds of thousands of rows at most), so they
 * are written and read whole with plain H5Dwrite/H5Dread: text as
 * variable-length UTF-8 strings, enumerations as HDF5 enums, so that h5dump
 * shows every code as text.  The content checksum is xxh3-64 over every
 * field of every row (text bytes, numbers as little-endian bytes, a
 * separator after each field), independent of HDF5's file layout.
 */
#include "ms_refs.h"

#include <hdf5.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#include "ms_codes.h"
#include "ms_fs.h"
#include "ms_h5util.h"
#include "ms_probe.h"
#include "ms_refs_pack.h"
#include "ms_schema.h"
#include "ms_search.h"

/* ------------------------------------------------------------- lookups */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int ms_code_cmp(const char *text, size_t len, const char *s)
{
    size_t sl = strlen(s);
    int c = memcmp(text, s, len < sl ? len : sl);
    if (c) return c;
    return len < sl ? -1 : len > sl ? 1 : 0;
}

/* The code looked for, and the sorted array searched: n entries stride
 * bytes apart, each with its code (a char *) off bytes in. */
typedef struct {
    const unsigned char *base;
    size_t stride, off;
    const char *text;
    size_t len;
} code_key_t;

static const char *code_at(const code_key_t *k, size_t i)
{
    const char *code;
    memcpy(&code, k->base + i * k->stride + k->off, sizeof code);
    return code;
}

/* Whether entry i sorts before the code. */
static int code_below(const void *ctx, size_t i)
{
    const code_key_t *k = ctx;
    return ms_code_cmp(k->text, k->len, code_at(k, i)) > 0;
}

int32_t ms_code_find(const void *base, size_t n, size_t stride, size_t off, const char *text, size_t len)
{
    code_key_t k = {base, stride, off, text, len};
    size_t i = ms_lower_bound(n, code_below, &k);
    return i < n && ms_code_cmp(text, len, code_at(&k, i)) == 0 ? (int32_t)i : -1;
}

int32_t ms_dict_find(const ms_dict_t *d, const char *text, size_t len)
{
    return ms_code_find(d->str, d->count, sizeof *d->str, 0, text, len);
}

void ms_dict_free(ms_dict_t *d)
{
    for (size_t i = 0; i < d->count; i++) free(d->str[i]);
    free(d->str);
    d->str = NULL;
    d->count = 0;
}

int32_t ms_refs_inst_find(const ms_refs_t *r, const char *code, size_t len)
{
    return ms_code_find(r->inst, r->n_inst, sizeof *r->inst, offsetof(ms_institution_t, inst_code), code, len);
}

int32_t ms_refs_group_find(const ms_refs_t *r, const char *code, size_t len)
{
    return ms_code_find(r->groups, r->n_groups, sizeof *r->groups, offsetof(ms_group_t, group_code), code,
                        len);
}

static int cmp_inst(const void *a, const void *b)
{
    return strcmp(((const ms_institution_t *)a)->inst_code, ((const ms_institution_t *)b)->inst_code);
}

static int cmp_group(const void *a, const void *b)
{
    return strcmp(((const ms_group_t *)a)->group_code, ((const ms_group_t *)b)->group_code);
}

static ms_status_t sort_dict(ms_dict_t *d, const char *what)
{
    if (d->count > 1) qsort(d->str, d->count, sizeof *d->str, cmp_str);
    for (size_t i = 1; i < d->count; i++)
        if (strcmp(d->str[i - 1], d->str[i]) == 0)
            return ms_error_set(MS_E_INPUT, "%s dictionary holds '%s' twice", what, d->str[i]);
    return MS_OK;
}

ms_status_t ms_refs_finish(ms_refs_t *r)
{
    if (r->n_inst > 1) qsort(r->inst, r->n_inst, sizeof *r->inst, cmp_inst);
    for (size_t i = 1; i < r->n_inst; i++)
        if (strcmp(r->inst[i - 1].inst_code, r->inst[i].inst_code) == 0)
            return ms_error_set(MS_E_INPUT, "institutions: inst_code '%s' appears twice",
                                r->inst[i].inst_code);
    if (r->n_groups > 1) qsort(r->groups, r->n_groups, sizeof *r->groups, cmp_group);
    for (size_t i = 1; i < r->n_groups; i++)
        if (strcmp(r->groups[i - 1].group_code, r->groups[i].group_code) == 0)
            return ms_error_set(MS_E_INPUT, "groups: group_code '%s' appears twice",
                                r->groups[i].group_code);
    MS_TRY(sort_dict(&r->diagnoses, "diagnosis"));
    MS_TRY(sort_dict(&r->procedures, "procedure"));
    MS_TRY(sort_dict(&r->drugs, "drug"));
    MS_TRY(sort_dict(&r->items, "item"));
    ms_refs_compute_checksums(r, &r->inst_checksum, &r->groups_checksum);
    return MS_OK;
}

/* ------------------------------------------------------------ checksums */

/* The checksums' input, gathered into blocks: the digest is XXH3's over
 * the same bytes however they are cut, and one update per field (two, with
 * its separator) cost ~1,200 instructions per institution, a third of
 * opening a 420,000-institution dataset. */
typedef struct {
    XXH3_state_t s;
    size_t n;
    unsigned char buf[16384];
} sum_t;

static void sum_flush(sum_t *s)
{
    XXH3_64bits_update(&s->s, s->buf, s->n);
    s->n = 0;
}

static void sum_bytes(sum_t *s, const void *p, size_t n)
{
    if (s->n + n + 1 > sizeof s->buf) {
        sum_flush(s);
        if (n + 1 > sizeof s->buf) {
            XXH3_64bits_update(&s->s, p, n);
            n = 0;
        }
    }
    memcpy(s->buf + s->n, p, n);
    s->buf[s->n + n] = 0x1f; /* the separator */
    s->n += n + 1;
}

static void sum_str(sum_t *s, const char *str) { sum_bytes(s, str, strlen(str)); }

static void sum_u64(sum_t *s, uint64_t v)
{
    unsigned char le[8];
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(v >> (8 * i));
    sum_bytes(s, le, 8);
}

static void sum_f32(sum_t *s, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    sum_u64(s, u);
}

static void sum_dict(sum_t *s, const char *name, const ms_dict_t *d)
{
    sum_str(s, name);
    sum_u64(s, d->count);
    for (size_t i = 0; i < d->count; i++) sum_str(s, d->str[i]);
}

static uint64_t sum_digest(sum_t *s)
{
    sum_flush(s);
    uint64_t h = XXH3_64bits_digest(&s->s);
    XXH3_64bits_reset(&s->s);
    return h;
}

void ms_refs_compute_checksums(const ms_refs_t *r, uint64_t *inst_sum, uint64_t *groups_sum)
{
    sum_t sum, *s = &sum; /* 17 KB of stack, nothing to allocate */
    s->n = 0;
    XXH3_64bits_reset(&s->s);
    sum_u64(s, r->n_inst);
    for (size_t i = 0; i < r->n_inst; i++) {
        const ms_institution_t *x = &r->inst[i];
        sum_str(s, x->inst_code);
        sum_str(s, x->name);
        sum_u64(s, x->kind);
        sum_u64(s, x->level);
        sum_u64(s, x->ownership);
        sum_u64(s, (uint64_t)(int64_t)x->region);
        sum_u64(s, (uint64_t)(int64_t)x->beds);
    }
    *inst_sum = sum_digest(s);
    sum_u64(s, r->n_groups);
    for (size_t i = 0; i < r->n_groups; i++) {
        const ms_group_t *g = &r->groups[i];
        char mdc[2] = {g->mdc, 0};
        sum_str(s, g->group_code);
        sum_str(s, g->family);
        sum_u64(s, g->severity);
        sum_f32(s, g->weight);
        sum_str(s, mdc);
        sum_u64(s, g->surgical);
        sum_f32(s, g->expected_los);
        sum_u64(s, (uint64_t)g->mean_cost);
    }
    sum_dict(s, "diagnoses", &r->diagnoses);
    sum_dict(s, "procedures", &r->procedures);
    sum_dict(s, "drugs", &r->drugs);
    /* Only when there are bill lines: a dataset without them keeps the
     * checksum it had before the dictionary existed. */
    if (r->items.count) sum_dict(s, "items", &r->items);
    *groups_sum = sum_digest(s);
}

void ms_refs_checksum_text(const ms_refs_t *r, char out[40])
{
    snprintf(out, 40, "%016" PRIx64 "-%016" PRIx64, r->inst_checksum, r->groups_checksum);
}

/* -------------------------------------------------------------- writing */

static ms_status_t write_typed(hid_t g, const char *name, ms_ctype_t ct, const ms_enum_t *en,
                               size_t n, const void *data)
{
    hid_t ft = ms_h5_column_type(ct, en);
    hid_t mt = ct == MS_F32 ? H5T_NATIVE_FLOAT : -1;
    if (mt < 0) mt = ft; /* little-endian integers are native here */
    ms_status_t st = ms_h5_write_col(g, name, ft, mt, n, data);
    H5Tclose(ft);
    return st;
}

/* If all went well so far (st), gather one field of the n structs of arr
 * into buf and write it as the column of the same name: text, or numbers
 * of type ct (an enumeration when en is not NULL). */
#define WRITE_TEXT(st, g, buf, arr, n, field)                \
    do {                                                     \
        if ((st) == MS_OK) {                                 \
            MS_H5_GATHER(buf, arr, n, field);                \
            (st) = ms_h5_write_strings(g, #field, n, buf);   \
        }                                                    \
    } while (0)
#define WRITE_FIELD(st, g, buf, arr, n, field, ct, en)       \
    do {                                                     \
        if ((st) == MS_OK) {                                 \
            MS_H5_GATHER(buf, arr, n, field);                \
            (st) = write_typed(g, #field, ct, en, n, buf);   \
        }                                                    \
    } while (0)

static ms_status_t write_institutions(hid_t f, const ms_refs_t *r)
{
    size_t n = r->n_inst;
    hid_t g = ms_h5_group_create(f, "institutions");
    if (g < 0) return ms_error_set(MS_E_HDF5, "cannot create group institutions");
    const char **s = malloc((n ? n : 1) * sizeof *s);
    uint8_t *u8 = malloc(n ? n : 1);
    int32_t *i32 = malloc((n ? n : 1) * sizeof *i32);
    ms_status_t st = (s && u8 && i32) ? MS_OK : ms_error_set(MS_E_NOMEM, "out of memory");
    WRITE_TEXT(st, g, s, r->inst, n, inst_code);
    WRITE_TEXT(st, g, s, r->inst, n, name);
    WRITE_FIELD(st, g, u8, r->inst, n, kind, MS_U8, &ms_enum_kind);
    WRITE_FIELD(st, g, u8, r->inst, n, level, MS_U8, NULL);
    WRITE_FIELD(st, g, u8, r->inst, n, ownership, MS_U8, &ms_enum_ownership);
    WRITE_FIELD(st, g, i32, r->inst, n, region, MS_I32, NULL);
    WRITE_FIELD(st, g, i32, r->inst, n, beds, MS_I32, NULL);
    free(s), free(u8), free(i32);
    H5Gclose(g);
    return st;
}

static ms_status_t write_groups(hid_t f, const ms_refs_t *r)
{
    size_t n = r->n_groups, m = n ? n : 1;
    hid_t g = ms_h5_group_create(f, "groups");
    if (g < 0) return ms_error_set(MS_E_HDF5, "cannot create group groups");
    const char **s = malloc(m * sizeof *s);
    char *mdc = malloc(m * 2);
    uint8_t *u8 = malloc(m);
    float *f32 = malloc(m * sizeof *f32);
    int64_t *i64 = malloc(m * sizeof *i64);
    ms_status_t st = (s && mdc && u8 && f32 && i64) ? MS_OK : ms_error_set(MS_E_NOMEM, "out of memory");
    WRITE_TEXT(st, g, s, r->groups, n, group_code);
    WRITE_TEXT(st, g, s, r->groups, n, family);
    WRITE_FIELD(st, g, u8, r->groups, n, severity, MS_U8, NULL);
    WRITE_FIELD(st, g, f32, r->groups, n, weight, MS_F32, NULL);
    if (st == MS_OK) {
        for (size_t i = 0; i < n; i++) {
            mdc[2 * i] = r->groups[i].mdc;
            mdc[2 * i + 1] = '\0';
            s[i] = &mdc[2 * i];
        }
        st = ms_h5_write_strings(g, "mdc", n, s);
    }
    WRITE_FIELD(st, g, u8, r->groups, n, surgical, MS_U8, NULL);
    WRITE_FIELD(st, g, f32, r->groups, n, expected_los, MS_F32, NULL);
    WRITE_FIELD(st, g, i64, r->groups, n, mean_cost, MS_I64, NULL);
    free(s), free(mdc), free(u8), free(f32), free(i64);
    H5Gclose(g);
    return st;
}

static ms_status_t write_dict(hid_t f, const char *name, const ms_dict_t *d)
{
    return ms_h5_write_strings(f, name, d->count, (const char *const *)d->str);
}

typedef struct {
    const ms_refs_t *r;
    int which; /* 0: institutions.h5, 1: groups.h5 */
} ref_file_t;

/* The content of one reference file (ms_h5_write_file's fill). */
static ms_status_t fill_ref_file(hid_t f, const void *arg)
{
    const ref_file_t *a = arg;
    const ms_refs_t *r = a->r;
    hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
    ms_status_t st = ms_h5_attr_write_i64(root, "schema_version", MS_SCHEMA_VERSION);
    if (a->which == 0) {
        if (st == MS_OK) st = write_institutions(f, r);
    } else {
        if (st == MS_OK) st = write_groups(f, r);
        if (st == MS_OK) st = write_dict(f, "diagnoses", &r->diagnoses);
        if (st == MS_OK) st = write_dict(f, "procedures", &r->procedures);
        if (st == MS_OK) st = write_dict(f, "drugs", &r->drugs);
        if (st == MS_OK && r->items.count) st = write_dict(f, "items", &r->items);
    }
    if (st == MS_OK) st = ms_h5_write_checksum(root, a->which == 0 ? r->inst_checksum : r->groups_checksum);
    H5Gclose(root);
    return st;
}

static ms_status_t write_ref_file(const char *dir, const char *name, const ms_refs_t *r,
                                  int which)
{
    char *path = ms_path_join(dir, name);
    if (!path) return ms_error_set(MS_E_NOMEM, "out of memory");
    ref_file_t a = {r, which};
    ms_status_t st = ms_h5_write_file(path, fill_ref_file, &a);
    free(path);
    return st;
}

ms_status_t ms_refs_write(const ms_refs_t *r, const char *dir)
{
    MS_TRY(ms_h5_init());
    MS_TRY(write_ref_file(dir, "institutions.h5", r, 0));
    return write_ref_file(dir, "groups.h5", r, 1);
}

/* -------------------------------------------------------------- reading */

static ms_status_t read_num(hid_t loc, const char *name, size_t n, hid_t mtype, void *out)
{
    ms_status_t st = MS_OK;
    hid_t d = ms_h5_open_col(loc, name, &n, &st);
    if (d < 0) return st;
    hid_t ft = H5Dget_type(d);
    H5T_class_t cls = H5Tget_class(ft);
    H5Tclose(ft);
    if (cls != H5T_INTEGER && cls != H5T_FLOAT && cls != H5T_ENUM)
        st = ms_error_set(MS_E_SCHEMA, "%s is not numeric", name);
    else if (n && H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
        st = ms_error_set(MS_E_CORRUPT, "cannot read %s", name);
    H5Dclose(d);
    return st;
}

/* Enumerations are read as their integer values. */
static ms_status_t read_u8(hid_t loc, const char *name, size_t n, uint8_t *out)
{
    ms_status_t st = MS_OK;
    hid_t d = ms_h5_open_col(loc, name, &n, &st);
    if (d < 0) return st;
    hid_t ft = H5Dget_type(d);
    if (H5Tget_size(ft) != 1 || (H5Tget_class(ft) != H5T_INTEGER && H5Tget_class(ft) != H5T_ENUM))
        st = ms_error_set(MS_E_SCHEMA, "%s is not an 8-bit code", name);
    H5Tclose(ft);
    if (st == MS_OK && n) {
        hid_t sp = H5Dget_space(d);
        /* Read raw bytes: an enum converts to u8 only through its base type. */
        hid_t dt = H5Dget_type(d);
        hid_t mt = H5Tget_class(dt) == H5T_ENUM ? H5Tcopy(dt) : H5Tcopy(H5T_NATIVE_UINT8);
        if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
            st = ms_error_set(MS_E_CORRUPT, "cannot read %s", name);
        H5Tclose(mt);
        H5Tclose(dt);
        H5Sclose(sp);
    }
    H5Dclose(d);
    return st;
}

static ms_status_t read_institutions(hid_t f, ms_refs_t *r)
{
    hid_t g = H5Gopen2(f, "institutions", H5P_DEFAULT);
    if (g < 0) return ms_error_set(MS_E_SCHEMA, "group /institutions is missing");
    size_t n = SIZE_MAX;
    char **codes = NULL, **names = NULL;
    ms_status_t st = ms_h5_read_strings(g, "inst_code", &n, &codes);
    if (st == MS_OK) st = ms_h5_read_strings(g, "name", &n, &names);
    size_t m = n == SIZE_MAX || n == 0 ? 1 : n;
    uint8_t *u8 = malloc(m);
    int32_t *i32 = malloc(m * sizeof *i32);
    if (st == MS_OK) {
        r->inst = calloc(m, sizeof *r->inst);
        if (!r->inst || !u8 || !i32) st = ms_error_set(MS_E_NOMEM, "out of memory");
        else r->n_inst = n;
    }
    if (st == MS_OK) {
        for (size_t i = 0; i < n; i++) {
            r->inst[i].inst_code = codes[i];
            r->inst[i].name = names[i];
        }
        free(codes), free(names);
        codes = names = NULL;
        if ((st = read_u8(g, "kind", n, u8)) == MS_OK) MS_H5_SCATTER(r->inst, n, kind, u8);
    }
    if (st == MS_OK && (st = read_u8(g, "level", n, u8)) == MS_OK) MS_H5_SCATTER(r->inst, n, level, u8);
    if (st == MS_OK && (st = read_u8(g, "ownership", n, u8)) == MS_OK) MS_H5_SCATTER(r->inst, n, ownership, u8);
    if (st == MS_OK && (st = read_num(g, "region", n, H5T_NATIVE_INT32, i32)) == MS_OK)
        MS_H5_SCATTER(r->inst, n, region, i32);
    if (st == MS_OK && (st = read_num(g, "beds", n, H5T_NATIVE_INT32, i32)) == MS_OK)
        MS_H5_SCATTER(r->inst, n, beds, i32);
    for (size_t i = 0; codes && i < n; i++) free(codes[i]);
    for (size_t i = 0; names && i < n; i++) free(names[i]);
    free(codes), free(names), free(u8), free(i32);
    H5Gclose(g);
    return st;
}

static ms_status_t read_groups(hid_t f, ms_refs_t *r)
{
    hid_t g = H5Gopen2(f, "groups", H5P_DEFAULT);
    if (g < 0) return ms_error_set(MS_E_SCHEMA, "group /groups is missing");
    size_t n = SIZE_MAX;
    char **codes = NULL, **fam = NULL, **mdc = NULL;
    ms_status_t st = ms_h5_read_strings(g, "group_code", &n, &codes);
    if (st == MS_OK) st = ms_h5_read_strings(g, "family", &n, &fam);
    if (st == MS_OK) st = ms_h5_read_strings(g, "mdc", &n, &mdc);
    size_t m = n == SIZE_MAX || n == 0 ? 1 : n;
    uint8_t *u8 = malloc(m);
    float *f32 = malloc(m * sizeof *f32);
    int64_t *i64 = malloc(m * sizeof *i64);
    if (st == MS_OK) {
        r->groups = calloc(m, sizeof *r->groups);
        if (!r->groups || !u8 || !f32 || !i64) st = ms_error_set(MS_E_NOMEM, "out of memory");
        else r->n_groups = n;
    }
    if (st == MS_OK) {
        for (size_t i = 0; i < n; i++) {
            r->groups[i].group_code = codes[i];
            r->groups[i].family = fam[i];
            r->groups[i].mdc = mdc[i][0];
            free(mdc[i]);
        }
        free(codes), free(fam), free(mdc);
        codes = fam = mdc = NULL;
        if ((st = read_u8(g, "severity", n, u8)) == MS_OK) MS_H5_SCATTER(r->groups, n, severity, u8);
    }
    if (st == MS_OK && (st = read_num(g, "weight", n, H5T_NATIVE_FLOAT, f32)) == MS_OK)
        MS_H5_SCATTER(r->groups, n, weight, f32);
    if (st == MS_OK && (st = read_u8(g, "surgical", n, u8)) == MS_OK) MS_H5_SCATTER(r->groups, n, surgical, u8);
    if (st == MS_OK && (st = read_num(g, "expected_los", n, H5T_NATIVE_FLOAT, f32)) == MS_OK)
        MS_H5_SCATTER(r->groups, n, expected_los, f32);
    if (st == MS_OK && (st = read_num(g, "mean_cost", n, H5T_NATIVE_INT64, i64)) == MS_OK)
        MS_H5_SCATTER(r->groups, n, mean_cost, i64);
    for (size_t i = 0; codes && i < n; i++) free(codes[i]);
    for (size_t i = 0; fam && i < n; i++) free(fam[i]);
    for (size_t i = 0; mdc && i < n; i++) free(mdc[i]);
    free(codes), free(fam), free(mdc), free(u8), free(f32), free(i64);
    H5Gclose(g);
    return st;
}

static ms_status_t read_dict(hid_t f, const char *name, ms_dict_t *d)
{
    size_t n = SIZE_MAX;
    MS_TRY(ms_h5_read_strings(f, name, &n, &d->str));
    d->count = n;
    for (size_t i = 1; i < n; i++)
        if (strcmp(d->str[i - 1], d->str[i]) >= 0)
            return ms_error_set(MS_E_CORRUPT, "dictionary %s is not sorted at entry %zu", name, i);
    return MS_OK;
}

static ms_status_t read_ref_file(const char *dir, const char *name, ms_refs_t *r, int which,
                                 uint64_t *stored)
{
    char *path = ms_path_join(dir, name);
    if (!path) return ms_error_set(MS_E_NOMEM, "out of memory");
    hid_t f;
    ms_status_t st = ms_h5_open_stamped(path, &f, stored);
    if (st == MS_OK && which == 0) st = read_institutions(f, r);
    if (st == MS_OK && which == 1) st = read_groups(f, r);
    if (st == MS_OK && which == 1) st = read_dict(f, "diagnoses", &r->diagnoses);
    if (st == MS_OK && which == 1) st = read_dict(f, "procedures", &r->procedures);
    if (st == MS_OK && which == 1) st = read_dict(f, "drugs", &r->drugs);
    /* Absent: a dataset without bill lines (or written before they existed). */
    if (st == MS_OK && which == 1 && H5Lexists(f, "items", H5P_DEFAULT) > 0) st = read_dict(f, "items", &r->items);
    if (f >= 0) H5Fclose(f);
    if (st != MS_OK) ms_error_wrap(st, "%s: ", path);
    free(path);
    return st;
}

typedef struct {
    const char *dir, *name;
    int which;
} ref_probe_t;

/* In the child: read one reference file and send what it holds back. */
static ms_status_t ref_probe_fn(void *arg, ms_buf_t *reply)
{
    const ref_probe_t *a = arg;
    ms_refs_t r;
    memset(&r, 0, sizeof r);
    uint64_t sum = 0;
    ms_status_t st = read_ref_file(a->dir, a->name, &r, a->which, &sum);
    if (st == MS_OK) st = ms_refs_pack(&r, a->which, sum, reply);
    ms_refs_free(&r);
    return st;
}

ms_status_t ms_refs_read(const char *dir, ms_refs_t *r)
{
    memset(r, 0, sizeof *r);
    MS_TRY(ms_h5_init());
    /* Damaged metadata can crash libhdf5 itself: each file is read in a
     * child (ms_probe_read), which dies instead of this process, and sends
     * back what it read (ms_refs_pack.h). */
    static const char *const names[2] = {"institutions.h5", "groups.h5"};
    uint64_t sums[2] = {0, 0};
    ms_status_t st = MS_OK;
    for (int which = 0; st == MS_OK && which < 2; which++) {
        ref_probe_t a = {dir, names[which], which};
        char *path = ms_path_join(dir, names[which]);
        if (!path) {
            st = ms_error_set(MS_E_NOMEM, "out of memory");
            break;
        }
        ms_buf_t bytes = {0};
        st = ms_probe_read(path, ref_probe_fn, &a, &bytes); /* the detail names the file */
        if (st == MS_OK) st = ms_refs_unpack(bytes.data, bytes.len, which, r, &sums[which]);
        if (st != MS_OK && !strstr(ms_error_detail(), path)) ms_error_wrap(st, "%s: ", path);
        ms_buf_free(&bytes);
        free(path);
    }
    if (st == MS_OK) {
        ms_refs_compute_checksums(r, &r->inst_checksum, &r->groups_checksum);
        if (r->inst_checksum != sums[0])
            st = ms_error_set(MS_E_CORRUPT, "%s/institutions.h5: content does not match its checksum", dir);
        else if (r->groups_checksum != sums[1])
            st = ms_error_set(MS_E_CORRUPT, "%s/groups.h5: content does not match its checksum", dir);
    }
    if (st != MS_OK) ms_refs_free(r);
    return st;
}

void ms_refs_free(ms_refs_t *r)
{
    for (size_t i = 0; i < r->n_inst; i++) {
        free(r->inst[i].inst_code);
        free(r->inst[i].name);
    }
    free(r->inst);
    for (size_t i = 0; i < r->n_groups; i++) {
        free(r->groups[i].group_code);
        free(r->groups[i].family);
    }
    free(r->groups);
    ms_dict_free(&r->diagnoses);
    ms_dict_free(&r->procedures);
    ms_dict_free(&r->drugs);
    ms_dict_free(&r->items);
    memset(r, 0, sizeof *r);
}
