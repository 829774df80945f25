/* Writes a comparison of two runs as the route's JSON (see compare_json.h).
 * Written straight into one buffer rather than built as a json-c tree: a
 * 10,000-node comparison holds about 100,000 values, and a json-c object
 * costs hundreds of bytes before its first member. */
#include "domain/compare_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/state_diff.h"

static void put_string(struct buf *out, const char *s)
{
    if (s)
        buf_json_string(out, s, strlen(s));
    else
        buf_puts(out, "null");
}

/* A number in its shortest form that reads back the same; null for NaN. */
static void put_number(struct buf *out, double v)
{
    char text[40];
    if (!isfinite(v)) {
        buf_puts(out, "null");
        return;
    }
    snprintf(text, sizeof text, "%.15g", v);
    if (strtod(text, NULL) != v)
        snprintf(text, sizeof text, "%.17g", v);
    buf_puts(out, text);
}

/* A member: key is its text up to the value, leading comma included
 * (",\"status\":"), then the value. */
static void member_string(struct buf *out, const char *key, const char *s)
{
    buf_puts(out, key);
    put_string(out, s);
}

static void member_number(struct buf *out, const char *key, double v)
{
    buf_puts(out, key);
    put_number(out, v);
}

/* b - a to the microsecond (durations are milliseconds kept to the
 * microsecond), so 0.3 - 0.1 reads 0.2; NaN when either is absent. */
static double delta(double a, double b)
{
    if (!isfinite(a) || !isfinite(b))
        return NAN;
    return round((b - a) * 1000) / 1000;
}

/* "a":x,"b":y,"delta":y-x */
static void put_triple(struct buf *out, double a, double b)
{
    member_number(out, "{\"a\":", a);
    member_number(out, ",\"b\":", b);
    member_number(out, ",\"delta\":", delta(a, b));
    buf_putc(out, '}');
}

static void put_reasons(struct buf *out, unsigned bits)
{
    bool first = true;
    buf_putc(out, '[');
    for (unsigned bit = 1; bit <= CMP_PATH; bit <<= 1) {
        if (!(bits & bit))
            continue;
        buf_printf(out, "%s\"%s\"", first ? "" : ",", cmp_diff_name(bit));
        first = false;
    }
    buf_putc(out, ']');
}

static double nodes_total(const struct cmp_run *r)
{
    double t = 0;
    for (size_t i = 0; i < r->n; i++)
        t += cmp_node_duration(&r->nodes[i]);
    return t;
}

static void write_summary(const struct cmp_run *a, const struct cmp_run *b, const struct cmp_result *res,
                          const struct compare_options *opt, struct buf *out)
{
    double na = nodes_total(a), nb = nodes_total(b);
    double total = delta(a->duration_ms, b->duration_ms);
    if (!isfinite(total))
        total = delta(na, nb);
    buf_puts(out, "\"summary\":{\"duration_ms\":");
    put_triple(out, a->duration_ms, b->duration_ms);
    buf_puts(out, ",\"nodes_duration_ms\":");
    put_triple(out, na, nb);
    buf_printf(out, ",\"node_executions\":{\"a\":%zu,\"b\":%zu},\"aligned\":%zu,\"differing\":%zu,"
                    "\"only_in_a\":%zu,\"only_in_b\":%zu,\"top_nodes\":[",
               a->n, b->n, res->npairs, res->differing, res->n_only_a, res->n_only_b);
    /* The nodes whose summed durations changed most: what explains the
     * total's change, with their share of it. */
    for (size_t i = 0, shown = 0; i < res->ncontribs && shown < (size_t)opt->top; i++) {
        const struct cmp_contrib *c = &res->contribs[i];
        double d = delta(c->a_ms, c->b_ms);
        if (d == 0)
            break;
        buf_puts(out, shown++ ? ",{\"node_name\":" : "{\"node_name\":");
        put_string(out, c->name);
        member_number(out, ",\"a_ms\":", c->a_ms);
        member_number(out, ",\"b_ms\":", c->b_ms);
        member_number(out, ",\"delta_ms\":", d);
        buf_printf(out, ",\"a_runs\":%zu,\"b_runs\":%zu,\"share\":", c->a_runs, c->b_runs);
        put_number(out, total != 0 ? round(d / total * 1000) / 1000 : NAN);
        buf_putc(out, '}');
    }
    buf_puts(out, "]}");
}

/* {"node_name","status","action"} of a run's index-th node, or null. */
static void put_step(struct buf *out, const struct cmp_run *r, size_t index)
{
    if (index >= r->n) {
        buf_puts(out, "null");
        return;
    }
    const struct cmp_node *n = &r->nodes[index];
    member_string(out, "{\"node_name\":", n->name);
    member_string(out, ",\"status\":", n->status);
    member_string(out, ",\"action\":", n->action);
    buf_putc(out, '}');
}

