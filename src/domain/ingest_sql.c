/* The SQL of an ingest (ingest.c has the steps and why each is one
 * statement). Constant texts with parameters only: db_exec prepares each
 * once per connection. */
#include "domain/ingest_sql.h"

#include "domain/live_announce.h"
#include "domain/price_sql.h"

/* The advisory lock class of node creation (pg_advisory_xact_lock(int,
 * int); the second key is the workflow's): "node" in ASCII. The two-key
 * lock space is apart from the migrator's one-key lock (migrate.c). */
#define SQL_NODE_LOCK_CLASS "1852793957"

/* Step 1. org_role is NULL for an API key (it has no membership; RLS
 * already limited it to its own project) and for nobody else who can see
 * the workflow. */
const char SQL_WORKFLOW[] =
    "SELECT organization_id, project_id, agora.org_role(organization_id)"
    " FROM agora.workflows WHERE id = $1";

/* Step 2: $1 organization, $2 key, $3 SHA-256 of the body (hex). A key is
 * the caller's within the organization (sql/027), so the two statements
 * after the claim name the organization too. */
const char SQL_IDEM_CLAIM[] =
    "INSERT INTO agora.idempotency_keys (organization_id, caller, key, request_hash)"
    " VALUES ($1::uuid, agora.caller(), $2, decode($3, 'hex'))"
    " ON CONFLICT DO NOTHING RETURNING 1";

/* The key's first request, when we do not own the key. The answer's fields
 * are read out so the replay is rebuilt by the same code as the original
 * (byte for byte the same answer). */
const char SQL_IDEM_READ[] =
    "SELECT request_hash = decode($2, 'hex'), status_code,"
    " response->>'execution_id', response->>'status',"
    " response->'counts'->>'node_executions', response->'counts'->>'telemetry_spans',"
    " response->'counts'->>'telemetry_events', response->'counts'->>'shared_state_snapshots'"
    " FROM agora.idempotency_keys WHERE caller = agora.caller() AND key = $1 AND organization_id = $3::uuid";

/* Step 7: $1 key, $2 status, $3 the answer, $4 execution, $5 organization. */
const char SQL_IDEM_STORE[] =
    "UPDATE agora.idempotency_keys SET status_code = $2::integer, response = $3::jsonb,"
    " execution_id = $4::uuid"
    " WHERE caller = agora.caller() AND key = $1 AND organization_id = $5::uuid";

/* Step 3. ON CONFLICT DO NOTHING without a target covers every unique index
 * and never raises 23505, which would abort the transaction: no row back
 * means the id exists, visible to us or not. An execution id is unique
 * per organization (sql/027); agora.execution_id_elsewhere keeps an id
 * another organization holds out, so it answers 404 as it always did. $7 is text the validator
 * proved a timestamp; $8 the body's execution-level members (body_parts);
 * $9..$12 the payload's item counts, which step 5 then inserts; $13
 * {"node_executions": [...]} when some of them report tokens, else NULL:
 * their sums and cost go into the row, whole (step 5 writes the same
 * node executions, all new in a new execution, with the same prices; a
 * node execution without started_at is priced at the execution's).
 * Returns the sums it stored, which step 5 compares with its own. */
