/* Unit tests for the OTLP/JSON decoder (otlp_json.c, otlp_json_value.c):
 * a trace as the OpenTelemetry SDKs export it (an OpenAI chat call with
 * gen_ai.* attributes and events, a failed tool call) read into the
 * model; the proto3 mapping's freedoms (snake_case keys, enum names,
 * 64-bit integers as numbers or strings, nulls, unknown members); spans
 * rejected alone (ids, NUL) while the rest stands; requests refused whole
 * (not JSON, wrong types, values nested too deeply, the budget); and the
 * round trips through the reference encoders, JSON -> model -> protobuf
 * and JSON -> same model. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../reference/otlp_encode.h"
#include "otlp/otlp_decode.h"
#include "otlp_check.h"
#include "otlp_samples.h"

static struct otlp_request *decode_ok(const char *text)
{
    return otlp_test_decode_ok(OTLP_JSON, text, strlen(text));
}

static enum otlp_err decode_err(const char *text, char *why, size_t cap)
{
    struct otlp_request *req;
    return otlp_test_decode(OTLP_JSON, text, strlen(text), &req, why, cap);
}

/* A request of one span, the span's members given as JSON text. */
static char *one_span(const char *members)
{
    static const char fmt[] = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{%s}]}]}]}";
    char *text = malloc(sizeof fmt + strlen(members));
    sprintf(text, fmt, members);
    return text;
}

#define IDS "\"traceId\":\"" OTLP_TRACE_ID "\",\"spanId\":\"" OTLP_ROOT_ID "\","
#define TIMES "\"startTimeUnixNano\":\"1000\",\"endTimeUnixNano\":\"2000\""

static struct otlp_span *first_span(struct otlp_request *req)
{
    cr_assert_geq(req->n_resources, 1);
    cr_assert_geq(req->resources[0].n_scopes, 1);
    cr_assert_geq(req->resources[0].scopes[0].n_spans, 1);
    return &req->resources[0].scopes[0].spans[0];
}

TestSuite(otlp_json);

Test(otlp_json, an_openai_chat_trace_is_read_span_by_span)
{
    struct otlp_request *req = decode_ok(OTLP_OPENAI_TRACE);
    cr_assert_eq(req->n_spans, 3);
    cr_assert_eq(req->n_rejected, 0);
    struct otlp_resource *res = &req->resources[0];
    cr_assert_str_eq(otlp_test_attr(&res->attributes, "service.name"), "\"support-bot\"");
    struct otlp_scope *sc = &res->scopes[0];
    cr_assert_str_eq(sc->name, "opentelemetry.instrumentation.openai_v2");
    cr_assert_str_eq(sc->version, "2.1b0");
    cr_assert_str_eq(sc->schema_url, "");

    struct otlp_span *root = &sc->spans[0], *chat = &sc->spans[1], *tool = &sc->spans[2];
    static const uint8_t trace[16] = {0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03,
                                      0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c};
    static const uint8_t root_id[8] = {0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74};
    cr_assert_arr_eq(root->trace_id, trace, 16);
    cr_assert_arr_eq(root->span_id, root_id, 8);
    cr_assert_not(root->has_parent, "an empty parentSpanId is no parent");
    cr_assert_eq(root->kind, OTLP_KIND_SERVER);
    cr_assert_eq(root->flags, 257);
    cr_assert_eq(root->start_unix_nano, UINT64_C(1731600000000000000));
    cr_assert_eq(root->end_unix_nano, UINT64_C(1731600002350000000));
    cr_assert_eq(root->status_code, OTLP_STATUS_UNSET);
    cr_assert_str_eq(otlp_test_attr(&root->attributes, "http.response.status_code"), "200");

    cr_assert_str_eq(chat->name, "chat gpt-4o");
    cr_assert(chat->has_parent);
    cr_assert_arr_eq(chat->parent_span_id, root_id, 8);
    cr_assert_eq(chat->kind, OTLP_KIND_CLIENT);
    cr_assert_eq(chat->status_code, OTLP_STATUS_OK);
    cr_assert_str_eq(otlp_test_attr(&chat->attributes, "gen_ai.system"), "\"openai\"");
    cr_assert_str_eq(otlp_test_attr(&chat->attributes, "gen_ai.request.temperature"), "0.2");
    cr_assert_str_eq(otlp_test_attr(&chat->attributes, "gen_ai.usage.input_tokens"), "1250");
    cr_assert_str_eq(otlp_test_attr(&chat->attributes, "gen_ai.usage.output_tokens"), "87");
    cr_assert_str_eq(otlp_test_attr(&chat->attributes, "gen_ai.response.finish_reasons"), "[\"stop\"]");
    cr_assert_eq(chat->n_events, 2);
    cr_assert_str_eq(chat->events[1].name, "gen_ai.choice");
    cr_assert_eq(chat->events[1].time_unix_nano, UINT64_C(1731600001980000000));
    cr_assert_str_eq(otlp_test_attr(&chat->events[1].attributes, "message"),
                     "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"call_8GpX2\",\"type\":\"function\","
                     "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]}");

    cr_assert_eq(tool->kind, OTLP_KIND_INTERNAL);
    cr_assert_eq(tool->status_code, OTLP_STATUS_ERROR);
    cr_assert_str_eq(tool->status_message, "weather API timed out after 300 ms");
    cr_assert_eq(tool->n_events, 1);
    cr_assert_str_eq(tool->events[0].name, "exception");
    cr_assert_str_eq(otlp_test_attr(&tool->events[0].attributes, "exception.escaped"), "true");
    cr_assert(strstr(otlp_test_attr(&tool->events[0].attributes, "exception.stacktrace"), "line 42"));
    otlp_request_free(req);
}

