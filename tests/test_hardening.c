/*
 * test_hardening.c - paths, shared directories and hostile data, through the
 * real program.
 *
 *  - trailing slashes and "./" in every --out / DATASET argument (gen,
 *    import, export, sweep) name the same directory as without them;
 *  - the write probe in the parent of an output never follows a symlink
 *    (another user's link in a shared directory cannot make medsweep
 *    truncate a file);
 *  - text from the extracts (codes, names) cannot become a spreadsheet
 *    formula in the CSV files the sweep writes for people, while the
 *    canonical export still gives the extract back byte for byte; the
 *    rows the sweep assembles in a buffer copy text themselves only where
 *    ms_csv_write_text would write it unchanged (ms_csv_text_is_plain);
 *  - control characters from the data are escaped in error messages;
 *  - a drug_items.csv that is a symlink to nothing is an error, not an
 *    absent file;
 *  - inspect exits 1 when a partition cannot be read, --verify or not;
 *  - the rule configuration prints numbers in their shortest exact form.
 *
 * One small generated CSV world (the group fixture) is copied and edited
 * by each test.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ms_fs.h"
#include "ms_testcsv.h"
#include "ms_csv.h"
#include "ms_testutil.h"

typedef struct {
    char *dir;      /* first: ms_test_dir_teardown frees it */
    char csv[700];  /* dir/csv: a generated world as canonical CSV */
} fx_t;

#define WORLD "--persons 2000 --institutions 20 --seed 7 --quiet"

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = ms_test_dir("hardening");
    assert_non_null(f->dir);
    snprintf(f->csv, sizeof f->csv, "%s/csv", f->dir);
    ms_test_cli_ok(NULL, "gen --out %s --csv " WORLD, f->csv);
    *state = f;
    return 0;
}

/* Run a shell command built like printf, asserting exit status 0. */
__attribute__((format(printf, 1, 2))) static void sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    ms_test_run_ok(cmd, NULL);
}

/* A fresh directory dir/name (removed first), its path in out. */
static void fresh(const fx_t *f, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", f->dir, name);
    ms_remove_tree(out);
    assert_int_equal(ms_mkdirs(out), MS_OK);
}

/* The entries of dir, sorted, joined by spaces ("" when empty). */
static char *entries(const char *dir)
{
    struct dirent **list = NULL;
    int n = scandir(dir, &list, NULL, alphasort);
    assert_true(n >= 0);
    size_t cap = 16, len = 0;
    char *s = calloc(cap, 1);
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        if (strcmp(name, ".") && strcmp(name, "..")) {
            size_t add = strlen(name) + 1;
            while (len + add + 1 > cap) s = realloc(s, cap *= 2);
            len += (size_t)snprintf(s + len, cap - len, "%s%s", len ? " " : "", name);
        }
        free(list[i]);
    }
    free(list);
    return s;
}

static void entries_are(const char *dir, const char *want)
{
    char *got = entries(dir);
    if (strcmp(got, want)) print_error("%s holds '%s', expected '%s'\n", dir, got, want);
    assert_string_equal(got, want);
    free(got);
}

/* ------------------------------------------------------------------ */

