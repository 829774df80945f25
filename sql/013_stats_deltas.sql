-- 013: statistics rollups kept by deltas folded later, not by upserts at
-- ingest (docs/DESIGN.md "Statistics"; BENCHMARKS.md "Statistics").
--
-- sql/011's triggers upserted the rollups in the writer's transaction:
-- per row PL/pgSQL histogram functions, one upsert per node name, a
-- shard's advisory lock held until commit; about +9 % of PostgreSQL's CPU
-- for an M ingest. Here the triggers only append: each statement's counted
-- rows become one row of agora.stats_deltas per project (an array of
-- agora.stats_item, the few fields the rollups count), with no lookup,
-- upsert, histogram or lock. agora.stats_fold() moves pending deltas into
-- the rollups: the statistics routes call it before they read (so an
-- answer counts every ingest committed before it), and agora-live calls it
-- every few seconds (so a read finds few deltas pending).
--
-- Exactly once: a fold deletes the deltas it adds, in its own
-- transaction (DELETE ... RETURNING feeds the upserts in one statement),
-- under a transaction-level advisory lock per project (class 'fold'): two
-- folds of one project run one after the other, and the second finds the
-- first's deltas gone. Ingests never take that lock nor a rollup row's:
-- they insert new delta rows, which a running fold does not see and the
-- next fold takes.
--
-- The fold also keeps agora.stats_projects_hourly, a project's executions
-- per hour (the sum of its workflows' rows), so a project's series reads
-- 720 rows for 30 days instead of one row per workflow, hour and shard.
--
-- Existing databases: the rollups sql/011 filled are kept as they are
-- (shards included; readers sum shards), the deltas add to them (the fold
-- writes shard 0), and the project rows start as the sum of the existing
-- workflow rows. Deltas hold what the rollups need and nothing else, so
-- the raw rows may go (retention) without stranding a delta: an execution
-- item names its workflow and start; a node execution item its execution,
-- resolved when folded (an execution deleted before its node executions'
-- deltas are folded takes them along unfolded).

SET LOCAL ROLE agora_owner;

-- What a delta knows of one counted row of executions or node_executions,
-- with its sign (1: its contribution is added; -1: taken away). An
-- execution item has node_name NULL and workflow_id, started_at set; a
-- node execution item has node_name set and its execution's id only.
-- error is agora.stats_error_message() of an execution in error; ended_at
-- its completed_at, else started_at.
CREATE TYPE agora.stats_item AS (
    organization_id uuid,
    project_id      uuid,
    workflow_id     uuid,
    started_at      timestamptz,
    execution_id    uuid,
    sign            smallint,
    node_name       text,
    status          text,
    duration_ms     double precision,
    prep_ms         double precision,
    exec_ms         double precision,
    post_ms         double precision,
    retries         integer,
    input_tokens    bigint,
    output_tokens   bigint,
    cost_usd        numeric,
    error           text,
    ended_at        timestamptz
);

-- Pending contributions, one row per writing statement and project. No
-- foreign key (its check would cost every ingest a lookup): a fold drops
-- the items of workflows that are gone.
CREATE TABLE agora.stats_deltas (
    organization_id uuid NOT NULL,
    project_id      uuid NOT NULL,
    items           agora.stats_item[] NOT NULL
);
CREATE INDEX stats_deltas_project_idx ON agora.stats_deltas (project_id);

-- A project's executions per hour: stats_executions_hourly summed over
-- the project's workflows and shards.
CREATE TABLE agora.stats_projects_hourly (
    organization_id uuid NOT NULL,
    project_id      uuid NOT NULL,
    hour            timestamptz NOT NULL,
    success         bigint NOT NULL DEFAULT 0,
    error           bigint NOT NULL DEFAULT 0,
    cancelled       bigint NOT NULL DEFAULT 0,
    duration_count  bigint NOT NULL DEFAULT 0,
    duration_sum    double precision NOT NULL DEFAULT 0,
    duration_hist   bigint[],
    input_tokens    bigint NOT NULL DEFAULT 0,
    output_tokens   bigint NOT NULL DEFAULT 0,
    cost_usd        numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, hour),
    FOREIGN KEY (project_id, organization_id) REFERENCES agora.projects (id, organization_id) ON DELETE CASCADE
);

