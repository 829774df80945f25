"""Reads of one run's items name the run's partition (sql/025) with the
created_at the request read from the run's own row, and look that row up
once: the spans, events and snapshots lists (with their keyset pages), the
export, the report, the critical path and the comparison.

What a request touched is read from PostgreSQL's statistics
(pg_stat_all_tables: scans per table and per partition), which a worker's
backend reports within seconds of going idle: executions is scanned as
much as the route's look at a run's row makes alone (asked for an id that
names no run; an item statement that looked the run up again would scan
it again), and of the item tables' partitions only the run's month is
scanned. A run of another organization, or none,
is the same 404 as before."""
import time
import uuid

import pytest

from test_management import CHILD_TABLES, INGEST, Org, err

# The scans of executions and of each item partition, by relation name.
SCANS_SQL = (
    "SELECT c.relname, COALESCE(s.seq_scan, 0) + COALESCE(s.idx_scan, 0) FROM pg_stat_all_tables s"
    " JOIN pg_class c ON c.oid = s.relid WHERE c.oid = 'agora.executions'::regclass OR c.oid IN"
    " (SELECT inhrelid FROM pg_inherits WHERE inhparent = ANY (ARRAY["
    + ", ".join(f"'agora.{t}'::regclass" for t in CHILD_TABLES) + "]))")


def scans(stack):
    out = stack.psql_admin(SCANS_SQL)
    return {name: int(n) for name, n in (line.split("|") for line in out.splitlines() if line)}


def quiet(stack, seconds=2, limit=60):
    """The scans once nothing has changed them for seconds: what earlier
    requests did is reported by then. A backend that reported less than a
    second ago holds what follows for ten (PGSTAT_IDLE_INTERVAL): after
    several requests in a row (an ingest and its followers), wait 11."""
    deadline = time.monotonic() + limit
    last, since = scans(stack), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = scans(stack)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= seconds:
            return now
    raise AssertionError("the statistics never stood still")


def touched(stack, request, want_executions, tries=3):
    """What request() scanned: (scans of executions, {partition: scans}),
    the fewest of up to `tries` runs of it. The statistics are the whole
    server's: agora-alerts evaluates window rules (every 15 s, scanning
    executions) whenever the suite's earlier tests left rules behind, and
    such a scan can land in a request's window. Background work only adds
    scans, so the least of a few runs is the request's own; a request that
    scans too much does so every time. One run at want_executions or
    below, or two runs that agree, are taken."""
    best, last = None, None
    for _ in range(tries):
        got = touched_once(stack, request, want_executions)
        if best is None or got[0] < best[0]:
            best = got
        if got[0] <= want_executions or got[0] == last:
            break
        last = got[0]
    return best


def touched_once(stack, request, want_executions):
    """One run of request(): waits for the worker's backend to report (at
    most every second when busy, within ten of going idle), until
    executions shows at least want_executions scans and nothing more
    arrives for two seconds."""
    before = quiet(stack)
    request()
    deadline = time.monotonic() + 30
    last, still_since = None, None
    while time.monotonic() < deadline:
        now = scans(stack)
        delta = {k: v - before.get(k, 0) for k, v in now.items() if v != before.get(k, 0)}
        if delta.get("executions", 0) >= want_executions:
            if delta == last and time.monotonic() - still_since >= 2:
                break
            if delta != last:
                last, still_since = delta, time.monotonic()
        time.sleep(0.25)
    assert last is not None, "the statistics never showed the request"
    execs = last.pop("executions", 0)
    return execs, last


def lookup_scans(stack, who, route):
    """The scans of executions that the route's look at a run's row makes
    by itself: the route asked for an id that names no run (404, no item
    read). Not always one: with the suite's tables filled by the other
    tests, the planner may combine indexes of executions for that one
    statement (the id's, and the RLS policy's organization or project),
    and each index scan counts. The same statement is what a request for a
    real run makes first; a second look at the row would add as much
    again."""
    def get():
        r = who.req("GET", f"/api/executions/{uuid.uuid4()}/{route}")
        assert r.status == 404, r.body

    execs, parts = touched(stack, get, 1)
    assert execs >= 1 and parts == {}, (route, execs, parts)
    return execs


@pytest.fixture(scope="module")
def org(stack):
    return Org(stack)


@pytest.fixture(scope="module")
def stranger(stack):
    return Org(stack)


@pytest.fixture(scope="module")
def runs(stack, org, stranger):
    """Two runs of org; made (as the stranger was) before the statistics
    are let to stand still."""
    made = org.ingest(full=True, nodes=("load", "think")), org.ingest(full=True, nodes=("load", "save"))
    quiet(stack, 11)
    return made


def partition_of(stack, run, table):
    return stack.psql_admin(f"SELECT DISTINCT tableoid::regclass FROM agora.{table} WHERE execution_id = '{run}'"
                            ).strip().split(".")[-1]


