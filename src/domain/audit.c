/* The audit log (see audit.h). Rows are written with the transaction's
 * identity (agora.uid(), agora.key_id()) and sql/017's INSERT policy
 * refuses any other author. Read newest first by the (organization_id, id
 * DESC) index: a page is one index range whatever the log's length. */
#include "domain/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pg_json.h"
#include "util/buf.h"
#include "domain/tenancy_access.h"
#include "util/text.h"
#include "util/uuid.h"

enum db_status audit_record(struct db *db, const char *org_id, const char *project_id, const char *action,
                            const char *target_type, const char *target_id, struct json_object *detail)
{
    const char *text = "{}";
    if (detail) {
        text = json_object_to_json_string_ext(detail, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
            agora_oom();
    }
    const char *params[6] = {org_id, project_id, action, target_type, target_id, text};
    enum db_status st = db_exec(db,
                                "INSERT INTO agora.audit_log (organization_id, project_id, actor_user_id,"
                                " actor_key_id, action, target_type, target_id, detail)"
                                " VALUES ($1::uuid, $2::uuid, agora.uid(), agora.key_id(), $3, $4, $5, $6::jsonb)",
                                6, params, NULL);
    json_object_put(detail);
    return st;
}

static uint32_t list_scope(const char *org_id)
{
    char lower[UUID_STR_LEN + 1];
    if (uuid_valid(org_id)) {
        uuid_lower(org_id, lower);
        org_id = lower;
    }
    return cursor_scope_add(cursor_scope_begin("audit-log"), "organization", org_id);
}

int audit_list_parse(const char *org_id, const char *limit, const char *cursor, struct audit_list_params *p,
                     const char **path, char *msg, size_t msglen)
{
    long long n;
    memset(p, 0, sizeof *p);
    p->limit = AUDIT_LIST_DEFAULT;
    p->scope = list_scope(org_id);
    if (limit) {
        if (decimal_parse(limit, AUDIT_LIST_MAX, &n) < 0 || n < 1) {
            *path = "limit";
            snprintf(msg, msglen, "limit must be an integer from 1 to %d", AUDIT_LIST_MAX);
            return -1;
        }
        p->limit = (int)n;
    }
    if (cursor) {
        struct cursor c;
        /* The position is the last row's id, a positive bigint. */
        if (cursor_decode(cursor, &c) < 0 || c.scope != p->scope || c.micros != 0 ||
            decimal_parse(c.id, INT64_MAX, &n) < 0 || n < 1) {
            *path = "cursor";
            snprintf(msg, msglen, "cursor " CURSOR_MISMATCH);
            return -1;
        }
        p->has_cursor = true;
        p->after_id = n;
    }
    return 0;
}

/* detail arrives as jsonb text: made an object again for the answer. */
static void detail_as_object(struct json_object *item)
{
    struct json_object *d = NULL;
    if (!json_object_object_get_ex(item, "detail", &d) || !json_object_is_type(d, json_type_string))
        return;
    struct json_object *parsed = json_tokener_parse(json_object_get_string(d));
    json_object_object_add(item, "detail", parsed ? parsed : json_must(json_object_new_object()));
}

enum db_status audit_list(struct db *db, const struct identity *who, const char *org_id,
                          const struct audit_list_params *p, struct json_object **out)
{
    PGresult *res = NULL;
    char org[UUID_STR_LEN + 1], limit[16], after[24], role[TENANCY_ROLE_MAX];
    enum db_status st;

    *out = NULL;
    if (who->kind != CALLER_USER)
        return DB_FORBIDDEN;
    if (!uuid_valid(org_id))
        return DB_NOT_FOUND;
    uuid_lower(org_id, org);
    if ((st = tenancy_role_in(db, org, true, role)) != DB_OK)
        return st;
    snprintf(limit, sizeof limit, "%d", p->limit + 1);
    snprintf(after, sizeof after, "%lld", p->has_cursor ? p->after_id : 0LL);
    const char *params[4] = {org, p->has_cursor ? after : NULL, limit};
    st = db_exec(db,
                 "SELECT id, agora.rfc3339(at) AS at, organization_id, project_id,"
                 " CASE WHEN actor_user_id IS NOT NULL THEN 'user' ELSE 'api_key' END AS actor_type,"
                 " COALESCE(actor_user_id, actor_key_id) AS actor_id, action, target_type, target_id, detail"
                 " FROM agora.audit_log WHERE organization_id = $1::uuid"
                 " AND ($2::bigint IS NULL OR id < $2::bigint)"
                 " ORDER BY id DESC LIMIT $3::int",
                 3, params, &res);
    if (st != DB_OK)
        goto done;
    struct json_object *items = pg_rows_array(res, p->limit), *next = NULL;
    for (size_t i = 0; i < json_object_array_length(items); i++)
        detail_as_object(json_object_array_get_idx(items, i));
    if (PQntuples(res) > p->limit) {
        struct cursor c = {.scope = p->scope, .micros = 0};
        char text[CURSOR_TEXT_MAX + 1];
        snprintf(c.id, sizeof c.id, "%s", PQgetvalue(res, p->limit - 1, 0));
        cursor_encode(&c, text);
        next = json_must(json_object_new_string(text));
    }
    *out = json_must(json_object_new_object());
    json_object_object_add(*out, "items", items);
    json_object_object_add(*out, "next_cursor", next);
done:
    PQclear(res);
    return st;
}
