#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz harnesses into OUT/<target>/.

    fuzz/make_seeds.py OUT [JSONTestSuite/test_parsing dir]

Seeds come from the project's tests and from nst/JSONTestSuite (shared
test data): every test_parsing file for the ingest harness, payloads that
pass and that fail each field rule, the timestamp unit tests' literals,
cursors in the server's own encoding, every route with ids and queries,
Authorization headers carrying real HS256 tokens (signed with the harness's
fixed secret) and well-formed API keys, and OTLP trace exports as an SDK
sends them (a GenAI trace and variations of it), in JSON and in protobuf
(written by otlp_proto() below from the same dicts). Nothing is fetched."""
import base64
import copy
import hashlib
import hmac
import json
import os
import re
import struct
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SECRET = b"fuzz-secret-0123456789abcdef-0123456789abcdef"  # fuzz_auth.c
NOW = 1700000000                                         # fuzz_auth.c
UID = "5e7a1c00-de00-4000-8000-000000000001"
WF = "0b8f7e3c-1d2a-4c5b-9e6f-7a8b9c0d1e2f"


def write(out, target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def payloads():
    ts = "2024-11-26T12:00:00"
    full = {
        "workflow_id": WF, "session_id": "test-123", "execution_id": UID, "status": "success",
        "started_at": ts, "completed_at": "2024-11-26T12:00:05Z", "duration_ms": 5000,
        "error": None, "metadata": {"k": [1, 2.5, "x", None, True]},
        "node_executions": [{"node_id": UID, "node_name": "processor", "node_type": "AuditedNode",
                             "status": "success", "started_at": ts, "completed_at": ts,
                             "prep_duration_ms": 1, "exec_duration_ms": 100.5, "post_duration_ms": 2,
                             "retry_count": 0, "action": "default", "error": {"type": "E"}}],
        "telemetry_events": [{"event_type": "node_start", "timestamp": "2024-11-26T12:00:00.001",
                              "node_name": "processor", "data": {}}],
        "telemetry_spans": [{"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7",
                             "parent_span_id": None, "name": "processor.exec", "kind": "internal",
                             "start_time": ts, "end_time": ts, "duration_ms": 100, "status": "ok",
                             "attributes": {"retries": 0}, "node_name": "processor"}],
        "shared_state_snapshots": [{"sequence": 0, "timestamp": ts, "node_name": "processor",
                                    "phase": "after", "state": {"result": "processed"}}],
    }
    yield "full", full
    yield "minimal", {"workflow_id": WF, "session_id": "s", "status": "running", "started_at": ts}
    bad = [
        ("status", "done"), ("started_at", "yesterday"), ("duration_ms", -1), ("duration_ms", 1e16),
        ("session_id", ""), ("session_id", "a\u0001b"), ("metadata", []), ("error", 5),
        ("node_executions", {}), ("telemetry_events", [1]), ("workflow_id", "not-a-uuid"),
    ]
    for i, (k, v) in enumerate(bad):
        p = dict(full)
        p[k] = v
        yield f"bad-{i}-{k}", p
    p = json.loads(json.dumps(full))
    p["node_executions"][0]["retry_count"] = 2 ** 31
    yield "bad-retry", p
    p = json.loads(json.dumps(full))
    p["telemetry_spans"][0]["span_id"] = "xyz"
    yield "bad-span", p
    p = json.loads(json.dumps(full))
    del p["shared_state_snapshots"][0]["state"]
    yield "bad-state", p


def ingest(out, suite, target="ingest"):
    n = 0
    if suite and os.path.isdir(suite):
        for name in sorted(os.listdir(suite)):
            with open(os.path.join(suite, name), "rb") as f:
                write(out, target, "jts-" + name, f.read())
            n += 1
    for name, p in payloads():
        write(out, target, name + ".json", json.dumps(p))
    # Raw texts the JSON encoder would never write.
    raw = [
        '{"workflow_id":"%s","session_id":"s\\u0000","status":"running","started_at":"2024-01-01T00:00:00Z"}' % WF,
        '{"a\\u0000b":1}', '{"x":1e-400}', '{"x":1e400}', '{"x":123456789012345678901234567890}',
        '{"x":"\\ud83d\\ude00"}', '{"x":"\\udc00"}', '{"a":1,"a":2}', '[' * 70 + ']' * 70,
        '{"metadata":' + '{"a":' * 63 + '1' + '}' * 64,
    ]
    for i, t in enumerate(raw):
        write(out, target, f"raw-{i}.json", t)
    return n


def json_tree(out, suite):
    """The JSON texts of the ingest seeds, and workflow and tenancy bodies."""
    ingest(out, suite, "json_tree")
    nodes = [{"name": "fetch", "type": "HttpNode"}, {"name": "parse"}, {"name": "st\u00f6re", "type": None}]
    edges = [{"from": "fetch", "to": "parse", "action": "default"}, {"from": "parse", "to": "st\u00f6re"}]
    bodies = [
        {"project_id": UID, "name": "pipeline", "description": "a\nb", "nodes": nodes, "edges": edges},
        {"project_id": UID, "name": "w", "junk": [{}, {}, [1e400]], "nodes": [{}, {"name": [{}]}]},
        {"project_id": UID, "name": "w", "nodes": [{"name": "a", "x": 1, "y": 2}], "edges": [[], {"to": "a"}]},
        {"name": "Acme", "extra": {"a": [1]}}, {"organization_id": UID, "name": "web"},
        {"user_id": UID, "role": "viewer"},
    ]
    for i, b in enumerate(bodies):
        write(out, "json_tree", f"body-{i}.json", json.dumps(b))


def timestamps(out):
    with open(os.path.join(ROOT, "tests", "unit", "test_timestamp.c"), encoding="utf-8") as f:
        lits = set(re.findall(r'"([0-9][^"\\]{3,40})"', f.read()))
    lits |= {"0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "2024-02-30T00:00:00Z",
             "2024-11-26T12:00:60Z", "2024-11-26T12:00:00+16:00", "2024-11-26T12:00:00.9999999Z",
             "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59.9999995Z"}
    for i, t in enumerate(sorted(lits)):
        write(out, "timestamp", f"ts-{i}", t)


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def cursors(out):
    texts = ["2:00000000:0:0", "2:9e3779b9:1732622400000000:" + UID, "2:ffffffff:-9223372036854775808:" + UID,
             "2:0123abcd:9223372036854775807:123", "2:00000000:-1:42", "1:0:0", "2:00000000:00:1",
             "2:00000000:-0:1", "2:00000000:5:", "2:0000000A:5:1"]
    for i, t in enumerate(texts):
        write(out, "cursor", f"c-{i}", b64url(t.encode()))
    write(out, "cursor", "pad", b64url(b"2:00000000:0:0") + "==")


def router(out):
    paths = ["/api/health", "/api/executions/ingest", "/api/executions", f"/api/executions/{UID}",
             f"/api/executions/{UID.upper()}/timeline", f"/api/executions/{UID}/telemetry-spans",
             f"/api/executions/{UID}/telemetry-events", f"/api/executions/{UID}/state-snapshots",
             "/api/workflows", f"/api/workflows/{UID}", "/api/organizations",
             f"/api/organizations/{UID}/members", "/api/projects", f"/api/projects/{UID}/api-keys",
             f"/api/api-keys/{UID}", f"/api/organizations/{UID}/model-prices",
             f"/api/organizations/{UID}/model-prices/gpt-4o", f"/api/organizations/{UID}/model-prices/a%2Fb%C3%A9",
             f"/api/organizations/{UID}/model-prices/a%2", "/api/%2e%2e/executions", "/api//executions", "/api/executions/",
             "/api/executions/%00", "/api/executions/..;/x", "//api/health", "api/health", "/"]
    queries = ["", "?limit=10", "?limit=abc&cursor=MTowOjA", f"?workflow_id={UID}&status=running",
               "?since=2024-11-26T12%3A00%3A00Z&until=2024-11-27T00:00:00Z", "?a=b", "?limit=1&limit=2",
               "?event_type=node%20start&node_name=p+q", "?cursor=%", "?cursor=%zz", "?x=%00", "?&&limit=",
               "?" + "&".join(f"limit{i}=1" for i in range(20))]
    i = 0
    for m in range(3):
        for p in paths:
            for q in queries[: 4 if m else len(queries)]:
                write(out, "router", f"r-{i}", bytes([m, i % 3]) + (p + q).encode())
                i += 1


def jwt(claims, header=None, key=SECRET):
    header = header or {"alg": "HS256", "typ": "JWT"}
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    c = b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(key, f"{h}.{c}".encode(), hashlib.sha256).digest()
    return f"{h}.{c}.{b64url(sig)}"


def auth(out):
    good = {"sub": UID, "exp": NOW + 3600, "iat": NOW, "aud": "authenticated",
            "iss": "https://issuer.example/auth/v1"}
    claim_sets = [good, {**good, "exp": NOW - 3600}, {**good, "nbf": NOW + 3600}, {**good, "sub": "x"},
                  {**good, "aud": ["a", "authenticated"]}, {**good, "exp": "soon"},
                  {k: v for k, v in good.items() if k != "exp"}, {**good, "sub": UID.upper()},
                  {**good, "exp": 2 ** 63 - 1}, {**good, "iat": -(2 ** 63)}]
    i = 0
    for cs in claim_sets:
        for mode in (0, 2):
            write(out, "auth", f"h-{i}", bytes([mode]) + ("Bearer " + jwt(cs)).encode())
            i += 1
        for mode in (1, 3):
            write(out, "auth", f"c-{i}", bytes([mode]) + json.dumps(cs).encode())
            i += 1
    extra = ["Bearer " + jwt(good, {"alg": "none"}), "Bearer " + jwt(good, {"alg": "HS512"}),
             "Bearer " + jwt(good, key=b"wrong"), "bearer   " + jwt(good) + "  ", "Basic dXNlcjpwYXNz",
             "Bearer agk_" + "0" * 32 + "a" * 64, "Bearer agk_" + "0" * 32 + "A" * 64, "Bearer agk_short",
             "Bearer a.b.c", "Bearer ..", "Bearer", "Bearer  ", "Bearer x y"]
    for t in extra:
        write(out, "auth", f"x-{i}", bytes([0]) + t.encode())
        i += 1


def live(out):
    uid = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    seeds = [(0, "/live/executions/" + uid), (0, "/live/projects/" + uid.upper()), (0, "/live/x/" + uid),
             (1, "1796407971:2"), (1, "0:0"), (1, "1:[2]"), (2, "0123456789abcdef" * 4), (2, "A" * 64),
             (3, "execution/" + uid + ' {"seq": 1}'), (3, "project/" + uid + " x"), (3, "execution/" + uid)]
    for i, (mode, text) in enumerate(seeds):
        write(out, "live", f"live-{i}", bytes([mode]) + text.encode())


def ingest_client(out):
    """fuzz_ingest_client.c: byte 0 the part, byte 1 the status's index."""
    ok = json.dumps({"execution_id": UID, "status": "success", "counts": {"node_executions": 1}})
    err = json.dumps({"error": {"code": "validation_failed", "message": "status must be one of",
                                "path": "node_executions[0].status", "request_id": "ab12"}})
    closed = json.dumps({"error": {"code": "conflict", "request_id": "ab12",
                                   "message": "the execution has a terminal status and is closed"}})
    seeds = [(0, 0, "120"), (0, 0, " 1 "), (0, 0, "Sun, 06 Nov 1994 08:49:37 GMT"),
             (0, 0, "Sunday, 06-Nov-94 08:49:37 GMT"), (0, 0, "Sun Nov  6 08:49:37 1994"),
             (0, 0, "Wed, 29 Feb 2028 23:59:60 GMT"), (0, 0, "99999999999999999999"),
             (1, 1, "HTTP/1.1 201 Created\r\nIdempotent-Replayed: true\r\nX-Request-Id: ab12\r\n\r\n" + ok),
             (1, 9, "HTTP/2 422\r\ncontent-type: application/json\r\n\r\n" + err),
             (1, 7, "HTTP/1.1 409 Conflict\r\n\r\n" + closed),
             (1, 13, "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\r\n<html></html>"),
             (1, 0, "HTTP/1.1 100 Continue\r\nRetry-After: 5\r\n\r\n"),
             (2, 0, json.dumps({"workflow_id": WF, "execution_id": UID.upper(), "status": "running"})),
             (2, 0, '{"execution\\u005fid":"a\\u0042c","execution_id":null}'),
             (3, 0, "https://agora.example.org"), (3, 0, "https://localhost:8443/api/"),
             (3, 0, "https://h/sub/api//"), (3, 0, "https://user:pw@h/api"), (3, 0, "http://h/api?x")]
    for i, (mode, status, text) in enumerate(seeds):
        write(out, "ingest_client", f"client-{i}", bytes([mode, status]) + text.encode())