-- Both read like the other rollups. Nobody but the fold reads the deltas:
-- agora_app has no grant on them; the policy is there should one be added.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['stats_deltas', 'stats_projects_hourly']
    LOOP
        EXECUTE format('ALTER TABLE agora.%I ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY %I ON agora.%I FOR SELECT
            USING (organization_id = ANY ((SELECT agora.read_orgs())::uuid[])
                   OR project_id = (SELECT agora.key_project()))$p$, t || '_select', t);
    END LOOP;
END
$$;

-- The sum of histograms (the migration's project rows).
CREATE AGGREGATE agora.hist_sum(bigint[]) (
    SFUNC = agora.hist_add,
    STYPE = bigint[]
);

-- The item of a row. Plain SQL that PostgreSQL inlines into the trigger's
-- statements, overloaded by row type.
CREATE FUNCTION agora.stats_item(r agora.executions, sign integer) RETURNS agora.stats_item
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT ROW(r.organization_id, r.project_id, r.workflow_id, r.started_at, r.id, sign, NULL, r.status,
                   r.duration_ms, NULL, NULL, NULL, NULL, r.input_tokens, r.output_tokens, r.cost_usd,
                   CASE WHEN r.status = 'error' THEN agora.stats_error_message(r.error) END,
                   COALESCE(r.completed_at, r.started_at))::agora.stats_item
    $$;

CREATE FUNCTION agora.stats_item(r agora.node_executions, sign integer) RETURNS agora.stats_item
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT ROW(r.organization_id, r.project_id, NULL, NULL, r.execution_id, sign, r.node_name, r.status,
                   NULL, r.prep_duration_ms, r.exec_duration_ms, r.post_duration_ms, r.retry_count,
                   r.input_tokens, r.output_tokens, r.cost_usd, NULL, NULL)::agora.stats_item
    $$;

RESET ROLE;

-- The trigger of both tables, for every operation. A row counts when it
-- is not running; an update counts only rows whose items changed (a live
-- run's appends update a running execution many times and add nothing
-- until it ends), taking the old item away and adding the new one. The
-- items of the statement are appended as one delta row per project.
-- Transition tables' rows are of an anonymous record type: each statement
-- casts them to its table's, which is why the branches name the tables.
-- SECURITY DEFINER as agora_definer: the writers need no grant, and the
-- tenant columns come from rows that passed the writer's policies.
CREATE FUNCTION agora.stats_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    DECLARE
        items agora.stats_item[];
    BEGIN
        IF TG_TABLE_NAME = 'executions' THEN
            IF TG_OP = 'INSERT' THEN
                items := ARRAY(SELECT agora.stats_item(n::agora.executions, 1) FROM new_rows n
                               WHERE n.status <> 'running');
            ELSIF TG_OP = 'DELETE' THEN
                items := ARRAY(SELECT agora.stats_item(o::agora.executions, -1) FROM old_rows o
                               WHERE o.status <> 'running');
            ELSE
                items := ARRAY(
                    SELECT x FROM old_rows o JOIN new_rows n ON n.id = o.id,
                        LATERAL (SELECT agora.stats_item(o::agora.executions, -1) WHERE o.status <> 'running'
                                 UNION ALL
                                 SELECT agora.stats_item(n::agora.executions, 1) WHERE n.status <> 'running') v(x)
                    WHERE agora.stats_item(o::agora.executions, 1) IS DISTINCT FROM
                          agora.stats_item(n::agora.executions, 1));
            END IF;
        ELSIF TG_OP = 'INSERT' THEN
            items := ARRAY(SELECT agora.stats_item(n::agora.node_executions, 1) FROM new_rows n
                           WHERE n.status IS DISTINCT FROM 'running');
        ELSIF TG_OP = 'DELETE' THEN
            items := ARRAY(SELECT agora.stats_item(o::agora.node_executions, -1) FROM old_rows o
                           WHERE o.status IS DISTINCT FROM 'running');
        ELSE
            items := ARRAY(
                SELECT x FROM old_rows o JOIN new_rows n ON n.id = o.id,
                    LATERAL (SELECT agora.stats_item(o::agora.node_executions, -1)
                             WHERE o.status IS DISTINCT FROM 'running'
                             UNION ALL
                             SELECT agora.stats_item(n::agora.node_executions, 1)
                             WHERE n.status IS DISTINCT FROM 'running') v(x)
                WHERE agora.stats_item(o::agora.node_executions, 1) IS DISTINCT FROM
                      agora.stats_item(n::agora.node_executions, 1));
        END IF;
        IF cardinality(items) > 0 THEN
            INSERT INTO agora.stats_deltas (organization_id, project_id, items)
            SELECT i.organization_id, i.project_id, array_agg(i) FROM unnest(items) i GROUP BY 1, 2;
            -- A deletion (rare: erasure, retention) is folded at once, in
            -- the deleting transaction, projects in order: the rollups
            -- reflect it at commit as sql/011's did, and node executions
            -- deleted before their execution are still placed by it.
            IF TG_OP = 'DELETE' THEN
                PERFORM agora.stats_fold(q.project_id)
                FROM (SELECT DISTINCT i.project_id FROM unnest(items) i ORDER BY 1) q;
            END IF;
        END IF;
        RETURN NULL;
    END
    $$;

-- Folds project p's pending deltas into the rollups; the caller holds p's
-- fold lock. One statement: the deletion hands its items to the upserts.
-- Execution items count in the hour (and, for errors, the UTC day) their
-- run started; node execution items in their execution's day. Each rollup
-- row is written once per fold, at shard 0 (sql/011's shards stay summed
-- by the readers). Histograms are built set-based (hb: the signs summed
-- per histogram and bucket; h: each histogram's buckets from its lowest to
-- its highest, zeros between), with no PL/pgSQL call per duration.
-- PL/pgSQL, with a generic plan, so a fold (every read does one) is not
-- planned again each time. At most max_rows delta rows (NULL: all), so a
-- fold of a backlog holds the project's lock for a bounded time. Returns
-- the number of delta rows folded.
CREATE FUNCTION agora.stats_fold_project(p uuid, max_rows integer) RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, agora, pg_temp
    SET plan_cache_mode = force_generic_plan
    AS $$
    DECLARE
        folded bigint;
    BEGIN
        WITH d AS (
            DELETE FROM agora.stats_deltas
            WHERE ctid = ANY (ARRAY(SELECT t.ctid FROM agora.stats_deltas t WHERE t.project_id = p LIMIT max_rows))
            RETURNING items
        ), x AS MATERIALIZED (
            SELECT u.* FROM d CROSS JOIN LATERAL unnest(d.items) u
        ), e AS MATERIALIZED (
            -- the executions of the node execution items, one index probe
            -- each (never a scan of the executions)
            SELECT v.id, v.workflow_id, v.started_at
            FROM (SELECT DISTINCT x.execution_id FROM x WHERE x.node_name IS NOT NULL) k
            CROSS JOIN LATERAL (SELECT ee.id, ee.workflow_id, ee.started_at FROM agora.executions ee
                                WHERE ee.id = k.execution_id) v
        ), i AS MATERIALIZED (
            SELECT w.organization_id, w.project_id, w.id AS workflow_id, x.node_name, x.sign::bigint AS sign,
                   x.status, x.duration_ms, x.prep_ms, x.exec_ms, x.post_ms, x.retries, x.input_tokens,
                   x.output_tokens, x.cost_usd, x.error, x.ended_at, x.execution_id,
                   CASE WHEN x.node_name IS NULL THEN date_trunc('hour', x.started_at, 'UTC') END AS hour,
                   date_trunc('day', COALESCE(x.started_at, e.started_at), 'UTC') AS day
            FROM x LEFT JOIN e ON x.node_name IS NOT NULL AND e.id = x.execution_id
            JOIN agora.workflows w ON w.id = COALESCE(x.workflow_id, e.workflow_id)
        ), hv AS (
            -- kind 0: a workflow's durations per hour, 1: a project's, 2..4:
            -- a node's prep, exec, post per day
            SELECT 0 AS kind, workflow_id AS id, '' AS node, hour AS at, duration_ms AS ms, sign FROM i
            WHERE node_name IS NULL
            UNION ALL SELECT 1, project_id, '', hour, duration_ms, sign FROM i WHERE node_name IS NULL
            UNION ALL SELECT 2, workflow_id, node_name, day, prep_ms, sign FROM i WHERE node_name IS NOT NULL
            UNION ALL SELECT 3, workflow_id, node_name, day, exec_ms, sign FROM i WHERE node_name IS NOT NULL
            UNION ALL SELECT 4, workflow_id, node_name, day, post_ms, sign FROM i WHERE node_name IS NOT NULL
        ), hb AS MATERIALIZED (
            SELECT kind, id, node, at, b, sum(sign) AS n
            FROM (SELECT kind, id, node, at, agora.hist_bucket(ms) AS b, sign FROM hv) v
            WHERE b IS NOT NULL
            GROUP BY kind, id, node, at, b
        ), h AS MATERIALIZED (
            -- zeros for the buckets in between, added as rows (a join on
            -- five columns was planned as a merge join that rescanned hb)
            SELECT kind, id, node, at,
                   ('[' || min(b) || ':' || max(b) || ']=' || array_agg(n ORDER BY b)::text)::bigint[] AS hist
            FROM (SELECT kind, id, node, at, b, sum(n) AS n
                  FROM (SELECT kind, id, node, at, b, n FROM hb
                        UNION ALL
                        SELECT r.kind, r.id, r.node, r.at, g.b, 0
                        FROM (SELECT kind, id, node, at, min(b) AS lo, max(b) AS hi FROM hb
                              GROUP BY kind, id, node, at) r
                        CROSS JOIN LATERAL generate_series(r.lo, r.hi) g(b)) z
                  GROUP BY kind, id, node, at, b) dense
            GROUP BY kind, id, node, at
        ), ex AS (
            -- per workflow and hour (kind 0), and per project and hour (kind 1)
            SELECT k.kind, i.organization_id, i.project_id, CASE WHEN k.kind = 0 THEN i.workflow_id END AS workflow_id,
                   i.hour,
                   COALESCE(sum(sign) FILTER (WHERE status = 'success'), 0) AS success,
                   COALESCE(sum(sign) FILTER (WHERE status = 'error'), 0) AS error,
                   COALESCE(sum(sign) FILTER (WHERE status = 'cancelled'), 0) AS cancelled,
                   COALESCE(sum(sign) FILTER (WHERE duration_ms IS NOT NULL), 0) AS duration_count,
                   COALESCE(sum(sign * duration_ms), 0) AS duration_sum,
                   COALESCE(sum(sign * input_tokens), 0) AS input_tokens,
                   COALESCE(sum(sign * output_tokens), 0) AS output_tokens,
                   COALESCE(sum(sign * cost_usd), 0) AS cost_usd
            FROM i CROSS JOIN (VALUES (0), (1)) k(kind)
            WHERE i.node_name IS NULL
            GROUP BY 1, 2, 3, 4, 5
        ), ex_up AS (
            INSERT INTO agora.stats_executions_hourly AS s
            SELECT ex.organization_id, ex.project_id, ex.workflow_id, ex.hour, 0, ex.success, ex.error, ex.cancelled,
                   ex.duration_count, ex.duration_sum, h.hist, ex.input_tokens, ex.output_tokens, ex.cost_usd
            FROM ex LEFT JOIN h ON h.kind = 0 AND h.id = ex.workflow_id AND h.at = ex.hour
            WHERE ex.kind = 0
            ON CONFLICT (workflow_id, hour, shard) DO UPDATE SET
                success = s.success + excluded.success, error = s.error + excluded.error,
                cancelled = s.cancelled + excluded.cancelled,
                duration_count = s.duration_count + excluded.duration_count,
                duration_sum = s.duration_sum + excluded.duration_sum,
                duration_hist = agora.hist_add(s.duration_hist, excluded.duration_hist),
                input_tokens = s.input_tokens + excluded.input_tokens,
                output_tokens = s.output_tokens + excluded.output_tokens,
                cost_usd = s.cost_usd + excluded.cost_usd
        ), pr_up AS (
            INSERT INTO agora.stats_projects_hourly AS s
            SELECT ex.organization_id, ex.project_id, ex.hour, ex.success, ex.error, ex.cancelled, ex.duration_count,
                   ex.duration_sum, h.hist, ex.input_tokens, ex.output_tokens, ex.cost_usd
            FROM ex LEFT JOIN h ON h.kind = 1 AND h.id = ex.project_id AND h.at = ex.hour
            WHERE ex.kind = 1
            ON CONFLICT (project_id, hour) DO UPDATE SET
                success = s.success + excluded.success, error = s.error + excluded.error,
                cancelled = s.cancelled + excluded.cancelled,
                duration_count = s.duration_count + excluded.duration_count,
                duration_sum = s.duration_sum + excluded.duration_sum,
                duration_hist = agora.hist_add(s.duration_hist, excluded.duration_hist),
                input_tokens = s.input_tokens + excluded.input_tokens,
                output_tokens = s.output_tokens + excluded.output_tokens,
                cost_usd = s.cost_usd + excluded.cost_usd
        ), er_up AS (
            -- last_seen and the example come from added items only: a group
            -- that only takes away leaves them (-infinity never wins).
            INSERT INTO agora.stats_errors_daily AS s (organization_id, project_id, workflow_id, day, message,
                shard, count, last_seen, example_id)
            SELECT organization_id, project_id, workflow_id, day, error, 0, sum(sign),
                   COALESCE(max(ended_at) FILTER (WHERE sign > 0), '-infinity'),
                   COALESCE((array_agg(execution_id ORDER BY ended_at DESC, execution_id) FILTER (WHERE sign > 0))[1],
                            (array_agg(execution_id))[1])
            FROM i WHERE node_name IS NULL AND status = 'error'
            GROUP BY 1, 2, 3, 4, 5
            ON CONFLICT (workflow_id, day, message, shard) DO UPDATE SET
                count = s.count + excluded.count,
                last_seen = greatest(s.last_seen, excluded.last_seen),
                example_id = CASE WHEN excluded.last_seen >= s.last_seen THEN excluded.example_id
                                  ELSE s.example_id END
        ), nd AS (
            SELECT organization_id, project_id, workflow_id, node_name, day, sum(sign) AS runs,
                   COALESCE(sum(sign) FILTER (WHERE status = 'error'), 0) AS errors,
                   COALESCE(sum(sign) FILTER (WHERE status = 'skipped'), 0) AS skipped,
                   COALESCE(sum(sign * retries), 0) AS retries,
                   COALESCE(sum(sign * input_tokens), 0) AS input_tokens,
                   COALESCE(sum(sign * output_tokens), 0) AS output_tokens,
                   COALESCE(sum(sign * cost_usd), 0) AS cost_usd
            FROM i WHERE node_name IS NOT NULL
            GROUP BY 1, 2, 3, 4, 5
        ), nd_up AS (
            INSERT INTO agora.stats_nodes_daily AS s
            SELECT nd.organization_id, nd.project_id, nd.workflow_id, nd.node_name, nd.day, 0, nd.runs, nd.errors,
                   nd.skipped, nd.retries, hp.hist, he.hist, ho.hist, nd.input_tokens, nd.output_tokens, nd.cost_usd
            FROM nd
            LEFT JOIN h hp ON hp.kind = 2 AND hp.id = nd.workflow_id AND hp.node = nd.node_name AND hp.at = nd.day
            LEFT JOIN h he ON he.kind = 3 AND he.id = nd.workflow_id AND he.node = nd.node_name AND he.at = nd.day
            LEFT JOIN h ho ON ho.kind = 4 AND ho.id = nd.workflow_id AND ho.node = nd.node_name AND ho.at = nd.day
            ON CONFLICT (workflow_id, day, node_name, shard) DO UPDATE SET
                runs = s.runs + excluded.runs, errors = s.errors + excluded.errors,
                skipped = s.skipped + excluded.skipped, retries = s.retries + excluded.retries,
                prep_hist = agora.hist_add(s.prep_hist, excluded.prep_hist),
                exec_hist = agora.hist_add(s.exec_hist, excluded.exec_hist),
                post_hist = agora.hist_add(s.post_hist, excluded.post_hist),
                input_tokens = s.input_tokens + excluded.input_tokens,
                output_tokens = s.output_tokens + excluded.output_tokens,
                cost_usd = s.cost_usd + excluded.cost_usd
        )
        SELECT count(*) INTO folded FROM d;
        RETURN folded;
    END
    $$;

-- Folds project p's pending deltas (waiting for a fold of p running
-- elsewhere to commit, then taking what it left), or, with p NULL, every
-- project's whose fold lock is free (skipping the others: they are being
-- folded), at most max_rows delta rows of each (NULL: all). Run it in a
-- transaction of its own and commit: the lock and the rollup rows it wrote
-- are held until then. Returns the delta rows folded (agora-live folds
-- again at once when that is max_rows: a backlog goes in bounded steps).
CREATE FUNCTION agora.stats_fold(p uuid, max_rows integer DEFAULT NULL) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    DECLARE
        q uuid;
        n bigint := 0;
    BEGIN
        IF p IS NOT NULL THEN
            PERFORM pg_advisory_xact_lock(1718578276, hashtext(p::text));
            RETURN agora.stats_fold_project(p, max_rows);
        END IF;
        FOR q IN SELECT DISTINCT d.project_id FROM agora.stats_deltas d LOOP
            IF pg_try_advisory_xact_lock(1718578276, hashtext(q::text)) THEN
                n := greatest(n, agora.stats_fold_project(q, max_rows));
            END IF;
        END LOOP;
        RETURN n;
    END
    $$;

