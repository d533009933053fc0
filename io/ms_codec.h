/*
 * ms_codec.h - the chunk encoding of partition columns, done outside HDF5.
 *
 * A column chunk passes through the standard HDF5 pipeline
 *     shuffle (filter 2) -> LZ4 (registered filter 32004) -> Fletcher32 (3)
 * so that h5dump, h5py and any HDF5 reader with the LZ4 plugin read the
 * files.  The writer encodes chunks itself and stores them with
 * H5Dwrite_chunk; the reader fetches raw bytes (H5Dread_chunk or pread) and
 * decodes them here, in the worker thread, without HDF5's global lock.
 *
 * The LZ4 filter format (HDF Group's H5Zlz4.c): an 8-byte big-endian
 * original size, a 4-byte big-endian block size, then per block a 4-byte
 * big-endian compressed size and the block (stored raw when compression did
 * not shrink it).  Fletcher32 appends HDF5's 4-byte checksum.
 */
#ifndef MS_CODEC_H
#define MS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "ms_status.h"

#define MS_H5Z_FILTER_LZ4 32004

/* HDF5's byte shuffle: element size esize, n elements.  The unshuffle is
 * the kernel of the CPU's set (ms_kernels()->unshuffle). */
void ms_shuffle(const void *src, void *dst, size_t n, size_t esize);
void ms_unshuffle(const void *src, void *dst, size_t n, size_t esize);

/* HDF5's Fletcher32 (H5_checksum_fletcher32): the kernel of the CPU's set
 * (ms_kernels()->fletcher32). */
uint32_t ms_fletcher32(const void *data, size_t len);

/* Largest encoded size of a chunk of nbytes raw bytes. */
size_t ms_chunk_bound(size_t nbytes);

/* Encode raw (n elements of esize bytes) into out (capacity ms_chunk_bound);
 * tmp is scratch of nbytes.  Returns the encoded size. */
size_t ms_chunk_encode(const void *raw, size_t n, size_t esize, void *tmp, void *out);

/* Decode an encoded chunk of enc_size bytes into raw (exactly n*esize bytes
 * expected); tmp is scratch of n*esize bytes.  MS_E_CORRUPT with a reason in
 * the detail (checksum, size, LZ4 stream) when the chunk is damaged. */
ms_status_t ms_chunk_decode(const void *enc, size_t enc_size, size_t n, size_t esize,
                            void *tmp, void *raw);

/* Register an in-process implementation of filter 32004 with HDF5 when no
 * plugin provides it, so that H5Dread through the pipeline works too. */
ms_status_t ms_codec_register_h5_filter(void);

#endif
