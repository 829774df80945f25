"""POST /api/executions/ingest end to end: HTTPS through nginx, FastCGI
workers, PostgreSQL with row-level security. What is stored (checked as the
superuser with psql_admin), all-or-nothing on a bad item, node ids found,
created once (also by two concurrent ingests) or refused, Idempotency-Key
replays (also under ten concurrent retries), live runs (appends, closing,
409 afterwards), who may ingest where, and one 100,000-event payload
(test_slow_..., skipped with AGORA_SKIP_SLOW=1).

Each test acts as fresh users in a fresh organization; workflows are made
with SQL, so these tests do not depend on POST /api/workflows."""
import hashlib
import json
import os
import threading
import time
import uuid

import pytest

ROUTE = "/api/executions/ingest"
TABLES = ("executions", "node_executions", "telemetry_spans", "telemetry_events",
          "shared_state_snapshots", "idempotency_keys")


def err(resp):
    body = resp.json()
    assert body is not None, resp.body
    return body["error"]


def sql_text(value):
    """A SQL string literal (test data only)."""
    return "'" + str(value).replace("'", "''") + "'"


class Tenant:
    """An owner with a fresh organization and project."""

    def __init__(self, stack):
        self.stack = stack
        self.owner = stack.new_user()
        self.tok = stack.token(self.owner)
        r = stack.request("POST", "/api/organizations", token=self.tok, body={"name": "Ingest org"})
        assert r.status == 201, r.body
        self.org = r.json()["id"]
        self.project = self.new_project("web")

    def new_project(self, name):
        r = self.stack.request("POST", "/api/projects", token=self.tok,
                               body={"organization_id": self.org, "name": name})
        assert r.status == 201, r.body
        return r.json()["id"]

    def workflow(self, nodes=(), project=None):
        """A new workflow (SQL, as the superuser) with the named nodes.
        Returns (workflow_id, {node name: node id})."""
        project = project or self.project
        wf = self.stack.psql_admin(
            "INSERT INTO agora.workflows (organization_id, project_id, name) VALUES "
            f"({sql_text(self.org)}, {sql_text(project)}, {sql_text('wf-' + uuid.uuid4().hex)}) RETURNING id"
        ).strip()
        ids = {}
        for name in nodes:
            ids[name] = self.stack.psql_admin(
                "INSERT INTO agora.workflow_nodes (organization_id, project_id, workflow_id, name, type) VALUES "
                f"({sql_text(self.org)}, {sql_text(project)}, {sql_text(wf)}, {sql_text(name)}, 'AuditedNode')"
                " RETURNING id").strip()
        return wf, ids

    def add(self, role):
        """A new user with role in the organization; returns their token."""
        user = self.stack.new_user()
        r = self.stack.request("POST", f"/api/organizations/{self.org}/members", token=self.tok,
                               body={"user_id": user, "role": role})
        assert r.status == 201, r.body
        return self.stack.token(user)

    def key(self, project=None):
        r = self.stack.request("POST", f"/api/projects/{project or self.project}/api-keys", token=self.tok)
        assert r.status == 201, r.body
        return r.json()["key"]

    def ingest(self, body, token=None, key=None, timeout=30):
        """POSTs body (a dict, or bytes sent as application/json)."""
        headers = {"Idempotency-Key": key} if key is not None else {}
        if isinstance(body, bytes):
            headers["Content-Type"] = "application/json"
        return self.stack.request("POST", ROUTE, token=token or self.tok, body=body, headers=headers,
                                  timeout=timeout)

    def hold(self, sql, seconds=1.0, end="COMMIT"):
        """Runs sql as the owner (agora_app, RLS) in a transaction kept open
        for seconds before end (COMMIT or ROLLBACK), in a thread. Returns
        the thread once sql has run (its session is seen sleeping)."""
        marker = f"hold-{uuid.uuid4().hex}"
        # psql_app ends the script with its own COMMIT: give it a transaction.
        script = f"{sql};\nSELECT pg_sleep({seconds}) /* {marker} */;\n{end};\nBEGIN"
        t = threading.Thread(target=self.stack.psql_app, args=(script,), kwargs={"user_id": self.owner})
        t.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.stack.psql_admin("SELECT count(*) FROM pg_stat_activity"
                                     f" WHERE state = 'active' AND query LIKE '%{marker}%'"
                                     " AND query NOT LIKE '%pg_stat_activity%'").strip() == "1":
                return t
            time.sleep(0.02)
        raise AssertionError("the holding transaction never started")

    def rows(self):
        """Rows of each telemetry table (and idempotency keys) in this
        organization, as the superuser sees them."""
        out = self.stack.psql_admin("SELECT " + ", ".join(
            f"(SELECT count(*) FROM agora.{t} WHERE organization_id = {sql_text(self.org)})" for t in TABLES))
        return dict(zip(TABLES, map(int, out.strip().split("|"))))

    def nodes(self, wf):
        """{name: (id, type)} of a workflow's nodes."""
        out = self.stack.psql_admin(
            f"SELECT name, id, coalesce(type, '') FROM agora.workflow_nodes WHERE workflow_id = {sql_text(wf)}")
        return {n: (i, t) for n, i, t in (line.split("|") for line in out.splitlines() if line)}

    def execution(self, execution_id):
        """The execution row as JSON (timestamps RFC 3339), or None."""
        out = self.stack.psql_admin(
            "SELECT json_build_object('session_id', session_id, 'status', status, 'workflow_id', workflow_id,"
            " 'started_at', agora.rfc3339(started_at), 'completed_at', agora.rfc3339(completed_at),"
            " 'duration_ms', duration_ms, 'error', error, 'metadata', metadata,"
            " 'counts', json_build_object('node_executions', node_executions_count,"
            "   'telemetry_spans', telemetry_spans_count, 'telemetry_events', telemetry_events_count,"
            "   'shared_state_snapshots', shared_state_snapshots_count))"
            f" FROM agora.executions WHERE id = {sql_text(execution_id)}").strip()
        return json.loads(out) if out else None


@pytest.fixture
def tenant(stack):
    return Tenant(stack)


def base(wf, **fields):
    body = {"workflow_id": wf, "session_id": "session-1", "status": "success",
            "started_at": "2024-11-26T12:00:00"}
    body.update(fields)
    return body


