/*
 * ms_import_outdir.c - the whole-or-nothing output.  Before anything is
 * read: DATASET_DIR may be written (absent, empty, or a dataset with
 * --replace), the partition count is chosen, and the build directory
 * DATASET_DIR.importing-<pid> is made (with .spill/, the table folders and
 * rejected.csv).  At the end it is swapped into place (ms_outdir_install);
 * after a failure it is removed.  A killed import cannot remove its own:
 * the next import into the same DATASET_DIR removes those whose process is
 * gone.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ms_dataset.h"
#include "ms_fs.h"
#include "ms_import_int.h"
#include "ms_part.h"

#define PART_BYTES_DEFAULT ((uint64_t)256 << 20) /* CSV bytes per partition */
#define MAX_PARTITIONS 4096u

static ms_status_t check_output(const import_t *im)
{
    return ms_outdir_check(im->out_dir, im->opts->replace, ms_dataset_exists, "a dataset");
}

/* Is the optional file at path there?  Absent (*there = 0) only when no
 * directory entry of that name exists at all: an entry that cannot be
 * followed or opened (a symlink to nothing or to itself, no permission)
 * is an error naming it, never an extract without that table. */
static ms_status_t optional_file(const char *path, int *there)
{
    struct stat sb;
    *there = 0;
    if (lstat(path, &sb) != 0) {
        if (errno == ENOENT) return MS_OK;
        return ms_error_errno(MS_E_IO, errno, "cannot open %s", path);
    }
    if (S_ISLNK(sb.st_mode) && stat(path, &sb) != 0) {
        int err = errno;
        char target[1024];
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n > 0 ? n : 0] = '\0';
        return ms_error_errno(MS_E_IO, err, "cannot open %s (a symbolic link to '%s')", path, target);
    }
    if (S_ISDIR(sb.st_mode)) return ms_error_set(MS_E_IO, "cannot open %s: it is a directory", path);
    *there = 1;
    return MS_OK;
}

/* Is the optional folder at path (CSV_DIR/knowledge) there?  As
 * optional_file, for a folder. */
static ms_status_t optional_dir(const char *path, int *there)
{
    struct stat sb;
    *there = 0;
    if (lstat(path, &sb) != 0) {
        if (errno == ENOENT) return MS_OK;
        return ms_error_errno(MS_E_IO, errno, "cannot open %s", path);
    }
    if (stat(path, &sb) != 0) return ms_error_errno(MS_E_IO, errno, "cannot open %s", path);
    if (!S_ISDIR(sb.st_mode)) return ms_error_set(MS_E_IO, "cannot open %s: it is not a directory", path);
    *there = 1;
    return MS_OK;
}

/* Default: one partition per 256 MiB of settlements.csv or of
 * service_items.csv, whichever is larger (a partition's bill lines are
 * sorted in memory as its settlements are), 1..4096; an explicit count is
 * taken as given.  Which optional files and folders the extract has. */
static ms_status_t choose_partitions(import_t *im)
{
    char *path = ms_path_join(im->csv_dir, "settlements.csv");
    char *drugs = ms_path_join(im->csv_dir, "drug_items.csv");
    char *bills = ms_path_join(im->csv_dir, "service_items.csv");
    char *kb = ms_path_join(im->csv_dir, "knowledge");
    struct stat sb;
    ms_status_t st = MS_OK;
    if (!path || !drugs || !bills || !kb)
        st = ms_error_set(MS_E_NOMEM, "out of memory");
    else if (stat(path, &sb) != 0)
        st = ms_error_errno(MS_E_IO, errno, "cannot open %s", path);
    uint64_t bytes = st == MS_OK ? (uint64_t)sb.st_size : 0;
    if (st == MS_OK) st = optional_file(drugs, &im->have_drugs);
    if (st == MS_OK) st = optional_file(bills, &im->have_services);
    if (st == MS_OK && im->have_services && stat(bills, &sb) == 0 && (uint64_t)sb.st_size > bytes)
        bytes = (uint64_t)sb.st_size;
    if (st == MS_OK) st = optional_dir(kb, &im->have_knowledge);
    if (st == MS_OK) {
        uint64_t n = (bytes + PART_BYTES_DEFAULT - 1) / PART_BYTES_DEFAULT;
        n = n < 1 ? 1 : n > MAX_PARTITIONS ? MAX_PARTITIONS : n;
        im->nparts = im->opts->partitions ? im->opts->partitions : (uint32_t)n;
    }
    free(path);
    free(drugs);
    free(bills);
    free(kb);
    return st;
}

static ms_status_t make_dir_in(const char *dir, const char *name, char **out)
{
    char *p = ms_path_join(dir, name);
    if (!p) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_status_t st = ms_mkdirs(p);
    if (out && st == MS_OK)
        *out = p;
    else
        free(p);
    return st;
}

static ms_status_t open_rejected(import_t *im)
{
    char *path = ms_path_join(im->tmp_dir, "rejected.csv");
    if (!path) return ms_error_set(MS_E_NOMEM, "out of memory");
    im->rejected = fopen(path, "w");
    ms_status_t st = MS_OK;
    if (!im->rejected)
        st = ms_error_errno(MS_E_IO, errno, "cannot create %s", path);
    else
        fputs("file,line,column,value,reason\n", im->rejected);
    free(path);
    return st;
}

