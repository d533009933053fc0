/*
 * test_codec.c - the chunk codec is HDF5's own pipeline, bit for bit.
 *
 * Chunks written by HDF5 (H5Dwrite through shuffle, LZ4, Fletcher32) decode
 * with ms_chunk_decode; chunks encoded by ms_chunk_encode and stored with
 * H5Dwrite_chunk read back through H5Dread, which checks HDF5's Fletcher32.
 * Damaged chunks are refused, never decoded into wrong numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hdf5.h>

#include "ms_codec.h"
#include "ms_h5util.h"
#include "ms_testutil.h"

static const size_t sizes[] = {0, 1, 2, 3, 7, 8, 255, 1000, 4096, 65537};
static const size_t esizes[] = {1, 2, 3, 4, 8, 12};

static void fill(unsigned char *p, size_t n, uint64_t seed, int compressible)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++)
        p[i] = compressible ? (unsigned char)(i / 97 % 5) : (unsigned char)ms_test_rand(&s);
}

static void test_shuffle_roundtrip(void **state)
{
    (void)state;
    for (size_t a = 0; a < sizeof sizes / sizeof *sizes; a++)
        for (size_t b = 0; b < sizeof esizes / sizeof *esizes; b++) {
            size_t n = sizes[a], es = esizes[b], bytes = n * es;
            unsigned char *src = malloc(bytes + 1), *sh = malloc(bytes + 1), *back = malloc(bytes + 1);
            fill(src, bytes, n * 31 + es, 0);
            ms_shuffle(src, sh, n, es);
            /* Byte b of element i lands at b*n + i. */
            if (n > 1 && es > 1) assert_int_equal(sh[1 * n + (n - 1)], src[(n - 1) * es + 1]);
            ms_unshuffle(sh, back, n, es);
            if (bytes) assert_memory_equal(src, back, bytes);
            free(src), free(sh), free(back);
        }
}

/* ms_unshuffle (the kernel of this CPU's set; every set is compared with
 * the reference in tests/test_kernels.c) undoes ms_shuffle on every tail
 * length, every element size the columns use and more, and on unaligned
 * buffers. */
static void test_unshuffle_inverts_shuffle(void **state)
{
    (void)state;
    const size_t es_list[] = {1, 2, 3, 4, 8, 12, 16};
    for (size_t e = 0; e < sizeof es_list / sizeof *es_list; e++)
        for (size_t n = 0; n < 70; n++)
            for (size_t off = 0; off < 3; off++) {
                size_t es = es_list[e], bytes = n * es;
                unsigned char *src = malloc(bytes + 8), *sh = malloc(bytes + 8), *back = malloc(bytes + 8);
                fill(src + off, bytes, n * 7 + es + off, 0);
                ms_shuffle(src + off, sh + off, n, es);
                ms_unshuffle(sh + off, back + off, n, es);
                if (bytes) assert_memory_equal(src + off, back + off, bytes);
                free(src), free(sh), free(back);
            }
    size_t big = 65536 + 5;
    unsigned char *src = malloc(big * 8), *sh = malloc(big * 8), *back = malloc(big * 8);
    fill(src, big * 8, 99, 0);
    for (size_t es = 4; es <= 8; es += 4) {
        ms_shuffle(src, sh, big, es);
        ms_unshuffle(sh, back, big, es);
        assert_memory_equal(src, back, big * es);
    }
    free(src), free(sh), free(back);
}

/* ms_fletcher32 gives HDF5's own checksums (H5_checksum_fletcher32, values
 * taken from libhdf5): odd lengths (the last byte as a high byte), block
 * boundaries (360 words), and all-0xff data where the sums wrap. */
static void test_fletcher32_known_values(void **state)
{
    (void)state;
    unsigned char b[1101];
    assert_int_equal(ms_fletcher32("abcde", 5), 0x4ff029c7);
    assert_int_equal(ms_fletcher32("abcdef", 6), 0x50562a2d);
    for (size_t i = 0; i < sizeof b; i++) b[i] = (unsigned char)(i * 7 + 3);
    assert_int_equal(ms_fletcher32(b, 720), 0xad72d1aa);
    assert_int_equal(ms_fletcher32(b, 1100), 0x4adaf501);
    assert_int_equal(ms_fletcher32(b, 1101), 0x56dc0c02);
    memset(b, 0xff, sizeof b);
    assert_int_equal(ms_fletcher32(b, 1100), 0xffffffff);
    assert_int_equal(ms_fletcher32(b, 1101), 0xff00ff00);
}

static void test_encode_decode(void **state)
{
    (void)state;
    for (size_t a = 0; a < sizeof sizes / sizeof *sizes; a++)
        for (size_t b = 0; b < sizeof esizes / sizeof *esizes; b++)
            for (int comp = 0; comp < 2; comp++) {
                size_t n = sizes[a], es = esizes[b], bytes = n * es;
                unsigned char *raw = malloc(bytes + 1), *tmp = malloc(bytes + 1), *back = malloc(bytes + 1);
                unsigned char *enc = malloc(ms_chunk_bound(bytes));
                fill(raw, bytes, n + es, comp);
                size_t len = ms_chunk_encode(raw, n, es, tmp, enc);
                assert_true(len <= ms_chunk_bound(bytes));
                assert_int_equal(ms_chunk_decode(enc, len, n, es, tmp, back), MS_OK);
                if (bytes) assert_memory_equal(raw, back, bytes);
                free(raw), free(tmp), free(back), free(enc);
            }
}

