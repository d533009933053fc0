/*
 * ms_import_rows.c - one record of settlements.csv, drug_items.csv or
 * service_items.csv into its binary row: every field validated (syntax,
 * references to the institutions and groups read in stage 1, dates in
 * order, money adding up), then the dictionary codes get provisional ids
 * from the reader's maps.  No I/O here: pass 1 feeds the records and spills
 * the rows.  What a row says of another (a bill line's settlement) is
 * checked in stage 3 and pass 2.
 */
#include <stdio.h>

#include "ms_import_int.h"

#define DIGITS "0123456789"
#define ALNUM_DOT "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789."

/* ------------------------------------------------------------------ */
/* settlements.csv                                                      */

#define SF(name) (&f[MS_SC_##name])

static int sett_parse_person(const import_t *im, const ms_field_t *f, ms_settlement_t *r,
                             row_err_t *e)
{
    uint64_t v;
    if (imp_fld_u64(SF(settle_id), "settle_id", &r->settle_id, e)) return -1;
    if (imp_fld_u64(SF(person_id), "person_id", &r->person_id, e)) return -1;
    if (imp_need(SF(inst_code), "inst_code", e)) return -1;
    r->inst_code = imp_strmap_find(&im->inst, SF(inst_code)->s, SF(inst_code)->len);
    if (r->inst_code < 0)
        return imp_row_bad(e, "inst_code", SF(inst_code), "unknown inst_code '%.*s'",
                           FV(SF(inst_code)));
    if (imp_fld_enum(SF(visit_type), "visit_type", &ms_enum_visit_type, &r->visit_type, e))
        return -1;
    if (imp_fld_date(SF(admit_date), "admit_date", &r->admit_date, e)) return -1;
    if (imp_fld_date(SF(discharge_date), "discharge_date", &r->discharge_date, e)) return -1;
    if (imp_fld_date(SF(settle_date), "settle_date", &r->settle_date, e)) return -1;
    if (imp_fld_range(SF(age), "age", 0, MS_AGE_MAX, &v, e)) return -1;
    r->age = (uint8_t)v;
    if (imp_fld_enum(SF(sex), "sex", &ms_enum_sex, &r->sex, e)) return -1;
    if (imp_fld_region(SF(person_region), "person_region", &r->person_region, e)) return -1;
    if (imp_fld_enum(SF(dept), "dept", &ms_enum_dept, &r->dept, e)) return -1;
    if (imp_fld_range(SF(doctor_id), "doctor_id", 0, UINT32_MAX, &v, e)) return -1;
    r->doctor_id = (uint32_t)v;
    return 0;
}

/* Syntax of the coded columns; dictionary ids are assigned last, once the
 * whole row is known to be good, so rejected rows add no codes. */
static int sett_parse_codes(const import_t *im, const ms_field_t *f, ms_settlement_t *r,
                            row_err_t *e)
{
    uint64_t v;
    if (imp_fld_text(SF(diag_main), "diag_main", MS_DIAG_MAX, ALNUM_DOT, "letters, digits or '.'", e))
        return -1;
    if (imp_fld_range(SF(n_diag), "n_diag", 1, MS_N_DIAG_MAX, &v, e)) return -1;
    r->n_diag = (uint8_t)v;
    if (SF(proc_main)->len &&
        imp_fld_text(SF(proc_main), "proc_main", MS_PROC_MAX, DIGITS ".", "digits or '.'", e))
        return -1;
    if (imp_fld_enum(SF(pay_scheme), "pay_scheme", &ms_enum_pay_scheme, &r->pay_scheme, e))
        return -1;
    const ms_field_t *g = SF(group_code);
    r->group_code = -1;
    if (g->len == 0 && r->pay_scheme != MS_PAY_FFS)
        return imp_row_bad(e, "group_code", g,
                           "empty value (group_code is required when pay_scheme is %s)",
                           ms_enum_pay_scheme.names[r->pay_scheme]);
    if (g->len) {
        r->group_code = imp_strmap_find(&im->group, g->s, g->len);
        if (r->group_code < 0)
            return imp_row_bad(e, "group_code", g, "unknown group_code '%.*s'", FV(g));
    }
    return 0;
}

