/* The span mapping rules of otlp_map.h: which spans are workflow nodes,
 * what usage they report, which session they belong to, and their
 * deterministic ids. The attribute names are those of the OpenTelemetry
 * GenAI semantic conventions (and their deprecated spellings), OpenLLMetry
 * (traceloop.*) and OpenInference, so the common instrumentations map
 * without configuration. */
#include "domain/otlp_map.h"

#include <math.h>
#include <string.h>
#include <strings.h>

#include "util/text.h"

const char *otlp_attr_string(const struct otlp_attrs *a, const char *key)
{
    bool found;
    struct json_object *v = otlp_attr_get(a, key, &found);
    if (!v || !json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0)
        return NULL;
    return json_object_get_string(v);
}

/* A token count: 0..INT32_MAX as an integer, an integral double or a
 * decimal string; -1 otherwise. */
static int64_t attr_count(const struct otlp_attrs *a, const char *key)
{
    bool found;
    struct json_object *v = otlp_attr_get(a, key, &found);
    long long n = -1;
    if (!v)
        return -1;
    switch (json_object_get_type(v)) {
    case json_type_int:
        n = json_object_get_int64(v);
        break;
    case json_type_double: {
        double d = json_object_get_double(v);
        if (d >= 0 && d <= INT32_MAX && floor(d) == d)
            n = (long long)d;
        break;
    }
    case json_type_string:
        if (decimal_parse(json_object_get_string(v), INT32_MAX, &n) != 0)
            n = -1;
        break;
    default:
        break;
    }
    return n >= 0 && n <= INT32_MAX ? n : -1;
}

/* The first of keys (NULL-terminated) present as a count. */
static int64_t first_count(const struct otlp_attrs *a, const char *const *keys)
{
    for (; *keys; keys++) {
        int64_t n = attr_count(a, *keys);
        if (n >= 0)
            return n;
    }
    return -1;
}

/* The first of keys present as a string of 1..200 bytes (the price
 * table's bound on model and provider names). */
static const char *first_name(const struct otlp_attrs *a, const char *const *keys)
{
    for (; *keys; keys++) {
        const char *s = otlp_attr_string(a, *keys);
        if (s && strlen(s) <= 200)
            return s;
    }
    return NULL;
}

bool otlp_span_usage(const struct otlp_attrs *a, struct otlp_usage *u)
{
    static const char *const input[] = {"gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens",
                                        "llm.token_count.prompt", NULL};
    static const char *const output[] = {"gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens",
                                         "llm.token_count.completion", NULL};
    static const char *const cache_read[] = {"gen_ai.usage.cache_read.input_tokens",
                                             "llm.token_count.prompt_details.cache_read", NULL};
    static const char *const cache_creation[] = {"gen_ai.usage.cache_creation.input_tokens",
                                                 "llm.token_count.prompt_details.cache_write", NULL};
    static const char *const model[] = {"gen_ai.response.model", "gen_ai.request.model", "llm.model_name", NULL};
    static const char *const provider[] = {"gen_ai.provider.name", "gen_ai.system", "llm.provider", NULL};

    u->input = first_count(a, input);
    u->output = first_count(a, output);
    u->cache_read = first_count(a, cache_read);
    u->cache_creation = first_count(a, cache_creation);
    u->model = first_name(a, model);
    u->provider = first_name(a, provider);
    return u->input >= 0 || u->output >= 0;
}

/* Rule 2: OpenLLMetry's span kinds. */
static bool traceloop_node(const struct otlp_span *s, struct otlp_node_role *out)
{
    static const char *const kinds[] = {"task", "agent", "tool", "workflow"};
    const char *kind = otlp_attr_string(&s->attributes, "traceloop.span.kind");
    if (!kind)
        return false;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(kind, kinds[i]) != 0)
            continue;
        if (strcmp(kind, "workflow") == 0 && !s->has_parent)
            return false;
        const char *name = otlp_attr_string(&s->attributes, "traceloop.entity.name");
        *out = (struct otlp_node_role){name ? name : s->name, kinds[i]};
        return true;
    }
    return false;
}

