"""The ids a recording chooses itself: node execution ids (version 4 UUIDs)
and W3C trace context span ids, from the system's cryptographic source, as
the server asks ids to be chosen. ``ids`` is the one source of the process.
"""

import os
import threading


class RandomIds:
    """Random ids fetched 4 KiB at a time: one getrandom(2) serves a hundred
    nodes. A forked child starts a fresh buffer, so it never repeats its
    parent's ids."""

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


ids = RandomIds()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=ids._reset)
