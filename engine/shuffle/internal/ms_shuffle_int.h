/*
 * ms_shuffle_int.h - what the shuffle's files share: the shuffle's state,
 * the record order, and the helpers one phase calls in another's file.
 *
 * Files.  ms_shuffle.c: create, stats, free, and the plumbing every phase
 * uses (spill file names, positioned reads and writes, reduce-time memory
 * accounting, the map arenas).  ms_shuffle_sort.c: the record sorts (the
 * radix index sort the reduce uses, and the plain comparison sort kept as
 * its reference).  ms_shuffle_map.c: emit and map-side spills.
 * ms_shuffle_reduce.c: the reduce driver and buckets that fit in memory.
 * ms_shuffle_merge.c: buckets that do not, as sorted runs merged back from a
 * run file.
 *
 * Threads.  Each emitting thread owns one ms_mapper_t: its arena, its bucket
 * buffers, its spill files and its counters, so emit takes no lock, touches
 * no shared cache line and never allocates: a bucket buffer is a list of
 * chunks carved from the thread's arena.  In the reduce, buckets are handed
 * out one at a time (OpenMP dynamic schedule); one thread reduces a bucket
 * from start to end and is the only one to touch that bucket's buffers and
 * files.  Shared writes happen once per bucket or buffer (the memory counter,
 * the bucket's status), never per record.
 *
 * Memory.  The cap counts bytes of records and of the scratch that sorts
 * them.  In the map a thread holds at most cap / nthreads: its arena, one
 * region of that size reserved once (address space only, huge pages asked
 * for when it is MS_SHUFFLE_HUGE_ARENA or more; pages are touched as chunks
 * are handed out, and reused after a spill, never freed and zeroed again).  A bucket buffer is a list of chunks from
 * the arena, doubling from a few records up to MS_SHUFFLE_CHUNK_BYTES (less
 * if every bucket's chunk would not fit in a quarter of the arena); when a
 * chunk would not fit, the thread appends every non-empty buffer to its
 * spill file (one file per thread and bucket) and starts the arena over.
 * The reduce starts with what the map left in memory (R, the arenas' chunks
 * in use); if R is more than half the cap it is spilled and the arenas are
 * unmapped, and each reducing thread gets a share of (cap - R) / nthreads,
 * so leftovers plus shares stay within the cap.  R stays counted until the
 * reduce ends, when the arenas go: the radix sort reads records where they
 * are.  A reducing thread keeps one workspace, at most a share, from bucket
 * to bucket.  A bucket fits in a share when the workspace it needs does:
 * with the radix sort, its spilled records read back, 8 + max(8, vs) bytes
 * per record (a sort word, and the sort's scratch that then holds one key's
 * values) and a pointer per chunk; with the reference sort, the whole
 * bucket gathered (rs bytes per record).  A larger bucket is cut into sorted
 * runs of one share each (rs + 16 bytes per record with the radix sort: the
 * records and two sort words), written to a run file and merged back
 * through half a share of read buffers (in several passes when there are
 * too many runs for that), the other half holding the values of the key
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

#define MS_SHUFFLE_INIT_RECS 64      /* first chunk of a bucket buffer, records (at most) */
#define MS_SHUFFLE_CHUNK_BYTES ((size_t)256 << 10) /* a bucket buffer's chunks, at most */
#define MS_SHUFFLE_MIN_SHARE_RECS 64 /* a reducing thread's share, at least (records) */
#define MS_SHUFFLE_MIN_READ_RECS 8   /* a merge read buffer, at least (records) */
#define MS_SHUFFLE_PATH_MAX 4096
#define MS_SHUFFLE_KEY_BYTES 16
#define MS_SHUFFLE_MAX_SORT_RECS ((size_t)1 << 31) /* records one radix sort takes (32-bit counts) */
#define MS_SHUFFLE_HUGE_ARENA ((size_t)64 << 20) /* arenas this large ask for huge pages */
#define MS_SHUFFLE_MIN_SLOT_BITS 12 /* spilled records, as pieces of 2^12 records at least */

/* A piece of a bucket buffer, carved from its thread's arena; the records
 * follow the header. */
