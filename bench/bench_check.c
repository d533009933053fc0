/*
 * bench_check.c - pre-notification throughput on one core: claims/s
 * through ms_check_claim (the rules on a claim in memory), through
 * ms_check_claim + ms_check_verdict (and its verdict written as JSON), and
 * through ms_check_json (JSON text in, verdict out: parse, validate,
 * resolve, judge, write).  docs/prenotification.md, bar: 50,000 claims/s per
 * core through the library.
 *
 * The claims are generated, realistic in size and mix: 10-30 bill lines
 * (drugs, exams, labs, treatments, consumables; bed-days and nursing for
 * stays), a history of 20-100 earlier lines of the same person over half a
 * year (some of the same drugs and exams, so the window rules find
 * something), scanned packages for the drugs that need them, against a
 * generated knowledge base of --items items with the restrictions a real
 * catalogue has (sex, age, daily maxima, supply, setting, diagnoses,
 * scanning) and exclusive pairs.  Before timing, the JSON and the in-memory
 * form of every claim are checked to give the same verdict.
 *
 *   bench_check [--claims 20000] [--items 5000] [--repeat 5] [--seed 1]
 *               [--dir build/bench-check] [--json]
 *   bench_check --claims N --dir DIR --write-claims FILE --repeat 0
 *       only DIR/knowledge and the claims as JSON lines in FILE
 *       (bench/run_serve.sh)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_bench.h"
#include "ms_check.h"
#include "ms_fs.h"
#include "ms_schema.h"

typedef struct {
    uint64_t s;
} rng_t;

static uint64_t next(rng_t *r)
{
    r->s += 0x9e3779b97f4a7c15ull;
    return ms_bench_scramble(r->s);
}

static uint32_t below(rng_t *r, uint32_t n) { return (uint32_t)(next(r) % n); }

/* ------------------------------------------------------------ catalogue */

typedef struct {
    char code[12];
    uint8_t cat;
    uint8_t trace;
} item_t;

/* Categories in a bill's proportions. */
static uint8_t pick_category(rng_t *r)
{
    static const uint8_t mix[20] = {MS_CAT_DRUG, MS_CAT_DRUG, MS_CAT_DRUG, MS_CAT_DRUG, MS_CAT_DRUG,
                                    MS_CAT_DRUG, MS_CAT_DRUG, MS_CAT_DRUG, MS_CAT_EXAM, MS_CAT_EXAM,
                                    MS_CAT_LAB,  MS_CAT_LAB,  MS_CAT_LAB,  MS_CAT_CONSUMABLE, MS_CAT_CONSUMABLE,
                                    MS_CAT_TREATMENT, MS_CAT_TREATMENT, MS_CAT_SURGERY, MS_CAT_NURSING,
                                    MS_CAT_OTHER};
    return mix[below(r, 20)];
}

/* DIR/knowledge/items.csv and exclusive_items.csv: n items (plus one bed-day
 * item, the last), a realistic share of them restricted. */
static int write_catalogue(const char *dir, item_t *it, uint32_t n, rng_t *r)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/knowledge", dir);
    if (ms_mkdirs(path) != MS_OK) return -1;
    snprintf(path, sizeof path, "%s/knowledge/items.csv", dir);
    FILE *fp = fopen(path, "w");
    if (!fp) return -1;
    fputs("item_code,name,category,sex,min_age,max_age,max_qty_per_day,max_days_supply,setting,diagnoses,"
          "trace_required\n",
          fp);
    for (uint32_t i = 0; i < n; i++) {
        item_t *t = &it[i];
        snprintf(t->code, sizeof t->code, "I%05u", i);
        t->cat = i == n - 1 ? MS_CAT_BED : pick_category(r);
        t->trace = t->cat == MS_CAT_DRUG && below(r, 10) == 0;
        uint32_t u = below(r, 100);
        const char *sex = u < 2 ? "F" : u < 3 ? "M" : "";
        char minage[8] = "", maxage[8] = "", maxqty[16] = "", maxds[8] = "", diag[32] = "";
        if (below(r, 100) < 3) snprintf(minage, sizeof minage, "%u", 18 + below(r, 40));
        if (below(r, 100) < 3) snprintf(maxage, sizeof maxage, "%u", 60 + below(r, 40));
        if (below(r, 100) < 25) snprintf(maxqty, sizeof maxqty, "%u", 2 + below(r, 6));
        if (t->cat == MS_CAT_DRUG && below(r, 3) == 0) snprintf(maxds, sizeof maxds, "%u", 30);
        u = below(r, 100);
        const char *setting = u < 3 ? "inpatient" : u < 5 ? "outpatient" : "";
        if (below(r, 100) < 4) snprintf(diag, sizeof diag, "E1%u;I1%u", below(r, 10), below(r, 10));
        fprintf(fp, "%s,Item %u,%s,%s,%s,%s,%s,%s,%s,%s,%u\n", t->code, i, ms_item_category_name(t->cat), sex,
                minage, maxage, maxqty, maxds, setting, diag, t->trace);
    }
    fclose(fp);
    snprintf(path, sizeof path, "%s/knowledge/exclusive_items.csv", dir);
    if (!(fp = fopen(path, "w"))) return -1;
    fputs("item_a,item_b\n", fp);
    for (uint32_t i = 0; i + 1 < n && i < 2 * (n / 50); i += 2) fprintf(fp, "%s,%s\n", it[i].code, it[i + 1].code);
    fclose(fp);
    return 0;
}

