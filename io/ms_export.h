/*
 * ms_export.h - a dataset back to canonical CSV (medsweep export).
 */
#ifndef MS_EXPORT_H
#define MS_EXPORT_H

#include "ms_status.h"

/* Institutions sorted by code, groups by code, settlements, drug items and
 * (when the dataset has them) bill lines (service_items.csv) in partition
 * order, each file written whole; the knowledge base, when there is one,
 * into CSV_DIR/knowledge/.  CSV -> import -> export gives the canonical CSV
 * back byte for byte. */
ms_status_t ms_export(const char *dataset_dir, const char *csv_dir);

#endif
