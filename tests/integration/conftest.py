"""Integration harness: one real Agora stack (PostgreSQL, workers, nginx with
TLS) per test session, started by ./run.sh in a throwaway AGORA_VAR and torn
down afterwards, whatever happened.

Fixture ``stack`` gives the tests:
  .root .var .https_port .http_port .base .env .ca
  request(method, path, token=None, body=None, headers=None, timeout=10)
      -> Response(status, headers, body, .json())   (never raises on 4xx/5xx)
  token(user_id, ttl=3600, aud=None, iss=None)    a JWT minted by agora-admin
  psql_admin(sql)                                  as the cluster superuser
  psql_app(sql, user_id=, project_id=, org_id=, key_id=)
      as agora_app inside one transaction carrying that identity (RLS)
  pg_stop() / pg_start()                           PostgreSQL under the workers
  workers_pids()                                   the running agora-worker pids
  supervisor_pid()                                 their supervisor's (agora-supervise)
  admin(*args)                                     ./agora-admin with the env
  new_user()                                       a fresh user id (uuid4)

Module helpers (from conftest import ...): wait_for, free_port,
proc_status_kib and reset_peak_rss (a worker's memory and its peak).
"""

import glob
import http.client
import json
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import uuid

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def new_user():
    """A fresh user id: a UUID string no one has used."""
    return str(uuid.uuid4())


def wait_for(pred, timeout=15.0, step=0.05):
    """Polls pred until it is true (True) or timeout seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return False


def terminate(proc, timeout=20):
    """Ends a subprocess.Popen of the test's own: SIGTERM, then SIGKILL if
    it has not exited within timeout seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def children_of(parent):
    """Sorted pids of the processes whose parent is pid parent."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if stat[stat.rindex(")") + 2:].split()[1] == str(parent):
            pids.append(int(entry))
    return sorted(pids)


def readable_by(user, path):
    """True when OS user user (we are root) can read the file at path."""
    return subprocess.run(["runuser", "-u", user, "--", "cat", path], cwd="/", capture_output=True,
                          timeout=10).returncode == 0


def plain_http_get(port, path, host):
    """GET path from 127.0.0.1:port over plain HTTP with that Host header;
    returns (status, Location header or None)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": host})
        resp = conn.getresponse()
        resp.read()
        return resp.status, resp.getheader("Location")
    finally:
        conn.close()


