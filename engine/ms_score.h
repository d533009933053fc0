/*
 * ms_score.h - from indicators to a ranked list an inspector works from.
 *
 * docs/models.md gives every formula.  In short: institutions are compared
 * with their peers (same kind, tier and province; kind and tier nationwide
 * when the group is small); each rate is shrunk toward what its peers
 * predict by its denominator, standardised, and turned into a one-sided
 * robust deviation; the institutions x indicators matrix times the
 * indicators x models weight matrix (one cblas_dgemm) gives every model's
 * score; the order puts the largest likely recovery first: the fund payment
 * of flagged records beyond what peers predict, for institutions whose
 * deviation is credible.
 */
#ifndef MS_SCORE_H
#define MS_SCORE_H

#include <stdint.h>

#include "ms_config.h"
#include "ms_model.h"
#include "ms_refs.h"
#include "ms_status.h"

/* Peer groups (a function of the reference data and the configuration). */
ms_status_t ms_peers_make(const ms_refs_t *refs, const ms_config_t *cfg, uint32_t **peer, uint32_t *npeer);

typedef struct {
    /* inputs */
    const ms_refs_t *refs;
    const ms_config_t *cfg;
    const uint32_t *peer;
    uint32_t npeer;
    int nmodels;
    const ms_model_t *const *models;
    const ms_model_result_t *results;     /* [nmodels] */
    const int64_t *records;               /* [n_inst] settlements swept per institution */
    /* outputs (filled by ms_score_run) */
    int nind;                             /* scored indicators */
    int *ind_model, *ind_index;           /* [nind] which model / indicator */
    double *value, *peer_value, *z;       /* [n_inst * nind] (row-major by institution) */
    double *percentile;                   /* [n_inst * nind] share of reported peers with a value <= this one, x100 */
    uint8_t *reported;                    /* [n_inst * nind] denominator big enough */
    uint8_t *no_signal;                   /* [nind] the indicator does not discriminate */
    double *model_score;                  /* [n_inst * nmodels] */
    double *overall;                      /* [n_inst] deviation combined over models */
    double *suspicious;                   /* [n_inst] yuan: fund payment of flagged records, once each */
    double *recovery;                     /* [n_inst] yuan: of which beyond what peers predict */
    double *priority;                     /* [n_inst] ranking key */
    uint32_t *order;                      /* [n_ranked] institution ids, best first */
    uint32_t n_ranked;
} ms_score_t;

ms_status_t ms_score_run(ms_score_t *s);
void ms_score_free(ms_score_t *s);

/* Reasons of institution i, in words, best first ("overlapping stays 14.2% vs
 * peers 0.3%"); up to max, into out[k] (cap bytes each); returns how many. */
int ms_score_reasons(const ms_score_t *s, uint32_t i, char out[][160], int max);

#endif
