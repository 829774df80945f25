"""Workflow and project statistics end to end (README "Workflow and project
statistics", sql/011_stats_rollups.sql): executions with known durations,
statuses, errors, node phases and tokens are ingested, 8 at a time (so
the rollups' shards are used), and

- the rollup rows, shards summed, equal the same aggregates computed from
  the executions and node executions by exact SQL, histograms included;
- the routes' counts, rates, tokens and cost equal exact SQL, and every
  percentile is within the documented bound of PostgreSQL's own
  percentile_cont on the same rows;
- a live run counts once, when it ends; a node execution updated by its
  client id counts once; a rolled-back ingest counts nothing;
- unknown and foreign ids are 404, bad windows and buckets 422 naming the
  parameter."""
import random
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

INGEST = "/api/executions/ingest"
T0 = datetime(2025, 6, 1, 0, 0, 0, tzinfo=timezone.utc)
SINCE = "2025-06-01T00:00:00Z"
UNTIL = "2025-06-03T00:00:00Z"
REL, ABS = 0.0443, 0.001
NODES = ("load", "think", "save")


def iso(t):
    return t.isoformat().replace("+00:00", "Z")


class Team:
    """An owner with an organization, a project and two workflows."""

    def __init__(self, stack):
        self.stack = stack
        self.tok = stack.token(stack.new_user())
        org = self.must("POST", "/api/organizations", {"name": "Stats org"})["id"]
        self.project = self.must("POST", "/api/projects", {"organization_id": org, "name": "stats"})["id"]
        self.workflows = [self.must("POST", "/api/workflows", {
            "project_id": self.project, "name": f"stats-{i}-" + uuid.uuid4().hex[:6],
            "nodes": [{"name": n} for n in NODES], "edges": []})["id"] for i in range(2)]

    def must(self, method, path, body=None, status=(200, 201)):
        r = self.stack.request(method, path, token=self.tok, body=body)
        assert r.status in status, f"{method} {path}: {r.status} {r.body[:300]!r}"
        return r.json() if r.body else None

    def stats(self, kind, id_, **query):
        q = "&".join(f"{k}={v}" for k, v in query.items())
        return self.must("GET", f"/api/{kind}/{id_}/stats" + (f"?{q}" if q else ""))


def payload(rng, workflow, i):
    start = T0 + timedelta(seconds=rng.uniform(0, 2 * 86400 - 60))
    status = rng.choice(["success"] * 6 + ["error"] * 3 + ["cancelled"])
    body = {"workflow_id": workflow, "session_id": f"s{i % 7}", "status": status, "started_at": iso(start),
            "completed_at": iso(start + timedelta(seconds=30))}
    if rng.random() < 0.9:
        body["duration_ms"] = round(10 ** rng.uniform(-1, 5), 3)
    if status == "error":
        body["error"] = ("connection reset" if rng.random() < 0.2
                         else {"type": "ValueError", "message": f"bad input {rng.randrange(3)}"})
    nodes = []
    for name in NODES:
        n = {"node_name": name, "status": rng.choice(["success"] * 8 + ["error", "skipped"]),
             "started_at": iso(start), "prep_duration_ms": round(rng.uniform(0, 2), 4),
             "exec_duration_ms": round(10 ** rng.uniform(0, 4), 3), "retry_count": rng.choice([0, 0, 0, 1, 2])}
        if rng.random() < 0.8:
            n["post_duration_ms"] = round(rng.uniform(0.0001, 5), 4)
        if name == "think":
            n.update(input_tokens=rng.randrange(1000), output_tokens=rng.randrange(500), model="gpt-4o")
        nodes.append(n)
    body["node_executions"] = nodes
    return body


@pytest.fixture(scope="module")
def team(stack):
    t = Team(stack)
    rng = random.Random(16)
    bodies = [payload(rng, t.workflows[i % 2], i) for i in range(240)]
    with ThreadPoolExecutor(8) as pool:
        for r in pool.map(lambda b: t.must("POST", INGEST, b), bodies):
            assert r["status"] in ("success", "error", "cancelled")
    # The tests below that read the rollup tables directly need the
    # deltas folded (the routes fold before they read).
    stack.psql_admin(f"SELECT agora.stats_fold('{t.project}')")
    return t


