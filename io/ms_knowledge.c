/*
 * ms_knowledge.c - the knowledge base: knowledge/items.csv and
 * exclusive_items.csv read and validated, DATASET/knowledge.h5 written and
 * read back, the CSV written out again for export.
 *
 * The tables are small (a national catalogue: tens of thousands of items),
 * so everything is read and written whole.  Duplicates are caught while
 * reading, with a hash map, so that errors come in file order and name the
 * line of the first occurrence.  knowledge.h5 stores one dataset per
 * column, as institutions.h5 does (ms_refs.c), and a content checksum
 * (xxh64 over a length-prefixed serialisation of every field) that is
 * independent of HDF5's file layout, so CSV -> h5 -> CSV keeps it.
 */
#include "ms_knowledge.h"

#include <errno.h>
#include <hdf5.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "ms_buf.h"
#include "ms_codes.h"
#include "ms_csv.h"
#include "ms_fs.h"
#include "ms_h5util.h"
#include "ms_hmap.h"
#include "ms_probe.h"
#include "ms_schema.h"
#include "ms_search.h"

#define KB_FILE "knowledge.h5"
#define KB_AGE_MAX 120
#define KB_DIAG_MAX 16   /* bytes of one diagnosis prefix */
#define VALUE_SHOWN 64   /* bytes of a bad value quoted in a message */

/* ------------------------------------------------------------ categories */

static const char *const category_names[MS_CAT_COUNT] = {
    "drug", "exam", "lab", "consumable", "treatment", "surgery", "bed", "nursing", "other"};
static const char *const setting_names[2] = {"inpatient", "outpatient"};

/* The HDF5 enum type of /items/category, so that h5dump shows the words. */
static const ms_enum_t kb_category_enum = {"item_category", MS_CAT_COUNT, category_names};

const char *ms_item_category_name(int c)
{
    return c >= 0 && c < MS_CAT_COUNT ? category_names[c] : "?";
}

int ms_item_category_find(const char *text, size_t len)
{
    for (int c = 0; c < MS_CAT_COUNT; c++)
        if (strlen(category_names[c]) == len && memcmp(category_names[c], text, len) == 0) return c;
    return -1;
}

/* --------------------------------------------------------------- lookups */

int32_t ms_knowledge_find(const ms_knowledge_t *kb, const char *code, size_t len)
{
    return ms_code_find(kb->items, kb->n_items, sizeof *kb->items, offsetof(ms_kb_item_t, item_code), code,
                        len);
}

typedef struct {
    const ms_knowledge_t *kb;
    uint32_t a, b;
} pair_key_t;

static int pair_below(const void *ctx, size_t i)
{
    const pair_key_t *k = ctx;
    const uint32_t *p = k->kb->exclusive[i];
    return p[0] < k->a || (p[0] == k->a && p[1] < k->b);
}

int ms_knowledge_exclusive(const ms_knowledge_t *kb, int32_t a, int32_t b)
{
    if (a < 0 || b < 0 || a == b) return 0;
    pair_key_t k = {kb, (uint32_t)(a < b ? a : b), (uint32_t)(a < b ? b : a)};
    size_t i = ms_lower_bound(kb->n_exclusive, pair_below, &k);
    return i < kb->n_exclusive && kb->exclusive[i][0] == k.a && kb->exclusive[i][1] == k.b;
}

int ms_kb_item_covers(const ms_kb_item_t *it, const char *diag, size_t len)
{
    if (it->ndiag == 0) return 1;
    for (size_t i = 0; i < it->ndiag; i++) {
        size_t pl = strlen(it->diag[i]);
        if (pl <= len && memcmp(diag, it->diag[i], pl) == 0) return 1;
    }
    return 0;
}

/* -------------------------------------------------------------- freeing */

static void item_free(ms_kb_item_t *it)
{
    free(it->item_code);
    free(it->name);
    for (size_t i = 0; i < it->ndiag; i++) free(it->diag[i]);
    free(it->diag);
    memset(it, 0, sizeof *it);
}

void ms_knowledge_free(ms_knowledge_t *kb)
{
    for (size_t i = 0; i < kb->n_items; i++) item_free(&kb->items[i]);
    free(kb->items);
    free(kb->exclusive);
    memset(kb, 0, sizeof *kb);
}

/* ------------------------------------------------------------- checksum */

/* Every field length-prefixed or of fixed width: no two contents serialise
 * to the same bytes, whatever bytes the text holds. */
static void sum_u64(XXH64_state_t *s, uint64_t v)
{
    unsigned char le[8];
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(v >> (8 * i));
    XXH64_update(s, le, 8);
}

static void sum_i64(XXH64_state_t *s, int64_t v) { sum_u64(s, (uint64_t)v); }

static void sum_str(XXH64_state_t *s, const char *str)
{
    size_t n = strlen(str);
    sum_u64(s, n);
    XXH64_update(s, str, n);
}

static void sum_item(XXH64_state_t *s, const ms_kb_item_t *it)
{
    sum_str(s, it->item_code);
    sum_str(s, it->name);
    sum_u64(s, it->category);
    sum_i64(s, it->sex);
    sum_i64(s, it->min_age);
    sum_i64(s, it->max_age);
    sum_i64(s, it->max_qty_milli);
    sum_i64(s, it->max_days_supply);
    sum_i64(s, it->setting);
    sum_u64(s, it->ndiag);
    for (size_t d = 0; d < it->ndiag; d++) sum_str(s, it->diag[d]);
    sum_u64(s, it->trace_required);
}

uint64_t ms_knowledge_checksum(const ms_knowledge_t *kb)
{
    XXH64_state_t *s = XXH64_createState();
    if (!s) return 0;
    XXH64_reset(s, 0);
    sum_str(s, "knowledge");
    sum_u64(s, kb->n_items);
    for (size_t i = 0; i < kb->n_items; i++) sum_item(s, &kb->items[i]);
    sum_u64(s, kb->n_exclusive);
    for (size_t i = 0; i < kb->n_exclusive; i++) {
        sum_u64(s, kb->exclusive[i][0]);
        sum_u64(s, kb->exclusive[i][1]);
    }
    uint64_t h = XXH64_digest(s);
    XXH64_freeState(s);
    return h;
}

/* --------------------------------------------------------- field parsing */

