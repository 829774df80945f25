"""OpenTelemetry trace ingest end to end (README "OpenTelemetry"): OTLP/HTTP
exports, protobuf and JSON, plain or gzip, on POST /v1/traces and POST
/api/otlp/v1/traces, stored as executions (one per trace and workflow),
spans, events and node executions, with GenAI usage priced; the answers
OTLP expects (partial success, google.rpc.Status errors); resends and
batches in any order, a request mixing stored and new spans; every value
stored as sent, NULL where absent; tenant isolation."""
import json
import os
import time
import uuid
from decimal import Decimal

import pytest

from otlp_bodies import (compress, event, execution_id, partial_success_pb, resource, span, status_pb,
                         to_json, to_protobuf)

PATHS = ("/v1/traces", "/api/otlp/v1/traces")
PROTO = "application/x-protobuf"
GPT_4O = (Decimal("2.50"), Decimal("10.00"))  # sql/009's default, USD per million tokens
T0 = 1_748_779_200_000_000_000  # 2025-06-01T12:00:00Z in nanoseconds (sql/009's prices hold then)
MS = 1_000_000
# Text an array literal has to quote: the spans' columns reach PostgreSQL as
# typed arrays (domain/otlp_columns.h), and each must come back as sent.
AWKWARD = ['say "hi"', "back\\slash", "{braces}", "a,b", " padded ", "NULL", "null", "", "ünï 😀", "\\\"{,}\\"]


def trace_id():
    return uuid.uuid4().hex


def span_id():
    return os.urandom(8).hex()


class Org:
    """An owner with a fresh organization, project, workflow and API key."""

    def __init__(self, stack):
        self.stack = stack
        self.owner = stack.new_user()
        self.tok = stack.token(self.owner)
        self.org = self.must("POST", "/api/organizations", {"name": "OTel org"})["id"]
        self.project = self.must("POST", "/api/projects", {"organization_id": self.org, "name": "otel"})["id"]
        self.workflow = self.must("POST", "/api/workflows", {"project_id": self.project, "name": "agent"})["id"]
        self.key = self.must("POST", f"/api/projects/{self.project}/api-keys")["key"]

    def must(self, method, path, body=None):
        r = self.stack.request(method, path, token=self.tok, body=body)
        assert r.status in (200, 201), f"{method} {path}: {r.status} {r.body[:300]!r}"
        return json.loads(r.body, parse_float=Decimal)

    def export(self, resources, fmt="protobuf", path="/v1/traces", token=None, encoding=None, headers=None):
        body = to_protobuf(resources) if fmt == "protobuf" else to_json(resources)
        hdrs = {"Content-Type": PROTO if fmt == "protobuf" else "application/json"}
        if encoding:
            body = compress(body, encoding)
            hdrs["Content-Encoding"] = encoding
        hdrs.update(headers or {})
        return self.stack.request("POST", path, token=token or self.key, body=body, headers=hdrs)

    def execution(self, ex):
        return self.must("GET", f"/api/executions/{ex}")

    def spans(self, ex):
        return self.must("GET", f"/api/executions/{ex}/telemetry-spans")["items"]

    def events(self, ex):
        return self.must("GET", f"/api/executions/{ex}/telemetry-events")["items"]

    def nodes(self, ex):
        return self.must("GET", f"/api/executions/{ex}/timeline")["node_executions"]

    def here(self, **extra):
        return {"agora.workflow.id": self.workflow, "service.name": "agent-svc", **extra}

    def export_spans(self, spans, fmt="protobuf"):
        """One resource of the org's workflow; all of it must be stored.
        Returns the execution of the first span's trace."""
        r = self.export([resource(self.here(), spans)], fmt=fmt)
        assert r.status == 200 and r.body in (b"", b"{}"), r.body
        return execution_id(self.workflow, spans[0]["traceId"])

    def rows(self, sql):
        """The rows of a query as the cluster's superuser, one JSON object each."""
        return json.loads(self.stack.psql_admin(f"SELECT coalesce(json_agg(q), '[]') FROM ({sql}) q").strip())