def proc_status_kib(pid, field):
    """A field of /proc/PID/status in KiB (VmRSS, VmHWM, ...)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def reset_peak_rss(pids):
    """Resets VmHWM of the workers (clear_refs 5) and returns their current
    RSS, or None in a build with AddressSanitizer, whose quarantine keeps
    freed memory resident. Anything else that stops the measurement (no
    worker, no permission: the tests run as the workers' user or as root)
    raises, rather than leave the memory check out unnoticed."""
    assert pids, "no worker to measure"
    before = {}
    for pid in pids:
        with open(f"/proc/{pid}/maps") as f:
            if "libasan" in f.read():
                return None
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        before[pid] = proc_status_kib(pid, "VmRSS")
    return before


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_env_file(path):
    """Parses the `export NAME='value'` lines run.sh writes to var/env."""
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("export "):
                continue
            words = shlex.split(line)
            if len(words) == 2 and "=" in words[1]:
                name, value = words[1].split("=", 1)
                env[name] = value
    return env


class Headers(dict):
    """Response headers, looked up case-insensitively. Repeated headers are
    joined with ', '."""

    def __init__(self, pairs=()):
        super().__init__()
        for k, v in pairs:
            k = k.lower()
            super().__setitem__(k, f"{self[k]}, {v}" if k in self else v)

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def __contains__(self, key):
        return super().__contains__(key.lower())

    def get(self, key, default=None):
        return super().get(key.lower(), default)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        """The body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None

    def __repr__(self):
        return f"<Response {self.status} {self.body[:200]!r}>"


class Stack:
    def __init__(self, root, var, https_port, http_port):
        self.root = root
        self.var = var
        self.https_port = https_port
        self.http_port = http_port
        self.base = f"https://127.0.0.1:{https_port}"
        self.ca = os.path.join(var, "tls", "cert.pem")
        self.env = dict(os.environ)
        self.is_root = os.geteuid() == 0

    def load_env(self):
        self.env.update(read_env_file(os.path.join(self.var, "env")))

    # ---------------------------------------------------------------- HTTP

    def ssl_context(self):
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.check_hostname = False  # the certificate names localhost and 127.0.0.1
        return ctx

    def request(self, method, path, token=None, body=None, headers=None, timeout=10):
        """One HTTPS request through nginx. body: a dict or list (sent as
        JSON), bytes or str (sent raw), or None. Never raises on an HTTP
        error status."""
        hdrs = {}
        data = None
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode("utf-8")
                hdrs["Content-Type"] = "application/json"
            elif isinstance(body, str):
                data = body.encode("utf-8")
            else:
                data = bytes(body)
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        hdrs.update(headers or {})
        conn = http.client.HTTPSConnection(
            "127.0.0.1", self.https_port, timeout=timeout, context=self.ssl_context()
        )
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            return Response(resp.status, Headers(resp.getheaders()), resp.read())
        finally:
            conn.close()

    # ---------------------------------------------------------------- tokens, admin

    def admin(self, *args, check=False, input=None, timeout=60):
        """Runs ./agora-admin with the stack's environment; returns the
        CompletedProcess (text mode)."""
        return subprocess.run(
            [os.path.join(self.root, "agora-admin"), *map(str, args)],
            cwd=self.root, env=self.env, capture_output=True, text=True,
            check=check, input=input, timeout=timeout,
        )

    def token(self, user_id, ttl=3600, **claims):
        """A JWT for user_id signed with the stack's secret. Keyword claims
        aud= and iss= become --aud/--iss."""
        args = ["token", "--user", user_id, "--ttl", str(ttl)]
        for name, value in claims.items():
            if name not in ("aud", "iss"):
                raise TypeError(f"agora-admin token has no --{name}")
            if value is not None:
                args += [f"--{name}", str(value)]
        r = self.admin(*args)
        if r.returncode != 0:
            raise RuntimeError(f"agora-admin {' '.join(args)} failed: {r.stderr.strip()}")
        return r.stdout.strip()

    @staticmethod
    def new_user():
        return new_user()

    # ---------------------------------------------------------------- SQL

    def psql(self, url, sql, timeout=30):
        psql = os.path.join(self.env.get("AGORA_PG_BINDIR", "/usr/bin"), "psql")
        r = subprocess.run(
            [psql, "-XAtq", "-v", "ON_ERROR_STOP=1", "-d", url],
            input=sql, env=self.env, capture_output=True, text=True, timeout=timeout,
        )
        if r.returncode != 0:
            raise subprocess.CalledProcessError(r.returncode, r.args, r.stdout, r.stderr)
        return r.stdout

    def psql_admin(self, sql):
        """Runs sql as the cluster superuser (agora_super) in database agora;
        returns psql's unaligned, tuples-only output."""
        return self.psql(self.env["AGORA_ADMIN_DATABASE_URL"], sql)

    def psql_app(self, sql, user_id=None, project_id=None, org_id=None, key_id=None, live=False):
        """Runs sql as agora_app (the workers' role) in one transaction whose
        identity settings are the given ids, set exactly as a request sets
        them (agora.begin_request, which also looks up the caller's
        organizations once). live=True sets only the identity settings with
        set_config, so the policies look memberships up on every statement
        (sql/005's fallback). Raises CalledProcessError on any SQL error."""
        ids = {"user_id": user_id, "project_id": project_id, "org_id": org_id, "key_id": key_id}
        for name, value in ids.items():
            if value is not None and not UUID_RE.match(str(value)):
                raise ValueError(f"{name} must be a UUID, not {value!r}")
        if live:
            sets = ", ".join(
                f"set_config('agora.{name}', '{value or ''}', true)" for name, value in ids.items()
            )
        else:
            sets = "agora.begin_request(" + ", ".join(
                f"'{value}'" if value else "NULL" for value in ids.values()) + ")"
        script = f"BEGIN;\n\\o /dev/null\nSELECT {sets};\n\\o\n{sql.rstrip().rstrip(';')};\nCOMMIT;\n"
        return self.psql(self.env["AGORA_DATABASE_URL"], script)

    # ---------------------------------------------------------------- processes

    def _pg_ctl(self, *args):
        cmd = [os.path.join(self.env["AGORA_PG_BINDIR"], "pg_ctl"), "-D", self.env["AGORA_PG_DATA"], *args]
        if self.is_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        # The log is opened here (as run.sh does), so the server, whoever it
        # runs as, writes to the same var/log/postgresql.log.
        with open(os.path.join(self.var, "log", "postgresql.log"), "ab") as log:
            subprocess.run(cmd, cwd="/", stdin=subprocess.DEVNULL, stdout=log,
                           stderr=subprocess.STDOUT, check=True, timeout=90)

    def pg_stop(self):
        """Stops PostgreSQL (fast mode) under the running workers."""
        self._pg_ctl("-w", "-t", "60", "stop", "-m", "fast")

    def pg_start(self):
        """Starts PostgreSQL again and waits until it accepts connections."""
        self._pg_ctl("-w", "-t", "60", "start")

    def supervisor_pid(self):
        """The pid in var/run/workers.pid (agora-supervise), or None."""
        try:
            with open(os.path.join(self.var, "run", "workers.pid")) as f:
                return int(f.read().strip())
        except (FileNotFoundError, ValueError):
            return None

    def workers_pids(self):
        """Pids of the agora-worker processes (the supervisor's children)."""
        parent = self.supervisor_pid()
        return children_of(parent) if parent is not None else []

    def workers(self, action):
        """fcgi/agora-workers start|stop with the stack's environment."""
        return subprocess.run(
            [os.path.join(self.root, "fcgi", "agora-workers"), action],
            cwd=self.root, env=self.env, capture_output=True, text=True, timeout=60,
        )

    def wait_healthy(self, timeout=30):
        """Waits until /api/health answers 200; returns the last response."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.request("GET", "/api/health", timeout=3)
                if last.status == 200:
                    return last
            except OSError:
                pass
            time.sleep(0.25)
        return last

    def run_sh(self, action, timeout=900):
        return subprocess.run(
            [os.path.join(self.root, "run.sh"), action],
            cwd=self.root, env=self.env, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=timeout,
        )


def new_stack(**settings):
    """A Stack, not started, on a fresh AGORA_VAR and free ports, with two
    workers; settings (AGORA_* names) are added to its environment."""
    var = tempfile.mkdtemp(prefix="agora-it-", dir="/tmp")
    os.chmod(var, 0o755)  # the postgres, agora and www-data users (when we are root) traverse it
    https_port = free_port()
    http_port = free_port()
    while http_port == https_port:
        http_port = free_port()
    s = Stack(ROOT, var, https_port, http_port)
    s.env.update({
        "AGORA_VAR": var,
        "AGORA_HTTPS_PORT": str(https_port),
        "AGORA_HTTP_PORT": str(http_port),
        "AGORA_WORKERS": "2",
        **settings,
    })
    return s


def start_stack(s):
    """./run.sh start; fails the test with run.sh's output and the logs'
    last lines when it does not exit 0. Returns the CompletedProcess."""
    r = s.run_sh("start")
    if r.returncode != 0:
        logs = ""
        for name in ("nginx-error.log", "workers.log", "postgresql.log"):
            path = os.path.join(s.var, "log", name)
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    logs += f"\n==> {name} <==\n" + "".join(f.readlines()[-20:])
        pytest.fail(f"./run.sh start failed ({r.returncode}):\n{r.stdout}\n{r.stderr}{logs}",
                    pytrace=False)
    s.load_env()
    return r


def scratch_database(stack, name, below, timeout=300):
    """A new database `name` in the stack's cluster, with the migrations of
    sql/ whose file names sort before `below` applied as the superuser, one
    transaction each (as agora-admin migrate applies them). Returns
    (run, files): run(sql) runs sql there and returns psql's output; files
    are all the migrations, sorted, for the caller to apply the rest."""
    stack.psql_admin(f"DROP DATABASE IF EXISTS {name}")
    stack.psql_admin(f"CREATE DATABASE {name}")
    url = re.sub(r"dbname=\S+", f"dbname={name}", stack.env["AGORA_ADMIN_DATABASE_URL"])

    def run(sql):
        return stack.psql(url, sql, timeout=timeout)

    files = sorted(glob.glob(os.path.join(ROOT, "sql", "[0-9][0-9][0-9]_*.sql")))
    for f in files:
        if os.path.basename(f) < below:
            run("BEGIN;\n" + open(f).read() + "\nCOMMIT;\n")
    return run, files


def remove_stack(s):
    """./run.sh stop, then the stack's AGORA_VAR goes."""
    try:
        s.run_sh("stop", timeout=120)
    finally:
        shutil.rmtree(s.var, ignore_errors=True)


@pytest.fixture(scope="session")
def stack():
    s = new_stack()
    try:
        start_stack(s)
        yield s
    finally:
        remove_stack(s)
