-- 024: retention (README "Retention", docs/DESIGN.md "Retention").
--
-- A policy per organization (the default of its projects) and, optionally,
-- per project (an override that beats the default): runs_days, how long a
-- run is kept (NULL: forever), and payload_days, a shorter window for its
-- payloads (events, spans, snapshots; NULL: as long as the run). Owners
-- and admins change them; every member reads them. Age is counted from
-- executions.created_at, the server's clock at first ingest: started_at is
-- the client's, and a run sent with a future start would never expire.
--
-- The job (agora-admin retention) calls the SECURITY DEFINER functions
-- below, one batch per transaction, holding a session advisory lock per
-- project so that two jobs at once never work on the same project (the
-- second skips it and says so). Expired runs go the erasure path's way
-- (017/018: their node executions first, then the runs; the statement
-- triggers take their idempotency keys, live tickets and alerts), except
-- that the analytics rollups keep what the runs added: the rollup delete
-- triggers of 013 do not fire for a retention delete (a WHEN on a
-- transaction-local flag the functions set), so dashboards survive.
-- Because the rollups keep their count, the error rollup keeps its row
-- too; its example_id may then name a run that is gone (it answers 404).

SET LOCAL ROLE agora_owner;

CREATE TABLE agora.retention_policies (
    organization_id uuid NOT NULL REFERENCES agora.organizations (id) ON DELETE CASCADE,
    -- NULL: the organization's default.
    project_id      uuid,
    runs_days       integer CHECK (runs_days BETWEEN 1 AND 3650),
    payload_days    integer CHECK (payload_days >= 1 AND (runs_days IS NULL OR payload_days <= runs_days)),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (project_id, organization_id) REFERENCES agora.projects (id, organization_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX retention_policies_org_idx ON agora.retention_policies (organization_id)
    WHERE project_id IS NULL;
CREATE UNIQUE INDEX retention_policies_project_idx ON agora.retention_policies (project_id)
    WHERE project_id IS NOT NULL;

-- One row per project per job run: what it removed, or why it skipped.
CREATE TABLE agora.retention_runs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES agora.organizations (id) ON DELETE CASCADE,
    project_id      uuid NOT NULL,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL DEFAULT now(),
    runs_removed    bigint NOT NULL DEFAULT 0,
    payload_rows_removed bigint NOT NULL DEFAULT 0,
    outcome         text NOT NULL CHECK (outcome IN ('done', 'partial', 'skipped_locked')),
    FOREIGN KEY (project_id, organization_id) REFERENCES agora.projects (id, organization_id) ON DELETE CASCADE
);
CREATE INDEX retention_runs_project_idx ON agora.retention_runs (project_id, id DESC);

-- The job finds a project's oldest runs by their age.
CREATE INDEX executions_created_idx ON agora.executions (project_id, created_at, id);

ALTER TABLE agora.retention_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE agora.retention_policies FORCE ROW LEVEL SECURITY;
ALTER TABLE agora.retention_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE agora.retention_runs FORCE ROW LEVEL SECURITY;

CREATE POLICY retention_policies_read ON agora.retention_policies FOR SELECT TO agora_app
    USING (organization_id = ANY ((SELECT agora.read_orgs())::uuid[]));
CREATE POLICY retention_policies_insert ON agora.retention_policies FOR INSERT TO agora_app
    WITH CHECK (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[]));
CREATE POLICY retention_policies_update ON agora.retention_policies FOR UPDATE TO agora_app
    USING (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[]))
    WITH CHECK (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[]));
CREATE POLICY retention_policies_delete ON agora.retention_policies FOR DELETE TO agora_app
    USING (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[]));
CREATE POLICY retention_runs_read ON agora.retention_runs FOR SELECT TO agora_app
    USING (organization_id = ANY ((SELECT agora.read_orgs())::uuid[]));
