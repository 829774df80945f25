"""The management routes end to end: members' roles and removal (the last
owner stays), renaming and deleting projects and workflows, erasing an
execution and what named it, rotating an API key, a workflow's executions
that ran a node, and the audit log that records every change. Each test
acts as fresh users, so tests do not depend on one another."""
import json
import os
import subprocess
import uuid

import pytest

INGEST = "/api/executions/ingest"
CHILD_TABLES = ("node_executions", "telemetry_spans", "telemetry_events", "shared_state_snapshots")


def err(resp):
    body = resp.json()
    assert body is not None, resp.body
    return resp.status, body["error"]["code"]


class Org:
    """An owner with an organization, a project, a workflow of nodes
    load/think/save, and helpers to add members and ingest runs."""

    def __init__(self, stack):
        self.stack = stack
        self.owner = stack.new_user()
        self.tok = stack.token(self.owner)
        self.id = self.must("POST", "/api/organizations", {"name": "Managed"})["id"]
        self.project = self.must("POST", "/api/projects", {"organization_id": self.id, "name": "main"})["id"]
        self.workflow = self.new_workflow()

    def req(self, method, path, body=None, tok=None, headers=None):
        return self.stack.request(method, path, token=tok or self.tok, body=body, headers=headers)

    def must(self, method, path, body=None, tok=None, status=(200, 201, 204)):
        r = self.req(method, path, body, tok)
        assert r.status in status, f"{method} {path}: {r.status} {r.body[:300]!r}"
        return r.json() if r.body else None

    def new_workflow(self, project=None, name=None):
        return self.must("POST", "/api/workflows", {
            "project_id": project or self.project, "name": name or "wf-" + uuid.uuid4().hex[:8],
            "nodes": [{"name": n} for n in ("load", "think", "save")], "edges": []})["id"]

    def member(self, role):
        """A new user with role; returns (user_id, token)."""
        user = self.stack.new_user()
        self.must("POST", f"/api/organizations/{self.id}/members", {"user_id": user, "role": role})
        return user, self.stack.token(user)

    def key(self, project=None):
        return self.must("POST", f"/api/projects/{project or self.project}/api-keys", {"name": "ci"})

    def ingest(self, workflow=None, nodes=("load",), status="success", error=None, started="2025-06-01T10:00:00Z",
               headers=None, full=False):
        body = {"workflow_id": workflow or self.workflow, "session_id": "s", "status": status,
                "started_at": started, "completed_at": started.replace("10:00:00", "10:00:05"),
                "duration_ms": 5000,
                "node_executions": [{"node_name": n, "status": "success", "started_at": started,
                                     "exec_duration_ms": 10} for n in nodes]}
        if error is not None:
            body["error"] = error
        if full:
            body["telemetry_events"] = [{"event_type": "node_start", "timestamp": started, "node_name": "load",
                                         "data": {"secret": "payload"}}]
            body["telemetry_spans"] = [{"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                                        "span_id": "00f067aa0ba902b7", "name": "load.exec",
                                        "start_time": started, "status": "ok"}]
            body["shared_state_snapshots"] = [{"sequence": 0, "timestamp": started, "node_name": "load",
                                               "phase": "post", "state": {"n": 1}}]
        r = self.req("POST", INGEST, body, headers=headers)
        assert r.status == 201, r.body
        return r.json()["execution_id"]

    def audit(self, tok=None, **query):
        q = "&".join(f"{k}={v}" for k, v in query.items())
        return self.req("GET", f"/api/organizations/{self.id}/audit-log" + (f"?{q}" if q else ""), tok=tok)

    def actions(self, tok=None):
        r = self.audit(tok=tok, limit=200)
        assert r.status == 200 and r.json() is not None, r.body
        return [(e["action"], e["target_id"]) for e in r.json()["items"]]


@pytest.fixture
def org(stack):
    return Org(stack)


def sql_count(stack, sql):
    return int(stack.psql_admin(sql).strip())


# ------------------------------------------------------------------ members


