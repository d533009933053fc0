/*
 * ms_import_int.h - what the files of the CSV import share (private to
 * io/import; ms_import.h is the public face).
 *
 *   ms_import.c         the driver: import state, stages in order, progress
 *   ms_import_outdir.c  the whole-or-nothing build directory
 *   ms_import_dict.c    codes -> ids: maps, merging, sorted dictionaries
 *   ms_import_fields.c  row errors and the field parsers
 *   ms_import_refs.c    institutions.csv and groups.csv (stage 1)
 *   ms_import_rows.c    one settlements.csv / drug_items.csv / service_items.csv
 *                       record
 *   ms_import_spill.c   spill files: binary records per partition
 *   ms_import_pass1.c   pass 1: a data file streamed in parallel ranges
 *   ms_import_dups.c    settle_id unique over the dataset, and each bill
 *                       line's settle_id known, of the same person (stage 3)
 *   ms_import_reject.c  rejected rows and parallel tasks' results
 *   ms_import_pass2.c   pass 2: sort, check and write each partition
 *   ms_import_bills.c   pass 2 of service_items: each settlement's bill
 *                       lines checked against it, sorted, written
 */
#ifndef MS_IMPORT_INT_H
#define MS_IMPORT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ms_csv.h"
#include "ms_hmap.h"
#include "ms_import.h"
#include "ms_knowledge.h"
#include "ms_progress.h"
#include "ms_refs.h"
#include "ms_schema.h"
#include "ms_status.h"

#define MSG_MAX 1024
#define REASON_MAX 320
#define VALUE_SHOWN 64 /* characters of a bad value quoted in a message */

/* ------------------------------------------------------------------ */
/* Codes -> provisional ids (ms_import_dict.c).                         */

/* The entries, by id (first-seen order), are the arrays below; the map
 * holds their XXH3 hashes. */
typedef struct {
    ms_hmap_t map;
    char **str; /* by id, NUL-terminated, owned until released */
    uint32_t *len;
    uint64_t *line; /* line of first appearance */
    size_t n, str_cap, len_cap, line_cap;
    int released; /* strings now belong to an ms_dict_t */
} strmap_t;

void imp_strmap_free(strmap_t *m);
/* The id of s, or -1. */
int32_t imp_strmap_find(const strmap_t *m, const char *s, size_t len);
/* The id of s, adding it when new (*added = 1).  -1 when out of memory. */
int32_t imp_strmap_add(strmap_t *m, const char *s, size_t len, uint64_t line, int *added);
/* Add reader k's map m to global; *xl: m's ids to global's. */
ms_status_t imp_strmap_merge(strmap_t *global, const strmap_t *m, int32_t **xl);

/* ------------------------------------------------------------------ */
/* Row errors and field parsers (ms_import_fields.c).                   */

typedef struct {
    const char *column;
    const char *value; /* points into the current record */
    size_t vlen;
    char reason[REASON_MAX];
} row_err_t;

