"""Comparing two runs end to end (README "Comparing two runs"):
GET /api/executions/{a}/compare/{b} through nginx, the workers and
PostgreSQL with row-level security.

Runs are ingested as the Python client sends them: each node run records
a "before" snapshot when it starts and an "after" one when it ends, with
one sequence across the run. Each test builds two runs meant to diverge at
a known node, and checks that the first divergence is found there, for
the reason built in."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

INGEST = "/api/executions/ingest"
T0 = datetime(2025, 7, 1, 9, 0, 0, tzinfo=timezone.utc)


def iso(t):
    return t.isoformat().replace("+00:00", "Z")


class Org:
    """An owner with a fresh organization, project and workflow."""

    def __init__(self, stack):
        self.stack = stack
        self.owner = stack.new_user()
        self.tok = stack.token(self.owner)
        self.org = self.must("POST", "/api/organizations", {"name": "Compare org"})["id"]
        self.project = self.must("POST", "/api/projects", {"organization_id": self.org, "name": "runs"})["id"]
        self.workflow = self.new_workflow("triage")

    def must(self, method, path, body=None, token=None):
        r = self.stack.request(method, path, token=token or self.tok, body=body)
        assert r.status in (200, 201), f"{method} {path}: {r.status} {r.body[:300]!r}"
        return r.json()

    def new_workflow(self, name):
        return self.must("POST", "/api/workflows", {"project_id": self.project, "name": name})["id"]

    def run(self, steps, workflow=None, start=T0, status="success"):
        """Ingests a run of steps: (node_name, action, state after, exec ms)
        or dicts with more fields (status, retry_count, error). The state
        before a node is the state after the one before it ({} first)."""
        nodes, snaps, state, t, seq = [], [], {}, start, 0
        for step in steps:
            if isinstance(step, tuple):
                name, action, after, ms = step
                step = {"node_name": name, "action": action, "after": after, "exec_ms": ms}
            ms = step["exec_ms"]
            end = t + timedelta(milliseconds=ms + 2)
            nodes.append({"node_name": step["node_name"], "status": step.get("status", "success"),
                          "started_at": iso(t), "completed_at": iso(end), "prep_duration_ms": 1,
                          "exec_duration_ms": ms, "post_duration_ms": 1,
                          "retry_count": step.get("retry_count", 0), "action": step["action"],
                          "error": step.get("error")})
            snaps.append({"sequence": seq, "timestamp": iso(t), "node_name": step["node_name"],
                          "phase": "before", "state": state})
            state = step["after"]
            snaps.append({"sequence": seq + 1, "timestamp": iso(end), "node_name": step["node_name"],
                          "phase": "after", "state": state})
            seq += 2
            t = end
        body = {"workflow_id": workflow or self.workflow, "session_id": "cmp-" + uuid.uuid4().hex[:8],
                "status": status, "started_at": iso(start), "completed_at": iso(t),
                "duration_ms": (t - start) / timedelta(milliseconds=1),
                "node_executions": nodes, "shared_state_snapshots": snaps}
        r = self.stack.request("POST", INGEST, token=self.tok, body=body)
        assert r.status == 201, r.body
        return r.json()["execution_id"]

    def compare(self, a, b, query="", token=None):
        return self.stack.request("GET", f"/api/executions/{a}/compare/{b}{query}", token=token or self.tok)


@pytest.fixture(scope="module")
def org(stack):
    return Org(stack)


# A triage flow: load the ticket, classify it, answer or escalate, close.
BASE = [("load", "default", {"ticket": 7}, 5),
        ("classify", "simple", {"ticket": 7, "kind": "simple"}, 40),
        ("answer", "default", {"ticket": 7, "kind": "simple", "reply": "done"}, 120),
        ("close", None, {"ticket": 7, "kind": "simple", "reply": "done", "closed": True}, 3)]
ESCALATED = [("load", "default", {"ticket": 7}, 6),
             ("classify", "hard", {"ticket": 7, "kind": "hard"}, 45),
             ("escalate", "default", {"ticket": 7, "kind": "hard", "owner": "ops"}, 900),
             ("close", None, {"ticket": 7, "kind": "hard", "owner": "ops", "closed": True}, 3)]


def test_the_first_divergence_is_the_node_that_chose_another_action(org):
    a, b = org.run(BASE), org.run(ESCALATED)
    r = org.compare(a, b)
    assert r.status == 200, r.body
    c = r.json()
    assert c["a"]["id"] == a and c["b"]["id"] == b
    assert c["same_workflow"] is True and c["note"] is None and c["identical"] is False

    fd = c["first_divergence"]
    assert fd["node_name"] == "classify" and fd["ordinal"] == 1
    assert fd["reason"] == "action" and fd["reasons"] == ["action", "state"]
    assert (fd["a_index"], fd["b_index"]) == (1, 1)
    assert fd["a"] == {"node_name": "classify", "status": "success", "action": "simple"}
    assert fd["b"]["action"] == "hard"
    assert "took action simple in a and hard in b" in fd["message"]

    assert c["paths"]["a"] == [{"node_name": n, "action": act} for n, act, _, _ in BASE]
    assert [s["node_name"] for s in c["paths"]["b"]] == ["load", "classify", "escalate", "close"]
    assert c["paths"]["parted_at"] == 1

    pairs = {p["node_name"]: p for p in c["pairs"]}
    assert [p["node_name"] for p in c["pairs"]] == ["load", "classify", "close"]
    assert pairs["load"]["differs"] == [] and pairs["load"]["state_diff"]["equal"] is True
    assert pairs["load"]["delta"]["exec_duration_ms"] == 1
    cls = pairs["classify"]
    assert cls["before_equal"] is True and cls["differs"] == ["action", "state"]
    assert cls["state_diff"]["changed"] == [{"path": "kind", "a": "simple", "b": "hard"}]
    assert cls["a"]["action"] == "simple" and cls["b"]["action"] == "hard"
    assert cls["delta"] == {"prep_duration_ms": 0, "exec_duration_ms": 5, "post_duration_ms": 0,
                            "duration_ms": 5, "retry_count": 0}
    assert cls["a"]["offset_ms"] == 7 and cls["a"]["duration_ms"] == 42
    close = pairs["close"]
    assert close["before_equal"] is False and close["differs"] == ["state"]
    diff = close["state_diff"]
    assert {e["path"] for e in diff["added"]} == {"owner"}
    assert {e["path"] for e in diff["removed"]} == {"reply"}
    assert [e["path"] for e in diff["changed"]] == ["kind"]

    assert [(o["node_name"], o["index"], o["ordinal"]) for o in c["only_in_a"]] == [("answer", 2, 1)]
    assert [(o["node_name"], o["index"]) for o in c["only_in_b"]] == [("escalate", 2)]
    assert c["only_in_b"][0]["node"]["exec_duration_ms"] == 900

    s = c["summary"]
    assert s["duration_ms"] == {"a": 176, "b": 962, "delta": 786}
    assert s["node_executions"] == {"a": 4, "b": 4}
    assert (s["aligned"], s["differing"], s["only_in_a"], s["only_in_b"]) == (3, 2, 1, 1)
    top = s["top_nodes"]
    assert [t["node_name"] for t in top] == ["escalate", "answer", "classify", "load"]
    assert top[0] == {"node_name": "escalate", "a_ms": 0, "b_ms": 902, "delta_ms": 902, "a_runs": 0,
                      "b_runs": 1, "share": 1.148}
    assert top[1]["delta_ms"] == -122


def test_a_state_that_differs_from_the_same_start_is_found_at_its_ordinal(org):
    """A loop: "step" runs three times; its second run writes another value
    with the same action and status. The first divergence is that run."""
    a = org.run([("init", "default", {"n": 0}, 2), ("step", "again", {"n": 1}, 10),
                 ("step", "again", {"n": 2}, 10), ("step", "stop", {"n": 3}, 10)])
    b = org.run([("init", "default", {"n": 0}, 2), ("step", "again", {"n": 1}, 10),
                 ("step", "again", {"n": 20}, 10), ("step", "stop", {"n": 21}, 10)])
    c = org.compare(a, b).json()
    fd = c["first_divergence"]
    assert (fd["node_name"], fd["ordinal"], fd["reason"], fd["reasons"]) == ("step", 2, "state", ["state"])
    assert (fd["a_index"], fd["b_index"]) == (2, 2)
    assert c["paths"]["parted_at"] is None
    assert [p["ordinal"] for p in c["pairs"]] == [1, 1, 2, 3]
    assert c["pairs"][2]["state_diff"]["changed"] == [{"path": "n", "a": 2, "b": 20}]


def test_a_node_that_failed_in_one_run_is_the_divergence_with_its_error(org):
    a = org.run([("fetch", "default", {"page": 1}, 30), ("parse", "default", {"page": 1, "rows": 3}, 8)])
    b = org.run([("fetch", "default", {"page": 1}, 30),
                 {"node_name": "parse", "action": None, "after": {"page": 1}, "exec_ms": 8, "status": "error",
                  "retry_count": 2, "error": {"type": "ValueError", "message": "bad row"}}],
                status="error")
    c = org.compare(a, b).json()
    fd = c["first_divergence"]
    assert fd["node_name"] == "parse" and fd["reason"] == "status"
    assert fd["reasons"] == ["status", "action", "state"]
    pair = c["pairs"][1]
    assert pair["differs"] == ["status", "action", "state", "retry_count", "error"]
    assert pair["delta"]["retry_count"] == 2
    assert pair["b"]["error"] == {"type": "ValueError", "message": "bad row"}
    assert pair["state_diff"]["removed"] == [{"path": "rows", "value": 3}]


def test_a_run_compared_with_itself_has_no_differences(org):
    a = org.run(BASE)
    c = org.compare(a, a).json()
    assert c["identical"] is True and c["first_divergence"] is None
    assert c["paths"]["parted_at"] is None
    assert c["only_in_a"] == [] and c["only_in_b"] == []
    assert all(p["differs"] == [] and p["state_diff"]["equal"] for p in c["pairs"])
    assert all(v == 0 for p in c["pairs"] for v in p["delta"].values())
    assert c["summary"]["duration_ms"]["delta"] == 0 and c["summary"]["top_nodes"] == []


def test_runs_that_only_part_at_the_end_diverge_on_the_path(org):
    a = org.run(BASE)
    b = org.run(BASE[:3], status="cancelled")
    c = org.compare(a, b).json()
    fd = c["first_divergence"]
    assert fd["reason"] == "path" and fd["node_name"] == "close"
    assert (fd["a_index"], fd["b_index"], fd["ordinal"], fd["b"]) == (3, None, None, None)
    assert fd["message"] == "the paths part at step 4: a ran close, b had ended"


def test_runs_of_different_workflows_compare_and_say_so(org):
    other = org.new_workflow("triage-v2")
    a, b = org.run(BASE), org.run(BASE, workflow=other)
    c = org.compare(a, b).json()
    assert c["same_workflow"] is False and "different workflows" in c["note"]
    assert c["a"]["workflow_id"] == org.workflow and c["b"]["workflow_id"] == other
    assert c["first_divergence"] is None and len(c["pairs"]) == 4


def test_unknown_and_foreign_ids_answer_404(stack, org):
    a = org.run(BASE)
    stranger = Org(stack)
    theirs = stranger.run(BASE)
    for x, y in [(a, theirs), (theirs, a), (a, uuid.uuid4()), (uuid.uuid4(), a), (a, "not-a-uuid")]:
        r = org.compare(x, y)
        assert r.status == 404, (x, y, r.body)
        assert r.json()["error"]["code"] == "not_found"
    # Their own run is theirs to compare.
    assert stranger.compare(theirs, theirs).status == 200


def test_an_api_key_compares_runs_of_its_project_only(stack, org):
    a, b = org.run(BASE), org.run(ESCALATED)
    key = org.must("POST", f"/api/projects/{org.project}/api-keys")["key"]
    r = org.compare(a, b, token=key)
    assert r.status == 200 and r.json()["first_divergence"]["node_name"] == "classify"
    other = org.must("POST", "/api/projects", {"organization_id": org.org, "name": "elsewhere"})["id"]
    other_key = org.must("POST", f"/api/projects/{other}/api-keys")["key"]
    assert org.compare(a, b, token=other_key).status == 404


@pytest.mark.parametrize("query,param", [
    ("?top=0", "top"), ("?top=abc", "top"), ("?top=51", "top"),
    ("?diff_entries=0", "diff_entries"), ("?diff_entries=1001", "diff_entries"),
    ("?since=2025-01-01T00:00:00Z", "since"), ("?top=1&top=2", "top"),
])
def test_bad_parameters_answer_422_naming_them(org, query, param):
    a = org.run(BASE[:1])
    r = org.compare(a, a, query)
    assert r.status == 422, r.body
    err = r.json()["error"]
    assert err["code"] == "validation_failed" and err["path"] == param


def test_top_and_diff_entries_bound_the_answer(org):
    wide_a = {f"k{i}": i for i in range(30)}
    wide_b = {f"k{i}": -i for i in range(30)}
    a = org.run([("load", "default", wide_a, 5), ("work", "default", wide_a, 50)])
    b = org.run([("load", "default", wide_b, 9), ("work", "default", wide_b, 70)])
    c = org.compare(a, b, "?top=1&diff_entries=4").json()
    assert [t["node_name"] for t in c["summary"]["top_nodes"]] == ["work"]
    diff = c["pairs"][0]["state_diff"]
    assert len(diff["changed"]) == 4 and diff["truncated"] is True and diff["equal"] is False
    assert c["first_divergence"]["node_name"] == "load"