const char SQL_EXECUTION_INSERT[] =
    "INSERT INTO agora.executions (id, organization_id, project_id, workflow_id, session_id, status,"
    " started_at, completed_at, duration_ms, error, metadata, node_executions_count,"
    " telemetry_spans_count, telemetry_events_count, shared_state_snapshots_count,"
    " input_tokens, output_tokens, cost_usd, unpriced_count)"
    " SELECT $1::uuid, $2::uuid, $3::uuid, $4::uuid, $5, $6, $7::timestamptz,"
    "  (b.j->>'completed_at')::timestamptz, (b.j->>'duration_ms')::double precision,"
    "  NULLIF(b.j->'error', 'null'::jsonb), NULLIF(b.j->'metadata', 'null'::jsonb),"
    "  $9::integer, $10::integer, $11::integer, $12::integer,"
    "  COALESCE(u.input_tokens, 0), COALESCE(u.output_tokens, 0), COALESCE(u.cost_usd, 0), u.unpriced"
    " FROM (SELECT $8::jsonb AS j) b,"
    "  (SELECT sum(x.input_tokens) AS input_tokens, sum(x.output_tokens) AS output_tokens,"
    "    sum(c.cost) AS cost_usd,"
    "    count(*) FILTER (WHERE c.cost IS NULL AND " HAS_TOKENS("x.input_tokens", "x.output_tokens") ") AS unpriced"
    "   FROM jsonb_to_recordset(NULLIF($13::jsonb->'node_executions', 'null'))"
    "        AS x(input_tokens bigint, output_tokens bigint, model text, provider text, started_at timestamptz)"
    PRICE_JOIN("$2::uuid", "x.model", "x.provider", "COALESCE(x.started_at, $7::timestamptz)",
               "x.model IS NOT NULL AND " HAS_TOKENS("x.input_tokens", "x.output_tokens"))
    "   CROSS JOIN LATERAL (SELECT " TOKEN_COST("x.input_tokens", "x.output_tokens") " AS cost) c) u"
    " WHERE NOT agora.execution_id_elsewhere($1::uuid, $2::uuid)"
    " ON CONFLICT DO NOTHING"
    " RETURNING id, input_tokens, output_tokens, trim_scale(cost_usd), unpriced_count";

/* Step 5's correction, for a new execution only, when step 5's sums differ
 * from step 3's: a price changed by a transaction that committed between
 * the two statements. $1 execution, $2..$5 step 5's sums. */
const char SQL_EXECUTION_USAGE[] =
    "UPDATE agora.executions SET input_tokens = $2::bigint, output_tokens = $3::bigint,"
    " cost_usd = $4::numeric, unpriced_count = $5::integer"
    " WHERE id = $1::uuid";

/* The existing execution of a live run, locked until commit so appends to
 * one execution run one at a time and a closed one stays closed. */
const char SQL_EXECUTION_LOCK[] =
    "SELECT workflow_id, status FROM agora.executions WHERE id = $1 FOR UPDATE";

/* Step 4: $1 body, $2 organization, $3 project, $4 workflow, $5 the node
 * limit (WORKFLOW_NODES_MAX), $6 the execution. Returns:
 *   - the 0-based index of the first node execution whose node_id is not a
 *     node of the workflow (NULL when none; otherwise nothing is created
 *     and the caller rolls back);
 *   - how many nodes it created;
 *   - whether the names fit: false when the node executions without
 *     node_id carry more distinct names than $5 and than the workflow has
 *     nodes (so some are new, and every one of them is a node afterwards).
 *     Then nothing is created and the caller refuses the ingest; the
 *     workflow's nodes are counted only for such a payload;
 *   - the index of the first node execution whose `id` an earlier one of
 *     the payload already named (NULL when none): one statement cannot
 *     update a row twice, and a payload is one state of its nodes;
 *   - the index of the first node execution whose `id` another execution
 *     holds (NULL when none; agora.node_execution_ids_elsewhere, sql/006,
 *     sees every tenant's), and whether the caller can see that one (409)
 *     or not (404). Step 5's ON CONFLICT DO UPDATE then meets only rows of
 *     this execution.
 * Nothing is created when any of these fails.
 * Nodes are created in name order, so two ingests creating the same nodes
 * lock them in the same order and cannot deadlock; a node's type is the
 * first one given for it. Existing names are skipped by the unique index
 * (ON CONFLICT), never by a join the planner could get wrong on stale
 * statistics. Once its nodes are in (count(*) reads all of made), an ingest
 * that created any takes the workflow's transaction-level advisory lock
 * (class 'node'), then counts the workflow's nodes in a new statement
 * (SQL_NODE_COUNT): every creator counts while holding the lock and keeps
 * it until it ends, so each count sees every earlier creator's nodes and
 * concurrent ingests cannot pass the limit together. Waiting for the lock
 * while holding uncommitted nodes cannot deadlock: the holder has finished
 * creating nodes and waits for no other ingest. */