Test(otlp_json, what_decodes_reencodes_to_the_same_model_in_either_format)
{
    struct otlp_request *req = decode_ok(OTLP_OPENAI_TRACE);
    otlp_test_round_trip(req);
    otlp_request_free(req);
}

Test(otlp_json, snake_case_keys_enum_names_and_numbers_read_as_the_canonical_form)
{
    struct otlp_request *canon = decode_ok(
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"scope\":{\"name\":\"s\"},\"spans\":[{" IDS
        "\"parentSpanId\":\"" OTLP_CHAT_ID "\",\"kind\":3," TIMES ",\"droppedAttributesCount\":2,"
        "\"attributes\":[{\"key\":\"n\",\"value\":{\"intValue\":\"-9007199254740992\"}}],"
        "\"status\":{\"code\":2,\"message\":\"m\"}}]}]}]}");
    struct otlp_request *other = decode_ok(
        "{\"resource_spans\":[{\"scope_spans\":[{\"scope\":{\"name\":\"s\"},\"spans\":[{"
        "\"trace_id\":\"" OTLP_TRACE_ID "\",\"span_id\":\"" OTLP_ROOT_ID "\",\"parent_span_id\":\"EEE19B7EC3C1B173\","
        "\"kind\":\"SPAN_KIND_CLIENT\",\"start_time_unix_nano\":1000,\"end_time_unix_nano\":2e3,"
        "\"dropped_attributes_count\":\"2\","
        "\"attributes\":[{\"key\":\"n\",\"value\":{\"int_value\":-9007199254740992}}],"
        "\"status\":{\"code\":\"STATUS_CODE_ERROR\",\"message\":\"m\"}}]}]}]}");
    char diff[256];
    cr_assert_eq(otlp_model_compare(canon, other, diff, sizeof diff), 0, "%s", diff);
    cr_assert_eq(first_span(other)->dropped_attributes_count, 2);
    otlp_request_free(canon);
    otlp_request_free(other);
}

Test(otlp_json, unknown_members_and_nulls_are_absent)
{
    char *text = one_span(IDS TIMES ",\"name\":null,\"attributes\":null,\"events\":null,\"status\":null,"
                          "\"futureField\":{\"deep\":[1,2,{\"x\":null}]},\"links\":[{\"traceId\":\"zz\"},{}],"
                          "\"kind\":null,\"parentSpanId\":null");
    struct otlp_request *req = decode_ok(text);
    struct otlp_span *s = first_span(req);
    cr_assert_str_eq(s->name, "");
    cr_assert_eq(s->attributes.n, 0);
    cr_assert_eq(s->n_events, 0);
    cr_assert_eq(s->n_links, 2, "links are counted, their members not read");
    cr_assert_not(s->has_parent);
    cr_assert_null(s->rejected);
    otlp_request_free(req);
    free(text);
}

