/*
 * ms_shuffle_move.c - moving whole buckets between shuffles: what the
 * cluster mode uses to bring a key's records from every rank to the one that
 * reduces it (engine/dist).  A bucket is taken out of one shuffle (every
 * thread's records, in memory and in spill files) and put into another,
 * where its records land in the same bucket again (the bucket is a function
 * of the key and the bucket count only).  The reduce sorts a bucket's
 * records whatever order they came in, so moving changes nothing in the
 * answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ms_shuffle_int.h"

uint32_t ms_shuffle_nbuckets(const ms_shuffle_t *s) { return s ? s->nbuckets : 0; }

size_t ms_shuffle_record_size(const ms_shuffle_t *s) { return s ? s->rs : 0; }

/* Hand a spill file's records to fn in pieces of at most buf_len bytes. */
static ms_status_t take_file(ms_shuffle_t *s, int tid, uint32_t b, unsigned char *buf, size_t buf_len,
                             ms_shuffle_take_fn fn, void *ctx)
{
    ms_part_t *p = &s->map[tid].parts[b];
    if (p->fd >= 0) {
        close(p->fd);
        p->fd = -1;
    }
    char path[MS_SHUFFLE_PATH_MAX];
    int fd;
    MS_TRY(ms_shuffle_open_spill(s, path, tid, b, &fd));
    ms_status_t st = MS_OK;
    for (uint64_t off = 0; st == MS_OK && off < p->file_bytes;) {
        size_t len = p->file_bytes - off < buf_len ? (size_t)(p->file_bytes - off) : buf_len;
        st = ms_shuffle_read_at(fd, buf, len, off, path);
        if (st == MS_OK) st = fn(ctx, buf, len / s->rs);
        off += len;
    }
    close(fd);
    if (st != MS_OK) return st;
    if (unlink(path) != 0 && errno != ENOENT)
        return ms_error_errno(MS_E_IO, errno, "cannot remove spill file %s", path);
    p->created = 0;
    p->file_bytes = 0;
    return MS_OK;
}

ms_status_t ms_shuffle_take_bucket(ms_shuffle_t *s, uint32_t b, size_t max_bytes, ms_shuffle_take_fn fn, void *ctx,
                                   uint64_t *records)
{
    if (!s || !fn || b >= s->nbuckets || s->reduced)
        return ms_error_set(MS_E_USAGE, "ms_shuffle_take_bucket: bad arguments or after the reduce");
    uint64_t n = 0;
    size_t buf_len = max_bytes / s->rs * s->rs;
    if (buf_len < s->rs) buf_len = s->rs;
    unsigned char *buf = NULL;
    for (int t = 0; t < s->nthreads; t++) {
        ms_mapper_t *m = &s->map[t];
        if (m->failed != MS_OK) {
            free(buf);
            return m->failed;
        }
        ms_part_t *p = &m->parts[b];
        if (p->created && p->file_bytes > 0) {
            if (!buf && !(buf = malloc(buf_len))) return ms_error_set(MS_E_NOMEM, "shuffle: out of memory");
            n += p->file_bytes / s->rs;
            ms_status_t st = take_file(s, t, b, buf, buf_len, fn, ctx);
            if (st != MS_OK) {
                free(buf);
                return st;
            }
        }
        for (ms_chunk_t *c = p->head; c; c = c->next) {
            size_t len = ms_chunk_len(p, c);
            if (len == 0) continue;
            ms_status_t st = fn(ctx, ms_chunk_data(c), len / s->rs);
            if (st != MS_OK) {
                free(buf);
                return st;
            }
            n += len / s->rs;
        }
        /* The chunks stay carved from the arena until it starts over; their
         * records are gone from this shuffle. */
        ms_shuffle_release_part(p);
        p->next_chunk = MS_SHUFFLE_INIT_RECS * s->rs < s->chunk_max ? MS_SHUFFLE_INIT_RECS * s->rs : s->chunk_max;
    }
    free(buf);
    s->taken_records += n;
    if (records) *records = n;
    return MS_OK;
}

ms_status_t ms_shuffle_put(ms_shuffle_t *s, int tid, const void *records, size_t n)
{
    if (!s || (!records && n) || tid < 0 || tid >= s->nthreads)
        return ms_error_set(MS_E_USAGE, "ms_shuffle_put: bad arguments (thread %d)", tid);
    const unsigned char *r = records;
    for (size_t i = 0; i < n; i++, r += s->rs) {
        ms_key_t key;
        memcpy(&key, r, sizeof key);
        MS_TRY(ms_shuffle_emit(s, tid, key, r + MS_SHUFFLE_KEY_BYTES));
    }
    /* Emitted here, not by this shuffle's map: counted apart. */
    s->map[tid].records -= n;
    s->put_records += n;
    return MS_OK;
}
