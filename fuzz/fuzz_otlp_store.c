/* libFuzzer harness: decoded OTLP models through the store's pure part
 * (domain/otlp_plan.c), without a database. The input is a body, OTLP/JSON
 * when its first non-blank byte is '{', else protobuf; what decodes is
 * placed as otlp_place would have (resource r refused when r % 4 == 3,
 * else in one of two workflows by r % 2), planned, and written as the
 * documents otlp_sql.c unpacks. Checks, aborting with what broke:
 *   - each JSON document (e, u, n, and the spans' and events' attribute
 *     columns) is one JSON array (json-c, strict, UTF-8 validated, no
 *     trailing byte), with no \u0000 (jsonb refuses it in text); the span
 *     and event columns read back as PostgreSQL's array_in reads them
 *     (tests/reference/otlp_columns_read.c), all of one length;
 *   - s holds exactly the spans to store (not rejected, placed), each
 *     once (a copy later in the request left out and counted in n_dups),
 *     v exactly their events, n exactly the node spans, u exactly those
 *     with usage, and the refused ones are counted with a clean message;
 *   - each execution's final fields (nsp, nev, nne) count its spans,
 *     events and node spans in s and v;
 *   - each execution id is a UUID, once in e, and every span and event
 *     names one of them, and each execution has a span;
 *   - times parse back as timestamps (ts_parse), start <= end, the
 *     duration is >= 0; a span has a parent id exactly when the model says
 *     so; a node has its name, type and client id, token counts only on a
 *     node and within 0..2^31-1. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

#include "../tests/reference/otlp_columns_read.h"
#include "domain/otlp_plan.h"
#include "fuzz_otlp.h"
#include "util/timestamp.h"
#include "util/uuid.h"

static const char *const WORKFLOWS[2] = {"6f1c1e0a-1b2c-4d3e-8f40-5a6b7c8d9e0f", "0b5a7f2e-9c41-4e8d-a3b6-1d2e3f405162"};
#define ORG "11111111-2222-4333-8444-555555555555"
#define PROJECT "66666666-7777-4888-9999-aaaaaaaaaaaa"

/* Whether the JSON text holds the escape \u0000 (a backslash that is
 * itself escaped does not start one). */
static bool has_nul_escape(const char *s, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == 'u' && i + 6 <= len && memcmp(s + i + 2, "0000", 4) == 0)
            return true;
        i++; /* the escaped character */
    }
    return false;
}

static struct json_object *member(struct json_object *o, const char *key, enum json_type type)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
        fuzz_otlp_fail("document member missing or of the wrong type", key);
    return v;
}

static int64_t when(struct json_object *o, const char *key)
{
    const char *s = json_object_get_string(member(o, key, json_type_string));
    int64_t us;
    if (ts_parse(s, strlen(s), &us) != 0)
        fuzz_otlp_fail("a time that does not parse", s);
    return us;
}

static void count_in_range(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return;
    int64_t n = json_object_get_int64(v);
    if (!json_object_is_type(v, json_type_int) || n < 0 || n > INT32_MAX)
        fuzz_otlp_fail("a token count out of range", key);
}

/* e's ids, checked; returns how many. */
static size_t check_executions(struct json_object *e)
{
    size_t n = json_object_array_length(e);
    for (size_t i = 0; i < n; i++) {
        struct json_object *x = json_object_array_get_idx(e, i);
        const char *id = json_object_get_string(member(x, "id", json_type_string));
        if (!uuid_valid(id))
            fuzz_otlp_fail("an execution id that is not a UUID", id);
        for (size_t j = 0; j < i; j++)
            if (strcmp(id, json_object_get_string(member(json_object_array_get_idx(e, j), "id",
                                                         json_type_string))) == 0)
                fuzz_otlp_fail("an execution twice in e", id);
        const char *wf = json_object_get_string(member(x, "wf", json_type_string));
        if (strcmp(wf, WORKFLOWS[0]) != 0 && strcmp(wf, WORKFLOWS[1]) != 0)
            fuzz_otlp_fail("an execution in a workflow nobody placed", wf);
        when(x, "start");
        member(x, "meta", json_type_object);
        member(x, "sess", json_type_string);
    }
    return n;
}

