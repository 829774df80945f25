/* Alert rules (sql/014, README "Alerts"): the SQL behind /api/projects/{id}/
 * alert-rules and /api/alert-rules/{id}[/...]. Users only: members read,
 * owners and admins write (403 otherwise; 404 for a project or rule the
 * caller cannot see). Each function runs in the caller's transaction under
 * row-level security; on DB_OK *out (where there is one) is a new
 * reference the caller owns. A rule's channels show their URL and
 * has_secret, never the secret. Inputs have passed alert_rule_check. */
#ifndef AGORA_ALERT_RULES_H
#define AGORA_ALERT_RULES_H

#include <stdbool.h>

#include <json-c/json.h>

#include "auth/identity.h"
#include "db/db.h"
#include "domain/alert_rule_check.h"

/* Why a write was refused that only the database can tell (DB_INVALID):
 * a workflow_id of another project. */
struct alert_refusal {
    const char *path, *why;
};

enum db_status alert_rule_create(struct db *db, const struct identity *who, const char *project_id,
                                 const struct alert_rule_input *in, struct json_object **out,
                                 struct alert_refusal *no);
/* {"items":[rule...]}, oldest first. */
enum db_status alert_rules_list(struct db *db, const struct identity *who, const char *project_id,
                                struct json_object **out);
enum db_status alert_rule_get(struct db *db, const struct identity *who, const char *rule_id,
                              struct json_object **out);
/* Replaces the rule. A channel sent without a secret at the same position
 * and URL as before keeps its row, its secret and its pending deliveries;
 * a channel that goes takes its pending deliveries with it. A window rule
 * whose kind or window changed starts its windows again. */
enum db_status alert_rule_update(struct db *db, const struct identity *who, const char *rule_id,
                                 const struct alert_rule_input *in, struct json_object **out,
                                 struct alert_refusal *no);
/* The rule, its channels, alerts and deliveries. */
enum db_status alert_rule_delete(struct db *db, const struct identity *who, const char *rule_id);
enum db_status alert_rule_mute(struct db *db, const struct identity *who, const char *rule_id, bool muted,
                               struct json_object **out);
/* Quiet for minutes (the text of a whole number 0..ALERT_WINDOW_MAX; 0
 * ends a snooze). */
enum db_status alert_rule_snooze(struct db *db, const struct identity *who, const char *rule_id,
                                 const char *minutes, struct json_object **out);
/* A test alert to every channel now, muted or not, past any cooldown:
 * {"alert_id","deliveries"}. */
enum db_status alert_rule_test(struct db *db, const struct identity *who, const char *rule_id,
                               struct json_object **out);
/* The rule's latest limit deliveries, newest first, of one status (NULL:
 * all): {"items":[{"id","alert_id","test","summary","channel_id","url",
 * "status","attempts","codes","last_error","next_try_at","created_at",
 * "finished_at"}]}. */
enum db_status alert_rule_deliveries(struct db *db, const struct identity *who, const char *rule_id,
                                     const char *status, const char *limit, struct json_object **out);

#endif
