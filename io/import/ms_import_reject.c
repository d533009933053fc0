/*
 * ms_import_reject.c - bad rows and the outcome of parallel tasks.  Lines of
 * rejected.csv (skip_bad); the rejects a task of a parallel stage (a bucket
 * of the duplicate check, a partition of pass 2) collects, with its error,
 * merged afterwards in (file, line) order so that rejected.csv does not
 * depend on the threads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_buf.h"
#include "ms_import_int.h"

const char *const imp_data_files[IMP_FILE_COUNT] = {"settlements.csv", "drug_items.csv", "service_items.csv"};

ms_status_t imp_reject_push(reject_list_t *l, int file, uint64_t line, const char *column,
                            const char *value, const char *reason)
{
    MS_TRY(ms_grow(&l->v, &l->cap, l->n + 1, sizeof *l->v, 64));
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

void imp_rejected_write(FILE *fp, const char *file, uint64_t line, const char *column,
                        const char *value, size_t vlen, const char *reason)
{
    ms_csv_write_text(fp, file, strlen(file));
    fprintf(fp, ",%llu,", (unsigned long long)line);
    ms_csv_write_text(fp, column, strlen(column));
    putc(',', fp);
    ms_csv_write_text_escaped(fp, value, vlen);
    putc(',', fp);
    ms_csv_write_text_escaped(fp, reason, strlen(reason));
    putc('\n', fp);
}

ms_status_t imp_rejected_check(const import_t *im)
{
    if (!ferror(im->rejected)) return MS_OK;
    return ms_error_errno(MS_E_IO, errno ? errno : EIO, "cannot write %s/rejected.csv",
                          im->out_dir);
}

/* ------------------------------------------------------------------ */
/* Parallel stages: per-task results, merged in a fixed order.          */

void imp_task_fail(task_t *t, ms_status_t st, uint64_t line, const char *msg)
{
    t->st = st;
    t->line = line;
    free(t->msg);
    t->msg = strdup(msg);
}

ms_status_t imp_task_error(const task_t *t)
{
    return ms_error_set(t->st, "%s", t->msg ? t->msg : "out of memory");
}

task_t *imp_tasks_new(uint32_t n) { return calloc(n, sizeof(task_t)); }

void imp_tasks_free(task_t *t, uint32_t n)
{
    for (uint32_t i = 0; t && i < n; i++) {
        free(t[i].rejects.v);
        free(t[i].msg);
    }
    free(t);
}

/* The lines of file among the sorted rejects all[0, n), into a new array. */
static ms_status_t keep_lines_of(const reject_list_t *all, int file, uint64_t **lines, size_t *n)
{
    size_t k = 0;
    for (size_t i = 0; i < all->n; i++) k += all->v[i].file == file;
    if (!k) return MS_OK;
    *lines = malloc(k * sizeof **lines);
    if (!*lines) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (size_t i = 0; i < all->n; i++)
        if (all->v[i].file == file) (*lines)[(*n)++] = all->v[i].line;
    return MS_OK;
}

ms_status_t imp_merge_rejects(import_t *im, task_t *tasks, int keep_lines)
{
    reject_list_t all = {0};
    for (uint32_t i = 0; i < im->nparts; i++) {
        for (size_t k = 0; k < tasks[i].rejects.n; k++) {
            const reject_t *r = &tasks[i].rejects.v[k];
            ms_status_t st =
                imp_reject_push(&all, r->file, r->line, r->column, r->value, r->reason);
            if (st != MS_OK) {
                free(all.v);
                return st;
            }
        }
    }
    if (all.n > 1) qsort(all.v, all.n, sizeof *all.v, reject_cmp);
    if (keep_lines) {
        ms_status_t st = keep_lines_of(&all, IMP_FILE_SETTLEMENTS, &im->dup_lines, &im->n_dup);
        if (st == MS_OK) st = keep_lines_of(&all, IMP_FILE_SERVICE_ITEMS, &im->svc_bad_lines, &im->n_svc_bad);
        if (st != MS_OK) {
            free(all.v);
            return st;
        }
    }
    for (size_t k = 0; k < all.n; k++) {
        const reject_t *r = &all.v[k];
        imp_rejected_write(im->rejected, imp_data_files[r->file], r->line, r->column, r->value,
                           strlen(r->value), r->reason);
    }
    im->n_rejected += all.n;
    free(all.v);
    return all.n ? imp_rejected_check(im) : MS_OK;
}
