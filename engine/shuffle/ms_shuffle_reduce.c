/*
 * ms_shuffle_reduce.c - the reduce: split the cap into per-thread shares,
 * hand buckets to threads, reduce a bucket that fits a share by gathering
 * it into one sorted array, and return the lowest failing bucket's error.
 * Buckets that do not fit go to ms_shuffle_merge.c.
 */
#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
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

static ms_status_t reduce_in_memory(const ms_reducer_t *r, uint32_t b, size_t total)
{
    ms_shuffle_t *s = r->s;
    unsigned char *a = malloc(total);
    if (!a) return ms_error_set(MS_E_NOMEM, "shuffle: out of memory for bucket %u (%zu bytes)", b, total);
    ms_shuffle_mem_add(s, total);
    ms_status_t st = MS_OK;
    size_t off = 0;
    for (int t = 0; t < s->nthreads && st == MS_OK; t++) {
        ms_part_t *p = &s->map[t].parts[b];
        if (p->len) memcpy(a + off, p->data, p->len);
        off += p->len;
        ms_shuffle_release_part(s, p);
        if (p->file_bytes == 0) continue;
        char path[MS_SHUFFLE_PATH_MAX];
        int fd;
        if ((st = ms_shuffle_open_spill(s, path, t, b, &fd)) != MS_OK) break;
        st = ms_shuffle_read_at(fd, a + off, (size_t)p->file_bytes, 0, path);
        close(fd);
        off += (size_t)p->file_bytes;
    }
    if (st == MS_OK) {
        ms_shuffle_sort_records(a, total / s->rs, s->rs, s->vs);
        st = walk_groups(r, a, total / s->rs);
    }
    free(a);
    ms_shuffle_mem_sub(s, total);
    return st;
}

/* Whatever happened, a reduced bucket's memory and spill files go. */
static void drop_bucket(ms_shuffle_t *s, uint32_t b)
{
    for (int t = 0; t < s->nthreads; t++) {
        ms_part_t *p = &s->map[t].parts[b];
        ms_shuffle_release_part(s, p);
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
    uint64_t total = 0;
    for (int t = 0; t < s->nthreads; t++) total += s->map[t].parts[b].len + s->map[t].parts[b].file_bytes;
    ms_status_t st = MS_OK;
    if (total > r->share) st = ms_shuffle_reduce_external(r, b);
    else if (total > 0) st = reduce_in_memory(r, b, (size_t)total);
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
#pragma omp parallel for schedule(dynamic, 1) num_threads(nr)
    for (uint32_t b = 0; b < nb; b++) {
        if (b > atomic_load(&first_fail)) continue;
        const ms_reducer_t r = {.s = s, .fn = fn, .ctx = ctx, .tid = omp_get_thread_num(), .share = share};
        ms_status_t st = reduce_bucket(&r, b);
        if (st == MS_OK) continue;
        /* The detail is thread-local: keep it for the caller's thread. */
        bst[b] = st;
        detail[b] = strdup(ms_error_detail());
        uint32_t cur = atomic_load(&first_fail);
        while (b < cur && !atomic_compare_exchange_weak(&first_fail, &cur, b)) {
        }
    }
    ms_status_t ret = MS_OK;
    for (uint32_t b = 0; b < nb; b++) {
        if (bst[b] != MS_OK && ret == MS_OK) ret = ms_error_set(bst[b], "%s", detail[b] ? detail[b] : "");
        free(detail[b]);
    }
    free(bst);
    free(detail);
    return ret;
}
