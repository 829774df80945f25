"""Taking runs away, end to end: GET /api/executions/{id}/export (the run as
an ingest payload), GET /api/executions?format=ndjson (a filtered range,
streamed one execution a line) and GET /api/executions/{id}/report (one
self-contained HTML file).

The round trip is the export's contract: a run exported, posted to the
ingest of another organization's project and exported again gives the same
document, once the identifiers that must differ are set aside (the
execution's id, its workflow's and the node executions' client ids: ids
are global, so a copy cannot keep them). The NDJSON stream is compared
line for line with the JSON list walked page by page under the same
filters. Tenancy: another organization's run is a 404 for export and
report and absent from its stream."""
import json
import re
import uuid

import pytest

INGEST = "/api/executions/ingest"
# What must differ between a run and its copy (README, "Export and report").
COPY_IDS = ("execution_id", "workflow_id")


class Org:
    """An owner with a fresh organization, project and workflow."""

    def __init__(self, stack, name):
        self.stack = stack
        self.owner = stack.new_user()
        self.tok = stack.token(self.owner)
        self.org = self.must("POST", "/api/organizations", {"name": name})["id"]
        self.project = self.must("POST", "/api/projects", {"organization_id": self.org, "name": "p"})["id"]
        self.workflow = self.must("POST", "/api/workflows", {"project_id": self.project, "name": "wf"})["id"]

    def must(self, method, path, body=None, token=None):
        r = self.stack.request(method, path, token=token or self.tok, body=body, timeout=120)
        assert r.status in (200, 201), f"{method} {path}: {r.status} {r.body[:300]!r}"
        return r.json()

    def get(self, path, token=None):
        return self.stack.request("GET", path, token=token or self.tok, timeout=120)


@pytest.fixture(scope="module")
def orgs(stack):
    return Org(stack, "Export A"), Org(stack, "Export B")


def rich_payload(workflow):
    """A run with every kind of item and field the ingest takes, names
    that need escaping included."""
    return {
        "workflow_id": workflow, "execution_id": str(uuid.uuid4()), "session_id": "export-1",
        "status": "running", "started_at": "2025-03-01T10:00:00.000001Z",
        "metadata": {"env": "test", "n": [1, 2.5, "x"], "nested": {"a": None}},
        "node_executions": [
            {"id": str(uuid.uuid4()), "node_name": "load", "node_type": "Loader", "status": "success",
             "started_at": "2025-03-01T10:00:00.010Z", "completed_at": "2025-03-01T10:00:00.120Z",
             "prep_duration_ms": 2, "exec_duration_ms": 100.5, "post_duration_ms": 3.25, "retry_count": 0,
             "action": "default"},
            {"node_name": "<script>alert(1)</script>", "node_type": "LLMNode", "status": "error",
             "started_at": "2025-03-01T10:00:00.200Z", "completed_at": "2025-03-01T10:00:01.200Z",
             "prep_duration_ms": 10, "exec_duration_ms": 900, "post_duration_ms": 5, "retry_count": 2,
             "error": {"type": "TimeoutError", "message": "model <b>timed</b> out & gave up"},
             "input_tokens": 1200, "output_tokens": 300, "cache_read_tokens": 200, "cache_creation_tokens": 50,
             "model": "gpt-4o", "provider": "openai"},
            {"node_name": "never", "status": "skipped"},
        ],
        "telemetry_events": [
            {"event_type": "node_start", "timestamp": "2025-03-01T10:00:00.010Z", "node_name": "load",
             "data": {"k": "v"}},
            {"event_type": "retry", "timestamp": "2025-03-01T10:00:00.500Z",
             "node_name": "<script>alert(1)</script>", "data": {"attempt": 2, "why": "</pre><i>slow</i>"}},
            {"event_type": "note", "timestamp": "2025-03-01T10:00:00.500Z"},
        ],
        "telemetry_spans": [
            {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7",
             "name": "load.exec", "kind": "internal", "start_time": "2025-03-01T10:00:00.012Z",
             "end_time": "2025-03-01T10:00:00.112Z", "duration_ms": 100, "status": "ok",
             "attributes": {"retries": 0}, "node_name": "load"},
            {"span_id": "00f067aa0ba902b8", "parent_span_id": "00f067aa0ba902b7", "name": "call",
             "start_time": "2025-03-01T10:00:00.300Z", "status": "error"},
        ],
        "shared_state_snapshots": [
            {"sequence": 0, "timestamp": "2025-03-01T10:00:00.121Z", "node_name": "load", "phase": "after",
             "state": {"docs": 3}},
            {"sequence": 1, "timestamp": "2025-03-01T10:00:01.201Z", "node_name": "<script>alert(1)</script>",
             "phase": "after", "state": {"docs": 3, "answer": "<img src=x>"}},
            {"state": {"docs": 4}},
        ],
    }


