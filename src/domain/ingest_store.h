/* Storing one validated ingest payload (CONTRACT.md section 4): the SQL
 * behind POST /api/executions/ingest. The original body text goes to
 * PostgreSQL as a jsonb parameter, once per statement that needs it, and
 * PostgreSQL unpacks the items with jsonb_to_recordset; a constant number of
 * statements per ingest whatever the number of items. Runs inside the
 * caller's transaction (db_begin_as), so row-level security decides what
 * the caller can see and write; nothing here begins, commits or rolls back. */
#ifndef AGORA_INGEST_H
#define AGORA_INGEST_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "db/db.h"
#include "domain/ingest_validate.h"
#include "auth/identity.h"
#include "util/uuid.h"

/* Idempotency-Key: 1..255 visible ASCII characters (0x21..0x7e). */
#define INGEST_IDEM_KEY_MAX 255

/* What the handler hands over. Everything is borrowed for the call. */
struct ingest_input {
    const char *body;                 /* the request body as received (valid JSON, NUL-terminated) */
    size_t body_len;
    const struct ingest_summary *sum; /* ingest_validate()'s summary of body */
    const char *session_id;           /* the payload's session_id and started_at (validated strings) */
    const char *started_at;
    const char *idem_key;             /* a valid Idempotency-Key, or NULL */
};

/* The outcome. On DB_OK: the answer's fields, and http_status 201 (new
 * execution), 200 (append to a running one) or the replayed status. On
 * failure: path and message when the failure is the client's and more
 * specific than the status alone (message NULL otherwise). */
struct ingest_result {
    int http_status;
    bool replayed;                            /* an Idempotency-Key replay: nothing was written */
    char execution_id[UUID_STR_LEN + 1];
    char status[16];
    long long counts[IT_COUNT];               /* cumulative, for the execution */
    long long node_updates;                   /* node executions this payload updated by `id`
                                                 (0 for a replay) */
    char path[64];                            /* "" when no field is at fault */
    const char *message;                      /* static text, or NULL */
};

/* True when key is 1..INGEST_IDEM_KEY_MAX characters, each 0x21..0x7e. */
bool ingest_idempotency_key_valid(const char *key);

/* Stores in's payload in the caller's open transaction; the caller commits
 * on DB_OK and rolls back otherwise (then nothing was written). Failures:
 * DB_NOT_FOUND (workflow invisible; execution_id of another tenant),
 * DB_FORBIDDEN (a viewer), DB_INVALID (node_id not of the workflow, node
 * names that would grow the workflow past WORKFLOW_NODES_MAX, an
 * execution of another workflow, an Idempotency-Key reused with another
 * body, a value PostgreSQL refuses, a node execution `id` named twice),
 * DB_CONFLICT (the execution is closed; a node execution `id` is final or
 * another execution's; the key's first request has no answer yet), or the
 * connection's errors; DB_NOT_FOUND also for a node execution `id` of
 * another tenant. */
enum db_status ingest_store(struct db *db, const struct identity *who, const struct ingest_input *in,
                            struct ingest_result *out);

/* The answer {"execution_id","status","counts":{...}} of res. Returns a new
 * reference; the same bytes for the first answer and every replay. */
struct json_object *ingest_answer(const struct ingest_result *res);

/* Forgets idempotency keys older than 24 hours, at most once every 10
 * minutes per worker process. Call outside a transaction, after the reply's
 * commit; failures are logged and otherwise ignored. */
void ingest_purge_old_keys(struct db *db);

#endif
