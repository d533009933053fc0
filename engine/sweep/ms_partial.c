#include "ms_partial.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lz4.h>
#include <xxhash.h>

#include "ms_fs.h"

#define MAGIC MS_PARTIAL_MAGIC

/* A model's saved state is stored LZ4-compressed in blocks of at most
 * BLOCK raw bytes, each [u32 raw length][u32 compressed length][bytes],
 * and ends with an empty block ([0][0]): per-institution arrays are mostly
 * zeros (a 420,000-institution partial went from 202 MB to 16 MB), and
 * blocks bound the buffers either side.  The state is compressed as the
 * model's save makes it (a stream of BLOCK-byte pieces, ms_buf_stream), so
 * it is never held whole: until MSPART04 its length came first, and the
 * whole of it was copied into a buffer first (at 420,000 institutions
 * about 75 MB of fresh pages per partition, a third of them touched only
 * for that). */
#define BLOCK ((size_t)4 << 20)
_Static_assert(2 * BLOCK + (BLOCK / 255 + 16) <= MS_PARTIAL_WRITE_BYTES, "the budget counts a block and its copy");

static void part_path(const char *dir, uint32_t index, const char *ext, char *out, size_t cap)
{
    snprintf(out, cap, "%s/part-%05u.%s", dir, index, ext);
}

int ms_partial_exists(const char *state_dir, uint32_t index)
{
    char path[4096];
    part_path(state_dir, index, "partial", path, sizeof path);
    return ms_path_exists(path);
}

/* A partial is written as it is made: the header, then each model's state
 * in turn, hashed on the way out, so that what is held beside the states is
 * one model's serialised state, never all of them (the memory budget counts
 * on it, ms_sweep_plan.c). */
typedef struct {
    ms_afile_t f;
    XXH64_state_t *h;
    const char *path;
} writer_t;

static ms_status_t out_bytes(writer_t *w, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, w->f.fp) != n) return ms_error_errno(MS_E_IO, errno, "cannot write %s", w->path);
    XXH64_update(w->h, p, n);
    return MS_OK;
}

/* One block of a model's saved bytes, compressed: the sink of the stream
 * the model's save writes to. */
typedef struct {
    writer_t *w;
    char *zbuf;
} block_out_t;

static ms_status_t out_block(void *ctx, const unsigned char *p, size_t n)
{
    block_out_t *o = ctx;
    int c = LZ4_compress_default((const char *)p, o->zbuf, (int)n, LZ4_compressBound((int)BLOCK));
    if (c <= 0) return ms_error_set(MS_E_INTERNAL, "cannot compress a saved state for %s", o->w->path);
    uint32_t head[2] = {(uint32_t)n, (uint32_t)c};
    MS_TRY(out_bytes(o->w, head, sizeof head));
    return out_bytes(o->w, o->zbuf, (size_t)c);
}

static ms_status_t write_body(writer_t *w, const ms_partial_t *p, const ms_model_t *const *models)
{
    ms_buf_t b = {0}, st = {0};
    char *zbuf = malloc((size_t)LZ4_compressBound((int)BLOCK));
    block_out_t bo = {w, zbuf};
    ms_status_t rc = zbuf ? ms_buf_stream(&st, BLOCK, out_block, &bo) : ms_error_set(MS_E_NOMEM, "out of memory");
    if (rc == MS_OK) rc = ms_buf_put(&b, MAGIC, 8);
    if (rc == MS_OK) rc = ms_buf_put(&b, &p->index, sizeof p->index);
    if (rc == MS_OK) rc = ms_buf_put(&b, p->rows, sizeof p->rows);
    if (rc == MS_OK) rc = ms_buf_put(&b, p->rejected, sizeof p->rejected);
    uint32_t nm = (uint32_t)p->nmodels;
    if (rc == MS_OK) rc = ms_buf_put(&b, &nm, sizeof nm);
    for (int m = 0; rc == MS_OK && m < p->nmodels; m++) {
        uint32_t nl = (uint32_t)strlen(models[m]->name);
        rc = ms_buf_put(&b, &nl, sizeof nl);
        if (rc == MS_OK) rc = ms_buf_put(&b, models[m]->name, nl);
        if (rc == MS_OK) rc = out_bytes(w, b.data, b.len);
        b.len = 0;
        if (rc == MS_OK) rc = models[m]->save(p->states[m], &st);
        if (rc == MS_OK) rc = ms_buf_flush(&st);
        uint32_t end[2] = {0, 0};
        if (rc == MS_OK) rc = out_bytes(w, end, sizeof end);
    }
    if (rc == MS_OK) rc = out_bytes(w, b.data, b.len);
    uint64_t sum = XXH64_digest(w->h);
    if (rc == MS_OK && fwrite(&sum, 1, sizeof sum, w->f.fp) != sizeof sum)
        rc = ms_error_errno(MS_E_IO, errno, "cannot write %s", w->path);
    ms_buf_free(&b);
    ms_buf_free(&st);
    free(zbuf);
    return rc;
}

