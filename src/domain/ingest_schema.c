/* The ingest payload's schema (CONTRACT.md section 4) as data: one field
 * table per kind of object, the enums' choices, and the wording of every
 * failure the validator (ingest_validate.c) can report. */
#include "domain/ingest_schema.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/text.h"

const char *const ingest_table_names[IT_COUNT] = {
    "node_executions",
    "telemetry_spans",
    "telemetry_events",
    "shared_state_snapshots",
};

const char *const ingest_member_names[IM_COUNT] = {
    [IM_NODE_EXECUTIONS] = "node_executions",
    [IM_COMPLETED_AT] = "completed_at",
    [IM_DURATION_MS] = "duration_ms",
    [IM_ERROR] = "error",
    [IM_METADATA] = "metadata",
};

const char *const execution_statuses[] = {"running", "success", "error", "cancelled", NULL};
static const char *const node_statuses[] = {"success", "error", "skipped", "running", NULL};
static const char *const span_statuses[] = {"ok", "error", "unset", NULL};
const char *const *const choice_lists[] = {
    [C_EXECUTION_STATUS] = execution_statuses,
    [C_NODE_STATUS] = node_statuses,
    [C_SPAN_STATUS] = span_statuses,
};
/* For messages, in the same order. */
static const char *const choice_texts[] = {
    [C_EXECUTION_STATUS] = "running, success, error, cancelled",
    [C_NODE_STATUS] = "success, error, skipped, running",
    [C_SPAN_STATUS] = "ok, error, unset",
};

#define REQ 1
#define OPT 0

const struct field body_fields[] = {
    {"workflow_id", sizeof "workflow_id" - 1, K_UUID, REQ, 0, N_WORKFLOW_ID, 0},
    {"session_id", sizeof "session_id" - 1, K_NAME, REQ, 0, N_SESSION_ID, 0},
    {"execution_id", sizeof "execution_id" - 1, K_UUID, OPT, 0, N_EXECUTION_ID, 0},
    {"status", sizeof "status" - 1, K_ENUM, REQ, C_EXECUTION_STATUS, N_STATUS, 0},
    {"started_at", sizeof "started_at" - 1, K_TIME, REQ, 0, N_STARTED_AT, 0},
    {"completed_at", sizeof "completed_at" - 1, K_TIME, OPT, 0, N_NONE, 1 + IM_COMPLETED_AT},
    {"duration_ms", sizeof "duration_ms" - 1, K_DURATION, OPT, 0, N_NONE, 1 + IM_DURATION_MS},
    {"error", sizeof "error" - 1, K_ERROR, OPT, 0, N_NONE, 1 + IM_ERROR},
    {"metadata", sizeof "metadata" - 1, K_OBJECT, OPT, 0, N_NONE, 1 + IM_METADATA},
    {"node_executions", sizeof "node_executions" - 1, K_TABLE, OPT, IT_NODE_EXECUTIONS, N_NONE, 1 + IM_NODE_EXECUTIONS},
    {"telemetry_events", sizeof "telemetry_events" - 1, K_TABLE, OPT, IT_TELEMETRY_EVENTS, N_NONE, 0},
    {"telemetry_spans", sizeof "telemetry_spans" - 1, K_TABLE, OPT, IT_TELEMETRY_SPANS, N_NONE, 0},
    {"shared_state_snapshots", sizeof "shared_state_snapshots" - 1, K_TABLE, OPT, IT_SHARED_STATE_SNAPSHOTS, N_NONE, 0},
    {NULL, 0, 0, 0, 0, 0, 0},
};

static const struct field node_execution_fields[] = {
    {"id", sizeof "id" - 1, K_UUID, OPT, 0, N_NONE, 0},
    {"node_id", sizeof "node_id" - 1, K_UUID, OPT, 0, N_NODE_ID, 0},
    {"node_name", sizeof "node_name" - 1, K_NAME, REQ, 0, N_NONE, 0},
    {"node_type", sizeof "node_type" - 1, K_NAME, OPT, 0, N_NONE, 0},
    {"status", sizeof "status" - 1, K_ENUM, OPT, C_NODE_STATUS, N_NONE, 0},
    {"started_at", sizeof "started_at" - 1, K_TIME, OPT, 0, N_NONE, 0},
    {"completed_at", sizeof "completed_at" - 1, K_TIME, OPT, 0, N_NONE, 0},
    {"prep_duration_ms", sizeof "prep_duration_ms" - 1, K_DURATION, OPT, 0, N_NONE, 0},
    {"exec_duration_ms", sizeof "exec_duration_ms" - 1, K_DURATION, OPT, 0, N_NONE, 0},
    {"post_duration_ms", sizeof "post_duration_ms" - 1, K_DURATION, OPT, 0, N_NONE, 0},
    {"retry_count", sizeof "retry_count" - 1, K_COUNT, OPT, 0, N_NONE, 0},
    {"action", sizeof "action" - 1, K_NAME, OPT, 0, N_NONE, 0},
    {"error", sizeof "error" - 1, K_ERROR, OPT, 0, N_NONE, 0},
    /* GenAI usage (README "Tokens and cost"): input_tokens include the
     * cache's reads and writes, which are also given on their own. */
    {"input_tokens", sizeof "input_tokens" - 1, K_COUNT, OPT, 0, N_USAGE, 0},
    {"output_tokens", sizeof "output_tokens" - 1, K_COUNT, OPT, 0, N_USAGE, 0},
    {"cache_read_tokens", sizeof "cache_read_tokens" - 1, K_COUNT, OPT, 0, N_NONE, 0},
    {"cache_creation_tokens", sizeof "cache_creation_tokens" - 1, K_COUNT, OPT, 0, N_NONE, 0},
    {"model", sizeof "model" - 1, K_NAME, OPT, 0, N_NONE, 0},
    {"provider", sizeof "provider" - 1, K_NAME, OPT, 0, N_NONE, 0},
    {NULL, 0, 0, 0, 0, 0, 0},
};

