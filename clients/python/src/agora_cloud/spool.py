"""The durable spool: ingest bodies that could not be delivered yet, one
file each, until this client or ``agora-upload --drain DIR`` delivers them.

Format (shared with agora-upload): a file ``DIR/<name>.json`` holds exactly
one ingest request body. Its Idempotency-Key is the lowercase hex SHA-256
of the file's bytes, so whoever sends it, however often, the server stores
it once. Names start with a UTC time and sort in the order the bodies were
written, which is the order they must be sent in: the appends of a live run
build on each other, and a final status closes the execution to later ones.

A file appears whole or not at all: it is written under a hidden temporary
name in the same directory, fsynced, renamed, and the directory fsynced.
Files the server will never accept (422 and the like) are moved to
``DIR/rejected/`` for a person to look at; nothing sends them again.

Whoever drains holds an exclusive flock(2) on ``DIR/.lock``, so two
drainers never send the same file at the same time.
"""

import contextlib
import itertools
import json
import logging
import os
import threading
import time

try:
    import fcntl
except ImportError:  # not POSIX: no lock, the idempotency key still holds
    fcntl = None

log = logging.getLogger("agora_cloud")

_TMP_PREFIX = ".tmp-"
_STALE_TMP_SECONDS = 3600
_FINAL = ("success", "error", "cancelled")

_clock_lock = threading.Lock()
_last_stamp = 0
_counter = itertools.count()


def default_dir():
    """AGORA_SPOOL_DIR, else $XDG_STATE_HOME/agora-cloud/spool (by default
    ~/.local/state/agora-cloud/spool)."""
    explicit = os.environ.get("AGORA_SPOOL_DIR")
    if explicit:
        return explicit
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state, "agora-cloud", "spool")


def _stamp():
    """Nanoseconds since the epoch, strictly increasing within the process
    even when the wall clock steps back, so names keep the writing order."""
    global _last_stamp
    with _clock_lock:
        _last_stamp = max(time.time_ns(), _last_stamp + 1)
        return _last_stamp


def _name(execution_id):
    ns = _stamp()
    sec, frac = divmod(ns, 1_000_000_000)
    when = time.strftime("%Y%m%dT%H%M%S", time.gmtime(sec)) + ".%09dZ" % frac
    return f"{when}-{execution_id or 'payload'}-{os.getpid()}-{next(_counter)}.json"


def _fsync_dir(directory):
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(directory, flags)
    except OSError:
        return  # a platform that cannot open directories has nothing to sync
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path, data, mode=0o600):
    """Writes data to path so that path holds either its old content or all
    of data, even across a crash: temporary file in the same directory,
    fsync, rename, fsync of the directory. Raises OSError."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f"{_TMP_PREFIX}{os.getpid()}-{next(_counter)}-{os.path.basename(path)}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.close(fd)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def parse(body):
    """(execution_id or None, final) of a spooled body; (None, False) when
    it is not a JSON object (the server will say what is wrong with it)."""
    try:
        doc = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None, False
    if not isinstance(doc, dict):
        return None, False
    return doc.get("execution_id"), doc.get("status") in _FINAL


class Spool:
    """One spool directory. Created (mode 0700: payloads may hold anything
    the workflow did) when first written to."""

    def __init__(self, directory=None):
        self.dir = os.path.abspath(directory or default_dir())
        self.rejected_dir = os.path.join(self.dir, "rejected")

    def _ensure(self, directory):
        os.makedirs(directory, mode=0o700, exist_ok=True)

    def put(self, body, execution_id=None):
        """Writes one body durably; returns its path. Raises OSError."""
        self._ensure(self.dir)
        path = os.path.join(self.dir, _name(execution_id))
        write_atomic(path, body)
        return path

    def put_rejected(self, body, execution_id=None):
        """Keeps a body the server refused for good, for a person to read."""
        self._ensure(self.rejected_dir)
        path = os.path.join(self.rejected_dir, _name(execution_id))
        write_atomic(path, body)
        return path

    def pending(self):
        """Paths of the spooled bodies, oldest first. Temporary files left
        by a crash more than an hour ago are removed on the way."""
        try:
            entries = list(os.scandir(self.dir))
        except FileNotFoundError:
            return []
        paths = []
        now = time.time()
        for e in entries:
            if e.name.endswith(".json") and not e.name.startswith(".") and e.is_file():
                paths.append(e.path)
            elif e.name.startswith(_TMP_PREFIX):
                with contextlib.suppress(OSError):
                    if now - e.stat().st_mtime > _STALE_TMP_SECONDS:
                        os.unlink(e.path)
        return sorted(paths)

    def remove(self, path):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        _fsync_dir(self.dir)

    def reject(self, path):
        """Moves a spooled body to rejected/; returns its new path."""
        self._ensure(self.rejected_dir)
        target = os.path.join(self.rejected_dir, os.path.basename(path))
        os.replace(path, target)
        _fsync_dir(self.rejected_dir)
        _fsync_dir(self.dir)
        return target

    @contextlib.contextmanager
    def _locked(self):
        """Yields True while this process holds the drain lock, False when
        another drainer has it (then this one leaves the files alone)."""
        if fcntl is None or not os.path.isdir(self.dir):
            yield True
            return
        fd = os.open(os.path.join(self.dir, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # closing releases the lock

    def drain(self, send):
        """Sends the spooled bodies in order with send(body, final) ->
        transport.Outcome, removing each one stored. Stops at the first
        that fails for a transient reason (the server is away: the rest
        would fail too); a body that fails for another reason (credential,
        workflow not visible) stays, and so do the later bodies of its
        execution, whose order matters. Returns the number delivered, or
        None when another drainer holds the lock."""
        delivered = 0
        with self._locked() as mine:
            if not mine:
                return None
            held = set()
            for path in self.pending():
                try:
                    with open(path, "rb") as f:
                        body = f.read()
                except FileNotFoundError:
                    continue  # delivered by a drainer that takes no lock
                execution_id, final = parse(body)
                if execution_id is not None and execution_id in held:
                    continue
                out = send(body, final)
                name = os.path.basename(path)
                if out.kind == "ok":
                    self.remove(path)
                    delivered += 1
                elif out.kind == "reject":
                    target = self.reject(path)
                    log.error("agora_cloud: the server refused spooled telemetry %s for good (%s); "
                              "moved to %s", name, out.message, target)
                elif out.transient:
                    log.debug("agora_cloud: spool drain stopped at %s: %s", name, out.message)
                    break
                else:
                    held.add(execution_id)
                    log.error("agora_cloud: spooled telemetry %s not delivered (%s); it stays in %s",
                              name, out.message, self.dir)
        return delivered
