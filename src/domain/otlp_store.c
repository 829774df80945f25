/* Storing an OTLP request's spans (otlp_store.h). The steps, each one
 * statement (texts in otlp_sql.c), so a request costs the same number of
 * round trips for one span or 100,000:
 *
 *   1. placement: each resource's workflow (otlp_place.c; more statements
 *      only the first time a service.name is seen);
 *   2. the executions, one per trace and workflow, with ids derived from
 *      both (otlp_map.h) so every batch of a trace and every resend finds
 *      the same one: inserted running when new (ON CONFLICT DO NOTHING);
 *   3. the others locked (FOR UPDATE): an id the caller cannot see, or of
 *      another workflow, refuses that trace's spans (never written to);
 *   4. when spans are nodes: the workflow nodes their names lack;
 *   5. spans, events and node executions of the executions kept, in one
 *      statement of data-modifying CTEs that skips spans already stored
 *      and updates each execution (counts, usage, its root's fields);
 *   6. the live message of each execution that got spans (live_announce,
 *      the JSON ingest's own), for up to OTLP_LIVE_MAX of them.
 *
 * Before step 2 the spans are sorted by workflow, trace and span id, which
 * groups them by execution and lets a span find its parents within the
 * request (the nearest node ancestor names the node of a span that is not
 * one). All of it goes to PostgreSQL as one JSON document, written here. */
#include "domain/otlp_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/live_announce.h"
#include "domain/otlp_map.h"
#include "domain/otlp_place.h"
#include "domain/otlp_sql.h"
#include "util/buf.h"
#include "util/text.h"
#include "util/timestamp.h"

/* How far up its parents a span looks for its nearest node. */
#define ANCESTOR_STEPS 64

/* One span to store. */
struct ref {
    const char *workflow; /* its resource's (struct otlp_place) */
    size_t resource;
    const struct otlp_span *span;
    struct otlp_node_role role; /* name NULL: not a node */
    const char *node_name;      /* its own, or its nearest node ancestor's, or NULL */
};

/* One execution: refs[first .. first + n). */
struct exec {
    char id[UUID_STR_LEN + 1];
    size_t first, n;
    bool inserted, kept;
};

struct plan {
    struct ref *refs;
    size_t n_refs;
    struct exec *execs;
    size_t n_execs;
    bool any_node;
};

static void note_reject(struct otlp_store_result *out, size_t resource, const char *why, size_t n)
{
    if (n == 0)
        return;
    if (!out->message[0])
        snprintf(out->message, sizeof out->message, "resourceSpans[%zu]: %s", resource, why);
    out->rejected += n;
}

static int ref_cmp(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    int c = strcmp(x->workflow, y->workflow);
    if (c == 0)
        c = memcmp(x->span->trace_id, y->span->trace_id, sizeof x->span->trace_id);
    if (c == 0)
        c = memcmp(x->span->span_id, y->span->span_id, sizeof x->span->span_id);
    return c;
}

/* The spans to store, sorted; those of a resource that has no place are
 * counted as rejected. */
static void collect(const struct otlp_request *req, const struct otlp_place *pl, struct plan *p,
                    struct otlp_store_result *out)
{
    p->refs = xcalloc(req->n_spans ? req->n_spans : 1, sizeof *p->refs);
    for (size_t r = 0; r < req->n_resources; r++) {
        size_t refused = 0;
        for (size_t s = 0; s < req->resources[r].n_scopes; s++) {
            const struct otlp_scope *sc = &req->resources[r].scopes[s];
            for (size_t i = 0; i < sc->n_spans; i++) {
                if (sc->spans[i].rejected)
                    continue;
                if (pl[r].reject)
                    refused++;
                else
                    p->refs[p->n_refs++] = (struct ref){pl[r].workflow, r, &sc->spans[i], {NULL, NULL}, NULL};
            }
        }
        note_reject(out, r, pl[r].reject ? pl[r].reject : "", refused);
    }
    qsort(p->refs, p->n_refs, sizeof *p->refs, ref_cmp);
}

