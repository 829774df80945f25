/* Writing the response through the request's sink in CGI form ("Status:"
 * line, headers, blank line, body), which nginx turns into HTTP. A reply
 * can start only once: a second attempt is dropped and logged, so a
 * handler bug can never interleave two bodies. */
#include "http/response.h"

#include <stdio.h>
#include <string.h>

#include "util/text.h"

const char *http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

static bool header_safe(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

void reply_header(struct req *r, const char *name, const char *value)
{
    if (r->headers_sent || !header_safe(name))
        return;
    char clean[1024];
    sanitize_text(clean, sizeof clean, value);
    buf_printf(&r->extra_headers, "%s: %s\r\n", name, clean);
}

int reply_start(struct req *r, int status, const char *content_type)
{
    if (r->headers_sent) {
        fprintf(stderr, "agora: second reply (%d) dropped for request_id=%s\n", status, r->request_id);
        return -1;
    }
    struct buf h;
    buf_init(&h);
    buf_printf(&h, "Status: %d %s\r\n", status, http_reason(status));
    if (content_type)
        buf_printf(&h, "Content-Type: %s\r\n", content_type);
    buf_puts(&h, "Cache-Control: no-store\r\n");
    if (r->request_id[0])
        buf_printf(&h, "X-Request-Id: %s\r\n", r->request_id);
    if (r->extra_headers.len)
        buf_append(&h, r->extra_headers.data, r->extra_headers.len);
    buf_puts(&h, "\r\n");
    r->status = status;
    r->headers_sent = true;
    int rc = r->sink.write(r->sink.ctx, h.data, h.len);
    buf_free(&h);
    return rc;
}

int reply_write(struct req *r, const char *data, size_t len)
{
    if (!r->headers_sent || len == 0)
        return r->headers_sent ? 0 : -1;
    r->bytes_out += len;
    return r->sink.write(r->sink.ctx, data, len);
}

int reply_json_text(struct req *r, int status, const char *text, size_t len)
{
    if (reply_start(r, status, "application/json") < 0)
        return -1;
    if (reply_write(r, text, len) < 0)
        return -1;
    return reply_write(r, "\n", 1);
}

int reply_body(struct req *r, int status, const char *content_type, const char *data, size_t len)
{
    if (reply_start(r, status, content_type) < 0)
        return -1;
    return reply_write(r, data, len);
}

int reply_empty(struct req *r, int status)
{
    return reply_start(r, status, NULL);
}
