/*
 * ms_report.c - report.html (ms_report.h; docs/report.md): the one page a
 * person reads first.
 *
 * The page is written top to bottom in one pass: the summary (what was
 * read and rejected, ranked, flagged, the money), the top of the ranked
 * list with its reasons, a view per model and per province, then a dossier
 * per institution of that list with a credible reason (its indicators
 * against its peers, the peers' distributions, its clues grouped by
 * indicator, what to ask for on site).  Every figure is in an HTML table,
 * so the page reads without scripts.  The charts are drawn by ECharts
 * (SVG renderer), inlined from echarts.common.min.js, from one JSON object
 * that is written beside the tables as they go (into a memory stream) and
 * put at the end of the page with a short drawing script.  Without the
 * library the page is the same tables and says so; the sweep prints
 * nothing about it.
 *
 * Size and time do not grow with the country: the list and the dossiers
 * are the first REPORT_TOP rows; a distribution is REPORT_BINS counts of
 * the peer group's values; a dossier shows the REPORT_CLUES largest
 * records of each indicator (clues.csv has them all).  The work is one
 * pass over the institutions, one over the clues, and per distribution
 * one pass over a peer group.
 *
 * Deterministic: no clock, nothing from the thread count; the same sweep
 * writes the same bytes.  Every string from the data (codes, names, the
 * dataset's path) is escaped for where it goes: HTML text and attributes,
 * or JSON inside a script element (where "<" is written \u003c).
 *
 * Words come from the message catalogue (ms_i18n.h; this page's part is
 * ms_i18n_report.c): messages with figures in them mark the places {1},
 * {2}, ... (say()), so that each language orders them as it needs.
 */
#include "ms_report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_buf.h"
#include "ms_fs.h"
#include "ms_schema.h"

#define REPORT_TOP 50        /* institutions in the list, at most (and so dossiers) */
#define REPORT_TOP_CHART 20  /* of them in the priority chart */
#define REPORT_BINS 20       /* bins of a peer distribution */
#define REPORT_HISTS 4       /* distributions per dossier, at most (its strongest reasons) */
#define REPORT_CLUES 10      /* records shown per indicator of a dossier */
#define REPORT_REASONS 8     /* reasons listed in a dossier, at most */
#define REPORT_PROVINCES 100 /* the two leading digits of a region */

/* Where ECharts is looked for: MS_ECHARTS_JS in the environment, else the
 * copy the project's set-up installs in the source tree, else the
 * installed one (engine/CMakeLists.txt defines both). */
#ifndef MS_ECHARTS_JS
#define MS_ECHARTS_JS ""
#endif
#ifndef MS_ECHARTS_JS_INSTALLED
#define MS_ECHARTS_JS_INSTALLED ""
#endif

/* The fonts of the page and of the charts: CJK faces first (Debian's
 * fonts-noto-cjk, then those of other systems), so that Chinese never
 * falls back to boxes. */
#define REPORT_FONTS                                                                                                 \
    "\"Noto Sans CJK SC\", \"Source Han Sans SC\", \"PingFang SC\", \"Microsoft YaHei\", \"WenQuanYi Zen Hei\", "  \
    "\"Noto Sans\", \"DejaVu Sans\", sans-serif"

typedef struct {
    FILE *fp;                 /* the page */
    FILE *js;                 /* the charts' data, a JSON object (NULL: no charts) */
    ms_lang_t lang;
    const ms_output_t *o;
    const ms_score_t *s;
} page_t;

/* ------------------------------------------------------------ escaping */

/* s as HTML text or inside a double-quoted attribute. */
static void esc(FILE *fp, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", fp); break;
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '"': fputs("&quot;", fp); break;
        case '\'': fputs("&#39;", fp); break;
        default: fputc(*s, fp);
        }
    }
}

/* s inside a JSON string inside a <script> element: quotes and controls
 * escaped, and <, >, & as \u escapes so that nothing in the data can end
 * the element or open a comment. */
static void jbody(FILE *fp, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            fputc('\\', fp);
            fputc(c, fp);
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            fprintf(fp, "\\u%04x", c);
        } else {
            fputc(c, fp);
        }
    }
}

/* s as a JSON string (jbody). */
static void jstr(FILE *fp, const char *s)
{
    fputc('"', fp);
    jbody(fp, s);
    fputc('"', fp);
}

/* A number for JSON (never NaN or infinite). */
static void jnum(FILE *fp, double v) { fprintf(fp, "%.6g", isfinite(v) ? v : 0.0); }

/* ------------------------------------------------------------- words */

static const char *T(const page_t *p, const char *key) { return ms_msg_or(p->lang, key, key); }

/* Message key with its places {1}..{9} filled by args (all escaped). */
static void say(const page_t *p, const char *key, int nargs, const char *const *args)
{
    const char *m = T(p, key);
    char piece[2] = {0, 0};
    for (; *m; m++) {
        if (m[0] == '{' && m[1] >= '1' && m[1] <= '9' && m[2] == '}' && m[1] - '1' < nargs) {
            esc(p->fp, args[m[1] - '1']);
            m += 2;
            continue;
        }
        piece[0] = *m;
        esc(p->fp, piece);
    }
}

/* <th>label</th>, class cls when given (numbers are right-aligned). */
static void th(const page_t *p, const char *key, const char *cls)
{
    if (cls) fprintf(p->fp, "<th class=\"%s\">", cls);
    else fputs("<th>", p->fp);
    esc(p->fp, T(p, key));
    fputs("</th>", p->fp);
}

/* ----------------------------------------------------------- numbers */

/* digits (optionally signed, optionally with a fraction) with thousands
 * separators in the integer part. */
static const char *grouped(char *out, size_t cap, const char *digits)
{
    const char *d = digits;
    size_t o = 0;
    if (*d == '-' && o + 1 < cap) out[o++] = *d++;
    size_t ilen = strcspn(d, ".");
    for (size_t k = 0; k < ilen && o + 2 < cap; k++) {
        if (k > 0 && (ilen - k) % 3 == 0) out[o++] = ',';
        out[o++] = d[k];
    }
    for (const char *f = d + ilen; *f && o + 1 < cap; f++) out[o++] = *f;
    out[o] = '\0';
    return out;
}

static const char *fmt_u64(char out[40], uint64_t v)
{
    char raw[32];
    snprintf(raw, sizeof raw, "%llu", (unsigned long long)v);
    return grouped(out, 40, raw);
}

static const char *fmt_yuan(char out[64], double yuan)
{
    char raw[48];
    snprintf(raw, sizeof raw, "%.2f", isfinite(yuan) ? yuan : 0.0);
    return grouped(out, 64, raw);
}

static const char *fmt_fen(char out[64], int64_t fen)
{
    char raw[32];
    ms_money_format(fen, raw);
    return grouped(out, 64, raw);
}

/* An indicator's value as people read it: a share in percent (rare events
 * keep two decimals, as the reasons do), a ratio with two decimals. */
static const char *fmt_value(char out[40], const ms_indicator_t *ind, double v)
{
    if (ind->kind == MS_IND_SHARE) snprintf(out, 40, "%.*f%%", v < 0.01 ? 2 : 1, 100 * v);
    else snprintf(out, 40, "%.2f", v);
    return out;
}

/* --------------------------------------------------------- the data */

typedef struct {
    uint32_t dossier;         /* index into the dossiers */
    int j;                    /* scored indicator */
    const ms_clue_t *c;
} dclue_t;

static int cmp_dclue(const void *a, const void *b)
{
    const dclue_t *x = a, *y = b;
    if (x->dossier != y->dossier) return x->dossier < y->dossier ? -1 : 1;
    if (x->j != y->j) return x->j - y->j;
    /* the largest amounts first: what an inspector pulls first */
    if (x->c->amount != y->c->amount) return x->c->amount > y->c->amount ? -1 : 1;
    if (x->c->settle_id != y->c->settle_id) return x->c->settle_id < y->c->settle_id ? -1 : 1;
    if (x->c->date != y->c->date) return x->c->date < y->c->date ? -1 : 1;
    /* the same indicator: the same model's clue array, in its order */
    return x->c < y->c ? -1 : x->c > y->c;
}

typedef struct {
    double key;
    int j;
} cand_t;

static int cmp_cand(const void *a, const void *b)
{
    const cand_t *x = a, *y = b;
    if (x->key != y->key) return x->key > y->key ? -1 : 1;
    return x->j - y->j;
}

typedef struct {
    size_t n, J, M;
    uint32_t ntop;            /* rows of the list: order[0 .. ntop) */
    uint32_t ndos;            /* dossiers: the rows of the list with a credible reason */
    uint32_t *dos_inst;       /* [ndos] */
    uint32_t *dos_rank;       /* [ndos] 1-based */
    dclue_t *clues;           /* the dossiers' clues at their credible indicators, sorted */
    size_t nclues;
    size_t *gstart;           /* [npeer + 1] peer group g: gmem[gstart[g] .. gstart[g + 1]) */
    uint32_t *gmem;           /* [n] */
    int *scoring;             /* [M] the model has a scored indicator */
    double wsum;              /* the scoring models' weights (as ms_score combines them) */
    cand_t *cand, *rest;      /* [J] a dossier's indicators, credible and not (scratch) */
} data_t;

static void data_free(data_t *d)
{
    free(d->dos_inst), free(d->dos_rank), free(d->clues), free(d->gstart), free(d->gmem), free(d->scoring);
    free(d->cand), free(d->rest);
    memset(d, 0, sizeof *d);
}

static int scored_index(const ms_score_t *s, int model, int ind)
{
    for (int j = 0; j < s->nind; j++)
        if (s->ind_model[j] == model && s->ind_index[j] == ind) return j;
    return -1;
}

