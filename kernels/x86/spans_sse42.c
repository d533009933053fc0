/*
 * spans_sse42.c - the sse42 versions of the spans kernels (compiled for sse42 only).
 */
#include "ms_kernels.h"
#include "ms_kernels_sets.h"

void ms_kfill_spans_sse42(ms_kernels_t *t) { (void)t; }
