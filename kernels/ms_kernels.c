/*
 * ms_kernels.c - the dispatch tables: references first, then each set built
 * on the one below it; the one in use chosen once, by CPU detection or
 * MS_KERNELS (hot loops never test the CPU).
 */
#include "ms_kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "ms_kernels_sets.h"
#include "ref/ms_kernels_ref.h"

static const ms_kernels_t ref_table = {
    .count_by_key = ms_k_count_by_key_ref,
    .sum_by_key = ms_k_sum_by_key_ref,
    .count_by_key_if = ms_k_count_by_key_if_ref,
    .select_eq_u8 = ms_k_select_eq_u8_ref,
    .select_nz_u32 = ms_k_select_nz_u32_ref,
    .count_by_key_sel = ms_k_count_by_key_sel_ref,
    .sum_by_key_sel = ms_k_sum_by_key_sel_ref,
    .segments_u64 = ms_k_segments_u64_ref,
    .add_i64 = ms_k_add_i64_ref,
    .share_at_least = ms_k_share_at_least_ref,
    .unshuffle = ms_k_unshuffle_ref,
    .fletcher32 = ms_k_fletcher32_ref,
    .firsts_in_runs = ms_k_firsts_in_runs_ref,
    .inside_other_stay = ms_k_inside_other_stay_ref,
    .window_max_sum = ms_k_window_max_sum_ref,
    .sort_i32 = ms_k_sort_i32_ref,
    .sort_f64 = ms_k_sort_f64_ref,
    .rank_u64 = ms_k_rank_u64_ref,
    .name = "ref",
};

static const char *const names[MS_ISA_COUNT] = {"ref", "portable", "sse42", "avx2", "avx512"};

static ms_kernels_t tables[MS_ISA_COUNT];
static int runs[MS_ISA_COUNT];    /* this CPU runs the set */
static ms_isa_t best, chosen;
static once_flag once = ONCE_FLAG_INIT;

/* What the CPU runs.  GCC's and clang's __builtin_cpu_supports also check
 * that the operating system saves the AVX and AVX-512 registers (XCR0). */
static void detect(void)
{
    runs[MS_ISA_REF] = runs[MS_ISA_PORTABLE] = 1;
#ifdef MS_KERNELS_X86
    __builtin_cpu_init();
    /* Every flag a set's files are compiled with (kernels/CMakeLists.txt). */
    runs[MS_ISA_SSE42] = __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("popcnt");
    runs[MS_ISA_AVX2] = runs[MS_ISA_SSE42] && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
                        __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
    runs[MS_ISA_AVX512] = runs[MS_ISA_AVX2] && __builtin_cpu_supports("avx512f") &&
                          __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512cd") &&
                          __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#endif
    best = MS_ISA_PORTABLE;
    for (int s = MS_ISA_PORTABLE; s < MS_ISA_COUNT; s++)
        if (runs[s]) best = (ms_isa_t)s;
}

uint8_t ms_k_bit_pos[256][8];

static void build_bit_pos(void)
{
    for (unsigned mask = 0; mask < 256; mask++) {
        unsigned k = 0;
        for (unsigned b = 0; b < 8; b++)
            if (mask >> b & 1) ms_k_bit_pos[mask][k++] = (uint8_t)b;
    }
}

static void build(void)
{
    build_bit_pos();
    tables[MS_ISA_REF] = ref_table;
    tables[MS_ISA_PORTABLE] = ref_table;
    ms_kfill_rows_portable(&tables[MS_ISA_PORTABLE]);
    ms_kfill_spans_portable(&tables[MS_ISA_PORTABLE]);
#ifdef MS_KERNELS_X86
    /* A set's fill function may only be called where the CPU runs it
     * (it may set up constants with its instructions). */
    void (*const fill[MS_ISA_COUNT][2])(ms_kernels_t *) = {
        [MS_ISA_SSE42] = {ms_kfill_rows_sse42, ms_kfill_spans_sse42},
        [MS_ISA_AVX2] = {ms_kfill_rows_avx2, ms_kfill_spans_avx2},
        [MS_ISA_AVX512] = {ms_kfill_rows_avx512, ms_kfill_spans_avx512},
    };
    for (int s = MS_ISA_SSE42; s < MS_ISA_COUNT; s++) {
        tables[s] = tables[s - 1];
        if (!runs[s]) continue;
        fill[s][0](&tables[s]);
        fill[s][1](&tables[s]);
    }
#endif
    for (int s = 0; s < MS_ISA_COUNT; s++) tables[s].name = names[s];
}

static void init_tables(void)
{
    detect();
    build();
    chosen = best;
    const char *env = getenv("MS_KERNELS");
    int want = env && *env ? ms_isa_parse(env) : -1;
    /* An unknown or unsupported value keeps the best set; the programs
     * refuse it first (ms_kernels_env_check). */
    if (want >= 0 && runs[want]) chosen = (ms_isa_t)want;
}

const ms_kernels_t *ms_kernels(void)
{
    call_once(&once, init_tables);
    return &tables[chosen];
}

const ms_kernels_t *ms_kernels_ref(void) { return &ref_table; }

const ms_kernels_t *ms_kernels_for(ms_isa_t isa)
{
    call_once(&once, init_tables);
    if ((int)isa < 0 || isa >= MS_ISA_COUNT || !runs[isa]) return NULL;
    return &tables[isa];
}

const char *ms_isa_name(ms_isa_t isa)
{
    return (int)isa >= 0 && isa < MS_ISA_COUNT ? names[isa] : "?";
}

int ms_isa_parse(const char *name)
{
    for (int s = 0; s < MS_ISA_COUNT; s++)
        if (!strcmp(name, names[s])) return s;
    return -1;
}

ms_isa_t ms_isa_best(void)
{
    call_once(&once, init_tables);
    return best;
}

int ms_kernels_env_check(char *msg, size_t cap)
{
    call_once(&once, init_tables);
    const char *env = getenv("MS_KERNELS");
    if (!env || !*env) return 0;
    int want = ms_isa_parse(env);
    if (want >= 0 && runs[want]) return 0;
    char have[64] = "";
    for (int s = 0; s < MS_ISA_COUNT; s++)
        if (runs[s]) {
            size_t l = strlen(have);
            snprintf(have + l, sizeof have - l, "%s%s", l ? ", " : "", names[s]);
        }
    if (want < 0)
        snprintf(msg, cap, "MS_KERNELS=%s is not a kernel set (one of: ref, portable, sse42, avx2, avx512)", env);
    else
        snprintf(msg, cap, "MS_KERNELS=%s: this CPU cannot run that kernel set (it runs: %s)", env, have);
    return -1;
}
