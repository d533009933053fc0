/*
 * ms_schema.h - the data contract (docs/schema.md) as code.
 *
 * One X-macro per table lists its columns in file order: name, storage type,
 * C type and, for enumerated columns, the enum definition.  From it come the
 * row structs used by import (spill, sort, write), the column descriptors
 * used by the HDF5 writer and reader, and the CSV header names.  Changing the
 * schema means changing these lists and MS_SCHEMA_VERSION, nothing else.
 *
 * Encodings (see docs/schema.md):
 *   - inst_code, group_code, diag_main, proc_main, drug_code, item_code:
 *     int32 ids into the dictionaries of the reference files
 *     (institutions.h5, groups.h5); -1 means "none" where the column may be
 *     empty.
 *   - enumerated text columns: uint8 with an HDF5 enum type.
 *   - dates: int32 days since 1970-01-01.  money: int64 fen.  A bill
 *     line's qty: int64 thousandths of a unit; unit_price: int64
 *     ten-thousandths of a yuan.
 *   - trace_code (20 digits, more than 64 bits): two uint64 columns,
 *     trace_hi = first 10 digits, trace_lo = last 10 digits.
 */
#ifndef MS_SCHEMA_H
#define MS_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#define MS_SCHEMA_VERSION 1
#define MS_MAX_COLUMNS 32

/* Storage types of a column. */
typedef enum { MS_U8, MS_I32, MS_U32, MS_I64, MS_U64, MS_F32 } ms_ctype_t;

size_t ms_ctype_size(ms_ctype_t t);

/* An enumerated text column: value i is names[i]. */
typedef struct {
    const char *name;  /* HDF5 enum type name, e.g. "visit_type" */
    int count;
    const char *const *names;
} ms_enum_t;

extern const ms_enum_t ms_enum_visit_type; /* outpatient inpatient pharmacy */
extern const ms_enum_t ms_enum_sex;        /* M F */
extern const ms_enum_t ms_enum_dept;       /* IM SUR ... OTH */
extern const ms_enum_t ms_enum_pay_scheme; /* ffs drg dip */
extern const ms_enum_t ms_enum_kind;       /* general specialty primary clinic pharmacy */
extern const ms_enum_t ms_enum_ownership;  /* public private */
extern const ms_enum_t ms_enum_item_category; /* drug exam lab consumable treatment surgery bed nursing other */

enum { MS_VISIT_OUTPATIENT, MS_VISIT_INPATIENT, MS_VISIT_PHARMACY };
enum { MS_SEX_M, MS_SEX_F };
enum { MS_PAY_FFS, MS_PAY_DRG, MS_PAY_DIP };
enum { MS_KIND_GENERAL, MS_KIND_SPECIALTY, MS_KIND_PRIMARY, MS_KIND_CLINIC, MS_KIND_PHARMACY };
enum { MS_OWN_PUBLIC, MS_OWN_PRIVATE };
enum {
    MS_DEPT_IM, MS_DEPT_SUR, MS_DEPT_ORT, MS_DEPT_ONC, MS_DEPT_OPH, MS_DEPT_DEN, MS_DEPT_NEU,
    MS_DEPT_CAR, MS_DEPT_NEP, MS_DEPT_OBS, MS_DEPT_PED, MS_DEPT_REH, MS_DEPT_GER, MS_DEPT_OTH
};

/* Returns the index of text (len bytes) in e, or -1. */
int ms_enum_find(const ms_enum_t *e, const char *text, size_t len);

