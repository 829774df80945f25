/* Unit tests for errors.c (and the parts of response.c every error uses):
 * the contract's code/status table, the exact shape of error bodies, the
 * cleaning and cutting of messages, and sanitize_text. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "capture.h"
#include "http/errors.h"
#include "util/text.h"
#include "http/response.h"

/* True when s (len bytes) is well-formed UTF-8 (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF). */
static bool utf8_ok(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        unsigned int cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

/* Parameters hold no pointers: Criterion runs each case in a re-executed
 * process, where addresses of string literals may differ (ASLR). */
struct code_case {
    enum api_error e;
    int status;
    char code[32];
};

struct sanitize_case {
    char src[24];
    size_t dstlen;
    char want[24];
    char what[48];
};

struct reply_case {
    enum db_status st;
    int status;
    char code[32];
};

TestSuite(errors);

ParameterizedTestParameters(errors, each_error_has_the_contracts_status_and_code)
{
    static struct code_case cases[] = {
        {E_BAD_JSON, 400, "bad_json"},
        {E_BAD_REQUEST, 400, "bad_request"},
        {E_UNAUTHORIZED, 401, "unauthorized"},
        {E_FORBIDDEN, 403, "forbidden"},
        {E_NOT_FOUND, 404, "not_found"},
        {E_METHOD, 405, "method_not_allowed"},
        {E_CONFLICT, 409, "conflict"},
        {E_RESYNC, 409, "resync_required"},
        {E_TOO_LARGE, 413, "payload_too_large"},
        {E_MEDIA_TYPE, 415, "unsupported_media_type"},
        {E_VALIDATION, 422, "validation_failed"},
        {E_INTERNAL, 500, "internal"},
        {E_UNAVAILABLE, 503, "unavailable"},
    };
    return cr_make_param_array(struct code_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct code_case *tc, errors, each_error_has_the_contracts_status_and_code)
{
    cr_assert_eq(api_error_status(tc->e), tc->status, "%s", tc->code);
    cr_assert_str_eq(api_error_code(tc->e), tc->code);

    struct capture c;
    capture_init(&c, "GET", "/api/x");
    cr_assert_eq(reply_error(&c.req, tc->e, NULL, "something about %s", "it"), -1);
    assert_error(&c, tc->status, tc->code);
    cr_assert_str_neq(http_reason(tc->status), "Unknown", "a reason phrase for %d", tc->status);
    capture_fini(&c);
}

Test(errors, an_error_body_has_exactly_code_message_path_and_request_id)
{
    struct capture c;
    capture_init(&c, "POST", "/api/executions/ingest");
    strcpy(c.req.request_id, "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
    reply_error(&c.req, E_VALIDATION, "node_executions[3].status", "status must be one of %s", "a, b");
    assert_error_path(&c, 422, "validation_failed", "node_executions[3].status");
    cr_assert_str_eq(capture_error_field(&c, "message"), "status must be one of a, b");
    cr_assert_str_eq(capture_error_field(&c, "request_id"), "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
    struct json_object *err;
    cr_assert(json_object_object_get_ex(capture_json(&c), "error", &err));
    cr_assert_eq(json_object_object_length(err), 4);
    size_t len;
    const char *body = capture_body(&c, &len);
    cr_assert_eq(strncmp(body,
                         "{\"error\":{\"code\":\"validation_failed\",\"message\":\"status must be one of a, b\","
                         "\"path\":\"node_executions[3].status\",\"request_id\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\"}}\n",
                         len),
                 0, "%s", capture_dump(&c));
    capture_fini(&c);
}

Test(errors, an_error_without_path_or_request_id_has_neither_member)
{
    struct capture c;
    capture_init(&c, "GET", "/api/x");
    reply_error(&c.req, E_NOT_FOUND, NULL, "no such resource");
    assert_error(&c, 404, "not_found");
    cr_assert_null(capture_error_field(&c, "path"));
    cr_assert_null(capture_error_field(&c, "request_id"));
    struct json_object *err;
    cr_assert(json_object_object_get_ex(capture_json(&c), "error", &err));
    cr_assert_eq(json_object_object_length(err), 2, "%s", capture_dump(&c));
    capture_fini(&c);
}

Test(errors, an_error_response_has_json_type_no_store_and_the_request_id_header)
{
    struct capture c;
    char v[128];
    capture_init(&c, "GET", "/api/x");
    strcpy(c.req.request_id, "abc123");
    reply_error(&c.req, E_CONFLICT, NULL, "busy");
    assert_error(&c, 409, "conflict");
    cr_assert_str_eq(capture_header(&c, "Content-Type", v, sizeof v), "application/json");
    cr_assert_str_eq(capture_header(&c, "Cache-Control", v, sizeof v), "no-store");
    cr_assert_str_eq(capture_header(&c, "X-Request-Id", v, sizeof v), "abc123");
    cr_assert_eq(c.req.status, 409);
    cr_assert(c.req.headers_sent);
    capture_fini(&c);
}

Test(errors, quotes_and_backslashes_in_message_and_path_stay_valid_json)
{
    struct capture c;
    capture_init(&c, "GET", "/api/x");
    reply_error(&c.req, E_VALIDATION, "a\"b\\c", "field \"%s\" is bad\\", "x\"y");
    assert_error_path(&c, 422, "validation_failed", "a\"b\\c");
    cr_assert_str_eq(capture_error_field(&c, "message"), "field \"x\"y\" is bad\\");
    capture_fini(&c);
}

Test(errors, control_characters_and_newlines_are_stripped_from_the_message)
{
    struct capture c;
    capture_init(&c, "GET", "/api/x");
    reply_error(&c.req, E_VALIDATION, NULL, "line1\nline2\r\n%s\x7f!", "\x01\x1b[31mred\t");
    assert_error(&c, 422, "validation_failed");
    cr_assert_str_eq(capture_error_field(&c, "message"), "line1line2[31mred!");
    capture_fini(&c);
}

Test(errors, a_long_message_is_cut_at_300_bytes)
{
    char longmsg[1000];
    memset(longmsg, 'm', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = '\0';
    struct capture c;
    capture_init(&c, "GET", "/api/x");
    reply_error(&c.req, E_VALIDATION, NULL, "%s", longmsg);
    assert_error(&c, 422, "validation_failed");
    cr_assert_eq(strlen(capture_error_field(&c, "message")), 300);
    capture_fini(&c);
}

Test(errors, a_long_message_is_cut_on_a_utf8_character_boundary)
{
    /* 299 ASCII bytes then a 2-byte character: byte 300 would split it. */
    char msg[400];
    memset(msg, 'a', 299);
    strcpy(msg + 299, "\xc3\xa9tail");
    struct capture c;
    capture_init(&c, "GET", "/api/x");
    reply_error(&c.req, E_VALIDATION, NULL, "%s", msg);
    assert_error(&c, 422, "validation_failed");
    const char *m = capture_error_field(&c, "message");
    cr_assert_eq(strlen(m), 299, "%s", capture_dump(&c));
    capture_fini(&c);

    /* 2-, 3- and 4-byte characters all the way: never a partial one. */
    static const char *const chars[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
    for (size_t k = 0; k < 3; k++) {
        char many[800] = "";
        for (int i = 0; i < 150; i++)
            strcat(many, chars[k]);
        capture_init(&c, "GET", "/api/x");
        reply_error(&c.req, E_VALIDATION, NULL, "x%s", many);
        assert_error(&c, 422, "validation_failed");
        m = capture_error_field(&c, "message");
        size_t w = strlen(chars[k]);
        cr_assert_leq(strlen(m), 300);
        cr_assert_gt(strlen(m), 300 - w);
        cr_assert_eq((strlen(m) - 1) % w, 0, "a partial character remains: %s", capture_dump(&c));
        capture_fini(&c);
    }
}

Test(errors, invalid_utf8_echoed_into_a_message_or_path_still_gives_valid_json)
{
    struct capture c;
    capture_init(&c, "GET", "/api/x");
    reply_error(&c.req, E_VALIDATION, "na\xffme", "unknown query parameter %s", "na\xffme\xc3");
    size_t len;
    const char *body = capture_body(&c, &len);
    cr_assert(utf8_ok((const unsigned char *)body, len), "the body is not UTF-8: %s", capture_dump(&c));
    assert_error(&c, 422, "validation_failed");
    capture_fini(&c);
}

Test(errors, a_second_reply_is_dropped)
{
    struct capture c;
    capture_init(&c, "GET", "/api/x");
    reply_error(&c.req, E_NOT_FOUND, NULL, "first");
    cr_assert_eq(reply_error(&c.req, E_INTERNAL, NULL, "second"), -1);
    assert_error(&c, 404, "not_found");
    cr_assert_null(strstr(c.out.data, "second"), "%s", capture_dump(&c));
    cr_assert_eq(c.req.status, 404);
    capture_fini(&c);
}

Test(errors, extra_headers_are_sent_once_and_cannot_inject_lines)
{
    struct capture c;
    char v[128];
    capture_init(&c, "PATCH", "/api/x");
    reply_header(&c.req, "Allow", "GET, POST");
    reply_header(&c.req, "X-Evil", "a\r\nSet-Cookie: x=1");
    reply_error(&c.req, E_METHOD, NULL, "no");
    reply_header(&c.req, "X-Late", "ignored");
    assert_error(&c, 405, "method_not_allowed");
    cr_assert_str_eq(capture_header(&c, "Allow", v, sizeof v), "GET, POST");
    cr_assert_null(capture_header(&c, "Set-Cookie", v, sizeof v), "%s", capture_dump(&c));
    cr_assert_str_eq(capture_header(&c, "X-Evil", v, sizeof v), "aSet-Cookie: x=1");
    cr_assert_null(capture_header(&c, "X-Late", v, sizeof v));
    capture_fini(&c);
}

ParameterizedTestParameters(errors, sanitize_text_drops_controls_and_cuts_on_character_boundaries)
{
    static struct sanitize_case cases[] = {
        {"plain text", 64, "plain text", "unchanged"},
        {"", 64, "", "empty"},
        {"a\nb\rc\td\x01" "e\x1f" "f\x7fg", 64, "abcdefg", "controls and DEL dropped"},
        {"\n\r\t", 64, "", "only controls"},
        {"a\xc2\x85" "b\xc2\x9f" "c\xc2\xa0", 64, "abc\xc2\xa0", "C1 dropped, NBSP kept"},
        {"\xe2\x80\xae" "gnp.exe", 64, "gnp.exe", "bidi override dropped"},
        {"a\xe2\x80\x8b" "b\xef\xbb\xbf", 64, "ab", "zero-width dropped"},
        {"abcdef", 4, "abc", "cut to dstlen - 1"},
        {"abcdef", 1, "", "room for the NUL only"},
        {"caf\xc3\xa9", 64, "caf\xc3\xa9", "UTF-8 kept"},
        {"caf\xc3\xa9", 5, "caf", "2-byte character not split"},
        {"caf\xc3\xa9", 6, "caf\xc3\xa9", "2-byte character fits exactly"},
        {"\xe2\x82\xac", 3, "", "3-byte character not split after 2"},
        {"\xe2\x82\xac", 2, "", "3-byte character not split after 1"},
        {"\xe2\x82\xac!", 4, "\xe2\x82\xac", "3-byte character fits"},
        {"a\xf0\x9f\x98\x80", 5, "a", "4-byte character not split"},
        {"a\xf0\x9f\x98\x80", 6, "a\xf0\x9f\x98\x80", "4-byte character fits"},
        {"a\xffz", 64, "az", "invalid byte dropped"},
        {"a\x80z", 64, "az", "stray continuation byte dropped"},
        {"ab\x80", 64, "ab", "stray continuation byte at the end dropped"},
        {"a\xc3z", 64, "az", "truncated sequence dropped"},
        {"a\xc0\xafz", 64, "az", "overlong encoding dropped"},
        {"a\xed\xa0\x80z", 64, "az", "UTF-16 surrogate dropped"},
        {"a\xf4\x90\x80\x80z", 64, "az", "above U+10FFFF dropped"},
    };
    return cr_make_param_array(struct sanitize_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct sanitize_case *tc, errors, sanitize_text_drops_controls_and_cuts_on_character_boundaries)
{
    char dst[64];
    memset(dst, '#', sizeof dst);
    sanitize_text(dst, tc->dstlen, tc->src);
    cr_assert_str_eq(dst, tc->want, "%s", tc->what);
    cr_assert(utf8_ok((const unsigned char *)dst, strlen(dst)), "%s: the result is not UTF-8", tc->what);
}

Test(errors, sanitize_text_with_no_room_writes_nothing)
{
    char dst[4] = "xyz";
    sanitize_text(dst, 0, "abc");
    cr_assert_str_eq(dst, "xyz");
}

ParameterizedTestParameters(errors, each_database_failure_gives_its_http_answer)
{
    static struct reply_case cases[] = {
        {DB_UNAVAILABLE, 503, "unavailable"},
        {DB_TIMEOUT, 503, "unavailable"},
        {DB_CONFLICT, 409, "conflict"},
        {DB_NOT_FOUND, 404, "not_found"},
        {DB_FORBIDDEN, 403, "forbidden"},
        {DB_INVALID, 422, "validation_failed"},
        {DB_ERROR, 500, "internal"},
    };
    return cr_make_param_array(struct reply_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct reply_case *tc, errors, each_database_failure_gives_its_http_answer)
{
    struct capture c;
    capture_init(&c, "GET", "/api/x");
    cr_assert_eq(reply_db_error(&c.req, tc->st), -1);
    assert_error(&c, tc->status, tc->code);
    capture_fini(&c);
}
