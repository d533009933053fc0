/*
 * ms_parallel.h - independent jobs on the sweep's threads, with the error
 * of the first failing job (in job order) whichever thread ran it: the
 * output files, the models' merges and finalisations.
 */
#ifndef MS_PARALLEL_H
#define MS_PARALLEL_H

#include "ms_status.h"

/* job(ctx, k) for every k in [0, n), one job at a time per thread, up to
 * threads of them at once (0 or 1: in this thread, in order).  MS_OK, or
 * the lowest failing k's status with its detail. */
ms_status_t ms_parallel_jobs(int n, int threads, ms_status_t (*job)(void *ctx, int k), void *ctx);

#endif
