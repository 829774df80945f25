/* Live tickets (docs/LIVE.md sections 1 and 2): what lets a browser open a
 * WebSocket or EventSource without putting its long-lived credential in a
 * URL. A ticket is 32 random bytes (64 hex digits) bound to the caller who
 * asked for it and to one channel; only its SHA-256 is stored; it opens
 * one subscription and lives a few seconds. */
#ifndef AGORA_LIVE_TICKETS_H
#define AGORA_LIVE_TICKETS_H

#include <stdbool.h>
#include <time.h>

#include <json-c/json.h>

#include "auth/identity.h"
#include "db/db.h"

#define LIVE_TICKET_LEN 64

enum live_channel_kind { LIVE_EXECUTION, LIVE_PROJECT };

/* A channel: "execution/<uuid>" or "project/<uuid>". */
struct live_channel {
    enum live_channel_kind kind;
    char id[UUID_STR_LEN + 1];
};

/* The outcome of authorizing a subscription. */
enum live_auth {
    LIVE_AUTH_OK,
    LIVE_AUTH_BAD_TICKET,    /* unknown, spent, expired, or its API key revoked: 401 */
    LIVE_AUTH_WRONG_CHANNEL, /* a ticket for another channel: 403 */
    LIVE_AUTH_NOT_FOUND,     /* the channel's execution or project is not readable: 404 */
    LIVE_AUTH_DB,            /* the database failed: see *st */
};

/* Parses "/live/executions/<uuid>" or "/live/projects/<uuid>" (a path, no
 * query). 0, or -1 when it is neither. */
int live_channel_from_path(const char *path, struct live_channel *out);
/* "execution" or "project": the kind as channel names and errors word it. */
const char *live_channel_word(enum live_channel_kind kind);
/* The channel's name as messages and NOTIFY spell it. */
void live_channel_name(const struct live_channel *c, char out[16 + UUID_STR_LEN]);

/* True when text is a well-formed ticket (64 lowercase hex digits). */
bool live_ticket_valid(const char *text);

/* Parses an Nchan message id "<unix seconds>:<n>" (what SSE sends back as
 * Last-Event-ID). 0 with *when, -1 when malformed. */
int live_message_id_time(const char *text, time_t *when);

/* Issues a ticket for the caller (in its open transaction) on channel c,
 * valid ttl_s seconds. DB_NOT_FOUND when the caller cannot read c's
 * execution or project. On DB_OK, *out is {"ticket","channel","expires_at",
 * "expires_in","path"} (the caller owns it). */
enum db_status live_ticket_issue(struct db *db, const struct live_channel *c, long ttl_s,
                                 struct json_object **out);

/* Spends ticket and decides whether it opens channel c: the ticket's
 * caller must still be able to read c under row-level security. Runs its
 * own transaction (no caller identity: the ticket is the credential). */
enum live_auth live_ticket_authorize(struct db *db, const char *ticket, const struct live_channel *c,
                                     enum db_status *st);

#endif
