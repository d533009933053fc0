/*
 * ms_testutil.h - helpers shared by the tests.
 */
#ifndef MS_TESTUTIL_H
#define MS_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* A fresh empty directory for one test: $MS_TEST_TMP/<name>-<pid> (or /tmp).
 * Returns a static buffer's copy (caller frees). */
char *ms_test_dir(const char *name);

/* Deterministic PRNG (splitmix64) for test data. */
uint64_t ms_test_rand(uint64_t *state);
/* Uniform in [0, n). */
uint64_t ms_test_below(uint64_t *state, uint64_t n);

/* Run a shell command; returns its exit status (or -1), and its stdout and
 * stderr together in *out (caller frees) when out is not NULL. */
int ms_test_run(const char *cmd, char **out);

/* Array v of *cap elements of size bytes, grown (doubling from 64) to hold
 * element n; returns it (the same or moved, as realloc). */
void *ms_test_grow(void *v, size_t *cap, size_t n, size_t size);

/* Read a whole file (caller frees); NULL on error. */
char *ms_test_slurp(const char *path, size_t *len);
/* Write a whole file; 0 or -1. */
int ms_test_write_file(const char *path, const char *text);

/* Write dir/name whole, failing the test when it cannot. */
void ms_test_put(const char *dir, const char *name, const char *text);

/* Replace the first occurrence of old in dir/name by the nlen bytes of
 * new_text (which may hold a NUL byte), failing the test (naming old and
 * the file) when old is not there. */
void ms_test_replace(const char *dir, const char *name, const char *old, const char *new_text, size_t nlen);

/* The medsweep binary under test ($MS_BIN). */
const char *ms_test_bin(void);

/* ms_test_run, asserting exit status 0 (the command and its output are
 * printed when not); the output in *out when out is not NULL (caller frees). */
void ms_test_run_ok(const char *cmd, char **out);
/* Run `$MS_BIN <args>`, args formatted as by printf: exit status and output
 * as ms_test_run. */
int ms_test_cli(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same, asserting exit status 0 as ms_test_run_ok does. */
void ms_test_cli_ok(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The whole of dir/name (caller frees), failing the test when it cannot be
 * read; its length in *len when len is not NULL. */
char *ms_test_read(const char *dir, const char *name, size_t *len);
/* text contains piece (asserted; the text is printed when it does not). */
void ms_test_contains(const char *text, const char *piece);
/* The same for every piece of a va_list that ends with NULL. */
void ms_test_contains_v(const char *text, va_list pieces);
/* a/name and b/name have the same bytes, for every name of the list that
 * ends with NULL (the first difference is printed when they do not). */
void ms_test_same_files(const char *a, const char *b, ...) __attribute__((sentinel));

/* A group fixture's teardown, for a state struct that begins with
 * `char *dir` from ms_test_dir and owns nothing else: removes the tree,
 * frees dir and the struct. */
int ms_test_dir_teardown(void **state);

#endif