DROP TRIGGER stats_executions_insert ON agora.executions;
DROP TRIGGER stats_executions_update ON agora.executions;
DROP TRIGGER stats_executions_delete ON agora.executions;
DROP TRIGGER stats_nodes_insert ON agora.node_executions;
DROP TRIGGER stats_nodes_update ON agora.node_executions;
DROP TRIGGER stats_nodes_delete ON agora.node_executions;
DROP FUNCTION agora.stats_executions_changed(), agora.stats_nodes_changed(),
    agora.stats_executions_add(agora.executions[], integer), agora.stats_nodes_add(agora.node_executions[], integer),
    agora.stats_executions_remove(agora.executions[]), agora.stats_nodes_remove(agora.node_executions[]),
    agora.stats_executions_delta(agora.executions[], integer, smallint),
    agora.stats_nodes_delta(agora.node_executions[], integer, smallint), agora.stats_shard(uuid);

-- A trigger with transition tables takes one event: three per table.
CREATE TRIGGER stats_executions_insert AFTER INSERT ON agora.executions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION agora.stats_changed();
CREATE TRIGGER stats_executions_update AFTER UPDATE ON agora.executions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION agora.stats_changed();
CREATE TRIGGER stats_executions_delete AFTER DELETE ON agora.executions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION agora.stats_changed();
CREATE TRIGGER stats_nodes_insert AFTER INSERT ON agora.node_executions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION agora.stats_changed();
CREATE TRIGGER stats_nodes_update AFTER UPDATE ON agora.node_executions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION agora.stats_changed();
CREATE TRIGGER stats_nodes_delete AFTER DELETE ON agora.node_executions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION agora.stats_changed();

