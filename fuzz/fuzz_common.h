/* Shared pieces of the libFuzzer harnesses (fuzz/fuzz.sh builds them): the
 * worker's default limits as a struct config, a copy of the input without a
 * terminating NUL (so AddressSanitizer sees any read past the end), and a
 * sink that keeps what a reply wrote. */
#ifndef AGORA_FUZZ_COMMON_H
#define AGORA_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "util/buf.h"
#include "ops/config.h"
#include "http/request.h"

/* The defaults of config.c (AGORA_MAX_*), without reading the environment. */
static inline void fuzz_default_config(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->jwt_alg = PIN_HS256;
    cfg->jwt_leeway_s = 30;
    cfg->max_body_bytes = 16u << 20;
    cfg->max_items = 100000;
    cfg->max_depth = 64;
    cfg->max_string_bytes = 64 * 1024;
    cfg->statement_timeout_ms = 30000;
    cfg->connect_timeout_s = 2;
}

/* The input in a heap block of exactly size bytes (no NUL after it). */
static inline char *fuzz_copy(const uint8_t *data, size_t size)
{
    char *p = malloc(size ? size : 1);
    if (!p)
        abort();
    if (size)
        memcpy(p, data, size);
    return p;
}

/* The input up to its first NUL, as a C string (what a FastCGI parameter
 * can be). */
static inline char *fuzz_cstring(const uint8_t *data, size_t size)
{
    size_t n = strnlen((const char *)data, size);
    char *p = malloc(n + 1);
    if (!p)
        abort();
    memcpy(p, data, n);
    p[n] = '\0';
    return p;
}

static inline int fuzz_sink_write(void *ctx, const char *data, size_t len)
{
    buf_append((struct buf *)ctx, data, len);
    return 0;
}

/* Every reply the server writes must be CGI headers, a blank line and,
 * when there is a body, one JSON value: abort (a finding) otherwise. */
static inline void fuzz_check_reply(const struct buf *out)
{
    if (out->len == 0)
        return;
    const char *sep = strstr(out->data, "\r\n\r\n");
    if (!sep || strncmp(out->data, "Status: ", 8) != 0) {
        fprintf(stderr, "reply without CGI headers: %.200s\n", out->data);
        abort();
    }
    const char *body = sep + 4;
    size_t blen = out->len - (size_t)(body - out->data);
    if (blen == 0)
        return;
    struct json_tokener *tok = json_tokener_new();
    struct json_object *obj = json_tokener_parse_ex(tok, body, (int)blen);
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!obj || e != json_tokener_success || (end != blen && !(end + 1 == blen && body[end] == '\n'))) {
        fprintf(stderr, "reply body is not one JSON value: %.300s\n", body);
        abort();
    }
    json_object_put(obj);
}

#endif
