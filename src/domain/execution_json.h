/* The JSON of an execution and of its items, as every route shows them:
 * SQL fragments (json_build_object(...), timestamps through agora.rfc3339)
 * shared by the read routes (execution_reads.c) and the live messages
 * (live_announce.c), so a message holds exactly what the API returns. */
#ifndef AGORA_EXECUTION_JSON_H
#define AGORA_EXECUTION_JSON_H

/* Whether execution e is stale: running, with no ingest for
 * agora.stale_minutes (AGORA_STALE_MINUTES, a setting of the connection:
 * db.c). Computed at read time; nothing stored changes. */
#define STALE(e)                                                                                    \
    "(" e ".status = 'running' AND " e ".last_ingest_at < now() - interval '1 minute' * "           \
    "current_setting('agora.stale_minutes')::integer)"

/* An execution's token usage: the sums the ingest keeps on its row
 * (sql/009), cost_complete false when some node execution reported tokens
 * without a known price (its cost is then left out of cost_usd). */
#define USAGE_JSON(e)                                                                               \
    "json_build_object('input_tokens', " e ".input_tokens, 'output_tokens', " e ".output_tokens, "  \
    "'cost_usd', trim_scale(" e ".cost_usd), 'cost_complete', " e ".unpriced_count = 0)"

/* An execution as every route shows it, left open so the detail can add
 * its counts. e is the table's alias. */
#define EXEC_FIELDS(e)                                                                              \
    "json_build_object('id', " e ".id, 'workflow_id', " e ".workflow_id, 'project_id', " e          \
    ".project_id, 'session_id', " e ".session_id, 'status', " e ".status, 'started_at', "           \
    "agora.rfc3339(" e ".started_at), 'completed_at', agora.rfc3339(" e ".completed_at), "          \
    "'duration_ms', " e ".duration_ms, 'error', " e ".error, 'metadata', " e ".metadata, 'usage', "  \
    USAGE_JSON(e) ", 'stale', " STALE(e)
#define EXEC_JSON(e) EXEC_FIELDS(e) ")::text"
/* The same with its per-table counts: the detail, and list items (so a list
 * page needs no request per row to show them). */
#define EXEC_JSON_COUNTS(e)                                                                         \
    EXEC_FIELDS(e) ", 'counts', json_build_object('node_executions', " e ".node_executions_count, "  \
    "'telemetry_spans', " e ".telemetry_spans_count, 'telemetry_events', " e                        \
    ".telemetry_events_count, 'shared_state_snapshots', " e ".shared_state_snapshots_count))::text"

/* Microseconds since the epoch, exactly (extract gives numeric). */
#define MICROS(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

/* Milliseconds from a to b as an exact number with microsecond precision
 * (trailing zeros trimmed); null when either is null. */
#define MS_BETWEEN(a, b) "trim_scale((extract(epoch FROM " b ") - extract(epoch FROM " a ")) * 1000)"

#define SPAN_JSON                                                                                   \
    "json_build_object('id', s.id, 'trace_id', s.trace_id, 'span_id', s.span_id, 'parent_span_id', " \
    "s.parent_span_id, 'name', s.name, 'kind', s.kind, 'start_time', agora.rfc3339(s.start_time), " \
    "'end_time', agora.rfc3339(s.end_time), 'duration_ms', s.duration_ms, 'status', s.status, "     \
    "'attributes', s.attributes, 'node_name', s.node_name)::text"

#define EVENT_JSON                                                                                  \
    "json_build_object('id', v.id, 'event_type', v.event_type, 'timestamp', "                      \
    "agora.rfc3339(v.\"timestamp\"), 'node_name', v.node_name, 'data', v.data)::text"

#define SNAPSHOT_JSON                                                                               \
    "json_build_object('id', x.id, 'sequence', x.sequence, 'timestamp', "                          \
    "agora.rfc3339(x.\"timestamp\"), 'node_name', x.node_name, 'phase', x.phase, 'state', "         \
    "x.state)::text"

/* A node execution n; start is the SQL of its execution's started_at
 * (offset_ms counts from it). */