static ms_status_t data_make(const ms_output_t *o, data_t *d)
{
    const ms_score_t *s = o->score;
    memset(d, 0, sizeof *d);
    d->n = s->refs->n_inst;
    d->J = (size_t)s->nind;
    d->M = (size_t)s->nmodels;
    uint32_t cap = REPORT_TOP;
    if (o->top > 0 && (uint32_t)o->top < cap) cap = (uint32_t)o->top;
    d->ntop = s->n_ranked < cap ? s->n_ranked : cap;
    d->dos_inst = malloc((d->ntop + 1) * sizeof *d->dos_inst);
    d->dos_rank = malloc((d->ntop + 1) * sizeof *d->dos_rank);
    d->gstart = calloc((size_t)s->npeer + 1, sizeof *d->gstart);
    d->gmem = malloc((d->n + 1) * sizeof *d->gmem);
    d->scoring = calloc(d->M + 1, sizeof *d->scoring);
    d->cand = malloc((d->J + 1) * sizeof *d->cand);
    d->rest = malloc((d->J + 1) * sizeof *d->rest);
    int32_t *dos_of = malloc((d->n + 1) * sizeof *dos_of);
    if (!d->dos_inst || !d->dos_rank || !d->gstart || !d->gmem || !d->scoring || !d->cand || !d->rest || !dos_of) {
        free(dos_of);
        data_free(d);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < d->n; i++) dos_of[i] = -1;
    for (uint32_t r = 0; r < d->ntop; r++) {
        uint32_t i = s->order[r];
        if (s->priority[i] <= 0) continue;
        dos_of[i] = (int32_t)d->ndos;
        d->dos_inst[d->ndos] = i;
        d->dos_rank[d->ndos++] = r + 1;
    }
    for (size_t j = 0; j < d->J; j++) d->scoring[s->ind_model[j]] = 1;
    for (size_t m = 0; m < d->M; m++)
        if (d->scoring[m]) d->wsum += ms_config_model(s->cfg, s->models[m])->weight;
    /* Peer groups' members (a counting sort, ascending ids in a group). */
    for (size_t i = 0; i < d->n; i++) d->gstart[s->peer[i] + 1]++;
    for (uint32_t g = 0; g < s->npeer; g++) d->gstart[g + 1] += d->gstart[g];
    {
        size_t *at = malloc(((size_t)s->npeer + 1) * sizeof *at);
        if (!at) {
            free(dos_of);
            data_free(d);
            return ms_error_set(MS_E_NOMEM, "out of memory");
        }
        memcpy(at, d->gstart, ((size_t)s->npeer + 1) * sizeof *at);
        for (size_t i = 0; i < d->n; i++) d->gmem[at[s->peer[i]]++] = (uint32_t)i;
        free(at);
    }
    /* The dossiers' clues at their credible indicators (one pass over
     * every clue; only the list's institutions keep any). */
    size_t cnt = 0, ccap = 0;
    for (int m = 0; m < s->nmodels; m++) {
        const ms_model_result_t *res = &s->results[m];
        for (size_t q = 0; q < res->nclues; q++) {
            const ms_clue_t *c = &res->clues[q];
            if (c->inst >= d->n || dos_of[c->inst] < 0) continue;
            int j = scored_index(s, m, c->indicator);
            if (j < 0 || !s->credible[ms_score_cell(s, c->inst, (size_t)j)]) continue;
            if (cnt == ccap && ms_grow(&d->clues, &ccap, cnt + 1, sizeof *d->clues, 1024) != MS_OK) {
                free(dos_of);
                data_free(d);
                return ms_error_set(MS_E_NOMEM, "out of memory");
            }
            d->clues[cnt++] = (dclue_t){(uint32_t)dos_of[c->inst], j, c};
        }
    }
    free(dos_of);
    d->nclues = cnt;
    if (cnt) qsort(d->clues, cnt, sizeof *d->clues, cmp_dclue);
    return MS_OK;
}

/* Institution i's credible indicators, strongest first (the order of its
 * reasons: z x indicator weight x model weight, ms_score_reasons). */
static int credible_of(const ms_score_t *s, uint32_t i, cand_t *c, int cap)
{
    int order[256];
    int nc = ms_score_reason_order(s, i, order, cap < 256 ? cap : 256);
    for (int q = 0; q < nc; q++) c[q] = (cand_t){0, order[q]};
    return nc;
}

static const ms_indicator_t *indicator_of(const ms_score_t *s, int j)
{
    return &s->models[s->ind_model[j]]->indicators[s->ind_index[j]];
}

static const char *ind_name(const page_t *p, int j)
{
    return ms_msg_indicator(p->lang, p->s->models[p->s->ind_model[j]], p->s->ind_index[j]);
}

static const char *kind_name(const page_t *p, const ms_institution_t *x)
{
    return x->kind < ms_enum_kind.count ? ms_msg_kind(p->lang, ms_enum_kind.names[x->kind]) : "";
}

/* The province of a region in words, or "unknown (NN)". */
static const char *province_name(const page_t *p, int32_t region, char out[64])
{
    const char *w = ms_msg_province(p->lang, region);
    if (w && *w) return w;
    snprintf(out, 64, "%s (%02d)", T(p, "report.prov.unknown"), (int)(region / 10000 % 100));
    return out;
}

/* -------------------------------------------------------- the sections */