def test_roles_change_and_members_leave_but_the_last_owner_stays(stack, org):
    admin, admin_tok = org.member("admin")
    viewer, viewer_tok = org.member("viewer")
    members = f"/api/organizations/{org.id}/members"

    r = org.req("PATCH", f"{members}/{viewer}", {"role": "member"}, tok=admin_tok)
    assert r.status == 200 and r.json()["role"] == "member" and r.json()["user_id"] == viewer
    # Only an owner makes an owner; a member manages nobody.
    assert err(org.req("PATCH", f"{members}/{viewer}", {"role": "owner"}, tok=admin_tok)) == (403, "forbidden")
    assert err(org.req("PATCH", f"{members}/{admin}", {"role": "viewer"}, tok=viewer_tok)) == (403, "forbidden")
    assert err(org.req("PATCH", f"{members}/{viewer}", {"role": "boss"})) == (422, "validation_failed")
    assert err(org.req("PATCH", f"{members}/{uuid.uuid4()}", {"role": "admin"})) == (404, "not_found")
    assert err(org.req("PATCH", f"{members}/not-a-uuid", {"role": "admin"})) == (404, "not_found")

    # The last owner can neither be demoted nor leave: 409 saying why.
    for r in (org.req("PATCH", f"{members}/{org.owner}", {"role": "admin"}),
              org.req("DELETE", f"{members}/{org.owner}")):
        assert err(r) == (409, "conflict")
        assert "last owner" in r.json()["error"]["message"]
    # An admin may not even try on the owner.
    assert err(org.req("DELETE", f"{members}/{org.owner}", tok=admin_tok)) == (403, "forbidden")

    # A member leaves on its own; an admin removes another.
    assert org.req("DELETE", f"{members}/{viewer}", tok=viewer_tok).status == 204
    assert err(org.req("GET", members, tok=viewer_tok)) == (404, "not_found")
    other, _ = org.member("member")
    assert org.req("DELETE", f"{members}/{other}", tok=admin_tok).status == 204
    assert err(org.req("DELETE", f"{members}/{other}", tok=admin_tok)) == (404, "not_found")

    # With a second owner, the first may go.
    org.must("PATCH", f"{members}/{admin}", {"role": "owner"})
    assert org.req("DELETE", f"{members}/{org.owner}").status == 204
    left = [m["user_id"] for m in org.must("GET", members, tok=admin_tok)["items"]]
    assert left == [admin]

    acts = [a for a, _ in org.actions(tok=admin_tok)]
    assert acts[:6] == ["member.leave", "member.role", "member.remove", "member.add", "member.leave",
                        "member.role"]


def test_a_stranger_and_an_api_key_cannot_touch_members(stack, org):
    viewer, _ = org.member("viewer")
    stranger = stack.token(stack.new_user())
    key = org.key()["key"]
    path = f"/api/organizations/{org.id}/members/{viewer}"
    assert err(org.req("PATCH", path, {"role": "admin"}, tok=stranger)) == (404, "not_found")
    assert err(org.req("DELETE", path, tok=stranger)) == (404, "not_found")
    assert org.req("DELETE", path, tok=key).status in (401, 403)
    assert [m["role"] for m in org.must("GET", f"/api/organizations/{org.id}/members")["items"]] == [
        "owner", "viewer"]


# ------------------------------------------------------------------ projects and workflows


def test_projects_are_renamed_and_deleted_with_everything_they_own(stack, org):
    _, member = org.member("member")
    stranger = stack.token(stack.new_user())
    other = org.must("POST", "/api/projects", {"organization_id": org.id, "name": "other"})["id"]
    key = org.key()
    run = org.ingest(full=True)

    assert err(org.req("PATCH", f"/api/projects/{org.project}", {"name": "other"})) == (409, "conflict")
    assert err(org.req("PATCH", f"/api/projects/{org.project}", {"name": "x"}, tok=member)) == (403, "forbidden")
    assert err(org.req("PATCH", f"/api/projects/{org.project}", {"name": "x"}, tok=stranger)) == (404, "not_found")
    assert err(org.req("PATCH", f"/api/projects/{org.project}", {"name": ""})) == (422, "validation_failed")
    renamed = org.must("PATCH", f"/api/projects/{org.project}", {"name": "renamed"})
    assert renamed["name"] == "renamed" and renamed["id"] == org.project

    assert err(org.req("DELETE", f"/api/projects/{org.project}", tok=member)) == (403, "forbidden")
    assert err(org.req("DELETE", f"/api/projects/{org.project}", tok=stranger)) == (404, "not_found")
    assert org.req("DELETE", f"/api/projects/{org.project}").status == 204
    assert err(org.req("DELETE", f"/api/projects/{org.project}")) == (404, "not_found")
    assert [p["id"] for p in org.must("GET", f"/api/projects?organization_id={org.id}")["items"]] == [other]
    assert org.req("GET", "/api/projects", tok=key["key"]).status == 401
    left = stack.psql_admin(
        "SELECT (SELECT count(*) FROM agora.workflows WHERE project_id = '%s'),"
        " (SELECT count(*) FROM agora.executions WHERE project_id = '%s'),"
        " (SELECT count(*) FROM agora.api_keys WHERE project_id = '%s'),"
        " (SELECT count(*) FROM agora.stats_executions_hourly WHERE project_id = '%s'),"
        " (SELECT count(*) FROM agora.telemetry_events WHERE execution_id = '%s')"
        % (org.project, org.project, org.project, org.project, run))
    assert left.strip() == "0|0|0|0|0"
    acts = org.actions()
    assert acts[0] == ("project.delete", org.project) and acts[1] == ("project.rename", org.project)


