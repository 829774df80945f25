/* Unit tests for buf.c: growth across many kilobytes, printf formatting,
 * JSON string escaping, and the ownership hand-over of buf_steal. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

/* Escapes in (len bytes) with buf_json_string and compares with want. */
static void assert_json_string(const char *in, size_t len, const char *want)
{
    struct buf b;
    buf_init(&b);
    buf_json_string(&b, in, len);
    cr_assert_eq(b.len, strlen(want), "escaping %zu bytes: got %s, want %s", len, b.data, want);
    cr_assert_str_eq(b.data, want);
    buf_free(&b);
}

TestSuite(buf);

Test(buf, a_new_buffer_is_empty_and_freeing_it_is_harmless)
{
    struct buf b;
    buf_init(&b);
    cr_assert_eq(b.len, 0);
    cr_assert_null(b.data);
    buf_free(&b);
    buf_free(&b);
    cr_assert_null(b.data);
}

Test(buf, appends_across_many_kilobytes_keep_every_byte_in_order)
{
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < 20000; i++) {
        char c = (char)('a' + i % 26);
        buf_append(&b, &c, 1);
        buf_puts(&b, "xy");
    }
    cr_assert_eq(b.len, 60000);
    cr_assert_geq(b.cap, b.len + 1);
    for (int i = 0; i < 20000; i++) {
        cr_assert_eq(b.data[3 * i], (char)('a' + i % 26), "byte %d", 3 * i);
        cr_assert_eq(b.data[3 * i + 1], 'x');
        cr_assert_eq(b.data[3 * i + 2], 'y');
    }
    cr_assert_eq(b.data[b.len], '\0', "the buffer stays NUL-terminated");
    buf_free(&b);
}

Test(buf, one_large_append_grows_the_buffer_at_once)
{
    size_t n = 300 * 1024;
    char *big = malloc(n);
    cr_assert_not_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i % 251);
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "head");
    buf_append(&b, big, n);
    cr_assert_eq(b.len, n + 4);
    cr_assert_eq(memcmp(b.data, "head", 4), 0);
    cr_assert_eq(memcmp(b.data + 4, big, n), 0);
    cr_assert_eq(b.data[b.len], '\0');
    free(big);
    buf_free(&b);
}

Test(buf, put_int_writes_what_printf_writes_down_to_the_extremes)
{
    const long long values[] = {0, 7, -7, 10, -10, 1234567890123LL, LLONG_MAX, LLONG_MIN, LLONG_MIN + 1};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        struct buf b;
        char want[32];
        buf_init(&b);
        buf_puts(&b, "x");
        buf_put_int(&b, values[i]);
        buf_putc(&b, '\0');
        snprintf(want, sizeof want, "x%lld", values[i]);
        cr_assert_str_eq(b.data, want);
        buf_free(&b);
    }
}

Test(buf, printf_output_accumulates_across_many_kilobytes)
{
    struct buf b, want;
    buf_init(&b);
    buf_init(&want);
    for (int i = 0; i < 5000; i++) {
        char piece[32];
        int n = snprintf(piece, sizeof piece, "%05d:%s,", i, i % 2 ? "odd" : "even");
        buf_append(&want, piece, (size_t)n);
        buf_printf(&b, "%05d:%s,", i, i % 2 ? "odd" : "even");
    }
    cr_assert_eq(b.len, want.len);
    cr_assert_str_eq(b.data, want.data);
    cr_assert_gt(b.len, 40000);
    buf_free(&b);
    buf_free(&want);
}

Test(buf, a_single_printf_longer_than_the_initial_capacity_is_complete)
{
    char big[5000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "<%s|%d>", big, 42);
    cr_assert_eq(b.len, sizeof big - 1 + 5);
    cr_assert_eq(b.data[0], '<');
    cr_assert_str_eq(b.data + b.len - 4, "|42>");
    buf_free(&b);
}

