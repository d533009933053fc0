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
    MS_TRY(ms_grow(&b->data, &b->cap, b->len + n, 1, 4096));
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    return MS_OK;
}

void ms_buf_free(ms_buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}
