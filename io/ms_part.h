/*
 * ms_part.h - one HDF5 partition file: writing it, opening it, reading chunks.
 *
 * Layout (docs/schema.md): group /<table> holding one chunked 1-D dataset per
 * column, every column chunked by the same number of rows, so chunk k of
 * every column covers rows [k*chunk_rows, (k+1)*chunk_rows).  The group
 * carries the attributes listed in docs/schema.md.
 *
 * Writing: ms_part_write() takes whole columns (a sorted partition in
 * memory), encodes chunks outside the HDF5 lock and stores them with
 * H5Dwrite_chunk into PATH.tmp, then renames to PATH.
 *
 * Reading: ms_part_open() asks HDF5 once for every chunk's file address and
 * size (H5Dget_chunk_info) and keeps the file descriptor; ms_part_read_chunk()
 * then reads the bytes with pread (default, no lock at all) or H5Dread_chunk
 * (MS_READ_H5) and decodes them in the calling thread.  Any number of threads
 * may call ms_part_read_chunk on one ms_part_t at once.
 */
#ifndef MS_PART_H
#define MS_PART_H

#include <stddef.h>
#include <stdint.h>

#include "ms_refs.h"
#include "ms_schema.h"
#include "ms_status.h"

#define MS_DEFAULT_CHUNK_ROWS 65536

typedef struct {
    uint32_t index;          /* partition index */
    uint32_t count;          /* partition count */
    uint64_t rows;
    uint32_t chunk_rows;
    int32_t min_date, max_date; /* of the table's date column; 0/-1 when empty */
    char ref_checksum[40];   /* ms_refs_checksum_text of the references */
} ms_part_info_t;

/* Write a partition.  cols[i] points to info->rows values of column i of
 * table t (in ms_table(t)->cols order).  min/max dates are computed here. */
ms_status_t ms_part_write(const char *path, const ms_table_t *t, const void *const *cols,
                          ms_part_info_t *info);

/* Convenience: the same from an array of row structs (import's layout). */
ms_status_t ms_part_write_rows(const char *path, const ms_table_t *t, const void *rows,
                               ms_part_info_t *info);

typedef enum { MS_READ_PREAD = 0, MS_READ_H5 = 1 } ms_read_mode_t;

typedef struct ms_part ms_part_t;

/* Open a partition of table t.  When refs is not NULL the partition's
 * reference checksum must match (MS_E_MISMATCH otherwise).  Checks the
 * schema version, table name, column set and types (MS_E_SCHEMA) and that
 * the file is whole (MS_E_CORRUPT for a truncated file). */
ms_status_t ms_part_open(const char *path, const ms_table_t *t, const ms_refs_t *refs,
                         ms_part_t **out);
void ms_part_close(ms_part_t *p);

/* ms_part_open in a child process.  Damaged metadata can crash libhdf5
 * itself (SIGFPE, SIGSEGV while decoding a layout message or an attribute):
 * the child dies, not the caller.  The child opens path as a partition of
 * table t (t NULL: as each table in turn, for a file not yet known; refs
 * may be NULL) and sends back what ms_part_open said, so the caller need
 * not open the file again to learn it.  *verdict:
 *   MS_PROBE_OPENED   it opened; *info (when info is not NULL) is its;
 *   MS_PROBE_REFUSED  ms_part_open failed without crashing;
 *   MS_PROBE_DAMAGED  the child was killed by a signal, exited otherwise,
 *                     or was still reading after MS_PART_PROBE_SECONDS.
 * Returns an error only when no child could be started or waited for.
 * With REFUSED and DAMAGED the error detail says why (ms_part_open's own
 * message; "PATH is damaged: HDF5 could not read its metadata (signal 8,
 * SIGFPE)"), and *open_st (when not NULL) is the status (MS_E_CORRUPT for
 * DAMAGED).  One fork per call: probe each file once, where the files are
 * first opened one by one and before threads that call HDF5 exist
 * (ms_dataset_partset, inspect of one file). */
#define MS_PART_PROBE_SECONDS 300
typedef enum { MS_PROBE_OPENED = 0, MS_PROBE_REFUSED, MS_PROBE_DAMAGED } ms_probe_t;
ms_status_t ms_part_probe(const char *path, const ms_table_t *t, const ms_refs_t *refs, ms_part_info_t *info,
                          ms_probe_t *verdict, ms_status_t *open_st);

const ms_part_info_t *ms_part_info(const ms_part_t *p);
const char *ms_part_path(const ms_part_t *p);
const ms_table_t *ms_part_table(const ms_part_t *p);
size_t ms_part_nchunks(const ms_part_t *p);
/* Rows in chunk k (chunk_rows except maybe the last). */
size_t ms_part_chunk_nrows(const ms_part_t *p, size_t k);
/* Stored (compressed) bytes of column c, all chunks. */
uint64_t ms_part_stored_bytes(const ms_part_t *p, int c);

/* Ask the kernel to start reading chunk k of the columns in cols (a bitmask)
 * now, so that the bytes are on their way while the caller decodes the chunk
 * before it (posix_fadvise WILLNEED: a no-op when they are already cached). */
void ms_part_prefetch(const ms_part_t *p, uint64_t cols, size_t k);

/* File offset and stored size of chunk k of column c (for tools and tests). */
void ms_part_chunk_location(const ms_part_t *p, int c, size_t k, uint64_t *addr, uint64_t *size);

/* Read and decode chunk k of column c into dst (room for chunk_rows values).
 * scratch must hold 2 * chunk_rows * 8 + ms_chunk_bound(chunk_rows * 8)
 * bytes (ms_part_scratch_size).  Errors name file, table, column and chunk. */
size_t ms_part_scratch_size(const ms_part_t *p);
ms_status_t ms_part_read_chunk(const ms_part_t *p, int c, size_t k, ms_read_mode_t mode,
                               void *scratch, void *dst);

#endif
