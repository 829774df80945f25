/* Unit tests for otlp_map.c: which spans are workflow nodes and what they
 * are called, the usage a span reports, the session of a trace, and the
 * deterministic ids. Spans are decoded from small OTLP JSON bodies, so the
 * cases read as what an exporter sends. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "domain/otlp_map.h"
#include "otlp/otlp_decode.h"

static struct otlp_request *req;

static void drop(void)
{
    otlp_request_free(req);
    req = NULL;
}

TestSuite(otlp_map, .fini = drop);

/* The one span of a body whose span has the attributes attrs (OTLP JSON's
 * list) and, with parent, a parent; the resource's attributes res. */
static const struct otlp_span *decode(const char *res, const char *attrs, bool parent)
{
    char body[4096];
    snprintf(body, sizeof body,
             "{\"resourceSpans\":[{\"resource\":{\"attributes\":[%s]},\"scopeSpans\":[{\"spans\":[{"
             "\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"a1a2a3a4a5a6a7a8\",%s"
             "\"name\":\"the span\",\"startTimeUnixNano\":\"1\",\"endTimeUnixNano\":\"2\","
             "\"attributes\":[%s]}]}]}]}",
             res, parent ? "\"parentSpanId\":\"b1b2b3b4b5b6b7b8\"," : "", attrs);
    char why[128];
    drop();
    struct otlp_limits lim = OTLP_LIMITS_DEFAULT(1 << 20);
    cr_assert_eq(otlp_decode_json(body, strlen(body), &lim, &req, why, sizeof why), OTLP_OK, "%s: %s", body, why);
    const struct otlp_span *s = &req->resources[0].scopes[0].spans[0];
    cr_assert_null(s->rejected, "%s", s->rejected);
    return s;
}

#define S(k, v) "{\"key\":\"" k "\",\"value\":{\"stringValue\":\"" v "\"}}"
#define I(k, v) "{\"key\":\"" k "\",\"value\":{\"intValue\":\"" #v "\"}}"

struct node_case {
    const char *attrs;
    bool parent;
    const char *name, *type; /* name NULL: not a node */
};

