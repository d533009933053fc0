#include "ms_testdata.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ms_dataset.h"
#include "ms_fs.h"
#include "ms_part.h"
#include "ms_reader.h"
#include "ms_testcsv.h"
#include "ms_testutil.h"

/* strdup of a formatted string (the format stays a literal at each use). */
#define FMTDUP(...) (snprintf(fmtbuf, sizeof fmtbuf, __VA_ARGS__), strdup(fmtbuf))
static _Thread_local char fmtbuf[64];

void ms_testdata_init(ms_testdata_t *t, uint32_t n_inst, uint32_t n_families)
{
    memset(t, 0, sizeof *t);
    t->partitions = 2;
    ms_refs_t *r = &t->refs;
    r->n_inst = n_inst;
    r->inst = calloc(n_inst, sizeof *r->inst);
    for (uint32_t i = 0; i < n_inst; i++) {
        r->inst[i].inst_code = FMTDUP("H%04u", i + 1);
        r->inst[i].name = FMTDUP("Hospital %u", i + 1);
        r->inst[i].kind = MS_KIND_GENERAL;
        r->inst[i].level = 2;
        r->inst[i].ownership = MS_OWN_PUBLIC;
        r->inst[i].region = 110101;
        r->inst[i].beds = 100;
    }
    r->n_groups = (size_t)n_families * 3;
    r->groups = calloc(r->n_groups ? r->n_groups : 1, sizeof *r->groups);
    static const float w[3] = {1.0f, 1.3f, 1.8f}, los[3] = {6.0f, 7.8f, 10.2f};
    static const char suffix[3] = {'5', '3', '1'};
    /* Codes sorted: family F001.., variants sorted by suffix 1 < 3 < 5. */
    for (uint32_t f = 0; f < n_families; f++)
        for (int k = 0; k < 3; k++) {
            int sev = 2 - k; /* suffix 1 (MCC) first */
            ms_group_t *g = &r->groups[f * 3 + (uint32_t)k];
            char code[24], fam[16];
            snprintf(fam, sizeof fam, "F%02u", f + 1);
            snprintf(code, sizeof code, "%s%c", fam, suffix[sev]);
            g->group_code = strdup(code);
            g->family = strdup(fam);
            g->severity = (uint8_t)sev;
            g->weight = w[sev];
            g->mdc = 'E';
            g->surgical = 0;
            g->expected_los = los[sev];
            g->mean_cost = (int64_t)(1000000.0 * (double)w[sev]);
        }
    r->diagnoses.count = 100;
    r->diagnoses.str = calloc(100, sizeof(char *));
    for (unsigned i = 0; i < 100; i++) r->diagnoses.str[i] = FMTDUP("A%02u.0", i);
    r->procedures.count = 20;
    r->procedures.str = calloc(20, sizeof(char *));
    for (unsigned i = 0; i < 20; i++) r->procedures.str[i] = FMTDUP("01.%02u", i + 1);
    r->drugs.count = 50;
    r->drugs.str = calloc(50, sizeof(char *));
    for (unsigned i = 0; i < 50; i++) r->drugs.str[i] = FMTDUP("D%04u", i + 1);
}

void ms_testdata_free(ms_testdata_t *t)
{
    ms_refs_free(&t->refs);
    free(t->s);
    free(t->d);
    free(t->b);
    memset(t, 0, sizeof *t);
}

void ms_testdata_cost(ms_settlement_t *s, int64_t total, int category, double fund_share)
{
    int64_t *cat[MS_N_COST_CATEGORIES] = {&s->drug, &s->exam, &s->lab, &s->consumable, &s->treatment,
                                          &s->surgery, &s->bed, &s->nursing, &s->other};
    for (int k = 0; k < MS_N_COST_CATEGORIES; k++) *cat[k] = 0;
    *cat[category] = total;
    s->total = total;
    s->fund_pay = (int64_t)((double)total * fund_share);
    s->self_pay = total - s->fund_pay;
}

ms_settlement_t *ms_testdata_visit(ms_testdata_t *t, uint64_t person, uint32_t inst, int32_t day)
{
    t->s = ms_test_grow(t->s, &t->cap_s, t->ns, sizeof *t->s);
    ms_settlement_t *s = &t->s[t->ns++];
    memset(s, 0, sizeof *s);
    s->settle_id = t->ns;
    s->person_id = person;
    s->inst_code = (int32_t)inst;
    s->visit_type = MS_VISIT_OUTPATIENT;
    s->admit_date = s->discharge_date = s->settle_date = day;
    s->age = 60;
    s->person_region = 110101;
    s->dept = MS_DEPT_IM;
    s->n_diag = 1;
    s->proc_main = -1;
    s->group_code = -1;
    s->pay_scheme = MS_PAY_FFS;
    ms_testdata_cost(s, 10000, 0, 0.5);
    return s;
}

