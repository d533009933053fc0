/*
 * ms_shuffle_merge.c - external merge sort of a bucket larger than a
 * reducing thread's share: cut it into sorted runs of one share in a run
 * file, merge them a fan-in at a time through new run files while there are
 * more than the read buffers allow, and merge the last ones into the
 * reducer, one key's values at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ms_buf.h"
#include "ms_shuffle_int.h"

/* A bucket's run file and one run in it. */
typedef struct {
    int fd;
    uint64_t size;
    char path[MS_SHUFFLE_PATH_MAX];
} ms_runfile_t;

typedef struct {
    uint64_t off, len;
} ms_run_t;

typedef struct {
    ms_run_t *v;
    size_t n, cap;
} ms_runs_t;

/* ---- run files --------------------------------------------------------- */

static void runfile_close(ms_runfile_t *f)
{
    if (f->fd < 0) return;
    close(f->fd);
    unlink(f->path);
    f->fd = -1;
}

static ms_status_t runfile_open(const ms_reducer_t *r, ms_runfile_t *f, uint32_t b, unsigned pass)
{
    f->size = 0;
    snprintf(f->path, sizeof f->path, "%s/b%04u-pass%u.spill", r->s->dir, (unsigned)b, pass);
    f->fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (f->fd < 0) return ms_error_errno(MS_E_IO, errno, "cannot create spill file %s", f->path);
    atomic_fetch_add(&r->s->run_files, 1);
    return MS_OK;
}

static ms_status_t runfile_append(const ms_reducer_t *r, ms_runfile_t *f, const unsigned char *p,
                                  size_t len)
{
    MS_TRY(ms_shuffle_write_at(f->fd, p, len, f->size, f->path));
    f->size += len;
    atomic_fetch_add(&r->s->run_bytes, len);
    return MS_OK;
}

/* ---- making runs ------------------------------------------------------- */

/* The work array of make_runs: records, and for the radix sort its words
 * and their scratch (which then stages the sorted records for writing). */
typedef struct {
    unsigned char *rec;
    size_t cap;      /* record bytes: a multiple of rs */
    uint64_t *w, *t; /* [cap / rs] each, or NULL (reference sort) */
} ms_runwork_t;

/* Sort the work array and append it to the run file as one run. */
static ms_status_t flush_run(const ms_reducer_t *r, ms_runfile_t *f, ms_runs_t *runs, const ms_runwork_t *wk,
                             size_t len)
{
    const size_t rs = r->s->rs, n = len / rs;
    if (ms_grow(&runs->v, &runs->cap, runs->n + 1, sizeof *runs->v, 16) != MS_OK)
        return ms_error_set(MS_E_NOMEM, "shuffle: out of memory for the run list");
    runs->v[runs->n++] = (ms_run_t){.off = f->size, .len = len};
    if (!wk->w) {
        ms_shuffle_sort_records_ref(wk->rec, n, rs, r->s->vs);
        return runfile_append(r, f, wk->rec, len);
    }
    const unsigned char *base[1] = {wk->rec};
    const unsigned bits = ms_shuffle_ceil_log2(n);
    const ms_recset_t set = {.base = base, .slot_bits = bits, .id_bits = bits};
    for (size_t i = 0; i < n; i++) wk->w[i] = i;
    ms_shuffle_sort_index(&set, n, rs, r->s->vs, wk->w, wk->t);
    /* The records in order, through the scratch: 8 bytes a record, at least
     * one record (a share holds 64 records: 8 x 64 >= 16 + 256 + 16). */
    unsigned char *stage = (unsigned char *)wk->t;
    const size_t per = 8 * (wk->cap / rs) / rs;
    for (size_t i = 0; i < n;) {
        size_t m = n - i < per ? n - i : per;
        for (size_t k = 0; k < m; k++) memcpy(stage + k * rs, wk->rec + wk->w[i + k] * rs, rs);
        MS_TRY(runfile_append(r, f, stage, m * rs));
        i += m;
    }
    return MS_OK;
}

