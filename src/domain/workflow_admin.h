/* Renaming and deleting workflows (PATCH and DELETE /api/workflows/{id})
 * and erasing one execution (DELETE /api/executions/{id}): for owners and
 * admins of the organization only (members and API keys: DB_FORBIDDEN; an
 * invisible target: DB_NOT_FOUND). Deleting a workflow removes its nodes,
 * edges, executions with their telemetry and its rollups by the foreign
 * keys' cascade. Every change is audited. */
#ifndef AGORA_WORKFLOW_ADMIN_H
#define AGORA_WORKFLOW_ADMIN_H

#include <json-c/json.h>

#include "auth/identity.h"
#include "db/db.h"

/* A name already used in the project: DB_CONFLICT. out: the workflow as
 * GET /api/workflows/{id} answers it. */
enum db_status workflow_rename(struct db *db, const struct identity *who, const char *workflow_id,
                               const char *name, struct json_object **out);
enum db_status workflow_delete(struct db *db, const struct identity *who, const char *workflow_id);

/* Erases an execution and everything it owns (node executions, spans,
 * events, snapshots); sql/017's trigger forgets what else named it
 * (idempotency keys, live tickets, the error rollups' example). */
enum db_status execution_erase(struct db *db, const struct identity *who, const char *execution_id);

#endif
