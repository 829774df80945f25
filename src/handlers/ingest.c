/* POST /api/executions/ingest: a workflow run's audit log, uploaded in one
 * request (CONTRACT.md section 4). Validate the body's text strictly in one
 * pass (ingest_validate: syntax, UTF-8, depth and every field; no tree is
 * built, the text is what PostgreSQL parses), then one call to
 * ingest_store() (src/domain/ingest_store.c), commit, answer 201 (new execution), 200
 * (append to a running live run) or, for an Idempotency-Key retry, the
 * first answer again with Idempotent-Replayed: true. Any failure rolls the
 * whole ingest back: nothing is written. */
#include "handlers/handlers.h"

#include <stdlib.h>

#include "util/buf.h"
#include "http/errors.h"
#include "domain/ingest_store.h"
#include "domain/ingest_validate.h"
#include "ops/metrics.h"
#include "http/response.h"

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
    if (st == DB_OK && res.replayed)
        reply_header(r, "Idempotent-Replayed", "true");
    if (reply_tx_result_why(r, st, res.http_status, st == DB_OK ? ingest_answer(&res) : NULL, res.path,
                            res.message) == 0) {
        if (!res.replayed)
            /* Rows added: node executions updated by `id` are not new rows. */
            metrics_ingested(res.http_status == 201, sum.counts[IT_NODE_EXECUTIONS] - (size_t)res.node_updates,
                             sum.counts[IT_TELEMETRY_SPANS],
                             sum.counts[IT_TELEMETRY_EVENTS], sum.counts[IT_SHARED_STATE_SNAPSHOTS]);
        /* After the commit and the answer, off the ingest's own statements. */
        ingest_purge_old_keys(r->db);
    }
    free(session_id);
}
