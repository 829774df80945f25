/* Storing an OTLP request's spans (otlp_store.h). The steps, each one
 * statement (texts in otlp_sql.c), so a request costs the same number of
 * round trips for one span or 100,000:
 *
 *   0. generic plans for the rest of the transaction (otlp_sql.c says why);
 *   1. placement: each resource's workflow (otlp_place.c; more statements
 *      only the first time a service.name is seen);
 *   2. the executions, one per trace and workflow, with ids derived from
 *      both (otlp_map.h) so every batch of a trace and every resend finds
 *      the same one: inserted when new (ON CONFLICT DO NOTHING), in their
 *      final state (counts, usage, the root's status and times, or
 *      running), so their rows are written once; it prices the node
 *      spans' usage, once, and answers their costs for step 5;
 *   3. the others locked (FOR UPDATE): an id the caller cannot see, or of
 *      another workflow, refuses that trace's spans (never written to);
 *   4. when spans are nodes: the workflow nodes their names lack;
 *   5. spans, events and node executions of the executions kept, in one
 *      statement of data-modifying CTEs that skips spans already stored
 *      and updates each execution that existed before (counts, usage, its
 *      root's fields);
 *   6. the live messages of the executions that got spans (live_announce,
 *      the JSON ingest's own), one statement for up to OTLP_LIVE_MAX of
 *      them.
 *
 * Before step 2 the spans are sorted by workflow, trace and span id, which
 * groups them by execution and lets a span find its parents within the
 * request (the nearest node ancestor names the node of a span that is not
 * one). It goes to PostgreSQL as JSON arrays (executions, nodes, usage)
 * and typed arrays, one per column (the spans and events), each statement
 * getting only those it reads; the plan and the parameters are
 * otlp_plan.c's, pure, the statements here. */
#include "domain/otlp_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pg_array.h"
#include "domain/live_announce.h"
#include "domain/otlp_place.h"
#include "domain/otlp_plan.h"
#include "domain/otlp_sql.h"
#include "util/buf.h"
#include "util/text.h"
#include "util/timestamp.h"

static int exec_id_cmp(const void *key, const void *elem)
{
    return strcmp(key, (*(struct otlp_exec *const *)elem)->id);
}

/* The execution of id (an index sorted by id), or NULL. */
static struct otlp_exec *exec_by_id(struct otlp_exec **by_id, size_t n, const char *id)
{
    struct otlp_exec **e = bsearch(id, by_id, n, sizeof *by_id, exec_id_cmp);
    return e ? *e : NULL;
}

static int exec_ptr_cmp(const void *a, const void *b)
{
    return strcmp((*(struct otlp_exec *const *)a)->id, (*(struct otlp_exec *const *)b)->id);
}

/* Which executions an array literal lists. */
enum which { KEPT, INSERTED, NOT_INSERTED };

/* A PostgreSQL array literal of the executions' ids that are which.
 * Returns how many. */
static size_t ids_literal(const struct otlp_plan *p, enum which which, struct buf *b)
{
    size_t n = 0;
    buf_reset(b);
    buf_putc(b, '{');
    for (size_t x = 0; x < p->n_execs; x++)
        if (which == KEPT ? p->execs[x].kept : p->execs[x].inserted == (which == INSERTED))
            buf_printf(b, "%s%s", n++ ? "," : "", p->execs[x].id);
    buf_puts(b, "}");
    buf_putc(b, '\0');
    return n;
}

/* Writes costs, step 5's last span column: an array literal of one
 * element per span of p, the cost step 2 answered for the span at its
 * position (rows of res whose id is NULL: position, cost), NULL for the
 * rest. */
static void costs_column(const struct otlp_plan *p, const PGresult *res, struct buf *costs)
{
    const char **at = xcalloc(p->n_refs ? p->n_refs : 1, sizeof *at);
    for (int row = 0; row < PQntuples(res); row++) {
        if (!PQgetisnull(res, row, 0) || PQgetisnull(res, row, 1))
            continue;
        long long o = strtoll(PQgetvalue(res, row, 1), NULL, 10);
        if (o >= 1 && (size_t)o <= p->n_refs)
            at[o - 1] = PQgetvalue(res, row, 2);
    }
    buf_reset(costs);
    pg_array_open(costs);
    for (size_t i = 0; i < p->n_refs; i++)
        pg_array_raw(costs, at[i]);
    pg_array_close(costs);
    free(at);
}

/* Steps 2 and 3: marks each execution inserted or kept, and writes costs
 * (costs_column). */
static enum db_status open_executions(struct db *db, struct otlp_plan *p, const struct otlp_docs *d,
                                      struct buf *costs, struct otlp_store_result *out)
{
    PGresult *res = NULL;
    struct otlp_exec **by_id = xcalloc(p->n_execs ? p->n_execs : 1, sizeof *by_id);
    struct buf ids;
    buf_init(&ids);
    for (size_t x = 0; x < p->n_execs; x++)
        by_id[x] = &p->execs[x];
    qsort(by_id, p->n_execs, sizeof *by_id, exec_ptr_cmp);

