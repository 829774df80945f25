"""agora-upload against a real stack: payload files stored once however
often they are sent (its Idempotency-Key is the SHA-256 of the body, as the
Python client's), refused files reported with the server's path and
message and set aside with the answer, the spool kept when the server is
away and drained later, a live run's parts kept in order, credentials and
certificates refused with exit 4, and 1,000 files uploaded while the whole
stack is restarted in the middle: every payload stored exactly once, none
lost, the refused one set aside.

Every test acts in a fresh organization (test_ingest's Tenant); the
uploader is the built ./agora-upload, run with the stack's certificate."""
import fcntl
import hashlib
import json
import os
import re
import signal
import subprocess
import time
import uuid

import pytest

from conftest import ROOT, free_port, wait_for
from test_ingest import Tenant

UPLOAD = os.path.join(ROOT, "agora-upload")
# What the uploader must never inherit from the test's environment.
SCRUB = ("AGORA_URL", "AGORA_API_KEY_FILE", "AGORA_TOKEN_FILE", "SSL_CERT_FILE", "SSL_CERT_DIR")


def payload(wf, i, **fields):
    body = {"workflow_id": wf, "session_id": f"up-{i}-{uuid.uuid4().hex[:8]}", "status": "success",
            "started_at": "2024-11-26T12:00:00", "completed_at": "2024-11-26T12:00:01", "duration_ms": 1000,
            "metadata": {"i": i},
            "node_executions": [{"node_name": "processor", "status": "success", "exec_duration_ms": 5}],
            "telemetry_events": [{"event_type": "node_start", "timestamp": "2024-11-26T12:00:00",
                                  "node_name": "processor", "data": {"i": i}}]}
    body.update(fields)
    return body


