/* Unit tests for json_scan.c: which texts are JSON and the reason given
 * for those that are not (lexical problems first, then json-c's words),
 * the depth rule, the pull interface's keys and values, string unescaping
 * (escapes in keys and values, surrogate pairs), the eight-byte string
 * scan at every alignment, numbers at the edges of a double, and
 * json_compact (whitespace outside strings, strings found by the lexer). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json/json_scan.h"

/* Scans text (len bytes; 0: strlen) as one whole JSON value, as
 * ingest_validate does for a body that is not an object. NULL when it is
 * JSON, else the reason. */
static const char *scan(const char *text, size_t len, int max_depth)
{
    struct jscan s;
    if (!len)
        len = strlen(text);
    /* A copy of exactly len bytes, so nothing can read past the end. */
    char *copy = malloc(len ? len : 1);
    cr_assert_not_null(copy);
    memcpy(copy, text, len);
    js_init(&s, copy, len, max_depth);
    if (js_skip(&s, 1, NULL) == 0)
        js_finish(&s);
    js_settle(&s);
    free(copy);
    return s.stop == JS_RUNNING ? NULL : s.why;
}

TestSuite(json_scan);

/* Parameters hold no pointers: Criterion runs each case in a re-executed
 * process, where addresses of string literals may differ (ASLR). */
struct scan_case {
    char text[80];
    size_t len;     /* 0: strlen(text) */
    char why[64];   /* "" when it is JSON */
};

