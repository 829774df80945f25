"""Failover on PostgreSQL's own streaming replication, on real servers.

A stack of its own (the shared one is left alone), its cluster as the
primary, and a hot standby made from it by pg_basebackup, streaming on a
separate port and data directory, synchronous (synchronous_standby_names).
The workers connect with a libpq multi-host string and
target_session_attrs=read-write, so whichever server accepts writes is the
one they use. Under a bounded ingest load the primary is killed (immediate
shutdown: no checkpoint, as a crash) and the standby promoted:

- every ingest the API acknowledged is on the promoted server, whole;
- clients see 503 with Retry-After while no server accepts writes, never a
  500 and never a partial run;
- the workers recover on their own within a few seconds of the promotion;
- so do agora-live and agora-alerts on the same multi-host string: a live
  subscriber gets the messages of a run appended to after the promotion,
  and a run that fails after it reaches its rule's webhook.
"""
import os
import pwd
import re
import signal
import shutil
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

from conftest import free_port, new_stack, remove_stack, start_stack, terminate, wait_for
from live_clients import SSEClient, tls_context
from test_alerts import Receiver

ROUTE = "/api/executions/ingest"
APP = "agora_standby"  # the standby's application_name, named by synchronous_standby_names


def conninfo_value(url, key):
    m = re.search(rf"(?:^|\s){key}=(\S+)", url)
    assert m, f"{key} not in {url!r}"
    return m.group(1)


