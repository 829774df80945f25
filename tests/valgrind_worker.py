#!/usr/bin/python3
"""Valgrind memcheck on a live agora-worker under an ingest + read run.

    /usr/bin/python3 tests/valgrind_worker.py [--rounds N]

Starts a throwaway stack with ./run.sh (temporary AGORA_VAR, free ports),
then swaps its workers for ONE worker running under
`valgrind --tool=memcheck --leak-check=full`, drives it through nginx with
ingests (small ones, a 2,000-event one, live-run appends, idempotent
replays, refused bodies) and reads (lists with paging and filters, detail,
timeline, spans, events, snapshots, export, report, the NDJSON list,
workflows, projects, API-key calls,
the management routes (renames, member changes, rotation, erasure, the
audit log, deletions),
401/404/405/413/415/422 answers), stops it with SIGTERM (the worker finishes
and exits, so the leak check sees a whole life), and reads valgrind's log.

Passes (exit 0) when memcheck reports 0 errors and 0 bytes definitely
lost; prints the figures either way. The log stays in the printed path on
failure. Needs what ./test.sh installs, plus valgrind."""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "integration"))

from conftest import Stack, free_port  # noqa: E402  (the integration harness)


def say(msg):
    print(f"valgrind_worker: {msg}", flush=True)


def start_stack():
    var = tempfile.mkdtemp(prefix="agora-vg-", dir="/tmp")
    os.chmod(var, 0o755)
    https, http = free_port(), free_port()
    while http == https:
        http = free_port()
    s = Stack(ROOT, var, https, http)
    s.env.update({"AGORA_VAR": var, "AGORA_HTTPS_PORT": str(https), "AGORA_HTTP_PORT": str(http),
                  "AGORA_WORKERS": "1"})
    r = s.run_sh("start")
    if r.returncode != 0:
        raise SystemExit(f"./run.sh start failed:\n{r.stdout}\n{r.stderr}")
    s.load_env()
    return s


