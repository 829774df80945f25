"""The workers' access log against the real stack: one JSON line per
request in the workers' log file (AGORA_WORKERS_LOG), found by the request
id the client got in X-Request-Id (and in every error body), with the route
pattern, status, duration, bytes and the caller's ids; and never the JWT,
the API key, a credential put in the query string, or the payload. With
AGORA_ACCESS_LOG=off the workers log no request lines."""
import json
import os
import re
import subprocess
import time
import uuid

from conftest import wait_for

INGEST = "/api/executions/ingest"
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
FIELDS = {"time", "level", "request_id", "method", "route", "status", "duration_ms", "org_id",
          "user_id", "api_key_id", "bytes_in", "bytes_out", "pid"}


def log_path(stack):
    return stack.env["AGORA_WORKERS_LOG"]


def log_size(stack):
    return os.path.getsize(log_path(stack))


def log_text(stack, since=0):
    with open(log_path(stack), "rb") as f:
        f.seek(since)
        return f.read().decode("utf-8")


def access_lines(text):
    """The access log lines of text (other worker messages are plain text)."""
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            entry = json.loads(line)  # every JSON-looking line must parse
            if "request_id" in entry:
                out.append(entry)
    return out


def lines_for(stack, since, request_id, timeout=5.0):
    """The access lines with request_id (waits briefly: the line is written
    before the response is finished, but the file is read from outside)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in access_lines(log_text(stack, since)) if e["request_id"] == request_id]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_one_line_per_request_with_the_right_fields_and_no_secrets(stack):
    user = stack.new_user()
    tok = stack.token(user)
    r = stack.request("POST", "/api/organizations", token=tok, body={"name": "Logs org"})
    assert r.status == 201, r
    org = r.json()["id"]
    r = stack.request("POST", "/api/projects", token=tok, body={"organization_id": org, "name": "l"})
    assert r.status == 201, r
    project = r.json()["id"]
    r = stack.request("POST", f"/api/projects/{project}/api-keys", token=tok)
    assert r.status == 201, r
    key, key_id = r.json()["key"], r.json()["id"]
    r = stack.request("POST", "/api/workflows", token=tok,
                      body={"project_id": project, "name": "wf", "nodes": [{"name": "n"}], "edges": []})
    assert r.status == 201, r
    wf = r.json()["id"]

    marker = "payload-marker-" + uuid.uuid4().hex
    since = log_size(stack)
    done = []  # (response, method, route, status, bytes_in, caller)

    def call(method, path, route, status, token=None, body=None, headers=None, caller=None):
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        resp = stack.request(method, path, token=token, body=raw, headers=dict(
            headers or {}, **({"Content-Type": "application/json"} if raw is not None else {})))
        assert resp.status == status, resp
        done.append((resp, method, route, status, len(raw or b""), caller))
        return resp

    t = "2024-11-26T12:00:00"
    ingest = {"workflow_id": wf, "session_id": marker, "status": "running", "started_at": t,
              "metadata": {"note": marker},
              "node_executions": [{"node_name": "n", "status": "success", "error": marker}],
              "telemetry_events": [{"event_type": "e", "timestamp": t, "data": {"m": marker}}]}
    call("POST", INGEST, INGEST, 201, token=key, body=ingest, caller=("key", key_id, org))
    call("GET", "/api/projects", "/api/projects", 200, token=tok, caller=("user", user, None))
    call("GET", f"/api/organizations/{org}/members", "/api/organizations/{id}/members", 200, token=tok,
         caller=("user", user, org))
    call("GET", f"/api/executions/{uuid.uuid4()}", "/api/executions/{id}", 404, token=key,
         caller=("key", key_id, org))
    bad = dict(ingest, status="bogus")
    call("POST", INGEST, INGEST, 422, token=tok, body=bad, caller=("user", user, None))
    # Credentials in the wrong places: a query string and a bad bearer.
    call("GET", f"/api/projects?access_token={tok}", "/api/projects", 401)
    call("GET", "/api/projects", "/api/projects", 401, token=key[:-8] + "deadbeef")
    call("GET", "/api/nothing/here", None, 404, token=tok)

    for resp, method, route, status, bytes_in, caller in done:
        rid = resp.headers["X-Request-Id"]
        assert re.fullmatch(r"[0-9a-f]{32}", rid), resp.headers
        if status >= 400:
            # The id in every error body is the header's.
            assert resp.json()["error"]["request_id"] == rid, resp
        found = lines_for(stack, since, rid)
        assert len(found) == 1, (rid, found)
        e = found[0]
        assert set(e) == FIELDS, e
        assert TIME_RE.match(e["time"]), e
        assert e["level"] == "info"
        assert e["method"] == method
        assert e["route"] == route, e
        assert e["status"] == status, e
        assert isinstance(e["duration_ms"], (int, float)) and 0 <= e["duration_ms"] < 10000, e
        assert e["bytes_in"] == (bytes_in if status != 401 else 0), e  # a 401 is answered before the body is read
        assert e["bytes_out"] == len(resp.body), (e, len(resp.body))
        assert isinstance(e["pid"], int) and e["pid"] > 0
        if caller is None:
            assert e["user_id"] is None and e["api_key_id"] is None and e["org_id"] is None, e
        elif caller[0] == "key":
            assert e["api_key_id"] == caller[1] and e["user_id"] is None and e["org_id"] == caller[2], e
        else:
            assert e["user_id"] == caller[1] and e["api_key_id"] is None and e["org_id"] == caller[2], e

    text = log_text(stack, since)
    secret_part = key[len("agk_") + 32:]
    for needle in (tok, tok.split(".")[2], key, secret_part, marker, "access_token", "Bearer"):
        assert needle not in text, f"the workers' log holds {needle[:12]}..."


def test_the_access_log_can_be_turned_off(stack):
    assert stack.workers("stop").returncode == 0
    env = dict(stack.env, AGORA_ACCESS_LOG="off")
    try:
        r = subprocess.run([os.path.join(stack.root, "fcgi", "agora-workers"), "start"],
                           cwd=stack.root, env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert stack.wait_healthy().status == 200
        since = log_size(stack)
        resp = stack.request("GET", "/api/health")
        assert resp.status == 200
        rid = resp.headers["X-Request-Id"]
        # Stop these workers and wait for the supervisor's "stopped", which
        # it writes only once every worker has exited: after that line no
        # worker of this run can add one, so what is absent now stays absent
        # (a wait of a fixed time would pass on a line not yet written).
        stopped = stack.workers("stop")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert wait_for(lambda: "agora-supervise: stopped" in log_text(stack, since)), log_text(stack, since)
        text = log_text(stack, since)
        assert rid not in text
        assert access_lines(text) == []
    finally:
        stack.workers("stop")
        r = stack.workers("start")
        assert r.returncode == 0, r.stdout + r.stderr
        assert stack.wait_healthy().status == 200
    resp = stack.request("GET", "/api/health")
    assert len(lines_for(stack, 0, resp.headers["X-Request-Id"])) == 1


def test_a_bad_access_log_setting_stops_the_worker_with_its_name(stack):
    r = subprocess.run([os.path.join(stack.root, "agora-worker")], env=dict(stack.env, AGORA_ACCESS_LOG="maybe"),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "AGORA_ACCESS_LOG" in r.stderr
