/*
 * model_drugs.c - drug reselling and returned drugs (docs/models.md).
 *
 * Reads the drug_items table only (every line carries a 20-digit
 * traceability code: docs/schema.md), in two places:
 *
 *   batch    per line: the denominators (coded drug lines per institution),
 *            and one shuffle record per line keyed by its traceability code;
 *   person   a person's lines are contiguous (partitioned and sorted by
 *            person, date): per drug, the largest quantity bought in any
 *            window of window_days days and the institutions it was bought
 *            at, emitted as shuffle records keyed by the drug;
 *   reduce   two keyed aggregations:
 *              trace:  k0 = trace_hi, k1 = trace_lo, one record per line;
 *                      the value's first bytes are the date (sign-flipped,
 *                      big-endian) and the settle_id (big-endian), so values
 *                      arrive sorted by (date, settle_id): the first is the
 *                      legitimate sale, every later one a returned drug;
 *              hoard:  k0 = drug, k1 = 0, one record per (person, drug,
 *                      institution) for persons who bought the drug at
 *                      min_institutions or more institutions, and one record
 *                      per (person, drug) with no institution for the others
 *                      (they still count in the drug's percentile); the
 *                      value's first bytes are the person (big-endian) and
 *                      institution, so one person's records are adjacent.
 *
 * Definitions (also in the indicator descriptions):
 *   repeated_trace_code: a line whose code was settled earlier, anywhere;
 *     "earlier" orders sales by (date, settle_id): the first sale is
 *     legitimate, every later one is counted at the institution that made
 *     it (num += 1, a clue: its settle_id, person, date, line amount); den =
 *     the institution's coded drug lines.  Two lines of one code in one
 *     settlement: the second is a repeat too.
 *   first_sale_of_repeated_code (not scored): the first sale of every
 *     repeated code, a clue at the first seller, so that clues.csv holds
 *     both halves of the evidence; num = such first sales, den = lines.
 *   hoarding_buyer_share: for a person and a drug, max_qty = the largest
 *     sum of qty over lines dated in [d, d + window_days - 1] for any d
 *     (window_days = 30: days d and d+29 are in one window, d+30 is not).
 *     p = the drug's nearest-rank percentile (percentile, default 99) of
 *     max_qty over all its buyers nationwide: the value of rank
 *     ceil(percentile/100 x buyers) in ascending order.  A person hoards
 *     the drug when max_qty > multiple x p AND the person bought the drug
 *     at min_institutions or more distinct institutions over the whole
 *     period swept (the simpler exact reading: no window is singled out
 *     when several reach the maximum).  Per institution: num = its lines of
 *     a hoarded drug sold to its hoarder (over the whole period), den = its
 *     coded drug lines.  One clue per (hoarder, drug, institution): the
 *     first settlement in which the institution sold the drug to the
 *     person, its date, and the amount of all the person's lines of that
 *     drug there.
 * Amounts are the lines' amounts in fen (drug_items carry no fund payment).
 *
 * Exact and bounded: every record goes through the engine's shuffle,
 * which spills past the memory cap and gives the same answer whatever the
 * cap or threads.  A drug's hoard records are reduced as one key (all its
 * buyers: about one record per buyer).
 *
 * State: num and den per indicator and institution (int64, merged by
 * adding) and the clues (appended in merge order, sorted in finalize by
 * every field).  Reducing states start empty and only add counts and
 * clues.  save/load persist the map phase (den, and num/clues for
 * completeness): the shuffle is re-mapped on --resume.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ms_clues.h"
#include "ms_kernels.h"
#include "ms_model.h"
#include "ms_tally.h"

enum { I_REPEAT, I_FIRST, I_HOARD, I_COUNT };

static const ms_param_t hoard_params[] = {
    {
        .name = "window_days",
        .description = "days in the window over which a buyer's quantity of one drug is summed",
        .min = 7,
        .def = 30,
        .max = 365,
        .integer = 1,
    },
    {
        .name = "multiple",
        .description = "a buyer hoards when the window's quantity is above this multiple of the drug's percentile",
        .min = 1,
        .def = 3,
        .max = 100,
    },
    {
        .name = "percentile",
        .description = "percentile of the buyers' largest window quantities of the drug, nationwide",
        .min = 50,
        .def = 99,
        .max = 99.9,
    },
    {
        .name = "min_institutions",
        .description = "fewest distinct institutions the buyer bought the drug at (whole period)",
        .min = 1,
        .def = 3,
        .max = 20,
        .integer = 1,
    },
};

static const ms_indicator_t indicators[I_COUNT] = {
    [I_REPEAT] = {
        .name = "repeated_trace_code",
        .description = "share of coded drug lines whose traceability code was already settled earlier (by date, then "
                       "settlement id) anywhere in the dataset: returned drugs sold again",
        .kind = MS_IND_SHARE,
        .direction = +1,
        .reason = "drugs with a repeated traceability code",
        .impossible = 1,
        .facts = {{"trace_code", MS_FACT_TRACE}, {NULL, MS_FACT_NONE}, {"drug_code", MS_FACT_DRUG}},
        .other = "the first sale of the same code",
        .clue_date = "sale",
        .clue_record = "drug line",
    },
    [I_FIRST] = {
        .name = "first_sale_of_repeated_code",
        .description = "coded drug lines that were the first sale of a code settled again later (the other half of a "
                       "repeated_trace_code clue); not scored",
        .kind = MS_IND_INFO,
        .direction = +1,
        .reason = "first sales of codes sold again",
        .facts = {{"trace_code", MS_FACT_TRACE}, {NULL, MS_FACT_NONE}, {"drug_code", MS_FACT_DRUG}},
        .other = "the next sale of the same code",
        .clue_date = "sale",
        .clue_record = "drug line",
    },
    [I_HOARD] = {
        .name = "hoarding_buyer_share",
        .description = "share of coded drug lines sold to a buyer who hoards that drug: largest window quantity above "
                       "multiple x the drug's percentile over all its buyers, bought at min_institutions or more "
                       "institutions",
        .params = hoard_params,
        .nparams = 4,
        .kind = MS_IND_SHARE,
        .direction = +1,
        .reason = "drug sales to hoarding buyers",
        .facts = {{"drug_code", MS_FACT_DRUG}, {"buyer_max_quantity_in_window", MS_FACT_COUNT},
                  {"buyer_institutions", MS_FACT_COUNT}},
        .clue_date = "sale",
        .clue_record = "drug line",
    },
};

#define NO_INST UINT32_MAX

/* The keyed aggregations (keyed[] below). */
enum { K_TRACE, K_HOARD };

