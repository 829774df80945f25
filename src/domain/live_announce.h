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

/* The members of the execution that a project channel's message carries,
 * as a PostgreSQL array literal's elements: what a row of the executions
 * list shows (nginx/www/js/list/table.js) or filters on (list/params.js),
 * with the times. Not project_id (the channel names it) nor metadata. Its
 * message has no `added` either, and `truncated` only when true. */
#define LIVE_PROJECT_MEMBERS                                                                        \
    "id,workflow_id,session_id,status,started_at,completed_at,duration_ms,error,usage,stale,counts"

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
