/*
 * ms_testbills.h - itemised bills (service_items.csv) and a knowledge base
 * (knowledge/) beside a test's canonical CSV extract.
 *
 * ms_testbills_write reads CSV_DIR/settlements.csv (by column name) and
 * writes, for a share of its settlements, bill lines that import accepts:
 * each settlement's nine cost columns split into lines that add up to them
 * exactly, dated within the stay, numbered 1.. within the settlement, with
 * codes of a small catalogue (ms_testbills_knowledge lists it), quantities
 * of up to three decimals and prices of up to four.  The text is canonical,
 * as export writes it (header in schema order, qty "2" or "1.5", unit_price
 * "12.30" or "0.1234", money with two decimals, RFC 4180 quoting only where
 * needed), so an import followed by an export gives the same lines back.
 */
#ifndef MS_TESTBILLS_H
#define MS_TESTBILLS_H

#include <stddef.h>
#include <stdint.h>

/* service_items.csv's header, in schema order. */
#define MS_TESTBILLS_HEADER \
    "settle_id,line_no,person_id,inst_code,date,item_code,category,qty,unit_price,amount,days_supply,doctor_id\n"

/* Write CSV_DIR/service_items.csv for about share of the settlements (all
 * of those with a cost when share >= 1), drawn with seed; the catalogue
 * holds one awkward code, "OT,1" (quoted), when awkward is set.  Returns
 * the lines written. */
size_t ms_testbills_write(const char *csv_dir, double share, uint64_t seed, int awkward);

/* Write CSV_DIR/knowledge/items.csv and exclusive_items.csv: the plain
 * codes of the catalogue, with a restriction or two each, and two pairs. */
void ms_testbills_knowledge(const char *csv_dir);

/* Append text (whole lines) to CSV_DIR/name. */
void ms_testbills_append(const char *csv_dir, const char *name, const char *text);

#endif
