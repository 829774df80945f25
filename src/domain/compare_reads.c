/* Comparing two runs (see compare_reads.h): three statements, the rows'
 * text borrowed by the comparison's structs until the answer is written.
 *
 * Snapshots are matched to node executions in SQL: a node execution is
 * the k-th of its node_name in run order (started_at, id; never started
 * last), and its "before" and "after" states are the k-th snapshots of
 * that node_name with that phase by (sequence, id), sequence-less ones
 * last (compare.h). One statement per run numbers both with row_number()
 * and joins them; nothing is queried per node. */
#include "domain/compare_reads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "domain/compare.h"
#include "domain/execution_json.h"
#include "json/json_scan.h"

/* A node execution as the comparison shows it: what the lanes and the
 * table need, a third of the timeline's fields. $2 is its execution's
 * started_at (offset_ms counts from it). */
#define CMP_NODE_JSON                                                                               \
    "json_build_object('id', n.id, 'node_id', n.node_id, 'status', n.status, 'started_at', "        \
    "agora.rfc3339(n.started_at), 'offset_ms', " MS_BETWEEN("$2::timestamptz", "n.started_at")     \
    ", 'duration_ms', " MS_BETWEEN("n.started_at", "n.completed_at") ", 'prep_duration_ms', "       \
    "n.prep_duration_ms, 'exec_duration_ms', n.exec_duration_ms, 'post_duration_ms', "              \
    "n.post_duration_ms, 'retry_count', n.retry_count, 'action', n.action, 'error', n.error)::text"

static const char SQL_EXECUTIONS[] =
    "SELECT e.id::text, " EXEC_JSON("e") ", e.workflow_id::text, e.duration_ms, agora.rfc3339(e.started_at)"
    " FROM agora.executions e WHERE e.id = ANY (ARRAY[$1::uuid, $2::uuid])";

/* Columns: 0 the node's JSON, 1 node_name, 2 status, 3 action, 4 error,
 * 5-7 the phases, 8 duration, 9 retry_count, 10 before, 11 after. */
static const char SQL_NODES[] =
    "WITH n AS (SELECT n.*, row_number() OVER (PARTITION BY n.node_name ORDER BY n.started_at, n.id) AS ord"
    " FROM agora.node_executions n WHERE n.execution_id = $1::uuid),"
    " s AS (SELECT x.node_name, x.phase, x.state,"
    " row_number() OVER (PARTITION BY x.node_name, x.phase ORDER BY x.sequence, x.id) AS ord"
    " FROM agora.shared_state_snapshots x"
    " WHERE x.execution_id = $1::uuid AND x.phase IN ('before', 'after') AND x.node_name IS NOT NULL)"
    " SELECT " CMP_NODE_JSON ", n.node_name, n.status, n.action, n.error::text,"
    " n.prep_duration_ms, n.exec_duration_ms, n.post_duration_ms,"
    " COALESCE(extract(epoch FROM n.completed_at - n.started_at) * 1000,"
    " COALESCE(n.prep_duration_ms, 0) + COALESCE(n.exec_duration_ms, 0) + COALESCE(n.post_duration_ms, 0)),"
    " n.retry_count, sb.state::text, sa.state::text"
    " FROM n LEFT JOIN s sb ON sb.phase = 'before' AND sb.node_name = n.node_name AND sb.ord = n.ord"
    " LEFT JOIN s sa ON sa.phase = 'after' AND sa.node_name = n.node_name AND sa.ord = n.ord"
    " ORDER BY n.started_at, n.id";

/* A run being read: its rows and the structs that borrow their text. */
struct run_rows {
    PGresult *nodes_res;
    struct cmp_node *nodes;
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

/* PostgreSQL's JSON text made compact where it lies (the result's memory
 * is ours until PQclear). */
static char *compact(PGresult *res, int row, int col)
{
    char *text = PQgetvalue(res, row, col);
    text[json_compact(text, text, (size_t)PQgetlength(res, row, col))] = '\0';
    return text;
}

/* The execution's fields from row of SQL_EXECUTIONS, then its nodes. */
static enum db_status read_run(struct db *db, PGresult *execs, int row, struct run_rows *rr)
{
    const char *params[2] = {PQgetvalue(execs, row, 0), PQgetvalue(execs, row, 4)};
    rr->run.id = params[0];
    rr->run.json = compact(execs, row, 1);
    rr->run.workflow_id = text_or_null(execs, row, 2);
    rr->run.duration_ms = number_or_nan(execs, row, 3);
    enum db_status st = db_exec(db, SQL_NODES, 2, params, &rr->nodes_res);
    if (st != DB_OK)
        return st;
    PGresult *res = rr->nodes_res;
    int n = PQntuples(res);
    rr->nodes = xcalloc(n ? (size_t)n : 1, sizeof *rr->nodes);
    for (int i = 0; i < n; i++) {
        struct cmp_node *node = &rr->nodes[i];
        node->json = compact(res, i, 0);
        node->name = PQgetvalue(res, i, 1);
        node->status = text_or_null(res, i, 2);
        node->action = text_or_null(res, i, 3);
        node->error = text_or_null(res, i, 4);
        node->prep_ms = number_or_nan(res, i, 5);
        node->exec_ms = number_or_nan(res, i, 6);
        node->post_ms = number_or_nan(res, i, 7);
        node->duration_ms = number_or_nan(res, i, 8);
        node->retries = PQgetisnull(res, i, 9) ? -1 : strtoll(PQgetvalue(res, i, 9), NULL, 10);
        node->before = text_or_null(res, i, 10);
        node->after = text_or_null(res, i, 11);
    }
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
    PQclear(a.nodes_res);
    PQclear(b.nodes_res);
    PQclear(execs);
    return st;
}
