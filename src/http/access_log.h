/* The workers' access log: one JSON line per request on stderr (run.sh
 * sends it to var/log/workers.log), written with one write(2) so lines of
 * concurrent workers never interleave. It names the route pattern, never
 * the raw path or query string, and the caller by id: tokens, API keys,
 * the Authorization header and bodies never reach it. */
#ifndef AGORA_ACCESS_LOG_H
#define AGORA_ACCESS_LOG_H

#include <stdint.h>
#include <time.h>

#include "util/buf.h"
#include "http/request.h"

/* One line's fields. Strings are borrowed; NULL is written as null. */
struct access_entry {
    struct timespec time;     /* wall clock when the request was accepted */
    const char *request_id;
    const char *method;
    const char *route;        /* the route pattern; NULL when none matched */
    int status;
    uint64_t duration_us;
    const char *org_id;       /* the caller's organization when known */
    const char *user_id;      /* a user's JWT subject */
    const char *api_key_id;   /* an API key's id (never its secret) */
    uint64_t bytes_in;        /* request body bytes read */
    uint64_t bytes_out;       /* response body bytes written */
    long pid;                 /* the worker */
};

/* Appends e as one JSON object and a newline:
 * {"time","level","request_id","method","route","status","duration_ms",
 *  "org_id","user_id","api_key_id","bytes_in","bytes_out","pid"}.
 * time is RFC 3339 UTC with milliseconds; every string is JSON-escaped
 * (control characters as \u00XX, bytes that are not UTF-8 as U+FFFD). */
void access_log_format(struct buf *out, const struct access_entry *e);

/* The entry of a finished request: route, status and bytes from r, the
 * caller from r->who (the organization from an API key, or from the path
 * of an /api/organizations/{id}/... route). */
void access_log_entry(struct access_entry *e, const struct req *r, const struct timespec *started,
                      uint64_t duration_us);

/* Formats the entry of r and writes it to stderr in one write. */
void access_log_request(const struct req *r, const struct timespec *started, uint64_t duration_us);

#endif
