/*
 * ms_features.c - features.h5 (ms_features.h; the layout and every
 * attribute in docs/models.md, "features.h5").
 *
 * Every dataset is written with its attributes by one table of meanings
 * below, so that the file and the docs say the same: a new dataset without
 * a unit and a description cannot be written.
 */
#include "ms_features.h"

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ms_fs.h"
#include "ms_h5util.h"

#define INST "/institutions/inst_code"
#define IND "/indicators/name"
#define MODEL "/models/name"

/* What a reader needs to know about one dataset: its attributes. */
typedef struct {
    const char *unit, *description;
    const char *rows;    /* the dataset that labels its rows */
    const char *columns; /* ... and its columns (a matrix; NULL: a vector) */
} meaning_t;

/* A variable-length UTF-8 string attribute: h5py reads it as str (a
 * fixed-length one comes back as bytes). */
static ms_status_t attr_str(hid_t obj, const char *owner, const char *name, const char *value)
{
    const char *v = value ? value : "";
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = a < 0 ? -1 : H5Awrite(a, t, &v);
    ms_status_t st = MS_OK;
    if (rc < 0) {
        char what[160];
        snprintf(what, sizeof what, "attribute %s of %s", name, owner);
        st = ms_h5_write_error(what);
    }
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    H5Tclose(t);
    return st;
}

static ms_status_t put(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank, size_t d0, size_t d1,
                       const void *data, const meaning_t *m)
{
    hsize_t dims[2] = {d0, d1};
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    hid_t d = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    herr_t rc = d < 0 ? -1 : (d0 && (rank == 1 || d1) ? H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0);
    /* Before the next HDF5 call clears the reason (a full disk). */
    ms_status_t st = rc < 0 ? ms_h5_write_error(name) : MS_OK;
    if (st == MS_OK) st = attr_str(d, name, "unit", m->unit);
    if (st == MS_OK) st = attr_str(d, name, "description", m->description);
    if (st == MS_OK) st = attr_str(d, name, "rows", m->rows);
    if (st == MS_OK && m->columns) st = attr_str(d, name, "columns", m->columns);
    if (d >= 0) H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    return st;
}

/* A [n x J] dataset from J columns of n cells (elem bytes each), written
 * a block of rows at a time through a buffer of about 1 MiB. */
static ms_status_t put_columns(hid_t loc, const char *name, hid_t ftype, hid_t mtype, size_t elem, size_t n,
                               size_t J, const void *const *cols, const meaning_t *m)
{
    hsize_t dims[2] = {n, J};
    hid_t space = H5Screate_simple(2, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    hid_t d = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    size_t rows = n && J ? ((size_t)1 << 20) / (J * elem) : 0;
    if (rows < 1) rows = 1;
    if (rows > n) rows = n;
    unsigned char *buf = rows ? malloc(rows * J * elem) : NULL;
    herr_t rc = d < 0 ? -1 : 0;
    ms_status_t st = rows && !buf ? ms_error_set(MS_E_NOMEM, "out of memory") : MS_OK;
    for (size_t r0 = 0; st == MS_OK && rc >= 0 && r0 < n && J; r0 += rows) {
        size_t b = n - r0 < rows ? n - r0 : rows;
        /* A column at a time (read in a row), each cell a copy of a size
         * the compiler knows for the common ones: a memcpy call per cell
         * was a third of this file's instructions. */
        for (size_t j = 0; j < J; j++) {
            const unsigned char *src = (const unsigned char *)cols[j] + r0 * elem;
            unsigned char *dst = buf + j * elem;
            size_t stride = J * elem;
            if (elem == 8)
                for (size_t i = 0; i < b; i++) memcpy(dst + i * stride, src + i * 8, 8);
            else if (elem == 1)
                for (size_t i = 0; i < b; i++) dst[i * stride] = src[i];
            else
                for (size_t i = 0; i < b; i++) memcpy(dst + i * stride, src + i * elem, elem);
        }
        hsize_t start[2] = {r0, 0}, count[2] = {b, J};
        hid_t mem = H5Screate_simple(2, count, NULL);
        rc = mem < 0 ? -1 : H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL);
        if (rc >= 0) rc = H5Dwrite(d, mtype, mem, space, H5P_DEFAULT, buf);
        if (mem >= 0) H5Sclose(mem);
    }
    /* Before the next HDF5 call clears the reason (a full disk). */
    if (st == MS_OK && rc < 0) st = ms_h5_write_error(name);
    if (st == MS_OK) st = attr_str(d, name, "unit", m->unit);
    if (st == MS_OK) st = attr_str(d, name, "description", m->description);
    if (st == MS_OK) st = attr_str(d, name, "rows", m->rows);
    if (st == MS_OK && m->columns) st = attr_str(d, name, "columns", m->columns);
    free(buf);
    if (d >= 0) H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    return st;
}

static ms_status_t put_strings(hid_t loc, const char *name, size_t n, const char *const *s, const meaning_t *m)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    ms_status_t st = put(loc, name, t, t, 1, n, 0, s, m);
    H5Tclose(t);
    return st;
}

