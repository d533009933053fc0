/*
 * test_quality.c - the data-quality screen (a branch-free pass over the
 * column arrays) names the same reason for every row as the reference
 * (every check of a row in turn), on random rows and on rows at every edge
 * of every check: codes at 0, at the end of their range, one past it, -1
 * and INT32_MIN; dates equal and one apart; amounts of 0, 2^58 - 1, 2^58,
 * INT64_MAX and negative; parts whose exact sum overflows int64 or wraps
 * to the total; one row, empty batches and every length up to 70.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ms_quality.h"
#include "ms_testutil.h"

enum { N_INST = 50, N_DIAG = 40, N_GROUPS = 30, N_PROC = 20, N_DRUGS = 60, N_ITEMS = 45, ROWS = 70 };

static ms_refs_t fake_refs(void)
{
    ms_refs_t r;
    memset(&r, 0, sizeof r);
    r.n_inst = N_INST;
    r.diagnoses.count = N_DIAG;
    r.n_groups = N_GROUPS;
    r.procedures.count = N_PROC;
    r.drugs.count = N_DRUGS;
    r.items.count = N_ITEMS;
    return r;
}

/* A code: mostly in range, else at or past an edge. */
static int32_t code(uint64_t *s, int32_t n, int may_be_none)
{
    static const int32_t edge[] = {0, 1, -1, INT32_MIN, INT32_MAX};
    switch (ms_test_below(s, 12)) {
    case 0: return edge[ms_test_below(s, 5)];
    case 1: return n - 1;
    case 2: return n;
    case 3: return may_be_none ? -1 : n + 1;
    default: return (int32_t)ms_test_below(s, (uint64_t)n);
    }
}

/* An amount: mostly small, else at or past the screen's limits. */
static int64_t amount(uint64_t *s)
{
    static const int64_t edge[] = {0, 1, -1, (1ll << 58) - 1, 1ll << 58, INT64_MAX, INT64_MIN, INT64_MAX / 9 + 1};
    if (ms_test_below(s, 10) == 0) return edge[ms_test_below(s, 8)];
    return (int64_t)ms_test_below(s, 100000);
}

typedef struct {
    int32_t inst[ROWS], diag[ROWS], grp[ROWS], proc[ROWS], adm[ROWS], dis[ROWS], set[ROWS];
    int64_t cat[MS_N_COST_CATEGORIES][ROWS], tot[ROWS], fund[ROWS], self[ROWS];
} rows_t;

static void make_settlements(rows_t *r, uint64_t *s)
{
    for (int i = 0; i < ROWS; i++) {
        r->inst[i] = code(s, N_INST, 0);
        r->diag[i] = code(s, N_DIAG, 0);
        r->grp[i] = code(s, N_GROUPS, 1);
        r->proc[i] = code(s, N_PROC, 1);
        r->adm[i] = 20000 + (int32_t)ms_test_below(s, 3);
        r->dis[i] = 20000 + (int32_t)ms_test_below(s, 3);
        r->set[i] = 20000 + (int32_t)ms_test_below(s, 3);
        uint64_t sum = 0;
        for (int k = 0; k < MS_N_COST_CATEGORIES; k++) {
            r->cat[k][i] = amount(s);
            sum += (uint64_t)r->cat[k][i];
        }
        /* Most rows add up (in wrapping arithmetic too: a wrapped sum equal
         * to the total must still be refused); some are one fen off. */
        r->tot[i] = ms_test_below(s, 8) ? (int64_t)sum : amount(s);
        r->fund[i] = ms_test_below(s, 8) ? r->tot[i] / 2 : amount(s);
        r->self[i] = ms_test_below(s, 8) ? (int64_t)((uint64_t)r->tot[i] - (uint64_t)r->fund[i]) : amount(s);
    }
}

static ms_batch_t settlement_batch(rows_t *r, size_t from, size_t n)
{
    ms_batch_t b;
    memset(&b, 0, sizeof b);
    b.rows = n;
    b.col[MS_SC_inst_code] = r->inst + from;
    b.col[MS_SC_diag_main] = r->diag + from;
    b.col[MS_SC_group_code] = r->grp + from;
    b.col[MS_SC_proc_main] = r->proc + from;
    b.col[MS_SC_admit_date] = r->adm + from;
    b.col[MS_SC_discharge_date] = r->dis + from;
    b.col[MS_SC_settle_date] = r->set + from;
    b.col[MS_SC_total] = r->tot + from;
    b.col[MS_SC_fund_pay] = r->fund + from;
    b.col[MS_SC_self_pay] = r->self + from;
    static const int cats[MS_N_COST_CATEGORIES] = {MS_SC_drug,      MS_SC_exam,    MS_SC_lab,
                                                   MS_SC_consumable, MS_SC_treatment, MS_SC_surgery,
                                                   MS_SC_bed,       MS_SC_nursing, MS_SC_other};
    for (int k = 0; k < MS_N_COST_CATEGORIES; k++) b.col[cats[k]] = r->cat[k] + from;
    return b;
}

