/*
 * ms_shuffle.c - the shuffle's life cycle (create, stats, free) and the
 * plumbing its phases share: spill file names, positioned reads and writes,
 * and reduce-time memory accounting.  The design (threads, memory, order,
 * files) is described in internal/ms_shuffle_int.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ms_fs.h"
#include "ms_shuffle_int.h"

/* ---- files ------------------------------------------------------------- */

void ms_shuffle_spill_path(const ms_shuffle_t *s, char *path, int tid, uint32_t b)
{
    snprintf(path, MS_SHUFFLE_PATH_MAX, "%s/t%03d-b%04u.spill", s->dir, tid, (unsigned)b);
}

ms_status_t ms_shuffle_open_spill(const ms_shuffle_t *s, char *path, int tid, uint32_t b, int *fd)
{
    ms_shuffle_spill_path(s, path, tid, b);
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) return ms_error_errno(MS_E_IO, errno, "cannot open spill file %s", path);
    return MS_OK;
}

ms_status_t ms_shuffle_write_at(int fd, const unsigned char *p, size_t len, uint64_t off,
                                const char *path)
{
    while (len > 0) {
        ssize_t w = pwrite(fd, p, len, (off_t)off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return ms_error_errno(MS_E_IO, errno, "cannot write spill file %s", path);
        /* A write that stores nothing is a full device. */
        if (w == 0) return ms_error_errno(MS_E_IO, ENOSPC, "cannot write spill file %s", path);
        p += w;
        len -= (size_t)w;
        off += (uint64_t)w;
    }
    return MS_OK;
}

ms_status_t ms_shuffle_read_at(int fd, unsigned char *p, size_t len, uint64_t off, const char *path)
{
    while (len > 0) {
        ssize_t r = pread(fd, p, len, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return ms_error_errno(MS_E_IO, errno, "cannot read spill file %s", path);
        if (r == 0) return ms_error_set(MS_E_IO, "spill file %s is shorter than written", path);
        p += r;
        len -= (size_t)r;
        off += (uint64_t)r;
    }
    return MS_OK;
}

/* ---- memory accounting (reduce) ---------------------------------------- */

void ms_shuffle_mem_add(ms_shuffle_t *s, size_t n)
{
    size_t now = atomic_fetch_add(&s->mem_now, n) + n;
    size_t peak = atomic_load(&s->mem_peak);
    while (now > peak && !atomic_compare_exchange_weak(&s->mem_peak, &peak, now)) {
    }
}

void ms_shuffle_mem_sub(ms_shuffle_t *s, size_t n) { atomic_fetch_sub(&s->mem_now, n); }

void ms_shuffle_release_part(ms_shuffle_t *s, ms_part_t *p)
{
    if (!p->data) return;
    ms_shuffle_mem_sub(s, p->len);
    free(p->data);
    p->data = NULL;
    p->len = p->cap = 0;
}

/* ---- life cycle -------------------------------------------------------- */

ms_status_t ms_shuffle_create(const char *spill_dir, int nthreads, size_t value_size, size_t mem_cap,
                              uint32_t nbuckets, ms_shuffle_t **out)
{
    if (!out) return ms_error_set(MS_E_USAGE, "ms_shuffle_create: no output pointer");
    *out = NULL;
    if (!spill_dir || !*spill_dir || strlen(spill_dir) > MS_SHUFFLE_PATH_MAX - 64)
        return ms_error_set(MS_E_USAGE, "ms_shuffle_create: missing or too long spill directory");
    if (nthreads < 1 || nthreads > 65536)
        return ms_error_set(MS_E_USAGE, "ms_shuffle_create: %d threads", nthreads);
    if (value_size < 1 || value_size > 256)
        return ms_error_set(MS_E_USAGE, "ms_shuffle_create: value size %zu not in 1..256", value_size);
    if (mem_cap == 0) return ms_error_set(MS_E_USAGE, "ms_shuffle_create: memory cap 0");

    ms_shuffle_t *s = calloc(1, sizeof *s);
    if (!s) return ms_error_set(MS_E_NOMEM, "shuffle: out of memory");
    s->nthreads = nthreads;
    s->vs = value_size;
    s->rs = MS_SHUFFLE_KEY_BYTES + value_size;
    s->cap = mem_cap;
    s->map_share = mem_cap / (size_t)nthreads / s->rs * s->rs;
    if (s->map_share < s->rs) s->map_share = s->rs;
    s->nbuckets = nbuckets ? nbuckets : 64u * (uint32_t)nthreads;
    /* One descriptor per spill file if the limit leaves plenty to spare;
     * otherwise each append reopens its file. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        s->keep_open = rl.rlim_cur == RLIM_INFINITY ||
                       (uint64_t)nthreads * s->nbuckets <= (uint64_t)rl.rlim_cur / 2;
    s->dir = strdup(spill_dir);
    s->map = aligned_alloc(64, (size_t)nthreads * sizeof *s->map);
    if (s->map) memset(s->map, 0, (size_t)nthreads * sizeof *s->map);
    if (!s->dir || !s->map) {
        ms_shuffle_free(s);
        return ms_error_set(MS_E_NOMEM, "shuffle: out of memory");
    }
    for (int t = 0; t < nthreads; t++) {
        ms_part_t *parts = calloc(s->nbuckets, sizeof *parts);
        if (!parts) {
            ms_shuffle_free(s);
            return ms_error_set(MS_E_NOMEM, "shuffle: out of memory for %u buckets", s->nbuckets);
        }
        for (uint32_t b = 0; b < s->nbuckets; b++) parts[b].fd = -1;
        s->map[t].parts = parts;
    }
    int existed = ms_is_dir(spill_dir);
    ms_status_t st = ms_mkdirs(spill_dir);
    if (st == MS_OK) {
        s->dir_created = !existed;
        st = ms_check_writable_dir(spill_dir);
    }
    if (st != MS_OK) {
        ms_shuffle_free(s);
        return st;
    }
    *out = s;
    return MS_OK;
}

void ms_shuffle_stats(const ms_shuffle_t *s, ms_shuffle_stats_t *st)
{
    if (!st) return;
    memset(st, 0, sizeof *st);
    if (!s) return;
    /* Mappers peak at different moments: their sum bounds the map's peak. */
    size_t map_peak = 0;
    for (int t = 0; t < s->nthreads; t++) {
        const ms_mapper_t *m = &s->map[t];
        st->records += m->records;
        st->spilled_records += m->spilled_records;
        st->spill_bytes += m->spill_bytes;
        st->spill_files += m->spill_files;
        map_peak += m->peak;
    }
    /* Reduce-time run files count as spill files too. */
    st->spill_files += (uint32_t)atomic_load(&s->run_files);
    st->spill_bytes += atomic_load(&s->run_bytes);
    st->buckets = s->nbuckets;
    size_t red_peak = atomic_load(&s->mem_peak);
    st->peak_bytes = map_peak > red_peak ? map_peak : red_peak;
}

void ms_shuffle_free(ms_shuffle_t *s)
{
    if (!s) return;
    for (int t = 0; s->map && t < s->nthreads; t++) {
        ms_part_t *parts = s->map[t].parts;
        for (uint32_t b = 0; parts && b < s->nbuckets; b++) {
            if (parts[b].fd >= 0) close(parts[b].fd);
            if (parts[b].created) {
                char path[MS_SHUFFLE_PATH_MAX];
                ms_shuffle_spill_path(s, path, t, b);
                unlink(path);
            }
            free(parts[b].data);
        }
        free(parts);
    }
    free(s->map);
    /* Only a directory we made, and only if nothing else was put in it. */
    if (s->dir_created) rmdir(s->dir);
    free(s->dir);
    free(s);
}