ms_settlement_t *ms_testdata_stay(ms_testdata_t *t, uint64_t person, uint32_t inst, int32_t admit,
                                  int32_t discharge, int32_t group)
{
    ms_settlement_t *s = ms_testdata_visit(t, person, inst, admit);
    s->visit_type = MS_VISIT_INPATIENT;
    s->discharge_date = s->settle_date = discharge;
    s->group_code = group;
    s->pay_scheme = group >= 0 ? MS_PAY_DRG : MS_PAY_FFS;
    int64_t cost = group >= 0 ? t->refs.groups[group].mean_cost : 1000000;
    /* A plain stay: drug 40%, exam 20%, lab 20%, bed 10%, nursing 10%. */
    s->total = cost;
    s->drug = cost * 4 / 10;
    s->exam = cost * 2 / 10;
    s->lab = cost * 2 / 10;
    s->bed = cost / 10;
    s->nursing = cost - s->drug - s->exam - s->lab - s->bed;
    s->fund_pay = cost * 7 / 10;
    s->self_pay = cost - s->fund_pay;
    return s;
}

ms_drug_item_t *ms_testdata_item(ms_testdata_t *t, const ms_settlement_t *s, uint32_t drug, uint64_t hi, uint64_t lo)
{
    t->d = ms_test_grow(t->d, &t->cap_d, t->nd, sizeof *t->d);
    ms_drug_item_t *d = &t->d[t->nd++];
    memset(d, 0, sizeof *d);
    d->settle_id = s->settle_id;
    d->person_id = s->person_id;
    d->inst_code = s->inst_code;
    d->date = s->settle_date;
    d->drug_code = (int32_t)drug;
    d->trace_hi = hi;
    d->trace_lo = lo;
    d->qty = 1;
    d->amount = 1000;
    return d;
}

ms_service_item_t *ms_testdata_line(ms_testdata_t *t, const ms_settlement_t *s, int32_t item, int category,
                                    int64_t amount)
{
    uint32_t line_no = 1;
    for (size_t i = 0; i < t->nb; i++)
        if (t->b[i].settle_id == s->settle_id && t->b[i].line_no >= line_no) line_no = t->b[i].line_no + 1;
    t->b = ms_test_grow(t->b, &t->cap_b, t->nb, sizeof *t->b);
    ms_service_item_t *x = &t->b[t->nb++];
    memset(x, 0, sizeof *x);
    x->settle_id = s->settle_id;
    x->line_no = line_no;
    x->person_id = s->person_id;
    x->inst_code = s->inst_code;
    x->date = s->admit_date;
    x->item_code = item;
    x->category = (uint8_t)category;
    x->qty = 1000;
    x->unit_price = amount * 100;
    x->amount = amount;
    return x;
}

static int cmp_s(const void *a, const void *b)
{
    const ms_settlement_t *x = a, *y = b;
    if (x->person_id != y->person_id) return x->person_id < y->person_id ? -1 : 1;
    if (x->admit_date != y->admit_date) return x->admit_date < y->admit_date ? -1 : 1;
    return x->settle_id < y->settle_id ? -1 : x->settle_id > y->settle_id;
}

static int cmp_d(const void *a, const void *b)
{
    const ms_drug_item_t *x = a, *y = b;
    if (x->person_id != y->person_id) return x->person_id < y->person_id ? -1 : 1;
    if (x->date != y->date) return x->date < y->date ? -1 : 1;
    if (x->settle_id != y->settle_id) return x->settle_id < y->settle_id ? -1 : 1;
    if (x->trace_hi != y->trace_hi) return x->trace_hi < y->trace_hi ? -1 : 1;
    return x->trace_lo < y->trace_lo ? -1 : x->trace_lo > y->trace_lo;
}

static int cmp_b(const void *a, const void *b)
{
    const ms_service_item_t *x = a, *y = b;
    if (x->person_id != y->person_id) return x->person_id < y->person_id ? -1 : 1;
    if (x->date != y->date) return x->date < y->date ? -1 : 1;
    if (x->settle_id != y->settle_id) return x->settle_id < y->settle_id ? -1 : 1;
    return x->line_no < y->line_no ? -1 : x->line_no > y->line_no;
}

