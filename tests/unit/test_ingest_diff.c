/* Differential tests: the one-pass ingest_validate() against the former
 * json-c pipeline (tests/reference/), which it replaces, on many bodies:
 * every JSONTestSuite parsing file, every single-byte change of a valid
 * payload, typed values in every field, repeated schema fields before and
 * after the original, and random multi-byte changes. tests/reference/
 * compare.c says what must agree (everything, unless keys repeat inside
 * blobs or unknown fields). Each test counts disagreements, prints the
 * first ones with the body, and asserts there were none. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../reference/compare.h"
#include "domain/ingest_validate.h"

#define W_ID "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
#define E_ID "3a2b1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d"
#define N_ID "0d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6a"

/* The contract's example with every field present (as in
 * test_ingest_validate.c), plus escapes and an unknown field. */
static const char full_payload[] =
    "{\"workflow_id\": \"" W_ID "\", \"session_id\": \"t\\u00e9st-123\", \"execution_id\": \"" E_ID "\","
    " \"status\": \"success\", \"started_at\": \"2024-11-26T12:00:00\","
    " \"completed_at\": \"2024-11-26T12:00:05Z\", \"duration_ms\": 5000.5, \"error\": null,"
    " \"metadata\": {\"env\": \"test\", \"n\": [1, -2.5e3, true, null]}, \"client\": {\"v\": 1},"
    " \"node_executions\": [{\"node_id\": \"" N_ID "\", \"node_name\": \"processor\","
    "   \"node_type\": \"AuditedNode\", \"status\": \"success\","
    "   \"started_at\": \"2024-11-26T12:00:00.100Z\", \"completed_at\": \"2024-11-26T12:00:00.203Z\","
    "   \"prep_duration_ms\": 1, \"exec_duration_ms\": 100, \"post_duration_ms\": 2,"
    "   \"retry_count\": 0, \"action\": \"default\", \"error\": \"line\\nbreak\"}, {\"node_name\": \"b\"}],"
    " \"telemetry_events\": [{\"event_type\": \"node_start\", \"timestamp\": \"2024-11-26T12:00:00.100Z\","
    "   \"node_name\": \"processor\", \"data\": {\"k\": \"v\\\"\\\\\\/\\ud83d\\ude00\"}}],"
    " \"telemetry_spans\": [{\"trace_id\": \"4bf92f3577b34da6a3ce929d0e0e4736\","
    "   \"span_id\": \"00f067aa0ba902b7\", \"parent_span_id\": null, \"name\": \"processor.exec\","
    "   \"kind\": \"internal\", \"start_time\": \"2024-11-26T12:00:00.101Z\","
    "   \"end_time\": \"2024-11-26T12:00:00.201Z\", \"duration_ms\": 100, \"status\": \"ok\","
    "   \"attributes\": {\"a\": 1}, \"node_name\": \"processor\"}],"
    " \"shared_state_snapshots\": [{\"sequence\": 0, \"timestamp\": \"2024-11-26T12:00:00.203Z\","
    "   \"node_name\": \"processor\", \"phase\": \"after\", \"state\": {\"count\": 1}}]}";

static struct config small_cfg(void)
{
    struct config c;
    memset(&c, 0, sizeof c);
    c.max_items = 3;
    c.max_depth = 8;
    c.max_string_bytes = 16;
    return c;
}

static struct config default_cfg(void)
{
    struct config c;
    memset(&c, 0, sizeof c);
    c.max_items = 100000;
    c.max_depth = 64;
    c.max_string_bytes = 65536;
    return c;
}

struct tally {
    size_t bodies;
    size_t disagreements;
};

/* Compares text under both configurations; prints the first few
 * disagreements. */
static void check(struct tally *t, const char *text, size_t len, bool exact, const char *what)
{
    struct config cfgs[2] = {small_cfg(), default_cfg()};
    for (int i = 0; i < 2; i++) {
        char report[1024];
        t->bodies++;
        if (ref_compare(&cfgs[i], text, len, exact, report, sizeof report) == 0)
            continue;
        if (t->disagreements++ < 5)
            fprintf(stderr, "%s (max_depth %d): %s\n  body: %.*s\n", what, cfgs[i].max_depth, report,
                    (int)(len < 400 ? len : 400), text);
    }
}