/* ------------------------------------------------------------ claims */

typedef struct {
    ms_claim_t c;
    ms_rule_line_t *lines, *history;
    ms_rule_trace_t *traces;
    char id[24];
    char *json;
    size_t json_len;
} claim_t;

/* A popular item (the catalogue's head is billed most): of category cat
 * when cat < MS_CAT_COUNT. */
static uint32_t pick_item(rng_t *r, const item_t *it, uint32_t n, int cat)
{
    for (;;) {
        uint32_t a = below(r, n - 1), b = below(r, n - 1), i = a < b ? a : b;
        if (cat >= MS_CAT_COUNT || it[i].cat == cat) return i;
    }
}

static void make_line(rng_t *r, const item_t *it, uint32_t n, const ms_knowledge_t *kb, uint32_t i,
                      ms_rule_line_t *l)
{
    memset(l, 0, sizeof *l);
    l->item_code = it[i].code;
    l->item = ms_knowledge_find(kb, it[i].code, strlen(it[i].code));
    l->category = it[i].cat;
    uint32_t q = below(r, 10);
    l->qty_milli = q < 6 ? 1000 : q < 9 ? 2000 + 1000 * below(r, 3) : 500 + 250 * below(r, 4);
    l->unit_price = 10000 * (1 + below(r, 300)) + 100 * below(r, 100);
    l->amount = (l->qty_milli * l->unit_price + 50000) / 100000;
    l->days_supply = l->category == MS_CAT_DRUG ? (int32_t)(3 + below(r, 28)) : 0;
    l->doctor_id = 1 + below(r, 500);
    (void)n;
}

static int line_cmp(const void *x, const void *y)
{
    const ms_rule_line_t *p = x, *q = y;
    if (p->date != q->date) return p->date < q->date ? -1 : 1;
    if (p->settle_id != q->settle_id) return p->settle_id < q->settle_id ? -1 : 1;
    return p->line_no < q->line_no ? -1 : p->line_no > q->line_no;
}

static void put_milli(char *out, int64_t v, int dec)
{
    /* v scaled by 10^dec as a decimal string with its decimals trimmed */
    int64_t scale = 1;
    for (int k = 0; k < dec; k++) scale *= 10;
    int n = sprintf(out, "%lld", (long long)(v / scale));
    int64_t f = v % scale;
    if (f) {
        n += sprintf(out + n, ".%0*lld", dec, (long long)f);
        while (out[n - 1] == '0') out[--n] = 0;
    }
}

