/* POST /api/executions/ingest: a workflow run's audit log, uploaded in one
 * request (CONTRACT.md section 4). Validate the body's text strictly in one
 * pass (ingest_validate: syntax, UTF-8, depth and every field; no tree is
 * built, the text is what PostgreSQL parses), then one call to
 * ingest_store() (src/ingest.c), commit, answer 201 (new execution), 200
 * (append to a running live run) or, for an Idempotency-Key retry, the
 * first answer again with Idempotent-Replayed: true. Any failure rolls the
 * whole ingest back: nothing is written. */
#include "handlers/handlers.h"

#include <stdlib.h>

#include "buf.h"
#include "errors.h"
#include "ingest.h"
#include "ingest_validate.h"
#include "metrics.h"
#include "response.h"

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
    struct ingest_summary sum;
    struct ingest_result res;
    char path[256], msg[256];
    char *session_id = NULL;

    if (r->idempotency_key && !ingest_idempotency_key_valid(r->idempotency_key)) {
        reply_error(r, E_VALIDATION, "Idempotency-Key",
                    "Idempotency-Key must be 1 to %d visible ASCII characters", INGEST_IDEM_KEY_MAX);
        return;
    }
    if (!r->body || r->body_len == 0) {
        reply_error(r, E_BAD_JSON, NULL, "a JSON body is required");
        return;
    }
    switch (ingest_validate(r->cfg, r->body, r->body_len, &sum, path, sizeof path, msg, sizeof msg)) {
    case INGEST_VALID:
        break;
    case INGEST_BAD_JSON:
        reply_error(r, E_BAD_JSON, NULL, "%s", msg);
        return;
    case INGEST_INVALID:
        reply_error(r, E_VALIDATION, path[0] ? path : NULL, "%s", msg);
        return;
    }
    session_id = xmalloc(sum.session_id_len + 1);
    ingest_session_id(r->body, &sum, session_id);
    const struct ingest_input in = {
        .body = r->body,
        .body_len = r->body_len,
        .sum = &sum,
        .session_id = session_id,
        .started_at = sum.started_at,
        .idem_key = r->idempotency_key,
    };

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
    free(session_id);
}