Test(otlp_json, attribute_values_become_the_json_jsonb_stores)
{
    char *text = one_span(IDS TIMES ",\"attributes\":["
                          "{\"key\":\"big\",\"value\":{\"intValue\":\"9007199254740993\"}},"
                          "{\"key\":\"edge\",\"value\":{\"intValue\":-9007199254740992}},"
                          "{\"key\":\"min\",\"value\":{\"intValue\":\"-9223372036854775808\"}},"
                          "{\"key\":\"nan\",\"value\":{\"doubleValue\":\"NaN\"}},"
                          "{\"key\":\"inf\",\"value\":{\"doubleValue\":\"-Infinity\"}},"
                          "{\"key\":\"bytes\",\"value\":{\"bytesValue\":\"3q2+7w==\"}},"
                          "{\"key\":\"empty\",\"value\":{}},"
                          "{\"key\":\"arr\",\"value\":{\"arrayValue\":{\"values\":[{\"boolValue\":true},"
                          "{\"arrayValue\":{\"values\":[{\"doubleValue\":0.25}]}}]}}},"
                          "{\"key\":\"list\",\"value\":{\"kvlistValue\":{\"values\":["
                          "{\"key\":\"dup\",\"value\":{\"stringValue\":\"first\"}},"
                          "{\"key\":\"dup\",\"value\":{\"stringValue\":\"second\"}}]}}},"
                          "{\"key\":\"elist\",\"value\":{\"kvlistValue\":{}}},"
                          "{\"key\":\"dup\",\"value\":{\"stringValue\":\"first\"}},"
                          "{\"key\":\"dup\",\"value\":{\"stringValue\":\"second\"}},"
                          /* JSON's own spellings */
                          "{\"key\":\"url-safe\",\"value\":{\"bytesValue\":\"3q2-7w\"}},"
                          "{\"key\":\"nothing\"},"
                          "{\"key\":\"last\",\"value\":{\"stringValue\":\"a\",\"intValue\":1}},"
                          "{\"key\":\"esc\\u00e9\",\"value\":{\"stringValue\":\"tab\\tand \\ud83d\\ude00\"}}]");
    struct otlp_request *req = decode_ok(text);
    const struct otlp_attrs *a = &first_span(req)->attributes;
    otlp_test_values_are(a);
    cr_assert_str_eq(otlp_test_attr(a, "url-safe"), "\"3q2+7w==\"", "URL-safe, unpadded base64 comes out standard");
    cr_assert_str_eq(otlp_test_attr(a, "nothing"), "null");
    cr_assert_str_eq(otlp_test_attr(a, "last"), "1", "the last member of an AnyValue wins");
    cr_assert_str_eq(otlp_test_attr(a, "esc\xc3\xa9"), "\"tab\\tand \xf0\x9f\x98\x80\"");
    otlp_request_free(req);
    free(text);
}

/* Each case: a span's members, and why it is rejected. */
static const struct {
    const char *members;
    const char *why;
} rejected_spans[] = {
    {"\"traceId\":\"" OTLP_ROOT_ID "\",\"spanId\":\"" OTLP_ROOT_ID "\"," TIMES, "trace_id must be 16 bytes"},
    {"\"traceId\":\"" OTLP_TRACE_ID "\",\"spanId\":\"" OTLP_TRACE_ID "\"," TIMES, "span_id must be 8 bytes"},
    {"\"traceId\":\"" OTLP_TRACE_ID "\",\"spanId\":\"eee19b7ec3c1b17\"," TIMES, "span_id must be 8 bytes"},
    {"\"traceId\":\"5b8efff798038103d269b633813fc6zz\",\"spanId\":\"" OTLP_ROOT_ID "\"," TIMES,
     "an id is not a hex string"},
    {"\"traceId\":\"" OTLP_TRACE_ID "\"," TIMES, "span_id must be set, not all zeros"},
    {"\"traceId\":\"00000000000000000000000000000000\",\"spanId\":\"" OTLP_ROOT_ID "\"," TIMES,
     "trace_id must be set, not all zeros"},
    {IDS "\"parentSpanId\":\"eee19b\"," TIMES, "parent_span_id must be empty or 8 bytes"},
    {IDS "\"startTimeUnixNano\":\"2000\",\"endTimeUnixNano\":\"1000\"",
     "end_time_unix_nano is before start_time_unix_nano"},
    {IDS "\"endTimeUnixNano\":\"1000\"", "start_time_unix_nano must be set"},
    {IDS "\"startTimeUnixNano\":\"1\",\"endTimeUnixNano\":\"9223372036854775808\"", "a time is beyond the year 2262"},
    {IDS TIMES ",\"name\":\"a\\u0000b\"", "a string holds NUL (\\u0000)"},
    {IDS TIMES ",\"attributes\":[{\"key\":\"k\\u0000\",\"value\":{}}]", "a string holds NUL (\\u0000)"},
    {IDS TIMES ",\"events\":[{\"name\":\"e\",\"attributes\":[{\"key\":\"k\","
               "\"value\":{\"stringValue\":\"\\u0000\"}}]}]",
     "a string holds NUL (\\u0000)"},
};

