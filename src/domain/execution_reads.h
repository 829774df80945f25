/* Reading executions and their telemetry: the SQL and the streaming behind
 * GET /api/executions (JSON pages or NDJSON), /api/executions/{id} and its
 * timeline, spans, events, state snapshots and export.
 *
 * Every function runs inside the caller's transaction (db_begin_as), so
 * row-level security decides what exists: an execution the caller cannot
 * see is DB_NOT_FOUND. PostgreSQL writes each row's JSON text itself, and
 * lists are fetched through a cursor in batches and written straight to the
 * sink (util/sink.h), so no answer is ever held whole in memory.
 *
 * Sink contract, the same for every function here: DB_OK means the answer
 * has been written to out whole (begun, then every byte). Any other status
 * means nothing has been written (out->begun is false) and the caller
 * answers the failure. The sink is begun only once the first batch of rows
 * has been fetched, so the usual failures still get a proper error; a
 * failure after that (the connection breaks mid-stream) can only cut the
 * answer short, which a client sees as truncated JSON, and is logged with
 * out->log_tag. */
#ifndef AGORA_EXECUTIONS_H
#define AGORA_EXECUTIONS_H

#include <stdbool.h>

#include "util/cursor.h"
#include "db/db.h"
#include "auth/identity.h"
#include "util/sink.h"
#include "util/timestamp.h"

#define EXEC_LIST_LIMIT_DEFAULT 50
#define EXEC_LIST_LIMIT_MAX 200
#define EXEC_ITEMS_LIMIT_MAX 1000

/* A keyset position: rows strictly after it in the route's order. For the
 * execution list id is a UUID and ts the started_at; for items id is a
 * decimal bigint and ts the timestamp, or (snapshots) seq the sequence with
 * seq_null for a NULL sequence. Text forms are canonical and checked. */
struct exec_after {
    bool set;
    char ts[TS_TEXT_LEN + 1];
    long long seq;
    bool seq_null;
    char id[CURSOR_ID_MAX + 1];
};

/* GET /api/executions. Strings are NULL when the filter is absent; ids are
 * canonical lowercase UUIDs, timestamps canonical RFC 3339 text. */
struct exec_list_query {
    const char *workflow_id, *project_id, *status, *session_id;
    const char *since, *until;  /* since inclusive, until exclusive */
    const char *node_name;      /* with workflow_id only: runs of that workflow node */
    int limit;                  /* 1..EXEC_LIST_LIMIT_MAX */
    uint32_t scope;             /* the list's cursor scope, see cursor.h */
    struct exec_after after;
};

/* The item routes. limit 0 means every item (no paging, next_cursor null).
 * since_id keeps only items stored after that item (a larger id): ingest
 * writes one execution's items one transaction at a time (its row lock),
 * and identity values are handed out in order, so within one execution a
 * larger id was committed later (docs/DESIGN.md, "Telemetry: reads"). */
struct exec_items_query {
    const char *since_id;                /* canonical positive decimal bigint; NULL when absent */
    const char *event_type, *node_name;  /* events only; NULL when absent */
    int limit;                           /* 0 or 1..EXEC_ITEMS_LIMIT_MAX */
    uint32_t scope;                      /* the list's cursor scope, see cursor.h */
    struct exec_after after;
};

enum exec_items_kind { EXEC_SPANS, EXEC_EVENTS, EXEC_SNAPSHOTS };

/* Writes {"items":[execution...],"next_cursor":...}, newest first. */
enum db_status executions_list(struct db *db, const struct identity *who, const struct exec_list_query *q,
                               struct sink *out);
/* Writes every execution of q (no limit: keyset pages of 1,000 walked one
 * after another, so memory stays that of one page), one execution a line
 * (NDJSON), each the object the list's items hold. q->limit is ignored;
 * the walk starts after q->after when it is set. */
enum db_status executions_list_ndjson(struct db *db, const struct identity *who, const struct exec_list_query *q,
                                      struct sink *out);
/* Writes one execution with its "counts". */
enum db_status execution_get(struct db *db, const char *id, struct sink *out);
/* Writes {"execution":{...},"node_executions":[...]}. */
enum db_status execution_timeline(struct db *db, const char *id, struct sink *out);
/* Writes {"items":[...],"next_cursor":...} of one kind of item of execution
 * id; the execution is checked first (DB_NOT_FOUND when invisible). */
enum db_status execution_items(struct db *db, const char *id, enum exec_items_kind kind,
                               const struct exec_items_query *q, struct sink *out);

/* Writes execution id as an ingest payload (CONTRACT.md section 4): its
 * fields, then node_executions, telemetry_events, telemetry_spans and
 * shared_state_snapshots, each streamed. */
enum db_status execution_export(struct db *db, const char *id, struct sink *out);

/* Turns a decoded cursor into the position it names (pure). items: false
 * for the execution list (the id must be a UUID), true for the item lists
 * (a positive decimal bigint). sequence: the key is a snapshot's sequence
 * (an int32, or INT64_MAX for none) instead of a timestamp in 0001..9999.
 * 0, or -1 when the cursor is not one this list hands out (then 422). */
int exec_after_from_cursor(const struct cursor *c, bool items, bool sequence, struct exec_after *out);

#endif
