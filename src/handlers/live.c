/* Live monitoring's two routes (docs/LIVE.md). The streams themselves are
 * nginx's (Nchan): a worker only hands out tickets and answers nginx's
 * question "may this subscription open?", so no worker is ever held by a
 * subscriber.
 *
 *   POST /api/live/tickets            a ticket for one channel
 *   GET  /internal/live/authorize     nginx's nchan_authorize_request
 *                                     subrequest; reachable only through
 *                                     nginx's internal location, which
 *                                     passes the subscriber's URI and
 *                                     Last-Event-ID as FastCGI parameters */
#include "handlers/handlers.h"

#include <string.h>
#include <time.h>

#include "domain/live_tickets.h"
#include "http/errors.h"
#include "http/json_body.h"
#include "http/query.h"
#include "http/response.h"
#include "ops/config.h"

void handle_live_tickets(struct req *r)
{
    static const char *const keys[] = {"execution_id", "project_id", NULL};
    static const struct json_shape shape = JSON_FLAT_SHAPE(keys);
    struct json_object *body = json_body_object_or_reply(r, &shape), *out = NULL;
    const char *exec_id = NULL, *project_id = NULL;
    if (!body)
        return;
    if (json_only_keys_or_reply(r, body, keys) < 0 ||
        json_uuid_or_reply(r, body, "execution_id", JF_OPTIONAL, &exec_id) < 0 ||
        json_uuid_or_reply(r, body, "project_id", JF_OPTIONAL, &project_id) < 0)
        goto done;
    if (!exec_id == !project_id) {
        reply_error(r, E_VALIDATION, exec_id ? "project_id" : "execution_id",
                    "give exactly one of execution_id and project_id");
        goto done;
    }
    struct live_channel c = {exec_id ? LIVE_EXECUTION : LIVE_PROJECT, ""};
    uuid_lower(exec_id ? exec_id : project_id, c.id);
    enum db_status st = live_ticket_issue(r->db, &c, r->cfg->live_ticket_s, &out);
    reply_tx_result(r, st, 201, out);
done:
    json_object_put(body);
}

/* The resync rule: a message id older than nginx keeps messages may have
 * missed some that nginx no longer has. 0 to go on, -1 after replying. */
static int check_message_id(struct req *r, const char *id, const char *name)
{
    time_t when;
    if (!id)
        return 0;
    if (live_message_id_time(id, &when) < 0)
        return reply_error(r, E_BAD_REQUEST, name, "%s must be a message id as the stream sent it", name), -1;
    if (when < time(NULL) - r->cfg->live_replay_s)
        return reply_error(r, E_RESYNC, name,
                           "messages after this id are no longer kept; reload through the API and "
                           "subscribe without it"),
               -1;
    return 0;
}

void handle_live_authorize(struct req *r)
{
    static const char *const params[] = {"ticket", "last_event_id", NULL};
    struct live_channel c;
    struct query q = {0};
    char path[128];

    if (!r->live_uri) {
        reply_error(r, E_NOT_FOUND, NULL, "no such route");
        return;
    }
    size_t n = strcspn(r->live_uri, "?");
    if (n >= sizeof path) {
        reply_error(r, E_NOT_FOUND, NULL, "no such channel");
        return;
    }
    memcpy(path, r->live_uri, n);
    path[n] = '\0';
    if (live_channel_from_path(path, &c) < 0) {
        reply_error(r, E_NOT_FOUND, NULL, "no such channel");
        return;
    }
    r->query = r->live_uri[n] == '?' ? r->live_uri + n + 1 : "";
    if (query_parse_or_reply(r, params, &q) < 0)
        return;
    const char *ticket = query_get(&q, "ticket");
    if (!ticket || !live_ticket_valid(ticket)) {
        reply_error(r, E_BAD_REQUEST, "ticket",
                    ticket ? "ticket is malformed" : "a ticket is required (POST /api/live/tickets)");
        goto done;
    }
    if (check_message_id(r, r->last_event_id, "Last-Event-ID") < 0 ||
        check_message_id(r, query_get(&q, "last_event_id"), "last_event_id") < 0)
        goto done;
    enum db_status st = DB_OK;
    switch (live_ticket_authorize(r->db, ticket, &c, &st)) {
    case LIVE_AUTH_OK:
        reply_json_text(r, 200, "{}", 2);
        break;
    case LIVE_AUTH_BAD_TICKET:
        reply_error(r, E_UNAUTHORIZED, "ticket", "the ticket is unknown, expired or already used");
        break;
    case LIVE_AUTH_WRONG_CHANNEL:
        reply_error(r, E_FORBIDDEN, "ticket", "the ticket is for another channel");
        break;
    case LIVE_AUTH_NOT_FOUND:
        reply_error(r, E_NOT_FOUND, NULL, "no such %s", live_channel_word(c.kind));
        break;
    case LIVE_AUTH_DB:
        reply_db_error(r, st);
        break;
    }
done:
    query_free(&q);
}
