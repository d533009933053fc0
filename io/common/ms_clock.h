/*
 * ms_clock.h - the one clock: monotonic seconds, for durations and progress.
 */
#ifndef MS_CLOCK_H
#define MS_CLOCK_H

#include <time.h>

static inline double ms_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds of the calling thread: what a stage of one worker costs,
 * whatever else shares the core. */
static inline double ms_thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
