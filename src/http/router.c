/* Matching requests to routes and running the common steps every handler
 * relies on: 404/405 before anything else, then authentication, the body's
 * headers (415, 413 before a byte of it is read), the body itself, and the
 * caller's database transaction. The handler then only parses, decides,
 * makes its database call and replies. */
#include "http/router.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/authenticate.h"
#include "ops/config.h"
#include "db/db.h"
#include "db/replica.h"
#include "http/errors.h"
#include "http/query.h"
#include "http/response.h"
#include "util/text.h"
#include "util/uuid.h"

/* Percent-decodes the path segment s (len bytes; '+' is itself, as in
 * any path) into dst. False when an escape is malformed, or the result is
 * empty, longer than REQ_NAME_MAX, holds a NUL or is not well-formed
 * UTF-8: such a segment matches no name parameter. */
static bool decode_name(const char *s, size_t len, char dst[REQ_NAME_MAX + 1])
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            int hi = i + 2 < len ? hex_digit_value(s[i + 1]) : -1;
            int lo = hi >= 0 ? hex_digit_value(s[i + 2]) : -1;
            if (lo < 0)
                return false;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == 0 || n == REQ_NAME_MAX)
            return false;
        dst[n++] = (char)c;
    }
    dst[n] = '\0';
    for (size_t i = 0, k; i < n; i += k)
        if ((k = utf8_seq_len((const unsigned char *)dst + i, n - i)) == 0)
            return false;
    return n > 0;
}

/* Compares one path against one pattern segment by segment. {id} matches a
 * canonical UUID only, so a malformed id is a plain 404; another {word}
 * (a name parameter, one per pattern) a segment decode_name takes. */
static bool pattern_match(const char *pattern, const char *path, struct req *r)
{
    int np = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return false;
        p++;
        s++;
        const char *pe = strchr(p, '/'), *se = strchr(s, '/');
        size_t plen = pe ? (size_t)(pe - p) : strlen(p);
        size_t slen = se ? (size_t)(se - s) : strlen(s);
        if (plen == 4 && memcmp(p, "{id}", 4) == 0) {
            if (!uuid_valid_n(s, slen) || np >= REQ_MAX_PATH_PARAMS)
                return false;
            uuid_lower(s, r->param_store[np]);
            r->params[np] = r->param_store[np];
            np++;
        } else if (plen > 2 && p[0] == '{' && p[plen - 1] == '}') {
            if (np >= REQ_MAX_PATH_PARAMS || !decode_name(s, slen, r->name_store))
                return false;
            r->params[np++] = r->name_store;
        } else if (plen != slen || memcmp(p, s, plen) != 0) {
            return false;
        }
        p += plen;
        s += slen;
    }
    if (*p || *s)
        return false;
    r->nparams = np;
    return true;
}

enum route_result router_match(const struct route *table, size_t n, struct req *r,
                               const struct route **found, char *allow, size_t allowlen)
{
    bool path_known = false;
    *found = NULL;
    if (allowlen)
        allow[0] = '\0';
    if (!r->path || r->path[0] != '/')
        return ROUTE_NOT_FOUND;
    for (size_t i = 0; i < n; i++) {
        if (!pattern_match(table[i].pattern, r->path, r))
            continue;
        if (strcmp(table[i].method, r->method) == 0) {
            *found = &table[i];
            return ROUTE_FOUND;
        }
        if (allowlen && !strstr(allow, table[i].method)) {
            if (path_known)
                strncat(allow, ", ", allowlen - strlen(allow) - 1);
            strncat(allow, table[i].method, allowlen - strlen(allow) - 1);
        }
        path_known = true;
    }
    r->nparams = 0;
    return path_known ? ROUTE_BAD_METHOD : ROUTE_NOT_FOUND;
}

/* application/json, any case, optionally with parameters; a charset, when
 * given, must be UTF-8 since that is all we parse. */
static bool is_json_media_type(const char *ct)
{
    static const char want[] = "application/json";
    while (*ct == ' ')
        ct++;
    if (strncasecmp(ct, want, sizeof want - 1) != 0)
        return false;
    const char *rest = ct + sizeof want - 1;
    while (*rest == ' ')
        rest++;
    if (*rest == '\0')
        return true;
    if (*rest != ';')
        return false;
    const char *cs = strcasestr(rest, "charset=");
    if (!cs)
        return true;
    cs += 8;
    if (*cs == '"')
        cs++;
    return strncasecmp(cs, "utf-8", 5) == 0 && (cs[5] == '\0' || cs[5] == '"' || cs[5] == ';' || cs[5] == ' ');
}

