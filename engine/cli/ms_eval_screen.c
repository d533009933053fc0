/*
 * ms_eval_screen.c - the simple peer screen of `medsweep eval`.
 *
 * A deliberately simple screen computed from indicators.csv alone, the
 * yardstick the engine's ranking must beat.  Exactly:
 *
 *   scored indicators: kind share or ratio (ms_model.h), of a model of the
 *     registry whose default weight is > 0; direction from the registry;
 *     every indicator weighs 1 (the default indicator weight).
 *   peer group g of an institution: (kind, level, province = the first two
 *     digits of region); a group of fewer than MS_SCREEN_MIN_PEERS (5)
 *     institutions falls back to (kind, level) nationwide.  Institutions of
 *     unknown kind ("" everywhere) are one group of their own.
 *   per indicator, over the institutions with den > 0 (the others: z = 0):
 *     p_g = sum num / sum den over the group's institutions with den > 0;
 *     share: x = v* = (num + k p_g) / (den + k), k = MS_SCREEN_PRIOR (30);
 *     ratio: x = log(max(num/den, 0.01 p_g) / p_g)  (x = 0 when p_g = 0);
 *     z = direction (x - mean_g(x)) / max(sd_g(x), 1e-9), mean and
 *     population sd over the group's institutions with den > 0, or over
 *     every institution with den > 0 when the group has fewer than 3;
 *     one-sided: z = max(0, z).
 *   per model m: S_m = sum of its indicators' z; q_m = the nearest-rank 99th
 *     percentile of S_m over all n institutions (the value of rank
 *     ceil(0.99 n), ascending); model score = S_m / q_m, or 0 when q_m = 0.
 *   score = the sum of the model scores.
 *
 * What it leaves out on purpose (the engine has them): the severity share's
 * standardisation by DRG family, the minimum denominator, materiality,
 * robust (median/MAD) centring and the z cap.
 */
#include "ms_eval_screen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void *take(size_t n, size_t size) { return calloc(n ? n : 1, size); }

ms_status_t ms_screen_init(ms_screen_t *s)
{
    memset(s, 0, sizeof *s);
    int count;
    const ms_model_t *const *models = ms_models(&count);
    int cap = 0;
    for (int m = 0; m < count; m++) cap += models[m]->nindicators;
    s->ind_model = take((size_t)cap, sizeof *s->ind_model);
    s->ind_index = take((size_t)cap, sizeof *s->ind_index);
    s->ind_slot = take((size_t)cap, sizeof *s->ind_slot);
    s->model_of = take((size_t)count, sizeof *s->model_of);
    if (!s->ind_model || !s->ind_index || !s->ind_slot || !s->model_of) goto nomem;
    for (int m = 0; m < count; m++) {
        const ms_model_t *mod = models[m];
        if (!(mod->default_weight > 0)) continue;
        int slot = -1;
        for (int i = 0; i < mod->nindicators; i++) {
            ms_ind_kind_t k = mod->indicators[i].kind;
            if (k != MS_IND_SHARE && k != MS_IND_RATIO) continue;
            if (slot < 0) {
                slot = s->nmodels;
                s->model_of[s->nmodels++] = mod;
            }
            s->ind_model[s->nind] = mod;
            s->ind_index[s->nind] = i;
            s->ind_slot[s->nind] = slot;
            s->nind++;
        }
    }
    return MS_OK;
nomem:
    ms_screen_free(s);
    return ms_error_set(MS_E_NOMEM, "eval: no memory for the simple screen");
}

ms_status_t ms_screen_size(ms_screen_t *s, size_t n)
{
    s->n = n;
    size_t cells = (size_t)s->nind * n;
    s->num = take(cells, sizeof *s->num);
    s->den = take(cells, sizeof *s->den);
    s->z = take(cells, sizeof *s->z);
    s->group = take(n, sizeof *s->group);
    s->p99 = take((size_t)s->nmodels, sizeof *s->p99);
    s->model = take((size_t)s->nmodels * n, sizeof *s->model);
    s->sum = take((size_t)s->nmodels * n, sizeof *s->sum);
    s->score = take(n, sizeof *s->score);
    if (!s->num || !s->den || !s->z || !s->group || !s->p99 || !s->model || !s->sum || !s->score) {
        ms_screen_free(s);
        return ms_error_set(MS_E_NOMEM, "eval: no memory for the simple screen of %zu institutions", n);
    }
    return MS_OK;
}

