/* The read routes of executions: GET /api/executions (JSON pages, or the
 * whole range as NDJSON), /api/executions/{id} and its timeline,
 * telemetry-spans, telemetry-events and state-snapshots.
 * Each handler checks its query parameters (422 naming the parameter) and
 * makes one call into executions.c, which streams the answer itself. */
#include "handlers/handlers.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/cursor.h"
#include "http/errors.h"
#include "domain/execution_reads.h"
#include "domain/ingest_validate.h"
#include "http/query.h"
#include "http/response.h"
#include "util/text.h"
#include "util/timestamp.h"

/* The answer's sink: a 200 with a JSON body, begun when the first rows
 * are in hand. */
static int begin_200(void *ctx)
{
    return reply_start(ctx, 200, "application/json");
}

static int write_reply(void *ctx, const char *data, size_t len)
{
    return reply_write(ctx, data, len);
}

static struct sink answer_sink(struct req *r)
{
    return (struct sink){.begin = begin_200, .write = write_reply, .ctx = r, .log_tag = r->request_id};
}

/* NDJSON: nginx passes each part on as it comes instead of buffering a
 * stream of any length (X-Accel-Buffering). */
static int begin_ndjson(void *ctx)
{
    reply_header(ctx, "X-Accel-Buffering", "no");
    return reply_start(ctx, 200, "application/x-ndjson");
}

/* A limit: a strict decimal (text.h) in 1..max. */
static int limit_or_reply(struct req *r, const struct query *q, int def, int max, int *out)
{
    const char *v = query_get(q, "limit");
    long long n;
    *out = def;
    if (!v)
        return 0;
    if (decimal_parse(v, max, &n) < 0 || n < 1)
        return reply_error(r, E_VALIDATION, "limit", "limit must be an integer from 1 to %d", max);
    *out = (int)n;
    return 0;
}

/* since_id: a positive decimal bigint (an item id), rewritten canonically
 * into store (no leading zeros), so "007" and "7" share a cursor scope;
 * *out is NULL when absent. */
static int since_id_or_reply(struct req *r, const struct query *q, char store[24], const char **out)
{
    const char *v = query_get(q, "since_id");
    long long n;
    *out = NULL;
    if (!v)
        return 0;
    if (decimal_parse(v, INT64_MAX, &n) < 0 || n < 1)
        return reply_error(r, E_VALIDATION, "since_id",
                           "since_id must be an integer from 1 to 9223372036854775807 (an item id)");
    snprintf(store, 24, "%lld", n);
    *out = store;
    return 0;
}

/* A UUID filter; *out is NULL when absent, else store, lowercased. */
static int uuid_or_reply(struct req *r, const struct query *q, const char *name,
                         char store[UUID_STR_LEN + 1], const char **out)
{
    const char *v = query_get(q, name);
    *out = NULL;
    if (!v)
        return 0;
    if (!uuid_valid(v))
        return reply_error(r, E_VALIDATION, name, "%s must be a UUID", name);
    uuid_lower(v, store);
    *out = store;
    return 0;
}

/* An RFC 3339 filter, rewritten canonically into store. */
static int ts_or_reply(struct req *r, const struct query *q, const char *name,
                       char store[TS_TEXT_LEN + 1], const char **out)
{
    const char *v = query_get(q, name);
    int64_t micros;
    *out = NULL;
    if (!v)
        return 0;
    if (ts_parse(v, strlen(v), &micros) < 0)
        return reply_error(r, E_VALIDATION, name, "%s must be an RFC 3339 timestamp", name);
    ts_format(micros, store);
    *out = store;
    return 0;
}

/* A text filter matched exactly: any well-formed UTF-8 (PostgreSQL would
 * refuse anything else with an error instead of "no match"). */