/* Values are sorted by their bytes: no implicit padding.  A trace record
 * travels for every drug line, so it is packed (36 bytes, 52 with its key). */
typedef struct {
    uint8_t sortkey[12]; /* date (sign-flipped) BE + settle_id BE */
    uint32_t inst;
    uint64_t person_id;
    int64_t amount;      /* the line's amount */
    int32_t drug;        /* the line's drug (a clue's fact) */
} __attribute__((packed)) trace_t;

typedef struct {
    uint8_t sortkey[12]; /* person_id BE + inst BE */
    uint32_t inst;       /* NO_INST: a percentile-only record */
    uint64_t settle_id;  /* the clue's: the first settlement the institution sold the drug to the person in */
    int64_t amount;      /* the person's lines of the drug at inst */
    uint64_t qty;        /* the person's max_qty of the drug */
    uint64_t lines;      /* the person's lines of the drug at inst */
    int32_t date;        /* the clue's date */
    uint32_t ninst;      /* distinct institutions */
} hoard_t;

_Static_assert(sizeof(trace_t) == 36, "trace_t is packed");
_Static_assert(sizeof(hoard_t) == 56, "hoard_t has no padding");

/* One line of a person, for the window scan. */
typedef struct {
    int32_t drug, date;
    uint32_t inst, qty;
    uint64_t settle_id;
    int64_t amount;
} line_t;

