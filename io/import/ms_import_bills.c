/*
 * ms_import_bills.c - pass 2 of service_items.csv, one partition, after its
 * settlements (ms_import_pass2.c): every bill line checked against its
 * settlement (stage 3 made sure there is one, of the same person, so in
 * this partition), then each settlement's lines against each other and
 * against the settlement's cost columns; the lines kept are sorted by
 * (person_id, date, settle_id, line_no) and written.
 *
 * Checks, in this order:
 *   1. line by line, in file order: inst_code the settlement's; date within
 *      its stay (admit_date..discharge_date);
 *   2. line_no unique within its settlement: the later line of a repeat is
 *      the bad one;
 *   3. the settlement's remaining lines add up, category by category, to its
 *      nine cost columns, exactly in fen (a settlement has no lines, or lines
 *      that account for every fen of it).  When they do not, every one of its
 *      lines is bad: the settlement stays, without lines.
 * With skip_bad a bad line goes to rejected.csv (those of check 3 each with
 * the settlement's reason) and the rest go on; without it the first bad
 * line in file order of the first check that finds one is the error, so
 * the answer does not depend on the threads.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_import_int.h"

/* Check 2 and 3's order: a settlement's lines together, by line_no. */
typedef struct {
    uint64_t settle, line;
    uint32_t line_no, idx;
} bill_key_t;

/* The partition's order. */
typedef struct {
    uint64_t person, settle;
    int32_t date;
    uint32_t line_no, idx;
} svc_key_t;

static int bill_key_cmp(const void *a, const void *b)
{
    const bill_key_t *x = a, *y = b;
    if (x->settle != y->settle) return x->settle < y->settle ? -1 : 1;
    if (x->line_no != y->line_no) return x->line_no < y->line_no ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int svc_key_cmp(const void *a, const void *b)
{
    const svc_key_t *x = a, *y = b;
    if (x->person != y->person) return x->person < y->person ? -1 : 1;
    if (x->date != y->date) return x->date < y->date ? -1 : 1;
    if (x->settle != y->settle) return x->settle < y->settle ? -1 : 1;
    return x->line_no < y->line_no ? -1 : x->line_no > y->line_no;
}

static void svc_make_key(const void *rec, uint32_t i, void *key)
{
    const ms_service_item_t *r = &((const svc_rec_t *)rec)->row;
    *(svc_key_t *)key = (svc_key_t){r->person_id, r->settle_id, r->date, r->line_no, i};
}

/* The bad lines of a partition: rejected (skip_bad), or the first in file
 * order remembered as the error. */
typedef struct {
    const import_t *im;
    task_t *t;
    int failed;
    uint64_t line;
    char msg[MSG_MAX];
} bills_bad_t;

static ms_status_t line_bad(bills_bad_t *c, uint64_t line, const char *column, const char *value,
                            const char *reason)
{
    if (c->im->opts->skip_bad)
        return imp_reject_push(&c->t->rejects, IMP_FILE_SERVICE_ITEMS, line, column, value, reason);
    if (!c->failed || line < c->line) {
        c->failed = 1;
        c->line = line;
        snprintf(c->msg, sizeof c->msg, "service_items.csv line %llu, column %s: %s", (unsigned long long)line,
                 column, reason);
    }
    return MS_OK;
}

static ms_status_t bills_error(const bills_bad_t *c) { return ms_error_set(MS_E_INPUT, "%s", c->msg); }

/* Check 1: each line against its settlement; keeps the good ones packed at
 * the front of v and sets *kept. */
static ms_status_t check_lines(bills_bad_t *c, svc_rec_t *v, size_t n, const ms_settlement_t *rows,
                               const sett_index_t *ix, size_t nix, size_t *kept)
{
    const import_t *im = c->im;
    char value[VALUE_SHOWN + 1], reason[REASON_MAX], a[11], b[11];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (imp_is_svc_bad_line(im, v[i].line)) continue; /* rejected in stage 3 */
        ms_service_item_t *r = &v[i].row;
        r->inst_code = im->inst_remap[r->inst_code];
        r->item_code = im->item_remap[r->item_code];
        const sett_index_t *s = imp_sett_find(ix, nix, r->settle_id);
        const char *column = NULL;
        if (!s || s->person != r->person_id) {
            /* stage 3 rejects these; kept as a guard */
            column = "settle_id";
            snprintf(value, sizeof value, "%llu", (unsigned long long)r->settle_id);
            snprintf(reason, sizeof reason, "no settlement with settle_id %llu and person_id %llu (missing or rejected)",
                     (unsigned long long)r->settle_id, (unsigned long long)r->person_id);
        } else if (s->inst != r->inst_code) {
            const char *mine = im->refs.inst[r->inst_code].inst_code;
            column = "inst_code";
            snprintf(value, sizeof value, "%s", mine);
            snprintf(reason, sizeof reason, "inst_code '%s' differs from the inst_code '%s' of settlement %llu", mine,
                     im->refs.inst[s->inst].inst_code, (unsigned long long)r->settle_id);
        } else if (r->date < rows[s->row].admit_date || r->date > rows[s->row].discharge_date) {
            column = "date";
            ms_date_format(r->date, value);
            ms_date_format(rows[s->row].admit_date, a);
            ms_date_format(rows[s->row].discharge_date, b);
            snprintf(reason, sizeof reason, "date %s is outside the stay of settlement %llu (%s..%s)", value,
                     (unsigned long long)r->settle_id, a, b);
        }
        if (column) {
            MS_TRY(line_bad(c, v[i].line, column, value, reason));
            continue;
        }
        if (k != i) v[k] = v[i];
        k++;
    }
    *kept = k;
    return MS_OK;
}

