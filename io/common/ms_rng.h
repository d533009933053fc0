/*
 * ms_rng.h - the project's one pseudo-random generator and its distributions.
 *
 * xoshiro256** (Blackman & Vigna, 2018) seeded through splitmix64.  Used by
 * the synthetic-data generators, where the same seed must give the same bytes
 * on every machine: no libc rand(), nothing that depends on the platform.
 */
#ifndef MS_RNG_H
#define MS_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} ms_rng_t;

/* splitmix64 step: also a good 64-bit mixing function for seeds. */
uint64_t ms_splitmix64(uint64_t *x);
/* A seed from several numbers (seed, stream, index...). */
uint64_t ms_rng_key(uint64_t a, uint64_t b, uint64_t c);

void ms_rng_seed(ms_rng_t *r, uint64_t seed);
uint64_t ms_rng_next(ms_rng_t *r);

/* The state step of ms_rng_next without its output (linear over GF(2):
 * what a jump ahead is built from). */
static inline void ms_rng_step(uint64_t s[4])
{
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
}
/* Uniform in [0, n), n >= 1 (Lemire's multiply-shift, bias < n / 2^64). */
uint64_t ms_rng_below(ms_rng_t *r, uint64_t n);
/* Uniform in [0, 1) with 53 bits. */
double ms_rng_unit(ms_rng_t *r);
/* Integer in [lo, hi]. */
int64_t ms_rng_range(ms_rng_t *r, int64_t lo, int64_t hi);
/* True with probability p. */
int ms_rng_chance(ms_rng_t *r, double p);
/* Roughly standard normal, bounded to +-3.46 (sum of four uniforms). */
double ms_rng_normal(ms_rng_t *r);
/* exp(sigma * normal): a lognormal factor with median 1. */
double ms_rng_lognormal(ms_rng_t *r, double sigma);
/* Exponential with the given mean. */
double ms_rng_exp(ms_rng_t *r, double mean);
/* Poisson with mean lambda (Knuth below 30, normal approximation above). */
unsigned ms_rng_poisson(ms_rng_t *r, double lambda);

#endif