def webhook(out):
    """fuzz_webhook.c: byte 0 the part (URL, URL with http, allowance, address)."""
    seeds = [(0, b"https://hooks.slack.com/services/T0/B0/xyz"), (0, b"https://[::ffff:127.0.0.1]:8443/h?x=1"),
             (0, b"https://0x7f.1/"), (0, b"https://user@h/"), (0, b"https://a-b.EXAMPLE.com:65535/p"),
             (1, b"http://127.0.0.1:9/hook"), (1, b"http://[fe80::1]/"),
             (2, b"loopback,private"), (2, b"link-local"), (2, b"public,"),
             (3, bytes([127, 0, 0, 1])), (3, bytes([169, 254, 169, 254])),
             (3, bytes([0] * 10 + [0xff, 0xff, 10, 0, 0, 1])), (3, bytes([0x20, 0x02, 192, 168, 1, 1] + [0] * 10))]
    for i, (mode, data) in enumerate(seeds):
        write(out, "webhook", f"webhook-{i}", bytes([mode]) + data)


# ---- OTLP ---------------------------------------------------------------

OTLP_TRACE = "5b8efff798038103d269b633813fc60c"


def otlp_kv(key, value):
    return {"key": key, "value": value}


def otlp_trace():
    """A chat service's trace as an OpenTelemetry SDK exports it: the HTTP
    server span, the OpenAI call (gen_ai.* attributes and events), and a
    failed tool call."""
    s = lambda v: {"stringValue": v}  # noqa: E731
    i = lambda v: {"intValue": str(v)}  # noqa: E731
    root, chat, tool = "eee19b7ec3c1b174", "eee19b7ec3c1b173", "e5d3a1b9c7f20486"
    t0 = 1731600000000000000
    choice = {"kvlistValue": {"values": [
        otlp_kv("role", s("assistant")),
        otlp_kv("tool_calls", {"arrayValue": {"values": [{"kvlistValue": {"values": [
            otlp_kv("id", s("call_8GpX2")), otlp_kv("type", s("function")),
            otlp_kv("function", {"kvlistValue": {"values": [
                otlp_kv("name", s("get_weather")), otlp_kv("arguments", s('{"city":"Paris"}'))]}})]}}]}})]}}
    spans = [
        {"traceId": OTLP_TRACE, "spanId": root, "parentSpanId": "", "flags": 257, "name": "POST /v1/chat",
         "kind": 2, "startTimeUnixNano": str(t0), "endTimeUnixNano": str(t0 + 2350000000),
         "attributes": [otlp_kv("http.request.method", s("POST")), otlp_kv("http.route", s("/v1/chat")),
                        otlp_kv("http.response.status_code", i(200))], "status": {}},
        {"traceId": OTLP_TRACE, "spanId": chat, "parentSpanId": root, "flags": 257, "name": "chat gpt-4o",
         "kind": 3, "startTimeUnixNano": str(t0 + 120000000), "endTimeUnixNano": str(t0 + 1980000000),
         "attributes": [otlp_kv("gen_ai.operation.name", s("chat")), otlp_kv("gen_ai.system", s("openai")),
                        otlp_kv("gen_ai.request.model", s("gpt-4o")),
                        otlp_kv("gen_ai.request.temperature", {"doubleValue": 0.2}),
                        otlp_kv("gen_ai.request.max_tokens", i(512)),
                        otlp_kv("gen_ai.response.model", s("gpt-4o-2024-08-06")),
                        otlp_kv("gen_ai.response.finish_reasons", {"arrayValue": {"values": [s("tool_calls")]}}),
                        otlp_kv("gen_ai.usage.input_tokens", i(1250)), otlp_kv("gen_ai.usage.output_tokens", i(87)),
                        otlp_kv("server.address", s("api.openai.com"))],
         "events": [{"timeUnixNano": str(t0 + 120000000), "name": "gen_ai.user.message",
                     "attributes": [otlp_kv("gen_ai.system", s("openai")),
                                    otlp_kv("content", s("What's the weather in Paris?"))]},
                    {"timeUnixNano": str(t0 + 1980000000), "name": "gen_ai.choice",
                     "attributes": [otlp_kv("index", i(0)), otlp_kv("finish_reason", s("tool_calls")),
                                    otlp_kv("message", choice)]}],
         "status": {"code": 1}},
        {"traceId": OTLP_TRACE, "spanId": tool, "parentSpanId": root, "flags": 257,
         "name": "execute_tool get_weather", "kind": 1, "startTimeUnixNano": str(t0 + 2000000000),
         "endTimeUnixNano": str(t0 + 2300000000),
         "attributes": [otlp_kv("gen_ai.operation.name", s("execute_tool")),
                        otlp_kv("gen_ai.tool.name", s("get_weather"))],
         "events": [{"timeUnixNano": str(t0 + 2300000000), "name": "exception",
                     "attributes": [otlp_kv("exception.type", s("TimeoutError")),
                                    otlp_kv("exception.message", s("weather API timed out")),
                                    otlp_kv("exception.escaped", {"boolValue": True})]}],
         "links": [{"traceId": OTLP_TRACE, "spanId": chat}],
         "status": {"code": 2, "message": "weather API timed out"}},
    ]
    resource = {"attributes": [otlp_kv("service.name", s("support-bot")),
                               otlp_kv("telemetry.sdk.language", s("python")),
                               otlp_kv("telemetry.sdk.name", s("opentelemetry"))]}
    return {"resourceSpans": [{"resource": resource, "schemaUrl": "https://opentelemetry.io/schemas/1.27.0",
                               "scopeSpans": [{"scope": {"name": "opentelemetry.instrumentation.openai_v2",
                                                         "version": "2.1b0"}, "spans": spans}]}]}


