/* POST /v1/traces and POST /api/otlp/v1/traces: an OpenTelemetry trace
 * export (OTLP/HTTP, protobuf or JSON, maybe gzip or deflate; README
 * "OpenTelemetry"). Decode (src/otlp, the steps in otlp_decode.h), one
 * call to otlp_store() (src/domain/otlp_store.c), commit, answer 200 with
 * an ExportTraceServiceResponse in the request's format, its partial
 * success naming the spans refused. Every error is OTLP's Status in that
 * format (the router sets r->otlp_answers; errors.c writes it): 415, 400
 * and 413 here, 401 and 503 from the router and the database. A failure
 * of the store rolls everything back: the exporter retries the request
 * whole on a 503, and a span it sends again is stored once. */
#include "handlers/handlers.h"

#include <stdio.h>
#include <stdlib.h>

#include "domain/otlp_store.h"
#include "http/errors.h"
#include "http/response.h"
#include "ops/config.h"
#include "ops/metrics.h"
#include "otlp/otlp_decode.h"
#include "util/buf.h"

/* The API error of a decoding error's HTTP status. */
static enum api_error api_error_of(enum otlp_err err)
{
    switch (otlp_err_http(err)) {
    case 413: return E_TOO_LARGE;
    case 415: return E_MEDIA_TYPE;
    default: return E_BAD_JSON;
    }
}

/* The partial success's message: the store's refusals, then the
 * decoder's. */
static void rejection_message(const struct otlp_request *req, const struct otlp_store_result *res, char *msg,
                              size_t cap)
{
    char decoded[512];
    otlp_rejection_message(req, decoded, sizeof decoded);
    if (res->rejected == 0)
        snprintf(msg, cap, "%s", decoded);
    else
        snprintf(msg, cap, "%zu of %zu spans rejected; %s%s%s", res->rejected + req->n_rejected, req->n_spans,
                 res->message, decoded[0] ? "; " : "", decoded);
}

void handle_otlp_traces(struct req *r)
{
    enum otlp_format fmt;
    enum otlp_encoding enc;
    struct otlp_limits lim = OTLP_LIMITS_DEFAULT(r->cfg->max_body_bytes);
    struct otlp_request *req = NULL;
    struct otlp_store_result res;
    const char *body = NULL;
    size_t len = 0;
    char *inflated = NULL, why[256], msg[1200];
    struct buf answer;
    buf_init(&answer);

    enum otlp_err err = otlp_format_parse(r->content_type, &fmt);
    if (err == OTLP_OK)
        err = otlp_encoding_parse(r->content_encoding, &enc);
    if (err == OTLP_OK)
        err = otlp_inflate(enc, r->body ? r->body : "", r->body_len, &lim, &body, &len, &inflated);
    snprintf(why, sizeof why, "%s", otlp_err_text(err));
    if (err == OTLP_OK)
        err = otlp_decode(fmt, body, len, &lim, &req, why, sizeof why);
    if (err != OTLP_OK) {
        reply_error(r, api_error_of(err), NULL, "%s", why);
        goto done;
    }

    enum db_status st = otlp_store(r->db, &r->who, req, &res);
    if (st == DB_OK)
        st = db_commit(r->db);
    if (st != DB_OK) {
        db_rollback(r->db);
        reply_db_error(r, st);
        goto done;
    }
    metrics_ingested(false, (size_t)res.node_executions, (size_t)res.spans, (size_t)res.events, 0);
    rejection_message(req, &res, msg, sizeof msg);
    otlp_response(fmt, (int64_t)(req->n_rejected + res.rejected), msg, &answer);
    reply_body(r, 200, fmt == OTLP_PROTOBUF ? "application/x-protobuf" : "application/json",
               answer.data ? answer.data : "", answer.len);
done:
    buf_free(&answer);
    otlp_request_free(req);
    free(inflated);
}
