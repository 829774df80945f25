/* What an OpenTelemetry span is to Agora (README "OpenTelemetry", the
 * mapping table): whether it is a workflow node and which, the GenAI usage
 * it reports, the session its trace belongs to, and the deterministic ids
 * that let a resent or later batch find the rows an earlier one made.
 * Pure functions of the decoded model (otlp_model.h); otlp_store.c uses
 * them, tests/unit/test_otlp_map.c pins them. */
#ifndef AGORA_OTLP_MAP_H
#define AGORA_OTLP_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include "otlp/otlp_model.h"
#include "util/uuid.h"

/* The resource attributes that place a resource's spans. */
#define OTLP_ATTR_WORKFLOW "agora.workflow.id"
#define OTLP_ATTR_PROJECT "agora.project.id"
#define OTLP_ATTR_SERVICE "service.name"
/* A resource without service.name: OTel's own default, without the SDK's
 * ":language" suffix. */
#define OTLP_UNKNOWN_SERVICE "unknown_service"

/* A span that is a workflow node: its node's name and type. Both borrowed
 * from the span (an attribute's value or its name) or static text. */
struct otlp_node_role {
    const char *name;
    const char *type;
};

/* Whether s is a node, and as what. The first rule that applies:
 *   1. agora.node.name (a non-empty string): that name, type agora.node.type
 *      or "node";
 *   2. traceloop.span.kind task, agent or tool, or workflow when the span
 *      has a parent (a root workflow span is the execution itself): name
 *      traceloop.entity.name or the span's name, type the kind;
 *   3. gen_ai.operation.name: invoke_agent and create_agent (type agent,
 *      name gen_ai.agent.name), execute_tool (tool, gen_ai.tool.name),
 *      chat, text_completion, generate_content (llm), embeddings
 *      (embedding), the span's name when the named attribute is absent;
 *   4. openinference.span.kind (LLM, AGENT, TOOL, CHAIN, RETRIEVER,
 *      EMBEDDING, RERANKER, GUARDRAIL, EVALUATOR): name tool.name for a
 *      tool, else the span's name, type the kind in lower case;
 *   5. a span that reports token usage (otlp_span_usage): the span's name,
 *      type llm, so usage always lands on a node execution of its own.
 * Anything else is a span only. */
bool otlp_span_node(const struct otlp_span *s, struct otlp_node_role *out);

/* GenAI usage of a span, -1 for an absent count, NULL for an absent name. */
struct otlp_usage {
    int64_t input, output, cache_read, cache_creation;
    const char *model, *provider;
};
/* Reads the usage attributes of a span (each first found wins):
 *   input:  gen_ai.usage.input_tokens, gen_ai.usage.prompt_tokens,
 *           llm.token_count.prompt
 *   output: gen_ai.usage.output_tokens, gen_ai.usage.completion_tokens,
 *           llm.token_count.completion
 *   cache:  gen_ai.usage.cache_read.input_tokens, llm.token_count.prompt_details.cache_read;
 *           gen_ai.usage.cache_creation.input_tokens, llm.token_count.prompt_details.cache_write
 *   model:  gen_ai.response.model, gen_ai.request.model, llm.model_name
 *   provider: gen_ai.provider.name, gen_ai.system, llm.provider
 * A count is an integer (or integral double, or decimal string) from 0 to
 * 2^31-1; anything else is absent. llm.token_count.total alone (no split)
 * is not usage: a cost needs input and output apart. True when the span
 * reports input or output tokens. */
bool otlp_span_usage(const struct otlp_attrs *a, struct otlp_usage *u);

/* The session of a span's execution: the span's session.id or
 * gen_ai.conversation.id, else the resource's (borrowed), else NULL (the
 * caller uses the trace id in hex). */
const char *otlp_session_of(const struct otlp_attrs *span, const struct otlp_attrs *resource);

/* The value of the string attribute key when it is a non-empty string,
 * else NULL (borrowed). */
const char *otlp_attr_string(const struct otlp_attrs *a, const char *key);

/* The execution of a trace in a workflow, and the node execution of a span
 * in an execution (its client id, sql/006): name-based UUIDs (util/uuid.h),
 * the same for every batch and every resend. */
void otlp_execution_id(const char *workflow_id, const uint8_t trace_id[16], char out[UUID_STR_LEN + 1]);
void otlp_node_execution_id(const char *execution_id, const uint8_t span_id[8], char out[UUID_STR_LEN + 1]);

/* The span kind and status as telemetry_spans stores them ("internal", ...;
 * NULL for unspecified; "ok", "error", "unset"). */
const char *otlp_kind_text(enum otlp_span_kind k);
const char *otlp_status_text(enum otlp_status_code c);

#endif
