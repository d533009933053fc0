/*
 * ms_kernels_sets.h - how the dispatch table of each instruction set is
 * built (kernels/ms_kernels.c): each file of fast versions has one fill
 * function that overrides, in a table already holding the set below, the
 * kernels it does better.  The x86 files exist only on x86-64
 * (MS_KERNELS_X86).
 */
#ifndef MS_KERNELS_SETS_H
#define MS_KERNELS_SETS_H

#include "ms_kernels.h"

/* ms_k_bit_pos[mask] lists the set bits of an 8-bit mask, lowest first:
 * 8 rows' matches become their indices with one table load, no branch per
 * row (the selections of kernels/x86/).  Built once, before any fill
 * function runs (kernels/ms_kernels.c). */
extern uint8_t ms_k_bit_pos[256][8];

/* kernels/fast/: plain C, any CPU. */
void ms_kfill_rows_portable(ms_kernels_t *t);
void ms_kfill_spans_portable(ms_kernels_t *t);

#ifdef MS_KERNELS_X86
/* kernels/x86/: each file compiled for its set only. */
void ms_kfill_rows_sse42(ms_kernels_t *t);
void ms_kfill_rows_avx2(ms_kernels_t *t);
void ms_kfill_rows_avx512(ms_kernels_t *t);
void ms_kfill_spans_sse42(ms_kernels_t *t);
void ms_kfill_spans_avx2(ms_kernels_t *t);
void ms_kfill_spans_avx512(ms_kernels_t *t);
#endif

#endif
