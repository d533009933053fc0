/*
 * test_check.c - pre-notification (engine/check/ms_check.h): claims as
 * JSON judged against a knowledge base written by the test.
 *
 * Each rule template is hit once by a claim made for it, and only by it; a
 * clean claim passes; a claim without history or traces, or a checker
 * without a knowledge base, lists the rules it cannot run instead of
 * passing them.  Every malformed input (not JSON, a missing field, a wrong
 * type, a bad date, a quantity with four decimals, an unknown category,
 * too many lines, ...) is an error naming the JSON path.  The verdict of
 * ms_check_json equals the one built from the same claim in memory through
 * ms_check_claim and ms_check_verdict, and four threads sharing one
 * checker give the verdicts one thread gives (run under TSan by
 * scripts/test.sh --tsan).
 *
 * History from a dataset: a dataset written by the test (three partitions,
 * bill lines around a claim's date) gives a claim without "history" the
 * person's lines of the look-back before its first line up to its last,
 * other than its own settlement's and those of items the knowledge base
 * does not list; the verdict says where its history came from; the same
 * verdict comes from the claim in memory (ms_check_history); a partition
 * out of order reads the same; four threads share the index.
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
#include <pthread.h>

#include "ms_check.h"
#include "ms_fs.h"
#include "ms_part.h"
#include "ms_schema.h"
#include "ms_testdata.h"
#include "ms_testutil.h"

/* The knowledge base: one item per rule it needs, and a pair never billed
 * together. */
static const char items_csv[] =
    "item_code,name,category,sex,min_age,max_age,max_qty_per_day,max_days_supply,setting,diagnoses,"
    "trace_required\n"
    "BED01,Ward bed-day,bed,,,,,,,,0\n"
    "CT01,CT scan of the chest,exam,,,,,,,,0\n"
    "DRG01,Amoxicillin 0.25 g,drug,,,,,30,,,0\n"
    "DRG02,Insulin glargine,drug,,,,,,,,1\n"
    "EXA01,Liver panel,lab,,,,,,,,0\n"
    "EXB01,ALT,lab,,,,,,,,0\n"
    "GYN01,Gynaecological exam,exam,F,,,,,,,0\n"
    "INJ01,Intramuscular injection,treatment,,,,2,,,,0\n"
    "INP01,Tier-1 nursing,nursing,,,,,,inpatient,,0\n"
    "PED01,Paediatric syrup,drug,,0,14,,,,,0\n"
    "SCP01,Metformin XR,drug,,,,,,,E11;E10,0\n"
    "VIT01,Vitamin C,drug,,,,,,,,0\n";
static const char exclusive_csv[] = "item_a,item_b\nEXA01,EXB01\n";

