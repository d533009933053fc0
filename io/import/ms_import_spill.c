/*
 * ms_import_spill.c - spill files: fixed-size binary records appended, per
 * (writer, partition), to files under the build directory's .spill/, through
 * bounded write buffers; loaded back one partition at a time (and deleted)
 * by pass 2 and the duplicate check.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ms_import_int.h"

#define SPILL_BUDGET ((size_t)128 << 20) /* write buffers per spill set */
#define SPILL_BUF_MIN ((size_t)16 << 10)
#define SPILL_BUF_MAX ((size_t)4 << 20)

/* Buffers, counts and files are per (writer, partition): index sub * n + part. */
static void spill_path(const spill_t *s, uint32_t i, char *out, size_t cap)
{
    uint32_t sub = i / s->n, part = i % s->n;
    if (sub == 0)
        snprintf(out, cap, "%s/%s-%05u.bin", s->dir, s->tag, part);
    else
        snprintf(out, cap, "%s/%s-%05u.%u.bin", s->dir, s->tag, part, sub);
}

ms_status_t imp_spill_init(spill_t *s, const char *dir, const char *tag, uint32_t n,
                           uint32_t nsub, size_t rec_size)
{
    memset(s, 0, sizeof *s);
    s->dir = dir;
    s->tag = tag;
    s->n = n;
    s->nsub = nsub;
    s->rec_size = rec_size;
    size_t per = SPILL_BUDGET / n / nsub;
    per = per < SPILL_BUF_MIN ? SPILL_BUF_MIN : per > SPILL_BUF_MAX ? SPILL_BUF_MAX : per;
    s->buf_cap = per / rec_size * rec_size;
    s->buf = calloc((size_t)n * nsub, sizeof *s->buf);
    s->used = calloc((size_t)n * nsub, sizeof *s->used);
    s->count = calloc((size_t)n * nsub, sizeof *s->count);
    if (!s->buf || !s->used || !s->count) return ms_error_set(MS_E_NOMEM, "out of memory");
    return MS_OK;
}

static ms_status_t write_all(int fd, const void *data, size_t len, const char *path)
{
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return ms_error_errno(MS_E_IO, errno, "cannot write %s", path);
        p += w;
        len -= (size_t)w;
    }
    return MS_OK;
}

/* Append a partition's buffer to its file.  Files are opened per flush, so
 * thousands of partitions never need thousands of descriptors. */
static ms_status_t spill_flush_one(spill_t *s, uint32_t part)
{
    if (s->used[part] == 0) return MS_OK;
    char path[4096];
    spill_path(s, part, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return ms_error_errno(MS_E_IO, errno, "cannot create %s", path);
    ms_status_t st = write_all(fd, s->buf[part], s->used[part], path);
    if (close(fd) != 0 && st == MS_OK) st = ms_error_errno(MS_E_IO, errno, "cannot write %s", path);
    s->used[part] = 0;
    return st;
}

ms_status_t imp_spill_put(spill_t *s, uint32_t sub, uint32_t part, const void *rec)
{
    part += sub * s->n;
    if (!s->buf[part]) {
        s->buf[part] = malloc(s->buf_cap);
        if (!s->buf[part]) return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    memcpy(s->buf[part] + s->used[part], rec, s->rec_size);
    s->used[part] += s->rec_size;
    s->count[part]++;
    if (s->used[part] == s->buf_cap) return spill_flush_one(s, part);
    return MS_OK;
}

ms_status_t imp_spill_close(spill_t *s)
{
    ms_status_t st = MS_OK;
    for (uint32_t i = 0; s->buf && i < s->n * s->nsub; i++) {
        if (st == MS_OK) st = spill_flush_one(s, i);
        free(s->buf[i]);
        s->buf[i] = NULL;
    }
    return st;
}

void imp_spill_free(spill_t *s)
{
    for (uint32_t i = 0; s->buf && i < s->n * s->nsub; i++) free(s->buf[i]);
    free(s->buf);
    free(s->used);
    free(s->count);
    memset(s, 0, sizeof *s);
}

static ms_status_t read_exact(const char *path, void *buf, size_t bytes)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ms_error_errno(MS_E_IO, errno, "cannot open %s", path);
    size_t got = 0;
    int err = 0;
    while (got < bytes) {
        ssize_t r = pread(fd, (unsigned char *)buf + got, bytes - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            err = r < 0 ? errno : EIO; /* a short spill file: it was written whole */
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    return err ? ms_error_errno(MS_E_IO, err, "cannot read %s", path) : MS_OK;
}

ms_status_t imp_spill_load(const spill_t *s, uint32_t part, void **data, size_t *count)
{
    char path[4096];
    spill_path(s, part, path, sizeof path);
    *data = NULL;
    *count = 0;
    for (uint32_t k = 0; k < s->nsub; k++) *count += (size_t)s->count[k * s->n + part];
    if (*count == 0) return MS_OK;
    size_t bytes = *count * s->rec_size;
    unsigned char *buf = malloc(bytes);
    if (!buf) return ms_error_set(MS_E_NOMEM, "out of memory loading %s (%zu bytes)", path, bytes);
    size_t off = 0;
    for (uint32_t k = 0; k < s->nsub; k++) {
        size_t b = (size_t)s->count[k * s->n + part] * s->rec_size;
        if (b == 0) continue;
        spill_path(s, k * s->n + part, path, sizeof path);
        ms_status_t st = read_exact(path, buf + off, b);
        if (st != MS_OK) {
            free(buf);
            return st;
        }
        unlink(path); /* frees the disk as pass 2 goes */
        off += b;
    }
    *data = buf;
    return MS_OK;
}
