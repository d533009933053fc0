/*
 * ms_shuffle_reduce.c - the reduce: split the cap into per-thread shares,
 * hand buckets to threads, reduce a bucket that fits a share, and return
 * the lowest failing bucket's error.  Buckets that do not fit go to
 * ms_shuffle_merge.c.
 *
 * A bucket in memory, with the radix sort: its records stay where the map
 * put them (the chunks; spilled ones are read into the workspace), the sort
 * orders their ids, and the walk copies each key's values once, from the
 * records into the scratch the sort no longer needs, for the reducer.  With
 * the reference sort: the bucket is gathered into one array, sorted in
 * place, and each key's values packed in place.
 */
#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ms_shuffle_int.h"

/* Call fn once per key of a sorted array.  A group's values are packed in
 * place at the start of the group (value i moves from i*rs+16 to i*vs,
 * never past a record not yet moved), so no scratch copy is needed. */
static ms_status_t walk_groups(const ms_reducer_t *r, unsigned char *a, size_t n)
{
    const size_t rs = r->s->rs, vs = r->s->vs;
    size_t i = 0;
    while (i < n) {
        unsigned char *g = a + i * rs;
        ms_key_t key;
        memcpy(&key, g, MS_SHUFFLE_KEY_BYTES);
        size_t j = i + 1;
        while (j < n && memcmp(a + j * rs, &key, MS_SHUFFLE_KEY_BYTES) == 0) j++;
        for (size_t k = 0; k < j - i; k++) memmove(g + k * vs, g + k * rs + MS_SHUFFLE_KEY_BYTES, vs);
        MS_TRY(r->fn(r->ctx, r->tid, key, g, j - i));
        i = j;
    }
    return MS_OK;
}

/* Call fn once per key of the records of set taken in the order of ids: a
 * key's values are copied (once) into vals, which holds n values. */
static ms_status_t walk_index(const ms_reducer_t *r, const ms_recset_t *set, const uint64_t *ids, size_t n,
                              unsigned char *vals)
{
    const size_t rs = r->s->rs, vs = r->s->vs;
    size_t i = 0;
    while (i < n) {
        ms_key_t key;
        memcpy(&key, ms_recset_rec(set, ids[i], rs), MS_SHUFFLE_KEY_BYTES);
        size_t g = 0;
        for (; i < n; i++, g++) {
            const unsigned char *rec = ms_recset_rec(set, ids[i], rs);
            /* The records are scattered: ask for one a few steps ahead. */
            if (i + 16 < n) {
                const unsigned char *q = ms_recset_rec(set, ids[i + 16], rs);
                __builtin_prefetch(q);
                __builtin_prefetch(q + rs - 1);
            }
            uint64_t k0, k1;
            memcpy(&k0, rec, 8);
            memcpy(&k1, rec + 8, 8);
            if (k0 != key.k0 || k1 != key.k1) break;
            ms_shuffle_copy_value(vals + g * vs, rec + MS_SHUFFLE_KEY_BYTES, vs);
        }
        MS_TRY(r->fn(r->ctx, r->tid, key, vals, g));
    }
    return MS_OK;
}

/* A bucket as the map left it: records in chunks and in spill files. */
typedef struct {
    size_t n;           /* records */
    size_t mem_chunks;  /* chunks holding records */
    size_t chunk_recs;  /* records of the fullest chunk */
    uint64_t spilled;   /* bytes in spill files */
} bucket_size_t;

static bucket_size_t bucket_size(const ms_shuffle_t *s, uint32_t b)
{
    bucket_size_t z = {0, 0, 0, 0};
    uint64_t bytes = 0;
    for (int t = 0; t < s->nthreads; t++) {
        const ms_part_t *p = &s->map[t].parts[b];
        for (ms_chunk_t *c = p->head; c; c = c->next) {
            size_t len = ms_chunk_len(p, c);
            if (len == 0) continue;
            z.mem_chunks++;
            if (len / s->rs > z.chunk_recs) z.chunk_recs = len / s->rs;
            bytes += len;
        }
        z.spilled += p->file_bytes;
        bytes += p->file_bytes;
    }
    z.n = (size_t)(bytes / s->rs);
    return z;
}

/* The radix sort reads records where they are: the chunks, and the spilled
 * records read into the workspace as pieces of 2^slot_bits records. */
typedef struct {
    unsigned slot_bits, id_bits;
    size_t pieces;     /* chunks and spilled pieces */
    size_t bytes;      /* workspace */
} radix_plan_t;

