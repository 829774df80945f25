#!/usr/bin/env python3
"""Commit -> webhook latency of alerts (bench/alerts.sh).

  alerts_latency.py BASE_URL CA_FILE PROJECT_ID WORKFLOW_ID N

Listens on 127.0.0.1 (the stack must allow loopback webhooks over http:
AGORA_WEBHOOK_ALLOW=loopback, AGORA_WEBHOOK_ALLOW_HTTP=on), creates an
execution_failed rule for the workflow with no cooldown and this receiver
as its channel, then ingests N failing runs one after another (0.2 s
apart). For each, the time from the ingest's answer (sent after its
commit) to the webhook's arrival, matched by execution id. The token is
WRK_TOKEN from the environment. Prints one JSON object: n, received,
duplicates, p50_ms, p95_ms, max_ms. The rule is deleted at the end."""
import json
import os
import ssl
import sys
import threading
import time
import urllib.request
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main(argv):
    if len(argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    base, ca, project, workflow, n = argv[0], argv[1], argv[2], argv[3], int(argv[4])
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    token = os.environ["WRK_TOKEN"]
    arrived, seen, lock = {}, {}, threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            t = time.monotonic()
            ex = json.loads(body).get("execution_id")
            with lock:
                seen[ex] = seen.get(ex, 0) + 1
                arrived.setdefault(ex, t)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def call(method, path, body=None):
        req = urllib.request.Request(base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            raw = r.read()
            return json.loads(raw) if raw else None

    rule = call("POST", f"/api/projects/{project}/alert-rules", {
        "name": "bench latency", "kind": "execution_failed", "workflow_id": workflow, "cooldown_minutes": 0,
        "channels": [{"url": f"http://127.0.0.1:{server.server_address[1]}/hook", "secret": "bench"}]})
    sent = {}
    try:
        for i in range(n):
            now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
            ex = call("POST", "/api/executions/ingest", {
                "workflow_id": workflow, "session_id": f"alert-bench-{i}", "status": "error",
                "started_at": now, "error": {"message": "bench"}})["execution_id"]
            sent[ex] = time.monotonic()
            time.sleep(0.2)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(arrived) < n:
            time.sleep(0.1)
    finally:
        call("DELETE", f"/api/alert-rules/{rule['id']}")
        server.shutdown()
    lat = sorted(1000 * (arrived[e] - t) for e, t in sent.items() if e in arrived)
    pick = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 1) if lat else None
    print(json.dumps({"n": n, "received": len(lat), "duplicates": sum(v - 1 for v in seen.values()),
                      "p50_ms": pick(0.5), "p95_ms": pick(0.95), "max_ms": round(lat[-1], 1) if lat else None}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