/* Record why a row is bad; returns -1 so that parsers can `return imp_row_bad(..)`. */
int imp_row_bad(row_err_t *e, const char *column, const ms_field_t *f, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* MS_E_INPUT "FILE line N, column C: reason". */
ms_status_t imp_row_fail(const char *file, uint64_t line, const row_err_t *e);

/* printf arguments quoting at most VALUE_SHOWN characters of a field. */
#define FV(f) (int)((f)->len > VALUE_SHOWN ? VALUE_SHOWN : (f)->len), (f)->s

/* Each parser returns 0, or -1 with *e filled. */
int imp_need(const ms_field_t *f, const char *col, row_err_t *e);
/* 0 ok, -1 not all digits (or empty), -2 overflow. */
int imp_digits_u64(const char *s, size_t len, uint64_t *v);
int imp_fld_u64(const ms_field_t *f, const char *col, uint64_t *v, row_err_t *e);
/* An integer in [lo, hi]. */
int imp_fld_range(const ms_field_t *f, const char *col, uint64_t lo, uint64_t hi, uint64_t *v,
                  row_err_t *e);
int imp_fld_enum(const ms_field_t *f, const char *col, const ms_enum_t *en, uint8_t *v,
                 row_err_t *e);
int imp_fld_date(const ms_field_t *f, const char *col, int32_t *v, row_err_t *e);
int imp_fld_money(const ms_field_t *f, const char *col, int64_t *v, row_err_t *e);
int imp_fld_region(const ms_field_t *f, const char *col, int32_t *v, row_err_t *e);
/* Text of 1..maxlen bytes; with charset, every byte must be in it. */
int imp_fld_text(const ms_field_t *f, const char *col, size_t maxlen, const char *charset,
                 const char *what, row_err_t *e);
/* A decimal number > 0 stored as float. */
int imp_fld_pos_float(const ms_field_t *f, const char *col, float *v, row_err_t *e);
/* A fixed-point decimal of at most `places` decimals (ms_fixed_parse) as
 * value x 10^places, in [lo, hi]; hi_text is hi as the CSV writes it and
 * unit what it counts ("units", "yuan"), for the message.  lo is 0 or 1
 * (then "must be > 0"). */
int imp_fld_fixed(const ms_field_t *f, const char *col, int places, int64_t lo, int64_t hi,
                  const char *hi_text, const char *unit, int64_t *v, row_err_t *e);

/* ------------------------------------------------------------------ */
/* Spill files (ms_import_spill.c).                                     */

/* Fixed-size records, one file per (writer, partition). */
typedef struct {
    const char *dir;
    const char *tag;          /* file name prefix */
    uint32_t n, nsub;         /* partitions; writers, each with its own files */
    size_t rec_size, buf_cap; /* buf_cap: bytes, a multiple of rec_size */
    unsigned char **buf;      /* allocated on first use */
    size_t *used;
    uint64_t *count; /* records, index sub * n + part */
} spill_t;

ms_status_t imp_spill_init(spill_t *s, const char *dir, const char *tag, uint32_t n,
                           uint32_t nsub, size_t rec_size);
ms_status_t imp_spill_put(spill_t *s, uint32_t sub, uint32_t part, const void *rec);
/* Flush everything and give the write buffers back. */
ms_status_t imp_spill_close(spill_t *s);
/* Free without flushing: after a failure the records are not wanted. */
void imp_spill_free(spill_t *s);
/* Read a partition's records (writer 0's first, then writer 1's, ...) into
 * a new array and delete the files. */
ms_status_t imp_spill_load(const spill_t *s, uint32_t part, void **data, size_t *count);

/* Spill records: the decoded row plus the CSV line it came from. */
typedef struct {
    ms_settlement_t row;
    uint64_t line;
} sett_rec_t;

typedef struct {
    ms_drug_item_t row;
    uint64_t line;
} drug_rec_t;

typedef struct {
    ms_service_item_t row;
    uint64_t line;
} svc_rec_t;

/* A settlement's id (stage 3: unique), or a bill line's settle_id (stage 3:
 * known, of the same person), with its person and line. */
typedef struct {
    uint64_t settle_id, person_id, line;
} id_rec_t;

/* ------------------------------------------------------------------ */
/* Rejected rows and parallel tasks (ms_import_reject.c).               */

/* The data files whose rows can be rejected (reject_t.file, task_t.file). */
enum { IMP_FILE_SETTLEMENTS, IMP_FILE_DRUG_ITEMS, IMP_FILE_SERVICE_ITEMS, IMP_FILE_COUNT };
extern const char *const imp_data_files[IMP_FILE_COUNT];

typedef struct {
    int file; /* IMP_FILE_* */
    uint64_t line;
    const char *column;
    char value[VALUE_SHOWN + 1];
    char reason[REASON_MAX];
} reject_t;

typedef struct {
    reject_t *v;
    size_t n, cap;
} reject_list_t;

/* One task of a parallel stage (a bucket, a partition): its outcome. */
typedef struct {
    ms_status_t st;
    int file;      /* of an input error (IMP_FILE_*), then its line: order the stage 3 errors */
    uint64_t line;
    char *msg;     /* the error detail, NULL until the task fails */
    reject_list_t rejects;
    uint64_t rows[MS_TABLE_COUNT];
} task_t;

ms_status_t imp_reject_push(reject_list_t *l, int file, uint64_t line, const char *column,
                            const char *value, const char *reason);
/* One line of rejected.csv.  People open it in a spreadsheet: the value
 * and the reason (which quotes it) are written by ms_csv_write_text_escaped
 * (control characters as "\x1b", a leading "'" before = + - @), so no
 * value from the extract becomes a formula or a terminal escape. */
void imp_rejected_write(FILE *fp, const char *file, uint64_t line, const char *column,
                        const char *value, size_t vlen, const char *reason);

task_t *imp_tasks_new(uint32_t n);
void imp_tasks_free(task_t *t, uint32_t n);
/* Keep a task's error detail (the detail buffer is per thread). */
void imp_task_fail(task_t *t, ms_status_t st, uint64_t line, const char *msg);
ms_status_t imp_task_error(const task_t *t);

/* ------------------------------------------------------------------ */
/* The import (ms_import.c).                                            */

typedef struct {
    const ms_import_opts_t *opts;
    char *csv_dir, *out_dir, *tmp_dir, *spill_dir;
    int tmp_made;
    uint32_t leftovers_removed; /* build directories of dead imports removed (ms_import_outdir.c) */
    uint32_t nparts, chunk_rows;
    int have_drugs, have_services, have_knowledge;
    ms_knowledge_t kb; /* CSV_DIR/knowledge, when have_knowledge */
    ms_refs_t refs; /* institutions and groups in file order until finished */
    size_t inst_cap, group_cap;
    strmap_t inst, group, diag, proc, drug, item;
    int32_t *inst_remap, *group_remap, *diag_remap, *proc_remap, *drug_remap, *item_remap;
    /* Pass 1 readers other than the first keep their own dictionaries: their
     * ids to the merged ones, per reader ([0] NULL: the identity). */
    int32_t **xl_diag, **xl_proc, **xl_drug, **xl_item;
    spill_t sett_spill, id_spill, drug_spill, svc_spill, svc_id_spill;
    uint64_t *dup_lines; /* settlements.csv lines rejected as duplicates, sorted */
    size_t n_dup;
    uint64_t *svc_bad_lines; /* service_items.csv lines rejected in stage 3, sorted */
    size_t n_svc_bad;
    FILE *rejected;
    uint64_t n_rejected;
    char ref_checksum[40];
    uint64_t rows[MS_TABLE_COUNT];
    double t0;          /* when the import started */
    double last_report; /* when progress was last reported */
    int reported;       /* the current stage has reported (stages reset it) */
} import_t;

/* The driver (ms_import.c). */
/* Threads for the stages parallel over partitions. */
int imp_nthreads(const import_t *im);
/* Report progress (p: all but job and seconds): at most every quarter of a
 * second, always when finished.  Callers make sure that no two threads
 * report at once.  No-op without a callback. */
void imp_report(import_t *im, ms_progress_t *p);

/* The build directory (ms_import_outdir.c). */
ms_status_t imp_prepare(import_t *im, const char *csv_dir, const char *dataset_dir);
ms_status_t imp_install(import_t *im);
/* Close rejected.csv and remove the build directory (after a failure). */
void imp_abandon(import_t *im);

/* rejected.csv (ms_import_reject.c).  A failed write (the disk may be full)
 * stops the import. */
ms_status_t imp_rejected_check(const import_t *im);
/* Write the tasks' rejects sorted by (file, line); keep_lines (stage 3):
 * remember the lines in im->dup_lines (settlements.csv) and
 * im->svc_bad_lines (service_items.csv), for pass 2 to drop. */
ms_status_t imp_merge_rejects(import_t *im, task_t *tasks, int keep_lines);

/* The stages, in order. */
ms_status_t imp_read_institutions(import_t *im); /* ms_import_refs.c */
ms_status_t imp_read_groups(import_t *im);
ms_status_t imp_read_knowledge(import_t *im);
ms_status_t imp_pass1_settlements(import_t *im); /* ms_import_pass1.c */
ms_status_t imp_pass1_services(import_t *im);
ms_status_t imp_check_duplicates(import_t *im);  /* ms_import_dups.c */
ms_status_t imp_pass1_drugs(import_t *im);       /* ms_import_pass1.c */
ms_status_t imp_finish_refs(import_t *im);       /* ms_import_dict.c */
ms_status_t imp_pass2(import_t *im);             /* ms_import_pass2.c */

/* One data row (ms_import_rows.c): 0 good, -1 bad row (*e), 1 out of memory.
 * Codes get provisional ids from the reference maps (im) and from the
 * reader's own dictionaries. */
int imp_sett_parse(const import_t *im, strmap_t *diag, strmap_t *proc, const ms_field_t *f,
                   uint64_t line, ms_settlement_t *r, row_err_t *e);
int imp_drug_parse(const import_t *im, strmap_t *drug, const ms_field_t *f, uint64_t line,
                   ms_drug_item_t *r, row_err_t *e);
enum { DI_SETTLE, DI_PERSON, DI_INST, DI_DATE, DI_DRUG, DI_TRACE, DI_QTY, DI_AMOUNT, DI_COUNT };
extern const char *const imp_drug_columns[DI_COUNT];
/* service_items.csv: its columns are the table's (MS_SIC_*). */
int imp_svc_parse(const import_t *im, strmap_t *item, const ms_field_t *f, uint64_t line,
                  ms_service_item_t *r, row_err_t *e);

/* Is this settlements.csv line a rejected duplicate, this service_items.csv
 * line one rejected in stage 3 (ms_import_dups.c)? */
int imp_is_dup_line(const import_t *im, uint64_t line);
int imp_is_svc_bad_line(const import_t *im, uint64_t line);

/* Pass 2 of a partition's bill lines (ms_import_bills.c), after its
 * settlements: rows are the partition's settlements as written, and ix
 * their (settle_id, person, inst, row) sorted by settle_id. */
typedef struct {
    uint64_t settle, person;
    int32_t inst;
    uint32_t row;
} sett_index_t;
ms_status_t imp_svc_partition(import_t *im, uint32_t p, task_t *t, const ms_settlement_t *rows,
                              const sett_index_t *ix, size_t nix);
/* Shared with it by ms_import_pass2.c. */
ms_status_t imp_sort_records(void *v, size_t rec_size, size_t n, const char *what, size_t key_size,
                             size_t idx_off, void (*make_key)(const void *rec, uint32_t i, void *key),
                             int (*cmp)(const void *, const void *), void *tmp);
void imp_strip_lines(unsigned char *base, size_t rec_size, size_t row_size, size_t n);
ms_status_t imp_write_partition(const import_t *im, ms_table_id_t tid, uint32_t p, const void *rows,
                                size_t n);
const sett_index_t *imp_sett_find(const sett_index_t *ix, size_t n, uint64_t settle_id);

#endif