@pytest.fixture(scope="module")
def rich(orgs):
    """Org A's rich run, sent in two parts (a live run closed by an append
    that also updates a node execution by its client id)."""
    a, _ = orgs
    body = rich_payload(a.workflow)
    first = dict(body, telemetry_spans=[], shared_state_snapshots=[])
    first["node_executions"] = [dict(body["node_executions"][0], status="running", completed_at=None)]
    ex = a.must("POST", INGEST, first)["execution_id"]
    rest = dict(body, status="error", completed_at="2025-03-01T10:00:01.500Z", duration_ms=1500,
                error="TimeoutError: gave up", telemetry_events=[])
    a.must("POST", INGEST, rest)
    return ex, body


def export_of(org, ex, token=None):
    r = org.get(f"/api/executions/{ex}/export", token=token)
    assert r.status == 200, r
    return r, json.loads(r.body)


def without_copy_ids(doc):
    doc = {k: v for k, v in doc.items() if k not in COPY_IDS}
    doc["node_executions"] = [{k: v for k, v in n.items() if k != "id"} for n in doc["node_executions"]]
    return doc


# ------------------------------------------------------------------ export

def test_the_export_is_the_run_as_sent(orgs, rich):
    a, _ = orgs
    ex, sent = rich
    r, doc = export_of(a, ex)
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["content-disposition"] == f'attachment; filename="agora-run-{ex}.json"'
    assert doc["execution_id"] == ex and doc["workflow_id"] == a.workflow
    assert (doc["status"], doc["error"], doc["duration_ms"]) == ("error", "TimeoutError: gave up", 1500)
    assert doc["started_at"] == "2025-03-01T10:00:00.000001Z"
    assert doc["completed_at"] == "2025-03-01T10:00:01.500000Z"
    assert doc["metadata"] == sent["metadata"]
    nodes = doc["node_executions"]
    # One row per client id: the append updated "load" instead of adding one.
    assert [n["node_name"] for n in nodes] == ["load", "<script>alert(1)</script>", "never"]
    assert nodes[0]["id"] == sent["node_executions"][0]["id"] and nodes[0]["status"] == "success"
    assert nodes[1]["id"] is None and nodes[1]["error"] == sent["node_executions"][1]["error"]
    for field in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens", "model",
                  "provider", "retry_count", "exec_duration_ms"):
        assert nodes[1][field] == sent["node_executions"][1][field], field
    assert "node_id" not in nodes[0] and "cost_usd" not in nodes[1]
    assert [e["data"] for e in doc["telemetry_events"]] == [e.get("data") for e in sent["telemetry_events"]]
    assert [s["span_id"] for s in doc["telemetry_spans"]] == ["00f067aa0ba902b7", "00f067aa0ba902b8"]
    assert doc["telemetry_spans"][0]["attributes"] == {"retries": 0}
    assert [s["state"] for s in doc["shared_state_snapshots"]] == [s["state"] for s in sent["shared_state_snapshots"]]
    # The detail's counts agree with what the export holds.
    counts = a.must("GET", f"/api/executions/{ex}")["counts"]
    assert counts == {k: len(doc[k]) for k in counts}


def test_export_ingest_elsewhere_export_again_gives_the_same_document(orgs, rich):
    a, b = orgs
    ex, _ = rich
    _, original = export_of(a, ex)
    copy = dict(original, workflow_id=b.workflow, execution_id=str(uuid.uuid4()))
    copy["node_executions"] = [dict(n, id=str(uuid.uuid4()) if n["id"] else None)
                               for n in original["node_executions"]]
    r = b.stack.request("POST", INGEST, token=b.tok, body=copy)
    assert r.status == 201, r
    copied = r.json()["execution_id"]
    assert copied == copy["execution_id"]
    _, again = export_of(b, copied)
    assert without_copy_ids(again) == without_copy_ids(original)
    assert [n["id"] for n in again["node_executions"]] == [n["id"] for n in copy["node_executions"]]
    # And the copy of the copy is the copy: the export is stable.
    r, again_bytes = b.get(f"/api/executions/{copied}/export"), export_of(b, copied)[0].body
    assert r.body == again_bytes


def test_a_run_without_items_exports_and_reports(orgs):
    a, _ = orgs
    body = {"workflow_id": a.workflow, "session_id": "empty", "status": "success",
            "started_at": "2025-05-01T00:00:00Z"}
    ex = a.must("POST", INGEST, body)["execution_id"]
    _, doc = export_of(a, ex)
    assert doc == {"workflow_id": a.workflow, "execution_id": ex, "session_id": "empty", "status": "success",
                   "started_at": "2025-05-01T00:00:00.000000Z", "completed_at": None, "duration_ms": None,
                   "error": None, "metadata": None, "node_executions": [], "telemetry_events": [],
                   "telemetry_spans": [], "shared_state_snapshots": []}
    r = a.get(f"/api/executions/{ex}/report")
    assert r.status == 200, r
    html = r.body.decode("utf-8")
    assert "Node executions (0)" in html and "Events (0)" in html and html.rstrip().endswith("</html>")
    assert '<div class="row' not in html


