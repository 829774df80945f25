/* Workflows: POST /api/workflows (create a graph in a project),
 * GET /api/workflows (keyset-paged list) and GET /api/workflows/{id} (one
 * workflow with its nodes and edges), PATCH and DELETE /api/workflows/{id}
 * (rename; delete with its executions). Creating and reading are open to
 * users and to API keys (a key, in its own project); renaming and deleting
 * to owners and admins. The checks are in
 * workflow_input.c, the SQL in workflows.c. */
#include "handlers/handlers.h"

#include "http/errors.h"
#include "http/json_body.h"
#include "http/query.h"
#include "domain/workflow_admin.h"
#include "domain/workflow_store.h"

void handle_workflows_create(struct req *r)
{
    struct json_object *body = json_body_object_or_reply(r, &workflow_body_shape), *out = NULL;
    struct workflow_input in;
    char path[160], msg[256];
    if (!body)
        return;
    if (workflow_input_parse(body, &in, path, sizeof path, msg, sizeof msg) < 0) {
        reply_error(r, E_VALIDATION, path[0] ? path : NULL, "%s", msg);
        goto done;
    }
    enum db_status st = workflows_create(r->db, &r->who, &in, &out);
    reply_tx_result(r, st, 201, out);
    workflow_input_free(&in);
done:
    json_object_put(body);
}

void handle_workflows_list(struct req *r)
{
    static const char *const names[] = {"project_id", "limit", "cursor", NULL};
    struct query q;
    struct workflow_list_params p;
    struct json_object *out = NULL;
    char path[32], msg[128];
    if (query_parse_or_reply(r, names, &q) < 0)
        return;
    if (workflow_list_params_parse(query_get(&q, "project_id"), query_get(&q, "limit"),
                                   query_get(&q, "cursor"), &p, path, sizeof path, msg, sizeof msg) < 0) {
        reply_error(r, E_VALIDATION, path, "%s", msg);
        goto done;
    }
    enum db_status st = workflows_list(r->db, &r->who, &p, &out);
    reply_tx_result(r, st, 200, out);
done:
    query_free(&q);
}

void handle_workflow_get(struct req *r)
{
    struct json_object *out = NULL;
    enum db_status st = workflows_get(r->db, &r->who, r->params[0], &out);
    reply_tx_result(r, st, 200, out);
}

void handle_workflow_rename(struct req *r)
{
    const char *name;
    struct json_object *body = name_body_or_reply(r, WORKFLOW_NAME_MAX, &name), *out = NULL;
    if (!body)
        return;
    enum db_status st = workflow_rename(r->db, &r->who, r->params[0], name, &out);
    reply_tx_result(r, st, 200, out);
    json_object_put(body);
}

void handle_workflow_delete(struct req *r)
{
    reply_tx_result(r, workflow_delete(r->db, &r->who, r->params[0]), 204, NULL);
}

/* DELETE /api/executions/{id}: here rather than with the read routes of
 * executions.c, as it is a change made by owners and admins. */
void handle_execution_delete(struct req *r)
{
    reply_tx_result(r, execution_erase(r->db, &r->who, r->params[0]), 204, NULL);
}
