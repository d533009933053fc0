/*
 * test_sweep.c - medsweep sweep, through the real program.
 *
 * What must hold: the output is byte-identical for 1, 2 and 3 threads and
 * for synthetic 2- and 4-node topologies; the volume model's figures equal
 * an independent count; a sweep killed with SIGKILL at any point finishes
 * with --resume to the same bytes; an unreadable partition stops the sweep
 * naming it, or with --skip-bad is excluded and reported, and so is a
 * partition file missing from one table or one the dataset does not have;
 * rows that break the contract are counted by reason and left out; an
 * earlier output is replaced only when asked, and only by a sweep that
 * finished (killed or failed, it leaves the earlier one as it was); a
 * second sweep into the same OUT is refused while one runs; the shipped
 * program has no test hooks (the kill tests run medsweep-testhooks,
 * $MS_BIN_HOOKS).  The progress reports are read through the library
 * (ms_sweep with a callback): the time left is guessed only once a
 * partition has ended.
 */
#include <setjmp.h>
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "ms_dataset.h"
#include "ms_fs.h"
#include "ms_kernels.h"
#include "ms_part.h"
#include "ms_reader.h"
#include "ms_sweep.h"
#include "ms_testcsv.h"
#include "ms_testdata.h"
#include "ms_testsweep.h"
#include "ms_testutil.h"

typedef struct {
    char *dir;        /* first: ms_test_dir_teardown frees it */
    char data[600];   /* a generated world, 6 partitions */
    char ref[600];    /* its sweep with 1 thread */
} fx_t;

static int sweep(const char *data, const char *out, const char *extra, char **log)
{
    return ms_test_cli(log, "sweep %s --out %s --quiet %s", data, out, extra);
}

/* The sweep exits with rc, its output saying every piece of the list that
 * ends with NULL. */
__attribute__((sentinel)) static void sweep_says(const char *data, const char *out, const char *extra, int rc, ...)
{
    char *log = NULL;
    assert_int_equal(sweep(data, out, extra, &log), rc);
    va_list ap;
    va_start(ap, rc);
    ms_test_contains_v(log, ap);
    va_end(ap);
    free(log);
}

/* out/run.json says every piece of the list that ends with NULL. */
__attribute__((sentinel)) static void json_says(const char *out, ...)
{
    char *json = ms_test_read(out, "run.json", NULL);
    va_list ap;
    va_start(ap, out);
    ms_test_contains_v(json, ap);
    va_end(ap);
    free(json);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    f->dir = ms_test_dir("sweep");
    snprintf(f->data, sizeof f->data, "%s/data", f->dir);
    snprintf(f->ref, sizeof f->ref, "%s/ref", f->dir);
    if (ms_test_cli(NULL, "gen --out %s --persons 40000 --institutions 150 --partitions 6 --quiet", f->data))
        return -1;
    char *log = NULL;
    if (sweep(f->data, f->ref, "--threads 1", &log)) {
        fprintf(stderr, "%s\n", log);
        return -1;
    }
    free(log);
    *state = f;
    return 0;
}

static void same_output(const fx_t *f, const char *out)
{
    ms_test_same_files(f->ref, out, "indicators.csv", "clues.csv", "ranked.csv", "ranked_false_hosp.csv",
                       "features.h5", NULL);
    /* The sweep finished: no state is left behind, and no temporary. */
    char b[1024];
    snprintf(b, sizeof b, "%s/.sweep-state", out);
    assert_false(ms_path_exists(b));
    char *listing = NULL;
    snprintf(b, sizeof b, "ls -A %s | grep -c '\\.tmp' || true", out);
    ms_test_run_ok(b, &listing);
    assert_string_equal(listing, "0\n");
    free(listing);
}

/* Sweep f->data into out with extra (exit status 0 asserted; the command and
 * its log are printed when not): the reference's bytes. */
static void sweep_same(const fx_t *f, const char *out, const char *extra)
{
    ms_test_cli_ok(NULL, "sweep %s --out %s --quiet %s", f->data, out, extra);
    same_output(f, out);
}

static void test_determinism_matrix(void **state)
{
    fx_t *f = *state;
    const char *variants[] = {"--threads 2", "--threads 3", "--threads 2 --batch-rows 1000",
                              "--threads 3 --topology 'node:2 core:8 pu:1'",
                              "--threads 4 --topology 'node:4 core:4 pu:1'", "--threads 2 --read-mode h5"};
    for (size_t i = 0; i < sizeof variants / sizeof *variants; i++) {
        char out[700];
        snprintf(out, sizeof out, "%s/det%zu", f->dir, i);
        sweep_same(f, out, variants[i]);
    }
}

/* Every kernel set this CPU runs gives the reference's bytes (the sets
 * differ only in speed), with one thread and with three; a set that is not
 * one, or that the CPU cannot run, is refused before anything is read. */
static void test_kernel_sets_agree(void **state)
{
    fx_t *f = *state;
    for (int s = MS_ISA_REF; s < MS_ISA_COUNT; s++) {
        if (!ms_kernels_for((ms_isa_t)s)) continue;
        setenv("MS_KERNELS", ms_isa_name((ms_isa_t)s), 1);
        for (int threads = 1; threads <= 3; threads += 2) {
            char out[700], extra[32];
            snprintf(out, sizeof out, "%s/kernels-%s-%d", f->dir, ms_isa_name((ms_isa_t)s), threads);
            snprintf(extra, sizeof extra, "--threads %d", threads);
            sweep_same(f, out, extra);
            char says[64];
            snprintf(says, sizeof says, "\"kernels\": \"%s\"", ms_isa_name((ms_isa_t)s));
            json_says(out, says, NULL);
        }
    }
    char out[700];
    snprintf(out, sizeof out, "%s/kernels-bad", f->dir);
    setenv("MS_KERNELS", "avx9", 1);
    sweep_says(f->data, out, "", 2, "MS_KERNELS=avx9 is not a kernel set", NULL);
    assert_false(ms_path_exists(out));
    unsetenv("MS_KERNELS");
}

/* The volume figures against a count made here, straight from the files. */
static void test_volume_is_exact(void **state)
{
    fx_t *f = *state;
    ms_dataset_t ds;
    assert_int_equal(ms_dataset_open(f->data, &ds), MS_OK);
    size_t n = ds.refs.n_inst;
    int64_t *count = calloc(n, sizeof *count), *fund = calloc(n, sizeof *fund), *inpat = calloc(n, sizeof *inpat);
    ms_settlement_t *rows = NULL;
    size_t nrows = 0;
    assert_int_equal(ms_testdata_load(&ds, MS_TABLE_SETTLEMENTS, (void **)&rows, &nrows), MS_OK);
    for (size_t i = 0; i < nrows; i++) {
        count[rows[i].inst_code]++;
        fund[rows[i].inst_code] += rows[i].fund_pay;
        inpat[rows[i].inst_code] += rows[i].visit_type == MS_VISIT_INPATIENT;
    }
    free(rows);
    ms_testcsv_t *ind = ms_testcsv_read(f->ref, "indicators.csv");
    size_t checked = 0;
    for (size_t r = 0; r < ms_testcsv_rows(ind); r++) {
        if (!ms_testcsv_is(ind, r, "model", "volume")) continue;
        const char *code = ms_testcsv_get(ind, r, "inst_code"), *name = ms_testcsv_get(ind, r, "indicator");
        long long num = ms_testcsv_ll(ind, r, "numerator"), den = ms_testcsv_ll(ind, r, "denominator");
        int32_t id = ms_refs_inst_find(&ds.refs, code, strlen(code));
        assert_true(id >= 0);
        if (!strcmp(name, "settlements")) assert_int_equal(num, count[id]), checked++;
        if (!strcmp(name, "fund_payment")) { /* in yuan, exact to the fen */
            char want[32];
            ms_money_format(fund[id], want);
            assert_string_equal(ms_testcsv_get(ind, r, "numerator"), want);
            assert_string_equal(ms_testcsv_get(ind, r, "numerator_unit"), "yuan");
            checked++;
        }
        if (!strcmp(name, "inpatient_stays")) {
            assert_int_equal(num, inpat[id]);
            assert_int_equal(den, count[id]);
            checked++;
        }
    }
    ms_testcsv_free(ind);
    size_t with = 0;
    for (size_t i = 0; i < n; i++) with += count[i] > 0;
    assert_true(checked >= 2 * with); /* every active institution seen */
    free(count), free(fund), free(inpat);
    ms_dataset_close(&ds);
}