/* The pid of a build directory of out_dir named base.importing-<pid>
 * (decimal, as make_tmp writes it), or 0 when name is not one. */
static long build_dir_pid(const char *base, const char *name)
{
    static const char tag[] = ".importing-";
    size_t n = strlen(base);
    if (strncmp(name, base, n) != 0 || strncmp(name + n, tag, sizeof tag - 1) != 0) return 0;
    const char *d = name + n + sizeof tag - 1;
    if (*d < '1' || *d > '9' || strlen(d) > 9) return 0;
    long pid = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9') return 0;
        pid = pid * 10 + (*d - '0');
    }
    return pid;
}

/* Remove the build directories DATASET_DIR.importing-<pid> of earlier
 * imports into the same DATASET_DIR whose process is gone (kill(pid, 0)
 * fails with ESRCH): a killed import's, possibly hundreds of MB.  One whose
 * process runs (or whose owner we may not signal) is another import's, or
 * not ours to judge: left alone.  Best effort: a directory that cannot be
 * listed or removed stops nothing. */
static void remove_dead_builds(import_t *im)
{
    char *parent = strdup(im->out_dir);
    if (!parent) return;
    char *slash = strrchr(parent, '/');
    const char *base = slash ? slash + 1 : parent;
    const char *pdir = slash ? (slash == parent ? "/" : parent) : ".";
    if (slash) *slash = '\0';
    DIR *d = opendir(pdir);
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        long pid = build_dir_pid(base, e->d_name);
        if (pid <= 0 || pid > INT_MAX || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char *path = ms_path_join(pdir, e->d_name);
        struct stat sb;
        if (path && lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && ms_remove_tree(path) == MS_OK)
            im->leftovers_removed++;
        free(path);
    }
    if (d) closedir(d);
    free(parent);
}

static ms_status_t make_tmp(import_t *im)
{
    remove_dead_builds(im);
    size_t n = strlen(im->out_dir) + 40;
    im->tmp_dir = malloc(n);
    if (!im->tmp_dir) return ms_error_set(MS_E_NOMEM, "out of memory");
    snprintf(im->tmp_dir, n, "%s.importing-%ld", im->out_dir, (long)getpid());
    MS_TRY(ms_remove_tree(im->tmp_dir)); /* left over by a killed run with our pid */
    MS_TRY(ms_mkdirs(im->tmp_dir));
    im->tmp_made = 1;
    MS_TRY(make_dir_in(im->tmp_dir, ".spill", &im->spill_dir));
    MS_TRY(make_dir_in(im->tmp_dir, ms_table(MS_TABLE_SETTLEMENTS)->name, NULL));
    if (im->have_drugs) MS_TRY(make_dir_in(im->tmp_dir, ms_table(MS_TABLE_DRUG_ITEMS)->name, NULL));
    if (im->have_services) MS_TRY(make_dir_in(im->tmp_dir, ms_table(MS_TABLE_SERVICE_ITEMS)->name, NULL));
    return im->opts->skip_bad ? open_rejected(im) : MS_OK;
}

ms_status_t imp_prepare(import_t *im, const char *csv_dir, const char *dataset_dir)
{
    im->csv_dir = ms_path_normalize(csv_dir);
    im->out_dir = ms_path_normalize(dataset_dir);
    if (!im->csv_dir || !im->out_dir) return ms_error_set(MS_E_NOMEM, "out of memory");
    im->chunk_rows = im->opts->chunk_rows ? im->opts->chunk_rows : MS_DEFAULT_CHUNK_ROWS;
    /* The contract's limits (docs/schema.md, Limits), for library callers
     * too; nothing is created before they hold. */
    if (im->opts->partitions > MS_PARTITIONS_MAX)
        return ms_error_set(MS_E_USAGE, "partitions must be 1-%u (0: chosen from the size), got %u",
                            MS_PARTITIONS_MAX, im->opts->partitions);
    if (im->chunk_rows < MS_CHUNK_ROWS_MIN || im->chunk_rows > MS_CHUNK_ROWS_MAX)
        return ms_error_set(MS_E_USAGE, "chunk rows must be %u-%u, got %u", MS_CHUNK_ROWS_MIN,
                            MS_CHUNK_ROWS_MAX, im->chunk_rows);
    MS_TRY(check_output(im));
    MS_TRY(choose_partitions(im));
    return make_tmp(im);
}

static ms_status_t close_rejected(import_t *im)
{
    FILE *fp = im->rejected;
    im->rejected = NULL;
    int err = 0;
    if (fflush(fp) != 0 || ferror(fp))
        err = errno ? errno : EIO;
    else if (fsync(fileno(fp)) != 0)
        err = errno;
    if (fclose(fp) != 0 && !err) err = errno;
    if (err) return ms_error_errno(MS_E_IO, err, "cannot write %s/rejected.csv", im->out_dir);
    return MS_OK;
}

ms_status_t imp_install(import_t *im)
{
    MS_TRY(ms_remove_tree(im->spill_dir));
    if (im->rejected) MS_TRY(close_rejected(im));
    MS_TRY(ms_outdir_install(im->tmp_dir, im->out_dir, ms_dataset_exists));
    im->tmp_made = 0;
    return MS_OK;
}

void imp_abandon(import_t *im)
{
    if (im->rejected) fclose(im->rejected);
    im->rejected = NULL;
    if (im->tmp_made) ms_remove_tree(im->tmp_dir);
    im->tmp_made = 0;
}
