-- 007: when an execution last took an ingest, for stale live runs.
--
-- last_ingest_at is set by every ingest: the one that creates the execution
-- (the default, the transaction's time) and every append (SQL_EXECUTION_APPEND).
-- The read routes show a `running` execution whose last ingest is older than
-- AGORA_STALE_MINUTES as `stale: true`; that is computed when read, and
-- nothing stored changes. Existing executions take their last update time
-- (run as the superuser, whom the forced row-level security does not hide
-- rows from).

ALTER TABLE agora.executions ADD COLUMN last_ingest_at timestamptz;
UPDATE agora.executions SET last_ingest_at = updated_at;
ALTER TABLE agora.executions
    ALTER COLUMN last_ingest_at SET DEFAULT now(),
    ALTER COLUMN last_ingest_at SET NOT NULL;