/* Overloaded doctor-days against a count made here: sort every
 * (doctor, visit type, day) of the dataset and flag groups over the ceiling. */
typedef struct {
    uint32_t doctor;
    uint8_t vt;
    int32_t day, inst;
} dd_t;

static int cmp_dd(const void *a, const void *b)
{
    const dd_t *x = a, *y = b;
    if (x->doctor != y->doctor) return x->doctor < y->doctor ? -1 : 1;
    if (x->vt != y->vt) return x->vt < y->vt ? -1 : 1;
    return x->day < y->day ? -1 : x->day > y->day;
}

static void test_overload_is_exact(void **state)
{
    fx_t *f = *state;
    ms_dataset_t ds;
    assert_int_equal(ms_dataset_open(f->data, &ds), MS_OK);
    size_t cap = 1 << 20, n = 0;
    dd_t *v = malloc(cap * sizeof *v);
    int64_t *den = calloc(ds.refs.n_inst, sizeof *den), *num = calloc(ds.refs.n_inst, sizeof *num);
    ms_settlement_t *rows = NULL;
    size_t nrows = 0;
    assert_int_equal(ms_testdata_load(&ds, MS_TABLE_SETTLEMENTS, (void **)&rows, &nrows), MS_OK);
    for (size_t i = 0; i < nrows; i++) {
        const ms_settlement_t *x = &rows[i];
        if (!x->doctor_id) continue;
        den[x->inst_code]++;
        if (n == cap) v = realloc(v, (cap *= 2) * sizeof *v);
        v[n++] = (dd_t){x->doctor_id, x->visit_type, x->settle_date, x->inst_code};
    }
    free(rows);
    qsort(v, n, sizeof *v, cmp_dd);
    const size_t ceiling[3] = {60, 30, 200};
    size_t flagged = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && !cmp_dd(&v[i], &v[j])) j++;
        if (j - i > ceiling[v[i].vt])
            for (size_t k = i; k < j; k++) num[v[k].inst]++, flagged++;
        i = j;
    }
    assert_true(flagged > 0); /* the world has a cheating institution */
    ms_testcsv_t *ind = ms_testcsv_read(f->ref, "indicators.csv");
    size_t seen = 0;
    for (size_t r = 0; r < ms_testcsv_rows(ind); r++) {
        if (!ms_testcsv_is(ind, r, "model", "overload")) continue;
        const char *code = ms_testcsv_get(ind, r, "inst_code");
        int32_t id = ms_refs_inst_find(&ds.refs, code, strlen(code));
        assert_true(id >= 0);
        assert_int_equal(ms_testcsv_ll(ind, r, "numerator"), num[id]);
        assert_int_equal(ms_testcsv_ll(ind, r, "denominator"), den[id]);
        seen++;
    }
    ms_testcsv_free(ind);
    size_t with = 0;
    for (size_t i = 0; i < ds.refs.n_inst; i++) with += den[i] > 0;
    assert_int_equal(seen, with);
    /* Every flagged settlement is a clue. */
    ms_testcsv_t *clues = ms_testcsv_read(f->ref, "clues.csv");
    assert_int_equal(ms_testsweep_clue_count(clues, NULL, "overload", NULL, MS_TEST_ANY_ID), flagged);
    ms_testcsv_free(clues);
    free(v), free(den), free(num);
    ms_dataset_close(&ds);
}

/* The program with the test hooks compiled in ($MS_BIN_HOOKS,
 * medsweep-testhooks); the shipped one ($MS_BIN) has none. */
static const char *hooks_bin(void)
{
    const char *b = getenv("MS_BIN_HOOKS");
    if (!b || !*b) print_error("MS_BIN_HOOKS is not set (the medsweep-testhooks program)\n");
    assert_true(b && *b);
    return b;
}

/* Run bin's sweep with an environment hook (that may kill it with SIGKILL);
 * extra: more arguments.  system()'s status. */
static int hooked_sweep(const char *bin, const char *data, const char *out, const char *env, const char *extra)
{
    char cmd[3000];
    snprintf(cmd, sizeof cmd, "%s %s sweep %s --out %s --quiet --threads 2 %s", env, bin, data, out, extra);
    return system(cmd);
}

static int killed_sweep(const fx_t *f, const char *out, const char *env)
{
    return hooked_sweep(hooks_bin(), f->data, out, env, "");
}

/* The shell reports death by SIGKILL as 128 + 9. */
static int killed(int rc) { return WIFEXITED(rc) && WEXITSTATUS(rc) == 128 + SIGKILL; }

static void test_resume_after_kill(void **state)
{
    fx_t *f = *state;
    const char *hooks[] = {"MS_SWEEP_KILL_AFTER=1", "MS_SWEEP_KILL_AFTER=4", "MS_SWEEP_KILL_AT=merge",
                           "MS_SWEEP_KILL_AT=write"};
    for (size_t i = 0; i < sizeof hooks / sizeof *hooks; i++) {
        char out[700];
        snprintf(out, sizeof out, "%s/kill%zu", f->dir, i);
        assert_true(killed(killed_sweep(f, out, hooks[i])));
        char path[800];
        snprintf(path, sizeof path, "%s/indicators.csv", out);
        assert_false(ms_path_exists(path) && i < 3);
        /* Without --resume the interrupted sweep is not overwritten. */
        sweep_says(f->data, out, "", 1, "--resume", NULL);
        /* Killed while writing its outputs: the temporaries of that run stay
         * in the state, never reach OUT (same_output checks). */
        if (i == 3) {
            snprintf(path, sizeof path, "%s/.sweep-state/output", out);
            ms_mkdirs(path);
            snprintf(path, sizeof path, "%s/.sweep-state/output/ranked.csv.tmp.99999", out);
            assert_int_equal(ms_test_write_file(path, "half a file"), 0);
        }
        sweep_same(f, out, "--resume --threads 3");
    }
}

