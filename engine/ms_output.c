/*
 * ms_output.c - the files an inspector and a model developer open.
 */
#include "ms_output.h"
#include "ms_report.h"

#include "ms_parallel.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_csv.h"
#include "ms_features.h"
#include "ms_fs.h"
#include "ms_parallel.h"
#include "ms_line.h"

static ms_status_t open_out(const char *dir, const char *name, ms_afile_t *f)
{
    char *path = ms_path_join(dir, name);
    if (!path) return ms_error_set(MS_E_NOMEM, "out of memory");
    ms_status_t st = ms_afile_open(f, path);
    free(path);
    return st;
}

/* A CSV output, opened with a UTF-8 byte-order mark with --excel (a
 * spreadsheet then reads the Chinese right; other tools skip it or not,
 * so it is only on request). */
static ms_status_t open_csv(const ms_output_t *o, const char *name, ms_afile_t *f)
{
    MS_TRY(open_out(o->dir, name, f));
    if (o->excel) fputs("\xEF\xBB\xBF", f->fp);
    return MS_OK;
}

static ms_status_t finish(ms_afile_t *f)
{
    if (ferror(f->fp)) {
        int err = errno ? errno : EIO;
        char path[4096];
        snprintf(path, sizeof path, "%s", f->path);
        ms_afile_abort(f);
        return ms_error_errno(MS_E_IO, err, "cannot write %s", path);
    }
    return ms_afile_commit(f);
}

/* A text field (codes and names from the extracts, reasons), inside a row
 * assembled in l (io/common/ms_line.h: numbers without printf, whose
 * format parsing was most of the time spent writing millions of rows): a
 * leading "'" where it would start a formula (ms_csv_write_text, shared
 * with rejected.csv). */
static void text(ms_line_t *l, const char *s)
{
    size_t n = strlen(s);
    /* Most text (codes, names, reasons) needs neither quotes nor a guard:
     * copied into the row, not a write of its own per field. */
    if (ms_csv_text_is_plain(s, n)) {
        ms_line_put(l, s, n);
        return;
    }
    ms_line_flush(l);
    ms_csv_write_text(l->fp, s, n);
}

/* ',' then v. */
static void comma_fixed(ms_line_t *l, double v, int decimals)
{
    ms_line_char(l, ',');
    ms_line_fixed(l, v, decimals);
}

/* Does model m take part in the score (a weight and a scored indicator)? */
static int scores(const ms_score_t *s, int m)
{
    for (int j = 0; j < s->nind; j++)
        if (s->ind_model[j] == m) return 1;
    return 0;
}

