/* API key rotation (see key_rotation.h). The row is locked while its new
 * hash is written, so a revocation and a rotation of one key cannot
 * interleave: whichever comes second sees the first's outcome. */
#include "domain/key_rotation.h"

#include <string.h>

#include "auth/apikey.h"
#include "db/pg_json.h"
#include "domain/audit.h"
#include "domain/tenancy_access.h"
#include "util/uuid.h"

enum db_status api_key_rotate(struct db *db, const struct identity *who, const char *key_id,
                              struct json_object **out, const char **why)
{
    char id[UUID_STR_LEN + 1], org[UUID_STR_LEN + 1], project[UUID_STR_LEN + 1], key[APIKEY_TEXT_LEN + 1], hash_hex[2 * APIKEY_HASH_LEN + 1];
    struct apikey_parts parts;
    PGresult *res = NULL;
    enum db_status st;

    *out = NULL;
    *why = NULL;
    if ((st = tenancy_managed_key(db, who, key_id, id, org, project)) != DB_OK)
        return st;
    const char *params[1] = {id};
    st = db_exec(db, "SELECT revoked_at IS NOT NULL FROM agora.api_keys WHERE id = $1::uuid FOR UPDATE", 1, params,
                 &res);
    if (st == DB_OK && PQntuples(res) != 1)
        st = DB_FORBIDDEN; /* managed, yet hidden by the policies */
    if (st == DB_OK && strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
        *why = KEY_ROTATION_REVOKED;
        st = DB_CONFLICT;
    }
    PQclear(res);
    if (st != DB_OK)
        return st;
    if (apikey_generate_for(id, key, &parts) < 0)
        return DB_ERROR;
    apikey_hash_hex(parts.hash, hash_hex);
    const char *upd[2] = {id, hash_hex};
    st = tenancy_one_row(db,
                         "UPDATE agora.api_keys SET secret_hash = decode($2, 'hex'), rotated_at = now()"
                         " WHERE id = $1::uuid"
                         " RETURNING id, project_id, organization_id, name, agora.rfc3339(created_at) AS created_at,"
                         " agora.rfc3339(rotated_at) AS rotated_at",
                         2, upd, out);
    explicit_bzero(hash_hex, sizeof hash_hex);
    if (st == DB_OK) {
        struct json_object *name = NULL, *d = json_must(json_object_new_object());
        json_object_object_get_ex(*out, "name", &name);
        json_object_object_add(d, "name", json_object_get(name));
        st = audit_record(db, org, project, "api_key.rotate", "api_key", id, d);
        if (st == DB_OK)
            json_object_object_add(*out, "key", json_must(json_object_new_string(key)));
    }
    explicit_bzero(key, sizeof key);
    if (st != DB_OK) {
        json_object_put(*out);
        *out = NULL;
    }
    return st == DB_NOT_FOUND ? DB_ERROR : st;
}
