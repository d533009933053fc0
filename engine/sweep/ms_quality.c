#include "ms_quality.h"

#include <stdlib.h>
#include <string.h>

#include "ms_kernels.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const char *const reject_names[MS_REJECT_COUNT] = {
    [MS_REJECT_UNKNOWN_INSTITUTION] = "unknown_institution",
    [MS_REJECT_UNKNOWN_CODE] = "unknown_code",
    [MS_REJECT_DATES_OUT_OF_ORDER] = "dates_out_of_order",
    [MS_REJECT_SUMS_DO_NOT_ADD_UP] = "sums_do_not_add_up",
    [MS_REJECT_NEGATIVE_AMOUNT] = "negative_amount",
};

const char *ms_reject_name(ms_reject_t r) { return (unsigned)r < MS_REJECT_COUNT ? reject_names[r] : "?"; }

#define BIT(c) (1ull << (c))

uint64_t ms_quality_columns(ms_table_id_t table)
{
    if (table == MS_TABLE_SETTLEMENTS)
        return BIT(MS_SC_inst_code) | BIT(MS_SC_diag_main) | BIT(MS_SC_group_code) | BIT(MS_SC_proc_main) |
               BIT(MS_SC_admit_date) | BIT(MS_SC_discharge_date) | BIT(MS_SC_settle_date) | BIT(MS_SC_total) |
               BIT(MS_SC_fund_pay) | BIT(MS_SC_self_pay) | BIT(MS_SC_drug) | BIT(MS_SC_exam) | BIT(MS_SC_lab) |
               BIT(MS_SC_consumable) | BIT(MS_SC_treatment) | BIT(MS_SC_surgery) | BIT(MS_SC_bed) |
               BIT(MS_SC_nursing) | BIT(MS_SC_other);
    if (table == MS_TABLE_SERVICE_ITEMS)
        return BIT(MS_SIC_inst_code) | BIT(MS_SIC_item_code) | BIT(MS_SIC_category) | BIT(MS_SIC_qty) |
               BIT(MS_SIC_unit_price) | BIT(MS_SIC_amount);
    return BIT(MS_DC_inst_code) | BIT(MS_DC_drug_code) | BIT(MS_DC_amount);
}

static int in_range(int32_t id, size_t n) { return id >= 0 && (size_t)id < n; }

/* 0 when the settlement row is sound, else 1 + its reason. */
static int check_settlement(const ms_refs_t *r, const ms_batch_t *b, size_t i)
{
#define C(name, type) (((const type *)b->col[MS_SC_##name])[i])
    if (!in_range(C(inst_code, int32_t), r->n_inst)) return 1 + MS_REJECT_UNKNOWN_INSTITUTION;
    int32_t g = C(group_code, int32_t), p = C(proc_main, int32_t);
    if (!in_range(C(diag_main, int32_t), r->diagnoses.count) || (g != -1 && !in_range(g, r->n_groups)) ||
        (p != -1 && !in_range(p, r->procedures.count)))
        return 1 + MS_REJECT_UNKNOWN_CODE;
    if (C(admit_date, int32_t) > C(discharge_date, int32_t) || C(discharge_date, int32_t) > C(settle_date, int32_t))
        return 1 + MS_REJECT_DATES_OUT_OF_ORDER;
    int64_t cat[MS_N_COST_CATEGORIES] = {C(drug, int64_t), C(exam, int64_t), C(lab, int64_t),
                                         C(consumable, int64_t), C(treatment, int64_t), C(surgery, int64_t),
                                         C(bed, int64_t), C(nursing, int64_t), C(other, int64_t)};
    int64_t sum = 0, pay, tot = C(total, int64_t), fund = C(fund_pay, int64_t), self = C(self_pay, int64_t);
    int negative = tot < 0 || fund < 0 || self < 0, overflow = 0;
    for (int k = 0; k < MS_N_COST_CATEGORIES; k++) {
        overflow |= __builtin_add_overflow(sum, cat[k], &sum);
        negative |= cat[k] < 0;
    }
    if (negative) return 1 + MS_REJECT_NEGATIVE_AMOUNT;
    /* Checked adds: parts whose exact sum exceeds int64 cannot add up to
     * a total that fits it (and a wrapped sum might equal it by chance).
     * A row kept here thus has parts >= 0 that add up exactly to its
     * total, so any sum of some of its parts (exam + lab, ...) fits int64
     * too: the models may add them without checks. */
    overflow |= __builtin_add_overflow(fund, self, &pay);
    if (overflow || sum != tot || pay != tot) return 1 + MS_REJECT_SUMS_DO_NOT_ADD_UP;
#undef C
    return 0;
}

