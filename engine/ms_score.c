/*
 * ms_score.c - peers, normalisation, the weight matrix, priority, reasons.
 *
 * Every loop runs in institution order and every floating-point sum in a
 * fixed order, so scores are identical whatever produced the indicators.
 * Anything that could divide by zero or produce NaN (no denominator, no
 * variation among peers, an indicator that is zero everywhere) becomes a
 * deviation of 0 and, for the whole indicator, a "no signal" mark.
 */
#include "ms_score.h"

#include "ms_i18n.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_kernels.h"
#include "ms_search.h"

/* --------------------------------------------------------------- peers */

typedef struct {
    uint64_t key;
    uint32_t inst;
} keyed_t;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed_t *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->inst < y->inst ? -1 : x->inst > y->inst;
}

#define FALLBACK_PROVINCE 0xffffffffull

/* The reference: (key, institution) pairs sorted twice with qsort. */
ms_status_t ms_peers_make_ref(const ms_refs_t *refs, const ms_config_t *cfg, uint32_t **peer_out, uint32_t *npeer)
{
    size_t n = refs->n_inst;
    uint32_t *peer = malloc((n ? n : 1) * sizeof *peer);
    keyed_t *k = malloc((n ? n : 1) * sizeof *k);
    if (!peer || !k) {
        free(peer), free(k);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    /* Key: kind, tier, province (region / 10000). */
    for (size_t i = 0; i < n; i++) {
        const ms_institution_t *x = &refs->inst[i];
        uint64_t prov = (uint64_t)(uint32_t)(x->region / 10000);
        k[i] = (keyed_t){((uint64_t)x->kind << 40) | ((uint64_t)x->level << 32) | prov, (uint32_t)i};
    }
    qsort(k, n, sizeof *k, cmp_keyed);
    /* Groups smaller than the minimum fall back to kind and tier nationwide. */
    size_t min_peers = (size_t)cfg->score[MS_SCORE_MIN_PEERS];
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b < n && k[b].key == k[a].key) b++;
        if (b - a < min_peers)
            for (size_t j = a; j < b; j++) k[j].key = (k[j].key & ~0xffffffffull) | FALLBACK_PROVINCE;
        a = b;
    }
    qsort(k, n, sizeof *k, cmp_keyed);
    uint32_t id = 0;
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b < n && k[b].key == k[a].key) b++;
        for (size_t j = a; j < b; j++) peer[k[j].inst] = id;
        id++;
        a = b;
    }
    free(k);
    *peer_out = peer;
    *npeer = id;
    return MS_OK;
}

/* Institution i's peer key: kind, tier, province (region / 10000); the
 * province FALLBACK_PROVINCE for kind and tier nationwide.  Below 2^48, so
 * exact as a double. */
static uint64_t peer_key(const ms_institution_t *x)
{
    return ((uint64_t)x->kind << 40) | ((uint64_t)x->level << 32) | (uint64_t)(uint32_t)(x->region / 10000);
}

/* The distinct values of key[0..n), ascending, into d (as doubles); how
 * many.  tmp: the sort's scratch of n. */
static size_t distinct_keys(const uint64_t *key, size_t n, double *d, uint64_t *tmp)
{
    for (size_t i = 0; i < n; i++) d[i] = (double)key[i];
    ms_kernels()->sort_f64(d, n, tmp);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || d[i] != d[m - 1]) d[m++] = d[i];
    return m;
}

/* Where key is among the m distinct keys d (it is one of them). */
static uint32_t key_rank(const double *d, size_t m, uint64_t key)
{
    double v = (double)key;
    size_t lo = 0, hi = m;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return (uint32_t)lo;
}

/* Groups are numbered in key order, as the reference's sorted pairs number
 * them; the keys are sorted once each way (distinct, a few thousand at
 * 420,000 institutions) and every institution finds its own by a binary
 * search, instead of sorting the 420,000 pairs twice. */