static radix_plan_t radix_plan(const ms_shuffle_t *s, const bucket_size_t *z)
{
    radix_plan_t p;
    p.slot_bits = ms_shuffle_ceil_log2(z->chunk_recs);
    if (p.slot_bits < MS_SHUFFLE_MIN_SLOT_BITS) p.slot_bits = MS_SHUFFLE_MIN_SLOT_BITS;
    const uint64_t spilled_recs = z->spilled / s->rs;
    p.pieces = z->mem_chunks + (size_t)((spilled_recs + (1ull << p.slot_bits) - 1) >> p.slot_bits);
    p.id_bits = p.slot_bits + ms_shuffle_ceil_log2(p.pieces);
    /* spilled records | ids | scratch, then one key's values | piece table
     * (each 8-aligned) */
    p.bytes = ((size_t)z->spilled + 7) / 8 * 8 + z->n * 8 + (z->n * ms_shuffle_walk_bytes(s->vs) + 7) / 8 * 8 +
              p.pieces * sizeof(void *);
    return p;
}

/* Whether a bucket is reduced in memory, and with how much workspace. */
static int fits_in_memory(const ms_reducer_t *r, const bucket_size_t *z, size_t *bytes)
{
    const ms_shuffle_t *s = r->s;
    if (s->sort == MS_SHUFFLE_SORT_REF) {
        *bytes = z->n * s->rs;
    } else {
        if (z->n > MS_SHUFFLE_MAX_SORT_RECS) return 0;
        radix_plan_t p = radix_plan(s, z);
        if (p.id_bits > 48) return 0;
        *bytes = p.bytes;
    }
    return *bytes <= r->share;
}

/* Read thread t's spill file of bucket b (p->file_bytes bytes) to dst. */
static ms_status_t read_spill(ms_shuffle_t *s, int t, uint32_t b, unsigned char *dst)
{
    const ms_part_t *p = &s->map[t].parts[b];
    char path[MS_SHUFFLE_PATH_MAX];
    int fd;
    MS_TRY(ms_shuffle_open_spill(s, path, t, b, &fd));
    ms_status_t st = ms_shuffle_read_at(fd, dst, (size_t)p->file_bytes, 0, path);
    close(fd);
    return st;
}

/* The reference: gather the bucket into one array, sort it, walk it. */
static ms_status_t reduce_in_memory_ref(const ms_reducer_t *r, uint32_t b, const bucket_size_t *z)
{
    ms_shuffle_t *s = r->s;
    MS_TRY(ms_shuffle_work_reserve(r, z->n * s->rs));
    unsigned char *a = r->work->mem;
    size_t off = 0;
    for (int t = 0; t < s->nthreads; t++) {
        ms_part_t *p = &s->map[t].parts[b];
        ms_shuffle_part_copy(p, a + off);
        off += ms_part_mem(p);
        if (p->file_bytes == 0) continue;
        MS_TRY(read_spill(s, t, b, a + off));
        off += (size_t)p->file_bytes;
    }
    ms_shuffle_sort_records_ref(a, z->n, s->rs, s->vs);
    return walk_groups(r, a, z->n);
}

/* The counter of a key: a multiply-shift hash of its two words into
 * 2^bits counters. */
static inline size_t floor_slot(uint64_t k0, uint64_t k1, unsigned bits)
{
    uint64_t h = (k0 * 0x9E3779B97F4A7C15ull) ^ (k1 * 0xC2B2AE3D27D4EB4Full);
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    return (size_t)(h >> (64 - bits));
}

/* Leave out the ids (of n) whose key's counter is at most the key's floor
 * (ms_shuffle.h: ms_shuffle_reduce_floor); the rest keep their order.  The
 * counters live in scratch (8n bytes: 2n 32-bit counters at most), which
 * the sort then takes over.  Returns how many ids remain. */
