/*
 * test_model_contract.c - what the engine promises a model, and checks of
 * it: descriptors are whole, arrays are sized from the registry (no fixed
 * maximum), several keyed aggregations per model each get their own records
 * and reducer, and a column read without being declared is a named error,
 * not a crash.
 *
 * The sweeps here run through the library (ms_sweep with opts.model_list),
 * with models defined in this file: that is how a model developer tries a
 * model before it joins the registry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ms_fs.h"
#include "ms_model.h"
#include "ms_sweep.h"
#include "ms_tally.h"
#include "ms_testdata.h"
#include "ms_testutil.h"

/* ------------------------------------------------------- the registry */

static void test_registry_models_are_whole(void **unused)
{
    (void)unused;
    int n;
    const ms_model_t *const *all = ms_models(&n);
    assert_true(n >= 7);
    int records = 0, baselines = 0;
    for (int m = 0; m < n; m++) {
        const ms_model_t *mod = all[m];
        if (ms_model_check(mod) != MS_OK) fail_msg("%s", ms_error_detail());
        assert_ptr_equal(ms_model_find(mod->name), mod);
        /* A model that scores something must weigh something, and one
         * that only describes must not. */
        int scored = 0;
        for (int i = 0; i < mod->nindicators; i++) scored |= mod->indicators[i].kind != MS_IND_INFO;
        if (scored) assert_true(mod->default_weight > 0);
        else assert_true(mod->default_weight == 0);
        records += mod->records_indicator != NULL;
        baselines += mod->baseline_indicator != NULL;
    }
    /* Exactly one model counts the records swept, and one is eval's baseline. */
    assert_int_equal(records, 1);
    assert_int_equal(baselines, 1);
    int ind;
    const ms_model_t *r = ms_models_records(&ind);
    assert_non_null(r);
    assert_true(r->always_runs);
    assert_string_equal(r->indicators[ind].name, r->records_indicator);
    assert_non_null(ms_models_baseline(&ind));
    assert_true(ind >= 0);
}

/* ms_model_check names what is missing. */
static ms_status_t nop_init(const ms_model_env_t *env, void **state)
{
    (void)env;
    *state = calloc(1, 1);
    return MS_OK;
}
static void nop_free(void *state) { free(state); }
static ms_status_t nop_merge(void *a, const void *b) { return (void)a, (void)b, MS_OK; }
static ms_status_t nop_save(const void *s, ms_buf_t *out) { return (void)s, (void)out, MS_OK; }
static ms_status_t nop_load(void *s, const void *d, size_t n) { return (void)s, (void)d, (void)n, MS_OK; }
static ms_status_t nop_batch(void *s, ms_table_id_t t, const ms_batch_t *b, ms_emit_t *e)
{
    return (void)s, (void)t, (void)b, (void)e, MS_OK;
}
static ms_status_t nop_finalize(void *s, const ms_model_env_t *env, ms_model_result_t *res)
{
    (void)s;
    return ms_model_result_alloc(res, (uint32_t)env->refs->n_inst, 1, 0);
}
static const ms_indicator_t one_info[] = {{.name = "n", .description = "nothing", .kind = MS_IND_INFO}};

static void test_check_names_what_is_missing(void **unused)
{
    (void)unused;
    ms_model_t m = {.name = "half", .version = "1", .description = "a half-written model", .indicators = one_info,
                    .nindicators = 1, .init = nop_init, .batch = nop_batch, .merge = nop_merge, .save = nop_save,
                    .finalize = nop_finalize, .free = nop_free};
    assert_int_equal(ms_model_check(&m), MS_E_INTERNAL);
    assert_non_null(strstr(ms_error_detail(), "model 'half'"));
    assert_non_null(strstr(ms_error_detail(), "load"));
    m.load = nop_load;
    assert_int_equal(ms_model_check(&m), MS_OK);
    m.records_indicator = "nope";
    assert_int_equal(ms_model_check(&m), MS_E_INTERNAL);
    assert_non_null(strstr(ms_error_detail(), "records_indicator 'nope'"));
    m.records_indicator = NULL;
    ms_keyed_t twice[] = {{.name = "k", .value_size = 8}, {.name = "k", .value_size = 8}};
    m.keyed = twice;
    m.nkeyed = 2;
    assert_int_equal(ms_model_check(&m), MS_E_INTERNAL);
    assert_non_null(strstr(ms_error_detail(), "reducer"));
}

/* ------------------------------------------------ sweeping test models */