static void test_resume_after_random_kills(void **state)
{
    fx_t *f = *state;
    /* Kill at random points of a sweep's own duration, measured here. */
    char probe[700];
    snprintf(probe, sizeof probe, "%s/rkill-probe", f->dir);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(sweep(f->data, probe, "--threads 2", NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double duration = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    srand(7);
    int interrupted_runs = 0;
    for (int i = 0; i < 6; i++) {
        char out[700], cmd[3000];
        snprintf(out, sizeof out, "%s/rkill%d", f->dir, i);
        pid_t pid = fork();
        if (pid == 0) {
            snprintf(cmd, sizeof cmd, "%s", ms_test_bin());
            execl(cmd, cmd, "sweep", f->data, "--out", out, "--quiet", "--threads", "2", (char *)NULL);
            _exit(127);
        }
        double at = duration * (0.2 + 0.7 * (double)(rand() % 1000) / 1000.0);
        struct timespec ts = {(time_t)at, (long)((at - (double)(time_t)at) * 1e9)};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        /* It may have finished before the kill: then there is nothing to resume. */
        snprintf(cmd, sizeof cmd, "%s/.sweep-state", out);
        int interrupted = ms_is_dir(cmd);
        interrupted_runs += interrupted;
        sweep_same(f, out, interrupted ? "--resume" : "--replace");
    }
    print_message("  %d of 6 runs were killed mid-sweep\n", interrupted_runs);
    assert_true(interrupted_runs >= 2);
}

/* Flip the byte at fraction at of file path. */
static void flip_byte(const char *path, double at)
{
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long off = (long)((double)ftell(fp) * at);
    fseek(fp, off, SEEK_SET);
    int c = fgetc(fp);
    fseek(fp, off, SEEK_SET);
    fputc(c ^ 0x5a, fp);
    assert_int_equal(fclose(fp), 0);
}

/* A saved partial damaged on disk (a flipped byte, a truncation) is not a
 * reason to give up the week: --resume says so, removes it and sweeps that
 * partition again, to the same bytes, and run.json names it.  (It used to
 * stop at the merge with "checksum mismatch" and advise --resume again.) */
static void test_resume_redoes_damaged_partial(void **state)
{
    fx_t *f = *state;
    char out[700], path[1000], cmd[2000];
    snprintf(out, sizeof out, "%s/damaged-partial", f->dir);
    assert_true(killed(killed_sweep(f, out, "MS_SWEEP_KILL_AFTER=4")));
    /* Which partials exist depends on the order the workers took them. */
    int damaged = 0;
    for (uint32_t p = 0; p < 6 && damaged < 2; p++) {
        snprintf(path, sizeof path, "%s/.sweep-state/part-%05u.partial", out, p);
        if (!ms_path_exists(path)) continue;
        if (damaged == 0) flip_byte(path, 0.5);
        else snprintf(cmd, sizeof cmd, "truncate -s -9 %s", path), assert_int_equal(ms_test_run(cmd, NULL), 0);
        damaged++;
    }
    assert_int_equal(damaged, 2);
    sweep_says(f->data, out, "--resume --threads 2", 0, NULL);
    same_output(f, out);
    json_says(out, "\"swept_again\": [", "checksum mismatch", ".partial", NULL);
    /* The console says it too (not --quiet's job to hide a result note). */
    snprintf(out, sizeof out, "%s/damaged-partial-2", f->dir);
    assert_true(killed(killed_sweep(f, out, "MS_SWEEP_KILL_AFTER=2")));
    for (uint32_t p = 0; p < 6; p++) {
        snprintf(path, sizeof path, "%s/.sweep-state/part-%05u.partial", out, p);
        if (ms_path_exists(path)) flip_byte(path, 0.25);
    }
    sweep_says(f->data, out, "--resume", 0, "2 saved partitions were damaged and were swept again", NULL);
    same_output(f, out);
}

/* A disk that fills while the outputs are written, at any point: the sweep
 * names the file and says the disk is full (it said "I/O error" for
 * features.h5), exits 1, and leaves no output in OUT.  One thread writes the
 * files in a fixed order (the partials, then features.h5 first of the
 * outputs), so the walk over sizes is sure to stop inside features.h5; two
 * threads write several files at once, and which one meets the full disk
 * first is up to the scheduler, so those runs check only the message and
 * the empty OUT.  (With two threads alone and sizes from a third of the
 * outputs, CI once saw no run stop in features.h5.) */
static void test_full_disk_while_writing_outputs(void **state)
{
    fx_t *f = *state;
    char small[700], out[700], mnt[700], cmd[2000];
    snprintf(small, sizeof small, "%s/small", f->dir);
    snprintf(out, sizeof out, "%s/small-out", f->dir);
    snprintf(mnt, sizeof mnt, "%s/fullmnt", f->dir);
    ms_test_cli_ok(NULL, "gen --out %s --persons 20000 --institutions 60 --partitions 2 --quiet", small);
    ms_test_cli_ok(NULL, "sweep %s --out %s --quiet", small, out);
    char *du = NULL;
    snprintf(cmd, sizeof cmd, "du -sk %s", out);
    ms_test_run_ok(cmd, &du);
    long kib = strtol(du, NULL, 10);
    free(du);
    ms_mkdirs(mnt);
    int features = 0, full = 0;
    /* From a 24th of what the outputs need (the partials do not fit) to a
     * little more than all; every size with one thread, every other one
     * with two as well. */
    for (long i = 1, size = kib / 24; size < kib + kib / 4; i++, size += kib / 24) {
        for (int threads = 1; threads <= 1 + i % 2; threads++) {
            snprintf(cmd, sizeof cmd, "mount -t tmpfs -o size=%ldk tmpfs %s", size, mnt);
            if (ms_test_run(cmd, NULL) != 0) {
                print_message("cannot mount a small tmpfs here (not root?): full-disk test skipped\n");
                skip();
            }
            char *log = NULL, *listing = NULL;
            int rc = ms_test_cli(&log, "sweep %s --out %s/o --quiet --threads %d", small, mnt, threads);
            snprintf(cmd, sizeof cmd, "ls -A %s/o", mnt);
            ms_test_run(cmd, &listing);
            snprintf(cmd, sizeof cmd, "umount %s", mnt);
            ms_test_run_ok(cmd, NULL);
            if (rc != 0) {
                full++;
                if (rc != 1 || !strstr(log, "No space left on device") || strstr(log, "I/O error"))
                    print_error("tmpfs of %ld KiB, %d threads: exit %d:\n%s\n", size, threads, rc, log);
                assert_int_equal(rc, 1);
                ms_test_contains(log, "No space left on device");
                assert_null(strstr(log, "I/O error"));
                features += threads == 1 && strstr(log, "features.h5") != NULL;
                /* Nothing but the state to resume from. */
                assert_string_equal(listing, ".sweep-state\n");
            }
            free(log), free(listing);
        }
    }
    print_message("  %d runs filled the disk, %d one-thread runs in features.h5\n", full, features);
    assert_true(features >= 1);
}

/* Damage one chunk of partition p (flip bytes in the middle of a column). */
static void damage_partition(const char *data, uint32_t p)
{
    char path[1000];
    ms_dataset_part_path(data, ms_table(MS_TABLE_SETTLEMENTS), p, path, sizeof path);
    ms_testdata_damage(path, MS_TABLE_SETTLEMENTS, MS_SC_inst_code, 0, 2, 0x11, 0x22);
}

/* Rewrite partition p of both tables of data with no rows (attributes
 * otherwise as they were). */
static void empty_partition(const char *data, uint32_t p)
{
    for (int t = 0; t < 2; t++) {
        char path[1000];
        ms_dataset_part_path(data, ms_table((ms_table_id_t)t), p, path, sizeof path);
        ms_part_t *part = NULL;
        assert_int_equal(ms_part_open(path, ms_table((ms_table_id_t)t), NULL, &part), MS_OK);
        ms_part_info_t info = *ms_part_info(part);
        ms_part_close(part);
        info.rows = 0;
        assert_int_equal(ms_part_write_rows(path, ms_table((ms_table_id_t)t), NULL, &info), MS_OK);
    }
}

/* A copy of f->data at dir/name (its path in out). */
static void copy_data(const fx_t *f, const char *name, char *out, size_t cap)
{
    char cmd[4096];
    snprintf(out, cap, "%s/%s", f->dir, name);
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r %s %s", out, f->data, out);
    assert_int_equal(ms_test_run(cmd, NULL), 0);
}

static void test_unreadable_partition(void **state)
{
    fx_t *f = *state;
    char bad[700], out[700], cmd[2000];
    snprintf(bad, sizeof bad, "%s/bad-data", f->dir);
    snprintf(cmd, sizeof cmd, "cp -r %s %s", f->data, bad);
    assert_int_equal(ms_test_run(cmd, NULL), 0);
    damage_partition(bad, 2);

    snprintf(out, sizeof out, "%s/bad-out", f->dir);
    sweep_says(bad, out, "--threads 2", 1, "partition 2", "part-00002.h5", "column inst_code, chunk 0", NULL);
    snprintf(cmd, sizeof cmd, "%s/indicators.csv", out);
    assert_false(ms_path_exists(cmd)); /* no output that cannot be trusted */

    /* --skip-bad: excluded, reported on the console and in run.json. */
    sweep_says(bad, out, "--threads 2 --replace --skip-bad", 0, "WARNING: 1 partitions were unreadable", NULL);
    json_says(out, "\"partition\": 2", "part-00002.h5", NULL);
    /* The list says it is partial in every row, wherever it is opened. */
    const char *lists[] = {"ranked.csv", "ranked_false_hosp.csv"};
    for (int k = 0; k < 2; k++) {
        ms_testcsv_t *r = ms_testcsv_read(out, lists[k]);
        assert_true(ms_testcsv_rows(r) > 0);
        for (size_t i = 0; i < ms_testcsv_rows(r); i++)
            assert_string_equal(ms_testcsv_get(r, i, "data_coverage"), "partial: 1 of 6 partitions skipped, see run.json");
        ms_testcsv_free(r);
    }
    ms_testcsv_t *whole = ms_testcsv_read(f->ref, "ranked.csv");
    for (size_t i = 0; i < ms_testcsv_rows(whole); i++) assert_string_equal(ms_testcsv_get(whole, i, "data_coverage"), "complete");
    ms_testcsv_free(whole);
    /* A missing partition is refused by name. */
    snprintf(cmd, sizeof cmd, "rm %s/settlements/part-00003.h5", bad);
    assert_int_equal(ms_test_run(cmd, NULL), 0);
    sweep_says(bad, out, "--replace", 1, "part-00003.h5 is missing", NULL);
}

/* With --skip-bad, a partition damaged in its last chunk is excluded whole,
 * from keyed aggregation too: the result equals a sweep of the same dataset
 * with that partition emptied. */
static void test_skipped_partition_leaves_nothing_behind(void **state)
{
    fx_t *f = *state;
    char w2[700], bad[700], empty[700], path[1000];
    snprintf(w2, sizeof w2, "%s/two", f->dir);
    snprintf(bad, sizeof bad, "%s/two-bad", f->dir);
    snprintf(empty, sizeof empty, "%s/two-empty", f->dir);
    assert_int_equal(ms_test_cli(NULL, "gen --out %s --persons 40000 --institutions 150 --partitions 2 --quiet && "
                                       "cp -r %s %s && cp -r %s %s", w2, w2, bad, w2, empty), 0);
    /* bad: the last chunk of doctor_id (read by the keyed overload model). */
    ms_dataset_part_path(bad, ms_table(MS_TABLE_SETTLEMENTS), 1, path, sizeof path);
    ms_part_t *part = NULL;
    assert_int_equal(ms_part_open(path, ms_table(MS_TABLE_SETTLEMENTS), NULL, &part), MS_OK);
    size_t last = ms_part_nchunks(part) - 1;
    assert_true(last >= 1); /* the damage comes after records were emitted */
    ms_part_close(part);
    ms_testdata_damage(path, MS_TABLE_SETTLEMENTS, MS_SC_doctor_id, last, 2, 0x33, 0x44);
    /* empty: partition 1 of both tables with no rows. */
    empty_partition(empty, 1);
    char out_bad[700], out_empty[700];
    snprintf(out_bad, sizeof out_bad, "%s/two-bad-out", f->dir);
    snprintf(out_empty, sizeof out_empty, "%s/two-empty-out", f->dir);
    sweep_says(bad, out_bad, "--skip-bad --threads 2", 0, "WARNING: 1 partitions", NULL);
    assert_int_equal(sweep(empty, out_empty, "--threads 2", NULL), 0);
    ms_test_same_files(out_bad, out_empty, "indicators.csv", "clues.csv", NULL);
    /* doctor_id is a key column: the key count met the damage first, left
     * the partition to the map to exclude (naming the column), and went on
     * counting the others' keys; without the count, the same answer. */
    json_says(out_bad, "\"key_count\": {", "\"off\": null", "doctor_id", NULL);
    sweep_says(bad, out_bad, "--skip-bad --threads 2 --replace --no-key-count", 0, "WARNING: 1 partitions", NULL);
    ms_test_same_files(out_bad, out_empty, "indicators.csv", "clues.csv", NULL);
}

static void test_bad_rows_are_counted_and_excluded(void **state)
{
    /* Rewrite partition 0 with its rows plus three that break the contract. */
    fx_t *f = *state;
    char d[700], cmd[2000], path[1000], out[700];
    snprintf(d, sizeof d, "%s/rows-data", f->dir);
    snprintf(cmd, sizeof cmd, "cp -r %s %s", f->data, d);
    assert_int_equal(ms_test_run(cmd, NULL), 0);
    ms_dataset_t ds;
    assert_int_equal(ms_dataset_open(d, &ds), MS_OK);
    ms_dataset_part_path(d, ms_table(MS_TABLE_SETTLEMENTS), 0, path, sizeof path);
    ms_part_t *part = NULL;
    assert_int_equal(ms_part_open(path, ms_table(MS_TABLE_SETTLEMENTS), &ds.refs, &part), MS_OK);
    ms_part_info_t info = *ms_part_info(part);
    ms_part_close(part);
    size_t n = 0;
    ms_settlement_t *rows = NULL;
    assert_int_equal(ms_testdata_load_part(path, MS_TABLE_SETTLEMENTS, &ds.refs, (void **)&rows, &n), MS_OK);
    assert_int_equal(n, info.rows);
    rows = realloc(rows, (n + 3) * sizeof *rows);
    assert_non_null(rows);
    const ms_table_t *t = ms_table(MS_TABLE_SETTLEMENTS);
    /* Three copies of the last row, each broken one way, as a new person
     * (the largest id, so the partition stays sorted) in partition 0. */
    uint64_t pid = rows[n - 1].person_id + 1;
    while (ms_person_partition(pid, info.count) != 0) pid++;
    for (int j = 0; j < 3; j++) {
        rows[n + j] = rows[n - 1];
        rows[n + j].person_id = pid;
        rows[n + j].settle_id = 900000000000ull + (uint64_t)j;
    }
    rows[n].inst_code = 999999;                          /* unknown institution */
    rows[n + 1].fund_pay += 1;                           /* sums do not add up */
    rows[n + 2].admit_date = rows[n + 2].discharge_date + 1; /* dates out of order */
    info.rows = n + 3;
    assert_int_equal(ms_part_write_rows(path, t, rows, &info), MS_OK);
    free(rows);
    ms_dataset_close(&ds);

    snprintf(out, sizeof out, "%s/rows-out", f->dir);
    sweep_says(d, out, "--threads 2", 0, "rejected 3 rows", NULL);
    json_says(out, "\"unknown_institution\": 1", "\"sums_do_not_add_up\": 1", "\"dates_out_of_order\": 1", NULL);
    /* Excluded: the figures are those of the clean dataset. */
    same_output(f, out);
}

static void test_existing_output(void **state)
{
    fx_t *f = *state;
    sweep_says(f->data, f->ref, "", 1, "--replace", NULL);
    sweep_says(f->data, f->ref, "--resume", 2, "no interrupted sweep", NULL); /* a usage error */
    sweep_says(f->data, f->ref, "--replace --threads 1", 0, NULL);
    same_output(f, f->ref);
    /* Not a sweep output and not empty: refused, nothing deleted. */
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "%s/settlements", f->data);
    sweep_says(f->data, cmd, "--replace", 1, NULL);
    assert_true(ms_is_dir(cmd));
}

/* The partition set is checked against what the partitions record: a
 * partition file missing from one table, or one too many, stops the sweep
 * naming it before anything is written; with --skip-bad that partition
 * number is left out of both tables and recorded in run.json. */
/* a/ranked.csv and b/ranked.csv hold the same rows, cell for cell, but for
 * data_coverage (a partition left out against one emptied). */
static void same_ranking_but_coverage(const char *a, const char *b)
{
    ms_testcsv_t *x = ms_testcsv_read(a, "ranked.csv"), *y = ms_testcsv_read(b, "ranked.csv");
    assert_int_equal(ms_testcsv_rows(x), ms_testcsv_rows(y));
    const char *cols[] = {"rank", "inst_code", "priority", "peer_percentile", "reason_1", "reason_2", "reason_3",
                          "suspicious_amount_yuan", "likely_recovery_yuan", "records_swept"};
    for (size_t i = 0; i < ms_testcsv_rows(x); i++)
        for (size_t c = 0; c < sizeof cols / sizeof *cols; c++)
            assert_string_equal(ms_testcsv_get(x, i, cols[c]), ms_testcsv_get(y, i, cols[c]));
    assert_string_equal(ms_testcsv_get(x, 0, "data_coverage"), "partial: 1 of 6 partitions skipped, see run.json");
    assert_string_equal(ms_testcsv_get(y, 0, "data_coverage"), "complete");
    ms_testcsv_free(x), ms_testcsv_free(y);
}

static void test_partition_set_is_checked(void **state)
{
    fx_t *f = *state;
    char lost[700], extra[700], gap[700], emptied[700], out[700], cmd[2000];
    snprintf(out, sizeof out, "%s/set-out", f->dir);

    /* drug_items/part-00005.h5 lost: half the drug items of nothing said. */
    copy_data(f, "set-lost", lost, sizeof lost);
    snprintf(cmd, sizeof cmd, "rm %s/drug_items/part-00005.h5", lost);
    assert_int_equal(ms_test_run(cmd, NULL), 0);
    sweep_says(lost, out, "--threads 2", 1, "drug_items/part-00005.h5 is missing", "--skip-bad", NULL);
    assert_false(ms_path_exists(out)); /* refused before anything was written */
    sweep_says(lost, out, "--threads 2 --skip-bad", 0, "WARNING: 1 partitions", NULL);
    json_says(out, "\"partition\": 5", "drug_items/part-00005.h5 is missing", NULL);
    /* Left out of both tables: the result of the dataset with partition 5
     * emptied. */
    char out_emptied[700];
    copy_data(f, "set-emptied", emptied, sizeof emptied);
    empty_partition(emptied, 5);
    snprintf(out_emptied, sizeof out_emptied, "%s/set-emptied-out", f->dir);
    assert_int_equal(sweep(emptied, out_emptied, "--threads 2", NULL), 0);
    ms_test_same_files(out, out_emptied, "indicators.csv", "clues.csv", NULL);
    same_ranking_but_coverage(out, out_emptied);

    /* A copy of partition 0 as settlements/part-00006.h5: not counted. */
    copy_data(f, "set-extra", extra, sizeof extra);
    snprintf(cmd, sizeof cmd, "cp %s/settlements/part-00000.h5 %s/settlements/part-00006.h5", extra, extra);
    assert_int_equal(ms_test_run(cmd, NULL), 0);
    sweep_says(extra, out, "--threads 2 --replace", 1,
               "settlements/part-00006.h5 is not one of the dataset's 6 partitions", NULL);
    json_says(out, "\"partition\": 5", NULL); /* the earlier output, untouched */
    sweep_says(extra, out, "--threads 2 --replace --skip-bad", 0, "WARNING: 1 partitions", NULL);
    json_says(out, "\"total\": 6", "\"partition\": 6", "settlements/part-00006.h5 is not one of", NULL);
    same_output(f, out); /* every settlement once */

    /* A partition number missing in the middle: refused, or left out. */
    copy_data(f, "set-gap", gap, sizeof gap);
    snprintf(cmd, sizeof cmd, "rm %s/settlements/part-00002.h5", gap);
    assert_int_equal(ms_test_run(cmd, NULL), 0);
    sweep_says(gap, out, "--threads 2 --replace", 1, "settlements/part-00002.h5 is missing", NULL);
    sweep_says(gap, out, "--threads 2 --replace --skip-bad", 0, "WARNING: 1 partitions", NULL);
    json_says(out, "\"partition\": 2", "settlements/part-00002.h5 is missing", NULL);
    ms_remove_tree(lost), ms_remove_tree(extra), ms_remove_tree(gap), ms_remove_tree(emptied);
}

/* A partition skipped by an interrupted sweep (--skip-bad) and repaired
 * before --resume is swept by the resumed run, and counted. */
static void test_resume_sweeps_a_repaired_partition(void **state)
{
    fx_t *f = *state;
    char bad[700], out[700], cmd[4096];
    copy_data(f, "repaired", bad, sizeof bad);
    snprintf(out, sizeof out, "%s/repaired-out", f->dir);
    damage_partition(bad, 2);
    /* One thread sweeps in partition order: 0, 1, 2 (skipped), 3, 4, killed. */
    assert_true(killed(hooked_sweep(hooks_bin(), bad, out, "MS_SWEEP_KILL_AFTER=4", "--skip-bad --threads 1")));
    snprintf(cmd, sizeof cmd, "%s/.sweep-state/part-00002.skipped", out);
    assert_true(ms_path_exists(cmd));
    snprintf(cmd, sizeof cmd, "cp %s/settlements/part-00002.h5 %s/settlements/part-00002.h5", f->data, bad);
    assert_int_equal(ms_test_run(cmd, NULL), 0);
    sweep_says(bad, out, "--resume --threads 2", 0, "(4 resumed)", NULL);
    same_output(f, out);
    json_says(out, "\"skipped\": []", NULL);
    ms_remove_tree(bad);
}

/* The files of a finished sweep of f->data (f->ref's, run.json included:
 * the earlier output itself, not a new one like it). */
static void holds_ref_output(const fx_t *f, const char *out)
{
    ms_test_same_files(f->ref, out, "indicators.csv", "clues.csv", "ranked.csv", "ranked_false_hosp.csv",
                       "features.h5", "run.json", NULL);
}

/* --replace keeps the earlier output until the new one is complete: a
 * replace killed at any point, or failing, leaves it as it was, and
 * --resume finishes the replacement. */
static void test_replace_keeps_earlier_output(void **state)
{
    fx_t *f = *state;
    const char *hooks[] = {"MS_SWEEP_KILL_AFTER=1", "MS_SWEEP_KILL_AFTER=4", "MS_SWEEP_KILL_AT=merge",
                           "MS_SWEEP_KILL_AT=write", "MS_SWEEP_KILL_AT=install"};
    char out[700], cmd[4096];
    snprintf(out, sizeof out, "%s/keep", f->dir);
    for (size_t i = 0; i < sizeof hooks / sizeof *hooks; i++) {
        snprintf(cmd, sizeof cmd, "rm -rf %s && cp -a %s %s", out, f->ref, out);
        assert_int_equal(ms_test_run(cmd, NULL), 0);
        assert_true(killed(hooked_sweep(hooks_bin(), f->data, out, hooks[i], "--replace")));
        holds_ref_output(f, out);
        /* Still a sweep in progress: not overwritten silently. */
        sweep_says(f->data, out, "", 1, "--resume", NULL);
        holds_ref_output(f, out);
        sweep_same(f, out, "--resume --threads 3");
    }
    /* A replace that fails (a damaged partition) leaves it too. */
    char bad[700];
    copy_data(f, "keep-bad", bad, sizeof bad);
    damage_partition(bad, 4);
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -a %s %s", out, f->ref, out);
    assert_int_equal(ms_test_run(cmd, NULL), 0);
    sweep_says(bad, out, "--replace --threads 2", 1, "part-00004.h5", NULL);
    holds_ref_output(f, out);
    sweep_same(f, out, "--replace --threads 2");
    ms_remove_tree(bad);
}

/* Start bin's sweep of f->data into out with env (NAME=VALUE) set; its pid. */
static pid_t start_sweep(const fx_t *f, const char *bin, const char *out, const char *env, const char *value)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv(env, value, 1);
        execl(bin, bin, "sweep", f->data, "--out", out, "--quiet", "--threads", "2", (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Every thread of process pid may run on cpu only (its Cpus_allowed_list
 * in /proc, as the OS enforces it); the number of threads checked. */
/* How many threads process pid has, each allowed only cpu (its
 * Cpus_allowed_list in /proc, as the OS enforces it); -1 when one may run
 * elsewhere (printed).  Asserts nothing: the caller lets the process go on
 * first, whatever it finds. */
static int threads_confined(pid_t pid, int cpu)
{
    char dir[64], path[400], want[32], line[256];
    snprintf(dir, sizeof dir, "/proc/%ld/task", (long)pid);
    snprintf(want, sizeof want, "%d", cpu);
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n >= 0) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s/status", dir, e->d_name);
        FILE *fp = fopen(path, "r"); /* /proc files have no size: read by lines */
        int ok = 0;
        while (fp && fgets(line, sizeof line, fp))
            if (!strncmp(line, "Cpus_allowed_list:", 18)) {
                char *v = line + 18;
                v += strspn(v, " \t");
                v[strcspn(v, "\n")] = '\0';
                ok = !strcmp(v, want);
                if (!ok) print_error("thread %s of the sweep may run on CPUs %s, not only %d\n", e->d_name, v, cpu);
            }
        if (fp) fclose(fp);
        n = ok ? n + 1 : -1;
    }
    closedir(d);
    return n;
}

/* A sweep stays inside the CPUs it was given (issue 14, item 1).  Run with
 * an affinity mask of one CPU (as taskset, Slurm or mpirun set it), it plans
 * one worker and pins it there, and so does every thread it starts, also
 * with --threads 3 (three workers sharing that CPU); OMP_NUM_THREADS sets
 * the default thread count.  run.json says what it was given and where
 * each worker ran, and the outputs are the reference's. */
static void test_respects_cpu_allocation(void **state)
{
    fx_t *f = *state;
    cpu_set_t all;
    assert_int_equal(sched_getaffinity(0, sizeof all, &all), 0);
    int cpu = -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &all)) cpu = c; /* the last: not the CPU 0 an unrestricted plan starts on */
    if (CPU_COUNT(&all) < 2) {
        print_message("test_respects_cpu_allocation: one CPU here, nothing to restrict\n");
        skip();
    }
    const char *extra[] = {NULL, "3"};
    for (int k = 0; k < 2; k++) {
        char out[700];
        snprintf(out, sizeof out, "%s/cpus%d", f->dir, k);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            if (sched_setaffinity(0, sizeof one, &one) != 0) _exit(126);
            setenv("MS_SWEEP_STOP_AFTER", "1", 1);
            execl(hooks_bin(), hooks_bin(), "sweep", f->data, "--out", out, "--quiet", extra[k] ? "--threads" : NULL,
                  extra[k], (char *)NULL);
            _exit(127);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
        int stopped = WIFSTOPPED(status), nthreads = stopped ? threads_confined(pid, cpu) : 0;
        if (stopped) kill(pid, SIGCONT);
        if (stopped) assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(stopped); /* held after its first partition, its workers running */
        assert_true(nthreads >= (k ? 3 : 1));
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        same_output(f, out);
        char says[96];
        snprintf(says, sizeof says, "\"cpus\": \"%d\"", cpu);
        json_says(out, says, k ? "\"threads\": 3" : "\"threads\": 1", NULL);
        char *json = ms_test_read(out, "run.json", NULL);
        json_t *root = json_loads(json, 0, NULL);
        assert_non_null(root);
        json_t *wc = json_object_get(json_object_get(root, "configuration"), "worker_cpus");
        assert_int_equal(json_array_size(wc), k ? 3 : 1);
        for (size_t i = 0; i < json_array_size(wc); i++) assert_int_equal(json_integer_value(json_array_get(wc, i)), cpu);
        json_decref(root);
        free(json);
    }
    char out[700];
    snprintf(out, sizeof out, "%s/omp1", f->dir);
    setenv("OMP_NUM_THREADS", "1", 1);
    ms_test_cli_ok(NULL, "sweep %s --out %s --quiet", f->data, out);
    unsetenv("OMP_NUM_THREADS");
    same_output(f, out);
    json_says(out, "\"threads\": 1", NULL);
}

