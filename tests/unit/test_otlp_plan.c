/* Unit tests for otlp_plan.c: the spans of a decoded request grouped into
 * executions by workflow and trace, the refused resources counted, each
 * span's node or nearest node ancestor, a span sent twice kept once, and
 * the documents otlp_sql.c unpacks (a new execution's final fields among
 * them). No database: the placements are given. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../reference/otlp_columns_read.h"
#include "domain/otlp_plan.h"
#include "otlp/otlp_decode.h"

#define WF_A "6f1c1e0a-1b2c-4d3e-8f40-5a6b7c8d9e0f"
#define WF_B "0b5a7f2e-9c41-4e8d-a3b6-1d2e3f405162"
#define T1 "0102030405060708090a0b0c0d0e0f10"
#define T2 "1112131415161718191a1b1c1d1e1f20"

static struct otlp_request *req;
static struct otlp_plan plan;
static struct json_object *doc;
static struct otlp_place pl[4]; /* the plan borrows from them */

static void drop(void)
{
    otlp_plan_free(&plan);
    otlp_request_free(req);
    json_object_put(doc);
    req = NULL;
    doc = NULL;
}

TestSuite(otlp_plan, .fini = drop);

#define SPAN(trace, id, parent, name, attrs)                                                                      \
    "{\"traceId\":\"" trace "\",\"spanId\":\"" id "\",\"parentSpanId\":\"" parent "\",\"name\":\"" name "\","     \
    "\"startTimeUnixNano\":\"1748779200000000000\",\"endTimeUnixNano\":\"1748779201000000000\",\"attributes\":[" \
    attrs "],\"events\":[{\"name\":\"e\",\"timeUnixNano\":\"1748779200500000000\"}]}"
#define NODE(v) "{\"key\":\"agora.node.name\",\"value\":{\"stringValue\":\"" v "\"}}"
#define RESOURCE(spans) "{\"resource\":{},\"scopeSpans\":[{\"spans\":[" spans "]}]}"

/* Decodes body, places resource r in pl[r] (NULL workflow: refused), plans,
 * and parses the documents into doc, as {"e": .., "u": .., "n": .., "s": ..,
 * "v": ..}, the spans and events read back from their columns. */
static void build(const char *body, const char *const *workflows, size_t n, struct otlp_store_result *out)
{
    struct otlp_limits lim = OTLP_LIMITS_DEFAULT(1 << 20);
    char why[128];
    struct otlp_docs d;
    cr_assert_eq(otlp_decode_json(body, strlen(body), &lim, &req, why, sizeof why), OTLP_OK, "%s", why);
    cr_assert_eq(req->n_resources, n);
    memset(pl, 0, sizeof pl);
    memset(out, 0, sizeof *out);
    for (size_t r = 0; r < n; r++) {
        pl[r].wanted = true;
        pl[r].reject = workflows[r] ? NULL : "no such workflow";
        snprintf(pl[r].workflow, sizeof pl[r].workflow, "%s", workflows[r] ? workflows[r] : "");
        snprintf(pl[r].org, sizeof pl[r].org, "%s", "11111111-2222-4333-8444-555555555555");
        snprintf(pl[r].project, sizeof pl[r].project, "%s", "66666666-7777-4888-9999-aaaaaaaaaaaa");
    }
    otlp_plan_build(req, pl, &plan, out);
    otlp_docs_init(&d);
    otlp_plan_json(req, pl, &plan, &d);
    doc = json_object_new_object();
    const struct {
        const char *key;
        const struct buf *b;
    } parts[] = {{"e", &d.execs}, {"u", &d.usage}, {"n", &d.nodes}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        struct json_object *a = json_tokener_parse(parts[i].b->data);
        cr_assert(json_object_is_type(a, json_type_array), "%s: %s", parts[i].key, parts[i].b->data);
        json_object_object_add(doc, parts[i].key, a);
    }
    const char *bad = "";
    struct json_object *s = otlp_columns_spans(&d, &bad);
    cr_assert_not_null(s, "span columns: %s", bad);
    struct json_object *v = otlp_columns_events(&d, s, &bad);
    cr_assert_not_null(v, "event columns: %s", bad);
    json_object_object_add(doc, "s", s);
    json_object_object_add(doc, "v", v);
    otlp_docs_free(&d);
}

