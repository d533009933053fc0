/*
 * ms_part.c - partition files.
 *
 * Writing encodes every chunk in the calling thread (shuffle, LZ4,
 * Fletcher32; ms_codec.c) and hands the bytes to H5Dwrite_chunk, so the
 * HDF5 lock is held only to store them: several threads write several
 * partitions in parallel.  Reading learns every chunk's address and size once
 * at open (H5Dget_chunk_info_by_coord) and afterwards needs HDF5 only in
 * MS_READ_H5 mode; the default pread mode takes no lock at all.
 */
#include "ms_part.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ms_codec.h"
#include "ms_fs.h"
#include "ms_h5util.h"
#include "ms_probe.h"

#define CODEC_NAME "shuffle+lz4(32004)+fletcher32"

/* ---------------------------------------------------------------- writing */

/* Where the values of a column come from: whole columns or row structs. */
typedef struct {
    const void *const *cols;  /* column arrays, or NULL */
    const unsigned char *rows; /* row structs, or NULL */
    size_t row_size;
} col_source_t;

static void gather(const col_source_t *src, const ms_column_t *col, int c, size_t r0, size_t n,
                   unsigned char *dst)
{
    size_t es = ms_ctype_size(col->type);
    if (src->cols) {
        memcpy(dst, (const unsigned char *)src->cols[c] + r0 * es, n * es);
        return;
    }
    const unsigned char *p = src->rows + r0 * src->row_size + col->offset;
    size_t rs = src->row_size;
    /* One fixed-size copy per element, not a memcpy call of a size known
     * only at run time (this loop was most of gen's time). */
    switch (es) {
    case 1:
        for (size_t i = 0; i < n; i++, p += rs) dst[i] = *p;
        break;
    case 2:
        for (size_t i = 0; i < n; i++, p += rs) memcpy(dst + i * 2, p, 2);
        break;
    case 4:
        for (size_t i = 0; i < n; i++, p += rs) memcpy(dst + i * 4, p, 4);
        break;
    case 8:
        for (size_t i = 0; i < n; i++, p += rs) memcpy(dst + i * 8, p, 8);
        break;
    default:
        for (size_t i = 0; i < n; i++, p += rs) memcpy(dst + i * es, p, es);
    }
}

static void date_range(const col_source_t *src, const ms_table_t *t, uint64_t rows,
                       int32_t *lo, int32_t *hi)
{
    const ms_column_t *col = &t->cols[t->date_col];
    *lo = 0;
    *hi = -1;
    for (uint64_t i = 0; i < rows; i++) {
        int32_t d;
        if (src->cols) d = ((const int32_t *)src->cols[t->date_col])[i];
        else memcpy(&d, src->rows + i * src->row_size + col->offset, sizeof d);
        if (i == 0 || d < *lo) *lo = d;
        if (i == 0 || d > *hi) *hi = d;
    }
}

static ms_status_t write_attrs(hid_t g, const ms_table_t *t, const ms_part_info_t *info)
{
    char lo[11] = "", hi[11] = "";
    if (info->rows > 0) {
        ms_date_format(info->min_date, lo);
        ms_date_format(info->max_date, hi);
    }
    MS_TRY(ms_h5_attr_write_i64(g, "schema_version", MS_SCHEMA_VERSION));
    MS_TRY(ms_h5_attr_write_str(g, "table", t->name));
    MS_TRY(ms_h5_attr_write_u64(g, "partition_index", info->index));
    MS_TRY(ms_h5_attr_write_u64(g, "partition_count", info->count));
    MS_TRY(ms_h5_attr_write_str(g, "hash_function", MS_HASH_NAME));
    MS_TRY(ms_h5_attr_write_u64(g, "row_count", info->rows));
    MS_TRY(ms_h5_attr_write_u64(g, "chunk_rows", info->chunk_rows));
    MS_TRY(ms_h5_attr_write_str(g, "min_date", lo));
    MS_TRY(ms_h5_attr_write_str(g, "max_date", hi));
    MS_TRY(ms_h5_attr_write_str(g, "reference_checksum", info->ref_checksum));
    MS_TRY(ms_h5_attr_write_str(g, "codec", CODEC_NAME));
    return MS_OK;
}