def test_workflows_are_renamed_and_deleted_by_managers_only(stack, org):
    _, member = org.member("member")
    key = org.key()["key"]
    org.new_workflow(name="taken")
    run = org.ingest()
    path = f"/api/workflows/{org.workflow}"
    assert err(org.req("PATCH", path, {"name": "taken"})) == (409, "conflict")
    assert err(org.req("PATCH", path, {"name": "n"}, tok=member)) == (403, "forbidden")
    assert err(org.req("PATCH", path, {"name": "n"}, tok=key)) == (403, "forbidden")
    assert err(org.req("PATCH", path, {"name": "n", "nodes": []})) == (422, "validation_failed")
    wf = org.must("PATCH", path, {"name": "renamed"})
    assert wf["name"] == "renamed" and [n["name"] for n in wf["nodes"]] == ["load", "save", "think"]

    assert err(org.req("DELETE", path, tok=member)) == (403, "forbidden")
    assert err(org.req("DELETE", path, tok=key)) == (403, "forbidden")
    assert org.req("DELETE", path).status == 204
    assert err(org.req("GET", path)) == (404, "not_found")
    assert err(org.req("GET", f"/api/executions/{run}")) == (404, "not_found")
    assert sql_count(stack, f"SELECT count(*) FROM agora.workflow_nodes WHERE workflow_id = '{org.workflow}'") == 0
    assert sql_count(stack, f"SELECT count(*) FROM agora.node_executions WHERE execution_id = '{run}'") == 0
    assert org.actions()[:2] == [("workflow.delete", org.workflow), ("workflow.rename", org.workflow)]


# ------------------------------------------------------------------ executions


def test_erasing_an_execution_leaves_nothing_that_names_it(stack, org):
    _, member = org.member("member")
    key = org.key()["key"]
    stranger = stack.token(stack.new_user())
    older = org.ingest(status="error", error="boom", started="2025-06-01T09:00:00Z")
    run = org.ingest(nodes=("load", "think"), status="error", error="boom", full=True,
                     headers={"Idempotency-Key": "erase-me"})
    lonely = org.ingest(status="error", error="only once", started="2025-06-01T11:00:00Z")
    stack.psql_admin(
        "INSERT INTO agora.live_tickets (ticket_hash, organization_id, caller, user_id, channel, expires_at)"
        f" VALUES (sha256('{run}'::bytea), '{org.id}', '{org.owner}', '{org.owner}', 'execution/{run}',"
        " now() + interval '1 minute')")
    window = "?since=2025-06-01T00:00:00Z&until=2025-06-02T00:00:00Z"
    st = org.must("GET", f"/api/workflows/{org.workflow}/stats{window}")
    assert [(e["message"], e["count"], e["example_execution_id"]) for e in st["errors"]] == [
        ("boom", 2, run), ("only once", 1, lonely)]

    path = f"/api/executions/{run}"
    assert err(org.req("DELETE", path, tok=member)) == (403, "forbidden")
    assert err(org.req("DELETE", path, tok=key)) == (403, "forbidden")
    assert err(org.req("DELETE", path, tok=stranger)) == (404, "not_found")
    assert err(org.req("DELETE", "/api/executions/nope")) == (404, "not_found")
    assert org.req("DELETE", path).status == 204
    assert err(org.req("GET", path)) == (404, "not_found")
    assert err(org.req("DELETE", path)) == (404, "not_found")
    assert org.req("DELETE", f"/api/executions/{lonely}").status == 204

    names = stack.psql_admin(
        "SELECT " + ", ".join(
            f"(SELECT count(*) FROM agora.{t} WHERE execution_id = '{run}')" for t in CHILD_TABLES)
        + f", (SELECT count(*) FROM agora.idempotency_keys WHERE execution_id = '{run}')"
        f", (SELECT count(*) FROM agora.live_tickets WHERE channel = 'execution/{run}')"
        f", (SELECT count(*) FROM agora.stats_errors_daily WHERE example_id IN ('{run}', '{lonely}'))"
        f", (SELECT count(*) FROM agora.stats_errors_daily WHERE message = 'only once'"
        f"   AND workflow_id = '{org.workflow}')")
    assert names.strip() == "0|0|0|0|0|0|0|0"
    # The example of a message still seen is the run that remains; the
    # counts are those of the rows left, node rollups included.
    st = org.must("GET", f"/api/workflows/{org.workflow}/stats{window}")
    assert [(e["message"], e["count"], e["example_execution_id"]) for e in st["errors"]] == [("boom", 1, older)]
    assert {n["node_name"]: n["runs"] for n in st["nodes"]} == {"load": 1}
    # The same Idempotency-Key is a new request now, not a replay of a run that is gone.
    again = org.ingest(status="success", headers={"Idempotency-Key": "erase-me"})
    assert again != run
    acts = org.actions()
    assert ("execution.delete", run) in acts and ("execution.delete", lonely) in acts