def write_payloads(folder, bodies, prefix="run"):
    """Writes each body (a dict, or bytes as they are) to its own file;
    returns the paths in order."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i, body in enumerate(bodies):
        path = os.path.join(folder, f"{prefix}-{i:05d}.json")
        with open(path, "wb") as f:
            f.write(body if isinstance(body, bytes) else json.dumps(body).encode())
        paths.append(path)
    return paths


def secret_file(folder, name, value):
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write(value + "\n")
    os.chmod(path, 0o600)
    return path


class Uploader:
    """A tenant, its workflow and credential files, and ./agora-upload
    pointed at the stack."""

    def __init__(self, stack, tmp_path):
        self.stack = stack
        self.tenant = Tenant(stack)
        self.wf, _ = self.tenant.workflow(["processor"])
        self.key = self.tenant.key()
        self.dir = str(tmp_path)
        self.key_file = secret_file(self.dir, "key", self.key)
        self.token_file = secret_file(self.dir, "token", self.tenant.tok)

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items() if k not in SCRUB}
        env.update(extra)
        return env

    def argv(self, *args, url=None, ca=True, cred="key"):
        argv = [UPLOAD, "--url", url or self.stack.base + "/api"]
        if ca:
            argv += ["--ca-file", self.stack.ca]
        if cred == "key":
            argv += ["--api-key-file", self.key_file]
        elif cred == "token":
            argv += ["--token-file", self.token_file]
        return argv + list(args)

    def run(self, *args, url=None, ca=True, cred="key", input=None, env=None, timeout=600):
        r = subprocess.run(self.argv(*args, url=url, ca=ca, cred=cred), input=input, capture_output=True,
                           env=env or self.env(), timeout=timeout)
        out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
        for secret in (self.key, self.tenant.tok):
            assert secret not in out and secret not in err, "a credential was printed"
        return r.returncode, err

    def sessions(self):
        """{session_id: how many executions} of the workflow."""
        out = self.stack.psql_admin(
            f"SELECT session_id, count(*) FROM agora.executions WHERE workflow_id = '{self.wf}' GROUP BY 1")
        return {s: int(n) for s, n in (line.split("|") for line in out.splitlines() if line)}

    def stored(self):
        return int(self.stack.psql_admin(
            f"SELECT count(*) FROM agora.executions WHERE workflow_id = '{self.wf}'").strip())


@pytest.fixture
def up(stack, tmp_path):
    os.chmod(tmp_path, 0o755)
    return Uploader(stack, tmp_path)


def pending(spool):
    return sorted(n for n in os.listdir(spool) if n.endswith(".json") and not n.startswith("."))


def rejected(spool):
    folder = os.path.join(spool, "rejected")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def read_json(path):
    with open(path, "rb") as f:
        return json.loads(f.read())


# ------------------------------------------------------------------ the command itself

def test_help_names_the_exit_codes_and_bad_usage_exits_5(up):
    r = subprocess.run([UPLOAD, "--help"], capture_output=True, text=True, env=up.env())
    assert r.returncode == 0
    for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "5 "):
        assert f"\n  {code}" in r.stdout, code
    r = subprocess.run([UPLOAD, "--version"], capture_output=True, text=True, env=up.env())
    assert r.returncode == 0 and r.stdout.startswith("agora-upload ")
    f = write_payloads(up.dir + "/one", [payload(up.wf, 0)])[0]
    for args, words in [
        ((), "nothing to send"),
        ((f, "--url", "http://127.0.0.1:1/api"), "https"),
        ((f, "--url", "https://me:pw@127.0.0.1/api"), "credentials"),
        ((f, "--drain", up.dir + "/spool"), "--drain takes no FILE"),
        ((f, "--retries", "many"), "--retries"),
        ((f, "--parallel", "0"), "--parallel"),
        (("-", "-"), "once"),
    ]:
        code, err = up.run(*args)
        assert code == 5, (args, err)
        assert words in err, (args, err)
    # No credentials, or ones that cannot be what they claim to be.
    code, err = up.run(f, cred=None)
    assert code == 5 and "no credentials" in err, err
    code, err = up.run(f, "--api-key-file", up.token_file, cred=None)
    assert code == 5 and "does not hold an API key" in err, err
    code, err = up.run(f, "--token-file", up.dir + "/missing", cred=None)
    assert code == 5 and "cannot read" in err, err
    assert up.stored() == 0


def test_make_install_installs_the_program_and_its_manual(tmp_path):
    stage = str(tmp_path / "stage")
    r = subprocess.run(["make", "install-binPROGRAMS", "install-man", f"DESTDIR={stage}"], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    found = {os.path.relpath(os.path.join(d, n), stage) for d, _, names in os.walk(stage) for n in names}
    program = [p for p in found if p.endswith("/bin/agora-upload")]
    manual = [p for p in found if p.endswith("/man1/agora-upload.1")]
    assert program and manual, sorted(found)
    r = subprocess.run([os.path.join(stage, program[0]), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--drain" in r.stdout
    r = subprocess.run(["man", "-l", "--warnings", os.path.join(stage, manual[0])], capture_output=True, text=True,
                       env={**os.environ, "MANWIDTH": "80"})
    text = re.sub(".\b", "", r.stdout)  # overstrike bold and underline
    assert r.returncode == 0 and "EXIT STATUS" in text and "--drain DIR" in text, r.stderr
    assert not r.stderr.strip(), r.stderr


# ------------------------------------------------------------------ storing once

def test_files_are_stored_once_however_often_they_are_sent(up):
    bodies = [payload(up.wf, i) for i in range(30)]
    files = write_payloads(up.dir + "/in", bodies)
    code, err = up.run(*files)
    assert code == 0, err
    assert "30 payloads: 30 stored" in err, err
    # Again, by the bare site URL: every answer a replay.
    code, err = up.run("-v", *files, url=up.stack.base + "/")
    assert code == 0, err
    assert "30 stored (30 replayed" in err, err
    assert len(re.findall(r": stored as [0-9a-f-]{36} \(201, replayed\)", err)) == 30, err
    assert up.sessions() == {b["session_id"]: 1 for b in bodies}
    # Keys are the caller's: a user's token sends other payloads its own way.
    more = [payload(up.wf, i) for i in range(30, 35)]
    code, err = up.run(*write_payloads(up.dir + "/more", more), cred="token")
    assert code == 0, err
    assert up.sessions() == {b["session_id"]: 1 for b in bodies + more}


def test_one_payload_from_standard_input(up):
    body = json.dumps(payload(up.wf, 0)).encode()
    code, err = up.run("-", input=body)
    assert code == 0 and err == "", err
    code, err = up.run("-v", "-", input=body)
    assert code == 0 and "(stdin): stored as" in err and "replayed" in err, err
    assert list(up.sessions().values()) == [1]


def test_the_idempotency_key_is_the_sha256_of_the_body_as_the_python_clients(up):
    """A payload the uploader sent, POSTed again with the key the Python
    client computes, is a replay of the uploader's answer."""
    raw = json.dumps(payload(up.wf, 0), indent=1).encode()
    f = write_payloads(up.dir + "/in", [raw])[0]
    code, err = up.run("-v", f)
    assert code == 0, err
    sent_as = re.search(r"stored as ([0-9a-f-]{36})", err).group(1)
    r = up.stack.request("POST", "/api/executions/ingest", token=up.key, body=raw,
                         headers={"Content-Type": "application/json",
                                  "Idempotency-Key": hashlib.sha256(raw).hexdigest()})
    assert r.status == 201 and r.headers.get("Idempotent-Replayed") == "true", r
    assert r.json()["execution_id"] == sent_as


