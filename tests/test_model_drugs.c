/*
 * test_model_drugs.c - returned drugs and hoarding buyers on hand-built cases.
 *
 * Repeated traceability codes: the sales of one code are made by persons in
 * different partitions (the default two), so they meet only in the
 * shuffle.  A code sold twice flags the later sale at its institution and
 * reports the first as first_sale_of_repeated_code at the first seller; three
 * times flags two; once flags nothing; "first" is by date even when the
 * later sale has the smaller settlement id.
 *
 * Hoarding: 300 ordinary buyers of a drug take 2 packages each (the 99th
 * percentile is 2, the limit 3 x 2 = 6).  A buyer with 7 packages over days
 * d, d+10 and d+29 at three institutions is a hoarder; the same with the
 * last purchase on d+30 (5 at most in any 30 days) is not, nor one with 7
 * at two institutions.  With window_days = 31 the second one is.
 *
 * Bounded memory: a bigger world swept with the smallest memory cap the
 * engine allows for one thread (read from its own error message) must write
 * the same indicators.csv and clues.csv as the in-memory sweep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ms_fs.h"
#include "ms_testdata.h"
#include "ms_testutil.h"

enum { H_A, H_B, H_C, H_D, H_P1, H_P2, H_P3, H_P4, H_N, N_INST };
enum { DRUG_TRACE = 0, DRUG_HOARD = 1, DRUG_BULK = 2 };

#define MAX_FLAGS 64

typedef struct {
    uint32_t inst;
    const char *indicator;
    uint64_t settle_id;
} flag_t;

typedef struct {
    ms_testdata_t t;
    flag_t flag[MAX_FLAGS];
    int nflags;
    uint64_t next_person;
    uint64_t serial;            /* trace_lo of the next fresh package */
    long long lines[N_INST];
} world_t;

static void expect(world_t *w, uint32_t inst, const char *indicator, uint64_t sid)
{
    assert_true(w->nflags < MAX_FLAGS);
    w->flag[w->nflags++] = (flag_t){inst, indicator, sid};
}

/* A fresh person in partition part (of 2). */
static uint64_t person_in(world_t *w, uint32_t part)
{
    while (ms_person_partition(w->next_person, 2) != part) w->next_person++;
    return w->next_person++;
}

/* A purchase of one package with code (hi, lo); returns its settle_id. */
static uint64_t sale(world_t *w, uint64_t person, uint32_t inst, int32_t day, uint32_t drug, uint64_t hi,
                     uint64_t lo)
{
    ms_settlement_t *s = ms_testdata_visit(&w->t, person, inst, day);
    ms_testdata_item(&w->t, s, drug, hi, lo);
    w->lines[inst]++;
    return s->settle_id;
}

/* n packages with fresh codes in one settlement. */
static uint64_t buy(world_t *w, uint64_t person, uint32_t inst, int32_t day, uint32_t drug, int n)
{
    ms_settlement_t *s = ms_testdata_visit(&w->t, person, inst, day);
    uint64_t sid = s->settle_id;
    for (int i = 0; i < n; i++) ms_testdata_item(&w->t, s, drug, 1234567890, w->serial++);
    w->lines[inst] += n;
    return sid;
}