static void assert_agreed(const struct tally *t, size_t at_least)
{
    cr_assert_eq(t->disagreements, 0, "%zu of %zu comparisons disagree (first ones above)", t->disagreements,
                 t->bodies);
    cr_assert_geq(t->bodies, at_least, "only %zu bodies compared", t->bodies);
}

TestSuite(ingest_diff);

Test(ingest_diff, the_base_payload_is_valid_for_both)
{
    struct config cfg = small_cfg();
    struct ingest_summary sum;
    char path[128], msg[256], report[1024];
    cr_assert_eq(ingest_validate(&cfg, full_payload, strlen(full_payload), &sum, path, sizeof path, msg,
                                 sizeof msg),
                 INGEST_VALID, "%s", msg);
    cr_assert_eq(ref_compare(&cfg, full_payload, strlen(full_payload), true, report, sizeof report), 0, "%s",
                 report);
}

/* Each file under both configurations; and what the integration test
 * pins: n_ is bad JSON, y_ is not. */
static void suite_file(void *ctx, const char *name, const char *body, size_t len)
{
    check(ctx, body, len, false, name);
    if (len > 0 && (name[0] == 'n' || name[0] == 'y')) {
        struct config cfg = default_cfg();
        struct ingest_summary sum;
        char path[128], msg[256];
        enum ingest_verdict v = ingest_validate(&cfg, body, len, &sum, path, sizeof path, msg, sizeof msg);
        if (name[0] == 'n')
            cr_expect_eq(v, INGEST_BAD_JSON, "%s: should be bad JSON, got %s", name, msg);
        else
            cr_expect_neq(v, INGEST_BAD_JSON, "%s: valid JSON refused: %s", name, msg);
    }
}

Test(ingest_diff, every_jsontestsuite_file_gets_the_same_verdict)
{
    struct tally t = {0, 0};
    long files = ref_each_suite_file(suite_file, &t);
    if (files < 0)
        cr_skip_test("JSONTestSuite not found (set AGORA_JSONTESTSUITE)");
    cr_assert_gt(files, 300, "only %ld files", files);
    assert_agreed(&t, 600);
}

static void changed(void *ctx, const char *what, const char *body, size_t len)
{
    check(ctx, body, len, false, what);
}

Test(ingest_diff, every_single_byte_change_of_a_valid_payload_gets_the_same_verdict)
{
    static const char replacements[] = "\"\\{}[],: \t\n0159-+.eEnutfalsx\x00\x01\x7f\x80\xc3\xa9\xed\xff";
    struct tally t = {0, 0};
    ref_each_byte_change(full_payload, strlen(full_payload), replacements, sizeof replacements - 1, changed, &t);
    assert_agreed(&t, 50000);
}

/* ---- typed values in every field --------------------------------------- */

static const char *const targets[] = {
    "workflow_id", "session_id", "execution_id", "status", "started_at", "completed_at", "duration_ms",
    "error", "metadata", "client", "node_executions", "telemetry_events", "telemetry_spans",
    "shared_state_snapshots",
    "node_executions[0]", "node_executions[0].node_id", "node_executions[0].node_name",
    "node_executions[0].node_type", "node_executions[0].status", "node_executions[0].started_at",
    "node_executions[0].prep_duration_ms", "node_executions[0].retry_count", "node_executions[0].action",
    "node_executions[0].error", "node_executions[1]", "node_executions[1].node_id",
    "telemetry_events[0].event_type", "telemetry_events[0].timestamp", "telemetry_events[0].data",
    "telemetry_events[0].node_name", "telemetry_spans[0].trace_id", "telemetry_spans[0].span_id",
    "telemetry_spans[0].name", "telemetry_spans[0].start_time", "telemetry_spans[0].duration_ms",
    "telemetry_spans[0].status", "telemetry_spans[0].attributes", "shared_state_snapshots[0].sequence",
    "shared_state_snapshots[0].state", "shared_state_snapshots[0].phase", "shared_state_snapshots[0].extra",
    NULL,
};

