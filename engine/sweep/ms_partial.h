/*
 * ms_partial.h - what a sweep persists so that --resume can finish it.
 *
 * OUT/.sweep-state/manifest   what the sweep is: dataset, its reference
 *                             checksum, partition count, models with their
 *                             versions, configuration hash.  A resume with
 *                             anything different is refused.
 * OUT/.sweep-state/part-NNNNN.partial
 *                             one finished partition: rows read, rows
 *                             rejected by reason, each model's saved state
 *                             (LZ4-compressed in blocks, compressed as the
 *                             model saves it); an xxh64 of the whole file
 *                             at the end.  Written
 *                             to a temporary name and renamed, so a partial
 *                             either exists whole or not at all.
 * OUT/.sweep-state/part-NNNNN.skipped
 *                             a partition excluded by --skip-bad, and why.
 */
#ifndef MS_PARTIAL_H
#define MS_PARTIAL_H

#include <stdint.h>

#include "ms_model.h"
#include "ms_sweep.h"

/* What writing a partial holds beside the states it saves: one block of a
 * model's saved bytes and its compressed copy (a state is compressed as
 * it is saved, never held whole). */
#define MS_PARTIAL_WRITE_BYTES ((size_t)9 << 20)

/* The first 8 bytes of a partial (the fuzzer writes its own). */
#define MS_PARTIAL_MAGIC "MSPART04" /* 04: a state's blocks end with an empty one (streamed) */

typedef struct {
    uint32_t index;
    uint64_t rows[MS_TABLE_COUNT];
    uint64_t rejected[MS_TABLE_COUNT][MS_REJECT_COUNT];
    int nmodels;
    void **states;             /* [nmodels], owned */
} ms_partial_t;

/* Write the partial of one partition (states saved with each model's save). */
ms_status_t ms_partial_write(const char *state_dir, const ms_partial_t *p, const ms_model_t *const *models);
/* Read it back (states loaded with each model's load; env[m] is model m's
 * environment).  MS_E_CORRUPT when the
 * file is damaged or was written for other models. */
ms_status_t ms_partial_read(const char *state_dir, uint32_t index, const ms_model_t *const *models,
                            int nmodels, const ms_model_env_t *env, ms_partial_t *p);
/* MS_OK when partition index's partial is whole (magic, checksum and index
 * right); MS_E_CORRUPT naming the file and what is wrong when not. */
ms_status_t ms_partial_check(const char *state_dir, uint32_t index);
void ms_partial_free(ms_partial_t *p, const ms_model_t *const *models);
int ms_partial_exists(const char *state_dir, uint32_t index);

/* Remove partition index's partial (none there is not an error). */
ms_status_t ms_partial_remove(const char *state_dir, uint32_t index);

ms_status_t ms_partial_mark_skipped(const char *state_dir, uint32_t index, const char *why);
/* Forget that partition index was skipped (it is about to be swept again). */
ms_status_t ms_partial_unmark_skipped(const char *state_dir, uint32_t index);
/* 1 and the reason in why (cap bytes) when partition index was skipped. */
int ms_partial_skipped(const char *state_dir, uint32_t index, char *why, size_t cap);

/* The manifest: written at the start, compared on resume. */
ms_status_t ms_manifest_write(const char *state_dir, const char *text);
/* MS_E_MISMATCH naming the first differing line. */
ms_status_t ms_manifest_check(const char *state_dir, const char *text);

#endif
