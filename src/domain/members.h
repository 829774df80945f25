/* Changing an organization's members: a new role, or removal (which is
 * also how a member leaves). Owners and admins manage members; only an
 * owner touches an owner or makes one (the policies of sql/003); anyone
 * may remove themself (leave). An organization always keeps an owner:
 * the last one can neither leave nor be demoted (DB_CONFLICT, with
 * MEMBERS_LAST_OWNER as the message). Each change is audited. */
#ifndef AGORA_MEMBERS_H
#define AGORA_MEMBERS_H

#include <json-c/json.h>

#include "auth/identity.h"
#include "db/db.h"

#define MEMBERS_LAST_OWNER \
    "the organization's last owner cannot leave or be demoted: make another member an owner first"

/* Sets user_id's role in org_id. A user not a member: DB_NOT_FOUND; the
 * same role: DB_OK, nothing recorded. *why is set to a message for the
 * client on DB_CONFLICT (else NULL).
 * out: {"organization_id","user_id","role","created_at"} */
enum db_status members_set_role(struct db *db, const struct identity *who, const char *org_id,
                                const char *user_id, const char *role, struct json_object **out,
                                const char **why);

/* Removes user_id from org_id (the caller itself: leaving). *why as above. */
enum db_status members_remove(struct db *db, const struct identity *who, const char *org_id, const char *user_id,
                              const char **why);

#endif
