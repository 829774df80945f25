/* The client side of the ingest route (see ingest_client.h). */
#include "domain/ingest_client.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "json/json_scan.h"
#include "util/retry.h"
#include "util/text.h"

/* Answers are small; nesting deeper than this is not the API's. */
#define ANSWER_MAX_DEPTH 8

int ingest_url(const char *url, struct buf *out, const char **why)
{
    static const char scheme[] = "https://";
    size_t n = strlen(url);
    if (n < sizeof scheme - 1 || strncasecmp(url, scheme, sizeof scheme - 1) != 0) {
        *why = "the URL must start with https://";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f) {
            *why = "the URL may hold only visible ASCII characters";
            return -1;
        }
        if (c == '?' || c == '#') {
            *why = "the URL may not have a query or a fragment";
            return -1;
        }
    }
    const char *host = url + sizeof scheme - 1;
    size_t host_len = strcspn(host, "/");
    if (host_len == 0) {
        *why = "the URL has no host";
        return -1;
    }
    if (memchr(host, '@', host_len)) {
        *why = "the URL may not hold credentials (user@host): use --api-key-file or --token-file";
        return -1;
    }
    while (n > (size_t)(host - url) + host_len && url[n - 1] == '/')
        n--;
    buf_append(out, url, n);
    if (n < 4 || strncmp(url + n - 4, "/api", 4) != 0 || n - 4 < (size_t)(host - url) + host_len)
        buf_puts(out, "/api");
    buf_puts(out, "/executions/ingest");
    return 0;
}

void ingest_answer_init(struct ingest_answer *a)
{
    memset(a, 0, sizeof *a);
    a->retry_after_s = -1;
}

/* The value of header line (len bytes) when its name is name, trimmed, or
 * NULL. */
static const char *header_value(const char *line, size_t len, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
        return NULL;
    const char *v = line + nl + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *vlen = (size_t)(end - v);
    return v;
}

/* Copies len bytes of untrusted text into dst (cap bytes), sanitized. */
static void copy_text(char *dst, size_t cap, const char *src, size_t len)
{
    char tmp[INGEST_ANSWER_MESSAGE_MAX];
    if (len >= sizeof tmp)
        len = sizeof tmp - 1;
    memcpy(tmp, src, len);
    tmp[len] = '\0';
    sanitize_text(dst, cap, tmp);
}

void ingest_answer_header(struct ingest_answer *a, const char *line, size_t len, time_t now)
{
    const char *v;
    size_t vlen;
    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        long status = a->status;
        ingest_answer_init(a);
        a->status = status;
    } else if ((v = header_value(line, len, "Retry-After", &vlen)) != NULL) {
        long long s = -1;
        a->retry_after_s = retry_after_parse(v, vlen, now, &s) == 0 ? s : -1;
    } else if ((v = header_value(line, len, "Idempotent-Replayed", &vlen)) != NULL) {
        a->replayed = vlen == 4 && strncasecmp(v, "true", 4) == 0;
    } else if ((v = header_value(line, len, "X-Request-Id", &vlen)) != NULL) {
        copy_text(a->request_id, sizeof a->request_id, v, vlen);
    }
}

/* Copies member name of obj when it is a string. */
static void copy_member(struct json_object *obj, const char *name, char *dst, size_t cap)
{
    struct json_object *v;
    if (json_object_object_get_ex(obj, name, &v) && json_object_is_type(v, json_type_string))
        copy_text(dst, cap, json_object_get_string(v), (size_t)json_object_get_string_len(v));
}

/* The body as a JSON object (a new reference), or NULL. */
static struct json_object *parse_object(const char *body, size_t len)
{
    struct json_object *obj = NULL;
    struct json_tokener *tok;
    if (len == 0 || len > (size_t)INT32_MAX || !(tok = json_tokener_new_ex(ANSWER_MAX_DEPTH)))
        return NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    obj = json_tokener_parse_ex(tok, body, (int)len);
    if (obj && (json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) != len ||
                !json_object_is_type(obj, json_type_object))) {
        json_object_put(obj);
        obj = NULL;
    }
    json_tokener_free(tok);
    return obj;
}

/* The fields of the answer's body: execution_id of a success, the error
 * object's members otherwise. */