static int json_line(char *p, size_t cap, const ms_rule_line_t *l, int history)
{
    char date[11], qty[32], price[32], amount[24];
    ms_date_format(l->date, date);
    put_milli(qty, l->qty_milli, 3);
    put_milli(price, l->unit_price, 4);
    ms_money_format(l->amount, amount);
    if (history)
        return snprintf(p, cap,
                        "{\"settle_id\":%llu,\"line_no\":%u,\"inst_code\":\"H%04u\",\"date\":\"%s\","
                        "\"item_code\":\"%s\",\"category\":\"%s\",\"qty\":\"%s\",\"days_supply\":%d}",
                        (unsigned long long)l->settle_id, l->line_no, (unsigned)(l->settle_id % 5000), date,
                        l->item_code, ms_item_category_name(l->category), qty, l->days_supply);
    return snprintf(p, cap,
                    "{\"line_no\":%u,\"date\":\"%s\",\"item_code\":\"%s\",\"category\":\"%s\",\"qty\":\"%s\","
                    "\"unit_price\":\"%s\",\"amount\":\"%s\",\"days_supply\":%d,\"doctor_id\":%u}",
                    l->line_no, date, l->item_code, ms_item_category_name(l->category), qty, price, amount,
                    l->days_supply, l->doctor_id);
}

/* An item an honest bill may carry for this claim: the patient's sex and
 * age, the visit's setting, the diagnosis. */
static int fits(const ms_knowledge_t *kb, uint32_t i, const ms_claim_t *c)
{
    const ms_kb_item_t *it = &kb->items[i];
    if (it->sex != MS_KB_NONE && it->sex != (int)c->sex) return 0;
    if ((it->min_age != MS_KB_NONE && c->age < it->min_age) || (it->max_age != MS_KB_NONE && c->age > it->max_age))
        return 0;
    int inpatient = c->visit_type == MS_VISIT_INPATIENT;
    if ((it->setting == MS_SETTING_INPATIENT && !inpatient) || (it->setting == MS_SETTING_OUTPATIENT && inpatient))
        return 0;
    return ms_kb_item_covers(it, c->diag_main, strlen(c->diag_main));
}

static const char *const diags[] = {"J18.9", "E11.9", "I10.x00", "K29.7", "M54.5", "N39.0", "I25.1", "J44.1"};