/* X(name, storage type, C type, enum or NULL).  File order = this order. */
#define MS_SETTLEMENT_COLUMNS(X)                                 \
    X(settle_id, MS_U64, uint64_t, NULL)                         \
    X(person_id, MS_U64, uint64_t, NULL)                         \
    X(inst_code, MS_I32, int32_t, NULL)                          \
    X(visit_type, MS_U8, uint8_t, &ms_enum_visit_type)           \
    X(admit_date, MS_I32, int32_t, NULL)                         \
    X(discharge_date, MS_I32, int32_t, NULL)                     \
    X(settle_date, MS_I32, int32_t, NULL)                        \
    X(age, MS_U8, uint8_t, NULL)                                 \
    X(sex, MS_U8, uint8_t, &ms_enum_sex)                         \
    X(person_region, MS_I32, int32_t, NULL)                      \
    X(dept, MS_U8, uint8_t, &ms_enum_dept)                       \
    X(doctor_id, MS_U32, uint32_t, NULL)                         \
    X(diag_main, MS_I32, int32_t, NULL)                          \
    X(n_diag, MS_U8, uint8_t, NULL)                              \
    X(proc_main, MS_I32, int32_t, NULL)                          \
    X(pay_scheme, MS_U8, uint8_t, &ms_enum_pay_scheme)           \
    X(group_code, MS_I32, int32_t, NULL)                         \
    X(total, MS_I64, int64_t, NULL)                              \
    X(fund_pay, MS_I64, int64_t, NULL)                           \
    X(self_pay, MS_I64, int64_t, NULL)                           \
    X(drug, MS_I64, int64_t, NULL)                               \
    X(exam, MS_I64, int64_t, NULL)                               \
    X(lab, MS_I64, int64_t, NULL)                                \
    X(consumable, MS_I64, int64_t, NULL)                         \
    X(treatment, MS_I64, int64_t, NULL)                          \
    X(surgery, MS_I64, int64_t, NULL)                            \
    X(bed, MS_I64, int64_t, NULL)                                \
    X(nursing, MS_I64, int64_t, NULL)                            \
    X(other, MS_I64, int64_t, NULL)

#define MS_DRUG_ITEM_COLUMNS(X)                                  \
    X(settle_id, MS_U64, uint64_t, NULL)                         \
    X(person_id, MS_U64, uint64_t, NULL)                         \
    X(inst_code, MS_I32, int32_t, NULL)                          \
    X(date, MS_I32, int32_t, NULL)                               \
    X(drug_code, MS_I32, int32_t, NULL)                          \
    X(trace_hi, MS_U64, uint64_t, NULL)                          \
    X(trace_lo, MS_U64, uint64_t, NULL)                          \
    X(qty, MS_U32, uint32_t, NULL)                               \
    X(amount, MS_I64, int64_t, NULL)

/* One line of a settlement's itemised bill (service_items.csv).  item_code
 * is an id into the dataset's item dictionary (ms_refs_t.items), category
 * an ms_item_category_t (io/ms_knowledge.h), qty thousandths of a unit,
 * unit_price ten-thousandths of a yuan, amount fen. */
#define MS_SERVICE_ITEM_COLUMNS(X)                               \
    X(settle_id, MS_U64, uint64_t, NULL)                         \
    X(line_no, MS_U32, uint32_t, NULL)                           \
    X(person_id, MS_U64, uint64_t, NULL)                         \
    X(inst_code, MS_I32, int32_t, NULL)                          \
    X(date, MS_I32, int32_t, NULL)                               \
    X(item_code, MS_I32, int32_t, NULL)                          \
    X(category, MS_U8, uint8_t, &ms_enum_item_category)          \
    X(qty, MS_I64, int64_t, NULL)                                \
    X(unit_price, MS_I64, int64_t, NULL)                         \
    X(amount, MS_I64, int64_t, NULL)                             \
    X(days_supply, MS_I32, int32_t, NULL)                        \
    X(doctor_id, MS_U32, uint32_t, NULL)

/* The nine cost categories of a settlement, in column order. */
#define MS_N_COST_CATEGORIES 9

#define MS_X_FIELD(name, st, ctype, en) ctype name;

/* One settlement, decoded (ids, days, fen). */
typedef struct { MS_SETTLEMENT_COLUMNS(MS_X_FIELD) } ms_settlement_t;
/* One drug line item, decoded. */
typedef struct { MS_DRUG_ITEM_COLUMNS(MS_X_FIELD) } ms_drug_item_t;
/* One line of an itemised bill, decoded. */
typedef struct { MS_SERVICE_ITEM_COLUMNS(MS_X_FIELD) } ms_service_item_t;

