/* Retention policies (sql/024): how long an organization's or a project's
 * runs and their payloads are kept, what is kept now, and what the last
 * retention job removed. Owners and admins change a policy; every member
 * reads it. The job itself is agora-retention (main/retention.c). */
#ifndef AGORA_RETENTION_H
#define AGORA_RETENTION_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "auth/identity.h"
#include "db/db.h"

#define RETENTION_DAYS_MAX 3650

/* A policy: 0 means null (runs: kept forever; payloads: kept as long as
 * their run). */
struct retention_policy {
    int runs_days;
    int payload_days;
};

/* Reads {"runs_days": n|null, "payload_days": n|null} (both required,
 * no other key). 0, or -1 with path (the offending key) and msg. Pure. */
int retention_parse(struct json_object *body, struct retention_policy *p, const char **path, char *msg,
                     size_t msglen);

/* The retention of a project (project true) or an organization: its own
 * policy, the effective one, the oldest run and payload kept, and the last
 * job's outcome. DB_NOT_FOUND when the caller is not a member. */
enum db_status retention_get(struct db *db, const struct identity *who, bool project, const char *id,
                             struct json_object **out);

/* Sets the policy (owners and admins: DB_FORBIDDEN for a member,
 * DB_NOT_FOUND for an outsider), records it in the audit log, and answers
 * as retention_get. */
enum db_status retention_put(struct db *db, const struct identity *who, bool project, const char *id,
                             const struct retention_policy *p, struct json_object **out);

/* Removes the policy: a project then follows its organization's default,
 * an organization keeps runs forever. Nothing to remove is no error.
 * Owners and admins (as retention_put); recorded in the audit log when a
 * policy went. */
enum db_status retention_delete(struct db *db, const struct identity *who, bool project, const char *id);

#endif