def test_a_run_larger_than_the_body_limit_exports_whole(stack, orgs):
    """Three appends of about 6 MB: more than the 16 MiB an ingest body may
    hold. The export streams all of it; posting it back whole is refused
    with a clear 413 (README: split it or append)."""
    a, _ = orgs
    ex = str(uuid.uuid4())
    blob = "x" * 60000
    for part in range(3):
        events = [{"event_type": "chunk", "timestamp": f"2025-04-01T00:{part:02d}:{i // 60:02d}.{i % 60:03d}Z",
                   "data": {"part": part, "i": i, "blob": blob}} for i in range(100)]
        a.must("POST", INGEST, {"workflow_id": a.workflow, "execution_id": ex, "session_id": "huge",
                                "status": "running" if part < 2 else "success",
                                "started_at": "2025-04-01T00:00:00Z", "telemetry_events": events})
    r, doc = export_of(a, ex)
    assert len(r.body) > 16 * 1024 * 1024
    assert [(e["data"]["part"], e["data"]["i"]) for e in doc["telemetry_events"]] == \
        [(p, i) for p in range(3) for i in range(100)]
    assert all(e["data"]["blob"] == blob for e in doc["telemetry_events"])
    back = stack.request("POST", INGEST, token=a.tok, body=r.body,
                         headers={"Content-Type": "application/json"}, timeout=120)
    assert back.status == 413, back
    assert back.json()["error"]["code"] == "payload_too_large"


# ------------------------------------------------------------------ tenancy and bad ids

@pytest.mark.parametrize("route", ["export", "report"])
def test_another_orgs_run_is_not_found(orgs, rich, route):
    _, b = orgs
    ex, _ = rich
    r = b.get(f"/api/executions/{ex}/{route}")
    assert r.status == 404, r
    assert r.json()["error"]["code"] == "not_found"
    assert "content-disposition" not in r.headers


@pytest.mark.parametrize("route", ["export", "report"])
def test_an_api_key_of_another_project_sees_nothing(orgs, rich, route):
    a, _ = orgs
    ex, _ = rich
    other = a.must("POST", "/api/projects", {"organization_id": a.org, "name": f"other-{route}"})["id"]
    key = a.must("POST", f"/api/projects/{other}/api-keys")["key"]
    assert a.get(f"/api/executions/{ex}/{route}", token=key).status == 404
    own = a.must("POST", f"/api/projects/{a.project}/api-keys")["key"]
    assert a.get(f"/api/executions/{ex}/{route}", token=own).status == 200


@pytest.mark.parametrize("route", ["export", "report"])
def test_unknown_and_malformed_ids(orgs, route):
    a, _ = orgs
    unknown = a.get(f"/api/executions/{uuid.uuid4()}/{route}")
    assert unknown.status == 404 and unknown.json()["error"]["code"] == "not_found"
    # {id} matches canonical UUIDs only (router.c): anything else names no
    # resource, a JSON 404 like every route's.
    for bad in ("not-a-uuid", "1234", "00000000-0000-0000-0000-00000000000g"):
        r = a.get(f"/api/executions/{bad}/{route}")
        assert r.status == 404, r
        assert r.json()["error"]["code"] == "not_found"
    assert a.get(f"/api/executions/{uuid.uuid4()}/{route}?x=1").status == 422


# ------------------------------------------------------------------ report

