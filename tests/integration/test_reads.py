"""The telemetry read routes end to end: GET /api/executions (keyset paging,
filters, tenancy), one execution with its counts, its timeline, spans,
events and state snapshots, through nginx, the FastCGI workers and
PostgreSQL with row-level security.

Data is seeded in bulk as the superuser (psql_admin, which bypasses RLS)
with generate_series, so the suite does not depend on the ingest route.
The module fixture `world` builds two organizations:

  A (owner ua): project pA1 with workflows wA1, wA2; project pA2 with wA3
  B (owner ub): project pB1 with workflow wB1
  umulti is a viewer of both A and B.

and 3,000 executions spread over the four workflows (g % 4), eight to a
started_at so every scope has ties, plus one "rich" execution in wA1 with
node executions, spans, events and snapshots whose order and fields are
checked exactly. Expected lists are computed from the seeded rows in
Python: newest first is (started_at, id) descending, and a uuid sorts in
PostgreSQL as its lowercase text does.

Tests that add rows (concurrent paging, 100,000 events) use organizations
of their own, so the expected lists of the others never change.
"""

import json
import urllib.parse
import uuid

import pytest

from conftest import proc_status_kib, reset_peak_rss

N_EXEC = 3000
STATUSES = ["running", "success", "error", "cancelled"]
EXECUTION_KEYS = {"id", "workflow_id", "project_id", "session_id", "status", "started_at",
                  "completed_at", "duration_ms", "error", "metadata", "usage", "stale"}
# What a run that reported no tokens shows (test_genai_usage.py has the rest).
NO_USAGE = {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0, "cost_complete": True}


# ---------------------------------------------------------------- helpers

def sql(stack, text):
    return stack.psql_admin(text)


def demo(stack, user):
    """agora-admin demo: the user's organization, project and workflow."""
    r = stack.admin("demo", "--user", user)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def api_key(stack, project, user):
    r = stack.admin("create-api-key", "--project", project, "--as", user)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["key"]


def add_workflow(stack, org, project, name):
    return sql(stack, f"INSERT INTO agora.workflows (organization_id, project_id, name) "
                      f"VALUES ('{org}', '{project}', '{name}') RETURNING id").strip()


def add_member(stack, org, user, role="viewer"):
    sql(stack, f"INSERT INTO agora.memberships (organization_id, user_id, role) "
               f"VALUES ('{org}', '{user}', '{role}')")


def get(stack, token, path, **params):
    """GET path with the query params (None values left out)."""
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    return stack.request("GET", path + ("?" + query if query else ""), token=token, timeout=60)


def ok(resp):
    assert resp.status == 200, resp
    assert resp.headers.get("content-type", "").startswith("application/json")
    body = resp.json()
    assert body is not None, resp.body[:300]
    return body


def page_all(stack, token, path, limit, **params):
    """Follows next_cursor from the first page to the last; returns the
    items in order and the number of pages. Fails on a repeated id."""
    items, seen, cursor, pages = [], set(), None, 0
    while True:
        body = ok(get(stack, token, path, limit=limit, cursor=cursor, **params))
        pages += 1
        assert len(body["items"]) <= limit
        for it in body["items"]:
            assert it["id"] not in seen, f"{it['id']} listed twice"
            seen.add(it["id"])
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages
        assert isinstance(cursor, str) and cursor
        assert len(body["items"]) == limit, "a page with a next page is full"
        assert pages < 1000


def newest_first(rows):
    return [r["id"] for r in sorted(rows, key=lambda r: (r["started_at"], r["id"]), reverse=True)]


def assert_error(resp, status, code, path=None):
    assert resp.status == status, resp
    err = resp.json()["error"]
    assert err["code"] == code, err
    if path is not None:
        assert err.get("path") == path, err


# ---------------------------------------------------------------- the world

RICH_NODES = """
INSERT INTO agora.node_executions (run_created_at, organization_id, project_id, execution_id, node_id, node_name,
    node_type, status, started_at, completed_at, prep_duration_ms, exec_duration_ms,
    post_duration_ms, retry_count, action, error)
SELECT e.created_at, e.organization_id, e.project_id, e.id, v.node_id::uuid, v.name, v.type, v.status,
       v.s::timestamptz, v.c::timestamptz, v.p, v.x, v.o, v.retry, v.action, v.err::jsonb
FROM agora.executions e, (VALUES
  ('n1', '6f1c1d2e-8f57-4a7a-9a43-2c1f7f1b0c01', 'AuditedNode', 'success', '2024-11-26T12:00:01.623457Z',
   '2024-11-26T12:00:02.623457Z', 1.5, 100.25, 2.0, 0, 'default', NULL, 1),
  ('n3', NULL, NULL, 'skipped', NULL, '2024-11-26T12:00:03Z', NULL, NULL, NULL, NULL, NULL, NULL, 2),
  ('n2', NULL, 'AuditedNode', 'running', '2024-11-26T12:00:00.123456Z', NULL, 0.5, NULL, NULL, 0,
   NULL, NULL, 3),
  ('n4', NULL, 'AuditedNode', 'error', '2024-11-26T12:00:01.623457Z', '2024-11-26T12:00:01.624Z',
   1, 2, 3, 2, 'retry', '{"message": "boom"}', 4)
) AS v(name, node_id, type, status, s, c, p, x, o, retry, action, err, ord)
WHERE e.id = '{rich}' ORDER BY v.ord;
"""

