/*
 * test_eval.c - medsweep eval on a hand-made sweep output and truth, where
 * every figure can be worked out by hand.
 *
 * Ten general hospitals of level 2 in province 11, A..J = H110101000NN
 * (NN = 01..10).  Planted: A overlapping_stay (false_hosp), C upcoding
 * (upcoding), E doctor_overload (overload); overall K = 3.
 *
 *   ranked.csv   C 1, A 2, E 3, B 4, D 5, F 6, ..., J 10
 *   fund payment A 100, B 200, C 300, D 400, E 800, F 1000, G 900, H 700,
 *                I 50, J 60
 *   overlapping_stay (the only scored indicator with data): den 70 each,
 *                num A 20, B 10, C 8, the others 0.
 *
 * The simple screen, one peer group of 10: den + k = 100 for all, so the
 * shrunk rate is num/100 + a constant and z = max(0, (num - 3.8) / sd(num)),
 * sd = sqrt(41.96): A 2.50, B 0.96, C 0.59, the rest 0.  Only false_hosp has
 * a nonzero 99th percentile (the rank-10 value of 10: the largest, z_A),
 * so the screen orders A, B, C, then the rest tied at 0 by code.  (J's
 * first_sale_of_repeated_code is an info indicator: never scored.)
 *
 * Overall top 3: sweep C A E (3 hits, 1.0), screen A B C (2, 0.667), fund
 * payment F G E (1, 0.333).  Screen AUC: A beats the 7 negatives, C 6 of
 * them (not B), E ties 6 and loses to B: (7 + 6 + 3) / 21.
 * Per pattern (the others' planted institutions left out), top 1:
 *   overlapping_stay: sweep A (1), screen A (1), fund F (0);
 *   upcoding:         sweep C (1), screen B (0), fund F (0);
 *   doctor_overload:  sweep E (1), screen B (0), fund F (0).
 * Per model, top 1 of its own list: false_hosp ranked_false_hosp.csv B, A
 * (0), screen's false_hosp sum A (1); upcoding ranked_upcoding.csv C (1),
 * screen all 0, B first by code (0); overload: no ranked_overload.csv (the
 * sweep's figure is null), screen B (0).
 * Hard negatives B tiny, F G J tertiary, and one code without data: in the
 * overall top 3, sweep 0, screen 1 (tiny), fund payment 2 (tertiary).
 *
 * The second world drops B and D..J from ranked.csv and the model lists:
 * those seven are then one peer group of their own, {A, C, E} another (3,
 * under 5: kind and level nationwide, the same three).  In {A, C, E} the
 * mean is 9.33, so z_A = 10.67 / sd(20, 8, 0) = 1.30; in the other group
 * z_B = (10 - 1.43) / sd(10, 0 x 6) = 2.45: B now tops overlapping_stay.
 */
#include <math.h>
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
#include "ms_testutil.h"

static const int fund[10] = {100, 200, 300, 400, 800, 1000, 900, 700, 50, 60};
static const int overlap[10] = {20, 10, 8, 0, 0, 0, 0, 0, 0, 0};

/* Rows of a ranked file: "rank,inst_code,..." for the listed institutions
 * (letters A..J in rank order). */
static void put_ranked(const char *dir, const char *name, const char *order)
{
    char text[4096];
    size_t len = (size_t)snprintf(text, sizeof text, "rank,inst_code,name,region,kind,level,overall_score\n");
    for (int r = 0; order[r]; r++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%d,H110101000%02d,Hospital %c,110101,general,2,1.0\n",
                                r + 1, order[r] - 'A' + 1, order[r]);
    ms_test_put(dir, name, text);
}

/* The world: out/ and truth/ under dir; full = 1 for every institution in
 * ranked.csv and the model lists, 0 for the second world. */
