/* GET /api/executions/{id}/critical-path: reads one run's node executions
 * and its workflow's edges under the caller's row-level security (three
 * statements, however large the run), hands them to critical_path.c and
 * words its result as JSON (run_analysis.h; README "Critical path and time
 * breakdown"). */
#include "domain/run_analysis.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pg_json.h"
#include "domain/critical_path.h"
#include "domain/execution_json.h"
#include "util/buf.h"

/* $1 the execution. now(): the transaction's start, the time a running
 * node execution has reached. */
static const char SQL_RUN[] =
    "SELECT e.workflow_id, e.status, agora.rfc3339(e.started_at), agora.rfc3339(e.completed_at), "
    MICROS("e.started_at") ", " MICROS("e.completed_at") ", " MICROS("now()") ", e.created_at"
    " FROM agora.executions e WHERE e.id = $1::uuid";

/* Node executions that started, in start order. $1 the run, $2 its
 * created_at as SQL_RUN read it: the partition (sql/025) without a second
 * look at the run's row. */
static const char SQL_NODES[] =
    "SELECT n.id, n.node_name, n.status, agora.rfc3339(n.started_at), agora.rfc3339(n.completed_at), "
    MICROS("n.started_at") ", " MICROS("n.completed_at") ", n.prep_duration_ms, n.exec_duration_ms,"
    " n.post_duration_ms"
    " FROM agora.node_executions n WHERE n.execution_id = $1::uuid AND n.run_created_at = $2::timestamptz"
    " AND n.started_at IS NOT NULL"
    " ORDER BY n.started_at, n.id";

/* $1 the workflow. */
static const char SQL_EDGES[] =
    "SELECT f.name, t.name FROM agora.workflow_edges x"
    " JOIN agora.workflow_nodes f ON f.id = x.from_node_id"
    " JOIN agora.workflow_nodes t ON t.id = x.to_node_id"
    " WHERE x.workflow_id = $1::uuid";

enum { N_ID, N_NAME, N_STATUS, N_STARTED, N_COMPLETED, N_START_US, N_END_US, N_PREP, N_EXEC, N_POST };

/* Microseconds as a JSON number of milliseconds, exactly (at most three
 * decimals, trailing zeros trimmed), as the read API writes durations. */
static struct json_object *ms_json(int64_t us)
{
    char text[32];
    int64_t whole = us / 1000, frac = llabs(us % 1000);
    int n = snprintf(text, sizeof text, "%s%" PRId64 ".%03" PRId64, us < 0 && whole == 0 ? "-" : "", whole, frac);
    while (n > 0 && text[n - 1] == '0')
        text[--n] = '\0';
    if (n > 0 && text[n - 1] == '.')
        text[--n] = '\0';
    return json_must(json_object_new_double_s((double)us / 1000.0, text));
}

/* Milliseconds to the nearest microsecond (no libm: the one rounding
 * this file needs). */
static int64_t us_of(double ms)
{
    return (int64_t)(ms * 1000.0 + (ms < 0 ? -0.5 : 0.5));
}

static double num_or_nan(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NAN : strtod(PQgetvalue(res, row, col), NULL);
}

static int64_t micros(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* The node executions as critical_path.c takes them; names borrowed from
 * res. One that has not ended: still running, it reaches now; finished
 * without a completed_at, its start plus the phases it reported. */
static struct cp_node *nodes_from(const PGresult *res, int64_t now_us)
{
    int n = PQntuples(res);
    struct cp_node *nodes = xcalloc((size_t)n + 1, sizeof *nodes);
    for (int i = 0; i < n; i++) {
        struct cp_node *x = &nodes[i];
        x->id = strtoll(PQgetvalue(res, i, N_ID), NULL, 10);
        x->name = PQgetvalue(res, i, N_NAME);
        x->start_us = micros(res, i, N_START_US);
        x->prep_ms = num_or_nan(res, i, N_PREP);
        x->exec_ms = num_or_nan(res, i, N_EXEC);
        x->post_ms = num_or_nan(res, i, N_POST);
        if (!PQgetisnull(res, i, N_END_US)) {
            x->end_us = micros(res, i, N_END_US);
        } else if (PQgetisnull(res, i, N_STATUS) || strcmp(PQgetvalue(res, i, N_STATUS), "running") == 0) {
            x->open = true;
            x->end_us = now_us;
        } else {
            double phases = 0;
            phases += isnan(x->prep_ms) ? 0 : x->prep_ms;
            phases += isnan(x->exec_ms) ? 0 : x->exec_ms;
            phases += isnan(x->post_ms) ? 0 : x->post_ms;
            x->end_us = x->start_us + us_of(phases);
        }
        if (x->end_us < x->start_us)
            x->end_us = x->start_us;
    }
    return nodes;
}

static struct cp_edge *edges_from(const PGresult *res)
{
    int n = PQntuples(res);
    struct cp_edge *edges = xcalloc((size_t)n + 1, sizeof *edges);
    for (int i = 0; i < n; i++)
        edges[i] = (struct cp_edge){PQgetvalue(res, i, 0), PQgetvalue(res, i, 1)};
    return edges;
}

static struct json_object *text_or_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : json_must(json_object_new_string(PQgetvalue(res, row, col)));
}

