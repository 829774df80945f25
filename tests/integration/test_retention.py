"""Retention (sql/024, sql/026, agora-retention, /api/.../retention): expired
runs go with everything they own, expired payloads go while runs, node
executions and the rollups stay, the large fields of the runs kept are
trimmed, a project's override beats its organization's default and its
removal falls back to it, bad policies are 422, other tenants' ids 404, two
jobs at once remove each row once, and ingest is not held up by a job of
many batches.
Ages are made by moving executions.created_at back as the superuser."""
import json
import os
import subprocess
import threading
import time
import uuid

import pytest

from conftest import children_of, wait_for
from test_management import CHILD_TABLES, Org, err

INGEST = "/api/executions/ingest"


def job(stack, *args, timeout=300):
    """Runs agora-retention once; returns its JSON report."""
    r = subprocess.run([os.path.join(stack.root, "agora-retention"), *map(str, args)], cwd=stack.root,
                       env=stack.env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def for_project(report, project):
    return [p for p in report["projects"] if p["project_id"] == project]


def age(stack, ids, days):
    quoted = ",".join(f"'{i}'" for i in ids)
    stack.psql_admin(f"UPDATE agora.executions SET created_at = now() - interval '{days} days'"
                     f" WHERE id IN ({quoted})")


def count(stack, table, where):
    return int(stack.psql_admin(f"SELECT count(*) FROM agora.{table} WHERE {where}").strip())


def owned(stack, run):
    """How many rows of each kind the run owns, the run itself first."""
    return [count(stack, "executions", f"id = '{run}'")] + [
        count(stack, t, f"execution_id = '{run}'") for t in CHILD_TABLES]


def rollups(stack, o):
    """The folded rollups of the organization's project: runs per status,
    node runs, error counts."""
    stack.psql_admin(f"SELECT agora.stats_fold('{o.project}')")
    return stack.psql_admin(
        "SELECT (SELECT coalesce(sum(success + error + cancelled), 0) FROM agora.stats_executions_hourly"
        f"        WHERE project_id = '{o.project}'),"
        f" (SELECT coalesce(sum(runs), 0) FROM agora.stats_nodes_daily WHERE project_id = '{o.project}'),"
        f" (SELECT coalesce(sum(count), 0) FROM agora.stats_errors_daily WHERE project_id = '{o.project}'),"
        f" (SELECT coalesce(sum(success + error), 0) FROM agora.stats_projects_hourly"
        f"  WHERE project_id = '{o.project}')").strip()


def put(o, policy, project=True, tok=None, target=None):
    path = f"/api/projects/{target or o.project}/retention" if project else \
        f"/api/organizations/{target or o.id}/retention"
    return o.req("PUT", path, policy, tok=tok)


@pytest.fixture
def org(stack):
    return Org(stack)


def test_expired_runs_go_with_everything_they_own_and_the_rollups_stay(stack, org):
    old = [org.ingest(full=True, headers={"Idempotency-Key": f"k-{uuid.uuid4()}"}),
           org.ingest(full=True, status="error", error={"message": "boom"})]
    new = org.ingest(full=True)
    assert count(stack, "idempotency_keys", f"execution_id = '{old[0]}'") == 1
    # An alert the failed run fired goes with it (the erasure path, sql/019).
    stack.psql_admin(
        "WITH r AS (INSERT INTO agora.alert_rules (organization_id, project_id, name, kind)"
        f" VALUES ('{org.id}', '{org.project}', 'failed', 'execution_failed') RETURNING id)"
        " INSERT INTO agora.alerts (organization_id, project_id, rule_id, subject, execution_id, payload)"
        f" SELECT '{org.id}', '{org.project}', r.id, 'run', '{old[1]}', '{{}}' FROM r")
    age(stack, old, 40)
    before = rollups(stack, org)
    assert put(org, {"runs_days": 30, "payload_days": None}).status == 200

    report = job(stack, "--batch", 1)
    mine = for_project(report, org.project)
    assert mine == [{"project_id": org.project, "outcome": "done", "runs_removed": 2,
                     "payload_rows_removed": 6, "fields_trimmed": 0}]
    for run in old:
        assert owned(stack, run) == [0, 0, 0, 0, 0]
    assert count(stack, "idempotency_keys", f"execution_id = '{old[0]}'") == 0
    assert count(stack, "alerts", f"execution_id = '{old[1]}'") == 0
    assert owned(stack, new) == [1, 1, 1, 1, 1]
    assert rollups(stack, org) == before
    assert org.req("GET", f"/api/executions/{old[0]}").status == 404

    got = org.must("GET", f"/api/projects/{org.project}/retention")
    assert got["policy"] == {"runs_days": 30, "payload_days": None}
    assert got["effective"] == {"runs_days": 30, "payload_days": None, "source": "project"}
    created = stack.psql_admin(f"SELECT agora.rfc3339(created_at) FROM agora.executions WHERE id = '{new}'")
    assert got["oldest_execution_at"] == created.strip()
    assert got["oldest_payload_at"] == created.strip()
    assert got["last_job"]["runs_removed"] == 2 and got["last_job"]["outcome"] == "done"
    # The change is in the audit log.
    assert ("project.retention", org.project) in org.actions()

    # The same rollup check fails for the erasure route, which does
    # take a run back out: so the equality above means something.
    org.must("DELETE", f"/api/executions/{new}")
    assert rollups(stack, org) != before


def test_payload_expiry_keeps_runs_node_executions_and_rollups(stack, org):
    old, new = org.ingest(full=True), org.ingest(full=True)
    age(stack, [old], 10)
    before = rollups(stack, org)
    assert put(org, {"runs_days": None, "payload_days": 7}).status == 200
    mine = for_project(job(stack, "--batch", 2), org.project)
    assert mine[0]["runs_removed"] == 0 and mine[0]["payload_rows_removed"] == 3
    assert owned(stack, old) == [1, 1, 0, 0, 0]
    assert owned(stack, new) == [1, 1, 1, 1, 1]
    assert rollups(stack, org) == before
    got = org.must("GET", f"/api/projects/{org.project}/retention")
    kept = stack.psql_admin(f"SELECT agora.rfc3339(created_at) FROM agora.executions WHERE id = '{new}'").strip()
    oldest = stack.psql_admin(f"SELECT agora.rfc3339(created_at) FROM agora.executions WHERE id = '{old}'").strip()
    assert got["oldest_payload_at"] == kept and got["oldest_execution_at"] == oldest


def test_a_project_override_beats_the_organization_default(stack, org):
    other = org.must("POST", "/api/projects", {"organization_id": org.id, "name": "other"})["id"]
    wf_other = org.new_workflow(project=other)
    a = org.ingest()
    b = org.ingest(workflow=wf_other)
    age(stack, [a, b], 20)
    assert put(org, {"runs_days": 10, "payload_days": 5}, project=False).status == 200
    assert put(org, {"runs_days": 100, "payload_days": None}).status == 200
    job(stack)
    assert owned(stack, a)[0] == 1
    assert owned(stack, b)[0] == 0
    assert org.must("GET", f"/api/projects/{other}/retention")["effective"] == {
        "runs_days": 10, "payload_days": 5, "source": "organization"}
    got = org.must("GET", f"/api/organizations/{org.id}/retention")
    assert got["policy"] == {"runs_days": 10, "payload_days": 5}
    assert got["last_job"]["outcome"] == "done"
    assert ("organization.retention", org.id) in org.actions()


def test_removing_a_policy_falls_back_to_the_organization_then_to_forever(stack, org):
    assert put(org, {"runs_days": 10, "payload_days": 5}, project=False).status == 200
    assert put(org, {"runs_days": 100, "payload_days": None}).status == 200
    project_path = f"/api/projects/{org.project}/retention"
    org_path = f"/api/organizations/{org.id}/retention"

    r = org.req("DELETE", project_path)
    assert r.status == 204 and not r.body, r.body
    got = org.must("GET", project_path)
    assert got["policy"] is None
    assert got["effective"] == {"runs_days": 10, "payload_days": 5, "source": "organization"}
    assert org.must("GET", org_path)["policy"] == {"runs_days": 10, "payload_days": 5}
    # Again: nothing to remove is no error, and nothing more is recorded.
    assert org.req("DELETE", project_path).status == 204
    assert org.actions().count(("project.retention_delete", org.project)) == 1

    assert org.req("DELETE", org_path).status == 204
    assert org.must("GET", project_path)["effective"] == {"runs_days": None, "payload_days": None, "source": "none"}
    assert org.must("GET", org_path)["policy"] is None
    assert org.req("DELETE", org_path).status == 204
    assert org.actions().count(("organization.retention_delete", org.id)) == 1
    entry = [e for e in org.audit(limit=200).json()["items"] if e["action"] == "organization.retention_delete"]
    assert entry[0]["detail"] == {"runs_days": 10, "payload_days": 5}

    # The job now keeps this project's runs: no policy, no pass.
    run = org.ingest()
    age(stack, [run], 200)
    assert for_project(job(stack), org.project) == []
    assert owned(stack, run)[0] == 1


def test_only_owners_and_admins_remove_a_policy_and_others_see_404(stack, org):
    assert put(org, {"runs_days": 30, "payload_days": None}).status == 200
    assert put(org, {"runs_days": 60, "payload_days": None}, project=False).status == 200
    stranger = Org(stack)
    _, member = org.member("member")
    key = org.key()["key"]
    for kind, target in (("projects", org.project), ("organizations", org.id)):
        path = f"/api/{kind}/{target}/retention"
        assert err(stranger.req("DELETE", path))[0] == 404
        assert err(stranger.req("DELETE", f"/api/{kind}/{uuid.uuid4()}/retention"))[0] == 404
        assert err(stranger.req("DELETE", f"/api/{kind}/not-a-uuid/retention"))[0] == 404
        assert err(org.req("DELETE", path, tok=member)) == (403, "forbidden")
        assert org.req("DELETE", path, tok=key).status in (401, 403)
        assert org.must("GET", path)["policy"] is not None
    _, admin = org.member("admin")
    assert org.req("DELETE", f"/api/projects/{org.project}/retention", tok=admin).status == 204
    assert org.must("GET", f"/api/projects/{org.project}/retention")["policy"] is None


BIG = 5000


def traceback(n=BIG):
    return "Traceback (most recent call last):\n" + "  File \"x.py\", line 1, in f\n" * (n // 30)


def alert_count(stack, project):
    return count(stack, "alerts", f"project_id = '{project}'")


def error_rollups(stack, o):
    stack.psql_admin(f"SELECT agora.stats_fold('{o.project}')")
    return stack.psql_admin(
        "SELECT message, sum(count), max(example_id::text) FROM agora.stats_errors_daily"
        f" WHERE project_id = '{o.project}' GROUP BY message ORDER BY message").strip()


def test_large_fields_past_the_payload_window_are_trimmed_once_and_nothing_else_moves(stack, org):
    started = "2025-06-01T10:00:00Z"

    def run(error, metadata, nodes):
        body = {"workflow_id": org.workflow, "session_id": "s", "status": "error" if error else "success",
                "started_at": started, "completed_at": "2025-06-01T10:00:05Z", "duration_ms": 5000,
                "metadata": metadata,
                "node_executions": [{"node_name": name, "status": "error" if e else "success",
                                     "started_at": started, "exec_duration_ms": 10, "error": e}
                                    for name, e in nodes]}
        if error:
            body["error"] = error
        r = org.req("POST", INGEST, body)
        assert r.status == 201, r.body
        return r.json()["execution_id"]

    big_error = {"type": "ValueError", "message": "bad row 7", "traceback": traceback()}
    big_meta = {"tags": ["x" * 100] * 30}
    old = run(big_error, big_meta, [("load", None), ("save", {"message": "disk", "trace": traceback()}),
                                    ("think", {"message": "small"})])
    small = run({"message": "short"}, {"env": "prod"}, [("save", "plain string error")])
    new = run(big_error, big_meta, [("save", {"message": "disk", "trace": traceback()})])
    age(stack, [old, small], 10)
    # A rule made after the runs: an update of a failed save node, counted
    # as a change, would fire it for that run (the last lines show it).
    org.must("POST", f"/api/projects/{org.project}/alert-rules",
             {"name": "save failed", "kind": "execution_failed", "node_name": "save", "cooldown_minutes": 0,
              "channels": [{"url": "https://hooks.example.com/x"}]})
    before = (rollups(stack, org), error_rollups(stack, org), alert_count(stack, org.project))
    assert before[2] == 0
    assert put(org, {"runs_days": None, "payload_days": 7}).status == 200

    mine = for_project(job(stack, "--batch", 1), org.project)
    # The old run's error and metadata, and its save node's error.
    assert mine[0]["fields_trimmed"] == 3 and mine[0]["outcome"] == "done", mine

    got = org.must("GET", f"/api/executions/{old}")
    assert got["error"]["_trimmed"] is True and got["error"]["message"] == "ValueError: bad row 7"
    assert got["error"]["bytes"] == len(json.dumps(big_error, separators=(", ", ": "))), got["error"]
    assert "traceback" not in got["error"]
    assert got["metadata"] == {"_trimmed": True, "bytes": got["metadata"]["bytes"]}
    assert got["metadata"]["bytes"] > 1024
    nodes = {n["node_name"]: n for n in org.must("GET", f"/api/executions/{old}/timeline")["node_executions"]}
    assert nodes["save"]["error"]["_trimmed"] is True and nodes["save"]["error"]["message"] == "disk"
    assert nodes["think"]["error"] == {"message": "small"}
    assert nodes["load"]["error"] is None
    # Small fields and runs inside the window are kept as sent.
    got_small = org.must("GET", f"/api/executions/{small}")
    assert got_small["error"] == {"message": "short"} and got_small["metadata"] == {"env": "prod"}
    got_new = org.must("GET", f"/api/executions/{new}")
    assert got_new["error"] == big_error and got_new["metadata"] == big_meta

    # Not a change of the run: rollups, top errors and alerts as before.
    assert (rollups(stack, org), error_rollups(stack, org), alert_count(stack, org.project)) == before
    assert org.must("GET", f"/api/projects/{org.project}/retention")["last_job"]["fields_trimmed"] == 3

    # A second job finds nothing more to trim.
    again = for_project(job(stack), org.project)
    assert again[0]["fields_trimmed"] == 0
    assert org.must("GET", f"/api/executions/{old}") == got

    # The same update outside retention is a change: the node rule fires,
    # so the unchanged count above means something.
    stack.psql_admin(f"UPDATE agora.node_executions SET error = error WHERE execution_id = '{old}'"
                     " AND node_name = 'save'")
    assert alert_count(stack, org.project) == 1


def test_trimming_resumes_after_its_mark_across_jobs(stack, org):
    big = {"blob": "y" * 2000}
    bulk_runs(stack, org, 30, 10)
    stack.psql_admin(f"UPDATE agora.executions SET metadata = '{json.dumps(big)}'"
                     f" WHERE project_id = '{org.project}'")
    assert put(org, {"runs_days": None, "payload_days": 7}).status == 200
    total = 0
    for report in (job(stack, "--batch", 4), job(stack, "--batch", 4)):
        total += for_project(report, org.project)[0]["fields_trimmed"]
    assert total == 30
    assert count(stack, "executions", f"project_id = '{org.project}' AND metadata ? '_trimmed'") == 30
    # A run that arrives later and ages past the window is trimmed next time.
    late = org.ingest()
    stack.psql_admin(f"UPDATE agora.executions SET metadata = '{json.dumps(big)}',"
                     f" created_at = now() - interval '8 days' WHERE id = '{late}'")
    assert for_project(job(stack), org.project)[0]["fields_trimmed"] == 1


@pytest.mark.parametrize("body, path", [
    ({"runs_days": 0, "payload_days": None}, "runs_days"),
    ({"runs_days": 3651, "payload_days": None}, "runs_days"),
    ({"runs_days": "30", "payload_days": None}, "runs_days"),
    ({"runs_days": 1.5, "payload_days": None}, "runs_days"),
    ({"runs_days": 30, "payload_days": 31}, "payload_days"),
    ({"runs_days": None, "payload_days": 0}, "payload_days"),
    ({"payload_days": 3}, "runs_days"),
    ({"runs_days": 3, "payload_days": 1, "forever": True}, "forever"),
])
def test_out_of_range_policies_are_422_naming_the_field(stack, org, body, path):
    for project in (True, False):
        r = put(org, body, project=project)
        assert err(r) == (422, "validation_failed"), r.body
        assert path in json.dumps(r.json()["error"])
    assert org.must("GET", f"/api/projects/{org.project}/retention")["policy"] is None


def test_other_tenants_are_404_and_members_read_but_do_not_change(stack, org):
    stranger = Org(stack)
    ok = {"runs_days": 5, "payload_days": None}
    for project in (True, False):
        target = org.project if project else org.id
        kind = "projects" if project else "organizations"
        assert err(put(stranger, ok, project=project, target=target))[0] == 404
        assert stranger.req("GET", f"/api/{kind}/{target}/retention").status == 404
        assert stranger.req("GET", f"/api/{kind}/{uuid.uuid4()}/retention").status == 404
        assert stranger.req("GET", f"/api/{kind}/not-a-uuid/retention").status == 404
    _, tok = org.member("member")
    assert err(put(org, ok, tok=tok))[0] == 403
    assert org.req("GET", f"/api/projects/{org.project}/retention", tok=tok).status == 200
    _, admin = org.member("admin")
    assert put(org, ok, tok=admin).status == 200
    key = org.key()["key"]
    assert org.req("GET", f"/api/projects/{org.project}/retention", tok=key).status in (401, 403)


def bulk_runs(stack, o, n, days):
    """n runs with one node execution and one event each, aged days."""
    stack.psql_admin(
        "WITH x AS (INSERT INTO agora.executions (organization_id, project_id, workflow_id, session_id, status,"
        " started_at, completed_at, duration_ms, created_at)"
        f" SELECT '{o.id}', '{o.project}', '{o.workflow}', 's', 'success', now() - interval '{days} days',"
        f" now() - interval '{days} days', 1, now() - interval '{days} days' FROM generate_series(1, {n})"
        " RETURNING id, organization_id, project_id, created_at),"
        " n AS (INSERT INTO agora.node_executions (run_created_at, organization_id, project_id, execution_id,"
        " node_name, status) SELECT created_at, organization_id, project_id, id, 'load', 'success' FROM x)"
        " INSERT INTO agora.telemetry_events (run_created_at, organization_id, project_id, execution_id, event_type,"
        " \"timestamp\") SELECT created_at, organization_id, project_id, id, 'e', now() FROM x")


def test_two_jobs_at_once_remove_each_row_once(stack, org):
    bulk_runs(stack, org, 400, 40)
    assert put(org, {"runs_days": 30, "payload_days": None}).status == 200
    reports = [None, None]

    def run(i):
        reports[i] = job(stack, "--batch", 5)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    mine = [p for r in reports for p in for_project(r, org.project)]
    assert sum(p["runs_removed"] for p in mine) == 400
    assert sum(p["payload_rows_removed"] for p in mine) == 400
    assert count(stack, "executions", f"project_id = '{org.project}'") == 0


def test_a_job_skips_a_project_another_job_holds_and_says_so(stack, org):
    bulk_runs(stack, org, 3, 40)
    assert put(org, {"runs_days": 30, "payload_days": None}).status == 200
    psql = os.path.join(stack.env.get("AGORA_PG_BINDIR", "/usr/bin"), "psql")
    holder = subprocess.Popen(
        [psql, "-XAtq", "-d", stack.env["AGORA_ADMIN_DATABASE_URL"], "-c",
         f"SELECT pg_advisory_lock(2404, hashtext('{org.project}')), pg_sleep(30)"],
        env=stack.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        held = f"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 2404 AND granted" \
               f" AND objid = hashtext('{org.project}')::oid"
        deadline = time.time() + 10
        while stack.psql_admin(held).strip() != "1":
            assert time.time() < deadline
            time.sleep(0.05)
        mine = for_project(job(stack), org.project)
        assert mine == [{"project_id": org.project, "outcome": "skipped_locked", "runs_removed": 0,
                         "payload_rows_removed": 0, "fields_trimmed": 0}]
        assert count(stack, "executions", f"project_id = '{org.project}'") == 3
        got = org.must("GET", f"/api/projects/{org.project}/retention")
        assert got["last_job"]["outcome"] == "skipped_locked"
    finally:
        # The server keeps the lock until its backend ends, not when psql does.
        stack.psql_admin(f"SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                         f" AND classid = 2404 AND objid = hashtext('{org.project}')::oid")
        holder.wait()
        deadline = time.time() + 10
        while stack.psql_admin(held).strip() != "0":
            assert time.time() < deadline
            time.sleep(0.05)
    assert for_project(job(stack), org.project)[0]["runs_removed"] == 3


def test_ingest_during_a_job_of_many_batches_is_not_held_up(stack, org):
    bulk_runs(stack, org, 3000, 40)
    assert put(org, {"runs_days": 30, "payload_days": None}).status == 200
    report, times = {}, []

    def run():
        report.update(job(stack, "--batch", 20))
    t = threading.Thread(target=run)
    t.start()
    while t.is_alive():
        start = time.monotonic()
        org.ingest(full=True)
        times.append(time.monotonic() - start)
    t.join()
    mine = for_project(report, org.project)[0]
    assert mine["runs_removed"] == 3000
    assert len(times) >= 1
    # A batch is 20 runs: an ingest waits for one at most. The bound is
    # loose for a busy machine; a blocked ingest would wait for the job.
    assert max(times) < 5.0, times
    assert count(stack, "executions", f"project_id = '{org.project}'") == len(times)


def test_run_sh_runs_the_job_at_start_and_shows_it(stack):
    r = stack.run_sh("status")
    assert r.returncode == 0, r.stdout
    assert "retention: running" in r.stdout
    with open(os.path.join(stack.var, "run", "retention.pid")) as f:
        assert len(children_of(int(f.read()))) == 1
    log = os.path.join(stack.var, "log", "retention.log")

    def reported():
        with open(log) as f:
            return any(line.startswith('{"runs_removed"') for line in f)
    assert wait_for(reported, timeout=30)


def test_bad_job_options_are_refused_with_a_reason(stack):
    for args in (["--batch", "0"], ["--max-seconds", "x"], ["--every", "5"], ["extra"]):
        r = subprocess.run([os.path.join(stack.root, "agora-retention"), *args], env=stack.env,
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and r.stderr.strip(), (args, r.stderr)
