/* Unit tests of the access log line (src/http/access_log.c): the exact field
 * set, JSON escaping of every string, the time and duration formats, and
 * what a request's entry takes from it (the caller's ids, never the
 * credential, the query or the body). */
#include <string.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

#include "http/access_log.h"
#include "http/router.h"

static char *format(const struct access_entry *e)
{
    struct buf b;
    buf_init(&b);
    access_log_format(&b, e);
    return buf_steal(&b);
}

/* The line parsed strictly as one JSON object followed by one newline. */
static struct json_object *parse_line(const char *line)
{
    size_t len = strlen(line);
    cr_assert(len > 0 && line[len - 1] == '\n', "no final newline: %s", line);
    cr_assert_null(memchr(line, '\n', len - 1), "a newline inside the line: %s", line);
    struct json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *o = json_tokener_parse_ex(tok, line, (int)len - 1);
    cr_assert_not_null(o, "not JSON: %s", line);
    cr_assert_eq(json_tokener_get_parse_end(tok), len - 1, "trailing bytes: %s", line);
    json_tokener_free(tok);
    cr_assert(json_object_is_type(o, json_type_object));
    return o;
}

static const char *str_member(struct json_object *o, const char *key)
{
    struct json_object *v;
    cr_assert(json_object_object_get_ex(o, key, &v), "no %s", key);
    if (json_object_is_type(v, json_type_null))
        return NULL;
    cr_assert(json_object_is_type(v, json_type_string), "%s is not a string", key);
    return json_object_get_string(v);
}

static const struct access_entry sample = {
    .time = {1732622400, 123999999}, /* 2024-11-26T12:00:00.123999999Z */
    .request_id = "0123456789abcdef0123456789abcdef",
    .method = "POST",
    .route = "/api/executions/ingest",
    .status = 201,
    .duration_us = 1234567,
    .org_id = "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    .user_id = NULL,
    .api_key_id = "f47ac10b-58cc-4372-a567-0e02b2c3d479",
    .bytes_in = 512,
    .bytes_out = 97,
    .pid = 4242,
};

TestSuite(access_log);

Test(access_log, a_line_has_exactly_the_documented_fields)
{
    char *line = format(&sample);
    struct json_object *o = parse_line(line);
    static const char *const keys[] = {"time", "level", "request_id", "method", "route", "status",
                                       "duration_ms", "org_id", "user_id", "api_key_id", "bytes_in",
                                       "bytes_out", "pid"};
    cr_assert_eq(json_object_object_length(o), (int)(sizeof keys / sizeof keys[0]), "%s", line);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cr_assert(json_object_object_get_ex(o, keys[i], NULL), "no %s in %s", keys[i], line);
    cr_assert_str_eq(str_member(o, "time"), "2024-11-26T12:00:00.123Z");
    cr_assert_str_eq(str_member(o, "level"), "info");
    cr_assert_str_eq(str_member(o, "request_id"), sample.request_id);
    cr_assert_str_eq(str_member(o, "method"), "POST");
    cr_assert_str_eq(str_member(o, "route"), "/api/executions/ingest");
    cr_assert_str_eq(str_member(o, "org_id"), sample.org_id);
    cr_assert_null(str_member(o, "user_id"));
    cr_assert_str_eq(str_member(o, "api_key_id"), sample.api_key_id);
    struct json_object *v;
    json_object_object_get_ex(o, "status", &v);
    cr_assert(json_object_is_type(v, json_type_int) && json_object_get_int(v) == 201);
    json_object_object_get_ex(o, "bytes_in", &v);
    cr_assert(json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 512);
    json_object_object_get_ex(o, "bytes_out", &v);
    cr_assert(json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 97);
    json_object_object_get_ex(o, "pid", &v);
    cr_assert(json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 4242);
    /* Milliseconds with microsecond digits, as written. */
    cr_assert_not_null(strstr(line, "\"duration_ms\":1234.567,"), "%s", line);
    json_object_put(o);
    free(line);
}

Test(access_log, every_string_is_escaped_and_bad_utf8_replaced)
{
    struct access_entry e = sample;
    e.method = "G\"E\\T\n\x01\x7f\xff\xc3\xa9";
    e.request_id = "id\r\t";
    e.route = NULL;
    e.org_id = NULL;
    e.api_key_id = NULL;
    char *line = format(&e);
    struct json_object *o = parse_line(line);
    cr_assert_str_eq(str_member(o, "method"), "G\"E\\T\n\x01\x7f\xef\xbf\xbd\xc3\xa9", "%s", line);
    cr_assert_str_eq(str_member(o, "request_id"), "id\r\t");
    cr_assert_null(str_member(o, "route"));
    cr_assert_null(str_member(o, "org_id"));
    cr_assert_null(str_member(o, "api_key_id"));
    cr_assert_not_null(strstr(line, "\\u0001"), "%s", line);
    cr_assert_not_null(strstr(line, "\\u007f"), "%s", line);
    json_object_put(o);
    free(line);
}

