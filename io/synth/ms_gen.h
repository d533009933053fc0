/*
 * ms_gen.h - a synthetic national data set with planted fraud and its truth
 * (medsweep gen).  docs/generator.md describes the world and each pattern.
 *
 * Everything is a function of the options: the world (provinces, counties,
 * institutions, doctors, DRG/DIP groups, code dictionaries, drugs) is built
 * first from the seed alone; each person's attributes and history come from
 * random streams seeded by (seed, person index), so a person is the same
 * whichever thread generates it.  Fraud that needs several persons at once
 * (group admissions, a doctor's impossible day, a drug package sold twice)
 * is decided up front in a small plan that each person consults.
 *
 * Output is written partition by partition, in parallel: either directly as
 * HDF5 partitions sorted as import sorts them, or as canonical CSV (--csv)
 * that import reads into the same dataset.  Memory holds one partition per
 * thread plus the world, whatever the number of persons.
 *
 * With bills (--bills) every settlement also gets its itemised bill and the
 * catalogue its knowledge base, a few institutions break each rule of the
 * rule base and a few honest ones come close (ms_gen_bills.c), all from
 * streams of their own: the rest of the world is the world without.
 */
#ifndef MS_GEN_H
#define MS_GEN_H

#include <stdint.h>

#include "ms_progress.h"
#include "ms_status.h"

typedef struct {
    uint32_t institutions;   /* default 200 */
    uint64_t persons;        /* default 100000 */
    int32_t first_day;       /* days since 1970-01-01, default 2025-01-01 */
    int32_t days;            /* default 365 */
    uint64_t seed;           /* default 1 */
    double intensity;        /* planted fraud strength, default 1.0 (0 = none) */
    double fraud_share;      /* share of institutions that cheat, default 0.05 */
    double hard_share;       /* share of institutions that are honest look-alikes (hard
                                negatives), default 0.09; 0 = none */
    int flatten;             /* write a poorer extract: one cost category, no beds, one
                                severity per family, one department, inpatient only */
    int bills;               /* write itemised bills (service_items) and a knowledge base,
                                with planted rule violations and their look-alikes; the
                                settlements and drug items stay those of the world without */
    uint32_t partitions;     /* 0 = one per ~2.5 million settlements */
    uint32_t chunk_rows;     /* 0 = MS_DEFAULT_CHUNK_ROWS */
    int threads;             /* 0 = OpenMP default */
    int csv;                 /* write canonical CSV instead of HDF5 */
    int replace;             /* replace an existing output */
    ms_progress_fn progress; /* progress of the persons generated (job "gen"), a few times a
                                second from one thread at a time, and once at the end
                                (finished = 1); NULL (the default): none */
    void *progress_ctx;      /* passed to progress */
} ms_gen_opts_t;

typedef struct {
    uint64_t persons, settlements, drug_items;
    uint64_t service_items;  /* bill lines (--bills) */
    uint32_t knowledge_items;/* items of the knowledge base (--bills) */
    uint64_t planted_records;
    uint32_t planted_institutions;
    uint32_t hard_negatives;
    uint32_t partitions;
    double seconds;
} ms_gen_result_t;

void ms_gen_opts_init(ms_gen_opts_t *o);

/* Write the world into out_dir (built under a temporary name and renamed
 * into place), with truth/institutions.csv, truth/records.csv,
 * truth/hard_negatives.csv and truth/world.txt. */
ms_status_t ms_gen(const ms_gen_opts_t *o, const char *out_dir, ms_gen_result_t *res);

/* The planted patterns, in the order of truth/institutions.csv. */
typedef enum {
    MS_PAT_OVERLAP,          /* false hospitalization: overlapping stay */
    MS_PAT_LIGHT_STAY,       /* false hospitalization: treatment-light stay */
    MS_PAT_GROUP_ADMISSION,  /* false hospitalization: group admission */
    MS_PAT_MINOR_DIAGNOSIS,  /* false hospitalization: minor-diagnosis admission */
    MS_PAT_BEDS_OVERFLOW,    /* false hospitalization: beds overflow / admission rate */
    MS_PAT_UPCODING,         /* DRG/DIP upcoding */
    MS_PAT_DECOMPOSED,       /* readmission within 15 days, same-day readmission */
    MS_PAT_PINGPONG,         /* transfer ping-pong */
    MS_PAT_OVERLOAD,         /* doctor overload */
    MS_PAT_PREADMISSION,     /* cost shifting: pre-admission outpatient costs */
    MS_PAT_SELF_PAY,         /* cost shifting: self-pay share */
    MS_PAT_RETURNED_DRUGS,   /* repeated traceability code */
    MS_PAT_HOARDING,         /* hoarding buyers */
    MS_PAT_COUNT
} ms_pattern_t;

const char *ms_pattern_name(ms_pattern_t p);

/* The hard negatives: honest institutions that look like cheaters on one
 * indicator, in the order of truth/hard_negatives.csv's round-robin. */
typedef enum {
    MS_HN_TERTIARY_HEAVY,       /* tertiary centre, heavy case mix (severity share, CMI) */
    MS_HN_L2_HIGH_SEVERITY,     /* secondary hospital with truly severe patients (severity share) */
    MS_HN_ONCOLOGY_CYCLES,      /* chemotherapy cycles (readmission within 15 days) */
    MS_HN_FRAIL_READMISSIONS,   /* frail elderly readmitted for real (readmission) */
    MS_HN_REHAB_NURSING,        /* long nursing-heavy rehabilitation stays (treatment-light) */
    MS_HN_CATARACT_CAMPAIGN,    /* batches of cataract surgery from another county (group admission) */
    MS_HN_PREADMISSION_WORKUP,  /* small exams and labs before elective admissions (pre-admission costs) */
    MS_HN_FAMILY_PHARMACY,      /* buyers who buy for their families (hoarding buyer) */
    MS_HN_TINY_EXTREME,         /* a handful of records, one extreme (small numbers) */
    MS_HN_COUNT
} ms_hard_negative_t;

const char *ms_hard_negative_name(ms_hard_negative_t k);

/* --bills: the rule templates of docs/rules.md planted at chosen
 * institutions, named rule_<template> in truth/institutions.csv and
 * truth/records.csv (rule_sex, ..., rule_empty_brush). */
typedef enum {
    MS_RP_SEX,
    MS_RP_AGE,
    MS_RP_OVER_QTY,
    MS_RP_EXCESS_SUPPLY,
    MS_RP_DUPLICATE,
    MS_RP_BED_DAYS,
    MS_RP_SCOPE,
    MS_RP_REPEAT_EXAM,
    MS_RP_SETTING,
    MS_RP_EMPTY_BRUSH,
    MS_RP_COUNT
} ms_rule_plant_t;

const char *ms_rule_plant_name(ms_rule_plant_t t);

/* --bills: honest institutions whose bills look like a rule's violations
 * but keep within it (truth/hard_negatives.csv, beside the kinds above). */
typedef enum {
    MS_BHN_REPEAT_AFTER_WORSENING, /* exams repeated 8-10 days later (repeat window 7) */
    MS_BHN_LONG_PRESCRIPTION,      /* 90 days of a chronic drug every 90 days (limit 90, 117 in 90 days) */
    MS_BHN_AT_DAILY_MAX,           /* items billed at exactly their daily maximum */
    MS_BHN_BED_DAYS_LOS_PLUS_ONE,  /* bed-days = length of stay + 1 (the limit) */
    MS_BHN_COUNT
} ms_bill_hard_negative_t;

const char *ms_bill_hard_negative_name(ms_bill_hard_negative_t k);

#endif
