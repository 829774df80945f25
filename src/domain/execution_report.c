/* The run report (see execution_report.h): the SQL that reads a run and
 * the HTML written from it, section by section, one FETCH batch at a time.
 *
 * Every text that comes from the database goes through html_escape (node
 * names, errors, event data, states are the client's): the document holds
 * no markup of anyone else's. The Content-Security-Policy the handler sends
 * forbids scripts besides. */
#include "domain/execution_report.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/report_html.h"
#include "domain/state_diff.h"
#include "util/buf.h"

#define FETCH_BATCH 500
/* State changes listed per snapshot, at most (state_diff.h). */
#define DIFF_ENTRIES 50

/* A JSON value as text for reading: a string's own text, anything else
 * as JSON. */
#define READABLE(col) "CASE WHEN jsonb_typeof(" col ") = 'string' THEN " col " #>> '{}' ELSE " col "::text END"

/* The run, and the span of the chart: the longest of the run's duration
 * and its node executions' ends (offset plus duration or phases). */
static const char head_sql[] =
    "SELECT e.id, w.name, e.workflow_id, e.session_id, e.status, agora.rfc3339(e.started_at),"
    " agora.rfc3339(e.completed_at), e.duration_ms, " READABLE("e.error") ", e.metadata::text,"
    " e.node_executions_count, e.telemetry_events_count, e.shared_state_snapshots_count,"
    " GREATEST(e.duration_ms::float8, (SELECT max(extract(epoch FROM n.started_at - e.started_at) * 1000"
    "   + GREATEST(COALESCE(extract(epoch FROM n.completed_at - n.started_at) * 1000, 0),"
    "     COALESCE(n.prep_duration_ms, 0) + COALESCE(n.exec_duration_ms, 0) + COALESCE(n.post_duration_ms, 0)))"
    "   FROM agora.node_executions n WHERE n.execution_id = e.id AND n.run_created_at = e.created_at), 0),"
    " e.created_at"
    " FROM agora.executions e JOIN agora.workflows w ON w.id = e.workflow_id WHERE e.id = $1::uuid";

/* The sections' statements: $1 the run, $2 its created_at as head_sql
 * read it (the items' partition, sql/025, without a second look at the
 * run's row). */

/* Node executions in start order, as the timeline; offsets from the run's
 * start ($3). */
static const char nodes_sql[] =
    "SELECT n.node_name, n.status, extract(epoch FROM n.started_at - $3::timestamptz) * 1000,"
    " n.prep_duration_ms, n.exec_duration_ms, n.post_duration_ms,"
    " extract(epoch FROM n.completed_at - n.started_at) * 1000, n.retry_count, n.action"
    " FROM agora.node_executions n WHERE n.execution_id = $1::uuid AND n.run_created_at = $2::timestamptz"
    " ORDER BY n.started_at, n.id";

static const char errors_sql[] =
    "SELECT n.node_name, agora.rfc3339(n.started_at), n.retry_count, " READABLE("n.error") ", n.status"
    " FROM agora.node_executions n WHERE n.execution_id = $1::uuid AND n.run_created_at = $2::timestamptz"
    " AND (n.error IS NOT NULL OR n.status = 'error') ORDER BY n.started_at, n.id";

static const char events_sql[] =
    "SELECT agora.rfc3339(v.\"timestamp\"), v.event_type, v.node_name, v.data::text"
    " FROM agora.telemetry_events v WHERE v.execution_id = $1::uuid AND v.run_created_at = $2::timestamptz"
    " ORDER BY v.\"timestamp\", v.id";

static const char snapshots_sql[] =
    "SELECT x.sequence, agora.rfc3339(x.\"timestamp\"), x.node_name, x.phase, x.state::text"
    " FROM agora.shared_state_snapshots x WHERE x.execution_id = $1::uuid AND x.run_created_at = $2::timestamptz"
    " ORDER BY x.sequence, x.id";