# ------------------------------------------------------------------ API keys


def test_rotating_a_key_refuses_the_old_secret_and_shows_the_new_once(stack, org):
    _, admin = org.member("admin")
    _, member = org.member("member")
    stranger = stack.token(stack.new_user())
    key = org.key()
    assert org.req("GET", "/api/projects", tok=key["key"]).status == 200
    path = f"/api/api-keys/{key['id']}/rotate"
    assert err(org.req("POST", path, tok=member)) == (403, "forbidden")
    assert err(org.req("POST", path, tok=stranger)) == (404, "not_found")
    assert err(org.req("POST", f"/api/api-keys/{uuid.uuid4()}/rotate")) == (404, "not_found")
    new = org.must("POST", path, tok=admin)
    assert new["id"] == key["id"] and new["name"] == "ci" and new["project_id"] == org.project
    assert new["key"] != key["key"] and new["key"].startswith("agk_") and new["rotated_at"].endswith("Z")
    assert org.req("GET", "/api/projects", tok=key["key"]).status == 401
    assert org.req("GET", "/api/projects", tok=new["key"]).status == 200
    listed = org.req("GET", f"/api/projects/{org.project}/api-keys")
    assert new["key"] not in listed.body.decode() and new["key"][36:] not in listed.body.decode()
    assert [k["rotated_at"] for k in listed.json()["items"]] == [new["rotated_at"]]

    assert org.req("DELETE", f"/api/api-keys/{key['id']}").status == 204
    r = org.req("POST", path)
    assert err(r) == (409, "conflict") and "revoked" in r.json()["error"]["message"]
    log = org.audit(limit=200).body.decode()
    assert key["key"] not in log and new["key"] not in log and new["key"][36:] not in log
    assert org.actions()[:3] == [("api_key.revoke", key["id"]), ("api_key.rotate", key["id"]),
                                 ("api_key.create", key["id"])]


# ------------------------------------------------------------------ executions that ran a node


def test_a_workflows_executions_that_ran_a_node_are_keyset_paged(stack, org):
    runs = [org.ingest(nodes=("load", "think") if i % 2 else ("load",), started=f"2025-06-01T1{i}:00:00Z")
            for i in range(6)]
    other = org.new_workflow()
    org.ingest(workflow=other, nodes=("think",))
    base = f"/api/executions?workflow_id={org.workflow}&node_name=think&limit=2"
    seen, cursor = [], None
    while True:
        page = org.must("GET", base + (f"&cursor={cursor}" if cursor else ""))
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [runs[5], runs[3], runs[1]]
    assert org.must("GET", f"/api/executions?workflow_id={org.workflow}&node_name=nobody")["items"] == []
    r = org.req("GET", "/api/executions?node_name=think")
    assert err(r) == (422, "validation_failed") and r.json()["error"]["path"] == "node_name"
    # A cursor of the list without the node filter is not one of this list.
    plain = org.must("GET", f"/api/executions?workflow_id={org.workflow}&limit=1")["next_cursor"]
    assert err(org.req("GET", base + f"&cursor={plain}")) == (422, "validation_failed")
    # Another organization's user sees nothing of it.
    stranger = stack.token(stack.new_user())
    assert org.must("GET", base, tok=stranger)["items"] == []