static void add(struct json_object *o, const char *key, struct json_object *v)
{
    json_object_object_add(o, key, v);
}

static struct json_object *path_json(const struct cp_result *r, const struct cp_node *nodes, const PGresult *res,
                                     int64_t start_us)
{
    struct json_object *steps = json_must(json_object_new_array_ext((int)r->nsteps));
    for (size_t s = 0; s < r->nsteps; s++) {
        size_t i = r->steps[s].node;
        const struct cp_node *x = &nodes[i];
        struct json_object *o = json_must(json_object_new_object());
        add(o, "id", json_must(json_object_new_int64(x->id)));
        add(o, "node_name", json_must(json_object_new_string(x->name)));
        add(o, "status", text_or_null(res, (int)i, N_STATUS));
        add(o, "started_at", text_or_null(res, (int)i, N_STARTED));
        add(o, "completed_at", text_or_null(res, (int)i, N_COMPLETED));
        add(o, "open", json_must(json_object_new_boolean(x->open)));
        add(o, "offset_ms", ms_json(x->start_us - start_us));
        add(o, "duration_ms", ms_json(x->end_us - x->start_us));
        add(o, "gap_before_ms", ms_json(r->steps[s].gap_us));
        add(o, "via", json_must(json_object_new_string(cp_via_name(r->steps[s].via))));
        json_object_array_add(steps, o);
    }
    struct json_object *path = json_must(json_object_new_object());
    add(path, "duration_ms", ms_json(r->path_us));
    add(path, "wait_ms", ms_json(r->wait_us));
    add(path, "steps", steps);
    return path;
}

static struct json_object *phase_json(double ms)
{
    return ms_json(us_of(ms));
}

/* Node time no phase accounts for (between phases, or not reported);
 * never below zero, as phases reported by a client may add up to more. */
static struct json_object *other_json(int64_t wall_us, double phases_ms)
{
    int64_t rest = wall_us - us_of(phases_ms);
    return ms_json(rest > 0 ? rest : 0);
}

static struct json_object *breakdown_json(const struct cp_result *r, int64_t start_us)
{
    struct json_object *b = json_must(json_object_new_object());
    add(b, "busy_ms", ms_json(r->busy_us));
    add(b, "parallel_ms", ms_json(r->parallel_us));
    add(b, "idle_ms", ms_json(r->idle_us));

    double prep = 0, exec = 0, post = 0;
    int64_t wall = 0;
    struct json_object *nodes = json_must(json_object_new_array_ext((int)r->ntotals));
    for (size_t k = 0; k < r->ntotals; k++) {
        const struct cp_node_total *t = &r->totals[k];
        struct json_object *o = json_must(json_object_new_object());
        add(o, "node_name", json_must(json_object_new_string(t->name)));
        add(o, "runs", json_must(json_object_new_int64((int64_t)t->runs)));
        add(o, "wall_ms", ms_json(t->wall_us));
        add(o, "prep_ms", phase_json(t->prep_ms));
        add(o, "exec_ms", phase_json(t->exec_ms));
        add(o, "post_ms", phase_json(t->post_ms));
        add(o, "other_ms", other_json(t->wall_us, t->prep_ms + t->exec_ms + t->post_ms));
        add(o, "critical_runs", json_must(json_object_new_int64((int64_t)t->critical_runs)));
        add(o, "critical_ms", ms_json(t->critical_us));
        json_object_array_add(nodes, o);
        prep += t->prep_ms;
        exec += t->exec_ms;
        post += t->post_ms;
        wall += t->wall_us;
    }
    struct json_object *phases = json_must(json_object_new_object());
    add(phases, "prep_ms", phase_json(prep));
    add(phases, "exec_ms", phase_json(exec));
    add(phases, "post_ms", phase_json(post));
    add(phases, "other_ms", other_json(wall, prep + exec + post));
    add(b, "phases", phases);
    add(b, "nodes", nodes);

