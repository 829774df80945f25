/* Unit tests for cursor.c: cursors round-trip, their text is unpadded
 * base64url of "1:<micros>:<id>", and decoding refuses every text the
 * encoder would not have written (alphabet, padding, trailing bits,
 * version, number syntax and range, id syntax and length). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <inttypes.h>
#include <string.h>

#include "cursor.h"

/* Parameters hold no pointers: Criterion runs each case in a re-executed
 * process, where addresses of string literals may differ (ASLR). */
struct trip_case {
    int64_t micros;
    char id[CURSOR_ID_MAX + 1];
};

struct raw_case {
    char raw[80];
    size_t len; /* 0: strlen(raw) */
    char why[48];
};

struct text_case {
    char text[128];
    char why[48];
};

/* The test's own base64url (RFC 4648 section 5, no padding), independent
 * of cursor.c's, to build texts from raw bytes. */
static void b64url(const unsigned char *raw, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned long v = (unsigned long)raw[i] << 16;
        if (i + 1 < n)
            v |= (unsigned long)raw[i + 1] << 8;
        if (i + 2 < n)
            v |= raw[i + 2];
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = a[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = a[v & 63];
    }
    out[o] = '\0';
}

static int decode_raw(const char *raw, size_t len, struct cursor *c)
{
    char text[256];
    b64url((const unsigned char *)raw, len, text);
    return cursor_decode(text, c);
}

TestSuite(cursor);

/* ---- round trips ------------------------------------------------------- */

ParameterizedTestParameters(cursor, decode_of_encode_gives_back_the_same_position)
{
    static struct trip_case cases[] = {
        {0, "0"},
        {INT64_C(1732622400123456), "123e4567-e89b-12d3-a456-426614174000"},
        {-1, "1"},
        {INT64_C(-62135596800000000), "9223372036854775807"},
        {INT64_C(253402300799999999), "ffffffff-ffff-ffff-ffff-ffffffffffff"},
        {INT64_MIN, "00000000-0000-0000-0000-000000000000"},
        {INT64_MAX, "0123456789abcdef-0123456789abcdef-012345"}, /* 40 characters */
        {42, "-"},
        {7, "a"},
        {7, "ab"},
        {7, "abc"}, /* three raw lengths mod 3 */
    };
    return cr_make_param_array(struct trip_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct trip_case *tc, cursor, decode_of_encode_gives_back_the_same_position)
{
    struct cursor in = {.micros = tc->micros}, out;
    char text[CURSOR_TEXT_MAX + 2];
    memcpy(in.id, tc->id, sizeof in.id);
    memset(text, 'X', sizeof text);
    cursor_encode(&in, text);
    cr_assert_leq(strlen(text), CURSOR_TEXT_MAX);
    cr_assert_eq(text[CURSOR_TEXT_MAX + 1], 'X', "wrote past CURSOR_TEXT_MAX + 1 bytes");
    for (const char *p = text; *p; p++)
        cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p),
                  "'%c' in %s is not base64url", *p, text);
    memset(&out, 0x55, sizeof out);
    cr_assert_eq(cursor_decode(text, &out), 0, "decode(\"%s\")", text);
    cr_assert_eq(out.micros, tc->micros, "micros %" PRId64 " came back as %" PRId64, tc->micros, out.micros);
    cr_assert_str_eq(out.id, tc->id);
}

Test(cursor, encode_writes_base64url_of_the_versioned_text)
{
    struct cursor c = {.micros = 0, .id = "0"};
    char text[CURSOR_TEXT_MAX + 1];
    cursor_encode(&c, text);
    cr_assert_str_eq(text, "MTowOjA"); /* base64("1:0:0") is "MTowOjA=" */

    struct cursor d = {.micros = -5, .id = "ab"};
    char want[64];
    b64url((const unsigned char *)"1:-5:ab", 7, want);
    cursor_encode(&d, text);
    cr_assert_str_eq(text, want);
}

Test(cursor, decode_accepts_the_extremes_of_int64)
{
    struct cursor c;
    const char *max = "1:9223372036854775807:a", *min = "1:-9223372036854775808:a";
    cr_assert_eq(decode_raw(max, strlen(max), &c), 0);
    cr_assert_eq(c.micros, INT64_MAX);
    cr_assert_eq(decode_raw(min, strlen(min), &c), 0);
    cr_assert_eq(c.micros, INT64_MIN);
}

/* ---- malformed content (valid base64url of a wrong text) ---------------- */

