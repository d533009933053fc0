/*
 * ms_model.h - what a fraud model is to the engine: a descriptor.
 *
 * A model is one file in models/ and one line in models/ms_registry.c.  Its
 * descriptor (ms_model_t) says everything the engine knows of it: the
 * columns it reads, the indicators it computes (each with a description and
 * parameters with bounds), its place in the run (whether it always runs, its
 * default weight, whether its numbers are the records swept or the baseline
 * that `medsweep eval` compares with), its keyed aggregations, and its
 * callbacks.  The engine names no model.  docs/writing-a-model.md walks
 * through writing one.
 *
 * Life of a state (all callbacks return ms_status_t; none prints or exits):
 *   init      one fresh state per partition (and per reducing thread);
 *   batch     a batch of one table: whole persons only (b->persons lists
 *             where each person's rows begin);
 *   person    one person's contiguous rows [begin, end) of a batch;
 *   save/load the state of a finished partition, persisted for --resume;
 *             save appends with ms_buf_put only and never reads back what
 *             it appended (out may be a stream whose bytes are compressed
 *             and written before save returns); load fills a state fresh
 *             from init;
 *   merge     into += from, called in partition order (from is the later
 *             partition), so non-commutative parts (lists, floating point)
 *             come out the same every run;
 *   reduce    per keyed aggregation (ms_keyed_t): the values of one key,
 *             emitted with ms_emit during batch/person; reducing states are
 *             merged in thread order, so reduce must only add commutatively
 *             (integer counts, lists sorted later);
 *   finalize  turns the merged state into indicators per institution.
 *
 * Columns: a model reads a batch's columns with ms_col(b, MS_SC_...) and
 * declares each in settlement_cols / drug_cols / service_cols (the tables
 * arrive in that order, MS_TABLE_SETTLEMENTS, MS_TABLE_DRUG_ITEMS,
 * MS_TABLE_SERVICE_ITEMS; a table no model declares is not read at all).  A column it reads but did
 * not declare reads as zeros and fails the sweep with an error naming the
 * model and the column.
 */
#ifndef MS_MODEL_H
#define MS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "ms_buf.h"
#include "ms_reader.h"
#include "ms_refs.h"
#include "ms_rules.h"
#include "ms_schema.h"
#include "ms_status.h"

typedef enum { MS_PARAM_NUMBER = 0, MS_PARAM_LIST = 1 } ms_param_kind_t;

/* A parameter of an indicator, set in the rule configuration.  Numbers have
 * bounds; lists (e.g. the minor diagnoses) are strings, with a default given
 * as one comma-separated string.  A number that counts something (days,
 * records, institutions) sets integer: the rules then refuse 11.5 for it. */
typedef struct {
    const char *name;
    const char *description;
    double min, def, max;
    ms_param_kind_t kind;
    const char *def_list;
    int integer;               /* 1: a whole number; 0 (default): any number in bounds */
} ms_param_t;

/* How the scoring reads an indicator. */
typedef enum {
    MS_IND_INFO = 0,   /* descriptive only: reported, never scored */
    MS_IND_SHARE,      /* numerator = records flagged, denominator = records that could be;
                          compared with the peers' rate (or the model's expected count) */
    MS_IND_RATIO       /* numerator and denominator are amounts (stays and bed-years, weight
                          and stays...): the ratio is compared with the peers' pooled ratio */
} ms_ind_kind_t;

/* Which number of an indicator counts the records it rests on (for the
 * small-number rule): its denominator (the default: stays, settlements,
 * drug lines) or its numerator (the peak census of beds_overflow), divided
 * by evidence_unit when that number is kept scaled (case-mix weight x 1000
 * per stay, admissions x 365). */
typedef enum { MS_EVIDENCE_DEN = 0, MS_EVIDENCE_NUM = 1 } ms_evidence_t;

/* Facts a clue carries beside its record (ms_clue_t.fact). */
#define MS_CLUE_FACTS 3