typedef struct {
    ms_tally_t t;       /* first: ms_tally_state_*; I_COUNT indicators */
    uint32_t n_inst;
    /* rules */
    int32_t window;
    double multiple, percentile;
    uint32_t min_inst;
    /* scratch, grown, never per row */
    line_t *lines, *sort_tmp;
    size_t lines_cap, sort_tmp_cap;
    uint64_t *maxima;
    size_t maxima_cap;
    int32_t *wday;      /* one drug's lines, for the window kernel */
    uint32_t *wqty;
    size_t wday_cap, wqty_cap;
} drugs_t;

static void drugs_free(void *state)
{
    drugs_t *s = state;
    if (!s) return;
    ms_tally_free(&s->t);
    free(s->lines), free(s->sort_tmp), free(s->maxima), free(s->wday), free(s->wqty);
    free(s);
}

static ms_status_t alloc_state(const ms_model_env_t *env, uint32_t n, void **state)
{
    drugs_t *s = calloc(1, sizeof *s);
    if (!s) return ms_error_set(MS_E_NOMEM, "drugs: out of memory");
    ms_status_t st = ms_tally_init(&s->t, n, I_COUNT);
    if (st != MS_OK) {
        drugs_free(s);
        return ms_error_wrap(st, "drugs: ");
    }
    s->n_inst = n;
    s->window = (int32_t)lround(ms_param(env, I_HOARD, 0));
    s->multiple = ms_param(env, I_HOARD, 1);
    s->percentile = ms_param(env, I_HOARD, 2);
    s->min_inst = (uint32_t)lround(ms_param(env, I_HOARD, 3));
    *state = s;
    return MS_OK;
}

static ms_status_t drugs_init(const ms_model_env_t *env, void **state)
{
    return alloc_state(env, (uint32_t)env->refs->n_inst, state);
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}

static ms_status_t drugs_batch(void *state, ms_table_id_t table, const ms_batch_t *b, ms_emit_t *emit)
{
    if (table != MS_TABLE_DRUG_ITEMS) return MS_OK;
    drugs_t *s = state;
    const int32_t *inst = ms_col(b, MS_DC_inst_code), *date = ms_col(b, MS_DC_date);
    const uint64_t *sid = ms_col(b, MS_DC_settle_id), *pid = ms_col(b, MS_DC_person_id);
    const uint64_t *hi = ms_col(b, MS_DC_trace_hi), *lo = ms_col(b, MS_DC_trace_lo);
    const int64_t *amount = ms_col(b, MS_DC_amount);
    const int32_t *drug = ms_col(b, MS_DC_drug_code);
    int64_t *den = ms_tally_den_of(&s->t, I_REPEAT);
    ms_kernels()->count_by_key(inst, b->rows, den);
    trace_t v;
    memset(&v, 0, sizeof v);
    for (size_t i = 0; i < b->rows; i++) {
        put_be32(v.sortkey, (uint32_t)date[i] ^ 0x80000000u);
        put_be64(v.sortkey + 4, sid[i]);
        v.person_id = pid[i];
        v.amount = amount[i];
        v.inst = (uint32_t)inst[i];
        v.drug = drug[i];
        MS_TRY(ms_emit(emit, K_TRACE, hi[i], lo[i], &v));
    }
    return MS_OK;
}

static int cmp_drug_date(const void *a, const void *b)
{
    const line_t *x = a, *y = b;
    if (x->drug != y->drug) return x->drug < y->drug ? -1 : 1;
    if (x->date != y->date) return x->date < y->date ? -1 : 1;
    return (x->settle_id > y->settle_id) - (x->settle_id < y->settle_id);
}

static int cmp_inst_date(const void *a, const void *b)
{
    const line_t *x = a, *y = b;
    if (x->inst != y->inst) return x->inst < y->inst ? -1 : 1;
    if (x->date != y->date) return x->date < y->date ? -1 : 1;
    return (x->settle_id > y->settle_id) - (x->settle_id < y->settle_id);
}

