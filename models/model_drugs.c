/*
 * model_drugs.c - drug reselling and returned drugs (MODELS.md section 4).
 *
 * Reads the drug_items table only (every line carries a 20-digit
 * traceability code: DATA.md), in two places:
 *
 *   batch    per line: the denominators (coded drug lines per institution),
 *            and one shuffle record per line keyed by its traceability code;
 *   person   a person's lines are contiguous (partitioned and sorted by
 *            person, date): per drug, the largest quantity bought in any
 *            window of window_days days and the institutions it was bought
 *            at, emitted as shuffle records keyed by the drug;
 *   reduce   two kinds of keyed records share the model's one shuffle, told
 *            apart by the high bit of k0 (and a tag in the value):
 *              trace:  k0 = trace_hi, k1 = trace_lo (trace_hi < 10^10, so
 *                      its high bit is clear); the value's first bytes are
 *                      the date (sign-flipped, big-endian) and the
 *                      settle_id (big-endian), so values arrive sorted by
 *                      (date, settle_id): the first is the legitimate sale,
 *                      every later one a returned drug;
 *              hoard:  k0 = drug | 1 << 63, k1 = 0, one record per
 *                      (person, drug, institution) for persons who bought
 *                      the drug at min_institutions or more institutions,
 *                      and one record per (person, drug) with no
 *                      institution for the others (they still count in the
 *                      drug's percentile); the value's first bytes are the
 *                      person (big-endian) and institution, so one person's
 *                      records are adjacent.
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
    {"window_days", "days in the window over which a buyer's quantity of one drug is summed", 7, 30, 365,
     MS_PARAM_NUMBER, NULL},
    {"multiple", "a buyer hoards when the window's quantity is above this multiple of the drug's percentile", 1, 3,
     100, MS_PARAM_NUMBER, NULL},
    {"percentile", "percentile of the buyers' largest window quantities of the drug, nationwide", 50, 99, 99.9,
     MS_PARAM_NUMBER, NULL},
    {"min_institutions", "fewest distinct institutions the buyer bought the drug at (whole period)", 1, 3, 20,
     MS_PARAM_NUMBER, NULL},
};

static const ms_indicator_t indicators[I_COUNT] = {
    [I_REPEAT] = {"repeated_trace_code",
                  "share of coded drug lines whose traceability code was already settled earlier (by date, then "
                  "settlement id) anywhere in the dataset: returned drugs sold again",
                  NULL, 0, MS_IND_SHARE, +1, "drugs with a repeated traceability code", 0, 1},
    [I_FIRST] = {"first_sale_of_repeated_code",
                 "coded drug lines that were the first sale of a code settled again later (the other half of a "
                 "repeated_trace_code clue); not scored",
                 NULL, 0, MS_IND_INFO, +1, "first sales of codes sold again", 0, 0},
    [I_HOARD] = {"hoarding_buyer_share",
                 "share of coded drug lines sold to a buyer who hoards that drug: largest window quantity above "
                 "multiple x the drug's percentile over all its buyers, bought at min_institutions or more "
                 "institutions",
                 hoard_params, 4, MS_IND_SHARE, +1, "drug sales to hoarding buyers", 0, 0},
};

#define HOARD_KEY (1ull << 63)
#define NO_INST UINT32_MAX

enum { TAG_TRACE = 1, TAG_HOARD = 2 };

/* A shuffle record (64 bytes, no implicit padding: values are sorted by
 * their bytes).  sortkey: trace = date (sign-flipped) BE + settle_id BE;
 * hoard = person_id BE + inst BE. */
typedef struct {
    uint8_t sortkey[12];
    uint32_t tag;
    uint64_t id;        /* trace: person_id; hoard: the clue's settle_id */
    int64_t amount;     /* trace: the line's amount; hoard: the person's lines of the drug at inst */
    uint64_t qty;       /* hoard: the person's max_qty of the drug */
    uint64_t lines;     /* hoard: the person's lines of the drug at inst */
    uint32_t inst;      /* NO_INST: a percentile-only hoard record */
    int32_t date;       /* trace: the sale's date; hoard: the clue's date */
    uint32_t ninst;     /* hoard: distinct institutions */
    uint32_t zero;
} value_t;

_Static_assert(sizeof(value_t) == 64, "value_t has no padding");

/* One line of a person, for the window scan. */
typedef struct {
    int32_t drug, date;
    uint32_t inst, qty;
    uint64_t settle_id;
    int64_t amount;
} line_t;

typedef struct {
    uint32_t n_inst;
    ms_tally_t t;       /* I_COUNT indicators */
    /* rules */
    int32_t window;
    double multiple, percentile;
    uint32_t min_inst;
    /* scratch, grown, never per row */
    line_t *lines;
    size_t lines_cap;
    uint64_t *maxima;
    size_t maxima_cap;
} drugs_t;