# ------------------------------------------------------------------ refused files

def test_a_refused_file_is_reported_with_the_servers_path_and_set_aside(up):
    good = [payload(up.wf, i) for i in range(5)]
    bad = payload(up.wf, 99)
    bad["node_executions"][0]["status"] = "finished"
    files = write_payloads(up.dir + "/in", [*good[:2], bad, b"this is not JSON", *good[2:]])
    spool = up.dir + "/spool"
    code, err = up.run("--spool", spool, *files)
    assert code == 2, err
    assert re.search(r"run-00002\.json: refused: 422 validation_failed at node_executions\[0\]\.status: "
                     r"[^\n]*running[^\n]*\(request [0-9a-f]+\); set aside as " + re.escape(spool), err), err
    assert re.search(r"run-00003\.json: refused: 400 bad_json: [^\n]+; set aside", err), err
    assert "5 stored, 2 refused" in err
    assert pending(spool) == []
    kept = rejected(spool)
    assert len(kept) == 4, kept
    payloads = [n for n in kept if n.endswith(".json")]
    reasons = {read_json(os.path.join(spool, "rejected", n + ".error"))["source"]: (n, read_json(
        os.path.join(spool, "rejected", n + ".error"))) for n in payloads}
    name, why = reasons[files[2]]
    assert why["status"] == 422 and why["code"] == "validation_failed"
    assert why["path"] == "node_executions[0].status" and why["request_id"]
    with open(os.path.join(spool, "rejected", name), "rb") as f, open(files[2], "rb") as g:
        assert f.read() == g.read()
    assert reasons[files[3]][1]["code"] == "bad_json"
    # The input files are untouched, and the good ones stored once.
    assert all(os.path.exists(p) for p in files)
    assert up.sessions() == {b["session_id"]: 1 for b in good}
    # Refused again: never stored, whatever the retries.
    code, err = up.run("--retries", "50", files[2])
    assert code == 2 and "refused" in err, err