typedef struct ms_chunk {
    struct ms_chunk *next;
    size_t len; /* record bytes; the tail chunk's are counted in ms_part_t.wp */
} ms_chunk_t;

static inline unsigned char *ms_chunk_data(ms_chunk_t *c) { return (unsigned char *)(c + 1); }

/* One thread's records for one bucket: in memory and in its spill file.  In
 * memory: chunks head..tail, the tail filled up to wp. */
typedef struct {
    unsigned char *wp, *end; /* room left in the tail chunk (both NULL: none) */
    ms_chunk_t *head, *tail;
    size_t len;              /* record bytes in the chunks before the tail */
    size_t next_chunk;       /* record bytes the next chunk holds */
    uint64_t file_bytes;     /* bytes already in the spill file */
    int fd;                  /* spill file kept open for appending, or -1 */
    int created;             /* the spill file exists and is ours to remove */
} ms_part_t;

/* Record bytes in chunk c of part p. */
static inline size_t ms_chunk_len(const ms_part_t *p, ms_chunk_t *c)
{
    return c == p->tail ? (size_t)(p->wp - ms_chunk_data(c)) : c->len;
}

/* Record bytes a part holds in memory. */
static inline size_t ms_part_mem(const ms_part_t *p)
{
    return p->len + (p->tail ? (size_t)(p->wp - ms_chunk_data(p->tail)) : 0);
}

/* One emitting thread's state; aligned so that threads never share a line. */
typedef struct {
    _Alignas(64) ms_part_t *parts; /* [nbuckets] */
    ms_status_t failed;            /* sticky: a spill failed, the map is incomplete */
    uint64_t records;
    unsigned char *arena;          /* map_share bytes of address space, or NULL */
    size_t held;                   /* arena bytes handed out as chunks */
    size_t touched;                /* arena bytes ever handed out (resident) */
    size_t peak;                   /* largest held */
    uint64_t spilled_records, spill_bytes;
    uint32_t spill_files;
} ms_mapper_t;

struct ms_shuffle {
    char *dir;
    int dir_created;
    int nthreads;
    size_t vs, rs;     /* value and record bytes */
    size_t cap;        /* mem_cap */
    size_t map_share;  /* bytes a mapper may hold (its arena): >= one chunk of one record */
    size_t chunk_max;  /* record bytes of the largest chunk: a multiple of rs */
    uint32_t nbuckets;
    unsigned __int128 bucket_magic; /* ms_shuffle_bucket's multiplier for nbuckets */
    int keep_open;     /* enough descriptors to keep every spill file open */
    int reduced;
    ms_shuffle_sort_t sort;
    ms_mapper_t *map;  /* [nthreads] */
    _Atomic size_t mem_now, mem_peak; /* reduce-time bytes in memory */
    _Atomic uint64_t run_files, run_bytes;
    uint64_t taken_records, put_records; /* moved out and in (ms_shuffle_move.c) */
};

/* A reducing thread's memory, kept from bucket to bucket: at most a share. */
typedef struct {
    unsigned char *mem;
    size_t cap;
} ms_work_t;

/* What one reducing thread needs for one bucket. */
typedef struct {
    ms_shuffle_t *s;
    ms_shuffle_reduce_fn fn;
    ms_shuffle_floor_fn floor; /* NULL: every key is reduced */
    void *ctx;
    int tid;
    size_t share;   /* bytes this thread may hold: a multiple of rs */
    ms_work_t *work;
} ms_reducer_t;

/* The bucket of a key: XXH3_64bits(key) % nbuckets, the remainder taken by
 * multiplications (Lemire, Kaser and Kurz, "Faster remainder by direct
 * computation", 2019: exact for 64-bit numerators and 32-bit divisors) and
 * not by a division, which costs more than the rest of an emit. */
static inline unsigned __int128 ms_shuffle_bucket_magic(uint32_t nbuckets)
{
    return ~(unsigned __int128)0 / nbuckets + 1;
}

