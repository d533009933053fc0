/*
 * ms_import_pass1.c - pass 1: settlements.csv, service_items.csv and
 * drug_items.csv streamed once.  A large file is split into byte ranges at record boundaries and
 * read by several threads, each with its own spill files, dictionaries and
 * rejected rows (kept in memory), all merged in range order so that the
 * result does not depend on the threads.  Each good row goes, with its
 * source line, to the spill file of its partition (ms_person_partition);
 * each settlement's (settle_id, person_id, line) also to a bucket for the
 * duplicate check, and each bill line's to the same bucket of its settle_id
 * for stage 3 to find its settlement.  Without skip_bad the first bad row in file order stops the import.
 */
#include <errno.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <xxhash.h>

#include "ms_clock.h"
#include "ms_fs.h"
#include "ms_import_int.h"

#define P1_PARALLEL_MIN ((uint64_t)64 << 20) /* smaller files: one reader */
#define P1_TICK_ROWS 0xFFFF                  /* progress looked at every 64K rows */

typedef struct p1_set p1_set_t;

/* One reader of a pass 1 file (one byte range of it): its rejected rows
 * (in memory when there are several readers), dictionaries and error. */
typedef struct {
    p1_set_t *set;
    ms_csv_t *c;
    uint64_t start; /* first byte of the range */
    FILE *rej;
    char *rej_buf;
    size_t rej_len;
    uint64_t n_rejected, rows;
    uint64_t shown_rows, shown_bytes; /* for progress: written under its critical section */
    strmap_t map[2];
    ms_status_t st;
    char *msg;
} p1_t;

/* All readers of one file. */
struct p1_set {
    import_t *im;
    p1_t *w;
    int n;
    const char *name;
    uint64_t size;
    double start;
};

/* ------------------------------------------------------------------ */
/* Progress: the readers' counts summed, one thread at a time.          */

static void p1_report(p1_set_t *s, int finished)
{
    uint64_t rows = 0, bytes = 0;
    for (int k = 0; k < s->n; k++) {
        rows += s->w[k].shown_rows;
        bytes += s->w[k].shown_bytes;
    }
    if (bytes > s->size) bytes = s->size;
    double el = ms_now_s() - s->start;
    ms_progress_t p = {0};
    p.stage = s->name;
    p.done = finished ? 100 : s->size ? bytes * 100 / s->size : 100;
    p.total = 100;
    p.unit = "%";
    p.records = rows;
    p.eta_seconds = bytes && !finished ? el * (double)(s->size - bytes) / (double)bytes : -1.0;
    p.finished = finished;
    imp_report(s->im, &p);
}

/* Every 64K rows a reader publishes its counts and the file's progress is
 * reported (imp_report keeps to a few times a second). */
static void p1_tick(p1_t *w)
{
    if (!w->set->im->opts->progress || (w->rows & P1_TICK_ROWS) != 0) return;
    uint64_t bytes = ms_csv_bytes_read(w->c) - w->start;
#pragma omp critical(ms_import_progress)
    {
        w->shown_rows = w->rows;
        w->shown_bytes = bytes;
        p1_report(w->set, 0);
    }
}

/* ------------------------------------------------------------------ */
/* Reading a range.                                                     */

static ms_status_t p1_rejected_check(const import_t *im, const p1_t *w)
{
    if (!ferror(w->rej)) return MS_OK;
    return ms_error_errno(MS_E_IO, errno ? errno : EIO, "cannot write %s/rejected.csv",
                          im->out_dir);
}

/* Record a bad row: write it to rejected.csv (skip_bad) or fail. */
static ms_status_t row_reject(const import_t *im, p1_t *w, uint64_t line, const row_err_t *e)
{
    if (!im->opts->skip_bad) return imp_row_fail(ms_csv_name(w->c), line, e);
    imp_rejected_write(w->rej, ms_csv_name(w->c), line, e->column, e->value, e->vlen, e->reason);
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
        imp_rejected_write(w->rej, ms_csv_name(c), *line, "", "", 0, reason);
        w->n_rejected++;
        MS_TRY(p1_rejected_check(im, w));
    }
}

/* The settle_id bucket: any fixed hash spreads ids evenly. */
static uint32_t id_bucket(uint64_t settle_id, uint32_t n)
{
    return (uint32_t)(XXH3_64bits(&settle_id, sizeof settle_id) % n);
}

