/*
 * ms_import.c - canonical CSV into a dataset directory (medsweep import):
 * the driver.  It holds the import state, runs the stages below in order
 * (each in its own file, see ms_import_int.h), reports progress, frees.
 *
 * Stages, all under DATASET_DIR.importing-<pid> (renamed into place at the
 * end, removed on any failure; ms_import_outdir.c):
 *
 *  1. institutions.csv and groups.csv are read whole (they are small) into an
 *     ms_refs_t in file order; a hash map gives each code a provisional id
 *     (its row) and finds duplicates with the line of the first one
 *     (ms_import_refs.c, ms_import_dict.c).  The knowledge base
 *     (CSV_DIR/knowledge/), when there is one, is read and checked too
 *     (ms_knowledge_load_csv): its errors stop the import, skip_bad or not.
 *  2. Pass 1 streams settlements.csv once.  Every field is validated; codes
 *     get provisional ids (reference rows, or first-seen order for the
 *     diagnosis / procedure / drug dictionaries).  Each good row goes, as a
 *     fixed-size binary record with its source line, to the spill file of
 *     its partition (ms_person_partition), and (settle_id, line) to a bucket
 *     file chosen by a hash of settle_id (ms_import_pass1.c,
 *     ms_import_rows.c, ms_import_spill.c).  service_items.csv (the
 *     itemised bills), when present, streams the same way: each line to the
 *     spill of its person's partition, its (settle_id, person_id, line) to
 *     the bucket of its settle_id.
 *  3. The buckets are checked for duplicate settle_ids (in parallel, one
 *     bucket in memory per thread): memory stays bounded whatever the size
 *     of the CSV.  The later line of a duplicate is the bad row; a bill line
 *     whose settle_id no settlement has, or another person's, is bad too
 *     (ms_import_dups.c).
 *  4. drug_items.csv, when present, streams the same way.
 *  5. Dictionaries are sorted (id = rank), institutions and groups sorted by
 *     ms_refs_finish, provisional ids get their final ones, and the
 *     reference files are written: partitions record their checksum
 *     (ms_import_dict.c).
 *  6. Pass 2, in parallel over partitions (each thread owns whole partitions,
 *     OpenMP dynamic schedule): load a partition's spill, remap ids, drop
 *     rows rejected in stage 3, sort, check drug items and bill lines against
 *     the partition's settlements, write the HDF5 partition(s)
 *     (ms_import_pass2.c, ms_import_bills.c).  knowledge.h5 is written with
 *     the reference files in stage 5.
 *
 * Errors.  Without skip_bad the first bad row stops the import (MS_E_INPUT,
 * "FILE line N, column C: reason").  Pass 1 stops at the first bad row in
 * file order; the duplicate check reports the smallest bad line; pass 2
 * reports the first failing partition in partition order (every partition
 * before it is fully checked, so the answer does not depend on threads).
 * With skip_bad bad rows go to rejected.csv (file,line,column,value,reason;
 * values neutralised for spreadsheets) and the import goes on; reference
 * files and the knowledge base must still be sound (ms_import_reject.c).
 * A drug item or bill line whose settlement was rejected is rejected with
 * it; a settlement whose remaining bill lines do not add up to it keeps
 * none of them (each a line of rejected.csv), so that every settlement has
 * no lines or lines that add up (ms_import_bills.c).
 */
#include "ms_import.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_clock.h"
#include "ms_import_int.h"

#define PROGRESS_SECONDS 0.25 /* at most four reports a second */

int imp_nthreads(const import_t *im)
{
    int n = im->opts->threads > 0 ? im->opts->threads : omp_get_max_threads();
    if ((uint32_t)n > im->nparts) n = (int)im->nparts;
    return n < 1 ? 1 : n;
}

void imp_report(import_t *im, ms_progress_t *p)
{
    if (!im->opts->progress) return;
    double t = ms_now_s();
    if (!p->finished && t - im->last_report < PROGRESS_SECONDS) return;
    im->last_report = t;
    im->reported = 1;
    p->job = "import";
    p->seconds = t - im->t0;
    im->opts->progress(im->opts->progress_ctx, p);
}

