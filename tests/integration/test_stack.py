"""nginx in front of the workers: TLS versions, the HTTP redirect (to the
configured name, whatever the Host header), security headers, the static
page, the JSON errors nginx answers itself (413 before the body is read, 503
when the workers are down), and, as root, who runs what."""

import grp
import http.client
import json
import os
import pwd
import re
import socket
import ssl
import stat
import time

import pytest

from conftest import children_of, plain_http_get, readable_by, wait_for

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": CSP,
}


def assert_security_headers(resp):
    for name, value in SECURITY_HEADERS.items():
        assert resp.headers.get(name) == value, f"{name}: {resp.headers.get(name)!r} in {resp!r}"
    server = resp.headers.get("Server", "")
    assert not re.search(r"\d", server), f"Server header reveals a version: {server!r}"


def assert_json_error(resp, status, code):
    assert resp.status == status, resp
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers
    doc = resp.json()
    assert doc is not None, resp
    assert doc["error"]["code"] == code, doc
    assert isinstance(doc["error"].get("message"), str) and doc["error"]["message"], doc
    # Every error body names the request, whoever answered (a worker, or
    # nginx itself), with the id of the X-Request-ID header.
    assert doc["error"].get("request_id") == resp.headers.get("X-Request-ID"), (doc, resp.headers)


def tls_handshake(stack, version):
    """Handshakes with exactly one TLS version; returns the negotiated one."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    # OpenSSL 3 allows TLS 1.0/1.1 only at security level 0: lower it so the
    # client really offers them and it is the server that refuses.
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = version
    ctx.maximum_version = version
    with socket.create_connection(("127.0.0.1", stack.https_port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            return tls.version()


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1],
                         ids=["TLSv1.0", "TLSv1.1"])
def test_tls_before_1_2_is_refused(stack, version):
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        tls_handshake(stack, version)


@pytest.mark.parametrize("version,name", [(ssl.TLSVersion.TLSv1_2, "TLSv1.2"),
                                          (ssl.TLSVersion.TLSv1_3, "TLSv1.3")],
                         ids=["TLSv1.2", "TLSv1.3"])
def test_tls_1_2_and_1_3_are_accepted(stack, version, name):
    assert tls_handshake(stack, version) == name


def test_certificate_verifies_for_localhost_and_127_0_0_1(stack):
    ctx = ssl.create_default_context(cafile=stack.ca)
    for host in ("localhost", "127.0.0.1"):
        with socket.create_connection(("127.0.0.1", stack.https_port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as tls:
                assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_http2_is_offered(stack):
    ctx = stack.ssl_context()
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", stack.https_port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.selected_alpn_protocol() == "h2"


def test_plain_http_redirects_to_https(stack):
    assert plain_http_get(stack.http_port, "/api/health?x=1", "localhost") == (
        301, f"https://localhost:{stack.https_port}/api/health?x=1")


def test_plain_http_redirects_to_the_configured_name_whatever_the_host_header(stack):
    """The redirect's target is AGORA_SERVER_NAME (localhost here), not the
    Host header: `Host: evil.example` once answered with
    https://evil.example:PORT/, an open redirect."""
    for host in ("evil.example", "evil.example:443", "localhost.evil.example"):
        assert plain_http_get(stack.http_port, "/docs/?a=1", host) == (
            301, f"https://localhost:{stack.https_port}/docs/?a=1"), host
    assert stack.env["AGORA_SERVER_NAME"] == "localhost"  # the default, in var/env