static ms_status_t sett_spill_row(import_t *im, uint32_t sub, const sett_rec_t *rec)
{
    id_rec_t idr = {rec->row.settle_id, rec->row.person_id, rec->line};
    MS_TRY(imp_spill_put(&im->sett_spill, sub, ms_person_partition(rec->row.person_id, im->nparts),
                         rec));
    return imp_spill_put(&im->id_spill, sub, id_bucket(idr.settle_id, im->nparts), &idr);
}

static ms_status_t sett_range(import_t *im, p1_t *w, uint32_t sub)
{
    sett_rec_t rec;
    memset(&rec, 0, sizeof rec); /* padding bytes go to disk: keep them defined */
    const ms_field_t *f;
    row_err_t e;
    ms_status_t st;
    while ((st = next_record(im, w, &f, &rec.line)) == MS_OK && f) {
        int rc = imp_sett_parse(im, &w->map[0], &w->map[1], f, rec.line, &rec.row, &e);
        if (rc > 0)
            st = ms_error_set(MS_E_NOMEM, "out of memory");
        else if (rc < 0)
            st = row_reject(im, w, rec.line, &e);
        else
            st = sett_spill_row(im, sub, &rec);
        if (st != MS_OK) break;
        ++w->rows;
        p1_tick(w);
    }
    return st;
}

static ms_status_t drug_range(import_t *im, p1_t *w, uint32_t sub)
{
    drug_rec_t rec;
    memset(&rec, 0, sizeof rec);
    const ms_field_t *f;
    row_err_t e;
    ms_status_t st;
    while ((st = next_record(im, w, &f, &rec.line)) == MS_OK && f) {
        int rc = imp_drug_parse(im, &w->map[0], f, rec.line, &rec.row, &e);
        if (rc > 0)
            st = ms_error_set(MS_E_NOMEM, "out of memory");
        else if (rc < 0)
            st = row_reject(im, w, rec.line, &e);
        else
            st = imp_spill_put(&im->drug_spill, sub,
                               ms_person_partition(rec.row.person_id, im->nparts), &rec);
        if (st != MS_OK) break;
        ++w->rows;
        p1_tick(w);
    }
    return st;
}

static ms_status_t svc_spill_row(import_t *im, uint32_t sub, const svc_rec_t *rec)
{
    id_rec_t idr = {rec->row.settle_id, rec->row.person_id, rec->line};
    MS_TRY(imp_spill_put(&im->svc_spill, sub, ms_person_partition(rec->row.person_id, im->nparts), rec));
    return imp_spill_put(&im->svc_id_spill, sub, id_bucket(idr.settle_id, im->nparts), &idr);
}

static ms_status_t svc_range(import_t *im, p1_t *w, uint32_t sub)
{
    svc_rec_t rec;
    memset(&rec, 0, sizeof rec); /* padding bytes go to disk: keep them defined */
    const ms_field_t *f;
    row_err_t e;
    ms_status_t st;
    while ((st = next_record(im, w, &f, &rec.line)) == MS_OK && f) {
        int rc = imp_svc_parse(im, &w->map[0], f, rec.line, &rec.row, &e);
        if (rc > 0)
            st = ms_error_set(MS_E_NOMEM, "out of memory");
        else if (rc < 0)
            st = row_reject(im, w, rec.line, &e);
        else
            st = svc_spill_row(im, sub, &rec);
        if (st != MS_OK) break;
        ++w->rows;
        p1_tick(w);
    }
    return st;
}

/* ------------------------------------------------------------------ */
/* A file: byte ranges read in parallel, merged in range order.         */