/* A person's lines in order (by drug, or by institution): most persons
 * have a few (4.5 on average), for which an insertion sort with the
 * comparison inlined is best; long histories (a chronic patient's year of
 * purchases, hundreds of lines) are merge-sorted, the comparison inlined
 * too (qsort's indirect calls took 11% of a sweep's instructions at
 * 420,000 institutions with 21 lines a person).  Both are stable, as
 * qsort's merge sort was (lines equal in the order are alike where it
 * matters: the window sums and the runs of an institution add the same);
 * tmp holds n / 2 lines. */
#define SHORT_SORT 32

static inline int line_cmp(const line_t *x, const line_t *y, int by_inst)
{
    return by_inst ? cmp_inst_date(x, y) : cmp_drug_date(x, y);
}

static void sort_lines(line_t *L, size_t n, int by_inst, line_t *tmp)
{
    if (n <= SHORT_SORT) {
        for (size_t i = 1; i < n; i++) {
            line_t x = L[i];
            size_t j = i;
            while (j > 0 && line_cmp(&L[j - 1], &x, by_inst) > 0) {
                L[j] = L[j - 1];
                j--;
            }
            L[j] = x;
        }
        return;
    }
    size_t h = n / 2;
    sort_lines(L, h, by_inst, tmp);
    sort_lines(L + h, n - h, by_inst, tmp);
    if (line_cmp(&L[h - 1], &L[h], by_inst) <= 0) return; /* already in order */
    /* The first half aside, merged back in front of the second (the
     * write position never passes the second half's read position). */
    memcpy(tmp, L, h * sizeof *L);
    size_t i = 0, j = h, o = 0;
    while (i < h && j < n) L[o++] = line_cmp(&L[j], &tmp[i], by_inst) < 0 ? L[j++] : tmp[i++];
    while (i < h) L[o++] = tmp[i++];
}

/* Rows [begin, end) are one person's: per drug, the window maximum and the
 * institutions, as hoard records. */
static ms_status_t drugs_person(void *state, ms_table_id_t table, const ms_batch_t *b, size_t begin, size_t end,
                                ms_emit_t *emit)
{
    if (table != MS_TABLE_DRUG_ITEMS || end == begin) return MS_OK;
    drugs_t *s = state;
    const int32_t *inst = ms_col(b, MS_DC_inst_code), *date = ms_col(b, MS_DC_date), *drug = ms_col(b, MS_DC_drug_code);
    const uint64_t *sid = ms_col(b, MS_DC_settle_id), *pid = ms_col(b, MS_DC_person_id);
    const uint32_t *qty = ms_col(b, MS_DC_qty);
    const int64_t *amount = ms_col(b, MS_DC_amount);
    size_t n = end - begin;
    MS_TRY(ms_grow(&s->lines, &s->lines_cap, n, sizeof *s->lines, 256));
    MS_TRY(ms_grow(&s->sort_tmp, &s->sort_tmp_cap, n / 2 + 1, sizeof *s->sort_tmp, 256));
    line_t *L = s->lines;
    for (size_t i = 0; i < n; i++)
        L[i] = (line_t){drug[begin + i], date[begin + i], (uint32_t)inst[begin + i], qty[begin + i],
                        sid[begin + i], amount[begin + i]};
    sort_lines(L, n, 0, s->sort_tmp);
    uint64_t person = pid[begin];
    for (size_t a = 0; a < n;) {
        size_t e = a;
        while (e < n && L[e].drug == L[a].drug) e++;
        /* Largest qty over [d, d + window - 1]: the window ending at each
         * line's date, lines dated <= date - window leave it. */
        MS_TRY(ms_grow(&s->wday, &s->wday_cap, e - a, sizeof *s->wday, 256));
        MS_TRY(ms_grow(&s->wqty, &s->wqty_cap, e - a, sizeof *s->wqty, 256));
        for (size_t i = a; i < e; i++) s->wday[i - a] = L[i].date, s->wqty[i - a] = L[i].qty;
        uint64_t best = ms_kernels()->window_max_sum(s->wday, s->wqty, e - a, s->window);
        sort_lines(L + a, e - a, 1, s->sort_tmp);
        uint32_t ninst = 0;
        for (size_t i = a; i < e; i++) ninst += i == a || L[i].inst != L[i - 1].inst;
        hoard_t v;
        memset(&v, 0, sizeof v);
        v.qty = best;
        v.ninst = ninst;
        put_be64(v.sortkey, person);
        uint64_t k0 = (uint32_t)L[a].drug;
        if (ninst < s->min_inst) {
            /* Cannot hoard: only its maximum counts, in the percentile. */
            v.inst = NO_INST;
            put_be32(v.sortkey + 8, NO_INST);
            MS_TRY(ms_emit(emit, K_HOARD, k0, 0, &v));
        } else {
            for (size_t i = a; i < e;) {
                size_t j = i;
                int64_t amt = 0;
                while (j < e && L[j].inst == L[i].inst) amt += L[j++].amount;
                v.inst = L[i].inst;
                put_be32(v.sortkey + 8, L[i].inst);
                v.settle_id = L[i].settle_id;
                v.date = L[i].date;
                v.amount = amt;
                v.lines = j - i;
                MS_TRY(ms_emit(emit, K_HOARD, k0, 0, &v));
                i = j;
            }
        }
        a = e;
    }
    return MS_OK;
}

