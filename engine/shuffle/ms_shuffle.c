/*
 * ms_shuffle.c - keyed aggregation: per-thread bucket buffers and spill
 * files (map), sorted buckets handed to a reducer (reduce).
 *
 * Threads.  Each emitting thread owns one ms_mapper_t: its bucket buffers,
 * its spill files and its counters, so emit takes no lock, touches no shared
 * cache line and allocates only when a bucket buffer grows (geometrically).
 * In the reduce, buckets are handed out one at a time (OpenMP dynamic
 * schedule); one thread reduces a bucket from start to end and is the only
 * one to touch that bucket's buffers and files.  Shared writes happen once
 * per bucket or buffer (the memory counter, the bucket's status), never per
 * record.
 *
 * Memory.  The cap counts bytes of records.  In the map a thread holds at
 * most cap / nthreads: before a record would take it past that, the thread
 * appends every non-empty buffer to its spill file (one file per thread and
 * bucket) and empties it.  The reduce starts with what the map left in
 * memory (R); if R is more than half the cap it is spilled as well, and each
 * reducing thread gets a share of (cap - R) / nthreads, so leftovers plus
 * shares stay within the cap; leftovers are freed bucket by bucket.  A bucket
 * that fits in a share is gathered into one array and sorted; a larger one is
 * cut into sorted runs of one share each, written to a run file and merged
 * back through half a share of read buffers (in several passes when there
 * are too many runs for that), the other half holding the values of the key
 * being merged.  Only a key whose values alone outgrow that half goes over
 * the cap: the reducer needs them contiguous.  peak_bytes shows it.
 *
 * Ordering.  Records are ordered by (k0, k1, value bytes).  Equal records
 * are byte-identical, so every sort and merge gives the same sequence
 * whatever order the records arrived in: whatever the thread count, the cap,
 * or which thread emitted what.  A large bucket is merged from sorted runs
 * rather than split again by hash, so its keys still reach the reducer in
 * ascending order.  Errors are kept per bucket and the lowest failing
 * bucket's is returned, so the answer does not depend on scheduling.
 *
 * Files.  spill_dir must be private to one shuffle: names are fixed
 * (t003-b0042.spill for map spills, b0042-pass1.spill for reduce runs).  A
 * bucket's files are removed as soon as it is reduced; ms_shuffle_free
 * removes whatever is left.
 */
#include "ms_shuffle.h"

#include <errno.h>
#include <fcntl.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <xxhash.h>

#include "ms_fs.h"

#define MS_SHUFFLE_INIT_RECS 16      /* first allocation of a bucket buffer, records */
#define MS_SHUFFLE_MIN_SHARE_RECS 64 /* a reducing thread's share, at least (records) */
#define MS_SHUFFLE_MIN_READ_RECS 8   /* a merge read buffer, at least (records) */
#define MS_SHUFFLE_SLACK_SHARES 4    /* buffer capacity a mapper may keep, in shares */
#define MS_SHUFFLE_PATH_MAX 4096
#define MS_SHUFFLE_KEY_BYTES 16

/* One thread's records for one bucket: in memory and in its spill file. */
typedef struct {
    unsigned char *data;
    size_t len, cap;     /* bytes */
    uint64_t file_bytes; /* bytes already in the spill file */
    int fd;              /* spill file kept open for appending, or -1 */
    int created;         /* the spill file exists and is ours to remove */
} ms_part_t;

/* One emitting thread's state; aligned so that threads never share a line. */
typedef struct {
    _Alignas(64) ms_part_t *parts; /* [nbuckets] */
    size_t held;                   /* record bytes in parts[].data */
    size_t peak;                   /* largest held */
    size_t cap_total;              /* capacity of parts[].data */
    uint64_t records, spilled_records, spill_bytes;
    uint32_t spill_files;
    ms_status_t failed; /* sticky: a spill failed, the map is incomplete */
} ms_mapper_t;

struct ms_shuffle {
    char *dir;
    int dir_created;
    int nthreads;
    size_t vs, rs;     /* value and record bytes */
    size_t cap;        /* mem_cap */
    size_t map_share;  /* bytes a mapper may hold: a multiple of rs, >= rs */
    uint32_t nbuckets;
    int keep_open;     /* enough descriptors to keep every spill file open */
    int reduced;
    ms_mapper_t *map;  /* [nthreads] */
    _Atomic size_t mem_now, mem_peak; /* reduce-time record bytes in memory */
    _Atomic uint64_t run_files, run_bytes;
};

/* A bucket's run file (reduce) and one run in it. */
typedef struct {
    int fd;
    uint64_t size;
    char path[MS_SHUFFLE_PATH_MAX];
} ms_runfile_t;

typedef struct {
    uint64_t off, len;
} ms_run_t;