def test_drain_sends_what_any_client_spooled_removes_it_and_sets_refused_ones_aside(up):
    spool = up.dir + "/spool"
    os.makedirs(spool)
    bodies = [payload(up.wf, i) for i in range(6)]
    # Named as another client might name them; sent oldest first.
    names = []
    for i, body in enumerate(bodies):
        names.append(f"{uuid.uuid4().hex}.json")
        path = os.path.join(spool, names[-1])
        with open(path, "w") as f:
            json.dump(body, f)
        os.utime(path, (1_700_000_000 + i, 1_700_000_000 + i))
    with open(os.path.join(spool, "broken.json"), "w") as f:
        f.write('{"workflow_id": ')
    # A writer's temporary file and other names are left alone.
    for name in (".tmp-123.json", "partial.json.tmp", "README"):
        with open(os.path.join(spool, name), "w") as f:
            f.write("{")
    os.utime(os.path.join(spool, "broken.json"), (1_600_000_000, 1_600_000_000))
    code, err = up.run("-v", "--parallel", "1", "--drain", spool)
    assert code == 2, err
    assert "broken.json: refused: 400 bad_json" in err and "moved to " + spool + "/rejected/broken.json" in err
    assert re.findall(r"agora-upload: ([0-9a-f]{32}\.json|broken\.json): (?:stored|refused)", err) == [
        "broken.json", *names]
    assert pending(spool) == []
    assert rejected(spool) == ["broken.json", "broken.json.error"]
    # What is left: the others' files, rejected/, and the drain lock's file.
    assert sorted(os.listdir(spool)) == [".lock", ".tmp-123.json", "README", "partial.json.tmp", "rejected"]
    assert up.sessions() == {b["session_id"]: 1 for b in bodies}
    # Nothing left: a drain of an empty spool is a success.
    code, err = up.run("--drain", spool)
    assert code == 0 and err == "", err
    # While another drainer (the Python client's, say) holds the lock,
    # nothing is sent and the exit status says so.
    with open(os.path.join(spool, ".lock"), "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        code, err = up.run("--drain", spool)
    assert code == 5 and "another drainer is sending" in err, err


# ------------------------------------------------------------------ the server away

def test_an_unreachable_server_keeps_every_payload_in_the_spool_for_a_drain(up):
    bodies = [payload(up.wf, i) for i in range(12)]
    files = write_payloads(up.dir + "/in", bodies)
    raw = json.dumps(payload(up.wf, 100)).encode()
    spool = up.dir + "/spool"
    away = f"https://127.0.0.1:{free_port()}/api"
    t0 = time.monotonic()
    code, err = up.run("--spool", spool, "--retries", "2", *files, url=away)
    assert code == 3, err
    assert time.monotonic() - t0 < 30
    assert "retry 1 of 2" in err and "giving up on the server" in err, err
    assert "12 kept in " + spool in err
    code, err = up.run("--spool", spool, "--retries", "0", "-", url=away, input=raw)
    assert code == 3, err
    kept = pending(spool)
    assert len(kept) == 13
    contents = set()
    for name in kept:
        with open(os.path.join(spool, name), "rb") as f:
            data = f.read()
        contents.add(data)
        assert re.fullmatch(r"\d{8}T\d{6}\.\d{9}Z-" + hashlib.sha256(data).hexdigest()[:16] + r"\.json", name)
        assert os.stat(os.path.join(spool, name)).st_mode & 0o777 == 0o600
    with open(files[0], "rb") as f:
        assert f.read() in contents
    assert raw in contents
    assert up.stored() == 0
    # The server is back: the drain stores each once and empties the spool.
    code, err = up.run("--drain", spool)
    assert code == 0, err
    assert pending(spool) == [] and rejected(spool) == []
    sessions = up.sessions()
    assert len(sessions) == 13 and set(sessions.values()) == {1}


def test_without_a_spool_what_was_not_sent_is_listed(up):
    files = write_payloads(up.dir + "/in", [payload(up.wf, i) for i in range(3)])
    away = f"https://127.0.0.1:{free_port()}/api"
    code, err = up.run("--retries", "0", *files, url=away)
    assert code == 3, err
    for f in files:
        assert f"{f}: not sent" in err
    code, err = up.run("--retries", "0", "-", url=away, input=b"{}")
    assert code == 3 and "lost" in err and "--spool" in err, err


def test_a_database_restart_is_retried_honouring_retry_after(up):
    """PostgreSQL away: the workers answer 503 with Retry-After: 1, which
    the first retries wait for (their own backoff would be shorter)."""
    bodies = [payload(up.wf, i) for i in range(40)]
    files = write_payloads(up.dir + "/in", bodies)
    up.stack.pg_stop()
    try:
        proc = subprocess.Popen(up.argv("--parallel", "2", *files), env=up.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        time.sleep(3)
    finally:
        up.stack.pg_start()
    out, err = proc.communicate(timeout=300)
    err = err.decode()
    assert proc.returncode == 0, err
    waits = [float(s) for s in re.findall(r"503 unavailable[^\n]*; retry 1 of 8 in ([0-9.]+) s", err)]
    assert waits and min(waits) >= 1.0, err
    assert up.sessions() == {b["session_id"]: 1 for b in bodies}


# ------------------------------------------------------------------ not accepted

def test_refused_credentials_stop_everything_and_keep_it(up):
    files = write_payloads(up.dir + "/in", [payload(up.wf, i) for i in range(8)])
    spool = up.dir + "/spool"
    fake = secret_file(up.dir, "fake", "agk_" + "0" * 40)
    code, err = up.run("--spool", spool, "--api-key-file", fake, *files, cred=None)
    assert code == 4, err
    assert "not accepted: 401 unauthorized" in err and "nothing more is sent" in err, err
    assert len(pending(spool)) == 8 and up.stored() == 0
    # A viewer may read but not ingest: 403, the same.
    viewer = secret_file(up.dir, "viewer", up.tenant.add("viewer"))
    code, err = up.run("--drain", spool, "--token-file", viewer, cred=None)
    assert code == 4 and "403 forbidden" in err, err
    assert len(pending(spool)) == 8
    code, err = up.run("--drain", spool)
    assert code == 0, err
    assert len(up.sessions()) == 8


def test_an_untrusted_certificate_is_never_accepted(up):
    f = write_payloads(up.dir + "/in", [payload(up.wf, 0)])[0]
    code, err = up.run(f, ca=False)
    assert code == 4 and "certificate" in err, err
    assert up.stored() == 0
    # Trusted through SSL_CERT_FILE, as OpenSSL's tools are.
    code, err = up.run(f, ca=False, env=up.env(SSL_CERT_FILE=up.stack.ca))
    assert code == 0, err


def test_a_url_that_is_not_the_api_stops_at_once(up):
    f = write_payloads(up.dir + "/in", [payload(up.wf, 0)])[0]
    code, err = up.run("--retries", "0", f, url=up.stack.base + "/nowhere/api")
    assert code == 4 and re.search(r"not accepted: 40[45]", err), err


# ------------------------------------------------------------------ order and closed runs

def test_the_parts_of_a_live_run_arrive_in_order_among_many(up):
    """Three payloads of one execution next to each other, with eight in
    flight: the closing one must not overtake the others (it would close
    the run, and they would be answered 409 and lost)."""
    ex = str(uuid.uuid4())
    parts = [payload(up.wf, 0, execution_id=ex, status="running", session_id="live-1",
                     node_executions=[{"node_name": f"step{k}", "status": "success"}]) for k in range(3)]
    parts[2]["status"] = "success"
    fillers = [payload(up.wf, i) for i in range(1, 30)]
    files = write_payloads(up.dir + "/in", [*fillers[:5], *parts, *fillers[5:]])
    code, err = up.run("-v", "--parallel", "8", *files)
    assert code == 0, err
    assert "already closed" not in err, err
    row = up.tenant.execution(ex)
    assert row["status"] == "success" and row["counts"]["node_executions"] == 3, row


def test_a_payload_for_a_closed_execution_counts_as_stored(up):
    ex = str(uuid.uuid4())
    closing = payload(up.wf, 0, execution_id=ex)
    late = payload(up.wf, 1, execution_id=ex, status="running")
    files = write_payloads(up.dir + "/in", [closing, late])
    code, err = up.run("-v", *files)
    assert code == 0, err
    assert "run-00001.json: stored as" in err and "the execution was already closed" in err, err
    assert "(1 replayed" not in err


# ------------------------------------------------------------------ the stack restarted

def test_1000_files_survive_a_stack_restart_each_stored_exactly_once(up):
    """run.sh stop and start while 1,000 payloads are on their way, one of
    them refused: every other payload is stored exactly once, none is lost
    (whatever the uploader kept in its spool is drained afterwards), and the
    refused one is reported and set aside."""
    bodies = [payload(up.wf, i) for i in range(1000)]
    bad = payload(up.wf, 500)
    bad["started_at"] = "not a time"
    bodies[500] = bad
    files = write_payloads(up.dir + "/in", bodies)
    spool = up.dir + "/spool"
    log = open(os.path.join(up.dir, "upload.log"), "w+b")
    proc = subprocess.Popen(up.argv("--spool", spool, "--retries", "10", *files), env=up.env(),
                            stdout=subprocess.DEVNULL, stderr=log)
    try:
        assert wait_for(lambda: up.stored() >= 150, timeout=120, step=0.02), "the upload did not start"
        assert proc.poll() is None, "finished before the restart: nothing was tested"
        at_stop = up.stored()
        r = up.stack.run_sh("stop")
        assert r.returncode == 0, r.stderr
        time.sleep(2)
        r = up.stack.run_sh("start")
        assert r.returncode == 0, r.stdout + r.stderr
        up.stack.load_env()
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    log.seek(0)
    err = log.read().decode(errors="replace")
    log.close()
    assert at_stop < 999, at_stop
    assert proc.returncode in (1, 2), err  # 2: all sent; 1: some were kept for the drain below
    assert re.search(r"retry 1 of 10", err), "no failure was met: " + err
    assert re.search(r"run-00500\.json: refused: 422 validation_failed at started_at", err), err
    if proc.returncode == 1:
        code, drained = up.run("--drain", spool)
        assert code == 0, drained
    assert pending(spool) == []
    sessions = up.sessions()
    want = {b["session_id"] for i, b in enumerate(bodies) if i != 500}
    assert set(sessions) == want, (len(sessions), len(want))
    assert set(sessions.values()) == {1}, {s: n for s, n in sessions.items() if n != 1}
    kept = rejected(spool)
    assert len(kept) == 2, kept
    why = read_json(os.path.join(spool, "rejected", [n for n in kept if n.endswith(".error")][0]))
    assert why["source"] == files[500] and why["path"] == "started_at"
