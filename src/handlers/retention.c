/* GET/PUT/DELETE /api/projects/{id}/retention and
 * /api/organizations/{id}/retention: how long runs and their payloads are
 * kept (domain/retention.c). */
#include "handlers/handlers.h"

#include <string.h>

#include "domain/retention.h"
#include "http/errors.h"
#include "http/json_body.h"

static bool on_project(const struct req *r)
{
    return strncmp(r->path, "/api/projects/", 14) == 0;
}

void handle_retention_get(struct req *r)
{
    struct json_object *out = NULL;
    enum db_status st = retention_get(r->db, &r->who, on_project(r), r->params[0], &out);
    reply_tx_result(r, st, 200, out);
}

void handle_retention_put(struct req *r)
{
    static const char *const keys[] = {"runs_days", "payload_days", NULL};
    static const struct json_shape shape = JSON_FLAT_SHAPE(keys);
    struct retention_policy p;
    struct json_object *out = NULL, *body = json_body_object_or_reply(r, &shape);
    const char *path;
    char msg[128];
    if (!body)
        return;
    if (retention_parse(body, &p, &path, msg, sizeof msg) < 0) {
        reply_error(r, E_VALIDATION, path, "%s", msg);
    } else {
        enum db_status st = retention_put(r->db, &r->who, on_project(r), r->params[0], &p, &out);
        reply_tx_result(r, st, 200, out);
    }
    json_object_put(body);
}

/* 204 as the API's other DELETEs: GET shows the policy now in force. */
void handle_retention_delete(struct req *r)
{
    reply_tx_result(r, retention_delete(r->db, &r->who, on_project(r), r->params[0]), 204, NULL);
}
