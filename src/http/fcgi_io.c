/* libfcgi adapters for the request context. */
#include "http/fcgi_io.h"

#include <stdio.h>
#include <string.h>

static int sink_write(void *ctx, const char *data, size_t len)
{
    FCGX_Stream *out = ctx;
    while (len > 0) {
        int chunk = len > (1 << 30) ? (1 << 30) : (int)len;
        if (FCGX_PutStr(data, chunk, out) != chunk)
            return -1;
        data += chunk;
        len -= (size_t)chunk;
    }
    return 0;
}

static long source_read(void *ctx, char *data, size_t len)
{
    FCGX_Stream *in = ctx;
    int chunk = len > (1 << 30) ? (1 << 30) : (int)len;
    return FCGX_GetStr(data, chunk, in);
}

/* nginx's $request_id is 32 hex digits; anything else is replaced, since
 * the id is echoed in headers and bodies. */
static bool request_id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-'))
            return false;
    }
    return n > 0 && n < 40;
}

static void set_request_id(struct req *r, const char *given)
{
    if (given && request_id_ok(given)) {
        strcpy(r->request_id, given);
        return;
    }
    char u[UUID_STR_LEN + 1];
    if (uuid_v4(u) < 0) {
        strcpy(r->request_id, "unknown");
        return;
    }
    size_t o = 0;
    for (size_t i = 0; u[i]; i++)
        if (u[i] != '-')
            r->request_id[o++] = u[i];
    r->request_id[o] = '\0';
}

void fcgi_fill_request(struct req *r, FCGX_Request *fr, char *path_store, size_t pathlen)
{
    FCGX_ParamArray env = fr->envp;
    const char *method = FCGX_GetParam("REQUEST_METHOD", env);
    const char *uri = FCGX_GetParam("REQUEST_URI", env);
    const char *query = FCGX_GetParam("QUERY_STRING", env);

    r->method = method ? method : "";
    path_store[0] = '\0';
    if (uri) {
        size_t n = strcspn(uri, "?");
        if (n < pathlen) {
            memcpy(path_store, uri, n);
            path_store[n] = '\0';
        }
    }
    r->path = path_store;
    r->query = query ? query : "";
    r->content_type = FCGX_GetParam("CONTENT_TYPE", env);
    r->content_length = FCGX_GetParam("CONTENT_LENGTH", env);
    r->authorization = FCGX_GetParam("HTTP_AUTHORIZATION", env);
    r->idempotency_key = FCGX_GetParam("HTTP_IDEMPOTENCY_KEY", env);
    r->content_encoding = FCGX_GetParam("HTTP_CONTENT_ENCODING", env);
    /* Not an HTTP_ parameter: a client's headers cannot set it. */
    r->live_uri = FCGX_GetParam("AGORA_LIVE_URI", env);
    r->last_event_id = FCGX_GetParam("HTTP_LAST_EVENT_ID", env);
    set_request_id(r, FCGX_GetParam("REQUEST_ID", env));
    r->source.read = source_read;
    r->source.ctx = fr->in;
    r->sink.write = sink_write;
    r->sink.ctx = fr->out;
}

/* libfcgi closes a connection gracefully: it half-closes the socket and
 * waits (up to 2 s) for the web server to close its end, so unread input
 * cannot make the kernel reset the connection and lose the answer. That
 * wait puts a round trip through nginx on every request, during which the
 * worker cannot accept the next one. Once the input is read to its end
 * (nginx sends all of it, end record included, before it reads the
 * answer; a GET's end record came with the parameters), there is nothing
 * to reset: a detached request is closed at once. */
void fcgi_finish(FCGX_Request *fr)
{
    if (fr->in && FCGX_GetChar(fr->in) == EOF && FCGX_HasSeenEOF(fr->in))
        FCGX_Detach(fr);
    FCGX_Finish_r(fr);
}
