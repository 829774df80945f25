/* The SQL of the OpenTelemetry ingest (otlp_store.c has the steps). The
 * request's rows reach PostgreSQL as a few parameters (otlp_plan.c writes
 * them), each read by the one statement that needs it, so every step is
 * one statement whatever the number of spans. The small ones are JSON:
 *   e: the executions, {id, org, proj, wf, sess, fb (the trace id in hex,
 *      the session when none was named), start (its earliest span), meta,
 *      and what a new one is inserted with: nsp, nev, nne (its spans,
 *      events and node executions), r (its root span: st, et, d, c, err;
 *      absent when the request has none)}; steps 2 and 5;
 *   u: the node spans that report tokens, {x, org, o (the span's
 *      position in the span columns), st, ti, tout, model, prov}, priced
 *      once, by step 2: its new executions' sums, and the cost of each
 *      (answered by position) for step 5's node executions;
 *   n: the node spans, {x (execution), org, proj, wf, n, t (node name and
 *      type)}; step 4.
 * The spans and their events, most of the bytes, come as one parameter per
 * column (enum otlp_span_col, otlp_event_col in otlp_columns.h): typed
 * arrays (uuid[], text[], timestamptz[], bigint[], ...) expanded together
 * by a multi-argument unnest(), and the attribute maps as one JSON array
 * each, read by position (jsonb -> n). Step 5 read them as JSON objects
 * before, one per span, with ->> and casts per field: the arrays cost
 * PostgreSQL less (BENCHMARKS.md, "OpenTelemetry ingest"), and their
 * values are parsed straight into their types. Constant texts with
 * parameters only: db_exec prepares each once per connection. */
#include "domain/otlp_sql.h"

#include "domain/live_announce.h"
#include "domain/otlp_columns.h"
#include "domain/price_sql.h"
#include "domain/workflow_limits.h"

/* The advisory lock class of creating a workflow by service.name
 * (pg_advisory_xact_lock(int, int)): "otlw" in ASCII; the second key
 * hashes the project and the name. */
#define SQL_WORKFLOW_LOCK_CLASS "1869900919"

/* First, for the rest of the transaction: the statements below are
 * planned once per connection (the generic plan) rather than at every
 * request. Their parameters are JSON documents and arrays, whose values
 * tell the planner nothing (it guesses 100 rows of any jsonb_to_recordset
 * and 10 of an unnest), so a custom plan is the same plan made again: it
 * was 14% of PostgreSQL's time for a request of 100 spans, measured. */
const char SQL_OTLP_GENERIC_PLANS[] = "SET LOCAL plan_cache_mode = force_generic_plan";

/* Step 1: $1 [{i, wf, proj, svc}], one per resource to place. A resource
 * naming agora.workflow.id gets that workflow when the caller can see it;
 * otherwise the workflow named service.name in the project (the resource's
 * agora.project.id, else the API key's), the oldest when several share
 * the name. Rows only for the resources placed, with the caller's role in
 * the workflow's organization (NULL for an API key). */
const char SQL_OTLP_PLACE[] =
    "SELECT r.i, w.id, w.organization_id, w.project_id, agora.org_role(w.organization_id)"
    " FROM jsonb_to_recordset($1::jsonb) AS r(i integer, wf uuid, proj uuid, svc text)"
    " CROSS JOIN LATERAL ("
    "  SELECT w.id, w.organization_id, w.project_id FROM agora.workflows w"
    "  WHERE r.wf IS NOT NULL AND w.id = r.wf"
    "  UNION ALL"
    "  (SELECT w.id, w.organization_id, w.project_id FROM agora.workflows w"
    "   WHERE r.wf IS NULL AND w.project_id = COALESCE(r.proj, agora.key_project()) AND w.name = r.svc"
    "   ORDER BY w.created_at, w.id LIMIT 1)"
    "  LIMIT 1) w"
    " ORDER BY r.i";

/* Step 1, for names no workflow has yet: $1 [{proj, svc}]. Takes the
 * transaction-level lock of each (project, name), in one order so two
 * requests cannot deadlock; the creation is the next statement, whose
 * snapshot then sees a workflow another request created and committed
 * while this one waited (workflows have no unique name, so the lock is
 * what keeps two exporters' first batches from making two). */
