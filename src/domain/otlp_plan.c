/* Building the plan and the parameters of an OTLP request (otlp_plan.h). */
#include "domain/otlp_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pg_array.h"
#include "domain/otlp_map.h"
#include "util/text.h"
#include "util/timestamp.h"

/* How far up its parents a span looks for its nearest node. */
#define ANCESTOR_STEPS 64

void otlp_plan_reject(struct otlp_store_result *out, size_t resource, const char *why, size_t n)
{
    if (n == 0)
        return;
    if (!out->message[0])
        snprintf(out->message, sizeof out->message, "resourceSpans[%zu]: %s", resource, why);
    out->rejected += n;
}

static int ref_cmp(const void *a, const void *b)
{
    const struct otlp_ref *x = a, *y = b;
    int c = strcmp(x->workflow, y->workflow);
    if (c == 0)
        c = memcmp(x->span->trace_id, y->span->trace_id, sizeof x->span->trace_id);
    if (c == 0)
        c = memcmp(x->span->span_id, y->span->span_id, sizeof x->span->span_id);
    if (c == 0)
        c = (x->seq > y->seq) - (x->seq < y->seq);
    return c;
}

/* Whether a and b are the same span of the same workflow. */
static bool same_span(const struct otlp_ref *a, const struct otlp_ref *b)
{
    return strcmp(a->workflow, b->workflow) == 0 && memcmp(a->span->trace_id, b->span->trace_id, 16) == 0 &&
           memcmp(a->span->span_id, b->span->span_id, 8) == 0;
}

/* The spans to store, sorted; those of a resource that has no place are
 * counted as rejected. */
static void collect(const struct otlp_request *req, const struct otlp_place *pl, struct otlp_plan *p,
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
                if (pl[r].reject) {
                    refused++;
                    continue;
                }
                p->refs[p->n_refs] = (struct otlp_ref){
                    .workflow = pl[r].workflow, .resource = r, .span = &sc->spans[i], .seq = p->n_refs};
                p->n_refs++;
            }
        }
        otlp_plan_reject(out, r, pl[r].reject ? pl[r].reject : "", refused);
    }
    qsort(p->refs, p->n_refs, sizeof *p->refs, ref_cmp);
    /* A span twice in one request is stored once, as the first sent: the
     * executions' counts are then known here (exec_json). */
    size_t kept = 0;
    for (size_t i = 0; i < p->n_refs; i++) {
        if (kept > 0 && same_span(&p->refs[kept - 1], &p->refs[i]))
            p->n_dups++;
        else
            p->refs[kept++] = p->refs[i];
    }
    p->n_refs = kept;
}

/* The span of e whose id is id, or NULL (e's refs are sorted by span id). */
static const struct otlp_ref *find_span(const struct otlp_plan *p, const struct otlp_exec *e, const uint8_t id[8])
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
static void group(struct otlp_plan *p)
{
    p->execs = xcalloc(p->n_refs ? p->n_refs : 1, sizeof *p->execs);
    for (size_t i = 0; i < p->n_refs; i++) {
        struct otlp_exec *e = p->n_execs ? &p->execs[p->n_execs - 1] : NULL;
        const struct otlp_ref *first = e ? &p->refs[e->first] : NULL;
        if (!e || strcmp(first->workflow, p->refs[i].workflow) != 0 ||
            memcmp(first->span->trace_id, p->refs[i].span->trace_id, 16) != 0) {
            e = &p->execs[p->n_execs++];
            e->first = i;
            otlp_execution_id(p->refs[i].workflow, p->refs[i].span->trace_id, e->id);
        }
        e->n++;
        struct otlp_ref *r = &p->refs[i];
        if (otlp_span_node(r->span, &r->role)) {
            r->node_name = r->role.name;
            r->has_usage = otlp_span_usage(&r->span->attributes, &r->usage);
            p->any_node = true;
        }
    }
    for (size_t x = 0; x < p->n_execs; x++) {
        const struct otlp_exec *e = &p->execs[x];
        for (size_t i = e->first; i < e->first + e->n; i++) {
            const struct otlp_ref *at = &p->refs[i];
            for (int step = 0; !p->refs[i].node_name && at && at->span->has_parent && step < ANCESTOR_STEPS;
                 step++) {
                at = find_span(p, e, at->span->parent_span_id);
                if (at && at->role.name)
                    p->refs[i].node_name = at->role.name;
            }
        }
    }
}

