/*
 * ms_fakecsv.c - a random but valid world in canonical CSV.  See ms_fakecsv.h.
 *
 * The world:
 *   - institutions of five kinds in a pool of 6-digit county codes, each with
 *     a payment mode for its inpatients (DRG, DIP or fee-for-service), a
 *     number of doctors and a size (beds) that weights how often it is
 *     chosen;
 *   - DRG/DIP groups in families of one to three severity variants
 *     (CHS-DRG style codes: MDC letter, type letter, number, then 1/3/5 for
 *     MCC/CC/none or 9 for a family without variants);
 *   - a fixed catalogue of diagnoses (ICD-10 as the national platform writes
 *     it, a few ICD-9-CM) with their department, MDC, usual procedure, usual
 *     costs and length of stay;
 *   - a catalogue of drugs with national drug codes and unit prices;
 *   - persons, made one at a time: age, sex, residence, a home hospital,
 *     outpatient institution and pharmacy, sometimes a chronic condition,
 *     and 1 + Exp(5.5) visits (about 6) on uniform days of the window, in
 *     order; no two inpatient stays overlap and no visit falls inside a stay.
 * All money is int64 fen: a total is drawn, split exactly into the nine
 * categories (largest remainder to the largest share), coded drug items are
 * added to the drug category, and fund_pay is a share of the total with
 * self_pay the rest.
 */
#include "ms_fakecsv.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ms_clock.h"
#include "ms_csv.h"
#include "ms_fmt.h"
#include "ms_rng.h"
#include "ms_fs.h"
#include "ms_schema.h"
#include "ms_status.h"
#include "ms_synth_util.h"

__extension__ typedef unsigned __int128 ms_u128;

/* True with probability pct/100. */
static inline int rng_pct(ms_rng_t *r, unsigned pct)
{
    return ms_rng_below(r, 100) < pct;
}

/* A bijection of [0, 2^bits), bits < 64, to make unique but unordered ids. */
static uint64_t mix_bits(uint64_t x, int bits)
{
    uint64_t mask = (1ull << bits) - 1;
    x = (x + 0x5851F42D4C957F2Dull) & mask;
    x = (x * 0x9E3779B97F4A7C15ull) & mask; /* odd multiplier: bijective mod 2^bits */
    x ^= x >> (bits / 2 + 1);
    x = (x * 0xD6E8FEB86659FD93ull) & mask;
    x ^= x >> (bits / 3 + 1);
    return x;
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */

static _Thread_local char g_err[512];

const char *ms_fake_error(void)
{
    return g_err;
}

static int fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_err, sizeof g_err, fmt, ap);
    va_end(ap);
    if (err) {
        size_t n = strlen(g_err);
        snprintf(g_err + n, sizeof g_err - n, ": %s", strerror(err));
    }
    ms_error_set(err == ENOSPC ? MS_E_NOSPACE : err == ENOMEM ? MS_E_NOMEM
                 : err ? MS_E_IO : MS_E_USAGE, "%s", g_err);
    errno = err ? err : EINVAL;
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Fixed catalogues                                                          */

/* Visit types as indices into per-type arrays. */
enum { VO = MS_VISIT_OUTPATIENT, VI = MS_VISIT_INPATIENT, VP = MS_VISIT_PHARMACY };

typedef struct {
    const char *code;
    uint8_t dept;
    char mdc;
    uint16_t w[3];        /* relative frequency: outpatient, inpatient, pharmacy */
    const char *proc;     /* usual procedure or NULL */
    uint8_t proc_pct_o;   /* chance of the procedure on an outpatient visit */
    uint8_t proc_pct_i;   /* ... on an inpatient stay */
    uint8_t sex;          /* 0 any, 1 male only, 2 female only */
    uint8_t age_lo, age_hi;
    uint8_t chronic;      /* may be a person's chronic condition */
    uint32_t cost_o;      /* median outpatient cost, yuan */
    uint32_t cost_i;      /* median inpatient cost (fee-for-service), yuan */
    uint8_t los;          /* median length of stay, days */
} diag_t;

static const diag_t DIAGS[] = {
    /* code        dept          mdc  O   I   P   proc    %o  %i sex age      chr  cost_o cost_i los */
    {"J18.9",     MS_DEPT_IM,  'E', {10, 10, 0},  NULL,    0,  0, 0, 0, 120, 0, 300,  8000,  8},
    {"J18.900",   MS_DEPT_IM,  'E', {5, 8, 0},    NULL,    0,  0, 0, 0, 120, 0, 300,  8500,  8},
    {"J06.9",     MS_DEPT_IM,  'D', {30, 1, 5},   NULL,    0,  0, 0, 0, 120, 0, 120,  3000,  4},
    {"I10.x00",   MS_DEPT_CAR, 'F', {20, 3, 25},  NULL,    0,  0, 0, 18, 120, 1, 150, 6000,  7},
    {"E11.900",   MS_DEPT_IM,  'K', {15, 4, 20},  NULL,    0,  0, 0, 18, 120, 1, 200, 7000,  9},
    {"0389",      MS_DEPT_IM,  'S', {0, 2, 0},    NULL,    0,  0, 0, 0, 120, 0, 300,  30000, 14},
    {"4019",      MS_DEPT_CAR, 'F', {3, 0, 3},    NULL,    0,  0, 0, 18, 120, 0, 150, 6000,  7},
    {"K29.7",     MS_DEPT_IM,  'G', {15, 2, 3},   NULL,    0,  0, 0, 0, 120, 0, 250,  5000,  6},
    {"I25.1",     MS_DEPT_CAR, 'F', {8, 6, 10},   "36.06", 0, 40, 0, 30, 120, 1, 250, 35000, 8},
    {"I21.9",     MS_DEPT_CAR, 'F', {0, 2, 0},    "36.06", 0, 70, 0, 30, 120, 0, 300, 50000, 10},
    {"I63.9",     MS_DEPT_NEU, 'B', {2, 5, 2},    NULL,    0,  0, 0, 30, 120, 0, 300, 25000, 14},
    {"J44.1",     MS_DEPT_IM,  'E', {6, 5, 8},    NULL,    0,  0, 0, 40, 120, 1, 250, 12000, 10},
    {"N18.5",     MS_DEPT_NEP, 'L', {6, 2, 2},    "39.95", 90, 30, 0, 18, 120, 1, 450, 15000, 10},
    {"C34.9",     MS_DEPT_ONC, 'E', {3, 4, 1},    "32.41", 0, 20, 0, 35, 120, 0, 500, 40000, 12},
    {"Z51.1",     MS_DEPT_ONC, 'R', {2, 4, 0},    "99.25", 50, 90, 0, 18, 120, 0, 2000, 15000, 4},
    {"H25.9",     MS_DEPT_OPH, 'C', {4, 3, 0},    "13.41", 0, 95, 0, 50, 120, 0, 200, 8000,  3},
    {"K02.9",     MS_DEPT_DEN, 'D', {8, 0, 0},    "23.09", 30, 0, 0, 3, 120, 0, 300,  3000,  2},
    {"S72.0",     MS_DEPT_ORT, 'I', {1, 3, 0},    "81.52", 0, 80, 0, 50, 120, 0, 400, 45000, 14},
    {"M17.9",     MS_DEPT_ORT, 'I', {6, 2, 4},    "81.54", 0, 50, 0, 40, 120, 1, 250, 50000, 10},
    {"O80.0",     MS_DEPT_OBS, 'O', {0, 3, 0},    "73.59", 0, 50, 2, 16, 48, 0, 200,  4000,  3},
    {"O82.0",     MS_DEPT_OBS, 'O', {0, 2, 0},    "74.1",  0, 100, 2, 16, 48, 0, 200, 9000,  5},
    {"K35.8",     MS_DEPT_SUR, 'G', {1, 3, 0},    "47.01", 0, 90, 0, 3, 120, 0, 300,  15000, 5},
    {"K80.1",     MS_DEPT_SUR, 'H', {2, 3, 1},    "51.23", 0, 80, 0, 18, 120, 0, 300, 18000, 6},
    {"G40.9",     MS_DEPT_NEU, 'B', {3, 1, 3},    NULL,    0,  0, 0, 0, 120, 1, 300,  8000,  7},
    {"N39.0",     MS_DEPT_IM,  'L', {5, 1, 1},    NULL,    0,  0, 0, 0, 120, 0, 200,  5000,  6},
    {"R50.9",     MS_DEPT_OTH, 'S', {6, 1, 0},    NULL,    0,  0, 0, 0, 120, 0, 150,  4000,  4},
    {"Z50.9",     MS_DEPT_REH, 'X', {2, 2, 0},    "93.39", 60, 50, 0, 18, 120, 0, 300, 20000, 20},
    {"A09.9",     MS_DEPT_IM,  'G', {8, 2, 0},    NULL,    0,  0, 0, 0, 120, 0, 150,  4000,  4},
    {"F32.9",     MS_DEPT_OTH, 'T', {3, 1, 3},    NULL,    0,  0, 0, 12, 120, 1, 300, 9000, 15},
    {"I48.9",     MS_DEPT_CAR, 'F', {3, 2, 3},    "37.34", 0, 20, 0, 40, 120, 1, 300, 20000, 7},
    {"E78.5",     MS_DEPT_IM,  'K', {6, 0, 8},    NULL,    0,  0, 0, 30, 120, 1, 150, 5000,  5},
    {"M54.5",     MS_DEPT_ORT, 'I', {6, 1, 2},    "93.39", 10, 0, 0, 18, 120, 0, 200, 7000, 8},
    {"J45.9",     MS_DEPT_IM,  'E', {5, 1, 4},    NULL,    0,  0, 0, 0, 120, 1, 200,  6000,  6},
    {"B18.1",     MS_DEPT_IM,  'H', {3, 1, 3},    NULL,    0,  0, 0, 12, 120, 1, 300, 10000, 9},
};
#define N_DIAGS ((int)(sizeof DIAGS / sizeof DIAGS[0]))
#define DIAG_FALLBACK 25 /* R50.9: any sex, any age */

