/*
 * test_rules_sweep.c - the rule base in the weekly sweep (models/
 * model_rules.c) and the same claims judged one at a time before
 * settlement (`medsweep check`): the same rules must hit the same lines.
 *
 * A generated world with itemised bills, its knowledge base and a plant of
 * every rule template (gen --bills --csv) is imported and swept with the
 * rules model, writing every clue (all_clues, min_denominator 1).  Every
 * settlement with lines is then written as a claim, as a hospital system
 * would send it: its lines, the packages scanned for it, and as history the
 * lines of the person's settlements before it (admission, settle_id), at
 * any institution.  `medsweep check --data` judges them all; its hits, as
 * (settlement, template, line), must be exactly the sweep's clues.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ms_fs.h"
#include "ms_rules.h"
#include "ms_testcsv.h"
#include "ms_testutil.h"

typedef struct {
    char *dir;
    char csv[512], data[512], out[512], cfg[512];
} fx_t;

/* Every clue written, whatever the peers do. */
static const char *const CONFIG = "scoring = { min_denominator = 1; all_clues = 1; };\n";

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    f->dir = ms_test_dir("rules-sweep");
    snprintf(f->csv, sizeof f->csv, "%s/csv", f->dir);
    snprintf(f->data, sizeof f->data, "%s/data", f->dir);
    snprintf(f->out, sizeof f->out, "%s/out", f->dir);
    snprintf(f->cfg, sizeof f->cfg, "%s/rules.cfg", f->dir);
    assert_int_equal(ms_test_write_file(f->cfg, CONFIG), 0);
    ms_test_cli_ok(NULL, "gen --csv --bills --out %s --persons 6000 --institutions 60 --seed 11 --quiet", f->csv);
    ms_test_cli_ok(NULL, "import %s %s --quiet", f->csv, f->data);
    *state = f;
    return 0;
}

/* A hit: (settlement, template, line). */
typedef struct {
    uint64_t settle_id;
    int tmpl;
    unsigned line_no;
} hit_t;

static int cmp_hit(const void *a, const void *b)
{
    const hit_t *x = a, *y = b;
    if (x->settle_id != y->settle_id) return x->settle_id < y->settle_id ? -1 : 1;
    if (x->tmpl != y->tmpl) return x->tmpl < y->tmpl ? -1 : 1;
    return (x->line_no > y->line_no) - (x->line_no < y->line_no);
}

/* Sorted, each once. */
static size_t uniq(hit_t *h, size_t n)
{
    qsort(h, n, sizeof *h, cmp_hit);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || cmp_hit(&h[k - 1], &h[i])) h[k++] = h[i];
    return k;
}

/* Rows of a CSV table by one uint64 column: index sorted by (key, row). */
static const ms_testcsv_t *g_sort_t;
static const char *g_sort_col;

static int cmp_row(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    uint64_t kx = ms_testcsv_u64(g_sort_t, x, g_sort_col), ky = ms_testcsv_u64(g_sort_t, y, g_sort_col);
    if (kx != ky) return kx < ky ? -1 : 1;
    return (x > y) - (x < y);
}

static size_t *index_by(const ms_testcsv_t *t, const char *col)
{
    size_t n = ms_testcsv_rows(t);
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    for (size_t i = 0; i < n; i++) idx[i] = i;
    g_sort_t = t;
    g_sort_col = col;
    qsort(idx, n, sizeof *idx, cmp_row);
    return idx;
}

