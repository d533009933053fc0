#include "ms_features.h"

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ms_fs.h"
#include "ms_h5util.h"

static ms_status_t put(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank, size_t d0, size_t d1,
                       const void *data)
{
    hsize_t dims[2] = {d0, d1};
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    hid_t d = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    herr_t rc = d < 0 ? -1 : (d0 && (rank == 1 || d1) ? H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0);
    /* Before the next HDF5 call clears the reason (a full disk). */
    ms_status_t st = rc < 0 ? ms_h5_write_error(name) : MS_OK;
    if (d >= 0) H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    return st;
}

static ms_status_t put_strings(hid_t loc, const char *name, size_t n, const char *const *s)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    ms_status_t st = put(loc, name, t, t, 1, n, 0, s);
    H5Tclose(t);
    return st;
}

ms_status_t ms_features_write(const char *path, const ms_features_t *f)
{
    MS_TRY(ms_h5_init());
    size_t n = f->refs->n_inst, J = f->nind, M = f->nmodels;
    size_t plen = strlen(path) + 32;
    char *tmp = malloc(plen);
    const char **codes = malloc((n ? n : 1) * sizeof *codes);
    if (!tmp || !codes) {
        free(tmp), free(codes);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    snprintf(tmp, plen, "%s.tmp.%ld", path, (long)getpid());
    for (size_t i = 0; i < n; i++) codes[i] = f->refs->inst[i].inst_code;
    hid_t fapl = ms_h5_fapl();
    hid_t file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    /* HDF5 keeps the reason (a full disk) on its error stack, which the
     * next call into HDF5 clears. */
    int err = file < 0 ? ms_h5_errno() : 0;
    H5Pclose(fapl);
    ms_status_t st = file >= 0 ? MS_OK
                     : err    ? ms_error_errno(MS_E_IO, err, "cannot create %s", tmp)
                              : ms_error_set(MS_E_IO, "cannot create %s", tmp);
    if (st == MS_OK) {
        hid_t g = ms_h5_group_create(file, "institutions");
        st = put_strings(g, "inst_code", n, codes);
        if (st == MS_OK) st = put(g, "peer_group", H5T_STD_U32LE, H5T_NATIVE_UINT32, 1, n, 0, f->peer);
        H5Gclose(g);
        g = ms_h5_group_create(file, "indicators");
        if (st == MS_OK) st = put_strings(g, "name", J, f->ind_name);
        if (st == MS_OK) st = put(g, "kind", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, J, 0, f->ind_kind);
        if (st == MS_OK) st = put(g, "direction", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, J, 0, f->ind_direction);
        if (st == MS_OK) st = put(g, "no_signal", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, J, 0, f->no_signal);
        H5Gclose(g);
        g = ms_h5_group_create(file, "models");
        if (st == MS_OK) st = put_strings(g, "name", M, f->model_name);
        if (st == MS_OK) st = put(g, "weight", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, M, 0, f->model_weight);
        H5Gclose(g);
        const struct {
            const char *name;
            hid_t ft, mt;
            const void *data;
        } mats[] = {
            {"numerator", H5T_STD_I64LE, H5T_NATIVE_INT64, f->num},
            {"denominator", H5T_STD_I64LE, H5T_NATIVE_INT64, f->den},
            {"value", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, f->value},
            {"peer_value", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, f->peer_value},
            {"z", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, f->z},
            {"percentile", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, f->percentile},
            {"reported", H5T_STD_U8LE, H5T_NATIVE_UINT8, f->reported},
        };
        for (size_t k = 0; st == MS_OK && k < sizeof mats / sizeof *mats; k++)
            st = put(file, mats[k].name, mats[k].ft, mats[k].mt, 2, n, J, mats[k].data);
        if (st == MS_OK) st = put(file, "model_score", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, n, M, f->model_score);
        const struct {
            const char *name;
            const double *data;
        } vecs[] = {{"overall", f->overall}, {"suspicious_yuan", f->suspicious}, {"recovery_yuan", f->recovery},
                    {"priority", f->priority}};
        for (size_t k = 0; st == MS_OK && k < sizeof vecs / sizeof *vecs; k++)
            st = put(file, vecs[k].name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, n, 0, vecs[k].data);
        if (H5Fclose(file) < 0 && st == MS_OK) st = ms_h5_write_error("its metadata");
    }
    /* "cannot write OUT/features.h5: dataset z: No space left on device" */
    if (st != MS_OK && !strstr(ms_error_detail(), tmp)) ms_error_wrap(st, "%s: ", path);
    if (st == MS_OK) st = ms_fsync_path(tmp);
    if (st == MS_OK) st = ms_rename(tmp, path);
    if (st != MS_OK) unlink(tmp);
    free(tmp);
    free(codes);
    return st;
}