const char SQL_OTLP_WORKFLOW_LOCK[] =
    "SELECT pg_advisory_xact_lock(" SQL_WORKFLOW_LOCK_CLASS ", hashtext(x.proj::text || '/' || x.svc))"
    " FROM (SELECT DISTINCT COALESCE(r.proj, agora.key_project()) AS proj, r.svc"
    "       FROM jsonb_to_recordset($1::jsonb) AS r(proj uuid, svc text) ORDER BY 1, 2) x";

/* $1 [{proj, svc}]: creates the workflows still missing, in the projects
 * the caller can see and write (owners, admins, members; a key in its
 * own). The rest stay unplaced and step 1 is run again. */
const char SQL_OTLP_WORKFLOW_CREATE[] =
    "INSERT INTO agora.workflows (organization_id, project_id, name, description)"
    " SELECT p.organization_id, p.id, x.svc, 'OpenTelemetry service.name ' || x.svc"
    " FROM (SELECT DISTINCT COALESCE(r.proj, agora.key_project()) AS proj, r.svc"
    "       FROM jsonb_to_recordset($1::jsonb) AS r(proj uuid, svc text)) x"
    " JOIN agora.projects p ON p.id = x.proj"
    " WHERE (p.organization_id = ANY ((SELECT agora.write_orgs())::uuid[]) OR p.id = (SELECT agora.key_project()))"
    "  AND NOT EXISTS (SELECT 1 FROM agora.workflows w WHERE w.project_id = p.id AND w.name = x.svc)"
    " ORDER BY p.id, x.svc";

/* Step 2: $1 the executions ("e"), $2 the usage ("u"). Prices the usage,
 * and inserts the executions that do not exist yet,
 * each in its final state, as if step 5 had already run: all of a new
 * execution's spans are new (no other request can have stored a span in
 * an execution that did not exist), so its counts are the request's, its
 * status and times its root's (running, started at its earliest span,
 * without one), its usage its node spans' priced as step 5 prices them.
 * One row version: step 5 then only checks (and corrects, when a
 * concurrent price change or a taken node execution id made it differ).
 * ON CONFLICT DO NOTHING without a target never raises (an id taken,
 * visible or not, is left to step 3). In id order, as step 3 locks, so
 * concurrent requests that share executions take their locks in one
 * order. The usage is priced apart and joined: priced in a subquery per
 * execution, the planner's guess of 100 rows for each jsonb_to_recordset
 * multiplies, and a cost that high compiles the statement with JIT (60 to
 * 250 ms of a request, measured). Returns the ids inserted (o and cost
 * NULL), and the cost of each priced node span (id NULL): o its position,
 * which step 5 reads instead of pricing each node execution again, so an
 * execution's sum and its node executions' costs come from one reading
 * of the prices. */
const char SQL_OTLP_EXECUTIONS[] =
    "WITH y AS MATERIALIZED (SELECT y.x, y.o, y.ti, y.tout, c.cost"
    "  FROM jsonb_to_recordset($2::jsonb)"
    "   AS y(x uuid, o bigint, org uuid, st timestamptz, ti bigint, tout bigint, model text, prov text)"
    PRICE_JOIN("y.org", "y.model", "y.prov", "y.st", "y.model IS NOT NULL AND " HAS_TOKENS("y.ti", "y.tout"))
    "  CROSS JOIN LATERAL (SELECT " TOKEN_COST("y.ti", "y.tout") " AS cost) c),"
    " u AS (SELECT y.x, sum(y.ti) AS ti, sum(y.tout) AS tout, sum(y.cost) AS cost,"
    "   count(*) FILTER (WHERE y.cost IS NULL AND " HAS_TOKENS("y.ti", "y.tout") ") AS unpriced"
    "  FROM y GROUP BY y.x),"
    " ins AS ("
    " INSERT INTO agora.executions (id, organization_id, project_id, workflow_id, session_id, status,"
    " started_at, completed_at, duration_ms, error, metadata, node_executions_count, telemetry_spans_count,"
    " telemetry_events_count, input_tokens, output_tokens, cost_usd, unpriced_count)"
    " SELECT x.id, x.org, x.proj, x.wf, x.sess,"
    "  CASE WHEN x.r IS NULL THEN 'running' WHEN x.r->>'c' = 'error' THEN 'error' ELSE 'success' END,"
    "  COALESCE((x.r->>'st')::timestamptz, x.start), (x.r->>'et')::timestamptz,"
    "  (x.r->>'d')::double precision, CASE WHEN x.r->>'c' = 'error' THEN x.r->'err' END, x.meta,"
    "  x.nne, x.nsp, x.nev, COALESCE(u.ti, 0), COALESCE(u.tout, 0), COALESCE(u.cost, 0),"
    "  COALESCE(u.unpriced, 0)"
    " FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, org uuid, proj uuid, wf uuid, sess text,"
    "  start timestamptz, meta jsonb, nsp integer, nev integer, nne integer, r jsonb)"
    " LEFT JOIN u ON u.x = x.id"
    " ORDER BY x.id"
    " ON CONFLICT DO NOTHING"
    " RETURNING id)"
    " SELECT id, NULL::bigint, NULL::numeric FROM ins"
    " UNION ALL SELECT NULL, y.o, y.cost FROM y WHERE y.cost IS NOT NULL";

