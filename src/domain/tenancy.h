/* Organizations, memberships, projects and API keys: the SQL behind the
 * tenancy routes and agora-admin. Each function runs inside the caller's
 * transaction (db_begin_as), so row-level security decides what exists: a
 * row the caller cannot see answers DB_NOT_FOUND, a visible row the caller's
 * role may not change answers DB_FORBIDDEN. On DB_OK, *out is a new JSON
 * reference holding the answer object (the caller owns it). */
#ifndef AGORA_TENANCY_H
#define AGORA_TENANCY_H

#include <stdbool.h>

#include <json-c/json.h>

#include "db/db.h"
#include "auth/identity.h"

/* The longest name of an organization, project or API key, in bytes. */
#define TENANCY_NAME_MAX 200

/* The caller (a user) creates an organization and becomes its owner.
 * out: {"id","name","created_at","role":"owner"} */
enum db_status tenancy_create_org(struct db *db, const struct identity *who, const char *name,
                                  struct json_object **out);
/* The caller's organizations. out: {"items":[{"id","name","created_at","role"}]} */
enum db_status tenancy_list_orgs(struct db *db, const struct identity *who, struct json_object **out);
/* Owner/admin adds user_id with role (owner/admin/member/viewer); only an
 * owner may grant owner. Already a member: DB_CONFLICT.
 * out: {"organization_id","user_id","role","created_at"} */
enum db_status tenancy_add_member(struct db *db, const struct identity *who, const char *org_id,
                                  const char *user_id, const char *role, struct json_object **out);
/* Whether the caller (a user) is a member of org_id, and with manager an
 * owner or admin: DB_OK; DB_NOT_FOUND when it is no member (or org_id is
 * no UUID), DB_FORBIDDEN when its role is too low or it is an API key. For
 * routes under an organization that other modules serve. */
enum db_status tenancy_require_member(struct db *db, const struct identity *who, const char *org_id,
                                      bool manager);
/* Members of a visible organization. out: {"items":[{"user_id","role","created_at"}]} */
enum db_status tenancy_list_members(struct db *db, const struct identity *who, const char *org_id,
                                    struct json_object **out);
/* Owner/admin creates a project. A duplicate name in the organization:
 * DB_CONFLICT. out: {"id","organization_id","name","created_at"} */
enum db_status tenancy_create_project(struct db *db, const struct identity *who, const char *org_id,
                                      const char *name, struct json_object **out);
/* Projects visible to the caller (an API key sees its own), optionally of
 * one organization (org_id may be NULL). out: {"items":[project...]} */
enum db_status tenancy_list_projects(struct db *db, const struct identity *who, const char *org_id,
                                     struct json_object **out);
/* Owner/admin makes an API key for a project. name may be NULL.
 * out: {"id","project_id","organization_id","name","key","created_at"}; the
 * key text is in the answer only, never stored. */
enum db_status tenancy_create_api_key(struct db *db, const struct identity *who, const char *project_id,
                                      const char *name, struct json_object **out);
/* Keys of a project, without secrets.
 * out: {"items":[{"id","name","created_at","revoked_at","last_used_at","rotated_at"}]} */
enum db_status tenancy_list_api_keys(struct db *db, const struct identity *who, const char *project_id,
                                     struct json_object **out);
/* Owner/admin revokes a key: from then on it is refused. Revoking twice is
 * DB_OK (idempotent). out may be NULL. */
enum db_status tenancy_revoke_api_key(struct db *db, const struct identity *who, const char *key_id);

#endif
