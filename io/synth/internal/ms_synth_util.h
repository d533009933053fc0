/*
 * ms_synth_util.h - what the generator (ms_gen*) and the CSV faker
 * (ms_fakecsv) share: the province codes, the national institution code and
 * the search of a weighted choice.  Private to io/synth.
 */
#ifndef MS_SYNTH_UTIL_H
#define MS_SYNTH_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "ms_search.h"

/* The 31 province-level divisions (GB/T 2260): the first two digits of a
 * 6-digit county code. */
#define MS_SYNTH_NPROVINCES 31
extern const int ms_synth_province_codes[MS_SYNTH_NPROVINCES];

/* An institution's national code into out: H (hospital, clinic) or P
 * (pharmacy, MS_KIND_PHARMACY), the 6-digit county, then serial in digits
 * digits (5; more for codes at their maximum length).  Returns snprintf's
 * length. */
int ms_synth_inst_code(char *out, size_t cap, uint8_t kind, int32_t region, uint32_t serial, int digits);

/* A weighted choice by cumulative weights cum[0..n) (n > 0,
 * non-decreasing): the slot a draw x in [0, cum[n - 1]) falls in, the first
 * i with cum[i] > x, or the last slot when there is none (a draw rounded up
 * to the total). */
typedef struct {
    const double *cum;
    double x;
} ms_synth_cum_f64_t;

typedef struct {
    const uint64_t *cum;
    uint64_t x;
} ms_synth_cum_u64_t;

static inline int ms_synth_cum_f64_below(const void *ctx, size_t i)
{
    const ms_synth_cum_f64_t *k = ctx;
    return !(k->cum[i] > k->x);
}

static inline int ms_synth_cum_u64_below(const void *ctx, size_t i)
{
    const ms_synth_cum_u64_t *k = ctx;
    return !(k->cum[i] > k->x);
}

static inline size_t ms_synth_cum_slot_f64(const double *cum, size_t n, double x)
{
    ms_synth_cum_f64_t k = {cum, x};
    return ms_lower_bound(n - 1, ms_synth_cum_f64_below, &k);
}

static inline size_t ms_synth_cum_slot_u64(const uint64_t *cum, size_t n, uint64_t x)
{
    ms_synth_cum_u64_t k = {cum, x};
    return ms_lower_bound(n - 1, ms_synth_cum_u64_below, &k);
}

#endif