static const char *const STYLE =
    "<style>\n"
    ":root{--ink:#1b1f24;--muted:#5b6570;--line:#d5dbe1;--band:#17365d;--accent:#b3261e;--soft:#f3f5f8}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font-family:" REPORT_FONTS ";color:var(--ink);background:#fff;font-size:14px;line-height:1.5}\n"
    "header.band{background:var(--band);color:#fff;padding:18px 32px 14px}\n"
    "header.band h1{margin:0 0 6px;font-size:24px;letter-spacing:.02em}\n"
    "header.band dl{display:flex;flex-wrap:wrap;gap:4px 24px;margin:0;font-size:13px;color:#d8e2ef}\n"
    "header.band dt{display:inline;font-weight:normal}header.band dt:after{content:\"：\"}\n"
    "html[lang=en] header.band dt:after{content:\": \"}\n"
    "header.band dd{display:inline;margin:0;color:#fff}\n"
    "nav{position:sticky;top:0;z-index:5;background:#fff;border-bottom:1px solid var(--line);padding:8px 32px}\n"
    "nav a{margin-right:20px;color:var(--band);text-decoration:none;font-weight:600}\n"
    "main{max-width:1320px;margin:0 auto;padding:8px 32px 40px}\n"
    "section,article{scroll-margin-top:48px}\n"
    "h2{font-size:20px;border-left:5px solid var(--band);padding-left:10px;margin:28px 0 10px}\n"
    "h3{font-size:17px;margin:0 0 8px}h4{font-size:15px;margin:18px 0 6px;color:var(--band)}\n"
    "h5{font-size:14px;margin:12px 0 4px}\n"
    "p.note{color:var(--muted);margin:4px 0 10px}\n"
    ".warn{background:#fff4e5;border:1px solid #f0b35b;padding:8px 12px;border-radius:4px}\n"
    ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(190px,1fr));gap:12px;margin:10px 0 16px}\n"
    ".card{border:1px solid var(--line);border-radius:6px;padding:10px 14px;background:var(--soft)}\n"
    ".card .k{color:var(--muted);font-size:13px}.card .v{font-size:22px;font-weight:700;"
    "font-variant-numeric:tabular-nums}\n"
    ".card .s{color:var(--muted);font-size:12px}.card.hot .v{color:var(--accent)}\n"
    "table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:13px}\n"
    "th,td{border-bottom:1px solid var(--line);padding:5px 6px;text-align:left;vertical-align:top}\n"
    "th{background:var(--soft);font-weight:600}\n"
    "#top-table td:nth-child(3){min-width:120px}#top-table td:nth-child(8){min-width:240px}\n"
    "#top-table td:nth-child(4),#top-table td:nth-child(12){white-space:nowrap}"
    "#top-table td:nth-child(5){min-width:120px}\n"
    ".wide{overflow-x:auto}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "tr.cred td{background:#fdf0ef}\n"
    ".code{font-family:\"DejaVu Sans Mono\",monospace;font-size:12px;white-space:nowrap}\n"
    "ol.r{margin:0;padding-left:18px}ol.r li{margin:0}\n"
    ".none{color:var(--muted)}\n"
    ".chart{display:none}\n"
    ".js .chart{display:block;width:100%;height:360px;margin:6px 0 10px}\n"
    ".js #chart-top{height:560px}.js #chart-ind{height:520px}\n"
    ".hists{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:8px 20px}\n"
    ".hists figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:6px 10px}\n"
    ".hists figcaption{font-weight:600;font-size:13px}\n"
    ".leg{font-weight:normal;color:var(--muted);margin-left:10px}\n"
    ".sw{display:inline-block;width:14px;height:0;vertical-align:middle;margin:0 4px 0 8px}\n"
    ".sw.this{border-top:3px solid var(--accent)}.sw.peers{border-top:2px dashed #333}\n"
    "td.d{white-space:nowrap}tr.quiet td{color:var(--muted)}\n"
    ".js .hists .chart{height:230px}\n"
    "article.dossier{border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin:18px 0;"
    "break-inside:avoid-page}\n"
    "article.dossier h3 .rk{color:#fff;background:var(--accent);border-radius:4px;padding:0 8px;margin-right:8px}\n"
    "dl.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:2px 18px;margin:6px 0}\n"
    "dl.facts div{display:flex;gap:8px}dl.facts dt{color:var(--muted);white-space:nowrap}dl.facts dd{margin:0}\n"
    "ul.ask li{margin:3px 0}\n"
    "footer{color:var(--muted);font-size:12px;border-top:1px solid var(--line);padding:12px 32px;margin-top:24px}\n"
    "@media print{nav{display:none}article.dossier{break-before:page}}\n"
    "</style>\n";

static void write_head(const page_t *p)
{
    const ms_run_summary_t *run = p->o->run;
    fprintf(p->fp, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n",
            p->lang == MS_LANG_EN ? "en" : "zh-CN");
    fputs("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n", p->fp);
    /* Nothing is fetched: no base, no external style, script, font or image. */
    fputs("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n", p->fp);
    fputs("<title>", p->fp);
    esc(p->fp, T(p, "report.title"));
    if (run && run->min_date <= run->max_date && run->max_date) {
        char a[11], b[11];
        ms_date_format(run->min_date, a);
        ms_date_format(run->max_date, b);
        fprintf(p->fp, " %s – %s", a, b);
    }
    fputs("</title>\n", p->fp);
    fputs(STYLE, p->fp);
    fputs("</head>\n<body>\n", p->fp);
}

static void write_band(const page_t *p)
{
    const ms_run_summary_t *run = p->o->run;
    fputs("<header class=\"band\" id=\"top\"><h1 id=\"title\">", p->fp);
    esc(p->fp, T(p, "report.title"));
    fputs("</h1><dl>", p->fp);
    if (run) {
        fputs("<div><dt>", p->fp);
        esc(p->fp, T(p, "report.meta.dataset"));
        fputs("</dt><dd class=\"code\">", p->fp);
        esc(p->fp, run->dataset ? run->dataset : "");
        fputs("</dd></div>", p->fp);
        if (run->max_date) {
            char a[11], b[11];
            ms_date_format(run->min_date, a);
            ms_date_format(run->max_date, b);
            fputs("<div><dt>", p->fp);
            esc(p->fp, T(p, "report.meta.period"));
            fprintf(p->fp, "</dt><dd id=\"period\">%s – %s</dd></div>", a, b);
        }
        char x[40], y[40];
        fputs("<div><dt>", p->fp);
        esc(p->fp, T(p, "report.meta.partitions"));
        fprintf(p->fp, "</dt><dd>%s</dd></div>", fmt_u64(x, run->partitions));
        if (run->partitions_skipped) {
            fputs("<div><dt>", p->fp);
            esc(p->fp, T(p, "report.meta.skipped"));
            fprintf(p->fp, "</dt><dd>%s</dd></div>", fmt_u64(y, run->partitions_skipped));
        }
    }
    const char *version = run && run->version ? run->version : p->o->version;
    const char *hash = run && run->config_hash ? run->config_hash : p->o->config_hash;
    fputs("<div><dt>", p->fp);
    esc(p->fp, T(p, "report.meta.version"));
    fputs("</dt><dd>", p->fp);
    esc(p->fp, version ? version : "");
    fputs("</dd></div><div><dt>", p->fp);
    esc(p->fp, T(p, "report.meta.config"));
    fputs("</dt><dd class=\"code\">", p->fp);
    esc(p->fp, hash ? hash : "");
    fputs("</dd></div></dl></header>\n<nav>", p->fp);
    static const char *const nav[][2] = {{"summary", "report.nav.summary"},   {"list", "report.nav.top"},
                                         {"models", "report.nav.models"},     {"provinces", "report.nav.provinces"},
                                         {"dossiers", "report.nav.dossiers"}};
    for (size_t k = 0; k < sizeof nav / sizeof nav[0]; k++) {
        fprintf(p->fp, "<a href=\"#%s\">", nav[k][0]);
        esc(p->fp, T(p, nav[k][1]));
        fputs("</a>", p->fp);
    }
    fputs("</nav>\n<main>\n", p->fp);
}

/* The notes before the figures: charts need scripts; the library is
 * missing (and where it was looked for); partitions were skipped. */
static void write_notes(const page_t *p, const char *const *looked, int nlooked)
{
    if (p->js) {
        fputs("<noscript><p class=\"warn\">", p->fp);
        esc(p->fp, T(p, "report.noscript"));
        fputs("</p></noscript>\n", p->fp);
    } else {
        fputs("<p class=\"warn\" id=\"no-charts\">", p->fp);
        esc(p->fp, T(p, "report.no_charts"));
        for (int k = 0; k < nlooked; k++) {
            fputs(k ? ", <span class=\"code\">" : " <span class=\"code\">", p->fp);
            esc(p->fp, looked[k]);
            fputs("</span>", p->fp);
        }
        fputs("</p>\n", p->fp);
    }
    const ms_run_summary_t *run = p->o->run;
    if (run && run->partitions_skipped) {
        fputs("<p class=\"warn\" id=\"partial\">", p->fp);
        esc(p->fp, T(p, "report.partial"));
        fprintf(p->fp, " %u / %u</p>\n", run->partitions_skipped, run->partitions);
    }
    /* The rule base, when it could not run whole (run.json says which
     * rules and why). */
    if (run && !run->bills) {
        fputs("<p class=\"note\" id=\"rules-not-run\">", p->fp);
        esc(p->fp, T(p, "report.rules_no_bills"));
        fputs("</p>\n", p->fp);
    } else if (run && run->rules_not_run) {
        char n[24];
        snprintf(n, sizeof n, "%d", run->rules_not_run);
        const char *args[] = {n};
        fputs("<p class=\"warn\" id=\"rules-not-run\">", p->fp);
        say(p, "report.rules_no_knowledge", 1, args);
        fputs("</p>\n", p->fp);
    }
}

static void card(const page_t *p, const char *id, const char *key, const char *value, const char *data_value,
                 int hot)
{
    fprintf(p->fp, "<div class=\"card%s\"><div class=\"k\">", hot ? " hot" : "");
    esc(p->fp, T(p, key));
    fprintf(p->fp, "</div><div class=\"v\" id=\"%s\" data-value=\"%s\">%s</div>", id, data_value, value);
}

static void write_summary(const page_t *p, const data_t *d)
{
    const ms_score_t *s = p->s;
    const ms_run_summary_t *run = p->o->run;
    uint64_t flagged = 0;
    double susp = 0, rec = 0;
    for (uint32_t r = 0; r < s->n_ranked; r++) flagged += s->priority[s->order[r]] > 0;
    for (size_t i = 0; i < d->n; i++) susp += s->suspicious[i], rec += s->recovery[i];
    char a[40], b[40], raw[48], m[64];
    fputs("<section id=\"summary\"><h2>", p->fp);
    esc(p->fp, T(p, "report.sum.title"));
    fputs("</h2>\n<div class=\"cards\">", p->fp);
    if (run) {
        uint64_t read = run->rows[0] + run->rows[1] + run->bill_lines, rej = 0;
        for (int tb = 0; tb < 2; tb++)
            for (int k = 0; k < MS_RUN_REJECT_REASONS; k++) rej += run->rejected[tb][k];
        snprintf(raw, sizeof raw, "%llu", (unsigned long long)read);
        card(p, "sum-records", "report.sum.records", fmt_u64(a, read), raw, 0);
        fputs("<div class=\"s\">", p->fp);
        char c[40];
        fmt_u64(a, run->rows[0]);
        fmt_u64(b, run->rows[1]);
        fmt_u64(c, run->bill_lines);
        const char *args[] = {a, b, c};
        say(p, run->bill_lines ? "report.sum.records_note_bills" : "report.sum.records_note", 3, args);
        fprintf(p->fp, "<span hidden id=\"sum-settlements\">%llu</span><span hidden id=\"sum-drug-items\">%llu</span>",
                (unsigned long long)run->rows[0], (unsigned long long)run->rows[1]);
        fputs("</div></div>", p->fp);
        snprintf(raw, sizeof raw, "%llu", (unsigned long long)rej);
        card(p, "sum-rejected", "report.sum.rejected", fmt_u64(a, rej), raw, 0);
        fputs("</div>", p->fp);
    }
    snprintf(raw, sizeof raw, "%u", s->n_ranked);
    card(p, "sum-ranked", "report.sum.ranked", fmt_u64(a, s->n_ranked), raw, 0);
    fputs("</div>", p->fp);
    snprintf(raw, sizeof raw, "%llu", (unsigned long long)flagged);
    card(p, "sum-flagged", "report.sum.flagged", fmt_u64(a, flagged), raw, 1);
    fputs("</div>", p->fp);
    snprintf(raw, sizeof raw, "%.2f", susp);
    card(p, "sum-suspicious", "report.sum.suspicious", fmt_yuan(m, susp), raw, 1);
    fputs("</div>", p->fp);
    snprintf(raw, sizeof raw, "%.2f", rec);
    card(p, "sum-recovery", "report.sum.recovery", fmt_yuan(m, rec), raw, 0);
    fputs("</div></div>\n", p->fp);
    if (run) {
        /* Rejected records by reason and table. */
        fputs("<h4>", p->fp);
        esc(p->fp, T(p, "report.sum.reject_table"));
        fputs("</h4><table id=\"rejected\"><thead><tr>", p->fp);
        th(p, "report.col.reason", NULL);
        th(p, "report.sum.settlements", "n");
        th(p, "report.sum.drug_items", "n");
        th(p, "report.sum.total", "n");
        fputs("</tr></thead><tbody>", p->fp);
        uint64_t tot[2] = {0, 0};
        for (int k = 0; k < MS_RUN_REJECT_REASONS; k++) {
            const char *name = run->reject_names ? run->reject_names[k] : "";
            char key[96];
            snprintf(key, sizeof key, "report.reject.%s", name);
            fputs("<tr><td>", p->fp);
            esc(p->fp, ms_msg_or(p->lang, key, name));
            fputs(" <span class=\"code none\">", p->fp);
            esc(p->fp, name);
            fprintf(p->fp, "</span></td><td class=\"n\">%s</td><td class=\"n\">%s</td>",
                    fmt_u64(a, run->rejected[0][k]), fmt_u64(b, run->rejected[1][k]));
            fprintf(p->fp, "<td class=\"n\">%s</td></tr>", fmt_u64(a, run->rejected[0][k] + run->rejected[1][k]));
            tot[0] += run->rejected[0][k];
            tot[1] += run->rejected[1][k];
        }
        fputs("<tr><th>", p->fp);
        esc(p->fp, T(p, "report.sum.total"));
        fprintf(p->fp, "</th><th class=\"n\">%s</th>", fmt_u64(a, tot[0]));
        fprintf(p->fp, "<th class=\"n\">%s</th>", fmt_u64(a, tot[1]));
        fprintf(p->fp, "<th class=\"n\">%s</th></tr></tbody></table>\n", fmt_u64(a, tot[0] + tot[1]));
    }
    fputs("</section>\n", p->fp);
}

/* "kind · level" of an institution. */
static void kind_level(const page_t *p, const ms_institution_t *x)
{
    esc(p->fp, kind_name(p, x));
    fputs(" · ", p->fp);
    esc(p->fp, ms_msg_level(p->lang, x->level));
}

static void write_list(const page_t *p, const data_t *d)
{
    const ms_score_t *s = p->s;
    char a[40], b[40], m[64], pv[64];
    fputs("<section id=\"list\"><h2>", p->fp);
    esc(p->fp, T(p, "report.top.title"));
    fputs("</h2><p class=\"note\">", p->fp);
    fmt_u64(a, d->ntop);
    fmt_u64(b, s->n_ranked);
    {
        const char *args[] = {a, b};
        say(p, "report.top.intro", 2, args);
    }
    fputs("</p>\n", p->fp);
    /* The chart: the first rows with a reason, their priority split into
     * the models' parts (w_m min(1, M_im) / sum of w). */
    uint32_t nchart = 0;
    while (nchart < d->ntop && nchart < REPORT_TOP_CHART && s->priority[s->order[nchart]] > 0) nchart++;
    if (p->js && nchart) {
        fputs("<h4>", p->fp);
        snprintf(a, sizeof a, "%u", nchart);
        const char *args[] = {a};
        say(p, "report.top.chart", 1, args);
        fputs("</h4><div class=\"chart\" id=\"chart-top\"></div>\n", p->fp);
        fputs(",\"top\":{\"cat\":[", p->js);
        for (uint32_t r = 0; r < nchart; r++) {
            const ms_institution_t *x = &s->refs->inst[s->order[r]];
            fprintf(p->js, "%s\"%u. ", r ? "," : "", r + 1);
            jbody(p->js, x->name);
            fputc('"', p->js);
        }
        fputs("],\"series\":[", p->js);
        int first = 1;
        for (size_t mm = 0; mm < d->M; mm++) {
            if (!d->scoring[mm]) continue;
            double w = ms_config_model(s->cfg, s->models[mm])->weight;
            fprintf(p->js, "%s{\"m\":%zu,\"name\":", first ? "" : ",", mm);
            first = 0;
            jstr(p->js, ms_msg_model(p->lang, s->models[mm]));
            fputs(",\"data\":[", p->js);
            for (uint32_t r = 0; r < nchart; r++) {
                uint32_t i = s->order[r];
                double part = d->wsum > 0 ? w * fmin(1, s->model_score[i * d->M + mm]) / d->wsum : 0;
                if (r) fputc(',', p->js);
                fprintf(p->js, "%.4f", part);
            }
            fputs("]}", p->js);
        }
        fputs("]}", p->js);
    }
    fputs("<div class=\"wide\"><table id=\"top-table\"><thead><tr>", p->fp);
    th(p, "report.col.rank", "n");
    th(p, "report.col.code", NULL);
    th(p, "report.col.name", NULL);
    th(p, "report.col.province", NULL);
    th(p, "report.col.kind_level", NULL);
    th(p, "report.col.priority", "n");
    th(p, "report.col.peer_percentile", "n");
    th(p, "report.col.reasons", NULL);
    th(p, "report.col.suspicious", "n");
    th(p, "report.col.recovery", "n");
    th(p, "report.col.records", "n");
    th(p, "report.col.dossier", NULL);
    fputs("</tr></thead><tbody>\n", p->fp);
    uint32_t dos = 0;
    for (uint32_t r = 0; r < d->ntop; r++) {
        uint32_t i = s->order[r];
        const ms_institution_t *x = &s->refs->inst[i];
        fprintf(p->fp, "<tr data-rank=\"%u\"%s><td class=\"n\">%u</td><td class=\"code\">", r + 1,
                s->priority[i] > 0 ? "" : " class=\"quiet\"", r + 1);
        esc(p->fp, x->inst_code);
        fputs("</td><td>", p->fp);
        esc(p->fp, x->name);
        fputs("</td><td>", p->fp);
        esc(p->fp, province_name(p, x->region, pv));
        fputs("</td><td class=\"kl\">", p->fp);
        kind_level(p, x);
        fprintf(p->fp, "</td><td class=\"n\">%.4f</td><td class=\"n\">%.1f</td><td>", s->priority[i],
                s->peer_rank[i]);
        char reasons[3][160];
        int k = ms_score_reasons(s, i, reasons, 3);
        if (k) {
            fputs("<ol class=\"r\">", p->fp);
            for (int q = 0; q < k; q++) {
                fputs("<li>", p->fp);
                esc(p->fp, reasons[q]);
                fputs("</li>", p->fp);
            }
            fputs("</ol>", p->fp);
        } else {
            fputs("<span class=\"none\">", p->fp);
            esc(p->fp, T(p, "report.top.none"));
            fputs("</span>", p->fp);
        }
        fprintf(p->fp, "</td><td class=\"n\">%s</td>", fmt_yuan(m, s->suspicious[i]));
        fprintf(p->fp, "<td class=\"n\">%s</td>", fmt_yuan(m, s->recovery[i]));
        fprintf(p->fp, "<td class=\"n\">%s</td><td>",
                fmt_u64(a, s->records && s->records[i] > 0 ? (uint64_t)s->records[i] : 0));
        if (dos < d->ndos && d->dos_inst[dos] == i) {
            fprintf(p->fp, "<a href=\"#d-%u\">", r + 1);
            esc(p->fp, T(p, "report.col.dossier"));
            fputs("</a>", p->fp);
            dos++;
        }
        fputs("</td></tr>\n", p->fp);
    }
    fputs("</tbody></table></div></section>\n", p->fp);
}

/* The n best institutions by model m's score (ties: priority, then id),
 * as write_ranked orders ranked_<model>.csv. */
static int model_best(const ms_score_t *s, size_t M, size_t n, size_t m, uint32_t *best, int cap)
{
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        double v = s->model_score[i * M + m];
        if (v <= 0) continue;
        int at = k < cap ? k++ : cap;
        while (at > 0) {
            uint32_t u = best[at - 1];
            double su = s->model_score[u * M + m];
            if (su > v || (su == v && s->priority[u] >= s->priority[i])) break;
            if (at < cap) best[at] = u;
            at--;
        }
        if (at < cap) best[at] = (uint32_t)i;
    }
    return k;
}

