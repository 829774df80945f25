/* libFuzzer harness: the router's path matching (router_match on the real
 * route table, agora_routes) and the strict query-string parser
 * (query_parse_or_reply), as a worker receives them from nginx: the raw
 * REQUEST_URI path (not percent-decoded) and QUERY_STRING.
 *
 * Input: byte 0 picks the method, byte 1 the allowed-parameter list; the
 * rest, up to a NUL, is "path?query". Properties: a match has its {id}
 * parameters as lowercase canonical UUIDs and its name parameter
 * ({model}) as 1..REQ_NAME_MAX bytes of UTF-8; a 405 lists methods; every
 * reply the query parser writes is JSON; decoded values hold no NUL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "http/query.h"
#include "http/router.h"
#include "handlers/routes.h"
#include "util/text.h"
#include "util/uuid.h"

static struct config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_default_config(&cfg);
    return 0;
}

static const char *const methods[] = {"GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS", ""};
static const char *const list_params[] = {"workflow_id", "project_id", "status", "session_id", "since",
                                          "until", "limit", "cursor", NULL};
static const char *const event_params[] = {"limit", "cursor", "event_type", "node_name", NULL};
static const char *const no_params[] = {NULL};
static const char *const *const param_lists[] = {list_params, event_params, no_params};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const char *method = methods[data[0] % (sizeof methods / sizeof methods[0])];
    const char *const *allowed = param_lists[data[1] % 3];
    char *uri = fuzz_cstring(data + 2, size - 2);
    char *q = strchr(uri, '?');
    if (q)
        *q++ = '\0';

    struct buf out;
    buf_init(&out);
    struct req r;
    req_init(&r);
    r.method = method;
    r.path = uri;
    r.query = q ? q : "";
    r.cfg = &cfg;
    r.sink.write = fuzz_sink_write;
    r.sink.ctx = &out;
    strcpy(r.request_id, "fuzz");

    const struct route *found = NULL;
    char allow[64];
    enum route_result rr = router_match(agora_routes, agora_routes_count, &r, &found, allow, sizeof allow);
    if (rr == ROUTE_FOUND) {
        if (!found || strcmp(found->method, method) != 0)
            abort();
        for (int i = 0; i < r.nparams; i++) {
            const char *p = r.params[i];
            if (p == r.name_store) {
                /* A name parameter: decoded, 1..REQ_NAME_MAX bytes of UTF-8. */
                size_t n = strlen(p), k;
                if (n == 0 || n > REQ_NAME_MAX)
                    abort();
                for (size_t j = 0; j < n; j += k)
                    if ((k = utf8_seq_len((const unsigned char *)p + j, n - j)) == 0)
                        abort();
                continue;
            }
            if (!uuid_valid(p))
                abort();
            for (const char *c = p; *c; c++)
                if (*c >= 'A' && *c <= 'F')
                    abort();
        }
    } else if (rr == ROUTE_BAD_METHOD) {
        if (!allow[0] || found)
            abort();
    } else if (found) {
        abort();
    }

    struct query qp;
    if (query_parse_or_reply(&r, allowed, &qp) == 0) {
        if (out.len != 0)
            abort(); /* success writes nothing */
        for (int i = 0; i < qp.n; i++)
            if (!qp.name[i] || !qp.value[i] || query_get(&qp, qp.name[i]) == NULL)
                abort();
        query_free(&qp);
    } else {
        if (out.len == 0)
            abort(); /* a failure has replied */
        fuzz_check_reply(&out);
    }
    req_release(&r);
    buf_free(&out);
    free(uri);
    return 0;
}
