"""GET /api/metrics against the real stack: Prometheus text format 0.0.4
(checked by a strict parser written here and by Debian's
python3-prometheus-client), counters summed over every worker that moved by
exactly what the test did (requests by route pattern and status, ingested
rows by table, histogram counts), refused to a client that is not
127.0.0.1 or ::1 (a real connection from 127.0.0.2), still monotonic after
a worker is killed and restarted by agora-supervise, and a 503 JSON error when
the workers cannot set the shared block up."""
import http.client
import json
import math
import os
import re
import signal
import subprocess
import uuid

from prometheus_client.parser import text_string_to_metric_families

from conftest import wait_for

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
INGEST = "/api/executions/ingest"

NAME_RE = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_RE = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE_RE = re.compile(rf"^({NAME_RE})(?:\{{((?:{LABEL_RE})(?:,{LABEL_RE})*)?\}})? (\S+)$")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def unescape(value):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "\\": "\\", '"': '"'}[m.group(1)], value)


def parse_strict(text):
    """Parses the exposition text strictly (format 0.0.4): HELP and TYPE at
    most once per family and before its samples, well-formed names, label
    values escaped, float values, no repeated series, histograms with
    cumulative buckets ending in +Inf equal to _count. Returns
    {(name, ((label, value), ...)): float}."""
    assert text.endswith("\n"), "the text must end with a newline"
    types, helps, samples = {}, set(), {}
    seen_samples_of = set()
    for n, line in enumerate(text.split("\n")[:-1], 1):
        assert line, f"line {n}: empty line"
        if line.startswith("#"):
            m = re.match(rf"^# (HELP|TYPE) ({NAME_RE}) (.*)$", line)
            assert m, f"line {n}: bad comment {line!r}"
            kind, name, rest = m.groups()
            assert name not in seen_samples_of, f"line {n}: {kind} after samples of {name}"
            if kind == "TYPE":
                assert name not in types, f"line {n}: second TYPE for {name}"
                assert rest in TYPES, f"line {n}: unknown type {rest!r}"
                types[name] = rest
            else:
                assert name not in helps, f"line {n}: second HELP for {name}"
                helps.add(name)
            continue
        m = SAMPLE_RE.match(line)
        assert m, f"line {n}: not a sample line: {line!r}"
        name, value = m.group(1), m.group(m.lastindex)
        labels = tuple((k, unescape(v)) for k, v in re.findall(LABEL_RE, m.group(2) or ""))
        assert len({k for k, _ in labels}) == len(labels), f"line {n}: repeated label"
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        family = base if types.get(base) == "histogram" else name
        assert family in types, f"line {n}: sample of {name} without a TYPE"
        seen_samples_of.add(family)
        v = float(value)  # raises on anything that is not a number, +Inf, -Inf or NaN
        key = (name, labels)
        assert key not in samples, f"line {n}: repeated series {key}"
        samples[key] = v
    # Histograms: cumulative buckets, +Inf last and equal to _count.
    for name, t in types.items():
        if t != "histogram":
            continue
        series = {}
        for (sname, labels), v in samples.items():
            if sname == name + "_bucket":
                rest = tuple(l for l in labels if l[0] != "le")
                le = dict(labels)["le"]
                series.setdefault(rest, []).append((math.inf if le == "+Inf" else float(le), v))
        for rest, buckets in series.items():
            buckets.sort()
            counts = [c for _, c in buckets]
            assert counts == sorted(counts), f"{name}{rest}: buckets not cumulative"
            assert buckets[-1][0] == math.inf, f"{name}{rest}: no +Inf bucket"
            assert samples[(name + "_count", rest)] == counts[-1], f"{name}{rest}: _count != +Inf bucket"
            assert (name + "_sum", rest) in samples, f"{name}{rest}: no _sum"
    return samples, types


