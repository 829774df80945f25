/* Unit tests for text.c: UTF-8 sequence checks, hex digits, JSON compaction. */
#include <criterion/criterion.h>
#include <string.h>

#include "text.h"

TestSuite(text);

static void assert_compacts(const char *in, const char *want)
{
    char out[256];
    size_t n = json_compact(out, in, strlen(in));
    out[n] = '\0';
    cr_assert_str_eq(out, want, "json_compact(%s)", in);
}

Test(text, json_compact_drops_whitespace_between_members)
{
    assert_compacts("{\"id\" : 1, \"a\" : [1, 2,\n\t3]}", "{\"id\":1,\"a\":[1,2,3]}");
}

Test(text, json_compact_keeps_whitespace_inside_strings)
{
    assert_compacts("{\"k y\" : \" a , b : c \"}", "{\"k y\":\" a , b : c \"}");
}

Test(text, json_compact_is_not_fooled_by_escaped_quotes)
{
    assert_compacts("{\"a\" : \"x\\\" , \\\\\" , \"b\" : \" \\\\\"}", "{\"a\":\"x\\\" , \\\\\",\"b\":\" \\\\\"}");
}

Test(text, json_compact_works_in_place)
{
    char s[] = "[ 1 , \"two three\" ]";
    size_t n = json_compact(s, s, strlen(s));
    s[n] = '\0';
    cr_assert_str_eq(s, "[1,\"two three\"]");
}

Test(text, utf8_seq_len_accepts_well_formed_and_refuses_the_rest)
{
    cr_assert_eq(utf8_seq_len((const unsigned char *)"a", 1), 1);
    cr_assert_eq(utf8_seq_len((const unsigned char *)"\xc3\xa9", 2), 2);
    cr_assert_eq(utf8_seq_len((const unsigned char *)"\xe2\x82\xac", 3), 3);
    cr_assert_eq(utf8_seq_len((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
    cr_assert_eq(utf8_seq_len((const unsigned char *)"\xc0\xaf", 2), 0, "overlong");
    cr_assert_eq(utf8_seq_len((const unsigned char *)"\xed\xa0\x80", 3), 0, "surrogate");
    cr_assert_eq(utf8_seq_len((const unsigned char *)"\xf4\x90\x80\x80", 4), 0, "above U+10FFFF");
    cr_assert_eq(utf8_seq_len((const unsigned char *)"\xe2\x82", 2), 0, "cut short");
    cr_assert_eq(utf8_seq_len((const unsigned char *)"\xff", 1), 0);
}

Test(text, hex_digit_value_maps_both_cases)
{
    cr_assert_eq(hex_digit_value('0'), 0);
    cr_assert_eq(hex_digit_value('9'), 9);
    cr_assert_eq(hex_digit_value('a'), 10);
    cr_assert_eq(hex_digit_value('F'), 15);
    cr_assert_eq(hex_digit_value('g'), -1);
    cr_assert_eq(hex_digit_value(' '), -1);
}