/* Column indices: MS_SC_settle_id, ..., MS_SC_COUNT, MS_DC_... and MS_SIC_... */
#define MS_X_SC(name, st, ctype, en) MS_SC_##name,
#define MS_X_DC(name, st, ctype, en) MS_DC_##name,
#define MS_X_SIC(name, st, ctype, en) MS_SIC_##name,
enum { MS_SETTLEMENT_COLUMNS(MS_X_SC) MS_SC_COUNT };
enum { MS_DRUG_ITEM_COLUMNS(MS_X_DC) MS_DC_COUNT };
enum { MS_SERVICE_ITEM_COLUMNS(MS_X_SIC) MS_SIC_COUNT };

typedef struct {
    const char *name;
    ms_ctype_t type;
    size_t offset;           /* offset of the field in the row struct */
    const ms_enum_t *enumdef; /* NULL unless an enumerated text column */
} ms_column_t;

/* The partitioned tables.  Settlements are always there; drug items and
 * service items (the itemised bills) are optional: a dataset without a
 * table's folder has no rows of it (ms_dataset_t.nparts[t] == 0). */
typedef enum { MS_TABLE_SETTLEMENTS, MS_TABLE_DRUG_ITEMS, MS_TABLE_SERVICE_ITEMS, MS_TABLE_COUNT } ms_table_id_t;

typedef struct {
    ms_table_id_t id;
    const char *name;        /* "settlements", the group and directory name */
    const char *csv_name;    /* "settlements.csv" */
    int ncols;
    const ms_column_t *cols;
    size_t row_size;         /* sizeof the row struct */
    int date_col;            /* the column holding the row's date range (min/max) */
} ms_table_t;

const ms_table_t *ms_table(ms_table_id_t id);
/* Column index by name, or -1. */
int ms_table_column(const ms_table_t *t, const char *name);

/* Partition of a person: xxh64 of person_id as 8 little-endian bytes,
 * seed 0, modulo nparts.  Fixed forever: the name goes into every file. */
#define MS_HASH_NAME "xxh64(person_id as 8 little-endian bytes, seed 0) mod partition_count"
uint32_t ms_person_partition(uint64_t person_id, uint32_t nparts);

/* ------------------------------------------------------------------ */
/* Limits of the contract (docs/schema.md, "Limits"): import refuses any
 * value beyond them, naming file, line, column, value and limit.  The sums
 * the engine takes rely on them, and check what they cannot prove. */

/* Money, per field of a record (every money column, and a group's
 * mean_cost): 0 <= fen <= 10^11 (1,000,000,000.00 yuan), about 200 times
 * the costliest real settlement.  Then a record's nine categories or
 * fund_pay + self_pay cannot overflow, any sum of up to
 * INT64_MAX / 10^11 = 92,233,720 records fits int64 (more records, as in a
 * national multi-year extract per institution, are summed with checked adds),
 * every total stays under 2^43 fen (the exact share test's fast path) and
 * under 2^53 (exact as a double). */
#define MS_MONEY_MAX_FEN 100000000000ll
#define MS_MONEY_MAX_TEXT "1000000000.00" /* the limit in yuan, as messages print it */

/* Dates: 1900-01-01 .. 2199-12-31, as days since 1970-01-01. */
#define MS_DATE_MIN_YEAR 1900
#define MS_DATE_MAX_YEAR 2199
#define MS_DAY_MIN (-25567) /* 1900-01-01 */
#define MS_DAY_MAX 84005    /* 2199-12-31 */
#define MS_DATE_WINDOW_TEXT "1900-01-01..2199-12-31"

/* Quantities and counts. */
#define MS_QTY_MAX 1000000u /* packages in one drug line (qty >= 1) */
/* A bill line (service_items.csv): qty in thousandths of a unit, > 0 and at
 * most 1,000,000.000 units; unit_price in ten-thousandths of a yuan, at most
 * the money limit (1,000,000,000.0000 yuan); days_supply 0..36,500. */
