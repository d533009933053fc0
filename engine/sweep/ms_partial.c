#include "ms_partial.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "ms_fs.h"

#define MAGIC "MSPART01"

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

ms_status_t ms_partial_write(const char *state_dir, const ms_partial_t *p, const ms_model_t *const *models)
{
    ms_buf_t b = {0};
    ms_status_t st = ms_buf_put(&b, MAGIC, 8);
    if (st == MS_OK) st = ms_buf_put(&b, &p->index, sizeof p->index);
    if (st == MS_OK) st = ms_buf_put(&b, p->rows, sizeof p->rows);
    if (st == MS_OK) st = ms_buf_put(&b, p->rejected, sizeof p->rejected);
    uint32_t nm = (uint32_t)p->nmodels;
    if (st == MS_OK) st = ms_buf_put(&b, &nm, sizeof nm);
    for (int m = 0; st == MS_OK && m < p->nmodels; m++) {
        uint32_t nl = (uint32_t)strlen(models[m]->name);
        size_t at = b.len;
        uint64_t len = 0;
        st = ms_buf_put(&b, &nl, sizeof nl);
        if (st == MS_OK) st = ms_buf_put(&b, models[m]->name, nl);
        if (st == MS_OK) {
            at = b.len;
            st = ms_buf_put(&b, &len, sizeof len);
        }
        if (st == MS_OK) st = models[m]->save(p->states[m], &b);
        if (st == MS_OK) {
            len = b.len - at - sizeof len;
            memcpy(b.data + at, &len, sizeof len);
        }
    }
    uint64_t sum = st == MS_OK ? XXH64(b.data, b.len, 0) : 0;
    if (st == MS_OK) st = ms_buf_put(&b, &sum, sizeof sum);
    char path[4096];
    part_path(state_dir, p->index, "partial", path, sizeof path);
    ms_afile_t f;
    if (st == MS_OK) st = ms_afile_open(&f, path);
    if (st == MS_OK) {
        if (fwrite(b.data, 1, b.len, f.fp) != b.len) {
            st = ms_error_errno(MS_E_IO, errno, "cannot write %s", path);
            ms_afile_abort(&f);
        } else {
            /* No fsync per partition: a partial a power loss damages or
             * loses fails its checksum or is missing, and --resume sweeps
             * that partition again (ms_sweep.c, resume_partition). */
            st = ms_afile_commit_unsynced(&f);
        }
    }
    ms_buf_free(&b);
    return st;
}

/* A cursor over the file's bytes. */
typedef struct {
    const unsigned char *p;
    size_t left;
} cur_t;

static int take(cur_t *c, void *out, size_t n)
{
    if (c->left < n) return -1;
    memcpy(out, c->p, n);
    c->p += n;
    c->left -= n;
    return 0;
}

/* The bytes of partition index's partial, whole (its magic and xxh64 are
 * right and it names that partition), in *data (caller frees) and *size. */
static ms_status_t load_bytes(const char *state_dir, uint32_t index, unsigned char **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    char path[4096];
    part_path(state_dir, index, "partial", path, sizeof path);
    FILE *fp = fopen(path, "rb");
    if (!fp) return ms_error_errno(MS_E_IO, errno, "cannot open %s", path);
    long n = fseek(fp, 0, SEEK_END) == 0 ? ftell(fp) : -1;
    unsigned char *d = n > 0 && fseek(fp, 0, SEEK_SET) == 0 ? malloc((size_t)n) : NULL;
    int ok = d && fread(d, 1, (size_t)n, fp) == (size_t)n;
    fclose(fp);
    ms_status_t st = MS_OK;
    uint32_t at;
    uint64_t sum;
    if (n > 0 && !d) st = ms_error_set(MS_E_NOMEM, "out of memory reading %s", path);
    else if (!ok) st = ms_error_set(MS_E_CORRUPT, "%s: cannot read", path);
    else if (n < 8 + 4 + 8 || memcmp(d, MAGIC, 8) != 0) st = ms_error_set(MS_E_CORRUPT, "%s: not a partial", path);
    else if (memcpy(&sum, d + n - 8, 8), XXH64(d, (size_t)n - 8, 0) != sum)
        st = ms_error_set(MS_E_CORRUPT, "%s: checksum mismatch", path);
    else if (memcpy(&at, d + 8, 4), at != index)
        st = ms_error_set(MS_E_CORRUPT, "%s: written for partition %u", path, at);
    if (st != MS_OK) {
        free(d);
        return st;
    }
    *data = d;
    *size = (size_t)n;
    return MS_OK;
}

ms_status_t ms_partial_check(const char *state_dir, uint32_t index)
{
    unsigned char *data;
    size_t size;
    MS_TRY(load_bytes(state_dir, index, &data, &size));
    free(data);
    return MS_OK;
}

ms_status_t ms_partial_read(const char *state_dir, uint32_t index, const ms_model_t *const *models,
                            int nmodels, const ms_model_env_t *env, ms_partial_t *p)
{
    memset(p, 0, sizeof *p);
    char path[4096];
    part_path(state_dir, index, "partial", path, sizeof path);
    unsigned char *data;
    size_t size;
    MS_TRY(load_bytes(state_dir, index, &data, &size));
    ms_status_t st = MS_OK;
    cur_t c = {data + 8, size - 16};
    uint32_t nm = 0;
    if (st == MS_OK && (take(&c, &p->index, sizeof p->index) || take(&c, p->rows, sizeof p->rows) ||
                        take(&c, p->rejected, sizeof p->rejected) || take(&c, &nm, sizeof nm) ||
                        p->index != index || nm != (uint32_t)nmodels))
        st = ms_error_set(MS_E_CORRUPT, "%s: written for another sweep", path);
    if (st == MS_OK) {
        p->states = calloc((size_t)nmodels, sizeof *p->states);
        if (!p->states) st = ms_error_set(MS_E_NOMEM, "out of memory");
        else p->nmodels = nmodels;
    }
    for (int m = 0; st == MS_OK && m < nmodels; m++) {
        uint32_t nl;
        uint64_t len;
        char name[128];
        if (take(&c, &nl, sizeof nl) || nl >= sizeof name || take(&c, name, nl)) {
            st = ms_error_set(MS_E_CORRUPT, "%s: truncated", path);
            break;
        }
        name[nl] = '\0';
        if (strcmp(name, models[m]->name) || take(&c, &len, sizeof len) || len > c.left) {
            st = ms_error_set(MS_E_CORRUPT, "%s: written for other models", path);
            break;
        }
        st = models[m]->init(&env[m], &p->states[m]);
        if (st == MS_OK) st = models[m]->load(p->states[m], c.p, (size_t)len);
        if (st != MS_OK) ms_error_wrap(st, "%s: model %s: ", path, models[m]->name);
        c.p += len;
        c.left -= len;
    }
    /* ms_partial_write ends with the last model's state. */
    if (st == MS_OK && c.left)
        st = ms_error_set(MS_E_CORRUPT, "%s: %zu bytes after the last model's state", path, c.left);
    free(data);
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