/* The span of e whose id is id, or NULL (e's refs are sorted by span id). */
static const struct ref *find_span(const struct plan *p, const struct exec *e, const uint8_t id[8])
{
    size_t lo = e->first, hi = e->first + e->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(p->refs[mid].span->span_id, id, 8);
        if (c == 0)
            return &p->refs[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Groups the sorted refs into executions; decides each span's node. */
static void group(struct plan *p)
{
    p->execs = xcalloc(p->n_refs ? p->n_refs : 1, sizeof *p->execs);
    for (size_t i = 0; i < p->n_refs; i++) {
        struct exec *e = p->n_execs ? &p->execs[p->n_execs - 1] : NULL;
        const struct ref *first = e ? &p->refs[e->first] : NULL;
        if (!e || strcmp(first->workflow, p->refs[i].workflow) != 0 ||
            memcmp(first->span->trace_id, p->refs[i].span->trace_id, 16) != 0) {
            e = &p->execs[p->n_execs++];
            e->first = i;
            otlp_execution_id(p->refs[i].workflow, p->refs[i].span->trace_id, e->id);
        }
        e->n++;
        if (otlp_span_node(p->refs[i].span, &p->refs[i].role)) {
            p->refs[i].node_name = p->refs[i].role.name;
            p->any_node = true;
        }
    }
    for (size_t x = 0; x < p->n_execs; x++) {
        const struct exec *e = &p->execs[x];
        for (size_t i = e->first; i < e->first + e->n; i++) {
            const struct ref *at = &p->refs[i];
            for (int step = 0; !p->refs[i].node_name && at && at->span->has_parent && step < ANCESTOR_STEPS;
                 step++) {
                at = find_span(p, e, at->span->parent_span_id);
                if (at && at->role.name)
                    p->refs[i].node_name = at->role.name;
            }
        }
    }
}

static void put_str(struct buf *b, const char *key, const char *value)
{
    buf_printf(b, ",\"%s\":", key);
    if (value)
        buf_json_string(b, value, strlen(value));
    else
        buf_puts(b, "null");
}

static void put_hex(struct buf *b, const char *key, const uint8_t *id, size_t n)
{
    char hex[33];
    hex_encode(id, n, hex);
    buf_printf(b, ",\"%s\":\"%s\"", key, hex);
}

static void put_time(struct buf *b, const char *key, uint64_t ns)
{
    char ts[TS_TEXT_LEN + 1];
    ts_format((int64_t)(ns / 1000), ts);
    buf_printf(b, ",\"%s\":\"%s\"", key, ts);
}

static void put_count(struct buf *b, const char *key, int64_t n)
{
    if (n >= 0)
        buf_printf(b, ",\"%s\":%lld", key, (long long)n);
}

/* The execution's member of the document (otlp_sql.c, "e"). */
static void exec_json(const struct otlp_request *req, const struct otlp_place *pl, const struct plan *p,
                      const struct exec *e, struct buf *b)
{
    const struct ref *first = &p->refs[e->first];
    const struct otlp_place *at = &pl[first->resource];
    const char *session = NULL;
    uint64_t start = first->span->start_unix_nano;
    char trace[33];

    for (size_t i = e->first; i < e->first + e->n; i++) {
        if (!session)
            session = otlp_session_of(&p->refs[i].span->attributes, NULL);
        if (p->refs[i].span->start_unix_nano < start)
            start = p->refs[i].span->start_unix_nano;
    }
    if (!session)
        session = otlp_session_of(NULL, &req->resources[first->resource].attributes);
    hex_encode(first->span->trace_id, 16, trace);
    buf_printf(b, "{\"id\":\"%s\",\"org\":\"%s\",\"proj\":\"%s\",\"wf\":\"%s\"", e->id, at->org, at->project,
               at->workflow);
    put_str(b, "sess", session ? session : trace);
    put_str(b, "fb", trace);
    put_time(b, "start", start);
    buf_printf(b, ",\"meta\":{\"source\":\"otlp\",\"trace_id\":\"%s\",\"resource\":", trace);
    otlp_attrs_json(&req->resources[first->resource].attributes, b);
    buf_puts(b, "}}");
}

/* A span's member ("s"), and its node execution's fields when it is one. */
static void span_json(const struct exec *e, const struct ref *r, struct buf *b)
{
    const struct otlp_span *s = r->span;
    struct otlp_usage u;

    buf_printf(b, "{\"x\":\"%s\"", e->id);
    put_hex(b, "t", s->trace_id, 16);
    put_hex(b, "s", s->span_id, 8);
    if (s->has_parent)
        put_hex(b, "p", s->parent_span_id, 8);
    put_str(b, "n", s->name);
    put_str(b, "k", otlp_kind_text(s->kind));
    put_time(b, "st", s->start_unix_nano);
    put_time(b, "et", s->end_unix_nano);
    buf_printf(b, ",\"d\":%.6f", (double)(s->end_unix_nano - s->start_unix_nano) / 1e6);
    put_str(b, "c", otlp_status_text(s->status_code));
    buf_puts(b, ",\"a\":");
    otlp_attrs_json(&s->attributes, b);
    put_str(b, "nn", r->node_name);
    if (s->status_code == OTLP_STATUS_ERROR) {
        buf_puts(b, ",\"err\":{\"message\":");
        const char *m = s->status_message[0] ? s->status_message : "error";
        buf_json_string(b, m, strlen(m));
        buf_putc(b, '}');
    }
    if (r->role.name) {
        char cid[UUID_STR_LEN + 1];
        otlp_node_execution_id(e->id, s->span_id, cid);
        buf_printf(b, ",\"node\":true,\"cid\":\"%s\"", cid);
        put_str(b, "nt", r->role.type);
        if (otlp_span_usage(&s->attributes, &u)) {
            put_count(b, "ti", u.input);
            put_count(b, "tout", u.output);
            put_count(b, "cr", u.cache_read);
            put_count(b, "cc", u.cache_creation);
            put_str(b, "model", u.model);
            put_str(b, "prov", u.provider);
        }
    }
    buf_putc(b, '}');
}

/* A span's events ("v"); *first tells whether one was written yet. */
static void events_json(const struct exec *e, const struct ref *r, bool *first, struct buf *b)
{
    const struct otlp_span *s = r->span;
    for (size_t i = 0; i < s->n_events; i++) {
        const struct otlp_event *ev = &s->events[i];
        buf_printf(b, "%s{\"x\":\"%s\"", *first ? "" : ",", e->id);
        *first = false;
        put_hex(b, "s", s->span_id, 8);
        put_str(b, "ty", ev->name[0] ? ev->name : "event");
        put_time(b, "ts", ev->time_unix_nano ? ev->time_unix_nano : s->start_unix_nano);
        buf_puts(b, ",\"d\":{\"span_id\":");
        char hex[17];
        hex_encode(s->span_id, 8, hex);
        buf_json_string(b, hex, 16);
        buf_puts(b, ",\"attributes\":");
        otlp_attrs_json(&ev->attributes, b);
        buf_puts(b, "}}");
    }
}

/* The document of otlp_sql.c. */
static void plan_json(const struct otlp_request *req, const struct otlp_place *pl, const struct plan *p,
                      struct buf *b)
{
    bool first = true;
    buf_puts(b, "{\"e\":[");
    for (size_t x = 0; x < p->n_execs; x++) {
        if (x)
            buf_putc(b, ',');
        exec_json(req, pl, p, &p->execs[x], b);
    }
    buf_puts(b, "],\"s\":[");
    for (size_t x = 0; x < p->n_execs; x++)
        for (size_t i = p->execs[x].first; i < p->execs[x].first + p->execs[x].n; i++) {
            if (i)
                buf_putc(b, ',');
            span_json(&p->execs[x], &p->refs[i], b);
        }
    buf_puts(b, "],\"v\":[");
    for (size_t x = 0; x < p->n_execs; x++)
        for (size_t i = p->execs[x].first; i < p->execs[x].first + p->execs[x].n; i++)
            events_json(&p->execs[x], &p->refs[i], &first, b);
    buf_puts(b, "]}");
    buf_putc(b, '\0');
}

static int exec_id_cmp(const void *key, const void *elem)
{
    return strcmp(key, (*(struct exec *const *)elem)->id);
}

/* The execution of id (an index sorted by id), or NULL. */
static struct exec *exec_by_id(struct exec **by_id, size_t n, const char *id)
{
    struct exec **e = bsearch(id, by_id, n, sizeof *by_id, exec_id_cmp);
    return e ? *e : NULL;
}

static int exec_ptr_cmp(const void *a, const void *b)
{
    return strcmp((*(struct exec *const *)a)->id, (*(struct exec *const *)b)->id);
}

/* A PostgreSQL array literal of the executions' ids that pass (kept or,
 * with !kept, not inserted). Returns how many. */
static size_t ids_literal(const struct plan *p, bool kept, struct buf *b)
{
    size_t n = 0;
    buf_reset(b);
    buf_putc(b, '{');
    for (size_t x = 0; x < p->n_execs; x++)
        if (kept ? p->execs[x].kept : !p->execs[x].inserted)
            buf_printf(b, "%s%s", n++ ? "," : "", p->execs[x].id);
    buf_puts(b, "}");
    buf_putc(b, '\0');
    return n;
}

/* Steps 2 and 3: marks each execution inserted or kept. */
static enum db_status open_executions(struct db *db, struct plan *p, const char *doc,
                                      struct otlp_store_result *out)
{
    PGresult *res = NULL;
    struct exec **by_id = xcalloc(p->n_execs ? p->n_execs : 1, sizeof *by_id);
    struct buf ids;
    buf_init(&ids);
    for (size_t x = 0; x < p->n_execs; x++)
        by_id[x] = &p->execs[x];
    qsort(by_id, p->n_execs, sizeof *by_id, exec_ptr_cmp);

    const char *params[1] = {doc};
    enum db_status st = db_exec(db, SQL_OTLP_EXECUTIONS, 1, params, &res);
    if (st != DB_OK)
        goto done;
    for (int row = 0; row < PQntuples(res); row++) {
        struct exec *e = exec_by_id(by_id, p->n_execs, PQgetvalue(res, row, 0));
        if (e)
            e->inserted = e->kept = true;
    }
    PQclear(res);
    res = NULL;
    if (ids_literal(p, false, &ids) > 0) {
        params[0] = ids.data;
        if ((st = db_exec(db, SQL_OTLP_EXECUTIONS_LOCK, 1, params, &res)) != DB_OK)
            goto done;
        for (int row = 0; row < PQntuples(res); row++) {
            struct exec *e = exec_by_id(by_id, p->n_execs, PQgetvalue(res, row, 0));
            /* Its workflow is part of its id: another is a row not made here. */
            if (e && strcmp(PQgetvalue(res, row, 1), p->refs[e->first].workflow) == 0)
                e->kept = true;
        }
    }
    for (size_t x = 0; x < p->n_execs; x++)
        if (!p->execs[x].kept)
            note_reject(out, p->refs[p->execs[x].first].resource,
                        "the execution id of this trace is taken by another tenant or workflow", p->execs[x].n);
done:
    PQclear(res);
    buf_free(&ids);
    free(by_id);
    return st;
}

/* Steps 5 and 6. */
static enum db_status store_items(struct db *db, const char *doc, const char *kept,
                                  struct otlp_store_result *out)
{
    PGresult *res = NULL;
    const char *params[2] = {doc, kept};
    enum db_status st = db_exec(db, SQL_OTLP_ITEMS, 2, params, &res);
    if (st != DB_OK)
        return st;
    int rows = PQntuples(res);
    for (int row = 0; row < rows && st == DB_OK; row++) {
        struct live_change live = {PQgetvalue(res, row, 0),
                                   PQgetisnull(res, row, 4) ? NULL : PQgetvalue(res, row, 4), {0}, 0};
        live.added[IT_TELEMETRY_SPANS] = strtoll(PQgetvalue(res, row, 1), NULL, 10);
        live.added[IT_TELEMETRY_EVENTS] = strtoll(PQgetvalue(res, row, 2), NULL, 10);
        live.added[IT_NODE_EXECUTIONS] = strtoll(PQgetvalue(res, row, 3), NULL, 10);
        out->executions++;
        out->spans += live.added[IT_TELEMETRY_SPANS];
        out->events += live.added[IT_TELEMETRY_EVENTS];
        out->node_executions += live.added[IT_NODE_EXECUTIONS];
        if (rows <= OTLP_LIVE_MAX)
            st = live_announce(db, &live);
    }
    PQclear(res);
    return st;
}

enum db_status otlp_store(struct db *db, const struct identity *who, const struct otlp_request *req,
                          struct otlp_store_result *out)
{
    struct otlp_place *pl = xcalloc(req->n_resources ? req->n_resources : 1, sizeof *pl);
    struct plan p = {0};
    struct buf doc, kept;
    buf_init(&doc);
    buf_init(&kept);
    memset(out, 0, sizeof *out);

    enum db_status st = otlp_place(db, who, req, pl);
    if (st != DB_OK)
        goto done;
    collect(req, pl, &p, out);
    if (p.n_refs == 0)
        goto done;
    group(&p);
    plan_json(req, pl, &p, &doc);
    if ((st = open_executions(db, &p, doc.data, out)) != DB_OK)
        goto done;
    if (ids_literal(&p, true, &kept) == 0)
        goto done;
    const char *params[2] = {doc.data, kept.data};
    if (p.any_node && (st = db_exec(db, SQL_OTLP_NODES, 2, params, NULL)) != DB_OK)
        goto done;
    st = store_items(db, doc.data, kept.data, out);
done:
    buf_free(&doc);
    buf_free(&kept);
    free(p.refs);
    free(p.execs);
    free(pl);
    return st;
}