/* One sweep at a time in an OUT: while one runs (held stopped by the hook
 * after its first partition), a second one, plain, --replace or --resume,
 * is refused naming it; the first then finishes as if alone.  The lock goes
 * with the process: after a kill, --resume takes it. */
static void test_one_sweep_per_output(void **state)
{
    fx_t *f = *state;
    char out[700], want[200];
    snprintf(out, sizeof out, "%s/locked", f->dir);
    pid_t pid = start_sweep(f, hooks_bin(), out, "MS_SWEEP_STOP_AFTER", "1");
    int status;
    assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
    int stopped = WIFSTOPPED(status);
    snprintf(want, sizeof want, "is being written by another sweep (pid %ld)", (long)pid);
    const char *args[] = {"", "--replace", "--resume"};
    int rc[3];
    char *log[3];
    for (int i = 0; i < 3; i++) rc[i] = sweep(f->data, out, args[i], &log[i]);
    if (stopped) {
        kill(pid, SIGCONT);
        assert_int_equal(waitpid(pid, &status, 0), pid);
    }
    assert_true(stopped); /* the hook held it */
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (int i = 0; i < 3; i++) {
        if (rc[i] != 1) print_error("sweep %s while another ran: exit %d\n%s\n", args[i], rc[i], log[i]);
        assert_int_equal(rc[i], 1);
        ms_test_contains(log[i], want);
        free(log[i]);
    }
    same_output(f, out);

    /* Killed while holding the lock: the next sweep is not kept out. */
    snprintf(out, sizeof out, "%s/locked-killed", f->dir);
    pid = start_sweep(f, hooks_bin(), out, "MS_SWEEP_STOP_AFTER", "1");
    assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
    assert_true(WIFSTOPPED(status));
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    sweep_same(f, out, "--resume");
}