/* Step 3: $1 the executions step 2 did not insert (uuid[]). A new
 * statement, so it sees one that a concurrent request inserted and
 * committed meanwhile; locked until commit, so batches of one trace are
 * stored one after the other. An id missing from the answer is another
 * tenant's. */
const char SQL_OTLP_EXECUTIONS_LOCK[] =
    "SELECT id, workflow_id FROM agora.executions WHERE id = ANY ($1::uuid[]) ORDER BY id FOR UPDATE";

/* Step 4, when spans are nodes: $1 the node spans ("n"), $2 the
 * executions kept (uuid[]). Creates the workflow nodes their names lack,
 * as the JSON ingest does, while the workflow stays within
 * WORKFLOW_NODES_MAX; past it, node executions are stored without a
 * node_id (a soft limit: two requests at once may pass it by their own new
 * names, which an instrumentation naming nodes by tool or model cannot do
 * without end). A statement of its own so that step 5's snapshot sees
 * nodes another request committed meanwhile. */
const char SQL_OTLP_NODES[] =
    "WITH want AS (SELECT DISTINCT ON (s.wf, s.n) s.org, s.proj, s.wf, s.n AS name, s.t AS type"
    "  FROM jsonb_to_recordset($1::jsonb) AS s(x uuid, org uuid, proj uuid, wf uuid, n text, t text)"
    "  WHERE s.x = ANY ($2::uuid[]) ORDER BY s.wf, s.n),"
    " fresh AS (SELECT w.*, row_number() OVER (PARTITION BY w.wf ORDER BY w.name) AS k FROM want w"
    "  WHERE NOT EXISTS (SELECT 1 FROM agora.workflow_nodes n WHERE n.workflow_id = w.wf AND n.name = w.name))"
    " INSERT INTO agora.workflow_nodes (organization_id, project_id, workflow_id, name, type)"
    " SELECT f.org, f.proj, f.wf, f.name, f.type FROM fresh f"
    " WHERE f.k + (SELECT count(*) FROM agora.workflow_nodes n WHERE n.workflow_id = f.wf)"
    "  <= " WORKFLOW_LIMIT_TEXT(WORKFLOW_NODES_MAX)
    " ORDER BY f.wf, f.name"
    " ON CONFLICT (workflow_id, name, organization_id) DO NOTHING";

