-- 025: the item tables are partitioned by their run's creation time
-- (docs/DESIGN.md "Partitions").
--
-- node_executions, telemetry_spans, telemetry_events and
-- shared_state_snapshots get run_created_at, a copy of their execution's
-- executions.created_at (the server's clock at first ingest, which is
-- what retention ages by), and become PARTITION BY RANGE (run_created_at)
-- with one partition per calendar month (UTC) and a DEFAULT partition, so
-- that an insert never fails for want of a month. Retention then drops a
-- month whole when every project with runs in it has expired past its end
-- (agora.retention_drop_partition below), instead of deleting its rows one
-- by one.
--
-- executions stays one unpartitioned table: its global id is what makes an
-- ingest retry-safe (ON CONFLICT DO NOTHING on its primary key), and it is
-- the unique target of the items' foreign keys. It holds one row per run;
-- the bulk (tens to thousands of rows per run) is in the items.
--
-- Keys of a partitioned table must contain the partition key, and (the
-- scale-out plan, SCALING.md) every key of a tenant table contains
-- organization_id: the primary keys become (organization_id, id,
-- run_created_at); node_executions' client id key (sql/006) becomes
-- (client_id, organization_id, run_created_at): one client id per run
-- (retries of a run read the same created_at), and sql/006's check,
-- made race-free below, still keeps it to one run; the OTLP span key
-- (sql/010, sql/012) gains run_created_at.
--
-- Partitions live in their own schema, agora_partitions, on which
-- agora_app has no USAGE: a query can reach the rows only through the
-- parent, whose row-level security policies and grants apply to every
-- partition, present and future. Policies, grants, indexes, statement
-- triggers (with their transition tables) and the one function that takes
-- a node_executions row (agora.stats_item) are read from the catalog
-- before the swap and restated on the new tables, so nothing earlier
-- migrations attached is lost; test_partitions.py compares them.
--
-- The conversion copies every row (INSERT ... SELECT with the run's
-- created_at) in the migration's one transaction: the item tables are
-- locked for as long as the copy takes (BENCHMARKS.md "Partitions").
-- Identity values are kept (OVERRIDING SYSTEM VALUE) and the new identity
-- sequences continue where the old ones stood.

CREATE SCHEMA agora_partitions AUTHORIZATION agora_owner;
REVOKE ALL ON SCHEMA agora_partitions FROM PUBLIC;

SET LOCAL ROLE agora_owner;

-- What the swap must restate, read from the catalog.
CREATE TEMP TABLE partitions_restate (ord serial, tbl text, phase text, stmt text) ON COMMIT DROP;

DO $$
DECLARE
    t text;
    cols text;
    vcols text;
    n_old bigint;
    n_new bigint;
    seq_last bigint;
    seq_called boolean;
    m timestamptz;
    lo timestamptz;
    r record;
    fk text;