const char SQL_NODES[] =
    "WITH b AS MATERIALIZED (SELECT $1::jsonb AS j),"
    " bad AS ("
    "  SELECT min(x.ord) - 1 AS idx"
    "  FROM b, jsonb_array_elements(NULLIF(b.j->'node_executions', 'null')) WITH ORDINALITY AS x(e, ord)"
    "  WHERE jsonb_typeof(x.e->'node_id') = 'string'"
    "    AND NOT EXISTS (SELECT 1 FROM agora.workflow_nodes n"
    "                    WHERE n.workflow_id = $4::uuid AND n.id = (x.e->>'node_id')::uuid)),"
    " named AS MATERIALIZED ("
    "  SELECT x.node_name, x.node_type, x.ord"
    "  FROM b, ROWS FROM (jsonb_to_recordset(NULLIF(b.j->'node_executions', 'null'))"
    "                     AS (node_id text, node_name text, node_type text))"
    "       WITH ORDINALITY AS x(node_id, node_name, node_type, ord)"
    "  WHERE x.node_id IS NULL),"
    " ids AS MATERIALIZED ("
    "  SELECT (x.e->>'id')::uuid AS id, x.ord"
    "  FROM b, jsonb_array_elements(NULLIF(b.j->'node_executions', 'null')) WITH ORDINALITY AS x(e, ord)"
    "  WHERE jsonb_typeof(x.e->'id') = 'string'),"
    " dup AS ("
    "  SELECT min(d.ord) - 1 AS idx"
    "  FROM (SELECT ord, lag(ord) OVER (PARTITION BY id ORDER BY ord) AS prev FROM ids) d"
    "  WHERE d.prev IS NOT NULL),"
    " taken AS ("
    "  SELECT i.ord - 1 AS idx,"
    "   EXISTS (SELECT 1 FROM agora.node_executions v WHERE v.client_id = i.id) AS visible"
    "  FROM ids i"
    "  WHERE (SELECT idx FROM dup) IS NULL AND EXISTS (SELECT 1 FROM ids)"
    "   AND i.id IN (SELECT agora.node_execution_ids_elsewhere("
    "                 (SELECT array_agg(id) FROM ids), $6::uuid))"
    "  ORDER BY i.ord LIMIT 1),"
    " names AS (SELECT count(DISTINCT node_name) AS n FROM named),"
    " fits AS ("
    "  SELECT (SELECT n FROM names) <= $5::bigint"
    "   OR (SELECT n FROM names) <= (SELECT count(*) FROM agora.workflow_nodes n"
    "                                WHERE n.workflow_id = $4::uuid) AS ok),"
    " made AS ("
    "  INSERT INTO agora.workflow_nodes (organization_id, project_id, workflow_id, name, type)"
    "  SELECT DISTINCT ON (x.node_name) $2::uuid, $3::uuid, $4::uuid, x.node_name, x.node_type"
    "  FROM named x"
    "  WHERE (SELECT idx FROM bad) IS NULL AND (SELECT ok FROM fits)"
    "   AND (SELECT idx FROM dup) IS NULL AND NOT EXISTS (SELECT 1 FROM taken)"
    "  ORDER BY x.node_name, x.node_type IS NULL, x.ord"
    "  ON CONFLICT (workflow_id, name, organization_id) DO NOTHING"
    "  RETURNING 1),"
    " locked AS ("
    "  SELECT pg_advisory_xact_lock(" SQL_NODE_LOCK_CLASS ", hashtext($4::text))"
    "  WHERE (SELECT count(*) FROM made) > 0)"
    " SELECT (SELECT idx FROM bad), (SELECT count(*) FROM made), (SELECT ok FROM fits),"
    "  (SELECT count(*) FROM locked), (SELECT idx FROM dup), (SELECT idx FROM taken),"
    "  (SELECT visible FROM taken)";

/* Step 4, when it created nodes: $1 workflow. The workflow's nodes, in a
 * snapshot taken after step 4 was granted the workflow's node lock. */
const char SQL_NODE_COUNT[] =
    "SELECT count(*) FROM agora.workflow_nodes WHERE workflow_id = $1::uuid";