static void test_trailing_slashes(void **state)
{
    fx_t *f = *state;
    char d[800];
    fresh(f, "slashes", d, sizeof d);
    /* gen, as --help writes it, and again with --replace. */
    ms_test_cli_ok(NULL, "gen --out %s/world/ " WORLD, d);
    ms_test_cli_ok(NULL, "gen --out %s/world// --replace " WORLD, d);
    ms_test_cli_ok(NULL, "gen --out %s/./cw/./ --csv " WORLD, d);
    ms_test_cli_ok(NULL, "gen --out %s/cw/. --csv --replace " WORLD, d);
    /* import, with --replace through "." too. */
    ms_test_cli_ok(NULL, "import %s/cw/ %s/data/ --quiet", d, d);
    ms_test_cli_ok(NULL, "import %s/./cw %s/data/. --replace --quiet", d, d);
    ms_test_cli_ok(NULL, "import %s/cw// %s/./data2/./ --quiet", d, d);
    /* export */
    ms_test_cli_ok(NULL, "export %s/data/ %s/exp/", d, d);
    ms_test_cli_ok(NULL, "export %s/./data/. %s/exp2/./", d, d);
    char e1[900], e2[900];
    snprintf(e1, sizeof e1, "%s/exp", d);
    snprintf(e2, sizeof e2, "%s/exp2", d);
    ms_test_same_files(e1, e2, "institutions.csv", "groups.csv", "settlements.csv", "drug_items.csv", NULL);
    /* sweep, and again with --replace into the same directory spelt "s/." */
    ms_test_cli_ok(NULL, "sweep %s/data/ --out %s/s/ --quiet", d, d);
    ms_test_cli_ok(NULL, "sweep %s/./data/. --out %s/s/. --replace --quiet", d, d);
    /* Every output where it belongs, nothing left beside it. */
    entries_are(d, "cw data data2 exp exp2 s world");
    char sub[900];
    snprintf(sub, sizeof sub, "%s/world", d);
    char *s = entries(sub);
    ms_test_contains(s, "truth");
    free(s);
    snprintf(sub, sizeof sub, "%s/s", d);
    s = entries(sub);
    ms_test_contains(s, "ranked.csv");
    ms_test_contains(s, "run.json");
    free(s);
}

/* ------------------------------------------------------------------ */

static void victim_intact(const char *victim)
{
    char *text = ms_test_slurp(victim, NULL);
    assert_non_null(text);
    assert_string_equal(text, "another user's file: never truncate\n");
    free(text);
}

