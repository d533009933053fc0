/*
 * ms_select.h - the rows of a batch a model works on, as a selection
 * vector: most models judge inpatient stays (2-3% of settlements) or
 * settlements with a known doctor, and need not walk every row, nor every
 * person, to find them.
 *
 * A model fills a selection in its batch callback (with a kernel,
 * ms_kernels()->select_*) and, where it also has a person callback, walks
 * it with ms_select_person: persons of a batch come in ascending order, so a
 * cursor finds each person's selected rows without searching.
 */
#ifndef MS_SELECT_H
#define MS_SELECT_H

#include <stddef.h>
#include <stdint.h>

#include "ms_model.h"

typedef struct {
    uint32_t *idx;      /* the selected rows of the batch, ascending */
    size_t n, cap;
    size_t at;          /* cursor for ms_select_person */
} ms_select_t;

/* The rows of b whose visit_type is visit (MS_VISIT_*). */
ms_status_t ms_select_visits(ms_select_t *s, const ms_batch_t *b, uint8_t visit);
/* The rows of b whose uint32 column c is not 0. */
ms_status_t ms_select_nonzero(ms_select_t *s, const ms_batch_t *b, int c);

/* The selected rows of the person [begin, end): idx[*lo .. *hi).  Persons
 * must be asked for in ascending order after the selection was made. */
static inline void ms_select_person(ms_select_t *s, size_t begin, size_t end, size_t *lo, size_t *hi)
{
    while (s->at < s->n && s->idx[s->at] < begin) s->at++;
    *lo = s->at;
    while (s->at < s->n && s->idx[s->at] < end) s->at++;
    *hi = s->at;
}

void ms_select_free(ms_select_t *s);

#endif
