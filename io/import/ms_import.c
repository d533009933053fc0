/*
 * ms_import.c - canonical CSV into a dataset directory (medsweep import).
 *
 * Stages, all under DATASET_DIR.importing-<pid> (renamed into place at the
 * end, removed on any failure):
 *
 *  1. institutions.csv and groups.csv are read whole (they are small) into an
 *     ms_refs_t in file order; a hash map gives each code a provisional id
 *     (its row) and finds duplicates with the line of the first one.
 *  2. Pass 1 streams settlements.csv once.  Every field is validated; codes
 *     get provisional ids (reference rows, or first-seen order for the
 *     diagnosis / procedure / drug dictionaries).  Each good row goes, as a
 *     fixed-size binary record with its source line, to the spill file of
 *     its partition (ms_person_partition), and (settle_id, line) to a bucket
 *     file chosen by a hash of settle_id.
 *  3. The buckets are checked for duplicate settle_ids (in parallel, one
 *     bucket in memory per thread): memory stays bounded whatever the size
 *     of the CSV.  The later line of a duplicate is the bad row.
 *  4. drug_items.csv, when present, streams the same way.
 *  5. Dictionaries are sorted (id = rank), institutions and groups sorted by
 *     ms_refs_finish, provisional ids get their final ones, and the
 *     reference files are written: partitions record their checksum.
 *  6. Pass 2, in parallel over partitions (each thread owns whole partitions,
 *     OpenMP dynamic schedule): load a partition's spill, remap ids, drop
 *     rows rejected in stage 3, sort, check drug items against the
 *     partition's settlements, write the HDF5 partition(s).
 *
 * Errors.  Without skip_bad the first bad row stops the import (MS_E_INPUT,
 * "FILE line N, column C: reason").  Pass 1 stops at the first bad row in
 * file order; the duplicate check reports the smallest bad line; pass 2
 * reports the first failing partition in partition order (every partition
 * before it is fully checked, so the answer does not depend on threads).
 * With skip_bad bad rows go to rejected.csv (file,line,column,value,reason)
 * and the import goes on; reference files must still be sound.
 */
#include "ms_import.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "ms_csv.h"
#include "ms_dataset.h"
#include "ms_fs.h"
#include "ms_part.h"
#include "ms_refs.h"
#include "ms_schema.h"

#define PART_BYTES_DEFAULT ((uint64_t)256 << 20) /* CSV bytes per partition */
#define MAX_PARTITIONS 4096u
#define SPILL_BUDGET ((size_t)128 << 20) /* write buffers per spill set */
#define SPILL_BUF_MIN ((size_t)16 << 10)
#define SPILL_BUF_MAX ((size_t)4 << 20)
#define PROGRESS_SECONDS 5.0
#define MSG_MAX 1024
#define REASON_MAX 320
#define VALUE_SHOWN 64 /* characters of a bad value quoted in a message */

/* ------------------------------------------------------------------ */
/* A string -> provisional id map (open addressing, xxh3 hashes).      */

typedef struct {
    int32_t *slot; /* id or -1 */
    uint64_t *slot_hash;
    size_t cap; /* power of two, at most half full */
    char **str; /* by id, NUL-terminated, owned until released */
    uint32_t *len;
    uint64_t *line; /* line of first appearance */
    size_t n, str_cap;
    int released; /* strings now belong to an ms_dict_t */
} strmap_t;

static void strmap_free(strmap_t *m)
{
    if (!m->released)
        for (size_t i = 0; i < m->n; i++) free(m->str[i]);
    free(m->slot);
    free(m->slot_hash);
    free(m->str);
    free(m->len);
    free(m->line);
    memset(m, 0, sizeof *m);
}

static int strmap_rehash(strmap_t *m, size_t cap)
{
    int32_t *slot = malloc(cap * sizeof *slot);
    uint64_t *hash = malloc(cap * sizeof *hash);
    if (!slot || !hash) {
        free(slot);
        free(hash);
        return -1;
    }
    for (size_t i = 0; i < cap; i++) slot[i] = -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slot[i] < 0) continue;
        size_t j = m->slot_hash[i] & (cap - 1);
        while (slot[j] >= 0) j = (j + 1) & (cap - 1);
        slot[j] = m->slot[i];
        hash[j] = m->slot_hash[i];
    }
    free(m->slot);
    free(m->slot_hash);
    m->slot = slot;
    m->slot_hash = hash;
    m->cap = cap;
    return 0;
}

/* Slot holding s, or the empty slot where it would go. */
static size_t strmap_probe(const strmap_t *m, const char *s, size_t len, uint64_t h)
{
    size_t j = h & (m->cap - 1);
    while (m->slot[j] >= 0) {
        int32_t id = m->slot[j];
        if (m->slot_hash[j] == h && m->len[id] == len && memcmp(m->str[id], s, len) == 0) break;
        j = (j + 1) & (m->cap - 1);
    }
    return j;
}

static int32_t strmap_find(const strmap_t *m, const char *s, size_t len)
{
    if (m->cap == 0) return -1;
    return m->slot[strmap_probe(m, s, len, XXH3_64bits(s, len))];
}

static int strmap_grow_ids(strmap_t *m)
{
    size_t cap = m->str_cap ? m->str_cap * 2 : 256;
    char **s = realloc(m->str, cap * sizeof *s);
    if (s) m->str = s;
    uint32_t *l = realloc(m->len, cap * sizeof *l);
    if (l) m->len = l;
    uint64_t *ln = realloc(m->line, cap * sizeof *ln);
    if (ln) m->line = ln;
    if (!s || !l || !ln) return -1;
    m->str_cap = cap;
    return 0;
}

/* The id of s, adding it when new (*added = 1).  -1 when out of memory. */
static int32_t strmap_add(strmap_t *m, const char *s, size_t len, uint64_t line, int *added)
{
    *added = 0;
    if ((m->n + 1) * 2 > m->cap && strmap_rehash(m, m->cap ? m->cap * 2 : 1024)) return -1;
    uint64_t h = XXH3_64bits(s, len);
    size_t j = strmap_probe(m, s, len, h);
    if (m->slot[j] >= 0) return m->slot[j];
    if (m->n == m->str_cap && strmap_grow_ids(m)) return -1;
    if (m->n >= INT32_MAX) return -1;
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, s, len);
    copy[len] = '\0';
    int32_t id = (int32_t)m->n++;
    m->str[id] = copy;
    m->len[id] = (uint32_t)len;
    m->line[id] = line;
    m->slot[j] = id;
    m->slot_hash[j] = h;
    *added = 1;
    return id;
}

/* ------------------------------------------------------------------ */
/* Row errors: which column, which value, why.                          */

typedef struct {
    const char *column;
    const char *value; /* points into the current record */
    size_t vlen;
    char reason[REASON_MAX];
} row_err_t;

static int row_bad(row_err_t *e, const char *column, const ms_field_t *f, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Record why a row is bad; returns -1 so that parsers can `return row_bad(..)`. */
static int row_bad(row_err_t *e, const char *column, const ms_field_t *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof e->reason, fmt, ap);
    va_end(ap);
    e->column = column;
    e->value = f ? f->s : "";
    e->vlen = f ? f->len : 0;
    return -1;
}

/* printf arguments quoting at most VALUE_SHOWN characters of a field. */
#define FV(f) (int)((f)->len > VALUE_SHOWN ? VALUE_SHOWN : (f)->len), (f)->s

static ms_status_t row_fail(const char *file, uint64_t line, const row_err_t *e)
{
    return ms_error_set(MS_E_INPUT, "%s line %llu, column %s: %s", file, (unsigned long long)line,
                        e->column, e->reason);
}

/* ------------------------------------------------------------------ */
/* Field parsers.  Each returns 0, or -1 with *e filled.                 */

static int need(const ms_field_t *f, const char *col, row_err_t *e)
{
    return f->len == 0 ? row_bad(e, col, f, "empty value") : 0;
}

/* 0 ok, -1 not all digits (or empty), -2 overflow. */
static int digits_u64(const char *s, size_t len, uint64_t *v)
{
    uint64_t x = 0;
    if (len == 0) return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9) return -1;
        if (x > (UINT64_MAX - d) / 10) return -2;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

static int fld_u64(const ms_field_t *f, const char *col, uint64_t *v, row_err_t *e)
{
    if (need(f, col, e)) return -1;
    int rc = digits_u64(f->s, f->len, v);
    if (rc == -1) return row_bad(e, col, f, "not an unsigned integer ('%.*s')", FV(f));
    if (rc == -2) return row_bad(e, col, f, "integer too large for 64 bits ('%.*s')", FV(f));
    return 0;
}

/* An integer in [lo, hi]. */
static int fld_range(const ms_field_t *f, const char *col, uint64_t lo, uint64_t hi, uint64_t *v,
                     row_err_t *e)
{
    if (need(f, col, e)) return -1;
    int rc = digits_u64(f->s, f->len, v);
    if (rc == -1) return row_bad(e, col, f, "not an unsigned integer ('%.*s')", FV(f));
    if (rc == -2 || *v < lo || *v > hi)
        return row_bad(e, col, f, "%s must be %llu-%llu ('%.*s')", col, (unsigned long long)lo,
                       (unsigned long long)hi, FV(f));
    return 0;
}

static int fld_enum(const ms_field_t *f, const char *col, const ms_enum_t *en, uint8_t *v,
                    row_err_t *e)
{
    if (need(f, col, e)) return -1;
    int k = ms_enum_find(en, f->s, f->len);
    if (k >= 0) {
        *v = (uint8_t)k;
        return 0;
    }
    char list[256];
    size_t o = 0;
    list[0] = '\0';
    for (int i = 0; i < en->count && o < sizeof list; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? " " : "", en->names[i]);
    return row_bad(e, col, f, "unknown %s '%.*s' (expected one of: %s)", col, FV(f), list);
}