/* ranked.csv (model < 0) or ranked_<model>.csv */
static ms_status_t write_ranked(const ms_output_t *o, int model)
{
    const ms_score_t *s = o->score;
    const ms_refs_t *refs = s->refs;
    char name[256];
    if (model < 0) snprintf(name, sizeof name, "ranked.csv");
    else snprintf(name, sizeof name, "ranked_%s.csv", s->models[model]->name);
    ms_afile_t f;
    MS_TRY(open_csv(o, name, &f));
    /* priority: the order (the strength of the credible evidence, 0..1);
     * peer_percentile: where the institution stands among its peers by it;
     * score_<model>: each scoring model's part. */
    /* region, kind and level are codes (for tools); province and
     * level_name the same in words (--lang). */
    fputs("rank,inst_code,name,region,province,kind,level,level_name,priority,peer_percentile", f.fp);
    for (int m = 0; m < s->nmodels; m++)
        if (scores(s, m)) fprintf(f.fp, ",score_%s", s->models[m]->name);
    fputs(",reason_1,reason_2,reason_3,suspicious_amount_yuan,likely_recovery_yuan,records_swept,data_coverage\n",
          f.fp);
    ms_line_t line = {.fp = f.fp}, *l = &line;
    /* Order: the overall ranking, or this model's score. */
    uint32_t n = (uint32_t)refs->n_inst, cnt = 0;
    uint32_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!order) {
        ms_afile_abort(&f);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    size_t M = (size_t)s->nmodels;
    if (model < 0) {
        memcpy(order, s->order, s->n_ranked * sizeof *order);
        cnt = s->n_ranked;
    } else {
        for (uint32_t i = 0; i < n; i++)
            if (s->model_score[i * M + (size_t)model] > 0) order[cnt++] = i;
        /* By this model's score; ties by priority, then id: deterministic. */
        for (uint32_t a = 1; a < cnt; a++) {
            uint32_t v = order[a], b = a;
            double sv = s->model_score[v * M + (size_t)model];
            while (b > 0) {
                uint32_t u = order[b - 1];
                double su = s->model_score[u * M + (size_t)model];
                if (su > sv || (su == sv && (s->priority[u] > s->priority[v] ||
                                             (s->priority[u] == s->priority[v] && u < v))))
                    break;
                order[b] = u;
                b--;
            }
            order[b] = v;
        }
    }
    if (o->top > 0 && cnt > (uint32_t)o->top) cnt = (uint32_t)o->top;
    /* Province and level names looked up once each, not per row (a
     * catalogue key formatted and searched: a third of this file's
     * instructions at 420,000 institutions). */
    const char *province[100] = {0}, *level[16] = {0};
    for (uint32_t r = 0; r < cnt; r++) {
        uint32_t i = order[r];
        const ms_institution_t *x = &refs->inst[i];
        ms_line_u64(l, r + 1);
        ms_line_char(l, ',');
        text(l, x->inst_code);
        ms_line_char(l, ',');
        text(l, x->name);
        char region[16];
        if (x->region >= 0 && x->region <= 999999) {
            region[0] = ',';
            for (int d = 6, v = x->region; d > 0; d--, v /= 10) region[d] = (char)('0' + v % 10);
            region[7] = ',';
            region[8] = '\0';
        } else {
            snprintf(region, sizeof region, ",%06d,", x->region);
        }
        ms_line_str(l, region);
        int pv = x->region / 10000 % 100;
        if (pv >= 0 && !province[pv]) province[pv] = ms_msg_province(o->lang, x->region);
        ms_line_str(l, pv >= 0 ? province[pv] : ms_msg_province(o->lang, x->region));
        ms_line_char(l, ',');
        ms_line_str(l, ms_enum_kind.names[x->kind]);
        ms_line_char(l, ',');
        ms_line_u64(l, x->level);
        ms_line_char(l, ',');
        int lv = (int)x->level;
        if (lv >= 0 && lv < 16 && !level[lv]) level[lv] = ms_msg_level(o->lang, lv);
        ms_line_str(l, lv >= 0 && lv < 16 ? level[lv] : ms_msg_level(o->lang, lv));
        comma_fixed(l, s->priority[i], 4);
        comma_fixed(l, s->peer_rank[i], 1);
        for (size_t m = 0; m < M; m++)
            if (scores(s, (int)m)) comma_fixed(l, s->model_score[i * M + m], 4);
        char reasons[3][160];
        int k = ms_score_reasons(s, i, reasons, 3);
        for (int q = 0; q < 3; q++) {
            ms_line_char(l, ',');
            if (q < k) text(l, reasons[q]);
        }
        comma_fixed(l, s->suspicious[i], 2);
        comma_fixed(l, s->recovery[i], 2);
        ms_line_char(l, ',');
        ms_line_i64(l, s->records ? s->records[i] : 0);
        ms_line_char(l, ',');
        text(l, o->coverage ? o->coverage : "complete");
        ms_line_char(l, '\n');
    }
    free(order);
    ms_line_flush(l);
    return finish(&f);
}

/* Scored indicator index of (model, indicator), or -1. */
static int scored_index(const ms_score_t *s, int model, int ind)
{
    for (int j = 0; j < s->nind; j++)
        if (s->ind_model[j] == model && s->ind_index[j] == ind) return j;
    return -1;
}

/* clues.csv's fact columns: every column some indicator's facts name, in
 * the order the models and their indicators first name them (one column
 * for every indicator that names it; its kind is the first naming's). */
typedef struct {
    const char *column;
    ms_fact_kind_t kind;
} fact_col_t;

static size_t fact_columns(const ms_score_t *s, fact_col_t *cols, size_t cap)
{
    size_t n = 0;
    for (int m = 0; m < s->nmodels; m++)
        for (int i = 0; i < s->models[m]->nindicators; i++)
            for (int k = 0; k < MS_CLUE_FACTS; k++) {
                const ms_fact_t *f = &s->models[m]->indicators[i].facts[k];
                if (!f->column || f->kind == MS_FACT_NONE) continue;
                size_t c = 0;
                while (c < n && strcmp(cols[c].column, f->column)) c++;
                if (c == n && n < cap) cols[n++] = (fact_col_t){f->column, f->kind};
            }
    return n;
}

/* A dictionary's text of id, or "" when it has none. */
static const char *dict_text(const ms_dict_t *d, int64_t id)
{
    return id >= 0 && (uint64_t)id < d->count ? d->str[id] : "";
}