static void make_world(const char *dir, int full, int hard)
{
    char out[700], truth[700], text[8192];
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(truth, sizeof truth, "%s/truth", dir);
    assert_int_equal(ms_mkdirs(out), MS_OK);
    assert_int_equal(ms_mkdirs(truth), MS_OK);
    size_t len = (size_t)snprintf(text, sizeof text, "inst_code,model,indicator,numerator,denominator\n");
    for (int i = 0; i < 10; i++) {
        len += (size_t)snprintf(text + len, sizeof text - len,
                                "H110101000%02d,volume,settlements,100,0\n"
                                "H110101000%02d,volume,fund_payment,%d,0\n"
                                "H110101000%02d,false_hosp,overlapping_stay,%d,70\n",
                                i + 1, i + 1, fund[i], i + 1, overlap[i]);
    }
    len += (size_t)snprintf(text + len, sizeof text - len, "H11010100010,drugs,first_sale_of_repeated_code,50,70\n");
    ms_test_put(out, "indicators.csv", text);
    if (full) {
        put_ranked(out, "ranked.csv", "CAEBDFGHIJ");
        put_ranked(out, "ranked_false_hosp.csv", "BA");
        put_ranked(out, "ranked_upcoding.csv", "C");
    } else put_ranked(out, "ranked.csv", "CAE");
    ms_test_put(truth, "institutions.csv",
        "inst_code,pattern,intensity\n"
        "H11010100001,overlapping_stay,1.000\n"
        "H11010100003,upcoding,1.000\n"
        "H11010100005,doctor_overload,1.000\n");
    if (hard)
        ms_test_put(truth, "hard_negatives.csv",
            "inst_code,kind\n"
            "H11010100002,tiny\n"
            "H11010100006,tertiary\n"
            "H11010100007,tertiary\n"
            "H11010100010,tertiary\n"
            "H99999900001,tiny\n");
}

static json_t *eval_json(const char *dir)
{
    char *log = NULL;
    assert_int_equal(ms_test_cli(&log, "eval %s/out --truth %s/truth --json", dir, dir), 0);
    json_error_t err;
    json_t *root = json_loads(log, 0, &err);
    if (!root) print_error("not JSON: %s\n%s\n", err.text, log);
    assert_non_null(root);
    assert_true(json_is_array(root));
    free(log);
    return root;
}

static json_t *row(json_t *root, const char *pattern)
{
    size_t i;
    json_t *r;
    json_array_foreach(root, i, r) if (!strcmp(json_string_value(json_object_get(r, "pattern")), pattern)) return r;
    fail_msg("no row for %s", pattern);
    return NULL;
}

static json_t *model(json_t *overall, const char *name)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(overall, "models"), i, r) if (!strcmp(json_string_value(json_object_get(r, "model")), name)) return r;
    fail_msg("no model %s", name);
    return NULL;
}

/* obj[ranking].precision_at_k (and the same for the key path a.b). */
static double prec(json_t *obj, const char *ranking)
{
    json_t *m = json_object_get(obj, ranking);
    assert_true(json_is_object(m));
    return json_real_value(json_object_get(m, "precision_at_k"));
}

static void near(double got, double want)
{
    if (fabs(got - want) > 1e-9) fail_msg("got %.12g, want %.12g", got, want);
}