LISTS = ("telemetry-events", "telemetry-spans", "state-snapshots")
# The routes that read one run, and the item tables each reads.
ONE_RUN = {
    "telemetry-events": ("telemetry_events",),
    "telemetry-spans": ("telemetry_spans",),
    "state-snapshots": ("shared_state_snapshots",),
    "export": CHILD_TABLES,
    "report": ("node_executions", "telemetry_events", "shared_state_snapshots"),
    "critical-path": ("node_executions",),
}


@pytest.mark.parametrize("route", sorted(ONE_RUN))
def test_a_runs_items_are_read_from_its_partition_after_one_look_at_its_row(stack, org, runs, route):
    run = runs[0]

    def get():
        r = org.req("GET", f"/api/executions/{run}/{route}")
        assert r.status == 200, r.body
        # The run's own items came back: its one item of a list, or its
        # node "think" (the other run has "save").
        if route in LISTS:
            assert len(r.json()["items"]) == 1, r.body
        else:
            assert b"think" in r.body and b"save" not in r.body, r.body[:300]

    execs, parts = touched(stack, get, 1)
    assert execs == lookup_scans(stack, org, route), (route, execs, parts)
    want = {partition_of(stack, run, t) for t in ONE_RUN[route]}
    assert set(parts) == want, (route, parts)


@pytest.fixture(scope="module")
def paged(stack, org):
    """A run with three events and snapshots of sequence 0, 1 and none."""
    t = "2025-06-01T10:00:0%dZ"
    body = {"workflow_id": org.workflow, "session_id": "s", "status": "success", "started_at": t % 0,
            "telemetry_events": [{"event_type": "e%d" % i, "timestamp": t % i} for i in range(3)],
            "shared_state_snapshots": [{"sequence": seq, "timestamp": t % i, "state": {"i": i}}
                                       for i, seq in enumerate((0, 1, None))]}
    r = org.req("POST", INGEST, body)
    assert r.status == 201, r.body
    run = r.json()["execution_id"]
    quiet(stack, 11)
    return run


@pytest.mark.parametrize("route,key", [("telemetry-events", "event_type"), ("state-snapshots", "sequence")])
def test_a_next_page_reads_the_runs_partition_after_one_look_at_its_row(stack, org, paged, route, key):
    base = f"/api/executions/{paged}/{route}"
    first = org.req("GET", base + "?limit=1").json()
    assert len(first["items"]) == 1 and first["next_cursor"], first
    got = {}

    def get():
        r = org.req("GET", f"{base}?limit=5&cursor={first['next_cursor']}")
        assert r.status == 200, r.body
        got["body"] = r.json()

    execs, parts = touched(stack, get, 1)
    assert [i[key] for i in got["body"]["items"]] == (["e1", "e2"] if key == "event_type" else [1, None])
    assert got["body"]["next_cursor"] is None
    table = "telemetry_events" if key == "event_type" else "shared_state_snapshots"
    assert execs == lookup_scans(stack, org, route), (route, execs, parts)
    # Snapshots after a sequence are two statements: the rest with a
    # sequence, then those without one; both in the run's partition.
    assert parts == {partition_of(stack, paged, table): 1 if key == "event_type" else 2}, parts


def test_a_comparison_reads_both_runs_partitions_after_one_look_at_their_rows(stack, org, runs):
    a, b = runs

    def get():
        r = org.req("GET", f"/api/executions/{a}/compare/{b}")
        assert r.status == 200, r.body

    execs, parts = touched(stack, get, 1)
    # One statement reads both rows: one scan, or one per id of its
    # ARRAY (btree counts each). Each item statement that looked its run
    # up again would add one per run and table: 4 more.
    assert execs in (1, 2), (execs, parts)
    want = {partition_of(stack, r, t) for r in runs for t in ("node_executions", "shared_state_snapshots")}
    assert set(parts) == want and all(n == 2 for n in parts.values()), parts


@pytest.mark.parametrize("route", sorted(ONE_RUN))
def test_a_run_unseen_or_unknown_is_the_same_404_and_no_item_is_read(stack, stranger, runs, route):
    unknown = str(uuid.uuid4())
    answers, scanned = {}, {}
    for name, run in (("unknown", unknown), ("foreign", runs[0])):
        def get(run=run, name=name):
            answers[name] = stranger.req("GET", f"/api/executions/{run}/{route}")

        execs, parts = touched(stack, get, 1)
        assert parts == {}, (route, name, execs, parts)
        scanned[name] = execs
    # A run of another organization costs what no run costs: the one look.
    assert scanned["foreign"] == scanned["unknown"] >= 1, (route, scanned)
    assert answers["unknown"].status == answers["foreign"].status == 404
    assert err(answers["foreign"]) == err(answers["unknown"])
