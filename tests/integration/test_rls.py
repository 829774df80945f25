"""Row-level security, proven at the SQL level.

Isolation between tenants must hold even if a handler forgets a WHERE
clause, so these tests bypass the C code: they seed two organizations, A and
B, as the superuser, then query the tables as agora_app (the workers' role)
with the identity settings of a user or an API key of B, and check that
nothing of A is visible or writable. They also check the properties the
policies rely on: agora_app cannot bypass RLS and owns nothing, and every
table in schema agora has RLS enabled and forced (a new table without it
fails here).

Each test that expects a refusal has a positive control (the same statement
aimed at the caller's own organization succeeds), so a typo cannot pass as
a refusal.

Needs the `stack` fixture of conftest.py: psql_admin(sql) runs as the
superuser, psql_app(sql, user_id=, project_id=, org_id=, key_id=) as
agora_app inside a transaction with those identity settings; both return
psql -XAtq output and raise CalledProcessError on an SQL error.
"""

import subprocess
import uuid

import pytest

# Every table of schema agora, with the column naming its organization.
TABLES = {
    "organizations": "id",
    "memberships": "organization_id",
    "projects": "organization_id",
    "api_keys": "organization_id",
    "workflows": "organization_id",
    "workflow_nodes": "organization_id",
    "workflow_edges": "organization_id",
    "executions": "organization_id",
    "node_executions": "organization_id",
    "telemetry_spans": "organization_id",
    "telemetry_events": "organization_id",
    "shared_state_snapshots": "organization_id",
    "idempotency_keys": "organization_id",
    "live_tickets": "organization_id",
    "model_prices": "organization_id",
    "stats_executions_hourly": "organization_id",
    "stats_nodes_daily": "organization_id",
    "stats_errors_daily": "organization_id",
    "stats_projects_hourly": "organization_id",
    "stats_deltas": "organization_id",
    "alert_rules": "organization_id",
    "alert_channels": "organization_id",
    "alerts": "organization_id",
    "alert_deliveries": "organization_id",
    "alert_cooldowns": "organization_id",
    "audit_log": "organization_id",
    "retention_policies": "organization_id",
    "retention_runs": "organization_id",
    "retention_trim_marks": "organization_id",
    "retention_payload_marks": "organization_id",
}

# Tables whose rows with a NULL organization are shared by every caller
# (the default model prices): they count as no tenant's.
SHARED = {"model_prices"}
# The seeded runs' created_at, which their items copy (sql/025; the item
# templates below spell it out, being str.format templates).
RUN_CREATED = "2024-01-15 00:00:00+00"

# Rows below a project, with the column naming it: an API key sees these for
# its own project only.
PROJECT_TABLES = {
    "projects": "id",
    "workflows": "project_id",
    "workflow_nodes": "project_id",
    "workflow_edges": "project_id",
    "executions": "project_id",
    "node_executions": "project_id",
    "telemetry_spans": "project_id",
    "telemetry_events": "project_id",
    "shared_state_snapshots": "project_id",
    "stats_executions_hourly": "project_id",
    "stats_nodes_daily": "project_id",
    "stats_errors_daily": "project_id",
    "stats_projects_hourly": "project_id",
}

# Tables agora_app may not even read: only SECURITY DEFINER functions do
# (the statistics deltas, sql/013; the retention job's trim and payload
# marks, sql/026 and sql/028). They have policies all the same.
DEFINER_ONLY = {"stats_deltas", "retention_trim_marks", "retention_payload_marks"}
READABLE = sorted(set(TABLES) - DEFINER_ONLY)

# What an API key sees of its own organization: its organization, its
# project's data, its own idempotency keys and live tickets, the
# organization's model prices (an ingest prices with them); never members
# or keys.
KEY_VISIBLE = set(PROJECT_TABLES) | {"organizations", "idempotency_keys", "live_tickets", "model_prices"}

# What an SQL error says when RLS, a foreign key or a grant refused a write.
REFUSALS = ("row-level security", "violates foreign key constraint", "permission denied")


def new_id():
    return str(uuid.uuid4())