ms_status_t ms_testdata_write(ms_testdata_t *t, const char *dir)
{
    MS_TRY(ms_remove_tree(dir));
    char path[4096];
    snprintf(path, sizeof path, "%s/settlements", dir);
    MS_TRY(ms_mkdirs(path));
    snprintf(path, sizeof path, "%s/drug_items", dir);
    MS_TRY(ms_mkdirs(path));
    if (t->nb) {
        snprintf(path, sizeof path, "%s/service_items", dir);
        MS_TRY(ms_mkdirs(path));
    }
    MS_TRY(ms_refs_finish(&t->refs));
    MS_TRY(ms_refs_write(&t->refs, dir));
    if (t->ns) qsort(t->s, t->ns, sizeof *t->s, cmp_s);
    if (t->nd) qsort(t->d, t->nd, sizeof *t->d, cmp_d);
    if (t->nb) qsort(t->b, t->nb, sizeof *t->b, cmp_b);
    uint32_t n = t->partitions ? t->partitions : 1;
    ms_settlement_t *ps = malloc((t->ns + 1) * sizeof *ps);
    ms_drug_item_t *pd = malloc((t->nd + 1) * sizeof *pd);
    ms_service_item_t *pb = malloc((t->nb + 1) * sizeof *pb);
    ms_status_t st = MS_OK;
    for (uint32_t p = 0; p < n && st == MS_OK; p++) {
        size_t a = 0, b = 0, c = 0;
        for (size_t i = 0; i < t->nb; i++)
            if (ms_person_partition(t->b[i].person_id, n) == p) pb[c++] = t->b[i];
        for (size_t i = 0; i < t->ns; i++)
            if (ms_person_partition(t->s[i].person_id, n) == p) ps[a++] = t->s[i];
        for (size_t i = 0; i < t->nd; i++)
            if (ms_person_partition(t->d[i].person_id, n) == p) pd[b++] = t->d[i];
        ms_part_info_t info = {.index = p, .count = n, .rows = a, .chunk_rows = 1024};
        ms_refs_checksum_text(&t->refs, info.ref_checksum);
        ms_dataset_part_path(dir, ms_table(MS_TABLE_SETTLEMENTS), p, path, sizeof path);
        st = ms_part_write_rows(path, ms_table(MS_TABLE_SETTLEMENTS), ps, &info);
        info.rows = b;
        ms_dataset_part_path(dir, ms_table(MS_TABLE_DRUG_ITEMS), p, path, sizeof path);
        if (st == MS_OK) st = ms_part_write_rows(path, ms_table(MS_TABLE_DRUG_ITEMS), pd, &info);
        info.rows = c;
        ms_dataset_part_path(dir, ms_table(MS_TABLE_SERVICE_ITEMS), p, path, sizeof path);
        if (st == MS_OK && t->nb) st = ms_part_write_rows(path, ms_table(MS_TABLE_SERVICE_ITEMS), pb, &info);
    }
    free(ps);
    free(pd);
    free(pb);
    return st;
}

/* indicators.csv's number in column col of row r, in fen when its unit
 * (col_unit) is yuan: "12.34" is 1234 exactly; "-0.05" is -5. */
static long long number(const ms_testcsv_t *t, size_t r, const char *col)
{
    char unit[64];
    snprintf(unit, sizeof unit, "%s_unit", col);
    const char *v = ms_testcsv_get(t, r, col);
    if (!ms_testcsv_is(t, r, unit, "yuan")) return ms_testcsv_ll(t, r, col);
    int neg = *v == '-';
    char *end;
    long long yuan = strtoll(v + neg, &end, 10), fen = 0;
    if (*end == '.' && end[1] >= '0' && end[1] <= '9' && end[2] >= '0' && end[2] <= '9' && !end[3])
        fen = (end[1] - '0') * 10 + (end[2] - '0');
    else
        fail_msg("indicators.csv: %s '%s' is not yuan with two decimals", col, v);
    return neg ? -(yuan * 100 + fen) : yuan * 100 + fen;
}

int ms_testdata_indicator(const char *out_dir, const char *inst_code, const char *model, const char *indicator,
                          long long *num, long long *den)
{
    ms_testcsv_t *t = ms_testcsv_load(out_dir, "indicators.csv");
    if (!t) return -1;
    int found = -1;
    for (size_t r = 0; found < 0 && r < ms_testcsv_rows(t); r++)
        if (ms_testcsv_is(t, r, "inst_code", inst_code) && ms_testcsv_is(t, r, "model", model) &&
            ms_testcsv_is(t, r, "indicator", indicator)) {
            *num = number(t, r, "numerator");
            *den = number(t, r, "denominator");
            found = 0;
        }
    ms_testcsv_free(t);
    return found;
}

