/*
 * ms_tally.h - the counters most models keep: per indicator and institution
 * an int64 numerator and denominator, and the clues behind them.
 *
 * Layout: num and den are [nind * n_inst], indicator-major (the cell of
 * indicator ind at institution inst is ind * n_inst + inst), the layout of
 * ms_model_result_t.  A model embeds a tally in its state next to whatever
 * else it keeps; merging adds the arrays and appends the clues (in
 * partition order); finalize copies the arrays into the result and hands it
 * the clues, sorted.
 */
#ifndef MS_TALLY_H
#define MS_TALLY_H

#include <stddef.h>
#include <stdint.h>

#include "ms_clues.h"
#include "ms_model.h"
#include "ms_status.h"

typedef struct {
    uint32_t n_inst;
    int nind;
    int64_t *num, *den; /* [nind * n_inst] each, zeroed by init */
    ms_clues_t clues;
    /* Optional, set by the model after init, only to name a cell in an
     * error: its indicators ([nind]) and the institutions (NULL: numbers). */
    const ms_indicator_t *ind;
    const ms_refs_t *refs;
} ms_tally_t;

/* Zeroed counters for nind indicators at n_inst institutions, no clues.
 * On error t is left empty (ms_tally_free is still safe). */
ms_status_t ms_tally_init(ms_tally_t *t, uint32_t n_inst, int nind);

void ms_tally_free(ms_tally_t *t);

/* into += from: the arrays added, from's clues after into's.  The shapes
 * must match (MS_E_INTERNAL otherwise).  Every add is checked: a cell
 * whose sum leaves int64 (only money sums can, and only with more records
 * at one institution than docs/schema.md's Limits guarantee) is
 * MS_E_INVARIANT, naming the indicator and the institution. */
ms_status_t ms_tally_merge(ms_tally_t *into, const ms_tally_t *from);

/* The error for a cell whose sum overflowed: MS_E_INVARIANT naming
 * indicator ind (its numerator, or its denominator when den is set) at
 * institution inst, and where (e.g. "merging partitions"). */
ms_status_t ms_tally_overflow(const ms_tally_t *t, int ind, uint32_t inst, int den, const char *where);

/* Saved: n_inst (u32), num, den (int64 [nind * n_inst] each, native byte
 * order), the clues (ms_clues_save). */
ms_status_t ms_tally_save(const ms_tally_t *t, ms_buf_t *out);

/* Read what ms_tally_save wrote from *p (*left bytes available) into t,
 * already initialised for n_inst institutions and nind indicators; the saved
 * n_inst must be n_inst.  Advances *p and *left past what was read (a model
 * may have saved more after it).  Errors are MS_E_CORRUPT, without the
 * model's name (wrap them). */
ms_status_t ms_tally_load(ms_tally_t *t, const unsigned char **p, size_t *left, uint32_t n_inst, int nind);

/* Move the tally into res: num, den and the clues (sorted) become res's,
 * and expected is made when asked (all NaN).  The tally is left empty: a
 * finalized state only goes to its free (ms_model.h), and a model that
 * adjusts res afterwards reads res, not the tally.  Handing the arrays over
 * instead of copying them spares every model a fresh copy of two
 * indicators x institutions arrays (60 MB per model at 420,000
 * institutions). */
ms_status_t ms_tally_finalize(ms_tally_t *t, ms_model_result_t *res, int with_expected);

/* Callbacks for a model whose state begins with its tally (the first
 * member of the state struct) and holds nothing else to merge or save
 * (rules and scratch are rebuilt by init).  Put them straight into the
 * descriptor: .merge = ms_tally_state_merge, .save = ms_tally_state_save,
 * .load = ms_tally_state_load. */
ms_status_t ms_tally_state_merge(void *into, const void *from);
ms_status_t ms_tally_state_save(const void *state, ms_buf_t *out);
/* Into a state fresh from the model's init; all of data must be used. */
ms_status_t ms_tally_state_load(void *state, const void *data, size_t len);

/* The cells of one indicator: [n_inst] each. */
static inline int64_t *ms_tally_num_of(const ms_tally_t *t, int ind) { return t->num + (size_t)ind * t->n_inst; }
static inline int64_t *ms_tally_den_of(const ms_tally_t *t, int ind) { return t->den + (size_t)ind * t->n_inst; }

/* One cell. */
static inline int64_t *ms_tally_num(const ms_tally_t *t, int ind, uint32_t inst)
{
    return t->num + (size_t)ind * t->n_inst + inst;
}
static inline int64_t *ms_tally_den(const ms_tally_t *t, int ind, uint32_t inst)
{
    return t->den + (size_t)ind * t->n_inst + inst;
}

#endif