static void drugs_free(void *state)
{
    drugs_t *s = state;
    if (!s) return;
    ms_tally_free(&s->t);
    free(s->lines), free(s->maxima);
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
    const int32_t *inst = b->col[MS_DC_inst_code], *date = b->col[MS_DC_date];
    const uint64_t *sid = b->col[MS_DC_settle_id], *pid = b->col[MS_DC_person_id];
    const uint64_t *hi = b->col[MS_DC_trace_hi], *lo = b->col[MS_DC_trace_lo];
    const int64_t *amount = b->col[MS_DC_amount];
    int64_t *den = ms_tally_den_of(&s->t, I_REPEAT);
    ms_kernels()->count_by_key(inst, b->rows, den);
    value_t v;
    memset(&v, 0, sizeof v);
    v.tag = TAG_TRACE;
    for (size_t i = 0; i < b->rows; i++) {
        put_be32(v.sortkey, (uint32_t)date[i] ^ 0x80000000u);
        put_be64(v.sortkey + 4, sid[i]);
        v.id = pid[i];
        v.amount = amount[i];
        v.inst = (uint32_t)inst[i];
        v.date = date[i];
        if (hi[i] & HOARD_KEY) return ms_error_set(MS_E_INTERNAL, "drugs: traceability code out of range");
        MS_TRY(emit->emit(emit->impl, emit->tid, hi[i], lo[i], &v));
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

/* Rows [begin, end) are one person's: per drug, the window maximum and the
 * institutions, as hoard records. */
static ms_status_t drugs_person(void *state, ms_table_id_t table, const ms_batch_t *b, size_t begin, size_t end,
                                ms_emit_t *emit)
{
    if (table != MS_TABLE_DRUG_ITEMS || end == begin) return MS_OK;
    drugs_t *s = state;
    const int32_t *inst = b->col[MS_DC_inst_code], *date = b->col[MS_DC_date], *drug = b->col[MS_DC_drug_code];
    const uint64_t *sid = b->col[MS_DC_settle_id], *pid = b->col[MS_DC_person_id];
    const uint32_t *qty = b->col[MS_DC_qty];
    const int64_t *amount = b->col[MS_DC_amount];
    size_t n = end - begin;
    if (n > s->lines_cap) {
        size_t cap = s->lines_cap ? s->lines_cap : 256;
        while (cap < n) cap *= 2;
        line_t *l = realloc(s->lines, cap * sizeof *l);
        if (!l) return ms_error_set(MS_E_NOMEM, "drugs: out of memory");
        s->lines = l;
        s->lines_cap = cap;
    }
    line_t *L = s->lines;
    for (size_t i = 0; i < n; i++)
        L[i] = (line_t){drug[begin + i], date[begin + i], (uint32_t)inst[begin + i], qty[begin + i],
                        sid[begin + i], amount[begin + i]};
    qsort(L, n, sizeof *L, cmp_drug_date);
    uint64_t person = pid[begin];
    for (size_t a = 0; a < n;) {
        size_t e = a;
        while (e < n && L[e].drug == L[a].drug) e++;
        /* Largest qty over [d, d + window - 1]: the window ending at each
         * line's date, lines dated <= date - window leave it. */
        uint64_t sum = 0, best = 0;
        for (size_t r = a, l = a; r < e; r++) {
            sum += L[r].qty;
            while ((int64_t)L[l].date <= (int64_t)L[r].date - s->window) sum -= L[l++].qty;
            if (sum > best) best = sum;
        }
        qsort(L + a, e - a, sizeof *L, cmp_inst_date);
        uint32_t ninst = 0;
        for (size_t i = a; i < e; i++) ninst += i == a || L[i].inst != L[i - 1].inst;
        value_t v;
        memset(&v, 0, sizeof v);
        v.tag = TAG_HOARD;
        v.qty = best;
        v.ninst = ninst;
        put_be64(v.sortkey, person);
        uint64_t k0 = HOARD_KEY | (uint32_t)L[a].drug;
        if (ninst < s->min_inst) {
            /* Cannot hoard: only its maximum counts, in the percentile. */
            v.inst = NO_INST;
            put_be32(v.sortkey + 8, NO_INST);
            MS_TRY(emit->emit(emit->impl, emit->tid, k0, 0, &v));
        } else {
            for (size_t i = a; i < e;) {
                size_t j = i;
                int64_t amt = 0;
                while (j < e && L[j].inst == L[i].inst) amt += L[j++].amount;
                v.inst = L[i].inst;
                put_be32(v.sortkey + 8, L[i].inst);
                v.id = L[i].settle_id;
                v.date = L[i].date;
                v.amount = amt;
                v.lines = j - i;
                MS_TRY(emit->emit(emit->impl, emit->tid, k0, 0, &v));
                i = j;
            }
        }
        a = e;
    }
    return MS_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static ms_status_t reduce_trace(drugs_t *s, const unsigned char *values, size_t n)
{
    if (n < 2) return MS_OK;
    for (size_t i = 0; i < n; i++) {
        value_t v;
        memcpy(&v, values + i * sizeof v, sizeof v);
        if (v.tag != TAG_TRACE || v.inst >= s->n_inst)
            return ms_error_set(MS_E_INTERNAL, "drugs: shuffle record of the wrong kind for its key");
        int ind = i == 0 ? I_FIRST : I_REPEAT;
        (*ms_tally_num(&s->t, ind, v.inst))++;
        MS_TRY(ms_clues_push(&s->t.clues, get_be64(v.sortkey + 4), v.id, v.inst, ind, v.date, v.amount));
    }
    return MS_OK;
}

static ms_status_t reduce_hoard(drugs_t *s, const unsigned char *values, size_t n)
{
    /* The buyers' maxima: one per person (a person's records are adjacent). */
    size_t m = 0;
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        value_t v;
        memcpy(&v, values + i * sizeof v, sizeof v);
        if (v.tag != TAG_HOARD)
            return ms_error_set(MS_E_INTERNAL, "drugs: shuffle record of the wrong kind for its key");
        uint64_t p = get_be64(v.sortkey);
        if (i > 0 && p == prev) continue;
        prev = p;
        if (m == s->maxima_cap) {
            size_t cap = s->maxima_cap ? s->maxima_cap * 2 : 1024;
            uint64_t *q = realloc(s->maxima, cap * sizeof *q);
            if (!q) return ms_error_set(MS_E_NOMEM, "drugs: out of memory");
            s->maxima = q;
            s->maxima_cap = cap;
        }
        s->maxima[m++] = v.qty;
    }
    qsort(s->maxima, m, sizeof *s->maxima, cmp_u64);
    /* Nearest rank: ceil(percentile / 100 x m), 1-based; in integers of
     * thousandths so that 99 x 100 buyers is exactly rank 99. */
    uint64_t per_mille = (uint64_t)llround(s->percentile * 1000.0);
    uint64_t rank = ((uint64_t)m * per_mille + 99999) / 100000;
    if (rank < 1) rank = 1;
    if (rank > m) rank = m;
    double limit = s->multiple * (double)s->maxima[rank - 1];
    for (size_t i = 0; i < n; i++) {
        value_t v;
        memcpy(&v, values + i * sizeof v, sizeof v);
        if (v.inst == NO_INST || v.ninst < s->min_inst || !((double)v.qty > limit)) continue;
        if (v.inst >= s->n_inst) return ms_error_set(MS_E_INTERNAL, "drugs: shuffle record of unknown institution");
        *ms_tally_num(&s->t, I_HOARD, v.inst) += (int64_t)v.lines;
        MS_TRY(ms_clues_push(&s->t.clues, v.id, get_be64(v.sortkey), v.inst, I_HOARD, v.date, v.amount));
    }
    return MS_OK;
}

static ms_status_t drugs_reduce(void *state, uint64_t k0, uint64_t k1, const void *values, size_t n)
{
    (void)k1;
    if (!n) return MS_OK;
    return (k0 & HOARD_KEY) ? reduce_hoard(state, values, n) : reduce_trace(state, values, n);
}

static ms_status_t drugs_merge(void *into, const void *from)
{
    drugs_t *a = into;
    const drugs_t *b = from;
    ms_status_t st = ms_tally_merge(&a->t, &b->t);
    return st == MS_OK ? st : ms_error_wrap(st, "drugs: ");
}

/* Saved: the tally (ms_tally_save). */
static ms_status_t drugs_save(const void *state, ms_buf_t *out)
{
    const drugs_t *s = state;
    return ms_tally_save(&s->t, out);
}

static ms_status_t drugs_load(const ms_model_env_t *env, const void *data, size_t len, void **state)
{
    const unsigned char *p = data;
    size_t left = len;
    uint32_t n = (uint32_t)env->refs->n_inst;
    MS_TRY(alloc_state(env, n, state));
    drugs_t *s = *state;
    ms_status_t st = ms_tally_load(&s->t, &p, &left, n, I_COUNT);
    if (st == MS_OK && left) st = ms_error_set(MS_E_CORRUPT, "saved state does not fit this dataset");
    if (st != MS_OK) {
        drugs_free(s);
        *state = NULL;
        return ms_error_wrap(st, "drugs: ");
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
        memcpy(res->den + (size_t)ind * n, ms_tally_den_of(&s->t, I_REPEAT), n * sizeof *res->den);
    return MS_OK;
}

const ms_model_t ms_model_drugs = {
    .name = "drugs",
    .version = "1",
    .description = "drug reselling and returned drugs: repeated traceability codes and hoarding buyers",
    .settlement_cols = 0,
    .drug_cols = 1ull << MS_DC_settle_id | 1ull << MS_DC_person_id | 1ull << MS_DC_inst_code |
                 1ull << MS_DC_date | 1ull << MS_DC_drug_code | 1ull << MS_DC_trace_hi | 1ull << MS_DC_trace_lo |
                 1ull << MS_DC_qty | 1ull << MS_DC_amount,
    .indicators = indicators,
    .nindicators = I_COUNT,
    .shuffle_value_size = sizeof(value_t),
    .init = drugs_init,
    .batch = drugs_batch,
    .person = drugs_person,
    .merge = drugs_merge,
    .save = drugs_save,
    .load = drugs_load,
    .reduce = drugs_reduce,
    .finalize = drugs_finalize,
    .free = drugs_free,
};
