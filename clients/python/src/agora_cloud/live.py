"""The sender of a live run (``CloudAuditLogger(live=True)``): a background
thread that sends the execution as ``running`` at once, then what each node
adds as it starts and finishes. It sends when poked, at most every
``interval`` seconds, so what happens in between goes out merged in one
payload; the last payload, with the final status, is the logger's upload.
"""

import threading
import time


class LiveSender:
    """Calls send() on a daemon thread each time it is poked (at most every
    interval seconds); internal(where) hears of a send that raised."""

    def __init__(self, send, interval, internal):
        self._send = send
        self._interval = interval
        self._internal = internal
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="agora-cloud-live", daemon=True)

    def start(self):
        """Starts the thread and sends at once (the execution, as running)."""
        self._thread.start()
        self._wake.set()

    def poke(self):
        """Something was recorded: send soon."""
        self._wake.set()

    def stop(self):
        """Ends the thread (after the send in hand and its pause, if any)."""
        self._stopping = True
        self._wake.set()

    def _loop(self):
        while True:
            self._wake.wait()
            if self._stopping:
                return
            self._wake.clear()
            try:
                self._send()
            except Exception:
                self._internal("live delivery")
            time.sleep(self._interval)