/* The shipped program obeys no test hook: the variables change nothing. */
static void test_shipped_program_has_no_hooks(void **state)
{
    fx_t *f = *state;
    const char *hooks[] = {"MS_SWEEP_KILL_AFTER=1", "MS_SWEEP_KILL_AT=merge", "MS_SWEEP_KILL_AT=install"};
    for (size_t i = 0; i < sizeof hooks / sizeof *hooks; i++) {
        char out[700];
        snprintf(out, sizeof out, "%s/nohooks%zu", f->dir, i);
        int rc = hooked_sweep(ms_test_bin(), f->data, out, hooks[i], "");
        if (rc) print_error("%s %s: status %d\n", hooks[i], ms_test_bin(), rc);
        assert_int_equal(rc, 0);
        same_output(f, out);
    }
}

/* OUT holds what the whole-partition sweep wrote, and its run.json says
 * how many partitions were resumed. */
static void same_as_whole(const char *whole, const char *out, int resumed)
{
    ms_test_same_files(whole, out, "indicators.csv", "clues.csv", "ranked.csv", "features.h5", NULL);
    char *json = ms_test_read(out, "run.json", NULL), want[40];
    assert_non_null(json);
    snprintf(want, sizeof want, "\"resumed\": %d", resumed);
    ms_test_contains(json, want);
    free(json);
}

