#include "ms_h5util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ms_codec.h"

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
