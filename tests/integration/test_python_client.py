"""The Python client (clients/python, package agora_cloud) against the real
stack: installed with pip from the source tree without the network, the
seed document's "Data Flow Example" run as written (only its imports and
placeholders replaced) with api_url as the site URL and as the API base,
TLS verified against the stack's certificate, a node that raises, a live
run watched through the read API and a live subscription, refused
credentials and refused payloads, and the spool: the stack stopped, the run
spooled, the stack back, the spool drained, the execution stored exactly
once (and a resent spool file replayed, not stored again).

The client's unit tests are in clients/python/tests (unittest)."""

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

from conftest import ROOT, start_stack, wait_for
from live_clients import SSEClient, tls_context

CLIENT = os.path.join(ROOT, "clients", "python")
sys.path.insert(0, os.path.join(CLIENT, "src"))

import agora_cloud  # noqa: E402
from agora_cloud import AuditedFlow, AuditedNode, CloudAuditLogger  # noqa: E402

# The client's unit-test helpers (waiting_flow), under a name of their own.
_spec = importlib.util.spec_from_file_location("client_test_support", os.path.join(CLIENT, "tests", "support.py"))
client_test_support = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(client_test_support)

# The seed document's "Data Flow Example", as it stands there. The tests
# replace its two import lines and its three placeholders, nothing else.
SEED_EXAMPLE = '''\
from agora.telemetry import AuditedNode, AuditedFlow
from agora.cloud_client import CloudAuditLogger

logger = CloudAuditLogger(
    session_id="test-123",
    api_url="http://localhost:8000",
    access_token="your-jwt-token",
    workflow_id="workflow-uuid"
)

class MyNode(AuditedNode):
    def exec(self, prep_res):
        return "processed"

node = MyNode("processor", logger)
flow = AuditedFlow("MyFlow", logger)
flow.start(node)
flow.run({})

logger.mark_complete(status="success")
logger.upload()  # \u2190 Magic happens here!
'''
SEED_IMPORTS = ("from agora.telemetry import AuditedNode, AuditedFlow\n"
                "from agora.cloud_client import CloudAuditLogger\n")


def seed_script(api_url, token, workflow_id):
    script = SEED_EXAMPLE.replace(SEED_IMPORTS, "from agora_cloud import CloudAuditLogger, AuditedNode, AuditedFlow\n")
    for placeholder, value in (('"http://localhost:8000"', api_url), ('"your-jwt-token"', token),
                               ('"workflow-uuid"', workflow_id)):
        assert placeholder in script
        script = script.replace(placeholder, json.dumps(value))
    return script


def tmpdir(prefix):
    path = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(path, 0o755)
    return path


