/*
 * ms_gen_internal.h - the generator's world and plan, shared by
 * ms_gen_world.c (building them), ms_gen_person.c (one person's history) and
 * ms_gen.c (partitions, output, truth).  Private to io/synth.
 */
#ifndef MS_GEN_INTERNAL_H
#define MS_GEN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ms_gen.h"
#include "ms_knowledge.h"
#include "ms_refs.h"
#include "ms_rng.h"
#include "ms_schema.h"

/* A weighted choice among n items: cumulative weights, binary search. */
typedef struct {
    uint32_t n;
    uint32_t *item;
    double *cum;
} gen_picker_t;

typedef struct {
    int32_t code;             /* 6-digit county code */
    uint32_t province;        /* index into the world's provinces */
    double population;        /* relative weight */
    gen_picker_t outpatient;  /* institutions of the county for visits */
    gen_picker_t inpatient;   /* hospitals of the county (beds > 0) */
    gen_picker_t pharmacy;    /* pharmacies of the county */
} gen_county_t;

typedef struct {
    uint8_t scheme;           /* MS_PAY_* of DRG/DIP stays there (ffs: none) */
    gen_picker_t tertiary;    /* level-3 hospitals of the province */
    gen_picker_t inpatient;   /* every hospital of the province */
    gen_picker_t pharmacy;    /* every pharmacy of the province */
} gen_province_t;

/* Per-institution facts beyond ms_institution_t. */
typedef struct {
    uint32_t county;          /* index into the world's counties */
    double weight;            /* attractiveness */
    uint32_t doctors;         /* doctor_id = id * 1000 + 1 .. doctors */
    int8_t pattern;           /* planted ms_pattern_t, or -1 */
    float intensity;          /* of the planted pattern */
    uint32_t partner;         /* ping-pong partner institution */
    uint8_t is_partner;       /* someone's ping-pong partner: plants nothing itself */
    double plant_rate;        /* per local person, for per-person patterns */
    int8_t hard;              /* ms_hard_negative_t of an honest look-alike, or -1 */
    uint8_t tiny;             /* drawn with a hundredth of the usual attractiveness */
    double hn_rate;           /* hard negative: per eligible local person */
    int8_t rule;              /* --bills: planted ms_rule_plant_t, or -1 */
    int8_t bill_hard;         /* --bills: ms_bill_hard_negative_t of an honest look-alike, or -1 */
    float rule_intensity;     /* of the planted rule */
    float rule_rate;          /* share of its eligible settlements that plant it */
} gen_inst_t;

/* A DRG/DIP family and its variants. */
#define GEN_NOGROUP UINT32_MAX
typedef struct {
    uint32_t group[3];        /* group ids by severity; GEN_NOGROUP if absent */
    uint8_t nvariants;        /* 1 (severity 0 only) or 3 */
    uint8_t surgical;
    uint8_t dept;
    double prevalence;
    uint32_t diag_first, diag_count;  /* range in the diagnosis universe */
    uint32_t proc_first, proc_count;  /* range in the procedure universe */
} gen_family_t;

typedef struct {
    int64_t price;            /* fen per package */
    uint32_t prefix;          /* 7-digit trace-code prefix */
    uint8_t chronic;          /* taken every month */
} gen_drug_t;

/* A planted action for one person, decided before generation. */
typedef enum {
    GEN_ACT_GROUP_STAY,       /* inpatient stay on a group-admission day */
    GEN_ACT_OVERLOAD_VISIT,   /* outpatient visit signed by an overloaded doctor */
    GEN_ACT_RESOLD_FIRST,     /* first, legitimate sale of a package */
    GEN_ACT_RESOLD_SECOND,    /* the same package sold again at a fraud pharmacy */
    GEN_ACT_HOARDER,          /* the person hoards a drug */
    GEN_ACT_HN_CATARACT,      /* honest: cataract surgery in a campaign batch */
    GEN_ACT_HN_TINY           /* honest: one of a tiny institution's few records */
} gen_act_kind_t;

/* GEN_ACT_HN_TINY's arg: the extreme record; a stay (else a visit or a
 * purchase). */
#define GEN_TINY_EXTREME 1u
#define GEN_TINY_STAY 2u

typedef struct {
    uint64_t person;          /* person index */
    uint8_t kind;             /* gen_act_kind_t */
    uint32_t inst;
    int32_t day;
    uint32_t arg;             /* doctor, drug */
    uint64_t trace_lo;        /* resold package: trace code, low 10 digits */
    uint64_t trace_hi;
    uint32_t pair;            /* resold pair number */
} gen_act_t;