def test_the_report_is_one_safe_html_file(orgs, rich):
    a, _ = orgs
    ex, _ = rich
    r = a.get(f"/api/executions/{ex}/report")
    assert r.status == 200, r
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-disposition"] == f'attachment; filename="agora-run-{ex}.html"'
    # Its own policy alone: nginx sends it instead of the site's.
    assert r.headers["content-security-policy"] == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    # Every other answer keeps the site's.
    other = a.get(f"/api/executions/{ex}/export")
    assert other.headers["content-security-policy"].startswith("default-src 'self'; script-src 'self'")
    html = r.body.decode("utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    # Nothing of the client's is markup: the node name is text.
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "model &lt;b&gt;timed&lt;/b&gt; out &amp; gave up" in html
    # Self-contained: no URL to fetch anything from.
    assert not re.search(r"(src|href)\s*=", html.replace("&lt;img src=x&gt;", ""))
    assert "http://" not in html and "https://" not in html and "<link" not in html
    # The Gantt: one row per node execution, three phases for the failed one.
    rows = re.findall(r'<div class="row( error)?" data-node="([^"]*)">(.*?)</div>', html)
    assert [(e, n) for e, n, _ in rows] == [("", "load"), (" error", "&lt;script&gt;alert(1)&lt;/script&gt;"),
                                            ("", "never")]
    assert [len(re.findall(r"<rect class=\"(prep|exec|post)\"", body)) for _, _, body in rows] == [3, 3, 0]
    assert "TimeoutError: gave up" in html
    assert html.count('<tr><td>') >= 3 + 3  # events and snapshots
    assert "node_start" in html and "&lt;/pre&gt;&lt;i&gt;slow&lt;/i&gt;" in html
    # State changes: the first state whole, then what each snapshot changed.
    assert '<li class="added"><code>+ answer</code>: &quot;&lt;img src=x&gt;&quot;</li>' in html
    assert '<li class="changed"><code>~ docs</code>: 3 &rarr; 4</li>' in html


# ------------------------------------------------------------------ NDJSON

N_BULK = 2500


@pytest.fixture(scope="module")
def bulk(stack, orgs):
    """2,500 executions in A's workflow, five to a started_at (ties), all
    statuses: more than one of the stream's internal pages."""
    a, _ = orgs
    stack.psql_admin(f"""
        INSERT INTO agora.executions (organization_id, project_id, workflow_id, session_id, status,
            started_at, duration_ms, metadata)
        SELECT '{a.org}', '{a.project}', '{a.workflow}', 'bulk-' || (g % 3),
               (ARRAY['running','success','error','cancelled'])[1 + g % 4],
               timestamptz '2024-01-01T00:00:00Z' + (g / 5) * interval '1 second', g, jsonb_build_object('g', g)
        FROM generate_series(1, {N_BULK}) g""")
    return a


def ndjson(org, token=None, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    r = org.get(f"/api/executions?format=ndjson{'&' + query if query else ''}", token=token)
    assert r.status == 200, r
    assert r.headers["content-type"] == "application/x-ndjson"
    text = r.body.decode("utf-8")
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def paged(org, token=None, **params):
    items, cursor = [], None
    while True:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        path = f"/api/executions?limit=200{'&' + query if query else ''}"
        page = org.must("GET", path + (f"&cursor={cursor}" if cursor else ""), token=token)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.parametrize("filters", [
    {},
    {"status": "error"},
    {"session_id": "bulk-1", "since": "2024-01-01T00:01:00Z", "until": "2024-01-01T00:05:00Z"},
    {"project_id": None},
])
def test_ndjson_is_the_json_list_walked_page_by_page(orgs, bulk, filters):
    a = bulk
    filters = {k: (a.project if v is None else v) for k, v in filters.items()}
    lines = ndjson(a, **filters)
    assert lines == paged(a, **filters)
    if not filters:
        assert len(lines) >= N_BULK
    ids = [x["id"] for x in lines]
    assert len(ids) == len(set(ids))


def test_ndjson_holds_no_other_orgs_runs(orgs, bulk, rich):
    a, b = orgs
    theirs = {x["id"] for x in ndjson(b)}
    ours = {x["id"] for x in ndjson(a)}
    assert rich[0] in ours and not theirs & ours
    assert all(x["project_id"] == b.project for x in ndjson(b))
    assert ndjson(b, workflow_id=a.workflow) == []


def test_ndjson_with_an_api_key_is_its_project_only(orgs, bulk):
    a = bulk
    other = a.must("POST", "/api/projects", {"organization_id": a.org, "name": "ndjson-other"})["id"]
    key = a.must("POST", f"/api/projects/{other}/api-keys")["key"]
    assert ndjson(a, token=key) == []
    own = a.must("POST", f"/api/projects/{a.project}/api-keys")["key"]
    lines = ndjson(a, token=own, status="success")
    assert lines == paged(a, token=own, status="success")
    assert len(lines) >= N_BULK // 4 and all(x["project_id"] == a.project for x in lines)


@pytest.mark.parametrize("query, param", [
    ("format=xml", "format"),
    ("format=ndjson&limit=10", "limit"),
    ("format=ndjson&status=bogus", "status"),
    ("format=ndjson&since=yesterday", "since"),
    ("format=ndjson&workflow_id=nope", "workflow_id"),
    ("format=ndjson&format=ndjson", "format"),
])
def test_a_bad_stream_request_is_a_json_error_before_any_line(orgs, query, param):
    a, _ = orgs
    r = a.get(f"/api/executions?{query}")
    assert r.status == 422, r
    assert r.headers["content-type"].startswith("application/json")
    err = r.json()["error"]
    assert err["code"] == "validation_failed" and err["path"] == param, err