/* The first position in idx whose key is >= k. */
static size_t lower(const ms_testcsv_t *t, const char *col, const size_t *idx, size_t n, uint64_t k)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ms_testcsv_u64(t, idx[mid], col) < k) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static json_t *line_json(const ms_testcsv_t *si, size_t r, int history)
{
    json_t *l = json_object();
    if (history) {
        json_object_set_new(l, "settle_id", json_integer((json_int_t)ms_testcsv_u64(si, r, "settle_id")));
        json_object_set_new(l, "inst_code", json_string(ms_testcsv_get(si, r, "inst_code")));
    }
    json_object_set_new(l, "line_no", json_integer(ms_testcsv_ll(si, r, "line_no")));
    json_object_set_new(l, "date", json_string(ms_testcsv_get(si, r, "date")));
    json_object_set_new(l, "item_code", json_string(ms_testcsv_get(si, r, "item_code")));
    json_object_set_new(l, "category", json_string(ms_testcsv_get(si, r, "category")));
    json_object_set_new(l, "qty", json_string(ms_testcsv_get(si, r, "qty")));
    json_object_set_new(l, "unit_price", json_string(ms_testcsv_get(si, r, "unit_price")));
    json_object_set_new(l, "amount", json_string(ms_testcsv_get(si, r, "amount")));
    json_object_set_new(l, "days_supply", json_integer(ms_testcsv_ll(si, r, "days_supply")));
    json_object_set_new(l, "doctor_id", json_integer(ms_testcsv_ll(si, r, "doctor_id")));
    return l;
}

/* A person's settlements in (admission, settle_id) order: the sweep's. */
static const ms_testcsv_t *g_st;
static int cmp_stay(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(ms_testcsv_get(g_st, x, "admit_date"), ms_testcsv_get(g_st, y, "admit_date"));
    if (c) return c;
    uint64_t kx = ms_testcsv_u64(g_st, x, "settle_id"), ky = ms_testcsv_u64(g_st, y, "settle_id");
    return (kx > ky) - (kx < ky);
}

/* Lines of one settlement in (date, line_no) order. */
static const ms_testcsv_t *g_si;
static int cmp_line(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(ms_testcsv_get(g_si, x, "date"), ms_testcsv_get(g_si, y, "date"));
    if (c) return c;
    long long kx = ms_testcsv_ll(g_si, x, "line_no"), ky = ms_testcsv_ll(g_si, y, "line_no");
    return (kx > ky) - (kx < ky);
}

/* Write every settlement with lines as a claim, one per line of path;
 * returns the claims written, and each claim's institution in *inst
 * (caller frees, strings and array). */
