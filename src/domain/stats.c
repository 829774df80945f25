/* Statistics of a workflow or a project from the hourly rollups (stats.h).
 * Five statements, whatever the number of executions: the scope (404 when
 * invisible), the fold of the project's pending deltas (sql/013, committed
 * at once), the series (one row per bucket, from the hourly rollups),
 * the nodes and the errors (from the daily ones, over the whole UTC days
 * the window touches: days_since, days_until).
 * Counts and the cost are summed by PostgreSQL (the cost exactly, as
 * numeric); the histograms of a bucket or a node come back as one text
 * (string_agg of the hours' and shards' arrays) and are summed and read
 * here (stats_hist.c), since PL/pgSQL would add them element by element
 * far more slowly than C. */
#include "domain/stats.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/pg_json.h"
#include "db/replica.h"
#include "domain/stats_hist.h"
#include "util/timestamp.h"

#define HOUR_US (3600LL * 1000000LL)
#define DAY_US (24 * HOUR_US)

static const char SQL_WORKFLOW[] =
    "SELECT w.name, w.project_id, w.id FROM agora.workflows w WHERE w.id = $1::uuid";
static const char SQL_PROJECT[] =
    "SELECT p.name, p.id, p.id FROM agora.projects p WHERE p.id = $1::uuid";

/* The rollup rows of the scope ($1, col names it) in [$2, $3). */
#define IN_WINDOW(col) " WHERE s." col " = $1::uuid AND s.hour >= $2::timestamptz AND s.hour < $3::timestamptz"
/* The daily rows (nodes, errors) of the days the window touches. */
#define IN_DAYS(col) " WHERE s." col " = $1::uuid AND s.day >= $2::timestamptz AND s.day < $3::timestamptz"

/* One row per bucket ($4: 'hour' or 'day'); the last column is the
 * window's cost, the same on every row. A workflow's from its rows of
 * every shard, a project's from its own rows (sql/013: one per hour, the
 * sum of its workflows'). */
#define SQL_SERIES(table, col)                                                                               \
    "SELECT extract(epoch FROM date_trunc($4, s.hour, 'UTC'))::bigint, sum(s.success), sum(s.error),"        \
    " sum(s.cancelled), sum(s.input_tokens), sum(s.output_tokens), trim_scale(sum(s.cost_usd)),"             \
    " string_agg(s.duration_hist::text, ';'), trim_scale(sum(sum(s.cost_usd)) OVER ())"                     \
    " FROM agora." table " s" IN_WINDOW(col) " GROUP BY 1 ORDER BY 1"

/* Moves the project's pending deltas into the rollups (sql/013); $1 the
 * project. */
static const char SQL_FOLD[] = "SELECT agora.stats_fold($1::uuid)";

/* At most 200 nodes and 10 errors in an answer, the busiest first. */
#define SQL_NODES(col)                                                                                       \
    "SELECT s.workflow_id, w.name, s.node_name, sum(s.runs), sum(s.errors), sum(s.skipped), sum(s.retries),"  \
    " sum(s.input_tokens), sum(s.output_tokens), trim_scale(sum(s.cost_usd)),"                               \
    " string_agg(s.prep_hist::text, ';'), string_agg(s.exec_hist::text, ';'),"                               \
    " string_agg(s.post_hist::text, ';')"                                                                    \
    " FROM agora.stats_nodes_daily s JOIN agora.workflows w ON w.id = s.workflow_id" IN_DAYS(col)         \
    " GROUP BY s.workflow_id, w.name, s.node_name HAVING sum(s.runs) > 0"                                    \
    " ORDER BY sum(s.runs) DESC, w.name, s.node_name LIMIT 200"

#define SQL_ERRORS(col)                                                                                      \
    "SELECT s.workflow_id, w.name, s.message, sum(s.count), agora.rfc3339(max(s.last_seen)),"                \
    " (array_agg(s.example_id ORDER BY s.last_seen DESC))[1]"                                                \
    " FROM agora.stats_errors_daily s JOIN agora.workflows w ON w.id = s.workflow_id" IN_DAYS(col)        \
    " GROUP BY s.workflow_id, w.name, s.message HAVING sum(s.count) > 0"                                     \
    " ORDER BY sum(s.count) DESC, max(s.last_seen) DESC, s.message LIMIT 10"

static const char *const sql_series[] = {SQL_SERIES("stats_executions_hourly", "workflow_id"),
                                         SQL_SERIES("stats_projects_hourly", "project_id")};
static const char *const sql_nodes[] = {SQL_NODES("workflow_id"), SQL_NODES("project_id")};
static const char *const sql_errors[] = {SQL_ERRORS("workflow_id"), SQL_ERRORS("project_id")};