CREATE POLICY definer_all ON agora.retention_policies FOR ALL TO agora_definer USING (true) WITH CHECK (true);
CREATE POLICY definer_all ON agora.retention_runs FOR ALL TO agora_definer USING (true) WITH CHECK (true);

RESET ROLE;

-- The erasure path of 017/019 (idempotency keys, live tickets, alerts)
-- serves retention too, but not its error-rollup part: restated whole, as
-- CREATE OR REPLACE needs (019's body with the guard added); it keeps its
-- owner, grants and trigger.
CREATE OR REPLACE FUNCTION agora.forget_erased_executions() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    BEGIN
        -- By organization first (its index): the table holds a day of
        -- every tenant's keys.
        DELETE FROM agora.idempotency_keys i
        WHERE i.organization_id IN (SELECT DISTINCT o.organization_id FROM old_rows o)
          AND i.execution_id IN (SELECT o.id FROM old_rows o);
        DELETE FROM agora.live_tickets t
        WHERE t.channel IN (SELECT 'execution/' || o.id FROM old_rows o);
        -- The alerts the runs fired (018's reasons); their deliveries go
        -- by alert_deliveries' cascade. By execution_id alone (018's
        -- alerts_execution_idx).
        DELETE FROM agora.alerts a
        WHERE a.execution_id IN (SELECT o.id FROM old_rows o);
        -- A retention delete keeps the error rollups whole: the count of
        -- an expired run stays (so does its row, whose example_id may
        -- then name a run that is gone).
        IF current_setting('agora.retention_delete', true) = 'on' THEN
            RETURN NULL;
        END IF;
        -- A run is the example only of its own workflow and day: the
        -- primary key's (workflow_id, day) prefix finds those rows. Only
        -- rollups that outlive the statement: when the workflow itself is
        -- being deleted (its cascade got here), its rollups go with it.
        WITH hit AS (
            SELECT s.workflow_id, s.day, s.message, s.shard
            FROM old_rows o
            JOIN agora.stats_errors_daily s
              ON s.workflow_id = o.workflow_id AND s.day = date_trunc('day', o.started_at, 'UTC')
             AND s.example_id = o.id
            WHERE o.status = 'error'
              AND EXISTS (SELECT 1 FROM agora.workflows w WHERE w.id = o.workflow_id)),
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
        RETURN NULL;
    END
    $$;

-- Retention deletes leave the rollups alone: 013's triggers would take the
-- runs back out. As the migrating role, as 017 did: the trigger function
-- is agora_definer's.
DROP TRIGGER stats_executions_delete ON agora.executions;
DROP TRIGGER stats_nodes_delete ON agora.node_executions;
CREATE TRIGGER stats_executions_delete AFTER DELETE ON agora.executions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    WHEN (current_setting('agora.retention_delete', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION agora.stats_changed();
CREATE TRIGGER stats_nodes_delete AFTER DELETE ON agora.node_executions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    WHEN (current_setting('agora.retention_delete', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION agora.stats_changed();


GRANT SELECT, INSERT, UPDATE, DELETE ON agora.retention_policies TO agora_app;
GRANT SELECT ON agora.retention_runs TO agora_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON agora.retention_policies, agora.retention_runs TO agora_definer;
GRANT SELECT, DELETE ON agora.executions, agora.node_executions, agora.telemetry_spans,
    agora.telemetry_events, agora.shared_state_snapshots TO agora_definer;
GRANT SELECT (id, organization_id) ON agora.projects TO agora_definer;
-- FOR UPDATE needs an UPDATE right: the job locks the runs it removes.
GRANT UPDATE (updated_at) ON agora.executions TO agora_definer;

-- Each project with a policy, effective (its override, else its
-- organization's default), for the job.
CREATE FUNCTION agora.retention_projects()
    RETURNS TABLE (project_id uuid, organization_id uuid, runs_days integer, payload_days integer)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    SELECT p.id, p.organization_id, e.runs_days, e.payload_days
    FROM agora.projects p
    CROSS JOIN LATERAL (
        SELECT r.runs_days, r.payload_days FROM agora.retention_policies r
        WHERE r.organization_id = p.organization_id AND (r.project_id = p.id OR r.project_id IS NULL)
        ORDER BY r.project_id NULLS LAST LIMIT 1) e
    WHERE e.runs_days IS NOT NULL OR e.payload_days IS NOT NULL
    ORDER BY p.id
    $$;

-- Up to p_batch payload rows (events, then spans, then snapshots) of the
-- project's runs created before p_before. Returns how many went.
CREATE FUNCTION agora.retention_payload_batch(p_project uuid, p_before timestamptz, p_batch integer)
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    DECLARE
        t text;
        n bigint;
    BEGIN
        FOREACH t IN ARRAY ARRAY['telemetry_events', 'telemetry_spans', 'shared_state_snapshots'] LOOP
            EXECUTE format('DELETE FROM agora.%1$I d WHERE d.id IN (SELECT v.id FROM agora.executions x'
                           ' JOIN agora.%1$I v ON v.execution_id = x.id'
                           ' WHERE x.project_id = $1 AND x.created_at < $2 LIMIT $3)', t)
                USING p_project, p_before, p_batch;
            GET DIAGNOSTICS n = ROW_COUNT;
            IF n > 0 THEN RETURN n; END IF;
        END LOOP;
        RETURN 0;
    END
    $$;

-- Up to p_batch of the project's runs created before p_before, oldest
-- first, with everything they own. Each run is locked first (as erasure
-- and ingest do): a run still being written finishes first, and one
-- locked by an ingest is skipped until the next batch rather than waited
-- for. Returns how many runs went.
CREATE FUNCTION agora.retention_runs_batch(p_project uuid, p_before timestamptz, p_batch integer)
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    DECLARE
        ids uuid[];
        n bigint;
    BEGIN
        SELECT array_agg(x.id) INTO ids FROM (
            SELECT e.id FROM agora.executions e
            WHERE e.project_id = p_project AND e.created_at < p_before
            ORDER BY e.created_at, e.id LIMIT p_batch
            FOR UPDATE SKIP LOCKED) x;
        IF ids IS NULL THEN RETURN 0; END IF;
        PERFORM set_config('agora.retention_delete', 'on', true);
        DELETE FROM agora.node_executions ne WHERE ne.execution_id = ANY (ids);
        DELETE FROM agora.executions e WHERE e.id = ANY (ids);
        GET DIAGNOSTICS n = ROW_COUNT;
        PERFORM set_config('agora.retention_delete', 'off', true);
        RETURN n;
    END
    $$;

CREATE FUNCTION agora.retention_record(p_project uuid, p_started timestamptz, p_runs bigint,
                                       p_payload bigint, p_outcome text)
    RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    INSERT INTO agora.retention_runs (organization_id, project_id, started_at, runs_removed,
                                      payload_rows_removed, outcome)
    SELECT p.organization_id, p.id, p_started, p_runs, p_payload, p_outcome
    FROM agora.projects p WHERE p.id = p_project
    $$;

ALTER FUNCTION agora.retention_projects() OWNER TO agora_definer;
ALTER FUNCTION agora.retention_payload_batch(uuid, timestamptz, integer) OWNER TO agora_definer;
ALTER FUNCTION agora.retention_runs_batch(uuid, timestamptz, integer) OWNER TO agora_definer;
ALTER FUNCTION agora.retention_record(uuid, timestamptz, bigint, bigint, text) OWNER TO agora_definer;
-- The job runs as the migrating role (a superuser, or a managed admin,
-- which is a member of agora_definer); never the workers.
REVOKE ALL ON FUNCTION agora.retention_projects() FROM PUBLIC;
REVOKE ALL ON FUNCTION agora.retention_payload_batch(uuid, timestamptz, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION agora.retention_runs_batch(uuid, timestamptz, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION agora.retention_record(uuid, timestamptz, bigint, bigint, text) FROM PUBLIC;