static void build(world_t *w)
{
    memset(w, 0, sizeof *w);
    ms_testdata_init(&w->t, N_INST, 1);
    w->next_person = 1000;
    w->serial = 1;
    int32_t d = ms_testdata_day("2025-03-03");
    uint64_t sid;

    /* Code 1: sold twice, first at H_A (partition 0), again at H_B (1). */
    sid = sale(w, person_in(w, 0), H_A, d, DRUG_TRACE, 111, 1);
    expect(w, H_A, "first_sale_of_repeated_code", sid);
    sid = sale(w, person_in(w, 1), H_B, d + 10, DRUG_TRACE, 111, 1);
    expect(w, H_B, "repeated_trace_code", sid);
    /* Code 2: three times: H_A first, then H_B and H_C (same day, H_B's
     * settlement first). */
    sid = sale(w, person_in(w, 1), H_A, d + 1, DRUG_TRACE, 222, 2);
    expect(w, H_A, "first_sale_of_repeated_code", sid);
    sid = sale(w, person_in(w, 0), H_B, d + 5, DRUG_TRACE, 222, 2);
    expect(w, H_B, "repeated_trace_code", sid);
    sid = sale(w, person_in(w, 1), H_C, d + 5, DRUG_TRACE, 222, 2);
    expect(w, H_C, "repeated_trace_code", sid);
    /* Code 3: the later sale (H_D, day d+20) has the smaller settle_id:
     * the first is H_C's on day d. */
    sid = sale(w, person_in(w, 0), H_D, d + 20, DRUG_TRACE, 333, 3);
    expect(w, H_D, "repeated_trace_code", sid);
    sid = sale(w, person_in(w, 1), H_C, d, DRUG_TRACE, 333, 3);
    expect(w, H_C, "first_sale_of_repeated_code", sid);
    /* Code 4: once.  Codes 5 and 6 differ from code 1 in one half only. */
    sale(w, person_in(w, 0), H_D, d, DRUG_TRACE, 444, 4);
    sale(w, person_in(w, 1), H_D, d + 3, DRUG_TRACE, 111, 2);
    sale(w, person_in(w, 0), H_D, d + 4, DRUG_TRACE, 112, 1);

    /* Hoarding: 300 ordinary buyers of 2 packages at H_N. */
    for (int i = 0; i < 300; i++) buy(w, person_in(w, (uint32_t)i & 1), H_N, d + i % 50, DRUG_HOARD, 2);
    /* 3 + 2 + 2 = 7 within [d, d+29] at three institutions: a hoarder. */
    uint64_t p = person_in(w, 0);
    expect(w, H_P1, "hoarding_buyer_share", buy(w, p, H_P1, d, DRUG_HOARD, 3));
    expect(w, H_P2, "hoarding_buyer_share", buy(w, p, H_P2, d + 10, DRUG_HOARD, 2));
    expect(w, H_P3, "hoarding_buyer_share", buy(w, p, H_P3, d + 29, DRUG_HOARD, 2));
    /* The same with the last purchase on d+30: 5 at most in 30 days. */
    p = person_in(w, 1);
    buy(w, p, H_P1, d, DRUG_HOARD, 3);
    buy(w, p, H_P2, d + 10, DRUG_HOARD, 2);
    buy(w, p, H_P4, d + 30, DRUG_HOARD, 2);
    /* 7 in two days, at two institutions only. */
    p = person_in(w, 0);
    buy(w, p, H_P1, d, DRUG_HOARD, 4);
    buy(w, p, H_P2, d + 1, DRUG_HOARD, 3);
}

static void check(const char *out, uint32_t inst, const char *ind, long long want_num, long long want_den)
{
    char code[16];
    snprintf(code, sizeof code, "H%04u", inst + 1);
    long long num = -1, den = -1;
    int rc = ms_testdata_indicator(out, code, "drugs", ind, &num, &den);
    if (rc || num != want_num || den != want_den)
        print_error("%s %s: got %lld/%lld (rc %d), want %lld/%lld\n", code, ind, num, den, rc, want_num, want_den);
    assert_int_equal(rc, 0);
    assert_int_equal(num, want_num);
    assert_int_equal(den, want_den);
}

