-- 026: retention trims the large fields of runs past their payload window,
-- and the erasure trigger is split by concern (README "Retention",
-- docs/DESIGN.md "Retention").
--
-- Trimming. 024's payload window deletes a run's events, spans and
-- snapshots but keeps the run and its node executions, so that lists,
-- statistics and durations still answer. Their own user-sent blobs stay
-- too: executions.error and .metadata and node_executions.error (jsonb;
-- the contract's "error: string or object" and "metadata: {}"; a node
-- execution carries no other blob). A traceback or a dump in them can be
-- many kilobytes per row. The job now replaces each one of them larger
-- than 1 KiB (its JSON text) by a marker {"_trimmed": true, "bytes": N},
-- errors keeping "message" (stats_error_message of the original, at most
-- 200 characters): the viewer and the lists still show what failed, and
-- the error rollups, keyed by that message, still find the run (017's
-- example replacement). Why 1 KiB: an error's type and message, or a few
-- tags of metadata, fit well under it and are kept as sent; a value above
-- about 2 KiB is stored out of line (TOAST) and is what trimming frees.
-- A marker is never trimmed again (nor is a user's object whose top level
-- has a "_trimmed" key: it is left as sent).
--
-- A trim is not a change of the run: the statistics and alert UPDATE
-- triggers of 013 and 014 get the WHEN that 024 gave the delete triggers
-- (the same transaction-local flag), so a trimmed error moves no rollup and
-- fires no alert; updated_at and live_seq stay as they were.
--
-- Each project's progress is a mark (created_at, id) of the last run
-- trimmed: a batch takes the next runs by age after it, so a job never
-- reads the runs it has trimmed already (without it each batch would
-- rescan them all). A run appended to after its payload window has passed
-- keeps what that late append sent.

SET LOCAL ROLE agora_owner;

CREATE TABLE agora.retention_trim_marks (
    project_id      uuid PRIMARY KEY,
    organization_id uuid NOT NULL,
    created_at      timestamptz NOT NULL,
    execution_id    uuid NOT NULL,
    FOREIGN KEY (project_id, organization_id) REFERENCES agora.projects (id, organization_id) ON DELETE CASCADE
);
ALTER TABLE agora.retention_trim_marks ENABLE ROW LEVEL SECURITY;
ALTER TABLE agora.retention_trim_marks FORCE ROW LEVEL SECURITY;
CREATE POLICY definer_all ON agora.retention_trim_marks FOR ALL TO agora_definer USING (true) WITH CHECK (true);

ALTER TABLE agora.retention_runs ADD COLUMN fields_trimmed bigint NOT NULL DEFAULT 0;

-- The marker that replaces v, or NULL when v stays: NULL, at most
-- 1,024 bytes of JSON text, or a marker already. With message, the marker
-- keeps the error's message as the rollups read it.
CREATE FUNCTION agora.retention_trim_value(v jsonb, message boolean) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    SELECT CASE WHEN octet_length(v::text) > 1024
                 AND NOT (jsonb_typeof(v) = 'object' AND v ? '_trimmed')
           THEN jsonb_build_object('_trimmed', true, 'bytes', octet_length(v::text))
                || CASE WHEN message THEN jsonb_build_object('message', agora.stats_error_message(v))
                        ELSE '{}'::jsonb END
           END
    $$;

RESET ROLE;