def uids(pid):
    """Real, effective, saved and filesystem uid of process pid."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    raise AssertionError(f"no Uid line for {pid}")


def test_as_root_nothing_that_serves_requests_runs_as_root(stack):
    """./run.sh as root: the supervisor and the FastCGI workers run as agora,
    nginx's workers as www-data (its master, which binds the ports and
    reads the key, stays root), and each reads only the secrets it needs.
    Before, all of them ran as root."""
    if os.geteuid() != 0:
        pytest.skip("run.sh changes users only when run as root")
    agora, www = pwd.getpwnam("agora").pw_uid, pwd.getpwnam("www-data").pw_uid
    with open(os.path.join(stack.var, "run", "nginx.pid")) as f:
        nginx_workers = children_of(int(f.read()))
    fcgi = [stack.supervisor_pid(), *stack.workers_pids()]
    assert len(fcgi) == 3 and nginx_workers
    assert {pid: uids(pid) for pid in fcgi} == {pid: [agora] * 4 for pid in fcgi}
    assert {pid: uids(pid) for pid in nginx_workers} == {pid: [www] * 4 for pid in nginx_workers}

    # nginx reaches the socket through its group; nobody else can.
    st = os.stat(stack.env["AGORA_SOCKET"])
    assert (st.st_uid, grp.getgrgid(st.st_gid).gr_name, stat.S_IMODE(st.st_mode)) == (agora, "www-data", 0o660)
    secrets = os.path.join(stack.var, "secrets")
    for name in ("jwt_secret", "pgpass_app"):
        assert readable_by("agora", os.path.join(secrets, name)), name
    for name in ("pgpass", "pg_super_password", "pg_app_password", "demo_user"):
        assert not readable_by("agora", os.path.join(secrets, name)), name
    for name in os.listdir(secrets):
        assert not readable_by("www-data", os.path.join(secrets, name)), name
        assert not readable_by("nobody", os.path.join(secrets, name)), name
    # The app role's password file holds nothing else.
    with open(os.path.join(secrets, "pgpass_app")) as f:
        assert [line.split(":")[3] for line in f.read().splitlines()] == ["agora_app"]

    # And they serve as before: a token (the secret), the database (the
    # password file, the socket), the metrics file.
    tok = stack.token(stack.new_user())
    assert stack.request("GET", "/api/organizations", token=tok).status == 200
    assert stack.request("GET", "/api/metrics").status == 200
    assert stack.request("GET", "/").status == 200


def test_static_page_is_served_with_security_headers(stack):
    resp = stack.request("GET", "/")
    assert resp.status == 200, resp
    assert resp.headers["Content-Type"].startswith("text/html")
    assert_security_headers(resp)
    html = resp.body.decode("utf-8")
    assert "<title>Agora Cloud</title>" in html
    # The CSP forbids inline code: the page must not need any.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html and " style=" not in html, "inline style"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"

    css = stack.request("GET", "/style.css")
    assert css.status == 200, css
    assert css.headers["Content-Type"].startswith("text/css")
    assert_security_headers(css)


def test_every_response_carries_a_request_id(stack):
    a = stack.request("GET", "/")
    b = stack.request("GET", "/")
    assert re.fullmatch(r"[0-9a-f]{32}", a.headers.get("X-Request-ID", "")), a.headers
    assert a.headers["X-Request-ID"] != b.headers["X-Request-ID"]


def test_unknown_api_path_answers_json_404_with_headers(stack):
    resp = stack.request("GET", "/api/unknown")
    assert_json_error(resp, 404, "not_found")
    assert_security_headers(resp)


def test_dotfiles_are_not_served(stack):
    assert stack.request("GET", "/.git/config").status == 404
    assert stack.request("GET", "/.env").status == 404


def test_body_over_the_limit_is_refused_before_it_is_read(stack):
    limit = int(stack.env.get("AGORA_MAX_BODY_BYTES", "16777216"))
    conn = http.client.HTTPSConnection("127.0.0.1", stack.https_port, timeout=10,
                                       context=stack.ssl_context())
    try:
        conn.putrequest("POST", "/api/executions/ingest")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(limit + 1))
        conn.endheaders()
        conn.send(b'{"workflow_id":')  # a stub: nginx must answer without the rest
        started = time.monotonic()
        resp = conn.getresponse()
        body = resp.read()
        assert time.monotonic() - started < 5
        assert resp.status == 413
        assert resp.getheader("Content-Type", "").startswith("application/json")
        assert json.loads(body)["error"]["code"] == "payload_too_large"
        assert json.loads(body)["error"]["request_id"] == resp.getheader("X-Request-ID")
        for name, value in SECURITY_HEADERS.items():
            assert resp.getheader(name) == value, name
    finally:
        conn.close()


def test_access_log_holds_no_credentials(stack):
    secret_q = "querysecret0123456789"
    secret_h = "headersecret0123456789"
    log_path = os.path.join(stack.var, "log", "nginx-access.log")
    since = os.path.getsize(log_path)
    sent = {}  # request id -> the path the log must show
    for path, headers, logged_path in (
            (f"/api/health?token={secret_q}", {"Authorization": f"Bearer {secret_h}"}, "/api/health"),
            (f"/?api_key={secret_q}", {}, "/")):
        r = stack.request("GET", path, headers=headers)  # whatever it answers, it is logged
        sent[r.headers["X-Request-Id"]] = logged_path

    def logged():
        with open(log_path, encoding="utf-8") as f:
            f.seek(since)
            text = f.read()
        return text[:text.rfind("\n") + 1]  # whole lines only

    # The two requests' own lines must be in before the log is searched for
    # what must not be there (a line not yet written holds no secret).
    assert wait_for(lambda: all(f'"request_id":"{rid}"' in logged() for rid in sent)), logged()
    text = logged()
    entries = {e["request_id"]: e for e in map(json.loads, text.splitlines())}  # JSON lines
    assert {rid: entries[rid]["path"] for rid in sent} == sent
    assert secret_q not in text
    assert secret_h not in text


def test_stopped_workers_answer_json_503_then_recover(stack):
    assert stack.wait_healthy().status == 200
    stopped = stack.workers("stop")
    try:
        assert stopped.returncode == 0, stopped.stderr
        assert stack.workers_pids() == []
        resp = stack.request("GET", "/api/health")
        assert_json_error(resp, 503, "unavailable")
        assert_security_headers(resp)
    finally:
        started = stack.workers("start")
        assert started.returncode == 0, started.stdout + started.stderr
    resp = stack.wait_healthy()
    assert resp is not None and resp.status == 200, resp
    assert len(stack.workers_pids()) == 2


def raw_request(stack, method, path, headers=(), body=None):
    """One HTTP/1.1 request with exactly the given headers; (status,
    X-Request-ID, parsed JSON body)."""
    conn = http.client.HTTPSConnection("127.0.0.1", stack.https_port, timeout=10,
                                       context=stack.ssl_context())
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders(body)
        resp = conn.getresponse()
        raw = resp.read()
        assert resp.getheader("Content-Type", "").startswith("application/json"), (resp.status, raw)
        return resp.status, resp.getheader("X-Request-ID"), json.loads(raw)
    finally:
        conn.close()


@pytest.mark.parametrize("case", ["405 static", "414 uri", "400 transfer-encoding", "413 body"])
def test_errors_nginx_answers_itself_carry_the_request_id(stack, case):
    if case == "405 static":
        got = raw_request(stack, "POST", "/index.html", [("Content-Length", "0")])
        want = (405, "method_not_allowed")
    elif case == "414 uri":
        got = raw_request(stack, "GET", "/api/executions?x=" + "a" * 20000)
        want = (414, "uri_too_long")
    elif case == "400 transfer-encoding":
        got = raw_request(stack, "POST", "/api/executions/ingest", [("Transfer-Encoding", "gzip")])
        want = (400, "bad_request")
    else:
        limit = int(stack.env.get("AGORA_MAX_BODY_BYTES", "16777216"))
        got = raw_request(stack, "POST", "/api/executions/ingest",
                          [("Content-Type", "application/json"), ("Content-Length", str(limit + 1))], b"{")
        want = (413, "payload_too_large")
    status, header_id, doc = got
    assert (status, doc["error"]["code"]) == want, got
    assert re.fullmatch(r"[0-9a-f]{32}", header_id or ""), got
    assert doc["error"]["request_id"] == header_id, got