/* Why a row is bad: its column and the reason, the value quoted in it. */
typedef struct {
    const char *column;
    char reason[256];
} row_err_t;

static int row_bad(row_err_t *e, const char *column, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int row_bad(row_err_t *e, const char *column, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof e->reason, fmt, ap);
    va_end(ap);
    e->column = column;
    return -1;
}

/* printf arguments quoting at most VALUE_SHOWN bytes of a field. */
#define FV(f) (int)((f)->len > VALUE_SHOWN ? VALUE_SHOWN : (f)->len), (f)->s

/* A whole number of at most 9 digits (more is out of every range here):
 * 0, -1 not digits, -2 too many. */
static int parse_uint(const ms_field_t *f, int64_t *v)
{
    if (f->len == 0 || strspn(f->s, "0123456789") != f->len) return -1;
    size_t i = 0;
    while (i + 1 < f->len && f->s[i] == '0') i++; /* "007" is 7 */
    if (f->len - i > 9) return -2;
    int64_t x = 0;
    for (; i < f->len; i++) x = x * 10 + (f->s[i] - '0');
    *v = x;
    return 0;
}

/* A text of 1..max bytes; with visible, only visible ASCII (a code is
 * matched byte for byte, and a stray space would never match). */
static int fld_text(const ms_field_t *f, const char *col, size_t max, int visible, row_err_t *e)
{
    if (f->len == 0) return row_bad(e, col, "empty value");
    if (f->len > max)
        return row_bad(e, col, "'%.*s' is longer than %zu bytes (%zu)", FV(f), max, f->len);
    for (size_t i = 0; visible && i < f->len; i++)
        if ((unsigned char)f->s[i] <= 0x20 || (unsigned char)f->s[i] >= 0x7f)
            return row_bad(e, col, "'%.*s' holds a byte other than visible ASCII at byte %zu", FV(f),
                           i + 1);
    return 0;
}

/* An age in years, or empty (MS_KB_NONE). */
static int fld_age(const ms_field_t *f, const char *col, int16_t *v, row_err_t *e)
{
    int64_t x;
    if (f->len == 0) {
        *v = MS_KB_NONE;
        return 0;
    }
    int rc = parse_uint(f, &x);
    if (rc == -1) return row_bad(e, col, "'%.*s' is not a whole number of years", FV(f));
    if (rc == -2 || x > KB_AGE_MAX) return row_bad(e, col, "%.*s is outside 0..%d", FV(f), KB_AGE_MAX);
    *v = (int16_t)x;
    return 0;
}

/* A decimal > 0 with at most three decimals, as thousandths: 0, -1
 * malformed, -2 too large for int64 thousandths. */
static int parse_milli(const char *s, size_t len, int64_t *v)
{
    const int64_t whole_max = (INT64_MAX - 999) / 1000; /* room for the thousandths */
    size_t i = 0;
    int64_t whole = 0, frac = 0;
    if (len == 0 || s[0] < '0' || s[0] > '9') return -1;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        int d = s[i] - '0';
        if (whole > (whole_max - d) / 10) return -2;
        whole = whole * 10 + d;
    }
    if (i < len) {
        size_t nd = 0;
        if (s[i++] != '.') return -1;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++)
            if (nd < 3) frac = frac * 10 + (s[i] - '0');
        if (i != len || nd == 0 || nd > 3) return -1;
        for (; nd < 3; nd++) frac *= 10;
    }
    *v = whole * 1000 + frac;
    return 0;
}

static int fld_qty(const ms_field_t *f, const char *col, int64_t *v, row_err_t *e)
{
    if (f->len == 0) {
        *v = MS_KB_NONE;
        return 0;
    }
    int rc = parse_milli(f->s, f->len, v);
    if (rc == -2) return row_bad(e, col, "%.*s is too large", FV(f));
    if (rc != 0 || *v <= 0)
        return row_bad(e, col, "'%.*s' is not a decimal number > 0 with at most 3 decimals", FV(f));
    return 0;
}

static int fld_days(const ms_field_t *f, const char *col, int32_t *v, row_err_t *e)
{
    int64_t x;
    if (f->len == 0) {
        *v = MS_KB_NONE;
        return 0;
    }
    int rc = parse_uint(f, &x);
    if (rc == -1 || (rc == 0 && x < 1))
        return row_bad(e, col, "'%.*s' is not a whole number of days >= 1", FV(f));
    if (rc == -2) return row_bad(e, col, "%.*s is outside 1..999999999", FV(f));
    *v = (int32_t)x;
    return 0;
}

/* One of names[0..n) or empty (MS_KB_NONE); what lists the choices. */
static int fld_choice(const ms_field_t *f, const char *col, const char *const *names, int n,
                      const char *what, int8_t *v, row_err_t *e)
{
    if (f->len == 0) {
        *v = MS_KB_NONE;
        return 0;
    }
    for (int k = 0; k < n; k++)
        if (ms_code_cmp(f->s, f->len, names[k]) == 0) {
            *v = (int8_t)k;
            return 0;
        }
    return row_bad(e, col, "'%.*s' is not %s", FV(f), what);
}

static int fld_category(const ms_field_t *f, const char *col, uint8_t *v, row_err_t *e)
{
    int c = ms_item_category_find(f->s, f->len);
    if (c >= 0) {
        *v = (uint8_t)c;
        return 0;
    }
    char list[128];
    size_t o = 0;
    for (int k = 0; k < MS_CAT_COUNT; k++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", k ? " " : "", category_names[k]);
    if (f->len == 0) return row_bad(e, col, "empty value (expected one of: %s)", list);
    return row_bad(e, col, "unknown category '%.*s' (expected one of: %s)", FV(f), list);
}

static int fld_flag(const ms_field_t *f, const char *col, uint8_t *v, row_err_t *e)
{
    if (f->len != 1 || (f->s[0] != '0' && f->s[0] != '1'))
        return row_bad(e, col, "'%.*s' is not 0 or 1", FV(f));
    *v = (uint8_t)(f->s[0] - '0');
    return 0;
}

/* One diagnosis prefix: 1..16 letters, digits or '.'. */
static int diag_ok(const char *s, size_t len)
{
    if (len == 0 || len > KB_DIAG_MAX) return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.'))
            return 0;
    }
    return 1;
}