def test_the_node_filter_is_served_by_the_node_index(stack, org):
    plan = stack.psql_admin(
        "SET enable_seqscan = off; EXPLAIN SELECT 1 FROM agora.executions e WHERE e.workflow_id = "
        f"'{org.workflow}' AND EXISTS (SELECT 1 FROM agora.node_executions n WHERE n.execution_id = e.id"
        " AND n.node_id = (SELECT wn.id FROM agora.workflow_nodes wn WHERE wn.workflow_id ="
        f" '{org.workflow}' AND wn.name = 'think')) ORDER BY e.started_at DESC, e.id DESC LIMIT 51")
    # node_executions is partitioned (sql/025): the plan names the index's
    # partitions, each a child of node_executions_node_idx.
    names = stack.psql_admin("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                             " WHERE i.inhparent = 'agora.node_executions_node_idx'::regclass").split()
    assert names and any(f" {n} " in plan for n in names), plan


# ------------------------------------------------------------------ the audit log


def test_the_audit_log_records_who_did_what_and_only_managers_read_it(stack, org):
    _, admin = org.member("admin")
    _, member = org.member("member")
    key = org.key()
    wf = org.new_workflow()
    by_key = org.must("POST", "/api/workflows", {"project_id": org.project, "name": "by-key", "nodes": [],
                                                 "edges": []}, tok=key["key"])["id"]
    org.must("PUT", f"/api/organizations/{org.id}/model-prices/gpt-test",
             {"input_usd_per_mtok": 1, "output_usd_per_mtok": 2})
    org.must("DELETE", f"/api/organizations/{org.id}/model-prices/gpt-test")
    # A change that fails leaves no row.
    before = len(org.actions())
    assert org.req("POST", "/api/projects", {"organization_id": org.id, "name": "main"}).status == 409
    assert org.req("PATCH", f"/api/workflows/{wf}", {"name": "by-key"}).status == 409
    assert len(org.actions()) == before

    items = org.audit(limit=200).json()["items"]
    assert [i["action"] for i in items] == [
        "model_price.delete", "model_price.set", "workflow.create", "workflow.create", "api_key.create",
        "member.add", "member.add", "workflow.create", "project.create", "organization.create"]
    assert items[0]["target_id"] == "gpt-test" and items[1]["detail"]["input_usd_per_mtok"] == 1
    assert (items[2]["actor_type"], items[2]["actor_id"], items[2]["target_id"]) == ("api_key", key["id"], by_key)
    assert (items[3]["actor_type"], items[3]["actor_id"], items[3]["target_id"]) == ("user", org.owner, wf)
    assert items[3]["project_id"] == org.project and items[3]["detail"]["name"]
    assert items[-1]["target_id"] == org.id and items[-1]["detail"] == {"name": "Managed"}
    assert all(i["at"].endswith("Z") and isinstance(i["id"], int) for i in items)
    assert key["key"] not in json.dumps(items)

    # Keyset pages: newest first, every row once.
    seen, cursor = [], None
    while True:
        page = org.audit(tok=admin, limit=3, **({"cursor": cursor} if cursor else {})).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [i["id"] for i in items]

    assert err(org.audit(tok=member)) == (403, "forbidden")
    assert err(org.audit(tok=stack.token(stack.new_user()))) == (404, "not_found")
    assert org.audit(tok=key["key"]).status in (401, 403)
    assert err(org.audit(limit=0)) == (422, "validation_failed")
    assert err(org.audit(cursor="abc")) == (422, "validation_failed")
    other = Org(stack)
    foreign = other.audit(limit=1).json()["next_cursor"]
    assert err(org.audit(cursor=foreign)) == (422, "validation_failed")


def test_deletes_racing_the_stats_fold_never_deadlock(stack, org):
    """A project or workflow delete cascades to the statistics rollups the
    fold (agora-live's, or a stats read's) is writing at the same moment:
    both take the project's fold lock, so neither answers 409 (deadlock)."""
    fold = subprocess.Popen(
        [os.path.join(stack.env["AGORA_PG_BINDIR"], "psql"), "-XAtq", "-d", stack.env["AGORA_ADMIN_DATABASE_URL"],
         "-c", "DO $$ DECLARE t timestamptz := clock_timestamp() + interval '3 minutes'; BEGIN"
         " WHILE clock_timestamp() < t LOOP PERFORM agora.stats_fold(NULL); COMMIT; END LOOP; END $$"],
        env=stack.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        answers = []
        for i in range(12):
            project = org.must("POST", "/api/projects", {"organization_id": org.id, "name": f"fold-race-{i}"})["id"]
            workflows = [org.new_workflow(project=project) for _ in range(2)]
            for wf in workflows:
                for day in ("01", "02", "03"):
                    org.ingest(workflow=wf, nodes=("load", "think", "save"), started=f"2025-06-{day}T10:00:00Z")
            answers.append(org.req("DELETE", f"/api/workflows/{workflows[0]}").status)
            answers.append(org.req("DELETE", f"/api/projects/{project}").status)
        assert fold.poll() is None, fold.stderr.read()
        assert answers == [204] * len(answers), answers
    finally:
        fold.terminate()
        fold.wait(timeout=10)