typedef struct {
    char *dir;
    ms_checker_t *ck;   /* with the knowledge base */
    ms_checker_t *bare; /* without */
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = ms_test_dir("check");
    assert_non_null(f->dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/knowledge", f->dir);
    assert_int_equal(ms_mkdirs(path), MS_OK);
    snprintf(path, sizeof path, "%s/knowledge/items.csv", f->dir);
    assert_int_equal(ms_test_write_file(path, items_csv), 0);
    snprintf(path, sizeof path, "%s/knowledge/exclusive_items.csv", f->dir);
    assert_int_equal(ms_test_write_file(path, exclusive_csv), 0);
    snprintf(path, sizeof path, "%s/knowledge", f->dir);
    ms_check_opts_t o = {.knowledge = path};
    if (ms_checker_open(&o, &f->ck) != MS_OK) fail_msg("ms_checker_open: %s", ms_error_detail());
    ms_check_opts_t none = {0};
    if (ms_checker_open(&none, &f->bare) != MS_OK) fail_msg("ms_checker_open: %s", ms_error_detail());
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    ms_checker_close(f->ck);
    ms_checker_close(f->bare);
    ms_remove_tree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* ------------------------------------------------------------ claims */

/* A bill line on day (of March 2026). */
static char *line(char *buf, size_t cap, int no, int day, const char *item, const char *cat, const char *qty,
                  int days_supply)
{
    snprintf(buf, cap,
             "{\"line_no\":%d,\"date\":\"2026-03-%02d\",\"item_code\":\"%s\",\"category\":\"%s\",\"qty\":\"%s\","
             "\"unit_price\":\"10.0000\",\"amount\":\"10.00\",\"days_supply\":%d,\"doctor_id\":11}",
             no, day, item, cat, qty, days_supply);
    return buf;
}

/* An outpatient claim of 2026-03-10 (male, 40, J18.9 unless said) with the
 * lines, traces and history given as JSON array bodies (NULL: the key is
 * left out). */
static char *claim(const char *id, const char *sex, int age, const char *diag, const char *lines,
                   const char *traces, const char *history)
{
    size_t n = strlen(lines) + (traces ? strlen(traces) : 0) + (history ? strlen(history) : 0) + 1024;
    char *s = malloc(n), tr[64 + 4096], hi[64 + 8192];
    assert_non_null(s);
    tr[0] = hi[0] = 0;
    if (traces) snprintf(tr, sizeof tr, ",\"traces\":[%s]", traces);
    if (history) snprintf(hi, sizeof hi, ",\"history\":[%s]", history);
    snprintf(s, n,
             "{\"claim_id\":\"%s\",\"settle_id\":100,\"person_id\":7,\"inst_code\":\"H001\","
             "\"visit_type\":\"outpatient\",\"admit_date\":\"2026-03-10\",\"discharge_date\":\"2026-03-10\","
             "\"age\":%d,\"sex\":\"%s\",\"diag_main\":\"%s\",\"lines\":[%s]%s%s}",
             id, age, sex, diag, lines, tr, hi);
    return s;
}

/* The claims: one per template, hitting it and nothing else, and a clean
 * one; [k].tmpl the template it hits (-1: none). */
typedef struct {
    char *json;
    int tmpl;
} case_t;

#define NCASES 11

static void make_cases(case_t *c)
{
    char a[512], b[512], h[2048];
    int k = 0;
    c[k++] = (case_t){claim("sex", "M", 40, "J18.9", line(a, sizeof a, 1, 10, "GYN01", "exam", "1", 0), "", ""),
                      MS_RULE_SEX};
    c[k++] = (case_t){claim("age", "F", 40, "J18.9", line(a, sizeof a, 1, 10, "PED01", "drug", "1", 0), "", ""),
                      MS_RULE_AGE};
    c[k++] = (case_t){claim("over_qty", "M", 40, "J18.9", line(a, sizeof a, 1, 10, "INJ01", "treatment", "2.5", 0),
                            "", ""),
                      MS_RULE_OVER_QTY};
    /* 30 days today and 60 + 30 earlier in the window: 120 > 90 + 30%. */
    snprintf(h, sizeof h,
             "{\"settle_id\":90,\"inst_code\":\"H002\",\"date\":\"2026-01-20\",\"item_code\":\"DRG01\","
             "\"category\":\"drug\",\"qty\":\"2\",\"days_supply\":60},"
             "{\"settle_id\":95,\"inst_code\":\"H003\",\"date\":\"2026-02-20\",\"item_code\":\"DRG01\","
             "\"category\":\"drug\",\"qty\":\"1\",\"days_supply\":30}");
    c[k++] = (case_t){claim("excess_supply", "M", 40, "J18.9", line(a, sizeof a, 1, 10, "DRG01", "drug", "1", 30), "",
                            h),
                      MS_RULE_EXCESS_SUPPLY};
    snprintf(h, sizeof h, "%s,%s", line(a, sizeof a, 1, 10, "EXA01", "lab", "1", 0),
             line(b, sizeof b, 2, 10, "EXB01", "lab", "1", 0));
    c[k++] = (case_t){claim("duplicate", "M", 40, "J18.9", h, "", ""), MS_RULE_DUPLICATE};
    /* A stay of 2 days (limit 3) with 4 bed-days. */
    char *bed = malloc(2048);
    assert_non_null(bed);
    snprintf(bed, 2048,
             "{\"claim_id\":\"bed_days\",\"settle_id\":101,\"person_id\":7,\"inst_code\":\"H001\","
             "\"visit_type\":\"inpatient\",\"admit_date\":\"2026-03-01\",\"discharge_date\":\"2026-03-03\","
             "\"age\":40,\"sex\":\"M\",\"diag_main\":\"J18.9\",\"lines\":[%s,%s],\"traces\":[],\"history\":[]}",
             line(a, sizeof a, 1, 1, "BED01", "bed", "2", 0), line(b, sizeof b, 2, 3, "BED01", "bed", "2", 0));
    c[k++] = (case_t){bed, MS_RULE_BED_DAYS};
    c[k++] = (case_t){claim("scope", "M", 40, "J18.9", line(a, sizeof a, 1, 10, "SCP01", "drug", "1", 0), "", ""),
                      MS_RULE_SCOPE};
    snprintf(h, sizeof h,
             "{\"settle_id\":97,\"inst_code\":\"H002\",\"date\":\"2026-03-07\",\"item_code\":\"CT01\","
             "\"category\":\"exam\",\"qty\":\"1\"}");
    c[k++] = (case_t){claim("repeat_exam", "M", 40, "J18.9", line(a, sizeof a, 1, 10, "CT01", "exam", "1", 0), "", h),
                      MS_RULE_REPEAT_EXAM};
    c[k++] = (case_t){claim("setting", "M", 40, "J18.9", line(a, sizeof a, 1, 10, "INP01", "nursing", "1", 0), "", ""),
                      MS_RULE_SETTING};
    c[k++] = (case_t){claim("empty_brush", "M", 40, "J18.9", line(a, sizeof a, 1, 10, "DRG02", "drug", "2", 0),
                            "{\"drug_code\":\"DRG02\",\"qty\":1,\"trace_code\":\"12345678901234567890\"}", ""),
                      MS_RULE_EMPTY_BRUSH};
    /* Clean: a CT ten days after the last, a scanned insulin, a diabetic's
     * metformin, two injections. */
    snprintf(h, sizeof h, "%s,%s,%s,%s", line(a, sizeof a, 1, 10, "CT01", "exam", "1", 0),
             line(b, sizeof b, 2, 10, "DRG02", "drug", "1", 7), "{\"line_no\":3,\"date\":\"2026-03-10\","
             "\"item_code\":\"SCP01\",\"category\":\"drug\",\"qty\":\"0.5\",\"unit_price\":\"3.1416\",\"amount\":\"1.57\"}",
             "{\"line_no\":4,\"date\":\"2026-03-10\",\"item_code\":\"INJ01\",\"category\":\"treatment\",\"qty\":2,"
             "\"unit_price\":5,\"amount\":10}");
    c[k++] = (case_t){claim("clean", "F", 52, "E11.9", h, "{\"drug_code\":\"DRG02\"}",
                            "{\"settle_id\":80,\"inst_code\":\"H002\",\"date\":\"2026-02-28\",\"item_code\":\"CT01\","
                            "\"category\":\"exam\",\"qty\":\"1\"}"),
                      -1};
    assert_int_equal(k, NCASES);
}

static void free_cases(case_t *c)
{
    for (int k = 0; k < NCASES; k++) free(c[k].json);
}

/* ms_check_json, asserted MS_OK; the verdict text (caller frees). */
static char *judge(const ms_checker_t *ck, const char *json, const char *lang)
{
    ms_buf_t out = {0};
    ms_status_t st = ms_check_json(ck, json, strlen(json), lang, &out);
    if (st != MS_OK) fail_msg("ms_check_json: %s (%s)\n%s", ms_status_str(st), ms_error_detail(), json);
    char *s = strndup((const char *)out.data, out.len);
    ms_buf_free(&out);
    return s;
}

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (!v) fail_msg("verdict is not JSON: %s\n%s", e.text, text);
    return v;
}

/* ------------------------------------------------------------ tests */

static void test_each_template(void **state)
{
    fixture_t *f = *state;
    case_t c[NCASES];
    make_cases(c);
    ms_checker_info_t info;
    ms_checker_info(f->ck, &info);
    assert_int_equal(info.rules, MS_RULE_TEMPLATE_COUNT);
    assert_int_equal(info.knowledge_items, 12);
    assert_int_equal(info.exclusive_pairs, 1);
    assert_int_equal(strlen(info.config_hash), 16);
    for (int k = 0; k < NCASES; k++) {
        char *text = judge(f->ck, c[k].json, "en");
        json_t *v = parse(text), *hits = json_object_get(v, "hits");
        const char *verdict = json_string_value(json_object_get(v, "verdict"));
        if (c[k].tmpl < 0) {
            if (strcmp(verdict, "pass") || json_array_size(hits)) fail_msg("the clean claim does not pass:\n%s", text);
        } else {
            if (strcmp(verdict, "hit") || json_array_size(hits) != 1)
                fail_msg("%s: wants exactly one hit:\n%s", ms_rule_template_name(c[k].tmpl), text);
            json_t *h = json_array_get(hits, 0);
            assert_string_equal(json_string_value(json_object_get(h, "template")), ms_rule_template_name(c[k].tmpl));
            assert_string_equal(json_string_value(json_object_get(h, "rule")), ms_rule_template_name(c[k].tmpl));
            assert_true(json_string_length(json_object_get(h, "reason")) > 10);
            assert_non_null(json_object_get(h, "observed"));
            assert_non_null(json_object_get(h, "limit"));
            assert_true(json_integer_value(json_object_get(h, "line_no")) >= 1);
        }
        assert_string_equal(json_string_value(json_object_get(v, "claim_id")), c[k].tmpl < 0 ? "clean" :
                            ms_rule_template_name(c[k].tmpl));
        assert_int_equal(json_integer_value(json_object_get(v, "rules_run")), MS_RULE_TEMPLATE_COUNT);
        assert_int_equal(json_array_size(json_object_get(v, "rules_not_run")), 0);
        /* Every rule weighs 1 by default: one rule hit scores 1, a pass 0. */
        assert_true(json_number_value(json_object_get(v, "score")) == (c[k].tmpl < 0 ? 0 : 1));
        json_decref(v);
        free(text);
    }
    free_cases(c);
}

/* The figures of a few hits, in their templates' terms, and the reasons in
 * both languages. */
static void test_figures(void **state)
{
    fixture_t *f = *state;
    case_t c[NCASES];
    make_cases(c);
    char *t = judge(f->ck, c[2].json, "en"); /* over_qty: 2.5 units, at most 2 */
    ms_test_contains(t, "\"observed\":2.500,\"limit\":2.000");
    ms_test_contains(t, "over quantity: 2.500 units of INJ01");
    free(t);
    t = judge(f->ck, c[2].json, "zh");
    ms_test_contains(t, "超量");
    free(t);
    t = judge(f->ck, c[0].json, NULL); /* sex, zh by default */
    ms_test_contains(t, "\"observed\":\"M\",\"limit\":\"F\"");
    ms_test_contains(t, "限性别");
    free(t);
    t = judge(f->ck, c[6].json, "en"); /* scope */
    ms_test_contains(t, "\"observed\":\"J18.9\",\"limit\":\"E11;E10\"");
    free(t);
    t = judge(f->ck, c[7].json, "en"); /* repeat_exam: 3 days after 2026-03-07 */
    ms_test_contains(t, "\"observed\":3,\"limit\":7,\"other_date\":\"2026-03-07\",\"other_settle_id\":97");
    free(t);
    t = judge(f->ck, c[4].json, "en"); /* duplicate: the later line, with its partner */
    ms_test_contains(t, "\"line_no\":2,\"item_code\":\"EXB01\"");
    ms_test_contains(t, "\"other_item_code\":\"EXA01\"");
    free(t);
    ms_buf_t out = {0};
    assert_int_equal(ms_check_json(f->ck, c[0].json, strlen(c[0].json), "fr", &out), MS_E_USAGE);
    ms_buf_free(&out);
    free_cases(c);
}

/* Rules that need what the claim or the checker lacks are listed, not run
 * (and their hits are not reported). */
static void test_not_run(void **state)
{
    fixture_t *f = *state;
    char a[512];
    /* The repeat_exam claim without its history: not run, so it passes. */
    char *s = claim("nohist", "M", 40, "J18.9", line(a, sizeof a, 1, 10, "CT01", "exam", "1", 0), NULL, NULL);
    char *t = judge(f->ck, s, "en");
    ms_test_contains(t, "\"verdict\":\"pass\"");
    ms_test_contains(t, "{\"rule\":\"excess_supply\",\"missing\":\"history\"}");
    ms_test_contains(t, "{\"rule\":\"repeat_exam\",\"missing\":\"history\"}");
    ms_test_contains(t, "{\"rule\":\"empty_brush\",\"missing\":\"traces\"}");
    ms_test_contains(t, "\"rules_run\":7,");
    ms_test_contains(t, "\"history\":\"none\"}");
    free(t);
    free(s);
    /* Without a knowledge base only bed_days runs; an unknown item passes. */
    case_t c[NCASES];
    make_cases(c);
    t = judge(f->bare, c[5].json, "en");
    ms_test_contains(t, "\"verdict\":\"hit\"");
    ms_test_contains(t, "\"template\":\"bed_days\"");
    ms_test_contains(t, "{\"rule\":\"sex\",\"missing\":\"knowledge\"}");
    ms_test_contains(t, "\"rules_run\":1,");
    free(t);
    t = judge(f->bare, c[0].json, "en");
    ms_test_contains(t, "\"verdict\":\"pass\"");
    free(t);
    free_cases(c);
}

/* An input that must be refused, and a piece of its message. */
typedef struct {
    const char *json;
    const char *says;
} bad_t;

static void expect_error(const ms_checker_t *ck, const char *json, size_t len, const char *says)
{
    ms_buf_t out = {0};
    ms_status_t st = ms_check_json(ck, json, len, "en", &out);
    if (st != MS_E_INPUT) fail_msg("wants MS_E_INPUT, got %s for:\n%.300s", ms_status_str(st), json);
    if (!strstr(ms_error_detail(), says)) fail_msg("error \"%s\" does not say \"%s\"", ms_error_detail(), says);
    /* The same message as JSON in out. */
    char *text = strndup((const char *)out.data, out.len);
    json_t *v = parse(text);
    assert_string_equal(json_string_value(json_object_get(v, "error")), ms_error_detail());
    json_decref(v);
    free(text);
    ms_buf_free(&out);
}

/* The good claim c with the first occurrence of from replaced by to. */
static char *edit(const char *c, const char *from, const char *to)
{
    const char *p = strstr(c, from);
    if (!p) fail_msg("'%s' is not in %s", from, c);
    size_t n = strlen(c) - strlen(from) + strlen(to) + 1;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "%.*s%s%s", (int)(p - c), c, to, p + strlen(from));
    return s;
}