/* Partitions cut into many slices (a world of small chunks, sliced every
 * 5,000 settlements) give the bytes of the same partitions swept whole,
 * with any thread count; --skip-bad changes nothing on a whole dataset;
 * and a sweep killed after its first partition resumes to the same bytes. */
static void test_slices_compose(void **state)
{
    fx_t *f = *state;
    char data[700], whole[700], out[700];
    snprintf(data, sizeof data, "%s/sliced", f->dir);
    snprintf(whole, sizeof whole, "%s/sliced-whole", f->dir);
    assert_int_equal(ms_test_cli(NULL, "gen --out %s --persons 40000 --institutions 150 --partitions 3 "
                                       "--chunk-rows 2048 --quiet",
                                 data),
                     0);
    assert_int_equal(sweep(data, whole, "--threads 1", NULL), 0);
    const char *variants[] = {"--threads 1", "--threads 2", "--threads 3", "--threads 2 --skip-bad",
                              "--threads 3 --batch-rows 1000"};
    for (size_t i = 0; i < sizeof variants / sizeof *variants; i++) {
        snprintf(out, sizeof out, "%s/sliced%zu", f->dir, i);
        int rc = hooked_sweep(hooks_bin(), data, out, "MS_SWEEP_SLICE_ROWS=5000", variants[i]);
        if (rc) print_error("sliced sweep %s: status %d\n", variants[i], rc);
        assert_int_equal(rc, 0);
        same_as_whole(whole, out, 0);
    }
    snprintf(out, sizeof out, "%s/sliced-killed", f->dir);
    assert_true(killed(hooked_sweep(hooks_bin(), data, out, "MS_SWEEP_SLICE_ROWS=5000 MS_SWEEP_KILL_AFTER=1", "")));
    int rc = hooked_sweep(hooks_bin(), data, out, "MS_SWEEP_SLICE_ROWS=5000", "--resume");
    assert_int_equal(rc, 0);
    same_as_whole(whole, out, 1);
    /* A damaged chunk in a middle slice of partition 1 fails the sweep,
     * named; with --skip-bad (and no keyed aggregation, so the partition
     * is sliced) the partition is left out whole, as when it is one
     * slice. */
    char path[1000], skipped[700], sliced_skip[700];
    ms_dataset_part_path(data, ms_table(MS_TABLE_SETTLEMENTS), 1, path, sizeof path);
    ms_testdata_damage(path, MS_TABLE_SETTLEMENTS, MS_SC_inst_code, 30, 2, 0x11, 0x22);
    snprintf(out, sizeof out, "%s/sliced-damaged", f->dir);
    char *log = NULL;
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "MS_SWEEP_SLICE_ROWS=5000 %s sweep %s --out %s --quiet --threads 2", hooks_bin(),
             data, out);
    rc = ms_test_run(cmd, &log);
    assert_int_equal(rc, 1);
    ms_test_contains(log, "partition 1");
    ms_test_contains(log, "column inst_code, chunk 30");
    free(log);
    snprintf(skipped, sizeof skipped, "%s/skipped-whole", f->dir);
    snprintf(sliced_skip, sizeof sliced_skip, "%s/skipped-sliced", f->dir);
    assert_int_equal(sweep(data, skipped, "--threads 2 --skip-bad --models volume", NULL), 0);
    assert_int_equal(hooked_sweep(hooks_bin(), data, sliced_skip, "MS_SWEEP_SLICE_ROWS=5000",
                                  "--skip-bad --models volume"),
                     0);
    ms_test_same_files(skipped, sliced_skip, "indicators.csv", "ranked.csv", "features.h5", NULL);
    char *json = ms_test_read(sliced_skip, "run.json", NULL);
    assert_non_null(json);
    ms_test_contains(json, "chunk 30");
    free(json);
    ms_remove_tree(data);
}

