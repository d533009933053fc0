/*
 * ms_fs.h - small filesystem helpers shared by every writer.
 *
 * Outputs are written whole or not at all: write to "<path>.tmp.<pid>",
 * fsync, rename over the final name.  A directory of outputs is built under a
 * temporary sibling name and renamed into place at the end.
 */
#ifndef MS_FS_H
#define MS_FS_H

#include <stddef.h>
#include <stdio.h>

#include "ms_status.h"

/* The same path written plainly, as a new heap string (NULL on OOM):
 * repeated slashes collapsed, "." components and trailing slashes dropped
 * ("./world/" -> "world", "data/." -> "data", "/" and "." stay).  Purely
 * lexical: ".." is kept (with symlinks it cannot be resolved by text).
 * Every path a person gives (--out, DATASET) goes through it, so "world/"
 * and "world" are the same directory for every command; the output
 * directory helpers below apply it themselves too. */
char *ms_path_normalize(const char *path);

/* mkdir -p; MS_E_IO naming the path on failure. */
ms_status_t ms_mkdirs(const char *path);
/* rm -rf (no error when path does not exist). */
ms_status_t ms_remove_tree(const char *path);
int ms_path_exists(const char *path);
int ms_is_dir(const char *path);
/* Check that a directory can be written: creates and removes a probe file
 * of a fresh name (".medsweep-write-probe-<pid>-<random>", opened
 * O_CREAT|O_EXCL|O_NOFOLLOW), so that nothing already there - another
 * user's file or symlink in a shared directory - is ever opened. */
ms_status_t ms_check_writable_dir(const char *dir);

/* fsync a file or directory by path. */
ms_status_t ms_fsync_path(const char *path);
/* rename(from, to) and fsync the containing directory. */
ms_status_t ms_rename(const char *from, const char *to);

/* A file being written whole-or-nothing.  ms_afile_open makes the temporary
 * (a leftover of that name is removed, then it is created O_EXCL|O_NOFOLLOW:
 * a symlink planted there is never followed),
 * ms_afile_commit flushes, fsyncs and renames (reporting ENOSPC as
 * MS_E_NOSPACE), ms_afile_abort removes the temporary. */
typedef struct {
    FILE *fp;
    char *path;
    char *tmp;
} ms_afile_t;

ms_status_t ms_afile_open(ms_afile_t *f, const char *path);
ms_status_t ms_afile_commit(ms_afile_t *f);
/* The same without the fsyncs: the file is whole or absent for every
 * process, but a power loss may leave it absent, empty or torn.  Only for
 * files whose reader verifies them and can do without them (the sweep's
 * per-partition checkpoints: checksummed, and swept again when damaged or
 * missing), where an fsync per file is what a national sweep cannot pay. */
ms_status_t ms_afile_commit_unsynced(ms_afile_t *f);
void ms_afile_abort(ms_afile_t *f);

/* Output directories built whole under a temporary sibling name.
 *
 * ms_outdir_check: out may be written when it is absent or an empty
 * directory; when is_ours(out) says it holds an earlier output of the same
 * kind (what: "a dataset"), only with replace.  Anything else is refused
 * (MS_E_EXISTS), so no user file is ever deleted.  Also creates out's parent
 * and checks that it is writable.
 *
 * ms_outdir_install: rename tmp to out.  An earlier output is moved aside
 * first and removed only once the new one is in place; if the swap fails the
 * old one is put back. */
ms_status_t ms_outdir_check(const char *out, int replace, int (*is_ours)(const char *),
                            const char *what);
ms_status_t ms_outdir_install(const char *tmp, const char *out, int (*is_ours)(const char *));

/* Join a and b with '/' into a new heap string (NULL on OOM). */
char *ms_path_join(const char *a, const char *b);

/* Peak resident set size of this process in bytes (VmHWM), 0 if unknown. */
size_t ms_peak_rss(void);
/* Bytes the process holds in memory now (VmRSS), 0 when unknown. */
size_t ms_rss(void);

#endif