/* The members below are written piece by piece, not with buf_printf:
 * there are several per span, and vsnprintf was a twentieth of the
 * worker's time on a request of 500 spans. */
static void put_key(struct buf *b, const char *key)
{
    buf_puts(b, ",\"");
    buf_puts(b, key);
    buf_puts(b, "\":");
}

/* A member whose text needs no escaping: an id, a time. */
static void put_plain(struct buf *b, const char *key, const char *text)
{
    put_key(b, key);
    buf_putc(b, '"');
    buf_puts(b, text);
    buf_putc(b, '"');
}

/* Opens a node span's member of "u" or "n": its execution and
 * organization. */
static void open_member(struct buf *b, const struct otlp_exec *e, const struct otlp_place *at)
{
    buf_puts(b, "{\"x\":\"");
    buf_puts(b, e->id);
    buf_putc(b, '"');
    put_plain(b, "org", at->org);
}

static void put_str(struct buf *b, const char *key, const char *value)
{
    put_key(b, key);
    if (value)
        buf_json_string(b, value, strlen(value));
    else
        buf_puts(b, "null");
}

static void put_time(struct buf *b, const char *key, uint64_t ns)
{
    char ts[TS_TEXT_LEN + 1];
    ts_format((int64_t)(ns / 1000), ts);
    put_plain(b, key, ts);
}

static void put_count(struct buf *b, const char *key, int64_t n)
{
    if (n >= 0) {
        put_key(b, key);
        buf_put_int(b, (long long)n);
    }
}

static void put_error(struct buf *b, const struct otlp_span *s)
{
    if (s->status_code != OTLP_STATUS_ERROR)
        return;
    buf_puts(b, ",\"err\":{\"message\":");
    const char *m = s->status_message[0] ? s->status_message : "error";
    buf_json_string(b, m, strlen(m));
    buf_putc(b, '}');
}

/* The root span of e (no parent; the earliest started of several), or
 * NULL. */
static const struct otlp_span *root_of(const struct otlp_plan *p, const struct otlp_exec *e)
{
    const struct otlp_span *root = NULL;
    for (size_t i = e->first; i < e->first + e->n; i++) {
        const struct otlp_span *s = p->refs[i].span;
        if (!s->has_parent && (!root || s->start_unix_nano < root->start_unix_nano))
            root = s;
    }
    return root;
}

/* The fields a new execution is inserted with, final (otlp_sql.c, step
 * 2): its spans, events and node executions counted, its root's status
 * and times. */
static void exec_final_json(const struct otlp_plan *p, const struct otlp_exec *e, struct buf *b)
{
    size_t events = 0, nodes = 0;
    for (size_t i = e->first; i < e->first + e->n; i++) {
        events += p->refs[i].span->n_events;
        nodes += p->refs[i].role.name != NULL;
    }
    buf_printf(b, ",\"nsp\":%zu,\"nev\":%zu,\"nne\":%zu", e->n, events, nodes);
    const struct otlp_span *root = root_of(p, e);
    if (root) {
        buf_printf(b, ",\"r\":{\"d\":%.6f", (double)(root->end_unix_nano - root->start_unix_nano) / 1e6);
        put_time(b, "st", root->start_unix_nano);
        put_time(b, "et", root->end_unix_nano);
        put_str(b, "c", otlp_status_text(root->status_code));
        put_error(b, root);
        buf_putc(b, '}');
    }
}

/* A node span's member of "u" when it reports tokens: what step 2 prices;
 * ord is the span's position in the span columns (from 1), where step 2's
 * answer puts its cost for step 5. */
static void usage_json(const struct otlp_place *at, const struct otlp_exec *e, const struct otlp_ref *r,
                       size_t ord, struct buf *b)
{
    if (b->len > 1)
        buf_putc(b, ',');
    open_member(b, e, at);
    put_count(b, "o", (int64_t)ord);
    put_time(b, "st", r->span->start_unix_nano);
    put_count(b, "ti", r->usage.input);
    put_count(b, "tout", r->usage.output);
    put_str(b, "model", r->usage.model);
    put_str(b, "prov", r->usage.provider);
    buf_putc(b, '}');
}

/* The execution's member of "e". */
static void exec_json(const struct otlp_request *req, const struct otlp_place *pl, const struct otlp_plan *p,
                      const struct otlp_exec *e, struct buf *b)
{
    const struct otlp_ref *first = &p->refs[e->first];
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
    buf_putc(b, '}');
    exec_final_json(p, e, b);
    buf_putc(b, '}');
}