def rows(stack, sql):
    return [line.split("|") for line in stack.psql_admin(sql).splitlines() if line]


def parse_hist(text):
    """PostgreSQL's text of a bigint[] histogram as {bucket: count}."""
    out = {}
    if not text:
        return out
    m = re.fullmatch(r"(?:\[(-?\d+):(-?\d+)\]=)?\{(.*)\}", text)
    lo = int(m.group(1)) if m.group(1) else 1
    for k, v in enumerate(m.group(3).split(",")):
        if int(v):
            out[lo + k] = int(v)
    return out


def add_hist(a, b):
    for k, v in b.items():
        a[k] = a.get(k, 0) + v
        if a[k] == 0:
            del a[k]
    return a


def within(est, exact):
    if exact is None:
        return est is None
    return est is not None and abs(est - exact) <= REL * exact + ABS + 1e-9


# --- the rollups are the exact aggregates ---------------------------------


def test_execution_rollups_equal_exact_sql_with_shards_summed(stack, team):
    wf = team.workflows[0]
    rolled, shards = {}, set()
    for hour, shard, s, e, c, dc, hist, tin, tout, cost in rows(stack, f"""
            SELECT hour, shard, success, error, cancelled, duration_count, duration_hist, input_tokens,
                   output_tokens, cost_usd
            FROM agora.stats_executions_hourly WHERE workflow_id = '{wf}'"""):
        shards.add(shard)
        r = rolled.setdefault(hour, [0, 0, 0, 0, {}, 0, 0, 0])
        for k, v in enumerate((s, e, c, dc)):
            r[k] += int(v)
        add_hist(r[4], parse_hist(hist))
        r[5] += int(tin)
        r[6] += int(tout)
        r[7] += float(cost)
    exact = {}
    for hour, s, e, c, dc, tin, tout, cost in rows(stack, f"""
            SELECT date_trunc('hour', started_at, 'UTC'), count(*) FILTER (WHERE status = 'success'),
                   count(*) FILTER (WHERE status = 'error'), count(*) FILTER (WHERE status = 'cancelled'),
                   count(duration_ms), sum(input_tokens), sum(output_tokens), sum(cost_usd)
            FROM agora.executions WHERE workflow_id = '{wf}' AND status <> 'running' GROUP BY 1"""):
        exact[hour] = [int(s), int(e), int(c), int(dc), {}, int(tin), int(tout), float(cost)]
    for hour, bucket, n in rows(stack, f"""
            SELECT date_trunc('hour', started_at, 'UTC'), agora.hist_bucket(duration_ms), count(*)
            FROM agora.executions WHERE workflow_id = '{wf}' AND status <> 'running' AND duration_ms IS NOT NULL
            GROUP BY 1, 2"""):
        exact[hour][4][int(bucket)] = int(n)
    rolled = {h: r for h, r in rolled.items() if any(r[:4])}
    assert set(rolled) == set(exact)
    for h in exact:
        assert rolled[h][:7] == exact[h][:7], h
        assert rolled[h][7] == pytest.approx(exact[h][7], abs=1e-9)
    # Folds write shard 0 only (sql/013); shards 1..7 are sql/011's.
    assert shards == {"0"}


