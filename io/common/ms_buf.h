/*
 * ms_buf.h - the project's one growable array: a byte buffer to append to,
 * and the capacity rule every growing scratch array uses.
 */
#ifndef MS_BUF_H
#define MS_BUF_H

#include <stddef.h>

#include "ms_status.h"

typedef struct {
    unsigned char *data;
    size_t len, cap;
    /* A stream (ms_buf_stream): a full buffer is handed to sink and
     * emptied instead of grown; NULL: a plain growing buffer. */
    ms_status_t (*sink)(void *ctx, const unsigned char *p, size_t n);
    void *sink_ctx;
} ms_buf_t;

/* Append n bytes (to a stream: what fills the buffer goes to its sink,
 * in pieces of exactly its block, and the rest stays). */
ms_status_t ms_buf_put(ms_buf_t *b, const void *p, size_t n);
/* Make b (empty) a stream of block-byte pieces handed to sink(ctx, ...),
 * so that what is appended is never held whole. */
ms_status_t ms_buf_stream(ms_buf_t *b, size_t block, ms_status_t (*sink)(void *ctx, const unsigned char *p, size_t n),
                          void *ctx);
/* A stream's bytes still held (fewer than a block), to its sink. */
ms_status_t ms_buf_flush(ms_buf_t *b);
void ms_buf_free(ms_buf_t *b);

/* Make *arr (of *cap elements of size elem) hold at least need elements,
 * doubling from first (or from *cap); what was there is kept.  MS_E_NOMEM,
 * with *arr and *cap untouched, when it cannot.  A grown array is not
 * zeroed. */
ms_status_t ms_grow(void *arr, size_t *cap, size_t need, size_t elem, size_t first);

#endif