ms_status_t ms_peers_make(const ms_refs_t *refs, const ms_config_t *cfg, uint32_t **peer_out, uint32_t *npeer)
{
    size_t n = refs->n_inst, m = 0;
    uint32_t *peer = malloc((n ? n : 1) * sizeof *peer);
    uint64_t *key = calloc(n ? n : 1, sizeof *key), *tmp = malloc((n ? n : 1) * sizeof *tmp);
    double *d = malloc((n ? n : 1) * sizeof *d);
    uint32_t *count = NULL;
    ms_status_t st = MS_OK;
    if (!peer || !key || !tmp || !d) st = ms_error_set(MS_E_NOMEM, "out of memory");
    if (st == MS_OK) {
        for (size_t i = 0; i < n; i++) key[i] = peer_key(&refs->inst[i]);
        m = distinct_keys(key, n, d, tmp);
        if (!(count = calloc(m + 1, sizeof *count))) st = ms_error_set(MS_E_NOMEM, "out of memory");
    }
    if (st == MS_OK) {
        for (size_t i = 0; i < n; i++) count[peer[i] = key_rank(d, m, key[i])]++;
        /* Groups smaller than the minimum fall back to kind and tier nationwide. */
        size_t min_peers = (size_t)cfg->score[MS_SCORE_MIN_PEERS];
        for (size_t i = 0; i < n; i++)
            if (count[peer[i]] < min_peers) key[i] = (key[i] & ~0xffffffffull) | FALLBACK_PROVINCE;
        m = distinct_keys(key, n, d, tmp);
        for (size_t i = 0; i < n; i++) peer[i] = key_rank(d, m, key[i]);
    }
    free(key), free(tmp), free(d), free(count);
    if (st != MS_OK) {
        free(peer);
        return st;
    }
    *peer_out = peer;
    *npeer = (uint32_t)m;
    return MS_OK;
}

/* ------------------------------------------------------------- helpers */

