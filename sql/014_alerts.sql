-- 014: alerts (README "Alerts", docs/DESIGN.md "Alerts"). Rules per
-- project, their webhook channels, the outbox of alerts that fired, and one
-- delivery per alert and channel, which agora-alerts sends.
--
-- Rules that fire on an ingest (execution_failed, duration_above) are
-- evaluated by statement-level AFTER triggers with transition tables on
-- executions and node_executions, inside the writer's transaction: a
-- rolled-back ingest fires nothing, a committed one cannot lose its alert,
-- and every writer (the JSON ingest, the OTLP ingest, a bulk load) is seen
-- alike. The cost when a project has no such rule is one probe of a partial
-- index per statement. Window rules (node_failure_rate, usage_above) and
-- stale runs are evaluated by agora-alerts on a schedule, through
-- alert_evaluate_windows().
--
-- Cooldown: a rule fires at most once per subject (a workflow; a node of
-- it; a run for stale runs; the project or workflow for usage) within its
-- cooldown. alert_cooldowns holds the time until which a (rule, subject)
-- is quiet; a burst of matching ingests reads it without a lock and only
-- the first after it expired takes the row. An execution fires a rule at
-- most once (a unique index on alerts), whatever the number of statements
-- that touch it.
--
-- Security: every table carries organization_id and project_id, RLS is
-- FORCEd as on the other tables. Members read rules and deliveries; owners
-- and admins write rules and channels (and test-fire, which inserts an
-- alert and its deliveries). A channel's secret is never readable by
-- agora_app (column grants); has_secret says whether there is one. The
-- triggers and the deliverer's functions run as agora_definer (SECURITY
-- DEFINER): the tenant columns they write come from rows that passed the
-- writer's policies.

SET LOCAL ROLE agora_owner;

CREATE TABLE agora.alert_rules (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id  uuid NOT NULL,
    project_id       uuid NOT NULL,
    name             text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    kind             text NOT NULL CHECK (kind IN ('execution_failed', 'duration_above', 'node_failure_rate',
                                                   'stale_run', 'usage_above')),
    workflow_id      uuid,
    node_name        text CHECK (char_length(node_name) BETWEEN 1 AND 200),
    error_contains   text CHECK (char_length(error_contains) BETWEEN 1 AND 200),
    -- duration_above: milliseconds; node_failure_rate: percent; usage_above:
    -- tokens or US dollars (metric).
    threshold        double precision CHECK (threshold >= 0),
    metric           text CHECK (metric IN ('tokens', 'cost_usd')),
    window_minutes   integer CHECK (window_minutes BETWEEN 1 AND 10080),
    min_runs         integer CHECK (min_runs BETWEEN 1 AND 1000000),
    cooldown_minutes integer NOT NULL DEFAULT 60 CHECK (cooldown_minutes BETWEEN 0 AND 10080),
    muted            boolean NOT NULL DEFAULT false,
    snoozed_until    timestamptz,
    -- Window rules: the end of the last window evaluated (several
    -- agora-alerts claim a window by moving it, once).
    evaluated_until  timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, organization_id, project_id),
    FOREIGN KEY (project_id, organization_id) REFERENCES agora.projects (id, organization_id) ON DELETE CASCADE,
    FOREIGN KEY (workflow_id, organization_id, project_id)
        REFERENCES agora.workflows (id, organization_id, project_id) ON DELETE CASCADE
);
CREATE INDEX alert_rules_project_idx ON agora.alert_rules (project_id, created_at, id);
-- What the ingest triggers probe: nearly free for a project without rules.
CREATE INDEX alert_rules_ingest_idx ON agora.alert_rules (project_id)
    WHERE kind IN ('execution_failed', 'duration_above');
CREATE INDEX alert_rules_node_idx ON agora.alert_rules (project_id, node_name)
    WHERE kind = 'execution_failed' AND node_name IS NOT NULL;
CREATE INDEX alert_rules_scheduled_idx ON agora.alert_rules (kind)
    WHERE kind IN ('node_failure_rate', 'stale_run', 'usage_above');

