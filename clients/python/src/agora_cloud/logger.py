"""CloudAuditLogger: records one execution of a workflow and delivers it to
Agora Cloud.

What it records, per node run (audited.py calls the ``_node_*`` and
``_flow_*`` methods): the node execution (status, start and end, the
prep/exec/post durations, retries, the action taken, the error), events
(``flow_start``, ``node_start``, ``node_retry``, ``node_fallback``,
``node_success``, ``node_error``, ``flow_transition``, ``flow_end``,
``flow_error``, and the workflow's own through ``log_event``), spans with W3C
trace and span ids (one per flow, one per node run under it, one per phase
under that), and a copy of the shared state before and after each node
(jsonsafe.py says how values are copied and bounded).

How it delivers: the execution has a client-chosen id from the start
(``execution_id``), so delivery is a series of ingest payloads that each
add what was recorded since the last one (live runs, README). With
``live=False`` that is one payload at ``mark_complete``/``upload``; with
``live=True`` a background thread sends the execution as ``running`` at
once and then each node as it starts and finishes (at most every
``live_interval`` seconds, merging what happened in between), and the last
payload carries the final status. Whatever cannot be delivered goes to the
spool (spool.py) and is sent again, in order, by the next delivery or by
``agora-upload --drain``.

Telemetry never breaks the workflow: no method called while the workflow
runs raises (trouble is logged on the ``agora_cloud`` logger), and the
workflow's own exceptions pass through unchanged. Only wrong arguments to
the constructor, ``mark_complete`` and ``set_node_id_mapping`` raise
(ValueError, TypeError), before any workflow code depends on them.
"""

import atexit
import logging
import os
import platform
import threading
import time
import traceback
import unicodedata
import uuid
import weakref

from . import payload
from ._version import __version__
from .jsonsafe import DEFAULT_REDACT, Copier
from .spool import Spool, write_atomic
from .transport import Transport

log = logging.getLogger("agora_cloud")

FINAL_STATUSES = ("success", "error", "cancelled")

# An identifier the server accepts is 1..65,536 bytes without control or
# format characters; longer names are cut to this many characters.
_NAME_CHARS = 1000


class _RandomIds:
    """Node execution ids (version 4 UUIDs) and span ids from the system's
    cryptographic source, as the server asks ids to be chosen, fetched 4 KiB
    at a time: one getrandom(2) serves a hundred nodes. A forked child
    starts a fresh buffer, so it never repeats its parent's ids."""

    def __init__(self):
        self._reset()

    def _reset(self):
        self._lock = threading.Lock()
        self._buf = b""
        self._pos = 0

    def _take(self, n):
        with self._lock:
            if self._pos + n > len(self._buf):
                self._buf = os.urandom(4096)
                self._pos = 0
            self._pos += n
            return self._buf[self._pos - n:self._pos]

    def span_id(self):
        """16 lowercase hex digits, not all zero (W3C trace context)."""
        while True:
            b = self._take(8)
            if any(b):
                return b.hex()

    def uuid4(self):
        b = bytearray(self._take(16))
        b[6] = b[6] & 0x0F | 0x40
        b[8] = b[8] & 0x3F | 0x80
        h = b.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_ids = _RandomIds()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ids._reset)


def _check_uuid(value, what):
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValueError(f"{what} must be a UUID, not {value!r}") from None


def _error_object(exc, phase=None, with_traceback=False):
    """An exception as the error object the viewer reads ("Type: message");
    the traceback (its last 8,000 characters) only where asked."""
    try:
        message = str(exc)
    except Exception:  # a broken __str__
        message = ""
    err = {"type": type(exc).__name__, "message": message[:4000]}
    if phase:
        err["phase"] = phase
    if with_traceback and exc.__traceback__ is not None:
        try:
            err["traceback"] = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-8000:]
        except Exception:
            pass
    return err


