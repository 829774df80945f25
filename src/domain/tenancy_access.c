/* The role lookups of the management routes (see tenancy_access.h).
 * agora.org_role() is a SECURITY DEFINER helper of sql/003 and 005: it
 * answers the caller's role even where the policies would hide the row
 * that would tell it, so "no such thing" and "not yours to change" can
 * get their own answers. */
#include "domain/tenancy_access.h"

#include <stdio.h>
#include <string.h>

#include "db/pg_json.h"

bool tenancy_is_manager(const char *role)
{
    return strcmp(role, "owner") == 0 || strcmp(role, "admin") == 0;
}

/* Copies column c of res's only row into role, "" when absent or NULL. */
static void copy_role(const PGresult *res, int c, char role[TENANCY_ROLE_MAX])
{
    role[0] = '\0';
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, c))
        snprintf(role, TENANCY_ROLE_MAX, "%s", PQgetvalue(res, 0, c));
}

enum db_status tenancy_role_in(struct db *db, const char *org_id, bool manager, char role[TENANCY_ROLE_MAX])
{
    PGresult *res = NULL;
    const char *params[1] = {org_id};
    enum db_status st = db_exec(db, "SELECT agora.org_role($1)", 1, params, &res);

    role[0] = '\0';
    if (st == DB_OK) {
        copy_role(res, 0, role);
        if (!role[0])
            st = DB_NOT_FOUND;
        else if (manager && !tenancy_is_manager(role))
            st = DB_FORBIDDEN;
    }
    PQclear(res);
    return st;
}

enum db_status tenancy_project_manager(struct db *db, const char *project_id, char org[UUID_STR_LEN + 1])
{
    PGresult *res = NULL;
    const char *params[1] = {project_id};
    char role[TENANCY_ROLE_MAX];
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
        else if (!tenancy_is_manager(role))
            st = DB_FORBIDDEN;
        else
            snprintf(org, UUID_STR_LEN + 1, "%s", PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return st;
}

enum db_status tenancy_one_row(struct db *db, const char *sql, int n, const char *const *params,
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

enum db_status tenancy_managed_key(struct db *db, const struct identity *who, const char *key_id,
                                   char id[UUID_STR_LEN + 1], char org[UUID_STR_LEN + 1],
                                   char project[UUID_STR_LEN + 1])
{
    PGresult *res = NULL;
    char role[TENANCY_ROLE_MAX];
    enum db_status st;

    if (who->kind != CALLER_USER)
        return DB_FORBIDDEN;
    if (!uuid_valid(key_id))
        return DB_NOT_FOUND;
    uuid_lower(key_id, id);
    const char *params[1] = {id};
    st = db_exec(db, "SELECT k.organization_id, k.project_id FROM agora.api_key_lookup($1::uuid) k", 1, params,
                 &res);
    if (st == DB_OK && PQntuples(res) != 1)
        st = DB_NOT_FOUND;
    if (st == DB_OK) {
        snprintf(org, UUID_STR_LEN + 1, "%s", PQgetvalue(res, 0, 0));
        snprintf(project, UUID_STR_LEN + 1, "%s", PQgetvalue(res, 0, 1));
        st = tenancy_role_in(db, org, true, role);
    }
    PQclear(res);
    return st;
}
