"""Live monitoring end to end (docs/LIVE.md is the contract): tickets from
POST /api/live/tickets, subscriptions held by nginx (Nchan) over
Server-Sent Events and WebSocket, one message per committed ingest, resume
with the last message id, and every way a subscription is refused; a
project channel's messages coalesced per window (AGORA_LIVE_BATCH_MS). The
clients (tests/integration/live_clients.py) speak HTTP/1.1 and RFC 6455
over raw TLS sockets, so the malformed frames are ours to send too.

Each test acts as fresh users in fresh organizations (test_ingest.Tenant),
so the tests do not depend on one another. Delivery is timed: a message
must arrive within DELIVERY seconds of its ingest's answer."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid

import pytest

from conftest import ROOT, free_port, new_stack, remove_stack, start_stack, wait_for
from live_clients import (OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, Closed, HttpStream, SSEClient, WSClient,
                          refused, tls_context)
from otlp_bodies import execution_id as otlp_execution_id
from otlp_bodies import resource, span, to_protobuf
from test_ingest import Tenant, base, events

DELIVERY = 1.0  # seconds from an ingest's answer to its message
QUIET = 0.8     # how long a subscriber is watched for a message that must not come
WINDOW = 0.5    # the stack's AGORA_LIVE_BATCH_MS (its default): a project message's longest wait
TICKET_RE = re.compile(r"^[0-9a-f]{64}$")
MESSAGE_ID_RE = re.compile(r"^[0-9]+:[0-9]+$")
TRANSPORTS = ("sse", "ws", "ws+meta")
NODES = ("load", "process", "save")
# What a project channel's message carries of its execution: what a row of
# the executions list shows (docs/LIVE.md section 3); and what it never does.
PROJECT_MEMBERS = {"id", "workflow_id", "session_id", "status", "started_at", "completed_at", "duration_ms",
                   "error", "usage", "stale", "counts"}
PROJECT_LEFT_OUT = {"project_id", "metadata"}


def error_code(sub):
    body = sub.json()
    assert body is not None and "error" in body, (sub.status, sub.body)
    return body["error"]["code"]


def assert_refused(sub, status, code):
    assert sub.status == status, (sub.status, sub.body)
    assert error_code(sub) == code, sub.body


class Live:
    """Tickets and subscriptions through one nginx host of a stack."""

    def __init__(self, stack, port=None):
        self.stack = stack
        self.port = port or stack.https_port
        self.ctx = tls_context(stack.ca)

    def ticket_response(self, token, **target):
        return self.stack.request("POST", "/api/live/tickets", token=token, body=target)

    def ticket(self, token, **target):
        r = self.ticket_response(token, **target)
        assert r.status == 201, r.body
        return r.json()

    def open(self, path, transport="sse", last_event_id=None):
        """Subscribes at path (ticket included): SSE, plain WebSocket or
        WebSocket with ws+meta.nchan. last_event_id goes in the SSE
        Last-Event-ID header."""
        if transport == "sse":
            return SSEClient(self.port, self.ctx, path, last_event_id=last_event_id)
        assert last_event_id is None, "a WebSocket resumes with the query parameter"
        return WSClient(self.port, self.ctx, path, subprotocol="ws+meta.nchan" if transport == "ws+meta" else None)

    def subscribe(self, token, transport="sse", last_event_id=None, in_query=False, accepted=True, **target):
        """A fresh ticket for target (execution_id= or project_id=), then
        the subscription; asserts it is accepted unless accepted=False. A
        WebSocket always resumes with the query parameter; SSE with the
        header unless in_query (True: the id as is, "encoded": escaped as
        URLSearchParams would)."""
        path = self.ticket(token, **target)["path"]
        header = None
        if last_event_id is not None:
            if transport == "sse" and not in_query:
                header = last_event_id
            else:
                value = urllib.parse.quote(last_event_id, safe="") if in_query == "encoded" else last_event_id
                path += "&last_event_id=" + value
        sub = self.open(path, transport, header)
        if accepted:
            assert sub.status == (200 if transport == "sse" else 101), (sub.status, sub.body)
        return sub


def node(client_id, name, status, **fields):
    return {"id": client_id, "node_name": name, "node_type": "AuditedNode", "status": status, **fields}


def added(ne=0, upd=0, sp=0, ev=0, ss=0):
    return {"node_executions": ne, "node_executions_updated": upd, "telemetry_spans": sp,
            "telemetry_events": ev, "shared_state_snapshots": ss}


class Run:
    """One live run: a client-chosen execution_id of a workflow declaring
    NODES, in tenant's project (or project)."""

    def __init__(self, tenant, project=None):
        self.tenant = tenant
        self.wf, _ = tenant.workflow(NODES, project=project)
        self.id = str(uuid.uuid4())
        self.ingests = 0

    def ingest(self, status="running", token=None, **fields):
        r = self.tenant.ingest(base(self.wf, execution_id=self.id, status=status, **fields), token=token)
        assert r.status == (201 if self.ingests == 0 else 200), r.body
        self.ingests += 1
        return r

    def read(self, route=""):
        """GET /api/executions/{id}{route} as the tenant's owner."""
        r = self.tenant.stack.request("GET", f"/api/executions/{self.id}{route}", token=self.tenant.tok)
        assert r.status == 200, r.body
        return r.json()


def started(tenant, project=None, **fields):
    """A Run whose first ingest (seq 1) is stored."""
    run = Run(tenant, project=project)
    run.ingest(**fields)
    return run


def next_message(sub, what):
    """The next message of sub, which must come within DELIVERY seconds."""
    start = time.monotonic()
    msg = sub.next_event(DELIVERY)
    assert msg is not None, f"no message within {DELIVERY} s of {what}"
    assert time.monotonic() - start <= DELIVERY + 0.05
    return msg


def only(msg):
    """The one ingest message msg holds (a project channel's frame of one
    row, or an execution channel's message)."""
    inside = msg.messages()
    assert len(inside) == 1, msg
    return inside[0]