static int fld_date(const ms_field_t *f, const char *col, int32_t *v, row_err_t *e)
{
    if (need(f, col, e)) return -1;
    if (ms_date_parse(f->s, f->len, v) != 0)
        return row_bad(e, col, f, "malformed date '%.*s' (expected YYYY-MM-DD, years 1900-2199)",
                       FV(f));
    return 0;
}

static int fld_money(const ms_field_t *f, const char *col, int64_t *v, row_err_t *e)
{
    if (need(f, col, e)) return -1;
    if (f->s[0] == '-') return row_bad(e, col, f, "negative amount ('%.*s')", FV(f));
    int rc = ms_money_parse(f->s, f->len, v);
    if (rc != 0) return row_bad(e, col, f, "%s ('%.*s')", ms_money_error(rc), FV(f));
    return 0;
}

static int fld_region(const ms_field_t *f, const char *col, int32_t *v, row_err_t *e)
{
    uint64_t x;
    if (need(f, col, e)) return -1;
    if (f->len != 6 || digits_u64(f->s, f->len, &x) != 0)
        return row_bad(e, col, f, "%s must be exactly 6 digits ('%.*s')", col, FV(f));
    *v = (int32_t)x;
    return 0;
}

/* Text of 1..maxlen bytes; with charset, every byte must be in it. */
static int fld_text(const ms_field_t *f, const char *col, size_t maxlen, const char *charset,
                    const char *what, row_err_t *e)
{
    if (need(f, col, e)) return -1;
    int ok = f->len <= maxlen;
    for (size_t i = 0; ok && charset && i < f->len; i++) ok = strchr(charset, f->s[i]) != NULL;
    if (!ok) return row_bad(e, col, f, "%s must be 1-%zu %s ('%.*s')", col, maxlen, what, FV(f));
    return 0;
}

/* A decimal number > 0 stored as float (parsed straight to float, so that
 * export's shortest round-trip text gives back the input). */
static int fld_pos_float(const ms_field_t *f, const char *col, float *v, row_err_t *e)
{
    if (need(f, col, e)) return -1;
    int ok = strspn(f->s, "0123456789.eE+-") == f->len;
    char *end = NULL;
    float x = ok ? strtof(f->s, &end) : 0.0f;
    if (!ok || end != f->s + f->len || !isfinite(x) || !(x > 0.0f))
        return row_bad(e, col, f, "%s must be a decimal number > 0 ('%.*s')", col, FV(f));
    *v = x;
    return 0;
}

#define DIGITS "0123456789"
#define ALNUM_DOT "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789."

/* ------------------------------------------------------------------ */
/* Spill files: fixed-size records, one file per partition.             */

typedef struct {
    const char *dir;
    const char *tag; /* file name prefix */
    uint32_t n, nsub; /* partitions; writers, each with its own files */
    size_t rec_size, buf_cap; /* buf_cap: bytes, a multiple of rec_size */
    unsigned char **buf;      /* allocated on first use */
    size_t *used;
    uint64_t *count;
} spill_t;

/* Buffers, counts and files are per (writer, partition): index sub * n + part. */
static void spill_path(const spill_t *s, uint32_t i, char *out, size_t cap)
{
    uint32_t sub = i / s->n, part = i % s->n;
    if (sub == 0)
        snprintf(out, cap, "%s/%s-%05u.bin", s->dir, s->tag, part);
    else
        snprintf(out, cap, "%s/%s-%05u.%u.bin", s->dir, s->tag, part, sub);
}

static ms_status_t spill_init(spill_t *s, const char *dir, const char *tag, uint32_t n,
                              uint32_t nsub, size_t rec_size)
{
    memset(s, 0, sizeof *s);
    s->dir = dir;
    s->tag = tag;
    s->n = n;
    s->nsub = nsub;
    s->rec_size = rec_size;
    size_t per = SPILL_BUDGET / n / nsub;
    per = per < SPILL_BUF_MIN ? SPILL_BUF_MIN : per > SPILL_BUF_MAX ? SPILL_BUF_MAX : per;
    s->buf_cap = per / rec_size * rec_size;
    s->buf = calloc((size_t)n * nsub, sizeof *s->buf);
    s->used = calloc((size_t)n * nsub, sizeof *s->used);
    s->count = calloc((size_t)n * nsub, sizeof *s->count);
    if (!s->buf || !s->used || !s->count) return ms_error_set(MS_E_NOMEM, "out of memory");
    return MS_OK;
}

static ms_status_t write_all(int fd, const void *data, size_t len, const char *path)
{
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return ms_error_errno(MS_E_IO, errno, "cannot write %s", path);
        p += w;
        len -= (size_t)w;
    }
    return MS_OK;
}

/* Append a partition's buffer to its file.  Files are opened per flush, so
 * thousands of partitions never need thousands of descriptors. */