static void test_malformed(void **state)
{
    fixture_t *f = *state;
    case_t c[NCASES];
    make_cases(c);
    const char *good = c[NCASES - 1].json; /* the clean claim */
    static const struct {
        const char *from, *to, *says;
    } edits[] = {
        {"\"claim_id\":\"clean\",", "", "claim_id: missing"},
        {"\"age\":52", "\"age\":\"52\"", "age: wants an integer 0..120, got \"52\""},
        {"\"age\":52", "\"age\":121", "age: wants an integer 0..120, got 121"},
        {"\"sex\":\"F\"", "\"sex\":\"W\"", "sex: wants one of M, F, got \"W\""},
        {"\"visit_type\":\"outpatient\"", "\"visit_type\":3", "visit_type: wants one of outpatient"},
        {"\"admit_date\":\"2026-03-10\"", "\"admit_date\":\"2026-02-30\"", "admit_date: \"2026-02-30\" is not a date"},
        {"\"discharge_date\":\"2026-03-10\"", "\"discharge_date\":\"2026-03-11\"",
         "discharge_date: must equal admit_date for outpatient visits"},
        {"\"date\":\"2026-03-10\",\"item_code\":\"DRG02\"", "\"date\":\"10/03/2026\",\"item_code\":\"DRG02\"",
         "lines[1].date: \"10/03/2026\" is not a date YYYY-MM-DD"},
        {"\"date\":\"2026-03-10\",\"item_code\":\"DRG02\"", "\"date\":\"2026-03-09\",\"item_code\":\"DRG02\"",
         "lines[1].date: \"2026-03-09\" is outside the stay, 2026-03-10..2026-03-10"},
        {"\"qty\":\"0.5\"", "\"qty\":\"1.2345\"", "lines[2].qty: \"1.2345\" has more than 3 decimals"},
        {"\"qty\":\"0.5\"", "\"qty\":0.5", "lines[2].qty: give a decimal as a string"},
        {"\"qty\":\"0.5\"", "\"qty\":\"0\"", "lines[2].qty: \"0\": must be more than 0"},
        {"\"qty\":\"0.5\"", "\"qty\":\"-1\"", "lines[2].qty: \"-1\" is negative"},
        {"\"qty\":\"0.5\"", "\"qty\":\"1e3\"", "lines[2].qty: \"1e3\" is not a decimal number"},
        {"\"unit_price\":\"3.1416\"", "\"unit_price\":\"3.14159\"", "lines[2].unit_price: \"3.14159\" has more than 4"},
        {"\"amount\":\"1.57\"", "\"amount\":\"1.575\"", "lines[2].amount: \"1.575\": money has more than two decimals"},
        {"\"category\":\"treatment\"", "\"category\":\"massage\"",
         "lines[3].category: wants one of drug, exam, lab, consumable, treatment, surgery, bed, nursing, other, got "
         "\"massage\""},
        {"\"item_code\":\"SCP01\",", "", "lines[2].item_code: missing"},
        {"\"line_no\":4", "\"line_no\":2", "lines[3].line_no: 2 repeats lines[1]"},
        {"\"doctor_id\":11", "\"doctor_id\":11,\"dokter\":1", "lines[0].dokter: not a field of a bill line"},
        {"\"diag_main\":\"E11.9\"", "\"diag_main\":\"E11 9\"", "diag_main: \"E11 9\": wants letters, digits or '.'"},
        {"{\"drug_code\":\"DRG02\"}", "{\"drug_code\":\"DRG02\",\"trace_code\":\"123\"}",
         "traces[0].trace_code: \"123\" is not 20 digits"},
        {"{\"drug_code\":\"DRG02\"}", "7", "traces[0]: wants an object, got 7"},
        {"\"settle_id\":80", "\"settle_id\":100", "history[0].settle_id: 100 is the claim's own settlement"},
        {"\"category\":\"exam\",\"qty\":\"1\"}]", "\"category\":\"exam\"}]", "history[0].qty: missing"},
        {"\"history\":[", "\"history\":{},\"x\":[", "history: wants an array, got an object"},
        {"\"lines\":[", "\"lines\":[],\"x\":[", "lines: empty"},
        {"\"person_id\":7", "\"person_id\":-7", "person_id: wants an integer 0..18446744073709551615, got -7"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char *s = edit(good, edits[i].from, edits[i].to);
        expect_error(f->ck, s, strlen(s), edits[i].says);
        free(s);
    }
    /* Not JSON; JSON that is no object; a duplicate key; an empty body. */
    expect_error(f->ck, "{\"claim_id\": ", 13, "claim: not JSON");
    expect_error(f->ck, "[1,2]", 5, "claim: wants a JSON object");
    expect_error(f->ck, "{\"age\":1,\"age\":2}", 17, "claim: not JSON: duplicate object key");
    expect_error(f->ck, "", 0, "claim: not JSON");
    /* Ids beyond int64 as digit strings. */
    char *s = edit(good, "\"person_id\":7", "\"person_id\":\"18446744073709551615\"");
    free(judge(f->ck, s, "en"));
    free(s);
    /* Too many lines: 10,001. */
    size_t cap = 200 * 10001 + 1024, len = 0;
    char *lines = malloc(cap), a[512];
    assert_non_null(lines);
    for (int i = 1; i <= MS_CHECK_MAX_LINES + 1; i++)
        len += (size_t)snprintf(lines + len, cap - len, "%s%s", i > 1 ? "," : "",
                                line(a, sizeof a, i, 10, "VIT01", "drug", "1", 0));
    s = claim("big", "M", 40, "J18.9", lines, "", "");
    expect_error(f->ck, s, strlen(s), "lines: 10001 elements, more than the limit of 10000");
    free(s);
    /* 10,000 are fine. */
    char *last = strrchr(lines, '{');
    last[-1] = 0;
    s = claim("big", "M", 40, "J18.9", lines, "", "");
    char *t = judge(f->ck, s, "en");
    ms_test_contains(t, "\"verdict\":\"pass\"");
    free(t);
    free(s);
    free(lines);
    free_cases(c);
}

/* The claim with every hit kind, as JSON and as ms_claim_t: the same verdict. */
static void test_json_equals_claim(void **state)
{
    fixture_t *f = *state;
    const ms_knowledge_t *kb = ms_checker_knowledge(f->ck);
    static const struct {
        const char *item, *cat, *qty;
        int days_supply;
    } L[] = {
        {"GYN01", "exam", "1", 0},      {"PED01", "drug", "1", 0},  {"INJ01", "treatment", "3", 0},
        {"SCP01", "drug", "1", 0},      {"INP01", "nursing", "1", 0}, {"DRG02", "drug", "2", 0},
        {"CT01", "exam", "1", 0},       {"EXA01", "lab", "1", 0},   {"EXB01", "lab", "1", 0},
        {"DRG01", "drug", "1.5", 120},  {"NEW99", "other", "1", 0},
    };
    enum { N = sizeof L / sizeof L[0] };
    char lines[N * 512] = "", a[512];
    size_t len = 0;
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(lines + len, sizeof lines - len, "%s%s", i ? "," : "",
                                line(a, sizeof a, N - i, 10, L[i].item, L[i].cat, L[i].qty, L[i].days_supply));
    char *json = claim("all", "M", 40, "J18.9", lines, "{\"drug_code\":\"DRG02\",\"qty\":1}",
                       "{\"settle_id\":97,\"inst_code\":\"H002\",\"date\":\"2026-03-07\",\"item_code\":\"CT01\","
                       "\"category\":\"exam\",\"qty\":\"1\",\"line_no\":4}");
    char *via_json = judge(f->ck, json, "en");

    /* The same claim in memory: lines sorted by (date, line_no), i.e. in
     * reverse of the JSON's order. */
    ms_rule_line_t lines_m[N], hist = {0};
    for (int i = 0; i < N; i++) {
        ms_rule_line_t *l = &lines_m[N - 1 - i];
        memset(l, 0, sizeof *l);
        l->settle_id = 100;
        l->line_no = (uint32_t)(N - i);
        ms_date_parse("2026-03-10", 10, &l->date);
        l->item_code = L[i].item;
        l->item = ms_knowledge_find(kb, L[i].item, strlen(L[i].item));
        l->category = (uint8_t)ms_item_category_find(L[i].cat, strlen(L[i].cat));
        l->qty_milli = (int64_t)(atof(L[i].qty) * 1000 + 0.5);
        l->unit_price = 100000;
        l->amount = 1000;
        l->days_supply = L[i].days_supply;
        l->doctor_id = 11;
        l->inst = -1;
    }
    hist.settle_id = 97;
    hist.line_no = 4;
    ms_date_parse("2026-03-07", 10, &hist.date);
    hist.item_code = "CT01";
    hist.item = ms_knowledge_find(kb, "CT01", 4);
    hist.category = MS_CAT_EXAM;
    hist.qty_milli = 1000;
    hist.inst = -1;
    ms_rule_trace_t trace = {ms_knowledge_find(kb, "DRG02", 5), 1};
    ms_claim_t c = {.settle_id = 100, .person_id = 7, .inst = -1, .visit_type = MS_VISIT_OUTPATIENT,
                    .age = 40, .sex = MS_SEX_M, .diag_main = "J18.9", .lines = lines_m, .nlines = N,
                    .traces = &trace, .ntraces = 1, .history = &hist, .nhistory = 1};
    ms_date_parse("2026-03-10", 10, &c.admit_date);
    c.discharge_date = c.admit_date;
    ms_rule_hits_t hits = {0};
    assert_int_equal(ms_check_claim(f->ck, &c, &hits), MS_OK);
    ms_buf_t out = {0};
    assert_int_equal(ms_check_verdict(f->ck, &c, "all", MS_CLAIM_ALL, &hits, "en", &out), MS_OK);
    char *via_claim = strndup((const char *)out.data, out.len);
    assert_string_equal(via_json, via_claim);
    ms_test_contains(via_json, "\"history\":\"claim\"}");
    /* Every template but bed_days (outpatient) hit once; excess_supply by
     * its window (120 days of supply > 90 + 30%). */
    json_t *v = parse(via_json);
    assert_int_equal(json_array_size(json_object_get(v, "hits")), MS_RULE_TEMPLATE_COUNT - 1);
    assert_int_equal(hits.n, MS_RULE_TEMPLATE_COUNT - 1);
    json_decref(v);
    ms_rule_hits_free(&hits);
    ms_buf_free(&out);
    free(via_claim);
    free(via_json);
    free(json);
}

/* Four threads, one checker: every claim's verdict is the one thread's. */
typedef struct {
    const ms_checker_t *ck;
    const case_t *c;
    char *const *want;
    int rounds, wrong;
} worker_t;

static void *work(void *arg)
{
    worker_t *w = arg;
    ms_buf_t out = {0};
    for (int r = 0; r < w->rounds; r++)
        for (int k = 0; k < NCASES; k++) {
            out.len = 0;
            const char *lang = (r + k) % 2 ? "en" : "zh";
            if (ms_check_json(w->ck, w->c[k].json, strlen(w->c[k].json), lang, &out) != MS_OK ||
                out.len != strlen(w->want[2 * k + (lang[0] == 'e')]) ||
                memcmp(out.data, w->want[2 * k + (lang[0] == 'e')], out.len))
                w->wrong++;
        }
    ms_buf_free(&out);
    return NULL;
}

static void test_threads(void **state)
{
    fixture_t *f = *state;
    case_t c[NCASES];
    make_cases(c);
    char *want[2 * NCASES];
    for (int k = 0; k < NCASES; k++) {
        want[2 * k] = judge(f->ck, c[k].json, "zh");
        want[2 * k + 1] = judge(f->ck, c[k].json, "en");
    }
    enum { T = 4 };
    pthread_t th[T];
    worker_t w[T];
    for (int t = 0; t < T; t++) {
        w[t] = (worker_t){f->ck, c, want, 60, 0};
        assert_int_equal(pthread_create(&th[t], NULL, work, &w[t]), 0);
    }
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(w[t].wrong, 0);
    }
    for (int k = 0; k < 2 * NCASES; k++) free(want[k]);
    free_cases(c);
}