/* Stream the bucket (memory parts, then spill files, thread by thread) into
 * sorted runs of one share each. */
static ms_status_t make_runs(const ms_reducer_t *r, uint32_t b, ms_runfile_t *f, ms_runs_t *runs)
{
    ms_shuffle_t *s = r->s;
    const size_t rs = s->rs;
    ms_runwork_t wk = {0};
    if (s->sort == MS_SHUFFLE_SORT_REF) {
        wk.cap = r->share;
    } else {
        /* A share holds records and two sort words for each (8-aligned). */
        size_t nrec = (r->share - 8) / (rs + 16);
        if (nrec > MS_SHUFFLE_MAX_SORT_RECS) nrec = MS_SHUFFLE_MAX_SORT_RECS;
        wk.cap = nrec * rs;
    }
    MS_TRY(ms_shuffle_work_reserve(r, s->sort == MS_SHUFFLE_SORT_REF ? wk.cap : wk.cap + (wk.cap / rs) * 16 + 8));
    wk.rec = r->work->mem;
    if (s->sort != MS_SHUFFLE_SORT_REF) {
        wk.w = (uint64_t *)(void *)(r->work->mem + ((wk.cap + 7) & ~(size_t)7));
        wk.t = wk.w + wk.cap / rs;
    }
    const size_t wcap = wk.cap;
    unsigned char *work = wk.rec;
    size_t wlen = 0;
    ms_status_t st = MS_OK;
    for (int t = 0; t < s->nthreads && st == MS_OK; t++) {
        ms_part_t *p = &s->map[t].parts[b];
        /* Chunks, runs and the work array are whole records, so pieces are. */
        for (ms_chunk_t *c = p->head; c && st == MS_OK; c = c->next) {
            const unsigned char *data = ms_chunk_data(c);
            size_t clen = ms_chunk_len(p, c);
            for (size_t off = 0; off < clen && st == MS_OK;) {
                size_t n = clen - off < wcap - wlen ? clen - off : wcap - wlen;
                memcpy(work + wlen, data + off, n);
                off += n;
                wlen += n;
                if (wlen == wcap) {
                    st = flush_run(r, f, runs, &wk, wlen);
                    wlen = 0;
                }
            }
        }
        ms_shuffle_release_part(p);
        if (p->file_bytes == 0 || st != MS_OK) continue;
        char path[MS_SHUFFLE_PATH_MAX];
        int fd;
        if ((st = ms_shuffle_open_spill(s, path, t, b, &fd)) != MS_OK) break;
        for (uint64_t off = 0; off < p->file_bytes && st == MS_OK;) {
            size_t c = p->file_bytes - off < wcap - wlen ? (size_t)(p->file_bytes - off) : wcap - wlen;
            st = ms_shuffle_read_at(fd, work + wlen, c, off, path);
            off += c;
            wlen += c;
            if (st == MS_OK && wlen == wcap) {
                st = flush_run(r, f, runs, &wk, wlen);
                wlen = 0;
            }
        }
        close(fd);
    }
    if (st == MS_OK && wlen > 0) st = flush_run(r, f, runs, &wk, wlen);
    /* The merge takes its own memory out of the share. */
    ms_shuffle_work_release(s, r->work);
    return st;
}

/* ---- merging runs ------------------------------------------------------ */

/* A run being read back through its buffer. */
typedef struct {
    uint64_t pos, end;
    unsigned char *buf;
    size_t n, i; /* bytes in buf, read offset */
} ms_reader_t;

static ms_status_t reader_fill(ms_reader_t *rd, const ms_runfile_t *f, size_t bufbytes)
{
    uint64_t left = rd->end - rd->pos;
    rd->n = left < bufbytes ? (size_t)left : bufbytes;
    rd->i = 0;
    MS_TRY(ms_shuffle_read_at(f->fd, rd->buf, rd->n, rd->pos, f->path));
    rd->pos += rd->n;
    return MS_OK;
}