def otlp_variants():
    """(name, request dict) pairs: the trace, and what the decoders must
    tell apart: rejected spans, values of every type, nesting at the
    limit and past it, the mapping's other spellings."""
    base = otlp_trace()
    yield "trace", base
    yield "empty", {}
    spans = lambda r: r["resourceSpans"][0]["scopeSpans"][0]["spans"]  # noqa: E731
    for name, field, value in [("short-trace", "traceId", OTLP_TRACE[:30]), ("zero-span", "spanId", "0" * 16),
                               ("odd-parent", "parentSpanId", "eee19b"), ("end-first", "endTimeUnixNano", "1"),
                               ("no-start", "startTimeUnixNano", "0"), ("kind-9", "kind", 9)]:
        r = copy.deepcopy(base)
        spans(r)[1][field] = value
        yield name, r
    r = copy.deepcopy(base)
    spans(r)[0]["attributes"] = [
        otlp_kv("big", {"intValue": str(2 ** 53 + 1)}), otlp_kv("min", {"intValue": str(-2 ** 63)}),
        otlp_kv("nan", {"doubleValue": "NaN"}), otlp_kv("inf", {"doubleValue": "-Infinity"}),
        otlp_kv("bytes", {"bytesValue": "3q2+7w=="}), otlp_kv("empty", {}), otlp_kv("list", {"kvlistValue": {}}),
        otlp_kv("dup", {"stringValue": "a"}), otlp_kv("dup", {"stringValue": "b"}),
        otlp_kv("arr", {"arrayValue": {"values": [{"boolValue": False}, {}, {"doubleValue": -0.0}]}})]
    yield "values", r
    for depth in (32, 33):
        v = {"kvlistValue": {}}
        for _ in range(depth - 1):
            v = {"kvlistValue": {"values": [otlp_kv("k", v)]}}
        r = copy.deepcopy(base)
        spans(r)[2]["events"][0]["attributes"] = [otlp_kv("deep", v)]
        yield f"depth-{depth}", r
    r = copy.deepcopy(base)
    r["resourceSpans"].append(copy.deepcopy(r["resourceSpans"][0]))
    r["resourceSpans"][1]["resource"]["attributes"][0]["key"] = "service\u0000name"
    yield "two-resources", r


