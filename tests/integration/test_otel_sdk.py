"""The official OpenTelemetry JS SDK against the stack, unmodified
(README "OpenTelemetry"): tests/otel/emit.mjs traces one agent run with
BasicTracerProvider, BatchSpanProcessor and the OTLP/HTTP exporter, JSON or
protobuf, in four batches with the root last, told where to send only by
the environment an operator would set (OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_PROTOCOL,
NODE_EXTRA_CA_CERTS); then the API must show the run: the execution, its
node executions, spans and their parents, events, usage and cost. And the
SDK's own protobuf serialization of the trace, posted by curl.

The packages come from package.json's devDependencies (npm ci, as test.sh
and run.sh do)."""
import json
import os
import subprocess
import uuid
from decimal import Decimal

import pytest

from conftest import ROOT
from otlp_bodies import execution_id
from test_otlp_ingest import GPT_4O, PROTO, Org, cost

EMIT = os.path.join(ROOT, "tests", "otel", "emit.mjs")

# What emit.mjs sends (its header comment).
NODES = {"researcher": "agent", "chat gpt-4o": "llm", "web_search": "tool", "retrieve docs": "retriever",
         "summarize": "Summarizer"}
SPANS = {"agent run", "invoke_agent researcher", "chat gpt-4o", "search", "GET", "retrieve docs", "summarize"}
EVENTS = {"run.started", "exception", "gen_ai.user.message", "gen_ai.choice"}
INPUT, OUTPUT = 1500 + 800, 400 + 200


@pytest.fixture(scope="module")
def org(stack):
    if not os.path.isdir(os.path.join(ROOT, "node_modules", "@opentelemetry", "sdk-trace-base")):
        pytest.fail("node_modules lacks the OpenTelemetry SDK: run npm ci (package.json's devDependencies)")
    return Org(stack)


