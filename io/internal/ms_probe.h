/*
 * ms_probe.h - run a reader of a file in a child process (private to io).
 *
 * Damaged HDF5 metadata can crash libhdf5 itself (SIGFPE, SIGSEGV while
 * decoding a layout message or an attribute), which no error check of ours
 * can catch.  ms_probe_fork runs fn in a forked child: the child dies, not
 * the caller.  fn returns a status and may fill reply (reply_size bytes,
 * plain data: it crosses a pipe); the parent gets both back, or learns that
 * the child was killed (by a signal, or by SIGALRM after
 * MS_PART_PROBE_SECONDS) and calls the file damaged.  Call it before
 * threads that use HDF5 exist: one fork per call.
 */
#ifndef MS_PROBE_H
#define MS_PROBE_H

#include <stddef.h>

#include "ms_buf.h"
#include "ms_part.h"
#include "ms_status.h"

typedef ms_status_t (*ms_probe_fn)(void *arg, void *reply);

/* *verdict: MS_PROBE_OPENED (fn returned MS_OK; reply filled),
 * MS_PROBE_REFUSED (fn failed: its status in *st, its message as the error
 * detail), MS_PROBE_DAMAGED (the child died: *st is MS_E_CORRUPT and the
 * detail "PATH is damaged: HDF5 could not read its metadata (signal 8,
 * SIGFPE)").  Returns an error only when no child could be started or
 * waited for. */
ms_status_t ms_probe_fork(const char *path, ms_probe_fn fn, void *arg, void *reply, size_t reply_size,
                          ms_probe_t *verdict, ms_status_t *st);

/* ms_probe_fork of a reader that sends no reply, as one status: MS_OK when
 * fn returned MS_OK in the child; else fn's status (its message as the
 * detail), MS_E_CORRUPT when the child died ("PATH is damaged: ..."), or
 * the error of starting or waiting for the child. */
ms_status_t ms_probe_run(const char *path, ms_probe_fn fn, void *arg);

/* ms_probe_run of a reader whose answer has no fixed size: fn appends it to
 * its buffer in the child; on MS_OK, reply (empty before) holds those
 * bytes (the caller frees it).  The same statuses as ms_probe_run. */
typedef ms_status_t (*ms_probe_bytes_fn)(void *arg, ms_buf_t *reply);
ms_status_t ms_probe_read(const char *path, ms_probe_bytes_fn fn, void *arg, ms_buf_t *reply);

#endif
