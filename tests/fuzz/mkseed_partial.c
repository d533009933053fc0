/*
 * mkseed_partial - writes fuzz_partial's seed corpus with the models' own
 * save: every model of the registry maps a small made-up partition of the
 * world of ms_fuzz_world.h (settlements and drug items built to trip each
 * indicator: exam-heavy visits before light DRG stays, readmissions and
 * ping-pong transfers, an overlapping stay, a group admission from another
 * county, a full ward, an overloaded doctor, cheap and short severe stays,
 * repeated trace codes, a hoarder), exactly as a sweep's worker does
 * (batch, then person by person; keyed records collected, sorted and
 * reduced per key as the shuffle would).  For each model:
 *     <model>          its state after mapping, saved (what a partial holds)
 *     <model>_reduced  the same after its keyed records were reduced into it
 *                      (models with keyed aggregations only)
 *     <model>_empty    a state fresh from init, saved
 * each file byte 0 = the model's number in the registry, then the bytes of
 * save; and
 *     partial_all      byte 0xF0, then the partial file of all the mapped
 *                      states (ms_partial_write), less its magic and xxh64.
 *     mkseed_partial DIR
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ms_buf.h"
#include "ms_fuzz_world.h"
#include "ms_partial.h"
#include "ms_reader.h"
#include "ms_schema.h"

static void die(const char *what)
{
    fprintf(stderr, "mkseed_partial: %s: %s\n", what, ms_error_detail());
    exit(1);
}

/* ------------------------------------------------------------ the rows */

#define D0 MS_FUZZ_MIN_DATE

static ms_settlement_t srow[256];
static size_t ns;
static ms_drug_item_t drow[128];
static size_t nd;

static ms_settlement_t *visit(uint64_t person, int32_t inst, int32_t day)
{
    if (ns == sizeof srow / sizeof srow[0]) abort();
    ms_settlement_t *s = &srow[ns++];
    memset(s, 0, sizeof *s);
    s->settle_id = 1000 + ns;
    s->person_id = person;
    s->inst_code = inst;
    s->visit_type = MS_VISIT_OUTPATIENT;
    s->admit_date = s->discharge_date = s->settle_date = D0 + day;
    s->age = 50;
    s->person_region = 110101;
    s->dept = MS_DEPT_IM;
    s->n_diag = 1;
    s->diag_main = 0;
    s->proc_main = -1;
    s->group_code = -1;
    s->pay_scheme = MS_PAY_FFS;
    s->total = s->drug = 10000;
    s->fund_pay = 5000;
    s->self_pay = 5000;
    return s;
}

static ms_settlement_t *stay(uint64_t person, int32_t inst, int32_t admit, int32_t discharge, int32_t group)
{
    ms_settlement_t *s = visit(person, inst, admit);
    s->visit_type = MS_VISIT_INPATIENT;
    s->discharge_date = s->settle_date = D0 + discharge;
    s->group_code = group;
    s->pay_scheme = group >= 0 ? MS_PAY_DRG : MS_PAY_FFS;
    s->n_diag = 3;
    s->drug = 0;
    s->total = 1000000;
    s->treatment = 800000;
    s->exam = 200000;
    s->fund_pay = 800000;
    s->self_pay = 200000;
    return s;
}

static void item(const ms_settlement_t *s, int32_t drug, uint64_t trace, uint32_t qty)
{
    if (nd == sizeof drow / sizeof drow[0]) abort();
    ms_drug_item_t *d = &drow[nd++];
    memset(d, 0, sizeof *d);
    d->settle_id = s->settle_id;
    d->person_id = s->person_id;
    d->inst_code = s->inst_code;
    d->date = s->settle_date;
    d->drug_code = drug;
    d->trace_hi = 86000000u + (uint64_t)drug;
    d->trace_lo = trace;
    d->qty = qty;
    d->amount = 1500 * (int64_t)qty;
}