/* Check 3 for one settlement: its lines key[lo, hi) not yet dropped add up
 * to its cost columns, or they all go. */
static ms_status_t check_sums(bills_bad_t *c, const svc_rec_t *v, const bill_key_t *key, size_t lo, size_t hi,
                              uint8_t *drop, const ms_settlement_t *s)
{
    int64_t sum[MS_N_COST_CATEGORIES] = {0};
    int over[MS_N_COST_CATEGORIES] = {0};
    for (size_t i = lo; i < hi; i++) {
        const ms_service_item_t *r = &v[key[i].idx].row;
        if (!drop[key[i].idx]) over[r->category] |= __builtin_add_overflow(sum[r->category], r->amount, &sum[r->category]);
    }
    const ms_column_t *cols = ms_table(MS_TABLE_SETTLEMENTS)->cols;
    int bad = -1;
    int64_t want = 0;
    for (int k = 0; k < MS_N_COST_CATEGORIES && bad < 0; k++) {
        memcpy(&want, (const char *)s + cols[MS_SC_drug + k].offset, sizeof want);
        if (over[k] || sum[k] != want) bad = k;
    }
    if (bad < 0) return MS_OK;
    const char *cat = ms_enum_item_category.names[bad];
    char got[32], has[32], value[VALUE_SHOWN + 1], reason[REASON_MAX];
    if (over[bad])
        snprintf(got, sizeof got, "more than int64");
    else
        ms_money_format(sum[bad], got);
    ms_money_format(want, has);
    snprintf(reason, sizeof reason,
             "the lines of settlement %llu add up to %s yuan in category %s, the settlement's %s is %s yuan%s",
             (unsigned long long)s->settle_id, got, cat, cat, has,
             c->im->opts->skip_bad ? " (the settlement is kept without its lines)" : "");
    /* Without skip_bad one line names it: the category's first, or the
     * settlement's first when no line is in the category. */
    uint64_t first = UINT64_MAX, first_cat = UINT64_MAX;
    for (size_t i = lo; i < hi; i++) {
        const svc_rec_t *x = &v[key[i].idx];
        if (drop[key[i].idx]) continue;
        if (x->line < first) first = x->line;
        if (x->row.category == bad && x->line < first_cat) first_cat = x->line;
        if (!c->im->opts->skip_bad) continue;
        drop[key[i].idx] = 1;
        ms_money_format(x->row.amount, value);
        MS_TRY(line_bad(c, x->line, "amount", value, reason));
    }
    if (!c->im->opts->skip_bad) MS_TRY(line_bad(c, first_cat != UINT64_MAX ? first_cat : first, "amount", "", reason));
    return MS_OK;
}

/* Checks 2 and 3 over the n lines of v that passed check 1: drop[i] set
 * for each line left out. */
