/*
 * ms_import_pass2.c - pass 2, in parallel over partitions (each thread owns
 * whole partitions, OpenMP dynamic schedule): load a partition's spill,
 * give codes their final ids, drop rows rejected as duplicates, sort by
 * (person_id, date, settle_id), check drug items (here) and bill lines
 * (ms_import_bills.c) against the partition's settlements, write the HDF5
 * partition(s).  Without skip_bad the first failing partition in partition
 * order is the error, whatever the threads.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_clock.h"
#include "ms_dataset.h"
#include "ms_import_int.h"
#include "ms_part.h"

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
void imp_strip_lines(unsigned char *base, size_t rec_size, size_t row_size, size_t n)
{
    for (size_t i = 0; i < n; i++) memmove(base + i * row_size, base + i * rec_size, row_size);
}

static void sett_remap(const import_t *im, ms_settlement_t *r)
{
    r->inst_code = im->inst_remap[r->inst_code];
    r->diag_main = im->diag_remap[r->diag_main];
    if (r->proc_main >= 0) r->proc_main = im->proc_remap[r->proc_main];
    if (r->group_code >= 0) r->group_code = im->group_remap[r->group_code];
}

/* Sort the n records of v (rec_size bytes each; what names them in
 * messages) by keys of key_size bytes: make_key writes record i's key, which
 * holds i as the uint32_t at idx_off, and cmp orders keys.  tmp is one
 * record of scratch. */
ms_status_t imp_sort_records(void *v, size_t rec_size, size_t n, const char *what, size_t key_size,
                             size_t idx_off, void (*make_key)(const void *rec, uint32_t i, void *key),
                             int (*cmp)(const void *, const void *), void *tmp)
{
    if (n > UINT32_MAX)
        return ms_error_set(
            MS_E_USAGE, "a partition of %zu %s is too large: import with more partitions", n, what);
    unsigned char *key = malloc((n ? n : 1) * key_size);
    uint32_t *perm = malloc((n ? n : 1) * sizeof *perm);
    if (!key || !perm) {
        free(key);
        free(perm);
        return ms_error_set(MS_E_NOMEM, "out of memory sorting %zu %s", n, what);
    }
    const unsigned char *rec = v;
    for (size_t i = 0; i < n; i++) make_key(rec + i * rec_size, (uint32_t)i, key + i * key_size);
    qsort(key, n, key_size, cmp);
    for (size_t i = 0; i < n; i++) memcpy(&perm[i], key + i * key_size + idx_off, sizeof *perm);
    free(key);
    permute(v, rec_size, perm, n, tmp);
    free(perm);
    return MS_OK;
}

static void sett_make_key(const void *rec, uint32_t i, void *key)
{
    const ms_settlement_t *r = &((const sett_rec_t *)rec)->row;
    *(sett_key_t *)key = (sett_key_t){r->person_id, r->settle_id, r->admit_date, i};
}

static ms_status_t sort_settlements(sett_rec_t *v, size_t n)
{
    sett_rec_t tmp;
    return imp_sort_records(v, sizeof *v, n, "settlements", sizeof(sett_key_t),
                        offsetof(sett_key_t, idx), sett_make_key, sett_key_cmp, &tmp);
}

ms_status_t imp_write_partition(const import_t *im, ms_table_id_t tid, uint32_t p, const void *rows,
                                size_t n)
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

/* The (settle_id, person, inst, row) of a sorted partition, sorted by settle_id. */
static ms_status_t build_sett_index(const ms_settlement_t *rows, size_t n, sett_index_t **out)
{
    sett_index_t *ix = malloc((n ? n : 1) * sizeof *ix);
    if (!ix) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        ix[i] = (sett_index_t){rows[i].settle_id, rows[i].person_id, rows[i].inst_code, (uint32_t)i};
    qsort(ix, n, sizeof *ix, sett_index_cmp);
    *out = ix;
    return MS_OK;
}

const sett_index_t *imp_sett_find(const sett_index_t *ix, size_t n, uint64_t settle_id)
{
    sett_index_t key = {settle_id, 0, 0, 0};
    return n ? bsearch(&key, ix, n, sizeof *ix, sett_index_cmp) : NULL;
}

/* The partition's settlements: written, and (when drug items or bill lines
 * are checked against them) kept in *rows_out with their index. */
static ms_status_t sett_partition(import_t *im, uint32_t p, task_t *t, ms_settlement_t **rows_out,
                                  sett_index_t **index, size_t *nindex)
{
    void *data;
    size_t n, kept = 0;
    MS_TRY(imp_spill_load(&im->sett_spill, p, &data, &n));
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
        if (imp_is_dup_line(im, v[i].line)) continue;
        if (kept != i) v[kept] = v[i];
        sett_remap(im, &v[kept].row);
        kept++;
    }
    ms_status_t st = sort_settlements(v, kept);
    ms_settlement_t *rows = data;
    if (st == MS_OK) {
        imp_strip_lines(data, sizeof *v, sizeof *rows, kept);
        st = imp_write_partition(im, MS_TABLE_SETTLEMENTS, p, rows, kept);
    }
    if (st == MS_OK && (im->have_drugs || im->have_services)) st = build_sett_index(rows, kept, index);
    *nindex = kept;
    t->rows[MS_TABLE_SETTLEMENTS] = kept;
    if (st == MS_OK && im->have_services)
        *rows_out = rows;
    else
        free(data);
    return st;
}

