/* The live messages of a committed ingest (live_announce.h, docs/LIVE.md
 * section 3). PostgreSQL builds them from the rows as stored, with the read
 * routes' own JSON (execution_json.h), so a message can never hold a field
 * the API would not show its subscriber, nor disagree with it.
 *
 * Each notification's payload is "<channel> <message>". The execution's
 * channel gets the whole message: the execution as GET shows it, what the
 * ingest added, and the node executions it wrote. The project's channel
 * gets a row (LIVE_PROJECT_COLUMNS): of the execution only the members a
 * row of the list shows, as values without their keys, and neither
 * `added` nor node executions, because nginx writes each of its messages
 * to every subscriber of the project (BENCHMARKS.md, "Live monitoring");
 * agora-live puts a window's rows under one head (live_batch.h). A
 * message (or row) that would not fit NOTIFY goes out truncated: no node
 * executions, no error, metadata or session_id (the members whose size
 * the client decides; what is left has a bounded size, so a truncated
 * message always fits), "truncated": true; the client reads what it needs
 * from the API. */
#include "domain/live_announce.h"

#include <stdio.h>
#include <string.h>

#include "domain/execution_json.h"
#include "util/buf.h"

#define MAX_TEXT "7000"


/* A time column's value (LIVE_PROJECT_COLUMNS): microseconds since the
 * epoch, the instant the API's text gives to the microsecond; the text
 * itself when the number would not be exact in a browser's JSON (a double
 * is exact up to 2^53 - 1: between the years 1684 and 2255); null. */
#define TIME_VALUE(col)                                                                             \
    "CASE WHEN abs(" MICROS(col) ") <= 9007199254740991 THEN to_jsonb(" MICROS(col) ")"             \
    " ELSE to_jsonb(agora.rfc3339(" col ")) END"

/* The project channel's row of message b (ex: its execution as the read
 * API shows it, SQL), in LIVE_PROJECT_COLUMNS' order: every value is the
 * API's own, but for the times (TIME_VALUE). truncated, session and error
 * are SQL: the row of a message cut to fit has neither session_id nor
 * error. */
#define PROJECT_ROW_OF(ex, truncated, session, error)                                               \
    "jsonb_build_array(b.j->'seq', b.j->'workflow_nodes', " truncated ", " ex "->'id', "            \
    ex "->'workflow_id', " session ", " ex "->'status', " TIME_VALUE("b.started_at") ", "           \
    TIME_VALUE("b.completed_at") ", " ex "->'duration_ms', " error ", "                             \
    ex "->'usage'->'input_tokens', " ex "->'usage'->'output_tokens', " ex "->'usage'->'cost_usd', "  \
    ex "->'usage'->'cost_complete', " ex "->'stale', " ex "->'counts'->'node_executions', "          \
    ex "->'counts'->'telemetry_spans', " ex "->'counts'->'telemetry_events', "                      \
    ex "->'counts'->'shared_state_snapshots')"

/* One row per change, in the order given: $1 executions (uuid[]), $2 the
 * node_executions.id written of every execution listed (bigint[]) and $9
 * the change each belongs to (bigint[], its ordinal in $1), $3 whether its
 * node executions are listed (boolean[]; false: too many), $4..$7 rows
 * added per table, $8 node executions updated (bigint[] each). One
 * statement for all the executions of a request, however many.
 *
 * A change finds its ids in `ids` by ordinal, and counts them there
 * (whether they fit) without reading node_executions: it read them by
 * execution with `n.id = ANY ($2)`, all the request's ids, which a B-tree
 * takes as one descent per element, for every execution (an OTLP request
 * of 9 traces: 9 x 333 descents, 0.36 ms per execution in an EXPLAIN
 * ANALYZE on a busy machine, BENCHMARKS.md "OpenTelemetry ingest"). Only
 * the node executions of a message that fits are read, by their ids: the
 * primary key's columns, organization, id and month, are all given.
 *
 * Every CTE is MATERIALIZED, each value built once: inlined, the
 * execution's JSON (and its workflow_nodes count) was built again in each
 * expression that read it, some twenty times per execution. `ex` is the
 * execution's JSON, `j` the message without its node executions; the
 * messages are text once, and a truncated form is built only for a
 * message that does not fit; node executions only when they could
 * (LIVE_NODE_TEXT_MIN), found in their run's month (rc, the partition
 * key, sql/025) rather than in every month's partition. */
