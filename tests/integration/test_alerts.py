"""Alerts end to end (README "Alerts", sql/014_alerts.sql, src/main/alerts.c),
on a stack of its own that allows loopback webhooks over http (the tests'
receivers listen on 127.0.0.1; nothing else is allowed):

- rules through the API: create, list, get, replace, mute, snooze,
  test-fire, delete; 422 for bad rules and refused URLs, naming the field;
  the secret is never returned; members read, only admins and owners write;
- a failed run -> exactly one delivery, signed with the rule's secret,
  carrying the stable id header, the link and Slack's `text`;
- a rolled-back ingest fires nothing;
- a receiver down for 30 s -> delivered once after;
- agora-alerts killed mid-delivery -> delivered again with the same id;
- 1,000 failing ingests in a burst -> one alert (the cooldown);
- a window rule fires once for its window, whoever evaluates it;
- a URL whose address is refused at delivery gives up without a request;
- row-level security keeps rules, channels and deliveries per organization,
  and the secret out of agora_app's reach."""
import hashlib
import hmac
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import children_of, free_port, new_stack, remove_stack, start_stack, wait_for

INGEST = "/api/executions/ingest"
SECRET = "s3cret-for-tests"


@pytest.fixture(scope="module")
def stack():
    s = new_stack(AGORA_WEBHOOK_ALLOW="loopback", AGORA_WEBHOOK_ALLOW_HTTP="on",
                  AGORA_ALERTS_EVALUATE_SECONDS="1", AGORA_ALERTS_RETRY_SECONDS="3",
                  AGORA_ALERTS_TIMEOUT_SECONDS="10")
    try:
        start_stack(s)
        yield s
    finally:
        remove_stack(s)


class Receiver:
    """A webhook receiver on 127.0.0.1: records every request; `hold`
    seconds of delay before answering, `status` the answer."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.requests = []
        self.hold = 0.0
        self.status = 200
        self.lock = threading.Lock()
        self.server = None

    def start(self):
        rec = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with rec.lock:
                    rec.requests.append((dict(self.headers), body))
                    hold, status = rec.hold, rec.status
                time.sleep(hold)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hook"

    def ids(self):
        with self.lock:
            return [h.get("X-Agora-Alert-Id") for h, _ in self.requests]


class Team:
    """An owner with an organization, a project and a workflow."""

    def __init__(self, stack):
        self.stack = stack
        self.user = stack.new_user()
        self.tok = stack.token(self.user)
        self.org = self.must("POST", "/api/organizations", {"name": "Alerts org"})["id"]
        self.project = self.must("POST", "/api/projects", {"organization_id": self.org, "name": "alerts"})["id"]
        self.workflow = self.new_workflow()

    def new_workflow(self):
        return self.must("POST", "/api/workflows", {
            "project_id": self.project, "name": "wf-" + uuid.uuid4().hex[:8],
            "nodes": [{"name": "fetch"}, {"name": "save"}], "edges": []})["id"]

    def call(self, method, path, body=None, tok=None):
        return self.stack.request(method, path, token=tok or self.tok, body=body)

    def must(self, method, path, body=None, status=(200, 201, 202, 204)):
        r = self.call(method, path, body)
        assert r.status in status, f"{method} {path}: {r.status} {r.body[:300]!r}"
        return r.json() if r.body else None

    def rule(self, **fields):
        body = {"name": "r-" + uuid.uuid4().hex[:6], "kind": "execution_failed", **fields}
        return self.must("POST", f"/api/projects/{self.project}/alert-rules", body)

    def fail(self, workflow=None, message="boom", nodes=None, started=None):
        body = {"workflow_id": workflow or self.workflow, "session_id": uuid.uuid4().hex, "status": "error",
                "started_at": started or iso(datetime.now(timezone.utc)), "error": {"message": message},
                "duration_ms": 12.5}
        if nodes is not None:
            body["node_executions"] = nodes
        return self.must("POST", INGEST, body)["execution_id"]

    def deliveries(self, rule_id, **q):
        query = "&".join(f"{k}={v}" for k, v in q.items())
        return self.must("GET", f"/api/alert-rules/{rule_id}/deliveries" + (f"?{query}" if query else ""))["items"]


def wait_value(fn, timeout):
    """fn()'s first true value within timeout seconds, else its last."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.1)