static const char style[] =
    "<style>"
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d2330;background:#fff}"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccd}"
    "table{border-collapse:collapse;width:100%}td,th{border:1px solid #dde;padding:.25em .5em;"
    "text-align:left;vertical-align:top}th{background:#f2f4f8}"
    "pre{margin:0;white-space:pre-wrap;word-break:break-word;font:12px/1.35 ui-monospace,monospace}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}dt{font-weight:600}dd{margin:0}"
    ".gantt .row{display:grid;grid-template-columns:14em 1fr 14em;gap:.5em;align-items:center;"
    "border-bottom:1px solid #eef}.gantt .name{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}"
    ".gantt svg{width:100%;height:14px;display:block;background:#f7f8fb}"
    ".prep{fill:#8fb3d9}.exec{fill:#2f64b5}.post{fill:#d9a441}.row.error .exec{fill:#c2382f}"
    ".legend span{display:inline-block;width:1em;height:.8em;margin:0 .3em 0 1em}"
    ".error-text{color:#a3231b}.note{color:#5b6475}"
    ".changes{margin:0;padding-left:1.2em;font:12px/1.35 ui-monospace,monospace;word-break:break-word}"
    ".changes .changed{color:#7a4a00}.changes .added{color:#1d6b2f}.changes .removed{color:#a3231b}"
    "</style>";

/* What a section's batches write into, and whether the reader is gone. */
struct report {
    struct sink *out;
    struct buf b;      /* the batch's HTML, sent at its end */
    double range_ms;   /* the chart's span */
    char *prev_state;  /* the last snapshot's state, for the next one's changes */
    long rows;
    bool broken;
};

static bool null_at(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) != 0;
}