/* Split text (len bytes) at ';' into *out (n prefixes, each checked and
 * copied); empty text is no prefix.  0, -1 with *bad (offset, length) set
 * on a bad prefix, -2 out of memory. */
static int split_diag(const char *text, size_t len, char ***out, size_t *n, size_t bad[2])
{
    *out = NULL;
    *n = 0;
    if (len == 0) return 0;
    size_t count = 1;
    for (size_t i = 0; i < len; i++) count += text[i] == ';';
    char **d = calloc(count, sizeof *d);
    if (!d) return -2;
    size_t k = 0, start = 0;
    int rc = 0;
    for (size_t i = 0; i <= len && rc == 0; i++) {
        if (i < len && text[i] != ';') continue;
        if (!diag_ok(text + start, i - start)) {
            bad[0] = start, bad[1] = i - start;
            rc = -1;
        } else if (!(d[k] = strndup(text + start, i - start))) {
            rc = -2;
        } else {
            k++;
        }
        start = i + 1;
    }
    if (rc != 0) {
        for (size_t i = 0; i < k; i++) free(d[i]);
        free(d);
        return rc;
    }
    *out = d;
    *n = count;
    return 0;
}

/* --------------------------------------------------------- reading CSV */

static const char *const item_columns[] = {
    "item_code", "name", "category", "sex", "min_age", "max_age", "max_qty_per_day",
    "max_days_supply", "setting", "diagnoses", "trace_required"};
enum { IT_CODE, IT_NAME, IT_CAT, IT_SEX, IT_MIN_AGE, IT_MAX_AGE, IT_QTY, IT_DAYS, IT_SETTING,
       IT_DIAG, IT_TRACE, IT_COUNT };

static const char *const pair_columns[] = {"item_a", "item_b"};
enum { EX_A, EX_B, EX_COUNT };

/* What a load is doing: the table, file order line numbers, duplicates. */
typedef struct {
    ms_knowledge_t *kb;
    size_t items_cap, pairs_cap;
    uint64_t *item_line, *pair_line; /* the line each entry came from */
    size_t item_line_cap, pair_line_cap;
    ms_hmap_t codes, pairs;
    char label[2][512];              /* "knowledge/items.csv", "knowledge/exclusive_items.csv" */
    const char *eq_code;             /* the key a hash map lookup looks for */
    uint32_t eq_pair[2];
} load_t;

static ms_status_t row_fail(const char *label, uint64_t line, const row_err_t *e)
{
    return ms_error_set(MS_E_INPUT, "%s line %llu, column %s: %s", label, (unsigned long long)line,
                        e->column, e->reason);
}

/* A message of the CSV layer names the file by its base name; ours name it
 * as knowledge/NAME, so that a person knows which items.csv. */
static ms_status_t relabel(ms_status_t st, const char *name, const char *label)
{
    char detail[1024];
    size_t n = strlen(name);
    snprintf(detail, sizeof detail, "%s", ms_error_detail());
    if (strncmp(detail, name, n) != 0) return st;
    const char *rest = detail + n;
    /* A header problem ("items.csv: unknown column 'x'") is on line 1. */
    if (st == MS_E_SCHEMA && strncmp(rest, ": ", 2) == 0)
        return ms_error_set(st, "%s line 1 (header): %s", label, rest + 2);
    return ms_error_set(st, "%s%s", label, rest);
}

/* "knowledge/items.csv": the directory's last name and the file's. */
static void make_label(char *out, size_t cap, const char *dir, const char *name)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    size_t b = n;
    while (b > 0 && dir[b - 1] != '/') b--;
    size_t last = n - b;
    int dots = (last == 1 && dir[b] == '.') || (last == 2 && dir[b] == '.' && dir[b + 1] == '.');
    if (last && !dots) snprintf(out, cap, "%.*s/%s", (int)(n - b), dir + b, name);
    else snprintf(out, cap, "%.*s/%s", (int)n, dir, name);
}

static ms_status_t open_csv(const char *dir, const char *name, const char *label,
                            const char *const *cols, int ncols, ms_csv_t **c)
{
    char *path = ms_path_join(dir, name);
    if (!path) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_status_t st = ms_csv_open(path, cols, ncols, c);
    free(path);
    return st == MS_OK ? MS_OK : relabel(st, name, label);
}

static int item_parse(const ms_field_t *f, ms_kb_item_t *it, row_err_t *e)
{
    if (fld_text(&f[IT_CODE], "item_code", MS_ITEM_CODE_MAX, 1, e)) return -1;
    if (fld_text(&f[IT_NAME], "name", MS_ITEM_NAME_MAX, 0, e)) return -1;
    if (fld_category(&f[IT_CAT], "category", &it->category, e)) return -1;
    if (fld_choice(&f[IT_SEX], "sex", ms_enum_sex.names, ms_enum_sex.count, "M, F or empty",
                   &it->sex, e))
        return -1;
    if (fld_age(&f[IT_MIN_AGE], "min_age", &it->min_age, e)) return -1;
    if (fld_age(&f[IT_MAX_AGE], "max_age", &it->max_age, e)) return -1;
    if (it->min_age != MS_KB_NONE && it->max_age != MS_KB_NONE && it->min_age > it->max_age)
        return row_bad(e, "min_age", "min_age %d is above max_age %d", it->min_age, it->max_age);
    if (fld_qty(&f[IT_QTY], "max_qty_per_day", &it->max_qty_milli, e)) return -1;
    if (fld_days(&f[IT_DAYS], "max_days_supply", &it->max_days_supply, e)) return -1;
    if (fld_choice(&f[IT_SETTING], "setting", setting_names, 2, "inpatient, outpatient or empty",
                   &it->setting, e))
        return -1;
    if (fld_flag(&f[IT_TRACE], "trace_required", &it->trace_required, e)) return -1;
    return 0;
}

static int code_eq(const void *ctx, uint32_t id)
{
    const load_t *L = ctx;
    return strcmp(L->kb->items[id].item_code, L->eq_code) == 0;
}

/* Append a parsed row (its diagnoses already in it; what is taken is
 * cleared from *it), or set *dup and say in *e which line held its code
 * first. */
