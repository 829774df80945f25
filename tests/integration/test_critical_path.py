"""GET /api/executions/{id}/critical-path end to end (README "Critical path
and time breakdown"): runs with known shapes are ingested (a diamond whose
slow branch decides the end, a chain with waits, a run still going) and
the path, its links, waits and the breakdown's busy, parallel and idle
time, gaps and per-node totals must be exactly what their times say.
Also: another organization's run and unknown ids are 404, a query
parameter is refused."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

INGEST = "/api/executions/ingest"
T0 = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


def at(ms):
    return (T0 + timedelta(milliseconds=ms)).isoformat().replace("+00:00", "Z")


def run(name, start_ms, end_ms, status="success", **more):
    n = {"node_name": name, "status": status, "started_at": at(start_ms), **more}
    if end_ms is not None:
        n["completed_at"] = at(end_ms)
    return n


class Team:
    """An owner with an organization, a project and a workflow with edges."""

    def __init__(self, stack, nodes, edges):
        self.stack = stack
        self.tok = stack.token(stack.new_user())
        org = self.must("POST", "/api/organizations", {"name": "Path org"})["id"]
        project = self.must("POST", "/api/projects", {"organization_id": org, "name": "paths"})["id"]
        self.workflow = self.must("POST", "/api/workflows", {
            "project_id": project, "name": "diamond-" + uuid.uuid4().hex[:6],
            "nodes": [{"name": n} for n in nodes],
            "edges": [{"from": a, "to": b} for a, b in edges]})["id"]

    def must(self, method, path, body=None):
        r = self.stack.request(method, path, token=self.tok, body=body)
        assert r.status in (200, 201), f"{method} {path}: {r.status} {r.body[:300]!r}"
        return r.json()

    def ingest(self, nodes, status="success", end_ms=None):
        body = {"workflow_id": self.workflow, "session_id": "s-" + uuid.uuid4().hex[:8], "status": status,
                "started_at": at(0), "node_executions": nodes}
        if end_ms is not None:
            body["completed_at"] = at(end_ms)
        return self.must("POST", INGEST, body)["execution_id"]

    def path(self, ex):
        return self.must("GET", f"/api/executions/{ex}/critical-path")


@pytest.fixture
def diamond(stack):
    return Team(stack, ["split", "quick", "slow", "join"],
                [("split", "quick"), ("split", "slow"), ("quick", "join"), ("slow", "join")])


def test_the_slow_branch_of_a_diamond_is_the_path_and_the_breakdown_adds_up(diamond):
    ex = diamond.ingest([
        run("split", 5, 15, prep_duration_ms=1, exec_duration_ms=8, post_duration_ms=1),
        run("quick", 15, 45, exec_duration_ms=30),
        run("slow", 15, 95, exec_duration_ms=79.5),
        run("join", 96, 110, exec_duration_ms=14),
    ], end_ms=120)
    cp = diamond.path(ex)
    assert cp["execution_id"] == ex and cp["status"] == "success" and cp["running"] is False
    assert cp["duration_ms"] == 120 and cp["node_executions"] == 4
    steps = cp["critical_path"]["steps"]
    assert [s["node_name"] for s in steps] == ["split", "slow", "join"]
    assert [s["via"] for s in steps] == ["start", "edge", "edge"]
    assert [s["gap_before_ms"] for s in steps] == [5, 0, 1]
    assert [s["offset_ms"] for s in steps] == [5, 15, 96]
    assert [s["duration_ms"] for s in steps] == [10, 80, 14]
    assert steps[1]["started_at"] == "2025-06-01T12:00:00.015000Z" and steps[1]["open"] is False
    assert cp["critical_path"]["duration_ms"] == 104 and cp["critical_path"]["wait_ms"] == 6

    b = cp["breakdown"]
    # busy 5..95 and 96..110; two ran at once 15..45; idle 0..5, 95..96, 110..120
    assert (b["busy_ms"], b["parallel_ms"], b["idle_ms"]) == (104, 30, 16)
    assert b["gaps"]["count"] == 3 and b["gaps"]["total_ms"] == 16
    largest = b["gaps"]["largest"]
    assert [(g["offset_ms"], g["duration_ms"]) for g in largest] == [(110, 10), (0, 5), (95, 1)]
    ids = {s["node_name"]: s["id"] for s in steps}
    assert largest[0]["after_id"] == ids["join"] and largest[0]["before_id"] is None
    assert largest[2]["after_id"] == ids["slow"] and largest[2]["before_id"] == ids["join"]

    nodes = {n["node_name"]: n for n in b["nodes"]}
    assert [n["node_name"] for n in b["nodes"]] == ["slow", "quick", "join", "split"]  # longest first
    assert nodes["slow"] == {"node_name": "slow", "runs": 1, "wall_ms": 80, "prep_ms": 0, "exec_ms": 79.5,
                             "post_ms": 0, "other_ms": 0.5, "critical_runs": 1, "critical_ms": 80}
    assert nodes["quick"]["critical_runs"] == 0 and nodes["quick"]["critical_ms"] == 0
    assert b["phases"] == {"prep_ms": 1, "exec_ms": 131.5, "post_ms": 1, "other_ms": 0.5}
    assert nodes["split"]["other_ms"] == 0 and nodes["quick"]["other_ms"] == 0


def test_a_chain_waits_along_its_edges_and_a_run_with_nothing_is_idle(stack):
    team = Team(stack, ["a", "b", "c"], [("a", "b"), ("b", "c")])
    ex = team.ingest([run("a", 0, 100), run("c", 400, 450), run("b", 150, 300)], end_ms=450)
    steps = team.path(ex)["critical_path"]["steps"]
    assert [(s["node_name"], s["via"], s["gap_before_ms"]) for s in steps] == \
        [("a", "start", 0), ("b", "edge", 50), ("c", "edge", 100)]

    empty = team.ingest([], end_ms=250)
    cp = team.path(empty)
    assert cp["critical_path"] == {"duration_ms": 0, "wait_ms": 0, "steps": []}
    assert cp["breakdown"]["idle_ms"] == 250 and cp["breakdown"]["nodes"] == []


def test_a_node_without_an_edge_is_linked_by_time(stack):
    # audit has no edge to report; report's only edge predecessor, load,
    # ended before audit did: the edge wins.
    team = Team(stack, ["load", "audit", "report"], [("load", "report")])
    ex = team.ingest([run("load", 0, 100), run("audit", 0, 150), run("report", 200, 250)], end_ms=250)
    assert [(s["node_name"], s["via"]) for s in team.path(ex)["critical_path"]["steps"]] == \
        [("load", "start"), ("report", "edge")]
    # Without edges the one that ended last before report started is it.
    bare = Team(stack, ["load", "audit", "report"], [])
    ex = bare.ingest([run("load", 0, 100), run("audit", 0, 150), run("report", 200, 250)], end_ms=250)
    assert [(s["node_name"], s["via"]) for s in bare.path(ex)["critical_path"]["steps"]] == \
        [("audit", "start"), ("report", "time")]


def test_a_running_run_has_an_open_last_step_that_reaches_now(diamond):
    now = datetime.now(timezone.utc)
    start = now - timedelta(seconds=5)
    body = {"workflow_id": diamond.workflow, "session_id": "live-" + uuid.uuid4().hex[:6], "status": "running",
            "started_at": start.isoformat().replace("+00:00", "Z"),
            "node_executions": [
                {"node_name": "split", "status": "success", "started_at": start.isoformat().replace("+00:00", "Z"),
                 "completed_at": (start + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")},
                {"node_name": "slow", "status": "running",
                 "started_at": (start + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")}]}
    ex = diamond.must("POST", INGEST, body)["execution_id"]
    cp = diamond.path(ex)
    assert cp["running"] is True and cp["completed_at"] is None
    last = cp["critical_path"]["steps"][-1]
    assert last["node_name"] == "slow" and last["open"] is True and last["completed_at"] is None
    assert last["duration_ms"] >= 3900  # from its start to the request's time
    assert cp["duration_ms"] >= 4900


def test_other_organizations_and_unknown_ids_are_404_and_parameters_refused(stack, diamond):
    ex = diamond.ingest([run("split", 0, 10)], end_ms=10)
    stranger = stack.token(stack.new_user())
    for token, path in ((stranger, f"/api/executions/{ex}/critical-path"),
                        (diamond.tok, f"/api/executions/{uuid.uuid4()}/critical-path")):
        r = stack.request("GET", path, token=token)
        assert r.status == 404, r.body
        assert r.json()["error"]["code"] == "not_found"
    r = stack.request("GET", f"/api/executions/{ex}/critical-path?limit=5", token=diamond.tok)
    assert r.status == 422 and r.json()["error"]["path"] == "limit", r.body
    r = stack.request("GET", "/api/executions/not-a-uuid/critical-path", token=diamond.tok)
    assert r.status in (404, 422), r.body
    assert stack.request("GET", f"/api/executions/{ex}/critical-path").status == 401