static ms_status_t write_column(hid_t g, const ms_table_t *t, int c, const col_source_t *src,
                                const ms_part_info_t *info, unsigned char *raw,
                                unsigned char *tmp, unsigned char *enc)
{
    const ms_column_t *col = &t->cols[c];
    size_t es = ms_ctype_size(col->type);
    hsize_t dims[1] = {info->rows}, maxdims[1] = {H5S_UNLIMITED}, chunk[1] = {info->chunk_rows};
    hid_t type = ms_h5_column_type(col->type, col->enumdef);
    hid_t space = H5Screate_simple(1, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, chunk);
    H5Pset_shuffle(dcpl);
    H5Pset_filter(dcpl, MS_H5Z_FILTER_LZ4, H5Z_FLAG_MANDATORY, 0, NULL);
    H5Pset_fletcher32(dcpl);
    H5Pset_obj_track_times(dcpl, 0);
    H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
    hid_t d = H5Dcreate2(g, col->name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    ms_status_t st = MS_OK;
    if (d < 0) st = ms_error_set(MS_E_HDF5, "cannot create dataset %s", col->name);
    for (uint64_t r0 = 0; st == MS_OK && r0 < info->rows; r0 += info->chunk_rows) {
        size_t n = info->rows - r0 < info->chunk_rows ? (size_t)(info->rows - r0) : info->chunk_rows;
        gather(src, col, c, (size_t)r0, n, raw);
        /* A chunk is always chunk_rows long; the tail of the last one is zero. */
        memset(raw + n * es, 0, (info->chunk_rows - n) * es);
        size_t len = ms_chunk_encode(raw, info->chunk_rows, es, tmp, enc);
        hsize_t off[1] = {r0};
        if (H5Dwrite_chunk(d, H5P_DEFAULT, 0, off, len, enc) < 0) {
            char what[200];
            snprintf(what, sizeof what, "chunk %llu of %s", (unsigned long long)(r0 / info->chunk_rows), col->name);
            st = ms_h5_write_error(what);
        }
    }
    if (d >= 0 && H5Dclose(d) < 0 && st == MS_OK) st = ms_h5_write_error(col->name);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Tclose(type);
    return st;
}

static ms_status_t part_write(const char *path, const ms_table_t *t, const col_source_t *src,
                              ms_part_info_t *info)
{
    MS_TRY(ms_h5_init());
    if (info->chunk_rows == 0) info->chunk_rows = MS_DEFAULT_CHUNK_ROWS;
    date_range(src, t, info->rows, &info->min_date, &info->max_date);

    size_t raw_bytes = (size_t)info->chunk_rows * 8;
    unsigned char *raw = malloc(raw_bytes), *tmp = malloc(raw_bytes);
    unsigned char *enc = malloc(ms_chunk_bound(raw_bytes));
    size_t plen = strlen(path) + 32;
    char *tmp_path = malloc(plen);
    if (!raw || !tmp || !enc || !tmp_path) {
        free(raw), free(tmp), free(enc), free(tmp_path);
        return ms_error_set(MS_E_NOMEM, "out of memory writing %s", path);
    }
    snprintf(tmp_path, plen, "%s.tmp.%ld", path, (long)getpid());

    ms_status_t st = MS_OK;
    hid_t fapl = ms_h5_fapl();
    hid_t f = H5Fcreate(tmp_path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f < 0) {
        int err = errno;
        st = err ? ms_error_errno(MS_E_IO, err, "cannot create %s", tmp_path)
                 : ms_error_set(MS_E_HDF5, "cannot create %s", tmp_path);
    } else {
        hid_t g = ms_h5_group_create(f, t->name);
        if (g < 0) st = ms_error_set(MS_E_HDF5, "cannot create group %s", t->name);
        if (st == MS_OK) st = write_attrs(g, t, info);
        for (int c = 0; st == MS_OK && c < t->ncols; c++)
            st = write_column(g, t, c, src, info, raw, tmp, enc);
        if (g >= 0) H5Gclose(g);
        if (H5Fclose(f) < 0 && st == MS_OK) st = ms_h5_write_error(tmp_path);
    }
    if (st == MS_OK) st = ms_fsync_path(tmp_path);
    if (st == MS_OK) st = ms_rename(tmp_path, path);
    if (st != MS_OK) {
        unlink(tmp_path);
        if (!strstr(ms_error_detail(), path)) ms_error_wrap(st, "%s: ", path);
    }
    free(raw), free(tmp), free(enc), free(tmp_path);
    return st;
}

ms_status_t ms_part_write(const char *path, const ms_table_t *t, const void *const *cols,
                          ms_part_info_t *info)
{
    col_source_t src = {cols, NULL, 0};
    return part_write(path, t, &src, info);
}

ms_status_t ms_part_write_rows(const char *path, const ms_table_t *t, const void *rows,
                               ms_part_info_t *info)
{
    col_source_t src = {NULL, rows, t->row_size};
    return part_write(path, t, &src, info);
}

/* ---------------------------------------------------------------- reading */

typedef struct {
    uint64_t addr;
    uint32_t size;
} chunk_loc_t;

struct ms_part {
    char *path;
    const ms_table_t *table;
    ms_part_info_t info;
    size_t nchunks;
    int fd;
    hid_t file;
    hid_t dset[MS_MAX_COLUMNS];
    chunk_loc_t *loc;          /* [col * nchunks + k] */
    size_t enc_cap;            /* largest acceptable encoded chunk */
};

void ms_part_close(ms_part_t *p)
{
    if (!p) return;
    for (int c = 0; c < MS_MAX_COLUMNS; c++)
        if (p->dset[c] > 0) H5Dclose(p->dset[c]);
    if (p->file > 0) H5Fclose(p->file);
    if (p->fd >= 0) close(p->fd);
    free(p->loc);
    free(p->path);
    free(p);
}

static ms_status_t check_column(ms_part_t *p, int c, uint64_t fsize)
{
    const ms_column_t *col = &p->table->cols[c];
    hid_t d = p->dset[c];
    hid_t type = H5Dget_type(d);
    hid_t space = H5Dget_space(d);
    hid_t dcpl = H5Dget_create_plist(d);
    ms_status_t st = MS_OK;
    H5T_class_t cls = H5Tget_class(type);
    H5T_class_t want = col->enumdef ? H5T_ENUM : col->type == MS_F32 ? H5T_FLOAT : H5T_INTEGER;
    hsize_t dims[1] = {0}, cdims[1] = {0};
    if (cls != want || H5Tget_size(type) != ms_ctype_size(col->type))
        st = ms_error_set(MS_E_SCHEMA, "column %s has the wrong type", col->name);
    else if (H5Sget_simple_extent_ndims(space) != 1 || H5Sget_simple_extent_dims(space, dims, NULL) < 0 ||
             dims[0] != p->info.rows)
        st = ms_error_set(MS_E_SCHEMA, "column %s has %llu rows, the table %llu", col->name,
                          (unsigned long long)dims[0], (unsigned long long)p->info.rows);
    else if (H5Pget_layout(dcpl) != H5D_CHUNKED || H5Pget_chunk(dcpl, 1, cdims) != 1 ||
             cdims[0] != p->info.chunk_rows)
        st = ms_error_set(MS_E_SCHEMA, "column %s is not chunked by %u rows", col->name,
                          p->info.chunk_rows);
    else if (H5Pget_nfilters(dcpl) != 3 ||
             H5Pget_filter2(dcpl, 0, NULL, NULL, NULL, 0, NULL, NULL) != H5Z_FILTER_SHUFFLE ||
             H5Pget_filter2(dcpl, 1, NULL, NULL, NULL, 0, NULL, NULL) != MS_H5Z_FILTER_LZ4 ||
             H5Pget_filter2(dcpl, 2, NULL, NULL, NULL, 0, NULL, NULL) != H5Z_FILTER_FLETCHER32)
        st = ms_error_set(MS_E_SCHEMA, "column %s does not use the filters " CODEC_NAME, col->name);
    for (size_t k = 0; st == MS_OK && k < p->nchunks; k++) {
        hsize_t off[1] = {(hsize_t)k * p->info.chunk_rows};
        unsigned mask = 0;
        haddr_t addr = 0;
        hsize_t size = 0;
        if (H5Dget_chunk_info_by_coord(d, off, &mask, &addr, &size) < 0 || addr == HADDR_UNDEF)
            st = ms_error_set(MS_E_CORRUPT, "column %s: chunk %zu is missing", col->name, k);
        else if (mask != 0)
            st = ms_error_set(MS_E_SCHEMA, "column %s: chunk %zu skips filters", col->name, k);
        else if (size > p->enc_cap || addr + size > fsize)
            st = ms_error_set(MS_E_CORRUPT,
                              "column %s: chunk %zu lies beyond the end of the file (truncated?)",
                              col->name, k);
        else p->loc[(size_t)c * p->nchunks + k] = (chunk_loc_t){addr, (uint32_t)size};
    }
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Tclose(type);
    return st;
}

static ms_status_t read_attrs(ms_part_t *p, hid_t g, const ms_refs_t *refs)
{
    int64_t ver;
    uint64_t idx, cnt, rows, crows;
    char table[64], lo[16], hi[16];
    MS_TRY(ms_h5_attr_read_i64(g, "schema_version", &ver));
    if (ver != MS_SCHEMA_VERSION)
        return ms_error_set(MS_E_SCHEMA, "schema version %lld, this medsweep reads version %d",
                            (long long)ver, MS_SCHEMA_VERSION);
    MS_TRY(ms_h5_attr_read_str(g, "table", table, sizeof table));
    if (strcmp(table, p->table->name) != 0)
        return ms_error_set(MS_E_SCHEMA, "holds table %s, expected %s", table, p->table->name);
    MS_TRY(ms_h5_attr_read_u64(g, "partition_index", &idx));
    MS_TRY(ms_h5_attr_read_u64(g, "partition_count", &cnt));
    MS_TRY(ms_h5_attr_read_u64(g, "row_count", &rows));
    MS_TRY(ms_h5_attr_read_u64(g, "chunk_rows", &crows));
    MS_TRY(ms_h5_attr_read_str(g, "min_date", lo, sizeof lo));
    MS_TRY(ms_h5_attr_read_str(g, "max_date", hi, sizeof hi));
    MS_TRY(ms_h5_attr_read_str(g, "reference_checksum", p->info.ref_checksum,
                               sizeof p->info.ref_checksum));
    if (cnt == 0 || idx >= cnt || crows == 0 || crows > (1u << 24))
        return ms_error_set(MS_E_CORRUPT, "attributes out of range (partition %llu of %llu, chunk_rows %llu)",
                            (unsigned long long)idx, (unsigned long long)cnt, (unsigned long long)crows);
    p->info.index = (uint32_t)idx;
    p->info.count = (uint32_t)cnt;
    p->info.rows = rows;
    p->info.chunk_rows = (uint32_t)crows;
    p->info.min_date = 0;
    p->info.max_date = -1;
    if (rows > 0 && (ms_date_parse(lo, strlen(lo), &p->info.min_date) ||
                     ms_date_parse(hi, strlen(hi), &p->info.max_date)))
        return ms_error_set(MS_E_CORRUPT, "min_date/max_date attributes are not dates");
    if (refs) {
        char want[40];
        ms_refs_checksum_text(refs, want);
        if (strcmp(want, p->info.ref_checksum) != 0)
            return ms_error_set(MS_E_MISMATCH,
                                "built against other reference files (partition records %s, "
                                "institutions.h5/groups.h5 have %s)",
                                p->info.ref_checksum, want);
    }
    return MS_OK;
}

ms_status_t ms_part_open(const char *path, const ms_table_t *t, const ms_refs_t *refs,
                         ms_part_t **out)
{
    *out = NULL;
    MS_TRY(ms_h5_init());
    ms_part_t *p = calloc(1, sizeof *p);
    if (!p) return ms_error_set(MS_E_NOMEM, "out of memory");
    p->fd = -1;
    p->table = t;
    p->path = strdup(path);
    ms_status_t st = MS_OK;
    struct stat sb;
    p->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (!p->path) st = ms_error_set(MS_E_NOMEM, "out of memory");
    else if (p->fd < 0 || fstat(p->fd, &sb) != 0) st = ms_error_errno(MS_E_IO, errno, "cannot open");
    if (st == MS_OK) {
        p->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (p->file < 0) st = ms_error_set(MS_E_CORRUPT, "not a readable HDF5 file (truncated or damaged)");
    }
    hid_t g = -1;
    if (st == MS_OK) {
        g = H5Gopen2(p->file, t->name, H5P_DEFAULT);
        if (g < 0) st = ms_error_set(MS_E_SCHEMA, "has no group /%s", t->name);
    }
    if (st == MS_OK) st = read_attrs(p, g, refs);
    if (st == MS_OK) {
        /* Every stored chunk takes at least 16 bytes (LZ4 header and
         * Fletcher32: ms_chunk_decode's shortest): a row count whose chunks
         * the file cannot hold is damage, refused before it sizes anything. */
        uint64_t crows = p->info.chunk_rows, nch = p->info.rows / crows + (p->info.rows % crows != 0);
        if (nch > (uint64_t)sb.st_size / 16 / (uint64_t)t->ncols)
            st = ms_error_set(MS_E_CORRUPT, "row_count %llu needs %llu chunks a column, more than %lld bytes hold",
                              (unsigned long long)p->info.rows, (unsigned long long)nch, (long long)sb.st_size);
    }
    if (st == MS_OK) {
        p->nchunks = (size_t)((p->info.rows + p->info.chunk_rows - 1) / p->info.chunk_rows);
        p->enc_cap = ms_chunk_bound((size_t)p->info.chunk_rows * 8);
        p->loc = calloc((size_t)t->ncols * (p->nchunks ? p->nchunks : 1), sizeof *p->loc);
        if (!p->loc) st = ms_error_set(MS_E_NOMEM, "out of memory");
    }
    for (int c = 0; st == MS_OK && c < t->ncols; c++) {
        p->dset[c] = H5Dopen2(g, t->cols[c].name, H5P_DEFAULT);
        if (p->dset[c] < 0) {
            p->dset[c] = 0;
            st = ms_error_set(MS_E_SCHEMA, "column %s is missing", t->cols[c].name);
        } else {
            st = check_column(p, c, (uint64_t)sb.st_size);
        }
    }
    if (g >= 0) H5Gclose(g);
    if (st != MS_OK) {
        ms_error_wrap(st, "%s: ", path);
        ms_part_close(p);
        return st;
    }
    *out = p;
    return MS_OK;
}

/* ---------------------------------------------------------------- probing */

/* What the child sends back. */
typedef struct {
    const char *path;
    const ms_table_t *t;
    const ms_refs_t *refs;
} part_probe_t;

/* In the child: ms_part_open as table t, or (t NULL, a file not yet known)
 * as every table, so that whichever the caller then opens it as has been
 * read once here; MS_OK when one opened. */
static ms_status_t part_probe_fn(void *arg, void *reply)
{
    const part_probe_t *a = arg;
    ms_status_t st = MS_E_SCHEMA;
    char why[1024] = "";
    for (int k = 0; k < MS_TABLE_COUNT; k++) {
        const ms_table_t *t = a->t ? a->t : ms_table((ms_table_id_t)k);
        ms_part_t *p = NULL;
        ms_status_t s = ms_part_open(a->path, t, a->refs, &p);
        if (s == MS_OK) {
            memcpy(reply, &p->info, sizeof p->info);
            ms_part_close(p);
            st = MS_OK;
        } else if (st != MS_OK) {
            st = s;
            snprintf(why, sizeof why, "%s", ms_error_detail());
        }
        if (a->t) break;
    }
    if (st != MS_OK) ms_error_set(st, "%s", why);
    return st;
}

ms_status_t ms_part_probe(const char *path, const ms_table_t *t, const ms_refs_t *refs, ms_part_info_t *info,
                          ms_probe_t *verdict, ms_status_t *open_st)
{
    part_probe_t a = {path, t, refs};
    ms_part_info_t got;
    ms_status_t st;
    MS_TRY(ms_probe_fork(path, part_probe_fn, &a, &got, sizeof got, verdict, &st));
    if (open_st) *open_st = st;
    if (*verdict == MS_PROBE_OPENED && info) *info = got;
    return MS_OK;
}

const ms_part_info_t *ms_part_info(const ms_part_t *p) { return &p->info; }
const char *ms_part_path(const ms_part_t *p) { return p->path; }
const ms_table_t *ms_part_table(const ms_part_t *p) { return p->table; }
size_t ms_part_nchunks(const ms_part_t *p) { return p->nchunks; }

size_t ms_part_chunk_nrows(const ms_part_t *p, size_t k)
{
    uint64_t r0 = (uint64_t)k * p->info.chunk_rows;
    if (r0 >= p->info.rows) return 0;
    uint64_t left = p->info.rows - r0;
    return left < p->info.chunk_rows ? (size_t)left : p->info.chunk_rows;
}

uint64_t ms_part_stored_bytes(const ms_part_t *p, int c)
{
    uint64_t sum = 0;
    for (size_t k = 0; k < p->nchunks; k++) sum += p->loc[(size_t)c * p->nchunks + k].size;
    return sum;
}

void ms_part_prefetch(const ms_part_t *p, uint64_t cols, size_t k)
{
    if (k >= p->nchunks) return;
    for (int c = 0; c < p->table->ncols; c++) {
        if (!(cols >> c & 1)) continue;
        const chunk_loc_t *loc = &p->loc[(size_t)c * p->nchunks + k];
        posix_fadvise(p->fd, (off_t)loc->addr, (off_t)loc->size, POSIX_FADV_WILLNEED);
    }
}

void ms_part_chunk_location(const ms_part_t *p, int c, size_t k, uint64_t *addr, uint64_t *size)
{
    const chunk_loc_t *loc = &p->loc[(size_t)c * p->nchunks + k];
    *addr = loc->addr;
    *size = loc->size;
}

size_t ms_part_scratch_size(const ms_part_t *p)
{
    return p->enc_cap + (size_t)p->info.chunk_rows * 8;
}

static ms_status_t read_raw(const ms_part_t *p, int c, size_t k, ms_read_mode_t mode, void *buf,
                            size_t size)
{
    const chunk_loc_t *loc = &p->loc[(size_t)c * p->nchunks + k];
    if (mode == MS_READ_H5) {
        MS_TRY(ms_h5_init()); /* this thread's HDF5 error printing off */
        hsize_t off[1] = {(hsize_t)k * p->info.chunk_rows};
        uint32_t mask = 0;
        if (H5Dread_chunk(p->dset[c], H5P_DEFAULT, off, &mask, buf) < 0)
            return ms_error_set(MS_E_CORRUPT, "H5Dread_chunk failed");
        return MS_OK;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread(p->fd, (char *)buf + got, size - got, (off_t)(loc->addr + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return ms_error_errno(MS_E_IO, errno, "read failed");
        if (n == 0) return ms_error_set(MS_E_CORRUPT, "file ends inside the chunk (truncated)");
        got += (size_t)n;
    }
    return MS_OK;
}

ms_status_t ms_part_read_chunk(const ms_part_t *p, int c, size_t k, ms_read_mode_t mode,
                               void *scratch, void *dst)
{
    if (c < 0 || c >= p->table->ncols || k >= p->nchunks)
        return ms_error_set(MS_E_USAGE, "%s: no chunk %zu of column %d", p->path, k, c);
    const ms_column_t *col = &p->table->cols[c];
    size_t size = p->loc[(size_t)c * p->nchunks + k].size;
    unsigned char *enc = scratch, *tmp = enc + p->enc_cap;
    ms_status_t st = read_raw(p, c, k, mode, enc, size);
    if (st == MS_OK)
        st = ms_chunk_decode(enc, size, p->info.chunk_rows, ms_ctype_size(col->type), tmp, dst);
    if (st != MS_OK) {
        uint64_t r0 = (uint64_t)k * p->info.chunk_rows;
        ms_error_wrap(st, "%s: table %s, column %s, chunk %zu (rows %llu-%llu): ", p->path,
                      p->table->name, col->name, k, (unsigned long long)r0,
                      (unsigned long long)(r0 + ms_part_chunk_nrows(p, k) - 1));
    }
    return st;
}