/* Fact k of clue c, as its kind writes it. */
static void write_fact(ms_line_t *l, const ms_refs_t *r, const ms_clue_t *c, int k, ms_fact_kind_t kind)
{
    int64_t v = c->fact[k];
    char buf[48];
    switch (kind) {
    case MS_FACT_NONE: break;
    case MS_FACT_COUNT:
    case MS_FACT_ID: ms_line_i64(l, v); break;
    case MS_FACT_FEN:
        ms_money_format(v, buf);
        ms_line_str(l, buf);
        break;
    case MS_FACT_PPM: /* a share, exactly: millionths as six decimals */
        snprintf(buf, sizeof buf, "%s%lld.%06lld", v < 0 ? "-" : "", (long long)(llabs(v) / 1000000),
                 (long long)(llabs(v) % 1000000));
        ms_line_str(l, buf);
        break;
    case MS_FACT_MILLI: /* a quantity, exactly: thousandths as three decimals */
        snprintf(buf, sizeof buf, "%s%lld.%03lld", v < 0 ? "-" : "", (long long)(llabs(v) / 1000),
                 (long long)(llabs(v) % 1000));
        ms_line_str(l, buf);
        break;
    case MS_FACT_DATE:
        ms_date_format((int32_t)v, buf);
        ms_line_str(l, buf);
        break;
    case MS_FACT_DIAG: text(l, dict_text(&r->diagnoses, v)); break;
    case MS_FACT_DRUG: text(l, dict_text(&r->drugs, v)); break;
    case MS_FACT_GROUP: text(l, v >= 0 && (uint64_t)v < r->n_groups ? r->groups[v].group_code : ""); break;
    case MS_FACT_TRACE:
        if (k + 1 < MS_CLUE_FACTS) {
            /* Its two halves joined by '-': 20 digits alone would be read
             * as a (rounded) number by DuckDB and pandas. */
            snprintf(buf, sizeof buf, "%010llu-%010llu", (unsigned long long)v, (unsigned long long)c->fact[k + 1]);
            ms_line_str(l, buf);
        }
        break;
    }
}

/* ",money" in yuan, or "," when the record is not of this kind. */
static void comma_money(ms_line_t *l, int64_t fen, int yes)
{
    ms_line_char(l, ',');
    if (!yes) return;
    char money[32];
    ms_money_format(fen, money);
    ms_line_str(l, money);
}

/* clues.csv's words ("settlement", "admission", ...) in the output's language. */
static const char *word(ms_lang_t lang, const char *w)
{
    char key[64];
    snprintf(key, sizeof key, "word.%s", w);
    return ms_msg_or(lang, key, w);
}

/* An indicator's words and columns in clues.csv, the same for each of its
 * clues: its finding, record and date words, counterpart words, which of
 * its facts fills each fact column (-1: none), its scored index. */
typedef struct {
    const char *finding, *record, *date_is, *other_is;
    int8_t fact_of[64];
    int scored;
} clue_words_t;

static void clue_words(const ms_output_t *o, int m, int i, const fact_col_t *cols, size_t ncols, clue_words_t *w)
{
    const ms_model_t *mod = o->score->models[m];
    const ms_indicator_t *ind = &mod->indicators[i];
    w->finding = ms_msg_reason(o->lang, mod, i);
    w->record = word(o->lang, ind->clue_record ? ind->clue_record : "settlement");
    w->date_is = word(o->lang, ind->clue_date ? ind->clue_date : "settlement");
    const char *other = ms_msg_other(o->lang, mod, i);
    w->other_is = other ? other : "";
    w->scored = scored_index(o->score, m, i);
    for (size_t k = 0; k < ncols && k < 64; k++) {
        w->fact_of[k] = -1;
        for (int x = 0; x < MS_CLUE_FACTS; x++)
            if (ind->facts[x].column && !strcmp(ind->facts[x].column, cols[k].column)) {
                w->fact_of[k] = (int8_t)x;
                break;
            }
    }
}

