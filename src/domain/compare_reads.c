/* Comparing two runs (see compare_reads.h): five statements (the two
 * executions, then each run's snapshots and node executions), the rows'
 * text borrowed by the comparison's structs until the answer is written.
 *
 * The statements read plain columns in the order of their indexes, with
 * no sort, no window and no JSON built per row: the matching of snapshots
 * to node executions (cmp_attach_snapshots), the ordinals and the node
 * executions' JSON are done in C. On 10,000 node executions and 20,000
 * snapshots a run, asking PostgreSQL for them took three times as long
 * (window functions, a sort of the snapshots by name, json_build_object
 * per row), and a join of snapshots to node executions by (name, row
 * number) was planned as a merge on the name alone: 5 s (BENCHMARKS.md,
 * "Comparing two runs"). */
#include "domain/compare_reads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "domain/compare.h"
#include "domain/execution_json.h"
#include "json/json_scan.h"

static const char SQL_EXECUTIONS[] =
    "SELECT e.id::text, " EXEC_JSON("e") ", e.workflow_id::text, e.duration_ms, " MICROS("e.started_at")
    ", e.created_at FROM agora.executions e WHERE e.id = ANY (ARRAY[$1::uuid, $2::uuid])";

/* The items' statements: $1 the run, $2 its created_at as SQL_EXECUTIONS
 * read it, the partition (sql/025) without a second look at the row. */

/* Run order, the (execution_id, started_at, id) index's. Columns: 0 id,
 * 1 node_name, 2 status, 3 action, 4 error, 5-7 the phases, 8 started_at
 * and 9 completed_at in microseconds, 10 retry_count. */
static const char SQL_NODES[] =
    "SELECT n.id::text, n.node_name, n.status, n.action, n.error::text,"
    " n.prep_duration_ms, n.exec_duration_ms, n.post_duration_ms, " MICROS("n.started_at") ", "
    MICROS("n.completed_at") ", n.retry_count"
    " FROM agora.node_executions n WHERE n.execution_id = $1::uuid AND n.run_created_at = $2::timestamptz"
    " ORDER BY n.started_at, n.id";

/* The (execution_id, sequence, id) index's order, which
 * cmp_attach_snapshots counts in. */
static const char SQL_SNAPSHOTS[] =
    "SELECT x.node_name, x.phase, x.state::text FROM agora.shared_state_snapshots x"
    " WHERE x.execution_id = $1::uuid AND x.run_created_at = $2::timestamptz"
    " AND x.phase IN ('after', 'before') AND x.node_name IS NOT NULL"
    " ORDER BY x.sequence, x.id";

/* A run being read: its rows and the structs that borrow their text. */
struct run_rows {
    PGresult *nodes_res, *snaps_res;
    struct cmp_node *nodes;
    struct cmp_snapshot *snaps;
    struct cmp_run run;
};

static const char *text_or_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static double number_or_nan(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NAN : strtod(PQgetvalue(res, row, col), NULL);
}

/* Milliseconds from a to b (microsecond columns), NaN when either is NULL. */
static double ms_between(const PGresult *ra, int rowa, int cola, const PGresult *rb, int rowb, int colb)
{
    if (PQgetisnull(ra, rowa, cola) || PQgetisnull(rb, rowb, colb))
        return NAN;
    long long a = strtoll(PQgetvalue(ra, rowa, cola), NULL, 10), b = strtoll(PQgetvalue(rb, rowb, colb), NULL, 10);
    return (double)(b - a) / 1000;
}

/* PostgreSQL's JSON text made compact where it lies (the result's memory
 * is ours until PQclear); NULL stays NULL. */
static char *compact(PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    char *text = PQgetvalue(res, row, col);
    text[json_compact(text, text, (size_t)PQgetlength(res, row, col))] = '\0';
    return text;
}

/* The execution's fields from row of SQL_EXECUTIONS, then its snapshots
 * and node executions. */