ParameterizedTestParameters(json_scan, each_text_is_judged_with_the_former_parsers_reason)
{
    static struct scan_case cases[] = {
        /* JSON */
        {"{}", 0, ""}, {" [ ] ", 0, ""}, {"0", 0, ""}, {"-0.0e-0", 0, ""}, {"\"\"", 0, ""},
        {"null", 0, ""}, {"{\"a\":[true,false,null,{}],\"b\":-1.5E+3}", 0, ""},
        {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\ud83d\\ude00\"", 0, ""},
        {"\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", 0, ""}, {"{\"\":0}", 0, ""},
        {"{\"a\\u0000\":1}x", 0, "object keys must not contain NUL (\\u0000)"},
        /* lexical problems */
        {"\"a\\x\"", 0, "invalid escape in a string"},
        {"\"\\u12\"", 0, "invalid \\u escape in a string"},
        {"\"\\u12", 0, "invalid \\u escape in a string"},
        {"\"\\udc00\"", 0, "unpaired UTF-16 surrogate in a \\u escape"},
        {"\"\\ud800\"", 0, "unpaired UTF-16 surrogate in a \\u escape"},
        {"\"\\ud800\\u0041\"", 0, "unpaired UTF-16 surrogate in a \\u escape"},
        {"\"\\ude00\\ud83d\"", 0, "unpaired UTF-16 surrogate in a \\u escape"},
        {"\"\\ud800", 0, "unpaired UTF-16 surrogate in a \\u escape"},
        {"\"a\tb\"", 0, "control character in a string (escape it)"},
        {"\"a\0b\"", 5, "control character in a string (escape it)"},
        {"\"\xff\"", 0, "invalid UTF-8"}, {"\"\xc0\xaf\"", 0, "invalid UTF-8"},
        {"\"\xed\xa0\x80\"", 0, "invalid UTF-8"}, {"\"\xf4\x90\x80\x80\"", 0, "invalid UTF-8"},
        {"\"\xe2\x82\"", 0, "invalid UTF-8"}, {"\xff", 0, "invalid UTF-8"},
        {"\xc3\xa9", 0, "unexpected character"}, {"\xef\xbb\xbf{}", 0, "unexpected character"},
        {"01", 0, "malformed number"}, {"1.", 0, "malformed number"}, {"-", 0, "malformed number"},
        {".5", 0, "unexpected character"}, {"+1", 0, "unexpected character"}, {"1e", 0, "malformed number"},
        {"1e+", 0, "malformed number"}, {"0x1", 0, "malformed number"}, {"1-2", 0, "malformed number"},
        {"[1true]", 0, "malformed number"}, {"-Infinity", 0, "malformed number"},
        {"tru", 0, "unexpected word (only true, false and null are literals)"},
        {"nulll", 0, "unexpected word (only true, false and null are literals)"},
        {"NaN", 0, "unexpected word (only true, false and null are literals)"},
        {"{'a':1}", 0, "unexpected character"}, {"{\"a\":1}//", 0, "unexpected character"},
        {"{}\0", 3, "unexpected character"}, {"{}\v", 0, "unexpected character"},
        {"[\"a\\u0000\" : 1]", 0, "object keys must not contain NUL (\\u0000)"},
        /* a lexical problem wins over an earlier grammar problem */
        {"[1 2 \"\xff\"]", 0, "invalid UTF-8"}, {"{]\"\\q\"", 0, "invalid escape in a string"},
        {"{1:2,\"\\u0000\":3}", 0, "object keys must not contain NUL (\\u0000)"},
        /* grammar, in json-c's words */
        {"", 0, "unexpected end of data"}, {"  ", 0, "unexpected end of data"},
        {"[", 0, "unexpected end of data"}, {"[1,", 0, "unexpected end of data"},
        {"{\"a\"", 0, "unexpected end of data"}, {"{\"a\":", 0, "unexpected end of data"},
        {"\"abc", 0, "unexpected end of data"}, {"[\"a\\", 0, "unexpected end of data"},
        {"[1 2]", 0, "array value separator ',' expected"}, {"[1}", 0, "array value separator ',' expected"},
        {"[1:2]", 0, "number expected"}, {"[1\"a\"]", 0, "number expected"}, {"{\"a\":1[}", 0, "number expected"},
        {"[1{}]", 0, "number expected"}, {"[-0.5e3\"a\"]", 0, "number expected"},
        {"[1 :2]", 0, "array value separator ',' expected"}, {"[true:2]", 0, "array value separator ',' expected"},
        {"{\"a\":1 \"b\":2}", 0, "object value separator ',' expected"},
        {"{\"a\":1]", 0, "object value separator ',' expected"},
        {"{\"a\" 1}", 0, "object property name separator ':' expected"},
        {"{,}", 0, "quoted object property name expected"}, {"{]", 0, "quoted object property name expected"},
        {"{\"a\":1,1}", 0, "quoted object property name expected"}, {"{\"a\":1,}", 0, "unexpected character"},
        {"[1,]", 0, "unexpected character"}, {"[,]", 0, "unexpected character"}, {"]", 0, "unexpected character"},
        {"{\"a\"::1}", 0, "unexpected character"}, {"{} {}", 0, "unexpected character"},
        {"1 2", 0, "unexpected character"}, {"\"a\"]", 0, "unexpected character"},
    };
    return cr_make_param_array(struct scan_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct scan_case *tc, json_scan, each_text_is_judged_with_the_former_parsers_reason)
{
    const char *why = scan(tc->text, tc->len, 64);
    if (!tc->why[0])
        cr_assert_null(why, "%s: refused: %s", tc->text, why);
    else
        cr_assert(why && strcmp(why, tc->why) == 0, "%s: want \"%s\", got \"%s\"", tc->text, tc->why,
                  why ? why : "(JSON)");
}

Test(json_scan, the_lexical_pre_check_alone_finds_only_lexical_problems)
{
    cr_assert_null(js_lex_problem("[1 2 }}", 7), "grammar is not its business");
    cr_assert_null(js_lex_problem("\"abc", 4), "an unterminated string is json-c's to report");
    cr_assert_str_eq(js_lex_problem("[1, tru]", 8), "unexpected word (only true, false and null are literals)");
    cr_assert_eq(js_lex_problem("{\"a\\u0000\" :1}", 14), JSON_WHY_NUL_KEY);
    cr_assert_null(js_lex_problem("[\"a\\u0000\", 1]", 14), "a NUL in a value is not a NUL key");
}

/* n nested arrays around inner, into out. */
static const char *nested(char *out, int n, const char *inner)
{
    size_t o = 0;
    for (int i = 0; i < n; i++)
        out[o++] = '[';
    o += (size_t)sprintf(out + o, "%s", inner);
    for (int i = 0; i < n; i++)
        out[o++] = ']';
    out[o] = '\0';
    return out;
}

Test(json_scan, every_value_counts_one_level_as_in_json_c)
{
    char t[300];
    cr_assert_null(scan(nested(t, 64, ""), 0, 64), "64 levels of arrays");
    cr_assert_str_eq(scan(nested(t, 65, ""), 0, 64), "JSON nested too deeply");
    cr_assert_null(scan(nested(t, 63, "1"), 0, 64), "a scalar at level 64");
    cr_assert_str_eq(scan(nested(t, 64, "1"), 0, 64), "JSON nested too deeply", "a scalar at level 65");
    cr_assert_null(scan("{\"a\":{\"b\":1}}", 0, 3));
    cr_assert_str_eq(scan("{\"a\":{\"b\":1}}", 0, 2), "JSON nested too deeply");
    cr_assert_null(scan("{\"a\":{}}", 0, 2), "an empty object at the limit");
    /* Refused at the deeper value's first byte, whatever it is... */
    cr_assert_str_eq(scan("[[,", 0, 2), "JSON nested too deeply");
    cr_assert_str_eq(scan("[{\"a\":}", 0, 2), "JSON nested too deeply");
    /* ...but the end of the text comes first, and whitespace is skipped. */
    cr_assert_str_eq(scan("[[ ", 0, 2), "unexpected end of data");
    cr_assert_null(scan("[[ ]]", 0, 2));
    /* Deep input is walked without recursion beyond the limit. */
    static char deep[200001];
    memset(deep, '[', 100000);
    memset(deep + 100000, ']', 100000);
    cr_assert_str_eq(scan(deep, 200000, 64), "JSON nested too deeply");
}

Test(json_scan, keys_and_values_come_out_in_document_order_unescaped)
{
    const char *text = " {\"pl\\u0061in\" : \"v\\u00e9\\ud83d\\ude00\\n\" , \"n\":[1, -2.5e3]} ";
    struct jscan s;
    struct jcont c, a;
    struct jstr key, val;
    struct jnum num;
    char buf[64];
    js_init(&s, text, strlen(text), 64);
    cr_assert_eq(js_peek(&s), JT_OBJECT);
    js_enter(&s, &c, 1);

    cr_assert_eq(js_next(&s, &c, &key), 1);
    cr_assert(key.escaped);
    size_t n = jstr_unescape(&key, buf, sizeof buf);
    cr_assert_eq(n, 5);
    cr_assert(memcmp(buf, "plain", 5) == 0);
    cr_assert_eq(js_peek(&s), JT_STRING);
    cr_assert_eq(js_string(&s, &val), 0);
    n = jstr_unescape(&val, buf, sizeof buf);
    cr_assert_eq(n, 8, "v, e-acute (2), U+1F600 (4), newline");
    cr_assert(memcmp(buf, "v\xc3\xa9\xf0\x9f\x98\x80\n", 8) == 0);
    cr_assert_eq(jstr_unescape(&val, buf, 3), 8, "the full length even when cut");

    cr_assert_eq(js_next(&s, &c, &key), 1);
    cr_assert_not(key.escaped);
    cr_assert_eq(key.len, 1);
    cr_assert_eq(js_peek(&s), JT_ARRAY);
    js_enter(&s, &a, 2);
    cr_assert_eq(js_next(&s, &a, &key), 1);
    cr_assert_eq(js_number(&s, &num), 0);
    cr_assert_not(num.is_double);
    cr_assert_eq(jnum_int64(&num), 1);
    cr_assert_eq(js_next(&s, &a, &key), 1);
    cr_assert_eq(js_number(&s, &num), 0);
    cr_assert(num.is_double);
    cr_assert_eq(jnum_double(&num), -2500.0);
    cr_assert_eq(js_next(&s, &a, &key), 0);
    cr_assert_eq(js_next(&s, &c, &key), 0);
    cr_assert_eq(js_finish(&s), 0);
    cr_assert_eq(s.stop, JS_RUNNING);
}

Test(json_scan, the_iterator_gives_code_points_of_escapes_and_raw_utf8)
{
    const char raw[] = "a\\t\\u0000\\u00e9\xc3\xa9\\ud83d\\ude00\xf0\x9f\x98\x80\\/";
    struct jstr s = {raw, sizeof raw - 1, true, true};
    struct jstr_iter it;
    uint32_t cp, want[] = {'a', '\t', 0, 0xe9, 0xe9, 0x1f600, 0x1f600, '/'};
    size_t lens[] = {1, 1, 1, 2, 2, 4, 4, 1};
    char u[4];
    jstr_iter_init(&it, &s);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        cr_assert_eq(jstr_iter_next(&it, &cp, u), lens[i], "character %zu", i);
        cr_assert_eq(cp, want[i], "character %zu: U+%04X", i, cp);
    }
    cr_assert_eq(jstr_iter_next(&it, &cp, u), 0);
}

