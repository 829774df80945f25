/* One function per route. Each is short: parse, authorize, one database
 * call, reply. The router has already matched the path, authenticated the
 * caller, read the body and opened the caller's transaction. */
#ifndef AGORA_HANDLERS_H
#define AGORA_HANDLERS_H

#include <json-c/json.h>

#include "db/db.h"
#include "http/request.h"

/* The common tail of a handler: on DB_OK commits the caller's transaction
 * and sends out with status; otherwise (or when the commit fails) rolls
 * back and sends the error that fits (errors.h: reply_db_error_why, with
 * the domain's path and message when it gave them). Steals out (NULL
 * allowed, e.g. for 204). 0 when committed and answered, else -1. */
int reply_tx_result(struct req *r, enum db_status st, int status, struct json_object *out);
int reply_tx_result_why(struct req *r, enum db_status st, int status, struct json_object *out, const char *path,
                        const char *message);

/* Reads a body that is {"name": a string of 1..max bytes} and nothing
 * else (creating an organization, renaming a project or a workflow). The
 * body, which *name borrows from and the caller puts, or NULL when it has
 * answered the client (400/422). */
struct json_object *name_body_or_reply(struct req *r, int max, const char **name);

void handle_health(struct req *r);
void handle_metrics(struct req *r);               /* handlers/prometheus.c */

void handle_ingest(struct req *r);                /* handlers/ingest.c */
void handle_otlp_traces(struct req *r);           /* handlers/otlp.c */
void handle_executions_list(struct req *r);       /* handlers/executions.c */
void handle_execution_get(struct req *r);
void handle_execution_timeline(struct req *r);
void handle_execution_critical_path(struct req *r);
void handle_execution_spans(struct req *r);
void handle_execution_events(struct req *r);
void handle_execution_snapshots(struct req *r);
void handle_execution_compare(struct req *r);     /* handlers/comparisons.c */
void handle_execution_export(struct req *r);      /* handlers/exports.c */
void handle_execution_report(struct req *r);

void handle_workflows_create(struct req *r);      /* handlers/workflows.c */
void handle_workflows_list(struct req *r);
void handle_workflow_get(struct req *r);
void handle_workflow_rename(struct req *r);
void handle_workflow_delete(struct req *r);
void handle_execution_delete(struct req *r);
void handle_workflow_stats(struct req *r);        /* handlers/stats.c */
void handle_project_stats(struct req *r);

void handle_orgs_create(struct req *r);
void handle_orgs_list(struct req *r);
void handle_members_add(struct req *r);
void handle_members_list(struct req *r);
void handle_member_update(struct req *r);
void handle_member_remove(struct req *r);
void handle_audit_log(struct req *r);             /* handlers/audit_log.c */
void handle_retention_get(struct req *r);         /* handlers/retention.c */
void handle_retention_put(struct req *r);
void handle_retention_delete(struct req *r);
void handle_model_prices_list(struct req *r);     /* handlers/model_prices.c */
void handle_model_price_put(struct req *r);
void handle_model_price_delete(struct req *r);

void handle_projects_create(struct req *r);
void handle_projects_list(struct req *r);
void handle_project_rename(struct req *r);
void handle_project_delete(struct req *r);
void handle_api_keys_create(struct req *r);
void handle_api_keys_list(struct req *r);
void handle_api_keys_revoke(struct req *r);
void handle_api_key_rotate(struct req *r);

void handle_alert_rules_create(struct req *r);   /* handlers/alerts.c */
void handle_alert_rules_list(struct req *r);
void handle_alert_rule_get(struct req *r);
void handle_alert_rule_put(struct req *r);
void handle_alert_rule_delete(struct req *r);
void handle_alert_rule_mute(struct req *r);
void handle_alert_rule_snooze(struct req *r);
void handle_alert_rule_test(struct req *r);
void handle_alert_rule_deliveries(struct req *r);

void handle_live_tickets(struct req *r);          /* handlers/live.c */
void handle_live_authorize(struct req *r);

#endif
