"""sql/027 (every key of a distributed table carries organization_id)
converts a filled database, and what it restated works on the rows it
found.

In a scratch database of the test cluster, every migration before 027 is
applied, then two organizations' rows are written into every table 027
changes (projects, API keys, workflows with nodes and edges, runs whose
triggers fill the statistics deltas and fire an alert rule's alerts,
cooldowns and deliveries, idempotency keys, retention policies and runs,
the audit log), and the deltas are folded. Then 027, then:

- every table holds the rows it held, and the keys are the new ones;
- a fold of new runs adds to the rollup rows that were there (the
  restated fold's ON CONFLICT meets them), and the rollups equal the runs;
- a cooldown that was there is taken over by a new alert of its rule and
  subject (the restated alerts_fire's ON CONFLICT DO UPDATE);
- the lookups that do not name the organization (by id, by workflow and
  name, ...) can still use an index.

(A GROUP BY on a table's id alone no longer covers its other columns: the
primary key is (organization_id, id); group by both.)"""
import glob
import os
import re

import pytest

from conftest import ROOT

DB = "distribution_keys_migration"
ORGS = ("a0000000-0000-4000-8000-000000000000", "b0000000-0000-4000-8000-000000000000")

# Every table of schema agora with its row count, in one row each.
COUNTS_SQL = r"""
SELECT c.relname || '=' || (xpath('/row/n/text()',
           query_to_xml(format('SELECT count(*) AS n FROM agora.%I', c.relname), false, true, '')))[1]::text
FROM pg_catalog.pg_class c
WHERE c.relnamespace = 'agora'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY c.relname
"""


def tenant_sql(org, n):
    """One organization's rows: a project, an API key, a workflow with two
    nodes and an edge, n runs (every third an error, which the rule
    fires on), an idempotency key, retention policies, a run and a trim
    mark, an audit row."""
    o = org[:-2]  # the other ids of the organization share its prefix
    proj, wf, key, rule, user = o + "01", o + "02", o + "03", o + "04", o + "05"
    return f"""
INSERT INTO agora.organizations (id, name, created_by) VALUES ('{org}', 'o', '{user}');
INSERT INTO agora.memberships (organization_id, user_id, role) VALUES ('{org}', '{user}', 'owner');
INSERT INTO agora.projects (id, organization_id, name) VALUES ('{proj}', '{org}', 'p');
INSERT INTO agora.api_keys (id, organization_id, project_id, secret_hash)
VALUES ('{key}', '{org}', '{proj}', sha256('secret'));
INSERT INTO agora.workflows (id, organization_id, project_id, name) VALUES ('{wf}', '{org}', '{proj}', 'w');
INSERT INTO agora.workflow_nodes (organization_id, project_id, workflow_id, name)
VALUES ('{org}', '{proj}', '{wf}', 'a'), ('{org}', '{proj}', '{wf}', 'b');
INSERT INTO agora.workflow_edges (organization_id, project_id, workflow_id, from_node_id, to_node_id)
SELECT '{org}', '{proj}', '{wf}', f.id, t.id FROM agora.workflow_nodes f, agora.workflow_nodes t
WHERE f.workflow_id = '{wf}' AND f.name = 'a' AND t.workflow_id = '{wf}' AND t.name = 'b';
INSERT INTO agora.alert_rules (id, organization_id, project_id, name, kind, cooldown_minutes)
VALUES ('{rule}', '{org}', '{proj}', 'r', 'execution_failed', 0);
INSERT INTO agora.alert_channels (organization_id, project_id, rule_id, position, url)
VALUES ('{org}', '{proj}', '{rule}', 0, 'https://example.invalid/hook');
{runs_sql(org, n, 1)}
INSERT INTO agora.idempotency_keys (organization_id, caller, key, request_hash)
VALUES ('{org}', '{user}', 'k', sha256('body'));
INSERT INTO agora.retention_policies (organization_id, project_id, runs_days)
VALUES ('{org}', NULL, 30), ('{org}', '{proj}', 10);
INSERT INTO agora.retention_runs (organization_id, project_id, started_at, outcome)
VALUES ('{org}', '{proj}', now(), 'done');
INSERT INTO agora.retention_trim_marks (project_id, organization_id, created_at, execution_id)
SELECT project_id, organization_id, created_at, id FROM agora.executions
WHERE project_id = '{proj}' ORDER BY created_at, id LIMIT 1;
INSERT INTO agora.audit_log (organization_id, project_id, actor_user_id, action, target_type, target_id)
VALUES ('{org}', '{proj}', '{user}', 'project.create', 'project', '{proj}');
"""


