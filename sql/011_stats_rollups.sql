-- 011: rollups for the analytics routes (README "Workflow and project
-- statistics", docs/DESIGN.md "Statistics").
--
-- GET /api/workflows/{id}/stats and /api/projects/{id}/stats must answer
-- in milliseconds for a month of a million executions, so they read hourly
-- rollups instead of the executions: per workflow and hour, executions by
-- status, a duration histogram, token and cost sums; per workflow, node
-- name and hour, node executions, failures, retries and a histogram of
-- each phase; per workflow, hour and error message, a count, the last time
-- it was seen and an example execution.
--
-- Maintained by statement-level AFTER triggers on executions and
-- node_executions, in the transaction that wrote the rows: a rolled-back
-- ingest counts nothing, a committed one is counted. Each statement's rows
-- (its transition table) are aggregated into one upsert per rollup row, so
-- an ingest of 200 node executions of 5 nodes writes 5 rows, not 200. The
-- ingest's C code is unchanged: whatever writes these tables (the JSON
-- ingest, the OTLP ingest, a bulk load as superuser) is counted alike.
--
-- What is counted: an execution once it is terminal (success, error,
-- cancelled), in the hour its run started (UTC); a node execution once it
-- is not running (success, error, skipped, or no status), in the hour its
-- execution started, so that a window's node figures are those of the
-- window's executions. A rollup holds the sum of its rows' contributions:
-- an update adds the row's new contribution and takes its old one away
-- (running -> success adds it; a terminal execution whose token sums are
-- corrected adds the difference), and a delete takes it away. So a rollup
-- always equals the same aggregate computed from the rows it covers, which
-- tests/integration/test_stats.py checks.
--
-- Histograms: fixed log-scale buckets of durations in milliseconds, growth
-- factor g = 2^(1/8). Bucket 0 holds values below 0.001 ms (and negative
-- ones); bucket i >= 1 holds [0.001 * g^(i-1), 0.001 * g^i); the last,
-- STATS_HIST_MAX (400, 35 years), everything beyond. A histogram is a
-- bigint[] whose subscripts are the bucket numbers (its lower bound is the
-- lowest bucket used, so a workflow whose runs last seconds stores some 30
-- counts, not 400). Histograms add element-wise (agora.hist_add), so hours
-- and shards merge exactly. A percentile read from one is within a factor
-- sqrt(g) = 2^(1/16) of the exact one (4.43 %), plus 0.001 ms; the reader
-- (src/domain/stats_hist.c) says why.
--
-- Shards: two ingests into one workflow in one hour would update the same
-- rollup row and the second would wait for the first to commit. Rows are
-- spread over 8 shards by the writer's backend (pg_backend_pid() % 8): the
-- workers hold one connection each, so concurrent ingests mostly land on
-- different rows. Readers sum the shards.
--
-- Security: the rollup tables have the policies of the telemetry tables
-- for reading (a member of the organization, or the project's API key).
-- Nobody writes them through the API: agora_app gets SELECT only, and the
-- trigger functions run as agora_definer (SECURITY DEFINER), which reads
-- the tenant columns from rows that already passed the writer's policies
-- and the composite foreign keys. A forged rollup row is impossible for
-- agora_app.

SET LOCAL ROLE agora_owner;

CREATE TABLE agora.stats_executions_hourly (
    organization_id uuid NOT NULL,
    project_id      uuid NOT NULL,
    workflow_id     uuid NOT NULL,
    hour            timestamptz NOT NULL,
    shard           smallint NOT NULL,
    success         bigint NOT NULL DEFAULT 0,
    error           bigint NOT NULL DEFAULT 0,
    cancelled       bigint NOT NULL DEFAULT 0,
    -- duration_ms of the counted executions that report one.
    duration_count  bigint NOT NULL DEFAULT 0,
    duration_sum    double precision NOT NULL DEFAULT 0,
    duration_hist   bigint[],
    input_tokens    bigint NOT NULL DEFAULT 0,
    output_tokens   bigint NOT NULL DEFAULT 0,
    cost_usd        numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (workflow_id, hour, shard),
    FOREIGN KEY (workflow_id, organization_id, project_id)
        REFERENCES agora.workflows (id, organization_id, project_id) ON DELETE CASCADE
);
CREATE INDEX stats_executions_hourly_project_idx ON agora.stats_executions_hourly (project_id, hour);

CREATE TABLE agora.stats_nodes_daily (
    organization_id uuid NOT NULL,
    project_id      uuid NOT NULL,
    workflow_id     uuid NOT NULL,
    node_name       text NOT NULL,
    day             timestamptz NOT NULL,
    shard           smallint NOT NULL,
    runs            bigint NOT NULL DEFAULT 0,
    errors          bigint NOT NULL DEFAULT 0,
    skipped         bigint NOT NULL DEFAULT 0,
    retries         bigint NOT NULL DEFAULT 0,
    prep_hist       bigint[],
    exec_hist       bigint[],
    post_hist       bigint[],
    input_tokens    bigint NOT NULL DEFAULT 0,
    output_tokens   bigint NOT NULL DEFAULT 0,
    cost_usd        numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (workflow_id, day, node_name, shard),
    FOREIGN KEY (workflow_id, organization_id, project_id)
        REFERENCES agora.workflows (id, organization_id, project_id) ON DELETE CASCADE
);
CREATE INDEX stats_nodes_daily_project_idx ON agora.stats_nodes_daily (project_id, day);

-- message: agora.stats_error_message() of the execution's error.
CREATE TABLE agora.stats_errors_daily (
    organization_id uuid NOT NULL,
    project_id      uuid NOT NULL,
    workflow_id     uuid NOT NULL,
    day             timestamptz NOT NULL,
    message         text NOT NULL,
    shard           smallint NOT NULL,
    count           bigint NOT NULL DEFAULT 0,
    last_seen       timestamptz NOT NULL,
    example_id      uuid NOT NULL,
    PRIMARY KEY (workflow_id, day, message, shard),
    FOREIGN KEY (workflow_id, organization_id, project_id)
        REFERENCES agora.workflows (id, organization_id, project_id) ON DELETE CASCADE
);
CREATE INDEX stats_errors_daily_project_idx ON agora.stats_errors_daily (project_id, day);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['stats_executions_hourly', 'stats_nodes_daily', 'stats_errors_daily']
    LOOP
        EXECUTE format('ALTER TABLE agora.%I ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY %I ON agora.%I FOR SELECT
            USING (organization_id = ANY ((SELECT agora.read_orgs())::uuid[])
                   OR project_id = (SELECT agora.key_project()))$p$, t || '_select', t);
    END LOOP;
END
$$;

-- The histogram functions: pure, owned by agora_owner like rfc3339().

-- The bucket of a duration in milliseconds (NULL for NULL or NaN).
-- ln() of a double, not log(2, x), which is numeric and slow.
CREATE FUNCTION agora.hist_bucket(ms double precision) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT CASE WHEN ms IS NULL OR ms = 'NaN'::float8 THEN NULL
                    WHEN ms < 0.001 THEN 0
                    ELSE least(floor(8.0 * ln(ms / 0.001) / ln(2.0))::integer + 1, 400) END
    $$;

-- h with n added to bucket idx, the array extended (with zeros) as needed.
-- Expanded arrays make the element assignment O(1) in PL/pgSQL.
CREATE FUNCTION agora.hist_inc(h bigint[], idx integer, n bigint) RETURNS bigint[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
    BEGIN
        IF idx IS NULL OR n IS NULL OR n = 0 THEN
            RETURN h;
        END IF;
        IF h IS NULL OR cardinality(h) = 0 THEN
            RETURN array_fill(n, ARRAY[1], ARRAY[idx]);
        END IF;
        -- Concatenation keeps the left operand's lower bound.
        IF idx < array_lower(h, 1) THEN
            h := array_fill(0::bigint, ARRAY[array_lower(h, 1) - idx], ARRAY[idx]) || h;
        ELSIF idx > array_upper(h, 1) THEN
            h := h || array_fill(0::bigint, ARRAY[idx - array_upper(h, 1)]);
        END IF;
        h[idx] := h[idx] + n;
        RETURN h;
    END
    $$;

-- a + b element-wise, by bucket number.
CREATE FUNCTION agora.hist_add(a bigint[], b bigint[]) RETURNS bigint[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
    BEGIN
        IF b IS NULL OR cardinality(b) = 0 THEN
            RETURN a;
        END IF;
        IF a IS NULL OR cardinality(a) = 0 THEN
            RETURN b;
        END IF;
        IF array_lower(b, 1) < array_lower(a, 1) THEN
            a := array_fill(0::bigint, ARRAY[array_lower(a, 1) - array_lower(b, 1)], ARRAY[array_lower(b, 1)]) || a;
        END IF;
        IF array_upper(b, 1) > array_upper(a, 1) THEN
            a := a || array_fill(0::bigint, ARRAY[array_upper(b, 1) - array_upper(a, 1)]);
        END IF;
        FOR i IN array_lower(b, 1) .. array_upper(b, 1) LOOP
            a[i] := a[i] + b[i];
        END LOOP;
        RETURN a;
    END
    $$;

-- hist_agg(bucket, n): the histogram of a group, each row adding n (1, or
-- -1 when a row's contribution is taken away).
CREATE AGGREGATE agora.hist_agg(integer, bigint) (
    SFUNC = agora.hist_inc,
    STYPE = bigint[]
);

-- What the error rollup calls an execution's error: the text of a string,
-- "type: message" of an object (the Python client's error_object), else
-- the JSON; at most 200 characters, so messages that differ only in a long
-- tail (an id, a traceback) are grouped.
CREATE FUNCTION agora.stats_error_message(e jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT left(COALESCE(
            CASE jsonb_typeof(e)
                WHEN 'string' THEN e #>> '{}'
                WHEN 'object' THEN NULLIF(concat_ws(': ', e->>'type', e->>'message'), '')
            END,
            e::text, '(no error message)'), 200)
    $$;

RESET ROLE;

-- The writers. stats_*_add adds the contribution of a set of rows, times
-- sign, to the rollups; stats_*_remove (a delete) takes it away from rollup
-- rows that exist, never inserting: a workflow being deleted has had its
-- rollups deleted by the cascade already, and a new one would break its
-- foreign key. Both aggregate with stats_*_delta. Rows are upserted in key
-- order, so two writers that meet on the same rows lock them in the same
-- order and cannot deadlock.

-- The shard of this transaction's rollup rows of workflow w: the first of
-- the 8 whose transaction-level advisory lock (class 'stat') it can take,
-- without waiting. A transaction that already holds one gets it again (the
-- lock is re-entrant), so an ingest writes one shard; concurrent ingests
-- into one workflow take different ones; a quiet workflow uses shard 0
-- only, so readers sum few rows. All 8 taken: the backend's own.
CREATE FUNCTION agora.stats_shard(w uuid) RETURNS smallint
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    BEGIN
        FOR k IN 0 .. 7 LOOP
            IF pg_try_advisory_xact_lock(1937006964, (hashtext(w::text) & -8) | k) THEN
                RETURN k;
            END IF;
        END LOOP;
        RETURN pg_backend_pid() % 8;
    END
    $$;

-- The executions' contribution, times sign, as rollup rows of shard sh.
CREATE FUNCTION agora.stats_executions_delta(batch agora.executions[], sign integer, sh smallint)
    RETURNS SETOF agora.stats_executions_hourly
    LANGUAGE sql STABLE
    AS $$
        SELECT r.organization_id, r.project_id, r.workflow_id, date_trunc('hour', r.started_at, 'UTC'), sh,
               sign * count(*) FILTER (WHERE r.status = 'success'),
               sign * count(*) FILTER (WHERE r.status = 'error'),
               sign * count(*) FILTER (WHERE r.status = 'cancelled'),
               sign * count(r.duration_ms), sign * COALESCE(sum(r.duration_ms), 0),
               agora.hist_agg(agora.hist_bucket(r.duration_ms), sign),
               sign * sum(r.input_tokens), sign * sum(r.output_tokens), sign * sum(r.cost_usd)
        FROM unnest(batch) r
        GROUP BY 1, 2, 3, 4
        ORDER BY 3, 4
    $$;

-- The node executions' contribution: workflow and day come from their
-- execution (read as agora_definer; the rows' foreign keys say it exists).
CREATE FUNCTION agora.stats_nodes_delta(batch agora.node_executions[], sign integer, sh smallint)
    RETURNS SETOF agora.stats_nodes_daily
    LANGUAGE sql STABLE
    AS $$
        SELECT e.organization_id, e.project_id, e.workflow_id, r.node_name, date_trunc('day', e.started_at, 'UTC'),
               sh, sign * count(*),
               sign * count(*) FILTER (WHERE r.status = 'error'),
               sign * count(*) FILTER (WHERE r.status = 'skipped'),
               sign * COALESCE(sum(r.retry_count), 0),
               agora.hist_agg(agora.hist_bucket(r.prep_duration_ms), sign),
               agora.hist_agg(agora.hist_bucket(r.exec_duration_ms), sign),
               agora.hist_agg(agora.hist_bucket(r.post_duration_ms), sign),
               sign * COALESCE(sum(r.input_tokens), 0), sign * COALESCE(sum(r.output_tokens), 0),
               sign * COALESCE(sum(r.cost_usd), 0)
        FROM unnest(batch) r JOIN agora.executions e ON e.id = r.execution_id
        GROUP BY 1, 2, 3, 4, 5
        ORDER BY 3, 5, 4
    $$;

CREATE FUNCTION agora.stats_executions_add(batch agora.executions[], sign integer) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    DECLARE
        my_shard smallint;
    BEGIN
        IF COALESCE(cardinality(batch), 0) = 0 THEN
            RETURN;
        END IF;
        my_shard := agora.stats_shard(batch[1].workflow_id);
        INSERT INTO agora.stats_executions_hourly AS s
        SELECT * FROM agora.stats_executions_delta(batch, sign, my_shard)
        ON CONFLICT (workflow_id, hour, shard) DO UPDATE SET
            success = s.success + excluded.success, error = s.error + excluded.error,
            cancelled = s.cancelled + excluded.cancelled,
            duration_count = s.duration_count + excluded.duration_count,
            duration_sum = s.duration_sum + excluded.duration_sum,
            duration_hist = agora.hist_add(s.duration_hist, excluded.duration_hist),
            input_tokens = s.input_tokens + excluded.input_tokens,
            output_tokens = s.output_tokens + excluded.output_tokens,
            cost_usd = s.cost_usd + excluded.cost_usd;

        IF NOT EXISTS (SELECT 1 FROM unnest(batch) r WHERE r.status = 'error') THEN
            RETURN;
        END IF;
        INSERT INTO agora.stats_errors_daily AS s (organization_id, project_id, workflow_id, day, message,
            shard, count, last_seen, example_id)
        SELECT DISTINCT ON (3, 4, 5) r.organization_id, r.project_id, r.workflow_id,
               date_trunc('day', r.started_at, 'UTC'), agora.stats_error_message(r.error), my_shard,
               sign * count(*) OVER (PARTITION BY r.workflow_id, date_trunc('day', r.started_at, 'UTC'),
                                                  agora.stats_error_message(r.error)),
               COALESCE(r.completed_at, r.started_at), r.id
        FROM unnest(batch) r
        WHERE r.status = 'error'
        ORDER BY 3, 4, 5, COALESCE(r.completed_at, r.started_at) DESC, r.id
        ON CONFLICT (workflow_id, day, message, shard) DO UPDATE SET
            count = s.count + excluded.count,
            last_seen = greatest(s.last_seen, excluded.last_seen),
            example_id = CASE WHEN excluded.last_seen >= s.last_seen THEN excluded.example_id
                              ELSE s.example_id END;
    END
    $$;

-- From the lowest shard of each rollup row (shards are summed; one may go
-- negative).
CREATE FUNCTION agora.stats_executions_remove(batch agora.executions[]) RETURNS void
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
        UPDATE agora.stats_executions_hourly s SET
            success = s.success + d.success, error = s.error + d.error, cancelled = s.cancelled + d.cancelled,
            duration_count = s.duration_count + d.duration_count,
            duration_sum = s.duration_sum + d.duration_sum,
            duration_hist = agora.hist_add(s.duration_hist, d.duration_hist),
            input_tokens = s.input_tokens + d.input_tokens, output_tokens = s.output_tokens + d.output_tokens,
            cost_usd = s.cost_usd + d.cost_usd
        FROM agora.stats_executions_delta(batch, -1, 0::smallint) d
        WHERE s.workflow_id = d.workflow_id AND s.hour = d.hour AND s.shard = (
            SELECT min(x.shard) FROM agora.stats_executions_hourly x
            WHERE x.workflow_id = d.workflow_id AND x.hour = d.hour);

        UPDATE agora.stats_errors_daily s SET count = s.count - d.count
        FROM (SELECT r.workflow_id, date_trunc('day', r.started_at, 'UTC') AS day,
                     agora.stats_error_message(r.error) AS message, count(*) AS count
              FROM unnest(batch) r WHERE r.status = 'error' GROUP BY 1, 2, 3) d
        WHERE s.workflow_id = d.workflow_id AND s.day = d.day AND s.message = d.message AND s.shard = (
            SELECT min(x.shard) FROM agora.stats_errors_daily x
            WHERE x.workflow_id = d.workflow_id AND x.day = d.day AND x.message = d.message);
    $$;

CREATE FUNCTION agora.stats_nodes_add(batch agora.node_executions[], sign integer) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    DECLARE
        my_shard smallint;
    BEGIN
        IF COALESCE(cardinality(batch), 0) = 0 THEN
            RETURN;
        END IF;
        -- A variable, not an argument: PostgreSQL inlines the delta (and
        -- plans it once per session) only when no argument is volatile.
        my_shard := agora.stats_shard((SELECT e.workflow_id FROM agora.executions e
                                       WHERE e.id = batch[1].execution_id));
        INSERT INTO agora.stats_nodes_daily AS s
        SELECT * FROM agora.stats_nodes_delta(batch, sign, my_shard)
        ON CONFLICT (workflow_id, day, node_name, shard) DO UPDATE SET
            runs = s.runs + excluded.runs, errors = s.errors + excluded.errors,
            skipped = s.skipped + excluded.skipped, retries = s.retries + excluded.retries,
            prep_hist = agora.hist_add(s.prep_hist, excluded.prep_hist),
            exec_hist = agora.hist_add(s.exec_hist, excluded.exec_hist),
            post_hist = agora.hist_add(s.post_hist, excluded.post_hist),
            input_tokens = s.input_tokens + excluded.input_tokens,
            output_tokens = s.output_tokens + excluded.output_tokens,
            cost_usd = s.cost_usd + excluded.cost_usd;
    END
    $$;

-- Finds nothing to take when the node executions went with their
-- execution (docs/DESIGN.md "Statistics", known gap).
CREATE FUNCTION agora.stats_nodes_remove(batch agora.node_executions[]) RETURNS void
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
        UPDATE agora.stats_nodes_daily s SET
            runs = s.runs + d.runs, errors = s.errors + d.errors, skipped = s.skipped + d.skipped,
            retries = s.retries + d.retries,
            prep_hist = agora.hist_add(s.prep_hist, d.prep_hist),
            exec_hist = agora.hist_add(s.exec_hist, d.exec_hist),
            post_hist = agora.hist_add(s.post_hist, d.post_hist),
            input_tokens = s.input_tokens + d.input_tokens, output_tokens = s.output_tokens + d.output_tokens,
            cost_usd = s.cost_usd + d.cost_usd
        FROM agora.stats_nodes_delta(batch, -1, 0::smallint) d
        WHERE s.workflow_id = d.workflow_id AND s.node_name = d.node_name AND s.day = d.day
          AND s.shard = (SELECT min(x.shard) FROM agora.stats_nodes_daily x
                         WHERE x.workflow_id = d.workflow_id AND x.day = d.day AND x.node_name = d.node_name);
    $$;

-- The triggers. Statement level, with transition tables: one call per
-- statement whatever its size (a trigger with transition tables takes one
-- event, so each table has three, calling one function that tells them
-- apart by TG_OP). A row counts when not running; an update counts only
-- rows whose counted fields changed (a live run's appends update a running
-- execution many times and add nothing until it ends), taking the old
-- contribution away before adding the new one. SECURITY DEFINER as
-- agora_definer: the writers need no grant to agora_app.

CREATE FUNCTION agora.stats_executions_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    DECLARE
        olds agora.executions[];
        news agora.executions[];
    BEGIN
        IF TG_OP = 'INSERT' THEN
            news := ARRAY(SELECT n::agora.executions FROM new_rows n WHERE n.status <> 'running');
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM agora.stats_executions_remove(ARRAY(
                SELECT o::agora.executions FROM old_rows o WHERE o.status <> 'running'));
        ELSE
            SELECT array_agg(o::agora.executions) FILTER (WHERE o.status <> 'running'),
                   array_agg(n::agora.executions) FILTER (WHERE n.status <> 'running')
            INTO olds, news
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.status, o.started_at, o.completed_at, o.duration_ms, o.error, o.input_tokens, o.output_tokens,
                   o.cost_usd, o.workflow_id)
                  IS DISTINCT FROM (n.status, n.started_at, n.completed_at, n.duration_ms, n.error, n.input_tokens,
                                    n.output_tokens, n.cost_usd, n.workflow_id);
            PERFORM agora.stats_executions_add(olds, -1);
        END IF;
        PERFORM agora.stats_executions_add(news, 1);
        RETURN NULL;
    END
    $$;

CREATE FUNCTION agora.stats_nodes_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    DECLARE
        olds agora.node_executions[];
        news agora.node_executions[];
    BEGIN
        IF TG_OP = 'INSERT' THEN
            news := ARRAY(SELECT n::agora.node_executions FROM new_rows n WHERE n.status IS DISTINCT FROM 'running');
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM agora.stats_nodes_remove(ARRAY(
                SELECT o::agora.node_executions FROM old_rows o WHERE o.status IS DISTINCT FROM 'running'));
        ELSE
            SELECT array_agg(o::agora.node_executions) FILTER (WHERE o.status IS DISTINCT FROM 'running'),
                   array_agg(n::agora.node_executions) FILTER (WHERE n.status IS DISTINCT FROM 'running')
            INTO olds, news
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.status, o.node_name, o.prep_duration_ms, o.exec_duration_ms, o.post_duration_ms, o.retry_count,
                   o.input_tokens, o.output_tokens, o.cost_usd)
                  IS DISTINCT FROM (n.status, n.node_name, n.prep_duration_ms, n.exec_duration_ms,
                                    n.post_duration_ms, n.retry_count, n.input_tokens, n.output_tokens, n.cost_usd);
            PERFORM agora.stats_nodes_add(olds, -1);
        END IF;
        PERFORM agora.stats_nodes_add(news, 1);
        RETURN NULL;
    END
    $$;

CREATE TRIGGER stats_executions_insert AFTER INSERT ON agora.executions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION agora.stats_executions_changed();
CREATE TRIGGER stats_executions_update AFTER UPDATE ON agora.executions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION agora.stats_executions_changed();
CREATE TRIGGER stats_executions_delete AFTER DELETE ON agora.executions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION agora.stats_executions_changed();
CREATE TRIGGER stats_nodes_insert AFTER INSERT ON agora.node_executions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION agora.stats_nodes_changed();
CREATE TRIGGER stats_nodes_update AFTER UPDATE ON agora.node_executions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION agora.stats_nodes_changed();
CREATE TRIGGER stats_nodes_delete AFTER DELETE ON agora.node_executions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION agora.stats_nodes_changed();

ALTER FUNCTION agora.hist_bucket(double precision) OWNER TO agora_owner;
ALTER FUNCTION agora.hist_inc(bigint[], integer, bigint) OWNER TO agora_owner;
ALTER FUNCTION agora.hist_add(bigint[], bigint[]) OWNER TO agora_owner;
ALTER AGGREGATE agora.hist_agg(integer, bigint) OWNER TO agora_owner;
ALTER FUNCTION agora.stats_error_message(jsonb) OWNER TO agora_owner;
ALTER FUNCTION agora.stats_shard(uuid) OWNER TO agora_definer;
ALTER FUNCTION agora.stats_executions_delta(agora.executions[], integer, smallint) OWNER TO agora_definer;
ALTER FUNCTION agora.stats_nodes_delta(agora.node_executions[], integer, smallint) OWNER TO agora_definer;
ALTER FUNCTION agora.stats_executions_add(agora.executions[], integer) OWNER TO agora_definer;
ALTER FUNCTION agora.stats_nodes_add(agora.node_executions[], integer) OWNER TO agora_definer;
ALTER FUNCTION agora.stats_executions_remove(agora.executions[]) OWNER TO agora_definer;
ALTER FUNCTION agora.stats_nodes_remove(agora.node_executions[]) OWNER TO agora_definer;
ALTER FUNCTION agora.stats_executions_changed() OWNER TO agora_definer;
ALTER FUNCTION agora.stats_nodes_changed() OWNER TO agora_definer;

-- The writers run for the triggers only; the pure helpers for anyone of ours.
REVOKE ALL ON FUNCTION agora.stats_shard(uuid),
    agora.stats_executions_delta(agora.executions[], integer, smallint),
    agora.stats_nodes_delta(agora.node_executions[], integer, smallint),
    agora.stats_executions_add(agora.executions[], integer), agora.stats_nodes_add(agora.node_executions[], integer),
    agora.stats_executions_remove(agora.executions[]), agora.stats_nodes_remove(agora.node_executions[]),
    agora.stats_executions_changed(), agora.stats_nodes_changed(),
    agora.hist_bucket(double precision), agora.hist_inc(bigint[], integer, bigint),
    agora.hist_add(bigint[], bigint[]), agora.hist_agg(integer, bigint), agora.stats_error_message(jsonb)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agora.hist_bucket(double precision), agora.hist_inc(bigint[], integer, bigint),
    agora.hist_add(bigint[], bigint[]), agora.hist_agg(integer, bigint), agora.stats_error_message(jsonb)
    TO agora_app, agora_definer;

-- What the writers touch, and nothing more.
GRANT SELECT (id, organization_id, project_id, workflow_id, started_at) ON agora.executions TO agora_definer;
GRANT SELECT, INSERT, UPDATE ON agora.stats_executions_hourly, agora.stats_nodes_daily, agora.stats_errors_daily
    TO agora_definer;
GRANT SELECT ON agora.stats_executions_hourly, agora.stats_nodes_daily, agora.stats_errors_daily TO agora_app;

-- Existing rows, once (as the superuser; RLS does not hide rows from it).
-- One workflow and UTC day at a time, so no array grows with the table.
DO $$
DECLARE
    g record;
BEGIN
    FOR g IN SELECT DISTINCT e.workflow_id, date_trunc('day', e.started_at, 'UTC') AS day
             FROM agora.executions e
    LOOP
        PERFORM agora.stats_executions_add(ARRAY(
            SELECT e FROM agora.executions e
            WHERE e.workflow_id = g.workflow_id AND e.status <> 'running'
              AND e.started_at >= g.day AND e.started_at < g.day + interval '1 day'), 1);
        PERFORM agora.stats_nodes_add(ARRAY(
            SELECT n FROM agora.executions e JOIN agora.node_executions n ON n.execution_id = e.id
            WHERE e.workflow_id = g.workflow_id AND n.status IS DISTINCT FROM 'running'
              AND e.started_at >= g.day AND e.started_at < g.day + interval '1 day'), 1);
    END LOOP;
END
$$;