/* build() of one resource, placed in workflow A. */
static void build_a(const char *body, struct otlp_store_result *out)
{
    const char *const wf[] = {WF_A};
    build(body, wf, 1, out);
}

static struct json_object *part(const char *key)
{
    struct json_object *v;
    cr_assert(json_object_object_get_ex(doc, key, &v), "%s", key);
    return v;
}

static const char *field(struct json_object *o, const char *key)
{
    struct json_object *v;
    return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : NULL;
}

Test(otlp_plan, spans_group_by_workflow_and_trace_and_a_refused_resource_is_counted)
{
    const char *body = "{\"resourceSpans\":["
        RESOURCE(SPAN(T1, "a000000000000002", "a000000000000001", "child", "") ","
                 SPAN(T2, "b000000000000001", "", "other root", "")) ","
        RESOURCE(SPAN(T1, "a000000000000001", "", "root", "")) ","
        RESOURCE(SPAN(T1, "c000000000000001", "", "refused", "") "," SPAN(T2, "c000000000000002", "", "too", ""))
        "]}";
    const char *const wf[] = {WF_A, WF_B, NULL};
    struct otlp_store_result out;
    build(body, wf, 3, &out);
    cr_assert_eq(out.rejected, 2);
    cr_assert_str_eq(out.message, "resourceSpans[2]: no such workflow");
    /* T1 in A, T2 in A, T1 in B: three executions, the same trace in two workflows apart */
    cr_assert_eq(plan.n_execs, 3);
    cr_assert_eq(json_object_array_length(part("e")), 3);
    cr_assert_eq(json_object_array_length(part("s")), 3);
    cr_assert_eq(json_object_array_length(part("v")), 3);
    char id[UUID_STR_LEN + 1];
    otlp_execution_id(WF_B, plan.refs[plan.execs[0].first].span->trace_id, id);
    cr_assert_str_eq(plan.execs[0].id, id); /* sorted by workflow: B's first */
    cr_assert_str_eq(plan.refs[plan.execs[0].first].workflow, WF_B);
    for (size_t x = 0; x < plan.n_execs; x++) {
        struct json_object *e = json_object_array_get_idx(part("e"), x);
        cr_assert_str_eq(field(e, "id"), plan.execs[x].id);
        cr_assert_str_eq(field(e, "sess"), field(e, "fb")); /* no session named: the trace id */
    }
}

Test(otlp_plan, a_span_takes_the_name_of_its_nearest_node_ancestor_in_the_request)
{
    const char *body = "{\"resourceSpans\":["
        RESOURCE(SPAN(T1, "a000000000000003", "a000000000000002", "http", "") ","
                 SPAN(T1, "a000000000000002", "a000000000000001", "inner", "") ","
                 SPAN(T1, "a000000000000001", "", "root", NODE("plan")) ","
                 SPAN(T1, "a000000000000004", "a0000000000000ff", "orphan", ""))
        "]}";
    struct otlp_store_result out;
    build_a(body, &out);
    cr_assert_eq(out.rejected, 0);
    cr_assert_eq(plan.n_execs, 1);
    cr_assert(plan.any_node);
    struct json_object *s = part("s");
    cr_assert_eq(json_object_array_length(s), 4);
    /* sorted by span id: root, inner, http, orphan */
    const char *want[][3] = {{"root", "plan", "true"}, {"inner", "plan", NULL}, {"http", "plan", NULL},
                             {"orphan", NULL, NULL}};
    for (size_t i = 0; i < 4; i++) {
        struct json_object *x = json_object_array_get_idx(s, i);
        cr_assert_str_eq(field(x, "n"), want[i][0]);
        if (want[i][1])
            cr_assert_str_eq(field(x, "nn"), want[i][1], "%s", field(x, "n"));
        else
            cr_assert_null(field(x, "nn"), "%s", field(x, "n"));
        cr_assert_eq(field(x, "node") != NULL, want[i][2] != NULL, "%s", field(x, "n"));
        cr_assert_eq(field(x, "p") != NULL, i != 0);
        struct json_object *d;
        cr_assert(json_object_object_get_ex(x, "d", &d));
        cr_assert_float_eq(json_object_get_double(d), 1000.0, 1e-9); /* the SPAN()s last 1 s */
        cr_assert_str_eq(field(x, "st"), "2025-06-01T12:00:00.000000Z");
    }
}