def iso(t):
    return t.isoformat().replace("+00:00", "Z")


def alerts_of(stack, rule_id):
    out = stack.psql_admin(f"SELECT id FROM agora.alerts WHERE rule_id = '{rule_id}' AND NOT test ORDER BY created_at")
    return [x for x in out.split() if x]


def verify_signature(headers, body):
    parts = dict(p.split("=", 1) for p in headers["X-Agora-Signature"].split(","))
    want = hmac.new(SECRET.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], want)
    assert abs(int(parts["t"]) - time.time()) < 120


@pytest.fixture(scope="module")
def team(stack):
    return Team(stack)


# --- the API ---------------------------------------------------------------


def test_rules_through_the_api_never_show_the_secret(team):
    rec = Receiver()
    r = team.rule(workflow_id=team.workflow, error_contains="timeout", cooldown_minutes=5,
                  channels=[{"url": rec.url, "secret": SECRET}, {"url": rec.url}])
    assert r["kind"] == "execution_failed" and r["cooldown_minutes"] == 5 and r["muted"] is False
    assert [c["has_secret"] for c in r["channels"]] == [True, False]
    assert SECRET not in json.dumps(r)
    listed = team.must("GET", f"/api/projects/{team.project}/alert-rules")["items"]
    assert r["id"] in [x["id"] for x in listed]
    assert SECRET not in json.dumps(listed)
    got = team.must("GET", f"/api/alert-rules/{r['id']}")
    assert got == r

    # Replaced: the first channel, sent again without its secret, keeps it.
    put = team.must("PUT", f"/api/alert-rules/{r['id']}", {
        "name": "renamed", "kind": "duration_above", "threshold": 1000,
        "channels": [{"url": rec.url}]})
    assert put["name"] == "renamed" and put["threshold"] == 1000 and put["error_contains"] is None
    assert put["channels"][0]["id"] == r["channels"][0]["id"] and put["channels"][0]["has_secret"] is True

    muted = team.must("POST", f"/api/alert-rules/{r['id']}/mute", {"muted": True})
    assert muted["muted"] is True
    snoozed = team.must("POST", f"/api/alert-rules/{r['id']}/snooze", {"minutes": 30})
    assert snoozed["snoozed_until"] is not None
    assert team.must("POST", f"/api/alert-rules/{r['id']}/snooze", {"minutes": 0})["snoozed_until"] is None
    team.must("DELETE", f"/api/alert-rules/{r['id']}")
    assert team.call("GET", f"/api/alert-rules/{r['id']}").status == 404


@pytest.mark.parametrize("body, path", [
    ({"kind": "duration_above"}, "threshold"),
    ({"kind": "execution_failed", "threshold": 5}, "threshold"),
    ({"kind": "node_failure_rate", "threshold": 120, "window_minutes": 5}, "threshold"),
    ({"kind": "usage_above", "threshold": 1, "window_minutes": 5, "metric": "bytes"}, "metric"),
    ({"kind": "stale_run", "window_minutes": 0}, "window_minutes"),
    ({"kind": "nope"}, "kind"),
    ({"kind": "execution_failed", "channels": []}, "channels"),
    ({"kind": "execution_failed", "channels": [{"url": "ftp://example.com/"}]}, "channels[0].url"),
    ({"kind": "execution_failed", "channels": [{"url": "https://u:p@example.com/"}]}, "channels[0].url"),
    ({"kind": "execution_failed", "channels": [{"url": "http://169.254.169.254/latest/meta-data"}]},
     "channels[0].url"),
    ({"kind": "execution_failed", "channels": [{"url": "http://10.0.0.7/"}]}, "channels[0].url"),
    ({"kind": "execution_failed", "channels": [{"url": "http://[fe80::1]/"}]}, "channels[0].url"),
    ({"kind": "execution_failed", "channels": [{"url": "http://0x7f.1/"}]}, "channels[0].url"),
    ({"kind": "execution_failed", "channels": [{"url": "https://e.com/", "bogus": 1}]}, "channels[0]"),
    ({"kind": "execution_failed", "workflow_id": str(uuid.uuid4())}, "workflow_id"),
])
def test_bad_rules_are_422_naming_the_field_and_store_nothing(team, body, path):
    full = {"name": "bad", "channels": [{"url": "https://hooks.example.com/x"}], **body}
    before = team.must("GET", f"/api/projects/{team.project}/alert-rules")["items"]
    r = team.call("POST", f"/api/projects/{team.project}/alert-rules", full)
    assert r.status == 422, r.body
    assert r.json()["error"]["path"] == path, r.body
    assert team.must("GET", f"/api/projects/{team.project}/alert-rules")["items"] == before


