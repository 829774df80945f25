"""CloudAuditLogger: records one execution of a workflow and delivers it to
Agora Cloud.

The logger holds the execution's identity and settings and joins three
parts: the recorder (recorder.py: node runs, events, spans and shared-state
snapshots, and the payload items made of them), the delivery (delivery.py:
the transport, the spool, backing off), and, for a live run, the live
sender (live.py). audited.py tells it of each node and flow through the
``_node_*`` and ``_flow_*`` methods.

How it delivers: the execution has a client-chosen id from the start
(``execution_id``), so delivery is a series of ingest payloads that each
add what was recorded since the last one (live runs, README). With
``live=False`` that is one payload at ``mark_complete``/``upload``; with
``live=True`` a background thread sends the execution as ``running`` at
once and then each node as it starts and finishes (at most every
``live_interval`` seconds, merging what happened in between), and the last
payload carries the final status. Whatever cannot be delivered goes to the
spool (spool.py) and is sent again, in order, by the next delivery or by
``agora-upload --drain``. A logger whose run was not completed is
delivered as it stands at interpreter exit.

Telemetry never breaks the workflow: no method called while the workflow
runs raises (trouble is logged on the ``agora_cloud`` logger), and the
workflow's own exceptions pass through unchanged. Only wrong arguments to
the constructor, ``mark_complete`` and ``set_node_id_mapping`` raise
(ValueError, TypeError), before any workflow code depends on them.
"""

import atexit
import logging
import os
import uuid
import weakref

from . import payload
from .delivery import Delivery
from .ids import ids
from .jsonsafe import DEFAULT_REDACT, Copier
from .live import LiveSender
from .recorder import Names, Recorder, status_for
from .spool import Spool, write_atomic
from .transport import Transport

log = logging.getLogger("agora_cloud")

FINAL_STATUSES = ("success", "error", "cancelled")


def _check_uuid(value, what):
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValueError(f"{what} must be a UUID, not {value!r}") from None


def _nothing():
    pass


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
        names = Names()
        if session_id is not None and not str(session_id):
            raise ValueError("session_id must not be empty")
        self.session_id = names.clean(session_id) if session_id is not None else str(uuid.uuid4())
        self.workflow_id = _check_uuid(workflow_id, "workflow_id")
        self.execution_id = str(uuid.uuid4())
        self.trace_id = ids.span_id() + ids.span_id()
        self.auto_upload = bool(auto_upload)
        self.live = bool(live)
        self._transport = Transport(api_url, api_key or access_token, timeout, ca_file)
        self.api_url = self._transport.base
        self._spool = Spool(spool_dir)
        self.spool_dir = self._spool.dir
        capture_state = bool(capture_state)
        copier = Copier(snapshot_max_bytes, redact=redact_keys)
        data_copier = Copier(max(1024, snapshot_max_bytes // 4), redact=redact_keys)
        max_payload = int(max_payload_bytes)
        live_interval = float(live_interval)

        self._said = set()  # the internal errors logged (once each)
        self._live = LiveSender(self._send_live, live_interval, self._internal) if self.live else None
        self._recorder = Recorder(
            names=names, workflow_id=self.workflow_id, execution_id=self.execution_id,
            session_id=self.session_id, trace_id=self.trace_id, live=self.live, metadata=metadata,
            copier=copier, data_copier=data_copier, capture_state=capture_state, max_payload=max_payload,
            poke=self._live.poke if self._live else _nothing, internal=self._internal)
        self._delivery = Delivery(self._transport, self._spool, self.execution_id, self._recorder.take)
        _loggers.add(self)
        if self._live:
            self._live.start()  # creates the execution as running now

    # ------------------------------------------------------------ public

    def set_node_id_mapping(self, node_name, node_id):
        """Sends node_name's runs with this workflow node id. Optional: the
        server finds (or creates) the workflow's node by name."""
        self._recorder.node_ids[str(node_name)] = _check_uuid(node_id, "node_id")

    def log_event(self, event_type, node_name=None, **data):
        """Records an event of your own (its data is copied like the shared
        state, smaller). node_name defaults to the node running now."""
        self._recorder.log_event(event_type, node_name, data)

    def mark_complete(self, status="success", error=None):
        """Ends the execution with status success, error or cancelled (and an
        error: text, an exception or a dict); uploads when auto_upload."""
        if status not in FINAL_STATUSES:
            raise ValueError(f"status must be one of {', '.join(FINAL_STATUSES)}, not {status!r}")
        if not self._recorder.complete(status, error):
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
            self._delivery.flush(final=self._recorder.completed, force=True)
            if self._recorder.final_taken:
                self._stop_live()
                self._delivery.close()  # nothing more to send on it
        except Exception:
            self._internal("upload")
            return None
        return self.execution_id if self._delivery.delivered_ok else None

    def to_payload(self):
        """The whole execution so far as one ingest payload (a dict)."""
        return self._recorder.to_payload()

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
        if not self._recorder.completed:
            self.mark_complete(*status_for(exc))
        return False

    # ------------------------------------------------------------ what audited.py calls

    def _node_begin(self, node, shared, reuse_state):
        """A node starts: returns its NodeRun, or None (it runs unrecorded)."""
        return self._recorder.node_begin(node, shared, reuse_state)

    def _node_end(self, run, shared, action, exc, phase):
        """A node ends: with its action, or with exc raised in phase."""
        self._recorder.node_end(run, shared, action, exc, phase)

    def _transition(self, src, dst, action):
        self._recorder.transition(src, dst, action)

    def _flow_begin(self, flow):
        """A flow starts; returns the token _flow_end takes."""
        return self._recorder.flow_begin(flow)

    def _flow_end(self, token, result, exc):
        self._recorder.flow_end(token, result, exc)

    # ------------------------------------------------------------ delivery, exit

    def _take(self, final):
        """What the next delivery would send: [(body, is_final)] (recorder.py)."""
        return self._recorder.take(final)

    def _send_live(self):
        self._delivery.flush(final=False)

    def _stop_live(self):
        if self._live is not None:
            self._live.stop()

    def _internal(self, where):
        if where not in self._said:
            self._said.add(where)
            log.exception("agora_cloud: internal error while recording (%s); the workflow goes on", where)

    def _at_exit(self):
        """At interpreter exit: a run that was not completed is delivered as
        it stands (with the error, or cancelled for Ctrl-C, when a flow
        raised; still running otherwise, which the server shows as stale)."""
        try:
            if self._recorder.final_taken or not (self.auto_upload or self.live):
                return
            if not (self.live or self._recorder.recorded_anything):
                return
            if self._recorder.flow_error is not None:
                self._recorder.complete(*status_for(self._recorder.flow_error))
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
