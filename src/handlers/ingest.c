/* POST /api/executions/ingest: a workflow run's audit log, uploaded in one
 * request (CONTRACT.md section 4). Parse and validate strictly, then one
 * call to ingest_store() (src/ingest.c), commit, answer 201 (new execution),
 * 200 (append to a running live run) or, for an Idempotency-Key retry, the
 * first answer again with Idempotent-Replayed: true. Any failure rolls the
 * whole ingest back: nothing is written. */
#include "handlers/handlers.h"

#include <json-c/json.h>

#include "errors.h"
#include "ingest.h"
#include "ingest_validate.h"
#include "json_in.h"
#include "metrics.h"
#include "response.h"

/* The payload's string member key (validated present), or NULL. Borrowed. */
static const char *member_string(struct json_object *payload, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(payload, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* Rolls back and answers a failed ingest: the client's specific reason when
 * ingest_store gave one, else the status's generic error. */
static void reply_ingest_error(struct req *r, enum db_status st, const struct ingest_result *res)
{
    enum api_error e;
    db_rollback(r->db);
    switch (st) {
    case DB_NOT_FOUND: e = E_NOT_FOUND; break;
    case DB_FORBIDDEN: e = E_FORBIDDEN; break;
    case DB_INVALID: e = E_VALIDATION; break;
    case DB_CONFLICT: e = E_CONFLICT; break;
    default: e = E_INTERNAL; break;
    }
    if (res->message && e != E_INTERNAL)
        reply_error(r, e, res->path[0] ? res->path : NULL, "%s", res->message);
    else
        db_reply_error(r, st);
}

void handle_ingest(struct req *r)
{
    struct json_object *payload = NULL;
    struct ingest_summary sum;
    struct ingest_result res;
    char path[256], msg[256];

    if (r->idempotency_key && !ingest_idempotency_key_valid(r->idempotency_key)) {
        reply_error(r, E_VALIDATION, "Idempotency-Key",
                    "Idempotency-Key must be 1 to %d visible ASCII characters", INGEST_IDEM_KEY_MAX);
        return;
    }
    if (!(payload = json_body_object_or_reply(r)))
        return;
    path[0] = msg[0] = '\0';
    if (ingest_validate(r->cfg, payload, &sum, path, sizeof path, msg, sizeof msg) < 0) {
        reply_error(r, E_VALIDATION, path[0] ? path : NULL, "%s", msg);
        goto done;
    }
    const struct ingest_input in = {
        .body = r->body,
        .body_len = r->body_len,
        .sum = &sum,
        .session_id = member_string(payload, "session_id"),
        .started_at = member_string(payload, "started_at"),
        .idem_key = r->idempotency_key,
    };
    if (!in.session_id || !in.started_at) {
        /* The validator requires both: reaching here is a bug there. */
        reply_error(r, E_INTERNAL, NULL, "internal error");
        goto done;
    }

    enum db_status st = ingest_store(r->db, &r->who, &in, &res);
    if (st == DB_OK)
        st = db_commit(r->db);
    if (st != DB_OK) {
        reply_ingest_error(r, st, &res);
        goto done;
    }
    if (!res.replayed)
        metrics_ingested(res.http_status == 201, sum.counts);
    if (res.replayed)
        reply_header(r, "Idempotent-Replayed", "true");
    reply_json(r, res.http_status, ingest_answer(&res));
    /* After the commit and the answer, off the ingest's own statements. */
    ingest_purge_old_keys(r->db);
done:
    json_object_put(payload);
}