static void test_damaged_chunk_refused(void **state)
{
    (void)state;
    size_t n = 4096, es = 8, bytes = n * es;
    unsigned char *raw = malloc(bytes), *tmp = malloc(bytes), *back = malloc(bytes);
    unsigned char *enc = malloc(ms_chunk_bound(bytes));
    fill(raw, bytes, 7, 1);
    size_t len = ms_chunk_encode(raw, n, es, tmp, enc);
    /* Every single-bit flip anywhere is caught (checksum or LZ4 framing). */
    for (size_t pos = 0; pos < len; pos += 1 + len / 50) {
        enc[pos] ^= 0x10;
        assert_int_equal(ms_chunk_decode(enc, len, n, es, tmp, back), MS_E_CORRUPT);
        enc[pos] ^= 0x10;
    }
    /* Truncated. */
    assert_int_equal(ms_chunk_decode(enc, len - 5, n, es, tmp, back), MS_E_CORRUPT);
    assert_int_equal(ms_chunk_decode(enc, 3, n, es, tmp, back), MS_E_CORRUPT);
    /* Wrong expected size (a chunk of another column shape). */
    assert_int_equal(ms_chunk_decode(enc, len, n / 2, es, tmp, back), MS_E_CORRUPT);
    assert_non_null(strstr(ms_error_detail(), "expected"));
    free(raw), free(tmp), free(back), free(enc);
}

/* A dataset of int64 values through HDF5's own pipeline. */
static hid_t make_dataset(hid_t f, const char *name, size_t n, size_t chunk)
{
    hsize_t dims[1] = {n}, cd[1] = {chunk};
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, cd);
    H5Pset_shuffle(dcpl);
    H5Pset_filter(dcpl, MS_H5Z_FILTER_LZ4, H5Z_FLAG_MANDATORY, 0, NULL);
    H5Pset_fletcher32(dcpl);
    hid_t d = H5Dcreate2(f, name, H5T_STD_I64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(space);
    return d;
}

static void test_matches_hdf5_pipeline(void **state)
{
    (void)state;
    assert_int_equal(ms_h5_init(), MS_OK);
    char *dir = ms_test_dir("codec");
    char path[512];
    snprintf(path, sizeof path, "%s/pipe.h5", dir);
    const size_t chunk = 1000, n = 3 * chunk;
    int64_t *vals = malloc(n * sizeof *vals), *back = malloc(n * sizeof *back);
    uint64_t s = 42;
    for (size_t i = 0; i < n; i++) vals[i] = (int64_t)(ms_test_below(&s, 100000)) - 500;

    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    /* 1: HDF5 encodes, we decode the raw chunks. */
    hid_t d = make_dataset(f, "by_hdf5", n, chunk);
    assert_true(d >= 0);
    assert_true(H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, vals) >= 0);
    unsigned char *enc = malloc(ms_chunk_bound(chunk * 8)), *tmp = malloc(chunk * 8);
    for (size_t k = 0; k < n / chunk; k++) {
        hsize_t off[1] = {k * chunk}, size = 0;
        uint32_t mask = 0;
        assert_true(H5Dget_chunk_storage_size(d, off, &size) >= 0);
        assert_true(H5Dread_chunk(d, H5P_DEFAULT, off, &mask, enc) >= 0);
        assert_int_equal(mask, 0);
        assert_int_equal(ms_chunk_decode(enc, (size_t)size, chunk, 8, tmp, back + k * chunk), MS_OK);
    }
    assert_memory_equal(vals, back, n * 8);
    H5Dclose(d);

    /* 2: we encode, HDF5 decodes (and checks its Fletcher32). */
    d = make_dataset(f, "by_us", n, chunk);
    for (size_t k = 0; k < n / chunk; k++) {
        size_t len = ms_chunk_encode(vals + k * chunk, chunk, 8, tmp, enc);
        hsize_t off[1] = {k * chunk};
        assert_true(H5Dwrite_chunk(d, H5P_DEFAULT, 0, off, len, enc) >= 0);
    }
    memset(back, 0, n * 8);
    assert_true(H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, back) >= 0);
    assert_memory_equal(vals, back, n * 8);
    H5Dclose(d);
    H5Fclose(f);
    free(vals), free(back), free(enc), free(tmp), free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shuffle_roundtrip),
        cmocka_unit_test(test_unshuffle_inverts_shuffle),
        cmocka_unit_test(test_fletcher32_known_values),
        cmocka_unit_test(test_encode_decode),
        cmocka_unit_test(test_damaged_chunk_refused),
        cmocka_unit_test(test_matches_hdf5_pipeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
