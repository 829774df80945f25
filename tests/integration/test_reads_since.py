"""since_id on the item routes (telemetry-spans, telemetry-events,
state-snapshots): only the items stored after item N, in the route's usual
order, with the events' filters and with limit/cursor paging; what a live
viewer asks for on each message instead of the whole run again.

The items are written through POST /api/executions/ingest, as a live run's
appends (a client execution_id sent several times), so their ids are the
ones ingest hands out. Each append holds items whose time or sequence
sorts before, between and after the items already stored, so "stored
after" and "sorts after" differ. Tests act as fresh owners in fresh
organizations (test_ingest.Tenant).
"""

import urllib.parse
import uuid

import pytest

from test_ingest import Tenant, base
from test_reads import assert_error

ROUTES = ["telemetry-spans", "telemetry-events", "state-snapshots"]
BAD_SINCE = ["0", "-1", "+1", "abc", "", "1.5", "1e3", " 1", "0x10", "9223372036854775808",
             "99999999999999999999"]


def span(i, second, node="n1"):
    return {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": f"{i:016x}", "name": f"span-{i}",
            "kind": "internal", "start_time": f"2024-11-26T12:00:{second:02d}.000100",
            "end_time": f"2024-11-26T12:00:{second:02d}.000200", "duration_ms": 0.1, "status": "ok",
            "attributes": {"i": i}, "node_name": node}


def event(i, second, kind="tick", node="n1"):
    return {"event_type": kind, "timestamp": f"2024-11-26T12:00:{second:02d}.000100", "node_name": node,
            "data": {"i": i}}


def snapshot(i, sequence, node="n1"):
    return {"sequence": sequence, "timestamp": "2024-11-26T12:00:01", "node_name": node, "phase": "after",
            "state": {"i": i}}


# Three appends to one run. Times and sequences of later appends fall
# before, between and after those of earlier ones; some snapshots have no
# sequence (they sort last), and one second holds two events (ties by id).
APPENDS = [
    {"telemetry_spans": [span(1, 10), span(2, 20), span(3, 30)],
     "telemetry_events": [event(1, 10), event(2, 20, "retry"), event(3, 30, node="n2")],
     "shared_state_snapshots": [snapshot(1, 10), snapshot(2, 20), snapshot(3, None)]},
    {"telemetry_spans": [span(4, 15), span(5, 40), span(6, 5)],
     "telemetry_events": [event(4, 15), event(5, 40, "retry", "n2"), event(6, 5), event(7, 20)],
     "shared_state_snapshots": [snapshot(4, 15), snapshot(5, None), snapshot(6, 5)]},
    {"telemetry_spans": [span(7, 25), span(8, 1)],
     "telemetry_events": [event(8, 25, "retry"), event(9, 1, node="n2"), event(10, 30)],
     "shared_state_snapshots": [snapshot(7, 25), snapshot(8, 1), snapshot(9, None)]},
]
KEY = {"telemetry-spans": "telemetry_spans", "telemetry-events": "telemetry_events",
       "state-snapshots": "shared_state_snapshots"}


def i_of(item):
    """The test's own number of an item (in attributes, data or state)."""
    return (item.get("attributes") or item.get("data") or item.get("state"))["i"]


class Run:
    """A live run of a fresh tenant; after[k] is the largest id of each
    route once its append k is stored."""

    def __init__(self, stack):
        self.stack = stack
        self.tenant = Tenant(stack)
        self.wf, _ = self.tenant.workflow(["n1", "n2"])
        self.id = str(uuid.uuid4())
        self.after = []

    def append(self, items):
        r = self.tenant.ingest(base(self.wf, execution_id=self.id, status="running", **items))
        assert r.status == (200 if self.after else 201), r.body
        self.after.append({route: max((x["id"] for x in self.all(route)), default=0) for route in ROUTES})

    def get(self, route, token=None, **params):
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        return self.stack.request("GET", f"/api/executions/{self.id}/{route}" + ("?" + query if query else ""),
                                  token=token or self.tenant.tok)

    def ok(self, route, **params):
        r = self.get(route, **params)
        assert r.status == 200, r
        body = r.json()
        assert set(body) == {"items", "next_cursor"}
        return body

    def all(self, route, **params):
        return self.ok(route, **params)["items"]

    def pages(self, route, limit, **params):
        """Every page from the first to the last, following next_cursor."""
        items, cursor = [], None
        for _ in range(100):
            body = self.ok(route, limit=limit, cursor=cursor, **params)
            assert len(body["items"]) <= limit
            items += body["items"]
            cursor = body["next_cursor"]
            if cursor is None:
                return items
            assert len(body["items"]) == limit
        raise AssertionError("paging did not end")


@pytest.fixture(scope="module")
def run(stack):
    """A run with the appends above stored one by one."""
    r = Run(stack)
    for items in APPENDS:
        r.append(items)
    return r


@pytest.mark.parametrize("route", ROUTES)
def test_since_id_lists_exactly_the_items_stored_after_in_the_usual_order(run, route):
    full = run.all(route)
    assert len(full) == sum(len(a[KEY[route]]) for a in APPENDS)
    for k, after in enumerate(run.after):
        n = after[route]
        got = run.all(route, since_id=n)
        # The items of the later appends, each in the list's place: the
        # full list with the earlier ones left out.
        assert got == [x for x in full if x["id"] > n]
        later = {i_of(x) for a in APPENDS[k + 1:] for x in a[KEY[route]]}
        assert {i_of(x) for x in got} == later
    # Between two stored items too: the ones after it, whatever their time.
    some = sorted(x["id"] for x in full)[4]
    assert run.all(route, since_id=some) == [x for x in full if x["id"] > some]


