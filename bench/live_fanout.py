#!/usr/bin/env python3
"""bench/live_fanout.py: nginx's CPU to fan a project channel's messages
out to many subscribers, for the whole message against the slim one
(docs/LIVE.md section 3; BENCHMARKS.md, "Live monitoring"). A short check
of what the bytes of a message cost, not bench/live.sh's ingest figures.

    bench/live_fanout.py [--subscribers N] [--per-batch K] [--batches B] [--rounds R]
        against the stack of AGORA_VAR (default ./var), e.g. ./run.sh's;
        defaults 300 subscribers, batches of 8, 50 batches, 3 rounds

Ingests bench/gen.py's M-0 payload (a new execution) and takes its
project message in both forms: slim, as the stack published it (read as
bench/live_bytes.py does), and whole, what project channels sent before
(the execution as GET shows it, with `added` and `truncated`). Opens N SSE
subscriptions to the demo project's channel, each with its own ticket and
TLS connection (bench/live_tickets.py, bench/live_subscribers.c, built
here with gcc and libcurl, at nice 19), then publishes batches of K copies
straight to nginx's publisher socket, 10 a second as agora-live's 100 ms
window would, in segments of B batches alternating the two forms R times.
Prints nginx's CPU (master and workers, /proc) per message and per
subscriber write for each segment, and checks that every subscriber got
every message."""
import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import ROOT, Client, cpu_seconds  # noqa: E402  (bench/ is not a package)
from gen import payload  # noqa: E402
from live_bytes import ingest_and_wait, subscribe  # noqa: E402

BENCH = os.path.dirname(os.path.abspath(__file__))
WINDOW_S = 0.1


class UnixHTTP(http.client.HTTPConnection):
    """HTTP over nginx's publisher socket (var/run/live/live-pub.sock)."""

    def __init__(self, path):
        super().__init__("localhost", timeout=10)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.path)


def forms(c):
    """The whole and the slim project message of a fresh M ingest."""
    curl, events = subscribe(c, c.demo["project_id"])
    try:
        _, slim = ingest_and_wait(c, events, payload("M", 0, c.demo["workflow_id"]))
    finally:
        curl.terminate()
        curl.wait()
    ident = slim["execution"]["id"]
    status, data, _ = c.request("GET", f"/api/executions/{ident}")
    if status != 200:
        sys.exit(f"bench/live_fanout.py: GET the execution: {status} {data[:300]!r}")
    added = {"node_executions": 20, "node_executions_updated": 0, "telemetry_spans": 60, "telemetry_events": 200,
             "shared_state_snapshots": 20}
    whole = {**slim, "execution": json.loads(data), "added": added, "truncated": False}
    return {"whole": whole, "slim": slim}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscribers", type=int, default=300)
    ap.add_argument("--per-batch", type=int, default=8)
    ap.add_argument("--batches", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    var = os.environ.get("AGORA_VAR", os.path.join(ROOT, "var"))
    c = Client(var)
    project = c.demo["project_id"]
    compact = lambda o: json.dumps(o, separators=(",", ":")).encode()
    msgs = forms(c)
    bodies = {k: compact({"type": "batch", "messages": [m] * args.per_batch}) for k, m in msgs.items()}
    print(f"message bytes: whole {len(compact(msgs['whole']))}, slim {len(compact(msgs['slim']))}; "
          f"batch of {args.per_batch}: whole {len(bodies['whole'])}, slim {len(bodies['slim'])}")

    tmp = tempfile.mkdtemp(prefix="agora-fanout-")
    subs = None
    try:
        exe = os.path.join(tmp, "live_subscribers")
        subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(BENCH, "live_subscribers.c"), "-lcurl"], check=True)
        ca = os.path.join(var, "tls", "cert.pem")
        base = f"https://127.0.0.1:{c.port}"
        paths = os.path.join(tmp, "paths")
        with open(paths, "w", encoding="utf-8") as f:
            f.write(subprocess.run([sys.executable, os.path.join(BENCH, "live_tickets.py"), base, ca,
                                    str(args.subscribers), json.dumps({"project_id": project})],
                                   env={**os.environ, "WRK_TOKEN": c.token}, check=True, capture_output=True,
                                   text=True).stdout)
        log = os.path.join(tmp, "subscribers.log")
        with open(log, "w", encoding="utf-8") as err:
            subs = subprocess.Popen(["nice", "-n", "19", exe, base, ca, paths], stdout=subprocess.PIPE, stderr=err,
                                    text=True)
        deadline = time.monotonic() + 120
        while True:
            with open(log, encoding="utf-8") as f:
                ready = [x for x in f if x.startswith("ready ")]
            if ready:
                break
            if subs.poll() is not None or time.monotonic() > deadline:
                sys.exit("bench/live_fanout.py: the subscriptions did not open")
            time.sleep(0.5)
        _, opened, failed, secs = ready[0].split()
        if int(failed):
            sys.exit(f"bench/live_fanout.py: {failed} subscriptions failed")
        subs.send_signal(signal.SIGUSR1)
        pub = UnixHTTP(os.path.join(var, "run", "live", "live-pub.sock"))
        with open(os.path.join(var, "run", "nginx.pid"), encoding="utf-8") as f:
            roots = {"nginx": int(f.read().strip())}
        per_msg = {"whole": [], "slim": []}
        for r in range(args.rounds):
            for kind in ("whole", "slim"):
                time.sleep(1)  # what the segment before wrote is out
                load = open("/proc/loadavg", encoding="utf-8").read().split()[0]
                cpu0, t0 = cpu_seconds(roots)["nginx"], time.monotonic()
                for i in range(args.batches):
                    pub.request("POST", f"/pub/project/{project}", body=bodies[kind],
                                headers={"Content-Type": "application/json"})
                    answer = pub.getresponse()
                    answer.read()
                    if not 200 <= answer.status < 300:
                        sys.exit(f"bench/live_fanout.py: publish answered {answer.status}")
                    time.sleep(max(0.0, t0 + (i + 1) * WINDOW_S - time.monotonic()))
                time.sleep(1)
                ms = (cpu_seconds(roots)["nginx"] - cpu0) * 1000
                per_msg[kind].append(ms / (args.batches * args.per_batch))
                print(f"round {r + 1} {kind}: nginx {ms / (args.batches * args.per_batch):.3f} ms per message, "
                      f"{1000 * ms / (args.batches * args.subscribers):.1f} µs per write to a subscriber "
                      f"(load {load})", flush=True)
        subs.send_signal(signal.SIGTERM)
        totals = json.loads(subs.communicate(timeout=60)[0].strip().splitlines()[-1])
        subs = None
        want = args.rounds * 2 * args.batches * args.per_batch
        print(f"{opened} subscribers opened in {secs} s; messages each: {totals['messages_min']} to "
              f"{totals['messages_max']} of {want}; closed early {totals['closed_early']}")
        mean = {k: sum(v) / len(v) for k, v in per_msg.items()}
        print(f"mean nginx ms per message, {args.subscribers} subscribers, batches of {args.per_batch}: "
              f"whole {mean['whole']:.3f}, slim {mean['slim']:.3f} ({100 * (mean['slim'] / mean['whole'] - 1):+.0f}%)")
        if totals["messages_min"] != want or totals["closed_early"]:
            sys.exit("bench/live_fanout.py: a subscriber missed messages")
    finally:
        if subs is not None:
            subs.kill()
            subs.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
