/*
 * ms_import_refs.c - stage 1: institutions.csv and groups.csv, read whole
 * (they are small) into the import's ms_refs_t in file order.  Every row is
 * validated; the code maps give each code a provisional id (its row) and
 * find duplicates with the line of the first one.  Any bad row stops the
 * import, skip_bad or not: the references must be sound.  So does any error
 * of the knowledge base (CSV_DIR/knowledge/, ms_knowledge_load_csv), read
 * here too, before the long passes.
 */
#include <stdlib.h>
#include <string.h>

#include "ms_buf.h"
#include "ms_fs.h"
#include "ms_import_int.h"

static ms_status_t open_csv(const import_t *im, const char *name, const char *const *cols,
                            int ncols, ms_csv_t **c)
{
    char *path = ms_path_join(im->csv_dir, name);
    if (!path) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_status_t st = ms_csv_open(path, cols, ncols, c);
    free(path);
    return st;
}

/* A reference file: its columns, its code column, and how a row becomes an
 * entry (an institution, a group) of the import's ms_refs_t. */
typedef struct {
    const char *name;              /* "institutions.csv" */
    const char *const *columns;
    int ncols;
    int code;                      /* the code column's index */
    const char *code_name;         /* and name */
    int (*parse)(const ms_field_t *f, void *row, row_err_t *e);
    ms_status_t (*append)(import_t *im, const ms_field_t *f, const void *row);
} ref_file_t;

/* Read a reference file in file order: parse each row, give its code a
 * provisional id in codes (a code seen before is a bad row), append it. */
static ms_status_t read_ref_file(import_t *im, const ref_file_t *rf, strmap_t *codes)
{
    ms_csv_t *c;
    MS_TRY(open_csv(im, rf->name, rf->columns, rf->ncols, &c));
    ms_status_t st = MS_OK;
    const ms_field_t *f;
    uint64_t line;
    row_err_t e;
    while (st == MS_OK && (st = ms_csv_next(c, &f, &line)) == MS_OK && f) {
        union {
            ms_institution_t inst;
            ms_group_t group;
        } r;
        memset(&r, 0, sizeof r);
        const ms_field_t *code = &f[rf->code];
        int added;
        if (rf->parse(f, &r, &e)) {
            st = imp_row_fail(ms_csv_name(c), line, &e);
        } else if (imp_strmap_add(codes, code->s, code->len, line, &added) < 0) {
            st = ms_error_set(MS_E_NOMEM, "out of memory");
        } else if (!added) {
            int32_t id = imp_strmap_find(codes, code->s, code->len);
            imp_row_bad(&e, rf->code_name, code, "duplicate %s '%.*s' (first at line %llu)",
                        rf->code_name, FV(code), (unsigned long long)codes->line[id]);
            st = imp_row_fail(ms_csv_name(c), line, &e);
        } else {
            st = rf->append(im, f, &r);
        }
    }
    ms_csv_close(c);
    return st;
}

/* ------------------------------------------------------------------ */
/* institutions.csv                                                     */

static const char *const inst_columns[] = {"inst_code", "name",   "kind", "level",
                                           "ownership", "region", "beds"};
enum { IC_CODE, IC_NAME, IC_KIND, IC_LEVEL, IC_OWN, IC_REGION, IC_BEDS, IC_COUNT };

static int inst_parse(const ms_field_t *f, void *row, row_err_t *e)
{
    ms_institution_t *r = row;
    uint64_t v;
    if (imp_fld_text(&f[IC_CODE], "inst_code", MS_INST_CODE_MAX, NULL, "characters", e)) return -1;
    if (imp_fld_text(&f[IC_NAME], "name", MS_NAME_MAX, NULL, "bytes", e)) return -1;
    if (imp_fld_enum(&f[IC_KIND], "kind", &ms_enum_kind, &r->kind, e)) return -1;
    if (imp_fld_range(&f[IC_LEVEL], "level", 0, 3, &v, e)) return -1;
    r->level = (uint8_t)v;
    if (imp_fld_enum(&f[IC_OWN], "ownership", &ms_enum_ownership, &r->ownership, e)) return -1;
    if (imp_fld_region(&f[IC_REGION], "region", &r->region, e)) return -1;
    if (imp_fld_range(&f[IC_BEDS], "beds", 0, MS_BEDS_MAX, &v, e)) return -1;
    r->beds = (int32_t)v;
    return 0;
}