def otlp_snake(obj):
    """The same request with the proto's own field names."""
    if isinstance(obj, dict):
        return {re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), k): otlp_snake(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [otlp_snake(v) for v in obj]
    return obj


# Each message: OTLP/JSON key -> (field number, type, repeated).
OTLP_SCHEMA = {
    "request": {"resourceSpans": (1, "resourceSpans", True)},
    "resourceSpans": {"resource": (1, "resource", False), "scopeSpans": (2, "scopeSpans", True),
                      "schemaUrl": (3, "string", False)},
    "resource": {"attributes": (1, "kv", True), "droppedAttributesCount": (2, "uint", False)},
    "scopeSpans": {"scope": (1, "scope", False), "spans": (2, "span", True), "schemaUrl": (3, "string", False)},
    "scope": {"name": (1, "string", False), "version": (2, "string", False), "attributes": (3, "kv", True),
              "droppedAttributesCount": (4, "uint", False)},
    "span": {"traceId": (1, "hex", False), "spanId": (2, "hex", False), "traceState": (3, "string", False),
             "parentSpanId": (4, "hex", False), "flags": (16, "fixed32", False), "name": (5, "string", False),
             "kind": (6, "uint", False), "startTimeUnixNano": (7, "fixed64", False),
             "endTimeUnixNano": (8, "fixed64", False), "attributes": (9, "kv", True),
             "droppedAttributesCount": (10, "uint", False), "events": (11, "event", True),
             "droppedEventsCount": (12, "uint", False), "links": (13, "link", True),
             "droppedLinksCount": (14, "uint", False), "status": (15, "status", False)},
    "event": {"timeUnixNano": (1, "fixed64", False), "name": (2, "string", False), "attributes": (3, "kv", True),
              "droppedAttributesCount": (4, "uint", False)},
    "link": {"traceId": (1, "hex", False), "spanId": (2, "hex", False), "traceState": (3, "string", False),
             "attributes": (4, "kv", True), "droppedAttributesCount": (5, "uint", False),
             "flags": (6, "fixed32", False)},
    "status": {"message": (2, "string", False), "code": (3, "uint", False)},
    "kv": {"key": (1, "string", False), "value": (2, "any", False)},
    "any": {"stringValue": (1, "string", False), "boolValue": (2, "bool", False), "intValue": (3, "int64", False),
            "doubleValue": (4, "double", False), "arrayValue": (5, "array", False), "kvlistValue": (6, "kvlist", False),
            "bytesValue": (7, "b64", False)},
    "array": {"values": (1, "any", True)},
    "kvlist": {"values": (1, "kv", True)},
}


def varint(v):
    v &= (1 << 64) - 1  # a negative int64 is its two's complement
    out = bytearray()
    while True:
        out.append((v & 0x7F) | (0x80 if v > 0x7F else 0))
        v >>= 7
        if not v:
            return bytes(out)


def otlp_proto(msg, kind="request"):
    """The protobuf encoding of an OTLP/JSON request dict."""
    out = bytearray()
    for key, value in msg.items():
        number, typ, repeated = OTLP_SCHEMA[kind][key]
        for v in value if repeated else [value]:
            if typ == "fixed64":
                out += varint(number << 3 | 1) + struct.pack("<Q", int(v))
            elif typ == "fixed32":
                out += varint(number << 3 | 5) + struct.pack("<I", int(v))
            elif typ == "double":
                d = float(v)  # "NaN", "-Infinity" and numbers alike
                out += varint(number << 3 | 1) + struct.pack("<d", d)
            elif typ in ("uint", "int64", "bool"):
                out += varint(number << 3) + varint(int(v))
            else:
                if typ == "string":
                    data = v.encode("utf-8")
                elif typ == "hex":
                    data = bytes.fromhex(v) if len(v) % 2 == 0 else b"\x01" * (len(v) // 2)
                elif typ == "b64":
                    data = base64.b64decode(v)
                else:
                    data = otlp_proto(v, typ)
                out += varint(number << 3 | 2) + varint(len(data)) + data
    return bytes(out)


def otlp(out):
    for name, r in otlp_variants():
        text = json.dumps(r, separators=(",", ":")).replace("\\\\u0000", "\\u0000")
        write(out, "otlp_json", name + ".json", text)
        write(out, "otlp_proto", name + ".pb", otlp_proto(r))
    write(out, "otlp_json", "snake.json", json.dumps(otlp_snake(otlp_trace())))
    named = json.dumps(otlp_trace()).replace('"kind": 3', '"kind": "SPAN_KIND_CLIENT"').replace(
        '"code": 2', '"code": "STATUS_CODE_ERROR"')
    write(out, "otlp_json", "enum-names.json", named)
    write(out, "otlp_json", "nulls.json", '{"resourceSpans":[{"resource":null,"scopeSpans":[{"scope":null,'
          '"spans":[{"traceId":"%s","spanId":"eee19b7ec3c1b174","startTimeUnixNano":1,"endTimeUnixNano":2,'
          '"name":null,"attributes":null,"events":null,"status":null,"future":{"x":[1]}}]}]}]}' % OTLP_TRACE)
    pb = otlp_proto(otlp_trace())
    write(out, "otlp_proto", "cut.pb", pb[: len(pb) // 2])
    write(out, "otlp_proto", "unknown.pb", pb + b"\x98\x06\x96\x01\xaa\x06\x02\x2a\x00\xb5\x06\x01\x02\x03\x04")
    write(out, "otlp_proto", "group.pb", b"\x0b\x0c")


def state_diffs(out):
    """Pairs of states (NUL between them) as the compare route meets them."""
    pairs = [({}, {}), ({"a": 1}, {"a": 1.0}), ({"cfg": {"n": 1, "old": True}, "x y": [1]},
                                                  {"cfg": {"n": 2, "new": None}, "x y": [1, 2]}),
             ([1, 2], {"a": "b"}), ({"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}, {"a": 2}),
             ({"s": "\u202e\u0000x", "n": 1e300}, {"s": "x", "n": -1e-300}), ("text", None)]
    for i, (a, b) in enumerate(pairs):
        write(out, "state_diff", f"pair-{i}", json.dumps(a).encode() + b"\0" + json.dumps(b).encode())


def main():
    out = sys.argv[1]
    suite = sys.argv[2] if len(sys.argv) > 2 else None
    n = ingest(out, suite)
    json_tree(out, suite)
    timestamps(out)
    cursors(out)
    router(out)
    auth(out)
    live(out)
    ingest_client(out)
    webhook(out)
    otlp(out)
    state_diffs(out)
    counts = {t: len(os.listdir(os.path.join(out, t))) for t in sorted(os.listdir(out))}
    print("seeds:", ", ".join(f"{t} {c}" for t, c in counts.items()),
          f"({n} JSONTestSuite files)" if n else "(JSONTestSuite not found)")


if __name__ == "__main__":
    main()
