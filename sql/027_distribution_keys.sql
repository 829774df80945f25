-- 027: every key of a distributed table carries organization_id
-- (SCALING.md, "Beyond one primary: Citus"; the classification of each
-- table and the rules it must keep are checked by
-- tests/integration/test_distribution_rules.py).
--
-- Citus requires every primary key, unique constraint and unique index of
-- a distributed table to contain the distribution column, and every
-- foreign key between distributed tables to match it column to column.
-- Here:
--
-- - primary keys on id alone become (organization_id, id). A lookup by id
--   stays index-backed: by the composite UNIQUE (id, organization_id[,
--   project_id]) that projects, workflows, executions, alert_rules, alerts
--   and now alert_channels have, or by a plain index on id (api_keys,
--   alert_deliveries); the other tables are never read by id alone.
-- - unique keys gain organization_id after their columns, not in front:
--   the statements that use them (the ingest's node lookup by workflow and
--   name, the folds, the cooldowns) do not name the organization yet, and
--   an index leading with it would no longer serve them. Citus asks only
--   that the column be in the key. Their ON CONFLICT targets name the new
--   column set: the C statements change with this migration, and the
--   SQL functions with such a target (013's stats_fold_project, 014's
--   alerts_fire, 026's retention_trim_batch) are restated below.
-- - the foreign keys on id alone (alert_cooldowns to alert_rules,
--   alert_deliveries to alert_channels, workflow_edges to workflow_nodes)
--   reference keys that contain organization_id. Every table already has
--   the column, filled as its parent's.
--
-- An execution id is then unique within an organization only. The ingest
-- keeps CONTRACT.md's answer for a client execution_id that another
-- organization holds (404, the row untouched) by asking
-- agora.execution_id_elsewhere() before it inserts, one probe of
-- executions_id_organization_id_project_id_key; two organizations racing
-- to create the same id both succeed, each with its own execution, neither
-- seeing the other's (docs/DESIGN.md, "Telemetry: ingest").
-- Idempotency keys become per caller and organization: a user's key
-- reused in another organization is a new key there.
--
-- The four item tables (node_executions, telemetry_spans,
-- telemetry_events, shared_state_snapshots) get their keys in 025, with
-- their partitioning. model_prices is a reference table (SCALING.md says
-- why) and keeps its keys.
--
-- On an existing installation each ALTER TABLE holds its table's lock
-- while the new index builds (a scan of the table): run it in a quiet
-- hour on a large database.

SET LOCAL ROLE agora_owner;

-- The foreign keys on id alone go first: they hold the indexes replaced
-- below.
ALTER TABLE agora.alert_cooldowns DROP CONSTRAINT alert_cooldowns_rule_id_fkey;
ALTER TABLE agora.alert_deliveries DROP CONSTRAINT alert_deliveries_channel_id_fkey;
ALTER TABLE agora.workflow_edges
    DROP CONSTRAINT workflow_edges_workflow_id_from_node_id_fkey,
    DROP CONSTRAINT workflow_edges_workflow_id_to_node_id_fkey;

-- Primary keys: (organization_id, id), built as an index and then made
-- the key under the old name.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['projects', 'api_keys', 'workflows', 'workflow_nodes', 'workflow_edges', 'executions',
                             'alert_rules', 'alert_channels', 'alerts', 'alert_deliveries', 'audit_log',
                             'retention_runs'] LOOP
        EXECUTE format('CREATE UNIQUE INDEX %I ON agora.%I (organization_id, id)', t || '_org_pkey', t);
        EXECUTE format('ALTER TABLE agora.%I DROP CONSTRAINT %I, ADD CONSTRAINT %I PRIMARY KEY USING INDEX %I',
                       t, t || '_pkey', t || '_pkey', t || '_org_pkey');
    END LOOP;
END
$$;
-- The lookups by id alone of the tables without a composite key on id:
-- an API key's authentication, rotation and revocation; a delivery's
-- outcome (alert_delivery_record).
CREATE INDEX api_keys_id_idx ON agora.api_keys (id);
CREATE INDEX alert_deliveries_id_idx ON agora.alert_deliveries (id);

-- Unique keys and the primary keys that are not on id: organization_id
-- added after their columns, under their old names.
DO $$
DECLARE
    k record;
BEGIN
    FOR k IN SELECT * FROM (VALUES
            ('workflow_nodes', 'workflow_nodes_workflow_id_name_key', 'UNIQUE', 'workflow_id, name'),
            ('workflow_nodes', 'workflow_nodes_workflow_id_id_key', 'UNIQUE', 'workflow_id, id'),
            ('alert_channels', 'alert_channels_rule_id_position_key', 'UNIQUE', 'rule_id, position'),
            ('idempotency_keys', 'idempotency_keys_pkey', 'PRIMARY KEY', 'caller, key'),
            ('alert_cooldowns', 'alert_cooldowns_pkey', 'PRIMARY KEY', 'rule_id, subject'),
            ('stats_executions_hourly', 'stats_executions_hourly_pkey', 'PRIMARY KEY', 'workflow_id, hour, shard'),
            ('stats_nodes_daily', 'stats_nodes_daily_pkey', 'PRIMARY KEY', 'workflow_id, day, node_name, shard'),
            ('stats_errors_daily', 'stats_errors_daily_pkey', 'PRIMARY KEY', 'workflow_id, day, message, shard'),
            ('stats_projects_hourly', 'stats_projects_hourly_pkey', 'PRIMARY KEY', 'project_id, hour'),
            ('retention_trim_marks', 'retention_trim_marks_pkey', 'PRIMARY KEY', 'project_id'))
            AS v(tab, name, kind, cols) LOOP
        EXECUTE format('CREATE UNIQUE INDEX %I ON agora.%I (%s, organization_id)', k.name || '_org', k.tab, k.cols);
        EXECUTE format('ALTER TABLE agora.%I DROP CONSTRAINT %I, ADD CONSTRAINT %I %s USING INDEX %I',
                       k.tab, k.name, k.name, k.kind, k.name || '_org');
    END LOOP;
END
$$;

-- The unique indexes that are no constraint (partial ones), likewise.
CREATE UNIQUE INDEX workflows_project_name_org_key ON agora.workflows (project_id, name, organization_id);
DROP INDEX agora.workflows_project_name_key;
ALTER INDEX agora.workflows_project_name_org_key RENAME TO workflows_project_name_key;

CREATE UNIQUE INDEX alerts_rule_execution_org_idx ON agora.alerts (rule_id, execution_id, organization_id)
    WHERE execution_id IS NOT NULL AND NOT test;
DROP INDEX agora.alerts_rule_execution_idx;
ALTER INDEX agora.alerts_rule_execution_org_idx RENAME TO alerts_rule_execution_idx;

CREATE UNIQUE INDEX retention_policies_project_org_idx ON agora.retention_policies (project_id, organization_id)
    WHERE project_id IS NOT NULL;
DROP INDEX agora.retention_policies_project_idx;
ALTER INDEX agora.retention_policies_project_org_idx RENAME TO retention_policies_project_idx;

-- The foreign keys again, each with organization_id (and the project,
-- like the other keys of these tables). alert_channels gets the key its
-- deliveries reference, which also serves lookups by id.
ALTER TABLE agora.alert_channels ADD UNIQUE (id, organization_id, project_id);
ALTER TABLE agora.alert_cooldowns ADD CONSTRAINT alert_cooldowns_rule_id_fkey
    FOREIGN KEY (rule_id, organization_id, project_id)
    REFERENCES agora.alert_rules (id, organization_id, project_id) ON DELETE CASCADE;
ALTER TABLE agora.alert_deliveries ADD CONSTRAINT alert_deliveries_channel_id_fkey
    FOREIGN KEY (channel_id, organization_id, project_id)
    REFERENCES agora.alert_channels (id, organization_id, project_id) ON DELETE CASCADE;
ALTER TABLE agora.workflow_edges
    ADD CONSTRAINT workflow_edges_workflow_id_from_node_id_fkey FOREIGN KEY (workflow_id, from_node_id, organization_id)
        REFERENCES agora.workflow_nodes (workflow_id, id, organization_id) ON DELETE CASCADE,
    ADD CONSTRAINT workflow_edges_workflow_id_to_node_id_fkey FOREIGN KEY (workflow_id, to_node_id, organization_id)
        REFERENCES agora.workflow_nodes (workflow_id, id, organization_id) ON DELETE CASCADE;

RESET ROLE;

-- Whether another organization holds execution id p_id: the ingest's
-- insert of a new execution asks it (see the top). Reveals no more than
-- the ingest's answer already does (404: taken or unknown, alike).
CREATE FUNCTION agora.execution_id_elsewhere(p_id uuid, p_org uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
        SELECT EXISTS (SELECT 1 FROM agora.executions e WHERE e.id = p_id AND e.organization_id <> p_org)
    $$;
GRANT SELECT (id, organization_id) ON agora.executions TO agora_definer;
ALTER FUNCTION agora.execution_id_elsewhere(uuid, uuid) OWNER TO agora_definer;
REVOKE ALL ON FUNCTION agora.execution_id_elsewhere(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agora.execution_id_elsewhere(uuid, uuid) TO agora_app;

-- The three functions whose ON CONFLICT names a key changed above
-- (013's fold, 014's alerts_fire, 026's retention_trim_batch), restated
-- whole (CREATE OR REPLACE keeps their owner and grants) with the new
-- column sets. The fold and the trim also name their project where they
-- look executions and workflows up by id (an execution id is unique per
-- organization now; every item of project p's deltas, every run of its
-- batch, is of p).

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
CREATE OR REPLACE FUNCTION agora.stats_fold_project(p uuid, max_rows integer) RETURNS bigint
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
                                WHERE ee.id = k.execution_id AND ee.project_id = p) v
        ), i AS MATERIALIZED (
            SELECT w.organization_id, w.project_id, w.id AS workflow_id, x.node_name, x.sign::bigint AS sign,
                   x.status, x.duration_ms, x.prep_ms, x.exec_ms, x.post_ms, x.retries, x.input_tokens,
                   x.output_tokens, x.cost_usd, x.error, x.ended_at, x.execution_id,
                   CASE WHEN x.node_name IS NULL THEN date_trunc('hour', x.started_at, 'UTC') END AS hour,
                   date_trunc('day', COALESCE(x.started_at, e.started_at), 'UTC') AS day
            FROM x LEFT JOIN e ON x.node_name IS NOT NULL AND e.id = x.execution_id
            JOIN agora.workflows w ON w.id = COALESCE(x.workflow_id, e.workflow_id) AND w.project_id = p
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
            ON CONFLICT (workflow_id, hour, shard, organization_id) DO UPDATE SET
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
            ON CONFLICT (project_id, hour, organization_id) DO UPDATE SET
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
            ON CONFLICT (workflow_id, day, message, shard, organization_id) DO UPDATE SET
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
            ON CONFLICT (workflow_id, day, node_name, shard, organization_id) DO UPDATE SET
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

-- Fires the candidates that are not muted, snoozed, cooling down or
-- already fired for their execution: the cooldowns, the alerts and one
-- delivery per channel, in one statement. One candidate per rule and
-- subject (the first); cooldown rows are taken in key order, so two
-- writers cannot deadlock on them. Returns how many alerts fired.
CREATE OR REPLACE FUNCTION agora.alerts_fire(cands agora.alert_candidate[]) RETURNS integer
    LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    WITH c AS (
        SELECT DISTINCT ON (x.rule_id, x.subject) x.*, r.organization_id, r.project_id, r.cooldown_minutes
        FROM unnest(cands) x
        JOIN agora.alert_rules r ON r.id = x.rule_id
        WHERE NOT r.muted AND (r.snoozed_until IS NULL OR r.snoozed_until <= now())
          AND NOT EXISTS (SELECT 1 FROM agora.alert_cooldowns q
                          WHERE q.rule_id = x.rule_id AND q.subject = x.subject AND q.quiet_until > now())
          AND (x.execution_id IS NULL OR NOT EXISTS (
                  SELECT 1 FROM agora.alerts a
                  WHERE a.rule_id = x.rule_id AND a.execution_id = x.execution_id AND NOT a.test))
        ORDER BY x.rule_id, x.subject),
    quiet AS (
        INSERT INTO agora.alert_cooldowns AS q (rule_id, subject, organization_id, project_id, quiet_until)
        SELECT rule_id, subject, organization_id, project_id, now() + make_interval(mins => cooldown_minutes)
        FROM c ORDER BY rule_id, subject
        ON CONFLICT (rule_id, subject, organization_id) DO UPDATE SET quiet_until = EXCLUDED.quiet_until
            WHERE q.quiet_until <= now()
        RETURNING q.rule_id, q.subject),
    fired AS (
        INSERT INTO agora.alerts (id, organization_id, project_id, rule_id, subject, execution_id, payload)
        SELECT c.id, c.organization_id, c.project_id, c.rule_id, c.subject, c.execution_id,
               agora.alert_payload(c.id, c.rule_id, c.workflow_id, c.execution_id, c.summary, c.details, false)
        FROM (SELECT gen_random_uuid() AS id, c.* FROM c) c
        JOIN quiet USING (rule_id, subject)
        ON CONFLICT DO NOTHING
        RETURNING id, organization_id, project_id, rule_id),
    sent AS (
        INSERT INTO agora.alert_deliveries (organization_id, project_id, rule_id, alert_id, channel_id)
        SELECT f.organization_id, f.project_id, f.rule_id, f.id, ch.id
        FROM fired f JOIN agora.alert_channels ch ON ch.rule_id = f.rule_id
        RETURNING 1)
    SELECT count(*)::integer FROM fired WHERE (SELECT count(*) FROM sent) >= 0
    $$;

-- Up to p_batch of the project's runs created before p_before, the next
-- after its mark, oldest first: their large fields are trimmed and the
-- mark moves past them. Each run is locked first, as the runs batch does,
-- but waited for rather than skipped: the mark passes every run once.
-- Returns how many runs it looked at (0: none left) and how many fields
-- it trimmed.
CREATE OR REPLACE FUNCTION agora.retention_trim_batch(p_project uuid, p_before timestamptz, p_batch integer,
                                           OUT runs bigint, OUT trimmed bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    DECLARE
        mark_at timestamptz;
        mark_id uuid;
        ids uuid[];
        n bigint;
    BEGIN
        SELECT m.created_at, m.execution_id INTO mark_at, mark_id
        FROM agora.retention_trim_marks m WHERE m.project_id = p_project;
        -- Before every run: one row comparison, which the index of 024
        -- (project_id, created_at, id) starts from, in any plan.
        IF NOT FOUND THEN
            mark_at := '-infinity';
            mark_id := '00000000-0000-0000-0000-000000000000';
        END IF;
        SELECT array_agg(x.id ORDER BY x.created_at, x.id) INTO ids FROM (
            SELECT e.id, e.created_at FROM agora.executions e
            WHERE e.project_id = p_project AND e.created_at < p_before
              AND (e.created_at, e.id) > (mark_at, mark_id)
            ORDER BY e.created_at, e.id LIMIT p_batch
            FOR UPDATE) x;
        runs := COALESCE(cardinality(ids), 0);
        trimmed := 0;
        IF runs = 0 THEN RETURN; END IF;
        PERFORM set_config('agora.retention_delete', 'on', true);
        -- Through the parent table by execution_id: whatever the table's
        -- key or partitioning, each row is found by its run.
        UPDATE agora.node_executions ne SET error = agora.retention_trim_value(ne.error, true)
        WHERE ne.execution_id = ANY (ids) AND ne.project_id = p_project
          AND agora.retention_trim_value(ne.error, true) IS NOT NULL;
        GET DIAGNOSTICS n = ROW_COUNT;
        trimmed := n;
        WITH t AS (
            SELECT e.id, agora.retention_trim_value(e.error, true) AS error,
                   agora.retention_trim_value(e.metadata, false) AS metadata
            FROM agora.executions e WHERE e.id = ANY (ids) AND e.project_id = p_project),
        u AS (
            UPDATE agora.executions e
            SET error = COALESCE(t.error, e.error), metadata = COALESCE(t.metadata, e.metadata)
            FROM t
            WHERE e.id = t.id AND e.project_id = p_project AND (t.error IS NOT NULL OR t.metadata IS NOT NULL)
            RETURNING (t.error IS NOT NULL)::int + (t.metadata IS NOT NULL)::int AS fields)
        SELECT trimmed + COALESCE(sum(u.fields), 0) INTO trimmed FROM u;
        PERFORM set_config('agora.retention_delete', 'off', true);
        INSERT INTO agora.retention_trim_marks AS m (project_id, organization_id, created_at, execution_id)
        SELECT e.project_id, e.organization_id, e.created_at, e.id
        FROM agora.executions e WHERE e.id = ids[cardinality(ids)] AND e.project_id = p_project
        ON CONFLICT (project_id, organization_id) DO UPDATE SET created_at = EXCLUDED.created_at, execution_id = EXCLUDED.execution_id;
    END
    $$;
