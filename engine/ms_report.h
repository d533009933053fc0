/*
 * ms_report.h - report.html: the one page a person reads first
 * (docs/report.md).  Self-contained: styles, scripts, charts and data
 * inlined; it opens offline and makes no network request; without scripts
 * it is tables.
 */
#ifndef MS_REPORT_H
#define MS_REPORT_H

#include "ms_output.h"

/* Write o->dir/report.html whole (or not at all), in o->lang. */
ms_status_t ms_report_write(const ms_output_t *o);

#endif