static int text_or_reply(struct req *r, const struct query *q, const char *name, const char **out)
{
    const char *v = query_get(q, name);
    *out = v;
    if (!v)
        return 0;
    for (size_t i = 0, left = strlen(v); left > 0;) {
        size_t n = utf8_seq_len((const unsigned char *)v + i, left);
        if (n == 0)
            return reply_error(r, E_VALIDATION, name, "%s is not valid UTF-8", name);
        i += n;
        left -= n;
    }
    return 0;
}

/* The cursor, which must belong to this list under these filters (scope). */
static int cursor_or_reply(struct req *r, const struct query *q, uint32_t scope, bool items, bool sequence,
                           struct exec_after *out)
{
    const char *v = query_get(q, "cursor");
    struct cursor c;
    memset(out, 0, sizeof *out);
    if (!v)
        return 0;
    if (cursor_decode(v, &c) < 0 || c.scope != scope || exec_after_from_cursor(&c, items, sequence, out) < 0)
        return reply_error(r, E_VALIDATION, "cursor", "cursor " CURSOR_MISMATCH);
    return 0;
}

/* The execution list's scope: every filter that changes which rows it
 * holds, in canonical form (limit only changes the page size). */
static uint32_t list_scope(const struct exec_list_query *lq)
{
    uint32_t h = cursor_scope_begin("executions");
    h = cursor_scope_add(h, "workflow_id", lq->workflow_id);
    h = cursor_scope_add(h, "project_id", lq->project_id);
    h = cursor_scope_add(h, "status", lq->status);
    h = cursor_scope_add(h, "session_id", lq->session_id);
    h = cursor_scope_add(h, "since", lq->since);
    h = cursor_scope_add(h, "until", lq->until);
    /* Only when given, so the cursors of lists without it stay valid. */
    return lq->node_name ? cursor_scope_add(h, "node_name", lq->node_name) : h;
}

/* An item list's scope: its kind, its execution, since_id and the events'
 * filters. */
static uint32_t items_scope(const char *execution_id, enum exec_items_kind kind, const struct exec_items_query *iq)
{
    static const char *const kinds[] = {[EXEC_SPANS] = "spans", [EXEC_EVENTS] = "events",
                                        [EXEC_SNAPSHOTS] = "snapshots"};
    char id[UUID_STR_LEN + 1];
    uint32_t h = cursor_scope_begin(kinds[kind]);
    if (uuid_valid(execution_id)) {
        uuid_lower(execution_id, id);
        execution_id = id;
    }
    h = cursor_scope_add(h, "execution", execution_id);
    /* Only when given: the cursors handed out before since_id existed
     * keep their scope, hence stay valid across an upgrade. */
    if (iq->since_id)
        h = cursor_scope_add(h, "since_id", iq->since_id);
    h = cursor_scope_add(h, "event_type", iq->event_type);
    return cursor_scope_add(h, "node_name", iq->node_name);
}

static int status_or_reply(struct req *r, const struct query *q, const char **out)
{
    *out = query_get(q, "status");
    if (!*out)
        return 0;
    for (const char *const *s = execution_statuses; *s; s++)
        if (strcmp(*s, *out) == 0)
            return 0;
    return reply_error(r, E_VALIDATION, "status", "status must be running, success, error or cancelled");
}

