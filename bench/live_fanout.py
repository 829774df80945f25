#!/usr/bin/env python3
"""bench/live_fanout.py: nginx's CPU to fan a project channel's updates
out to many subscribers, for the rows form (docs/LIVE.md section 3) against
the slim messages project channels sent before it (BENCHMARKS.md, "Live
monitoring"). A short check of what the bytes of an update cost, not
bench/live.sh's ingest figures.

    bench/live_fanout.py [--subscribers N] [--per-batch K] [--batches B] [--rounds R] [--window-ms W]
        against the stack of AGORA_VAR (default ./var), e.g. ./run.sh's;
        defaults 300 subscribers, 28 updates a message, 40 messages,
        3 rounds, 250 ms

Ingests bench/gen.py's M-0 payload (a new execution) and takes its
project update in both forms: rows, as the stack published it (read as
bench/live_bytes.py does), and slim, what project channels sent before
(the same update decoded, each member with its key, in a
{"type":"batch","messages":[...]}). Opens N SSE subscriptions to the demo
project's channel, each with its own ticket and TLS connection
(bench/live_tickets.py, bench/live_subscribers.c, built here with gcc and
libcurl, at nice 19), then publishes messages of K copies straight to
nginx's publisher socket, one every W ms as agora-live's window would, in
segments of B messages alternating the two forms R times. Prints nginx's
CPU (master and workers, /proc) per update and per subscriber write for
each segment, and the subscribers' client's (what the clients pay, TLS
included, all of them together), and checks that every subscriber got
every update."""
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
from live_bytes import compact, ingest_and_wait, slim, subscribe  # noqa: E402

BENCH = os.path.dirname(os.path.abspath(__file__))


class UnixHTTP(http.client.HTTPConnection):
    """HTTP over nginx's publisher socket (var/run/live/live-pub.sock)."""

    def __init__(self, path):
        super().__init__("localhost", timeout=10)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.path)


def bodies(c, k):
    """A message of k copies of a fresh M ingest's project update, as rows
    (what the stack publishes) and as a batch of slim messages (before)."""
    curl, events = subscribe(c, c.demo["project_id"])
    try:
        raw, msg = ingest_and_wait(c, events, payload("M", 0, c.demo["workflow_id"]))
    finally:
        curl.terminate()
        curl.wait()
    frame = json.loads(raw)
    return {"slim": compact({"type": "batch", "messages": [slim(msg)] * k}),
            "rows": compact({**frame, "rows": frame["rows"] * k})}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscribers", type=int, default=300)
    ap.add_argument("--per-batch", type=int, default=28)
    ap.add_argument("--batches", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--window-ms", type=int, default=250)
    args = ap.parse_args()
    var = os.environ.get("AGORA_VAR", os.path.join(ROOT, "var"))
    c = Client(var)
    project = c.demo["project_id"]
    forms = bodies(c, args.per_batch)
    window_s = args.window_ms / 1000
    print(f"message of {args.per_batch} updates: slim {len(forms['slim'])} bytes, rows {len(forms['rows'])} bytes")

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
            roots = {"nginx": int(f.read().strip()), "client": subs.pid}
        per_msg = {"slim": [], "rows": []}
        client_per_msg = {"slim": [], "rows": []}
        for r in range(args.rounds):
            for kind in ("slim", "rows"):
                time.sleep(1)  # what the segment before wrote is out
                load = open("/proc/loadavg", encoding="utf-8").read().split()[0]
                cpu0, t0 = cpu_seconds(roots), time.monotonic()
                for i in range(args.batches):
                    pub.request("POST", f"/pub/project/{project}", body=forms[kind],
                                headers={"Content-Type": "application/json"})
                    answer = pub.getresponse()
                    answer.read()
                    if not 200 <= answer.status < 300:
                        sys.exit(f"bench/live_fanout.py: publish answered {answer.status}")
                    time.sleep(max(0.0, t0 + (i + 1) * window_s - time.monotonic()))
                time.sleep(1)
                cpu1 = cpu_seconds(roots)
                ms = (cpu1["nginx"] - cpu0["nginx"]) * 1000
                per_msg[kind].append(ms / (args.batches * args.per_batch))
                client_ms = (cpu1["client"] - cpu0["client"]) * 1000
                client_per_msg[kind].append(client_ms / (args.batches * args.per_batch))
                print(f"round {r + 1} {kind}: nginx {ms / (args.batches * args.per_batch):.3f} ms per update, "
                      f"{1000 * ms / (args.batches * args.subscribers):.1f} µs per write to a subscriber; "
                      f"the subscribers' client {client_per_msg[kind][-1]:.3f} ms per update (load {load})", flush=True)
        subs.send_signal(signal.SIGTERM)
        totals = json.loads(subs.communicate(timeout=60)[0].strip().splitlines()[-1])
        subs = None
        want = args.rounds * 2 * args.batches * args.per_batch
        print(f"{opened} subscribers opened in {secs} s; messages each: {totals['messages_min']} to "
              f"{totals['messages_max']} of {want}; closed early {totals['closed_early']}")
        mean = {k: sum(v) / len(v) for k, v in per_msg.items()}
        client = {k: sum(v) / len(v) for k, v in client_per_msg.items()}
        print(f"mean nginx ms per update, {args.subscribers} subscribers, {args.per_batch} a message: "
              f"slim {mean['slim']:.3f}, rows {mean['rows']:.3f} ({100 * (mean['rows'] / mean['slim'] - 1):+.0f}%); "
              f"the subscribers' client: slim {client['slim']:.3f}, rows {client['rows']:.3f} "
              f"({100 * (client['rows'] / client['slim'] - 1):+.0f}%)")
        if totals["messages_min"] != want or totals["closed_early"]:
            sys.exit("bench/live_fanout.py: a subscriber missed messages")
    finally:
        if subs is not None:
            subs.kill()
            subs.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
