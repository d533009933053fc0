/*
 * ms_sweep_models.c - the models of a sweep: which run (named, always
 * running, or a test's own list), the batch each sees (only the columns it
 * declared), and their failures named.
 */
#include "ms_sweep_int.h"

ms_status_t sw_select_models(sweep_t *sw)
{
    int n;
    const ms_model_t *const *all = ms_models(&n);
    if (sw->o->model_list) {
        all = sw->o->model_list; /* a test's or a benchmark's own models */
        n = sw->o->nmodel_list;
    }
    sw->models = calloc((size_t)n + 1, sizeof *sw->models);
    uint8_t *want = calloc((size_t)n + 1, 1);
    char *copy = sw->o->models ? strdup(sw->o->models) : NULL;
    ms_status_t st = MS_OK;
    if (!sw->models || !want || (sw->o->models && !copy)) st = ms_error_set(MS_E_NOMEM, "out of memory");
    const char *list = sw->o->models;
    int every = !list || !*list || !strcmp(list, "all");
    char *save = NULL;
    for (char *tok = every || !copy ? NULL : strtok_r(copy, ",", &save); tok && st == MS_OK;
         tok = strtok_r(NULL, ",", &save)) {
        int k = 0;
        while (k < n && strcmp(all[k]->name, tok)) k++;
        if (k == n) st = ms_error_set(MS_E_USAGE, "unknown model '%s' (medsweep models lists them)", tok);
        else want[k] = 1;
    }
    /* In registry order, whatever order they were named in; the models
     * that always run (the records every ranked row reports) whatever. */
    int bills = sw->ds.nparts[MS_TABLE_SERVICE_ITEMS] > 0;
    for (int i = 0; st == MS_OK && i < n; i++) {
        st = ms_model_check(all[i]);
        if (st != MS_OK || !(every || want[i] || all[i]->always_runs)) continue;
        /* A model of the bill lines has nothing to read in a dataset
         * without them: named, that is a usage error; otherwise it is not
         * run, and run.json and the report say why. */
        if (all[i]->service_cols && !bills) {
            if (!every && want[i])
                st = ms_error_set(MS_E_USAGE, "model '%s' reads itemised bills (service_items), and %s has none",
                                  all[i]->name, sw->ds.dir);
            else if (sw->nnot_run < MS_SWEEP_NOT_RUN_MAX)
                sw->not_run[sw->nnot_run++] = all[i];
            continue;
        }
        sw->models[sw->nmodels++] = all[i];
    }
    free(copy);
    free(want);
    return st;
}

/* The batch as model m sees it: only the columns it declared. */
void sw_model_view(const ms_model_t *mod, ms_table_id_t table, const ms_batch_t *b, ms_batch_t *view)
{
    uint64_t need = ms_model_cols(mod, table);
    view->rows = b->rows;
    view->first_row = b->first_row;
    view->persons = b->persons;
    view->npersons = b->npersons;
    for (int c = 0; c < MS_MAX_COLUMNS; c++) view->col[c] = need >> c & 1 ? b->col[c] : NULL;
}

/* After a model's callback: its error, named, or the column it read
 * without declaring it. */
ms_status_t sw_model_checked(const ms_model_t *mod, ms_table_id_t table, ms_status_t st)
{
    int c = ms_col_take_undeclared();
    if (st != MS_OK) return ms_error_wrap(st, "model %s: ", mod->name);
    if (c < 0) return MS_OK;
    const ms_table_t *t = ms_table(table);
    static const char *const prefix[MS_TABLE_COUNT] = {"MS_SC", "MS_DC", "MS_SIC"};
    static const char *const field[MS_TABLE_COUNT] = {"settlement_cols", "drug_cols", "service_cols"};
    return ms_error_set(MS_E_INTERNAL,
                        "model %s reads column %s.%s, which it does not declare: add 1ull << %s_%s to its %s",
                        mod->name, t->name, c < t->ncols ? t->cols[c].name : "?", prefix[table],
                        c < t->ncols ? t->cols[c].name : "?", field[table]);
}
