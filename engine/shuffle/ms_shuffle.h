/*
 * ms_shuffle.h - keyed aggregation for indicators keyed by something other
 * than institution or person (doctor x day, institution x day x county,
 * traceability code).
 *
 * Map: worker threads emit (key, value) records, each into its own buffers,
 * hash-partitioned into buckets by key.  When a thread's buffered records
 * outgrow its share of the memory cap, its buffers are appended to spill
 * files (one per thread and bucket) and emptied.
 * Reduce: buckets are processed in parallel; a bucket's records (memory and
 * spill files) are sorted by (key, value bytes) (a radix sort on the bits in
 * which the records differ; a plain comparison sort is kept as its
 * reference, ms_shuffle_sort) and the reducer is called
 * once per distinct key with all its values, in that order.  A bucket larger
 * than a thread's share of the cap is sorted in pieces of one share, written
 * out, and merged back in order, so reduce memory stays under the cap too
 * (only one key whose values alone exceed half a share can go over: the
 * reducer needs them contiguous).  The answer is exact and
 * identical whatever the thread count, the cap, or which thread emitted what.
 */
#ifndef MS_SHUFFLE_H
#define MS_SHUFFLE_H

#include <stddef.h>
#include <stdint.h>

#include "ms_status.h"

typedef struct {
    uint64_t k0, k1;
} ms_key_t;

typedef struct ms_shuffle ms_shuffle_t;

/* spill_dir: a directory for spill files (created if missing, its files
 * removed by ms_shuffle_free).  value_size: bytes per value (1..256).
 * mem_cap: bytes of records held in memory across all threads (map) and per
 * reducing thread share (reduce).  nbuckets: 0 = 64 per thread. */
ms_status_t ms_shuffle_create(const char *spill_dir, int nthreads, size_t value_size, size_t mem_cap,
                              uint32_t nbuckets, ms_shuffle_t **out);

/* Emit one record from thread tid (0..nthreads-1).  Threads may emit
 * concurrently; one thread never calls with another's tid. */
ms_status_t ms_shuffle_emit(ms_shuffle_t *s, int tid, ms_key_t key, const void *value);

/* Called once per distinct key with its n values (value_size bytes each,
 * sorted by memcmp, packed with no alignment guarantee: memcpy them), in ascending key order within a bucket, from reducing
 * thread tid.  Different keys may be reduced concurrently by different
 * threads: the reducer accumulates per tid, and the caller combines. */
typedef ms_status_t (*ms_shuffle_reduce_fn)(void *ctx, int tid, ms_key_t key, const void *values,
                                            size_t n);

/* After every emit: reduce all buckets with nthreads threads.  The first
 * error (in bucket order) is returned. */
ms_status_t ms_shuffle_reduce(ms_shuffle_t *s, int nthreads, ms_shuffle_reduce_fn fn, void *ctx);

/* A key with at most floor(ctx, key) values gives the reducer nothing to
 * do (e.g. a doctor-day at or under its ceiling): the reduce may leave
 * such keys out.  It does so where that is cheap: a bucket's records are
 * first counted into 32-bit counters by a hash of their key, one counter
 * for many keys at most, so a counter is never below its keys' counts;
 * records whose counter is at most their key's floor go before the sort.
 * The keys that remain are reduced as ms_shuffle_reduce would, values and
 * order alike (the reducer still sees keys under their floor whose
 * counter met another key's; it must judge n itself).  The reference sort
 * and buckets reduced outside memory leave nothing out. */
typedef size_t (*ms_shuffle_floor_fn)(void *ctx, ms_key_t key);
ms_status_t ms_shuffle_reduce_floor(ms_shuffle_t *s, int nthreads, ms_shuffle_reduce_fn fn,
                                    ms_shuffle_floor_fn floor, void *ctx);

/* The record sort the reduce uses: the radix sort (the default), or the
 * plain comparison sort it is tested against.  Both give the same answer. */
typedef enum { MS_SHUFFLE_SORT_RADIX = 0, MS_SHUFFLE_SORT_REF = 1 } ms_shuffle_sort_t;

/* Before the reduce: choose its sort (tests and benchmarks). */
void ms_shuffle_set_sort(ms_shuffle_t *s, ms_shuffle_sort_t how);

/* Sort n records in place into the shuffle's order: a record is the key
 * (k0 then k1, as ms_key_t lays them out) followed by value_size (1..256)
 * value bytes; the order is k0, then k1, then the value bytes by memcmp.
 * The radix sort needs 16 bytes of scratch per record and a copy of the
 * records (MS_E_NOMEM without them); the reference allocates nothing. */
ms_status_t ms_shuffle_sort(void *records, size_t n, size_t value_size, ms_shuffle_sort_t how);

/* Moving buckets between shuffles (the cluster mode: engine/dist).  After
 * every emit and before the reduce, take_bucket hands every record of
 * bucket b (every thread's, in memory and spilled; key then value, as
 * ms_shuffle_sort lays them out) to fn in pieces of at most max_bytes,
 * then holds none of them (its spill files are removed; the memory they
 * took is reused only once the thread's arena starts over).  *records
 * (if not NULL): how many.  put adds records so laid out as thread tid's
 * emits would; a record lands in the bucket its key gives, so a bucket
 * taken from one shuffle and put into another with as many buckets is
 * that bucket there.  The reduce's answer does not depend on the order
 * records arrived in. */
typedef ms_status_t (*ms_shuffle_take_fn)(void *ctx, const void *records, size_t n);
ms_status_t ms_shuffle_take_bucket(ms_shuffle_t *s, uint32_t b, size_t max_bytes, ms_shuffle_take_fn fn, void *ctx,
                                   uint64_t *records);
ms_status_t ms_shuffle_put(ms_shuffle_t *s, int tid, const void *records, size_t n);
uint32_t ms_shuffle_nbuckets(const ms_shuffle_t *s);
size_t ms_shuffle_record_size(const ms_shuffle_t *s);

typedef struct {
    uint64_t records;         /* emitted */
    uint64_t taken_records;   /* taken out of it (take_bucket) */
    uint64_t put_records;     /* put into it (put), not among records */
    uint64_t spilled_records; /* written to spill files during map */
    uint64_t spill_bytes;
    uint32_t spill_files;
    uint32_t buckets;
    size_t peak_bytes;        /* largest in-memory footprint seen */
    uint32_t record_bytes;    /* key and value */
} ms_shuffle_stats_t;

void ms_shuffle_stats(const ms_shuffle_t *s, ms_shuffle_stats_t *st);
void ms_shuffle_free(ms_shuffle_t *s);

#endif
