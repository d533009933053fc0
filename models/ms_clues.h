/*
 * ms_clues.h - the list of clues a model keeps: a growable array of
 * ms_clue_t, shared by every model that records the records behind its
 * indicators.
 *
 * States append clues while mapping or reducing, merge by appending (in
 * partition order), persist them for --resume, and in finalize sort them into
 * one total order and hand them to the result.
 */
#ifndef MS_CLUES_H
#define MS_CLUES_H

#include <stddef.h>
#include <stdint.h>

#include "ms_model.h"
#include "ms_status.h"

typedef struct {
    ms_clue_t *v;
    size_t n, cap;
} ms_clues_t;

/* A clue of the record (settle_id ...), with no counterpart and no facts;
 * ms_clue_other sets its counterpart.  Fill c.fact[] as the indicator's
 * facts say, then ms_clues_add. */
ms_clue_t ms_clue(uint64_t settle_id, uint64_t person_id, uint32_t inst, int indicator, int32_t date, int64_t amount);
void ms_clue_other(ms_clue_t *c, uint64_t settle_id, uint32_t inst, int32_t date, int64_t amount);
ms_status_t ms_clues_add(ms_clues_t *l, const ms_clue_t *c);

/* Append one clue without counterpart or facts. */
ms_status_t ms_clues_push(ms_clues_t *l, uint64_t settle_id, uint64_t person_id, uint32_t inst, int indicator,
                          int32_t date, int64_t amount);

/* into += from (from's clues after into's). */
ms_status_t ms_clues_append(ms_clues_t *into, const ms_clues_t *from);

/* Saved: the clue count (u64), then each clue packed field by field
 * (settle_id, person_id, inst, indicator, date, amount, other_settle,
 * other_inst, other_date, other_amount, fact[]; native byte order, no
 * padding bytes reach the file). */
ms_status_t ms_clues_save(const ms_clues_t *l, ms_buf_t *out);

/* Read what ms_clues_save wrote from *p (*left bytes available), appending to
 * l; every clue must have inst < n_inst and indicator < nind.  Advances *p and
 * *left past the clues.  On error l holds what was read so far (free it). */
ms_status_t ms_clues_load(ms_clues_t *l, const unsigned char **p, size_t *left, uint32_t n_inst, int nind);

/* Sort by (inst, indicator, settle_id, person_id, date, amount, then the
 * counterpart and the facts): a total order on the fields, so equal keys are identical records.  Every field
 * counts: two clues may share (inst, indicator, settle_id) (two repeated
 * trace codes in one settlement, two hoarded drugs), and reducing threads
 * met them in any order. */
void ms_clues_sort(ms_clues_t *l);

/* The same order by qsort and cmp_clue: the reference ms_clues_sort is
 * tested against (a radix sort on (inst, indicator, settle_id) that moves
 * 24-byte keys, not 88-byte clues; at 420,000 institutions qsort on whole
 * clues was 5% of a sweep), and what it falls back to without scratch. */
void ms_clues_sort_ref(ms_clues_t *l);

/* Move the clues into res (res->clues, res->nclues); l is left empty. */
void ms_clues_give(ms_clues_t *l, ms_model_result_t *res);

void ms_clues_free(ms_clues_t *l);

#endif
