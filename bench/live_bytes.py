#!/usr/bin/env python3
"""bench/live_bytes.py: the bytes of the project-channel message that one
ingest of bench/gen.py's payloads sends each subscriber (BENCHMARKS.md,
"Live monitoring": what nginx writes to every subscriber of a project).

    bench/live_bytes.py [--size M]      against the stack of AGORA_VAR
                                        (default ./var), e.g. ./run.sh's

Subscribes to the demo project's channel over SSE (curl, HTTP/1.1), then
ingests the four variants of SIZE (S, M or L) one at a time, each a new
execution, and waits for its message before the next, so each comes alone
(no batch). Prints, per variant, the bytes of the message's JSON (the SSE
`data:`, as agora-live published it) and its members, then the mean.
Framing (SSE, HTTP/2, TLS) comes on top, the same for any message."""
import argparse
import json
import os
import subprocess
import sys
import threading
import queue

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import ROOT, Client  # noqa: E402  (bench/ is not a package)
from gen import payload  # noqa: E402

WAIT_S = 15


def subscribe(c, project):
    """curl holding an SSE subscription to project's channel, and a queue
    of the `data:` of each event it receives."""
    status, data, _ = c.request("POST", "/api/live/tickets", json.dumps({"project_id": project}).encode())
    if status != 201:
        sys.exit(f"bench/live_bytes.py: POST /api/live/tickets: {status} {data[:300]!r}")
    url = f"https://127.0.0.1:{c.port}{json.loads(data)['path']}"
    curl = subprocess.Popen(["curl", "-sSN", "--http1.1", "--cacert", os.path.join(c.env["AGORA_VAR"], "tls", "cert.pem"),
                             "-H", "Accept: text/event-stream", url], stdout=subprocess.PIPE)
    events = queue.Queue()

    def read():
        for line in curl.stdout:
            if line.startswith(b"data: "):
                events.put(line[6:].rstrip(b"\n"))
        events.put(None)

    threading.Thread(target=read, daemon=True).start()
    return curl, events


def ingest_and_wait(c, events, body):
    """Ingests body (a new execution) and waits for its message among
    events (subscribe's queue): its bytes, as published, and its JSON."""
    status, data, _ = c.request("POST", "/api/executions/ingest", json.dumps(body).encode())
    if status not in (200, 201):
        sys.exit(f"bench: ingest: {status} {data[:300]!r}")
    ident = json.loads(data)["execution_id"]
    while True:
        try:
            raw = events.get(timeout=WAIT_S)
        except queue.Empty:
            sys.exit(f"bench: no message for execution {ident} in {WAIT_S} s")
        if raw is None:
            sys.exit("bench: the subscription ended")
        msg = json.loads(raw)
        if msg.get("type") == "execution" and msg["execution"]["id"] == ident:
            return raw, msg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", choices=("S", "M", "L"), default="M")
    args = ap.parse_args()
    c = Client(os.environ.get("AGORA_VAR", os.path.join(ROOT, "var")))
    curl, events = subscribe(c, c.demo["project_id"])
    sizes = []
    try:
        for variant in range(4):
            raw, msg = ingest_and_wait(c, events, payload(args.size, variant, c.demo["workflow_id"]))
            sizes.append(len(raw))
            members = ", ".join(k if not isinstance(v, dict) else f"{k}{{{', '.join(v)}}}" for k, v in msg.items())
            print(f"{args.size}-{variant}: {len(raw):,} bytes: {members}")
    finally:
        curl.terminate()
        curl.wait()
    print(f"mean: {sum(sizes) / len(sizes):,.0f} bytes a message ({args.size}, {len(sizes)} ingests)")


if __name__ == "__main__":
    main()