static void esc(struct buf *b, const PGresult *res, int row, int col)
{
    html_escape(b, PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
}

/* A value of any length, cut at REPORT_VALUE_MAX bytes (at a character
 * boundary: html_escape would mark a cut character as U+FFFD). */
static void esc_value(struct buf *b, const char *text, size_t len)
{
    size_t keep = len;
    if (keep > REPORT_VALUE_MAX) {
        keep = REPORT_VALUE_MAX;
        while (keep > 0 && ((unsigned char)text[keep] & 0xc0) == 0x80)
            keep--;
    }
    html_escape(b, text, keep);
    if (keep < len)
        buf_printf(b, "<span class=\"note\"> [cut: %zu of %zu bytes shown]</span>", keep, len);
}

/* A table row's first n cells: columns 0..n-1 as text. Opens the row. */
static void text_cells(struct buf *b, const PGresult *res, int row, int n)
{
    buf_puts(b, "<tr>");
    for (int c = 0; c < n; c++) {
        buf_puts(b, "<td>");
        esc(b, res, row, c);
        buf_puts(b, "</td>");
    }
}

/* Milliseconds as text: microsecond precision, trailing zeros trimmed. */
static void put_ms(struct buf *b, double ms)
{
    char text[64];
    int n = snprintf(text, sizeof text, "%.3f", ms);
    while (n > 0 && text[n - 1] == '0')
        n--;
    if (n > 0 && text[n - 1] == '.')
        n--;
    buf_append(b, text, (size_t)n);
    buf_puts(b, " ms");
}

static double num_at(const PGresult *res, int row, int col)
{
    return null_at(res, row, col) ? -1 : strtod(PQgetvalue(res, row, col), NULL);
}

/* Sends what the batch wrote; false when the reader went away. */
static bool flush(struct report *r)
{
    if (r->broken)
        return false;
    if (r->b.len && sink_write(r->out, r->b.data, r->b.len) < 0)
        r->broken = true;
    buf_reset(&r->b);
    return !r->broken;
}

static int node_rows(void *ctx, const PGresult *res)
{
    struct report *r = ctx;
    for (int i = 0; i < PQntuples(res); i++) {
        struct gantt_input in = {.started = !null_at(res, i, 2), .offset_ms = num_at(res, i, 2),
                                 .prep_ms = num_at(res, i, 3), .exec_ms = num_at(res, i, 4),
                                 .post_ms = num_at(res, i, 5), .duration_ms = num_at(res, i, 6)};
        struct gantt_bars g;
        bool failed = strcmp(PQgetvalue(res, i, 1), "error") == 0;
        buf_printf(&r->b, "<div class=\"row%s\" data-node=\"", failed ? " error" : "");
        esc(&r->b, res, i, 0);
        buf_puts(&r->b, "\"><span class=\"name\" title=\"");
        esc(&r->b, res, i, 0);
        buf_puts(&r->b, "\">");
        esc(&r->b, res, i, 0);
        buf_puts(&r->b, "</span><svg viewBox=\"0 0 1000 14\" preserveAspectRatio=\"none\" role=\"img\">");
        if (gantt_place(&in, r->range_ms, &g)) {
            double x = g.x;
            if (g.prep > 0)
                buf_printf(&r->b, "<rect class=\"prep\" x=\"%.3f\" y=\"1\" width=\"%.3f\" height=\"12\"/>", x, g.prep);
            x += g.prep;
            if (g.exec > 0)
                buf_printf(&r->b, "<rect class=\"exec\" x=\"%.3f\" y=\"1\" width=\"%.3f\" height=\"12\"/>", x, g.exec);
            x += g.exec;
            if (g.post > 0)
                buf_printf(&r->b, "<rect class=\"post\" x=\"%.3f\" y=\"1\" width=\"%.3f\" height=\"12\"/>", x, g.post);
        }
        buf_puts(&r->b, "</svg><span class=\"note\">");
        esc(&r->b, res, i, 1);
        if (in.duration_ms >= 0) {
            buf_puts(&r->b, ", ");
            put_ms(&r->b, in.duration_ms);
        }
        if (!null_at(res, i, 7) && strcmp(PQgetvalue(res, i, 7), "0") != 0) {
            buf_puts(&r->b, ", retries ");
            esc(&r->b, res, i, 7);
        }
        buf_puts(&r->b, "</span></div>\n");
        r->rows++;
    }
    return flush(r) ? 0 : -1;
}

static int error_rows(void *ctx, const PGresult *res)
{
    struct report *r = ctx;
    for (int i = 0; i < PQntuples(res); i++) {
        text_cells(&r->b, res, i, 3);
        buf_puts(&r->b, "<td class=\"error-text\"><pre>");
        if (null_at(res, i, 3)) {
            buf_puts(&r->b, "(status ");
            esc(&r->b, res, i, 4);
            buf_puts(&r->b, ", no message)");
        } else {
            esc_value(&r->b, PQgetvalue(res, i, 3), (size_t)PQgetlength(res, i, 3));
        }
        buf_puts(&r->b, "</pre></td></tr>\n");
        r->rows++;
    }
    return flush(r) ? 0 : -1;
}

static int event_rows(void *ctx, const PGresult *res)
{
    struct report *r = ctx;
    for (int i = 0; i < PQntuples(res); i++) {
        text_cells(&r->b, res, i, 3);
        buf_puts(&r->b, "<td><pre>");
        esc_value(&r->b, PQgetvalue(res, i, 3), (size_t)PQgetlength(res, i, 3));
        buf_puts(&r->b, "</pre></td></tr>\n");
        r->rows++;
    }
    return flush(r) ? 0 : -1;
}

/* One entry's value, as JSON text, or a note when state_diff left it out
 * for its length. */
static void change_value(struct buf *b, struct json_object *entry, const char *key)
{
    struct json_object *v = json_object_object_get(entry, key), *cut;
    if (json_object_object_get_ex(entry, "truncated", &cut) && json_object_get_boolean(cut) && !v) {
        buf_puts(b, "<span class=\"note\">(too long to show)</span>");
        return;
    }
    size_t len = 0;
    const char *text = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
                                                         &len);
    html_escape(b, text ? text : "null", text ? len : 4);
}

/* The entries of one list of a state_diff_write answer as list items:
 * "~ path: a -> b", "+ path: value", "- path: value". */