static void write_models(const page_t *p, const data_t *d)
{
    const ms_score_t *s = p->s;
    char a[40], b[40], v[40];
    fputs("<section id=\"models\"><h2>", p->fp);
    esc(p->fp, T(p, "report.models.title"));
    fputs("</h2><p class=\"note\">", p->fp);
    esc(p->fp, T(p, "report.models.intro"));
    fputs("</p>\n<table id=\"model-table\"><thead><tr>", p->fp);
    th(p, "report.col.model", NULL);
    th(p, "report.col.weight", "n");
    th(p, "report.col.inst_scored", "n");
    th(p, "report.col.in_top", "n");
    th(p, "report.col.model_top", NULL);
    fputs("</tr></thead><tbody>\n", p->fp);
    for (size_t m = 0; m < d->M; m++) {
        if (!d->scoring[m]) continue;
        uint64_t scored = 0, in_top = 0;
        for (size_t i = 0; i < d->n; i++) scored += s->model_score[i * d->M + m] > 0;
        for (uint32_t r = 0; r < d->ntop; r++) in_top += s->model_score[(size_t)s->order[r] * d->M + m] > 0;
        fputs("<tr><td>", p->fp);
        esc(p->fp, ms_msg_model(p->lang, s->models[m]));
        fprintf(p->fp, "</td><td class=\"n\">%.2f</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td>",
                ms_config_model(s->cfg, s->models[m])->weight, fmt_u64(a, scored), fmt_u64(b, in_top));
        uint32_t best[3];
        int k = model_best(s, d->M, d->n, m, best, 3);
        for (int q = 0; q < k; q++) {
            const ms_institution_t *x = &s->refs->inst[best[q]];
            if (q) fputs("<br>", p->fp);
            fputs("<span class=\"code\">", p->fp);
            esc(p->fp, x->inst_code);
            fputs("</span> ", p->fp);
            esc(p->fp, x->name);
            fprintf(p->fp, " (%.2f)", s->model_score[(size_t)best[q] * d->M + m]);
        }
        fputs("</td></tr>\n", p->fp);
    }
    fputs("</tbody></table>\n<h4>", p->fp);
    esc(p->fp, T(p, "report.models.indicators"));
    fputs("</h4>", p->fp);
    /* Per indicator: reported, credible, the pooled national value. */
    uint64_t *rep = calloc(d->J + 1, sizeof *rep), *cred = calloc(d->J + 1, sizeof *cred);
    if (rep && cred)
        for (size_t j = 0; j < d->J; j++)
            for (size_t i = 0; i < d->n; i++) {
                rep[j] += s->reported[ms_score_cell(s, i, j)];
                cred[j] += s->credible[ms_score_cell(s, i, j)];
            }
    if (p->js && d->J) {
        fputs("<div class=\"chart\" id=\"chart-ind\"></div>\n", p->fp);
        fputs(",\"ind\":{\"title\":", p->js);
        jstr(p->js, T(p, "report.models.chart"));
        fputs(",\"cat\":[", p->js);
        for (size_t j = 0; j < d->J; j++) {
            if (j) fputc(',', p->js);
            jstr(p->js, ind_name(p, (int)j));
        }
        fputs("],\"val\":[", p->js);
        for (size_t j = 0; j < d->J; j++) fprintf(p->js, "%s%llu", j ? "," : "", (unsigned long long)(cred ? cred[j] : 0));
        fputs("],\"model\":[", p->js);
        for (size_t j = 0; j < d->J; j++) fprintf(p->js, "%s%d", j ? "," : "", s->ind_model[j]);
        fputs("],\"models\":[", p->js);
        for (size_t m = 0; m < d->M; m++) {
            if (m) fputc(',', p->js);
            jstr(p->js, ms_msg_model(p->lang, s->models[m]));
        }
        fputs("]}", p->js);
    }
    fputs("<table id=\"indicator-table\"><thead><tr>", p->fp);
    th(p, "report.col.model", NULL);
    th(p, "report.col.indicator", NULL);
    th(p, "report.col.reported", "n");
    th(p, "report.col.credible", "n");
    th(p, "report.col.national", "n");
    fputs("</tr></thead><tbody>\n", p->fp);
    for (size_t j = 0; j < d->J; j++) {
        const ms_model_result_t *res = &s->results[s->ind_model[j]];
        const int64_t *num = res->num + (size_t)s->ind_index[j] * res->n_inst;
        const int64_t *den = res->den + (size_t)s->ind_index[j] * res->n_inst;
        double sn = 0, sd = 0;
        for (size_t i = 0; i < res->n_inst; i++) sn += (double)num[i], sd += (double)den[i];
        fputs("<tr><td>", p->fp);
        esc(p->fp, ms_msg_model(p->lang, s->models[s->ind_model[j]]));
        fputs("</td><td>", p->fp);
        esc(p->fp, ind_name(p, (int)j));
        if (s->no_signal[j]) {
            fputs(" <span class=\"none\">(", p->fp);
            esc(p->fp, T(p, "report.no_signal"));
            fputs(")</span>", p->fp);
        }
        fprintf(p->fp, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n",
                fmt_u64(a, rep ? rep[j] : 0), fmt_u64(b, cred ? cred[j] : 0),
                sd > 0 ? fmt_value(v, indicator_of(s, (int)j), sn / sd) : "–");
    }
    fputs("</tbody></table></section>\n", p->fp);
    free(rep), free(cred);
}

