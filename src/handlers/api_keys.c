/* A project's API keys: POST/GET /api/projects/{id}/api-keys (create one,
 * shown once; list them, never their secrets) and DELETE
 * /api/api-keys/{id} (revoke: from the commit on the key is refused by
 * every worker, since each request looks the key up afresh) and POST
 * /api/api-keys/{id}/rotate (a new secret for the same key, shown once;
 * the old one refused from the commit on). For users. */
#include "handlers/handlers.h"

#include "domain/key_rotation.h"
#include "domain/tenancy.h"
#include "http/json_body.h"

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
            json_string_or_reply(r, body, "name", JF_OPTIONAL, TENANCY_NAME_MAX, &name) < 0)
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

void handle_api_keys_revoke(struct req *r)
{
    reply_tx_result(r, tenancy_revoke_api_key(r->db, &r->who, r->params[0]), 204, NULL);
}

void handle_api_key_rotate(struct req *r)
{
    struct json_object *out = NULL;
    const char *why;
    enum db_status st = api_key_rotate(r->db, &r->who, r->params[0], &out, &why);
    reply_tx_result_why(r, st, 200, out, NULL, why);
}