/* The document b as a JSON array, checked. */
static struct json_object *parse_array(const struct buf *b)
{
    if (has_nul_escape(b->data, b->len))
        fuzz_otlp_fail("a NUL in a document (jsonb refuses it)", b->data);
    struct json_tokener *tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH * 4);
    if (!tok)
        abort();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    size_t len = b->len - 1; /* the document's NUL */
    struct json_object *d = json_tokener_parse_ex(tok, b->data, (int)len);
    if (!d || json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) != len ||
        !json_object_is_type(d, json_type_array))
        fuzz_otlp_fail("a document is not one JSON array", b->data);
    json_tokener_free(tok);
    return d;
}

/* Execution x's count key in e against want. */
static void check_count(struct json_object *e, size_t x, const char *key, size_t want)
{
    struct json_object *o = json_object_array_get_idx(e, x);
    if (json_object_get_int64(member(o, key, json_type_int)) != (int64_t)want)
        fuzz_otlp_fail("an execution's final count", key);
}

/* The index in e of the execution named by o's "x", or abort. */
static size_t execution_of(struct json_object *e, struct json_object *o)
{
    const char *x = json_object_get_string(member(o, "x", json_type_string));
    for (size_t i = 0; i < json_object_array_length(e); i++)
        if (strcmp(x, json_object_get_string(member(json_object_array_get_idx(e, i), "id", json_type_string))) == 0)
            return i;
    fuzz_otlp_fail("a span or event of no execution in e", x);
    return 0;
}