static const char *const values[] = {
    NULL, /* removed */
    "null", "true", "false", "0", "-0", "5", "-1", "0.5", "-0.0", "1.0", "1e2", "1E+2", "2147483647",
    "2147483648", "1e15", "1000000000000001", "1e16", "18446744073709551616", "-9223372036854775809",
    "123456789012345678901234567890", "1e400", "-1e400", "1e-400", "2e-324", "5e-324", "1e-320",
    "1.7976931348623157e308", "1.7976931348623159e308", "0e999999999", "0.0000e-99999",
    "\"\"", "\"x\"", "\"abcdefghijklmnop\"", "\"abcdefghijklmnopq\"", "\"a\\u0000b\"", "\"a\\nb\"",
    "\"a\\u007fb\"", "\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"",
    "\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"", "\"\\ud83d\\ude00\"",
    "\"" W_ID "\"", "\"6F1C2A3B-4D5E-4F60-8A7B-9C0D1E2F3A4B\"", "\"6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4\\u0062\"",
    "\"running\"", "\"success\"", "\"error\"", "\"skipped\"", "\"ok\"", "\"unset\"", "\"r\\u0075nning\"",
    "\"2024-11-26T12:00:00Z\"", "\"2024-11-26T12:00:00.123456789+05:30\"", "\"2024-02-30T00:00:00Z\"",
    "\"2024-11-26T12:00:00\\u005a\"", "\"00f067aa0ba902b7\"", "\"0x1f\"",
    "[]", "[{}]", "[{}, {}, {}, {}]", "[5]", "[{\"node_name\": \"a\"}]", "[{\"node_name\": \"a\", \"node_id\": null}]",
    "[{\"event_type\": \"e\", \"timestamp\": \"2024-11-26T12:00:00Z\"}, 7]",
    "{}", "{\"a\": \"\\u0000\"}", "{\"a\": [1e400]}", "{\"a\": {\"b\": [\"x\", \"y\\u0000\"]}}",
    "{\"a\": 1e-400, \"b\": \"\\u0000\"}", "[[[[[[[[[1]]]]]]]]]", "{\"a\": [[[[[[[]]]]]]]}",
    NULL,
};

