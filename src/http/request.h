/* The request context: everything one request owns, from the FastCGI
 * parameters to the caller's identity and the response state. One struct,
 * released in one call (req_release), so handlers never free piecemeal. */
#ifndef AGORA_REQUEST_H
#define AGORA_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
#include "auth/identity.h"
#include "util/uuid.h"

struct config;
struct db;
struct route;

#define REQ_MAX_PATH_PARAMS 4
/* The longest name parameter of a path ({model}, router.h), in bytes once
 * percent-decoded. */
#define REQ_NAME_MAX 1024

/* Where response bytes go: FastCGI's output stream in the worker, a buffer
 * in unit tests. write returns 0, or -1 when the client went away. */
struct req_sink {
    int (*write)(void *ctx, const char *data, size_t len);
    void *ctx;
};

/* Where body bytes come from: FastCGI's input stream, or a buffer in tests.
 * read returns bytes read (0 at end), or -1 on error. */
struct req_source {
    long (*read)(void *ctx, char *data, size_t len);
    void *ctx;
};

struct req {
    /* Filled by the front end (fcgi_io.c or a test) before router_dispatch. */
    const char *method;          /* "GET", ... */
    const char *path;            /* raw path, no query, not percent-decoded */
    const char *query;           /* raw query string without '?', or "" */
    const char *content_type;    /* NULL when absent */
    const char *content_length;  /* the raw header, NULL when absent */
    const char *authorization;   /* NULL when absent */
    const char *idempotency_key; /* NULL when absent */
    const char *content_encoding; /* NULL when absent (OTLP bodies may be gzip or deflate) */
    const char *live_uri;        /* AGORA_LIVE_URI: the subscriber's URI, set by nginx's
                                    internal live-authorize location only; else NULL */
    const char *last_event_id;   /* the Last-Event-ID header, NULL when absent */
    char request_id[40];         /* from nginx's $request_id, else generated */
    struct req_source source;
    struct req_sink sink;
    const struct config *cfg;
    struct db *db;               /* the worker's connection (borrowed); the router points it at
                                    read_db for the route's handler when the standby may serve it */
    struct db *read_db;          /* the hot standby's connection (borrowed), NULL without one */

    /* Filled by the router. */
    const struct route *route;   /* the matched route, NULL when none (404/405) */
    const char *params[REQ_MAX_PATH_PARAMS]; /* {id} and name values, NUL-terminated */
    char param_store[REQ_MAX_PATH_PARAMS][UUID_STR_LEN + 1];
    char name_store[REQ_NAME_MAX + 1];       /* the name's value (one per pattern) */
    int nparams;
    struct identity who;
    bool otlp_answers;           /* an OTLP route: errors are google.rpc.Status bodies (errors.h) */
    char *body;                  /* owned; NUL-terminated; NULL when none */
    size_t body_len;

    /* Response state. */
    int status;                  /* 0 until a reply has started */
    bool headers_sent;
    size_t bytes_out;            /* body bytes written (access log) */
    struct buf extra_headers;    /* "Name: value\r\n" lines added by handlers */
};

/* Zeroes r and prepares its owned parts. */
void req_init(struct req *r);
/* Frees everything r owns; safe to call twice. */
void req_release(struct req *r);

#endif