def check_message(msg, run, seq, added_counts, nodes=None, channel="execution"):
    """msg is the message of run's ingest number seq, matching what the read
    API answers now. On the execution channel: the execution exactly, what
    the ingest added, and the node executions with client ids nodes exactly
    as the timeline has them. On the project channel one row, decoded: of
    the execution only PROJECT_MEMBERS, with the API's values, truncated
    false, and no added or node executions (added_counts and nodes
    unused). Returns the (decoded) JSON."""
    body = only(msg) if channel == "project" else msg.json()
    assert body["type"] == "execution" and body["seq"] == seq, body
    assert body["workflow_nodes"] == len(NODES)
    whole = run.read()
    if channel == "project":
        assert msg.json()["type"] == "rows", msg
        assert set(body) == {"type", "seq", "execution", "workflow_nodes", "truncated"}, body
        assert body["truncated"] is False, body
        assert set(body["execution"]) == PROJECT_MEMBERS and not PROJECT_LEFT_OUT & set(body["execution"]), body
        assert PROJECT_LEFT_OUT <= set(whole), whole  # the API has them: the message leaves them out
        assert body["execution"] == {k: whole[k] for k in PROJECT_MEMBERS}, body
        return body
    assert body["truncated"] is False, body
    assert body["execution"] == whole, body
    assert body["added"] == added_counts
    timeline = {n["client_id"]: n for n in run.read("/timeline")["node_executions"] if n["client_id"]}
    got = {n["client_id"]: n for n in body["node_executions"]}
    assert len(got) == len(body["node_executions"]) == len(nodes)
    assert got == {k: timeline[k] for k in nodes}
    return body


def append_reaches(sub, run, seq, token=None):
    """An append to run (its ingest number seq) reaches sub in time."""
    run.ingest(token=token, telemetry_events=events(1))
    assert only(next_message(sub, f"append {seq}"))["seq"] == seq


def assert_quiet(*subs):
    """No subscriber gets anything for QUIET seconds."""
    deadline = time.monotonic() + QUIET
    for sub in subs:
        msg = sub.next_event(max(0.05, deadline - time.monotonic()))
        assert msg is None, f"unexpected message {msg!r}"


def settle():
    """Waits until project messages of ingests answered so far are out (a
    project subscription opened after must not get them)."""
    time.sleep(WINDOW + 0.3)


def close_all(*subs):
    for sub in subs:
        sub.close()


@pytest.fixture
def tenant(stack):
    return Tenant(stack)


@pytest.fixture
def live(stack):
    return Live(stack)


# ------------------------------------------------------------------ messages

def test_sse_on_an_execution_gets_one_message_per_commit_as_the_read_api_shows_it(live, tenant):
    run = Run(tenant)
    a, b, c = (str(uuid.uuid4()) for _ in range(3))
    run.ingest(node_executions=[node(a, "load", "running", started_at="2024-11-26T12:00:01Z")],
               telemetry_events=events(2))

    t = live.ticket(tenant.tok, execution_id=run.id)
    assert TICKET_RE.match(t["ticket"]), t
    assert t["channel"] == f"execution/{run.id}" and t["expires_in"] == 30
    assert t["path"] == f"/live/executions/{run.id}?ticket={t['ticket']}"
    sub = live.open(t["path"])
    try:
        assert sub.status == 200, sub.body
        assert sub.headers["content-type"].startswith("text/event-stream"), sub.headers

        steps = [
            # load: running -> success (the same client id), process starts.
            (dict(node_executions=[node(a, "load", "success", completed_at="2024-11-26T12:00:02Z",
                                        exec_duration_ms=1000),
                                   node(b, "process", "running", started_at="2024-11-26T12:00:02Z")],
                  telemetry_events=events(1, start=2)),
             [a, b], added(ne=1, upd=1, ev=1)),
            (dict(node_executions=[node(b, "process", "success", completed_at="2024-11-26T12:00:03Z")],
                  shared_state_snapshots=[{"sequence": 0, "node_name": "process", "state": {"rows": 3}}]),
             [b], added(upd=1, ss=1)),
            # No node execution written: the message lists none.
            (dict(metadata={"phase": "saving"}, telemetry_events=events(2, start=3)), [], added(ev=2)),
            (dict(status="success", completed_at="2024-11-26T12:00:04Z", duration_ms=4000,
                  node_executions=[node(c, "save", "success", started_at="2024-11-26T12:00:03Z")],
                  telemetry_spans=[{"span_id": "01", "name": "save.exec", "start_time": "2024-11-26T12:00:03Z"}]),
             [c], added(ne=1, sp=1)),
        ]
        ids = []
        for seq, (fields, nodes, counts) in enumerate(steps, start=2):
            run.ingest(status=fields.pop("status", "running"), **fields)
            msg = next_message(sub, f"ingest {seq}")
            assert msg.id and MESSAGE_ID_RE.match(msg.id), msg
            check_message(msg, run, seq, counts, nodes)
            ids.append(msg.id)
        assert len(set(ids)) == len(ids)
        assert run.read()["status"] == "success"
        assert_quiet(sub)
    finally:
        sub.close()


def test_websocket_on_a_project_announces_new_runs_and_their_appends(live, tenant):
    elsewhere = Run(tenant, project=tenant.new_project("elsewhere"))
    t = live.ticket(tenant.tok, project_id=tenant.project)
    assert t["channel"] == f"project/{tenant.project}"
    assert t["path"] == f"/live/projects/{tenant.project}?ticket={t['ticket']}"
    meta = live.open(t["path"], "ws+meta")
    plain = live.subscribe(tenant.tok, "ws", project_id=tenant.project)
    try:
        assert meta.status == 101, meta.body
        assert meta.headers.get("sec-websocket-protocol") == "ws+meta.nchan", meta.headers
        run = Run(tenant)
        steps = [
            ("running", dict(node_executions=[node(str(uuid.uuid4()), "load", "running")],
                             telemetry_events=events(3)), added(ne=1, ev=3)),
            ("running", dict(node_executions=[node(str(uuid.uuid4()), "process", "running")]), added(ne=1)),
            ("error", dict(error={"message": "boom"}, completed_at="2024-11-26T12:00:09Z"), added()),
        ]
        for seq, (status, fields, counts) in enumerate(steps, start=1):
            run.ingest(status=status, **fields)
            msg = next_message(meta, f"ingest {seq}")
            assert msg.id and MESSAGE_ID_RE.match(msg.id), msg
            body = check_message(msg, run, seq, counts, channel="project")
            # The plain WebSocket gets the bare JSON, the same message.
            bare = next_message(plain, f"ingest {seq} (plain WebSocket)")
            assert bare.json() == msg.json() and only(bare) == body
            # A run of another project of the same organization is not announced here.
            if elsewhere.ingests == 0:
                elsewhere.ingest(telemetry_events=events(1))
                assert_quiet(meta, plain)
        assert run.read()["status"] == "error"
        assert_quiet(meta, plain)
    finally:
        close_all(meta, plain)


