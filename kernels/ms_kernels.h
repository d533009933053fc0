/*
 * ms_kernels.h - hot loops over column arrays, called through one table.
 *
 * Every slot of the table starts as the plain reference version
 * (kernels/ref/); ms_kernels_init() overrides the slots for which a faster
 * version exists and the CPU supports it, once, at start-up.  The
 * environment variable MS_KERNELS=ref keeps the references everywhere.
 * Tests compare every fast version with its reference on random and awkward
 * inputs.  Kernels include nothing from the rest of the project.
 */
#ifndef MS_KERNELS_H
#define MS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Shares compared exactly, in whole fen: an integer x is at least
 * amount x ppm / 10^6 exactly when x >= ms_share_ceil(amount, ppm)
 * (0 <= amount, 0 <= ppm <= 10^6; no overflow for any int64 amount). */
#define MS_PPM 1000000
static inline int64_t ms_share_ceil(int64_t amount, int64_t ppm)
{
    int64_t q = amount / MS_PPM, r = amount % MS_PPM;
    return q * ppm + (r * ppm + MS_PPM - 1) / MS_PPM;
}

/* Overflow.  A count cannot overflow: it is at most the rows counted, and
 * no dataset holds 2^63 rows (8 bytes each would be 64 EiB).  A sum can:
 * the contract bounds each amount (docs/schema.md, Limits: 10^11 fen), so
 * 92 million records fit, but a per-institution sum over a national
 * extract may hold more.  So every add of a sum is checked, in the fast
 * versions as in the references, in the same order per key: both return 0
 * when every partial sum fits int64, else 1 + the index of the first row
 * (element) whose add overflowed, and then leave the same values (each
 * overflowing add wrapped modulo 2^64: meaningless, but equal, so that
 * the versions stay comparable).  The caller turns a report into an error
 * that names what overflowed (ms_status MS_E_INVARIANT). */
#define MS_KERNEL_OK 0

typedef struct {
    /* counts[key[i]] += 1 for i < n (keys in range, checked by the caller) */
    void (*count_by_key)(const int32_t *key, size_t n, int64_t *counts);
    /* sums[key[i]] += val[i], checked: 0, or 1 + the first i whose add
     * overflowed */
    size_t (*sum_by_key)(const int32_t *key, const int64_t *val, size_t n, int64_t *sums);
    /* counts[key[i]] += (sel[i] == want) */
    void (*count_by_key_if)(const int32_t *key, const uint8_t *sel, uint8_t want, size_t n,
                            int64_t *counts);
    /* dst[i] += src[i], exact, checked: 0, or 1 + the first i whose sum
     * overflowed (dst[i] wrapped) */
    size_t (*add_i64)(int64_t *dst, const int64_t *src, size_t n);
    /* flag[i] = total[i] > 0 && part[i] >= total[i] x ppm / 10^6 (exact) */
    void (*share_at_least)(const int64_t *part, const int64_t *total, size_t n, int64_t ppm, uint8_t *flag);
    const char *name;          /* "ref" or the fast set's name */
} ms_kernels_t;

/* The table in use (initialised on first call, thread-safe). */
const ms_kernels_t *ms_kernels(void);
/* The plain reference versions, always. */
const ms_kernels_t *ms_kernels_ref(void);

#endif