Test(otlp_json, a_span_that_breaks_a_rule_is_rejected_and_the_others_kept)
{
    for (size_t i = 0; i < sizeof rejected_spans / sizeof *rejected_spans; i++) {
        static const char fmt[] = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":["
                                  "{" IDS TIMES ",\"name\":\"before\"},{%s},{" IDS TIMES ",\"name\":\"after\"}]}]}]}";
        char text[1024], msg[256];
        snprintf(text, sizeof text, fmt, rejected_spans[i].members);
        struct otlp_request *req = decode_ok(text);
        struct otlp_scope *sc = &req->resources[0].scopes[0];
        cr_assert_eq(req->n_spans, 3);
        cr_assert_eq(req->n_rejected, 1, "case %zu", i);
        cr_assert_null(sc->spans[0].rejected);
        cr_assert_str_eq(sc->spans[1].rejected, rejected_spans[i].why, "case %zu", i);
        cr_assert_null(sc->spans[2].rejected);
        otlp_rejection_message(req, msg, sizeof msg);
        cr_assert(strstr(msg, "1 of 3 spans rejected; the first (resourceSpans[0].scopeSpans[0].spans[1]): "),
                  "%s", msg);
        otlp_request_free(req);
    }
}

Test(otlp_json, a_resource_or_scope_that_breaks_a_rule_rejects_its_spans)
{
    struct otlp_request *req = decode_ok(
        "{\"resourceSpans\":["
        "{\"resource\":{\"attributes\":[{\"key\":\"a\\u0000\",\"value\":{}}]},"
        "\"scopeSpans\":[{\"spans\":[{" IDS TIMES "}]}]},"
        "{\"scopeSpans\":[{\"spans\":[{" IDS TIMES "}],\"scope\":{\"name\":\"\\u0000\"}},"
        "{\"spans\":[{" IDS TIMES "},{" IDS TIMES "}]}]}]}");
    cr_assert_eq(req->n_spans, 4);
    cr_assert_eq(req->n_rejected, 2);
    cr_assert_str_eq(req->resources[0].scopes[0].spans[0].rejected, "a string holds NUL (\\u0000)");
    cr_assert_str_eq(req->resources[1].scopes[0].spans[0].rejected, "a string holds NUL (\\u0000)",
                     "the scope's own rule, read after its spans");
    cr_assert_null(req->resources[1].scopes[1].spans[1].rejected);
    otlp_request_free(req);
}

/* Each case: a body, the error and the start of its reason. */
static const struct {
    const char *text;
    enum otlp_err err;
    const char *why;
} refused[] = {
    {"", OTLP_ERR_MALFORMED, "the body is not JSON: unexpected end of data"},
    {"[]", OTLP_ERR_MALFORMED, "the body is not a JSON object"},
    {"null", OTLP_ERR_MALFORMED, "the body is not a JSON object"},
    {"{\"resourceSpans\":[]} x", OTLP_ERR_MALFORMED, "the body is not JSON: unexpected word"},
    {"{\"resourceSpans\":[]} {", OTLP_ERR_MALFORMED, "the body is not JSON: unexpected character"},
    {"{\"resourceSpans\":[{]}", OTLP_ERR_MALFORMED, "the body is not JSON"},
    {"{\"resourceSpans\":[{\"x\":\"\xff\"}]}", OTLP_ERR_MALFORMED, "the body is not JSON: invalid UTF-8"},
    {"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"\\ud800\"}]}]}]}", OTLP_ERR_MALFORMED,
     "the body is not JSON: unpaired UTF-16 surrogate"},
    {"{\"resourceSpans\":{}}", OTLP_ERR_MALFORMED, "resourceSpans must be an array of objects"},
    {"{\"resourceSpans\":[1]}", OTLP_ERR_MALFORMED, "resourceSpans must be an array of objects"},
    {"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":5}]}]}]}", OTLP_ERR_MALFORMED,
     "name must be a string"},
    {"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":\"-1\"}]}]}]}", OTLP_ERR_MALFORMED,
     "times must be 64-bit unsigned integers"},
    {"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":\"18446744073709551616\"}]}]}]}",
     OTLP_ERR_MALFORMED, "times must be"},
    {"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":1.5}]}]}]}", OTLP_ERR_MALFORMED,
     "times must be"},
    {"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"flags\":4294967296}]}]}]}", OTLP_ERR_MALFORMED,
     "dropped counts and flags"},
    {"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":7}]}]}]}", OTLP_ERR_MALFORMED,
     "ids must be hex strings"},
    {"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"kind\":true}]}]}]}", OTLP_ERR_MALFORMED,
     "kind must be a SpanKind"},
    {"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":"
     "{\"intValue\":\"12a\"}}]}]}]}]}",
     OTLP_ERR_MALFORMED, "intValue must be a 64-bit integer"},
    {"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":"
     "{\"bytesValue\":\"a\"}}]}]}]}]}",
     OTLP_ERR_MALFORMED, "bytesValue must be base64"},
    {"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":"
     "{\"doubleValue\":1e999}}]}]}]}]}",
     OTLP_ERR_MALFORMED, "doubleValue must be a number"},
    {"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":\"v\"}]}]}]}]}",
     OTLP_ERR_MALFORMED, "an attribute's value must be an object"},
};