static size_t write_claims(const fx_t *f, const char *path, char ***inst)
{
    ms_testcsv_t *st = ms_testcsv_read(f->csv, "settlements.csv");
    ms_testcsv_t *si = ms_testcsv_read(f->csv, "service_items.csv");
    ms_testcsv_t *di = ms_testcsv_read(f->csv, "drug_items.csv");
    size_t nst = ms_testcsv_rows(st), nsi = ms_testcsv_rows(si), ndi = ms_testcsv_rows(di);
    size_t *st_by_person = index_by(st, "person_id");
    size_t *si_by_settle = index_by(si, "settle_id");
    size_t *di_by_settle = index_by(di, "settle_id");
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    size_t claims = 0;
    *inst = malloc((nst ? nst : 1) * sizeof **inst);
    size_t *stays = malloc((nst ? nst : 1) * sizeof *stays), *lines = malloc((nsi ? nsi : 1) * sizeof *lines);
    for (size_t a = 0; a < nst;) {
        uint64_t person = ms_testcsv_u64(st, st_by_person[a], "person_id");
        size_t b = a, ns = 0;
        while (b < nst && ms_testcsv_u64(st, st_by_person[b], "person_id") == person) stays[ns++] = st_by_person[b++];
        g_st = st;
        qsort(stays, ns, sizeof *stays, cmp_stay);
        json_t *history = json_array();
        for (size_t k = 0; k < ns; k++) {
            size_t s = stays[k];
            uint64_t sid = ms_testcsv_u64(st, s, "settle_id");
            size_t l0 = lower(si, "settle_id", si_by_settle, nsi, sid), nl = 0;
            for (size_t l = l0; l < nsi && ms_testcsv_u64(si, si_by_settle[l], "settle_id") == sid; l++)
                lines[nl++] = si_by_settle[l];
            if (nl == 0) continue;
            g_si = si;
            qsort(lines, nl, sizeof *lines, cmp_line);
            json_t *c = json_object();
            char id[32];
            snprintf(id, sizeof id, "%llu", (unsigned long long)sid);
            json_object_set_new(c, "claim_id", json_string(id));
            json_object_set_new(c, "settle_id", json_integer((json_int_t)sid));
            json_object_set_new(c, "person_id", json_integer((json_int_t)person));
            static const char *const text[] = {"inst_code", "visit_type", "admit_date", "discharge_date", "sex",
                                               "diag_main"};
            for (size_t t = 0; t < sizeof text / sizeof text[0]; t++)
                json_object_set_new(c, text[t], json_string(ms_testcsv_get(st, s, text[t])));
            json_object_set_new(c, "age", json_integer(ms_testcsv_ll(st, s, "age")));
            json_t *arr = json_array();
            for (size_t l = 0; l < nl; l++) json_array_append_new(arr, line_json(si, lines[l], 0));
            json_object_set_new(c, "lines", arr);
            json_t *tr = json_array();
            size_t d0 = lower(di, "settle_id", di_by_settle, ndi, sid);
            for (size_t d = d0; d < ndi && ms_testcsv_u64(di, di_by_settle[d], "settle_id") == sid; d++) {
                json_t *p = json_object();
                json_object_set_new(p, "drug_code", json_string(ms_testcsv_get(di, di_by_settle[d], "drug_code")));
                json_object_set_new(p, "qty", json_integer(ms_testcsv_ll(di, di_by_settle[d], "qty")));
                json_array_append_new(tr, p);
            }
            json_object_set_new(c, "traces", tr);
            json_object_set(c, "history", history);
            char *txt = json_dumps(c, JSON_COMPACT);
            fprintf(fp, "%s\n", txt);
            free(txt);
            json_decref(c);
            (*inst)[claims++] = strdup(ms_testcsv_get(st, s, "inst_code"));
            /* This settlement's lines are history for the ones after it. */
            for (size_t l = 0; l < nl; l++) json_array_append_new(history, line_json(si, lines[l], 1));
        }
        json_decref(history);
        a = b;
    }
    fclose(fp);
    free(stays), free(lines), free(st_by_person), free(si_by_settle), free(di_by_settle);
    ms_testcsv_free(st), ms_testcsv_free(si), ms_testcsv_free(di);
    return claims;
}