static int64_t floor_to(int64_t us, int64_t step)
{
    int64_t r = us % step;
    return r < 0 ? us - r - step : us - r;
}

int stats_window_make(const int64_t *since_us, const int64_t *until_us, const char *bucket, int64_t now_us,
                      struct stats_window *out, const char **path, const char **why)
{
    *path = NULL;
    *why = NULL;
    if (!bucket || strcmp(bucket, "day") == 0) {
        out->bucket = STATS_DAY;
    } else if (strcmp(bucket, "hour") == 0) {
        out->bucket = STATS_HOUR;
    } else {
        *path = "bucket";
        *why = "bucket must be hour or day";
        return -1;
    }
    int64_t step = out->bucket == STATS_HOUR ? HOUR_US : DAY_US;
    int64_t max = out->bucket == STATS_HOUR ? STATS_MAX_HOURS : STATS_MAX_DAYS;
    int64_t until = until_us ? *until_us : now_us;
    int64_t since = since_us ? *since_us : until - (out->bucket == STATS_HOUR ? DAY_US : 30 * DAY_US);
    if (since >= until) {
        *path = since_us ? "since" : "until";
        *why = since_us ? "since must be before until" : "until must be after since";
        return -1;
    }
    out->since_us = floor_to(since, step);
    out->until_us = floor_to(until, step);
    if (out->until_us < until)
        out->until_us += step;
    if ((out->until_us - out->since_us) / step > max) {
        *path = "since";
        *why = out->bucket == STATS_HOUR ? "the window may span at most 744 hours (31 days) with bucket=hour"
                                         : "the window may span at most 366 days with bucket=day";
        return -1;
    }
    if (out->since_us < TS_MIN_MICROS || out->until_us > TS_MAX_MICROS) {
        *path = "since";
        *why = "the window must lie within the years 0001 to 9999";
        return -1;
    }
    return 0;
}

/* A duration in ms as a JSON number with at most three decimals; null for
 * NaN (no samples). */
static struct json_object *ms_json(double ms)
{
    char text[48];
    if (isnan(ms))
        return NULL;
    int n = snprintf(text, sizeof text, "%.3f", ms);
    while (n > 0 && text[n - 1] == '0')
        text[--n] = '\0';
    if (n > 0 && text[n - 1] == '.')
        text[--n] = '\0';
    return json_must(json_object_new_double_s(strtod(text, NULL), text));
}

/* {"p50","p95","p99"} of h. */
static struct json_object *percentiles_json(const struct hist *h)
{
    struct json_object *o = json_must(json_object_new_object());
    json_object_object_add(o, "p50", ms_json(hist_percentile(h, 0.50)));
    json_object_object_add(o, "p95", ms_json(hist_percentile(h, 0.95)));
    json_object_object_add(o, "p99", ms_json(hist_percentile(h, 0.99)));
    return o;
}