def valgrind_workers(s, log_dir):
    """Replaces the stack's worker by one under memcheck."""
    wrapper = os.path.join(s.var, "run", "valgrind-worker")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\n"
                f"exec valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect"
                f" --errors-for-leak-kinds=definite --track-origins=yes --num-callers=30"
                f" --log-file={log_dir}/memcheck.%p {os.path.join(ROOT, 'agora-worker')}\n")
    os.chmod(wrapper, 0o755)
    r = s.workers("stop")
    assert r.returncode == 0, r.stderr
    env = dict(s.env, AGORA_WORKER_BIN=wrapper, AGORA_WORKERS="1",
               AGORA_DB_CONNECT_TIMEOUT_SECONDS="10")
    r = subprocess.run([os.path.join(ROOT, "fcgi", "agora-workers"), "start"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    resp = s.wait_healthy(timeout=60)
    assert resp is not None and resp.status == 200, resp


def drive(s, rounds):
    """The ingest + read run. Returns the number of requests made."""
    n = 0

    def req(method, path, expect, **kw):
        nonlocal n
        kw.setdefault("timeout", 120)
        r = s.request(method, path, **kw)
        n += 1
        assert r.status == expect, (method, path, r.status, r.body[:300])
        return r

    owner = s.new_user()
    tok = s.token(owner)
    org = req("POST", "/api/organizations", 201, token=tok, body={"name": "vg"}).json()["id"]
    proj = req("POST", "/api/projects", 201, token=tok, body={"organization_id": org, "name": "vg"}).json()["id"]
    wf = req("POST", "/api/workflows", 201, token=tok, body={
        "project_id": proj, "name": "vg", "nodes": [{"name": "a"}, {"name": "b", "type": "LLMNode"}],
        "edges": [{"from": "a", "to": "b", "action": "default"}]}).json()["id"]
    key = req("POST", f"/api/projects/{proj}/api-keys", 201, token=tok, body={"name": "k"}).json()

    def payload(i, events=3, status="success", execution_id=None):
        ts = "2024-11-26T12:00:00"
        p = {"workflow_id": wf, "session_id": f"s-{i}", "status": status, "started_at": ts,
             "completed_at": "2024-11-26T12:00:05Z", "duration_ms": 5000.5,
             "metadata": {"round": i, "tags": ["x", "y"], "big": 123456789012345678901234567890},
             "error": {"type": "E", "msg": "boom\nline"} if i % 2 else None,
             "node_executions": [
                 {"node_name": "a", "status": "success", "started_at": ts, "completed_at": ts,
                  "prep_duration_ms": 1, "exec_duration_ms": 2, "post_duration_ms": 3, "retry_count": 1},
                 {"node_name": f"new-{i % 3}", "status": "error", "error": "traceback"}],
             "telemetry_events": [{"event_type": "tick" if j % 2 else "node_start",
                                   "timestamp": f"2024-11-26T12:00:{j % 60:02d}.{j:06d}+01:00",
                                   "node_name": "a", "data": {"j": j}} for j in range(events)],
             "telemetry_spans": [{"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": f"{j + 1:016x}",
                                  "name": "a.exec", "kind": "internal", "start_time": ts, "end_time": ts,
                                  "duration_ms": 1, "status": "ok", "attributes": {"j": j}}
                                 for j in range(3)],
             "shared_state_snapshots": [{"sequence": j, "timestamp": ts, "node_name": "a", "phase": "after",
                                         "state": {"v": j}} for j in range(3)]}
        if execution_id:
            p["execution_id"] = execution_id
        return p

    executions = []
    for i in range(rounds):
        idem = f"vg-{i}-{uuid.uuid4()}"
        r = req("POST", "/api/executions/ingest", 201, token=tok, body=payload(i), headers={"Idempotency-Key": idem})
        executions.append(r.json()["execution_id"])
        req("POST", "/api/executions/ingest", 201, token=tok, body=payload(i), headers={"Idempotency-Key": idem})
        req("POST", "/api/executions/ingest", 422, token=tok, body=payload(i + 1), headers={"Idempotency-Key": idem})
        # A live run: open, append, close, refused.
        live = str(uuid.uuid4())
        req("POST", "/api/executions/ingest", 201, token=key["key"], body=payload(i, 2, "running", live))
        req("POST", "/api/executions/ingest", 200, token=key["key"], body=payload(i, 2, "running", live))
        req("POST", "/api/executions/ingest", 200, token=key["key"], body=payload(i, 2, "success", live))
        req("POST", "/api/executions/ingest", 409, token=key["key"], body=payload(i, 2, "running", live))
        # Refused bodies.
        req("POST", "/api/executions/ingest", 400, token=tok, body=b'{"a":', headers={"Content-Type": "application/json"})
        req("POST", "/api/executions/ingest", 400, token=tok, body=b'{"a":"\xff"}', headers={"Content-Type": "application/json"})
        req("POST", "/api/executions/ingest", 400, token=tok, body=b"[" * 5000, headers={"Content-Type": "application/json"})
        bad = payload(i)
        bad["telemetry_events"][1]["timestamp"] = "nope"
        req("POST", "/api/executions/ingest", 422, token=tok, body=bad)
        req("POST", "/api/executions/ingest", 415, token=tok, body=b"{}", headers={"Content-Type": "text/plain"})
        req("POST", "/api/executions/ingest", 401, token="not-a-token", body=payload(i))
        req("POST", "/api/executions/ingest", 401, token="agk_" + "0" * 96, body=payload(i))
    big = req("POST", "/api/executions/ingest", 201, token=tok, body=payload(rounds, 2000)).json()["execution_id"]
    executions.append(big)

    # Reads.
    cursor = None
    while True:
        q = "/api/executions?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = req("GET", q, 200, token=tok).json()
        cursor = body["next_cursor"]
        if not cursor:
            break
    req("GET", f"/api/executions?workflow_id={wf}&status=success&since=2024-01-01T00:00:00Z&until=2030-01-01T00:00:00Z",
        200, token=tok)
    req("GET", "/api/executions?limit=0", 422, token=tok)
    req("GET", "/api/executions?cursor=bogus", 422, token=tok)
    req("GET", "/api/executions?nope=1", 422, token=tok)
    for ex in executions[-4:]:
        req("GET", f"/api/executions/{ex}", 200, token=tok)
        req("GET", f"/api/executions/{ex}/timeline", 200, token=tok)
        req("GET", f"/api/executions/{ex}/telemetry-spans", 200, token=tok)
        req("GET", f"/api/executions/{ex}/telemetry-events?event_type=tick", 200, token=key["key"])
        req("GET", f"/api/executions/{ex}/state-snapshots?limit=2", 200, token=tok)
        req("GET", f"/api/executions/{ex}/export", 200, token=tok)
        req("GET", f"/api/executions/{ex}/report", 200, token=key["key"])
    req("GET", f"/api/executions/{big}/export", 200, token=tok)
    req("GET", f"/api/executions/{big}/report", 200, token=tok)
    req("GET", f"/api/executions/{uuid.uuid4()}/report", 404, token=tok)
    req("GET", f"/api/executions?workflow_id={wf}&format=ndjson", 200, token=tok)
    req("GET", "/api/executions?format=ndjson&limit=2", 422, token=tok)
    cursor = None
    while True:  # page the big one's events
        q = f"/api/executions/{big}/telemetry-events?limit=500" + (f"&cursor={cursor}" if cursor else "")
        cursor = req("GET", q, 200, token=tok).json()["next_cursor"]
        if not cursor:
            break
    req("GET", f"/api/executions/{uuid.uuid4()}", 404, token=tok)
    req("GET", "/api/executions/not-a-uuid", 404, token=tok)
    req("DELETE", "/api/executions", 405, token=tok)
    req("GET", "/api/workflows", 200, token=tok)
    req("GET", f"/api/workflows/{wf}", 200, token=tok)
    req("GET", "/api/projects", 200, token=key["key"])
    req("GET", "/api/organizations", 200, token=tok)
    req("GET", f"/api/organizations/{org}/members", 200, token=tok)
    req("GET", f"/api/projects/{proj}/api-keys", 200, token=tok)
    # The management routes: the node filter, renames, member changes, a
    # key rotation, erasure, the audit log (paged), deletions.
    req("GET", f"/api/executions?workflow_id={wf}&node_name=a&limit=2", 200, token=tok)
    req("GET", "/api/executions?node_name=a", 422, token=tok)
    member = s.new_user()
    req("POST", f"/api/organizations/{org}/members", 201, token=tok, body={"user_id": member, "role": "viewer"})
    req("PATCH", f"/api/organizations/{org}/members/{member}", 200, token=tok, body={"role": "admin"})
    req("PATCH", f"/api/organizations/{org}/members/{owner}", 409, token=tok, body={"role": "admin"})
    req("DELETE", f"/api/organizations/{org}/members/{member}", 204, token=tok)
    req("PATCH", f"/api/projects/{proj}", 200, token=tok, body={"name": "vg-renamed"})
    req("PATCH", f"/api/workflows/{wf}", 200, token=tok, body={"name": "vg-renamed"})
    req("PATCH", f"/api/workflows/{wf}", 422, token=tok, body={"name": ""})
    rotated = req("POST", f"/api/api-keys/{key['id']}/rotate", 200, token=tok).json()
    req("GET", "/api/projects", 401, token=key["key"])
    req("GET", "/api/projects", 200, token=rotated["key"])
    for ex in executions[:2]:
        req("DELETE", f"/api/executions/{ex}", 204, token=tok)
    cursor = None
    while True:
        q = f"/api/organizations/{org}/audit-log?limit=2" + (f"&cursor={cursor}" if cursor else "")
        cursor = req("GET", q, 200, token=tok).json()["next_cursor"]
        if not cursor:
            break
    req("GET", f"/api/organizations/{org}/audit-log?cursor=bogus", 422, token=tok)
    req("DELETE", f"/api/api-keys/{key['id']}", 204, token=tok)
    req("POST", f"/api/api-keys/{key['id']}/rotate", 409, token=tok)
    req("GET", "/api/projects", 401, token=rotated["key"])
    req("DELETE", f"/api/workflows/{wf}", 204, token=tok)
    req("DELETE", f"/api/projects/{proj}", 204, token=tok)
    req("GET", "/api/health", 200)
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is missing: apt-get install -y valgrind")
    say("starting a stack (./run.sh start)")
    s = start_stack()
    log_dir = tempfile.mkdtemp(prefix="agora-memcheck-", dir="/tmp")
    # As root the worker runs as the unprivileged workers' user (run.sh):
    # valgrind, in its process, must be able to write its report here.
    os.chmod(log_dir, 0o1777)
    ok = False
    try:
        say("one worker under valgrind memcheck")
        valgrind_workers(s, log_dir)
        t0 = time.monotonic()
        n = drive(s, args.rounds)
        say(f"{n} requests in {time.monotonic() - t0:.0f} s; stopping the worker (SIGTERM)")
        r = s.workers("stop")
        assert r.returncode == 0, r.stderr
    finally:
        s.run_sh("stop", timeout=120)
        shutil.rmtree(s.var, ignore_errors=True)
    logs = sorted(os.listdir(log_dir))
    errors = definite = indirect = possible = 0
    for name in logs:
        with open(os.path.join(log_dir, name), errors="replace") as f:
            text = f.read()
        m = re.search(r"ERROR SUMMARY: ([\d,]+) errors", text)
        if not m:
            say(f"{name}: no ERROR SUMMARY (did the worker exit?)")
            errors += 1
            continue
        errors += int(m.group(1).replace(",", ""))
        for label, var in (("definitely lost", "definite"), ("indirectly lost", "indirect"),
                           ("possibly lost", "possible")):
            m = re.search(label + r": ([\d,]+) bytes", text)
            if m:
                value = int(m.group(1).replace(",", ""))
                if var == "definite":
                    definite += value
                elif var == "indirect":
                    indirect += value
                else:
                    possible += value
    ok = bool(logs) and errors == 0 and definite == 0
    say(f"memcheck: {len(logs)} worker process(es), {errors} errors, {definite} bytes definitely lost, "
        f"{indirect} indirectly, {possible} possibly")
    if ok:
        shutil.rmtree(log_dir, ignore_errors=True)
        say("PASS")
    else:
        say(f"FAIL: logs in {log_dir}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