@pytest.fixture(scope="module")
def org(stack):
    return Org(stack)


def agent_trace(trace, root_last=True):
    """An agent run: invoke_agent (root) -> chat (gpt-4o, usage) and
    execute_tool (an event), plus a plain HTTP span under the tool."""
    root, chat, tool, http = span_id(), span_id(), span_id(), span_id()
    spans = [
        span(trace, chat, "chat gpt-4o", T0 + 10 * MS, T0 + 900 * MS, parent=root,
             attrs={"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                    "gen_ai.provider.name": "openai", "gen_ai.usage.input_tokens": 1200,
                    "gen_ai.usage.output_tokens": 300, "gen_ai.conversation.id": "conv-7"}),
        span(trace, tool, "execute_tool search", T0 + 1000 * MS, T0 + 1500 * MS, parent=root,
             attrs={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"},
             events=[event("retry", T0 + 1100 * MS, {"attempt": 2})]),
        span(trace, http, "GET", T0 + 1050 * MS, T0 + 1400 * MS, parent=tool, kind=3,
             attrs={"http.request.method": "GET"}),
        span(trace, root, "invoke_agent planner", T0, T0 + 2000 * MS, status=1,
             attrs={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"}),
    ]
    return spans if root_last else spans[::-1]


def cost(tin, tout, price):
    return (tin * price[0] + tout * price[1]) / Decimal(1_000_000)


@pytest.mark.parametrize("fmt,path,encoding", [("protobuf", "/v1/traces", None),
                                               ("json", "/api/otlp/v1/traces", "gzip"),
                                               ("protobuf", "/api/otlp/v1/traces", "deflate")])
def test_an_export_becomes_an_execution_with_spans_events_nodes_and_usage(org, fmt, path, encoding):
    trace = trace_id()
    r = org.export([resource(org.here(), agent_trace(trace))], fmt=fmt, path=path, encoding=encoding)
    assert r.status == 200, r.body
    if fmt == "protobuf":
        assert r.headers["Content-Type"] == PROTO and r.body == b""
    else:
        assert r.headers["Content-Type"].startswith("application/json") and json.loads(r.body) == {}

    ex = execution_id(org.workflow, trace)
    e = org.execution(ex)
    assert e["workflow_id"] == org.workflow and e["project_id"] == org.project
    assert e["status"] == "success"
    assert e["started_at"] == "2025-06-01T12:00:00.000000Z"
    assert e["completed_at"] == "2025-06-01T12:00:02.000000Z"
    assert e["duration_ms"] == 2000
    assert e["session_id"] == "conv-7"
    assert e["metadata"]["source"] == "otlp" and e["metadata"]["trace_id"] == trace
    assert e["metadata"]["resource"]["service.name"] == "agent-svc"
    assert e["counts"] == {"node_executions": 3, "telemetry_spans": 4, "telemetry_events": 1,
                           "shared_state_snapshots": 0}
    assert e["usage"] == {"input_tokens": 1200, "output_tokens": 300, "cost_usd": cost(1200, 300, GPT_4O),
                          "cost_complete": True}

    spans = {s["name"]: s for s in org.spans(ex)}
    assert spans["GET"]["node_name"] == "search"  # the nearest node ancestor
    assert spans["GET"]["kind"] == "client" and spans["GET"]["trace_id"] == trace
    assert spans["invoke_agent planner"]["parent_span_id"] is None
    assert spans["chat gpt-4o"]["attributes"]["gen_ai.usage.input_tokens"] == 1200

    nodes = {n["node_name"]: n for n in org.nodes(ex)}
    assert set(nodes) == {"planner", "chat gpt-4o", "search"}
    assert nodes["planner"]["node_type"] == "agent" and nodes["search"]["node_type"] == "tool"
    chat = nodes["chat gpt-4o"]
    assert chat["node_type"] == "llm" and chat["status"] == "success"
    assert (chat["input_tokens"], chat["output_tokens"], chat["model"], chat["provider"]) == \
        (1200, 300, "gpt-4o", "openai")
    assert Decimal(str(chat["cost_usd"])) == cost(1200, 300, GPT_4O)
    assert chat["exec_duration_ms"] == 890

    [ev] = org.events(ex)
    assert ev["event_type"] == "retry" and ev["node_name"] == "search"
    assert ev["data"]["attributes"] == {"attempt": 2}

    wf = org.must("GET", f"/api/workflows/{org.workflow}")
    assert {"planner", "search", "chat gpt-4o"} <= {n["name"] for n in wf["nodes"]}


def test_a_resent_export_stores_nothing_twice(org):
    trace = trace_id()
    body = [resource(org.here(), agent_trace(trace))]
    for _ in range(3):
        assert org.export(body).status == 200
    ex = execution_id(org.workflow, trace)
    e = org.execution(ex)
    assert e["counts"]["telemetry_spans"] == 4 and e["counts"]["node_executions"] == 3
    assert e["counts"]["telemetry_events"] == 1
    assert e["usage"]["input_tokens"] == 1200
    assert len(org.spans(ex)) == 4 and len(org.nodes(ex)) == 3 and len(org.events(ex)) == 1


def test_batches_in_any_order_keep_the_execution_running_until_its_root_arrives(org):
    trace = trace_id()
    spans = agent_trace(trace)
    root = spans[-1]
    # The tool's child first, then the rest but the root, then the root.
    assert org.export([resource(org.here(), [spans[2]])], fmt="json").status == 200
    ex = execution_id(org.workflow, trace)
    e = org.execution(ex)
    assert e["status"] == "running"
    assert e["started_at"] == "2025-06-01T12:00:01.050000Z"  # the earliest span so far
    assert e["session_id"] == trace  # no session named yet
    assert org.export([resource(org.here(), spans[:2])]).status == 200
    e = org.execution(ex)
    assert e["status"] == "running" and e["completed_at"] is None
    assert e["started_at"] == "2025-06-01T12:00:00.010000Z"
    assert e["session_id"] == "conv-7"  # named by a later batch
    assert org.export([resource(org.here(), [root])]).status == 200
    e = org.execution(ex)
    assert e["status"] == "success" and e["started_at"] == "2025-06-01T12:00:00.000000Z"
    assert e["duration_ms"] == 2000
    assert e["counts"]["telemetry_spans"] == 4 and e["counts"]["node_executions"] == 3
    # The GET span came before its parent: no node of its own, none found then.
    assert {s["name"]: s["node_name"] for s in org.spans(ex)}["GET"] is None


def test_a_root_span_in_error_makes_an_error_execution(org):
    trace = trace_id()
    root = span(trace, span_id(), "job", T0, T0 + 5 * MS, status=2, message="boom",
                attrs={"agora.node.name": "job", "agora.node.type": "Batch"})
    assert org.export([resource(org.here(), [root])]).status == 200
    e = org.execution(execution_id(org.workflow, trace))
    assert e["status"] == "error" and e["error"] == {"message": "boom"}
    [n] = org.nodes(e["id"])
    assert (n["node_name"], n["node_type"], n["status"], n["error"]) == ("job", "Batch", "error", {"message": "boom"})


def test_a_span_with_a_bad_id_is_rejected_and_the_rest_stored(org):
    trace = trace_id()
    spans = agent_trace(trace)
    spans[2]["spanId"] = "abc"  # not 8 bytes
    r = org.export([resource(org.here(), spans)], fmt="json")
    assert r.status == 200
    ps = json.loads(r.body)["partialSuccess"]
    assert ps["rejectedSpans"] == "1" and "span" in ps["errorMessage"]
    assert org.execution(execution_id(org.workflow, trace))["counts"]["telemetry_spans"] == 3


def test_service_name_places_spans_in_a_workflow_of_the_keys_project_created_once(org):
    name = f"svc-{uuid.uuid4().hex[:8]}"
    traces = [trace_id(), trace_id()]
    for t in traces:
        r = org.export([resource({"service.name": name}, [span(t, span_id(), "root", T0, T0 + MS)])])
        assert r.status == 200 and r.body == b""
    wfs = [w for w in org.must("GET", f"/api/workflows?project_id={org.project}")["items"] if w["name"] == name]
    assert len(wfs) == 1
    for t in traces:
        assert org.execution(execution_id(wfs[0]["id"], t))["workflow_id"] == wfs[0]["id"]


def test_a_users_token_needs_a_project_or_workflow_attribute(org):
    trace = trace_id()
    one = [span(trace, span_id(), "root", T0, T0 + MS)]
    r = org.export([resource({"service.name": "by-user"}, one)], token=org.tok)
    assert r.status == 200
    rejected, message = partial_success_pb(r.body)
    assert rejected == 1 and "agora.project.id" in message
    r = org.export([resource({"service.name": "by-user", "agora.project.id": org.project}, one)], token=org.tok)
    assert r.status == 200 and r.body == b""


def test_a_viewer_cannot_ingest(org):
    viewer = org.stack.new_user()
    org.must("POST", f"/api/organizations/{org.org}/members", {"user_id": viewer, "role": "viewer"})
    trace = trace_id()
    r = org.export([resource(org.here(), [span(trace, span_id(), "root", T0, T0 + MS)])],
                   token=org.stack.token(viewer))
    assert r.status == 200
    rejected, message = partial_success_pb(r.body)
    assert rejected == 1 and "role" in message
    assert org.stack.request("GET", f"/api/executions/{execution_id(org.workflow, trace)}",
                             token=org.tok).status == 404


def test_another_orgs_key_cannot_write_into_a_workflow_it_cannot_see(org, stack):
    other = Org(stack)
    trace = trace_id()
    r = org.export([resource(org.here(), agent_trace(trace))], token=other.key)
    assert r.status == 200
    rejected, message = partial_success_pb(r.body)
    assert rejected == 4 and "no such workflow" in message
    assert stack.request("GET", f"/api/executions/{execution_id(org.workflow, trace)}", token=org.tok).status == 404
    assert stack.psql_admin(f"SELECT count(*) FROM agora.telemetry_spans WHERE trace_id = '{trace}'").strip() == "0"


def test_errors_are_otlp_statuses_in_the_requests_format(org):
    one = [resource(org.here(), [span(trace_id(), span_id(), "root", T0, T0 + MS)])]
    # 401: no credentials, or a wrong key.
    r = org.export(one, token="agk_nope")
    assert r.status == 401 and r.headers["Content-Type"] == PROTO
    assert status_pb(r.body)[0] == 16
    r = org.stack.request("POST", "/v1/traces", body=to_json(one), headers={"Content-Type": "application/json"})
    assert r.status == 401 and json.loads(r.body)["code"] == 16
    # 415: a media type or a coding we do not take.
    r = org.stack.request("POST", "/v1/traces", token=org.key, body=b"x", headers={"Content-Type": "text/plain"})
    assert r.status == 415 and json.loads(r.body)["code"] == 12
    r = org.export(one, headers={"Content-Encoding": "br"})
    assert r.status == 415 and status_pb(r.body)[0] == 12
    # 400: not an ExportTraceServiceRequest.
    r = org.stack.request("POST", "/api/otlp/v1/traces", token=org.key, body=b"\x0a\xff\xff",
                          headers={"Content-Type": PROTO})
    assert r.status == 400 and status_pb(r.body)[0] == 3
    r = org.stack.request("POST", "/v1/traces", token=org.key, body=b"{", headers={"Content-Type": "application/json"})
    assert r.status == 400 and json.loads(r.body)["code"] == 3
    # 413: a gzip bomb (2 MB of zeros, a ratio far beyond 100).
    r = org.stack.request("POST", "/v1/traces", token=org.key, body=compress(bytes(2 << 20), "gzip"),
                          headers={"Content-Type": PROTO, "Content-Encoding": "gzip"})
    assert r.status == 413 and status_pb(r.body)[0] == 8
    # 405 for other methods.
    assert org.stack.request("GET", "/v1/traces", token=org.key).status == 405


def test_the_database_down_is_a_503_with_retry_after_and_the_resend_stores_once(org, stack):
    trace = trace_id()
    body = [resource(org.here(), agent_trace(trace))]
    stack.pg_stop()
    try:
        r = org.export(body, token=org.tok)  # a JWT needs no database to authenticate
        assert r.status == 503 and r.headers["Retry-After"]
        assert status_pb(r.body)[0] == 14
        r = org.export(body, fmt="json")  # a key does: 503 all the same
        assert r.status == 503 and json.loads(r.body)["code"] == 14
    finally:
        stack.pg_start()
    stack.wait_healthy()
    deadline = time.monotonic() + 15
    while True:
        r = org.export(body)
        if r.status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert r.status == 200
    assert org.execution(execution_id(org.workflow, trace))["counts"]["telemetry_spans"] == 4


@pytest.mark.parametrize("fmt", ["protobuf", "json"])
def test_text_that_an_array_literal_quotes_is_stored_as_sent(org, fmt):
    trace = trace_id()
    root = span_id()
    spans = [span(trace, root, "root", T0, T0 + 10 * MS, status=1)]
    for i, text in enumerate(AWKWARD):
        spans.append(span(trace, span_id(), text, T0 + i * MS, T0 + (i + 1) * MS, parent=root, status=2,
                          message=text or "x",
                          attrs={"agora.node.name": f"n{i} {text}", "agora.node.type": text or "t",
                                 "gen_ai.request.model": text, "gen_ai.provider.name": text,
                                 "gen_ai.usage.input_tokens": 10 + i, "k": text},
                          events=[event(text or "e", T0 + i * MS + 1000, {"v": text})]))
    ex = org.export_spans(spans, fmt)
    got = {r["span_id"]: r for r in org.rows(
        f"SELECT span_id, name, node_name, attributes FROM agora.telemetry_spans WHERE execution_id = '{ex}'")}
    nodes = {r["node_name"]: r for r in org.rows(
        "SELECT node_name, node_type, error, model, provider, input_tokens, output_tokens"
        f" FROM agora.node_executions WHERE execution_id = '{ex}'")}
    events = org.rows(f"SELECT event_type, node_name, data FROM agora.telemetry_events WHERE execution_id = '{ex}'")
    assert len(got) == len(spans) and len(nodes) == len(AWKWARD) and len(events) == len(AWKWARD)
    for i, (s, text) in enumerate(zip(spans[1:], AWKWARD)):
        row = got[s["spanId"]]
        assert (row["name"], row["node_name"], row["attributes"]["k"]) == (text, f"n{i} {text}", text)
        n = nodes[f"n{i} {text}"]
        assert (n["node_type"], n["error"], n["model"], n["provider"]) == \
            (text or "t", {"message": text or "x"}, text or None, text or None)  # an empty model is none
        assert (n["input_tokens"], n["output_tokens"]) == (10 + i, None)
    assert sorted(e["event_type"] for e in events) == sorted(t or "e" for t in AWKWARD)
    for e in events:
        assert e["data"]["attributes"]["v"] in AWKWARD and e["node_name"].startswith("n")


def test_an_absent_value_is_null_in_every_optional_column(org):
    trace = trace_id()
    root, plain, node = span_id(), span_id(), span_id()
    spans = [
        # kind unspecified, no attributes, no events, status unset, no parent
        span(trace, root, "bare root", T0, T0 + 5 * MS, kind=0),
        span(trace, plain, "bare child", T0 + MS, T0 + 2 * MS, parent=root, kind=0),
        # a node without usage, and an event without a time or a name
        span(trace, node, "tool", T0 + 2 * MS, T0 + 4 * MS, parent=root,
             attrs={"agora.node.name": "tool"}, events=[event("", 0)]),
    ]
    ex = org.export_spans(spans)
    rows = {r["span_id"]: r for r in org.rows(
        "SELECT span_id, trace_id, parent_span_id, kind, status, attributes, node_name, duration_ms, start_time"
        f" FROM agora.telemetry_spans WHERE execution_id = '{ex}'")}
    assert rows[root] == {"span_id": root, "trace_id": trace, "parent_span_id": None, "kind": None,
                          "status": "unset", "attributes": {}, "node_name": None, "duration_ms": 5,
                          "start_time": "2025-06-01T12:00:00+00:00"}
    assert rows[plain]["parent_span_id"] == root and rows[plain]["kind"] is None
    assert rows[plain]["node_name"] is None
    assert rows[node]["kind"] == "internal" and rows[node]["node_name"] == "tool"
    [n] = org.rows("SELECT node_type, error, model, provider, input_tokens, output_tokens, cache_read_tokens,"
                   f" cache_creation_tokens, cost_usd, status FROM agora.node_executions WHERE execution_id = '{ex}'")
    assert n == {"node_type": "node", "error": None, "model": None, "provider": None, "input_tokens": None,
                 "output_tokens": None, "cache_read_tokens": None, "cache_creation_tokens": None,
                 "cost_usd": None, "status": "success"}
    [e] = org.rows(f"SELECT event_type, \"timestamp\", node_name, data FROM agora.telemetry_events"
                   f" WHERE execution_id = '{ex}'")
    assert e == {"event_type": "event", "timestamp": "2025-06-01T12:00:00.002+00:00", "node_name": "tool",
                 "data": {"span_id": node, "attributes": {}}}
    x = org.must("GET", f"/api/executions/{ex}")
    assert x["status"] == "success" and x["duration_ms"] == 5  # the root's, status unset
    assert x["counts"]["telemetry_spans"] == 3


def test_a_request_mixing_stored_and_new_spans_stores_the_new_ones_once(org):
    trace, other = trace_id(), trace_id()
    root, chat, tool, http = span_id(), span_id(), span_id(), span_id()
    usage = {"agora.node.name": "chat", "gen_ai.request.model": "gpt-4o", "gen_ai.provider.name": "openai",
             "gen_ai.usage.input_tokens": 1000, "gen_ai.usage.output_tokens": 100}
    all_spans = [
        span(trace, chat, "chat", T0 + MS, T0 + 3 * MS, parent=root, attrs=usage,
             events=[event("prompt", T0 + 2 * MS)]),
        span(trace, tool, "tool", T0 + 4 * MS, T0 + 6 * MS, parent=root, attrs={"agora.node.name": "tool"},
             events=[event("call", T0 + 5 * MS), event("done", T0 + 6 * MS)]),
        span(trace, http, "GET", T0 + 4 * MS, T0 + 5 * MS, parent=tool, events=[event("sent", T0 + 4 * MS)]),
        span(trace, root, "agent", T0, T0 + 10 * MS, status=1, attrs={"agora.node.name": "agent"}),
    ]
    ex = org.export_spans(all_spans[:2])
    first = org.must("GET", f"/api/executions/{ex}")
    assert first["status"] == "running"
    assert first["counts"]["telemetry_spans"] == 2 and first["counts"]["telemetry_events"] == 3
    # the same two again, the two new ones, and a new trace, in one request
    new_trace = [span(other, span_id(), "alone", T0, T0 + MS, status=1, events=[event("x", T0)])]
    org.export_spans(all_spans[::-1] + new_trace)
    e = org.must("GET", f"/api/executions/{ex}")
    assert e["counts"] == {"node_executions": 3, "telemetry_spans": 4, "telemetry_events": 4,
                           "shared_state_snapshots": 0}
    assert e["status"] == "success" and e["duration_ms"] == 10
    assert e["usage"] == {"input_tokens": 1000, "output_tokens": 100, "cost_usd": cost(1000, 100, GPT_4O),
                          "cost_complete": True}
    counted = org.rows(
        f"SELECT (SELECT count(*) FROM agora.telemetry_spans WHERE execution_id = '{ex}') AS spans,"
        f" (SELECT count(*) FROM agora.telemetry_events WHERE execution_id = '{ex}') AS events,"
        f" (SELECT count(*) FROM agora.node_executions WHERE execution_id = '{ex}') AS nodes")
    assert counted == [{"spans": 4, "events": 4, "nodes": 3}]
    n = org.must("GET", f"/api/executions/{execution_id(org.workflow, other)}")
    assert n["status"] == "success" and n["counts"]["telemetry_spans"] == 1
    assert n["counts"]["telemetry_events"] == 1
