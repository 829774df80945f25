/* Workflows: a named graph of nodes and edges in a project. The pure
 * checks of a create body and of the list's query parameters (no I/O, so
 * they can be unit-tested), and the SQL behind POST /api/workflows,
 * GET /api/workflows and GET /api/workflows/{id}.
 *
 * The SQL functions run inside the caller's transaction (db_begin_as), so
 * row-level security decides what exists: an invisible project or workflow
 * answers DB_NOT_FOUND, a visible project the caller's role may not write
 * to answers DB_FORBIDDEN. On DB_OK, *out is a new JSON reference (the
 * caller owns it); on failure *out is NULL. */
#ifndef AGORA_WORKFLOWS_H
#define AGORA_WORKFLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "cursor.h"
#include "db.h"
#include "request.h"
#include "uuid.h"

#define WORKFLOW_NAME_MAX 200          /* bytes: workflow, node names */
#define WORKFLOW_LABEL_MAX 200         /* bytes: node type, edge action */
#define WORKFLOW_DESCRIPTION_MAX 10000 /* bytes */
#define WORKFLOW_NODES_MAX 1000
#define WORKFLOW_EDGES_MAX 10000
#define WORKFLOW_LIST_DEFAULT 50
#define WORKFLOW_LIST_MAX 200

/* A create body that passed workflow_input_parse. */
struct workflow_input {
    char project_id[UUID_STR_LEN + 1]; /* lowercased */
    const char *name;                  /* borrowed from the body */
    const char *description;           /* borrowed; NULL when absent or null */
    struct json_object *nodes;         /* a reference to body's checked array, or NULL */
    struct json_object *edges;         /* the same for the edges */
    size_t n_nodes, n_edges;
};

/* Checks a create body (any json type) field by field (unknown members,
 * project_id, name, description, each node in turn, each edge in turn)
 * and stops at the first bad one: 0 with in filled (release it with
 * workflow_input_free; it borrows strings from body, so body must outlive
 * it), or -1 with path (e.g. "nodes[3].name", "edges[0].to"; "" when the
 * body itself is at fault) and a message. Unknown members are refused
 * (path names them), so a typo such as "acton" is not silently dropped.
 * Names (1..200 bytes) may hold no control characters; type and action
 * (1..200 bytes) neither; the description (0..10,000 bytes) may hold line
 * breaks and tabs, never NUL. Node names are unique within the body; edge
 * ends name nodes of the body. Pure. */
int workflow_input_parse(struct json_object *body, struct workflow_input *in, char *path,
                         size_t pathlen, char *msg, size_t msglen);
/* Frees what in owns; safe on a zeroed or already freed input. */
void workflow_input_free(struct workflow_input *in);

/* The list's filters, as workflow_list_params_parse leaves them. */
struct workflow_list_params {
    char project_id[UUID_STR_LEN + 1]; /* lowercased; "" when not filtered */
    int limit;                         /* 1..200 */
    bool has_cursor;
    struct cursor after;               /* valid when has_cursor; id is a UUID */
};

/* Reads the list's query values (each NULL when absent): project_id a
 * UUID, limit a decimal 1..200 (default 50), cursor one this server made
 * for this list. 0, or -1 with path (the parameter's name) and a message.
 * Pure. */
int workflow_list_params_parse(const char *project_id, const char *limit, const char *cursor,
                               struct workflow_list_params *p, char *path, size_t pathlen, char *msg,
                               size_t msglen);

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
