"""Migrations on a managed PostgreSQL: an admin role that is not a superuser.

A throwaway cluster of its own (the agora roles are cluster-wide, and
those of the other tests' stack were made by a superuser, agora_definer
with BYPASSRLS), where a superuser, playing the provider, only creates
`agora_admin LOGIN CREATEROLE CREATEDB` and an empty database it owns.
Then, as agora_admin alone:

- the whole chain applies (the twins of sql/managed/ in place of the files
  that need a superuser), and again changes nothing, nor does a superuser's
  run after it;
- the roles hold no power: agora_app is no superuser, not BYPASSRLS, and a
  member of no agora role; agora_definer has no BYPASSRLS either, so its
  functions work through sql/020's policies, which every table has;
- an agora-worker pointed at the database ingests and reads, and one
  tenant sees nothing of another's;
- a role without CREATEROLE is told what to ask the provider for, and
  migrates once the roles are made and granted to it."""
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import uuid

import pytest

from conftest import ROOT, free_port

SECRET = "managed-pg-test-secret-0123456789abcdef"


class Cluster:
    """initdb + pg_ctl on a unix socket in a temporary directory (as the
    postgres user when we are root, as run.sh does); local trust auth."""

    def __init__(self, bindir):
        self.bindir = bindir
        self.dir = tempfile.mkdtemp(prefix="agora-managed-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.sock = os.path.join(self.dir, "sock")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        os.mkdir(self.sock, 0o700)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            shutil.chown(self.sock, "postgres")
        self.pg("initdb", "-D", self.data, "-U", "agora_super", "--auth=trust", "-E", "UTF8", "--no-locale")
        self.pg("pg_ctl", "-D", self.data, "-w", "-t", "60", "-l", os.path.join(self.dir, "postgresql.log"),
                "-o", f"-k {self.sock} -c listen_addresses='' -p {self.port}", "start")

    def pg(self, program, *args):
        cmd = [os.path.join(self.bindir, program), *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, cwd="/", stdin=subprocess.DEVNULL, capture_output=True, check=True, timeout=120)

    def url(self, user, db):
        return f"host={self.sock} port={self.port} user={user} dbname={db}"

    def psql(self, user, db, sql):
        r = subprocess.run([os.path.join(self.bindir, "psql"), "-XAtq", "-v", "ON_ERROR_STOP=1",
                            "-d", self.url(user, db)], input=sql, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    def stop(self):
        try:
            self.pg("pg_ctl", "-D", self.data, "-w", "-t", "60", "-m", "fast", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def agora_admin(*args, **env):
    return subprocess.run([os.path.join(ROOT, "agora-admin"), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, **env))


@pytest.fixture(scope="module")
def cluster(stack):
    c = Cluster(stack.env["AGORA_PG_BINDIR"])
    try:
        # What a provider's console gives: no superuser, CREATEROLE and an
        # empty database of one's own.
        c.psql("agora_super", "postgres", "CREATE ROLE agora_admin LOGIN CREATEROLE CREATEDB")
        c.psql("agora_super", "postgres", "CREATE DATABASE agora OWNER agora_admin")
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def migrated(cluster):
    first = agora_admin("migrate", "--dir", os.path.join(ROOT, "sql"),
                        AGORA_ADMIN_DATABASE_URL=cluster.url("agora_admin", "agora"))
    assert first.returncode == 0, first.stderr
    return first


def test_the_whole_chain_runs_as_a_createrole_admin_and_again_changes_nothing(cluster, migrated):
    files = sorted(f for f in os.listdir(os.path.join(ROOT, "sql")) if f.endswith(".sql"))
    twins = sorted(os.listdir(os.path.join(ROOT, "sql", "managed")))
    assert "001_roles_and_schema.sql" in twins
    assert f"agora-admin: {len(files)} migration(s) applied" in migrated.stderr
    for twin in twins:
        assert f"applied managed/{twin} (in place of {twin}: the role is not a superuser)" in migrated.stderr
    recorded = cluster.psql("agora_super", "agora", "SELECT name FROM agora_meta.schema_migrations ORDER BY version")
    assert recorded.split("\n") == [f"managed/{f}" if f in twins else f for f in files]

    for user in ("agora_admin", "agora_super"):  # again, then as a superuser: nothing to do
        again = agora_admin("migrate", "--dir", os.path.join(ROOT, "sql"),
                            AGORA_ADMIN_DATABASE_URL=cluster.url(user, "agora"))
        assert again.returncode == 0, again.stderr
        assert "agora-admin: 0 migration(s) applied" in again.stderr, again.stderr


def test_an_edited_twin_stops_the_run_as_an_edited_file_does(cluster, migrated, tmp_path):
    """The record names the twin that ran, and its text is what later runs
    check, superuser or not."""
    sql = tmp_path / "sql"
    shutil.copytree(os.path.join(ROOT, "sql"), sql)
    with open(sql / "managed" / "001_roles_and_schema.sql", "a") as f:
        f.write("-- edited\n")
    for user in ("agora_admin", "agora_super"):
        r = agora_admin("migrate", "--dir", str(sql), AGORA_ADMIN_DATABASE_URL=cluster.url(user, "agora"))
        assert r.returncode != 0
        assert "migrate: managed/001_roles_and_schema.sql changed after it was applied" in r.stderr, r.stderr


def test_the_roles_hold_no_power(cluster, migrated):
    q = lambda sql: cluster.psql("agora_super", "agora", sql)  # noqa: E731
    attrs = q("SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication, rolcanlogin "
              "FROM pg_roles WHERE rolname IN ('agora_admin', 'agora_owner', 'agora_definer', 'agora_app') "
              "ORDER BY rolname")
    assert attrs.split("\n") == [
        "agora_admin|f|f|t|t|f|t",
        "agora_app|f|f|f|f|f|t",
        "agora_definer|f|f|f|f|f|f",  # no BYPASSRLS: sql/020's policies carry it
        "agora_owner|f|f|f|f|f|f",
    ]
    # agora_app reaches nothing through another role.
    assert q("SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
             "WHERE r.rolname = 'agora_app'") == "0"
    # Every table under row-level security has the definer's policy (sql/020;
    # a new table needs it in its own migration).
    assert q("SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'agora'::regnamespace "
             "AND c.relkind IN ('r', 'p') AND NOT (c.relrowsecurity AND c.relforcerowsecurity)") == "0"
    assert q("SELECT string_agg(c.relname, ',') FROM pg_class c WHERE c.relnamespace = 'agora'::regnamespace "
             "AND c.relkind IN ('r', 'p') AND NOT EXISTS (SELECT 1 FROM pg_policy p "
             "WHERE p.polrelid = c.oid AND p.polname = 'definer_all' AND p.polroles = "
             "ARRAY['agora_definer'::regrole]::oid[])") == ""
    # The default prices of sql/009 are there (managed/009 wrote them).
    assert int(q("SELECT count(*) FROM agora.model_prices WHERE organization_id IS NULL")) > 0


# ---------------------------------------------------------------- a worker on it

def fcgi_record(rtype, content):
    pad = (-len(content)) % 8
    return struct.pack("!BBHHBx", 1, rtype, 1, len(content), pad) + content + b"\0" * pad


def fcgi_request(port, method, path, token, body=None):
    """One FastCGI request as nginx sends it; returns (status, JSON body)."""
    data = json.dumps(body).encode() if body is not None else b""
    params = {"REQUEST_METHOD": method, "REQUEST_URI": path, "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1",
              "HTTP_AUTHORIZATION": f"Bearer {token}", "CONTENT_TYPE": "application/json",
              "CONTENT_LENGTH": str(len(data)), "REQUEST_ID": uuid.uuid4().hex}
    pairs = b""
    for k, v in params.items():
        k, v = k.encode(), v.encode()
        for n in (len(k), len(v)):  # one byte up to 127, else four with the top bit set
            pairs += struct.pack("!B", n) if n < 128 else struct.pack("!I", n | 0x80000000)
        pairs += k + v
    msg = fcgi_record(1, struct.pack("!HB5x", 1, 0)) + fcgi_record(4, pairs) + fcgi_record(4, b"")
    msg += (fcgi_record(5, data) if data else b"") + fcgi_record(5, b"")
    buf = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(msg)
        while chunk := s.recv(65536):
            buf += chunk
    out = b""
    while len(buf) >= 8:
        _, rtype, _, length, pad = struct.unpack("!BBHHBx", buf[:8])
        if rtype == 6:  # STDOUT
            out += buf[8:8 + length]
        buf = buf[8 + length + pad:]
    head, _, payload = out.partition(b"\r\n\r\n")
    status = int(head.split(b"Status: ", 1)[1][:3]) if b"Status: " in head else 200
    return status, json.loads(payload) if payload else None


@pytest.fixture(scope="module")
def worker(cluster, migrated, tmp_path_factory):
    """agora-worker on a listening socket (fd 0, as spawn-fcgi gives it),
    connected as agora_app; yields its port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    log = open(tmp_path_factory.mktemp("managed") / "worker.log", "wb")
    env = dict(os.environ, AGORA_DATABASE_URL=cluster.url("agora_app", "agora"), AGORA_JWT_SECRET=SECRET)
    env.pop("AGORA_METRICS_FILE", None)
    proc = subprocess.Popen([os.path.join(ROOT, "agora-worker")], stdin=listener.fileno(), stdout=log,
                            stderr=subprocess.STDOUT, env=env)
    try:
        yield listener.getsockname()[1]
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0
        listener.close()
        log.close()


def tenant(cluster):
    """A user with the demo organization, project and workflow, made as
    agora_app (RLS); returns (token, workflow id)."""
    user = str(uuid.uuid4())
    app = dict(AGORA_DATABASE_URL=cluster.url("agora_app", "agora"), AGORA_JWT_SECRET=SECRET)
    demo = agora_admin("demo", "--user", user, **app)
    assert demo.returncode == 0, demo.stderr
    tok = agora_admin("token", "--user", user, **app)
    assert tok.returncode == 0, tok.stderr
    return tok.stdout.strip(), json.loads(demo.stdout)["workflow_id"]


def test_a_worker_on_it_ingests_and_reads_and_tenants_stay_apart(cluster, worker):
    tok_a, wf_a = tenant(cluster)
    tok_b, _ = tenant(cluster)
    body = {"workflow_id": wf_a, "session_id": "managed", "status": "success",
            "started_at": "2025-06-01T12:00:00Z", "completed_at": "2025-06-01T12:00:01Z", "duration_ms": 1000,
            "node_executions": [{"node_name": "load", "node_type": "AuditedNode", "status": "success",
                                 "prep_duration_ms": 1, "exec_duration_ms": 10, "post_duration_ms": 1,
                                 "model": "gpt-4o", "provider": "openai", "input_tokens": 1000,
                                 "output_tokens": 100}]}
    status, made = fcgi_request(worker, "POST", "/api/executions/ingest", tok_a, body)
    assert status == 201, made
    eid = made["execution_id"]

    status, got = fcgi_request(worker, "GET", f"/api/executions/{eid}", tok_a)
    assert status == 200, got
    assert got["id"] == eid and got["workflow_id"] == wf_a
    # Priced from managed/009's default for gpt-4o (2.50 and 10.00 US
    # dollars per million tokens), which the ingest read through RLS.
    assert got["usage"]["cost_complete"] is True, got["usage"]
    assert float(got["usage"]["cost_usd"]) == pytest.approx(1000 * 2.5e-6 + 100 * 10e-6)

    # B sees nothing of A's and may not write into A's workflow.
    status, got = fcgi_request(worker, "GET", f"/api/executions/{eid}", tok_b)
    assert status == 404, got
    status, got = fcgi_request(worker, "GET", "/api/executions", tok_b)
    assert status == 200 and got["items"] == [], got
    status, got = fcgi_request(worker, "POST", "/api/executions/ingest", tok_b, dict(body, session_id="b"))
    assert status == 404, got
    assert cluster.psql("agora_super", "agora", "SELECT count(*) FROM agora.executions") == "1"


# ---------------------------------------------------------------- without CREATEROLE

def test_a_role_without_createrole_is_told_what_to_ask_for_then_migrates(cluster, migrated):
    """The roles exist in this cluster now (cluster-wide), but the new role
    is a member of none and may not grant them to itself."""
    cluster.psql("agora_super", "postgres", "CREATE ROLE agora_plain LOGIN")
    cluster.psql("agora_super", "postgres", "CREATE DATABASE agora_plain OWNER agora_plain")
    url = cluster.url("agora_plain", "agora_plain")
    r = agora_admin("migrate", "--dir", os.path.join(ROOT, "sql"), AGORA_ADMIN_DATABASE_URL=url)
    assert r.returncode != 0
    assert ("migrate: managed/001_roles_and_schema.sql failed: 42501 role agora_plain is not a member of "
            "agora_owner and agora_definer, and may not grant them to itself (it has no CREATEROLE)") in r.stderr
    assert "migrate: hint: Give role agora_plain CREATEROLE, or have the roles made for it" in r.stderr
    assert "GRANT agora_owner, agora_definer TO agora_plain" in r.stderr
    assert cluster.psql("agora_super", "agora_plain", "SELECT count(*) FROM agora_meta.schema_migrations") == "0"

    # The provider (or a superuser) makes the grant the hint names: enough.
    cluster.psql("agora_super", "postgres", "GRANT agora_owner, agora_definer TO agora_plain")
    r = agora_admin("migrate", "--dir", os.path.join(ROOT, "sql"), AGORA_ADMIN_DATABASE_URL=url)
    assert r.returncode == 0, r.stderr
    assert "applied 020_definer_policies.sql" in r.stderr