def test_members_read_rules_only_admins_write_and_strangers_see_nothing(stack, team):
    rec = Receiver()
    r = team.rule(channels=[{"url": rec.url, "secret": SECRET}])
    member = stack.new_user()
    team.must("POST", f"/api/organizations/{team.org}/members", {"user_id": member, "role": "member"})
    mtok = stack.token(member)
    assert team.call("GET", f"/api/alert-rules/{r['id']}", tok=mtok).status == 200
    assert team.call("GET", f"/api/alert-rules/{r['id']}/deliveries", tok=mtok).status == 200
    assert team.call("POST", f"/api/alert-rules/{r['id']}/mute", {"muted": True}, tok=mtok).status == 403
    assert team.call("DELETE", f"/api/alert-rules/{r['id']}", tok=mtok).status == 403
    assert team.call("POST", f"/api/alert-rules/{r['id']}/test", tok=mtok).status == 403
    assert team.call("POST", f"/api/projects/{team.project}/alert-rules",
                     {"name": "x", "kind": "execution_failed", "channels": [{"url": rec.url}]}, tok=mtok).status == 403
    stranger = stack.token(stack.new_user())
    for path in (f"/api/alert-rules/{r['id']}", f"/api/alert-rules/{r['id']}/deliveries",
                 f"/api/projects/{team.project}/alert-rules"):
        assert team.call("GET", path, tok=stranger).status == 404
    team.must("DELETE", f"/api/alert-rules/{r['id']}")


def test_rls_keeps_alert_tables_per_organization_and_the_secret_unreadable(stack, team):
    rec = Receiver()
    r = team.rule(channels=[{"url": rec.url, "secret": SECRET}])
    team.must("POST", f"/api/alert-rules/{r['id']}/test")
    other = stack.new_user()
    for table in ("alert_rules", "alert_channels", "alerts", "alert_deliveries", "alert_cooldowns"):
        seen = stack.psql_app(f"SELECT count(*) FROM agora.{table}", user_id=other).split()
        assert seen[-1] == "0", (table, seen)
    mine = stack.psql_app(f"SELECT count(*) FROM agora.alert_rules WHERE id = '{r['id']}'", user_id=team.user)
    assert mine.split()[-1] == "1"
    # The secret is the deliverer's; the cooldowns the triggers'.
    for sql in ("SELECT secret FROM agora.alert_channels",
                f"INSERT INTO agora.alert_cooldowns (rule_id, subject, organization_id, project_id, quiet_until)"
                f" VALUES ('{r['id']}', 'x', '{team.org}', '{team.project}', now())"):
        with pytest.raises(subprocess.CalledProcessError) as e:
            stack.psql_app(sql, user_id=team.user)
        assert "permission denied" in e.value.stderr
    # Another organization's admin cannot write into this project.
    with pytest.raises(subprocess.CalledProcessError):
        stack.psql_app(f"INSERT INTO agora.alert_rules (organization_id, project_id, name, kind)"
                       f" VALUES ('{team.org}', '{team.project}', 'x', 'execution_failed')", user_id=other)
    # The deliverer's functions are not for members of the public.
    out = stack.psql_admin("SELECT has_function_privilege('public', 'agora.alert_delivery_claim()', 'EXECUTE')")
    assert out.strip() == "f"
    team.must("DELETE", f"/api/alert-rules/{r['id']}")


