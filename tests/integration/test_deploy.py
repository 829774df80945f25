"""The deployment README's "Deploying" describes, run for real on this
machine against the test stack's PostgreSQL:

- secrets from files: the worker and agora-admin take their database URLs
  (with the password inline) and the JWT secret from AGORA_*_FILE, as
  systemd's LoadCredential= hands them over; both forms at once, or a file
  that cannot be read, stop them with a message naming the variable and the
  file but never the secret;
- several worker groups on TCP ports, each started with the very command line
  of systemd/agora-worker@.service (spawn-fcgi -n -a ADDR -p PORT ->
  agora-supervise -> agora-worker), behind an nginx running the shipped
  nginx/agora-upstream.conf.example (its upstream block pointed at them):
  requests reach both groups, one group stopping is invisible to clients,
  both stopping answers the JSON 503;
- FCGI_WEB_SERVER_ADDRS: a worker closes FastCGI connections from any peer
  address not listed, and serves a listed one (loopback aliases 127.0.0.x
  stand in for hosts).
"""
import http.client
import json
import os
import re
import shlex
import signal
import socket
import ssl
import struct
import subprocess
import time

import pytest

from conftest import ROOT, free_port, plain_http_get, terminate

SECRET_RE = re.compile(r"password=(\S+)")


def clean_env():
    """This process's environment without any Agora setting: what a systemd
    unit starts from (sanitizer options pass through)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AGORA_", "FCGI_"))}


def write_secret(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    return str(path)


@pytest.fixture(scope="module")
def creds(stack, tmp_path_factory):
    """A credentials directory as systemd's LoadCredential= makes one: mode
    0700, one file per secret. The database URLs carry their passwords
    inline (no passfile), so a worker that ignored the file could not
    connect at all."""
    d = tmp_path_factory.mktemp("credentials")
    os.chmod(d, 0o700)
    secrets = os.path.join(stack.var, "secrets")
    with open(os.path.join(secrets, "pg_app_password")) as f:
        app_pw = f.read().strip()
    with open(os.path.join(secrets, "pg_super_password")) as f:
        super_pw = f.read().strip()
    with open(os.path.join(secrets, "jwt_secret")) as f:
        jwt = f.read().strip()
    host = os.path.join(stack.var, "pg", "sock")
    port = stack.env["AGORA_PG_PORT"]
    app_url = f"host={host} port={port} dbname=agora user=agora_app password={app_pw}"
    super_url = f"host={host} port={port} dbname=agora user=agora_super password={super_pw}"

    class Creds:
        dir = str(d)
        app_password = app_pw
        super_password = super_pw
        database_url = write_secret(d / "database_url", app_url)
        admin_database_url = write_secret(d / "admin_database_url", super_url)
        jwt_secret = write_secret(d / "jwt_secret", jwt)
        plain_app_url = app_url

    return Creds


# ---------------------------------------------------------------- secrets from files


def run_worker_config_only(env):
    """Starts agora-worker with env and no FastCGI socket: a configuration
    error stops it before it would accept."""
    return subprocess.run([os.path.join(ROOT, "agora-worker")], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=30)


def test_worker_refuses_a_database_url_given_twice_without_showing_it(creds):
    env = clean_env()
    env.update(AGORA_DATABASE_URL=creds.plain_app_url, AGORA_DATABASE_URL_FILE=creds.database_url,
               AGORA_JWT_SECRET_FILE=creds.jwt_secret)
    r = run_worker_config_only(env)
    assert r.returncode == 2, r
    assert "AGORA_DATABASE_URL and AGORA_DATABASE_URL_FILE: set only one" in r.stderr
    assert creds.app_password not in r.stderr + r.stdout


@pytest.mark.parametrize("path, reason", [("/nonexistent/credentials/database_url", "No such file"),
                                          ("/", "Is a directory")])
def test_worker_refuses_a_database_url_file_it_cannot_read_naming_it(creds, path, reason):
    env = clean_env()
    env.update(AGORA_DATABASE_URL_FILE=path, AGORA_JWT_SECRET_FILE=creds.jwt_secret)
    r = run_worker_config_only(env)
    assert r.returncode == 2, r
    assert f"AGORA_DATABASE_URL_FILE: cannot read {path}: {reason}" in r.stderr, r.stderr


def test_admin_migrates_and_acts_with_urls_from_files(stack, creds):
    env = clean_env()
    env["AGORA_ADMIN_DATABASE_URL_FILE"] = creds.admin_database_url
    r = subprocess.run([os.path.join(ROOT, "agora-admin"), "migrate", "--dir", os.path.join(ROOT, "sql")],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "0 migration(s) applied" in r.stderr
    assert creds.super_password not in r.stderr + r.stdout

    env = clean_env()
    env["AGORA_DATABASE_URL_FILE"] = creds.database_url
    user = stack.new_user()
    r = subprocess.run([os.path.join(ROOT, "agora-admin"), "demo", "--user", user], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["user_id"] == user

    # Both forms, or the admin URL's file missing: refused, the secret unshown.
    env = clean_env()
    env.update(AGORA_ADMIN_DATABASE_URL_FILE=creds.admin_database_url,
               AGORA_ADMIN_DATABASE_URL=creds.plain_app_url)
    r = subprocess.run([os.path.join(ROOT, "agora-admin"), "migrate"], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1
    assert "AGORA_ADMIN_DATABASE_URL and AGORA_ADMIN_DATABASE_URL_FILE: set only one" in r.stderr
    assert creds.app_password not in r.stderr and creds.super_password not in r.stderr
    env = clean_env()
    env["AGORA_ADMIN_DATABASE_URL_FILE"] = "/nonexistent/admin_database_url"
    r = subprocess.run([os.path.join(ROOT, "agora-admin"), "migrate"], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1
    assert "AGORA_ADMIN_DATABASE_URL_FILE: cannot read /nonexistent/admin_database_url" in r.stderr


# ---------------------------------------------------------------- workers on TCP, as the unit starts them


def unit_lines(name, key):
    with open(os.path.join(ROOT, "systemd", name + ".in")) as f:
        return re.findall(rf"^{key}=(.*)$", f.read(), re.M)


def expand(text, env, specifiers):
    """systemd's expansion of what the tests need: %X specifiers and ${VAR}."""
    for spec, value in specifiers.items():
        text = text.replace(spec, value)
    text = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], text)
    assert "%" not in text and "${" not in text and "@" not in text, text
    return text