def last_line(out):
    """The last line psql printed: the answer to the test's own query (the
    harness may print the set_config row before it)."""
    lines = [line for line in out.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def counts(out):
    return tuple(int(x) for x in last_line(out).split("|"))


def seed_project_sql(org, project):
    """SQL inserting one of everything under a project (a dict of ids)."""
    p = project
    return f"""
INSERT INTO agora.projects (id, organization_id, name)
    VALUES ('{p["id"]}', '{org}', 'project {p["id"]}');
INSERT INTO agora.workflows (id, organization_id, project_id, name)
    VALUES ('{p["workflow"]}', '{org}', '{p["id"]}', 'wf');
INSERT INTO agora.workflow_nodes (id, organization_id, project_id, workflow_id, name, type)
    VALUES ('{p["node1"]}', '{org}', '{p["id"]}', '{p["workflow"]}', 'load', 'AuditedNode'),
           ('{p["node2"]}', '{org}', '{p["id"]}', '{p["workflow"]}', 'save', 'AuditedNode');
INSERT INTO agora.workflow_edges (organization_id, project_id, workflow_id, from_node_id, to_node_id, action)
    VALUES ('{org}', '{p["id"]}', '{p["workflow"]}', '{p["node1"]}', '{p["node2"]}', 'default');
INSERT INTO agora.executions (id, organization_id, project_id, workflow_id, session_id, status, started_at,
    created_at)
    VALUES ('{p["execution"]}', '{org}', '{p["id"]}', '{p["workflow"]}', 's1', 'running', now(), '{RUN_CREATED}');
-- A finished run, so the statistics rollups (sql/011) have rows too, once
-- its delta is folded (sql/013, below).
INSERT INTO agora.executions (organization_id, project_id, workflow_id, session_id, status, started_at, error)
    VALUES ('{org}', '{p["id"]}', '{p["workflow"]}', 's2', 'error', now(), '"boom"');
INSERT INTO agora.node_executions (run_created_at, organization_id, project_id, execution_id, node_id, node_name, status, started_at)
    VALUES ('{RUN_CREATED}', '{org}', '{p["id"]}', '{p["execution"]}', '{p["node1"]}', 'load', 'success', now());
INSERT INTO agora.telemetry_spans (run_created_at, organization_id, project_id, execution_id, span_id, name, start_time, status)
    VALUES ('{RUN_CREATED}', '{org}', '{p["id"]}', '{p["execution"]}', 'ab12', 'load.exec', now(), 'ok');
INSERT INTO agora.telemetry_events (run_created_at, organization_id, project_id, execution_id, event_type, "timestamp", node_name, data)
    VALUES ('{RUN_CREATED}', '{org}', '{p["id"]}', '{p["execution"]}', 'node_start', now(), 'load', '{{}}');
INSERT INTO agora.shared_state_snapshots (run_created_at, organization_id, project_id, execution_id, sequence, "timestamp", state)
    VALUES ('{RUN_CREATED}', '{org}', '{p["id"]}', '{p["execution"]}', 0, now(), '{{"n": 1}}');
SELECT agora.stats_fold('{p["id"]}');
"""


def make_tenant(stack, label):
    """Seeds an organization with an owner, an admin and a viewer, two
    projects with one row in every table, an API key on the first project,
    and idempotency keys of the owner and of the API key. Returns the ids."""
    t = {
        "label": label,
        "org": new_id(),
        "owner": new_id(),
        "admin": new_id(),
        "viewer": new_id(),
        "key": new_id(),
        "rule": new_id(),
        "channel": new_id(),
        "alert": new_id(),
    }
    projects = []
    for _ in range(2):
        projects.append({k: new_id() for k in ("id", "workflow", "node1", "node2", "execution")})
    t["project"], t["project2"] = projects[0]["id"], projects[1]["id"]
    p = projects[0]
    t.update(workflow=p["workflow"], node1=p["node1"], node2=p["node2"], execution=p["execution"])
    stack.psql_admin(
        f"""
BEGIN;
INSERT INTO agora.organizations (id, name, created_by) VALUES ('{t["org"]}', 'org {label}', '{t["owner"]}');
INSERT INTO agora.memberships (organization_id, user_id, role)
    VALUES ('{t["org"]}', '{t["owner"]}', 'owner'), ('{t["org"]}', '{t["admin"]}', 'admin'),
           ('{t["org"]}', '{t["viewer"]}', 'viewer');
{seed_project_sql(t["org"], projects[0])}
{seed_project_sql(t["org"], projects[1])}
INSERT INTO agora.api_keys (id, organization_id, project_id, name, secret_hash, created_by)
    VALUES ('{t["key"]}', '{t["org"]}', '{t["project"]}', 'ci', sha256('secret'::bytea), '{t["owner"]}');
INSERT INTO agora.idempotency_keys (organization_id, caller, key, request_hash, status_code, response)
    VALUES ('{t["org"]}', '{t["owner"]}', 'retry-1', sha256('body'::bytea), 201, '{{}}'),
           ('{t["org"]}', 'key:{t["key"]}', 'retry-1', sha256('body'::bytea), 201, '{{}}');
INSERT INTO agora.live_tickets (ticket_hash, organization_id, caller, user_id, key_id, key_project, key_org,
                                channel, expires_at)
    VALUES (sha256(('owner' || '{t["org"]}')::bytea), '{t["org"]}', '{t["owner"]}', '{t["owner"]}', NULL, NULL,
            NULL, 'execution/{p["execution"]}', now() + interval '1 hour'),
           (sha256(('key' || '{t["org"]}')::bytea), '{t["org"]}', 'key:{t["key"]}', NULL, '{t["key"]}',
            '{t["project"]}', '{t["org"]}', 'project/{t["project"]}', now() + interval '1 hour');
INSERT INTO agora.model_prices (organization_id, model, input_usd_per_mtok, output_usd_per_mtok, valid_from)
    VALUES ('{t["org"]}', 'gpt-4o', 1, 2, now());
INSERT INTO agora.alert_rules (id, organization_id, project_id, name, kind)
    VALUES ('{t["rule"]}', '{t["org"]}', '{t["project"]}', 'fails', 'execution_failed');
INSERT INTO agora.alert_channels (id, organization_id, project_id, rule_id, position, url, secret)
    VALUES ('{t["channel"]}', '{t["org"]}', '{t["project"]}', '{t["rule"]}', 0, 'https://e.com/', 'shh');
INSERT INTO agora.alerts (id, organization_id, project_id, rule_id, subject, payload)
    VALUES ('{t["alert"]}', '{t["org"]}', '{t["project"]}', '{t["rule"]}', 's', '{{}}');
INSERT INTO agora.alert_deliveries (organization_id, project_id, rule_id, alert_id, channel_id)
    VALUES ('{t["org"]}', '{t["project"]}', '{t["rule"]}', '{t["alert"]}', '{t["channel"]}');
INSERT INTO agora.alert_cooldowns (rule_id, subject, organization_id, project_id, quiet_until)
    VALUES ('{t["rule"]}', 's', '{t["org"]}', '{t["project"]}', now());
INSERT INTO agora.audit_log (organization_id, project_id, actor_user_id, action, target_type, target_id, detail)
    VALUES ('{t["org"]}', '{t["project"]}', '{t["owner"]}', 'project.rename', 'project', '{t["project"]}',
            '{{"to": "x"}}');
INSERT INTO agora.retention_policies (organization_id, project_id, runs_days, payload_days)
    VALUES ('{t["org"]}', NULL, 90, 7), ('{t["org"]}', '{t["project"]}', 30, NULL);
INSERT INTO agora.retention_runs (organization_id, project_id, started_at, runs_removed, outcome)
    VALUES ('{t["org"]}', '{t["project"]}', now(), 3, 'done');
INSERT INTO agora.retention_trim_marks (project_id, organization_id, created_at, execution_id)
    VALUES ('{t["project"]}', '{t["org"]}', now(), '{p["execution"]}');
INSERT INTO agora.retention_payload_marks (project_id, organization_id, created_at, execution_id)
    VALUES ('{t["project"]}', '{t["org"]}', now(), '{p["execution"]}');
COMMIT;
"""
    )
    return t


@pytest.fixture(scope="module")
def tenants(stack):
    return make_tenant(stack, "A"), make_tenant(stack, "B")


def as_user(stack, user_id, sql):
    return stack.psql_app(sql, user_id=user_id)


def as_key(stack, t, sql):
    return stack.psql_app(sql, project_id=t["project"], org_id=t["org"], key_id=t["key"])


def refused(run):
    """run() must fail with an SQL error, and the error must be a refusal,
    not a typo (the harness always captures psql's stderr: an empty one
    proves nothing and fails too)."""
    with pytest.raises(subprocess.CalledProcessError) as info:
        run()
    err = info.value.stderr
    if isinstance(err, bytes):
        err = err.decode(errors="replace")
    assert err and any(r in err for r in REFUSALS), err


def in_savepoint(sql):
    """Runs sql and undoes it, so positive controls leave no rows behind."""
    return f"SAVEPOINT probe; {sql}; ROLLBACK TO SAVEPOINT probe;"


def count_sql(table, a, b):
    """Counts rows of A, rows of B, and rows of any tenant but B (shared
    rows, of no tenant, aside)."""
    col = TABLES[table]
    shared = f" AND {col} IS NOT NULL" if table in SHARED else ""
    return (
        f"SELECT count(*) FILTER (WHERE {col} = '{a['org']}'),"
        f" count(*) FILTER (WHERE {col} = '{b['org']}'),"
        f" count(*) FILTER (WHERE {col} IS DISTINCT FROM '{b['org']}'{shared})"
        f" FROM agora.{table}"
    )


# --- The properties the policies rest on ---------------------------------


def test_table_list_covers_every_table_in_schema(stack):
    out = stack.psql_admin(
        "SELECT relname FROM pg_class WHERE relnamespace = 'agora'::regnamespace"
        " AND relkind IN ('r', 'p') ORDER BY relname"
    )
    assert set(out.split()) == set(TABLES), "a table was added: list it in TABLES and give it policies"


def test_every_table_has_rls_enabled_and_forced(stack):
    out = stack.psql_admin(
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class"
        " WHERE relnamespace = 'agora'::regnamespace AND relkind IN ('r', 'p') ORDER BY relname"
    )
    rows = [line.split("|") for line in out.split()]
    assert len(rows) >= len(TABLES)
    unprotected = [r[0] for r in rows if r[1:] != ["t", "t"]]
    assert unprotected == []


def test_every_table_has_policies(stack):
    out = stack.psql_admin(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'agora'::regnamespace"
        " AND c.relkind IN ('r', 'p')"
        " AND NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)"
    )
    assert out.split() == []


def test_app_role_cannot_bypass_rls(stack):
    out = stack.psql_admin(
        "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolcanlogin"
        " FROM pg_roles WHERE rolname = 'agora_app'"
    )
    assert last_line(out) == "f|f|f|f|t"
    # A member of agora_owner or agora_definer could SET ROLE around RLS.
    out = stack.psql_admin("SELECT count(*) FROM pg_auth_members WHERE member = 'agora_app'::regrole")
    assert last_line(out) == "0"
    out = stack.psql_admin("SELECT rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = 'agora_owner'")
    assert last_line(out) == "f|f"


def test_app_role_owns_nothing(stack):
    out = stack.psql_admin("SELECT count(*) FROM pg_tables WHERE tableowner = 'agora_app'")
    assert last_line(out) == "0"
    out = stack.psql_admin(
        "SELECT (SELECT count(*) FROM pg_class WHERE relowner = 'agora_app'::regrole)"
        " + (SELECT count(*) FROM pg_proc WHERE proowner = 'agora_app'::regrole)"
        " + (SELECT count(*) FROM pg_namespace WHERE nspowner = 'agora_app'::regrole)"
    )
    assert last_line(out) == "0"
    out = stack.psql_admin("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'agora'")
    assert out.split() == ["agora_owner"]


def test_app_role_cannot_truncate(stack, tenants):
    a, _ = tenants
    refused(lambda: as_user(stack, a["owner"], "TRUNCATE agora.telemetry_events"))


# --- Reading -------------------------------------------------------------


@pytest.mark.parametrize("table", READABLE)
def test_user_of_b_sees_nothing_of_a(stack, tenants, table):
    a, b = tenants
    of_a, of_b, not_b = counts(as_user(stack, b["owner"], count_sql(table, a, b)))
    assert of_a == 0
    assert not_b == 0
    assert of_b > 0  # the query can see rows at all, so 0 above means something


@pytest.mark.parametrize("table", READABLE)
def test_api_key_of_b_sees_only_its_project(stack, tenants, table):
    a, b = tenants
    of_a, of_b, not_b = counts(as_key(stack, b, count_sql(table, a, b)))
    assert of_a == 0
    assert not_b == 0
    if table in KEY_VISIBLE:
        assert of_b > 0
    else:
        assert of_b == 0
    if table in PROJECT_TABLES:
        col = PROJECT_TABLES[table]
        out = as_key(
            stack,
            b,
            f"SELECT count(*) FILTER (WHERE {col} = '{b['project']}'),"
            f" count(*) FILTER (WHERE {col} IS DISTINCT FROM '{b['project']}') FROM agora.{table}",
        )
        mine, others = counts(out)
        assert mine > 0
        assert others == 0  # not even B's second project


@pytest.mark.parametrize("table", READABLE)
def test_no_identity_sees_nothing(stack, tenants, table):
    assert counts(stack.psql_app(f"SELECT count(*) FROM agora.{table}")) == (0,)


def test_viewer_reads_but_cannot_write_or_see_keys(stack, tenants):
    _, b = tenants
    assert counts(as_user(stack, b["viewer"], "SELECT count(*) FROM agora.executions"))[0] > 0
    assert counts(as_user(stack, b["viewer"], "SELECT count(*) FROM agora.api_keys")) == (0,)
    insert = (
        "INSERT INTO agora.executions (organization_id, project_id, workflow_id, session_id, status, started_at)"
        f" VALUES ('{b['org']}', '{b['project']}', '{b['workflow']}', 's', 'running', now())"
    )
    refused(lambda: as_user(stack, b["viewer"], insert))
    as_user(stack, b["owner"], in_savepoint(insert))  # control: a writer may


def test_retention_policies_are_read_by_members_and_changed_by_owners_and_admins(stack, tenants):
    a, b = tenants
    change = f"UPDATE agora.retention_policies SET runs_days = 100 WHERE organization_id = '{b['org']}' RETURNING 1"
    assert counts(as_user(stack, b["viewer"], "SELECT count(*) FROM agora.retention_policies")) == (2,)
    assert counts(as_user(stack, b["viewer"], "SELECT count(*) FROM agora.retention_runs")) == (1,)
    assert as_user(stack, b["viewer"], change).strip() == ""  # sees the rows, changes none
    assert as_user(stack, b["admin"], in_savepoint(change)).split() == ["1", "1"]
    assert as_user(stack, a["owner"], change).strip() == ""  # another organization's: not even seen
    refused(lambda: as_user(stack, b["owner"], "DELETE FROM agora.retention_runs"))
    # The job's functions are not the workers'.
    for call in ("agora.retention_projects()", f"agora.retention_runs_batch('{b['project']}', now(), 10)",
                 f"agora.retention_payload_batch('{b['project']}', now(), 10)",
                 f"agora.retention_trim_batch('{b['project']}', now(), 10)",
                 f"agora.retention_record('{b['project']}', now(), 0, 0, 0, 'done')",
                 f"agora.forget_erased_alerts(ARRAY['{b['execution']}'::uuid])",
                 f"agora.forget_erased_idempotency_keys(ARRAY['{b['org']}'::uuid], ARRAY['{b['execution']}'::uuid])",
                 f"agora.forget_erased_live_tickets(ARRAY['{b['execution']}'::uuid])",
                 f"agora.forget_erased_error_examples(ARRAY['{b['execution']}'::uuid],"
                 f" ARRAY['{b['workflow']}'::uuid], ARRAY[now()])"):
        refused(lambda: as_user(stack, b["owner"], f"SELECT {call}"))


def test_retention_trim_marks_are_out_of_reach_of_the_app_role(stack, tenants):
    _, b = tenants
    for run in (lambda sql: as_user(stack, b["owner"], sql), lambda sql: as_key(stack, b, sql)):
        refused(lambda: run("SELECT count(*) FROM agora.retention_trim_marks"))
        refused(lambda: run("INSERT INTO agora.retention_trim_marks (project_id, organization_id, created_at,"
                            f" execution_id) VALUES ('{b['project2']}', '{b['org']}', now(), '{b['execution']}')"))
        refused(lambda: run("DELETE FROM agora.retention_trim_marks"))
    # The marks are there (as the definer sees them): the refusals above
    # are not about an empty table.
    assert stack.psql_admin("SELECT count(*) FROM agora.retention_trim_marks"
                            f" WHERE organization_id = '{b['org']}'").strip() == "1"


def test_live_tickets_are_scoped_to_the_caller_and_spent_only_by_their_hash(stack, tenants):
    _, b = tenants
    sql = "SELECT caller FROM agora.live_tickets"
    assert as_user(stack, b["owner"], sql).split()[-1:] == [b["owner"]]
    assert f"key:{b['key']}" not in as_user(stack, b["owner"], sql)
    assert as_key(stack, b, sql).split()[-1:] == [f"key:{b['key']}"]
    # agora_app cannot delete tickets (only live_ticket_take may spend one).
    refused(lambda: as_user(stack, b["owner"], "DELETE FROM agora.live_tickets"))
    # Spending a ticket needs its hash: a wrong one takes nothing, the right
    # one returns its caller and channel once. (A ticket of its own, so the
    # seeded ones stay for the other tests.)
    secret = new_id()
    stack.psql_admin(
        "INSERT INTO agora.live_tickets (ticket_hash, organization_id, caller, user_id, channel, expires_at)"
        f" VALUES (sha256('{secret}'::bytea), '{b['org']}', '{b['owner']}', '{b['owner']}',"
        f" 'execution/{b['execution']}', now() + interval '1 minute')"
    )
    take = "SELECT user_id, channel, key_ok FROM agora.live_ticket_take(sha256('{}'::bytea))"
    assert last_line(stack.psql_app(take.format("wrong"))) == ""
    spent = last_line(stack.psql_app(take.format(secret)))
    assert spent == f"{b['owner']}|execution/{b['execution']}|t"
    assert last_line(stack.psql_app(take.format(secret))) == ""


def test_idempotency_keys_are_scoped_to_the_caller(stack, tenants):
    _, b = tenants
    sql = "SELECT caller FROM agora.idempotency_keys"
    # B's owner does not see the key recorded by B's own API key, and back.
    assert as_user(stack, b["owner"], sql).split()[-1:] == [b["owner"]]
    assert f"key:{b['key']}" not in as_user(stack, b["owner"], sql)
    assert as_key(stack, b, sql).split()[-1:] == [f"key:{b['key']}"]
    assert b["owner"] not in as_key(stack, b, sql).split()


# --- Writing -------------------------------------------------------------

# Inserts aimed at a target tenant t (a dict of ids); {new} is a fresh id.
USER_INSERTS = {
    "retention_policies": "INSERT INTO agora.retention_policies (organization_id, project_id, runs_days)"
    " VALUES ('{t[org]}', '{t[project2]}', 30)",
    "organizations": "INSERT INTO agora.organizations (id, name, created_by)"
    " VALUES ('{new}', 'x', '{t[owner]}')",
    "memberships": "INSERT INTO agora.memberships (organization_id, user_id, role)"
    " VALUES ('{t[org]}', '{new}', 'member')",
    "projects": "INSERT INTO agora.projects (id, organization_id, name) VALUES ('{new}', '{t[org]}', '{new}')",
    "api_keys": "INSERT INTO agora.api_keys (id, organization_id, project_id, secret_hash)"
    " VALUES ('{new}', '{t[org]}', '{t[project]}', sha256('x'::bytea))",
    "idempotency_keys": "INSERT INTO agora.idempotency_keys (organization_id, caller, key, request_hash)"
    " VALUES ('{t[org]}', '{t[owner]}', '{new}', sha256('x'::bytea))",
    "live_tickets": "INSERT INTO agora.live_tickets (ticket_hash, organization_id, caller, user_id, channel,"
    " expires_at) VALUES (sha256('{new}'::bytea), '{t[org]}', '{t[owner]}', '{t[owner]}',"
    " 'execution/{t[execution]}', now())",
    "model_prices": "INSERT INTO agora.model_prices (organization_id, model, input_usd_per_mtok,"
    " output_usd_per_mtok, valid_from) VALUES ('{t[org]}', '{new}', 1, 1, now())",
    "alert_rules": "INSERT INTO agora.alert_rules (organization_id, project_id, name, kind)"
    " VALUES ('{t[org]}', '{t[project]}', '{new}', 'execution_failed')",
    "alert_channels": "INSERT INTO agora.alert_channels (organization_id, project_id, rule_id, position, url)"
    " VALUES ('{t[org]}', '{t[project]}', '{t[rule]}', 9, 'https://e.com/{new}')",
    "alerts": "INSERT INTO agora.alerts (organization_id, project_id, rule_id, subject, payload)"
    " VALUES ('{t[org]}', '{t[project]}', '{t[rule]}', '{new}', '{{}}')",
    "alert_deliveries": "INSERT INTO agora.alert_deliveries (organization_id, project_id, rule_id, alert_id,"
    " channel_id) VALUES ('{t[org]}', '{t[project]}', '{t[rule]}', '{t[alert]}', '{t[channel]}')",
    "audit_log": "INSERT INTO agora.audit_log (organization_id, actor_user_id, action, target_type, target_id)"
    " VALUES ('{t[org]}', '{t[owner]}', 'project.rename', 'project', '{new}')",
}
PROJECT_INSERTS = {
    "workflows": "INSERT INTO agora.workflows (organization_id, project_id, name)"
    " VALUES ('{t[org]}', '{t[project]}', 'x')",
    "workflow_nodes": "INSERT INTO agora.workflow_nodes (organization_id, project_id, workflow_id, name)"
    " VALUES ('{t[org]}', '{t[project]}', '{t[workflow]}', '{new}')",
    "workflow_edges": "INSERT INTO agora.workflow_edges"
    " (organization_id, project_id, workflow_id, from_node_id, to_node_id)"
    " VALUES ('{t[org]}', '{t[project]}', '{t[workflow]}', '{t[node2]}', '{t[node1]}')",
    "executions": "INSERT INTO agora.executions"
    " (organization_id, project_id, workflow_id, session_id, status, started_at)"
    " VALUES ('{t[org]}', '{t[project]}', '{t[workflow]}', 's', 'running', now())",
    "node_executions": "INSERT INTO agora.node_executions (run_created_at, organization_id, project_id, execution_id, node_name)"
    " VALUES ('2024-01-15 00:00:00+00', '{t[org]}', '{t[project]}', '{t[execution]}', 'n')",
    "telemetry_spans": "INSERT INTO agora.telemetry_spans"
    " (run_created_at, organization_id, project_id, execution_id, span_id, name, start_time)"
    " VALUES ('2024-01-15 00:00:00+00', '{t[org]}', '{t[project]}', '{t[execution]}', 's', 'n', now())",
    "telemetry_events": "INSERT INTO agora.telemetry_events"
    " (run_created_at, organization_id, project_id, execution_id, event_type, \"timestamp\")"
    " VALUES ('2024-01-15 00:00:00+00', '{t[org]}', '{t[project]}', '{t[execution]}', 'e', now())",
    "shared_state_snapshots": "INSERT INTO agora.shared_state_snapshots"
    " (run_created_at, organization_id, project_id, execution_id, state)"
    " VALUES ('2024-01-15 00:00:00+00', '{t[org]}', '{t[project]}', '{t[execution]}', '{{}}')",
}
KEY_INSERTS = dict(
    PROJECT_INSERTS,
    idempotency_keys="INSERT INTO agora.idempotency_keys (organization_id, caller, key, request_hash)"
    " VALUES ('{t[org]}', 'key:{t[key]}', '{new}', sha256('x'::bytea))",
    live_tickets="INSERT INTO agora.live_tickets (ticket_hash, organization_id, caller, key_id, key_project,"
    " key_org, channel, expires_at) VALUES (sha256('{new}'::bytea), '{t[org]}', 'key:{t[key]}', '{t[key]}',"
    " '{t[project]}', '{t[org]}', 'project/{t[project]}', now())",
    audit_log="INSERT INTO agora.audit_log (organization_id, project_id, actor_key_id, action, target_type,"
    " target_id) VALUES ('{t[org]}', '{t[project]}', '{t[key]}', 'workflow.create', 'workflow', '{new}')",
)


# Written only by the statistics triggers (as agora_definer): nobody
# writes them through agora_app, not even in their own tenant.
TRIGGER_WRITTEN = {
    "stats_executions_hourly": "INSERT INTO agora.stats_executions_hourly"
    " (organization_id, project_id, workflow_id, hour, shard, success)"
    " VALUES ('{t[org]}', '{t[project]}', '{t[workflow]}', '2025-01-01', 0, 1000)",
    "stats_nodes_daily": "INSERT INTO agora.stats_nodes_daily"
    " (organization_id, project_id, workflow_id, node_name, day, shard, runs)"
    " VALUES ('{t[org]}', '{t[project]}', '{t[workflow]}', 'n', '2025-01-01', 0, 1000)",
    "stats_errors_daily": "INSERT INTO agora.stats_errors_daily"
    " (organization_id, project_id, workflow_id, day, message, shard, count, last_seen, example_id)"
    " VALUES ('{t[org]}', '{t[project]}', '{t[workflow]}', '2025-01-01', 'x', 0, 1000, now(), '{t[execution]}')",
    "stats_projects_hourly": "INSERT INTO agora.stats_projects_hourly"
    " (organization_id, project_id, hour, success) VALUES ('{t[org]}', '{t[project]}', '2025-01-01', 1000)",
    # What the retention job did: its functions' (sql/024), as agora_definer.
    "retention_runs": "INSERT INTO agora.retention_runs (organization_id, project_id, started_at, outcome)"
    " VALUES ('{t[org]}', '{t[project]}', now(), 'done')",
    # Alert cooldowns: the alert triggers' and agora-alerts' (sql/014).
    "alert_cooldowns": "INSERT INTO agora.alert_cooldowns (rule_id, subject, organization_id, project_id,"
    " quiet_until) VALUES ('{t[rule]}', 'x', '{t[org]}', '{t[project]}', now())",
}


def test_insert_lists_cover_every_table():
    assert set(USER_INSERTS) | set(PROJECT_INSERTS) | set(TRIGGER_WRITTEN) | DEFINER_ONLY == set(TABLES)


@pytest.mark.parametrize("table", sorted(TRIGGER_WRITTEN))
def test_statistics_rollups_are_written_by_their_triggers_only(stack, tenants, table):
    _, b = tenants
    sql = TRIGGER_WRITTEN[table].format(t=b)
    refused(lambda: as_user(stack, b["owner"], sql))
    refused(lambda: as_key(stack, b, sql))
    refused(lambda: as_user(stack, b["owner"], f"UPDATE agora.{table} SET organization_id = organization_id"))
    refused(lambda: as_user(stack, b["owner"], f"DELETE FROM agora.{table}"))


@pytest.mark.parametrize("table", ["stats_deltas"])
def test_statistics_deltas_are_out_of_reach_of_the_app_role(stack, tenants, table):
    _, b = tenants
    for run in (lambda sql: as_user(stack, b["owner"], sql), lambda sql: as_key(stack, b, sql)):
        refused(lambda: run(f"SELECT count(*) FROM agora.{table}"))
        refused(lambda: run(f"INSERT INTO agora.{table} (organization_id, project_id, items)"
                            f" VALUES ('{b['org']}', '{b['project']}', '{{}}')"))
        refused(lambda: run(f"DELETE FROM agora.{table}"))
    # A finished run leaves a delta, which a fold takes, once: through the
    # one function agora_app may call on the deltas (in the writer's own
    # transaction, so no other fold can see the delta first).
    out = as_user(stack, b["owner"],
                  "INSERT INTO agora.executions (organization_id, project_id, workflow_id, session_id, status,"
                  f" started_at) VALUES ('{b['org']}', '{b['project']}', '{b['workflow']}', 's3', 'success', now());"
                  f" SELECT agora.stats_fold('{b['project']}'), agora.stats_fold('{b['project']}')")
    assert last_line(out) == "1|0"


@pytest.mark.parametrize("table", sorted(set(USER_INSERTS) | set(PROJECT_INSERTS)))
def test_user_of_b_cannot_insert_into_a(stack, tenants, table):
    a, b = tenants
    sql = dict(USER_INSERTS, **PROJECT_INSERTS)[table]
    refused(lambda: as_user(stack, b["owner"], sql.format(t=a, new=new_id())))
    as_user(stack, b["owner"], in_savepoint(sql.format(t=b, new=new_id())))


@pytest.mark.parametrize("table", sorted(KEY_INSERTS))
def test_api_key_of_b_cannot_insert_into_a(stack, tenants, table):
    a, b = tenants
    sql = KEY_INSERTS[table]
    refused(lambda: as_key(stack, b, sql.format(t=a, new=new_id())))
    as_key(stack, b, in_savepoint(sql.format(t=b, new=new_id())))


@pytest.mark.parametrize("table", sorted(set(USER_INSERTS) - {"idempotency_keys"}))
def test_api_key_cannot_write_tenancy_tables(stack, tenants, table):
    _, b = tenants
    refused(lambda: as_key(stack, b, USER_INSERTS[table].format(t=b, new=new_id())))


# A row whose tenant columns disagree with its parent: each passes the write
# policy by one column and names another tenant's parent with the others.
# The composite foreign keys must refuse all of them.
MIXED = {
    # user B: its own organization, A's execution
    "user_event_on_a_execution": (
        "user",
        "INSERT INTO agora.telemetry_events (run_created_at, organization_id, project_id, execution_id, event_type, \"timestamp\")"
        " VALUES ('2024-01-15 00:00:00+00', '{b[org]}', '{b[project]}', '{a[execution]}', 'e', now())",
    ),
    # user B: its own organization, A's project and execution
    "user_event_under_a_project": (
        "user",
        "INSERT INTO agora.telemetry_events (run_created_at, organization_id, project_id, execution_id, event_type, \"timestamp\")"
        " VALUES ('2024-01-15 00:00:00+00', '{b[org]}', '{a[project]}', '{a[execution]}', 'e', now())",
    ),
    "user_workflow_under_a_project": (
        "user",
        "INSERT INTO agora.workflows (organization_id, project_id, name) VALUES ('{b[org]}', '{a[project]}', 'x')",
    ),
    "user_edge_to_a_node": (
        "user",
        "INSERT INTO agora.workflow_edges (organization_id, project_id, workflow_id, from_node_id, to_node_id)"
        " VALUES ('{b[org]}', '{b[project]}', '{b[workflow]}', '{b[node1]}', '{a[node1]}')",
    ),
    # B's key: its own project, but A's organization (would show up in A)
    "key_event_labelled_as_a": (
        "key",
        "INSERT INTO agora.telemetry_events (run_created_at, organization_id, project_id, execution_id, event_type, \"timestamp\")"
        " VALUES ('2024-01-15 00:00:00+00', '{a[org]}', '{b[project]}', '{b[execution]}', 'e', now())",
    ),
    "key_execution_labelled_as_a": (
        "key",
        "INSERT INTO agora.executions (organization_id, project_id, workflow_id, session_id, status, started_at)"
        " VALUES ('{a[org]}', '{b[project]}', '{b[workflow]}', 's', 'running', now())",
    ),
    # B's key: B's other project
    "key_event_in_other_project": (
        "key",
        "INSERT INTO agora.telemetry_events (run_created_at, organization_id, project_id, execution_id, event_type, \"timestamp\")"
        " VALUES ('2024-01-15 00:00:00+00', '{b[org]}', '{b[project2]}', '{b[execution]}', 'e', now())",
    ),
}


@pytest.mark.parametrize("case", sorted(MIXED))
def test_rows_with_mixed_tenants_are_refused(stack, tenants, case):
    a, b = tenants
    who, sql = MIXED[case]
    sql = sql.format(a=a, b=b)
    if who == "user":
        refused(lambda: as_user(stack, b["owner"], sql))
    else:
        refused(lambda: as_key(stack, b, sql))


def test_update_and_delete_of_a_change_nothing(stack, tenants):
    a, b = tenants
    before = stack.psql_admin(
        f"SELECT (SELECT name FROM agora.organizations WHERE id = '{a['org']}'),"
        f" (SELECT status FROM agora.executions WHERE id = '{a['execution']}'),"
        f" (SELECT count(*) FROM agora.telemetry_events WHERE organization_id = '{a['org']}'),"
        f" (SELECT count(*) FROM agora.memberships WHERE organization_id = '{a['org']}'),"
        f" (SELECT count(*) FROM agora.api_keys WHERE organization_id = '{a['org']}' AND revoked_at IS NULL)"
    )
    attacks = f"""
UPDATE agora.organizations SET name = 'taken' WHERE id = '{a['org']}';
DELETE FROM agora.organizations WHERE id = '{a['org']}';
UPDATE agora.executions SET status = 'cancelled' WHERE id = '{a['execution']}';
UPDATE agora.executions SET organization_id = '{b['org']}' WHERE id = '{a['execution']}';
DELETE FROM agora.telemetry_events WHERE organization_id = '{a['org']}';
DELETE FROM agora.memberships WHERE organization_id = '{a['org']}';
UPDATE agora.api_keys SET revoked_at = now() WHERE organization_id = '{a['org']}';
"""
    as_user(stack, b["owner"], attacks)
    as_key(stack, b, attacks)
    after = stack.psql_admin(
        f"SELECT (SELECT name FROM agora.organizations WHERE id = '{a['org']}'),"
        f" (SELECT status FROM agora.executions WHERE id = '{a['execution']}'),"
        f" (SELECT count(*) FROM agora.telemetry_events WHERE organization_id = '{a['org']}'),"
        f" (SELECT count(*) FROM agora.memberships WHERE organization_id = '{a['org']}'),"
        f" (SELECT count(*) FROM agora.api_keys WHERE organization_id = '{a['org']}' AND revoked_at IS NULL)"
    )
    assert after == before
    assert last_line(before).startswith("org A|running|")


# --- OpenTelemetry ingest (sql/010) -----------------------------------------


def otlp_span_sql(t, execution):
    """The OTLP ingest's span insert (src/domain/otlp_sql.c): from_otlp, ON
    CONFLICT DO NOTHING on sql/012's index, so a resend is a no-op."""
    return (f"INSERT INTO agora.telemetry_spans (run_created_at, organization_id, project_id, execution_id, trace_id, span_id,"
            f" name, start_time, status, from_otlp)"
            f" VALUES ('{RUN_CREATED}', '{t['org']}', '{t['project']}', '{execution}', '{'ab' * 16}', '00f067aa0ba902b7', 'chat',"
            f" now(), 'ok', true)"
            f" ON CONFLICT (organization_id, execution_id, trace_id, span_id, run_created_at) WHERE from_otlp DO NOTHING")


def test_otlp_spans_go_only_into_the_callers_executions(stack, tenants):
    a, b = tenants
    count = (f"SELECT count(*) FROM agora.telemetry_spans WHERE execution_id = '{b['execution']}' AND from_otlp")
    # Positive control: B's key stores an OTLP span in its own execution,
    # and sending it again adds nothing and raises nothing.
    out = as_key(stack, b, f"SAVEPOINT probe; {otlp_span_sql(b, b['execution'])};"
                           f" {otlp_span_sql(b, b['execution'])}; {count}; ROLLBACK TO SAVEPOINT probe")
    assert last_line(out) == "1"
    # Into A's execution, as A's rows: refused, with or without the conflict clause.
    refused(lambda: as_key(stack, b, otlp_span_sql(a, a["execution"])))
    refused(lambda: as_user(stack, b["owner"], otlp_span_sql(a, a["execution"])))
    # The lock of an execution a later batch finds (step 3): A's is not there for B.
    lock = f"SELECT id FROM agora.executions WHERE id = ANY ('{{{a['execution']}}}'::uuid[]) ORDER BY id FOR UPDATE"
    assert last_line(as_key(stack, b, lock)) == ""
    assert last_line(as_key(stack, a, lock)) == a["execution"]
    assert stack.psql_admin(f"SELECT count(*) FROM agora.telemetry_spans WHERE execution_id = '{a['execution']}'"
                            f" AND from_otlp").strip() == "0"


def test_whether_another_organizations_run_holds_an_otlp_span_cannot_be_probed(stack, tenants):
    """ON CONFLICT finds its conflicting row before any policy or foreign
    key is checked: with a key of (execution, trace, span) only, B's insert
    of a span A's execution holds did nothing, and of one it does not hold
    failed, which told B which. With the organization in the key (sql/012)
    both fail alike."""
    a, b = tenants
    stack.psql_admin(otlp_span_sql(a, a["execution"]))
    try:
        refused(lambda: as_key(stack, b, otlp_span_sql(b, a["execution"])))
        refused(lambda: as_user(stack, b["owner"], otlp_span_sql(b, a["execution"])))
        assert stack.psql_admin(f"SELECT count(*) FROM agora.telemetry_spans WHERE execution_id = '{a['execution']}'"
                                f" AND from_otlp").strip() == "1"
    finally:
        stack.psql_admin(f"DELETE FROM agora.telemetry_spans WHERE execution_id = '{a['execution']}' AND from_otlp")


# --- Model prices: the shared defaults and who writes ---------------------


def test_default_prices_are_read_by_every_caller_and_written_by_none(stack, tenants):
    a, b = tenants
    defaults = "SELECT count(*) FROM agora.model_prices WHERE organization_id IS NULL"
    total = counts(stack.psql_admin(defaults))[0]
    assert total > 0
    for out in (as_user(stack, b["viewer"], defaults), as_key(stack, b, defaults),
                as_user(stack, new_id(), defaults)):  # even a user of no organization
        assert counts(out) == (total,)
    insert = ("INSERT INTO agora.model_prices (organization_id, model, input_usd_per_mtok, output_usd_per_mtok,"
              " valid_from) VALUES (NULL, 'x', 1, 1, now())")
    refused(lambda: as_user(stack, b["owner"], insert))
    # Updates and deletes of defaults find nothing they may touch.
    as_user(stack, b["owner"], "UPDATE agora.model_prices SET valid_to = now() WHERE organization_id IS NULL;"
                               " DELETE FROM agora.model_prices WHERE organization_id IS NULL")
    assert counts(stack.psql_admin(defaults + " AND valid_to IS NULL")) == (total,)


def test_only_owners_and_admins_write_their_organizations_prices(stack, tenants):
    _, b = tenants
    mine = f"organization_id = '{b['org']}'"
    insert = ("INSERT INTO agora.model_prices (organization_id, model, input_usd_per_mtok, output_usd_per_mtok,"
              f" valid_from) VALUES ('{b['org']}', '{new_id()}', 1, 1, now())")
    refused(lambda: as_user(stack, b["viewer"], insert))
    as_user(stack, b["admin"], in_savepoint(insert))
    # A viewer's update and delete reach no row; an admin's do.
    for change in (f"UPDATE agora.model_prices SET valid_to = now() + interval '1 day' WHERE {mine} RETURNING 1",
                   f"DELETE FROM agora.model_prices WHERE {mine} RETURNING 1"):
        assert "1" not in as_user(stack, b["viewer"], change).split()
        assert "1" in as_user(stack, b["admin"], in_savepoint(change)).split()
    # Only valid_to may change: a price, once written, stays as it was.
    refused(lambda: as_user(stack, b["admin"], f"UPDATE agora.model_prices SET input_usd_per_mtok = 0 WHERE {mine}"))


# --- Membership rules ----------------------------------------------------


def test_only_the_creator_claims_a_new_organization(stack):
    creator, intruder, org = new_id(), new_id(), new_id()
    as_user(
        stack,
        creator,
        f"INSERT INTO agora.organizations (id, name, created_by) VALUES ('{org}', 'new', '{creator}')",
    )
    claim = "INSERT INTO agora.memberships (organization_id, user_id, role) VALUES ('{org}', '{user}', 'owner')"
    refused(lambda: as_user(stack, intruder, claim.format(org=org, user=intruder)))
    as_user(stack, creator, claim.format(org=org, user=creator))
    # Once claimed, the bootstrap is closed, even to someone else.
    refused(lambda: as_user(stack, intruder, claim.format(org=org, user=intruder)))
    assert last_line(as_user(stack, creator, "SELECT agora.org_role('%s')" % org)) == "owner"


def test_a_user_cannot_create_an_organization_in_another_name(stack):
    me, other = new_id(), new_id()
    refused(
        lambda: as_user(
            stack,
            me,
            f"INSERT INTO agora.organizations (id, name, created_by) VALUES ('{new_id()}', 'x', '{other}')",
        )
    )


def test_admin_cannot_make_or_unmake_owners(stack, tenants):
    a, _ = tenants
    refused(
        lambda: as_user(
            stack,
            a["admin"],
            "INSERT INTO agora.memberships (organization_id, user_id, role)"
            f" VALUES ('{a['org']}', '{new_id()}', 'owner')",
        )
    )
    refused(
        lambda: as_user(
            stack,
            a["admin"],
            f"UPDATE agora.memberships SET role = 'owner' WHERE organization_id = '{a['org']}'"
            f" AND user_id = '{a['viewer']}'",
        )
    )
    # The owner's row is out of an admin's reach: these change nothing.
    as_user(
        stack,
        a["admin"],
        f"UPDATE agora.memberships SET role = 'viewer' WHERE user_id = '{a['owner']}';"
        f" DELETE FROM agora.memberships WHERE user_id = '{a['owner']}';",
    )
    out = stack.psql_admin(
        f"SELECT role FROM agora.memberships WHERE organization_id = '{a['org']}' AND user_id = '{a['owner']}'"
    )
    assert last_line(out) == "owner"
    # Control: an admin does manage non-owners.
    as_user(
        stack,
        a["admin"],
        in_savepoint(
            "INSERT INTO agora.memberships (organization_id, user_id, role)"
            f" VALUES ('{a['org']}', '{new_id()}', 'admin')"
        ),
    )


# --- The caller's organizations, looked up once per transaction (sql/005) ---

ORG_FUNCS = "SELECT agora.read_orgs()::text, agora.write_orgs()::text, agora.admin_orgs()::text, agora.org_role('{org}')"


@pytest.mark.parametrize("who", ["owner", "admin", "viewer"])
def test_cached_organizations_equal_the_live_lookup(stack, tenants, who):
    _, b = tenants
    sql = ORG_FUNCS.format(org=b["org"])
    cached = last_line(as_user(stack, b[who], sql))
    live = last_line(stack.psql_app(sql, user_id=b[who], live=True))
    assert cached == live
    read, write, admin, role = cached.split("|")
    assert read == "{%s}" % b["org"] and role == who
    assert (write == read) == (who != "viewer")
    assert (admin == read) == (who in ("owner", "admin"))


def test_begin_request_fills_the_lists_and_the_policies_use_them(stack, tenants):
    _, b = tenants
    out = as_user(
        stack,
        b["viewer"],
        "SELECT current_setting('agora.read_orgs'), current_setting('agora.write_orgs'),"
        " current_setting('agora.owner_orgs')",
    )
    assert last_line(out) == "{%s}|{}|{}" % b["org"]
    # A list set by hand is what the policies read: proof that the lookup
    # really is skipped (and that a worker naming organizations is trusted
    # exactly as one naming users always was).
    out = stack.psql_app(
        f"SELECT set_config('agora.read_orgs', '{{}}', true);"
        f" SELECT count(*) FROM agora.projects WHERE organization_id = '{b['org']}'",
        user_id=b["viewer"],
    )
    assert last_line(out) == "0"


def test_a_membership_change_counts_within_the_same_transaction(stack, tenants):
    _, b = tenants
    user = new_id()
    # The owner adds a member, who is visible at once; then the owner steps
    # down to viewer in the same transaction and loses write access at once.
    out = as_user(
        stack,
        b["owner"],
        "INSERT INTO agora.memberships (organization_id, user_id, role)"
        f" VALUES ('{b['org']}', '{user}', 'member');"
        f" SELECT count(*) FROM agora.memberships WHERE user_id = '{user}';"
        f" UPDATE agora.memberships SET role = 'viewer' WHERE organization_id = '{b['org']}'"
        f" AND user_id = '{b['owner']}';"
        f" SELECT agora.org_role('{b['org']}'), agora.write_orgs()::text;"
        " ROLLBACK",
    )
    lines = [l for l in out.splitlines() if l.strip()]
    assert lines[-2:] == ["1", "viewer|{}"], lines


# --- The management API (sql/017) -------------------------------------------


def test_the_audit_log_is_read_by_managers_and_written_only_as_oneself(stack, tenants):
    a, b = tenants
    count = "SELECT count(*) FROM agora.audit_log"
    assert counts(as_user(stack, b["admin"], count))[0] > 0
    assert counts(as_user(stack, b["viewer"], count)) == (0,)
    assert counts(as_key(stack, b, count)) == (0,)
    row = ("INSERT INTO agora.audit_log (organization_id, actor_user_id, action, target_type, target_id)"
           " VALUES ('{org}', '{actor}', 'project.delete', 'project', 'x')")
    # Another author, or another organization: refused; oneself at home: control.
    refused(lambda: as_user(stack, b["owner"], row.format(org=b["org"], actor=b["admin"])))
    refused(lambda: as_user(stack, b["owner"], row.format(org=a["org"], actor=b["owner"])))
    as_user(stack, b["owner"], in_savepoint(row.format(org=b["org"], actor=b["owner"])))
    # A key writes as itself, in its own project only.
    key_row = ("INSERT INTO agora.audit_log (organization_id, project_id, actor_key_id, action, target_type,"
               " target_id) VALUES ('{t[org]}', '{p}', '{t[key]}', 'workflow.create', 'workflow', 'x')")
    refused(lambda: as_key(stack, b, key_row.format(t=b, p=b["project2"])))
    as_key(stack, b, in_savepoint(key_row.format(t=b, p=b["project"])))
    # Append-only for the workers, even for the organization's owner.
    refused(lambda: as_user(stack, b["owner"], "UPDATE agora.audit_log SET action = 'x.y'"))
    refused(lambda: as_user(stack, b["owner"], "DELETE FROM agora.audit_log"))


def test_only_managers_rename_workflows_and_anyone_only_leaves_by_themself(stack, tenants):
    a, b = tenants
    rename = f"UPDATE agora.workflows SET name = 'renamed' WHERE id = '{b['workflow']}'"
    for run in (lambda: as_user(stack, b["viewer"], rename), lambda: as_key(stack, b, rename),
                lambda: as_user(stack, a["owner"], rename)):
        run()
    name = f"SELECT name FROM agora.workflows WHERE id = '{b['workflow']}'"
    assert last_line(stack.psql_admin(name)) == "wf"
    as_user(stack, b["admin"], in_savepoint(rename))  # control

    # A viewer may delete its own membership, nobody else's.
    as_user(stack, b["viewer"], f"DELETE FROM agora.memberships WHERE user_id = '{b['admin']}'")
    as_user(stack, a["owner"], f"DELETE FROM agora.memberships WHERE user_id = '{b['viewer']}'")
    out = as_user(stack, b["viewer"], in_savepoint(
        f"DELETE FROM agora.memberships WHERE user_id = '{b['viewer']}' RETURNING role") + " SELECT 1")
    assert "viewer" in out
    assert last_line(stack.psql_admin(
        f"SELECT count(*) FROM agora.memberships WHERE organization_id = '{b['org']}'")) == "3"


def test_a_key_secret_is_changed_only_by_its_organizations_managers(stack, tenants):
    a, b = tenants
    hash_of = f"SELECT encode(secret_hash, 'hex') FROM agora.api_keys WHERE id = '{a['key']}'"
    before = stack.psql_admin(hash_of)
    rotate = f"UPDATE agora.api_keys SET secret_hash = sha256('mine'::bytea), rotated_at = now() WHERE id = '{a['key']}'"
    as_user(stack, b["owner"], rotate)
    as_key(stack, a, rotate)
    as_user(stack, a["viewer"], rotate)
    assert stack.psql_admin(hash_of) == before
    as_user(stack, a["admin"], in_savepoint(rotate))  # control
    # Nor may the workers change a key's id or project.
    refused(lambda: as_user(stack, a["owner"],
                            f"UPDATE agora.api_keys SET project_id = '{a['project2']}' WHERE id = '{a['key']}'"))


def test_another_organization_cannot_erase_runs_or_delete_projects(stack, tenants):
    a, b = tenants
    probe = (f"SELECT (SELECT count(*) FROM agora.executions WHERE id = '{a['execution']}'),"
             f" (SELECT count(*) FROM agora.node_executions WHERE execution_id = '{a['execution']}'),"
             f" (SELECT count(*) FROM agora.projects WHERE id = '{a['project']}'),"
             f" (SELECT count(*) FROM agora.workflows WHERE id = '{a['workflow']}')")
    before = stack.psql_admin(probe)
    attacks = (f"DELETE FROM agora.node_executions WHERE execution_id = '{a['execution']}';"
               f" DELETE FROM agora.executions WHERE id = '{a['execution']}';"
               f" DELETE FROM agora.workflows WHERE id = '{a['workflow']}';"
               f" DELETE FROM agora.projects WHERE id = '{a['project']}';"
               f" UPDATE agora.projects SET name = 'taken' WHERE id = '{a['project']}'")
    as_user(stack, b["owner"], attacks)
    as_key(stack, b, attacks)
    as_key(stack, a, attacks)      # a key erases nothing, even at home
    as_user(stack, a["viewer"], attacks)
    assert stack.psql_admin(probe) == before
    assert last_line(before) == "1|1|1|1"
