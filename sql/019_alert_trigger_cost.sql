-- 019: one erasure trigger instead of two (open issue 17's mends).
--
-- 018 made erasing an execution also erase the alerts it fired, with a
-- second AFTER DELETE statement trigger on executions
-- (alerts_forget_erased, function forget_erased_alerts) that repeated the
-- skeleton of 017's forget_erased_executions: its own call, its own
-- SECURITY DEFINER switch and its own pass over the statement's old rows.
-- 017's function now deletes the runs' alerts itself (the deliveries go by
-- cascade, as before) and 018's trigger and function are dropped: what an
-- erasure removes is in one place, and a DELETE of executions pays for one
-- trigger call. CREATE OR REPLACE keeps the function's owner
-- (agora_definer), its grants and 017's trigger, which still fires after
-- 011/013's stats_executions_delete by name order; agora_definer may
-- already delete alerts (018's grant). The body below is 017's, restated
-- whole as CREATE OR REPLACE needs, with the alerts' DELETE added.
--
-- The alert triggers of 014 are left as they are: bench/alerts_cpu.sh
-- (BENCHMARKS.md "Alerts") puts ten rules against none at well under the
-- ingest's 5 % (they already run as agora_definer, SECURITY DEFINER with a
-- pinned search_path, so no tenant's policy narrows them).

DROP TRIGGER alerts_forget_erased ON agora.executions;
DROP FUNCTION agora.forget_erased_alerts();

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
