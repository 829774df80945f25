/* Renaming and deleting projects (PATCH and DELETE /api/projects/{id}),
 * for owners and admins of the project's organization; a member gets
 * DB_FORBIDDEN, an outsider or an API key DB_NOT_FOUND / DB_FORBIDDEN as
 * in tenancy.h. Deleting removes everything the project owns (its API
 * keys, workflows, executions and their telemetry, its rollups) by the
 * foreign keys' cascade. Both are audited. */
#ifndef AGORA_PROJECT_ADMIN_H
#define AGORA_PROJECT_ADMIN_H

#include <json-c/json.h>

#include "auth/identity.h"
#include "db/db.h"

/* A name already used in the organization: DB_CONFLICT.
 * out: {"id","organization_id","name","created_at"} */
enum db_status project_rename(struct db *db, const struct identity *who, const char *project_id, const char *name,
                              struct json_object **out);
enum db_status project_delete(struct db *db, const struct identity *who, const char *project_id);

#endif
