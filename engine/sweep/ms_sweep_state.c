/*
 * ms_sweep_state.c - the output directory and resume: OUT locked for the
 * whole run and prepared (fresh, replaced, or an interrupted sweep to
 * finish), the hash of what changes results, the manifest that partials are
 * reused against, and the new outputs swapped in whole at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "ms_sweep_int.h"

/* The manifest: what must be equal for partials to be reused. */
char *sw_manifest_text(const sweep_t *sw)
{
    char ref[40], *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (!fp) return NULL;
    ms_refs_checksum_text(&sw->ds.refs, ref);
    fprintf(fp, "medsweep sweep state 1\nreference %s\npartitions %u %u\n", ref,
            sw->ds.nparts[MS_TABLE_SETTLEMENTS], sw->ds.nparts[MS_TABLE_DRUG_ITEMS]);
    /* Only when the sweep reads them: a dataset without bill lines, or a
     * sweep that does not read them, keeps the manifest it had. */
    if (sw->cols[MS_TABLE_SERVICE_ITEMS])
        fprintf(fp, "service_items partitions %u\n", sw->ds.nparts[MS_TABLE_SERVICE_ITEMS]);
    for (int m = 0; m < sw->nmodels; m++) fprintf(fp, "model %s %s\n", sw->models[m]->name, sw->models[m]->version);
    fprintf(fp, "config %s\n", sw->config_hash);
    fclose(fp);
    return buf;
}

void sw_compute_config_hash(sweep_t *sw)
{
    /* What changes results: the rules (resolved) and the models with their
     * versions.  Threads and topology do not. */
    XXH3_state_t *s = XXH3_createState();
    XXH3_64bits_reset(s);
    XXH3_64bits_update(s, &sw->cfg.hash, sizeof sw->cfg.hash);
    for (int m = 0; m < sw->nmodels; m++) {
        XXH3_64bits_update(s, sw->models[m]->name, strlen(sw->models[m]->name) + 1);
        XXH3_64bits_update(s, sw->models[m]->version, strlen(sw->models[m]->version) + 1);
    }
    snprintf(sw->config_hash, sizeof sw->config_hash, "%016llx", (unsigned long long)XXH3_64bits_digest(s));
    XXH3_freeState(s);
}

/* OUT holds no sweep state: may a sweep start here?  Absent, empty, or
 * (with --replace) a finished sweep's output. */
static ms_status_t check_fresh(const sweep_t *sw)
{
    const ms_sweep_opts_t *o = sw->o;
    int finished = ms_sweep_output_exists(sw->out);
    if (o->resume)
        return ms_error_set(MS_E_USAGE, "%s holds no interrupted sweep to resume%s", o->out,
                            finished ? " (it is finished)" : "");
    if (finished && !o->replace) return ms_error_set(MS_E_EXISTS, "%s already holds a sweep; use --replace", o->out);
    return ms_outdir_check(sw->out, 1, ms_sweep_output_exists, "a sweep");
}

/* The pid the holder of the lock wrote into it (it does so right after
 * locking; 0 when it has not yet). */
static long lock_holder(int fd)
{
    for (int tries = 0; tries < 50; tries++) {
        char buf[32] = {0};
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
        if (pid > 0) return pid;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* Lock OUT/.sweep-state/lock for the whole run (the kernel releases it when
 * the process ends, however it ends).  *again: the state went away before
 * it was locked (a sweep finishing); look at OUT again. */
static ms_status_t take_lock(sweep_t *sw, const char *state, int *again)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/" LOCK_FILE, state);
    *again = 0;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == ENOENT) *again = 1;
        return *again ? MS_OK : ms_error_errno(MS_E_IO, errno, "cannot open %s", path);
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        long pid = err == EWOULDBLOCK ? lock_holder(fd) : 0;
        close(fd);
        if (err != EWOULDBLOCK) return ms_error_errno(MS_E_IO, err, "cannot lock %s", path);
        if (pid > 0)
            return ms_error_set(MS_E_EXISTS, "%s is being written by another sweep (pid %ld)", sw->o->out, pid);
        return ms_error_set(MS_E_EXISTS, "%s is being written by another sweep", sw->o->out);
    }
    struct stat a, b;
    if (fstat(fd, &a) != 0 || stat(path, &b) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
        close(fd); /* the file locked was removed meanwhile */
        *again = 1;
        return MS_OK;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        int err = errno;
        close(fd);
        return ms_error_errno(MS_E_IO, err, "cannot write %s", path);
    }
    sw->lock_fd = fd;
    return MS_OK;
}

/* Empty the state of an earlier sweep, all but the lock: the manifest
 * first, so that what is left of a clearing cut short is never taken for
 * finished partitions (a state without a manifest is cleared on resume). */
