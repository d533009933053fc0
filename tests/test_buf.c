/*
 * test_buf.c - the byte buffer and its stream mode (io/common/ms_buf.h).
 *
 * What must hold: a plain buffer holds every byte appended; a stream
 * (ms_buf_stream) hands its sink pieces of exactly its block, in order,
 * whatever the sizes of the appends (none, one byte, several blocks at
 * once), keeps fewer than a block, and ms_buf_flush hands on the rest (and
 * nothing when there is none); the sink's failure is what the append
 * returns.  Partials are written through a stream (engine/sweep/ms_partial.c),
 * so that a model's saved state is never held whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ms_buf.h"
#include "ms_testutil.h"

typedef struct {
    unsigned char *got;
    size_t len, calls, block, short_calls;
    int fail_at; /* the call that fails (0: none) */
} sink_t;

static ms_status_t sink(void *ctx, const unsigned char *p, size_t n)
{
    sink_t *s = ctx;
    s->calls++;
    if (s->fail_at && (int)s->calls == s->fail_at) return ms_error_set(MS_E_IO, "the disk is full");
    assert_true(n > 0 && n <= s->block);
    if (n < s->block) s->short_calls++;
    memcpy(s->got + s->len, p, n);
    s->len += n;
    return MS_OK;
}

static void test_plain_buffer_holds_everything(void **state)
{
    (void)state;
    ms_buf_t b = {0};
    unsigned char in[10000];
    uint64_t r = 7;
    for (size_t i = 0; i < sizeof in; i++) in[i] = (unsigned char)ms_test_rand(&r);
    for (size_t at = 0; at < sizeof in;) {
        size_t n = (size_t)(ms_test_rand(&r) % 700);
        if (n > sizeof in - at) n = sizeof in - at;
        assert_int_equal(ms_buf_put(&b, in + at, n), MS_OK);
        at += n;
    }
    assert_int_equal(b.len, sizeof in);
    assert_memory_equal(b.data, in, sizeof in);
    assert_int_equal(ms_buf_flush(&b), MS_OK); /* not a stream: nothing happens */
    assert_int_equal(b.len, sizeof in);
    ms_buf_free(&b);
}

static void test_stream_hands_on_whole_blocks(void **state)
{
    (void)state;
    static const size_t blocks[] = {1, 7, 64, 4096};
    for (size_t k = 0; k < sizeof blocks / sizeof *blocks; k++) {
        size_t block = blocks[k], total = 0;
        unsigned char *in = malloc(50000);
        sink_t s = {malloc(50000), 0, 0, block, 0, 0};
        ms_buf_t b = {0};
        assert_int_equal(ms_buf_stream(&b, block, sink, &s), MS_OK);
        uint64_t r = 11 + k;
        while (total < 40000) {
            /* none, one byte, about a block, several blocks at once */
            size_t n = (size_t)(ms_test_rand(&r) % 4 == 0 ? 0 : ms_test_rand(&r) % (3 * block + 2));
            for (size_t i = 0; i < n; i++) in[total + i] = (unsigned char)ms_test_rand(&r);
            assert_int_equal(ms_buf_put(&b, in + total, n), MS_OK);
            total += n;
            assert_true(b.len < block);                 /* never a whole block held */
            assert_int_equal(s.len + b.len, total);      /* the rest went on, in order */
        }
        size_t calls = s.calls, held = b.len;
        assert_int_equal(ms_buf_flush(&b), MS_OK);
        assert_int_equal(s.calls, calls + (held > 0));
        assert_int_equal(s.short_calls, held > 0);   /* only the last piece is short */
        assert_int_equal(ms_buf_flush(&b), MS_OK);   /* nothing left: no call */
        assert_int_equal(s.calls, calls + (held > 0));
        assert_int_equal(s.len, total);
        assert_memory_equal(s.got, in, total);
        ms_buf_free(&b);
        free(in), free(s.got);
    }
}

static void test_sink_failure_is_the_append_s(void **state)
{
    (void)state;
    unsigned char in[1000] = {0};
    sink_t s = {malloc(1000), 0, 0, 100, 0, 3};
    ms_buf_t b = {0};
    assert_int_equal(ms_buf_stream(&b, 100, sink, &s), MS_OK);
    assert_int_equal(ms_buf_put(&b, in, 250), MS_OK); /* two blocks on */
    assert_int_equal(ms_buf_put(&b, in, 50), MS_E_IO); /* the third fails */
    ms_test_contains(ms_error_detail(), "the disk is full");
    ms_buf_free(&b);
    free(s.got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_buffer_holds_everything),
        cmocka_unit_test(test_stream_hands_on_whole_blocks),
        cmocka_unit_test(test_sink_failure_is_the_append_s),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