/* A checker that cannot open says why. */
static void test_open_errors(void **state)
{
    fixture_t *f = *state;
    ms_checker_t *ck = NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/nowhere", f->dir);
    ms_check_opts_t o = {.dataset = path};
    assert_int_equal(ms_checker_open(&o, &ck), MS_E_USAGE);
    ms_test_contains(ms_error_detail(), "no dataset directory");
    assert_null(ck);
    o = (ms_check_opts_t){.dataset = f->dir};
    assert_int_equal(ms_checker_open(&o, &ck), MS_E_USAGE);
    ms_test_contains(ms_error_detail(), "neither knowledge.h5 nor institutions.h5");
    o = (ms_check_opts_t){.knowledge = path};
    assert_int_not_equal(ms_checker_open(&o, &ck), MS_OK);
    ms_test_contains(ms_error_detail(), "items.csv");
    /* A dataset holding only the knowledge base (knowledge.h5, as import
     * writes it): the same items, no institutions. */
    snprintf(path, sizeof path, "%s/data", f->dir);
    assert_int_equal(ms_mkdirs(path), MS_OK);
    assert_int_equal(ms_knowledge_write(ms_checker_knowledge(f->ck), path), MS_OK);
    o = (ms_check_opts_t){.dataset = path};
    if (ms_checker_open(&o, &ck) != MS_OK) fail_msg("ms_checker_open: %s", ms_error_detail());
    ms_checker_info_t info;
    ms_checker_info(ck, &info);
    assert_int_equal(info.knowledge_items, 12);
    assert_int_equal(info.institutions, 0);
    case_t c[NCASES];
    make_cases(c);
    for (int k = 0; k < NCASES; k++) {
        char *a = judge(f->ck, c[k].json, "en"), *b = judge(ck, c[k].json, "en");
        assert_string_equal(a, b);
        free(a), free(b);
    }
    free_cases(c);
    ms_checker_close(ck);
    ck = NULL;
    snprintf(path, sizeof path, "%s/bad.cfg", f->dir);
    assert_int_equal(ms_test_write_file(path, "rules = ( { name = \"x\"; template = \"nope\"; } );\n"), 0);
    o = (ms_check_opts_t){.config = path};
    assert_int_equal(ms_checker_open(&o, &ck), MS_E_USAGE);
    ms_test_contains(ms_error_detail(), "bad.cfg");
}

