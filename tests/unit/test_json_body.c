/* Unit tests for http/json_body.c: strict parsing (RFC 8259 only, UTF-8 checked,
 * depth limited, nothing after the value), the body reader, and the typed
 * ..._or_reply field getters with the 422 paths they answer. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "capture.h"
#include "http/json_body.h"

/* Parameters hold no pointers: Criterion runs each case in a re-executed
 * process, where addresses of string literals may differ (ASLR). */
struct parse_case {
    char text[96];
    size_t len;   /* 0: strlen(text) */
    bool ok;
    char what[48];
};

/* Parses a JSON text with json-c's default (lenient) parser for fixtures. */
static struct json_object *fixture(const char *text)
{
    struct json_object *o = json_tokener_parse(text);
    cr_assert_not_null(o, "bad fixture %s", text);
    return o;
}

/* n nested arrays. */
static size_t nested(char *out, int n)
{
    size_t o = 0;
    for (int i = 0; i < n; i++)
        out[o++] = '[';
    for (int i = 0; i < n; i++)
        out[o++] = ']';
    out[o] = '\0';
    return o;
}

TestSuite(json_body);

/* ---- json_parse_strict ------------------------------------------------- */

ParameterizedTestParameters(json_body, parse_strict_accepts_only_one_rfc_8259_value)
{
    static struct parse_case cases[] = {
        {"{}", 0, true, "empty object"},
        {"{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}", 0, true, "nested object"},
        {"{\"n\":-1.5e3,\"z\":0,\"f\":0.25,\"E\":1E+2,\"m\":-0}", 0, true, "numbers"},
        {"{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}", 0, true, "every escape"},
        {"{\"u\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}", 0, true, "raw UTF-8"},
        {"{} \n\t\r ", 0, true, "trailing whitespace"},
        {" \n{}", 0, true, "leading whitespace"},
        {"[1,2]", 0, true, "array"},
        {"123", 0, true, "a bare number"},
        {"true", 0, true, "a bare literal"},
        {"\"s\"", 0, true, "a bare string"},

        {"", 0, false, "empty"},
        {"   ", 0, false, "only whitespace"},
        {"{", 0, false, "unterminated object"},
        {"{\"a\":\"x}", 0, false, "unterminated string"},
        {"{} x", 0, false, "trailing garbage"},
        {"{}{}", 0, false, "two values"},
        {"{\"a\":1}}", 0, false, "extra brace"},
        {"{}\0", 3, false, "trailing NUL byte"},
        {"{\"a\":\"b\0c\"}", 11, false, "raw NUL inside a string"},
        {"{'a':1}", 0, false, "single-quoted name"},
        {"{\"a\":'x'}", 0, false, "single-quoted value"},
        {"{a:1}", 0, false, "bare name"},
        {"{/*c*/\"a\":1}", 0, false, "block comment"},
        {"{\"a\":1}//c", 0, false, "line comment"},
        {"{\"a\":1,}", 0, false, "trailing comma in object"},
        {"[1,2,]", 0, false, "trailing comma in array"},
        {"NaN", 0, false, "bare NaN"},
        {"{\"a\":NaN}", 0, false, "NaN"},
        {"{\"a\":nan}", 0, false, "nan"},
        {"{\"a\":Infinity}", 0, false, "Infinity"},
        {"{\"a\":-Infinity}", 0, false, "-Infinity"},
        {"{\"a\":True}", 0, false, "capitalised literal"},
        {"{\"a\":tru}", 0, false, "truncated literal"},
        {"{\"a\":nulls}", 0, false, "literal with a tail"},
        {"{\"a\":01}", 0, false, "leading zero"},
        {"{\"a\":1.}", 0, false, "fraction without digits"},
        {"{\"a\":.5}", 0, false, "fraction without integer part"},
        {"{\"a\":+1}", 0, false, "plus sign"},
        {"{\"a\":1e}", 0, false, "exponent without digits"},
        {"{\"a\":0x10}", 0, false, "hexadecimal"},
        {"{\"a\":-}", 0, false, "lone minus"},
        {"{\"a\":\"\\x41\"}", 0, false, "unknown escape"},
        {"{\"a\":\"\\u12\"}", 0, false, "short unicode escape"},
        {"{\"a\":\"tab\there\"}", 0, false, "raw control character in a string"},
        {"{\"a\":\"line\nbreak\"}", 0, false, "raw newline in a string"},
        {"{\"a\":\"\xff\"}", 0, false, "invalid UTF-8 byte"},
        {"{\"a\":\"\x80\"}", 0, false, "lone continuation byte"},
        {"{\"a\":\"\xe2\x82\"}", 0, false, "truncated UTF-8 sequence"},
        {"{\"a\":\"\xc0\xaf\"}", 0, false, "overlong UTF-8"},
        {"{\"a\":\"\xe0\x80\xaf\"}", 0, false, "overlong 3-byte UTF-8"},
        {"{\"a\":\"\xed\xa0\x80\"}", 0, false, "UTF-8 encoded surrogate"},
        {"{\"a\":\"\xf4\x90\x80\x80\"}", 0, false, "above U+10FFFF"},
        {"{\"\xff\":1}", 0, false, "invalid UTF-8 in a name"},
        {"\xef\xbb\xbf{}", 0, false, "byte order mark"},
    };
    return cr_make_param_array(struct parse_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct parse_case *tc, json_body, parse_strict_accepts_only_one_rfc_8259_value)
{
    const char *why = "unset";
    size_t len = tc->len ? tc->len : strlen(tc->text);
    struct json_object *o = json_parse_strict(tc->text, len, 64, &why);
    if (tc->ok) {
        cr_assert_not_null(o, "%s: refused (%s)", tc->what, why ? why : "no reason");
        cr_assert_null(why, "%s: a reason on success", tc->what);
    } else {
        cr_assert_null(o, "%s: accepted as %s", tc->what, o ? json_object_to_json_string(o) : "");
        cr_assert_not_null(why, "%s: no reason given", tc->what);
        cr_assert_gt(strlen(why), 0);
    }
    json_object_put(o);
}

Test(json_body, parse_strict_keeps_the_values_it_parsed)
{
    const char *why;
    const char *text = "{\"s\":\"caf\\u00e9\",\"n\":42,\"b\":false}";
    struct json_object *o = json_parse_strict(text, strlen(text), 64, &why), *v;
    cr_assert_not_null(o);
    cr_assert(json_object_object_get_ex(o, "s", &v));
    cr_assert_str_eq(json_object_get_string(v), "caf\xc3\xa9");
    cr_assert(json_object_object_get_ex(o, "n", &v));
    cr_assert(json_object_is_type(v, json_type_int));
    cr_assert_eq(json_object_get_int(v), 42);
    json_object_put(o);
}

Test(json_body, parse_strict_takes_a_bare_null_as_a_value_not_an_error)
{
    const char *why = "unset";
    cr_assert_null(json_parse_strict("null", 4, 64, &why));
    cr_assert_null(why, "null is valid JSON, got: %s", why);
    cr_assert_null(json_parse_strict(" null \n", 7, 64, &why));
    cr_assert_null(why);

    cr_assert_null(json_parse_strict("null {}", 7, 64, &why));
    cr_assert_not_null(why, "data after null must be refused");
    cr_assert_null(json_parse_strict("nul", 3, 64, &why));
    cr_assert_not_null(why);
}

Test(json_body, parse_strict_uses_only_the_given_length)
{
    const char *why;
    const char *text = "{\"a\":1}garbage";
    struct json_object *o = json_parse_strict(text, 7, 64, &why);
    cr_assert_not_null(o, "%s", why);
    json_object_put(o);
}

Test(json_body, parse_strict_allows_the_depth_limit_and_refuses_one_more)
{
    char text[300];
    const char *why;
    size_t len = nested(text, 64);
    struct json_object *o = json_parse_strict(text, len, 64, &why);
    cr_assert_not_null(o, "64 levels refused: %s", why);
    json_object_put(o);

    len = nested(text, 65);
    o = json_parse_strict(text, len, 64, &why);
    cr_assert_null(o, "65 levels accepted");
    cr_assert_not_null(strstr(why, "deep"), "%s", why);

    len = nested(text, 11);
    o = json_parse_strict(text, len, 10, &why);
    cr_assert_null(o, "the limit is the one given");
}

Test(json_body, parse_strict_names_invalid_utf8)
{
    const char *why;
    const char *text = "{\"a\":\"\xc0\xaf\"}";
    cr_assert_null(json_parse_strict(text, strlen(text), 64, &why));
    cr_assert_not_null(strstr(why, "UTF-8"), "%s", why);
}

/* ---- json_body_object_or_reply ----------------------------------------- */

static struct json_object *body_object(struct capture *c, const char *body, size_t len)
{
    capture_init(c, "POST", "/api/x");
    if (body) {
        c->req.body = xmalloc(len + 1);
        memcpy(c->req.body, body, len);
        c->req.body[len] = '\0';
        c->req.body_len = len;
    }
    return json_body_object_or_reply(&c->req, NULL);
}

Test(json_body, body_object_returns_the_parsed_object_without_replying)
{
    struct capture c;
    struct json_object *o = body_object(&c, "{\"name\":\"x\"}", 12);
    cr_assert_not_null(o, "%s", capture_dump(&c));
    cr_assert(json_object_is_type(o, json_type_object));
    assert_no_output(&c);
    json_object_put(o);
    capture_fini(&c);
}

Test(json_body, body_object_without_a_body_is_400_bad_json)
{
    struct capture c;
    cr_assert_null(body_object(&c, NULL, 0));
    assert_error(&c, 400, "bad_json");
    capture_fini(&c);
}

Test(json_body, body_object_with_malformed_json_is_400_bad_json)
{
    struct capture c;
    cr_assert_null(body_object(&c, "{\"a\":", 5));
    assert_error(&c, 400, "bad_json");
    capture_fini(&c);
}

Test(json_body, body_object_with_invalid_utf8_is_400_bad_json)
{
    struct capture c;
    cr_assert_null(body_object(&c, "{\"a\":\"\xed\xa0\x80\"}", 11));
    assert_error(&c, 400, "bad_json");
    capture_fini(&c);
}

Test(json_body, body_object_nested_deeper_than_the_limit_is_400)
{
    char text[300];
    size_t len = nested(text, 65);
    struct capture c;
    cr_assert_null(body_object(&c, text, len));
    assert_error(&c, 400, "bad_json");
    capture_fini(&c);
}

Test(json_body, body_object_of_another_type_is_422)
{
    static const char *const bodies[] = {"[1,2]", "\"text\"", "123", "null", "true"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct capture c;
        cr_assert_null(body_object(&c, bodies[i], strlen(bodies[i])));
        cr_log_info("body %s", bodies[i]);
        assert_error(&c, 422, "validation_failed");
        capture_fini(&c);
    }
}

/* ---- json_string_or_reply ---------------------------------------------- */

struct string_case {
    char json[48];
    enum jfield need;
    size_t maxlen;
    int rc;              /* 0 or -1 */
    char want[16];       /* on 0: the value, or "" when absent */
    char what[48];
};

ParameterizedTestParameters(json_body, string_or_reply_accepts_or_answers_422_with_the_path)
{
    static struct string_case cases[] = {
        {"{\"name\":\"abc\"}", JF_REQUIRED, 10, 0, "abc", "plain"},
        {"{\"name\":\"caf\\u00e9\"}", JF_REQUIRED, 10, 0, "caf\xc3\xa9", "UTF-8"},
        {"{\"name\":\"0123456789\"}", JF_REQUIRED, 10, 0, "0123456789", "exactly maxlen"},
        {"{}", JF_OPTIONAL, 10, 0, "", "optional and absent"},
        {"{\"name\":null}", JF_OPTIONAL, 10, 0, "", "optional and null"},
        {"{}", JF_REQUIRED, 10, -1, "", "required and absent"},
        {"{\"name\":null}", JF_REQUIRED, 10, -1, "", "required and null"},
        {"{\"name\":42}", JF_REQUIRED, 10, -1, "", "a number"},
        {"{\"name\":true}", JF_OPTIONAL, 10, -1, "", "a boolean"},
        {"{\"name\":[\"abc\"]}", JF_REQUIRED, 10, -1, "", "an array"},
        {"{\"name\":{\"a\":1}}", JF_REQUIRED, 10, -1, "", "an object"},
        {"{\"name\":\"\"}", JF_REQUIRED, 10, -1, "", "empty"},
        {"{\"name\":\"\"}", JF_OPTIONAL, 10, -1, "", "empty though optional"},
        {"{\"name\":\"01234567890\"}", JF_REQUIRED, 10, -1, "", "one byte too long"},
        {"{\"name\":\"caf\\u00e9s\"}", JF_REQUIRED, 5, -1, "", "too long in bytes, not characters"},
        {"{\"name\":\"a\\u0000b\"}", JF_REQUIRED, 10, -1, "", "embedded NUL"},
        {"{\"name\":\"\\u0000\"}", JF_REQUIRED, 10, -1, "", "only a NUL"},
        {"{\"name\":\"a\\u0001b\"}", JF_REQUIRED, 10, -1, "", "control character"},
        {"{\"name\":\"a\\nb\"}", JF_REQUIRED, 10, -1, "", "newline"},
        {"{\"name\":\"a\\u007fb\"}", JF_REQUIRED, 10, -1, "", "DEL"},
        {"{\"name\":\"a\\u0085b\"}", JF_REQUIRED, 10, -1, "", "C1 control"},
        {"{\"name\":\"\\u202egnp.exe\"}", JF_REQUIRED, 20, -1, "", "bidi override"},
        {"{\"name\":\"a\\u200bb\"}", JF_REQUIRED, 10, -1, "", "zero-width space"},
        {"{\"name\":\"\\ufeffab\"}", JF_REQUIRED, 10, -1, "", "byte order mark"},
        {"{\"name\":\"a\\u00a0b\"}", JF_REQUIRED, 10, 0, "a\xc2\xa0" "b", "NBSP is a character"},
    };
    return cr_make_param_array(struct string_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct string_case *tc, json_body, string_or_reply_accepts_or_answers_422_with_the_path)
{
    struct capture c;
    capture_init(&c, "POST", "/api/x");
    struct json_object *o = fixture(tc->json);
    const char *out = "unset";
    int rc = json_string_or_reply(&c.req, o, "name", tc->need, tc->maxlen, &out);
    cr_log_info("%s: %s", tc->what, tc->json);
    cr_assert_eq(rc, tc->rc, "%s: rc %d; response:\n%s", tc->what, rc, capture_dump(&c));
    if (rc == 0) {
        assert_no_output(&c);
        if (tc->want[0])
            cr_assert_str_eq(out, tc->want, "%s", tc->what);
        else
            cr_assert_null(out, "%s", tc->what);
    } else {
        assert_error_path(&c, 422, "validation_failed", "name");
        cr_assert_null(out);
    }
    json_object_put(o);
    capture_fini(&c);
}

Test(json_body, string_or_reply_names_the_field_and_the_reason_for_a_refused_character)
{
    static const char *const cases[][2] = {
        {"{\"name\":\"\\u202egnp.exe\"}", "name must not contain invisible format characters"},
        {"{\"name\":\"a\\u0085\"}", "name must not contain control characters"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct capture c;
        capture_init(&c, "POST", "/api/x");
        struct json_object *o = fixture(cases[i][0]);
        const char *out;
        cr_assert_eq(json_string_or_reply(&c.req, o, "name", JF_REQUIRED, 200, &out), -1);
        assert_error_path(&c, 422, "validation_failed", "name");
        cr_assert(strstr(capture_dump(&c), cases[i][1]), "%s", capture_dump(&c));
        json_object_put(o);
        capture_fini(&c);
    }
}

/* ---- json_uuid_or_reply ------------------------------------------------ */

Test(json_body, uuid_or_reply_returns_a_valid_uuid)
{
    struct capture c;
    capture_init(&c, "POST", "/api/x");
    struct json_object *o = fixture("{\"workflow_id\":\"123e4567-e89b-42d3-a456-426614174000\"}");
    const char *out;
    cr_assert_eq(json_uuid_or_reply(&c.req, o, "workflow_id", JF_REQUIRED, &out), 0);
    cr_assert_str_eq(out, "123e4567-e89b-42d3-a456-426614174000");
    assert_no_output(&c);
    json_object_put(o);
    capture_fini(&c);
}

Test(json_body, uuid_or_reply_leaves_an_optional_absent_uuid_null)
{
    struct capture c;
    capture_init(&c, "POST", "/api/x");
    struct json_object *o = fixture("{\"execution_id\":null}");
    const char *out = "unset";
    cr_assert_eq(json_uuid_or_reply(&c.req, o, "execution_id", JF_OPTIONAL, &out), 0);
    cr_assert_null(out);
    assert_no_output(&c);
    json_object_put(o);
    capture_fini(&c);
}

Test(json_body, uuid_or_reply_answers_422_with_the_path_for_anything_else)
{
    static const char *const bad[] = {
        "{}",
        "{\"id\":null}",
        "{\"id\":\"not-a-uuid\"}",
        "{\"id\":\"123e4567e89b42d3a456426614174000\"}",
        "{\"id\":\"123e4567-e89b-42d3-a456-4266141740001\"}",
        "{\"id\":\"123e4567-e89b-42d3-a456-426614174000\\u0000\"}",
        "{\"id\":12345}",
        "{\"id\":[\"123e4567-e89b-42d3-a456-426614174000\"]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct capture c;
        capture_init(&c, "POST", "/api/x");
        struct json_object *o = fixture(bad[i]);
        const char *out = "unset";
        cr_log_info("%s", bad[i]);
        cr_assert_eq(json_uuid_or_reply(&c.req, o, "id", JF_REQUIRED, &out), -1, "%s accepted", bad[i]);
        assert_error_path(&c, 422, "validation_failed", "id");
        cr_assert_null(out);
        json_object_put(o);
        capture_fini(&c);
    }
}

/* ---- json_enum_or_reply ------------------------------------------------ */

static const char *const statuses[] = {"running", "success", "error", "cancelled", NULL};

Test(json_body, enum_or_reply_returns_the_matching_choice)
{
    struct capture c;
    capture_init(&c, "POST", "/api/x");
    struct json_object *o = fixture("{\"status\":\"error\"}");
    const char *out;
    cr_assert_eq(json_enum_or_reply(&c.req, o, "status", JF_REQUIRED, statuses, &out), 0);
    cr_assert_eq(out, statuses[2], "the choice itself is returned");
    assert_no_output(&c);
    json_object_put(o);
    capture_fini(&c);
}

Test(json_body, enum_or_reply_answers_422_listing_the_choices)
{
    static const char *const bad[] = {
        "{\"status\":\"done\"}",
        "{\"status\":\"Error\"}",
        "{\"status\":\"erro\"}",
        "{\"status\":\"errors\"}",
        "{\"status\":\"error\\u0000x\"}",
        "{\"status\":\"\"}",
        "{\"status\":1}",
        "{}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct capture c;
        capture_init(&c, "POST", "/api/x");
        struct json_object *o = fixture(bad[i]);
        const char *out = "unset";
        cr_log_info("%s", bad[i]);
        cr_assert_eq(json_enum_or_reply(&c.req, o, "status", JF_REQUIRED, statuses, &out), -1, "%s accepted",
                     bad[i]);
        assert_error_path(&c, 422, "validation_failed", "status");
        cr_assert_null(out);
        if (strcmp(bad[i], "{}") != 0)
            cr_assert_not_null(strstr(capture_error_field(&c, "message"), "running, success, error, cancelled"),
                               "%s", capture_dump(&c));
        json_object_put(o);
        capture_fini(&c);
    }
}

Test(json_body, enum_or_reply_leaves_an_optional_absent_value_null)
{
    struct capture c;
    capture_init(&c, "POST", "/api/x");
    struct json_object *o = fixture("{}");
    const char *out = "unset";
    cr_assert_eq(json_enum_or_reply(&c.req, o, "status", JF_OPTIONAL, statuses, &out), 0);
    cr_assert_null(out);
    assert_no_output(&c);
    json_object_put(o);
    capture_fini(&c);
}

/* ---- json_only_keys_or_reply ------------------------------------------- */

static const char *const org_keys[] = {"name", "description", NULL};

Test(json_body, only_keys_accepts_known_members)
{
    struct capture c;
    capture_init(&c, "POST", "/api/x");
    struct json_object *o = fixture("{\"name\":\"a\",\"description\":\"b\"}");
    cr_assert_eq(json_only_keys_or_reply(&c.req, o, org_keys), 0);
    assert_no_output(&c);
    json_object_put(o);

    o = fixture("{}");
    cr_assert_eq(json_only_keys_or_reply(&c.req, o, org_keys), 0);
    json_object_put(o);
    capture_fini(&c);
}

Test(json_body, only_keys_names_the_unknown_member_as_the_path)
{
    struct capture c;
    capture_init(&c, "POST", "/api/x");
    struct json_object *o = fixture("{\"name\":\"a\",\"nmae\":\"typo\"}");
    cr_assert_eq(json_only_keys_or_reply(&c.req, o, org_keys), -1);
    assert_error_path(&c, 422, "validation_failed", "nmae");
    json_object_put(o);
    capture_fini(&c);
}

Test(json_body, only_keys_does_not_match_prefixes)
{
    struct capture c;
    capture_init(&c, "POST", "/api/x");
    struct json_object *o = fixture("{\"nam\":\"a\"}");
    cr_assert_eq(json_only_keys_or_reply(&c.req, o, org_keys), -1);
    assert_error_path(&c, 422, "validation_failed", "nam");
    json_object_put(o);
    capture_fini(&c);
}

Test(json_body, only_keys_strips_control_characters_from_the_echoed_name)
{
    struct capture c;
    capture_init(&c, "POST", "/api/x");
    struct json_object *o = fixture("{\"bad\\nname\\u0001\":1}");
    cr_assert_eq(json_only_keys_or_reply(&c.req, o, org_keys), -1);
    assert_error_path(&c, 422, "validation_failed", "badname");
    json_object_put(o);
    capture_fini(&c);
}

Test(json_body, a_lone_or_reversed_surrogate_escape_is_malformed_json)
{
    static const char *const bad[] = {"\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud800x\"",
                                      "{\"\\udfff\":1}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = NULL;
        struct json_object *o = json_parse_strict(bad[i], strlen(bad[i]), 64, &why);
        cr_assert_null(o, "%s parsed", bad[i]);
        cr_assert_not_null(why, "%s", bad[i]);
    }
    const char *ok = "\"\\ud83d\\ude00\"", *why = NULL;
    struct json_object *o = json_parse_strict(ok, strlen(ok), 64, &why);
    cr_assert_not_null(o, "a surrogate pair is a character: %s", why ? why : "");
    json_object_put(o);
}

Test(json_body, a_nul_in_an_object_key_is_refused_but_not_in_a_value)
{
    const char *key = "{\"a\\u0000b\" : 1}", *val = "{\"a\":\"x\\u0000y\"}", *why = NULL;
    cr_assert_null(json_parse_strict(key, strlen(key), 64, &why));
    cr_assert_eq(why, JSON_WHY_NUL_KEY);
    struct json_object *o = json_parse_strict(val, strlen(val), 64, &why);
    cr_assert_not_null(o, "a NUL in a value is for the validator to name: %s", why ? why : "");
    json_object_put(o);
}

/* ---- numbers kept as text, and timestamps ------------------------------ */

struct decimal_case {
    char json[48];
    int rc;           /* 0 or -1 */
    char want[24];    /* on 0: the text handed on, "" when absent */
    char msg[64];     /* on -1: the message */
};

ParameterizedTestParameters(json_body, decimal_or_reply_hands_on_the_number_as_sent_or_answers_422)
{
    static struct decimal_case cases[] = {
        {"{\"p\":2.5}", 0, "2.5", ""},
        {"{\"p\":2.50}", 0, "2.50", ""},
        {"{\"p\":3}", 0, "3", ""},
        {"{\"p\":0}", 0, "0", ""},
        {"{\"p\":0.000000001}", 0, "0.000000001", ""},
        {"{\"p\":1.0000000000}", 0, "1.0000000000", ""},
        {"{\"p\":1e-9}", 0, "1e-9", ""},
        {"{\"p\":1E3}", 0, "1E3", ""},
        {"{\"p\":1000000}", 0, "1000000", ""},
        {"{\"p\":0.1234567891234567}", -1, "", "p must have at most 9 decimals"},
        {"{\"p\":1e-10}", -1, "", "p must have at most 9 decimals"},
        {"{\"p\":1000000.5}", -1, "", "p must be at most 1000000"},
        {"{\"p\":-1}", -1, "", "p must not be negative"},
        {"{\"p\":-0.5}", -1, "", "p must not be negative"},
        {"{\"p\":\"2.5\"}", -1, "", "p must be a number"},
        {"{\"p\":true}", -1, "", "p must be a number"},
        {"{\"p\":null}", -1, "", "p is required"},
        {"{}", -1, "", "p is required"},
    };
    return cr_make_param_array(struct decimal_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct decimal_case *tc, json_body, decimal_or_reply_hands_on_the_number_as_sent_or_answers_422)
{
    struct capture c;
    const char *why = NULL, *out = "unset";
    capture_init(&c, "PUT", "/api/x");
    struct json_object *o = json_parse_strict(tc->json, strlen(tc->json), 10, &why);
    cr_assert_not_null(o, "%s: %s", tc->json, why);
    int rc = json_decimal_or_reply(&c.req, o, "p", JF_REQUIRED, 1e6, 9, &out);
    cr_assert_eq(rc, tc->rc, "%s: rc %d; response:\n%s", tc->json, rc, capture_dump(&c));
    if (rc == 0) {
        assert_no_output(&c);
        cr_assert_str_eq(out, tc->want, "%s", tc->json);
    } else {
        assert_error_path(&c, 422, "validation_failed", "p");
        cr_assert_str_eq(capture_error_field(&c, "message"), tc->msg, "%s", tc->json);
        cr_assert_null(out);
    }
    json_object_put(o);
    capture_fini(&c);
}

Test(json_body, timestamp_or_reply_rewrites_a_timestamp_canonically_or_answers_422)
{
    static const struct {
        const char *json;
        int rc;
        const char *want;
    } cases[] = {
        {"{\"t\":\"2025-03-01T10:00:00+01:00\"}", 0, "2025-03-01T09:00:00.000000Z"},
        {"{\"t\":\"2025-03-01 10:00:00.5\"}", 0, "2025-03-01T10:00:00.500000Z"},
        {"{}", 0, NULL},
        {"{\"t\":null}", 0, NULL},
        {"{\"t\":\"2025-03-01\"}", -1, NULL},
        {"{\"t\":\"yesterday\"}", -1, NULL},
        {"{\"t\":1740823200}", -1, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct capture c;
        const char *why = NULL, *out = "unset";
        char store[TS_TEXT_LEN + 1];
        capture_init(&c, "PUT", "/api/x");
        struct json_object *o = json_parse_strict(cases[i].json, strlen(cases[i].json), 10, &why);
        int rc = json_timestamp_or_reply(&c.req, o, "t", JF_OPTIONAL, store, &out);
        cr_assert_eq(rc, cases[i].rc, "%s; response:\n%s", cases[i].json, capture_dump(&c));
        if (rc == 0 && cases[i].want)
            cr_assert_str_eq(out, cases[i].want, "%s", cases[i].json);
        else if (rc == 0)
            cr_assert_null(out, "%s", cases[i].json);
        else
            assert_error_path(&c, 422, "validation_failed", "t");
        json_object_put(o);
        capture_fini(&c);
    }
}