static inline uint32_t ms_shuffle_bucket(uint64_t hash, unsigned __int128 magic, uint32_t nbuckets)
{
    unsigned __int128 low = magic * hash;
    unsigned __int128 bottom = ((low & UINT64_MAX) * nbuckets) >> 64;
    unsigned __int128 top = (low >> 64) * nbuckets;
    return (uint32_t)((bottom + top) >> 64);
}

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

/* ---- ms_shuffle_sort.c ------------------------------------------------- */

/* The reference: sort n records of rs bytes (values of vs) in place by
 * comparisons (introsort), allocating nothing. */
void ms_shuffle_sort_records_ref(unsigned char *a, size_t n, size_t rs, size_t vs);

/* Records for the radix sort, where they lie: record id (k << slot_bits) | j
 * is record j of piece k, at base[k] + j * rs.  One contiguous array is one
 * piece (slot_bits: enough bits for its count). */
typedef struct {
    const unsigned char *const *base;
    unsigned slot_bits;
    unsigned id_bits; /* bits of the largest id */
} ms_recset_t;

/* The radix sort: w[0..n) holds the ids of the records to sort (any order);
 * leave them in the records' sorted order.  The records are not moved; t is
 * scratch of n words.  n <= MS_SHUFFLE_MAX_SORT_RECS, id_bits <= 48. */
void ms_shuffle_sort_index(const ms_recset_t *set, size_t n, size_t rs, size_t vs, uint64_t *w, uint64_t *t);

/* The record with id v. */
static inline const unsigned char *ms_recset_rec(const ms_recset_t *set, uint64_t v, size_t rs)
{
    return set->base[v >> set->slot_bits] + (size_t)(v & ((1ull << set->slot_bits) - 1)) * rs;
}

/* ceil(log2(n)); 0 for n < 2. */
static inline unsigned ms_shuffle_ceil_log2(uint64_t n)
{
    return n < 2 ? 0 : 64u - (unsigned)__builtin_clzll((unsigned long long)(n - 1));
}

/* Bytes per record a radix sort of records of value size vs needs besides
 * the records, and how much of it the walk over sorted records may use for
 * one key's values (ms_shuffle_sort_index's t array is that region). */
static inline size_t ms_shuffle_walk_bytes(size_t vs) { return vs > 8 ? vs : 8; }

/* Copy value bytes (vs of them) from src to dst: word by word when vs is a
 * multiple of 8, which the models' values are. */
static inline void ms_shuffle_copy_value(unsigned char *dst, const unsigned char *src, size_t vs)
{
    if ((vs & 7) == 0) {
        for (size_t i = 0; i < vs; i += 8) {
            uint64_t x;
            memcpy(&x, src + i, 8);
            memcpy(dst + i, &x, 8);
        }
    } else {
        memcpy(dst, src, vs);
    }
}

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

/* Reduce-time bytes in memory, and their peak. */
void ms_shuffle_mem_add(ms_shuffle_t *s, size_t n);
void ms_shuffle_mem_sub(ms_shuffle_t *s, size_t n);

/* Copy a part's in-memory records to dst (ms_part_mem bytes). */
void ms_shuffle_part_copy(const ms_part_t *p, unsigned char *dst);

/* Forget a part's in-memory records (already copied); its chunks stay in
 * the arena until the arena goes. */
void ms_shuffle_release_part(ms_part_t *p);

/* Make the reducing thread's workspace hold at least n bytes (what was in
 * it is not kept), counted against the cap; release it. */
ms_status_t ms_shuffle_work_reserve(const ms_reducer_t *r, size_t n);
void ms_shuffle_work_release(ms_shuffle_t *s, ms_work_t *w);

/* Unmap a mapper's arena (its parts must be empty or done with). */
void ms_shuffle_arena_free(ms_shuffle_t *s, ms_mapper_t *m);

/* ---- across phases ----------------------------------------------------- */

/* ms_shuffle_map.c: append thread tid's non-empty buffers to its spill
 * files and empty them; a failure sticks to the mapper. */
ms_status_t ms_shuffle_mapper_spill(ms_shuffle_t *s, int tid);

/* ms_shuffle_merge.c: reduce bucket b, larger than r->share, through sorted
 * runs in a run file. */
ms_status_t ms_shuffle_reduce_external(const ms_reducer_t *r, uint32_t b);

#endif