static ms_status_t clear_state(const char *state)
{
    char path[4600];
    snprintf(path, sizeof path, "%s/manifest", state);
    if (unlink(path) != 0 && errno != ENOENT) return ms_error_errno(MS_E_IO, errno, "cannot remove %s", path);
    DIR *d = opendir(state);
    if (!d) return ms_error_errno(MS_E_IO, errno, "cannot list %s", state);
    ms_status_t st = MS_OK;
    for (struct dirent *e; st == MS_OK && (e = readdir(d)) != NULL;) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, LOCK_FILE)) continue;
        snprintf(path, sizeof path, "%s/%s", state, e->d_name);
        st = ms_remove_tree(path);
    }
    closedir(d);
    return st;
}

/* OUT prepared and locked: a fresh state, an earlier sweep's output kept
 * until the new one replaces it (--replace), or an interrupted sweep's state
 * to finish (--resume).  Nothing of an earlier output is removed here. */
ms_status_t sw_prepare_output(sweep_t *sw)
{
    const ms_sweep_opts_t *o = sw->o;
    char state[4200];
    snprintf(state, sizeof state, "%s/" STATE_DIR, sw->out);
    int made = 0;
    for (int attempt = 0;; attempt++) {
        made = 0;
        if (!ms_is_dir(state)) {
            MS_TRY(check_fresh(sw));
            MS_TRY(ms_mkdirs(state));
            made = 1;
        }
        int again;
        MS_TRY(take_lock(sw, state, &again));
        if (!again) break;
        if (attempt == 20) return ms_error_set(MS_E_IO, "cannot lock %s: it keeps being replaced", state);
    }
    /* Locked: no other sweep writes OUT until this one ends. */
    char manifest[4400];
    snprintf(manifest, sizeof manifest, "%s/manifest", state);
    if (!made && !o->resume && !o->replace)
        return ms_error_set(MS_E_EXISTS, "%s holds an interrupted sweep; --resume finishes it, --replace starts over",
                            o->out);
    if (!made && (o->replace || !ms_path_exists(manifest))) MS_TRY(clear_state(state));
    sw->state_dir = strdup(state);
    return sw->state_dir ? MS_OK : ms_error_set(MS_E_NOMEM, "out of memory");
}

/* Is dir a mount point (which cannot be renamed)? */
static int mount_point(const char *dir)
{
    char parent[PATH_MAX + 4];
    struct stat a, b;
    snprintf(parent, sizeof parent, "%s/..", dir);
    if (stat(dir, &a) != 0 || stat(parent, &b) != 0) return 0;
    return a.st_dev != b.st_dev || a.st_ino == b.st_ino;
}

/* Move every file of stage into out (each whole, run.json last). */
static ms_status_t install_files(const char *stage, const char *out)
{
    DIR *d = opendir(stage);
    if (!d) return ms_error_errno(MS_E_IO, errno, "cannot list %s", stage);
    ms_status_t st = MS_OK;
    char from[PATH_MAX + 300], to[PATH_MAX + 300];
    for (struct dirent *e; st == MS_OK && (e = readdir(d)) != NULL;) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "run.json")) continue;
        snprintf(from, sizeof from, "%s/%s", stage, e->d_name);
        snprintf(to, sizeof to, "%s/%s", out, e->d_name);
        st = ms_rename(from, to);
    }
    closedir(d);
    snprintf(from, sizeof from, "%s/run.json", stage);
    snprintf(to, sizeof to, "%s/run.json", out);
    if (st == MS_OK) st = ms_rename(from, to);
    snprintf(to, sizeof to, "%s/" STATE_DIR, out);
    if (st == MS_OK) st = ms_remove_tree(to);
    return st;
}

/* The new outputs, complete in stage (inside the state), replace OUT's
 * whole, the way import installs a dataset (ms_outdir_install): stage is
 * moved beside OUT, OUT (the earlier outputs and this sweep's state) aside,
 * stage into its place, and what was set aside is removed.  Until then an
 * earlier output stays as it was and the state can be resumed.  A mount
 * point cannot be renamed: its files are replaced one by one instead. */
ms_status_t sw_install_output(sweep_t *sw, const char *stage)
{
    char *out = realpath(sw->out, NULL);
    if (!out) return ms_error_errno(MS_E_IO, errno, "cannot resolve %s", sw->out);
    ms_status_t st;
    if (mount_point(out)) {
        st = install_files(stage, out);
    } else {
        size_t n = strlen(out) + 40;
        char *side = malloc(n);
        st = side ? MS_OK : ms_error_set(MS_E_NOMEM, "out of memory");
        if (st == MS_OK) {
            snprintf(side, n, "%s.sweep-%ld", out, (long)getpid());
            st = ms_remove_tree(side); /* left by a killed sweep with our pid */
        }
        if (st == MS_OK) st = ms_rename(stage, side);
        if (st == MS_OK) {
            st = ms_outdir_install(side, out, ms_sweep_output_exists);
            if (st != MS_OK) ms_remove_tree(side);
        }
        free(side);
    }
    free(out);
    return st;
}