Test(json_scan, strings_are_checked_at_every_offset_of_the_eight_byte_scan)
{
    static const char *const bad[] = {"\x01", "\x1f", "\x80", "\xff", "\xc3", "\xed\xa0\x80"};
    static const char *const good[] = {"\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\\n", "\\u00e9"};
    char text[64];
    for (int k = 0; k < 20; k++) {
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
            snprintf(text, sizeof text, "\"%.*s%sxyzxyzxyz\"", k, "abcdefghijklmnopqrstuvwxyz", bad[b]);
            cr_assert_not_null(scan(text, 0, 64), "offset %d: 0x%02x accepted", k, (unsigned char)bad[b][0]);
        }
        for (size_t g = 0; g < sizeof good / sizeof good[0]; g++) {
            snprintf(text, sizeof text, "\"%.*s%sxyzxyzxyz\"", k, "abcdefghijklmnopqrstuvwxyz", good[g]);
            cr_assert_null(scan(text, 0, 64), "offset %d: %s refused", k, good[g]);
        }
        /* The closing quote at offset k, then nothing: the length is k. */
        snprintf(text, sizeof text, "\"%.*s\"", k, "abcdefghijklmnopqrstuvwxyz");
        struct jscan s;
        struct jstr str;
        js_init(&s, text, strlen(text), 64);
        cr_assert_eq(js_string(&s, &str), 0);
        cr_assert_eq(str.len, (size_t)k);
        cr_assert_eq(s.p, text + k + 2);
        /* Cut before the closing quote: the end, not a problem of the text. */
        cr_assert_str_eq(scan(text, strlen(text) - 1, 64), "unexpected end of data");
    }
}

