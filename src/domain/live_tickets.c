/* Live tickets: issuing one under the caller's row-level security, and
 * spending one when nginx asks whether a subscription may open
 * (live_tickets.h; docs/DESIGN.md "Live monitoring" says why tickets live
 * in the database rather than being signed tokens: single use, and every
 * nginx host and worker sees the same ones without sharing a key). */
#include "domain/live_tickets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util/sha256.h"
#include "util/text.h"
#include "util/uuid.h"

/* Issuing: the target is read under the caller's row-level security, so
 * an invisible one inserts nothing (404). $1 the ticket's SHA-256 (hex),
 * $2 the target, $3 the channel, $4 seconds to live. */
#define SQL_ISSUE(table)                                                                            \
    "INSERT INTO agora.live_tickets (ticket_hash, organization_id, caller, user_id, key_id,"        \
    " key_project, key_org, channel, expires_at)"                                                   \
    " SELECT decode($1, 'hex'), x.organization_id, agora.caller(), agora.uid(), agora.key_id(),"    \
    "  agora.key_project(), agora.key_org(), $3, now() + $4::integer * interval '1 second'"         \
    " FROM agora." table " x WHERE x.id = $2::uuid"                                                 \
    " RETURNING agora.rfc3339(expires_at)"

static const char SQL_TAKE[] =
    "SELECT user_id, key_id, key_project, key_org, channel, key_ok"
    " FROM agora.live_ticket_take(decode($1, 'hex'))";

/* Everything that differs between the two kinds of channel, in one place. */
static const struct live_kind {
    const char *word;   /* its channel's name: "execution/<uuid>" */
    const char *prefix; /* its subscription's path before the id */
    const char *issue;  /* SQL_ISSUE on its table */
    const char *sees;   /* whether the caller reads the target: $1 its id */
} KINDS[] = {
    [LIVE_EXECUTION] = {"execution", "/live/executions/", SQL_ISSUE("executions"),
                        "SELECT 1 FROM agora.executions WHERE id = $1::uuid"},
    [LIVE_PROJECT] = {"project", "/live/projects/", SQL_ISSUE("projects"),
                      "SELECT 1 FROM agora.projects WHERE id = $1::uuid"},
};

const char *live_channel_word(enum live_channel_kind kind)
{
    return KINDS[kind].word;
}

int live_channel_from_path(const char *path, struct live_channel *out)
{
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++) {
        size_t n = strlen(KINDS[i].prefix);
        if (strncmp(path, KINDS[i].prefix, n) == 0 && strlen(path + n) == UUID_STR_LEN &&
            uuid_valid(path + n)) {
            out->kind = (enum live_channel_kind)i;
            uuid_lower(path + n, out->id);
            return 0;
        }
    }
    return -1;
}

void live_channel_name(const struct live_channel *c, char out[16 + UUID_STR_LEN])
{
    snprintf(out, 16 + UUID_STR_LEN, "%s/%s", KINDS[c->kind].word, c->id);
}

bool live_ticket_valid(const char *text)
{
    size_t n = 0;
    for (; text[n]; n++)
        if (n >= LIVE_TICKET_LEN || !((text[n] >= '0' && text[n] <= '9') || (text[n] >= 'a' && text[n] <= 'f')))
            return false;
    return n == LIVE_TICKET_LEN;
}

int live_message_id_time(const char *text, time_t *when)
{
    /* Digits, a colon, digits: what Nchan sends for one channel. Lengths
     * are capped so the number cannot overflow. */
    size_t secs = strspn(text, "0123456789");
    if (secs == 0 || secs > 12 || text[secs] != ':')
        return -1;
    size_t tag = strspn(text + secs + 1, "0123456789");
    if (tag == 0 || tag > 10 || text[secs + 1 + tag] != '\0')
        return -1;
    *when = (time_t)strtoll(text, NULL, 10);
    return 0;
}

