/* Unit tests for ingest_validate.c. A valid payload (the contract's, every
 * field filled) is altered one field at a time (with json-c, then written
 * back to text, which is what the validator reads): each alteration must be
 * refused as INGEST_INVALID with the exact path of the field, or, for the
 * acceptable ones, still pass. Then the summary it fills (session_id and
 * started_at included), which bad field comes first, repeated keys, syntax
 * before schema, the limits (max_items, max_string_bytes, depth) and buffer
 * sizes. Limits are kept small (16-byte strings, 3 items) so the cases
 * stay short. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "domain/ingest_validate.h"
#include "json/json_scan.h"

#define W_ID "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
#define E_ID "3a2b1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d"
#define N_ID "0d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6a"

/* The seed's "What Gets Sent", with real UUIDs and its [...] arrays
 * filled in with one item each. */
static const char seed_payload[] =
    "{\"workflow_id\": \"" W_ID "\", \"session_id\": \"test-123\", \"status\": \"success\","
    " \"started_at\": \"2024-11-26T12:00:00\", \"completed_at\": \"2024-11-26T12:00:05\","
    " \"duration_ms\": 5000,"
    " \"node_executions\": [{\"node_id\": \"" N_ID "\", \"node_name\": \"processor\","
    "   \"node_type\": \"AuditedNode\", \"status\": \"success\", \"prep_duration_ms\": 1,"
    "   \"exec_duration_ms\": 100, \"post_duration_ms\": 2}],"
    " \"telemetry_events\": [{\"event_type\": \"node_start\", \"timestamp\": \"2024-11-26T12:00:00.100\","
    "   \"node_name\": \"processor\", \"data\": {}}],"
    " \"telemetry_spans\": [{\"trace_id\": \"4bf92f3577b34da6a3ce929d0e0e4736\","
    "   \"span_id\": \"00f067aa0ba902b7\", \"name\": \"processor.exec\", \"start_time\": \"2024-11-26T12:00:00.101\"}]}";

/* The contract's example (section 4) with every field present. */
static const char full_payload[] =
    "{\"workflow_id\": \"" W_ID "\", \"session_id\": \"test-123\", \"execution_id\": \"" E_ID "\","
    " \"status\": \"success\", \"started_at\": \"2024-11-26T12:00:00\","
    " \"completed_at\": \"2024-11-26T12:00:05Z\", \"duration_ms\": 5000, \"error\": null,"
    " \"metadata\": {\"env\": \"test\"},"
    " \"node_executions\": [{\"node_id\": \"" N_ID "\", \"node_name\": \"processor\","
    "   \"node_type\": \"AuditedNode\", \"status\": \"success\","
    "   \"started_at\": \"2024-11-26T12:00:00.100Z\", \"completed_at\": \"2024-11-26T12:00:00.203Z\","
    "   \"prep_duration_ms\": 1, \"exec_duration_ms\": 100, \"post_duration_ms\": 2,"
    "   \"retry_count\": 0, \"action\": \"default\", \"error\": null,"
    "   \"input_tokens\": 1200, \"output_tokens\": 300, \"cache_read_tokens\": 1000,"
    "   \"cache_creation_tokens\": 0, \"model\": \"gpt-4o\", \"provider\": \"openai\"}],"
    " \"telemetry_events\": [{\"event_type\": \"node_start\", \"timestamp\": \"2024-11-26T12:00:00.100Z\","
    "   \"node_name\": \"processor\", \"data\": {\"k\": \"v\"}}],"
    " \"telemetry_spans\": [{\"trace_id\": \"4bf92f3577b34da6a3ce929d0e0e4736\","
    "   \"span_id\": \"00f067aa0ba902b7\", \"parent_span_id\": null, \"name\": \"processor.exec\","
    "   \"kind\": \"internal\", \"start_time\": \"2024-11-26T12:00:00.101Z\","
    "   \"end_time\": \"2024-11-26T12:00:00.201Z\", \"duration_ms\": 100, \"status\": \"ok\","
    "   \"attributes\": {\"a\": 1}, \"node_name\": \"processor\"}],"
    " \"shared_state_snapshots\": [{\"sequence\": 0, \"timestamp\": \"2024-11-26T12:00:00.203Z\","
    "   \"node_name\": \"processor\", \"phase\": \"after\", \"state\": {\"count\": 1}}]}";

#define ABSENT "<absent>"

/* Parameters hold no pointers: Criterion runs each case in a re-executed
 * process, where addresses of string literals may differ (ASLR). */
struct bad_case {
    char target[48];  /* what to change in full_payload: "key", "table[i]", "table[i].key" */
    char value[200];  /* its new JSON text, or ABSENT to remove it */
    char path[48];    /* the path the validator must report */
};
#define BAD(t, v) {t, v, t}
#define BAD_AT(t, v, p) {t, v, p}

struct good_case {
    char target[48];
    char value[200];
};

static struct config small_cfg(void)
{
    struct config c;
    memset(&c, 0, sizeof c);
    c.max_items = 3;
    c.max_depth = 64;
    c.max_string_bytes = 16;
    return c;
}

/* Parses a fixture with json-c's lenient parser (fine for test input). */
static struct json_object *parse(const char *text)
{
    enum json_tokener_error err;
    struct json_object *o = json_tokener_parse_verbose(text, &err);
    cr_assert_eq(err, json_tokener_success, "bad fixture: %s", text);
    return o;
}

/* Sets, replaces or (value ABSENT) removes what target names in root. */
static void mutate(struct json_object *root, const char *target, const char *value)
{
    struct json_object *cur = root;
    const char *p = target;
    for (;;) {
        char key[64];
        size_t n = strcspn(p, ".[");
        cr_assert_lt(n, sizeof key);
        memcpy(key, p, n);
        key[n] = '\0';
        p += n;
        if (*p == '\0') {
            if (strcmp(value, ABSENT) == 0)
                json_object_object_del(cur, key);
            else
                json_object_object_add(cur, key, parse(value));
            return;
        }
        struct json_object *next;
        cr_assert(json_object_object_get_ex(cur, key, &next), "fixture has no %s", key);
        if (*p == '.') {
            cur = next;
            p++;
            continue;
        }
        char *end;
        size_t idx = strtoul(p + 1, &end, 10);
        cr_assert_eq(*end, ']');
        p = end + 1;
        if (*p == '\0') {
            cr_assert_lt(idx, json_object_array_length(next));
            cr_assert_eq(json_object_array_put_idx(next, idx, parse(value)), 0);
            return;
        }
        cr_assert_eq(*p, '.');
        cur = json_object_array_get_idx(next, idx);
        p++;
    }
}

struct result {
    int rc;                      /* 0 valid, -1 not */
    enum ingest_verdict verdict;
    char path[128];
    char msg[256];
    struct ingest_summary sum;
    char session_id[64];         /* ingest_session_id() of a valid body */
};

static struct result run_text_cfg(const struct config *cfg, const char *text, size_t len)
{
    struct result r;
    memset(&r, 0, sizeof r);
    strcpy(r.path, "(untouched)");
    strcpy(r.msg, "(untouched)");
    r.verdict = ingest_validate(cfg, text, len, &r.sum, r.path, sizeof r.path, r.msg, sizeof r.msg);
    r.rc = r.verdict == INGEST_VALID ? 0 : -1;
    if (r.verdict == INGEST_VALID && r.sum.session_id_len < sizeof r.session_id)
        ingest_session_id(text, &r.sum, r.session_id);
    return r;
}

/* Writes payload as JSON text (null for NULL), then validates the text. */
static struct result run_cfg(const struct config *cfg, struct json_object *payload)
{
    const char *text = json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN);
    cr_assert_not_null(text);
    return run_text_cfg(cfg, text, strlen(text));
}

static struct result run(struct json_object *payload)
{
    struct config cfg = small_cfg();
    return run_cfg(&cfg, payload);
}

static struct result run_text(const char *text)
{
    struct config cfg = small_cfg();
    return run_text_cfg(&cfg, text, strlen(text));
}

static void assert_refused_at(const struct result *r, const char *path, const char *what)
{
    cr_assert_eq(r->rc, -1, "%s: should be refused (path \"%s\")", what, path);
    cr_assert_eq(r->verdict, INGEST_INVALID, "%s: should be a 422, not bad JSON (%s)", what, r->msg);
    cr_assert_str_eq(r->path, path, "%s: wrong path (message: %s)", what, r->msg);
    size_t n = strlen(path);
    cr_assert(strncmp(r->msg, path, n) == 0 && r->msg[n] == ' ' && r->msg[n + 1] != '\0',
              "%s: the message must start with the path and state a rule: \"%s\"", what, r->msg);
}

static void check_bad(const struct bad_case *tc)
{
    struct json_object *o = parse(full_payload);
    mutate(o, tc->target, tc->value);
    struct result r = run(o);
    char what[256];
    snprintf(what, sizeof what, "%s = %s", tc->target, tc->value);
    assert_refused_at(&r, tc->path, what);
    json_object_put(o);
}

static void check_good(const struct good_case *tc)
{
    struct json_object *o = parse(full_payload);
    mutate(o, tc->target, tc->value);
    struct result r = run(o);
    cr_assert_eq(r.rc, 0, "%s = %s should pass, got %s: %s", tc->target, tc->value, r.path, r.msg);
    json_object_put(o);
}

TestSuite(ingest_validate);

/* ---- valid payloads ---------------------------------------------------- */

Test(ingest_validate, the_seed_example_passes_with_its_summary)
{
    struct result r = run_text(seed_payload);
    cr_assert_eq(r.rc, 0, "%s: %s", r.path, r.msg);
    cr_assert_str_eq(r.sum.workflow_id, W_ID);
    cr_assert_str_eq(r.sum.execution_id, "");
    cr_assert_str_eq(r.sum.status, "success");
    cr_assert(r.sum.terminal);
    cr_assert_eq(r.sum.counts[IT_NODE_EXECUTIONS], 1);
    cr_assert_eq(r.sum.counts[IT_TELEMETRY_EVENTS], 1);
    cr_assert_eq(r.sum.counts[IT_TELEMETRY_SPANS], 1);
    cr_assert_eq(r.sum.counts[IT_SHARED_STATE_SNAPSHOTS], 0);
    cr_assert(r.sum.any_node_id);
    cr_assert_not(r.sum.any_node_by_name);
}

