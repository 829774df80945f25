"""A JSON-safe, size-bounded copy of any Python value: what a shared-state
snapshot, an event's data or an error becomes before it is recorded.

The copy is taken at the moment it is recorded, because the workflow keeps
mutating the shared dict afterwards. The rules, in the order they apply:

- Dict keys that match a redaction name (``password``, ``api_key``, ...,
  compared lowercased with ``-`` read as ``_``, and also as a ``_name``
  suffix such as ``openai_api_key``) keep their key; the value becomes
  ``"[redacted]"``.
- JSON values stay as they are: str, bool, None, finite floats, and ints
  that fit a double (the ingest API refuses numbers a double cannot hold).
  Larger ints become their decimal text; NaN and the infinities become
  ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.
- dict (and any Mapping) -> object, keys turned to text as ``json`` would
  (``1`` -> ``"1"``, ``None`` -> ``"null"``), other keys by ``repr``;
  list, tuple -> array; set, frozenset -> array, sorted when its items sort;
  dataclass instances -> object of their fields; Enum members -> their value;
  datetime, date, time -> ISO 8601 text; UUID, Decimal, paths -> ``str()``.
- Anything else becomes its ``repr()``, cut to 200 characters
  (``"<TypeName>"`` when repr itself fails).
- A container that contains itself becomes ``"<cycle>"``; nesting deeper
  than ``max_depth`` becomes ``"<nested deeper than N levels>"``.
- Size: the copy is about ``max_bytes`` of JSON at most. A string is cut to
  a quarter of that (``"...…[1234 more characters]"``); once the budget is
  spent, the rest of a dict is replaced by one key ``"…"`` saying how many
  keys were left out, and the rest of a list by one such item. The work
  done is bounded by the budget too, whatever the value holds.

NUL characters and unpaired surrogates are not handled here: the payload
encoder replaces them once for the whole body (payload.py).
"""

import dataclasses
import datetime
import decimal
import enum
import math
import pathlib
import uuid
from collections.abc import Mapping

REDACTED = "[redacted]"

# Key names whose values are secrets often enough to be left out of
# snapshots by default. "token" and "key" alone stay out of the list as
# suffixes would then match max_tokens-like counters; "_token" does not.
DEFAULT_REDACT = ("password", "passwd", "secret", "token", "api_key", "apikey",
                  "authorization", "cookie", "private_key", "credentials")

_MAX_DOUBLE = 1.7976931348623157e308
_REPR_CHARS = 200


