/* The API's error codes and the writer of error bodies. Codes are stable
 * strings clients and tests match on; messages are for people and never
 * carry internals (SQL, errno text, credentials). */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "response.h"

static const struct {
    int status;
    const char *code;
} error_table[] = {
    [E_BAD_JSON] = {400, "bad_json"},
    [E_UNAUTHORIZED] = {401, "unauthorized"},
    [E_FORBIDDEN] = {403, "forbidden"},
    [E_NOT_FOUND] = {404, "not_found"},
    [E_METHOD] = {405, "method_not_allowed"},
    [E_CONFLICT] = {409, "conflict"},
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

void sanitize_text(char *dst, size_t dstlen, const char *src)
{
    if (dstlen == 0)
        return;
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)src; *p && o + 1 < dstlen; p++) {
        if (*p < 0x20 || *p == 0x7f)
            continue;
        dst[o++] = (char)*p;
    }
    /* Do not end in the middle of a UTF-8 sequence: back up over
     * continuation bytes to the lead byte, and drop the incomplete one. */
    if (o > 0 && ((unsigned char)dst[o - 1] & 0x80)) {
        size_t lead = o - 1;
        while (lead > 0 && ((unsigned char)dst[lead] & 0xC0) == 0x80)
            lead--;
        unsigned char c = (unsigned char)dst[lead];
        size_t want = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        if (o - lead < want)
            o = lead;
    }
    dst[o] = '\0';
}

int reply_error(struct req *r, enum api_error e, const char *path, const char *fmt, ...)
{
    char raw[512], msg[301];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    sanitize_text(msg, sizeof msg, raw);

    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"error\":{\"code\":\"");
    buf_puts(&b, error_table[e].code);
    buf_puts(&b, "\",\"message\":");
    buf_json_string(&b, msg, strlen(msg));
    if (path) {
        buf_puts(&b, ",\"path\":");
        buf_json_string(&b, path, strlen(path));
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