Test(otlp_plan, a_span_sent_twice_in_one_request_is_kept_once_as_first_sent_with_its_events)
{
    const char *body = "{\"resourceSpans\":["
        RESOURCE(SPAN(T1, "a000000000000001", "", "first", "") "," SPAN(T1, "a000000000000002", "a000000000000001",
                 "child", "") "," SPAN(T1, "a000000000000001", "", "second", NODE("n")))
        "]}";
    struct otlp_store_result out;
    build_a(body, &out);
    cr_assert_eq(out.rejected, 0);
    cr_assert_eq(plan.n_refs, 2);
    cr_assert_eq(plan.n_dups, 1);
    struct json_object *s = part("s");
    cr_assert_eq(json_object_array_length(s), 2);
    cr_assert_str_eq(field(json_object_array_get_idx(s, 0), "n"), "first");
    cr_assert_eq(json_object_array_length(part("v")), 2);
    cr_assert_eq(json_object_array_length(part("n")), 0); /* the node was the copy */
}

Test(otlp_plan, a_new_execution_carries_its_counts_root_and_usage_to_be_inserted_final)
{
#define USAGE "{\"key\":\"gen_ai.usage.input_tokens\",\"value\":{\"intValue\":\"7\"}},"               \
              "{\"key\":\"gen_ai.request.model\",\"value\":{\"stringValue\":\"gpt-4o\"}}"
    const char *body = "{\"resourceSpans\":["
        RESOURCE(SPAN(T1, "a000000000000002", "a000000000000001", "llm", NODE("chat") "," USAGE) ","
                 SPAN(T1, "a000000000000001", "", "root", NODE("agent")) ","
                 SPAN(T2, "b000000000000002", "b0000000000000ff", "child only", ""))
        "]}";
    struct otlp_store_result out;
    build_a(body, &out);
    cr_assert_eq(plan.n_execs, 2);
    for (size_t x = 0; x < 2; x++) {
        struct json_object *e = json_object_array_get_idx(part("e"), x), *r;
        bool t1 = plan.refs[plan.execs[x].first].span->trace_id[0] == 0x01;
        cr_assert_str_eq(field(e, "nsp"), t1 ? "2" : "1");
        cr_assert_str_eq(field(e, "nev"), t1 ? "2" : "1");
        cr_assert_str_eq(field(e, "nne"), t1 ? "2" : "0");
        cr_assert_eq(json_object_object_get_ex(e, "r", &r), t1, "only a trace with its root has one");
        if (!t1)
            continue;
        cr_assert_str_eq(field(r, "c"), "unset");
        cr_assert_str_eq(field(r, "d"), "1000.000000");
        struct json_object *u = part("u");
        cr_assert_eq(json_object_array_length(u), 1); /* the node with tokens, not the root */
        cr_assert_str_eq(field(json_object_array_get_idx(u, 0), "x"), field(e, "id"));
        cr_assert_str_eq(field(json_object_array_get_idx(u, 0), "ti"), "7");
        cr_assert_str_eq(field(json_object_array_get_idx(u, 0), "model"), "gpt-4o");
        /* o: where the span is in the span columns (from 1), where step 5
         * takes the cost step 2 answers for it */
        long o = strtol(field(json_object_array_get_idx(u, 0), "o"), NULL, 10);
        cr_assert(o >= 1 && (size_t)o <= json_object_array_length(part("s")), "o = %ld", o);
        cr_assert_str_eq(field(json_object_array_get_idx(part("s"), (size_t)o - 1), "s"), "a000000000000002");
    }
    cr_assert_eq(json_object_array_length(part("n")), 2);
}