typedef struct {
    uint64_t ranked, flagged, in_top;
    double susp, rec;
    int32_t region;           /* one of its regions (for its name) */
} prov_t;

static int prov_cmp(const prov_t *x, int a, const prov_t *y, int b)
{
    if (x->flagged != y->flagged) return x->flagged > y->flagged ? -1 : 1;
    if (x->susp != y->susp) return x->susp > y->susp ? -1 : 1;
    return a - b;
}

static void write_provinces(const page_t *p, const data_t *d)
{
    const ms_score_t *s = p->s;
    prov_t pr[REPORT_PROVINCES];
    memset(pr, 0, sizeof pr);
    for (uint32_t r = 0; r < s->n_ranked; r++) {
        uint32_t i = s->order[r];
        int32_t region = s->refs->inst[i].region;
        int k = (int)((region < 0 ? -region : region) / 10000 % 100);
        pr[k].ranked++;
        pr[k].flagged += s->priority[i] > 0;
        pr[k].in_top += r < d->ntop;
        pr[k].susp += s->suspicious[i];
        pr[k].rec += s->recovery[i];
        pr[k].region = region;
    }
    char a[40], b[40], c[40], m1[64], m2[64], pv[64];
    fputs("<section id=\"provinces\"><h2>", p->fp);
    esc(p->fp, T(p, "report.prov.title"));
    fputs("</h2>\n", p->fp);
    /* The chart: provinces by institutions with a reason, then money. */
    int ord[REPORT_PROVINCES], no = 0;
    for (int k = 0; k < REPORT_PROVINCES; k++)
        if (pr[k].ranked) ord[no++] = k;
    for (int x = 1; x < no; x++)
        for (int y = x; y > 0 && prov_cmp(&pr[ord[y]], ord[y], &pr[ord[y - 1]], ord[y - 1]) < 0; y--) {
            int t = ord[y];
            ord[y] = ord[y - 1];
            ord[y - 1] = t;
        }
    if (p->js && no) {
        fputs("<h4>", p->fp);
        esc(p->fp, T(p, "report.prov.chart"));
        fputs("</h4><div class=\"chart\" id=\"chart-prov\"></div>\n", p->fp);
        fputs(",\"prov\":{\"cat\":[", p->js);
        for (int q = 0; q < no; q++) {
            if (q) fputc(',', p->js);
            jstr(p->js, province_name(p, pr[ord[q]].region, pv));
        }
        fputs("],\"flagged\":[", p->js);
        for (int q = 0; q < no; q++) fprintf(p->js, "%s%llu", q ? "," : "", (unsigned long long)pr[ord[q]].flagged);
        fputs("],\"susp\":[", p->js);
        for (int q = 0; q < no; q++) fprintf(p->js, "%s%.2f", q ? "," : "", pr[ord[q]].susp);
        fputs("]}", p->js);
    }
    fputs("<table id=\"province-table\"><thead><tr>", p->fp);
    th(p, "report.col.province", NULL);
    th(p, "report.col.ranked", "n");
    th(p, "report.col.flagged", "n");
    th(p, "report.col.in_top", "n");
    th(p, "report.col.suspicious", "n");
    th(p, "report.col.recovery", "n");
    fputs("</tr></thead><tbody>\n", p->fp);
    for (int q = 0; q < no; q++) {
        const prov_t *x = &pr[ord[q]];
        fputs("<tr><td>", p->fp);
        esc(p->fp, province_name(p, x->region, pv));
        fprintf(p->fp, " <span class=\"code none\">%02d</span></td>", ord[q]);
        fprintf(p->fp, "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>", fmt_u64(a, x->ranked),
                fmt_u64(b, x->flagged), fmt_u64(c, x->in_top));
        fprintf(p->fp, "<td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n", fmt_yuan(m1, x->susp),
                fmt_yuan(m2, x->rec));
    }
    fputs("</tbody></table></section>\n", p->fp);
}

/* ---------------------------------------------------------- dossiers */

/* A dictionary's text of id, or "". */
static const char *dict_text(const ms_dict_t *dict, int64_t id)
{
    return id >= 0 && (uint64_t)id < dict->count ? dict->str[id] : "";
}

/* Fact k of clue c in words (as clues.csv writes it; a share in percent). */
static const char *fact_text(const ms_refs_t *r, const ms_clue_t *c, int k, ms_fact_kind_t kind, char out[64])
{
    int64_t v = c->fact[k];
    out[0] = '\0';
    switch (kind) {
    case MS_FACT_NONE: break;
    case MS_FACT_COUNT:
    case MS_FACT_ID: snprintf(out, 64, "%lld", (long long)v); break;
    case MS_FACT_FEN: fmt_fen(out, v); break;
    case MS_FACT_PPM: snprintf(out, 64, "%.1f%%", (double)v / 10000.0); break;
    case MS_FACT_MILLI: snprintf(out, 64, "%.3f", (double)v / 1000.0); break;
    case MS_FACT_DATE: ms_date_format((int32_t)v, out); break;
    case MS_FACT_DIAG: return dict_text(&r->diagnoses, v);
    case MS_FACT_DRUG: return dict_text(&r->drugs, v);
    case MS_FACT_GROUP: return v >= 0 && (uint64_t)v < r->n_groups ? r->groups[v].group_code : "";
    case MS_FACT_TRACE:
        if (k + 1 < MS_CLUE_FACTS)
            snprintf(out, 64, "%010llu%010llu", (unsigned long long)v, (unsigned long long)c->fact[k + 1]);
        break;
    }
    return out;
}

/* One peer distribution: the reported values of indicator j in i's peer
 * group (all reported institutions when fewer than 3 peers are, as the
 * scoring does), in REPORT_BINS bins, with i's bin and the peers' level. */
