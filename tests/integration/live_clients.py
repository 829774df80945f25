"""Live monitoring clients for the integration tests (docs/LIVE.md), over
raw TLS sockets so that every byte on the wire is ours:

  HttpStream   one HTTP/1.1 request on its own TLS connection; the answer's
               status and headers, then its body at once (read_body) or
               piece by piece (read_some: chunked or plain)
  SSEClient    GET with Accept: text/event-stream; next_event(timeout)
               gives the `id:`/`data:` events one by one as they arrive
  WSClient     an RFC 6455 client: handshake (optionally the ws+meta.nchan
               subprotocol), masked frames, text/ping/pong/close frames,
               and send_raw / send_frame(..., mask=False, length=...) for
               frames a correct client never sends

A refused subscription (no 200 / no 101) leaves .status, .headers and
.body (and .json()) to look at; the stream is then closed.
"""
import base64
import datetime
import hashlib
import json
import os
import socket
import ssl
import struct
import time

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class Closed(Exception):
    """The server ended the stream: a close frame (code, reason) or EOF."""

    def __init__(self, code=None, reason=""):
        super().__init__(f"closed (code {code}, {reason!r})")
        self.code = code
        self.reason = reason


def micros_to_time(us):
    """The API's text (agora.rfc3339) of a time given in microseconds
    since the epoch."""
    t = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(microseconds=us)
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}.{t.microsecond:06d}Z"


def decode_rows(body):
    """The messages of a project channel's rows frame, as docs/LIVE.md
    section 3 says a client builds them: for each row a message
    {"type": "execution"} with each column's value at its path ("a.b":
    member b of member a); a column named "<name>:us" holds microseconds
    since the epoch (or, far from it, the API's text) and gives <name>
    the API's text. Every row has a value for every column."""
    assert set(body) == {"type", "columns", "rows"}, body
    columns = body["columns"]
    assert all(isinstance(c, str) and c for c in columns) and len(set(columns)) == len(columns), columns
    out = []
    for row in body["rows"]:
        assert isinstance(row, list) and len(row) == len(columns), (columns, row)
        msg = {"type": "execution"}
        for column, value in zip(columns, row):
            keys = column.split(".")
            if keys[-1].endswith(":us"):
                keys[-1] = keys[-1][:-3]
                if isinstance(value, int):
                    value = micros_to_time(value)
            at = msg
            for k in keys[:-1]:
                at = at.setdefault(k, {})
            at[keys[-1]] = value
        out.append(msg)
    return out


class Message:
    """One live message: its id (None when the transport gave none) and
    its data (the text of one JSON object)."""

    def __init__(self, id, data):
        self.id = id
        self.data = data

    def json(self):
        return json.loads(self.data)

    def messages(self):
        """The ingest messages it holds, in order: a project channel's
        rows ({"type": "rows", "columns": [...], "rows": [[...], ...]},
        docs/LIVE.md section 3) one per row (decode_rows), any other
        message itself."""
        body = self.json()
        return decode_rows(body) if body.get("type") == "rows" else [body]

    def __repr__(self):
        return f"<Message id={self.id!r} {self.data[:120]!r}>"


def tls_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False  # the development certificate names localhost and 127.0.0.1
    return ctx