class WorkerGroup:
    """One agora-worker@PORT.service, started the way systemd would: the
    unit's Environment= lines, then the settings file's (extra), then its
    ExecStart with ${VAR} and %i/%d expanded. stdout and stderr go to a log
    (journald's place)."""

    def __init__(self, port, creds, log_dir, extra=None):
        self.port = port
        specifiers = {"%i": str(port), "%d": creds.dir}
        env = clean_env()
        for line in unit_lines("agora-worker@.service", "Environment"):
            for word in shlex.split(line):
                k, v = word.split("=", 1)
                env[k] = expand(v, env, specifiers)
        # RuntimeDirectory=: systemd makes /run/NAME for the service; here
        # it is made under log_dir, and settings naming /run point there.
        run_root = os.path.join(log_dir, f"run-{port}")
        for line in unit_lines("agora-worker@.service", "RuntimeDirectory"):
            os.makedirs(os.path.join(run_root, expand(line, env, specifiers)), exist_ok=True)
        for k, v in list(env.items()):
            if v.startswith("/run/"):
                env[k] = os.path.join(run_root, v[len("/run/"):])
        env.update(extra or {})
        (exec_start,) = unit_lines("agora-worker@.service", "ExecStart")
        exec_start = exec_start.replace("@bindir@", ROOT)
        self.argv = shlex.split(expand(exec_start, env, specifiers))
        self.log_path = os.path.join(log_dir, f"workers-{port}.log")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(port)

    def stop(self):
        """SIGTERM to the main process only (the unit's KillMode=mixed):
        the supervisor passes it on to its workers."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        # Workers that outlived the supervisor would still hold the port.
        try:
            os.killpg(self.proc.pid, 0)
            time.sleep(1)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()


def wait_port(port, host="127.0.0.1", timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {host}:{port}")


def test_the_worker_unit_runs_spawn_fcgi_with_the_supervisor_on_a_tcp_port():
    (exec_start,) = unit_lines("agora-worker@.service", "ExecStart")
    argv = shlex.split(exec_start)
    assert argv[:2] == ["/usr/bin/spawn-fcgi", "-n"], "no fork: the supervisor becomes the main process"
    assert argv[argv.index("-a") + 1] == "${AGORA_FCGI_ADDR}" and argv[argv.index("-p") + 1] == "%i"
    sup = argv.index("@bindir@/agora-supervise")
    assert argv[sup + 1:] == ["-n", "${AGORA_WORKERS}", "--", "@bindir@/agora-worker"], argv
    assert os.access("/usr/bin/spawn-fcgi", os.X_OK)
    for unit in ("agora-worker.service", "agora-worker@.service"):
        with open(os.path.join(ROOT, "systemd", unit + ".in")) as f:
            text = f.read()
        # Restarted whatever way the supervisor ends, and never given up on.
        assert re.search(r"^Restart=always$", text, re.M), unit
        assert re.search(r"^StartLimitIntervalSec=0$", text, re.M), unit


class Nginx:
    """nginx with the shipped upstream example as its only site, pointed at
    local worker ports, the stack's certificate, and logs in a temp dir."""

    def __init__(self, stack, tmp, worker_ports):
        self.https_port, self.http_port = free_port(), free_port()
        with open(os.path.join(ROOT, "nginx", "agora-upstream.conf.example.in")) as f:
            site = f.read()
        subs = [
            ("@pkgdatadir@", ROOT),  # ROOT/nginx/... is laid out as $(pkgdatadir)/nginx/...
            ("server 10.0.0.11:9000", f"server 127.0.0.1:{worker_ports[0]}"),
            ("server 10.0.0.12:9000", f"server 127.0.0.1:{worker_ports[1]}"),
            ("listen 80;", f"listen 127.0.0.1:{self.http_port};"),
            ("listen [::]:80;", ""),
            ("listen 443 ssl http2;", f"listen 127.0.0.1:{self.https_port} ssl http2;"),
            ("listen [::]:443 ssl http2;", ""),
            ("/etc/letsencrypt/live/agora.example.org/fullchain.pem", os.path.join(stack.var, "tls", "cert.pem")),
            ("/etc/letsencrypt/live/agora.example.org/privkey.pem", os.path.join(stack.var, "tls", "key.pem")),
            ("/var/log/nginx/", f"{tmp}/"),
            ("unix:/run/agora-live/live-pub.sock", f"unix:{tmp}/live-pub.sock"),
        ]
        for old, new in subs:
            assert old in site, f"the example no longer has {old!r}: update this test with it"
            site = site.replace(old, new)
        assert "10.0.0." not in site and "/etc/letsencrypt" not in site
        with open(os.path.join(tmp, "agora.conf"), "w") as f:
            f.write(site)
        for d in ("client_body", "fastcgi", "proxy", "uwsgi", "scgi"):
            os.makedirs(os.path.join(tmp, d), exist_ok=True)
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            # Debian's nginx.conf loads libnginx-mod-nchan through
            # modules-enabled; the example's live blocks need it.
            f.write(f"""{"user root;" if os.geteuid() == 0 else ""}
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {tmp}/client_body;
    fastcgi_temp_path {tmp}/fastcgi;
    proxy_temp_path {tmp}/proxy;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/agora.conf;
}}
""")
        cmd = ["nginx", "-p", f"{tmp}/", "-c", conf, "-e", f"{tmp}/error.log"]
        t = subprocess.run([*cmd, "-t"], capture_output=True, text=True, timeout=30)
        assert t.returncode == 0, t.stderr
        self.access_log = os.path.join(tmp, "agora-access.log")
        self.proc = subprocess.Popen([*cmd, "-g", "daemon off;"], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.https_port)
        self.ctx = ssl.create_default_context(cafile=stack.ca)
        self.ctx.check_hostname = False  # the certificate names localhost and 127.0.0.1

    def get(self, path, token=None, source=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.https_port, timeout=20, context=self.ctx,
                                           source_address=(source, 0) if source else None)
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def upstreams(self):
        """upstream_addr of every logged request, in order."""
        with open(self.access_log) as f:
            return [json.loads(line)["upstream_addr"] for line in f if line.strip()]

    def stop(self):
        terminate(self.proc)


