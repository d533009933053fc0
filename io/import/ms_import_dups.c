/*
 * ms_import_dups.c - stage 3: settle_id unique over the whole dataset.
 * Pass 1 spilled (settle_id, line) pairs into buckets by a hash of
 * settle_id; each bucket is loaded, sorted and scanned on its own (in
 * parallel, one bucket in memory per thread), so memory stays bounded
 * whatever the size of the CSV.  The later line of a duplicate is the bad
 * row: rejected (skip_bad, remembered for pass 2 to drop) or, the smallest
 * such line over all buckets, the import's error.
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
            st = imp_reject_push(&t->rejects, 0, v[i].line, "settle_id", value, reason);
            if (st != MS_OK) imp_task_fail(t, st, 0, ms_error_detail());
        } else if (t->st == MS_OK || v[i].line < t->line) {
            /* the smallest bad line of the bucket: the first that a serial scan meets */
            char msg[MSG_MAX];
            snprintf(msg, sizeof msg, "settlements.csv line %llu, column settle_id: %s",
                     (unsigned long long)v[i].line, reason);
            imp_task_fail(t, MS_E_INPUT, v[i].line, msg);
        }
    }
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
        /* A system error wins; among bad rows the smallest line. */
        if (!worst || (worst->st == MS_E_INPUT && (t->st != MS_E_INPUT || t->line < worst->line)))
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
