#!/usr/bin/env python3
"""CPU per OTLP request of each part of a running stack, requests sent one
at a time (bench/otlp_cpu.sh starts the stack and calls this).

  otlp_cpu.py AGORA_VAR BASE_URL KEY_FILE PAYLOAD_DIR SIZE N ROUNDS

Posts ROUNDS x N protobuf bodies of SIZE spans (SIZE a number, or "wide":
500 one-span traces; PAYLOAD_DIR/otlp-SIZE.pb,
bench/otlp_gen.py), each with trace ids of its own (the marker bytes of
PAYLOAD_DIR/otlp.json replaced by a counter), one after the other over one
keep-alive TLS connection, and prints one JSON line per round: the CPU
milliseconds per request PostgreSQL, the workers and nginx used meanwhile,
and "backend", the busiest PostgreSQL client backend alone (with one
worker, the worker's connection: the ingest's statements without
autovacuum, the checkpointer or the live publisher's queries).

CPU time, not wall time, so it stands on a busy machine: each process's
run time from /proc/PID/schedstat (nanoseconds; the scheduler's count,
unlike the 10 ms ticks of /proc/PID/stat), for the part's parent and its
live descendants, plus the ticks of descendants that already exited
(cutime, cstime of their parents). PostgreSQL's includes its background
processes (autovacuum, the WAL writer, the checkpointer), as COPY's
would.
"""

import http.client
import json
import os
import ssl
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cpu import TICK, all_stats, first_int, read_env  # noqa: E402


def run_ns(pid):
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def tree_ms(root, stats):
    """Milliseconds of CPU of root and its descendants, live or exited."""
    if root not in stats:
        return 0.0
    kids = {}
    for pid, st in stats.items():
        kids.setdefault(st["ppid"], []).append(pid)
    ns, ticks = 0, 0
    todo = [root]
    while todo:
        pid = todo.pop()
        ns += run_ns(pid)
        ticks += stats[pid]["cutime"] + stats[pid]["cstime"]
        todo.extend(kids.get(pid, []))
    return ns / 1e6 + ticks * 1000.0 / TICK


BACKGROUND = ("autovacuum", "checkpointer", "writer", "launcher", "stats", "logger", "archiver", "walsender")


def client_backends(root, stats):
    """{pid: run ns} of the postmaster's children that serve a client (their
    title "postgres: USER DB ..."), not its background processes."""
    out = {}
    for pid, st in stats.items():
        if st["ppid"] != root:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                title = f.read().decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and not any(b in title for b in BACKGROUND):
            out[pid] = run_ns(pid)
    return out


def snapshot(var, env):
    roots = {
        "postgres": first_int(os.path.join(env["AGORA_PG_DATA"], "postmaster.pid")),
        "workers": first_int(env.get("AGORA_WORKERS_PIDFILE", os.path.join(var, "run", "workers.pid"))),
        "nginx": first_int(os.path.join(var, "run", "nginx.pid")),
    }
    stats = all_stats()
    out = {k: tree_ms(p, stats) if p else 0.0 for k, p in roots.items()}
    out["backends"] = client_backends(roots["postgres"], stats) if roots["postgres"] else {}
    return out


def main(argv):
    if len(argv) != 7:
        sys.stderr.write(__doc__)
        return 2
    var, base, key_file, pay, size, n, rounds = argv[0], argv[1], argv[2], argv[3], argv[4], int(argv[5]), int(argv[6])
    env = read_env(var)
    with open(key_file) as f:
        auth = f.read().strip().split(": ", 1)[1]
    with open(os.path.join(pay, f"otlp-{size}.pb"), "rb") as f:
        body = f.read()
    marker = bytes.fromhex(json.load(open(os.path.join(pay, "otlp.json")))["marker"])
    assert marker in body, "the marker is not in the body"
    host, port = base.split("://", 1)[1].rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=env["AGORA_TLS_CERT"])
    conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=120)
    headers = {"Authorization": auth, "Content-Type": "application/x-protobuf"}
    # a counter of its own per run, so a second run of the script stores new traces too
    seq = int(time.time() * 1000) % (1 << 40) << 16
    results = []
    for r in range(rounds):
        before = snapshot(var, env)
        for _ in range(n):
            seq += 1
            conn.request("POST", "/v1/traces", body.replace(marker, seq.to_bytes(8, "big")), headers)
            resp = conn.getresponse()
            answer = resp.read()
            if resp.status != 200 or answer:
                sys.exit(f"otlp_cpu.py: POST /v1/traces answered {resp.status} ({len(answer)} bytes): not all stored")
        time.sleep(0.3)  # the last request's backend work and the live publisher settle
        after = snapshot(var, env)
        row = {"size": int(size) if size.isdigit() else size, "round": r + 1, "requests": n}
        row.update({k: round((after[k] - before[k]) / n, 2) for k in ("postgres", "workers", "nginx")})
        # the busiest client backend: the worker's own, with one worker
        row["backend"] = round(max((ns - before["backends"].get(pid, 0) for pid, ns in after["backends"].items()),
                                   default=0) / 1e6 / n, 2)
        results.append(row)
        print(json.dumps(row), flush=True)
    summary = {"size": int(size) if size.isdigit() else size, "round": "median", "requests": n * rounds}
    summary.update({k: round(statistics.median(x[k] for x in results), 2) for k in ("postgres", "backend", "workers", "nginx")})
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