def test_the_upstream_example_redirects_to_its_server_name_not_the_host_header(stack, tmp_path):
    nginx = Nginx(stack, str(tmp_path), [free_port(), free_port()])
    try:
        assert plain_http_get(nginx.http_port, "/api/health?x=1", "evil.example") == (
            301, "https://agora.example.org/api/health?x=1")
    finally:
        nginx.stop()


def test_two_tcp_worker_groups_behind_the_upstream_example(stack, creds, tmp_path):
    ports = [free_port(), free_port()]
    while ports[1] == ports[0]:
        ports[1] = free_port()
    groups, nginx = [], None
    try:
        for p in ports:
            groups.append(WorkerGroup(p, creds, str(tmp_path), extra={"AGORA_WORKERS": "1"}))
        nginx = Nginx(stack, str(tmp_path), ports)

        # Both groups serve, with the database reached through the URL file.
        for _ in range(8):
            status, body = nginx.get("/api/health")
            assert status == 200, body
            assert json.loads(body) == {"status": "ok", "database": "ok"}
        assert set(nginx.upstreams()) == {f"127.0.0.1:{p}" for p in ports}, nginx.upstreams()

        # An authenticated read: the JWT secret came from its file too.
        token = stack.token(stack.new_user())
        status, body = nginx.get("/api/organizations", token=token)
        assert status == 200, body
        assert json.loads(body) == {"items": []}

        # Metrics: each group has its own block (the unit's file under its
        # RuntimeDirectory); nginx answers them to this host only.
        status, body = nginx.get("/api/metrics")
        assert status == 200 and b"agora_workers 1" in body, body
        status, body = nginx.get("/api/metrics", source="127.0.0.2")
        assert status == 403 and json.loads(body)["error"]["code"] == "forbidden", body
        assert nginx.get("/api/health", source="127.0.0.2")[0] == 200
        for g in groups:
            assert "metrics unavailable" not in g.log() and "metrics off" not in g.log(), g.log()

        # One group stops: nginx goes to the other, clients see nothing.
        groups[0].stop()
        assert groups[0].proc.returncode == 0, groups[0].log()  # the supervisor's clean stop
        for _ in range(6):
            status, body = nginx.get("/api/health")
            assert status == 200, body
        assert nginx.upstreams()[-1] == f"127.0.0.1:{ports[1]}"

        # Both stopped: the JSON 503 clients retry on.
        groups[1].stop()
        status, body = nginx.get("/api/health")
        assert status == 503
        assert json.loads(body)["error"]["code"] == "unavailable"
        for g in groups:
            assert "bad configuration" not in g.log(), g.log()
    finally:
        if nginx:
            nginx.stop()
        for g in groups:
            g.stop()