def test_a_caller_of_one_organization_never_fires_anothers_rules(stack, team):
    # The triggers run as agora_definer, where no policy applies: what
    # they read must follow from the statement's own rows, which passed
    # the caller's. B (team) has a rule every failed run of its project
    # matches; A tries, through the API and in SQL as agora_app, to make
    # a run of B's fail or to give one a failed node.
    none = [{"url": "http://127.0.0.1:9/none"}]
    b_rule = team.rule(cooldown_minutes=0, channels=none)
    b_node_rule = team.rule(node_name="save", cooldown_minutes=0, channels=none)
    b_ok = team.must("POST", INGEST, {"workflow_id": team.workflow, "session_id": "ok", "status": "success",
                                      "started_at": iso(datetime.now(timezone.utc))})["execution_id"]
    team.fail()
    assert len(alerts_of(stack, b_rule["id"])) == 1
    a = Team(stack)
    a_rule = a.rule(cooldown_minutes=0, channels=none)
    a_node_rule = a.rule(node_name="save", cooldown_minutes=0, channels=none)

    # The API: B's workflow is not A's to ingest into.
    res = a.call("POST", INGEST, {"workflow_id": team.workflow, "session_id": "x", "status": "error",
                                  "started_at": iso(datetime.now(timezone.utc))})
    assert res.status in (403, 404), res.body

    # SQL: each statement works with A's own rows (and fires A's rules),
    # and is refused, or changes nothing, with B's.
    def run(org, project, workflow):
        return stack.psql_app(
            f"INSERT INTO agora.executions (organization_id, project_id, workflow_id, session_id, status,"
            f" started_at) VALUES ('{org}', '{project}', '{workflow}', 'sql', 'error', now()) RETURNING id",
            user_id=a.user).split()[-1]

    def node(org, project, execution):
        # The run's created_at (which node executions copy, sql/025), read
        # as the superuser: A cannot read B's run.
        created = stack.psql_admin(f"SELECT created_at FROM agora.executions WHERE id = '{execution}'").strip()
        return stack.psql_app(
            f"INSERT INTO agora.node_executions (run_created_at, organization_id, project_id, execution_id, node_name,"
            f" status, started_at) VALUES ('{created}', '{org}', '{project}', '{execution}', 'save', 'error', now())",
            user_id=a.user)

    a_run = run(a.org, a.project, a.workflow)
    node(a.org, a.project, a_run)
    for org, project, workflow in ((team.org, team.project, team.workflow), (a.org, a.project, team.workflow)):
        with pytest.raises(subprocess.CalledProcessError):
            run(org, project, workflow)
    b_failed = team.fail()
    for org, project in ((team.org, team.project), (a.org, a.project)):
        with pytest.raises(subprocess.CalledProcessError):
            node(org, project, b_failed)
    out = stack.psql_app(f"UPDATE agora.executions SET status = 'error' WHERE id = '{b_ok}' RETURNING id",
                         user_id=a.user)
    assert out.strip() == "", out
    assert stack.psql_admin(f"SELECT status FROM agora.executions WHERE id = '{b_ok}'").strip() == "success"

    assert len(alerts_of(stack, a_rule["id"])) == 1
    assert len(alerts_of(stack, a_node_rule["id"])) == 1
    assert len(alerts_of(stack, b_rule["id"])) == 2  # B's own two failures
    assert alerts_of(stack, b_node_rule["id"]) == []
    mine = stack.psql_admin(f"SELECT DISTINCT organization_id FROM agora.alerts WHERE rule_id IN"
                            f" ('{a_rule['id']}', '{a_node_rule['id']}')").split()
    assert mine == [a.org], mine
    # Nor can A hand the definer's functions rules and runs of its choosing.
    for fn in ("agora.alerts_fire(agora.alert_candidate[])", "agora.alerts_for_executions(agora.executions[])",
               "agora.alerts_changed()"):
        out = stack.psql_admin(f"SELECT has_function_privilege('agora_app', '{fn}', 'EXECUTE')")
        assert out.strip() == "f", fn
    for r in (b_rule, b_node_rule):
        team.must("DELETE", f"/api/alert-rules/{r['id']}")


# --- delivery --------------------------------------------------------------