static size_t drop_under_floor(const ms_reducer_t *r, const ms_recset_t *set, uint64_t *w, size_t n, void *scratch)
{
    const size_t rs = r->s->rs;
    unsigned bits = 1;
    while (bits < 40 && ((size_t)1 << (bits + 1)) <= 2 * n) bits++;
    uint32_t *cnt = scratch;
    memset(cnt, 0, ((size_t)1 << bits) * sizeof *cnt);
    for (size_t i = 0; i < n; i++) {
        const unsigned char *rec = ms_recset_rec(set, w[i], rs);
        uint64_t k0, k1;
        memcpy(&k0, rec, 8);
        memcpy(&k1, rec + 8, 8);
        uint32_t *c = &cnt[floor_slot(k0, k1, bits)];
        *c += *c != UINT32_MAX;
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *rec = ms_recset_rec(set, w[i], rs);
        ms_key_t key;
        memcpy(&key, rec, MS_SHUFFLE_KEY_BYTES);
        if (cnt[floor_slot(key.k0, key.k1, bits)] > r->floor(r->ctx, key)) w[kept++] = w[i];
    }
    return kept;
}

/* The radix sort: no gather; the records stay in their chunks. */
static ms_status_t reduce_in_memory(const ms_reducer_t *r, uint32_t b, const bucket_size_t *z)
{
    ms_shuffle_t *s = r->s;
    if (s->sort == MS_SHUFFLE_SORT_REF) return reduce_in_memory_ref(r, b, z);
    const size_t rs = s->rs, n = z->n;
    const radix_plan_t pl = radix_plan(s, z);
    MS_TRY(ms_shuffle_work_reserve(r, pl.bytes));
    unsigned char *spill = r->work->mem;
    uint64_t *w = (uint64_t *)(void *)(spill + ((size_t)z->spilled + 7) / 8 * 8);
    uint64_t *t = w + n;
    unsigned char *vals = (unsigned char *)t;
    const unsigned char **base =
        (const unsigned char **)(void *)(vals + (n * ms_shuffle_walk_bytes(s->vs) + 7) / 8 * 8);
    size_t k = 0, i = 0, off = 0;
    for (int th = 0; th < s->nthreads; th++) {
        const ms_part_t *p = &s->map[th].parts[b];
        for (ms_chunk_t *c = p->head; c; c = c->next) {
            size_t len = ms_chunk_len(p, c), m = len / rs;
            if (m == 0) continue;
            base[k] = ms_chunk_data(c);
            for (size_t j = 0; j < m; j++) w[i++] = (uint64_t)k << pl.slot_bits | j;
            k++;
        }
        if (p->file_bytes == 0) continue;
        MS_TRY(read_spill(s, th, b, spill + off));
        off += (size_t)p->file_bytes;
    }
    /* The spilled records, in pieces. */
    const size_t per = (size_t)1 << pl.slot_bits;
    for (size_t done = 0, m = off / rs; done < m; done += per, k++) {
        base[k] = spill + done * rs;
        size_t cnt = m - done < per ? m - done : per;
        for (size_t j = 0; j < cnt; j++) w[i++] = (uint64_t)k << pl.slot_bits | j;
    }
    const ms_recset_t set = {.base = base, .slot_bits = pl.slot_bits, .id_bits = pl.id_bits};
    size_t m = r->floor ? drop_under_floor(r, &set, w, n, t) : n;
    ms_shuffle_sort_index(&set, m, rs, s->vs, w, t);
    return walk_index(r, &set, w, m, vals);
}

/* Whatever happened, a reduced bucket's memory and spill files go. */
static void drop_bucket(ms_shuffle_t *s, uint32_t b)
{
    for (int t = 0; t < s->nthreads; t++) {
        ms_part_t *p = &s->map[t].parts[b];
        ms_shuffle_release_part(p);
        if (p->created) {
            char path[MS_SHUFFLE_PATH_MAX];
            ms_shuffle_spill_path(s, path, t, b);
            unlink(path);
            p->created = 0;
        }
        p->file_bytes = 0;
    }
}

static ms_status_t reduce_bucket(const ms_reducer_t *r, uint32_t b)
{
    ms_shuffle_t *s = r->s;
    const bucket_size_t z = bucket_size(s, b);
    size_t bytes;
    ms_status_t st = MS_OK;
    if (z.n == 0) st = MS_OK;
    else if (!fits_in_memory(r, &z, &bytes)) st = ms_shuffle_reduce_external(r, b);
    else st = reduce_in_memory(r, b, &z);
    drop_bucket(s, b);
    return st;
}

static void close_map_files(ms_shuffle_t *s)
{
    for (int t = 0; t < s->nthreads; t++) {
        for (uint32_t b = 0; b < s->nbuckets; b++) {
            ms_part_t *p = &s->map[t].parts[b];
            if (p->fd >= 0) close(p->fd);
            p->fd = -1;
        }
    }
}