CREATE TABLE agora.alert_channels (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL,
    project_id      uuid NOT NULL,
    rule_id         uuid NOT NULL,
    position        smallint NOT NULL,
    url             text NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2048),
    secret          text CHECK (char_length(secret) BETWEEN 1 AND 512),
    has_secret      boolean GENERATED ALWAYS AS (secret IS NOT NULL) STORED,
    UNIQUE (rule_id, position),
    FOREIGN KEY (rule_id, organization_id, project_id)
        REFERENCES agora.alert_rules (id, organization_id, project_id) ON DELETE CASCADE
);

-- The outbox: one row per alert fired, its id the stable id receivers see.
CREATE TABLE agora.alerts (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL,
    project_id      uuid NOT NULL,
    rule_id         uuid NOT NULL,
    subject         text NOT NULL,
    execution_id    uuid,
    test            boolean NOT NULL DEFAULT false,
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, organization_id, project_id),
    FOREIGN KEY (rule_id, organization_id, project_id)
        REFERENCES agora.alert_rules (id, organization_id, project_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX alerts_rule_execution_idx ON agora.alerts (rule_id, execution_id)
    WHERE execution_id IS NOT NULL AND NOT test;

CREATE TABLE agora.alert_cooldowns (
    rule_id         uuid NOT NULL REFERENCES agora.alert_rules (id) ON DELETE CASCADE,
    subject         text NOT NULL,
    organization_id uuid NOT NULL,
    project_id      uuid NOT NULL,
    quiet_until     timestamptz NOT NULL,
    PRIMARY KEY (rule_id, subject)
);

CREATE TABLE agora.alert_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id uuid NOT NULL,
    project_id      uuid NOT NULL,
    rule_id         uuid NOT NULL,
    alert_id        uuid NOT NULL,
    channel_id      uuid NOT NULL REFERENCES agora.alert_channels (id) ON DELETE CASCADE,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'gave_up')),
    attempts        integer NOT NULL DEFAULT 0,
    -- The HTTP status of each attempt (0: no answer), oldest first.
    codes           integer[] NOT NULL DEFAULT '{}',
    last_error      text,
    next_try_at     timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    FOREIGN KEY (alert_id, organization_id, project_id)
        REFERENCES agora.alerts (id, organization_id, project_id) ON DELETE CASCADE
);
-- The deliverer's queue: only what is pending, by when it is due.
CREATE INDEX alert_deliveries_due_idx ON agora.alert_deliveries (next_try_at) WHERE status = 'pending';
CREATE INDEX alert_deliveries_rule_idx ON agora.alert_deliveries (rule_id, id DESC);

RESET ROLE;

-- Security.
ALTER TABLE agora.alert_rules ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE agora.alert_channels ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE agora.alerts ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE agora.alert_cooldowns ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE agora.alert_deliveries ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