Test(buf, reset_empties_the_content_but_keeps_the_memory)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "something");
    size_t cap = b.cap;
    buf_reset(&b);
    cr_assert_eq(b.len, 0);
    cr_assert_str_eq(b.data, "");
    cr_assert_eq(b.cap, cap);
    buf_puts(&b, "new");
    cr_assert_str_eq(b.data, "new");
    buf_free(&b);
}

Test(buf, steal_hands_over_the_string_and_leaves_the_buffer_empty)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "owned text");
    char *s = buf_steal(&b);
    cr_assert_str_eq(s, "owned text");
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.cap, 0);
    cr_assert_null(b.data);
    /* The buffer is reusable and no longer aliases the stolen string. */
    buf_puts(&b, "again");
    cr_assert_str_eq(s, "owned text");
    cr_assert_neq(b.data, s);
    free(s);
    buf_free(&b);
}

Test(buf, steal_of_an_empty_buffer_returns_an_empty_string_not_null)
{
    struct buf b;
    buf_init(&b);
    char *s = buf_steal(&b);
    cr_assert_not_null(s);
    cr_assert_str_eq(s, "");
    cr_assert_null(b.data);
    free(s);
}

Test(buf, json_string_escapes_quotes_and_backslashes)
{
    assert_json_string("say \"hi\"", 8, "\"say \\\"hi\\\"\"");
    assert_json_string("C:\\dir\\", 7, "\"C:\\\\dir\\\\\"");
    assert_json_string("", 0, "\"\"");
}

Test(buf, json_string_escapes_the_usual_control_characters_by_name)
{
    assert_json_string("a\nb\rc\td\be\ff", 11, "\"a\\nb\\rc\\td\\be\\ff\"");
}

Test(buf, json_string_escapes_other_control_characters_as_unicode)
{
    assert_json_string("\x01", 1, "\"\\u0001\"");
    assert_json_string("x\x1fy", 3, "\"x\\u001fy\"");
    assert_json_string("\x1b[0m", 4, "\"\\u001b[0m\"");
}

Test(buf, json_string_escapes_an_embedded_nul_instead_of_stopping)
{
    assert_json_string("a\0b", 3, "\"a\\u0000b\"");
}

Test(buf, json_string_escapes_del)
{
    assert_json_string("\x7f", 1, "\"\\u007f\"");
}

Test(buf, json_string_passes_utf8_through_unchanged)
{
    const char *s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
    size_t len = strlen(s);
    struct buf b;
    buf_init(&b);
    buf_json_string(&b, s, len);
    cr_assert_eq(b.len, len + 2);
    cr_assert_eq(memcmp(b.data + 1, s, len), 0);
    buf_free(&b);
}

Test(buf, json_string_appends_after_existing_content)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"k\":");
    buf_json_string(&b, "v\"", 2);
    buf_putc(&b, '}');
    cr_assert_str_eq(b.data, "{\"k\":\"v\\\"\"}");
    buf_free(&b);
}

Test(buf, json_string_of_a_long_text_with_escapes_is_complete)
{
    struct buf in, b;
    buf_init(&in);
    buf_init(&b);
    for (int i = 0; i < 4000; i++)
        buf_puts(&in, "ab\"\n");
    buf_json_string(&b, in.data, in.len);
    cr_assert_eq(b.len, 2 + 4000 * 6);
    for (int i = 0; i < 4000; i++)
        cr_assert_eq(memcmp(b.data + 1 + 6 * i, "ab\\\"\\n", 6), 0, "chunk %d", i);
    buf_free(&in);
    buf_free(&b);
}

Test(buf, xstrndup_copies_at_most_n_bytes)
{
    char *s = xstrndup("abcdef", 3);
    cr_assert_str_eq(s, "abc");
    free(s);
}

Test(buf, json_string_keeps_utf8_and_replaces_bytes_that_are_not)
{
    struct buf b;
    buf_init(&b);
    const char in[] = "a\xc3\xa9" "b\xff" "c\xe2\x82" "d\x7f";
    buf_json_string(&b, in, sizeof in - 1);
    cr_assert_str_eq(b.data, "\"a\xc3\xa9" "b\\ufffdc\\ufffd\\ufffdd\\u007f\"");
    buf_free(&b);
}