def runs_sql(org, n, first):
    """Runs first .. first+n-1 of the organization's workflow, an hour
    apart from one fixed hour on (so the next batch meets the rollup rows
    of the first)."""
    o = org[:-2]
    eid = f"('{org[:8]}-0000-4000-9000-' || lpad(to_hex(g), 12, '0'))::uuid"
    return f"""
INSERT INTO agora.executions (id, organization_id, project_id, workflow_id, session_id, status, started_at,
                              completed_at, duration_ms, error)
SELECT {eid}, '{org}', '{o}01', '{o}02', 's', CASE WHEN g % 3 = 0 THEN 'error' ELSE 'success' END,
       timestamptz '2026-06-01 00:00Z' + (g % 4) * interval '1 h',
       timestamptz '2026-06-01 00:00Z' + (g % 4) * interval '1 h' + interval '1 s', 1000,
       CASE WHEN g % 3 = 0 THEN '"failed"'::jsonb END
FROM generate_series({first}, {first + n - 1}) g;
"""


def counts(run):
    return dict(line.split("=") for line in run(COUNTS_SQL).split())


@pytest.fixture(scope="module")
def db(stack):
    stack.psql_admin(f"DROP DATABASE IF EXISTS {DB}")
    stack.psql_admin(f"CREATE DATABASE {DB}")
    url = re.sub(r"dbname=\S+", f"dbname={DB}", stack.env["AGORA_ADMIN_DATABASE_URL"])
    run = lambda sql: stack.psql(url, sql, timeout=120)  # noqa: E731
    files = sorted(glob.glob(os.path.join(ROOT, "sql", "[0-9][0-9][0-9]_*.sql")))
    migration = [f for f in files if os.path.basename(f).startswith("027_")]
    assert len(migration) == 1
    for f in files:
        if os.path.basename(f) < "027":
            run("BEGIN;\n" + open(f).read() + "\nCOMMIT;\n")
    for org in ORGS:
        run("BEGIN;" + tenant_sql(org, 30) + "COMMIT;")
    run("SELECT agora.stats_fold(NULL)")
    before = counts(run)
    run("BEGIN;\n" + open(migration[0]).read() + "\nCOMMIT;\n")
    yield run, before
    stack.psql_admin(f"DROP DATABASE IF EXISTS {DB}")


def test_every_table_keeps_its_rows_and_gets_the_new_keys(db):
    run, before = db
    # The fill reached every table 027 changes (or the test proves little).
    for table in ("projects", "api_keys", "workflows", "workflow_nodes", "workflow_edges", "executions",
                  "idempotency_keys", "stats_executions_hourly", "stats_errors_daily", "stats_projects_hourly",
                  "alert_rules", "alert_channels", "alerts", "alert_cooldowns", "alert_deliveries", "audit_log",
                  "retention_policies", "retention_runs", "retention_trim_marks"):
        assert int(before[table]) > 0, table
    assert counts(run) == before
    keys = run("SELECT conrelid::regclass || ' ' || pg_get_constraintdef(oid) FROM pg_constraint"
               " WHERE conname IN ('executions_pkey', 'idempotency_keys_pkey', 'alert_cooldowns_rule_id_fkey')"
               " ORDER BY 1").splitlines()
    assert keys == [
        "agora.alert_cooldowns FOREIGN KEY (rule_id, organization_id, project_id) "
        "REFERENCES agora.alert_rules(id, organization_id, project_id) ON DELETE CASCADE",
        "agora.executions PRIMARY KEY (organization_id, id)",
        "agora.idempotency_keys PRIMARY KEY (caller, key, organization_id)",
    ]


