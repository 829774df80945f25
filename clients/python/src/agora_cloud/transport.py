"""HTTP to Agora Cloud's ingest route, and what each answer means for the
payload that was sent.

One connection is kept open and reused (a live run sends a request per
node). TLS is always verified, against the system's trust store (which
OpenSSL lets SSL_CERT_FILE / SSL_CERT_DIR replace) or the ``ca_file``
given. HTTPS proxies from the usual environment variables are used through
a CONNECT tunnel. Redirects are not followed: a POST that is redirected is
a misconfigured ``api_url``, said as such.

Every request carries ``Idempotency-Key``: the lowercase hex SHA-256 of the
exact body bytes. A retry of the same body, by this client after a lost
answer or by ``agora-upload`` from the spool, therefore replays the first
answer instead of storing the execution twice.
"""

import base64
import collections
import hashlib
import http.client
import json
import ssl
import urllib.parse
import urllib.request

from ._version import __version__

USER_AGENT = f"agora-cloud-python/{__version__}"
INGEST_PATH = "/executions/ingest"

# What an answer means for the payload:
#   ok      stored (or already stored: a replay, or 409 on a final payload)
#   fail    not stored; keep it and send it again later. transient says
#           whether waiting alone may help (network, 5xx) or someone must
#           act first (401, 403, 404, a redirect, an untrusted certificate)
#   reject  the server will never take this body (400, 413, 415, 422, or a
#           409 on an append to a closed execution): sending it again is
#           pointless
Outcome = collections.namedtuple(
    "Outcome", "kind status message execution_id replayed transient", defaults=(None, False, False))

_REJECT = frozenset((400, 413, 415, 422))