static int32_t sale_date(const trace_t *v) { return (int32_t)(get_be32(v->sortkey) ^ 0x80000000u); }

static ms_status_t reduce_trace(void *state, uint64_t k0, uint64_t k1, const void *vals, size_t n)
{
    drugs_t *s = state;
    const unsigned char *values = vals;
    if (n < 2) return MS_OK;
    /* Sales in order: the first one is the other half of every repeat's
     * evidence, and the second the other half of the first's. */
    trace_t first, second;
    memcpy(&first, values, sizeof first);
    memcpy(&second, values + sizeof second, sizeof second);
    for (size_t i = 0; i < n; i++) {
        trace_t v;
        memcpy(&v, values + i * sizeof v, sizeof v);
        if (v.inst >= s->n_inst) return ms_error_set(MS_E_INTERNAL, "sale at unknown institution %u", v.inst);
        int ind = i == 0 ? I_FIRST : I_REPEAT;
        (*ms_tally_num(&s->t, ind, v.inst))++;
        const trace_t *o = i == 0 ? &second : &first;
        ms_clue_t c = ms_clue(get_be64(v.sortkey + 4), v.person_id, v.inst, ind, sale_date(&v), v.amount);
        ms_clue_other(&c, get_be64(o->sortkey + 4), o->inst, sale_date(o), o->amount);
        c.fact[0] = (int64_t)k0;
        c.fact[1] = (int64_t)k1;
        c.fact[2] = v.drug;
        MS_TRY(ms_clues_add(&s->t.clues, &c));
    }
    return MS_OK;
}

/* A code sold once is no repeat. */
static size_t trace_floor(const void *state, uint64_t k0, uint64_t k1)
{
    (void)state, (void)k0, (void)k1;
    return 1;
}

/* The key of every line drugs_batch emits: its traceability code. */
static size_t trace_keys(const ms_batch_t *b, uint64_t *k0, uint64_t *k1)
{
    memcpy(k0, ms_col(b, MS_DC_trace_hi), b->rows * sizeof *k0);
    memcpy(k1, ms_col(b, MS_DC_trace_lo), b->rows * sizeof *k1);
    return b->rows;
}