static ms_status_t spill_flush_one(spill_t *s, uint32_t part)
{
    if (s->used[part] == 0) return MS_OK;
    char path[4096];
    spill_path(s, part, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return ms_error_errno(MS_E_IO, errno, "cannot create %s", path);
    ms_status_t st = write_all(fd, s->buf[part], s->used[part], path);
    if (close(fd) != 0 && st == MS_OK) st = ms_error_errno(MS_E_IO, errno, "cannot write %s", path);
    s->used[part] = 0;
    return st;
}

static ms_status_t spill_put(spill_t *s, uint32_t sub, uint32_t part, const void *rec)
{
    part += sub * s->n;
    if (!s->buf[part]) {
        s->buf[part] = malloc(s->buf_cap);
        if (!s->buf[part]) return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    memcpy(s->buf[part] + s->used[part], rec, s->rec_size);
    s->used[part] += s->rec_size;
    s->count[part]++;
    if (s->used[part] == s->buf_cap) return spill_flush_one(s, part);
    return MS_OK;
}

/* Flush everything and give the write buffers back. */
static ms_status_t spill_close(spill_t *s)
{
    ms_status_t st = MS_OK;
    for (uint32_t i = 0; s->buf && i < s->n * s->nsub; i++) {
        if (st == MS_OK) st = spill_flush_one(s, i);
        free(s->buf[i]);
        s->buf[i] = NULL;
    }
    return st;
}

/* Free without flushing: after a failure the records are not wanted. */
static void spill_free(spill_t *s)
{
    for (uint32_t i = 0; s->buf && i < s->n * s->nsub; i++) free(s->buf[i]);
    free(s->buf);
    free(s->used);
    free(s->count);
    memset(s, 0, sizeof *s);
}

static ms_status_t read_exact(const char *path, void *buf, size_t bytes)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ms_error_errno(MS_E_IO, errno, "cannot open %s", path);
    size_t got = 0;
    int err = 0;
    while (got < bytes) {
        ssize_t r = pread(fd, (unsigned char *)buf + got, bytes - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            err = r < 0 ? errno : EIO; /* a short spill file: it was written whole */
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    return err ? ms_error_errno(MS_E_IO, err, "cannot read %s", path) : MS_OK;
}

/* Read a partition's records into a new array and delete the file. */
/* Read a partition's records (writer 0's first, then writer 1's, ...) into
 * a new array and delete the files. */
static ms_status_t spill_load(const spill_t *s, uint32_t part, void **data, size_t *count)
{
    char path[4096];
    spill_path(s, part, path, sizeof path);
    *data = NULL;
    *count = 0;
    for (uint32_t k = 0; k < s->nsub; k++) *count += (size_t)s->count[k * s->n + part];
    if (*count == 0) return MS_OK;
    size_t bytes = *count * s->rec_size;
    unsigned char *buf = malloc(bytes);
    if (!buf) return ms_error_set(MS_E_NOMEM, "out of memory loading %s (%zu bytes)", path, bytes);
    size_t off = 0;
    for (uint32_t k = 0; k < s->nsub; k++) {
        size_t b = (size_t)s->count[k * s->n + part] * s->rec_size;
        if (b == 0) continue;
        spill_path(s, k * s->n + part, path, sizeof path);
        ms_status_t st = read_exact(path, buf + off, b);
        if (st != MS_OK) {
            free(buf);
            return st;
        }
        unlink(path); /* frees the disk as pass 2 goes */
        off += b;
    }
    *data = buf;
    return MS_OK;
}

/* Spill records: the decoded row plus the CSV line it came from. */
typedef struct {
    ms_settlement_t row;
    uint64_t line;
} sett_rec_t;

typedef struct {
    ms_drug_item_t row;
    uint64_t line;
} drug_rec_t;

typedef struct {
    uint64_t settle_id, line;
} id_rec_t;

/* ------------------------------------------------------------------ */
/* Rejected rows (skip_bad).                                            */

typedef struct {
    int file; /* 0 settlements.csv, 1 drug_items.csv */
    uint64_t line;
    const char *column;
    char value[VALUE_SHOWN + 1];
    char reason[REASON_MAX];
} reject_t;

typedef struct {
    reject_t *v;
    size_t n, cap;
} reject_list_t;

static const char *const data_files[2] = {"settlements.csv", "drug_items.csv"};

static ms_status_t reject_push(reject_list_t *l, int file, uint64_t line, const char *column,
                               const char *value, const char *reason)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        reject_t *v = realloc(l->v, cap * sizeof *v);
        if (!v) return ms_error_set(MS_E_NOMEM, "out of memory");
        l->v = v;
        l->cap = cap;
    }
    reject_t *r = &l->v[l->n++];
    r->file = file;
    r->line = line;
    r->column = column;
    snprintf(r->value, sizeof r->value, "%s", value);
    snprintf(r->reason, sizeof r->reason, "%s", reason);
    return MS_OK;
}

static int reject_cmp(const void *a, const void *b)
{
    const reject_t *x = a, *y = b;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static void rejected_write(FILE *fp, const char *file, uint64_t line, const char *column,
                           const char *value, size_t vlen, const char *reason)
{
    ms_csv_write_field(fp, file, strlen(file));
    fprintf(fp, ",%llu,", (unsigned long long)line);
    ms_csv_write_field(fp, column, strlen(column));
    putc(',', fp);
    ms_csv_write_field(fp, value, vlen);
    putc(',', fp);
    ms_csv_write_field(fp, reason, strlen(reason));
    putc('\n', fp);
}

/* ------------------------------------------------------------------ */
/* Import state.                                                        */

typedef struct {
    int on;
    double start, last;
} progress_t;

typedef struct {
    const ms_import_opts_t *opts;
    char *csv_dir, *out_dir, *tmp_dir, *spill_dir;
    int tmp_made;
    uint32_t nparts, chunk_rows;
    int have_drugs;
    ms_refs_t refs; /* institutions and groups in file order until finished */
    size_t inst_cap, group_cap;
    strmap_t inst, group, diag, proc, drug;
    int32_t *inst_remap, *group_remap, *diag_remap, *proc_remap, *drug_remap;
    /* Pass 1 readers other than the first keep their own dictionaries: their
     * ids to the merged ones, per reader ([0] NULL: the identity). */
    int32_t **xl_diag, **xl_proc, **xl_drug;
    spill_t sett_spill, id_spill, drug_spill;
    uint64_t *dup_lines; /* settlements.csv lines rejected as duplicates, sorted */
    size_t n_dup;
    FILE *rejected;
    uint64_t n_rejected;
    char ref_checksum[40];
    uint64_t rows[MS_TABLE_COUNT];
    progress_t progress;
} import_t;

/* Make room for need elements (capacity doubles); -1 when out of memory. */
static int grow_array(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap * 2 : 64;
    while (n < need) n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q) return -1;
    *p = q;
    *cap = n;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One progress line per ~5 seconds (checked every 64K rows) and at the end. */
static void progress_rows(import_t *im, const ms_csv_t *c, uint64_t rows, int final)
{
    progress_t *p = &im->progress;
    if (!p->on || (!final && (rows & 0xFFFF) != 0)) return;
    double t = now_s();
    if (!final && t - p->last < PROGRESS_SECONDS) return;
    p->last = t;
    uint64_t size = ms_csv_file_size(c);
    int pct = size ? (int)(ms_csv_bytes_read(c) * 100 / size) : 100;
    double el = t - p->start > 1e-9 ? t - p->start : 1e-9;
    fprintf(stderr, "import: %s %d%% %.1f M rows %.1f M rows/s\n", ms_csv_name(c), pct,
            (double)rows / 1e6, (double)rows / el / 1e6);
}

/* A failed write to rejected.csv (the disk may be full) stops the import. */
static ms_status_t rejected_check(const import_t *im)
{
    if (!ferror(im->rejected)) return MS_OK;
    return ms_error_errno(MS_E_IO, errno ? errno : EIO, "cannot write %s/rejected.csv",
                          im->out_dir);
}

/* One reader of a pass 1 file (one byte range of it): its rejected rows
 * (in memory when there are several readers), dictionaries and error. */
typedef struct {
    ms_csv_t *c;
    FILE *rej;
    char *rej_buf;
    size_t rej_len;
    uint64_t n_rejected, rows;
    strmap_t map[2];
    ms_status_t st;
    char *msg;
} p1_t;

static ms_status_t p1_rejected_check(const import_t *im, const p1_t *w)
{
    if (!ferror(w->rej)) return MS_OK;
    return ms_error_errno(MS_E_IO, errno ? errno : EIO, "cannot write %s/rejected.csv",
                          im->out_dir);
}

/* Record a bad row: write it to rejected.csv (skip_bad) or fail. */
static ms_status_t row_reject(const import_t *im, p1_t *w, uint64_t line, const row_err_t *e)
{
    if (!im->opts->skip_bad) return row_fail(ms_csv_name(w->c), line, e);
    rejected_write(w->rej, ms_csv_name(w->c), line, e->column, e->value, e->vlen, e->reason);
    w->n_rejected++;
    return p1_rejected_check(im, w);
}

/* The next good-shaped record; a record with the wrong number of fields is
 * rejected (skip_bad) or fatal. */
static ms_status_t next_record(const import_t *im, p1_t *w, const ms_field_t **f, uint64_t *line)
{
    ms_csv_t *c = w->c;
    for (;;) {
        ms_status_t st = ms_csv_next(c, f, line);
        if (st == MS_OK) return MS_OK;
        if (st != MS_E_INPUT || !im->opts->skip_bad || !ms_csv_can_continue(c)) return st;
        const char *reason = ms_csv_error_reason(c);
        rejected_write(w->rej, ms_csv_name(c), *line, "", "", 0, reason);
        w->n_rejected++;
        MS_TRY(p1_rejected_check(im, w));
    }
}

static ms_status_t open_csv(const import_t *im, const char *name, const char *const *cols,
                            int ncols, ms_csv_t **c)
{
    char *path = ms_path_join(im->csv_dir, name);
    if (!path) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_status_t st = ms_csv_open(path, cols, ncols, c);
    free(path);
    return st;
}

/* ------------------------------------------------------------------ */
/* institutions.csv                                                     */

static const char *const inst_columns[] = {"inst_code", "name",   "kind", "level",
                                           "ownership", "region", "beds"};
enum { IC_CODE, IC_NAME, IC_KIND, IC_LEVEL, IC_OWN, IC_REGION, IC_BEDS, IC_COUNT };

static int inst_parse(const ms_field_t *f, ms_institution_t *r, row_err_t *e)
{
    uint64_t v;
    if (fld_text(&f[IC_CODE], "inst_code", 32, NULL, "characters", e)) return -1;
    if (need(&f[IC_NAME], "name", e)) return -1;
    if (fld_enum(&f[IC_KIND], "kind", &ms_enum_kind, &r->kind, e)) return -1;
    if (fld_range(&f[IC_LEVEL], "level", 0, 3, &v, e)) return -1;
    r->level = (uint8_t)v;
    if (fld_enum(&f[IC_OWN], "ownership", &ms_enum_ownership, &r->ownership, e)) return -1;
    if (fld_region(&f[IC_REGION], "region", &r->region, e)) return -1;
    if (fld_range(&f[IC_BEDS], "beds", 0, INT32_MAX, &v, e)) return -1;
    r->beds = (int32_t)v;
    return 0;
}

static ms_status_t inst_append(import_t *im, const ms_field_t *f, const ms_institution_t *r)
{
    ms_refs_t *refs = &im->refs;
    if (grow_array((void **)&refs->inst, &im->inst_cap, refs->n_inst + 1, sizeof *refs->inst))
        return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_institution_t *d = &refs->inst[refs->n_inst];
    *d = *r;
    d->inst_code = strdup(f[IC_CODE].s);
    d->name = strdup(f[IC_NAME].s);
    refs->n_inst++; /* counted before the check so that ms_refs_free frees it */
    if (!d->inst_code || !d->name) return ms_error_set(MS_E_NOMEM, "out of memory");
    return MS_OK;
}

static ms_status_t read_institutions(import_t *im)
{
    ms_csv_t *c;
    MS_TRY(open_csv(im, "institutions.csv", inst_columns, IC_COUNT, &c));
    ms_status_t st = MS_OK;
    const ms_field_t *f;
    uint64_t line;
    row_err_t e;
    while (st == MS_OK && (st = ms_csv_next(c, &f, &line)) == MS_OK && f) {
        ms_institution_t r = {0};
        int added;
        if (inst_parse(f, &r, &e)) {
            st = row_fail(ms_csv_name(c), line, &e);
        } else if (strmap_add(&im->inst, f[IC_CODE].s, f[IC_CODE].len, line, &added) < 0) {
            st = ms_error_set(MS_E_NOMEM, "out of memory");
        } else if (!added) {
            int32_t id = strmap_find(&im->inst, f[IC_CODE].s, f[IC_CODE].len);
            row_bad(&e, "inst_code", &f[IC_CODE], "duplicate inst_code '%.*s' (first at line %llu)",
                    FV(&f[IC_CODE]), (unsigned long long)im->inst.line[id]);
            st = row_fail(ms_csv_name(c), line, &e);
        } else {
            st = inst_append(im, f, &r);
        }
    }
    ms_csv_close(c);
    return st;
}

/* ------------------------------------------------------------------ */
/* groups.csv                                                           */

static const char *const group_columns[] = {"group_code", "family",   "severity",     "weight",
                                            "mdc",        "surgical", "expected_los", "mean_cost"};
enum { GC_CODE, GC_FAMILY, GC_SEV, GC_WEIGHT, GC_MDC, GC_SURG, GC_LOS, GC_COST, GC_COUNT };

static int group_parse(const ms_field_t *f, ms_group_t *r, row_err_t *e)
{
    uint64_t v;
    if (fld_text(&f[GC_CODE], "group_code", 16, NULL, "characters", e)) return -1;
    if (need(&f[GC_FAMILY], "family", e)) return -1;
    if (fld_range(&f[GC_SEV], "severity", 0, 2, &v, e)) return -1;
    r->severity = (uint8_t)v;
    if (fld_pos_float(&f[GC_WEIGHT], "weight", &r->weight, e)) return -1;
    if (need(&f[GC_MDC], "mdc", e)) return -1;
    if (f[GC_MDC].len != 1 || f[GC_MDC].s[0] < 'A' || f[GC_MDC].s[0] > 'Z')
        return row_bad(e, "mdc", &f[GC_MDC], "mdc must be one letter A-Z ('%.*s')", FV(&f[GC_MDC]));
    r->mdc = f[GC_MDC].s[0];
    if (fld_range(&f[GC_SURG], "surgical", 0, 1, &v, e)) return -1;
    r->surgical = (uint8_t)v;
    if (fld_pos_float(&f[GC_LOS], "expected_los", &r->expected_los, e)) return -1;
    return fld_money(&f[GC_COST], "mean_cost", &r->mean_cost, e);
}

static ms_status_t group_append(import_t *im, const ms_field_t *f, const ms_group_t *r)
{
    ms_refs_t *refs = &im->refs;
    if (grow_array((void **)&refs->groups, &im->group_cap, refs->n_groups + 1,
                   sizeof *refs->groups))
        return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_group_t *d = &refs->groups[refs->n_groups];
    *d = *r;
    d->group_code = strdup(f[GC_CODE].s);
    d->family = strdup(f[GC_FAMILY].s);
    refs->n_groups++;
    if (!d->group_code || !d->family) return ms_error_set(MS_E_NOMEM, "out of memory");
    return MS_OK;
}

static ms_status_t read_groups(import_t *im)
{
    ms_csv_t *c;
    MS_TRY(open_csv(im, "groups.csv", group_columns, GC_COUNT, &c));
    ms_status_t st = MS_OK;
    const ms_field_t *f;
    uint64_t line;
    row_err_t e;
    while (st == MS_OK && (st = ms_csv_next(c, &f, &line)) == MS_OK && f) {
        ms_group_t r = {0};
        int added;
        if (group_parse(f, &r, &e)) {
            st = row_fail(ms_csv_name(c), line, &e);
        } else if (strmap_add(&im->group, f[GC_CODE].s, f[GC_CODE].len, line, &added) < 0) {
            st = ms_error_set(MS_E_NOMEM, "out of memory");
        } else if (!added) {
            int32_t id = strmap_find(&im->group, f[GC_CODE].s, f[GC_CODE].len);
            row_bad(&e, "group_code", &f[GC_CODE],
                    "duplicate group_code '%.*s' (first at line %llu)", FV(&f[GC_CODE]),
                    (unsigned long long)im->group.line[id]);
            st = row_fail(ms_csv_name(c), line, &e);
        } else {
            st = group_append(im, f, &r);
        }
    }
    ms_csv_close(c);
    return st;
}

/* ------------------------------------------------------------------ */
/* settlements.csv, pass 1                                              */

#define SF(name) (&f[MS_SC_##name])

static int sett_parse_person(const import_t *im, const ms_field_t *f, ms_settlement_t *r,
                             row_err_t *e)
{
    uint64_t v;
    if (fld_u64(SF(settle_id), "settle_id", &r->settle_id, e)) return -1;
    if (fld_u64(SF(person_id), "person_id", &r->person_id, e)) return -1;
    if (need(SF(inst_code), "inst_code", e)) return -1;
    r->inst_code = strmap_find(&im->inst, SF(inst_code)->s, SF(inst_code)->len);
    if (r->inst_code < 0)
        return row_bad(e, "inst_code", SF(inst_code), "unknown inst_code '%.*s'",
                       FV(SF(inst_code)));
    if (fld_enum(SF(visit_type), "visit_type", &ms_enum_visit_type, &r->visit_type, e)) return -1;
    if (fld_date(SF(admit_date), "admit_date", &r->admit_date, e)) return -1;
    if (fld_date(SF(discharge_date), "discharge_date", &r->discharge_date, e)) return -1;
    if (fld_date(SF(settle_date), "settle_date", &r->settle_date, e)) return -1;
    if (fld_range(SF(age), "age", 0, 120, &v, e)) return -1;
    r->age = (uint8_t)v;
    if (fld_enum(SF(sex), "sex", &ms_enum_sex, &r->sex, e)) return -1;
    if (fld_region(SF(person_region), "person_region", &r->person_region, e)) return -1;
    if (fld_enum(SF(dept), "dept", &ms_enum_dept, &r->dept, e)) return -1;
    if (fld_range(SF(doctor_id), "doctor_id", 0, UINT32_MAX, &v, e)) return -1;
    r->doctor_id = (uint32_t)v;
    return 0;
}

/* Syntax of the coded columns; dictionary ids are assigned last, once the
 * whole row is known to be good, so rejected rows add no codes. */
static int sett_parse_codes(const import_t *im, const ms_field_t *f, ms_settlement_t *r,
                            row_err_t *e)
{
    uint64_t v;
    if (fld_text(SF(diag_main), "diag_main", 16, ALNUM_DOT, "letters, digits or '.'", e)) return -1;
    if (fld_range(SF(n_diag), "n_diag", 1, 50, &v, e)) return -1;
    r->n_diag = (uint8_t)v;
    if (SF(proc_main)->len &&
        fld_text(SF(proc_main), "proc_main", 8, DIGITS ".", "digits or '.'", e))
        return -1;
    if (fld_enum(SF(pay_scheme), "pay_scheme", &ms_enum_pay_scheme, &r->pay_scheme, e)) return -1;
    const ms_field_t *g = SF(group_code);
    r->group_code = -1;
    if (g->len == 0 && r->pay_scheme != MS_PAY_FFS)
        return row_bad(e, "group_code", g,
                       "empty value (group_code is required when pay_scheme is %s)",
                       ms_enum_pay_scheme.names[r->pay_scheme]);
    if (g->len) {
        r->group_code = strmap_find(&im->group, g->s, g->len);
        if (r->group_code < 0)
            return row_bad(e, "group_code", g, "unknown group_code '%.*s'", FV(g));
    }
    return 0;
}

static int sett_parse_money(const ms_field_t *f, ms_settlement_t *r, row_err_t *e)
{
    const ms_column_t *cols = ms_table(MS_TABLE_SETTLEMENTS)->cols;
    for (int c = MS_SC_total; c <= MS_SC_other; c++) {
        int64_t *dst = (int64_t *)(void *)((char *)r + cols[c].offset);
        if (fld_money(&f[c], cols[c].name, dst, e)) return -1;
    }
    return 0;
}

static int sett_check_dates(const ms_field_t *f, const ms_settlement_t *r, row_err_t *e)
{
    if (r->discharge_date < r->admit_date)
        return row_bad(e, "discharge_date", SF(discharge_date), "discharge_date before admit_date");
    if (r->settle_date < r->discharge_date)
        return row_bad(e, "settle_date", SF(settle_date), "settle_date before discharge_date");
    if (r->visit_type != MS_VISIT_INPATIENT && r->admit_date != r->settle_date)
        return row_bad(e, "admit_date", SF(admit_date),
                       "admit_date must equal settle_date for %s visits",
                       ms_enum_visit_type.names[r->visit_type]);
    if (r->visit_type != MS_VISIT_INPATIENT && r->discharge_date != r->settle_date)
        return row_bad(e, "discharge_date", SF(discharge_date),
                       "discharge_date must equal settle_date for %s visits",
                       ms_enum_visit_type.names[r->visit_type]);
    return 0;
}

static int sett_check_sums(const ms_field_t *f, const ms_settlement_t *r, row_err_t *e)
{
    char a[24], b[24], c[24];
    int64_t pay, cat = 0;
    if (__builtin_add_overflow(r->fund_pay, r->self_pay, &pay) || pay != r->total) {
        ms_money_format(r->fund_pay, a);
        ms_money_format(r->self_pay, b);
        ms_money_format(r->total, c);
        return row_bad(e, "total", SF(total), "fund_pay + self_pay != total (%s + %s != %s)", a, b,
                       c);
    }
    const ms_column_t *cols = ms_table(MS_TABLE_SETTLEMENTS)->cols;
    int overflow = 0;
    for (int k = MS_SC_drug; k < MS_SC_drug + MS_N_COST_CATEGORIES; k++) {
        const int64_t *part = (const int64_t *)(const void *)((const char *)r + cols[k].offset);
        overflow |= __builtin_add_overflow(cat, *part, &cat);
    }
    if (overflow || cat != r->total) {
        if (overflow)
            snprintf(a, sizeof a, "more than int64");
        else
            ms_money_format(cat, a);
        ms_money_format(r->total, c);
        return row_bad(e, "total", SF(total), "cost categories add up to %s, total is %s", a, c);
    }
    return 0;
}

static int32_t dict_add(strmap_t *m, const ms_field_t *f, uint64_t line)
{
    int added;
    return strmap_add(m, f->s, f->len, line, &added);
}

/* 0 good, -1 bad row (*e), 1 out of memory. */
static int sett_parse(const import_t *im, strmap_t *diag, strmap_t *proc, const ms_field_t *f,
                      uint64_t line, ms_settlement_t *r, row_err_t *e)
{
    if (sett_parse_person(im, f, r, e) || sett_parse_codes(im, f, r, e) ||
        sett_parse_money(f, r, e) || sett_check_dates(f, r, e) || sett_check_sums(f, r, e))
        return -1;
    r->diag_main = dict_add(diag, SF(diag_main), line);
    r->proc_main = SF(proc_main)->len ? dict_add(proc, SF(proc_main), line) : -1;
    return (r->diag_main < 0 || (SF(proc_main)->len && r->proc_main < 0)) ? 1 : 0;
}

/* The settle_id bucket: any fixed hash spreads ids evenly. */
static uint32_t id_bucket(uint64_t settle_id, uint32_t n)
{
    return (uint32_t)(XXH3_64bits(&settle_id, sizeof settle_id) % n);
}

static const char *const *table_columns(ms_table_id_t id, const char **buf)
{
    const ms_table_t *t = ms_table(id);
    for (int i = 0; i < t->ncols; i++) buf[i] = t->cols[i].name;
    return buf;
}

static ms_status_t sett_spill_row(import_t *im, uint32_t sub, const sett_rec_t *rec)
{
    id_rec_t idr = {rec->row.settle_id, rec->line};
    MS_TRY(spill_put(&im->sett_spill, sub, ms_person_partition(rec->row.person_id, im->nparts),
                     rec));
    return spill_put(&im->id_spill, sub, id_bucket(idr.settle_id, im->nparts), &idr);
}

static ms_status_t sett_range(import_t *im, p1_t *w, uint32_t sub, int progress)
{
    sett_rec_t rec;
    memset(&rec, 0, sizeof rec); /* padding bytes go to disk: keep them defined */
    const ms_field_t *f;
    row_err_t e;
    ms_status_t st;
    while ((st = next_record(im, w, &f, &rec.line)) == MS_OK && f) {
        int rc = sett_parse(im, &w->map[0], &w->map[1], f, rec.line, &rec.row, &e);
        if (rc > 0)
            st = ms_error_set(MS_E_NOMEM, "out of memory");
        else if (rc < 0)
            st = row_reject(im, w, rec.line, &e);
        else
            st = sett_spill_row(im, sub, &rec);
        if (st != MS_OK) break;
        ++w->rows;
        if (progress) progress_rows(im, w->c, w->rows, 0);
    }
    return st;
}

/* ------------------------------------------------------------------ */
/* drug_items.csv, pass 1                                               */

static const char *const drug_columns[] = {"settle_id", "person_id",  "inst_code", "date",
                                           "drug_code", "trace_code", "qty",       "amount"};
enum { DI_SETTLE, DI_PERSON, DI_INST, DI_DATE, DI_DRUG, DI_TRACE, DI_QTY, DI_AMOUNT, DI_COUNT };

static int drug_parse_trace(const ms_field_t *f, ms_drug_item_t *r, row_err_t *e)
{
    if (need(f, "trace_code", e)) return -1;
    if (f->len != 20)
        return row_bad(e, "trace_code", f, "trace_code must be exactly 20 digits, got %zu", f->len);
    if (digits_u64(f->s, 10, &r->trace_hi) || digits_u64(f->s + 10, 10, &r->trace_lo))
        return row_bad(e, "trace_code", f, "trace_code must be exactly 20 digits ('%.*s')", FV(f));
    return 0;
}

/* 0 good, -1 bad row (*e), 1 out of memory. */
static int drug_parse(const import_t *im, strmap_t *drug, const ms_field_t *f, uint64_t line,
                      ms_drug_item_t *r, row_err_t *e)
{
    uint64_t v;
    if (fld_u64(&f[DI_SETTLE], "settle_id", &r->settle_id, e)) return -1;
    if (fld_u64(&f[DI_PERSON], "person_id", &r->person_id, e)) return -1;
    if (need(&f[DI_INST], "inst_code", e)) return -1;
    r->inst_code = strmap_find(&im->inst, f[DI_INST].s, f[DI_INST].len);
    if (r->inst_code < 0)
        return row_bad(e, "inst_code", &f[DI_INST], "unknown inst_code '%.*s'", FV(&f[DI_INST]));
    if (fld_date(&f[DI_DATE], "date", &r->date, e)) return -1;
    if (fld_text(&f[DI_DRUG], "drug_code", 32, NULL, "characters", e)) return -1;
    if (drug_parse_trace(&f[DI_TRACE], r, e)) return -1;
    if (fld_range(&f[DI_QTY], "qty", 1, UINT32_MAX, &v, e)) return -1;
    r->qty = (uint32_t)v;
    if (fld_money(&f[DI_AMOUNT], "amount", &r->amount, e)) return -1;
    r->drug_code = dict_add(drug, &f[DI_DRUG], line);
    return r->drug_code < 0 ? 1 : 0;
}

static ms_status_t drug_range(import_t *im, p1_t *w, uint32_t sub, int progress)
{
    drug_rec_t rec;
    memset(&rec, 0, sizeof rec);
    const ms_field_t *f;
    row_err_t e;
    ms_status_t st;
    while ((st = next_record(im, w, &f, &rec.line)) == MS_OK && f) {
        int rc = drug_parse(im, &w->map[0], f, rec.line, &rec.row, &e);
        if (rc > 0)
            st = ms_error_set(MS_E_NOMEM, "out of memory");
        else if (rc < 0)
            st = row_reject(im, w, rec.line, &e);
        else
            st = spill_put(&im->drug_spill, sub, ms_person_partition(rec.row.person_id, im->nparts),
                           &rec);
        if (st != MS_OK) break;
        ++w->rows;
        if (progress) progress_rows(im, w->c, w->rows, 0);
    }
    return st;
}

/* ------------------------------------------------------------------ */
/* Pass 1 over a big file: byte ranges read in parallel.                */

#define P1_PARALLEL_MIN ((uint64_t)64 << 20) /* smaller files: one reader */

typedef ms_status_t (*p1_range_fn)(import_t *im, p1_t *w, uint32_t sub, int progress);

/* Merge reader k's dictionary into the global one; xl: its ids to global. */
static ms_status_t p1_merge_map(strmap_t *global, strmap_t *m, int32_t **xl)
{
    *xl = malloc((m->n ? m->n : 1) * sizeof **xl);
    if (!*xl) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (size_t i = 0; i < m->n; i++) {
        int added;
        (*xl)[i] = strmap_add(global, m->str[i], m->len[i], m->line[i], &added);
        if ((*xl)[i] < 0) return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    return MS_OK;
}

static ms_status_t pass1_file(import_t *im, const char *name, const char *const *cols, int ncols,
                              spill_t *sp[2], const char *tags[2], const size_t rec_size[2],
                              p1_range_fn fn, int nmaps, strmap_t *global[2], int32_t ***xl[2])
{
    char *path = ms_path_join(im->csv_dir, name);
    if (!path) return ms_error_set(MS_E_NOMEM, "out of memory");
    int T = im->opts->threads > 0 ? im->opts->threads : omp_get_max_threads();
    struct stat sb;
    if (T < 1 || stat(path, &sb) != 0 || (uint64_t)sb.st_size < P1_PARALLEL_MIN) T = 1;
    uint64_t *start = calloc((size_t)T, sizeof *start), *line = calloc((size_t)T, sizeof *line);
    p1_t *w = calloc((size_t)T, sizeof *w);
    ms_status_t st = (start && line && w) ? MS_OK : ms_error_set(MS_E_NOMEM, "out of memory");
    if (st == MS_OK && T > 1) st = ms_csv_split(path, T, T, start, line);
    if (st == MS_OK)
        st = ms_csv_open_range(path, cols, ncols, T > 1 ? start[1] : UINT64_MAX, &w[0].c);
    for (int k = 1; st == MS_OK && k < T; k++)
        st = ms_csv_open_at(w[0].c, start[k], k + 1 < T ? start[k + 1] : UINT64_MAX, line[k],
                            &w[k].c);
    for (int i = 0; st == MS_OK && i < 2 && sp[i]; i++)
        st = spill_init(sp[i], im->spill_dir, tags[i], im->nparts, (uint32_t)T, rec_size[i]);
    for (int k = 0; st == MS_OK && k < T; k++) {
        if (!im->opts->skip_bad) continue;
        w[k].rej = T == 1 ? im->rejected : open_memstream(&w[k].rej_buf, &w[k].rej_len);
        if (!w[k].rej) st = ms_error_set(MS_E_NOMEM, "out of memory");
    }
    if (st == MS_OK) {
        im->progress.start = im->progress.last = now_s();
#pragma omp parallel for schedule(dynamic, 1) num_threads(T)
        for (int k = 0; k < T; k++) {
            ms_status_t s = fn(im, &w[k], (uint32_t)k, T == 1);
            if (s != MS_OK) {
                w[k].st = s;
                w[k].msg = strdup(ms_error_detail());
            }
        }
        /* The first failing range holds the first bad row of the file. */
        int fail = 0;
        while (fail < T && w[fail].st == MS_OK) fail++;
        uint64_t rows = 0;
        for (int k = 0; k < T && k <= fail; k++) {
            rows += w[k].rows;
            im->n_rejected += w[k].n_rejected;
            if (T == 1 || !w[k].rej) continue;
            fclose(w[k].rej);
            w[k].rej = NULL;
            if (w[k].rej_len) fwrite(w[k].rej_buf, 1, w[k].rej_len, im->rejected);
        }
        if (fail < T) {
            st = ms_error_set(w[fail].st, "%s", w[fail].msg ? w[fail].msg : "out of memory");
        } else {
            if (im->opts->skip_bad && T > 1) st = rejected_check(im);
            for (int m = 0; st == MS_OK && m < nmaps; m++) {
                *global[m] = w[0].map[m];
                memset(&w[0].map[m], 0, sizeof w[0].map[m]);
                *xl[m] = calloc((size_t)T, sizeof **xl[m]);
                if (!*xl[m]) st = ms_error_set(MS_E_NOMEM, "out of memory");
                for (int k = 1; st == MS_OK && k < T; k++)
                    st = p1_merge_map(global[m], &w[k].map[m], &(*xl[m])[k]);
            }
            if (st == MS_OK) progress_rows(im, w[T - 1].c, rows, 1);
        }
    }
    for (int k = 0; w && k < T; k++) {
        if (T > 1 && w[k].rej) fclose(w[k].rej);
        free(w[k].rej_buf);
        for (int m = 0; m < 2; m++) strmap_free(&w[k].map[m]);
        free(w[k].msg);
        ms_csv_close(w[k].c);
    }
    free(w);
    free(start);
    free(line);
    free(path);
    return st;
}

static ms_status_t pass1_settlements(import_t *im)
{
    const char *names[MS_MAX_COLUMNS];
    spill_t *sp[2] = {&im->sett_spill, &im->id_spill};
    const char *tags[2] = {"settlements", "settle-ids"};
    const size_t sizes[2] = {sizeof(sett_rec_t), sizeof(id_rec_t)};
    strmap_t *global[2] = {&im->diag, &im->proc};
    int32_t ***xl[2] = {&im->xl_diag, &im->xl_proc};
    return pass1_file(im, "settlements.csv", table_columns(MS_TABLE_SETTLEMENTS, names),
                      MS_SC_COUNT, sp, tags, sizes, sett_range, 2, global, xl);
}

static ms_status_t pass1_drugs(import_t *im)
{
    spill_t *sp[2] = {&im->drug_spill, NULL};
    const char *tags[2] = {"drug-items", NULL};
    const size_t sizes[2] = {sizeof(drug_rec_t), 0};
    strmap_t *global[2] = {&im->drug, NULL};
    int32_t ***xl[2] = {&im->xl_drug, NULL};
    return pass1_file(im, "drug_items.csv", drug_columns, DI_COUNT, sp, tags, sizes, drug_range, 1,
                      global, xl);
}

/* ------------------------------------------------------------------ */
/* Parallel stages: per-task results, merged in a fixed order.          */

typedef struct {
    ms_status_t st;
    uint64_t line; /* of an input error: orders the duplicate check */
    char *msg;     /* the error detail, NULL until the task fails */
    reject_list_t rejects;
    uint64_t rows[MS_TABLE_COUNT];
} task_t;

/* Keep a task's error detail (the detail buffer is per thread). */
static void task_fail(task_t *t, ms_status_t st, uint64_t line, const char *msg)
{
    t->st = st;
    t->line = line;
    free(t->msg);
    t->msg = strdup(msg);
}

static ms_status_t task_error(const task_t *t)
{
    return ms_error_set(t->st, "%s", t->msg ? t->msg : "out of memory");
}

static int nthreads(const import_t *im)
{
    int n = im->opts->threads > 0 ? im->opts->threads : omp_get_max_threads();
    if ((uint32_t)n > im->nparts) n = (int)im->nparts;
    return n < 1 ? 1 : n;
}

static int id_rec_cmp(const void *a, const void *b)
{
    const id_rec_t *x = a, *y = b;
    if (x->settle_id != y->settle_id) return x->settle_id < y->settle_id ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Check one bucket of settle_ids; every later occurrence is a bad row. */
static void dup_check_bucket(import_t *im, uint32_t b, task_t *t)
{
    void *data;
    size_t n;
    ms_status_t st = spill_load(&im->id_spill, b, &data, &n);
    if (st != MS_OK) {
        task_fail(t, st, 0, ms_error_detail());
        return;
    }
    id_rec_t *v = data;
    if (n > 1) qsort(v, n, sizeof *v, id_rec_cmp);
    char value[24], reason[REASON_MAX];
    for (size_t i = 1, first = 0; i < n && (t->st == MS_OK || t->st == MS_E_INPUT); i++) {
        if (v[i].settle_id != v[first].settle_id) {
            first = i;
            continue;
        }
        snprintf(value, sizeof value, "%llu", (unsigned long long)v[i].settle_id);
        snprintf(reason, sizeof reason, "duplicate settle_id %s (first at line %llu)", value,
                 (unsigned long long)v[first].line);
        if (im->opts->skip_bad) {
            st = reject_push(&t->rejects, 0, v[i].line, "settle_id", value, reason);
            if (st != MS_OK) task_fail(t, st, 0, ms_error_detail());
        } else if (t->st == MS_OK || v[i].line < t->line) {
            /* the smallest bad line of the bucket: the first that a serial scan meets */
            char msg[MSG_MAX];
            snprintf(msg, sizeof msg, "settlements.csv line %llu, column settle_id: %s",
                     (unsigned long long)v[i].line, reason);
            task_fail(t, MS_E_INPUT, v[i].line, msg);
        }
    }
    free(data);
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Write stage rejects sorted by (file, line); remember duplicate lines. */
static ms_status_t merge_rejects(import_t *im, task_t *tasks, int keep_dup_lines)
{
    reject_list_t all = {0};
    for (uint32_t i = 0; i < im->nparts; i++) {
        for (size_t k = 0; k < tasks[i].rejects.n; k++) {
            const reject_t *r = &tasks[i].rejects.v[k];
            ms_status_t st = reject_push(&all, r->file, r->line, r->column, r->value, r->reason);
            if (st != MS_OK) {
                free(all.v);
                return st;
            }
        }
    }
    if (all.n > 1) qsort(all.v, all.n, sizeof *all.v, reject_cmp);
    if (keep_dup_lines && all.n) {
        im->dup_lines = malloc(all.n * sizeof *im->dup_lines);
        if (!im->dup_lines) {
            free(all.v);
            return ms_error_set(MS_E_NOMEM, "out of memory");
        }
        for (size_t k = 0; k < all.n; k++) im->dup_lines[k] = all.v[k].line;
        im->n_dup = all.n;
    }
    for (size_t k = 0; k < all.n; k++) {
        const reject_t *r = &all.v[k];
        rejected_write(im->rejected, data_files[r->file], r->line, r->column, r->value,
                       strlen(r->value), r->reason);
    }
    im->n_rejected += all.n;
    free(all.v);
    return all.n ? rejected_check(im) : MS_OK;
}

static task_t *tasks_new(uint32_t n) { return calloc(n, sizeof(task_t)); }

static void tasks_free(task_t *t, uint32_t n)
{
    for (uint32_t i = 0; t && i < n; i++) {
        free(t[i].rejects.v);
        free(t[i].msg);
    }
    free(t);
}

/* Stage 3: settle_id unique over the whole dataset. */
static ms_status_t check_duplicates(import_t *im)
{
    task_t *tasks = tasks_new(im->nparts);
    if (!tasks) return ms_error_set(MS_E_NOMEM, "out of memory");
#pragma omp parallel for schedule(dynamic) num_threads(nthreads(im))
    for (uint32_t b = 0; b < im->nparts; b++) dup_check_bucket(im, b, &tasks[b]);

    ms_status_t st = MS_OK;
    const task_t *worst = NULL;
    for (uint32_t b = 0; b < im->nparts; b++) {
        const task_t *t = &tasks[b];
        if (t->st == MS_OK) continue;
        /* A system error wins; among bad rows the smallest line. */
        if (!worst || (worst->st == MS_E_INPUT && (t->st != MS_E_INPUT || t->line < worst->line)))
            worst = t;
    }
    if (worst)
        st = task_error(worst);
    else
        st = merge_rejects(im, tasks, 1);
    tasks_free(tasks, im->nparts);
    return st;
}

/* ------------------------------------------------------------------ */
/* Pass 2: one partition.                                               */

typedef struct {
    uint64_t person, settle;
    int32_t date;
    uint32_t idx;
} sett_key_t;

typedef struct {
    uint64_t person, settle, trace_hi, trace_lo, line;
    int32_t date;
    uint32_t idx;
} drug_key_t;

typedef struct {
    uint64_t settle, person;
    int32_t inst;
} sett_index_t;

static int sett_key_cmp(const void *a, const void *b)
{
    const sett_key_t *x = a, *y = b;
    if (x->person != y->person) return x->person < y->person ? -1 : 1;
    if (x->date != y->date) return x->date < y->date ? -1 : 1;
    return x->settle < y->settle ? -1 : x->settle > y->settle;
}

static int drug_key_cmp(const void *a, const void *b)
{
    const drug_key_t *x = a, *y = b;
    if (x->person != y->person) return x->person < y->person ? -1 : 1;
    if (x->date != y->date) return x->date < y->date ? -1 : 1;
    if (x->settle != y->settle) return x->settle < y->settle ? -1 : 1;
    if (x->trace_hi != y->trace_hi) return x->trace_hi < y->trace_hi ? -1 : 1;
    if (x->trace_lo != y->trace_lo) return x->trace_lo < y->trace_lo ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line; /* last resort: input order */
}

static int sett_index_cmp(const void *a, const void *b)
{
    const sett_index_t *x = a, *y = b;
    return x->settle < y->settle ? -1 : x->settle > y->settle;
}

/* Reorder n records of size bytes so that slot j receives old slot perm[j];
 * cycle by cycle, with one record of scratch (perm is consumed). */
static void permute(unsigned char *base, size_t size, uint32_t *perm, size_t n, void *tmp)
{
    for (size_t i = 0; i < n; i++) {
        if (perm[i] == i) continue;
        memcpy(tmp, base + i * size, size);
        size_t j = i;
        for (;;) {
            size_t k = perm[j];
            perm[j] = (uint32_t)j;
            if (k == i) break;
            memcpy(base + j * size, base + k * size, size);
            j = k;
        }
        memcpy(base + j * size, tmp, size);
    }
}

/* Keep the row part of each spill record, packed at the front. */
static void strip_lines(unsigned char *base, size_t rec_size, size_t row_size, size_t n)
{
    for (size_t i = 0; i < n; i++) memmove(base + i * row_size, base + i * rec_size, row_size);
}

static int is_dup_line(const import_t *im, uint64_t line)
{
    return im->n_dup && bsearch(&line, im->dup_lines, im->n_dup, sizeof line, u64_cmp) != NULL;
}

static void sett_remap(const import_t *im, ms_settlement_t *r)
{
    r->inst_code = im->inst_remap[r->inst_code];
    r->diag_main = im->diag_remap[r->diag_main];
    if (r->proc_main >= 0) r->proc_main = im->proc_remap[r->proc_main];
    if (r->group_code >= 0) r->group_code = im->group_remap[r->group_code];
}

static ms_status_t sort_settlements(sett_rec_t *v, size_t n)
{
    if (n > UINT32_MAX)
        return ms_error_set(
            MS_E_USAGE, "a partition of %zu settlements is too large: import with more partitions",
            n);
    sett_key_t *key = malloc((n ? n : 1) * sizeof *key);
    uint32_t *perm = malloc((n ? n : 1) * sizeof *perm);
    if (!key || !perm) {
        free(key);
        free(perm);
        return ms_error_set(MS_E_NOMEM, "out of memory sorting %zu settlements", n);
    }
    for (size_t i = 0; i < n; i++)
        key[i] =
            (sett_key_t){v[i].row.person_id, v[i].row.settle_id, v[i].row.admit_date, (uint32_t)i};
    qsort(key, n, sizeof *key, sett_key_cmp);
    for (size_t i = 0; i < n; i++) perm[i] = key[i].idx;
    free(key);
    sett_rec_t tmp;
    permute((unsigned char *)v, sizeof *v, perm, n, &tmp);
    free(perm);
    return MS_OK;
}

static ms_status_t write_partition(const import_t *im, ms_table_id_t tid, uint32_t p,
                                   const void *rows, size_t n)
{
    static const uint64_t empty_row[32]; /* any non-NULL pointer for 0 rows */
    char path[4096];
    const ms_table_t *t = ms_table(tid);
    ms_dataset_part_path(im->tmp_dir, t, p, path, sizeof path);
    ms_part_info_t info;
    memset(&info, 0, sizeof info);
    info.index = p;
    info.count = im->nparts;
    info.rows = n;
    info.chunk_rows = im->chunk_rows;
    memcpy(info.ref_checksum, im->ref_checksum, sizeof info.ref_checksum);
    return ms_part_write_rows(path, t, n ? rows : (const void *)empty_row, &info);
}

/* The (settle_id, person, inst) of a sorted partition, sorted by settle_id. */
static ms_status_t build_sett_index(const ms_settlement_t *rows, size_t n, sett_index_t **out)
{
    sett_index_t *ix = malloc((n ? n : 1) * sizeof *ix);
    if (!ix) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        ix[i] = (sett_index_t){rows[i].settle_id, rows[i].person_id, rows[i].inst_code};
    qsort(ix, n, sizeof *ix, sett_index_cmp);
    *out = ix;
    return MS_OK;
}

static ms_status_t sett_partition(import_t *im, uint32_t p, task_t *t, sett_index_t **index,
                                  size_t *nindex)
{
    void *data;
    size_t n, kept = 0;
    MS_TRY(spill_load(&im->sett_spill, p, &data, &n));
    sett_rec_t *v = data;
    size_t off = 0;
    for (uint32_t k = 0; k < im->sett_spill.nsub; k++) {
        size_t cnt = (size_t)im->sett_spill.count[k * im->nparts + p];
        for (size_t i = off; k > 0 && i < off + cnt; i++) {
            v[i].row.diag_main = im->xl_diag[k][v[i].row.diag_main];
            if (v[i].row.proc_main >= 0) v[i].row.proc_main = im->xl_proc[k][v[i].row.proc_main];
        }
        off += cnt;
    }
    for (size_t i = 0; i < n; i++) {
        if (is_dup_line(im, v[i].line)) continue;
        if (kept != i) v[kept] = v[i];
        sett_remap(im, &v[kept].row);
        kept++;
    }
    ms_status_t st = sort_settlements(v, kept);
    ms_settlement_t *rows = data;
    if (st == MS_OK) {
        strip_lines(data, sizeof *v, sizeof *rows, kept);
        st = write_partition(im, MS_TABLE_SETTLEMENTS, p, rows, kept);
    }
    if (st == MS_OK && im->have_drugs) st = build_sett_index(rows, kept, index);
    *nindex = kept;
    t->rows[MS_TABLE_SETTLEMENTS] = kept;
    free(data);
    return st;
}

/* Check a drug item against its partition's settlements: 0 good, -1 bad. */
static int drug_link(const import_t *im, const drug_rec_t *d, const sett_index_t *ix, size_t n,
                     char *value, char *reason, const char **column)
{
    sett_index_t key = {d->row.settle_id, 0, 0};
    const sett_index_t *s = n ? bsearch(&key, ix, n, sizeof *ix, sett_index_cmp) : NULL;
    if (!s || s->person != d->row.person_id) {
        *column = "settle_id";
        snprintf(value, VALUE_SHOWN + 1, "%llu", (unsigned long long)d->row.settle_id);
        snprintf(reason, REASON_MAX,
                 "no settlement with settle_id %llu and person_id %llu (missing or rejected)",
                 (unsigned long long)d->row.settle_id, (unsigned long long)d->row.person_id);
        return -1;
    }
    if (s->inst != d->row.inst_code) {
        const char *mine = im->refs.inst[d->row.inst_code].inst_code;
        *column = "inst_code";
        snprintf(value, VALUE_SHOWN + 1, "%s", mine);
        snprintf(reason, REASON_MAX,
                 "inst_code '%s' differs from the inst_code '%s' of settlement %llu", mine,
                 im->refs.inst[s->inst].inst_code, (unsigned long long)d->row.settle_id);
        return -1;
    }
    return 0;
}

/* Remap, link-check and drop bad drug items; returns the kept count. */
static ms_status_t drug_filter(import_t *im, drug_rec_t *v, size_t n, const sett_index_t *ix,
                               size_t nix, task_t *t, size_t *kept_out)
{
    char value[VALUE_SHOWN + 1], reason[REASON_MAX];
    const char *column;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        v[i].row.inst_code = im->inst_remap[v[i].row.inst_code];
        v[i].row.drug_code = im->drug_remap[v[i].row.drug_code];
        if (drug_link(im, &v[i], ix, nix, value, reason, &column) == 0) {
            if (kept != i) v[kept] = v[i];
            kept++;
        } else if (im->opts->skip_bad) {
            MS_TRY(reject_push(&t->rejects, 1, v[i].line, column, value, reason));
        } else {
            return ms_error_set(MS_E_INPUT, "drug_items.csv line %llu, column %s: %s",
                                (unsigned long long)v[i].line, column, reason);
        }
    }
    *kept_out = kept;
    return MS_OK;
}

static ms_status_t sort_drugs(drug_rec_t *v, size_t n)
{
    if (n > UINT32_MAX)
        return ms_error_set(
            MS_E_USAGE, "a partition of %zu drug items is too large: import with more partitions",
            n);
    drug_key_t *key = malloc((n ? n : 1) * sizeof *key);
    uint32_t *perm = malloc((n ? n : 1) * sizeof *perm);
    if (!key || !perm) {
        free(key);
        free(perm);
        return ms_error_set(MS_E_NOMEM, "out of memory sorting %zu drug items", n);
    }
    for (size_t i = 0; i < n; i++) {
        const ms_drug_item_t *r = &v[i].row;
        key[i] = (drug_key_t){r->person_id, r->settle_id, r->trace_hi, r->trace_lo,
                              v[i].line,    r->date,      (uint32_t)i};
    }
    qsort(key, n, sizeof *key, drug_key_cmp);
    for (size_t i = 0; i < n; i++) perm[i] = key[i].idx;
    free(key);
    drug_rec_t tmp;
    permute((unsigned char *)v, sizeof *v, perm, n, &tmp);
    free(perm);
    return MS_OK;
}

static ms_status_t drug_partition(import_t *im, uint32_t p, task_t *t, const sett_index_t *ix,
                                  size_t nix)
{
    void *data;
    size_t n, kept = 0;
    MS_TRY(spill_load(&im->drug_spill, p, &data, &n));
    drug_rec_t *v = data;
    size_t off = 0;
    for (uint32_t k = 0; k < im->drug_spill.nsub; k++) {
        size_t cnt = (size_t)im->drug_spill.count[k * im->nparts + p];
        for (size_t i = off; k > 0 && i < off + cnt; i++)
            v[i].row.drug_code = im->xl_drug[k][v[i].row.drug_code];
        off += cnt;
    }
    ms_status_t st = drug_filter(im, v, n, ix, nix, t, &kept);
    if (st == MS_OK) st = sort_drugs(v, kept);
    if (st == MS_OK) {
        strip_lines(data, sizeof *v, sizeof(ms_drug_item_t), kept);
        st = write_partition(im, MS_TABLE_DRUG_ITEMS, p, data, kept);
    }
    t->rows[MS_TABLE_DRUG_ITEMS] = kept;
    free(data);
    return st;
}

static void pass2_partition(import_t *im, uint32_t p, task_t *t)
{
    sett_index_t *ix = NULL;
    size_t nix = 0;
    ms_status_t st = sett_partition(im, p, t, &ix, &nix);
    if (st == MS_OK && im->have_drugs) st = drug_partition(im, p, t, ix, nix);
    free(ix);
    if (st != MS_OK) task_fail(t, st, 0, ms_error_detail());
}

static void progress_parts(import_t *im, uint32_t done)
{
    progress_t *pg = &im->progress;
    double t = now_s();
    if (!pg->on || (done < im->nparts && t - pg->last < PROGRESS_SECONDS)) return;
    pg->last = t;
    fprintf(stderr, "import: sorted and wrote %u/%u partitions (%.1f s)\n", done, im->nparts,
            t - pg->start);
}

/* Stage 6.  Without skip_bad, partitions after the first failing one are
 * skipped; those before it always run, so the reported error is the first
 * in partition order whatever the thread count. */
static ms_status_t pass2(import_t *im)
{
    task_t *tasks = tasks_new(im->nparts);
    if (!tasks) return ms_error_set(MS_E_NOMEM, "out of memory");
    uint32_t first_fail = im->nparts, done = 0;
    im->progress.start = im->progress.last = now_s();
#pragma omp parallel for schedule(dynamic) num_threads(nthreads(im))
    for (uint32_t p = 0; p < im->nparts; p++) {
        uint32_t ff;
#pragma omp atomic read
        ff = first_fail;
        if (p > ff) continue;
        pass2_partition(im, p, &tasks[p]);
#pragma omp critical(ms_import_pass2)
        {
            if (tasks[p].st != MS_OK && p < first_fail) {
#pragma omp atomic write
                first_fail = p;
            }
            progress_parts(im, ++done);
        }
    }
    ms_status_t st = MS_OK;
    if (first_fail < im->nparts) {
        st = task_error(&tasks[first_fail]);
    } else {
        for (uint32_t p = 0; p < im->nparts; p++)
            for (int k = 0; k < MS_TABLE_COUNT; k++) im->rows[k] += tasks[p].rows[k];
        st = merge_rejects(im, tasks, 0);
    }
    tasks_free(tasks, im->nparts);
    return st;
}

/* ------------------------------------------------------------------ */
/* Reference files: sorted dictionaries, final ids, checksums.          */

typedef struct {
    const char *s;
    int32_t id;
} dict_sort_t;

static int dict_sort_cmp(const void *a, const void *b)
{
    return strcmp(((const dict_sort_t *)a)->s, ((const dict_sort_t *)b)->s);
}

/* Sort a dictionary by strcmp: the final id of a code is its rank, so the
 * encoding depends only on the set of codes.  The strings move to d. */
static ms_status_t finish_dict(strmap_t *m, ms_dict_t *d, int32_t **remap)
{
    size_t n = m->n, cap = n ? n : 1;
    dict_sort_t *v = malloc(cap * sizeof *v);
    *remap = malloc(cap * sizeof **remap);
    d->str = malloc(cap * sizeof *d->str);
    if (!v || !*remap || !d->str) {
        free(v);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) v[i] = (dict_sort_t){m->str[i], (int32_t)i};
    qsort(v, n, sizeof *v, dict_sort_cmp);
    for (size_t r = 0; r < n; r++) {
        (*remap)[v[r].id] = (int32_t)r;
        d->str[r] = m->str[v[r].id];
    }
    d->count = n;
    m->released = 1;
    free(v);
    return MS_OK;
}

typedef int32_t (*ref_find_fn)(const ms_refs_t *r, const char *code, size_t len);

/* Provisional id (row in the CSV) -> id after ms_refs_finish sorted. */
static ms_status_t remap_refs(const ms_refs_t *refs, const strmap_t *m, ref_find_fn find,
                              int32_t **remap)
{
    *remap = malloc((m->n ? m->n : 1) * sizeof **remap);
    if (!*remap) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (size_t i = 0; i < m->n; i++) {
        (*remap)[i] = find(refs, m->str[i], m->len[i]);
        if ((*remap)[i] < 0)
            return ms_error_set(MS_E_INTERNAL, "code '%s' lost while sorting the references",
                                m->str[i]);
    }
    return MS_OK;
}

static ms_status_t finish_refs(import_t *im)
{
    MS_TRY(finish_dict(&im->diag, &im->refs.diagnoses, &im->diag_remap));
    MS_TRY(finish_dict(&im->proc, &im->refs.procedures, &im->proc_remap));
    MS_TRY(finish_dict(&im->drug, &im->refs.drugs, &im->drug_remap));
    MS_TRY(ms_refs_finish(&im->refs));
    MS_TRY(remap_refs(&im->refs, &im->inst, ms_refs_inst_find, &im->inst_remap));
    MS_TRY(remap_refs(&im->refs, &im->group, ms_refs_group_find, &im->group_remap));
    ms_refs_checksum_text(&im->refs, im->ref_checksum);
    return ms_refs_write(&im->refs, im->tmp_dir);
}

/* ------------------------------------------------------------------ */
/* Output directory: checks, temporary build directory, swap into place. */

static ms_status_t check_output(const import_t *im)
{
    return ms_outdir_check(im->out_dir, im->opts->replace, ms_dataset_exists, "a dataset");
}

/* Default: one partition per 256 MiB of settlements.csv, 1..4096; an
 * explicit count is taken as given. */
static ms_status_t choose_partitions(import_t *im)
{
    char *path = ms_path_join(im->csv_dir, "settlements.csv");
    char *drugs = ms_path_join(im->csv_dir, "drug_items.csv");
    struct stat sb;
    ms_status_t st = MS_OK;
    if (!path || !drugs)
        st = ms_error_set(MS_E_NOMEM, "out of memory");
    else if (stat(path, &sb) != 0)
        st = ms_error_errno(MS_E_IO, errno, "cannot open %s", path);
    if (st == MS_OK) {
        uint64_t n = ((uint64_t)sb.st_size + PART_BYTES_DEFAULT - 1) / PART_BYTES_DEFAULT;
        n = n < 1 ? 1 : n > MAX_PARTITIONS ? MAX_PARTITIONS : n;
        im->nparts = im->opts->partitions ? im->opts->partitions : (uint32_t)n;
        im->have_drugs = ms_path_exists(drugs);
    }
    free(path);
    free(drugs);
    return st;
}

static ms_status_t make_dir_in(const char *dir, const char *name, char **out)
{
    char *p = ms_path_join(dir, name);
    if (!p) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_status_t st = ms_mkdirs(p);
    if (out && st == MS_OK)
        *out = p;
    else
        free(p);
    return st;
}

static ms_status_t open_rejected(import_t *im)
{
    char *path = ms_path_join(im->tmp_dir, "rejected.csv");
    if (!path) return ms_error_set(MS_E_NOMEM, "out of memory");
    im->rejected = fopen(path, "w");
    ms_status_t st = MS_OK;
    if (!im->rejected)
        st = ms_error_errno(MS_E_IO, errno, "cannot create %s", path);
    else
        fputs("file,line,column,value,reason\n", im->rejected);
    free(path);
    return st;
}

static ms_status_t make_tmp(import_t *im)
{
    size_t n = strlen(im->out_dir) + 40;
    im->tmp_dir = malloc(n);
    if (!im->tmp_dir) return ms_error_set(MS_E_NOMEM, "out of memory");
    snprintf(im->tmp_dir, n, "%s.importing-%ld", im->out_dir, (long)getpid());
    MS_TRY(ms_remove_tree(im->tmp_dir)); /* left over by a killed run with our pid */
    MS_TRY(ms_mkdirs(im->tmp_dir));
    im->tmp_made = 1;
    MS_TRY(make_dir_in(im->tmp_dir, ".spill", &im->spill_dir));
    MS_TRY(make_dir_in(im->tmp_dir, ms_table(MS_TABLE_SETTLEMENTS)->name, NULL));
    if (im->have_drugs) MS_TRY(make_dir_in(im->tmp_dir, ms_table(MS_TABLE_DRUG_ITEMS)->name, NULL));
    return im->opts->skip_bad ? open_rejected(im) : MS_OK;
}

static ms_status_t import_prepare(import_t *im, const char *csv_dir, const char *dataset_dir)
{
    im->csv_dir = strdup(csv_dir);
    im->out_dir = strdup(dataset_dir);
    if (!im->csv_dir || !im->out_dir) return ms_error_set(MS_E_NOMEM, "out of memory");
    size_t len = strlen(im->out_dir);
    while (len > 1 && im->out_dir[len - 1] == '/') im->out_dir[--len] = '\0';
    im->chunk_rows = im->opts->chunk_rows ? im->opts->chunk_rows : MS_DEFAULT_CHUNK_ROWS;
    MS_TRY(check_output(im));
    MS_TRY(choose_partitions(im));
    return make_tmp(im);
}

static ms_status_t close_rejected(import_t *im)
{
    FILE *fp = im->rejected;
    im->rejected = NULL;
    int err = 0;
    if (fflush(fp) != 0 || ferror(fp))
        err = errno ? errno : EIO;
    else if (fsync(fileno(fp)) != 0)
        err = errno;
    if (fclose(fp) != 0 && !err) err = errno;
    if (err) return ms_error_errno(MS_E_IO, err, "cannot write %s/rejected.csv", im->out_dir);
    return MS_OK;
}

/* Swap the finished build directory in (ms_outdir_install). */
static ms_status_t install(import_t *im)
{
    MS_TRY(ms_remove_tree(im->spill_dir));
    if (im->rejected) MS_TRY(close_rejected(im));
    MS_TRY(ms_outdir_install(im->tmp_dir, im->out_dir, ms_dataset_exists));
    im->tmp_made = 0;
    return MS_OK;
}

static ms_status_t import_run(import_t *im)
{
    MS_TRY(read_institutions(im));
    MS_TRY(read_groups(im));
    MS_TRY(pass1_settlements(im));
    MS_TRY(spill_close(&im->sett_spill));
    MS_TRY(spill_close(&im->id_spill));
    MS_TRY(check_duplicates(im));
    if (im->have_drugs) {
        MS_TRY(pass1_drugs(im));
        MS_TRY(spill_close(&im->drug_spill));
    }
    MS_TRY(finish_refs(im));
    return pass2(im);
}

static void import_free(import_t *im, ms_status_t st)
{
    char saved[MSG_MAX];
    snprintf(saved, sizeof saved, "%s", ms_error_detail());
    if (im->rejected) fclose(im->rejected);
    if (im->tmp_made) ms_remove_tree(im->tmp_dir);
    if (st != MS_OK) ms_error_set(st, "%s", saved); /* cleanup must not hide the cause */
    int32_t **xls[] = {im->xl_diag, im->xl_proc, im->xl_drug};
    uint32_t nxl[] = {im->sett_spill.nsub, im->sett_spill.nsub, im->drug_spill.nsub};
    for (size_t i = 0; i < 3; i++) {
        for (uint32_t k = 0; xls[i] && k < nxl[i]; k++) free(xls[i][k]);
        free(xls[i]);
    }
    spill_free(&im->sett_spill);
    spill_free(&im->id_spill);
    spill_free(&im->drug_spill);
    strmap_t *maps[] = {&im->inst, &im->group, &im->diag, &im->proc, &im->drug};
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) strmap_free(maps[i]);
    int32_t *remaps[] = {im->inst_remap, im->group_remap, im->diag_remap, im->proc_remap,
                         im->drug_remap};
    for (size_t i = 0; i < sizeof remaps / sizeof remaps[0]; i++) free(remaps[i]);
    ms_refs_free(&im->refs);
    free(im->dup_lines);
    free(im->csv_dir);
    free(im->out_dir);
    free(im->tmp_dir);
    free(im->spill_dir);
}

ms_status_t ms_import(const char *csv_dir, const char *dataset_dir, const ms_import_opts_t *opts,
                      ms_import_result_t *res)
{
    static const ms_import_opts_t defaults;
    ms_import_result_t scratch;
    double t0 = now_s();
    if (!res) res = &scratch;
    memset(res, 0, sizeof *res);
    if (!csv_dir || !dataset_dir || !*csv_dir || !*dataset_dir)
        return ms_error_set(MS_E_USAGE, "import needs CSV_DIR and DATASET_DIR");
    import_t im;
    memset(&im, 0, sizeof im);
    im.opts = opts ? opts : &defaults;
    im.progress.on = im.opts->progress;
    ms_status_t st = import_prepare(&im, csv_dir, dataset_dir);
    if (st == MS_OK) st = import_run(&im);
    if (st == MS_OK) {
        res->institutions = im.refs.n_inst;
        res->groups = im.refs.n_groups;
        res->settlements = im.rows[MS_TABLE_SETTLEMENTS];
        res->drug_items = im.rows[MS_TABLE_DRUG_ITEMS];
        res->rejected = im.n_rejected;
        res->partitions = im.nparts;
        st = install(&im);
    }
    import_free(&im, st);
    res->seconds = now_s() - t0;
    return st;
}
