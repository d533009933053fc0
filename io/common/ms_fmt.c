/*
 * ms_fmt.c - numbers to text without printf (ms_fmt.h).
 */
#include "ms_fmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

size_t ms_fmt_u64(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

size_t ms_fmt_i64(char *out, int64_t v)
{
    if (v >= 0) return ms_fmt_u64(out, (uint64_t)v);
    out[0] = '-';
    return 1 + ms_fmt_u64(out + 1, (uint64_t)0 - (uint64_t)v);
}

static const double pow10_[10] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};

size_t ms_fmt_fixed(char *out, double v, int decimals)
{
    if (decimals < 0) decimals = 0;
    if (decimals > 9) decimals = 9;
    /* Fast path: |v| * 10^d below 2^53, where v * 10^d is computed with an
     * error under one unit in its last place (a few 1e-16 relative); when
     * the scaled value is that close to a half-way point between two
     * integers the rounding printf does on the exact binary value cannot be
     * told from it, and snprintf decides. */
    double a = fabs(v), y = a * pow10_[decimals];
    if (isfinite(v) && y < 9007199254740992.0 && !(v == 0 && signbit(v))) {
        double fl = floor(y), frac = y - fl;
        double guard = y * 4.5e-16 + 1e-300;
        if (fabs(frac - 0.5) > guard) {
            uint64_t r = (uint64_t)fl + (frac > 0.5);
            /* A value rounding to zero keeps its sign in printf ("-0.00"). */
            size_t n = 0;
            if (v < 0) out[n++] = '-';
            uint64_t scale = (uint64_t)pow10_[decimals];
            n += ms_fmt_u64(out + n, r / scale);
            if (decimals > 0) {
                out[n++] = '.';
                uint64_t f = r % scale;
                for (int k = decimals - 1; k >= 0; k--, f /= 10) out[n + (size_t)k] = (char)('0' + f % 10);
                n += (size_t)decimals;
            }
            return n;
        }
    }
    char buf[MS_FMT_FIXED_MAX + 1];
    int n = snprintf(buf, sizeof buf, "%.*f", decimals, v);
    if (n < 0) n = 0;
    if ((size_t)n > MS_FMT_FIXED_MAX) n = MS_FMT_FIXED_MAX;
    memcpy(out, buf, (size_t)n);
    return (size_t)n;
}