/* What one reducing thread needs for one bucket. */
typedef struct {
    ms_shuffle_t *s;
    ms_shuffle_reduce_fn fn;
    void *ctx;
    int tid;
    size_t share; /* record bytes this thread may hold: a multiple of rs */
} ms_reducer_t;

/* ---- record order ------------------------------------------------------ */

static int rec_cmp(const unsigned char *a, const unsigned char *b, size_t vs)
{
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    if (x != y) return x < y ? -1 : 1;
    memcpy(&x, a + 8, 8);
    memcpy(&y, b + 8, 8);
    if (x != y) return x < y ? -1 : 1;
    return memcmp(a + MS_SHUFFLE_KEY_BYTES, b + MS_SHUFFLE_KEY_BYTES, vs);
}

/* Word by word: a call to memcpy per swap costs more than the swap. */
static void rec_swap(unsigned char *a, unsigned char *b, size_t rs)
{
    size_t i = 0;
    for (; i + 8 <= rs; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        memcpy(a + i, &y, 8);
        memcpy(b + i, &x, 8);
    }
    for (; i < rs; i++) {
        unsigned char t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

static void insertion_sort(unsigned char *a, size_t n, size_t rs, size_t vs, unsigned char *tmp)
{
    for (size_t i = 1; i < n; i++) {
        if (rec_cmp(a + i * rs, a + (i - 1) * rs, vs) >= 0) continue;
        memcpy(tmp, a + i * rs, rs);
        size_t j = i - 1;
        while (j > 0 && rec_cmp(tmp, a + (j - 1) * rs, vs) < 0) j--;
        memmove(a + (j + 1) * rs, a + j * rs, (i - j) * rs);
        memcpy(a + j * rs, tmp, rs);
    }
}

static void sift_down(unsigned char *a, size_t root, size_t n, size_t rs, size_t vs)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && rec_cmp(a + child * rs, a + (child + 1) * rs, vs) < 0) child++;
        if (rec_cmp(a + root * rs, a + child * rs, vs) >= 0) return;
        rec_swap(a + root * rs, a + child * rs, rs);
        root = child;
    }
}

static void heap_sort(unsigned char *a, size_t n, size_t rs, size_t vs)
{
    for (size_t i = n / 2; i-- > 0;) sift_down(a, i, n, rs, vs);
    for (size_t end = n; end-- > 1;) {
        rec_swap(a, a + end * rs, rs);
        sift_down(a, 0, end, rs, vs);
    }
}

/* Order a[0] <= a[m] <= a[n-1] in place. */
static void order3(unsigned char *a, size_t m, size_t n, size_t rs, size_t vs)
{
    unsigned char *x = a, *y = a + m * rs, *z = a + (n - 1) * rs;
    if (rec_cmp(y, x, vs) < 0) rec_swap(x, y, rs);
    if (rec_cmp(z, y, vs) < 0) {
        rec_swap(y, z, rs);
        if (rec_cmp(y, x, vs) < 0) rec_swap(x, y, rs);
    }
}

/* Introsort in place on fixed-size records: Hoare partitioning around the
 * median of three (it stops on records equal to the pivot, so long runs of
 * equal records, common with small values, still split evenly), insertion
 * sort for short ranges and heapsort past the depth limit.  No allocation:
 * glibc's qsort would malloc a copy of the array, doubling the memory the
 * cap is meant to bound. */
static void quick_sort(unsigned char *a, size_t n, size_t rs, size_t vs, unsigned char *tmp,
                       unsigned char *piv, unsigned depth)
{
    while (n > 16) {
        if (depth == 0) {
            heap_sort(a, n, rs, vs);
            return;
        }
        depth--;
        /* With a[0] <= pivot <= a[n-1] both scans stop inside the range and
         * the split leaves records on both sides. */
        order3(a, n / 2, n, rs, vs);
        memcpy(piv, a + (n / 2) * rs, rs);
        size_t i = 0, j = n - 1;
        for (;;) {
            while (rec_cmp(a + i * rs, piv, vs) < 0) i++;
            while (rec_cmp(a + j * rs, piv, vs) > 0) j--;
            if (i >= j) break;
            rec_swap(a + i * rs, a + j * rs, rs);
            i++;
            j--;
        }
        /* [0, j] <= pivot <= [j+1, n): recurse on the smaller side so the
         * stack stays logarithmic. */
        size_t nl = j + 1;
        if (nl < n - nl) {
            quick_sort(a, nl, rs, vs, tmp, piv, depth);
            a += nl * rs;
            n -= nl;
        } else {
            quick_sort(a + nl * rs, n - nl, rs, vs, tmp, piv, depth);
            n = nl;
        }
    }
    insertion_sort(a, n, rs, vs, tmp);
}