RICH_ITEMS = """
INSERT INTO agora.telemetry_spans (run_created_at, organization_id, project_id, execution_id, trace_id, span_id,
    parent_span_id, name, kind, start_time, end_time, duration_ms, status, attributes, node_name)
SELECT e.created_at, e.organization_id, e.project_id, e.id, 'trace1', v.span, v.parent, v.name, 'internal',
       v.s::timestamptz, v.s::timestamptz + interval '5 ms', 5, 'ok', v.attrs::jsonb, v.node
FROM agora.executions e, (VALUES
  ('s-c', 's-a', 'n1.exec', '2024-11-26T12:00:02Z', '{"k": 3}', 'n1', 1),
  ('s-a', NULL, 'root', '2024-11-26T12:00:00Z', '{"k": 1}', NULL, 2),
  ('s-b', 's-a', 'n1.prep', '2024-11-26T12:00:01Z', '{"k": 2}', 'n1', 3),
  ('s-d', 's-a', 'n2.exec', '2024-11-26T12:00:01Z', NULL, 'n2', 4),
  ('s-e', 's-a', 'n2.post', '2024-11-26T12:00:03Z', '{}', 'n2', 5)
) AS v(span, parent, name, s, attrs, node, ord)
WHERE e.id = '{rich}' ORDER BY v.ord;

INSERT INTO agora.telemetry_events (run_created_at, organization_id, project_id, execution_id, event_type,
    "timestamp", node_name, data)
SELECT e.created_at, e.organization_id, e.project_id, e.id, v.t, v.ts::timestamptz, v.node, v.data::jsonb
FROM agora.executions e, (VALUES
  ('node_end', '2024-11-26T12:00:02Z', 'n1', '{"i": 1}', 1),
  ('node_start', '2024-11-26T12:00:01Z', 'n1', '{"i": 2}', 2),
  ('retry', '2024-11-26T12:00:01.5Z', 'n4', '{"i": 3}', 3),
  ('node_start', '2024-11-26T12:00:01Z', 'n4', '{"i": 4}', 4),
  ('node_start', '2024-11-26T12:00:00.000001Z', 'n2', NULL, 5),
  ('node_end', '2024-11-26T12:00:03Z', NULL, '{"i": 6}', 6),
  ('retry', '2024-11-26T12:00:02.5Z', 'n4', '{"i": 7}', 7)
) AS v(t, ts, node, data, ord)
WHERE e.id = '{rich}' ORDER BY v.ord;

INSERT INTO agora.shared_state_snapshots (run_created_at, organization_id, project_id, execution_id, sequence,
    "timestamp", node_name, phase, state)
SELECT e.created_at, e.organization_id, e.project_id, e.id, v.seq, v.ts::timestamptz, v.node, v.phase, v.state::jsonb
FROM agora.executions e, (VALUES
  (2, '2024-11-26T12:00:02Z', 'n2', 'after', '{"v": 2}', 1),
  (0, '2024-11-26T12:00:00Z', NULL, 'before', '{"v": 0}', 2),
  (NULL, NULL, NULL, NULL, '{"v": "x"}', 3),
  (1, '2024-11-26T12:00:01Z', 'n1', 'after', '{"v": 1}', 4),
  (NULL, '2024-11-26T12:00:04Z', 'n4', 'after', '{"v": "y"}', 5),
  (1, '2024-11-26T12:00:01.5Z', 'n1', 'after', '{"v": 1.5}', 6)
) AS v(seq, ts, node, phase, state, ord)
WHERE e.id = '{rich}' ORDER BY v.ord;
"""


class World:
    pass


