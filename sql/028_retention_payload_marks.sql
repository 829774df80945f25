-- 028: the payload step of retention resumes after a per-project mark
-- (README "Retention", docs/DESIGN.md "Retention").
--
-- 024's retention_payload_batch (restated by 025) found its rows by
-- joining every run of the project created before the cutoff to the
-- payload tables, cleared runs included: each batch probed the three
-- tables' indexes once per old run, so a project keeping a year of runs
-- with a 7-day payload window re-read a year of cleared runs on every
-- batch of every job. Now, as 026's trim step does, the batch takes the
-- next runs by age after the project's mark (created_at, id), deletes
-- their payload rows and moves the mark past them: a run is walked once.
--
-- The mark has its own table, the shape of retention_trim_marks, rather
-- than a step column in that one: each table is written by one function
-- only, and a shared one would need the trim table's key changed and 027's
-- trim function restated for no gain (both hold one row per project). The
-- two marks move apart: payloads go before the runs batches, trims after.
--
-- A batch handles up to p_batch runs and deletes up to p_batch payload
-- rows (so a transaction holds about as many row locks as 024's did): the
-- rows are taken in the runs' order, and when the row budget runs out
-- inside a run, the mark stops before that run and the next batch goes on
-- from it. Each call thus moves the mark or deletes rows; the job calls
-- until a batch finds no run after the mark.
--
-- Rows sent to a run after the mark has passed it (a run still "running"
-- past its payload window that appends again; terminal runs refuse
-- appends) are kept: the batches do not come back to it, as the trim step
-- does not (026). They go when the run itself expires (runs_days) or when
-- its month's partition is dropped (025). 024's batch deleted them at the
-- next job, by rescanning every old run, which is the cost removed here.
--
-- Whole months dropped (025's retention_drop_partition) take the payload
-- rows of their runs, not the runs: the mark walks those runs once, each
-- probe pruned to the run's month (now absent: DEFAULT's index), finds
-- nothing and passes them; none is skipped, none is read again. Runs deleted by the runs batches may leave the mark naming
-- a run that is gone: the mark is a position in (created_at, id) order,
-- not a reference, so it stays correct. A run whose created_at an
-- operator sets back before the mark is not seen by the payload step
-- (server-clock created_at only grows; runs before the mark are at least
-- a day old).

SET LOCAL ROLE agora_owner;

CREATE TABLE agora.retention_payload_marks (
    project_id      uuid NOT NULL,
    organization_id uuid NOT NULL,
    created_at      timestamptz NOT NULL,
    execution_id    uuid NOT NULL,
    -- organization_id in the key, after project_id (SCALING.md "Keys").
    PRIMARY KEY (project_id, organization_id),
    FOREIGN KEY (project_id, organization_id) REFERENCES agora.projects (id, organization_id) ON DELETE CASCADE
);
ALTER TABLE agora.retention_payload_marks ENABLE ROW LEVEL SECURITY;
ALTER TABLE agora.retention_payload_marks FORCE ROW LEVEL SECURITY;
CREATE POLICY definer_all ON agora.retention_payload_marks FOR ALL TO agora_definer USING (true) WITH CHECK (true);

RESET ROLE;

GRANT SELECT, INSERT, UPDATE ON agora.retention_payload_marks TO agora_definer;

-- The result changes (rows removed -> runs looked at and rows removed), so
-- the function is dropped and made again, with 024's owner and grants.
DROP FUNCTION agora.retention_payload_batch(uuid, timestamptz, integer);

-- Up to p_batch of the project's runs created before p_before, the next
-- after its mark, oldest first, each locked and waited for (as the trim
-- batch: a run skipped would be passed by the mark for good); up to
-- p_batch of their events, spans and snapshots, in the runs' order, are
-- deleted, and the mark moves past every run whose rows are all gone.
-- Returns how many runs it looked at (0: none left after the mark) and how
-- many rows it removed.
CREATE FUNCTION agora.retention_payload_batch(p_project uuid, p_before timestamptz, p_batch integer,
                                              OUT runs bigint, OUT removed bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    DECLARE
        mark_at timestamptz;
        mark_id uuid;
        ids uuid[];
        ats timestamptz[];
        left_in bigint;
        done integer;
    BEGIN
        SELECT m.created_at, m.execution_id INTO mark_at, mark_id
        FROM agora.retention_payload_marks m WHERE m.project_id = p_project;
        -- Before every run: one row comparison, which the index of 024
        -- (project_id, created_at, id) starts from.
        IF NOT FOUND THEN
            mark_at := '-infinity';
            mark_id := '00000000-0000-0000-0000-000000000000';
        END IF;
        SELECT array_agg(x.id ORDER BY x.created_at, x.id), array_agg(x.created_at ORDER BY x.created_at, x.id)
        INTO ids, ats FROM (
            SELECT e.id, e.created_at FROM agora.executions e
            WHERE e.project_id = p_project AND e.created_at < p_before
              AND (e.created_at, e.id) > (mark_at, mark_id)
            ORDER BY e.created_at, e.id LIMIT p_batch
            FOR UPDATE) x;
        runs := COALESCE(cardinality(ids), 0);
        removed := 0;
        IF runs = 0 THEN RETURN; END IF;
        -- The rows to delete, run by run in the mark's order (a nested loop
        -- over the runs, each probe pruned to its run's month by
        -- run_created_at): the first p_batch, and one more, which tells
        -- whether the budget ran out and in which run. Then each table's
        -- rows by its key.
        WITH r AS (
            SELECT r.id, r.created_at, r.ord FROM unnest(ids, ats) WITH ORDINALITY AS r (id, created_at, ord)),
        k AS MATERIALIZED (
            SELECT row_number() OVER (ORDER BY r.ord) AS rn, r.ord, v.tbl, v.organization_id, v.id,
                   v.run_created_at
            FROM r CROSS JOIN LATERAL (
                SELECT 1 AS tbl, d.organization_id, d.id, d.run_created_at FROM agora.telemetry_events d
                WHERE d.execution_id = r.id AND d.run_created_at = r.created_at
                UNION ALL
                SELECT 2, d.organization_id, d.id, d.run_created_at FROM agora.telemetry_spans d
                WHERE d.execution_id = r.id AND d.run_created_at = r.created_at
                UNION ALL
                SELECT 3, d.organization_id, d.id, d.run_created_at FROM agora.shared_state_snapshots d
                WHERE d.execution_id = r.id AND d.run_created_at = r.created_at) v
            ORDER BY r.ord LIMIT p_batch + 1),
        e AS (
            DELETE FROM agora.telemetry_events d USING k
            WHERE k.rn <= p_batch AND k.tbl = 1 AND d.organization_id = k.organization_id AND d.id = k.id
              AND d.run_created_at = k.run_created_at RETURNING 1),
        s AS (
            DELETE FROM agora.telemetry_spans d USING k
            WHERE k.rn <= p_batch AND k.tbl = 2 AND d.organization_id = k.organization_id AND d.id = k.id
              AND d.run_created_at = k.run_created_at RETURNING 1),
        n AS (
            DELETE FROM agora.shared_state_snapshots d USING k
            WHERE k.rn <= p_batch AND k.tbl = 3 AND d.organization_id = k.organization_id AND d.id = k.id
              AND d.run_created_at = k.run_created_at RETURNING 1)
        SELECT (SELECT k.ord FROM k WHERE k.rn > p_batch),
               (SELECT count(*) FROM e) + (SELECT count(*) FROM s) + (SELECT count(*) FROM n)
        INTO left_in, removed;
        -- Every run before the one the budget ran out in has no row left;
        -- that one may have more: the mark stops before it.
        done := COALESCE(left_in - 1, runs)::integer;
        IF done = 0 THEN RETURN; END IF;
        INSERT INTO agora.retention_payload_marks AS m (project_id, organization_id, created_at, execution_id)
        SELECT e.project_id, e.organization_id, e.created_at, e.id
        FROM agora.executions e WHERE e.id = ids[done] AND e.project_id = p_project
        ON CONFLICT (project_id, organization_id)
        DO UPDATE SET created_at = EXCLUDED.created_at, execution_id = EXCLUDED.execution_id;
    END
    $$;

ALTER FUNCTION agora.retention_payload_batch(uuid, timestamptz, integer) OWNER TO agora_definer;
-- The job runs as the migrating role (sql/024); never the workers.
REVOKE ALL ON FUNCTION agora.retention_payload_batch(uuid, timestamptz, integer) FROM PUBLIC;
