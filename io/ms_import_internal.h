/*
 * ms_import_internal.h - private glue between ms_csv.c, ms_import.c and
 * ms_export.c.  Not part of the public io API.
 */
#ifndef MS_IMPORT_INTERNAL_H
#define MS_IMPORT_INTERNAL_H

#include "ms_csv.h"

/* After ms_csv_next returned MS_E_INPUT: nonzero when reading can go on
 * (the bad record, e.g. one with the wrong number of fields, was skipped),
 * zero when the parser itself is stuck (broken quoting, unreadable file). */
int ms_csv_can_continue(const ms_csv_t *c);

/* The reason of the last MS_E_INPUT from ms_csv_next, without file and line
 * ("28 fields, expected 29"), for rejected.csv. */
const char *ms_csv_error_reason(const ms_csv_t *c);

/* The file's base name ("settlements.csv"), used in every message. */
const char *ms_csv_name(const ms_csv_t *c);

#endif
