/*
 * ms_shuffle_map.c - the map side: emit a record into the emitting thread's
 * bucket buffer (chunks of its arena), and append a thread's buffers to its
 * spill files (one per thread and bucket) when the arena has no room for
 * another chunk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>
/* The hash inlined: 16 bytes hash in a few instructions, not a call. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ms_shuffle_int.h"

/* Append a part's chunks to its open spill file, up to SPILL_IOV chunks a
 * call (small caps make small chunks: one write each would be many). */
#define SPILL_IOV 64
static ms_status_t write_chunks(ms_part_t *p, const char *path)
{
    ms_chunk_t *c = p->head;
    size_t skip = 0; /* bytes of c already written */
    for (;;) {
        while (c && ms_chunk_len(p, c) == skip) {
            c = c->next;
            skip = 0;
        }
        if (!c) return MS_OK;
        struct iovec iov[SPILL_IOV];
        int n = 0;
        for (ms_chunk_t *d = c; d && n < SPILL_IOV; d = d->next, n++) {
            size_t from = d == c ? skip : 0;
            iov[n].iov_base = ms_chunk_data(d) + from;
            iov[n].iov_len = ms_chunk_len(p, d) - from;
        }
        ssize_t w = pwritev(p->fd, iov, n, (off_t)p->file_bytes);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return ms_error_errno(MS_E_IO, errno, "cannot write spill file %s", path);
        /* A write that stores nothing is a full device. */
        if (w == 0) return ms_error_errno(MS_E_IO, ENOSPC, "cannot write spill file %s", path);
        p->file_bytes += (uint64_t)w;
        /* Past what was written: whole chunks, then part of one. */
        for (size_t left = (size_t)w; left > 0;) {
            size_t rem = ms_chunk_len(p, c) - skip;
            if (left < rem) {
                skip += left;
                left = 0;
            } else {
                left -= rem;
                skip = 0;
                c = c->next;
            }
        }
    }
}

/* Append one part's chunks to its spill file.  Files are created lazily and
 * truncated on creation (spill_dir is ours); when the process may not hold
 * one descriptor per file they are reopened for each append. */
static ms_status_t part_append(ms_shuffle_t *s, ms_mapper_t *m, int tid, uint32_t b)
{
    ms_part_t *p = &m->parts[b];
    char path[MS_SHUFFLE_PATH_MAX];
    ms_shuffle_spill_path(s, path, tid, b);
    if (p->fd < 0) {
        int flags = O_WRONLY | O_CLOEXEC | (p->created ? 0 : O_CREAT | O_TRUNC);
        p->fd = open(path, flags, 0600);
        if (p->fd < 0) return ms_error_errno(MS_E_IO, errno, "cannot create spill file %s", path);
        if (!p->created) {
            p->created = 1;
            m->spill_files++;
        }
    }
    ms_status_t st = write_chunks(p, path);
    if (st != MS_OK || !s->keep_open) {
        close(p->fd);
        p->fd = -1;
    }
    return st;
}

ms_status_t ms_shuffle_mapper_spill(ms_shuffle_t *s, int tid)
{
    ms_mapper_t *m = &s->map[tid];
    for (uint32_t b = 0; b < s->nbuckets; b++) {
        ms_part_t *p = &m->parts[b];
        size_t len = ms_part_mem(p);
        if (len == 0) continue;
        ms_status_t st = part_append(s, m, tid, b);
        if (st != MS_OK) {
            m->failed = st;
            return st;
        }
        m->spilled_records += len / s->rs;
        m->spill_bytes += len;
    }
    /* Every chunk is free again: the arena starts over, its pages kept. */
    for (uint32_t b = 0; b < s->nbuckets; b++) ms_shuffle_release_part(&m->parts[b]);
    m->held = 0;
    return MS_OK;
}

/* The bucket buffer p is full (or has no chunk): give it the arena's next
 * chunk, spilling the thread's buffers first if the arena has no room. */
static ms_status_t part_chunk(ms_shuffle_t *s, ms_mapper_t *m, int tid, ms_part_t *p)
{
    if (!m->arena) {
        /* Address space only: pages are touched as chunks are handed out. */
        void *a = mmap(NULL, s->map_share, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                       -1, 0);
        if (a == MAP_FAILED)
            return ms_error_errno(MS_E_NOMEM, errno, "shuffle: cannot map a %zu-byte arena", s->map_share);
        m->arena = a;
        /* A large arena is filled front to back and held to the reduce:
         * 2 MiB pages fault 512 times less often (on a 2-core VM, 4 KiB
         * faults were a quarter of a sweep's CPU).  Under 64 MiB the last
         * page's rounding would cost more than 3%, so small ones keep 4 KiB
         * pages.  Advice only: the kernel's THP policy decides. */
        if (s->map_share >= MS_SHUFFLE_HUGE_ARENA) (void)madvise(a, s->map_share, MADV_HUGEPAGE);
    }
    /* Chunks start 16-aligned (their headers hold pointers). */
    size_t need = (sizeof(ms_chunk_t) + p->next_chunk + 15) & ~(size_t)15;
    if (m->held + need > s->map_share) {
        MS_TRY(ms_shuffle_mapper_spill(s, tid));
        if (need > s->map_share) need = s->map_share; /* chunk_max fits, once empty */
    }
    ms_chunk_t *c = (ms_chunk_t *)(void *)(m->arena + m->held);
    size_t room = (need - sizeof(ms_chunk_t)) / s->rs * s->rs;
    m->held += need;
    if (m->held > m->touched) m->touched = m->held;
    if (m->held > m->peak) m->peak = m->held;
    c->next = NULL;
    c->len = 0;
    if (p->tail) {
        p->tail->len = (size_t)(p->wp - ms_chunk_data(p->tail));
        p->len += p->tail->len;
        p->tail->next = c;
    } else {
        p->head = c;
    }
    p->tail = c;
    p->wp = ms_chunk_data(c);
    p->end = p->wp + room;
    p->next_chunk = p->next_chunk * 2 < s->chunk_max ? p->next_chunk * 2 : s->chunk_max;
    return MS_OK;
}

ms_status_t ms_shuffle_emit(ms_shuffle_t *s, int tid, ms_key_t key, const void *value)
{
    if (!s || !value || tid < 0 || tid >= s->nthreads || s->reduced)
        return ms_error_set(MS_E_USAGE, "ms_shuffle_emit: bad arguments (thread %d) or emit after reduce",
                            tid);
    ms_mapper_t *m = &s->map[tid];
    if (m->failed != MS_OK) return m->failed;
    uint32_t b = ms_shuffle_bucket(XXH3_64bits(&key, MS_SHUFFLE_KEY_BYTES), s->bucket_magic, s->nbuckets);
    ms_part_t *p = &m->parts[b];
    const size_t rs = s->rs;
    if ((uintptr_t)p->end - (uintptr_t)p->wp < rs) MS_TRY(part_chunk(s, m, tid, p));
    unsigned char *r = p->wp;
    /* The bucket's next lines, for writing: 128 buffers are filled at once,
     * and each new line of each is a miss.  (A prefetch does not fault.) */
    __builtin_prefetch(r + 256, 1);
    memcpy(r, &key, MS_SHUFFLE_KEY_BYTES);
    ms_shuffle_copy_value(r + MS_SHUFFLE_KEY_BYTES, value, s->vs);
    p->wp = r + rs;
    m->records++;
    return MS_OK;
}
