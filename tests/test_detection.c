/*
 * test_detection.c - end to end: a generated world at default intensity is
 * swept and evaluated against its truth (medsweep gen, sweep, eval).
 *
 * Every planted pattern must reach precision@K >= 0.9 (K = its planted
 * institutions; institutions planted with other patterns left out), in two
 * worlds.
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
#include "ms_testutil.h"

/* Sweep a generated world and read eval's JSON (the caller frees it). */
static json_t *sweep_and_eval(const char *dir, int seed, const char *gen_args)
{
    char world[700], out[700], *log = NULL;
    snprintf(world, sizeof world, "%s/world%d%s", dir, seed, gen_args[0] ? "h" : "");
    snprintf(out, sizeof out, "%s/sweep%d%s", dir, seed, gen_args[0] ? "h" : "");
    assert_int_equal(ms_test_cli(NULL, "gen --out %s --seed %d --quiet %s", world, seed, gen_args), 0);
    assert_int_equal(ms_test_cli(NULL, "sweep %s --out %s --quiet", world, out), 0);
    assert_int_equal(ms_test_cli(&log, "eval %s --truth %s/truth --json", out, world), 0);
    json_error_t err;
    json_t *root = json_loads(log, 0, &err);
    if (!root) print_error("not JSON: %s\n%s\n", err.text, log);
    assert_non_null(root);
    free(log);
    return root;
}

static double prec(const json_t *row, const char *ranking)
{
    return json_real_value(json_object_get(json_object_get(row, ranking), "precision_at_k"));
}

/* Without honest look-alikes every planted pattern is found. */
static void check_world(const char *dir, int seed)
{
    json_t *root = sweep_and_eval(dir, seed, "--hard-share 0");
    size_t i;
    json_t *row;
    int checked = 0;
    json_array_foreach(root, i, row) {
        const char *pattern = json_string_value(json_object_get(row, "pattern"));
        double sweep = prec(row, "sweep");
        print_message("  seed %d %-28s precision@K %.3f (fund-payment baseline %.3f)\n", seed, pattern, sweep,
                      prec(row, "baseline"));
        if (!strcmp(pattern, "overall")) continue;
        assert_true(sweep >= 0.9);
        checked++;
    }
    assert_int_equal(checked, 13);
    json_decref(root);
}

/* With them (the default world), the overall list beats the simple screen
 * and the fund-payment ranking, and no honest look-alike of any kind
 * reaches its top K. */
static void check_judgement(const char *dir, int seed)
{
    json_t *root = sweep_and_eval(dir, seed, "");
    size_t i;
    json_t *row, *overall = NULL;
    json_array_foreach(root, i, row)
        if (!strcmp(json_string_value(json_object_get(row, "pattern")), "overall")) overall = row;
    assert_non_null(overall);
    double engine = prec(overall, "sweep"), screen = prec(overall, "screen"), fund = prec(overall, "baseline");
    print_message("  seed %d overall precision@K: engine %.3f, simple screen %.3f, fund payment %.3f\n", seed, engine,
                  screen, fund);
    assert_true(engine >= screen);
    assert_true(engine > fund);
    /* Honest look-alikes of every kind are in the world, and none reaches
     * the engine's top K. */
    json_t *hard = json_object_get(overall, "hard_negatives");
    assert_non_null(hard);
    json_t *kinds = json_object_get(json_object_get(hard, "sweep"), "kinds");
    assert_int_equal(json_object_size(kinds), 9);
    print_message("  seed %d honest look-alikes in the engine's top %d: %lld of %lld\n", seed,
                  (int)json_integer_value(json_object_get(hard, "k")),
                  (long long)json_integer_value(json_object_get(json_object_get(hard, "sweep"), "in_top_k")),
                  (long long)json_integer_value(json_object_get(hard, "listed")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(hard, "sweep"), "in_top_k")), 0);
    json_decref(root);
}

static void test_planted_patterns_are_found(void **state)
{
    (void)state;
    char *dir = ms_test_dir("detection");
    check_world(dir, 1);
    check_world(dir, 2);
    check_judgement(dir, 1);
    check_judgement(dir, 2);
    ms_remove_tree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_planted_patterns_are_found)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
