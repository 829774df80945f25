/* Reading executions and their telemetry (see execution_reads.h): the SQL
 * behind the read routes and the export, and the writer that streams its
 * rows to the client.
 *
 * PostgreSQL builds each row's JSON text (json_build_object(...)::text,
 * timestamps through agora.rfc3339), so this file never parses or rebuilds
 * a row: it copies the text between "[" "," "]" straight to the response,
 * one FETCH batch at a time (db_stream).
 *
 * Lists are keyset-paged. Each paged query returns three columns: the
 * row's JSON, its sort key as a bigint (microseconds since the epoch, or a
 * snapshot's sequence) and its id; it asks for limit + 1 rows, and the
 * extra row only says there is a next page, whose cursor is the key of the
 * last row sent. A position is "strictly after (key, id)" in the list's
 * order, which the (scope, key, id) indexes serve directly: a page costs
 * the same at any depth, and rows inserted meanwhile can neither repeat
 * nor hide one already listed.
 *
 * since_id (a live viewer's "what is new") is one more condition on the
 * item id, beside the order and the position, so it pages like any filter.
 *
 * SQL text is assembled only from the fixed fragments below, chosen by
 * which filters are present; every value travels as a $n parameter. */
#include "domain/execution_reads.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/execution_json.h"
#include "json/json_scan.h"
#include "util/buf.h"
#include "util/uuid.h"

#define FETCH_BATCH 1000
#define MAX_SQL_PARAMS 12

/* Snapshots without a sequence sort last; their cursors carry this. */
#define SEQ_NULL INT64_MAX

/* A statement being assembled: fixed fragments and numbered parameters. */
struct sql {
    struct buf text;
    const char *params[MAX_SQL_PARAMS];
    int n;
    char limit[16];  /* parameter texts the statement owns */
    char seq[24];
};

/* Adds a parameter (borrowed: it must outlive the statement) and returns
 * its number for $n. */
static int param(struct sql *s, const char *value)
{
    if (s->n == MAX_SQL_PARAMS)
        abort(); /* a programming error: the fragments below need fewer */
    s->params[s->n++] = value;
    return s->n;
}

/* The LIMIT parameter: limit + 1 rows, the extra one telling whether a
 * next page exists. */
static int limit_param(struct sql *s, int limit)
{
    snprintf(s->limit, sizeof s->limit, "%d", limit + 1);
    return param(s, s->limit);
}

/* ------------------------------------------------------------------ streaming */

/* What a streamed answer looks like around its rows. */
struct stream {
    struct sink *out;
    const char *head;  /* sent with the headers: everything up to the "[" */
    int limit;         /* rows to send; 0: all of them */
    bool paged;        /* ends with "next_cursor" */
    bool ndjson;       /* one row a line, no head, commas or tail */
    int count;         /* rows sent (of this query or section) */
    bool more;         /* a row beyond limit exists */
    bool broken;       /* the client went away */
    struct cursor last;
};

/* db_batch_fn: sends the headers and the head before the first row (once
 * the first batch arrived), then each row's JSON text. Stops at the row
 * beyond the limit, remembering that there is one. */
static int stream_batch(void *ctx, const PGresult *res)
{
    struct stream *s = ctx;

    if (!s->out->begun && (sink_begin(s->out) < 0 || sink_write(s->out, s->head, strlen(s->head)) < 0)) {
        s->broken = true;
        return -1;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        if (s->limit && s->count == s->limit) {
            s->more = true;
            return -1;
        }
        /* Compacted in place: the result's memory is ours until PQclear. */
        char *row = PQgetvalue(res, i, 0);
        size_t len = json_compact(row, row, (size_t)PQgetlength(res, i, 0));
        if ((!s->ndjson && s->count > 0 && sink_write(s->out, ",", 1) < 0) || sink_write(s->out, row, len) < 0 ||
            (s->ndjson && sink_write(s->out, "\n", 1) < 0)) {
            s->broken = true;
            return -1;
        }
        s->count++;
        if (s->paged) {
            s->last.micros = strtoll(PQgetvalue(res, i, 1), NULL, 10);
            snprintf(s->last.id, sizeof s->last.id, "%s", PQgetvalue(res, i, 2));
        }
    }
    return 0;
}

/* Streams the rows of q into the answer s (headers and head before the
 * first row); frees q's text. Several queries may feed one answer. */
