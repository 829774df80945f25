/* The router: the route table is data ({method, pattern, handler, auth}); the
 * dispatcher answers 404, 405 (with Allow), 401, 403, 413 (beyond the
 * route's body limit, from the headers alone), 415 and 422
 * (a query parameter on a route that takes none) before
 * any handler runs, so a handler only sees requests it can serve. */
#ifndef AGORA_ROUTER_H
#define AGORA_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "http/request.h"

typedef void (*handler_fn)(struct req *r);

enum auth_need {
    AUTH_NONE,      /* public (health) */
    AUTH_ANY,       /* a user's JWT or a project's API key */
    AUTH_USER,      /* a user's JWT only: an API key gets 403 (admin routes) */
};

enum body_need {
    BODY_NONE,      /* a body is refused with 415 unless empty */
    BODY_JSON,      /* application/json required */
    BODY_JSON_OPT,  /* application/json when a body is present */
    BODY_OTLP,      /* any body, its type and coding checked by the handler; every error
                       answered as OTLP expects (errors.h) */
};

enum db_need {
    DB_PRIMARY,     /* runs on the primary: writes, and reads that write (stats fold first) */
    DB_STANDBY_OK,  /* a pure read: may run on the hot standby once it has caught up (db/replica.h) */
};

enum query_need {
    QUERY_NONE,     /* any query parameter answers 422 naming it */
    QUERY_OWN,      /* the handler parses its own (query.h whitelist) */
};

struct route {
    const char *method;
    const char *pattern;   /* literal segments; {id}, which matches a UUID; and at
                              most one other {word}, a name, which matches any
                              segment that percent-decodes to 1..REQ_NAME_MAX
                              bytes of UTF-8 without NUL (its handler checks it
                              further) */
    handler_fn handler;
    enum auth_need auth;
    enum body_need body;
    enum query_need query;
    size_t max_body;       /* bytes; 0: AGORA_MAX_BODY_BYTES, else the smaller of the two */
    enum db_need db;
};

enum route_result { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD };

/* Pure matching, no I/O. On ROUTE_FOUND *found is the route and r->params
 * hold the {id} values (lowercased) and the name's value (decoded), in
 * the pattern's order. On ROUTE_BAD_METHOD allow holds the
 * methods the path accepts ("GET, POST"). */
enum route_result router_match(const struct route *table, size_t n, struct req *r,
                               const struct route **found, char *allow, size_t allowlen);

/* Runs one request through matching, auth, body reading and the handler,
 * and makes sure exactly one response is sent. */
void router_dispatch(const struct route *table, size_t n, struct req *r);

#endif
