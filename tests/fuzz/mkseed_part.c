/*
 * mkseed_part - writes the seed corpora of fuzz_part (whole partition
 * files) and fuzz_part_data (its own input format, see fuzz_part_data.c)
 * with the project's own writer (ms_part_write): small partitions of both
 * tables, a few chunks each, so that every seed is a few KB.
 *     mkseed_part PART_DIR PART_DATA_DIR
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ms_codec.h"
#include "ms_fuzz_part.h"
#include "ms_part.h"

static void die(const char *what)
{
    fprintf(stderr, "mkseed_part: %s: %s\n", what, ms_error_detail());
    exit(1);
}

/* One partition file: rows rows of table id, chunked by chunk_rows. */
static void part(const char *dir, const char *name, ms_table_id_t id, size_t rows, uint32_t chunk_rows)
{
    const ms_table_t *t = ms_table(id);
    void **cols = ms_fuzz_cols_make(t, rows, NULL);
    ms_part_info_t info;
    memset(&info, 0, sizeof info);
    info.index = 0;
    info.count = 1;
    info.rows = rows;
    info.chunk_rows = chunk_rows;
    snprintf(info.ref_checksum, sizeof info.ref_checksum, "0123456789abcdef-fedcba9876543210");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (ms_part_write(path, t, (const void *const *)cols, &info) != MS_OK) die(path);
    ms_fuzz_cols_free(t, cols);
    /* It must open and read back whole. */
    ms_part_t *p = NULL;
    if (ms_part_open(path, t, NULL, &p) != MS_OK) die(path);
    if (ms_fuzz_read_all(p, 0, MS_READ_PREAD, 1) != MS_OK) die(path);
    ms_part_close(p);
}

/* A fuzz_part_data input: the header, one person_id byte per row, then
 * (optionally) one chunk replaced by the bytes given. */
static void data_seed(const char *dir, const char *name, const unsigned char *head, size_t hlen,
                      const unsigned char *pid, size_t rows, const unsigned char *over, size_t olen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(head, 1, hlen, fp) != hlen || fwrite(pid, 1, rows, fp) != rows ||
        (olen && fwrite(over, 1, olen, fp) != olen) || fclose(fp) != 0) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: mkseed_part PART_DIR PART_DATA_DIR\n");
        return 2;
    }
    part(argv[1], "drug_items_40x16", MS_TABLE_DRUG_ITEMS, 40, 16);
    part(argv[1], "drug_items_empty", MS_TABLE_DRUG_ITEMS, 0, 8);
    part(argv[1], "settlements_12x8", MS_TABLE_SETTLEMENTS, 12, 8);

    /* fuzz_part_data: header = flags, chunk_rows - 1, rows, batch_rows, split. */
    unsigned char pid[64];
    for (size_t i = 0; i < sizeof pid; i++) pid[i] = (unsigned char)(i / 3);
    static const unsigned char h_drug[] = {0x01, 7, 40, 0, 2};   /* drug_items, 8-row chunks, pread */
    static const unsigned char h_drug_h5[] = {0x03, 3, 30, 5, 3}; /* drug_items, 4-row chunks, H5Dread_chunk */
    static const unsigned char h_settle[] = {0x00, 4, 12, 3, 1};  /* settlements, 5-row chunks */
    static const unsigned char h_one[] = {0x00, 0, 9, 1, 4};      /* one row a chunk */
    data_seed(argv[2], "drug_items_sorted", h_drug, sizeof h_drug, pid, 40, NULL, 0);
    data_seed(argv[2], "drug_items_h5read", h_drug_h5, sizeof h_drug_h5, pid, 30, NULL, 0);
    data_seed(argv[2], "settlements_sorted", h_settle, sizeof h_settle, pid, 12, NULL, 0);
    unsigned char same[9];
    memset(same, 5, sizeof same); /* one person over every chunk */
    data_seed(argv[2], "one_person_chunk_rows_1", h_one, sizeof h_one, same, 9, NULL, 0);
    /* A chunk replaced by a real encoded chunk of another column (8-row
     * u64 chunk, the record: column, chunk, flags, length LE, bytes). */
    {
        uint64_t raw[8];
        unsigned char tmp[64], enc[256], rec[5 + 256];
        for (int i = 0; i < 8; i++) raw[i] = 1000u + (unsigned)i / 2;
        size_t len = ms_chunk_encode(raw, 8, 8, tmp, enc);
        rec[0] = 1; /* person_id */
        rec[1] = 1; /* chunk 1 */
        rec[2] = 0; /* checksum as given */
        rec[3] = (unsigned char)(len & 0xff);
        rec[4] = (unsigned char)(len >> 8);
        memcpy(rec + 5, enc, len);
        data_seed(argv[2], "drug_items_chunk_replaced", h_drug, sizeof h_drug, pid, 40, rec, 5 + len);
    }
    return 0;
}