Test(otlp_map, each_rule_names_the_node_and_its_type_and_the_first_that_applies_wins)
{
    static const struct node_case cases[] = {
        {"", true, NULL, NULL},
        {S("http.request.method", "GET"), true, NULL, NULL},
        {S("agora.node.name", "fetch"), false, "fetch", "node"},
        {S("agora.node.name", "fetch") "," S("agora.node.type", "Fetcher"), true, "fetch", "Fetcher"},
        {S("agora.node.name", "") "," S("gen_ai.operation.name", "chat"), true, "the span", "llm"},
        {S("agora.node.name", "fetch") "," S("traceloop.span.kind", "tool"), true, "fetch", "node"},
        {S("traceloop.span.kind", "task"), true, "the span", "task"},
        {S("traceloop.span.kind", "tool") "," S("traceloop.entity.name", "search"), true, "search", "tool"},
        {S("traceloop.span.kind", "agent"), false, "the span", "agent"},
        {S("traceloop.span.kind", "workflow"), false, NULL, NULL}, /* the execution itself */
        {S("traceloop.span.kind", "workflow"), true, "the span", "workflow"},
        {S("traceloop.span.kind", "unknown"), true, NULL, NULL},
        {S("gen_ai.operation.name", "invoke_agent") "," S("gen_ai.agent.name", "planner"), false, "planner", "agent"},
        {S("gen_ai.operation.name", "invoke_agent"), true, "the span", "agent"},
        {S("gen_ai.operation.name", "execute_tool") "," S("gen_ai.tool.name", "search"), true, "search", "tool"},
        {S("gen_ai.operation.name", "embeddings"), true, "the span", "embedding"},
        {S("gen_ai.operation.name", "text_completion"), true, "the span", "llm"},
        {S("gen_ai.operation.name", "something_new"), true, NULL, NULL},
        {S("openinference.span.kind", "LLM"), true, "the span", "llm"},
        {S("openinference.span.kind", "TOOL") "," S("tool.name", "calc"), true, "calc", "tool"},
        {S("openinference.span.kind", "chain"), true, "the span", "chain"},
        {S("openinference.span.kind", "RETRIEVER"), true, "the span", "retriever"},
        {I("gen_ai.usage.output_tokens", 5), true, "the span", "llm"}, /* usage makes a node */
        {I("llm.token_count.total", 5), true, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct otlp_span *s = decode("", cases[i].attrs, cases[i].parent);
        struct otlp_node_role role;
        bool node = otlp_span_node(s, &role);
        cr_expect_eq(node, cases[i].name != NULL, "case %zu: %s", i, cases[i].attrs);
        if (!node || !cases[i].name)
            continue;
        cr_expect_str_eq(role.name, cases[i].name, "case %zu", i);
        cr_expect_str_eq(role.type, cases[i].type, "case %zu", i);
    }
}

Test(otlp_map, usage_reads_current_deprecated_and_openinference_names_first_found_wins)
{
    struct otlp_usage u;
    const struct otlp_span *s =
        decode("", I("gen_ai.usage.input_tokens", 100) "," I("gen_ai.usage.prompt_tokens", 7) ","
                   I("gen_ai.usage.output_tokens", 20) "," I("gen_ai.usage.cache_read.input_tokens", 30) ","
                   S("gen_ai.request.model", "gpt-4o") "," S("gen_ai.response.model", "gpt-4o-2024-08-06") ","
                   S("gen_ai.system", "openai") "," S("gen_ai.provider.name", "azure.ai.openai"),
               true);
    cr_assert(otlp_span_usage(&s->attributes, &u));
    cr_expect_eq(u.input, 100);
    cr_expect_eq(u.output, 20);
    cr_expect_eq(u.cache_read, 30);
    cr_expect_eq(u.cache_creation, -1);
    cr_expect_str_eq(u.model, "gpt-4o-2024-08-06");
    cr_expect_str_eq(u.provider, "azure.ai.openai");

    s = decode("", I("gen_ai.usage.prompt_tokens", 7) "," I("gen_ai.usage.completion_tokens", 8) ","
                   S("gen_ai.system", "anthropic") "," S("gen_ai.request.model", "claude"),
               true);
    cr_assert(otlp_span_usage(&s->attributes, &u));
    cr_expect(u.input == 7 && u.output == 8);
    cr_expect_str_eq(u.provider, "anthropic");
    cr_expect_str_eq(u.model, "claude");

    s = decode("", I("llm.token_count.prompt", 11) "," I("llm.token_count.completion", 12) ","
                   I("llm.token_count.prompt_details.cache_write", 3) "," S("llm.model_name", "m") ","
                   S("llm.provider", "p"),
               true);
    cr_assert(otlp_span_usage(&s->attributes, &u));
    cr_expect(u.input == 11 && u.output == 12 && u.cache_creation == 3);
    cr_expect_str_eq(u.model, "m");
    cr_expect_str_eq(u.provider, "p");
}

Test(otlp_map, counts_out_of_range_or_of_another_type_are_absent_and_strings_of_digits_count)
{
    struct otlp_usage u;
    const struct otlp_span *s =
        decode("", I("gen_ai.usage.input_tokens", -1) "," I("gen_ai.usage.output_tokens", 2147483648) ","
                   S("gen_ai.usage.prompt_tokens", "12") ","
                   "{\"key\":\"gen_ai.usage.completion_tokens\",\"value\":{\"doubleValue\":3.5}}",
               true);
    cr_assert(otlp_span_usage(&s->attributes, &u));
    cr_expect_eq(u.input, 12); /* the deprecated name, as a decimal string */
    cr_expect_eq(u.output, -1);
    cr_expect_null(u.model);

    s = decode("", "{\"key\":\"gen_ai.usage.output_tokens\",\"value\":{\"doubleValue\":9.0}}", true);
    cr_assert(otlp_span_usage(&s->attributes, &u));
    cr_expect_eq(u.output, 9);
    cr_expect_eq(u.input, -1);

    s = decode("", I("llm.token_count.total", 50) "," S("gen_ai.request.model", "gpt-4o"), true);
    cr_expect_not(otlp_span_usage(&s->attributes, &u));
}

Test(otlp_map, the_session_is_the_spans_then_the_resources_else_none)
{
    const struct otlp_span *s = decode(S("session.id", "res"), S("gen_ai.conversation.id", "conv"), true);
    const struct otlp_attrs *res = &req->resources[0].attributes;
    cr_expect_str_eq(otlp_session_of(&s->attributes, res), "conv");
    cr_expect_str_eq(otlp_session_of(NULL, res), "res");

    s = decode("", S("gen_ai.conversation.id", "conv") "," S("session.id", "sess"), true);
    cr_expect_str_eq(otlp_session_of(&s->attributes, &req->resources[0].attributes), "sess");

    s = decode("", S("session.id", ""), true);
    cr_expect_null(otlp_session_of(&s->attributes, &req->resources[0].attributes));
}

Test(otlp_map, ids_are_derived_from_workflow_and_trace_and_from_execution_and_span)
{
    static const uint8_t trace[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static const uint8_t span[8] = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8};
    char ex[UUID_STR_LEN + 1], again[UUID_STR_LEN + 1], other[UUID_STR_LEN + 1], node[UUID_STR_LEN + 1];

    otlp_execution_id("123e4567-e89b-12d3-a456-426614174000", trace, ex);
    otlp_execution_id("123e4567-e89b-12d3-a456-426614174000", trace, again);
    otlp_execution_id("123e4567-e89b-12d3-a456-426614174001", trace, other);
    /* The same vector as tests/integration/otlp_bodies.py computes. */
    cr_expect_str_eq(ex, "2c7bf65f-ecd3-868a-8e48-f7eb9d1034e4");
    cr_expect_str_eq(ex, again);
    cr_expect_str_neq(ex, other);
    cr_expect(uuid_valid(ex) && ex[14] == '8' && strchr("89ab", ex[19]));

    otlp_node_execution_id(ex, span, node);
    cr_expect_str_eq(node, "5ae82fb6-859e-872f-80b8-98663e7f482d");
}

Test(otlp_map, kinds_and_statuses_are_stored_as_words)
{
    cr_expect_null(otlp_kind_text(OTLP_KIND_UNSPECIFIED));
    cr_expect_str_eq(otlp_kind_text(OTLP_KIND_CLIENT), "client");
    cr_expect_str_eq(otlp_kind_text(OTLP_KIND_CONSUMER), "consumer");
    cr_expect_null(otlp_kind_text((enum otlp_span_kind)9));
    cr_expect_str_eq(otlp_status_text(OTLP_STATUS_UNSET), "unset");
    cr_expect_str_eq(otlp_status_text(OTLP_STATUS_OK), "ok");
    cr_expect_str_eq(otlp_status_text(OTLP_STATUS_ERROR), "error");
}
