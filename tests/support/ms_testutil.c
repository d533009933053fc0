#include "ms_testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ms_fs.h"

char *ms_test_dir(const char *name)
{
    const char *base = getenv("MS_TEST_TMP");
    if (!base || !*base) base = "/tmp/medsweep-tests";
    size_t n = strlen(base) + strlen(name) + 32;
    char *dir = malloc(n);
    if (!dir) return NULL;
    snprintf(dir, n, "%s/%s-%ld", base, name, (long)getpid());
    ms_remove_tree(dir);
    if (ms_mkdirs(dir) != MS_OK) {
        free(dir);
        return NULL;
    }
    return dir;
}

uint64_t ms_test_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t ms_test_below(uint64_t *s, uint64_t n) { return n ? ms_test_rand(s) % n : 0; }

int ms_test_run(const char *cmd, char **out)
{
    size_t n = strlen(cmd) + 16;
    char *full = malloc(n);
    if (!full) return -1;
    snprintf(full, n, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    free(full);
    if (!p) return -1;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += got;
        if (cap - len < 1024) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) break;
            buf = nb;
        }
    }
    if (buf) buf[len] = '\0';
    int rc = pclose(p);
    if (out) *out = buf;
    else free(buf);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

char *ms_test_slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    if (buf) {
        buf[n] = '\0';
        if (len) *len = (size_t)n;
    }
    return buf;
}

int ms_test_write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    if (!fp) return -1;
    size_t n = strlen(text);
    int rc = fwrite(text, 1, n, fp) == n ? 0 : -1;
    if (fclose(fp) != 0) rc = -1;
    return rc;
}

const char *ms_test_bin(void)
{
    const char *b = getenv("MS_BIN");
    return b && *b ? b : "medsweep";
}
