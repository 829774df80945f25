"""Ingest request bodies: timestamps, the JSON encoding the server accepts,
and the split of one execution's items into bodies of bounded size.

Each body is exactly what POST /api/executions/ingest takes (CONTRACT.md
section 4) and what a spool file holds. Bodies are assembled from encoded
bytes, so a body's size is known exactly while it is filled: a long run becomes several appends to the same
client-chosen execution_id, each under ``max_bytes``, the last one carrying
the final status. Most deliveries fit one body; then each item list is
encoded whole, which is faster.
"""

import json
import re
import time

# The four item lists of a payload, in the order a body carries them.
SECTIONS = ("node_executions", "telemetry_spans", "telemetry_events", "shared_state_snapshots")

# The server takes at most this many items of each kind per payload
# (AGORA_MAX_ITEMS' default).
MAX_ITEMS = 100000

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_NUL_ESCAPE = re.compile(r"(\\+)u0000")


_second_text = {}


def iso(ns):
    """RFC 3339 UTC with microseconds (what the server stores) for a time
    in nanoseconds since the epoch."""
    sec, frac = divmod(ns, 1_000_000_000)
    prefix = _second_text.get(sec)
    if prefix is None:
        # A run stamps many items within the same second: format it once.
        if len(_second_text) > 4096:
            _second_text.clear()
        prefix = _second_text[sec] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
    return "%s.%06dZ" % (prefix, frac // 1000)


def _no_nul(match):
    """An escaped NUL (odd run of backslashes before u0000) becomes U+FFFD;
    an escaped backslash followed by the text u0000 stays."""
    slashes = match.group(1)
    if len(slashes) % 2 == 0:
        return match.group(0)
    return slashes[:-1] + "\ufffd"


def encode(value):
    """value as compact UTF-8 JSON the ingest API accepts.

    The API refuses NUL anywhere (PostgreSQL cannot store it) and invalid
    UTF-8; Python text may hold both (a NUL, an unpaired surrogate from a
    surrogateescape'd file name). Both become U+FFFD here, once for the
    whole text, so no caller has to check its strings."""
    text = _encoder.encode(value)
    if "\\u0000" in text:
        text = _NUL_ESCAPE.sub(_no_nul, text)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")


def bodies(head, final, items, max_bytes, max_items=MAX_ITEMS):
    """The request bodies for one delivery, in sending order.

    head: execution fields every body carries (workflow_id, execution_id,
    session_id, started_at, and status "running"), as a dict.
    final: fields only the last body carries (the final status,
    completed_at, duration_ms, error, metadata), merged over head; may be
    empty.
    items: {section: [item dicts]} (see SECTIONS).
    Each body stays under max_bytes when its items allow (a single item
    larger than that still goes, alone) and holds at most max_items of
    each kind. Returns a list of bytes; empty when there is nothing to
    send (no items and no final fields)."""
    names = [n for n in SECTIONS if items.get(n)]
    if not names and not final:
        return []
    open_ = encode(head)[:-1]
    last = encode({**head, **final})[:-1] if final else open_
    # Usually everything fits one body: encode each list whole.
    if all(len(items[n]) <= max_items for n in names):
        whole = [(n, encode(items[n])) for n in names]
        if len(last) + sum(len(n) + 4 + len(text) for n, text in whole) + 1 <= max_bytes:
            return [_assemble(last, ((n, memoryview(text)[1:-1]) for n, text in whole))]
    # Else each item on its own, so the split knows every size.
    reserve = max(len(open_), len(last)) + 2 + sum(len(n) + 6 for n in SECTIONS)
    chunks = []
    cur = {}
    size = reserve
    for name in names:
        for item in items[name]:
            data = encode(item)
            full = size + len(data) + 1 > max_bytes or len(cur.get(name, ())) >= max_items
            if full and cur:
                chunks.append(cur)
                cur = {}
                size = reserve
            cur.setdefault(name, []).append(data)
            size += len(data) + 1
    chunks.append(cur)
    return [_assemble(last if i == len(chunks) - 1 else open_,
                      ((n, b",".join(chunk[n])) for n in SECTIONS if n in chunk))
            for i, chunk in enumerate(chunks)]


def _assemble(opening, sections):
    """A body: the execution fields' object without its closing brace,
    then each (section name, its items joined by commas). One join, so
    megabytes of items are copied once."""
    parts = [opening]
    for name, joined in sections:
        parts += (b',"', name.encode(), b'":[', joined, b"]")
    parts.append(b"}")
    return b"".join(parts)