static ms_status_t check_bills(bills_bad_t *c, const svc_rec_t *v, size_t n, const ms_settlement_t *rows,
                               const sett_index_t *ix, size_t nix, uint8_t *drop)
{
    bill_key_t *key = malloc((n ? n : 1) * sizeof *key);
    if (!key) return ms_error_set(MS_E_NOMEM, "out of memory checking %zu bill lines", n);
    for (size_t i = 0; i < n; i++)
        key[i] = (bill_key_t){v[i].row.settle_id, v[i].line, v[i].row.line_no, (uint32_t)i};
    qsort(key, n, sizeof *key, bill_key_cmp);
    ms_status_t st = MS_OK;
    char value[24], reason[REASON_MAX];
    /* Check 2: a repeat of (settle_id, line_no), its later line. */
    for (size_t i = 1; i < n && st == MS_OK; i++) {
        if (key[i].settle != key[i - 1].settle || key[i].line_no != key[i - 1].line_no) continue;
        /* the first of the repeat (smallest line) sorts first */
        size_t first = i - 1;
        while (first > 0 && key[first - 1].settle == key[i].settle && key[first - 1].line_no == key[i].line_no)
            first--;
        drop[key[i].idx] = 1;
        snprintf(value, sizeof value, "%u", key[i].line_no);
        snprintf(reason, sizeof reason, "line_no %u repeated in settlement %llu (first at line %llu)", key[i].line_no,
                 (unsigned long long)key[i].settle, (unsigned long long)key[first].line);
        st = line_bad(c, key[i].line, "line_no", value, reason);
    }
    /* Check 3, settlement by settlement (without skip_bad, only when check
     * 2 found nothing: a repeat left out would unbalance its settlement). */
    for (size_t lo = 0, hi; lo < n && st == MS_OK && !c->failed; lo = hi) {
        for (hi = lo + 1; hi < n && key[hi].settle == key[lo].settle; hi++) {}
        const sett_index_t *s = imp_sett_find(ix, nix, key[lo].settle);
        if (s) st = check_sums(c, v, key, lo, hi, drop, &rows[s->row]);
    }
    free(key);
    return st;
}

ms_status_t imp_svc_partition(import_t *im, uint32_t p, task_t *t, const ms_settlement_t *rows,
                              const sett_index_t *ix, size_t nix)
{
    void *data;
    size_t n, kept = 0;
    MS_TRY(imp_spill_load(&im->svc_spill, p, &data, &n));
    if (n > UINT32_MAX) {
        free(data);
        return ms_error_set(MS_E_USAGE, "a partition of %zu bill lines is too large: import with more partitions", n);
    }
    svc_rec_t *v = data;
    size_t off = 0;
    for (uint32_t k = 0; k < im->svc_spill.nsub; k++) {
        size_t cnt = (size_t)im->svc_spill.count[k * im->nparts + p];
        for (size_t i = off; k > 0 && i < off + cnt; i++) v[i].row.item_code = im->xl_item[k][v[i].row.item_code];
        off += cnt;
    }
    bills_bad_t c = {im, t, 0, 0, ""};
    ms_status_t st = check_lines(&c, v, n, rows, ix, nix, &kept);
    if (st == MS_OK && c.failed) st = bills_error(&c);
    uint8_t *drop = NULL;
    if (st == MS_OK) {
        drop = calloc(kept ? kept : 1, 1);
        st = drop ? check_bills(&c, v, kept, rows, ix, nix, drop) : ms_error_set(MS_E_NOMEM, "out of memory");
    }
    if (st == MS_OK && c.failed) st = bills_error(&c);
    size_t m = 0;
    for (size_t i = 0; st == MS_OK && i < kept; i++) {
        if (drop[i]) continue;
        if (m != i) v[m] = v[i];
        m++;
    }
    free(drop);
    if (st == MS_OK) {
        svc_rec_t tmp;
        st = imp_sort_records(v, sizeof *v, m, "bill lines", sizeof(svc_key_t), offsetof(svc_key_t, idx),
                              svc_make_key, svc_key_cmp, &tmp);
    }
    if (st == MS_OK) {
        imp_strip_lines(data, sizeof *v, sizeof(ms_service_item_t), m);
        st = imp_write_partition(im, MS_TABLE_SERVICE_ITEMS, p, data, m);
    }
    t->rows[MS_TABLE_SERVICE_ITEMS] = m;
    free(data);
    return st;
}