static void test_sweep_and_check_agree(void **state)
{
    fx_t *f = *state;
    ms_test_cli_ok(NULL, "sweep %s --out %s --quiet --models rules --config %s --lang en", f->data, f->out, f->cfg);
    /* The sweep's hits: its clues. */
    ms_testcsv_t *clues = ms_testcsv_read(f->out, "clues.csv");
    size_t nc = ms_testcsv_rows(clues), ns = 0;
    hit_t *sweep = malloc((nc ? nc : 1) * sizeof *sweep);
    for (size_t r = 0; r < nc; r++) {
        if (!ms_testcsv_is(clues, r, "model", "rules")) continue;
        int t = ms_rule_template_find(ms_testcsv_get(clues, r, "indicator"));
        assert_true(t >= 0);
        sweep[ns++] = (hit_t){ms_testcsv_u64(clues, r, "settle_id"), t, (unsigned)ms_testcsv_ll(clues, r, "line_no")};
    }
    ms_testcsv_free(clues);
    ns = uniq(sweep, ns);
    /* Every template is planted: each must have hits, or this test could
     * not tell the two apart. */
    int seen[MS_RULE_TEMPLATE_COUNT] = {0};
    for (size_t i = 0; i < ns; i++) seen[sweep[i].tmpl]++;
    for (int t = 0; t < MS_RULE_TEMPLATE_COUNT; t++)
        if (!seen[t]) fail_msg("the sweep found no %s hit in a world that plants it", ms_rule_template_name(t));

    /* The same settlements as claims, judged one at a time. */
    char claims[700], verdicts[700];
    snprintf(claims, sizeof claims, "%s/claims.jsonl", f->dir);
    snprintf(verdicts, sizeof verdicts, "%s/verdicts.jsonl", f->dir);
    char **inst = NULL;
    size_t nclaims = write_claims(f, claims, &inst);
    assert_true(nclaims > 1000);
    char cmd[3000];
    snprintf(cmd, sizeof cmd, "'%s' check --data %s --config %s --lang en %s > %s", ms_test_bin(), f->data, f->cfg,
             claims, verdicts);
    ms_test_run_ok(cmd, NULL);
    FILE *fp = fopen(verdicts, "r");
    assert_non_null(fp);
    size_t cap = 1024, nk = 0, nv = 0;
    hit_t *check = malloc(cap * sizeof *check);
    /* Claims hit per (institution, template): the indicators' numerators. */
    json_t *per = json_object();
    char *line = NULL;
    size_t linecap = 0;
    while (getline(&line, &linecap, fp) > 0) {
        json_error_t err;
        json_t *v = json_loads(line, 0, &err);
        if (!v) fail_msg("verdict %zu is not JSON: %s", nv + 1, err.text);
        nv++;
        if (json_array_size(json_object_get(v, "rules_not_run")) != 0) fail_msg("verdict %zu: rules not run: %s", nv, line);
        uint64_t sid = strtoull(json_string_value(json_object_get(v, "claim_id")), NULL, 10);
        json_t *h;
        size_t i;
        int claim_hit[MS_RULE_TEMPLATE_COUNT] = {0};
        json_array_foreach(json_object_get(v, "hits"), i, h)
        {
            if (nk == cap) check = realloc(check, (cap *= 2) * sizeof *check);
            int t = ms_rule_template_find(json_string_value(json_object_get(h, "template")));
            assert_true(t >= 0);
            check[nk++] = (hit_t){sid, t, (unsigned)json_integer_value(json_object_get(h, "line_no"))};
            claim_hit[t] = 1;
        }
        for (int t = 0; t < MS_RULE_TEMPLATE_COUNT; t++) {
            if (!claim_hit[t]) continue;
            char key[128];
            snprintf(key, sizeof key, "%s/%s", inst[nv - 1], ms_rule_template_name(t));
            json_int_t had = json_integer_value(json_object_get(per, key));
            json_object_set_new(per, key, json_integer(had + 1));
        }
        json_decref(v);
    }
    free(line);
    fclose(fp);
    assert_int_equal(nv, nclaims);
    nk = uniq(check, nk);
    /* The first difference, named. */
    size_t i = 0, j = 0;
    while (i < ns || j < nk) {
        int c = i == ns ? 1 : j == nk ? -1 : cmp_hit(&sweep[i], &check[j]);
        if (c < 0)
            fail_msg("the sweep hit settlement %llu line %u with %s; the check did not",
                     (unsigned long long)sweep[i].settle_id, sweep[i].line_no, ms_rule_template_name(sweep[i].tmpl));
        if (c > 0)
            fail_msg("the check hit settlement %llu line %u with %s; the sweep did not",
                     (unsigned long long)check[j].settle_id, check[j].line_no, ms_rule_template_name(check[j].tmpl));
        i++, j++;
    }
    /* Each indicator's numerator is the claims of the institution that the
     * check found hit by the template. */
    ms_testcsv_t *ind = ms_testcsv_read(f->out, "indicators.csv");
    size_t matched = 0;
    for (size_t r = 0; r < ms_testcsv_rows(ind); r++) {
        if (!ms_testcsv_is(ind, r, "model", "rules")) continue;
        char key[128];
        snprintf(key, sizeof key, "%s/%s", ms_testcsv_get(ind, r, "inst_code"), ms_testcsv_get(ind, r, "indicator"));
        long long want = (long long)json_integer_value(json_object_get(per, key));
        if (ms_testcsv_ll(ind, r, "numerator") != want)
            fail_msg("%s: numerator %lld, the check hit %lld claims", key, ms_testcsv_ll(ind, r, "numerator"), want);
        if (ms_testcsv_ll(ind, r, "denominator") < want) fail_msg("%s: denominator below numerator", key);
        matched += want > 0;
        json_object_del(per, key);
    }
    ms_testcsv_free(ind);
    if (json_object_size(per)) fail_msg("%zu (institution, template) hit by the check have no indicator row",
                                        json_object_size(per));
    assert_true(matched > 10);
    json_decref(per);
    for (size_t k = 0; k < nclaims; k++) free(inst[k]);
    free(inst);
    print_message("%zu claims, %zu hits, the same in the sweep and the check\n", nclaims, ns);
    free(sweep);
    free(check);
}