static int make_claim(rng_t *r, const item_t *it, uint32_t n, const ms_knowledge_t *kb, uint64_t k, claim_t *cl)
{
    memset(cl, 0, sizeof *cl);
    ms_claim_t *c = &cl->c;
    snprintf(cl->id, sizeof cl->id, "C%09llu", (unsigned long long)k);
    c->settle_id = 1000000 + k;
    c->person_id = ms_bench_scramble(k) % 100000000;
    c->inst = -1;
    uint32_t v = below(r, 10);
    c->visit_type = v < 7 ? MS_VISIT_OUTPATIENT : v < 9 ? MS_VISIT_INPATIENT : MS_VISIT_PHARMACY;
    int32_t today = 20500 + (int32_t)below(r, 300); /* 2026 */
    int32_t los = c->visit_type == MS_VISIT_INPATIENT ? 1 + (int32_t)below(r, 12) : 0;
    c->admit_date = today - los;
    c->discharge_date = today;
    c->age = (uint8_t)(1 + below(r, 95));
    c->sex = (uint8_t)below(r, 2);
    c->diag_main = diags[below(r, 8)];
    size_t nl = 10 + below(r, 21), nh = 20 + below(r, 81);
    int careless = below(r, 10) == 0;
    cl->lines = malloc(nl * sizeof *cl->lines);
    cl->history = malloc(nh * sizeof *cl->history);
    cl->traces = malloc(nl * sizeof *cl->traces);
    if (!cl->lines || !cl->history || !cl->traces) return -1;
    for (size_t i = 0; i < nl; i++) {
        ms_rule_line_t *l = &cl->lines[i];
        int bed = c->visit_type == MS_VISIT_INPATIENT && i == 0;
        uint32_t idx = n - 1;
        /* One claim in ten is careless: what it bills first is what it keeps. */
        for (int tries = 0; !bed && tries < (careless ? 1 : 50); tries++) {
            idx = pick_item(r, it, n, c->visit_type == MS_VISIT_PHARMACY ? MS_CAT_DRUG : MS_CAT_COUNT);
            if (fits(kb, idx, c)) break;
        }
        make_line(r, it, n, kb, idx, l);
        /* An honest line keeps to the item's daily maximum. */
        int64_t max = kb->items[idx].max_qty_milli;
        if (!careless && max != MS_KB_NONE && l->qty_milli > max / 2) l->qty_milli = max / 2 ? max / 2 : 1;
        if (!careless && l->category == MS_CAT_DRUG && kb->items[idx].max_days_supply != MS_KB_NONE &&
            l->days_supply > kb->items[idx].max_days_supply)
            l->days_supply = kb->items[idx].max_days_supply;
        if (bed) l->qty_milli = 1000 * (los + (below(r, 20) == 0 ? 2 : 0));
        l->settle_id = c->settle_id;
        l->line_no = (uint32_t)i + 1;
        l->date = c->admit_date + (int32_t)below(r, (uint32_t)los + 1);
        l->inst = c->inst;
        /* Scanned packages for the drugs that need them, one claim in twenty
         * short of them. */
        if (it[idx].trace && below(r, 20))
            cl->traces[c->ntraces++] = (ms_rule_trace_t){l->item, (uint32_t)((l->qty_milli + 999) / 1000)};
    }
    /* History: half a year of earlier visits, some with this claim's items. */
    for (size_t i = 0; i < nh; i++) {
        ms_rule_line_t *l = &cl->history[i];
        uint32_t src = below(r, 4) == 0 ? (uint32_t)cl->lines[below(r, (uint32_t)nl)].item
                                        : pick_item(r, it, n, MS_CAT_COUNT);
        make_line(r, it, n, kb, src, l);
        l->settle_id = c->settle_id - 1 - below(r, 8) * 7919;
        l->line_no = (uint32_t)i + 1;
        l->date = c->admit_date - 1 - (int32_t)below(r, 180);
        /* An honest history repeats an exam or a lab test after a fortnight. */
        if (!careless && (l->category == MS_CAT_EXAM || l->category == MS_CAT_LAB) && l->date > c->admit_date - 15)
            l->date = c->admit_date - 15 - (int32_t)below(r, 165);
        l->inst = -1;
    }
    qsort(cl->history, nh, sizeof *cl->history, line_cmp);
    qsort(cl->lines, nl, sizeof *cl->lines, line_cmp);
    c->lines = cl->lines;
    c->nlines = nl;
    c->history = cl->history;
    c->nhistory = nh;
    c->traces = cl->traces;

    size_t cap = 512 + (nl + nh) * 320 + c->ntraces * 64, len = 0;
    char *p = malloc(cap), a[11], b[11];
    if (!p) return -1;
    ms_date_format(c->admit_date, a);
    ms_date_format(c->discharge_date, b);
    len += (size_t)snprintf(p + len, cap - len,
                            "{\"claim_id\":\"%s\",\"settle_id\":%llu,\"person_id\":%llu,\"inst_code\":\"H%04u\","
                            "\"visit_type\":\"%s\",\"admit_date\":\"%s\",\"discharge_date\":\"%s\",\"age\":%u,"
                            "\"sex\":\"%s\",\"diag_main\":\"%s\",\"lines\":[",
                            cl->id, (unsigned long long)c->settle_id, (unsigned long long)c->person_id,
                            (unsigned)(k % 5000), ms_enum_visit_type.names[c->visit_type], a, b, c->age,
                            ms_enum_sex.names[c->sex], c->diag_main);
    for (size_t i = 0; i < nl; i++) {
        if (i) p[len++] = ',';
        len += (size_t)json_line(p + len, cap - len, &cl->lines[i], 0);
    }
    len += (size_t)snprintf(p + len, cap - len, "],\"traces\":[");
    for (size_t t = 0; t < c->ntraces; t++)
        len += (size_t)snprintf(p + len, cap - len, "%s{\"drug_code\":\"%s\",\"qty\":%u}", t ? "," : "",
                                kb->items[c->traces[t].item].item_code, c->traces[t].qty);
    len += (size_t)snprintf(p + len, cap - len, "],\"history\":[");
    for (size_t i = 0; i < nh; i++) {
        if (i) p[len++] = ',';
        len += (size_t)json_line(p + len, cap - len, &cl->history[i], 1);
    }
    len += (size_t)snprintf(p + len, cap - len, "]}");
    cl->json = p;
    cl->json_len = len;
    return 0;
}

/* ------------------------------------------------------------ runs */

typedef struct {
    const ms_checker_t *ck;
    claim_t *cl;
    size_t n;
    uint64_t bytes;
    uint64_t hits, claims_hit;
    uint64_t by_template[MS_RULE_TEMPLATE_COUNT];
} ctx_t;

