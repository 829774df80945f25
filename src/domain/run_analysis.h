/* Analyses of one run read through the API: its critical path and where
 * its time went (GET /api/executions/{id}/critical-path). Runs in the
 * caller's transaction, so row-level security decides what is seen. */
#ifndef AGORA_RUN_ANALYSIS_H
#define AGORA_RUN_ANALYSIS_H

#include <json-c/json.h>

#include "db/db.h"

/* The critical path and the time breakdown of execution id (a canonical
 * UUID): DB_NOT_FOUND when the caller cannot read it. On DB_OK *out is a
 * new reference the caller owns: {"execution_id","status","started_at",
 * "completed_at","running","duration_ms","node_executions",
 * "critical_path":{"duration_ms","wait_ms","steps":[...]},
 * "breakdown":{"busy_ms","parallel_ms","idle_ms","phases","nodes","gaps"}}
 * (README "Critical path and time breakdown"). */
enum db_status execution_critical_path(struct db *db, const char *id, struct json_object **out);

#endif
