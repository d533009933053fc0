/*
 * ms_export.c - a dataset back to canonical CSV (medsweep export).
 *
 * The inverse of ms_import: reference files become institutions.csv and
 * groups.csv (sorted by code), partitions are read in order with the column
 * reader and every id, day count and fen amount is turned back into the
 * exact text that import accepted.  Canonical form: header in schema order,
 * LF line ends, quoting only where RFC 4180 needs it, money with two
 * decimals, ISO dates, enum names, empty fields for "none" (-1), float
 * columns with the shortest %g that reads back to the same float, a bill
 * line's qty with the decimals it needs (at most 3: "2", "1.5") and its
 * unit_price with two to four ("12.30", "0.1234").  So
 * CSV -> import -> export reproduces canonical CSV byte for byte (settlement
 * rows in partition order, a permutation of the input's).  The knowledge
 * base, when the dataset has one, goes to CSV_DIR/knowledge/
 * (ms_knowledge_write_csv).
 *
 * Each file is written whole or not at all (ms_afile_*).
 */
#include "ms_export.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_csv.h"
#include "ms_dataset.h"
#include "ms_fs.h"
#include "ms_knowledge.h"
#include "ms_line.h"
#include "ms_part.h"
#include "ms_reader.h"
#include "ms_refs.h"
#include "ms_schema.h"

#define BATCH_ROWS 65536
#define FILE_BUFFER (1u << 20)

/* Text that may need RFC 4180 quoting (names, codes). */
static void line_text(ms_line_t *l, const char *s)
{
    size_t n = strcspn(s, ",\"\r\n");
    if (s[n] == '\0') {
        ms_line_put(l, s, n);
        return;
    }
    ms_line_flush(l);
    ms_csv_write_field(l->fp, s, strlen(s));
}

static void line_money(ms_line_t *l, int64_t fen)
{
    char tmp[32];
    int n = ms_money_format(fen, tmp);
    ms_line_put(l, tmp, (size_t)n);
}

static void line_date(ms_line_t *l, int32_t days)
{
    char tmp[11];
    ms_date_format(days, tmp);
    ms_line_put(l, tmp, 10);
}

/* County codes keep their six digits. */
static void line_region(ms_line_t *l, int32_t region)
{
    char tmp[16];
    int n = snprintf(tmp, sizeof tmp, "%06d", (int)region);
    ms_line_put(l, tmp, (size_t)n);
}

/* Canonical decimal text of a float32 column (ms_decimal_format). */
static void line_float(ms_line_t *l, float v)
{
    char tmp[48];
    int n = ms_decimal_format(v, tmp);
    ms_line_put(l, tmp, (size_t)n);
}

/* ------------------------------------------------------------------ */
/* Output files, each written whole.                                    */

static ms_status_t afile_finish(ms_afile_t *f, ms_status_t st)
{
    if (st == MS_OK) return ms_afile_commit(f);
    ms_afile_abort(f);
    return st;
}

static ms_status_t check_stream(FILE *fp, const char *path)
{
    if (!ferror(fp)) return MS_OK;
    return ms_error_errno(MS_E_IO, errno ? errno : EIO, "cannot write %s", path);
}

/* Begin DIR/NAME, written whole: open it, give it its row buffer *lp and
 * write header (NULL: the caller writes it). */
static ms_status_t export_begin(const char *dir, const char *name, const char *header, ms_afile_t *f,
                                ms_line_t **lp)
{
    char *path = ms_path_join(dir, name);
    if (!path) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_status_t st = ms_afile_open(f, path);
    free(path);
    if (st != MS_OK) return st;
    setvbuf(f->fp, NULL, _IOFBF, FILE_BUFFER);
    ms_line_t *l = malloc(sizeof *l);
    if (!l) return afile_finish(f, ms_error_set(MS_E_NOMEM, "out of memory"));
    l->fp = f->fp;
    l->len = 0;
    if (header) fputs(header, f->fp);
    *lp = l;
    return MS_OK;
}

/* Finish what export_begin began: flush and free the row buffer, check the
 * stream, and commit the file if all went well (st), else remove it. */
static ms_status_t export_end(ms_afile_t *f, ms_line_t *l, ms_status_t st)
{
    if (st == MS_OK) ms_line_flush(l);
    free(l);
    if (st == MS_OK) st = check_stream(f->fp, f->path);
    return afile_finish(f, st);
}

/* ------------------------------------------------------------------ */
/* Reference files.                                                     */