def scrape(stack):
    r = stack.request("GET", "/api/metrics")
    assert r.status == 200, r
    assert r.headers["Content-Type"] == CONTENT_TYPE, r.headers
    text = r.body.decode("utf-8")
    samples, types = parse_strict(text)
    # Debian's prometheus_client parser must read it too, to the same values.
    theirs = {}
    for fam in text_string_to_metric_families(text):
        # It names a counter family without its _total suffix.
        assert fam.type == types.get(fam.name, types.get(fam.name + "_total")), fam
        for s in fam.samples:
            theirs[(s.name, tuple(sorted(s.labels.items())))] = s.value
    ours = {(name, tuple(sorted(labels))): v for (name, labels), v in samples.items()}
    assert theirs == ours
    return ours


def value(samples, name, **labels):
    """A sample's value; 0 for a series not (yet) rendered."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def requests_of(samples, route, method, status):
    return value(samples, "agora_http_requests_total", route=route, method=method, status=str(status))


def counters(samples, types):
    """Every sample of a counter or histogram family (they only go up)."""
    out = {}
    for (name, labels), v in samples.items():
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if types.get(name) == "counter" or types.get(base) == "histogram":
            out[(name, labels)] = v
    return out


def tenant(stack):
    """A user with an organization, a project and a workflow."""
    user = stack.new_user()
    tok = stack.token(user)
    r = stack.request("POST", "/api/organizations", token=tok, body={"name": "Metrics org"})
    assert r.status == 201, r
    org = r.json()["id"]
    r = stack.request("POST", "/api/projects", token=tok, body={"organization_id": org, "name": "m"})
    assert r.status == 201, r
    project = r.json()["id"]
    r = stack.request("POST", "/api/workflows", token=tok,
                      body={"project_id": project, "name": "wf", "nodes": [{"name": "a"}], "edges": []})
    assert r.status == 201, r
    return tok, r.json()["id"]


def payload(workflow, nodes, spans, events, snapshots):
    t = "2024-11-26T12:00:00"
    return {
        "workflow_id": workflow, "session_id": "metrics-" + uuid.uuid4().hex, "status": "success",
        "started_at": t,
        "node_executions": [{"node_name": "a", "status": "success"} for _ in range(nodes)],
        "telemetry_spans": [{"span_id": f"{i + 1:x}", "name": "s", "start_time": t} for i in range(spans)],
        "telemetry_events": [{"event_type": "e", "timestamp": t} for _ in range(events)],
        "shared_state_snapshots": [{"sequence": i, "state": {}} for i in range(snapshots)],
    }


def test_metrics_text_parses_and_has_every_family(stack):
    r = stack.request("GET", "/api/metrics")
    assert r.status == 200, r
    assert r.headers["Content-Type"] == CONTENT_TYPE
    # Scraped without a token, like Prometheus does; no cache.
    assert r.headers.get("Cache-Control") == "no-store"
    samples, types = parse_strict(r.body.decode("utf-8"))
    assert types == {
        "agora_http_requests_total": "counter",
        "agora_http_request_duration_seconds": "histogram",
        "agora_http_requests_in_flight": "gauge",
        "agora_ingested_rows_total": "counter",
        "agora_db_errors_total": "counter",
        "agora_workers": "gauge",
        "agora_worker_starts_total": "counter",
    }
    # The scrape itself is in flight while it is rendered.
    assert samples[("agora_http_requests_in_flight", ())] >= 1
    assert samples[("agora_workers", ())] == int(stack.env["AGORA_WORKERS"]) == len(stack.workers_pids())
    for table in ("executions", "node_executions", "telemetry_spans", "telemetry_events", "shared_state_snapshots"):
        assert ("agora_ingested_rows_total", (("table", table),)) in samples


def test_counters_move_by_exactly_what_was_done(stack):
    tok, wf = tenant(stack)
    before = scrape(stack)

    r = stack.request("POST", INGEST, token=tok, body=payload(wf, nodes=3, spans=2, events=5, snapshots=4))
    assert r.status == 201, r
    body = payload(wf, 1, 0, 0, 0)
    body["status"] = "bogus"
    assert stack.request("POST", INGEST, token=tok, body=body).status == 422
    assert stack.request("GET", f"/api/executions/{uuid.uuid4()}", token=tok).status == 404
    assert stack.request("GET", "/api/projects").status == 401
    assert stack.request("GET", "/api/no-such-route/" + uuid.uuid4().hex).status == 404
    # An idempotent replay writes nothing: no rows counted for it.
    again = payload(wf, 2, 0, 0, 0)
    hdr = {"Idempotency-Key": "metrics-" + uuid.uuid4().hex}
    assert stack.request("POST", INGEST, token=tok, body=again, headers=hdr).status == 201
    assert stack.request("POST", INGEST, token=tok, body=again, headers=hdr).status == 201

    after = scrape(stack)
    delta = lambda f, *a: f(after, *a) - f(before, *a)  # noqa: E731
    assert delta(requests_of, INGEST, "POST", 201) == 3
    assert delta(requests_of, INGEST, "POST", 422) == 1
    assert delta(requests_of, "/api/executions/{id}", "GET", 404) == 1
    assert delta(requests_of, "/api/projects", "GET", 401) == 1
    assert delta(requests_of, "unmatched", "other", 404) == 1
    # The first scrape is counted by the second, under its pattern.
    assert delta(requests_of, "/api/metrics", "GET", 200) == 1
    # Never a raw path as a label.
    for name, labels in after:
        for k, v in labels:
            if k == "route":
                # a route of the table (nginx's internal ones, and the
                # OTLP exporters' /v1/traces, included)
                assert v == "unmatched" or v.startswith(("/api/", "/internal/")) or v == "/v1/traces", v
                assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}", v), v

    rows = lambda s, t: value(s, "agora_ingested_rows_total", table=t)  # noqa: E731
    assert delta(rows, "executions") == 2
    assert delta(rows, "node_executions") == 3 + 2
    assert delta(rows, "telemetry_spans") == 2
    assert delta(rows, "telemetry_events") == 5
    assert delta(rows, "shared_state_snapshots") == 4

    hist = lambda s, suffix: value(s, "agora_http_request_duration_seconds" + suffix,  # noqa: E731
                                   route=INGEST, method="POST")
    assert delta(hist, "_count") == 4  # three 201s and a 422
    assert delta(hist, "_sum") > 0
    assert after[("agora_http_request_duration_seconds_bucket",
                  (("le", "+Inf"), ("method", "POST"), ("route", INGEST)))] == hist(after, "_count")


def https_from(stack, source, path):
    """One request to nginx from the given local source address."""
    conn = http.client.HTTPSConnection("127.0.0.1", stack.https_port, timeout=10,
                                       context=stack.ssl_context(), source_address=(source, 0))
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_metrics_are_refused_to_a_client_that_is_not_localhost(stack):
    # 127.0.0.2 is a real, different source address (the whole of
    # 127.0.0.0/8 is local on Linux), and it is not in nginx's allow list.
    status, _, body = https_from(stack, "127.0.0.2", "/api/health")
    assert status == 200, body  # the address itself reaches nginx fine
    status, headers, body = https_from(stack, "127.0.0.2", "/api/metrics")
    assert status == 403, body
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body)["error"]["code"] == "forbidden"
    assert b"agora_" not in body
    # Spellings nginx normalises to the same location are refused too.
    for path in ("/api//metrics", "/api/%6detrics", "/api/x/../metrics"):
        status, _, body = https_from(stack, "127.0.0.2", path)
        assert status in (403, 404), (path, status, body)
        assert b"agora_http" not in body, path
    status, _, body = https_from(stack, "127.0.0.1", "/api/metrics")
    assert status == 200 and b"agora_http_requests_total" in body


def test_counters_stay_monotonic_when_a_worker_is_killed(stack):
    tok, _ = tenant(stack)
    for _ in range(4):
        assert stack.request("GET", "/api/projects", token=tok).status == 200
    r = stack.request("GET", "/api/metrics")
    samples, types = parse_strict(r.body.decode())
    before = counters(samples, types)
    starts = samples[("agora_worker_starts_total", ())]

    pids = stack.workers_pids()
    victim = pids[0]
    os.kill(victim, signal.SIGKILL)
    assert wait_for(lambda: victim not in stack.workers_pids() and len(stack.workers_pids()) == len(pids))

    # The replacement is a process before it has claimed its slot: wait
    # until a scrape shows it started and holding a slot.
    def replaced():
        r = stack.request("GET", "/api/metrics")
        got, _ = parse_strict(r.body.decode())
        return (got[("agora_worker_starts_total", ())] >= starts + 1
                and got[("agora_workers", ())] == len(pids))

    assert wait_for(replaced)

    # Several scrapes, so each worker (the new one too) answers some.
    for _ in range(6):
        r = stack.request("GET", "/api/metrics")
        assert r.status == 200, r
        samples, types = parse_strict(r.body.decode())
        now = counters(samples, types)
        for key, v in before.items():
            assert now.get(key, 0) >= v, (key, v, now.get(key))
        assert samples[("agora_worker_starts_total", ())] >= starts + 1
        assert samples[("agora_workers", ())] == len(pids)
        before = now


def test_metrics_answer_503_when_the_block_cannot_be_set_up(stack):
    """Workers pointed at a file that is not a metrics file leave it alone,
    serve requests, and answer /api/metrics with a JSON 503."""
    foreign = os.path.join(stack.var, "run", "not-metrics")
    with open(foreign, "w") as f:
        f.write("someone else's file\n")
    assert stack.workers("stop").returncode == 0
    env = dict(stack.env, AGORA_METRICS_FILE=foreign)
    try:
        r = subprocess.run([os.path.join(stack.root, "fcgi", "agora-workers"), "start"],
                           cwd=stack.root, env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert stack.wait_healthy().status == 200
        for _ in range(4):
            m = stack.request("GET", "/api/metrics")
            assert m.status == 503, m
            assert m.json()["error"]["code"] == "unavailable"
            assert m.json()["error"]["request_id"] == m.headers["X-Request-Id"]
            assert stack.request("GET", "/api/health").status == 200
        with open(foreign) as f:
            assert f.read() == "someone else's file\n"
    finally:
        stack.workers("stop")
        r = stack.workers("start")
        assert r.returncode == 0, r.stdout + r.stderr
        assert stack.wait_healthy().status == 200
    assert stack.request("GET", "/api/metrics").status == 200


def test_agora_admin_prints_the_same_metrics_read_only(stack):
    """`agora-admin metrics` (for hosts scraped without nginx, e.g. through
    node_exporter's textfile collector) renders the workers' file as the
    route does, and leaves it unchanged."""
    path = stack.env["AGORA_METRICS_FILE"]
    before = open(path, "rb").read()
    out = stack.admin("metrics", check=True).stdout
    out = out.decode() if isinstance(out, bytes) else out
    assert open(path, "rb").read() == before, "agora-admin changed the metrics file"
    samples, _ = parse_strict(out)
    # The scrape counts itself once it is answered, so compare without the
    # metrics route and the in-flight gauge (the scrape is in flight).
    ours = {(n, tuple(sorted(l))): v for (n, l), v in samples.items()}
    theirs = scrape(stack)

    def comparable(d):
        return {k: v for k, v in d.items() if ("route", "/api/metrics") not in k[1]
                and k[0] != "agora_http_requests_in_flight"}

    assert comparable(ours) == comparable(theirs)
    bad = stack.admin("metrics", "--file", os.path.join(stack.var, "env"))
    assert bad.returncode == 1 and "not an Agora metrics file" in (
        bad.stderr.decode() if isinstance(bad.stderr, bytes) else bad.stderr)