/* Heap order on the readers' current records; ties (equal records) go to
 * the lower run, though either choice gives the same bytes. */
static int reader_less(const ms_reader_t *rd, size_t x, size_t y, size_t vs)
{
    int c = ms_shuffle_rec_cmp(rd[x].buf + rd[x].i, rd[y].buf + rd[y].i, vs);
    return c < 0 || (c == 0 && x < y);
}

static void heap_down(size_t *h, size_t n, size_t i, const ms_reader_t *rd, size_t vs)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) return;
        if (c + 1 < n && reader_less(rd, h[c + 1], h[c], vs)) c++;
        if (!reader_less(rd, h[c], h[i], vs)) return;
        size_t t = h[c];
        h[c] = h[i];
        h[i] = t;
        i = c;
    }
}

/* The key being merged and its values, kept contiguous for the reducer. */
typedef struct {
    ms_key_t key;
    int open;
    size_t n;
    unsigned char *vals;
    size_t cap, limit; /* bytes; limit: what the share leaves for values */
} ms_group_t;

static ms_status_t group_flush(const ms_reducer_t *r, ms_group_t *g)
{
    if (!g->open) return MS_OK;
    g->open = 0;
    return r->fn(r->ctx, r->tid, g->key, g->vals, g->n);
}

static ms_status_t group_add(const ms_reducer_t *r, ms_group_t *g, const unsigned char *rec)
{
    const size_t vs = r->s->vs;
    if (g->open && memcmp(rec, &g->key, MS_SHUFFLE_KEY_BYTES) != 0) MS_TRY(group_flush(r, g));
    if (!g->open) {
        memcpy(&g->key, rec, MS_SHUFFLE_KEY_BYTES);
        g->n = 0;
        g->open = 1;
    }
    size_t need = (g->n + 1) * vs;
    if (need > g->cap) {
        /* Doubling, but not past the limit while the key still fits in it
         * (so not ms_grow, which only doubles); a key that does not goes
         * over the cap (see ms_shuffle_int.h). */
        size_t ncap = g->cap ? g->cap * 2 : 64 * vs;
        if (ncap > g->limit && need <= g->limit) ncap = g->limit;
        if (ncap < need) ncap = need;
        unsigned char *v = realloc(g->vals, ncap);
        if (!v) return ms_error_set(MS_E_NOMEM, "shuffle: out of memory for %zu values of one key", g->n + 1);
        ms_shuffle_mem_add(r->s, ncap - g->cap);
        g->vals = v;
        g->cap = ncap;
    }
    memcpy(g->vals + g->n * vs, rec + MS_SHUFFLE_KEY_BYTES, vs);
    g->n++;
    return MS_OK;
}

/* Merge nin runs of f: into out as one run, or (out == NULL) into g and the
 * reducer.  mem holds nin read buffers and one write buffer of bufbytes. */
