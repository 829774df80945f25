/* Project renames and deletions (see project_admin.h). The policies of
 * sql/003 already give projects' UPDATE and DELETE to owners and admins;
 * the role lookup before each change only picks 404 or 403. */
#include "domain/project_admin.h"

#include "db/pg_json.h"
#include "domain/audit.h"
#include "domain/stats.h"
#include "domain/tenancy_access.h"
#include "util/uuid.h"

/* The project's organization and current name, for a caller that manages it. */
static enum db_status managed_project(struct db *db, const struct identity *who, const char *project_id,
                                      char id[UUID_STR_LEN + 1], char org[UUID_STR_LEN + 1],
                                      struct json_object **before)
{
    enum db_status st;
    *before = NULL;
    if (who->kind != CALLER_USER)
        return DB_FORBIDDEN;
    if (!uuid_valid(project_id))
        return DB_NOT_FOUND;
    uuid_lower(project_id, id);
    if ((st = tenancy_project_manager(db, id, org)) != DB_OK)
        return st;
    const char *params[1] = {id};
    st = tenancy_one_row(db, "SELECT name FROM agora.projects WHERE id = $1::uuid", 1, params, before);
    return st == DB_NOT_FOUND ? DB_ERROR : st;
}

enum db_status project_rename(struct db *db, const struct identity *who, const char *project_id, const char *name,
                              struct json_object **out)
{
    char id[UUID_STR_LEN + 1], org[UUID_STR_LEN + 1];
    struct json_object *before = NULL;
    enum db_status st;

    *out = NULL;
    if ((st = managed_project(db, who, project_id, id, org, &before)) != DB_OK)
        goto done;
    /* A name already used in the organization: 23505, DB_CONFLICT. */
    const char *params[2] = {id, name};
    st = tenancy_one_row(db,
                         "UPDATE agora.projects SET name = $2 WHERE id = $1::uuid"
                         " RETURNING " TENANCY_PROJECT_COLUMNS,
                         2, params, out);
    if (st == DB_NOT_FOUND)
        st = DB_ERROR;
    if (st != DB_OK)
        goto done;
    struct json_object *d = json_must(json_object_new_object()), *from = NULL;
    json_object_object_get_ex(before, "name", &from);
    json_object_object_add(d, "from", json_object_get(from));
    json_object_object_add(d, "to", json_must(json_object_new_string(name)));
    st = audit_record(db, org, id, "project.rename", "project", id, d);
done:
    json_object_put(before);
    if (st != DB_OK) {
        json_object_put(*out);
        *out = NULL;
    }
    return st;
}

enum db_status project_delete(struct db *db, const struct identity *who, const char *project_id)
{
    char id[UUID_STR_LEN + 1], org[UUID_STR_LEN + 1];
    struct json_object *before = NULL;
    PGresult *res = NULL;
    enum db_status st;

    if ((st = managed_project(db, who, project_id, id, org, &before)) != DB_OK)
        goto done;
    const char *params[1] = {id};
    if ((st = stats_hold(db, id)) != DB_OK)
        goto done;
    st = db_exec(db, "DELETE FROM agora.projects WHERE id = $1::uuid RETURNING id", 1, params, &res);
    if (st == DB_OK && PQntuples(res) != 1)
        st = DB_ERROR; /* managed and visible a statement ago */
    if (st != DB_OK)
        goto done;
    st = audit_record(db, org, id, "project.delete", "project", id, json_object_get(before));
done:
    PQclear(res);
    json_object_put(before);
    return st;
}