static const char SQL_ANNOUNCE[] =
    "WITH c AS MATERIALIZED ("
    "  SELECT * FROM unnest($1::uuid[], $3::boolean[], $4::bigint[], $5::bigint[], $6::bigint[],"
    "   $7::bigint[], $8::bigint[]) WITH ORDINALITY AS c(id, listed, ne, sp, ev, ss, nu, ord)),"
    " ids AS MATERIALIZED (SELECT * FROM unnest($2::bigint[], $9::bigint[]) AS i(id, c)),"
    " x AS MATERIALIZED ("
    "  SELECT c.*, e.organization_id AS org, e.project_id, e.started_at, e.completed_at, e.live_seq,"
    "   e.created_at AS rc,"
    "   (SELECT count(*) FROM agora.workflow_nodes w WHERE w.workflow_id = e.workflow_id) AS wn,"
    "   (" EXEC_JSON_COUNTS("e") ")::jsonb AS ex"
    "  FROM c JOIN agora.executions e ON e.id = c.id),"
    " base AS MATERIALIZED ("
    "  SELECT x.ord, x.id, x.listed, x.org, x.project_id, x.started_at, x.completed_at, x.ex, x.rc,"
    "   jsonb_build_object('type', 'execution', 'seq', x.live_seq, 'execution', x.ex,"
    "    'workflow_nodes', x.wn,"
    "    'added', jsonb_build_object('node_executions', x.ne,"
    "     'node_executions_updated', x.nu, 'telemetry_spans', x.sp,"
    "     'telemetry_events', x.ev, 'shared_state_snapshots', x.ss),"
    "    'truncated', false) AS j"
    "  FROM x),"
    " msg AS MATERIALIZED ("
    "  SELECT b.ord, b.id, b.project_id, b.started_at, b.completed_at, b.j, b.ex,"
    "   (CASE WHEN b.listed AND f.fits"
    "    THEN b.j || jsonb_build_object('node_executions', COALESCE((SELECT jsonb_agg(("
    NODE_JSON_FROM("b.started_at") ")::jsonb ORDER BY n.started_at, n.id)"
    "     FROM ids i JOIN agora.node_executions n"
    "      ON n.organization_id = b.org AND n.id = i.id AND n.run_created_at = b.rc"
    "     WHERE i.c = b.ord AND n.execution_id = b.id),"
    "     '[]'::jsonb)) END)::text AS whole,"
    "   (" PROJECT_ROW_OF("b.ex", "false", "b.ex->'session_id'", "b.ex->'error'") ")::text AS proj"
    "  FROM base b LEFT JOIN LATERAL ("
    "   SELECT count(*) * " LIVE_NODE_TEXT_MIN " - 2 <= " MAX_TEXT " AS fits FROM ids i"
    "   WHERE b.listed AND i.c = b.ord) f ON true)"
    " SELECT pg_notify('" LIVE_NOTIFY_CHANNEL "', 'execution/' || b.id || ' ' ||"
    "   CASE WHEN octet_length(b.whole) <= " MAX_TEXT " THEN b.whole"
    "   ELSE (jsonb_set(b.j, '{execution}', b.ex - 'error' - 'metadata' - 'session_id')"
    "    || '{\"truncated\": true}'::jsonb)::text END),"
    "  pg_notify('" LIVE_NOTIFY_CHANNEL "', 'project/' || b.project_id || ' ' ||"
    "   CASE WHEN octet_length(b.proj) <= " MAX_TEXT " THEN b.proj"
    "   ELSE (" PROJECT_ROW_OF("b.ex", "true", "NULL::jsonb", "NULL::jsonb") ")::text END)"
    " FROM msg b ORDER BY b.ord";

_Static_assert(LIVE_MESSAGE_MAX == 7000, "MAX_TEXT spells LIVE_MESSAGE_MAX");
_Static_assert(LIVE_NODES_MAX == 50, "LIVE_NODES_MAX_SQL spells LIVE_NODES_MAX");

/* Appends the array literal's elements (between its braces) to ids, and
 * as many times owner to owners, each after a comma when its buffer holds
 * some already. */
static void put_elements(struct buf *ids, struct buf *owners, const char *literal, size_t owner)
{
    size_t len = strlen(literal);
    if (len < 2 || literal[0] != '{' || literal[len - 1] != '}' || len == 2)
        return;
    if (ids->len > 1)
        buf_putc(ids, ',');
    buf_append(ids, literal + 1, len - 2);
    for (size_t i = 1; i < len - 1; i++)
        if (i == 1 || literal[i] == ',')
            buf_printf(owners, "%s%zu", owners->len > 1 ? "," : "", owner);
}

enum db_status live_announce(struct db *db, const struct live_change *c, size_t n)
{
    /* col[k] is SQL_ANNOUNCE's $(k + 1) */
    enum { NCOLS = 9 };
    struct buf col[NCOLS];
    for (size_t k = 0; k < NCOLS; k++) {
        buf_init(&col[k]);
        buf_putc(&col[k], '{');
    }
    for (size_t i = 0; i < n; i++) {
        const char *sep = i ? "," : "";
        long long v[5] = {c[i].added[IT_NODE_EXECUTIONS], c[i].added[IT_TELEMETRY_SPANS],
                          c[i].added[IT_TELEMETRY_EVENTS], c[i].added[IT_SHARED_STATE_SNAPSHOTS],
                          c[i].node_updates};
        buf_printf(&col[0], "%s%s", sep, c[i].execution_id);
        if (c[i].node_ids)
            put_elements(&col[1], &col[8], c[i].node_ids, i + 1);
        buf_printf(&col[2], "%s%s", sep, c[i].node_ids ? "t" : "f");
        for (size_t k = 0; k < 5; k++)
            buf_printf(&col[3 + k], "%s%lld", sep, v[k]);
    }
    const char *params[NCOLS];
    for (size_t k = 0; k < NCOLS; k++) {
        buf_putc(&col[k], '}');
        buf_putc(&col[k], '\0');
        params[k] = col[k].data;
    }
    enum db_status st = db_exec(db, SQL_ANNOUNCE, NCOLS, params, NULL);
    for (size_t k = 0; k < NCOLS; k++)
        buf_free(&col[k]);
    return st;
}

int live_notice_parse(const char *payload, char channel[LIVE_CHANNEL_MAX + 1], const char **message)
{
    static const char *const kinds[] = {"execution/", "project/"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t k = strlen(kinds[i]);
        if (strncmp(payload, kinds[i], k) != 0)
            continue;
        if (strnlen(payload + k, UUID_STR_LEN) != UUID_STR_LEN || !uuid_valid_n(payload + k, UUID_STR_LEN) ||
            payload[k + UUID_STR_LEN] != ' ' || payload[k + UUID_STR_LEN + 1] == '\0')
            return -1;
        memcpy(channel, payload, k + UUID_STR_LEN);
        channel[k + UUID_STR_LEN] = '\0';
        *message = payload + k + UUID_STR_LEN + 1;
        return 0;
    }
    return -1;
}