/* Median of v[0..n) (v is sorted; tmp: scratch of n). */
static double median(double *v, size_t n, uint64_t *tmp)
{
    if (n == 0) return 0;
    ms_kernels()->sort_f64(v, n, tmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double finite_or(double x, double fallback) { return isfinite(x) ? x : fallback; }

/* --------------------------------------------------------- one indicator */

int ms_score_enough_records(const ms_score_t *s, const ms_indicator_t *ind, int64_t num, int64_t den)
{
    /* Small numbers: the records the indicator rests on, not a scaled
     * amount, must reach the minimum. */
    double evidence = (double)(ind->evidence == MS_EVIDENCE_NUM ? num : den);
    if (ind->evidence_unit > 1) evidence /= (double)ind->evidence_unit;
    return evidence >= s->cfg->score[MS_SCORE_MIN_DENOMINATOR];
}

typedef struct {
    double *r;            /* [n_inst] standardised residual (reported only) */
    double *scratch;      /* [n_inst] */
    uint64_t *sort_tmp;   /* [n_inst] the sort's scratch */
    double *pnum, *pden;  /* [npeer] pooled numerator and denominator */
    size_t *pcount;       /* [npeer] reported institutions */
    size_t *gstart;       /* [npeer + 1] group g's members: gmem[gstart[g] .. gstart[g + 1]) */
    uint32_t *gmem;       /* [n_inst] institutions by peer group, ascending within one */
} work_t;

/* Institutions bucketed by peer group once (a counting sort, ascending ids
 * within a group), so that every per-group pass is linear in institutions,
 * not groups x institutions (420,000 institutions in a few thousand groups). */
static void group_members(const uint32_t *peer, const uint32_t *ids, size_t n, uint32_t npeer, size_t *gstart,
                          uint32_t *gmem)
{
    memset(gstart, 0, ((size_t)npeer + 1) * sizeof *gstart);
    for (size_t q = 0; q < n; q++) gstart[peer[ids ? ids[q] : q] + 1]++;
    for (uint32_t g = 0; g < npeer; g++) gstart[g + 1] += gstart[g];
    for (size_t q = 0; q < n; q++) {
        uint32_t i = ids ? ids[q] : (uint32_t)q;
        gmem[gstart[peer[i]]++] = i;
    }
    for (uint32_t g = npeer; g > 0; g--) gstart[g] = gstart[g - 1];
    gstart[0] = 0;
}

typedef struct {
    const double *sorted;
    double v;
} at_most_t;

static int at_most(const void *ctx, size_t i)
{
    const at_most_t *q = ctx;
    return q->sorted[i] <= q->v;
}

static int below(const void *ctx, size_t i)
{
    const at_most_t *q = ctx;
    return q->sorted[i] < q->v;
}

/* Where v stands among the c sorted values (v is one of them): the share
 * of the others below it, ties counting half, in percent.  A value the
 * whole group shares is at 50, not at the top (a rare event absent
 * everywhere is no one's maximum); the strict maximum is at 100 and the
 * strict minimum at 0; alone in its group, 50. */
static double mid_rank(const double *sorted, size_t c, double v)
{
    if (c < 2) return 50.0;
    at_most_t a = {sorted, v};
    size_t le = ms_lower_bound(c, at_most, &a), lt = ms_lower_bound(c, below, &a);
    return 100.0 * ((double)lt + 0.5 * (double)(le - lt - 1)) / (double)(c - 1);
}

/* Fill value, peer_value, reported, z, unexplained and percentile for
 * indicator j (its column of each). */
static void score_indicator(ms_score_t *s, int j, work_t *w)
{
    const ms_model_t *m = s->models[s->ind_model[j]];
    const ms_indicator_t *ind = &m->indicators[s->ind_index[j]];
    const ms_model_result_t *res = &s->results[s->ind_model[j]];
    size_t n = s->refs->n_inst;
    /* Indicator j's column of every per-cell array. */
    size_t col = (size_t)j * n;
    double *val = s->value + col, *pv = s->peer_value + col, *zs = s->z + col, *un = s->unexplained + col;
    double *pct = s->percentile + col;
    uint8_t *rep = s->reported + col;
    const int64_t *num = res->num + (size_t)s->ind_index[j] * res->n_inst;
    const int64_t *den = res->den + (size_t)s->ind_index[j] * res->n_inst;
    const double *exp_ = res->expected ? res->expected + (size_t)s->ind_index[j] * res->n_inst : NULL;
    double k = s->cfg->score[MS_SCORE_PRIOR_STRENGTH];
    double cap = s->cfg->score[MS_SCORE_Z_CAP];
    int share = ind->kind == MS_IND_SHARE;

    memset(w->pnum, 0, s->npeer * sizeof *w->pnum);
    memset(w->pden, 0, s->npeer * sizeof *w->pden);
    memset(w->pcount, 0, s->npeer * sizeof *w->pcount);
    double all_num = 0, all_den = 0;
    for (size_t i = 0; i < n; i++) {
        w->pnum[s->peer[i]] += (double)num[i];
        w->pden[s->peer[i]] += (double)den[i];
        all_num += (double)num[i];
        all_den += (double)den[i];
    }
    /* Residuals of the reported institutions. */
    size_t nrep = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)den[i], x = (double)num[i];
        /* The peers' pooled rate without the institution itself (in a small
         * group a large cheater would otherwise set its own yardstick);
         * all other institutions when its group has no one else. */
        double gn = w->pnum[s->peer[i]] - x, gd = w->pden[s->peer[i]] - d;
        double nn = all_num - x, nd = all_den - d, national = nd > 0 ? nn / nd : 0;
        /* ... shrunk toward all other institutions' rate by the same prior
         * strength: a small group that happened to see none is no proof
         * that none is normal. */
        double pooled = gd + k > 0 ? (gn + k * national) / (gd + k) : national;
        val[i] = d > 0 ? x / d : 0;
        pv[i] = pooled;
        zs[i] = 0;
        rep[i] = d > 0 && ms_score_enough_records(s, ind, num[i], den[i]);
        w->r[i] = 0;
        if (!rep[i]) continue;
        double r;
        if (share) {
            /* What the peers predict: their pooled rate, or the model's own
             * standardised expectation (e.g. severity by DRG family). */
            double p = exp_ && isfinite(exp_[i]) ? exp_[i] / d : pooled;
            if (exp_ && isfinite(exp_[i])) pv[i] = p;
            p = p < 1e-6 ? 1e-6 : p > 1 - 1e-6 ? 1 - 1e-6 : p;
            double shrunk = (x + k * p) / (d + k);
            r = (shrunk - p) / sqrt(p * (1 - p) / (d + k));
        } else {
            r = pooled > 0 && x >= 0 ? log((x + 1e-9) / d / pooled) : 0;
        }
        w->r[i] = finite_or(r, 0);
        w->pcount[s->peer[i]]++;
        nrep++;
    }
    /* Robust centre and scale per peer group (all reported institutions
     * nationally when a group has fewer than 3). */
    double nat_med = 0, nat_mad = 0;
    {
        size_t c = 0;
        for (size_t i = 0; i < n; i++)
            if (rep[i]) w->scratch[c++] = w->r[i];
        nat_med = median(w->scratch, c, w->sort_tmp);
        for (size_t q = 0; q < c; q++) w->scratch[q] = fabs(w->scratch[q] - nat_med);
        nat_mad = median(w->scratch, c, w->sort_tmp);
    }
    double floor_scale = share ? 1.0 : 0.05;
    double *gmed = calloc(s->npeer, sizeof *gmed), *gmad = calloc(s->npeer, sizeof *gmad);
    for (uint32_t g = 0; gmed && gmad && g < s->npeer; g++) {
        if (w->pcount[g] < 3) {
            gmed[g] = nat_med;
            gmad[g] = nat_mad;
            continue;
        }
        size_t c = 0;
        for (size_t q = w->gstart[g]; q < w->gstart[g + 1]; q++) {
            size_t i = w->gmem[q];
            if (rep[i]) w->scratch[c++] = w->r[i];
        }
        gmed[g] = median(w->scratch, c, w->sort_tmp);
        for (size_t q = 0; q < c; q++) w->scratch[q] = fabs(w->scratch[q] - gmed[g]);
        gmad[g] = median(w->scratch, c, w->sort_tmp);
    }
    int any = 0;
    for (size_t i = 0; gmed && gmad && i < n; i++) {
        if (!rep[i]) continue;
        double scale = 1.4826 * gmad[s->peer[i]];
        if (scale < floor_scale) scale = floor_scale;
        double z = ind->direction * (w->r[i] - gmed[s->peer[i]]) / scale;
        z = finite_or(z, 0);
        z = z < 0 ? 0 : z > cap ? cap : z;
        /* A share with nothing flagged is never suspicious, and neither is
         * a difference too small to matter however significant. */
        if (share && ind->direction > 0 && (double)num[i] < s->cfg->score[MS_SCORE_MIN_FLAGGED]) z = 0;
        double v = val[i], p = pv[i];
        double min_rel = s->cfg->score[MS_SCORE_MIN_EXCESS_RATIO];
        /* Material, not only significant: a share must exceed its peers'
         * by min_excess_share points and by min_excess_ratio of their rate,
         * a ratio by min_excess_ratio (an impossible event needs neither). */
        if (share && !ind->impossible) {
            if (ind->direction * (v - p) < s->cfg->score[MS_SCORE_MIN_EXCESS_SHARE]) z = 0;
            if (ind->direction > 0 && p > 0 && v / p - 1 < min_rel) z = 0;
            if (ind->direction < 0 && v > 0 && p / v - 1 < min_rel) z = 0;
        }
        if (!share && p > 0 && v > 0) {
            double rel = ind->direction > 0 ? v / p - 1 : p / v - 1;
            if (rel < min_rel) z = 0;
        }
        /* An indicator with a limit of the possible (beds_overflow: 1) is
         * judged against the limit, not the peers: at or below it nothing is
         * suspicious (a full hospital is no fraud); materially beyond it
         * (by min_excess_ratio) it is impossible, whatever the peers do. */
        double limit = ind->suspicious_above;
        if (limit > 0) {
            p = pv[i] = limit;
            z = ind->direction > 0 && v >= limit * (1 + min_rel) ? cap : 0;
        }
        zs[i] = z;
        /* The share of the flagged records (or of the ratio) that the peers
         * do not explain, from the shrunk rate: what the evidence is worth
         * whatever the institution's size. */
        double u = 0;
        if (share) {
            double pp = p < 1e-6 ? 1e-6 : p, d = (double)den[i];
            double shrunk = ((double)num[i] + k * pp) / (d + k);
            u = ind->direction > 0 ? (shrunk > 0 ? (shrunk - pp) / shrunk : 0) : (pp > 0 ? (pp - shrunk) / pp : 0);
        } else if (v > 0 && p > 0) {
            u = ind->direction > 0 ? 1 - p / v : 1 - v / p;
        }
        un[i] = z > 0 ? fmin(1, fmax(0, finite_or(u, 0))) : 0;
        any |= z > 0;
    }
    s->no_signal[j] = !any || nrep < 2;
    free(gmed), free(gmad);
    /* Peer percentile of each reported value among its group's reported
     * values (mid_rank: ties count half). */
    for (uint32_t g = 0; g < s->npeer; g++) {
        size_t c = 0, g0 = w->gstart[g], g1 = w->gstart[g + 1];
        for (size_t q = g0; q < g1; q++) {
            size_t i = w->gmem[q];
            if (rep[i]) w->scratch[c++] = val[i];
        }
        if (c == 0) continue;
        ms_kernels()->sort_f64(w->scratch, c, w->sort_tmp);
        for (size_t q = g0; q < g1; q++) {
            size_t i = w->gmem[q];
            if (!rep[i]) continue;
            pct[i] = mid_rank(w->scratch, c, val[i]);
        }
    }
}

