#include "ms_h5util.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ms_codec.h"
#include "ms_fs.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static ms_status_t init_status = MS_OK;

static void h5_init_once(void)
{
    /* Files are always closed by us; HDF5's own exit handler would crash on
     * a file whose close failed (a full disk).  Must precede H5open. */
    H5dont_atexit();
    if (H5open() < 0) {
        init_status = MS_E_HDF5;
        return;
    }
    init_status = ms_codec_register_h5_filter();
}

ms_status_t ms_h5_init(void)
{
    /* HDF5's error stacks are per thread in a thread-safe build: automatic
     * printing must be switched off in every thread that calls HDF5. */
    static _Thread_local int thread_ready;
    pthread_once(&init_once, h5_init_once);
    if (init_status != MS_OK) return ms_error_set(init_status, "cannot initialise HDF5");
    if (!thread_ready) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        thread_ready = 1;
    }
    return MS_OK;
}

static herr_t find_errno(unsigned n, const H5E_error2_t *e, void *data)
{
    (void)n;
    int *err = data;
    const char *at = e->desc ? strstr(e->desc, "errno = ") : NULL;
    if (at && !*err) *err = atoi(at + 8);
    return 0;
}

int ms_h5_errno(void)
{
    int err = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, find_errno, &err);
    return err > 0 ? err : 0;
}

ms_status_t ms_h5_write_error(const char *what)
{
    int err = ms_h5_errno();
    if (err) return ms_error_errno(MS_E_IO, err, "cannot write %s", what);
    return ms_error_set(MS_E_HDF5, "cannot write %s", what);
}

hid_t ms_h5_fapl(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    /* Oldest format that has what we use: readable by every HDF5 1.8+. */
    H5Pset_libver_bounds(fapl, H5F_LIBVER_EARLIEST, H5F_LIBVER_V18);
    return fapl;
}

static ms_status_t attr_write(hid_t obj, const char *name, hid_t type, const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = attr < 0 ? -1 : H5Awrite(attr, type, value);
    if (attr >= 0) H5Aclose(attr);
    H5Sclose(space);
    if (rc < 0) return ms_error_set(MS_E_HDF5, "cannot write attribute %s", name);
    return MS_OK;
}

ms_status_t ms_h5_attr_write_str(hid_t obj, const char *name, const char *value)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, strlen(value) + 1);
    H5Tset_strpad(type, H5T_STR_NULLTERM);
    H5Tset_cset(type, H5T_CSET_UTF8);
    ms_status_t st = attr_write(obj, name, type, value);
    H5Tclose(type);
    return st;
}

ms_status_t ms_h5_attr_write_u64(hid_t obj, const char *name, uint64_t value)
{
    return attr_write(obj, name, H5T_STD_U64LE, &value);
}

ms_status_t ms_h5_attr_write_i64(hid_t obj, const char *name, int64_t value)
{
    return attr_write(obj, name, H5T_STD_I64LE, &value);
}

static hid_t attr_open(hid_t obj, const char *name)
{
    if (H5Aexists(obj, name) <= 0) return -1;
    return H5Aopen(obj, name, H5P_DEFAULT);
}

ms_status_t ms_h5_attr_read_str(hid_t obj, const char *name, char *out, size_t cap)
{
    hid_t attr = attr_open(obj, name);
    if (attr < 0) return ms_error_set(MS_E_SCHEMA, "attribute %s is missing", name);
    hid_t ftype = H5Aget_type(attr);
    ms_status_t st = MS_OK;
    if (H5Tget_class(ftype) != H5T_STRING || H5Tis_variable_str(ftype) > 0 ||
        H5Tget_size(ftype) >= cap) {
        st = ms_error_set(MS_E_SCHEMA, "attribute %s is not a short fixed-length string", name);
    } else {
        hid_t mtype = H5Tcopy(H5T_C_S1);
        H5Tset_size(mtype, cap);
        H5Tset_strpad(mtype, H5T_STR_NULLTERM);
        H5Tset_cset(mtype, H5Tget_cset(ftype));
        memset(out, 0, cap);
        if (H5Aread(attr, mtype, out) < 0) st = ms_error_set(MS_E_HDF5, "cannot read attribute %s", name);
        H5Tclose(mtype);
    }
    H5Tclose(ftype);
    H5Aclose(attr);
    return st;
}