#define NODE_JSON_FROM(start)                                                                                   \
    "json_build_object('id', n.id, 'client_id', n.client_id, 'node_id', n.node_id, 'node_name', n.node_name, 'node_type', "   \
    "n.node_type, 'status', n.status, 'started_at', agora.rfc3339(n.started_at), 'completed_at', "  \
    "agora.rfc3339(n.completed_at), 'offset_ms', " MS_BETWEEN(start, "n.started_at")    \
    ", 'prep_duration_ms', n.prep_duration_ms, 'exec_duration_ms', n.exec_duration_ms, "            \
    "'post_duration_ms', n.post_duration_ms, 'duration_ms', "                                       \
    MS_BETWEEN("n.started_at", "n.completed_at") ", 'retry_count', n.retry_count, 'action', "       \
    "n.action, 'error', n.error, 'input_tokens', n.input_tokens, 'output_tokens', n.output_tokens, " \
    "'cache_read_tokens', n.cache_read_tokens, 'cache_creation_tokens', n.cache_creation_tokens, "  \
    "'model', n.model, 'provider', n.provider, 'cost_usd', n.cost_usd)::text"

/* The timeline's form: $2 is the execution's started_at. */
#define NODE_JSON NODE_JSON_FROM("$2::timestamptz")

/* The export (GET /api/executions/{id}/export): an execution in the ingest
 * payload's own fields (CONTRACT.md section 4), so the document can be
 * posted to /api/executions/ingest as it is. Left open for its tables.
 * Fields the server derives (counts, usage sums, cost, stale, offsets) are
 * not part of a payload and are left out; node_id too (a node of this
 * workflow, meaningless elsewhere: the ingest finds the node by name). */
#define EXPORT_EXEC_OPEN                                                                            \
    "json_build_object('workflow_id', e.workflow_id, 'execution_id', e.id, 'session_id', "          \
    "e.session_id, 'status', e.status, 'started_at', agora.rfc3339(e.started_at), 'completed_at', " \
    "agora.rfc3339(e.completed_at), 'duration_ms', e.duration_ms, 'error', e.error, 'metadata', "   \
    "e.metadata)::text"

/* A node execution as sent: id is the client's id (null without one). */
#define EXPORT_NODE_JSON                                                                            \
    "json_build_object('id', n.client_id, 'node_name', n.node_name, 'node_type', n.node_type, "     \
    "'status', n.status, 'started_at', agora.rfc3339(n.started_at), 'completed_at', "              \
    "agora.rfc3339(n.completed_at), 'prep_duration_ms', n.prep_duration_ms, 'exec_duration_ms', "   \
    "n.exec_duration_ms, 'post_duration_ms', n.post_duration_ms, 'retry_count', n.retry_count, "    \
    "'action', n.action, 'error', n.error, 'input_tokens', n.input_tokens, 'output_tokens', "       \
    "n.output_tokens, 'cache_read_tokens', n.cache_read_tokens, 'cache_creation_tokens', "          \
    "n.cache_creation_tokens, 'model', n.model, 'provider', n.provider)::text"

#define EXPORT_SPAN_JSON                                                                            \
    "json_build_object('trace_id', s.trace_id, 'span_id', s.span_id, 'parent_span_id', "            \
    "s.parent_span_id, 'name', s.name, 'kind', s.kind, 'start_time', agora.rfc3339(s.start_time), " \
    "'end_time', agora.rfc3339(s.end_time), 'duration_ms', s.duration_ms, 'status', s.status, "     \
    "'attributes', s.attributes, 'node_name', s.node_name)::text"

#define EXPORT_EVENT_JSON                                                                           \
    "json_build_object('event_type', v.event_type, 'timestamp', agora.rfc3339(v.\"timestamp\"), "   \
    "'node_name', v.node_name, 'data', v.data)::text"

#define EXPORT_SNAPSHOT_JSON                                                                        \
    "json_build_object('sequence', x.sequence, 'timestamp', agora.rfc3339(x.\"timestamp\"), "       \
    "'node_name', x.node_name, 'phase', x.phase, 'state', x.state)::text"

#endif
