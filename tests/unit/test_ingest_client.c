/* Unit tests for ingest_client.c: the ingest URL from a site or API base
 * URL (https only, no credentials, no query), the verdict on each kind of
 * answer the API (or something in front of it) gives, the headers that
 * matter (Retry-After, Idempotent-Replayed, a new answer after 100
 * Continue), the server's words made safe for a terminal, and a payload's
 * execution_id as the server reads it. */
#include <criterion/criterion.h>
#include <string.h>

#include "domain/ingest_client.h"

TestSuite(ingest_client);

struct url_case {
    const char *in;
    const char *out; /* NULL: refused */
};

Test(ingest_client, the_ingest_url_comes_from_the_api_base_or_the_bare_site)
{
    static const struct url_case cases[] = {
        {"https://agora.example.org", "https://agora.example.org/api/executions/ingest"},
        {"https://agora.example.org/", "https://agora.example.org/api/executions/ingest"},
        {"https://agora.example.org/api", "https://agora.example.org/api/executions/ingest"},
        {"https://agora.example.org/api/", "https://agora.example.org/api/executions/ingest"},
        {"https://agora.example.org/api//", "https://agora.example.org/api/executions/ingest"},
        {"https://localhost:8443", "https://localhost:8443/api/executions/ingest"},
        {"HTTPS://h:1/api", "HTTPS://h:1/api/executions/ingest"},
        {"https://h/tools/agora", "https://h/tools/agora/api/executions/ingest"},
        {"https://h/tools/agora/api", "https://h/tools/agora/api/executions/ingest"},
        {"https://h/rapi", "https://h/rapi/api/executions/ingest"},
        {"https://api", "https://api/api/executions/ingest"}, /* a host named api */
        {"https://[::1]:8443/", "https://[::1]:8443/api/executions/ingest"},
        {"http://agora.example.org/api", NULL},
        {"agora.example.org", NULL},
        {"ftp://h/api", NULL},
        {"https://", NULL},
        {"https:///api", NULL},
        {"https://user:secret@h/api", NULL},
        {"https://agk_x@h/", NULL},
        {"https://h/api?x=1", NULL},
        {"https://h/api#top", NULL},
        {"https://h/a pi", NULL},
        {"https://h/\x7f", NULL},
        {"https://h/\xc3\xa9", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buf b;
        const char *why = NULL;
        buf_init(&b);
        buf_puts(&b, "<");
        int rc = ingest_url(cases[i].in, &b, &why);
        if (cases[i].out) {
            cr_assert_eq(rc, 0, "%s: refused (%s)", cases[i].in, why ? why : "");
            cr_assert_str_eq(b.data + 1, cases[i].out, "%s", cases[i].in);
        } else {
            cr_assert_eq(rc, -1, "%s: accepted as %s", cases[i].in, b.data);
            cr_assert(why && *why);
            cr_assert_str_eq(b.data, "<", "%s: out changed", cases[i].in);
        }
        buf_free(&b);
    }
}

struct verdict_case {
    long status;
    const char *body;
    enum ingest_verdict want;
};

static enum ingest_verdict judge(long status, const char *body, struct ingest_answer *a)
{
    ingest_answer_init(a);
    a->status = status;
    return ingest_answer_verdict(a, body, strlen(body));
}

#define OK_BODY "{\"execution_id\":\"5e7a1c00-de00-4000-8000-000000000001\",\"status\":\"success\",\"counts\":{}}"
#define ERR(code, path, msg)                                                                                  \
    "{\"error\":{\"code\":\"" code "\",\"message\":\"" msg "\"" path ",\"request_id\":\"r1\"}}"

Test(ingest_client, each_answer_is_stored_refused_retried_or_a_reason_to_stop)
{
    static const struct verdict_case cases[] = {
        {201, OK_BODY, IV_STORED},
        {200, OK_BODY, IV_STORED},
        /* A success that is not the API's answer stores nothing we know of. */
        {200, "<html>Welcome to the hotel wifi</html>", IV_STOP},
        {200, "{}", IV_STOP},
        {201, "{\"execution_id\":7}", IV_STOP},
        {409, ERR("conflict", "", "the execution has a terminal status and is closed; it takes no more data"),
         IV_STORED},
        {409, ERR("conflict", "", "this Idempotency-Key is busy; retry"), IV_RETRY},
        {409, ERR("conflict", "", "a request with this Idempotency-Key is still in progress; retry later"), IV_RETRY},
        {409, ERR("conflict", ",\"path\":\"node_executions[0].id\"", "this node execution has a terminal status"),
         IV_REFUSED},
        {400, ERR("bad_json", "", "malformed JSON"), IV_REFUSED},
        {400, "<html>400 Bad Request</html>", IV_REFUSED},
        {413, ERR("payload_too_large", "", "too large"), IV_REFUSED},
        {422, ERR("validation_failed", ",\"path\":\"status\"", "status must be one of"), IV_REFUSED},
        {404, ERR("not_found", ",\"path\":\"workflow_id\"", "no such workflow"), IV_REFUSED},
        {404, ERR("not_found", "", "no such resource"), IV_STOP},
        {404, "<html>404</html>", IV_STOP},
        {401, ERR("unauthorized", "", "invalid or expired token"), IV_STOP},
        {403, ERR("forbidden", "", "your role does not allow this"), IV_STOP},
        {405, "", IV_STOP},
        {415, "", IV_STOP},
        {301, "", IV_STOP},
        {302, "<html>moved</html>", IV_STOP},
        {204, "", IV_STOP},
        {408, "", IV_RETRY},
        {429, "", IV_RETRY},
        {500, ERR("internal", "", "internal error"), IV_RETRY},
        {502, "<html>Bad Gateway</html>", IV_RETRY},
        {503, ERR("unavailable", "", "retry later"), IV_RETRY},
        {504, "", IV_RETRY},
        {505, "", IV_STOP},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ingest_answer a;
        enum ingest_verdict v = judge(cases[i].status, cases[i].body, &a);
        cr_assert_eq(v, cases[i].want, "%ld %s: verdict %d, want %d", cases[i].status, cases[i].body, v,
                     cases[i].want);
    }
}

Test(ingest_client, the_answer_keeps_the_servers_path_message_and_request_id)
{
    struct ingest_answer a;
    judge(422, ERR("validation_failed", ",\"path\":\"node_executions[3].status\"", "bad status"), &a);
    cr_assert_str_eq(a.code, "validation_failed");
    cr_assert_str_eq(a.path, "node_executions[3].status");
    cr_assert_str_eq(a.message, "bad status");
    cr_assert_str_eq(a.request_id, "r1");

    struct buf b;
    buf_init(&b);
    ingest_answer_describe(&a, &b);
    cr_assert_str_eq(b.data, "422 validation_failed at node_executions[3].status: bad status (request r1)");
    buf_reset(&b);
    ingest_answer_json(&a, "runs/a \"b\".json", &b);
    cr_assert_str_eq(b.data, "{\"source\":\"runs/a \\\"b\\\".json\",\"status\":422,\"code\":\"validation_failed\","
                             "\"path\":\"node_executions[3].status\",\"message\":\"bad status\",\"request_id\":\"r1\"}\n");
    buf_free(&b);

    judge(201, OK_BODY, &a);
    cr_assert_str_eq(a.execution_id, "5e7a1c00-de00-4000-8000-000000000001");
    judge(502, "<html>", &a);
    buf_init(&b);
    ingest_answer_describe(&a, &b);
    cr_assert_str_eq(b.data, "502");
    buf_free(&b);
}

Test(ingest_client, the_servers_words_lose_what_could_drive_a_terminal)
{
    struct ingest_answer a;
    /* An escape sequence, a carriage return, a bidi override, a NUL. */
    judge(422,
          "{\"error\":{\"code\":\"x\\u001b[2Jy\",\"path\":\"a\\rb\",\"message\":\"m\\u202egnp.exe\\u0000tail\","
          "\"request_id\":\"r\\n1\"}}",
          &a);
    cr_assert_str_eq(a.code, "x[2Jy");
    cr_assert_str_eq(a.path, "ab");
    cr_assert_str_eq(a.message, "mgnp.exe"); /* json-c's C string ends at the NUL */
    cr_assert_str_eq(a.request_id, "r1");
}

Test(ingest_client, a_long_message_is_cut_at_a_character_boundary)
{
    struct buf body;
    struct ingest_answer a;
    buf_init(&body);
    buf_puts(&body, "{\"error\":{\"code\":\"c\",\"message\":\"");
    for (int i = 0; i < 2000; i++)
        buf_puts(&body, "\xc3\xa9"); /* é */
    buf_puts(&body, "\"}}");
    ingest_answer_init(&a);
    a.status = 422;
    cr_assert_eq(ingest_answer_verdict(&a, body.data, body.len), IV_REFUSED);
    size_t n = strlen(a.message);
    cr_assert(n > 0 && n < sizeof a.message && n % 2 == 0, "%zu bytes", n);
    buf_free(&body);
}

Test(ingest_client, bodies_that_are_not_an_object_leave_the_fields_empty)
{
    static const char *bodies[] = {"", "[]", "\"x\"", "{\"error\":\"x\"}", "{\"error\":{\"code\":1}}",
                                   "{\"error\":{}} trailing", "{\"a\":", "\xff"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct ingest_answer a;
        cr_assert_eq(judge(422, bodies[i], &a), IV_REFUSED);
        cr_assert_str_eq(a.code, "", "%s", bodies[i]);
        cr_assert_str_eq(a.message, "", "%s", bodies[i]);
    }
}

static void header(struct ingest_answer *a, const char *line)
{
    ingest_answer_header(a, line, strlen(line), (time_t)784111777);
}

Test(ingest_client, headers_give_retry_after_and_the_replay_and_a_new_answer_starts_over)
{
    struct ingest_answer a;
    ingest_answer_init(&a);
    cr_assert_eq(a.retry_after_s, -1);
    header(&a, "Retry-After: 1\r\n");
    cr_assert_eq(a.retry_after_s, 1);
    header(&a, "retry-after:Sun, 06 Nov 1994 08:50:37 GMT\r\n");
    cr_assert_eq(a.retry_after_s, 60);
    header(&a, "Retry-After: soon\r\n");
    cr_assert_eq(a.retry_after_s, -1);
    header(&a, "Idempotent-Replayed: true\r\n");
    cr_assert(a.replayed);
    header(&a, "X-Request-Id: abc\x1b\r\n");
    cr_assert_str_eq(a.request_id, "abc");
    /* Lookalikes are not the header. */
    header(&a, "Retry-After-Not: 5\r\n");
    header(&a, "X-Retry-After: 5\r\n");
    cr_assert_eq(a.retry_after_s, -1);
    /* After "100 Continue" comes the real answer: what came before goes. */
    header(&a, "Retry-After: 9\r\n");
    header(&a, "HTTP/1.1 201 Created\r\n");
    cr_assert_eq(a.retry_after_s, -1);
    cr_assert(!a.replayed);
    cr_assert_str_eq(a.request_id, "");
    header(&a, "Idempotent-Replayed: false\r\n");
    cr_assert(!a.replayed);
    header(&a, "\r\n");
    header(&a, "Retry-After");
}

struct id_case {
    const char *payload;
    const char *id; /* NULL: none */
};

Test(ingest_client, the_execution_id_is_the_top_level_one_the_server_would_read)
{
    static const struct id_case cases[] = {
        {"{\"execution_id\":\"5E7A1C00-DE00-4000-8000-000000000001\",\"status\":\"running\"}",
         "5e7a1c00-de00-4000-8000-000000000001"},
        {"  {\"a\":[1,{\"execution_id\":\"inner\"}],\"execution_id\":\"outer\"}  ", "outer"},
        {"{\"execution\\u005fid\":\"escaped-key\"}", "escaped-key"},
        {"{\"execution_id\":\"first\",\"execution_id\":\"last\"}", "last"},
        {"{\"execution_id\":\"first\",\"execution_id\":null}", NULL},
        {"{\"execution_id\":\"a\\u0042c\"}", "abc"},
        {"{\"workflow_id\":\"w\",\"node_executions\":[{\"execution_id\":\"n\"}]}", NULL},
        {"{\"execution_id\":42}", NULL},
        {"{\"execution_id\":\"x\"", NULL}, /* cut short: the server refuses it anyway */
        {"{\"execution_id\":\"x\"} {}", "x"}, /* trailing text is the server's to refuse */
        {"[{\"execution_id\":\"x\"}]", NULL},
        {"", NULL},
        {"not json", NULL},
        {"{\"execution_id\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char id[INGEST_EXECUTION_ID_MAX + 1] = "untouched";
        bool found = ingest_payload_execution_id(cases[i].payload, strlen(cases[i].payload), id);
        if (cases[i].id) {
            cr_assert(found, "%s: no id", cases[i].payload);
            cr_assert_str_eq(id, cases[i].id, "%s", cases[i].payload);
        } else {
            cr_assert(!found, "%s: found an id", cases[i].payload);
        }
    }
}