/* ---- numbers ----------------------------------------------------------- */

static struct jnum number(const char *text)
{
    struct jscan s;
    struct jnum n;
    js_init(&s, text, strlen(text), 64);
    cr_assert_eq(js_number(&s, &n), 0, "%s: %s", text, s.why);
    cr_assert_eq(n.len, strlen(text));
    return n;
}

/* What json-c made of a double literal: strtod on the whole text. */
static void assert_like_strtod(const char *text)
{
    struct jnum n = number(text);
    double want = strtod(text, NULL), got = jnum_double(&n);
    cr_assert(memcmp(&want, &got, sizeof want) == 0, "%.60s...: strtod %.17g, got %.17g", text, want, got);
    bool nonzero_digit = strpbrk(text, "123456789") && strcspn(text, "123456789") < strcspn(text, "eE");
    bool fits = isfinite(want) && (want != 0.0 || !nonzero_digit);
    cr_assert_eq(jnum_fits_double(&n), fits, "%.60s...: fits should be %d", text, fits);
}

Test(json_scan, doubles_read_as_strtod_reads_them_at_the_edges)
{
    static const char *const lits[] = {
        "0.0", "-0.0", "0e999999999999999999", "1.5", "-2.5e3", "1e308", "1e309", "-1e309",
        "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587"
        "2070e208",
        "179769313486231580793728971405301e275", "4.9406564584124654e-324", "2.4703282292062328e-324",
        "2.4703282292062327e-324", "2.4703282292062327208828439643411068618252990130716238221279284125033775"
        "363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515"
        "570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769"
        "269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499"
        "977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516"
        "661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879"
        "636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186"
        "948667994968324049705821028513185451396213837722826145437693412532098591327667236328125e-324",
        "1e-320", "1e-400", "-1e-400", "0.00000000000000000000000000000000000000000000000000000000000000001e-300",
        "100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000e215",
        "1e-999999999999999999999", "123.456e-2",
    };
    for (size_t i = 0; i < sizeof lits / sizeof lits[0]; i++)
        assert_like_strtod(lits[i]);
    /* A thousand-digit literal just below the overflow midpoint. */
    char big[1200];
    int o = sprintf(big, "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649"
                         "0179775872070");
    memset(big + o, '0', 900);
    sprintf(big + o + 900, "e208");
    assert_like_strtod(big);
}