static ms_status_t item_add(load_t *L, const ms_field_t *f, ms_kb_item_t *it, uint64_t line,
                            row_err_t *e, int *dup)
{
    ms_knowledge_t *kb = L->kb;
    uint64_t h = ms_hash_str(f[IT_CODE].s);
    L->eq_code = f[IT_CODE].s;
    uint32_t id = ms_hmap_find(&L->codes, h, code_eq, L);
    *dup = id != MS_HMAP_NONE;
    if (*dup) {
        row_bad(e, "item_code", "duplicate item_code '%.*s' (first at line %llu)", FV(&f[IT_CODE]),
                (unsigned long long)L->item_line[id]);
        return MS_OK;
    }
    if (kb->n_items >= UINT32_MAX - 1)
        return ms_error_set(MS_E_INPUT, "%s: too many items", L->label[0]);
    MS_TRY(ms_grow(&kb->items, &L->items_cap, kb->n_items + 1, sizeof *kb->items, 256));
    MS_TRY(ms_grow(&L->item_line, &L->item_line_cap, kb->n_items + 1, sizeof *L->item_line, 256));
    it->item_code = strdup(f[IT_CODE].s);
    it->name = strdup(f[IT_NAME].s);
    kb->items[kb->n_items] = *it;
    L->item_line[kb->n_items] = line;
    kb->n_items++; /* counted before the checks so that ms_knowledge_free frees it */
    memset(it, 0, sizeof *it);
    if (!kb->items[kb->n_items - 1].item_code || !kb->items[kb->n_items - 1].name)
        return ms_error_set(MS_E_NOMEM, "out of memory");
    return ms_hmap_insert(&L->codes, h, (uint32_t)(kb->n_items - 1));
}

/* One record of items.csv: parsed, checked, appended. */
static ms_status_t item_row(load_t *L, const ms_field_t *f, uint64_t line)
{
    ms_kb_item_t it;
    row_err_t e;
    memset(&it, 0, sizeof it);
    if (item_parse(f, &it, &e)) return row_fail(L->label[0], line, &e);
    size_t bad[2];
    int rc = split_diag(f[IT_DIAG].s, f[IT_DIAG].len, &it.diag, &it.ndiag, bad);
    if (rc == -2) return ms_error_set(MS_E_NOMEM, "out of memory");
    if (rc == -1) {
        row_bad(&e, "diagnoses", "prefix '%.*s' is not 1-%d letters, digits or '.' ('%.*s')",
                (int)(bad[1] > VALUE_SHOWN ? VALUE_SHOWN : bad[1]), f[IT_DIAG].s + bad[0], KB_DIAG_MAX,
                FV(&f[IT_DIAG]));
        return row_fail(L->label[0], line, &e);
    }
    int dup = 0;
    ms_status_t st = item_add(L, f, &it, line, &e, &dup);
    item_free(&it); /* what item_add did not take */
    if (st == MS_OK && dup) st = row_fail(L->label[0], line, &e);
    return st;
}

/* Every record of DIR/name (label: how messages name it) through row, in
 * file order, up to the first error. */
static ms_status_t load_rows(load_t *L, const char *dir, const char *name, const char *label,
                             const char *const *cols, int ncols,
                             ms_status_t (*row)(load_t *L, const ms_field_t *f, uint64_t line))
{
    ms_csv_t *c;
    MS_TRY(open_csv(dir, name, label, cols, ncols, &c));
    ms_status_t st;
    const ms_field_t *f;
    uint64_t line;
    for (;;) {
        if ((st = ms_csv_next(c, &f, &line)) != MS_OK) {
            st = relabel(st, name, label);
            break;
        }
        if (!f || (st = row(L, f, line)) != MS_OK) break;
    }
    ms_csv_close(c);
    return st;
}

static ms_status_t load_items(load_t *L, const char *dir)
{
    return load_rows(L, dir, "items.csv", L->label[0], item_columns, IT_COUNT, item_row);
}

static int cmp_item(const void *a, const void *b)
{
    return strcmp(((const ms_kb_item_t *)a)->item_code, ((const ms_kb_item_t *)b)->item_code);
}

static int pair_eq(const void *ctx, uint32_t id)
{
    const load_t *L = ctx;
    return L->kb->exclusive[id][0] == L->eq_pair[0] && L->kb->exclusive[id][1] == L->eq_pair[1];
}

/* The id of the item named in column col, or -1 with e filled. */
static int32_t pair_item(const load_t *L, const ms_field_t *f, const char *col, row_err_t *e)
{
    int32_t id = f->len ? ms_knowledge_find(L->kb, f->s, f->len) : -1;
    if (f->len == 0) row_bad(e, col, "empty value");
    else if (id < 0) row_bad(e, col, "unknown item '%.*s' (not in items.csv)", FV(f));
    return id;
}

/* One record of exclusive_items.csv: both items known and distinct, the
 * pair (in either order) not given before. */
static ms_status_t pair_row(load_t *L, const ms_field_t *f, uint64_t line)
{
    ms_knowledge_t *kb = L->kb;
    row_err_t e;
    int32_t a = pair_item(L, &f[EX_A], "item_a", &e);
    if (a < 0) return row_fail(L->label[1], line, &e);
    int32_t b = pair_item(L, &f[EX_B], "item_b", &e);
    if (b < 0) return row_fail(L->label[1], line, &e);
    if (a == b) {
        row_bad(&e, "item_b", "item '%.*s' is paired with itself", FV(&f[EX_B]));
        return row_fail(L->label[1], line, &e);
    }
    L->eq_pair[0] = (uint32_t)(a < b ? a : b);
    L->eq_pair[1] = (uint32_t)(a < b ? b : a);
    uint64_t h = ms_hash_u64((uint64_t)L->eq_pair[0] << 32 | L->eq_pair[1]);
    uint32_t id = ms_hmap_find(&L->pairs, h, pair_eq, L);
    if (id != MS_HMAP_NONE) {
        row_bad(&e, "item_b", "duplicate pair '%.*s', '%.*s' (given at line %llu, in either order)",
                FV(&f[EX_A]), FV(&f[EX_B]), (unsigned long long)L->pair_line[id]);
        return row_fail(L->label[1], line, &e);
    }
    MS_TRY(ms_grow(&kb->exclusive, &L->pairs_cap, kb->n_exclusive + 1, sizeof *kb->exclusive, 256));
    MS_TRY(ms_grow(&L->pair_line, &L->pair_line_cap, kb->n_exclusive + 1, sizeof *L->pair_line, 256));
    kb->exclusive[kb->n_exclusive][0] = L->eq_pair[0];
    kb->exclusive[kb->n_exclusive][1] = L->eq_pair[1];
    L->pair_line[kb->n_exclusive] = line;
    kb->n_exclusive++;
    return ms_hmap_insert(&L->pairs, h, (uint32_t)(kb->n_exclusive - 1));
}

