#!/usr/bin/env python3
"""Load soak: mixed ingest and reads at high concurrency through nginx, for a
fixed time, against a throwaway stack of its own. Passes when no request got
a 5xx, every execution acknowledged with 201 is in the database afterwards
(counted), and worker RSS stayed flat.

    /usr/bin/python3 tests/soak/soak.py [--seconds 600] [--concurrency 64]

Not part of ./test.sh (it runs for minutes); RELIABILITY.md records its
figures. Traffic goes to 127.0.0.1 only, bounded by --seconds."""
import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from conftest import ROOT, Stack, free_port  # noqa: E402


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def payload(workflow_id, rng):
    t = "2026-01-01T00:00:%02d.%06d" % (rng.randrange(60), rng.randrange(1000000))
    nodes = [{"node_name": f"n{i}", "status": "success", "started_at": t, "completed_at": t,
              "prep_duration_ms": 1, "exec_duration_ms": rng.random() * 100, "post_duration_ms": 1}
             for i in range(5)]
    events = [{"event_type": "node_start", "timestamp": t, "node_name": f"n{i % 5}",
               "data": {"i": i, "text": "x" * 200}} for i in range(20)]
    return {"workflow_id": workflow_id, "session_id": f"soak-{rng.randrange(1000)}",
            "status": "success", "started_at": t, "duration_ms": 10,
            "node_executions": nodes, "telemetry_events": events,
            "shared_state_snapshots": [{"sequence": 0, "state": {"k": "v" * 100}}]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--concurrency", type=int, default=64)
    args = ap.parse_args()

    var = tempfile.mkdtemp(prefix="agora-soak-", dir="/tmp")
    os.chmod(var, 0o755)
    s = Stack(ROOT, var, free_port(), free_port())
    s.env.update({"AGORA_VAR": var, "AGORA_HTTPS_PORT": str(s.https_port),
                  "AGORA_HTTP_PORT": str(s.http_port)})
    try:
        r = s.run_sh("start")
        if r.returncode != 0:
            print(r.stdout, r.stderr)
            return 1
        s.load_env()
        user = s.new_user()
        demo = json.loads(s.admin("demo", "--user", user).stdout)
        wf = demo["workflow_id"]
        token = s.token(user, ttl=args.seconds + 3600)

        lock = threading.Lock()
        statuses, acked, errors = {}, [], []
        deadline = time.monotonic() + args.seconds

        def client(n):
            rng = random.Random(n)
            mine = []
            while time.monotonic() < deadline:
                try:
                    roll = rng.random()
                    if roll < 0.6 or not mine:
                        resp = s.request("POST", "/api/executions/ingest", token=token,
                                         body=payload(wf, rng), timeout=60)
                        if resp.status == 201:
                            mine.append(resp.json()["execution_id"])
                    elif roll < 0.8:
                        resp = s.request("GET", "/api/executions?limit=50", token=token, timeout=60)
                    else:
                        ex = rng.choice(mine)
                        path = rng.choice(["", "/timeline", "/telemetry-events", "/state-snapshots"])
                        resp = s.request("GET", f"/api/executions/{ex}{path}", token=token, timeout=60)
                    with lock:
                        statuses[resp.status] = statuses.get(resp.status, 0) + 1
                except Exception as e:  # a socket error is a failure too
                    with lock:
                        errors.append(repr(e))
            with lock:
                acked.extend(mine)

        # Warm up, then take the first RSS sample.
        for _ in range(50):
            s.request("POST", "/api/executions/ingest", token=token, body=payload(wf, random.Random(0)))
        pids = s.workers_pids()
        rss_before = {p: rss_kib(p) for p in pids}
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.concurrency)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        rss_after = {p: rss_kib(p) for p in s.workers_pids()}

        ids = "','".join(acked)
        stored = int(s.psql_admin(f"SELECT count(*) FROM agora.executions WHERE id IN ('{ids}')").strip()) if acked else 0
        total = sum(statuses.values())
        fivexx = sum(v for k, v in statuses.items() if k >= 500)
        print(f"soak: {args.seconds} s at concurrency {args.concurrency}: {total} requests "
              f"({total / elapsed:.0f}/s), statuses {dict(sorted(statuses.items()))}, "
              f"socket errors {len(errors)}")
        print(f"soak: 201s acknowledged {len(acked)}, stored {stored}, lost {len(acked) - stored}")
        print(f"soak: worker RSS KiB before {rss_before} after {rss_after} "
              f"(same pids: {sorted(rss_before) == sorted(rss_after)})")
        ok = fivexx == 0 and not errors and stored == len(acked) and sorted(rss_before) == sorted(rss_after)
        grew = [p for p in rss_before if p in rss_after and rss_after[p] > rss_before[p] + 4096]
        if grew:
            print(f"soak: RSS grew by more than 4 MiB in workers {grew}")
            ok = False
        for e in errors[:5]:
            print("soak: error:", e)
        print("soak:", "PASS" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        s.run_sh("stop", timeout=120)
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
