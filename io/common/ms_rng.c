#include "ms_rng.h"

#include <math.h>

uint64_t ms_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t ms_rng_key(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t x = a;
    uint64_t h = ms_splitmix64(&x);
    x = h ^ b;
    h = ms_splitmix64(&x);
    x = h ^ c;
    return ms_splitmix64(&x);
}

static inline uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void ms_rng_seed(ms_rng_t *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = ms_splitmix64(&x);
}

uint64_t ms_rng_next(ms_rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    ms_rng_step(s);
    return result;
}

__extension__ typedef unsigned __int128 ms_u128;

uint64_t ms_rng_below(ms_rng_t *r, uint64_t n)
{
    return (uint64_t)(((ms_u128)ms_rng_next(r) * n) >> 64);
}

double ms_rng_unit(ms_rng_t *r) { return (double)(ms_rng_next(r) >> 11) * 0x1.0p-53; }

int64_t ms_rng_range(ms_rng_t *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)ms_rng_below(r, (uint64_t)(hi - lo + 1));
}

int ms_rng_chance(ms_rng_t *r, double p) { return ms_rng_unit(r) < p; }

double ms_rng_normal(ms_rng_t *r)
{
    double s = ms_rng_unit(r) + ms_rng_unit(r) + ms_rng_unit(r) + ms_rng_unit(r);
    return (s - 2.0) * 1.7320508075688772;
}

double ms_rng_lognormal(ms_rng_t *r, double sigma) { return exp(sigma * ms_rng_normal(r)); }

double ms_rng_exp(ms_rng_t *r, double mean) { return -log(1.0 - ms_rng_unit(r)) * mean; }

unsigned ms_rng_poisson(ms_rng_t *r, double lambda)
{
    if (lambda <= 0) return 0;
    if (lambda > 30) {
        double v = lambda + sqrt(lambda) * ms_rng_normal(r) + 0.5;
        return v < 0 ? 0 : (unsigned)v;
    }
    double expl = exp(-lambda), p = ms_rng_unit(r);
    unsigned k = 0;
    while (p > expl) {
        k++;
        p *= ms_rng_unit(r);
    }
    return k;
}