/* A count's element: NULL when absent (< 0). */
static void col_count(struct buf *b, int64_t n)
{
    if (n < 0) {
        pg_array_null(b);
        return;
    }
    pg_array_sep(b);
    buf_put_int(b, (long long)n);
}

static void col_time(struct buf *b, uint64_t ns)
{
    char ts[TS_TEXT_LEN + 1];
    ts_format((int64_t)(ns / 1000), ts);
    pg_array_raw(b, ts);
}

static void col_hex(struct buf *b, const uint8_t *id, size_t n)
{
    char hex[33];
    hex_encode(id, n, hex);
    pg_array_raw(b, hex);
}

/* Appends a member to a JSON array parameter ('[' is its first byte). */
static void doc_sep(struct buf *b)
{
    if (b->len > 1)
        buf_putc(b, ',');
}

/* The span's duration in ms, six decimals (what "%.6f" writes, exact:
 * nanoseconds are millionths of a ms); the decoder rejects an end before
 * the start. */
static void put_duration(struct buf *b, const struct otlp_span *s)
{
    uint64_t ns = s->end_unix_nano - s->start_unix_nano;
    char frac[6];
    unsigned f = (unsigned)(ns % 1000000);
    for (int i = 6; i-- > 0; f /= 10)
        frac[i] = (char)('0' + f % 10);
    pg_array_sep(b);
    buf_put_int(b, (long long)(ns / 1000000));
    buf_putc(b, '.');
    buf_append(b, frac, 6);
}

/* A span's elements of the span columns, and its node execution's fields
 * when it is one. */
static void span_cols(const struct otlp_exec *e, const struct otlp_ref *r, struct buf *c)
{
    const struct otlp_span *s = r->span;
    char text[UUID_STR_LEN + 1];

    pg_array_raw(&c[OSC_EXEC], e->id);
    col_hex(&c[OSC_SPAN], s->span_id, 8);
    if (s->has_parent)
        col_hex(&c[OSC_PARENT], s->parent_span_id, 8);
    else
        pg_array_null(&c[OSC_PARENT]);
    pg_array_text(&c[OSC_NAME], s->name);
    pg_array_raw(&c[OSC_KIND], otlp_kind_text(s->kind));
    col_time(&c[OSC_START], s->start_unix_nano);
    col_time(&c[OSC_END], s->end_unix_nano);
    put_duration(&c[OSC_DUR], s);
    pg_array_raw(&c[OSC_STATUS], otlp_status_text(s->status_code));
    doc_sep(&c[OSC_ATTRS]);
    otlp_attrs_json(&s->attributes, &c[OSC_ATTRS]);
    pg_array_text(&c[OSC_NODE], r->node_name);
    pg_array_text(&c[OSC_ERR], s->status_code != OTLP_STATUS_ERROR ? NULL
                               : s->status_message[0]             ? s->status_message
                                                                  : "error");
    bool usage = r->role.name && r->has_usage;
    if (r->role.name) {
        otlp_node_execution_id(e->id, s->span_id, text);
        pg_array_raw(&c[OSC_CID], text);
    } else {
        pg_array_null(&c[OSC_CID]);
    }
    pg_array_text(&c[OSC_NTYPE], r->role.name ? r->role.type : NULL);
    col_count(&c[OSC_TIN], usage ? r->usage.input : -1);
    col_count(&c[OSC_TOUT], usage ? r->usage.output : -1);
    col_count(&c[OSC_TCR], usage ? r->usage.cache_read : -1);
    col_count(&c[OSC_TCC], usage ? r->usage.cache_creation : -1);
    pg_array_text(&c[OSC_MODEL], usage ? r->usage.model : NULL);
    pg_array_text(&c[OSC_PROV], usage ? r->usage.provider : NULL);
}

/* A node span's member of "n": what step 4 needs to create its node. */
static void node_json(const struct otlp_place *at, const struct otlp_exec *e, const struct otlp_ref *r,
                      struct buf *b)
{
    open_member(b, e, at);
    put_plain(b, "proj", at->project);
    put_plain(b, "wf", at->workflow);
    put_str(b, "n", r->role.name);
    put_str(b, "t", r->role.type);
    buf_putc(b, '}');
}