def test_node_rollups_equal_exact_sql(stack, team):
    wf = team.workflows[1]
    got = {tuple(r[:2]): [int(x) for x in r[2:]] for r in rows(stack, f"""
        SELECT node_name, day, sum(runs), sum(errors), sum(skipped), sum(retries), sum(input_tokens)
        FROM agora.stats_nodes_daily WHERE workflow_id = '{wf}' GROUP BY 1, 2 HAVING sum(runs) <> 0""")}
    want = {tuple(r[:2]): [int(x) for x in r[2:]] for r in rows(stack, f"""
        SELECT n.node_name, date_trunc('day', e.started_at, 'UTC'), count(*),
               count(*) FILTER (WHERE n.status = 'error'), count(*) FILTER (WHERE n.status = 'skipped'),
               COALESCE(sum(n.retry_count), 0), COALESCE(sum(n.input_tokens), 0)
        FROM agora.node_executions n JOIN agora.executions e ON e.id = n.execution_id
        WHERE e.workflow_id = '{wf}' AND n.status IS DISTINCT FROM 'running' GROUP BY 1, 2""")}
    assert got == want and len(want) >= 6
    hists = {}
    for name, prep, ex, post in rows(stack, f"""
            SELECT node_name, prep_hist, exec_hist, post_hist FROM agora.stats_nodes_daily
            WHERE workflow_id = '{wf}'"""):
        h = hists.setdefault(name, [{}, {}, {}])
        for k, text in enumerate((prep, ex, post)):
            add_hist(h[k], parse_hist(text))
    for name, phase, bucket, n in rows(stack, f"""
            SELECT n.node_name, p.k, agora.hist_bucket(p.ms), count(*)
            FROM agora.node_executions n JOIN agora.executions e ON e.id = n.execution_id,
                 LATERAL (VALUES (0, n.prep_duration_ms), (1, n.exec_duration_ms), (2, n.post_duration_ms)) p(k, ms)
            WHERE e.workflow_id = '{wf}' AND n.status IS DISTINCT FROM 'running' AND p.ms IS NOT NULL
            GROUP BY 1, 2, 3"""):
        h = hists[name][int(phase)]
        assert h.pop(int(bucket)) == int(n)
    assert all(not h for phases in hists.values() for h in phases)


# --- the routes against exact SQL ------------------------------------------


def exact_series(stack, scope_col, scope_id, unit):
    out = {}
    for b, s, e, c, p50, p95, p99 in rows(stack, f"""
            SELECT to_char(date_trunc('{unit}', started_at, 'UTC') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS'),
                   count(*) FILTER (WHERE status = 'success'), count(*) FILTER (WHERE status = 'error'),
                   count(*) FILTER (WHERE status = 'cancelled'),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms),
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms),
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms)
            FROM agora.executions WHERE {scope_col} = '{scope_id}' AND status <> 'running'
              AND started_at >= '{SINCE}' AND started_at < '{UNTIL}' GROUP BY 1"""):
        out[b + ".000000Z"] = (int(s), int(e), int(c), *(float(x) if x else None for x in (p50, p95, p99)))
    return out


@pytest.mark.parametrize("unit", ["hour", "day"])
def test_workflow_series_match_exact_sql_and_percentiles_stay_within_the_bound(stack, team, unit):
    wf = team.workflows[0]
    st = team.stats("workflows", wf, since=SINCE, until=UNTIL, bucket=unit)
    assert st["scope"] == {"kind": "workflow", "id": wf, "name": st["scope"]["name"], "project_id": team.project}
    assert st["since"] == "2025-06-01T00:00:00.000000Z" and st["until"] == "2025-06-03T00:00:00.000000Z"
    assert (st["days_since"], st["days_until"]) == (st["since"], st["until"])
    assert len(st["series"]) == (48 if unit == "hour" else 2)
    exact = exact_series(stack, "workflow_id", wf, unit)
    checked = 0
    for b in st["series"]:
        s, e, c, p50, p95, p99 = exact.get(b["start"], (0, 0, 0, None, None, None))
        assert (b["success"], b["error"], b["cancelled"], b["executions"]) == (s, e, c, s + e + c), b["start"]
        assert b["success_rate"] == (pytest.approx(s / (s + e + c)) if s + e + c else None)
        for p, x in (("p50", p50), ("p95", p95), ("p99", p99)):
            assert within(b["duration_ms"][p], x), (b["start"], p, b["duration_ms"][p], x)
            checked += x is not None
    assert checked >= (20 if unit == "hour" else 6)
    tin, tout, cost, n = rows(stack, f"""
        SELECT sum(input_tokens), sum(output_tokens), trim_scale(sum(cost_usd)), count(*)
        FROM agora.executions WHERE workflow_id = '{wf}' AND status <> 'running'""")[0]
    t = st["totals"]
    assert (t["input_tokens"], t["output_tokens"], t["executions"]) == (int(tin), int(tout), int(n))
    assert t["cost_usd"] == pytest.approx(float(cost)) and float(cost) > 0
    assert st["percentile_relative_error"] == REL