static ms_status_t load_pairs(load_t *L, const char *dir)
{
    char *path = ms_path_join(dir, "exclusive_items.csv");
    if (!path) return ms_error_set(MS_E_NOMEM, "out of memory");
    int present = ms_path_exists(path);
    free(path);
    if (!present) return MS_OK; /* optional: no pairs */
    return load_rows(L, dir, "exclusive_items.csv", L->label[1], pair_columns, EX_COUNT, pair_row);
}

static int cmp_pair(const void *x, const void *y)
{
    const uint32_t *a = x, *b = y;
    if (a[0] != b[0]) return a[0] < b[0] ? -1 : 1;
    return a[1] < b[1] ? -1 : a[1] > b[1];
}

ms_status_t ms_knowledge_load_csv(const char *dir, ms_knowledge_t *kb)
{
    memset(kb, 0, sizeof *kb);
    load_t L;
    memset(&L, 0, sizeof L);
    L.kb = kb;
    make_label(L.label[0], sizeof L.label[0], dir, "items.csv");
    make_label(L.label[1], sizeof L.label[1], dir, "exclusive_items.csv");
    ms_status_t st = load_items(&L, dir);
    /* Ids are ranks in code order: sorted before the pairs name them. */
    if (st == MS_OK && kb->n_items > 1) qsort(kb->items, kb->n_items, sizeof *kb->items, cmp_item);
    if (st == MS_OK) st = load_pairs(&L, dir);
    if (st == MS_OK && kb->n_exclusive > 1)
        qsort(kb->exclusive, kb->n_exclusive, sizeof *kb->exclusive, cmp_pair);
    if (st == MS_OK) kb->checksum = ms_knowledge_checksum(kb);
    ms_hmap_free(&L.codes);
    ms_hmap_free(&L.pairs);
    free(L.item_line);
    free(L.pair_line);
    if (st != MS_OK) ms_knowledge_free(kb);
    return st;
}

/* --------------------------------------------------------- writing CSV */

static ms_status_t afile_finish(ms_afile_t *f, ms_status_t st)
{
    if (st == MS_OK && ferror(f->fp))
        st = ms_error_errno(MS_E_IO, errno ? errno : EIO, "cannot write %s", f->path);
    if (st == MS_OK) return ms_afile_commit(f);
    ms_afile_abort(f);
    return st;
}

/* Empty for none, else the number. */
static void put_limit(FILE *fp, int64_t v)
{
    if (v != MS_KB_NONE) fprintf(fp, "%" PRId64, v);
}

/* Thousandths as the shortest exact decimal: 2500 -> "2.5". */
static void put_milli(FILE *fp, int64_t v)
{
    if (v == MS_KB_NONE) return;
    fprintf(fp, "%" PRId64, v / 1000);
    int frac = (int)(v % 1000), digits = 3;
    if (frac == 0) return;
    while (frac % 10 == 0) frac /= 10, digits--;
    fprintf(fp, ".%0*d", digits, frac);
}

static void put_item(FILE *fp, const ms_kb_item_t *it)
{
    ms_csv_write_field(fp, it->item_code, strlen(it->item_code));
    fputc(',', fp);
    ms_csv_write_field(fp, it->name, strlen(it->name));
    fprintf(fp, ",%s,", ms_item_category_name(it->category));
    if (it->sex == MS_SEX_M || it->sex == MS_SEX_F) fputs(ms_enum_sex.names[it->sex], fp);
    fputc(',', fp);
    put_limit(fp, it->min_age);
    fputc(',', fp);
    put_limit(fp, it->max_age);
    fputc(',', fp);
    put_milli(fp, it->max_qty_milli);
    fputc(',', fp);
    put_limit(fp, it->max_days_supply);
    fputc(',', fp);
    if (it->setting == MS_SETTING_INPATIENT || it->setting == MS_SETTING_OUTPATIENT)
        fputs(setting_names[it->setting], fp);
    fputc(',', fp);
    for (size_t d = 0; d < it->ndiag; d++) fprintf(fp, "%s%s", d ? ";" : "", it->diag[d]);
    fprintf(fp, ",%u\n", (unsigned)it->trace_required);
}

static ms_status_t write_items_csv(const ms_knowledge_t *kb, const char *dir)
{
    char *path = ms_path_join(dir, "items.csv");
    if (!path) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_afile_t f;
    ms_status_t st = ms_afile_open(&f, path);
    free(path);
    if (st != MS_OK) return st;
    for (int k = 0; k < IT_COUNT; k++) fprintf(f.fp, "%s%s", k ? "," : "", item_columns[k]);
    fputc('\n', f.fp);
    for (size_t i = 0; i < kb->n_items; i++) put_item(f.fp, &kb->items[i]);
    return afile_finish(&f, MS_OK);
}

static ms_status_t write_pairs_csv(const ms_knowledge_t *kb, const char *dir)
{
    char *path = ms_path_join(dir, "exclusive_items.csv");
    if (!path) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_afile_t f;
    ms_status_t st = ms_afile_open(&f, path);
    free(path);
    if (st != MS_OK) return st;
    fputs("item_a,item_b\n", f.fp);
    for (size_t i = 0; i < kb->n_exclusive && st == MS_OK; i++) {
        uint32_t a = kb->exclusive[i][0], b = kb->exclusive[i][1];
        if (a >= kb->n_items || b >= kb->n_items) {
            st = ms_error_set(MS_E_INTERNAL, "exclusive pair %zu names item %u of %zu", i,
                              a > b ? a : b, kb->n_items);
            break;
        }
        const char *ca = kb->items[a].item_code, *cb = kb->items[b].item_code;
        ms_csv_write_field(f.fp, ca, strlen(ca));
        fputc(',', f.fp);
        ms_csv_write_field(f.fp, cb, strlen(cb));
        fputc('\n', f.fp);
    }
    return afile_finish(&f, st);
}