class Standby:
    """A hot standby of the stack's cluster: pg_basebackup -R into a
    directory of its own, started on its own port and socket directory."""

    def __init__(self, stack):
        self.stack = stack
        self.root = stack.is_root
        self.bin = stack.env["AGORA_PG_BINDIR"]
        self.dir = tempfile.mkdtemp(prefix="agora-standby-", dir="/tmp")
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "sock")
        self.port = free_port()
        os.mkdir(self.sock)
        admin = stack.env["AGORA_ADMIN_DATABASE_URL"]
        self.primary_sock = conninfo_value(admin, "host")
        self.primary_port = conninfo_value(admin, "port")
        # pg_basebackup and the walreceiver read the superuser's password
        # from a file the server's OS user can open.
        with open(os.path.join(stack.var, "secrets", "pg_super_password")) as f:
            password = f.read().strip()
        self.passfile = os.path.join(self.dir, "pgpass")
        fd = os.open(self.passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"*:*:*:agora_super:{password}\n")
        if self.root:
            # The server runs as postgres; the workers' user reaches the
            # socket through the group of the directories above it.
            group = stack.env.get("AGORA_WORKERS_USER", "agora")
            shutil.chown(self.dir, "postgres", group)
            os.chmod(self.dir, 0o710)
            shutil.chown(self.sock, "postgres", group)
            os.chmod(self.sock, 0o710)
            shutil.chown(self.passfile, "postgres", "postgres")

    def run_pg(self, *args, timeout=120):
        cmd = [os.path.join(self.bin, args[0]), *args[1:]]
        if self.root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        r = subprocess.run(cmd, cwd="/", stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout)
        assert r.returncode == 0, f"{args[0]} failed:\n{r.stdout}\n{r.stderr}"
        return r

    def create(self):
        self.run_pg("pg_basebackup", "-D", self.data, "-R", "-X", "stream", "-c", "fast", "-d",
                    f"host={self.primary_sock} port={self.primary_port} user=agora_super"
                    f" passfile={self.passfile} application_name={APP}")
        # The copy names the primary's port and socket: its own instead.
        conf = os.path.join(self.data, "agora.conf")
        with open(conf, "w") as f:
            f.write(f"listen_addresses = ''\nport = {self.port}\n"
                    f"unix_socket_directories = '{self.sock}'\n"
                    f"unix_socket_permissions = {'0777' if self.root else '0700'}\n")
        if self.root:
            shutil.chown(conf, "postgres", "postgres")
        self.run_pg("pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "postgresql.log"),
                    "-w", "-t", "60", "start")

    def url(self, user="agora_super", passfile=None):
        passfile = passfile or os.path.join(self.stack.var, "secrets", "pgpass")
        return f"host={self.sock} port={self.port} dbname=agora user={user} passfile={passfile}"

    def psql(self, sql):
        return self.stack.psql(self.url(), sql)

    def promote(self):
        self.run_pg("pg_ctl", "-D", self.data, "-w", "-t", "60", "promote")

    def remove(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            cmd = [os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-w", "-t", "60", "stop", "-m", "immediate"]
            if self.root:
                cmd = ["runuser", "-u", "postgres", "--", *cmd]
            subprocess.run(cmd, cwd="/", capture_output=True, timeout=90)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def pair():
    """(stack, standby): a stack of this module's own and a synchronous hot
    standby of its cluster."""
    s = new_stack()
    standby = None
    try:
        start_stack(s)
        standby = Standby(s)
        standby.create()
        # Set after the copy, so the promoted standby does not wait for a
        # synchronous standby of its own.
        s.psql_admin(f"ALTER SYSTEM SET synchronous_standby_names = '{APP}'; SELECT pg_reload_conf()")
        assert wait_for(lambda: s.psql_admin(
            f"SELECT sync_state FROM pg_stat_replication WHERE application_name = '{APP}'").strip() == "sync",
            timeout=30), "the standby never became a synchronous standby"
        yield s, standby
    finally:
        if standby:
            standby.remove()
        remove_stack(s)


class Tenant:
    def __init__(self, stack):
        self.stack = stack
        self.tok = stack.token(stack.new_user())
        r = stack.request("POST", "/api/organizations", token=self.tok, body={"name": "Failover org"})
        assert r.status == 201, r.body
        self.org = r.json()["id"]
        r = stack.request("POST", "/api/projects", token=self.tok,
                          body={"organization_id": self.org, "name": "failover"})
        assert r.status == 201, r.body
        self.project = r.json()["id"]
        r = stack.request("POST", "/api/workflows", token=self.tok,
                          body={"project_id": self.project, "name": "failover",
                                "nodes": [{"name": "a"}, {"name": "b"}], "edges": []})
        assert r.status == 201, r.body
        self.wf = r.json()["id"]

    def payload(self, session):
        return {
            "workflow_id": self.wf, "session_id": session, "status": "success",
            "started_at": "2026-11-26T12:00:00Z", "completed_at": "2026-11-26T12:00:05Z",
            "node_executions": [{"node_name": n, "status": "success", "exec_duration_ms": 5} for n in ("a", "b")],
            "telemetry_events": [{"event_type": "tick", "timestamp": f"2026-11-26T12:00:0{i}Z",
                                  "node_name": "a", "data": {"i": i}} for i in range(5)],
        }


def worker_log_lines(stack, bad):
    """The workers' log around the requests in bad: each one's line and the
    five before it (where the worker says what went wrong)."""
    ids = set(re.findall(rb'"request_id":"([0-9a-f]+)"', b" ".join(
        x[2] for x in bad if len(x) > 2 and isinstance(x[2], bytes))))
    try:
        with open(os.path.join(stack.var, "log", "workers.log"), "rb") as f:
            lines = f.readlines()
    except OSError as e:
        return [repr(e)]
    out = []
    for n, line in enumerate(lines):
        if any(i in line for i in ids):
            out += [x[:300] for x in lines[max(0, n - 5):n + 1]]
    return out[:40]


def restart_workers(stack, url, read_url=None, read_wait_ms=200):
    """Restarts the workers on url, with read_url as their standby for the
    read routes (none when None)."""
    stopped = stack.workers("stop")
    assert stopped.returncode == 0, stopped.stderr
    stack.env["AGORA_DATABASE_URL"] = url
    stack.env.pop("AGORA_READ_DATABASE_URL", None)
    if read_url:
        stack.env["AGORA_READ_DATABASE_URL"] = read_url
        stack.env["AGORA_READ_WAIT_MS"] = str(read_wait_ms)
    started = stack.workers("start")
    assert started.returncode == 0, started.stdout + started.stderr
    assert stack.wait_healthy().status == 200


def standby_table_reads(standby, tables):
    """Scans of the tables whose names are LIKE tables that the standby
    itself has run (its own statistics)."""
    out = standby.psql("SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) FROM pg_stat_user_tables"
                       f" WHERE schemaname = 'agora' AND relname LIKE '{tables}'")
    return int(out.strip())


def ingest_and_read_on_the_standby(stack, standby, n, tables, read):
    """n ingests of a new tenant's run, each read back at once by
    read(tenant, execution id, i), which asserts what it gets: the standby
    must have replayed the run first, or the read goes to the primary;
    never a stale answer. Then the standby must have run the reads itself:
    n scans more of the tables LIKE tables (its statistics reach the view
    within its flush interval)."""
    t = Tenant(stack)
    before = standby_table_reads(standby, tables)
    for i in range(n):
        r = stack.request("POST", ROUTE, token=t.tok, body=t.payload(f"standby-{i}-{uuid.uuid4().hex[:6]}"))
        assert r.status in (200, 201), r.body
        read(t, r.json()["execution_id"], i)
    assert wait_for(lambda: standby_table_reads(standby, tables) >= before + n, timeout=20), \
        (before, standby_table_reads(standby, tables))


def test_the_standby_is_hot_read_only_and_streams_synchronously(pair):
    stack, standby = pair
    assert standby.psql("SELECT pg_is_in_recovery()").strip() == "t"
    t = Tenant(stack)
    session = f"replicated-{uuid.uuid4().hex[:8]}"
    r = stack.request("POST", ROUTE, token=t.tok, body=t.payload(session))
    assert r.status in (200, 201), r.body
    # Synchronous commit waits for the standby's flush; its replay follows.
    assert wait_for(lambda: standby.psql(
        f"SELECT count(*) FROM agora.executions WHERE session_id = '{session}'").strip() == "1", timeout=10)
    with pytest.raises(subprocess.CalledProcessError) as refused:
        standby.psql("CREATE TABLE agora.nope (x int)")
    assert "read-only" in refused.value.stderr


@pytest.fixture
def reading_from_standby(pair):
    """The workers with the standby as AGORA_READ_DATABASE_URL; back on the
    primary alone afterwards."""
    stack, standby = pair
    primary = stack.env["AGORA_DATABASE_URL"]
    app_pass = conninfo_value(primary, "passfile")
    restart_workers(stack, primary, standby.url("agora_app", app_pass))
    yield stack, standby
    restart_workers(stack, primary)


def test_read_routes_run_on_the_standby_and_see_the_callers_own_writes(reading_from_standby):
    stack, standby = reading_from_standby

    def read(t, run, i):
        got = stack.request("GET", f"/api/executions/{run}", token=t.tok)
        assert got.status == 200, (i, got.status, got.body)
        assert got.json()["id"] == run
        listed = stack.request("GET", "/api/executions", token=t.tok)
        assert run in [x["id"] for x in listed.json()["items"]], i

    ingest_and_read_on_the_standby(stack, standby, 20, "executions", read)


def test_every_standby_route_answers_from_a_read_only_server(reading_from_standby):
    stack, standby = reading_from_standby
    t = Tenant(stack)
    runs = []
    for i in range(2):
        r = stack.request("POST", ROUTE, token=t.tok, body=t.payload(f"routes-{i}-{uuid.uuid4().hex[:6]}"))
        assert r.status in (200, 201), r.body
        runs.append(r.json()["execution_id"])
    project = stack.request("GET", "/api/projects", token=t.tok).json()["items"][0]["id"]
    a, b = runs
    paths = [
        "/api/executions", "/api/executions?format=ndjson", f"/api/executions/{a}", f"/api/executions/{a}/timeline",
        f"/api/executions/{a}/critical-path", f"/api/executions/{a}/telemetry-spans",
        f"/api/executions/{a}/telemetry-events", f"/api/executions/{a}/state-snapshots",
        f"/api/executions/{a}/export", f"/api/executions/{a}/report", f"/api/executions/{a}/compare/{b}",
        "/api/workflows", f"/api/workflows/{t.wf}", "/api/organizations", f"/api/organizations/{t.org}/members",
        f"/api/organizations/{t.org}/audit-log", f"/api/organizations/{t.org}/model-prices", "/api/projects",
        f"/api/projects/{project}/api-keys", f"/api/projects/{project}/alert-rules",
    ]
    # Wait until the standby has everything, so these run there.
    time.sleep(0.5)
    for path in paths:
        r = stack.request("GET", path, token=t.tok)
        assert r.status == 200, (path, r.status, r.body[:300])


def test_statistics_fold_on_the_primary_and_read_the_rollups_on_the_standby(reading_from_standby):
    stack, standby = reading_from_standby
    query = "since=2026-11-26T00:00:00Z&until=2026-11-27T00:00:00Z&bucket=day"

    def read(t, run, i):
        # Counted at once: the fold's commit is replayed before the read.
        st = stack.request("GET", f"/api/workflows/{t.wf}/stats?{query}", token=t.tok)
        assert st.status == 200, st.body
        assert [b["success"] for b in st.json()["series"]] == [i + 1], st.json()["series"]

    ingest_and_read_on_the_standby(stack, standby, 5, "stats\\_%", read)


def test_a_lagging_standby_sends_the_read_to_the_primary(reading_from_standby):
    stack, standby = reading_from_standby
    t = Tenant(stack)
    standby.psql("SELECT pg_wal_replay_pause()")
    try:
        r = stack.request("POST", ROUTE, token=t.tok, body=t.payload(f"lag-{uuid.uuid4().hex[:6]}"))
        assert r.status in (200, 201), r.body
        run = r.json()["execution_id"]
        assert standby.psql(f"SELECT count(*) FROM agora.executions WHERE id = '{run}'").strip() == "0"
        t0 = time.monotonic()
        got = stack.request("GET", f"/api/executions/{run}", token=t.tok)
        waited = time.monotonic() - t0
        assert got.status == 200, got.body
        assert waited >= 0.2, waited  # AGORA_READ_WAIT_MS spent waiting, then the primary
    finally:
        standby.psql("SELECT pg_wal_replay_resume()")


class Daemon:
    """The stack's agora-NAME (live or alerts) replaced by one of our own
    with the environment env, as the same user: run.sh starts it with the
    single-host URL of var/env, a deployment with the workers' multi-host
    string (the same environment file)."""

    def __init__(self, stack, name, env):
        with open(os.path.join(stack.var, "run", f"{name}.pid")) as f:
            supervisor = int(f.read().strip())
        uid = os.stat(f"/proc/{supervisor}").st_uid
        os.kill(supervisor, signal.SIGTERM)  # it stops its child and exits
        assert wait_for(lambda: not alive(supervisor), timeout=20), f"agora-{name}'s supervisor did not stop"
        cmd = [os.path.join(stack.root, f"agora-{name}")]
        if uid != os.geteuid():
            cmd = ["setpriv", f"--reuid={uid}", f"--regid={pwd.getpwuid(uid).pw_gid}", "--init-groups", *cmd]
        self.log = os.path.join(stack.var, "log", f"{name}-failover.log")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=stack.root, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self):
        terminate(self.proc)


def alive(pid):
    """Whether pid runs (a zombie does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def live_message_after_appends(stack, t, timeout=30):
    """A run of t's, a live subscription to it, and appends until one of
    their messages arrives (agora-live may still be reconnecting); the
    message's body."""
    session = f"live-{uuid.uuid4().hex[:6]}"
    run = {"workflow_id": t.wf, "session_id": session, "status": "running", "started_at": "2026-11-26T12:00:00Z"}
    r = stack.request("POST", ROUTE, token=t.tok, body=run)
    assert r.status == 201, r.body
    run["execution_id"] = r.json()["execution_id"]
    ticket = stack.request("POST", "/api/live/tickets", token=t.tok, body={"execution_id": run["execution_id"]})
    assert ticket.status == 201, ticket.body
    sub = SSEClient(stack.https_port, tls_context(stack.ca), ticket.json()["path"])
    try:
        assert sub.status == 200, sub.status
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = stack.request("POST", ROUTE, token=t.tok, body={
                **run, "telemetry_events": [{"event_type": "tick", "timestamp": "2026-11-26T12:00:01Z"}]})
            assert r.status == 200, r.body
            msg = sub.next_event(1.0)
            if msg is not None:
                return msg.json()
        raise AssertionError(f"no live message within {timeout} s")
    finally:
        sub.close()


def test_promotion_under_load_keeps_every_acknowledged_ingest_and_workers_live_and_alerts_recover(pair):
    stack, standby = pair
    app = stack.env["AGORA_DATABASE_URL"]
    multi = (f"host={conninfo_value(app, 'host')},{standby.sock} port={conninfo_value(app, 'port')},{standby.port}"
             f" dbname=agora user=agora_app passfile={conninfo_value(app, 'passfile')}"
             " target_session_attrs=read-write")
    restart_workers(stack, multi)
    t = Tenant(stack)
    # agora-live and agora-alerts on the same string, and a rule of t's
    # whose webhook the deliverer may reach (loopback, http).
    hook, daemons = Receiver().start(), []
    stack.psql_admin(
        "WITH r AS (INSERT INTO agora.alert_rules (organization_id, project_id, name, kind, workflow_id)"
        f" VALUES ('{t.org}', '{t.project}', 'failover', 'execution_failed', '{t.wf}') RETURNING id)"
        " INSERT INTO agora.alert_channels (organization_id, project_id, rule_id, position, url)"
        f" SELECT '{t.org}', '{t.project}', r.id, 0, '{hook.url}' FROM r")
    try:
        for name in ("live", "alerts"):
            daemons.append(Daemon(stack, name, dict(stack.env, AGORA_DATABASE_URL=multi,
                                                    AGORA_WEBHOOK_ALLOW="loopback", AGORA_WEBHOOK_ALLOW_HTTP="on")))
        check_promotion_under_load(stack, standby, t)
        # Both connected to the primary before; now to the promoted server.
        msg = live_message_after_appends(stack, t)
        assert msg["type"] == "execution" and msg["seq"] >= 2, msg
        failed = stack.request("POST", ROUTE, token=t.tok, body={**t.payload("failover-alert"), "status": "error"})
        assert failed.status == 201, failed.body
        run = failed.json()["execution_id"]
        assert wait_for(lambda: any(b'"' + run.encode() + b'"' in body for _, body in list(hook.requests)),
                        timeout=30), (hook.requests[-1:], open(daemons[1].log, "rb").read()[-600:])
    finally:
        for d in daemons:
            d.stop()
        hook.stop()


def check_promotion_under_load(stack, standby, t):
    """The primary killed under the ingest load of four retrying clients of
    t, the standby promoted: every acknowledged run is on it, whole, and
    the workers answer again within seconds."""
    stop = threading.Event()
    lock = threading.Lock()
    acked, answers, bad = [], [], []

    def client(n):
        i = 0
        while not stop.is_set():
            session, key = f"fo-{n}-{i}-{uuid.uuid4().hex[:6]}", str(uuid.uuid4())
            body = t.payload(session)
            while True:  # a retry-safe client: the same key until it is acknowledged
                try:
                    r = stack.request("POST", ROUTE, token=t.tok, body=body,
                                      headers={"Idempotency-Key": key}, timeout=30)
                except OSError as e:
                    with lock:
                        bad.append(("transport", repr(e)))
                    return
                with lock:
                    answers.append((time.monotonic(), r.status))
                    if r.status in (200, 201):
                        acked.append(session)
                    elif r.status != 503 or not r.headers.get("retry-after"):
                        bad.append((r.status, r.headers.get("retry-after"), r.body[:200]))
                if r.status in (200, 201):
                    break
                if r.status != 503 or (stop.is_set() and time.monotonic() > hard_stop):
                    return
                time.sleep(0.1)
            i += 1

    hard_stop = time.monotonic() + 60
    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(4)]
    for th in threads:
        th.start()
    time.sleep(2)
    with lock:
        before = len(acked)
    assert before > 0, "no ingest succeeded before the failover"
    stack._pg_ctl("-w", "-t", "60", "stop", "-m", "immediate")  # the primary dies
    killed = time.monotonic()
    standby.promote()
    promoted = time.monotonic()
    assert wait_for(lambda: any(ts > promoted and st in (200, 201) for ts, st in list(answers)), timeout=30), \
        "no ingest succeeded after the promotion"
    recovered = min(ts for ts, st in list(answers) if ts > promoted and st in (200, 201))
    time.sleep(2)
    stop.set()
    for th in threads:
        th.join(timeout=90)
        assert not th.is_alive()

    assert bad == [], (bad[:5], b"".join(worker_log_lines(stack, bad)).decode(errors="replace"))
    statuses = {st for _, st in answers}
    assert statuses <= {200, 201, 503}, statuses
    assert recovered - promoted < 10, f"workers took {recovered - promoted:.1f} s after the promotion"
    # Every acknowledged run is on the promoted server, whole, exactly once.
    assert standby.psql("SELECT pg_is_in_recovery()").strip() == "f"
    rows = standby.psql(
        "SELECT e.session_id,"
        " (SELECT count(*) FROM agora.node_executions n WHERE n.execution_id = e.id),"
        " (SELECT count(*) FROM agora.telemetry_events v WHERE v.execution_id = e.id)"
        " FROM agora.executions e WHERE e.session_id LIKE 'fo-%'")
    stored = {}
    for line in rows.strip().splitlines():
        session, nodes, events = line.split("|")
        stored.setdefault(session, []).append((int(nodes), int(events)))
    missing = [s for s in acked if s not in stored]
    assert missing == [], f"{len(missing)} acknowledged runs lost: {missing[:5]}"
    # Whole and once, acknowledged or not: nothing partial, nothing twice.
    wrong = {s: v for s, v in stored.items() if v != [(2, 5)]}
    assert wrong == {}, list(wrong.items())[:5]
    print(f"\nfailover: {len(acked)} acknowledged ({before} before the kill), "
          f"{sum(1 for _, st in answers if st == 503)} answers 503, "
          f"promotion took {promoted - killed:.2f} s, first success {recovered - promoted:.2f} s after it")
