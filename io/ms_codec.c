#include "ms_codec.h"

#include <hdf5.h>
#include <lz4.h>
#include <string.h>

#include "ms_kernels.h"

/* Chunk layout after LZ4: 8-byte size + 4-byte block size + one block
 * header of 4 bytes (we always use a single block), then Fletcher32. */
#define LZ4_HDR 12
#define BLK_HDR 4
#define CKSUM 4

void ms_shuffle(const void *src, void *dst, size_t n, size_t esize)
{
    const unsigned char *s = src;
    unsigned char *d = dst;
    if (esize <= 1 || n <= 1) {
        memcpy(d, s, n * esize);
        return;
    }
    for (size_t b = 0; b < esize; b++) {
        unsigned char *out = d + b * n;
        const unsigned char *in = s + b;
        for (size_t i = 0; i < n; i++) out[i] = in[i * esize];
    }
}

/* The decoder's direction and the checksum are hot loops (every chunk
 * read): they are kernels (kernels/ms_kernels.h), vectorised for the CPU,
 * tested against their references in tests/test_kernels.c. */
void ms_unshuffle(const void *src, void *dst, size_t n, size_t esize)
{
    ms_kernels()->unshuffle(src, dst, n, esize);
}

uint32_t ms_fletcher32(const void *data, size_t len)
{
    return ms_kernels()->fletcher32(data, len);
}

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (unsigned char)v;
}
static void put_be32(unsigned char *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8) p[i] = (unsigned char)v;
}
static uint64_t get_be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}
static uint32_t get_be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++, v >>= 8) p[i] = (unsigned char)v;
}
static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

size_t ms_chunk_bound(size_t nbytes)
{
    return (size_t)LZ4_compressBound((int)nbytes) + LZ4_HDR + BLK_HDR + CKSUM + nbytes / 255 + 16;
}

/* LZ4 filter format, one block; returns the size written to out. */
static size_t lz4_encode(const unsigned char *in, size_t nbytes, unsigned char *out)
{
    put_be64(out, nbytes);
    put_be32(out + 8, (uint32_t)nbytes);
    if (nbytes == 0) return LZ4_HDR;
    unsigned char *blk = out + LZ4_HDR;
    int c = LZ4_compress_default((const char *)in, (char *)blk + BLK_HDR, (int)nbytes,
                                 LZ4_compressBound((int)nbytes));
    if (c <= 0 || (size_t)c >= nbytes) {
        memcpy(blk + BLK_HDR, in, nbytes);
        c = (int)nbytes;
    }
    put_be32(blk, (uint32_t)c);
    return LZ4_HDR + BLK_HDR + (size_t)c;
}

/* Decode the LZ4 filter format (any number of blocks) into out of nbytes. */
static ms_status_t lz4_decode(const unsigned char *in, size_t insize, unsigned char *out,
                              size_t nbytes)
{
    if (insize < LZ4_HDR) return ms_error_set(MS_E_CORRUPT, "LZ4 header truncated");
    uint64_t orig = get_be64(in);
    uint32_t bsize = get_be32(in + 8);
    if (orig != nbytes)
        return ms_error_set(MS_E_CORRUPT, "LZ4 header says %llu bytes, expected %zu",
                            (unsigned long long)orig, nbytes);
    if (bsize == 0 && orig > 0) return ms_error_set(MS_E_CORRUPT, "LZ4 block size 0");
    if (bsize > orig) bsize = (uint32_t)orig;
    size_t pos = LZ4_HDR, done = 0;
    while (done < orig) {
        size_t want = orig - done < bsize ? orig - done : bsize;
        if (pos + BLK_HDR > insize) return ms_error_set(MS_E_CORRUPT, "LZ4 block header truncated");
        uint32_t csize = get_be32(in + pos);
        pos += BLK_HDR;
        if (csize > insize - pos) return ms_error_set(MS_E_CORRUPT, "LZ4 block truncated");
        if (csize == want) {
            memcpy(out + done, in + pos, want);
        } else {
            int d = LZ4_decompress_safe((const char *)in + pos, (char *)out + done, (int)csize,
                                        (int)want);
            if (d < 0 || (size_t)d != want)
                return ms_error_set(MS_E_CORRUPT, "LZ4 stream damaged");
        }
        pos += csize;
        done += want;
    }
    if (pos != insize) return ms_error_set(MS_E_CORRUPT, "LZ4 data has %zu trailing bytes", insize - pos);
    return MS_OK;
}

size_t ms_chunk_encode(const void *raw, size_t n, size_t esize, void *tmp, void *out)
{
    size_t nbytes = n * esize;
    ms_shuffle(raw, tmp, n, esize);
    unsigned char *o = out;
    size_t len = lz4_encode(tmp, nbytes, o);
    put_le32(o + len, ms_fletcher32(o, len));
    return len + CKSUM;
}

ms_status_t ms_chunk_decode(const void *enc, size_t enc_size, size_t n, size_t esize, void *tmp,
                            void *raw)
{
    const unsigned char *e = enc;
    if (enc_size < LZ4_HDR + CKSUM)
        return ms_error_set(MS_E_CORRUPT, "chunk of %zu bytes is too short", enc_size);
    size_t body = enc_size - CKSUM;
    uint32_t stored = get_le32(e + body);
    uint32_t sum = ms_fletcher32(e, body);
    if (stored != sum && stored != __builtin_bswap32(sum))
        return ms_error_set(MS_E_CORRUPT, "Fletcher32 checksum mismatch (stored %08x, computed %08x)",
                            stored, sum);
    MS_TRY(lz4_decode(e, body, tmp, n * esize));
    ms_unshuffle(tmp, raw, n, esize);
    return MS_OK;
}

/* ---- the same LZ4 format as an HDF5 filter, for H5Dread through the pipeline ---- */

static size_t h5_filter_lz4(unsigned flags, size_t cd_nelmts, const unsigned cd_values[],
                            size_t nbytes, size_t *buf_size, void **buf)
{
    (void)cd_nelmts;
    (void)cd_values;
    const unsigned char *in = *buf;
    if (flags & H5Z_FLAG_REVERSE) {
        if (nbytes < LZ4_HDR) return 0;
        uint64_t orig = get_be64(in);
        unsigned char *out = H5allocate_memory((size_t)orig ? (size_t)orig : 1, 0);
        if (!out) return 0;
        if (lz4_decode(in, nbytes, out, (size_t)orig) != MS_OK) {
            H5free_memory(out);
            return 0;
        }
        H5free_memory(*buf);
        *buf = out;
        *buf_size = (size_t)orig;
        return (size_t)orig;
    }
    size_t cap = ms_chunk_bound(nbytes);
    unsigned char *out = H5allocate_memory(cap, 0);
    if (!out) return 0;
    size_t len = lz4_encode(in, nbytes, out);
    H5free_memory(*buf);
    *buf = out;
    *buf_size = cap;
    return len;
}

static const H5Z_class2_t lz4_class = {
    H5Z_CLASS_T_VERS, (H5Z_filter_t)MS_H5Z_FILTER_LZ4, 1, 1, "lz4 (medsweep built-in)", NULL, NULL,
    h5_filter_lz4,
};

ms_status_t ms_codec_register_h5_filter(void)
{
    if (H5Zregister(&lz4_class) < 0)
        return ms_error_set(MS_E_HDF5, "cannot register the LZ4 filter (32004) with HDF5");
    return MS_OK;
}