static ms_status_t inst_append(import_t *im, const ms_field_t *f, const void *row)
{
    const ms_institution_t *r = row;
    ms_refs_t *refs = &im->refs;
    MS_TRY(ms_grow(&refs->inst, &im->inst_cap, refs->n_inst + 1, sizeof *refs->inst, 64));
    ms_institution_t *d = &refs->inst[refs->n_inst];
    *d = *r;
    d->inst_code = strdup(f[IC_CODE].s);
    d->name = strdup(f[IC_NAME].s);
    refs->n_inst++; /* counted before the check so that ms_refs_free frees it */
    if (!d->inst_code || !d->name) return ms_error_set(MS_E_NOMEM, "out of memory");
    return MS_OK;
}

ms_status_t imp_read_institutions(import_t *im)
{
    static const ref_file_t file = {.name = "institutions.csv", .columns = inst_columns,
                                    .ncols = IC_COUNT, .code = IC_CODE, .code_name = "inst_code",
                                    .parse = inst_parse, .append = inst_append};
    return read_ref_file(im, &file, &im->inst);
}

/* ------------------------------------------------------------------ */
/* groups.csv                                                           */

static const char *const group_columns[] = {"group_code", "family",   "severity",     "weight",
                                            "mdc",        "surgical", "expected_los", "mean_cost"};
enum { GC_CODE, GC_FAMILY, GC_SEV, GC_WEIGHT, GC_MDC, GC_SURG, GC_LOS, GC_COST, GC_COUNT };

static int group_parse(const ms_field_t *f, void *row, row_err_t *e)
{
    ms_group_t *r = row;
    uint64_t v;
    if (imp_fld_text(&f[GC_CODE], "group_code", MS_GROUP_CODE_MAX, NULL, "characters", e)) return -1;
    if (imp_fld_text(&f[GC_FAMILY], "family", MS_FAMILY_MAX, NULL, "characters", e)) return -1;
    if (imp_fld_range(&f[GC_SEV], "severity", 0, 2, &v, e)) return -1;
    r->severity = (uint8_t)v;
    if (imp_fld_pos_float(&f[GC_WEIGHT], "weight", &r->weight, e)) return -1;
    if (imp_need(&f[GC_MDC], "mdc", e)) return -1;
    if (f[GC_MDC].len != 1 || f[GC_MDC].s[0] < 'A' || f[GC_MDC].s[0] > 'Z')
        return imp_row_bad(e, "mdc", &f[GC_MDC], "mdc must be one letter A-Z ('%.*s')",
                           FV(&f[GC_MDC]));
    r->mdc = f[GC_MDC].s[0];
    if (imp_fld_range(&f[GC_SURG], "surgical", 0, 1, &v, e)) return -1;
    r->surgical = (uint8_t)v;
    if (imp_fld_pos_float(&f[GC_LOS], "expected_los", &r->expected_los, e)) return -1;
    return imp_fld_money(&f[GC_COST], "mean_cost", &r->mean_cost, e);
}

static ms_status_t group_append(import_t *im, const ms_field_t *f, const void *row)
{
    const ms_group_t *r = row;
    ms_refs_t *refs = &im->refs;
    MS_TRY(ms_grow(&refs->groups, &im->group_cap, refs->n_groups + 1, sizeof *refs->groups, 64));
    ms_group_t *d = &refs->groups[refs->n_groups];
    *d = *r;
    d->group_code = strdup(f[GC_CODE].s);
    d->family = strdup(f[GC_FAMILY].s);
    refs->n_groups++;
    if (!d->group_code || !d->family) return ms_error_set(MS_E_NOMEM, "out of memory");
    return MS_OK;
}

ms_status_t imp_read_groups(import_t *im)
{
    static const ref_file_t file = {.name = "groups.csv", .columns = group_columns,
                                    .ncols = GC_COUNT, .code = GC_CODE, .code_name = "group_code",
                                    .parse = group_parse, .append = group_append};
    return read_ref_file(im, &file, &im->group);
}

/* ------------------------------------------------------------------ */
/* knowledge/: the knowledge base, when the extract has one.            */

ms_status_t imp_read_knowledge(import_t *im)
{
    if (!im->have_knowledge) return MS_OK;
    char *dir = ms_path_join(im->csv_dir, "knowledge");
    if (!dir) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_status_t st = ms_knowledge_load_csv(dir, &im->kb);
    free(dir);
    return st;
}
