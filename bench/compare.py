#!/usr/bin/env python3
"""bench/compare.py: times GET /api/executions/{a}/compare/{b} on two
10,000-node runs (BENCHMARKS.md, "Comparing two runs").

    bench/compare.py [--nodes N] [--requests K]     against the stack of AGORA_VAR
                                                    (default ./var), e.g. one that
                                                    bench/compare.sh started

Ingests two runs of the demo workflow as the Python client records them:
N node executions over 25 node names, each with its before and after
snapshots (2N snapshots a run), the second run diverging at node 0.7 N (its
action, then every state after it, differ). Then K compare requests each
of: the two runs (the answer holds N pairs and, from the divergence on,
a state diff per pair), and a run with itself. Prints a Markdown table:
median, p90 and max wall time from request to the last byte, the answer's
size, the CPU time per request of this stack's workers, PostgreSQL and
nginx (each one's process tree, from its pid file), and the first
divergence found (which must be node 0.7 N). Wall times depend on the machine's load: the CPU times say what a
request costs on an idle core."""
import argparse
import http.client
import json
import os
import ssl
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_env(path):
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("export ") and "=" in line:
                k, v = line[7:].split("=", 1)
                env[k] = v[1:-1].replace("'\\''", "'") if v.startswith("'") else v
    return env


class Client:
    def __init__(self, var):
        self.env = {**os.environ, **read_env(os.path.join(var, "env")), "AGORA_VAR": var}
        self.port = int(self.env["AGORA_HTTPS_PORT"])
        self.ctx = ssl.create_default_context(cafile=os.path.join(var, "tls", "cert.pem"))
        self.ctx.check_hostname = False
        user = open(os.path.join(var, "secrets", "demo_user"), encoding="utf-8").read().strip()
        self.token = self.admin("token", "--user", user, "--ttl", "7200").strip()
        self.demo = json.loads(self.admin("demo", "--user", user))

    def admin(self, *args):
        return subprocess.run([os.path.join(ROOT, "agora-admin"), *args], env=self.env, check=True,
                              capture_output=True, text=True).stdout

    def request(self, method, path, body=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=120, context=self.ctx)
        headers = {"Authorization": f"Bearer {self.token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            t = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, data, time.perf_counter() - t
        finally:
            conn.close()


def run(workflow, n, diverge_at, start):
    """A run of n node executions, each 2 ms after the last, with snapshots."""
    iso = lambda t: t.isoformat().replace("+00:00", "Z")
    nodes, snaps, state, t = [], [], {"step": 0}, start
    for i in range(n):
        name = f"node-{i % 25:02d}"
        gone = diverge_at is not None and i >= diverge_at
        end = t + timedelta(milliseconds=1.5 + (0.5 if gone else 0))
        nodes.append({"node_name": name, "node_type": "AuditedNode", "status": "success", "started_at": iso(t),
                      "completed_at": iso(end), "prep_duration_ms": 0.1, "exec_duration_ms": 1.3,
                      "post_duration_ms": 0.1, "retry_count": 0, "action": "other" if gone else "default"})
        snaps.append({"sequence": 2 * i, "timestamp": iso(t), "node_name": name, "phase": "before", "state": state})
        state = {"step": i + 1, "last": name, "route": "b" if gone else "a", "items": [i % 7, i % 11]}
        snaps.append({"sequence": 2 * i + 1, "timestamp": iso(end), "node_name": name, "phase": "after",
                      "state": state})
        t = end + timedelta(milliseconds=0.5)
    return {"workflow_id": workflow, "session_id": f"bench-compare-{start.timestamp():.0f}", "status": "success",
            "started_at": iso(start), "completed_at": iso(t), "duration_ms": (t - start) / timedelta(milliseconds=1),
            "node_executions": nodes, "shared_state_snapshots": snaps}


def stack_roots(var, env):
    """The pids whose process trees serve a request: the workers'
    supervisor, PostgreSQL's postmaster, nginx's master."""
    roots = {}
    for name, path in (("workers", os.path.join(var, "run", "workers.pid")),
                       ("postgres", os.path.join(env.get("AGORA_PG_DATA", os.path.join(var, "pg", "data")),
                                                 "postmaster.pid")),
                       ("nginx", os.path.join(var, "run", "nginx.pid"))):
        try:
            with open(path, encoding="utf-8") as f:
                roots[name] = int(f.readline().strip())
        except (OSError, ValueError):
            pass
    return roots


def cpu_seconds(roots):
    """CPU time (user + system) used so far by each root's process tree:
    this stack's processes only, whatever else runs on the machine."""
    tick = os.sysconf("SC_CLK_TCK")
    procs = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        procs[int(pid)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    out = {}
    for name, root in roots.items():
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            if pid in procs:
                total += procs[pid][1]
            todo += [child for child, (ppid, _) in procs.items() if ppid == pid]
        out[name] = total
    return out


def timed(c, path, k):
    times, size, body = [], 0, None
    c.request("GET", path)  # warm: the statements are prepared once per connection's worker
    roots = stack_roots(c.env["AGORA_VAR"], c.env)
    cpu0 = cpu_seconds(roots)
    for _ in range(k):
        status, data, dt = c.request("GET", path)
        if status != 200:
            sys.exit(f"bench/compare.py: {path}: {status} {data[:300]!r}")
        times.append(dt * 1000)
        size, body = len(data), data
    cpu1 = cpu_seconds(roots)
    cpu = {name: (cpu1[name] - cpu0[name]) * 1000 / k for name in cpu0}
    times.sort()
    return times, size, json.loads(body), cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=10000)
    ap.add_argument("--requests", type=int, default=10)
    args = ap.parse_args()
    c = Client(os.environ.get("AGORA_VAR", os.path.join(ROOT, "var")))
    wf = c.demo["workflow_id"]
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    ids = []
    for i, div in enumerate((None, int(args.nodes * 0.7))):
        body = json.dumps(run(wf, args.nodes, div, start + timedelta(minutes=i))).encode()
        status, data, dt = c.request("POST", "/api/executions/ingest", body)
        if status != 201:
            sys.exit(f"bench/compare.py: ingest: {status} {data[:300]!r}")
        ids.append(json.loads(data)["execution_id"])
        print(f"<!-- ingested {args.nodes} nodes + {2 * args.nodes} snapshots ({len(body) / 1e6:.1f} MB) in {dt:.2f} s -->")
    rows = []
    for label, path in (("two runs, diverging at node 7,000", f"/api/executions/{ids[0]}/compare/{ids[1]}"),
                        ("a run with itself", f"/api/executions/{ids[0]}/compare/{ids[0]}")):
        times, size, cmp, cpu = timed(c, path, args.requests)
        fd = cmp["first_divergence"]
        found = f"{fd['node_name']} at index {fd['a_index']} ({fd['reason']})" if fd else "none"
        p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
        rows.append(f"| {label} | {len(cmp['pairs']):,} | {statistics.median(times):.0f} | {p90:.0f} | "
                    f"{times[-1]:.0f} | {cpu.get('workers', 0):.0f} | {cpu.get('postgres', 0):.0f} | {cpu.get('nginx', 0):.0f} | "
                    f"{size / 1e6:.1f} MB | {found} |")
    load = open("/proc/loadavg", encoding="utf-8").read().split()[:3]
    print(f"<!-- {os.cpu_count()} CPUs, load average at the end {' '.join(load)} -->")
    print(f"| compare ({args.nodes:,} nodes a run, {args.requests} requests) | pairs | median ms | p90 ms | max ms "
          "| worker CPU ms | PostgreSQL CPU ms | nginx CPU ms | answer | first divergence |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
