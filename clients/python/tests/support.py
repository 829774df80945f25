"""What the unit tests share: the package on sys.path (the tests run from
the source tree, ``python3 -m unittest discover clients/python/tests``), a
stand-in for the ingest route, and temporary directories.

waiting_flow() serves the live tests here and in the integration tests.

The stand-in (FakeIngest) is an HTTP/1.1 server on 127.0.0.1 that records
every request and answers what a test queued, by default 201 with the
body's execution_id. Like the real server it replays the first successful
answer for an Idempotency-Key it has seen, so tests can count what would
have been stored. The integration tests (tests/integration/
test_python_client.py) check the same client against the real stack.
"""

import http.server
import json
import os
import shutil
import socket
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))

WORKFLOW_ID = "0f2d6c52-54a5-4c1e-9d7e-3c3b1f0a9e11"


def tempdir(test):
    """A fresh directory removed when the test ends."""
    path = tempfile.mkdtemp(prefix="agora-py-")
    os.chmod(path, 0o755)
    test.addCleanup(shutil.rmtree, path, True)
    return path


class FakeIngest:
    """Stands in for POST /api/executions/ingest (see the module's
    docstring). answers: a list of (status, body dict or None) used one per
    request before the default answer. drop_connections: close each
    connection after its answer without saying so (as a server ending an
    idle kept-alive connection does)."""

    def __init__(self):
        self.requests = []
        self.answers = []
        self.stored = {}
        self.drop_connections = False
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                # Headers and body go out in two writes: without this, Nagle
                # and the client's delayed ACK cost 40 ms a request.
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, answer, headers = outer._answer(self.path, dict(self.headers), body)
                data = json.dumps(answer).encode() if answer is not None else b""
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                if outer.drop_connections:
                    self.close_connection = True

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def _answer(self, path, headers, body):
        with self.lock:
            self.requests.append({"path": path, "headers": headers, "body": body})
            key = headers.get("Idempotency-Key")
            if key in self.stored:
                return self.stored[key][0], self.stored[key][1], {"Idempotent-Replayed": "true"}
            if self.answers:
                status, answer = self.answers.pop(0)
            else:
                doc = json.loads(body)
                status, answer = 201, {"execution_id": doc.get("execution_id"), "status": doc.get("status"),
                                       "counts": {}}
            if status in (200, 201):
                self.stored[key] = (status, answer)
            return status, answer, {}

    def bodies(self):
        """The JSON documents of the requests, in order."""
        return [json.loads(r["body"]) for r in self.requests]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def fake_ingest(test):
    """A FakeIngest stopped when the test ends."""
    server = FakeIngest()
    test.addCleanup(server.stop)
    return server


def waiting_flow(logger, name="waits"):
    """Starts, in a thread, an AuditedFlow of one node that waits in exec
    until released (30 s at most), so a test can look at a run while a
    node runs. Returns (release: threading.Event, the thread)."""
    from agora_cloud import AuditedFlow, AuditedNode

    release = threading.Event()

    class Waits(AuditedNode):
        def exec(self, prep_res):
            release.wait(30)

    runner = threading.Thread(target=AuditedFlow("live", logger, start=Waits(name, logger)).run, args=({},))
    runner.start()
    return release, runner


def closed_port():
    """A local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
