#include "ms_codec.h"

#include <hdf5.h>
#include <lz4.h>
#include <string.h>

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

/* The plain version, from element i on: the definition, the fast paths'
 * tail, and (from 0) the reference they are tested against
 * (tests/test_codec.c). */
static void unshuffle_from(const unsigned char *s, unsigned char *d, size_t i, size_t n, size_t esize)
{
    for (; i < n; i++)
        for (size_t b = 0; b < esize; b++) d[i * esize + b] = s[b * n + i];
}

void ms_unshuffle_ref(const void *src, void *dst, size_t n, size_t esize)
{
    unshuffle_from(src, dst, 0, n, esize);
}

#ifdef __SSE2__
#include <emmintrin.h>

/* 16 elements of 4 byte planes n bytes apart (p: the first plane's bytes
 * of these elements), byte-transposed: c[k] holds elements 4k..4k+3, each
 * as its 4 bytes in plane order. */
static inline void transpose4(const unsigned char *p, size_t n, __m128i c[4])
{
    __m128i a0 = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i a1 = _mm_loadu_si128((const __m128i *)(const void *)(p + n));
    __m128i a2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 2 * n));
    __m128i a3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 3 * n));
    __m128i b0 = _mm_unpacklo_epi8(a0, a1), b1 = _mm_unpackhi_epi8(a0, a1);
    __m128i b2 = _mm_unpacklo_epi8(a2, a3), b3 = _mm_unpackhi_epi8(a2, a3);
    c[0] = _mm_unpacklo_epi16(b0, b2), c[1] = _mm_unpackhi_epi16(b0, b2);
    c[2] = _mm_unpacklo_epi16(b1, b3), c[3] = _mm_unpackhi_epi16(b1, b3);
}

/* 16 elements of 8 bytes at a time: an 8x16 byte transpose in registers,
 * the halves of each element from planes 0-3 and 4-7. */
static size_t unshuffle8_fast(const unsigned char *s, unsigned char *d, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i lo[4], hi[4];
        transpose4(s + i, n, lo);
        transpose4(s + 4 * n + i, n, hi);
        __m128i *o = (__m128i *)(void *)(d + i * 8);
        for (int k = 0; k < 4; k++) {
            _mm_storeu_si128(o + 2 * k, _mm_unpacklo_epi32(lo[k], hi[k]));
            _mm_storeu_si128(o + 2 * k + 1, _mm_unpackhi_epi32(lo[k], hi[k]));
        }
    }
    return i;
}

/* 16 elements of 4 bytes at a time. */
static size_t unshuffle4_fast(const unsigned char *s, unsigned char *d, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i c[4];
        transpose4(s + i, n, c);
        __m128i *o = (__m128i *)(void *)(d + i * 4);
        for (int k = 0; k < 4; k++) _mm_storeu_si128(o + k, c[k]);
    }
    return i;
}
#else
/* Without SSE2 the plain tail loop below does all the work. */
static size_t unshuffle8_fast(const unsigned char *s, unsigned char *d, size_t n)
{
    (void)s, (void)d, (void)n;
    return 0;
}
static size_t unshuffle4_fast(const unsigned char *s, unsigned char *d, size_t n)
{
    (void)s, (void)d, (void)n;
    return 0;
}
#endif

void ms_unshuffle(const void *src, void *dst, size_t n, size_t esize)
{
    const unsigned char *s = src;
    unsigned char *d = dst;
    if (esize <= 1 || n <= 1) {
        memcpy(d, s, n * esize);
        return;
    }
    size_t i = esize == 8 ? unshuffle8_fast(s, d, n) : esize == 4 ? unshuffle4_fast(s, d, n) : 0;
    unshuffle_from(s, d, i, n, esize);
}

/* The end of both versions below: the odd last byte of a len_-byte input
 * (at data, past the whole words), the last fold and the checksum. */
