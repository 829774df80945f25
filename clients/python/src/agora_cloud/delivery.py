"""Delivering one execution's payloads to Agora Cloud, one delivery at a
time.

The execution has a client-chosen id from the start, so delivery is a
series of ingest payloads that each add what was recorded since the last
one (recorder.py hands them over; live runs, README). Each is sent by the
transport (transport.py); whatever cannot be delivered goes to the spool
(spool.py) and is sent again, in order, by the next delivery or by
``agora-upload --drain``. A payload the server refuses for good is set
aside in the spool's rejected folder and never sent again. After a
failure the network is left alone for a while (doubling from 1 s up to
60 s), except by a forced delivery. Trouble is logged on the
``agora_cloud`` logger, each kind once.
"""

import logging
import os
import threading
import time

log = logging.getLogger("agora_cloud")


class Delivery:
    """Sends what take(final) hands over ([(body, is_final)]) through
    transport, keeping what cannot be sent in spool. execution_id names
    the execution in messages."""

    def __init__(self, transport, spool, execution_id, take):
        self._transport = transport
        self._spool = spool
        self._execution_id = execution_id
        self._take = take
        # Guarded by _lock: one delivery at a time.
        self._lock = threading.Lock()
        self._own_spooled = []
        self._backlog = []
        self._retry_at = 0.0
        self._backoff = 0.0
        self._drained = False
        self.delivered_ok = False  # the last delivery left nothing spooled, kept or refused
        self._refused = False
        self._said = set()

    def flush(self, final, force=False):
        """Delivers what take hands over. force (an explicit upload, the
        last one at exit) tries the network even while backing off after a
        failure, and drains the spool first."""
        with self._lock:
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
            self.delivered_ok = ok and not self._refused and not self._own_spooled and not self._backlog

    def close(self):
        """Closes the transport's connection: nothing more is to be sent."""
        with self._lock:
            self._transport.close()

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
            log.info("agora_cloud: execution %s: payload %s", self._execution_id,
                     "replayed" if out.replayed else out.message)
            return True
        if out.kind == "reject":
            self._refused = True
            where = "not kept"
            try:
                where = f"kept in {self._spool.put_rejected(body, self._execution_id)}"
            except OSError as exc:
                where = f"could not be kept ({exc})"
            log.error("agora_cloud: the server refused telemetry of execution %s (%s); the payload is %s "
                      "and will not be sent again", self._execution_id, out.message, where)
            return True
        self._backoff = min(60.0, max(1.0, self._backoff * 2))
        self._retry_at = time.monotonic() + self._backoff
        level = logging.WARNING if out.transient else logging.ERROR
        if "fail" not in self._said:
            self._said.add("fail")
            log.log(level, "agora_cloud: telemetry of execution %s not delivered (%s); it is kept in %s "
                    "and sent again by the next upload or by agora-upload --drain",
                    self._execution_id, out.message, self._spool.dir)
        return False

    def _keep(self, body, is_final):
        """Spools a body (or, when the spool cannot be written, keeps it in
        memory for the next delivery)."""
        try:
            self._own_spooled.append(self._spool.put(body, self._execution_id))
        except OSError as exc:
            self._backlog.append((body, is_final))
            self._say("spool", f"agora_cloud: cannot write the spool {self._spool.dir} ({exc}); "
                               "telemetry is kept in memory only")

    def _say(self, key, message):
        """Logs an error once per kind of trouble."""
        if key not in self._said:
            self._said.add(key)
            log.error("%s", message)