/* Step 5: $1 body, $2 organization, $3 project, $4 execution, $5 workflow,
 * $6 the payload's node executions (how many).
 * Items keep the payload's order (ORDER BY ord), so their identity keys do
 * too. A node execution without node_id gets the workflow's node of its
 * name (step 4 made sure there is one). The CTEs' rows are checked against
 * the execution row by the foreign keys at the end of the statement.
 *
 * A node execution with an `id` this execution already has updates that
 * row (ON CONFLICT (client_id) DO UPDATE): the fields it sends non-null
 * replace the stored ones, the node (node_id, node_name, node_type) stays
 * the first write's. The update is refused (no row back) when the stored
 * status is terminal (success, error, skipped) and the update would change
 * something; step 4 made sure every conflicting row is this execution's.
 *
 * Usage: the stored row o of an update (every part of one statement sees
 * the rows as they were before it) completes what the payload leaves out,
 * so cost_usd is the cost of the tokens, model and start the row will
 * have (u), priced as of its start (PRICE_JOIN), a node execution that
 * never started at its execution's start. An update that changes none of
 * those keeps the stored cost: a price changed since does not rewrite it.
 *
 * Returns the node executions inserted and updated, the other tables'
 * rows, and, only when fewer node executions came back than were sent,
 * the 0-based index of the first refused one (looked for then only), and,
 * for a payload of at most LIVE_NODES_MAX node executions, the ids of
 * those it wrote, '{}' for none (the live message lists them;
 * live_announce.c; NULL there means too many to list); then what the
 * payload changed in the execution's usage: input and output tokens, the
 * known cost and the count of node executions with tokens but no cost,
 * each the rows written minus, for updated rows, what they held before. */
/* The stored node execution of this execution ($4) with client id id, as
 * it was before the statement: one probe of the client_id index per row,
 * nothing for a row without an id. A lateral subquery with a LIMIT (ids
 * are unique anyway), which the planner cannot flatten into a join that
 * reads every node execution of a large execution at each append. */
#define PRIOR_ROW(id)                                                                               \
    " WHERE " id " IS NOT NULL AND o.client_id = " id " AND o.client_id IS NOT NULL"                  \
    " AND o.execution_id = $4::uuid AND o.run_created_at = (SELECT at FROM rc) LIMIT 1"