static void sort_records(unsigned char *a, size_t n, size_t rs, size_t vs)
{
    unsigned char tmp[MS_SHUFFLE_KEY_BYTES + 256], piv[MS_SHUFFLE_KEY_BYTES + 256];
    unsigned depth = 0;
    for (size_t m = n; m > 1; m >>= 1) depth += 2;
    quick_sort(a, n, rs, vs, tmp, piv, depth);
}

/* ---- files ------------------------------------------------------------- */

static void spill_path(const ms_shuffle_t *s, char *path, int tid, uint32_t b)
{
    snprintf(path, MS_SHUFFLE_PATH_MAX, "%s/t%03d-b%04u.spill", s->dir, tid, (unsigned)b);
}

static ms_status_t write_at(int fd, const unsigned char *p, size_t len, uint64_t off,
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

static ms_status_t read_at(int fd, unsigned char *p, size_t len, uint64_t off, const char *path)
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

static void mem_add(ms_shuffle_t *s, size_t n)
{
    size_t now = atomic_fetch_add(&s->mem_now, n) + n;
    size_t peak = atomic_load(&s->mem_peak);
    while (now > peak && !atomic_compare_exchange_weak(&s->mem_peak, &peak, now)) {
    }
}

static void mem_sub(ms_shuffle_t *s, size_t n) { atomic_fetch_sub(&s->mem_now, n); }

/* ---- map --------------------------------------------------------------- */

/* Append one part's buffer to its spill file.  Files are created lazily and
 * truncated on creation (spill_dir is ours); when the process may not hold
 * one descriptor per file they are reopened for each append. */
static ms_status_t part_append(ms_shuffle_t *s, ms_mapper_t *m, int tid, uint32_t b)
{
    ms_part_t *p = &m->parts[b];
    char path[MS_SHUFFLE_PATH_MAX];
    spill_path(s, path, tid, b);
    if (p->fd < 0) {
        int flags = O_WRONLY | O_CLOEXEC | (p->created ? 0 : O_CREAT | O_TRUNC);
        p->fd = open(path, flags, 0600);
        if (p->fd < 0) return ms_error_errno(MS_E_IO, errno, "cannot create spill file %s", path);
        if (!p->created) {
            p->created = 1;
            m->spill_files++;
        }
    }
    ms_status_t st = write_at(p->fd, p->data, p->len, p->file_bytes, path);
    if (st == MS_OK) p->file_bytes += p->len;
    if (st != MS_OK || !s->keep_open) {
        close(p->fd);
        p->fd = -1;
    }
    return st;
}

static ms_status_t mapper_spill(ms_shuffle_t *s, int tid)
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

static ms_status_t part_grow(ms_shuffle_t *s, ms_mapper_t *m, ms_part_t *p)
{
    /* held + rs <= map_share here, so map_share always has room. */
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
    if (m->held + s->rs > s->map_share) MS_TRY(mapper_spill(s, tid));
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

/* ---- reduce: a bucket that fits --------------------------------------- */

/* Free one thread's in-memory records of a bucket (already copied). */
static void release_part(ms_shuffle_t *s, ms_part_t *p)
{
    if (!p->data) return;
    mem_sub(s, p->len);
    free(p->data);
    p->data = NULL;
    p->len = p->cap = 0;
}

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
    mem_add(s, total);
    ms_status_t st = MS_OK;
    size_t off = 0;
    for (int t = 0; t < s->nthreads && st == MS_OK; t++) {
        ms_part_t *p = &s->map[t].parts[b];
        if (p->len) memcpy(a + off, p->data, p->len);
        off += p->len;
        release_part(s, p);
        if (p->file_bytes == 0) continue;
        char path[MS_SHUFFLE_PATH_MAX];
        spill_path(s, path, t, b);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            st = ms_error_errno(MS_E_IO, errno, "cannot open spill file %s", path);
            break;
        }
        st = read_at(fd, a + off, (size_t)p->file_bytes, 0, path);
        close(fd);
        off += (size_t)p->file_bytes;
    }
    if (st == MS_OK) {
        sort_records(a, total / s->rs, s->rs, s->vs);
        st = walk_groups(r, a, total / s->rs);
    }
    free(a);
    mem_sub(s, total);
    return st;
}

/* ---- reduce: a bucket that does not fit -------------------------------- */

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
    MS_TRY(write_at(f->fd, p, len, f->size, f->path));
    f->size += len;
    atomic_fetch_add(&r->s->run_bytes, len);
    return MS_OK;
}

typedef struct {
    ms_run_t *v;
    size_t n, cap;
} ms_runs_t;

