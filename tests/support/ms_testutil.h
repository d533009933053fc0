/*
 * ms_testutil.h - helpers shared by the tests.
 */
#ifndef MS_TESTUTIL_H
#define MS_TESTUTIL_H

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

/* Read a whole file (caller frees); NULL on error. */
char *ms_test_slurp(const char *path, size_t *len);
/* Write a whole file; 0 or -1. */
int ms_test_write_file(const char *path, const char *text);

/* The medsweep binary under test ($MS_BIN). */
const char *ms_test_bin(void);

#endif