def test_a_failed_run_is_delivered_once_signed(stack, team):
    rec = Receiver().start()
    try:
        wf = team.new_workflow()
        r = team.rule(workflow_id=wf, channels=[{"url": rec.url, "secret": SECRET}])
        team.must("POST", INGEST, {"workflow_id": wf, "session_id": "ok", "status": "success",
                                   "started_at": iso(datetime.now(timezone.utc))})
        ex = team.fail(wf, message="upstream timeout")
        assert wait_for(lambda: len(rec.requests) >= 1, timeout=20)
        time.sleep(2)
        assert len(rec.requests) == 1
        headers, body = rec.requests[0]
        verify_signature(headers, body)
        p = json.loads(body)
        assert headers["X-Agora-Alert-Id"] == p["id"] and p["test"] is False
        assert p["rule"]["id"] == r["id"] and p["project"]["id"] == team.project
        assert p["workflow"]["id"] == wf and p["execution_id"] == ex
        assert "upstream timeout" in p["summary"] and p["summary"] in p["text"]
        assert p["link"].endswith(f"/#/executions/{ex}") and p["link"] in p["text"]
        d = wait_value(lambda: [x for x in team.deliveries(r["id"]) if x["status"] == "delivered"], timeout=10)
        assert d and d[0]["attempts"] == 1 and d[0]["codes"] == [200] and d[0]["next_try_at"] is None
    finally:
        rec.stop()


def test_a_rolled_back_ingest_fires_nothing(stack, team):
    wf = team.new_workflow()
    r = team.rule(workflow_id=wf, channels=[{"url": "http://127.0.0.1:9/none"}])
    # The ingest fails after its execution row is written: a node id of no
    # node of the workflow makes it roll back (422).
    res = team.call("POST", INGEST, {"workflow_id": wf, "session_id": "rb", "status": "error",
                                     "started_at": iso(datetime.now(timezone.utc)),
                                     "node_executions": [{"node_name": "x", "node_id": str(uuid.uuid4())}]})
    assert res.status == 422, res.body
    assert alerts_of(stack, r["id"]) == []
    team.fail(wf)
    assert len(alerts_of(stack, r["id"])) == 1


def test_erasing_a_run_erases_its_alerts_and_deliveries(stack, team):
    wf = team.new_workflow()
    r = team.rule(workflow_id=wf, cooldown_minutes=0, channels=[{"url": "http://127.0.0.1:9/none"}])
    erased, kept = team.fail(wf, message="secret customer text"), team.fail(wf, message="other")
    assert len(alerts_of(stack, r["id"])) == 2
    team.must("DELETE", f"/api/executions/{erased}")
    left = stack.psql_admin(f"SELECT a.execution_id, count(d.*) FROM agora.alerts a"
                            f" LEFT JOIN agora.alert_deliveries d ON d.alert_id = a.id"
                            f" WHERE a.rule_id = '{r['id']}' GROUP BY 1").split()
    assert left == [f"{kept}|1"], left
    assert "secret customer text" not in stack.psql_admin(
        f"SELECT payload::text FROM agora.alerts WHERE rule_id = '{r['id']}'")


def test_filters_error_text_and_node(stack, team):
    wf = team.new_workflow()
    by_text = team.rule(workflow_id=wf, error_contains="TimeOut", cooldown_minutes=0,
                        channels=[{"url": "http://127.0.0.1:9/none"}])
    by_node = team.rule(workflow_id=wf, node_name="save", cooldown_minutes=0,
                        channels=[{"url": "http://127.0.0.1:9/none"}])
    now = iso(datetime.now(timezone.utc))
    team.fail(wf, message="disk full", nodes=[{"node_name": "fetch", "status": "error", "started_at": now}])
    team.fail(wf, message="read timeout", nodes=[{"node_name": "save", "status": "error", "started_at": now}])
    team.fail(wf, message="other", nodes=[{"node_name": "save", "status": "success", "started_at": now}])
    assert len(alerts_of(stack, by_text["id"])) == 1
    assert len(alerts_of(stack, by_node["id"])) == 1


def test_a_burst_of_1000_failures_is_one_alert(stack, team):
    wf = team.new_workflow()
    r = team.rule(workflow_id=wf, cooldown_minutes=60, channels=[{"url": "http://127.0.0.1:9/none"}])
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: team.fail(wf, message=f"boom {i}"), range(1000)))
    assert len(alerts_of(stack, r["id"])) == 1
    out = stack.psql_admin(f"SELECT count(*) FROM agora.alert_deliveries WHERE rule_id = '{r['id']}'")
    assert out.strip() == "1"
    team.must("POST", f"/api/alert-rules/{r['id']}/mute", {"muted": True})


