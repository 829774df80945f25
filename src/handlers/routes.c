/* The route table: method, path pattern, handler, who may call, what body
 * it takes and how large, and whether a hot standby may serve it (a pure
 * read, db/replica.h). Adding a route is adding a line here and its
 * handler. */
#include "handlers/routes.h"

#include "handlers/handlers.h"

/* The tenancy bodies hold an id, a name (200 bytes, 1,200 escaped) or a
 * role: 64 KiB leaves room for any formatting. A workflow's may be
 * megabytes (1,000 nodes, 10,000 edges) and keeps the configured limit;
 * its parse builds no more than its checks read (json_in.h). */
#define SMALL_BODY (64 * 1024)

const struct route agora_routes[] = {
    {"GET", "/api/health", handle_health, AUTH_NONE, BODY_NONE, QUERY_NONE, 0, DB_PRIMARY},
    /* No token: nginx serves it to 127.0.0.1 and ::1 only (agora.conf.in). */
    {"GET", "/api/metrics", handle_metrics, AUTH_NONE, BODY_NONE, QUERY_NONE, 0, DB_PRIMARY},

    {"POST", "/api/executions/ingest", handle_ingest, AUTH_ANY, BODY_JSON, QUERY_NONE, 0, DB_PRIMARY},
    /* OpenTelemetry (OTLP/HTTP): exporters append v1/traces to the
     * endpoint, https://HOST or https://HOST/api/otlp. */
    {"POST", "/v1/traces", handle_otlp_traces, AUTH_ANY, BODY_OTLP, QUERY_NONE, 0, DB_PRIMARY},
    {"POST", "/api/otlp/v1/traces", handle_otlp_traces, AUTH_ANY, BODY_OTLP, QUERY_NONE, 0, DB_PRIMARY},
    {"GET", "/api/executions", handle_executions_list, AUTH_ANY, BODY_NONE, QUERY_OWN, 0, DB_STANDBY_OK},
    {"GET", "/api/executions/{id}", handle_execution_get, AUTH_ANY, BODY_NONE, QUERY_NONE, 0, DB_STANDBY_OK},
    {"DELETE", "/api/executions/{id}", handle_execution_delete, AUTH_USER, BODY_NONE, QUERY_NONE, 0, DB_PRIMARY},
    {"GET", "/api/executions/{id}/timeline", handle_execution_timeline, AUTH_ANY, BODY_NONE, QUERY_NONE, 0,
     DB_STANDBY_OK},
    {"GET", "/api/executions/{id}/critical-path", handle_execution_critical_path, AUTH_ANY, BODY_NONE, QUERY_NONE,
     0, DB_STANDBY_OK},
    {"GET", "/api/executions/{id}/telemetry-spans", handle_execution_spans, AUTH_ANY, BODY_NONE, QUERY_OWN, 0,
     DB_STANDBY_OK},
    {"GET", "/api/executions/{id}/telemetry-events", handle_execution_events, AUTH_ANY, BODY_NONE, QUERY_OWN, 0,
     DB_STANDBY_OK},
    {"GET", "/api/executions/{id}/state-snapshots", handle_execution_snapshots, AUTH_ANY, BODY_NONE, QUERY_OWN, 0,
     DB_STANDBY_OK},
    {"GET", "/api/executions/{id}/export", handle_execution_export, AUTH_ANY, BODY_NONE, QUERY_NONE, 0, DB_STANDBY_OK},
    {"GET", "/api/executions/{id}/report", handle_execution_report, AUTH_ANY, BODY_NONE, QUERY_NONE, 0, DB_STANDBY_OK},
    {"GET", "/api/executions/{id}/compare/{other_id}", handle_execution_compare, AUTH_ANY, BODY_NONE, QUERY_OWN, 0,
     DB_STANDBY_OK},

    {"POST", "/api/workflows", handle_workflows_create, AUTH_ANY, BODY_JSON, QUERY_NONE, 0, DB_PRIMARY},
    {"GET", "/api/workflows", handle_workflows_list, AUTH_ANY, BODY_NONE, QUERY_OWN, 0, DB_STANDBY_OK},
    {"GET", "/api/workflows/{id}", handle_workflow_get, AUTH_ANY, BODY_NONE, QUERY_NONE, 0, DB_STANDBY_OK},
    {"PATCH", "/api/workflows/{id}", handle_workflow_rename, AUTH_USER, BODY_JSON, QUERY_NONE, SMALL_BODY, DB_PRIMARY},
    {"DELETE", "/api/workflows/{id}", handle_workflow_delete, AUTH_USER, BODY_NONE, QUERY_NONE, 0, DB_PRIMARY},
    {"GET", "/api/workflows/{id}/stats", handle_workflow_stats, AUTH_ANY, BODY_NONE, QUERY_OWN, 0, DB_PRIMARY},

    {"POST", "/api/organizations", handle_orgs_create, AUTH_USER, BODY_JSON, QUERY_NONE, SMALL_BODY, DB_PRIMARY},
    {"GET", "/api/organizations", handle_orgs_list, AUTH_USER, BODY_NONE, QUERY_NONE, 0, DB_STANDBY_OK},
    {"POST", "/api/organizations/{id}/members", handle_members_add, AUTH_USER, BODY_JSON, QUERY_NONE, SMALL_BODY,
     DB_PRIMARY},
    {"GET", "/api/organizations/{id}/members", handle_members_list, AUTH_USER, BODY_NONE, QUERY_NONE, 0, DB_STANDBY_OK},
    {"PATCH", "/api/organizations/{id}/members/{user_id}", handle_member_update, AUTH_USER, BODY_JSON, QUERY_NONE,
     SMALL_BODY, DB_PRIMARY},
    {"DELETE", "/api/organizations/{id}/members/{user_id}", handle_member_remove, AUTH_USER, BODY_NONE, QUERY_NONE,
     0, DB_PRIMARY},
    {"GET", "/api/organizations/{id}/audit-log", handle_audit_log, AUTH_USER, BODY_NONE, QUERY_OWN, 0, DB_STANDBY_OK},
    {"GET", "/api/organizations/{id}/retention", handle_retention_get, AUTH_USER, BODY_NONE, QUERY_NONE, 0,
     DB_STANDBY_OK},
    {"PUT", "/api/organizations/{id}/retention", handle_retention_put, AUTH_USER, BODY_JSON, QUERY_NONE, SMALL_BODY,
     DB_PRIMARY},
    {"DELETE", "/api/organizations/{id}/retention", handle_retention_delete, AUTH_USER, BODY_NONE, QUERY_NONE, 0,
     DB_PRIMARY},
    {"GET", "/api/projects/{id}/retention", handle_retention_get, AUTH_USER, BODY_NONE, QUERY_NONE, 0, DB_STANDBY_OK},
    {"PUT", "/api/projects/{id}/retention", handle_retention_put, AUTH_USER, BODY_JSON, QUERY_NONE, SMALL_BODY,
     DB_PRIMARY},
    {"DELETE", "/api/projects/{id}/retention", handle_retention_delete, AUTH_USER, BODY_NONE, QUERY_NONE, 0,
     DB_PRIMARY},
    {"GET", "/api/organizations/{id}/model-prices", handle_model_prices_list, AUTH_USER, BODY_NONE, QUERY_OWN, 0,
     DB_STANDBY_OK},
    {"PUT", "/api/organizations/{id}/model-prices/{model}", handle_model_price_put, AUTH_USER, BODY_JSON, QUERY_NONE,
     SMALL_BODY, DB_PRIMARY},
    {"DELETE", "/api/organizations/{id}/model-prices/{model}", handle_model_price_delete, AUTH_USER, BODY_NONE,
     QUERY_NONE, 0, DB_PRIMARY},

    {"POST", "/api/projects", handle_projects_create, AUTH_USER, BODY_JSON, QUERY_NONE, SMALL_BODY, DB_PRIMARY},
    {"GET", "/api/projects", handle_projects_list, AUTH_ANY, BODY_NONE, QUERY_OWN, 0, DB_STANDBY_OK},
    {"PATCH", "/api/projects/{id}", handle_project_rename, AUTH_USER, BODY_JSON, QUERY_NONE, SMALL_BODY, DB_PRIMARY},
    {"DELETE", "/api/projects/{id}", handle_project_delete, AUTH_USER, BODY_NONE, QUERY_NONE, 0, DB_PRIMARY},
    {"GET", "/api/projects/{id}/stats", handle_project_stats, AUTH_ANY, BODY_NONE, QUERY_OWN, 0, DB_PRIMARY},
    {"POST", "/api/projects/{id}/api-keys", handle_api_keys_create, AUTH_USER, BODY_JSON_OPT, QUERY_NONE, SMALL_BODY,
     DB_PRIMARY},
    {"GET", "/api/projects/{id}/api-keys", handle_api_keys_list, AUTH_USER, BODY_NONE, QUERY_NONE, 0, DB_STANDBY_OK},
    {"DELETE", "/api/api-keys/{id}", handle_api_keys_revoke, AUTH_USER, BODY_NONE, QUERY_NONE, 0, DB_PRIMARY},
    {"POST", "/api/api-keys/{id}/rotate", handle_api_key_rotate, AUTH_USER, BODY_NONE, QUERY_NONE, 0, DB_PRIMARY},

    {"POST", "/api/projects/{id}/alert-rules", handle_alert_rules_create, AUTH_USER, BODY_JSON, QUERY_NONE,
     SMALL_BODY, DB_PRIMARY},
    {"GET", "/api/projects/{id}/alert-rules", handle_alert_rules_list, AUTH_USER, BODY_NONE, QUERY_NONE, 0,
     DB_STANDBY_OK},
    {"GET", "/api/alert-rules/{id}", handle_alert_rule_get, AUTH_USER, BODY_NONE, QUERY_NONE, 0, DB_STANDBY_OK},
    {"PUT", "/api/alert-rules/{id}", handle_alert_rule_put, AUTH_USER, BODY_JSON, QUERY_NONE, SMALL_BODY, DB_PRIMARY},
    {"DELETE", "/api/alert-rules/{id}", handle_alert_rule_delete, AUTH_USER, BODY_NONE, QUERY_NONE, 0, DB_PRIMARY},
    {"POST", "/api/alert-rules/{id}/mute", handle_alert_rule_mute, AUTH_USER, BODY_JSON, QUERY_NONE, SMALL_BODY,
     DB_PRIMARY},
    {"POST", "/api/alert-rules/{id}/snooze", handle_alert_rule_snooze, AUTH_USER, BODY_JSON, QUERY_NONE,
     SMALL_BODY, DB_PRIMARY},
    {"POST", "/api/alert-rules/{id}/test", handle_alert_rule_test, AUTH_USER, BODY_JSON_OPT, QUERY_NONE, SMALL_BODY,
     DB_PRIMARY},
    {"GET", "/api/alert-rules/{id}/deliveries", handle_alert_rule_deliveries, AUTH_USER, BODY_NONE, QUERY_OWN, 0,
     DB_STANDBY_OK},

    {"POST", "/api/live/tickets", handle_live_tickets, AUTH_ANY, BODY_JSON, QUERY_NONE, SMALL_BODY, DB_PRIMARY},
    /* nginx's subscription check (nchan_authorize_request): the ticket is
     * the credential, and only nginx's internal location reaches it. */
    {"GET", "/internal/live/authorize", handle_live_authorize, AUTH_NONE, BODY_NONE, QUERY_NONE, 0, DB_PRIMARY},
};

const size_t agora_routes_count = sizeof agora_routes / sizeof agora_routes[0];

size_t agora_routes_metric_labels(struct metrics_route out[METRICS_MAX_ROUTES])
{
    size_t n = 0;
    for (; n < agora_routes_count && n < METRICS_MAX_ROUTES; n++)
        out[n] = (struct metrics_route){agora_routes[n].method, agora_routes[n].pattern};
    return agora_routes_count;
}
