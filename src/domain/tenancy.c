/* Organizations, memberships, projects and API keys (see tenancy.h): the
 * SQL behind the tenancy routes and agora-admin's tenancy commands.
 *
 * Row-level security is the authority on what the caller may see and do;
 * this file only picks the right answer when it says no. Policies make an
 * invisible row and a forbidden change look alike (no row, or error
 * 42501), but the contract wants 404 for the first and 403 for the second,
 * so each change first reads the caller's role with agora.org_role() (a
 * SECURITY DEFINER helper): no role means the organization is invisible
 * (DB_NOT_FOUND), too low a role means DB_FORBIDDEN. The policies still
 * decide in the end: a check here that disagreed with them would fail
 * closed with 42501 (DB_FORBIDDEN).
 *
 * Every function runs inside the caller's transaction (db_begin_as);
 * nothing here begins, commits or rolls back. On any failure *out is NULL.
 * JSON object keys are the SQL column names (aliases), and every value is
 * text or null, so one row converter serves all answers. */
#include "domain/tenancy.h"

#include <stdio.h>
#include <string.h>

#include "auth/apikey.h"
#include "domain/audit.h"
#include "domain/tenancy_access.h"
#include "util/buf.h"
#include "db/pg_json.h"
#include "util/uuid.h"


/* Runs a listing statement and wraps its rows in {"items":[...]}. */
static enum db_status all_rows(struct db *db, const char *sql, int n, const char *const *params,
                               struct json_object **out)
{
    struct json_object *items = NULL;
    enum db_status st = pg_all_rows(db, sql, n, params, &items);
    if (st == DB_OK) {
        *out = json_must(json_object_new_object());
        json_object_object_add(*out, "items", items);
    }
    return st;
}

/* A change's last step: on failure nothing is handed back, and a row the
 * change just wrote but cannot see is a bug (the policies disagree with
 * this code), not a 404. */
static enum db_status finish(enum db_status st, struct json_object **out)
{
    if (st != DB_OK) {
        json_object_put(*out);
        *out = NULL;
    }
    return st == DB_NOT_FOUND ? DB_ERROR : st;
}

static bool is_role(const char *role)
{
    return role && (tenancy_is_manager(role) || strcmp(role, "member") == 0 || strcmp(role, "viewer") == 0);
}

static enum db_status require_manager(struct db *db, const char *org_id, char role[TENANCY_ROLE_MAX])
{
    return tenancy_role_in(db, org_id, true, role);
}

enum db_status tenancy_require_member(struct db *db, const struct identity *who, const char *org_id, bool manager)
{
    char role[TENANCY_ROLE_MAX];
    if (who->kind != CALLER_USER)
        return DB_FORBIDDEN;
    if (!uuid_valid(org_id))
        return DB_NOT_FOUND;
    return tenancy_role_in(db, org_id, manager, role);
}

enum db_status tenancy_create_org(struct db *db, const struct identity *who, const char *name,
                                  struct json_object **out)
{
    char id[UUID_STR_LEN + 1];
    enum db_status st;

    *out = NULL;
    /* An organization needs an owner, and only a user can be one. */
    if (who->kind != CALLER_USER)
        return DB_FORBIDDEN;
    if (uuid_v4(id) < 0)
        return DB_ERROR;

    /* No RETURNING: until the owner's membership exists the new row is not
     * visible to its creator, and RETURNING needs it to be. The membership
     * passes the policy's bootstrap branch (creator, no members yet). */
    const char *org_params[3] = {id, name, who->user_id};
    st = db_exec(db, "INSERT INTO agora.organizations (id, name, created_by) VALUES ($1, $2, $3)", 3,
                 org_params, NULL);
    if (st != DB_OK)
        return st;
    const char *member_params[2] = {id, who->user_id};
    st = db_exec(db,
                 "INSERT INTO agora.memberships (organization_id, user_id, role) VALUES ($1, $2, 'owner')",
                 2, member_params, NULL);
    if (st != DB_OK)
        return st;
    struct json_object *d = json_must(json_object_new_object());
    json_object_object_add(d, "name", json_must(json_object_new_string(name)));
    if ((st = audit_record(db, id, NULL, "organization.create", "organization", id, d)) != DB_OK)
        return st;
    const char *read_params[1] = {id};
    st = tenancy_one_row(db,
                 "SELECT id, name, agora.rfc3339(created_at) AS created_at, 'owner' AS role"
                 " FROM agora.organizations WHERE id = $1",
                 1, read_params, out);
    /* Just inserted and owned: not finding it means the policies disagree
     * with this code, which is a bug, not a 404. */
    return st == DB_NOT_FOUND ? DB_ERROR : st;
}