static int check_drug(const ms_refs_t *r, const ms_batch_t *b, size_t i)
{
    if (!in_range(((const int32_t *)b->col[MS_DC_inst_code])[i], r->n_inst)) return 1 + MS_REJECT_UNKNOWN_INSTITUTION;
    if (!in_range(((const int32_t *)b->col[MS_DC_drug_code])[i], r->drugs.count)) return 1 + MS_REJECT_UNKNOWN_CODE;
    if (((const int64_t *)b->col[MS_DC_amount])[i] < 0) return 1 + MS_REJECT_NEGATIVE_AMOUNT;
    return 0;
}

/* A bill line: its institution and item known, its category one of the
 * nine, qty > 0 and price and amount >= 0 (a qty of 0 or less counts as a
 * negative amount). */
static int check_service(const ms_refs_t *r, const ms_batch_t *b, size_t i)
{
#define C(name, type) (((const type *)b->col[MS_SIC_##name])[i])
    if (!in_range(C(inst_code, int32_t), r->n_inst)) return 1 + MS_REJECT_UNKNOWN_INSTITUTION;
    if (!in_range(C(item_code, int32_t), r->items.count) || C(category, uint8_t) >= MS_N_COST_CATEGORIES)
        return 1 + MS_REJECT_UNKNOWN_CODE;
    if (C(qty, int64_t) <= 0 || C(unit_price, int64_t) < 0 || C(amount, int64_t) < 0)
        return 1 + MS_REJECT_NEGATIVE_AMOUNT;
#undef C
    return 0;
}

/* The screen: one branch-free pass per row over the columns, in column
 * arrays, that clears every row surely sound (the checks of
 * check_settlement with no early exit) and marks the rest for the exact
 * check, which names the reason (or finds the row sound after all: parts
 * of 2^58 fen or more are left to the checked adds).  Sound rows are the
 * rule, so the exact check runs on almost none. */
static int unsigned_below(int32_t v, size_t n) { return ((uint64_t)(uint32_t)v < (uint64_t)n) & (v >= 0); }

