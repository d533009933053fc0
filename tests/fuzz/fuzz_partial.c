/*
 * fuzz_partial - what --resume reads back: the models' saved states
 * (models/ms_model.h: load) and the partial file around them
 * (engine/sweep/ms_partial.c: ms_partial_read).  A partial ends with an
 * xxh64 of its bytes, which would stop nearly every mutation; so this
 * harness calls the model callbacks directly, or writes the checksum
 * itself.
 *
 * Input, byte 0:
 *   0x00-0xEF  model mode: model number byte 0 % (models in the registry),
 *              the rest is that model's saved state.  A state fresh from
 *              init (the small world of ms_fuzz_world.h) loads it; when load
 *              accepts the bytes, saving the loaded state must give them
 *              back exactly (else load accepted bytes save could not have
 *              written: a finding), and the state then goes where a resume
 *              takes it: merged into a fresh state twice (two partitions),
 *              finalized with the peer groups, freed.
 *   0xF0-0xFF  file mode: the rest is a partial file of partition 3 of a
 *              sweep of every model, less its 8-byte magic and its 8-byte
 *              xxh64 (added here): ms_partial_read from a directory in
 *              /dev/shm (or $TMPDIR).  When it reads, what it read,
 *              written with ms_partial_write and read again, must be the
 *              same partial (header and every model's saved bytes; the
 *              files may differ: LZ4 has more than one encoding of the
 *              same bytes), and the states are merged and finalized as
 *              above.
 * Seeds: fuzz_partial_mkseed (real states saved by each model's save after
 * mapping a small made-up partition, and a partial of them).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "ms_fuzz_file.h"
#include "ms_buf.h"
#include "ms_fuzz_world.h"
#include "ms_partial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PART_INDEX 3

static ms_fuzz_world_t world;
static int ready;
static char dir[256], path[320], back_dir[320], back_path[400];

static void cleanup(void)
{
    unlink(path);
    unlink(back_path);
    rmdir(back_dir);
    rmdir(dir);
    ms_fuzz_world_free(&world);
}

static void init(void)
{
    ms_fuzz_world_init(&world);
    ms_fuzz_scratch_dir(dir, sizeof dir, "fuzz_partial");
    snprintf(path, sizeof path, "%s/part-%05u.partial", dir, PART_INDEX);
    snprintf(back_dir, sizeof back_dir, "%s/back", dir);
    snprintf(back_path, sizeof back_path, "%s/part-%05u.partial", back_dir, PART_INDEX);
    if (mkdir(back_dir, 0700) != 0) abort();
    atexit(cleanup);
    ready = 1;
}

/* Where a resume takes a loaded state: merged (in partition order) into
 * the global state, finalized.  Errors are the input's (an overflowing
 * sum): fine, as long as nothing crashes or leaks. */
static void resume(int m, const void *loaded)
{
    const ms_model_t *mod = world.models[m];
    void *global = NULL;
    if (mod->init(&world.env[m], &global) != MS_OK) abort();
    ms_status_t st = mod->merge(global, loaded);
    if (st == MS_OK) st = mod->merge(global, loaded);
    if (st == MS_OK) {
        ms_model_result_t res;
        memset(&res, 0, sizeof res);
        st = mod->finalize(global, &world.fin[m], &res);
        if (st == MS_OK) {
            if (res.n_inst != MS_FUZZ_N_INST || res.nind != mod->nindicators || !res.num || !res.den) abort();
            for (size_t k = 0; k < res.nclues; k++)
                if (res.clues[k].inst >= res.n_inst || res.clues[k].indicator >= mod->nindicators) abort();
        }
        ms_model_result_free(&res);
    }
    mod->free(global);
}