/* What a clue's fact[k] holds, and how clues.csv writes it. */
typedef enum {
    MS_FACT_NONE = 0,
    MS_FACT_COUNT,     /* a whole number of records, days, beds */
    MS_FACT_ID,        /* an identifier (a doctor) */
    MS_FACT_FEN,       /* money: written in yuan, two decimals */
    MS_FACT_PPM,       /* a share in millionths: written as a share 0..1, six decimals */
    MS_FACT_MILLI,     /* a quantity in thousandths of a unit: written with three decimals */
    MS_FACT_DATE,      /* days since 1970-01-01: written YYYY-MM-DD */
    MS_FACT_DIAG,      /* a diagnosis id: written as its ICD-10 code */
    MS_FACT_DRUG,      /* a drug id: written as its national drug code */
    MS_FACT_GROUP,     /* a DRG/DIP group id: written as its group code */
    MS_FACT_TRACE      /* a traceability code: fact[k] its first 10 digits, fact[k + 1] the last 10
                          (the next fact is MS_FACT_NONE); written as the two halves joined by '-' */
} ms_fact_kind_t;

typedef struct {
    const char *column;        /* its clues.csv column, with its unit: "self_pay_yuan", "doctor_id" */
    ms_fact_kind_t kind;
} ms_fact_t;

typedef struct {
    const char *name;          /* unique within the model */
    const char *description;   /* what an inspector reads */
    const ms_param_t *params;
    int nparams;
    ms_ind_kind_t kind;
    int direction;             /* +1: higher is suspicious, -1: lower is */
    const char *reason;        /* words for a ranked row: "overlapping stays" */
    ms_evidence_t evidence;    /* the records it rests on: den (default) or num ... */
    int64_t evidence_unit;     /* ... divided by this (0 or 1: as they are) */
    double suspicious_above;   /* a value at or below this is never suspicious, whatever the
                                  peers do (beds_overflow: 1, a full hospital is not a fraud) */
    const char *const *corroborated_by; /* NULL-terminated names of indicators of the same model: this
                                  one is evidence only where one of them deviates credibly too
                                  (more CC/MCC stays is upcoding only when they are cheap or short
                                  for their group; severity that rises with cost is not) */
    int impossible;            /* each flagged record is itself evidence (a package sold
                                  twice): no materiality threshold applies */
    ms_fact_t facts[MS_CLUE_FACTS]; /* what its clues' fact[] hold (kind 0: nothing) */
    const char *other;         /* what its clues' counterpart is, in words ("the stay it lies
                                  inside"), NULL: none */
    const char *clue_date;     /* what its clues' date is: "admission", "sale"; NULL: "settlement" */
    const char *num_unit;      /* what its numerator and denominator count, for the outputs ("stays", */
    const char *den_unit;      /* "admissions x 365"; "yuan": an amount kept in fen); NULL: "records" */
    const char *clue_record;   /* what its clues' record is when not a settlement ("drug line": its
                                  amount is the line's, not a fund payment); NULL: a settlement */
} ms_indicator_t;

/* One indicator's configuration, resolved (defaults filled in). */
typedef struct {
    double weight;             /* in its model's score */
    double *value;             /* [nparams]: numbers (NaN for lists) */
    char ***list;              /* [nparams]: list items (NULL for numbers) */
    size_t *nlist;             /* [nparams] */
} ms_indicator_config_t;

typedef struct {
    double weight;             /* the model's weight in the overall score */
    ms_indicator_config_t *ind;/* [nindicators] */
} ms_model_config_t;

/* What a model may know of the run. */
typedef struct {
    const ms_refs_t *refs;
    int32_t min_date, max_date;     /* of the dataset's settlements */
    const ms_model_config_t *cfg;   /* this model's rules */
    const uint32_t *peer;           /* [n_inst] peer group of each institution; set for finalize only */
    uint32_t npeer;
    const ms_knowledge_t *kb;       /* the dataset's knowledge base (NULL: none) */
    const ms_ruleset_t *rules;      /* the configuration's rules compiled against kb (the rules model) */
} ms_model_env_t;

/* Parameter p of indicator i (a number), and a list parameter. */
static inline double ms_param(const ms_model_env_t *e, int i, int p) { return e->cfg->ind[i].value[p]; }
static inline const char *const *ms_param_list(const ms_model_env_t *e, int i, int p, size_t *n)
{
    *n = e->cfg->ind[i].nlist[p];
    return (const char *const *)e->cfg->ind[i].list[p];
}

/* One keyed aggregation of a model: records (k0, k1) -> a value of
 * value_size bytes, emitted while mapping and met whole per key in reduce,
 * whatever partition or thread emitted them (the engine's shuffle, which
 * spills past the memory cap).  A key's values arrive sorted by their bytes,
 * so a value must have no padding. */