static ms_status_t merge_runs(const ms_reducer_t *r, const ms_runfile_t *f, const ms_run_t *runs,
                              size_t nin, ms_runfile_t *out, ms_group_t *g, unsigned char *mem,
                              size_t bufbytes)
{
    const size_t rs = r->s->rs, vs = r->s->vs;
    ms_reader_t *rd = malloc(nin * sizeof *rd);
    size_t *h = malloc(nin * sizeof *h);
    if (!rd || !h) {
        free(rd);
        free(h);
        return ms_error_set(MS_E_NOMEM, "shuffle: out of memory for a %zu-way merge", nin);
    }
    ms_status_t st = MS_OK;
    size_t nh = 0;
    for (size_t k = 0; k < nin && st == MS_OK; k++) {
        rd[k] = (ms_reader_t){.pos = runs[k].off, .end = runs[k].off + runs[k].len,
                              .buf = mem + k * bufbytes};
        st = reader_fill(&rd[k], f, bufbytes);
        if (rd[k].n > 0) h[nh++] = k;
    }
    for (size_t i = nh / 2; i-- > 0;) heap_down(h, nh, i, rd, vs);
    unsigned char *obuf = mem + nin * bufbytes;
    size_t olen = 0;
    while (nh > 0 && st == MS_OK) {
        ms_reader_t *top = &rd[h[0]];
        const unsigned char *rec = top->buf + top->i;
        if (out) {
            memcpy(obuf + olen, rec, rs);
            olen += rs;
            if (olen == bufbytes) {
                st = runfile_append(r, out, obuf, olen);
                olen = 0;
            }
        } else {
            st = group_add(r, g, rec);
        }
        top->i += rs;
        if (st == MS_OK && top->i == top->n) {
            st = reader_fill(top, f, bufbytes);
            if (top->n == 0) h[0] = h[--nh];
        }
        heap_down(h, nh, 0, rd, vs);
    }
    if (st == MS_OK && out && olen > 0) st = runfile_append(r, out, obuf, olen);
    free(rd);
    free(h);
    return st;
}

/* Merge the runs, a fan-in at a time through new run files while there are
 * more than the read buffers allow, then into the reducer. */
static ms_status_t merge_bucket(const ms_reducer_t *r, uint32_t b, ms_runfile_t *f, ms_runs_t *runs)
{
    ms_shuffle_t *s = r->s;
    const size_t rs = s->rs, budget = r->share / 2;
    const size_t fan = budget / (rs * MS_SHUFFLE_MIN_READ_RECS) - 1; /* >= 3: share >= 64 records */
    const size_t nin_max = runs->n < fan ? runs->n : fan;
    const size_t bufbytes = budget / ((nin_max + 1) * rs) * rs;
    const size_t membytes = (nin_max + 1) * bufbytes;
    unsigned char *mem = malloc(membytes);
    if (!mem) return ms_error_set(MS_E_NOMEM, "shuffle: out of memory for merge buffers (%zu bytes)", membytes);
    ms_shuffle_mem_add(s, membytes);
    ms_status_t st = MS_OK;
    unsigned pass = 0;
    while (st == MS_OK && runs->n > fan) {
        ms_runfile_t out;
        st = runfile_open(r, &out, b, ++pass);
        size_t nout = 0;
        for (size_t i = 0; i < runs->n && st == MS_OK; i += fan) {
            size_t nin = runs->n - i < fan ? runs->n - i : fan;
            uint64_t start = out.size;
            st = merge_runs(r, f, runs->v + i, nin, &out, NULL, mem, bufbytes);
            /* Runs [i, i+nin) have been read; nout <= i, so this overwrites
             * only runs already merged. */
            runs->v[nout++] = (ms_run_t){.off = start, .len = out.size - start};
        }
        runfile_close(f);
        *f = out;
        runs->n = nout;
    }
    if (st == MS_OK) {
        ms_group_t g = {.limit = budget};
        st = merge_runs(r, f, runs->v, runs->n, NULL, &g, mem, bufbytes);
        if (st == MS_OK) st = group_flush(r, &g);
        free(g.vals);
        ms_shuffle_mem_sub(s, g.cap);
    }
    free(mem);
    ms_shuffle_mem_sub(s, membytes);
    return st;
}

ms_status_t ms_shuffle_reduce_external(const ms_reducer_t *r, uint32_t b)
{
    ms_runfile_t f;
    ms_runs_t runs = {0};
    ms_status_t st = runfile_open(r, &f, b, 0);
    if (st == MS_OK) st = make_runs(r, b, &f, &runs);
    if (st == MS_OK) st = merge_bucket(r, b, &f, &runs);
    runfile_close(&f);
    free(runs.v);
    return st;
}
