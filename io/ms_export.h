/*
 * ms_export.h - a dataset back to canonical CSV (medsweep export).
 */
#ifndef MS_EXPORT_H
#define MS_EXPORT_H

#include "ms_status.h"

/* Institutions sorted by code, groups by code, settlements and drug items in
 * partition order, each file written whole.  CSV -> import -> export gives
 * the canonical CSV back byte for byte. */
ms_status_t ms_export(const char *dataset_dir, const char *csv_dir);

#endif