static void put_index(struct buf *out, size_t index, size_t n)
{
    if (index < n)
        buf_printf(out, "%zu", index);
    else
        buf_puts(out, "null");
}

/* The sentence of a divergence, for people (the fields say it for
 * programs). */
static void divergence_message(const struct cmp_run *a, const struct cmp_run *b, const struct cmp_result *res,
                               struct buf *msg)
{
    if (res->first_reasons == CMP_PATH) {
        size_t k = res->parted_at;
        buf_printf(msg, "the paths part at step %zu: ", k + 1);
        if (k < a->n && k < b->n)
            buf_printf(msg, "a ran %s (action %s), b ran %s (action %s)", a->nodes[k].name,
                       a->nodes[k].action ? a->nodes[k].action : "none", b->nodes[k].name,
                       b->nodes[k].action ? b->nodes[k].action : "none");
        else
            buf_printf(msg, "%s ran %s, %s had ended", k < a->n ? "a" : "b",
                       k < a->n ? a->nodes[k].name : b->nodes[k].name, k < a->n ? "b" : "a");
        return;
    }
    const struct cmp_pair *p = &res->pairs[res->first];
    const struct cmp_node *x = &a->nodes[p->a], *y = &b->nodes[p->b];
    buf_printf(msg, "%s (run %zu) started from the same state but ", x->name, p->ordinal);
    const char *sep = "";
    if (res->first_reasons & CMP_STATUS) {
        buf_printf(msg, "ended %s in a and %s in b", x->status ? x->status : "without status",
                   y->status ? y->status : "without status");
        sep = "; ";
    }
    if (res->first_reasons & CMP_ACTION) {
        buf_printf(msg, "%stook action %s in a and %s in b", sep, x->action ? x->action : "none",
                   y->action ? y->action : "none");
        sep = "; ";
    }
    if (res->first_reasons & CMP_STATE)
        buf_printf(msg, "%sleft a different state", sep);
}

static void write_divergence(const struct cmp_run *a, const struct cmp_run *b, const struct cmp_result *res,
                             struct buf *out)
{
    if (res->first == CMP_NONE && res->first_reasons != CMP_PATH) {
        buf_puts(out, "\"first_divergence\":null");
        return;
    }
    size_t ia = res->parted_at, ib = res->parted_at, ordinal = 0;
    if (res->first != CMP_NONE) {
        ia = res->pairs[res->first].a;
        ib = res->pairs[res->first].b;
        ordinal = res->pairs[res->first].ordinal;
    }
    struct buf msg;
    buf_init(&msg);
    divergence_message(a, b, res, &msg);
    buf_puts(out, "\"first_divergence\":{\"reason\":");
    for (unsigned bit = 1; bit <= CMP_PATH; bit <<= 1)
        if (res->first_reasons & bit) {
            put_string(out, cmp_diff_name(bit));
            break;
        }
    buf_puts(out, ",\"reasons\":");
    put_reasons(out, res->first_reasons);
    member_string(out, ",\"node_name\":", ia < a->n ? a->nodes[ia].name : b->nodes[ib].name);
    buf_puts(out, ",\"ordinal\":");
    if (ordinal)
        buf_printf(out, "%zu", ordinal);
    else
        buf_puts(out, "null");
    buf_puts(out, ",\"a_index\":");
    put_index(out, ia, a->n);
    buf_puts(out, ",\"b_index\":");
    put_index(out, ib, b->n);
    buf_puts(out, ",\"a\":");
    put_step(out, a, ia);
    buf_puts(out, ",\"b\":");
    put_step(out, b, ib);
    buf_puts(out, ",\"message\":");
    buf_json_string(out, msg.data, msg.len);
    buf_putc(out, '}');
    buf_free(&msg);
}

static void write_path(struct buf *out, const struct cmp_run *r)
{
    buf_putc(out, '[');
    for (size_t i = 0; i < r->n; i++) {
        buf_puts(out, i ? ",{\"node_name\":" : "{\"node_name\":");
        put_string(out, r->nodes[i].name);
        member_string(out, ",\"action\":", r->nodes[i].action);
        buf_putc(out, '}');
    }
    buf_putc(out, ']');
}

