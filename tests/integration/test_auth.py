"""Every way a credential can be wrong answers 401 unauthorized, through the
real stack. Tokens are minted by agora-admin (the valid ones) or forged here
with the standard library (the invalid ones)."""
import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header, claims, secret):
    signing = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    sig = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return signing + "." + b64(sig)


@pytest.fixture(scope="module")
def secret(stack):
    with open(stack.env["AGORA_JWT_SECRET_FILE"], "rb") as f:
        return f.read().strip()


def claims(**over):
    now = int(time.time())
    c = {"sub": str(uuid.uuid4()), "exp": now + 600, "iat": now}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def test_a_token_forged_here_with_the_right_secret_is_accepted(stack, secret):
    tok = forge({"alg": "HS256", "typ": "JWT"}, claims(), secret)
    assert stack.request("GET", "/api/organizations", token=tok).status == 200


BAD = {
    "wrong secret": lambda s: forge({"alg": "HS256"}, claims(), b"x" * 40),
    "expired": lambda s: forge({"alg": "HS256"}, claims(exp=int(time.time()) - 3600), s),
    "nbf in the future": lambda s: forge({"alg": "HS256"}, claims(nbf=int(time.time()) + 3600), s),
    "missing exp": lambda s: forge({"alg": "HS256"}, claims(exp=None), s),
    "missing sub": lambda s: forge({"alg": "HS256"}, claims(sub=None), s),
    "sub not a uuid": lambda s: forge({"alg": "HS256"}, claims(sub="alice"), s),
    "alg none": lambda s: b64(b'{"alg":"none"}') + "." + b64(json.dumps(claims()).encode()) + ".",
    "RS256 header on an HS256 signature": lambda s: forge({"alg": "RS256"}, claims(), s),
    "tampered payload": lambda s: (lambda t: t.split(".")[0] + "." + b64(json.dumps(claims(sub=str(uuid.uuid4()))).encode()) + "." + t.split(".")[2])(forge({"alg": "HS256"}, claims(), s)),
    "garbage": lambda s: "not.a.token",
    "empty": lambda s: "",
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_tokens_are_refused_with_401(stack, secret, case):
    r = stack.request("GET", "/api/projects", headers={"Authorization": "Bearer " + BAD[case](secret)})
    assert r.status == 401, r.body
    assert r.json()["error"]["code"] == "unauthorized"


def test_no_header_and_wrong_scheme_are_401(stack):
    assert stack.request("GET", "/api/projects").status == 401
    tok = stack.token(stack.new_user())
    r = stack.request("GET", "/api/projects", headers={"Authorization": "Basic " + tok})
    assert r.status == 401


def test_a_token_in_the_query_string_is_refused(stack):
    tok = stack.token(stack.new_user())
    r = stack.request("GET", "/api/projects?access_token=" + tok)
    assert r.status == 401
    # Even alongside a valid header: credentials do not belong in URLs.
    r = stack.request("GET", "/api/projects?access_token=" + tok, token=tok)
    assert r.status == 401


def test_a_malformed_or_unknown_api_key_is_401(stack):
    for key in ("agk_", "agk_" + "0" * 96, "agk_" + "g" * 96, "agk_" + uuid.uuid4().hex + "ab" * 32):
        r = stack.request("GET", "/api/projects", token=key)
        assert r.status == 401, key


def test_tokens_never_reach_the_logs(stack):
    tok = stack.token(stack.new_user())
    stack.request("GET", "/api/projects?access_token=" + tok)
    stack.request("GET", "/api/projects", token=tok + "x")
    import glob
    for path in glob.glob(stack.var + "/log/*"):
        with open(path, "rb") as f:
            assert tok.encode() not in f.read(), path