-- Read by members (users only: an API key sends telemetry, it does not
-- administer alerts); written by owners and admins (alert_cooldowns has the
-- policies but agora_app only reads it).
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['alert_rules', 'alert_channels', 'alerts', 'alert_deliveries', 'alert_cooldowns']
    LOOP
        EXECUTE format($p$CREATE POLICY %I ON agora.%I FOR SELECT
            USING (organization_id = ANY ((SELECT agora.read_orgs())::uuid[]))$p$, t || '_select', t);
        EXECUTE format($p$CREATE POLICY %I ON agora.%I FOR INSERT
            WITH CHECK (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[]))$p$, t || '_insert', t);
        EXECUTE format($p$CREATE POLICY %I ON agora.%I FOR UPDATE
            USING (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[]))
            WITH CHECK (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[]))$p$, t || '_update', t);
        EXECUTE format($p$CREATE POLICY %I ON agora.%I FOR DELETE
            USING (organization_id = ANY ((SELECT agora.admin_orgs())::uuid[]))$p$, t || '_delete', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT, DELETE ON agora.alert_rules TO agora_app;
GRANT UPDATE (name, kind, workflow_id, node_name, error_contains, threshold, metric, window_minutes, min_runs,
              cooldown_minutes, muted, snoozed_until, evaluated_until, updated_at) ON agora.alert_rules TO agora_app;
-- Never the secret: written, not read back.
GRANT SELECT (id, organization_id, project_id, rule_id, position, url, has_secret) ON agora.alert_channels TO agora_app;
GRANT INSERT (organization_id, project_id, rule_id, position, url, secret), DELETE ON agora.alert_channels
    TO agora_app;
GRANT SELECT, INSERT ON agora.alerts TO agora_app;
GRANT SELECT, INSERT ON agora.alert_deliveries TO agora_app;
-- alert_cooldowns: read by members, written by the triggers and the
-- scheduler only.
GRANT SELECT ON agora.alert_cooldowns TO agora_app;

-- The summary's texts: a workflow's or project's name quoted, numbers
-- without a trail of decimals.
CREATE FUNCTION agora.alert_num(v double precision) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT trim_scale(round(v::numeric, 3))::text $$;

-- The JSON an alert's webhooks receive, less what the deliverer adds (the
-- viewer link and a Slack-compatible `text`). Runs as its caller: the
-- triggers' definer, or an admin test-firing a rule.
CREATE FUNCTION agora.alert_payload(p_id uuid, p_rule uuid, p_workflow uuid, p_execution uuid, p_summary text,
                                    p_details jsonb, p_test boolean) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    SELECT jsonb_build_object(
        'id', p_id, 'test', p_test, 'fired_at', agora.rfc3339(now()),
        'rule', jsonb_build_object('id', r.id, 'name', r.name, 'kind', r.kind),
        'project', jsonb_build_object('id', p.id, 'name', p.name),
        'workflow', (SELECT jsonb_build_object('id', w.id, 'name', w.name) FROM agora.workflows w
                     WHERE w.id = p_workflow),
        'execution_id', p_execution, 'summary', p_summary, 'details', p_details)
    FROM agora.alert_rules r JOIN agora.projects p ON p.id = r.project_id
    WHERE r.id = p_rule
    $$;

-- A candidate alert: a rule that matched a subject. details go into the
-- payload as they are.
CREATE TYPE agora.alert_candidate AS (
    rule_id      uuid,
    subject      text,
    execution_id uuid,
    workflow_id  uuid,
    summary      text,
    details      jsonb
);

-- Fires the candidates that are not muted, snoozed, cooling down or
-- already fired for their execution: the cooldowns, the alerts and one
-- delivery per channel, in one statement. One candidate per rule and
-- subject (the first); cooldown rows are taken in key order, so two
-- writers cannot deadlock on them. Returns how many alerts fired.
CREATE FUNCTION agora.alerts_fire(cands agora.alert_candidate[]) RETURNS integer
    LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    WITH c AS (
        SELECT DISTINCT ON (x.rule_id, x.subject) x.*, r.organization_id, r.project_id, r.cooldown_minutes
        FROM unnest(cands) x
        JOIN agora.alert_rules r ON r.id = x.rule_id
        WHERE NOT r.muted AND (r.snoozed_until IS NULL OR r.snoozed_until <= now())
          AND NOT EXISTS (SELECT 1 FROM agora.alert_cooldowns q
                          WHERE q.rule_id = x.rule_id AND q.subject = x.subject AND q.quiet_until > now())
          AND (x.execution_id IS NULL OR NOT EXISTS (
                  SELECT 1 FROM agora.alerts a
                  WHERE a.rule_id = x.rule_id AND a.execution_id = x.execution_id AND NOT a.test))
        ORDER BY x.rule_id, x.subject),
    quiet AS (
        INSERT INTO agora.alert_cooldowns AS q (rule_id, subject, organization_id, project_id, quiet_until)
        SELECT rule_id, subject, organization_id, project_id, now() + make_interval(mins => cooldown_minutes)
        FROM c ORDER BY rule_id, subject
        ON CONFLICT (rule_id, subject) DO UPDATE SET quiet_until = EXCLUDED.quiet_until
            WHERE q.quiet_until <= now()
        RETURNING q.rule_id, q.subject),
    fired AS (
        INSERT INTO agora.alerts (id, organization_id, project_id, rule_id, subject, execution_id, payload)
        SELECT c.id, c.organization_id, c.project_id, c.rule_id, c.subject, c.execution_id,
               agora.alert_payload(c.id, c.rule_id, c.workflow_id, c.execution_id, c.summary, c.details, false)
        FROM (SELECT gen_random_uuid() AS id, c.* FROM c) c
        JOIN quiet USING (rule_id, subject)
        ON CONFLICT DO NOTHING
        RETURNING id, organization_id, project_id, rule_id),
    sent AS (
        INSERT INTO agora.alert_deliveries (organization_id, project_id, rule_id, alert_id, channel_id)
        SELECT f.organization_id, f.project_id, f.rule_id, f.id, ch.id
        FROM fired f JOIN agora.alert_channels ch ON ch.rule_id = f.rule_id
        RETURNING 1)
    SELECT count(*)::integer FROM fired WHERE (SELECT count(*) FROM sent) >= 0
    $$;

