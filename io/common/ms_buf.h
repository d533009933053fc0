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
} ms_buf_t;

/* Append n bytes. */
ms_status_t ms_buf_put(ms_buf_t *b, const void *p, size_t n);
void ms_buf_free(ms_buf_t *b);

/* Make *arr (of *cap elements of size elem) hold at least need elements,
 * doubling from first (or from *cap); what was there is kept.  MS_E_NOMEM,
 * with *arr and *cap untouched, when it cannot.  A grown array is not
 * zeroed. */
ms_status_t ms_grow(void *arr, size_t *cap, size_t need, size_t elem, size_t first);

#endif
