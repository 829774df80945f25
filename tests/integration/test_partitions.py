"""Time partitioning of the item tables (sql/025) and whole-month drops by
retention (agora-retention, retention_partitions.c).

The conversion: in a scratch database of the test cluster, migrations 001
to 024 are applied, then runs in several months with items of every kind
(node executions with and without client ids, JSON and OTLP spans, events,
snapshots; some deleted, leaving identity gaps) are written, their rows and
what the catalog attaches to the tables recorded, then sql/025. Every row
must still be there (the same content, each under its run's created_at, in
a monthly partition), and so must the triggers, policies, grants and the
function taking a node_executions row; identity values go on past the old
ones.

On the stack (all migrations): ingested items carry their run's
created_at; agora_app cannot reach a partition; and the job drops a month
whole when every project with runs in it has expired, keeps it when one
has not (no policy), drops only the payload months when only payloads
expired, and leaves the rollups as they were."""
import os
import subprocess
import time

import pytest

from conftest import scratch_database
from test_management import CHILD_TABLES, Org
from test_retention import job, put, rollups

DB = "partitions_migration"
ORGS = ("00000000-0000-4000-8000-0000000000c1", "00000000-0000-4000-8000-0000000000c2")


def fill_sql(org, k):
    """Two projects' worth of runs of org (k tells the ids apart): 60 runs
    created over ten months, each with items of every kind."""
    project, wf = f"00000000-0000-4000-8000-0000000001{k}0", f"00000000-0000-4000-8000-0000000001{k}1"
    eid = f"('000000c{k}-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid"
    return f"""
INSERT INTO agora.organizations (id, name, created_by) VALUES ('{org}', 'o{k}', '{org}');
INSERT INTO agora.projects (id, organization_id, name) VALUES ('{project}', '{org}', 'p');
INSERT INTO agora.workflows (id, organization_id, project_id, name) VALUES ('{wf}', '{org}', '{project}', 'w');
INSERT INTO agora.executions (id, organization_id, project_id, workflow_id, session_id, status, started_at,
    created_at)
SELECT {eid}, '{org}', '{project}', '{wf}', 's', 'success', t, t
FROM generate_series(1, 60) g, LATERAL (SELECT timestamptz '2025-01-03 00:00Z' + g * interval '5 days'
                                               + g * interval '17 min' AS t) x;
INSERT INTO agora.node_executions (organization_id, project_id, execution_id, node_name, status, client_id,
    started_at, input_tokens, model)
SELECT '{org}', '{project}', {eid}, 'n' || j, 'success', CASE WHEN j = 1 THEN gen_random_uuid() END,
       now(), CASE WHEN j = 2 THEN g END, CASE WHEN j = 2 THEN 'm' END
FROM generate_series(1, 60) g, generate_series(1, 3) j;
INSERT INTO agora.telemetry_spans (organization_id, project_id, execution_id, trace_id, span_id, name,
    start_time, attributes, from_otlp)
SELECT '{org}', '{project}', {eid}, md5(g::text), 's' || j, 'x', now(), jsonb_build_object('j', j), j = 1
FROM generate_series(1, 60) g, generate_series(1, 2) j;
INSERT INTO agora.telemetry_events (organization_id, project_id, execution_id, event_type, "timestamp", data)
SELECT '{org}', '{project}', {eid}, 'e', now(), jsonb_build_object('g', g) FROM generate_series(1, 60) g;
INSERT INTO agora.shared_state_snapshots (organization_id, project_id, execution_id, sequence, state)
SELECT '{org}', '{project}', {eid}, j, jsonb_build_object('j', j)
FROM generate_series(1, 60) g, generate_series(0, 1) j;
DELETE FROM agora.telemetry_events WHERE id % 7 = 0;
DELETE FROM agora.node_executions WHERE id % 11 = 0;
"""


# What sql/025 must keep: one query per kind, rows in a stable order.
CATALOG = {
    "triggers": "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger"
                " WHERE NOT tgisinternal AND tgrelid = ANY ({tables}) ORDER BY 1, 2",
    "policies": "SELECT tablename, policyname, permissive, roles, cmd, qual, with_check FROM pg_policies"
                " WHERE schemaname = 'agora' AND tablename::text = ANY ({names}) ORDER BY 1, 2",
    "grants": "SELECT relname, relacl, relrowsecurity, relforcerowsecurity, relowner::regrole FROM pg_class"
              " WHERE oid = ANY ({tables}) OR relname = ANY (SELECT n || '_id_seq' FROM unnest({names}) n)"
              " ORDER BY 1",
    "column grants": "SELECT attrelid::regclass::text, attname, attacl FROM pg_attribute"
                     " WHERE attacl IS NOT NULL AND attrelid = ANY ({tables}) ORDER BY 1, 2",
    # A partitioned table's index reads "ON ONLY": its partitions have their own.
    "indexes": "SELECT i.indexrelid::regclass::text, replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ')"
               " FROM pg_index i WHERE i.indrelid = ANY ({tables}) AND NOT i.indisunique ORDER BY 1",
    "functions": "SELECT p.oid::regprocedure, p.proowner::regrole, p.proacl, p.prosrc FROM pg_proc p"
                 " WHERE p.proname = 'stats_item' ORDER BY 1",
}
NAMES = "ARRAY[" + ", ".join(f"'{t}'" for t in CHILD_TABLES) + "]::text[]"
TABLES = "ARRAY[" + ", ".join(f"'agora.{t}'::regclass" for t in CHILD_TABLES) + "]::oid[]"