/* Awkward codes at their maximum lengths. */
#define MAX_DIAG "I10.X00ABCDEFG12" /* 16 */
#define MAX_PROC "81.51001"         /* 8 */
#define MAX_DRUG "XA10BAA0123A0010101000019ABCDEFG" /* 32 */

static const char *const PLACES[] = {
    "Dongcheng", "Xicheng", "Haidian", "Chaoyang", "Pudong", "Huangpu", "Tianhe", "Yuexiu",
    "Wuhou", "Jinjiang", "Gulou", "Xuanwu", "Jianghan", "Yuhua", "Lixia", "Shibei",
    "Nanming", "Wuhua", "Chengguan", "Xingqing", "Baiyun", "Longgang", "Xiangzhou", "Yanta",
};
static const char *const PLACES_CN[] = {
    "北京", "上海", "广州", "成都", "武汉", "杭州", "西安", "南京", "长沙", "郑州", "昆明", "兰州",
};
#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *const KIND_NAMES[] = {"general", "specialty", "primary", "clinic", "pharmacy"};
static const char *const OWN_NAMES[] = {"public", "private"};
static const char *const VT_NAMES[] = {"outpatient", "inpatient", "pharmacy"};
static const char *const PAY_NAMES[] = {"ffs", "drg", "dip"};
static const char *const DEPT_NAMES[] = {"IM", "SUR", "ORT", "ONC", "OPH", "DEN", "NEU",
                                         "CAR", "NEP", "OBS", "PED", "REH", "GER", "OTH"};

/* ------------------------------------------------------------------------ */
/* The world held in memory                                                   */

enum { MAX_LOS = 180, MAX_SETTLE_DELAY = 5, MAX_PAST_WINDOW = MAX_LOS + MAX_SETTLE_DELAY + 1 };

typedef struct {
    char code[33];
    uint8_t code_len;
    uint8_t kind, level, own;
    uint8_t pay;          /* inpatient payment mode of the institution */
    int32_t region;
    int32_t beds;
    uint32_t ndoctors;
    uint32_t doctor_base;
    char name[192];
} inst_t;

typedef struct {
    char code[17];
    char family[17];
    uint8_t severity;
    uint32_t weight4;     /* weight * 10000 */
    char mdc;
    uint8_t surgical;
    uint32_t los10;       /* expected length of stay * 10 */
} group_t;

typedef struct {
    uint32_t first;       /* index of its first variant in groups */
    uint8_t nvar;
    char mdc;
    uint8_t surgical;
} family_t;

typedef struct {
    char code[33];
    uint8_t code_len;
    char prefix[8];       /* first 7 digits of its trace codes */
    int64_t price;        /* fen */
} drug_t;

/* A weighted choice over a list of institutions: cumulative weights. */
typedef struct {
    uint32_t n;
    uint32_t *idx;
    uint64_t *cum;
} picker_t;

typedef struct {
    const ms_fake_opts_t *o;
    ms_rng_t rng;
    unsigned flags;

    uint32_t n_inst;
    inst_t *inst;
    picker_t pick_in;     /* inpatient: general, specialty, primary, by beds */
    picker_t pick_out;    /* outpatient: everything but pharmacies */
    picker_t pick_ph;     /* pharmacies */

    uint32_t n_groups;
    group_t *groups;
    uint32_t n_fam;
    family_t *fam;
    uint32_t *fam_by;     /* family indices grouped by (mdc, surgical) */
    uint32_t fam_start[26 * 2 + 1];

    uint32_t n_drugs;
    drug_t *drugs;

    uint64_t diag_cum[3][N_DIAGS];
    uint32_t diag_tot[3];
    int chronic[N_DIAGS];
    int n_chronic;

    /* dates */
    int32_t date_lo, date_hi;
    char (*date_txt)[10];

    double lam_ph, lam_out;

    /* counters */
    uint64_t n_sett, n_items, n_persons;
} world_t;

/* ------------------------------------------------------------------------ */
/* Output: one FILE per table, rows assembled in a local buffer.            */

typedef struct {
    FILE *fp;
    char *path;
    char *tmp;
    char *vbuf;
} out_t;

static int out_open(out_t *f, const char *dir, const char *name)
{
    memset(f, 0, sizeof *f);
    f->path = ms_path_join(dir, name);
    size_t n = strlen(f->path ? f->path : "") + 32;
    f->tmp = malloc(n);
    f->vbuf = malloc(1 << 20);
    if (!f->path || !f->tmp || !f->vbuf) return fail(ENOMEM, "out of memory");
    snprintf(f->tmp, n, "%s.tmp.%ld", f->path, (long)getpid());
    f->fp = fopen(f->tmp, "wb");
    if (!f->fp) return fail(errno, "cannot create %s", f->tmp);
    setvbuf(f->fp, f->vbuf, _IOFBF, 1 << 20);
    return 0;
}

