/* Unit tests for router.c against a small test route table whose handlers
 * only record that they ran: 404 and 405 before any handler, path ids,
 * media types (415), body limits (413 before reading), Content-Length
 * handling, the 401 of a protected route without credentials (no database
 * needed: r->db is NULL), the 500 for a handler that sends nothing, and
 * the shape of the real route table. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "capture.h"
#include "http/errors.h"
#include "http/response.h"
#include "http/router.h"
#include "handlers/routes.h"

#define ID_LOWER "123e4567-e89b-42d3-a456-426614174abc"
#define ID_UPPER "123E4567-E89B-42D3-A456-426614174ABC"
#define ID2 "00000000-1111-4222-8333-444444444444"

/* What the last handler saw. Each test runs in its own process. */
static struct {
    int calls;
    const char *which;
    bool body_null;
    size_t body_len;
    char body[2048];
    int nparams;
    char params[REQ_MAX_PATH_PARAMS][REQ_NAME_MAX + 1];
} seen;

static void record(struct req *r, const char *which)
{
    seen.calls++;
    seen.which = which;
    seen.body_null = r->body == NULL;
    seen.body_len = r->body_len;
    if (r->body && r->body_len < sizeof seen.body)
        memcpy(seen.body, r->body, r->body_len + 1); /* with its NUL */
    seen.nparams = r->nparams;
    for (int i = 0; i < r->nparams && i < REQ_MAX_PATH_PARAMS; i++)
        snprintf(seen.params[i], sizeof seen.params[i], "%s", r->params[i]);
}