typedef struct {
    ms_gen_opts_t o;
    ms_refs_t refs;           /* institutions, groups, dictionaries (final ids) */
    uint32_t nprov, ncounty;
    gen_province_t *prov;
    gen_county_t *county;
    gen_picker_t county_pick; /* residence by population */
    gen_inst_t *inst;         /* parallel to refs.inst */
    uint32_t nfam;
    gen_family_t *fam;
    gen_picker_t fam_pick;    /* by prevalence */
    uint32_t *diag_map;       /* diagnosis universe index -> dictionary id;
                                 0..n_outpatient_diag-1 are outpatient codes,
                                 the first five the minor-diagnosis examples,
                                 the last one Z76.000 (repeat prescription) */
    uint32_t n_diag_added;
    uint32_t n_outpatient_diag;
    uint32_t *proc_map;       /* procedure universe index -> dictionary id */
    double years;
    double *exp_stays;        /* expected natural stays per institution */
    double *exp_visits;       /* expected outpatient visits per institution */
    double *county_persons;   /* expected residents per county */
    gen_drug_t *drug;                 /* parallel to refs.drugs */
    uint32_t nchronic;
    uint32_t *chronic_drugs;
    /* Cheaters whose pattern plants per person, as ranges [first[c],
     * first[c + 1]) per county c, each in institution order: pp_ those a
     * resident of c may get a planted stay from (light, minor, ping-pong of
     * the county, beds overflow of the province), ov_ the county's
     * overlapping-stay cheaters. */
    uint32_t *pp_county_first, *pp_county_inst;
    uint32_t *ov_county_first, *ov_county_inst;
    /* Persons' counties and ages while the plan looks for persons
     * (ms_gen_world.c); NULL once the world is built. */
    struct gen_person_index *pindex;
    gen_act_t *acts;          /* sorted by person */
    size_t nacts;
    uint32_t pattern_count[MS_PAT_COUNT];
    /* Hard negatives whose records come from local persons: per county
     * (frail, rehab, family pharmacy) and per province (oncology), as
     * ranges [first[a], first[a + 1]) of hn_inst. */
    uint32_t *hn_county_first, *hn_county_inst;
    uint32_t *hn_prov_first, *hn_prov_inst;
    uint32_t hn_count[MS_HN_COUNT];
    uint32_t fam_chemo;       /* a medical oncology family (MDC R) */
    uint32_t fam_rehab[3];    /* medical families of rehabilitation, neurology, orthopedics */
    uint32_t fam_eye;         /* a surgical ophthalmology family (MDC C) */
    uint32_t fam_heavy;       /* the family of the heaviest group */
    uint32_t drug_dear;       /* the most expensive drug */
    struct gen_bills *bills;  /* --bills: catalogue, knowledge base (ms_gen_bills.c); else NULL */
} gen_world_t;

/* ms_gen_world.c */
ms_status_t gen_world_build(gen_world_t *w, const ms_gen_opts_t *o);
void gen_world_free(gen_world_t *w);
uint32_t gen_pick(const gen_picker_t *p, ms_rng_t *r);   /* UINT32_MAX if empty */

/* A person's fixed attributes: a pure function of (seed, index). */
typedef struct {
    uint64_t index, id;
    uint8_t age, sex;
    uint32_t county;
} gen_person_t;

void gen_person_attrs(const gen_world_t *w, uint64_t index, gen_person_t *p);
uint64_t gen_person_id(uint64_t index);

/* One person's rows, appended to growing arrays. */
typedef struct {
    ms_settlement_t *s;
    size_t ns, cap_s;
    ms_drug_item_t *d;
    size_t nd, cap_d;
    /* planted records: settle_id, pattern, trace code for drug patterns */
    struct gen_truth {
        uint64_t settle_id, person_id;
        uint32_t inst;
        uint8_t pattern;
        uint64_t trace_hi, trace_lo;
    } *t;
    size_t nt, cap_t;
    ms_service_item_t *b;     /* --bills: bill lines, sorted as a partition is */
    size_t nb, cap_b;
} gen_rows_t;

/* Truth rows of planted rule violations carry pattern GEN_RULE_PATTERN + t
 * (ms_rule_plant_t t). */
#define GEN_RULE_PATTERN MS_PAT_COUNT

/* Per-thread working memory of the person generator (reused). */
typedef struct gen_scratch gen_scratch_t;
gen_scratch_t *gen_scratch_new(void);
void gen_scratch_free(gen_scratch_t *sc);

/* ms_gen_bills.c (--bills).  gen_bills_build: the catalogue and its
 * knowledge base (refs.items), the institutions that plant rule violations
 * and the honest look-alikes, from the stream (seed, 6, 0); called once the
 * world is planned, before ms_refs_finish.  gen_bills_person: the bill
 * lines of one person's settlements ev[0..n) (kept, numbered, in partition
 * order), from the stream (seed, 7, index), appended to rows->b sorted as a
 * partition is sorted, and the planted ones to rows->t. */
typedef struct {
    const ms_settlement_t *s;
    int32_t drug;             /* a pharmacy purchase: its drug (dictionary id); else -1 */
    uint32_t packages;        /* its packages (drug items, one each) */
    int8_t pattern;           /* planted ms_pattern_t of the settlement, or -1 */
} gen_bill_event_t;

typedef struct gen_bill_scratch gen_bill_scratch_t;
ms_status_t gen_bills_build(gen_world_t *w);
void gen_bills_free(gen_world_t *w);
const ms_knowledge_t *gen_bills_knowledge(const gen_world_t *w);
void gen_bill_scratch_free(gen_bill_scratch_t *b);
ms_status_t gen_bills_person(const gen_world_t *w, const gen_person_t *p, gen_bill_scratch_t **bs,
                             const gen_bill_event_t *ev, size_t n, gen_rows_t *rows);

/* ms_gen_person.c: append person p's whole history, sorted as a partition
 * is sorted, to rows (and its planted records to rows->t). */
ms_status_t gen_person_history(const gen_world_t *w, const gen_person_t *p, gen_scratch_t *sc,
                               gen_rows_t *rows);

#endif
