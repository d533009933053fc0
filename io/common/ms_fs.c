#include "ms_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

ms_status_t ms_mkdirs(const char *path)
{
    char *p = strdup(path);
    if (!p) return ms_error_set(MS_E_NOMEM, "out of memory");
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/') p[--len] = '\0';
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            ms_status_t st = ms_error_errno(MS_E_IO, errno, "cannot create directory %s", p);
            free(p);
            return st;
        }
        *s = '/';
    }
    if (mkdir(p, 0777) != 0 && errno != EEXIST) {
        ms_status_t st = ms_error_errno(MS_E_IO, errno, "cannot create directory %s", p);
        free(p);
        return st;
    }
    free(p);
    if (!ms_is_dir(path)) return ms_error_set(MS_E_IO, "%s exists and is not a directory", path);
    return MS_OK;
}

char *ms_path_normalize(const char *path)
{
    size_t len = strlen(path);
    char *out = malloc(len + 2);
    if (!out) return NULL;
    size_t o = 0;
    int absolute = path[0] == '/';
    if (absolute) out[o++] = '/';
    for (const char *p = path; *p;) {
        while (*p == '/') p++;
        size_t n = strcspn(p, "/");
        if (n == 0) break;
        if (!(n == 1 && p[0] == '.')) {
            if (o > (size_t)absolute) out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p += n;
    }
    if (o == 0) out[o++] = '.';
    out[o] = '\0';
    return out;
}

static ms_status_t remove_tree(const char *path);

ms_status_t ms_remove_tree(const char *path)
{
    char *p = ms_path_normalize(path);
    if (!p) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_status_t st = remove_tree(p);
    free(p);
    return st;
}

static ms_status_t remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) {
        if (errno == ENOENT) return MS_OK;
        return ms_error_errno(MS_E_IO, errno, "cannot stat %s", path);
    }
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        if (!d) return ms_error_errno(MS_E_IO, errno, "cannot open directory %s", path);
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char *child = ms_path_join(path, e->d_name);
            if (!child) {
                closedir(d);
                return ms_error_set(MS_E_NOMEM, "out of memory");
            }
            ms_status_t st = remove_tree(child);
            free(child);
            if (st != MS_OK) {
                closedir(d);
                return st;
            }
        }
        closedir(d);
        if (rmdir(path) != 0) return ms_error_errno(MS_E_IO, errno, "cannot remove %s", path);
    } else if (unlink(path) != 0) {
        return ms_error_errno(MS_E_IO, errno, "cannot remove %s", path);
    }
    return MS_OK;
}

int ms_path_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

int ms_is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* A fresh probe name: pid, clock and a counter, mixed (not a secret: O_EXCL
 * is what makes it safe; the mixing only makes a collision unlikely). */
static unsigned long long probe_tag(unsigned attempt)
{
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long z = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)ts.tv_sec << 30) ^
                           ((unsigned long long)getpid() << 16) ^ (unsigned long long)(++counter + attempt);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

ms_status_t ms_check_writable_dir(const char *dir)
{
    size_t n = strlen(dir) + 64;
    char *probe = malloc(n);
    if (!probe) return ms_error_set(MS_E_NOMEM, "out of memory");
    int fd = -1, err = EEXIST;
    for (unsigned attempt = 0; fd < 0 && err == EEXIST && attempt < 100; attempt++) {
        snprintf(probe, n, "%s%s.medsweep-write-probe-%ld-%012llx", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/",
                 (long)getpid(), probe_tag(attempt) & 0xffffffffffffull);
        fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        err = fd < 0 ? errno : 0;
    }
    if (fd < 0) {
        free(probe);
        return ms_error_errno(MS_E_IO, err, "cannot write in directory %s", dir);
    }
    close(fd);
    unlink(probe);
    free(probe);
    return MS_OK;
}

ms_status_t ms_fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return ms_error_errno(MS_E_IO, errno, "cannot open %s", path);
    int rc = fsync(fd);
    int err = errno;
    close(fd);
    /* Some filesystems refuse fsync on directories: not an error for us. */
    if (rc != 0 && err != EINVAL && err != EROFS)
        return ms_error_errno(MS_E_IO, err, "cannot sync %s", path);
    return MS_OK;
}

ms_status_t ms_rename(const char *from, const char *to)
{
    if (rename(from, to) != 0)
        return ms_error_errno(MS_E_IO, errno, "cannot rename %s to %s", from, to);
    char *dir = strdup(to);
    if (!dir) return ms_error_set(MS_E_NOMEM, "out of memory");
    char *slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = '\0';
    else if (slash) *slash = '\0';
    else strcpy(dir, ".");
    ms_status_t st = ms_fsync_path(dir);
    free(dir);
    return st;
}

ms_status_t ms_afile_open(ms_afile_t *f, const char *path)
{
    memset(f, 0, sizeof *f);
    f->path = strdup(path);
    size_t n = strlen(path) + 32;
    f->tmp = malloc(n);
    if (!f->path || !f->tmp) {
        ms_afile_abort(f);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    snprintf(f->tmp, n, "%s.tmp.%ld", path, (long)getpid());
    /* A leftover of a killed run with our pid (or a link someone planted)
     * goes; the temporary is then made new, never through a link. */
    unlink(f->tmp);
    int fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    f->fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f->fp) {
        if (fd >= 0) close(fd);
        ms_status_t st = ms_error_errno(MS_E_IO, errno, "cannot create %s", f->tmp);
        ms_afile_abort(f);
        return st;
    }
    return MS_OK;
}