/* An enum of int32 codes on base (the file's little-endian type, or the
 * native one for memory): HDF5 converts between the two by name. */
static hid_t code_enum(hid_t base, int n, const char *const *names, const int32_t *codes)
{
    hid_t t = H5Tenum_create(base);
    for (int k = 0; t >= 0 && k < n; k++) {
        int32_t v = codes[k];
        H5Tenum_insert(t, names[k], &v);
    }
    return t;
}

/* An int32 enum column whose every value has a name (an unnamed one would
 * be converted to a wrong name silently). */
static ms_status_t put_codes(hid_t loc, const char *name, size_t n, const int32_t *v, int ncodes,
                             const char *const *names, const int32_t *codes, const meaning_t *m)
{
    for (size_t i = 0; i < n; i++) {
        int k = 0;
        while (k < ncodes && codes[k] != v[i]) k++;
        if (k == ncodes) return ms_error_set(MS_E_INTERNAL, "%s %ld of entry %zu has no name", name, (long)v[i], i);
    }
    hid_t ft = code_enum(H5T_STD_I32LE, ncodes, names, codes), mt = code_enum(H5T_NATIVE_INT32, ncodes, names, codes);
    ms_status_t st = ft < 0 || mt < 0 ? ms_error_set(MS_E_HDF5, "cannot make the type of %s", name)
                                      : put(loc, name, ft, mt, 1, n, 0, v, m);
    if (ft >= 0) H5Tclose(ft);
    if (mt >= 0) H5Tclose(mt);
    return st;
}

static const char *const kind_names[] = MS_FEATURES_KIND_NAMES;
static const int32_t kind_codes[] = {0, 1, 2};
static const char *const direction_names[] = {MS_FEATURES_DIRECTION_LOWER, MS_FEATURES_DIRECTION_HIGHER};
static const int32_t direction_codes[] = {-1, 1};

#define VALUE_UNIT "numerator / denominator: a share 0..1 (kind share), a ratio of the amounts (kind ratio)"

static const meaning_t m_inst_code = {"none", "the institution's code (institutions.h5 inst_code)", INST, NULL};
static const meaning_t m_peer_group = {
    "group number", "its peer group, numbered from 0 in the order of (kind, tier, province)", INST, NULL};
static const meaning_t m_ind_name = {"none", "model.indicator", IND, NULL};
static const meaning_t m_ind_description = {
    "none", "what the indicator's numerator and denominator count, and in which units", IND, NULL};
static const meaning_t m_kind = {
    "enum", "how the scoring reads the indicator: share (numerator = records flagged, denominator = records "
            "that could be) or ratio (both amounts); info (0, never scored) does not appear", IND, NULL};
static const meaning_t m_direction = {
    "enum", "higher (+1): a value above the peers' is suspicious; lower (-1): one below", IND, NULL};
static const meaning_t m_no_signal = {
    "flag 0/1", "1: the indicator flags nothing anywhere or does not vary among the reported institutions "
                "(every z is 0)", IND, NULL};
static const meaning_t m_model_name = {"none", "the model's name", MODEL, NULL};
static const meaning_t m_model_weight = {"weight", "the model's configured weight in overall", MODEL, NULL};
static const meaning_t m_model_score = {
    "score >= 0", "the model's score: the weighted sum of its credible strengths (min(1, score) enters overall)",
    INST, MODEL};
static const meaning_t m_mats[] = {
    {"count or amount, as /indicators/description says", "the indicator's numerator (as indicators.csv)", INST,
     IND},
    {"count or amount, as /indicators/description says", "the indicator's denominator (as indicators.csv)", INST,
     IND},
    {VALUE_UNIT, "numerator / denominator; 0 where the denominator is 0", INST, IND},
    {VALUE_UNIT, "what the peers predict: their pooled value without the institution shrunk toward all others', "
                 "the model's expectation where it standardises, or the limit of the possible",
     INST, IND},
    {"robust deviations, 0..z_cap", "one-sided robust deviation from the peers; 0 where not reported, not "
                                    "material or not suspicious",
     INST, IND},
    {"percent 0..100", "where the value stands among the other reported institutions of its peer group: the "
                       "share below it, ties counting half, x 100 (a value the whole group shares is 50); 0 where "
                       "not reported",
     INST, IND},
    {"flag 0/1", "1: enough records behind the cell (min_denominator); 0: not reported, z is 0", INST, IND},
};
static const meaning_t m_vecs[] = {
    {"score 0..1", "the deviation combined over the models (D)", INST, NULL},
    {MS_FEATURES_MONEY_UNIT, "fund payment of the records behind its credible deviations, each record once", INST,
     NULL},
    {MS_FEATURES_MONEY_UNIT, "of suspicious_yuan, the share the peers do not explain", INST, NULL},
    {"score 0..1", "the order of ranked.csv (the strength of the credible evidence, = overall)", INST, NULL},
};

#define LAYOUT                                                                                                   \
    "one row per institution (" INST "), the row order of every dataset of n_inst rows; the columns of "       \
    "numerator, denominator, value, peer_value, z, percentile and reported are " IND ", of model_score " MODEL \
    "; C order; each dataset's attributes unit, description, rows and columns say so"

