/* The unit tests' request harness: a buffer sink, a byte-string source that
 * records how it is read, a default configuration, and parsing of the
 * captured CGI response. See capture.h. */
#include "capture.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <criterion/criterion.h>

static const struct {
    const char *name, *value;
} default_env[] = {
    {"AGORA_JWT_SECRET", CAPTURE_JWT_SECRET},
    {NULL, NULL},
};

static const char *table_get(const char *name, void *ctx)
{
    (void)ctx;
    for (size_t i = 0; default_env[i].name; i++)
        if (strcmp(default_env[i].name, name) == 0)
            return default_env[i].value;
    return NULL;
}

static int sink_write(void *ctx, const char *data, size_t len)
{
    struct capture *c = ctx;
    c->sink_writes++;
    buf_append(&c->out, data, len);
    return 0;
}

static long source_read(void *ctx, char *data, size_t len)
{
    struct capture *c = ctx;
    c->src_reads++;
    size_t left = c->src_len - c->src_pos;
    size_t n = len < left ? len : left;
    if (c->src_chunk && n > c->src_chunk)
        n = c->src_chunk;
    memcpy(data, c->src + c->src_pos, n);
    c->src_pos += n;
    c->src_bytes_read += n;
    return (long)n;
}

void capture_init(struct capture *c, const char *method, const char *path)
{
    char err[256];

    memset(c, 0, sizeof *c);
    buf_init(&c->out);
    if (config_load(&c->cfg, table_get, NULL, err, sizeof err) != 0)
        cr_assert_fail("capture: the test configuration does not load: %s", err);
    req_init(&c->req);
    c->req.method = method;
    c->req.path = path;
    c->req.cfg = &c->cfg;
    c->req.sink.write = sink_write;
    c->req.sink.ctx = c;
    c->req.source.read = source_read;
    c->req.source.ctx = c;
    c->src = "";
}

void capture_fini(struct capture *c)
{
    req_release(&c->req);
    config_free(&c->cfg);
    buf_free(&c->out);
    json_object_put(c->json);
    c->json = NULL;
    c->json_parsed = false;
}

void capture_source(struct capture *c, const char *data, size_t len)
{
    c->src = data;
    c->src_len = len;
    c->src_pos = 0;
}

void capture_json_body(struct capture *c, const char *body)
{
    capture_source(c, body, strlen(body));
    snprintf(c->content_length, sizeof c->content_length, "%zu", strlen(body));
    c->req.content_length = c->content_length;
    c->req.content_type = "application/json";
}

/* Where the header block ends (the blank line), or NULL. */
static const char *header_end(const struct capture *c)
{
    if (!c->out.data)
        return NULL;
    return memmem(c->out.data, c->out.len, "\r\n\r\n", 4);
}

int capture_status(const struct capture *c)
{
    int st = 0;
    if (!c->out.data || strncmp(c->out.data, "Status: ", 8) != 0)
        return -1;
    const char *p = c->out.data + 8;
    for (int i = 0; i < 3; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        st = st * 10 + (p[i] - '0');
    }
    if (p[3] != ' ')
        return -1;
    return st;
}

const char *capture_header(const struct capture *c, const char *name, char *out, size_t outlen)
{
    const char *end = header_end(c);
    size_t nlen = strlen(name);
    if (!end)
        return NULL;
    for (const char *line = c->out.data; line < end;) {
        const char *eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
        if (!eol)
            break;
        if ((size_t)(eol - line) > nlen && line[nlen] == ':' && strncasecmp(line, name, nlen) == 0) {
            const char *v = line + nlen + 1;
            while (v < eol && *v == ' ')
                v++;
            size_t vlen = (size_t)(eol - v);
            if (vlen >= outlen)
                vlen = outlen - 1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return out;
        }
        line = eol + 2;
    }
    return NULL;
}

