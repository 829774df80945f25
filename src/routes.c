/* The route table: method, path pattern, handler, who may call, and what
 * body it takes. Adding a route is adding a line here and its handler. */
#include "routes.h"

#include "handlers/handlers.h"

const struct route agora_routes[] = {
    {"GET", "/api/health", handle_health, AUTH_NONE, BODY_NONE, QUERY_NONE},
    /* No token: nginx serves it to 127.0.0.1 and ::1 only (agora.conf.in). */
    {"GET", "/api/metrics", handle_metrics, AUTH_NONE, BODY_NONE, QUERY_NONE},

    {"POST", "/api/executions/ingest", handle_ingest, AUTH_ANY, BODY_JSON, QUERY_NONE},
    {"GET", "/api/executions", handle_executions_list, AUTH_ANY, BODY_NONE, QUERY_OWN},
    {"GET", "/api/executions/{id}", handle_execution_get, AUTH_ANY, BODY_NONE, QUERY_NONE},
    {"GET", "/api/executions/{id}/timeline", handle_execution_timeline, AUTH_ANY, BODY_NONE, QUERY_NONE},
    {"GET", "/api/executions/{id}/telemetry-spans", handle_execution_spans, AUTH_ANY, BODY_NONE, QUERY_OWN},
    {"GET", "/api/executions/{id}/telemetry-events", handle_execution_events, AUTH_ANY, BODY_NONE, QUERY_OWN},
    {"GET", "/api/executions/{id}/state-snapshots", handle_execution_snapshots, AUTH_ANY, BODY_NONE, QUERY_OWN},

    {"POST", "/api/workflows", handle_workflows_create, AUTH_ANY, BODY_JSON, QUERY_NONE},
    {"GET", "/api/workflows", handle_workflows_list, AUTH_ANY, BODY_NONE, QUERY_OWN},
    {"GET", "/api/workflows/{id}", handle_workflow_get, AUTH_ANY, BODY_NONE, QUERY_NONE},

    {"POST", "/api/organizations", handle_orgs_create, AUTH_USER, BODY_JSON, QUERY_NONE},
    {"GET", "/api/organizations", handle_orgs_list, AUTH_USER, BODY_NONE, QUERY_NONE},
    {"POST", "/api/organizations/{id}/members", handle_members_add, AUTH_USER, BODY_JSON, QUERY_NONE},
    {"GET", "/api/organizations/{id}/members", handle_members_list, AUTH_USER, BODY_NONE, QUERY_NONE},

    {"POST", "/api/projects", handle_projects_create, AUTH_USER, BODY_JSON, QUERY_NONE},
    {"GET", "/api/projects", handle_projects_list, AUTH_ANY, BODY_NONE, QUERY_OWN},
    {"POST", "/api/projects/{id}/api-keys", handle_api_keys_create, AUTH_USER, BODY_JSON_OPT, QUERY_NONE},
    {"GET", "/api/projects/{id}/api-keys", handle_api_keys_list, AUTH_USER, BODY_NONE, QUERY_NONE},
    {"DELETE", "/api/api-keys/{id}", handle_api_keys_revoke, AUTH_USER, BODY_NONE, QUERY_NONE},
};

const size_t agora_routes_count = sizeof agora_routes / sizeof agora_routes[0];
