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
#include "util/buf.h"
#include "db/pg_json.h"
#include "util/uuid.h"

#define ROLE_MAX 16

/* Runs a statement expected to return exactly one row and converts it.
 * No row: DB_NOT_FOUND (the row is not visible). */
static enum db_status one_row(struct db *db, const char *sql, int n, const char *const *params,
                              struct json_object **out)
{
    PGresult *res = NULL;
    enum db_status st = db_exec(db, sql, n, params, &res);

    if (st == DB_OK) {
        if (PQntuples(res) == 1)
            *out = pg_row_object(res, 0);
        else
            st = DB_NOT_FOUND;
    }
    PQclear(res);
    return st;
}

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

static bool is_manager(const char *role)
{
    return strcmp(role, "owner") == 0 || strcmp(role, "admin") == 0;
}

static bool is_role(const char *role)
{
    return role && (is_manager(role) || strcmp(role, "member") == 0 || strcmp(role, "viewer") == 0);
}

/* Copies column c of res's only row into role, "" when absent or NULL. */
static void copy_role(const PGresult *res, int c, char role[ROLE_MAX])
{
    role[0] = '\0';
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, c))
        snprintf(role, ROLE_MAX, "%s", PQgetvalue(res, 0, c));
}

/* Decides whether the caller is a member of org_id (manager: an owner or
 * admin). DB_OK when it is; DB_NOT_FOUND when not a member (the
 * organization is invisible to it); DB_FORBIDDEN when a member with a
 * lower role. role gets the role. */
static enum db_status require_role(struct db *db, const char *org_id, bool manager, char role[ROLE_MAX])
{
    PGresult *res = NULL;
    const char *params[1] = {org_id};
    enum db_status st = db_exec(db, "SELECT agora.org_role($1)", 1, params, &res);

    if (st == DB_OK) {
        copy_role(res, 0, role);
        if (!role[0])
            st = DB_NOT_FOUND;
        else if (manager && !is_manager(role))
            st = DB_FORBIDDEN;
    }
    PQclear(res);
    return st;
}

static enum db_status require_manager(struct db *db, const char *org_id, char role[ROLE_MAX])
{
    return require_role(db, org_id, true, role);
}

enum db_status tenancy_require_member(struct db *db, const struct identity *who, const char *org_id, bool manager)
{
    char role[ROLE_MAX];
    if (who->kind != CALLER_USER)
        return DB_FORBIDDEN;
    if (!uuid_valid(org_id))
        return DB_NOT_FOUND;
    return require_role(db, org_id, manager, role);
}

/* Finds the organization of a project visible to the caller and checks the
 * caller manages it. org gets the organization's id. */
static enum db_status require_project_manager(struct db *db, const char *project_id,
                                              char org[UUID_STR_LEN + 1])
{
    PGresult *res = NULL;
    const char *params[1] = {project_id};
    char role[ROLE_MAX];
    enum db_status st = db_exec(db,
                                "SELECT organization_id, agora.org_role(organization_id)"
                                " FROM agora.projects WHERE id = $1",
                                1, params, &res);

    if (st == DB_OK) {
        copy_role(res, 1, role);
        /* Visible with no role happens only to the project's own API key,
         * which callers have already turned away. */
        if (PQntuples(res) != 1 || !role[0])
            st = DB_NOT_FOUND;
        else if (!is_manager(role))
            st = DB_FORBIDDEN;
        else
            snprintf(org, UUID_STR_LEN + 1, "%s", PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return st;
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
    const char *read_params[1] = {id};
    st = one_row(db,
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
    char mine[ROLE_MAX];
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
    st = one_row(db,
                 "INSERT INTO agora.memberships (organization_id, user_id, role) VALUES ($1, $2, $3)"
                 " RETURNING organization_id, user_id, role, agora.rfc3339(created_at) AS created_at",
                 3, params, out);
    return st == DB_NOT_FOUND ? DB_ERROR : st;
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
    char role[ROLE_MAX];
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
    st = one_row(db,
                 "INSERT INTO agora.projects (organization_id, name) VALUES ($1, $2)"
                 " RETURNING id, organization_id, name, agora.rfc3339(created_at) AS created_at",
                 2, params, out);
    return st == DB_NOT_FOUND ? DB_ERROR : st;
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
    st = require_project_manager(db, project_id, org);
    if (st != DB_OK)
        return st;
    if (apikey_generate(key, &parts) < 0)
        return DB_ERROR;
    apikey_hash_hex(parts.hash, hash_hex);

    /* Only the hash is stored; the key text leaves in the answer alone. */
    const char *params[6] = {parts.id, org, project_id, name, hash_hex, who->user_id};
    st = one_row(db,
                 "INSERT INTO agora.api_keys (id, organization_id, project_id, name, secret_hash, created_by)"
                 " VALUES ($1, $2, $3, $4, decode($5, 'hex'), $6)"
                 " RETURNING id, project_id, organization_id, name, agora.rfc3339(created_at) AS created_at",
                 6, params, out);
    if (st == DB_OK)
        json_object_object_add(*out, "key", json_must(json_object_new_string(key)));
    explicit_bzero(key, sizeof key);
    return st == DB_NOT_FOUND ? DB_ERROR : st;
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
    st = require_project_manager(db, project_id, org);
    if (st != DB_OK)
        return st;
    const char *params[1] = {project_id};
    return all_rows(db,
                    "SELECT id, name, agora.rfc3339(created_at) AS created_at, "
                    "agora.rfc3339(revoked_at)" " AS revoked_at, agora.rfc3339(last_used_at) AS last_used_at"
                    " FROM agora.api_keys WHERE project_id = $1 ORDER BY created_at, id",
                    1, params, out);
}

enum db_status tenancy_revoke_api_key(struct db *db, const struct identity *who, const char *key_id)
{
    PGresult *res = NULL;
    char role[ROLE_MAX];
    enum db_status st;

    if (who->kind != CALLER_USER)
        return DB_FORBIDDEN;
    if (!uuid_valid(key_id))
        return DB_NOT_FOUND;
    /* Keys are visible to managers only, so a member would see "no such
     * key"; api_key_lookup (definer) names the key's organization so a
     * member gets 403 and an outsider 404. */
    const char *params[1] = {key_id};
    st = db_exec(db,
                 "SELECT agora.org_role(k.organization_id) FROM agora.api_key_lookup($1) k",
                 1, params, &res);
    if (st == DB_OK) {
        copy_role(res, 0, role);
        if (!role[0])
            st = DB_NOT_FOUND;
        else if (!is_manager(role))
            st = DB_FORBIDDEN;
    }
    PQclear(res);
    if (st != DB_OK)
        return st;
    /* Already revoked: nothing to change, and still a success. The first
     * revocation time is kept. */
    return db_exec(db, "UPDATE agora.api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
                   1, params, NULL);
}