/* Rule 3: the GenAI semantic conventions' operations. */
static bool genai_node(const struct otlp_span *s, struct otlp_node_role *out)
{
    static const struct {
        const char *op, *type, *name_attr;
    } ops[] = {
        {"invoke_agent", "agent", "gen_ai.agent.name"},
        {"create_agent", "agent", "gen_ai.agent.name"},
        {"execute_tool", "tool", "gen_ai.tool.name"},
        {"chat", "llm", NULL},
        {"text_completion", "llm", NULL},
        {"generate_content", "llm", NULL},
        {"embeddings", "embedding", NULL},
    };
    const char *op = otlp_attr_string(&s->attributes, "gen_ai.operation.name");
    if (!op)
        return false;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (strcmp(op, ops[i].op) != 0)
            continue;
        const char *name = ops[i].name_attr ? otlp_attr_string(&s->attributes, ops[i].name_attr) : NULL;
        *out = (struct otlp_node_role){name ? name : s->name, ops[i].type};
        return true;
    }
    return false;
}

/* Rule 4: OpenInference's span kinds (upper case on the wire). */
static bool openinference_node(const struct otlp_span *s, struct otlp_node_role *out)
{
    static const char *const kinds[][2] = {
        {"LLM", "llm"},           {"AGENT", "agent"},         {"TOOL", "tool"},
        {"CHAIN", "chain"},       {"RETRIEVER", "retriever"}, {"EMBEDDING", "embedding"},
        {"RERANKER", "reranker"}, {"GUARDRAIL", "guardrail"}, {"EVALUATOR", "evaluator"},
    };
    const char *kind = otlp_attr_string(&s->attributes, "openinference.span.kind");
    if (!kind)
        return false;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcasecmp(kind, kinds[i][0]) != 0)
            continue;
        const char *name = i == 2 ? otlp_attr_string(&s->attributes, "tool.name") : NULL;
        *out = (struct otlp_node_role){name ? name : s->name, kinds[i][1]};
        return true;
    }
    return false;
}

bool otlp_span_node(const struct otlp_span *s, struct otlp_node_role *out)
{
    struct otlp_usage u;
    const char *name = otlp_attr_string(&s->attributes, "agora.node.name");
    if (name) {
        const char *type = otlp_attr_string(&s->attributes, "agora.node.type");
        *out = (struct otlp_node_role){name, type ? type : "node"};
        return true;
    }
    if (traceloop_node(s, out) || genai_node(s, out) || openinference_node(s, out))
        return true;
    if (otlp_span_usage(&s->attributes, &u)) {
        *out = (struct otlp_node_role){s->name, "llm"};
        return true;
    }
    *out = (struct otlp_node_role){NULL, NULL};
    return false;
}

const char *otlp_session_of(const struct otlp_attrs *span, const struct otlp_attrs *resource)
{
    static const char *const keys[] = {"session.id", "gen_ai.conversation.id"};
    const struct otlp_attrs *sets[] = {span, resource};
    for (size_t i = 0; i < 2; i++)
        for (size_t k = 0; k < 2; k++) {
            const char *v = sets[i] ? otlp_attr_string(sets[i], keys[k]) : NULL;
            if (v)
                return v;
        }
    return NULL;
}

void otlp_execution_id(const char *workflow_id, const uint8_t trace_id[16], char out[UUID_STR_LEN + 1])
{
    uint8_t name[UUID_STR_LEN + 16];
    memcpy(name, workflow_id, UUID_STR_LEN);
    memcpy(name + UUID_STR_LEN, trace_id, 16);
    uuid_v8_name("agora.otlp.execution", name, sizeof name, out);
}

void otlp_node_execution_id(const char *execution_id, const uint8_t span_id[8], char out[UUID_STR_LEN + 1])
{
    uint8_t name[UUID_STR_LEN + 8];
    memcpy(name, execution_id, UUID_STR_LEN);
    memcpy(name + UUID_STR_LEN, span_id, 8);
    uuid_v8_name("agora.otlp.node_execution", name, sizeof name, out);
}

const char *otlp_kind_text(enum otlp_span_kind k)
{
    static const char *const names[] = {
        [OTLP_KIND_UNSPECIFIED] = NULL,  [OTLP_KIND_INTERNAL] = "internal", [OTLP_KIND_SERVER] = "server",
        [OTLP_KIND_CLIENT] = "client",   [OTLP_KIND_PRODUCER] = "producer", [OTLP_KIND_CONSUMER] = "consumer",
    };
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : NULL;
}

const char *otlp_status_text(enum otlp_status_code c)
{
    return c == OTLP_STATUS_OK ? "ok" : c == OTLP_STATUS_ERROR ? "error" : "unset";
}
