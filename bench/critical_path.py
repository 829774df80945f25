#!/usr/bin/env python3
"""Times GET /api/executions/{id}/critical-path on a large run.

  bench/critical_path.py [--nodes 10000] [--requests 30]

Against the stack of the environment (`. var/env` after ./run.sh, or any
AGORA_VAR's env file): needs AGORA_HTTPS_PORT, AGORA_TLS_CERT and a token in
AGORA_BENCH_TOKEN (./run.sh prints one). It creates a workflow of 100 nodes
in a chain, ingests one run of N node executions that walks the chain
again and again with every tenth step run twice in parallel (so the path
has to choose), and requests the critical path R times in a row, printing
the latency p50/p95/max and the answer's size as JSON."""
import argparse
import http.client
import json
import os
import ssl
import statistics
import time
import uuid
from datetime import datetime, timedelta, timezone

NODES = 100


def request(conn, method, path, token, body=None):
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    raw = resp.read()
    if resp.status not in (200, 201):
        raise SystemExit(f"{method} {path}: {resp.status} {raw[:300]!r}")
    return raw


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=10000)
    ap.add_argument("--requests", type=int, default=30)
    args = ap.parse_args()
    ctx = ssl.create_default_context(cafile=os.environ["AGORA_TLS_CERT"])
    ctx.check_hostname = False
    conn = http.client.HTTPSConnection("127.0.0.1", int(os.environ["AGORA_HTTPS_PORT"]), context=ctx, timeout=120)
    token = os.environ["AGORA_BENCH_TOKEN"]

    projects = json.loads(request(conn, "GET", "/api/projects", token))["items"]
    names = [f"step{i:03d}" for i in range(NODES)]
    wf = json.loads(request(conn, "POST", "/api/workflows", token, {
        "project_id": projects[0]["id"], "name": f"critical-path-bench-{uuid.uuid4().hex[:6]}",
        "nodes": [{"name": n} for n in names],
        "edges": [{"from": names[i], "to": names[i + 1]} for i in range(NODES - 1)]
        + [{"from": names[-1], "to": names[0]}]}))["id"]

    t0 = datetime.now(timezone.utc) - timedelta(hours=1)
    at = lambda ms: (t0 + timedelta(milliseconds=ms)).isoformat().replace("+00:00", "Z")
    runs, t, step = [], 0, 0
    while len(runs) < args.nodes:
        name = names[step % NODES]
        width = 2 if step % 10 == 9 else 1
        step += 1
        for k in range(width):
            runs.append({"node_name": name, "status": "success", "started_at": at(t),
                         "completed_at": at(t + 5 + 3 * k), "exec_duration_ms": 5 + 3 * k})
        t += 5 + 3 * (width - 1) + 1
    runs = runs[:args.nodes]
    ex = json.loads(request(conn, "POST", "/api/executions/ingest", token, {
        "workflow_id": wf, "session_id": "critical-path-bench", "status": "success",
        "started_at": at(0), "completed_at": at(t), "node_executions": runs}))["execution_id"]

    times, size, steps = [], 0, 0
    for _ in range(args.requests):
        start = time.perf_counter()
        raw = request(conn, "GET", f"/api/executions/{ex}/critical-path", token)
        times.append((time.perf_counter() - start) * 1000)
        size = len(raw)
        steps = len(json.loads(raw)["critical_path"]["steps"])
    times.sort()
    print(json.dumps({
        "node_executions": args.nodes, "requests": args.requests, "path_steps": steps, "answer_bytes": size,
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1), "max_ms": round(times[-1], 1),
        "load_1min": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