/* Check a drug item against its partition's settlements: 0 good, -1 bad. */
static int drug_link(const import_t *im, const drug_rec_t *d, const sett_index_t *ix, size_t n,
                     char *value, char *reason, const char **column)
{
    const sett_index_t *s = imp_sett_find(ix, n, d->row.settle_id);
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
            MS_TRY(imp_reject_push(&t->rejects, 1, v[i].line, column, value, reason));
        } else {
            return ms_error_set(MS_E_INPUT, "drug_items.csv line %llu, column %s: %s",
                                (unsigned long long)v[i].line, column, reason);
        }
    }
    *kept_out = kept;
    return MS_OK;
}

static void drug_make_key(const void *rec, uint32_t i, void *key)
{
    const drug_rec_t *d = rec;
    const ms_drug_item_t *r = &d->row;
    *(drug_key_t *)key = (drug_key_t){r->person_id, r->settle_id, r->trace_hi, r->trace_lo,
                                      d->line,      r->date,      i};
}

static ms_status_t sort_drugs(drug_rec_t *v, size_t n)
{
    drug_rec_t tmp;
    return imp_sort_records(v, sizeof *v, n, "drug items", sizeof(drug_key_t),
                        offsetof(drug_key_t, idx), drug_make_key, drug_key_cmp, &tmp);
}

static ms_status_t drug_partition(import_t *im, uint32_t p, task_t *t, const sett_index_t *ix,
                                  size_t nix)
{
    void *data;
    size_t n, kept = 0;
    MS_TRY(imp_spill_load(&im->drug_spill, p, &data, &n));
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
        imp_strip_lines(data, sizeof *v, sizeof(ms_drug_item_t), kept);
        st = imp_write_partition(im, MS_TABLE_DRUG_ITEMS, p, data, kept);
    }
    t->rows[MS_TABLE_DRUG_ITEMS] = kept;
    free(data);
    return st;
}

static void pass2_partition(import_t *im, uint32_t p, task_t *t)
{
    sett_index_t *ix = NULL;
    ms_settlement_t *rows = NULL;
    size_t nix = 0;
    ms_status_t st = sett_partition(im, p, t, &rows, &ix, &nix);
    if (st == MS_OK && im->have_drugs) st = drug_partition(im, p, t, ix, nix);
    if (st == MS_OK && im->have_services) st = imp_svc_partition(im, p, t, rows, ix, nix);
    free(rows);
    free(ix);
    if (st != MS_OK) imp_task_fail(t, st, 0, ms_error_detail());
}

static void pass2_report(import_t *im, uint32_t done, double start, int finished)
{
    double el = ms_now_s() - start;
    ms_progress_t p = {0};
    p.stage = "sorting and writing";
    p.done = done;
    p.total = im->nparts;
    p.unit = "partitions";
    p.eta_seconds = done && !finished ? el * (double)(im->nparts - done) / (double)done : -1.0;
    p.finished = finished;
    imp_report(im, &p);
}

/* Stage 6.  Without skip_bad, partitions after the first failing one are
 * skipped; those before it always run, so the reported error is the first
 * in partition order whatever the thread count. */
ms_status_t imp_pass2(import_t *im)
{
    task_t *tasks = imp_tasks_new(im->nparts);
    if (!tasks) return ms_error_set(MS_E_NOMEM, "out of memory");
    uint32_t first_fail = im->nparts, done = 0;
    double start = ms_now_s();
    im->reported = 0;
#pragma omp parallel for schedule(dynamic) num_threads(imp_nthreads(im))
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
            ++done;
            if (im->opts->progress && done < im->nparts) pass2_report(im, done, start, 0);
        }
    }
    /* The stage's last report: always after success, and after a failure
     * when there was an earlier one to close. */
    if (im->opts->progress && (first_fail == im->nparts || im->reported))
        pass2_report(im, done, start, 1);
    ms_status_t st = MS_OK;
    if (first_fail < im->nparts) {
        st = imp_task_error(&tasks[first_fail]);
    } else {
        for (uint32_t p = 0; p < im->nparts; p++)
            for (int k = 0; k < MS_TABLE_COUNT; k++) im->rows[k] += tasks[p].rows[k];
        st = imp_merge_rejects(im, tasks, 0);
    }
    imp_tasks_free(tasks, im->nparts);
    return st;
}