static ms_status_t afile_commit(ms_afile_t *f, int sync)
{
    ms_status_t st = MS_OK;
    if (fflush(f->fp) != 0 || ferror(f->fp)) {
        st = ms_error_errno(MS_E_IO, errno, "cannot write %s", f->path);
    } else if (sync && fsync(fileno(f->fp)) != 0) {
        st = ms_error_errno(MS_E_IO, errno, "cannot sync %s", f->path);
    }
    if (fclose(f->fp) != 0 && st == MS_OK) st = ms_error_errno(MS_E_IO, errno, "cannot write %s", f->path);
    f->fp = NULL;
    if (st == MS_OK && sync) st = ms_rename(f->tmp, f->path);
    else if (st == MS_OK && rename(f->tmp, f->path) != 0)
        st = ms_error_errno(MS_E_IO, errno, "cannot rename %s to %s", f->tmp, f->path);
    if (st != MS_OK) unlink(f->tmp);
    free(f->path);
    free(f->tmp);
    f->path = f->tmp = NULL;
    return st;
}

ms_status_t ms_afile_commit(ms_afile_t *f) { return afile_commit(f, 1); }

ms_status_t ms_afile_commit_unsynced(ms_afile_t *f) { return afile_commit(f, 0); }

void ms_afile_abort(ms_afile_t *f)
{
    if (f->fp) fclose(f->fp);
    if (f->tmp) unlink(f->tmp);
    free(f->path);
    free(f->tmp);
    memset(f, 0, sizeof *f);
}

char *ms_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 2);
    if (!s) return NULL;
    memcpy(s, a, la);
    size_t o = la;
    if (la > 0 && a[la - 1] != '/') s[o++] = '/';
    memcpy(s + o, b, lb + 1);
    return s;
}

/* A size line of /proc/self/status ("VmHWM:", "VmRSS:"), in bytes. */
static size_t status_bytes(const char *key)
{
    FILE *fp = fopen("/proc/self/status", "r");
    if (!fp) return 0;
    char line[256];
    size_t kb = 0, n = strlen(key);
    while (fgets(line, sizeof line, fp)) {
        if (strncmp(line, key, n) == 0) {
            kb = strtoull(line + n, NULL, 10);
            break;
        }
    }
    fclose(fp);
    return kb * 1024;
}

size_t ms_peak_rss(void) { return status_bytes("VmHWM:"); }

size_t ms_rss(void) { return status_bytes("VmRSS:"); }

static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return 0;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)) != NULL)
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty;
}

static char *parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static ms_status_t outdir_check(const char *out, int replace, int (*is_ours)(const char *), const char *what);
static ms_status_t outdir_install(const char *tmp, const char *out, int (*is_ours)(const char *));

ms_status_t ms_outdir_check(const char *out, int replace, int (*is_ours)(const char *),
                            const char *what)
{
    char *o = ms_path_normalize(out);
    if (!o) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_status_t st = outdir_check(o, replace, is_ours, what);
    free(o);
    return st;
}

ms_status_t ms_outdir_install(const char *tmp, const char *out, int (*is_ours)(const char *))
{
    char *t = ms_path_normalize(tmp), *o = ms_path_normalize(out);
    ms_status_t st = t && o ? outdir_install(t, o, is_ours) : ms_error_set(MS_E_NOMEM, "out of memory");
    free(t);
    free(o);
    return st;
}

static ms_status_t outdir_check(const char *out, int replace, int (*is_ours)(const char *), const char *what)
{
    if (is_ours(out)) {
        if (!replace) return ms_error_set(MS_E_EXISTS, "%s already holds %s; use --replace", out, what);
    } else if (ms_path_exists(out)) {
        if (!ms_is_dir(out)) return ms_error_set(MS_E_EXISTS, "%s exists and is not a directory", out);
        if (!dir_is_empty(out))
            return ms_error_set(MS_E_EXISTS, "%s is not empty and holds no %s; refusing to write into it",
                                out, what + (strncmp(what, "a ", 2) == 0 ? 2 : 0));
    }
    char *parent = parent_dir(out);
    if (!parent) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_status_t st = ms_mkdirs(parent);
    if (st == MS_OK) st = ms_check_writable_dir(parent);
    free(parent);
    return st;
}

static ms_status_t outdir_install(const char *tmp, const char *out, int (*is_ours)(const char *))
{
    if (!is_ours(out)) {
        if (ms_is_dir(out) && rmdir(out) != 0) /* empty: checked by ms_outdir_check */
            return ms_error_errno(MS_E_IO, errno, "cannot replace %s", out);
        return ms_rename(tmp, out);
    }
    /* One atomic exchange where the filesystem has it: at every instant OUT
     * is either the old output or the new one, never absent; the old one
     * then lies at tmp, to be removed. */
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_EXCHANGE) == 0) {
        ms_remove_tree(tmp); /* the new one is in place: a leftover is only disk */
        return MS_OK;
    }
    if (errno != EINVAL && errno != ENOSYS && errno != EXDEV)
        return ms_error_errno(errno == ENOSPC ? MS_E_NOSPACE : MS_E_IO, errno, "cannot replace %s", out);
    /* Otherwise two renames, the old output put back if the second fails. */
    size_t n = strlen(out) + 40;
    char *old = malloc(n);
    if (!old) return ms_error_set(MS_E_NOMEM, "out of memory");
    snprintf(old, n, "%s.old-%ld", out, (long)getpid());
    ms_status_t st = ms_rename(out, old);
    if (st == MS_OK) {
        st = ms_rename(tmp, out);
        if (st != MS_OK) rename(old, out); /* put the old output back */
    }
    if (st == MS_OK) ms_remove_tree(old); /* the new one is in place: a leftover is only disk */
    free(old);
    return st;
}