-- 013's and 014's UPDATE triggers, as they were, with 024's WHEN.
DROP TRIGGER stats_executions_update ON agora.executions;
DROP TRIGGER stats_nodes_update ON agora.node_executions;
DROP TRIGGER alerts_executions_update ON agora.executions;
DROP TRIGGER alerts_nodes_update ON agora.node_executions;
CREATE TRIGGER stats_executions_update AFTER UPDATE ON agora.executions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    WHEN (current_setting('agora.retention_delete', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION agora.stats_changed();
CREATE TRIGGER stats_nodes_update AFTER UPDATE ON agora.node_executions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    WHEN (current_setting('agora.retention_delete', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION agora.stats_changed();
CREATE TRIGGER alerts_executions_update AFTER UPDATE ON agora.executions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    WHEN (current_setting('agora.retention_delete', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION agora.alerts_changed();
CREATE TRIGGER alerts_nodes_update AFTER UPDATE ON agora.node_executions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    WHEN (current_setting('agora.retention_delete', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION agora.alerts_changed();

GRANT SELECT, INSERT, UPDATE ON agora.retention_trim_marks TO agora_definer;
GRANT UPDATE (error, metadata) ON agora.executions TO agora_definer;
GRANT UPDATE (error) ON agora.node_executions TO agora_definer;

-- Up to p_batch of the project's runs created before p_before, the next
-- after its mark, oldest first: their large fields are trimmed and the
-- mark moves past them. Each run is locked first, as the runs batch does,
-- but waited for rather than skipped: the mark passes every run once.
-- Returns how many runs it looked at (0: none left) and how many fields
-- it trimmed.
CREATE FUNCTION agora.retention_trim_batch(p_project uuid, p_before timestamptz, p_batch integer,
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
        WHERE ne.execution_id = ANY (ids) AND agora.retention_trim_value(ne.error, true) IS NOT NULL;
        GET DIAGNOSTICS n = ROW_COUNT;
        trimmed := n;
        WITH t AS (
            SELECT e.id, agora.retention_trim_value(e.error, true) AS error,
                   agora.retention_trim_value(e.metadata, false) AS metadata
            FROM agora.executions e WHERE e.id = ANY (ids)),
        u AS (
            UPDATE agora.executions e
            SET error = COALESCE(t.error, e.error), metadata = COALESCE(t.metadata, e.metadata)
            FROM t
            WHERE e.id = t.id AND (t.error IS NOT NULL OR t.metadata IS NOT NULL)
            RETURNING (t.error IS NOT NULL)::int + (t.metadata IS NOT NULL)::int AS fields)
        SELECT trimmed + COALESCE(sum(u.fields), 0) INTO trimmed FROM u;
        PERFORM set_config('agora.retention_delete', 'off', true);
        INSERT INTO agora.retention_trim_marks AS m (project_id, organization_id, created_at, execution_id)
        SELECT e.project_id, e.organization_id, e.created_at, e.id
        FROM agora.executions e WHERE e.id = ids[cardinality(ids)]
        ON CONFLICT (project_id) DO UPDATE SET created_at = EXCLUDED.created_at, execution_id = EXCLUDED.execution_id;
    END
    $$;

-- 024's record, with what the trim step did.
DROP FUNCTION agora.retention_record(uuid, timestamptz, bigint, bigint, text);
CREATE FUNCTION agora.retention_record(p_project uuid, p_started timestamptz, p_runs bigint,
                                       p_payload bigint, p_trimmed bigint, p_outcome text)
    RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    INSERT INTO agora.retention_runs (organization_id, project_id, started_at, runs_removed,
                                      payload_rows_removed, fields_trimmed, outcome)
    SELECT p.organization_id, p.id, p_started, p_runs, p_payload, p_trimmed, p_outcome
    FROM agora.projects p WHERE p.id = p_project
    $$;

ALTER FUNCTION agora.retention_trim_batch(uuid, timestamptz, integer) OWNER TO agora_definer;
ALTER FUNCTION agora.retention_record(uuid, timestamptz, bigint, bigint, bigint, text) OWNER TO agora_definer;
REVOKE ALL ON FUNCTION agora.retention_trim_batch(uuid, timestamptz, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION agora.retention_record(uuid, timestamptz, bigint, bigint, bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION agora.retention_trim_value(jsonb, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agora.retention_trim_value(jsonb, boolean) TO agora_definer;

-- The erasure trigger (017, 019, 024), split by concern: the skeleton
-- reads the statement's old rows once (a transition table is visible to
-- the trigger function only) and hands each part what it needs, so a
-- later change replaces only its own part. Each part runs as the
-- skeleton's owner (agora_definer, which owns them; no one else may call
-- them). CREATE OR REPLACE keeps the skeleton's owner, grants and trigger.

-- The runs' idempotency keys, by organization first (its index): the
-- table holds a day of every tenant's keys.
CREATE FUNCTION agora.forget_erased_idempotency_keys(p_orgs uuid[], p_ids uuid[]) RETURNS void
    LANGUAGE sql
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    DELETE FROM agora.idempotency_keys i
    WHERE i.organization_id = ANY (p_orgs) AND i.execution_id = ANY (p_ids)
    $$;

-- The runs' live tickets.
CREATE FUNCTION agora.forget_erased_live_tickets(p_ids uuid[]) RETURNS void
    LANGUAGE sql
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    DELETE FROM agora.live_tickets t
    WHERE t.channel IN (SELECT 'execution/' || i FROM unnest(p_ids) i)
    $$;

-- The alerts the runs fired (018's reasons); their deliveries go by
-- alert_deliveries' cascade. By execution_id alone (018's
-- alerts_execution_idx).
CREATE FUNCTION agora.forget_erased_alerts(p_ids uuid[]) RETURNS void
    LANGUAGE sql
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    DELETE FROM agora.alerts a WHERE a.execution_id = ANY (p_ids)
    $$;

-- The error rollups' examples among the failed runs (ids, workflow_ids
-- and started_ats, one run per index). A run is the example only of its
-- own workflow and day: the primary key's (workflow_id, day) prefix finds
-- those rows. Only rollups that outlive the statement: when the workflow
-- itself is being deleted (its cascade got here), its rollups go with it.
-- A retention delete keeps the error rollups whole: the count of an
-- expired run stays (so does its row, whose example_id may then name a run
-- that is gone).
CREATE FUNCTION agora.forget_erased_error_examples(p_ids uuid[], p_workflows uuid[], p_started timestamptz[])
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    BEGIN
        IF current_setting('agora.retention_delete', true) = 'on' THEN
            RETURN;
        END IF;
        WITH o AS (
            SELECT * FROM unnest(p_ids, p_workflows, p_started) AS o (id, workflow_id, started_at)),
        hit AS (
            SELECT s.workflow_id, s.day, s.message, s.shard
            FROM o
            JOIN agora.stats_errors_daily s
              ON s.workflow_id = o.workflow_id AND s.day = date_trunc('day', o.started_at, 'UTC')
             AND s.example_id = o.id
            WHERE EXISTS (SELECT 1 FROM agora.workflows w WHERE w.id = o.workflow_id)),
        repl AS (
            SELECT h.*, (SELECT e.id FROM agora.executions e
                         WHERE e.workflow_id = h.workflow_id AND e.status = 'error'
                           AND e.started_at >= h.day AND e.started_at < h.day + interval '1 day'
                           AND agora.stats_error_message(e.error) = h.message
                         ORDER BY COALESCE(e.completed_at, e.started_at) DESC, e.id
                         LIMIT 1) AS example
            FROM hit h),
        moved AS (
            UPDATE agora.stats_errors_daily s
            SET example_id = r.example,
                last_seen = (SELECT COALESCE(e.completed_at, e.started_at) FROM agora.executions e
                             WHERE e.id = r.example)
            FROM repl r
            WHERE r.example IS NOT NULL AND s.workflow_id = r.workflow_id AND s.day = r.day
              AND s.message = r.message AND s.shard = r.shard
            RETURNING 1)
        DELETE FROM agora.stats_errors_daily s
        USING repl r
        WHERE r.example IS NULL AND s.workflow_id = r.workflow_id AND s.day = r.day AND s.message = r.message;
    END
    $$;

CREATE OR REPLACE FUNCTION agora.forget_erased_executions() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    DECLARE
        ids uuid[];
        orgs uuid[];
        failed uuid[];
        failed_workflows uuid[];
        failed_started timestamptz[];
    BEGIN
        SELECT array_agg(o.id), array_agg(DISTINCT o.organization_id),
               array_agg(o.id) FILTER (WHERE o.status = 'error'),
               array_agg(o.workflow_id) FILTER (WHERE o.status = 'error'),
               array_agg(o.started_at) FILTER (WHERE o.status = 'error')
        INTO ids, orgs, failed, failed_workflows, failed_started
        FROM old_rows o;
        IF ids IS NULL THEN
            RETURN NULL;
        END IF;
        PERFORM agora.forget_erased_idempotency_keys(orgs, ids);
        PERFORM agora.forget_erased_live_tickets(ids);
        PERFORM agora.forget_erased_alerts(ids);
        IF failed IS NOT NULL THEN
            PERFORM agora.forget_erased_error_examples(failed, failed_workflows, failed_started);
        END IF;
        RETURN NULL;
    END
    $$;

ALTER FUNCTION agora.forget_erased_idempotency_keys(uuid[], uuid[]) OWNER TO agora_definer;
ALTER FUNCTION agora.forget_erased_live_tickets(uuid[]) OWNER TO agora_definer;
ALTER FUNCTION agora.forget_erased_alerts(uuid[]) OWNER TO agora_definer;
ALTER FUNCTION agora.forget_erased_error_examples(uuid[], uuid[], timestamptz[]) OWNER TO agora_definer;
REVOKE ALL ON FUNCTION agora.forget_erased_idempotency_keys(uuid[], uuid[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION agora.forget_erased_live_tickets(uuid[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION agora.forget_erased_alerts(uuid[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION agora.forget_erased_error_examples(uuid[], uuid[], timestamptz[]) FROM PUBLIC;