static int run_claim(void *vctx, ms_bench_work_t *w)
{
    ctx_t *x = vctx;
    ms_rule_hits_t hits = {0};
    uint64_t total = 0, hit = 0;
    memset(x->by_template, 0, sizeof x->by_template);
    const ms_ruleset_t *rs = ms_checker_ruleset(x->ck);
    for (size_t i = 0; i < x->n; i++) {
        if (ms_check_claim(x->ck, &x->cl[i].c, &hits) != MS_OK) return 1;
        total += hits.n;
        hit += hits.n > 0;
        for (size_t h = 0; h < hits.n; h++) x->by_template[ms_ruleset_rule(rs, hits.hit[h].rule)->tmpl]++;
    }
    ms_rule_hits_free(&hits);
    x->hits = total;
    x->claims_hit = hit;
    w->records = x->n;
    w->bytes = 0;
    return 0;
}

static int run_verdict(void *vctx, ms_bench_work_t *w)
{
    ctx_t *x = vctx;
    ms_rule_hits_t hits = {0};
    ms_buf_t out = {0};
    uint64_t bytes = 0;
    for (size_t i = 0; i < x->n; i++) {
        out.len = 0;
        if (ms_check_claim(x->ck, &x->cl[i].c, &hits) != MS_OK ||
            ms_check_verdict(x->ck, &x->cl[i].c, x->cl[i].id, MS_CLAIM_ALL, &hits, "zh", &out) != MS_OK)
            return 1;
        bytes += out.len;
    }
    ms_rule_hits_free(&hits);
    ms_buf_free(&out);
    w->records = x->n;
    w->bytes = bytes;
    return 0;
}

static int run_json(void *vctx, ms_bench_work_t *w)
{
    ctx_t *x = vctx;
    ms_buf_t out = {0};
    uint64_t bytes = 0;
    for (size_t i = 0; i < x->n; i++) {
        out.len = 0;
        if (ms_check_json(x->ck, x->cl[i].json, x->cl[i].json_len, "zh", &out) != MS_OK) {
            fprintf(stderr, "bench_check: claim %zu: %s\n", i, ms_error_detail());
            return 1;
        }
        bytes += x->cl[i].json_len;
    }
    ms_buf_free(&out);
    w->records = x->n;
    w->bytes = bytes;
    return 0;
}