typedef struct {
    const char *name;          /* unique within the model; names its spill directory */
    size_t value_size;         /* bytes, > 0 */
    ms_status_t (*reduce)(void *state, uint64_t k0, uint64_t k1, const void *values, size_t n);
    /* Records it expects to emit per settlement and per drug item (about:
     * e.g. 1 for one per row, 0.03 for one per inpatient stay).  Only
     * sizes its share of the sweep's memory for keyed aggregation; what
     * spills never changes a result. */
    double per_settlement, per_drug_item;
    /* Optional: a key with at most floor(state, k0, k1) values gives reduce
     * nothing to do (reduce must still judge n itself: it may be called
     * for such a key).  The engine may then leave most such keys out
     * before sorting them.  state is the model's merged state, or (with
     * keys, while mapping) a state fresh from init, read only: the floor
     * must depend on the rules alone, never on what was mapped or reduced. */
    size_t (*floor)(const void *state, uint64_t k0, uint64_t k1);
    /* The same per bill line (service_items), as per_settlement. */
    double per_service_item;
    /* Optional, with floor: the key of every record the model emits into
     * this aggregation from a batch of key_table, found from the columns
     * key_cols alone (a subset of the model's columns of that table; the
     * batch has only those, and rows the quality filter would drop too).
     * keys writes them to k0[i], k1[i] and returns how many (at most
     * b->rows; any order, repeats allowed).  The engine then counts keys
     * in a pass over those columns before the map, and emits only the
     * records whose key's count can pass its floor (docs/engine.md, Key
     * count).  More keys than records costs nothing; a record whose key
     * keys never gave would be lost: the engine stops with an internal
     * error where it sees one. */
    ms_table_id_t key_table;
    uint64_t key_cols;
    double key_share; /* distinct keys per record, about (sizes the count's counters; 0: 1) */
    size_t (*keys)(const ms_batch_t *b, uint64_t *k0, uint64_t *k1);
} ms_keyed_t;

/* The keyed aggregations, as a model sees them while mapping. */
typedef struct {
    void *const *impl;         /* [nkeyed]: the engine's shuffle of each */
    int nkeyed;
    int tid;
    ms_status_t (*emit)(void *impl, int tid, uint64_t k0, uint64_t k1, const void *value);
} ms_emit_t;

/* Emit (k0, k1) -> value into the model's keyed aggregation number keyed
 * (an index into its descriptor's keyed[]). */
static inline ms_status_t ms_emit(ms_emit_t *e, int keyed, uint64_t k0, uint64_t k1, const void *value)
{
    if (keyed < 0 || keyed >= e->nkeyed)
        return ms_error_set(MS_E_INTERNAL, "emit into keyed aggregation %d of %d", keyed, e->nkeyed);
    return e->emit(e->impl[keyed], e->tid, k0, k1, value);
}

/* Column c of a batch, as a model reads it.  The engine hands each model a
 * batch with only the columns it declared; reading another gives zeros
 * (never a crash) and records the mistake, which the engine turns into an
 * error naming the model and the column (ms_col_take_undeclared). */
const void *ms_col_undeclared(const ms_batch_t *b, int c);
static inline const void *ms_col(const ms_batch_t *b, int c)
{
    return b->col[c] ? b->col[c] : ms_col_undeclared(b, c);
}
/* The first undeclared column read by this thread since the last call, or
 * -1; clears it. */
int ms_col_take_undeclared(void);

/* Indicators per institution, and the records behind them.  A clue is one
 * record an inspector checks against the institution's books: the record
 * itself, the other half of the evidence where there is one (the stay it
 * overlaps, the stay before a readmission, the other sale of a code), and
 * up to MS_CLUE_FACTS facts whose meaning the indicator declares
 * (ms_indicator_t.facts: the doctor and that day's visits, the diagnosis,
 * the shares behind a share test). */
#define MS_CLUE_NO_INST UINT32_MAX
typedef struct {
    uint64_t settle_id, person_id;
    uint32_t inst;
    uint16_t indicator;        /* index in the model's indicators */
    int32_t date;              /* the record's date: a stay's admission, a visit's or sale's settlement */
    int64_t amount;            /* fund payment in fen (a drug line: its amount) */
    uint64_t other_settle;     /* the counterpart record, 0: none */
    uint32_t other_inst;       /* its institution, MS_CLUE_NO_INST: none */
    int32_t other_date;        /* its date, as date */
    int64_t other_amount;      /* its fund payment (a line: its amount), fen */
    int64_t fact[MS_CLUE_FACTS];
} ms_clue_t;