@pytest.fixture(scope="module")
def client_python():
    """A virtualenv's python with agora_cloud installed by
    `pip install ./clients/python`, the index turned off (no network)."""
    env_dir = tmpdir("agora-py-venv-")
    try:
        r = subprocess.run([sys.executable, "-m", "venv", env_dir], capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            pytest.skip(f"python3 -m venv is not available here (Debian: python3-venv): {r.stderr.strip()}")
        python = os.path.join(env_dir, "bin", "python")
        r = subprocess.run([python, "-m", "pip", "install", "--no-index", "--no-cache-dir", CLIENT],
                           capture_output=True, text=True, timeout=300, cwd="/")
        assert r.returncode == 0, f"pip install ./clients/python failed:\n{r.stdout}\n{r.stderr}"
        yield python
    finally:
        shutil.rmtree(env_dir, ignore_errors=True)


class Tenant:
    """An owner with an organization, a project, an API key of it and a
    workflow with the seed's node, "processor"."""

    def __init__(self, stack):
        self.stack = stack
        self.owner = stack.new_user()
        self.token = stack.token(self.owner)
        self.org = self.created("/api/organizations", {"name": "Python client"})["id"]
        self.project = self.created("/api/projects", {"organization_id": self.org, "name": "py"})["id"]
        self.key = self.created(f"/api/projects/{self.project}/api-keys", None)["key"]

    def created(self, path, body):
        r = self.stack.request("POST", path, token=self.token, body=body)
        assert r.status == 201, r
        return r.json()

    def workflow(self):
        """A new workflow with a node "processor"; returns (id, {name: node id})."""
        wf = self.created("/api/workflows", {"project_id": self.project, "name": "wf-" + uuid.uuid4().hex,
                                             "nodes": [{"name": "processor", "type": "MyNode"}], "edges": []})
        return wf["id"], {n["name"]: n["id"] for n in wf["nodes"]}

    def get(self, path):
        r = self.stack.request("GET", path, token=self.token)
        assert r.status == 200, r
        return r.json()

    def executions(self, workflow_id, session_id):
        return self.get(f"/api/executions?workflow_id={workflow_id}&session_id={session_id}")["items"]

    def items(self, execution_id, kind):
        return self.get(f"/api/executions/{execution_id}/{kind}")["items"]


@pytest.fixture(scope="module")
def tenant(stack):
    return Tenant(stack)


@pytest.fixture
def spool():
    path = tmpdir("agora-py-spool-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def spooled(path, sub=""):
    d = os.path.join(path, sub)
    return sorted(f for f in os.listdir(d) if f.endswith(".json")) if os.path.isdir(d) else []


def site(stack):
    """The site URL as ./run.sh prints it, on the stack's port."""
    return f"https://localhost:{stack.https_port}/"


def run_script(python, script, stack, spool_dir, trust=True):
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    env["AGORA_SPOOL_DIR"] = spool_dir
    if trust:
        env["SSL_CERT_FILE"] = stack.ca
    return subprocess.run([python, "-c", script], capture_output=True, text=True, timeout=120, env=env, cwd="/")


def logger_for(stack, tenant, workflow_id, spool_dir, **kw):
    kw.setdefault("auto_upload", False)
    kw.setdefault("api_key", tenant.key)
    return CloudAuditLogger(f"py-{uuid.uuid4().hex[:8]}", site(stack), workflow_id=workflow_id,
                            spool_dir=spool_dir, ca_file=stack.ca, **kw)


class Step(AuditedNode):
    """Adds its name to shared["path"]."""

    def post(self, shared, prep_res, exec_res):
        shared.setdefault("path", []).append(self.name)


def three_steps(logger):
    a, b, c = Step("a", logger), Step("b", logger), Step("c", logger)
    a >> b >> c
    return AuditedFlow("three", logger, start=a)


# ---------------------------------------------------------------- the seed example


@pytest.mark.parametrize("api_url", ["site", "api"])
def test_the_seed_example_runs_as_written_and_shows_up_in_the_viewer(stack, tenant, client_python, spool, api_url):
    wf, nodes = tenant.workflow()
    url = site(stack) if api_url == "site" else f"https://localhost:{stack.https_port}/api"
    r = run_script(client_python, seed_script(url, tenant.token, wf), stack, spool)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert spooled(spool) == []

    # What the viewer reads: the list, the timeline, spans, events, state.
    (ex,) = tenant.executions(wf, "test-123")
    assert ex["status"] == "success" and ex["completed_at"] is not None and ex["stale"] is False
    assert ex["metadata"]["agora_client"]["name"] == "agora-cloud-python"
    assert ex["counts"] == {"node_executions": 1, "telemetry_spans": 5, "telemetry_events": 4,
                            "shared_state_snapshots": 2}
    (ne,) = tenant.get(f"/api/executions/{ex['id']}/timeline")["node_executions"]
    assert (ne["node_name"], ne["node_type"], ne["status"], ne["action"]) == ("processor", "MyNode", "success",
                                                                              "default")
    assert ne["node_id"] == nodes["processor"]  # the workflow's node, found by name
    assert uuid.UUID(ne["client_id"])
    assert all(ne[f"{p}_duration_ms"] is not None for p in ("prep", "exec", "post"))
    spans = {s["name"]: s for s in tenant.items(ex["id"], "telemetry-spans")}
    assert set(spans) == {"MyFlow", "processor", "processor.prep", "processor.exec", "processor.post"}
    assert spans["processor.exec"]["parent_span_id"] == spans["processor"]["span_id"]
    assert len({s["trace_id"] for s in spans.values()}) == 1
    assert [e["event_type"] for e in tenant.items(ex["id"], "telemetry-events")] == \
        ["flow_start", "node_start", "node_success", "flow_end"]
    assert [(s["phase"], s["state"]) for s in tenant.items(ex["id"], "state-snapshots")] == \
        [("before", {}), ("after", {})]


def test_tls_is_verified_and_an_untrusted_server_gets_nothing(stack, tenant, client_python, spool):
    wf, _ = tenant.workflow()
    r = run_script(client_python, seed_script(site(stack), tenant.token, wf), stack, spool, trust=False)
    assert r.returncode == 0, r.stderr
    assert "certificate is not trusted" in r.stderr and "ca_file" in r.stderr
    assert len(spooled(spool)) == 1
    assert tenant.executions(wf, "test-123") == []

    # A client that trusts the certificate delivers the spooled run.
    lg = logger_for(stack, tenant, wf, spool, access_token=None)
    lg.upload()
    assert spooled(spool) == []
    (ex,) = tenant.executions(wf, "test-123")
    assert ex["status"] == "success"


# ---------------------------------------------------------------- errors


def test_a_node_that_raises_is_recorded_and_its_exception_propagates_unchanged(stack, tenant, spool):
    wf, _ = tenant.workflow()
    lg = logger_for(stack, tenant, wf, spool)
    failure = ValueError("the workflow's own error")

    class Fails(AuditedNode):
        def exec(self, prep_res):
            raise failure

    first = Step("first", lg)
    first >> Fails("fails", lg, max_retries=2)
    with pytest.raises(ValueError) as caught:
        AuditedFlow("failing", lg, start=first).run({})
    assert caught.value is failure
    lg.mark_complete("error", error=caught.value)
    assert lg.upload() == lg.execution_id

    ex = tenant.get(f"/api/executions/{lg.execution_id}")
    assert ex["status"] == "error"
    assert ex["error"] == {"type": "ValueError", "message": "the workflow's own error"}
    nes = tenant.get(f"/api/executions/{lg.execution_id}/timeline")["node_executions"]
    assert [(n["node_name"], n["status"]) for n in nes] == [("first", "success"), ("fails", "error")]
    assert nes[1]["error"] == {"type": "ValueError", "message": "the workflow's own error", "phase": "exec"}
    assert nes[1]["retry_count"] == 1
    types = [e["event_type"] for e in tenant.items(lg.execution_id, "telemetry-events")]
    assert "node_retry" in types and "node_error" in types and "flow_error" in types
    spans = {s["name"]: s for s in tenant.items(lg.execution_id, "telemetry-spans")}
    assert spans["fails"]["status"] == "error" and spans["fails.exec"]["status"] == "error"


def test_a_workflow_killed_by_its_exception_is_delivered_at_exit(stack, tenant, client_python, spool):
    wf, _ = tenant.workflow()
    script = seed_script(site(stack), tenant.token, wf).replace('return "processed"', 'raise KeyError("lost")')
    r = run_script(client_python, script, stack, spool)
    assert r.returncode == 1
    assert r.stderr.rstrip().endswith("KeyError: 'lost'")
    (ex,) = tenant.executions(wf, "test-123")
    assert ex["status"] == "error" and ex["error"] == {"type": "KeyError", "message": "'lost'"}


def test_a_refused_credential_is_said_clearly_and_the_run_kept(stack, tenant, spool, caplog):
    wf, _ = tenant.workflow()
    lg = logger_for(stack, tenant, wf, spool, api_key=None, access_token="not-a-token")
    three_steps(lg).run({})
    lg.mark_complete("success")
    with caplog.at_level(logging.ERROR, "agora_cloud"):
        assert lg.upload() is None
    assert "401 unauthorized" in caplog.text and "refused" in caplog.text
    assert len(spooled(spool)) == 1
    assert tenant.executions(wf, lg.session_id) == []

    # With a credential that works, the kept run arrives.
    logger_for(stack, tenant, wf, spool).upload()
    assert spooled(spool) == []
    (ex,) = tenant.executions(wf, lg.session_id)
    assert ex["counts"]["node_executions"] == 3


def test_a_viewer_is_told_it_may_not_ingest(stack, tenant, spool, caplog):
    wf, _ = tenant.workflow()
    viewer = stack.new_user()
    tenant.created(f"/api/organizations/{tenant.org}/members", {"user_id": viewer, "role": "viewer"})
    lg = logger_for(stack, tenant, wf, spool, api_key=None, access_token=stack.token(viewer))
    three_steps(lg).run({})
    with caplog.at_level(logging.ERROR, "agora_cloud"):
        lg.mark_complete("success")
        assert lg.upload() is None
    assert "403 forbidden" in caplog.text
    assert len(spooled(spool)) == 1


def test_a_payload_the_server_refuses_is_logged_with_its_path_and_kept_aside(stack, tenant, spool, caplog):
    wf, _ = tenant.workflow()
    other_wf, other_nodes = tenant.workflow()
    lg = logger_for(stack, tenant, wf, spool)
    lg.set_node_id_mapping("a", other_nodes["processor"])  # a node of another workflow
    three_steps(lg).run({})
    lg.mark_complete("success")
    with caplog.at_level(logging.ERROR, "agora_cloud"):
        assert lg.upload() is None
    assert "422 validation_failed at node_executions[0].node_id" in caplog.text
    assert spooled(spool) == [] and len(spooled(spool, "rejected")) == 1
    assert tenant.executions(wf, lg.session_id) == []


# ---------------------------------------------------------------- the spool


def test_stack_stopped_run_spooled_stack_back_spool_drained_exactly_once(stack, tenant, spool, caplog):
    wf, _ = tenant.workflow()
    lg = logger_for(stack, tenant, wf, spool)
    three_steps(lg).run({"start": True})
    r = stack.run_sh("stop")
    assert r.returncode == 0, r.stderr
    try:
        lg.log_event("while_stopped")
        lg.mark_complete("success")
        with caplog.at_level(logging.WARNING, "agora_cloud"):
            assert lg.upload() is None
        assert "not delivered" in caplog.text and "Connection refused" in caplog.text
        (name,) = spooled(spool)
        with open(os.path.join(spool, name), "rb") as f:
            body = f.read()
    finally:
        start_stack(stack)

    # The next upload drains the spool.
    assert lg.upload() == lg.execution_id
    assert spooled(spool) == []
    (ex,) = tenant.executions(wf, lg.session_id)
    assert ex["id"] == lg.execution_id and ex["status"] == "success"
    assert ex["counts"] == {"node_executions": 3, "telemetry_spans": 13, "telemetry_events": 11,
                            "shared_state_snapshots": 6}

    # The spooled file sent again, as agora-upload would after a lost
    # answer: same bytes, same key, the first answer replayed.
    r = stack.request("POST", "/api/executions/ingest", token=tenant.key, body=body,
                      headers={"Content-Type": "application/json",
                               "Idempotency-Key": hashlib.sha256(body).hexdigest()})
    assert r.status == 201 and r.headers.get("Idempotent-Replayed") == "true", r
    assert r.json()["execution_id"] == lg.execution_id
    assert tenant.executions(wf, lg.session_id)[0]["counts"] == ex["counts"]


# ---------------------------------------------------------------- live runs


def next_message(sub, pred, timeout=20):
    """The first live message within timeout for which pred holds (the
    messages before it are skipped); None when none came."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = sub.next_event(max(0.1, deadline - time.monotonic()))
        if event is not None and pred(event.json()):
            return event.json()
    return None


def test_a_live_run_shows_each_node_while_it_runs(stack, tenant, spool):
    wf, _ = tenant.workflow()
    lg = logger_for(stack, tenant, wf, spool, live=True, live_interval=0.02)
    try:
        assert wait_for(lambda: stack.request("GET", f"/api/executions/{lg.execution_id}",
                                              token=tenant.token).status == 200, timeout=20)
        assert tenant.get(f"/api/executions/{lg.execution_id}")["status"] == "running"

        # A live subscription (docs/LIVE.md) sees the node start, then end.
        ticket = tenant.created("/api/live/tickets", {"execution_id": lg.execution_id})
        sub = SSEClient(stack.https_port, tls_context(stack.ca), ticket["path"])
        assert sub.status == 200, sub.body
        try:
            release, runner = client_test_support.waiting_flow(lg)
            started = next_message(sub, lambda m: any(n["status"] == "running"
                                                      for n in m.get("node_executions", [])))
            assert started is not None
            (ne,) = tenant.get(f"/api/executions/{lg.execution_id}/timeline")["node_executions"]
            assert ne["status"] == "running" and ne["completed_at"] is None
            release.set()
            runner.join(30)
            lg.mark_complete("success")
            assert lg.upload() == lg.execution_id
            ended = next_message(sub, lambda m: m["execution"]["status"] == "success")
            assert ended is not None and ended["seq"] > started["seq"]
        finally:
            sub.close()
    finally:
        lg._stop_live()

    (ne,) = tenant.get(f"/api/executions/{lg.execution_id}/timeline")["node_executions"]
    assert ne["status"] == "success" and ne["completed_at"] is not None
    assert started["node_executions"][0]["client_id"] == ne["client_id"]
    assert spooled(spool) == []


def test_the_client_is_the_installed_package_version(client_python):
    r = subprocess.run([client_python, "-c", "import agora_cloud; print(agora_cloud.__version__)"],
                       capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == agora_cloud.__version__
