"""The record of one workflow execution, and its ingest payload items.

What is recorded, per node run (audited.py calls it through the logger):
the node execution (status, start and end, the prep/exec/post durations,
retries, the action taken, the error), events (``flow_start``,
``node_start``, ``node_retry``, ``node_fallback``, ``node_success``,
``node_error``, ``flow_transition``, ``flow_end``, ``flow_error``, and the
workflow's own through ``log_event``), spans with W3C trace and span ids
(one per flow, one per node run under it, one per phase under that), and a
copy of the shared state before and after each node (jsonsafe.py says how
values are copied and bounded).

Recorder.take hands over what was recorded since it was last called, as
request bodies (payload.py), for delivery.py to send. No recording method
raises: trouble goes to the ``internal`` callback and the workflow goes on.
"""

import logging
import platform
import threading
import time
import traceback
import unicodedata

from . import payload
from ._version import __version__
from .ids import ids

log = logging.getLogger("agora_cloud")

# An identifier the server accepts is 1..65,536 bytes without control or
# format characters; longer names are cut to this many characters.
_NAME_CHARS = 1000


def error_object(exc, phase=None, with_traceback=False):
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


def status_for(exc):
    """The final status and error of a run that ended with exc (None: it
    did not raise): cancelled for Ctrl-C."""
    if exc is None:
        return "success", None
    return ("cancelled" if isinstance(exc, KeyboardInterrupt) else "error"), exc


class Names:
    """Names as the server accepts them, each cleaned once (up to 10,000
    are remembered)."""

    def __init__(self):
        self._names = {}

    def clean(self, text):
        """Text, without control or format characters (each becomes
        U+FFFD), cut to _NAME_CHARS; None stays."""
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


class NodeRun:
    """One node execution being recorded. It is also the ``_observer`` a
    Node tells of failed attempts (framework.py)."""

    __slots__ = ("recorder", "id", "name", "type", "node_id", "status", "marks", "end", "retries",
                 "action", "error", "span_id", "parent_span_id")

    def __init__(self, recorder, name, type_, node_id, parent_span_id):
        self.recorder = recorder
        self.id = ids.uuid4()
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
        self.span_id = ids.span_id()
        self.parent_span_id = parent_span_id

    def attempt_failed(self, exc, attempt, last, wait):
        self.recorder.attempt_failed(self, exc, attempt, last, wait)

    def fell_back(self, exc):
        self.recorder.fell_back(self, exc)