static void make_rows(void)
{
    /* 1: an exam-heavy visit the day before a light DRG stay with high
     * self-pay, a minor diagnosis, mostly bed and nursing. */
    ms_settlement_t *s = visit(1, 0, 100);
    s->drug = 2000, s->exam = 8000;
    s = stay(1, 0, 101, 107, 1);
    s->diag_main = 5; /* J06.9 */
    s->treatment = 100000, s->exam = 0, s->bed = 600000, s->nursing = 300000;
    s->self_pay = 500000, s->fund_pay = 500000;
    /* 2: readmission at H0001, a same-day one, a ping-pong H0001-H0002-H0001. */
    stay(2, 0, 10, 15, 0)->diag_main = 3;
    stay(2, 0, 20, 24, 0)->diag_main = 4;
    stay(2, 0, 24, 26, 6);
    stay(2, 1, 40, 45, 3);
    stay(2, 0, 50, 55, -1);
    /* 3: a visit elsewhere during a stay. */
    stay(3, 0, 200, 210, 2);
    visit(3, 1, 205);
    /* 4-9: a group admission from another county at H0001 on one day; a
     * full ward at H0002 (8 beds, 9 patients). */
    for (uint64_t p = 4; p <= 9; p++) {
        stay(p, 0, 300, 303, 2)->person_region = 120101;
        stay(p, 1, 310, 330, (int32_t)(p % 3))->diag_main = 7;
        if (p % 2) stay(p, 1, 311, 325, 4)->proc_main = 1;
    }
    stay(9, 1, 312, 320, 5);
    /* 10: severe, cheap and short stays (upcoding). */
    for (int k = 0; k < 4; k++) {
        s = stay(10, 3, 60 + 10 * k, 61 + 10 * k, k % 2 ? 0 : 3);
        s->total = s->treatment = 300000, s->exam = 0, s->fund_pay = 200000, s->self_pay = 100000;
        s->n_diag = 9;
    }
    /* 11: its visits, with 61 others of persons 12.., signed by one doctor on
     * one day (the outpatient ceiling is 60). */
    for (uint64_t p = 11; p < 11 + 62; p++) visit(p, 4, 150)->doctor_id = 77;
    /* Drug items: person 1 hoards drug 0 at three institutions; a trace code
     * sold twice (persons 2 and 3); the others one line each. */
    ms_settlement_t *buy[4];
    for (int k = 0; k < 3; k++) {
        buy[k] = visit(200, k, 20 + k);
        buy[k]->visit_type = MS_VISIT_PHARMACY;
    }
    for (int k = 0; k < 3; k++) item(buy[k], 0, 500 + (uint64_t)k, 40);
    buy[3] = visit(201, 2, 30);
    buy[3]->visit_type = MS_VISIT_PHARMACY;
    item(buy[3], 1, 7777, 1);
    s = visit(202, 3, 31);
    s->visit_type = MS_VISIT_PHARMACY;
    item(s, 1, 7777, 1);
    for (uint64_t p = 203; p < 210; p++) {
        s = visit(p, (int32_t)(p % 5), (int32_t)p - 150);
        s->visit_type = MS_VISIT_PHARMACY;
        item(s, (int32_t)(p % 4), 9000 + p, 2);
    }
}

/* Sort rows by person, then admission date, then settle_id (import's order). */
static int cmp_settle(const void *a, const void *b)
{
    const ms_settlement_t *x = a, *y = b;
    if (x->person_id != y->person_id) return x->person_id < y->person_id ? -1 : 1;
    if (x->admit_date != y->admit_date) return x->admit_date < y->admit_date ? -1 : 1;
    return (x->settle_id > y->settle_id) - (x->settle_id < y->settle_id);
}

static int cmp_item(const void *a, const void *b)
{
    const ms_drug_item_t *x = a, *y = b;
    if (x->person_id != y->person_id) return x->person_id < y->person_id ? -1 : 1;
    if (x->date != y->date) return x->date < y->date ? -1 : 1;
    return (x->settle_id > y->settle_id) - (x->settle_id < y->settle_id);
}

/* A batch of every column of table t from n row structs (the arrays also
 * in owned[], to free). */
static void make_batch(const ms_table_t *t, const void *rows, size_t n, ms_batch_t *b, void **owned)
{
    memset(b, 0, sizeof *b);
    b->rows = n;
    for (int c = 0; c < t->ncols; c++) {
        size_t es = ms_ctype_size(t->cols[c].type);
        unsigned char *v = malloc((n ? n : 1) * es);
        if (!v) abort();
        for (size_t i = 0; i < n; i++)
            memcpy(v + i * es, (const unsigned char *)rows + i * t->row_size + t->cols[c].offset, es);
        b->col[c] = owned[c] = v;
    }
}

/* ------------------------------------------------- the keyed records */

typedef struct {
    size_t value_size, n, cap;
    unsigned char *rec; /* k0, k1, value */
} collect_t;

