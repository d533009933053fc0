/*
 * ms_config.h - the rule configuration: every threshold, window, list,
 * peer-group rule, minimum denominator and weight, in one file read by
 * libconfig (Debian's libconfig-dev; format: docs/models.md and
 * `medsweep models --config`).
 *
 * Every key is checked against the models' descriptors, the scoring
 * parameters and the rule templates (ms_rules.h, docs/rules.md): an
 * unknown key, a wrong type or a value out of range is MS_E_USAGE naming
 * the file, line, key and what is allowed.  Keys left out keep their
 * defaults, so an empty file is the default configuration.
 */
#ifndef MS_CONFIG_H
#define MS_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "ms_model.h"
#include "ms_rules.h"
#include "ms_status.h"

/* Scoring parameters (not tied to a model). */
typedef enum {
    MS_SCORE_MIN_DENOMINATOR,      /* an indicator with a smaller denominator is not reported */
    MS_SCORE_MIN_PEERS,            /* a peer group smaller than this falls back to kind and tier */
    MS_SCORE_PRIOR_STRENGTH,       /* shrinkage: weight of the peer rate, in records */
    MS_SCORE_Z_CAP,                /* a deviation counts at most this many robust SDs */
    MS_SCORE_Z_FLAG,               /* deviation at which an indicator is a reason */
    MS_SCORE_MIN_EXCESS_SHARE,     /* a share must exceed its peers' by this much (absolute) to deviate */
    MS_SCORE_MIN_EXCESS_RATIO,     /* a ratio (or share) must exceed its peers' by this fraction to deviate */
    MS_SCORE_MIN_FLAGGED,          /* a share needs this many flagged records to be a reason */
    MS_SCORE_ALL_CLUES,            /* 1: write the clues of every reported indicator, deviating or not */
    MS_SCORE_COUNT
} ms_score_param_t;

typedef struct {
    double score[MS_SCORE_COUNT];
    const ms_model_t *const *models; /* [nmodels] the models configured: the registry's */
    int nmodels;
    ms_model_config_t *model;      /* [nmodels], in their order */
    ms_rules_config_t rules;       /* the rule base's instances (the `rules` list; absent: one
                                      instance of each template, ms_rules_defaults) */
    char *path;                    /* NULL: defaults only */
    uint64_t file_hash;            /* xxh3 of the file's bytes (0: none) */
    uint64_t hash;                 /* xxh3 of the resolved configuration */
} ms_config_t;

const ms_param_t *ms_score_params(void);

/* Resolve the configuration from path (NULL: defaults). */
ms_status_t ms_config_load(const char *path, ms_config_t *cfg);
/* The same for other models than the registry's (a test's own). */
ms_status_t ms_config_load_for(const char *path, const ms_model_t *const *models, int nmodels, ms_config_t *cfg);
void ms_config_free(ms_config_t *cfg);

/* Write the resolved configuration as a complete, commented libconfig file
 * (what `medsweep models --config` prints; loading it gives the same hash). */
void ms_config_write(const ms_config_t *cfg, FILE *fp);

/* This model's part of the configuration (NULL: not configured). */
const ms_model_config_t *ms_config_model(const ms_config_t *cfg, const ms_model_t *m);

#endif
