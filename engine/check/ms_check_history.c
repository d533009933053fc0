/*
 * ms_check_history.c - the dataset's recent bill lines in memory, for the
 * claims that come without a "history" (ms_check_history.h).
 *
 * Two passes over the service_items partitions, both in the calling
 * thread: the first opens each one for its attributes (its number, the
 * dataset's partition count, rows, max_date), the second reads the columns
 * the history rules need through ms_reader (one reader, moved from
 * partition to partition) and keeps the recent lines of known items.  A
 * partition's lines are kept in its own order, (person_id, date,
 * settle_id, line_no), so a lookup is a binary search in the person's
 * partition; a partition found out of that order (not one import wrote) is
 * sorted once instead of being trusted.
 */
#include "ms_check_history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_buf.h"
#include "ms_dataset.h"
#include "ms_fs.h"
#include "ms_part.h"
#include "ms_reader.h"
#include "ms_schema.h"

#define BATCH_ROWS 65536

/* One line of the index: 40 bytes. */
typedef struct {
    uint64_t person_id;
    uint64_t settle_id;
    int32_t date;
    int32_t item;           /* the knowledge base's id (always known) */
    int32_t inst;           /* the reference files' id, -1 unknown */
    int32_t qty_milli;      /* thousandths of a unit (the contract's limit, 10^9, fits) */
    uint32_t line_no;
    uint16_t days_supply;   /* 0..36,500 */
    uint8_t category;
} hline_t;

struct ms_history {
    hline_t *line;
    size_t nlines;
    uint32_t nparts;
    size_t *off;            /* [nparts + 1]: partition k's lines are [off[k], off[k + 1]) */
    int32_t days, from, to;
};

void ms_history_free(ms_history_t *h)
{
    if (!h) return;
    free(h->line);
    free(h->off);
    free(h);
}

void ms_history_info(const ms_history_t *h, ms_history_info_t *info)
{
    memset(info, 0, sizeof *info);
    if (!h) return;
    info->lines = h->nlines;
    info->bytes = h->nlines * sizeof *h->line + ((size_t)h->nparts + 1) * sizeof *h->off;
    info->partitions = h->nparts;
    info->days = h->days;
    info->from = h->from;
    info->to = h->to;
}

/* (person_id, date, settle_id, line_no) of a before b. */
static int hline_cmp(const void *x, const void *y)
{
    const hline_t *a = x, *b = y;
    if (a->person_id != b->person_id) return a->person_id < b->person_id ? -1 : 1;
    if (a->date != b->date) return a->date < b->date ? -1 : 1;
    if (a->settle_id != b->settle_id) return a->settle_id < b->settle_id ? -1 : 1;
    return a->line_no < b->line_no ? -1 : a->line_no > b->line_no;
}

/* The partition files of service_items: 0..n-1, as ms_dataset_part_path
 * names them (n 0 without the folder). */
static uint32_t count_files(const char *dataset)
{
    char path[4096];
    const ms_table_t *t = ms_table(MS_TABLE_SERVICE_ITEMS);
    snprintf(path, sizeof path, "%s/%s", dataset, t->name);
    if (!ms_is_dir(path)) return 0;
    uint32_t n = 0;
    for (; n < MS_PARTITIONS_MAX; n++) {
        ms_dataset_part_path(dataset, t, n, path, sizeof path);
        if (!ms_path_exists(path)) break;
    }
    return n;
}

/* Pass 1: every partition's attributes, checked against its place; the
 * dataset's latest date and its rows. */
static ms_status_t survey(const char *dataset, const ms_refs_t *refs, uint32_t nfiles, uint64_t *rows,
                          int32_t *max_date, uint64_t **prows)
{
    const ms_table_t *t = ms_table(MS_TABLE_SERVICE_ITEMS);
    char path[4096];
    *rows = 0;
    *max_date = INT32_MIN;
    *prows = calloc(nfiles, sizeof **prows);
    if (!*prows) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (uint32_t k = 0; k < nfiles; k++) {
        ms_dataset_part_path(dataset, t, k, path, sizeof path);
        ms_part_t *p = NULL;
        MS_TRY(ms_part_open(path, t, refs, &p));
        ms_part_info_t info = *ms_part_info(p);
        ms_part_close(p);
        if (info.index != k || info.count != nfiles)
            return ms_error_set(MS_E_CORRUPT,
                                "%s records itself as partition %u of %u, and %s/%s holds %u partition files",
                                path, info.index, info.count, dataset, t->name, nfiles);
        (*prows)[k] = info.rows;
        *rows += info.rows;
        if (info.rows && info.max_date > *max_date) *max_date = info.max_date;
    }
    return MS_OK;
}