/* The peak resident memory run.json records (0 when it has none). */
/* The progress reports a sweep makes (through the library: the program
 * prints at most one line in ten seconds off a terminal). */
typedef struct {
    ms_progress_t r[4096];
    size_t n;
} reports_t;

static void collect(void *ctx, const ms_progress_t *p)
{
    reports_t *c = ctx;
    if (c->n < sizeof c->r / sizeof c->r[0]) c->r[c->n++] = *p;
}

/* The time left is guessed only once a partition has ended: before that a
 * batch or two, after the plan, says nothing about the rate (a sweep of 8
 * partitions once said ETA 105:33 on its first line and took 20 s); the
 * key count before the map reports its slices and guesses nothing.  Every
 * partition's end is reported with a guess; the last report is the
 * finished one with every partition done. */
static void test_progress_guesses_only_from_ended_partitions(void **state)
{
    fx_t *f = *state;
    char out[700];
    snprintf(out, sizeof out, "%s/progress", f->dir);
    reports_t *c = calloc(1, sizeof *c);
    ms_sweep_opts_t o;
    ms_sweep_opts_init(&o);
    o.dataset = f->data;
    o.out = out;
    o.threads = 1;
    o.progress = collect;
    o.progress_ctx = c;
    ms_sweep_result_t res;
    if (ms_sweep(&o, &res) != MS_OK) fail_msg("sweep: %s", ms_error_detail());
    /* First the key count's reports (slices counted, the last one finished
     * with every slice), then the map's. */
    size_t k = 0;
    for (; k < c->n && c->r[k].stage && !strcmp(c->r[k].stage, "counting keys"); k++) {
        if (k > 0) assert_true(c->r[k].done >= c->r[k - 1].done);
        assert_true(c->r[k].eta_seconds < 0);
    }
    assert_true(k >= 1);
    assert_true(c->r[k - 1].finished && c->r[k - 1].done == c->r[k - 1].total && c->r[k - 1].total >= 6);
    memmove(c->r, c->r + k, (c->n - k) * sizeof *c->r);
    c->n -= k;
    assert_true(c->n >= 2);
    /* The first report comes after the first batch, before any partition ends. */
    assert_int_equal(c->r[0].done, 0);
    size_t guessed = 0;
    for (size_t i = 0; i < c->n; i++) {
        const ms_progress_t *p = &c->r[i];
        assert_int_equal(p->total, 6);
        if (p->done == 0) assert_true(p->eta_seconds < 0);
        if (p->done > 0 && !p->finished) {
            assert_true(p->eta_seconds >= 0);
            guessed++;
        }
        if (i > 0) assert_true(p->done >= c->r[i - 1].done);
    }
    assert_true(guessed >= 6); /* each partition's end, at least */
    assert_true(c->r[c->n - 1].finished);
    assert_int_equal(c->r[c->n - 1].done, 6);
    same_output(f, out);
    free(c);
}

static unsigned long long run_peak(const char *out)
{
    char *json = ms_test_read(out, "run.json", NULL);
    const char *at = json ? strstr(json, "\"peak_memory_bytes\": ") : NULL;
    unsigned long long peak = at ? strtoull(at + 21, NULL, 10) : 0;
    free(json);
    return peak;
}

/* Datasets of about 1, 2 and 4 times the memory given to the sweep, in
 * partitions of one size: the peak stays under the cap, whatever the size
 * of the data. */