static ms_status_t export_institutions(const ms_refs_t *r, const char *dir)
{
    ms_afile_t f;
    ms_line_t *l;
    MS_TRY(export_begin(dir, "institutions.csv",
                        "inst_code,name,kind,level,ownership,region,beds\n", &f, &l));
    for (size_t i = 0; i < r->n_inst; i++) {
        const ms_institution_t *in = &r->inst[i];
        line_text(l, in->inst_code);
        ms_line_char(l, ',');
        line_text(l, in->name);
        ms_line_char(l, ',');
        line_text(l, ms_enum_kind.names[in->kind % ms_enum_kind.count]);
        ms_line_char(l, ',');
        ms_line_u64(l, in->level);
        ms_line_char(l, ',');
        line_text(l, ms_enum_ownership.names[in->ownership % ms_enum_ownership.count]);
        ms_line_char(l, ',');
        line_region(l, in->region);
        ms_line_char(l, ',');
        ms_line_i64(l, in->beds);
        ms_line_char(l, '\n');
    }
    return export_end(&f, l, MS_OK);
}

static ms_status_t export_groups(const ms_refs_t *r, const char *dir)
{
    ms_afile_t f;
    ms_line_t *l;
    MS_TRY(export_begin(dir, "groups.csv",
                        "group_code,family,severity,weight,mdc,surgical,expected_los,mean_cost\n", &f, &l));
    for (size_t i = 0; i < r->n_groups; i++) {
        const ms_group_t *g = &r->groups[i];
        line_text(l, g->group_code);
        ms_line_char(l, ',');
        line_text(l, g->family);
        ms_line_char(l, ',');
        ms_line_u64(l, g->severity);
        ms_line_char(l, ',');
        line_float(l, g->weight);
        ms_line_char(l, ',');
        ms_line_char(l, g->mdc);
        ms_line_char(l, ',');
        ms_line_u64(l, g->surgical);
        ms_line_char(l, ',');
        line_float(l, g->expected_los);
        ms_line_char(l, ',');
        line_money(l, g->mean_cost);
        ms_line_char(l, '\n');
    }
    return export_end(&f, l, MS_OK);
}

/* ------------------------------------------------------------------ */
/* Partitioned tables.                                                  */

typedef enum {
    OUT_UINT,
    OUT_INT,
    OUT_ENUM,
    OUT_DATE,
    OUT_MONEY,
    OUT_REGION,
    OUT_INST,
    OUT_GROUP,
    OUT_DIAG,
    OUT_PROC,
    OUT_DRUG,
    OUT_ITEM,
    OUT_QTY_MILLI,
    OUT_PRICE,
    OUT_TRACE,
    OUT_SKIP
} out_kind_t;

typedef struct {
    int col; /* table column index */
    out_kind_t kind;
    ms_ctype_t type;
    const ms_enum_t *en;
} out_col_t;

/* Columns whose text is not implied by their storage type. */
static const struct {
    const char *name;
    out_kind_t kind;
} special_cols[] = {
    {"inst_code", OUT_INST},  {"group_code", OUT_GROUP},    {"diag_main", OUT_DIAG},
    {"proc_main", OUT_PROC},  {"drug_code", OUT_DRUG},      {"person_region", OUT_REGION},
    {"admit_date", OUT_DATE}, {"discharge_date", OUT_DATE}, {"settle_date", OUT_DATE},
    {"date", OUT_DATE},       {"trace_hi", OUT_TRACE},      {"trace_lo", OUT_SKIP},
    {"item_code", OUT_ITEM},
};

static out_kind_t col_kind(const ms_table_t *t, const ms_column_t *c)
{
    /* A bill line's fixed-point columns (a drug item's qty is a count). */
    if (t->id == MS_TABLE_SERVICE_ITEMS && strcmp(c->name, "qty") == 0) return OUT_QTY_MILLI;
    if (t->id == MS_TABLE_SERVICE_ITEMS && strcmp(c->name, "unit_price") == 0) return OUT_PRICE;
    for (size_t i = 0; i < sizeof special_cols / sizeof special_cols[0]; i++)
        if (strcmp(special_cols[i].name, c->name) == 0) return special_cols[i].kind;
    if (c->enumdef) return OUT_ENUM;
    if (c->type == MS_I64) return OUT_MONEY;
    if (c->type == MS_I32) return OUT_INT;
    return OUT_UINT;
}

/* Output columns of table t and its CSV header (trace_hi + trace_lo are
 * one trace_code column). */
