/* Authentication: turning the Authorization header into r->who.
 *
 * Two kinds of credential arrive as "Bearer TOKEN":
 * - a JWT from the users' identity provider, verified by auth/jwt.c;
 * - an "agk_" API key, looked up by the id it embeds; its secret's hash is
 *   compared in constant time with the stored one.
 * Every failure answers the same 401, so a client learns nothing about why;
 * the reason goes to the log, never the credential. */
#include "http/authenticate.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "auth/apikey.h"
#include "auth/jwt.h"
#include "db/db.h"
#include "http/errors.h"
#include "http/response.h"
#include "ops/config.h"
#include "util/text.h"

/* ---- Bearer header and query string ---------------------------------- */

int auth_bearer_token(const char *header, const char **tok, size_t *len)
{
    static const char scheme[] = "Bearer";
    const char *p, *start;

    if (header == NULL || strncasecmp(header, scheme, sizeof scheme - 1) != 0)
        return -1;
    p = header + sizeof scheme - 1;
    if (*p != ' ')
        return -1;
    while (*p == ' ')
        p++;
    start = p;
    /* Visible ASCII only: no spaces, controls or bytes >= 0x80 inside. */
    while (*p > ' ' && *p < 0x7f)
        p++;
    if (p == start)
        return -1;
    *len = (size_t)(p - start);
    while (*p == ' ')
        p++;
    if (*p != '\0')
        return -1;
    *tok = start;
    return 0;
}

int auth_query_has_credential(const char *query)
{
    /* Names are compared raw (not percent-decoded): the point is to stop the
     * common mistake of pasting a token into a URL, where it would end up in
     * access logs and browser history, not to parse adversarial URLs. */
    static const char *const names[] = {
        "access_token", "token", "api_key", "apikey", "key", "jwt", "authorization",
    };
    const char *p = query;

    if (p == NULL)
        return 0;
    while (*p != '\0') {
        size_t seg = strcspn(p, "&");
        size_t nlen = strcspn(p, "&="); /* never beyond seg */
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (strlen(names[i]) == nlen && strncasecmp(p, names[i], nlen) == 0)
                return 1;
        }
        p += seg;
        if (*p == '&')
            p++;
    }
    return 0;
}

/* ---- API keys -------------------------------------------------------- */

