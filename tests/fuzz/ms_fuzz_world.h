/*
 * ms_fuzz_world.h - the small world fuzz_partial and its seed maker
 * (fuzz_partial_mkseed) give the models: reference data with a few
 * institutions (two with approved beds, one without, other counties),
 * groups in two families of three severities and one family of one, a few
 * diagnoses (some on false_hosp's default minor list), procedures and
 * drugs; the default rules; the peer groups; each model's environment,
 * built as the sweep builds it (engine/sweep/ms_sweep.c: setup).
 */
#ifndef MS_FUZZ_WORLD_H
#define MS_FUZZ_WORLD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_config.h"
#include "ms_model.h"
#include "ms_refs.h"
#include "ms_score.h"

#define MS_FUZZ_N_INST 5
#define MS_FUZZ_MIN_DATE 19358 /* 2023-01-01 */
#define MS_FUZZ_MAX_DATE 19722 /* 2023-12-31 */

typedef struct {
    ms_refs_t refs;
    ms_config_t cfg;
    uint32_t *peer, npeer;
    const ms_model_t *const *models;
    int nmodels;
    ms_model_env_t *env; /* [nmodels]: as while mapping (no peers) */
    ms_model_env_t *fin; /* [nmodels]: as in finalize (peers set) */
} ms_fuzz_world_t;

static inline char *ms_fuzz_strdup(const char *s)
{
    char *d = strdup(s);
    if (!d) abort();
    return d;
}

static inline void ms_fuzz_dict(ms_dict_t *d, const char *const *items, size_t n)
{
    d->count = n;
    d->str = calloc(n ? n : 1, sizeof *d->str);
    if (!d->str) abort();
    for (size_t i = 0; i < n; i++) d->str[i] = ms_fuzz_strdup(items[i]);
}

static inline void ms_fuzz_world_init(ms_fuzz_world_t *w)
{
    memset(w, 0, sizeof *w);
    ms_refs_t *r = &w->refs;
    static const struct {
        const char *code;
        int32_t region, beds;
        uint8_t kind, level;
    } inst[MS_FUZZ_N_INST] = {
        {"H0001", 110101, 20, MS_KIND_GENERAL, 3},  {"H0002", 110101, 8, MS_KIND_GENERAL, 3},
        {"H0003", 110102, 0, MS_KIND_CLINIC, 1},    {"H0004", 120101, 30, MS_KIND_SPECIALTY, 2},
        {"H0005", 110101, 12, MS_KIND_GENERAL, 3},
    };
    r->n_inst = MS_FUZZ_N_INST;
    r->inst = calloc(MS_FUZZ_N_INST, sizeof *r->inst);
    if (!r->inst) abort();
    for (int i = 0; i < MS_FUZZ_N_INST; i++) {
        r->inst[i].inst_code = ms_fuzz_strdup(inst[i].code);
        r->inst[i].name = ms_fuzz_strdup(inst[i].code);
        r->inst[i].kind = inst[i].kind;
        r->inst[i].level = inst[i].level;
        r->inst[i].ownership = MS_OWN_PUBLIC;
        r->inst[i].region = inst[i].region;
        r->inst[i].beds = inst[i].beds;
    }
    static const struct {
        const char *code, *family;
        uint8_t severity, surgical;
        float weight, los;
        char mdc;
    } grp[] = {
        {"EB11", "EB1", 2, 0, 1.8f, 10.2f, 'E'}, {"EB13", "EB1", 1, 0, 1.3f, 7.8f, 'E'},
        {"EB15", "EB1", 0, 0, 1.0f, 6.0f, 'E'},  {"FM21", "FM2", 2, 1, 2.4f, 12.0f, 'F'},
        {"FM23", "FM2", 1, 1, 1.9f, 9.0f, 'F'},  {"FM25", "FM2", 0, 1, 1.5f, 7.0f, 'F'},
        {"GZ19", "GZ1", 0, 0, 0.7f, 3.0f, 'G'},
    };
    r->n_groups = sizeof grp / sizeof grp[0];
    r->groups = calloc(r->n_groups, sizeof *r->groups);
    if (!r->groups) abort();
    for (size_t g = 0; g < r->n_groups; g++) {
        r->groups[g].group_code = ms_fuzz_strdup(grp[g].code);
        r->groups[g].family = ms_fuzz_strdup(grp[g].family);
        r->groups[g].severity = grp[g].severity;
        r->groups[g].surgical = grp[g].surgical;
        r->groups[g].weight = grp[g].weight;
        r->groups[g].expected_los = grp[g].los;
        r->groups[g].mdc = grp[g].mdc;
        r->groups[g].mean_cost = (int64_t)(1000000.0 * (double)grp[g].weight);
    }
    static const char *const diag[] = {"A09.9", "E11.9", "I10", "I21.0", "I21.9", "J06.9", "J18.9", "K29.7", "M54.5"};
    static const char *const proc[] = {"01.01", "36.06", "81.51"};
    static const char *const drugs[] = {"D0001", "D0002", "D0003", "D0004"};
    ms_fuzz_dict(&r->diagnoses, diag, sizeof diag / sizeof diag[0]);
    ms_fuzz_dict(&r->procedures, proc, sizeof proc / sizeof proc[0]);
    ms_fuzz_dict(&r->drugs, drugs, sizeof drugs / sizeof drugs[0]);
    if (ms_refs_finish(r) != MS_OK || ms_config_load(NULL, &w->cfg) != MS_OK ||
        ms_peers_make(r, &w->cfg, &w->peer, &w->npeer) != MS_OK) {
        fprintf(stderr, "ms_fuzz_world_init: %s\n", ms_error_detail());
        abort();
    }
    w->models = ms_models(&w->nmodels);
    w->env = calloc((size_t)w->nmodels, sizeof *w->env);
    w->fin = calloc((size_t)w->nmodels, sizeof *w->fin);
    if (!w->env || !w->fin) abort();
    for (int m = 0; m < w->nmodels; m++) {
        w->env[m].refs = r;
        w->env[m].min_date = MS_FUZZ_MIN_DATE;
        w->env[m].max_date = MS_FUZZ_MAX_DATE;
        w->env[m].cfg = ms_config_model(&w->cfg, w->models[m]);
        w->fin[m] = w->env[m];
        w->fin[m].peer = w->peer;
        w->fin[m].npeer = w->npeer;
    }
}

static inline void ms_fuzz_world_free(ms_fuzz_world_t *w)
{
    free(w->env);
    free(w->fin);
    free(w->peer);
    ms_config_free(&w->cfg);
    ms_refs_free(&w->refs);
    memset(w, 0, sizeof *w);
}

#endif