static void change_items(struct buf *b, struct json_object *diff, const char *list, const char *mark)
{
    struct json_object *items = json_object_object_get(diff, list);
    size_t n = json_object_is_type(items, json_type_array) ? json_object_array_length(items) : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(items, i);
        const char *path = json_object_get_string(json_object_object_get(e, "path"));
        buf_printf(b, "<li class=\"%s\"><code>%s ", list, mark);
        html_escape(b, path ? path : "", path ? strlen(path) : 0);
        buf_puts(b, "</code>: ");
        if (strcmp(list, "changed") == 0) {
            change_value(b, e, "a");
            buf_puts(b, " &rarr; ");
            change_value(b, e, "b");
        } else {
            change_value(b, e, "value");
        }
        buf_puts(b, "</li>");
    }
}

/* What changed from prev to state (both JSON texts of objects), as a list:
 * changed, added, removed keys. */
static void write_changes(struct buf *b, const char *prev, const char *state)
{
    struct buf text;
    buf_init(&text);
    size_t found = state_diff_write(prev, state, DIFF_ENTRIES, NULL, &text);
    struct json_tokener *tok = json_tokener_new_ex(STATE_DIFF_PARSE_DEPTH);
    if (!tok)
        agora_oom();
    struct json_object *diff = json_tokener_parse_ex(tok, text.data, (int)text.len);
    json_tokener_free(tok);
    buf_puts(b, "<ul class=\"changes\">");
    change_items(b, diff, "changed", "~");
    change_items(b, diff, "added", "+");
    change_items(b, diff, "removed", "&minus;");
    buf_puts(b, "</ul>");
    if (json_object_get_boolean(json_object_object_get(diff, "truncated")))
        buf_printf(b, "<p class=\"note\">The first %d of %zu changes.</p>", DIFF_ENTRIES, found);
    json_object_put(diff);
    buf_free(&text);
}

/* Each snapshot with what changed since the previous one; the first shows
 * its whole state. */
static int snapshot_rows(void *ctx, const PGresult *res)
{
    struct report *r = ctx;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *state = PQgetvalue(res, i, 4);
        text_cells(&r->b, res, i, 4);
        buf_puts(&r->b, "<td>");
        if (r->prev_state) {
            write_changes(&r->b, r->prev_state, state);
        } else {
            buf_puts(&r->b, "<p class=\"note\">The first state:</p><pre>");
            esc_value(&r->b, state, (size_t)PQgetlength(res, i, 4));
            buf_puts(&r->b, "</pre>");
        }
        buf_puts(&r->b, "</td></tr>\n");
        free(r->prev_state);
        r->prev_state = xstrdup(state);
        r->rows++;
    }
    return flush(r) ? 0 : -1;
}

/* The head of the document: the run's fields and its error. res is the
 * head_sql row. */
static void write_head(struct buf *b, const PGresult *res)
{
    static const char *const labels[] = {"Execution", "Workflow", "Workflow id", "Session", "Status",
                                         "Started", "Completed", "Duration (ms)"};
    buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width\"><title>Agora run ");
    esc(b, res, 0, 0);
    buf_puts(b, "</title>");
    buf_puts(b, style);
    buf_puts(b, "</head><body><h1>Run of ");
    esc(b, res, 0, 1);
    buf_puts(b, "</h1><dl>");
    for (int c = 0; c < (int)(sizeof labels / sizeof labels[0]); c++) {
        buf_printf(b, "<dt>%s</dt><dd>", labels[c]);
        if (null_at(res, 0, c))
            buf_puts(b, "<span class=\"note\">none</span>");
        else
            esc(b, res, 0, c);
        buf_puts(b, "</dd>");
    }
    buf_puts(b, "</dl>");
    if (!null_at(res, 0, 9) && strcmp(PQgetvalue(res, 0, 9), "{}") != 0) {
        buf_puts(b, "<h2>Metadata</h2><pre>");
        esc_value(b, PQgetvalue(res, 0, 9), (size_t)PQgetlength(res, 0, 9));
        buf_puts(b, "</pre>");
    }
    buf_puts(b, "<h2 id=\"errors\">Errors</h2>");
    if (!null_at(res, 0, 8)) {
        buf_puts(b, "<p>The run failed with:</p><pre class=\"error-text run-error\">");
        esc_value(b, PQgetvalue(res, 0, 8), (size_t)PQgetlength(res, 0, 8));
        buf_puts(b, "</pre>");
    }
}