typedef struct {
    char *dir, *data, *out;
} fixture_t;

/* Three institutions; persons with outpatient visits and drug lines. */
static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->dir = ms_test_dir("contract");
    f->data = ms_path_join(f->dir, "data");
    f->out = ms_path_join(f->dir, "out");
    ms_testdata_t t;
    ms_testdata_init(&t, 3, 2);
    int32_t day = ms_testdata_day("2025-03-01");
    for (uint64_t p = 1; p <= 60; p++) {
        ms_settlement_t *s = ms_testdata_visit(&t, p, (uint32_t)(p % 3), day + (int32_t)(p % 5));
        s->doctor_id = 100 + p % 2;
        ms_testdata_item(&t, s, 0, 1000 + p, p % 7); /* trace codes: (1000 + p, p % 7) */
    }
    if (ms_testdata_write(&t, f->data) != MS_OK) fail_msg("%s", ms_error_detail());
    ms_testdata_free(&t);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (!getenv("MS_KEEP")) ms_remove_tree(f->dir);
    free(f->dir), free(f->data), free(f->out);
    free(f);
    return 0;
}

static ms_status_t sweep_counting(const fixture_t *f, const ms_model_t *const *models, int n, int no_key_count,
                                  ms_sweep_result_t *res)
{
    ms_sweep_opts_t o;
    ms_sweep_opts_init(&o);
    o.dataset = f->data;
    o.out = f->out;
    o.replace = 1;
    o.threads = 2;
    o.model_list = models;
    o.nmodel_list = n;
    o.no_key_count = no_key_count;
    return ms_sweep(&o, res);
}

static ms_status_t sweep_with(const fixture_t *f, const ms_model_t *const *models, int n, ms_sweep_result_t *res)
{
    return sweep_counting(f, models, n, 0, res);
}

/* The records counter every sweep needs: a tally of settlements. */
typedef struct {
    ms_tally_t t;
} count_t;