def rows_digest(run, table):
    """Count and digest of a table's rows as they were before sql/025 (the
    new column left out), in id order."""
    return run(f"SELECT count(*), md5(string_agg((to_jsonb(v) - 'run_created_at')::text, ',' ORDER BY v.id))"
               f" FROM agora.{table} v").strip()


@pytest.fixture(scope="module")
def migrated(stack):
    run, files = scratch_database(stack, DB, "025")
    for k, org in enumerate(ORGS, 1):
        run("BEGIN;" + fill_sql(org, k) + "COMMIT;")
    before = {t: rows_digest(run, t) for t in CHILD_TABLES}
    catalog = {k: run(q.format(tables=TABLES, names=NAMES)) for k, q in CATALOG.items()}
    ids = {t: int(run(f"SELECT max(id) FROM agora.{t}")) for t in CHILD_TABLES}
    migration = [f for f in files if os.path.basename(f).startswith("025")]
    assert len(migration) == 1
    run("BEGIN;\n" + open(migration[0]).read() + "\nCOMMIT;\n")
    yield run, before, catalog, ids
    stack.psql_admin(f"DROP DATABASE IF EXISTS {DB}")


def test_every_row_is_kept_under_its_runs_created_at_in_a_monthly_partition(migrated):
    run, before, _, _ = migrated
    for t in CHILD_TABLES:
        after = rows_digest(run, t)
        assert after == before[t], t
        assert int(after.split("|")[0]) > 0, t
        # Each row carries its run's created_at (also a foreign key now),
        # and sits in its month's partition, none in DEFAULT.
        assert run(f"SELECT count(*) FROM agora.{t} v JOIN agora.executions e ON e.id = v.execution_id"
                   f" WHERE v.run_created_at <> e.created_at").strip() == "0", t
        placed = run(f"SELECT DISTINCT tableoid::regclass, to_char(run_created_at, 'YYYY_MM')"
                     f" FROM agora.{t} WHERE to_char(run_created_at AT TIME ZONE 'UTC', 'YYYY_MM')"
                     f" <> right(tableoid::regclass::text, 7)")
        assert placed.strip() == "", (t, placed)
    months = run("SELECT count(DISTINCT tableoid) FROM agora.node_executions").strip()
    assert int(months) >= 10


def test_what_the_tables_had_attached_is_attached_to_the_new_ones(migrated):
    run, _, catalog, _ = migrated
    for k, q in CATALOG.items():
        assert run(q.format(tables=TABLES, names=NAMES)) == catalog[k], k
    # Triggers, policies and grants were there to compare.
    assert "stats_nodes_insert" in catalog["triggers"] and "definer_all" in catalog["policies"]
    assert "agora_app=arwd" in catalog["grants"] and "client_id" in catalog["column grants"]


def test_keys_name_the_organization_and_the_partition_key(migrated):
    run, _, _, _ = migrated
    keys = run("SELECT conrelid::regclass, pg_get_constraintdef(oid) FROM pg_constraint"
               f" WHERE conrelid = ANY ({TABLES}) AND contype IN ('p', 'u', 'f') ORDER BY 1, 2").splitlines()
    keys += run("SELECT indrelid::regclass, pg_get_indexdef(indexrelid) FROM pg_index"
                f" WHERE indrelid = ANY ({TABLES}) AND indisunique").splitlines()
    assert len(keys) >= 3 * len(CHILD_TABLES)
    for k in keys:
        assert "organization_id" in k and "run_created_at" in k, k