/* The sweep's rule clues do not depend on threads. */
static void test_threads_same_bytes(void **state)
{
    fx_t *f = *state;
    char out1[700], out2[700];
    snprintf(out1, sizeof out1, "%s/t1", f->dir);
    snprintf(out2, sizeof out2, "%s/t2", f->dir);
    ms_test_cli_ok(NULL, "sweep %s --out %s --quiet --threads 1", f->data, out1);
    ms_test_cli_ok(NULL, "sweep %s --out %s --quiet --threads 2", f->data, out2);
    ms_test_same_files(out1, out2, "ranked.csv", "clues.csv", "indicators.csv", "ranked_rules.csv", NULL);
    char *json = ms_test_read(out1, "run.json", NULL);
    ms_test_contains(json, "\"knowledge_base\": true");
    free(json);
}

/* Without a knowledge base, only bed_days runs; run.json says why the others did not. */
static void test_without_knowledge(void **state)
{
    fx_t *f = *state;
    char kb[700], moved[700], out[700];
    snprintf(kb, sizeof kb, "%s/knowledge.h5", f->data);
    snprintf(moved, sizeof moved, "%s/knowledge.h5.away", f->dir);
    snprintf(out, sizeof out, "%s/nokb", f->dir);
    assert_int_equal(rename(kb, moved), 0);
    ms_test_cli_ok(NULL, "sweep %s --out %s --quiet --models rules --config %s --lang en", f->data, out, f->cfg);
    assert_int_equal(rename(moved, kb), 0);
    char *json = ms_test_read(out, "run.json", NULL);
    ms_test_contains(json, "\"knowledge_base\": false");
    ms_test_contains(json, "the dataset has no knowledge base (knowledge.h5)");
    free(json);
    /* The report says so too, above everything else. */
    char *html = ms_test_read(out, "report.html", NULL);
    ms_test_contains(html, "id=\"rules-not-run\">9 rules did not run: the dataset has no knowledge base");
    ms_test_contains(html, "bill lines");
    free(html);
    ms_testcsv_t *clues = ms_testcsv_read(out, "clues.csv");
    size_t bed = 0;
    for (size_t r = 0; r < ms_testcsv_rows(clues); r++) {
        if (!ms_testcsv_is(clues, r, "model", "rules")) continue;
        if (!ms_testcsv_is(clues, r, "indicator", "bed_days"))
            fail_msg("without a knowledge base, rule %s hit", ms_testcsv_get(clues, r, "indicator"));
        bed++;
    }
    assert_true(bed > 0);
    ms_testcsv_free(clues);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep_and_check_agree),
        cmocka_unit_test(test_threads_same_bytes),
        cmocka_unit_test(test_without_knowledge),
    };
    return cmocka_run_group_tests(tests, setup, ms_test_dir_teardown);
}
