/*
 * ms_features.h - features.h5: every indicator, its peer statistics,
 * normalised value and every score, for every institution, for model
 * developers (h5py, h5dump, pandas read it; nothing of medsweep needed).
 *
 *   /institutions/inst_code, /institutions/peer_group        [n_inst]
 *   /indicators/name ("model.indicator"), kind, direction, no_signal  [nind]
 *   /models/name, weight                                     [nmodels]
 *   /numerator, /denominator (int64), /value, /peer_value, /z, /percentile,
 *   /reported (uint8)                                        [n_inst x nind]
 *   /model_score                                             [n_inst x nmodels]
 *   /overall, /suspicious_yuan, /recovery_yuan, /priority    [n_inst]
 * Written to a temporary name and renamed.
 */
#ifndef MS_FEATURES_H
#define MS_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "ms_refs.h"
#include "ms_status.h"

typedef struct {
    const ms_refs_t *refs;
    const uint32_t *peer;
    size_t nind, nmodels;
    const char *const *ind_name;
    const int32_t *ind_kind, *ind_direction;
    const uint8_t *no_signal;
    const char *const *model_name;
    const double *model_weight;
    const int64_t *num, *den;                 /* [n_inst x nind] */
    const double *value, *peer_value, *z, *percentile;
    const uint8_t *reported;
    const double *model_score;                /* [n_inst x nmodels] */
    const double *overall, *suspicious, *recovery, *priority;
} ms_features_t;

ms_status_t ms_features_write(const char *path, const ms_features_t *f);

#endif