def test_identity_values_go_on_past_the_old_ones(migrated):
    run, _, _, ids = migrated
    org, k = ORGS[0], 1
    eid = f"000000c{k}-0000-4000-8000-000000000001"
    new = run(f"INSERT INTO agora.telemetry_events (run_created_at, organization_id, project_id, execution_id,"
              f" event_type, \"timestamp\") SELECT created_at, organization_id, project_id, id, 'late', now()"
              f" FROM agora.executions WHERE id = '{eid}' RETURNING id")
    assert int(new.strip()) > ids["telemetry_events"]
    # A row whose copied time disagrees with its run is refused.
    with pytest.raises(subprocess.CalledProcessError) as info:
        run(f"INSERT INTO agora.telemetry_events (run_created_at, organization_id, project_id, execution_id,"
            f" event_type, \"timestamp\") SELECT created_at + interval '1 s', organization_id, project_id, id,"
            f" 'late', now() FROM agora.executions WHERE id = '{eid}'")
    assert "foreign key" in info.value.stderr


# ---------------------------------------------------------------- on the stack


def test_ingested_items_carry_their_runs_created_at(stack):
    o = Org(stack)
    run = o.ingest(full=True)
    for t in CHILD_TABLES:
        out = stack.psql_admin(f"SELECT count(*), count(*) FILTER (WHERE v.run_created_at = e.created_at),"
                               f" count(*) FILTER (WHERE v.tableoid::regclass::text LIKE '%default')"
                               f" FROM agora.{t} v JOIN agora.executions e ON e.id = v.execution_id"
                               f" WHERE v.execution_id = '{run}'").strip()
        assert out == "1|1|0", (t, out)
    # The run reads back whole (the reads prune to its partition).
    r = o.req("GET", f"/api/executions/{run}/timeline")
    assert r.status == 200 and len(r.json()["node_executions"]) == 1, r.body
    for route in ("telemetry-spans", "telemetry-events", "state-snapshots"):
        r = o.req("GET", f"/api/executions/{run}/{route}")
        assert r.status == 200 and len(r.json()["items"]) == 1, (route, r.body)


def test_the_workers_role_reaches_no_partition(stack):
    o = Org(stack)
    with pytest.raises(subprocess.CalledProcessError) as info:
        stack.psql_app("SELECT count(*) FROM agora_partitions.node_executions_default", user_id=o.owner)
    assert "permission denied" in info.value.stderr
    assert stack.psql_admin("SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a"
                            " WHERE c.relnamespace = 'agora_partitions'::regnamespace"
                            " AND a.grantee = 'agora_app'::regrole").strip() == "0"


def month_partitions(stack, month):
    """Makes month's partitions (as the job does for months ahead), so
    runs moved into that month land there rather than in DEFAULT."""
    y, m = map(int, month.split("-"))
    end = f"{y + m // 12}-{m % 12 + 1:02d}"
    for t in CHILD_TABLES:
        part = f"{t}_p{month.replace('-', '_')}"
        stack.psql_admin(f"SET ROLE agora_owner; CREATE TABLE IF NOT EXISTS agora_partitions.{part}"
                         f" PARTITION OF agora.{t} FOR VALUES FROM ('{month}-01 00:00Z') TO ('{end}-01 00:00Z')")


def move(stack, runs, month):
    """Sets the runs' created_at into month; their items follow (ON UPDATE
    CASCADE of sql/025's foreign keys)."""
    quoted = ",".join(f"'{r}'" for r in runs)
    stack.psql_admin(f"UPDATE agora.executions SET created_at = '{month}-10 12:00Z' WHERE id IN ({quoted})")


def exists(stack, part):
    return stack.psql_admin(f"SELECT to_regclass('agora_partitions.{part}') IS NOT NULL").strip() == "t"


def test_the_job_drops_expired_months_whole_and_keeps_the_rest(stack):
    expired, kept, payload_only = Org(stack), Org(stack), Org(stack)
    assert put(expired, {"runs_days": 30, "payload_days": None}).status == 200
    assert put(payload_only, {"runs_days": None, "payload_days": 30}).status == 200
    months = {"2019-03": expired, "2019-04": kept, "2019-05": payload_only}
    runs = {}
    for month, o in months.items():
        month_partitions(stack, month)
        runs[month] = [o.ingest(full=True) for _ in range(3)]
        move(stack, runs[month], month)
    # 2019-04 also holds a run of the expired project: the month stays
    # whole for the project without a policy, and the batches take that run.
    extra = expired.ingest(full=True)
    move(stack, [extra], "2019-04")
    for t in CHILD_TABLES:
        for month in months:
            assert exists(stack, f"{t}_p{month.replace('-', '_')}")
    before = {m: rollups(stack, o) for m, o in months.items()}

    report = job(stack)
    assert report["partitions_dropped"] >= 7, report
    for t in CHILD_TABLES:
        assert not exists(stack, f"{t}_p2019_03"), t
        assert exists(stack, f"{t}_p2019_04"), t
        assert exists(stack, f"{t}_p2019_05") == (t == "node_executions"), t
    # The expired project's runs are gone, the batches finishing what the
    # drops left (the runs' rows, and its run in the month kept).
    gone = ",".join(f"'{r}'" for r in runs["2019-03"] + [extra])
    assert stack.psql_admin(f"SELECT count(*) FROM agora.executions WHERE id IN ({gone})").strip() == "0"
    assert stack.psql_admin(f"SELECT count(*) FROM agora.node_executions WHERE execution_id = '{extra}'"
                            ).strip() == "0"
    # The project without a policy keeps everything.
    kept_runs = ",".join(f"'{r}'" for r in runs["2019-04"])
    for t in CHILD_TABLES:
        assert stack.psql_admin(f"SELECT count(*) FROM agora.{t} WHERE execution_id IN ({kept_runs})"
                                ).strip() == "3", t
    # Payloads only: runs and node executions stay.
    po = ",".join(f"'{r}'" for r in runs["2019-05"])
    assert stack.psql_admin(f"SELECT count(*) FROM agora.node_executions WHERE execution_id IN ({po})"
                            ).strip() == "3"
    # A drop fires no trigger: the rollups keep what the runs added.
    for m, o in months.items():
        assert rollups(stack, o) == before[m], m
    drops = stack.psql_admin("SELECT string_agg(name, ',' ORDER BY name) FROM agora_partitions.drops"
                             " WHERE range_from >= '2019-03-01' AND range_from < '2019-06-01'").strip()
    assert drops.split(",") == sorted([f"{t}_p2019_03" for t in CHILD_TABLES]
                                      + [f"{t}_p2019_05" for t in CHILD_TABLES if t != "node_executions"])