@pytest.fixture(scope="module")
def world(stack):
    w = World()
    w.ua, w.ub, w.umulti = stack.new_user(), stack.new_user(), stack.new_user()
    a, b = demo(stack, w.ua), demo(stack, w.ub)
    w.orgA, w.pA1, w.wA1 = a["organization_id"], a["project_id"], a["workflow_id"]
    w.orgB, w.pB1, w.wB1 = b["organization_id"], b["project_id"], b["workflow_id"]
    w.ta, w.tb, w.tmulti = stack.token(w.ua), stack.token(w.ub), stack.token(w.umulti)
    w.wA2 = add_workflow(stack, w.orgA, w.pA1, "second")
    r = stack.request("POST", "/api/projects", token=w.ta,
                      body={"organization_id": w.orgA, "name": "other"})
    assert r.status == 201, r
    w.pA2 = r.json()["id"]
    w.wA3 = add_workflow(stack, w.orgA, w.pA2, "third")
    add_member(stack, w.orgA, w.umulti)
    add_member(stack, w.orgB, w.umulti)
    w.keyA1 = api_key(stack, w.pA1, w.ua)
    w.keyA2 = api_key(stack, w.pA2, w.ua)
    w.keyB1 = api_key(stack, w.pB1, w.ub)

    # Eight executions to a started_at (ties in every scope), spread over
    # the four workflows; status and session vary independently.
    sql(stack, f"""
        INSERT INTO agora.executions (organization_id, project_id, workflow_id, session_id, status,
            started_at, completed_at, duration_ms, metadata)
        SELECT w.org::uuid, w.proj::uuid, w.wf::uuid, 'sess-' || (g % 10),
               (ARRAY['running','success','error','cancelled'])[1 + (g / 4) % 4],
               timestamptz '2024-03-01T00:00:00.123456Z' + (g / 8) * interval '1.000001 second',
               CASE WHEN g % 2 = 0 THEN timestamptz '2024-03-02T00:00:00Z' END,
               CASE WHEN g % 2 = 0 THEN g * 1.5 END, jsonb_build_object('g', g)
        FROM generate_series(0, {N_EXEC - 1}) g
        JOIN (VALUES (0, '{w.orgA}', '{w.pA1}', '{w.wA1}'), (1, '{w.orgA}', '{w.pA1}', '{w.wA2}'),
                     (2, '{w.orgA}', '{w.pA2}', '{w.wA3}'), (3, '{w.orgB}', '{w.pB1}', '{w.wB1}'))
             AS w(k, org, proj, wf) ON w.k = g % 4
    """)

    w.rich = str(uuid.uuid4())
    sql(stack, f"""
        INSERT INTO agora.executions (id, organization_id, project_id, workflow_id, session_id, status,
            started_at, completed_at, duration_ms, error, metadata, node_executions_count,
            telemetry_spans_count, telemetry_events_count, shared_state_snapshots_count)
        VALUES ('{w.rich}', '{w.orgA}', '{w.pA1}', '{w.wA1}', 'rich-session', 'error',
                '2024-11-26T12:00:00.123456Z', '2024-11-26T12:00:05.5Z', 5376.544,
                '{{"type": "ValueError", "message": "bad"}}', '{{"env": "test", "n": [1, 2]}}', 4, 5, 7, 6)
    """)
    sql(stack, RICH_NODES.replace("{rich}", w.rich))
    sql(stack, RICH_ITEMS.replace("{rich}", w.rich))

    out = sql(stack, f"""
        SELECT json_build_object('id', id, 'org', organization_id, 'project_id', project_id,
            'workflow_id', workflow_id, 'session_id', session_id, 'status', status,
            'started_at', agora.rfc3339(started_at))
        FROM agora.executions WHERE organization_id IN ('{w.orgA}', '{w.orgB}')
    """)
    w.rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(w.rows) == N_EXEC + 1
    return w


def expected(world, orgs, **filters):
    rows = [r for r in world.rows if r["org"] in orgs]
    for name, value in filters.items():
        if name == "since":
            rows = [r for r in rows if r["started_at"] >= value]
        elif name == "until":
            rows = [r for r in rows if r["started_at"] < value]
        else:
            rows = [r for r in rows if r[name] == value]
    return newest_first(rows)


# ---------------------------------------------------------------- the list

def test_a_user_in_two_organizations_pages_through_all_executions_newest_first(stack, world):
    items, pages = page_all(stack, world.tmulti, "/api/executions", 200)
    assert [i["id"] for i in items] == expected(world, {world.orgA, world.orgB})
    assert pages == (N_EXEC + 1 + 199) // 200
    keys = [(i["started_at"], i["id"]) for i in items]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)


def test_the_list_shows_each_execution_with_every_field(stack, world):
    body = ok(get(stack, world.ta, "/api/executions", limit=3))
    assert set(body) == {"items", "next_cursor"}
    for it in body["items"]:
        assert set(it) == EXECUTION_KEYS | {"counts"}
    first = body["items"][0]  # the rich execution is the newest of A
    assert first.pop("counts") == {"node_executions": 4, "telemetry_spans": 5, "telemetry_events": 7,
                                   "shared_state_snapshots": 6}
    assert first == {
        "id": world.rich, "workflow_id": world.wA1, "project_id": world.pA1,
        "session_id": "rich-session", "status": "error",
        "started_at": "2024-11-26T12:00:00.123456Z", "completed_at": "2024-11-26T12:00:05.500000Z",
        "duration_ms": 5376.544, "error": {"type": "ValueError", "message": "bad"},
        "metadata": {"env": "test", "n": [1, 2]}, "usage": NO_USAGE, "stale": False,
    }
    seeded = body["items"][1]  # then one of A's in the seed's newest group
    assert seeded["metadata"]["g"] // 8 == (N_EXEC - 1) // 8 and seeded["metadata"]["g"] % 4 != 3
    odd = ok(get(stack, world.ta, "/api/executions", workflow_id=world.wA2, limit=1))["items"][0]
    assert odd["completed_at"] is None and odd["duration_ms"] is None and odd["error"] is None


def test_the_default_page_holds_fifty(stack, world):
    body = ok(get(stack, world.ta, "/api/executions"))
    assert len(body["items"]) == 50 and body["next_cursor"]


@pytest.mark.parametrize("name,filters", [
    ("workflow", lambda w: {"workflow_id": w.wA2}),
    ("project", lambda w: {"project_id": w.pA1}),
    ("status", lambda w: {"status": "cancelled"}),
    ("session", lambda w: {"session_id": "sess-3"}),
    ("window", lambda w: {"since": "2024-03-01T00:01:00.123516Z", "until": "2024-03-01T00:03:00.123636Z"}),
    ("status and session", lambda w: {"status": "error", "session_id": "sess-7"}),
    ("project and session", lambda w: {"project_id": w.pA2, "session_id": "sess-2"}),
    ("workflow and session", lambda w: {"workflow_id": w.wA1, "session_id": "sess-4"}),
    ("workflow and status", lambda w: {"workflow_id": w.wB1, "status": "running"}),
    ("project, status, window", lambda w: {"project_id": w.pA1, "status": "success",
                                           "since": "2024-03-01T00:02:00.123576Z"}),
])
def test_each_filter_narrows_the_list_and_pages_cleanly(stack, world, name, filters):
    f = filters(world)
    items, _ = page_all(stack, world.tmulti, "/api/executions", 200, **f)
    want = expected(world, {world.orgA, world.orgB}, **f)
    assert want, f"filter {name} selects nothing: a useless test"
    assert [i["id"] for i in items] == want