Test(otlp_json, a_body_that_is_not_a_request_is_refused_whole_with_a_reason)
{
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        char why[256] = "";
        enum otlp_err err = decode_err(refused[i].text, why, sizeof why);
        cr_assert_eq(err, refused[i].err, "case %zu: %s", i, why);
        cr_assert(strstr(why, refused[i].why), "case %zu: '%s' says nothing of '%s'", i, why, refused[i].why);
        cr_assert_eq(otlp_err_http(err), 400);
    }
}

/* An attribute whose value is depth AnyValues nested in kvlists. */
static char *nested(int depth)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{" IDS TIMES ",\"events\":[{\"attributes\":[");
    for (int i = 0; i < depth; i++)
        buf_puts(&b, "{\"key\":\"k\",\"value\":{\"kvlistValue\":{\"values\":[");
    for (int i = 0; i < depth; i++)
        buf_puts(&b, "]}}}");
    buf_puts(&b, "]}]}]}]}]}");
    return buf_steal(&b);
}

Test(otlp_json, values_nest_32_deep_and_no_deeper)
{
    char *ok = nested(OTLP_MAX_ANY_DEPTH), *deep = nested(OTLP_MAX_ANY_DEPTH + 1), *deeper = nested(100000);
    char why[256];
    struct otlp_request *req = decode_ok(ok);
    otlp_request_free(req);
    cr_assert_eq(decode_err(deep, why, sizeof why), OTLP_ERR_TOO_DEEP);
    cr_assert_str_eq(why, "attribute values are nested too deeply");
    cr_assert_eq(decode_err(deeper, why, sizeof why), OTLP_ERR_TOO_DEEP);
    free(ok);
    free(deep);
    free(deeper);
}

Test(otlp_json, a_request_beyond_its_decoding_budget_is_refused_as_too_large)
{
    /* 300,000 empty events: 3 bytes of text each, about 60 bytes of model
     * (the event, its name ""), beyond 16 times the text. */
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{" IDS TIMES ",\"events\":[");
    for (int i = 0; i < 300000; i++)
        buf_puts(&b, i ? ",{}" : "{}");
    buf_puts(&b, "]}]}]}]}");
    struct otlp_request *req;
    char why[256];
    cr_assert_eq(otlp_decode_json(b.data, b.len, &otlp_test_limits, &req, why, sizeof why), OTLP_ERR_DECODED_SIZE);
    cr_assert_str_eq(why, "the request is too large to decode");
    cr_assert_eq(otlp_err_http(OTLP_ERR_DECODED_SIZE), 413);
    /* with room for it, it decodes */
    struct otlp_limits roomy = {16u << 20, 100, 64, OTLP_DECODE_FLOOR};
    cr_assert_eq(otlp_decode_json(b.data, b.len, &roomy, &req, why, sizeof why), OTLP_OK, "%s", why);
    cr_assert_eq(req->resources[0].scopes[0].spans[0].n_events, 300000);
    otlp_request_free(req);
    buf_free(&b);
}

Test(otlp_json, an_empty_request_has_no_spans)
{
    struct otlp_request *req = decode_ok(" { } ");
    cr_assert_eq(req->n_resources, 0);
    cr_assert_eq(req->n_spans, 0);
    otlp_request_free(req);
    req = decode_ok("{\"resourceSpans\":[{},{\"scopeSpans\":[{}]}]}");
    cr_assert_eq(req->n_resources, 2);
    cr_assert_eq(req->n_spans, 0);
    cr_assert_str_eq(req->resources[1].scopes[0].name, "");
    otlp_request_free(req);
}