/* Pass 2: partition k's recent lines of known items, appended. */
static ms_status_t read_part(ms_history_t *h, const char *dataset, const ms_refs_t *refs, const int32_t *item_of,
                             uint32_t k, ms_reader_t **r, size_t *cap)
{
    const ms_table_t *t = ms_table(MS_TABLE_SERVICE_ITEMS);
    char path[4096];
    ms_dataset_part_path(dataset, t, k, path, sizeof path);
    ms_part_t *p = NULL;
    MS_TRY(ms_part_open(path, t, refs, &p));
    const uint64_t cols = 1ull << MS_SIC_person_id | 1ull << MS_SIC_settle_id | 1ull << MS_SIC_line_no |
                          1ull << MS_SIC_inst_code | 1ull << MS_SIC_date | 1ull << MS_SIC_item_code |
                          1ull << MS_SIC_category | 1ull << MS_SIC_qty | 1ull << MS_SIC_days_supply;
    ms_status_t st = *r ? ms_reader_seek(*r, p, 0, ms_part_nchunks(p))
                        : ms_reader_open(p, cols, 0, ms_part_nchunks(p), BATCH_ROWS, MS_READ_PREAD, r);
    size_t first = h->nlines;
    int sorted = 1;
    ms_batch_t b;
    while (st == MS_OK && (st = ms_reader_next(*r, &b)) == MS_OK && b.rows) {
        const uint64_t *pid = b.col[MS_SIC_person_id], *sid = b.col[MS_SIC_settle_id];
        const uint32_t *lno = b.col[MS_SIC_line_no];
        const int32_t *inst = b.col[MS_SIC_inst_code], *date = b.col[MS_SIC_date], *code = b.col[MS_SIC_item_code],
                      *days = b.col[MS_SIC_days_supply];
        const uint8_t *cat = b.col[MS_SIC_category];
        const int64_t *qty = b.col[MS_SIC_qty];
        for (size_t i = 0; i < b.rows && st == MS_OK; i++) {
            if (date[i] < h->from || code[i] < 0 || (size_t)code[i] >= refs->items.count) continue;
            int32_t item = item_of[code[i]];
            if (item < 0) continue;
            if (h->nlines == *cap && (st = ms_grow(&h->line, cap, h->nlines + 1, sizeof *h->line, 1u << 16)) != MS_OK)
                break;
            hline_t *l = &h->line[h->nlines++];
            *l = (hline_t){.person_id = pid[i],
                           .settle_id = sid[i],
                           .date = date[i],
                           .item = item,
                           .inst = inst[i] >= 0 && (size_t)inst[i] < refs->n_inst ? inst[i] : -1,
                           .qty_milli = (int32_t)(qty[i] < 0 ? 0 : qty[i] > INT32_MAX ? INT32_MAX : qty[i]),
                           .line_no = lno[i],
                           .days_supply = (uint16_t)(days[i] < 0                     ? 0
                                                     : days[i] > MS_DAYS_SUPPLY_MAX ? MS_DAYS_SUPPLY_MAX
                                                                                    : days[i]),
                           .category = cat[i]};
            if (sorted && h->nlines - first > 1 && hline_cmp(l - 1, l) > 0) sorted = 0;
        }
    }
    ms_part_close(p);
    if (st == MS_OK && !sorted) qsort(h->line + first, h->nlines - first, sizeof *h->line, hline_cmp);
    return st;
}

ms_status_t ms_history_build(const char *dataset, const ms_refs_t *refs, const ms_knowledge_t *kb, int32_t days,
                             ms_history_t **out)
{
    *out = NULL;
    uint32_t nfiles = count_files(dataset);
    if (nfiles == 0) return MS_OK;
    uint64_t rows = 0, *prows = NULL;
    int32_t max_date;
    ms_status_t st = survey(dataset, refs, nfiles, &rows, &max_date, &prows);
    if (st != MS_OK || rows == 0) {
        free(prows);
        return st;
    }
    ms_history_t *h = calloc(1, sizeof *h);
    int32_t *item_of = NULL;
    ms_reader_t *r = NULL;
    size_t cap = 0;
    if (!h || !(h->off = calloc((size_t)nfiles + 1, sizeof *h->off))) {
        st = ms_error_set(MS_E_NOMEM, "out of memory");
        goto done;
    }
    h->nparts = nfiles;
    h->days = days;
    h->to = max_date;
    h->from = max_date - days < MS_DAY_MIN ? MS_DAY_MIN : max_date - days;
    st = ms_knowledge_ids(kb, &refs->items, &item_of);
    for (uint32_t k = 0; k < nfiles && st == MS_OK; k++) {
        h->off[k] = h->nlines;
        if (prows[k]) st = read_part(h, dataset, refs, item_of, k, &r, &cap);
    }
    h->off[nfiles] = h->nlines;
    if (st == MS_OK && cap > h->nlines) {
        /* Give back what the doubling left over. */
        hline_t *shrunk = realloc(h->line, (h->nlines ? h->nlines : 1) * sizeof *h->line);
        if (shrunk) h->line = shrunk;
    }
done:
    ms_reader_close(r);
    free(item_of);
    free(prows);
    if (st != MS_OK) ms_history_free(h);
    else *out = h;
    return st;
}

ms_status_t ms_history_person(const ms_history_t *h, const ms_knowledge_t *kb, uint64_t person, uint64_t except,
                              int32_t from, int32_t to, ms_rule_line_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!h || from > to) return MS_OK;
    uint32_t k = ms_person_partition(person, h->nparts);
    /* The first line at or after (person, from), then the person's lines up
     * to `to`. */
    size_t lo = h->off[k], hi = h->off[k + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const hline_t *l = &h->line[mid];
        if (l->person_id < person || (l->person_id == person && l->date < from)) lo = mid + 1;
        else hi = mid;
    }
    size_t end = lo;
    while (end < h->off[k + 1] && h->line[end].person_id == person && h->line[end].date <= to) end++;
    if (end == lo) return MS_OK;
    ms_rule_line_t *o = malloc((end - lo) * sizeof *o);
    if (!o) return ms_error_set(MS_E_NOMEM, "out of memory");
    size_t m = 0;
    for (size_t i = lo; i < end; i++) {
        const hline_t *l = &h->line[i];
        if (l->settle_id == except) continue;
        o[m++] = (ms_rule_line_t){.settle_id = l->settle_id,
                                  .line_no = l->line_no,
                                  .date = l->date,
                                  .item = l->item,
                                  .item_code = kb->items[l->item].item_code,
                                  .category = l->category,
                                  .qty_milli = l->qty_milli,
                                  .days_supply = l->days_supply,
                                  .inst = l->inst};
    }
    if (m == 0) {
        free(o);
        return MS_OK;
    }
    *out = o;
    *n = m;
    return MS_OK;
}