/* A span's events' elements of the event columns; e is its execution. */
static void event_cols(const struct otlp_exec *e, const struct otlp_ref *r, struct buf *c)
{
    const struct otlp_span *s = r->span;
    char hex[17];
    hex_encode(s->span_id, 8, hex);
    for (size_t i = 0; i < s->n_events; i++) {
        const struct otlp_event *ev = &s->events[i];
        pg_array_raw(&c[OEC_EXEC], e->id);
        pg_array_raw(&c[OEC_SPAN], hex);
        pg_array_text(&c[OEC_NODE], r->node_name);
        pg_array_text(&c[OEC_TYPE], ev->name[0] ? ev->name : "event");
        col_time(&c[OEC_TIME], ev->time_unix_nano ? ev->time_unix_nano : s->start_unix_nano);
        doc_sep(&c[OEC_DATA]);
        buf_puts(&c[OEC_DATA], "{\"span_id\":\"");
        buf_append(&c[OEC_DATA], hex, 16);
        buf_puts(&c[OEC_DATA], "\",\"attributes\":");
        otlp_attrs_json(&ev->attributes, &c[OEC_DATA]);
        buf_putc(&c[OEC_DATA], '}');
    }
}

void otlp_docs_init(struct otlp_docs *d)
{
    buf_init(&d->execs);
    buf_init(&d->usage);
    buf_init(&d->nodes);
    for (size_t k = 0; k < OSC_COUNT; k++)
        buf_init(&d->spans[k]);
    for (size_t k = 0; k < OEC_COUNT; k++)
        buf_init(&d->events[k]);
}

void otlp_docs_free(struct otlp_docs *d)
{
    buf_free(&d->execs);
    buf_free(&d->usage);
    buf_free(&d->nodes);
    for (size_t k = 0; k < OSC_COUNT; k++)
        buf_free(&d->spans[k]);
    for (size_t k = 0; k < OEC_COUNT; k++)
        buf_free(&d->events[k]);
}

static void close_array(struct buf *b)
{
    buf_putc(b, ']');
    buf_putc(b, '\0');
}

/* Opens (close false) or closes the columns c of n, the JSON one (json)
 * as an array of objects, the others as array literals. */
static void columns(struct buf *c, size_t n, size_t json, bool close)
{
    for (size_t k = 0; k < n; k++) {
        if (k == json)
            close ? close_array(&c[k]) : buf_putc(&c[k], '[');
        else
            close ? pg_array_close(&c[k]) : pg_array_open(&c[k]);
    }
}

void otlp_plan_json(const struct otlp_request *req, const struct otlp_place *pl, const struct otlp_plan *p,
                    struct otlp_docs *d)
{
    buf_putc(&d->execs, '[');
    buf_putc(&d->usage, '[');
    buf_putc(&d->nodes, '[');
    columns(d->spans, OSC_COUNT, OSC_ATTRS, false);
    columns(d->events, OEC_COUNT, OEC_DATA, false);
    size_t ord = 0;
    for (size_t x = 0; x < p->n_execs; x++) {
        const struct otlp_exec *e = &p->execs[x];
        if (x)
            buf_putc(&d->execs, ',');
        exec_json(req, pl, p, e, &d->execs);
        for (size_t i = e->first; i < e->first + e->n; i++) {
            const struct otlp_ref *r = &p->refs[i];
            span_cols(e, r, d->spans);
            ord++;
            if (r->role.name) {
                if (d->nodes.len > 1)
                    buf_putc(&d->nodes, ',');
                node_json(&pl[r->resource], e, r, &d->nodes);
            }
            if (r->has_usage)
                usage_json(&pl[r->resource], e, r, ord, &d->usage);
            event_cols(e, r, d->events);
        }
    }
    close_array(&d->execs);
    close_array(&d->usage);
    close_array(&d->nodes);
    columns(d->spans, OSC_COUNT, OSC_ATTRS, true);
    columns(d->events, OEC_COUNT, OEC_DATA, true);
}

void otlp_plan_build(const struct otlp_request *req, const struct otlp_place *pl, struct otlp_plan *p,
                     struct otlp_store_result *out)
{
    collect(req, pl, p, out);
    group(p);
}

void otlp_plan_free(struct otlp_plan *p)
{
    free(p->refs);
    free(p->execs);
    p->refs = NULL;
    p->execs = NULL;
    p->n_refs = p->n_execs = 0;
}
