/* Workflow renames and deletions, and execution erasure (see
 * workflow_admin.h). The role lookup before each change picks 404 or 403;
 * the policies decide in the end (workflows' UPDATE is narrowed to
 * owners and admins by sql/017, DELETE of every table below a project is
 * theirs since sql/003).
 *
 * Erasing an execution deletes its node executions first, while their
 * execution still exists: the statistics trigger of a node execution
 * finds its workflow and day through its execution, so a cascade (which
 * runs after the execution is gone) would leave their contribution in the
 * node rollups (docs/DESIGN.md "Statistics", known gap). The execution's
 * row is locked first, as every writer of its items does, so an ingest in
 * flight finishes (or waits) instead of adding items to a run being
 * erased. */
#include "domain/workflow_admin.h"

#include <stdio.h>
#include <string.h>

#include "db/pg_json.h"
#include "domain/audit.h"
#include "domain/stats.h"
#include "domain/tenancy_access.h"
#include "domain/workflow_store.h"
#include "util/uuid.h"

/* Looks row id of table up (sql: organization_id, project_id, a third
 * column kept in *row, then agora.org_role(organization_id)) and checks
 * the caller manages its organization. */
static enum db_status managed(struct db *db, const struct identity *who, const char *sql, const char *raw_id,
                              char id[UUID_STR_LEN + 1], char org[UUID_STR_LEN + 1],
                              char project[UUID_STR_LEN + 1], struct json_object **row)
{
    PGresult *res = NULL;
    enum db_status st;
    *row = NULL;
    if (!raw_id || !uuid_valid(raw_id))
        return DB_NOT_FOUND;
    uuid_lower(raw_id, id);
    const char *params[1] = {id};
    if ((st = db_exec(db, sql, 1, params, &res)) != DB_OK)
        return st;
    if (PQntuples(res) != 1)
        st = DB_NOT_FOUND;
    /* Visible without a role: the project's own API key. */
    else if (who->kind != CALLER_USER || PQgetisnull(res, 0, 3))
        st = who->kind == CALLER_API_KEY ? DB_FORBIDDEN : DB_NOT_FOUND;
    else if (!tenancy_is_manager(PQgetvalue(res, 0, 3)))
        st = DB_FORBIDDEN;
    if (st == DB_OK) {
        snprintf(org, UUID_STR_LEN + 1, "%s", PQgetvalue(res, 0, 0));
        snprintf(project, UUID_STR_LEN + 1, "%s", PQgetvalue(res, 0, 1));
        *row = json_must(json_object_new_object());
        json_object_object_add(*row, PQfname(res, 2), json_must(json_object_new_string(PQgetvalue(res, 0, 2))));
    }
    PQclear(res);
    return st;
}

#define WORKFLOW_LOOKUP \
    "SELECT organization_id, project_id, name, agora.org_role(organization_id) FROM agora.workflows WHERE id = $1::uuid"

enum db_status workflow_rename(struct db *db, const struct identity *who, const char *workflow_id,
                               const char *name, struct json_object **out)
{
    char id[UUID_STR_LEN + 1], org[UUID_STR_LEN + 1], project[UUID_STR_LEN + 1];
    struct json_object *before = NULL, *from = NULL;
    enum db_status st;

    *out = NULL;
    if ((st = managed(db, who, WORKFLOW_LOOKUP, workflow_id, id, org, project, &before)) != DB_OK)
        goto done;
    /* A name already used in the project: 23505, DB_CONFLICT. */
    const char *params[2] = {id, name};
    PGresult *res = NULL;
    st = db_exec(db, "UPDATE agora.workflows SET name = $2, updated_at = now() WHERE id = $1::uuid RETURNING id",
                 2, params, &res);
    if (st == DB_OK && PQntuples(res) != 1)
        st = DB_FORBIDDEN; /* refused by the policies */
    PQclear(res);
    if (st != DB_OK)
        goto done;
    struct json_object *d = json_must(json_object_new_object());
    json_object_object_get_ex(before, "name", &from);
    json_object_object_add(d, "from", json_object_get(from));
    json_object_object_add(d, "to", json_must(json_object_new_string(name)));
    if ((st = audit_record(db, org, project, "workflow.rename", "workflow", id, d)) != DB_OK)
        goto done;
    st = workflows_get(db, who, id, out);
    if (st == DB_NOT_FOUND)
        st = DB_ERROR;
done:
    json_object_put(before);
    return st;
}

/* Deletes row id (sql: one $1 parameter, RETURNING one row). */
static enum db_status delete_one(struct db *db, const char *sql, const char *id)
{
    PGresult *res = NULL;
    const char *params[1] = {id};
    enum db_status st = db_exec(db, sql, 1, params, &res);
    if (st == DB_OK && PQntuples(res) != 1)
        st = DB_FORBIDDEN; /* visible and managed, yet refused by the policies */
    PQclear(res);
    return st;
}

enum db_status workflow_delete(struct db *db, const struct identity *who, const char *workflow_id)
{
    char id[UUID_STR_LEN + 1], org[UUID_STR_LEN + 1], project[UUID_STR_LEN + 1];
    struct json_object *before = NULL;
    enum db_status st;

    if ((st = managed(db, who, WORKFLOW_LOOKUP, workflow_id, id, org, project, &before)) != DB_OK)
        goto done;
    if ((st = stats_hold(db, project)) != DB_OK ||
        (st = delete_one(db, "DELETE FROM agora.workflows WHERE id = $1::uuid RETURNING id", id)) != DB_OK)
        goto done;
    st = audit_record(db, org, project, "workflow.delete", "workflow", id, json_object_get(before));
done:
    json_object_put(before);
    return st;
}

enum db_status execution_erase(struct db *db, const struct identity *who, const char *execution_id)
{
    char id[UUID_STR_LEN + 1], org[UUID_STR_LEN + 1], project[UUID_STR_LEN + 1];
    struct json_object *before = NULL;
    enum db_status st;

    if ((st = managed(db, who,
                      "SELECT organization_id, project_id, workflow_id::text AS workflow_id,"
                      " agora.org_role(organization_id) FROM agora.executions WHERE id = $1::uuid",
                      execution_id, id, org, project, &before)) != DB_OK)
        goto done;
    /* Waits for an ingest holding the row (see the top). */
    const char *params[1] = {id};
    if ((st = db_exec(db, "SELECT 1 FROM agora.executions WHERE id = $1::uuid FOR UPDATE", 1, params, NULL)) !=
        DB_OK)
        goto done;
    if ((st = db_exec(db, "DELETE FROM agora.node_executions WHERE execution_id = $1::uuid", 1, params, NULL)) !=
        DB_OK)
        goto done;
    if ((st = delete_one(db, "DELETE FROM agora.executions WHERE id = $1::uuid RETURNING id", id)) != DB_OK)
        goto done;
    st = audit_record(db, org, project, "execution.delete", "execution", id, json_object_get(before));
done:
    json_object_put(before);
    return st;
}