# ---------------------------------------------------------------- FCGI_WEB_SERVER_ADDRS


def fcgi_record(rtype, content, request_id=1):
    pad = (-len(content)) % 8
    return struct.pack("!BBHHBx", 1, rtype, request_id, len(content), pad) + content + b"\0" * pad


def fcgi_pairs(params):
    out = b""
    for k, v in params.items():
        k, v = k.encode(), v.encode()
        for n in (len(k), len(v)):
            out += struct.pack("!B", n) if n < 128 else struct.pack("!I", n | 0x80000000)
        out += k + v
    return out


def fcgi_get(port, path, source):
    """One FastCGI GET from source (a local address) to 127.0.0.1:port, as
    nginx would send it. Returns the worker's stdout bytes, b"" when the
    worker closed the connection without answering."""
    params = {"REQUEST_METHOD": "GET", "REQUEST_URI": path, "QUERY_STRING": "",
              "SERVER_PROTOCOL": "HTTP/1.1", "REQUEST_ID": "0123456789abcdef0123456789abcdef"}
    msg = (fcgi_record(1, struct.pack("!HB5x", 1, 0))           # BEGIN_REQUEST, responder
           + fcgi_record(4, fcgi_pairs(params)) + fcgi_record(4, b"")  # PARAMS
           + fcgi_record(5, b""))                                     # STDIN
    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout=15, source_address=(source, 0)) as s:
        try:
            s.sendall(msg)
        except (BrokenPipeError, ConnectionResetError):
            return b""
        buf = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            buf += chunk
        while len(buf) >= 8:
            _, rtype, _, length, pad = struct.unpack("!BBHHBx", buf[:8])
            if rtype == 6:  # STDOUT
                out += buf[8:8 + length]
            buf = buf[8 + length + pad:]
    return out


def test_fcgi_web_server_addrs_refuses_peers_that_are_not_listed(creds, tmp_path):
    port = free_port()
    group = WorkerGroup(port, creds, str(tmp_path),
                        extra={"AGORA_WORKERS": "1", "FCGI_WEB_SERVER_ADDRS": "127.0.0.3,127.0.0.2"})
    try:
        # Listed peers (the second of two addresses too) are served.
        for source in ("127.0.0.2", "127.0.0.3"):
            out = fcgi_get(port, "/api/health", source)
            assert out.startswith(b"Status: 200"), (source, out[:200])
            assert b'"database":"ok"' in out
        # Anyone else is closed on without a byte, before any request is read.
        for source in ("127.0.0.1", "127.0.0.4"):
            assert fcgi_get(port, "/api/health", source) == b"", source
        # ... and the worker is still there for the next listed peer.
        assert fcgi_get(port, "/api/health", "127.0.0.2").startswith(b"Status: 200")
    finally:
        group.stop()