BEGIN
    PERFORM set_config('timezone', 'UTC', true);
    -- The owner is under row-level security too (FORCE): for the copy
    -- it reads every row, as the owner of a table not forced does.
    ALTER TABLE agora.executions NO FORCE ROW LEVEL SECURITY;
    -- The items' foreign keys name the run's created_at too, so the copy
    -- can never disagree with its run, and a created_at set later (an
    -- operator's correction, a test's ageing) moves the items with it.
    ALTER TABLE agora.executions ADD CONSTRAINT executions_created_key
        UNIQUE (id, organization_id, project_id, created_at);
    -- Months of the existing runs, and three ahead.
    SELECT date_trunc('month', min(created_at)) INTO lo FROM agora.executions;
    lo := LEAST(COALESCE(lo, date_trunc('month', now())), date_trunc('month', now()));

    FOREACH t IN ARRAY ARRAY['node_executions', 'telemetry_spans', 'telemetry_events',
                             'shared_state_snapshots'] LOOP
        -- Indexes other than the keys restated below; policies; grants on
        -- the table, its columns and its identity sequence; triggers and
        -- the functions that take the table's row type (restated after
        -- RESET ROLE: they are the migrating role's or agora_definer's).
        INSERT INTO partitions_restate (tbl, phase, stmt)
        SELECT t, 'owner', pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = format('agora.%I', t)::regclass AND NOT i.indisunique
        ORDER BY i.indexrelid::regclass::text;
        INSERT INTO partitions_restate (tbl, phase, stmt)
        SELECT t, 'owner', format('CREATE POLICY %I ON agora.%I AS %s FOR %s TO %s%s%s',
                                  p.policyname, t, p.permissive, p.cmd, array_to_string(p.roles, ', '),
                                  ' USING (' || p.qual || ')', ' WITH CHECK (' || p.with_check || ')')
        FROM pg_policies p
        WHERE p.schemaname = 'agora' AND p.tablename = t
        ORDER BY p.policyname;
        INSERT INTO partitions_restate (tbl, phase, stmt)
        SELECT t, 'owner', format('GRANT %s ON agora.%I TO %I', a.privilege_type, t, a.grantee::regrole)
        FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = format('agora.%I', t)::regclass AND a.grantee <> c.relowner
        ORDER BY 1;
        INSERT INTO partitions_restate (tbl, phase, stmt)
        SELECT t, 'owner', format('GRANT %s (%I) ON agora.%I TO %I', a.privilege_type, c.attname, t,
                                  a.grantee::regrole)
        FROM pg_attribute c, aclexplode(c.attacl) a
        WHERE c.attrelid = format('agora.%I', t)::regclass AND c.attacl IS NOT NULL
        ORDER BY 1;
        INSERT INTO partitions_restate (tbl, phase, stmt)
        SELECT t, 'owner', format('GRANT %s ON SEQUENCE agora.%I TO %I', a.privilege_type, t || '_id_seq',
                                  a.grantee::regrole)
        FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = format('agora.%I', t || '_id_seq')::regclass AND a.grantee <> c.relowner
        ORDER BY 1;
        INSERT INTO partitions_restate (tbl, phase, stmt)
        SELECT t, 'definer', pg_get_triggerdef(g.oid)
        FROM pg_trigger g
        WHERE g.tgrelid = format('agora.%I', t)::regclass AND NOT g.tgisinternal
        ORDER BY g.tgname;
        FOR r IN SELECT DISTINCT p.oid, p.proowner::regrole AS owner, p.proacl
                 FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                 JOIN pg_type y ON y.oid = d.refobjid
                 WHERE y.typrelid = format('agora.%I', t)::regclass
                    OR y.typelem = (SELECT reltype FROM pg_class WHERE oid = format('agora.%I', t)::regclass) LOOP
            INSERT INTO partitions_restate (tbl, phase, stmt)
            VALUES (t, 'function', pg_get_functiondef(r.oid)),
                   (t, 'definer', format('ALTER FUNCTION %s OWNER TO %I', r.oid::regprocedure, r.owner)),
                   (t, 'definer', format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', r.oid::regprocedure));
            INSERT INTO partitions_restate (tbl, phase, stmt)
            SELECT t, 'definer', format('GRANT EXECUTE ON FUNCTION %s TO %I', r.oid::regprocedure, a.grantee::regrole)
            FROM aclexplode(r.proacl) a WHERE a.grantee <> r.owner AND a.grantee <> 0;
            EXECUTE format('DROP FUNCTION %s', r.oid::regprocedure);
        END LOOP;

        EXECUTE format('SELECT last_value, is_called FROM agora.%I', t || '_id_seq') INTO seq_last, seq_called;
        SELECT conname INTO STRICT fk FROM pg_constraint
        WHERE conrelid = format('agora.%I', t)::regclass AND contype = 'f';
        EXECUTE format('ALTER TABLE agora.%I NO FORCE ROW LEVEL SECURITY', t);

        -- The new table: the same columns, defaults, checks and identity,
        -- and run_created_at. No index yet: the copy goes faster without.
        EXECUTE format('CREATE TABLE agora.%1$I (LIKE agora.%2$I INCLUDING DEFAULTS INCLUDING CONSTRAINTS'
                       ' INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMMENTS,'
                       ' run_created_at timestamptz NOT NULL) PARTITION BY RANGE (run_created_at)',
                       t || '_new', t);
        EXECUTE format('CREATE TABLE agora_partitions.%I PARTITION OF agora.%I DEFAULT', t || '_default', t || '_new');
        m := lo;
        WHILE m <= date_trunc('month', now()) + interval '3 months' LOOP
            EXECUTE format('CREATE TABLE agora_partitions.%I PARTITION OF agora.%I FOR VALUES FROM (%L) TO (%L)',
                           t || '_p' || to_char(m, 'YYYY_MM'), t || '_new', m, m + interval '1 month');
            m := m + interval '1 month';
        END LOOP;

        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum),
               string_agg('v.' || quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols, vcols
        FROM pg_attribute a
        WHERE a.attrelid = format('agora.%I', t)::regclass AND a.attnum > 0 AND NOT a.attisdropped;
        EXECUTE format('INSERT INTO agora.%1$I (%2$s, run_created_at) OVERRIDING SYSTEM VALUE'
                       ' SELECT %3$s, e.created_at FROM agora.%4$I v JOIN agora.executions e ON e.id = v.execution_id'
                       ' ORDER BY v.id',
                       t || '_new', cols, vcols, t);
        GET DIAGNOSTICS n_new = ROW_COUNT;
        EXECUTE format('SELECT count(*) FROM agora.%I', t) INTO n_old;
        IF n_new <> n_old THEN
            RAISE EXCEPTION '025: % rows of agora.% copied, % there', n_new, t, n_old;
        END IF;

        EXECUTE format('DROP TABLE agora.%I', t);
        EXECUTE format('ALTER TABLE agora.%I RENAME TO %I', t || '_new', t);
        EXECUTE format('ALTER SEQUENCE agora.%I RENAME TO %I', t || '_new_id_seq', t || '_id_seq');
        PERFORM setval(format('agora.%I', t || '_id_seq'), seq_last, seq_called);

        EXECUTE format('ALTER TABLE agora.%1$I ADD CONSTRAINT %2$I PRIMARY KEY (organization_id, id, run_created_at),'
                       ' ADD CONSTRAINT %3$I FOREIGN KEY (execution_id, organization_id, project_id, run_created_at)'
                       ' REFERENCES agora.executions (id, organization_id, project_id, created_at)'
                       ' ON UPDATE CASCADE ON DELETE CASCADE',
                       t, t || '_pkey', fk);
        EXECUTE format('ALTER TABLE agora.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE agora.%I FORCE ROW LEVEL SECURITY', t);
        FOR r IN SELECT stmt FROM partitions_restate WHERE tbl = t AND phase = 'owner' ORDER BY ord LOOP
            EXECUTE r.stmt;
        END LOOP;
    END LOOP;
    ALTER TABLE agora.executions FORCE ROW LEVEL SECURITY;
END
$$;

-- A client id names one node execution of one run (sql/006): unique per
-- run here (a retry of the run carries the same run_created_at), and
-- agora.node_execution_ids_elsewhere (below) keeps it from a second run.
CREATE UNIQUE INDEX node_executions_client_id_key
    ON agora.node_executions (client_id, organization_id, run_created_at) WHERE client_id IS NOT NULL;
CREATE UNIQUE INDEX telemetry_spans_otlp_key
    ON agora.telemetry_spans (organization_id, execution_id, trace_id, span_id, run_created_at) WHERE from_otlp;

-- Partitions dropped by retention, for the operator (not tenant data:
-- agora_app reads nothing in this schema).
CREATE TABLE agora_partitions.drops (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parent      text NOT NULL,
    name        text NOT NULL,
    range_from  timestamptz NOT NULL,
    range_to    timestamptz NOT NULL,
    dropped_at  timestamptz NOT NULL DEFAULT now()
);

-- Creates the monthly partitions from this month to p_months_ahead months
-- ahead that are missing. Each is created as a table and then attached:
-- ATTACH takes only a SHARE UPDATE EXCLUSIVE lock on the parent, so ingest
-- goes on meanwhile (CREATE TABLE ... PARTITION OF would lock it out). A
-- month that already has rows in the DEFAULT partition (the job stopped
-- for longer than the months made ahead) is left there: its rows stay
-- in DEFAULT, where the batches of retention delete them as before
-- (docs/DESIGN.md "Partitions"). Returns how many it created. Called by
-- the retention job on every pass (the migration made three months ahead).
CREATE FUNCTION agora.ensure_partitions(p_months_ahead integer) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    SET timezone = 'UTC'
    AS $$
    DECLARE
        t text;
        part text;
        m timestamptz;
        taken boolean;
        made integer := 0;
    BEGIN
        IF p_months_ahead IS NULL OR p_months_ahead NOT BETWEEN 0 AND 120 THEN
            RAISE EXCEPTION 'months ahead must be 0..120';
        END IF;
        FOREACH t IN ARRAY ARRAY['node_executions', 'telemetry_spans', 'telemetry_events',
                                 'shared_state_snapshots'] LOOP
            FOR m IN SELECT g FROM generate_series(date_trunc('month', now()),
                         date_trunc('month', now()) + make_interval(months => p_months_ahead), interval '1 month') g LOOP
                part := t || '_p' || to_char(m, 'YYYY_MM');
                CONTINUE WHEN to_regclass(format('agora_partitions.%I', part)) IS NOT NULL;
                -- Two jobs at once: the second waits, then finds it made.
                PERFORM pg_advisory_xact_lock(2405, hashtext(part));
                CONTINUE WHEN to_regclass(format('agora_partitions.%I', part)) IS NOT NULL;
                EXECUTE format('SELECT EXISTS (SELECT 1 FROM agora_partitions.%I d'
                               ' WHERE d.run_created_at >= $1 AND d.run_created_at < $2)', t || '_default')
                    INTO taken USING m, m + interval '1 month';
                CONTINUE WHEN taken;
                EXECUTE format('CREATE TABLE agora_partitions.%I (LIKE agora.%I INCLUDING DEFAULTS'
                               ' INCLUDING CONSTRAINTS INCLUDING STORAGE)', part, t);
                EXECUTE format('ALTER TABLE agora.%I ATTACH PARTITION agora_partitions.%I FOR VALUES FROM (%L) TO (%L)',
                               t, part, m, m + interval '1 month');
                made := made + 1;
            END LOOP;
        END LOOP;
        RETURN made;
    END
    $$;

RESET ROLE;

-- Triggers and the functions taking a row of the tables, as they were.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT stmt FROM partitions_restate WHERE phase = 'function' ORDER BY ord LOOP
        EXECUTE r.stmt;
    END LOOP;
    FOR r IN SELECT stmt FROM partitions_restate WHERE phase = 'definer' ORDER BY ord LOOP
        EXECUTE r.stmt;
    END LOOP;
END
$$;

-- sql/006's check, made race-free now that no index spans runs: each id
-- is locked (transaction-level, in id order, so two ingests cannot
-- deadlock over them) before it is looked for, and in plpgsql, whose
-- statements each take a new snapshot, the lookup after the lock sees a
-- run that committed the id while we waited. The lock is held until the
-- ingest commits, past its INSERT.
CREATE OR REPLACE FUNCTION agora.node_execution_ids_elsewhere(p_ids uuid[], p_execution uuid) RETURNS SETOF uuid
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock(2406, hashtext(i::text))
        FROM (SELECT DISTINCT unnest(p_ids) AS i ORDER BY 1) x;
        RETURN QUERY SELECT n.client_id FROM agora.node_executions n
                     WHERE n.client_id = ANY (p_ids) AND n.execution_id <> p_execution;
    END
    $$;

-- Whether every project with runs created in [p_from, p_to) has a window
-- (its runs window, or for payloads its payload window) that ends at or
-- after p_to. A project without a policy keeps its runs forever. A month
-- without runs goes only once it is a day past (no window is shorter):
-- the months made ahead are empty too.
CREATE FUNCTION agora.partition_expired(p_payload boolean, p_from timestamptz, p_to timestamptz)
    RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    SELECT p_to <= now() - interval '1 day' AND NOT EXISTS (
        SELECT 1 FROM agora.projects p
        LEFT JOIN agora.retention_projects() r ON r.project_id = p.id
        WHERE EXISTS (SELECT 1 FROM agora.executions e
                      WHERE e.project_id = p.id AND e.created_at >= p_from AND e.created_at < p_to)
          AND NOT COALESCE(now() - make_interval(days => CASE WHEN p_payload THEN COALESCE(r.payload_days, r.runs_days)
                                                              ELSE r.runs_days END) >= p_to, false))
    $$;
ALTER FUNCTION agora.partition_expired(boolean, timestamptz, timestamptz) OWNER TO agora_definer;
REVOKE ALL ON FUNCTION agora.partition_expired(boolean, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agora.partition_expired(boolean, timestamptz, timestamptz) TO agora_owner;

SET LOCAL ROLE agora_owner;

-- Drops one monthly partition that retention has wholly expired (the
-- oldest first), and records it; returns its name, or NULL when none is
-- left. One per call, so each drop is its own short transaction: DROP
-- takes an ACCESS EXCLUSIVE lock on the parent, which waits at most
-- p_lock_ms for ingests in flight (and holds new ones as long); past that
-- the partition is left for the next pass. A transaction-level advisory
-- lock per partition keeps two jobs from the same one. The rollups keep
-- what the rows added (a DROP fires no trigger), as the batches' deletes
-- keep them (sql/024); the runs themselves go by the batches afterwards.
CREATE FUNCTION agora.retention_drop_partition(p_lock_ms integer) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    SET timezone = 'UTC'
    AS $$
    DECLARE
        r record;
        lo timestamptz;
        wait text := current_setting('lock_timeout');
    BEGIN
        IF p_lock_ms IS NULL OR p_lock_ms NOT BETWEEN 1 AND 60000 THEN
            RAISE EXCEPTION 'lock wait must be 1..60000 ms';
        END IF;
        FOR r IN SELECT c.relname AS name, p.relname AS parent
                 FROM pg_inherits i
                 JOIN pg_class c ON c.oid = i.inhrelid
                 JOIN pg_class p ON p.oid = i.inhparent
                 WHERE c.relnamespace = 'agora_partitions'::regnamespace
                   AND p.relname IN ('node_executions', 'telemetry_spans', 'telemetry_events',
                                     'shared_state_snapshots')
                   AND p.relnamespace = 'agora'::regnamespace
                   AND c.relname ~ '_p[0-9]{4}_[0-9]{2}$'
                 ORDER BY right(c.relname, 7), p.relname LOOP
            lo := to_timestamp(right(r.name, 7), 'YYYY_MM');
            CONTINUE WHEN NOT agora.partition_expired(r.parent <> 'node_executions', lo, lo + interval '1 month');
            CONTINUE WHEN NOT pg_try_advisory_xact_lock(2405, hashtext(r.name));
            CONTINUE WHEN to_regclass(format('agora_partitions.%I', r.name)) IS NULL;
            BEGIN
                PERFORM set_config('lock_timeout', p_lock_ms || 'ms', true);
                EXECUTE format('DROP TABLE agora_partitions.%I', r.name);
                PERFORM set_config('lock_timeout', wait, true);
            EXCEPTION WHEN lock_not_available THEN
                CONTINUE;
            END;
            INSERT INTO agora_partitions.drops (parent, name, range_from, range_to)
            VALUES (r.parent, r.name, lo, lo + interval '1 month');
            RETURN r.name;
        END LOOP;
        RETURN NULL;
    END
    $$;

RESET ROLE;

-- The job runs as the migrating role (sql/024); never the workers.
REVOKE ALL ON FUNCTION agora.ensure_partitions(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION agora.retention_drop_partition(integer) FROM PUBLIC;

-- sql/024's payload batch deleted by id alone, which no index of the
-- partitioned tables leads with any more: by the primary key instead,
-- each row found through its run (the run's created_at picks the row's
-- partition). CREATE OR REPLACE keeps its owner and grants.
CREATE OR REPLACE FUNCTION agora.retention_payload_batch(p_project uuid, p_before timestamptz, p_batch integer)
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    DECLARE
        t text;
        n bigint;
    BEGIN
        FOREACH t IN ARRAY ARRAY['telemetry_events', 'telemetry_spans', 'shared_state_snapshots'] LOOP
            EXECUTE format('DELETE FROM agora.%1$I d USING ('
                           ' SELECT v.organization_id, v.id, v.run_created_at FROM agora.executions x'
                           ' JOIN agora.%1$I v ON v.execution_id = x.id AND v.run_created_at = x.created_at'
                           ' WHERE x.project_id = $1 AND x.created_at < $2 LIMIT $3) s'
                           ' WHERE d.organization_id = s.organization_id AND d.id = s.id'
                           ' AND d.run_created_at = s.run_created_at', t)
                USING p_project, p_before, p_batch;
            GET DIAGNOSTICS n = ROW_COUNT;
            IF n > 0 THEN RETURN n; END IF;
        END LOOP;
        RETURN 0;
    END
    $$;

-- sql/024's runs batch deleted node executions by execution_id alone,
-- one probe of every month's index per run: joined to the runs instead,
-- each probe goes to its run's month only (pruned at run time by the
-- run's created_at, a parameter of the nested loop). The rest as in 024.
CREATE OR REPLACE FUNCTION agora.retention_runs_batch(p_project uuid, p_before timestamptz, p_batch integer)
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, agora, pg_temp
    AS $$
    DECLARE
        ids uuid[];
        n bigint;
    BEGIN
        SELECT array_agg(x.id) INTO ids FROM (
            SELECT e.id FROM agora.executions e
            WHERE e.project_id = p_project AND e.created_at < p_before
            ORDER BY e.created_at, e.id LIMIT p_batch
            FOR UPDATE SKIP LOCKED) x;
        IF ids IS NULL THEN RETURN 0; END IF;
        PERFORM set_config('agora.retention_delete', 'on', true);
        DELETE FROM agora.node_executions ne USING agora.executions e
        WHERE e.id = ANY (ids) AND ne.execution_id = e.id AND ne.run_created_at = e.created_at;
        DELETE FROM agora.executions e WHERE e.id = ANY (ids);
        GET DIAGNOSTICS n = ROW_COUNT;
        PERFORM set_config('agora.retention_delete', 'off', true);
        RETURN n;
    END
    $$;
