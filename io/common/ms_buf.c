/*
 * ms_buf.c - growable buffers.
 */
#include "ms_buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

ms_status_t ms_grow(void *arr, size_t *cap, size_t need, size_t elem, size_t first)
{
    if (need <= *cap) return MS_OK;
    size_t c = *cap ? *cap : (first ? first : 1);
    while (c < need) {
        if (c > SIZE_MAX / 2) return ms_error_set(MS_E_NOMEM, "out of memory");
        c *= 2;
    }
    if (elem && c > SIZE_MAX / elem) return ms_error_set(MS_E_NOMEM, "out of memory");
    void **p = arr;
    void *d = realloc(*p, c * elem);
    if (!d) return ms_error_set(MS_E_NOMEM, "out of memory");
    *p = d;
    *cap = c;
    return MS_OK;
}

ms_status_t ms_buf_put(ms_buf_t *b, const void *p, size_t n)
{
    if (b->sink) {
        const unsigned char *q = p;
        while (n) {
            size_t take = b->cap - b->len < n ? b->cap - b->len : n;
            memcpy(b->data + b->len, q, take);
            b->len += take, q += take, n -= take;
            if (b->len == b->cap) {
                MS_TRY(b->sink(b->sink_ctx, b->data, b->len));
                b->len = 0;
            }
        }
        return MS_OK;
    }
    MS_TRY(ms_grow(&b->data, &b->cap, b->len + n, 1, 4096));
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    return MS_OK;
}

ms_status_t ms_buf_stream(ms_buf_t *b, size_t block, ms_status_t (*sink)(void *ctx, const unsigned char *p, size_t n),
                          void *ctx)
{
    if (!block || !sink) return ms_error_set(MS_E_INTERNAL, "a stream needs a block size and a sink");
    b->len = 0;
    if (b->cap != block) {
        unsigned char *d = realloc(b->data, block);
        if (!d) return ms_error_set(MS_E_NOMEM, "out of memory");
        b->data = d;
        b->cap = block;
    }
    b->sink = sink;
    b->sink_ctx = ctx;
    return MS_OK;
}

ms_status_t ms_buf_flush(ms_buf_t *b)
{
    if (!b->sink || !b->len) return MS_OK;
    size_t n = b->len;
    b->len = 0;
    return b->sink(b->sink_ctx, b->data, n);
}

void ms_buf_free(ms_buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}