static ms_status_t attr_read_int(hid_t obj, const char *name, hid_t mtype, void *out)
{
    hid_t attr = attr_open(obj, name);
    if (attr < 0) return ms_error_set(MS_E_SCHEMA, "attribute %s is missing", name);
    hid_t ftype = H5Aget_type(attr);
    ms_status_t st = MS_OK;
    if (H5Tget_class(ftype) != H5T_INTEGER)
        st = ms_error_set(MS_E_SCHEMA, "attribute %s is not an integer", name);
    else if (H5Aread(attr, mtype, out) < 0)
        st = ms_error_set(MS_E_HDF5, "cannot read attribute %s", name);
    H5Tclose(ftype);
    H5Aclose(attr);
    return st;
}

ms_status_t ms_h5_attr_read_u64(hid_t obj, const char *name, uint64_t *value)
{
    return attr_read_int(obj, name, H5T_NATIVE_UINT64, value);
}

ms_status_t ms_h5_attr_read_i64(hid_t obj, const char *name, int64_t *value)
{
    return attr_read_int(obj, name, H5T_NATIVE_INT64, value);
}

hid_t ms_h5_column_type(ms_ctype_t t, const ms_enum_t *en)
{
    if (en) {
        hid_t e = H5Tenum_create(H5T_STD_U8LE);
        for (int i = 0; i < en->count; i++) {
            uint8_t v = (uint8_t)i;
            H5Tenum_insert(e, en->names[i], &v);
        }
        return e;
    }
    switch (t) {
    case MS_U8: return H5Tcopy(H5T_STD_U8LE);
    case MS_I32: return H5Tcopy(H5T_STD_I32LE);
    case MS_U32: return H5Tcopy(H5T_STD_U32LE);
    case MS_I64: return H5Tcopy(H5T_STD_I64LE);
    case MS_U64: return H5Tcopy(H5T_STD_U64LE);
    case MS_F32: return H5Tcopy(H5T_IEEE_F32LE);
    }
    return -1;
}

hid_t ms_h5_group_create(hid_t parent, const char *name)
{
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    H5Pset_obj_track_times(gcpl, 0);
    hid_t g = H5Gcreate2(parent, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    return g;
}

/* ------------------------------------------------- small whole tables */

hid_t ms_h5_str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

ms_status_t ms_h5_write_col(hid_t loc, const char *name, hid_t ftype, hid_t mtype, size_t n,
                            const void *data)
{
    hsize_t dims[1] = {n};
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    hid_t d = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    herr_t rc = d < 0 ? -1 : (n ? H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0);
    if (d >= 0) H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    if (rc < 0) return ms_error_set(MS_E_HDF5, "cannot write dataset %s", name);
    return MS_OK;
}

ms_status_t ms_h5_write_strings(hid_t loc, const char *name, size_t n, const char *const *s)
{
    hid_t t = ms_h5_str_type();
    ms_status_t st = ms_h5_write_col(loc, name, t, t, n, s);
    H5Tclose(t);
    return st;
}

hid_t ms_h5_open_col(hid_t loc, const char *name, size_t *n, ms_status_t *st)
{
    hid_t d = H5Lexists(loc, name, H5P_DEFAULT) > 0 ? H5Dopen2(loc, name, H5P_DEFAULT) : -1;
    if (d < 0) {
        *st = ms_error_set(MS_E_SCHEMA, "dataset %s is missing", name);
        return -1;
    }
    hid_t space = H5Dget_space(d);
    hsize_t dims[1] = {0};
    if (space < 0 || H5Sget_simple_extent_ndims(space) != 1)
        *st = ms_error_set(MS_E_SCHEMA, "%s is not 1-D", name);
    else H5Sget_simple_extent_dims(space, dims, NULL);
    if (space >= 0) H5Sclose(space);
    if (*st == MS_OK && *n != SIZE_MAX && dims[0] != *n)
        *st = ms_error_set(MS_E_SCHEMA, "%s has %llu rows, expected %zu", name,
                           (unsigned long long)dims[0], *n);
    if (*st == MS_OK && dims[0] >= UINT32_MAX)
        *st = ms_error_set(MS_E_CORRUPT, "%s has %llu rows", name, (unsigned long long)dims[0]);
    if (*st != MS_OK) {
        H5Dclose(d);
        return -1;
    }
    *n = (size_t)dims[0];
    return d;
}

void ms_h5_strings_free(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++) free(s[i]);
    free(s);
}