def test_since_is_inclusive_and_until_exclusive_and_offsets_are_honoured(stack, world):
    # Group 10 of the seed starts at 00:00:10.123466Z; +01:00 names the same instant.
    at = "2024-03-01T01:00:10.123466+01:00"
    since = ok(get(stack, world.tmulti, "/api/executions", since=at, until="2024-03-01T00:00:11Z", limit=200))
    assert len(since["items"]) == 8
    assert {i["started_at"] for i in since["items"]} == {"2024-03-01T00:00:10.123466Z"}
    until = ok(get(stack, world.tmulti, "/api/executions", until=at, limit=200,
                   since="2024-03-01T00:00:09Z"))
    assert {i["started_at"] for i in until["items"]} == {"2024-03-01T00:00:09.123465Z"}


def test_an_api_key_lists_its_own_project_only(stack, world):
    items, _ = page_all(stack, world.keyA2, "/api/executions", 200)
    assert [i["id"] for i in items] == expected(world, {world.orgA}, project_id=world.pA2)
    items, _ = page_all(stack, world.keyA1, "/api/executions", 200, session_id="sess-5")
    assert [i["id"] for i in items] == expected(world, {world.orgA}, project_id=world.pA1,
                                                 session_id="sess-5")
    body = ok(get(stack, world.keyA2, "/api/executions", project_id=world.pA1))
    assert body == {"items": [], "next_cursor": None}
    body = ok(get(stack, world.keyA2, "/api/executions", workflow_id=world.wA1))
    assert body == {"items": [], "next_cursor": None}


def test_another_organization_sees_none_of_its_executions(stack, world):
    items, _ = page_all(stack, world.tb, "/api/executions", 200)
    assert [i["id"] for i in items] == expected(world, {world.orgB})
    assert not {i["id"] for i in items} & set(expected(world, {world.orgA}))
    for f in ({"workflow_id": world.wA1}, {"project_id": world.pA1}, {"session_id": "rich-session"}):
        assert ok(get(stack, world.tb, "/api/executions", **f))["items"] == []
    items, _ = page_all(stack, world.keyB1, "/api/executions", 200)
    assert [i["id"] for i in items] == expected(world, {world.orgB})
    stranger = stack.token(stack.new_user())
    assert ok(get(stack, stranger, "/api/executions")) == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("param,value", [
    ("limit", "0"), ("limit", "201"), ("limit", "abc"), ("limit", "-1"), ("limit", ""),
    ("limit", "1e2"), ("limit", " 5"), ("limit", "99999999999999999999"),
    ("workflow_id", "nope"), ("project_id", "1234"), ("status", "done"), ("status", "Error"),
    ("since", "yesterday"), ("until", "2024-13-01T00:00:00Z"), ("since", "2024-02-30T00:00:00Z"),
    ("cursor", "garbage"), ("cursor", ""),
])
def test_a_bad_list_parameter_answers_422_naming_it(stack, world, param, value):
    r = stack.request("GET", "/api/executions?" + urllib.parse.urlencode({param: value}), token=world.ta)
    assert_error(r, 422, "validation_failed", param)


def test_a_filter_that_is_not_utf8_answers_422_naming_it(stack, world):
    r = stack.request("GET", "/api/executions?session_id=%FF", token=world.ta)
    assert_error(r, 422, "validation_failed", "session_id")
    r = stack.request("GET", "/api/executions?session_id=a%00b", token=world.ta)
    assert_error(r, 422, "validation_failed", "session_id")


def test_unknown_or_repeated_list_parameters_answer_422(stack, world):
    assert_error(stack.request("GET", "/api/executions?stauts=error", token=world.ta),
                 422, "validation_failed", "stauts")
    assert_error(stack.request("GET", "/api/executions?limit=2&limit=3", token=world.ta),
                 422, "validation_failed", "limit")


def test_a_cursor_of_an_item_list_is_refused_by_the_execution_list(stack, world):
    spans = ok(get(stack, world.ta, f"/api/executions/{world.rich}/telemetry-spans", limit=1))
    r = get(stack, world.ta, "/api/executions", cursor=spans["next_cursor"])
    assert_error(r, 422, "validation_failed", "cursor")
    page = ok(get(stack, world.ta, "/api/executions", limit=1))
    r = get(stack, world.ta, f"/api/executions/{world.rich}/telemetry-spans", cursor=page["next_cursor"])
    assert_error(r, 422, "validation_failed", "cursor")


