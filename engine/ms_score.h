/*
 * ms_score.h - from indicators to a ranked list an inspector works from.
 *
 * docs/models.md gives every formula.  In short: institutions are compared
 * with their peers (same kind, tier and province; kind and tier nationwide
 * when the group is small); each rate is shrunk toward what its peers
 * predict by its denominator, standardised, and turned into a one-sided
 * robust deviation; the institutions x indicators matrix times the
 * indicators x models weight matrix (one cblas_dgemm) gives every model's
 * score from the credible deviations only (significant, material,
 * corroborated), each worth how sure it is times how much of it the peers
 * do not explain; the order puts the strongest evidence first, money only
 * breaking ties.
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
/* The same by a plain sort of (key, institution) pairs (tests). */
ms_status_t ms_peers_make_ref(const ms_refs_t *refs, const ms_config_t *cfg, uint32_t **peer, uint32_t *npeer);

typedef struct {
    /* inputs */
    const ms_refs_t *refs;
    const ms_config_t *cfg;
    const uint32_t *peer;
    uint32_t npeer;
    int nmodels;
    const ms_model_t *const *models;
    const ms_model_result_t *results;     /* [nmodels] */
    int lang;                             /* ms_lang_t of the reasons' words (0: Chinese) */
    const int64_t *records;               /* [n_inst] settlements swept per institution */
    int threads;                          /* indicators scored at once (0: one); the answer is the same */
    /* outputs (filled by ms_score_run) */
    int nind;                             /* scored indicators */
    int *ind_model, *ind_index;           /* [nind] which model / indicator */
    /* The per-cell arrays, [nind * n_inst] each, indicator-major: cell
     * (institution i, scored indicator j) is at ms_score_cell(s, i, j), so
     * that an indicator's column is n_inst values in a row (scoring works
     * one indicator at a time; a column of an institution-major array is
     * a cache line per institution). */
    double *value, *peer_value, *z;
    double *percentile;                   /* share of the other reported peers below this value,
                                             ties counting half, x100 (all tied: 50) */
    uint8_t *reported;                    /* enough records behind it */
    uint8_t *credible;                    /* a reason: material, corroborated, z >= z_flag */
    double *unexplained;                  /* share of the deviation the peers do not explain */
    uint8_t *no_signal;                   /* [nind] the indicator does not discriminate */
    double *model_score;                  /* [n_inst * nmodels] */
    double *overall;                      /* [n_inst] deviation combined over models */
    double *suspicious;                   /* [n_inst] yuan: fund payment of flagged records, once each */
    double *recovery;                     /* [n_inst] yuan: of which beyond what peers predict */
    double *priority;                     /* [n_inst] ranking key: the strength of the credible evidence */
    double *watch;                        /* [n_inst] strongest deviation short of a reason (orders rows of
                                             equal priority, those without a reason among them) */
    double *peer_rank;                    /* [n_inst] the same among its peers (with data), by priority */
    uint32_t *order;                      /* [n_ranked] every institution with data, best first */
    uint32_t n_ranked;
} ms_score_t;

ms_status_t ms_score_run(ms_score_t *s);

/* Where cell (institution i, scored indicator j) of the per-cell arrays is. */
static inline size_t ms_score_cell(const ms_score_t *s, size_t i, size_t j) { return j * s->refs->n_inst + i; }

/* Does an indicator's cell rest on at least min_denominator records (its
 * evidence: the denominator, or the numerator, over evidence_unit)? */
int ms_score_enough_records(const ms_score_t *s, const ms_indicator_t *ind, int64_t num, int64_t den);
void ms_score_free(ms_score_t *s);

/* Reasons of institution i, in words, best first ("overlapping stays 14.2% vs
 * peers 0.3%"); up to max, into out[k] (cap bytes each); returns how many. */
int ms_score_reasons(const ms_score_t *s, uint32_t i, char out[][160], int max);
/* The scored indicators behind institution i's reasons, strongest first
 * (z x indicator weight x model weight; the order of ms_score_reasons),
 * at most max of them (and 256) into order; returns how many. */
int ms_score_reason_order(const ms_score_t *s, uint32_t i, int *order, int max);

#endif