static void write_hist(const page_t *p, const data_t *d, uint32_t i, int j, const char *el)
{
    const ms_score_t *s = p->s;
    uint32_t g = s->peer[i];
    size_t g0 = d->gstart[g], g1 = d->gstart[g + 1], cnt = 0;
    for (size_t q = g0; q < g1; q++) cnt += s->reported[ms_score_cell(s, d->gmem[q], (size_t)j)];
    int national = cnt < 3;
    if (national) {
        g0 = 0;
        g1 = d->n;
    }
    double lo = INFINITY, hi = -INFINITY;
    cnt = 0;
    for (size_t q = g0; q < g1; q++) {
        size_t at = ms_score_cell(s, national ? (uint32_t)q : d->gmem[q], (size_t)j);
        if (!s->reported[at]) continue;
        lo = fmin(lo, s->value[at]);
        hi = fmax(hi, s->value[at]);
        cnt++;
    }
    double v = s->value[ms_score_cell(s, i, (size_t)j)], pv = s->peer_value[ms_score_cell(s, i, (size_t)j)];
    if (!cnt) lo = hi = v;
    if (!(hi > lo)) hi = lo + (lo != 0 ? fabs(lo) * 0.1 : 0.01);
    double w = (hi - lo) / REPORT_BINS;
    uint64_t bins[REPORT_BINS] = {0};
#define BIN_OF(x) ((x) >= hi ? REPORT_BINS - 1 : (x) <= lo ? 0 : (int)fmin(REPORT_BINS - 1, floor(((x) - lo) / w)))
    for (size_t q = g0; q < g1; q++) {
        size_t at = ms_score_cell(s, national ? (uint32_t)q : d->gmem[q], (size_t)j);
        if (s->reported[at]) bins[BIN_OF(s->value[at])]++;
    }
    int mark = BIN_OF(v), pmark = pv >= lo && pv <= hi ? BIN_OF(pv) : -1;
#undef BIN_OF
    const ms_indicator_t *ind = indicator_of(s, j);
    fputs(",{\"el\":", p->js);
    jstr(p->js, el);
    fprintf(p->js, ",\"pct\":%d,\"lo\":", ind->kind == MS_IND_SHARE);
    jnum(p->js, lo);
    fputs(",\"hi\":", p->js);
    jnum(p->js, hi);
    fputs(",\"v\":", p->js);
    jnum(p->js, v);
    fputs(",\"p\":", p->js);
    jnum(p->js, pv);
    fprintf(p->js, ",\"m\":%d,\"pm\":%d,\"n\":%zu,\"c\":[", mark, pmark, cnt);
    for (int k = 0; k < REPORT_BINS; k++) fprintf(p->js, "%s%llu", k ? "," : "", (unsigned long long)bins[k]);
    fputs("]}", p->js);
    char a[40];
    fmt_u64(a, cnt);
    const char *args[] = {a};
    fputs("<p class=\"note\">", p->fp);
    if (national) {
        esc(p->fp, T(p, "report.d.dist_national"));
        fputs(". ", p->fp);
    }
    say(p, "report.d.dist_note", 1, args);
    fputs("</p>", p->fp);
}

/* A dossier's heading and its place: region, kind, level, peer group;
 * its figures; its reasons. */
static void dossier_head(const page_t *p, const data_t *d, uint32_t i, uint32_t rank)
{
    const ms_score_t *s = p->s;
    const ms_refs_t *refs = s->refs;
    const ms_institution_t *x = &refs->inst[i];
    char a[40], m[64], pv[64];
    fprintf(p->fp, "<article class=\"dossier\" id=\"d-%u\"><h3><span class=\"rk\">%u</span>", rank, rank);
    esc(p->fp, x->name);
    fputs(" <span class=\"code\">", p->fp);
    esc(p->fp, x->inst_code);
    fputs("</span></h3>\n<dl class=\"facts\">", p->fp);
    fputs("<div><dt>", p->fp);
    esc(p->fp, T(p, "report.d.region"));
    fprintf(p->fp, "</dt><dd><span class=\"code\">%06d</span> ", (int)x->region);
    esc(p->fp, province_name(p, x->region, pv));
    fputs("</dd></div><div><dt>", p->fp);
    esc(p->fp, T(p, "report.d.kind"));
    fputs("</dt><dd>", p->fp);
    esc(p->fp, kind_name(p, x));
    fputs("</dd></div><div><dt>", p->fp);
    esc(p->fp, T(p, "report.d.level"));
    fputs("</dt><dd>", p->fp);
    esc(p->fp, ms_msg_level(p->lang, x->level));
    fputs("</dd></div><div><dt>", p->fp);
    esc(p->fp, T(p, "report.d.peer_group"));
    fputs("</dt><dd>", p->fp);
    /* Its peer group: kind, level and province, or nationwide where the
     * group fell back (its members are of several provinces). */
    uint32_t g = s->peer[i];
    int one_province = 1;
    for (size_t q = d->gstart[g]; q < d->gstart[g + 1]; q++)
        one_province &= refs->inst[d->gmem[q]].region / 10000 == x->region / 10000;
    kind_level(p, x);
    fputs(" · ", p->fp);
    esc(p->fp, one_province ? province_name(p, x->region, pv) : T(p, "report.d.nationwide"));
    fmt_u64(a, d->gstart[g + 1] - d->gstart[g]);
    const char *args[] = {a};
    fputs(p->lang == MS_LANG_ZH ? "（" : " (", p->fp);
    say(p, "report.d.peers_n", 1, args);
    fputs(p->lang == MS_LANG_ZH ? "）" : ")", p->fp);
    fputs("</dd></div><div><dt>", p->fp);
    esc(p->fp, T(p, "report.col.priority"));
    fprintf(p->fp, "</dt><dd>%.4f</dd></div><div><dt>", s->priority[i]);
    esc(p->fp, T(p, "report.col.peer_percentile"));
    fprintf(p->fp, "</dt><dd>%.1f</dd></div><div><dt>", s->peer_rank[i]);
    esc(p->fp, T(p, "report.col.suspicious"));
    fprintf(p->fp, "</dt><dd>%s</dd></div><div><dt>", fmt_yuan(m, s->suspicious[i]));
    esc(p->fp, T(p, "report.col.recovery"));
    fprintf(p->fp, "</dt><dd>%s</dd></div><div><dt>", fmt_yuan(m, s->recovery[i]));
    esc(p->fp, T(p, "report.d.records_swept"));
    fprintf(p->fp, "</dt><dd>%s</dd></div></dl>\n",
            fmt_u64(a, s->records && s->records[i] > 0 ? (uint64_t)s->records[i] : 0));
    fputs("<h4>", p->fp);
    esc(p->fp, T(p, "report.d.reasons"));
    fputs("</h4><ol class=\"r\">", p->fp);
    char reasons[REPORT_REASONS][160];
    int nr = ms_score_reasons(s, i, reasons, REPORT_REASONS);
    for (int q = 0; q < nr; q++) {
        fputs("<li>", p->fp);
        esc(p->fp, reasons[q]);
        fputs("</li>", p->fp);
    }
    fputs("</ol>\n", p->fp);
}

/* Every reported indicator of i against its peers: the credible ones
 * (cand[0 .. nc), in the order of the reasons, marked), then the others
 * by deviation. */
static void dossier_indicators(const page_t *p, const data_t *d, uint32_t i, int nc)
{
    const ms_score_t *s = p->s;
    size_t J = d->J;
    int nrest = 0;
    for (size_t j = 0; j < J; j++) {
        size_t at = ms_score_cell(s, i, j);
        if (s->reported[at] && !s->credible[at]) d->rest[nrest++] = (cand_t){s->z[at], (int)j};
    }
    qsort(d->rest, (size_t)nrest, sizeof *d->rest, cmp_cand);
    char a[40], b[40], v1[40], v2[40];
    fputs("<h4>", p->fp);
    esc(p->fp, T(p, "report.d.indicators"));
    fputs("</h4><table class=\"ind\"><thead><tr>", p->fp);
    th(p, "report.col.model", NULL);
    th(p, "report.col.indicator", NULL);
    th(p, "report.col.value", "n");
    th(p, "report.col.peers", "n");
    th(p, "report.col.z", "n");
    th(p, "report.col.peer_percentile", "n");
    th(p, "report.col.num_den", "n");
    th(p, "report.col.is_reason", NULL);
    fputs("</tr></thead><tbody>\n", p->fp);
    for (int q = 0; q < nc + nrest; q++) {
        int j = q < nc ? d->cand[q].j : d->rest[q - nc].j;
        size_t at = ms_score_cell(s, i, (size_t)j);
        const ms_indicator_t *ind = indicator_of(s, j);
        const ms_model_result_t *res = &s->results[s->ind_model[j]];
        int64_t num = res->num[(size_t)s->ind_index[j] * res->n_inst + i];
        int64_t den = res->den[(size_t)s->ind_index[j] * res->n_inst + i];
        fprintf(p->fp, "<tr%s><td>", q < nc ? " class=\"cred\"" : "");
        esc(p->fp, ms_msg_model(p->lang, s->models[s->ind_model[j]]));
        fputs("</td><td>", p->fp);
        esc(p->fp, ind_name(p, j));
        fprintf(p->fp, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td>", fmt_value(v1, ind, s->value[at]),
                fmt_value(v2, ind, s->peer_value[at]));
        fprintf(p->fp, "<td class=\"n\">%.2f</td><td class=\"n\">%.1f</td>", s->z[at], s->percentile[at]);
        fprintf(p->fp, "<td class=\"n\">%s / %s</td><td>", fmt_u64(a, num > 0 ? (uint64_t)num : 0),
                fmt_u64(b, den > 0 ? (uint64_t)den : 0));
        if (q < nc) esc(p->fp, T(p, "report.yes"));
        fputs("</td></tr>\n", p->fp);
    }
    fputs("</tbody></table>\n", p->fp);
}

/* The peers' distributions of i's strongest reasons. */
static void dossier_hists(const page_t *p, const data_t *d, uint32_t i, uint32_t rank, int nc)
{
    const ms_score_t *s = p->s;
    if (!p->js || !nc) return;
    char v1[40], v2[40];
    fputs("<h4>", p->fp);
    esc(p->fp, T(p, "report.d.distributions"));
    fputs("</h4><div class=\"hists\">", p->fp);
    for (int q = 0; q < nc && q < REPORT_HISTS; q++) {
        int j = d->cand[q].j;
        char el[48];
        snprintf(el, sizeof el, "h-%u-%d", rank, q);
        size_t at = ms_score_cell(s, i, (size_t)j);
        const ms_indicator_t *ind = indicator_of(s, j);
        fputs("<figure><figcaption>", p->fp);
        esc(p->fp, ind_name(p, j));
        fputs(" <span class=\"leg\"><i class=\"sw this\"></i>", p->fp);
        esc(p->fp, T(p, "report.chart.this"));
        fprintf(p->fp, " %s <i class=\"sw peers\"></i>", fmt_value(v1, ind, s->value[at]));
        esc(p->fp, T(p, "report.chart.peers"));
        fprintf(p->fp, " %s</span></figcaption><div class=\"chart\" id=\"%s\"></div>",
                fmt_value(v2, ind, s->peer_value[at]), el);
        write_hist(p, d, i, j, el);
        fputs("</figure>", p->fp);
    }
    fputs("</div>\n", p->fp);
}