class _NodeRun:
    """One node execution being recorded. It is also the ``_observer`` a
    Node tells of failed attempts (framework.py)."""

    __slots__ = ("logger", "id", "name", "type", "node_id", "status", "marks", "end", "retries",
                 "action", "error", "span_id", "parent_span_id")

    def __init__(self, logger, name, type_, node_id, parent_span_id):
        self.logger = logger
        self.id = _ids.uuid4()
        self.name = name
        self.type = type_
        self.node_id = node_id
        self.status = "running"
        # perf_counter at: prep start, prep end, exec end, post end
        self.marks = [None, None, None, None]
        self.end = None
        self.retries = 0
        self.action = None
        self.error = None
        self.span_id = _ids.span_id()
        self.parent_span_id = parent_span_id

    def attempt_failed(self, exc, attempt, last, wait):
        self.logger._attempt_failed(self, exc, attempt, last, wait)

    def fell_back(self, exc):
        self.logger._fell_back(self, exc)


class CloudAuditLogger:
    """Records one workflow execution and uploads it to Agora Cloud.

    session_id: your name for the run (any text; None: a random one).
    api_url: the API base, https://HOST/api, or the site, https://HOST/.
    access_token / api_key: a user's JWT or a project's ``agk_`` key (one).
    workflow_id: the workflow (UUID) the execution belongs to; its nodes
        are found by name, and created when missing, by the server.
    auto_upload: upload when ``mark_complete`` is called (and at exit).
    timeout: seconds per HTTP request.
    spool_dir: where undeliverable payloads wait (default: AGORA_SPOOL_DIR,
        else ~/.local/state/agora-cloud/spool).
    live: send the execution as it runs (see the module's docstring).
    ca_file: a PEM file of CA certificates to trust instead of the system's.
    metadata: a dict stored with the execution.
    capture_state: take the shared-state snapshots.
    snapshot_max_bytes: about how much JSON one snapshot may take.
    redact_keys: key names whose values snapshots and event data leave out.
    max_payload_bytes: the largest request body sent; more is split.
    live_interval: the least time between two live payloads, in seconds.
    """

    def __init__(self, session_id, api_url, access_token=None, api_key=None, workflow_id=None,
                 auto_upload=True, timeout=30, spool_dir=None, live=False, *, ca_file=None,
                 metadata=None, capture_state=True, snapshot_max_bytes=65536,
                 redact_keys=DEFAULT_REDACT, max_payload_bytes=4 * 1024 * 1024, live_interval=0.1):
        if access_token and api_key:
            raise ValueError("give access_token or api_key, not both")
        if workflow_id is None:
            raise ValueError("workflow_id is required: the id of the workflow in Agora Cloud")
        if metadata is not None and not isinstance(metadata, dict):
            raise TypeError("metadata must be a dict")
        self._names = {}
        if session_id is not None and not str(session_id):
            raise ValueError("session_id must not be empty")
        self.session_id = self._clean(session_id) if session_id is not None else str(uuid.uuid4())
        self.workflow_id = _check_uuid(workflow_id, "workflow_id")
        self.execution_id = str(uuid.uuid4())
        self.trace_id = _ids.span_id() + _ids.span_id()
        self.auto_upload = bool(auto_upload)
        self.live = bool(live)
        self._transport = Transport(api_url, api_key or access_token, timeout, ca_file)
        self.api_url = self._transport.base
        self._spool = Spool(spool_dir)
        self.spool_dir = self._spool.dir
        self._capture_state = bool(capture_state)
        self._copier = Copier(snapshot_max_bytes, redact=redact_keys)
        self._data_copier = Copier(max(1024, snapshot_max_bytes // 4), redact=redact_keys)
        self._max_payload = int(max_payload_bytes)
        self._live_interval = float(live_interval)

        self._t0_ns = time.time_ns()
        self._t0 = time.perf_counter()
        self._node_ids = {}
        self._metadata = self._data_copier.copy(metadata)[0] if metadata else {}
        self._metadata["agora_client"] = {"name": "agora-cloud-python", "version": __version__,
                                          "python": platform.python_version()}

        # What was recorded (guarded by _lock).
        self._lock = threading.Lock()
        self._runs = []
        self._events = []
        self._spans = []
        self._snapshots = []
        self._span_stack = []
        self._last_after = None
        self._status = "running"
        self._error = None
        self._completed_at = None
        self._last_error = None
        self._flow_error = None

        # What was handed over for delivery (guarded by _lock): everything
        # before these indexes, and every run not in _dirty.
        self._dirty = {}
        self._sent = {"events": 0, "spans": 0, "snapshots": 0}
        self._announced = False
        self._final_taken = False
        self._late_warned = False

        # Delivery (guarded by _send_lock: one delivery at a time).
        self._send_lock = threading.Lock()
        self._own_spooled = []
        self._backlog = []
        self._retry_at = 0.0
        self._backoff = 0.0
        self._drained = False
        self._delivered_ok = False
        self._refused = False
        self._said = set()

        self._wake = threading.Event()
        self._stopping = False
        self._thread = None
        _loggers.add(self)
        if self.live:
            self._thread = threading.Thread(target=self._live_loop, name="agora-cloud-live", daemon=True)
            self._thread.start()
            self._wake.set()  # create the execution as running now

    # ------------------------------------------------------------ public

    def set_node_id_mapping(self, node_name, node_id):
        """Sends node_name's runs with this workflow node id. Optional: the
        server finds (or creates) the workflow's node by name."""
        self._node_ids[str(node_name)] = _check_uuid(node_id, "node_id")

    def log_event(self, event_type, node_name=None, **data):
        """Records an event of your own (its data is copied like the shared
        state, smaller). node_name defaults to the node running now."""
        try:
            t = time.perf_counter()
            with self._lock:
                if node_name is None and self._runs and self._runs[-1].end is None:
                    node_name = self._runs[-1].name
                copied = self._data_copier.copy(data)[0]
                self._events.append((self._clean(event_type), t, self._clean(node_name), copied))
            self._poke()
        except Exception:
            self._internal("log_event")

    def mark_complete(self, status="success", error=None):
        """Ends the execution with status success, error or cancelled (and an
        error: text, an exception or a dict); uploads when auto_upload."""
        if status not in FINAL_STATUSES:
            raise ValueError(f"status must be one of {', '.join(FINAL_STATUSES)}, not {status!r}")
        if not self._complete(status, error):
            log.warning("agora_cloud: execution %s was already completed; mark_complete(%r) ignored",
                        self.execution_id, status)
        if self.auto_upload:
            self.upload()

    def upload(self):
        """Delivers what was recorded and not yet delivered (the final
        status too, once mark_complete was called), after whatever waits in
        the spool. Returns the execution id once the server has everything
        so far, None when something is spooled or was refused."""
        try:
            self._flush(final=self._completed_at is not None, force=True)
            if self._final_taken:
                self._stop_live()
                with self._send_lock:
                    self._transport.close()  # nothing more to send on it
        except Exception:
            self._internal("upload")
            return None
        return self.execution_id if self._delivered_ok else None

    def to_payload(self):
        """The whole execution so far as one ingest payload (a dict)."""
        with self._lock:
            runs = [self._node_item(r) for r in self._runs]
            events, spans, snaps = list(self._events), list(self._spans), list(self._snapshots)
            doc = {**self._head(), **self._final_fields(True)}
        doc["node_executions"] = runs
        doc["telemetry_spans"] = [self._span_item(s) for s in spans]
        doc["telemetry_events"] = [self._event_item(e) for e in events]
        doc["shared_state_snapshots"] = [self._snapshot_item(s) for s in snaps]
        return doc

    def save_json(self, path):
        """Writes the whole execution as one ingest payload to path
        (atomically), which ``agora-upload FILE`` can send later. Returns
        True, or False (logged) when it could not be written."""
        try:
            write_atomic(os.fspath(path), payload.encode(self.to_payload()), mode=0o644)
            return True
        except Exception as exc:
            log.error("agora_cloud: could not save the audit log to %s: %s", path, exc)
            return False

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        """Completes the execution: success, or error (cancelled for Ctrl-C)
        with the exception, which then propagates."""
        if self._completed_at is None:
            self.mark_complete(*self._status_for(exc))
        return False

    # ------------------------------------------------------------ recording (audited.py)

    def _node_begin(self, node, shared, reuse_state):
        """A node starts: returns its _NodeRun, or None when recording failed
        (then the node runs unrecorded)."""
        try:
            t = time.perf_counter()
            name = self._clean(node.name)
            with self._lock:
                parent = self._span_stack[-1][0] if self._span_stack else None
                run = _NodeRun(self, name, type(node).__name__, self._node_ids.get(name), parent)
                run.marks[0] = t
                self._runs.append(run)
                self._dirty[run.id] = run
                data = {"node_type": run.type, "node_execution_id": run.id}
                if node.params:
                    data["params"] = self._data_copier.copy(node.params)[0]
                self._events.append(("node_start", t, name, data))
                if self._capture_state:
                    last = self._last_after
                    state = last[1] if reuse_state and last is not None and last[0] is shared \
                        else self._copier.copy(shared)[0]
                    self._last_after = None  # used once: the next node needs this one's "after"
                    self._snapshots.append((len(self._snapshots), t, name, "before", state))
            self._poke()
            return run
        except Exception:
            self._internal("node start")
            return None

    def _attempt_failed(self, run, exc, attempt, last, wait):
        try:
            if last:
                return  # the node's end says it
            t = time.perf_counter()
            with self._lock:
                run.retries += 1
                self._events.append(("node_retry", t, run.name, {
                    "attempt": attempt + 1, "error": _error_object(exc), "wait_s": wait}))
        except Exception:
            self._internal("retry")

    def _fell_back(self, run, exc):
        try:
            t = time.perf_counter()
            with self._lock:
                self._events.append(("node_fallback", t, run.name, {"error": _error_object(exc)}))
        except Exception:
            self._internal("fallback")

    def _node_end(self, run, shared, action, exc, phase):
        """A node ends: with its action, or with exc raised in phase."""
        try:
            t = time.perf_counter()
            with self._lock:
                run.end = t
                m = run.marks
                for i in (1, 2, 3):
                    if m[i] is None:
                        m[i] = t
                        break
                if exc is None:
                    run.status = "success"
                    run.action = self._action(action)
                    self._events.append(("node_success", t, run.name, {
                        "action": run.action, "retries": run.retries, "node_execution_id": run.id}))
                else:
                    run.status = "error"
                    run.error = _error_object(exc, phase)
                    self._last_error = run.error
                    self._events.append(("node_error", t, run.name, {
                        "error": _error_object(exc, phase, with_traceback=True),
                        "retries": run.retries, "node_execution_id": run.id}))
                self._spans.extend(self._node_spans(run))
                if self._capture_state:
                    state = self._copier.copy(shared)[0]
                    self._last_after = (shared, state)
                    self._snapshots.append((len(self._snapshots), t, run.name, "after", state))
                self._dirty[run.id] = run
            self._poke()
        except Exception:
            self._internal("node end")

    def _transition(self, src, dst, action):
        try:
            t = time.perf_counter()
            name = self._clean(src.name)
            with self._lock:
                self._events.append(("flow_transition", t, name, {
                    "from": name, "to": self._clean(dst.name), "action": self._action(action)}))
        except Exception:
            self._internal("transition")

    def _flow_begin(self, flow):
        """A flow starts; returns the token _flow_end takes."""
        try:
            t = time.perf_counter()
            name = self._clean(flow.name)
            with self._lock:
                parent = self._span_stack[-1][0] if self._span_stack else None
                token = (_ids.span_id(), parent, name, t, type(flow).__name__)
                self._span_stack.append(token)
                self._events.append(("flow_start", t, None, {"flow": name, "flow_type": token[4]}))
            self._poke()
            return token
        except Exception:
            self._internal("flow start")
            return None

    def _flow_end(self, token, result, exc):
        if token is None:
            return
        try:
            t = time.perf_counter()
            span_id, parent, name, start, flow_type = token
            with self._lock:
                if token in self._span_stack:
                    self._span_stack.remove(token)
                ms = round((t - start) * 1000, 3)
                if exc is None:
                    self._events.append(("flow_end", t, None, {
                        "flow": name, "result": self._data_copier.copy(result)[0], "duration_ms": ms}))
                else:
                    self._flow_error = exc
                    self._events.append(("flow_error", t, None, {
                        "flow": name, "error": _error_object(exc), "duration_ms": ms}))
                self._spans.append((span_id, parent, name, start, t, "ok" if exc is None else "error",
                                    {"flow_type": flow_type}, None))
            self._poke()
        except Exception:
            self._internal("flow end")

    # ------------------------------------------------------------ helpers

    def _clean(self, text):
        """A name as the server accepts it: text, without control or format
        characters (each becomes U+FFFD), cut to _NAME_CHARS; None stays."""
        if text is None:
            return None
        if not isinstance(text, str):
            text = str(text)
        known = self._names.get(text)
        if known is not None:
            return known
        s = text
        if not s.isprintable():
            s = "".join("\ufffd" if unicodedata.category(c) in ("Cc", "Cf", "Cs") else c for c in s)
        s = s[:_NAME_CHARS] or "unnamed"
        if len(self._names) < 10000:
            self._names[text] = s
        return s

    def _action(self, action):
        return "default" if action is None or action == "" else self._clean(action)

    def _status_for(self, exc):
        if exc is None:
            return "success", None
        return ("cancelled" if isinstance(exc, KeyboardInterrupt) else "error"), exc

    def _complete(self, status, error):
        """Sets the final status once; False when it was already set."""
        with self._lock:
            if self._completed_at is not None:
                return False
            self._completed_at = time.perf_counter()
            self._status = status
            if isinstance(error, BaseException):
                error = _error_object(error)
            elif error is None and status == "error":
                error = self._last_error
            self._error = self._data_copier.copy(error)[0] if error is not None else None
            return True

    def _ns(self, t):
        return self._t0_ns + int((t - self._t0) * 1e9)

    def _ms(self, a, b):
        return round((b - a) * 1000, 3)

    def _node_spans(self, run):
        m = run.marks
        attrs = {"node_type": run.type, "retries": run.retries, "node_execution_id": run.id}
        if run.action is not None:
            attrs["action"] = run.action
        spans = [(run.span_id, run.parent_span_id, run.name, m[0], run.end,
                  "error" if run.error else "ok", attrs, run.name)]
        for i, phase in enumerate(("prep", "exec", "post")):
            if m[i + 1] is None:
                break
            failed = run.error is not None and run.error.get("phase") == phase
            extra = {"retries": run.retries, "attempts": run.retries + 1} if phase == "exec" else {}
            spans.append((_ids.span_id(), run.span_id, f"{run.name}.{phase}", m[i], m[i + 1],
                          "error" if failed else "ok", extra, run.name))
        return spans

    # ------------------------------------------------------------ payload items

    def _head(self):
        return {"workflow_id": self.workflow_id, "execution_id": self.execution_id,
                "session_id": self.session_id, "status": "running", "started_at": payload.iso(self._t0_ns)}

    def _final_fields(self, with_metadata):
        out = {"metadata": self._metadata} if with_metadata else {}
        if self._completed_at is not None:
            out["status"] = self._status
            out["completed_at"] = payload.iso(self._ns(self._completed_at))
            out["duration_ms"] = self._ms(self._t0, self._completed_at)
            if self._error is not None:
                out["error"] = self._error
        return out

    def _node_item(self, run):
        m = run.marks
        item = {"id": run.id, "node_name": run.name, "node_type": run.type, "status": run.status,
                "started_at": payload.iso(self._ns(m[0]))}
        if run.node_id:
            item["node_id"] = run.node_id
        if run.end is not None:
            item["completed_at"] = payload.iso(self._ns(run.end))
            for i, phase in enumerate(("prep", "exec", "post")):
                if m[i + 1] is not None:
                    item[f"{phase}_duration_ms"] = self._ms(m[i], m[i + 1])
            item["retry_count"] = run.retries
            if run.action is not None:
                item["action"] = run.action
            if run.error is not None:
                item["error"] = run.error
        return item

    def _span_item(self, s):
        span_id, parent, name, start, end, status, attrs, node_name = s
        item = {"trace_id": self.trace_id, "span_id": span_id, "parent_span_id": parent, "name": name,
                "kind": "internal", "start_time": payload.iso(self._ns(start)),
                "end_time": payload.iso(self._ns(end)), "duration_ms": self._ms(start, end),
                "status": status, "attributes": attrs}
        if node_name is not None:
            item["node_name"] = node_name
        return item

    def _event_item(self, e):
        event_type, t, node_name, data = e
        item = {"event_type": event_type, "timestamp": payload.iso(self._ns(t)), "data": data}
        if node_name is not None:
            item["node_name"] = node_name
        return item

    def _snapshot_item(self, s):
        seq, t, node_name, phase, state = s
        return {"sequence": seq, "timestamp": payload.iso(self._ns(t)), "node_name": node_name,
                "phase": phase, "state": state}

    def _take(self, final):
        """Hands over what was recorded since the last call, as request
        bodies (the last one final when final and mark_complete was
        called). Returns [(body, is_final)]."""
        with self._lock:
            if self._final_taken:
                if (self._dirty or len(self._events) > self._sent["events"]) and not self._late_warned:
                    self._late_warned = True
                    log.warning("agora_cloud: execution %s is complete; what was recorded after "
                                "mark_complete is not sent", self.execution_id)
                return []
            runs = [self._node_item(r) for r in self._dirty.values()]
            self._dirty.clear()
            taken = {}
            for key, source in (("events", self._events), ("spans", self._spans),
                                ("snapshots", self._snapshots)):
                taken[key] = source[self._sent[key]:]
                self._sent[key] = len(source)
            # The first payload creates the execution (with its metadata):
            # at once for a live run, else with the first items or status.
            announce = not self._announced and (self.live or final or runs or any(taken.values()))
            fields = self._final_fields(announce) if final else ({"metadata": self._metadata} if announce else {})
            self._announced = self._announced or announce
            closing = final and self._completed_at is not None
            if closing:
                self._final_taken = True
            head = self._head()
        items = {
            "node_executions": runs,
            "telemetry_spans": [self._span_item(s) for s in taken["spans"]],
            "telemetry_events": [self._event_item(e) for e in taken["events"]],
            "shared_state_snapshots": [self._snapshot_item(s) for s in taken["snapshots"]],
        }
        bodies = payload.bodies(head, fields, items, self._max_payload)
        return [(b, closing and i == len(bodies) - 1) for i, b in enumerate(bodies)]

    # ------------------------------------------------------------ delivery

    def _poke(self):
        if self._thread is not None:
            self._wake.set()

    def _flush(self, final, force=False):
        """Delivers what _take hands over. force (an explicit upload, the
        last one at exit) tries the network even while backing off after a
        failure, and drains the spool first."""
        with self._send_lock:
            todo = self._backlog + self._take(final)
            self._backlog = []
            network = force or time.monotonic() >= self._retry_at
            if network and (force or self._own_spooled or not self._drained):
                self._drain()
            ok = not self._own_spooled
            for body, is_final in todo:
                if network and not self._own_spooled:
                    out = self._transport.ingest(body, is_final)
                    if self._handle(out, body):
                        ok = ok and out.kind == "ok"
                        continue
                    network = False
                self._keep(body, is_final)
                ok = False
            self._delivered_ok = ok and not self._refused and not self._own_spooled and not self._backlog

    def _drain(self):
        """Sends what waits in the spool (ours and others', oldest first)."""
        self._drained = True
        try:
            self._spool.drain(self._transport.ingest)
        except OSError as exc:
            self._say("drain", f"agora_cloud: cannot read the spool {self._spool.dir}: {exc}")
        self._own_spooled = [p for p in self._own_spooled if os.path.exists(p)]

    def _handle(self, out, body):
        """Acts on one answer; True when the body is dealt with (stored, or
        refused for good and kept aside), False when it must be kept."""
        if out.kind == "ok":
            self._retry_at, self._backoff = 0.0, 0.0
            self._said.discard("fail")
            log.info("agora_cloud: execution %s: payload %s", self.execution_id,
                     "replayed" if out.replayed else out.message)
            return True
        if out.kind == "reject":
            self._refused = True
            where = "not kept"
            try:
                where = f"kept in {self._spool.put_rejected(body, self.execution_id)}"
            except OSError as exc:
                where = f"could not be kept ({exc})"
            log.error("agora_cloud: the server refused telemetry of execution %s (%s); the payload is %s "
                      "and will not be sent again", self.execution_id, out.message, where)
            return True
        self._backoff = min(60.0, max(1.0, self._backoff * 2))
        self._retry_at = time.monotonic() + self._backoff
        level = logging.WARNING if out.transient else logging.ERROR
        if "fail" not in self._said:
            self._said.add("fail")
            log.log(level, "agora_cloud: telemetry of execution %s not delivered (%s); it is kept in %s "
                    "and sent again by the next upload or by agora-upload --drain",
                    self.execution_id, out.message, self._spool.dir)
        return False

    def _keep(self, body, is_final):
        """Spools a body (or, when the spool cannot be written, keeps it in
        memory for the next delivery)."""
        try:
            self._own_spooled.append(self._spool.put(body, self.execution_id))
        except OSError as exc:
            self._backlog.append((body, is_final))
            self._say("spool", f"agora_cloud: cannot write the spool {self._spool.dir} ({exc}); "
                               "telemetry is kept in memory only")

    def _say(self, key, message):
        """Logs an error once per logger and kind of trouble."""
        if key not in self._said:
            self._said.add(key)
            log.error("%s", message)

    def _internal(self, where):
        if ("internal", where) not in self._said:
            self._said.add(("internal", where))
            log.exception("agora_cloud: internal error while recording (%s); the workflow goes on", where)

    # ------------------------------------------------------------ live thread, exit

    def _live_loop(self):
        while True:
            self._wake.wait()
            if self._stopping:
                return
            self._wake.clear()
            try:
                self._flush(final=False)
            except Exception:
                self._internal("live delivery")
            time.sleep(self._live_interval)

    def _stop_live(self):
        if self._thread is not None:
            self._stopping = True
            self._wake.set()

    def _at_exit(self):
        """At interpreter exit: a run that was not completed is delivered as
        it stands (with the error, or cancelled for Ctrl-C, when a flow
        raised; still running otherwise, which the server shows as stale)."""
        try:
            if self._final_taken or not (self.auto_upload or self.live):
                return
            if not (self.live or self._runs or self._events):
                return
            if self._flow_error is not None:
                self._complete(*self._status_for(self._flow_error))
            self.upload()
        except Exception:
            self._internal("exit")
        finally:
            self._stop_live()


_loggers = weakref.WeakSet()


@atexit.register
def _deliver_at_exit():
    for logger in list(_loggers):
        logger._at_exit()
