/* Announcing a committed ingest to live subscribers (docs/LIVE.md): one
 * statement at the end of the ingest's transaction builds the message of
 * the execution's channel and of its project's, and hands both to
 * PostgreSQL's NOTIFY, which delivers them only if the transaction commits,
 * in commit order. The agora-live process on each nginx host publishes
 * them to its Nchan (src/main/live.c). */
#ifndef AGORA_LIVE_ANNOUNCE_H
#define AGORA_LIVE_ANNOUNCE_H

#include "db/db.h"
#include "domain/ingest_validate.h"
#include "util/uuid.h"

/* The NOTIFY channel agora-live listens on. */
#define LIVE_NOTIFY_CHANNEL "agora_live"
/* A payload with more node executions than this announces none of them
 * (truncated: true; the client reads the timeline): a live run sends a
 * few at a time, a bulk upload is not watched node by node. */
#define LIVE_NODES_MAX 50
#define LIVE_NODES_MAX_SQL "50"
/* NOTIFY refuses payloads of 8,000 bytes or more; a message larger than
 * this goes out truncated. */
#define LIVE_MESSAGE_MAX 7000
/* The fewest bytes a node execution adds to a message's text: its JSON
 * (NODE_JSON_FROM, execution_json.h: 23 keys, 248 bytes of names) is at
 * least 399 bytes as jsonb writes it, {"key": v, ...} with every value
 * one byte or more, and ", " separates it from the next. A message whose
 * node executions would not fit even at that size (18 or more) goes out
 * truncated without their JSON being built: the same message, and that
 * JSON was most of the statement's time for an OTLP request
 * (BENCHMARKS.md, "OpenTelemetry ingest"). tests/unit/test_live.c
 * derives the bound from NODE_JSON_FROM's keys. */
#define LIVE_NODE_TEXT_MIN "401"

/* A project channel's message carries of the execution only what a row
 * of the executions list shows (nginx/www/js/list/table.js) or filters on
 * (list/params.js), with the times: not project_id (the channel names it)
 * nor metadata, and no `added` or node executions.
 *
 * It sends them as rows of a table whose columns are named once per
 * message (docs/LIVE.md section 3): each column is the path of a member of
 * the message it stands for, "a.b" for member b of member a, and ":us"
 * after a time's name says it holds microseconds since the epoch (the
 * API's RFC 3339 text, exactly, once decoded), or that text itself for a
 * time too far from the epoch for an exact JSON number. The values of a
 * row come in this order (live_announce.c builds them; the viewer's
 * live/rules.js and the tests decode them by these names, never by
 * position). Why: the keys were more than half of a message's bytes, and
 * nginx's cost of a message grows with its bytes times the subscribers. */
#define LIVE_PROJECT_COLUMNS                                                                        \
    "\"seq\",\"workflow_nodes\",\"truncated\",\"execution.id\",\"execution.workflow_id\","               \
    "\"execution.session_id\",\"execution.status\",\"execution.started_at:us\","                      \
    "\"execution.completed_at:us\",\"execution.duration_ms\",\"execution.error\","                    \
    "\"execution.usage.input_tokens\",\"execution.usage.output_tokens\",\"execution.usage.cost_usd\"," \
    "\"execution.usage.cost_complete\",\"execution.stale\",\"execution.counts.node_executions\","     \
    "\"execution.counts.telemetry_spans\",\"execution.counts.telemetry_events\","                     \
    "\"execution.counts.shared_state_snapshots\""
/* What a project channel's message opens with, its rows following, and
 * what closes it (live_batch.h). */
#define LIVE_ROWS_HEAD "{\"type\":\"rows\",\"columns\":[" LIVE_PROJECT_COLUMNS "],\"rows\":["
#define LIVE_ROWS_TAIL "]}"

/* What one ingest changed, for its message. */
struct live_change {
    const char *execution_id;
    const char *node_ids;        /* node_executions.id written, as a PostgreSQL
                                    array literal; NULL when not listed */
    long long added[IT_COUNT];   /* rows inserted per table */
    long long node_updates;      /* node executions updated by `id` */
};

/* The longest channel name: "execution/" and a UUID. */
#define LIVE_CHANNEL_MAX (10 + UUID_STR_LEN)

/* Splits a notification's payload, "<channel> <message>", as
 * live_announce sends it. 0 with channel (NUL-terminated) and *message
 * (pointing into payload), or -1 when payload is not of that form: the
 * channel must be "execution/<uuid>" or "project/<uuid>", the message
 * non-empty. */
int live_notice_parse(const char *payload, char channel[LIVE_CHANNEL_MAX + 1], const char **message);

/* Queues the messages of the n changes c[0..n) (n >= 1, one execution
 * each), in that order, in the caller's open transaction (after the
 * execution rows have their final fields): one statement for all of them.
 * DB_OK or the connection's error. */
enum db_status live_announce(struct db *db, const struct live_change *c, size_t n);

#endif
