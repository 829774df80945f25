"""Hostile and broken input through the whole stack (nginx -> FastCGI ->
PostgreSQL): every JSONTestSuite parsing case as an ingest body, invalid
UTF-8, NUL bytes, duplicate keys, huge numbers, deep nesting, oversized URLs
and headers, percent-encoded path tricks, bodies trickled a byte a second,
and a body over the limit announced but never sent.

The promises: never a 5xx, never a hang, never a dead worker (the worker
pids are the same at the end of the module), and under /api/ every answer,
the workers' and nginx's own, is a JSON error of the contract's shape.

Duplicate JSON keys: the last one wins, everywhere. json-c (which the
validator reads) and PostgreSQL's jsonb (which stores the body) both keep the
last value of a repeated name, so what was validated is what is stored. A
value shadowed by a later duplicate is not validated, but PostgreSQL still
parses it: one it cannot store (a \\u0000, a number beyond numeric) answers
422 without a path, never 500.

JSONTestSuite comes from shared/testdata (AGORA_JSONTESTSUITE overrides the
test_parsing directory)."""
import json
import os
import socket
import ssl
import threading
import time
import uuid

import pytest

from conftest import proc_status_kib, reset_peak_rss, wait_for

ROUTE = "/api/executions/ingest"
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SUITE = os.environ.get("AGORA_JSONTESTSUITE") or os.path.join(
    ROOT, "..", "shared", "testdata", "JSONTestSuite", "test_parsing")


def sql_text(value):
    return "'" + str(value).replace("'", "''") + "'"


def assert_json_error(resp, status=None, code=None):
    """resp is a JSON error of the contract's shape (and status/code when
    given); returns the error object."""
    assert resp.status < 500, resp
    if status is not None:
        assert resp.status == status, resp
    assert resp.headers.get("Content-Type", "").startswith("application/json"), (resp, resp.headers)
    body = resp.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), resp
    err = body["error"]
    assert isinstance(err.get("code"), str) and isinstance(err.get("message"), str), resp
    if code is not None:
        assert err["code"] == code, resp
    return err


class Tenant:
    """An owner with an organization, a project and a workflow, made through
    the API."""

    def __init__(self, stack):
        self.stack = stack
        self.owner = stack.new_user()
        self.tok = stack.token(self.owner)
        r = stack.request("POST", "/api/organizations", token=self.tok, body={"name": "Bad input org"})
        assert r.status == 201, r.body
        self.org = r.json()["id"]
        r = stack.request("POST", "/api/projects", token=self.tok,
                          body={"organization_id": self.org, "name": "bad-input"})
        assert r.status == 201, r.body
        self.project = r.json()["id"]
        r = stack.request("POST", "/api/workflows", token=self.tok,
                          body={"project_id": self.project, "name": "bad-input",
                                "nodes": [{"name": "a"}], "edges": []})
        assert r.status == 201, r.body
        self.wf = r.json()["id"]

    def ingest(self, raw, headers=None, timeout=30):
        """POSTs raw bytes (or str) as application/json."""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        return self.stack.request("POST", ROUTE, token=self.tok, body=raw, headers=h, timeout=timeout)

    def head(self, session="bad-input"):
        """The start of a valid payload's object, without the braces."""
        return (f'"workflow_id":"{self.wf}","session_id":"{session}","status":"running",'
                '"started_at":"2024-11-26T12:00:00"')

    def executions(self):
        return int(self.stack.psql_admin(
            f"SELECT count(*) FROM agora.executions WHERE organization_id = {sql_text(self.org)}").strip())

    def stored(self, execution_id, expr):
        return self.stack.psql_admin(
            f"SELECT {expr} FROM agora.executions WHERE id = {sql_text(execution_id)}").strip()


@pytest.fixture(scope="module")
def guard(stack):
    """The worker pids and the access log's size when the module starts: the
    last test checks that no worker died and that nothing answered 5xx."""
    log = os.path.join(stack.var, "log", "nginx-access.log")
    assert stack.wait_healthy().status == 200
    return {"pids": stack.workers_pids(), "log": log,
            "offset": os.path.getsize(log) if os.path.exists(log) else 0}


@pytest.fixture(scope="module")
def tenant(stack, guard):
    return Tenant(stack)


# ------------------------------------------------------------------ raw HTTP