/* Runs one section's query into its batch function; false when the
 * document cannot go on (the reader left or the query failed, logged). */
static bool section(struct db *db, struct report *r, const char *sql, int n, const char *const *params,
                    db_batch_fn fn, const char *open, const char *close)
{
    buf_puts(&r->b, open);
    if (!flush(r))
        return false;
    r->rows = 0;
    enum db_status st = db_stream(db, sql, n, params, FETCH_BATCH, fn, r);
    if (st != DB_OK || r->broken) {
        if (!r->broken)
            fprintf(stderr, "agora: report: document cut short, request_id=%s\n",
                    r->out->log_tag ? r->out->log_tag : "-");
        return false;
    }
    buf_puts(&r->b, close);
    return flush(r);
}

enum db_status execution_report(struct db *db, const char *id, struct sink *out)
{
    PGresult *res = NULL;
    const char *params[3] = {id, NULL, NULL};
    enum db_status st = db_exec(db, head_sql, 1, params, &res);
    if (st != DB_OK)
        return st;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return DB_NOT_FOUND;
    }
    struct report r = {.out = out, .range_ms = strtod(PQgetvalue(res, 0, 13), NULL)};
    char started[64], created[64];
    snprintf(started, sizeof started, "%s", PQgetvalue(res, 0, 5));
    snprintf(created, sizeof created, "%s", PQgetvalue(res, 0, 14));
    long nodes = atol(PQgetvalue(res, 0, 10)), events = atol(PQgetvalue(res, 0, 11)),
         snapshots = atol(PQgetvalue(res, 0, 12));
    buf_init(&r.b);
    write_head(&r.b, res);
    PQclear(res);
    params[1] = created;
    params[2] = started;

    /* From here on the answer is the document: a failure can only cut it
     * short (logged by section). */
    if (sink_begin(out) < 0)
        goto done;
    if (!section(db, &r, errors_sql, 2, params, error_rows,
                 "<table class=\"node-errors\"><thead><tr><th>Node</th><th>Started</th><th>Retries</th>"
                 "<th>Error</th></tr></thead><tbody>\n",
                 "</tbody></table>\n"))
        goto done;
    buf_printf(&r.b, "<h2 id=\"gantt\">Node executions (%ld)</h2><p class=\"legend note\">"
                     "<span style=\"background:#8fb3d9\"></span>prep"
                     "<span style=\"background:#2f64b5\"></span>exec"
                     "<span style=\"background:#d9a441\"></span>post"
                     "<span style=\"background:#c2382f\"></span>exec of a failed node; the chart spans ",
               nodes);
    put_ms(&r.b, r.range_ms);
    buf_puts(&r.b, " from the run's start</p>");
    if (!section(db, &r, nodes_sql, 3, params, node_rows, "<div class=\"gantt\">\n", "</div>\n"))
        goto done;
    buf_printf(&r.b, "<h2 id=\"events\">Events (%ld)</h2>", events);
    if (!section(db, &r, events_sql, 2, params, event_rows,
                 "<table class=\"events\"><thead><tr><th>Time</th><th>Type</th><th>Node</th><th>Data</th>"
                 "</tr></thead><tbody>\n",
                 "</tbody></table>\n"))
        goto done;
    buf_printf(&r.b, "<h2 id=\"state\">State changes (%ld snapshots)</h2>", snapshots);
    if (!section(db, &r, snapshots_sql, 2, params, snapshot_rows,
                 "<table class=\"state\"><thead><tr><th>Sequence</th><th>Time</th><th>Node</th><th>Phase</th>"
                 "<th>What changed since the previous snapshot</th></tr></thead><tbody>\n",
                 "</tbody></table>\n"))
        goto done;
    buf_puts(&r.b, "<p class=\"note\">Exported from Agora Cloud.</p></body></html>\n");
    flush(&r);
done:
    free(r.prev_state);
    buf_free(&r.b);
    return DB_OK;
}
