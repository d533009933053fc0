/*
 * ms_probe.c - a reader of a file run in a child process, so that a crash
 * inside libhdf5 on damaged metadata kills the child, not the caller
 * (docs/reliability.md, "A damaged file never takes the process down").
 */
#include "ms_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ms_h5util.h"

typedef struct {
    int32_t st;              /* fn's status */
    char detail[1024];       /* its message when st != MS_OK */
} probe_head_t;

static int write_all(int fd, const void *data, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, (const char *)data + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        done += (size_t)w;
    }
    return 0;
}

static size_t read_all(int fd, void *data, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)data + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    return got;
}

/* The largest answer a child may send (a reference file's contents). */
#define PROBE_REPLY_MAX ((uint64_t)1 << 32)

/* The child: fn, its answer written to fd (the head, the answer's length,
 * the answer), then _exit, which flushes none of the parent's stdio buffers
 * and runs none of its exit handlers. */
static void probe_child(ms_probe_bytes_fn fn, void *arg, int fd)
{
    static const int fatal[] = {SIGSEGV, SIGFPE, SIGBUS, SIGILL, SIGABRT, SIGALRM};
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core); /* a crash here is expected: no core file */
    for (size_t k = 0; k < sizeof fatal / sizeof fatal[0]; k++) signal(fatal[k], SIG_DFL);
    alarm(MS_PART_PROBE_SECONDS);     /* a loop in damaged metadata ends too */
    probe_head_t h;
    memset(&h, 0, sizeof h);
    ms_buf_t reply = {0};
    h.st = fn(arg, &reply);
    if (h.st == MS_OK && reply.len > PROBE_REPLY_MAX)
        h.st = ms_error_set(MS_E_INTERNAL, "the reader's answer is %zu bytes, more than a probe sends", reply.len);
    if (h.st != MS_OK) snprintf(h.detail, sizeof h.detail, "%s", ms_error_detail());
    uint64_t len = h.st == MS_OK ? reply.len : 0;
    if (write_all(fd, &h, sizeof h) || write_all(fd, &len, sizeof len) || write_all(fd, reply.data, len)) _exit(3);
    _exit(0);
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGFPE: return "SIGFPE";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    case SIGKILL: return "SIGKILL";
    default: return "signal";
    }
}

/* fn in a child; its answer into *reply when it returned MS_OK. */
static ms_status_t probe(const char *path, ms_probe_bytes_fn fn, void *arg, ms_buf_t *reply, ms_probe_t *verdict,
                         ms_status_t *st)
{
    *verdict = MS_PROBE_DAMAGED;
    *st = MS_E_CORRUPT;
    MS_TRY(ms_h5_init());
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return ms_error_errno(MS_E_IO, errno, "%s: cannot make a pipe to probe it", path);
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(fds[0]), close(fds[1]);
        return ms_error_errno(MS_E_IO, err, "%s: cannot start the process that probes it", path);
    }
    if (pid == 0) {
        close(fds[0]);
        probe_child(fn, arg, fds[1]);
    }
    close(fds[1]);
    /* Read first: the answer may not fit the pipe's buffer. */
    probe_head_t h;
    uint64_t len = 0;
    int whole = read_all(fds[0], &h, sizeof h) == sizeof h && read_all(fds[0], &len, sizeof len) == sizeof len &&
                len <= PROBE_REPLY_MAX;
    ms_status_t got = MS_OK;
    if (whole && len) {
        got = ms_grow(&reply->data, &reply->cap, (size_t)len, 1, (size_t)len);
        whole = got == MS_OK && read_all(fds[0], reply->data, (size_t)len) == len;
        reply->len = whole ? (size_t)len : 0;
    }
    close(fds[0]);
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR) return ms_error_errno(MS_E_IO, errno, "%s: cannot wait for the process that probes it", path);
    if (got != MS_OK) return ms_error_wrap(got, "%s: the answer of the process that probed it: ", path);
    if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0 && whole) {
        h.detail[sizeof h.detail - 1] = '\0';
        *st = (ms_status_t)h.st;
        if (h.st == MS_OK) {
            *verdict = MS_PROBE_OPENED;
        } else {
            *verdict = MS_PROBE_REFUSED;
            ms_error_set(*st, "%s", h.detail);
        }
        return MS_OK;
    }
    if (WIFSIGNALED(ws) && WTERMSIG(ws) == SIGALRM)
        ms_error_set(MS_E_CORRUPT, "%s is damaged: HDF5 was still reading its metadata after %d s", path,
                     MS_PART_PROBE_SECONDS);
    else if (WIFSIGNALED(ws))
        ms_error_set(MS_E_CORRUPT, "%s is damaged: HDF5 could not read its metadata (signal %d, %s)", path,
                     WTERMSIG(ws), signal_name(WTERMSIG(ws)));
    else
        ms_error_set(MS_E_CORRUPT, "%s is damaged: HDF5 could not read its metadata (exit status %d)", path,
                     WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
    return MS_OK;
}

/* A reader with a fixed-size answer, as one whose answer is bytes. */
typedef struct {
    ms_probe_fn fn;
    void *arg;
    size_t size;
} fixed_t;

static ms_status_t fixed_fn(void *arg, ms_buf_t *reply)
{
    const fixed_t *f = arg;
    if (f->size) {
        MS_TRY(ms_grow(&reply->data, &reply->cap, f->size, 1, f->size));
        memset(reply->data, 0, f->size);
        reply->len = f->size;
    }
    return f->fn(f->arg, reply->data);
}

ms_status_t ms_probe_fork(const char *path, ms_probe_fn fn, void *arg, void *reply, size_t reply_size,
                          ms_probe_t *verdict, ms_status_t *st)
{
    fixed_t f = {fn, arg, reply_size};
    ms_buf_t b = {0};
    ms_status_t rc = probe(path, fixed_fn, &f, &b, verdict, st);
    if (rc == MS_OK && *verdict == MS_PROBE_OPENED) {
        if (b.len != reply_size) {
            *verdict = MS_PROBE_DAMAGED;
            *st = ms_error_set(MS_E_INTERNAL, "%s: the process that probed it answered %zu bytes, not %zu", path,
                               b.len, reply_size);
        } else if (reply_size) {
            memcpy(reply, b.data, reply_size);
        }
    }
    ms_buf_free(&b);
    return rc;
}

ms_status_t ms_probe_run(const char *path, ms_probe_fn fn, void *arg)
{
    ms_probe_t verdict;
    ms_status_t st;
    MS_TRY(ms_probe_fork(path, fn, arg, NULL, 0, &verdict, &st));
    return st; /* MS_OK exactly when the verdict is MS_PROBE_OPENED */
}

ms_status_t ms_probe_read(const char *path, ms_probe_bytes_fn fn, void *arg, ms_buf_t *reply)
{
    ms_probe_t verdict;
    ms_status_t st;
    MS_TRY(probe(path, fn, arg, reply, &verdict, &st));
    if (st != MS_OK) ms_buf_free(reply);
    return st;
}
