/* Workflows: a named graph of nodes and edges in a project. The SQL
 * behind POST /api/workflows, GET /api/workflows and GET
 * /api/workflows/{id}; what these take has passed the checks of
 * workflow_input.h (included here, so handlers need only this header).
 *
 * The SQL functions run inside the caller's transaction (db_begin_as), so
 * row-level security decides what exists: an invisible project or workflow
 * answers DB_NOT_FOUND, a visible project the caller's role may not write
 * to answers DB_FORBIDDEN. On DB_OK, *out is a new JSON reference (the
 * caller owns it); on failure *out is NULL. */
#ifndef AGORA_WORKFLOWS_H
#define AGORA_WORKFLOWS_H

#include <json-c/json.h>

#include "db/db.h"
#include "auth/identity.h"
#include "domain/workflow_input.h"

/* Creates the workflow with all its nodes and edges, in a constant number
 * of statements whatever the graph's size. Who: owners, admins and members
 * of the project's organization, and an API key of that project; a viewer
 * gets DB_FORBIDDEN, an invisible project DB_NOT_FOUND, a name already
 * used in the project DB_CONFLICT.
 * out: the workflow as workflows_get answers it. */
enum db_status workflows_create(struct db *db, const struct identity *who, const struct workflow_input *in,
                                struct json_object **out);

/* Workflows visible to the caller, newest first (created_at DESC, id DESC),
 * keyset-paged. An API key lists its own project's. A project filter the
 * caller cannot see lists nothing.
 * out: {"items":[{"id","organization_id","project_id","name","description",
 * "created_at","node_count"}], "next_cursor": string or null} */
enum db_status workflows_list(struct db *db, const struct identity *who, const struct workflow_list_params *p,
                              struct json_object **out);

/* One visible workflow with its graph: nodes in creation order, then by
 * name; edges in creation order, then by their ends' names and action.
 * id must be a UUID (else DB_NOT_FOUND).
 * out: {"id","organization_id","project_id","name","description",
 * "created_at","nodes":[{"id","name","type"}],
 * "edges":[{"id","from","to","from_node_id","to_node_id","action"}]} */
enum db_status workflows_get(struct db *db, const struct identity *who, const char *id,
                             struct json_object **out);

#endif
