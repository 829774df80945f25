/* The live messages of a committed ingest (live_announce.h, docs/LIVE.md
 * section 3). PostgreSQL builds them from the rows as stored, with the read
 * routes' own JSON (execution_json.h), so a message can never hold a field
 * the API would not show its subscriber, nor disagree with it.
 *
 * Each notification's payload is "<channel> <message>". The execution's
 * channel gets the whole message: the execution as GET shows it, what the
 * ingest added, and the node executions it wrote. The project's channel
 * gets a slim one: of the execution only the members a row of the list
 * shows (LIVE_PROJECT_MEMBERS), and neither `added` nor node executions,
 * because nginx writes each of its messages to every subscriber of the
 * project (BENCHMARKS.md, "Live monitoring"). A message that would not fit
 * NOTIFY goes out truncated: no node executions, no error, metadata or
 * session_id (the members whose size the client decides; what is left has
 * a bounded size, so a truncated message always fits), "truncated": true;
 * the client reads what it needs from the API. */
#include "domain/live_announce.h"

#include <stdio.h>
#include <string.h>

#include "domain/execution_json.h"
#include "util/buf.h"

#define MAX_TEXT "7000"

/* One row per change, in the order given: $1 executions (uuid[]), $2 the
 * node_executions.id written of every execution listed (bigint[]; each
 * row takes its own by execution_id), $3 whether its node executions are
 * listed (boolean[]; false: too many), $4..$7 rows added per table, $8
 * node executions updated (bigint[] each). One statement for all the
 * executions of a request, however many. */
static const char SQL_ANNOUNCE[] =
    "WITH c AS MATERIALIZED ("
    "  SELECT * FROM unnest($1::uuid[], $3::boolean[], $4::bigint[], $5::bigint[], $6::bigint[],"
    "   $7::bigint[], $8::bigint[]) WITH ORDINALITY AS c(id, listed, ne, sp, ev, ss, nu, ord)),"
    " base AS ("
    "  SELECT c.ord, c.id, c.listed, e.project_id, e.started_at,"
    "   jsonb_build_object('type', 'execution', 'seq', e.live_seq,"
    "    'execution', (" EXEC_JSON_COUNTS("e") ")::jsonb,"
    "    'workflow_nodes', (SELECT count(*) FROM agora.workflow_nodes w"
    "                       WHERE w.workflow_id = e.workflow_id),"
    "    'added', jsonb_build_object('node_executions', c.ne,"
    "     'node_executions_updated', c.nu, 'telemetry_spans', c.sp,"
    "     'telemetry_events', c.ev, 'shared_state_snapshots', c.ss),"
    "    'truncated', false) AS j"
    "  FROM c JOIN agora.executions e ON e.id = c.id),"
    " msg AS ("
    "  SELECT b.ord, b.id, b.project_id, s.p AS proj,"
    "   CASE WHEN b.listed"
    "    THEN b.j || jsonb_build_object('node_executions', COALESCE(x.a, '[]'::jsonb)) END AS whole,"
    "   jsonb_set(b.j, '{execution}', (b.j->'execution') - 'error' - 'metadata' - 'session_id')"
    "    || '{\"truncated\": true}'::jsonb AS short,"
    "   jsonb_set(s.p, '{execution}', (s.p->'execution') - 'error' - 'session_id')"
    "    || '{\"truncated\": true}'::jsonb AS proj_short"
    "  FROM base b LEFT JOIN LATERAL ("
    "   SELECT jsonb_agg((" NODE_JSON_FROM("b.started_at") ")::jsonb ORDER BY n.started_at, n.id) AS a"
    "   FROM agora.node_executions n"
    "   WHERE b.listed AND n.id = ANY ($2::bigint[]) AND n.execution_id = b.id) x ON true"
    "  CROSS JOIN LATERAL ("
    "   SELECT (b.j - 'added' - 'truncated') || jsonb_build_object('execution',"
    "    (SELECT jsonb_object_agg(f.k, f.v) FROM jsonb_each(b.j->'execution') AS f(k, v)"
    "     WHERE f.k = ANY ('{" LIVE_PROJECT_MEMBERS "}'::text[]))) AS p) s)"
    " SELECT pg_notify('" LIVE_NOTIFY_CHANNEL "', 'execution/' || id || ' ' ||"
    "   CASE WHEN octet_length(whole::text) <= " MAX_TEXT " THEN whole ELSE short END::text),"
    "  pg_notify('" LIVE_NOTIFY_CHANNEL "', 'project/' || project_id || ' ' ||"
    "   CASE WHEN octet_length(proj::text) <= " MAX_TEXT " THEN proj ELSE proj_short END::text)"
    " FROM msg ORDER BY ord";

_Static_assert(LIVE_MESSAGE_MAX == 7000, "MAX_TEXT spells LIVE_MESSAGE_MAX");
_Static_assert(LIVE_NODES_MAX == 50, "LIVE_NODES_MAX_SQL spells LIVE_NODES_MAX");

/* Appends the array literal's elements (between its braces) to b, after a
 * comma when b holds some already. */
static void put_elements(struct buf *b, const char *literal)
{
    size_t len = strlen(literal);
    if (len < 2 || literal[0] != '{' || literal[len - 1] != '}' || len == 2)
        return;
    if (b->len > 1)
        buf_putc(b, ',');
    buf_append(b, literal + 1, len - 2);
}

enum db_status live_announce(struct db *db, const struct live_change *c, size_t n)
{
    struct buf col[8];
    for (size_t k = 0; k < 8; k++) {
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
            put_elements(&col[1], c[i].node_ids);
        buf_printf(&col[2], "%s%s", sep, c[i].node_ids ? "t" : "f");
        for (size_t k = 0; k < 5; k++)
            buf_printf(&col[3 + k], "%s%lld", sep, v[k]);
    }
    const char *params[8];
    for (size_t k = 0; k < 8; k++) {
        buf_putc(&col[k], '}');
        buf_putc(&col[k], '\0');
        params[k] = col[k].data;
    }
    enum db_status st = db_exec(db, SQL_ANNOUNCE, 8, params, NULL);
    for (size_t k = 0; k < 8; k++)
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