static void model_mode(int m, const uint8_t *data, size_t size)
{
    const ms_model_t *mod = world.models[m];
    void *state = NULL;
    if (mod->init(&world.env[m], &state) != MS_OK) abort();
    ms_status_t st = mod->load(state, data, size);
    if (st != MS_OK && st != MS_E_CORRUPT && st != MS_E_NOMEM) {
        fprintf(stderr, "fuzz_partial: %s: load returned %d, not MS_E_CORRUPT: %s\n", mod->name, (int)st,
                ms_error_detail());
        abort();
    }
    if (st == MS_OK) {
        ms_buf_t b = {0};
        if (mod->save(state, &b) != MS_OK) abort();
        if (b.len != size || (size && memcmp(b.data, data, size) != 0)) {
            fprintf(stderr, "fuzz_partial: %s: load accepted %zu bytes that its save writes as %zu other bytes\n",
                    mod->name, size, b.len);
            abort();
        }
        ms_buf_free(&b);
        resume(m, state);
    }
    mod->free(state);
}

static void write_file(const char *p, const void *a, size_t na, const void *b, size_t nb, const void *c, size_t nc)
{
    FILE *fp = fopen(p, "wb");
    if (!fp || fwrite(a, 1, na, fp) != na || (nb && fwrite(b, 1, nb, fp) != nb) || fwrite(c, 1, nc, fp) != nc ||
        fclose(fp) != 0) {
        perror(p);
        abort();
    }
}

static void file_mode(const uint8_t *data, size_t size)
{
    /* The file: magic, the input, the xxh64 of both. */
    XXH64_state_t *h = XXH64_createState();
    if (!h) abort();
    XXH64_reset(h, 0);
    XXH64_update(h, MS_PARTIAL_MAGIC, 8);
    XXH64_update(h, data, size);
    uint64_t sum = XXH64_digest(h);
    XXH64_freeState(h);
    write_file(path, MS_PARTIAL_MAGIC, 8, data, size, &sum, sizeof sum);
    ms_partial_t pt;
    ms_status_t st = ms_partial_read(dir, PART_INDEX, world.models, world.nmodels, world.env, &pt);
    if (st != MS_OK && st != MS_E_CORRUPT && st != MS_E_NOMEM) {
        fprintf(stderr, "fuzz_partial: ms_partial_read returned %d, not MS_E_CORRUPT: %s\n", (int)st,
                ms_error_detail());
        abort();
    }
    if (st == MS_OK) {
        /* Compressed blocks have more than one encoding of the same bytes,
         * so the file is not compared: what was read, written and read
         * again must be the same partial, state for state. */
        if (ms_partial_write(back_dir, &pt, world.models) != MS_OK) abort();
        ms_partial_t again;
        if (ms_partial_read(back_dir, PART_INDEX, world.models, world.nmodels, world.env, &again) != MS_OK) {
            fprintf(stderr, "fuzz_partial: ms_partial_read refused what ms_partial_write wrote: %s\n",
                    ms_error_detail());
            abort();
        }
        int same = again.index == pt.index && !memcmp(again.rows, pt.rows, sizeof pt.rows) &&
                   !memcmp(again.rejected, pt.rejected, sizeof pt.rejected);
        for (int m = 0; same && m < world.nmodels; m++) {
            ms_buf_t a = {0}, b = {0};
            if (world.models[m]->save(pt.states[m], &a) != MS_OK || world.models[m]->save(again.states[m], &b) != MS_OK)
                abort();
            same = a.len == b.len && (a.len == 0 || !memcmp(a.data, b.data, a.len));
            ms_buf_free(&a);
            ms_buf_free(&b);
        }
        if (!same) {
            fprintf(stderr, "fuzz_partial: a partial read, written and read again is another partial\n");
            abort();
        }
        ms_partial_free(&again, world.models);
        for (int m = 0; m < world.nmodels; m++) resume(m, pt.states[m]);
        ms_partial_free(&pt, world.models);
    }
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) init();
    if (size < 1) return 0;
    if (data[0] >= 0xF0) file_mode(data + 1, size - 1);
    else model_mode(data[0] % world.nmodels, data + 1, size - 1);
    return 0;
}
