#include "ms_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

size_t ms_ctype_size(ms_ctype_t t)
{
    switch (t) {
    case MS_U8: return 1;
    case MS_I32:
    case MS_U32:
    case MS_F32: return 4;
    case MS_I64:
    case MS_U64: return 8;
    }
    return 0;
}

static const char *const visit_names[] = {"outpatient", "inpatient", "pharmacy"};
static const char *const sex_names[] = {"M", "F"};
static const char *const dept_names[] = {"IM", "SUR", "ORT", "ONC", "OPH", "DEN", "NEU",
                                         "CAR", "NEP", "OBS", "PED", "REH", "GER", "OTH"};
static const char *const pay_names[] = {"ffs", "drg", "dip"};
static const char *const kind_names[] = {"general", "specialty", "primary", "clinic", "pharmacy"};
static const char *const own_names[] = {"public", "private"};
/* A bill line's category: the order of the settlement's cost columns
 * (MS_SC_drug ...), = ms_item_category_t of ms_knowledge.h. */
static const char *const category_names[] = {"drug",    "exam", "lab",     "consumable", "treatment",
                                             "surgery", "bed",  "nursing", "other"};

#define MS_ENUM(var, tname, arr) const ms_enum_t var = {tname, (int)(sizeof arr / sizeof arr[0]), arr}
MS_ENUM(ms_enum_visit_type, "visit_type", visit_names);
MS_ENUM(ms_enum_sex, "sex", sex_names);
MS_ENUM(ms_enum_dept, "dept", dept_names);
MS_ENUM(ms_enum_pay_scheme, "pay_scheme", pay_names);
MS_ENUM(ms_enum_kind, "kind", kind_names);
MS_ENUM(ms_enum_ownership, "ownership", own_names);
MS_ENUM(ms_enum_item_category, "item_category", category_names);

int ms_enum_find(const ms_enum_t *e, const char *text, size_t len)
{
    for (int i = 0; i < e->count; i++)
        if (strlen(e->names[i]) == len && memcmp(e->names[i], text, len) == 0) return i;
    return -1;
}

#define MS_X_SCOL(name, st, ctype, en) {#name, st, offsetof(ms_settlement_t, name), en},
#define MS_X_DCOL(name, st, ctype, en) {#name, st, offsetof(ms_drug_item_t, name), en},
#define MS_X_SICOL(name, st, ctype, en) {#name, st, offsetof(ms_service_item_t, name), en},
static const ms_column_t settlement_cols[] = {MS_SETTLEMENT_COLUMNS(MS_X_SCOL)};
static const ms_column_t drug_cols[] = {MS_DRUG_ITEM_COLUMNS(MS_X_DCOL)};
static const ms_column_t service_cols[] = {MS_SERVICE_ITEM_COLUMNS(MS_X_SICOL)};

static const ms_table_t tables[MS_TABLE_COUNT] = {
    [MS_TABLE_SETTLEMENTS] = {MS_TABLE_SETTLEMENTS, "settlements", "settlements.csv",
                              MS_SC_COUNT, settlement_cols, sizeof(ms_settlement_t),
                              MS_SC_settle_date},
    [MS_TABLE_DRUG_ITEMS] = {MS_TABLE_DRUG_ITEMS, "drug_items", "drug_items.csv", MS_DC_COUNT,
                             drug_cols, sizeof(ms_drug_item_t), MS_DC_date},
    [MS_TABLE_SERVICE_ITEMS] = {MS_TABLE_SERVICE_ITEMS, "service_items", "service_items.csv",
                                MS_SIC_COUNT, service_cols, sizeof(ms_service_item_t), MS_SIC_date},
};

const ms_table_t *ms_table(ms_table_id_t id)
{
    if ((unsigned)id >= MS_TABLE_COUNT) return NULL;
    return &tables[id];
}

int ms_table_column(const ms_table_t *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0) return i;
    return -1;
}

uint32_t ms_person_partition(uint64_t person_id, uint32_t nparts)
{
    unsigned char le[8];
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(person_id >> (8 * i));
    return (uint32_t)(XXH64(le, sizeof le, 0) % nparts);
}

/* Days from civil date (proleptic Gregorian), after H. Hinnant's algorithm. */
static int32_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const int yoe = y - era * 400;
    const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

/* The inverse, in 64-bit arithmetic: defined for every int32 day (z +
 * 719468 and era * 146097 would overflow int for days near INT32_MAX or
 * INT32_MIN). */
static void civil_from_days(int32_t days, int64_t *y, int *m, int *d)
{
    const int64_t z = (int64_t)days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097; /* [0, 146096] */
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp + (mp < 10 ? 3 : -9));
    *y = yoe + era * 400 + (*m <= 2);
}