int ms_screen_slot(const ms_screen_t *s, const char *model, const char *indicator)
{
    for (int j = 0; j < s->nind; j++)
        if (!strcmp(s->ind_model[j]->name, model) &&
            !strcmp(s->ind_model[j]->indicators[s->ind_index[j]].name, indicator))
            return j;
    return -1;
}

int ms_screen_model(const ms_screen_t *s, const char *model)
{
    for (int m = 0; m < s->nmodels; m++)
        if (!strcmp(s->model_of[m]->name, model)) return m;
    return -1;
}

/* ------------------------------------------------------------ peer groups */

typedef struct {
    const char *kind, *level, *province;
} key_t_;

static const key_t_ *sort_keys;

static int cmp_key(const key_t_ *a, const key_t_ *b)
{
    int c = strcmp(a->kind, b->kind);
    if (!c) c = strcmp(a->level, b->level);
    if (!c) c = strcmp(a->province, b->province);
    return c;
}

static int cmp_idx(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = cmp_key(&sort_keys[x], &sort_keys[y]);
    return c ? c : (x > y) - (x < y);
}

/* Group ids of keys (equal keys, equal ids), numbered in key order; the size
 * of each institution's group in size[] when size is not NULL. */
static int number_groups(const key_t_ *keys, size_t n, size_t *idx, int *id, size_t *size)
{
    for (size_t i = 0; i < n; i++) idx[i] = i;
    sort_keys = keys;
    qsort(idx, n, sizeof *idx, cmp_idx);
    int g = -1;
    size_t begin = 0;
    for (size_t r = 0; r <= n; r++) {
        if (r == n || (r > 0 && cmp_key(&keys[idx[r]], &keys[idx[r - 1]]))) {
            if (size)
                for (size_t q = begin; q < r; q++) size[idx[q]] = r - begin;
            begin = r;
        }
        if (r < n) {
            if (r == 0 || cmp_key(&keys[idx[r]], &keys[idx[r - 1]])) g++;
            id[idx[r]] = g;
        }
    }
    return g + 1;
}

static ms_status_t assign_groups(ms_screen_t *s, const char *const *kind, const char *const *level,
                                 const char *const *province)
{
    size_t n = s->n;
    key_t_ *keys = take(n, sizeof *keys);
    size_t *idx = take(n, sizeof *idx), *size = take(n, sizeof *size);
    if (!keys || !idx || !size) {
        free(keys), free(idx), free(size);
        return ms_error_set(MS_E_NOMEM, "eval: no memory for peer groups");
    }
    for (size_t i = 0; i < n; i++) keys[i] = (key_t_){kind[i], level[i], province[i]};
    number_groups(keys, n, idx, s->group, size);
    /* Too small: kind and level nationwide ("*" is no province's code). */
    for (size_t i = 0; i < n; i++)
        if (size[i] < MS_SCREEN_MIN_PEERS) keys[i].province = "*";
    s->ngroups = number_groups(keys, n, idx, s->group, NULL);
    free(keys), free(idx), free(size);
    return MS_OK;
}

/* ------------------------------------------------------------ the screen */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