#define MS_ITEM_QTY_MAX_MILLI 1000000000ll
#define MS_ITEM_QTY_MAX_TEXT "1000000.000"
#define MS_UNIT_PRICE_MAX 10000000000000ll
#define MS_UNIT_PRICE_MAX_TEXT "1000000000.0000"
#define MS_DAYS_SUPPLY_MAX 36500
#define MS_BEDS_MAX 100000  /* approved beds of one institution (>= 0) */
#define MS_AGE_MAX 120
#define MS_N_DIAG_MAX 50

/* Text, in bytes (UTF-8), each at least 1. */
#define MS_INST_CODE_MAX 32
#define MS_NAME_MAX 256 /* institutions' display names */
#define MS_GROUP_CODE_MAX 16
#define MS_FAMILY_MAX 16
#define MS_DIAG_MAX 16
#define MS_PROC_MAX 8
#define MS_DRUG_CODE_MAX 32
#define MS_SERVICE_ITEM_CODE_MAX 32 /* a bill line's item_code (= MS_ITEM_CODE_MAX of ms_knowledge.h) */

/* Partitions of a dataset, and rows per chunk (import's options). */
#define MS_PARTITIONS_MAX 100000u
#define MS_CHUNK_ROWS_MIN 1024u
#define MS_CHUNK_ROWS_MAX (1u << 24)

/* Dates: days since 1970-01-01 <-> ISO YYYY-MM-DD.
 * ms_date_parse: 0 ok; -1 malformed (not YYYY-MM-DD, or no such calendar
 * day); -2 a real day outside the contract's window (years 1900..2199).
 * ms_date_format: defined for every int32 (no overflow): years 0000..9999
 * print as the proleptic Gregorian date, any other day (only a corrupt or
 * foreign partition can hold one: import refuses it) prints "0000-00-00",
 * which no real date is.  out is NUL-terminated. */
int ms_date_parse(const char *s, size_t len, int32_t *days);
void ms_date_format(int32_t days, char out[11]);

/* Money: yuan text (digits, optional '.' and at most two decimals) <-> fen.
 * Returns 0 ok, or a negative code: see ms_money_error().  The parse
 * accepts anything that fits int64 (MS_MONEY_RANGE beyond); the contract's
 * limit, MS_MONEY_MAX_FEN, is the importer's check. */
#define MS_MONEY_RANGE (-5)
int ms_money_parse(const char *s, size_t len, int64_t *fen);
const char *ms_money_error(int code);
/* Writes "123.45" (always two decimals); returns length.  out >= 24 bytes. */
int ms_money_format(int64_t fen, char *out);

/* Fixed-point decimals (a bill line's qty: 3 places, unit_price: 4): text
 * of digits, optionally '.' and at most `places` decimals, no sign, <->
 * value x 10^places.  ms_fixed_parse returns 0, or MS_FIXED_* below (a
 * value beyond int64 is MS_FIXED_RANGE).  ms_fixed_format writes at least
 * min_places decimals and drops trailing zeros beyond them ("2" for 2000
 * with places 3 and min_places 0; "12.30" for 123000 with 4 and 2);
 * returns the length.  out >= 32 bytes. */
enum { MS_FIXED_EMPTY = -1, MS_FIXED_NEGATIVE = -2, MS_FIXED_DECIMALS = -3, MS_FIXED_SYNTAX = -4, MS_FIXED_RANGE = -5 };
int ms_fixed_parse(const char *s, size_t len, int places, int64_t *v);
int ms_fixed_format(int64_t v, int places, int min_places, char *out);

/* The canonical text of a float32 decimal (weight, expected_los): the
 * shortest fixed-point form that reads back as the same float ("10", "1.25",
 * "0.9"); returns its length.  out >= 48 bytes. */
int ms_decimal_format(float v, char *out);

#endif