static void check_span(struct json_object *s, const struct otlp_span *model)
{
    struct json_object *v;
    bool node = json_object_object_get_ex(s, "node", &v) && json_object_get_boolean(v);
    if (when(s, "st") > when(s, "et"))
        fuzz_otlp_fail("a span that ends before it starts", json_object_to_json_string(s));
    if (json_object_get_double(member(s, "d", json_type_double)) < 0)
        fuzz_otlp_fail("a negative duration", json_object_to_json_string(s));
    if (json_object_object_get_ex(s, "p", &v) != model->has_parent)
        fuzz_otlp_fail("a parent id that the model does not have, or the other way", json_object_to_json_string(s));
    member(s, "a", json_type_object);
    member(s, "n", json_type_string);
    if (node) {
        member(s, "nn", json_type_string);
        member(s, "nt", json_type_string);
        if (!uuid_valid(json_object_get_string(member(s, "cid", json_type_string))))
            fuzz_otlp_fail("a node execution's client id that is not a UUID", json_object_to_json_string(s));
    } else if (json_object_object_get_ex(s, "ti", &v) || json_object_object_get_ex(s, "tout", &v)) {
        fuzz_otlp_fail("usage on a span that is not a node", json_object_to_json_string(s));
    }
    count_in_range(s, "ti");
    count_in_range(s, "tout");
    count_in_range(s, "cr");
    count_in_range(s, "cc");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_copy(data, size);
    size_t lead = 0;
    while (lead < size && (text[lead] == ' ' || text[lead] == '\n' || text[lead] == '\t' || text[lead] == '\r'))
        lead++;
    otlp_decoder decode = lead < size && text[lead] == '{' ? otlp_decode_json : otlp_decode_proto;
    struct otlp_request *req = NULL;
    char why[256];
    if (decode(text, size, &fuzz_otlp_limits, &req, why, sizeof why) != OTLP_OK) {
        free(text);
        return 0;
    }

    struct otlp_place *pl = calloc(req->n_resources ? req->n_resources : 1, sizeof *pl);
    if (!pl)
        abort();
    size_t want_stored = 0, want_refused = 0, want_events = 0;
    for (size_t r = 0; r < req->n_resources; r++) {
        pl[r].wanted = true;
        if (r % 4 == 3)
            pl[r].reject = "no such workflow";
        snprintf(pl[r].workflow, sizeof pl[r].workflow, "%s", WORKFLOWS[r % 2]);
        snprintf(pl[r].org, sizeof pl[r].org, "%s", ORG);
        snprintf(pl[r].project, sizeof pl[r].project, "%s", PROJECT);
        for (size_t c = 0; c < req->resources[r].n_scopes; c++)
            for (size_t i = 0; i < req->resources[r].scopes[c].n_spans; i++) {
                const struct otlp_span *sp = &req->resources[r].scopes[c].spans[i];
                if (sp->rejected)
                    continue;
                if (pl[r].reject)
                    want_refused++;
                else
                    want_stored++;
            }
    }

    struct otlp_plan p = {0};
    struct otlp_store_result out;
    struct otlp_docs docs;
    char n[32];
    memset(&out, 0, sizeof out);
    otlp_docs_init(&docs);
    otlp_plan_build(req, pl, &p, &out);
    if (out.rejected != want_refused) {
        snprintf(n, sizeof n, "%zu/%zu", out.rejected, p.n_refs);
        fuzz_otlp_fail("spans refused / to store", n);
    }
    fuzz_otlp_clean("refusal message", out.message);
    if ((out.message[0] != '\0') != (want_refused > 0))
        fuzz_otlp_fail("a refusal message without refusals, or the other way", out.message);
    otlp_plan_json(req, pl, &p, &docs);
    if (p.n_refs + p.n_dups != want_stored) {
        snprintf(n, sizeof n, "%zu+%zu", p.n_refs, p.n_dups);
        fuzz_otlp_fail("spans to store and copies left out", n);
    }
    for (size_t i = 0; i < p.n_refs; i++)
        want_events += p.refs[i].span->n_events;

    json_object_put(parse_array(&docs.spans[OSC_ATTRS]));
    json_object_put(parse_array(&docs.events[OEC_DATA]));
    const char *bad = "";
    struct json_object *e = parse_array(&docs.execs), *u = parse_array(&docs.usage), *nd = parse_array(&docs.nodes),
                       *s = otlp_columns_spans(&docs, &bad), *v = s ? otlp_columns_events(&docs, s, &bad) : NULL;
    if (!s || !v)
        fuzz_otlp_fail("the span or event columns do not read back", bad);
    size_t n_execs = check_executions(e);
    if (n_execs != p.n_execs || json_object_array_length(s) != p.n_refs || json_object_array_length(v) != want_events)
        fuzz_otlp_fail("the documents' counts", docs.spans[OSC_EXEC].data);
    size_t *spans = calloc(n_execs ? n_execs : 1, sizeof *spans), *events = calloc(n_execs ? n_execs : 1, sizeof *events),
           *nodes = calloc(n_execs ? n_execs : 1, sizeof *nodes);
    bool *used = calloc(n_execs ? n_execs : 1, 1);
    if (!spans || !events || !nodes || !used)
        abort();
    size_t n_nodes = 0, n_usage = 0;
    for (size_t i = 0; i < json_object_array_length(s); i++) {
        struct json_object *x = json_object_array_get_idx(s, i), *node;
        size_t at = execution_of(e, x);
        used[at] = true;
        spans[at]++;
        if (json_object_object_get_ex(x, "node", &node)) {
            nodes[at]++;
            n_nodes++;
            n_usage += json_object_object_get_ex(x, "ti", &node) || json_object_object_get_ex(x, "tout", &node);
        }
        check_span(x, p.refs[i].span);
        if (i > 0 && p.refs[i - 1].workflow == p.refs[i].workflow &&
            memcmp(p.refs[i - 1].span->trace_id, p.refs[i].span->trace_id, 16) == 0 &&
            memcmp(p.refs[i - 1].span->span_id, p.refs[i].span->span_id, 8) == 0)
            fuzz_otlp_fail("a span twice in s", json_object_to_json_string(x));
    }
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        struct json_object *x = json_object_array_get_idx(v, i);
        events[execution_of(e, x)]++;
        when(x, "ts");
        member(x, "d", json_type_object);
    }
    if (json_object_array_length(nd) != n_nodes)
        fuzz_otlp_fail("n does not hold the node spans", docs.nodes.data);
    for (size_t i = 0; i < n_nodes; i++) {
        struct json_object *x = json_object_array_get_idx(nd, i);
        execution_of(e, x);
        member(x, "n", json_type_string);
        member(x, "t", json_type_string);
    }
    if (json_object_array_length(u) != n_usage)
        fuzz_otlp_fail("u does not hold the node spans with usage", docs.usage.data);
    for (size_t i = 0; i < n_usage; i++) {
        struct json_object *x = json_object_array_get_idx(u, i);
        execution_of(e, x);
        when(x, "st");
        count_in_range(x, "ti");
        count_in_range(x, "tout");
    }
    for (size_t i = 0; i < n_execs; i++) {
        check_count(e, i, "nsp", spans[i]);
        check_count(e, i, "nev", events[i]);
        check_count(e, i, "nne", nodes[i]);
    }
    free(used);
    free(spans);
    free(events);
    free(nodes);
    json_object_put(e);
    json_object_put(u);
    json_object_put(nd);
    json_object_put(s);
    json_object_put(v);
    otlp_docs_free(&docs);
    otlp_plan_free(&p);
    free(pl);
    otlp_request_free(req);
    free(text);
    return 0;
}