static int plan_columns(const ms_table_t *t, out_col_t *out, FILE *fp)
{
    int n = 0;
    for (int c = 0; c < t->ncols; c++) {
        out_kind_t k = col_kind(t, &t->cols[c]);
        if (k == OUT_SKIP) continue;
        if (n) putc(',', fp);
        fputs(k == OUT_TRACE ? "trace_code" : t->cols[c].name, fp);
        out[n++] = (out_col_t){c, k, t->cols[c].type, t->cols[c].enumdef};
    }
    putc('\n', fp);
    return n;
}

static uint64_t value_u(const void *col, ms_ctype_t type, size_t r)
{
    switch (type) {
    case MS_U8: return ((const uint8_t *)col)[r];
    case MS_U32: return ((const uint32_t *)col)[r];
    case MS_U64: return ((const uint64_t *)col)[r];
    default: return 0;
    }
}

static int64_t value_i(const void *col, ms_ctype_t type, size_t r)
{
    return type == MS_I64 ? ((const int64_t *)col)[r] : ((const int32_t *)col)[r];
}

/* The text of a reference or dictionary id, NULL when out of range. */
static const char *code_text(const ms_refs_t *refs, out_kind_t k, int32_t id)
{
    size_t i = (size_t)id;
    if (id < 0) return NULL;
    switch (k) {
    case OUT_INST: return i < refs->n_inst ? refs->inst[i].inst_code : NULL;
    case OUT_GROUP: return i < refs->n_groups ? refs->groups[i].group_code : NULL;
    case OUT_DIAG: return i < refs->diagnoses.count ? refs->diagnoses.str[i] : NULL;
    case OUT_PROC: return i < refs->procedures.count ? refs->procedures.str[i] : NULL;
    case OUT_DRUG: return i < refs->drugs.count ? refs->drugs.str[i] : NULL;
    case OUT_ITEM: return i < refs->items.count ? refs->items.str[i] : NULL;
    default: return NULL;
    }
}

/* A coded column; -1 ("none", an empty field) only where the column may be empty. */
static int put_code(ms_line_t *l, const ms_refs_t *refs, out_kind_t k, int32_t id)
{
    if (id == -1 && (k == OUT_GROUP || k == OUT_PROC)) return 0;
    const char *s = code_text(refs, k, id);
    if (!s) return -1;
    line_text(l, s);
    return 0;
}

static int put_value(ms_line_t *l, const ms_refs_t *refs, const out_col_t *oc, const ms_batch_t *b,
                     size_t r)
{
    const void *col = b->col[oc->col];
    char tmp[32];
    switch (oc->kind) {
    case OUT_UINT: ms_line_u64(l, value_u(col, oc->type, r)); return 0;
    case OUT_INT: ms_line_i64(l, value_i(col, oc->type, r)); return 0;
    case OUT_MONEY: line_money(l, value_i(col, MS_I64, r)); return 0;
    case OUT_QTY_MILLI:
    case OUT_PRICE: {
        int places = oc->kind == OUT_PRICE ? 4 : 3;
        int n = ms_fixed_format(value_i(col, MS_I64, r), places, oc->kind == OUT_PRICE ? 2 : 0, tmp);
        ms_line_put(l, tmp, (size_t)n);
        return 0;
    }
    case OUT_DATE: line_date(l, (int32_t)value_i(col, MS_I32, r)); return 0;
    case OUT_REGION: line_region(l, (int32_t)value_i(col, MS_I32, r)); return 0;
    case OUT_ENUM: {
        uint64_t v = value_u(col, oc->type, r);
        if (v >= (uint64_t)oc->en->count) return -1;
        ms_line_put(l, oc->en->names[v], strlen(oc->en->names[v]));
        return 0;
    }
    case OUT_TRACE:
        snprintf(tmp, sizeof tmp, "%010llu%010llu", (unsigned long long)value_u(col, MS_U64, r),
                 (unsigned long long)value_u(b->col[oc->col + 1], MS_U64, r));
        ms_line_put(l, tmp, 20);
        return 0;
    case OUT_INST:
    case OUT_GROUP:
    case OUT_DIAG:
    case OUT_PROC:
    case OUT_DRUG:
    case OUT_ITEM: return put_code(l, refs, oc->kind, (int32_t)value_i(col, MS_I32, r));
    case OUT_SKIP: return 0;
    }
    return 0;
}

/* Write one batch; -1 names the bad column in *bad (a code out of range). */
static int write_batch(ms_line_t *l, const ms_refs_t *refs, const out_col_t *oc, int n,
                       const ms_batch_t *b, int *bad)
{
    for (size_t r = 0; r < b->rows; r++) {
        for (int k = 0; k < n; k++) {
            if (k) ms_line_char(l, ',');
            if (put_value(l, refs, &oc[k], b, r)) {
                *bad = oc[k].col;
                return -1;
            }
        }
        ms_line_char(l, '\n');
    }
    ms_line_flush(l);
    return 0;
}