ParameterizedTestParameters(cursor, decode_refuses_every_malformed_content)
{
    static struct raw_case cases[] = {
        {"2:0:a", 0, "version 2"},
        {"0:0:a", 0, "version 0"},
        {"10:0:a", 0, "version 10"},
        {":0:a", 0, "no version"},
        {"1", 0, "version only"},
        {"1:", 0, "nothing after the version"},
        {"1:5", 0, "no id"},
        {"1:5:", 0, "empty id"},
        {"1::a", 0, "empty number"},
        {"1:+5:a", 0, "plus sign"},
        {"1: 5:a", 0, "space before the number"},
        {"1:5 :a", 0, "space after the number"},
        {"1:05:a", 0, "leading zero"},
        {"1:00:a", 0, "two zeros"},
        {"1:-0:a", 0, "minus zero"},
        {"1:-05:a", 0, "negative with a leading zero"},
        {"1:-:a", 0, "minus only"},
        {"1:--5:a", 0, "two minus signs"},
        {"1:5x:a", 0, "letter in the number"},
        {"1:0x10:a", 0, "hex number"},
        {"1:1e3:a", 0, "exponent"},
        {"1:1.5:a", 0, "fraction"},
        {"1:9223372036854775808:a", 0, "INT64_MAX + 1"},
        {"1:-9223372036854775809:a", 0, "INT64_MIN - 1"},
        {"1:99999999999999999999:a", 0, "20 digits"},
        {"1:18446744073709551616:a", 0, "2^64"},
        {"1:5:A", 0, "uppercase id"},
        {"1:5:g", 0, "non-hex id"},
        {"1:5:a:b", 0, "extra field"},
        {"1:5:a b", 0, "space in the id"},
        {"1:5:a\n", 0, "newline after the id"},
        {"1:5:a\0", 6, "NUL after the id"},
        {"1:5\0:a", 6, "NUL in the number"},
        {"1:5:0123456789abcdef-0123456789abcdef-0123456", 0, "41-character id"},
        {"1;5;a", 0, "wrong separators"},
        {" 1:5:a", 0, "leading space"},
    };
    return cr_make_param_array(struct raw_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct raw_case *tc, cursor, decode_refuses_every_malformed_content)
{
    struct cursor c;
    size_t len = tc->len ? tc->len : strlen(tc->raw);
    cr_assert_eq(decode_raw(tc->raw, len, &c), -1, "raw \"%s\" (%s) should be refused", tc->raw, tc->why);
}

/* ---- malformed text ---------------------------------------------------- */

ParameterizedTestParameters(cursor, decode_refuses_text_that_is_not_canonical_base64url)
{
    static struct text_case cases[] = {
        {"", "empty"},
        {"MTowOjA=", "padding"},
        {"MTowOjA==", "double padding"},
        {"MTowOjB", "unused bits set (two bytes short)"},
        {"MTowOjD", "unused bits set again"},
        {"MTowO", "length 4k+1"},
        {"MTowOmFiM", "length 4k+1 (a stray M would add a 0)"},
        {"MTow OjA", "space inside"},
        {" MTowOjA", "leading space"},
        {"MTowOjA ", "trailing space"},
        {"MTowOjA\n", "trailing newline"},
        {"MTo+OjA", "standard alphabet plus"},
        {"MTo/OjA", "standard alphabet slash"},
        {"MTow.jA", "dot"},
        {"MTow\xc3\xa9jA", "non-ASCII"},
    };
    return cr_make_param_array(struct text_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct text_case *tc, cursor, decode_refuses_text_that_is_not_canonical_base64url)
{
    struct cursor c;
    cr_assert_eq(cursor_decode(tc->text, &c), -1, "\"%s\" (%s) should be refused", tc->text, tc->why);
}

Test(cursor, the_canonical_text_next_to_the_refused_ones_is_accepted)
{
    /* Guards the table above: its near-misses differ from this by one
     * character, so a refusal there is for the stated reason. */
    struct cursor c;
    cr_assert_eq(cursor_decode("MTowOjA", &c), 0);
    cr_assert_eq(c.micros, 0);
    cr_assert_str_eq(c.id, "0");
}

Test(cursor, decode_refuses_null)
{
    struct cursor c;
    cr_assert_eq(cursor_decode(NULL, &c), -1);
}

Test(cursor, decode_refuses_set_unused_bits_after_a_one_byte_tail)
{
    /* 7 raw bytes: the text ends in 2 characters carrying 1 byte, and the
     * last character's low 4 bits are unused. */
    char text[64];
    struct cursor c;
    b64url((const unsigned char *)"1:0:abc", 7, text);
    cr_assert_eq(cursor_decode(text, &c), 0, "the canonical form decodes");
    size_t n = strlen(text);
    cr_assert_eq(text[n - 1], 'w', "fixture: base64url(\"1:0:abc\") ends in 'w'");
    text[n - 1] = 'x'; /* 'w' is 110000, 'x' is 110001 */
    cr_assert_eq(cursor_decode(text, &c), -1);
}

Test(cursor, decode_refuses_a_text_longer_than_the_maximum)
{
    char text[CURSOR_TEXT_MAX + 8];
    memset(text, 'A', CURSOR_TEXT_MAX + 4); /* a multiple of 4: well-formed base64url */
    text[CURSOR_TEXT_MAX + 4] = '\0';
    struct cursor c;
    cr_assert_eq(cursor_decode(text, &c), -1);
}

Test(cursor, decode_leaves_the_cursor_alone_on_failure)
{
    struct cursor c = {.micros = 99, .id = "keep"};
    cr_assert_eq(decode_raw("1:5:G", 5, &c), -1);
    cr_assert_eq(c.micros, 99);
    cr_assert_str_eq(c.id, "keep");
}
