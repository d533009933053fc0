/*
 * ms_import_fields.c - row errors and the field parsers every table uses:
 * integers, ranges, enums, dates, money, regions, text, positive decimals,
 * fixed-point decimals (a bill line's qty and unit_price).
 * A parser returns 0, or -1 with a row_err_t saying which column, which
 * value and why.  The contract's limits (ms_schema.h, docs/schema.md
 * "Limits") are checked here and by the callers' ranges and lengths.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_import_int.h"

/* ------------------------------------------------------------------ */
/* Row errors: which column, which value, why.                          */

int imp_row_bad(row_err_t *e, const char *column, const ms_field_t *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof e->reason, fmt, ap);
    va_end(ap);
    e->column = column;
    e->value = f ? f->s : "";
    e->vlen = f ? f->len : 0;
    return -1;
}

ms_status_t imp_row_fail(const char *file, uint64_t line, const row_err_t *e)
{
    return ms_error_set(MS_E_INPUT, "%s line %llu, column %s: %s", file, (unsigned long long)line,
                        e->column, e->reason);
}

/* ------------------------------------------------------------------ */
/* Field parsers.  Each returns 0, or -1 with *e filled.                 */

int imp_need(const ms_field_t *f, const char *col, row_err_t *e)
{
    return f->len == 0 ? imp_row_bad(e, col, f, "empty value") : 0;
}

int imp_digits_u64(const char *s, size_t len, uint64_t *v)
{
    uint64_t x = 0;
    if (len == 0) return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9) return -1;
        if (x > (UINT64_MAX - d) / 10) return -2;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

int imp_fld_u64(const ms_field_t *f, const char *col, uint64_t *v, row_err_t *e)
{
    if (imp_need(f, col, e)) return -1;
    int rc = imp_digits_u64(f->s, f->len, v);
    if (rc == -1) return imp_row_bad(e, col, f, "not an unsigned integer ('%.*s')", FV(f));
    if (rc == -2) return imp_row_bad(e, col, f, "integer too large for 64 bits ('%.*s')", FV(f));
    return 0;
}

int imp_fld_range(const ms_field_t *f, const char *col, uint64_t lo, uint64_t hi, uint64_t *v,
                  row_err_t *e)
{
    if (imp_need(f, col, e)) return -1;
    int rc = imp_digits_u64(f->s, f->len, v);
    if (rc == -1) return imp_row_bad(e, col, f, "not an unsigned integer ('%.*s')", FV(f));
    if (rc == -2 || *v < lo || *v > hi)
        return imp_row_bad(e, col, f, "%s must be %llu-%llu ('%.*s')", col, (unsigned long long)lo,
                           (unsigned long long)hi, FV(f));
    return 0;
}

int imp_fld_enum(const ms_field_t *f, const char *col, const ms_enum_t *en, uint8_t *v,
                 row_err_t *e)
{
    if (imp_need(f, col, e)) return -1;
    int k = ms_enum_find(en, f->s, f->len);
    if (k >= 0) {
        *v = (uint8_t)k;
        return 0;
    }
    char list[256];
    size_t o = 0;
    list[0] = '\0';
    for (int i = 0; i < en->count && o < sizeof list; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? " " : "", en->names[i]);
    return imp_row_bad(e, col, f, "unknown %s '%.*s' (expected one of: %s)", col, FV(f), list);
}

int imp_fld_date(const ms_field_t *f, const char *col, int32_t *v, row_err_t *e)
{
    if (imp_need(f, col, e)) return -1;
    int rc = ms_date_parse(f->s, f->len, v);
    if (rc == -2)
        return imp_row_bad(e, col, f, "date '%.*s' is outside the contract's window %s", FV(f),
                           MS_DATE_WINDOW_TEXT);
    if (rc != 0)
        return imp_row_bad(e, col, f,
                           "malformed date '%.*s' (expected YYYY-MM-DD, years 1900-2199)", FV(f));
    return 0;
}

int imp_fld_money(const ms_field_t *f, const char *col, int64_t *v, row_err_t *e)
{
    if (imp_need(f, col, e)) return -1;
    if (f->s[0] == '-') return imp_row_bad(e, col, f, "negative amount ('%.*s')", FV(f));
    int rc = ms_money_parse(f->s, f->len, v);
    /* The contract's limit per record (docs/schema.md, Limits); an amount
     * beyond int64 is beyond it too. */
    if (rc == MS_MONEY_RANGE || (rc == 0 && *v > MS_MONEY_MAX_FEN))
        return imp_row_bad(e, col, f, "%s is above the limit of %s yuan per record ('%.*s')", col,
                           MS_MONEY_MAX_TEXT, FV(f));
    if (rc != 0) return imp_row_bad(e, col, f, "%s ('%.*s')", ms_money_error(rc), FV(f));
    return 0;
}

int imp_fld_region(const ms_field_t *f, const char *col, int32_t *v, row_err_t *e)
{
    uint64_t x;
    if (imp_need(f, col, e)) return -1;
    if (f->len != 6 || imp_digits_u64(f->s, f->len, &x) != 0)
        return imp_row_bad(e, col, f, "%s must be exactly 6 digits ('%.*s')", col, FV(f));
    *v = (int32_t)x;
    return 0;
}

int imp_fld_text(const ms_field_t *f, const char *col, size_t maxlen, const char *charset,
                 const char *what, row_err_t *e)
{
    if (imp_need(f, col, e)) return -1;
    int ok = f->len <= maxlen;
    for (size_t i = 0; ok && charset && i < f->len; i++) ok = strchr(charset, f->s[i]) != NULL;
    if (!ok)
        return imp_row_bad(e, col, f, "%s must be 1-%zu %s ('%.*s')", col, maxlen, what, FV(f));
    return 0;
}

/* Parsed straight to float, so that export's shortest round-trip text gives
 * back the input. */
int imp_fld_pos_float(const ms_field_t *f, const char *col, float *v, row_err_t *e)
{
    if (imp_need(f, col, e)) return -1;
    int ok = strspn(f->s, "0123456789.eE+-") == f->len;
    char *end = NULL;
    float x = ok ? strtof(f->s, &end) : 0.0f;
    if (!ok || end != f->s + f->len || !isfinite(x) || !(x > 0.0f))
        return imp_row_bad(e, col, f, "%s must be a decimal number > 0 ('%.*s')", col, FV(f));
    *v = x;
    return 0;
}

int imp_fld_fixed(const ms_field_t *f, const char *col, int places, int64_t lo, int64_t hi,
                  const char *hi_text, const char *unit, int64_t *v, row_err_t *e)
{
    if (imp_need(f, col, e)) return -1;
    int rc = ms_fixed_parse(f->s, f->len, places, v);
    if (rc == MS_FIXED_NEGATIVE) return imp_row_bad(e, col, f, "negative %s ('%.*s')", col, FV(f));
    if (rc == MS_FIXED_DECIMALS)
        return imp_row_bad(e, col, f, "%s has more than %d decimals ('%.*s')", col, places, FV(f));
    if (rc == MS_FIXED_RANGE || (rc == 0 && *v > hi))
        return imp_row_bad(e, col, f, "%s is above the limit of %s %s ('%.*s')", col, hi_text, unit, FV(f));
    if (rc != 0) return imp_row_bad(e, col, f, "%s is not a decimal number ('%.*s')", col, FV(f));
    if (*v < lo) return imp_row_bad(e, col, f, "%s must be > 0 ('%.*s')", col, FV(f));
    return 0;
}