static void test_memory_stays_under_cap(void **state)
{
    fx_t *f = *state;
    const size_t cap = 192u << 20;
    for (int times = 1; times <= 4; times *= 2) {
        char big[700], out[700], cmd[2000];
        snprintf(big, sizeof big, "%s/big%d", f->dir, times);
        snprintf(out, sizeof out, "%s/big%d-out", f->dir, times);
        assert_int_equal(ms_test_cli(NULL, "gen --out %s --persons %d --institutions 2000 --partitions %d --quiet",
                                     big, 175000 * times, 2 * times),
                         0);
        snprintf(cmd, sizeof cmd, "--threads 2 --all-columns --memory-cap %zu", cap);
        sweep_says(big, out, cmd, 0, NULL);
        unsigned long long peak = run_peak(out);
        assert_true(peak > 0);
        /* The decoded data: settlements x 154 bytes (+ drug items x 48). */
        char *json = ms_test_read(out, "run.json", NULL);
        const char *r = json ? strstr(json, "\"settlements\": ") : NULL;
        unsigned long long rows = r ? strtoull(r + 15, NULL, 10) : 0;
        free(json);
        /* The keyed aggregations share the shuffle's memory by what each
         * expects to hold: the shares add up to it, and the two that take a
         * record per row get the most. */
        char *run_path = ms_path_join(out, "run.json");
        json_t *run = json_load_file(run_path, 0, NULL);
        free(run_path);
        assert_non_null(run);
        json_int_t shuffle = json_integer_value(json_object_get(json_object_get(run, "configuration"), "shuffle_memory"));
        json_t *keyed = json_object_get(run, "keyed_aggregations"), *k;
        size_t i;
        json_int_t sum = 0, largest = 0, others = 0;
        assert_int_equal(json_array_size(keyed), 6);
        json_array_foreach(keyed, i, k) {
            /* Its share, and its key counters (a byte each) taken out of it. */
            json_int_t kc = json_integer_value(json_object_get(k, "memory_cap")) +
                            json_integer_value(json_object_get(k, "key_counters"));
            const char *name = json_string_value(json_object_get(k, "name"));
            assert_true(kc > 0 && json_integer_value(json_object_get(k, "records")) > 0);
            sum += kc;
            if (!strcmp(name, "trace") || !strcmp(name, "doctor_days")) largest = largest ? (kc < largest ? kc : largest) : kc;
            else others = kc > others ? kc : others;
        }
        assert_true(sum <= shuffle && sum > shuffle - 64);
        assert_true(largest > others);
        json_decref(run);
        print_message("  %dx: peak %.0f MiB for %.0f MiB of decoded settlements (cap %zu MiB)\n", times,
                      peak / 1048576.0, rows * 154 / 1048576.0, cap >> 20);
        assert_true(rows * 154 > (unsigned long long)cap * (unsigned long long)times);
#ifdef MS_SANITIZED
        /* AddressSanitizer's shadow and quarantine add to every allocation:
         * the figure is the Release build's to assert. */
        print_message("  (sanitizer build: the peak is not asserted)\n");
#else
        assert_true(peak < cap);
#endif
        ms_remove_tree(big);
        ms_remove_tree(out);
    }
}

/* A cap the sweep cannot keep is refused before OUT is made, with the
 * least cap that would do; at that cap the sweep runs and stays under it.
 * Many institutions and few records, so that what grows with the country
 * (the models' per-institution state, the scoring) is what the cap must
 * hold. */
static void test_memory_cap_refused_up_front(void **state)
{
    fx_t *f = *state;
    char wide[700], out[700];
    snprintf(wide, sizeof wide, "%s/wide", f->dir);
    snprintf(out, sizeof out, "%s/wide-out", f->dir);
    /* 200,000 institutions: the merge of partials at the least cap once
     * held the keyed aggregations' records and a heap of freed map states
     * beside the states it merges, uncounted (2 threads: 457-499 MiB under
     * a 462 MiB cap, as the workers' timing fell; 60,000 institutions
     * stayed under). */
    assert_int_equal(ms_test_cli(NULL, "gen --out %s --persons 60000 --institutions 200000 --partitions 3 --quiet",
                                 wide),
                     0);
    for (int threads = 1; threads <= 2; threads++) {
        char *log = NULL, args[200];
        snprintf(args, sizeof args, "--threads %d --memory-cap 64M", threads);
        assert_int_equal(sweep(wide, out, args, &log), 2);
        ms_test_contains(log, "--memory-cap 64 MiB is too small");
        ms_test_contains(log, "200000 institutions");
        assert_false(ms_path_exists(out)); /* refused before OUT was touched */
        const char *at = log ? strstr(log, "needs at least ") : NULL;
        assert_non_null(at);
        unsigned long least = at ? strtoul(at + 15, NULL, 10) : 0;
        assert_true(least > 64);
        const char *st = log ? strstr(log, "institutions is ") : NULL;
        unsigned long state_mib = st ? strtoul(st + 16, NULL, 10) : 0;
        assert_true(state_mib > 0);
        if (threads == 1) {
            /* Partials hold the states compressed: mostly zeros at 200,000
             * institutions, they must not cost the states' size each. */
            char killed_out[800], cmd[2000], *sizes = NULL;
            snprintf(killed_out, sizeof killed_out, "%s-killed", out);
            assert_true(killed(hooked_sweep(hooks_bin(), wide, killed_out, "MS_SWEEP_KILL_AT=merge", "")));
            snprintf(cmd, sizeof cmd, "stat -c %%s %s/.sweep-state/part-*.partial", killed_out);
            ms_test_run_ok(cmd, &sizes);
            int nparts = 0;
            for (char *q = sizes; q && *q; nparts++) {
                unsigned long long bytes = strtoull(q, &q, 10);
                print_message("  partial of %llu bytes, states of %lu MiB\n", bytes, state_mib);
                assert_true(bytes > 0 && bytes < ((unsigned long long)state_mib << 20) / 4);
                while (*q == '\n') q++;
            }
            assert_int_equal(nparts, 3);
            free(sizes);
            ms_remove_tree(killed_out);
        }
        free(log);
        snprintf(args, sizeof args, "--threads %d --memory-cap %luM", threads, least - 1);
        assert_int_equal(sweep(wide, out, args, NULL), 2);
        snprintf(args, sizeof args, "--threads %d --memory-cap %luM", threads, least);
        sweep_says(wide, out, args, 0, NULL);
        unsigned long long peak = run_peak(out);
        print_message("  %d thread%s: least cap %lu MiB, peak %.0f MiB\n", threads, threads > 1 ? "s" : "", least,
                      peak / 1048576.0);
#ifndef MS_SANITIZED
        assert_true(peak > 0 && peak < (unsigned long long)least << 20);
#endif
        /* The least cap has no room for a state per worker: partitions are
         * merged from their partials.  With the default cap each worker
         * keeps those it swept merged: the same bytes either way. */
        json_says(out, "\"merge_in_workers\": false", NULL);
        char roomy[800];
        snprintf(roomy, sizeof roomy, "%s-roomy", out);
        snprintf(args, sizeof args, "--threads %d", threads);
        sweep_says(wide, roomy, args, 0, NULL);
        json_says(roomy, "\"merge_in_workers\": true", NULL);
        ms_test_same_files(out, roomy, "indicators.csv", "clues.csv", "ranked.csv", "features.h5", NULL);
        ms_remove_tree(roomy);
        ms_remove_tree(out);
    }
    ms_remove_tree(wide);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_determinism_matrix),
        cmocka_unit_test(test_kernel_sets_agree),
        cmocka_unit_test(test_volume_is_exact),
        cmocka_unit_test(test_overload_is_exact),
        cmocka_unit_test(test_resume_after_kill),
        cmocka_unit_test(test_resume_after_random_kills),
        cmocka_unit_test(test_unreadable_partition),
        cmocka_unit_test(test_skipped_partition_leaves_nothing_behind),
        cmocka_unit_test(test_bad_rows_are_counted_and_excluded),
        cmocka_unit_test(test_existing_output),
        cmocka_unit_test(test_partition_set_is_checked),
        cmocka_unit_test(test_replace_keeps_earlier_output),
        cmocka_unit_test(test_resume_sweeps_a_repaired_partition),
        cmocka_unit_test(test_one_sweep_per_output),
        cmocka_unit_test(test_respects_cpu_allocation),
        cmocka_unit_test(test_shipped_program_has_no_hooks),
        cmocka_unit_test(test_resume_redoes_damaged_partial),
        cmocka_unit_test(test_full_disk_while_writing_outputs),
        cmocka_unit_test(test_slices_compose),
        cmocka_unit_test(test_memory_stays_under_cap),
        cmocka_unit_test(test_memory_cap_refused_up_front),
        cmocka_unit_test(test_progress_guesses_only_from_ended_partitions),
    };
    return cmocka_run_group_tests(tests, setup, ms_test_dir_teardown);
}