def test_nodes_match_exact_sql(stack, team):
    wf = team.workflows[1]
    st = team.stats("workflows", wf, since=SINCE, until=UNTIL)
    exact = {r[0]: r[1:] for r in rows(stack, f"""
        SELECT n.node_name, count(*), count(*) FILTER (WHERE n.status = 'error'), sum(n.retry_count),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY n.prep_duration_ms),
               percentile_cont(0.95) WITHIN GROUP (ORDER BY n.prep_duration_ms),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY n.exec_duration_ms),
               percentile_cont(0.95) WITHIN GROUP (ORDER BY n.exec_duration_ms),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY n.post_duration_ms),
               percentile_cont(0.95) WITHIN GROUP (ORDER BY n.post_duration_ms)
        FROM agora.node_executions n JOIN agora.executions e ON e.id = n.execution_id
        WHERE e.workflow_id = '{wf}' AND n.status IS DISTINCT FROM 'running' GROUP BY 1""")}
    assert sorted(n["node_name"] for n in st["nodes"]) == sorted(exact)
    for n in st["nodes"]:
        runs, errors, retries, *ps = exact[n["node_name"]]
        assert (n["runs"], n["errors"], n["retries"]) == (int(runs), int(errors), int(retries))
        assert n["failure_rate"] == pytest.approx(int(errors) / int(runs))
        assert n["workflow_id"] == wf
        for k, (phase, p) in enumerate((a, b) for a in ("prep_ms", "exec_ms", "post_ms") for b in ("p50", "p95")):
            assert within(n[phase][p], float(ps[k])), (n["node_name"], phase, p)


def test_top_errors_count_each_message_with_its_latest_example(stack, team):
    wf = team.workflows[0]
    st = team.stats("workflows", wf, since=SINCE, until=UNTIL)
    exact = rows(stack, f"""
        SELECT agora.stats_error_message(error), count(*), agora.rfc3339(max(completed_at)),
               (array_agg(id ORDER BY completed_at DESC, id))[1]
        FROM agora.executions WHERE workflow_id = '{wf}' AND status = 'error' GROUP BY 1
        ORDER BY 2 DESC, 3 DESC, 1""")
    got = [[e["message"], str(e["count"]), e["last_seen"], e["example_execution_id"]] for e in st["errors"]]
    assert got == exact
    assert {"connection reset", "ValueError: bad input 0"} <= {e[0] for e in exact}
    example = team.must("GET", f"/api/executions/{st['errors'][0]['example_execution_id']}")
    assert example["status"] == "error"


def test_project_stats_sum_the_workflows(stack, team):
    pr = team.stats("projects", team.project, since=SINCE, until=UNTIL, bucket="day")
    per = [team.stats("workflows", w, since=SINCE, until=UNTIL, bucket="day") for w in team.workflows]
    for k in ("executions", "success", "error", "cancelled", "input_tokens", "output_tokens"):
        assert pr["totals"][k] == sum(p["totals"][k] for p in per)
    exact = exact_series(stack, "project_id", team.project, "day")
    for b in pr["series"]:
        s, e, c, p50, p95, p99 = exact[b["start"]]
        assert (b["success"], b["error"], b["cancelled"]) == (s, e, c)
        assert within(b["duration_ms"]["p95"], p95)
    assert len(pr["nodes"]) == 6 and {n["workflow_id"] for n in pr["nodes"]} == set(team.workflows)
    assert pr["scope"]["kind"] == "project" and pr["scope"]["id"] == team.project


# --- when rows count ------------------------------------------------------


def totals(team, wf):
    st = team.stats("workflows", wf, since=SINCE, until=UNTIL)
    return st["totals"], {n["node_name"]: n["runs"] for n in st["nodes"]}


