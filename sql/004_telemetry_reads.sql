-- 004: what the ingest and read routes need beyond the base tables.
--
-- Per-execution item counts live on the execution row: ingest already locks
-- and updates that row, so keeping the counts there costs nothing, and the
-- detail and list routes read them without counting 100,000 events.
-- agora.rfc3339() is the one way timestamps are printed (the contract's
-- RFC 3339 UTC with microseconds and a Z), so every route prints them alike.
-- Workflow names are unique within a project, so "create" can answer 409
-- and clients can find a workflow by name.

SET LOCAL ROLE agora_owner;

ALTER TABLE agora.executions
    ADD COLUMN node_executions_count        integer NOT NULL DEFAULT 0 CHECK (node_executions_count >= 0),
    ADD COLUMN telemetry_spans_count        integer NOT NULL DEFAULT 0 CHECK (telemetry_spans_count >= 0),
    ADD COLUMN telemetry_events_count       integer NOT NULL DEFAULT 0 CHECK (telemetry_events_count >= 0),
    ADD COLUMN shared_state_snapshots_count integer NOT NULL DEFAULT 0 CHECK (shared_state_snapshots_count >= 0);

CREATE UNIQUE INDEX workflows_project_name_key ON agora.workflows (project_id, name);

-- to_char is STABLE only because some patterns read the locale; this one
-- reads none, and the time zone is fixed by AT TIME ZONE.
CREATE FUNCTION agora.rfc3339(ts timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT pg_catalog.to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;

RESET ROLE;
GRANT EXECUTE ON FUNCTION agora.rfc3339(timestamptz) TO agora_app;