def test_a_muted_rule_fires_nothing_but_test_fire_still_sends(stack, team):
    rec = Receiver().start()
    try:
        wf = team.new_workflow()
        r = team.rule(workflow_id=wf, channels=[{"url": rec.url, "secret": SECRET}])
        team.must("POST", f"/api/alert-rules/{r['id']}/mute", {"muted": True})
        team.fail(wf)
        assert alerts_of(stack, r["id"]) == []
        t = team.must("POST", f"/api/alert-rules/{r['id']}/test")
        assert t["deliveries"] == 1
        assert wait_for(lambda: rec.ids() == [t["alert_id"]], timeout=20)
        verify_signature(*rec.requests[0])
        assert json.loads(rec.requests[0][1])["test"] is True
    finally:
        rec.stop()


def test_a_receiver_down_for_30s_gets_it_once_after(stack, team):
    rec = Receiver()
    wf = team.new_workflow()
    r = team.rule(workflow_id=wf, channels=[{"url": rec.url}])
    team.fail(wf)
    time.sleep(30)
    d = team.deliveries(r["id"])
    assert d[0]["status"] == "pending" and d[0]["attempts"] >= 2 and set(d[0]["codes"]) == {0}
    assert d[0]["next_try_at"] is not None and d[0]["last_error"]
    rec.start()
    try:
        assert wait_for(lambda: len(rec.requests) == 1, timeout=60)
        time.sleep(4)
        assert len(rec.requests) == 1
        d = wait_value(lambda: [x for x in team.deliveries(r["id"]) if x["status"] == "delivered"], timeout=10)
        assert d[0]["codes"][-1] == 200
    finally:
        rec.stop()


def test_killed_mid_delivery_it_is_sent_again_with_the_same_id(stack, team):
    rec = Receiver().start()
    rec.hold = 6.0
    try:
        wf = team.new_workflow()
        r = team.rule(workflow_id=wf, channels=[{"url": rec.url}])
        team.fail(wf)
        assert wait_for(lambda: len(rec.requests) == 1, timeout=20)
        with open(os.path.join(stack.var, "run", "alerts.pid")) as f:
            supervisor = int(f.read())
        (child,) = children_of(supervisor)
        rec.hold = 0.0
        os.kill(child, signal.SIGKILL)
        assert wait_for(lambda: len(rec.requests) == 2, timeout=30)
        ids = rec.ids()
        assert ids[0] == ids[1] == alerts_of(stack, r["id"])[0]
        d = wait_value(lambda: [x for x in team.deliveries(r["id"]) if x["status"] == "delivered"], timeout=10)
        assert d[0]["attempts"] == 1  # the killed attempt left no trace but the repeat
    finally:
        rec.stop()


def test_an_address_refused_at_delivery_gives_up_without_a_request(stack, team):
    r = team.rule(channels=[{"url": "https://hooks.example.com/x"}])
    # Saved before the check existed, or a name that now resolves inside:
    # the deliverer checks again after resolving.
    stack.psql_admin(f"UPDATE agora.alert_channels SET url = 'http://169.254.169.254/latest'"
                     f" WHERE rule_id = '{r['id']}'")
    t = team.must("POST", f"/api/alert-rules/{r['id']}/test")
    d = wait_value(lambda: [x for x in team.deliveries(r["id"]) if x["status"] == "gave_up"], timeout=20)
    assert d[0]["alert_id"] == t["alert_id"] and d[0]["codes"] == [0]
    assert "link-local" in d[0]["last_error"]
    team.must("DELETE", f"/api/alert-rules/{r['id']}")