/* A verdict's score: the weights of the rules hit, each rule once. */
static void test_score(void **state)
{
    fixture_t *f = *state;
    char cfg[4200], kb[4200];
    snprintf(cfg, sizeof cfg, "%s/weights.cfg", f->dir);
    snprintf(kb, sizeof kb, "%s/knowledge", f->dir);
    /* Two instances of over_qty, one of them a hint (weight 0). */
    assert_int_equal(ms_test_write_file(cfg, "rules = ( { name = \"over_qty\"; template = \"over_qty\"; weight = 2.5; },\n"
                                             "  { name = \"over_qty_hint\"; template = \"over_qty\"; weight = 0; } );\n"),
                     0);
    ms_checker_t *ck = NULL;
    ms_check_opts_t o = {.config = cfg, .knowledge = kb};
    if (ms_checker_open(&o, &ck) != MS_OK) fail_msg("ms_checker_open: %s", ms_error_detail());
    case_t c[NCASES];
    make_cases(c);
    char *t = judge(ck, c[2].json, "en"); /* over_qty */
    ms_test_contains(t, "\"rule\":\"over_qty\"");
    ms_test_contains(t, "\"rule\":\"over_qty_hint\"");
    ms_test_contains(t, "\"score\":2.5,");
    free(t);
    t = judge(ck, c[0].json, "en"); /* sex: not configured, so a pass */
    ms_test_contains(t, "\"verdict\":\"pass\",\"hits\":[],\"score\":0,");
    free(t);
    free_cases(c);
    ms_checker_close(ck);
}