class HttpStream:
    """One request on a fresh TLS connection to 127.0.0.1:port. The
    response head is read by the constructor (.status, .headers: lower-case
    names); the body is left for read_body() or read_some()."""

    def __init__(self, port, ctx, method, path, headers=None, timeout=10, host="127.0.0.1"):
        raw = socket.create_connection((host, port), timeout=timeout)
        self.sock = ctx.wrap_socket(raw, server_hostname=host)
        self.buf = b""
        self.eof = False
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        self._read_head(timeout)
        self.body = b""

    # ------------------------------------------------------------ bytes

    def _fill(self, deadline):
        """Reads more bytes into buf before deadline (monotonic). False on
        timeout; sets eof on end of stream."""
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            return False
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _take_until(self, sep, deadline):
        while sep not in self.buf:
            if not self._fill(deadline):
                return None
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def _take(self, n, deadline):
        while len(self.buf) < n:
            if not self._fill(deadline):
                return None
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _read_head(self, timeout):
        head = self._take_until(b"\r\n\r\n", time.monotonic() + timeout)
        if head is None:
            raise Closed(None, f"no response head (got {self.buf[:200]!r})")
        lines = head.decode("latin-1").split("\r\n")
        self.status_line = lines[0]
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                k = k.strip().lower()
                self.headers[k] = f"{self.headers[k]}, {v.strip()}" if k in self.headers else v.strip()
        self.chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        self.remaining = int(self.headers["content-length"]) if "content-length" in self.headers else None
        self.chunk_left = 0

    # ------------------------------------------------------------ body

    def read_some(self, timeout):
        """The next body bytes that arrive within timeout seconds: b"" on
        timeout; raises Closed at the end of the body."""
        deadline = time.monotonic() + timeout
        if self.chunked:
            if self.chunk_left == 0:
                size_line = self._take_until(b"\r\n", deadline)
                if size_line is None:
                    if self.eof:
                        raise Closed(None, "end of stream inside a chunked body")
                    return b""
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    self._take_until(b"\r\n", deadline)
                    raise Closed(None, "end of chunked body")
                self.chunk_left = size + 2  # with its CRLF
            if not self.buf and not self._fill(deadline):
                if self.eof:
                    raise Closed(None, "end of stream inside a chunk")
                return b""
            before = self.chunk_left
            n = min(before, len(self.buf))
            out, self.buf = self.buf[:n], self.buf[n:]
            self.chunk_left -= n
            # Leave out the bytes of the chunk's trailing CRLF read now.
            crlf = max(0, 2 - self.chunk_left) - max(0, 2 - before)
            return out[:len(out) - crlf]
        if self.remaining == 0:
            raise Closed(None, "end of body")
        if not self.buf and not self._fill(deadline):
            if self.eof:
                raise Closed(None, "end of stream")
            return b""
        n = len(self.buf) if self.remaining is None else min(self.remaining, len(self.buf))
        out, self.buf = self.buf[:n], self.buf[n:]
        if self.remaining is not None:
            self.remaining -= n
        return out

    def read_body(self, timeout=10):
        """The whole body (until its length, last chunk or EOF)."""
        deadline = time.monotonic() + timeout
        out = b""
        try:
            while time.monotonic() < deadline:
                out += self.read_some(deadline - time.monotonic())
        except Closed:
            pass
        self.body = out
        return out

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def refused(stream):
    """Reads a refusal's body and closes the connection; returns stream."""
    stream.read_body(timeout=5)
    stream.close()
    return stream


class Subscription:
    """What the two clients share: the refusal's JSON, events(), close()."""

    def json(self):
        return self.stream.json()

    def events(self, n, timeout):
        """Up to n messages, each within timeout seconds of the previous
        one; fewer when the stream goes quiet."""
        out = []
        for _ in range(n):
            e = self.next_event(timeout)
            if e is None:
                break
            out.append(e)
        return out

    def close(self):
        self.stream.close()


class SSEClient(Subscription):
    """GET path with Accept: text/event-stream. When the answer is 200,
    next_event() reads events as they come; otherwise .status/.body/.json()
    hold the refusal and the connection is closed."""

    def __init__(self, port, ctx, path, last_event_id=None, timeout=10):
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self.stream = HttpStream(port, ctx, "GET", path, headers, timeout=timeout)
        self.status, self.headers = self.stream.status, self.stream.headers
        self.pending = b""
        self.body = b""
        if self.status != 200:
            self.body = refused(self.stream).body

    def next_event(self, timeout):
        """The next event carrying data within timeout seconds (comments and
        keep-alives are skipped), or None. Raises Closed when the server
        ends the stream."""
        deadline = time.monotonic() + timeout
        while True:
            pending = self.pending.replace(b"\r\n", b"\n")
            if b"\n\n" in pending:
                block, self.pending = pending.split(b"\n\n", 1)
                event = parse_sse_block(block.decode("utf-8"))
                if event is not None:
                    return event
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.pending = pending + self.stream.read_some(left)



def parse_sse_block(block):
    """One SSE event block -> Message, or None for a block without data."""
    event_id, data = None, []
    for line in block.split("\n"):
        if not line or line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "id":
            event_id = value
        elif field == "data":
            data.append(value)
    if not data:
        return None
    return Message(event_id, "\n".join(data))


