/*
 * ms_eval_screen.h - the simple peer screen `medsweep eval` puts beside the
 * sweep: the yardstick the engine's ranking must beat (formula in
 * ms_eval_screen.c and in `medsweep eval --help`).
 *
 * Use: ms_screen_init (the scored indicators of the registry: slots and
 * models), ms_screen_size (n institutions), fill num and den for every slot
 * ms_screen_slot names, ms_screen_run with each institution's kind, level
 * and province, read model[] and score[], ms_screen_free.
 */
#ifndef MS_EVAL_SCREEN_H
#define MS_EVAL_SCREEN_H

#include <stddef.h>

#include "ms_model.h"
#include "ms_status.h"

#define MS_SCREEN_PRIOR 30.0         /* k: shrinkage toward the peers' pooled rate */
#define MS_SCREEN_MIN_PEERS 5        /* smaller (kind, level, province) groups: kind and level nationwide */
#define MS_SCREEN_MIN_SPREAD 3       /* fewer institutions with data in a group: mean and sd over all */
#define MS_SCREEN_SD_FLOOR 1e-9      /* sd never below this */
#define MS_SCREEN_RATIO_FLOOR 0.01   /* a ratio counts as at least 1% of the peers' pooled ratio */
#define MS_SCREEN_PERCENTILE 99      /* each model's sum is divided by this percentile of it */

typedef struct {
    size_t n;                  /* institutions */
    int nind;                  /* scored indicators: kind share or ratio, of a model with default weight > 0 */
    const ms_model_t **ind_model;  /* [nind] */
    int *ind_index;            /* [nind] index in its model's indicators */
    int *ind_slot;             /* [nind] its model's index in model_of[] */
    int nmodels;               /* models with at least one scored indicator */
    const ms_model_t **model_of;   /* [nmodels] */
    double *num, *den;         /* [nind * n]: filled by the caller (zero: no data) */

    /* Results of ms_screen_run. */
    int *group;                /* [n] peer group (after the fallback) */
    int ngroups;
    double *z;                 /* [nind * n] one-sided peer z */
    double *p99;               /* [nmodels] the percentile each model's sum is divided by */
    double *sum;               /* [nmodels * n] the model's sum of z */
    double *model;             /* [nmodels * n] the model's scaled sum (0 when p99 is 0) */
    double *score;             /* [n] the sum over models */
} ms_screen_t;

ms_status_t ms_screen_init(ms_screen_t *s);
ms_status_t ms_screen_size(ms_screen_t *s, size_t n);
/* The slot of a model's indicator, or -1 when the screen does not score it. */
int ms_screen_slot(const ms_screen_t *s, const char *model, const char *indicator);
/* The index in model_of[] of a model, or -1. */
int ms_screen_model(const ms_screen_t *s, const char *model);
/* kind, level, province: [n] strings ("" where unknown: such institutions
 * are one group of their own). */
ms_status_t ms_screen_run(ms_screen_t *s, const char *const *kind, const char *const *level,
                          const char *const *province);
void ms_screen_free(ms_screen_t *s);

#endif
