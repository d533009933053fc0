/*
 * ms_testdata.h - small hand-built datasets for model tests.
 *
 * A test describes a few institutions, groups and settlements in C (row
 * structs with codes as ids), and ms_testdata_write makes a real dataset
 * of it: reference files and sorted partitions, exactly as import would.
 * ms_testdata_sweep then runs the real engine on it and returns the
 * indicators per institution.  ms_testsweep.h wraps the whole round (a
 * fresh directory, the dataset, rules, sweeps, the outputs read back).
 */
#ifndef MS_TESTDATA_H
#define MS_TESTDATA_H

#include <stddef.h>
#include <stdint.h>

#include "ms_dataset.h"
#include "ms_refs.h"
#include "ms_schema.h"
#include "ms_status.h"

typedef struct {
    ms_refs_t refs;             /* fill inst/groups/dictionaries; ms_testdata_write sorts nothing: give
                                   codes already in byte order */
    ms_settlement_t *s;
    size_t ns, cap_s;
    ms_drug_item_t *d;
    size_t nd, cap_d;
    ms_service_item_t *b;       /* bill lines: written as service_items when there are any (give their
                                   codes in refs.items, sorted) */
    size_t nb, cap_b;
    uint32_t partitions;        /* default 2 */
} ms_testdata_t;

/* An empty world with n_inst institutions "H0001".. (general, level 2,
 * public, region 110101, 100 beds), n_groups groups "G001".. (family of 3
 * variants each: severity 0,1,2, weights 1.0,1.3,1.8, expected_los 6, 7.8,
 * 10.2, mean cost 10000 yuan x weight), diagnoses "A00.0".."A99.0" (100),
 * procedures "01.01".."01.20", drugs "D0001".."D0050".  Change refs
 * freely before writing (keep codes sorted). */
void ms_testdata_init(ms_testdata_t *t, uint32_t n_inst, uint32_t n_families);
void ms_testdata_free(ms_testdata_t *t);

/* A settlement with sensible defaults (outpatient, 100 yuan all drug,
 * fund 50%, doctor 0, diag 0, no group); the caller adjusts the fields.
 * settle_id is assigned in order (1, 2, ...). Returns a pointer valid until
 * the next add. */
ms_settlement_t *ms_testdata_visit(ms_testdata_t *t, uint64_t person, uint32_t inst, int32_t day);
/* An inpatient stay [admit, discharge] of group g (drg), cost = group mean. */
ms_settlement_t *ms_testdata_stay(ms_testdata_t *t, uint64_t person, uint32_t inst, int32_t admit,
                                  int32_t discharge, int32_t group);
ms_drug_item_t *ms_testdata_item(ms_testdata_t *t, const ms_settlement_t *s, uint32_t drug, uint64_t trace_hi,
                                 uint64_t trace_lo);
/* A bill line of settlement s: item id `item` (of refs.items), category
 * (0 drug .. 8 other), amount in fen, qty 1 unit at amount (unit_price in
 * ten-thousandths of a yuan), dated the settlement's admission, line_no the
 * next of the settlement's.  The caller keeps the settlement's categories
 * equal to its lines' sums (import's rule; the engine does not check it).
 * Returns a pointer valid until the next add. */
ms_service_item_t *ms_testdata_line(ms_testdata_t *t, const ms_settlement_t *s, int32_t item, int category,
                                    int64_t amount);
/* Set total and split it: all in one category k (0 drug .. 8 other). */
void ms_testdata_cost(ms_settlement_t *s, int64_t total_fen, int category, double fund_share);

/* Write the dataset into dir (refs finished, rows sorted and partitioned;
 * service_items only when there are bill lines). */
ms_status_t ms_testdata_write(ms_testdata_t *t, const char *dir);

/* One indicator value from a finished sweep's indicators.csv, its columns
 * found by the header's names (returns 0 and fills num/den, or -1 when the
 * institution has no row for it or there is no indicators.csv). */
int ms_testdata_indicator(const char *out_dir, const char *inst_code, const char *model, const char *indicator,
                          long long *num, long long *den);

/* Run `medsweep sweep dir --out out --replace --quiet [extra]`; returns the
 * exit status, output in *log (caller frees) when log is not NULL.  Unless
 * extra has its own --config, the rules ask for all clues (all_clues = 1). */
int ms_testdata_sweep(const char *dir, const char *out, const char *extra, char **log);

/* Every row of one table of an open dataset, in partition order, as row
 * structs (ms_settlement_t, ms_drug_item_t or ms_service_item_t) in *rows
 * (caller frees). */
ms_status_t ms_testdata_load(const ms_dataset_t *ds, ms_table_id_t table, void **rows, size_t *n);

/* The same for one partition file (refs NULL: not checked against them). */
ms_status_t ms_testdata_load_part(const char *path, ms_table_id_t table, const ms_refs_t *refs, void **rows,
                                  size_t *n);

/* Damage a partition file: overwrite two bytes (b0, b1) of chunk `chunk` of
 * column `column` at 1/at of its length (asserting the file opens). */
void ms_testdata_damage(const char *path, ms_table_id_t table, int column, size_t chunk, unsigned at, uint8_t b0,
                        uint8_t b1);

/* Day number of an ISO date (asserting it is valid). */
int32_t ms_testdata_day(const char *iso);

#endif
