/*
 * fuzz_part_data - partition files whose HDF5 metadata is whole (written
 * by ms_part_write) and whose data the input chooses, so that the fuzzer
 * spends its time in our reader and codec rather than in libhdf5's parser
 * (fuzz_part covers that):
 *
 *   byte 0     flags: bit 0 the table (0 settlements, 1 drug_items),
 *              bit 1 the read mode (0 pread, 1 H5Dread_chunk)
 *   byte 1     chunk_rows - 1 (mod 32)
 *   byte 2     rows (mod 128; at most the person bytes present)
 *   byte 3     the reader's batch_rows (0: its default)
 *   byte 4     where the second reading splits the chunks in two ranges
 *   rows bytes person_id of each row (small values: runs of one person,
 *              persons longer than a batch or a chunk, unsorted ids)
 *   then any number of records replacing one stored chunk:
 *              column (mod ncols), chunk (mod nchunks), flags (bit 0: make
 *              the trailing Fletcher32 right), length (u16 LE), bytes
 *              (the last record may be cut short: its bytes are what is left)
 *
 * The other columns are made up (ms_fuzz_cols_make).  The file is written
 * with ms_part_write in a directory of /dev/shm (or $TMPDIR), the chunks
 * replaced with H5Dwrite_chunk, then ms_part_open and every batch through
 * the reader, twice (ms_fuzz_read_all: the two ranges must compose).  No
 * probe: the metadata is HDF5's own.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "ms_fuzz_file.h"
#include "ms_codec.h"
#include "ms_fuzz_part.h"
#include "ms_part.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[256], path[320];

static void cleanup(void)
{
    unlink(path);
    rmdir(dir);
}

static void init(void)
{
    ms_fuzz_scratch_dir(dir, sizeof dir, "fuzz_part_data");
    snprintf(path, sizeof path, "%s/part.h5", dir);
    atexit(cleanup);
}

/* Replace chunk k of column c with len bytes. */
static void replace_chunk(hid_t f, const ms_table_t *t, int c, size_t k, uint32_t chunk_rows, uint8_t *buf,
                          size_t len)
{
    char name[128];
    snprintf(name, sizeof name, "/%s/%s", t->name, t->cols[c].name);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) abort();
    hsize_t off[1] = {(hsize_t)k * chunk_rows};
    if (H5Dwrite_chunk(d, H5P_DEFAULT, 0, off, len, buf) < 0) abort();
    H5Dclose(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) init();
    if (size < 5) return 0;
    const ms_table_t *t = ms_table(data[0] & 1 ? MS_TABLE_DRUG_ITEMS : MS_TABLE_SETTLEMENTS);
    ms_read_mode_t mode = data[0] & 2 ? MS_READ_H5 : MS_READ_PREAD;
    uint32_t chunk_rows = 1u + data[1] % 32u;
    size_t rows = data[2] % 128u, batch_rows = data[3], split = data[4];
    const uint8_t *q = data + 5;
    size_t left = size - 5;
    if (rows > left) rows = left;
    uint64_t pid[128];
    for (size_t i = 0; i < rows; i++) pid[i] = q[i];
    q += rows, left -= rows;

    void **cols = ms_fuzz_cols_make(t, rows, pid);
    ms_part_info_t info;
    memset(&info, 0, sizeof info);
    info.count = 1;
    info.rows = rows;
    info.chunk_rows = chunk_rows;
    snprintf(info.ref_checksum, sizeof info.ref_checksum, "0123456789abcdef-fedcba9876543210");
    if (ms_part_write(path, t, (const void *const *)cols, &info) != MS_OK) {
        fprintf(stderr, "fuzz_part_data: %s\n", ms_error_detail());
        abort();
    }
    ms_fuzz_cols_free(t, cols);

    size_t nchunks = (rows + chunk_rows - 1) / chunk_rows;
    if (left >= 5 && nchunks > 0) {
        hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
        if (f < 0) abort();
        while (left >= 5) {
            int c = q[0] % t->ncols;
            size_t k = q[1] % nchunks;
            int fix = q[2] & 1;
            size_t len = (size_t)q[3] | (size_t)q[4] << 8;
            q += 5, left -= 5;
            if (len > left) len = left;
            if (len == 0) continue;
            uint8_t *buf = malloc(len);
            if (!buf) abort();
            memcpy(buf, q, len);
            if (fix && len >= 4) {
                uint32_t sum = ms_fletcher32(buf, len - 4);
                for (int i = 0; i < 4; i++) buf[len - 4 + (size_t)i] = (uint8_t)(sum >> (8 * i));
            }
            replace_chunk(f, t, c, k, chunk_rows, buf, len);
            free(buf);
            q += len, left -= len;
        }
        if (H5Fclose(f) < 0) abort();
    }

    ms_part_t *p = NULL;
    if (ms_part_open(path, t, NULL, &p) == MS_OK) {
        (void)ms_fuzz_read_all(p, batch_rows, mode, split);
        ms_part_close(p);
    }
    unlink(path);
    return 0;
}
