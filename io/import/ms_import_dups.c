/*
 * ms_import_dups.c - stage 3: settle_id unique over the whole dataset, and
 * every bill line's settle_id that of a settlement of the same person.
 * Pass 1 spilled (settle_id, person_id, line) of every settlement, and of
 * every bill line (service_items.csv), into buckets by a hash of settle_id;
 * each bucket is loaded, sorted and scanned on its own (in parallel, one
 * bucket in memory per thread), so memory stays bounded whatever the size
 * of the CSV.  The later line of a duplicate is the bad row; a bill line is
 * bad when no settlement has its settle_id (missing, or rejected in pass 1)
 * or the one that has it (the first, should it be repeated) is another
 * person's.  Partitions go by person, so this is the one place where a bill
 * line that names another person's settlement can be told from one that
 * names none.  Bad rows are rejected (skip_bad, remembered for pass 2 to
 * drop) or, the first in (file, line) order over all buckets, the import's
 * error.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ms_import_int.h"

static int id_rec_cmp(const void *a, const void *b)
{
    const id_rec_t *x = a, *y = b;
    if (x->settle_id != y->settle_id) return x->settle_id < y->settle_id ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* An input error of bucket task t at (file, line): kept when it comes
 * before the one it holds, as a serial scan of the files would meet it. */
static void bucket_bad(task_t *t, int file, uint64_t line, const char *msg)
{
    if (t->st != MS_OK && (t->st != MS_E_INPUT || t->file < file || (t->file == file && t->line <= line))) return;
    imp_task_fail(t, MS_E_INPUT, line, msg);
    t->file = file;
}

/* The bill lines of bucket b against its settlements v[0, n) (sorted by
 * settle_id, then line: the first of an id is the one kept). */
static void svc_check_bucket(import_t *im, uint32_t b, const id_rec_t *v, size_t n, task_t *t)
{
    void *data;
    size_t m;
    ms_status_t st = imp_spill_load(&im->svc_id_spill, b, &data, &m);
    if (st != MS_OK) {
        imp_task_fail(t, st, 0, ms_error_detail());
        return;
    }
    id_rec_t *u = data;
    if (m > 1) qsort(u, m, sizeof *u, id_rec_cmp);
    char value[24], reason[REASON_MAX];
    const char *column;
    for (size_t i = 0, j = 0; i < m && (t->st == MS_OK || t->st == MS_E_INPUT); i++) {
        while (j < n && v[j].settle_id < u[i].settle_id) j++;
        if (j == n || v[j].settle_id != u[i].settle_id) {
            column = "settle_id";
            snprintf(value, sizeof value, "%llu", (unsigned long long)u[i].settle_id);
            snprintf(reason, sizeof reason,
                     "no settlement with settle_id %s (missing from settlements.csv, or rejected)", value);
        } else if (v[j].person_id != u[i].person_id) {
            column = "person_id";
            snprintf(value, sizeof value, "%llu", (unsigned long long)u[i].person_id);
            snprintf(reason, sizeof reason, "person_id %s differs from the person_id %llu of settlement %llu", value,
                     (unsigned long long)v[j].person_id, (unsigned long long)u[i].settle_id);
        } else {
            continue;
        }
        if (im->opts->skip_bad) {
            st = imp_reject_push(&t->rejects, IMP_FILE_SERVICE_ITEMS, u[i].line, column, value, reason);
            if (st != MS_OK) imp_task_fail(t, st, 0, ms_error_detail());
        } else {
            char msg[MSG_MAX];
            snprintf(msg, sizeof msg, "service_items.csv line %llu, column %s: %s", (unsigned long long)u[i].line,
                     column, reason);
            bucket_bad(t, IMP_FILE_SERVICE_ITEMS, u[i].line, msg);
        }
    }
    free(data);
}

/* Check one bucket of settle_ids; every later occurrence is a bad row. */
static void dup_check_bucket(import_t *im, uint32_t b, task_t *t)
{
    void *data;
    size_t n;
    ms_status_t st = imp_spill_load(&im->id_spill, b, &data, &n);
    if (st != MS_OK) {
        imp_task_fail(t, st, 0, ms_error_detail());
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
            st = imp_reject_push(&t->rejects, IMP_FILE_SETTLEMENTS, v[i].line, "settle_id", value, reason);
            if (st != MS_OK) imp_task_fail(t, st, 0, ms_error_detail());
        } else {
            /* the smallest bad line of the bucket: the first that a serial scan meets */
            char msg[MSG_MAX];
            snprintf(msg, sizeof msg, "settlements.csv line %llu, column settle_id: %s",
                     (unsigned long long)v[i].line, reason);
            bucket_bad(t, IMP_FILE_SETTLEMENTS, v[i].line, msg);
        }
    }
    if (im->have_services && (t->st == MS_OK || t->st == MS_E_INPUT)) svc_check_bucket(im, b, v, n, t);
    free(data);
}

ms_status_t imp_check_duplicates(import_t *im)
{
    task_t *tasks = imp_tasks_new(im->nparts);
    if (!tasks) return ms_error_set(MS_E_NOMEM, "out of memory");
#pragma omp parallel for schedule(dynamic) num_threads(imp_nthreads(im))
    for (uint32_t b = 0; b < im->nparts; b++) dup_check_bucket(im, b, &tasks[b]);

    ms_status_t st = MS_OK;
    const task_t *worst = NULL;
    for (uint32_t b = 0; b < im->nparts; b++) {
        const task_t *t = &tasks[b];
        if (t->st == MS_OK) continue;
        /* A system error wins; among bad rows the first in (file, line) order. */
        if (!worst || (worst->st == MS_E_INPUT &&
                       (t->st != MS_E_INPUT || t->file < worst->file ||
                        (t->file == worst->file && t->line < worst->line))))
            worst = t;
    }
    if (worst)
        st = imp_task_error(worst);
    else
        st = imp_merge_rejects(im, tasks, 1);
    imp_tasks_free(tasks, im->nparts);
    return st;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int imp_is_dup_line(const import_t *im, uint64_t line)
{
    return im->n_dup && bsearch(&line, im->dup_lines, im->n_dup, sizeof line, u64_cmp) != NULL;
}

int imp_is_svc_bad_line(const import_t *im, uint64_t line)
{
    return im->n_svc_bad && bsearch(&line, im->svc_bad_lines, im->n_svc_bad, sizeof line, u64_cmp) != NULL;
}
