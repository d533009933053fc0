/*
 * mkseed_codec - writes fuzz_codec's seed corpus with the project's own
 * encoder (ms_chunk_encode): a few column chunks of the kinds a partition
 * holds (u64 ids, i32 days, u8 enums, i64 money), each file the 3-byte
 * prefix fuzz_codec reads (element size code, n little-endian) then the
 * encoded chunk.
 *     mkseed_codec DIR
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ms_codec.h"

static void put(const char *dir, const char *name, const void *raw, size_t n, int code)
{
    size_t esize = (size_t)1 << code, nbytes = n * esize;
    uint8_t *tmp = malloc(nbytes ? nbytes : 1), *out = malloc(ms_chunk_bound(nbytes) + 3);
    if (!tmp || !out) exit(1);
    out[0] = (uint8_t)code;
    out[1] = (uint8_t)(n & 0xff);
    out[2] = (uint8_t)(n >> 8);
    size_t len = ms_chunk_encode(raw, n, esize, tmp, out + 3);
    uint8_t *back = malloc(nbytes ? nbytes : 1);
    if (!back || ms_chunk_decode(out + 3, len, n, esize, tmp, back) != MS_OK || memcmp(back, raw, nbytes) != 0) {
        fprintf(stderr, "mkseed_codec: %s does not decode back\n", name);
        exit(1);
    }
    free(back);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(out, 1, len + 3, fp) != len + 3 || fclose(fp) != 0) {
        perror(path);
        exit(1);
    }
    free(tmp);
    free(out);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkseed_codec DIR\n");
        return 2;
    }
    enum { N = 512 };
    static uint64_t ids[N];
    static int32_t days[N];
    static uint8_t kinds[N];
    static int64_t money[N];
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        ids[i] = 241930271467367ull + (uint64_t)i * 7919u;
        days[i] = 19358 + (int32_t)(x % 365);
        kinds[i] = (uint8_t)(x % 4);
        money[i] = (int64_t)(x % 2000000);
    }
    put(argv[1], "ids_u64", ids, N, 3);
    put(argv[1], "days_i32", days, N, 2);
    put(argv[1], "kinds_u8", kinds, N, 0);
    put(argv[1], "money_i64", money, N, 3);
    put(argv[1], "short_i32", days, 7, 2);
    put(argv[1], "empty", ids, 0, 3);
    return 0;
}