static int sett_parse_money(const ms_field_t *f, ms_settlement_t *r, row_err_t *e)
{
    const ms_column_t *cols = ms_table(MS_TABLE_SETTLEMENTS)->cols;
    for (int c = MS_SC_total; c <= MS_SC_other; c++) {
        int64_t *dst = (int64_t *)(void *)((char *)r + cols[c].offset);
        if (imp_fld_money(&f[c], cols[c].name, dst, e)) return -1;
    }
    return 0;
}

static int sett_check_dates(const ms_field_t *f, const ms_settlement_t *r, row_err_t *e)
{
    if (r->discharge_date < r->admit_date)
        return imp_row_bad(e, "discharge_date", SF(discharge_date),
                           "discharge_date before admit_date");
    if (r->settle_date < r->discharge_date)
        return imp_row_bad(e, "settle_date", SF(settle_date), "settle_date before discharge_date");
    if (r->visit_type != MS_VISIT_INPATIENT && r->admit_date != r->settle_date)
        return imp_row_bad(e, "admit_date", SF(admit_date),
                           "admit_date must equal settle_date for %s visits",
                           ms_enum_visit_type.names[r->visit_type]);
    if (r->visit_type != MS_VISIT_INPATIENT && r->discharge_date != r->settle_date)
        return imp_row_bad(e, "discharge_date", SF(discharge_date),
                           "discharge_date must equal settle_date for %s visits",
                           ms_enum_visit_type.names[r->visit_type]);
    return 0;
}

static int sett_check_sums(const ms_field_t *f, const ms_settlement_t *r, row_err_t *e)
{
    char a[24], b[24], c[24];
    int64_t pay, cat = 0;
    if (__builtin_add_overflow(r->fund_pay, r->self_pay, &pay) || pay != r->total) {
        ms_money_format(r->fund_pay, a);
        ms_money_format(r->self_pay, b);
        ms_money_format(r->total, c);
        return imp_row_bad(e, "total", SF(total), "fund_pay + self_pay != total (%s + %s != %s)",
                           a, b, c);
    }
    const ms_column_t *cols = ms_table(MS_TABLE_SETTLEMENTS)->cols;
    int overflow = 0;
    for (int k = MS_SC_drug; k < MS_SC_drug + MS_N_COST_CATEGORIES; k++) {
        const int64_t *part = (const int64_t *)(const void *)((const char *)r + cols[k].offset);
        overflow |= __builtin_add_overflow(cat, *part, &cat);
    }
    if (overflow || cat != r->total) {
        if (overflow)
            snprintf(a, sizeof a, "more than int64");
        else
            ms_money_format(cat, a);
        ms_money_format(r->total, c);
        return imp_row_bad(e, "total", SF(total), "cost categories add up to %s, total is %s", a,
                           c);
    }
    return 0;
}

static int32_t dict_add(strmap_t *m, const ms_field_t *f, uint64_t line)
{
    int added;
    return imp_strmap_add(m, f->s, f->len, line, &added);
}

