/*
 * fuzz_part - a whole partition file (the input) opened and read as the
 * engine does: ms_part_probe first (io/ms_part.h: ms_part_open in a forked
 * child, so that a crash inside libhdf5 on damaged metadata kills the
 * child, not the caller), then, only when the probe says OPENED,
 * ms_part_open in this process and every batch of every column through
 * the reader (chunks read with pread and decoded by our codec), and once
 * more as two ranges that must compose to the whole (ms_fuzz_read_all).
 *
 * The table is drug_items when the file holds the bytes "drug_items"
 * anywhere (its group's name), settlements otherwise.
 *
 * What is a finding: a crash, a sanitizer report or a leak in this process.
 * A child killed inside libhdf5 is the known damage the probe contains:
 * not a finding.  But the child runs medsweep's own code too (ms_part_open
 * up to its verdict), so:
 *   - a file the probe REFUSED is opened again here: the child got through
 *     every HDF5 call of it without crashing, so this process does too, and
 *     the refusal's own path (its cleanup, its messages) is checked for
 *     leaks and undefined behaviour in this process;
 *   - a child that dies of a sanitizer report made in medsweep's code
 *     (the innermost frame that is not the sanitizer's runtime lies in this
 *     executable, not in libhdf5) is a finding: the death callback below,
 *     installed in the child only, tells the parent through a shared page.  A report of
 *     libhdf5's (a heap overflow its memcpy makes on damaged metadata,
 *     seen by ASan's interceptor) is damage like a signal, and writes no
 *     crash file (libFuzzer's death callback, which would, is replaced in
 *     the child).  A plain signal (SIGSEGV, SIGFPE) in the child
 *     is always taken as HDF5's: the probe's child sets those to their
 *     default action, so no report says where it happened.
 * The probe's answer must agree with what ms_part_open says here.
 *
 * FUZZ_PART_VERBOSE=1 in the environment prints, per input, the table, the
 * probe's verdict and what the probe and the reading cost (and where a
 * child's sanitizer report was); FUZZ_PART_DAMAGE_DIR=DIR keeps the inputs
 * that killed a child with a report of libhdf5's.  At exit: how many
 * inputs the probe opened, refused, and found damaged.
 */
#include <dlfcn.h>
#include <execinfo.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <sanitizer/common_interface_defs.h>

#include "ms_fuzz_file.h"
#include "ms_fuzz_part.h"
#include "ms_part.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
const char *__asan_default_options(void);

/* ASan's defaults for this harness (ASAN_OPTIONS still overrides them):
 *   quarantine_size_mb=8: the fork per input copies the page tables of all
 *     the memory this process holds, and the default quarantine (256 MB of
 *     freed blocks kept poisoned) makes it several times slower;
 *   allocator_may_return_null=1, max_allocation_size_mb=4096: damaged
 *     metadata makes libhdf5 ask for absurd sizes (12 GB, 512 GB); malloc
 *     says no, as on a machine without that much, and HDF5 reports an
 *     error, instead of ASan (or libFuzzer's -malloc_limit_mb hook, which
 *     would write an oom- file from the child) killing the probe's child.
 *     Our own code gets NULL too, and its out-of-memory path runs: a
 *     damaged file must never make ms_part_open say MS_E_NOMEM (checked
 *     below), the file is damaged, not the machine short of memory. */
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=8:allocator_may_return_null=1:max_allocation_size_mb=4096";
}

/* The page the probe's child writes its sanitizer death into: 0 none,
 * 1 a report in our code, 2 a report elsewhere (libhdf5 through an
 * interceptor, an allocation HDF5 asked for). */
static volatile int *child_death;
static pid_t parent;
static char self_module[4096];
static char dir[256], path[320];

/* Inputs by the probe's verdict: opened, refused, damaged (of which by a
 * sanitizer report of libhdf5's), printed at exit. */
static unsigned long counts[4];

static void cleanup(void)
{
    unlink(path);
    rmdir(dir);
    if (getpid() == parent && counts[0] + counts[1] + counts[2])
        fprintf(stderr, "fuzz_part: probe verdicts: %lu opened, %lu refused, %lu damaged (%lu of them a sanitizer "
                        "report in libhdf5)\n",
                counts[MS_PROBE_OPENED], counts[MS_PROBE_REFUSED], counts[MS_PROBE_DAMAGED], counts[3]);
}

/* FUZZ_PART_DAMAGE_DIR=DIR keeps the inputs whose probe child died of a
 * sanitizer report in libhdf5 (libFuzzer writes no file for them: the
 * child is not the process it watches). */
static void keep_damage(const uint8_t *data, size_t size)
{
    const char *keep = getenv("FUZZ_PART_DAMAGE_DIR");
    if (!keep) return;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < size; i++) h = (h ^ data[i]) * 1099511628211ull;
    char name[4096];
    snprintf(name, sizeof name, "%s/damage-%016llx", keep, (unsigned long long)h);
    FILE *fp = fopen(name, "wb");
    if (fp) {
        if (size) fwrite(data, 1, size, fp);
        fclose(fp);
    }
}