/* Sets, replaces or (value NULL) removes what target names in root. */
static void mutate(struct json_object *root, const char *target, const char *value)
{
    struct json_object *cur = root;
    const char *p = target;
    for (;;) {
        char key[64];
        size_t n = strcspn(p, ".[");
        memcpy(key, p, n);
        key[n] = '\0';
        p += n;
        if (*p == '\0') {
            if (!value)
                json_object_object_del(cur, key);
            else
                json_object_object_add(cur, key, json_tokener_parse(value));
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
        p = end + 1;
        if (*p == '\0') {
            json_object_array_put_idx(next, idx, json_tokener_parse(value ? value : "null"));
            return;
        }
        cur = json_object_array_get_idx(next, idx);
        p++;
    }
}

static void check_tree(struct tally *t, struct json_object *o, bool exact, const char *what)
{
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    check(t, text, strlen(text), exact, what);
    text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
    check(t, text, strlen(text), exact, what);
}

Test(ingest_diff, typed_values_in_every_field_get_the_same_verdict)
{
    struct tally t = {0, 0};
    size_t nvalues = sizeof values / sizeof values[0] - 1;
    for (const char *const *target = targets; *target; target++) {
        for (size_t v = 0; v < nvalues; v++) {
            struct json_object *o = json_tokener_parse(full_payload);
            char what[160];
            cr_assert_not_null(o);
            mutate(o, *target, values[v]);
            snprintf(what, sizeof what, "%s = %s", *target, values[v] ? values[v] : "(removed)");
            check_tree(&t, o, true, what);
            json_object_put(o);
        }
    }
    assert_agreed(&t, 10000);
}

/* A copy of obj with key: value inserted as its member number at (so a
 * key may repeat). */
static struct json_object *with_member_at(struct json_object *obj, size_t at, const char *key, const char *value)
{
    struct json_object *copy = json_object_new_object();
    size_t i = 0;
    json_object_object_foreach(obj, k, v) {
        if (i++ == at)
            json_object_object_add_ex(copy, key, json_tokener_parse(value), JSON_C_OBJECT_ADD_KEY_IS_NEW);
        json_object_object_add_ex(copy, k, json_object_get(v), JSON_C_OBJECT_ADD_KEY_IS_NEW);
    }
    if (i <= at)
        json_object_object_add_ex(copy, key, json_tokener_parse(value), JSON_C_OBJECT_ADD_KEY_IS_NEW);
    return copy;
}

Test(ingest_diff, repeated_schema_fields_get_the_same_verdict_the_last_one_winning)
{
    static const char *const body_keys[] = {"workflow_id", "session_id", "execution_id", "status",
                                            "started_at", "duration_ms", "metadata", "node_executions",
                                            "telemetry_events", NULL};
    static const char *const item_keys[] = {"node_id", "node_name", "status", "retry_count", "error", NULL};
    static const char *const dup_values[] = {
        "null", "5", "\"\"", "\"x\"", "\"success\"", "\"running\"", "\"" W_ID "\"", "\"2024-11-26T12:00:00Z\"",
        "{}", "{\"a\": \"\\u0000\"}", "[]", "[{}]", "[{\"node_name\": \"z\"}]", "-3", "7", NULL,
    };
    struct tally t = {0, 0};
    struct json_object *base = json_tokener_parse(full_payload);
    cr_assert_not_null(base);
    size_t members = (size_t)json_object_object_length(base);
    for (const char *const *k = body_keys; *k; k++) {
        for (const char *const *v = dup_values; *v; v++) {
            for (size_t at = 0; at <= members; at++) {
                struct json_object *o = with_member_at(base, at, *k, *v);
                char what[160];
                snprintf(what, sizeof what, "%s repeated as member %zu = %s", *k, at, *v);
                check_tree(&t, o, true, what);
                json_object_put(o);
            }
        }
    }
    struct json_object *items = json_object_object_get(base, "node_executions");
    struct json_object *item = json_object_array_get_idx(items, 0);
    size_t item_members = (size_t)json_object_object_length(item);
    for (const char *const *k = item_keys; *k; k++) {
        for (const char *const *v = dup_values; *v; v++) {
            for (size_t at = 0; at <= item_members; at += 3) {
                struct json_object *o = json_tokener_parse(full_payload);
                struct json_object *arr = json_object_object_get(o, "node_executions");
                json_object_array_put_idx(arr, 0, with_member_at(item, at, *k, *v));
                char what[160];
                snprintf(what, sizeof what, "node_executions[0].%s repeated as member %zu = %s", *k, at, *v);
                check_tree(&t, o, true, what);
                json_object_put(o);
            }
        }
    }
    json_object_put(base);
    assert_agreed(&t, 3000);
}

/* xorshift64*: a fixed sequence, so a failure reproduces. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

Test(ingest_diff, random_multi_byte_changes_get_the_same_verdict)
{
    static const char bytes[] = "\"\\{}[],:0-.e nu\x00\x80";
    size_t len = strlen(full_payload);
    char *body = malloc(len + 16);
    uint64_t seed = UINT64_C(0x9e3779b97f4a7c15);
    struct tally t = {0, 0};
    cr_assert_not_null(body);
    for (int round = 0; round < 20000; round++) {
        size_t n = len;
        memcpy(body, full_payload, len);
        int changes = 2 + (int)(next_random(&seed) % 3);
        for (int c = 0; c < changes && n > 1; c++) {
            size_t at = next_random(&seed) % n;
            uint64_t r = next_random(&seed);
            char b = bytes[(r >> 8) % (sizeof bytes - 1)];
            switch (r % 3) {
            case 0: /* replace */
                body[at] = b;
                break;
            case 1: /* delete */
                memmove(body + at, body + at + 1, n - at - 1);
                n--;
                break;
            default: /* insert */
                memmove(body + at + 1, body + at, n - at);
                body[at] = b;
                n++;
                break;
            }
        }
        char what[64];
        snprintf(what, sizeof what, "random round %d", round);
        check(&t, body, n, false, what);
    }
    free(body);
    assert_agreed(&t, 40000);
}