static ms_status_t count_init(const ms_model_env_t *env, void **state)
{
    count_t *c = calloc(1, sizeof *c);
    if (!c || ms_tally_init(&c->t, (uint32_t)env->refs->n_inst, 1) != MS_OK) {
        free(c);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    *state = c;
    return MS_OK;
}
static void count_free(void *state)
{
    count_t *c = state;
    if (c) ms_tally_free(&c->t);
    free(c);
}
static ms_status_t count_batch(void *state, ms_table_id_t table, const ms_batch_t *b, ms_emit_t *emit)
{
    (void)emit;
    if (table != MS_TABLE_SETTLEMENTS) return MS_OK;
    count_t *c = state;
    const int32_t *inst = ms_col(b, MS_SC_inst_code);
    for (size_t i = 0; i < b->rows; i++) (*ms_tally_num(&c->t, 0, (uint32_t)inst[i]))++;
    return MS_OK;
}
static ms_status_t count_finalize(void *state, const ms_model_env_t *env, ms_model_result_t *res)
{
    (void)env;
    return ms_tally_finalize(&((count_t *)state)->t, res, 0);
}
static const ms_indicator_t count_ind[] = {{.name = "settlements", .description = "settlements", .kind = MS_IND_INFO}};

#define COUNT_MODEL(nm)                                                                                          \
    {.name = nm, .version = "1", .description = "counts settlements", .settlement_cols = 1ull << MS_SC_inst_code, \
     .indicators = count_ind, .nindicators = 1, .always_runs = 1, .records_indicator = "settlements",            \
     .init = count_init, .batch = count_batch, .merge = ms_tally_state_merge, .save = ms_tally_state_save,      \
     .load = ms_tally_state_load, .finalize = count_finalize, .free = count_free}

static const ms_model_t counter = COUNT_MODEL("counter");

/* A model that reads doctor_id without declaring it. */
static ms_status_t sloppy_batch(void *state, ms_table_id_t table, const ms_batch_t *b, ms_emit_t *emit)
{
    (void)emit;
    if (table != MS_TABLE_SETTLEMENTS) return MS_OK;
    count_t *c = state;
    const int32_t *inst = ms_col(b, MS_SC_inst_code);
    const uint32_t *doc = ms_col(b, MS_SC_doctor_id); /* not declared below */
    for (size_t i = 0; i < b->rows; i++) *ms_tally_num(&c->t, 0, (uint32_t)inst[i]) += doc[i] != 0;
    return MS_OK;
}

static void test_undeclared_column_is_named(void **state)
{
    fixture_t *f = *state;
    ms_model_t sloppy = COUNT_MODEL("sloppy");
    sloppy.always_runs = 0;
    sloppy.records_indicator = NULL;
    sloppy.batch = sloppy_batch;
    const ms_model_t *models[] = {&counter, &sloppy};
    ms_sweep_result_t res;
    ms_status_t st = sweep_with(f, models, 2, &res);
    assert_int_not_equal(st, MS_OK);
    const char *d = ms_error_detail();
    assert_non_null(strstr(d, "model sloppy reads column settlements.doctor_id"));
    assert_non_null(strstr(d, "settlement_cols"));
    /* Declared, the same model sweeps. */
    sloppy.settlement_cols |= 1ull << MS_SC_doctor_id;
    st = sweep_with(f, models, 2, &res);
    if (st != MS_OK) fail_msg("%s", ms_error_detail());
    assert_int_equal(res.rows[0], 60);
}

/* Forty models: more than any fixed table the engine once had. */
static void test_no_fixed_maximum_of_models(void **state)
{
    fixture_t *f = *state;
    enum { N = 40 };
    ms_model_t many[N];
    char names[N][16];
    const ms_model_t *models[N];
    for (int m = 0; m < N; m++) {
        snprintf(names[m], sizeof names[m], "count%02d", m);
        many[m] = (ms_model_t)COUNT_MODEL(names[m]);
        if (m) many[m].always_runs = 0, many[m].records_indicator = NULL;
        models[m] = &many[m];
    }
    ms_sweep_result_t res;
    ms_status_t st = sweep_with(f, models, N, &res);
    if (st != MS_OK) fail_msg("%s", ms_error_detail());
    char *path = ms_path_join(f->out, "indicators.csv");
    char *text = ms_test_slurp(path, NULL);
    assert_non_null(text);
    /* Every model reported: the last one's counts are there. */
    assert_non_null(strstr(text, "count39,settlements"));
    free(text), free(path);
}

/* Two keyed aggregations of different sizes in one model: trace codes
 * (16-byte values) and doctor-days (8-byte values), each reduced by its
 * own reducer. */
enum { K_CODES, K_DOCTORS };

typedef struct {
    ms_tally_t t; /* [0] distinct codes seen at the institution of their first line, [1] lines of doctors */
} two_t;

static ms_status_t two_init(const ms_model_env_t *env, void **state)
{
    two_t *s = calloc(1, sizeof *s);
    if (!s || ms_tally_init(&s->t, (uint32_t)env->refs->n_inst, 2) != MS_OK) {
        free(s);
        return ms_error_set(MS_E_NOMEM, "out of memory");
    }
    *state = s;
    return MS_OK;
}
static void two_free(void *state)
{
    two_t *s = state;
    if (s) ms_tally_free(&s->t);
    free(s);
}
static ms_status_t two_batch(void *state, ms_table_id_t table, const ms_batch_t *b, ms_emit_t *emit)
{
    (void)state;
    if (table == MS_TABLE_DRUG_ITEMS) {
        const uint64_t *hi = ms_col(b, MS_DC_trace_hi), *lo = ms_col(b, MS_DC_trace_lo);
        const int32_t *inst = ms_col(b, MS_DC_inst_code);
        for (size_t i = 0; i < b->rows; i++) {
            uint64_t v[2] = {(uint64_t)inst[i], lo[i]};
            MS_TRY(ms_emit(emit, K_CODES, hi[i], lo[i], v));
        }
        return MS_OK;
    }
    const uint32_t *doc = ms_col(b, MS_SC_doctor_id);
    const int32_t *inst = ms_col(b, MS_SC_inst_code);
    for (size_t i = 0; i < b->rows; i++) {
        uint64_t v = (uint64_t)inst[i];
        MS_TRY(ms_emit(emit, K_DOCTORS, doc[i], 0, &v));
    }
    return MS_OK;
}
static ms_status_t reduce_codes(void *state, uint64_t k0, uint64_t k1, const void *values, size_t n)
{
    two_t *s = state;
    uint64_t v[2];
    memcpy(v, values, sizeof v);
    if (k0 < 1000 || v[1] != k1) return ms_error_set(MS_E_INTERNAL, "a code record reached the wrong reducer");
    (*ms_tally_num(&s->t, 0, (uint32_t)v[0]))++;
    *ms_tally_den(&s->t, 0, (uint32_t)v[0]) += (int64_t)n;
    return MS_OK;
}
static ms_status_t reduce_doctors(void *state, uint64_t k0, uint64_t k1, const void *values, size_t n)
{
    two_t *s = state;
    if (k0 < 100 || k0 > 101 || k1 != 0) return ms_error_set(MS_E_INTERNAL, "a doctor record reached the wrong reducer");
    for (size_t i = 0; i < n; i++) {
        uint64_t inst;
        memcpy(&inst, (const char *)values + i * sizeof inst, sizeof inst);
        (*ms_tally_num(&s->t, 1, (uint32_t)inst))++;
    }
    return MS_OK;
}
static ms_status_t two_finalize(void *state, const ms_model_env_t *env, ms_model_result_t *res)
{
    (void)env;
    return ms_tally_finalize(&((two_t *)state)->t, res, 0);
}
static const ms_indicator_t two_ind[] = {
    {.name = "codes", .description = "distinct codes", .kind = MS_IND_INFO},
    {.name = "doctor_lines", .description = "settlements with a doctor", .kind = MS_IND_INFO},
};
static const ms_keyed_t two_keyed[] = {
    [K_CODES] = {.name = "codes", .value_size = 16, .reduce = reduce_codes},
    [K_DOCTORS] = {.name = "doctors", .value_size = 8, .reduce = reduce_doctors},
};

static void test_two_keyed_aggregations(void **state)
{
    fixture_t *f = *state;
    const ms_model_t two = {.name = "two", .version = "1", .description = "two keyed aggregations",
                            .settlement_cols = 1ull << MS_SC_doctor_id | 1ull << MS_SC_inst_code,
                            .drug_cols = 1ull << MS_DC_trace_hi | 1ull << MS_DC_trace_lo | 1ull << MS_DC_inst_code,
                            .indicators = two_ind, .nindicators = 2, .keyed = two_keyed, .nkeyed = 2,
                            .init = two_init, .batch = two_batch, .merge = ms_tally_state_merge,
                            .save = ms_tally_state_save, .load = ms_tally_state_load, .finalize = two_finalize,
                            .free = two_free};
    const ms_model_t *models[] = {&counter, &two};
    ms_sweep_result_t res;
    ms_status_t st = sweep_with(f, models, 2, &res);
    if (st != MS_OK) fail_msg("%s", ms_error_detail());
    /* 60 persons at institutions p % 3: 20 each, one code and one doctor
     * settlement each. */
    for (int h = 0; h < 3; h++) {
        char code[8];
        snprintf(code, sizeof code, "H%04d", h + 1);
        long long num, den;
        assert_int_equal(ms_testdata_indicator(f->out, code, "two", "codes", &num, &den), 0);
        assert_int_equal(num, 20);
        assert_int_equal(den, 20);
        assert_int_equal(ms_testdata_indicator(f->out, code, "two", "doctor_lines", &num, &den), 0);
        assert_int_equal(num, 20);
    }
}

/* A keyed aggregation that gives its keys: doctors, each with a floor of
 * its own (29 for doctor 100, 30 for doctor 101; each signs 30
 * settlements), so that the key count holds doctor 100's records only. */
static size_t doctor_floor(const void *state, uint64_t k0, uint64_t k1)
{
    (void)state, (void)k1;
    return k0 == 100 ? 29 : 30;
}
static size_t doctor_keys(const ms_batch_t *b, uint64_t *k0, uint64_t *k1)
{
    const uint32_t *doc = ms_col(b, MS_SC_doctor_id);
    for (size_t i = 0; i < b->rows; i++) k0[i] = doc[i], k1[i] = 0;
    return b->rows;
}
/* A faulty one: it gives doctor 100's keys only. */
static size_t doctor_keys_half(const ms_batch_t *b, uint64_t *k0, uint64_t *k1)
{
    const uint32_t *doc = ms_col(b, MS_SC_doctor_id);
    size_t n = 0;
    for (size_t i = 0; i < b->rows; i++) {
        k0[n] = doc[i], k1[n] = 0;
        n += doc[i] == 100;
    }
    return n;
}
/* Doctors over their floor: their settlements counted where they were. */
static ms_status_t reduce_busy(void *state, uint64_t k0, uint64_t k1, const void *values, size_t n)
{
    if (n <= doctor_floor(state, k0, k1)) return MS_OK;
    return reduce_doctors(state, k0, k1, values, n);
}
static ms_status_t busy_batch(void *state, ms_table_id_t table, const ms_batch_t *b, ms_emit_t *emit)
{
    (void)state;
    if (table != MS_TABLE_SETTLEMENTS) return MS_OK;
    const uint32_t *doc = ms_col(b, MS_SC_doctor_id);
    const int32_t *inst = ms_col(b, MS_SC_inst_code);
    for (size_t i = 0; i < b->rows; i++) {
        uint64_t v = (uint64_t)inst[i];
        MS_TRY(ms_emit(emit, 0, doc[i], 0, &v));
    }
    return MS_OK;
}

static ms_status_t sweep_busy(const fixture_t *f, size_t (*keys)(const ms_batch_t *, uint64_t *, uint64_t *),
                              int no_key_count, json_t **run)
{
    const ms_keyed_t keyed[] = {{.name = "doctors", .value_size = 8, .reduce = reduce_busy, .per_settlement = 1,
                                 .floor = doctor_floor, .key_table = MS_TABLE_SETTLEMENTS,
                                 .key_cols = 1ull << MS_SC_doctor_id, .keys = keys}};
    const ms_model_t busy = {.name = "two", .version = "1", .description = "busy doctors",
                             .settlement_cols = 1ull << MS_SC_doctor_id | 1ull << MS_SC_inst_code,
                             .indicators = two_ind, .nindicators = 2, .keyed = keyed, .nkeyed = 1,
                             .init = two_init, .batch = busy_batch, .merge = ms_tally_state_merge,
                             .save = ms_tally_state_save, .load = ms_tally_state_load, .finalize = two_finalize,
                             .free = two_free};
    const ms_model_t *models[] = {&counter, &busy};
    ms_sweep_result_t res;
    ms_status_t st = sweep_counting(f, models, 2, no_key_count, &res);
    if (st == MS_OK && run) {
        char *path = ms_path_join(f->out, "run.json");
        *run = json_load_file(path, 0, NULL);
        free(path);
        assert_non_null(*run);
    }
    return st;
}

/* The records of keys at or under their floor are left out in the map (the
 * key count), those of every key over it are held: doctor 100's 30
 * settlements reach the reducer and count, doctor 101's are left out, and
 * the indicators are what every record held gives (--no-key-count). */
static void test_key_count_holds_what_can_matter(void **state)
{
    fixture_t *f = *state;
    for (int off = 1; off >= 0; off--) {
        json_t *run = NULL;
        if (sweep_busy(f, doctor_keys, off, &run) != MS_OK) fail_msg("%s", ms_error_detail());
        json_t *k = json_array_get(json_object_get(run, "keyed_aggregations"), 0);
        assert_int_equal(json_integer_value(json_object_get(k, "records")), off ? 60 : 30);
        assert_int_equal(json_integer_value(json_object_get(k, "left_out_records")), off ? 0 : 30);
        assert_true(off ? json_integer_value(json_object_get(k, "key_counters")) == 0
                        : json_integer_value(json_object_get(k, "key_counters")) >= 1 << 16);
        json_t *why = json_object_get(json_object_get(run, "key_count"), "off");
        if (off) assert_string_equal(json_string_value(why), "--no-key-count");
        else assert_true(json_is_null(why));
        json_decref(run);
        /* Doctor 100 signs the even persons' settlements: 10 at each
         * institution p % 3. */
        for (int h = 0; h < 3; h++) {
            char code[8];
            snprintf(code, sizeof code, "H%04d", h + 1);
            long long num, den;
            assert_int_equal(ms_testdata_indicator(f->out, code, "two", "doctor_lines", &num, &den), 0);
            assert_int_equal(num, 10);
        }
    }
}

/* A keys callback that misses keys the model emits would lose records:
 * the sweep stops with an internal error naming the aggregation. */
static void test_key_count_missed_key_is_an_error(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(sweep_busy(f, doctor_keys_half, 0, NULL), MS_E_INTERNAL);
    assert_non_null(strstr(ms_error_detail(), "doctors"));
    assert_non_null(strstr(ms_error_detail(), "never counted"));
    /* Without the count, the same model sweeps. */
    assert_int_equal(sweep_busy(f, doctor_keys_half, 1, NULL), MS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_models_are_whole),
        cmocka_unit_test(test_check_names_what_is_missing),
        cmocka_unit_test_setup_teardown(test_undeclared_column_is_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_fixed_maximum_of_models, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_keyed_aggregations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_count_holds_what_can_matter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_count_missed_key_is_an_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
