/*
 * ms_quality.h - data quality first: rows the sweep cannot trust are
 * counted by reason and taken out of the batch before any model sees them.
 *
 * Import refuses such rows, so a dataset made by medsweep has none; a
 * partition written by another tool, or damaged in a way the checksums do
 * not catch, may.  Removing rows keeps each remaining person's rows
 * contiguous, so batches still never split a person.
 */
#ifndef MS_QUALITY_H
#define MS_QUALITY_H

#include <stdint.h>

#include "ms_reader.h"
#include "ms_refs.h"
#include "ms_sweep.h"

/* Columns the checks read, per table (added to what the models read). */
uint64_t ms_quality_columns(ms_table_id_t table);

typedef struct {
    unsigned char *buf[MS_MAX_COLUMNS];
    size_t cap;
    uint8_t *bad;
    size_t bad_cap;
} ms_quality_t;

/* Check every row of b; when some fail, b is rewritten to point at a
 * compacted copy of the good rows (owned by q, valid until the next call).
 * rejected[reason] counts the rows taken out. */
ms_status_t ms_quality_filter(ms_quality_t *q, const ms_refs_t *refs, ms_table_id_t table,
                              ms_batch_t *b, uint64_t rejected[MS_REJECT_COUNT]);
void ms_quality_free(ms_quality_t *q);

/* why[i] = 0 when row i of b is sound, else 1 + its reason (ms_reject_t).
 * ref: row by row, every check in turn (the reference); otherwise a
 * branch-free screen over the column arrays clears the sound rows and the
 * reference names the reasons of the rest.  The filter uses the reference
 * when MS_KERNELS=ref.  Both give the same bytes (tests/test_quality.c). */
void ms_quality_reasons(const ms_refs_t *refs, ms_table_id_t table, const ms_batch_t *b, uint8_t *why, int ref);

#endif