def test_a_live_run_counts_once_when_it_ends_and_a_rolled_back_ingest_not_at_all(stack, team):
    wf = team.workflows[1]
    before, nodes_before = totals(team, wf)
    ex, node = str(uuid.uuid4()), str(uuid.uuid4())
    start = iso(T0 + timedelta(hours=5))
    base = {"workflow_id": wf, "session_id": "live", "execution_id": ex, "started_at": start}
    team.must("POST", INGEST, dict(base, status="running", node_executions=[
        {"id": node, "node_name": "think", "status": "running", "started_at": start}]))
    running, nodes_running = totals(team, wf)
    assert running == before and nodes_running == nodes_before
    team.must("POST", INGEST, dict(base, status="running", node_executions=[
        {"id": node, "node_name": "think", "status": "success", "exec_duration_ms": 12.5}]))
    _, nodes_done = totals(team, wf)
    assert nodes_done["think"] == nodes_before["think"] + 1
    team.must("POST", INGEST, dict(base, status="success", duration_ms=99))
    after, nodes_after = totals(team, wf)
    assert after["executions"] == before["executions"] + 1 and after["success"] == before["success"] + 1
    assert nodes_after == nodes_done
    # Closed: 409, nothing counted again.
    team.must("POST", INGEST, dict(base, status="error"), status=(409,))
    # Refused after the execution was inserted (a node id of no node): rolled back whole.
    r = stack.request("POST", INGEST, token=team.tok, body={
        "workflow_id": wf, "session_id": "x", "status": "success", "started_at": start,
        "node_executions": [{"node_name": "load", "node_id": str(uuid.uuid4()), "status": "success"}]})
    assert r.status == 422
    assert totals(team, wf) == (after, nodes_after)


# --- refusals ---------------------------------------------------------------


def test_unknown_and_foreign_ids_are_404(stack, team):
    other = stack.token(stack.new_user())
    for path in (f"/api/workflows/{team.workflows[0]}/stats", f"/api/projects/{team.project}/stats"):
        r = stack.request("GET", path, token=other)
        assert r.status == 404 and r.json()["error"]["code"] == "not_found"
    for path in (f"/api/workflows/{uuid.uuid4()}/stats", f"/api/projects/{uuid.uuid4()}/stats",
                 "/api/workflows/not-a-uuid/stats"):
        assert stack.request("GET", path, token=team.tok).status == 404


@pytest.mark.parametrize("query,param", [
    ("bucket=week", "bucket"),
    ("since=yesterday", "since"),
    ("until=2025-13-01T00:00:00Z", "until"),
    ("since=2025-06-02T00:00:00Z&until=2025-06-01T00:00:00Z", "since"),
    ("since=2025-06-01T00:00:00Z&until=2025-06-01T00:00:00Z", "since"),
    ("since=2025-01-01T00:00:00Z&until=2025-03-01T00:00:00Z&bucket=hour", "since"),
    ("since=2020-01-01T00:00:00Z&until=2025-03-01T00:00:00Z", "since"),
    ("limit=5", "limit"),
])
def test_bad_windows_and_buckets_are_422_naming_the_parameter(stack, team, query, param):
    r = stack.request("GET", f"/api/workflows/{team.workflows[0]}/stats?{query}", token=team.tok)
    assert r.status == 422, r.body
    assert r.json()["error"]["path"] == param


def test_nodes_and_errors_cover_the_whole_days_an_hourly_window_touches(team):
    st = team.stats("workflows", team.workflows[0], since="2025-06-01T05:30:00Z", until="2025-06-01T07:00:00Z",
                    bucket="hour")
    assert (st["since"], st["until"]) == ("2025-06-01T05:00:00.000000Z", "2025-06-01T07:00:00.000000Z")
    assert (st["days_since"], st["days_until"]) == ("2025-06-01T00:00:00.000000Z", "2025-06-02T00:00:00.000000Z")
    assert len(st["series"]) == 2 and st["nodes"]


def test_the_default_window_is_the_last_30_days_by_day(team):
    st = team.stats("projects", team.project)
    assert st["bucket"] == "day" and len(st["series"]) in (30, 31)
    assert st["totals"]["executions"] == 0