static int64_t int_at(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static struct json_object *int_json(int64_t v)
{
    return json_must(json_object_new_int64(v));
}

static struct json_object *text_json(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : json_must(json_object_new_string(PQgetvalue(res, row, col)));
}

/* A numeric column (the cost) with PostgreSQL's digits; 0 when NULL. */
static struct json_object *numeric_json(const PGresult *res, int row, int col)
{
    const char *text = PQgetisnull(res, row, col) ? "0" : PQgetvalue(res, row, col);
    return json_must(json_object_new_double_s(strtod(text, NULL), text));
}

/* part / whole, or null when whole is 0. */
static struct json_object *rate_json(int64_t part, int64_t whole)
{
    return whole > 0 ? json_must(json_object_new_double((double)part / (double)whole)) : NULL;
}

static struct json_object *time_json(int64_t us)
{
    char text[TS_TEXT_LEN + 1];
    ts_format(us, text);
    return json_must(json_object_new_string(text));
}

/* The counts of one bucket, or of the window (totals). */
struct exec_counts {
    int64_t success, error, cancelled, input_tokens, output_tokens;
};

static struct json_object *counts_json(const struct exec_counts *c, const struct hist *h, struct json_object *cost)
{
    int64_t all = c->success + c->error + c->cancelled;
    struct json_object *o = json_must(json_object_new_object());
    json_object_object_add(o, "executions", int_json(all));
    json_object_object_add(o, "success", int_json(c->success));
    json_object_object_add(o, "error", int_json(c->error));
    json_object_object_add(o, "cancelled", int_json(c->cancelled));
    json_object_object_add(o, "success_rate", rate_json(c->success, all));
    json_object_object_add(o, "duration_ms", percentiles_json(h));
    json_object_object_add(o, "input_tokens", int_json(c->input_tokens));
    json_object_object_add(o, "output_tokens", int_json(c->output_tokens));
    json_object_object_add(o, "cost_usd", cost);
    return o;
}

enum { S_EPOCH, S_SUCCESS, S_ERROR, S_CANCELLED, S_IN, S_OUT, S_COST, S_HIST, S_COST_ALL };

/* "series" (every bucket of the window, empty ones included) and "totals"
 * from the series statement's rows. */
static int series_json(const PGresult *res, const struct stats_window *w, struct json_object *out)
{
    struct hist bucket_hist, total_hist;
    struct exec_counts total = {0};
    int64_t step = w->bucket == STATS_HOUR ? HOUR_US : DAY_US;
    int rows = PQntuples(res), row = 0;
    struct json_object *series = json_must(json_object_new_array());
    hist_clear(&total_hist);
    for (int64_t at = w->since_us; at < w->until_us; at += step) {
        struct exec_counts c = {0};
        struct json_object *cost = NULL;
        hist_clear(&bucket_hist);
        if (row < rows && int_at(res, row, S_EPOCH) * 1000000LL == at) {
            c = (struct exec_counts){int_at(res, row, S_SUCCESS), int_at(res, row, S_ERROR),
                                     int_at(res, row, S_CANCELLED), int_at(res, row, S_IN), int_at(res, row, S_OUT)};
            cost = numeric_json(res, row, S_COST);
            const char *text = PQgetisnull(res, row, S_HIST) ? NULL : PQgetvalue(res, row, S_HIST);
            if (hist_add_text(&bucket_hist, text) < 0 || hist_add_text(&total_hist, text) < 0) {
                json_object_put(series);
                json_object_put(cost);
                return -1;
            }
            row++;
        } else {
            cost = json_must(json_object_new_int(0));
        }
        total.success += c.success;
        total.error += c.error;
        total.cancelled += c.cancelled;
        total.input_tokens += c.input_tokens;
        total.output_tokens += c.output_tokens;
        struct json_object *o = counts_json(&c, &bucket_hist, cost);
        json_object_object_add(o, "start", time_json(at));
        json_object_array_add(series, o);
    }
    struct json_object *cost_all = rows > 0 ? numeric_json(res, 0, S_COST_ALL) : json_must(json_object_new_int(0));
    json_object_object_add(out, "totals", counts_json(&total, &total_hist, cost_all));
    json_object_object_add(out, "series", series);
    return 0;
}

enum { N_WORKFLOW, N_WORKFLOW_NAME, N_NAME, N_RUNS, N_ERRORS, N_SKIPPED, N_RETRIES, N_IN, N_OUT, N_COST, N_PREP };

static const char *const phase_names[] = {"prep_ms", "exec_ms", "post_ms"};

static struct json_object *nodes_json(const PGresult *res)
{
    struct hist h;
    struct json_object *nodes = json_must(json_object_new_array());
    for (int i = 0; i < PQntuples(res); i++) {
        int64_t runs = int_at(res, i, N_RUNS), errors = int_at(res, i, N_ERRORS);
        struct json_object *o = json_must(json_object_new_object());
        json_object_object_add(o, "workflow_id", text_json(res, i, N_WORKFLOW));
        json_object_object_add(o, "workflow_name", text_json(res, i, N_WORKFLOW_NAME));
        json_object_object_add(o, "node_name", text_json(res, i, N_NAME));
        json_object_object_add(o, "runs", int_json(runs));
        json_object_object_add(o, "errors", int_json(errors));
        json_object_object_add(o, "skipped", int_json(int_at(res, i, N_SKIPPED)));
        json_object_object_add(o, "failure_rate", rate_json(errors, runs));
        json_object_object_add(o, "retries", int_json(int_at(res, i, N_RETRIES)));
        for (int p = 0; p < 3; p++) {
            hist_clear(&h);
            if (hist_add_text(&h, PQgetisnull(res, i, N_PREP + p) ? NULL : PQgetvalue(res, i, N_PREP + p)) < 0) {
                json_object_put(o);
                json_object_put(nodes);
                return NULL;
            }
            json_object_object_add(o, phase_names[p], percentiles_json(&h));
        }
        json_object_object_add(o, "input_tokens", int_json(int_at(res, i, N_IN)));
        json_object_object_add(o, "output_tokens", int_json(int_at(res, i, N_OUT)));
        json_object_object_add(o, "cost_usd", numeric_json(res, i, N_COST));
        json_object_array_add(nodes, o);
    }
    return nodes;
}

static struct json_object *errors_json(const PGresult *res)
{
    static const char *const keys[] = {"workflow_id", "workflow_name", "message", "count", "last_seen",
                                       "example_execution_id"};
    struct json_object *errors = json_must(json_object_new_array());
    for (int i = 0; i < PQntuples(res); i++) {
        struct json_object *o = json_must(json_object_new_object());
        for (int k = 0; k < 6; k++)
            json_object_object_add(o, keys[k], k == 3 ? int_json(int_at(res, i, k)) : text_json(res, i, k));
        json_object_array_add(errors, o);
    }
    return errors;
}

enum db_status stats_read(struct db *db, struct db *read_db, long read_wait_ms, const struct identity *who,
                          enum stats_scope scope, const char *id, const struct stats_window *w,
                          struct json_object **out)
{
    char since[TS_TEXT_LEN + 1], until[TS_TEXT_LEN + 1], day_since[TS_TEXT_LEN + 1], day_until[TS_TEXT_LEN + 1];
    ts_format(w->since_us, since);
    ts_format(w->until_us, until);
    ts_format(floor_to(w->since_us, DAY_US), day_since);
    ts_format(w->until_us - floor_to(w->until_us, DAY_US) > 0 ? floor_to(w->until_us, DAY_US) + DAY_US : w->until_us,
              day_until);
    const char *bucket = w->bucket == STATS_HOUR ? "hour" : "day";
    const char *params[] = {id, since, until, bucket}, *days[] = {id, day_since, day_until};
    PGresult *head = NULL, *series = NULL, *nodes = NULL, *errors = NULL;
    struct json_object *o = NULL, *list;
    struct db *rd = db;
    *out = NULL;

    enum db_status st = db_exec(db, scope == STATS_WORKFLOW ? SQL_WORKFLOW : SQL_PROJECT, 1, params, &head);
    if (st != DB_OK)
        goto fail;
    if (PQntuples(head) != 1) {
        st = DB_NOT_FOUND;
        goto fail;
    }
    /* The fold commits on its own, so the project's fold lock and the
     * rollup rows it wrote are not held while the answer is built. */
    const char *project[] = {PQgetvalue(head, 0, 1)};
    if ((st = db_exec(db, SQL_FOLD, 1, project, NULL)) != DB_OK || (st = db_commit(db)) != DB_OK)
        goto fail;
    /* The reads that cost, on the standby once it has the fold. */
    rd = read_db ? db_for_read(db, read_db, read_wait_ms) : db;
    if ((st = db_begin_as(rd, who)) != DB_OK)
        goto fail;
    if ((st = db_exec(rd, sql_series[scope], 4, params, &series)) != DB_OK ||
        (st = db_exec(rd, sql_nodes[scope], 3, days, &nodes)) != DB_OK ||
        (st = db_exec(rd, sql_errors[scope], 3, days, &errors)) != DB_OK)
        goto fail;

    o = json_must(json_object_new_object());
    struct json_object *of = json_must(json_object_new_object());
    json_object_object_add(of, "kind", json_must(json_object_new_string(scope == STATS_WORKFLOW ? "workflow"
                                                                                                  : "project")));
    json_object_object_add(of, "id", text_json(head, 0, 2));
    json_object_object_add(of, "name", text_json(head, 0, 0));
    json_object_object_add(of, "project_id", text_json(head, 0, 1));
    json_object_object_add(o, "scope", of);
    json_object_object_add(o, "since", time_json(w->since_us));
    json_object_object_add(o, "until", time_json(w->until_us));
    json_object_object_add(o, "bucket", json_must(json_object_new_string(bucket)));
    json_object_object_add(o, "days_since", json_must(json_object_new_string(day_since)));
    json_object_object_add(o, "days_until", json_must(json_object_new_string(day_until)));
    json_object_object_add(o, "percentile_relative_error", 
                           json_must(json_object_new_double_s(HIST_REL_ERROR, HIST_REL_ERROR_TEXT)));
    if (series_json(series, w, o) < 0 || !(list = nodes_json(nodes))) {
        st = DB_ERROR;
        goto fail;
    }
    json_object_object_add(o, "nodes", list);
    json_object_object_add(o, "errors", errors_json(errors));
    *out = o;
    o = NULL;
fail:
    if (rd != db) /* nothing written there: end its transaction */
        db_rollback(rd);
    json_object_put(o);
    PQclear(head);
    PQclear(series);
    PQclear(nodes);
    PQclear(errors);
    return st;
}

enum db_status stats_hold(struct db *db, const char *project_id)
{
    const char *params[1] = {project_id};
    return db_exec(db, "SELECT agora.stats_hold($1::uuid)", 1, params, NULL);
}