static const struct field span_fields[] = {
    {"trace_id", sizeof "trace_id" - 1, K_HEX, OPT, 0, N_NONE, 0},
    {"span_id", sizeof "span_id" - 1, K_HEX, REQ, 0, N_NONE, 0},
    {"parent_span_id", sizeof "parent_span_id" - 1, K_HEX, OPT, 0, N_NONE, 0},
    {"name", sizeof "name" - 1, K_NAME, REQ, 0, N_NONE, 0},
    {"kind", sizeof "kind" - 1, K_NAME, OPT, 0, N_NONE, 0},
    {"start_time", sizeof "start_time" - 1, K_TIME, REQ, 0, N_NONE, 0},
    {"end_time", sizeof "end_time" - 1, K_TIME, OPT, 0, N_NONE, 0},
    {"duration_ms", sizeof "duration_ms" - 1, K_DURATION, OPT, 0, N_NONE, 0},
    {"status", sizeof "status" - 1, K_ENUM, OPT, C_SPAN_STATUS, N_NONE, 0},
    {"attributes", sizeof "attributes" - 1, K_OBJECT, OPT, 0, N_NONE, 0},
    {"node_name", sizeof "node_name" - 1, K_NAME, OPT, 0, N_NONE, 0},
    {NULL, 0, 0, 0, 0, 0, 0},
};

static const struct field event_fields[] = {
    {"event_type", sizeof "event_type" - 1, K_NAME, REQ, 0, N_NONE, 0},
    {"timestamp", sizeof "timestamp" - 1, K_TIME, REQ, 0, N_NONE, 0},
    {"node_name", sizeof "node_name" - 1, K_NAME, OPT, 0, N_NONE, 0},
    {"data", sizeof "data" - 1, K_ANY, OPT, 0, N_NONE, 0},
    {NULL, 0, 0, 0, 0, 0, 0},
};

static const struct field snapshot_fields[] = {
    {"sequence", sizeof "sequence" - 1, K_COUNT, OPT, 0, N_NONE, 0},
    {"timestamp", sizeof "timestamp" - 1, K_TIME, OPT, 0, N_NONE, 0},
    {"node_name", sizeof "node_name" - 1, K_NAME, OPT, 0, N_NONE, 0},
    {"phase", sizeof "phase" - 1, K_NAME, OPT, 0, N_NONE, 0},
    {"state", sizeof "state" - 1, K_OBJECT, REQ, 0, N_NONE, 0},
    {NULL, 0, 0, 0, 0, 0, 0},
};

#define FIELDS(t) (sizeof t / sizeof t[0] - 1)
_Static_assert(FIELDS(body_fields) <= MAX_FIELDS && FIELDS(node_execution_fields) <= MAX_FIELDS &&
                   FIELDS(span_fields) <= MAX_FIELDS && FIELDS(event_fields) <= MAX_FIELDS &&
                   FIELDS(snapshot_fields) <= MAX_FIELDS,
               "a field table outgrew MAX_FIELDS");

const struct field *const item_fields[IT_COUNT] = {
    [IT_NODE_EXECUTIONS] = node_execution_fields,
    [IT_TELEMETRY_SPANS] = span_fields,
    [IT_TELEMETRY_EVENTS] = event_fields,
    [IT_SHARED_STATE_SNAPSHOTS] = snapshot_fields,
};

/* ---- failures ---------------------------------------------------------- */

/* "a string", "a number", ... for messages about the wrong type. */
static const char *kind_text(enum jtype t)
{
    switch (t) {
    case JT_NULL:
        return "null";
    case JT_BOOL:
        return "a boolean";
    case JT_NUMBER:
        return "a number";
    case JT_STRING:
        return "a string";
    case JT_ARRAY:
        return "an array";
    case JT_OBJECT:
        return "an object";
    case JT_NONE:
        break;
    }
    return "something else";
}