def test_a_cursor_belongs_to_its_list_and_its_filters(stack, world):
    """A next_cursor pages only the list, and the filters, it came from:
    anything else is a 422 naming cursor, never a page from a position that
    means nothing there. limit may change between pages."""
    def refused(path, cursor, **params):
        r = get(stack, world.ta, path, cursor=cursor, **params)
        assert_error(r, 422, "validation_failed", "cursor")
        assert "not a next_cursor of this list with these filters" in r.json()["error"]["message"]

    workflows = ok(get(stack, world.ta, "/api/workflows", limit=1))
    assert workflows["next_cursor"]
    refused("/api/executions", workflows["next_cursor"])
    refused("/api/workflows", workflows["next_cursor"], project_id=world.pA1)

    success = ok(get(stack, world.ta, "/api/executions", limit=2, status="success"))
    refused("/api/executions", success["next_cursor"], status="running")
    refused("/api/executions", success["next_cursor"])
    refused("/api/executions", success["next_cursor"], status="success", session_id="sess-1")
    refused("/api/workflows", success["next_cursor"])
    nxt = ok(get(stack, world.ta, "/api/executions", limit=5, status="success", cursor=success["next_cursor"]))
    assert len(nxt["items"]) == 5 and all(e["status"] == "success" for e in nxt["items"])

    rich = f"/api/executions/{world.rich}"
    spans = ok(get(stack, world.ta, rich + "/telemetry-spans", limit=1))
    refused(rich + "/telemetry-events", spans["next_cursor"])
    refused(rich + "/state-snapshots", spans["next_cursor"])
    other = next(r["id"] for r in world.rows if r["org"] == world.orgA and r["id"] != world.rich)
    refused(f"/api/executions/{other}/telemetry-spans", spans["next_cursor"])
    # The execution id is compared in its canonical (lowercase) form.
    rest = ok(get(stack, world.ta, rich.upper().replace("/API/EXECUTIONS/", "/api/executions/") + "/telemetry-spans",
                  cursor=spans["next_cursor"]))
    assert len(rest["items"]) == 4

    starts = ok(get(stack, world.ta, rich + "/telemetry-events", limit=1, event_type="node_start"))
    refused(rich + "/telemetry-events", starts["next_cursor"])
    refused(rich + "/telemetry-events", starts["next_cursor"], event_type="retry")
    ok(get(stack, world.ta, rich + "/telemetry-events", event_type="node_start", cursor=starts["next_cursor"]))