#define HANDLER(fn)                                           \
    static void fn(struct req *r)                             \
    {                                                         \
        record(r, #fn);                                       \
        reply_json_text(r, 200, "{\"ok\":true}", 11);         \
    }
HANDLER(h_list)
HANDLER(h_create)
HANDLER(h_get)
HANDLER(h_put)
HANDLER(h_delete)
HANDLER(h_part)
HANDLER(h_private)
HANDLER(h_search)
HANDLER(h_label)

static void h_silent(struct req *r)
{
    record(r, "h_silent");
}

static const struct route table[] = {
    {"GET", "/api/things", h_list, AUTH_NONE, BODY_NONE, QUERY_NONE, 0, DB_PRIMARY},
    {"POST", "/api/things", h_create, AUTH_NONE, BODY_JSON, QUERY_NONE, 0, DB_PRIMARY},
    {"GET", "/api/things/{id}", h_get, AUTH_NONE, BODY_NONE, QUERY_NONE, 0, DB_PRIMARY},
    {"PUT", "/api/things/{id}", h_put, AUTH_NONE, BODY_JSON_OPT, QUERY_NONE, 0, DB_PRIMARY},
    {"DELETE", "/api/things/{id}", h_delete, AUTH_NONE, BODY_NONE, QUERY_NONE, 0, DB_PRIMARY},
    {"GET", "/api/things/{id}/parts/{id}", h_part, AUTH_NONE, BODY_NONE, QUERY_NONE, 0, DB_PRIMARY},
    {"GET", "/api/silent", h_silent, AUTH_NONE, BODY_NONE, QUERY_NONE, 0, DB_PRIMARY},
    {"GET", "/api/private", h_private, AUTH_ANY, BODY_NONE, QUERY_NONE, 0, DB_PRIMARY},
    {"POST", "/api/private", h_private, AUTH_USER, BODY_JSON, QUERY_NONE, 0, DB_PRIMARY},
    {"GET", "/api/search", h_search, AUTH_NONE, BODY_NONE, QUERY_OWN, 0, DB_PRIMARY},
    {"POST", "/api/small", h_create, AUTH_NONE, BODY_JSON, QUERY_NONE, 100, DB_PRIMARY},
    {"GET", "/api/things/{id}/labels/{label}", h_label, AUTH_NONE, BODY_NONE, QUERY_NONE, 0, DB_PRIMARY},
};
#define TABLE_LEN (sizeof table / sizeof table[0])

static void dispatch(struct capture *c)
{
    router_dispatch(table, TABLE_LEN, &c->req);
}

static void assert_handler_not_run(struct capture *c)
{
    cr_assert_eq(seen.calls, 0, "handler %s ran; response:\n%s", seen.which ? seen.which : "?", capture_dump(c));
}

static void assert_handler_ran(struct capture *c, const char *which)
{
    cr_assert_eq(seen.calls, 1, "the handler did not run once; response:\n%s", capture_dump(c));
    cr_assert_str_eq(seen.which, which);
}

static void reset_seen(void)
{
    memset(&seen, 0, sizeof seen);
}

TestSuite(router, .init = reset_seen);

/* ---- matching ---------------------------------------------------------- */

Test(router, a_known_route_runs_its_handler_once)
{
    struct capture c;
    capture_init(&c, "GET", "/api/things");
    dispatch(&c);
    assert_status(&c, 200);
    assert_handler_ran(&c, "h_list");
    cr_assert_eq(seen.nparams, 0);
    cr_assert(seen.body_null);
    capture_fini(&c);
}

/* Parameters hold no pointers: Criterion runs each case in a re-executed
 * process, where addresses of string literals may differ (ASLR). */
struct path_case {
    char method[8];
    char path[112];
    char what[48];
};

ParameterizedTestParameters(router, an_unknown_or_malformed_path_is_404_before_any_handler)
{
    static struct path_case cases[] = {
        {"GET", "/api/nothing", "unknown path"},
        {"GET", "/api", "prefix only"},
        {"GET", "/", "root"},
        {"GET", "", "empty"},
        {"GET", "api/things", "no leading slash"},
        {"GET", "/api/things/", "trailing slash"},
        {"GET", "/api//things", "double slash"},
        {"GET", "//api/things", "leading double slash"},
        {"GET", "/API/things", "case differs"},
        {"GET", "/api/th%69ngs", "percent-encoded literal"},
        {"GET", "/api/things%2F" ID_LOWER, "percent-encoded slash"},
        {"GET", "/api/things/" ID_LOWER "/", "trailing slash after id"},
        {"GET", "/api/things/" ID_LOWER "/parts", "missing second id"},
        {"GET", "/api/things/" ID_LOWER "/parts/" ID2 "/more", "extra segment"},
        {"GET", "/api/things/not-a-uuid", "malformed id"},
        {"GET", "/api/things/123e4567-e89b-42d3-a456-426614174ab", "id one short"},
        {"GET", "/api/things/123e4567-e89b-42d3-a456-426614174abcd", "id one long"},
        {"GET", "/api/things/123e4567e89b42d3a456426614174abc", "id without dashes"},
        {"GET", "/api/things/123e4567-e89b-42d3-a456-42661417zabc", "id with non-hex"},
        {"GET", "/api/things/%31%32%33e4567-e89b-42d3-a456-426614174abc", "percent-encoded id"},
        {"GET", "/api/things/" ID_LOWER "/parts/bad", "malformed second id"},
        {"DELETE", "/api/things/not-a-uuid", "malformed id with another method"},
        {"PATCH", "/api/things/not-a-uuid", "malformed id with an unknown method"},
        {"GET", "/api/things?limit=1", "query left in the path"},
        {"GET", "/api/things/" ID_LOWER "/labels/", "empty name"},
        {"GET", "/api/things/" ID_LOWER "/labels/a/b", "name and one segment more"},
        {"GET", "/api/things/" ID_LOWER "/labels/a%2", "escape cut short"},
        {"GET", "/api/things/" ID_LOWER "/labels/a%zz", "escape of non-hex digits"},
        {"GET", "/api/things/" ID_LOWER "/labels/a%00b", "escaped NUL"},
        {"GET", "/api/things/" ID_LOWER "/labels/%FF", "escape that is not UTF-8"},
        {"GET", "/api/things/" ID_LOWER "/labels/%C3", "UTF-8 cut short"},
        {"GET", "/api/things/" ID_LOWER "/labels/%ED%A0%80", "escaped surrogate"},
        {"GET", "/api/things/not-a-uuid/labels/a", "malformed id before a name"},
    };
    return cr_make_param_array(struct path_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct path_case *tc, router, an_unknown_or_malformed_path_is_404_before_any_handler)
{
    reset_seen();
    struct capture c;
    capture_init(&c, tc->method, tc->path);
    dispatch(&c);
    cr_log_info("%s %s (%s)", tc->method, tc->path, tc->what);
    assert_error(&c, 404, "not_found");
    assert_handler_not_run(&c);
    capture_fini(&c);
}

Test(router, a_wrong_method_is_405_with_every_method_of_the_path_in_allow)
{
    struct capture c;
    char allow[128];
    capture_init(&c, "PATCH", "/api/things/" ID_LOWER);
    dispatch(&c);
    assert_error(&c, 405, "method_not_allowed");
    assert_handler_not_run(&c);
    cr_assert_not_null(capture_header(&c, "Allow", allow, sizeof allow), "%s", capture_dump(&c));
    cr_assert_str_eq(allow, "GET, PUT, DELETE");
    capture_fini(&c);
}

Test(router, a_wrong_method_on_a_collection_lists_get_and_post)
{
    struct capture c;
    char allow[128];
    capture_init(&c, "DELETE", "/api/things");
    dispatch(&c);
    assert_error(&c, 405, "method_not_allowed");
    cr_assert_str_eq(capture_header(&c, "Allow", allow, sizeof allow), "GET, POST");
    assert_handler_not_run(&c);
    capture_fini(&c);
}

Test(router, methods_are_case_sensitive)
{
    struct capture c;
    capture_init(&c, "get", "/api/things");
    dispatch(&c);
    assert_error(&c, 405, "method_not_allowed");
    assert_handler_not_run(&c);
    capture_fini(&c);
}

Test(router, router_match_reports_found_not_found_and_bad_method)
{
    struct capture c;
    const struct route *rt;
    char allow[64];

    capture_init(&c, "PUT", "/api/things/" ID_LOWER);
    cr_assert_eq(router_match(table, TABLE_LEN, &c.req, &rt, allow, sizeof allow), ROUTE_FOUND);
    cr_assert_eq(rt, &table[3]);
    cr_assert_eq(c.req.nparams, 1);
    capture_fini(&c);

    capture_init(&c, "POST", "/api/things/" ID_LOWER);
    cr_assert_eq(router_match(table, TABLE_LEN, &c.req, &rt, allow, sizeof allow), ROUTE_BAD_METHOD);
    cr_assert_null(rt);
    cr_assert_str_eq(allow, "GET, PUT, DELETE");
    capture_fini(&c);

    capture_init(&c, "GET", "/api/none");
    cr_assert_eq(router_match(table, TABLE_LEN, &c.req, &rt, allow, sizeof allow), ROUTE_NOT_FOUND);
    cr_assert_null(rt);
    assert_no_output(&c);
    capture_fini(&c);
}

Test(router, a_path_id_is_captured_lowercased)
{
    struct capture c;
    capture_init(&c, "GET", "/api/things/" ID_UPPER);
    dispatch(&c);
    assert_status(&c, 200);
    assert_handler_ran(&c, "h_get");
    cr_assert_eq(seen.nparams, 1);
    cr_assert_str_eq(seen.params[0], ID_LOWER);
    capture_fini(&c);
}

Test(router, two_path_ids_are_captured_in_order)
{
    struct capture c;
    capture_init(&c, "GET", "/api/things/" ID_UPPER "/parts/" ID2);
    dispatch(&c);
    assert_status(&c, 200);
    assert_handler_ran(&c, "h_part");
    cr_assert_eq(seen.nparams, 2);
    cr_assert_str_eq(seen.params[0], ID_LOWER);
    cr_assert_str_eq(seen.params[1], ID2);
    capture_fini(&c);
}

struct name_case {
    char segment[64];
    char value[32];
};

ParameterizedTestParameters(router, a_name_parameter_is_captured_percent_decoded)
{
    static struct name_case cases[] = {
        {"gpt-4o", "gpt-4o"},
        {"openai%2Fgpt-4o", "openai/gpt-4o"},
        {"openai%2fgpt-4o", "openai/gpt-4o"},
        {"a+b", "a+b"},
        {"a%20b", "a b"},
        {"%C3%A9t%C3%A9", "\xc3\xa9t\xc3\xa9"},
        {"\xc3\xa9", "\xc3\xa9"},
        {"Claude-3.5", "Claude-3.5"},
    };
    return cr_make_param_array(struct name_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct name_case *tc, router, a_name_parameter_is_captured_percent_decoded)
{
    reset_seen();
    struct capture c;
    char path[160];
    snprintf(path, sizeof path, "/api/things/%s/labels/%s", ID_UPPER, tc->segment);
    capture_init(&c, "GET", path);
    dispatch(&c);
    assert_status(&c, 200);
    assert_handler_ran(&c, "h_label");
    cr_assert_eq(seen.nparams, 2);
    cr_assert_str_eq(seen.params[0], ID_LOWER);
    cr_assert_str_eq(seen.params[1], tc->value, "%s", tc->segment);
    capture_fini(&c);
}

Test(router, a_name_of_REQ_NAME_MAX_bytes_matches_and_one_more_is_404)
{
    static char path[64 + 3 * (REQ_NAME_MAX + 1)];
    for (int extra = 0; extra <= 1; extra++) {
        reset_seen();
        /* Escaped, so the raw segment is three times as long as the name. */
        int n = snprintf(path, sizeof path, "/api/things/%s/labels/", ID_LOWER);
        for (int i = 0; i < REQ_NAME_MAX + extra; i++)
            n += snprintf(path + n, sizeof path - (size_t)n, "%%%02X", 'a' + i % 26);
        struct capture c;
        capture_init(&c, "GET", path);
        dispatch(&c);
        if (extra) {
            assert_error(&c, 404, "not_found");
            assert_handler_not_run(&c);
        } else {
            assert_status(&c, 200);
            cr_assert_eq(strlen(seen.params[1]), REQ_NAME_MAX);
        }
        capture_fini(&c);
    }
}

/* ---- media types ------------------------------------------------------- */

struct ct_case {
    bool absent;
    char content_type[48];
};

ParameterizedTestParameters(router, a_json_route_refuses_other_media_types_with_415)
{
    static struct ct_case cases[] = {
        {true, ""},
        {false, ""},
        {false, "text/plain"},
        {false, "application/x-www-form-urlencoded"},
        {false, "multipart/form-data; boundary=x"},
        {false, "application/jsonp"},
        {false, "application/json-patch+json"},
        {false, "application/json; charset=latin1"},
        {false, "application/json; charset=iso-8859-1"},
        {false, "application/json; charset=utf-16"},
        {false, "json"},
    };
    return cr_make_param_array(struct ct_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct ct_case *tc, router, a_json_route_refuses_other_media_types_with_415)
{
    reset_seen();
    struct capture c;
    capture_init(&c, "POST", "/api/things");
    capture_json_body(&c, "{\"a\":1}");
    c.req.content_type = tc->absent ? NULL : tc->content_type;
    dispatch(&c);
    cr_log_info("Content-Type: %s", tc->absent ? "(absent)" : tc->content_type);
    assert_error(&c, 415, "unsupported_media_type");
    assert_handler_not_run(&c);
    cr_assert_eq(c.src_reads, 0, "the body was read before the media type was checked");
    capture_fini(&c);
}

ParameterizedTestParameters(router, a_json_route_accepts_json_in_any_case_and_with_a_utf8_charset)
{
    static struct ct_case cases[] = {
        {false, "application/json"},
        {false, "application/json; charset=utf-8"},
        {false, "application/json; charset=UTF-8"},
        {false, "application/json;charset=utf-8"},
        {false, "application/json; charset=\"utf-8\""},
        {false, "Application/JSON"},
        {false, "APPLICATION/JSON; CHARSET=UTF-8"},
    };
    return cr_make_param_array(struct ct_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct ct_case *tc, router, a_json_route_accepts_json_in_any_case_and_with_a_utf8_charset)
{
    reset_seen();
    struct capture c;
    capture_init(&c, "POST", "/api/things");
    capture_json_body(&c, "{\"a\":1}");
    c.req.content_type = tc->content_type;
    dispatch(&c);
    cr_log_info("Content-Type: %s", tc->content_type);
    assert_status(&c, 200);
    assert_handler_ran(&c, "h_create");
    capture_fini(&c);
}

Test(router, a_body_on_a_route_that_takes_none_is_415)
{
    struct capture c;
    capture_init(&c, "GET", "/api/things");
    capture_json_body(&c, "{\"a\":1}");
    dispatch(&c);
    assert_error(&c, 415, "unsupported_media_type");
    assert_handler_not_run(&c);
    capture_fini(&c);
}

Test(router, a_zero_content_length_on_a_route_that_takes_no_body_is_fine)
{
    struct capture c;
    capture_init(&c, "GET", "/api/things");
    c.req.content_length = "0";
    dispatch(&c);
    assert_status(&c, 200);
    assert_handler_ran(&c, "h_list");
    capture_fini(&c);
}

/* ---- body size and reading --------------------------------------------- */

Test(router, a_body_over_the_limit_is_413_and_never_read)
{
    static char big[1025];
    memset(big, ' ', sizeof big);
    struct capture c;
    capture_init(&c, "POST", "/api/things");
    c.cfg.max_body_bytes = 1024;
    capture_source(&c, big, sizeof big);
    c.req.content_type = "application/json";
    c.req.content_length = "1025";
    dispatch(&c);
    assert_error(&c, 413, "payload_too_large");
    assert_handler_not_run(&c);
    cr_assert_eq(c.src_reads, 0, "the source was read %d times", c.src_reads);
    capture_fini(&c);
}

/* A route's own limit, smaller than the configured one, is checked the
 * same way; the configured one still holds when it is smaller. */
Test(router, a_body_over_the_routes_own_limit_is_413_and_never_read)
{
    static char body[101];
    memset(body, ' ', sizeof body);
    body[0] = '{';
    body[99] = '}';
    for (int len = 100; len <= 101; len++) {
        struct capture c;
        char cl[8];
        reset_seen();
        capture_init(&c, "POST", "/api/small");
        capture_source(&c, body, (size_t)len);
        c.req.content_type = "application/json";
        snprintf(cl, sizeof cl, "%d", len);
        c.req.content_length = cl;
        dispatch(&c);
        if (len == 100) {
            assert_handler_ran(&c, "h_create");
        } else {
            assert_error(&c, 413, "payload_too_large");
            cr_assert(strstr(capture_error_field(&c, "message"), "100 bytes"), "%s", capture_dump(&c));
            assert_handler_not_run(&c);
            cr_assert_eq(c.src_reads, 0);
        }
        capture_fini(&c);
    }
    struct capture c;
    reset_seen();
    capture_init(&c, "POST", "/api/small");
    c.cfg.max_body_bytes = 50;
    capture_source(&c, body, 51);
    c.req.content_type = "application/json";
    c.req.content_length = "51";
    dispatch(&c);
    assert_error(&c, 413, "payload_too_large");
    cr_assert(strstr(capture_error_field(&c, "message"), "50 bytes"), "%s", capture_dump(&c));
    capture_fini(&c);
}

/* The tenancy bodies (a model price's, a rename's among them), a live
 * ticket's and an alert rule's are small; a workflow's may be megabytes. */
Test(router, tenancy_routes_cap_their_bodies_and_workflows_keep_the_configured_limit)
{
    for (size_t i = 0; i < agora_routes_count; i++) {
        const struct route *rt = &agora_routes[i];
        bool writes = rt->body != BODY_NONE && (strcmp(rt->method, "POST") == 0 || strcmp(rt->method, "PUT") == 0 ||
                                                strcmp(rt->method, "PATCH") == 0);
        bool tenancy = writes && (strncmp(rt->pattern, "/api/organizations", 18) == 0 ||
                                  strncmp(rt->pattern, "/api/projects", 13) == 0 ||
                                  strncmp(rt->pattern, "/api/alert-rules", 16) == 0 ||
                                  strcmp(rt->pattern, "/api/live/tickets") == 0 ||
                                  strcmp(rt->method, "PATCH") == 0);
        if (tenancy)
            cr_assert_eq(rt->max_body, 64 * 1024, "%s %s", rt->method, rt->pattern);
        else
            cr_assert_eq(rt->max_body, 0, "%s %s", rt->method, rt->pattern);
    }
}

Test(router, a_declared_length_over_the_default_16_mib_is_413_without_reading)
{
    struct capture c;
    capture_init(&c, "POST", "/api/things");
    capture_source(&c, "{}", 2);
    c.req.content_type = "application/json";
    c.req.content_length = "16777217";
    dispatch(&c);
    assert_error(&c, 413, "payload_too_large");
    cr_assert_eq(c.src_reads, 0);
    capture_fini(&c);

    capture_init(&c, "POST", "/api/things");
    capture_source(&c, "{}", 2);
    c.req.content_type = "application/json";
    c.req.content_length = "9000000000000";
    dispatch(&c);
    assert_error(&c, 413, "payload_too_large");
    cr_assert_eq(c.src_reads, 0);
    capture_fini(&c);
}

Test(router, a_body_of_exactly_the_limit_is_read)
{
    static char body[1024];
    memset(body, ' ', sizeof body);
    body[0] = '{';
    body[sizeof body - 1] = '}';
    struct capture c;
    capture_init(&c, "POST", "/api/things");
    c.cfg.max_body_bytes = 1024;
    capture_source(&c, body, sizeof body);
    c.req.content_type = "application/json";
    c.req.content_length = "1024";
    dispatch(&c);
    assert_status(&c, 200);
    assert_handler_ran(&c, "h_create");
    cr_assert_eq(seen.body_len, 1024);
    capture_fini(&c);
}

struct cl_case {
    char content_length[16];
};

ParameterizedTestParameters(router, a_malformed_content_length_is_400_and_the_body_is_not_read)
{
    static struct cl_case cases[] = {
        {"12a"}, {"-1"}, {" 12"}, {"12 "}, {"+12"}, {"1.0"}, {"0x10"}, {"abc"}, {"1,2"},
    };
    return cr_make_param_array(struct cl_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct cl_case *tc, router, a_malformed_content_length_is_400_and_the_body_is_not_read)
{
    reset_seen();
    struct capture c;
    capture_init(&c, "POST", "/api/things");
    capture_json_body(&c, "{\"name\":\"abc\"}");
    c.req.content_length = tc->content_length;
    dispatch(&c);
    cr_log_info("Content-Length: \"%s\"", tc->content_length);
    assert_error(&c, 400, "bad_json");
    assert_handler_not_run(&c);
    cr_assert_eq(c.src_reads, 0);
    capture_fini(&c);
}

Test(router, a_body_shorter_than_its_content_length_is_400)
{
    struct capture c;
    capture_init(&c, "POST", "/api/things");
    capture_json_body(&c, "{\"a\":1}");
    c.req.content_length = "20";
    dispatch(&c);
    assert_error(&c, 400, "bad_json");
    assert_handler_not_run(&c);
    cr_assert_eq(c.src_bytes_read, 7);
    capture_fini(&c);
}

Test(router, the_body_is_read_exactly_across_short_reads)
{
    const char *body = "{\"name\":\"a fairly long name to need several reads\",\"n\":[1,2,3]}";
    struct capture c;
    capture_init(&c, "POST", "/api/things");
    capture_json_body(&c, body);
    c.src_chunk = 7;
    dispatch(&c);
    assert_status(&c, 200);
    assert_handler_ran(&c, "h_create");
    cr_assert_not(seen.body_null);
    cr_assert_eq(seen.body_len, strlen(body));
    cr_assert_str_eq(seen.body, body, "the body is the bytes sent, NUL-terminated");
    cr_assert_gt(c.src_reads, 1);
    capture_fini(&c);
}

Test(router, no_more_than_content_length_bytes_are_read)
{
    const char *sent = "{\"a\":1}EXTRA-BYTES";
    struct capture c;
    capture_init(&c, "POST", "/api/things");
    capture_json_body(&c, sent);
    c.req.content_length = "7";
    dispatch(&c);
    assert_status(&c, 200);
    cr_assert_eq(seen.body_len, 7);
    cr_assert_str_eq(seen.body, "{\"a\":1}");
    cr_assert_eq(c.src_bytes_read, 7);
    capture_fini(&c);
}

Test(router, a_json_route_without_a_body_is_400)
{
    struct capture c;
    capture_init(&c, "POST", "/api/things");
    c.req.content_type = "application/json";
    dispatch(&c);
    assert_error(&c, 400, "bad_json");
    assert_handler_not_run(&c);
    capture_fini(&c);

    capture_init(&c, "POST", "/api/things");
    c.req.content_type = "application/json";
    c.req.content_length = "0";
    dispatch(&c);
    assert_error(&c, 400, "bad_json");
    assert_handler_not_run(&c);
    capture_fini(&c);
}

Test(router, an_optional_body_route_runs_without_a_body)
{
    struct capture c;
    capture_init(&c, "PUT", "/api/things/" ID_LOWER);
    dispatch(&c);
    assert_status(&c, 200);
    assert_handler_ran(&c, "h_put");
    cr_assert(seen.body_null);
    cr_assert_eq(seen.body_len, 0);
    capture_fini(&c);
}

Test(router, an_optional_body_route_still_checks_the_media_type)
{
    struct capture c;
    capture_init(&c, "PUT", "/api/things/" ID_LOWER);
    capture_json_body(&c, "{}");
    c.req.content_type = "text/plain";
    dispatch(&c);
    assert_error(&c, 415, "unsupported_media_type");
    assert_handler_not_run(&c);
    capture_fini(&c);
}

/* ---- handlers and auth ------------------------------------------------- */

Test(router, a_handler_that_sends_nothing_gets_a_500_internal)
{
    struct capture c;
    capture_init(&c, "GET", "/api/silent");
    dispatch(&c);
    assert_handler_ran(&c, "h_silent");
    assert_error(&c, 500, "internal");
    capture_fini(&c);
}

Test(router, a_protected_route_without_authorization_is_401_before_the_handler)
{
    struct capture c;
    char v[128];
    capture_init(&c, "GET", "/api/private");
    dispatch(&c);
    assert_error(&c, 401, "unauthorized");
    assert_handler_not_run(&c);
    cr_assert_not_null(capture_header(&c, "WWW-Authenticate", v, sizeof v), "%s", capture_dump(&c));
    cr_assert_eq(strncmp(v, "Bearer", 6), 0, "%s", v);
    capture_fini(&c);
}

Test(router, a_protected_route_refuses_a_non_bearer_scheme_with_401)
{
    struct capture c;
    capture_init(&c, "GET", "/api/private");
    c.req.authorization = "Basic dXNlcjpwYXNz";
    dispatch(&c);
    assert_error(&c, 401, "unauthorized");
    assert_handler_not_run(&c);
    capture_fini(&c);
}

Test(router, a_protected_route_checks_auth_before_reading_the_body)
{
    struct capture c;
    capture_init(&c, "POST", "/api/private");
    capture_json_body(&c, "{\"a\":1}");
    dispatch(&c);
    assert_error(&c, 401, "unauthorized");
    assert_handler_not_run(&c);
    cr_assert_eq(c.src_reads, 0);
    capture_fini(&c);
}

/* ---- the real route table ---------------------------------------------- */

/* nginx's own subrequests (nginx/agora.conf.in, internal locations) reach
 * routes under /internal/; no public URL maps there. */
static bool internal_route(const struct route *rt)
{
    return strncmp(rt->pattern, "/internal/", 10) == 0;
}

/* A hot standby refuses writes: only reads that write nothing may go
 * there. The stats routes fold pending deltas first (a write) and the live
 * authorization consumes its ticket, so they stay on the primary. */
Test(router, only_authenticated_pure_reads_may_run_on_the_standby)
{
    size_t standby = 0;
    for (size_t i = 0; i < agora_routes_count; i++) {
        const struct route *rt = &agora_routes[i];
        if (rt->db != DB_STANDBY_OK)
            continue;
        standby++;
        cr_assert_str_eq(rt->method, "GET", "%s %s", rt->method, rt->pattern);
        cr_assert_neq(rt->auth, AUTH_NONE, "%s", rt->pattern);
        cr_assert_null(strstr(rt->pattern, "/stats"), "%s", rt->pattern);
        cr_assert(!internal_route(rt), "%s", rt->pattern);
    }
    cr_assert_geq(standby, 10, "the telemetry reads are standby reads");
}

Test(router, every_real_route_is_under_api_with_a_well_formed_pattern)
{
    cr_assert_gt(agora_routes_count, 0);
    for (size_t i = 0; i < agora_routes_count; i++) {
        const struct route *rt = &agora_routes[i];
        cr_assert_not_null(rt->handler, "%s %s", rt->method, rt->pattern);
        /* /v1/traces: OpenTelemetry's default path, which nginx routes
         * on its own (OTLP exporters append it to the endpoint). */
        cr_assert(strncmp(rt->pattern, "/api/", 5) == 0 || internal_route(rt) || strcmp(rt->pattern, "/v1/traces") == 0,
                  "%s %s", rt->method, rt->pattern);
        size_t len = strlen(rt->pattern);
        cr_assert_neq(rt->pattern[len - 1], '/', "trailing slash: %s", rt->pattern);
        cr_assert_null(strstr(rt->pattern, "//"), "double slash: %s", rt->pattern);
        /* Each segment is a lowercase literal, {id}, or {word}: the
         * pattern's one name parameter, last (no literal after it could
         * tell a name from another route's segment). {other_id} is one: a
         * second id, which OpenAPI cannot call {id} again; its handler
         * checks that it is a UUID. */
        int names = 0;
        for (const char *p = rt->pattern; *p; p++) {
            if (*p == '{') {
                size_t k = strcspn(p, "}");
                cr_assert(p[-1] == '/' && p[k] == '}' && (p[k + 1] == '/' || p[k + 1] == '\0'), "%s", rt->pattern);
                if (strncmp(p, "{id}", 4) != 0) {
                    cr_assert(++names == 1 && p[k + 1] == '\0', "%s", rt->pattern);
                    for (size_t j = 1; j < k; j++)
                        cr_assert((p[j] >= 'a' && p[j] <= 'z') || p[j] == '_', "%s", rt->pattern);
                }
                p += k;
            } else {
                cr_assert(*p == '/' || *p == '-' || *p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'),
                          "unexpected character in %s", rt->pattern);
            }
        }
        cr_assert(strcmp(rt->method, "GET") == 0 || strcmp(rt->method, "POST") == 0 ||
                      strcmp(rt->method, "PUT") == 0 || strcmp(rt->method, "PATCH") == 0 ||
                      strcmp(rt->method, "DELETE") == 0,
                  "method %s", rt->method);
    }
}

Test(router, no_two_real_routes_share_method_and_pattern)
{
    for (size_t i = 0; i < agora_routes_count; i++)
        for (size_t j = i + 1; j < agora_routes_count; j++)
            cr_assert(strcmp(agora_routes[i].method, agora_routes[j].method) != 0 ||
                          strcmp(agora_routes[i].pattern, agora_routes[j].pattern) != 0,
                      "%s %s appears twice", agora_routes[i].method, agora_routes[i].pattern);
}

/* GET /api/metrics needs no token either: nginx serves it to localhost
 * only (nginx/agora.conf.in, tests/integration/test_metrics.py). The live
 * subscription check takes a ticket instead, and only nginx reaches it. */
Test(router, only_health_and_metrics_are_public_in_the_real_table)
{
    bool health = false;
    for (size_t i = 0; i < agora_routes_count; i++) {
        const struct route *rt = &agora_routes[i];
        if ((strcmp(rt->method, "GET") == 0 &&
             (strcmp(rt->pattern, "/api/health") == 0 || strcmp(rt->pattern, "/api/metrics") == 0)) ||
            internal_route(rt)) {
            health = health || strcmp(rt->pattern, "/api/health") == 0;
            cr_assert_eq(rt->auth, AUTH_NONE, "GET %s must be public", rt->pattern);
        } else {
            cr_assert_neq(rt->auth, AUTH_NONE, "%s %s must need auth", rt->method, rt->pattern);
        }
    }
    cr_assert(health, "GET /api/health is missing");
}

/* Reached without the parameter only nginx's internal location sets (a
 * request that found its way to the path some other way), the live
 * subscription check answers 404 before looking at anything else. */
Test(router, the_live_subscription_check_is_not_found_without_nginx_internal_parameter)
{
    struct capture c;
    capture_init(&c, "GET", "/internal/live/authorize");
    router_dispatch(agora_routes, agora_routes_count, &c.req);
    assert_error(&c, 404, "not_found");
    capture_fini(&c);
}

/* ... and an action named by its path (POST .../rotate) takes none. */
Test(router, real_routes_take_bodies_only_where_they_write)
{
    for (size_t i = 0; i < agora_routes_count; i++) {
        const struct route *rt = &agora_routes[i];
        size_t len = strlen(rt->pattern);
        bool action = len > 7 && strcmp(rt->pattern + len - 7, "/rotate") == 0;
        if (strcmp(rt->method, "GET") == 0 || strcmp(rt->method, "DELETE") == 0 || action)
            cr_assert_eq(rt->body, BODY_NONE, "%s %s takes a body", rt->method, rt->pattern);
        else
            cr_assert_neq(rt->body, BODY_NONE, "%s %s takes no body", rt->method, rt->pattern);
    }
}

Test(router, the_real_table_answers_health_503_without_a_database)
{
    struct capture c;
    capture_init(&c, "GET", "/api/health");
    router_dispatch(agora_routes, agora_routes_count, &c.req);
    assert_error(&c, 503, "unavailable");
    capture_fini(&c);
}

Test(router, every_protected_real_route_answers_401_without_credentials)
{
    for (size_t i = 0; i < agora_routes_count; i++) {
        const struct route *rt = &agora_routes[i];
        if (rt->auth == AUTH_NONE)
            continue;
        char path[256];
        /* Fill each {id} with a valid id. */
        size_t o = 0;
        for (const char *p = rt->pattern; *p && o < sizeof path - 40;) {
            if (strncmp(p, "{id}", 4) == 0) {
                memcpy(path + o, ID_LOWER, UUID_STR_LEN);
                o += UUID_STR_LEN;
                p += 4;
            } else {
                path[o++] = *p++;
            }
        }
        path[o] = '\0';
        struct capture c;
        capture_init(&c, rt->method, path);
        router_dispatch(agora_routes, agora_routes_count, &c.req);
        cr_log_info("%s %s", rt->method, path);
        if (rt->body == BODY_OTLP) {
            /* OTLP's own error body, google.rpc.Status; JSON without a
             * Content-Type naming protobuf: code 16, UNAUTHENTICATED. */
            assert_status(&c, 401);
            cr_assert_not_null(strstr(capture_body(&c, NULL), "\"code\":16"), "%s", capture_dump(&c));
        } else {
            assert_error(&c, 401, "unauthorized");
        }
        capture_fini(&c);
    }
}

Test(router, the_real_table_answers_405_and_404_like_the_test_table)
{
    struct capture c;
    char allow[128];
    capture_init(&c, "DELETE", "/api/health");
    router_dispatch(agora_routes, agora_routes_count, &c.req);
    assert_error(&c, 405, "method_not_allowed");
    cr_assert_str_eq(capture_header(&c, "Allow", allow, sizeof allow), "GET");
    capture_fini(&c);

    capture_init(&c, "GET", "/api/health/");
    router_dispatch(agora_routes, agora_routes_count, &c.req);
    assert_error(&c, 404, "not_found");
    capture_fini(&c);
}

/* ---- query parameters ---------------------------------------------------- */

Test(router, a_route_without_query_parameters_refuses_one_naming_it)
{
    struct capture c;
    capture_init(&c, "GET", "/api/things");
    c.req.query = "limit=5";
    dispatch(&c);
    assert_error_path(&c, 422, "validation_failed", "limit");
    assert_handler_not_run(&c);
    capture_fini(&c);
}

Test(router, an_empty_query_is_no_parameter)
{
    struct capture c;
    capture_init(&c, "GET", "/api/things");
    c.req.query = "";
    dispatch(&c);
    assert_status(&c, 200);
    assert_handler_ran(&c, "h_list");
    capture_fini(&c);
}

Test(router, a_route_that_parses_its_own_query_gets_it)
{
    struct capture c;
    capture_init(&c, "GET", "/api/search");
    c.req.query = "anything=1&else=2";
    dispatch(&c);
    assert_status(&c, 200);
    assert_handler_ran(&c, "h_search");
    capture_fini(&c);
}