ms_status_t ms_features_write(const char *path, const ms_features_t *f)
{
    MS_TRY(ms_h5_init());
    size_t n = f->refs->n_inst, J = f->nind, M = f->nmodels;
    size_t plen = strlen(path) + 32;
    char *tmp = malloc(plen);
    const char **codes = malloc((n ? n : 1) * sizeof *codes);
    /* Without descriptions, empty ones (the layout stays the same). */
    const char **blank = f->ind_description ? NULL : calloc(J ? J : 1, sizeof *blank);
    if (!tmp || !codes || (!f->ind_description && !blank)) {
        free(tmp), free(codes), free(blank);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    snprintf(tmp, plen, "%s.tmp.%ld", path, (long)getpid());
    for (size_t i = 0; i < n; i++) codes[i] = f->refs->inst[i].inst_code;
    for (size_t j = 0; blank && j < J; j++) blank[j] = "";
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
        st = attr_str(file, "/", "medsweep_version", f->version);
        if (st == MS_OK) st = attr_str(file, "/", "config_hash", f->config_hash);
        if (st == MS_OK) st = attr_str(file, "/", "money_unit", MS_FEATURES_MONEY_UNIT);
        if (st == MS_OK) st = attr_str(file, "/", "layout", LAYOUT);
        hid_t g = ms_h5_group_create(file, "institutions");
        if (st == MS_OK) st = put_strings(g, "inst_code", n, codes, &m_inst_code);
        if (st == MS_OK)
            st = put(g, "peer_group", H5T_STD_U32LE, H5T_NATIVE_UINT32, 1, n, 0, f->peer, &m_peer_group);
        H5Gclose(g);
        g = ms_h5_group_create(file, "indicators");
        if (st == MS_OK) st = put_strings(g, "name", J, f->ind_name, &m_ind_name);
        if (st == MS_OK) st = put_strings(g, "description", J, blank ? blank : f->ind_description, &m_ind_description);
        if (st == MS_OK) st = put_codes(g, "kind", J, f->ind_kind, 3, kind_names, kind_codes, &m_kind);
        if (st == MS_OK)
            st = put_codes(g, "direction", J, f->ind_direction, 2, direction_names, direction_codes, &m_direction);
        if (st == MS_OK)
            st = put(g, "no_signal", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, J, 0, f->no_signal, &m_no_signal);
        H5Gclose(g);
        g = ms_h5_group_create(file, "models");
        if (st == MS_OK) st = put_strings(g, "name", M, f->model_name, &m_model_name);
        if (st == MS_OK)
            st = put(g, "weight", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, M, 0, f->model_weight, &m_model_weight);
        H5Gclose(g);
        const struct {
            const char *name;
            hid_t ft, mt;
            size_t elem;
            const void *const *cols;
        } mats[] = {
            {"numerator", H5T_STD_I64LE, H5T_NATIVE_INT64, 8, (const void *const *)f->num},
            {"denominator", H5T_STD_I64LE, H5T_NATIVE_INT64, 8, (const void *const *)f->den},
            {"value", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 8, (const void *const *)f->value},
            {"peer_value", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 8, (const void *const *)f->peer_value},
            {"z", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 8, (const void *const *)f->z},
            {"percentile", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 8, (const void *const *)f->percentile},
            {"reported", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, (const void *const *)f->reported},
        };
        _Static_assert(sizeof mats / sizeof *mats == sizeof m_mats / sizeof *m_mats, "a meaning for every matrix");
        for (size_t k = 0; st == MS_OK && k < sizeof mats / sizeof *mats; k++)
            st = put_columns(file, mats[k].name, mats[k].ft, mats[k].mt, mats[k].elem, n, J, mats[k].cols,
                             &m_mats[k]);
        if (st == MS_OK)
            st = put(file, "model_score", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, n, M, f->model_score, &m_model_score);
        const struct {
            const char *name;
            const double *data;
        } vecs[] = {{"overall", f->overall}, {"suspicious_yuan", f->suspicious}, {"recovery_yuan", f->recovery},
                    {"priority", f->priority}};
        _Static_assert(sizeof vecs / sizeof *vecs == sizeof m_vecs / sizeof *m_vecs, "a meaning for every vector");
        for (size_t k = 0; st == MS_OK && k < sizeof vecs / sizeof *vecs; k++)
            st = put(file, vecs[k].name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, n, 0, vecs[k].data, &m_vecs[k]);
        if (H5Fclose(file) < 0 && st == MS_OK) st = ms_h5_write_error("its metadata");
    }
    /* "cannot write OUT/features.h5: dataset z: No space left on device" */
    if (st != MS_OK && !strstr(ms_error_detail(), tmp)) ms_error_wrap(st, "%s: ", path);
    if (st == MS_OK) st = ms_fsync_path(tmp);
    if (st == MS_OK) st = ms_rename(tmp, path);
    if (st != MS_OK) unlink(tmp);
    free(tmp);
    free(codes);
    free(blank);
    return st;
}