/* Sort the work array and append it to the run file as one run. */
static ms_status_t flush_run(const ms_reducer_t *r, ms_runfile_t *f, ms_runs_t *runs,
                             unsigned char *work, size_t len)
{
    if (runs->n == runs->cap) {
        size_t ncap = runs->cap ? runs->cap * 2 : 16;
        ms_run_t *v = realloc(runs->v, ncap * sizeof *v);
        if (!v) return ms_error_set(MS_E_NOMEM, "shuffle: out of memory for the run list");
        runs->v = v;
        runs->cap = ncap;
    }
    sort_records(work, len / r->s->rs, r->s->rs, r->s->vs);
    runs->v[runs->n++] = (ms_run_t){.off = f->size, .len = len};
    return runfile_append(r, f, work, len);
}

/* Stream the bucket (memory parts, then spill files, thread by thread) into
 * sorted runs of one share each. */
static ms_status_t make_runs(const ms_reducer_t *r, uint32_t b, ms_runfile_t *f, ms_runs_t *runs)
{
    ms_shuffle_t *s = r->s;
    const size_t wcap = r->share;
    unsigned char *work = malloc(wcap);
    if (!work) return ms_error_set(MS_E_NOMEM, "shuffle: out of memory for a %zu-byte run", wcap);
    mem_add(s, wcap);
    size_t wlen = 0;
    ms_status_t st = MS_OK;
    for (int t = 0; t < s->nthreads && st == MS_OK; t++) {
        ms_part_t *p = &s->map[t].parts[b];
        /* Parts, runs and the work array are whole records, so pieces are. */
        for (size_t off = 0; off < p->len && st == MS_OK;) {
            size_t c = p->len - off < wcap - wlen ? p->len - off : wcap - wlen;
            memcpy(work + wlen, p->data + off, c);
            off += c;
            wlen += c;
            if (wlen == wcap) {
                st = flush_run(r, f, runs, work, wlen);
                wlen = 0;
            }
        }
        release_part(s, p);
        if (p->file_bytes == 0 || st != MS_OK) continue;
        char path[MS_SHUFFLE_PATH_MAX];
        spill_path(s, path, t, b);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            st = ms_error_errno(MS_E_IO, errno, "cannot open spill file %s", path);
            break;
        }
        for (uint64_t off = 0; off < p->file_bytes && st == MS_OK;) {
            size_t c = p->file_bytes - off < wcap - wlen ? (size_t)(p->file_bytes - off) : wcap - wlen;
            st = read_at(fd, work + wlen, c, off, path);
            off += c;
            wlen += c;
            if (st == MS_OK && wlen == wcap) {
                st = flush_run(r, f, runs, work, wlen);
                wlen = 0;
            }
        }
        close(fd);
    }
    if (st == MS_OK && wlen > 0) st = flush_run(r, f, runs, work, wlen);
    free(work);
    mem_sub(s, wcap);
    return st;
}

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
    MS_TRY(read_at(f->fd, rd->buf, rd->n, rd->pos, f->path));
    rd->pos += rd->n;
    return MS_OK;
}

/* Heap order on the readers' current records; ties (equal records) go to
 * the lower run, though either choice gives the same bytes. */
static int reader_less(const ms_reader_t *rd, size_t x, size_t y, size_t vs)
{
    int c = rec_cmp(rd[x].buf + rd[x].i, rd[y].buf + rd[y].i, vs);
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
        /* Doubling, but not past the limit while the key still fits in it;
         * a key that does not goes over the cap (see the top). */
        size_t ncap = g->cap ? g->cap * 2 : 64 * vs;
        if (ncap > g->limit && need <= g->limit) ncap = g->limit;
        if (ncap < need) ncap = need;
        unsigned char *v = realloc(g->vals, ncap);
        if (!v) return ms_error_set(MS_E_NOMEM, "shuffle: out of memory for %zu values of one key", g->n + 1);
        mem_add(r->s, ncap - g->cap);
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
    mem_add(s, membytes);
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
        mem_sub(s, g.cap);
    }
    free(mem);
    mem_sub(s, membytes);
    return st;
}

static ms_status_t reduce_external(const ms_reducer_t *r, uint32_t b)
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

/* Whatever happened, a reduced bucket's memory and spill files go. */
static void drop_bucket(ms_shuffle_t *s, uint32_t b)
{
    for (int t = 0; t < s->nthreads; t++) {
        ms_part_t *p = &s->map[t].parts[b];
        release_part(s, p);
        if (p->created) {
            char path[MS_SHUFFLE_PATH_MAX];
            spill_path(s, path, t, b);
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
    if (total > r->share) st = reduce_external(r, b);
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
        for (int t = 0; t < s->nthreads; t++) MS_TRY(mapper_spill(s, t));
        left = 0;
    }
    close_map_files(s);
    size_t share = (s->cap - left) / (size_t)nr;
    if (share < MS_SHUFFLE_MIN_SHARE_RECS * rs) share = MS_SHUFFLE_MIN_SHARE_RECS * rs;
    share -= share % rs;
    atomic_store(&s->mem_now, left);
    mem_add(s, 0);

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
                spill_path(s, path, t, b);
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