enum db_status tenancy_list_orgs(struct db *db, const struct identity *who, struct json_object **out)
{
    (void)who; /* the transaction's identity decides, through RLS */
    *out = NULL;
    /* An API key sees its own organization, with role null. */
    return all_rows(db,
                    "SELECT o.id, o.name, agora.rfc3339(o.created_at) AS created_at, m.role"
                    " FROM agora.organizations o"
                    " LEFT JOIN agora.memberships m ON m.organization_id = o.id AND m.user_id = agora.uid()"
                    " ORDER BY o.created_at, o.id",
                    0, NULL, out);
}

enum db_status tenancy_add_member(struct db *db, const struct identity *who, const char *org_id,
                                  const char *user_id, const char *role, struct json_object **out)
{
    char mine[TENANCY_ROLE_MAX];
    enum db_status st;

    *out = NULL;
    if (who->kind != CALLER_USER)
        return DB_FORBIDDEN;
    if (!uuid_valid(org_id))
        return DB_NOT_FOUND;
    if (!uuid_valid(user_id) || !is_role(role))
        return DB_INVALID;
    st = require_manager(db, org_id, mine);
    if (st != DB_OK)
        return st;
    /* Admins manage members, but only an owner makes another owner. */
    if (strcmp(role, "owner") == 0 && strcmp(mine, "owner") != 0)
        return DB_FORBIDDEN;

    /* Already a member: the primary key answers 23505, i.e. DB_CONFLICT. */
    const char *params[3] = {org_id, user_id, role};
    st = tenancy_one_row(db,
                 "INSERT INTO agora.memberships (organization_id, user_id, role) VALUES ($1, $2, $3)"
                 " RETURNING " TENANCY_MEMBER_COLUMNS,
                 3, params, out);
    if (st == DB_OK) {
        struct json_object *d = json_must(json_object_new_object());
        json_object_object_add(d, "role", json_must(json_object_new_string(role)));
        st = audit_record(db, org_id, NULL, "member.add", "member", user_id, d);
    }
    return finish(st, out);
}

enum db_status tenancy_list_members(struct db *db, const struct identity *who, const char *org_id,
                                    struct json_object **out)
{
    *out = NULL;
    /* Any member, viewers included, may see who else is in. */
    enum db_status st = tenancy_require_member(db, who, org_id, false);
    if (st != DB_OK)
        return st;
    const char *params[1] = {org_id};
    return all_rows(db,
                    "SELECT user_id, role, agora.rfc3339(created_at) AS created_at"
                    " FROM agora.memberships WHERE organization_id = $1"
                    " ORDER BY created_at, user_id",
                    1, params, out);
}

enum db_status tenancy_create_project(struct db *db, const struct identity *who, const char *org_id,
                                      const char *name, struct json_object **out)
{
    char role[TENANCY_ROLE_MAX];
    enum db_status st;

    *out = NULL;
    if (who->kind != CALLER_USER)
        return DB_FORBIDDEN;
    if (!uuid_valid(org_id))
        return DB_NOT_FOUND;
    st = require_manager(db, org_id, role);
    if (st != DB_OK)
        return st;
    /* A managed organization's projects are visible, so RETURNING works.
     * A duplicate name answers 23505, i.e. DB_CONFLICT. */
    const char *params[2] = {org_id, name};
    st = tenancy_one_row(db,
                 "INSERT INTO agora.projects (organization_id, name) VALUES ($1, $2)"
                 " RETURNING " TENANCY_PROJECT_COLUMNS,
                 2, params, out);
    if (st == DB_OK) {
        struct json_object *d = json_must(json_object_new_object()), *pid = NULL;
        json_object_object_add(d, "name", json_must(json_object_new_string(name)));
        json_object_object_get_ex(*out, "id", &pid);
        st = audit_record(db, org_id, json_object_get_string(pid), "project.create", "project",
                          json_object_get_string(pid), d);
    }
    return finish(st, out);
}

