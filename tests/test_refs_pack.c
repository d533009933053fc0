/*
 * test_refs_pack.c - what a reference file's reader sends back from its
 * child process (io/internal/ms_refs_pack.h) is what it read.
 *
 * Reference data with every field set, awkward strings (empty, with
 * commas and quotes, UTF-8) and an empty dictionary is
 * packed per file and unpacked: every field and both content checksums come
 * back equal.  Bytes cut short at every length, or running on by one, are
 * refused with MS_E_INTERNAL, never read past their end, and what was read
 * so far is freed by ms_refs_free (the sanitiser build checks both).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "ms_refs.h"
#include "ms_refs_pack.h"

static char **strings(size_t n, const char *const *s)
{
    char **v = calloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = s[i] ? strdup(s[i]) : NULL;
    return v;
}

static void make_refs(ms_refs_t *r)
{
    memset(r, 0, sizeof *r);
    static const char *const codes[] = {"H11010100000", "H11010100001", "P44030500007"};
    static const char *const names[] = {"", "Hechang \"General\", 3", "深圳 药房"};
    r->n_inst = 3;
    r->inst = calloc(3, sizeof *r->inst);
    for (size_t i = 0; i < 3; i++) {
        r->inst[i] = (ms_institution_t){strdup(codes[i]), strdup(names[i]), (uint8_t)(i + 1), (uint8_t)i,
                                        (uint8_t)(2 - i), 110101 + (int32_t)i, -1 + 300 * (int32_t)i};
    }
    r->n_groups = 2;
    r->groups = calloc(2, sizeof *r->groups);
    r->groups[0] = (ms_group_t){strdup("ES13"), strdup("ES1"), 2, 1.25f, 'E', 0, 7.5f, 1234567};
    r->groups[1] = (ms_group_t){strdup("GB29"), strdup(""), 0, 0.0f, 'G', 1, -0.0f, -5};
    static const char *const diag[] = {"A01.000", "J18.900", "Z99.999"};
    static const char *const proc[] = {"00.0100"};
    static const char *const drugs[] = {"X", "XA01"};
    r->diagnoses = (ms_dict_t){3, strings(3, diag)};
    r->procedures = (ms_dict_t){1, strings(1, proc)};
    r->drugs = (ms_dict_t){2, strings(2, drugs)};
    /* items: none (a dataset without bill lines) */
}