/* One indicator's clues at i, d->clues[a0 .. a1) (the largest amounts
 * first): their count and amount, then the first REPORT_CLUES records
 * with their date, amount, the other half and the facts in words. */
static void clue_table(const page_t *p, const data_t *d, uint32_t i, int j, size_t a0, size_t a1)
{
    const ms_score_t *s = p->s;
    const ms_refs_t *refs = s->refs;
    const ms_model_t *mod = s->models[s->ind_model[j]];
    const ms_indicator_t *ind = indicator_of(s, j);
    char a[40], m[64], key[128];
    double yuan = 0;
    for (size_t e = a0; e < a1; e++) yuan += (double)d->clues[e].c->amount / 100.0;
    fmt_u64(a, a1 - a0);
    fmt_yuan(m, yuan);
    const char *args[] = {ind_name(p, j), a, m};
    fputs("<h5>", p->fp);
    say(p, "report.d.clue_head", 3, args);
    /* The date says which it is (admission, sale); the other half's
     * column says what it is. */
    const char *other_is = ms_msg_other(p->lang, mod, s->ind_index[j]);
    const char *date_is = ind->clue_date ? ind->clue_date : "settlement";
    snprintf(key, sizeof key, "word.%s", date_is);
    fputs("</h5><table class=\"clues\"><thead><tr>", p->fp);
    th(p, "report.col.settle_id", "n");
    th(p, "report.col.person", "n");
    fputs("<th>", p->fp);
    esc(p->fp, T(p, "report.col.date"));
    fputs(p->lang == MS_LANG_ZH ? "（" : " (", p->fp);
    esc(p->fp, ms_msg_or(p->lang, key, date_is));
    fputs(p->lang == MS_LANG_ZH ? "）</th>" : ")</th>", p->fp);
    th(p, "report.col.amount", "n");
    if (other_is) {
        fputs("<th>", p->fp);
        esc(p->fp, other_is);
        fputs("</th>", p->fp);
    }
    th(p, "report.col.facts", NULL);
    fputs("</tr></thead><tbody>\n", p->fp);
    for (size_t e = a0; e < a1 && e < a0 + REPORT_CLUES; e++) {
        const ms_clue_t *c = d->clues[e].c;
        char day[11];
        ms_date_format(c->date, day);
        fprintf(p->fp, "<tr><td class=\"n code\">%llu</td><td class=\"n code\">%llu</td><td class=\"d\">%s</td>",
                (unsigned long long)c->settle_id, (unsigned long long)c->person_id, day);
        fprintf(p->fp, "<td class=\"n\">%s</td>", fmt_fen(m, c->amount));
        /* The other half: its settlement, date and amount, and its
         * institution when it is another one. */
        if (other_is) fputs("<td>", p->fp);
        if (other_is && c->other_settle && c->other_inst < refs->n_inst) {
            ms_date_format(c->other_date, day);
            fprintf(p->fp, "<span class=\"code\">%llu</span> · %s · %s", (unsigned long long)c->other_settle, day,
                    fmt_fen(m, c->other_amount));
            if (c->other_inst != i) {
                fputs(" · ", p->fp);
                esc(p->fp, refs->inst[c->other_inst].name);
                fputs(" <span class=\"code\">", p->fp);
                esc(p->fp, refs->inst[c->other_inst].inst_code);
                fputs("</span>", p->fp);
            }
        }
        fputs(other_is ? "</td><td>" : "<td>", p->fp);
        int first = 1;
        for (int f = 0; f < MS_CLUE_FACTS; f++) {
            const ms_fact_t *fact = &ind->facts[f];
            if (!fact->column || fact->kind == MS_FACT_NONE) continue;
            char buf[64];
            snprintf(key, sizeof key, "report.fact.%s", fact->column);
            if (!first) fputs(p->lang == MS_LANG_ZH ? "；" : "; ", p->fp);
            first = 0;
            esc(p->fp, ms_msg_or(p->lang, key, fact->column));
            fputs(p->lang == MS_LANG_ZH ? "：" : ": ", p->fp);
            esc(p->fp, fact_text(refs, c, f, fact->kind, buf));
        }
        fputs("</td></tr>\n", p->fp);
    }
    fputs("</tbody></table>", p->fp);
    if (a1 - a0 > REPORT_CLUES) {
        fmt_u64(a, a1 - a0 - REPORT_CLUES);
        const char *more[] = {a};
        fputs("<p class=\"note\">", p->fp);
        say(p, "report.d.clues_more", 1, more);
        fputs("</p>", p->fp);
    }
    fputc('\n', p->fp);
}

/* Dossier k: its place and reasons, its indicators, the peers'
 * distributions, its clues by reason, what to ask for on site.  cl walks
 * the sorted clue list (dossier by dossier). */
static void write_dossier(const page_t *p, const data_t *d, uint32_t k, size_t *cl)
{
    const ms_score_t *s = p->s;
    uint32_t i = d->dos_inst[k], rank = d->dos_rank[k];
    dossier_head(p, d, i, rank);
    int nc = credible_of(s, i, d->cand, (int)d->J);
    dossier_indicators(p, d, i, nc);
    dossier_hists(p, d, i, rank, nc);
    fputs("<h4>", p->fp);
    esc(p->fp, T(p, "report.d.clues"));
    fputs("</h4><p class=\"note\">", p->fp);
    esc(p->fp, T(p, "report.d.clues_note"));
    fputs("</p>\n", p->fp);
    while (*cl < d->nclues && d->clues[*cl].dossier < k) (*cl)++;
    size_t c0 = *cl;
    while (*cl < d->nclues && d->clues[*cl].dossier == k) (*cl)++;
    for (int q = 0; q < nc; q++) {
        size_t a0 = c0;
        while (a0 < *cl && d->clues[a0].j != d->cand[q].j) a0++;
        size_t a1 = a0;
        while (a1 < *cl && d->clues[a1].j == d->cand[q].j) a1++;
        if (a1 > a0) clue_table(p, d, i, d->cand[q].j, a0, a1);
    }
    fputs("<h4>", p->fp);
    esc(p->fp, T(p, "report.d.ask"));
    fputs("</h4><ul class=\"ask\">", p->fp);
    for (int q = 0; q < nc; q++) {
        int j = d->cand[q].j;
        const ms_model_t *mod = s->models[s->ind_model[j]];
        char key[160];
        snprintf(key, sizeof key, "report.ask.%s.%s", mod->name, mod->indicators[s->ind_index[j]].name);
        const char *ask = ms_msg(p->lang, key);
        if (!ask) continue;
        fputs("<li><b>", p->fp);
        esc(p->fp, ind_name(p, j));
        fputs(p->lang == MS_LANG_ZH ? "</b>：" : "</b>: ", p->fp);
        esc(p->fp, ask);
        fputs("</li>", p->fp);
    }
    fputs("</ul><p><a href=\"#list\">", p->fp);
    esc(p->fp, T(p, "report.d.back"));
    fputs("</a></p></article>\n", p->fp);
}

static void write_dossiers(const page_t *p, const data_t *d)
{
    char a[40];
    fputs("<section id=\"dossiers\"><h2>", p->fp);
    esc(p->fp, T(p, "report.dossiers.title"));
    fputs("</h2><p class=\"note\">", p->fp);
    if (d->ndos) {
        fmt_u64(a, d->ndos);
        const char *args[] = {a};
        say(p, "report.dossiers.intro", 1, args);
    } else {
        esc(p->fp, T(p, "report.dossiers.none"));
    }
    fputs("</p>\n", p->fp);
    if (p->js) fputs(",\"hist\":[{}", p->js); /* a first empty entry: the others start with ',' */
    size_t cl = 0;
    for (uint32_t k = 0; k < d->ndos; k++) write_dossier(p, d, k, &cl);
    if (p->js) fputs("]", p->js);
    fputs("</section>\n", p->fp);
}

/* --------------------------------------------------- the charts' script */

/* Draws every chart whose data the page holds, each into its element,
 * with the SVG renderer; without ECharts it does nothing and the page
 * stays tables.  body[data-charts] says how many were drawn. */