static enum db_status stream_rows(struct db *db, struct sql *q, struct stream *s)
{
    enum db_status st = db_stream(db, q->text.data, q->n, q->params, FETCH_BATCH, stream_batch, s);
    buf_free(&q->text);
    return st;
}

/* Closes the answer after its last query, st being how that went: "]"
 * and, when paged, the next cursor. Keeps the reply contract of
 * executions.h. */
static enum db_status stream_end(enum db_status st, struct stream *s)
{
    if (st != DB_OK && !s->out->begun)
        return st;
    if (st != DB_OK || s->broken) {
        if (!s->broken)
            fprintf(stderr, "agora: executions: answer cut short after %d rows, request_id=%s\n", s->count,
                    s->out->log_tag ? s->out->log_tag : "-");
        return DB_OK;
    }
    if (s->ndjson)
        return DB_OK;
    struct buf tail;
    buf_init(&tail);
    buf_putc(&tail, ']');
    if (s->paged) {
        buf_puts(&tail, ",\"next_cursor\":");
        if (s->more) {
            char text[CURSOR_TEXT_MAX + 1];
            cursor_encode(&s->last, text);
            buf_json_string(&tail, text, strlen(text));
        } else {
            buf_puts(&tail, "null");
        }
    }
    buf_puts(&tail, "}\n");
    sink_write(s->out, tail.data, tail.len);
    buf_free(&tail);
    return DB_OK;
}

static enum db_status stream_answer(struct db *db, struct sql *q, struct stream *s)
{
    return stream_end(stream_rows(db, q, s), s);
}

/* ------------------------------------------------------------------ cursors */

int exec_after_from_cursor(const struct cursor *c, bool items, bool sequence, struct exec_after *out)
{
    memset(out, 0, sizeof *out);
    if (items) {
        /* A positive decimal bigint without leading zeros. */
        size_t len = strlen(c->id);
        if (len == 0 || len > 19 || c->id[0] == '0' || strspn(c->id, "0123456789") != len)
            return -1;
        if (len == 19 && strcmp(c->id, "9223372036854775807") > 0)
            return -1;
        snprintf(out->id, sizeof out->id, "%s", c->id);
    } else {
        if (!uuid_valid(c->id))
            return -1;
        uuid_lower(c->id, out->id);
    }
    if (sequence) {
        out->seq_null = c->micros == SEQ_NULL;
        if (!out->seq_null && (c->micros < INT32_MIN || c->micros > INT32_MAX))
            return -1;
        out->seq = (long long)c->micros;
    } else {
        if (c->micros < TS_MIN_MICROS || c->micros > TS_MAX_MICROS)
            return -1;
        ts_format(c->micros, out->ts);
    }
    out->set = true;
    return 0;
}

/* ------------------------------------------------------------------ the list */

/* The filters every branch applies to alias e, and the position after
 * (borrowed, as every parameter: it must outlive the statement). */
static void list_conditions(struct sql *s, const struct exec_list_query *q, const struct exec_after *after)
{
    if (q->workflow_id)
        buf_printf(&s->text, " AND e.workflow_id = $%d::uuid", param(s, q->workflow_id));
    if (q->project_id)
        buf_printf(&s->text, " AND e.project_id = $%d::uuid", param(s, q->project_id));
    if (q->status)
        buf_printf(&s->text, " AND e.status = $%d", param(s, q->status));
    if (q->session_id)
        buf_printf(&s->text, " AND e.session_id = $%d", param(s, q->session_id));
    /* The node's id (one probe of workflow_nodes' (workflow_id, name)
     * key, an InitPlan), then "ran it" is one probe of sql/017's
     * node_executions (node_id, execution_id) index per execution the
     * workflow's index walks newest first: a page stops after limit + 1
     * hits. For a node that ran rarely PostgreSQL may instead read the
     * node's entries of that index (all its executions), sort them and
     * probe the executions by id: either plan is bounded by an index. */
    if (q->node_name && q->workflow_id)
        buf_printf(&s->text,
                   " AND EXISTS (SELECT 1 FROM agora.node_executions n WHERE n.execution_id = e.id"
                   " AND n.node_id = (SELECT wn.id FROM agora.workflow_nodes wn"
                   " WHERE wn.workflow_id = $%d::uuid AND wn.name = $%d))",
                   param(s, q->workflow_id), param(s, q->node_name));
    if (q->since)
        buf_printf(&s->text, " AND e.started_at >= $%d::timestamptz", param(s, q->since));
    if (q->until)
        buf_printf(&s->text, " AND e.started_at < $%d::timestamptz", param(s, q->until));
    if (after->set) {
        int ts = param(s, after->ts), id = param(s, after->id);
        buf_printf(&s->text, " AND (e.started_at, e.id) < ($%d::timestamptz, $%d::uuid)", ts, id);
    }
}