ALTER FUNCTION agora.stats_changed() OWNER TO agora_definer;
ALTER FUNCTION agora.stats_fold_project(uuid, integer) OWNER TO agora_definer;
ALTER FUNCTION agora.stats_fold(uuid, integer) OWNER TO agora_definer;
REVOKE ALL ON FUNCTION agora.stats_changed(), agora.stats_fold_project(uuid, integer), agora.stats_fold(uuid, integer),
    agora.hist_sum(bigint[]),
    agora.stats_item(agora.executions, integer), agora.stats_item(agora.node_executions, integer)
    FROM PUBLIC;
-- The reads and agora-live fold (agora_app); folding moves a project's
-- numbers from one table to another and shows nothing.
GRANT EXECUTE ON FUNCTION agora.stats_fold(uuid, integer) TO agora_app;
GRANT EXECUTE ON FUNCTION agora.hist_sum(bigint[]),
    agora.stats_item(agora.executions, integer), agora.stats_item(agora.node_executions, integer)
    TO agora_app, agora_definer;
GRANT USAGE ON TYPE agora.stats_item TO agora_definer;

GRANT SELECT (id, organization_id, project_id) ON agora.workflows TO agora_definer;
GRANT SELECT, INSERT, DELETE ON agora.stats_deltas TO agora_definer;
GRANT SELECT, INSERT, UPDATE ON agora.stats_projects_hourly TO agora_definer;
GRANT SELECT ON agora.stats_projects_hourly TO agora_app;

-- The project rows of the rollups sql/011 filled (as the superuser).
INSERT INTO agora.stats_projects_hourly
SELECT organization_id, project_id, hour, sum(success), sum(error), sum(cancelled), sum(duration_count),
       sum(duration_sum), agora.hist_sum(duration_hist), sum(input_tokens), sum(output_tokens), sum(cost_usd)
FROM agora.stats_executions_hourly
GROUP BY 1, 2, 3;