static ms_status_t reduce_hoard(void *state, uint64_t k0, uint64_t k1, const void *vals, size_t n)
{
    (void)k1;
    drugs_t *s = state;
    const unsigned char *values = vals;
    /* The buyers' maxima: one per person (a person's records are adjacent). */
    size_t m = 0;
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        hoard_t v;
        memcpy(&v, values + i * sizeof v, sizeof v);
        uint64_t p = get_be64(v.sortkey);
        if (i > 0 && p == prev) continue;
        prev = p;
        MS_TRY(ms_grow(&s->maxima, &s->maxima_cap, m + 1, sizeof *s->maxima, 1024));
        s->maxima[m++] = v.qty;
    }
    if (m == 0) return MS_OK;
    /* Nearest rank: ceil(percentile / 100 x m), 1-based; in integers of
     * thousandths so that 99 x 100 buyers is exactly rank 99. */
    uint64_t per_mille = (uint64_t)llround(s->percentile * 1000.0);
    uint64_t rank = ((uint64_t)m * per_mille + 99999) / 100000;
    if (rank < 1) rank = 1;
    if (rank > m) rank = m;
    double limit = s->multiple * (double)ms_kernels()->rank_u64(s->maxima, m, rank);
    for (size_t i = 0; i < n; i++) {
        hoard_t v;
        memcpy(&v, values + i * sizeof v, sizeof v);
        if (v.inst == NO_INST || v.ninst < s->min_inst || !((double)v.qty > limit)) continue;
        if (v.inst >= s->n_inst) return ms_error_set(MS_E_INTERNAL, "sale at unknown institution %u", v.inst);
        *ms_tally_num(&s->t, I_HOARD, v.inst) += (int64_t)v.lines;
        ms_clue_t c = ms_clue(v.settle_id, get_be64(v.sortkey), v.inst, I_HOARD, v.date, v.amount);
        c.fact[0] = (int64_t)k0;
        c.fact[1] = (int64_t)v.qty;
        c.fact[2] = (int64_t)v.ninst;
        MS_TRY(ms_clues_add(&s->t.clues, &c));
    }
    return MS_OK;
}

static ms_status_t drugs_finalize(void *state, const ms_model_env_t *env, ms_model_result_t *res)
{
    (void)env;
    drugs_t *s = state;
    uint32_t n = s->n_inst;
    MS_TRY(ms_tally_finalize(&s->t, res, 0));
    /* Every indicator is a share of the traced lines. */
    for (int ind = 0; ind < I_COUNT; ind++)
        if (ind != I_REPEAT) memcpy(res->den + (size_t)ind * n, res->den + (size_t)I_REPEAT * n, n * sizeof *res->den);
    return MS_OK;
}

static const ms_keyed_t keyed[] = {
    [K_TRACE] = {.name = "trace",
                 .value_size = sizeof(trace_t),
                 .reduce = reduce_trace,
                 .per_drug_item = 1,
                 .floor = trace_floor,
                 .key_table = MS_TABLE_DRUG_ITEMS,
                 .key_cols = 1ull << MS_DC_trace_hi | 1ull << MS_DC_trace_lo,
                 .keys = trace_keys},
    [K_HOARD] = {.name = "hoard", .value_size = sizeof(hoard_t), .reduce = reduce_hoard, .per_drug_item = 0.25},
};

const ms_model_t ms_model_drugs = {
    .name = "drugs",
    .version = "3", /* 2: two keyed aggregations instead of one tagged shuffle;
                       3: clues carry their evidence (counterpart and facts) */
    .description = "drug reselling and returned drugs: repeated traceability codes and hoarding buyers",
    .settlement_cols = 0,
    .drug_cols = 1ull << MS_DC_settle_id | 1ull << MS_DC_person_id | 1ull << MS_DC_inst_code |
                 1ull << MS_DC_date | 1ull << MS_DC_drug_code | 1ull << MS_DC_trace_hi | 1ull << MS_DC_trace_lo |
                 1ull << MS_DC_qty | 1ull << MS_DC_amount,
    .indicators = indicators,
    .nindicators = I_COUNT,
    .keyed = keyed,
    .nkeyed = 2,
    .default_weight = 1,
    .init = drugs_init,
    .batch = drugs_batch,
    .person = drugs_person,
    .merge = ms_tally_state_merge,
    .save = ms_tally_state_save,
    .load = ms_tally_state_load,
    .finalize = drugs_finalize,
    .free = drugs_free,
};