    const char *params[2] = {d->execs.data, d->usage.data};
    enum db_status st = db_exec(db, SQL_OTLP_EXECUTIONS, 2, params, &res);
    if (st != DB_OK)
        goto done;
    for (int row = 0; row < PQntuples(res); row++) {
        struct otlp_exec *e = PQgetisnull(res, row, 0) ? NULL : exec_by_id(by_id, p->n_execs, PQgetvalue(res, row, 0));
        if (e)
            e->inserted = e->kept = true;
    }
    costs_column(p, res, costs);
    PQclear(res);
    res = NULL;
    if (ids_literal(p, NOT_INSERTED, &ids) > 0) {
        params[0] = ids.data;
        if ((st = db_exec(db, SQL_OTLP_EXECUTIONS_LOCK, 1, params, &res)) != DB_OK)
            goto done;
        for (int row = 0; row < PQntuples(res); row++) {
            struct otlp_exec *e = exec_by_id(by_id, p->n_execs, PQgetvalue(res, row, 0));
            /* Its workflow is part of its id: another is a row not made here. */
            if (e && strcmp(PQgetvalue(res, row, 1), p->refs[e->first].workflow) == 0)
                e->kept = true;
        }
    }
    for (size_t x = 0; x < p->n_execs; x++)
        if (!p->execs[x].kept)
            otlp_plan_reject(out, p->refs[p->execs[x].first].resource,
                        "the execution id of this trace is taken by another tenant or workflow", p->execs[x].n);
done:
    PQclear(res);
    buf_free(&ids);
    free(by_id);
    return st;
}

/* Steps 5 and 6: kept and inserted, the array literals of those
 * executions; costs, step 2's (costs_column). */
static enum db_status store_items(struct db *db, const struct otlp_docs *d, const char *kept,
                                  const char *inserted, const char *costs, struct otlp_store_result *out)
{
    PGresult *res = NULL;
    const char *params[OTLP_ITEMS_COSTS] = {d->execs.data, kept, inserted};
    for (size_t k = 0; k < OSC_COUNT; k++)
        params[3 + k] = d->spans[k].data;
    for (size_t k = 0; k < OEC_COUNT; k++)
        params[3 + OSC_COUNT + k] = d->events[k].data;
    params[OTLP_ITEMS_COSTS - 1] = costs;
    enum db_status st = db_exec(db, SQL_OTLP_ITEMS, OTLP_ITEMS_COSTS, params, &res);
    if (st != DB_OK)
        return st;
    int rows = PQntuples(res);
    struct live_change *live = xcalloc(rows ? (size_t)rows : 1, sizeof *live);
    for (int row = 0; row < rows; row++) {
        struct live_change *c = &live[row];
        c->execution_id = PQgetvalue(res, row, 0);
        c->node_ids = PQgetisnull(res, row, 4) ? NULL : PQgetvalue(res, row, 4);
        c->added[IT_TELEMETRY_SPANS] = strtoll(PQgetvalue(res, row, 1), NULL, 10);
        c->added[IT_TELEMETRY_EVENTS] = strtoll(PQgetvalue(res, row, 2), NULL, 10);
        c->added[IT_NODE_EXECUTIONS] = strtoll(PQgetvalue(res, row, 3), NULL, 10);
        out->executions++;
        out->spans += c->added[IT_TELEMETRY_SPANS];
        out->events += c->added[IT_TELEMETRY_EVENTS];
        out->node_executions += c->added[IT_NODE_EXECUTIONS];
    }
    if (rows > 0 && rows <= OTLP_LIVE_MAX)
        st = live_announce(db, live, (size_t)rows);
    free(live);
    PQclear(res);
    return st;
}

enum db_status otlp_store(struct db *db, const struct identity *who, const struct otlp_request *req,
                          struct otlp_store_result *out)
{
    struct otlp_place *pl = xcalloc(req->n_resources ? req->n_resources : 1, sizeof *pl);
    struct otlp_plan p = {0};
    struct otlp_docs d;
    struct buf kept, inserted, costs;
    otlp_docs_init(&d);
    buf_init(&kept);
    buf_init(&inserted);
    buf_init(&costs);
    memset(out, 0, sizeof *out);

    enum db_status st = db_exec(db, SQL_OTLP_GENERIC_PLANS, 0, NULL, NULL);
    if (st == DB_OK)
        st = otlp_place(db, who, req, pl);
    if (st != DB_OK)
        goto done;
    otlp_plan_build(req, pl, &p, out);
    if (p.n_refs == 0)
        goto done;
    otlp_plan_json(req, pl, &p, &d);
    if ((st = open_executions(db, &p, &d, &costs, out)) != DB_OK)
        goto done;
    if (ids_literal(&p, KEPT, &kept) == 0)
        goto done;
    ids_literal(&p, INSERTED, &inserted);
    const char *params[2] = {d.nodes.data, kept.data};
    if (p.any_node && (st = db_exec(db, SQL_OTLP_NODES, 2, params, NULL)) != DB_OK)
        goto done;
    st = store_items(db, &d, kept.data, inserted.data, costs.data, out);
done:
    otlp_docs_free(&d);
    buf_free(&kept);
    buf_free(&inserted);
    buf_free(&costs);
    otlp_plan_free(&p);
    free(pl);
    return st;
}