#define LIST_COLUMNS EXEC_JSON_COUNTS("e") ", " MICROS("e.started_at") ", e.id::text"
#define NEWEST_FIRST " ORDER BY e.started_at DESC, e.id DESC LIMIT $%d"

/* The list's statement for q: a page of q->limit rows (plus one). */
static void list_sql(struct sql *s, const struct identity *who, const struct exec_list_query *q)
{
    struct exec_list_query scoped = *q;
    memset(s, 0, sizeof *s);
    buf_init(&s->text);

    /* The driving index follows the narrowest scope: a workflow, then a
     * project (an API key is always confined to its own), else each of the
     * user's organizations separately (LATERAL), merged: a top-N of at most
     * (organizations x (limit + 1)) rows, never a sort of the table. Within
     * an organization PostgreSQL picks the (organization, session_id |
     * status, started_at, id) index when that filter is present. */
    if (!scoped.workflow_id && !scoped.project_id && who->kind == CALLER_API_KEY)
        scoped.project_id = who->project_id;
    if (scoped.workflow_id || scoped.project_id) {
        buf_puts(&s->text, "SELECT " LIST_COLUMNS " FROM agora.executions e WHERE true");
        list_conditions(s, &scoped, &q->after);
        /* With a session_id filter, naming the organization lets
         * PostgreSQL drive from the (organization, session_id) index
         * instead, rather than walk the scope's whole index to find a rare
         * session. The scope's organization is the API key's, or looked up
         * (visibility applies: NULL, hence no rows, when unseen). Not for
         * status: with only four values it would trade the ordered scan
         * for a bitmap and a sort that grow with the project. */
        if (scoped.session_id) {
            if (who->kind == CALLER_API_KEY)
                buf_printf(&s->text, " AND e.organization_id = $%d::uuid", param(s, who->org_id));
            else if (scoped.workflow_id)
                buf_printf(&s->text, " AND e.organization_id = (SELECT w.organization_id FROM agora.workflows w"
                                    " WHERE w.id = $%d::uuid)", param(s, scoped.workflow_id));
            else
                buf_printf(&s->text, " AND e.organization_id = (SELECT p.organization_id FROM agora.projects p"
                                    " WHERE p.id = $%d::uuid)", param(s, scoped.project_id));
        }
        buf_printf(&s->text, NEWEST_FIRST, limit_param(s, q->limit));
    } else {
        buf_puts(&s->text, "SELECT " LIST_COLUMNS " FROM unnest(agora.read_orgs()) AS o(id)"
                          " CROSS JOIN LATERAL (SELECT e.* FROM agora.executions e"
                          " WHERE e.organization_id = o.id");
        list_conditions(s, &scoped, &q->after);
        int lim = limit_param(s, q->limit);
        buf_printf(&s->text, NEWEST_FIRST ") e" NEWEST_FIRST, lim, lim);
    }
}

enum db_status executions_list(struct db *db, const struct identity *who, const struct exec_list_query *q,
                               struct sink *out)
{
    struct sql s;
    list_sql(&s, who, q);
    struct stream st = {.out = out, .head = "{\"items\":[", .limit = q->limit, .paged = true,
                        .last.scope = q->scope};
    return stream_answer(db, &s, &st);
}

enum db_status executions_list_ndjson(struct db *db, const struct identity *who, const struct exec_list_query *q,
                                      struct sink *out)
{
    struct exec_list_query page = *q;
    page.limit = FETCH_BATCH;
    struct stream st = {.out = out, .head = "", .limit = page.limit, .paged = true, .ndjson = true};
    int sent = 0;
    for (;;) {
        struct sql s;
        list_sql(&s, who, &page);
        enum db_status rc = stream_rows(db, &s, &st);
        sent += st.count;
        if (rc != DB_OK || st.broken || !st.more) {
            st.count = sent;
            return stream_end(rc, &st);
        }
        /* The next page starts strictly after the last row sent: the
         * keyset position a next_cursor would carry. */
        page.after.set = true;
        ts_format(st.last.micros, page.after.ts);
        snprintf(page.after.id, sizeof page.after.id, "%s", st.last.id);
        st.count = 0;
        st.more = false;
    }
}