/* A node execution as the answer shows it (ComparedNode). */
static void put_node(struct buf *out, const struct cmp_node *n)
{
    buf_printf(out, "{\"id\":%s,\"status\":", n->id);
    put_string(out, n->status);
    member_number(out, ",\"offset_ms\":", n->offset_ms);
    member_number(out, ",\"duration_ms\":", n->duration_ms);
    member_number(out, ",\"prep_duration_ms\":", n->prep_ms);
    member_number(out, ",\"exec_duration_ms\":", n->exec_ms);
    member_number(out, ",\"post_duration_ms\":", n->post_ms);
    buf_puts(out, ",\"retry_count\":");
    if (n->retries >= 0)
        buf_printf(out, "%lld", n->retries);
    else
        buf_puts(out, "null");
    member_string(out, ",\"action\":", n->action);
    buf_printf(out, ",\"error\":%s}", n->error ? n->error : "null");
}

static void write_pair(const struct cmp_run *a, const struct cmp_run *b, const struct cmp_pair *p,
                       const struct compare_options *opt, size_t *budget, struct buf *out)
{
    const struct cmp_node *x = &a->nodes[p->a], *y = &b->nodes[p->b];
    member_string(out, "{\"node_name\":", x->name);
    buf_printf(out, ",\"ordinal\":%zu,\"a_index\":%zu,\"b_index\":%zu,\"a\":", p->ordinal, p->a, p->b);
    put_node(out, x);
    buf_puts(out, ",\"b\":");
    put_node(out, y);
    member_number(out, ",\"delta\":{\"prep_duration_ms\":", delta(x->prep_ms, y->prep_ms));
    member_number(out, ",\"exec_duration_ms\":", delta(x->exec_ms, y->exec_ms));
    member_number(out, ",\"post_duration_ms\":", delta(x->post_ms, y->post_ms));
    member_number(out, ",\"duration_ms\":", delta(cmp_node_duration(x), cmp_node_duration(y)));
    buf_puts(out, ",\"retry_count\":");
    if (x->retries >= 0 && y->retries >= 0)
        buf_printf(out, "%lld", y->retries - x->retries);
    else
        buf_puts(out, "null");
    buf_puts(out, "},\"differs\":");
    put_reasons(out, p->differs);
    buf_printf(out, ",\"before_equal\":%s,\"state_diff\":", p->before_equal ? "true" : "false");
    if (!x->after && !y->after)
        buf_puts(out, "null");
    else
        state_diff_write(x->after, y->after, (size_t)opt->diff_entries, budget, out);
    buf_putc(out, '}');
}

static void write_only(struct buf *out, const struct cmp_run *r, const size_t *only, size_t n,
                       const size_t *ordinals)
{
    buf_putc(out, '[');
    for (size_t i = 0; i < n; i++) {
        const struct cmp_node *node = &r->nodes[only[i]];
        buf_puts(out, i ? ",{\"node_name\":" : "{\"node_name\":");
        put_string(out, node->name);
        buf_printf(out, ",\"ordinal\":%zu,\"index\":%zu,\"node\":", ordinals[only[i]], only[i]);
        put_node(out, node);
        buf_putc(out, '}');
    }
    buf_putc(out, ']');
}

void compare_json_write(const struct cmp_run *a, const struct cmp_run *b, const struct cmp_result *res,
                        const struct compare_options *opt, struct buf *out)
{
    bool same_wf = a->workflow_id && b->workflow_id && strcmp(a->workflow_id, b->workflow_id) == 0;
    bool identical = res->differing == 0 && res->n_only_a == 0 && res->n_only_b == 0;
    size_t budget = COMPARE_DIFF_BUDGET;

    buf_printf(out, "{\"a\":%s,\"b\":%s,\"same_workflow\":%s,\"note\":", a->json, b->json,
               same_wf ? "true" : "false");
    put_string(out, same_wf ? NULL : "the runs are of different workflows: nodes are aligned by name");
    buf_printf(out, ",\"identical\":%s,", identical ? "true" : "false");
    write_summary(a, b, res, opt, out);
    buf_putc(out, ',');
    write_divergence(a, b, res, out);
    buf_puts(out, ",\"paths\":{\"a\":");
    write_path(out, a);
    buf_puts(out, ",\"b\":");
    write_path(out, b);
    buf_puts(out, ",\"parted_at\":");
    put_index(out, res->parted_at, CMP_NONE);
    buf_puts(out, "},\"pairs\":[");
    for (size_t i = 0; i < res->npairs; i++) {
        if (i)
            buf_putc(out, ',');
        write_pair(a, b, &res->pairs[i], opt, &budget, out);
    }
    buf_puts(out, "],\"only_in_a\":");
    write_only(out, a, res->only_a, res->n_only_a, res->ordinal_a);
    buf_puts(out, ",\"only_in_b\":");
    write_only(out, b, res->only_b, res->n_only_b, res->ordinal_b);
    buf_puts(out, "}\n");
}