def test_a_fold_after_the_migration_adds_to_the_rollup_rows_it_found(db):
    run, _ = db
    hours = run("SELECT count(*) FROM agora.stats_executions_hourly").strip()
    for org in ORGS:
        run("BEGIN;" + runs_sql(org, 20, 31) + "COMMIT;")
    run("SELECT agora.stats_fold(NULL)")
    # Same four hours: the new runs went into the rows that were there.
    assert run("SELECT count(*) FROM agora.stats_executions_hourly").strip() == hours
    rolled = run("SELECT organization_id, hour, sum(success), sum(error) FROM agora.stats_executions_hourly"
                 " GROUP BY 1, 2 ORDER BY 1, 2")
    exact = run("SELECT organization_id, started_at, count(*) FILTER (WHERE status = 'success'),"
                " count(*) FILTER (WHERE status = 'error') FROM agora.executions GROUP BY 1, 2 ORDER BY 1, 2")
    assert rolled == exact and len(rolled.splitlines()) == 8
    assert run("SELECT sum(success + error) FROM agora.stats_projects_hourly").strip() == "100"


def test_a_cooldown_found_by_the_migration_is_taken_over_by_a_new_alert(db):
    run, _ = db
    cooldowns = int(run("SELECT count(*) FROM agora.alert_cooldowns").strip())
    rule, subject, wf = run("SELECT rule_id, subject, r.workflow_id FROM agora.alert_cooldowns c"
                            " JOIN agora.alert_rules r ON r.id = c.rule_id ORDER BY 1, 2 LIMIT 1").split("|")
    alerts = int(run(f"SELECT count(*) FROM agora.alerts WHERE rule_id = '{rule}'").strip())
    run(f"UPDATE agora.alert_cooldowns SET quiet_until = '2000-01-01Z' WHERE rule_id = '{rule}'")
    wf_sql = f"'{wf}'::uuid" if wf.strip() else "NULL::uuid"
    fired = run(f"SELECT agora.alerts_fire(ARRAY[ROW('{rule}', '{subject}', NULL, {wf_sql}, 'again',"
                " '{}')::agora.alert_candidate])").strip()
    assert fired == "1"
    assert int(run("SELECT count(*) FROM agora.alert_cooldowns").strip()) == cooldowns
    # Moved by the fire (to now: the rule's cooldown is 0 minutes).
    assert run(f"SELECT quiet_until > '2020-01-01Z' FROM agora.alert_cooldowns"
               f" WHERE rule_id = '{rule}' AND subject = '{subject}'").strip() == "t"
    assert int(run(f"SELECT count(*) FROM agora.alerts WHERE rule_id = '{rule}'").strip()) == alerts + 1


@pytest.mark.parametrize("lookup", [
    "agora.executions WHERE id = $1 AND organization_id <> $1",  # agora.execution_id_elsewhere
    "agora.executions WHERE id = $1",
    "agora.api_keys WHERE id = $1",  # authentication, rotation, revocation
    "agora.alert_deliveries WHERE id = 1",  # alert_delivery_record
    "agora.alert_channels WHERE id = $1",
    "agora.alert_rules WHERE id = $1",
    "agora.workflow_nodes WHERE workflow_id = $1 AND name = 'a'",  # the ingest's node lookup
    "agora.idempotency_keys WHERE caller = 'u' AND key = 'k' AND organization_id = $1",
    "agora.stats_executions_hourly WHERE workflow_id = $1 AND hour = now()",
    "agora.retention_policies WHERE project_id = $1",
])
def test_the_lookups_without_the_organization_stay_index_backed(db, lookup):
    """With sequential scans priced out, a lookup that an index can serve
    uses it; one that none can still scans (and fails here)."""
    run, _ = db
    sql = "SELECT 1 FROM " + lookup.replace("$1", f"'{ORGS[0]}'::uuid")
    plan = run(f"BEGIN; SET LOCAL enable_seqscan = off; EXPLAIN (COSTS OFF) {sql}; ROLLBACK;")
    assert "Index" in plan and "Seq Scan" not in plan, plan