def events(n, node="processor", start=0):
    return [{"event_type": "tick", "timestamp": f"2024-11-26T12:00:{(start + i) % 60:02d}.{i % 1000000:06d}",
             "node_name": node, "data": {"i": start + i}} for i in range(n)]


def counts(ne=0, sp=0, ev=0, ss=0):
    return {"node_executions": ne, "telemetry_spans": sp, "telemetry_events": ev, "shared_state_snapshots": ss}


# ------------------------------------------------------------------ storing

def test_the_seed_example_payload_is_stored(tenant):
    """The payload of the reference client's documentation ("What Gets
    Sent"), with a real workflow and node id and the [...] filled in."""
    wf, nodes = tenant.workflow(["processor"])
    body = {
        "workflow_id": wf,
        "session_id": "test-123",
        "status": "success",
        "started_at": "2024-11-26T12:00:00",
        "completed_at": "2024-11-26T12:00:05",
        "duration_ms": 5000,
        "node_executions": [{
            "node_id": nodes["processor"],
            "node_name": "processor",
            "node_type": "AuditedNode",
            "status": "success",
            "prep_duration_ms": 1,
            "exec_duration_ms": 100,
            "post_duration_ms": 2,
        }],
        "telemetry_events": [
            {"event_type": "node_start", "timestamp": "2024-11-26T12:00:00", "node_name": "processor",
             "data": {}},
            {"event_type": "node_end", "timestamp": "2024-11-26T12:00:00.103", "node_name": "processor",
             "data": {"action": "default"}},
        ],
        "telemetry_spans": [{
            "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7",
            "parent_span_id": None, "name": "processor.exec", "kind": "internal",
            "start_time": "2024-11-26T12:00:00.001", "end_time": "2024-11-26T12:00:00.101",
            "duration_ms": 100, "status": "ok", "attributes": {"node": "processor"},
            "node_name": "processor",
        }],
    }
    r = tenant.ingest(body)
    assert r.status == 201, r.body
    ans = r.json()
    assert uuid.UUID(ans["execution_id"])
    assert ans == {"execution_id": ans["execution_id"], "status": "success", "counts": counts(1, 1, 2, 0)}

    ex = tenant.execution(ans["execution_id"])
    assert ex["session_id"] == "test-123" and ex["status"] == "success" and ex["workflow_id"] == wf
    assert ex["started_at"] == "2024-11-26T12:00:00.000000Z"  # offset-less means UTC
    assert ex["completed_at"] == "2024-11-26T12:00:05.000000Z"
    assert ex["duration_ms"] == 5000 and ex["counts"] == counts(1, 1, 2, 0)
    out = tenant.stack.psql_admin(
        "SELECT node_id, node_name, node_type, status, prep_duration_ms, exec_duration_ms, post_duration_ms"
        f" FROM agora.node_executions WHERE execution_id = {sql_text(ans['execution_id'])}")
    assert out.strip() == f"{nodes['processor']}|processor|AuditedNode|success|1|100|2"
    out = tenant.stack.psql_admin(
        "SELECT event_type, agora.rfc3339(\"timestamp\"), data FROM agora.telemetry_events"
        f" WHERE execution_id = {sql_text(ans['execution_id'])} ORDER BY id")
    assert out.splitlines() == ["node_start|2024-11-26T12:00:00.000000Z|{}",
                                'node_end|2024-11-26T12:00:00.103000Z|{"action": "default"}']
    assert tenant.rows()["telemetry_spans"] == 1


def test_a_payload_with_every_field_is_stored_as_sent(tenant):
    wf, nodes = tenant.workflow(["load"])
    execution_id = str(uuid.uuid4())
    body = {
        "workflow_id": wf, "session_id": "sess-all", "execution_id": execution_id,
        "status": "error", "started_at": "2024-11-26T12:00:00.5+01:00",
        "completed_at": "2024-11-26T11:00:09.25Z", "duration_ms": 8750.5,
        "error": {"type": "ValueError", "message": "bad\nvalue"},
        "metadata": {"host": "h1", "tags": ["a", "b"], "big": 123456789012345678901234567890},
        "node_executions": [{
            "node_id": nodes["load"].upper(), "node_name": "load", "node_type": "AuditedNode",
            "status": "error", "started_at": "2024-11-26T11:00:00.600001Z",
            "completed_at": "2024-11-26T11:00:01.7Z", "prep_duration_ms": 1.25, "exec_duration_ms": 100,
            "post_duration_ms": 0, "retry_count": 3, "action": "retry", "error": "Traceback ...\n  boom",
        }],
        "telemetry_events": [{"event_type": "node_error", "timestamp": "2024-11-26T11:00:01.7Z",
                              "node_name": "load", "data": [1, "two", None, {"x": 1.5}]}],
        "telemetry_spans": [{
            "trace_id": "ABCDEF0123456789", "span_id": "1234", "parent_span_id": "abcd", "name": "load.exec",
            "kind": "internal", "start_time": "2024-11-26T11:00:00.7Z", "end_time": "2024-11-26T11:00:01.6Z",
            "duration_ms": 900, "status": "error", "attributes": {"retry": 3}, "node_name": "load",
        }],
        "shared_state_snapshots": [
            {"sequence": 0, "timestamp": "2024-11-26T11:00:00.6Z", "node_name": "load", "phase": "before",
             "state": {}},
            {"sequence": 1, "timestamp": "2024-11-26T11:00:01.7Z", "node_name": "load", "phase": "after",
             "state": {"rows": 10, "nested": {"deep": [True, False]}}},
        ],
        "a_field_from_a_newer_client": {"ignored": True},
    }
    r = tenant.ingest(body)
    assert r.status == 201, r.body
    assert r.json() == {"execution_id": execution_id, "status": "error", "counts": counts(1, 1, 1, 2)}

    ex = tenant.execution(execution_id)
    assert ex["started_at"] == "2024-11-26T11:00:00.500000Z"
    assert ex["completed_at"] == "2024-11-26T11:00:09.250000Z"
    assert ex["duration_ms"] == 8750.5 and ex["session_id"] == "sess-all"
    assert ex["error"] == body["error"]
    assert ex["metadata"] == body["metadata"]  # jsonb keeps the 30-digit number exact

    def one(sql):
        out = tenant.stack.psql_admin(sql + f" WHERE x.execution_id = {sql_text(execution_id)}) t").strip()
        return json.loads(out)

    ne = one("SELECT row_to_json(t) FROM (SELECT node_id, node_name, node_type, status,"
             " agora.rfc3339(started_at) AS started_at, agora.rfc3339(completed_at) AS completed_at,"
             " prep_duration_ms, exec_duration_ms, post_duration_ms, retry_count, action, error"
             " FROM agora.node_executions x")
    want = dict(body["node_executions"][0], node_id=nodes["load"], started_at="2024-11-26T11:00:00.600001Z",
                completed_at="2024-11-26T11:00:01.700000Z")
    assert ne == want
    sp = one("SELECT row_to_json(t) FROM (SELECT trace_id, span_id, parent_span_id, name, kind,"
             " agora.rfc3339(start_time) AS start_time, agora.rfc3339(end_time) AS end_time, duration_ms,"
             " status, attributes, node_name FROM agora.telemetry_spans x")
    assert sp == dict(body["telemetry_spans"][0], start_time="2024-11-26T11:00:00.700000Z",
                      end_time="2024-11-26T11:00:01.600000Z")
    ev = one("SELECT row_to_json(t) FROM (SELECT event_type, agora.rfc3339(\"timestamp\") AS \"timestamp\","
             " node_name, data FROM agora.telemetry_events x")
    assert ev == dict(body["telemetry_events"][0], timestamp="2024-11-26T11:00:01.700000Z")
    ss = one("SELECT json_agg(t ORDER BY t.sequence) FROM (SELECT sequence, node_name, phase, state"
             " FROM agora.shared_state_snapshots x")
    assert ss == [{k: s[k] for k in ("sequence", "node_name", "phase", "state")}
                  for s in body["shared_state_snapshots"]]


