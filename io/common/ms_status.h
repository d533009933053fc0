/*
 * ms_status.h - one status enum and one message table for the whole project.
 *
 * Library code never exits or aborts: every fallible function returns an
 * ms_status_t.  The detail that a person needs (which file, table, row,
 * column or chunk, and why) is recorded with ms_error_set() in a
 * thread-local buffer just before the error is returned, and read back with
 * ms_error_detail() by whoever decides to report it (normally only main).
 * Control characters in a detail (a value quoted from the data may hold an
 * ESC sequence or a line feed) are stored escaped, as "\x1b", so that a
 * message printed on a terminal is the text it says and one line.
 */
#ifndef MS_STATUS_H
#define MS_STATUS_H

#include <stddef.h>

typedef enum {
    MS_OK = 0,
    MS_E_USAGE,       /* bad command line or API misuse                 */
    MS_E_IO,          /* open/read/write/rename failed (errno in detail) */
    MS_E_NOSPACE,     /* the disk is full                               */
    MS_E_NOMEM,       /* allocation failed                              */
    MS_E_INPUT,       /* malformed input row (CSV)                      */
    MS_E_SCHEMA,      /* wrong or missing column, wrong table           */
    MS_E_CORRUPT,     /* a damaged file or chunk                        */
    MS_E_MISMATCH,    /* partition built against other reference files  */
    MS_E_EXISTS,      /* output exists and --replace was not given      */
    MS_E_HDF5,        /* the HDF5 library reported an error             */
    MS_E_INVARIANT,   /* a dataset invariant does not hold (--verify)   */
    MS_E_INTERNAL,    /* a bug                                          */
    MS_STATUS_COUNT
} ms_status_t;

/* A short fixed description of a status ("input error", ...). */
const char *ms_status_str(ms_status_t st);

/* Record the detail of the error about to be returned (printf format).
 * Returns st so that callers can write `return ms_error_set(MS_E_IO, ...)`. */
ms_status_t ms_error_set(ms_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Like ms_error_set, appending ": strerror(errno)"; maps ENOSPC/EDQUOT to
 * MS_E_NOSPACE and ENOMEM to MS_E_NOMEM. */
ms_status_t ms_error_errno(ms_status_t st, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the current detail with more context ("file x.h5: " + detail). */
ms_status_t ms_error_wrap(ms_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The detail recorded by the last ms_error_set on this thread ("" if none). */
const char *ms_error_detail(void);

/* Forget the calling thread's detail. */
void ms_error_clear(void);

#define MS_TRY(expr)                                  \
    do {                                              \
        ms_status_t ms_try_st_ = (expr);              \
        if (ms_try_st_ != MS_OK) return ms_try_st_;   \
    } while (0)

#endif