def sdk_env(org, protocol, endpoint):
    """The environment of an application exporting to this stack."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update({
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Bearer {org.key}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
        "NODE_EXTRA_CA_CERTS": org.stack.ca,
    })
    return env


def emit(env, *args, hold=None):
    """Runs emit.mjs; returns its last JSON line. hold: a function called
    while the script waits before its root span (--hold)."""
    cmd = ["node", EMIT, *args] + (["--hold"] if hold else [])
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        if hold:
            held = json.loads(p.stdout.readline() or "{}")
            assert held.get("held"), f"emit.mjs did not hold: {p.stderr.read() if p.poll() is not None else ''}"
            assert all(r["code"] == 0 for r in held["results"]), held
            hold(held["trace_id"])
            p.stdin.write("go\n")
            p.stdin.flush()
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, f"emit.mjs exited {p.returncode}: {out}\n{err}"
    return json.loads(out.strip().splitlines()[-1])


def workflow_named(org, name):
    [wf] = [w for w in org.must("GET", f"/api/workflows?project_id={org.project}")["items"] if w["name"] == name]
    return wf["id"]


def check_run(org, workflow, sent, session):
    """The API shows the run emit.mjs sent (sent: its output)."""
    trace = sent["trace_id"]
    ex = execution_id(workflow, trace)
    e = org.execution(ex)
    assert e["workflow_id"] == workflow and e["status"] == "success" and e["error"] is None
    assert e["session_id"] == session
    assert e["completed_at"] is not None and e["duration_ms"] >= 50  # the sleeps between the spans
    assert e["metadata"]["source"] == "otlp" and e["metadata"]["trace_id"] == trace
    assert e["metadata"]["resource"]["telemetry.sdk.language"] == "nodejs"
    assert e["counts"] == {"node_executions": 5, "telemetry_spans": 7, "telemetry_events": 4,
                           "shared_state_snapshots": 0}
    assert e["usage"] == {"input_tokens": INPUT, "output_tokens": OUTPUT, "cost_usd": cost(INPUT, OUTPUT, GPT_4O),
                          "cost_complete": True}

    spans = {s["name"]: s for s in org.spans(ex)}
    assert set(spans) == SPANS
    for name, ids in sent["spans"].items():
        assert (spans[name]["span_id"], spans[name]["parent_span_id"]) == (ids["span_id"], ids["parent_span_id"])
        assert spans[name]["trace_id"] == trace
    assert spans["GET"]["node_name"] == "web_search" and spans["GET"]["kind"] == "client"
    assert spans["search"]["status"] == "error" and spans["agent run"]["status"] == "ok"
    assert spans["chat gpt-4o"]["attributes"]["gen_ai.response.finish_reasons"] == ["stop"]

    nodes = {n["node_name"]: n for n in org.nodes(ex)}
    assert {k: n["node_type"] for k, n in nodes.items()} == NODES
    assert nodes["web_search"]["status"] == "error"
    assert nodes["web_search"]["error"] == {"message": "search backend rate limited"}
    assert all(n["status"] == "success" for k, n in nodes.items() if k != "web_search")
    chat = nodes["chat gpt-4o"]
    assert (chat["input_tokens"], chat["output_tokens"], chat["model"], chat["provider"]) == \
        (1500, 400, "gpt-4o", "openai")
    assert Decimal(str(chat["cost_usd"])) == cost(1500, 400, GPT_4O)
    assert Decimal(str(nodes["summarize"]["cost_usd"])) == cost(800, 200, GPT_4O)

    events = {v["event_type"]: v for v in org.events(ex)}
    assert set(events) == EVENTS
    assert events["exception"]["node_name"] == "web_search"
    assert events["exception"]["data"]["attributes"]["exception.message"] == "search backend rate limited"
    assert events["gen_ai.choice"]["data"]["span_id"] == sent["spans"]["chat gpt-4o"]["span_id"]
    return e


@pytest.mark.parametrize("protocol,prefix", [("http/protobuf", "/api/otlp"), ("http/json", "/api/otlp"),
                                             ("http/protobuf", ""), ("http/json", "")])
def test_the_sdks_exporter_sends_an_agent_run_the_api_shows(org, protocol, prefix):
    name = f"sdk-{uuid.uuid4().hex[:8]}"
    session = f"session-{uuid.uuid4().hex[:6]}"
    if prefix:  # a workflow of that name exists; the bare host's creates it
        org.must("POST", "/api/workflows", {"project_id": org.project, "name": name})
    env = sdk_env(org, protocol, org.stack.base + prefix)
    sent = emit(env, "--service", name, "--session", session)
    assert [r["spans"] for r in sent["results"]] == [2, 2, 2, 1]
    check_run(org, workflow_named(org, name), sent, session)


def test_the_run_stays_running_until_the_sdk_sends_its_root(org):
    name = f"sdk-{uuid.uuid4().hex[:8]}"
    seen = {}

    def while_held(trace):
        wf = workflow_named(org, name)
        seen["e"] = org.execution(execution_id(wf, trace))

    env = sdk_env(org, "http/protobuf", org.stack.base + "/api/otlp")
    sent = emit(env, "--service", name, "--session", "held", hold=while_held)
    e = seen["e"]
    assert e["status"] == "running" and e["completed_at"] is None
    assert e["counts"]["telemetry_spans"] == 6 and e["counts"]["node_executions"] == 5
    assert e["session_id"] == sent["trace_id"]  # only the root names the session
    assert check_run(org, workflow_named(org, name), sent, "held")["started_at"] < e["started_at"]


def test_the_sdks_protobuf_serialization_posted_with_curl(org, tmp_path):
    name = f"sdk-{uuid.uuid4().hex[:8]}"
    pb = tmp_path / "trace.pb"
    sent = emit(sdk_env(org, "http/protobuf", "https://unused.invalid"), "--service", name, "--session", "curl",
                "--out", str(pb))
    header = tmp_path / "auth"
    header.write_text(f"Authorization: Bearer {org.key}\n")
    header.chmod(0o600)
    for _ in range(2):  # a resend stores nothing twice
        r = subprocess.run(["curl", "-sS", "--cacert", org.stack.ca, "-o", str(tmp_path / "answer"),
                            "-w", "%{http_code} %{content_type}", "-H", f"@{header}",
                            "-H", f"Content-Type: {PROTO}", "--data-binary", f"@{pb}",
                            f"{org.stack.base}/v1/traces"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert r.stdout == f"200 {PROTO}" and (tmp_path / "answer").read_bytes() == b""
    check_run(org, workflow_named(org, name), sent, "curl")
