"""The OpenAPI description (nginx/www/openapi.yaml) against the real stack and
the route table, so the document cannot drift from the code:

- every route of src/handlers/routes.c is documented, and every documented operation
  is a route; who may call it (security) and whether it
  takes a body agree with the route table's AUTH_* and BODY_* columns;
- every example in the document matches its own schema;
- every documented example request is sent to the stack, as a user and, where
  the route allows it, as an API key, in a fresh organization whose ids
  replace the document's placeholder ids (x-example-ids); the answer's status
  must be documented and a success, and its body, headers and content type
  must match what the document says for that status;
- errors are provoked for every operation where they apply (no or bad
  credentials, an API key on a user-only route, unknown ids, a malformed or
  non-JSON body, a body that is not an object, an unknown query parameter,
  a method the path does not take) and a representative set of the others
  (roles, duplicates, a finished live run, idempotency misuse, an oversized
  body, the database going away); each answer must be documented for that
  operation and match its schema.

Schemas are checked with jsonschema's Draft 2020-12 validator, $refs resolved
within the document."""
import json
import os
import re
import urllib.parse
import uuid

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker, RefResolver

from conftest import ROOT

DOC_FILE = os.path.join(ROOT, "nginx", "www", "openapi.yaml")
ROUTES_FILE = os.path.join(ROOT, "src", "handlers", "routes.c")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

with open(DOC_FILE, encoding="utf-8") as _f:
    DOC = yaml.safe_load(_f)
RESOLVER = RefResolver(base_uri="", referrer=DOC)
CHECKER = FormatChecker()


def parse_routes():
    """(METHOD, path, auth, body, query) for each public line of the route
    table (its last column, the body limit, is not read).

    Routes under /internal/ are skipped: nginx alone reaches them, through
    an `internal` location (GET /internal/live/authorize is the Nchan
    subscription check behind /_agora_live_auth, nginx/agora.conf.in), a
    client asking for one gets nginx's 404, so they are not part of the
    public API this document describes. Every other route must still be
    documented."""
    with open(ROUTES_FILE, encoding="utf-8") as f:
        text = f.read()
    rows = re.findall(r'\{\s*"([A-Z]+)",\s*"(/[^"]*)",\s*\w+,\s*(AUTH_\w+),\s*(BODY_\w+),\s*(QUERY_\w+),\s*\w+(?:,\s*DB_\w+)?\s*\}',
                      text)
    assert rows, "no route found in src/handlers/routes.c: has the table's shape changed?"
    return [row for row in rows if not row[1].startswith("/internal/")]


ROUTES = [row[:4] for row in parse_routes()]
# (METHOD, path) -> the route table's QUERY_* column
ROUTE_QUERY = {(m, p): q for m, p, _, _, q in parse_routes()}


def operations():
    """(METHOD, path, operation) for every operation of the document."""
    out = []
    for path, item in DOC["paths"].items():
        for method in METHODS:
            if method in item:
                out.append((method.upper(), path, item[method]))
    return out


OPS = operations()
OP_IDS = [f"{m} {p}" for m, p, _ in OPS]


def deref(obj):
    """Follows a local $ref (one object, not recursively)."""
    while isinstance(obj, dict) and "$ref" in obj:
        ref = obj["$ref"]
        assert ref.startswith("#/"), ref
        node = DOC
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        obj = node
    return obj


