/* Unit tests for cursor.c: cursors round-trip, their text is unpadded
 * base64url of "2:<scope>:<micros>:<id>", decoding refuses every text the
 * encoder would not have written (alphabet, padding, trailing bits,
 * version, scope syntax, number syntax and range, id syntax and length),
 * and scopes tell lists and filters apart. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <inttypes.h>
#include <string.h>

#include "util/cursor.h"

/* Parameters hold no pointers: Criterion runs each case in a re-executed
 * process, where addresses of string literals may differ (ASLR). */
struct trip_case {
    uint32_t scope;
    int64_t micros;
    char id[CURSOR_ID_MAX + 1];
};

struct raw_case {
    char raw[96];
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
        {0, 0, "0"},
        {0x9e3779b9, INT64_C(1732622400123456), "123e4567-e89b-12d3-a456-426614174000"},
        {UINT32_MAX, -1, "1"},
        {1, INT64_C(-62135596800000000), "9223372036854775807"},
        {0x80000000, INT64_C(253402300799999999), "ffffffff-ffff-ffff-ffff-ffffffffffff"},
        {0xdeadbeef, INT64_MIN, "00000000-0000-0000-0000-000000000000"},
        {0x7fffffff, INT64_MAX, "0123456789abcdef-0123456789abcdef-012345"}, /* 40 characters */
        {42, 42, "-"},
        {0x0000ffff, 7, "a"},
        {0xffff0000, 7, "ab"},
        {0x00000010, 7, "abc"}, /* three raw lengths mod 3 */
    };
    return cr_make_param_array(struct trip_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct trip_case *tc, cursor, decode_of_encode_gives_back_the_same_position)
{
    struct cursor in = {.scope = tc->scope, .micros = tc->micros}, out;
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
    cr_assert_eq(out.scope, tc->scope, "scope %08x came back as %08x", tc->scope, out.scope);
}

Test(cursor, encode_writes_base64url_of_the_versioned_text)
{
    struct cursor c = {.micros = 0, .id = "0"};
    char text[CURSOR_TEXT_MAX + 1];
    cursor_encode(&c, text);
    cr_assert_str_eq(text, "MjowMDAwMDAwMDowOjA"); /* base64("2:00000000:0:0") is "MjowMDAwMDAwMDowOjA=" */

    struct cursor d = {.scope = 0x0123abcd, .micros = -5, .id = "ab"};
    char want[64];
    b64url((const unsigned char *)"2:0123abcd:-5:ab", 16, want);
    cursor_encode(&d, text);
    cr_assert_str_eq(text, want);
}

Test(cursor, decode_accepts_the_extremes_of_int64)
{
    struct cursor c;
    const char *max = "2:ffffffff:9223372036854775807:a", *min = "2:00000000:-9223372036854775808:a";
    cr_assert_eq(decode_raw(max, strlen(max), &c), 0);
    cr_assert_eq(c.micros, INT64_MAX);
    cr_assert_eq(c.scope, UINT32_MAX);
    cr_assert_eq(decode_raw(min, strlen(min), &c), 0);
    cr_assert_eq(c.micros, INT64_MIN);
}

/* ---- malformed content (valid base64url of a wrong text) ---------------- */