ms_status_t ms_shuffle_reduce(ms_shuffle_t *s, int nthreads, ms_shuffle_reduce_fn fn, void *ctx)
{
    return ms_shuffle_reduce_floor(s, nthreads, fn, NULL, ctx);
}

ms_status_t ms_shuffle_reduce_floor(ms_shuffle_t *s, int nthreads, ms_shuffle_reduce_fn fn,
                                    ms_shuffle_floor_fn floor, void *ctx)
{
    if (!s || !fn) return ms_error_set(MS_E_USAGE, "ms_shuffle_reduce: no shuffle or no reducer");
    if (s->reduced) return ms_error_set(MS_E_USAGE, "ms_shuffle_reduce: already reduced");
    s->reduced = 1;
    for (int t = 0; t < s->nthreads; t++)
        if (s->map[t].failed != MS_OK)
            return ms_error_set(s->map[t].failed, "shuffle: thread %d failed to spill during the map", t);
    const int nr = nthreads > 0 ? nthreads : s->nthreads;
    const size_t rs = s->rs;

    /* What the map left in memory counts against the cap; past half of it,
     * spill it so every reducing thread keeps a useful share. */
    size_t left = 0;
    for (int t = 0; t < s->nthreads; t++) left += s->map[t].held;
    if (left > s->cap / 2) {
        for (int t = 0; t < s->nthreads; t++) MS_TRY(ms_shuffle_mapper_spill(s, t));
        left = 0;
    }
    /* Arenas with nothing left go now; the others give back the pages that
     * earlier rounds touched and this one did not. */
    for (int t = 0; t < s->nthreads; t++) {
        ms_mapper_t *m = &s->map[t];
        if (m->held == 0) {
            ms_shuffle_arena_free(s, m);
        } else if (m->touched > m->held) {
            size_t pg = (size_t)sysconf(_SC_PAGESIZE);
            size_t from = (m->held + pg - 1) / pg * pg;
            if (m->touched > from) madvise(m->arena + from, m->touched - from, MADV_DONTNEED);
            m->touched = m->held;
        }
    }
    close_map_files(s);
    size_t share = (s->cap - left) / (size_t)nr;
    if (share < MS_SHUFFLE_MIN_SHARE_RECS * rs) share = MS_SHUFFLE_MIN_SHARE_RECS * rs;
    share -= share % rs;
    atomic_store(&s->mem_now, left);
    ms_shuffle_mem_add(s, 0);

    const uint32_t nb = s->nbuckets;
    ms_status_t *bst = calloc(nb, sizeof *bst);
    char **detail = calloc(nb, sizeof *detail);
    if (!bst || !detail) {
        free(bst);
        free(detail);
        return ms_error_set(MS_E_NOMEM, "shuffle: out of memory for %u bucket states", nb);
    }
    /* Buckets after a failed one are skipped (their answer is not wanted);
     * buckets before it still run, so the lowest failure wins. */
    _Atomic uint32_t first_fail = nb;
#pragma omp parallel num_threads(nr)
    {
        /* One workspace per thread, from bucket to bucket. */
        ms_work_t work = {0};
        const ms_reducer_t r = {.s = s, .fn = fn, .floor = floor, .ctx = ctx, .tid = omp_get_thread_num(),
                                .share = share, .work = &work};
#pragma omp for schedule(dynamic, 1)
        for (uint32_t b = 0; b < nb; b++) {
            if (b > atomic_load(&first_fail)) continue;
            ms_status_t st = reduce_bucket(&r, b);
            if (st == MS_OK) continue;
            /* The detail is thread-local: keep it for the caller's thread. */
            bst[b] = st;
            detail[b] = strdup(ms_error_detail());
            uint32_t cur = atomic_load(&first_fail);
            while (b < cur && !atomic_compare_exchange_weak(&first_fail, &cur, b)) {
            }
        }
        ms_shuffle_work_release(s, &work);
    }
    /* The map's leftovers, every bucket reduced. */
    for (int t = 0; t < s->nthreads; t++) ms_shuffle_arena_free(s, &s->map[t]);
    ms_shuffle_mem_sub(s, left);
    ms_status_t ret = MS_OK;
    for (uint32_t b = 0; b < nb; b++) {
        if (bst[b] != MS_OK && ret == MS_OK) ret = ms_error_set(bst[b], "%s", detail[b] ? detail[b] : "");
        free(detail[b]);
    }
    free(bst);
    free(detail);
    return ret;
}