static ms_status_t export_partition(const ms_dataset_t *ds, const ms_table_t *t, uint32_t p,
                                    ms_line_t *l, const out_col_t *oc, int n)
{
    char path[4096];
    ms_dataset_part_path(ds->dir, t, p, path, sizeof path);
    ms_part_t *part;
    ms_reader_t *rd;
    /* Damaged metadata can crash libhdf5 itself: a child opens it first. */
    ms_probe_t verdict;
    ms_status_t open_st;
    MS_TRY(ms_part_probe(path, t, &ds->refs, NULL, &verdict, &open_st));
    if (verdict != MS_PROBE_OPENED) return open_st; /* the detail names the file */
    MS_TRY(ms_part_open(path, t, &ds->refs, &part));
    ms_status_t st = ms_reader_open(part, MS_ALL_COLUMNS(t), 0, ms_part_nchunks(part), BATCH_ROWS,
                                    MS_READ_PREAD, &rd);
    if (st != MS_OK) {
        ms_part_close(part);
        return st;
    }
    ms_batch_t b;
    int bad;
    while ((st = ms_reader_next(rd, &b)) == MS_OK && b.rows > 0) {
        if (write_batch(l, &ds->refs, oc, n, &b, &bad) != 0) {
            st = ms_error_set(MS_E_CORRUPT,
                              "%s: column %s holds a value with no text (rows from %llu)", path,
                              t->cols[bad].name, (unsigned long long)b.first_row);
            break;
        }
        if ((st = check_stream(l->fp, "the CSV output")) != MS_OK) break;
    }
    ms_reader_close(rd);
    ms_part_close(part);
    return st;
}

static ms_status_t export_table(const ms_dataset_t *ds, ms_table_id_t tid, const char *dir)
{
    const ms_table_t *t = ms_table(tid);
    ms_afile_t f;
    ms_line_t *l;
    MS_TRY(export_begin(dir, t->csv_name, NULL, &f, &l));
    out_col_t oc[MS_MAX_COLUMNS];
    int n = plan_columns(t, oc, f.fp);
    ms_status_t st = MS_OK;
    for (uint32_t p = 0; p < ds->nparts[tid] && st == MS_OK; p++)
        st = export_partition(ds, t, p, l, oc, n);
    return export_end(&f, l, st);
}

/* DATASET/knowledge.h5 -> CSV_DIR/knowledge/. */
static ms_status_t export_knowledge(const char *dataset_dir, const char *csv_dir)
{
    ms_knowledge_t kb;
    memset(&kb, 0, sizeof kb);
    MS_TRY(ms_knowledge_read(dataset_dir, &kb));
    char *dir = ms_path_join(csv_dir, "knowledge");
    ms_status_t st = dir ? ms_mkdirs(dir) : ms_error_set(MS_E_NOMEM, "out of memory");
    if (st == MS_OK) st = ms_knowledge_write_csv(&kb, dir);
    free(dir);
    ms_knowledge_free(&kb);
    return st;
}

ms_status_t ms_export(const char *dataset_dir, const char *csv_dir)
{
    if (!dataset_dir || !csv_dir || !*dataset_dir || !*csv_dir)
        return ms_error_set(MS_E_USAGE, "export needs DATASET_DIR and CSV_DIR");
    ms_dataset_t ds;
    memset(&ds, 0, sizeof ds);
    MS_TRY(ms_dataset_open(dataset_dir, &ds));
    ms_status_t st = ms_mkdirs(csv_dir);
    if (st == MS_OK) st = export_institutions(&ds.refs, csv_dir);
    if (st == MS_OK) st = export_groups(&ds.refs, csv_dir);
    if (st == MS_OK) st = export_table(&ds, MS_TABLE_SETTLEMENTS, csv_dir);
    if (st == MS_OK && ds.nparts[MS_TABLE_DRUG_ITEMS] > 0)
        st = export_table(&ds, MS_TABLE_DRUG_ITEMS, csv_dir);
    if (st == MS_OK && ds.nparts[MS_TABLE_SERVICE_ITEMS] > 0)
        st = export_table(&ds, MS_TABLE_SERVICE_ITEMS, csv_dir);
    if (st == MS_OK && ms_knowledge_present(dataset_dir)) st = export_knowledge(dataset_dir, csv_dir);
    ms_dataset_close(&ds);
    return st;
}
