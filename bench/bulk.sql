-- Bulk-loads executions for the read benchmark (bench/run.sh), as the
-- cluster superuser (RLS does not apply to it): :n more executions of the
-- benchmark's workflow, in chunks of 100,000 rows per transaction.
--
--   psql -v org=UUID -v project=UUID -v workflow=UUID -v n=COUNT -v seed=S -f bench/bulk.sql
--
-- started_at is spread over 2024 in a scrambled order (g * 7919 mod a
-- year of seconds, plus microseconds), so new rows land all over the
-- (scope, started_at, id) indexes rather than only at their right edge, as
-- executions arriving from many clients with skewed clocks would. Statuses
-- cycle through the four values; sessions repeat every 1,000 executions.
-- The item counts are 0: the bulk rows are list entries. The executions the
-- benchmark reads items from (a 200-node, 2,000-event one) were ingested.
\set ON_ERROR_STOP 1
SELECT (:n + 99999) / 100000 AS chunks \gset
-- psql has no loops: one INSERT per chunk, generated and run by \gexec.
SELECT format($f$
INSERT INTO agora.executions (id, organization_id, project_id, workflow_id, session_id, status,
    started_at, completed_at, duration_ms, metadata)
SELECT gen_random_uuid(), %L, %L, %L, 'bulk-' || (g %% 1000),
       (ARRAY['success', 'success', 'error', 'cancelled'])[1 + g %% 4],
       ts, ts + interval '4 s', 4000 + g %% 1000,
       jsonb_build_object('bulk', true, 'n', g)
FROM generate_series(%s, %s) AS g,
     LATERAL (SELECT timestamptz '2024-01-01 00:00:00+00'
                     + ((g::bigint * 7919 + %s) %% 31536000) * interval '1 s'
                     + (g %% 1000000) * interval '1 microsecond' AS ts) t
$f$, :'org', :'project', :'workflow',
     :seed + c * 100000 + 1, :seed + least((c + 1) * 100000, :n), :seed)
FROM generate_series(0, :chunks - 1) AS c
\gexec