@pytest.mark.parametrize("spelling", ["plain", "escaped names", "repeated members"])
def test_execution_fields_reach_the_row_however_the_body_spells_them(tenant, spelling):
    """The statements get only the top-level members they read, cut from
    the body's text; a name spelled with escapes (which the cut does not
    decode) falls back to the whole body, and of repeated members the last
    counts, as jsonb reads them."""
    wf, _ = tenant.workflow(["load"])
    fields = {"completed_at": "2024-11-26T11:00:09Z", "duration_ms": 12.5,
              "error": {"type": "E"}, "metadata": {"m": [1, 2]}}
    body = {"workflow_id": wf, "session_id": "s", "status": "error", "started_at": "2024-11-26T11:00:00Z",
            **fields, "node_executions": [{"node_name": "load", "status": "success"}]}
    text = json.dumps(body)
    if spelling == "escaped names":
        text = (text.replace('"completed_at"', '"\\u0063ompleted_at"')
                    .replace('"node_executions"', '"\\u006eode_executions"'))
    elif spelling == "repeated members":
        text = ('{"metadata": {"first": true}, "error": "first", "duration_ms": 1, "node_executions": [],'
                + text[1:])
    r = tenant.ingest(text.encode())
    assert r.status == 201, r.body
    assert r.json()["counts"] == counts(1, 0, 0, 0)
    ex = tenant.execution(r.json()["execution_id"])
    assert ex["completed_at"] == "2024-11-26T11:00:09.000000Z"
    assert (ex["duration_ms"], ex["error"], ex["metadata"]) == (12.5, fields["error"], fields["metadata"])
    assert ex["counts"]["node_executions"] == 1


def test_tables_sent_empty_or_null_store_no_items(tenant):
    wf, _ = tenant.workflow()
    r = tenant.ingest(base(wf, node_executions=[], telemetry_events=None, telemetry_spans=[],
                           shared_state_snapshots=None, error=None, metadata=None, completed_at=None,
                           duration_ms=None))
    assert r.status == 201, r.body
    assert r.json()["counts"] == counts()
    ex = tenant.execution(r.json()["execution_id"])
    assert ex["error"] is None and ex["metadata"] is None and ex["completed_at"] is None


def test_a_payload_with_a_bad_500th_event_writes_nothing(tenant):
    wf, _ = tenant.workflow(["processor"])
    evs = events(500)
    evs[499]["timestamp"] = "2024-11-26T25:00:00"
    body = base(wf, execution_id=str(uuid.uuid4()), telemetry_events=evs,
                node_executions=[{"node_name": "brand-new-node"}],
                shared_state_snapshots=[{"state": {}}])
    r = tenant.ingest(body, key="all-or-nothing")
    assert r.status == 422, r.body
    assert err(r)["code"] == "validation_failed"
    assert err(r)["path"] == "telemetry_events[499].timestamp"
    assert tenant.rows() == dict.fromkeys(TABLES, 0)
    assert set(tenant.nodes(wf)) == {"processor"}

    # The same key and a fixed body then work: the failure claimed nothing.
    evs[499]["timestamp"] = "2024-11-26T23:00:00"
    r = tenant.ingest(body, key="all-or-nothing")
    assert r.status == 201, r.body
    assert r.json()["counts"] == counts(1, 0, 500, 1)


# ------------------------------------------------------------------ node ids

def test_a_node_id_of_another_workflow_is_refused_with_its_path(tenant):
    wf, nodes = tenant.workflow(["a"])
    other_wf, other_nodes = tenant.workflow(["b"])
    body = base(wf, node_executions=[
        {"node_name": "created-by-name"},
        {"node_id": nodes["a"], "node_name": "a"},
        {"node_id": other_nodes["b"], "node_name": "b"},
        {"node_id": str(uuid.uuid4()), "node_name": "c"},
    ], telemetry_events=events(3))
    r = tenant.ingest(body)
    assert r.status == 422, r.body
    assert err(r)["code"] == "validation_failed"
    assert err(r)["path"] == "node_executions[2].node_id"
    assert tenant.rows() == dict.fromkeys(TABLES, 0)
    assert set(tenant.nodes(wf)) == {"a"} and set(tenant.nodes(other_wf)) == {"b"}


