/*
 * fuzz_codec - ms_chunk_decode (io/ms_codec.h) on arbitrary bytes.
 *
 * Input: byte 0 picks the element size (1 << (b & 3): 1, 2, 4 or 8 bytes),
 * bytes 1-2 the element count n (little-endian, 0..65535), the rest is the
 * encoded chunk (shuffle -> LZ4 filter format -> Fletcher32).  A decode that
 * succeeds is re-encoded and decoded again: it must give the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ms_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    size_t esize = (size_t)1 << (data[0] & 3);
    size_t n = (size_t)data[1] | (size_t)data[2] << 8;
    const uint8_t *enc = data + 3;
    size_t enc_size = size - 3;
    size_t nbytes = n * esize;
    /* Exact sizes (no slack), so that ASan sees any overrun. */
    uint8_t *tmp = malloc(nbytes ? nbytes : 1), *raw = malloc(nbytes ? nbytes : 1);
    if (!tmp || !raw) abort();
    if (ms_chunk_decode(enc, enc_size, n, esize, tmp, raw) == MS_OK) {
        uint8_t *out = malloc(ms_chunk_bound(nbytes));
        uint8_t *back = malloc(nbytes ? nbytes : 1);
        if (!out || !back) abort();
        size_t len = ms_chunk_encode(raw, n, esize, tmp, out);
        if (ms_chunk_decode(out, len, n, esize, tmp, back) != MS_OK || memcmp(raw, back, nbytes) != 0)
            abort(); /* the encoder's output must decode to what it encoded */
        free(out);
        free(back);
    }
    free(tmp);
    free(raw);
    return 0;
}