static int same_str(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

static void same_dict(const ms_dict_t *a, const ms_dict_t *b)
{
    assert_int_equal(a->count, b->count);
    for (size_t i = 0; i < a->count; i++) assert_true(same_str(a->str[i], b->str[i]));
}

static void test_round_trip(void **state)
{
    (void)state;
    ms_refs_t r, back;
    make_refs(&r);
    memset(&back, 0, sizeof back);
    for (int which = 0; which < 2; which++) {
        ms_buf_t b = {0};
        assert_int_equal(ms_refs_pack(&r, which, 0x1234567890abcdefull + (uint64_t)which, &b), MS_OK);
        uint64_t stored = 0;
        assert_int_equal(ms_refs_unpack(b.data, b.len, which, &back, &stored), MS_OK);
        assert_true(stored == 0x1234567890abcdefull + (uint64_t)which);
        ms_buf_free(&b);
    }
    assert_int_equal(back.n_inst, r.n_inst);
    for (size_t i = 0; i < r.n_inst; i++) {
        const ms_institution_t *x = &r.inst[i], *y = &back.inst[i];
        assert_true(same_str(x->inst_code, y->inst_code) && same_str(x->name, y->name));
        assert_true(x->kind == y->kind && x->level == y->level && x->ownership == y->ownership);
        assert_true(x->region == y->region && x->beds == y->beds);
    }
    assert_int_equal(back.n_groups, r.n_groups);
    for (size_t i = 0; i < r.n_groups; i++) {
        const ms_group_t *x = &r.groups[i], *y = &back.groups[i];
        assert_true(same_str(x->group_code, y->group_code) && same_str(x->family, y->family));
        assert_true(x->severity == y->severity && x->mdc == y->mdc && x->surgical == y->surgical);
        assert_memory_equal(&x->weight, &y->weight, sizeof x->weight);
        assert_memory_equal(&x->expected_los, &y->expected_los, sizeof x->expected_los);
        assert_true(x->mean_cost == y->mean_cost);
    }
    same_dict(&r.diagnoses, &back.diagnoses);
    same_dict(&r.procedures, &back.procedures);
    same_dict(&r.drugs, &back.drugs);
    same_dict(&r.items, &back.items);
    assert_null(back.items.str);
    uint64_t a0, a1, b0, b1;
    ms_refs_compute_checksums(&r, &a0, &a1);
    ms_refs_compute_checksums(&back, &b0, &b1);
    assert_true(a0 == b0 && a1 == b1);
    ms_refs_free(&r);
    ms_refs_free(&back);
}

/* Each length short of the whole, and one byte more: refused, nothing
 * read past the end (each try gets a buffer of exactly that length). */
static void test_cut_short_or_running_on(void **state)
{
    (void)state;
    ms_refs_t r;
    make_refs(&r);
    for (int which = 0; which < 2; which++) {
        ms_buf_t b = {0};
        assert_int_equal(ms_refs_pack(&r, which, 7, &b), MS_OK);
        for (size_t n = 0; n <= b.len + 1; n++) {
            unsigned char *copy = malloc(n ? n : 1);
            memcpy(copy, b.data, n <= b.len ? n : b.len);
            if (n > b.len) copy[b.len] = 0;
            ms_refs_t back;
            memset(&back, 0, sizeof back);
            uint64_t stored = 0;
            ms_status_t st = ms_refs_unpack(copy, n, which, &back, &stored);
            assert_int_equal(st, n == b.len ? MS_OK : MS_E_INTERNAL);
            ms_refs_free(&back);
            free(copy);
        }
        ms_buf_free(&b);
    }
    ms_refs_free(&r);
}

/* The checksums' input as the reader defines it, built here by hand: each
 * field's bytes (numbers as 8 little-endian bytes, floats by their bits)
 * and a 0x1f after each. */
typedef struct {
    unsigned char *b;
    size_t n;
} stream_t;

static void put(stream_t *s, const void *p, size_t n)
{
    s->b = realloc(s->b, s->n + n + 1);
    memcpy(s->b + s->n, p, n);
    s->b[s->n + n] = 0x1f;
    s->n += n + 1;
}
static void put_str(stream_t *s, const char *str) { put(s, str, strlen(str)); }
static void put_u64(stream_t *s, uint64_t v)
{
    unsigned char le[8];
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(v >> (8 * i));
    put(s, le, 8);
}
static void put_dict(stream_t *s, const char *name, const ms_dict_t *d)
{
    put_str(s, name);
    put_u64(s, d->count);
    for (size_t i = 0; i < d->count; i++) put_str(s, d->str[i]);
}

/* The checksums are XXH3 over that stream, however the reader cuts it into
 * updates: institutions enough to fill its block many times over, one
 * name longer than a block. */
static void test_checksums_are_xxh3_of_the_fields(void **state)
{
    (void)state;
    ms_refs_t r;
    make_refs(&r);
    size_t n = 3000;
    r.inst = realloc(r.inst, n * sizeof *r.inst);
    char *longname = malloc(40001);
    memset(longname, 'x', 40000);
    longname[40000] = 0;
    for (size_t i = 3; i < n; i++) {
        char code[32];
        snprintf(code, sizeof code, "H%011zu", i);
        r.inst[i] = (ms_institution_t){strdup(code), strdup(i == 1234 ? longname : "a clinic"), (uint8_t)(i % 5),
                                       (uint8_t)(i % 3), 1, 440305 + (int32_t)(i % 7), (int32_t)i};
    }
    r.n_inst = n;
    free(longname);
    stream_t a = {0}, g = {0};
    put_u64(&a, r.n_inst);
    for (size_t i = 0; i < r.n_inst; i++) {
        const ms_institution_t *x = &r.inst[i];
        put_str(&a, x->inst_code), put_str(&a, x->name);
        put_u64(&a, x->kind), put_u64(&a, x->level), put_u64(&a, x->ownership);
        put_u64(&a, (uint64_t)(int64_t)x->region), put_u64(&a, (uint64_t)(int64_t)x->beds);
    }
    put_u64(&g, r.n_groups);
    for (size_t i = 0; i < r.n_groups; i++) {
        const ms_group_t *x = &r.groups[i];
        uint32_t w, los;
        memcpy(&w, &x->weight, 4), memcpy(&los, &x->expected_los, 4);
        char mdc[2] = {x->mdc, 0};
        put_str(&g, x->group_code), put_str(&g, x->family), put_u64(&g, x->severity), put_u64(&g, w);
        put_str(&g, mdc), put_u64(&g, x->surgical), put_u64(&g, los), put_u64(&g, (uint64_t)x->mean_cost);
    }
    put_dict(&g, "diagnoses", &r.diagnoses);
    put_dict(&g, "procedures", &r.procedures);
    put_dict(&g, "drugs", &r.drugs);
    uint64_t inst_sum, groups_sum;
    ms_refs_compute_checksums(&r, &inst_sum, &groups_sum);
    assert_true(inst_sum == XXH3_64bits(a.b, a.n));
    assert_true(groups_sum == XXH3_64bits(g.b, g.n));
    free(a.b), free(g.b);
    ms_refs_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_cut_short_or_running_on),
        cmocka_unit_test(test_checksums_are_xxh3_of_the_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