static ms_status_t import_run(import_t *im)
{
    MS_TRY(imp_read_institutions(im));
    MS_TRY(imp_read_groups(im));
    MS_TRY(imp_read_knowledge(im));
    MS_TRY(imp_pass1_settlements(im));
    MS_TRY(imp_spill_close(&im->sett_spill));
    MS_TRY(imp_spill_close(&im->id_spill));
    if (im->have_services) {
        MS_TRY(imp_pass1_services(im));
        MS_TRY(imp_spill_close(&im->svc_spill));
        MS_TRY(imp_spill_close(&im->svc_id_spill));
    }
    MS_TRY(imp_check_duplicates(im));
    if (im->have_drugs) {
        MS_TRY(imp_pass1_drugs(im));
        MS_TRY(imp_spill_close(&im->drug_spill));
    }
    MS_TRY(imp_finish_refs(im));
    return imp_pass2(im);
}

static void import_free(import_t *im, ms_status_t st)
{
    char saved[MSG_MAX];
    snprintf(saved, sizeof saved, "%s", ms_error_detail());
    imp_abandon(im);
    if (st != MS_OK) ms_error_set(st, "%s", saved); /* cleanup must not hide the cause */
    int32_t **xls[] = {im->xl_diag, im->xl_proc, im->xl_drug, im->xl_item};
    uint32_t nxl[] = {im->sett_spill.nsub, im->sett_spill.nsub, im->drug_spill.nsub, im->svc_spill.nsub};
    for (size_t i = 0; i < sizeof xls / sizeof xls[0]; i++) {
        for (uint32_t k = 0; xls[i] && k < nxl[i]; k++) free(xls[i][k]);
        free(xls[i]);
    }
    imp_spill_free(&im->sett_spill);
    imp_spill_free(&im->id_spill);
    imp_spill_free(&im->drug_spill);
    imp_spill_free(&im->svc_spill);
    imp_spill_free(&im->svc_id_spill);
    strmap_t *maps[] = {&im->inst, &im->group, &im->diag, &im->proc, &im->drug, &im->item};
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) imp_strmap_free(maps[i]);
    int32_t *remaps[] = {im->inst_remap, im->group_remap, im->diag_remap, im->proc_remap,
                         im->drug_remap, im->item_remap};
    for (size_t i = 0; i < sizeof remaps / sizeof remaps[0]; i++) free(remaps[i]);
    ms_refs_free(&im->refs);
    if (im->have_knowledge) ms_knowledge_free(&im->kb);
    free(im->dup_lines);
    free(im->svc_bad_lines);
    free(im->csv_dir);
    free(im->out_dir);
    free(im->tmp_dir);
    free(im->spill_dir);
}

ms_status_t ms_import(const char *csv_dir, const char *dataset_dir, const ms_import_opts_t *opts,
                      ms_import_result_t *res)
{
    static const ms_import_opts_t defaults;
    ms_import_result_t scratch;
    double t0 = ms_now_s();
    if (!res) res = &scratch;
    memset(res, 0, sizeof *res);
    if (!csv_dir || !dataset_dir || !*csv_dir || !*dataset_dir)
        return ms_error_set(MS_E_USAGE, "import needs CSV_DIR and DATASET_DIR");
    import_t im;
    memset(&im, 0, sizeof im);
    im.opts = opts ? opts : &defaults;
    im.t0 = t0;
    im.last_report = t0 - 1e9;
    ms_status_t st = imp_prepare(&im, csv_dir, dataset_dir);
    if (st == MS_OK) st = import_run(&im);
    if (st == MS_OK) {
        res->institutions = im.refs.n_inst;
        res->groups = im.refs.n_groups;
        res->settlements = im.rows[MS_TABLE_SETTLEMENTS];
        res->drug_items = im.rows[MS_TABLE_DRUG_ITEMS];
        res->service_items = im.rows[MS_TABLE_SERVICE_ITEMS];
        res->have_service_items = im.have_services;
        res->knowledge_items = im.have_knowledge ? im.kb.n_items : 0;
        res->have_knowledge = im.have_knowledge;
        res->rejected = im.n_rejected;
        res->partitions = im.nparts;
        res->leftovers_removed = im.leftovers_removed;
        st = imp_install(&im);
    }
    import_free(&im, st);
    res->seconds = ms_now_s() - t0;
    return st;
}
