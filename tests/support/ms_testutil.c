#include "ms_testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

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

void *ms_test_grow(void *v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) return v;
    while (*cap <= n) *cap = *cap ? *cap * 2 : 64;
    void *grown = realloc(v, *cap * size);
    assert_non_null(grown);
    return grown;
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

void ms_test_put(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(ms_test_write_file(path, text), 0);
}

void ms_test_replace(const char *dir, const char *name, const char *old, const char *new_text, size_t nlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len = 0;
    char *text = ms_test_slurp(path, &len);
    assert_non_null(text);
    char *at = strstr(text, old);
    if (!at) print_error("'%s' not in %s\n", old, name);
    assert_non_null(at);
    size_t head = (size_t)(at - text), tail = len - head - strlen(old);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, head, fp), head);
    assert_int_equal(fwrite(new_text, 1, nlen, fp), nlen);
    assert_int_equal(fwrite(at + strlen(old), 1, tail, fp), tail);
    assert_int_equal(fclose(fp), 0);
    free(text);
}

const char *ms_test_bin(void)
{
    const char *b = getenv("MS_BIN");
    return b && *b ? b : "medsweep";
}

static int run_ok(const char *cmd, char **out)
{
    char *log = NULL;
    int rc = ms_test_run(cmd, &log);
    if (rc) print_error("%s\n%s\n", cmd, log ? log : "");
    if (out) *out = log;
    else free(log);
    return rc;
}

void ms_test_run_ok(const char *cmd, char **out) { assert_int_equal(run_ok(cmd, out), 0); }

/* "$MS_BIN " and the formatted arguments (caller frees). */
__attribute__((format(printf, 1, 0))) static char *cli_command(const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    const char *bin = ms_test_bin();
    int n = vsnprintf(NULL, 0, fmt, ap);
    size_t len = strlen(bin) + 1 + (size_t)(n < 0 ? 0 : n) + 1;
    char *cmd = malloc(len);
    assert_non_null(cmd);
    int at = snprintf(cmd, len, "%s ", bin);
    vsnprintf(cmd + at, len - (size_t)at, fmt, again);
    va_end(again);
    return cmd;
}

/* Run `$MS_BIN <args>` as ms_test_run (ok: as ms_test_run_ok, returning 0). */
__attribute__((format(printf, 3, 0))) static int cli(int ok, char **out, const char *fmt, va_list ap)
{
    char *cmd = cli_command(fmt, ap);
    int rc = ok ? run_ok(cmd, out) : ms_test_run(cmd, out);
    free(cmd);
    if (ok) assert_int_equal(rc, 0);
    return rc;
}

int ms_test_cli(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cli(0, out, fmt, ap);
    va_end(ap);
    return rc;
}

void ms_test_cli_ok(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli(1, out, fmt, ap);
    va_end(ap);
}

char *ms_test_read(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = ms_test_slurp(path, len);
    if (!text) print_error("cannot read %s\n", path);
    assert_non_null(text);
    return text;
}

void ms_test_contains(const char *text, const char *piece)
{
    if (!strstr(text, piece)) print_error("'%s' not in:\n%s\n", piece, text);
    assert_non_null(strstr(text, piece));
}

void ms_test_contains_v(const char *text, va_list pieces)
{
    for (const char *piece; (piece = va_arg(pieces, const char *)) != NULL;) ms_test_contains(text, piece);
}

void ms_test_same_files(const char *a, const char *b, ...)
{
    va_list ap;
    va_start(ap, b);
    for (const char *name; (name = va_arg(ap, const char *)) != NULL;) {
        size_t la = 0, lb = 0, at = 0;
        char *x = ms_test_read(a, name, &la), *y = ms_test_read(b, name, &lb);
        while (at < la && at < lb && x[at] == y[at]) at++;
        if (la != lb || at < la)
            print_error("%s/%s (%zu bytes) and %s/%s (%zu bytes) differ at byte %zu\n", a, name, la, b, name, lb, at);
        assert_int_equal(la, lb);
        assert_int_equal(at, la); /* no byte differs */
        free(x), free(y);
    }
    va_end(ap);
}

int ms_test_dir_teardown(void **state)
{
    char **dir = *state; /* the struct's first member */
    ms_remove_tree(*dir);
    free(*dir);
    free(*state);
    return 0;
}