ParameterizedTestParameters(cursor, decode_refuses_every_malformed_content)
{
    static struct raw_case cases[] = {
        {"1:0:a", 0, "version 1 (unscoped)"},
        {"1:00000000:0:a", 0, "version 1 with a scope"},
        {"3:00000000:0:a", 0, "version 3"},
        {"0:00000000:0:a", 0, "version 0"},
        {"20:00000000:0:a", 0, "version 20"},
        {":00000000:0:a", 0, "no version"},
        {"2", 0, "version only"},
        {"2:", 0, "nothing after the version"},
        {"2:00000000", 0, "nothing after the scope"},
        {"2:00000000:", 0, "nothing after the scope's colon"},
        {"2:0000000:0:a", 0, "seven-digit scope"},
        {"2:000000000:0:a", 0, "nine-digit scope"},
        {"2:0000000A:0:a", 0, "uppercase scope"},
        {"2:0000000g:0:a", 0, "non-hex scope"},
        {"2:0000000 :0:a", 0, "space in the scope"},
        {"2:-0000000:0:a", 0, "signed scope"},
        {"2:0000000\0:0:a", 15, "NUL in the scope"},
        {"2::0:a", 0, "empty scope"},
        {"2:00000000:5", 0, "no id"},
        {"2:00000000:5:", 0, "empty id"},
        {"2:00000000::a", 0, "empty number"},
        {"2:00000000:+5:a", 0, "plus sign"},
        {"2:00000000: 5:a", 0, "space before the number"},
        {"2:00000000:5 :a", 0, "space after the number"},
        {"2:00000000:05:a", 0, "leading zero"},
        {"2:00000000:00:a", 0, "two zeros"},
        {"2:00000000:-0:a", 0, "minus zero"},
        {"2:00000000:-05:a", 0, "negative with a leading zero"},
        {"2:00000000:-:a", 0, "minus only"},
        {"2:00000000:--5:a", 0, "two minus signs"},
        {"2:00000000:5x:a", 0, "letter in the number"},
        {"2:00000000:0x10:a", 0, "hex number"},
        {"2:00000000:1e3:a", 0, "exponent"},
        {"2:00000000:1.5:a", 0, "fraction"},
        {"2:00000000:9223372036854775808:a", 0, "INT64_MAX + 1"},
        {"2:00000000:-9223372036854775809:a", 0, "INT64_MIN - 1"},
        {"2:00000000:99999999999999999999:a", 0, "20 digits"},
        {"2:00000000:18446744073709551616:a", 0, "2^64"},
        {"2:00000000:5:A", 0, "uppercase id"},
        {"2:00000000:5:g", 0, "non-hex id"},
        {"2:00000000:5:a:b", 0, "extra field"},
        {"2:00000000:5:a b", 0, "space in the id"},
        {"2:00000000:5:a\n", 0, "newline after the id"},
        {"2:00000000:5:a\0", 16, "NUL after the id"},
        {"2:00000000:5\0:a", 16, "NUL in the number"},
        {"2:00000000:5:0123456789abcdef-0123456789abcdef-0123456", 0, "41-character id"},
        {"2;00000000;5;a", 0, "wrong separators"},
        {" 2:00000000:5:a", 0, "leading space"},
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
        {"MjowMDAwMDAwMDowOjA=", "padding"},
        {"MjowMDAwMDAwMDowOjA==", "double padding"},
        {"MjowMDAwMDAwMDowOjB", "unused bits set (two bytes short)"},
        {"MjowMDAwMDAwMDowOjD", "unused bits set again"},
        {"MjowMDAwMDAwMDowO", "length 4k+1"},
        {"MjowMDAwMDAwMDowOjAMM", "length 4k+1 (a stray M would add a 0)"},
        {"MjowMDAw MDAwMDowOjA", "space inside"},
        {" MjowMDAwMDAwMDowOjA", "leading space"},
        {"MjowMDAwMDAwMDowOjA ", "trailing space"},
        {"MjowMDAwMDAwMDowOjA\n", "trailing newline"},
        {"Mjo+MDAwMDAwMDowOjA", "standard alphabet plus"},
        {"Mjo/MDAwMDAwMDowOjA", "standard alphabet slash"},
        {"MjowMDAwMDAwMDow.jA", "dot"},
        {"MjowMDAwMDAwMDow\xc3\xa9jA", "non-ASCII"},
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
    cr_assert_eq(cursor_decode("MjowMDAwMDAwMDowOjA", &c), 0);
    cr_assert_eq(c.scope, 0);
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
    b64url((const unsigned char *)"2:00000000:0:abc", 16, text);
    cr_assert_eq(cursor_decode(text, &c), 0, "the canonical form decodes");
    size_t n = strlen(text);
    cr_assert_eq(text[n - 1], 'w', "fixture: base64url(\"2:00000000:0:abc\") ends in 'w'");
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
    cr_assert_eq(decode_raw("2:00000000:5:G", 14, &c), -1);
    cr_assert_eq(c.micros, 99);
    cr_assert_str_eq(c.id, "keep");
}

/* ---- scopes -------------------------------------------------------------- */

Test(cursor, a_scope_is_the_same_for_the_same_list_and_filters)
{
    uint32_t a = cursor_scope_add(cursor_scope_add(cursor_scope_begin("executions"), "status", "success"), "since", NULL);
    uint32_t b = cursor_scope_add(cursor_scope_add(cursor_scope_begin("executions"), "status", "success"), "since", NULL);
    cr_assert_eq(a, b);
}

Test(cursor, a_scope_tells_lists_filters_and_values_apart)
{
    uint32_t base = cursor_scope_begin("executions");
    uint32_t seen[] = {
        base,
        cursor_scope_begin("workflows"),
        cursor_scope_add(base, "status", "success"),
        cursor_scope_add(base, "status", "running"),
        cursor_scope_add(base, "status", NULL),
        cursor_scope_add(base, "status", ""),
        cursor_scope_add(base, "session_id", "success"),
        cursor_scope_add(cursor_scope_add(base, "status", "a"), "session_id", "b"),
        cursor_scope_add(cursor_scope_add(base, "status", "ab"), "session_id", ""),
        cursor_scope_add(cursor_scope_add(base, "status", NULL), "session_id", "success"),
    };
    size_t n = sizeof seen / sizeof seen[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            cr_assert_neq(seen[i], seen[j], "scopes %zu and %zu collide (%08x)", i, j, seen[i]);
}