/* ------------------------------------------------------------------ one execution */

/* Runs a query expected to return one row of one text column. DB_OK with
 * *res holding it (the caller PQclears), DB_NOT_FOUND when there is no row
 * (the execution is invisible), or the failure. */
static enum db_status one_row(struct db *db, const char *sql, const char *id, PGresult **res)
{
    const char *params[1] = {id};
    enum db_status st = db_exec(db, sql, 1, params, res);
    if (st == DB_OK && PQntuples(*res) != 1) {
        PQclear(*res);
        *res = NULL;
        st = DB_NOT_FOUND;
    }
    return st;
}

enum db_status execution_get(struct db *db, const char *id, struct sink *out)
{
    PGresult *res = NULL;
    enum db_status st = one_row(db,
                                "SELECT " EXEC_JSON_COUNTS("e") " FROM agora.executions e WHERE e.id = $1::uuid",
                                id, &res);
    if (st == DB_OK) {
        char *row = PQgetvalue(res, 0, 0);
        if (sink_begin(out) == 0 && sink_write(out, row, json_compact(row, row, (size_t)PQgetlength(res, 0, 0))) == 0)
            sink_write(out, "\n", 1);
    }
    PQclear(res);
    return st;
}

enum db_status execution_timeline(struct db *db, const char *id, struct sink *sink)
{
    PGresult *res = NULL;
    enum db_status st = one_row(db,
                                "SELECT " EXEC_JSON("e") ", agora.rfc3339(e.started_at), e.created_at"
                                " FROM agora.executions e WHERE e.id = $1::uuid",
                                id, &res);
    if (st != DB_OK)
        return st;
    struct buf head;
    buf_init(&head);
    buf_puts(&head, "{\"execution\":");
    char *exec_json = PQgetvalue(res, 0, 0);
    buf_append(&head, exec_json, json_compact(exec_json, exec_json, (size_t)PQgetlength(res, 0, 0)));
    buf_puts(&head, ",\"node_executions\":[");

    /* Start order, nodes that never started last: the index order of
     * (execution_id, started_at, id), so no sort. */
    struct sql s = {0};
    buf_init(&s.text);
    param(&s, id);
    param(&s, PQgetvalue(res, 0, 1));
    /* The run's created_at, read with its row: its partition (sql/025)
     * without a second look at the row. */
    param(&s, PQgetvalue(res, 0, 2));
    buf_puts(&s.text, "SELECT " NODE_JSON " FROM agora.node_executions n WHERE n.execution_id = $1::uuid"
                      " AND n.run_created_at = $3::timestamptz ORDER BY n.started_at, n.id");
    struct stream out = {.out = sink, .head = head.data};
    st = stream_answer(db, &s, &out);
    buf_free(&head);
    PQclear(res);
    return st;
}

/* ------------------------------------------------------------------ items */

/* The run's created_at as text, into at (RUN_AT_MAX): the value its items
 * are partitioned by (sql/025). Read under the caller's identity, so an
 * unseen or unknown run is DB_NOT_FOUND as before. The existence check
 * the item routes made anyway, now returning the one column that lets
 * their statement name the partition instead of looking the row up again. */