static uint32_t fletcher32_end(uint32_t sum1, uint32_t sum2, const unsigned char *data, size_t len_)
{
    if (len_ % 2) {
        sum1 += (uint32_t)*data << 8;
        sum2 += sum1;
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    return (sum2 << 16) | sum1;
}

/* HDF5's definition, word by word. */
uint32_t ms_fletcher32_ref(const void *data_, size_t len_)
{
    const unsigned char *data = data_;
    size_t len = len_ / 2;
    uint32_t sum1 = 0, sum2 = 0;
    while (len) {
        size_t tlen = len > 360 ? 360 : len;
        len -= tlen;
        do {
            sum1 += ((uint32_t)data[0] << 8) | (uint32_t)data[1];
            data += 2;
            sum2 += sum1;
        } while (--tlen);
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    return fletcher32_end(sum1, sum2, data, len_);
}

#ifdef __SSE2__
/* The words [0, n & ~7) of a block of n (<= 360): a += their sum, b += the
 * sum of (n - i) * w_i, exactly as the scalar loop (both fit 32 bits).
 * pmaddwd multiplies signed 16-bit lanes, so each word is taken as
 * w - 32768 (its top bit flipped) and 32768 times the weights added back;
 * a lane's products stay under 2^31 for 360 words.  Returns n & ~7. */
static uint32_t block_sums_fast(const unsigned char *data, uint32_t n, uint32_t *a, uint32_t *b)
{
    uint32_t n8 = n & ~7u;
    if (!n8) return 0;
    const __m128i flip = _mm_set1_epi16((short)0x8000), ones = _mm_set1_epi16(1), eight = _mm_set1_epi16(8);
    __m128i wt = _mm_setr_epi16((short)n, (short)(n - 1), (short)(n - 2), (short)(n - 3), (short)(n - 4),
                                (short)(n - 5), (short)(n - 6), (short)(n - 7));
    __m128i sa = _mm_setzero_si128(), sb = _mm_setzero_si128();
    for (uint32_t i = 0; i < n8; i += 8) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(data + 2 * (size_t)i));
        x = _mm_or_si128(_mm_slli_epi16(x, 8), _mm_srli_epi16(x, 8)); /* big-endian words */
        x = _mm_xor_si128(x, flip);
        sa = _mm_add_epi32(sa, _mm_madd_epi16(x, ones));
        sb = _mm_add_epi32(sb, _mm_madd_epi16(x, wt));
        wt = _mm_sub_epi16(wt, eight);
    }
    uint32_t la[4], lb[4];
    _mm_storeu_si128((__m128i *)(void *)la, sa);
    _mm_storeu_si128((__m128i *)(void *)lb, sb);
    uint32_t weights = n8 * n - n8 * (n8 - 1) / 2; /* sum of n - i over the words */
    *a += la[0] + la[1] + la[2] + la[3] + 32768u * n8;
    *b += lb[0] + lb[1] + lb[2] + lb[3] + 32768u * weights;
    return n8;
}
#else
static uint32_t block_sums_fast(const unsigned char *data, uint32_t n, uint32_t *a, uint32_t *b)
{
    (void)data, (void)n, (void)a, (void)b;
    return 0;
}
#endif

/* The same sums, a block of up to 360 words at a time: within a block sum1
 * gains a = sum of the words and sum2 gains n*sum1 + sum of (n-i)*w_i, which
 * the compiler vectorises.  All arithmetic is mod 2^32, as in the word loop,
 * so the result is identical bit for bit. */
uint32_t ms_fletcher32(const void *data_, size_t len_)
{
    const unsigned char *data = data_;
    size_t len = len_ / 2;
    uint32_t sum1 = 0, sum2 = 0;
    while (len) {
        uint32_t n = len > 360 ? 360 : (uint32_t)len;
        uint32_t a = 0, b = 0, i = block_sums_fast(data, n, &a, &b);
        for (; i < n; i++) {
            uint32_t w = ((uint32_t)data[2 * i] << 8) | data[2 * i + 1];
            a += w;
            b += (n - i) * w;
        }
        data += 2 * (size_t)n;
        len -= n;
        sum2 += n * sum1 + b;
        sum1 += a;
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    return fletcher32_end(sum1, sum2, data, len_);
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