def tls_connect(stack, timeout=10):
    ctx = stack.ssl_context()
    ctx.set_alpn_protocols(["http/1.1"])
    sock = socket.create_connection(("127.0.0.1", stack.https_port), timeout=timeout)
    return ctx.wrap_socket(sock)


def read_response(conn, deadline):
    """Reads one HTTP/1.1 response (headers, then Content-Length bytes or
    until close) before deadline. Returns (status, headers dict, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        conn.settimeout(max(0.05, deadline - time.monotonic()))
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines and lines[0].startswith("HTTP/1.1 "), data[:300]
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        want = int(headers["content-length"])
        while len(body) < want:
            conn.settimeout(max(0.05, deadline - time.monotonic()))
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
    elif headers.get("transfer-encoding") == "chunked":
        while not body.endswith(b"0\r\n\r\n"):
            conn.settimeout(max(0.05, deadline - time.monotonic()))
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        out, rest = b"", body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                break
            out, rest = out + rest[:size], rest[size + 2:]
        body = out
    return status, headers, body


def raw_json_error(status, headers, body, want_status=None, want_code=None):
    assert status < 500, (status, body[:300])
    if want_status is not None:
        assert status == want_status, (status, body[:300])
    assert headers.get("content-type", "").startswith("application/json"), (status, headers, body[:300])
    err = json.loads(body)["error"]
    if want_code is not None:
        assert err["code"] == want_code, body
    return err


# ------------------------------------------------------------------ JSONTestSuite

def test_every_jsontestsuite_file_as_an_ingest_body(stack, tenant):
    """n_: 400 bad_json. y_: valid JSON but no payload: 400 or 422. i_:
    anything but 5xx. Every answer a JSON error; nothing stored."""
    if not os.path.isdir(SUITE):
        pytest.fail(f"JSONTestSuite not found at {SUITE}: it belongs in ../shared/testdata/JSONTestSuite "
                    "beside the repository (test.sh points AGORA_JSONTESTSUITE at its test_parsing "
                    "directory); set AGORA_JSONTESTSUITE to run it from elsewhere", pytrace=False)
    names = sorted(n for n in os.listdir(SUITE) if n.endswith(".json"))
    assert len(names) > 300, f"only {len(names)} files in {SUITE}"
    before = tenant.executions()
    wrong = []
    seen = {"y": 0, "n": 0, "i": 0}
    for name in names:
        with open(os.path.join(SUITE, name), "rb") as f:
            raw = f.read()
        try:
            r = tenant.ingest(raw, timeout=15)
        except OSError as e:  # a hang or a dropped connection
            wrong.append((name, f"no answer: {e!r}"))
            continue
        kind = name[0]
        seen[kind] += 1
        try:
            err = assert_json_error(r)
        except AssertionError as e:
            wrong.append((name, str(e)[:200]))
            continue
        if kind == "n" and (r.status, err["code"]) != (400, "bad_json"):
            wrong.append((name, r.status, err["code"]))
        elif kind == "y" and r.status not in (400, 422):
            wrong.append((name, r.status, err["code"]))
    assert not wrong, wrong
    assert seen["n"] > 150 and seen["y"] > 80 and seen["i"] > 20, seen
    assert tenant.executions() == before
    assert stack.request("GET", "/api/health").status == 200


# ------------------------------------------------------------------ bytes

@pytest.mark.parametrize("bad", [
    b"\xff",                 # never valid
    b"\x80",                 # a lone continuation byte
    b"\xc0\xaf",             # overlong "/"
    b"\xe0\x80\xaf",         # overlong, 3 bytes
    b"\xed\xa0\x80",         # a UTF-16 surrogate encoded as UTF-8
    b"\xf4\x90\x80\x80",     # beyond U+10FFFF
    b"\xf8\x88\x80\x80\x80",  # 5-byte form
    b"\xe2\x82",             # truncated sequence
])
@pytest.mark.parametrize("where", ["value", "key", "name"])
def test_invalid_utf8_is_400_bad_json(tenant, bad, where):
    head = tenant.head().encode()
    if where == "value":
        raw = b"{" + head + b',"metadata":{"x":"a' + bad + b'b"}}'
    elif where == "key":
        raw = b"{" + head + b',"metadata":{"a' + bad + b'":1}}'
    else:
        raw = b"{" + head + b',"node_executions":[{"node_name":"n' + bad + b'"}]}'
    err = assert_json_error(tenant.ingest(raw), 400, "bad_json")
    assert "UTF-8" in err["message"]


def test_nul_bytes_raw_and_escaped(stack, tenant):
    head = tenant.head()
    before = tenant.executions()
    # Raw NUL: not JSON at all.
    for raw in ("{" + head + ',"metadata":{"x":"a\x00b"}}',
                "{" + head + "}\x00",
                "\x00{" + head + "}",
                "{" + head + ',\x00"metadata":{}}'):
        assert_json_error(tenant.ingest(raw), 400, "bad_json")
    # Escaped \u0000: JSON, but PostgreSQL can store it neither in text nor
    # in jsonb: 422 naming the field.
    wf = tenant.wf
    cases = [
        ('{"workflow_id":"%s","session_id":"a\\u0000b","status":"running",'
         '"started_at":"2024-11-26T12:00:00"}' % wf, "session_id"),
        ("{" + head + ',"node_executions":[{"node_name":"x\\u0000"}]}', "node_executions[0].node_name"),
        ("{" + head + ',"metadata":{"deep":[{"x":"\\u0000"}]}}', "metadata"),
        ("{" + head + ',"telemetry_events":[{"event_type":"e","timestamp":"2024-11-26T12:00:00",'
         '"data":"\\u0000"}]}', "telemetry_events[0].data"),
        ("{" + head + ',"unknown_field":"\\u0000"}', "unknown_field"),
    ]
    for raw, path in cases:
        err = assert_json_error(tenant.ingest(raw), 422, "validation_failed")
        assert err.get("path") == path, (raw, err)
    # ... and in an object key, where json-c would cut the name short.
    for raw in ("{" + head + ',"metadata":{"a\\u0000b":1}}', "{" + head + ',"x\\u0000":1}'):
        assert_json_error(tenant.ingest(raw), 422, "validation_failed")
    assert tenant.executions() == before


def test_duplicate_keys_the_last_one_wins(stack, tenant):
    wf = tenant.wf
    start = '"workflow_id":"%s","session_id":"dup","started_at":"2024-11-26T12:00:00"' % wf
    # The later, invalid value is the one validated.
    err = assert_json_error(tenant.ingest('{%s,"status":"running","status":"bogus"}' % start),
                            422, "validation_failed")
    assert err["path"] == "status"
    # The later, valid value is validated and stored.
    r = tenant.ingest('{%s,"status":"bogus","status":"running","metadata":{"k":1},"metadata":{"k":2},'
                      '"node_executions":[{"node_name":"a","retry_count":-5,"retry_count":3}]}' % start)
    assert r.status == 201, r.body
    ex = r.json()["execution_id"]
    assert tenant.stored(ex, "status") == "running"
    assert tenant.stored(ex, "metadata->>'k'") == "2"
    assert stack.psql_admin(
        f"SELECT retry_count FROM agora.node_executions WHERE execution_id = {sql_text(ex)}").strip() == "3"
    # A shadowed value PostgreSQL cannot parse: 422 (from the database), not 500.
    before = tenant.executions()
    for shadowed in ('"metadata":{"x":"\\u0000"},"metadata":{}', '"metadata":{"x":1e131072},"metadata":{}'):
        assert_json_error(tenant.ingest('{%s,"status":"running",%s}' % (start, shadowed)),
                          422, "validation_failed")
    assert tenant.executions() == before


def test_numbers_beyond_64_bits(stack, tenant):
    head = tenant.head()
    big = "123456789012345678901234567890"   # > 2^96
    for field, raw, path in [
        ("duration_ms", "{%s,\"duration_ms\":%s}" % (head, big), "duration_ms"),
        ("duration_ms", "{%s,\"duration_ms\":-%s}" % (head, big), "duration_ms"),
        ("retry_count", "{%s,\"node_executions\":[{\"node_name\":\"a\",\"retry_count\":18446744073709551616}]}"
         % head, "node_executions[0].retry_count"),
        ("sequence", "{%s,\"shared_state_snapshots\":[{\"sequence\":-18446744073709551617,\"state\":{}}]}"
         % head, "shared_state_snapshots[0].sequence"),
        ("metadata", "{%s,\"metadata\":{\"x\":1e400}}" % head, "metadata"),
        ("metadata", "{%s,\"metadata\":{\"x\":-1e400}}" % head, "metadata"),
        ("metadata", "{%s,\"metadata\":{\"x\":1e-400}}" % head, "metadata"),
        ("exec_duration_ms", "{%s,\"node_executions\":[{\"node_name\":\"a\",\"exec_duration_ms\":1e309}]}"
         % head, "node_executions[0].exec_duration_ms"),
    ]:
        err = assert_json_error(tenant.ingest(raw), 422, "validation_failed")
        assert err.get("path") == path, (field, err)
    # Integers beyond 64 bits inside a blob are kept exactly (jsonb numeric).
    r = tenant.ingest("{%s,\"metadata\":{\"big\":%s,\"neg\":-%s}}" % (head, big, big))
    assert r.status == 201, r.body
    ex = r.json()["execution_id"]
    assert tenant.stored(ex, "metadata->>'big'") == big
    assert tenant.stored(ex, "metadata->>'neg'") == "-" + big


def test_a_number_beyond_a_double_is_refused_alike_in_any_spelling(stack, tenant):
    """One range rule: 1e309 and 1 followed by 309 zeros are both refused,
    with the same message, in a number field, a blob and an unknown field;
    1 followed by 308 zeros (1e308) is stored as sent."""
    head = tenant.head()
    before = tenant.executions()
    places = [
        ('{%s,"duration_ms":%%s}' % head, "duration_ms"),
        ('{%s,"metadata":{"n":%%s}}' % head, "metadata"),
        ('{%s,"telemetry_events":[{"event_type":"e","timestamp":"2024-11-26T12:00:00","data":[%%s]}]}' % head,
         "telemetry_events[0].data"),
        ('{%s,"from_a_newer_client":{"n":%%s}}' % head, "from_a_newer_client"),
    ]
    for spelling in ("1e309", "1" + "0" * 309, "-1" + "0" * 400):
        for template, path in places:
            err = assert_json_error(tenant.ingest(template % spelling), 422, "validation_failed")
            assert err.get("path") == path, (spelling[:8], err)
            assert err["message"] == path + " holds a number out of range", err
    assert tenant.executions() == before
    fits = "1" + "0" * 308
    r = tenant.ingest('{%s,"metadata":{"n":%s}}' % (head, fits))
    assert r.status == 201, r.body
    assert tenant.stored(r.json()["execution_id"], "metadata->>'n'") == fits


def test_deep_nesting_is_400_not_a_stack_overflow(stack, tenant):
    head = tenant.head()
    for raw in ("{" + head + ',"metadata":{"x":' + "[" * 10000 + "]" * 10000 + "}}",
                '{"a":' * 10000 + "1" + "}" * 10000,
                "[" * 100000,
                "{" + head + ',"metadata":' + '{"a":' * 10000 + "}"):
        err = assert_json_error(tenant.ingest(raw), 400, "bad_json")
        assert "deep" in err["message"] or "end" in err["message"], err
    # Within the limit (64 levels): stored.
    r = tenant.ingest("{" + head + ',"metadata":' + '{"a":' * 30 + "1" + "}" * 30 + "}")
    assert r.status == 201, r.body


# ------------------------------------------------------------------ memory

def test_a_body_of_empty_objects_costs_a_worker_little_memory(stack, tenant):
    """A body is parsed into no more than its checks read: megabytes of
    `{}` in an unknown member, in nodes or in edges cost a worker about the
    body's size, not hundreds of bytes per `{}` (json-c's tree cost 274 MB
    for 1 MiB and 2.1 GB for 8 MiB). The tenancy bodies are capped at
    64 KiB from the headers alone. Each answer is the checks' usual one.
    The peak RSS (VmHWM, reset before each request) of the workers is
    measured."""
    pids = stack.workers_pids()
    if reset_peak_rss(pids) is None:
        pytest.skip("the workers' peak RSS cannot be measured (permission, or AddressSanitizer)")
    key = stack.request("POST", f"/api/projects/{tenant.project}/api-keys", token=tenant.tok).json()["key"]
    org, project = tenant.org, tenant.project

    def empties(template, size):
        n = max(1, (size - len(template)) // 3)
        return (template % ("[" + ",".join(["{}"] * n) + "]")).encode()

    def send(path, raw, token=None):
        idle = max(reset_peak_rss(pids).values())
        r = stack.request("POST", path, token=token or tenant.tok, body=raw,
                          headers={"Content-Type": "application/json"}, timeout=120)
        peak = max(proc_status_kib(pid, "VmHWM") for pid in pids)
        return r, (peak - idle) / 1024

    tenancy = [
        ("/api/organizations", '{"name":"x","junk":%s}'),
        (f"/api/organizations/{org}/members", '{"user_id":"%s","role":"viewer","junk":%%s}' % stack.new_user()),
        ("/api/projects", '{"organization_id":"%s","name":"q","junk":%%s}' % org),
        (f"/api/projects/{project}/api-keys", '{"name":"k","junk":%s}'),
    ]
    for path, template in tenancy:
        raw = empties(template, 60 * 1024)
        r, grew = send(path, raw)
        err = assert_json_error(r, 422, "validation_failed")
        assert err.get("path") == "junk", (path, err)
        assert grew < 4, (path, f"{grew:.1f} MiB for a {len(raw)}-byte body")
        for mib in (1, 8):
            r, grew = send(path, empties(template, mib << 20))
            err = assert_json_error(r, 413, "payload_too_large")
            assert "65536 bytes" in err["message"], err
            assert grew < 2, (path, f"{grew:.1f} MiB for a {mib} MiB body that was never read")
    workflows = [
        ('{"project_id":"%s","name":"w","junk":%%s}' % project, "junk"),
        ('{"project_id":"%s","name":"w","nodes":%%s}' % project, "nodes"),
        ('{"project_id":"%s","name":"w","nodes":[{"name":"a"}],"edges":%%s}' % project, "edges"),
        ('{"project_id":"%s","name":%%s}' % project, "name"),
    ]
    for mib in (1, 8):
        for template, field in workflows:
            for token in (tenant.tok, key):
                raw = empties(template, mib << 20)
                r, grew = send("/api/workflows", raw, token)
                err = assert_json_error(r, 422, "validation_failed")
                assert err.get("path") == field, (template, err)
                bound = 2 * len(raw) / 2**20 + 8
                assert grew < bound, (template, f"{grew:.1f} MiB for a {mib} MiB body (bound {bound:.0f})")
    assert stack.workers_pids() == pids


# ------------------------------------------------------------------ spoofable names

FORMAT_RULE = "must not contain invisible format characters"
SPOOFS = [("\u202egnp.exe", FORMAT_RULE),          # shown as "exe.png"
          ("run\u200b1", FORMAT_RULE),              # looks like "run1"
          ("\ufeffname", FORMAT_RULE),
          ("a\u2066b\u2069", FORMAT_RULE),
          ("tag\U000e0041", FORMAT_RULE),
          ("a\u0085b", "must not contain control characters")]  # C1 (NEL)


def test_names_and_identifiers_refuse_format_and_c1_control_characters(stack, tenant):
    """Every identifier of the tenancy, workflow and ingest bodies answers 422
    naming the field and the reason, sent escaped or as raw UTF-8; free
    text (a description, an error, blobs) keeps such characters."""
    tok, org, project, wf = tenant.tok, tenant.org, tenant.project, tenant.wf
    node_body = lambda v: {"project_id": project, "name": "wf-spoof", "nodes": [{"name": v}]}
    cases = [
        ("/api/organizations", lambda v: {"name": v}, "name"),
        ("/api/projects", lambda v: {"organization_id": org, "name": v}, "name"),
        (f"/api/projects/{project}/api-keys", lambda v: {"name": v}, "name"),
        ("/api/workflows", lambda v: {"project_id": project, "name": v}, "name"),
        ("/api/workflows", node_body, "nodes[0].name"),
        ("/api/workflows", lambda v: {"project_id": project, "name": "wf-spoof",
                                      "nodes": [{"name": "a", "type": v}]}, "nodes[0].type"),
        ("/api/workflows", lambda v: {"project_id": project, "name": "wf-spoof", "nodes": [{"name": "a"}],
                                      "edges": [{"from": "a", "to": "a", "action": v}]}, "edges[0].action"),
    ]
    ingest = [
        ('{"workflow_id":"%s","session_id":%%s,"status":"running","started_at":"2024-11-26T12:00:00"}' % wf,
         "session_id"),
        ('{%s,"node_executions":[{"node_name":%%s}]}' % tenant.head(), "node_executions[0].node_name"),
        ('{%s,"telemetry_events":[{"event_type":%%s,"timestamp":"2024-11-26T12:00:00"}]}' % tenant.head(),
         "telemetry_events[0].event_type"),
        ('{%s,"telemetry_spans":[{"span_id":"ab","name":%%s,"start_time":"2024-11-26T12:00:00"}]}'
         % tenant.head(), "telemetry_spans[0].name"),
        ('{%s,"shared_state_snapshots":[{"phase":%%s,"state":{}}]}' % tenant.head(),
         "shared_state_snapshots[0].phase"),
    ]
    before = tenant.executions()
    for value, rule in SPOOFS:
        for ascii_only in (True, False):
            for path, body, field in cases:
                raw = json.dumps(body(value), ensure_ascii=ascii_only).encode("utf-8")
                r = stack.request("POST", path, token=tok, body=raw, headers={"Content-Type": "application/json"})
                err = assert_json_error(r, 422, "validation_failed")
                assert err.get("path") == field, (path, value, err)
                assert err["message"].startswith(field + " " + rule), err
            for template, field in ingest:
                err = assert_json_error(tenant.ingest(template % json.dumps(value, ensure_ascii=ascii_only)),
                                        422, "validation_failed")
                assert err.get("path") == field and err["message"].startswith(field + " " + rule), err
    assert tenant.executions() == before
    # Free text keeps them.
    r = stack.request("POST", "/api/workflows", token=tok,
                      body={"project_id": project, "name": "wf-free-text", "description": "\u202egnp.exe \u200b"})
    assert r.status == 201, r.body
    assert r.json()["description"] == "\u202egnp.exe \u200b"
    r = tenant.ingest('{%s,"error":"\\u202egnp\\u0085.exe","metadata":{"k":"\\u200b"}}' % tenant.head())
    assert r.status == 201, r.body
    assert tenant.stored(r.json()["execution_id"], "error #>> '{}'") == "\u202egnp\u0085.exe"


# ------------------------------------------------------------------ URLs, headers

def test_long_urls(stack, tenant):
    # 9 KiB: nginx takes it (its buffers are 16k), the worker's 404.
    r = stack.request("GET", "/api/" + "a" * 9 * 1024, token=tenant.tok)
    assert_json_error(r, 404, "not_found")
    r = stack.request("GET", "/api/executions?session_id=" + "s" * 9 * 1024, token=tenant.tok)
    assert r.status in (200, 422), r
    assert r.headers.get("Content-Type", "").startswith("application/json")
    # Beyond nginx's buffer: 414 from nginx, in JSON.
    for path in ("/api/" + "a" * 20000, "/api/executions?session_id=" + "s" * 20000):
        assert_json_error(stack.request("GET", path, token=tenant.tok), 414, "uri_too_long")


def test_large_headers(stack, tenant):
    # One header line over nginx's 16k buffer, or several filling them all:
    # 400 from nginx (its 494), in JSON.
    assert_json_error(stack.request("GET", "/api/health", headers={"X-Big": "b" * 20000}), 400, "bad_request")
    many = {f"X-H{i}": "h" * 15000 for i in range(6)}
    assert_json_error(stack.request("GET", "/api/projects", token=tenant.tok, headers=many), 400, "bad_request")
    # Big, but within nginx's limits: the worker answers.
    assert_json_error(stack.request("GET", "/api/projects", token="x" * 12000), 401, "unauthorized")
    assert_json_error(stack.request("GET", "/api/projects", token="agk_" + "0" * 9000), 401, "unauthorized")
    r = stack.request("POST", ROUTE, token=tenant.tok, body="{}",
                      headers={"Content-Type": "application/json", "Idempotency-Key": "k" * 10000})
    assert_json_error(r, 422, "validation_failed")


@pytest.mark.parametrize("path, status", [
    ("/api/%2e%2e/", 404),                       # resolves to / in nginx: still a JSON 404
    ("/api/%2e%2e/index.html", 404),
    ("/api/executions/%2e%2e/%2e%2e/", 404),
    ("/api/executions/%2e%2e/%2e%2e/health", 404),
    ("/api/%2e%2e/api/health", 404),             # resolves to /api/health: the worker sees the raw path
    ("/api/executions/%00", 400),                # nginx refuses a NUL in the path
    ("/api/%00/health", 400),
    ("/api//executions", 404),
    ("/api/executions//", 404),
    ("/api/executions/..;/health", 404),
    ("/api/..;/health", 404),
    ("/api/./health", 404),
    ("/api/health%2f", 404),
    ("/api/%2fhealth", 404),
    ("/api/health;jsessionid=1", 404),
    ("/api/executions/%252e%252e/", 404),
    ("/api/executions/%c0%ae%c0%ae/", 404),
    ("/api/executions/%ZZ", 400),
    ("/api/executions/" + "0" * 8 + "-0000-0000-0000-" + "0" * 11 + "%30", 404),
    ("/api/executions/\u00e9", 404),
])
def test_percent_encoded_path_tricks(stack, tenant, path, status):
    # Sent byte for byte (http.client would refuse some of these paths).
    conn = tls_connect(stack)
    try:
        conn.sendall(b"GET " + path.encode("utf-8") + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Authorization: Bearer " + tenant.tok.encode() + b"\r\nConnection: close\r\n\r\n")
        got, headers, body = read_response(conn, time.monotonic() + 10)
    finally:
        conn.close()
    raw_json_error(got, headers, body, status)


# ------------------------------------------------------------------ bodies

def trickle_client(stack, token, body, seconds, result):
    """Sends the headers at once, then the body a byte a second for seconds,
    then the rest, and reads the answer. result gets (status, headers, body)
    or the exception."""
    try:
        conn = tls_connect(stack, timeout=30)
        try:
            conn.sendall((f"POST {ROUTE} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode())
            sent = 0
            for _ in range(seconds):
                conn.sendall(body[sent:sent + 1])
                sent += 1
                time.sleep(1)
            conn.sendall(body[sent:])
            result.append(read_response(conn, time.monotonic() + 20))
        finally:
            conn.close()
    except Exception as e:  # reported by the test
        result.append(e)


def test_bodies_trickled_a_byte_a_second_never_tie_up_a_worker(stack, tenant):
    """nginx buffers the whole body (fastcgi_request_buffering on) and only
    then hands the request to a worker, so more slow clients than workers
    leave the API answering at full speed; each slow body still arrives."""
    workers = len(stack.workers_pids())
    slow = workers + 2
    seconds = 6
    results = [[] for _ in range(slow)]
    threads = []
    for i in range(slow):
        body = ("{" + tenant.head(session=f"slow-{i}") + "}").encode()
        t = threading.Thread(target=trickle_client, args=(stack, tenant.tok, body, seconds, results[i]))
        t.start()
        threads.append(t)
    try:
        time.sleep(1.5)  # every slow client has sent its headers and started
        worst = 0.0
        deadline = time.monotonic() + seconds - 2
        n = 0
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            assert stack.request("GET", "/api/health", timeout=5).status == 200
            r = stack.request("GET", "/api/executions?limit=1", token=tenant.tok, timeout=5)
            assert r.status == 200, r
            worst = max(worst, time.monotonic() - t0)
            n += 1
            time.sleep(0.2)
        assert n >= 5 and worst < 2.0, (n, worst)
    finally:
        for t in threads:
            t.join(40)
    for res in results:
        assert len(res) == 1 and not isinstance(res[0], Exception), res
        status, headers, body = res[0]
        assert status == 201, (status, body)
        assert json.loads(body)["status"] == "running"


def test_a_body_over_the_limit_is_refused_from_its_headers_alone(stack, tenant):
    """Headers announcing 16 MiB + 1 byte, and not one byte of body: the 413
    (JSON) arrives anyway, at once."""
    limit = int(stack.env.get("AGORA_MAX_BODY_BYTES", "16777216"))
    conn = tls_connect(stack)
    try:
        t0 = time.monotonic()
        conn.sendall((f"POST {ROUTE} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: Bearer {tenant.tok}\r\nContent-Type: application/json\r\n"
                      f"Content-Length: {limit + 1}\r\n\r\n").encode())
        status, headers, body = read_response(conn, time.monotonic() + 5)
        assert time.monotonic() - t0 < 5
    finally:
        conn.close()
    raw_json_error(status, headers, body, 413, "payload_too_large")


def test_bodies_that_lie_about_their_length(stack, tenant):
    """Malformed or contradictory framing is nginx's 400, in JSON; a body
    shorter than announced never reaches a worker."""
    for head in (b"Content-Length: -1\r\n", b"Content-Length: 1\r\nContent-Length: 2\r\n",
                 b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                 b"Content-Length: 99999999999999999999999\r\n", b"Transfer-Encoding: gzip\r\n"):
        conn = tls_connect(stack)
        try:
            conn.sendall(b"POST " + ROUTE.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/json\r\n" + head + b"\r\n0\r\n\r\n")
            status, headers, body = read_response(conn, time.monotonic() + 10)
        finally:
            conn.close()
        err = raw_json_error(status, headers, body)
        assert status in (400, 413), (head, status, err)
    # A chunked body is buffered by nginx and arrives whole.
    body = ("{" + tenant.head(session="chunked") + "}").encode()
    conn = tls_connect(stack)
    try:
        conn.sendall((f"POST {ROUTE} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {tenant.tok}\r\n"
                      "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                      ).encode() + b"%x\r\n" % 10 + body[:10] + b"\r\n" + b"%x\r\n" % (len(body) - 10)
                     + body[10:] + b"\r\n0\r\n\r\n")
        status, headers, rbody = read_response(conn, time.monotonic() + 10)
    finally:
        conn.close()
    assert status == 201, rbody


@pytest.mark.parametrize("request_bytes", [
    b"GET /api/health HTTP/3.0\r\nHost: x\r\n\r\n",               # nginx: 505
    b"GET /api/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",  # nginx: 501
    b"G@T /api/health HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET api/health HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/health HTTP/1.1\r\n\r\n",                          # no Host
    b"GET /api/health HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
    b"GET /api/health HTTP/1.1\r\nHost: x\r\n folded: y\r\n\r\n",
    b"GET /api/health HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n",
    b"CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: x\r\n\r\n",
])
def test_requests_nginx_cannot_parse_answer_json_400(stack, request_bytes):
    """Client mistakes at the HTTP level are 400 in JSON, never a 5xx that a
    client would retry."""
    conn = tls_connect(stack)
    try:
        conn.sendall(request_bytes)
        status, headers, body = read_response(conn, time.monotonic() + 10)
    finally:
        conn.close()
    raw_json_error(status, headers, body, 400, "bad_request")


def test_plain_http_on_the_tls_port_answers_json_400(stack):
    with socket.create_connection(("127.0.0.1", stack.https_port), timeout=10) as conn:
        conn.sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        status, headers, body = read_response(conn, time.monotonic() + 10)
    raw_json_error(status, headers, body, 400, "bad_request")


# ------------------------------------------------------------------ the end

def test_no_worker_died_and_nothing_answered_5xx(stack, guard):
    """Last in this module: the same workers as at its start, and not one
    5xx in nginx's access log since then."""
    assert stack.workers_pids() == guard["pids"]
    # nginx logs a request after answering it, so the last answers' lines
    # may not be there yet. It writes each line (unbuffered: agora.conf's
    # access_log has no buffer=) as soon as the answer's last byte is sent,
    # not waiting on the client. Every request of this module has been
    # answered; a marker request sent now is waited for, and once its line
    # is in, theirs are too: only then is the log searched for a 5xx.
    marker = f"agora-log-marker-{uuid.uuid4().hex}"
    resp = stack.request("GET", "/api/health", headers={"User-Agent": marker})
    assert resp.status == 200, resp

    def logged():
        with open(guard["log"], "rb") as f:
            f.seek(guard["offset"])
            text = f.read().decode("utf-8")
        # Whole lines only: the marker's line may be half written.
        return [json.loads(line) for line in text[:text.rfind("\n") + 1].splitlines() if line.strip()]

    assert wait_for(lambda: any(e["user_agent"] == marker for e in logged())), \
        f"the marker request's line never reached {guard['log']}"
    lines = logged()
    assert len(lines) > 100, len(lines)
    bad = [(e["status"], e["method"], e["path"][:80]) for e in lines if e["status"] >= 500]
    assert not bad, bad[:10]