/* ------------------------------------------------- history from a dataset */

/* The dataset's item dictionary (sorted): ZZ999 is not in the knowledge
 * base. */
static const char *const ds_items[] = {"CT01", "DRG01", "EXA01", "EXB01", "ZZ999"};
enum { IT_CT01, IT_DRG01, IT_EXA01, IT_EXB01, IT_ZZ999, N_DS_ITEMS };

/* Settlements of person 7 (the claims' person) and of others, written into
 * dir with three partitions, and the knowledge base beside them.  Dates,
 * with 30 days of look-back: the latest bill line is 2026-03-09, so the
 * index keeps 2026-02-07..2026-03-09; a claim of 2026-03-10 looks back to
 * 2026-02-08.  *sid gets the settlements' ids, by letter:
 *   a 2026-02-06 CT01          before the index: not held
 *   b 2026-02-07 EXA01         held; before a 2026-03-10 claim's look-back
 *   c 2026-02-08 DRG01 30 days the look-back's first day
 *   d 2026-03-07 CT01 (H0002)  the repeated exam's first
 *   e 2026-03-09 CT01          settle_id 100: the claim's own, left out
 *   f 2026-03-09 ZZ999         an item the knowledge base does not list: not held
 * and person 8 (CT01 on 2026-03-08) and person 9 (EXB01 on 2026-03-01). */
static void write_history_dataset(const fixture_t *f, const char *dir, uint64_t sid[6])
{
    ms_testdata_t t;
    ms_testdata_init(&t, 3, 1);
    t.partitions = 3;
    t.refs.items.count = N_DS_ITEMS;
    t.refs.items.str = calloc(N_DS_ITEMS, sizeof(char *));
    assert_non_null(t.refs.items.str);
    for (int i = 0; i < N_DS_ITEMS; i++) t.refs.items.str[i] = strdup(ds_items[i]);
    static const struct {
        const char *date;
        int item, cat, days, inst;
        uint64_t person;
    } v[] = {
        {"2026-02-06", IT_CT01, MS_CAT_EXAM, 0, 0, 7},  {"2026-02-07", IT_EXA01, MS_CAT_LAB, 0, 0, 7},
        {"2026-02-08", IT_DRG01, MS_CAT_DRUG, 30, 0, 7}, {"2026-03-07", IT_CT01, MS_CAT_EXAM, 0, 1, 7},
        {"2026-03-09", IT_CT01, MS_CAT_EXAM, 0, 0, 7},  {"2026-03-09", IT_ZZ999, MS_CAT_OTHER, 0, 0, 7},
        {"2026-03-08", IT_CT01, MS_CAT_EXAM, 0, 2, 8},  {"2026-03-01", IT_EXB01, MS_CAT_LAB, 0, 2, 9},
    };
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
        ms_settlement_t *s = ms_testdata_visit(&t, v[k].person, (uint32_t)v[k].inst, ms_testdata_day(v[k].date));
        if (k == 4) s->settle_id = 100; /* the claim's own settlement, already in the dataset */
        if (k < 6) sid[k] = s->settle_id;
        ms_service_item_t *l = ms_testdata_line(&t, s, v[k].item, v[k].cat, 1000);
        l->days_supply = v[k].days;
    }
    assert_int_equal(ms_testdata_write(&t, dir), MS_OK);
    ms_testdata_free(&t);
    assert_int_equal(ms_knowledge_write(ms_checker_knowledge(f->ck), dir), MS_OK);
}

static ms_checker_t *open_dataset(const char *dir, int days)
{
    ms_checker_t *ck = NULL;
    ms_check_opts_t o = {.dataset = dir, .history_days = days};
    if (ms_checker_open(&o, &ck) != MS_OK) fail_msg("ms_checker_open: %s", ms_error_detail());
    return ck;
}

/* The claim of 2026-03-10 (person 7, settlement 100) with one CT01 line,
 * traces [] and the given history (NULL: none). */
static char *ct_claim(const char *history)
{
    char a[512];
    return claim("ct", "M", 40, "J18.9", line(a, sizeof a, 1, 10, "CT01", "exam", "1", 0), "", history);
}

/* ms_check_history of person 7's claim 100 with one line on day: the
 * settlements (ids) and dates of the lines it gives, "id@YYYY-MM-DD ...". */
