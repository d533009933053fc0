/*
 * ms_fmt.h - numbers to text without printf, for the large outputs
 * (indicators.csv holds millions of rows at national scale, and printf's
 * format parsing was most of the time spent writing it).
 *
 * Each function writes its text at out (no terminating NUL), returns the
 * number of bytes written, and writes exactly what snprintf writes with the
 * matching format: ms_fmt_i64 "%lld", ms_fmt_u64 "%llu", ms_fmt_fixed
 * "%.<decimals>f" (decimals 0..9).  ms_fmt_fixed takes a fast path only
 * where the value's scaled form is provably not near a rounding boundary
 * and falls back to snprintf otherwise, so its output is printf's for every
 * double, NaN, infinities and -0.0 included (tests/test_fmt.c compares
 * them on random and awkward values).
 */
#ifndef MS_FMT_H
#define MS_FMT_H

#include <stddef.h>
#include <stdint.h>

#define MS_FMT_I64_MAX 20   /* "-9223372036854775808" */
#define MS_FMT_FIXED_MAX 330 /* "%.9f" of -DBL_MAX, with room */

size_t ms_fmt_u64(char *out, uint64_t v);
size_t ms_fmt_i64(char *out, int64_t v);
size_t ms_fmt_fixed(char *out, double v, int decimals);

#endif
