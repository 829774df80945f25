/* Projects and their API keys: POST/GET /api/projects and POST/GET
 * /api/projects/{id}/api-keys. Listing projects is open to API keys (a key
 * sees its own project); everything else is for users. */
#include "handlers/handlers.h"

#include <stdlib.h>

#include "errors.h"
#include "json_in.h"
#include "query.h"
#include "tenancy.h"

#define NAME_MAX_BYTES 200

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
        json_string_or_reply(r, body, "name", JF_REQUIRED, NAME_MAX_BYTES, &name) < 0)
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

void handle_api_keys_create(struct req *r)
{
    static const char *const keys[] = {"name", NULL};
    static const struct json_shape shape = JSON_FLAT_SHAPE(keys);
    struct json_object *body = NULL, *out = NULL;
    const char *name = NULL;
    /* The body is optional here: without one the key is unnamed. */
    if (r->body_len > 0) {
        if (!(body = json_body_object_or_reply(r, &shape)))
            return;
        if (json_only_keys_or_reply(r, body, keys) < 0 ||
            json_string_or_reply(r, body, "name", JF_OPTIONAL, NAME_MAX_BYTES, &name) < 0)
            goto done;
    }
    enum db_status st = tenancy_create_api_key(r->db, &r->who, r->params[0], name, &out);
    reply_tx_result(r, st, 201, out);
done:
    json_object_put(body);
}

void handle_api_keys_list(struct req *r)
{
    struct json_object *out = NULL;
    enum db_status st = tenancy_list_api_keys(r->db, &r->who, r->params[0], &out);
    reply_tx_result(r, st, 200, out);
}