ms_status_t ms_h5_read_strings(hid_t loc, const char *name, size_t *n, char ***out)
{
    ms_status_t st = MS_OK;
    *out = NULL;
    hid_t d = ms_h5_open_col(loc, name, n, &st);
    if (d < 0) return st;
    hid_t ft = H5Dget_type(d);
    if (ft < 0 || H5Tget_class(ft) != H5T_STRING || H5Tis_variable_str(ft) <= 0)
        st = ms_error_set(MS_E_SCHEMA, "%s is not a column of text", name);
    if (ft >= 0) H5Tclose(ft);
    hid_t t = ms_h5_str_type();
    char **tmp = calloc(*n ? *n : 1, sizeof *tmp);
    char **res = calloc(*n ? *n : 1, sizeof *res);
    int got = 0;
    if (st == MS_OK && (!tmp || !res)) st = ms_error_set(MS_E_NOMEM, "out of memory");
    if (st == MS_OK && *n) {
        if (H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, tmp) < 0)
            st = ms_error_set(MS_E_CORRUPT, "cannot read %s", name);
        else got = 1;
    }
    for (size_t i = 0; st == MS_OK && i < *n; i++)
        if (!(res[i] = strdup(tmp[i] ? tmp[i] : ""))) st = ms_error_set(MS_E_NOMEM, "out of memory");
    if (got) {
        hid_t space = H5Dget_space(d);
        H5Dvlen_reclaim(t, space, H5P_DEFAULT, tmp);
        H5Sclose(space);
    }
    free(tmp);
    H5Tclose(t);
    H5Dclose(d);
    if (st != MS_OK) {
        ms_h5_strings_free(res, *n);
        return st;
    }
    *out = res;
    return MS_OK;
}

ms_status_t ms_h5_write_file(const char *path, ms_h5_fill_fn fill, const void *arg)
{
    size_t plen = strlen(path) + 32;
    char *tmp = malloc(plen);
    if (!tmp) return ms_error_set(MS_E_NOMEM, "out of memory");
    snprintf(tmp, plen, "%s.tmp.%ld", path, (long)getpid());
    ms_status_t st = MS_OK;
    hid_t fapl = ms_h5_fapl();
    errno = 0;
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f < 0) {
        st = errno ? ms_error_errno(MS_E_IO, errno, "cannot create %s", tmp)
                   : ms_error_set(MS_E_HDF5, "cannot create %s", tmp);
    } else {
        st = fill(f, arg);
        if (H5Fclose(f) < 0 && st == MS_OK) st = ms_h5_write_error(tmp);
    }
    if (st == MS_OK) st = ms_fsync_path(tmp);
    if (st == MS_OK) st = ms_rename(tmp, path);
    if (st != MS_OK) {
        unlink(tmp);
        ms_error_wrap(st, "%s: ", path);
    }
    free(tmp);
    return st;
}

ms_status_t ms_h5_write_checksum(hid_t root, uint64_t sum)
{
    char text[20];
    snprintf(text, sizeof text, "%016" PRIx64, sum);
    return ms_h5_attr_write_str(root, "content_checksum", text);
}

ms_status_t ms_h5_open_stamped(const char *path, hid_t *f, uint64_t *sum)
{
    *f = -1;
    if (!ms_path_exists(path)) return ms_error_set(MS_E_IO, "file is missing");
    if ((*f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0)
        return ms_error_set(MS_E_CORRUPT, "not a readable HDF5 file (truncated or damaged)");
    char text[32];
    int64_t ver = 0;
    hid_t root = H5Gopen2(*f, "/", H5P_DEFAULT);
    ms_status_t st = ms_h5_attr_read_i64(root, "schema_version", &ver);
    if (st == MS_OK && ver != MS_SCHEMA_VERSION)
        st = ms_error_set(MS_E_SCHEMA, "schema version %lld, this medsweep reads %d", (long long)ver,
                          MS_SCHEMA_VERSION);
    if (st == MS_OK) st = ms_h5_attr_read_str(root, "content_checksum", text, sizeof text);
    if (st == MS_OK) *sum = strtoull(text, NULL, 16);
    if (root >= 0) H5Gclose(root);
    if (st != MS_OK) {
        H5Fclose(*f);
        *f = -1;
    }
    return st;
}