/* ------------------------------------------------------------ priority */

typedef struct {
    uint64_t settle_id;
    uint32_t inst;
    int j;                /* scored indicator */
    int64_t amount;
} flagged_t;

static int cmp_flagged(const void *a, const void *b)
{
    const flagged_t *x = a, *y = b;
    if (x->inst != y->inst) return x->inst < y->inst ? -1 : 1;
    if (x->settle_id != y->settle_id) return x->settle_id < y->settle_id ? -1 : 1;
    return x->j - y->j;
}

/* Suspicious amount: the fund payment of the records behind the
 * institution's credible deviations (the reasons of its row), each record
 * once.  Likely recovery: of that, the share the peers do not explain (the
 * largest unexplained share among the record's credible indicators).  Both
 * are 0 without a credible deviation, and recovery <= suspicious.
 * Overflow: no integer arithmetic on money happens here.  The amounts are
 * summed as doubles in yuan, which cannot overflow (fewer than 2^64
 * records of under 2^63 fen each stay below 2^127, far from 10^308), and
 * are reported as estimates to the fen; the exact int64 totals behind them
 * are the volume model's, summed with checked adds (docs/schema.md,
 * Limits). */
static ms_status_t amounts(ms_score_t *s)
{
    size_t total = 0, n = s->refs->n_inst;
    for (int m = 0; m < s->nmodels; m++) total += s->results[m].nclues;
    flagged_t *f = malloc((total ? total : 1) * sizeof *f);
    if (!f) return ms_error_set(MS_E_NOMEM, "out of memory");
    size_t c = 0;
    for (int j = 0; j < s->nind; j++) {
        const ms_model_result_t *res = &s->results[s->ind_model[j]];
        for (size_t q = 0; q < res->nclues; q++) {
            const ms_clue_t *cl = &res->clues[q];
            if (cl->indicator != s->ind_index[j] || cl->inst >= n) continue;
            if (!s->credible[ms_score_cell(s, cl->inst, (size_t)j)]) continue;
            f[c++] = (flagged_t){cl->settle_id, cl->inst, j, cl->amount};
        }
    }
    qsort(f, c, sizeof *f, cmp_flagged);
    for (size_t q = 0; q < c;) {
        size_t r = q;
        double u = 0;
        for (; r < c && f[r].inst == f[q].inst && f[r].settle_id == f[q].settle_id; r++)
            u = fmax(u, s->unexplained[ms_score_cell(s, f[r].inst, (size_t)f[r].j)]);
        double yuan = (double)f[q].amount / 100.0;
        s->suspicious[f[q].inst] += yuan;
        s->recovery[f[q].inst] += yuan * u;
        q = r;
    }
    free(f);
    return MS_OK;
}