static enum db_status read_run(struct db *db, PGresult *execs, int row, struct run_rows *rr)
{
    const char *params[2] = {PQgetvalue(execs, row, 0), PQgetvalue(execs, row, 5)};
    rr->run.id = params[0];
    rr->run.json = compact(execs, row, 1);
    rr->run.workflow_id = text_or_null(execs, row, 2);
    rr->run.duration_ms = number_or_nan(execs, row, 3);
    enum db_status st = db_exec(db, SQL_SNAPSHOTS, 2, params, &rr->snaps_res);
    if (st == DB_OK)
        st = db_exec(db, SQL_NODES, 2, params, &rr->nodes_res);
    if (st != DB_OK)
        return st;
    PGresult *res = rr->nodes_res, *snaps = rr->snaps_res;
    int n = PQntuples(res), ns = PQntuples(snaps);
    rr->nodes = xcalloc(n ? (size_t)n : 1, sizeof *rr->nodes);
    for (int i = 0; i < n; i++) {
        struct cmp_node *node = &rr->nodes[i];
        node->id = PQgetvalue(res, i, 0);
        node->name = PQgetvalue(res, i, 1);
        node->status = text_or_null(res, i, 2);
        node->action = text_or_null(res, i, 3);
        node->error = compact(res, i, 4);
        node->prep_ms = number_or_nan(res, i, 5);
        node->exec_ms = number_or_nan(res, i, 6);
        node->post_ms = number_or_nan(res, i, 7);
        node->offset_ms = ms_between(execs, row, 4, res, i, 8);
        node->duration_ms = ms_between(res, i, 8, res, i, 9);
        node->retries = PQgetisnull(res, i, 10) ? -1 : strtoll(PQgetvalue(res, i, 10), NULL, 10);
    }
    rr->snaps = xcalloc(ns ? (size_t)ns : 1, sizeof *rr->snaps);
    for (int i = 0; i < ns; i++)
        rr->snaps[i] = (struct cmp_snapshot){PQgetvalue(snaps, i, 0), PQgetvalue(snaps, i, 1), PQgetvalue(snaps, i, 2)};
    cmp_attach_snapshots(rr->nodes, (size_t)n, rr->snaps, (size_t)ns);
    rr->run.nodes = rr->nodes;
    rr->run.n = (size_t)n;
    return DB_OK;
}

/* The row of SQL_EXECUTIONS with this id, or -1. */
static int row_of(const PGresult *res, const char *id)
{
    for (int i = 0; i < PQntuples(res); i++)
        if (strcmp(PQgetvalue(res, i, 0), id) == 0)
            return i;
    return -1;
}

enum db_status executions_compare(struct db *db, const char *a_id, const char *b_id,
                                  const struct compare_options *opt, struct buf *out)
{
    const char *params[2] = {a_id, b_id};
    PGresult *execs = NULL;
    struct run_rows a = {0}, b = {0};
    struct cmp_result res = {0};
    enum db_status st = db_exec(db, SQL_EXECUTIONS, 2, params, &execs);
    if (st != DB_OK)
        goto fail;
    int ra = row_of(execs, a_id), rb = row_of(execs, b_id);
    if (ra < 0 || rb < 0) {
        st = DB_NOT_FOUND;
        goto fail;
    }
    st = read_run(db, execs, ra, &a);
    if (st != DB_OK)
        goto fail;
    if (ra == rb) {
        /* A run with itself: the same rows on both sides. */
        b.run = a.run;
    } else if ((st = read_run(db, execs, rb, &b)) != DB_OK) {
        goto fail;
    }
    compare_runs(&a.run, &b.run, &res);
    compare_json_write(&a.run, &b.run, &res, opt, out);
fail:
    compare_result_free(&res);
    free(a.nodes);
    free(b.nodes);
    free(a.snaps);
    free(b.snaps);
    PQclear(a.nodes_res);
    PQclear(b.nodes_res);
    PQclear(a.snaps_res);
    PQclear(b.snaps_res);
    PQclear(execs);
    return st;
}