ms_status_t ms_knowledge_write_csv(const ms_knowledge_t *kb, const char *dir)
{
    MS_TRY(ms_mkdirs(dir));
    MS_TRY(write_items_csv(kb, dir));
    return write_pairs_csv(kb, dir);
}

/* -------------------------------------------------------- knowledge.h5 */

int ms_knowledge_present(const char *dataset_dir)
{
    char *path = ms_path_join(dataset_dir, KB_FILE);
    int yes = path && ms_path_exists(path);
    free(path);
    return yes;
}

/* The diagnoses of an item as one text: prefixes joined by ';'. */
static char *diag_join(const ms_kb_item_t *it)
{
    size_t len = 0;
    for (size_t d = 0; d < it->ndiag; d++) len += strlen(it->diag[d]) + 1;
    char *s = malloc(len + 1), *p = s;
    if (!s) return NULL;
    for (size_t d = 0; d < it->ndiag; d++) {
        size_t n = strlen(it->diag[d]);
        if (d) *p++ = ';';
        memcpy(p, it->diag[d], n);
        p += n;
    }
    *p = '\0';
    return s;
}

/* Scratch columns, each n (at least 1) long, for writing and reading. */
typedef struct {
    const char **s;
    char **joined;   /* diagnoses as ';'-joined text, owned */
    uint8_t *u8;
    int8_t *i8;
    int16_t *i16;
    int32_t *i32;
    int64_t *i64;
} cols_t;

static void cols_free(cols_t *c, size_t n)
{
    for (size_t i = 0; c->joined && i < n; i++) free(c->joined[i]);
    free(c->s), free(c->joined), free(c->u8), free(c->i8), free(c->i16), free(c->i32), free(c->i64);
    memset(c, 0, sizeof *c);
}

static ms_status_t cols_alloc(cols_t *c, size_t n)
{
    size_t m = n ? n : 1;
    memset(c, 0, sizeof *c);
    c->s = malloc(m * sizeof *c->s);
    c->joined = calloc(m, sizeof *c->joined);
    c->u8 = malloc(m);
    c->i8 = malloc(m);
    c->i16 = malloc(m * sizeof *c->i16);
    c->i32 = malloc(m * sizeof *c->i32);
    c->i64 = malloc(m * sizeof *c->i64);
    if (!c->s || !c->joined || !c->u8 || !c->i8 || !c->i16 || !c->i32 || !c->i64)
        return ms_error_set(MS_E_NOMEM, "out of memory");
    return MS_OK;
}

/* Gather one field of every item into buf and, if all went well so far,
 * write it as the column of the same name. */
