-- 010: OpenTelemetry trace ingest (POST /v1/traces, README "OpenTelemetry").
--
-- A batch span processor sends a trace's spans in several requests, in any
-- order, and an exporter resends a whole request when it timed out or got
-- a 503: a span sent twice must be stored once. Spans that came through
-- OTLP are marked (from_otlp) and unique by (execution, trace id, span id);
-- the OTLP ingest inserts them with ON CONFLICT DO NOTHING on this index,
-- so a resend writes nothing, with no error to abort the transaction.
-- Partial: spans of the JSON ingest payload keep their own rules (nothing
-- ever promised they were unique, and existing rows may repeat ids), and
-- cost the index nothing.
--
-- No new policy is needed: the column belongs to telemetry_spans, whose
-- policies (003) and grants already cover every column. ON CONFLICT DO
-- NOTHING applies no policy to the conflicting row: it is always a row of
-- the caller's own execution (the execution id is part of the key, and the
-- OTLP ingest locks or inserts that execution, visible, beforehand).
--
-- The column is added with a constant default: no table rewrite.

ALTER TABLE agora.telemetry_spans ADD COLUMN from_otlp boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX telemetry_spans_otlp_key ON agora.telemetry_spans (execution_id, trace_id, span_id)
    WHERE from_otlp;
