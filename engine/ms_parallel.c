/*
 * ms_parallel.c - independent jobs on threads (ms_parallel.h).
 */
#include "ms_parallel.h"

#include <stdio.h>
#include <stdlib.h>

enum { DETAIL = 1024 };

ms_status_t ms_parallel_jobs(int n, int threads, ms_status_t (*job)(void *ctx, int k), void *ctx)
{
    if (n <= 0) return MS_OK;
    ms_status_t *st = calloc((size_t)n, sizeof *st);
    char(*why)[DETAIL] = calloc((size_t)n, sizeof *why);
    if (!st || !why) {
        free(st), free(why);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    /* The detail is thread-local: each failing job keeps its own. */
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads > 1 ? threads : 1)
    for (int k = 0; k < n; k++) {
        st[k] = job(ctx, k);
        if (st[k] != MS_OK) snprintf(why[k], sizeof why[k], "%s", ms_error_detail());
    }
    ms_status_t rc = MS_OK;
    for (int k = 0; k < n && rc == MS_OK; k++)
        if (st[k] != MS_OK) rc = ms_error_set(st[k], "%s", why[k]);
    free(st), free(why);
    return rc;
}