ms_status_t ms_partial_write(const char *state_dir, const ms_partial_t *p, const ms_model_t *const *models)
{
    char path[4096];
    part_path(state_dir, p->index, "partial", path, sizeof path);
    writer_t w = {.h = XXH64_createState(), .path = path};
    if (!w.h) return ms_error_set(MS_E_NOMEM, "out of memory");
    XXH64_reset(w.h, 0);
    ms_status_t st = ms_afile_open(&w.f, path);
    if (st == MS_OK) {
        st = write_body(&w, p, models);
        /* No fsync per partition: a partial a power loss damages or loses
         * fails its checksum or is missing, and --resume sweeps that
         * partition again (ms_sweep.c, resume_partition). */
        if (st == MS_OK) st = ms_afile_commit_unsynced(&w.f);
        else ms_afile_abort(&w.f);
    }
    XXH64_freeState(w.h);
    return st;
}

/* A partial read as a stream, hashed as it goes: bytes are taken in the
 * pieces the format has (header fields, one model's state at a time), so
 * reading holds at most one model's saved bytes. */
typedef struct {
    FILE *fp;
    XXH64_state_t *h;
    uint64_t left;             /* bytes before the trailing checksum */
    const char *path;
} reader_t;

static int take(reader_t *r, void *out, size_t n)
{
    if (r->left < n || fread(out, 1, n, r->fp) != n) return -1;
    XXH64_update(r->h, out, n);
    r->left -= n;
    return 0;
}

/* Open partition index's partial: its size known, its magic checked. */
static ms_status_t reader_open(reader_t *r, const char *path)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->fp = fopen(path, "rb");
    if (!r->fp) return ms_error_errno(MS_E_IO, errno, "cannot open %s", path);
    long n = fseek(r->fp, 0, SEEK_END) == 0 ? ftell(r->fp) : -1;
    r->h = XXH64_createState();
    if (!r->h) return ms_error_set(MS_E_NOMEM, "out of memory");
    XXH64_reset(r->h, 0);
    if (n < 0 || fseek(r->fp, 0, SEEK_SET) != 0) return ms_error_set(MS_E_CORRUPT, "%s: cannot read", path);
    char magic[8];
    if (n < 8 + 4 + 8) return ms_error_set(MS_E_CORRUPT, "%s: not a partial", path);
    r->left = (uint64_t)n - 8;
    if (take(r, magic, 8) || memcmp(magic, MAGIC, 8) != 0) return ms_error_set(MS_E_CORRUPT, "%s: not a partial", path);
    return MS_OK;
}

/* Hash whatever is left before the checksum and compare: MS_OK when the
 * file is whole. */
static ms_status_t reader_finish(reader_t *r)
{
    unsigned char buf[1 << 16];
    while (r->left) {
        size_t n = r->left < sizeof buf ? (size_t)r->left : sizeof buf;
        if (take(r, buf, n)) return ms_error_set(MS_E_CORRUPT, "%s: cannot read", r->path);
    }
    uint64_t sum;
    if (fread(&sum, 1, sizeof sum, r->fp) != sizeof sum) return ms_error_set(MS_E_CORRUPT, "%s: cannot read", r->path);
    if (XXH64_digest(r->h) != sum) return ms_error_set(MS_E_CORRUPT, "%s: checksum mismatch", r->path);
    return MS_OK;
}

static void reader_close(reader_t *r)
{
    if (r->fp) fclose(r->fp);
    if (r->h) XXH64_freeState(r->h);
    memset(r, 0, sizeof *r);
}

ms_status_t ms_partial_check(const char *state_dir, uint32_t index)
{
    char path[4096];
    part_path(state_dir, index, "partial", path, sizeof path);
    reader_t r;
    uint32_t at = 0;
    ms_status_t st = reader_open(&r, path);
    int named = st == MS_OK && take(&r, &at, sizeof at) == 0;
    if (st == MS_OK) st = reader_finish(&r);
    if (st == MS_OK && (!named || at != index)) st = ms_error_set(MS_E_CORRUPT, "%s: written for partition %u", path, at);
    reader_close(&r);
    return st;
}