int main(int argc, char **argv)
{
    size_t nclaims = 20000;
    uint32_t nitems = 5000;
    int repeats = 5, json = 0;
    uint64_t seed = 1;
    const char *dir = "build/bench-check", *write_claims = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (i + 1 >= argc) break;
        else if (!strcmp(argv[i], "--claims")) nclaims = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--items")) nitems = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--repeat")) repeats = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed")) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--dir")) dir = argv[++i];
        else if (!strcmp(argv[i], "--write-claims")) write_claims = argv[++i];
    }
    if (nclaims < 1) nclaims = 1;
    if (repeats < 0 || (repeats == 0 && !write_claims)) repeats = 1;
    if (nitems < 100) nitems = 100;
    rng_t r = {seed};
    item_t *items = calloc(nitems, sizeof *items);
    claim_t *cl = calloc(nclaims, sizeof *cl);
    if (!items || !cl || write_catalogue(dir, items, nitems, &r)) {
        fprintf(stderr, "bench_check: cannot write the knowledge base in %s\n", dir);
        return 1;
    }
    char kdir[4200];
    snprintf(kdir, sizeof kdir, "%s/knowledge", dir);
    ms_check_opts_t o = {.knowledge = kdir};
    ms_checker_t *ck = NULL;
    if (ms_checker_open(&o, &ck) != MS_OK) {
        fprintf(stderr, "bench_check: %s\n", ms_error_detail());
        return 1;
    }
    const ms_knowledge_t *kb = ms_checker_knowledge(ck);
    uint64_t lines = 0, hist = 0, bytes = 0;
    for (size_t i = 0; i < nclaims; i++) {
        if (make_claim(&r, items, nitems, kb, i, &cl[i])) {
            fprintf(stderr, "bench_check: out of memory\n");
            return 1;
        }
        lines += cl[i].c.nlines;
        hist += cl[i].c.nhistory;
        bytes += cl[i].json_len;
    }
    if (write_claims) {
        /* The claims as JSON lines, for bench/run_serve.sh (and only that). */
        FILE *fp = fopen(write_claims, "w");
        for (size_t i = 0; fp && i < nclaims; i++) {
            fwrite(cl[i].json, 1, cl[i].json_len, fp);
            fputc('\n', fp);
        }
        if (!fp || fclose(fp)) {
            fprintf(stderr, "bench_check: cannot write %s\n", write_claims);
            return 1;
        }
        if (repeats == 0) return 0;
    }
    /* The two ways in agree on every claim. */
    size_t differ = 0;
    ms_buf_t a = {0}, b = {0};
    ms_rule_hits_t hits = {0};
    for (size_t i = 0; i < nclaims; i++) {
        a.len = b.len = 0;
        if (ms_check_json(ck, cl[i].json, cl[i].json_len, "en", &a) != MS_OK) {
            fprintf(stderr, "bench_check: claim %zu: %s\n%.*s\n", i, ms_error_detail(), (int)cl[i].json_len,
                    cl[i].json);
            return 1;
        }
        if (ms_check_claim(ck, &cl[i].c, &hits) != MS_OK ||
            ms_check_verdict(ck, &cl[i].c, cl[i].id, MS_CLAIM_ALL, &hits, "en", &b) != MS_OK)
            return 1;
        differ += a.len != b.len || memcmp(a.data, b.data, a.len);
    }
    ms_buf_free(&a), ms_buf_free(&b), ms_rule_hits_free(&hits);

    ctx_t x = {ck, cl, nclaims, bytes, 0, 0, {0}};
    ms_bench_result_t rc, rv, rj;
    if (ms_bench_run(run_claim, &x, repeats, &rc) || ms_bench_run(run_verdict, &x, repeats, &rv) ||
        ms_bench_run(run_json, &x, repeats, &rj)) {
        fprintf(stderr, "bench_check: %s\n", ms_error_detail());
        return 1;
    }
    ms_checker_info_t info;
    ms_checker_info(ck, &info);
    if (json) {
        printf("{\"claims\": %zu, \"lines_per_claim\": %.1f, \"history_per_claim\": %.1f, \"json_bytes_per_claim\": "
               "%.0f, \"claims_hit\": %llu, \"hits\": %llu, \"differ\": %zu, \"runs\": [",
               nclaims, (double)lines / (double)nclaims, (double)hist / (double)nclaims,
               (double)bytes / (double)nclaims, (unsigned long long)x.claims_hit, (unsigned long long)x.hits, differ);
        ms_bench_json(stdout, "check_claim", &rc);
        fputs(", ", stdout);
        ms_bench_json(stdout, "check_claim_verdict", &rv);
        fputs(", ", stdout);
        ms_bench_json(stdout, "check_json", &rj);
        puts("]}");
    } else {
        printf("%zu claims: %.1f lines and %.1f history lines each, %.0f bytes of JSON; %zu rules, %zu items, "
               "%zu exclusive pairs\n",
               nclaims, (double)lines / (double)nclaims, (double)hist / (double)nclaims,
               (double)bytes / (double)nclaims, info.rules, info.knowledge_items, info.exclusive_pairs);
        printf("%llu claims hit (%.1f%%), %llu hits; JSON and in-memory verdicts differ on %zu claims\n",
               (unsigned long long)x.claims_hit, 100.0 * (double)x.claims_hit / (double)nclaims,
               (unsigned long long)x.hits, differ);
        printf("hits by template:");
        for (int t = 0; t < MS_RULE_TEMPLATE_COUNT; t++)
            printf(" %s %llu", ms_rule_template_name(t), (unsigned long long)x.by_template[t]);
        printf("\n");
        ms_bench_print(stdout, "ms_check_claim", &rc);
        ms_bench_print(stdout, "ms_check_claim + verdict JSON", &rv);
        ms_bench_print(stdout, "ms_check_json (parse to verdict)", &rj);
        printf("one core: %.0f claims/s through ms_check_claim, %.0f with the verdict written, %.0f through "
               "ms_check_json (bar: 50000)\n",
               rc.records_per_s, rv.records_per_s, rj.records_per_s);
    }
    for (size_t i = 0; i < nclaims; i++) free(cl[i].lines), free(cl[i].history), free(cl[i].traces), free(cl[i].json);
    free(cl);
    free(items);
    ms_checker_close(ck);
    return differ ? 1 : 0;
}