/* Flush and close; on success *bytes += the file size. */
static int out_close(out_t *f, uint64_t *bytes)
{
    if (!f->fp) return 0;
    int rc = 0;
    if (fflush(f->fp) != 0 || ferror(f->fp)) rc = fail(errno ? errno : EIO, "cannot write %s", f->tmp);
    long pos = ftell(f->fp);
    if (pos > 0 && bytes) *bytes += (uint64_t)pos;
    if (fclose(f->fp) != 0 && rc == 0) rc = fail(errno, "cannot write %s", f->tmp);
    f->fp = NULL;
    return rc;
}

static void out_free(out_t *f, int remove_tmp)
{
    if (f->fp) fclose(f->fp);
    f->fp = NULL;
    if (remove_tmp && f->tmp) unlink(f->tmp);
    free(f->path);
    free(f->tmp);
    free(f->vbuf);
    memset(f, 0, sizeof *f);
}

static inline int out_row(out_t *f, const char *row, size_t len)
{
    if (fwrite(row, 1, len, f->fp) != len) return fail(errno ? errno : EIO, "cannot write %s", f->tmp);
    return 0;
}

static inline char *put_str(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static inline char *put_cstr(char *p, const char *s)
{
    return put_str(p, s, strlen(s));
}

static inline char *put_u64(char *p, uint64_t v) { return p + ms_fmt_u64(p, v); }

static inline char *put_money(char *p, int64_t fen)
{
    return p + ms_money_format(fen, p);
}

static inline char *put_date(const world_t *w, char *p, int32_t day)
{
    if (day >= w->date_lo && day < w->date_hi) return put_str(p, w->date_txt[day - w->date_lo], 10);
    char tmp[11];
    ms_date_format(day, tmp);
    return put_str(p, tmp, 10);
}

/* ------------------------------------------------------------------------ */
/* Building the world                                                        */

static int picker_build(picker_t *pk, const world_t *w, int (*want)(const inst_t *),
                        uint64_t (*weight)(const inst_t *))
{
    pk->n = 0;
    pk->idx = malloc(sizeof(uint32_t) * w->n_inst);
    pk->cum = malloc(sizeof(uint64_t) * w->n_inst);
    if (!pk->idx || !pk->cum) return fail(ENOMEM, "out of memory");
    uint64_t c = 0;
    for (uint32_t i = 0; i < w->n_inst; i++) {
        if (!want(&w->inst[i])) continue;
        c += weight(&w->inst[i]);
        pk->idx[pk->n] = i;
        pk->cum[pk->n] = c;
        pk->n++;
    }
    return 0;
}

static uint32_t picker_pick(const picker_t *pk, ms_rng_t *r)
{
    uint64_t x = ms_rng_below(r, pk->cum[pk->n - 1]);
    return pk->idx[ms_synth_cum_slot_u64(pk->cum, pk->n, x)];
}

static void picker_free(picker_t *pk)
{
    free(pk->idx);
    free(pk->cum);
}

static int want_in(const inst_t *i)
{
    return i->kind == MS_KIND_GENERAL || i->kind == MS_KIND_SPECIALTY || i->kind == MS_KIND_PRIMARY;
}
static int want_out(const inst_t *i)
{
    return i->kind != MS_KIND_PHARMACY;
}
static int want_ph(const inst_t *i)
{
    return i->kind == MS_KIND_PHARMACY;
}
static uint64_t weight_in(const inst_t *i)
{
    return (uint64_t)i->beds + 10;
}
static uint64_t weight_out(const inst_t *i)
{
    return (uint64_t)i->beds / 2 + (i->kind == MS_KIND_CLINIC ? 40 : 60);
}
static uint64_t weight_ph(const inst_t *i)
{
    (void)i;
    return 1;
}

static void make_inst_name(world_t *w, inst_t *in, uint32_t idx)
{
    ms_rng_t *r = &w->rng;
    const char *pl = PLACES[ms_rng_below(r, NELEM(PLACES))];
    char *s = in->name;
    size_t n = sizeof in->name;
    unsigned v = (unsigned)ms_rng_below(r, 5);

    if ((w->flags & MS_FAKE_UNICODE) && idx % 4 == 1) {
        const char *cn = PLACES_CN[ms_rng_below(r, NELEM(PLACES_CN))];
        static const char *const suffix[5][2] = {
            {"市第一人民医院", "市中心医院"},
            {"市中医医院", "市妇幼保健院"},
            {"社区卫生服务中心", "镇卫生院"},
            {"仁和诊所", "口腔诊所，东区"},
            {"大药房（连锁）", "康宁大药房,\"益丰\"店"},
        };
        snprintf(s, n, "%s%s", cn, suffix[in->kind][v & 1]);
        return;
    }
    switch (in->kind) {
    case MS_KIND_GENERAL:
        if (v == 0) snprintf(s, n, "%s People's Hospital", pl);
        else if (v == 1) snprintf(s, n, "%s No. %u People's Hospital", pl, 1 + (unsigned)ms_rng_below(r, 9));
        else if (v == 2) snprintf(s, n, "First Affiliated Hospital of %s Medical University", pl);
        else if (v == 3) snprintf(s, n, "%s Central Hospital, East Campus", pl);
        else snprintf(s, n, "%s Central Hospital", pl);
        break;
    case MS_KIND_SPECIALTY:
        if (v == 0) snprintf(s, n, "%s Traditional Chinese Medicine Hospital", pl);
        else if (v == 1) snprintf(s, n, "%s Maternal and Child Health Hospital", pl);
        else if (v == 2) snprintf(s, n, "%s Eye Hospital", pl);
        else if (v == 3) snprintf(s, n, "%s Orthopedic Hospital, \"Bone & Joint\" Center", pl);
        else snprintf(s, n, "%s Cancer Hospital", pl);
        break;
    case MS_KIND_PRIMARY:
        if (v < 3) snprintf(s, n, "%s Community Health Service Center", pl);
        else snprintf(s, n, "%s Township Health Center No. %u", pl, 1 + (unsigned)ms_rng_below(r, 20));
        break;
    case MS_KIND_CLINIC:
        if (v == 0) snprintf(s, n, "Dr. Wang's Clinic, %s", pl);
        else if (v == 1) snprintf(s, n, "%s Kangning Clinic", pl);
        else if (v == 2) snprintf(s, n, "%s Dental Clinic", pl);
        else snprintf(s, n, "%s Renhe Clinic", pl);
        break;
    default:
        if (v == 0) snprintf(s, n, "\"Tongren\" Pharmacy, %s Store", pl);
        else if (v == 1) snprintf(s, n, "Yifeng Pharmacy No. %u", 1 + (unsigned)ms_rng_below(r, 500));
        else snprintf(s, n, "%s Great Pharmacy", pl);
        break;
    }
    /* One name with an embedded line break (legal in RFC 4180). */
    if (idx == 2) {
        size_t len = strlen(s);
        snprintf(s + len, n - len, "\nAnnex");
    }
}

static int build_institutions(world_t *w)
{
    const ms_fake_opts_t *o = w->o;
    ms_rng_t *r = &w->rng;
    uint64_t ni = o->institutions ? o->institutions : o->settlements / 200;
    if (ni < 5) ni = 5;
    if (ni > 100000000) return fail(0, "too many institutions (%llu)", (unsigned long long)ni);
    w->n_inst = (uint32_t)ni;
    w->inst = calloc(ni, sizeof *w->inst);
    if (!w->inst) return fail(ENOMEM, "out of memory");

    /* A pool of county codes, so that a region holds several institutions. */
    uint32_t nreg = w->n_inst / 25;
    if (nreg < 8) nreg = 8;
    if (nreg > 3000) nreg = 3000;
    int32_t *regions = malloc(sizeof(int32_t) * nreg);
    if (!regions) return fail(ENOMEM, "out of memory");
    for (uint32_t i = 0; i < nreg; i++) {
        int prov = ms_synth_province_codes[ms_rng_below(r, MS_SYNTH_NPROVINCES)];
        /* One draw per statement: C leaves the order within an expression
         * open, and a world must not depend on the compiler. */
        int32_t county = (int32_t)ms_rng_range(r, 1, 20);
        int32_t town = (int32_t)ms_rng_range(r, 1, 30);
        regions[i] = prov * 10000 + county * 100 + town;
    }

    uint32_t doctor_next = 1;
    for (uint32_t i = 0; i < w->n_inst; i++) {
        inst_t *in = &w->inst[i];
        if (i < 5) {
            in->kind = (uint8_t)i; /* one of each kind */
        } else {
            unsigned x = (unsigned)ms_rng_below(r, 100);
            in->kind = x < 12 ? MS_KIND_GENERAL : x < 20 ? MS_KIND_SPECIALTY : x < 42 ? MS_KIND_PRIMARY
                     : x < 65 ? MS_KIND_CLINIC : MS_KIND_PHARMACY;
        }
        in->region = regions[ms_rng_below(r, nreg)];
        switch (in->kind) {
        case MS_KIND_GENERAL:
            in->level = (uint8_t)(rng_pct(r, 40) ? 3 : rng_pct(r, 70) ? 2 : 1);
            in->beds = in->level == 3 ? (int32_t)ms_rng_range(r, 800, 3000)
                     : in->level == 2 ? (int32_t)ms_rng_range(r, 200, 800) : (int32_t)ms_rng_range(r, 50, 200);
            in->own = rng_pct(r, 85) ? MS_OWN_PUBLIC : MS_OWN_PRIVATE;
            break;
        case MS_KIND_SPECIALTY:
            in->level = (uint8_t)ms_rng_range(r, 1, 3);
            in->beds = (int32_t)ms_rng_range(r, 50, 600);
            in->own = rng_pct(r, 60) ? MS_OWN_PUBLIC : MS_OWN_PRIVATE;
            break;
        case MS_KIND_PRIMARY:
            in->level = (uint8_t)(rng_pct(r, 80) ? 1 : 0);
            in->beds = (int32_t)ms_rng_range(r, 10, 100);
            in->own = rng_pct(r, 95) ? MS_OWN_PUBLIC : MS_OWN_PRIVATE;
            break;
        case MS_KIND_CLINIC:
            in->level = 0;
            in->beds = rng_pct(r, 80) ? 0 : (int32_t)ms_rng_range(r, 1, 10);
            in->own = rng_pct(r, 20) ? MS_OWN_PUBLIC : MS_OWN_PRIVATE;
            break;
        default:
            in->level = 0;
            in->beds = 0;
            in->own = rng_pct(r, 5) ? MS_OWN_PUBLIC : MS_OWN_PRIVATE;
            break;
        }
        unsigned x = (unsigned)ms_rng_below(r, 100);
        in->pay = x < 45 ? MS_PAY_DRG : x < 80 ? MS_PAY_DIP : MS_PAY_FFS;
        in->ndoctors = in->kind == MS_KIND_PHARMACY ? (uint32_t)ms_rng_range(r, 1, 3)
                     : in->kind == MS_KIND_CLINIC ? (uint32_t)ms_rng_range(r, 1, 5)
                     : (uint32_t)in->beds / 4 + (uint32_t)ms_rng_range(r, 3, 20);
        in->doctor_base = doctor_next;
        doctor_next += in->ndoctors;
        if (doctor_next > 4000000000u) doctor_next = 1; /* ids repeat across far institutions */

        /* National code: H (hospital, clinic) or P (pharmacy), county, serial. */
        int digits = (w->flags & MS_FAKE_MAX_CODES) && i == 3 ? 25 : 5;
        in->code_len = (uint8_t)ms_synth_inst_code(in->code, sizeof in->code, in->kind, in->region, i + 1, digits);
        make_inst_name(w, in, i);
    }
    free(regions);

    if (picker_build(&w->pick_in, w, want_in, weight_in) || picker_build(&w->pick_out, w, want_out, weight_out)
        || picker_build(&w->pick_ph, w, want_ph, weight_ph))
        return -1;
    return 0;
}

/* MDC letters, those the diagnoses use first so that small group tables
 * still cover them. */
static const char MDC_ORDER[] = "EFKSGBLRCDIOHTXAJMNPQUVWYZ";
static const char TYPE_LETTERS[] = "ABCDEFGHJKLMNPQRSTUVWXYZ"; /* A-J surgical, K-Z medical */

static int build_groups(world_t *w)
{
    ms_rng_t *r = &w->rng;
    uint32_t ng = w->o->groups ? w->o->groups : 60;
    w->n_groups = ng;
    w->groups = calloc(ng, sizeof *w->groups);
    w->fam = calloc(ng, sizeof *w->fam);
    w->fam_by = calloc(ng, sizeof *w->fam_by);
    if (!w->groups || !w->fam || !w->fam_by) return fail(ENOMEM, "out of memory");

    int type_off[26];
    for (int m = 0; m < 26; m++) type_off[m] = (int)ms_rng_below(r, 24);

    uint32_t g = 0, f = 0;
    while (g < ng) {
        family_t *fa = &w->fam[f];
        int m = (int)(f % 26);
        uint32_t k = f / 26;
        char mdc = MDC_ORDER[m];
        int t = (int)((k + (uint32_t)type_off[m]) % 24);
        char tl = TYPE_LETTERS[t];
        char famcode[13]; /* letter, letter, up to 10 digits */
        snprintf(famcode, sizeof famcode, "%c%c%u", mdc, tl, k / 24 + 1);
        int surgical = t < 9; /* A..J */
        uint32_t nvar = (uint32_t)ms_rng_range(r, 1, 3);
        if (nvar > ng - g) nvar = ng - g;
        fa->first = g;
        fa->nvar = (uint8_t)nvar;
        fa->mdc = mdc;
        fa->surgical = (uint8_t)surgical;
        uint32_t base_w = surgical ? (uint32_t)ms_rng_range(r, 8000, 40000) : (uint32_t)ms_rng_range(r, 3000, 15000);
        uint32_t base_los = (uint32_t)ms_rng_range(r, 30, 150);
        for (uint32_t v = 0; v < nvar; v++) {
            group_t *gr = &w->groups[g + v];
            /* one variant: 9; two: 3 (CC), 5 (none); three: 1 (MCC), 3, 5 */
            int sev = nvar == 1 ? 0 : (int)(nvar - 1 - v);
            char suffix = nvar == 1 ? '9' : sev == 2 ? '1' : sev == 1 ? '3' : '5';
            snprintf(gr->code, sizeof gr->code, "%s%c", famcode, suffix);
            snprintf(gr->family, sizeof gr->family, "%s", famcode);
            gr->severity = (uint8_t)sev;
            static const uint32_t sev_mul[3] = {100, 130, 180};
            static const uint32_t los_mul[3] = {100, 125, 160};
            gr->weight4 = base_w * sev_mul[sev] / 100;
            gr->los10 = base_los * los_mul[sev] / 100;
            gr->mdc = mdc;
            gr->surgical = (uint8_t)surgical;
        }
        g += nvar;
        f++;
    }
    w->n_fam = f;
    if (w->flags & MS_FAKE_MAX_CODES) {
        group_t *gr = &w->groups[ng - 1];
        snprintf(gr->family, sizeof gr->family, "ZZ1234567890123");
        snprintf(gr->code, sizeof gr->code, "ZZ12345678901239");
    }

    /* Families by (mdc, surgical), counting sort. */
    uint32_t cnt[26 * 2] = {0};
    for (uint32_t i = 0; i < w->n_fam; i++) cnt[(w->fam[i].mdc - 'A') * 2 + w->fam[i].surgical]++;
    w->fam_start[0] = 0;
    for (int i = 0; i < 52; i++) w->fam_start[i + 1] = w->fam_start[i] + cnt[i];
    uint32_t pos[52];
    memcpy(pos, w->fam_start, sizeof pos);
    for (uint32_t i = 0; i < w->n_fam; i++) w->fam_by[pos[(w->fam[i].mdc - 'A') * 2 + w->fam[i].surgical]++] = i;
    return 0;
}

static int build_drugs(world_t *w)
{
    ms_rng_t *r = &w->rng;
    w->n_drugs = 800;
    w->drugs = calloc(w->n_drugs, sizeof *w->drugs);
    if (!w->drugs) return fail(ENOMEM, "out of memory");
    for (uint32_t i = 0; i < w->n_drugs; i++) {
        drug_t *d = &w->drugs[i];
        /* Western medicine X + ATC-like class, or Chinese patent medicine Z. */
        char kind = rng_pct(r, 85) ? 'X' : 'Z';
        /* The draws in gcc's order of the call's arguments they once were
         * (last first): C leaves that order open, a code must not. */
        unsigned serial = (unsigned)ms_rng_below(r, 1000000000), form = (unsigned)ms_rng_range(r, 1, 12);
        unsigned maker = (unsigned)ms_rng_range(r, 1, 999);
        char c5 = (char)('A' + ms_rng_below(r, 5)), c4 = (char)('A' + ms_rng_below(r, 8));
        char c3 = (char)('A' + ms_rng_below(r, 8));
        unsigned group = (unsigned)ms_rng_range(r, 1, 16);
        char c1 = (char)('A' + ms_rng_below(r, 14));
        int len = snprintf(d->code, sizeof d->code, "%c%c%02u%c%c%c%03uA%03u%09u", kind, c1, group, c3, c4, c5, maker,
                           form, serial);
        d->code_len = (uint8_t)len;
        snprintf(d->prefix, sizeof d->prefix, "8%06u", (unsigned)ms_rng_below(r, 1000000));
        double price = 3000.0 * ms_rng_lognormal(r, 0.9);
        if (price < 50) price = 50;
        d->price = (int64_t)price;
    }
    if (w->flags & MS_FAKE_MAX_CODES) {
        drug_t *d = &w->drugs[w->n_drugs - 1];
        snprintf(d->code, sizeof d->code, "%s", MAX_DRUG);
        d->code_len = (uint8_t)strlen(MAX_DRUG);
    }
    return 0;
}

static void build_diag_tables(world_t *w)
{
    for (int vt = 0; vt < 3; vt++) {
        uint32_t c = 0;
        for (int i = 0; i < N_DIAGS; i++) {
            c += DIAGS[i].w[vt];
            w->diag_cum[vt][i] = c;
        }
        w->diag_tot[vt] = c;
    }
    w->n_chronic = 0;
    for (int i = 0; i < N_DIAGS; i++)
        if (DIAGS[i].chronic) w->chronic[w->n_chronic++] = i;
}

static int build_dates(world_t *w)
{
    w->date_lo = w->o->first_day;
    w->date_hi = w->o->first_day + w->o->days + MAX_PAST_WINDOW;
    w->date_txt = malloc((size_t)(w->date_hi - w->date_lo) * sizeof *w->date_txt);
    if (!w->date_txt) return fail(ENOMEM, "out of memory");
    for (int32_t d = w->date_lo; d < w->date_hi; d++) {
        char tmp[11];
        ms_date_format(d, tmp);
        memcpy(w->date_txt[d - w->date_lo], tmp, 10);
    }
    return 0;
}

static void world_free(world_t *w)
{
    free(w->inst);
    picker_free(&w->pick_in);
    picker_free(&w->pick_out);
    picker_free(&w->pick_ph);
    free(w->groups);
    free(w->fam);
    free(w->fam_by);
    free(w->drugs);
    free(w->date_txt);
}

/* ------------------------------------------------------------------------ */
/* Reference files                                                           */

static int write_institutions(world_t *w, out_t *f)
{
    fputs("inst_code,name,kind,level,ownership,region,beds\n", f->fp);
    for (uint32_t i = 0; i < w->n_inst; i++) {
        const inst_t *in = &w->inst[i];
        ms_csv_write_field(f->fp, in->code, in->code_len);
        fputc(',', f->fp);
        ms_csv_write_field(f->fp, in->name, strlen(in->name));
        fprintf(f->fp, ",%s,%u,%s,%06d,%d\n", KIND_NAMES[in->kind], (unsigned)in->level, OWN_NAMES[in->own],
                (int)in->region, (int)in->beds);
    }
    if (ferror(f->fp)) return fail(errno ? errno : EIO, "cannot write %s", f->tmp);
    return 0;
}

/* A decimal in the canonical form of a float column (ms_decimal_format of
 * the float nearest the decimal text, as medsweep export writes it), so that
 * import then export gives the same bytes. */
static void canonical_float(const char *decimal, char out[48])
{
    ms_decimal_format(strtof(decimal, NULL), out);
}

static int write_groups(world_t *w, out_t *f)
{
    fputs("group_code,family,severity,weight,mdc,surgical,expected_los,mean_cost\n", f->fp);
    for (uint32_t i = 0; i < w->n_groups; i++) {
        const group_t *g = &w->groups[i];
        char money[32], dec[32], weight[48], los[48];
        ms_money_format((int64_t)g->weight4 * 100, money); /* weight 1.0 = 10,000 yuan */
        snprintf(dec, sizeof dec, "%u.%04u", g->weight4 / 10000, g->weight4 % 10000);
        canonical_float(dec, weight);
        snprintf(dec, sizeof dec, "%u.%u", g->los10 / 10, g->los10 % 10);
        canonical_float(dec, los);
        ms_csv_write_field(f->fp, g->code, strlen(g->code));
        fputc(',', f->fp);
        ms_csv_write_field(f->fp, g->family, strlen(g->family));
        fprintf(f->fp, ",%u,%s,%c,%u,%s,%s\n", (unsigned)g->severity, weight, g->mdc, (unsigned)g->surgical,
                los, money);
    }
    if (ferror(f->fp)) return fail(errno ? errno : EIO, "cannot write %s", f->tmp);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Persons and their visits                                                  */

typedef struct {
    uint64_t id;
    char idtxt[24];
    size_t idlen;
    int age0;             /* age at first_day */
    int bday;             /* days after first_day of the next birthday, 0..364 */
    uint8_t sex;
    int32_t region;
    uint32_t home_in, home_out, home_ph;
    int chronic;          /* index into DIAGS or -1 */
} person_t;

enum { MAX_ITEMS = 256, MAX_VISITS = 400 };

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

typedef struct {
    uint32_t drug;
    int64_t amount;
    uint64_t serial;
    int awkward_trace;
} item_t;

/* Split total fen into n parts in proportion to weights (not all zero):
 * floors, then the remainder to the largest weight. */
static void split_exact(int64_t total, const uint32_t *wt, int n, int64_t *out)
{
    uint64_t sum = 0;
    int big = 0;
    for (int i = 0; i < n; i++) {
        sum += wt[i];
        if (wt[i] > wt[big]) big = i;
    }
    int64_t used = 0;
    for (int i = 0; i < n; i++) {
        uint64_t part;
        if ((uint64_t)total < (1ull << 40)) part = (uint64_t)total * wt[i] / sum;
        else part = (uint64_t)((ms_u128)(uint64_t)total * wt[i] / sum);
        out[i] = (int64_t)part;
        used += out[i];
    }
    out[big] += total - used;
}

/* Trace code serial: a bijection of [0, 10^13), so unique per serial: the
 * bijection mix_bits of [0, 2^44) applied until the value falls below 10^13
 * (cycle walking; 1.8 rounds on average). */
static uint64_t trace_scramble(uint64_t c)
{
    const uint64_t m = 10000000000000ull;
    uint64_t x = c % m;
    do x = mix_bits(x, 44);
    while (x >= m);
    return x;
}

static int pick_diag(world_t *w, int vt, const person_t *p, int age)
{
    ms_rng_t *r = &w->rng;
    if (p->chronic >= 0) {
        unsigned pct = vt == VP ? 80 : vt == VO ? 45 : 20;
        if (rng_pct(r, pct)) return p->chronic;
    }
    for (int tries = 0; tries < 16; tries++) {
        uint32_t x = (uint32_t)ms_rng_below(r, w->diag_tot[vt]);
        int lo = (int)ms_synth_cum_slot_u64(w->diag_cum[vt], N_DIAGS, x);
        const diag_t *d = &DIAGS[lo];
        if (d->sex && d->sex != p->sex + 1) continue;
        if (age < d->age_lo || age > d->age_hi) continue;
        return lo;
    }
    return DIAG_FALLBACK;
}

static uint32_t pick_group(world_t *w, const diag_t *d, int surgical, int sev)
{
    ms_rng_t *r = &w->rng;
    int m = d->mdc - 'A';
    uint32_t fi;
    int b = m * 2 + surgical;
    int b2 = m * 2 + !surgical;
    if (w->fam_start[b + 1] > w->fam_start[b])
        fi = w->fam_by[w->fam_start[b] + ms_rng_below(r, w->fam_start[b + 1] - w->fam_start[b])];
    else if (w->fam_start[b2 + 1] > w->fam_start[b2])
        fi = w->fam_by[w->fam_start[b2] + ms_rng_below(r, w->fam_start[b2 + 1] - w->fam_start[b2])];
    else
        fi = (uint32_t)ms_rng_below(r, w->n_fam);
    const family_t *fa = &w->fam[fi];
    uint32_t best = fa->first;
    int bestd = 99;
    for (uint32_t v = 0; v < fa->nvar; v++) {
        int dd = abs((int)w->groups[fa->first + v].severity - sev);
        if (dd < bestd) {
            bestd = dd;
            best = fa->first + v;
        }
    }
    return best;
}

/* Does settlement counter c get awkward treatment number k? About one row in
 * a thousand, the first within the first few hundred rows. */
static inline int awkward_hit(uint64_t c, unsigned k)
{
    return c % 997 == 17u + 61u * k;
}

static int write_person(world_t *w, out_t *fs, out_t *fd, uint64_t nvisits)
{
    ms_rng_t *r = &w->rng;
    const ms_fake_opts_t *o = w->o;
    person_t p;
    uint64_t pidx = w->n_persons++;

    p.id = 100000000000ull + mix_bits(pidx, 40);
    if ((w->flags & MS_FAKE_MAX_CODES) && pidx == 3) p.id = UINT64_MAX - 1;
    p.idlen = (size_t)(put_u64(p.idtxt, p.id) - p.idtxt);
    unsigned a = (unsigned)ms_rng_below(r, 100);
    p.age0 = a < 15 ? (int)ms_rng_range(r, 0, 14) : a < 70 ? (int)ms_rng_range(r, 15, 64)
           : a < 99 ? (int)ms_rng_range(r, 65, 95) : (int)ms_rng_range(r, 96, 119);
    p.bday = (int)ms_rng_below(r, 365);
    p.sex = (uint8_t)ms_rng_below(r, 2);
    p.home_in = picker_pick(&w->pick_in, r);
    p.home_out = picker_pick(&w->pick_out, r);
    p.home_ph = picker_pick(&w->pick_ph, r);
    p.region = rng_pct(r, 85) ? w->inst[p.home_out].region : w->inst[ms_rng_below(r, w->n_inst)].region;
    p.chronic = -1;
    if (rng_pct(r, p.age0 >= 40 ? 45 : 8)) {
        int c = w->chronic[ms_rng_below(r, (uint64_t)w->n_chronic)];
        const diag_t *d = &DIAGS[c];
        if (p.age0 >= d->age_lo && p.age0 <= d->age_hi) p.chronic = c;
    }
    char regtxt[16];
    snprintf(regtxt, sizeof regtxt, "%06d", (int)p.region);

    /* Visit days: uniform in the window, in order.  A visit that would fall
     * inside an inpatient stay moves to the day after discharge, and no stay
     * starts after the window: dates end at most a stay past the window. */
    int32_t vdays[MAX_VISITS];
    for (uint64_t v = 0; v < nvisits; v++) vdays[v] = o->first_day + (int32_t)ms_rng_below(r, (uint64_t)o->days);
    qsort(vdays, nvisits, sizeof vdays[0], cmp_i32);
    int32_t free_from = o->first_day; /* first day after the last stay */
    int32_t window_end = o->first_day + o->days;

    for (uint64_t v = 0; v < nvisits; v++) {
        uint64_t sc = w->n_sett++;
        uint64_t settle_id = 1 + mix_bits(sc, 48);
        if ((w->flags & MS_FAKE_MAX_CODES) && sc == 5) settle_id = UINT64_MAX;

        /* visit type and day */
        unsigned x = (unsigned)ms_rng_below(r, 100);
        int vt = p.chronic >= 0 ? (x < 45 ? VO : x < 90 ? VP : VI) : (x < 66 ? VO : x < 90 ? VP : VI);
        int32_t admit = vdays[v] > free_from ? vdays[v] : free_from;
        if (admit >= window_end && vt == VI) vt = VO;
        uint32_t ii;
        if (vt == VI) ii = rng_pct(r, 75) ? p.home_in : picker_pick(&w->pick_in, r);
        else if (vt == VO) ii = rng_pct(r, 60) ? p.home_out : picker_pick(&w->pick_out, r);
        else ii = rng_pct(r, 80) ? p.home_ph : picker_pick(&w->pick_ph, r);
        const inst_t *in = &w->inst[ii];

        int age = p.age0 + (admit - o->first_day + 364 - p.bday) / 365; /* +1 after the birthday */
        if (age > 120) age = 120;
        if (age < 0) age = 0;

        int di = pick_diag(w, vt, &p, age);
        const diag_t *d = &DIAGS[di];
        const char *diag = d->code;
        if ((w->flags & MS_FAKE_MAX_CODES) && awkward_hit(sc, 0)) diag = MAX_DIAG;

        int dept = d->dept;
        if (vt == VP) dept = MS_DEPT_OTH;
        else if (dept == MS_DEPT_IM && age < 14) dept = MS_DEPT_PED;
        else if (dept == MS_DEPT_IM && age >= 80 && rng_pct(r, 30)) dept = MS_DEPT_GER;

        uint32_t doctor = 0;
        if (!rng_pct(r, vt == VP ? 30 : 5)) doctor = in->doctor_base + (uint32_t)ms_rng_below(r, in->ndoctors);

        const char *proc = NULL;
        if (vt == VI && d->proc && rng_pct(r, d->proc_pct_i)) proc = d->proc;
        if (vt == VO && d->proc && rng_pct(r, d->proc_pct_o)) proc = d->proc;
        if (proc && (w->flags & MS_FAKE_MAX_CODES) && awkward_hit(sc, 1)) proc = MAX_PROC;

        unsigned n_diag;
        if (vt == VP) n_diag = 1;
        else if (vt == VO) n_diag = 1 + (unsigned)(rng_pct(r, 30) ? ms_rng_below(r, 3) : 0);
        else n_diag = 1 + (unsigned)(ms_rng_exp(r, 4.0));
        if (n_diag > 50 || ((w->flags & MS_FAKE_MAX_CODES) && vt == VI && awkward_hit(sc, 2))) n_diag = 50;
        int sev = n_diag <= 3 ? 0 : n_diag <= 7 ? 1 : 2;

        int pay = MS_PAY_FFS;
        int32_t group = -1;
        int32_t discharge = admit, settle = admit;
        int64_t cat[MS_N_COST_CATEGORIES] = {0};
        int64_t total;
        item_t items[MAX_ITEMS];
        unsigned nitems = 0;
        int64_t items_sum = 0;
        double level_mul = 0.7 + 0.15 * in->level;

        if (vt == VI) {
            if (in->pay != MS_PAY_FFS && rng_pct(r, 90)) pay = in->pay;
            double los;
            double base;
            if (pay != MS_PAY_FFS) {
                group = (int32_t)pick_group(w, d, proc != NULL, sev);
                const group_t *g = &w->groups[group];
                base = (double)g->weight4 * 100.0 * ms_rng_lognormal(r, 0.35);
                los = (double)g->los10 / 10.0 * ms_rng_lognormal(r, 0.35);
            } else {
                base = (double)d->cost_i * 100.0 * ms_rng_lognormal(r, 0.5) * (1.0 + 0.3 * sev);
                los = (double)d->los * ms_rng_lognormal(r, 0.4);
            }
            int ilos = (int)(los + 0.5);
            if (ilos > MAX_LOS) ilos = MAX_LOS;
            discharge = admit + ilos;
            settle = discharge + (rng_pct(r, 70) ? 0 : (int32_t)ms_rng_range(r, 1, MAX_SETTLE_DELAY));
            total = (int64_t)(base * level_mul + 0.5);
            if ((w->flags & MS_FAKE_BIG_MONEY) && awkward_hit(sc, 3))
                total = 2345678901ll + (int64_t)ms_rng_below(r, 1000000000ull); /* 23-33 M yuan */
            /* drug exam lab consumable treatment surgery bed nursing other */
            uint32_t wt[MS_N_COST_CATEGORIES] = {30, 8, 12, 10, 10, 0, 8, 6, 4};
            if (proc) {
                wt[3] = 18;
                wt[5] = 20;
            }
            for (int c = 0; c < MS_N_COST_CATEGORIES; c++) wt[c] *= 512 + (uint32_t)ms_rng_below(r, 1024);
            if (ilos == 0) wt[6] = wt[7] = 0;
            split_exact(total, wt, MS_N_COST_CATEGORIES, cat);
        } else {
            /* coded drug items */
            if (vt == VP) nitems = ms_rng_poisson(r, w->lam_ph) + (o->drug_items_per_pharmacy_visit >= 1);
            else if (rng_pct(r, 35)) nitems = 1 + ms_rng_poisson(r, w->lam_out);
            if (o->drug_items_per_pharmacy_visit <= 0) nitems = 0;
            if (nitems > MAX_ITEMS) nitems = MAX_ITEMS;
            int zero = vt == VO && (w->flags & MS_FAKE_ZERO_MONEY) && awkward_hit(sc, 4);
            if (zero) nitems = 0;
            for (unsigned k = 0; k < nitems; k++) {
                item_t *it = &items[k];
                it->drug = (uint32_t)ms_rng_below(r, w->n_drugs);
                it->amount = w->drugs[it->drug].price;
                it->serial = w->n_items++;
                it->awkward_trace = (w->flags & MS_FAKE_MAX_CODES) && it->serial % 1009 == 7;
                if ((w->flags & MS_FAKE_ZERO_MONEY) && it->serial % 1013 == 11) it->amount = 0;
                items_sum += it->amount;
            }
            uint32_t wt[MS_N_COST_CATEGORIES] = {0};
            int64_t rest;
            if (vt == VO) {
                rest = (int64_t)((double)d->cost_o * 100.0 * ms_rng_lognormal(r, 0.6) * level_mul + 0.5);
                if (nitems) rest /= 2;
                uint32_t base[MS_N_COST_CATEGORIES] = {40, 15, 20, 5, 12, 0, 0, 0, 8};
                if (proc) {
                    base[4] = 25;
                    base[5] = 15;
                }
                for (int c = 0; c < MS_N_COST_CATEGORIES; c++)
                    wt[c] = rng_pct(r, 25) ? 0 : base[c] * (512 + (uint32_t)ms_rng_below(r, 1024));
                if (zero) rest = 0;
            } else {
                /* uncoded drugs, sometimes a device */
                rest = rng_pct(r, 30) ? (int64_t)(2000.0 * ms_rng_lognormal(r, 0.8)) : 0;
                if (nitems == 0 && rest == 0) rest = (int64_t)(1500.0 * ms_rng_lognormal(r, 0.8)) + 100;
                wt[0] = 95;
                wt[3] = rng_pct(r, 10) ? 5 : 0;
            }
            uint32_t any = 0;
            for (int c = 0; c < MS_N_COST_CATEGORIES; c++) any |= wt[c];
            if (!any) wt[0] = 1;
            split_exact(rest, wt, MS_N_COST_CATEGORIES, cat);
            cat[0] += items_sum;
            total = rest + items_sum;
        }

        /* fund / self */
        int64_t fund;
        if (vt == VI) {
            fund = total * (int64_t)ms_rng_range(r, 5500, 9200) / 10000;
        } else if (vt == VO) {
            fund = rng_pct(r, 30) ? 0 : total * (int64_t)ms_rng_range(r, 4000, 8000) / 10000;
        } else {
            unsigned y = (unsigned)ms_rng_below(r, 100);
            fund = y < 40 ? 0 : y < 50 ? total : total * (int64_t)ms_rng_range(r, 5000, 9000) / 10000;
        }
        int64_t self = total - fund;

        /* settlement row */
        char row[1024];
        char *q = row;
        q = put_u64(q, settle_id);
        *q++ = ',';
        q = put_str(q, p.idtxt, p.idlen);
        *q++ = ',';
        q = put_str(q, in->code, in->code_len);
        *q++ = ',';
        q = put_cstr(q, VT_NAMES[vt]);
        *q++ = ',';
        q = put_date(w, q, admit);
        *q++ = ',';
        q = put_date(w, q, discharge);
        *q++ = ',';
        q = put_date(w, q, settle);
        *q++ = ',';
        q = put_u64(q, (uint64_t)age);
        *q++ = ',';
        *q++ = p.sex == MS_SEX_M ? 'M' : 'F';
        *q++ = ',';
        q = put_str(q, regtxt, 6);
        *q++ = ',';
        q = put_cstr(q, DEPT_NAMES[dept]);
        *q++ = ',';
        q = put_u64(q, doctor);
        *q++ = ',';
        q = put_cstr(q, diag);
        *q++ = ',';
        q = put_u64(q, n_diag);
        *q++ = ',';
        if (proc) q = put_cstr(q, proc);
        *q++ = ',';
        q = put_cstr(q, PAY_NAMES[pay]);
        *q++ = ',';
        if (group >= 0) q = put_cstr(q, w->groups[group].code);
        *q++ = ',';
        q = put_money(q, total);
        *q++ = ',';
        q = put_money(q, fund);
        *q++ = ',';
        q = put_money(q, self);
        for (int c = 0; c < MS_N_COST_CATEGORIES; c++) {
            *q++ = ',';
            q = put_money(q, cat[c]);
        }
        *q++ = '\n';
        if (out_row(fs, row, (size_t)(q - row))) return -1;

        /* drug item rows */
        for (unsigned k = 0; k < nitems; k++) {
            const item_t *it = &items[k];
            const drug_t *dr = &w->drugs[it->drug];
            q = row;
            q = put_u64(q, settle_id);
            *q++ = ',';
            q = put_str(q, p.idtxt, p.idlen);
            *q++ = ',';
            q = put_str(q, in->code, in->code_len);
            *q++ = ',';
            q = put_date(w, q, settle);
            *q++ = ',';
            q = put_str(q, dr->code, dr->code_len);
            *q++ = ',';
            q = put_str(q, it->awkward_trace ? "0000000" : dr->prefix, 7);
            uint64_t s = trace_scramble(it->serial);
            for (int i = 12; i >= 0; i--) {
                q[i] = (char)('0' + s % 10);
                s /= 10;
            }
            q += 13;
            q = put_str(q, ",1,", 3);
            q = put_money(q, it->amount);
            *q++ = '\n';
            if (out_row(fd, row, (size_t)(q - row))) return -1;
        }

        /* next visit: after the stay, plus a gap */
        if (vt == VI) free_from = discharge + 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */

void ms_fake_opts_init(ms_fake_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->settlements = 20000;
    o->drug_items_per_pharmacy_visit = 2.0;
    o->institutions = 0;
    o->groups = 60;
    o->seed = 1;
    o->first_day = 19358; /* 2023-01-01 */
    o->days = 365;
    o->flags = 0;
    o->progress = NULL;
    o->progress_ctx = NULL;
}

/* Progress of the settlements written so far, to o->progress. */
static void report(const ms_fake_opts_t *o, const world_t *w, double t0, double t, int finished)
{
    double seconds = t - t0;
    ms_progress_t p = {
        .job = "fakecsv",
        .stage = "writing",
        .done = w->n_sett,
        .total = o->settlements,
        .unit = "settlements",
        .records = w->n_sett + w->n_items,
        .seconds = seconds,
        .eta_seconds = w->n_sett ? seconds / (double)w->n_sett * (double)(o->settlements - w->n_sett) : -1.0,
        .finished = finished,
    };
    o->progress(o->progress_ctx, &p);
}

int ms_fake_write(const ms_fake_opts_t *o, const char *dir)
{
    return ms_fake_write_stats(o, dir, NULL);
}

int ms_fake_write_stats(const ms_fake_opts_t *o, const char *dir, ms_fake_stats_t *stats)
{
    g_err[0] = '\0';
    if (!o || !dir || !*dir) return fail(0, "ms_fake_write: no options or no directory");
    if (o->days < 1 || o->days > 36500) return fail(0, "days must be 1..36500 (got %d)", (int)o->days);
    /* Dates must stay in 1900-01-01 .. 2199-12-31 (ms_date_parse); stays end
     * at most MAX_PAST_WINDOW days after the window. */
    if (o->first_day < -25567 || (int64_t)o->first_day + o->days + MAX_PAST_WINDOW > 84006)
        return fail(0, "dates out of range: the window must start in 1900 or later and end %d days "
                       "before 2199-12-31", (int)MAX_PAST_WINDOW);
    if (!(o->drug_items_per_pharmacy_visit >= 0 && o->drug_items_per_pharmacy_visit <= 100))
        return fail(0, "drug items per pharmacy visit must be 0..100");
    if (o->settlements >= (1ull << 47)) return fail(0, "too many settlements");
    if (ms_mkdirs(dir) != MS_OK) return fail(errno ? errno : EIO, "cannot create directory %s", dir);

    double t0 = ms_now_s();
    world_t w;
    memset(&w, 0, sizeof w);
    w.o = o;
    w.flags = o->flags;
    ms_rng_seed(&w.rng, o->seed);
    double k = o->drug_items_per_pharmacy_visit;
    w.lam_ph = k >= 1 ? k - 1 : k;
    w.lam_out = k / 2 - 1 > 0 ? k / 2 - 1 : 0;
    build_diag_tables(&w);

    static const char *const names[4] = {"institutions.csv", "groups.csv", "settlements.csv", "drug_items.csv"};
    out_t f[4];
    memset(f, 0, sizeof f);
    int rc = 0;
    uint64_t bytes = 0;
    for (int i = 0; i < 4 && rc == 0; i++) rc = out_open(&f[i], dir, names[i]);
    if (rc == 0) rc = build_institutions(&w);
    if (rc == 0) rc = build_groups(&w);
    if (rc == 0) rc = build_drugs(&w);
    if (rc == 0) rc = build_dates(&w);
    if (rc == 0) rc = write_institutions(&w, &f[0]);
    if (rc == 0) rc = write_groups(&w, &f[1]);
    if (rc == 0) {
        static const char sh[] = "settle_id,person_id,inst_code,visit_type,admit_date,discharge_date,"
                                 "settle_date,age,sex,person_region,dept,doctor_id,diag_main,n_diag,"
                                 "proc_main,pay_scheme,group_code,total,fund_pay,self_pay,drug,exam,lab,"
                                 "consumable,treatment,surgery,bed,nursing,other\n";
        static const char dh[] = "settle_id,person_id,inst_code,date,drug_code,trace_code,qty,amount\n";
        rc = out_row(&f[2], sh, sizeof sh - 1);
        if (rc == 0) rc = out_row(&f[3], dh, sizeof dh - 1);
    }
    /* Progress: the clock is read every 4096 settlements, a report made
     * every quarter of a second and at the end. */
    uint64_t next_check = 4096;
    double next_report = t0 + 0.25;
    while (rc == 0 && w.n_sett < o->settlements) {
        uint64_t nv = 1 + (uint64_t)ms_rng_exp(&w.rng, 5.5); /* mean about 6 */
        if (nv > MAX_VISITS) nv = MAX_VISITS;
        if (nv > o->settlements - w.n_sett) nv = o->settlements - w.n_sett;
        rc = write_person(&w, &f[2], &f[3], nv);
        if (o->progress && w.n_sett >= next_check) {
            double t = ms_now_s();
            if (t >= next_report) {
                report(o, &w, t0, t, 0);
                next_report = t + 0.25;
            }
            next_check = w.n_sett + 4096;
        }
    }
    if (o->progress) report(o, &w, t0, ms_now_s(), 1);
    for (int i = 0; i < 4; i++) {
        int rc2 = out_close(&f[i], &bytes);
        if (rc == 0) rc = rc2;
    }
    for (int i = 0; i < 4 && rc == 0; i++) {
        if (rename(f[i].tmp, f[i].path) != 0) rc = fail(errno, "cannot rename %s to %s", f[i].tmp, f[i].path);
    }
    int save = errno;
    for (int i = 0; i < 4; i++) out_free(&f[i], 1);
    world_free(&w);
    if (rc != 0) {
        errno = save;
        return -1;
    }
    if (stats) {
        stats->institutions = w.n_inst;
        stats->groups = w.n_groups;
        stats->persons = w.n_persons;
        stats->settlements = w.n_sett;
        stats->drug_items = w.n_items;
        stats->bytes = bytes;
        stats->seconds = ms_now_s() - t0;
    }
    return 0;
}