/* Step 5: $1 the executions ("e"), $2 the executions kept (uuid[]), $3
 * those step 2 inserted (uuid[]), $4 to $23 the span columns and $24 to
 * $29 the event columns (otlp_columns.h, in the order of their enums; the
 * asserts below keep the numbers in step), $30 each span's cost as step 2
 * priced it (numeric[], one per span, NULL where none: another span
 * column, though written after step 2). One statement of
 * data-modifying CTEs:
 *   - fresh: the spans not stored yet (the plan already kept one of a
 *     span twice in the request). A span of an execution step 2 inserted
 *     is new; one of an older execution is looked up (sql/012's unique
 *     index, SPAN_STORED), which is exact: that execution is locked since
 *     step 3, and every writer of OTLP spans locks or creates it first.
 *     Only fresh spans are inserted (sp) and bring their events (ev, which
 *     look their span up the same way) and node executions (ne), so a
 *     resend adds nothing anywhere. sp inserts them without ON CONFLICT:
 *     by that rule no span it inserts can be stored already, so a
 *     speculative insertion (an index probe and a second WAL record per
 *     row) buys nothing (the A/B median was 16% less PostgreSQL CPU
 *     without it, within that tool's noise); were the rule broken, the
 *     unique index fails the request whole rather than storing a span
 *     twice. ne's
 *     client id (sql/006) is derived from the span: ON CONFLICT DO NOTHING
 *     covers the rest (a JSON ingest may have sent that id). Each node
 *     execution costs what step 2 priced its span at (price_sql.h, as the
 *     JSON ingest prices one, at its span's start): pricing it here again
 *     was two index probes per node span and a second reading of the
 *     price table, which a concurrent price change could make disagree
 *     with step 2's sums.
 *     No step joins two sets the size of the request: fresh used to be sx
 *     joined to sp's RETURNING, and events to fresh by position, and the
 *     generic plan, made once per connection from the statistics of the
 *     moment, chose a nested loop for them on a new database (every span
 *     against every span: 58 against 52 ms of PostgreSQL per request of
 *     500 spans, BENCHMARKS.md "OpenTelemetry ingest"). The joins left
 *     pair a span or event with its execution, or probe an index;
 *   - gain: what each execution got, in one GROUP BY over the rows of ex,
 *     sp, ev, ne and fresh together rather than joins of one aggregate per
 *     CTE: with a request of many traces (a service's batch of 500
 *     one-span traces) a plan made on a new database joined those by
 *     nested loop, executions by executions: 199 ms of PostgreSQL per
 *     request against 89;
 *   - up: each execution that existed before the request and got new
 *     spans: counts and usage sums grow by what was inserted; its root
 *     span (no parent), when it came now, sets status (error when the
 *     root's status is, else success), started_at, completed_at,
 *     duration_ms and error; until then started_at is the earliest span
 *     seen; a session still the trace id's fallback takes a named one; the
 *     live sequence moves on (sql/008), the row being locked since step 3.
 *     An execution step 2 inserted already holds its final fields: it is
 *     updated only when what was inserted here differs from what step 2
 *     counted and summed (a node execution id taken by a JSON ingest), to
 *     what was inserted. Left
 *     alone, its row has one version for the foreign-key checks of the
 *     rows inserted here to find.
 * A span's trace id is its execution's (fb); spans and events find their
 * attributes in $13 and $29 by position (ord).
 * Returns, per execution that got new spans: its id, the spans, events and
 * node executions inserted, and the node executions' ids as an array (NULL
 * past LIVE_NODES_MAX), for its live message. */
_Static_assert(OSC_EXEC == 0 && OSC_ATTRS == 9 && OSC_PROV == 19 && OSC_COUNT == 20,
               "SQL_OTLP_ITEMS numbers the span columns $4 to $23");
_Static_assert(OEC_EXEC == 0 && OEC_DATA == 5 && OEC_COUNT == 6, "SQL_OTLP_ITEMS numbers the event columns $24 to $29");
_Static_assert(OTLP_ITEMS_COSTS == 3 + OSC_COUNT + OEC_COUNT + 1, "SQL_OTLP_ITEMS reads the costs as $30");
/* Whether the span (execution x, span id s) of the execution row ex was
 * stored before this statement: one probe of sql/012's unique index. */
#define SPAN_STORED(ex, x, s)                                                                                        \
    "EXISTS (SELECT 1 FROM agora.telemetry_spans t WHERE t.organization_id = " ex ".org AND t.execution_id = " x \
    " AND t.trace_id = " ex ".fb AND t.span_id = " s " AND t.run_created_at = " ex ".rc AND t.from_otlp)"