static void same_reasons(const ms_refs_t *refs, ms_table_id_t t, const ms_batch_t *b, int *seen)
{
    uint8_t fast[ROWS + 1], ref[ROWS + 1];
    memset(fast, 0xee, sizeof fast);
    memset(ref, 0xee, sizeof ref);
    ms_quality_reasons(refs, t, b, fast, 0);
    ms_quality_reasons(refs, t, b, ref, 1);
    assert_memory_equal(fast, ref, b->rows);
    assert_int_equal(fast[b->rows], 0xee); /* nothing written past the batch */
    for (size_t i = 0; i < b->rows; i++) seen[ref[i]] = 1;
}

static void test_settlements(void **state)
{
    (void)state;
    ms_refs_t refs = fake_refs();
    uint64_t s = 12345;
    int seen[MS_REJECT_COUNT + 1] = {0};
    rows_t *r = malloc(sizeof *r);
    assert_non_null(r);
    for (int round = 0; round < 400; round++) {
        make_settlements(r, &s);
        for (size_t n = 0; n <= ROWS; n += 1 + (n > 8) * 6) {
            ms_batch_t b = settlement_batch(r, 0, n);
            same_reasons(&refs, MS_TABLE_SETTLEMENTS, &b, seen);
        }
        ms_batch_t tail = settlement_batch(r, ROWS - 1, 1);
        same_reasons(&refs, MS_TABLE_SETTLEMENTS, &tail, seen);
    }
    free(r);
    /* Every verdict came up, so every check was compared. */
    for (int k = 0; k <= MS_REJECT_COUNT; k++) {
        if (!seen[k]) print_error("settlement verdict %d never came up\n", k);
        assert_true(seen[k]);
    }
}

static void test_drug_items(void **state)
{
    (void)state;
    ms_refs_t refs = fake_refs();
    uint64_t s = 777;
    int seen[MS_REJECT_COUNT + 1] = {0};
    int32_t inst[ROWS], drug[ROWS];
    int64_t amt[ROWS];
    for (int round = 0; round < 400; round++) {
        for (int i = 0; i < ROWS; i++) {
            inst[i] = code(&s, N_INST, 0);
            drug[i] = code(&s, N_DRUGS, 0);
            amt[i] = amount(&s);
        }
        for (size_t n = 0; n <= ROWS; n++) {
            ms_batch_t b;
            memset(&b, 0, sizeof b);
            b.rows = n;
            b.col[MS_DC_inst_code] = inst;
            b.col[MS_DC_drug_code] = drug;
            b.col[MS_DC_amount] = amt;
            same_reasons(&refs, MS_TABLE_DRUG_ITEMS, &b, seen);
        }
    }
    assert_true(seen[0]);
    assert_true(seen[1 + MS_REJECT_UNKNOWN_INSTITUTION]);
    assert_true(seen[1 + MS_REJECT_UNKNOWN_CODE]);
    assert_true(seen[1 + MS_REJECT_NEGATIVE_AMOUNT]);
}

/* Bill lines: institution, item and category known; qty > 0, price and
 * amount >= 0. */
static void test_service_items(void **state)
{
    (void)state;
    ms_refs_t refs = fake_refs();
    uint64_t s = 4242;
    int seen[MS_REJECT_COUNT + 1] = {0};
    int32_t inst[ROWS], item[ROWS];
    uint8_t cat[ROWS];
    int64_t qty[ROWS], price[ROWS], amt[ROWS];
    for (int round = 0; round < 400; round++) {
        for (int i = 0; i < ROWS; i++) {
            inst[i] = code(&s, N_INST, 0);
            item[i] = code(&s, N_ITEMS, 0);
            cat[i] = (uint8_t)(ms_test_below(&s, 20) ? ms_test_below(&s, MS_N_COST_CATEGORIES) : ms_test_below(&s, 256));
            qty[i] = ms_test_below(&s, 10) ? 1 + amount(&s) % 100000 : amount(&s);
            price[i] = amount(&s);
            amt[i] = amount(&s);
        }
        for (size_t n = 0; n <= ROWS; n++) {
            ms_batch_t b;
            memset(&b, 0, sizeof b);
            b.rows = n;
            b.col[MS_SIC_inst_code] = inst;
            b.col[MS_SIC_item_code] = item;
            b.col[MS_SIC_category] = cat;
            b.col[MS_SIC_qty] = qty;
            b.col[MS_SIC_unit_price] = price;
            b.col[MS_SIC_amount] = amt;
            same_reasons(&refs, MS_TABLE_SERVICE_ITEMS, &b, seen);
        }
    }
    assert_true(seen[0]);
    assert_true(seen[1 + MS_REJECT_UNKNOWN_INSTITUTION]);
    assert_true(seen[1 + MS_REJECT_UNKNOWN_CODE]);
    assert_true(seen[1 + MS_REJECT_NEGATIVE_AMOUNT]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settlements),
        cmocka_unit_test(test_drug_items),
        cmocka_unit_test(test_service_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