static ms_status_t write_clues(const ms_output_t *o)
{
    const ms_score_t *s = o->score;
    const ms_refs_t *r = s->refs;
    ms_afile_t f;
    MS_TRY(open_csv(o, "clues.csv", &f));
    fact_col_t cols[64];
    size_t ncols = fact_columns(s, cols, sizeof cols / sizeof *cols);
    /* One row per record behind an indicator (docs/models.md, Clues): the
     * institution, the finding in words, the record, the other half of the
     * evidence where there is one, and the indicator's facts.  Money in
     * yuan; dates YYYY-MM-DD; shares 0..1. */
    fputs("inst_code,inst_name,model,indicator,finding,numerator,denominator,peer_percentile,"
          "record,settle_id,person_id,date,date_is,fund_pay_yuan,line_amount_yuan,"
          "other_is,other_settle_id,other_inst_code,other_inst_name,other_date,other_fund_pay_yuan,"
          "other_line_amount_yuan", f.fp);
    for (size_t k = 0; k < ncols; k++) {
        fputc(',', f.fp);
        fputs(cols[k].column, f.fp);
    }
    fputc('\n', f.fp);
    ms_line_t line = {.fp = f.fp}, *l = &line;
    for (int m = 0; m < s->nmodels; m++) {
        const ms_model_result_t *res = &s->results[m];
        /* What every clue of an indicator shares, found once (a national
         * sweep writes millions of clues). */
        int ni = s->models[m]->nindicators;
        clue_words_t *cw = calloc((size_t)ni + 1, sizeof *cw);
        if (!cw) {
            ms_afile_abort(&f);
            return ms_error_set(MS_E_NOMEM, "out of memory");
        }
        for (int i = 0; i < ni; i++) clue_words(o, m, i, cols, ncols, &cw[i]);
        for (size_t q = 0; q < res->nclues; q++) {
            const ms_clue_t *c = &res->clues[q];
            const ms_indicator_t *ind = &s->models[m]->indicators[c->indicator];
            const clue_words_t *w = &cw[c->indicator];
            int j = w->scored;
            size_t at = ms_score_cell(s, c->inst, (size_t)(j < 0 ? 0 : j));
            /* A clue never rests on an indicator too small to report, and
             * the evidence is written where it points somewhere: at
             * institutions whose indicator deviates from their peers. */
            if (j >= 0 && (!s->reported[at] || (!s->cfg->score[MS_SCORE_ALL_CLUES] && s->z[at] <= 0))) continue;
            int64_t num = res->num[(size_t)c->indicator * res->n_inst + c->inst];
            int64_t den = res->den[(size_t)c->indicator * res->n_inst + c->inst];
            if (j < 0 && !ms_score_enough_records(s, ind, num, den)) continue;
            /* A drug line's amount is the line's, not a fund payment. */
            int line_rec = ind->clue_record != NULL;
            char day[11];
            text(l, r->inst[c->inst].inst_code);
            ms_line_char(l, ',');
            text(l, r->inst[c->inst].name);
            ms_line_char(l, ',');
            ms_line_str(l, s->models[m]->name);
            ms_line_char(l, ',');
            ms_line_str(l, ind->name);
            ms_line_char(l, ',');
            text(l, w->finding);
            ms_line_char(l, ',');
            ms_line_i64(l, num);
            ms_line_char(l, ',');
            ms_line_i64(l, den);
            if (j >= 0) comma_fixed(l, s->percentile[at], 1);
            else ms_line_char(l, ',');
            ms_line_char(l, ',');
            ms_line_str(l, w->record);
            ms_line_char(l, ',');
            ms_line_u64(l, c->settle_id);
            ms_line_char(l, ',');
            ms_line_u64(l, c->person_id);
            ms_line_char(l, ',');
            ms_date_format(c->date, day);
            ms_line_str(l, day);
            ms_line_char(l, ',');
            ms_line_str(l, w->date_is);
            comma_money(l, c->amount, !line_rec);
            comma_money(l, c->amount, line_rec);
            ms_line_char(l, ',');
            int other = c->other_settle != 0 && c->other_inst < r->n_inst;
            if (other) {
                text(l, w->other_is);
                ms_line_char(l, ',');
                ms_line_u64(l, c->other_settle);
                ms_line_char(l, ',');
                text(l, r->inst[c->other_inst].inst_code);
                ms_line_char(l, ',');
                text(l, r->inst[c->other_inst].name);
                ms_line_char(l, ',');
                ms_date_format(c->other_date, day);
                ms_line_str(l, day);
            } else {
                ms_line_str(l, ",,,,");
            }
            comma_money(l, c->other_amount, other && !line_rec);
            comma_money(l, c->other_amount, other && line_rec);
            for (size_t k = 0; k < ncols; k++) {
                ms_line_char(l, ',');
                int x = w->fact_of[k];
                if (x >= 0) write_fact(l, r, c, x, ind->facts[x].kind);
            }
            ms_line_char(l, '\n');
        }
        free(cw);
    }
    ms_line_flush(l);
    return finish(&f);
}

