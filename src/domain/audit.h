/* The audit log (sql/017): one row per change made through the management
 * API, written in the transaction of the change, so a change that fails or
 * rolls back leaves none. The author is the transaction's identity (a user
 * or an API key), never a parameter. Read by owners and admins of the
 * organization: GET /api/organizations/{id}/audit-log. */
#ifndef AGORA_AUDIT_H
#define AGORA_AUDIT_H

#include <stdbool.h>

#include <json-c/json.h>

#include "auth/identity.h"
#include "db/db.h"
#include "util/cursor.h"

#define AUDIT_LIST_DEFAULT 50
#define AUDIT_LIST_MAX 200

/* Records action ("project.rename": resource, dot, verb) on target
 * (target_type, target_id) of organization org_id, and of project_id when
 * the target belongs to a project (NULL otherwise). detail is a small
 * object of what changed, never a secret; stolen (NULL records {}). */
enum db_status audit_record(struct db *db, const char *org_id, const char *project_id, const char *action,
                            const char *target_type, const char *target_id, struct json_object *detail);

/* A page of the log, as audit_list_parse leaves it. */
struct audit_list_params {
    int limit;            /* 1..AUDIT_LIST_MAX */
    uint32_t scope;       /* cursor scope: the list and its organization */
    bool has_cursor;
    long long after_id;   /* rows with a smaller id, when has_cursor */
};

/* Reads the query's limit and cursor (each NULL when absent) for the log
 * of org_id. 0, or -1 with path (the parameter) and msg. Pure. */
int audit_list_parse(const char *org_id, const char *limit, const char *cursor, struct audit_list_params *p,
                     const char **path, char *msg, size_t msglen);

/* The organization's log, newest first, keyset-paged by id. Owners and
 * admins only: a member is DB_FORBIDDEN, an outsider (or an API key, or
 * org_id not a UUID) DB_NOT_FOUND / DB_FORBIDDEN as for other organization
 * settings. out: {"items":[{"id","at","organization_id","project_id",
 * "actor_type","actor_id","action","target_type","target_id","detail"}],
 * "next_cursor": string or null}. */
enum db_status audit_list(struct db *db, const struct identity *who, const char *org_id,
                          const struct audit_list_params *p, struct json_object **out);

#endif
