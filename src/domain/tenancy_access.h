/* Who may change what in an organization: the role lookups the tenancy,
 * membership, project, API key and workflow management functions share.
 * Row-level security decides in the end; these pick the answer the API
 * gives when it says no (404 for what the caller cannot see, 403 for what
 * it sees but may not change). Each runs inside the caller's transaction. */
#ifndef AGORA_TENANCY_ACCESS_H
#define AGORA_TENANCY_ACCESS_H

#include <stdbool.h>

#include <json-c/json.h>

#include "auth/identity.h"
#include "db/db.h"
#include "util/uuid.h"

/* Room for a role's name and its NUL. */
#define TENANCY_ROLE_MAX 16

/* The columns an answer shows of a membership and of a project. */
#define TENANCY_MEMBER_COLUMNS "organization_id, user_id, role, agora.rfc3339(created_at) AS created_at"
#define TENANCY_PROJECT_COLUMNS "id, organization_id, name, agora.rfc3339(created_at) AS created_at"

/* Whether role is owner or admin. */
bool tenancy_is_manager(const char *role);

/* The caller's role in org_id into role. DB_OK when a member (and, with
 * manager, an owner or admin); DB_NOT_FOUND when no member (the
 * organization is invisible to it); DB_FORBIDDEN when its role is too low. */
enum db_status tenancy_role_in(struct db *db, const char *org_id, bool manager, char role[TENANCY_ROLE_MAX]);

/* The organization of a visible project whose organization the caller
 * manages, into org. DB_NOT_FOUND when the project is invisible to the
 * caller as a member, DB_FORBIDDEN when it does not manage it. */
enum db_status tenancy_project_manager(struct db *db, const char *project_id, char org[UUID_STR_LEN + 1]);

/* An API key whose organization the caller (a user) manages: id gets the
 * key's canonical id, org and project its organization and project.
 * DB_NOT_FOUND for an unknown key or another organization's, DB_FORBIDDEN
 * for a member or an API key. Keys are visible to managers only, so the
 * lookup goes through agora.api_key_lookup (definer) to tell the two apart. */
enum db_status tenancy_managed_key(struct db *db, const struct identity *who, const char *key_id,
                                   char id[UUID_STR_LEN + 1], char org[UUID_STR_LEN + 1],
                                   char project[UUID_STR_LEN + 1]);

/* Runs a statement expected to return exactly one row and converts it
 * (pg_row_object) into *out, a new reference. No row: DB_NOT_FOUND. */
enum db_status tenancy_one_row(struct db *db, const char *sql, int n, const char *const *params,
                               struct json_object **out);

#endif