def _cut(text, limit):
    """text, or its first limit characters and how many were left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[{len(text) - limit} more characters]"


def _safe_repr(value):
    try:
        return _cut(repr(value), _REPR_CHARS)
    except Exception:  # a broken __repr__ must not stop the snapshot
        return f"<{type(value).__name__}>"


class Copier:
    """Makes JSON-safe copies under one set of limits. Reuse one instance:
    it remembers which key names are redacted. Not thread-safe; each
    logger calls it under its own lock."""

    def __init__(self, max_bytes=65536, max_depth=32, redact=DEFAULT_REDACT):
        if max_bytes < 64:
            raise ValueError("max_bytes must be at least 64")
        self.max_bytes = int(max_bytes)
        self.max_string = max(64, self.max_bytes // 4)
        self.max_depth = int(max_depth)
        names = tuple(n.lower().replace("-", "_") for n in (redact or ()))
        self._redact = frozenset(names)
        self._suffixes = tuple("_" + n for n in names)
        self._redact_cache = {}
        self._budget = 0
        self._truncated = False
        self._on_path = set()

    def copy(self, value):
        """Returns (copy, truncated): the JSON-safe copy of value and
        whether any limit cut something out."""
        self._budget = self.max_bytes
        self._truncated = False
        self._on_path.clear()
        try:
            out = self._value(value, 0)
        except Exception as exc:  # e.g. a dict resized by another thread
            return f"<could not be copied: {type(exc).__name__}>", True
        return out, self._truncated

    # ------------------------------------------------------------ values

    def _value(self, v, depth):
        t = type(v)
        if t is str:
            return self._str(v)
        if t is bool or v is None:
            self._budget -= 5
            return v
        if t is int:
            self._budget -= 8
            return v if -_MAX_DOUBLE <= v <= _MAX_DOUBLE else self._str(str(v))
        if t is float:
            self._budget -= 8
            if math.isfinite(v):
                return v
            return "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")
        if t is dict:
            return self._mapping(v, v.items(), len(v), depth)
        if t is list or t is tuple:
            return self._sequence(v, v, len(v), depth)
        return self._other(v, depth)

    def _other(self, v, depth):
        """Everything that is not exactly a JSON type: subclasses first
        (they are their base's value), then the conversions above."""
        if isinstance(v, enum.Enum):
            return self._value(v.value, depth)
        if isinstance(v, bool):
            return self._value(bool(v), depth)
        if isinstance(v, str):
            return self._str(str.__str__(v))
        if isinstance(v, int):
            return self._value(int(v), depth)
        if isinstance(v, float):
            return self._value(float(v), depth)
        if isinstance(v, Mapping):
            return self._mapping(v, v.items(), len(v), depth)
        if isinstance(v, (list, tuple)):
            return self._sequence(v, v, len(v), depth)
        if isinstance(v, (set, frozenset)):
            try:
                items = sorted(v)
            except Exception:  # mixed or unorderable items keep set order
                items = list(v)
            return self._sequence(v, items, len(items), depth)
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            fields = [(f.name, getattr(v, f.name, None)) for f in dataclasses.fields(v)]
            return self._mapping(v, fields, len(fields), depth)
        if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
            return self._str(v.isoformat())
        if isinstance(v, (uuid.UUID, decimal.Decimal, pathlib.PurePath)):
            return self._str(str(v))
        return self._str(_safe_repr(v))

    def _str(self, s):
        limit = min(self.max_string, max(self._budget, 0))
        if len(s) > limit:
            s = _cut(s, limit)
            self._truncated = True
        self._budget -= len(s) + 2
        return s

    def _enter(self, container, depth):
        """None when container may be copied (it is then on the path being
        copied), else the text that stands for it: too deep, or already
        being copied (a cycle)."""
        if depth >= self.max_depth:
            self._truncated = True
            self._budget -= 32
            return f"<nested deeper than {self.max_depth} levels>"
        if id(container) in self._on_path:
            self._truncated = True
            self._budget -= 9
            return "<cycle>"
        self._on_path.add(id(container))
        self._budget -= 2
        return None

    def _full(self):
        """Whether the budget is spent (and so the copy cut)."""
        if self._budget > 0:
            return False
        self._truncated = True
        return True

    def _mapping(self, container, items, n, depth):
        stop = self._enter(container, depth)
        if stop is not None:
            return stop
        out = {}
        for k, val in items:
            if self._full():
                out["…"] = f"{n - len(out)} more keys not captured"
                break
            key = k if type(k) is str else self._key(k)
            self._budget -= len(key) + 4
            out[key] = REDACTED if self._redact and self._redacted(key) else self._value(val, depth + 1)
        self._on_path.discard(id(container))
        return out

    def _sequence(self, container, items, n, depth):
        stop = self._enter(container, depth)
        if stop is not None:
            return stop
        out = []
        for item in items:
            if self._full():
                out.append(f"… {n - len(out)} more items not captured")
                break
            self._budget -= 1
            out.append(self._value(item, depth + 1))
        self._on_path.discard(id(container))
        return out

    # ------------------------------------------------------------ keys

    @staticmethod
    def _key(k):
        """A non-str dict key as text, spelled the way json.dumps would."""
        if k is None or isinstance(k, bool):
            return {None: "null", True: "true", False: "false"}[k]
        if isinstance(k, str):
            return str.__str__(k)
        if isinstance(k, (int, float)) and not isinstance(k, enum.Enum):
            if isinstance(k, float) and not math.isfinite(k):
                return "NaN" if k != k else ("Infinity" if k > 0 else "-Infinity")
            return repr(int(k) if isinstance(k, int) else float(k))
        return _safe_repr(k)

    def _redacted(self, key):
        hit = self._redact_cache.get(key)
        if hit is None:
            norm = key.lower().replace("-", "_")
            hit = norm in self._redact or norm.endswith(self._suffixes)
            if len(self._redact_cache) < 4096:
                self._redact_cache[key] = hit
        return hit
