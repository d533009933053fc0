/*
 * ms_dataset.h - a dataset directory: reference files plus partitions.
 *
 *   DIR/institutions.h5, DIR/groups.h5 (DIR/knowledge.h5: ms_knowledge.h)
 *   DIR/settlements/part-NNNNN.h5, DIR/drug_items/part-NNNNN.h5,
 *   DIR/service_items/part-NNNNN.h5 (the optional tables: a folder absent
 *   means no rows of that table)
 *
 * Opening reads the reference files and lists the partitions; it does not
 * open them (ms_part_open does, one at a time or from many threads).
 */
#ifndef MS_DATASET_H
#define MS_DATASET_H

#include <stdint.h>

#include "ms_part.h"
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

/* The same, except that a table's numbering may have gaps: nparts[t] is then
 * one past its highest-numbered partition file, and ms_dataset_partset says
 * which files are missing (the sweep, which can exclude them). */
ms_status_t ms_dataset_open_as_found(const char *dir, ms_dataset_t *ds);

/* DIR/<table>/part-NNNNN.h5 into out (cap bytes). */
void ms_dataset_part_path(const char *dir, const ms_table_t *t, uint32_t index, char *out,
                          size_t cap);

/* ------------------------------------------------------ the partition set
 *
 * What the dataset records about itself: every partition file carries the
 * partition number it was written as (partition_index), how many partitions
 * the dataset was written with (partition_count, chosen at import) and the
 * reference checksum it was built against.  The count is the one recorded by
 * the readable partitions that carry their own number and the dataset's
 * reference checksum (by majority, should they disagree).  Against it:
 *
 *   - a partition number below the count without its file, in a table whose
 *     folder exists, is missing;
 *   - a file numbered at or above the count is not one of the dataset's;
 *   - a readable file that records another number or another count is not
 *     the partition its name says (ms_dataset_part_misplaced);
 *   - a file whose metadata crashes HDF5 is damaged: every file is first
 *     opened in a child process (ms_part_probe), here, before any thread
 *     that calls HDF5 exists, so no later open meets it.
 *
 * A file that cannot be opened otherwise (damaged, other reference files)
 * is not judged here: whoever reads it reports why. */

/* What partition file `index` of a dataset of `count` partitions records
 * about itself against its place: the number of disagreements (0 to 2),
 * each described in why[k] ("partition_index attribute is 0, file name says
 * 2").  inspect --verify and the partition set use it. */
int ms_dataset_part_misplaced(const ms_part_info_t *info, uint32_t index, uint32_t count,
                              char why[2][128]);

typedef enum {
    MS_PART_MISSING,         /* no file for a partition of the dataset */
    MS_PART_UNEXPECTED,      /* a file numbered beyond the dataset's partitions */
    MS_PART_MISPLACED,       /* a file that records another number or count */
    MS_PART_DAMAGED          /* a file whose metadata HDF5 cannot read without crashing */
} ms_partfault_kind_t;

typedef struct {
    ms_partfault_kind_t kind;
    ms_table_id_t table;
    uint32_t index;          /* the partition number of the file (name) */
    char why[600];           /* "DIR/drug_items/part-00001.h5 is missing (the dataset
                                 has 2 partitions)" */
} ms_partfault_t;

typedef struct {
    uint32_t count;                       /* partitions the dataset was written with */
    uint32_t nfiles[MS_TABLE_COUNT];      /* one past the highest partition file of each table */
    /* [nfiles[t]]: what each readable file records (ok[t][k] set), for the
     * callers that would otherwise open every partition again */
    ms_part_info_t *info[MS_TABLE_COUNT];
    uint8_t *ok[MS_TABLE_COUNT];
    uint8_t *damaged[MS_TABLE_COUNT];     /* [nfiles[t]]: its probe crashed; never open it */
    ms_partfault_t *fault;                /* [nfaults], by partition number, then table */
    size_t nfaults;
} ms_partset_t;

/* Probe (ms_part_probe) and open every partition file of ds (ms_part_open,
 * reference checksum checked) and judge the set.  Fails only for want of
 * memory or processes, or a table folder that cannot be listed; what is
 * wrong with the set is in set->fault.  Forks: call it before starting
 * threads that use HDF5. */
ms_status_t ms_dataset_partset(const ms_dataset_t *ds, ms_partset_t *set);
/* The same for the tables in the bitmask `tables` (bit t: table t) only:
 * the others' files are neither probed nor judged (nfiles 0, info NULL).
 * The sweep leaves out a table no model reads. */
ms_status_t ms_dataset_partset_tables(const ms_dataset_t *ds, unsigned tables, ms_partset_t *set);
void ms_partset_free(ms_partset_t *set);

#endif