def test_a_missing_node_is_created_once_and_an_existing_one_found_by_name(tenant):
    wf, nodes = tenant.workflow(["existing"])
    body = base(wf, node_executions=[
        {"node_name": "fresh"},
        {"node_name": "existing", "node_type": "ignored for an existing node"},
        {"node_name": "fresh", "node_type": "FreshNode"},
        {"node_name": "fresh", "node_type": "OtherType"},
    ])
    for _ in range(2):
        r = tenant.ingest(body)
        assert r.status == 201, r.body
    found = tenant.nodes(wf)
    assert set(found) == {"existing", "fresh"}
    assert found["existing"] == (nodes["existing"], "AuditedNode")
    assert found["fresh"][1] == "FreshNode"  # the first type given for it
    out = tenant.stack.psql_admin(
        "SELECT node_name, node_id, count(*) FROM agora.node_executions"
        f" WHERE organization_id = {sql_text(tenant.org)} GROUP BY 1, 2 ORDER BY 1")
    assert out.splitlines() == [f"existing|{nodes['existing']}|2", f"fresh|{found['fresh'][0]}|6"]


def run_together(n, fn):
    """Runs fn(i) for i in 0..n-1 in n threads released at once; returns
    the results in order."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def work(i):
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as e:  # noqa: BLE001 - reported by the caller's asserts
            results[i] = e

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def test_two_concurrent_ingests_creating_the_same_node_both_succeed_with_one_node(tenant):
    wf, _ = tenant.workflow()
    for round_ in range(3):
        name = f"concurrent-{round_}"
        # Several new nodes in opposite orders, and enough events that the
        # two transactions overlap.
        names = [name, f"{name}-x", f"{name}-y"]

        def go(i):
            order = names if i == 0 else list(reversed(names))
            body = base(wf, session_id=f"s{i}", node_executions=[{"node_name": n} for n in order],
                        telemetry_events=events(3000))
            return tenant.ingest(body)

        results = run_together(2, go)
        for r in results:
            assert not isinstance(r, Exception), r
            assert r.status == 201, r.body
        found = tenant.nodes(wf)
        assert set(names) <= set(found)
        out = tenant.stack.psql_admin(
            "SELECT count(DISTINCT n.id), count(*) FROM agora.node_executions x"
            " JOIN agora.workflow_nodes n ON n.id = x.node_id"
            f" WHERE n.workflow_id = {sql_text(wf)} AND n.name = {sql_text(name)}")
        assert out.strip() == "1|2"


@pytest.mark.parametrize("end", ["COMMIT", "ROLLBACK"])
def test_an_ingest_waits_for_a_node_being_created_elsewhere(tenant, end):
    """Deterministic form of the race above: another transaction has
    inserted the node and not committed yet. The ingest waits for it, then
    uses that node (COMMIT) or creates its own (ROLLBACK)."""
    wf, _ = tenant.workflow()
    held = str(uuid.uuid4())
    t = tenant.hold("INSERT INTO agora.workflow_nodes (id, organization_id, project_id, workflow_id, name)"
                    f" VALUES ({sql_text(held)}, {sql_text(tenant.org)}, {sql_text(tenant.project)},"
                    f" {sql_text(wf)}, 'held')", end=end)
    started = time.monotonic()
    r = tenant.ingest(base(wf, node_executions=[{"node_name": "held"}]))
    waited = time.monotonic() - started
    t.join()
    assert r.status == 201, r.body
    assert waited > 0.3
    node_id = tenant.nodes(wf)["held"][0]
    assert (node_id == held) == (end == "COMMIT")
    out = tenant.stack.psql_admin(
        f"SELECT node_id FROM agora.node_executions WHERE execution_id = {sql_text(r.json()['execution_id'])}")
    assert out.strip() == node_id


# ------------------------------------------------------------------ the node limit

NODES_MAX = 1000  # WORKFLOW_NODES_MAX (src/domain/workflow_limits.h): POST /api/workflows refuses 1,001 too


def names(n, prefix="n"):
    return [{"node_name": f"{prefix}-{i:05d}"} for i in range(n)]


def assert_node_limit_refused(r):
    assert r.status == 422, r.body
    e = err(r)
    assert e["code"] == "validation_failed"
    assert e["path"] == "node_executions"
    assert f"more than {NODES_MAX} nodes" in e["message"], e["message"]


def test_an_ingest_naming_more_new_nodes_than_the_limit_is_refused_and_writes_nothing(tenant):
    wf, _ = tenant.workflow()
    body = base(wf, node_executions=names(NODES_MAX + 1), telemetry_events=events(3))
    r = tenant.ingest(body, key="too-many-nodes")
    assert_node_limit_refused(r)
    assert tenant.rows() == dict.fromkeys(TABLES, 0)
    assert tenant.nodes(wf) == {}
    # One name fewer fits; the refused key claimed nothing.
    body["node_executions"].pop()
    r = tenant.ingest(body, key="too-many-nodes")
    assert r.status == 201, r.body
    assert len(tenant.nodes(wf)) == NODES_MAX


def test_ingests_reach_the_node_limit_exactly_and_one_past_it_is_refused(tenant):
    wf, existing = tenant.workflow(["existing"])
    execution_id = str(uuid.uuid4())
    r = tenant.ingest(base(wf, execution_id=execution_id, status="running",
                           node_executions=names(600) + [{"node_name": "existing"}]))
    assert r.status == 201, r.body
    # An append to the live run: 399 more new nodes (and some known ones) make 1,000.
    r = tenant.ingest(base(wf, execution_id=execution_id, status="running",
                           node_executions=names(600) + names(399, "m")))
    assert r.status == 200, r.body
    assert len(tenant.nodes(wf)) == NODES_MAX
    rows = tenant.rows()
    ex = tenant.execution(execution_id)

    # One new name more, in an append or a new execution: refused, nothing written.
    r = tenant.ingest(base(wf, execution_id=execution_id, status="running",
                           node_executions=[{"node_name": "existing"}, {"node_name": "one-too-many"}],
                           telemetry_events=events(2)))
    assert_node_limit_refused(r)
    r = tenant.ingest(base(wf, node_executions=[{"node_name": "one-too-many"}]))
    assert_node_limit_refused(r)
    assert tenant.rows() == rows and tenant.execution(execution_id) == ex
    assert len(tenant.nodes(wf)) == NODES_MAX and "one-too-many" not in tenant.nodes(wf)

    # Known names, by name or by id, still go in.
    r = tenant.ingest(base(wf, node_executions=[{"node_name": "m-00000"},
                                                {"node_id": existing["existing"], "node_name": "existing"}]))
    assert r.status == 201, r.body


def test_a_workflow_already_past_the_node_limit_takes_its_own_names_and_no_new_one(tenant):
    """A workflow grown past the limit before it was enforced (here by SQL)
    keeps working for the nodes it has, even named all at once."""
    wf, _ = tenant.workflow()
    tenant.stack.psql_admin(
        "INSERT INTO agora.workflow_nodes (organization_id, project_id, workflow_id, name)"
        f" SELECT {sql_text(tenant.org)}, {sql_text(tenant.project)}, {sql_text(wf)}, 'n-' || lpad(g::text, 5, '0')"
        f" FROM generate_series(0, {NODES_MAX + 4}) g")
    r = tenant.ingest(base(wf, node_executions=names(NODES_MAX + 5)))
    assert r.status == 201, r.body
    r = tenant.ingest(base(wf, node_executions=names(3) + [{"node_name": "new"}]))
    assert_node_limit_refused(r)
    assert len(tenant.nodes(wf)) == NODES_MAX + 5


def test_two_concurrent_ingests_cannot_together_pass_the_node_limit(tenant):
    """Each alone fits (600 new nodes); both would make 1,200. Node creation
    is serialized per workflow, so exactly one of them is stored."""
    for _ in range(2):
        wf, _ = tenant.workflow()

        def go(i):
            return tenant.ingest(base(wf, session_id=f"s{i}", node_executions=names(600, f"r{i}"),
                                      telemetry_events=events(3000)))

        results = run_together(2, go)
        for r in results:
            assert not isinstance(r, Exception), r
        assert sorted(r.status for r in results) == [201, 422], results
        assert_node_limit_refused(next(r for r in results if r.status == 422))
        assert len(tenant.nodes(wf)) == 600


# ------------------------------------------------------------------ idempotency

def test_a_retry_with_the_same_key_replays_the_answer_and_writes_nothing(tenant):
    wf, _ = tenant.workflow()
    body = base(wf, telemetry_events=events(5))
    first = tenant.ingest(body, key="retry-1")
    assert first.status == 201, first.body
    assert "idempotent-replayed" not in first.headers
    before = tenant.rows()

    again = tenant.ingest(body, key="retry-1")
    assert again.status == 201, again.body
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.body == first.body
    assert tenant.rows() == before == dict(before, executions=1, telemetry_events=5, idempotency_keys=1)

    # Another body under the same key: 422, nothing written.
    r = tenant.ingest(base(wf, session_id="different"), key="retry-1")
    assert r.status == 422, r.body
    assert err(r)["path"] == "Idempotency-Key"
    assert "different body" in err(r)["message"]
    assert tenant.rows() == before

    # Keys are the caller's: another member's same key is a new request.
    member = tenant.add("member")
    r = tenant.ingest(body, token=member, key="retry-1")
    assert r.status == 201, r.body
    assert r.json()["execution_id"] != first.json()["execution_id"]
    assert "idempotent-replayed" not in r.headers


def test_an_idempotency_key_is_the_callers_within_one_organization(stack, tenant):
    """sql/027: a key is unique per caller and organization (the table is
    distributed by organization), so the caller's same key in another of
    their organizations is a new request there, and neither answer
    replaces the other."""
    wf, _ = tenant.workflow()
    first = tenant.ingest(base(wf, telemetry_events=events(1)), key="per-org")
    assert first.status == 201, first.body

    other = Tenant(stack)
    r = stack.request("POST", f"/api/organizations/{other.org}/members", token=other.tok,
                      body={"user_id": tenant.owner, "role": "member"})
    assert r.status == 201, r.body
    other_wf, _ = other.workflow()
    elsewhere = tenant.ingest(base(other_wf, session_id="another body"), key="per-org")
    assert elsewhere.status == 201, elsewhere.body
    assert "idempotent-replayed" not in elsewhere.headers
    assert elsewhere.json()["execution_id"] != first.json()["execution_id"]
    assert other.rows()["idempotency_keys"] == 1 and other.rows()["executions"] == 1

    # Each organization's retry replays its own answer.
    for body, answer in ((base(wf, telemetry_events=events(1)), first),
                         (base(other_wf, session_id="another body"), elsewhere)):
        r = tenant.ingest(body, key="per-org")
        assert (r.status, r.headers.get("idempotent-replayed"), r.body) == (201, "true", answer.body)


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "tab\there", "caf\u00e9"])
def test_a_malformed_idempotency_key_is_refused(tenant, key):
    wf, _ = tenant.workflow()
    headers = {"Idempotency-Key": key.encode("utf-8")}
    r = tenant.stack.request("POST", ROUTE, token=tenant.tok, body=base(wf), headers=headers)
    assert r.status == 422, r.body
    assert err(r)["path"] == "Idempotency-Key"
    assert tenant.rows()["executions"] == 0


def test_a_255_character_idempotency_key_is_accepted(tenant):
    wf, _ = tenant.workflow()
    key = "".join(chr(0x21 + i % 94) for i in range(255))
    r = tenant.ingest(base(wf), key=key)
    assert r.status == 201, r.body
    r = tenant.ingest(base(wf), key=key)
    assert r.status == 201 and r.headers.get("idempotent-replayed") == "true"


def test_ten_concurrent_requests_with_one_key_store_one_execution(tenant):
    wf, _ = tenant.workflow()
    body = base(wf, node_executions=[{"node_name": "n"}], telemetry_events=events(2000))
    results = run_together(10, lambda i: tenant.ingest(body, key="ten-at-once", timeout=60))
    ids = set()
    for r in results:
        assert not isinstance(r, Exception), r
        assert r.status in (201, 409), r.body
        if r.status == 201:
            ids.add(r.json()["execution_id"])
    assert len(ids) == 1
    assert sum(1 for r in results if r.status == 201 and "idempotent-replayed" not in r.headers) == 1
    assert tenant.rows() == dict(executions=1, node_executions=1, telemetry_spans=0, telemetry_events=2000,
                                 shared_state_snapshots=0, idempotency_keys=1)


@pytest.mark.parametrize("answered", [True, False])
def test_a_retry_while_the_first_is_in_flight_waits_then_replays(tenant, answered):
    """Deterministic form of the race above: the key's first request holds
    its claim uncommitted. The retry waits for it, then replays the answer
    it stored, or answers 409 when it stored none."""
    wf, _ = tenant.workflow()
    body = json.dumps(base(wf)).encode()
    digest = hashlib.sha256(body).hexdigest()
    stored = {"execution_id": str(uuid.uuid4()), "status": "success", "counts": counts(1, 2, 3, 4)}
    answer = (f", 201, {sql_text(json.dumps(stored))}::jsonb" if answered else ", NULL, NULL")
    t = tenant.hold("INSERT INTO agora.idempotency_keys (organization_id, caller, key, request_hash,"
                    " status_code, response)"
                    f" VALUES ({sql_text(tenant.org)}, agora.caller(), 'in-flight', decode('{digest}', 'hex')"
                    f"{answer})")
    started = time.monotonic()
    r = tenant.ingest(body, key="in-flight")
    waited = time.monotonic() - started
    t.join()
    assert waited > 0.3
    if answered:
        assert r.status == 201, r.body
        assert r.json() == stored and r.headers.get("idempotent-replayed") == "true"
    else:
        assert r.status == 409, r.body
        assert err(r)["code"] == "conflict"
    assert tenant.rows()["executions"] == 0


# ------------------------------------------------------------------ live runs

def test_a_live_run_is_created_appended_to_closed_and_then_refused(tenant):
    wf, _ = tenant.workflow()
    execution_id = str(uuid.uuid4())

    def live(status, **fields):
        return base(wf, execution_id=execution_id, status=status, **fields)

    r = tenant.ingest(live("running", session_id="live", metadata={"phase": 1},
                           node_executions=[{"node_name": "a", "status": "running"}],
                           telemetry_events=events(2)))
    assert r.status == 201, r.body
    assert r.json() == {"execution_id": execution_id, "status": "running", "counts": counts(1, 0, 2, 0)}

    # Appends: 200 with cumulative counts. session_id and started_at stay
    # the first payload's; absent or null fields keep their value.
    r = tenant.ingest(live("running", session_id="ignored", started_at="2030-01-01T00:00:00Z",
                           metadata=None, telemetry_events=events(3, start=2),
                           shared_state_snapshots=[{"sequence": 0, "state": {"k": 1}}]))
    assert r.status == 200, r.body
    assert r.json() == {"execution_id": execution_id, "status": "running", "counts": counts(1, 0, 5, 1)}
    r = tenant.ingest(live("running", metadata={"phase": 2},
                           telemetry_spans=[{"span_id": "01", "name": "a.exec",
                                             "start_time": "2024-11-26T12:00:01Z"}]))
    assert r.status == 200, r.body
    assert r.json()["counts"] == counts(1, 1, 5, 1)
    ex = tenant.execution(execution_id)
    assert ex["session_id"] == "live" and ex["started_at"] == "2024-11-26T12:00:00.000000Z"
    assert ex["metadata"] == {"phase": 2} and ex["completed_at"] is None and ex["status"] == "running"

    # Closing.
    r = tenant.ingest(live("success", completed_at="2024-11-26T12:00:10Z", duration_ms=10000,
                           node_executions=[{"node_name": "a", "status": "success"}]))
    assert r.status == 200, r.body
    assert r.json() == {"execution_id": execution_id, "status": "success", "counts": counts(2, 1, 5, 1)}
    closed = tenant.execution(execution_id)
    assert closed["completed_at"] == "2024-11-26T12:00:10.000000Z" and closed["duration_ms"] == 10000
    assert closed["metadata"] == {"phase": 2}
    rows = tenant.rows()

    # Closed: any further ingest answers 409 and changes nothing.
    for status in ("running", "success", "error"):
        r = tenant.ingest(live(status, telemetry_events=events(1), metadata={"phase": 3}), key=f"late-{status}")
        assert r.status == 409, r.body
        assert err(r)["code"] == "conflict"
    assert tenant.execution(execution_id) == closed
    assert tenant.rows() == rows


@pytest.mark.parametrize("end", ["COMMIT", "ROLLBACK"])
def test_a_live_run_created_concurrently_is_appended_to(tenant, end):
    """Another transaction is creating the same execution_id and has not
    committed: the ingest waits, then appends to it (200) or, when it
    rolled back, creates it (201)."""
    wf, _ = tenant.workflow()
    execution_id = str(uuid.uuid4())
    t = tenant.hold("INSERT INTO agora.executions (id, organization_id, project_id, workflow_id, session_id,"
                    " status, started_at, telemetry_events_count) VALUES"
                    f" ({sql_text(execution_id)}, {sql_text(tenant.org)}, {sql_text(tenant.project)},"
                    f" {sql_text(wf)}, 'first', 'running', '2024-11-26T12:00:00Z', 7)", end=end)
    r = tenant.ingest(base(wf, execution_id=execution_id, status="running", telemetry_events=events(1)))
    t.join()
    if end == "COMMIT":
        assert r.status == 200, r.body
        assert r.json()["counts"] == counts(0, 0, 8, 0)
    else:
        assert r.status == 201, r.body
        assert r.json()["counts"] == counts(0, 0, 1, 0)


def test_an_execution_id_of_another_workflow_is_refused_with_its_path(tenant):
    wf, _ = tenant.workflow()
    other, _ = tenant.workflow()
    execution_id = str(uuid.uuid4())
    r = tenant.ingest(base(wf, execution_id=execution_id, status="running"))
    assert r.status == 201, r.body
    r = tenant.ingest(base(other, execution_id=execution_id, status="running", telemetry_events=events(1)))
    assert r.status == 422, r.body
    assert err(r)["path"] == "workflow_id"
    assert tenant.rows()["telemetry_events"] == 0


def test_an_execution_id_of_another_organization_answers_404(stack, tenant):
    wf, _ = tenant.workflow()
    theirs = Tenant(stack)
    their_wf, _ = theirs.workflow()
    execution_id = str(uuid.uuid4())
    r = theirs.ingest(base(their_wf, execution_id=execution_id, status="running"))
    assert r.status == 201, r.body
    before = theirs.execution(execution_id)

    r = tenant.ingest(base(wf, execution_id=execution_id, status="running", telemetry_events=events(2)))
    assert r.status == 404, r.body
    assert err(r)["code"] == "not_found"
    assert tenant.rows() == dict.fromkeys(TABLES, 0)
    assert theirs.execution(execution_id) == before

    # The same for an API key of another project of their organization.
    their_other_project = theirs.new_project("other")
    other_wf, _ = theirs.workflow(project=their_other_project)
    r = theirs.ingest(base(other_wf, execution_id=execution_id, status="running"),
                      token=theirs.key(their_other_project))
    assert r.status == 404, r.body
    assert theirs.execution(execution_id) == before


# ------------------------------------------------------------------ node executions by id

def node_rows(tenant, execution_id):
    """{client id (or ''): node execution row as JSON} of an execution, as the superuser sees them."""
    out = tenant.stack.psql_admin(
        "SELECT coalesce(client_id::text, ''), json_build_object('node_name', node_name, 'node_type', node_type,"
        " 'status', status, 'started_at', agora.rfc3339(started_at), 'completed_at', agora.rfc3339(completed_at),"
        " 'prep_duration_ms', prep_duration_ms, 'exec_duration_ms', exec_duration_ms,"
        " 'post_duration_ms', post_duration_ms, 'retry_count', retry_count, 'action', action, 'error', error)"
        f" FROM agora.node_executions WHERE execution_id = {sql_text(execution_id)} ORDER BY id")
    rows = [line.split("|", 1) for line in out.splitlines() if line]
    return [(k, json.loads(v)) for k, v in rows]


def test_a_node_execution_sent_again_with_its_id_is_updated_not_added(tenant):
    wf, _ = tenant.workflow()
    execution_id, node = str(uuid.uuid4()), str(uuid.uuid4())

    def live(status, nodes, **fields):
        return base(wf, execution_id=execution_id, status=status, node_executions=nodes, **fields)

    r = tenant.ingest(live("running", [{"id": node, "node_name": "a", "node_type": "T", "status": "running",
                                        "started_at": "2024-11-26T12:00:01Z", "prep_duration_ms": 1},
                                       {"node_name": "b", "status": "running"}]))
    assert r.status == 201, r.body
    assert r.json()["counts"] == counts(2)

    # The same id (upper case is the same UUID): an update. Counts stay;
    # the other node execution, without id, is added as before.
    r = tenant.ingest(live("running", [{"id": node.upper(), "node_name": "a", "node_type": "ignored",
                                        "status": "success", "completed_at": "2024-11-26T12:00:03Z",
                                        "prep_duration_ms": None, "exec_duration_ms": 1500.5,
                                        "post_duration_ms": 2, "retry_count": 1, "action": "next"},
                                       {"node_name": "b", "status": "success"}]))
    assert r.status == 200, r.body
    assert r.json() == {"execution_id": execution_id, "status": "running", "counts": counts(3)}
    rows = node_rows(tenant, execution_id)
    assert [k for k, _ in rows] == [node, "", ""]
    assert rows[0][1] == {"node_name": "a", "node_type": "T", "status": "success",
                          "started_at": "2024-11-26T12:00:01.000000Z", "completed_at": "2024-11-26T12:00:03.000000Z",
                          "prep_duration_ms": 1, "exec_duration_ms": 1500.5, "post_duration_ms": 2,
                          "retry_count": 1, "action": "next", "error": None}
    assert tenant.execution(execution_id)["counts"] == counts(3)

    # The timeline echoes the id as client_id.
    r = tenant.stack.request("GET", f"/api/executions/{execution_id}/timeline", token=tenant.tok)
    assert r.status == 200, r.body
    assert [n["client_id"] for n in r.json()["node_executions"]] == [node, None, None]


def test_a_terminal_node_execution_is_final(tenant):
    wf, _ = tenant.workflow()
    execution_id, node, other = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    done = {"id": node, "node_name": "a", "status": "error", "error": "boom", "exec_duration_ms": 5}
    r = tenant.ingest(base(wf, execution_id=execution_id, status="running",
                           node_executions=[done, {"id": other, "node_name": "b", "status": "running"}]))
    assert r.status == 201, r.body
    before_rows, before_nodes = tenant.rows(), node_rows(tenant, execution_id)

    for change in ({"status": "success"}, {"status": "running"}, {"retry_count": 2}, {"error": "other"},
                   {"exec_duration_ms": 6}):
        # The change comes after an update of another node execution and
        # with new events: the whole append is refused.
        r = tenant.ingest(base(wf, execution_id=execution_id, status="running", telemetry_events=events(2),
                               node_executions=[{"id": other, "node_name": "b", "status": "success"},
                                                dict(done, **change)]))
        assert r.status == 409, (change, r.body)
        assert err(r)["code"] == "conflict"
        assert err(r)["path"] == "node_executions[1].id"
        assert tenant.rows() == before_rows
        assert node_rows(tenant, execution_id) == before_nodes

    # Sending it again unchanged (or with fewer fields) changes nothing and is accepted.
    r = tenant.ingest(base(wf, execution_id=execution_id, status="running",
                           node_executions=[{"id": node, "node_name": "a"}]))
    assert r.status == 200, r.body
    r = tenant.ingest(base(wf, execution_id=execution_id, status="running", node_executions=[done]))
    assert r.status == 200, r.body
    assert r.json()["counts"] == counts(2)
    assert node_rows(tenant, execution_id) == before_nodes


def test_one_payload_naming_a_node_execution_id_twice_is_refused(tenant):
    wf, _ = tenant.workflow()
    node = str(uuid.uuid4())
    r = tenant.ingest(base(wf, status="running", telemetry_events=events(1),
                           node_executions=[{"node_name": "a"}, {"id": node, "node_name": "a"},
                                            {"node_name": "new-node"}, {"id": node.upper(), "node_name": "a"}]))
    assert r.status == 422, r.body
    assert err(r)["path"] == "node_executions[3].id"
    assert tenant.rows() == dict.fromkeys(TABLES, 0)
    assert tenant.nodes(wf) == {}


def test_a_node_execution_id_of_another_execution_answers_409_and_of_another_tenant_404(stack, tenant):
    wf, _ = tenant.workflow()
    node = str(uuid.uuid4())
    first = tenant.ingest(base(wf, status="running", node_executions=[{"id": node, "node_name": "a"}]))
    assert first.status == 201, first.body
    before = tenant.rows()

    # The caller's own other execution: 409 with the path.
    r = tenant.ingest(base(wf, status="running", telemetry_events=events(1),
                           node_executions=[{"node_name": "b"}, {"id": node, "node_name": "a", "status": "success"}]))
    assert r.status == 409, r.body
    assert err(r)["path"] == "node_executions[1].id"
    assert tenant.rows() == before
    assert node_rows(tenant, first.json()["execution_id"])[0][1]["status"] is None

    # Another organization: 404, as for an unknown execution_id; their row untouched.
    theirs = Tenant(stack)
    their_wf, _ = theirs.workflow()
    execution_id = str(uuid.uuid4())
    r = theirs.ingest(base(their_wf, execution_id=execution_id, status="running",
                           node_executions=[{"id": node, "node_name": "a", "status": "running"}]))
    assert r.status == 404, r.body
    assert (err(r)["code"], err(r)["message"], err(r)["path"]) == (
        "not_found", "no such node execution", "node_executions[0].id")
    assert theirs.rows() == dict.fromkeys(TABLES, 0)
    assert node_rows(tenant, first.json()["execution_id"])[0][1]["status"] is None


def test_a_retried_node_update_with_an_idempotency_key_replays(tenant):
    wf, _ = tenant.workflow()
    execution_id, node = str(uuid.uuid4()), str(uuid.uuid4())
    r = tenant.ingest(base(wf, execution_id=execution_id, status="running",
                           node_executions=[{"id": node, "node_name": "a", "status": "running"}]), key="n-1")
    assert r.status == 201, r.body
    update = base(wf, execution_id=execution_id, status="running",
                  node_executions=[{"id": node, "node_name": "a", "status": "success", "exec_duration_ms": 3}])
    first = tenant.ingest(update, key="n-2")
    assert first.status == 200, first.body
    assert first.json()["counts"] == counts(1)
    again = tenant.ingest(update, key="n-2")
    assert again.status == 200 and again.body == first.body
    assert again.headers.get("idempotent-replayed") == "true"
    # Without the key the same update is a no-op on a final node execution.
    r = tenant.ingest(update)
    assert r.status == 200 and r.json()["counts"] == counts(1)
    assert node_rows(tenant, execution_id)[0][1]["status"] == "success"


# ------------------------------------------------------------------ who may ingest

def test_a_viewer_gets_403_and_a_member_201(tenant):
    wf, _ = tenant.workflow()
    r = tenant.ingest(base(wf, telemetry_events=events(1)), token=tenant.add("viewer"))
    assert r.status == 403, r.body
    assert err(r)["code"] == "forbidden"
    assert tenant.rows()["executions"] == 0
    r = tenant.ingest(base(wf), token=tenant.add("member"))
    assert r.status == 201, r.body
    r = tenant.ingest(base(wf), token=tenant.add("admin"))
    assert r.status == 201, r.body


def test_another_organizations_user_gets_404_on_the_workflow(stack, tenant):
    wf, _ = tenant.workflow()
    stranger = stack.token(stack.new_user())
    r = tenant.ingest(base(wf), token=stranger)
    assert r.status == 404, r.body
    assert err(r)["code"] == "not_found"
    r = tenant.ingest(base(str(uuid.uuid4())))
    assert r.status == 404, r.body
    assert tenant.rows()["executions"] == 0


def test_an_api_key_ingests_into_its_own_project_only(tenant):
    wf, _ = tenant.workflow(["processor"])
    other_project = tenant.new_project("other")
    other_wf, _ = tenant.workflow(project=other_project)
    key = tenant.key()

    r = tenant.ingest(base(other_wf), token=key)
    assert r.status == 404, r.body
    assert tenant.rows()["executions"] == 0

    body = base(wf, node_executions=[{"node_name": "processor"}, {"node_name": "by-key"}],
                telemetry_events=events(2))
    r = tenant.ingest(body, token=key, key="key-retry")
    assert r.status == 201, r.body
    assert r.json()["counts"] == counts(2, 0, 2, 0)
    r = tenant.ingest(body, token=key, key="key-retry")
    assert r.status == 201 and r.headers.get("idempotent-replayed") == "true"
    assert set(tenant.nodes(wf)) == {"processor", "by-key"}
    out = tenant.stack.psql_admin(
        f"SELECT project_id FROM agora.executions WHERE id = {sql_text(r.json()['execution_id'])}")
    assert out.strip() == tenant.project


# ------------------------------------------------------------------ size

@pytest.mark.skipif(os.environ.get("AGORA_SKIP_SLOW") == "1", reason="AGORA_SKIP_SLOW=1")
def test_slow_100000_events_in_one_payload(tenant):
    """SLOW (a few seconds): the contract's item limit in one ingest."""
    wf, _ = tenant.workflow()
    evs = [{"event_type": "tick", "data": {"i": i},
            "timestamp": f"2024-11-26T12:{i // 60000 % 60:02d}:{i // 1000 % 60:02d}.{i % 1000:03d}Z"}
           for i in range(100000)]
    body = json.dumps(base(wf, node_executions=[{"node_name": "big"}], telemetry_events=evs)).encode()
    assert len(body) < 16 * 1024 * 1024
    started = time.monotonic()
    r = tenant.stack.request("POST", ROUTE, token=tenant.tok, body=body,
                             headers={"Content-Type": "application/json"}, timeout=120)
    took = time.monotonic() - started
    assert r.status == 201, r.body
    assert r.json()["counts"] == counts(1, 0, 100000, 0)
    assert tenant.rows()["telemetry_events"] == 100000
    print(f"100,000 events ({len(body)} bytes) ingested in {took:.2f} s")
    assert took < 30
