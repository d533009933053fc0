/*
 * ms_shuffle_map.c - the map side: emit a record into the emitting thread's
 * bucket buffer, and append a thread's buffers to its spill files (one per
 * thread and bucket) when they would outgrow its share of the cap.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "ms_shuffle_int.h"

/* Append one part's buffer to its spill file.  Files are created lazily and
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
    ms_status_t st = ms_shuffle_write_at(p->fd, p->data, p->len, p->file_bytes, path);
    if (st == MS_OK) p->file_bytes += p->len;
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
        if (p->len == 0) continue;
        ms_status_t st = part_append(s, m, tid, b);
        if (st != MS_OK) {
            m->failed = st;
            return st;
        }
        m->spilled_records += p->len / s->rs;
        m->spill_bytes += p->len;
        m->held -= p->len;
        p->len = 0;
    }
    /* Capacity is kept so the next round does not reallocate, unless skewed
     * keys have left more of it than a few shares. */
    if (m->cap_total > MS_SHUFFLE_SLACK_SHARES * s->map_share) {
        for (uint32_t b = 0; b < s->nbuckets; b++) {
            free(m->parts[b].data);
            m->parts[b].data = NULL;
            m->parts[b].cap = 0;
        }
        m->cap_total = 0;
    }
    return MS_OK;
}

/* Doubling, but never past the mapper's share (so not ms_grow, which only
 * doubles): held + rs <= map_share here, so map_share always has room. */
static ms_status_t part_grow(ms_shuffle_t *s, ms_mapper_t *m, ms_part_t *p)
{
    size_t ncap = p->cap ? p->cap * 2 : MS_SHUFFLE_INIT_RECS * s->rs;
    if (ncap > s->map_share) ncap = s->map_share;
    unsigned char *d = realloc(p->data, ncap);
    if (!d) return ms_error_set(MS_E_NOMEM, "shuffle: out of memory for a %zu-byte bucket buffer", ncap);
    m->cap_total += ncap - p->cap;
    p->data = d;
    p->cap = ncap;
    return MS_OK;
}

ms_status_t ms_shuffle_emit(ms_shuffle_t *s, int tid, ms_key_t key, const void *value)
{
    if (!s || !value || tid < 0 || tid >= s->nthreads || s->reduced)
        return ms_error_set(MS_E_USAGE, "ms_shuffle_emit: bad arguments (thread %d) or emit after reduce",
                            tid);
    ms_mapper_t *m = &s->map[tid];
    if (m->failed != MS_OK) return m->failed;
    if (m->held + s->rs > s->map_share) MS_TRY(ms_shuffle_mapper_spill(s, tid));
    uint32_t b = (uint32_t)(XXH3_64bits(&key, MS_SHUFFLE_KEY_BYTES) % s->nbuckets);
    ms_part_t *p = &m->parts[b];
    if (p->len + s->rs > p->cap) MS_TRY(part_grow(s, m, p));
    unsigned char *r = p->data + p->len;
    memcpy(r, &key, MS_SHUFFLE_KEY_BYTES);
    memcpy(r + MS_SHUFFLE_KEY_BYTES, value, s->vs);
    p->len += s->rs;
    m->held += s->rs;
    if (m->held > m->peak) m->peak = m->held;
    m->records++;
    return MS_OK;
}
