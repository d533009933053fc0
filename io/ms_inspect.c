/*
 * ms_inspect.c - medsweep inspect [--verify].
 *
 * Verification is per partition: each partition's report goes to its own
 * memory stream and the streams are printed in partition order after the
 * parallel loop, so the output does not depend on scheduling.  A drug item
 * or bill line partition is checked against the settlements partition of
 * the same number (loaded sorted by settle_id); a bill line partition's
 * lines are also gathered by settlement at the end, for line_no unique
 * within a settlement and the lines adding up to its cost columns.
 */
#include "ms_inspect.h"

#include <hdf5.h>
#include <libgen.h>
#include <stdarg.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ms_dataset.h"
#include "ms_fs.h"
#include "ms_h5util.h"
#include "ms_knowledge.h"
#include "ms_part.h"
#include "ms_reader.h"
#include "ms_search.h"

#define VERIFY_BATCH 65536

/* ---------------------------------------------------------- reporting */

typedef struct {
    FILE *fp;              /* this partition's report */
    const char *name;      /* "settlements/part-00003.h5" */
    unsigned max_reports;
    uint64_t violations;
    uint64_t rows;
} report_t;

static void violation(report_t *r, uint64_t row, uint64_t settle_id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void violation(report_t *r, uint64_t row, uint64_t settle_id, const char *fmt, ...)
{
    if (r->violations++ >= r->max_reports) return;
    if (row == UINT64_MAX) fprintf(r->fp, "  VIOLATION %s: ", r->name);
    else fprintf(r->fp, "  VIOLATION %s row %llu (settle_id %llu): ", r->name,
                 (unsigned long long)row, (unsigned long long)settle_id);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(r->fp, fmt, ap);
    va_end(ap);
    fputc('\n', r->fp);
}

/* Gather row i of a batch into a row struct of table t. */
static void row_from_batch(const ms_table_t *t, const ms_batch_t *b, size_t i, void *row)
{
    for (int c = 0; c < t->ncols; c++) {
        size_t es = ms_ctype_size(t->cols[c].type);
        memcpy((char *)row + t->cols[c].offset, (const char *)b->col[c] + i * es, es);
    }
}

/* ----------------------------------------------------------- settlements */

typedef struct {
    const ms_refs_t *refs;  /* NULL: code ranges are not checked */
    uint32_t index, count;
    int32_t min_date, max_date;
    int have_prev;
    uint64_t prev_pid, prev_sid;
    int32_t prev_date;
} verify_ctx_t;

static int region_ok(int32_t r) { return r >= 100000 && r <= 999999; }

/* a < b: -1, a == b: 0, a > b: 1. */
#define CMP3(a, b) ((a) > (b) ? 1 : (a) < (b) ? -1 : 0)

/* Where a row stands, as every table checks it: in its person's partition,
 * and after the row before in the order (person_id, date, settle_id, then
 * the table's own key: tail, CMP3 of its value and the row before's), which
 * key names.  Remembers the row as the one before; returns its order
 * against the row before (1 for the first row). */
static int check_place(verify_ctx_t *v, report_t *r, uint64_t row, uint64_t person_id, int32_t date,
                       uint64_t settle_id, int tail, const char *key)
{
    if (ms_person_partition(person_id, v->count) != v->index)
        violation(r, row, settle_id, "person %llu belongs to partition %u", (unsigned long long)person_id,
                  ms_person_partition(person_id, v->count));
    int order = 1;
    if (v->have_prev) {
        order = person_id != v->prev_pid   ? CMP3(person_id, v->prev_pid)
                : date != v->prev_date     ? CMP3(date, v->prev_date)
                : settle_id != v->prev_sid ? CMP3(settle_id, v->prev_sid)
                                           : tail;
        if (order < 0) violation(r, row, settle_id, "rows not sorted by (%s)", key);
    }
    v->have_prev = 1;
    v->prev_pid = person_id;
    v->prev_date = date;
    v->prev_sid = settle_id;
    return order;
}

/* A row's date, for the partition's min_date and max_date. */
static void see_date(verify_ctx_t *v, int32_t date)
{
    if (date < v->min_date) v->min_date = date;
    if (date > v->max_date) v->max_date = date;
}

static void check_settlement(verify_ctx_t *v, report_t *r, uint64_t row, const ms_settlement_t *s)
{
    const ms_refs_t *refs = v->refs;
    uint64_t id = s->settle_id;
    /* Every amount within the contract's limit first: then the sums below
     * cannot overflow (docs/schema.md, Limits). */
    const int64_t money[] = {s->total, s->fund_pay, s->self_pay, s->drug, s->exam, s->lab, s->consumable,
                             s->treatment, s->surgery, s->bed, s->nursing, s->other};
    int within = 1;
    for (size_t k = 0; k < sizeof money / sizeof money[0]; k++) within &= money[k] <= MS_MONEY_MAX_FEN && money[k] >= -MS_MONEY_MAX_FEN;
    if (!within) violation(r, row, id, "an amount is above the limit of %lld fen per record", (long long)MS_MONEY_MAX_FEN);
    if (within && s->fund_pay + s->self_pay != s->total)
        violation(r, row, id, "fund_pay + self_pay != total (%lld + %lld != %lld fen)",
                  (long long)s->fund_pay, (long long)s->self_pay, (long long)s->total);
    int64_t cat = within ? s->drug + s->exam + s->lab + s->consumable + s->treatment + s->surgery + s->bed +
                               s->nursing + s->other
                         : s->total;
    if (cat != s->total)
        violation(r, row, id, "cost categories add up to %lld fen, total is %lld",
                  (long long)cat, (long long)s->total);
    if (s->settle_date < MS_DAY_MIN || s->settle_date > MS_DAY_MAX || s->admit_date < MS_DAY_MIN)
        violation(r, row, id, "a date outside the contract's window 1900-01-01..2199-12-31");
    if (s->total < 0 || s->fund_pay < 0 || s->self_pay < 0 || s->drug < 0 || s->exam < 0 ||
        s->lab < 0 || s->consumable < 0 || s->treatment < 0 || s->surgery < 0 || s->bed < 0 ||
        s->nursing < 0 || s->other < 0)
        violation(r, row, id, "negative amount");
    if (s->discharge_date < s->admit_date) violation(r, row, id, "discharge_date before admit_date");
    if (s->settle_date < s->discharge_date) violation(r, row, id, "settle_date before discharge_date");
    if (s->visit_type != MS_VISIT_INPATIENT &&
        (s->admit_date != s->settle_date || s->discharge_date != s->settle_date))
        violation(r, row, id, "outpatient/pharmacy dates differ from settle_date");
    if (s->visit_type >= ms_enum_visit_type.count) violation(r, row, id, "unknown visit_type %u", s->visit_type);
    if (s->sex >= ms_enum_sex.count) violation(r, row, id, "unknown sex %u", s->sex);
    if (s->dept >= ms_enum_dept.count) violation(r, row, id, "unknown dept %u", s->dept);
    if (s->pay_scheme >= ms_enum_pay_scheme.count) violation(r, row, id, "unknown pay_scheme %u", s->pay_scheme);
    if (s->age > 120) violation(r, row, id, "age %u out of 0-120", s->age);
    if (s->n_diag < 1 || s->n_diag > 50) violation(r, row, id, "n_diag %u out of 1-50", s->n_diag);
    if (!region_ok(s->person_region)) violation(r, row, id, "person_region %d is not 6 digits", s->person_region);
    if (s->pay_scheme != MS_PAY_FFS && s->group_code < 0)
        violation(r, row, id, "drg/dip settlement without group_code");
    if (refs) {
        if (s->inst_code < 0 || (size_t)s->inst_code >= refs->n_inst)
            violation(r, row, id, "unknown inst_code id %d", s->inst_code);
        if (s->group_code < -1 || (s->group_code >= 0 && (size_t)s->group_code >= refs->n_groups))
            violation(r, row, id, "unknown group_code id %d", s->group_code);
        if (s->diag_main < 0 || (size_t)s->diag_main >= refs->diagnoses.count)
            violation(r, row, id, "unknown diag_main id %d", s->diag_main);
        if (s->proc_main < -1 || (s->proc_main >= 0 && (size_t)s->proc_main >= refs->procedures.count))
            violation(r, row, id, "unknown proc_main id %d", s->proc_main);
    }
    if (check_place(v, r, row, s->person_id, s->admit_date, id, 0, "person_id, admit_date, settle_id") == 0)
        violation(r, row, id, "settle_id repeated");
    see_date(v, s->settle_date);
}

/* ------------------------------------------------- drug items, bill lines */

/* A settlement as its items see it (the stay and the cost columns only
 * when bill lines are checked). */
typedef struct {
    uint64_t settle_id, person_id;
    int32_t inst;
    int32_t admit, discharge;
    int64_t cat[MS_N_COST_CATEGORIES];
} sref_t;

/* A bill line as its settlement's checks need it (gathered, then sorted). */
typedef struct {
    uint64_t settle_id, row;
    int64_t amount;
    uint32_t line_no;
    uint8_t category;
} bill_t;

static int cmp_sref(const void *a, const void *b)
{
    uint64_t x = ((const sref_t *)a)->settle_id, y = ((const sref_t *)b)->settle_id;
    return x < y ? -1 : x > y;
}

typedef struct {
    const sref_t *s;
    uint64_t id;
} sref_key_t;

static int sref_below(const void *ctx, size_t i)
{
    const sref_key_t *k = ctx;
    return k->s[i].settle_id < k->id;
}

static const sref_t *sref_find(const sref_t *s, size_t n, uint64_t id)
{
    sref_key_t k = {s, id};
    size_t i = ms_lower_bound(n, sref_below, &k);
    return i < n && s[i].settle_id == id ? &s[i] : NULL;
}

typedef struct {
    verify_ctx_t v;
    const sref_t *settle;   /* the same partition's settlements, by settle_id */
    size_t nsettle;
    uint64_t prev_hi, prev_lo; /* drug items */
    uint32_t prev_line_no;     /* bill lines */
    bill_t *bill;              /* bill lines: [nbill], for the checks by settlement */
    size_t nbill, capbill;
    int bill_nomem;
} drug_ctx_t;

#define TEN10 10000000000ull

/* The settlement of a drug item or bill line (what: "drug item's"): in the
 * matching settlements partition, of the same person and institution.
 * Returns it, or NULL when it is not (a violation). */
static const sref_t *settlement_of(const drug_ctx_t *d, report_t *r, uint64_t row, const char *what,
                                   uint64_t settle_id, uint64_t person_id, int32_t inst)
{
    const sref_t *s = sref_find(d->settle, d->nsettle, settle_id);
    if (!s) {
        violation(r, row, settle_id, "%s settlement is not in the matching settlements partition", what);
    } else if (s->person_id != person_id || s->inst != inst) {
        violation(r, row, settle_id, "%s person or institution differs from its settlement's", what);
        s = NULL;
    }
    return s;
}

static void check_drug(drug_ctx_t *d, report_t *r, uint64_t row, const ms_drug_item_t *x)
{
    verify_ctx_t *v = &d->v;
    uint64_t id = x->settle_id;
    if (x->trace_hi >= TEN10 || x->trace_lo >= TEN10) violation(r, row, id, "trace_code is not 20 digits");
    if (x->qty < 1) violation(r, row, id, "qty %u below 1", x->qty);
    if (x->amount < 0) violation(r, row, id, "negative amount");
    if (v->refs) {
        if (x->inst_code < 0 || (size_t)x->inst_code >= v->refs->n_inst)
            violation(r, row, id, "unknown inst_code id %d", x->inst_code);
        if (x->drug_code < 0 || (size_t)x->drug_code >= v->refs->drugs.count)
            violation(r, row, id, "unknown drug_code id %d", x->drug_code);
    }
    if (d->settle) settlement_of(d, r, row, "drug item's", x->settle_id, x->person_id, x->inst_code);
    int trace = x->trace_hi != d->prev_hi ? CMP3(x->trace_hi, d->prev_hi) : CMP3(x->trace_lo, d->prev_lo);
    check_place(v, r, row, x->person_id, x->date, id, trace, "person_id, date, settle_id, trace_code");
    d->prev_hi = x->trace_hi;
    d->prev_lo = x->trace_lo;
    see_date(v, x->date);
}

/* One bill line (a row of service_items). */
static void check_bill(drug_ctx_t *d, report_t *r, uint64_t row, const ms_service_item_t *x)
{
    verify_ctx_t *v = &d->v;
    uint64_t id = x->settle_id;
    if (x->line_no < 1) violation(r, row, id, "line_no 0");
    if (x->category >= ms_enum_item_category.count) violation(r, row, id, "unknown category %u", x->category);
    if (x->qty < 1 || x->qty > MS_ITEM_QTY_MAX_MILLI)
        violation(r, row, id, "qty %lld thousandths out of 1-%lld", (long long)x->qty,
                  (long long)MS_ITEM_QTY_MAX_MILLI);
    if (x->unit_price < 0 || x->unit_price > MS_UNIT_PRICE_MAX)
        violation(r, row, id, "unit_price %lld out of 0-%lld ten-thousandths of a yuan", (long long)x->unit_price,
                  (long long)MS_UNIT_PRICE_MAX);
    if (x->amount < 0 || x->amount > MS_MONEY_MAX_FEN)
        violation(r, row, id, "amount %lld fen out of 0-%lld", (long long)x->amount, (long long)MS_MONEY_MAX_FEN);
    if (x->days_supply < 0 || x->days_supply > MS_DAYS_SUPPLY_MAX)
        violation(r, row, id, "days_supply %d out of 0-%d", x->days_supply, MS_DAYS_SUPPLY_MAX);
    if (x->date < MS_DAY_MIN || x->date > MS_DAY_MAX)
        violation(r, row, id, "a date outside the contract's window 1900-01-01..2199-12-31");
    if (v->refs) {
        if (x->inst_code < 0 || (size_t)x->inst_code >= v->refs->n_inst)
            violation(r, row, id, "unknown inst_code id %d", x->inst_code);
        if (x->item_code < 0 || (size_t)x->item_code >= v->refs->items.count)
            violation(r, row, id, "unknown item_code id %d", x->item_code);
    }
    if (d->settle) {
        const sref_t *s = settlement_of(d, r, row, "bill line's", x->settle_id, x->person_id, x->inst_code);
        if (s && (x->date < s->admit || x->date > s->discharge))
            violation(r, row, id, "bill line's date is outside its settlement's stay");
        if (d->nbill == d->capbill && !d->bill_nomem) {
            size_t nc = d->capbill ? 2 * d->capbill : 4096;
            bill_t *nb = realloc(d->bill, nc * sizeof *nb);
            if (nb) d->bill = nb, d->capbill = nc;
            else d->bill_nomem = 1;
        }
        if (d->nbill < d->capbill)
            d->bill[d->nbill++] = (bill_t){x->settle_id, row, x->amount, x->line_no, x->category};
    }
    check_place(v, r, row, x->person_id, x->date, id, CMP3(x->line_no, d->prev_line_no),
                "person_id, date, settle_id, line_no");
    d->prev_line_no = x->line_no;
    see_date(v, x->date);
}

static int cmp_bill(const void *a, const void *b)
{
    const bill_t *x = a, *y = b;
    if (x->settle_id != y->settle_id) return x->settle_id < y->settle_id ? -1 : 1;
    if (x->line_no != y->line_no) return x->line_no < y->line_no ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* The gathered bill lines by settlement: line_no unique within it, and
 * the lines adding up, category by category, to its cost columns. */
static void check_bills(drug_ctx_t *d, report_t *r)
{
    if (d->bill_nomem) {
        violation(r, UINT64_MAX, 0, "out of memory: the bill lines were not checked against their settlements' sums");
        return;
    }
    bill_t *b = d->bill;
    size_t n = d->nbill;
    if (n > 1) qsort(b, n, sizeof *b, cmp_bill);
    for (size_t lo = 0, hi; lo < n; lo = hi) {
        int64_t sum[MS_N_COST_CATEGORIES] = {0};
        int over = 0;
        for (hi = lo; hi < n && b[hi].settle_id == b[lo].settle_id; hi++) {
            if (hi > lo && b[hi].line_no == b[hi - 1].line_no)
                violation(r, b[hi].row, b[hi].settle_id, "line_no %u repeated in the settlement (row %llu)",
                          b[hi].line_no, (unsigned long long)b[hi - 1].row);
            if (b[hi].category < MS_N_COST_CATEGORIES)
                over |= __builtin_add_overflow(sum[b[hi].category], b[hi].amount, &sum[b[hi].category]);
        }
        const sref_t *s = sref_find(d->settle, d->nsettle, b[lo].settle_id);
        if (!s) continue; /* reported line by line */
        for (int k = 0; k < MS_N_COST_CATEGORIES; k++) {
            if (!over && sum[k] == s->cat[k]) continue;
            violation(r, b[lo].row, b[lo].settle_id,
                      "the settlement's lines add up to %lld fen in category %s, the settlement's %s is %lld fen",
                      over ? -1ll : (long long)sum[k], ms_enum_item_category.names[k], ms_enum_item_category.names[k],
                      (long long)s->cat[k]);
            break;
        }
    }
}

/* Load settle_id/person_id/inst of a settlements partition (with stay:
 * its dates and cost columns too), sorted by settle_id. */
static ms_status_t load_srefs(const char *path, const ms_refs_t *refs, int stay, sref_t **out, size_t *n)
{
    ms_part_t *p = NULL;
    ms_reader_t *rd = NULL;
    *out = NULL;
    *n = 0;
    MS_TRY(ms_part_open(path, ms_table(MS_TABLE_SETTLEMENTS), refs, &p));
    uint64_t rows = ms_part_info(p)->rows;
    sref_t *s = malloc((rows ? rows : 1) * sizeof *s);
    ms_status_t st = s ? MS_OK : ms_error_set(MS_E_NOMEM, "out of memory");
    uint64_t cols = 1ull << MS_SC_settle_id | 1ull << MS_SC_person_id | 1ull << MS_SC_inst_code;
    if (stay) {
        cols |= 1ull << MS_SC_admit_date | 1ull << MS_SC_discharge_date;
        for (int k = 0; k < MS_N_COST_CATEGORIES; k++) cols |= 1ull << (MS_SC_drug + k);
    }
    if (st == MS_OK)
        st = ms_reader_open(p, cols, 0, ms_part_nchunks(p), VERIFY_BATCH, MS_READ_PREAD, &rd);
    size_t k = 0;
    ms_batch_t b;
    while (st == MS_OK && (st = ms_reader_next(rd, &b)) == MS_OK && b.rows) {
        const uint64_t *sid = b.col[MS_SC_settle_id], *pid = b.col[MS_SC_person_id];
        const int32_t *inst = b.col[MS_SC_inst_code];
        for (size_t i = 0; i < b.rows && k < rows; i++, k++) {
            s[k] = (sref_t){.settle_id = sid[i], .person_id = pid[i], .inst = inst[i]};
            if (!stay) continue;
            s[k].admit = ((const int32_t *)b.col[MS_SC_admit_date])[i];
            s[k].discharge = ((const int32_t *)b.col[MS_SC_discharge_date])[i];
            for (int c = 0; c < MS_N_COST_CATEGORIES; c++) s[k].cat[c] = ((const int64_t *)b.col[MS_SC_drug + c])[i];
        }
    }
    ms_reader_close(rd);
    ms_part_close(p);
    if (st != MS_OK) {
        free(s);
        return st;
    }
    qsort(s, k, sizeof *s, cmp_sref);
    *out = s;
    *n = k;
    return MS_OK;
}

/* ------------------------------------------------------------ partitions */

typedef struct {
    uint64_t rows, stored, raw, file_bytes;
    int32_t min_date, max_date;
    int ok;                   /* opened */
} part_summary_t;

static void summarize(const ms_part_t *p, const char *path, part_summary_t *s)
{
    const ms_part_info_t *info = ms_part_info(p);
    const ms_table_t *t = ms_part_table(p);
    struct stat sb;
    s->ok = 1;
    s->rows = info->rows;
    s->min_date = info->min_date;
    s->max_date = info->max_date;
    s->stored = s->raw = 0;
    for (int c = 0; c < t->ncols; c++) {
        s->stored += ms_part_stored_bytes(p, c);
        s->raw += info->rows * ms_ctype_size(t->cols[c].type);
    }
    s->file_bytes = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

/* Verify one open partition; findings go to r. */
static ms_status_t verify_part(const ms_part_t *p, const ms_refs_t *refs, const sref_t *settle,
                               size_t nsettle, uint32_t index, uint32_t count, report_t *r)
{
    const ms_table_t *t = ms_part_table(p);
    const ms_part_info_t *info = ms_part_info(p);
    char why[2][128];
    int nwhy = ms_dataset_part_misplaced(info, index, count, why);
    for (int k = 0; k < nwhy; k++) violation(r, UINT64_MAX, 0, "%s", why[k]);
    drug_ctx_t d;
    memset(&d, 0, sizeof d);
    d.v.refs = refs;
    d.v.index = info->index;
    d.v.count = info->count;
    d.v.min_date = INT32_MAX;
    d.v.max_date = INT32_MIN;
    d.settle = settle;
    d.nsettle = nsettle;
    ms_reader_t *rd = NULL;
    MS_TRY(ms_reader_open(p, MS_ALL_COLUMNS(t), 0, ms_part_nchunks(p), VERIFY_BATCH, MS_READ_PREAD, &rd));
    ms_batch_t b;
    ms_status_t st;
    union { ms_settlement_t s; ms_drug_item_t d; ms_service_item_t b; } row;
    while ((st = ms_reader_next(rd, &b)) == MS_OK && b.rows) {
        for (size_t i = 0; i < b.rows; i++) {
            row_from_batch(t, &b, i, &row);
            if (t->id == MS_TABLE_SETTLEMENTS) check_settlement(&d.v, r, b.first_row + i, &row.s);
            else if (t->id == MS_TABLE_DRUG_ITEMS) check_drug(&d, r, b.first_row + i, &row.d);
            else check_bill(&d, r, b.first_row + i, &row.b);
        }
        r->rows += b.rows;
    }
    ms_reader_close(rd);
    if (st == MS_OK && t->id == MS_TABLE_SERVICE_ITEMS && settle) check_bills(&d, r);
    free(d.bill);
    if (st != MS_OK) return st;
    if (r->rows != info->rows)
        violation(r, UINT64_MAX, 0, "read %llu rows, row_count says %llu", (unsigned long long)r->rows,
                  (unsigned long long)info->rows);
    if (info->rows > 0 && (d.v.min_date != info->min_date || d.v.max_date != info->max_date))
        violation(r, UINT64_MAX, 0, "min_date/max_date attributes do not match the rows");
    return MS_OK;
}

static void fmt_bytes(uint64_t b, char *out, size_t cap)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    int i = 0;
    while (v >= 1024 && i < 4) v /= 1024, i++;
    snprintf(out, cap, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void fmt_range(int32_t lo, int32_t hi, char *out)
{
    if (hi < lo) {
        strcpy(out, "(empty)");
        return;
    }
    ms_date_format(lo, out);
    out[10] = ' ';
    out[11] = '.';
    out[12] = '.';
    out[13] = ' ';
    ms_date_format(hi, out + 14);
}

/* Did the partition set find file k of table t damaged (its probe crashed)?
 * Such a file is reported with the set and never opened here: the threads
 * below would take the process down with it. */
static int damaged(const ms_partset_t *set, ms_table_id_t t, uint32_t k)
{
    return set->damaged[t] && k < set->nfiles[t] && set->damaged[t][k];
}

/* Inspect (and verify) every partition of one table. */
static ms_status_t inspect_table(const ms_dataset_t *ds, const ms_partset_t *set, const ms_table_t *t,
                                 const ms_inspect_opts_t *o, FILE *out, ms_inspect_result_t *res)
{
    uint32_t count = set->count;
    uint32_t n = ds->nparts[t->id];
    if (n == 0) {
        fprintf(out, "\n%s: no partitions\n", t->name);
        return MS_OK;
    }
    part_summary_t *sum = calloc(n, sizeof *sum);
    char **reports = calloc(n, sizeof *reports);
    size_t *report_len = calloc(n, sizeof *report_len);
    uint64_t *viol = calloc(n, sizeof *viol), *rows = calloc(n, sizeof *rows);
    if (!sum || !reports || !report_len || !viol || !rows) {
        free(sum), free(reports), free(report_len), free(viol), free(rows);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    unsigned maxr = o->max_reports ? o->max_reports : 20;
    int threads = o->threads > 0 ? o->threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic) num_threads(threads)
    for (uint32_t k = 0; k < n; k++) {
        char path[4096], name[64];
        ms_dataset_part_path(ds->dir, t, k, path, sizeof path);
        snprintf(name, sizeof name, "%s/part-%05u.h5", t->name, k);
        report_t r = {open_memstream(&reports[k], &report_len[k]), name, maxr, 0, 0};
        ms_part_t *p = NULL;
        int skip = damaged(set, t->id, k); /* a VIOLATION of the set already */
        ms_status_t st = skip ? MS_E_CORRUPT : ms_part_open(path, t, &ds->refs, &p);
        sref_t *settle = NULL;
        size_t nsettle = 0;
        if (st == MS_OK) {
            summarize(p, path, &sum[k]);
            if (o->verify && t->id != MS_TABLE_SETTLEMENTS && k < ds->nparts[MS_TABLE_SETTLEMENTS] &&
                !damaged(set, MS_TABLE_SETTLEMENTS, k)) {
                char spath[4096];
                ms_dataset_part_path(ds->dir, ms_table(MS_TABLE_SETTLEMENTS), k, spath, sizeof spath);
                st = load_srefs(spath, &ds->refs, t->id == MS_TABLE_SERVICE_ITEMS, &settle, &nsettle);
                if (st != MS_OK) {
                    violation(&r, UINT64_MAX, 0, "cannot check against settlements: %s", ms_error_detail());
                    st = MS_OK;
                }
            }
            if (st == MS_OK && o->verify) st = verify_part(p, &ds->refs, settle, nsettle, k, count, &r);
        }
        if (st != MS_OK && !skip) violation(&r, UINT64_MAX, 0, "%s", ms_error_detail());
        if (r.violations > maxr)
            fprintf(r.fp, "  ... %llu more violations in %s\n",
                    (unsigned long long)(r.violations - maxr), name);
        fclose(r.fp);
        viol[k] = r.violations;
        rows[k] = r.rows;
        free(settle);
        ms_part_close(p);
    }
    part_summary_t tot = {0, 0, 0, 0, INT32_MAX, INT32_MIN, 0};
    for (uint32_t k = 0; k < n; k++) {
        if (!sum[k].ok) continue;
        tot.rows += sum[k].rows;
        tot.stored += sum[k].stored;
        tot.raw += sum[k].raw;
        tot.file_bytes += sum[k].file_bytes;
        if (sum[k].rows && sum[k].min_date < tot.min_date) tot.min_date = sum[k].min_date;
        if (sum[k].rows && sum[k].max_date > tot.max_date) tot.max_date = sum[k].max_date;
    }
    char range[32], fb[32], rb[32];
    fmt_range(tot.min_date, tot.max_date, range);
    fmt_bytes(tot.file_bytes, fb, sizeof fb);
    fmt_bytes(tot.raw, rb, sizeof rb);
    fprintf(out, "\n%s: %u partitions, %llu rows, dates %s\n", t->name, n,
            (unsigned long long)tot.rows, range);
    fprintf(out, "  on disk %s, uncompressed %s, compression ratio %.2f\n", fb, rb,
            tot.stored ? (double)tot.raw / (double)tot.stored : 0.0);
    fprintf(out, "  %-22s %12s  %-24s %10s %7s\n", "partition", "rows", "dates", "size", "ratio");
    for (uint32_t k = 0; k < n; k++) {
        char name[64];
        snprintf(name, sizeof name, "part-%05u.h5", k);
        if (!sum[k].ok) {
            fprintf(out, "  %-22s %12s\n", name, "UNREADABLE");
        } else {
            fmt_range(sum[k].min_date, sum[k].max_date, range);
            fmt_bytes(sum[k].file_bytes, fb, sizeof fb);
            fprintf(out, "  %-22s %12llu  %-24s %10s %7.2f\n", name, (unsigned long long)sum[k].rows,
                    range, fb, sum[k].stored ? (double)sum[k].raw / (double)sum[k].stored : 0.0);
        }
        if (report_len[k]) fputs(reports[k], out);
        res->violations += viol[k];
        res->rows += rows[k];
    }
    for (uint32_t k = 0; k < n; k++) free(reports[k]);
    free(sum), free(reports), free(report_len), free(viol), free(rows);
    return MS_OK;
}

/* DIR/knowledge.h5, when there is one: read whole (its checksum checked
 * against its content); a failure is a violation of the dataset. */
static void inspect_knowledge(const char *dir, FILE *out, ms_inspect_result_t *res)
{
    if (!ms_knowledge_present(dir)) {
        fprintf(out, "  knowledge.h5: none (no knowledge base)\n");
        return;
    }
    ms_knowledge_t kb;
    memset(&kb, 0, sizeof kb);
    if (ms_knowledge_read(dir, &kb) == MS_OK) {
        fprintf(out, "  knowledge.h5: %zu items, %zu exclusive pairs, checksum %016llx (verified)\n", kb.n_items,
                kb.n_exclusive, (unsigned long long)kb.checksum);
        ms_knowledge_free(&kb);
    } else {
        fprintf(out, "  VIOLATION: knowledge.h5: %s\n", ms_error_detail());
        res->violations++;
    }
}

static ms_status_t inspect_dataset(const char *dir, const ms_inspect_opts_t *o, FILE *out,
                                   ms_inspect_result_t *res)
{
    ms_dataset_t ds;
    MS_TRY(ms_dataset_open(dir, &ds));
    char sum[40];
    ms_refs_checksum_text(&ds.refs, sum);
    fprintf(out, "dataset %s (schema version %d)\n", dir, MS_SCHEMA_VERSION);
    fprintf(out, "  institutions.h5: %zu institutions\n", ds.refs.n_inst);
    fprintf(out, "  groups.h5: %zu groups, %zu diagnoses, %zu procedures, %zu drugs",
            ds.refs.n_groups, ds.refs.diagnoses.count, ds.refs.procedures.count, ds.refs.drugs.count);
    if (ds.refs.items.count) fprintf(out, ", %zu bill items", ds.refs.items.count);
    fputc('\n', out);
    fprintf(out, "  reference checksum %s\n", sum);
    inspect_knowledge(dir, out, res);
    /* The partition set against what the partitions record (a partition
     * file that records another number or count is reported with it). */
    ms_partset_t set;
    ms_status_t st = ms_dataset_partset(&ds, &set);
    for (size_t k = 0; st == MS_OK && k < set.nfaults; k++)
        if (set.fault[k].kind != MS_PART_MISPLACED)
            fprintf(out, "  VIOLATION: %s\n", set.fault[k].why), res->violations++;
    for (int t = 0; st == MS_OK && t < MS_TABLE_COUNT; t++)
        st = inspect_table(&ds, &set, ms_table((ms_table_id_t)t), o, out, res);
    ms_partset_free(&set);
    ms_dataset_close(&ds);
    return st;
}

/* One file: which table or reference file it is, and its description. */
static ms_status_t inspect_file(const char *path, const ms_inspect_opts_t *o, FILE *out,
                                ms_inspect_result_t *res)
{
    MS_TRY(ms_h5_init());
    /* Damaged metadata can crash HDF5: a child reads it first (no threads yet). */
    ms_probe_t verdict;
    MS_TRY(ms_part_probe(path, NULL, NULL, NULL, &verdict, NULL));
    if (verdict == MS_PROBE_DAMAGED) return MS_E_CORRUPT; /* the detail names the file */
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return ms_error_set(MS_E_CORRUPT, "%s: not a readable HDF5 file (truncated or damaged)", path);
    int table = -1, ref = 0, kb = 0;
    for (int t = 0; t < MS_TABLE_COUNT; t++)
        if (H5Lexists(f, ms_table((ms_table_id_t)t)->name, H5P_DEFAULT) > 0) table = t;
    if (H5Lexists(f, "institutions", H5P_DEFAULT) > 0 || H5Lexists(f, "groups", H5P_DEFAULT) > 0) ref = 1;
    else if (H5Lexists(f, "items", H5P_DEFAULT) > 0 && H5Lexists(f, "exclusive", H5P_DEFAULT) > 0) kb = 1;
    H5Fclose(f);
    if (kb) {
        /* The knowledge base: read through its dataset's directory. */
        char *copy = strdup(path), *base = strdup(path);
        ms_status_t st = copy && base ? MS_OK : ms_error_set(MS_E_NOMEM, "out of memory");
        if (st == MS_OK && strcmp(basename(base), "knowledge.h5") != 0)
            st = ms_error_set(MS_E_SCHEMA, "%s: a knowledge base is read as DATASET/knowledge.h5", path);
        ms_knowledge_t k;
        memset(&k, 0, sizeof k);
        if (st == MS_OK) st = ms_knowledge_read(dirname(copy), &k);
        if (st == MS_OK) {
            fprintf(out, "knowledge base %s (checksum verified)\n", path);
            fprintf(out, "  %zu items, %zu exclusive pairs, checksum %016llx\n", k.n_items, k.n_exclusive,
                    (unsigned long long)k.checksum);
            ms_knowledge_free(&k);
        }
        free(copy);
        free(base);
        return st;
    }
    if (ref) {
        /* A reference file: read the pair from its directory. */
        char *copy = strdup(path);
        ms_refs_t refs;
        ms_status_t st = copy ? ms_refs_read(dirname(copy), &refs) : ms_error_set(MS_E_NOMEM, "oom");
        if (st == MS_OK) {
            fprintf(out, "reference file %s (checksums verified)\n", path);
            fprintf(out, "  %zu institutions; %zu groups, %zu diagnoses, %zu procedures, %zu drugs, %zu bill items\n",
                    refs.n_inst, refs.n_groups, refs.diagnoses.count, refs.procedures.count,
                    refs.drugs.count, refs.items.count);
            ms_refs_free(&refs);
        }
        free(copy);
        return st;
    }
    if (table < 0) return ms_error_set(MS_E_SCHEMA, "%s: neither a partition nor a reference file", path);
    const ms_table_t *t = ms_table((ms_table_id_t)table);
    /* The dataset directory is two levels up: DIR/<table>/part-N.h5. */
    char *copy = strdup(path);
    if (!copy) return ms_error_set(MS_E_NOMEM, "out of memory");
    char *dir = dirname(dirname(copy));
    ms_refs_t refs;
    int have_refs = ms_refs_read(dir, &refs) == MS_OK;
    ms_part_t *p = NULL;
    ms_status_t st = ms_part_open(path, t, have_refs ? &refs : NULL, &p);
    if (st == MS_OK) {
        const ms_part_info_t *info = ms_part_info(p);
        part_summary_t s;
        char range[32], fb[32];
        summarize(p, path, &s);
        fmt_range(s.min_date, s.max_date, range);
        fmt_bytes(s.file_bytes, fb, sizeof fb);
        fprintf(out, "partition %s\n  table %s, partition %u of %u, schema version %d\n", path, t->name,
                info->index, info->count, MS_SCHEMA_VERSION);
        fprintf(out, "  %llu rows in %zu chunks of %u rows, dates %s\n", (unsigned long long)info->rows,
                ms_part_nchunks(p), info->chunk_rows, range);
        fprintf(out, "  %s on disk, compression ratio %.2f, reference checksum %s%s\n", fb,
                s.stored ? (double)s.raw / (double)s.stored : 0.0, info->ref_checksum,
                have_refs ? " (matches)" : " (reference files not found: codes not checked)");
        if (o->verify) {
            report_t r = {out, path, o->max_reports ? o->max_reports : 20, 0, 0};
            st = verify_part(p, have_refs ? &refs : NULL, NULL, 0, info->index, info->count, &r);
            if (st != MS_OK) {
                violation(&r, UINT64_MAX, 0, "%s", ms_error_detail());
                st = MS_OK;
            }
            res->violations += r.violations;
            res->rows += r.rows;
        }
        ms_part_close(p);
    }
    if (have_refs) ms_refs_free(&refs);
    free(copy);
    return st;
}

ms_status_t ms_inspect(const char *path, const ms_inspect_opts_t *o, FILE *out,
                       ms_inspect_result_t *res)
{
    memset(res, 0, sizeof *res);
    ms_status_t st = ms_is_dir(path) ? inspect_dataset(path, o, out, res) : inspect_file(path, o, out, res);
    if (st != MS_OK) return st;
    if (o->verify) {
        fprintf(out, "\nverify: %llu rows checked, %llu violations\n", (unsigned long long)res->rows,
                (unsigned long long)res->violations);
        if (res->violations)
            return ms_error_set(MS_E_INVARIANT, "%s is not sound: %llu violations (listed above)", path,
                                (unsigned long long)res->violations);
    }
    return MS_OK;
}
