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

#define MAX_TEXT "7000"

/* $1 execution, $2 node_executions.id written (bigint[] text, or NULL:
 * too many to list), $3..$6 rows added per table, $7 node executions
 * updated. */
static const char SQL_ANNOUNCE[] =
    "WITH e AS MATERIALIZED (SELECT * FROM agora.executions WHERE id = $1::uuid),"
    " base AS ("
    "  SELECT e.project_id, e.started_at,"
    "   jsonb_build_object('type', 'execution', 'seq', e.live_seq,"
    "    'execution', (" EXEC_JSON_COUNTS("e") ")::jsonb,"
    "    'workflow_nodes', (SELECT count(*) FROM agora.workflow_nodes w"
    "                       WHERE w.workflow_id = e.workflow_id),"
    "    'added', jsonb_build_object('node_executions', $3::bigint,"
    "     'node_executions_updated', $7::bigint, 'telemetry_spans', $4::bigint,"
    "     'telemetry_events', $5::bigint, 'shared_state_snapshots', $6::bigint),"
    "    'truncated', false) AS j"
    "  FROM e),"
    " nodes AS ("
    "  SELECT jsonb_agg((" NODE_JSON_FROM("b.started_at") ")::jsonb ORDER BY n.started_at, n.id) AS a"
    "  FROM base b JOIN agora.node_executions n"
    "   ON n.id = ANY ($2::bigint[]) AND n.execution_id = $1::uuid),"
    " slim AS ("
    "  SELECT (b.j - 'added' - 'truncated') || jsonb_build_object('execution',"
    "   (SELECT jsonb_object_agg(f.k, f.v) FROM jsonb_each(b.j->'execution') AS f(k, v)"
    "    WHERE f.k = ANY ('{" LIVE_PROJECT_MEMBERS "}'::text[]))) AS p"
    "  FROM base b),"
    " msg AS ("
    "  SELECT b.project_id, s.p AS proj,"
    "   CASE WHEN $2 IS NOT NULL"
    "    THEN b.j || jsonb_build_object('node_executions', COALESCE(x.a, '[]'::jsonb)) END AS whole,"
    "   jsonb_set(b.j, '{execution}', (b.j->'execution') - 'error' - 'metadata' - 'session_id')"
    "    || '{\"truncated\": true}'::jsonb AS short,"
    "   jsonb_set(s.p, '{execution}', (s.p->'execution') - 'error' - 'session_id')"
    "    || '{\"truncated\": true}'::jsonb AS proj_short"
    "  FROM base b, nodes x, slim s)"
    " SELECT pg_notify('" LIVE_NOTIFY_CHANNEL "', 'execution/' || $1 || ' ' ||"
    "   CASE WHEN octet_length(whole::text) <= " MAX_TEXT " THEN whole ELSE short END::text),"
    "  pg_notify('" LIVE_NOTIFY_CHANNEL "', 'project/' || project_id || ' ' ||"
    "   CASE WHEN octet_length(proj::text) <= " MAX_TEXT " THEN proj ELSE proj_short END::text)"
    " FROM msg";

_Static_assert(LIVE_MESSAGE_MAX == 7000, "MAX_TEXT spells LIVE_MESSAGE_MAX");
_Static_assert(LIVE_NODES_MAX == 50, "LIVE_NODES_MAX_SQL spells LIVE_NODES_MAX");

enum db_status live_announce(struct db *db, const struct live_change *c)
{
    char added[IT_COUNT + 1][24];
    for (int i = 0; i < IT_COUNT; i++)
        snprintf(added[i], sizeof added[i], "%lld", c->added[i]);
    snprintf(added[IT_COUNT], sizeof added[IT_COUNT], "%lld", c->node_updates);
    const char *params[7] = {c->execution_id, c->node_ids, added[IT_NODE_EXECUTIONS],
                             added[IT_TELEMETRY_SPANS], added[IT_TELEMETRY_EVENTS],
                             added[IT_SHARED_STATE_SNAPSHOTS], added[IT_COUNT]};
    return db_exec(db, SQL_ANNOUNCE, 7, params, NULL);
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