/* Decodes exactly 2 * APIKEY_HASH_LEN hex digits. 0, or -1. */
static int hash_from_hex(const char *hex, size_t len, unsigned char out[APIKEY_HASH_LEN])
{
    if (len != 2 * APIKEY_HASH_LEN)
        return -1;
    for (size_t i = 0; i < APIKEY_HASH_LEN; i++) {
        int hi = hex_digit_value(hex[2 * i]), lo = hex_digit_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static int reply_unauthorized(struct req *r, const char *message)
{
    /* RFC 6750 3: a 401 for a protected resource names the scheme. */
    reply_header(r, "WWW-Authenticate", "Bearer realm=\"agora\"");
    return reply_error(r, E_UNAUTHORIZED, NULL, "%s", message);
}

static int reject_api_key(struct req *r, const char *why, const char *key_id)
{
    /* The key id names a row and is no secret; it tells an operator which
     * client is failing. The secret half is never logged. */
    fprintf(stderr, "auth: rejected api key: %s key_id=%s request_id=%s\n", why, key_id,
            r->request_id);
    return reply_unauthorized(r, "invalid API key");
}

/* Seconds between two updates of one key's last_used_at by one worker;
 * agora.api_key_touch() itself writes at most once a minute per key. */
#define TOUCH_INTERVAL_S 60

/* Records that the key was used (api_keys.last_used_at), outside the
 * request's transaction so a failed request counts too, and at most once
 * a minute per key and worker, so a busy key costs one round trip a
 * minute, not one per request. A failure is logged and otherwise ignored:
 * it must not fail the request. */
static void touch_api_key(struct db *db, const char *key_id)
{
    time_t now = time(NULL);
    size_t slot = 0;
    for (size_t i = 0; i < DB_TOUCHED_KEYS; i++) {
        if (strcmp(db->touched[i].key_id, key_id) == 0) {
            if (now - db->touched[i].at < TOUCH_INTERVAL_S && now >= db->touched[i].at)
                return;
            slot = i;
            break;
        }
        if (db->touched[i].at < db->touched[slot].at)
            slot = i;  /* the oldest entry makes room */
    }
    const char *params[1] = {key_id};
    if (db_exec(db, "SELECT agora.api_key_touch($1)", 1, params, NULL) != DB_OK)
        return;
    snprintf(db->touched[slot].key_id, sizeof db->touched[slot].key_id, "%s", key_id);
    db->touched[slot].at = now;
}

/* Looks the key up (outside any transaction: api_key_lookup is a SECURITY
 * DEFINER function because the caller's identity is not known yet) and
 * fills r->who. 0, or -1 after replying. */
static int identify_api_key(struct req *r, const char *tok, size_t len)
{
    static const char sql[] = "SELECT project_id, organization_id, encode(secret_hash,'hex'), "
                              "revoked FROM agora.api_key_lookup($1)";
    struct apikey_parts parts;
    unsigned char stored[APIKEY_HASH_LEN];
    const char *params[1];
    PGresult *res = NULL;
    enum db_status st;
    const char *project, *org, *revoked;
    int rc = -1;

    if (apikey_parse(tok, len, &parts) != 0) {
        rc = reject_api_key(r, "malformed", "-");
        goto out;
    }
    if (r->db == NULL) {
        rc = reject_api_key(r, "no database to check against", parts.id);
        goto out;
    }
    params[0] = parts.id;
    /* This runs before db_begin_as, whose reconnect-and-retry therefore has
     * not happened yet: do the same here, so the first API-key request
     * after a database restart is not a 503. */
    st = db_ensure(r->db);
    if (st == DB_OK) {
        st = db_exec(r->db, sql, 1, params, &res);
        /* Retry only a connection that was up and then broke, not a
         * fresh connect that just failed: that would double the wait. */
        if (st == DB_UNAVAILABLE && db_ensure(r->db) == DB_OK)
            st = db_exec(r->db, sql, 1, params, &res);
    }
    if (st != DB_OK) {
        rc = reply_db_error(r, st);
        goto out;
    }
    if (PQntuples(res) != 1 || PQnfields(res) != 4) {
        rc = reject_api_key(r, "unknown key", parts.id);
        goto out;
    }
    if (PQgetisnull(res, 0, 0) || PQgetisnull(res, 0, 1) || PQgetisnull(res, 0, 2) ||
        PQgetisnull(res, 0, 3) ||
        hash_from_hex(PQgetvalue(res, 0, 2), (size_t)PQgetlength(res, 0, 2), stored) != 0) {
        rc = reject_api_key(r, "stored row incomplete", parts.id);
        goto out;
    }
    /* Compare before looking at revoked, so both answers take the same
     * time; the message is the same anyway. */
    if (!apikey_hash_equal(parts.hash, stored)) {
        rc = reject_api_key(r, "secret mismatch", parts.id);
        goto out;
    }
    revoked = PQgetvalue(res, 0, 3);
    if (strcmp(revoked, "f") != 0) {
        rc = reject_api_key(r, "revoked", parts.id);
        goto out;
    }
    project = PQgetvalue(res, 0, 0);
    org = PQgetvalue(res, 0, 1);
    if (!uuid_valid(project) || !uuid_valid(org)) {
        fprintf(stderr, "auth: api_key_lookup returned a non-UUID id request_id=%s\n",
                r->request_id);
        rc = reply_error(r, E_INTERNAL, NULL, "internal error");
        goto out;
    }
    r->who.kind = CALLER_API_KEY;
    uuid_lower(parts.id, r->who.key_id);
    uuid_lower(project, r->who.project_id);
    uuid_lower(org, r->who.org_id);
    touch_api_key(r->db, r->who.key_id);
    rc = 0;

out:
    PQclear(res);
    OPENSSL_cleanse(&parts, sizeof parts);
    return rc;
}

/* ---- Entry point ----------------------------------------------------- */

int auth_identify_or_reply(struct req *r)
{
    const char *tok, *why = NULL;
    size_t len;
    char user_id[UUID_STR_LEN + 1];

    memset(&r->who, 0, sizeof r->who);

    /* First, so a client that put its token in the URL (and perhaps not in
     * the header) is told what is wrong. */
    if (auth_query_has_credential(r->query))
        return reply_unauthorized(r, "credentials in the URL are refused");
    if (r->authorization == NULL)
        return reply_unauthorized(r, "missing bearer token");
    if (auth_bearer_token(r->authorization, &tok, &len) != 0)
        return reply_unauthorized(r, "the Authorization header must be 'Bearer TOKEN'");

    if (len >= sizeof APIKEY_PREFIX - 1 && memcmp(tok, APIKEY_PREFIX, sizeof APIKEY_PREFIX - 1) == 0)
        return identify_api_key(r, tok, len);

    if (auth_verify_jwt(r->cfg, tok, len, (long long)time(NULL), user_id, &why) != 0) {
        fprintf(stderr, "auth: rejected token: %s request_id=%s\n", why, r->request_id);
        return reply_unauthorized(r, "invalid or expired token");
    }
    r->who.kind = CALLER_USER;
    memcpy(r->who.user_id, user_id, sizeof r->who.user_id);
    return 0;
}
