/* Projects: POST/GET /api/projects, PATCH/DELETE /api/projects/{id}
 * (rename; delete with all it owns). Listing is open to API keys (a key
 * sees its own project); the rest is for users. Their API keys are in
 * api_keys.c. */
#include "handlers/handlers.h"

#include <stdlib.h>

#include "http/errors.h"
#include "http/json_body.h"
#include "http/query.h"
#include "domain/project_admin.h"
#include "domain/tenancy.h"


void handle_projects_create(struct req *r)
{
    static const char *const keys[] = {"organization_id", "name", NULL};
    static const struct json_shape shape = JSON_FLAT_SHAPE(keys);
    struct json_object *body = json_body_object_or_reply(r, &shape), *out = NULL;
    const char *org_id, *name;
    if (!body)
        return;
    if (json_only_keys_or_reply(r, body, keys) < 0 ||
        json_uuid_or_reply(r, body, "organization_id", JF_REQUIRED, &org_id) < 0 ||
        json_string_or_reply(r, body, "name", JF_REQUIRED, TENANCY_NAME_MAX, &name) < 0)
        goto done;
    char org[UUID_STR_LEN + 1];
    uuid_lower(org_id, org);
    enum db_status st = tenancy_create_project(r->db, &r->who, org, name, &out);
    reply_tx_result(r, st, 201, out);
done:
    json_object_put(body);
}

void handle_projects_list(struct req *r)
{
    static const char *const params[] = {"organization_id", NULL};
    struct query q;
    struct json_object *out = NULL;
    if (query_parse_or_reply(r, params, &q) < 0)
        return;
    const char *org_id = query_get(&q, "organization_id");
    char org[UUID_STR_LEN + 1];
    if (org_id) {
        if (!uuid_valid(org_id)) {
            reply_error(r, E_VALIDATION, "organization_id", "organization_id must be a UUID");
            goto done;
        }
        uuid_lower(org_id, org);
    }
    enum db_status st = tenancy_list_projects(r->db, &r->who, org_id ? org : NULL, &out);
    reply_tx_result(r, st, 200, out);
done:
    query_free(&q);
}

void handle_project_rename(struct req *r)
{
    const char *name;
    struct json_object *body = name_body_or_reply(r, TENANCY_NAME_MAX, &name), *out = NULL;
    if (!body)
        return;
    enum db_status st = project_rename(r->db, &r->who, r->params[0], name, &out);
    reply_tx_result(r, st, 200, out);
    json_object_put(body);
}

void handle_project_delete(struct req *r)
{
    reply_tx_result(r, project_delete(r->db, &r->who, r->params[0]), 204, NULL);
}