ms_status_t ms_screen_run(ms_screen_t *s, const char *const *kind, const char *const *level,
                          const char *const *province)
{
    size_t n = s->n;
    MS_TRY(assign_groups(s, kind, level, province));
    size_t ng = (size_t)s->ngroups;
    double *gnum = take(ng, sizeof *gnum), *gden = take(ng, sizeof *gden);
    double *gsum = take(ng, sizeof *gsum), *gsq = take(ng, sizeof *gsq), *gcnt = take(ng, sizeof *gcnt);
    double *x = take(n, sizeof *x), *sorted = take(n, sizeof *sorted);
    if (!gnum || !gden || !gsum || !gsq || !gcnt || !x || !sorted) {
        free(gnum), free(gden), free(gsum), free(gsq), free(gcnt), free(x), free(sorted);
        return ms_error_set(MS_E_NOMEM, "eval: no memory for the simple screen");
    }
    memset(s->sum, 0, (size_t)s->nmodels * n * sizeof *s->sum);
    for (int j = 0; j < s->nind; j++) {
        const ms_indicator_t *ind = &s->ind_model[j]->indicators[s->ind_index[j]];
        const double *num = s->num + (size_t)j * n, *den = s->den + (size_t)j * n;
        double *z = s->z + (size_t)j * n;
        memset(gnum, 0, ng * sizeof *gnum), memset(gden, 0, ng * sizeof *gden);
        for (size_t i = 0; i < n; i++)
            if (den[i] > 0) gnum[s->group[i]] += num[i], gden[s->group[i]] += den[i];
        /* x, then mean and sd per group and over all. */
        memset(gsum, 0, ng * sizeof *gsum), memset(gcnt, 0, ng * sizeof *gcnt);
        double asum = 0, acnt = 0;
        for (size_t i = 0; i < n; i++) {
            if (!(den[i] > 0)) continue;
            int g = s->group[i];
            double p = gnum[g] / gden[g];
            if (ind->kind == MS_IND_SHARE) x[i] = (num[i] + MS_SCREEN_PRIOR * p) / (den[i] + MS_SCREEN_PRIOR);
            else if (p > 0) {
                double r = num[i] / den[i];
                if (r < MS_SCREEN_RATIO_FLOOR * p) r = MS_SCREEN_RATIO_FLOOR * p;
                x[i] = log(r / p);
            } else x[i] = 0;
            gsum[g] += x[i], gcnt[g] += 1;
            asum += x[i], acnt += 1;
        }
        double amean = acnt > 0 ? asum / acnt : 0, asq = 0;
        memset(gsq, 0, ng * sizeof *gsq);
        for (size_t i = 0; i < n; i++) {
            if (!(den[i] > 0)) continue;
            int g = s->group[i];
            double d = x[i] - gsum[g] / gcnt[g];
            gsq[g] += d * d;
            asq += (x[i] - amean) * (x[i] - amean);
        }
        double asd = acnt > 0 ? sqrt(asq / acnt) : 0;
        for (size_t i = 0; i < n; i++) {
            z[i] = 0;
            if (!(den[i] > 0)) continue;
            int g = s->group[i];
            double mean = amean, sd = asd;
            if (gcnt[g] >= MS_SCREEN_MIN_SPREAD) mean = gsum[g] / gcnt[g], sd = sqrt(gsq[g] / gcnt[g]);
            if (sd < MS_SCREEN_SD_FLOOR) sd = MS_SCREEN_SD_FLOOR;
            double v = (ind->direction < 0 ? -1.0 : 1.0) * (x[i] - mean) / sd;
            z[i] = v > 0 ? v : 0;
            s->sum[(size_t)s->ind_slot[j] * n + i] += z[i];
        }
    }
    memset(s->score, 0, n * sizeof *s->score);
    for (int m = 0; m < s->nmodels; m++) {
        const double *sum = s->sum + (size_t)m * n;
        double *scaled = s->model + (size_t)m * n;
        memcpy(sorted, sum, n * sizeof *sorted);
        qsort(sorted, n, sizeof *sorted, cmp_double);
        /* Nearest rank, 1-based: ceil(99 n / 100), in integers. */
        size_t rank = (MS_SCREEN_PERCENTILE * n + 99) / 100;
        s->p99[m] = n ? sorted[(rank ? rank : 1) - 1] : 0;
        for (size_t i = 0; i < n; i++) {
            scaled[i] = s->p99[m] > 0 ? sum[i] / s->p99[m] : 0;
            s->score[i] += scaled[i];
        }
    }
    free(gnum), free(gden), free(gsum), free(gsq), free(gcnt), free(x), free(sorted);
    return MS_OK;
}

void ms_screen_free(ms_screen_t *s)
{
    free(s->ind_model), free(s->ind_index), free(s->ind_slot), free(s->model_of);
    free(s->num), free(s->den), free(s->z), free(s->group), free(s->p99), free(s->model), free(s->sum),
        free(s->score);
    memset(s, 0, sizeof *s);
}