def test_an_ingest_that_is_refused_or_replayed_announces_nothing(live, tenant):
    """Only commits are announced: a 409 (a final node changed) rolls back
    and a replay under its Idempotency-Key writes nothing; the next real
    append then carries the next seq, so nothing was numbered either."""
    run = Run(tenant)
    done = str(uuid.uuid4())
    run.ingest(node_executions=[node(done, "load", "success", started_at="2024-11-26T12:00:01Z")])
    sub = live.subscribe(tenant.tok, execution_id=run.id)
    try:
        r = tenant.ingest(base(run.wf, execution_id=run.id, status="running",
                               node_executions=[node(done, "load", "error")]))
        assert r.status == 409, r.body
        body = base(run.wf, execution_id=run.id, status="running", telemetry_events=events(1))
        first = tenant.ingest(body, key="live-replay")
        assert first.status == 200, first.body
        assert next_message(sub, "the keyed append").json()["seq"] == 2
        replay = tenant.ingest(body, key="live-replay")
        assert replay.status == 200 and replay.body == first.body
        assert_quiet(sub)
        run.ingests = 2
        append_reaches(sub, run, 3)
    finally:
        close_all(sub)


def agora_live_pid(stack):
    """The agora-live process run.sh started (a child of its supervisor)."""
    with open(os.path.join(stack.var, "run", "live.pid")) as f:
        sup = f.read().strip()
    for stat in os.listdir("/proc"):
        if not stat.isdigit():
            continue
        try:
            with open(f"/proc/{stat}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{stat}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if fields[1] == sup and comm == "agora-live":
            return int(stat)
    return None


def wait_for_delivery(live, tenant, sub, run, timeout=15):
    """Appends to run until one reaches sub (the publisher may still be
    reconnecting); returns the seq that arrived."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.ingest(telemetry_events=events(1))
        msg = sub.next_event(1.0)
        if msg is not None:
            return only(msg)["seq"]
    raise AssertionError(f"no message within {timeout} s")


def test_the_publisher_comes_back_after_the_database_and_after_its_own_death(stack, live, tenant):
    """agora-live reconnects to a restarted PostgreSQL by itself, and its
    supervisor starts it again when it is killed; either way messages flow
    again, and a subscriber that missed some sees the gap by seq."""
    run = started(tenant)
    sub = live.subscribe(tenant.tok, execution_id=run.id)
    try:
        stack.pg_stop()
        stack.pg_start()
        assert wait_for(lambda: stack.request("GET", "/api/health").status == 200)
        seq = wait_for_delivery(live, tenant, sub, run)
        assert seq >= 2

        before = agora_live_pid(stack)
        assert before
        os.kill(before, signal.SIGKILL)
        assert wait_for(lambda: agora_live_pid(stack) not in (None, before))
        later = wait_for_delivery(live, tenant, sub, run)
        assert later > seq
        # Appends committed while no publisher listened were numbered all
        # the same: the first message after is seq + however many.
        assert later == run.ingests
    finally:
        close_all(sub)


def check_truncated(msg, run, seq, added_counts, channel="execution"):
    """msg is run's message number seq cut to fit: no node executions, and
    the execution as the read API has it but for error, metadata and
    session_id; on the project channel the row (check_message) with null
    for error and session_id, and no added."""
    body = only(msg) if channel == "project" else msg.json()
    assert body["type"] == "execution" and body["seq"] == seq, body
    assert body["truncated"] is True and "node_executions" not in body, body
    assert body["workflow_nodes"] == len(NODES)
    whole = run.read()
    if channel == "project":
        assert set(body) == {"type", "seq", "execution", "workflow_nodes", "truncated"}, body
        kept = PROJECT_MEMBERS - {"error", "session_id"}
        assert body["execution"] == {**{k: whole[k] for k in kept}, "error": None, "session_id": None}, body
        return
    assert body["execution"] == {k: v for k, v in whole.items() if k not in ("error", "metadata", "session_id")}
    assert body["added"] == added_counts


def test_a_message_too_large_for_its_channel_goes_out_truncated(live, tenant):
    run = started(tenant)
    settle()
    on_run = live.subscribe(tenant.tok, "sse", execution_id=run.id)
    on_project = live.subscribe(tenant.tok, "ws+meta", project_id=tenant.project)
    try:
        # More than 50 node executions: not listed.
        many = [node(str(uuid.uuid4()), NODES[i % len(NODES)], "success") for i in range(51)]
        run.ingest(node_executions=many)
        check_truncated(next_message(on_run, "51 node executions"), run, 2, added(ne=51))
        # The project's message lists no node executions: whole.
        check_message(next_message(on_project, "51 node executions"), run, 2, added(ne=51), channel="project")
        # Large metadata: cut on the execution channel; the project's
        # message never carries metadata, so it goes out whole.
        run.ingest(metadata={"blob": "x" * 8000}, error={"message": "e" * 100})
        check_truncated(next_message(on_run, "large metadata"), run, 3, added())
        body = check_message(next_message(on_project, "large metadata"), run, 3, added(), channel="project")
        assert body["execution"]["error"] == {"message": "e" * 100}
        # A large error: cut on both.
        run.ingest(metadata={"blob": "small"}, error={"message": "e" * 7500})
        check_truncated(next_message(on_run, "large error"), run, 4, added())
        check_truncated(next_message(on_project, "large error"), run, 4, added(), channel="project")
        # Back to small: whole again.
        a = str(uuid.uuid4())
        run.ingest(error={"message": "small"}, node_executions=[node(a, "load", "running")])
        check_message(next_message(on_run, "a small append"), run, 5, added(ne=1), [a])
        check_message(next_message(on_project, "a small append"), run, 5, added(ne=1), channel="project")
    finally:
        close_all(on_run, on_project)


def test_one_otlp_request_announces_each_trace_with_its_own_node_executions(live, tenant):
    """An OTLP request stores its traces as several executions in one
    transaction, and one statement announces them all (live_announce):
    each execution's message lists the node executions of its own trace,
    as its timeline has them, or none (truncated) when they could not fit
    (LIVE_NODE_TEXT_MIN: 18 or more)."""
    wf, _ = tenant.workflow(NODES)
    here = {"agora.workflow.id": wf, "service.name": "live-otlp"}
    traces = [uuid.uuid4().hex for _ in range(3)]
    nodes_per_trace = [3, 1, 20]
    t0 = time.time_ns()

    def export(spans):
        r = tenant.stack.request("POST", "/v1/traces", token=tenant.tok, body=to_protobuf([resource(here, spans)]),
                                 headers={"Content-Type": "application/x-protobuf"})
        assert r.status == 200 and r.body == b"", r.body

    # A first span of each trace: the executions exist, to subscribe to.
    export([span(t, os.urandom(8).hex(), "setup", t0, t0 + 1_000_000) for t in traces])
    ids = [otlp_execution_id(wf, t) for t in traces]
    subs = [live.subscribe(tenant.tok, "sse", execution_id=x) for x in ids]
    try:
        export([span(t, os.urandom(8).hex(), f"step {k}", t0 + k * 1_000_000, t0 + (k + 1) * 1_000_000,
                     attrs={"agora.node.name": NODES[k % len(NODES)]})
                for t, n in zip(traces, nodes_per_trace) for k in range(n)])
        for x, n, sub in zip(ids, nodes_per_trace, subs):
            body = next_message(sub, f"the OTLP request's {n} node spans").json()
            assert body["execution"]["id"] == x and body["seq"] == 2, body
            assert body["added"] == added(ne=n, sp=n), body
            if n < 18:
                assert body["truncated"] is False, body
                timeline = {e["id"]: e for e in tenant.stack.request(
                    "GET", f"/api/executions/{x}/timeline", token=tenant.tok).json()["node_executions"]}
                assert len(timeline) == n
                assert {e["id"]: e for e in body["node_executions"]} == timeline
            else:
                assert body["truncated"] is True and "node_executions" not in body, body
        assert_quiet(*subs)
    finally:
        close_all(*subs)


def test_a_project_row_decodes_to_every_member_the_list_shows_and_to_nothing_else(live, tenant):
    """The rows encoding round-trips: each member of PROJECT_MEMBERS set to
    something other than its default (session, error, usage with tokens,
    times to the microsecond, one far from the epoch where a time goes as
    text, counts), decoded by the column names, equals the read API's
    value; the frame names no other member, and nothing the subscriber
    could read only elsewhere (metadata, project_id) is in its bytes."""
    secret = "meta-" + uuid.uuid4().hex
    sub = live.subscribe(tenant.tok, "sse", project_id=tenant.project)
    try:
        cases = [("2024-11-26T12:00:00.123456Z", "2024-11-26T12:00:09.000001Z"),
                 ("1492-10-12T06:30:00.654321Z", "2300-01-01T00:00:00.999999Z")]
        for started_at, completed_at in cases:
            run = Run(tenant)
            same = dict(started_at=started_at, session_id="s-" + uuid.uuid4().hex)
            run.ingest(status="running", **same, metadata={"secret": secret},
                       node_executions=[node(str(uuid.uuid4()), "load", "success", model="gpt-4o", provider="openai",
                                             input_tokens=1200, output_tokens=345)],
                       telemetry_events=events(2),
                       telemetry_spans=[{"span_id": "01", "name": "load", "start_time": started_at}],
                       shared_state_snapshots=[{"sequence": 0, "node_name": "load", "state": {"k": 1}}])
            run.ingest(status="error", **same, completed_at=completed_at, duration_ms=9000,
                       error={"message": "boom", "detail": [1, {"x": "y"}]})
            got = collect(sub, 2, WINDOW + DELIVERY)
            rows = [m for frame in got for m in frame.messages()]
            assert [m["seq"] for m in rows] == [1, 2], rows
            whole = run.read()
            assert whole["error"] and whole["session_id"] and whole["completed_at"], whole
            assert whole["usage"]["input_tokens"] == 1200 and whole["counts"]["telemetry_events"] == 2, whole
            assert rows[-1] == {"type": "execution", "seq": 2, "workflow_nodes": len(NODES), "truncated": False,
                                "execution": {k: whole[k] for k in PROJECT_MEMBERS}}, (rows[-1], whole)
            for frame in got:
                raw = frame.json()
                members = {c.split(".")[1].removesuffix(":us") for c in raw["columns"] if c.startswith("execution.")}
                tops = {c.split(".")[0] for c in raw["columns"]}
                assert members == PROJECT_MEMBERS and tops == {"seq", "workflow_nodes", "truncated", "execution"}, raw
                for hidden in (secret, "metadata", "project_id", tenant.project):
                    assert hidden not in frame.data, (hidden, frame.data)
        assert_quiet(sub)
    finally:
        sub.close()


# ------------------------------------------------------------------ resume

@pytest.mark.parametrize("transport, in_query", [("sse", False), ("sse", True), ("sse", "encoded"),
                                                 ("ws+meta", True)],
                         ids=["sse-header", "sse-query", "sse-query-encoded", "ws-meta"])
def test_a_reconnect_with_the_last_id_gets_exactly_the_missed_messages(live, tenant, transport, in_query):
    run = started(tenant, telemetry_events=events(1))
    sub = live.subscribe(tenant.tok, transport, execution_id=run.id)
    try:
        run.ingest(telemetry_events=events(1))
        seen = next_message(sub, "the first append")
        assert seen.json()["seq"] == 2 and seen.id, seen
    finally:
        sub.close()

    # Missed while away.
    run.ingest(telemetry_events=events(2))
    run.ingest(node_executions=[node(str(uuid.uuid4()), "load", "running")])
    sub = live.subscribe(tenant.tok, transport, last_event_id=seen.id, in_query=in_query, execution_id=run.id)
    try:
        missed = [next_message(sub, f"replay {i}") for i in (1, 2)]
        assert [m.json()["seq"] for m in missed] == [3, 4]
        assert [m.json()["added"] for m in missed] == [added(ev=2), added(ne=1)]
        assert all(m.id and m.id != seen.id for m in missed)
        assert_quiet(sub)
        # And the subscription goes on live.
        a = str(uuid.uuid4())
        run.ingest(status="success", node_executions=[node(a, "save", "success")])
        msg = next_message(sub, "the ingest after the replay")
        check_message(msg, run, 5, added(ne=1), [a])
    finally:
        sub.close()


@pytest.mark.parametrize("transport, in_query", [("sse", False), ("sse", True), ("ws+meta", True)],
                         ids=["sse-header", "sse-query", "ws-meta"])
@pytest.mark.parametrize("bad_id", ["not-an-id", "x:1", "1733333333:y", "1733333333"])
def test_a_malformed_last_event_id_answers_400(live, tenant, transport, in_query, bad_id):
    run = started(tenant)
    sub = live.subscribe(tenant.tok, transport, last_event_id=bad_id, in_query=in_query, accepted=False,
                         execution_id=run.id)
    assert_refused(sub, 400, "bad_request")


@pytest.mark.parametrize("transport, in_query", [("sse", False), ("sse", True), ("ws+meta", True)],
                         ids=["sse-header", "sse-query", "ws-meta"])
def test_an_id_older_than_the_replay_window_answers_409_resync_required(live, tenant, transport, in_query):
    run = started(tenant)
    # Message ids are "<unix seconds>:<n>"; the window is 300 s by default.
    old = f"{int(time.time()) - 3600}:0"
    sub = live.subscribe(tenant.tok, transport, last_event_id=old, in_query=in_query, accepted=False,
                         execution_id=run.id)
    assert_refused(sub, 409, "resync_required")
    # The same channel with an id inside the window is served.
    recent = f"{int(time.time()) - 60}:0"
    sub = live.subscribe(tenant.tok, transport, last_event_id=recent, in_query=in_query, execution_id=run.id)
    sub.close()


# ------------------------------------------------------------------ tickets and who may watch

def test_no_one_outside_the_organization_gets_a_ticket(stack, live, tenant):
    run = started(tenant)
    theirs = Tenant(stack)
    other_project = tenant.new_project("other")
    for token in (theirs.tok, theirs.key(), stack.token(stack.new_user()), tenant.key(other_project)):
        for target in ({"execution_id": run.id}, {"project_id": tenant.project}):
            r = live.ticket_response(token, **target)
            assert r.status == 404, (target, r.body)
            assert r.json()["error"]["code"] == "not_found"
    # Unknown ids read the same.
    for target in ({"execution_id": str(uuid.uuid4())}, {"project_id": str(uuid.uuid4())}):
        assert live.ticket_response(tenant.tok, **target).status == 404
    # Positive controls: a viewer of the organization and the project's key.
    for token in (tenant.add("viewer"), tenant.key()):
        for target in ({"execution_id": run.id}, {"project_id": tenant.project}):
            assert live.ticket_response(token, **target).status == 201, target


@pytest.mark.parametrize("body", [{}, {"execution_id": None}, {"execution_id": "nope"},
                                  {"execution_id": "E", "project_id": "P"}, {"channel": "execution/E"}])
def test_a_ticket_request_names_exactly_one_readable_target(stack, live, tenant, body):
    run = started(tenant)
    body = {k: run.id if v == "E" else tenant.project if v == "P" else v for k, v in body.items()}
    r = stack.request("POST", "/api/live/tickets", token=tenant.tok, body=body)
    assert 400 <= r.status < 500 and r.status != 404, r.body
    assert r.json()["error"]["code"] in ("bad_request", "validation_failed"), r.body
    # No credential: 401.
    r = stack.request("POST", "/api/live/tickets", body={"execution_id": run.id})
    assert r.status == 401 and r.json()["error"]["code"] == "unauthorized", r.body


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_ticket_opens_one_subscription_only(live, tenant, transport):
    run = started(tenant)
    path = live.ticket(tenant.tok, execution_id=run.id)["path"]
    sub = live.open(path, transport)
    assert sub.status in (200, 101), sub.body
    sub.close()
    assert_refused(live.open(path, transport), 401, "unauthorized")
    # Spent by a refused subscribe too: used on the wrong channel first.
    other = started(tenant)
    path = live.ticket(tenant.tok, execution_id=run.id)["path"]
    assert_refused(live.open(path.replace(run.id, other.id), transport), 403, "forbidden")
    assert_refused(live.open(path, transport), 401, "unauthorized")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_ticket_for_another_channel_answers_403(live, tenant, transport):
    x, y = started(tenant), started(tenant)
    tx = live.ticket(tenant.tok, execution_id=x.id)
    assert_refused(live.open(f"/live/executions/{y.id}?ticket={tx['ticket']}", transport), 403, "forbidden")
    tx = live.ticket(tenant.tok, execution_id=x.id)
    assert_refused(live.open(f"/live/projects/{tenant.project}?ticket={tx['ticket']}", transport), 403,
                   "forbidden")
    tp = live.ticket(tenant.tok, project_id=tenant.project)
    assert_refused(live.open(f"/live/executions/{x.id}?ticket={tp['ticket']}", transport), 403, "forbidden")


def test_an_api_keys_ticket_is_refused_once_the_key_is_revoked(stack, live, tenant):
    r = stack.request("POST", f"/api/projects/{tenant.project}/api-keys", token=tenant.tok, body={"name": "ci"})
    assert r.status == 201, r.body
    key = r.json()
    run = Run(tenant)
    run.ingest(token=key["key"])
    # Before: the key's ticket subscribes and gets its runs' messages.
    sub = live.subscribe(key["key"], "sse", execution_id=run.id)
    try:
        append_reaches(sub, run, 2, token=key["key"])
    finally:
        sub.close()
    spare = [live.ticket(key["key"], execution_id=run.id)["path"] for _ in TRANSPORTS]
    r = stack.request("DELETE", f"/api/api-keys/{key['id']}", token=tenant.tok)
    assert r.status in (200, 204), r.body
    for path, transport in zip(spare, TRANSPORTS):
        assert_refused(live.open(path, transport), 401, "unauthorized")
    # The owner's own ticket still works.
    live.subscribe(tenant.tok, "sse", execution_id=run.id).close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_no_ticket_or_a_malformed_one_answers_400_and_other_parameters_422(live, tenant, transport):
    run = started(tenant)
    base_path = f"/live/executions/{run.id}"
    for query in ("", "?ticket=", "?ticket=short", "?ticket=" + "g" * 64, "?ticket=" + "a" * 63,
                  "?ticket=" + "a" * 65):
        assert_refused(live.open(base_path + query, transport), 400, "bad_request")
    assert_refused(live.open(f"/live/projects/{tenant.project}", transport), 400, "bad_request")
    ticket = live.ticket(tenant.tok, execution_id=run.id)["ticket"]
    for query in (f"?ticket={ticket}&other=1", f"?ticket={ticket}&ticket={ticket}", f"?ticket={ticket}%zz"):
        assert_refused(live.open(base_path + query, transport), 422, "validation_failed")


def test_tokens_are_refused_in_urls(stack, live, tenant):
    run = started(tenant)
    key = tenant.key()
    channel = f"/live/executions/{run.id}"
    # A token or API key where the ticket goes, or beside it under another name.
    for query in (f"?ticket={tenant.tok}", f"?ticket={key}", f"?access_token={tenant.tok}", f"?token={tenant.tok}",
                  f"?api_key={key}"):
        for transport in TRANSPORTS:
            sub = live.open(channel + query, transport)
            assert sub.status in (400, 401, 422), (query, sub.status, sub.body)
            assert error_code(sub) in ("bad_request", "unauthorized", "validation_failed")
    # An Authorization header is no ticket either.
    s = refused(HttpStream(live.port, live.ctx, "GET", channel,
                           {"Accept": "text/event-stream", "Authorization": f"Bearer {tenant.tok}"}))
    assert s.status == 400 and s.json()["error"]["code"] == "bad_request", s.body
    # Nor does the ticket route take a token in its URL.
    r = stack.request("POST", f"/api/live/tickets?access_token={tenant.tok}", body={"execution_id": run.id})
    assert r.status in (400, 401, 422), r.body
    # And none of them landed in a log.
    for name in os.listdir(os.path.join(stack.var, "log")):
        with open(os.path.join(stack.var, "log", name), errors="replace") as f:
            text = f.read()
        assert tenant.tok not in text and key not in text, name


def test_another_organizations_subscribers_never_receive_our_messages(stack, live, tenant):
    theirs = Tenant(stack)
    their_run = started(theirs)
    settle()
    spies = [live.subscribe(theirs.tok, "sse", project_id=theirs.project),
             live.subscribe(theirs.tok, "ws+meta", project_id=theirs.project),
             live.subscribe(theirs.tok, "ws", execution_id=their_run.id)]
    ours = live.subscribe(tenant.tok, "sse", project_id=tenant.project)
    try:
        run = Run(tenant)
        for seq, status in enumerate(("running", "running", "success"), start=1):
            run.ingest(status=status, telemetry_events=events(1))
            assert only(next_message(ours, f"our ingest {seq}"))["seq"] == seq
        assert_quiet(*spies)
        # Positive control: their own ingest reaches them, and not us.
        their_run.ingest(telemetry_events=events(1))
        for spy in spies:
            assert only(next_message(spy, "their own ingest"))["execution"]["id"] == their_run.id
        assert_quiet(ours)
    finally:
        close_all(ours, *spies)


# ------------------------------------------------------------------ ticket lifetime

@pytest.fixture(scope="module")
def short_tickets():
    """A stack of its own whose tickets live 2 s (AGORA_LIVE_TICKET_SECONDS)."""
    s = new_stack(AGORA_LIVE_TICKET_SECONDS="2")
    try:
        start_stack(s)
        yield s
    finally:
        remove_stack(s)


@pytest.mark.parametrize("transport", ["sse", "ws"])
def test_an_expired_ticket_answers_401(short_tickets, transport):
    tenant = Tenant(short_tickets)
    live = Live(short_tickets)
    run = started(tenant)
    t = live.ticket(tenant.tok, execution_id=run.id)
    assert t["expires_in"] == 2, t
    # In time: served.
    live.open(t["path"], transport).close()
    t = live.ticket(tenant.tok, execution_id=run.id)
    time.sleep(3)
    assert_refused(live.open(t["path"], transport), 401, "unauthorized")


# ------------------------------------------------------------------ malformed WebSocket frames

def nginx_crashes(stack):
    path = os.path.join(stack.var, "log", "nginx-error.log")
    with open(path, errors="replace") as f:
        return sum("exited on signal" in line for line in f)


# Frames a client must never send. The length cases are pings (a control
# frame holds at most 125 bytes), so what closes the connection is the
# length: a valid ping is answered and the connection stays
# (test_a_valid_ping_is_answered_and_the_subscription_stays). Nchan closes
# on any client data frame, masked or not (1008: subscribers do not
# publish), so "unmasked-text" shows that such a frame goes nowhere, not
# that masking is checked. Nchan 1.3.6 answers a ping that is unmasked,
# has RSV bits set, holds more than 125 bytes or is fragmented, instead of
# failing the connection: those are not listed.
BAD_FRAMES = {
    "unmasked-text": lambda ws: ws.send_frame(OP_TEXT, '{"hello": 1}', mask=False),
    "reserved-opcode": lambda ws: ws.send_frame(0x3, b"x"),
    "reserved-control-opcode": lambda ws: ws.send_frame(0xB, b""),
    "continuation-without-start": lambda ws: ws.send_frame(OP_CONT, b"x"),
    "oversized-length": lambda ws: ws.send_frame(OP_PING, b"\0" * 1024, length=(1 << 63) - 1),
    "length-msb-set": lambda ws: ws.send_frame(OP_PING, b"\0" * 16, length=1 << 63),
    "garbage": lambda ws: ws.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + bytes(range(256)) * 8),
}


def test_a_valid_ping_is_answered_and_the_subscription_stays(live, tenant):
    run = started(tenant)
    ws = live.subscribe(tenant.tok, "ws+meta", execution_id=run.id)
    try:
        ws.send_frame(OP_PING, b"are you there")
        frame = ws.recv_frame(DELIVERY)
        assert frame is not None and frame[1:] == (OP_PONG, b"are you there"), frame
        append_reaches(ws, run, 2)
    finally:
        ws.close()


@pytest.mark.parametrize("kind", list(BAD_FRAMES))
def test_a_malformed_websocket_frame_closes_the_connection_and_nginx_keeps_serving(stack, live, tenant, kind):
    run = started(tenant)
    crashes = nginx_crashes(stack)
    ws = live.subscribe(tenant.tok, "ws+meta", execution_id=run.id)
    try:
        BAD_FRAMES[kind](ws)
        assert ws.wait_closed(5), f"the connection stayed open after a {kind} frame"
    finally:
        ws.close()
    assert stack.request("GET", "/api/health").status == 200
    # A fresh subscription still gets its messages.
    fresh = live.subscribe(tenant.tok, "ws+meta", execution_id=run.id)
    try:
        append_reaches(fresh, run, 2)
    finally:
        fresh.close()
    assert nginx_crashes(stack) == crashes, "an nginx worker died"


def test_a_client_close_frame_is_answered(live, tenant):
    run = started(tenant)
    ws = live.subscribe(tenant.tok, "ws", execution_id=run.id)
    try:
        ws.send_frame(OP_CLOSE, b"\x03\xe8bye")
        with pytest.raises(Closed) as closed:
            while ws.recv_message(5) is not None:
                pass
        assert closed.value.code in (1000, None)
    finally:
        ws.close()


# ------------------------------------------------------------------ two nginx hosts

def token_values(template, rendered):
    """{TOKEN: value} that run.sh put in place of each @TOKEN@ of template
    to make rendered (it replaces tokens within lines: line i of one is line
    i of the other)."""
    t_lines, r_lines = template.split("\n"), rendered.split("\n")
    assert len(t_lines) == len(r_lines), "the rendered nginx.conf is not the template's rendering"
    values = {}
    for t, r in zip(t_lines, r_lines):
        parts = re.split(r"@([A-Z_]+)@", t)
        if len(parts) == 1:
            continue
        pattern = "".join(re.escape(p) if i % 2 == 0 else "(.*?)" for i, p in enumerate(parts))
        m = re.fullmatch(pattern, r)
        assert m, (t, r)
        for name, value in zip(parts[1::2], m.groups()):
            assert values.setdefault(name, value) == value, (name, values[name], value)
    return values


class SecondHost:
    """Another nginx host in front of the same workers and database: the
    stack's nginx/agora.conf.in rendered with the stack's own values but
    its own state directory, ports and publisher socket, so its Nchan is
    its own, and its own agora-live publishing to it."""

    def __init__(self, stack, **live_env):
        """live_env: more settings for its agora-live (AGORA_LIVE_BATCH_MS)."""
        self.var = tempfile.mkdtemp(prefix="agora-it-host2-", dir="/tmp")
        os.chmod(self.var, 0o755)  # nginx's workers' user (when we are root) traverses it
        for d in ("run/live", "log", "tls", "nginx/client_body", "nginx/fastcgi", "nginx/proxy", "nginx/uwsgi",
                  "nginx/scgi"):
            os.makedirs(os.path.join(self.var, d), exist_ok=True)
        for d in ("run", "log", "nginx"):
            os.chmod(os.path.join(self.var, d), 0o755)
        os.chmod(os.path.join(self.var, "run/live"), 0o700)  # nginx's master and agora-live (both us)
        for name in ("cert.pem", "key.pem"):
            shutil.copy2(os.path.join(stack.var, "tls", name), os.path.join(self.var, "tls", name))
        self.https_port, self.http_port = free_port(), free_port()
        self.pub_sock = os.path.join(self.var, "run/live/live-pub.sock")
        with open(os.path.join(ROOT, "nginx", "agora.conf.in")) as f:
            template = f.read()
        with open(os.path.join(stack.var, "nginx", "nginx.conf")) as f:
            values = token_values(template, f.read())
        values.update(VAR=self.var, HTTPS_PORT=str(self.https_port), HTTP_PORT=str(self.http_port),
                      LIVE_PUB_SOCK=self.pub_sock)
        conf = re.sub(r"@([A-Z_]+)@", lambda m: values[m.group(1)], template)
        self.conf = os.path.join(self.var, "nginx", "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.error_log = os.path.join(self.var, "log", "nginx-error.log")
        self.cmd = ["nginx", "-p", os.path.join(self.var, "nginx") + "/", "-c", self.conf, "-e", self.error_log]
        t = subprocess.run([*self.cmd, "-t", "-q"], capture_output=True, text=True, timeout=30)
        assert t.returncode == 0, t.stderr
        r = subprocess.run(self.cmd, capture_output=True, text=True, timeout=30)  # daemonizes
        assert r.returncode == 0, r.stderr
        self.live_log = open(os.path.join(self.var, "log", "live.log"), "ab")
        env = dict(stack.env, AGORA_LIVE_PUBLISH_SOCKET=self.pub_sock, **live_env)
        self.publisher = subprocess.Popen([os.path.join(ROOT, "agora-live")], env=env, stdin=subprocess.DEVNULL,
                                          stdout=self.live_log, stderr=subprocess.STDOUT)

    def nginx_pid(self):
        try:
            with open(os.path.join(self.var, "run", "nginx.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        if self.publisher.poll() is None:
            self.publisher.terminate()
            try:
                self.publisher.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.publisher.kill()
                self.publisher.wait(timeout=10)
        self.live_log.close()
        pid = self.nginx_pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: not os.path.exists(f"/proc/{pid}"), timeout=15)
        shutil.rmtree(self.var, ignore_errors=True)


def host_fixture(**live_env):
    """A module's SecondHost whose agora-live has live_env."""
    @pytest.fixture(scope="module")
    def fixture(stack):
        host = SecondHost(stack, **live_env)
        try:
            assert stack.wait_healthy().status == 200
            yield host
        finally:
            host.stop()
    return fixture


second_host = host_fixture()
# The longest window (1 s): what several ingests in a row make of it.
slow_batch_host = host_fixture(AGORA_LIVE_BATCH_MS="1000")
unbatched_host = host_fixture(AGORA_LIVE_BATCH_MS="0")


def wait_until_published(live, tenant):
    """Appends to a probe run until a subscriber through live gets its
    message: the host's agora-live is listening from then on. The probe
    runs in a project of their own: the tests' project channels never see
    them."""
    probe = started(tenant, project=tenant.new_project(f"probe-{uuid.uuid4().hex[:8]}"))
    sub = live.subscribe(tenant.tok, "sse", execution_id=probe.id)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            probe.ingest(telemetry_events=events(1))
            if sub.next_event(0.5) is not None:
                return
        raise AssertionError("the second host's agora-live never published")
    finally:
        sub.close()


def test_subscribers_on_two_nginx_hosts_each_get_every_message(stack, live, tenant, second_host):
    other = Live(stack, port=second_host.https_port)
    assert stack.request("GET", "/api/health").status == 200
    wait_until_published(other, tenant)
    run = started(tenant)
    settle()
    subs = [live.subscribe(tenant.tok, "sse", execution_id=run.id),
            other.subscribe(tenant.tok, "ws+meta", execution_id=run.id),
            live.subscribe(tenant.tok, "ws+meta", project_id=tenant.project),
            other.subscribe(tenant.tok, "sse", project_id=tenant.project)]
    try:
        for seq in range(2, 6):
            a = str(uuid.uuid4())
            run.ingest(status="success" if seq == 5 else "running", node_executions=[node(a, "load", "running")])
            for i, sub in enumerate(subs):
                check_message(next_message(sub, f"ingest {seq} on subscriber {i}"), run, seq, added(ne=1), [a],
                              channel="execution" if i < 2 else "project")
        assert_quiet(*subs)
    finally:
        close_all(*subs)


def test_a_subscriber_resuming_on_the_other_host_misses_nothing_by_seq(stack, live, tenant, second_host):
    other = Live(stack, port=second_host.https_port)
    wait_until_published(other, tenant)
    run = started(tenant)
    sub = live.subscribe(tenant.tok, "sse", execution_id=run.id)
    try:
        run.ingest(telemetry_events=events(1))
        seen = next_message(sub, "the first append")
    finally:
        sub.close()
    run.ingest(telemetry_events=events(1))
    run.ingest(telemetry_events=events(1))
    # Ids are per host: the other host replays its buffer from the time in
    # the id; what the client already has (seq <= 2) it drops.
    sub = other.subscribe(tenant.tok, "sse", last_event_id=seen.id, execution_id=run.id)
    try:
        got = [m.json()["seq"] for m in sub.events(10, DELIVERY)]
        assert [s for s in got if s > 2] == [3, 4], got
    finally:
        sub.close()


# ------------------------------------------------------------------ project channel batches

BATCH_S = 1.0  # slow_batch_host's window


def inner(msgs):
    """(execution id, seq) of every ingest message msgs hold, in order."""
    return [(m["execution"]["id"], m["seq"]) for msg in msgs for m in msg.messages()]


def collect(sub, n, timeout):
    """sub's messages until they hold n ingest messages, each message
    within timeout seconds of the one before."""
    got = []
    while len(inner(got)) < n:
        msg = sub.next_event(timeout)
        assert msg is not None, f"{len(inner(got))} of {n} ingest messages: {inner(got)}"
        got.append(msg)
    return got


def live_on(stack, tenant, host):
    """Live through host once its agora-live publishes."""
    live = Live(stack, port=host.https_port)
    wait_until_published(live, tenant)
    return live


def test_ingests_within_a_window_reach_a_project_as_one_batch_in_commit_order(stack, tenant, slow_batch_host):
    """Four ingests of two runs, one after the other: the execution channel
    gets each at once; the project channel gets them in one message at the
    window's end, one row each under one list of columns."""
    host = live_on(stack, tenant, slow_batch_host)
    a, b = Run(tenant), Run(tenant)
    on_project = host.subscribe(tenant.tok, "ws+meta", project_id=tenant.project)
    on_sse = host.subscribe(tenant.tok, "sse", project_id=tenant.project)
    on_a = None
    try:
        began = time.monotonic()
        a.ingest(telemetry_events=events(1))
        on_a = host.subscribe(tenant.tok, "sse", execution_id=a.id)
        order = [(a.id, 1)]
        for run in (a, b, a):
            run.ingest(telemetry_events=events(1))
            order.append((run.id, run.ingests))
            if run is a:
                # The execution channel is not held: its message comes
                # well before the project's window ends.
                msg = on_a.next_event(BATCH_S / 2)
                if msg is not None and msg.json()["seq"] == 1 and a.ingests > 1:
                    # The first ingest's message, published (NOTIFY, then
                    # the listener) after this subscription opened: under
                    # load that can be later than subscribe() returning.
                    msg = on_a.next_event(BATCH_S / 2)
                assert msg is not None and msg.json()["seq"] == a.ingests, msg
                assert msg.json()["type"] == "execution"
        answered = time.monotonic() - began
        got = collect(on_project, len(order), BATCH_S + DELIVERY)
        first = got[0].json()
        assert inner(got) == order
        if answered < BATCH_S * 0.8:
            # All four committed within the first one's window: one message.
            assert len(got) == 1, inner(got)
            assert first["type"] == "rows" and set(first) == {"type", "columns", "rows"}, first
        else:
            assert len(got) < len(order), "no two of four ingests within a second shared a message"
        assert all(m.id and MESSAGE_ID_RE.match(m.id) for m in got)
        # Each inner message is the one the ingest would send alone: the
        # last one is the run as the read API has it now.
        last = got[-1].messages()[-1]
        whole = a.read()
        assert last["execution"] == {k: whole[k] for k in PROJECT_MEMBERS}, last
        assert set(last) == {"type", "seq", "execution", "workflow_nodes", "truncated"}, last
        # SSE carries the same batch as the WebSocket.
        same = [on_sse.next_event(BATCH_S + DELIVERY) for _ in got]
        assert [m.json() for m in same] == [m.json() for m in got]
        assert_quiet(on_project, on_sse, on_a)
    finally:
        close_all(*(x for x in (on_project, on_sse, on_a) if x))


def test_a_reconnect_with_a_batch_id_gets_exactly_the_batches_after_it(stack, tenant, slow_batch_host):
    host = live_on(stack, tenant, slow_batch_host)
    run = Run(tenant)
    sub = host.subscribe(tenant.tok, "sse", project_id=tenant.project)
    try:
        run.ingest(telemetry_events=events(1))
        run.ingest(telemetry_events=events(1))
        seen = collect(sub, 2, BATCH_S + DELIVERY)
        assert inner(seen) == [(run.id, 1), (run.id, 2)]
    finally:
        sub.close()
    for _ in range(3):
        run.ingest(telemetry_events=events(1))
    time.sleep(BATCH_S + 0.3)  # the window of the missed ones has closed
    sub = host.subscribe(tenant.tok, "sse", last_event_id=seen[-1].id, project_id=tenant.project)
    try:
        missed = sub.events(5, DELIVERY)
        assert inner(missed) == [(run.id, s) for s in (3, 4, 5)]
        assert all(m.id and m.id != seen[-1].id for m in missed)
    finally:
        sub.close()


def test_without_a_window_each_ingest_is_one_project_message_at_once(stack, tenant, unbatched_host):
    """AGORA_LIVE_BATCH_MS=0: one message per ingest, as they come."""
    host = live_on(stack, tenant, unbatched_host)
    run = Run(tenant)
    sub = host.subscribe(tenant.tok, "ws+meta", project_id=tenant.project)
    try:
        for _ in range(3):
            run.ingest(telemetry_events=events(1))
        got = [next_message(sub, f"ingest {seq}") for seq in (1, 2, 3)]
        assert [m.json()["type"] for m in got] == ["rows"] * 3
        assert inner(got) == [(run.id, s) for s in (1, 2, 3)]
        assert len({m.id for m in got}) == 3
        assert_quiet(sub)
    finally:
        sub.close()


def test_a_burst_on_the_default_stack_arrives_whole_and_in_order(live, tenant):
    """Ingests of several runs at once (the default window): every one
    reaches the project channel, each run's in seq order, no message
    larger than a batch may be."""
    runs = [started(tenant) for _ in range(3)]
    settle()
    sub = live.subscribe(tenant.tok, "sse", project_id=tenant.project)
    try:
        def appends(run):
            for _ in range(3):
                run.ingest(telemetry_events=events(1))
        threads = [threading.Thread(target=appends, args=(r,)) for r in runs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        got = collect(sub, 9, DELIVERY)
        assert all(len(m.data.encode()) <= 16384 for m in got)
        for run in runs:
            assert [s for i, s in inner(got) if i == run.id] == [2, 3, 4]
        assert_quiet(sub)
    finally:
        sub.close()