@pytest.mark.parametrize("route", ROUTES)
def test_since_id_pages_with_limit_and_cursor(run, route):
    full = run.all(route)
    n = run.after[0][route]
    for limit in (1, 2, 3, 4):
        assert run.pages(route, limit, since_id=n) == [x for x in full if x["id"] > n]
    # Leading zeros name the same item, and the same list: its cursor pages it.
    first = run.ok(route, since_id=n, limit=2)
    rest = run.ok(route, since_id=f"000{n}", cursor=first["next_cursor"])
    assert first["items"] + rest["items"] == [x for x in full if x["id"] > n]


def test_since_id_combines_with_the_event_filters(run):
    full = run.all("telemetry-events")
    n = run.after[0]["telemetry-events"]
    for params, keep in (({"event_type": "retry"}, lambda e: e["event_type"] == "retry"),
                         ({"node_name": "n2"}, lambda e: e["node_name"] == "n2"),
                         ({"event_type": "retry", "node_name": "n2"},
                          lambda e: e["event_type"] == "retry" and e["node_name"] == "n2")):
        want = [e for e in full if e["id"] > n and keep(e)]
        assert want, params
        assert run.all("telemetry-events", since_id=n, **params) == want
        assert run.pages("telemetry-events", 1, since_id=n, **params) == want


@pytest.mark.parametrize("route", ROUTES)
def test_since_id_after_the_last_item_is_an_empty_list(run, route):
    last = run.after[-1][route]
    assert run.ok(route, since_id=last) == {"items": [], "next_cursor": None}
    assert run.ok(route, since_id=last, limit=5) == {"items": [], "next_cursor": None}
    assert run.ok(route, since_id="9223372036854775807") == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("value", BAD_SINCE)
def test_a_since_id_that_is_not_a_positive_bigint_answers_422(run, route, value):
    r = run.stack.request("GET", f"/api/executions/{run.id}/{route}?since_id={urllib.parse.quote(value)}",
                          token=run.tenant.tok)
    assert_error(r, 422, "validation_failed", "since_id")


@pytest.mark.parametrize("route", ROUTES)
def test_since_id_is_refused_twice_and_on_the_other_read_routes(run, route):
    r = run.stack.request("GET", f"/api/executions/{run.id}/{route}?since_id=1&since_id=2", token=run.tenant.tok)
    assert_error(r, 422, "validation_failed", "since_id")
    for other in ("", "/timeline"):
        r = run.stack.request("GET", f"/api/executions/{run.id}{other}?since_id=1", token=run.tenant.tok)
        assert_error(r, 422, "validation_failed", "since_id")
    r = run.stack.request("GET", "/api/executions?since_id=1", token=run.tenant.tok)
    assert_error(r, 422, "validation_failed", "since_id")


@pytest.mark.parametrize("route", ROUTES)
def test_a_cursor_belongs_to_its_since_id(run, route):
    n, m = run.after[0][route], run.after[1][route]
    with_n = run.ok(route, since_id=n, limit=1)["next_cursor"]
    without = run.ok(route, limit=1)["next_cursor"]
    assert with_n and without
    for params in ({"cursor": with_n}, {"cursor": with_n, "since_id": m}, {"cursor": without, "since_id": n}):
        r = run.get(route, **params)
        assert_error(r, 422, "validation_failed", "cursor")
    # And each goes on where it was with its own.
    assert run.ok(route, since_id=n, cursor=with_n)["items"] == [x for x in run.all(route) if x["id"] > n][1:]
    assert run.ok(route, cursor=without)["items"] == run.all(route)[1:]


@pytest.mark.parametrize("route", ROUTES)
def test_another_tenants_execution_stays_404_with_since_id(stack, run, route):
    stranger = Tenant(stack)
    assert_error(run.get(route, token=stranger.tok, since_id=1), 404, "not_found")
    assert_error(run.get(route, token=stranger.key(), since_id=1), 404, "not_found")
    r = stack.request("GET", f"/api/executions/{uuid.uuid4()}/{route}?since_id=1", token=run.tenant.tok)
    assert_error(r, 404, "not_found")
    # The owner's project key still reads it.
    key = run.tenant.key()
    assert run.get(route, token=key, since_id=run.after[0][route]).status == 200


def test_an_append_after_a_read_is_what_the_next_since_id_read_returns(stack):
    """The viewer's loop: read, remember the largest id, and after each
    append ask for what is newer; the union is the whole run, each item once."""
    r = Run(stack)
    held = {route: [] for route in ROUTES}
    for k in range(6):
        items = {"telemetry_spans": [span(10 * k + j, (37 * k + 11 * j) % 60) for j in range(3)],
                 "telemetry_events": [event(10 * k + j, (37 * k + 11 * j) % 60) for j in range(4)],
                 "shared_state_snapshots": [snapshot(10 * k + j, (7 * k + j) % 5 if j else None) for j in range(2)]}
        r.append(items)
        for route in ROUTES:
            since = max((x["id"] for x in held[route]), default=None)
            new = r.all(route, since_id=since)
            assert {i_of(x) for x in new} == {i_of(x) for x in items[KEY[route]]}
            held[route] += new
    for route in ROUTES:
        full = r.all(route)
        assert sorted(x["id"] for x in held[route]) == sorted(x["id"] for x in full)