#define WRITE_ITEM_COL(st, g, buf, kb, field, ftype, mtype)                         \
    do {                                                                            \
        if ((st) == MS_OK) {                                                        \
            MS_H5_GATHER(buf, (kb)->items, (kb)->n_items, field);                   \
            (st) = ms_h5_write_col(g, #field, ftype, mtype, (kb)->n_items, buf);    \
        }                                                                           \
    } while (0)

static ms_status_t write_item_columns(hid_t g, const ms_knowledge_t *kb, cols_t *c)
{
    size_t n = kb->n_items;
    MS_H5_GATHER(c->s, kb->items, n, item_code);
    ms_status_t st = ms_h5_write_strings(g, "item_code", n, c->s);
    if (st == MS_OK) {
        MS_H5_GATHER(c->s, kb->items, n, name);
        st = ms_h5_write_strings(g, "name", n, c->s);
    }
    if (st == MS_OK) {
        hid_t et = ms_h5_column_type(MS_U8, &kb_category_enum);
        MS_H5_GATHER(c->u8, kb->items, n, category);
        st = ms_h5_write_col(g, "category", et, et, n, c->u8);
        H5Tclose(et);
    }
    WRITE_ITEM_COL(st, g, c->i8, kb, sex, H5T_STD_I8LE, H5T_NATIVE_INT8);
    WRITE_ITEM_COL(st, g, c->i16, kb, min_age, H5T_STD_I16LE, H5T_NATIVE_INT16);
    WRITE_ITEM_COL(st, g, c->i16, kb, max_age, H5T_STD_I16LE, H5T_NATIVE_INT16);
    WRITE_ITEM_COL(st, g, c->i64, kb, max_qty_milli, H5T_STD_I64LE, H5T_NATIVE_INT64);
    WRITE_ITEM_COL(st, g, c->i32, kb, max_days_supply, H5T_STD_I32LE, H5T_NATIVE_INT32);
    WRITE_ITEM_COL(st, g, c->i8, kb, setting, H5T_STD_I8LE, H5T_NATIVE_INT8);
    for (size_t i = 0; st == MS_OK && i < n; i++)
        if (!(c->joined[i] = diag_join(&kb->items[i]))) st = ms_error_set(MS_E_NOMEM, "out of memory");
    if (st == MS_OK) st = ms_h5_write_strings(g, "diagnoses", n, (const char *const *)c->joined);
    WRITE_ITEM_COL(st, g, c->u8, kb, trace_required, H5T_STD_U8LE, H5T_NATIVE_UINT8);
    return st;
}

static ms_status_t write_items(hid_t f, const ms_knowledge_t *kb)
{
    hid_t g = ms_h5_group_create(f, "items");
    if (g < 0) return ms_error_set(MS_E_HDF5, "cannot create group items");
    cols_t c;
    ms_status_t st = cols_alloc(&c, kb->n_items);
    if (st == MS_OK) st = write_item_columns(g, kb, &c);
    cols_free(&c, kb->n_items);
    H5Gclose(g);
    return st;
}

static ms_status_t write_exclusive(hid_t f, const ms_knowledge_t *kb)
{
    size_t n = kb->n_exclusive;
    hid_t g = ms_h5_group_create(f, "exclusive");
    if (g < 0) return ms_error_set(MS_E_HDF5, "cannot create group exclusive");
    uint32_t *col = malloc((n ? n : 1) * sizeof *col);
    ms_status_t st = col ? MS_OK : ms_error_set(MS_E_NOMEM, "out of memory");
    for (int side = 0; side < 2 && st == MS_OK; side++) {
        for (size_t i = 0; i < n; i++) col[i] = kb->exclusive[i][side];
        st = ms_h5_write_col(g, side ? "item_b" : "item_a", H5T_STD_U32LE, H5T_NATIVE_UINT32, n, col);
    }
    free(col);
    H5Gclose(g);
    return st;
}

/* The content of knowledge.h5 (ms_h5_write_file's fill). */
static ms_status_t write_content(hid_t f, const void *arg)
{
    const ms_knowledge_t *kb = arg;
    hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
    ms_status_t st = ms_h5_attr_write_i64(root, "schema_version", MS_SCHEMA_VERSION);
    if (st == MS_OK) st = ms_h5_write_checksum(root, ms_knowledge_checksum(kb));
    H5Gclose(root);
    if (st == MS_OK) st = write_items(f, kb);
    if (st == MS_OK) st = write_exclusive(f, kb);
    return st;
}

ms_status_t ms_knowledge_write(const ms_knowledge_t *kb, const char *dataset_dir)
{
    MS_TRY(ms_h5_init());
    char *path = ms_path_join(dataset_dir, KB_FILE);
    if (!path) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_status_t st = ms_h5_write_file(path, write_content, kb);
    free(path);
    return st;
}

/* ---------------------------------------------------------- reading h5 */

/* A column of n integers into out, of memory type mtype; a one-byte enum
 * is read as its values. */
static ms_status_t read_ints(hid_t loc, const char *name, size_t n, hid_t mtype, void *out)
{
    ms_status_t st = MS_OK;
    hid_t d = ms_h5_open_col(loc, name, &n, &st);
    if (d < 0) return st;
    hid_t ft = H5Dget_type(d);
    H5T_class_t cls = ft < 0 ? H5T_NO_CLASS : H5Tget_class(ft);
    hid_t mt = -1;
    /* An enum converts to integers only through its own type. */
    if (cls == H5T_ENUM && H5Tget_size(ft) == 1 && H5Tget_size(mtype) == 1) mt = H5Tcopy(ft);
    else if (cls == H5T_INTEGER) mt = H5Tcopy(mtype);
    else st = ms_error_set(MS_E_SCHEMA, "%s is not a column of integers", name);
    if (st == MS_OK && n && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
        st = ms_error_set(MS_E_CORRUPT, "cannot read %s", name);
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    H5Dclose(d);
    return st;
}

/* If all went well so far, read the column named as the field into buf and
 * give each item its value. */
#define READ_ITEM_COL(st, g, buf, kb, field, mtype)                                  \
    do {                                                                             \
        if ((st) == MS_OK && ((st) = read_ints(g, #field, (kb)->n_items, mtype, buf)) == MS_OK) \
            MS_H5_SCATTER((kb)->items, (kb)->n_items, field, buf);                   \
    } while (0)

/* Each item's diagnoses from their ';'-joined text. */
static ms_status_t split_all(ms_knowledge_t *kb, char **joined)
{
    for (size_t i = 0; i < kb->n_items; i++) {
        size_t bad[2];
        ms_kb_item_t *it = &kb->items[i];
        int rc = split_diag(joined[i], strlen(joined[i]), &it->diag, &it->ndiag, bad);
        if (rc == -2) return ms_error_set(MS_E_NOMEM, "out of memory");
        if (rc == -1) return ms_error_set(MS_E_CORRUPT, "item %zu has a bad diagnosis prefix", i);
    }
    return MS_OK;
}

static ms_status_t read_item_columns(hid_t g, ms_knowledge_t *kb, cols_t *c)
{
    ms_status_t st = MS_OK;
    READ_ITEM_COL(st, g, c->u8, kb, category, H5T_NATIVE_UINT8);
    READ_ITEM_COL(st, g, c->i8, kb, sex, H5T_NATIVE_INT8);
    READ_ITEM_COL(st, g, c->i16, kb, min_age, H5T_NATIVE_INT16);
    READ_ITEM_COL(st, g, c->i16, kb, max_age, H5T_NATIVE_INT16);
    READ_ITEM_COL(st, g, c->i64, kb, max_qty_milli, H5T_NATIVE_INT64);
    READ_ITEM_COL(st, g, c->i32, kb, max_days_supply, H5T_NATIVE_INT32);
    READ_ITEM_COL(st, g, c->i8, kb, setting, H5T_NATIVE_INT8);
    READ_ITEM_COL(st, g, c->u8, kb, trace_required, H5T_NATIVE_UINT8);
    if (st == MS_OK) st = split_all(kb, c->joined);
    return st;
}

/* The three text columns, handed to the items, then the numbers. */
static ms_status_t read_items(hid_t f, ms_knowledge_t *kb)
{
    hid_t g = H5Lexists(f, "items", H5P_DEFAULT) > 0 ? H5Gopen2(f, "items", H5P_DEFAULT) : -1;
    if (g < 0) return ms_error_set(MS_E_SCHEMA, "group /items is missing");
    size_t n = SIZE_MAX;
    char **codes = NULL, **names = NULL;
    cols_t c;
    memset(&c, 0, sizeof c);
    ms_status_t st = ms_h5_read_strings(g, "item_code", &n, &codes);
    if (st == MS_OK) st = ms_h5_read_strings(g, "name", &n, &names);
    if (st == MS_OK) st = cols_alloc(&c, n);
    if (st == MS_OK) {
        free(c.joined); /* replaced by the column itself */
        st = ms_h5_read_strings(g, "diagnoses", &n, &c.joined);
    }
    if (st == MS_OK && !(kb->items = calloc(n ? n : 1, sizeof *kb->items)))
        st = ms_error_set(MS_E_NOMEM, "out of memory");
    if (st == MS_OK) {
        /* The items own their texts from here on (ms_knowledge_free). */
        for (size_t i = 0; i < n; i++) {
            kb->items[i].item_code = codes[i];
            kb->items[i].name = names[i];
        }
        kb->n_items = n;
        free(codes), free(names);
        codes = names = NULL;
        st = read_item_columns(g, kb, &c);
    }
    if (codes) ms_h5_strings_free(codes, n);
    if (names) ms_h5_strings_free(names, n);
    cols_free(&c, n);
    H5Gclose(g);
    return st;
}

static ms_status_t read_exclusive(hid_t f, ms_knowledge_t *kb)
{
    hid_t g = H5Lexists(f, "exclusive", H5P_DEFAULT) > 0 ? H5Gopen2(f, "exclusive", H5P_DEFAULT) : -1;
    if (g < 0) return ms_error_set(MS_E_SCHEMA, "group /exclusive is missing");
    size_t n = SIZE_MAX;
    ms_status_t st = MS_OK;
    hid_t d = ms_h5_open_col(g, "item_a", &n, &st);
    if (d >= 0) H5Dclose(d);
    uint32_t *col = st == MS_OK ? malloc((n ? n : 1) * sizeof *col) : NULL;
    if (st == MS_OK && !(kb->exclusive = malloc((n ? n : 1) * sizeof *kb->exclusive)))
        st = ms_error_set(MS_E_NOMEM, "out of memory");
    if (st == MS_OK && !col) st = ms_error_set(MS_E_NOMEM, "out of memory");
    for (int side = 0; side < 2 && st == MS_OK; side++) {
        st = read_ints(g, side ? "item_b" : "item_a", n, H5T_NATIVE_UINT32, col);
        for (size_t i = 0; st == MS_OK && i < n; i++) kb->exclusive[i][side] = col[i];
    }
    if (st == MS_OK) kb->n_exclusive = n;
    free(col);
    H5Gclose(g);
    return st;
}

/* What the loader guarantees, checked again: callers index with these
 * values, so a file that lies (a bug in an older writer, a forged
 * checksum) must not reach them. */
static ms_status_t check_item(const ms_kb_item_t *it, size_t i)
{
    const char *why = NULL;
    size_t cl = strlen(it->item_code), nl = strlen(it->name);
    if (cl == 0 || cl > MS_ITEM_CODE_MAX) why = "item_code length";
    else if (nl == 0 || nl > MS_ITEM_NAME_MAX) why = "name length";
    else if (it->category >= MS_CAT_COUNT) why = "category";
    else if (it->sex < MS_KB_NONE || it->sex > MS_SEX_F) why = "sex";
    else if (it->min_age < MS_KB_NONE || it->min_age > KB_AGE_MAX) why = "min_age";
    else if (it->max_age < MS_KB_NONE || it->max_age > KB_AGE_MAX) why = "max_age";
    else if (it->min_age != MS_KB_NONE && it->max_age != MS_KB_NONE && it->min_age > it->max_age)
        why = "min_age above max_age";
    else if (it->max_qty_milli != MS_KB_NONE && it->max_qty_milli <= 0) why = "max_qty_milli";
    else if (it->max_days_supply != MS_KB_NONE && it->max_days_supply < 1) why = "max_days_supply";
    else if (it->setting < MS_SETTING_ANY || it->setting > MS_SETTING_OUTPATIENT) why = "setting";
    else if (it->trace_required > 1) why = "trace_required";
    if (why) return ms_error_set(MS_E_CORRUPT, "item %zu: bad %s", i, why);
    return MS_OK;
}

static ms_status_t check_content(const ms_knowledge_t *kb)
{
    for (size_t i = 0; i < kb->n_items; i++) {
        MS_TRY(check_item(&kb->items[i], i));
        if (i && strcmp(kb->items[i - 1].item_code, kb->items[i].item_code) >= 0)
            return ms_error_set(MS_E_CORRUPT, "items are not sorted by item_code at item %zu", i);
    }
    for (size_t i = 0; i < kb->n_exclusive; i++) {
        const uint32_t *p = kb->exclusive[i];
        if (p[0] >= p[1] || p[1] >= kb->n_items || (i && cmp_pair(kb->exclusive[i - 1], p) >= 0))
            return ms_error_set(MS_E_CORRUPT, "exclusive pair %zu (%u, %u) is out of order or range",
                                i, p[0], p[1]);
    }
    return MS_OK;
}

/* Read path into kb: attributes, both groups, then the checks. */
static ms_status_t read_file(const char *path, ms_knowledge_t *kb)
{
    memset(kb, 0, sizeof *kb);
    uint64_t stored = 0;
    hid_t f;
    ms_status_t st = ms_h5_open_stamped(path, &f, &stored);
    if (st == MS_OK) st = read_items(f, kb);
    if (st == MS_OK) st = read_exclusive(f, kb);
    if (f >= 0) H5Fclose(f);
    if (st == MS_OK) st = check_content(kb);
    if (st == MS_OK) {
        kb->checksum = ms_knowledge_checksum(kb);
        if (kb->checksum != stored)
            st = ms_error_set(MS_E_CORRUPT, "content does not match its checksum (stored %016" PRIx64
                              ", computed %016" PRIx64 ")", stored, kb->checksum);
    }
    if (st != MS_OK) {
        ms_error_wrap(st, "%s: ", path);
        ms_knowledge_free(kb);
    }
    return st;
}

/* In the child: read the file, keep nothing. */
static ms_status_t probe_fn(void *arg, void *reply)
{
    (void)reply;
    ms_knowledge_t kb;
    ms_status_t st = read_file(arg, &kb);
    ms_knowledge_free(&kb);
    return st;
}

ms_status_t ms_knowledge_read(const char *dataset_dir, ms_knowledge_t *kb)
{
    memset(kb, 0, sizeof *kb);
    MS_TRY(ms_h5_init());
    char *path = ms_path_join(dataset_dir, KB_FILE);
    if (!path) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_status_t st = MS_OK;
    if (!ms_path_exists(path)) {
        st = ms_error_set(MS_E_IO, "%s: file is missing", path);
    } else {
        /* Damaged metadata can crash libhdf5 itself: the file is read once
         * in a child first (ms_probe_fork), which dies instead of us. */
        st = ms_probe_run(path, probe_fn, path);
        if (st == MS_OK) st = read_file(path, kb);
        /* else the child's detail names the file */
    }
    free(path);
    return st;
}

ms_status_t ms_knowledge_ids(const ms_knowledge_t *kb, const ms_dict_t *d, int32_t **out)
{
    *out = malloc((d->count ? d->count : 1) * sizeof **out);
    if (!*out) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (size_t i = 0; i < d->count; i++)
        (*out)[i] = kb ? ms_knowledge_find(kb, d->str[i], strlen(d->str[i])) : -1;
    return MS_OK;
}
