/* The API's error codes and the writer of error bodies. Codes are stable
 * strings clients and tests match on; messages are for people and never
 * carry internals (SQL, errno text, credentials). */
#include "http/errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/buf.h"
#include "util/text.h"
#include "http/response.h"
#include "otlp/otlp_decode.h"

static const struct {
    int status;
    const char *code;
} error_table[] = {
    [E_BAD_JSON] = {400, "bad_json"},
    [E_BAD_REQUEST] = {400, "bad_request"},
    [E_UNAUTHORIZED] = {401, "unauthorized"},
    [E_FORBIDDEN] = {403, "forbidden"},
    [E_NOT_FOUND] = {404, "not_found"},
    [E_METHOD] = {405, "method_not_allowed"},
    [E_CONFLICT] = {409, "conflict"},
    [E_RESYNC] = {409, "resync_required"},
    [E_TOO_LARGE] = {413, "payload_too_large"},
    [E_MEDIA_TYPE] = {415, "unsupported_media_type"},
    [E_VALIDATION] = {422, "validation_failed"},
    [E_INTERNAL] = {500, "internal"},
    [E_UNAVAILABLE] = {503, "unavailable"},
};

int api_error_status(enum api_error e)
{
    return error_table[e].status;
}

const char *api_error_code(enum api_error e)
{
    return error_table[e].code;
}

/* The gRPC code (google.rpc.Code) OTLP's Status carries for an HTTP
 * status of ours. */
static int32_t rpc_code(int status)
{
    switch (status) {
    case 400: case 422: return 3; /* INVALID_ARGUMENT */
    case 401: return 16;          /* UNAUTHENTICATED */
    case 403: return 7;           /* PERMISSION_DENIED */
    case 404: return 5;           /* NOT_FOUND */
    case 409: return 10;          /* ABORTED */
    case 413: return 8;           /* RESOURCE_EXHAUSTED */
    case 405: case 415: return 12; /* UNIMPLEMENTED */
    case 503: return 14;          /* UNAVAILABLE */
    default: return 13;           /* INTERNAL */
    }
}

/* An error on an OTLP route: a google.rpc.Status (reply_error). */
static void reply_otlp_status(struct req *r, int status, const char *msg)
{
    enum otlp_format fmt;
    if (otlp_format_parse(r->content_type, &fmt) != OTLP_OK)
        fmt = OTLP_JSON;
    struct buf b;
    buf_init(&b);
    otlp_status(fmt, rpc_code(status), msg, &b);
    reply_body(r, status, fmt == OTLP_PROTOBUF ? "application/x-protobuf" : "application/json", b.data, b.len);
    buf_free(&b);
}

int reply_error(struct req *r, enum api_error e, const char *path, const char *fmt, ...)
{
    char raw[512], msg[301], cpath[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    sanitize_text(msg, sizeof msg, raw);
    if (r->otlp_answers) {
        reply_otlp_status(r, error_table[e].status, msg);
        return -1;
    }

    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"error\":{\"code\":\"");
    buf_puts(&b, error_table[e].code);
    buf_puts(&b, "\",\"message\":");
    buf_json_string(&b, msg, strlen(msg));
    if (path) {
        /* Paths may carry client text (a member or parameter name). */
        sanitize_text(cpath, sizeof cpath, path);
        buf_puts(&b, ",\"path\":");
        buf_json_string(&b, cpath, strlen(cpath));
    }
    if (r->request_id[0]) {
        buf_puts(&b, ",\"request_id\":");
        buf_json_string(&b, r->request_id, strlen(r->request_id));
    }
    buf_puts(&b, "}}");
    reply_json_text(r, error_table[e].status, b.data, b.len);
    buf_free(&b);
    return -1;
}

/* The one mapping from a database outcome to what the client is told:
 * the error and its generic message. DB_OK never reaches a reply. */
static const struct {
    enum api_error e;
    const char *message;
} db_errors[] = {
    [DB_OK] = {E_INTERNAL, "internal error"},
    [DB_UNAVAILABLE] = {E_UNAVAILABLE, "the database is unavailable; retry later"},
    [DB_TIMEOUT] = {E_UNAVAILABLE, "the database did not answer in time; retry later"},
    [DB_CONFLICT] = {E_CONFLICT, "this conflicts with an existing resource"},
    [DB_NOT_FOUND] = {E_NOT_FOUND, "no such resource"},
    [DB_FORBIDDEN] = {E_FORBIDDEN, "your role does not allow this"},
    [DB_INVALID] = {E_VALIDATION, "a value was rejected by the database"},
    [DB_ERROR] = {E_INTERNAL, "internal error"},
};

enum api_error api_error_of_db(enum db_status st)
{
    return (unsigned)st < sizeof db_errors / sizeof db_errors[0] ? db_errors[st].e : E_INTERNAL;
}

int reply_db_error_why(struct req *r, enum db_status st, const char *path, const char *message)
{
    enum api_error e = api_error_of_db(st);
    if (e == E_UNAVAILABLE)
        reply_header(r, "Retry-After", "1");
    if (message && e != E_INTERNAL && e != E_UNAVAILABLE)
        return reply_error(r, e, path && path[0] ? path : NULL, "%s", message);
    return reply_error(r, e, NULL, "%s", e == E_INTERNAL ? "internal error" : db_errors[st].message);
}

int reply_db_error(struct req *r, enum db_status st)
{
    return reply_db_error_why(r, st, NULL, NULL);
}