const char *capture_body(const struct capture *c, size_t *len)
{
    const char *end = header_end(c);
    if (!end) {
        if (len)
            *len = 0;
        return NULL;
    }
    const char *body = end + 4;
    if (len)
        *len = c->out.len - (size_t)(body - c->out.data);
    return body;
}

struct json_object *capture_json(struct capture *c)
{
    if (c->json_parsed)
        return c->json;
    c->json_parsed = true;
    size_t len;
    const char *body = capture_body(c, &len);
    if (!body)
        return NULL;
    if (len > 0 && body[len - 1] == '\n')
        len--;
    struct json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *obj = json_tokener_parse_ex(tok, body, (int)len);
    if (obj && json_tokener_get_parse_end(tok) != len) {
        json_object_put(obj);
        obj = NULL;
    }
    json_tokener_free(tok);
    c->json = obj;
    return obj;
}

const char *capture_error_field(struct capture *c, const char *field)
{
    struct json_object *root = capture_json(c), *err, *v;
    if (!root || !json_object_object_get_ex(root, "error", &err) ||
        !json_object_object_get_ex(err, field, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

const char *capture_error_shape_problem(struct capture *c)
{
    struct json_object *root = capture_json(c), *err;
    static const char *const allowed[] = {"code", "message", "path", "request_id", NULL};

    if (!root)
        return "the body is not valid JSON";
    if (!json_object_is_type(root, json_type_object) || json_object_object_length(root) != 1 ||
        !json_object_object_get_ex(root, "error", &err) || !json_object_is_type(err, json_type_object))
        return "the body is not exactly {\"error\":{...}}";
    json_object_object_foreach(err, key, val) {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok = ok || strcmp(*a, key) == 0;
        if (!ok)
            return "the error object has a member other than code, message, path, request_id";
        if (!json_object_is_type(val, json_type_string))
            return "a member of the error object is not a string";
    }
    if (!capture_error_field(c, "code") || !capture_error_field(c, "message"))
        return "the error object lacks code or message";
    return NULL;
}

const char *capture_dump(const struct capture *c)
{
    static char out[16384];
    size_t o = 0;
    for (size_t i = 0; c->out.data && i < c->out.len && o + 8 < sizeof out; i++) {
        unsigned char ch = (unsigned char)c->out.data[i];
        if (ch == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
            out[o++] = '\n';
        } else if (ch == '\r') {
            out[o++] = '\\';
            out[o++] = 'r';
        } else if (ch < 0x20 || ch == 0x7f) {
            o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x", ch);
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o] = '\0';
    return o ? out : "(no output)";
}

void assert_status_at(struct capture *c, int status, const char *file, int line)
{
    int got = capture_status(c);
    cr_assert_eq(got, status, "%s:%d: expected status %d, got %d; response:\n%s", file, line, status, got,
                 capture_dump(c));
}

void assert_error_at(struct capture *c, int status, const char *code, const char *path, const char *file,
                     int line)
{
    assert_status_at(c, status, file, line);
    char ct[128];
    const char *ctv = capture_header(c, "Content-Type", ct, sizeof ct);
    cr_assert(ctv && strcmp(ctv, "application/json") == 0, "%s:%d: error without Content-Type application/json; response:\n%s",
              file, line, capture_dump(c));
    const char *problem = capture_error_shape_problem(c);
    cr_assert_null(problem, "%s:%d: %s; response:\n%s", file, line, problem ? problem : "", capture_dump(c));
    const char *got = capture_error_field(c, "code");
    cr_assert(got && strcmp(got, code) == 0, "%s:%d: expected code %s; response:\n%s", file, line, code,
              capture_dump(c));
    if (path) {
        const char *gp = capture_error_field(c, "path");
        cr_assert(gp && strcmp(gp, path) == 0, "%s:%d: expected path \"%s\"; response:\n%s", file, line, path,
                  capture_dump(c));
    }
}

void assert_no_output_at(struct capture *c, const char *file, int line)
{
    cr_assert_eq(c->out.len, 0, "%s:%d: expected no response yet; response:\n%s", file, line, capture_dump(c));
}