/* One model's saved bytes (*len of them) into *data (*cap bytes, made
 * exactly as large when short), decompressed block by block: the blocks
 * are read first into z (compressed, a fraction of the state), so that
 * the state's length is known before its buffer is made (a buffer grown
 * block by block left the sizes before it resident). */
static ms_status_t in_compressed(reader_t *r, unsigned char **data, size_t *cap, size_t *len, ms_buf_t *z)
{
    int bound = LZ4_compressBound((int)BLOCK);
    uint64_t raw = 0;
    z->len = 0;
    for (;;) {
        uint32_t head[2];
        if (take(r, head, sizeof head)) return ms_error_set(MS_E_CORRUPT, "%s: a saved state is truncated", r->path);
        if (head[0] == 0 && head[1] == 0) break;
        /* LZ4 expands a byte to at most 255: a block past that is damage. */
        if (head[0] == 0 || head[0] > BLOCK || head[1] == 0 || head[1] > (uint32_t)bound || head[0] / 255 > head[1] ||
            head[1] > r->left)
            return ms_error_set(MS_E_CORRUPT, "%s: a saved state is truncated", r->path);
        if (ms_grow(&z->data, &z->cap, z->len + sizeof head + head[1], 1, (size_t)1 << 20) != MS_OK)
            return ms_error_set(MS_E_NOMEM, "out of memory reading %s", r->path);
        memcpy(z->data + z->len, head, sizeof head);
        if (take(r, z->data + z->len + sizeof head, head[1]))
            return ms_error_set(MS_E_CORRUPT, "%s: a saved state is truncated", r->path);
        z->len += sizeof head + head[1];
        raw += head[0];
    }
    if (raw > *cap) {
        free(*data);
        *cap = 0;
        *data = malloc((size_t)raw);
        if (!*data) return ms_error_set(MS_E_NOMEM, "out of memory reading %s", r->path);
        *cap = (size_t)raw;
    }
    size_t off = 0;
    for (size_t at = 0; at < z->len;) {
        uint32_t head[2];
        memcpy(head, z->data + at, sizeof head);
        int n = LZ4_decompress_safe((const char *)z->data + at + sizeof head, (char *)*data + off, (int)head[1],
                                    (int)head[0]);
        if (n != (int)head[0]) return ms_error_set(MS_E_CORRUPT, "%s: a saved state is damaged", r->path);
        off += head[0];
        at += sizeof head + head[1];
    }
    *len = off;
    return MS_OK;
}

/* The models' states, loaded one by one from r (after the header). */
static ms_status_t read_states(reader_t *r, const ms_model_t *const *models, int nmodels, const ms_model_env_t *env,
                               ms_partial_t *p)
{
    unsigned char *data = NULL;
    size_t cap = 0, len = 0;
    ms_buf_t z = {0};
    ms_status_t st = MS_OK;
    for (int m = 0; st == MS_OK && m < nmodels; m++) {
        uint32_t nl;
        char name[128];
        if (take(r, &nl, sizeof nl) || nl >= sizeof name || take(r, name, nl)) {
            st = ms_error_set(MS_E_CORRUPT, "%s: truncated", r->path);
            break;
        }
        name[nl] = '\0';
        if (strcmp(name, models[m]->name)) {
            st = ms_error_set(MS_E_CORRUPT, "%s: written for other models", r->path);
            break;
        }
        st = in_compressed(r, &data, &cap, &len, &z);
        if (st != MS_OK) break;
        st = models[m]->init(&env[m], &p->states[m]);
        if (st == MS_OK) st = models[m]->load(p->states[m], data, len);
        if (st != MS_OK) ms_error_wrap(st, "%s: model %s: ", r->path, models[m]->name);
    }
    free(data);
    ms_buf_free(&z);
    /* ms_partial_write ends with the last model's state. */
    if (st == MS_OK && r->left)
        st = ms_error_set(MS_E_CORRUPT, "%s: %llu bytes after the last model's state", r->path,
                          (unsigned long long)r->left);
    return st;
}

