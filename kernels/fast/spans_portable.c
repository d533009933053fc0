/*
 * spans_portable.c - fast versions over a person's history and a key's
 * values in plain C, for any CPU.
 */
#include "ms_kernels.h"
#include "ms_kernels_sets.h"

void ms_kfill_spans_portable(ms_kernels_t *t) { (void)t; }
