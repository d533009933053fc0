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
#include <sys/mman.h>
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

/* ---- parts, arenas and workspaces -------------------------------------- */

void ms_shuffle_part_copy(const ms_part_t *p, unsigned char *dst)
{
    for (ms_chunk_t *c = p->head; c; c = c->next) {
        size_t n = ms_chunk_len(p, c);
        memcpy(dst, ms_chunk_data(c), n);
        dst += n;
    }
}

void ms_shuffle_release_part(ms_part_t *p)
{
    p->head = p->tail = NULL;
    p->wp = p->end = NULL;
    p->len = 0;
}

void ms_shuffle_arena_free(ms_shuffle_t *s, ms_mapper_t *m)
{
    if (m->arena) munmap(m->arena, s->map_share);
    m->arena = NULL;
    m->held = m->touched = 0;
    for (uint32_t b = 0; m->parts && b < s->nbuckets; b++) ms_shuffle_release_part(&m->parts[b]);
}

ms_status_t ms_shuffle_work_reserve(const ms_reducer_t *r, size_t n)
{
    ms_work_t *w = r->work;
    if (w->cap >= n) return MS_OK;
    ms_shuffle_work_release(r->s, w);
    /* A little over, so that buckets a little larger than the first do not
     * each reallocate; never over the share, which n fits. */
    size_t cap = n + n / 8;
    if (cap > r->share) cap = r->share;
    if (cap < n) cap = n;
    w->mem = malloc(cap);
    if (!w->mem) return ms_error_set(MS_E_NOMEM, "shuffle: out of memory for a %zu-byte workspace", cap);
    w->cap = cap;
    ms_shuffle_mem_add(r->s, cap);
    return MS_OK;
}

void ms_shuffle_work_release(ms_shuffle_t *s, ms_work_t *w)
{
    if (!w->mem) return;
    free(w->mem);
    ms_shuffle_mem_sub(s, w->cap);
    w->mem = NULL;
    w->cap = 0;
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
    s->nbuckets = nbuckets ? nbuckets : 64u * (uint32_t)nthreads;
    s->bucket_magic = ms_shuffle_bucket_magic(s->nbuckets);
    /* A mapper's arena: its share of the cap, room for one chunk of one
     * record at least.  Chunks grow to a size that lets every bucket hold
     * one in a quarter of the arena, so partly filled chunks waste little,
     * and no larger than MS_SHUFFLE_CHUNK_BYTES: the arena's pages are
     * zeroed when first touched, and the unused end of a bucket's last chunk
     * is touched too when pages are huge. */
    s->map_share = mem_cap / (size_t)nthreads;
    if (s->map_share < sizeof(ms_chunk_t) + s->rs) s->map_share = sizeof(ms_chunk_t) + s->rs;
    size_t cmax = s->map_share / 4 / s->nbuckets;
    if (cmax > MS_SHUFFLE_CHUNK_BYTES) cmax = MS_SHUFFLE_CHUNK_BYTES;
    s->chunk_max = cmax / s->rs * s->rs;
    if (s->chunk_max < s->rs) s->chunk_max = s->rs;
    if (s->chunk_max > s->map_share - sizeof(ms_chunk_t))
        s->chunk_max = (s->map_share - sizeof(ms_chunk_t)) / s->rs * s->rs;
    size_t first_chunk = MS_SHUFFLE_INIT_RECS * s->rs;
    if (first_chunk > s->chunk_max) first_chunk = s->chunk_max;
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
        for (uint32_t b = 0; b < s->nbuckets; b++) {
            parts[b].fd = -1;
            parts[b].next_chunk = first_chunk;
        }
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

void ms_shuffle_set_sort(ms_shuffle_t *s, ms_shuffle_sort_t how)
{
    if (s) s->sort = how == MS_SHUFFLE_SORT_REF ? MS_SHUFFLE_SORT_REF : MS_SHUFFLE_SORT_RADIX;
}

void ms_shuffle_stats(const ms_shuffle_t *s, ms_shuffle_stats_t *st)
{
    if (!st) return;
    memset(st, 0, sizeof *st);
    if (!s) return;
    st->record_bytes = (uint32_t)s->rs;
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
    st->taken_records = s->taken_records;
    st->put_records = s->put_records;
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
        }
        ms_shuffle_arena_free(s, &s->map[t]);
        free(parts);
    }
    free(s->map);
    /* Only a directory we made, and only if nothing else was put in it. */
    if (s->dir_created) rmdir(s->dir);
    free(s->dir);
    free(s);
}
