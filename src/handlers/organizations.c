/* Organizations and their members: POST/GET /api/organizations and
 * POST/GET /api/organizations/{id}/members, PATCH and DELETE
 * /api/organizations/{id}/members/{user_id} (a new role; removal, or
 * leaving when it is the caller). Users only: an API key belongs
 * to a project and cannot manage tenancy. */
#include "handlers/handlers.h"

#include "http/errors.h"
#include "http/json_body.h"
#include "domain/members.h"
#include "domain/tenancy.h"


static const char *const roles[] = {"owner", "admin", "member", "viewer", NULL};

void handle_orgs_create(struct req *r)
{
    const char *name;
    struct json_object *body = name_body_or_reply(r, TENANCY_NAME_MAX, &name), *out = NULL;
    if (!body)
        return;
    enum db_status st = tenancy_create_org(r->db, &r->who, name, &out);
    reply_tx_result(r, st, 201, out);
    json_object_put(body);
}

void handle_orgs_list(struct req *r)
{
    struct json_object *out = NULL;
    enum db_status st = tenancy_list_orgs(r->db, &r->who, &out);
    reply_tx_result(r, st, 200, out);
}

void handle_members_add(struct req *r)
{
    static const char *const keys[] = {"user_id", "role", NULL};
    static const struct json_shape shape = JSON_FLAT_SHAPE(keys);
    struct json_object *body = json_body_object_or_reply(r, &shape), *out = NULL;
    const char *user_id, *role;
    if (!body)
        return;
    if (json_only_keys_or_reply(r, body, keys) < 0 ||
        json_uuid_or_reply(r, body, "user_id", JF_REQUIRED, &user_id) < 0 ||
        json_enum_or_reply(r, body, "role", JF_REQUIRED, roles, &role) < 0)
        goto done;
    char user[UUID_STR_LEN + 1];
    uuid_lower(user_id, user);
    enum db_status st = tenancy_add_member(r->db, &r->who, r->params[0], user, role, &out);
    reply_tx_result(r, st, 201, out);
done:
    json_object_put(body);
}

void handle_members_list(struct req *r)
{
    struct json_object *out = NULL;
    enum db_status st = tenancy_list_members(r->db, &r->who, r->params[0], &out);
    reply_tx_result(r, st, 200, out);
}

/* The {user_id} of the path: a UUID, else no such member (404). */
static const char *member_or_reply(struct req *r, char user[UUID_STR_LEN + 1])
{
    if (!uuid_valid(r->params[1])) {
        reply_error(r, E_NOT_FOUND, NULL, "no such member");
        return NULL;
    }
    uuid_lower(r->params[1], user);
    return user;
}

void handle_member_update(struct req *r)
{
    static const char *const keys[] = {"role", NULL};
    static const struct json_shape shape = JSON_FLAT_SHAPE(keys);
    struct json_object *body = json_body_object_or_reply(r, &shape), *out = NULL;
    const char *role, *why;
    char user[UUID_STR_LEN + 1];
    if (!body)
        return;
    if (json_only_keys_or_reply(r, body, keys) < 0 ||
        json_enum_or_reply(r, body, "role", JF_REQUIRED, roles, &role) < 0 || !member_or_reply(r, user))
        goto done;
    enum db_status st = members_set_role(r->db, &r->who, r->params[0], user, role, &out, &why);
    reply_tx_result_why(r, st, 200, out, why ? "role" : NULL, why);
done:
    json_object_put(body);
}

void handle_member_remove(struct req *r)
{
    const char *why;
    char user[UUID_STR_LEN + 1];
    if (!member_or_reply(r, user))
        return;
    enum db_status st = members_remove(r->db, &r->who, r->params[0], user, &why);
    reply_tx_result_why(r, st, 204, NULL, NULL, why);
}