# --- deltas (sql/013) -------------------------------------------------------


def test_deltas_are_folded_exactly_once_under_concurrent_reads_ingests_and_folds(stack):
    """Ingests, reads of both routes (each folds the project first) and
    folds of every project (as agora-live's) all at once: afterwards no
    delta is left and the rollups equal exact SQL, so none was folded
    twice or lost."""
    t = Team(stack)
    rng = random.Random(1613)
    bodies = [payload(rng, t.workflows[i % 2], 1000 + i) for i in range(160)]
    jobs = [("ingest", b) for b in bodies]
    for k in range(40):
        jobs.insert(4 * k + 1, ("read", ("workflows", t.workflows[k % 2]) if k % 3 else ("projects", t.project)))
        if k % 4 == 0:
            jobs.insert(4 * k + 3, ("fold", None))

    def run(job):
        kind, arg = job
        if kind == "ingest":
            return t.must("POST", INGEST, arg)["status"]
        if kind == "read":
            return t.stats(*arg, since=SINCE, until=UNTIL, bucket="hour")["totals"]["executions"]
        return stack.psql_admin("SELECT agora.stats_fold(NULL)")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(run, jobs))
    final = t.stats("projects", t.project, since=SINCE, until=UNTIL, bucket="hour")
    assert rows(stack, f"SELECT count(*) FROM agora.stats_deltas WHERE project_id = '{t.project}'") == [["0"]]
    for wf in t.workflows:
        got = rows(stack, f"""
            SELECT sum(success), sum(error), sum(cancelled), sum(duration_count), sum(input_tokens)
            FROM agora.stats_executions_hourly WHERE workflow_id = '{wf}'""")
        want = rows(stack, f"""
            SELECT count(*) FILTER (WHERE status = 'success'), count(*) FILTER (WHERE status = 'error'),
                   count(*) FILTER (WHERE status = 'cancelled'), count(duration_ms), sum(input_tokens)
            FROM agora.executions WHERE workflow_id = '{wf}'""")
        assert got == want
        got = rows(stack, f"""
            SELECT node_name, sum(runs), sum(errors), sum(retries) FROM agora.stats_nodes_daily
            WHERE workflow_id = '{wf}' GROUP BY 1 ORDER BY 1""")
        want = rows(stack, f"""
            SELECT n.node_name, count(*), count(*) FILTER (WHERE n.status = 'error'), sum(n.retry_count)
            FROM agora.node_executions n JOIN agora.executions e ON e.id = n.execution_id
            WHERE e.workflow_id = '{wf}' GROUP BY 1 ORDER BY 1""")
        assert got == want
    assert final["totals"]["executions"] == 160
    exact = exact_series(stack, "project_id", t.project, "hour")
    for b in final["series"]:
        s, e, c, p50, p95, p99 = exact.get(b["start"], (0, 0, 0, None, None, None))
        assert (b["success"], b["error"], b["cancelled"]) == (s, e, c), b["start"]
        assert within(b["duration_ms"]["p95"], p95), b["start"]


def test_project_rows_equal_the_sum_of_the_workflows_rows(stack, team):
    team.stats("projects", team.project, since=SINCE, until=UNTIL)
    cols = "success, error, cancelled, duration_count, input_tokens, output_tokens"
    got = rows(stack, f"""SELECT hour, {cols}, trim_scale(cost_usd), duration_hist FROM agora.stats_projects_hourly
                          WHERE project_id = '{team.project}' ORDER BY hour""")
    want = rows(stack, f"""SELECT hour, {", ".join(f"sum({c})" for c in cols.split(", "))},
                                  trim_scale(sum(cost_usd)), string_agg(duration_hist::text, ';')
                           FROM agora.stats_executions_hourly WHERE project_id = '{team.project}'
                           GROUP BY hour ORDER BY hour""")
    assert [r[:8] for r in got] == [r[:8] for r in want] and len(got) > 20
    for g, w in zip(got, want):
        h = {}
        for text in w[8].split(";"):
            add_hist(h, parse_hist(text))
        assert parse_hist(g[8]) == h, g[0]