typedef struct {
    uint32_t n_inst;
    int nind;
    int64_t *num;              /* [nind * n_inst]: numerator (flagged records, or a sum) */
    int64_t *den;              /* [nind * n_inst]: denominator (records it could flag) */
    double *expected;          /* [nind * n_inst] or NULL: the numerator the peers predict, when the
                                  model standardises itself (e.g. severity by DRG family); NaN where
                                  it does not apply */
    ms_clue_t *clues;
    size_t nclues;
} ms_model_result_t;

void ms_model_result_free(ms_model_result_t *r);
/* Allocate num and den (zeroed) for nind indicators; expected when asked. */
ms_status_t ms_model_result_alloc(ms_model_result_t *r, uint32_t n_inst, int nind, int with_expected);

typedef struct ms_model {
    const char *name;
    const char *version;       /* changes whenever its saved state or results change */
    const char *description;
    uint64_t settlement_cols;  /* bitmask of MS_SC_* read (0: none) */
    uint64_t drug_cols;        /* bitmask of MS_DC_* read (0: none) */
    uint64_t service_cols;     /* bitmask of MS_SIC_* read (0: none): the bill lines (service_items),
                                  read only when some model declares columns of them; a model that
                                  declares them runs only on a dataset that has bill lines */
    int whole_partition;       /* 1: a state sees a partition whole, its tables in order
                                  (settlements, drug items, bill lines): the partition is one slice */
    size_t state_per_row[MS_TABLE_COUNT]; /* bytes its state grows by per row of each table of the
                                  partition it holds (0: it does not grow with the rows); the sweep's
                                  memory budget counts them for the largest partition */
    const ms_indicator_t *indicators;
    int nindicators;
    const ms_keyed_t *keyed;   /* its keyed aggregations (NULL: none) */
    int nkeyed;

    /* Its place in the run. */
    double default_weight;     /* in the overall score unless the rules say otherwise:
                                  1 for a fraud model, 0 for a descriptive one */
    int always_runs;           /* runs whatever --models names */
    const char *records_indicator;  /* this indicator's numerator is the records swept at each
                                       institution (ranked.csv "records"); one model names one */
    const char *baseline_indicator; /* `medsweep eval` compares the ranking with ordering the
                                       institutions by this indicator's numerator, largest first */

    ms_status_t (*init)(const ms_model_env_t *env, void **state);
    ms_status_t (*batch)(void *state, ms_table_id_t table, const ms_batch_t *b, ms_emit_t *emit);
    ms_status_t (*person)(void *state, ms_table_id_t table, const ms_batch_t *b, size_t begin,
                          size_t end, ms_emit_t *emit);
    ms_status_t (*merge)(void *into, const void *from);
    ms_status_t (*save)(const void *state, ms_buf_t *out);
    ms_status_t (*load)(void *state, const void *data, size_t len);
    ms_status_t (*finalize)(void *state, const ms_model_env_t *env, ms_model_result_t *res);
    void (*free)(void *state);
} ms_model_t;

/* The columns m declares of table t (settlement_cols, drug_cols or
 * service_cols). */
static inline uint64_t ms_model_cols(const ms_model_t *m, ms_table_id_t t)
{
    return t == MS_TABLE_SETTLEMENTS ? m->settlement_cols : t == MS_TABLE_DRUG_ITEMS ? m->drug_cols : m->service_cols;
}

/* The registry (models/ms_registry.c): every model, in a fixed order. */
const ms_model_t *const *ms_models(int *count);
const ms_model_t *ms_model_find(const char *name);

/* Index of the model's indicator called name, or -1. */
int ms_model_indicator(const ms_model_t *m, const char *name);

/* Is the descriptor whole?  Every required callback, unique indicator names,
 * keyed aggregations with a name, a size and a reducer, indicator names that
 * exist, a weight in [0, 1000].  MS_E_INTERNAL naming the model and what is
 * wrong. */
ms_status_t ms_model_check(const ms_model_t *m);

/* The model of the registry that counts the records swept, and its
 * indicator (NULL, -1 when none does); the same for eval's baseline. */
const ms_model_t *ms_models_records(int *indicator);
const ms_model_t *ms_models_baseline(int *indicator);

#endif