static void test_write_probe_never_follows_links(void **state)
{
    fx_t *f = *state;
    char d[800], shared[900], victim[900];
    fresh(f, "probe", d, sizeof d);
    snprintf(shared, sizeof shared, "%s/shared", d);
    snprintf(victim, sizeof victim, "%s/victim.txt", d);
    assert_int_equal(ms_mkdirs(shared), MS_OK);
    assert_int_equal(ms_test_write_file(victim, "another user's file: never truncate\n"), 0);
    /* Another user's link at the name the probe used to have. */
    sh("ln -s %s %s/.medsweep-write-probe", victim, shared);
    ms_test_cli_ok(NULL, "import %s %s/data --quiet", f->csv, shared);
    victim_intact(victim);
    ms_test_cli_ok(NULL, "sweep %s/data --out %s/s --quiet", shared, shared);
    victim_intact(victim);
    ms_test_cli_ok(NULL, "gen --out %s/w " WORLD, shared);
    victim_intact(victim);
    ms_test_cli_ok(NULL, "export %s/data %s/e", shared, shared);
    victim_intact(victim);
    /* The link is still there, untouched, and no probe is left behind. */
    entries_are(shared, ".medsweep-write-probe data e s w");
    struct stat sb;
    assert_int_equal(lstat(victim, &sb), 0);
    char link[1000];
    snprintf(link, sizeof link, "%s/.medsweep-write-probe", shared);
    assert_int_equal(lstat(link, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
}

/* ------------------------------------------------------------------ */

static int formula_start(const char *s)
{
    return s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r';
}

/* Every cell of the named text columns of dir/name (those it has) is
 * neutralised: "'" then what the extract said, which starts like a formula
 * in this world.  Returns the rows. */
static size_t neutralised(const char *dir, const char *name, const char *const *cols, size_t ncols)
{
    ms_testcsv_t *t = ms_testcsv_read(dir, name);
    size_t n = ms_testcsv_rows(t);
    for (size_t c = 0; c < ncols; c++) {
        if (ms_testcsv_column(t, cols[c]) < 0) continue;
        for (size_t r = 0; r < n; r++) {
            const char *v = ms_testcsv_get(t, r, cols[c]);
            if (formula_start(v)) print_error("%s row %zu, %s: '%s' starts a formula\n", name, r + 1, cols[c], v);
            assert_false(formula_start(v));
            if (!strcmp(cols[c], "inst_code") || !strcmp(cols[c], "name")) {
                if (v[0] != '\'' || !formula_start(v + 1))
                    print_error("%s row %zu, %s: '%s' is not neutralised\n", name, r + 1, cols[c], v);
                assert_true(v[0] == '\'' && formula_start(v + 1));
            }
        }
    }
    /* Numbers stay numbers. */
    static const char *const numeric[] = {"rank", "priority", "peer_percentile", "suspicious_amount_yuan",
                                          "likely_recovery_yuan", "records_swept", "numerator", "denominator",
                                          "settle_id", "person_id", "fund_pay"};
    for (size_t c = 0; c < sizeof numeric / sizeof *numeric; c++) {
        if (ms_testcsv_column(t, numeric[c]) < 0) continue;
        for (size_t r = 0; r < n; r++) {
            const char *v = ms_testcsv_get(t, r, numeric[c]);
            char *end;
            if (!*v) continue; /* peer_percentile of an unscored indicator */
            strtod(v, &end);
            assert_true(*end == '\0');
        }
    }
    ms_testcsv_free(t);
    return n;
}

static void test_no_formulas_in_outputs(void **state)
{
    fx_t *f = *state;
    char d[800], evil[900], data[900], out[900], e1[900], e2[900], d2[900];
    fresh(f, "formula", d, sizeof d);
    snprintf(evil, sizeof evil, "%s/evil", d);
    snprintf(data, sizeof data, "%s/data", d);
    snprintf(out, sizeof out, "%s/out", d);
    snprintf(e1, sizeof e1, "%s/e1", d);
    snprintf(e2, sizeof e2, "%s/e2", d);
    snprintf(d2, sizeof d2, "%s/d2", d);
    sh("cp -r %s %s", f->csv, evil);
    /* Codes: H... -> -H..., P... -> @P... everywhere they appear (the order
     * of the codes is kept).  Names: a live formula, and every other one
     * starting with +, a tab or a CR. */
    sh("cd %s && for x in institutions settlements drug_items; do "
       "sed -E -i 's/(^|,)H([0-9]{11})(,|$)/\\1-H\\2\\3/; s/(^|,)P([0-9]{11})(,|$)/\\1@P\\2\\3/' $x.csv; done",
       evil);
    sh("cd %s && awk -F, -v OFS=, 'NR == 2 { $2 = \"\\\"=HYPERLINK(\\\"\\\"http://evil.example/\\\"\\\",\\\"\\\"open\\\"\\\")\\\"\" } "
       "NR > 2 { $2 = (NR %% 3 == 0 ? \"+\" : NR %% 3 == 1 ? \"\\t\" : \"\\\"\\r\") $2 (NR %% 3 == 2 ? \"\\\"\" : \"\") } "
       "{ print }' institutions.csv > i.tmp && mv i.tmp institutions.csv",
       evil);
    char *text = ms_test_read(evil, "institutions.csv", NULL);
    ms_test_contains(text, "\"=HYPERLINK(\"\"http://evil.example/");
    free(text);
    ms_test_cli_ok(NULL, "import %s %s --quiet", evil, data);
    ms_test_cli_ok(NULL, "sweep %s --out %s --quiet", data, out);
    static const char *const text_cols[] = {"inst_code", "name", "reason_1", "reason_2", "reason_3"};
    const size_t nt = sizeof text_cols / sizeof *text_cols;
    assert_true(neutralised(out, "ranked.csv", text_cols, nt) > 0);
    assert_true(neutralised(out, "clues.csv", text_cols, nt) > 0);
    assert_true(neutralised(out, "indicators.csv", text_cols, nt) > 0);
    char *list = entries(out);
    int nranked = 0;
    for (char *tok = strtok(list, " "); tok; tok = strtok(NULL, " "))
        if (!strncmp(tok, "ranked_", 7)) nranked++, neutralised(out, tok, text_cols, nt);
    assert_true(nranked > 0);
    free(list);
    /* The name with its formula is there, as text. */
    text = ms_test_read(out, "ranked.csv", NULL);
    ms_test_contains(text, "\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"open\"\")\"");
    free(text);
    /* The canonical export gives the extract back as it was: export, import
     * and export again are the same bytes, the formula unchanged. */
    ms_test_cli_ok(NULL, "export %s %s", data, e1);
    char *inst = ms_test_read(e1, "institutions.csv", NULL);
    ms_test_contains(inst, "\"=HYPERLINK(\"\"http://evil.example/\"\",\"\"open\"\")\"");
    ms_test_contains(inst, "\n-H");
    ms_test_contains(inst, "\n@P");
    assert_null(strstr(inst, "'"));
    free(inst);
    ms_test_cli_ok(NULL, "import %s %s --quiet", e1, d2);
    ms_test_cli_ok(NULL, "export %s %s", d2, e2);
    ms_test_same_files(e1, e2, "institutions.csv", "groups.csv", "settlements.csv", "drug_items.csv", NULL);
    /* eval reads the neutralised codes back: the same figures as on the
     * clean world, whose truth names the same institutions. */
    char clean[900], cout[900], *a = NULL, *b = NULL;
    snprintf(clean, sizeof clean, "%s/clean", d);
    snprintf(cout, sizeof cout, "%s/clean-out", d);
    ms_test_cli_ok(NULL, "import %s %s --quiet", f->csv, clean);
    ms_test_cli_ok(NULL, "sweep %s --out %s --quiet", clean, cout);
    sh("cp -r %s/truth %s/truth && cd %s/truth && for x in *.csv; do "
       "sed -E -i 's/(^|,)H([0-9]{11})(,|$)/\\1-H\\2\\3/; s/(^|,)P([0-9]{11})(,|$)/\\1@P\\2\\3/' $x; done",
       f->csv, d, d);
    ms_test_cli_ok(&a, "eval %s --truth %s/truth", cout, f->csv);
    ms_test_cli_ok(&b, "eval %s --truth %s/truth", out, d);
    assert_string_equal(a, b);
    free(a), free(b);
}

/* ------------------------------------------------------------------ */

/* ms_csv_text_is_plain says yes exactly when ms_csv_write_text writes the
 * text unchanged: every string of up to 3 characters over an alphabet of
 * the characters that matter, and random longer ones. */
static void check_plain(const char *t, size_t n)
{
    char *out = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&out, &len);
    assert_non_null(fp);
    ms_csv_write_text(fp, t, n);
    assert_int_equal(fclose(fp), 0);
    int same = len == n && !memcmp(out, t, n);
    if (same != ms_csv_text_is_plain(t, n)) print_error("'%.*s': written as '%s'\n", (int)n, t, out);
    assert_int_equal(same, ms_csv_text_is_plain(t, n));
    free(out);
}

static void test_plain_text_is_written_as_is(void **state)
{
    (void)state;
    static const char abc[] = {'a', '7', ',', '"', '\n', '\r', '=', '+', '-', '@', '\t', ' ', '\'', (char)0xe5};
    enum { A = sizeof abc };
    char t[64];
    check_plain("", 0);
    for (size_t n = 1; n <= 3; n++) {
        size_t total = 1;
        for (size_t k = 0; k < n; k++) total *= A;
        for (size_t v = 0; v < total; v++) {
            size_t x = v;
            for (size_t k = 0; k < n; k++, x /= A) t[k] = abc[x % A];
            check_plain(t, n);
        }
    }
    uint64_t rs = 5;
    for (int r = 0; r < 20000; r++) {
        size_t n = 4 + ms_test_below(&rs, 40);
        for (size_t k = 0; k < n; k++)
            t[k] = ms_test_below(&rs, 8) ? 'a' + (char)ms_test_below(&rs, 26) : abc[ms_test_below(&rs, A)];
        check_plain(t, n);
    }
}

static void test_control_characters_escaped(void **state)
{
    fx_t *f = *state;
    char d[800], bad[900], *out = NULL;
    fresh(f, "control", d, sizeof d);
    snprintf(bad, sizeof bad, "%s/bad", d);
    sh("cp -r %s %s", f->csv, bad);
    /* An escape sequence (clear the screen) in visit_type of line 2. */
    sh("cd %s && awk -F, -v OFS=, 'NR == 2 { $4 = \"out\\033[2Jpatient\" } { print }' settlements.csv > s.tmp && "
       "mv s.tmp settlements.csv", bad);
    assert_int_equal(ms_test_cli(&out, "import %s %s/data --quiet", bad, d), 1);
    ms_test_contains(out, "settlements.csv line 2, column visit_type");
    ms_test_contains(out, "out\\x1b[2Jpatient");
    assert_null(strchr(out, '\033'));
    free(out);
    /* A line feed inside a quoted field: the message stays one line. */
    sh("cd %s && awk -F, -v OFS=, 'NR == 2 { $4 = \"\\\"out\\npatient\\\"\" } { print }' %s/settlements.csv > "
       "settlements.csv", bad, f->csv);
    assert_int_equal(ms_test_cli(&out, "import %s %s/data --quiet", bad, d), 1);
    ms_test_contains(out, "out\\x0apatient");
    assert_true(strlen(out) > 0 && strchr(out, '\n') == out + strlen(out) - 1); /* one line */
    free(out);
}

/* ------------------------------------------------------------------ */

static void test_dangling_drug_items(void **state)
{
    fx_t *f = *state;
    char d[800], x[900], *out = NULL;
    fresh(f, "dangling", d, sizeof d);
    snprintf(x, sizeof x, "%s/x", d);
    sh("cp -r %s %s && rm %s/drug_items.csv", f->csv, x, x);
    /* Absent: an extract without drug items. */
    ms_test_cli_ok(&out, "import %s %s/data", x, d);
    ms_test_contains(out, " 0 drug items");
    free(out);
    /* A link to nothing, and a link to itself: errors naming the file. */
    sh("ln -s %s/nowhere.csv %s/drug_items.csv", d, x);
    assert_int_equal(ms_test_cli(&out, "import %s %s/data2 --quiet", x, d), 1);
    ms_test_contains(out, "drug_items.csv");
    free(out);
    sh("rm %s/drug_items.csv && ln -s drug_items.csv %s/drug_items.csv", x, x);
    assert_int_equal(ms_test_cli(&out, "import %s %s/data2 --quiet", x, d), 1);
    ms_test_contains(out, "drug_items.csv");
    free(out);
    entries_are(d, "data x");
}

/* ------------------------------------------------------------------ */

static void test_inspect_unreadable(void **state)
{
    fx_t *f = *state;
    char d[800], *out = NULL;
    fresh(f, "unreadable", d, sizeof d);
    ms_test_cli_ok(NULL, "import %s %s/data --partitions 2 --quiet", f->csv, d);
    ms_test_cli_ok(NULL, "inspect %s/data", d);
    sh("echo garbage > %s/data/settlements/part-00001.h5", d);
    assert_int_equal(ms_test_cli(&out, "inspect %s/data", d), 1);
    ms_test_contains(out, "UNREADABLE");
    ms_test_contains(out, "part-00001.h5");
    free(out);
    assert_int_equal(ms_test_cli(&out, "inspect %s/data --verify", d), 1);
    free(out);
}

/* ------------------------------------------------------------------ */

static void test_config_numbers_shortest(void **state)
{
    fx_t *f = *state;
    char d[800], cfg[900], *out = NULL, *again = NULL;
    fresh(f, "cfgnum", d, sizeof d);
    ms_test_cli_ok(&out, "models --config");
    ms_test_contains(out, "      share = 0.8;");
    ms_test_contains(out, "  z_flag = 3;");
    assert_null(strstr(out, "0.80000000000000004"));
    free(out);
    /* A value that needs all 17 digits keeps them, and reads back. */
    snprintf(cfg, sizeof cfg, "%s/rules.cfg", d);
    assert_int_equal(ms_test_write_file(cfg, "scoring = { z_flag = 0.30000000000000004; min_excess_share = 0.3; };\n"), 0);
    ms_test_cli_ok(&out, "models --config %s", cfg);
    ms_test_contains(out, "  z_flag = 0.30000000000000004;");
    ms_test_contains(out, "  min_excess_share = 0.3;");
    assert_int_equal(ms_test_write_file(cfg, out), 0);
    ms_test_cli_ok(&again, "models --config %s", cfg);
    assert_string_equal(out, again);
    free(out), free(again);
}

/* ------------------------------------------------------------------ */

/* Exit status 2 for a usage error, found before or after the options. */
static void test_usage_errors_exit_2(void **state)
{
    fx_t *f = *state;
    char d[800], cfg[900], *out = NULL;
    fresh(f, "usage", d, sizeof d);
    snprintf(cfg, sizeof cfg, "%s/rules.cfg", d);
    ms_test_cli_ok(NULL, "import %s %s/data --quiet", f->csv, d);
    ms_test_cli_ok(&out, "sweep %s/data/ --out %s/s/ --quiet", d, d);
    free(out);
    ms_test_cli_ok(&out, "sweep %s/data/ --out %s/s// --replace", d, d);
    ms_test_contains(out, "/s/ranked.csv"); /* the directory as it is, not s//ranked.csv */
    assert_null(strstr(out, "//"));
    free(out);
    /* --resume of a finished sweep. */
    assert_int_equal(ms_test_cli(&out, "sweep %s/data --out %s/s --resume --quiet", d, d), 2);
    ms_test_contains(out, "no interrupted sweep to resume (it is finished)");
    free(out);
    /* An unknown model. */
    assert_int_equal(ms_test_cli(&out, "sweep %s/data --out %s/s2 --models nonesuch --quiet", d, d), 2);
    ms_test_contains(out, "unknown model 'nonesuch'");
    free(out);
    /* Rules that are refused, in sweep and in models --config. */
    assert_int_equal(ms_test_write_file(cfg, "scoring = { min_denominator = 11.5; };\n"), 0);
    assert_int_equal(ms_test_cli(&out, "sweep %s/data --out %s/s3 --config %s --quiet", d, d, cfg), 2);
    ms_test_contains(out, "'scoring.min_denominator' = 11.5 must be a whole number");
    free(out);
    assert_int_equal(ms_test_cli(&out, "models --config %s", cfg), 2);
    free(out);
    /* A negative memory cap is not a size; nor is one past 64 bits. */
    assert_int_equal(ms_test_cli(&out, "sweep %s/data --out %s/s4 --memory-cap -1G --quiet", d, d), 2);
    ms_test_contains(out, "--memory-cap wants a size");
    free(out);
    assert_int_equal(ms_test_cli(&out, "sweep %s/data --out %s/s4 --memory-cap 99999999999999G --quiet", d, d), 2);
    free(out);
    assert_int_equal(ms_test_cli(&out, "sweep %s/data --out %s/s4 --memory-cap ' 64M' --quiet", d, d), 2);
    free(out);
    ms_test_cli_ok(NULL, "sweep %s/data --out %s/s4 --memory-cap 1G --threads 2 --quiet", d, d);
    /* Nothing was written by the refused runs. */
    entries_are(d, "data rules.cfg s s4");
}

/* medsweep models prints a list parameter's default list. */
static void test_models_prints_default_lists(void **state)
{
    (void)state;
    char *out = NULL;
    ms_test_cli_ok(&out, "models");
    ms_test_contains(out, "(default [\"J06\", \"I10\", \"E11.9\", \"K29\", \"M54\"])");
    ms_test_contains(out, "(default 5, allowed 2..100)");
    assert_null(strstr(out, "allowed 0..0"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trailing_slashes),
        cmocka_unit_test(test_write_probe_never_follows_links),
        cmocka_unit_test(test_no_formulas_in_outputs),
        cmocka_unit_test(test_plain_text_is_written_as_is),
        cmocka_unit_test(test_control_characters_escaped),
        cmocka_unit_test(test_dangling_drug_items),
        cmocka_unit_test(test_inspect_unreadable),
        cmocka_unit_test(test_config_numbers_shortest),
        cmocka_unit_test(test_usage_errors_exit_2),
        cmocka_unit_test(test_models_prints_default_lists),
    };
    return cmocka_run_group_tests(tests, setup, ms_test_dir_teardown);
}
