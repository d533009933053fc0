/*
 * ms_features.h - features.h5: every indicator, its peer statistics,
 * normalised value and every score, for every institution, for model
 * developers (h5py, h5dump, pandas read it; nothing of medsweep needed).
 *
 *   /institutions/inst_code, /institutions/peer_group        [n_inst]
 *   /indicators/name ("model.indicator"), description, kind, direction,
 *   no_signal                                                 [nind]
 *   /models/name, weight                                     [nmodels]
 *   /numerator, /denominator (int64), /value, /peer_value, /z, /percentile,
 *   /reported (uint8)                                        [n_inst x nind]
 *   /model_score                                             [n_inst x nmodels]
 *   /overall, /suspicious_yuan, /recovery_yuan, /priority    [n_inst]
 *
 * Self-describing, so that a reader guesses nothing (docs/models.md,
 * "features.h5"): the root has the attributes medsweep_version,
 * config_hash (run.json's configuration.hash), money_unit and layout;
 * every dataset has unit, description and rows (the dataset that labels
 * its rows) and a matrix also columns.  kind and direction are HDF5 enums
 * (MS_FEATURES_KIND_NAMES, MS_FEATURES_DIRECTION_NAMES), so h5dump and
 * h5py's check_enum_dtype give words.  Every string, data or attribute,
 * is variable-length UTF-8 (h5py reads str, not bytes).  Written without
 * timestamps: the same figures give the same bytes.  Written to a
 * temporary name and renamed.
 */
#ifndef MS_FEATURES_H
#define MS_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "ms_refs.h"
#include "ms_status.h"

/* The names of the codes of /indicators/kind (0, 1, 2: the order of
 * ms_ind_kind_t in models/ms_model.h, which the caller keeps) and of
 * /indicators/direction (-1, +1). */
#define MS_FEATURES_KIND_NAMES {"info", "share", "ratio"}
#define MS_FEATURES_DIRECTION_LOWER "lower"   /* -1: lower is suspicious */
#define MS_FEATURES_DIRECTION_HIGHER "higher" /* +1: higher is suspicious */

/* The unit of every amount of money in the file (money_unit). */
#define MS_FEATURES_MONEY_UNIT "yuan"

typedef struct {
    const ms_refs_t *refs;
    const uint32_t *peer;
    size_t nind, nmodels;
    const char *const *ind_name;
    const int32_t *ind_kind, *ind_direction; /* codes as above */
    const uint8_t *no_signal;
    const char *const *model_name;
    const double *model_weight;
    /* The [n_inst x nind] matrices, given by column: [nind] pointers, each
     * to one indicator's n_inst cells (the models' results and the
     * scoring's arrays hold them so); written in blocks of rows. */
    const int64_t *const *num, *const *den;
    const double *const *value, *const *peer_value, *const *z, *const *percentile;
    const uint8_t *const *reported;
    const double *model_score;                /* [n_inst x nmodels] */
    const double *overall, *suspicious, *recovery, *priority;
    const char *const *ind_description;       /* [nind] what its numerator and denominator count */
    const char *version;                      /* medsweep's (NULL: "") */
    const char *config_hash;                  /* run.json's configuration.hash (NULL: "") */
} ms_features_t;

/* Write path whole (a temporary name, synced, renamed).  Returns MS_OK,
 * MS_E_NOMEM, MS_E_NOSPACE or MS_E_IO (the system's reason) or MS_E_HDF5,
 * the detail naming path and the dataset. */
ms_status_t ms_features_write(const char *path, const ms_features_t *f);

#endif