static void history_of(const ms_checker_t *ck, const char *day, char *buf, size_t cap)
{
    ms_rule_line_t line = {.settle_id = 100, .line_no = 1, .item = 0, .item_code = "CT01", .qty_milli = 1000};
    ms_date_parse(day, 10, &line.date);
    ms_claim_t c = {.settle_id = 100, .person_id = 7, .inst = -1, .lines = &line, .nlines = 1};
    ms_rule_line_t *h = NULL;
    size_t n = 99;
    assert_int_equal(ms_check_history(ck, &c, &h, &n), MS_OK);
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n; i++) {
        char d[11];
        ms_date_format(h[i].date, d);
        len += (size_t)snprintf(buf + len, cap - len, "%s%llu@%s", i ? " " : "", (unsigned long long)h[i].settle_id, d);
    }
    free(h);
}

static void test_dataset_history(void **state)
{
    fixture_t *f = *state;
    char dir[4200], want[256], got[256];
    uint64_t sid[6];
    snprintf(dir, sizeof dir, "%s/hist", f->dir);
    write_history_dataset(f, dir, sid);
    ms_checker_t *ck = open_dataset(dir, 30);
    ms_checker_info_t info;
    ms_checker_info(ck, &info);
    assert_int_equal(info.history_days, 30);
    /* b, c, d, e, person 8's and person 9's: not a (too old), not f (unknown item). */
    assert_int_equal(info.history_lines, 6);
    assert_true(info.history_bytes >= 6 * 40);
    assert_int_equal(info.history_from, ms_testdata_day("2026-02-07"));
    assert_int_equal(info.history_to, ms_testdata_day("2026-03-09"));
    assert_int_equal(info.institutions, 3);

    /* Without "history": the dataset's, so repeat_exam runs and points at d,
     * not at e (the claim's own settlement, later). */
    char *s = ct_claim(NULL), *t = judge(ck, s, "en");
    json_t *v = parse(t), *hits = json_object_get(v, "hits");
    assert_string_equal(json_string_value(json_object_get(v, "history")), "dataset");
    assert_int_equal(json_array_size(json_object_get(v, "rules_not_run")), 0);
    assert_int_equal(json_array_size(hits), 1);
    json_t *h = json_array_get(hits, 0);
    assert_string_equal(json_string_value(json_object_get(h, "rule")), "repeat_exam");
    assert_int_equal(json_integer_value(json_object_get(h, "other_settle_id")), (json_int_t)sid[3]);
    assert_string_equal(json_string_value(json_object_get(h, "other_date")), "2026-03-07");
    assert_int_equal(json_integer_value(json_object_get(h, "observed")), 3);
    json_decref(v);

    /* The same claim in memory, with ms_check_history's lines: the same verdict. */
    const ms_knowledge_t *kb = ms_checker_knowledge(ck);
    ms_rule_line_t line = {.settle_id = 100, .line_no = 1, .item_code = "CT01", .category = MS_CAT_EXAM,
                           .qty_milli = 1000, .unit_price = 100000, .amount = 1000, .doctor_id = 11, .inst = -1};
    line.item = ms_knowledge_find(kb, "CT01", 4);
    line.date = ms_testdata_day("2026-03-10");
    ms_claim_t c = {.settle_id = 100, .person_id = 7, .inst = -1, .visit_type = MS_VISIT_OUTPATIENT, .age = 40,
                    .sex = MS_SEX_M, .diag_main = "J18.9", .lines = &line, .nlines = 1,
                    .admit_date = line.date, .discharge_date = line.date};
    ms_rule_line_t *hist = NULL;
    size_t nh = 0;
    assert_int_equal(ms_check_history(ck, &c, &hist, &nh), MS_OK);
    assert_int_equal(nh, 2);
    /* c: the drug line with its days of supply; d: at H0002 (id 1). */
    assert_string_equal(hist[0].item_code, "DRG01");
    assert_int_equal(hist[0].days_supply, 30);
    assert_int_equal(hist[0].category, MS_CAT_DRUG);
    assert_int_equal(hist[0].qty_milli, 1000);
    assert_int_equal(hist[0].inst, 0);
    assert_string_equal(hist[1].item_code, "CT01");
    assert_int_equal(hist[1].inst, 1);
    assert_int_equal(hist[1].settle_id, sid[3]);
    assert_int_equal(hist[1].line_no, 1);
    c.history = hist;
    c.nhistory = nh;
    ms_rule_hits_t rh = {0};
    ms_buf_t out = {0};
    assert_int_equal(ms_check_claim(ck, &c, &rh), MS_OK);
    assert_int_equal(ms_check_verdict(ck, &c, "ct", MS_CLAIM_ALL | MS_CLAIM_HISTORY_DATASET, &rh, "en", &out), MS_OK);
    assert_int_equal(out.len, strlen(t));
    assert_memory_equal(out.data, t, out.len);
    ms_buf_free(&out);
    ms_rule_hits_free(&rh);
    free(hist);
    free(t);
    free(s);

    /* The window: from the first line's date minus 30 days to the last
     * line's date; the claim's own settlement and other persons never. */
    snprintf(want, sizeof want, "%llu@2026-02-08 %llu@2026-03-07", (unsigned long long)sid[2],
             (unsigned long long)sid[3]);
    history_of(ck, "2026-03-10", got, sizeof got);
    assert_string_equal(got, want);
    snprintf(want, sizeof want, "%llu@2026-02-07 %llu@2026-02-08", (unsigned long long)sid[1],
             (unsigned long long)sid[2]);
    history_of(ck, "2026-03-05", got, sizeof got); /* d (03-07) is after it; b within 30 days */
    assert_string_equal(got, want);
    history_of(ck, "2026-01-01", got, sizeof got); /* nothing of the index is that early */
    assert_string_equal(got, "");

    /* "history": [] says there is none: the claim's word is taken. */
    s = ct_claim("");
    t = judge(ck, s, "en");
    ms_test_contains(t, "\"verdict\":\"pass\"");
    ms_test_contains(t, "\"history\":\"claim\"}");
    free(t);
    free(s);
    /* A history given with the claim is the claim's, even where the dataset has one. */
    s = ct_claim("{\"settle_id\":90,\"inst_code\":\"H0003\",\"date\":\"2026-03-09\",\"item_code\":\"CT01\","
                 "\"category\":\"exam\",\"qty\":\"1\"}");
    t = judge(ck, s, "en");
    ms_test_contains(t, "\"observed\":1,\"limit\":7,\"other_date\":\"2026-03-09\",\"other_settle_id\":90}");
    ms_test_contains(t, "\"history\":\"claim\"}");
    free(t);
    free(s);
    ms_checker_close(ck);

    /* history_days 0: no index, the history rules do not run. */
    ck = open_dataset(dir, 0);
    ms_checker_info(ck, &info);
    assert_int_equal(info.history_days, 0);
    assert_int_equal(info.history_lines, 0);
    s = ct_claim(NULL);
    t = judge(ck, s, "en");
    ms_test_contains(t, "\"verdict\":\"pass\"");
    ms_test_contains(t, "{\"rule\":\"repeat_exam\",\"missing\":\"history\"}");
    ms_test_contains(t, "\"history\":\"none\"}");
    free(t);
    size_t n = 5;
    assert_int_equal(ms_check_history(ck, &c, &hist, &n), MS_E_USAGE);
    assert_int_equal(n, 0);
    ms_checker_close(ck);

    /* A look-back out of range is refused. */
    ms_check_opts_t o = {.dataset = dir, .history_days = -1};
    ck = NULL;
    assert_int_equal(ms_checker_open(&o, &ck), MS_E_USAGE);
    o.history_days = MS_CHECK_HISTORY_DAYS_MAX + 1;
    assert_int_equal(ms_checker_open(&o, &ck), MS_E_USAGE);
    ms_test_contains(ms_error_detail(), "history days");
    assert_null(ck);

    /* 365 days: a is held too, and the claim's look-back reaches it. */
    ck = open_dataset(dir, 365);
    ms_checker_info(ck, &info);
    assert_int_equal(info.history_lines, 7);
    t = judge(ck, s, "en");
    ms_test_contains(t, "\"other_settle_id\":");
    ms_test_contains(t, "\"history\":\"dataset\"}");
    free(t);
    ms_checker_close(ck);

    /* A partition whose rows are out of order (not written by import) is
     * sorted at open: the same lines, the same verdict. */
    char path[4400];
    uint32_t part = ms_person_partition(7, 3);
    ms_dataset_part_path(dir, ms_table(MS_TABLE_SERVICE_ITEMS), part, path, sizeof path);
    ms_part_t *pp = NULL;
    assert_int_equal(ms_part_open(path, ms_table(MS_TABLE_SERVICE_ITEMS), NULL, &pp), MS_OK);
    ms_part_info_t pinfo = *ms_part_info(pp);
    ms_part_close(pp);
    ms_service_item_t *rows;
    size_t nrows;
    assert_int_equal(ms_testdata_load_part(path, MS_TABLE_SERVICE_ITEMS, NULL, (void **)&rows, &nrows), MS_OK);
    assert_true(nrows >= 6);
    for (size_t i = 0; i < nrows / 2; i++) {
        ms_service_item_t x = rows[i];
        rows[i] = rows[nrows - 1 - i];
        rows[nrows - 1 - i] = x;
    }
    assert_int_equal(ms_part_write_rows(path, ms_table(MS_TABLE_SERVICE_ITEMS), rows, &pinfo), MS_OK);
    free(rows);
    ck = open_dataset(dir, 30);
    ms_checker_info(ck, &info);
    assert_int_equal(info.history_lines, 6);
    snprintf(want, sizeof want, "%llu@2026-02-08 %llu@2026-03-07", (unsigned long long)sid[2],
             (unsigned long long)sid[3]);
    history_of(ck, "2026-03-10", got, sizeof got);
    assert_string_equal(got, want);
    ms_checker_close(ck);
    free(s);
}