static ms_status_t collect(void *impl, int tid, uint64_t k0, uint64_t k1, const void *value)
{
    (void)tid;
    collect_t *c = impl;
    size_t rs = 16 + c->value_size;
    if (ms_grow(&c->rec, &c->cap, (c->n + 1) * rs, 1, 4096) != MS_OK) abort();
    unsigned char *r = c->rec + c->n * rs;
    memcpy(r, &k0, 8);
    memcpy(r + 8, &k1, 8);
    memcpy(r + 16, value, c->value_size);
    c->n++;
    return MS_OK;
}

/* An emitter that collects each of mod's keyed aggregations (at most 4)
 * into c[k], through impl. */
static ms_emit_t collectors(const ms_model_t *mod, collect_t c[4], void *impl[4])
{
    if (mod->nkeyed > 4) abort();
    for (int k = 0; k < mod->nkeyed; k++) {
        memset(&c[k], 0, sizeof c[k]);
        c[k].value_size = mod->keyed[k].value_size;
        impl[k] = &c[k];
    }
    return (ms_emit_t){(void *const *)impl, mod->nkeyed, 0, collect};
}

static size_t sort_size;
static int cmp_rec(const void *a, const void *b)
{
    uint64_t x[2], y[2];
    memcpy(x, a, 16);
    memcpy(y, b, 16);
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    if (x[1] != y[1]) return x[1] < y[1] ? -1 : 1;
    return memcmp((const unsigned char *)a + 16, (const unsigned char *)b + 16, sort_size);
}

/* Reduce the records of keyed aggregation k into state, key by key, values
 * sorted by their bytes (the shuffle's contract). */
static void reduce(const ms_model_t *mod, int k, collect_t *c, void *state)
{
    size_t rs = 16 + c->value_size;
    sort_size = c->value_size;
    if (c->n) qsort(c->rec, c->n, rs, cmp_rec);
    unsigned char *vals = malloc(c->n ? c->n * c->value_size : 1);
    if (!vals) abort();
    for (size_t a = 0; a < c->n;) {
        size_t e = a;
        while (e < c->n && !memcmp(c->rec + e * rs, c->rec + a * rs, 16)) e++;
        for (size_t i = a; i < e; i++) memcpy(vals + (i - a) * c->value_size, c->rec + i * rs + 16, c->value_size);
        uint64_t key[2];
        memcpy(key, c->rec + a * rs, 16);
        if (mod->keyed[k].reduce(state, key[0], key[1], vals, e - a) != MS_OK) die(mod->name);
        a = e;
    }
    free(vals);
}

/* ------------------------------------------------------------ mapping */

static void map_table(const ms_model_t *mod, void *state, ms_table_id_t table, const ms_batch_t *all,
                      ms_emit_t *emit)
{
    uint64_t need = table == MS_TABLE_SETTLEMENTS ? mod->settlement_cols : mod->drug_cols;
    if (!need) return;
    ms_batch_t view = *all;
    for (int c = 0; c < MS_MAX_COLUMNS; c++) view.col[c] = need >> c & 1 ? all->col[c] : NULL;
    /* The batch's persons, as the sweep gives them (ms_reader.h). */
    const uint64_t *pid = all->col[1];
    uint32_t *persons = malloc((all->rows + 1) * sizeof *persons);
    if (!persons) abort();
    size_t np = 0;
    for (size_t i = 0; i < all->rows;) {
        size_t j = i + 1;
        while (j < all->rows && pid[j] == pid[i]) j++;
        persons[np++] = (uint32_t)i;
        i = j;
    }
    persons[np] = (uint32_t)all->rows;
    view.persons = persons;
    view.npersons = np;
    if (mod->batch && mod->batch(state, table, &view, emit) != MS_OK) die(mod->name);
    if (ms_col_take_undeclared() >= 0) die("undeclared column");
    for (size_t k = 0; mod->person && k < np; k++)
        if (mod->person(state, table, &view, persons[k], persons[k + 1], emit) != MS_OK) die(mod->name);
    free(persons);
}

static void put(const char *dir, const char *name, const void *head, size_t hlen, const ms_buf_t *b)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(head, 1, hlen, fp) != hlen || (b->len && fwrite(b->data, 1, b->len, fp) != b->len) ||
        fclose(fp) != 0) {
        perror(path);
        exit(1);
    }
}