def test_partitions_are_made_ahead_and_a_second_call_makes_none(stack):
    out = stack.psql_admin("SELECT agora.ensure_partitions(5), agora.ensure_partitions(5)").strip()
    assert out.split("|")[1] == "0"
    for t in CHILD_TABLES:
        ahead = stack.psql_admin(
            "SELECT count(*) FROM generate_series(date_trunc('month', now(), 'UTC'),"
            " date_trunc('month', now(), 'UTC') + interval '5 months', interval '1 month') m"
            f" WHERE to_regclass('agora_partitions.{t}_p' || to_char(m AT TIME ZONE 'UTC', 'YYYY_MM')) IS NOT NULL"
        ).strip()
        assert ahead == "6", t


def test_a_client_id_taken_by_a_run_in_flight_is_seen_by_the_other_runs_check(stack):
    """No index spans runs any more: sql/025's check locks each id before it
    looks, in a new snapshot. Session A checks and inserts an id into its
    run and holds its transaction open; session B's check for its own run
    waits for A and then sees the id (409), where a check without the lock
    would have looked at once, seen nothing, and let a twin in."""
    o = Org(stack)
    run_a, run_b = o.ingest(), o.ingest()
    cid = "00000000-0000-4000-8000-00000000c1d0"
    psql = [os.path.join(stack.env.get("AGORA_PG_BINDIR", "/usr/bin"), "psql"), "-XAtq", "-v", "ON_ERROR_STOP=1",
            "-d", stack.env["AGORA_ADMIN_DATABASE_URL"]]
    a = subprocess.Popen(psql, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=stack.env)
    a.stdin.write(
        f"BEGIN;\nSELECT count(*) FROM agora.node_execution_ids_elsewhere(ARRAY['{cid}']::uuid[], '{run_a}');\n"
        f"INSERT INTO agora.node_executions (run_created_at, organization_id, project_id, execution_id, node_name,"
        f" client_id) SELECT created_at, organization_id, project_id, id, 'load', '{cid}'"
        f" FROM agora.executions WHERE id = '{run_a}';\n")
    a.stdin.flush()
    time.sleep(1)
    b = subprocess.Popen(psql, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=stack.env)
    b.stdin.write(f"SELECT count(*) FROM agora.node_execution_ids_elsewhere(ARRAY['{cid}']::uuid[], '{run_b}');\n")
    b.stdin.close()
    time.sleep(1)
    assert b.poll() is None, "B's check did not wait for A's lock"
    a.stdin.write("COMMIT;\n")
    a.stdin.close()
    a.wait(timeout=30)
    b.wait(timeout=30)
    out_a, err_a, out_b, err_b = a.stdout.read(), a.stderr.read(), b.stdout.read(), b.stderr.read()
    assert a.returncode == 0 and b.returncode == 0, (err_a, err_b)
    assert out_a.split()[0] == "0"
    assert out_b.split() == ["1"], out_b
    # And through the API: the id another run holds is a conflict.
    r = o.req("POST", "/api/executions/ingest",
              {"workflow_id": o.workflow, "execution_id": run_b, "session_id": "s", "status": "running",
               "started_at": "2025-06-01T10:00:00Z",
               "node_executions": [{"id": cid, "node_name": "load", "status": "running"}]})
    assert r.status == 409, r.body