static const char *const DRAW =
    "<script>\n"
    "(function () {\n"
    "  var data = JSON.parse(document.getElementById('ms-data').textContent);\n"
    "  if (!window.echarts) return;\n"
    "  document.documentElement.className += ' js';\n"
    "  var L = data.labels, drawn = 0, all = [];\n"
    "  var red = '#b3261e', blue = '#17365d', soft = '#8fa8c8';\n"
    "  var pal = ['#17365d', '#b3261e', '#2e7d32', '#c77700', '#6a1b9a', '#00838f', '#5d4037', '#455a64'];\n"
    "  function draw(id, opt) {\n"
    "    var el = document.getElementById(id);\n"
    "    if (!el) return;\n"
    "    opt.animation = false;\n"
    "    opt.textStyle = {fontFamily: data.font};\n"
    "    var c = echarts.init(el, null, {renderer: 'svg', locale: data.lang === 'en' ? 'EN' : 'ZH'});\n"
    "    c.setOption(opt);\n"
    "    all.push(c);\n"
    "    drawn++;\n"
    "  }\n"
    "  function num(x, pct) {\n"
    "    if (pct) x *= 100;\n"
    "    var a = Math.abs(x), d = a >= 100 ? 0 : a >= 10 ? 1 : 2;\n"
    "    return x.toFixed(d) + (pct ? '%' : '');\n"
    "  }\n"
    "  function money(x) { return x.toLocaleString(data.lang === 'en' ? 'en-US' : 'zh-CN', {maximumFractionDigits: 0}); }\n"
    "  if (data.top) draw('chart-top', {\n"
    "    tooltip: {trigger: 'axis', axisPointer: {type: 'shadow'}},\n"
    "    legend: {top: 0},\n"
    "    grid: {left: 8, right: 24, top: 40, bottom: 8, containLabel: true},\n"
    "    xAxis: {type: 'value'},\n"
    "    yAxis: {type: 'category', inverse: true, data: data.top.cat, axisLabel: {width: 260, overflow: 'truncate'}},\n"
    "    series: data.top.series.map(function (s) {\n"
    "      return {name: s.name, type: 'bar', stack: 'p', data: s.data, barMaxWidth: 18,\n"
    "        itemStyle: {color: pal[s.m % pal.length]}};\n"
    "    })\n"
    "  });\n"
    "  if (data.ind) {\n"

    "    draw('chart-ind', {\n"
    "      tooltip: {trigger: 'axis', axisPointer: {type: 'shadow'}},\n"
    "      title: {text: data.ind.title, left: 0, textStyle: {fontSize: 14}},\n"
    "      grid: {left: 8, right: 40, top: 36, bottom: 8, containLabel: true},\n"
    "      xAxis: {type: 'value', minInterval: 1},\n"
    "      yAxis: {type: 'category', inverse: true, data: data.ind.cat.map(function (c, k) {\n"
    "        return data.ind.models[data.ind.model[k]] + ' · ' + c; })},\n"
    "      series: [{type: 'bar', barMaxWidth: 16, label: {show: true, position: 'right'},\n"
    "        data: data.ind.val.map(function (v, k) {\n"
    "          return {value: v, itemStyle: {color: pal[data.ind.model[k] % pal.length]}}; })}]\n"
    "    });\n"
    "  }\n"
    "  if (data.prov) draw('chart-prov', {\n"
    "    tooltip: {trigger: 'axis'},\n"
    "    legend: {top: 0},\n"
    "    grid: {left: 8, right: 8, top: 48, bottom: 8, containLabel: true},\n"
    "    xAxis: {type: 'category', data: data.prov.cat, axisLabel: {interval: 0, rotate: data.prov.cat.length > 12 ? 45 : 0}},\n"
    "    yAxis: [{type: 'value', minInterval: 1, name: L.flagged}, {type: 'value', name: L.suspicious,\n"
    "      axisLabel: {formatter: money}, splitLine: {show: false}}],\n"
    "    series: [{name: L.flagged, type: 'bar', data: data.prov.flagged, itemStyle: {color: blue}, barMaxWidth: 28},\n"
    "      {name: L.suspicious, type: 'line', yAxisIndex: 1, data: data.prov.susp, itemStyle: {color: red}}]\n"
    "  });\n"
    "  function hist(h) {\n"
    "    var w = (h.hi - h.lo) / h.c.length, cats = [], bars = [];\n"
    "    for (var k = 0; k < h.c.length; k++) {\n"
    "      cats.push(num(h.lo + k * w, h.pct) + ' – ' + num(h.lo + (k + 1) * w, h.pct));\n"
    "      bars.push({value: h.c[k], itemStyle: {color: k === h.m ? red : soft}});\n"
    "    }\n"
    "    var lines = [{xAxis: h.m, lineStyle: {color: red, type: 'solid', width: 2}}];\n"
    "    if (h.pm >= 0) lines.push({xAxis: h.pm, lineStyle: {color: '#333', type: 'dashed', width: 1.5}});\n"
    "    draw(h.el, {\n"
    "      tooltip: {trigger: 'axis', axisPointer: {type: 'shadow'}},\n"
    "      grid: {left: 8, right: 16, top: 16, bottom: 8, containLabel: true},\n"
    "      xAxis: {type: 'category', data: cats, axisLabel: {interval: 4, formatter: function (v) {\n"
    "        return v.split(' – ')[0]; }}},\n"
    "      yAxis: {type: 'value', minInterval: 1},\n"
    "      series: [{type: 'bar', name: L.institutions, data: bars, barCategoryGap: '8%',\n"
    "        markLine: {symbol: 'none', silent: true, label: {show: false}, data: lines}}]\n"
    "    });\n"
    "  }\n"
    "  window.addEventListener('resize', function () { all.forEach(function (c) { c.resize(); }); });\n"
    "  // The dossiers' distributions a few at a time, after the page is up:\n"
    "  // the overview is readable at once however many dossiers follow.\n"
    "  var todo = (data.hist || []).filter(function (h) { return h.el; });\n"
    "  (function next() {\n"
    "    todo.splice(0, 6).forEach(hist);\n"
    "    if (todo.length) setTimeout(next, 0);\n"
    "    else document.body.setAttribute('data-charts', String(drawn));\n"
    "  })();\n"
    "})();\n"
    "</script>\n";

/* --------------------------------------------------------- the library */

typedef struct {
    char *text;               /* the library's source (NULL: none usable) */
    size_t len;
    const char *looked[3];    /* where it was looked for */
    int nlooked;
} lib_t;

/* Read ECharts from the first place that has it.  A file that would end
 * its <script> element early is not used. */
static void lib_load(lib_t *lib)
{
    memset(lib, 0, sizeof *lib);
    const char *env = getenv("MS_ECHARTS_JS");
    if (env && *env) lib->looked[lib->nlooked++] = env;
    else {
        if (*MS_ECHARTS_JS) lib->looked[lib->nlooked++] = MS_ECHARTS_JS;
        if (*MS_ECHARTS_JS_INSTALLED) lib->looked[lib->nlooked++] = MS_ECHARTS_JS_INSTALLED;
    }
    for (int k = 0; k < lib->nlooked && !lib->text; k++) {
        FILE *fp = fopen(lib->looked[k], "rb");
        if (!fp) continue;
        ms_buf_t b = {0};
        char chunk[65536];
        size_t got;
        int ok = 1;
        while (ok && (got = fread(chunk, 1, sizeof chunk, fp)) > 0) ok = ms_buf_put(&b, chunk, got) == MS_OK;
        ok = ok && !ferror(fp) && b.len > 0 && ms_buf_put(&b, "", 1) == MS_OK;
        fclose(fp);
        if (ok && !strstr((const char *)b.data, "</script") && !strstr((const char *)b.data, "</SCRIPT")) {
            lib->text = (char *)b.data;
            lib->len = b.len - 1;
        } else {
            ms_buf_free(&b);
        }
    }
}

/* ------------------------------------------------------------- the page */

ms_status_t ms_report_write(const ms_output_t *o)
{
    char *path = ms_path_join(o->dir, "report.html");
    if (!path) return ms_error_set(MS_E_NOMEM, "out of memory");
    data_t d;
    ms_status_t st = data_make(o, &d);
    if (st != MS_OK) {
        free(path);
        return st;
    }
    lib_t lib;
    lib_load(&lib);
    char *js_text = NULL;
    size_t js_len = 0;
    page_t p = {NULL, NULL, o->lang, o, o->score};
    if (lib.text) {
        p.js = open_memstream(&js_text, &js_len);
        if (!p.js) {
            st = ms_error_errno(MS_E_NOMEM, errno, "cannot buffer report.html's chart data");
            goto done;
        }
        fprintf(p.js, "{\"lang\":\"%s\",\"font\":", ms_lang_code(o->lang));
        jstr(p.js, REPORT_FONTS);
        fputs(",\"labels\":{", p.js);
        static const char *const labels[][2] = {
            {"this", "report.chart.this"},         {"peers", "report.chart.peers"},
            {"institutions", "report.chart.count"}, {"flagged", "report.col.flagged"},
            {"suspicious", "report.col.suspicious"}, {"priority", "report.col.priority"}};
        for (size_t k = 0; k < sizeof labels / sizeof labels[0]; k++) {
            fprintf(p.js, "%s\"%s\":", k ? "," : "", labels[k][0]);
            jstr(p.js, T(&p, labels[k][1]));
        }
        fputs("}", p.js);
    }
    ms_afile_t f;
    st = ms_afile_open(&f, path);
    if (st != MS_OK) goto done;
    p.fp = f.fp;
    write_head(&p);
    write_band(&p);
    write_notes(&p, lib.looked, lib.nlooked);
    write_summary(&p, &d);
    write_list(&p, &d);
    write_models(&p, &d);
    write_provinces(&p, &d);
    write_dossiers(&p, &d);
    fputs("</main>\n<footer>", p.fp);
    {
        const char *args[] = {o->version ? o->version : ""};
        say(&p, "report.footer", 1, args);
    }
    fputs("</footer>\n", p.fp);
    if (p.js) {
        fputs("}", p.js);
        int bad = ferror(p.js);
        fclose(p.js);
        p.js = NULL;
        if (bad) {
            ms_afile_abort(&f);
            st = ms_error_set(MS_E_NOMEM, "cannot buffer report.html's chart data");
            goto done;
        }
        fputs("<script type=\"application/json\" id=\"ms-data\">", p.fp);
        fwrite(js_text, 1, js_len, p.fp);
        fputs("</script>\n<script>/* Apache ECharts (Apache-2.0), inlined: docs/report.md */\n", p.fp);
        fwrite(lib.text, 1, lib.len, p.fp);
        fputs("\n</script>\n", p.fp);
        fputs(DRAW, p.fp);
    }
    fputs("</body>\n</html>\n", p.fp);
    if (ferror(f.fp)) {
        int err = errno ? errno : EIO;
        ms_afile_abort(&f);
        st = ms_error_errno(MS_E_IO, err, "cannot write %s", path);
    } else {
        st = ms_afile_commit(&f);
    }
done:
    if (p.js) fclose(p.js);
    free(js_text);
    free(lib.text);
    data_free(&d);
    free(path);
    return st;
}
