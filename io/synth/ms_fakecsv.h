/*
 * ms_fakecsv.h - a random but valid world in canonical CSV (docs/schema.md).
 *
 * Writes institutions.csv, groups.csv, settlements.csv and drug_items.csv
 * into a directory.  Every row satisfies every rule of the data contract:
 * fund_pay + self_pay = total and the nine cost categories add up to total
 * (all money is generated as int64 fen, then split exactly); admit <=
 * discharge <= settle, and all three equal for outpatient and pharmacy
 * visits; group_code set exactly when pay_scheme is drg or dip; unique
 * settle_id and 20-digit trace_code; every drug item belongs to a pharmacy
 * or outpatient settlement with the same person and institution, dated on
 * its settle_date.  A person has no two overlapping inpatient stays.
 *
 * The output is a function of the options alone (seed included): the same
 * options give byte-identical files on every machine.  The PRNG is
 * xoshiro256** (Blackman & Vigna, 2018) seeded through splitmix64
 * (io/common/ms_rng.h).
 *
 * Generation streams: persons are made one at a time with all their visits
 * and written at once, so memory does not grow with the number of
 * settlements (10 million and more are fine).  Institutions and groups are
 * held in memory (a few hundred bytes each).
 *
 * Each file is written to "<name>.tmp.<pid>" and renamed into place only
 * when every file is complete, so a failed run leaves no partial CSV under
 * the final names.
 */
#ifndef MS_FAKECSV_H
#define MS_FAKECSV_H

#include <stdint.h>

#include "ms_progress.h"
#include "ms_rng.h"

/* Awkward values, for tests of the import path.  Each still obeys the data
 * contract; they are rare (a handful of rows each) and off by default. */
enum {
    MS_FAKE_ZERO_MONEY = 1u << 0, /* settlements with total 0.00, items with amount 0.00 */
    MS_FAKE_MAX_CODES  = 1u << 1, /* codes and numbers at their limits: inst_code 32 chars,
                                     group_code 16, diag_main 16, proc_main 8, drug_code 32,
                                     trace codes with leading zeros, n_diag 50,
                                     settle_id 2^64-1, person_id 2^64-2 */
    MS_FAKE_UNICODE    = 1u << 2, /* institution names in Chinese (UTF-8) */
    MS_FAKE_BIG_MONEY  = 1u << 3, /* a few very large amounts (tens of millions of yuan) */
    MS_FAKE_AWKWARD    = 0xffu    /* all of the above */
};

typedef struct {
    uint64_t settlements;    /* number of settlement rows (default 20000) */
    double drug_items_per_pharmacy_visit; /* mean coded items on a pharmacy visit (default 2;
                                     0 = no drug items at all).  Outpatient visits get
                                     coded items too, fewer */
    uint32_t institutions;   /* 0 = settlements / 200, at least 5 */
    uint32_t groups;         /* DRG/DIP groups (default 60, at least 1) */
    uint64_t seed;           /* default 1 */
    int32_t first_day;       /* first day of the window, days since 1970-01-01
                                (default 2023-01-01) */
    int32_t days;            /* length of the window in days (default 365).  Stays start in
                                it; one may end up to 186 days after it, and the person's
                                later visits then follow it */
    unsigned flags;          /* MS_FAKE_* (default 0) */
    ms_progress_fn progress; /* progress of the settlements written (job "fakecsv"), a few
                                times a second and once at the end (finished = 1); NULL
                                (the default): none */
    void *progress_ctx;      /* passed to progress */
} ms_fake_opts_t;

/* Counts of what was written. */
typedef struct {
    uint64_t institutions, groups, persons, settlements, drug_items;
    uint64_t bytes;          /* all four files together */
    double seconds;
} ms_fake_stats_t;

/* The defaults above. */
void ms_fake_opts_init(ms_fake_opts_t *o);

/* Write the four CSV files into dir (created, with its parents, when missing;
 * existing files of the same names are replaced).  Returns 0, or -1 with
 * errno set and a message in ms_fake_error() (also recorded with
 * ms_error_set, so ms_error_detail() has it). */
int ms_fake_write(const ms_fake_opts_t *o, const char *dir);
/* The same, filling *stats (may be NULL). */
int ms_fake_write_stats(const ms_fake_opts_t *o, const char *dir, ms_fake_stats_t *stats);

/* The message of the last failure on this thread ("" if none). */
const char *ms_fake_error(void);

#endif