class WSClient(Subscription):
    """An RFC 6455 client over TLS. After a 101 (.status == 101) frames flow;
    otherwise the refusal is in .status/.body/.json() and the connection is
    closed. subprotocol="ws+meta.nchan" asks nginx (Nchan) for frames that
    carry the message id."""

    def __init__(self, port, ctx, path, subprotocol=None, timeout=10, extra_headers=None):
        self.key = base64.b64encode(os.urandom(16)).decode()
        headers = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": self.key,
                   "Sec-WebSocket-Version": "13"}
        if subprotocol:
            headers["Sec-WebSocket-Protocol"] = subprotocol
        headers.update(extra_headers or {})
        self.subprotocol = subprotocol
        self.stream = HttpStream(port, ctx, "GET", path, headers, timeout=timeout)
        self.status, self.headers = self.stream.status, self.stream.headers
        self.body = b""
        self.closed = None
        if self.status != 101:
            self.body = refused(self.stream).body
            return
        expected = base64.b64encode(hashlib.sha1((self.key + WS_GUID).encode()).digest()).decode()
        if self.headers.get("sec-websocket-accept") != expected:
            raise AssertionError(f"bad Sec-WebSocket-Accept: {self.headers}")

    # ------------------------------------------------------------ sending

    def send_raw(self, data):
        self.stream.sock.sendall(data)

    def send_frame(self, opcode, payload=b"", fin=True, mask=True, rsv=0, length=None):
        """One frame. mask=False and length= (a length field that does not
        match the payload) make frames a correct client never sends."""
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        n = len(payload) if length is None else length
        head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
        mbit = 0x80 if mask else 0
        if n < 126:
            head += bytes([mbit | n])
        elif n < 65536:
            head += bytes([mbit | 126]) + struct.pack("!H", n)
        else:
            head += bytes([mbit | 127]) + struct.pack("!Q", n)
        if mask:
            m = os.urandom(4)
            head += m
            payload = bytes(b ^ m[i % 4] for i, b in enumerate(payload))
        self.send_raw(head + payload)

    def send_text(self, text):
        self.send_frame(OP_TEXT, text)

    def close(self, code=1000, reason=""):
        """Sends a close frame (if the connection still stands) and closes
        the socket."""
        if self.closed is None:
            try:
                self.send_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode())
            except OSError:
                pass
        self.stream.close()

    # ------------------------------------------------------------ receiving

    def recv_frame(self, timeout):
        """(fin, opcode, payload) of the next frame within timeout, or None.
        Raises Closed at EOF."""
        deadline = time.monotonic() + timeout
        s = self.stream
        head = s._take(2, deadline)
        if head is None:
            if s.eof:
                raise Closed(None, "end of stream")
            return None
        fin, opcode = bool(head[0] & 0x80), head[0] & 0x0F
        masked, n = bool(head[1] & 0x80), head[1] & 0x7F
        # The rest of a frame whose start arrived comes within a few seconds.
        rest_deadline = max(deadline, time.monotonic() + 5)
        if n == 126:
            n = struct.unpack("!H", s._take(2, rest_deadline))[0]
        elif n == 127:
            n = struct.unpack("!Q", s._take(8, rest_deadline))[0]
        if masked:
            raise AssertionError("the server sent a masked frame (RFC 6455 5.1)")
        payload = s._take(n, rest_deadline) if n else b""
        if payload is None:
            raise Closed(None, "end of stream inside a frame")
        return fin, opcode, payload

    def recv_message(self, timeout):
        """The next text (or binary) message within timeout seconds as a
        Message, or None. Pings are answered; a close frame is answered and
        raises Closed(code, reason)."""
        deadline = time.monotonic() + timeout
        parts, first_op = [], None
        while True:
            frame = self.recv_frame(max(0.0, deadline - time.monotonic()))
            if frame is None:
                return None
            fin, opcode, payload = frame
            if opcode == OP_PING:
                self.send_frame(OP_PONG, payload)
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.closed = (code, payload[2:].decode("utf-8", "replace"))
                try:
                    self.send_frame(OP_CLOSE, payload[:2])
                except OSError:
                    pass
                raise Closed(*self.closed)
            if opcode != OP_CONT:
                first_op = opcode
            parts.append(payload)
            if fin:
                return self._message(first_op, b"".join(parts))

    def _message(self, opcode, payload):
        text = payload.decode("utf-8")
        if self.subprotocol != "ws+meta.nchan":
            return Message(None, text)
        # "id: <id>\ncontent-type: <type>\n\n<data>"
        head, sep, data = text.partition("\n\n")
        if not sep:
            raise AssertionError(f"a ws+meta.nchan frame without its head: {text[:200]!r}")
        fields = dict(line.split(": ", 1) for line in head.split("\n") if ": " in line)
        return Message(fields.get("id"), data)

    def next_event(self, timeout):
        """Same name as SSEClient's, so a test can take either client."""
        return self.recv_message(timeout)

    def wait_closed(self, timeout):
        """True when the server ends the connection (close frame or EOF)
        within timeout seconds; messages arriving meanwhile are dropped."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                frame = self.recv_frame(deadline - time.monotonic())
            except Closed:
                return True
            except (AssertionError, struct.error, TypeError):
                return True  # cut off inside a frame
            if frame is not None and frame[1] == OP_CLOSE:
                payload = frame[2]
                self.closed = (struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None,
                               payload[2:].decode("utf-8", "replace"))
                return True
        return False