static void save_seed(const char *dir, int m, const char *suffix, const void *state, const ms_fuzz_world_t *w)
{
    const ms_model_t *mod = w->models[m];
    ms_buf_t b = {0};
    if (mod->save(state, &b) != MS_OK) die(mod->name);
    /* It must load back into a fresh state as the same bytes. */
    void *again = NULL;
    ms_buf_t b2 = {0};
    if (mod->init(&w->env[m], &again) != MS_OK || mod->load(again, b.data, b.len) != MS_OK ||
        mod->save(again, &b2) != MS_OK || b2.len != b.len || memcmp(b.data, b2.data, b.len))
        die("a saved state does not load back");
    mod->free(again);
    ms_buf_free(&b2);
    char name[128];
    snprintf(name, sizeof name, "%s%s", mod->name, suffix);
    unsigned char head = (unsigned char)m;
    put(dir, name, &head, 1, &b);
    ms_buf_free(&b);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkseed_partial DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    ms_fuzz_world_t w;
    ms_fuzz_world_init(&w);
    make_rows();
    qsort(srow, ns, sizeof *srow, cmp_settle);
    qsort(drow, nd, sizeof *drow, cmp_item);
    ms_batch_t batch[2];
    static void *owned[2][MS_MAX_COLUMNS];
    make_batch(ms_table(MS_TABLE_SETTLEMENTS), srow, ns, &batch[0], owned[0]);
    make_batch(ms_table(MS_TABLE_DRUG_ITEMS), drow, nd, &batch[1], owned[1]);

    ms_partial_t pt;
    memset(&pt, 0, sizeof pt);
    pt.index = 3;
    pt.rows[0] = ns;
    pt.rows[1] = nd;
    pt.rejected[0][0] = 2;
    pt.nmodels = w.nmodels;
    pt.states = calloc((size_t)w.nmodels, sizeof *pt.states);
    if (!pt.states) abort();
    for (int m = 0; m < w.nmodels; m++) {
        const ms_model_t *mod = w.models[m];
        void *state = NULL;
        if (mod->init(&w.env[m], &state) != MS_OK) die(mod->name);
        save_seed(dir, m, "_empty", state, &w);
        collect_t coll[4];
        void *impl[4];
        ms_emit_t emit = collectors(mod, coll, impl);
        for (int t = 0; t < 2; t++) map_table(mod, state, (ms_table_id_t)t, &batch[t], &emit);
        save_seed(dir, m, "", state, &w);
        pt.states[m] = state;
        if (mod->nkeyed) {
            void *red = NULL;
            if (mod->init(&w.env[m], &red) != MS_OK) die(mod->name);
            collect_t thrown[4];
            void *impl2[4];
            ms_emit_t emit2 = collectors(mod, thrown, impl2);
            for (int t = 0; t < 2; t++) map_table(mod, red, (ms_table_id_t)t, &batch[t], &emit2);
            for (int k = 0; k < mod->nkeyed; k++) reduce(mod, k, &coll[k], red), free(thrown[k].rec);
            save_seed(dir, m, "_reduced", red, &w);
            mod->free(red);
        }
        for (int k = 0; k < mod->nkeyed; k++) free(coll[k].rec);
    }
    /* The partial file of the mapped states, in a scratch directory. */
    char tmp[4096], path[4200];
    snprintf(tmp, sizeof tmp, "%s/.partial.XXXXXX", dir);
    if (!mkdtemp(tmp)) die(tmp);
    if (ms_partial_write(tmp, &pt, w.models) != MS_OK) die("ms_partial_write");
    snprintf(path, sizeof path, "%s/part-00003.partial", tmp);
    FILE *fp = fopen(path, "rb");
    ms_buf_t file = {0};
    unsigned char chunk[4096];
    size_t got;
    while (fp && (got = fread(chunk, 1, sizeof chunk, fp)) > 0)
        if (ms_buf_put(&file, chunk, got) != MS_OK) abort();
    if (!fp || file.len < 16) die(path);
    fclose(fp);
    unlink(path);
    rmdir(tmp);
    ms_buf_t body = {0};
    if (ms_buf_put(&body, file.data + 8, file.len - 16) != MS_OK) abort();
    unsigned char head = 0xF0;
    put(dir, "partial_all", &head, 1, &body);
    ms_buf_free(&body);
    ms_buf_free(&file);
    ms_partial_free(&pt, w.models);
    for (int t = 0; t < 2; t++)
        for (int c = 0; c < MS_MAX_COLUMNS; c++) free(owned[t][c]);
    ms_fuzz_world_free(&w);
    return 0;
}