def test_paging_under_concurrent_inserts_neither_repeats_nor_skips(stack):
    user = stack.new_user()
    d = demo(stack, user)
    tok = stack.token(user)
    org, proj, wf = d["organization_id"], d["project_id"], d["workflow_id"]
    ins = ("INSERT INTO agora.executions (organization_id, project_id, workflow_id, session_id, status,"
           f" started_at) SELECT '{org}', '{proj}', '{wf}', 'c', 'running', {{ts}}"
           " FROM generate_series(1, {n}) g RETURNING id")
    # 1,000 executions in May, four to a second.
    originals = set(sql(stack, ins.format(
        n=1000, ts="timestamptz '2024-05-01T00:00:00Z' + (g / 4) * interval '1 second'")).split())
    assert len(originals) == 1000

    # Between pages, other clients keep inserting: rows newer than anything
    # listed (they belong before the first page), rows tied with or among
    # the May rows (either side of the position), and rows older than all
    # of them (April: still ahead of the reader, so they must show up).
    seen, keys, cursor, newer, older = [], [], None, set(), set()
    while True:
        body = ok(get(stack, tok, "/api/executions", limit=100, cursor=cursor))
        seen += [i["id"] for i in body["items"]]
        keys += [(i["started_at"], i["id"]) for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        newer.update(sql(stack, ins.format(n=3, ts="now()")).split())
        sql(stack, ins.format(n=5, ts="timestamptz '2024-05-01T00:00:00Z'"
                                      " + floor(random() * 251) * interval '1 second'"))
        if keys[-1][0] >= "2024-05-01":
            older.update(sql(stack, ins.format(
                n=3, ts="timestamptz '2024-04-01T00:00:00Z' + random() * interval '1 day'")).split())
    assert len(seen) == len(set(seen)), "an execution was listed twice"
    assert keys == sorted(keys, reverse=True)
    assert originals <= set(seen), f"{len(originals - set(seen))} executions were skipped"
    assert not newer & set(seen), "rows newer than the first page cannot show up later"
    assert older and older <= set(seen)


# ---------------------------------------------------------------- one execution

def test_the_detail_adds_the_item_counts(stack, world):
    body = ok(get(stack, world.tmulti, f"/api/executions/{world.rich}"))
    assert set(body) == EXECUTION_KEYS | {"counts"}
    assert body["counts"] == {"node_executions": 4, "telemetry_spans": 5, "telemetry_events": 7,
                              "shared_state_snapshots": 6}
    assert body["id"] == world.rich and body["started_at"] == "2024-11-26T12:00:00.123456Z"
    assert body["error"] == {"type": "ValueError", "message": "bad"}
    # Upper-case ids in the path name the same execution.
    assert ok(get(stack, world.ta, f"/api/executions/{world.rich.upper()}"))["id"] == world.rich


def test_a_running_execution_without_ingest_for_the_stale_time_reads_as_stale(stack, world):
    """AGORA_STALE_MINUTES (default 60): computed when read, nothing stored changes."""
    import uuid
    execution_id = str(uuid.uuid4())

    def ingest(status, code):
        r = stack.request("POST", "/api/executions/ingest", token=world.ta,
                          body={"workflow_id": world.wA1, "execution_id": execution_id, "session_id": "stale",
                                "status": status, "started_at": "2024-11-26T12:00:00Z"})
        assert r.status == code, r.body

    def stale():
        one = ok(get(stack, world.ta, f"/api/executions/{execution_id}"))["stale"]
        timeline = ok(get(stack, world.ta, f"/api/executions/{execution_id}/timeline"))["execution"]["stale"]
        listed = [e["stale"] for e in ok(get(stack, world.ta, "/api/executions", session_id="stale"))["items"]]
        assert listed == [one] and timeline == one
        return one

    def age(minutes):
        sql(stack, f"UPDATE agora.executions SET last_ingest_at = now() - interval '{minutes} minutes'"
                   f" WHERE id = '{execution_id}'")

    ingest("running", 201)
    assert stale() is False
    age(59)
    assert stale() is False
    age(61)
    stored = sql(stack, f"SELECT status, last_ingest_at FROM agora.executions WHERE id = '{execution_id}'")
    assert stale() is True
    assert sql(stack, f"SELECT status, last_ingest_at FROM agora.executions WHERE id = '{execution_id}'") == stored
    # An append is an ingest: fresh again.
    ingest("running", 200)
    assert stale() is False
    # Only a running execution is ever stale.
    ingest("success", 200)
    age(24 * 60)
    assert stale() is False


def test_the_timeline_orders_node_executions_by_start_with_offsets(stack, world):
    body = ok(get(stack, world.ta, f"/api/executions/{world.rich}/timeline"))
    assert set(body) == {"execution", "node_executions"}
    assert set(body["execution"]) == EXECUTION_KEYS
    assert body["execution"]["id"] == world.rich
    nodes = body["node_executions"]
    # n2 starts with the execution, n1 and n4 tie (id decides), n3 never started.
    assert [n["node_name"] for n in nodes] == ["n2", "n1", "n4", "n3"]
    ids = [n["id"] for n in nodes]
    assert all(isinstance(i, int) for i in ids) and ids[1] < ids[2]
    n2, n1, n4, n3 = nodes
    assert set(n1) == {"id", "client_id", "node_id", "node_name", "node_type", "status", "started_at", "completed_at",
                       "offset_ms", "prep_duration_ms", "exec_duration_ms", "post_duration_ms",
                       "duration_ms", "retry_count", "action", "error", "input_tokens", "output_tokens",
                       "cache_read_tokens", "cache_creation_tokens", "model", "provider", "cost_usd"}
    assert n1 == {
        "id": n1["id"], "client_id": None, "node_id": "6f1c1d2e-8f57-4a7a-9a43-2c1f7f1b0c01", "node_name": "n1",
        "node_type": "AuditedNode", "status": "success",
        "started_at": "2024-11-26T12:00:01.623457Z", "completed_at": "2024-11-26T12:00:02.623457Z",
        "offset_ms": 1500.001, "prep_duration_ms": 1.5, "exec_duration_ms": 100.25,
        "post_duration_ms": 2, "duration_ms": 1000, "retry_count": 0, "action": "default", "error": None,
        "input_tokens": None, "output_tokens": None, "cache_read_tokens": None, "cache_creation_tokens": None,
        "model": None, "provider": None, "cost_usd": None,
    }
    assert n2["offset_ms"] == 0 and n2["duration_ms"] is None and n2["completed_at"] is None
    assert n2["exec_duration_ms"] is None and n2["node_id"] is None
    assert n4["offset_ms"] == 1500.001 and n4["duration_ms"] == 0.543
    assert n4["error"] == {"message": "boom"} and n4["retry_count"] == 2 and n4["action"] == "retry"
    assert n3["started_at"] is None and n3["offset_ms"] is None and n3["duration_ms"] is None
    assert n3["status"] == "skipped" and n3["node_type"] is None


def test_spans_come_ordered_by_start_time_then_id(stack, world):
    body = ok(get(stack, world.ta, f"/api/executions/{world.rich}/telemetry-spans"))
    assert set(body) == {"items", "next_cursor"} and body["next_cursor"] is None
    spans = body["items"]
    assert [s["span_id"] for s in spans] == ["s-a", "s-b", "s-d", "s-c", "s-e"]
    assert all(isinstance(s["id"], int) for s in spans)
    assert spans[0] == {
        "id": spans[0]["id"], "trace_id": "trace1", "span_id": "s-a", "parent_span_id": None,
        "name": "root", "kind": "internal", "start_time": "2024-11-26T12:00:00.000000Z",
        "end_time": "2024-11-26T12:00:00.005000Z", "duration_ms": 5, "status": "ok",
        "attributes": {"k": 1}, "node_name": None,
    }
    assert spans[2]["attributes"] is None


def test_events_come_ordered_by_timestamp_and_filter_by_type_and_node(stack, world):
    path = f"/api/executions/{world.rich}/telemetry-events"
    events = ok(get(stack, world.ta, path))["items"]
    assert [e["data"]["i"] if e["data"] else None for e in events] == [None, 2, 4, 3, 1, 7, 6]
    assert set(events[0]) == {"id", "event_type", "timestamp", "node_name", "data"}
    assert events[0]["timestamp"] == "2024-11-26T12:00:00.000001Z"
    assert events[1]["id"] < events[2]["id"]
    by_type = ok(get(stack, world.ta, path, event_type="node_start"))["items"]
    assert [e["node_name"] for e in by_type] == ["n2", "n1", "n4"]
    by_node = ok(get(stack, world.ta, path, node_name="n4"))["items"]
    assert [e["data"]["i"] for e in by_node] == [4, 3, 7]
    both = ok(get(stack, world.ta, path, node_name="n4", event_type="retry"))["items"]
    assert [e["data"]["i"] for e in both] == [3, 7]
    assert ok(get(stack, world.ta, path, node_name="nobody"))["items"] == []


def test_snapshots_come_ordered_by_sequence_with_unsequenced_last(stack, world):
    snaps = ok(get(stack, world.ta, f"/api/executions/{world.rich}/state-snapshots"))["items"]
    assert [s["state"]["v"] for s in snaps] == [0, 1, 1.5, 2, "x", "y"]
    assert [s["sequence"] for s in snaps] == [0, 1, 1, 2, None, None]
    assert snaps[4] == {"id": snaps[4]["id"], "sequence": None, "timestamp": None, "node_name": None,
                        "phase": None, "state": {"v": "x"}}
    assert snaps[1]["timestamp"] == "2024-11-26T12:00:01.000000Z"


@pytest.mark.parametrize("route", ["telemetry-spans", "telemetry-events", "state-snapshots"])
@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 6, 7])
def test_item_lists_page_with_limit_and_cursor_into_the_full_list(stack, world, route, limit):
    path = f"/api/executions/{world.rich}/{route}"
    full = ok(get(stack, world.ta, path))["items"]
    items, pages = page_all(stack, world.ta, path, limit)
    assert items == full
    assert pages == max(1, -(-len(full) // limit))


def test_an_item_cursor_without_limit_returns_the_rest(stack, world):
    path = f"/api/executions/{world.rich}/state-snapshots"
    full = ok(get(stack, world.ta, path))["items"]
    for k in (1, 4, 5):
        first = ok(get(stack, world.ta, path, limit=k))
        rest = ok(get(stack, world.ta, path, cursor=first["next_cursor"]))
        assert first["items"] + rest["items"] == full and rest["next_cursor"] is None


def test_event_filters_page_too(stack, world):
    path = f"/api/executions/{world.rich}/telemetry-events"
    items, _ = page_all(stack, world.ta, path, 1, event_type="node_start")
    assert [e["node_name"] for e in items] == ["n2", "n1", "n4"]


@pytest.mark.parametrize("route,query,param", [
    ("telemetry-spans", "limit=0", "limit"),
    ("telemetry-spans", "limit=1001", "limit"),
    ("telemetry-events", "limit=x", "limit"),
    ("state-snapshots", "cursor=nope", "cursor"),
    ("telemetry-spans", "event_type=retry", "event_type"),
    ("state-snapshots", "node_name=n1", "node_name"),
    ("telemetry-events", "node_name=%FF", "node_name"),
    ("timeline", "limit=5", "limit"),
    ("", "verbose=1", "verbose"),
])
def test_a_bad_item_parameter_answers_422_naming_it(stack, world, route, query, param):
    path = f"/api/executions/{world.rich}" + (f"/{route}" if route else "")
    assert_error(stack.request("GET", f"{path}?{query}", token=world.ta), 422, "validation_failed", param)


READ_ROUTES = ["", "/timeline", "/telemetry-spans", "/telemetry-events", "/state-snapshots"]


@pytest.mark.parametrize("route", READ_ROUTES)
def test_every_read_route_hides_an_execution_from_other_tenants(stack, world, route):
    path = f"/api/executions/{world.rich}{route}"
    # Positive controls: its organization's users and its project's key.
    for tok in (world.ta, world.tmulti, world.keyA1):
        assert get(stack, tok, path).status == 200
    # Another organization's user and key, and a key of another project of
    # the same organization: 404, as if it did not exist.
    for tok in (world.tb, world.keyB1, world.keyA2, stack.token(stack.new_user())):
        assert_error(get(stack, tok, path), 404, "not_found")


@pytest.mark.parametrize("route", READ_ROUTES)
def test_an_unknown_or_malformed_execution_id_is_404(stack, world, route):
    assert_error(get(stack, world.ta, f"/api/executions/{uuid.uuid4()}{route}"), 404, "not_found")
    assert_error(get(stack, world.ta, f"/api/executions/not-a-uuid{route}"), 404, "not_found")


def test_reads_need_a_token(stack, world):
    for route in READ_ROUTES:
        assert get(stack, None, f"/api/executions/{world.rich}{route}").status == 401
    assert get(stack, None, "/api/executions").status == 401


# ---------------------------------------------------------------- large executions

def test_an_execution_with_100000_events_is_streamed_in_full(stack):
    user = stack.new_user()
    d = demo(stack, user)
    tok = stack.token(user)
    ex = str(uuid.uuid4())
    sql(stack, f"""
        INSERT INTO agora.executions (id, organization_id, project_id, workflow_id, session_id, status,
            started_at, telemetry_events_count)
        VALUES ('{ex}', '{d["organization_id"]}', '{d["project_id"]}', '{d["workflow_id"]}', 'big',
                'success', '2024-06-01T00:00:00Z', 100000);
        INSERT INTO agora.telemetry_events (run_created_at, organization_id, project_id, execution_id, event_type,
            "timestamp", node_name, data)
        SELECT (SELECT created_at FROM agora.executions WHERE id = '{ex}'),
               '{d["organization_id"]}', '{d["project_id"]}', '{ex}', 'tick',
               timestamptz '2024-06-01T00:00:00Z' + (g / 3) * interval '1 millisecond', 'n' || (g % 7),
               jsonb_build_object('g', g, 'pad', repeat('p', 200))
        FROM generate_series(1, 100000) g;
    """)

    # How far the workers' memory peaks above where it was: a worker that
    # built the ~30 MB answer in memory would grow by more than the answer;
    # streaming needs one FETCH batch (about 0.3 MB here).
    pids = stack.workers_pids()
    before = reset_peak_rss(pids)

    r = get(stack, tok, f"/api/executions/{ex}/telemetry-events")
    assert r.status == 200, r
    assert len(r.body) > 25_000_000
    items = ok(r)["items"]
    assert len(items) == 100000
    assert [e["data"]["g"] for e in items] == list(range(1, 100001))
    if before is not None:  # None: AddressSanitizer, see reset_peak_rss
        growth = max(proc_status_kib(pid, "VmHWM") - rss for pid, rss in before.items())
        assert growth < 12 * 1024, f"a worker grew by {growth} KiB: the answer was held in memory"

    count = ok(get(stack, tok, f"/api/executions/{ex}"))["counts"]["telemetry_events"]
    assert count == 100000
    filtered = ok(get(stack, tok, f"/api/executions/{ex}/telemetry-events", node_name="n3",
                      limit=1000))
    assert len(filtered["items"]) == 1000 and filtered["next_cursor"]
    assert all(e["node_name"] == "n3" for e in filtered["items"])


# ---------------------------------------------------------------- through ingest

def test_an_ingested_execution_reads_back_as_sent(stack):
    """The one test that writes through POST /api/executions/ingest: what a
    client sends comes back from the read routes, offset-less timestamps as
    UTC, node ids echoed, counts kept."""
    user = stack.new_user()
    d = demo(stack, user)
    tok = stack.token(user)
    payload = {
        "workflow_id": d["workflow_id"], "session_id": "roundtrip", "status": "success",
        "started_at": "2024-11-26T12:00:00", "completed_at": "2024-11-26T12:00:02.5Z",
        "duration_ms": 2500, "error": None, "metadata": {"client": "test"},
        "node_executions": [
            {"node_name": "process", "node_type": "AuditedNode", "status": "success",
             "started_at": "2024-11-26T12:00:00.250000Z", "completed_at": "2024-11-26T12:00:01.250Z",
             "prep_duration_ms": 1, "exec_duration_ms": 990, "post_duration_ms": 2, "retry_count": 1,
             "action": "default", "error": None},
            {"node_name": "load_data", "started_at": "2024-11-26T12:00:00Z"},
        ],
        "telemetry_events": [
            {"event_type": "node_end", "timestamp": "2024-11-26T12:00:01.25Z", "node_name": "process",
             "data": {"ok": True}},
            {"event_type": "node_start", "timestamp": "2024-11-26T12:00:00.25Z", "node_name": "process",
             "data": {}},
        ],
        "telemetry_spans": [
            {"trace_id": "ab", "span_id": "01", "name": "process.exec",
             "start_time": "2024-11-26T12:00:00.3Z", "end_time": "2024-11-26T12:00:01.2Z",
             "duration_ms": 900, "status": "ok", "attributes": {"k": "v"}, "node_name": "process"},
        ],
        "shared_state_snapshots": [
            {"sequence": 1, "timestamp": "2024-11-26T12:00:01.3Z", "node_name": "process",
             "phase": "after", "state": {"n": 1}},
            {"sequence": 0, "state": {"n": 0}},
        ],
    }
    r = stack.request("POST", "/api/executions/ingest", token=tok, body=payload)
    assert r.status == 201, r
    ex = r.json()["execution_id"]

    detail = ok(get(stack, tok, f"/api/executions/{ex}"))
    assert detail["started_at"] == "2024-11-26T12:00:00.000000Z"
    assert detail["completed_at"] == "2024-11-26T12:00:02.500000Z"
    assert detail["metadata"] == {"client": "test"} and detail["session_id"] == "roundtrip"
    assert detail["counts"] == {"node_executions": 2, "telemetry_spans": 1, "telemetry_events": 2,
                                "shared_state_snapshots": 2}
    listed = ok(get(stack, tok, "/api/executions", session_id="roundtrip"))["items"]
    assert [i["id"] for i in listed] == [ex]

    timeline = ok(get(stack, tok, f"/api/executions/{ex}/timeline"))
    nodes = timeline["node_executions"]
    assert [n["node_name"] for n in nodes] == ["load_data", "process"]
    assert all(n["node_id"] for n in nodes)  # found or created by name
    assert nodes[0]["offset_ms"] == 0 and nodes[1]["offset_ms"] == 250
    assert nodes[1]["duration_ms"] == 1000 and nodes[1]["exec_duration_ms"] == 990
    assert nodes[1]["retry_count"] == 1 and nodes[1]["action"] == "default"

    events = ok(get(stack, tok, f"/api/executions/{ex}/telemetry-events"))["items"]
    assert [e["event_type"] for e in events] == ["node_start", "node_end"]
    spans = ok(get(stack, tok, f"/api/executions/{ex}/telemetry-spans"))["items"]
    assert spans[0]["attributes"] == {"k": "v"} and spans[0]["end_time"] == "2024-11-26T12:00:01.200000Z"
    snaps = ok(get(stack, tok, f"/api/executions/{ex}/state-snapshots"))["items"]
    assert [s["state"]["n"] for s in snaps] == [0, 1]