enum db_status tenancy_list_projects(struct db *db, const struct identity *who, const char *org_id,
                                     struct json_object **out)
{
    (void)who;
    *out = NULL;
    if (org_id && !uuid_valid(org_id))
        return DB_INVALID;
    /* A filter naming an invisible organization lists nothing, like any
     * filter that matches nothing: it reveals no more than an empty list. */
    const char *params[1] = {org_id};
    return all_rows(db,
                    "SELECT id, organization_id, name, agora.rfc3339(created_at) AS created_at"
                    " FROM agora.projects WHERE ($1::uuid IS NULL OR organization_id = $1::uuid)"
                    " ORDER BY created_at, id",
                    1, params, out);
}

enum db_status tenancy_create_api_key(struct db *db, const struct identity *who, const char *project_id,
                                      const char *name, struct json_object **out)
{
    char org[UUID_STR_LEN + 1], key[APIKEY_TEXT_LEN + 1], hash_hex[2 * APIKEY_HASH_LEN + 1];
    struct apikey_parts parts;
    enum db_status st;

    *out = NULL;
    if (who->kind != CALLER_USER)
        return DB_FORBIDDEN;
    if (!uuid_valid(project_id))
        return DB_NOT_FOUND;
    st = tenancy_project_manager(db, project_id, org);
    if (st != DB_OK)
        return st;
    if (apikey_generate(key, &parts) < 0)
        return DB_ERROR;
    apikey_hash_hex(parts.hash, hash_hex);

    /* Only the hash is stored; the key text leaves in the answer alone. */
    const char *params[6] = {parts.id, org, project_id, name, hash_hex, who->user_id};
    st = tenancy_one_row(db,
                 "INSERT INTO agora.api_keys (id, organization_id, project_id, name, secret_hash, created_by)"
                 " VALUES ($1, $2, $3, $4, decode($5, 'hex'), $6)"
                 " RETURNING id, project_id, organization_id, name, agora.rfc3339(created_at) AS created_at",
                 6, params, out);
    if (st == DB_OK) {
        struct json_object *d = json_must(json_object_new_object());
        json_object_object_add(d, "name", name ? json_must(json_object_new_string(name)) : NULL);
        st = audit_record(db, org, project_id, "api_key.create", "api_key", parts.id, d);
    }
    if (st == DB_OK)
        json_object_object_add(*out, "key", json_must(json_object_new_string(key)));
    explicit_bzero(key, sizeof key);
    return finish(st, out);
}

enum db_status tenancy_list_api_keys(struct db *db, const struct identity *who, const char *project_id,
                                     struct json_object **out)
{
    char org[UUID_STR_LEN + 1];
    enum db_status st;

    *out = NULL;
    if (who->kind != CALLER_USER)
        return DB_FORBIDDEN;
    if (!uuid_valid(project_id))
        return DB_NOT_FOUND;
    st = tenancy_project_manager(db, project_id, org);
    if (st != DB_OK)
        return st;
    const char *params[1] = {project_id};
    return all_rows(db,
                    "SELECT id, name, agora.rfc3339(created_at) AS created_at, "
                    "agora.rfc3339(revoked_at) AS revoked_at, agora.rfc3339(last_used_at) AS last_used_at,"
                    " agora.rfc3339(rotated_at) AS rotated_at"
                    " FROM agora.api_keys WHERE project_id = $1 ORDER BY created_at, id",
                    1, params, out);
}

enum db_status tenancy_revoke_api_key(struct db *db, const struct identity *who, const char *key_id)
{
    PGresult *res = NULL;
    char id[UUID_STR_LEN + 1], org[UUID_STR_LEN + 1], project[UUID_STR_LEN + 1];
    enum db_status st;

    if ((st = tenancy_managed_key(db, who, key_id, id, org, project)) != DB_OK)
        return st;
    /* Already revoked: nothing to change, and still a success (nothing
     * recorded either). The first revocation time is kept. */
    const char *params[1] = {id};
    st = db_exec(db, "UPDATE agora.api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING name",
                 1, params, &res);
    if (st == DB_OK && PQntuples(res) == 1) {
        struct json_object *d = json_must(json_object_new_object());
        json_object_object_add(d, "name", PQgetisnull(res, 0, 0) ? NULL
                                          : json_must(json_object_new_string(PQgetvalue(res, 0, 0))));
        st = audit_record(db, org, project, "api_key.revoke", "api_key", id, d);
    }
    PQclear(res);
    return st;
}
