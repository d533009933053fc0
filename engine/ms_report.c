/*
 * ms_report.c - report.html (ms_report.h).  Being written (issue 15): for
 * now the page holds the summary line only.
 */
#include "ms_report.h"

#include <stdio.h>

#include "ms_fs.h"

ms_status_t ms_report_write(const ms_output_t *o)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/report.html", o->dir);
    ms_afile_t f;
    MS_TRY(ms_afile_open(&f, path));
    fprintf(f.fp, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\"><title>%s</title></head><body>"
                  "<h1>%s</h1></body></html>\n",
            ms_lang_code(o->lang), ms_msg_or(o->lang, "report.title", ""), ms_msg_or(o->lang, "report.title", ""));
    return ms_afile_commit(&f);
}