#define RUN_AT_MAX 64
static enum db_status run_created_at(struct db *db, const char *id, char at[RUN_AT_MAX])
{
    PGresult *res = NULL;
    enum db_status st = one_row(db, "SELECT e.created_at FROM agora.executions e WHERE e.id = $1::uuid", id, &res);
    if (st == DB_OK)
        snprintf(at, RUN_AT_MAX, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return st;
}

/* Spans by (start_time, id) and events by ("timestamp", id): both NOT NULL,
 * so the position is one row comparison the index serves. */
static void timed_items_sql(struct sql *s, const char *id, const char *at, enum exec_items_kind kind,
                            const struct exec_items_query *q)
{
    const char *alias = kind == EXEC_SPANS ? "s" : "v";
    const char *col = kind == EXEC_SPANS ? "s.start_time" : "v.\"timestamp\"";

    if (kind == EXEC_SPANS)
        buf_puts(&s->text, "SELECT " SPAN_JSON ", " MICROS("s.start_time") ", s.id::text"
                           " FROM agora.telemetry_spans s");
    else
        buf_puts(&s->text, "SELECT " EVENT_JSON ", " MICROS("v.\"timestamp\"") ", v.id::text"
                           " FROM agora.telemetry_events v");
    int idp = param(s, id), atp = param(s, at);
    buf_printf(&s->text, " WHERE %s.execution_id = $%d::uuid AND %s.run_created_at = $%d::timestamptz", alias, idp,
               alias, atp);
    /* Checked inside the (execution_id, key, id) index, or by a scan of
     * the primary key from since_id when PostgreSQL expects fewer rows
     * there (docs/DESIGN.md, "Telemetry: reads", has both plans). */
    if (q->since_id)
        buf_printf(&s->text, " AND %s.id > $%d::bigint", alias, param(s, q->since_id));
    if (kind == EXEC_EVENTS && q->event_type)
        buf_printf(&s->text, " AND v.event_type = $%d", param(s, q->event_type));
    if (kind == EXEC_EVENTS && q->node_name)
        buf_printf(&s->text, " AND v.node_name = $%d", param(s, q->node_name));
    if (q->after.set) {
        int ts = param(s, q->after.ts), after = param(s, q->after.id);
        buf_printf(&s->text, " AND (%s, %s.id) > ($%d::timestamptz, $%d::bigint)", col, alias, ts, after);
    }
    buf_printf(&s->text, " ORDER BY %s, %s.id", col, alias);
    if (q->limit)
        buf_printf(&s->text, " LIMIT $%d", limit_param(s, q->limit));
}

/* $1 the run, $2 its created_at (its partition). */
#define SNAPSHOT_SELECT                                                                             \
    "SELECT " SNAPSHOT_JSON ", COALESCE(x.sequence::bigint, 9223372036854775807), x.id::text"      \
    " FROM agora.shared_state_snapshots x WHERE x.execution_id = $1::uuid"                          \
    " AND x.run_created_at = $2::timestamptz"

/* Which snapshots a query reads, in (sequence NULLS LAST, id) order, the
 * order of the (execution_id, sequence, id) index. */
enum snap_part {
    SNAP_FROM_START,  /* all of them, or all after a position without sequence */
    SNAP_AFTER_SEQ,   /* those with a sequence, after a position with one */
    SNAP_NULL_SEQ,    /* those without a sequence */
};

/* rows: how many rows the answer still takes (LIMIT rows + 1), or -1 for
 * no limit. */
static void snapshots_sql(struct sql *s, const char *id, const char *at, enum snap_part part,
                          const struct exec_items_query *q, int rows)
{
    const struct exec_after *after = &q->after;
    param(s, id);
    param(s, at);
    buf_puts(&s->text, SNAPSHOT_SELECT);
    if (q->since_id)
        buf_printf(&s->text, " AND x.id > $%d::bigint", param(s, q->since_id));
    if (part == SNAP_AFTER_SEQ) {
        snprintf(s->seq, sizeof s->seq, "%lld", after->seq);
        int sp = param(s, s->seq), ip = param(s, after->id);
        buf_printf(&s->text, " AND (x.sequence, x.id) > ($%d::integer, $%d::bigint)", sp, ip);
    } else if (part == SNAP_NULL_SEQ) {
        buf_puts(&s->text, " AND x.sequence IS NULL");
    }
    if (part != SNAP_AFTER_SEQ && after->set && after->seq_null)
        buf_printf(&s->text, " AND x.sequence IS NULL AND x.id > $%d::bigint", param(s, after->id));
    buf_puts(&s->text, " ORDER BY x.sequence, x.id");
    if (rows >= 0)
        buf_printf(&s->text, " LIMIT $%d", limit_param(s, rows));
}

/* Snapshots after a position with a sequence: the rest of those with a
 * sequence, then every one without. Two queries, each one index range in
 * order: a single "(sequence, id) > (...) OR sequence IS NULL" would
 * defeat the index, and PostgreSQL sorts a UNION ALL of the two instead
 * of merging them. */
static enum db_status snapshots_after_seq(struct db *db, const char *id, const char *at,
                                          const struct exec_items_query *q, struct stream *out)
{
    struct sql s = {0};
    buf_init(&s.text);
    snapshots_sql(&s, id, at, SNAP_AFTER_SEQ, q, q->limit ? q->limit : -1);
    enum db_status st = stream_rows(db, &s, out);
    if (st == DB_OK && !out->more && !out->broken) {
        struct sql nulls = {0};
        buf_init(&nulls.text);
        snapshots_sql(&nulls, id, at, SNAP_NULL_SEQ, q, q->limit ? q->limit - out->count : -1);
        st = stream_rows(db, &nulls, out);
    }
    return stream_end(st, out);
}

enum db_status execution_items(struct db *db, const char *id, enum exec_items_kind kind,
                               const struct exec_items_query *q, struct sink *sink)
{
    char at[RUN_AT_MAX];
    enum db_status st = run_created_at(db, id, at);
    if (st != DB_OK)
        return st;
    struct stream out = {.out = sink, .head = "{\"items\":[", .limit = q->limit, .paged = true,
                         .last.scope = q->scope};
    if (kind == EXEC_SNAPSHOTS && q->after.set && !q->after.seq_null)
        return snapshots_after_seq(db, id, at, q, &out);
    struct sql s = {0};
    buf_init(&s.text);
    if (kind == EXEC_SNAPSHOTS)
        snapshots_sql(&s, id, at, SNAP_FROM_START, q, q->limit ? q->limit : -1);
    else
        timed_items_sql(&s, id, at, kind, q);
    return stream_answer(db, &s, &out);
}

/* ------------------------------------------------------------------ export */

/* The export's tables in their read routes' orders (each one index range
 * of its execution, no sort), so two exports of equal runs are equal. $1
 * the run, $2 its created_at, read with its row: each table's partition
 * (sql/025) without a second look at the row. */
static const struct {
    const char *head; /* written before the table's first row */
    const char *sql;
} export_tables[] = {
    {",\"node_executions\":[",
     "SELECT " EXPORT_NODE_JSON " FROM agora.node_executions n WHERE n.execution_id = $1::uuid"
     " AND n.run_created_at = $2::timestamptz"
     " ORDER BY n.started_at, n.id"},
    {"],\"telemetry_events\":[",
     "SELECT " EXPORT_EVENT_JSON " FROM agora.telemetry_events v WHERE v.execution_id = $1::uuid"
     " AND v.run_created_at = $2::timestamptz"
     " ORDER BY v.\"timestamp\", v.id"},
    {"],\"telemetry_spans\":[",
     "SELECT " EXPORT_SPAN_JSON " FROM agora.telemetry_spans s WHERE s.execution_id = $1::uuid"
     " AND s.run_created_at = $2::timestamptz"
     " ORDER BY s.start_time, s.id"},
    {"],\"shared_state_snapshots\":[",
     "SELECT " EXPORT_SNAPSHOT_JSON " FROM agora.shared_state_snapshots x WHERE x.execution_id = $1::uuid"
     " AND x.run_created_at = $2::timestamptz"
     " ORDER BY x.sequence, x.id"},
};

enum db_status execution_export(struct db *db, const char *id, struct sink *sink)
{
    PGresult *res = NULL;
    enum db_status st = one_row(db,
                                "SELECT " EXPORT_EXEC_OPEN ", e.created_at FROM agora.executions e"
                                " WHERE e.id = $1::uuid",
                                id, &res);
    if (st != DB_OK)
        return st;
    char at[RUN_AT_MAX];
    snprintf(at, sizeof at, "%s", PQgetvalue(res, 0, 1));
    /* The execution's object without its closing brace, then its tables. */
    struct buf head;
    buf_init(&head);
    char *exec_json = PQgetvalue(res, 0, 0);
    size_t len = json_compact(exec_json, exec_json, (size_t)PQgetlength(res, 0, 0));
    buf_append(&head, exec_json, len > 0 ? len - 1 : 0);
    buf_puts(&head, export_tables[0].head);
    PQclear(res);

    struct stream out = {.out = sink, .head = head.data};
    int rows = 0;
    for (size_t i = 0; i < sizeof export_tables / sizeof export_tables[0] && st == DB_OK && !out.broken; i++) {
        /* The first table's head goes with the headers (stream_batch). */
        if (i > 0 && sink_write(sink, export_tables[i].head, strlen(export_tables[i].head)) < 0) {
            out.broken = true;
            break;
        }
        rows += out.count;
        out.count = 0;
        const char *params[2] = {id, at};
        st = db_stream(db, export_tables[i].sql, 2, params, FETCH_BATCH, stream_batch, &out);
    }
    out.count += rows;
    buf_free(&head);
    return stream_end(st, &out);
}
