/*
 * test_pairs.c - models/ms_pairs: the dense and the sparse table give the
 * same counts, the same cells in the same order, and merge into each other,
 * on random and awkward input (empty tables, one row, ids at the edges).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ms_pairs.h"
#include "ms_testutil.h"

static void same_cells(const ms_pairs_t *a, const ms_pairs_t *b)
{
    ms_pair_cell_t *ca, *cb;
    size_t na, nb;
    assert_int_equal(ms_pairs_cells(a, &ca, &na), MS_OK);
    assert_int_equal(ms_pairs_cells(b, &cb, &nb), MS_OK);
    /* The sparse table lists pairs ever added, the dense one pairs whose
     * counts are not both zero: compare the latter. */
    size_t j = 0;
    for (size_t i = 0; i < nb; i++) {
        if (!cb[i].n[0] && !cb[i].n[1]) continue;
        assert_true(j < na);
        assert_true(ca[j].key == cb[i].key);
        assert_true(ca[j].n[0] == cb[i].n[0] && ca[j].n[1] == cb[i].n[1]);
        j++;
    }
    assert_int_equal(j, na);
    for (size_t i = 1; i < nb; i++) assert_true(cb[i - 1].key < cb[i].key);
    free(ca), free(cb);
}

static void fill(ms_pairs_t *p, uint64_t seed, uint32_t na, uint32_t nb, size_t rows)
{
    for (size_t r = 0; r < rows; r++) {
        uint32_t a = (uint32_t)ms_test_below(&seed, na), b = (uint32_t)ms_test_below(&seed, nb);
        int64_t n0 = (int64_t)ms_test_below(&seed, 5), n1 = (int64_t)ms_test_below(&seed, 3) - 1;
        assert_int_equal(ms_pairs_add(p, a, b, n0, n1), MS_OK);
    }
}

static void test_dense_and_sparse_agree(void **unused)
{
    (void)unused;
    const uint32_t shapes[][2] = {{1, 1}, {3, 1}, {1, 700}, {50, 37}, {1000, 64}};
    const size_t rows[] = {0, 1, 10, 5000};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
            uint32_t na = shapes[s][0], nb = shapes[s][1];
            ms_pairs_t dense, sparse;
            assert_int_equal(ms_pairs_init(&dense, na, nb, MS_PAIRS_DENSE_MAX), MS_OK);
            assert_int_equal(ms_pairs_init(&sparse, na, nb, 0), MS_OK);
            assert_non_null(dense.dense);
            assert_null(sparse.dense);
            fill(&dense, 7 + s, na, nb, rows[r]);
            fill(&sparse, 7 + s, na, nb, rows[r]);
            same_cells(&dense, &sparse);
            /* Every pair, including the corners, reads the same. */
            for (uint32_t a = 0; a < na; a += na > 10 ? na / 10 : 1) {
                for (uint32_t b = 0; b < nb; b += nb > 10 ? nb / 10 : 1) {
                    int64_t x[2], y[2];
                    ms_pairs_get(&dense, a, b, x);
                    ms_pairs_get(&sparse, a, b, y);
                    assert_true(x[0] == y[0] && x[1] == y[1]);
                }
            }
            int64_t x[2], y[2];
            ms_pairs_get(&dense, na - 1, nb - 1, x);
            ms_pairs_get(&sparse, na - 1, nb - 1, y);
            assert_true(x[0] == y[0] && x[1] == y[1]);
            ms_pairs_free(&dense);
            ms_pairs_free(&sparse);
        }
    }
}

/* Merging in any mix of representations gives the sum. */
static void test_merge_mixed(void **unused)
{
    (void)unused;
    const uint32_t na = 200, nb = 30;
    for (int mix = 0; mix < 4; mix++) {
        ms_pairs_t a, b, sum;
        assert_int_equal(ms_pairs_init(&a, na, nb, mix & 1 ? 0 : MS_PAIRS_DENSE_MAX), MS_OK);
        assert_int_equal(ms_pairs_init(&b, na, nb, mix & 2 ? 0 : MS_PAIRS_DENSE_MAX), MS_OK);
        assert_int_equal(ms_pairs_init(&sum, na, nb, MS_PAIRS_DENSE_MAX), MS_OK);
        fill(&a, 11, na, nb, 3000);
        fill(&b, 12, na, nb, 2000);
        fill(&sum, 11, na, nb, 3000);
        fill(&sum, 12, na, nb, 2000);
        assert_int_equal(ms_pairs_merge(&a, &b), MS_OK);
        same_cells(&sum, &a);
        ms_pairs_t other;
        assert_int_equal(ms_pairs_init(&other, na + 1, nb, 0), MS_OK);
        assert_int_equal(ms_pairs_merge(&a, &other), MS_E_INTERNAL);
        ms_pairs_free(&other);
        ms_pairs_free(&a), ms_pairs_free(&b), ms_pairs_free(&sum);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dense_and_sparse_agree),
        cmocka_unit_test(test_merge_mixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