ms_status_t ms_partial_read(const char *state_dir, uint32_t index, const ms_model_t *const *models,
                            int nmodels, const ms_model_env_t *env, ms_partial_t *p)
{
    memset(p, 0, sizeof *p);
    char path[4096];
    part_path(state_dir, index, "partial", path, sizeof path);
    reader_t r;
    ms_status_t st = reader_open(&r, path);
    int opened = st == MS_OK;
    uint32_t nm = 0;
    int header = st == MS_OK && !take(&r, &p->index, sizeof p->index) && !take(&r, p->rows, sizeof p->rows) &&
                 !take(&r, p->rejected, sizeof p->rejected) && !take(&r, &nm, sizeof nm);
    if (st == MS_OK && (!header || p->index != index || nm != (uint32_t)nmodels))
        st = ms_error_set(MS_E_CORRUPT, "%s: written for another sweep", path);
    if (st == MS_OK) {
        p->states = calloc((size_t)nmodels, sizeof *p->states);
        if (!p->states) st = ms_error_set(MS_E_NOMEM, "out of memory");
        else p->nmodels = nmodels;
    }
    if (st == MS_OK) st = read_states(&r, models, nmodels, env, p);
    /* The checksum is known only at the end: a damaged file is named as
     * such whatever its bytes made a model's load say first, and a whole
     * one written for another partition says so. */
    if (st == MS_E_CORRUPT && opened) {
        ms_status_t whole = reader_finish(&r);
        if (whole != MS_OK) st = whole;
        else if (header && p->index != index)
            st = ms_error_set(MS_E_CORRUPT, "%s: written for partition %u", path, p->index);
    } else if (st == MS_OK) {
        st = reader_finish(&r);
    }
    reader_close(&r);
    if (st != MS_OK) ms_partial_free(p, models);
    return st;
}

void ms_partial_free(ms_partial_t *p, const ms_model_t *const *models)
{
    for (int m = 0; p->states && m < p->nmodels; m++)
        if (p->states[m]) models[m]->free(p->states[m]);
    free(p->states);
    memset(p, 0, sizeof *p);
}

ms_status_t ms_partial_mark_skipped(const char *state_dir, uint32_t index, const char *why)
{
    char path[4096];
    part_path(state_dir, index, "skipped", path, sizeof path);
    ms_afile_t f;
    MS_TRY(ms_afile_open(&f, path));
    fprintf(f.fp, "%s\n", why);
    return ms_afile_commit(&f);
}

ms_status_t ms_partial_remove(const char *state_dir, uint32_t index)
{
    char path[4096];
    part_path(state_dir, index, "partial", path, sizeof path);
    if (unlink(path) != 0 && errno != ENOENT) return ms_error_errno(MS_E_IO, errno, "cannot remove %s", path);
    return MS_OK;
}

ms_status_t ms_partial_unmark_skipped(const char *state_dir, uint32_t index)
{
    char path[4096];
    part_path(state_dir, index, "skipped", path, sizeof path);
    if (unlink(path) != 0 && errno != ENOENT) return ms_error_errno(MS_E_IO, errno, "cannot remove %s", path);
    return MS_OK;
}

int ms_partial_skipped(const char *state_dir, uint32_t index, char *why, size_t cap)
{
    char path[4096];
    part_path(state_dir, index, "skipped", path, sizeof path);
    FILE *fp = fopen(path, "r");
    if (!fp) return 0;
    if (!fgets(why, (int)cap, fp)) why[0] = '\0';
    why[strcspn(why, "\n")] = '\0';
    fclose(fp);
    return 1;
}

ms_status_t ms_manifest_write(const char *state_dir, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest", state_dir);
    ms_afile_t f;
    MS_TRY(ms_afile_open(&f, path));
    fputs(text, f.fp);
    return ms_afile_commit(&f);
}

ms_status_t ms_manifest_check(const char *state_dir, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest", state_dir);
    FILE *fp = fopen(path, "r");
    if (!fp) return ms_error_set(MS_E_MISMATCH, "%s is missing: nothing to resume", path);
    char line[4096];
    const char *want = text;
    ms_status_t st = MS_OK;
    while (st == MS_OK && fgets(line, sizeof line, fp)) {
        size_t n = strcspn(want, "\n");
        if (strncmp(line, want, n) != 0 || line[n] != '\n')
            st = ms_error_set(MS_E_MISMATCH,
                              "cannot resume: the interrupted sweep had '%.*s', this one has '%.*s' "
                              "(start over with --replace)",
                              (int)strcspn(line, "\n"), line, (int)n, want);
        want += n + (want[n] == '\n');
    }
    fclose(fp);
    if (st == MS_OK && *want)
        st = ms_error_set(MS_E_MISMATCH, "cannot resume: the interrupted sweep's manifest is incomplete");
    return st;
}