/* Strict Content-Length (text.h, decimal_parse); 0 when absent, -1 when
 * malformed. */
static long long parse_content_length(const char *s)
{
    long long v = 0;
    if (!s || !*s)
        return 0;
    return decimal_parse(s, LLONG_MAX, &v) == 0 ? v : -1;
}

/* Reads exactly the declared length; the limit was checked before. */
static int read_body_or_reply(struct req *r, size_t len)
{
    r->body = xmalloc(len + 1);
    size_t got = 0;
    while (got < len) {
        long n = r->source.read(r->source.ctx, r->body + got, len - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    r->body[got] = '\0';
    r->body_len = got;
    if (got != len)
        return reply_error(r, E_BAD_JSON, NULL, "the body ended before Content-Length bytes");
    return 0;
}

static int body_or_reply(struct req *r, const struct route *rt)
{
    long long len = parse_content_length(r->content_length);
    if (len < 0)
        return reply_error(r, E_BAD_JSON, NULL, "malformed Content-Length");
    if (len == 0) {
        if (rt->body == BODY_JSON)
            return reply_error(r, E_BAD_JSON, NULL, "a JSON body is required");
        return 0;
    }
    if (rt->body == BODY_NONE)
        return reply_error(r, E_MEDIA_TYPE, NULL, "this route takes no body");
    if (rt->body != BODY_OTLP && (!r->content_type || !is_json_media_type(r->content_type)))
        return reply_error(r, E_MEDIA_TYPE, NULL, "the body must be application/json");
    size_t max = rt->max_body && rt->max_body < r->cfg->max_body_bytes ? rt->max_body : r->cfg->max_body_bytes;
    if ((unsigned long long)len > max)
        return reply_error(r, E_TOO_LARGE, NULL, "the body is larger than %zu bytes", max);
    return read_body_or_reply(r, (size_t)len);
}

static int authenticate_or_reply(struct req *r, const struct route *rt)
{
    if (rt->auth == AUTH_NONE)
        return 0;
    if (auth_identify_or_reply(r) < 0)
        return -1;
    if (rt->auth == AUTH_USER && r->who.kind != CALLER_USER)
        return reply_error(r, E_FORBIDDEN, NULL, "API keys cannot use this route; sign in as a user");
    return 0;
}

/* A route that reads no query still refuses one, so a misspelt filter or
 * a parameter meant for another route is never silently ignored. */
static int no_query_or_reply(struct req *r, const struct route *rt)
{
    static const char *const none[] = {NULL};
    struct query q;
    if (rt->query == QUERY_OWN || !r->query || !r->query[0])
        return 0;
    if (query_parse_or_reply(r, none, &q) < 0)
        return -1;
    query_free(&q);
    return 0;
}

void router_dispatch(const struct route *table, size_t n, struct req *r)
{
    const struct route *rt = NULL;
    char allow[64];
    switch (router_match(table, n, r, &rt, allow, sizeof allow)) {
    case ROUTE_NOT_FOUND:
        reply_error(r, E_NOT_FOUND, NULL, "no such resource");
        return;
    case ROUTE_BAD_METHOD:
        reply_header(r, "Allow", allow);
        reply_error(r, E_METHOD, NULL, "%s is not allowed here; allowed: %s", r->method, allow);
        return;
    case ROUTE_FOUND:
        r->route = rt;
        r->otlp_answers = rt->body == BODY_OTLP;
        break;
    }
    if (authenticate_or_reply(r, rt) < 0 || body_or_reply(r, rt) < 0 || no_query_or_reply(r, rt) < 0)
        return;
    /* Every authenticated handler runs in the caller's transaction, so row
     * level security applies to all it does. The handler commits what it
     * writes; whatever is still open afterwards is rolled back. */
    struct db *primary = r->db;
    if (rt->db == DB_STANDBY_OK && r->read_db && r->db)
        r->db = db_for_read(r->db, r->read_db, r->cfg ? r->cfg->read_wait_ms : 0);
    if (rt->auth != AUTH_NONE && r->db) {
        enum db_status st = db_begin_as(r->db, &r->who);
        if (st != DB_OK) {
            reply_db_error(r, st);
            r->db = primary;
            return;
        }
    }
    rt->handler(r);
    if (r->db)
        db_rollback(r->db);
    r->db = primary;
    if (!r->headers_sent) {
        fprintf(stderr, "agora: handler for %s %s sent no reply, request_id=%s\n", rt->method, rt->pattern,
                r->request_id);
        reply_error(r, E_INTERNAL, NULL, "internal error");
    }
}