def validate(instance, schema, what):
    errors = sorted(Draft202012Validator(schema, resolver=RESOLVER, format_checker=CHECKER)
                    .iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, f"{what}: " + "; ".join(
        f"at {list(e.absolute_path)}: {e.message[:300]}" for e in errors[:5])


def params_of(path, op):
    """The operation's parameters (path-level ones first), dereferenced."""
    item = DOC["paths"][path]
    return [deref(p) for p in item.get("parameters", []) + op.get("parameters", [])]


def security_of(op):
    sec = op.get("security", DOC.get("security", []))
    return sorted(name for req in sec for name in req)


def request_examples(op):
    """[(name, body)] of the operation's request body, or [(None, None)]
    for an operation without one."""
    rb = deref(op.get("requestBody"))
    if not rb:
        return [(None, None)]
    media = rb["content"]["application/json"]
    if "examples" in media:
        return [(name, deref(ex)["value"]) for name, ex in media["examples"].items()]
    return [("example", media["example"])]


# ------------------------------------------------------------------ the document alone

def test_the_document_is_openapi_3_1_and_its_schemas_are_valid_json_schemas():
    assert DOC["openapi"].startswith("3.1.")
    for name, schema in DOC["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)


def test_every_route_is_documented_and_every_operation_is_a_route():
    table = {(m, p) for m, p, _, _ in ROUTES}
    documented = {(m, p) for m, p, _ in OPS}
    assert table - documented == set(), "routes of src/handlers/routes.c missing from openapi.yaml"
    assert documented - table == set(), "operations in openapi.yaml that are no route"


@pytest.mark.parametrize("method,path,auth,body", ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
def test_security_and_body_agree_with_the_route_table(method, path, auth, body):
    op = DOC["paths"][path][method.lower()]
    want = {"AUTH_NONE": [], "AUTH_USER": ["userToken"], "AUTH_ANY": ["apiKey", "userToken"]}[auth]
    assert security_of(op) == want
    rb = deref(op.get("requestBody"))
    if body == "BODY_NONE":
        assert rb is None
    elif body == "BODY_OTLP":
        # OpenTelemetry: OTLP's two formats (test_otlp_ingest.py sends both).
        assert rb is not None and sorted(rb["content"]) == ["application/json", "application/x-protobuf"]
    else:
        assert rb is not None and list(rb["content"]) == ["application/json"]
        assert rb.get("required", False) == (body == "BODY_JSON")
    if auth != "AUTH_NONE":
        assert "401" in op["responses"]
    if auth == "AUTH_USER":
        assert "403" in op["responses"], "an API key on a user-only route answers 403"


@pytest.mark.parametrize("method,path,op", OPS, ids=OP_IDS)
def test_every_operation_has_an_example_request_and_its_examples_match_the_schemas(method, path, op):
    assert op.get("operationId") and op.get("summary")
    for p in params_of(path, op):
        if p.get("required"):
            assert "example" in p, f"required parameter {p['name']} has no example"
        if "example" in p:
            validate(p["example"], p["schema"], f"example of parameter {p['name']}")
    rb = deref(op.get("requestBody"))
    if rb:
        schema = rb["content"]["application/json"]["schema"]
        for name, body in request_examples(op):
            json.dumps(body)  # plain JSON: no YAML dates or the like
            validate(body, schema, f"request example {name}")
    for status, resp in op["responses"].items():
        for ctype, media in (deref(resp).get("content") or {}).items():
            examples = [media["example"]] if "example" in media else []
            examples += [deref(e)["value"] for e in media.get("examples", {}).values()]
            for ex in examples:
                validate(ex, media["schema"], f"{status} {ctype} example")


def test_the_validator_is_strict_enough_to_catch_drift():
    """An undocumented member or a wrong error code must fail validation:
    otherwise the tests below would prove little."""
    execution = {
        "id": str(uuid.uuid4()), "workflow_id": str(uuid.uuid4()), "project_id": str(uuid.uuid4()),
        "session_id": "s", "status": "success", "started_at": "2024-11-26T12:00:00.000000Z",
        "completed_at": None, "duration_ms": None, "error": None, "metadata": None, "stale": False,
        "usage": {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0, "cost_complete": True},
        "counts": {"node_executions": 0, "telemetry_spans": 0, "telemetry_events": 0,
                   "shared_state_snapshots": 0},
    }
    schema = {"$ref": "#/components/schemas/ExecutionWithCounts"}
    validate(execution, schema, "a well-formed execution")
    for bad in ({**execution, "surprise": 1}, {**execution, "started_at": "2024-11-26T12:00:00Z"},
                {k: v for k, v in execution.items() if k != "counts"}):
        assert list(Draft202012Validator(schema, resolver=RESOLVER).iter_errors(bad))
    not_found = {"$ref": "#/components/schemas/NotFoundError"}
    validate({"error": {"code": "not_found", "message": "m", "request_id": "x"}}, not_found, "404")
    assert list(Draft202012Validator(not_found, resolver=RESOLVER).iter_errors(
        {"error": {"code": "forbidden", "message": "m"}}))


# ------------------------------------------------------------------ against the stack

class World:
    """A fresh owner, organization with a second member, project, workflow,
    API key, ingested execution and alert rule: what the document's
    placeholder ids stand for."""

    def __init__(self, stack):
        self.stack = stack
        self.owner = stack.new_user()
        self.token = stack.token(self.owner)
        self.org = self.must("POST", "/api/organizations", {"name": "Docs"})["id"]
        self.project = self.must("POST", "/api/projects", {"organization_id": self.org, "name": "docs"})["id"]
        self.workflow = self.must("POST", "/api/workflows", {
            "project_id": self.project, "name": "pipeline",
            "nodes": [{"name": "processor", "type": "AuditedNode"}]})["id"]
        # A viewer, for the examples that change or remove a member.
        self.member = stack.new_user()
        self.must("POST", f"/api/organizations/{self.org}/members", {"user_id": self.member, "role": "viewer"})
        key = self.must("POST", f"/api/projects/{self.project}/api-keys", {"name": "docs"})
        self.key_id, self.key = key["id"], key["key"]
        # The execution is the document's own first ingest example.
        _, body = request_examples(DOC["paths"]["/api/executions/ingest"]["post"])[0]
        self.execution = self.must("POST", "/api/executions/ingest", self.fill(body))["execution_id"]
        # The alert rule is the document's own example rule.
        _, body = request_examples(DOC["paths"]["/api/projects/{id}/alert-rules"]["post"])[0]
        self.alert_rule = self.must("POST", f"/api/projects/{self.project}/alert-rules", self.fill(body))["id"]

    def must(self, method, path, body=None):
        r = self.stack.request(method, path, token=self.token, body=body)
        assert r.status in (200, 201), f"{method} {path}: {r.status} {r.body[:300]!r}"
        return r.json()

    def value(self, name):
        if name in ("new_user", "new_execution"):
            return str(uuid.uuid4())
        return getattr(self, {"organization": "org", "api_key": "key_id"}.get(name, name))

    def fill(self, value):
        """value with every placeholder id replaced by this world's object;
        placeholders of new objects get a fresh id each time."""
        ids = {v: k for k, v in DOC["x-example-ids"].items()}
        if isinstance(value, str):
            return self.value(ids[value]) if value in ids else value
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        return value


def build_request(world, path, op):
    """(url, headers) from the parameters' examples, placeholders filled."""
    url, query, headers = path, [], {}
    for p in params_of(path, op):
        if "example" not in p:
            continue
        v = world.fill(p["example"])
        if p["in"] == "path":
            url = url.replace("{" + p["name"] + "}", urllib.parse.quote(str(v), safe=""))
        elif p["in"] == "query":
            query.append((p["name"], str(v)))
        elif p["in"] == "header":
            headers[p["name"]] = str(v)
    assert "{" not in url, f"path parameter without an example in {url}"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    return url, headers


def check_answer(method, path, op, resp):
    """The answer's status is documented for the operation, and its headers,
    content type and body are what the document says. Returns the body."""
    status = str(resp.status)
    what = f"{method} {path} -> {status} {resp.body[:300]!r}"
    assert status in op["responses"], f"undocumented status: {what}"
    doc = deref(op["responses"][status])
    for name, h in (doc.get("headers") or {}).items():
        h = deref(h)
        if h.get("required"):
            assert name in resp.headers, f"missing header {name}: {what}"
        if name in resp.headers:
            validate(resp.headers[name], h["schema"], f"header {name} of {what}")
    assert "X-Request-Id" in resp.headers, what
    content = doc.get("content")
    if not content:
        assert resp.body == b"", what
        return None
    ctype = resp.headers.get("Content-Type", "").split(";")[0].strip()
    assert ctype in content, f"content type {ctype!r} not documented: {what}"
    if ctype != "application/json":
        return resp.body
    body = resp.json()
    assert body is not None, f"not JSON: {what}"
    validate(body, content[ctype]["schema"], what)
    if isinstance(body, dict) and isinstance(body.get("error"), dict) and "request_id" in body["error"]:
        assert body["error"]["request_id"] == resp.headers["X-Request-Id"], what
    return body


def send(stack, method, url, token=None, body=None, headers=None):
    data = None if body is None else json.dumps(body)
    hdrs = dict(headers or {})
    if data is not None:
        hdrs["Content-Type"] = "application/json"
    return stack.request(method, url, token=token, body=data, headers=hdrs)


def run_examples(stack, method, path, op, as_key):
    """Sends each example in a world of its own (examples share header
    examples such as the Idempotency-Key, which must not meet)."""
    sent = 0
    for name, example in request_examples(op):
        world = World(stack)
        token = world.key if as_key else world.token
        url, headers = build_request(world, path, op)
        body = None if example is None else world.fill(example)
        r = send(stack, method, url, token=token, body=body, headers=headers)
        check_answer(method, path, op, r)
        assert 200 <= r.status < 300, f"example {name} of {method} {path} failed: {r.status} {r.body[:300]!r}"
        sent += 1
    return sent


REAL_OPS = OPS
REAL_IDS = [f"{m} {p}" for m, p, _ in REAL_OPS]


@pytest.mark.parametrize("method,path,op", REAL_OPS, ids=REAL_IDS)
def test_every_example_request_works_and_its_answer_matches_the_document(stack, method, path, op):
    assert run_examples(stack, method, path, op, as_key=False) >= 1
    if "apiKey" in security_of(op):
        run_examples(stack, method, path, op, as_key=True)


def test_an_example_read_finds_what_the_example_ingest_wrote(stack):
    """The read examples are not only well-formed but meaningful: their
    filters match the execution the ingest example creates."""
    world = World(stack)
    for path, key in (("/api/executions", "items"), ("/api/executions/{id}/telemetry-events", "items")):
        op = DOC["paths"][path]["get"]
        url, _ = build_request(world, path, op)
        body = check_answer("GET", path, op, stack.request("GET", url, token=world.token))
        assert len(body[key]) == 1, (url, body)
    op = DOC["paths"]["/api/executions/{id}/timeline"]["get"]
    url, _ = build_request(world, "/api/executions/{id}/timeline", op)
    body = check_answer("GET", "/api/executions/{id}/timeline", op, stack.request("GET", url, token=world.token))
    assert [n["node_name"] for n in body["node_executions"]] == ["processor"]


# ------------------------------------------------------------------ errors

def first_example(world, path, op):
    url, headers = build_request(world, path, op)
    _, body = request_examples(op)[0]
    return url, headers, None if body is None else world.fill(body)


SECURED = [(m, p, op) for m, p, op in REAL_OPS if security_of(op)]


@pytest.mark.parametrize("method,path,op", SECURED, ids=[f"{m} {p}" for m, p, _ in SECURED])
def test_no_credentials_bad_credentials_and_credentials_in_the_url_answer_401(stack, world, method, path, op):
    url, headers, body = first_example(world, path, op)
    sep = "&" if "?" in url else "?"
    for token, u in ((None, url), ("not-a-token", url), ("agk_" + "0" * 96, url),
                     (world.token, f"{url}{sep}access_token={world.token}")):
        r = send(stack, method, u, token=token, body=body, headers=headers)
        assert r.status == 401, (u, r)
        check_answer(method, path, op, r)
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


USER_ONLY = [(m, p, op) for m, p, op in REAL_OPS if security_of(op) == ["userToken"]]


@pytest.mark.parametrize("method,path,op", USER_ONLY, ids=[f"{m} {p}" for m, p, _ in USER_ONLY])
def test_an_api_key_on_a_user_only_route_answers_403(stack, world, method, path, op):
    url, headers, body = first_example(world, path, op)
    r = send(stack, method, url, token=world.key, body=body, headers=headers)
    assert r.status == 403, r
    check_answer(method, path, op, r)


WITH_IDS = [(m, p, op) for m, p, op in REAL_OPS if "{id}" in p]


def other_path_params(path, op):
    """path with its path parameters other than {id} (a model's name) set
    to their examples."""
    for p in params_of(path, op):
        if p["in"] == "path" and p["name"] != "id":
            path = path.replace("{" + p["name"] + "}", urllib.parse.quote(str(p["example"]), safe=""))
    return path


@pytest.mark.parametrize("method,path,op", WITH_IDS, ids=[f"{m} {p}" for m, p, _ in WITH_IDS])
def test_an_unknown_id_answers_404(stack, world, method, path, op):
    _, headers, body = first_example(world, path, op)
    for ident in (str(uuid.uuid4()), "not-a-uuid"):
        url = other_path_params(path, op).replace("{id}", ident)
        r = send(stack, method, url, token=world.token, body=body, headers=headers)
        assert r.status == 404, (url, r)
        check_answer(method, path, op, r)


def otlp_op(op):
    """An OpenTelemetry route: its bodies and errors are OTLP's
    (google.rpc.Status), tested in test_otlp_ingest.py."""
    return "application/x-protobuf" in (deref(op.get("requestBody")) or {}).get("content", {})


WITH_BODY = [(m, p, op) for m, p, op in REAL_OPS if "requestBody" in op and not otlp_op(op)]


@pytest.mark.parametrize("method,path,op", WITH_BODY, ids=[f"{m} {p}" for m, p, _ in WITH_BODY])
def test_bad_bodies_answer_400_415_and_422(stack, world, method, path, op):
    url, headers, body = first_example(world, path, op)
    cases = (
        ('{"name": ', "application/json", 400, "bad_json"),
        (b"\xff\xfe", "application/json", 400, "bad_json"),
        (json.dumps(body), "text/plain", 415, "unsupported_media_type"),
        ("[]", "application/json", 422, "validation_failed"),
    )
    for raw, ctype, status, code in cases:
        r = stack.request(method, url, token=world.token, body=raw,
                          headers={**headers, "Content-Type": ctype})
        assert r.status == status, (raw, ctype, r)
        assert check_answer(method, path, op, r)["error"]["code"] == code


@pytest.mark.parametrize("method,path,op", REAL_OPS, ids=REAL_IDS)
def test_query_parameters_are_documented_exactly_where_the_route_takes_them(method, path, op):
    params = op.get("parameters", []) + DOC["paths"][path].get("parameters", [])
    documented = any(deref(p).get("in") == "query" for p in params)
    assert documented == (ROUTE_QUERY[(method, path)] == "QUERY_OWN"), (method, path)


@pytest.mark.parametrize("method,path,op", REAL_OPS, ids=REAL_IDS)
def test_an_unknown_query_parameter_answers_as_documented(stack, world, method, path, op):
    """Every route refuses a query parameter it does not take with 422 naming
    it (README), and the answer is one the document gives."""
    url, headers, body = first_example(world, path, op)
    url += ("&" if "?" in url else "?") + "bogus=1"
    r = send(stack, method, url, token=world.token, body=body, headers=headers)
    err = check_answer(method, path, op, r)
    assert r.status == 422, (method, path, r.status)
    if otlp_op(op):
        assert err["code"] == 3 and "bogus" in err["message"]
    else:
        assert err["error"]["path"] == "bogus"


@pytest.mark.parametrize("path", list(DOC["paths"]))
def test_a_method_a_path_does_not_take_answers_405_with_the_documented_methods(stack, world, path):
    documented = {m.upper() for m in DOC["paths"][path] if m in METHODS}
    some_op = next(DOC["paths"][path][m] for m in METHODS if m in DOC["paths"][path])
    url = other_path_params(path, some_op).replace("{id}", str(uuid.uuid4()))
    method = next(m for m in ("PUT", "PATCH") if m not in documented)
    r = stack.request(method, url, token=world.token)
    assert r.status == 405, r
    assert set(r.headers["Allow"].replace(" ", "").split(",")) == documented
    validate(r.json()["error"], {"$ref": "#/components/schemas/ErrorDetail"}, "405")
    assert r.json()["error"]["code"] == "method_not_allowed"


def test_roles_duplicates_and_finished_runs_answer_as_documented(stack, world):
    def call(method, path, token, body):
        op = DOC["paths"][path][method.lower()]
        url = path.replace("{id}", world.org if "organizations" in path else world.project)
        r = send(stack, method, url, token=token, body=body)
        return r.status, check_answer(method, path, op, r)

    viewer = stack.new_user()
    assert call("POST", "/api/organizations/{id}/members", world.token, {"user_id": viewer, "role": "viewer"})[0] == 201
    status, err = call("POST", "/api/organizations/{id}/members", world.token, {"user_id": viewer, "role": "admin"})
    assert (status, err["error"]["code"]) == (409, "conflict")
    vt = stack.token(viewer)
    ingest = world.fill(request_examples(DOC["paths"]["/api/executions/ingest"]["post"])[0][1])
    assert call("POST", "/api/executions/ingest", vt, ingest)[0] == 403
    assert call("POST", "/api/workflows", vt, {"project_id": world.project, "name": "x"})[0] == 403
    assert call("POST", "/api/projects", vt, {"organization_id": world.org, "name": "x"})[0] == 403
    assert call("POST", "/api/organizations/{id}/members", vt, {"user_id": str(uuid.uuid4()), "role": "viewer"})[0] == 403
    assert call("GET", "/api/projects/{id}/api-keys", vt, None)[0] == 403

    assert call("POST", "/api/projects", world.token, {"organization_id": world.org, "name": "docs"})[0] == 409
    assert call("POST", "/api/workflows", world.token, {"project_id": world.project, "name": "pipeline"})[0] == 409

    live = {**ingest, "execution_id": str(uuid.uuid4()), "status": "running"}
    assert call("POST", "/api/executions/ingest", world.token, live)[0] == 201
    assert call("POST", "/api/executions/ingest", world.token, {**live, "status": "success"})[0] == 200
    status, err = call("POST", "/api/executions/ingest", world.token, live)
    assert (status, err["error"]["code"]) == (409, "conflict")
    other = {**ingest, "workflow_id": str(uuid.uuid4())}
    assert call("POST", "/api/executions/ingest", world.token, other)[0] == 404


def test_idempotency_replay_and_key_misuse_answer_as_documented(stack, world):
    path, op = "/api/executions/ingest", DOC["paths"]["/api/executions/ingest"]["post"]
    ingest = world.fill(request_examples(op)[0][1])
    key = {"Idempotency-Key": f"docs-{uuid.uuid4()}"}
    first = send(stack, "POST", path, token=world.token, body=ingest, headers=key)
    again = send(stack, "POST", path, token=world.token, body=ingest, headers=key)
    assert (first.status, again.status) == (201, 201)
    check_answer("POST", path, op, again)
    assert again.headers["Idempotent-Replayed"] == "true" and again.body == first.body
    other = send(stack, "POST", path, token=world.token, body={**ingest, "session_id": "other"}, headers=key)
    assert other.status == 422 and check_answer("POST", path, op, other)["error"]["path"] == "Idempotency-Key"
    bad = send(stack, "POST", path, token=world.token, body=ingest, headers={"Idempotency-Key": "has space"})
    assert bad.status == 422 and check_answer("POST", path, op, bad)["error"]["path"] == "Idempotency-Key"


def test_a_body_over_the_limit_answers_413_as_documented(stack, world):
    path, op = "/api/executions/ingest", DOC["paths"]["/api/executions/ingest"]["post"]
    limit = int(stack.env.get("AGORA_MAX_BODY_BYTES", 16 * 1024 * 1024))
    body = b'{"pad":"' + b"x" * limit + b'"}'
    r = stack.request("POST", path, token=world.token, body=body,
                      headers={"Content-Type": "application/json"}, timeout=60)
    assert r.status == 413, r
    assert check_answer("POST", path, op, r)["error"]["code"] == "payload_too_large"


def test_a_bad_query_value_names_its_parameter(stack, world):
    for path, query, name in (("/api/executions", "limit=0", "limit"), ("/api/executions", "cursor=zz", "cursor"),
                              ("/api/workflows", "limit=201", "limit"), ("/api/projects", "organization_id=x",
                                                                         "organization_id"),
                              ("/api/executions/{id}/telemetry-spans", "limit=1001", "limit")):
        op = DOC["paths"][path]["get"]
        r = stack.request("GET", path.replace("{id}", world.execution) + "?" + query, token=world.token)
        assert r.status == 422, (path, query, r)
        assert check_answer("GET", path, op, r)["error"]["path"] == name


def test_paging_follows_next_cursor_as_documented(stack, world):
    """limit + next_cursor walk a list; the last page says null."""
    path = "/api/executions/{id}/telemetry-events"
    op = DOC["paths"][path]["get"]
    ingest = world.fill(request_examples(DOC["paths"]["/api/executions/ingest"]["post"])[0][1])
    ingest["telemetry_events"] = [{"event_type": "tick", "timestamp": f"2024-11-26T12:00:0{i}Z"} for i in range(5)]
    ex = world.must("POST", "/api/executions/ingest", ingest)["execution_id"]
    seen, cursor = [], None
    for _ in range(10):
        url = path.replace("{id}", ex) + "?limit=2" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        body = check_answer("GET", path, op, stack.request("GET", url, token=world.token))
        seen += [e["timestamp"] for e in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == 5


def test_metrics_is_prometheus_text(stack):
    path = "/api/metrics"
    op = DOC["paths"][path]["get"]
    assert security_of(op) == []
    r = stack.request("GET", path)
    check_answer("GET", path, op, r)
    assert r.status == 200, r
    assert r.headers["Content-Type"].startswith("text/plain")


def test_a_database_outage_answers_503_as_documented(stack, world):
    """Last in this file: PostgreSQL goes away under the workers and comes
    back; meanwhile health, a user's read and an API key's read answer the
    documented 503."""
    health = DOC["paths"]["/api/health"]["get"]
    listing = DOC["paths"]["/api/executions"]["get"]
    stack.pg_stop()
    try:
        r = stack.request("GET", "/api/health", timeout=30)
        assert r.status == 503 and check_answer("GET", "/api/health", health, r)["error"]["code"] == "unavailable"
        for token in (world.token, world.key):
            r = stack.request("GET", "/api/executions", token=token, timeout=30)
            assert r.status == 503, r
            check_answer("GET", "/api/executions", listing, r)
    finally:
        stack.pg_start()
        assert stack.wait_healthy(60).status == 200


@pytest.fixture
def world(stack):
    return World(stack)
