/*
 * test_clues.c - the order of the evidence (models/ms_clues.h).
 *
 * What must hold: ms_clues_sort (a radix sort on inst, indicator and
 * settle_id, then cmp_clue among clues that share those) leaves exactly
 * the array the reference (qsort with cmp_clue) leaves, byte for byte, on
 * random clues and on awkward ones: none, one, two; all identical; already
 * in order and in reverse; every key shared with the rest of the fields
 * differing (a long run to order among itself); the largest institution,
 * indicator and settlement id; settle ids that differ only in their top or
 * bottom byte.  Reducing threads meet clues in any order, so the sorted
 * array is what makes clues.csv the same whatever the thread count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ms_clues.h"
#include "ms_testutil.h"

/* Sort a copy both ways and compare them whole. */
static void check_same(const ms_clue_t *v, size_t n)
{
    ms_clues_t a = {0}, b = {0};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ms_clues_add(&a, &v[i]), MS_OK);
        assert_int_equal(ms_clues_add(&b, &v[i]), MS_OK);
    }
    ms_clues_sort(&a);
    ms_clues_sort_ref(&b);
    assert_int_equal(a.n, n);
    assert_int_equal(b.n, n);
    if (n) assert_memory_equal(a.v, b.v, n * sizeof *a.v);
    /* And it is an order: inst, indicator, settle_id never go down. */
    for (size_t i = 1; i < n; i++) {
        const ms_clue_t *x = &a.v[i - 1], *y = &a.v[i];
        assert_true(x->inst < y->inst ||
                    (x->inst == y->inst && (x->indicator < y->indicator ||
                                            (x->indicator == y->indicator && x->settle_id <= y->settle_id))));
    }
    ms_clues_free(&a);
    ms_clues_free(&b);
}

/* A clue with every field drawn from a few values (many ties) or from all. */
static ms_clue_t random_clue(uint64_t *rs, uint64_t spread)
{
    uint64_t r = spread ? spread : UINT64_MAX;
    ms_clue_t c = ms_clue(ms_test_below(rs, r), ms_test_below(rs, r),
                          (uint32_t)ms_test_below(rs, spread ? spread : 420000),
                          (int)ms_test_below(rs, spread ? spread : 16), (int32_t)ms_test_below(rs, 3) - 1,
                          (int64_t)ms_test_below(rs, r) - 1);
    if (ms_test_below(rs, 2))
        ms_clue_other(&c, ms_test_below(rs, r), (uint32_t)ms_test_below(rs, 5), (int32_t)ms_test_below(rs, 4),
                      (int64_t)ms_test_below(rs, 3));
    for (int k = 0; k < MS_CLUE_FACTS; k++) c.fact[k] = (int64_t)ms_test_below(rs, spread ? spread : 1000) - 2;
    return c;
}

static void test_random(void **state)
{
    (void)state;
    uint64_t rs = 42;
    const size_t sizes[] = {0, 1, 2, 3, 17, 1000, 50000};
    const uint64_t spreads[] = {0, 2, 3, 40};
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
        for (size_t pi = 0; pi < sizeof spreads / sizeof *spreads; pi++) {
            size_t n = sizes[si];
            ms_clue_t *v = malloc((n ? n : 1) * sizeof *v);
            assert_non_null(v);
            for (size_t i = 0; i < n; i++) v[i] = random_clue(&rs, spreads[pi]);
            check_same(v, n);
            free(v);
        }
}

static void test_awkward(void **state)
{
    (void)state;
    enum { N = 3000 };
    ms_clue_t *v = malloc(N * sizeof *v);
    assert_non_null(v);
    uint64_t rs = 7;
    /* All identical. */
    for (size_t i = 0; i < N; i++) v[i] = ms_clue(5, 6, 7, 1, 100, 9);
    check_same(v, N);
    /* One key, the rest differing: one long run ordered by cmp_clue alone. */
    for (size_t i = 0; i < N; i++) {
        v[i] = ms_clue(UINT64_MAX, ms_test_below(&rs, 50), UINT32_MAX - 1, 65535, (int32_t)ms_test_below(&rs, 9),
                       (int64_t)ms_test_below(&rs, 4));
        v[i].fact[MS_CLUE_FACTS - 1] = (int64_t)ms_test_below(&rs, 3) - 1;
    }
    check_same(v, N);
    /* In order, and in reverse. */
    for (size_t i = 0; i < N; i++) v[i] = ms_clue(i / 3, 0, (uint32_t)(i / 100), (int)(i / 10 % 10), 0, (int64_t)i);
    check_same(v, N);
    for (size_t i = 0; i < N; i++) v[i] = ms_clue(N - i, 0, (uint32_t)(N - i) / 100, 0, 0, 0);
    check_same(v, N);
    /* Settle ids apart only in their top byte or their bottom byte, at the
     * largest institution and indicator. */
    for (size_t i = 0; i < N; i++) {
        uint64_t id = i % 2 ? (uint64_t)ms_test_below(&rs, 256) << 56 : ms_test_below(&rs, 256);
        v[i] = ms_clue(id, i, i % 3 ? UINT32_MAX : 0, i % 5 ? 65535 : 0, 0, 0);
    }
    check_same(v, N);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_awkward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
