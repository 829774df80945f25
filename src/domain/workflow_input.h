/* Checking what a client sends to the workflow routes, before any SQL:
 * the body of POST /api/workflows (workflow_input_parse) and the query of
 * GET /api/workflows (workflow_list_params_parse). Pure: no I/O, no
 * database, nothing global, so every rule is unit-tested
 * (tests/unit/test_workflow_input.c). The limits below are the API's; the
 * SQL that stores and reads what passes is in workflows.c. */
#ifndef AGORA_WORKFLOW_INPUT_H
#define AGORA_WORKFLOW_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "util/cursor.h"
#include "json/json_tree.h"
#include "util/uuid.h"
#include "domain/workflow_limits.h" /* WORKFLOW_NODES_MAX */

#define WORKFLOW_NAME_MAX 200          /* bytes: workflow, node names */
#define WORKFLOW_LABEL_MAX 200         /* bytes: node type, edge action */
#define WORKFLOW_DESCRIPTION_MAX 10000 /* bytes */
#define WORKFLOW_EDGES_MAX 10000
#define WORKFLOW_LIST_DEFAULT 50
#define WORKFLOW_LIST_MAX 200

/* What workflow_input_parse reads of a create body (json_in.h): parse the
 * body with this shape so that nothing else is built. */
extern const struct json_shape workflow_body_shape;

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
 * Names (1..200 bytes) may hold no control or format characters (text.h,
 * name_char_class); type and action (1..200 bytes) neither; the
 * description (0..10,000 bytes) is free text: line breaks, tabs and format
 * characters, never NUL. Node names are unique within the body; edge
 * ends name nodes of the body. Pure. */
int workflow_input_parse(struct json_object *body, struct workflow_input *in, char *path,
                         size_t pathlen, char *msg, size_t msglen);
/* Frees what in owns; safe on a zeroed or already freed input. */
void workflow_input_free(struct workflow_input *in);

/* The list's filters, as workflow_list_params_parse leaves them. */
struct workflow_list_params {
    char project_id[UUID_STR_LEN + 1]; /* lowercased; "" when not filtered */
    int limit;                         /* 1..200 */
    uint32_t scope;                    /* the list's cursor scope, see cursor.h */
    bool has_cursor;
    struct cursor after;               /* valid when has_cursor; id is a UUID */
};

/* The workflow list's cursor scope (cursor.h); project_id is the
 * lowercase filter or NULL. */
uint32_t workflow_list_scope(const char *project_id);
/* Reads the list's query values (each NULL when absent): project_id a
 * UUID, limit a decimal 1..200 (default 50), cursor one this server made
 * for this list under the same project filter. 0, or -1 with path (the
 * parameter's name) and a message. Pure. */
int workflow_list_params_parse(const char *project_id, const char *limit, const char *cursor,
                               struct workflow_list_params *p, char *path, size_t pathlen, char *msg,
                               size_t msglen);

#endif