static int digits_value(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int ms_date_parse(const char *s, size_t len, int32_t *days)
{
    int y, m, d;
    if (len != 10 || s[4] != '-' || s[7] != '-') return -1;
    if (digits_value(s, 4, &y) || digits_value(s + 5, 2, &m) || digits_value(s + 8, 2, &d))
        return -1;
    if (m < 1 || m > 12 || d < 1) return -1;
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int maxd = mdays[m - 1] + (m == 2 && leap);
    if (d > maxd) return -1;
    if (y < MS_DATE_MIN_YEAR || y > MS_DATE_MAX_YEAR) return -2;
    *days = days_from_civil(y, m, d);
    return 0;
}

void ms_date_format(int32_t days, char out[11])
{
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        memcpy(out, "0000-00-00", 11);
        return;
    }
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
}

enum { MONEY_EMPTY = -1, MONEY_NEGATIVE = -2, MONEY_DECIMALS = -3, MONEY_SYNTAX = -4, MONEY_RANGE = MS_MONEY_RANGE };

int ms_money_parse(const char *s, size_t len, int64_t *fen)
{
    if (len == 0) return MONEY_EMPTY;
    if (s[0] == '-') return MONEY_NEGATIVE;
    size_t i = 0;
    int64_t yuan = 0;
    size_t int_digits = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, int_digits++) {
        if (yuan > (INT64_MAX / 100 - 9) / 10) return MONEY_RANGE;
        yuan = yuan * 10 + (s[i] - '0');
    }
    int64_t cents = 0;
    if (i < len) {
        if (s[i] != '.') return MONEY_SYNTAX;
        i++;
        size_t dec = len - i;
        if (dec == 0 && int_digits == 0) return MONEY_SYNTAX;
        for (size_t k = i; k < len; k++)
            if (s[k] < '0' || s[k] > '9') return MONEY_SYNTAX;
        if (dec > 2) return MONEY_DECIMALS;
        if (dec >= 1) cents = (s[i] - '0') * 10;
        if (dec == 2) cents += s[i + 1] - '0';
    } else if (int_digits == 0) {
        return MONEY_SYNTAX;
    }
    *fen = yuan * 100 + cents;
    return 0;
}

const char *ms_money_error(int code)
{
    switch (code) {
    case MONEY_EMPTY: return "empty value";
    case MONEY_NEGATIVE: return "negative amount";
    case MONEY_DECIMALS: return "money has more than two decimals";
    case MONEY_SYNTAX: return "not a decimal amount of yuan";
    case MONEY_RANGE: return "amount out of range";
    default: return "ok";
    }
}

int ms_money_format(int64_t fen, char *out)
{
    char tmp[24];
    int n = 0;
    int neg = fen < 0;
    uint64_t v = neg ? (uint64_t)0 - (uint64_t)fen : (uint64_t)fen;
    unsigned cents = (unsigned)(v % 100);
    v /= 100;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    int o = 0;
    if (neg) out[o++] = '-';
    while (n) out[o++] = tmp[--n];
    out[o++] = '.';
    out[o++] = (char)('0' + cents / 10);
    out[o++] = (char)('0' + cents % 10);
    out[o] = '\0';
    return o;
}

int ms_fixed_parse(const char *s, size_t len, int places, int64_t *v)
{
    if (len == 0) return MS_FIXED_EMPTY;
    if (s[0] == '-') return MS_FIXED_NEGATIVE;
    size_t i = 0, int_digits = 0;
    int64_t scale = 1;
    for (int k = 0; k < places; k++) scale *= 10;
    int64_t whole = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, int_digits++) {
        if (whole > (INT64_MAX / scale - 9) / 10) return MS_FIXED_RANGE;
        whole = whole * 10 + (s[i] - '0');
    }
    int64_t frac = 0;
    if (i < len) {
        if (s[i] != '.') return MS_FIXED_SYNTAX;
        i++;
        size_t dec = len - i;
        if (dec == 0 && int_digits == 0) return MS_FIXED_SYNTAX;
        for (size_t k = i; k < len; k++)
            if (s[k] < '0' || s[k] > '9') return MS_FIXED_SYNTAX;
        if (dec > (size_t)places) return MS_FIXED_DECIMALS;
        int64_t unit = scale;
        for (size_t k = i; k < len; k++) {
            unit /= 10;
            frac += (s[k] - '0') * unit;
        }
    } else if (int_digits == 0) {
        return MS_FIXED_SYNTAX;
    }
    *v = whole * scale + frac;
    return 0;
}

int ms_fixed_format(int64_t v, int places, int min_places, char *out)
{
    char tmp[24];
    int n = 0, o = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (v < 0) out[o++] = '-';
    char frac[20];
    for (int k = places - 1; k >= 0; k--) {
        frac[k] = (char)('0' + u % 10);
        u /= 10;
    }
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n) out[o++] = tmp[--n];
    int keep = places;
    while (keep > min_places && frac[keep - 1] == '0') keep--;
    if (keep > 0) {
        out[o++] = '.';
        memcpy(out + o, frac, (size_t)keep);
        o += keep;
    }
    out[o] = '\0';
    return o;
}

int ms_decimal_format(float v, char *out)
{
    for (int prec = 0; prec <= 9; prec++) {
        int n = snprintf(out, 48, "%.*f", prec, (double)v);
        if (n > 0 && n < 48 && strtof(out, NULL) == v) return n;
    }
    return snprintf(out, 48, "%.9g", (double)v);
}