const char SQL_ITEMS[] =
    "WITH b AS MATERIALIZED (SELECT $1::jsonb AS j),"
    /* The partition key of every item (sql/025): the run's created_at,
     * read once from its row (locked or inserted by step 3). */
    " rc AS MATERIALIZED (SELECT e.created_at AS at FROM agora.executions e WHERE e.id = $4::uuid),"
    " ne AS ("
    "  INSERT INTO agora.node_executions AS t (run_created_at, organization_id, project_id, execution_id, client_id,"
    "   node_id, node_name, node_type, status, started_at, completed_at, prep_duration_ms,"
    "   exec_duration_ms, post_duration_ms, retry_count, action, error, input_tokens, output_tokens,"
    "   cache_read_tokens, cache_creation_tokens, model, provider, cost_usd)"
    "  SELECT (SELECT at FROM rc), $2::uuid, $3::uuid, $4::uuid, x.id, COALESCE(x.node_id, n.id), x.node_name,"
    "   x.node_type,"
    "   x.status, x.started_at, x.completed_at, x.prep_duration_ms, x.exec_duration_ms,"
    "   x.post_duration_ms, x.retry_count, x.action, x.error, u.input_tokens, u.output_tokens,"
    "   x.cache_read_tokens, x.cache_creation_tokens, u.model, u.provider,"
    "   " TOKEN_COST("u.input_tokens", "u.output_tokens")
    "  FROM b, ROWS FROM (jsonb_to_recordset(NULLIF(b.j->'node_executions', 'null'))"
    "        AS (id uuid, node_id uuid, node_name text, node_type text, status text,"
    "        started_at timestamptz, completed_at timestamptz, prep_duration_ms double precision,"
    "        exec_duration_ms double precision, post_duration_ms double precision,"
    "        retry_count integer, action text, error jsonb, input_tokens bigint, output_tokens bigint,"
    "        cache_read_tokens bigint, cache_creation_tokens bigint, model text, provider text))"
    "       WITH ORDINALITY AS x(id, node_id, node_name, node_type, status, started_at, completed_at,"
    "        prep_duration_ms, exec_duration_ms, post_duration_ms, retry_count, action, error,"
    "        input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, model, provider, ord)"
    "  LEFT JOIN agora.workflow_nodes n"
    "   ON x.node_id IS NULL AND n.workflow_id = $5::uuid AND n.name = x.node_name"
    "  LEFT JOIN LATERAL (SELECT o.* FROM agora.node_executions o" PRIOR_ROW("x.id") ") o ON true"
    "  CROSS JOIN LATERAL (SELECT COALESCE(x.input_tokens, o.input_tokens) AS input_tokens,"
    "   COALESCE(x.output_tokens, o.output_tokens) AS output_tokens, COALESCE(x.model, o.model) AS model,"
    "   COALESCE(x.provider, o.provider) AS provider,"
    "   COALESCE(x.started_at, o.started_at,"
    "    (SELECT e.started_at FROM agora.executions e WHERE e.id = $4::uuid)) AS at) u"
    PRICE_JOIN("$2::uuid", "u.model", "u.provider", "u.at",
               "u.model IS NOT NULL AND " HAS_TOKENS("u.input_tokens", "u.output_tokens"))
    "  ORDER BY x.ord"
    "  ON CONFLICT (client_id, organization_id, run_created_at) WHERE client_id IS NOT NULL DO UPDATE SET"
    "   status = COALESCE(EXCLUDED.status, t.status),"
    "   started_at = COALESCE(EXCLUDED.started_at, t.started_at),"
    "   completed_at = COALESCE(EXCLUDED.completed_at, t.completed_at),"
    "   prep_duration_ms = COALESCE(EXCLUDED.prep_duration_ms, t.prep_duration_ms),"
    "   exec_duration_ms = COALESCE(EXCLUDED.exec_duration_ms, t.exec_duration_ms),"
    "   post_duration_ms = COALESCE(EXCLUDED.post_duration_ms, t.post_duration_ms),"
    "   retry_count = COALESCE(EXCLUDED.retry_count, t.retry_count),"
    "   action = COALESCE(EXCLUDED.action, t.action),"
    "   error = COALESCE(EXCLUDED.error, t.error),"
    "   input_tokens = COALESCE(EXCLUDED.input_tokens, t.input_tokens),"
    "   output_tokens = COALESCE(EXCLUDED.output_tokens, t.output_tokens),"
    "   cache_read_tokens = COALESCE(EXCLUDED.cache_read_tokens, t.cache_read_tokens),"
    "   cache_creation_tokens = COALESCE(EXCLUDED.cache_creation_tokens, t.cache_creation_tokens),"
    "   model = COALESCE(EXCLUDED.model, t.model),"
    "   provider = COALESCE(EXCLUDED.provider, t.provider),"
    /* EXCLUDED's usage is already completed from the stored row. */
    "   cost_usd = CASE WHEN (EXCLUDED.input_tokens, EXCLUDED.output_tokens, EXCLUDED.model,"
    "     EXCLUDED.provider, COALESCE(EXCLUDED.started_at, t.started_at))"
    "    IS NOT DISTINCT FROM (t.input_tokens, t.output_tokens, t.model, t.provider, t.started_at)"
    "    THEN t.cost_usd ELSE EXCLUDED.cost_usd END"
    "  WHERE t.execution_id = EXCLUDED.execution_id"
    "   AND (t.status IS NULL OR t.status = 'running'"
    "    OR ((EXCLUDED.status IS NULL OR EXCLUDED.status = t.status)"
    "     AND (EXCLUDED.started_at IS NULL OR EXCLUDED.started_at = t.started_at)"
    "     AND (EXCLUDED.completed_at IS NULL OR EXCLUDED.completed_at = t.completed_at)"
    "     AND (EXCLUDED.prep_duration_ms IS NULL OR EXCLUDED.prep_duration_ms = t.prep_duration_ms)"
    "     AND (EXCLUDED.exec_duration_ms IS NULL OR EXCLUDED.exec_duration_ms = t.exec_duration_ms)"
    "     AND (EXCLUDED.post_duration_ms IS NULL OR EXCLUDED.post_duration_ms = t.post_duration_ms)"
    "     AND (EXCLUDED.retry_count IS NULL OR EXCLUDED.retry_count = t.retry_count)"
    "     AND (EXCLUDED.action IS NULL OR EXCLUDED.action = t.action)"
    "     AND (EXCLUDED.error IS NULL OR EXCLUDED.error = t.error)"
    "     AND (EXCLUDED.input_tokens IS NULL OR EXCLUDED.input_tokens = t.input_tokens)"
    "     AND (EXCLUDED.output_tokens IS NULL OR EXCLUDED.output_tokens = t.output_tokens)"
    "     AND (EXCLUDED.cache_read_tokens IS NULL OR EXCLUDED.cache_read_tokens = t.cache_read_tokens)"
    "     AND (EXCLUDED.cache_creation_tokens IS NULL"
    "      OR EXCLUDED.cache_creation_tokens = t.cache_creation_tokens)"
    "     AND (EXCLUDED.model IS NULL OR EXCLUDED.model = t.model)"
    "     AND (EXCLUDED.provider IS NULL OR EXCLUDED.provider = t.provider)))"
    "  RETURNING t.id, t.client_id, t.input_tokens, t.output_tokens, t.cost_usd),"
    " sp AS ("
    "  INSERT INTO agora.telemetry_spans (run_created_at, organization_id, project_id, execution_id, trace_id,"
    "   span_id, parent_span_id, name, kind, start_time, end_time, duration_ms, status, attributes,"
    "   node_name)"
    "  SELECT (SELECT at FROM rc), $2::uuid, $3::uuid, $4::uuid, x.trace_id, x.span_id, x.parent_span_id, x.name, x.kind,"
    "   x.start_time, x.end_time, x.duration_ms, x.status, x.attributes, x.node_name"
    "  FROM b, ROWS FROM (jsonb_to_recordset(NULLIF(b.j->'telemetry_spans', 'null'))"
    "        AS (trace_id text, span_id text, parent_span_id text, name text, kind text,"
    "        start_time timestamptz, end_time timestamptz, duration_ms double precision, status text,"
    "        attributes jsonb, node_name text))"
    "       WITH ORDINALITY AS x(trace_id, span_id, parent_span_id, name, kind, start_time,"
    "        end_time, duration_ms, status, attributes, node_name, ord)"
    "  ORDER BY x.ord"
    "  RETURNING 1),"
    " ev AS ("
    "  INSERT INTO agora.telemetry_events (run_created_at, organization_id, project_id, execution_id, event_type,"
    "   \"timestamp\", node_name, data)"
    "  SELECT (SELECT at FROM rc), $2::uuid, $3::uuid, $4::uuid, x.event_type, x.\"timestamp\", x.node_name, x.data"
    "  FROM b, ROWS FROM (jsonb_to_recordset(NULLIF(b.j->'telemetry_events', 'null'))"
    "        AS (event_type text, \"timestamp\" timestamptz, node_name text, data jsonb))"
    "       WITH ORDINALITY AS x(event_type, \"timestamp\", node_name, data, ord)"
    "  ORDER BY x.ord"
    "  RETURNING 1),"
    " ss AS ("
    "  INSERT INTO agora.shared_state_snapshots (run_created_at, organization_id, project_id, execution_id,"
    "   sequence, \"timestamp\", node_name, phase, state)"
    "  SELECT (SELECT at FROM rc), $2::uuid, $3::uuid, $4::uuid, x.sequence, x.\"timestamp\", x.node_name, x.phase,"
    "   x.state"
    "  FROM b, ROWS FROM (jsonb_to_recordset(NULLIF(b.j->'shared_state_snapshots', 'null'))"
    "        AS (sequence integer, \"timestamp\" timestamptz, node_name text, phase text, state jsonb))"
    "       WITH ORDINALITY AS x(sequence, \"timestamp\", node_name, phase, state, ord)"
    "  ORDER BY x.ord"
    "  RETURNING 1),"
    /* An updated row had a stored one before the statement; an inserted
     * one did not. (RETURNING cannot read xmax of a partitioned table.) */
    " ne_n AS (SELECT count(*) FILTER (WHERE o.id IS NULL) AS inserted,"
    "  count(*) FILTER (WHERE o.id IS NOT NULL) AS updated"
    "  FROM ne LEFT JOIN LATERAL (SELECT o.id FROM agora.node_executions o" PRIOR_ROW("ne.client_id") ") o ON true),"
    /* o: an updated row as it was; an inserted one is not there. */
    " used AS ("
    "  SELECT COALESCE(sum(ne.input_tokens), 0) - COALESCE(sum(o.input_tokens), 0) AS input_tokens,"
    "   COALESCE(sum(ne.output_tokens), 0) - COALESCE(sum(o.output_tokens), 0) AS output_tokens,"
    "   trim_scale(COALESCE(sum(ne.cost_usd), 0) - COALESCE(sum(o.cost_usd), 0)) AS cost_usd,"
    "   count(*) FILTER (WHERE ne.cost_usd IS NULL AND " HAS_TOKENS("ne.input_tokens", "ne.output_tokens") ")"
    "   - count(*) FILTER (WHERE o.cost_usd IS NULL AND " HAS_TOKENS("o.input_tokens", "o.output_tokens") ")"
    "    AS unpriced"
    "  FROM ne LEFT JOIN LATERAL (SELECT o.* FROM agora.node_executions o" PRIOR_ROW("ne.client_id") ") o ON true)"
    " SELECT (SELECT inserted FROM ne_n), (SELECT count(*) FROM sp), (SELECT count(*) FROM ev),"
    "  (SELECT count(*) FROM ss), (SELECT updated FROM ne_n),"
    "  CASE WHEN (SELECT inserted + updated FROM ne_n) < $6::bigint THEN"
    "   (SELECT min(x.ord) - 1"
    "    FROM b, jsonb_array_elements(b.j->'node_executions') WITH ORDINALITY AS x(e, ord)"
    "    WHERE jsonb_typeof(x.e->'id') = 'string'"
    "     AND NOT EXISTS (SELECT 1 FROM ne WHERE ne.client_id = (x.e->>'id')::uuid))"
    "  END,"
    "  CASE WHEN $6::bigint <= " LIVE_NODES_MAX_SQL " THEN COALESCE((SELECT array_agg(id) FROM ne), '{}') END,"
    "  u.input_tokens, u.output_tokens, u.cost_usd, u.unpriced"
    " FROM used u";