static void test_hand_made_world(void **state)
{
    (void)state;
    char *dir = ms_test_dir("eval");
    make_world(dir, 1, 1);
    json_t *root = eval_json(dir);
    assert_int_equal(json_array_size(root), 4); /* three patterns and overall */

    json_t *o = row(root, "overall");
    assert_int_equal(json_integer_value(json_object_get(o, "k")), 3);
    near(prec(o, "sweep"), 1.0);
    near(prec(o, "screen"), 2.0 / 3);
    near(prec(o, "baseline"), 1.0 / 3);
    near(json_real_value(json_object_get(json_object_get(o, "sweep"), "auc")), 1.0);
    near(json_real_value(json_object_get(json_object_get(o, "screen"), "auc")), 16.0 / 21);
    json_t *p99 = json_object_get(o, "screen_p99");
    near(json_real_value(json_object_get(p99, "false_hosp")), 16.2 / sqrt(41.96));
    near(json_real_value(json_object_get(p99, "overload")), 0);
    assert_int_equal(json_integer_value(json_object_get(o, "screen_groups")), 1);

    json_t *r = row(root, "overlapping_stay");
    near(prec(r, "sweep"), 1), near(prec(r, "screen"), 1), near(prec(r, "baseline"), 0);
    assert_string_equal(json_string_value(json_object_get(r, "model")), "false_hosp");
    r = row(root, "upcoding");
    near(prec(r, "sweep"), 1), near(prec(r, "screen"), 0), near(prec(r, "baseline"), 0);
    near(prec(json_object_get(r, "model_list"), "sweep"), 1);
    r = row(root, "doctor_overload");
    near(prec(r, "sweep"), 1), near(prec(r, "screen"), 0), near(prec(r, "baseline"), 0);
    assert_true(json_is_null(json_object_get(json_object_get(r, "model_list"), "sweep")));

    json_t *m = model(o, "false_hosp");
    assert_int_equal(json_integer_value(json_object_get(m, "k")), 1);
    near(prec(m, "sweep"), 0), near(prec(m, "screen"), 1);
    m = model(o, "upcoding");
    near(prec(m, "sweep"), 1), near(prec(m, "screen"), 0);
    m = model(o, "overload");
    assert_true(json_is_null(json_object_get(m, "sweep")));
    near(prec(m, "screen"), 0);
    assert_int_equal(json_array_size(json_object_get(o, "models")), 3); /* models without a planted pattern: none */

    json_t *h = json_object_get(o, "hard_negatives");
    assert_non_null(h);
    assert_int_equal(json_integer_value(json_object_get(h, "listed")), 5);
    assert_int_equal(json_integer_value(json_object_get(h, "without_data")), 1);
    assert_int_equal(json_integer_value(json_object_get(h, "k")), 3);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(h, "sweep"), "in_top_k")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(h, "screen"), "in_top_k")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(h, "baseline"), "in_top_k")), 2);
    json_t *kinds = json_object_get(json_object_get(h, "screen"), "kinds");
    assert_int_equal(json_integer_value(json_object_get(kinds, "tiny")), 1);
    assert_int_equal(json_integer_value(json_object_get(kinds, "tertiary")), 0);
    kinds = json_object_get(json_object_get(h, "baseline"), "kinds");
    assert_int_equal(json_integer_value(json_object_get(kinds, "tertiary")), 2);
    json_decref(root);

    /* The table says the same. */
    char *log = NULL;
    assert_int_equal(ms_test_cli(&log, "eval %s/out --truth %s/truth", dir, dir), 0);
    ms_test_contains(log, "overall                         3 |   1.000   1.000   1.000 |   0.667   0.667   0.762 |   "
                          "0.333   0.333");
    ms_test_contains(log, "false_hosp                      1 |   0.000   0.000");
    ms_test_contains(log, "overload                        1 |       -       -       - |   0.000");
    ms_test_contains(log, "hard negatives in the overall top 3 (5 listed, 1 without data):");
    ms_test_contains(log, "  simple screen    1  tiny 1\n");
    ms_test_contains(log, "  fund payment     2  tertiary 2\n");
    free(log);
    ms_remove_tree(dir);
    free(dir);
}

static void test_unlisted_institutions_are_one_group(void **state)
{
    (void)state;
    char *dir = ms_test_dir("eval-unlisted");
    make_world(dir, 0, 0);
    json_t *root = eval_json(dir);
    json_t *o = row(root, "overall");
    assert_int_equal(json_integer_value(json_object_get(o, "screen_groups")), 2);
    assert_null(json_object_get(o, "hard_negatives"));
    near(json_real_value(json_object_get(json_object_get(o, "screen_p99"), "false_hosp")),
         (10 - 10.0 / 7) / sqrt((pow(10 - 10.0 / 7, 2) + 6 * pow(10.0 / 7, 2)) / 7));
    near(prec(row(root, "overlapping_stay"), "screen"), 0); /* B first */
    near(prec(row(root, "overlapping_stay"), "sweep"), 1);
    assert_true(json_is_null(json_object_get(model(o, "false_hosp"), "sweep")));
    json_decref(root);
    char *log = NULL;
    assert_int_equal(ms_test_cli(&log, "eval %s/out --truth %s/truth", dir, dir), 0);
    if (strstr(log, "hard negatives")) fail_msg("hard negatives reported without the file:\n%s", log);
    free(log);
    assert_int_equal(ms_test_cli(&log, "eval --help"), 0);
    ms_test_contains(log, "(num + 30 p) / (den + 30)");
    free(log);
    ms_remove_tree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_hand_made_world),
                                       cmocka_unit_test(test_unlisted_institutions_are_one_group)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