def normalize_api_url(api_url):
    """The API base URL, ending in /api, for either spelling a user may
    give: the API base (https://HOST/api) or the site (https://HOST/, what
    ./run.sh prints), in which case the API is /api under it. Raises
    ValueError for what cannot be an API URL."""
    if not isinstance(api_url, str) or not api_url.strip():
        raise ValueError("api_url must be a URL such as https://HOST/api")
    parts = urllib.parse.urlsplit(api_url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"api_url must be an https:// (or http://) URL, not {api_url!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("api_url must not hold credentials: pass access_token= or api_key=")
    if parts.query or parts.fragment:
        raise ValueError("api_url must not have a query or a fragment")
    path = parts.path.rstrip("/")
    if not path.endswith("/api"):
        path += "/api"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def idempotency_key(body):
    """The Idempotency-Key of a body: lowercase hex SHA-256 of its bytes
    (agora-upload computes the same for a spooled file)."""
    return hashlib.sha256(body).hexdigest()


def _error_text(status, data):
    """(one line, whether it is the API's error): status, code, path and
    message (and the request id to quote) of an Agora Cloud error, or the
    start of a body that is not one."""
    try:
        err = json.loads(data.decode("utf-8"))["error"]
        text = f"{status} {err.get('code', '')}"
        if err.get("path"):
            text += f" at {err['path']}"
        text += f": {err.get('message', '')}"
        if err.get("request_id"):
            text += f" (request {err['request_id']})"
        return text, True
    except (ValueError, KeyError, TypeError, AttributeError):
        snippet = " ".join(data[:200].decode("utf-8", "replace").split())
        return (f"{status}: {snippet}" if snippet else f"{status}"), False


def classify(status, data, final, location=None):
    """The Outcome of an HTTP answer (status, body bytes) to an ingest of a
    body that did (final=True) or did not carry a final status."""
    if status in (200, 201):
        try:
            execution_id = json.loads(data.decode("utf-8")).get("execution_id")
        except (ValueError, AttributeError):
            execution_id = None
        return Outcome("ok", status, "stored", execution_id)
    text, ours = _error_text(status, data)
    if status == 409:
        # A final payload answered 409: the execution is already closed,
        # which for a body this client sent means an earlier copy of it
        # arrived (sent by another caller, or after its key expired).
        if final:
            return Outcome("ok", status, f"already stored ({text})")
        return Outcome("reject", status, text)
    if status in _REJECT:
        return Outcome("reject", status, text)
    if 300 <= status < 400:
        return Outcome("fail", status, f"{status}: api_url is redirected to {location or '?'}; use that URL")
    if status in (401, 403):
        hint = ("the token or API key was refused (expired, revoked or not for this server)"
                if status == 401 else
                "this credential may not ingest here (a viewer, or an API key of another project)")
        return Outcome("fail", status, f"{text}; {hint}")
    if status == 404:
        hint = ("the workflow_id is not visible to this credential" if ours else
                "no Agora Cloud API answers at this api_url")
        return Outcome("fail", status, f"{text}; {hint}")
    transient = status in (408, 429) or status >= 500
    return Outcome("fail", status, text, transient=transient)


class Transport:
    """Sends ingest bodies to one API base URL with one credential. Not
    thread-safe: the logger serializes its sends."""

    def __init__(self, api_url, credential=None, timeout=30, ca_file=None):
        self.base = normalize_api_url(api_url)
        parts = urllib.parse.urlsplit(self.base)
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._path = parts.path + INGEST_PATH
        self._timeout = timeout
        self._credential = credential
        # A ca_file given is loaded now, so a wrong one stops the caller at
        # once; the system's trust store (tens of milliseconds to load) only
        # when the first request needs it.
        self._context = ssl.create_default_context(cafile=ca_file) if self._https and ca_file else None
        self._proxy = self._find_proxy() if self._https else None
        self._conn = None
        self._used = False

    def _find_proxy(self):
        """(host, port, Proxy-Authorization or None) of the https proxy the
        environment names for our host, or None."""
        proxy = urllib.request.getproxies().get("https")
        if not proxy or urllib.request.proxy_bypass(self._host):
            return None
        p = urllib.parse.urlsplit(proxy if "://" in proxy else "http://" + proxy)
        auth = None
        if p.username is not None:
            raw = f"{urllib.parse.unquote(p.username)}:{urllib.parse.unquote(p.password or '')}"
            auth = "Basic " + base64.b64encode(raw.encode()).decode()
        return p.hostname, p.port or 8080, auth

    def _connection(self):
        if self._conn is None:
            if self._https and self._context is None:
                self._context = ssl.create_default_context()
            if self._proxy is not None:
                host, port, auth = self._proxy
                self._conn = http.client.HTTPSConnection(host, port, timeout=self._timeout,
                                                         context=self._context)
                self._conn.set_tunnel(self._host, self._port,
                                      headers={"Proxy-Authorization": auth} if auth else None)
            elif self._https:
                self._conn = http.client.HTTPSConnection(self._host, self._port, timeout=self._timeout,
                                                         context=self._context)
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            self._used = False
        return self._conn

    def close(self):
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
            self._conn = None

    def ingest(self, body, final):
        """POSTs one body, which does (final=True) or does not carry a final
        execution status; returns its Outcome. Never raises for network or
        HTTP trouble: that is an Outcome too."""
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Idempotency-Key": idempotency_key(body),
            "User-Agent": USER_AGENT,
        }
        if self._credential:
            headers["Authorization"] = f"Bearer {self._credential}"
        for _ in range(2):
            conn = self._connection()
            reused = self._used
            try:
                conn.request("POST", self._path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except ssl.SSLCertVerificationError as exc:
                self.close()
                return Outcome("fail", None, f"TLS: the server's certificate is not trusted ({exc.verify_message}); "
                                             "pass ca_file= or set SSL_CERT_FILE")
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if reused:
                    # The server may close a kept-alive connection between
                    # two requests: once more on a new one (the key makes
                    # a second copy harmless).
                    continue
                return Outcome("fail", None, f"{type(exc).__name__}: {exc}".rstrip(": "), transient=True)
            self._used = True
            if resp.will_close:
                self.close()
            out = classify(resp.status, data, final, resp.getheader("Location"))
            if out.kind == "ok" and resp.getheader("Idempotent-Replayed") == "true":
                out = out._replace(replayed=True)
            return out
        return Outcome("fail", None, "the connection was closed twice", transient=True)