/* Step 6 (appends only): $1 execution, $2 status, $3..$6 the counts step 5
 * returned, $7 the body's execution-level members (body_parts), $8..$11
 * the changes of usage step 5 returned (input and output tokens, cost,
 * node executions with tokens and no cost). Fields the payload leaves out
 * or sends as null keep their value. The live sequence number moves on
 * (sql/008): the row is locked since step 3, so appends number in commit
 * order. */
const char SQL_EXECUTION_APPEND[] =
    "UPDATE agora.executions e SET"
    "  node_executions_count = e.node_executions_count + $3::integer,"
    "  telemetry_spans_count = e.telemetry_spans_count + $4::integer,"
    "  telemetry_events_count = e.telemetry_events_count + $5::integer,"
    "  shared_state_snapshots_count = e.shared_state_snapshots_count + $6::integer,"
    "  input_tokens = e.input_tokens + $8::bigint, output_tokens = e.output_tokens + $9::bigint,"
    "  cost_usd = e.cost_usd + $10::numeric, unpriced_count = e.unpriced_count + $11::integer,"
    "  status = $2,"
    "  completed_at = COALESCE((b.j->>'completed_at')::timestamptz, e.completed_at),"
    "  duration_ms = COALESCE((b.j->>'duration_ms')::double precision, e.duration_ms),"
    "  error = COALESCE(NULLIF(b.j->'error', 'null'::jsonb), e.error),"
    "  metadata = COALESCE(NULLIF(b.j->'metadata', 'null'::jsonb), e.metadata),"
    "  updated_at = now(), last_ingest_at = now(), live_seq = e.live_seq + 1"
    " FROM (SELECT $7::jsonb AS j) b"
    " WHERE e.id = $1::uuid"
    " RETURNING e.status, e.node_executions_count, e.telemetry_spans_count,"
    "  e.telemetry_events_count, e.shared_state_snapshots_count";

const char SQL_PURGE[] = "SELECT agora.purge_idempotency_keys()";