/* Field col of the line at p (copied into out). */
static void field_of(const char *p, int col, char *out, size_t cap)
{
    for (int k = 0; k < col && *p && *p != '\n'; k++) {
        p += strcspn(p, ",\n");
        if (*p == ',') p++;
    }
    size_t n = strcspn(p, ",\n");
    if (n >= cap) n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static int column_of(const char *csv, const char *name)
{
    int col = 0;
    size_t len = strlen(name);
    for (const char *p = csv; *p && *p != '\n'; col++) {
        size_t n = strcspn(p, ",\n");
        if (n == len && !strncmp(p, name, len)) return col;
        p += n;
        if (*p == ',') p++;
    }
    fail_msg("no column %s in clues.csv", name);
    return -1;
}

static int count_clues(const char *clues)
{
    int n = 0;
    for (const char *p = clues; (p = strstr(p, ",drugs,")) != NULL; p++) n++;
    return n;
}

static int has_clue(const char *clues, uint32_t inst, const char *indicator, uint64_t sid)
{
    int c_sid = column_of(clues, "settle_id");
    char prefix[200], want[32], got[32];
    snprintf(prefix, sizeof prefix, "H%04u,drugs,%s,", inst + 1, indicator);
    snprintf(want, sizeof want, "%llu", (unsigned long long)sid);
    for (const char *p = strchr(clues, '\n'); p && p[1]; p = strchr(p + 1, '\n')) {
        if (strncmp(p + 1, prefix, strlen(prefix))) continue;
        field_of(p + 1, c_sid, got, sizeof got);
        if (!strcmp(got, want)) return 1;
    }
    return 0;
}

static char *slurp_out(const char *out, const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", out, name);
    char *text = ms_test_slurp(path, NULL);
    assert_non_null(text);
    return text;
}

static void sweep(const char *data, const char *out, const char *extra)
{
    char *log = NULL;
    int rc = ms_testdata_sweep(data, out, extra, &log);
    if (rc) print_error("%s\n", log);
    free(log);
    assert_int_equal(rc, 0);
}

static void test_repeats_and_hoarders(void **state)
{
    (void)state;
    char *dir = ms_test_dir("model-drugs");
    char data[600], out[600], out3[600], cfg[700], extra[900];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(out3, sizeof out3, "%s/out3", dir);
    snprintf(cfg, sizeof cfg, "%s/rules.cfg", dir);
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    build(w);
    assert_int_equal(ms_testdata_write(&w->t, data), MS_OK);
    ms_test_write_file(cfg, "scoring = { min_denominator = 1; all_clues = 1; };\n");
    snprintf(extra, sizeof extra, "--models drugs --threads 1 --config %s", cfg);
    sweep(data, out, extra);

    check(out, H_A, "repeated_trace_code", 0, w->lines[H_A]);
    check(out, H_A, "first_sale_of_repeated_code", 2, w->lines[H_A]);
    check(out, H_B, "repeated_trace_code", 2, w->lines[H_B]);
    check(out, H_C, "repeated_trace_code", 1, w->lines[H_C]);
    check(out, H_C, "first_sale_of_repeated_code", 1, w->lines[H_C]);
    check(out, H_D, "repeated_trace_code", 1, w->lines[H_D]);
    check(out, H_D, "first_sale_of_repeated_code", 0, w->lines[H_D]);
    check(out, H_P1, "hoarding_buyer_share", 3, w->lines[H_P1]);
    check(out, H_P2, "hoarding_buyer_share", 2, w->lines[H_P2]);
    check(out, H_P3, "hoarding_buyer_share", 2, w->lines[H_P3]);
    check(out, H_P4, "hoarding_buyer_share", 0, w->lines[H_P4]);
    check(out, H_N, "hoarding_buyer_share", 0, 600);
    check(out, H_N, "repeated_trace_code", 0, 600);
    assert_int_equal(w->lines[H_P1], 10);

    char *clues = slurp_out(out, "clues.csv");
    for (int i = 0; i < w->nflags; i++) {
        if (!has_clue(clues, w->flag[i].inst, w->flag[i].indicator, w->flag[i].settle_id))
            print_error("missing clue H%04u %s %llu\n", w->flag[i].inst + 1, w->flag[i].indicator,
                        (unsigned long long)w->flag[i].settle_id);
        assert_true(has_clue(clues, w->flag[i].inst, w->flag[i].indicator, w->flag[i].settle_id));
    }
    assert_int_equal(count_clues(clues), w->nflags);

    /* The same bytes with 3 threads. */
    snprintf(extra, sizeof extra, "--models drugs --threads 3 --config %s", cfg);
    sweep(data, out3, extra);
    char *clues3 = slurp_out(out3, "clues.csv");
    assert_string_equal(clues, clues3);
    char *ind1 = slurp_out(out, "indicators.csv"), *ind3 = slurp_out(out3, "indicators.csv");
    assert_string_equal(ind1, ind3);
    free(clues), free(clues3), free(ind1), free(ind3);

    /* A 31-day window: days d and d+30 are in one, so the second buyer
     * hoards too (3 + 2 + 2 at H_P1, H_P2, H_P4). */
    ms_test_write_file(cfg, "scoring = { min_denominator = 1; all_clues = 1; };\n"
                            "models = { drugs = { hoarding_buyer_share = { window_days = 31; }; }; };\n");
    snprintf(extra, sizeof extra, "--models drugs --config %s", cfg);
    sweep(data, out, extra);
    check(out, H_P1, "hoarding_buyer_share", 6, w->lines[H_P1]);
    check(out, H_P2, "hoarding_buyer_share", 4, w->lines[H_P2]);
    check(out, H_P4, "hoarding_buyer_share", 2, w->lines[H_P4]);
    /* Two institutions are enough with min_institutions = 2. */
    ms_test_write_file(cfg, "scoring = { min_denominator = 1; all_clues = 1; };\n"
                            "models = { drugs = { hoarding_buyer_share = { min_institutions = 2; }; }; };\n");
    sweep(data, out, extra);
    check(out, H_P1, "hoarding_buyer_share", 7, w->lines[H_P1]);
    check(out, H_P2, "hoarding_buyer_share", 5, w->lines[H_P2]);

    ms_testdata_free(&w->t);
    free(w);
    ms_remove_tree(dir);
    free(dir);
}

/* The smallest --memory-cap the engine takes for one thread on data, in
 * MiB, read from the message that refuses a smaller one. */
static long min_cap_mib(const char *data, const char *out)
{
    char cmd[2000], *log = NULL;
    snprintf(cmd, sizeof cmd, "%s sweep %s --out %s --replace --quiet --models drugs --threads 1 --memory-cap 1M",
             ms_test_bin(), data, out);
    assert_int_not_equal(ms_test_run(cmd, &log), 0);
    const char *at = strstr(log, "at least ");
    if (!at) print_error("%s\n", log);
    assert_non_null(at);
    long mib = strtol(at + 9, NULL, 10);
    free(log);
    assert_true(mib > 0);
    return mib;
}

static void test_spill_same_answer(void **state)
{
    (void)state;
    char *dir = ms_test_dir("model-drugs-spill");
    char data[600], out[600], outs[600], cfg[700], extra[900];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(outs, sizeof outs, "%s/out-spill", dir);
    snprintf(cfg, sizeof cfg, "%s/rules.cfg", dir);
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    build(w);
    /* 300,000 more lines (about 24 MB of shuffle records, over the 16 MiB
     * the smallest cap leaves the shuffle): 50,000 persons, 6 packages
     * each at one institution; after every 97th person, the next one buys
     * that person's last package again. */
    int32_t d = ms_testdata_day("2025-01-06");
    uint64_t prev_lo = 0;
    for (int i = 0; i < 50000; i++) {
        ms_settlement_t *s = ms_testdata_visit(&w->t, w->next_person++, (uint32_t)(i % N_INST), d + i % 300);
        for (int k = 0; k < 6; k++) {
            uint64_t lo = k == 0 && prev_lo ? prev_lo : w->serial++;
            ms_testdata_item(&w->t, s, DRUG_BULK + (uint32_t)k % 3, 987654321, lo);
        }
        prev_lo = i % 97 == 0 ? w->serial - 1 : 0;
    }
    assert_int_equal(ms_testdata_write(&w->t, data), MS_OK);
    ms_test_write_file(cfg, "scoring = { min_denominator = 1; all_clues = 1; };\n");
    snprintf(extra, sizeof extra, "--models drugs --threads 1 --config %s", cfg);
    sweep(data, out, extra);
    long mib = min_cap_mib(data, outs);
    snprintf(extra, sizeof extra, "--models drugs --threads 1 --memory-cap %ldM --config %s", mib, cfg);
    sweep(data, outs, extra);
    char *a = slurp_out(out, "indicators.csv"), *b = slurp_out(outs, "indicators.csv");
    assert_string_equal(a, b);
    free(a), free(b);
    a = slurp_out(out, "clues.csv"), b = slurp_out(outs, "clues.csv");
    assert_string_equal(a, b);
    /* Every repeat is there: the hand-built four, and one per i % 97 == 0
     * below 49999 (person i + 1 sells person i's last package again). */
    int n = 0;
    for (const char *p = a; (p = strstr(p, ",drugs,repeated_trace_code,")) != NULL; p++) n++;
    assert_int_equal(n, 4 + 516); /* i = 0, 97, ..., 49955 */
    free(a), free(b);
    ms_testdata_free(&w->t);
    free(w);
    ms_remove_tree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repeats_and_hoarders),
        cmocka_unit_test(test_spill_same_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