int imp_sett_parse(const import_t *im, strmap_t *diag, strmap_t *proc, const ms_field_t *f,
                   uint64_t line, ms_settlement_t *r, row_err_t *e)
{
    if (sett_parse_person(im, f, r, e) || sett_parse_codes(im, f, r, e) ||
        sett_parse_money(f, r, e) || sett_check_dates(f, r, e) || sett_check_sums(f, r, e))
        return -1;
    r->diag_main = dict_add(diag, SF(diag_main), line);
    r->proc_main = SF(proc_main)->len ? dict_add(proc, SF(proc_main), line) : -1;
    return (r->diag_main < 0 || (SF(proc_main)->len && r->proc_main < 0)) ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* drug_items.csv                                                       */

const char *const imp_drug_columns[DI_COUNT] = {"settle_id", "person_id",  "inst_code", "date",
                                                "drug_code", "trace_code", "qty",       "amount"};

static int drug_parse_trace(const ms_field_t *f, ms_drug_item_t *r, row_err_t *e)
{
    if (imp_need(f, "trace_code", e)) return -1;
    if (f->len != 20)
        return imp_row_bad(e, "trace_code", f, "trace_code must be exactly 20 digits, got %zu",
                           f->len);
    if (imp_digits_u64(f->s, 10, &r->trace_hi) || imp_digits_u64(f->s + 10, 10, &r->trace_lo))
        return imp_row_bad(e, "trace_code", f, "trace_code must be exactly 20 digits ('%.*s')",
                           FV(f));
    return 0;
}

int imp_drug_parse(const import_t *im, strmap_t *drug, const ms_field_t *f, uint64_t line,
                   ms_drug_item_t *r, row_err_t *e)
{
    uint64_t v;
    if (imp_fld_u64(&f[DI_SETTLE], "settle_id", &r->settle_id, e)) return -1;
    if (imp_fld_u64(&f[DI_PERSON], "person_id", &r->person_id, e)) return -1;
    if (imp_need(&f[DI_INST], "inst_code", e)) return -1;
    r->inst_code = imp_strmap_find(&im->inst, f[DI_INST].s, f[DI_INST].len);
    if (r->inst_code < 0)
        return imp_row_bad(e, "inst_code", &f[DI_INST], "unknown inst_code '%.*s'",
                           FV(&f[DI_INST]));
    if (imp_fld_date(&f[DI_DATE], "date", &r->date, e)) return -1;
    if (imp_fld_text(&f[DI_DRUG], "drug_code", MS_DRUG_CODE_MAX, NULL, "characters", e)) return -1;
    if (drug_parse_trace(&f[DI_TRACE], r, e)) return -1;
    if (imp_fld_range(&f[DI_QTY], "qty", 1, MS_QTY_MAX, &v, e)) return -1;
    r->qty = (uint32_t)v;
    if (imp_fld_money(&f[DI_AMOUNT], "amount", &r->amount, e)) return -1;
    r->drug_code = dict_add(drug, &f[DI_DRUG], line);
    return r->drug_code < 0 ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* service_items.csv: its columns are the table's (MS_SIC_*).           */

#define IF(name) (&f[MS_SIC_##name])

int imp_svc_parse(const import_t *im, strmap_t *item, const ms_field_t *f, uint64_t line,
                  ms_service_item_t *r, row_err_t *e)
{
    uint64_t v;
    if (imp_fld_u64(IF(settle_id), "settle_id", &r->settle_id, e)) return -1;
    if (imp_fld_range(IF(line_no), "line_no", 1, UINT32_MAX, &v, e)) return -1;
    r->line_no = (uint32_t)v;
    if (imp_fld_u64(IF(person_id), "person_id", &r->person_id, e)) return -1;
    if (imp_need(IF(inst_code), "inst_code", e)) return -1;
    r->inst_code = imp_strmap_find(&im->inst, IF(inst_code)->s, IF(inst_code)->len);
    if (r->inst_code < 0)
        return imp_row_bad(e, "inst_code", IF(inst_code), "unknown inst_code '%.*s'", FV(IF(inst_code)));
    if (imp_fld_date(IF(date), "date", &r->date, e)) return -1;
    if (imp_fld_text(IF(item_code), "item_code", MS_SERVICE_ITEM_CODE_MAX, NULL, "characters", e)) return -1;
    if (imp_fld_enum(IF(category), "category", &ms_enum_item_category, &r->category, e)) return -1;
    if (imp_fld_fixed(IF(qty), "qty", 3, 1, MS_ITEM_QTY_MAX_MILLI, MS_ITEM_QTY_MAX_TEXT, "units", &r->qty, e))
        return -1;
    if (imp_fld_fixed(IF(unit_price), "unit_price", 4, 0, MS_UNIT_PRICE_MAX, MS_UNIT_PRICE_MAX_TEXT, "yuan",
                      &r->unit_price, e))
        return -1;
    if (imp_fld_money(IF(amount), "amount", &r->amount, e)) return -1;
    if (imp_fld_range(IF(days_supply), "days_supply", 0, MS_DAYS_SUPPLY_MAX, &v, e)) return -1;
    r->days_supply = (int32_t)v;
    if (imp_fld_range(IF(doctor_id), "doctor_id", 0, UINT32_MAX, &v, e)) return -1;
    r->doctor_id = (uint32_t)v;
    r->item_code = dict_add(item, IF(item_code), line);
    return r->item_code < 0 ? 1 : 0;
}
