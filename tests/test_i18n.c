/*
 * test_i18n.c - the message catalogue (engine/ms_i18n.h): sorted and
 * unique, every message in both languages, Chinese where it should be,
 * and the words of every indicator every model reports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ms_i18n.h"
#include "ms_model.h"

static int has_cjk(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0xE3 && (unsigned char)*s <= 0xE9) return 1; /* U+3000..U+9FFF lead bytes */
    return 0;
}

static void test_catalogue_is_whole(void **state)
{
    (void)state;
    size_t n = ms_msg_count();
    assert_true(n > 100);
    for (size_t i = 0; i < n; i++) {
        const char *k = ms_msg_key(i);
        assert_non_null(k);
        const char *zh = ms_msg(MS_LANG_ZH, k), *en = ms_msg(MS_LANG_EN, k);
        if (!zh || !en || !*zh || !*en) fail_msg("catalogue key %s lacks a language", k);
        /* Chinese in the Chinese column, none in the English one. */
        if (!has_cjk(zh)) fail_msg("catalogue key %s: zh '%s' has no Chinese", k, zh);
        if (has_cjk(en)) fail_msg("catalogue key %s: en '%s' has Chinese", k, en);
        /* Each part sorted (ms_msg searches them), keys unique across
         * parts: the sweep's words first, then report.html's. */
        size_t first_report = n - ms_report_nmessages;
        if (i + 1 < n && i + 1 != first_report && strcmp(k, ms_msg_key(i + 1)) >= 0)
            fail_msg("catalogue keys out of order: %s before %s", k, ms_msg_key(i + 1));
        for (size_t j = i + 1; j < n; j++)
            if (!strcmp(k, ms_msg_key(j))) fail_msg("catalogue key %s twice", k);
    }
    assert_null(ms_msg(MS_LANG_ZH, "no.such.key"));
    assert_string_equal(ms_msg_or(MS_LANG_EN, "no.such.key", "x"), "x");
    ms_lang_t l;
    assert_int_equal(ms_lang_parse("zh", &l), 0);
    assert_int_equal(l, MS_LANG_ZH);
    assert_int_equal(ms_lang_parse("en", &l), 0);
    assert_int_equal(l, MS_LANG_EN);
    assert_int_equal(ms_lang_parse("fr", &l), -1);
    assert_string_equal(ms_msg_province(MS_LANG_ZH, 440305), "广东");
    assert_string_equal(ms_msg_province(MS_LANG_EN, 110101), "Beijing");
    assert_string_equal(ms_msg_province(MS_LANG_EN, 990101), "");
    assert_string_equal(ms_msg_level(MS_LANG_ZH, 3), "三级");
}

/* Every model's name, every indicator's name, every reason a ranked row
 * can give and every counterpart a clue can name: in Chinese from the
 * catalogue, not the English of the descriptor. */
static void test_every_indicator_has_words(void **state)
{
    (void)state;
    int nm;
    const ms_model_t *const *models = ms_models(&nm);
    for (int m = 0; m < nm; m++) {
        if (!has_cjk(ms_msg_model(MS_LANG_ZH, models[m]))) fail_msg("model %s has no Chinese name", models[m]->name);
        for (int i = 0; i < models[m]->nindicators; i++) {
            const ms_indicator_t *ind = &models[m]->indicators[i];
            if (!has_cjk(ms_msg_indicator(MS_LANG_ZH, models[m], i)))
                fail_msg("%s.%s has no Chinese name", models[m]->name, ind->name);
            if (ind->reason && !has_cjk(ms_msg_reason(MS_LANG_ZH, models[m], i)))
                fail_msg("%s.%s has no Chinese reason", models[m]->name, ind->name);
            if (ind->other && !has_cjk(ms_msg_other(MS_LANG_ZH, models[m], i)))
                fail_msg("%s.%s has no Chinese words for its counterpart", models[m]->name, ind->name);
            /* English: the descriptor's reason, unless the catalogue says it. */
            if (ind->reason) assert_true(*ms_msg_reason(MS_LANG_EN, models[m], i));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalogue_is_whole),
        cmocka_unit_test(test_every_indicator_has_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