void handle_executions_list(struct req *r)
{
    static const char *const params[] = {"workflow_id", "project_id", "status", "session_id", "since",
                                         "until", "node_name", "limit", "cursor", "format", NULL};
    char wf[UUID_STR_LEN + 1], proj[UUID_STR_LEN + 1], since[TS_TEXT_LEN + 1], until[TS_TEXT_LEN + 1];
    struct exec_list_query lq;
    struct query q;
    if (query_parse_or_reply(r, params, &q) < 0)
        return;
    if (uuid_or_reply(r, &q, "workflow_id", wf, &lq.workflow_id) < 0 ||
        uuid_or_reply(r, &q, "project_id", proj, &lq.project_id) < 0 ||
        status_or_reply(r, &q, &lq.status) < 0 || text_or_reply(r, &q, "session_id", &lq.session_id) < 0 ||
        ts_or_reply(r, &q, "since", since, &lq.since) < 0 || ts_or_reply(r, &q, "until", until, &lq.until) < 0 ||
        text_or_reply(r, &q, "node_name", &lq.node_name) < 0 ||
        limit_or_reply(r, &q, EXEC_LIST_LIMIT_DEFAULT, EXEC_LIST_LIMIT_MAX, &lq.limit) < 0)
        goto done;
    const char *format = query_get(&q, "format");
    bool ndjson = format && strcmp(format, "ndjson") == 0;
    if (format && !ndjson) {
        reply_error(r, E_VALIDATION, "format", "format must be ndjson (or absent for JSON pages)");
        goto done;
    }
    /* The stream is the whole range: paging it would be a mistake. */
    if (ndjson && (query_get(&q, "limit") || query_get(&q, "cursor"))) {
        reply_error(r, E_VALIDATION, query_get(&q, "limit") ? "limit" : "cursor",
                    "format=ndjson streams every execution of the filters: it takes no limit or cursor");
        goto done;
    }
    if (lq.node_name && !lq.workflow_id) {
        reply_error(r, E_VALIDATION, "node_name", "node_name needs workflow_id: node names belong to a workflow");
        goto done;
    }
    lq.scope = list_scope(&lq);
    if (cursor_or_reply(r, &q, lq.scope, false, false, &lq.after) < 0)
        goto done;
    struct sink out = answer_sink(r);
    if (ndjson)
        out.begin = begin_ndjson;
    enum db_status st = ndjson ? executions_list_ndjson(r->db, &r->who, &lq, &out)
                               : executions_list(r->db, &r->who, &lq, &out);
    if (st != DB_OK)
        reply_db_error(r, st);
done:
    query_free(&q);
}

/* The router has refused any query parameter (QUERY_NONE). */
void handle_execution_get(struct req *r)
{
    struct sink out = answer_sink(r);
    enum db_status st = execution_get(r->db, r->params[0], &out);
    if (st != DB_OK)
        reply_db_error(r, st);
}

void handle_execution_timeline(struct req *r)
{
    struct sink out = answer_sink(r);
    enum db_status st = execution_timeline(r->db, r->params[0], &out);
    if (st != DB_OK)
        reply_db_error(r, st);
}

/* The three item routes: optional limit (1..1000), cursor and since_id,
 * plus the events' filters. */
static void items(struct req *r, enum exec_items_kind kind)
{
    static const char *const paging[] = {"limit", "cursor", "since_id", NULL};
    static const char *const events[] = {"limit", "cursor", "since_id", "event_type", "node_name", NULL};
    struct exec_items_query iq = {0};
    char since[24];
    struct query q;
    if (query_parse_or_reply(r, kind == EXEC_EVENTS ? events : paging, &q) < 0)
        return;
    if (since_id_or_reply(r, &q, since, &iq.since_id) < 0 ||
        text_or_reply(r, &q, "event_type", &iq.event_type) < 0 || text_or_reply(r, &q, "node_name", &iq.node_name) < 0 ||
        limit_or_reply(r, &q, 0, EXEC_ITEMS_LIMIT_MAX, &iq.limit) < 0)
        goto done;
    iq.scope = items_scope(r->params[0], kind, &iq);
    if (cursor_or_reply(r, &q, iq.scope, true, kind == EXEC_SNAPSHOTS, &iq.after) < 0)
        goto done;
    struct sink out = answer_sink(r);
    enum db_status st = execution_items(r->db, r->params[0], kind, &iq, &out);
    if (st != DB_OK)
        reply_db_error(r, st);
done:
    query_free(&q);
}

void handle_execution_spans(struct req *r)
{
    items(r, EXEC_SPANS);
}

void handle_execution_events(struct req *r)
{
    items(r, EXEC_EVENTS);
}

void handle_execution_snapshots(struct req *r)
{
    items(r, EXEC_SNAPSHOTS);
}
