/*
 * ms_shuffle_int.h - what the shuffle's files share: the shuffle's state,
 * the record order, and the helpers one phase calls in another's file.
 *
 * Files.  ms_shuffle.c: create, stats, free, and the plumbing every phase
 * uses (spill file names, positioned reads and writes, reduce-time memory
 * accounting).  ms_shuffle_sort.c: the in-place record sort.
 * ms_shuffle_map.c: emit and map-side spills.  ms_shuffle_reduce.c: the
 * reduce driver and buckets that fit in memory.  ms_shuffle_merge.c: buckets
 * that do not, as sorted runs merged back from a run file.
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
 * Spill files.  spill_dir must be private to one shuffle: names are fixed
 * (t003-b0042.spill for map spills, b0042-pass1.spill for reduce runs).  A
 * bucket's files are removed as soon as it is reduced; ms_shuffle_free
 * removes whatever is left.
 */
#ifndef MS_SHUFFLE_INT_H
#define MS_SHUFFLE_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ms_shuffle.h"

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

/* What one reducing thread needs for one bucket. */
typedef struct {
    ms_shuffle_t *s;
    ms_shuffle_reduce_fn fn;
    void *ctx;
    int tid;
    size_t share; /* record bytes this thread may hold: a multiple of rs */
} ms_reducer_t;

/* ---- record order (inline: the sort and the merge call it per record) --- */

static inline int ms_shuffle_rec_cmp(const unsigned char *a, const unsigned char *b, size_t vs)
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

/* ms_shuffle_sort.c: sort n records of rs bytes (values of vs) in place,
 * allocating nothing. */
void ms_shuffle_sort_records(unsigned char *a, size_t n, size_t rs, size_t vs);

/* ---- ms_shuffle.c: files and memory accounting ------------------------- */

/* The map spill file of thread tid and bucket b (MS_SHUFFLE_PATH_MAX bytes). */
void ms_shuffle_spill_path(const ms_shuffle_t *s, char *path, int tid, uint32_t b);
/* Open that file for reading: *fd, and its name in path (MS_SHUFFLE_PATH_MAX
 * bytes) for the messages of later reads. */
ms_status_t ms_shuffle_open_spill(const ms_shuffle_t *s, char *path, int tid, uint32_t b, int *fd);

/* Write or read exactly len bytes at off; path names the file in errors. */
ms_status_t ms_shuffle_write_at(int fd, const unsigned char *p, size_t len, uint64_t off,
                                const char *path);
ms_status_t ms_shuffle_read_at(int fd, unsigned char *p, size_t len, uint64_t off, const char *path);

/* Reduce-time record bytes in memory, and their peak. */
void ms_shuffle_mem_add(ms_shuffle_t *s, size_t n);
void ms_shuffle_mem_sub(ms_shuffle_t *s, size_t n);

/* Free one thread's in-memory records of a bucket (already copied). */
void ms_shuffle_release_part(ms_shuffle_t *s, ms_part_t *p);

/* ---- across phases ----------------------------------------------------- */

/* ms_shuffle_map.c: append thread tid's non-empty buffers to its spill
 * files and empty them; a failure sticks to the mapper. */
ms_status_t ms_shuffle_mapper_spill(ms_shuffle_t *s, int tid);

/* ms_shuffle_merge.c: reduce bucket b, larger than r->share, through sorted
 * runs in a run file. */
ms_status_t ms_shuffle_reduce_external(const ms_reducer_t *r, uint32_t b);

#endif
