/* The API's error codes and the writer of error bodies. Codes are stable
 * strings clients and tests match on; messages are for people and never
 * carry internals (SQL, errno text, credentials). */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "text.h"
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
    const unsigned char *p = (const unsigned char *)src;
    /* Whole characters only: bytes that are not well-formed UTF-8 are
     * dropped (the text goes into JSON, which must be UTF-8), and so are
     * the characters a name may not hold (control and invisible format
     * characters, text.h), which could hide or reorder the text around
     * them; a character that does not fit ends the copy. */
    while (*p) {
        size_t n = utf8_seq_len(p, strnlen((const char *)p, 4));
        if (n == 0) {
            p++;
            continue;
        }
        if (name_char_class(utf8_decode(p, n)) != NAME_CHAR_OK) {
            p += n;
            continue;
        }
        if (o + n >= dstlen)
            break;
        memcpy(dst + o, p, n);
        o += n;
        p += n;
    }
    dst[o] = '\0';
}

int reply_error(struct req *r, enum api_error e, const char *path, const char *fmt, ...)
{
    char raw[512], msg[301], cpath[256];
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