const char SQL_OTLP_ITEMS[] =
    "WITH ex AS MATERIALIZED (SELECT x.id, x.org, x.proj, x.wf, x.sess, x.fb, x.id = ANY ($3::uuid[]) AS new,"
    "   e.created_at AS rc"
    "  FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, org uuid, proj uuid, wf uuid, sess text, fb text)"
    "  JOIN agora.executions e ON e.id = x.id"
    "  WHERE x.id = ANY ($2::uuid[])),"
    " sx AS MATERIALIZED (SELECT s.x, ex.fb AS t, s.s, s.p, s.n, s.k, s.st, s.et, s.d, s.c,"
    "   $13::jsonb -> (s.ord::integer - 1) AS a, s.nn, s.cid IS NOT NULL AS node, s.nt, s.cid,"
    "   CASE WHEN s.em IS NOT NULL THEN jsonb_build_object('message', s.em) END AS err,"
    "   s.ti, s.tout, s.cr, s.cc, s.model, s.prov, s.cost, s.ord, ex.org, ex.proj, ex.wf, ex.rc,"
    "   NOT ex.new AND " SPAN_STORED("ex", "s.x", "s.s") " AS dup"
    "  FROM unnest($4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[],"
    "   $10::timestamptz[], $11::double precision[], $12::text[], $14::text[], $15::uuid[], $16::text[],"
    "   $17::text[], $18::bigint[], $19::bigint[], $20::bigint[], $21::bigint[], $22::text[], $23::text[],"
    "   $30::numeric[])"
    "   WITH ORDINALITY AS s(x, s, p, n, k, st, et, d, c, nn, cid, nt, em, ti, tout, cr, cc, model, prov, cost, ord)"
    "  JOIN ex ON ex.id = s.x),"
    " fresh AS MATERIALIZED (SELECT * FROM sx WHERE NOT dup),"
    " sp AS ("
    "  INSERT INTO agora.telemetry_spans (organization_id, project_id, execution_id, trace_id, span_id,"
    "   parent_span_id, name, kind, start_time, end_time, duration_ms, status, attributes, node_name, from_otlp,"
    "   run_created_at)"
    "  SELECT org, proj, x, t, s, p, n, k, st, et, d, c, a, nn, true, rc FROM fresh ORDER BY ord"
    "  RETURNING execution_id),"
    " ev AS ("
    "  INSERT INTO agora.telemetry_events (organization_id, project_id, execution_id, event_type,"
    "   \"timestamp\", node_name, data, run_created_at)"
    "  SELECT ex.org, ex.proj, v.x, v.ty, v.ts, v.nn, $29::jsonb -> (v.ord::integer - 1), ex.rc"
    "  FROM unnest($24::uuid[], $25::text[], $26::text[], $27::text[], $28::timestamptz[])"
    "   WITH ORDINALITY AS v(x, s, nn, ty, ts, ord)"
    "  JOIN ex ON ex.id = v.x"
    "  WHERE ex.new OR NOT " SPAN_STORED("ex", "v.x", "v.s")
    "  ORDER BY v.ord"
    "  RETURNING execution_id),"
    " ne AS ("
    "  INSERT INTO agora.node_executions (organization_id, project_id, execution_id, client_id, node_id,"
    "   node_name, node_type, status, started_at, completed_at, exec_duration_ms, error, input_tokens,"
    "   output_tokens, cache_read_tokens, cache_creation_tokens, model, provider, cost_usd, run_created_at)"
    "  SELECT f.org, f.proj, f.x, f.cid, wn.id, f.nn, f.nt,"
    "   CASE WHEN f.c = 'error' THEN 'error' ELSE 'success' END, f.st, f.et, f.d, f.err, f.ti, f.tout,"
    "   f.cr, f.cc, f.model, f.prov, f.cost, f.rc"
    "  FROM fresh f"
    "  LEFT JOIN agora.workflow_nodes wn ON wn.workflow_id = f.wf AND wn.name = f.nn"
    "  WHERE f.node"
    "  ORDER BY f.ord"
    "  ON CONFLICT (client_id, organization_id, run_created_at) WHERE client_id IS NOT NULL DO NOTHING"
    "  RETURNING execution_id, id, input_tokens, output_tokens, cost_usd),"
    " parts AS (SELECT ex.id, ex.new, ex.sess, ex.fb, 0 AS sp, 0 AS ev, 0 AS ne, NULL::bigint AS ti,"
    "   NULL::bigint AS tout, NULL::numeric AS cost, 0 AS unpriced, NULL::bigint AS nid, NULL::timestamptz AS st,"
    "   false AS rt, NULL::timestamptz AS et, NULL::double precision AS d, NULL::text AS c, NULL::jsonb AS err,"
    "   NULL::bigint AS ord FROM ex"
    "  UNION ALL SELECT execution_id, NULL, NULL, NULL, 1, 0, 0, NULL, NULL, NULL, 0, NULL, NULL, false, NULL,"
    "   NULL, NULL, NULL, NULL FROM sp"
    "  UNION ALL SELECT execution_id, NULL, NULL, NULL, 0, 1, 0, NULL, NULL, NULL, 0, NULL, NULL, false, NULL,"
    "   NULL, NULL, NULL, NULL FROM ev"
    "  UNION ALL SELECT execution_id, NULL, NULL, NULL, 0, 0, 1, input_tokens, output_tokens, cost_usd,"
    "   (cost_usd IS NULL AND " HAS_TOKENS("input_tokens", "output_tokens") ")::integer, id, NULL, false, NULL,"
    "   NULL, NULL, NULL, NULL FROM ne"
    "  UNION ALL SELECT x, NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL, 0, NULL, st, p IS NULL, et, d, c, err, ord"
    "   FROM fresh),"
    " gain AS (SELECT id, bool_or(new) AS new, max(sess) AS sess, max(fb) AS fb, sum(sp) AS sp, sum(ev) AS ev,"
    "   sum(ne) AS ne, COALESCE(sum(ti), 0) AS ti, COALESCE(sum(tout), 0) AS tout, COALESCE(sum(cost), 0) AS cost,"
    "   sum(unpriced) AS unpriced, array_agg(nid ORDER BY nid) FILTER (WHERE nid IS NOT NULL) AS ids,"
    "   min(st) AS earliest, COALESCE(bool_or(rt) AND NOT bool_or(new), false) AS has_root,"
    "   min(st) FILTER (WHERE rt) AS st, (array_agg(et ORDER BY st, ord) FILTER (WHERE rt))[1] AS et,"
    "   (array_agg(d ORDER BY st, ord) FILTER (WHERE rt))[1] AS d,"
    "   (array_agg(c ORDER BY st, ord) FILTER (WHERE rt))[1] AS c,"
    "   (array_agg(err ORDER BY st, ord) FILTER (WHERE rt))[1] AS err"
    "  FROM parts GROUP BY id HAVING sum(sp) > 0),"
    " up AS ("
    "  UPDATE agora.executions e SET"
    "   telemetry_spans_count = CASE WHEN a.new THEN 0 ELSE e.telemetry_spans_count END + a.sp,"
    "   telemetry_events_count = CASE WHEN a.new THEN 0 ELSE e.telemetry_events_count END + a.ev,"
    "   node_executions_count = CASE WHEN a.new THEN 0 ELSE e.node_executions_count END + a.ne,"
    "   input_tokens = CASE WHEN a.new THEN 0 ELSE e.input_tokens END + a.ti,"
    "   output_tokens = CASE WHEN a.new THEN 0 ELSE e.output_tokens END + a.tout,"
    "   cost_usd = CASE WHEN a.new THEN 0 ELSE e.cost_usd END + a.cost,"
    "   unpriced_count = CASE WHEN a.new THEN 0 ELSE e.unpriced_count END + a.unpriced,"
    "   status = CASE WHEN NOT a.has_root THEN e.status WHEN a.c = 'error' THEN 'error' ELSE 'success' END,"
    "   started_at = CASE WHEN a.has_root THEN a.st"
    "    WHEN e.status = 'running' AND NOT a.new THEN LEAST(e.started_at, a.earliest) ELSE e.started_at END,"
    "   completed_at = CASE WHEN a.has_root THEN a.et ELSE e.completed_at END,"
    "   duration_ms = CASE WHEN a.has_root THEN a.d ELSE e.duration_ms END,"
    "   error = CASE WHEN NOT a.has_root THEN e.error WHEN a.c = 'error' THEN a.err END,"
    "   session_id = CASE WHEN e.session_id = a.fb THEN a.sess ELSE e.session_id END,"
    "   updated_at = now(), last_ingest_at = now(),"
    "   live_seq = e.live_seq + CASE WHEN a.new THEN 0 ELSE 1 END"
    "  FROM gain a"
    "  WHERE e.id = a.id AND (NOT a.new OR e.telemetry_spans_count <> a.sp OR e.telemetry_events_count <> a.ev"
    "   OR e.node_executions_count <> a.ne OR e.input_tokens <> a.ti OR e.output_tokens <> a.tout"
    "   OR e.cost_usd <> a.cost OR e.unpriced_count <> a.unpriced)"
    "  RETURNING e.id)"
    " SELECT a.id, a.sp, a.ev, a.ne,"
    "  CASE WHEN a.ne <= " LIVE_NODES_MAX_SQL " THEN COALESCE(a.ids, '{}') END,"
    "  (SELECT count(*) FROM up)"
    " FROM gain a"
    " ORDER BY a.id";
