/* The error vocabulary of the API: stable codes, their HTTP statuses, and the
 * one function that writes an error body. Every error a client sees goes
 * through reply_error, so its shape never varies. */
#ifndef AGORA_ERRORS_H
#define AGORA_ERRORS_H

#include "db/db.h"
#include "http/request.h"

enum api_error {
    E_BAD_JSON,        /* 400 bad_json */
    E_BAD_REQUEST,     /* 400 bad_request (a live subscription's ticket or message id) */
    E_UNAUTHORIZED,    /* 401 unauthorized */
    E_FORBIDDEN,       /* 403 forbidden */
    E_NOT_FOUND,       /* 404 not_found */
    E_METHOD,          /* 405 method_not_allowed */
    E_CONFLICT,        /* 409 conflict */
    E_RESYNC,          /* 409 resync_required (docs/LIVE.md) */
    E_TOO_LARGE,       /* 413 payload_too_large */
    E_MEDIA_TYPE,      /* 415 unsupported_media_type */
    E_VALIDATION,      /* 422 validation_failed */
    E_INTERNAL,        /* 500 internal */
    E_UNAVAILABLE,     /* 503 unavailable */
};

int api_error_status(enum api_error e);
const char *api_error_code(enum api_error e);

/* Writes {"error":{"code","message","path"?,"request_id"}} with the error's
 * status. path may be NULL. The formatted message is stripped of control
 * characters and cut at 300 bytes, since it may echo client text. Returns
 * -1 so callers can `return reply_error(...)` from int functions. */
/* On an OTLP route (r->otlp_answers) the body is instead OTLP's
 * google.rpc.Status, in the request's format (JSON when its Content-Type
 * is neither), with the gRPC code of the status and the same message. */
int reply_error(struct req *r, enum api_error e, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));


/* The API error a database outcome is answered with: the one mapping. */
enum api_error api_error_of_db(enum db_status st);

/* Replies with the error that fits st (503 with Retry-After, 409, 404,
 * 403, 422 or 500) and its generic message. Returns -1 so handlers can
 * `return reply_db_error(...)`. */
int reply_db_error(struct req *r, enum db_status st);

/* The same with the domain's own reason (path may be NULL or empty) when
 * there is one and st is a client's mistake (404, 403, 409, 422); the
 * generic message otherwise, so nothing internal leaks. */
int reply_db_error_why(struct req *r, enum db_status st, const char *path, const char *message);

#endif