/* ASan's or UBSan's death in the probe's child (installed there only, by
 * the fork handler below: in this process libFuzzer's own death callback,
 * which writes the crash input, must stay). */
static void on_death(void)
{
    if (getpid() == parent || !child_death) return;
    /* Whose code: the innermost frame that has a source file (only what
     * was built here has debug information: not the sanitizer runtime, its
     * interceptors, libFuzzer) or lies in another module (libhdf5).  In this
     * executable with a source file: medsweep's (only it is instrumented,
     * so a UBSan report is always ours); in libhdf5 (whose memcpy ASan's
     * interceptor caught, whose huge malloc its allocator refused): not. */
    void *frames[64];
    int n = backtrace(frames, 64), ours = 1, verbose = getenv("FUZZ_PART_VERBOSE") != NULL;
    for (int i = 0; i < n; i++) {
        char fn[256] = "", file[512] = "";
        Dl_info di;
        int self = dladdr(frames[i], &di) && di.dli_fname && !strcmp(di.dli_fname, self_module);
        __sanitizer_symbolize_pc(frames[i], "%f", fn, sizeof fn);
        __sanitizer_symbolize_pc(frames[i], "%s", file, sizeof file);
        if (verbose)
            fprintf(stderr, "fuzz_part: child frame %d: %s %s %s\n", i, self ? "self" : di.dli_fname, fn, file);
        if (self && (!file[0] || file[0] == '<' || !strcmp(fn, "on_death"))) continue;
        ours = self;
        break;
    }
    *child_death = ours ? 1 : 2;
}

static void in_child(void)
{
    __sanitizer_set_death_callback(on_death);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    parent = getpid();
    void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) abort();
    child_death = page;
    Dl_info di;
    if (!dladdr((void *)LLVMFuzzerTestOneInput, &di) || !di.dli_fname) abort();
    snprintf(self_module, sizeof self_module, "%s", di.dli_fname);
    if (pthread_atfork(NULL, NULL, in_child) != 0) abort();
    /* The input as a file in /dev/shm (HDF5 does not open a memfd's
     * /proc/self/fd path). */
    ms_fuzz_scratch_dir(dir, sizeof dir, "fuzz_part");
    snprintf(path, sizeof path, "%s/part.h5", dir);
    atexit(cleanup);
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int holds(const uint8_t *data, size_t size, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= size; i++)
        if (data[i] == (uint8_t)s[0] && !memcmp(data + i, s, n)) return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const ms_table_t *t = ms_table(holds(data, size, "drug_items") ? MS_TABLE_DRUG_ITEMS : MS_TABLE_SETTLEMENTS);
    FILE *fp = fopen(path, "wb");
    if (!fp || (size && fwrite(data, 1, size, fp) != size) || fclose(fp) != 0) {
        perror(path);
        abort();
    }
    ms_part_info_t info;
    memset(&info, 0, sizeof info);
    ms_probe_t verdict;
    ms_status_t open_st = MS_OK;
    *child_death = 0;
    double t0 = now_ms();
    if (ms_part_probe(path, t, NULL, &info, &verdict, &open_st) != MS_OK) abort(); /* no child: not the input's doing */
    double t1 = now_ms();
    if (getenv("FUZZ_PART_VERBOSE"))
        fprintf(stderr, "fuzz_part: %s, probe verdict %d (%.2f ms), status %d: %s\n", t->name, (int)verdict, t1 - t0,
                (int)open_st, verdict == MS_PROBE_OPENED ? "" : ms_error_detail());
    counts[verdict]++;
    if (*child_death == 2) counts[3]++, keep_damage(data, size);
    if (*child_death == 1) {
        fprintf(stderr, "fuzz_part: the probe's child died of a sanitizer report in medsweep's own code "
                        "(the report above)\n");
        abort();
    }
    /* Every input is small: out of memory means a size taken from the file
     * unchecked (and --skip-bad would not skip it: MS_E_NOMEM is no damage). */
    if (verdict == MS_PROBE_REFUSED && open_st == MS_E_NOMEM) {
        fprintf(stderr, "fuzz_part: ms_part_open runs out of memory on a %zu-byte file: %s\n", size,
                ms_error_detail());
        abort();
    }
    if (verdict != MS_PROBE_DAMAGED) {
        ms_part_t *p = NULL;
        ms_status_t st = ms_part_open(path, t, NULL, &p);
        /* The child and this process read the same bytes with the same code. */
        if (st != open_st || (verdict == MS_PROBE_OPENED) != (st == MS_OK)) abort();
        if (st == MS_OK) {
            const ms_part_info_t *in = ms_part_info(p);
            if (in->index != info.index || in->count != info.count || in->rows != info.rows ||
                in->chunk_rows != info.chunk_rows || in->min_date != info.min_date || in->max_date != info.max_date ||
                strcmp(in->ref_checksum, info.ref_checksum) != 0)
                abort();
            (void)ms_fuzz_read_all(p, (size_t)(size % 61), MS_READ_PREAD, size / 7);
            ms_part_close(p);
        }
        if (getenv("FUZZ_PART_VERBOSE")) fprintf(stderr, "fuzz_part: open and read %.2f ms\n", now_ms() - t1);
    }
    unlink(path);
    return 0;
}