/* An indicator's words in indicators.csv, measured once, not per row:
 * "number,unit", an amount in yuan (kept in fen) or a count of what the
 * unit says ("records" when it says nothing). */
typedef struct {
    const char *model, *name, *num_unit, *den_unit;
    size_t model_len, name_len, num_unit_len, den_unit_len;
    int num_yuan, den_yuan;
} ind_words_t;

static void unit_value(ms_line_t *l, int64_t v, int yuan)
{
    if (yuan) {
        char money[32];
        ms_money_format(v, money);
        ms_line_str(l, money);
    } else {
        ms_line_i64(l, v);
    }
}

static ms_status_t write_indicators(const ms_output_t *o)
{
    const ms_score_t *s = o->score;
    int nw = 0;
    for (int m = 0; m < s->nmodels; m++) nw += s->results[m].nind;
    ind_words_t *words = calloc((size_t)(nw ? nw : 1), sizeof *words);
    if (!words) return ms_error_set(MS_E_NOMEM, "out of memory");
    for (int m = 0, w = 0; m < s->nmodels; m++)
        for (int k = 0; k < s->results[m].nind; k++, w++) {
            const ms_indicator_t *ind = &s->models[m]->indicators[k];
            ind_words_t *x = &words[w];
            x->model = s->models[m]->name;
            x->name = ind->name;
            x->num_unit = ind->num_unit ? ind->num_unit : "records";
            x->den_unit = ind->den_unit ? ind->den_unit : "records";
            x->model_len = strlen(x->model), x->name_len = strlen(x->name);
            x->num_unit_len = strlen(x->num_unit), x->den_unit_len = strlen(x->den_unit);
            x->num_yuan = !strcmp(x->num_unit, "yuan"), x->den_yuan = !strcmp(x->den_unit, "yuan");
        }
    ms_afile_t f;
    ms_status_t st = open_csv(o, "indicators.csv", &f);
    if (st != MS_OK) {
        free(words);
        return st;
    }
    /* Each number with what it counts ("yuan": written in yuan, two
     * decimals; docs/models.md, Outputs). */
    fputs("inst_code,model,indicator,numerator,numerator_unit,denominator,denominator_unit\n", f.fp);
    ms_line_t line = {.fp = f.fp}, *l = &line;
    for (size_t i = 0; i < s->refs->n_inst; i++) {
        const char *code = s->refs->inst[i].inst_code;
        size_t code_len = 0;
        int plain = -1; /* the code needs no quotes or guard (asked at its first row) */
        for (int m = 0, w = 0; m < s->nmodels; m++) {
            const ms_model_result_t *r = &s->results[m];
            for (int k = 0; k < r->nind; k++, w++) {
                if (i >= r->n_inst) continue;
                int64_t num = r->num[(size_t)k * r->n_inst + i], den = r->den[(size_t)k * r->n_inst + i];
                if (!num && !den) continue;
                const ind_words_t *x = &words[w];
                if (plain < 0) code_len = strlen(code), plain = ms_csv_text_is_plain(code, code_len);
                if (plain)
                    ms_line_put(l, code, code_len);
                else
                    text(l, code);
                ms_line_char(l, ',');
                ms_line_put(l, x->model, x->model_len);
                ms_line_char(l, ',');
                ms_line_put(l, x->name, x->name_len);
                ms_line_char(l, ',');
                unit_value(l, num, x->num_yuan);
                ms_line_char(l, ',');
                ms_line_put(l, x->num_unit, x->num_unit_len);
                ms_line_char(l, ',');
                unit_value(l, den, x->den_yuan);
                ms_line_char(l, ',');
                ms_line_put(l, x->den_unit, x->den_unit_len);
                ms_line_char(l, '\n');
            }
        }
    }
    ms_line_flush(l);
    free(words);
    return finish(&f);
}

