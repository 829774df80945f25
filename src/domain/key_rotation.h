/* Rotating an API key (POST /api/api-keys/{id}/rotate): a new secret for
 * the same key id, name and project. From the commit on, the old secret is
 * refused by every worker (each request looks its key up afresh) and the
 * new one works; the new key text is in the answer only, shown once.
 * Owners and admins of the key's organization; a revoked key cannot be
 * rotated (DB_CONFLICT, *why says so). Audited, without any secret. */
#ifndef AGORA_KEY_ROTATION_H
#define AGORA_KEY_ROTATION_H

#include <json-c/json.h>

#include "auth/identity.h"
#include "db/db.h"

#define KEY_ROTATION_REVOKED "a revoked API key cannot be rotated: create a new one"

/* out: {"id","project_id","organization_id","name","key","created_at","rotated_at"} */
enum db_status api_key_rotate(struct db *db, const struct identity *who, const char *key_id,
                              struct json_object **out, const char **why);

#endif
