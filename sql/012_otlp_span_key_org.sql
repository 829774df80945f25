-- 012: the OTLP span key names the organization.
--
-- sql/010 made OTLP spans unique by (execution, trace id, span id), and the
-- OTLP ingest inserts with ON CONFLICT DO NOTHING on that key. ON CONFLICT
-- looks for the conflicting row before any policy or foreign key is
-- checked, and reads it without row-level security: a caller who knew
-- another organization's execution id could insert a span into it, as its
-- own organization, and learn from the answer whether that span existed
-- there (nothing happened: it did; a foreign-key error: it did not). The
-- workers never send such a statement, but RLS is the boundary, not the
-- workers. With the organization in the key, a row of another organization
-- never conflicts: such an insert always reaches the foreign-key check and
-- always fails the same way.

DROP INDEX agora.telemetry_spans_otlp_key;
CREATE UNIQUE INDEX telemetry_spans_otlp_key
    ON agora.telemetry_spans (organization_id, execution_id, trace_id, span_id) WHERE from_otlp;