static ms_status_t write_features(const ms_output_t *o)
{
    const ms_score_t *s = o->score;
    size_t J = (size_t)s->nind, M = (size_t)s->nmodels;
    char **names = calloc(J + 1, sizeof *names);
    const char **descr = calloc(J + 1, sizeof *descr);
    const char **mnames = calloc(M + 1, sizeof *mnames);
    int32_t *kind = calloc(J + 1, sizeof *kind), *dir = calloc(J + 1, sizeof *dir);
    double *mw = calloc(M + 1, sizeof *mw);
    /* The matrices by column: the models' numerators and denominators
     * where they are, the scoring's indicator-major arrays. */
    const int64_t **num = calloc(J + 1, sizeof *num), **den = calloc(J + 1, sizeof *den);
    const double **val = calloc(J + 1, sizeof *val), **pv = calloc(J + 1, sizeof *pv), **z = calloc(J + 1, sizeof *z);
    const double **pct = calloc(J + 1, sizeof *pct);
    const uint8_t **rep = calloc(J + 1, sizeof *rep);
    ms_status_t st = MS_OK;
    if (!names || !descr || !mnames || !kind || !dir || !mw || !num || !den || !val || !pv || !z || !pct || !rep)
        st = ms_error_set(MS_E_NOMEM, "out of memory");
    for (size_t j = 0; st == MS_OK && j < J; j++) {
        const ms_model_t *m = s->models[s->ind_model[j]];
        const ms_indicator_t *ind = &m->indicators[s->ind_index[j]];
        size_t len = strlen(m->name) + strlen(ind->name) + 2;
        names[j] = malloc(len);
        if (!names[j]) {
            st = ms_error_set(MS_E_NOMEM, "out of memory");
            break;
        }
        snprintf(names[j], len, "%s.%s", m->name, ind->name);
        _Static_assert(MS_IND_INFO == 0 && MS_IND_SHARE == 1 && MS_IND_RATIO == 2, "MS_FEATURES_KIND_NAMES");
        kind[j] = (int32_t)ind->kind;
        descr[j] = ind->description;
        dir[j] = ind->direction;
        const ms_model_result_t *r = &s->results[s->ind_model[j]];
        num[j] = r->num + (size_t)s->ind_index[j] * r->n_inst;
        den[j] = r->den + (size_t)s->ind_index[j] * r->n_inst;
        size_t at = ms_score_cell(s, 0, j);
        val[j] = s->value + at, pv[j] = s->peer_value + at, z[j] = s->z + at;
        pct[j] = s->percentile + at, rep[j] = s->reported + at;
    }
    for (size_t m = 0; m < M; m++) {
        mnames[m] = s->models[m]->name;
        mw[m] = ms_config_model(s->cfg, s->models[m])->weight;
    }
    if (st == MS_OK) {
        ms_features_t f = {s->refs, s->peer, J, M, (const char *const *)names, kind, dir, s->no_signal, mnames, mw,
                           num, den, val, pv, z, pct, rep, s->model_score,
                           s->overall, s->suspicious, s->recovery, s->priority, descr, o->version, o->config_hash};
        char *path = ms_path_join(o->dir, "features.h5");
        st = path ? ms_features_write(path, &f) : ms_error_set(MS_E_NOMEM, "out of memory");
        free(path);
    }
    for (size_t j = 0; names && j < J; j++) free(names[j]);
    free(names), free(descr), free(mnames), free(kind), free(dir), free(mw), free(num), free(den);
    free(val), free(pv), free(z), free(pct), free(rep);
    return st;
}

/* One file: -3 features.h5, -2 indicators.csv, -1 ranked.csv, -4
 * clues.csv, m >= 0 ranked_<model m>.csv. */
typedef struct {
    const ms_output_t *o;
    int *jobs;
} files_t;

static ms_status_t write_one(void *ctx, int k)
{
    const files_t *f = ctx;
    switch (f->jobs[k]) {
    case -5: return ms_report_write(f->o);
    case -4: return write_clues(f->o);
    case -3: return write_features(f->o);
    case -2: return write_indicators(f->o);
    default: return write_ranked(f->o, f->jobs[k]);
    }
}

ms_status_t ms_output_write(const ms_output_t *o)
{
    files_t f = {o, malloc((size_t)(o->score->nmodels + 5) * sizeof(int))};
    if (!f.jobs) return ms_error_set(MS_E_NOMEM, "out of memory");
    int n = 0;
    /* The largest first, so that the last to start is a small one. */
    f.jobs[n++] = -3;
    f.jobs[n++] = -2;
    f.jobs[n++] = -1;
    f.jobs[n++] = -4;
    f.jobs[n++] = -5;
    for (int m = 0; m < o->score->nmodels; m++) {
        int scored = 0;
        for (int j = 0; j < o->score->nind; j++) scored |= o->score->ind_model[j] == m;
        if (scored) f.jobs[n++] = m;
    }
    ms_status_t st = ms_parallel_jobs(n, o->threads, write_one, &f);
    free(f.jobs);
    return st;
}