Test(json_scan, integers_clamp_to_64_bits_as_in_json_c)
{
    struct jnum n = number("9223372036854775807");
    cr_assert_eq(jnum_int64(&n), INT64_MAX);
    n = number("9223372036854775808");
    cr_assert_eq(jnum_int64(&n), INT64_MAX);
    n = number("123456789012345678901234567890");
    cr_assert_eq(jnum_int64(&n), INT64_MAX);
    n = number("-9223372036854775808");
    cr_assert_eq(jnum_int64(&n), INT64_MIN);
    n = number("-9223372036854775809");
    cr_assert_eq(jnum_int64(&n), INT64_MIN);
    n = number("-0");
    cr_assert_eq(jnum_int64(&n), 0);
    cr_assert(jnum_fits_double(&n), "a 64-bit integer fits");
}

/* One range rule whatever the spelling: what strtod reads as a finite
 * double (not 0 from a non-zero literal) fits, the rest does not. An
 * integer of 309 digits or more used to pass (json-c clamped it to 64
 * bits) while 1e309 did not. */
struct range_case {
    char lead[16];   /* text before the zeros */
    int zeros;       /* how many '0' follow */
    char tail[16];   /* text after them */
    bool fits;
};

ParameterizedTestParameters(json_scan, a_number_fits_a_double_whatever_its_spelling)
{
    static struct range_case cases[] = {
        {"1", 308, "", true},         /* 1e308 as an integer */
        {"-1", 308, "", true},
        {"1", 309, "", false},        /* 1e309 as an integer */
        {"-1", 309, "", false},
        {"1", 400, "", false},
        {"1e309", 0, "", false},
        {"1E+309", 0, "", false},
        {"-1e309", 0, "", false},
        {"10e308", 0, "", false},
        {"0.1e310", 0, "", false},
        {"1", 309, ".0", false},      /* the same with a fraction */
        {"1", 309, "e-1", true},      /* 1e308 */
        {"1", 308, ".5", true},
        {"0.", 400, "1", false},      /* 1e-401: underflow */
        {"0.", 300, "1", true},
        {"1e-400", 0, "", false},
        {"0", 0, "", true},
        {"-0", 0, "", true},
        {"0.", 400, "", true},        /* a zero is a zero */
        {"0e", 0, "99999", true},
    };
    return cr_make_param_array(struct range_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct range_case *tc, json_scan, a_number_fits_a_double_whatever_its_spelling)
{
    char text[512];
    int o = snprintf(text, sizeof text, "%s", tc->lead);
    memset(text + o, '0', (size_t)tc->zeros);
    snprintf(text + o + tc->zeros, sizeof text - (size_t)(o + tc->zeros), "%s", tc->tail);
    struct jnum n = number(text);
    cr_assert_eq(jnum_fits_double(&n), tc->fits, "%s%s (%d zeros)%s: fits should be %d", tc->lead,
                 tc->zeros ? "0..." : "", tc->zeros, tc->tail, tc->fits);
    /* In a blob, js_skip notes it the same way. */
    struct jscan s;
    enum jblob blob = JB_OK;
    js_init(&s, text, strlen(text), 64);
    cr_assert_eq(js_skip(&s, 1, &blob), 0);
    cr_assert_eq(blob, tc->fits ? JB_OK : JB_RANGE, "js_skip on %.40s...", text);
}

Test(json_scan, the_largest_double_spelled_as_an_integer_fits_and_the_overflow_midpoint_does_not)
{
    /* DBL_MAX = (2^53 - 1) * 2^971, and 2^1024 - 2^970, halfway to the
     * next power of two, which strtod rounds (to even) up to infinity. */
    static const char dbl_max[] =
        "179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878"
        "171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075"
        "868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026"
        "184124858368";
    static const char midpoint[] =
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207"
        "096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764"
        "475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177"
        "904174497792";
    struct jnum n = number(dbl_max);
    cr_assert(jnum_fits_double(&n));
    cr_assert_eq(jnum_double(&n), DBL_MAX);
    n = number(midpoint);
    cr_assert_not(jnum_fits_double(&n));
    char below[sizeof midpoint];
    memcpy(below, midpoint, sizeof midpoint);
    below[sizeof midpoint - 2] = '1'; /* ...791: just under the midpoint */
    n = number(below);
    cr_assert(jnum_fits_double(&n));
    cr_assert_eq(jnum_double(&n), DBL_MAX);
}

/* ---- json_compact ------------------------------------------------------ */

static void assert_compacts(const char *in, const char *want)
{
    char out[256];
    size_t n = json_compact(out, in, strlen(in));
    out[n] = '\0';
    cr_assert_str_eq(out, want, "json_compact(%s)", in);
}

Test(json_scan, json_compact_drops_whitespace_between_members)
{
    assert_compacts("{\"id\" : 1, \"a\" : [1, 2,\n\t3]}", "{\"id\":1,\"a\":[1,2,3]}");
    assert_compacts("  {\r\n}  ", "{}");
}

Test(json_scan, json_compact_keeps_whitespace_inside_strings)
{
    assert_compacts("{\"k y\" : \" a , b : c \"}", "{\"k y\":\" a , b : c \"}");
}

Test(json_scan, json_compact_is_not_fooled_by_escaped_quotes)
{
    assert_compacts("{\"a\" : \"x\\\" , \\\\\" , \"b\" : \" \\\\\"}", "{\"a\":\"x\\\" , \\\\\",\"b\":\" \\\\\"}");
    assert_compacts("[\"\\u0022 \\\\\\\" \", \"\\ud83d\\ude00 \xc3\xa9 \xf0\x9f\x98\x80 \"]",
                    "[\"\\u0022 \\\\\\\" \",\"\\ud83d\\ude00 \xc3\xa9 \xf0\x9f\x98\x80 \"]");
}

Test(json_scan, json_compact_works_in_place)
{
    char s[] = "[ 1 , \"two three\" ]";
    size_t n = json_compact(s, s, strlen(s));
    s[n] = '\0';
    cr_assert_str_eq(s, "[1,\"two three\"]");
}

/* PostgreSQL only sends JSON; should a string not lex, nothing is lost. */
Test(json_scan, json_compact_copies_the_rest_of_a_text_that_is_not_json_as_it_is)
{
    assert_compacts("[1, \"open  ", "[1,\"open  ");
    assert_compacts("[1, \"bad \\x escape \", 2]", "[1,\"bad \\x escape \", 2]");
}

/* A random value of json-c's making, strings full of quotes, backslashes,
 * whitespace, controls and non-ASCII. */
static struct json_object *random_value(int depth)
{
    static const char *const pieces[] = {"a", " ", "\"", "\\", "\n", "\t", "/", ":", ",", "{", "]",
                                         "\x01", "\xc3\xa9", "\xe2\x80\xae", "\xf0\x9f\x98\x80"};
    int kind = depth > 3 ? rand() % 3 : rand() % 5;
    switch (kind) {
    case 0:
        return rand() % 2 ? json_object_new_int(rand() % 2000 - 1000) : json_object_new_double(rand() / 7.0);
    case 1: {
        char s[64] = "";
        for (int i = rand() % 12; i > 0; i--)
            strcat(s, pieces[rand() % (int)(sizeof pieces / sizeof pieces[0])]);
        return json_object_new_string(s);
    }
    case 2:
        return rand() % 2 ? json_object_new_boolean(rand() % 2) : NULL;
    case 3: {
        struct json_object *a = json_object_new_array();
        for (int i = rand() % 4; i > 0; i--)
            json_object_array_add(a, random_value(depth + 1));
        return a;
    }
    default: {
        struct json_object *o = json_object_new_object();
        for (int i = rand() % 4; i > 0; i--) {
            char k[8];
            snprintf(k, sizeof k, "k \"%d", rand() % 5);
            json_object_object_add(o, k, random_value(depth + 1));
        }
        return o;
    }
    }
}

Test(json_scan, json_compact_of_spaced_json_is_the_plain_json)
{
    srand(20261204);
    for (int round = 0; round < 3000; round++) {
        struct json_object *o = random_value(0);
        const char *plain = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        char *want = strdup(plain ? plain : "null");
        const char *spaced = json_object_to_json_string_ext(
            o, round % 2 ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_SPACED);
        size_t len = strlen(spaced);
        char *got = malloc(len + 1);
        cr_assert(want && got);
        got[json_compact(got, spaced, len)] = '\0';
        cr_assert_str_eq(got, want, "from %s", spaced);
        free(got);
        free(want);
        json_object_put(o);
    }
}
