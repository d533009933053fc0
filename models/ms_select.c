/*
 * ms_select.c - selection vectors of a batch's rows (ms_select.h).
 */
#include "ms_select.h"

#include <stdlib.h>

#include "ms_buf.h"
#include "ms_kernels.h"

static ms_status_t make_room(ms_select_t *s, size_t rows)
{
    s->n = s->at = 0;
    return ms_grow(&s->idx, &s->cap, rows ? rows : 1, sizeof *s->idx, 4096);
}

ms_status_t ms_select_visits(ms_select_t *s, const ms_batch_t *b, uint8_t visit)
{
    MS_TRY(make_room(s, b->rows));
    s->n = ms_kernels()->select_eq_u8(ms_col(b, MS_SC_visit_type), b->rows, visit, s->idx);
    return MS_OK;
}

ms_status_t ms_select_nonzero(ms_select_t *s, const ms_batch_t *b, int c)
{
    MS_TRY(make_room(s, b->rows));
    s->n = ms_kernels()->select_nz_u32(ms_col(b, c), b->rows, s->idx);
    return MS_OK;
}

void ms_select_free(ms_select_t *s)
{
    free(s->idx);
    s->idx = NULL;
    s->n = s->cap = s->at = 0;
}