static size_t screen_settlements(const ms_refs_t *r, const ms_batch_t *b, uint8_t *mark)
{
#define COL(name, type) ((const type *)b->col[MS_SC_##name])
    const int32_t *inst = COL(inst_code, int32_t), *diag = COL(diag_main, int32_t), *grp = COL(group_code, int32_t),
                  *proc = COL(proc_main, int32_t), *adm = COL(admit_date, int32_t),
                  *dis = COL(discharge_date, int32_t), *set = COL(settle_date, int32_t);
    const int64_t *tot = COL(total, int64_t), *fund = COL(fund_pay, int64_t), *self = COL(self_pay, int64_t);
    const int64_t *c0 = COL(drug, int64_t), *c1 = COL(exam, int64_t), *c2 = COL(lab, int64_t),
                  *c3 = COL(consumable, int64_t), *c4 = COL(treatment, int64_t), *c5 = COL(surgery, int64_t),
                  *c6 = COL(bed, int64_t), *c7 = COL(nursing, int64_t), *c8 = COL(other, int64_t);
#undef COL
    size_t ni = r->n_inst, nd = r->diagnoses.count, ng = r->n_groups, np = r->procedures.count, flagged = 0;
    size_t i = 0;
#ifdef __SSE2__
    /* Four rows at a time, the same tests in SSE2 (codes and dates in 32-bit
     * lanes, money in 64-bit ones); counts past INT32_MAX take the loop. */
    if (ni <= INT32_MAX && nd <= INT32_MAX && ng <= INT32_MAX && np <= INT32_MAX) {
        const __m128i vni = _mm_set1_epi32((int)ni), vnd = _mm_set1_epi32((int)nd), vng = _mm_set1_epi32((int)ng),
                      vnp = _mm_set1_epi32((int)np), none = _mm_set1_epi32(-1);
        const int64_t *cat[9] = {c0, c1, c2, c3, c4, c5, c6, c7, c8};
        for (; i + 4 <= b->rows; i += 4) {
#define LD32(p) _mm_loadu_si128((const __m128i *)(const void *)((p) + i))
#define BELOW(v, n) _mm_and_si128(_mm_cmplt_epi32(v, n), _mm_cmpgt_epi32(v, none))
            __m128i g = LD32(grp), pr = LD32(proc), ad = LD32(adm), di = LD32(dis), se = LD32(set);
            __m128i ok = _mm_and_si128(BELOW(LD32(inst), vni), BELOW(LD32(diag), vnd));
            ok = _mm_and_si128(ok, _mm_or_si128(_mm_cmpeq_epi32(g, none), BELOW(g, vng)));
            ok = _mm_and_si128(ok, _mm_or_si128(_mm_cmpeq_epi32(pr, none), BELOW(pr, vnp)));
            ok = _mm_andnot_si128(_mm_cmpgt_epi32(ad, di), ok);
            ok = _mm_andnot_si128(_mm_cmpgt_epi32(di, se), ok);
#undef BELOW
#undef LD32
            __m128i ok64[2];
            for (int h = 0; h < 2; h++) {
#define LD64(p) _mm_loadu_si128((const __m128i *)(const void *)((p) + i + 2 * (size_t)h))
                __m128i t = LD64(tot), f = LD64(fund), sp = LD64(self);
                __m128i big = _mm_or_si128(t, _mm_or_si128(f, sp)), sum = _mm_setzero_si128();
                for (int k = 0; k < 9; k++) {
                    __m128i c = LD64(cat[k]);
                    big = _mm_or_si128(big, c);
                    sum = _mm_add_epi64(sum, c);
                }
#undef LD64
                /* 64-bit lanes equal: both 32-bit halves equal. */
                __m128i e = _mm_and_si128(_mm_cmpeq_epi32(sum, t), _mm_cmpeq_epi32(_mm_add_epi64(f, sp), t));
                e = _mm_and_si128(e, _mm_cmpeq_epi32(_mm_srli_epi64(big, 58), _mm_setzero_si128()));
                ok64[h] = _mm_and_si128(e, _mm_shuffle_epi32(e, _MM_SHUFFLE(2, 3, 0, 1)));
            }
            __m128 both = _mm_shuffle_ps(_mm_castsi128_ps(ok64[0]), _mm_castsi128_ps(ok64[1]), _MM_SHUFFLE(2, 0, 2, 0));
            int bits = _mm_movemask_ps(_mm_and_ps(_mm_castsi128_ps(ok), both));
            for (int k = 0; k < 4; k++) {
                int bad = !(bits >> k & 1);
                mark[i + (size_t)k] = (uint8_t)bad;
                flagged += (size_t)bad;
            }
        }
    }
#endif
    for (; i < b->rows; i++) {
        uint64_t big = (uint64_t)c0[i] | (uint64_t)c1[i] | (uint64_t)c2[i] | (uint64_t)c3[i] | (uint64_t)c4[i] |
                       (uint64_t)c5[i] | (uint64_t)c6[i] | (uint64_t)c7[i] | (uint64_t)c8[i] | (uint64_t)tot[i] |
                       (uint64_t)fund[i] | (uint64_t)self[i];
        /* Below 2^58 (and so not negative), nine parts add up without
         * overflow, in unsigned arithmetic as in signed. */
        uint64_t sum = (uint64_t)c0[i] + (uint64_t)c1[i] + (uint64_t)c2[i] + (uint64_t)c3[i] + (uint64_t)c4[i] +
                       (uint64_t)c5[i] + (uint64_t)c6[i] + (uint64_t)c7[i] + (uint64_t)c8[i];
        int ok = unsigned_below(inst[i], ni) & unsigned_below(diag[i], nd) &
                 ((grp[i] == -1) | unsigned_below(grp[i], ng)) & ((proc[i] == -1) | unsigned_below(proc[i], np)) &
                 (adm[i] <= dis[i]) & (dis[i] <= set[i]) & ((big >> 58) == 0) & (sum == (uint64_t)tot[i]) &
                 ((uint64_t)fund[i] + (uint64_t)self[i] == (uint64_t)tot[i]);
        mark[i] = (uint8_t)!ok;
        flagged += !ok;
    }
    return flagged;
}

static size_t screen_drugs(const ms_refs_t *r, const ms_batch_t *b, uint8_t *mark)
{
    const int32_t *inst = b->col[MS_DC_inst_code], *drug = b->col[MS_DC_drug_code];
    const int64_t *amount = b->col[MS_DC_amount];
    size_t ni = r->n_inst, nd = r->drugs.count, flagged = 0;
    for (size_t i = 0; i < b->rows; i++) {
        int ok = unsigned_below(inst[i], ni) & unsigned_below(drug[i], nd) & (amount[i] >= 0);
        mark[i] = (uint8_t)!ok;
        flagged += !ok;
    }
    return flagged;
}

