"""./run.sh with settings the session's stack leaves at their defaults, on a
stack of its own (a second cluster, workers and nginx on free ports):

- AGORA_JWT_ALG=RS256 with only the public key: everything starts, run.sh
  says plainly that it cannot print a demo token and exits 0 (it used to
  exit 1 asking for agora-admin's --private-key);
- the same with AGORA_JWT_PRIVATE_KEY_FILE: it prints a token, signed with
  that key, that the workers accept, and uploads the demo execution with it;
- AGORA_SERVER_NAME: the HTTP redirect and the printed URLs use it.
"""
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import new_stack, plain_http_get, readable_by, remove_stack, start_stack

DEMO_EXECUTION = "5e7a1c00-de00-4000-8000-000000000001"  # run.sh's


@pytest.fixture(scope="module")
def rsa_keys():
    """(private, public) PEM files; the directory and the public key are
    readable by the workers' user, the private key by its owner only."""
    d = tempfile.mkdtemp(prefix="agora-keys-", dir="/tmp")
    os.chmod(d, 0o755)
    private, public = os.path.join(d, "private.pem"), os.path.join(d, "public.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", private], check=True, capture_output=True, timeout=60)
    os.chmod(private, 0o600)
    subprocess.run(["openssl", "pkey", "-in", private, "-pubout", "-out", public], check=True,
                   capture_output=True, timeout=60)
    os.chmod(public, 0o644)
    yield private, public
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def rs256(rsa_keys):
    s = new_stack(AGORA_JWT_ALG="RS256", AGORA_JWT_PUBLIC_KEY_FILE=rsa_keys[1], AGORA_SERVER_NAME="agora.test")
    try:
        yield s
    finally:
        remove_stack(s)


def test_rs256_without_a_private_key_starts_says_why_there_is_no_token_and_exits_0(rs256):
    rs256.run_sh("stop")
    r = start_stack(rs256)
    assert "No demo token: AGORA_JWT_ALG=RS256" in r.stdout, r.stdout
    assert "AGORA_JWT_PRIVATE_KEY_FILE" in r.stdout
    assert "#token=" not in r.stdout and "--private-key" not in r.stderr
    assert rs256.wait_healthy().status == 200
    assert rs256.run_sh("status").returncode == 0


def test_rs256_with_a_private_key_prints_a_token_the_workers_accept(rs256, rsa_keys):
    rs256.run_sh("stop")
    rs256.env["AGORA_JWT_PRIVATE_KEY_FILE"] = rsa_keys[0]
    try:
        r = start_stack(rs256)
    finally:
        del rs256.env["AGORA_JWT_PRIVATE_KEY_FILE"]
    m = re.search(r"#token=([\w.-]+)&execution=", r.stdout)
    assert m, r.stdout
    token = m.group(1)
    assert rs256.request("GET", "/api/organizations", token=token).status == 200
    assert rs256.request("GET", f"/api/executions/{DEMO_EXECUTION}", token=token).status == 200
    # Only run.sh reads the private key: the workers' user cannot.
    if os.geteuid() == 0:
        assert not readable_by("agora", rsa_keys[0])
        assert readable_by("agora", rsa_keys[1])


def test_the_configured_server_name_is_the_redirect_target_and_in_the_urls(rs256):
    if rs256.supervisor_pid() is None:
        start_stack(rs256)
    assert rs256.env["AGORA_SERVER_NAME"] == "agora.test"
    assert rs256.env["AGORA_URL"] == f"https://agora.test:{rs256.https_port}"
    assert plain_http_get(rs256.http_port, "/api/health", "evil.example") == (
        301, f"https://agora.test:{rs256.https_port}/api/health")
    # The development certificate names it too.
    r = subprocess.run(["openssl", "x509", "-noout", "-checkhost", "agora.test", "-in", rs256.ca],
                       capture_output=True, text=True, timeout=30)
    assert "does match" in r.stdout, r.stdout + r.stderr
