-- Bulk-loads executions and node executions for the statistics benchmark
-- (bench/stats.sh), as the cluster superuser, through the same statement
-- triggers as the ingest (sql/011): the rollups are filled as they would
-- be by uploads.
--
--   psql -v org=UUID -v project=UUID -v n=COUNT -v part=P -v parts=K -f bench/stats_bulk.sql
--
-- Loads the executions g = 1..n with g % parts = part (so K sessions run
-- side by side, each on its own rollup shard, as concurrent ingests would),
-- in chunks of 20,000 executions per transaction. Each execution belongs to
-- one of the project's workflows named bench-stats-* (g mod their count),
-- started in the last 30 days (a scrambled order), 70 % success, 20 % error
-- (four messages), 10 % cancelled, durations from 50 ms to 100 s spread over
-- three decades; three node executions each (load, call_llm, save) with
-- their phases, a failure in 5 %, retries, tokens on call_llm.
\set ON_ERROR_STOP 1
SELECT array_agg(id ORDER BY name)::text AS wfs FROM agora.workflows
WHERE project_id = :'project' AND name LIKE 'bench-stats-%' \gset
SELECT (:n / :parts + 19999) / 20000 AS chunks, now() AS t_now \gset
SELECT format($f$
BEGIN;
INSERT INTO agora.executions (id, organization_id, project_id, workflow_id, session_id, status, started_at,
    completed_at, duration_ms, error, node_executions_count, input_tokens, output_tokens, cost_usd)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, %1$L, %2$L,
       w[1 + g %% cardinality(w)], 'bulk-' || (g %% 1000),
       CASE WHEN g %% 10 < 7 THEN 'success' WHEN g %% 10 < 9 THEN 'error' ELSE 'cancelled' END,
       ts, ts + d * interval '1 ms', d,
       CASE WHEN g %% 10 IN (7, 8) THEN jsonb_build_object('type', 'TimeoutError',
            'message', 'upstream timed out after ' || (g %% 4 + 1) * 15 || ' s') END,
       3, 300 + g %% 700, 50 + g %% 200, ((300 + g %% 700) * 2.5 + (50 + g %% 200) * 10) * 0.000001
FROM generate_series(%3$s, %4$s) AS g,
     LATERAL (SELECT %6$L::uuid[] AS w,
                     %7$L::timestamptz - ((g::bigint * 7919) %% 2592000) * interval '1 s' AS ts,
                     round((50 * power(10, ((g::bigint * 104729) %% 1000) / 333.0))::numeric, 3)::float8 AS d) t
WHERE g %% %5$s = %8$s;
INSERT INTO agora.node_executions (run_created_at, organization_id, project_id, execution_id, node_name, status,
    started_at, prep_duration_ms, exec_duration_ms, post_duration_ms, retry_count, input_tokens, output_tokens)
SELECT (SELECT e.created_at FROM agora.executions e
        WHERE e.id = ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid),
       %1$L, %2$L, ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
       (ARRAY['load', 'call_llm', 'save'])[k],
       CASE WHEN (g + k) %% 20 = 0 THEN 'error' ELSE 'success' END,
       %7$L::timestamptz - ((g::bigint * 7919) %% 2592000) * interval '1 s',
       ((g * k) %% 97) / 10.0, 10 * power(10, ((g::bigint * 7 * k) %% 1000) / 400.0), ((g + k) %% 13) / 4.0,
       CASE WHEN (g + k) %% 20 = 0 THEN 2 ELSE 0 END,
       CASE WHEN k = 2 THEN 300 + g %% 700 END, CASE WHEN k = 2 THEN 50 + g %% 200 END
FROM generate_series(%3$s, %4$s) AS g, generate_series(1, 3) AS k
WHERE g %% %5$s = %8$s;
COMMIT;
$f$, :'org', :'project', c * 20000 * :parts + 1, least((c + 1) * 20000 * :parts, :n), :parts, :'wfs', :'t_now', :part)
FROM generate_series(0, :chunks - 1) AS c
\gexec