static const ms_score_t *rank_ctx;

static int cmp_rank(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    const ms_score_t *s = rank_ctx;
    if (s->priority[x] != s->priority[y]) return s->priority[x] > s->priority[y] ? -1 : 1;
    if (s->recovery[x] != s->recovery[y]) return s->recovery[x] > s->recovery[y] ? -1 : 1;
    if (s->watch[x] != s->watch[y]) return s->watch[x] > s->watch[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* Corroboration: an indicator that needs another of its model's indicators
 * to deviate credibly at the same institution counts only where one does
 * (unless none of them is scored). */
static void corroborate(ms_score_t *s)
{
    size_t n = s->refs->n_inst, J = (size_t)s->nind;
    double zflag = s->cfg->score[MS_SCORE_Z_FLAG];
    for (size_t j = 0; j < J; j++) {
        const ms_model_t *m = s->models[s->ind_model[j]];
        const char *const *by = m->indicators[s->ind_index[j]].corroborated_by;
        if (!by) continue;
        int with[16], nwith = 0;
        for (; *by && nwith < 16; by++)
            for (size_t q = 0; q < J; q++)
                if (s->ind_model[q] == s->ind_model[j] && !strcmp(m->indicators[s->ind_index[q]].name, *by))
                    with[nwith++] = (int)q;
        if (!nwith) continue;
        for (size_t i = 0; i < n; i++) {
            int ok = 0;
            for (int q = 0; q < nwith && !ok; q++) ok = s->z[ms_score_cell(s, i, (size_t)with[q])] >= zflag;
            if (!ok) s->z[ms_score_cell(s, i, j)] = 0, s->unexplained[ms_score_cell(s, i, j)] = 0;
        }
    }
}

/* ------------------------------------------------------------------ run */

ms_status_t ms_score_run(ms_score_t *s)
{
    size_t n = s->refs->n_inst;
    /* The scored indicators: weighted, not descriptive, of weighted models. */
    int cap = 0;
    for (int m = 0; m < s->nmodels; m++) cap += s->models[m]->nindicators;
    s->ind_model = calloc((size_t)(cap ? cap : 1), sizeof *s->ind_model);
    s->ind_index = calloc((size_t)(cap ? cap : 1), sizeof *s->ind_index);
    if (!s->ind_model || !s->ind_index) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (int m = 0; m < s->nmodels; m++) {
        const ms_model_config_t *mc = ms_config_model(s->cfg, s->models[m]);
        for (int i = 0; i < s->models[m]->nindicators; i++) {
            if (s->models[m]->indicators[i].kind == MS_IND_INFO || !mc || mc->weight <= 0 || mc->ind[i].weight <= 0)
                continue;
            s->ind_model[s->nind] = m;
            s->ind_index[s->nind++] = i;
        }
    }
    size_t J = (size_t)s->nind, M = (size_t)s->nmodels, cells = n * (J ? J : 1);
    s->value = calloc(cells, sizeof *s->value);
    s->peer_value = calloc(cells, sizeof *s->peer_value);
    s->z = calloc(cells, sizeof *s->z);
    s->percentile = calloc(cells, sizeof *s->percentile);
    s->reported = calloc(cells, 1);
    s->credible = calloc(cells, 1);
    s->unexplained = calloc(cells, sizeof *s->unexplained);
    s->peer_rank = calloc(n + 1, sizeof *s->peer_rank);
    s->watch = calloc(n + 1, sizeof *s->watch);
    s->no_signal = calloc(J ? J : 1, 1);
    s->model_score = calloc(n * M + 1, sizeof *s->model_score);
    s->overall = calloc(n + 1, sizeof *s->overall);
    s->suspicious = calloc(n + 1, sizeof *s->suspicious);
    s->recovery = calloc(n + 1, sizeof *s->recovery);
    s->priority = calloc(n + 1, sizeof *s->priority);
    s->order = calloc(n + 1, sizeof *s->order);
    /* Indicators are scored at once, each by one thread into its own
     * columns: the answer does not depend on the threads.  Each thread has
     * its work arrays; the grouping is shared (read only). */
    int nt = s->threads > 1 ? s->threads : 1;
    if (nt > s->nind) nt = s->nind > 0 ? s->nind : 1;
    work_t *w = calloc((size_t)nt, sizeof *w);
    size_t *group_start = calloc(s->npeer + 1, sizeof *group_start);
    uint32_t *group_member = calloc(n + 1, sizeof *group_member);
    ms_status_t st = MS_OK;
    int nomem = !w || !group_start || !group_member;
    for (int t = 0; !nomem && t < nt; t++) {
        w[t] = (work_t){calloc(n + 1, sizeof(double)),       calloc(n + 1, sizeof(double)),
                        calloc(n + 1, sizeof(uint64_t)),     calloc(s->npeer + 1, sizeof(double)),
                        calloc(s->npeer + 1, sizeof(double)), calloc(s->npeer + 1, sizeof(size_t)),
                        group_start,                         group_member};
        nomem = !w[t].r || !w[t].scratch || !w[t].sort_tmp || !w[t].pnum || !w[t].pden || !w[t].pcount;
    }
    if (nomem || !s->value || !s->peer_value || !s->z || !s->percentile || !s->reported || !s->credible ||
        !s->unexplained || !s->peer_rank || !s->watch || !s->no_signal || !s->model_score || !s->overall ||
        !s->suspicious || !s->recovery || !s->priority || !s->order)
        st = ms_error_set(MS_E_NOMEM, "out of memory");
    if (st == MS_OK) {
        group_members(s->peer, NULL, n, s->npeer, group_start, group_member);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
        for (int j = 0; j < s->nind; j++) score_indicator(s, j, &w[omp_get_thread_num()]);
    }
    for (int t = 0; w && t < nt; t++) {
        free(w[t].r), free(w[t].scratch), free(w[t].sort_tmp), free(w[t].pnum), free(w[t].pden);
        free(w[t].pcount);
    }
    free(w), free(group_start), free(group_member);
    if (st != MS_OK) return st;

    corroborate(s);
    /* Credible: reported, material, corroborated where it must be, and at
     * least z_flag robust SDs from the peers.  Only credible deviations
     * count, so every score has a reason in words.  Each is worth its
     * strength: how sure (z up to the cap) times how much of it the peers
     * do not explain, whatever the institution's size. */
    double zcap = s->cfg->score[MS_SCORE_Z_CAP], zflag = s->cfg->score[MS_SCORE_Z_FLAG];
    double *strength = calloc(cells, sizeof *strength);
    if (!strength) return ms_error_set(MS_E_NOMEM, "out of memory");
    /* Beyond the limit of the possible the evidence is certain, however
     * small the excess (the excess is what likely recovery counts). */
    uint8_t *beyond = calloc(J + 1, 1);
    if (!beyond) {
        free(strength);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    for (size_t j = 0; j < J; j++)
        beyond[j] = s->models[s->ind_model[j]]->indicators[s->ind_index[j]].suspicious_above > 0;
    /* strength is institution-major (the product below): its rows read
     * every indicator's column in step. */
    for (size_t i = 0, c = 0; i < n; i++) {
        for (size_t j = 0; j < J; j++, c++) {
            size_t at = ms_score_cell(s, i, j);
            double z = s->z[at];
            s->credible[at] = s->reported[at] && z >= zflag && z > 0;
            strength[c] = s->credible[at] ? fmin(1, z / zcap) * (beyond[j] ? 1 : s->unexplained[at]) : 0;
            /* Short of a reason: what orders the rows without one. */
            double near = s->reported[at] && !s->credible[at] ? fmin(1, z / zcap) : 0;
            if (near > s->watch[i]) s->watch[i] = near;
        }
    }
    free(beyond);
    /* Model scores: strengths (institutions x indicators) times W
     * (indicators x models), W holding each indicator's weight over the
     * model's largest, so that a model with many indicators is not diluted:
     * a model's score is the weighted sum of its credible strengths. */
    if (J > 0 && n > 0) {
        double *W = calloc(J * M, sizeof *W);
        if (!W) {
            free(strength);
            return ms_error_set(MS_E_NOMEM, "out of memory");
        }
        for (size_t j = 0; j < J; j++) {
            int m = s->ind_model[j];
            const ms_model_config_t *mc = ms_config_model(s->cfg, s->models[m]);
            double top = 0;
            for (size_t q = 0; q < J; q++)
                if (s->ind_model[q] == m) top = fmax(top, mc->ind[s->ind_index[q]].weight);
            W[j * M + (size_t)m] = top > 0 ? mc->ind[s->ind_index[j]].weight / top : 0;
        }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)M, (int)J, 1.0, strength, (int)J, W,
                    (int)M, 0.0, s->model_score, (int)M);
        free(W);
    }
    free(strength);
    /* Overall: the models' scores, each at most 1, combined by their
     * weights over the weights of the models that score anything. */
    double wsum = 0;
    for (size_t m = 0; m < M; m++) {
        const ms_model_config_t *mc = ms_config_model(s->cfg, s->models[m]);
        int scored = 0;
        for (size_t j = 0; j < J; j++) scored |= s->ind_model[j] == (int)m;
        if (scored) wsum += mc->weight;
    }
    for (size_t i = 0; i < n; i++) {
        double o = 0;
        for (size_t m = 0; m < M; m++)
            o += ms_config_model(s->cfg, s->models[m])->weight * fmin(1, s->model_score[i * M + m]);
        s->overall[i] = wsum > 0 ? o / wsum : 0;
    }
    MS_TRY(amounts(s));
    /* Inspectors work from the top: the strongest credible evidence first
     * (priority = the overall score); money orders only what the evidence
     * does not (ties), so size never turns a small deviation into a top
     * rank.  Every institution with data has a row. */
    s->n_ranked = 0;
    for (uint32_t i = 0; i < n; i++) {
        s->priority[i] = s->overall[i];
        if (!s->records || s->records[i] > 0) s->order[s->n_ranked++] = i;
    }
    rank_ctx = s; /* the sort runs on the calling thread only */
    qsort(s->order, s->n_ranked, sizeof *s->order, cmp_rank);
    /* Each row's peer percentile: where its priority stands among its
     * peers' with data (mid_rank, as for values). */
    double *sorted = calloc(s->n_ranked + 1, sizeof *sorted);
    uint64_t *sort_tmp = calloc(s->n_ranked + 1, sizeof *sort_tmp);
    uint32_t *ranked = calloc(s->n_ranked + 1, sizeof *ranked);
    size_t *gstart = calloc(s->npeer + 1, sizeof *gstart);
    if (!sorted || !sort_tmp || !ranked || !gstart) {
        free(sorted), free(sort_tmp), free(ranked), free(gstart);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    /* The ranked institutions bucketed by group as above. */
    group_members(s->peer, s->order, s->n_ranked, s->npeer, gstart, ranked);
    for (uint32_t g = 0; g < s->npeer; g++) {
        size_t c = 0, g0 = gstart[g], g1 = gstart[g + 1];
        for (size_t q = g0; q < g1; q++) sorted[c++] = s->priority[ranked[q]];
        if (!c) continue;
        ms_kernels()->sort_f64(sorted, c, sort_tmp);
        for (size_t q = g0; q < g1; q++) {
            uint32_t i = ranked[q];
            s->peer_rank[i] = mid_rank(sorted, c, s->priority[i]);
        }
    }
    free(sorted), free(sort_tmp), free(ranked), free(gstart);
    return MS_OK;
}

void ms_score_free(ms_score_t *s)
{
    free(s->ind_model), free(s->ind_index), free(s->value), free(s->peer_value), free(s->z), free(s->reported);
    free(s->percentile), free(s->credible), free(s->unexplained), free(s->peer_rank), free(s->watch);
    s->percentile = s->unexplained = s->peer_rank = s->watch = NULL;
    s->credible = NULL;
    free(s->no_signal), free(s->model_score), free(s->overall), free(s->suspicious), free(s->recovery);
    free(s->priority), free(s->order);
    s->ind_model = s->ind_index = NULL;
    s->value = s->peer_value = s->z = s->model_score = s->overall = s->suspicious = s->recovery = s->priority = NULL;
    s->reported = s->no_signal = NULL;
    s->order = NULL;
}

/* --------------------------------------------------------------- reasons */

typedef struct {
    double weight_z;
    int j;
} cand_t;

static int cmp_cand(const void *a, const void *b)
{
    const cand_t *x = a, *y = b;
    if (x->weight_z != y->weight_z) return x->weight_z > y->weight_z ? -1 : 1;
    return x->j - y->j;
}

int ms_score_reason_order(const ms_score_t *s, uint32_t i, int *order, int max)
{
    size_t J = (size_t)s->nind;
    cand_t c[256];
    int nc = 0;
    for (size_t j = 0; j < J && nc < 256; j++) {
        size_t at = ms_score_cell(s, i, j);
        if (!s->credible[at]) continue;
        const ms_model_config_t *mc = ms_config_model(s->cfg, s->models[s->ind_model[j]]);
        c[nc++] = (cand_t){s->z[at] * mc->ind[s->ind_index[j]].weight * mc->weight, (int)j};
    }
    qsort(c, (size_t)nc, sizeof *c, cmp_cand);
    int k = 0;
    for (; k < nc && k < max; k++) order[k] = c[k].j;
    return k;
}

int ms_score_reasons(const ms_score_t *s, uint32_t i, char out[][160], int max)
{
    int order[256];
    int nc = ms_score_reason_order(s, i, order, max < 256 ? max : 256);
    int k = 0;
    for (; k < nc; k++) {
        int j = order[k];
        size_t at = ms_score_cell(s, i, (size_t)j);
        const ms_model_t *mod = s->models[s->ind_model[j]];
        const ms_indicator_t *ind = &mod->indicators[s->ind_index[j]];
        const char *what = ms_msg_reason(s->lang, mod, s->ind_index[j]);
        double v = s->value[at], p = s->peer_value[at];
        int zh = s->lang == MS_LANG_ZH;
        if (ind->suspicious_above > 0)
            snprintf(out[k], 160, zh ? "%s %.2f，超过上限 %.2f" : "%s %.2f, above the limit of %.2f", what, v,
                     ind->suspicious_above);
        else if (ind->kind == MS_IND_SHARE)
            /* Rare events keep their digits: 0.25% vs peers 0.01%, not 0.0% vs 0.0%. */
            snprintf(out[k], 160, zh ? "%s %.*f%%，同类机构 %.*f%%" : "%s %.*f%% vs peers %.*f%%", what,
                     v < 0.01 ? 2 : 1, 100 * v, p < 0.01 ? 2 : 1, 100 * p);
        else
            snprintf(out[k], 160, zh ? "%s %.2f，同类机构 %.2f" : "%s %.2f vs peers %.2f", what, v, p);
    }
    return k;
}