Test(ingest_validate, the_contract_example_with_every_field_passes)
{
    struct result r = run_text(full_payload);
    cr_assert_eq(r.rc, 0, "%s: %s", r.path, r.msg);
    cr_assert_str_eq(r.sum.execution_id, E_ID);
    for (int t = 0; t < IT_COUNT; t++)
        cr_assert_eq(r.sum.counts[t], 1, "%s", ingest_table_names[t]);
    cr_assert(r.sum.any_usage);
}

Test(ingest_validate, the_smallest_payload_passes_with_no_items)
{
    struct result r = run_text("{\"workflow_id\": \"" W_ID "\", \"session_id\": \"s\","
                               " \"status\": \"running\", \"started_at\": \"2024-11-26T12:00:00Z\"}");
    cr_assert_eq(r.rc, 0, "%s: %s", r.path, r.msg);
    cr_assert_not(r.sum.terminal);
    for (int t = 0; t < IT_COUNT; t++)
        cr_assert_eq(r.sum.counts[t], 0);
    cr_assert_not(r.sum.any_node_id);
    cr_assert_not(r.sum.any_node_by_name);
    cr_assert_not(r.sum.any_usage);
}

ParameterizedTestParameters(ingest_validate, acceptable_variations_pass)
{
    static struct good_case cases[] = {
        /* optional fields: null or absent */
        {"execution_id", "null"}, {"execution_id", ABSENT},
        {"completed_at", "null"}, {"duration_ms", "null"}, {"error", ABSENT},
        {"metadata", "null"}, {"metadata", ABSENT},
        {"node_executions", "null"}, {"node_executions", "[]"}, {"node_executions", ABSENT},
        {"telemetry_events", "null"}, {"telemetry_spans", "[]"}, {"shared_state_snapshots", ABSENT},
        {"node_executions[0].node_id", "null"}, {"node_executions[0].node_id", ABSENT},
        {"node_executions[0].id", "null"}, {"node_executions[0].id", ABSENT},
        {"node_executions[0].id", "\"0d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6a\""},
        {"node_executions[0].id", "\"0D9E8F7A-6B5C-4D3E-9F2A-1B0C9D8E7F6A\""},
        {"node_executions[0].node_type", "null"}, {"node_executions[0].status", ABSENT},
        {"node_executions[0].retry_count", "null"}, {"node_executions[0].action", "null"},
        {"telemetry_events[0].node_name", "null"}, {"telemetry_events[0].data", "null"},
        {"telemetry_events[0].data", ABSENT},
        {"telemetry_spans[0].trace_id", "null"}, {"telemetry_spans[0].end_time", ABSENT},
        {"telemetry_spans[0].attributes", "null"}, {"telemetry_spans[0].status", "null"},
        {"shared_state_snapshots[0].sequence", "null"}, {"shared_state_snapshots[0].timestamp", ABSENT},
        {"shared_state_snapshots[0].phase", "null"},
        {"node_executions[0].input_tokens", "null"}, {"node_executions[0].output_tokens", ABSENT},
        {"node_executions[0].cache_read_tokens", "null"}, {"node_executions[0].cache_creation_tokens", ABSENT},
        {"node_executions[0].model", "null"}, {"node_executions[0].provider", ABSENT},
        /* the enums */
        {"status", "\"running\""}, {"status", "\"error\""}, {"status", "\"cancelled\""},
        {"node_executions[0].status", "\"error\""}, {"node_executions[0].status", "\"skipped\""},
        {"node_executions[0].status", "\"running\""},
        {"telemetry_spans[0].status", "\"error\""}, {"telemetry_spans[0].status", "\"unset\""},
        /* UUIDs in either case */
        {"workflow_id", "\"6F1C2A3B-4D5E-4F60-8A7B-9C0D1E2F3A4B\""},
        {"node_executions[0].node_id", "\"0D9E8F7A-6B5C-4D3E-9F2A-1B0C9D8E7F6A\""},
        /* strings at the limit, and multibyte UTF-8 */
        {"session_id", "\"abcdefghijklmnop\""}, {"session_id", "\"x\""},
        {"node_executions[0].node_name", "\"caf\\u00e9 \\u51e6\\u7406\""},
        {"telemetry_spans[0].name", "\"\\ud83d\\ude00 emoji\""},
        /* timestamps: offsets, fractions, lowercase, space */
        {"started_at", "\"2024-11-26T12:00:00.123456789+05:30\""},
        {"completed_at", "\"2024-11-26 12:00:05z\""},
        {"telemetry_events[0].timestamp", "\"2024-11-26t12:00:00-08:00\""},
        /* completed before started: clocks skew; kept as sent */
        {"completed_at", "\"2024-11-26T11:00:00Z\""},
        {"telemetry_spans[0].end_time", "\"2024-11-26T11:00:00Z\""},
        /* numbers */
        {"duration_ms", "0"}, {"duration_ms", "0.0"}, {"duration_ms", "0.5"}, {"duration_ms", "-0.0"},
        {"duration_ms", "0e5"}, {"duration_ms", "1e-300"}, {"duration_ms", "1e15"},
        {"duration_ms", "1000000000000000"},
        {"node_executions[0].exec_duration_ms", "123.456"},
        {"node_executions[0].retry_count", "2147483647"}, {"node_executions[0].retry_count", "-0"},
        {"shared_state_snapshots[0].sequence", "2147483647"},
        {"node_executions[0].input_tokens", "0"}, {"node_executions[0].output_tokens", "2147483647"},
        {"node_executions[0].cache_read_tokens", "-0"},
        {"node_executions[0].model", "\"claude-3-5-haiku\""},
        {"node_executions[0].model", "\"openai/gpt-4o\""}, {"node_executions[0].provider", "\"x\""},
        /* hex ids in either case, up to 64 digits */
        {"telemetry_spans[0].span_id", "\"00F067AA0BA902B7\""}, {"telemetry_spans[0].span_id", "\"a\""},
        {"telemetry_spans[0].trace_id",
         "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\""},
        {"telemetry_spans[0].parent_span_id", "\"00f067aa0ba902b8\""},
        /* blobs: any content but NUL, no length limit */
        {"error", "\"Traceback (most recent call last):\\n\\tFile \\\"x.py\\\"\""},
        {"error", "{\"type\": \"ValueError\", \"message\": \"bad\", \"trace\": [\"a\", \"b\"]}"},
        {"error", "{}"},
        {"node_executions[0].error", "\"a string that is longer than sixteen bytes\""},
        {"metadata", "{\"k\": \"a string that is longer than sixteen bytes\", \"n\": [1, 2.5, null, true]}"},
        {"metadata", "{}"},
        {"telemetry_events[0].data", "\"text\""}, {"telemetry_events[0].data", "42"},
        {"telemetry_events[0].data", "[1, \"two\", {\"three\": [3]}]"}, {"telemetry_events[0].data", "true"},
        {"telemetry_events[0].data", "{\"tiny\": 1e-300, \"big\": 1e300, \"int\": 18446744073709551615}"},
        {"telemetry_spans[0].attributes", "{\"http.method\": \"GET\", \"\\t\": \"\\u0001\"}"},
        {"shared_state_snapshots[0].state", "{}"},
        /* unknown fields are ignored */
        {"client_version", "\"1.2.3\""}, {"x-unknown", "{\"nested\": [1, 2, 3]}"},
        {"node_executions[0].extra", "[true]"}, {"telemetry_spans[0].events", "[]"},
        {"shared_state_snapshots[0].delta", "{\"a\": 1}"},
        /* exactly max_items */
        {"telemetry_events",
         "[{\"event_type\": \"a\", \"timestamp\": \"2024-11-26T12:00:00Z\"},"
         " {\"event_type\": \"b\", \"timestamp\": \"2024-11-26T12:00:00Z\"},"
         " {\"event_type\": \"c\", \"timestamp\": \"2024-11-26T12:00:00Z\"}]"},
    };
    return cr_make_param_array(struct good_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct good_case *tc, ingest_validate, acceptable_variations_pass)
{
    check_good(tc);
}

/* ---- the body ---------------------------------------------------------- */

ParameterizedTestParameters(ingest_validate, a_body_that_is_not_an_object_is_refused_at_the_empty_path)
{
    static struct good_case cases[] = {
        {"", "[]"}, {"", "[{}]"}, {"", "\"text\""}, {"", "42"}, {"", "1.5"}, {"", "true"}, {"", "null"},
    };
    return cr_make_param_array(struct good_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct good_case *tc, ingest_validate, a_body_that_is_not_an_object_is_refused_at_the_empty_path)
{
    struct json_object *o = parse(tc->value); /* NULL for null */
    struct result r = run(o);
    cr_assert_eq(r.rc, -1, "%s", tc->value);
    cr_assert_str_eq(r.path, "");
    cr_assert_str_eq(r.msg, "the body must be a JSON object");
    json_object_put(o);
}

ParameterizedTestParameters(ingest_validate, every_bad_top_level_field_is_refused_at_its_path)
{
    static struct bad_case cases[] = {
        BAD("workflow_id", ABSENT), BAD("workflow_id", "null"), BAD("workflow_id", "123"),
        BAD("workflow_id", "true"), BAD("workflow_id", "[]"), BAD("workflow_id", "{}"),
        BAD("workflow_id", "\"\""), BAD("workflow_id", "\"not-a-uuid\""),
        BAD("workflow_id", "\"{6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b}\""),
        BAD("workflow_id", "\"6f1c2a3b4d5e4f608a7b9c0d1e2f3a4b\""),
        BAD("workflow_id", "\"6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4\\u0000\""),
        BAD("workflow_id", "\" 6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b\""),

        BAD("session_id", ABSENT), BAD("session_id", "null"), BAD("session_id", "5"),
        BAD("session_id", "true"), BAD("session_id", "[]"), BAD("session_id", "{}"),
        BAD("session_id", "\"\""), BAD("session_id", "\"abcdefghijklmnopq\""), /* 17 bytes */
        BAD("session_id", "\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\""), /* 9 chars, 18 bytes */
        BAD("session_id", "\"a\\u0000b\""), BAD("session_id", "\"a\\nb\""), BAD("session_id", "\"a\\u001fb\""),
        BAD("session_id", "\"a\\u007fb\""),

        BAD("execution_id", "5"), BAD("execution_id", "\"\""), BAD("execution_id", "\"x\""),
        BAD("execution_id", "true"), BAD("execution_id", "{}"),

        BAD("status", ABSENT), BAD("status", "null"), BAD("status", "\"done\""), BAD("status", "\"Success\""),
        BAD("status", "\"SUCCESS\""), BAD("status", "\"\""), BAD("status", "\"success \""), BAD("status", "1"),
        BAD("status", "true"), BAD("status", "[\"success\"]"), BAD("status", "\"skipped\""),

        BAD("started_at", ABSENT), BAD("started_at", "null"), BAD("started_at", "\"2024-11-26\""),
        BAD("started_at", "1732622400"), BAD("started_at", "\"2024-02-30T00:00:00Z\""),
        BAD("started_at", "\"2024-11-26T12:00:00+0530\""), BAD("started_at", "true"),
        BAD("started_at", "\"\""), BAD("started_at", "{}"),

        BAD("completed_at", "\"yesterday\""), BAD("completed_at", "5"),
        BAD("completed_at", "\"2024-11-26T24:00:00Z\""), BAD("completed_at", "\"2024-11-26T12:00:00Z\\u0000\""),

        BAD("duration_ms", "\"5000\""), BAD("duration_ms", "true"), BAD("duration_ms", "false"),
        BAD("duration_ms", "-1"), BAD("duration_ms", "-0.5"), BAD("duration_ms", "1e400"),
        BAD("duration_ms", "-1e400"), BAD("duration_ms", "1e-400"), BAD("duration_ms", "1e16"),
        BAD("duration_ms", "1000000000000001"), BAD("duration_ms", "18446744073709551616"),
        BAD("duration_ms", "-9223372036854775809"), BAD("duration_ms", "[]"), BAD("duration_ms", "{}"),

        BAD("error", "5"), BAD("error", "true"), BAD("error", "[]"), BAD("error", "[\"a\"]"),
        BAD("error", "\"a\\u0000b\""), BAD("error", "{\"deep\": {\"x\": [\"ok\", \"a\\u0000\"]}}"),

        BAD("metadata", "\"x\""), BAD("metadata", "[]"), BAD("metadata", "5"), BAD("metadata", "true"),
        BAD("metadata", "{\"a\": {\"b\": \"\\u0000\"}}"), BAD("metadata", "{\"n\": 1e400}"),

        BAD("node_executions", "\"x\""), BAD("node_executions", "{}"), BAD("node_executions", "5"),
        BAD("node_executions", "true"),
        BAD("telemetry_events", "{\"0\": {}}"), BAD("telemetry_spans", "\"[]\""),
        BAD("shared_state_snapshots", "0"),
    };
    return cr_make_param_array(struct bad_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct bad_case *tc, ingest_validate, every_bad_top_level_field_is_refused_at_its_path)
{
    check_bad(tc);
}

ParameterizedTestParameters(ingest_validate, every_bad_node_execution_field_is_refused_at_its_path)
{
    static struct bad_case cases[] = {
        BAD("node_executions[0]", "5"), BAD("node_executions[0]", "\"x\""), BAD("node_executions[0]", "[]"),
        BAD("node_executions[0]", "null"), BAD("node_executions[0]", "true"),

        BAD("node_executions[0].node_name", ABSENT), BAD("node_executions[0].node_name", "null"),
        BAD("node_executions[0].node_name", "\"\""), BAD("node_executions[0].node_name", "5"),
        BAD("node_executions[0].node_name", "[\"processor\"]"),
        BAD("node_executions[0].node_name", "\"abcdefghijklmnopq\""),
        BAD("node_executions[0].node_name", "\"a\\u0000b\""), BAD("node_executions[0].node_name", "\"a\\tb\""),

        BAD("node_executions[0].id", "\"x\""), BAD("node_executions[0].id", "5"),
        BAD("node_executions[0].id", "\"\""), BAD("node_executions[0].id", "{}"),
        BAD("node_executions[0].id", "\"0d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6\""),
        BAD("node_executions[0].id", "\"0d9e8f7a6b5c4d3e9f2a1b0c9d8e7f6a\""),
        BAD("node_executions[0].node_id", "\"x\""), BAD("node_executions[0].node_id", "5"),
        BAD("node_executions[0].node_id", "\"\""),
        BAD("node_executions[0].node_id", "\"0d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6\""),

        BAD("node_executions[0].node_type", "5"), BAD("node_executions[0].node_type", "\"\""),
        BAD("node_executions[0].node_type", "\"abcdefghijklmnopq\""),
        BAD("node_executions[0].node_type", "\"\\u0000\""), BAD("node_executions[0].node_type", "{}"),

        BAD("node_executions[0].status", "\"failed\""), BAD("node_executions[0].status", "\"SUCCESS\""),
        BAD("node_executions[0].status", "\"cancelled\""), BAD("node_executions[0].status", "5"),
        BAD("node_executions[0].status", "\"\""),

        BAD("node_executions[0].started_at", "\"2024-11-26T12:00\""),
        BAD("node_executions[0].started_at", "0"),
        BAD("node_executions[0].completed_at", "\"2023-02-29T00:00:00Z\""),

        BAD("node_executions[0].prep_duration_ms", "-1"), BAD("node_executions[0].prep_duration_ms", "\"1\""),
        BAD("node_executions[0].exec_duration_ms", "true"), BAD("node_executions[0].exec_duration_ms", "1e400"),
        BAD("node_executions[0].post_duration_ms", "-0.001"), BAD("node_executions[0].post_duration_ms", "[2]"),

        BAD("node_executions[0].retry_count", "-1"), BAD("node_executions[0].retry_count", "1.5"),
        BAD("node_executions[0].retry_count", "1.0"), BAD("node_executions[0].retry_count", "1e2"),
        BAD("node_executions[0].retry_count", "\"1\""), BAD("node_executions[0].retry_count", "true"),
        BAD("node_executions[0].retry_count", "2147483648"),
        BAD("node_executions[0].retry_count", "99999999999999999999"),
        BAD("node_executions[0].retry_count", "-99999999999999999999"),

        BAD("node_executions[0].action", "\"\""), BAD("node_executions[0].action", "5"),
        BAD("node_executions[0].action", "\"abcdefghijklmnopq\""), BAD("node_executions[0].action", "\"a\\u0000\""),

        BAD("node_executions[0].error", "5"), BAD("node_executions[0].error", "[]"),
        BAD("node_executions[0].error", "false"), BAD("node_executions[0].error", "{\"x\": \"\\u0000\"}"),
        BAD("node_executions[0].error", "\"trace\\u0000\""),

        BAD("node_executions[0].input_tokens", "-1"), BAD("node_executions[0].input_tokens", "1.5"),
        BAD("node_executions[0].input_tokens", "1e3"), BAD("node_executions[0].input_tokens", "\"100\""),
        BAD("node_executions[0].output_tokens", "2147483648"), BAD("node_executions[0].output_tokens", "true"),
        BAD("node_executions[0].cache_read_tokens", "-5"), BAD("node_executions[0].cache_creation_tokens", "{}"),
        BAD("node_executions[0].model", "\"\""), BAD("node_executions[0].model", "4"),
        BAD("node_executions[0].model", "\"abcdefghijklmnopq\""), BAD("node_executions[0].model", "\"gpt\\u202e\""),
        BAD("node_executions[0].provider", "\"a\\nb\""), BAD("node_executions[0].provider", "[]"),

        BAD_AT("node_executions", "[{\"node_name\": \"a\"}, {\"node_name\": \"b\"}, {\"node_name\": \"c\"},"
                                  " {\"node_name\": \"d\"}]", "node_executions"),
        BAD_AT("node_executions", "[{\"node_name\": \"a\"}, {\"node_name\": \"b\"}, 7]", "node_executions[2]"),
        BAD_AT("node_executions", "[{\"node_name\": \"a\"}, {}]", "node_executions[1].node_name"),
    };
    return cr_make_param_array(struct bad_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct bad_case *tc, ingest_validate, every_bad_node_execution_field_is_refused_at_its_path)
{
    check_bad(tc);
}

ParameterizedTestParameters(ingest_validate, every_bad_telemetry_event_field_is_refused_at_its_path)
{
    static struct bad_case cases[] = {
        BAD("telemetry_events[0]", "5"), BAD("telemetry_events[0]", "[]"), BAD("telemetry_events[0]", "null"),

        BAD("telemetry_events[0].event_type", ABSENT), BAD("telemetry_events[0].event_type", "null"),
        BAD("telemetry_events[0].event_type", "\"\""), BAD("telemetry_events[0].event_type", "5"),
        BAD("telemetry_events[0].event_type", "\"a\\u0000\""),
        BAD("telemetry_events[0].event_type", "\"abcdefghijklmnopq\""),
        BAD("telemetry_events[0].event_type", "\"node\\rstart\""),

        BAD("telemetry_events[0].timestamp", ABSENT), BAD("telemetry_events[0].timestamp", "null"),
        BAD("telemetry_events[0].timestamp", "\"x\""), BAD("telemetry_events[0].timestamp", "5"),
        BAD("telemetry_events[0].timestamp", "\"2024-11-26T12:00:60Z\""),

        BAD("telemetry_events[0].node_name", "5"), BAD("telemetry_events[0].node_name", "\"\""),
        BAD("telemetry_events[0].node_name", "\"abcdefghijklmnopq\""),

        BAD_AT("telemetry_events[0].data", "\"a\\u0000b\"", "telemetry_events[0].data"),
        BAD_AT("telemetry_events[0].data", "{\"a\": {\"b\": [1, {\"c\": \"\\u0000\"}]}}", "telemetry_events[0].data"),
        BAD_AT("telemetry_events[0].data", "[\"\\u0000\"]", "telemetry_events[0].data"),
        BAD_AT("telemetry_events[0].data", "{\"n\": 1e-400}", "telemetry_events[0].data"),
        BAD_AT("telemetry_events[0].data", "[[[[1e999]]]]", "telemetry_events[0].data"),
        BAD_AT("telemetry_events[0].data", "-1e400", "telemetry_events[0].data"),
    };
    return cr_make_param_array(struct bad_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct bad_case *tc, ingest_validate, every_bad_telemetry_event_field_is_refused_at_its_path)
{
    check_bad(tc);
}

ParameterizedTestParameters(ingest_validate, every_bad_telemetry_span_field_is_refused_at_its_path)
{
    static struct bad_case cases[] = {
        BAD("telemetry_spans[0]", "\"span\""), BAD("telemetry_spans[0]", "0"),

        BAD("telemetry_spans[0].span_id", ABSENT), BAD("telemetry_spans[0].span_id", "null"),
        BAD("telemetry_spans[0].span_id", "\"\""), BAD("telemetry_spans[0].span_id", "\"xyz\""),
        BAD("telemetry_spans[0].span_id", "\"0x1f\""), BAD("telemetry_spans[0].span_id", "\"00f0 67aa\""),
        BAD("telemetry_spans[0].span_id", "\"00f067aa-0ba902b7\""), BAD("telemetry_spans[0].span_id", "5"),
        BAD("telemetry_spans[0].span_id",
            "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0\""), /* 65 digits */
        BAD("telemetry_spans[0].span_id", "\"00f067aa\\u0000\""),

        BAD("telemetry_spans[0].trace_id", "\"g\""), BAD("telemetry_spans[0].trace_id", "5"),
        BAD("telemetry_spans[0].trace_id", "\"\""), BAD("telemetry_spans[0].trace_id", "{}"),
        BAD("telemetry_spans[0].parent_span_id", "\"zz\""), BAD("telemetry_spans[0].parent_span_id", "0"),

        BAD("telemetry_spans[0].name", ABSENT), BAD("telemetry_spans[0].name", "null"),
        BAD("telemetry_spans[0].name", "\"\""), BAD("telemetry_spans[0].name", "5"),
        BAD("telemetry_spans[0].name", "\"abcdefghijklmnopq\""), BAD("telemetry_spans[0].name", "\"a\\u0000\""),

        BAD("telemetry_spans[0].kind", "5"), BAD("telemetry_spans[0].kind", "\"\""),
        BAD("telemetry_spans[0].kind", "\"a\\u0001\""),

        BAD("telemetry_spans[0].start_time", ABSENT), BAD("telemetry_spans[0].start_time", "null"),
        BAD("telemetry_spans[0].start_time", "\"x\""), BAD("telemetry_spans[0].start_time", "1732622400000"),
        BAD("telemetry_spans[0].end_time", "\"2024-11-26T12:00:00.Z\""), BAD("telemetry_spans[0].end_time", "[]"),

        BAD("telemetry_spans[0].duration_ms", "-1"), BAD("telemetry_spans[0].duration_ms", "\"100\""),

        BAD("telemetry_spans[0].status", "\"OK\""), BAD("telemetry_spans[0].status", "\"failed\""),
        BAD("telemetry_spans[0].status", "\"success\""), BAD("telemetry_spans[0].status", "0"),

        BAD("telemetry_spans[0].attributes", "[]"), BAD("telemetry_spans[0].attributes", "\"x\""),
        BAD("telemetry_spans[0].attributes", "{\"a\": \"\\u0000\"}"),

        BAD("telemetry_spans[0].node_name", "5"), BAD("telemetry_spans[0].node_name", "\"\""),
    };
    return cr_make_param_array(struct bad_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct bad_case *tc, ingest_validate, every_bad_telemetry_span_field_is_refused_at_its_path)
{
    check_bad(tc);
}

ParameterizedTestParameters(ingest_validate, every_bad_state_snapshot_field_is_refused_at_its_path)
{
    static struct bad_case cases[] = {
        BAD("shared_state_snapshots[0]", "[]"), BAD("shared_state_snapshots[0]", "false"),

        BAD("shared_state_snapshots[0].state", ABSENT), BAD("shared_state_snapshots[0].state", "null"),
        BAD("shared_state_snapshots[0].state", "[]"), BAD("shared_state_snapshots[0].state", "\"x\""),
        BAD("shared_state_snapshots[0].state", "5"), BAD("shared_state_snapshots[0].state", "{\"a\": \"\\u0000\"}"),
        BAD("shared_state_snapshots[0].state", "{\"a\": [{\"b\": {\"c\": \"x\\u0000\"}}]}"),

        BAD("shared_state_snapshots[0].sequence", "-1"), BAD("shared_state_snapshots[0].sequence", "1.5"),
        BAD("shared_state_snapshots[0].sequence", "\"0\""), BAD("shared_state_snapshots[0].sequence", "2147483648"),
        BAD("shared_state_snapshots[0].sequence", "true"),

        BAD("shared_state_snapshots[0].timestamp", "\"x\""), BAD("shared_state_snapshots[0].timestamp", "0"),

        BAD("shared_state_snapshots[0].node_name", "\"\""), BAD("shared_state_snapshots[0].node_name", "1"),
        BAD("shared_state_snapshots[0].phase", "5"), BAD("shared_state_snapshots[0].phase", "\"\""),
        BAD("shared_state_snapshots[0].phase", "\"abcdefghijklmnopq\""),
        BAD("shared_state_snapshots[0].phase", "\"after\\u0000\""),
    };
    return cr_make_param_array(struct bad_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct bad_case *tc, ingest_validate, every_bad_state_snapshot_field_is_refused_at_its_path)
{
    check_bad(tc);
}

/* Unknown fields are ignored, but PostgreSQL still parses them as jsonb. */
ParameterizedTestParameters(ingest_validate, unknown_fields_are_still_refused_for_nul_and_huge_numbers)
{
    static struct bad_case cases[] = {
        BAD("extra", "\"\\u0000\""), BAD("extra", "{\"deep\": [\"\\u0000\"]}"), BAD("extra", "1e400"),
        BAD("telemetry_events[0].extra", "{\"x\": \"\\u0000\"}"),
        BAD("node_executions[0].extra", "[1e-400]"),
        BAD("shared_state_snapshots[0].x", "\"a\\u0000\""),
    };
    return cr_make_param_array(struct bad_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct bad_case *tc, ingest_validate, unknown_fields_are_still_refused_for_nul_and_huge_numbers)
{
    check_bad(tc);
}

/* ---- messages ---------------------------------------------------------- */

struct msg_case {
    char target[48];
    char value[48];
    char msg[128];
};

ParameterizedTestParameters(ingest_validate, messages_name_the_field_and_the_rule)
{
    static struct msg_case cases[] = {
        {"telemetry_events[0].timestamp", "\"x\"", "telemetry_events[0].timestamp must be an RFC 3339 timestamp"},
        {"node_executions[0].retry_count", "-1", "node_executions[0].retry_count must not be negative"},
        {"node_executions[0].retry_count", "1.0", "node_executions[0].retry_count must be an integer, not a fraction"},
        {"session_id", "\"abcdefghijklmnopq\"", "session_id must be at most 16 bytes long"},
        {"session_id", "\"\"", "session_id must not be empty"},
        {"session_id", "5", "session_id must be a string, not a number"},
        {"status", "\"done\"", "status must be one of: running, success, error, cancelled"},
        {"telemetry_spans[0].status", "\"OK\"", "telemetry_spans[0].status must be one of: ok, error, unset"},
        {"shared_state_snapshots[0].state", ABSENT, "shared_state_snapshots[0].state is required"},
        {"workflow_id", "null", "workflow_id is required and must not be null"},
        {"duration_ms", "\"5\"", "duration_ms must be a number of milliseconds, not a string"},
        {"node_executions", "{}", "node_executions must be an array, not an object"},
        {"node_executions[0]", "[]", "node_executions[0] must be an object, not an array"},
        {"telemetry_events[0].data", "{\"a\": \"\\u0000\"}",
         "telemetry_events[0].data must not contain NUL characters (\\u0000)"},
        {"node_executions[0].node_name", "\"a\\u0000\"",
         "node_executions[0].node_name must not contain NUL characters (\\u0000)"},
        {"node_executions[0].node_name", "\"a\\n\"", "node_executions[0].node_name must not contain control characters"},
        {"telemetry_spans[0].span_id", "\"x\"", "telemetry_spans[0].span_id must be a string of 1 to 64 hexadecimal digits"},
        {"error", "5", "error must be a string or an object, not a number"},
        {"shared_state_snapshots[0].sequence", "2147483648", "shared_state_snapshots[0].sequence must be at most 2147483647"},
        {"node_executions[0].input_tokens", "-1", "node_executions[0].input_tokens must not be negative"},
        {"node_executions[0].output_tokens", "2.5", "node_executions[0].output_tokens must be an integer, not a fraction"},
        {"node_executions[0].model", "\"\"", "node_executions[0].model must not be empty"},
    };
    return cr_make_param_array(struct msg_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct msg_case *tc, ingest_validate, messages_name_the_field_and_the_rule)
{
    struct json_object *o = parse(full_payload);
    mutate(o, tc->target, tc->value);
    struct result r = run(o);
    cr_assert_eq(r.rc, -1);
    cr_assert_str_eq(r.msg, tc->msg);
    json_object_put(o);
}

Test(ingest_validate, too_many_items_names_the_array_and_the_limit)
{
    struct json_object *o = parse(full_payload);
    mutate(o, "shared_state_snapshots", "[{}, {}, {}, {}]"); /* bad items too: the count comes first */
    struct result r = run(o);
    assert_refused_at(&r, "shared_state_snapshots", "4 snapshots");
    cr_assert_str_eq(r.msg, "shared_state_snapshots must have at most 3 items");
    json_object_put(o);
}

/* ---- which bad field comes first --------------------------------------- */

Test(ingest_validate, the_first_bad_member_in_document_order_is_reported)
{
    struct json_object *o = parse(full_payload);
    mutate(o, "node_executions[0]", "{\"node_name\": \"p\", \"status\": \"bad\", \"retry_count\": -1}");
    struct result r = run(o);
    assert_refused_at(&r, "node_executions[0].status", "status before retry_count");
    mutate(o, "node_executions[0]", "{\"node_name\": \"p\", \"retry_count\": -1, \"status\": \"bad\"}");
    r = run(o);
    assert_refused_at(&r, "node_executions[0].retry_count", "retry_count before status");
    json_object_put(o);
}

Test(ingest_validate, the_first_bad_top_level_member_is_reported)
{
    struct result r = run_text("{\"status\": \"bad\", \"started_at\": \"x\", \"workflow_id\": \"" W_ID "\"}");
    assert_refused_at(&r, "status", "status first");
    r = run_text("{\"started_at\": \"x\", \"status\": \"bad\", \"workflow_id\": \"" W_ID "\"}");
    assert_refused_at(&r, "started_at", "started_at first");
}

Test(ingest_validate, a_missing_field_is_reported_after_the_present_ones)
{
    struct json_object *o = parse(full_payload);
    mutate(o, "telemetry_events[0]", "{\"node_name\": \"\"}");
    struct result r = run(o);
    assert_refused_at(&r, "telemetry_events[0].node_name", "a bad present field before missing ones");
    mutate(o, "telemetry_events[0]", "{\"node_name\": \"n\"}");
    r = run(o);
    assert_refused_at(&r, "telemetry_events[0].event_type", "then the first missing field in schema order");
    json_object_put(o);
}

Test(ingest_validate, the_lowest_bad_item_is_reported)
{
    struct json_object *o = parse(full_payload);
    mutate(o, "telemetry_events",
           "[{\"event_type\": \"a\", \"timestamp\": \"2024-11-26T12:00:00Z\"},"
           " {\"event_type\": \"b\", \"timestamp\": \"bad\"},"
           " {\"event_type\": \"\", \"timestamp\": \"2024-11-26T12:00:00Z\"}]");
    struct result r = run(o);
    assert_refused_at(&r, "telemetry_events[1].timestamp", "item 1 before item 2");
    json_object_put(o);
}

Test(ingest_validate, the_earlier_array_in_the_document_is_reported_first)
{
    struct json_object *o = parse(full_payload);
    /* In full_payload node_executions comes before telemetry_events. */
    mutate(o, "node_executions[0].status", "\"bad\"");
    mutate(o, "telemetry_events[0].timestamp", "\"bad\"");
    struct result r = run(o);
    assert_refused_at(&r, "node_executions[0].status", "node_executions first");
    json_object_put(o);
}

Test(ingest_validate, a_bad_field_after_a_large_index_is_reported_with_that_index)
{
    struct config cfg = small_cfg();
    cfg.max_items = 1000;
    struct json_object *o = parse(full_payload);
    struct json_object *events = json_object_new_array();
    struct json_object *good = parse("{\"event_type\": \"e\", \"timestamp\": \"2024-11-26T12:00:00Z\"}");
    for (int i = 0; i < 499; i++)
        json_object_array_add(events, json_object_get(good));
    json_object_array_add(events, parse("{\"event_type\": \"e\", \"timestamp\": \"2024-11-26T12:00:00\"}"));
    json_object_array_add(events, parse("{\"event_type\": \"e\", \"timestamp\": \"2024-11-26T12:00\"}"));
    json_object_put(good);
    json_object_object_add(o, "telemetry_events", events);
    struct result r = run_cfg(&cfg, o);
    assert_refused_at(&r, "telemetry_events[500].timestamp", "item 500");
    cr_assert_str_eq(r.msg, "telemetry_events[500].timestamp must be an RFC 3339 timestamp");
    json_object_put(o);
}

/* ---- the summary ------------------------------------------------------- */

struct status_case {
    char status[16];
    bool terminal;
};

ParameterizedTestParameters(ingest_validate, summary_status_is_static_and_terminal_unless_running)
{
    static struct status_case cases[] = {
        {"running", false}, {"success", true}, {"error", true}, {"cancelled", true},
    };
    return cr_make_param_array(struct status_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct status_case *tc, ingest_validate, summary_status_is_static_and_terminal_unless_running)
{
    struct json_object *o = parse(full_payload);
    json_object_object_add(o, "status", json_object_new_string(tc->status));
    struct result r = run(o);
    cr_assert_eq(r.rc, 0);
    cr_assert_str_eq(r.sum.status, tc->status);
    cr_assert_eq(r.sum.terminal, tc->terminal, "%s", tc->status);
    /* Static: still readable after the text is gone. */
    json_object_put(o);
    cr_assert_str_eq(r.sum.status, tc->status);
}

Test(ingest_validate, summary_ids_are_lowercased)
{
    struct json_object *o = parse(full_payload);
    mutate(o, "workflow_id", "\"6F1C2A3B-4D5E-4F60-8A7B-9C0D1E2F3A4B\"");
    mutate(o, "execution_id", "\"3A2B1C0D-9E8F-4A7B-8C6D-5E4F3A2B1C0D\"");
    struct result r = run(o);
    cr_assert_eq(r.rc, 0);
    cr_assert_str_eq(r.sum.workflow_id, W_ID);
    cr_assert_str_eq(r.sum.execution_id, E_ID);
    json_object_put(o);
}

Test(ingest_validate, summary_execution_id_is_empty_when_null)
{
    struct json_object *o = parse(full_payload);
    mutate(o, "execution_id", "null");
    struct result r = run(o);
    cr_assert_eq(r.rc, 0);
    cr_assert_str_eq(r.sum.execution_id, "");
    json_object_put(o);
}

Test(ingest_validate, summary_counts_each_table)
{
    struct json_object *o = parse(full_payload);
    mutate(o, "node_executions", "[{\"node_name\": \"a\"}, {\"node_name\": \"b\"}, {\"node_name\": \"c\"}]");
    mutate(o, "telemetry_spans", "[]");
    mutate(o, "shared_state_snapshots", "[{\"state\": {}}, {\"state\": {\"x\": 1}}]");
    struct result r = run(o);
    cr_assert_eq(r.rc, 0, "%s: %s", r.path, r.msg);
    cr_assert_eq(r.sum.counts[IT_NODE_EXECUTIONS], 3);
    cr_assert_eq(r.sum.counts[IT_TELEMETRY_SPANS], 0);
    cr_assert_eq(r.sum.counts[IT_TELEMETRY_EVENTS], 1);
    cr_assert_eq(r.sum.counts[IT_SHARED_STATE_SNAPSHOTS], 2);
    json_object_put(o);
}

Test(ingest_validate, summary_tells_node_ids_from_nodes_named_only)
{
    struct json_object *o = parse(full_payload);
    struct result r;

    mutate(o, "node_executions", "[{\"node_name\": \"a\"}, {\"node_name\": \"b\", \"node_id\": null}]");
    r = run(o);
    cr_assert_eq(r.rc, 0);
    cr_assert_not(r.sum.any_node_id);
    cr_assert(r.sum.any_node_by_name);

    mutate(o, "node_executions", "[{\"node_name\": \"a\", \"node_id\": \"" N_ID "\"}, {\"node_name\": \"b\"}]");
    r = run(o);
    cr_assert_eq(r.rc, 0);
    cr_assert(r.sum.any_node_id);
    cr_assert(r.sum.any_node_by_name);

    mutate(o, "node_executions", "[{\"node_id\": \"" N_ID "\", \"node_name\": \"a\"}]");
    r = run(o);
    cr_assert_eq(r.rc, 0);
    cr_assert(r.sum.any_node_id);
    cr_assert_not(r.sum.any_node_by_name);
    json_object_put(o);
}

/* any_usage sends the node executions to the execution's insert
 * (ingest_store.c): true when some node execution sends a token count
 * that is not null, and a cache count or a model alone do not count. */
Test(ingest_validate, summary_tells_whether_some_node_execution_reports_tokens)
{
    static const struct {
        const char *nodes;
        bool usage;
    } cases[] = {
        {"[{\"node_name\": \"a\"}]", false},
        {"[{\"node_name\": \"a\", \"input_tokens\": null, \"output_tokens\": null}]", false},
        {"[{\"node_name\": \"a\", \"model\": \"m\", \"cache_read_tokens\": 5}]", false},
        {"[{\"node_name\": \"a\"}, {\"node_name\": \"b\", \"input_tokens\": 0}]", true},
        {"[{\"node_name\": \"a\", \"output_tokens\": 7}]", true},
    };
    struct json_object *o = parse(full_payload);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mutate(o, "node_executions", cases[i].nodes);
        struct result r = run(o);
        cr_assert_eq(r.rc, 0, "%s: %s", r.path, r.msg);
        cr_assert_eq(r.sum.any_usage, cases[i].usage, "%s", cases[i].nodes);
    }
    json_object_put(o);
}

Test(ingest_validate, table_names_are_the_payload_keys)
{
    cr_assert_str_eq(ingest_table_names[IT_NODE_EXECUTIONS], "node_executions");
    cr_assert_str_eq(ingest_table_names[IT_TELEMETRY_SPANS], "telemetry_spans");
    cr_assert_str_eq(ingest_table_names[IT_TELEMETRY_EVENTS], "telemetry_events");
    cr_assert_str_eq(ingest_table_names[IT_SHARED_STATE_SNAPSHOTS], "shared_state_snapshots");
}

/* ---- limits and robustness --------------------------------------------- */

Test(ingest_validate, too_many_items_are_refused_in_every_table)
{
    for (int t = 0; t < IT_COUNT; t++) {
        struct json_object *o = parse(full_payload);
        mutate(o, ingest_table_names[t], "[{}, {}, {}, {}]");
        struct result r = run(o);
        assert_refused_at(&r, ingest_table_names[t], ingest_table_names[t]);
        json_object_put(o);
    }
}

Test(ingest_validate, a_hundred_thousand_items_pass_under_the_default_limit)
{
    struct config cfg = small_cfg();
    cfg.max_items = 100000;
    struct json_object *o = parse(full_payload);
    struct json_object *events = json_object_new_array_ext(100000);
    struct json_object *ev = parse("{\"event_type\": \"node_start\", \"timestamp\": \"2024-11-26T12:00:00.123Z\","
                                   " \"node_name\": \"processor\", \"data\": {\"k\": [1, \"v\"]}}");
    for (int i = 0; i < 100000; i++)
        json_object_array_add(events, json_object_get(ev)); /* one item, shared */
    json_object_object_add(o, "telemetry_events", events);
    struct result r = run_cfg(&cfg, o);
    cr_assert_eq(r.rc, 0, "%s: %s", r.path, r.msg);
    cr_assert_eq(r.sum.counts[IT_TELEMETRY_EVENTS], 100000);

    json_object_array_add(events, json_object_get(ev));
    r = run_cfg(&cfg, o);
    assert_refused_at(&r, "telemetry_events", "100,001 events");
    json_object_put(ev);
    json_object_put(o);
}

Test(ingest_validate, a_blob_nested_beyond_the_depth_limit_is_bad_json)
{
    struct config cfg = small_cfg();
    struct json_object *o = parse(full_payload);
    struct json_object *deep = json_object_new_string("leaf");
    for (int i = 0; i < 200; i++) {
        struct json_object *a = json_object_new_array();
        json_object_array_add(a, deep);
        deep = a;
    }
    json_object_object_add(json_object_array_get_idx(json_object_object_get(o, "telemetry_events"), 0), "data",
                           deep);
    struct result r = run_cfg(&cfg, o);
    cr_assert_eq(r.verdict, INGEST_BAD_JSON, "200 levels: %s", r.msg);
    cr_assert_str_eq(r.msg, "malformed JSON: JSON nested too deeply");
    cr_assert_str_eq(r.path, "");
    json_object_put(o);
}

Test(ingest_validate, path_and_message_are_cut_to_their_buffers)
{
    struct config cfg = small_cfg();
    struct json_object *o = parse(full_payload);
    mutate(o, "telemetry_events[0].timestamp", "\"bad\"");
    struct ingest_summary sum;
    char path[9], msg[12];
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    memset(path, 'X', sizeof path);
    memset(msg, 'X', sizeof msg);
    cr_assert_eq(ingest_validate(&cfg, text, strlen(text), &sum, path, 8, msg, 11), INGEST_INVALID);
    cr_assert_str_eq(path, "telemet");
    cr_assert_eq(path[8], 'X');
    cr_assert_eq(strlen(msg), 10);
    cr_assert_eq(msg[11], 'X');
    json_object_put(o);
}

Test(ingest_validate, an_unknown_key_in_a_path_is_cleaned_and_cut)
{
    struct json_object *o = parse(full_payload);
    char key[200];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    key[3] = '\n';
    json_object_object_add(o, key, json_object_new_string_len("a\0b", 3));
    struct result r = run(o);
    cr_assert_eq(r.rc, -1);
    cr_assert_eq(strlen(r.path), 64, "path \"%s\"", r.path);
    cr_assert_null(strchr(r.path, '\n'));
    json_object_put(o);
}

Test(ingest_validate, a_string_with_a_nul_in_the_middle_is_refused_even_when_its_c_string_looks_fine)
{
    /* json-c strings carry a length; strlen() stops at the NUL. */
    struct json_object *o = parse(full_payload);
    json_object_object_add(o, "session_id", json_object_new_string_len("ab\0cd", 5));
    struct result r = run(o);
    assert_refused_at(&r, "session_id", "embedded NUL");
    json_object_put(o);
}

/* ---- the text itself ---------------------------------------------------- */

#define HEAD "\"workflow_id\": \"" W_ID "\", \"session_id\": \"s\", \"status\": \"running\"," \
             " \"started_at\": \"2024-11-26T12:00:00Z\""

static void assert_bad_json(const struct result *r, const char *reason, const char *what)
{
    cr_assert_eq(r->verdict, INGEST_BAD_JSON, "%s: should be bad JSON (got %s: %s)", what, r->path, r->msg);
    cr_assert_str_eq(r->path, "", "%s", what);
    if (reason) {
        char want[256];
        snprintf(want, sizeof want, "malformed JSON: %s", reason);
        cr_assert_str_eq(r->msg, want, "%s", what);
    }
}

Test(ingest_validate, broken_json_is_bad_json_even_after_a_field_broke_the_schema)
{
    struct result r = run_text("{\"status\": \"bogus\", \"session_id\": 5");
    assert_bad_json(&r, "unexpected end of data", "cut short");
    r = run_text("{\"status\": \"bogus\", " HEAD "} x");
    assert_bad_json(&r, "unexpected word (only true, false and null are literals)", "trailing word");
    r = run_text("{\"status\": \"bogus\", " HEAD "} {}");
    assert_bad_json(&r, "unexpected character", "a second value");
    r = run_text("{\"status\": \"bogus\", " HEAD ", \"metadata\": {\"x\": \"\xff\"}}");
    assert_bad_json(&r, "invalid UTF-8", "invalid UTF-8 after the bad field");
    r = run_text("{" HEAD ", \"telemetry_events\": [{}, {}, {}, {}, 5,]}");
    assert_bad_json(&r, "unexpected character", "too many items, then a trailing comma");
    r = run_text("[1, 2,");
    assert_bad_json(&r, "unexpected end of data", "a broken array is not \"not an object\"");
    r = run_text("   ");
    assert_bad_json(&r, "unexpected end of data", "only whitespace");
    struct config cfg = small_cfg();
    r = run_text_cfg(&cfg, "", 0);
    assert_bad_json(&r, "unexpected end of JSON", "empty");
    r = run_text("{" HEAD ", \"duration_ms\": 1\"x\"}");
    assert_bad_json(&r, "number expected", "a number running into a string");
}

/* What the differential test against the former json-c pipeline (retired,
 * see docs/DESIGN.md) ever told apart: json-c words a number run straight
 * into a quote, brace, bracket or colon "number expected", not "separator
 * expected", and an empty body "unexpected end of JSON". Each case as a
 * row, in a schema field, a blob, an unknown field and an item. */
Test(ingest_validate, the_cases_the_json_c_pipeline_told_apart_keep_its_words)
{
    static const char *const bodies[] = {
        "{" HEAD ", \"duration_ms\": 1\"x\"}", "{" HEAD ", \"duration_ms\": 1{}}",
        "{" HEAD ", \"duration_ms\": 1[]}", "{" HEAD ", \"duration_ms\": 1:2}",
        "{" HEAD ", \"metadata\": {\"a\": [1.5\"x\"]}}", "{" HEAD ", \"metadata\": {\"a\": -2e3{}}}",
        "{" HEAD ", \"client\": [0[]]}", "{" HEAD ", \"client\": 7:}",
        "{" HEAD ", \"node_executions\": [{\"node_name\": \"a\", \"retry_count\": 1\"b\"}]}",
        "{\"duration_ms\": 5\"x\", " HEAD "}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct result r = run_text(bodies[i]);
        assert_bad_json(&r, "number expected", bodies[i]);
    }
    static const char *const separators[] = {"{" HEAD ", \"duration_ms\": 1 \"x\"}",
                                             "{" HEAD ", \"metadata\": {\"a\": [true\"x\"]}}"};
    for (size_t i = 0; i < sizeof separators / sizeof separators[0]; i++) {
        struct result r = run_text(separators[i]);
        cr_expect_eq(r.verdict, INGEST_BAD_JSON, "%s", separators[i]);
        cr_expect(strstr(r.msg, "separator ',' expected") != NULL, "%s: %s", separators[i], r.msg);
    }
    struct config cfg = small_cfg();
    struct result r = run_text_cfg(&cfg, "", 0);
    assert_bad_json(&r, "unexpected end of JSON", "empty");
    r = run_text(" ");
    assert_bad_json(&r, "unexpected end of data", "whitespace only is json-c's end of data");
}

Test(ingest_validate, a_nul_in_any_key_is_refused_for_the_whole_body_without_a_path)
{
    static const char *const bodies[] = {
        "{" HEAD ", \"x\\u0000\": 1}", "{" HEAD ", \"metadata\": {\"deep\": [{\"a\\u0000b\": 1}]}}",
        "{\"st\\u0000atus\": \"running\"}",
        /* the former pre-check ran over the text first: it wins over broken JSON after it */
        "{" HEAD ", \"metadata\": {\"a\\u0000\": 1}, ]",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct result r = run_text(bodies[i]);
        cr_assert_eq(r.verdict, INGEST_INVALID, "%s: %s", bodies[i], r.msg);
        cr_assert_str_eq(r.path, "");
        cr_assert_str_eq(r.msg, JSON_WHY_NUL_KEY);
    }
}

Test(ingest_validate, the_body_is_read_only_within_its_length)
{
    const char text[] = "{" HEAD "}garbage";
    struct config cfg = small_cfg();
    struct result r = run_text_cfg(&cfg, text, strlen(text) - 7);
    cr_assert_eq(r.verdict, INGEST_VALID, "%s", r.msg);
    r = run_text_cfg(&cfg, text, strlen(text) - 8);
    assert_bad_json(&r, "unexpected end of data", "one byte short");
}

Test(ingest_validate, session_id_and_started_at_come_out_unescaped)
{
    struct result r = run_text("{\"workflow_id\": \"" W_ID "\", \"session_id\": \"t\\u00e9st\\/\\\"1\\\"\","
                               " \"status\": \"running\", \"started_at\": \"2024-11-26T12:00:00\\u005a\"}");
    cr_assert_eq(r.rc, 0, "%s", r.msg);
    cr_assert_eq(r.sum.session_id_len, 9);
    cr_assert_str_eq(r.session_id, "t\xc3\xa9st/\"1\"");
    cr_assert_str_eq(r.sum.started_at, "2024-11-26T12:00:00Z");
    r = run_text("{" HEAD "}");
    cr_assert_str_eq(r.session_id, "s");
    cr_assert_str_eq(r.sum.started_at, "2024-11-26T12:00:00Z");
}

/* ---- repeated keys: the last one wins ---------------------------------- */

Test(ingest_validate, a_repeated_field_is_validated_and_summarised_by_its_last_value)
{
    struct result r = run_text("{" HEAD ", \"status\": \"success\", \"session_id\": \"last\","
                               " \"execution_id\": \"" E_ID "\", \"execution_id\": null,"
                               " \"node_executions\": [{\"node_name\": \"a\", \"node_id\": \"" N_ID "\"},"
                               "  {\"node_name\": \"b\"}], \"node_executions\": [],"
                               " \"telemetry_events\": [5], \"telemetry_events\": [{\"event_type\": \"e\","
                               "  \"timestamp\": \"2024-11-26T12:00:00Z\", \"timestamp\": \"2024-11-26T13:00:00Z\"}]}");
    cr_assert_eq(r.rc, 0, "%s: %s", r.path, r.msg);
    cr_assert_str_eq(r.sum.status, "success");
    cr_assert(r.sum.terminal);
    cr_assert_str_eq(r.session_id, "last");
    cr_assert_str_eq(r.sum.execution_id, "");
    cr_assert_eq(r.sum.counts[IT_NODE_EXECUTIONS], 0);
    cr_assert_not(r.sum.any_node_id);
    cr_assert_not(r.sum.any_node_by_name);
    cr_assert_eq(r.sum.counts[IT_TELEMETRY_EVENTS], 1);

    /* An invalid earlier value is not validated... */
    r = run_text("{\"status\": \"bogus\", \"retry\": 1, " HEAD "}");
    cr_assert_eq(r.rc, 0, "%s: %s", r.path, r.msg);
    r = run_text("{\"session_id\": null, " HEAD "}");
    cr_assert_eq(r.rc, 0, "null then a value: %s", r.msg);
    /* ...an invalid last one is, at the place the field first appeared. */
    r = run_text("{\"status\": \"running\", \"started_at\": \"bad\", \"workflow_id\": \"" W_ID "\","
                 " \"session_id\": \"s\", \"status\": \"bogus\"}");
    assert_refused_at(&r, "status", "status first appeared before started_at");
    r = run_text("{" HEAD ", \"session_id\": null}");
    assert_refused_at(&r, "session_id", "a value then null");
    cr_assert_str_eq(r.msg, "session_id is required and must not be null");
    r = run_text("{" HEAD ", \"node_executions\": [{\"node_name\": \"a\", \"retry_count\": 1, \"retry_count\": -1}]}");
    assert_refused_at(&r, "node_executions[0].retry_count", "in an item");
}

/* json-c kept only the last value of a repeated key, so it never looked at
 * a NUL or a huge number in a shadowed value of a blob or unknown field;
 * PostgreSQL still parses those. Now they are refused, with a path. */
Test(ingest_validate, a_shadowed_value_in_a_blob_or_unknown_field_is_still_checked)
{
    struct result r = run_text("{" HEAD ", \"extra\": \"\\u0000\", \"extra\": 1}");
    assert_refused_at(&r, "extra", "shadowed unknown field");
    r = run_text("{" HEAD ", \"metadata\": {\"a\": 1e400, \"a\": 1}}");
    assert_refused_at(&r, "metadata", "shadowed member of a blob");
    cr_assert_str_eq(r.msg, "metadata holds a number out of range");
    /* A schema field's shadowed value is not: the last one wins. */
    r = run_text("{" HEAD ", \"metadata\": {\"a\": \"\\u0000\"}, \"metadata\": {}}");
    cr_assert_eq(r.rc, 0, "%s", r.msg);
}

/* One range rule for every number whatever its spelling: 1e309 and 1
 * followed by 309 zeros are both refused, with the same message, in number
 * fields (before their own rules), blobs and unknown fields. The integer
 * spelling used to pass everywhere but number fields. */
/* tmpl with its one '@' replaced by value, into out. */
static void fill(char *out, size_t cap, const char *tmpl, const char *value)
{
    const char *at = strchr(tmpl, '@');
    cr_assert_not_null(at);
    int n = snprintf(out, cap, "%.*s%s%s", (int)(at - tmpl), tmpl, value, at + 1);
    cr_assert(n > 0 && (size_t)n < cap);
}

Test(ingest_validate, a_number_beyond_a_double_is_refused_alike_in_every_spelling_and_place)
{
    static const char *const places[][2] = {
        {"{" HEAD ", \"duration_ms\": @}", "duration_ms"},
        {"{" HEAD ", \"node_executions\": [{\"node_name\": \"a\", \"exec_duration_ms\": @}]}",
         "node_executions[0].exec_duration_ms"},
        {"{" HEAD ", \"node_executions\": [{\"node_name\": \"a\", \"retry_count\": @}]}",
         "node_executions[0].retry_count"},
        {"{" HEAD ", \"shared_state_snapshots\": [{\"sequence\": @, \"state\": {}}]}",
         "shared_state_snapshots[0].sequence"},
        {"{" HEAD ", \"metadata\": {\"n\": [1, @]}}", "metadata"},
        {"{" HEAD ", \"error\": {\"code\": @}}", "error"},
        {"{" HEAD ", \"telemetry_events\": [{\"event_type\": \"e\", \"timestamp\": \"2024-11-26T12:00:00Z\","
         " \"data\": @}]}", "telemetry_events[0].data"},
        {"{" HEAD ", \"telemetry_spans\": [{\"span_id\": \"ab\", \"name\": \"s\","
         " \"start_time\": \"2024-11-26T12:00:00Z\", \"attributes\": {\"x\": @}}]}",
         "telemetry_spans[0].attributes"},
        {"{" HEAD ", \"shared_state_snapshots\": [{\"state\": {\"x\": {\"y\": @}}}]}",
         "shared_state_snapshots[0].state"},
        {"{" HEAD ", \"extra\": @}", "extra"},
        {"{" HEAD ", \"node_executions\": [{\"node_name\": \"a\", \"extra\": [@]}]}",
         "node_executions[0].extra"},
    };
    char ones[312], big[312], neg[312], fits[312];
    memset(ones, '0', sizeof ones);
    ones[0] = '1';
    memcpy(big, ones, 310);
    big[310] = '\0'; /* 1 and 309 zeros */
    neg[0] = '-';
    memcpy(neg + 1, ones, 310);
    neg[311] = '\0';
    memcpy(fits, ones, 309);
    fits[309] = '\0'; /* 1 and 308 zeros */
    const char *const refused[] = {"1e309", "-1E+309", "1e-400", "10e308", big, neg};
    char text[1024], msg[160];
    for (size_t p = 0; p < sizeof places / sizeof places[0]; p++) {
        snprintf(msg, sizeof msg, "%s holds a number out of range", places[p][1]);
        for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
            fill(text, sizeof text, places[p][0], refused[i]);
            struct result r = run_text(text);
            assert_refused_at(&r, places[p][1], text);
            cr_assert_str_eq(r.msg, msg, "%.60s... in %s", refused[i], places[p][1]);
        }
    }
    /* 1e308 spelled out fits: a blob and an unknown field keep it. */
    for (size_t p = 4; p < sizeof places / sizeof places[0]; p++) {
        fill(text, sizeof text, places[p][0], fits);
        struct result r = run_text(text);
        cr_assert_eq(r.rc, 0, "1 and 308 zeros in %s: %s", places[p][1], r.msg);
    }
}

/* Names and identifiers refuse control characters (C0, DEL, C1) and format
 * characters (Unicode Cf: bidi overrides, zero-width characters), raw or
 * escaped, wherever they stand in the string; free text (a string error,
 * blobs) keeps them. */
Test(ingest_validate, names_refuse_c1_controls_and_format_characters_raw_or_escaped)
{
    static const char *const places[][2] = {
        {"{\"workflow_id\": \"" W_ID "\", \"session_id\": \"@\", \"status\": \"running\","
         " \"started_at\": \"2024-11-26T12:00:00Z\"}", "session_id"},
        {"{" HEAD ", \"node_executions\": [{\"node_name\": \"@\"}]}", "node_executions[0].node_name"},
        {"{" HEAD ", \"node_executions\": [{\"node_name\": \"a\", \"node_type\": \"@\"}]}",
         "node_executions[0].node_type"},
        {"{" HEAD ", \"node_executions\": [{\"node_name\": \"a\", \"action\": \"@\"}]}",
         "node_executions[0].action"},
        {"{" HEAD ", \"telemetry_events\": [{\"event_type\": \"@\", \"timestamp\": \"2024-11-26T12:00:00Z\"}]}",
         "telemetry_events[0].event_type"},
        {"{" HEAD ", \"telemetry_events\": [{\"event_type\": \"e\", \"timestamp\": \"2024-11-26T12:00:00Z\","
         " \"node_name\": \"@\"}]}", "telemetry_events[0].node_name"},
        {"{" HEAD ", \"telemetry_spans\": [{\"span_id\": \"ab\", \"name\": \"@\","
         " \"start_time\": \"2024-11-26T12:00:00Z\"}]}", "telemetry_spans[0].name"},
        {"{" HEAD ", \"telemetry_spans\": [{\"span_id\": \"ab\", \"name\": \"s\", \"kind\": \"@\","
         " \"start_time\": \"2024-11-26T12:00:00Z\"}]}", "telemetry_spans[0].kind"},
        {"{" HEAD ", \"telemetry_spans\": [{\"span_id\": \"ab\", \"name\": \"s\", \"node_name\": \"@\","
         " \"start_time\": \"2024-11-26T12:00:00Z\"}]}", "telemetry_spans[0].node_name"},
        {"{" HEAD ", \"shared_state_snapshots\": [{\"node_name\": \"@\", \"state\": {}}]}",
         "shared_state_snapshots[0].node_name"},
        {"{" HEAD ", \"shared_state_snapshots\": [{\"phase\": \"@\", \"state\": {}}]}",
         "shared_state_snapshots[0].phase"},
    };
    static const char *const formats[] = {
        "\xe2\x80\xae" "gnp.exe", "\\u202egnp.exe", "ab\xe2\x80\x8b", "ab\\u200b", "\xef\xbb\xbf" "a", "a\\ufeff",
        "a\xc2\xad" "b", "x\\u2066y\\u2069", "\xf3\xa0\x80\x81", "\\udb40\\udc01", "a\xd8\x80", "\\u061c",
    };
    static const char *const controls[] = {"a\xc2\x85", "a\\u0085", "\xc2\x80", "\\u009f", "a\x7f", "\\u007f"};
    static const char *const fine[] = {"caf\xc3\xa9", "a\\u00a0b", "\xe2\x80\x90", "\\u2065", "\xf0\x9f\x98\x80"};
    char text[1024], msg[256];
    for (size_t p = 0; p < sizeof places / sizeof places[0]; p++) {
        for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
            fill(text, sizeof text, places[p][0], formats[i]);
            struct result r = run_text(text);
            assert_refused_at(&r, places[p][1], text);
            snprintf(msg, sizeof msg, "%s must not contain invisible format characters (Unicode Cf, such as "
                     "bidi overrides and zero-width spaces)", places[p][1]);
            cr_assert_str_eq(r.msg, msg, "%s", text);
        }
        for (size_t i = 0; i < sizeof controls / sizeof controls[0]; i++) {
            fill(text, sizeof text, places[p][0], controls[i]);
            struct result r = run_text(text);
            assert_refused_at(&r, places[p][1], text);
            snprintf(msg, sizeof msg, "%s must not contain control characters", places[p][1]);
            cr_assert_str_eq(r.msg, msg, "%s", text);
        }
        for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
            fill(text, sizeof text, places[p][0], fine[i]);
            struct result r = run_text(text);
            cr_assert_eq(r.rc, 0, "%s: %s", text, r.msg);
        }
    }
    /* Free text keeps them. */
    struct result r = run_text("{" HEAD ", \"error\": \"\\u202egnp.exe\\u200b\xc2\x85\","
                               " \"metadata\": {\"\\u202ekey\": \"\xe2\x80\xae\"},"
                               " \"telemetry_events\": [{\"event_type\": \"e\", \"timestamp\": \"2024-11-26T12:00:00Z\","
                               " \"data\": \"\\u200b\"}], \"extra\": \"\\u202e\"}");
    cr_assert_eq(r.rc, 0, "%s", r.msg);
}

/* A key echoed in a path loses the characters a name may not hold. */
Test(ingest_validate, a_key_in_a_path_loses_control_and_format_characters)
{
    struct result r = run_text("{" HEAD ", \"ex\\u202etra\xc2\x85\": \"\\u0000\"}");
    assert_refused_at(&r, "extra", "a key with a bidi override and a C1 control");
}

/* ---- limits on the text ------------------------------------------------- */

Test(ingest_validate, blob_depth_counts_from_the_body_as_in_json_c)
{
    char text[1024];
    struct config cfg = small_cfg();
    cfg.max_depth = 10;
    /* body 1, metadata 2, then 8 more levels: the innermost value at 10. */
    snprintf(text, sizeof text, "{" HEAD ", \"metadata\": {\"a\": [[[[[[[1]]]]]]]}}");
    struct result r = run_text_cfg(&cfg, text, strlen(text));
    cr_assert_eq(r.rc, 0, "10 levels: %s", r.msg);
    snprintf(text, sizeof text, "{" HEAD ", \"metadata\": {\"a\": [[[[[[[[1]]]]]]]]}}");
    r = run_text_cfg(&cfg, text, strlen(text));
    assert_bad_json(&r, "JSON nested too deeply", "11 levels");
    /* Items: body 1, array 2, item 3, field 4. */
    cfg.max_depth = 3;
    snprintf(text, sizeof text, "{" HEAD ", \"node_executions\": [{}]}");
    r = run_text_cfg(&cfg, text, strlen(text));
    assert_refused_at(&r, "node_executions[0].node_name", "an item at the limit");
    snprintf(text, sizeof text, "{" HEAD ", \"node_executions\": [{\"node_name\": \"a\"}]}");
    r = run_text_cfg(&cfg, text, strlen(text));
    assert_bad_json(&r, "JSON nested too deeply", "an item's field beyond it");
}

Test(ingest_validate, a_megabyte_string_blob_passes_and_a_nul_at_its_end_does_not)
{
    size_t n = 1000000;
    char *text = malloc(n + 256);
    cr_assert_not_null(text);
    int o = sprintf(text, "{" HEAD ", \"error\": \"");
    /* Mostly ASCII, with a two-byte character every 100 bytes. */
    for (size_t i = 0; i < n; i += 100) {
        memset(text + o + i, 'a' + (int)(i % 26), 98);
        memcpy(text + o + i + 98, "\xc3\xa9", 2);
    }
    strcpy(text + o + n, "\"}");
    struct config cfg = small_cfg();
    struct result r = run_text_cfg(&cfg, text, strlen(text));
    cr_assert_eq(r.rc, 0, "%s", r.msg);
    strcpy(text + o + n, "\\u0000\"}");
    r = run_text_cfg(&cfg, text, strlen(text));
    assert_refused_at(&r, "error", "NUL after a megabyte");
    free(text);
}

/* ---- the spans of the members ingest_store reads ----------------------- */

/* The text of the member's recorded span, in a new string ("" when
 * absent). */
static char *span_text(const char *text, const struct result *r, enum ingest_member m)
{
    const struct ingest_span *sp = &r->sum.spans[m];
    char *s = strndup(text + sp->at, sp->len);
    cr_assert_not_null(s);
    return s;
}

static void expect_span(const char *text, const struct result *r, enum ingest_member m, const char *want)
{
    char *got = span_text(text, r, m);
    cr_expect_str_eq(got, want, "%s in %s", ingest_member_names[m], text);
    free(got);
}

Test(ingest_validate, spans_hold_each_member_value_verbatim)
{
    struct result r = run_text(full_payload);
    cr_assert_eq(r.rc, 0, "%s", r.msg);
    expect_span(full_payload, &r, IM_COMPLETED_AT, "\"2024-11-26T12:00:05Z\"");
    expect_span(full_payload, &r, IM_DURATION_MS, "5000");
    expect_span(full_payload, &r, IM_ERROR, "null");
    expect_span(full_payload, &r, IM_METADATA, "{\"env\": \"test\"}");
    char *nodes = span_text(full_payload, &r, IM_NODE_EXECUTIONS);
    cr_expect_eq(nodes[0], '[');
    cr_expect_eq(nodes[strlen(nodes) - 1], ']');
    cr_expect(strstr(nodes, "\"retry_count\": 0, \"action\": \"default\"") != NULL, "%s", nodes);
    free(nodes);
}

Test(ingest_validate, absent_members_have_no_span)
{
    static const char body[] = "{" HEAD "}";
    struct result r = run_text(body);
    cr_assert_eq(r.rc, 0, "%s", r.msg);
    for (int m = 0; m < IM_COUNT; m++)
        cr_expect_eq(r.sum.spans[m].len, 0, "%s", ingest_member_names[m]);
}

Test(ingest_validate, member_names_are_the_payload_keys)
{
    cr_expect_str_eq(ingest_member_names[IM_NODE_EXECUTIONS], ingest_table_names[IT_NODE_EXECUTIONS]);
    cr_expect_str_eq(ingest_member_names[IM_COMPLETED_AT], "completed_at");
    cr_expect_str_eq(ingest_member_names[IM_DURATION_MS], "duration_ms");
    cr_expect_str_eq(ingest_member_names[IM_ERROR], "error");
    cr_expect_str_eq(ingest_member_names[IM_METADATA], "metadata");
}

Test(ingest_validate, a_repeated_member_spans_its_last_value)
{
    static const char body[] = "{\"metadata\": {\"a\": 1}, " HEAD ", \"metadata\": null, \"error\": \"x\","
                               " \"other\": {\"metadata\": 5}, \"error\": {\"k\": [1]}, \"metadata\" :  {\"b\": 2} }";
    struct result r = run_text(body);
    cr_assert_eq(r.rc, 0, "%s", r.msg);
    expect_span(body, &r, IM_METADATA, "{\"b\": 2}");
    expect_span(body, &r, IM_ERROR, "{\"k\": [1]}");
}

Test(ingest_validate, strings_with_quotes_braces_and_backslash_runs_do_not_move_a_span)
{
    /* "a\\" ends at its second quote; "\\\"}{[" holds an escaped quote. */
    static const char body[] = "{" HEAD ", \"metadata\": {\"s\": \"a\\\\\", \"t\": \"\\\\\\\"}{[\"},"
                               " \"error\": \"]\\\"}\", \"duration_ms\": 1.5e3}";
    struct result r = run_text(body);
    cr_assert_eq(r.rc, 0, "%s", r.msg);
    expect_span(body, &r, IM_METADATA, "{\"s\": \"a\\\\\", \"t\": \"\\\\\\\"}{[\"}");
    expect_span(body, &r, IM_ERROR, "\"]\\\"}\"");
    expect_span(body, &r, IM_DURATION_MS, "1.5e3");
}

/* A name spelled with escapes is the same member for PostgreSQL's jsonb:
 * its span is recorded like any other (json_slice.c, which the validator
 * replaced, sent the whole body then). */
Test(ingest_validate, member_names_spelled_with_escapes_get_their_spans)
{
    static const char body[] = "{" HEAD ", \"\\u006detadata\": {\"m\": 1}, \"node\\u005fexecutions\": [],"
                               " \"completed\\u005Fat\": \"2024-11-26T12:00:05Z\", \"\\u0065rror\": \"e\","
                               " \"duration\\u005fms\": 7, \"metadata\\u0020\": {\"not\": \"it\"}}";
    struct result r = run_text(body);
    cr_assert_eq(r.rc, 0, "%s", r.msg);
    expect_span(body, &r, IM_METADATA, "{\"m\": 1}");
    expect_span(body, &r, IM_NODE_EXECUTIONS, "[]");
    expect_span(body, &r, IM_COMPLETED_AT, "\"2024-11-26T12:00:05Z\"");
    expect_span(body, &r, IM_ERROR, "\"e\"");
    expect_span(body, &r, IM_DURATION_MS, "7");

    /* The plain and the escaped spelling repeat one member: the last wins. */
    static const char twice[] = "{" HEAD ", \"metadata\": {\"first\": 1}, \"meta\\u0064ata\": {\"second\": 2}}";
    r = run_text(twice);
    cr_assert_eq(r.rc, 0, "%s", r.msg);
    expect_span(twice, &r, IM_METADATA, "{\"second\": 2}");
}

/* A random JSON value of json-c's making, with strings and names full of
 * the characters a naive scan trips on. */
static struct json_object *random_value(int depth)
{
    static const char alphabet[] = "ab\"\\{}[]:, \n\t/\x01";
    int kind = depth > 3 ? rand() % 3 : rand() % 5;
    switch (kind) {
    case 0:
        return json_object_new_int(rand() % 2000 - 1000);
    case 1: {
        char s[12];
        int n = rand() % (int)sizeof s;
        for (int i = 0; i < n; i++)
            s[i] = alphabet[rand() % (int)(sizeof alphabet - 1)];
        return json_object_new_string_len(s, n);
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
            static const char *const names[] = {"metadata", "error", "a\"}", "node_executions"};
            json_object_object_add(o, names[rand() % 4], random_value(depth + 1));
        }
        return o;
    }
    }
}

/* Each span, read back by json-c, is the member json-c keeps. */
Test(ingest_validate, spans_agree_with_json_c_on_random_blobs)
{
    srand(20261204);
    for (int round = 0; round < 3000; round++) {
        struct json_object *o = parse("{" HEAD "}");
        for (int i = rand() % 4; i > 0; i--) {
            struct json_object *meta = json_object_new_object(), *x = random_value(1);
            json_object_object_add(meta, "x", x);
            json_object_object_add(o, rand() % 2 ? "metadata" : "client", meta);
            json_object_object_add(o, "error", rand() % 2 ? json_object_new_string("a\"}\\") : NULL);
        }
        const char *text = json_object_to_json_string_ext(o, round % 2 ? JSON_C_TO_STRING_PRETTY
                                                                       : JSON_C_TO_STRING_PLAIN);
        struct result r = run_text_cfg(&(struct config){.max_items = 3, .max_depth = 64, .max_string_bytes = 16},
                                       text, strlen(text));
        cr_assert_eq(r.rc, 0, "%s: %s", text, r.msg);
        for (int m = IM_ERROR; m <= IM_METADATA; m++) {
            struct json_object *want = NULL;
            bool in_o = json_object_object_get_ex(o, ingest_member_names[m], &want);
            cr_assert_eq(in_o, r.sum.spans[m].len > 0, "%s: member %s", text, ingest_member_names[m]);
            if (!in_o)
                continue;
            char *got = span_text(text, &r, m);
            struct json_object *have = json_tokener_parse(got);
            cr_assert(want ? json_object_equal(want, have) : !have && strcmp(got, "null") == 0, "%s: member %s: %s",
                      text, ingest_member_names[m], got);
            json_object_put(have);
            free(got);
        }
        json_object_put(o);
    }
}
