#!/usr/bin/env python3
"""bench/live_bytes.py: the bytes of the project-channel message that one
ingest of bench/gen.py's payloads sends each subscriber (BENCHMARKS.md,
"Live monitoring": what nginx writes to every subscriber of a project).

    bench/live_bytes.py [--size M] [--per-window 28]
        against the stack of AGORA_VAR (default ./var), e.g. ./run.sh's

Subscribes to the demo project's channel over SSE (curl, HTTP/1.1), then
ingests the four variants of SIZE (S, M or L) one at a time, each a new
execution, and waits for its message before the next, so each comes alone
(one row). Prints, per variant, the bytes of the frame's JSON (the SSE
`data:`, as agora-live published it), of its row, and of the same update
as the slim message project channels sent before their rows (each key
spelt out, times as text: slim()); then the mean bytes per update of a
window of one and of PER_WINDOW ingests (the column names shared), in
both forms. Framing (SSE, HTTP/2, TLS) comes on top, the same for any
message."""
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


def compact(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def decode(raw):
    """The messages of one frame (tests/integration/live_clients.py
    decode_rows: the rows under their column names, docs/LIVE.md section
    3), or the message itself."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    from live_clients import decode_rows  # noqa: E402
    frame = json.loads(raw)
    return decode_rows(frame) if frame.get("type") == "rows" else [frame]


def slim(msg):
    """The update msg (decoded) as project channels sent it before rows:
    each member with its key, times as text, no `truncated` unless true."""
    return {k: v for k, v in msg.items() if k != "truncated" or v}


def ingest_and_wait(c, events, body):
    """Ingests body (a new execution) and waits for its frame among events
    (subscribe's queue): its bytes, as published, and its one update,
    decoded."""
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
        for msg in decode(raw):
            if msg.get("type") == "execution" and msg["execution"]["id"] == ident:
                return raw, msg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", choices=("S", "M", "L"), default="M")
    ap.add_argument("--per-window", type=int, default=28)
    args = ap.parse_args()
    c = Client(os.environ.get("AGORA_VAR", os.path.join(ROOT, "var")))
    curl, events = subscribe(c, c.demo["project_id"])
    frames, heads, rows, olds = [], [], [], []
    try:
        for variant in range(4):
            raw, msg = ingest_and_wait(c, events, payload(args.size, variant, c.demo["workflow_id"]))
            frame = json.loads(raw)
            row = len(compact(frame["rows"][0]))
            frames.append(len(raw))
            heads.append(len(raw) - row)
            rows.append(row)
            olds.append(len(compact(slim(msg))))
            members = ", ".join(k if not isinstance(v, dict) else f"{k}{{{', '.join(v)}}}" for k, v in msg.items())
            print(f"{args.size}-{variant}: frame {len(raw):,} bytes (row {row:,}); as a slim message "
                  f"{olds[-1]:,}: {members}")
    finally:
        curl.terminate()
        curl.wait()
    mean = lambda xs: sum(xs) / len(xs)
    k = args.per_window
    # A window of k: one head and k rows with commas, against the slim
    # messages' batch ({"type":"batch","messages":[...]}, 29 bytes + commas).
    batch_open = len(b'{"type":"batch","messages":[]}')
    print(f"mean ({args.size}, {len(frames)} ingests): alone {mean(frames):,.0f} bytes an update as rows, "
          f"{mean(olds):,.0f} as a slim message; in a window of {k}: "
          f"{(mean(heads) + k * (mean(rows) + 1) - 1) / k:,.0f} as rows, "
          f"{(batch_open + k * (mean(olds) + 1) - 1) / k:,.0f} as slim messages")


if __name__ == "__main__":
    main()
