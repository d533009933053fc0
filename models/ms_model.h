/*
 * ms_model.h - what a fraud model is to the engine: a descriptor.
 *
 * A model names the columns it reads and the indicators it computes (each
 * with a description and parameters with bounds), and supplies callbacks.
 * The engine knows no model by name: it calls these callbacks and merges
 * their states in a fixed order.  Adding a model is one file in models/ and
 * one line in models/ms_registry.c.
 *
 * Life of a state (all callbacks return ms_status_t; none prints or exits):
 *   init      one fresh state per partition (and per reducing thread);
 *   batch     a batch of one table: whole persons only;
 *   person    one person's contiguous rows [begin, end) of a batch;
 *   save/load the state of a finished partition, persisted for --resume;
 *   merge     into += from, called in partition order (from is the later
 *             partition), so non-commutative parts (lists, floating point)
 *             come out the same every run;
 *   reduce    keyed aggregation: the values of one shuffle key (models with
 *             shuffle_value_size > 0 emit (key, value) records during batch/
 *             person); reducing states are merged in thread order, so reduce
 *             must only add commutatively (integer counts, sets sorted later);
 *   finalize  turns the merged state into indicators per institution.
 */
#ifndef MS_MODEL_H
#define MS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "ms_buf.h"
#include "ms_reader.h"
#include "ms_refs.h"
#include "ms_schema.h"
#include "ms_status.h"

typedef enum { MS_PARAM_NUMBER = 0, MS_PARAM_LIST = 1 } ms_param_kind_t;

/* A parameter of an indicator, set in the rule configuration.  Numbers have
 * bounds; lists (e.g. the minor diagnoses) are strings, with a default given
 * as one comma-separated string. */
typedef struct {
    const char *name;
    const char *description;
    double min, def, max;
    ms_param_kind_t kind;
    const char *def_list;
} ms_param_t;

/* How the scoring reads an indicator. */
typedef enum {
    MS_IND_INFO = 0,   /* descriptive only: reported, never scored */
    MS_IND_SHARE,      /* numerator = records flagged, denominator = records that could be;
                          compared with the peers' rate (or the model's expected count) */
    MS_IND_RATIO       /* numerator and denominator are amounts (stays and bed-years, weight
                          and stays...): the ratio is compared with the peers' pooled ratio */
} ms_ind_kind_t;

typedef struct {
    const char *name;          /* unique within the model */
    const char *description;   /* what an inspector reads */
    const ms_param_t *params;
    int nparams;
    ms_ind_kind_t kind;
    int direction;             /* +1: higher is suspicious, -1: lower is */
    const char *reason;        /* words for a ranked row: "overlapping stays" */
    int den_is_amount;         /* the denominator is not a count of records (beds, bed-days):
                                  the small-number rule does not apply to it */
    int impossible;            /* each flagged record is itself evidence (a package sold
                                  twice): no materiality threshold applies */
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
} ms_model_env_t;

/* Parameter p of indicator i (a number), and a list parameter. */
static inline double ms_param(const ms_model_env_t *e, int i, int p) { return e->cfg->ind[i].value[p]; }
static inline const char *const *ms_param_list(const ms_model_env_t *e, int i, int p, size_t *n)
{
    *n = e->cfg->ind[i].nlist[p];
    return (const char *const *)e->cfg->ind[i].list[p];
}

/* The shuffle, as a model sees it while mapping. */
typedef struct {
    void *impl;
    int tid;
    ms_status_t (*emit)(void *impl, int tid, uint64_t k0, uint64_t k1, const void *value);
} ms_emit_t;

/* Indicators per institution, and the records behind them. */
typedef struct {
    uint64_t settle_id, person_id;
    uint32_t inst;
    uint16_t indicator;        /* index in the model's indicators */
    int32_t date;
    int64_t amount;            /* fund payment in fen */
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
    const char *version;
    const char *description;
    uint64_t settlement_cols;  /* bitmask of MS_SC_* read (0: none) */
    uint64_t drug_cols;        /* bitmask of MS_DC_* read (0: none) */
    const ms_indicator_t *indicators;
    int nindicators;
    size_t shuffle_value_size; /* 0: no keyed aggregation */

    ms_status_t (*init)(const ms_model_env_t *env, void **state);
    ms_status_t (*batch)(void *state, ms_table_id_t table, const ms_batch_t *b, ms_emit_t *emit);
    ms_status_t (*person)(void *state, ms_table_id_t table, const ms_batch_t *b, size_t begin,
                          size_t end, ms_emit_t *emit);
    ms_status_t (*merge)(void *into, const void *from);
    ms_status_t (*save)(const void *state, ms_buf_t *out);
    ms_status_t (*load)(const ms_model_env_t *env, const void *data, size_t len, void **state);
    ms_status_t (*reduce)(void *state, uint64_t k0, uint64_t k1, const void *values, size_t n);
    ms_status_t (*finalize)(void *state, const ms_model_env_t *env, ms_model_result_t *res);
    void (*free)(void *state);
} ms_model_t;

/* The registry (models/ms_registry.c): every model, in a fixed order. */
const ms_model_t *const *ms_models(int *count);
const ms_model_t *ms_model_find(const char *name);

#endif