    struct json_object *largest = json_must(json_object_new_array_ext((int)r->ngaps_listed));
    for (size_t g = 0; g < r->ngaps_listed; g++) {
        const struct cp_gap *gap = &r->gaps[g];
        struct json_object *o = json_must(json_object_new_object());
        add(o, "offset_ms", ms_json(gap->start_us - start_us));
        add(o, "duration_ms", ms_json(gap->end_us - gap->start_us));
        add(o, "after_id", gap->after_id ? json_must(json_object_new_int64(gap->after_id)) : NULL);
        add(o, "before_id", gap->before_id ? json_must(json_object_new_int64(gap->before_id)) : NULL);
        json_object_array_add(largest, o);
    }
    struct json_object *gaps = json_must(json_object_new_object());
    add(gaps, "count", json_must(json_object_new_int64((int64_t)r->ngaps)));
    add(gaps, "total_ms", ms_json(r->idle_us));
    add(gaps, "largest", largest);
    add(b, "gaps", gaps);
    return b;
}

enum db_status execution_critical_path(struct db *db, const char *id, struct json_object **out)
{
    PGresult *run = NULL, *nres = NULL, *eres = NULL;
    struct cp_node *nodes = NULL;
    struct cp_edge *edges = NULL;
    struct cp_result r = {0};
    const char *params[1] = {id};
    enum db_status st;

    *out = NULL;
    if ((st = db_exec(db, SQL_RUN, 1, params, &run)) != DB_OK)
        goto done;
    if (PQntuples(run) != 1) {
        st = DB_NOT_FOUND;
        goto done;
    }
    const char *run_params[2] = {id, PQgetvalue(run, 0, 7)};
    if ((st = db_exec(db, SQL_NODES, 2, run_params, &nres)) != DB_OK)
        goto done;
    const char *wf[1] = {PQgetvalue(run, 0, 0)};
    if ((st = db_exec(db, SQL_EDGES, 1, wf, &eres)) != DB_OK)
        goto done;

    int64_t now_us = micros(run, 0, 6);
    int n = PQntuples(nres);
    nodes = nodes_from(nres, now_us);
    edges = edges_from(eres);
    /* The window: the run's start (or its first node's, if earlier) to its
     * end; one still running reaches now. */
    int64_t start_us = micros(run, 0, 4), end_us;
    for (int i = 0; i < n; i++)
        if (nodes[i].start_us < start_us)
            start_us = nodes[i].start_us;
    bool running = strcmp(PQgetvalue(run, 0, 1), "running") == 0;
    end_us = PQgetisnull(run, 0, 5) ? (running ? now_us : start_us) : micros(run, 0, 5);
    for (int i = 0; i < n; i++)
        if (nodes[i].end_us > end_us)
            end_us = nodes[i].end_us;
    cp_analyze(nodes, (size_t)n, edges, (size_t)PQntuples(eres), start_us, end_us, &r);

    struct json_object *o = json_must(json_object_new_object());
    add(o, "execution_id", json_must(json_object_new_string(id)));
    add(o, "status", json_must(json_object_new_string(PQgetvalue(run, 0, 1))));
    add(o, "started_at", text_or_null(run, 0, 2));
    add(o, "completed_at", text_or_null(run, 0, 3));
    add(o, "running", json_must(json_object_new_boolean(running)));
    add(o, "duration_ms", ms_json(end_us - start_us));
    add(o, "node_executions", json_must(json_object_new_int64(n)));
    add(o, "critical_path", path_json(&r, nodes, nres, start_us));
    add(o, "breakdown", breakdown_json(&r, start_us));
    *out = o;
done:
    cp_result_free(&r);
    free(nodes);
    free(edges);
    PQclear(run);
    PQclear(nres);
    PQclear(eres);
    return st;
}
