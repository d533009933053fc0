/*
 * ms_dataset.h - a dataset directory: reference files plus partitions.
 *
 *   DIR/institutions.h5, DIR/groups.h5
 *   DIR/settlements/part-NNNNN.h5, DIR/drug_items/part-NNNNN.h5
 *
 * Opening reads the reference files and lists the partitions; it does not
 * open them (ms_part_open does, one at a time or from many threads).
 */
#ifndef MS_DATASET_H
#define MS_DATASET_H

#include <stdint.h>

#include "ms_refs.h"
#include "ms_schema.h"
#include "ms_status.h"

typedef struct {
    char *dir;
    ms_refs_t refs;
    uint32_t nparts[MS_TABLE_COUNT];   /* 0 when the table is absent */
} ms_dataset_t;

/* True when DIR looks like a dataset (has institutions.h5 or a table dir). */
int ms_dataset_exists(const char *dir);

/* Read DIR's reference files and count its partitions.  A table's partitions
 * must be numbered 0..n-1 without gaps (MS_E_CORRUPT naming the missing one). */
ms_status_t ms_dataset_open(const char *dir, ms_dataset_t *ds);
void ms_dataset_close(ms_dataset_t *ds);

/* DIR/<table>/part-NNNNN.h5 into out (cap bytes). */
void ms_dataset_part_path(const char *dir, const ms_table_t *t, uint32_t index, char *out,
                          size_t cap);

#endif