class Recorder:
    """What was recorded of one execution (guarded by one lock), and what of
    it was handed over for delivery.

    names: the Names that cleaned the session id. workflow_id,
    execution_id, session_id, trace_id: the execution's. live: the first
    payload goes out at once. metadata: the caller's dict (copied, with the
    client's name and version added). copier, data_copier: the jsonsafe
    Copiers of the shared state and of event data. capture_state: take the
    snapshots. max_payload: the largest request body. poke(): something was
    recorded (the live sender wakes). internal(where): a recording method
    failed.
    """

    def __init__(self, *, names, workflow_id, execution_id, session_id, trace_id, live, metadata,
                 copier, data_copier, capture_state, max_payload, poke, internal):
        self._names = names
        self.workflow_id = workflow_id
        self.execution_id = execution_id
        self.session_id = session_id
        self.trace_id = trace_id
        self.live = live
        self._copier = copier
        self._data_copier = data_copier
        self._capture_state = capture_state
        self._max_payload = max_payload
        self._poke = poke
        self._internal = internal

        self._t0_ns = time.time_ns()
        self._t0 = time.perf_counter()
        self.node_ids = {}  # node name -> the workflow node's id (set_node_id_mapping)
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
        self.flow_error = None  # the exception a flow raised, for the status at exit

        # What was handed over for delivery (guarded by _lock): everything
        # before these indexes, and every run not in _dirty.
        self._dirty = {}
        self._sent = {"events": 0, "spans": 0, "snapshots": 0}
        self._announced = False
        self.final_taken = False  # the final payload was handed over: nothing more goes
        self._late_warned = False

    @property
    def completed(self):
        """True once the final status is set."""
        return self._completed_at is not None

    @property
    def recorded_anything(self):
        """True once a node ran or an event was recorded."""
        return bool(self._runs or self._events)

    # ------------------------------------------------------------ the run

    def log_event(self, event_type, node_name, data):
        """An event of the workflow's own (CloudAuditLogger.log_event)."""
        try:
            t = time.perf_counter()
            with self._lock:
                if node_name is None and self._runs and self._runs[-1].end is None:
                    node_name = self._runs[-1].name
                copied = self._data_copier.copy(data)[0]
                self._events.append((self._names.clean(event_type), t, self._names.clean(node_name), copied))
            self._poke()
        except Exception:
            self._internal("log_event")

    def complete(self, status, error):
        """Sets the final status once; False when it was already set."""
        with self._lock:
            if self._completed_at is not None:
                return False
            self._completed_at = time.perf_counter()
            self._status = status
            if isinstance(error, BaseException):
                error = error_object(error)
            elif error is None and status == "error":
                error = self._last_error
            self._error = self._data_copier.copy(error)[0] if error is not None else None
            return True

    def node_begin(self, node, shared, reuse_state):
        """A node starts: returns its NodeRun, or None when recording failed
        (then the node runs unrecorded)."""
        try:
            t = time.perf_counter()
            name = self._names.clean(node.name)
            with self._lock:
                parent = self._span_stack[-1][0] if self._span_stack else None
                run = NodeRun(self, name, type(node).__name__, self.node_ids.get(name), parent)
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

    def attempt_failed(self, run, exc, attempt, last, wait):
        try:
            if last:
                return  # the node's end says it
            t = time.perf_counter()
            with self._lock:
                run.retries += 1
                self._events.append(("node_retry", t, run.name, {
                    "attempt": attempt + 1, "error": error_object(exc), "wait_s": wait}))
        except Exception:
            self._internal("retry")

    def fell_back(self, run, exc):
        try:
            t = time.perf_counter()
            with self._lock:
                self._events.append(("node_fallback", t, run.name, {"error": error_object(exc)}))
        except Exception:
            self._internal("fallback")

    def node_end(self, run, shared, action, exc, phase):
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
                    run.error = error_object(exc, phase)
                    self._last_error = run.error
                    self._events.append(("node_error", t, run.name, {
                        "error": error_object(exc, phase, with_traceback=True),
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

    def transition(self, src, dst, action):
        try:
            t = time.perf_counter()
            name = self._names.clean(src.name)
            with self._lock:
                self._events.append(("flow_transition", t, name, {
                    "from": name, "to": self._names.clean(dst.name), "action": self._action(action)}))
        except Exception:
            self._internal("transition")

    def flow_begin(self, flow):
        """A flow starts; returns the token flow_end takes."""
        try:
            t = time.perf_counter()
            name = self._names.clean(flow.name)
            with self._lock:
                parent = self._span_stack[-1][0] if self._span_stack else None
                token = (ids.span_id(), parent, name, t, type(flow).__name__)
                self._span_stack.append(token)
                self._events.append(("flow_start", t, None, {"flow": name, "flow_type": token[4]}))
            self._poke()
            return token
        except Exception:
            self._internal("flow start")
            return None

    def flow_end(self, token, result, exc):
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
                    self.flow_error = exc
                    self._events.append(("flow_error", t, None, {
                        "flow": name, "error": error_object(exc), "duration_ms": ms}))
                self._spans.append((span_id, parent, name, start, t, "ok" if exc is None else "error",
                                    {"flow_type": flow_type}, None))
            self._poke()
        except Exception:
            self._internal("flow end")

    # ------------------------------------------------------------ helpers

    def _action(self, action):
        return "default" if action is None or action == "" else self._names.clean(action)

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
            spans.append((ids.span_id(), run.span_id, f"{run.name}.{phase}", m[i], m[i + 1],
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

    def take(self, final):
        """Hands over what was recorded since the last call, as request
        bodies (the last one final when final and the final status is
        set). Returns [(body, is_final)]."""
        with self._lock:
            if self.final_taken:
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
                self.final_taken = True
            head = self._head()
        items = {
            "node_executions": runs,
            "telemetry_spans": [self._span_item(s) for s in taken["spans"]],
            "telemetry_events": [self._event_item(e) for e in taken["events"]],
            "shared_state_snapshots": [self._snapshot_item(s) for s in taken["snapshots"]],
        }
        bodies = payload.bodies(head, fields, items, self._max_payload)
        return [(b, closing and i == len(bodies) - 1) for i, b in enumerate(bodies)]
