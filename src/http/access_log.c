/* The access log line: built whole in a buffer, then written with a single
 * write(2) on stderr, whose file is opened O_APPEND by fcgi/agora-workers,
 * so concurrent workers' lines land whole. See access_log.h. */
#include "http/access_log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "http/router.h"
#include "util/text.h"

/* Client-chosen strings (the method) are cut here: a log line stays small. */
#define MAX_FIELD_BYTES 256

/* A field as a JSON string (buf.h's writer), cut at MAX_FIELD_BYTES, or
 * null when absent. */
static void json_string(struct buf *out, const char *s)
{
    if (!s) {
        buf_puts(out, "null");
        return;
    }
    buf_json_string(out, s, strnlen(s, MAX_FIELD_BYTES));
}

void access_log_format(struct buf *out, const struct access_entry *e)
{
    struct tm tm;
    char when[32];
    time_t secs = e->time.tv_sec;
    if (!gmtime_r(&secs, &tm) || strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        strcpy(when, "1970-01-01T00:00:00");
    buf_printf(out, "{\"time\":\"%s.%03ldZ\",\"level\":\"info\",\"request_id\":", when,
               (long)(e->time.tv_nsec / 1000000));
    json_string(out, e->request_id);
    buf_puts(out, ",\"method\":");
    json_string(out, e->method);
    buf_puts(out, ",\"route\":");
    json_string(out, e->route);
    buf_printf(out, ",\"status\":%d,\"duration_ms\":%" PRIu64 ".%03" PRIu64 ",\"org_id\":", e->status,
               e->duration_us / 1000, e->duration_us % 1000);
    json_string(out, e->org_id);
    buf_puts(out, ",\"user_id\":");
    json_string(out, e->user_id);
    buf_puts(out, ",\"api_key_id\":");
    json_string(out, e->api_key_id);
    buf_printf(out, ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64 ",\"pid\":%ld}\n", e->bytes_in,
               e->bytes_out, e->pid);
}

void access_log_entry(struct access_entry *e, const struct req *r, const struct timespec *started,
                      uint64_t duration_us)
{
    static const char org_prefix[] = "/api/organizations/{id}";
    memset(e, 0, sizeof *e);
    e->time = *started;
    e->request_id = r->request_id[0] ? r->request_id : NULL;
    e->method = r->method;
    e->route = r->route ? r->route->pattern : NULL;
    e->status = r->status;
    e->duration_us = duration_us;
    if (r->who.kind == CALLER_USER) {
        e->user_id = r->who.user_id;
    } else if (r->who.kind == CALLER_API_KEY) {
        e->api_key_id = r->who.key_id;
        e->org_id = r->who.org_id;
    }
    /* A user's organization is known only where the path names it. */
    if (!e->org_id && r->route && r->nparams > 0 &&
        strncmp(r->route->pattern, org_prefix, sizeof org_prefix - 1) == 0)
        e->org_id = r->params[0];
    e->bytes_in = r->body_len;
    e->bytes_out = r->bytes_out;
    e->pid = (long)getpid();
}

void access_log_request(const struct req *r, const struct timespec *started, uint64_t duration_us)
{
    struct access_entry e;
    struct buf line;
    access_log_entry(&e, r, started, duration_us);
    buf_init(&line);
    access_log_format(&line, &e);
    ssize_t n;
    do
        n = write(STDERR_FILENO, line.data, line.len);
    while (n < 0 && errno == EINTR);
    buf_free(&line);
}
