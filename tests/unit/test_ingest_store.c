/* Unit tests for the pure parts of ingest.c: which Idempotency-Key values
 * are accepted (1..255 characters, each visible ASCII 0x21..0x7e), and
 * the shape and exact bytes of the ingest answer, which a replay must
 * repeat byte for byte. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "domain/ingest_store.h"

#define E_ID "3a2b1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d"

TestSuite(ingest_store);

/* ---- Idempotency-Key ---------------------------------------------------- */

/* Parameters hold no pointers: Criterion runs each case in a re-executed
 * process, where addresses of string literals may differ (ASLR). */
struct key_case {
    char key[48];
    bool valid;
    char why[48];
};

ParameterizedTestParameters(ingest_store, an_idempotency_key_is_visible_ascii_only)
{
    static struct key_case cases[] = {
        {"a", true, "one character"},
        {"!", true, "0x21, the lowest visible"},
        {"~", true, "0x7e, the highest visible"},
        {"3f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", true, "a UUID"},
        {"order:42/retry#1?x=\"y\"", true, "punctuation"},
        {"", false, "empty"},
        {" ", false, "a space"},
        {"a b", false, "a space inside"},
        {" key", false, "a leading space"},
        {"key ", false, "a trailing space"},
        {"key\t", false, "a tab"},
        {"key\n", false, "a line feed"},
        {"key\r\n", false, "CR LF"},
        {"\x01", false, "0x01"},
        {"a\x1f", false, "0x1f"},
        {"a\x7f", false, "DEL"},
        {"caf\xc3\xa9", false, "UTF-8 e acute"},
        {"\xe2\x82\xac", false, "UTF-8 euro sign"},
        {"a\x80", false, "a lone continuation byte"},
        {"a\xff", false, "0xff"},
    };
    return cr_make_param_array(struct key_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct key_case *tc, ingest_store, an_idempotency_key_is_visible_ascii_only)
{
    cr_assert_eq(ingest_idempotency_key_valid(tc->key), tc->valid, "%s", tc->why);
}

Test(ingest_store, a_missing_idempotency_key_is_not_valid)
{
    cr_assert_not(ingest_idempotency_key_valid(NULL));
}

Test(ingest_store, every_visible_ascii_character_is_allowed_in_one_key)
{
    char key[0x7f - 0x21 + 1];
    size_t n = 0;
    for (int c = 0x21; c <= 0x7e; c++)
        key[n++] = (char)c;
    key[n] = '\0';
    cr_assert_eq(n, 94);
    cr_assert(ingest_idempotency_key_valid(key), "%s", key);
}

Test(ingest_store, every_byte_outside_visible_ascii_is_refused)
{
    for (int c = 1; c <= 0xff; c++) {
        char key[4] = {'k', (char)c, 'k', '\0'};
        bool visible = c >= 0x21 && c <= 0x7e;
        cr_assert_eq(ingest_idempotency_key_valid(key), visible, "byte 0x%02x", (unsigned)c);
    }
}

struct length_case {
    size_t len;
    char fill;
    bool valid;
};

ParameterizedTestParameters(ingest_store, an_idempotency_key_has_at_most_255_characters)
{
    static struct length_case cases[] = {
        {1, 'k', true},   {2, 'k', true},   {254, 'k', true}, {255, 'k', true}, {255, '~', true},
        {256, 'k', false}, {257, 'k', false}, {1000, 'k', false}, {4096, '!', false},
    };
    return cr_make_param_array(struct length_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct length_case *tc, ingest_store, an_idempotency_key_has_at_most_255_characters)
{
    char key[4097];
    cr_assert_lt(tc->len, sizeof key);
    memset(key, tc->fill, tc->len);
    key[tc->len] = '\0';
    cr_assert_eq(ingest_idempotency_key_valid(key), tc->valid, "%zu characters", tc->len);
}

Test(ingest_store, the_key_limit_is_255)
{
    cr_assert_eq(INGEST_IDEM_KEY_MAX, 255);
}

Test(ingest_store, a_bad_character_past_the_limit_still_refuses_the_key)
{
    char key[300];
    memset(key, 'k', 256);
    key[256] = ' ';
    key[257] = '\0';
    cr_assert_not(ingest_idempotency_key_valid(key));
    key[100] = ' ';
    key[256] = 'k';
    cr_assert_not(ingest_idempotency_key_valid(key), "a space inside a long key");
}

/* ---- the answer --------------------------------------------------------- */

static struct ingest_result sample(void)
{
    struct ingest_result res;
    memset(&res, 0, sizeof res);
    res.http_status = 201;
    snprintf(res.execution_id, sizeof res.execution_id, "%s", E_ID);
    snprintf(res.status, sizeof res.status, "%s", "running");
    res.counts[IT_NODE_EXECUTIONS] = 3;
    res.counts[IT_TELEMETRY_SPANS] = 5;
    res.counts[IT_TELEMETRY_EVENTS] = 7;
    res.counts[IT_SHARED_STATE_SNAPSHOTS] = 0;
    return res;
}

/* The answer as store_answer keeps it and a replay sends it. */
static void answer_text(const struct ingest_result *res, char *out, size_t outlen)
{
    struct json_object *o = ingest_answer(res);
    cr_assert_not_null(o);
    snprintf(out, outlen, "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
}

/* obj's member key, which must be there with type t. Borrowed. */
static struct json_object *member(struct json_object *obj, const char *key, enum json_type t)
{
    struct json_object *v = NULL;
    cr_assert(json_object_object_get_ex(obj, key, &v), "no \"%s\" in %s", key, json_object_to_json_string(obj));
    cr_assert(json_object_is_type(v, t), "\"%s\" is a %s, not a %s", key,
              json_type_to_name(json_object_get_type(v)), json_type_to_name(t));
    return v;
}

Test(ingest_store, the_answer_has_exactly_execution_id_status_and_counts)
{
    struct ingest_result res = sample();
    struct json_object *o = ingest_answer(&res);
    cr_assert(json_object_is_type(o, json_type_object));
    cr_assert_eq(json_object_object_length(o), 3, "%s", json_object_to_json_string(o));
    cr_assert_str_eq(json_object_get_string(member(o, "execution_id", json_type_string)), E_ID);
    cr_assert_str_eq(json_object_get_string(member(o, "status", json_type_string)), "running");
    struct json_object *counts = member(o, "counts", json_type_object);
    cr_assert_eq(json_object_object_length(counts), IT_COUNT);
    json_object_put(o);
}

Test(ingest_store, counts_are_integers_named_after_the_four_tables)
{
    struct ingest_result res = sample();
    struct json_object *o = ingest_answer(&res);
    struct json_object *counts = member(o, "counts", json_type_object);
    static const char *const names[] = {"node_executions", "telemetry_spans", "telemetry_events",
                                        "shared_state_snapshots"};
    static const long long want[] = {3, 5, 7, 0};
    for (int i = 0; i < IT_COUNT; i++)
        cr_assert_eq(json_object_get_int64(member(counts, names[i], json_type_int)), want[i], "%s", names[i]);
    json_object_put(o);
}

Test(ingest_store, the_answer_text_is_exact)
{
    struct ingest_result res = sample();
    char text[512];
    answer_text(&res, text, sizeof text);
    cr_assert_str_eq(text, "{\"execution_id\":\"" E_ID "\",\"status\":\"running\",\"counts\":{"
                           "\"node_executions\":3,\"telemetry_spans\":5,\"telemetry_events\":7,"
                           "\"shared_state_snapshots\":0}}");
}

Test(ingest_store, the_http_status_and_replay_flag_do_not_change_the_bytes)
{
    struct ingest_result first = sample(), replay = sample();
    char a[512], b[512];
    replay.http_status = 200;
    replay.replayed = true;
    snprintf(replay.path, sizeof replay.path, "%s", "ignored");
    answer_text(&first, a, sizeof a);
    answer_text(&replay, b, sizeof b);
    cr_assert_str_eq(a, b);
}

Test(ingest_store, large_counts_stay_exact)
{
    struct ingest_result res = sample();
    res.counts[IT_TELEMETRY_EVENTS] = 9007199254740993LL; /* 2^53 + 1: not a double */
    res.counts[IT_TELEMETRY_SPANS] = 9223372036854775807LL;
    char text[512];
    answer_text(&res, text, sizeof text);
    cr_assert(strstr(text, "\"telemetry_events\":9007199254740993,") != NULL, "%s", text);
    cr_assert(strstr(text, "\"telemetry_spans\":9223372036854775807,") != NULL, "%s", text);
}

struct status_case {
    char status[16];
};

ParameterizedTestParameters(ingest_store, the_status_is_passed_through)
{
    static struct status_case cases[] = {{"running"}, {"success"}, {"error"}, {"cancelled"}};
    return cr_make_param_array(struct status_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct status_case *tc, ingest_store, the_status_is_passed_through)
{
    struct ingest_result res = sample();
    snprintf(res.status, sizeof res.status, "%s", tc->status);
    struct json_object *o = ingest_answer(&res);
    cr_assert_str_eq(json_object_get_string(member(o, "status", json_type_string)), tc->status);
    json_object_put(o);
}

Test(ingest_store, the_answer_is_a_new_reference_owned_by_the_caller)
{
    struct ingest_result res = sample();
    struct json_object *o = ingest_answer(&res);
    /* Changing res afterwards does not change the answer: it holds copies. */
    snprintf(res.execution_id, sizeof res.execution_id, "%s", "changed");
    res.counts[IT_NODE_EXECUTIONS] = 99;
    cr_assert_str_eq(json_object_get_string(member(o, "execution_id", json_type_string)), E_ID);
    cr_assert_eq(json_object_get_int64(member(member(o, "counts", json_type_object), "node_executions",
                                              json_type_int)),
                 3);
    cr_assert_eq(json_object_put(o), 1, "the caller's put frees it");
}
