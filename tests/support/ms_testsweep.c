#include "ms_testsweep.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ms_fs.h"
#include "ms_testutil.h"

void ms_testsweep_init(ms_testsweep_t *f, const char *name, const char *model)
{
    memset(f, 0, sizeof *f);
    f->dir = ms_test_dir(name);
    assert_non_null(f->dir);
    f->model = model;
    snprintf(f->data, sizeof f->data, "%s/data", f->dir);
    snprintf(f->out, sizeof f->out, "%s/out", f->dir);
    snprintf(f->out2, sizeof f->out2, "%s/out2", f->dir);
    snprintf(f->cfg, sizeof f->cfg, "%s/rules.cfg", f->dir);
}

void ms_testsweep_done(ms_testsweep_t *f)
{
    ms_remove_tree(f->dir);
    free(f->dir);
    f->dir = NULL;
}

void ms_testsweep_data(ms_testsweep_t *f, ms_testdata_t *t) { assert_int_equal(ms_testdata_write(t, f->data), MS_OK); }

void ms_testsweep_rules(ms_testsweep_t *f, const char *text)
{
    assert_int_equal(ms_test_write_file(f->cfg, text), 0);
    f->has_rules = 1;
}

void ms_testsweep_run(const ms_testsweep_t *f, const char *out, const char *args)
{
    char extra[2000], *log = NULL;
    /* In English unless the test asks otherwise: tests read words. */
    const char *lang = args && strstr(args, "--lang") ? "" : "--lang en ";
    snprintf(extra, sizeof extra, "%s%s%s %s%s %s", lang, f->model ? "--models " : "", f->model ? f->model : "",
             f->has_rules ? "--config " : "", f->has_rules ? f->cfg : "", args ? args : "");
    int rc = ms_testdata_sweep(f->data, out, extra, &log);
    if (rc) print_error("sweep %s: %s\n", extra, log ? log : "");
    free(log);
    assert_int_equal(rc, 0);
}

void ms_testsweep_same_run(const ms_testsweep_t *f, const char *args)
{
    ms_testsweep_run(f, f->out2, args);
    ms_test_same_files(f->out, f->out2, "indicators.csv", "clues.csv", NULL);
}

void ms_testsweep_expect(const ms_testsweep_t *f, const char *inst, const char *indicator, long long want_num,
                         long long want_den)
{
    long long num = -1, den = -1;
    int rc = ms_testdata_indicator(f->out, inst, f->model, indicator, &num, &den);
    if (rc || num != want_num || den != want_den)
        print_error("%s %s.%s: got %lld/%lld (rc %d), want %lld/%lld\n", inst, f->model, indicator, num, den, rc,
                    want_num, want_den);
    assert_int_equal(rc, 0);
    assert_int_equal(num, want_num);
    assert_int_equal(den, want_den);
}

/* Clue rows of (inst, model, indicator, settle_id): their number, the first max ids. */
static size_t clues_of(const ms_testcsv_t *clues, const char *inst, const char *model, const char *indicator,
                       uint64_t settle_id, uint64_t *ids, size_t max)
{
    size_t n = 0;
    for (size_t r = 0; r < ms_testcsv_rows(clues); r++) {
        if (!ms_testcsv_is(clues, r, "inst_code", inst) || !ms_testcsv_is(clues, r, "model", model) ||
            !ms_testcsv_is(clues, r, "indicator", indicator))
            continue;
        uint64_t sid = ms_testcsv_u64(clues, r, "settle_id");
        if (settle_id != MS_TEST_ANY_ID && sid != settle_id) continue;
        if (ids && n < max) ids[n] = sid;
        n++;
    }
    return n;
}

size_t ms_testsweep_clue_ids(const ms_testcsv_t *clues, const char *inst, const char *model, const char *indicator,
                             uint64_t *ids, size_t max)
{
    return clues_of(clues, inst, model, indicator, MS_TEST_ANY_ID, ids, max);
}

size_t ms_testsweep_clue_count(const ms_testcsv_t *clues, const char *inst, const char *model,
                               const char *indicator, uint64_t settle_id)
{
    return clues_of(clues, inst, model, indicator, settle_id, NULL, 0);
}

void ms_testclues_add(ms_testclues_t *l, const char *inst, const char *indicator, uint64_t settle_id)
{
    l->v = ms_test_grow(l->v, &l->cap, l->n, sizeof *l->v);
    l->v[l->n++] = (ms_testclue_t){inst, indicator, settle_id};
}

void ms_testclues_free(ms_testclues_t *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

void ms_testsweep_clues_are(const ms_testsweep_t *f, const ms_testclues_t *want, int once)
{
    ms_testcsv_t *clues = ms_testcsv_read(f->out, "clues.csv");
    for (size_t i = 0; i < want->n; i++) {
        const ms_testclue_t *w = &want->v[i];
        size_t seen = ms_testsweep_clue_count(clues, w->inst, f->model, w->indicator, w->settle_id);
        if (once ? seen != 1 : seen == 0)
            print_error("clue %s %s.%s %llu seen %zu times\n", w->inst, f->model, w->indicator,
                        (unsigned long long)w->settle_id, seen);
        if (once) assert_int_equal(seen, 1);
        else assert_true(seen > 0);
    }
    assert_int_equal(ms_testsweep_clue_count(clues, NULL, f->model, NULL, MS_TEST_ANY_ID), want->n);
    ms_testcsv_free(clues);
}

void ms_testsweep_refused(const ms_testsweep_t *f, const ms_testsweep_bad_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *out = NULL;
        assert_int_equal(ms_test_write_file(f->cfg, cases[i].text), 0);
        assert_int_equal(ms_test_cli(&out, "models --config %s", f->cfg), 2);
        ms_test_contains(out, cases[i].want);
        free(out);
    }
}

void ms_testsweep_defaults(const char *piece, ...)
{
    char *out = NULL;
    assert_int_equal(ms_test_cli(&out, "models --config"), 0);
    ms_test_contains(out, piece);
    va_list ap;
    va_start(ap, piece);
    ms_test_contains_v(out, ap);
    va_end(ap);
    free(out);
}

long ms_testsweep_min_cap_mib(const char *data, const char *out, const char *model, int threads)
{
    char *log = NULL;
    assert_int_not_equal(ms_test_cli(&log, "sweep %s --out %s --replace --quiet --models %s --threads %d --memory-cap 1M",
                                     data, out, model, threads),
                         0);
    const char *at = strstr(log, "at least ");
    if (!at) print_error("%s\n", log);
    assert_non_null(at);
    long mib = strtol(at + 9, NULL, 10);
    free(log);
    assert_true(mib > 0);
    return mib;
}