int ms_testdata_sweep(const char *dir, const char *out, const char *extra, char **log)
{
    char cmd[8192], cfg[4200] = "";
    /* Model tests check every record a model flags: unless the test brings
     * its own rules, ask for the clues of every reported indicator. */
    if (!extra || !strstr(extra, "--config")) {
        char path[4096];
        snprintf(path, sizeof path, "%s.rules.cfg", dir);
        ms_test_write_file(path, "scoring = { all_clues = 1; };\n");
        snprintf(cfg, sizeof cfg, "--config %s", path);
    }
    snprintf(cmd, sizeof cmd, "%s sweep %s --out %s --replace --quiet %s %s", ms_test_bin(), dir, out, cfg,
             extra ? extra : "");
    return ms_test_run(cmd, log);
}

int32_t ms_testdata_day(const char *iso)
{
    int32_t d = 0;
    if (ms_date_parse(iso, strlen(iso), &d)) return 0;
    return d;
}

/* Append the rows of one partition file to *rows (capacity *cap, count *n). */
static ms_status_t load_part(const char *path, const ms_table_t *t, const ms_refs_t *refs, void **rows, size_t *n,
                             size_t *cap)
{
    ms_part_t *part = NULL;
    ms_reader_t *r = NULL;
    ms_status_t st = ms_part_open(path, t, refs, &part);
    if (st == MS_OK) st = ms_reader_open(part, MS_ALL_COLUMNS(t), 0, ms_part_nchunks(part), 65536, MS_READ_PREAD, &r);
    ms_batch_t b;
    while (st == MS_OK && (st = ms_reader_next(r, &b)) == MS_OK && b.rows) {
        if (*n + b.rows > *cap) {
            while (*n + b.rows > *cap) *cap *= 2;
            void *grown = realloc(*rows, *cap * t->row_size);
            if (!grown) {
                st = ms_error_set(MS_E_NOMEM, "out of memory");
                break;
            }
            *rows = grown;
        }
        for (size_t i = 0; i < b.rows; i++) {
            char *row = (char *)*rows + (*n + i) * t->row_size;
            for (int c = 0; c < t->ncols; c++) {
                size_t es = ms_ctype_size(t->cols[c].type);
                memcpy(row + t->cols[c].offset, (const char *)b.col[c] + i * es, es);
            }
        }
        *n += b.rows;
    }
    ms_reader_close(r);
    ms_part_close(part);
    return st;
}

/* Room for 1024 rows of table t in *rows, none in it yet. */
static ms_status_t start_rows(const ms_table_t *t, void **rows, size_t *n, size_t *cap)
{
    *cap = 1024;
    *n = 0;
    *rows = malloc(*cap * t->row_size);
    return *rows ? MS_OK : ms_error_set(MS_E_NOMEM, "out of memory");
}

ms_status_t ms_testdata_load_part(const char *path, ms_table_id_t table, const ms_refs_t *refs, void **rows,
                                  size_t *n)
{
    const ms_table_t *t = ms_table(table);
    size_t cap;
    MS_TRY(start_rows(t, rows, n, &cap));
    return load_part(path, t, refs, rows, n, &cap);
}

ms_status_t ms_testdata_load(const ms_dataset_t *ds, ms_table_id_t table, void **rows, size_t *n)
{
    const ms_table_t *t = ms_table(table);
    size_t cap;
    ms_status_t st = start_rows(t, rows, n, &cap);
    for (uint32_t p = 0; st == MS_OK && p < ds->nparts[table]; p++) {
        char path[4096];
        ms_dataset_part_path(ds->dir, t, p, path, sizeof path);
        st = load_part(path, t, &ds->refs, rows, n, &cap);
    }
    return st;
}

void ms_testdata_damage(const char *path, ms_table_id_t table, int column, size_t chunk, unsigned at, uint8_t b0,
                        uint8_t b1)
{
    ms_part_t *part = NULL;
    assert_int_equal(ms_part_open(path, ms_table(table), NULL, &part), MS_OK);
    uint64_t addr, size;
    ms_part_chunk_location(part, column, chunk, &addr, &size);
    ms_part_close(part);
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    if (!fp) return;
    fseek(fp, (long)(addr + size / at), SEEK_SET);
    fputc(b0, fp);
    fputc(b1, fp);
    fclose(fp);
}
