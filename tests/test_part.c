/*
 * test_part.c - partition files: write, open, read in ranges and batches.
 *
 * What must hold: every row comes back exactly, in order, in both read modes;
 * no batch splits a person; readers over [0,a) and [a,n) together give every
 * row once, whatever a; and damaged files are refused with the file, column
 * and chunk named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "ms_part.h"
#include "ms_reader.h"
#include "ms_testutil.h"

#define CHUNK 1024

typedef struct {
    char *dir;
    char path[512];
    size_t n;
    ms_settlement_t *rows;
} fixture_t;

/* Rows sorted by person: runs of 1-6 rows, one run of 3000 (longer than a
 * chunk and a batch), random values everywhere else. */
static ms_settlement_t *make_rows(size_t n, uint64_t seed)
{
    ms_settlement_t *r = calloc(n, sizeof *r);
    uint64_t s = seed, person = 1000;
    size_t i = 0;
    while (i < n) {
        size_t run = i > n / 3 && i < n / 3 + 10 ? 3000 : 1 + (size_t)ms_test_below(&s, 6);
        person += 1 + ms_test_below(&s, 3);
        for (size_t k = 0; k < run && i < n; k++, i++) {
            r[i].settle_id = i * 7 + 1;
            r[i].person_id = person;
            r[i].inst_code = (int32_t)ms_test_below(&s, 50);
            r[i].admit_date = r[i].discharge_date = r[i].settle_date = 19000 + (int32_t)k;
            r[i].total = (int64_t)ms_test_below(&s, 1000000);
            r[i].fund_pay = r[i].total / 2;
            r[i].self_pay = r[i].total - r[i].fund_pay;
            r[i].drug = r[i].total;
            r[i].dept = (uint8_t)ms_test_below(&s, 14);
            r[i].diag_main = (int32_t)ms_test_below(&s, 300);
            r[i].group_code = -1;
            r[i].proc_main = -1;
            r[i].n_diag = 1;
            r[i].person_region = 110101;
        }
    }
    return r;
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->dir = ms_test_dir("part");
    snprintf(f->path, sizeof f->path, "%s/part-00000.h5", f->dir);
    f->n = 20 * CHUNK + 77;
    f->rows = make_rows(f->n, 5);
    ms_part_info_t info = {.index = 0, .count = 1, .rows = f->n, .chunk_rows = CHUNK};
    strcpy(info.ref_checksum, "0000000000000001-0000000000000002");
    assert_int_equal(ms_part_write_rows(f->path, ms_table(MS_TABLE_SETTLEMENTS), f->rows, &info), MS_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    free(f->rows);
    free(f->dir);
    free(f);
    return 0;
}

/* Read [lo,hi) chunk range; check rows against f->rows starting at *next. */
static void read_range(const fixture_t *f, ms_part_t *p, size_t lo, size_t hi, size_t batch,
                       ms_read_mode_t mode, size_t *next)
{
    ms_reader_t *r = NULL;
    uint64_t cols = 1ull << MS_SC_settle_id | 1ull << MS_SC_total | 1ull << MS_SC_dept;
    assert_int_equal(ms_reader_open(p, cols, lo, hi, batch, mode, &r), MS_OK);
    ms_batch_t b;
    for (;;) {
        assert_int_equal(ms_reader_next(r, &b), MS_OK);
        if (!b.rows) break;
        assert_int_equal(b.first_row, *next);
        assert_null(b.col[MS_SC_age]); /* not requested */
        const uint64_t *sid = b.col[MS_SC_settle_id], *pid = b.col[MS_SC_person_id];
        const int64_t *tot = b.col[MS_SC_total];
        const uint8_t *dept = b.col[MS_SC_dept];
        for (size_t i = 0; i < b.rows; i++) {
            const ms_settlement_t *w = &f->rows[*next + i];
            assert_int_equal(sid[i], w->settle_id);
            assert_int_equal(pid[i], w->person_id);
            assert_int_equal(tot[i], w->total);
            assert_int_equal(dept[i], w->dept);
        }
        /* Whole persons only: the row after the batch is another person. */
        size_t end = *next + b.rows;
        if (end < f->n) assert_true(f->rows[end].person_id != f->rows[end - 1].person_id);
        assert_true(*next == 0 || f->rows[*next].person_id != f->rows[*next - 1].person_id);
        *next = end;
    }
    ms_reader_close(r);
}

/* A reader of rows: [lo,hi) gives the same rows as a reader of persons,
 * in batches of exactly `batch` rows but the last, and only the columns
 * asked for (no person_id). */
static void read_range_rows(const fixture_t *f, ms_part_t *p, size_t lo, size_t hi, size_t batch, size_t *next)
{
    size_t want = *next;
    read_range(f, p, lo, hi, batch, MS_READ_PREAD, &want);
    ms_reader_t *r = NULL;
    assert_int_equal(ms_reader_open_rows(p, 1ull << MS_SC_settle_id, lo, hi, batch, MS_READ_PREAD, &r), MS_OK);
    ms_batch_t b;
    int short_batch = 0; /* a batch of fewer rows than asked: the last one */
    for (;;) {
        assert_int_equal(ms_reader_next(r, &b), MS_OK);
        if (!b.rows) break;
        assert_false(short_batch);
        assert_int_equal(b.first_row, *next);
        assert_null(b.col[MS_SC_person_id]);
        const uint64_t *sid = b.col[MS_SC_settle_id];
        for (size_t i = 0; i < b.rows; i++) assert_int_equal(sid[i], f->rows[*next + i].settle_id);
        *next += b.rows;
        short_batch = b.rows != batch;
    }
    assert_int_equal(*next, want);
    ms_reader_close(r);
}

static void test_rows_reader(void **state)
{
    fixture_t *f = *state;
    ms_part_t *p = NULL;
    assert_int_equal(ms_part_open(f->path, ms_table(MS_TABLE_SETTLEMENTS), NULL, &p), MS_OK);
    size_t n = ms_part_nchunks(p), batches[] = {1, 7, 100, CHUNK, 5000};
    for (size_t b = 0; b < 5; b++) {
        /* Whole, and in three ranges that together are the whole. */
        size_t next = 0;
        read_range_rows(f, p, 0, n, batches[b], &next);
        assert_int_equal(next, f->n);
        next = 0;
        read_range_rows(f, p, 0, 5, batches[b], &next);
        read_range_rows(f, p, 5, 6, batches[b], &next);
        read_range_rows(f, p, 6, n, batches[b], &next);
        assert_int_equal(next, f->n);
    }
    ms_part_close(p);
}

static void test_full_read_both_modes(void **state)
{
    fixture_t *f = *state;
    ms_part_t *p = NULL;
    assert_int_equal(ms_part_open(f->path, ms_table(MS_TABLE_SETTLEMENTS), NULL, &p), MS_OK);
    assert_int_equal(ms_part_info(p)->rows, f->n);
    assert_int_equal(ms_part_nchunks(p), 21);
    assert_int_equal(ms_part_chunk_nrows(p, 20), 77);
    for (int mode = 0; mode < 2; mode++) {
        size_t batches[] = {1, 100, CHUNK, 5000};
        for (size_t b = 0; b < 4; b++) {
            size_t next = 0;
            read_range(f, p, 0, ms_part_nchunks(p), batches[b], (ms_read_mode_t)mode, &next);
            assert_int_equal(next, f->n);
        }
    }
    ms_part_close(p);
}

static void test_ranges_compose(void **state)
{
    fixture_t *f = *state;
    ms_part_t *p = NULL;
    assert_int_equal(ms_part_open(f->path, ms_table(MS_TABLE_SETTLEMENTS), NULL, &p), MS_OK);
    size_t nch = ms_part_nchunks(p);
    /* Two ranges split at every chunk, then three uneven ranges. */
    for (size_t a = 0; a <= nch; a++) {
        size_t next = 0;
        read_range(f, p, 0, a, 700, MS_READ_PREAD, &next);
        read_range(f, p, a, nch, 700, MS_READ_PREAD, &next);
        assert_int_equal(next, f->n);
    }
    size_t next = 0;
    read_range(f, p, 0, 3, 512, MS_READ_PREAD, &next);
    read_range(f, p, 3, 4, 512, MS_READ_PREAD, &next);
    read_range(f, p, 4, nch, 512, MS_READ_PREAD, &next);
    assert_int_equal(next, f->n);
    ms_part_close(p);
}

static void test_attributes_and_mismatch(void **state)
{
    fixture_t *f = *state;
    ms_part_t *p = NULL;
    ms_refs_t refs;
    memset(&refs, 0, sizeof refs);
    refs.inst_checksum = 1;
    refs.groups_checksum = 2;
    assert_int_equal(ms_part_open(f->path, ms_table(MS_TABLE_SETTLEMENTS), &refs, &p), MS_OK);
    assert_int_equal(ms_part_info(p)->min_date, 19000);
    ms_part_close(p);
    refs.groups_checksum = 3;
    assert_int_equal(ms_part_open(f->path, ms_table(MS_TABLE_SETTLEMENTS), &refs, &p), MS_E_MISMATCH);
    assert_non_null(strstr(ms_error_detail(), "other reference files"));
    assert_non_null(strstr(ms_error_detail(), f->path));
    /* The wrong table. */
    assert_int_equal(ms_part_open(f->path, ms_table(MS_TABLE_DRUG_ITEMS), NULL, &p), MS_E_SCHEMA);
}

static void copy_file(const char *from, const char *to, long keep)
{
    size_t len;
    char *buf = ms_test_slurp(from, &len);
    assert_non_null(buf);
    FILE *fp = fopen(to, "wb");
    fwrite(buf, 1, keep < 0 ? len : (size_t)keep, fp);
    fclose(fp);
    free(buf);
}

static void test_truncated_file(void **state)
{
    fixture_t *f = *state;
    char cut[600];
    struct stat sb;
    stat(f->path, &sb);
    snprintf(cut, sizeof cut, "%s/truncated.h5", f->dir);
    long sizes[] = {0, 100, (long)sb.st_size / 2, (long)sb.st_size - 10};
    for (int i = 0; i < 4; i++) {
        copy_file(f->path, cut, sizes[i]);
        ms_part_t *p = NULL;
        ms_status_t st = ms_part_open(cut, ms_table(MS_TABLE_SETTLEMENTS), NULL, &p);
        assert_int_equal(st, MS_E_CORRUPT);
        assert_non_null(strstr(ms_error_detail(), "truncated.h5"));
    }
}

static void test_corrupt_chunk(void **state)
{
    fixture_t *f = *state;
    char bad[600];
    snprintf(bad, sizeof bad, "%s/corrupt.h5", f->dir);
    copy_file(f->path, bad, -1);
    ms_part_t *p = NULL;
    uint64_t addr, size;
    assert_int_equal(ms_part_open(bad, ms_table(MS_TABLE_SETTLEMENTS), NULL, &p), MS_OK);
    ms_part_chunk_location(p, MS_SC_total, 5, &addr, &size);
    ms_part_close(p);
    /* Flip one bit in the middle of chunk 5 of column total. */
    FILE *fp = fopen(bad, "r+b");
    fseek(fp, (long)(addr + size / 2), SEEK_SET);
    int ch = fgetc(fp);
    fseek(fp, (long)(addr + size / 2), SEEK_SET);
    fputc(ch ^ 0x04, fp);
    fclose(fp);

    assert_int_equal(ms_part_open(bad, ms_table(MS_TABLE_SETTLEMENTS), NULL, &p), MS_OK);
    void *scratch = malloc(ms_part_scratch_size(p));
    int64_t *dst = malloc(CHUNK * 8);
    for (int mode = 0; mode < 2; mode++) {
        assert_int_equal(ms_part_read_chunk(p, MS_SC_total, 4, (ms_read_mode_t)mode, scratch, dst), MS_OK);
        assert_int_equal(ms_part_read_chunk(p, MS_SC_total, 5, (ms_read_mode_t)mode, scratch, dst),
                         MS_E_CORRUPT);
        const char *d = ms_error_detail();
        assert_non_null(strstr(d, "corrupt.h5"));
        assert_non_null(strstr(d, "column total, chunk 5"));
    }
    /* A reader over the damaged range fails the same way. */
    ms_reader_t *r = NULL;
    ms_batch_t b;
    assert_int_equal(ms_reader_open(p, MS_ALL_COLUMNS(ms_table(MS_TABLE_SETTLEMENTS)), 0,
                                    ms_part_nchunks(p), CHUNK, MS_READ_PREAD, &r), MS_OK);
    ms_status_t st;
    while ((st = ms_reader_next(r, &b)) == MS_OK && b.rows) {}
    assert_int_equal(st, MS_E_CORRUPT);
    ms_reader_close(r);
    ms_part_close(p);
    free(scratch);
    free(dst);
}

static void test_empty_partition(void **state)
{
    fixture_t *f = *state;
    char path[600];
    snprintf(path, sizeof path, "%s/empty.h5", f->dir);
    ms_part_info_t info = {.index = 2, .count = 3, .rows = 0, .chunk_rows = CHUNK};
    strcpy(info.ref_checksum, "0000000000000001-0000000000000002");
    assert_int_equal(ms_part_write_rows(path, ms_table(MS_TABLE_DRUG_ITEMS), NULL, &info), MS_OK);
    ms_part_t *p = NULL;
    assert_int_equal(ms_part_open(path, ms_table(MS_TABLE_DRUG_ITEMS), NULL, &p), MS_OK);
    assert_int_equal(ms_part_info(p)->rows, 0);
    assert_int_equal(ms_part_info(p)->index, 2);
    assert_int_equal(ms_part_nchunks(p), 0);
    ms_reader_t *r = NULL;
    ms_batch_t b;
    assert_int_equal(ms_reader_open(p, 1, 0, 0, 100, MS_READ_PREAD, &r), MS_OK);
    assert_int_equal(ms_reader_next(r, &b), MS_OK);
    assert_int_equal(b.rows, 0);
    ms_reader_close(r);
    ms_part_close(p);
}

static void test_h5dump_reads_it(void **state)
{
    /* Any HDF5 reader with the registered LZ4 plugin opens the files. */
    fixture_t *f = *state;
    char cmd[800], *out = NULL;
    snprintf(cmd, sizeof cmd, "h5dump -d /settlements/total -s 0 -c 3 %s", f->path);
    ms_test_run_ok(cmd, &out);
    assert_non_null(out);
    char want[64];
    snprintf(want, sizeof want, "%lld, %lld, %lld", (long long)f->rows[0].total,
             (long long)f->rows[1].total, (long long)f->rows[2].total);
    assert_non_null(strstr(out, want));
    free(out);
    snprintf(cmd, sizeof cmd, "h5dump -d /settlements/dept -s 0 -c 1 %s", f->path);
    assert_int_equal(ms_test_run(cmd, &out), 0);
    /* Enumerations show as text. */
    assert_non_null(strstr(out, ms_enum_dept.names[f->rows[0].dept]));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_read_both_modes),
        cmocka_unit_test(test_rows_reader),
        cmocka_unit_test(test_ranges_compose),
        cmocka_unit_test(test_attributes_and_mismatch),
        cmocka_unit_test(test_truncated_file),
        cmocka_unit_test(test_corrupt_chunk),
        cmocka_unit_test(test_empty_partition),
        cmocka_unit_test(test_h5dump_reads_it),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