-- The rules that fire on an ingest, for a batch of runs the triggers
-- chose (below): a run that ended in error (of a workflow, with a failed
-- node of a name, with an error message holding a text, when the rule says
-- so), and a run that ended after the threshold.
CREATE FUNCTION agora.alerts_for_executions(batch agora.executions[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    DECLARE
        cands agora.alert_candidate[];
    BEGIN
        SELECT array_agg(ROW(r.id, COALESCE(n.workflow_id::text, ''), n.id, n.workflow_id,
                   CASE r.kind
                   WHEN 'execution_failed' THEN
                       format('Run of %s failed%s', ('"' || w.name || '"'),
                              COALESCE(': ' || left(COALESCE(n.error->>'message', n.error #>> '{}'), 200), ''))
                   ELSE format('Run of %s took %s ms, over %s ms', ('"' || w.name || '"'),
                               agora.alert_num(n.duration_ms), agora.alert_num(r.threshold)) END,
                   jsonb_build_object('status', n.status, 'duration_ms', n.duration_ms,
                                      'started_at', agora.rfc3339(n.started_at)))::agora.alert_candidate
                   ORDER BY r.id, n.started_at)
        INTO cands
        FROM unnest(batch) n
        JOIN agora.alert_rules r ON r.project_id = n.project_id
            AND r.kind IN ('execution_failed', 'duration_above')
        JOIN agora.workflows w ON w.id = n.workflow_id
        WHERE (r.workflow_id IS NULL OR r.workflow_id = n.workflow_id)
          AND CASE r.kind
              WHEN 'execution_failed' THEN n.status = 'error'
                  AND (r.error_contains IS NULL OR strpos(lower(COALESCE(n.error->>'message', n.error #>> '{}', '')),
                                                          lower(r.error_contains)) > 0)
                  -- A scalar probe, not EXISTS: the planner would turn an
                  -- EXISTS under OR into a hashed subplan that reads every
                  -- failed node execution of every run.
                  AND (r.node_name IS NULL OR (
                      SELECT true FROM agora.node_executions ne
                      WHERE ne.execution_id = n.id AND ne.node_name = r.node_name AND ne.status = 'error'
                      LIMIT 1))
              ELSE n.duration_ms > r.threshold END;
        IF cands IS NOT NULL THEN
            PERFORM agora.alerts_fire(cands);
        END IF;
    END
    $$;

-- The triggers of both tables, one statement each: the runs the statement
-- made interesting that some rule of their project could match, probed
-- per run on a partial index (alert_rules_ingest_idx, _node_idx), so that
-- a project without rules, or whose rules cannot match (a success when
-- only failures are watched, a duration under every threshold), pays that
-- probe and nothing else. executions: runs that just became terminal
-- (inserted so, or updated from running), or failed runs that just gained
-- node executions (a node rule matches once its node is there).
-- node_executions: the failed runs of failed nodes, for the rules that
-- name a node (the JSON ingest writes a new run's node executions after
-- the run). PL/pgSQL keeps a compiled copy per table, so each branch's
-- statements see their own transition tables.
CREATE FUNCTION agora.alerts_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    DECLARE
        batch agora.executions[];
    BEGIN
        IF TG_TABLE_NAME = 'node_executions' THEN
            batch := ARRAY(SELECT e FROM agora.executions e
                           WHERE e.id IN (SELECT n.execution_id FROM new_rows n WHERE n.status = 'error')
                             AND e.status = 'error'
                             AND EXISTS (SELECT 1 FROM agora.alert_rules r
                                         WHERE r.project_id = e.project_id AND r.kind = 'execution_failed'
                                           AND r.node_name IS NOT NULL));
        ELSIF TG_OP = 'INSERT' THEN
            batch := ARRAY(SELECT n::agora.executions FROM new_rows n
                           WHERE n.status <> 'running'
                             AND EXISTS (SELECT 1 FROM agora.alert_rules r
                                         WHERE r.project_id = n.project_id
                                           AND r.kind IN ('execution_failed', 'duration_above')
                                           AND CASE r.kind WHEN 'execution_failed' THEN n.status = 'error'
                                               ELSE n.duration_ms > r.threshold END));
        ELSE
            batch := ARRAY(SELECT n::agora.executions FROM old_rows o JOIN new_rows n ON n.id = o.id
                           WHERE n.status <> 'running'
                             AND (o.status = 'running'
                                  OR (n.status = 'error' AND n.node_executions_count > o.node_executions_count))
                             AND EXISTS (SELECT 1 FROM agora.alert_rules r
                                         WHERE r.project_id = n.project_id
                                           AND r.kind IN ('execution_failed', 'duration_above')
                                           AND CASE r.kind WHEN 'execution_failed' THEN n.status = 'error'
                                               ELSE n.duration_ms > r.threshold END));
        END IF;
        IF cardinality(batch) > 0 THEN
            PERFORM agora.alerts_for_executions(batch);
        END IF;
        RETURN NULL;
    END
    $$;

CREATE TRIGGER alerts_executions_insert AFTER INSERT ON agora.executions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION agora.alerts_changed();
CREATE TRIGGER alerts_executions_update AFTER UPDATE ON agora.executions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION agora.alerts_changed();
CREATE TRIGGER alerts_nodes_insert AFTER INSERT ON agora.node_executions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION agora.alerts_changed();
CREATE TRIGGER alerts_nodes_update AFTER UPDATE ON agora.node_executions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION agora.alerts_changed();

-- The scheduled rules, for agora-alerts (any number of them at once).
-- Window rules evaluate each window [end - window, end) of runs started
-- in it, once it has ended, once: moving evaluated_until claims it (a
-- second process's UPDATE waits for the first's row lock, then finds it
-- moved). A rule evaluates the last ended window first, then each one as
-- it ends. Stale runs are looked at on every call, each run once. Returns
-- how many alerts fired.
CREATE FUNCTION agora.alert_evaluate_windows() RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    DECLARE
        cands agora.alert_candidate[];
        fired integer := 0;
    BEGIN
        WITH due AS (
            UPDATE agora.alert_rules r SET evaluated_until = w.wend
            FROM (SELECT id, to_timestamp(floor(extract(epoch FROM now()) / (window_minutes * 60))
                                          * (window_minutes * 60)) AS wend
                  FROM agora.alert_rules
                  WHERE kind IN ('node_failure_rate', 'usage_above') AND NOT muted
                    AND (snoozed_until IS NULL OR snoozed_until <= now())) w
            WHERE r.id = w.id AND (r.evaluated_until IS NULL OR r.evaluated_until < w.wend)
            RETURNING r.*, w.wend - make_interval(mins => r.window_minutes) AS wstart, w.wend),
        nodes AS (
            SELECT d.id, e.workflow_id, ne.node_name, count(*) AS runs,
                   count(*) FILTER (WHERE ne.status = 'error') AS failed, d.threshold, d.min_runs,
                   d.window_minutes
            FROM due d
            JOIN agora.executions e ON e.project_id = d.project_id
                AND e.started_at >= d.wstart AND e.started_at < d.wend
                AND (d.workflow_id IS NULL OR e.workflow_id = d.workflow_id)
            JOIN agora.node_executions ne ON ne.execution_id = e.id
                AND (d.node_name IS NULL OR ne.node_name = d.node_name)
            WHERE d.kind = 'node_failure_rate' AND ne.status IS DISTINCT FROM 'running'
            GROUP BY d.id, e.workflow_id, ne.node_name, d.threshold, d.min_runs, d.window_minutes),
        usage AS (
            SELECT d.id, d.workflow_id, d.metric, d.threshold, d.window_minutes,
                   CASE d.metric WHEN 'tokens' THEN sum(e.input_tokens + e.output_tokens)::double precision
                                 ELSE sum(e.cost_usd)::double precision END AS used
            FROM due d
            JOIN agora.executions e ON e.project_id = d.project_id
                AND e.started_at >= d.wstart AND e.started_at < d.wend
                AND (d.workflow_id IS NULL OR e.workflow_id = d.workflow_id)
            WHERE d.kind = 'usage_above'
            GROUP BY d.id, d.workflow_id, d.metric, d.threshold, d.window_minutes)
        SELECT array_agg(s.c ORDER BY (s.c).rule_id, (s.c).subject) INTO cands FROM (
            SELECT ROW(n.id, n.workflow_id::text || '/' || n.node_name, NULL::uuid, n.workflow_id,
                       format('Node %s of %s failed %s%% of %s runs in %s min, over %s%%',
                              ('"' || n.node_name || '"'), ('"' || w.name || '"'),
                              agora.alert_num(100.0 * n.failed / n.runs), n.runs, n.window_minutes,
                              agora.alert_num(n.threshold)),
                       jsonb_build_object('node_name', n.node_name, 'runs', n.runs, 'failed', n.failed,
                                          'window_minutes', n.window_minutes))::agora.alert_candidate AS c
            FROM nodes n JOIN agora.workflows w ON w.id = n.workflow_id
            WHERE n.runs >= COALESCE(n.min_runs, 1) AND 100.0 * n.failed / n.runs > n.threshold
            UNION ALL
            SELECT ROW(u.id, COALESCE(u.workflow_id::text, ''), NULL::uuid, u.workflow_id,
                       format('%s used %s %s in %s min, over %s',
                              COALESCE(('"' || w.name || '"'), 'The project'), agora.alert_num(u.used),
                              CASE u.metric WHEN 'tokens' THEN 'tokens' ELSE 'USD' END, u.window_minutes,
                              agora.alert_num(u.threshold)),
                       jsonb_build_object('metric', u.metric, 'used', u.used,
                                          'window_minutes', u.window_minutes))::agora.alert_candidate AS c
            FROM usage u LEFT JOIN agora.workflows w ON w.id = u.workflow_id
            WHERE u.used > u.threshold
            UNION ALL
            SELECT ROW(r.id, e.id::text, e.id, e.workflow_id,
                       format('Run of %s has had no telemetry for %s min', ('"' || w.name || '"'),
                              floor(extract(epoch FROM now() - e.last_ingest_at) / 60)),
                       jsonb_build_object('started_at', agora.rfc3339(e.started_at),
                                          'last_ingest_at', agora.rfc3339(e.last_ingest_at)))::agora.alert_candidate AS c
            FROM agora.alert_rules r
            JOIN agora.executions e ON e.organization_id = r.organization_id AND e.status = 'running'
                AND e.project_id = r.project_id AND (r.workflow_id IS NULL OR e.workflow_id = r.workflow_id)
                AND e.last_ingest_at < now() - make_interval(mins => r.window_minutes)
            JOIN agora.workflows w ON w.id = e.workflow_id
            WHERE r.kind = 'stale_run'
              AND NOT EXISTS (SELECT 1 FROM agora.alerts a
                              WHERE a.rule_id = r.id AND a.execution_id = e.id AND NOT a.test)) s;
        IF cands IS NOT NULL THEN
            fired := agora.alerts_fire(cands);
        END IF;
        RETURN fired;
    END
    $$;

-- The deliverer's queue. Claims the most overdue pending delivery, locked
-- (SKIP LOCKED: another agora-alerts takes the next one) until the
-- caller's transaction ends: a deliverer killed mid-delivery releases it,
-- and the next one sends it again, with the same alert id.
CREATE FUNCTION agora.alert_delivery_claim()
    RETURNS TABLE (id bigint, alert_id uuid, attempts integer, created_at timestamptz, url text, secret text,
                   payload jsonb)
    LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    WITH d AS (
        SELECT d.id, d.alert_id, d.attempts, d.created_at, d.channel_id FROM agora.alert_deliveries d
        WHERE d.status = 'pending' AND d.next_try_at <= now()
        ORDER BY d.next_try_at LIMIT 1
        FOR UPDATE SKIP LOCKED)
    SELECT d.id, d.alert_id, d.attempts, d.created_at, ch.url, ch.secret, a.payload
    FROM d JOIN agora.alert_channels ch ON ch.id = d.channel_id JOIN agora.alerts a ON a.id = d.alert_id
    $$;

-- The outcome of an attempt: code is the HTTP status (0: none); next_try
-- NULL with ok false gives up.
CREATE FUNCTION agora.alert_delivery_record(p_id bigint, ok boolean, code integer, err text,
                                            next_try timestamptz) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    UPDATE agora.alert_deliveries SET
        attempts = attempts + 1, codes = codes || code, last_error = left(err, 500),
        status = CASE WHEN ok THEN 'delivered' WHEN next_try IS NULL THEN 'gave_up' ELSE 'pending' END,
        next_try_at = COALESCE(next_try, next_try_at),
        finished_at = CASE WHEN ok OR next_try IS NULL THEN now() END
    WHERE id = p_id
    $$;

ALTER FUNCTION agora.alert_num(double precision) OWNER TO agora_owner;
ALTER TYPE agora.alert_candidate OWNER TO agora_owner;
ALTER FUNCTION agora.alert_payload(uuid, uuid, uuid, uuid, text, jsonb, boolean) OWNER TO agora_owner;
ALTER FUNCTION agora.alerts_fire(agora.alert_candidate[]) OWNER TO agora_definer;
ALTER FUNCTION agora.alerts_for_executions(agora.executions[]) OWNER TO agora_definer;
ALTER FUNCTION agora.alerts_changed() OWNER TO agora_definer;
ALTER FUNCTION agora.alert_evaluate_windows() OWNER TO agora_definer;
ALTER FUNCTION agora.alert_delivery_claim() OWNER TO agora_definer;
ALTER FUNCTION agora.alert_delivery_record(bigint, boolean, integer, text, timestamptz) OWNER TO agora_definer;

REVOKE ALL ON FUNCTION agora.alerts_fire(agora.alert_candidate[]),
    agora.alerts_for_executions(agora.executions[]), agora.alerts_changed(), agora.alert_evaluate_windows(), agora.alert_delivery_claim(),
    agora.alert_delivery_record(bigint, boolean, integer, text, timestamptz)
    FROM PUBLIC;
-- agora-alerts connects as agora_app (the workers' role, which is trusted
-- with every tenant's rows anyway: it names the caller).
GRANT EXECUTE ON FUNCTION agora.alert_evaluate_windows(), agora.alert_delivery_claim(),
    agora.alert_delivery_record(bigint, boolean, integer, text, timestamptz) TO agora_app;
GRANT EXECUTE ON FUNCTION agora.alert_num(double precision),
    agora.alert_payload(uuid, uuid, uuid, uuid, text, jsonb, boolean) TO agora_app, agora_definer;

-- What the definer's functions touch.
GRANT SELECT ON agora.executions, agora.node_executions, agora.workflows, agora.projects TO agora_definer;
GRANT SELECT, UPDATE ON agora.alert_rules TO agora_definer;
GRANT SELECT ON agora.alert_channels TO agora_definer;
GRANT SELECT, INSERT ON agora.alerts TO agora_definer;
GRANT SELECT, INSERT, UPDATE ON agora.alert_cooldowns TO agora_definer;
GRANT SELECT, INSERT, UPDATE ON agora.alert_deliveries TO agora_definer;