/* A dataset without bill lines (or without its reference files) gives no
 * history: claims without one say "none", as before. */
static void test_dataset_without_bills(void **state)
{
    fixture_t *f = *state;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/nobills", f->dir);
    ms_testdata_t t;
    ms_testdata_init(&t, 2, 1);
    ms_testdata_visit(&t, 7, 0, ms_testdata_day("2026-03-07"));
    assert_int_equal(ms_testdata_write(&t, dir), MS_OK);
    ms_testdata_free(&t);
    assert_int_equal(ms_knowledge_write(ms_checker_knowledge(f->ck), dir), MS_OK);
    ms_checker_t *ck = open_dataset(dir, MS_CHECK_HISTORY_DAYS);
    ms_checker_info_t info;
    ms_checker_info(ck, &info);
    assert_int_equal(info.history_days, 0);
    assert_int_equal(info.history_lines, 0);
    assert_int_equal(info.institutions, 2);
    char *s = ct_claim(NULL), *v = judge(ck, s, "en");
    ms_test_contains(v, "{\"rule\":\"repeat_exam\",\"missing\":\"history\"}");
    ms_test_contains(v, "\"history\":\"none\"}");
    free(v);
    free(s);
    ms_checker_close(ck);
}

/* Four threads on one checker with a history index: each gets the one
 * thread's verdicts (TSan: the index is only read). */
typedef struct {
    const ms_checker_t *ck;
    const char *json[2], *want[2];
    int wrong;
} hworker_t;

static void *hwork(void *arg)
{
    hworker_t *w = arg;
    ms_buf_t out = {0};
    for (int r = 0; r < 200; r++) {
        int k = r % 2;
        out.len = 0;
        if (ms_check_json(w->ck, w->json[k], strlen(w->json[k]), "en", &out) != MS_OK ||
            out.len != strlen(w->want[k]) || memcmp(out.data, w->want[k], out.len))
            w->wrong++;
    }
    ms_buf_free(&out);
    return NULL;
}

static void test_dataset_history_threads(void **state)
{
    fixture_t *f = *state;
    char dir[4200];
    uint64_t sid[6];
    snprintf(dir, sizeof dir, "%s/hist-threads", f->dir);
    write_history_dataset(f, dir, sid);
    ms_checker_t *ck = open_dataset(dir, 30);
    char *a = ct_claim(NULL), *b = ct_claim("");
    char *wa = judge(ck, a, "en"), *wb = judge(ck, b, "en");
    ms_test_contains(wa, "\"history\":\"dataset\"}");
    enum { T = 4 };
    pthread_t th[T];
    hworker_t w[T];
    for (int i = 0; i < T; i++) {
        w[i] = (hworker_t){ck, {a, b}, {wa, wb}, 0};
        assert_int_equal(pthread_create(&th[i], NULL, hwork, &w[i]), 0);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].wrong, 0);
    }
    free(a), free(b), free(wa), free(wb);
    ms_checker_close(ck);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_template),
        cmocka_unit_test(test_figures),
        cmocka_unit_test(test_not_run),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_json_equals_claim),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_score),
        cmocka_unit_test(test_dataset_history),
        cmocka_unit_test(test_dataset_without_bills),
        cmocka_unit_test(test_dataset_history_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