static size_t screen_services(const ms_refs_t *r, const ms_batch_t *b, uint8_t *mark)
{
    const int32_t *inst = b->col[MS_SIC_inst_code], *item = b->col[MS_SIC_item_code];
    const uint8_t *cat = b->col[MS_SIC_category];
    const int64_t *qty = b->col[MS_SIC_qty], *price = b->col[MS_SIC_unit_price], *amount = b->col[MS_SIC_amount];
    size_t ni = r->n_inst, nit = r->items.count, flagged = 0;
    for (size_t i = 0; i < b->rows; i++) {
        int ok = unsigned_below(inst[i], ni) & unsigned_below(item[i], nit) & (cat[i] < MS_N_COST_CATEGORIES) &
                 (qty[i] > 0) & (price[i] >= 0) & (amount[i] >= 0);
        mark[i] = (uint8_t)!ok;
        flagged += !ok;
    }
    return flagged;
}

void ms_quality_reasons(const ms_refs_t *refs, ms_table_id_t table, const ms_batch_t *b, uint8_t *why, int ref)
{
    if (table == MS_TABLE_SERVICE_ITEMS) {
        size_t flagged = ref ? b->rows : screen_services(refs, b, why);
        for (size_t i = 0; flagged && i < b->rows; i++) {
            if (!ref && !why[i]) continue;
            why[i] = (uint8_t)check_service(refs, b, i);
            flagged--;
        }
        return;
    }
    int settlements = table == MS_TABLE_SETTLEMENTS;
    if (!ref) {
        size_t flagged = settlements ? screen_settlements(refs, b, why) : screen_drugs(refs, b, why);
        for (size_t i = 0; flagged && i < b->rows; i++) {
            if (!why[i]) continue;
            why[i] = (uint8_t)(settlements ? check_settlement(refs, b, i) : check_drug(refs, b, i));
            flagged--;
        }
        return;
    }
    for (size_t i = 0; i < b->rows; i++)
        why[i] = (uint8_t)(settlements ? check_settlement(refs, b, i) : check_drug(refs, b, i));
}

static ms_status_t grow(ms_quality_t *q, const ms_table_t *t, const ms_batch_t *b)
{
    if (b->rows > q->bad_cap) {
        uint8_t *nb = realloc(q->bad, b->rows);
        if (!nb) return ms_error_set(MS_E_NOMEM, "out of memory");
        q->bad = nb;
        q->bad_cap = b->rows;
    }
    if (b->rows <= q->cap) return MS_OK;
    for (int c = 0; c < t->ncols; c++) {
        free(q->buf[c]);
        q->buf[c] = NULL;
    }
    for (int c = 0; c < t->ncols; c++) {
        if (!b->col[c]) continue;
        q->buf[c] = malloc(b->rows * ms_ctype_size(t->cols[c].type));
        if (!q->buf[c]) return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    q->cap = b->rows;
    return MS_OK;
}

ms_status_t ms_quality_filter(ms_quality_t *q, const ms_refs_t *refs, ms_table_id_t table,
                              ms_batch_t *b, uint64_t rejected[MS_REJECT_COUNT])
{
    const ms_table_t *t = ms_table(table);
    size_t nbad = 0;
    MS_TRY(grow(q, t, b));
    ms_quality_reasons(refs, table, b, q->bad, ms_kernels() == ms_kernels_ref());
    for (size_t i = 0; i < b->rows; i++) {
        if (q->bad[i]) {
            rejected[q->bad[i] - 1]++;
            nbad++;
        }
    }
    if (nbad == 0) return MS_OK;
    /* Compact every column the batch carries.  The buffers are sized for a
     * whole batch, and a batch's columns never change within a sweep. */
    for (int c = 0; c < t->ncols; c++) {
        if (!b->col[c]) continue;
        if (!q->buf[c]) {
            q->buf[c] = malloc(q->cap * ms_ctype_size(t->cols[c].type));
            if (!q->buf[c]) return ms_error_set(MS_E_NOMEM, "out of memory");
        }
        size_t es = ms_ctype_size(t->cols[c].type), k = 0;
        const unsigned char *src = b->col[c];
        for (size_t i = 0; i < b->rows; i++)
            if (!q->bad[i]) memcpy(q->buf[c] + k++ * es, src + i * es, es);
        b->col[c] = q->buf[c];
    }
    b->rows -= nbad;
    return MS_OK;
}

void ms_quality_free(ms_quality_t *q)
{
    for (int c = 0; c < MS_MAX_COLUMNS; c++) free(q->buf[c]);
    free(q->bad);
    memset(q, 0, sizeof *q);
}