typedef ms_status_t (*p1_range_fn)(import_t *im, p1_t *w, uint32_t sub);

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
    p1_set_t set = {im, w, T, name, 0, 0.0};
    ms_status_t st = (start && line && w) ? MS_OK : ms_error_set(MS_E_NOMEM, "out of memory");
    if (st == MS_OK && T > 1) st = ms_csv_split(path, T, T, start, line);
    if (st == MS_OK)
        st = ms_csv_open_range(path, cols, ncols, T > 1 ? start[1] : UINT64_MAX, &w[0].c);
    for (int k = 1; st == MS_OK && k < T; k++)
        st = ms_csv_open_at(w[0].c, start[k], k + 1 < T ? start[k + 1] : UINT64_MAX, line[k],
                            &w[k].c);
    for (int i = 0; st == MS_OK && i < 2 && sp[i]; i++)
        st = imp_spill_init(sp[i], im->spill_dir, tags[i], im->nparts, (uint32_t)T, rec_size[i]);
    for (int k = 0; st == MS_OK && k < T; k++) {
        w[k].set = &set;
        w[k].start = start[k];
        if (!im->opts->skip_bad) continue;
        w[k].rej = T == 1 ? im->rejected : open_memstream(&w[k].rej_buf, &w[k].rej_len);
        if (!w[k].rej) st = ms_error_set(MS_E_NOMEM, "out of memory");
    }
    if (st == MS_OK) {
        set.size = ms_csv_file_size(w[0].c);
        set.start = ms_now_s();
        im->reported = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(T)
        for (int k = 0; k < T; k++) {
            ms_status_t s = fn(im, &w[k], (uint32_t)k);
            if (s != MS_OK) {
                w[k].st = s;
                w[k].msg = strdup(ms_error_detail());
            }
        }
        /* The first failing range holds the first bad row of the file. */
        int fail = 0;
        while (fail < T && w[fail].st == MS_OK) fail++;
        for (int k = 0; k < T && k <= fail; k++) {
            im->n_rejected += w[k].n_rejected;
            if (T == 1 || !w[k].rej) continue;
            fclose(w[k].rej);
            w[k].rej = NULL;
            if (w[k].rej_len) fwrite(w[k].rej_buf, 1, w[k].rej_len, im->rejected);
        }
        if (fail < T) {
            st = ms_error_set(w[fail].st, "%s", w[fail].msg ? w[fail].msg : "out of memory");
        } else {
            if (im->opts->skip_bad && T > 1) st = imp_rejected_check(im);
            for (int m = 0; st == MS_OK && m < nmaps; m++) {
                *global[m] = w[0].map[m];
                memset(&w[0].map[m], 0, sizeof w[0].map[m]);
                *xl[m] = calloc((size_t)T, sizeof **xl[m]);
                if (!*xl[m]) st = ms_error_set(MS_E_NOMEM, "out of memory");
                for (int k = 1; st == MS_OK && k < T; k++)
                    st = imp_strmap_merge(global[m], &w[k].map[m], &(*xl[m])[k]);
            }
        }
        /* The stage's last report: always after success, and after a failure
         * when there was an earlier one to close. */
        if (im->opts->progress && (st == MS_OK || im->reported)) {
            for (int k = 0; k < T; k++) {
                w[k].shown_rows = w[k].rows;
                w[k].shown_bytes = ms_csv_bytes_read(w[k].c) - w[k].start;
            }
            p1_report(&set, 1);
        }
    }
    for (int k = 0; w && k < T; k++) {
        if (T > 1 && w[k].rej) fclose(w[k].rej);
        free(w[k].rej_buf);
        for (int m = 0; m < 2; m++) imp_strmap_free(&w[k].map[m]);
        free(w[k].msg);
        ms_csv_close(w[k].c);
    }
    free(w);
    free(start);
    free(line);
    free(path);
    return st;
}

static const char *const *table_columns(ms_table_id_t id, const char **buf)
{
    const ms_table_t *t = ms_table(id);
    for (int i = 0; i < t->ncols; i++) buf[i] = t->cols[i].name;
    return buf;
}

ms_status_t imp_pass1_settlements(import_t *im)
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

ms_status_t imp_pass1_services(import_t *im)
{
    const char *names[MS_MAX_COLUMNS];
    spill_t *sp[2] = {&im->svc_spill, &im->svc_id_spill};
    const char *tags[2] = {"service-items", "service-ids"};
    const size_t sizes[2] = {sizeof(svc_rec_t), sizeof(id_rec_t)};
    strmap_t *global[2] = {&im->item, NULL};
    int32_t ***xl[2] = {&im->xl_item, NULL};
    return pass1_file(im, "service_items.csv", table_columns(MS_TABLE_SERVICE_ITEMS, names), MS_SIC_COUNT, sp,
                      tags, sizes, svc_range, 1, global, xl);
}

ms_status_t imp_pass1_drugs(import_t *im)
{
    spill_t *sp[2] = {&im->drug_spill, NULL};
    const char *tags[2] = {"drug-items", NULL};
    const size_t sizes[2] = {sizeof(drug_rec_t), 0};
    strmap_t *global[2] = {&im->drug, NULL};
    int32_t ***xl[2] = {&im->xl_drug, NULL};
    return pass1_file(im, "drug_items.csv", imp_drug_columns, DI_COUNT, sp, tags, sizes,
                      drug_range, 1, global, xl);
}