static void read_body(struct ingest_answer *a, const char *body, size_t len)
{
    struct json_object *obj = parse_object(body, len), *err;
    if (!obj)
        return;
    copy_member(obj, "execution_id", a->execution_id, sizeof a->execution_id);
    if (json_object_object_get_ex(obj, "error", &err) && json_object_is_type(err, json_type_object)) {
        copy_member(err, "code", a->code, sizeof a->code);
        copy_member(err, "path", a->path, sizeof a->path);
        copy_member(err, "message", a->message, sizeof a->message);
        copy_member(err, "request_id", a->request_id, sizeof a->request_id);
    }
    json_object_put(obj);
}

enum ingest_verdict ingest_answer_verdict(struct ingest_answer *a, const char *body, size_t len)
{
    bool has_path;
    read_body(a, body, len);
    has_path = a->path[0] != '\0';
    switch (a->status) {
    case 200:
    case 201:
        /* Only the API's own answer proves the payload stored: a proxy's
         * or a captive portal's 200 page must not empty the spool. */
        return a->execution_id[0] ? IV_STORED : IV_STOP;
    case 409:
        /* Without a field: the execution is closed (it has everything
         * this payload could add, or refuses it for good: either way there
         * is nothing to retry), or the Idempotency-Key is busy (retry). */
        if (has_path)
            return IV_REFUSED;
        if (strstr(a->message, "terminal")) {
            a->closed = true;
            return IV_STORED;
        }
        return IV_RETRY;
    case 400:
    case 413:
    case 422:
        return IV_REFUSED;
    case 404:
        /* The ingest route names the field (workflow_id, execution_id...);
         * a 404 without one means the URL is not the API. */
        return has_path ? IV_REFUSED : IV_STOP;
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
        return IV_RETRY;
    default:
        return IV_STOP;
    }
}

void ingest_answer_describe(const struct ingest_answer *a, struct buf *out)
{
    buf_printf(out, "%ld", a->status);
    if (a->code[0])
        buf_printf(out, " %s", a->code);
    if (a->path[0])
        buf_printf(out, " at %s", a->path);
    if (a->message[0])
        buf_printf(out, ": %s", a->message);
    if (a->request_id[0])
        buf_printf(out, " (request %s)", a->request_id);
}

static void json_member(struct buf *out, const char *name, const char *value)
{
    if (!value[0])
        return;
    buf_printf(out, ",\"%s\":", name);
    buf_json_string(out, value, strlen(value));
}

void ingest_answer_json(const struct ingest_answer *a, const char *source, struct buf *out)
{
    buf_puts(out, "{\"source\":");
    buf_json_string(out, source, strlen(source));
    buf_printf(out, ",\"status\":%ld", a->status);
    json_member(out, "code", a->code);
    json_member(out, "path", a->path);
    json_member(out, "message", a->message);
    json_member(out, "request_id", a->request_id);
    buf_puts(out, "}\n");
}

bool ingest_payload_execution_id(const char *text, size_t len, char out[INGEST_EXECUTION_ID_MAX + 1])
{
    static const char name[] = "execution_id";
    struct jscan s;
    struct jcont c;
    struct jstr key, val;
    bool found = false;
    int more;

    js_init(&s, text, len, 64);
    if (js_peek(&s) != JT_OBJECT)
        return false;
    js_enter(&s, &c, 1);
    while ((more = js_next(&s, &c, &key)) == 1) {
        char k[sizeof name];
        bool is_id = jstr_unescape(&key, k, sizeof k) == sizeof name - 1 && memcmp(k, name, sizeof name - 1) == 0;
        if (is_id && js_peek(&s) == JT_STRING) {
            if (js_string(&s, &val) < 0)
                return false;
            size_t n = jstr_unescape(&val, out, INGEST_EXECUTION_ID_MAX);
            found = n <= INGEST_EXECUTION_ID_MAX;
            if (found) {
                out[n] = '\0';
                for (size_t i = 0; i < n; i++)
                    out[i] = (char)tolower((unsigned char)out[i]);
            }
        } else {
            if (is_id)
                found = false; /* the last one counts, and it is not a string */
            if (js_skip(&s, 2, NULL) < 0)
                return false;
        }
    }
    return more == 0 && found;
}
