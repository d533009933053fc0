#include "ms_testbills.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ms_fs.h"
#include "ms_schema.h"
#include "ms_testcsv.h"
#include "ms_testutil.h"

/* The catalogue: three codes a category (category k's are codes[k][0..2]),
 * and the awkward one of "other". */
static const char *const codes[MS_N_COST_CATEGORIES][3] = {
    {"D001", "D002", "D003"}, {"E001", "E002", "E003"}, {"L001", "L002", "L003"},
    {"C001", "C002", "C003"}, {"T001", "T002", "T003"}, {"S001", "S002", "S003"},
    {"B001", "B002", "B003"}, {"N001", "N002", "N003"}, {"O001", "O002", "O003"},
};
#define AWKWARD_CODE "OT,1"

static const char *const cost_columns[MS_N_COST_CATEGORIES] = {
    "drug", "exam", "lab", "consumable", "treatment", "surgery", "bed", "nursing", "other"};

/* Yuan text ("123.45", "7", "0.5") to fen. */
static int64_t fen_of(const char *s)
{
    int64_t fen = 0;
    int dec = -1;
    for (; *s; s++) {
        if (*s == '.') {
            dec = 0;
            continue;
        }
        fen = fen * 10 + (*s - '0');
        if (dec >= 0) dec++;
    }
    for (; dec < 2; dec = dec < 0 ? 1 : dec + 1) fen *= 10;
    return fen;
}

/* A field as export writes it: quoted only when it must be. */
static void put_field(FILE *fp, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, fp);
        return;
    }
    putc('"', fp);
    for (; *s; s++) {
        if (*s == '"') putc('"', fp);
        putc(*s, fp);
    }
    putc('"', fp);
}

size_t ms_testbills_write(const char *csv_dir, double share, uint64_t seed, int awkward)
{
    ms_testcsv_t *t = ms_testcsv_read(csv_dir, "settlements.csv");
    char path[4096];
    snprintf(path, sizeof path, "%s/service_items.csv", csv_dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(MS_TESTBILLS_HEADER, fp);
    uint64_t rng = seed;
    size_t lines = 0;
    for (size_t r = 0; r < ms_testcsv_rows(t); r++) {
        if (share < 1 && (double)ms_test_below(&rng, 1000000) >= share * 1e6) continue;
        uint32_t line_no = 0;
        for (int k = 0; k < MS_N_COST_CATEGORIES; k++) {
            int64_t amount = fen_of(ms_testcsv_get(t, r, cost_columns[k]));
            if (amount == 0) continue;
            int64_t parts = 1 + (int64_t)ms_test_below(&rng, 3);
            if (parts > amount) parts = amount;
            for (int64_t i = 0; i < parts; i++) {
                int64_t part = i + 1 < parts ? amount / parts : amount - (parts - 1) * (amount / parts);
                const char *code = codes[k][ms_test_below(&rng, 3)];
                if (awkward && k == MS_N_COST_CATEGORIES - 1 && ms_test_below(&rng, 2)) code = AWKWARD_CODE;
                char qty[32], price[32], money[32];
                ms_fixed_format(1 + (int64_t)ms_test_below(&rng, 20000), 3, 0, qty);
                ms_fixed_format((int64_t)ms_test_below(&rng, 10000000), 4, 2, price);
                ms_money_format(part, money);
                const char *date = ms_test_below(&rng, 2) ? ms_testcsv_get(t, r, "admit_date")
                                                          : ms_testcsv_get(t, r, "discharge_date");
                fprintf(fp, "%s,%u,%s,", ms_testcsv_get(t, r, "settle_id"), ++line_no,
                        ms_testcsv_get(t, r, "person_id"));
                put_field(fp, ms_testcsv_get(t, r, "inst_code"));
                fprintf(fp, ",%s,", date);
                put_field(fp, code);
                fprintf(fp, ",%s,%s,%s,%s,%u,%u\n", cost_columns[k], qty, price, money,
                        k == 0 ? (unsigned)ms_test_below(&rng, 31) : 0u, (unsigned)ms_test_below(&rng, 1000));
                lines++;
            }
        }
    }
    assert_int_equal(fclose(fp), 0);
    ms_testcsv_free(t);
    return lines;
}

void ms_testbills_knowledge(const char *csv_dir)
{
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/knowledge", csv_dir);
    assert_int_equal(ms_mkdirs(dir), MS_OK);
    snprintf(path, sizeof path, "%s/items.csv", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("item_code,name,category,sex,min_age,max_age,max_qty_per_day,max_days_supply,setting,diagnoses,"
          "trace_required\n",
          fp);
    for (int k = 0; k < MS_N_COST_CATEGORIES; k++) {
        for (int j = 0; j < 3; j++) {
            const char *c = codes[k][j];
            fprintf(fp, "%s,Item %s,%s,%s,%s,%s,%s,%s,%s,%s,%d\n", c, c, cost_columns[k],
                    !strcmp(c, "E002") ? "F" : "", !strcmp(c, "L002") ? "0" : "", !strcmp(c, "L002") ? "14" : "",
                    !strcmp(c, "T001") ? "2.5" : "", !strcmp(c, "D002") ? "30" : "",
                    !strcmp(c, "B001") ? "inpatient" : "", !strcmp(c, "D003") ? "J18;I10" : "",
                    !strcmp(c, "D001"));
        }
    }
    assert_int_equal(fclose(fp), 0);
    snprintf(path, sizeof path, "%s/exclusive_items.csv", dir);
    assert_int_equal(ms_test_write_file(path, "item_a,item_b\nE001,E002\nL001,L003\n"), 0);
}

void ms_testbills_append(const char *csv_dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", csv_dir, name);
    FILE *fp = fopen(path, "a");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}