/* Copies key into dst without control or format characters, at most
 * KEY_IN_PATH_MAX bytes of whole UTF-8 characters. */
static void clean_key(char *dst, size_t dstlen, const struct jstr *key)
{
    size_t o = 0, lim = dstlen - 1 < KEY_IN_PATH_MAX ? dstlen - 1 : KEY_IN_PATH_MAX, n;
    struct jstr_iter it;
    uint32_t cp;
    char u[4];
    jstr_iter_init(&it, key);
    while ((n = jstr_iter_next(&it, &cp, u)) > 0) {
        if (name_char_class(cp) != NAME_CHAR_OK)
            continue;
        if (o + n > lim)
            break;
        memcpy(dst + o, u, n);
        o += n;
    }
    dst[o] = '\0';
}

static void rule_text(const struct config *cfg, const struct verr *e, char *out, size_t cap)
{
    const char *kind = kind_text((enum jtype)e->arg);
    switch ((enum rule)e->rule) {
    case R_NONE: snprintf(out, cap, "is fine"); break; /* not reported */
    case R_BODY_NOT_OBJECT: snprintf(out, cap, "the body must be a JSON object"); break;
    case R_NOT_STRING: snprintf(out, cap, "must be a string, not %s", kind); break;
    case R_EMPTY: snprintf(out, cap, "must not be empty"); break;
    case R_TOO_LONG: snprintf(out, cap, "must be at most %zu bytes long", cfg->max_string_bytes); break;
    case R_NUL: snprintf(out, cap, "must not contain NUL characters (\\u0000)"); break;
    case R_CONTROL: snprintf(out, cap, "%s", name_char_rule(NAME_CHAR_CONTROL)); break;
    case R_FORMAT: snprintf(out, cap, "%s", name_char_rule(NAME_CHAR_FORMAT)); break;
    case R_UUID: snprintf(out, cap, "must be a UUID (8-4-4-4-12 hexadecimal digits)"); break;
    case R_ENUM: snprintf(out, cap, "must be one of: %s", choice_texts[e->arg]); break;
    case R_TIME: snprintf(out, cap, "must be an RFC 3339 timestamp"); break;
    case R_DURATION_TYPE: snprintf(out, cap, "must be a number of milliseconds, not %s", kind); break;
    case R_NEGATIVE: snprintf(out, cap, "must not be negative"); break;
    case R_DURATION_MAX: snprintf(out, cap, "must be at most %.0f", DURATION_MAX_MS); break;
    case R_INT_TYPE:
        snprintf(out, cap, "must be an integer, not %s", e->arg == JT_NUMBER ? "a fraction" : kind);
        break;
    case R_INT_MAX: snprintf(out, cap, "must be at most %d", INT32_MAX); break;
    case R_HEX: snprintf(out, cap, "must be a string of 1 to %d hexadecimal digits", HEX_ID_MAX); break;
    case R_OBJECT_TYPE: snprintf(out, cap, "must be an object, not %s", kind); break;
    case R_ERROR_TYPE: snprintf(out, cap, "must be a string or an object, not %s", kind); break;
    case R_RANGE: snprintf(out, cap, "holds a number out of range"); break;
    case R_ARRAY_TYPE: snprintf(out, cap, "must be an array, not %s", kind); break;
    case R_TOO_MANY: snprintf(out, cap, "must have at most %ld items", cfg->max_items); break;
    case R_ITEM_TYPE: snprintf(out, cap, "must be an object, not %s", kind); break;
    case R_NULL_REQUIRED: snprintf(out, cap, "is required and must not be null"); break;
    case R_MISSING: snprintf(out, cap, "is required"); break;
    }
}

void ingest_format_failure(const struct config *cfg, const struct verr *e, char *path, size_t pathlen, char *msg,
                           size_t msglen)
{
    char k[KEY_IN_PATH_MAX + 1] = "";
    bool has_key = e->key.raw != NULL;
    const char *table = e->table >= 0 ? ingest_table_names[e->table] : NULL;
    if (has_key)
        clean_key(k, sizeof k, &e->key);
    if (table && has_key)
        snprintf(path, pathlen, "%s[%zu].%s", table, e->index, k);
    else if (table)
        snprintf(path, pathlen, "%s[%zu]", table, e->index);
    else
        snprintf(path, pathlen, "%s", k);
    if (msglen == 0)
        return;
    int n = 0;
    if (has_key || table)
        n = snprintf(msg, msglen, "%s ", pathlen ? path : "");
    if (n < 0 || (size_t)n >= msglen)
        return;
    rule_text(cfg, e, msg + n, msglen - (size_t)n);
}