enum db_status live_ticket_issue(struct db *db, const struct live_channel *c, long ttl_s,
                                 struct json_object **out)
{
    unsigned char raw[LIVE_TICKET_LEN / 2];
    char ticket[LIVE_TICKET_LEN + 1], hash[2 * SHA256_LEN + 1], channel[16 + UUID_STR_LEN], ttl[24];
    PGresult *res = NULL;

    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return DB_ERROR;
    hex_encode(raw, sizeof raw, ticket);
    sha256_hex(ticket, LIVE_TICKET_LEN, hash);
    live_channel_name(c, channel);
    snprintf(ttl, sizeof ttl, "%ld", ttl_s);
    const char *params[4] = {hash, c->id, channel, ttl};
    enum db_status st = db_exec(db, KINDS[c->kind].issue, 4, params, &res);
    if (st != DB_OK)
        return st;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return DB_NOT_FOUND;
    }
    char path[128];
    snprintf(path, sizeof path, "%s%s?ticket=%s", KINDS[c->kind].prefix, c->id, ticket);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "ticket", json_object_new_string(ticket));
    json_object_object_add(o, "channel", json_object_new_string(channel));
    json_object_object_add(o, "expires_at", json_object_new_string(PQgetvalue(res, 0, 0)));
    json_object_object_add(o, "expires_in", json_object_new_int64(ttl_s));
    json_object_object_add(o, "path", json_object_new_string(path));
    PQclear(res);
    *out = o;
    return DB_OK;
}

/* The ticket's caller, from live_ticket_take's row. */
static void identity_from_ticket(const PGresult *res, struct identity *who)
{
    memset(who, 0, sizeof *who);
    if (!PQgetisnull(res, 0, 0)) {
        who->kind = CALLER_USER;
        snprintf(who->user_id, sizeof who->user_id, "%s", PQgetvalue(res, 0, 0));
    } else {
        who->kind = CALLER_API_KEY;
        snprintf(who->key_id, sizeof who->key_id, "%s", PQgetvalue(res, 0, 1));
        snprintf(who->project_id, sizeof who->project_id, "%s", PQgetvalue(res, 0, 2));
        snprintf(who->org_id, sizeof who->org_id, "%s", PQgetvalue(res, 0, 3));
    }
}

enum live_auth live_ticket_authorize(struct db *db, const char *ticket, const struct live_channel *c,
                                     enum db_status *st)
{
    char hash[2 * SHA256_LEN + 1], channel[16 + UUID_STR_LEN];
    PGresult *res = NULL;
    struct identity who;

    sha256_hex(ticket, strlen(ticket), hash);
    const char *take[1] = {hash};
    /* Its own statement, committed at once: a ticket is spent even when
     * what follows refuses the subscription. */
    if ((*st = db_exec(db, SQL_TAKE, 1, take, &res)) != DB_OK)
        return LIVE_AUTH_DB;
    if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 5), "t") != 0) {
        PQclear(res);
        return LIVE_AUTH_BAD_TICKET;
    }
    live_channel_name(c, channel);
    bool same = strcmp(PQgetvalue(res, 0, 4), channel) == 0;
    identity_from_ticket(res, &who);
    PQclear(res);
    if (!same)
        return LIVE_AUTH_WRONG_CHANNEL;

    if ((*st = db_begin_as(db, &who)) != DB_OK)
        return LIVE_AUTH_DB;
    const char *params[1] = {c->id};
    *st = db_exec(db, KINDS[c->kind].sees, 1, params, &res);
    if (*st != DB_OK) {
        db_rollback(db);
        return LIVE_AUTH_DB;
    }
    bool sees = PQntuples(res) == 1;
    PQclear(res);
    if ((*st = db_commit(db)) != DB_OK)
        return LIVE_AUTH_DB;
    return sees ? LIVE_AUTH_OK : LIVE_AUTH_NOT_FOUND;
}