Test(access_log, a_long_client_string_is_cut)
{
    char method[2000];
    memset(method, 'A', sizeof method - 1);
    method[sizeof method - 1] = '\0';
    struct access_entry e = sample;
    e.method = method;
    char *line = format(&e);
    struct json_object *o = parse_line(line);
    cr_assert_eq(strlen(str_member(o, "method")), 256);
    json_object_put(o);
    free(line);
}

static const struct route org_route = {"POST", "/api/organizations/{id}/members", NULL, AUTH_USER, BODY_JSON,
                                       QUERY_NONE, 0, DB_PRIMARY};
static const struct route ingest_route = {"POST", "/api/executions/ingest", NULL, AUTH_ANY, BODY_JSON, QUERY_NONE, 0,
                                          DB_PRIMARY};

static void fake_request(struct req *r, const struct route *rt)
{
    req_init(r);
    r->method = rt ? rt->method : "BREW";
    r->path = "/api/whatever";
    r->query = "token=query-secret-value";
    r->authorization = "Bearer header-secret-token";
    strcpy(r->request_id, "feedfacefeedfacefeedfacefeedface");
    r->route = rt;
    r->body = xstrdup("{\"session_id\":\"payload-marker-xyz\"}");
    r->body_len = strlen(r->body);
    r->status = 201;
    r->bytes_out = 42;
}

Test(access_log, an_api_key_caller_is_logged_by_ids_only)
{
    struct req r;
    fake_request(&r, &ingest_route);
    r.who.kind = CALLER_API_KEY;
    strcpy(r.who.key_id, "f47ac10b-58cc-4372-a567-0e02b2c3d479");
    strcpy(r.who.org_id, "7c9e6679-7425-40de-944b-e07fc1f90ae7");
    strcpy(r.who.project_id, "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
    struct timespec t = {1732622400, 0};
    struct access_entry e;
    access_log_entry(&e, &r, &t, 2500);
    char *line = format(&e);
    struct json_object *o = parse_line(line);
    cr_assert_str_eq(str_member(o, "api_key_id"), "f47ac10b-58cc-4372-a567-0e02b2c3d479");
    cr_assert_str_eq(str_member(o, "org_id"), "7c9e6679-7425-40de-944b-e07fc1f90ae7");
    cr_assert_null(str_member(o, "user_id"));
    cr_assert_str_eq(str_member(o, "route"), "/api/executions/ingest");
    cr_assert_str_eq(str_member(o, "request_id"), "feedfacefeedfacefeedfacefeedface");
    cr_assert_not_null(strstr(line, "\"bytes_in\":35,\"bytes_out\":42,"), "%s", line);
    cr_assert_not_null(strstr(line, "\"duration_ms\":2.500,"), "%s", line);
    cr_assert_null(strstr(line, "secret"), "%s", line);
    cr_assert_null(strstr(line, "payload-marker"), "%s", line);
    cr_assert_null(strstr(line, "/api/whatever"), "the raw path: %s", line);
    json_object_put(o);
    free(line);
    req_release(&r);
}

Test(access_log, a_users_organization_comes_from_the_path_when_the_route_names_it)
{
    struct req r;
    fake_request(&r, &org_route);
    r.who.kind = CALLER_USER;
    strcpy(r.who.user_id, "9b2f5c1e-1111-4222-8333-444455556666");
    strcpy(r.param_store[0], "7c9e6679-7425-40de-944b-e07fc1f90ae7");
    r.params[0] = r.param_store[0];
    r.nparams = 1;
    struct timespec t = {0, 0};
    struct access_entry e;
    access_log_entry(&e, &r, &t, 0);
    cr_assert_str_eq(e.user_id, "9b2f5c1e-1111-4222-8333-444455556666");
    cr_assert_str_eq(e.org_id, "7c9e6679-7425-40de-944b-e07fc1f90ae7");
    cr_assert_null(e.api_key_id);

    /* Elsewhere a user's organization is not known: null. */
    r.route = &ingest_route;
    access_log_entry(&e, &r, &t, 0);
    cr_assert_null(e.org_id);
    req_release(&r);
}

Test(access_log, an_unmatched_or_unauthenticated_request_has_null_route_and_caller)
{
    struct req r;
    fake_request(&r, NULL);
    r.status = 404;
    struct timespec t = {0, 5000000};
    struct access_entry e;
    access_log_entry(&e, &r, &t, 0);
    char *line = format(&e);
    struct json_object *o = parse_line(line);
    cr_assert_null(str_member(o, "route"));
    cr_assert_null(str_member(o, "user_id"));
    cr_assert_null(str_member(o, "api_key_id"));
    cr_assert_null(str_member(o, "org_id"));
    cr_assert_str_eq(str_member(o, "method"), "BREW");
    cr_assert_str_eq(str_member(o, "time"), "1970-01-01T00:00:00.005Z");
    json_object_put(o);
    free(line);
    req_release(&r);
}
