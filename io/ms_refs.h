/*
 * ms_refs.h - reference files of a dataset: institutions.h5 and groups.h5.
 *
 * Every integer code in a partition turns back into its exact text through
 * these: inst_code through institutions.h5, group_code through groups.h5,
 * and diag_main, proc_main, drug_code and a bill line's item_code through
 * the dictionaries kept in groups.h5 (/diagnoses, /procedures, /drugs,
 * /items; /items only when the dataset has bill lines: a file without it
 * reads as an empty dictionary, and an empty one is neither written nor
 * part of the checksum, so datasets without bills keep their bytes and
 * checksums).  Dictionaries are sorted by
 * byte order, so an id is the rank of its text: the encoding depends only on
 * the set of codes, not on the order in which rows arrived.
 *
 * Each reference file carries a content checksum (xxh3-64 over its rows);
 * every partition records the pair it was built against and is refused when
 * they differ (MS_E_MISMATCH).
 */
#ifndef MS_REFS_H
#define MS_REFS_H

#include <stdint.h>
#include <stddef.h>

#include "ms_status.h"

/* A sorted dictionary of distinct strings; id = index. */
typedef struct {
    size_t count;
    char **str;            /* NUL-terminated, sorted by strcmp, distinct */
} ms_dict_t;

/* Find text in a sorted dictionary: id or -1. */
int32_t ms_dict_find(const ms_dict_t *d, const char *text, size_t len);
void ms_dict_free(ms_dict_t *d);

typedef struct {
    char *inst_code;
    char *name;
    uint8_t kind;          /* ms_enum_kind */
    uint8_t level;         /* 0..3 */
    uint8_t ownership;     /* ms_enum_ownership */
    int32_t region;        /* 6-digit county code */
    int32_t beds;
} ms_institution_t;

typedef struct {
    char *group_code;
    char *family;
    uint8_t severity;      /* 0 none, 1 CC, 2 MCC */
    float weight;
    char mdc;              /* one letter */
    uint8_t surgical;
    float expected_los;
    int64_t mean_cost;     /* fen */
} ms_group_t;

typedef struct {
    size_t n_inst;
    ms_institution_t *inst;   /* sorted by inst_code; id = index */
    size_t n_groups;
    ms_group_t *groups;       /* sorted by group_code; id = index */
    ms_dict_t diagnoses;
    ms_dict_t procedures;
    ms_dict_t drugs;
    ms_dict_t items;          /* bill lines' item codes (service_items); empty when the dataset has none */
    uint64_t inst_checksum;   /* content checksums, see ms_refs_compute_checksums */
    uint64_t groups_checksum;
} ms_refs_t;

/* Sort institutions and groups by code and compute both checksums.  Fails
 * with MS_E_INPUT naming the code when a code appears twice. */
ms_status_t ms_refs_finish(ms_refs_t *r);

/* Institution / group id by code, or -1 (binary search). */
int32_t ms_refs_inst_find(const ms_refs_t *r, const char *code, size_t len);
int32_t ms_refs_group_find(const ms_refs_t *r, const char *code, size_t len);

/* Recompute the two content checksums from the in-memory rows. */
void ms_refs_compute_checksums(const ms_refs_t *r, uint64_t *inst_sum, uint64_t *groups_sum);

/* The checksum a partition records: both sums as "xxxxxxxxxxxxxxxx-yyyyyyyyyyyyyyyy". */
void ms_refs_checksum_text(const ms_refs_t *r, char out[40]);

/* Write DIR/institutions.h5 and DIR/groups.h5 (each to a temporary name,
 * then renamed). */
ms_status_t ms_refs_write(const ms_refs_t *r, const char *dir);

/* Read both reference files from DIR.  The stored checksums are checked
 * against the content (MS_E_CORRUPT when they differ). */
ms_status_t ms_refs_read(const char *dir, ms_refs_t *r);

void ms_refs_free(ms_refs_t *r);

#endif