def test_a_window_rule_fires_once_for_its_window(stack, team):
    # Runs in the last whole minute, so the rule's first window holds them.
    now = datetime.now(timezone.utc)
    if now.second > 50:
        time.sleep(61 - now.second)
        now = datetime.now(timezone.utc)
    start = now.replace(second=0, microsecond=0) - timedelta(seconds=30)
    wf = team.new_workflow()
    for i in range(4):
        team.must("POST", INGEST, {
            "workflow_id": wf, "session_id": f"w{i}", "status": "success" if i == 0 else "error",
            "started_at": iso(start),
            "node_executions": [{"node_name": "fetch", "status": "success" if i == 0 else "error",
                                 "started_at": iso(start)}]})
    r = team.rule(kind="node_failure_rate", workflow_id=wf, node_name="fetch", threshold=50, window_minutes=1,
                  min_runs=3, channels=[{"url": "http://127.0.0.1:9/none"}])
    assert wait_for(lambda: len(alerts_of(stack, r["id"])) == 1, timeout=10)
    # Another process evaluating now finds the window taken.
    assert stack.psql_admin("SELECT agora.alert_evaluate_windows()").strip() == "0"
    time.sleep(3)
    assert len(alerts_of(stack, r["id"])) == 1
    summary = stack.psql_admin(f"SELECT payload->>'summary' FROM agora.alerts WHERE rule_id = '{r['id']}'")
    assert "75% of 4 runs" in summary


def test_duration_stale_and_usage_rules(stack, team):
    none = [{"url": "http://127.0.0.1:9/none"}]
    wf = team.new_workflow()
    slow = team.rule(kind="duration_above", workflow_id=wf, threshold=1000, cooldown_minutes=0, channels=none)
    now = datetime.now(timezone.utc)
    for ms in (900, 1500):
        team.must("POST", INGEST, {"workflow_id": wf, "session_id": f"d{ms}", "status": "success",
                                   "started_at": iso(now), "duration_ms": ms})
    assert len(alerts_of(stack, slow["id"])) == 1
    assert "1500 ms, over 1000 ms" in stack.psql_admin(
        f"SELECT payload->>'summary' FROM agora.alerts WHERE rule_id = '{slow['id']}'")

    # A live run whose last telemetry is older than the rule's window.
    stale = team.rule(kind="stale_run", workflow_id=wf, window_minutes=5, channels=none)
    run = team.must("POST", INGEST, {"workflow_id": wf, "session_id": "live", "status": "running",
                                     "started_at": iso(now)})["execution_id"]
    fresh = team.must("POST", INGEST, {"workflow_id": wf, "session_id": "live2", "status": "running",
                                       "started_at": iso(now)})["execution_id"]
    stack.psql_admin(f"UPDATE agora.executions SET last_ingest_at = now() - interval '6 minutes'"
                     f" WHERE id = '{run}'")
    assert wait_for(lambda: len(alerts_of(stack, stale["id"])) == 1, timeout=10)
    time.sleep(2.5)
    got = stack.psql_admin(f"SELECT execution_id FROM agora.alerts WHERE rule_id = '{stale['id']}'").split()
    assert got == [run] and fresh not in got

    # Tokens of runs started in the last whole minute, over the threshold.
    if now.second > 50:
        time.sleep(61 - now.second)
        now = datetime.now(timezone.utc)
    start = iso(now.replace(second=0, microsecond=0) - timedelta(seconds=20))
    wf2 = team.new_workflow()
    for i in range(2):
        team.must("POST", INGEST, {"workflow_id": wf2, "session_id": f"u{i}", "status": "success",
                                   "started_at": start, "node_executions": [{
                                       "node_name": "fetch", "status": "success", "started_at": start,
                                       "input_tokens": 400, "output_tokens": 200, "model": "m"}]})
    usage = team.rule(kind="usage_above", workflow_id=wf2, metric="tokens", threshold=1000, window_minutes=1,
                      channels=none)
    assert wait_for(lambda: len(alerts_of(stack, usage["id"])) == 1, timeout=10)
    assert "used 1200 tokens in 1 min, over 1000" in stack.psql_admin(
        f"SELECT payload->>'summary' FROM agora.alerts WHERE rule_id = '{usage['id']}'")


def test_run_sh_status_shows_the_deliverer(stack):
    r = stack.run_sh("status")
    assert r.returncode == 0, r.stdout
    assert "alerts:   running" in r.stdout
    with open(os.path.join(stack.var, "run", "alerts.pid")) as f:
        assert len(children_of(int(f.read()))) == 1
