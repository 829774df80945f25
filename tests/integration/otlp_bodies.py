"""OTLP/HTTP trace export bodies for the tests, in both formats, from one
description: spans as dicts in OTLP JSON's own shape, with attributes as a
plain {key: value} dict. Protobuf is encoded by hand (the few messages of
opentelemetry/proto/collector/trace/v1 and google.rpc.Status), so the tests
need no protobuf package, and the answers are decoded the same way."""
import gzip
import hashlib
import json
import struct
import uuid
import zlib

# ---------------------------------------------------------------- description


def any_value_json(v):
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, (list, tuple)):
        return {"arrayValue": {"values": [any_value_json(x) for x in v]}}
    if isinstance(v, dict):
        return {"kvlistValue": {"values": attrs_json(v)}}
    return {"stringValue": str(v)}


def attrs_json(attrs):
    return [{"key": k, "value": any_value_json(v)} for k, v in (attrs or {}).items()]


def span(trace, span_id, name, start, end, parent=None, attrs=None, events=(), status=0, message="", kind=1):
    """One span: ids in hex, times in nanoseconds, status 0 unset, 1 ok, 2 error."""
    s = {"traceId": trace, "spanId": span_id, "name": name, "kind": kind,
         "startTimeUnixNano": start, "endTimeUnixNano": end, "attributes": attrs or {},
         "events": list(events), "status": {"code": status, "message": message}}
    if parent:
        s["parentSpanId"] = parent
    return s


def event(name, time, attrs=None):
    return {"name": name, "timeUnixNano": time, "attributes": attrs or {}}


def resource(attrs, spans, scope="agora.tests"):
    return {"attributes": attrs, "scope": scope, "spans": spans}


# ---------------------------------------------------------------- JSON


def to_json(resources):
    out = {"resourceSpans": []}
    for r in resources:
        spans = []
        for s in r["spans"]:
            js = dict(s)
            js["attributes"] = attrs_json(s["attributes"])
            js["startTimeUnixNano"] = str(s["startTimeUnixNano"])
            js["endTimeUnixNano"] = str(s["endTimeUnixNano"])
            js["events"] = [{"name": e["name"], "timeUnixNano": str(e["timeUnixNano"]),
                             "attributes": attrs_json(e["attributes"])} for e in s["events"]]
            spans.append(js)
        out["resourceSpans"].append({"resource": {"attributes": attrs_json(r["attributes"])},
                                     "scopeSpans": [{"scope": {"name": r["scope"]}, "spans": spans}]})
    return json.dumps(out).encode()


# ---------------------------------------------------------------- protobuf


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data


def field_varint(num, n):
    return varint(num << 3) + varint(n)


def field_fixed64(num, n):
    return varint(num << 3 | 1) + struct.pack("<Q", n)


def any_value_pb(v):
    if isinstance(v, bool):
        return field_varint(2, int(v))
    if isinstance(v, int):
        return field_varint(3, v)
    if isinstance(v, float):
        return varint(4 << 3 | 1) + struct.pack("<d", v)
    if isinstance(v, (list, tuple)):
        return field_bytes(5, b"".join(field_bytes(1, any_value_pb(x)) for x in v))
    if isinstance(v, dict):
        return field_bytes(6, attrs_pb(v, 1))
    return field_bytes(1, str(v).encode())


def attrs_pb(attrs, num):
    return b"".join(field_bytes(num, field_bytes(1, k.encode()) + field_bytes(2, any_value_pb(v)))
                    for k, v in (attrs or {}).items())


def span_pb(s):
    out = field_bytes(1, bytes.fromhex(s["traceId"])) + field_bytes(2, bytes.fromhex(s["spanId"]))
    if s.get("parentSpanId"):
        out += field_bytes(4, bytes.fromhex(s["parentSpanId"]))
    out += field_bytes(5, s["name"].encode()) + field_varint(6, s["kind"])
    out += field_fixed64(7, s["startTimeUnixNano"]) + field_fixed64(8, s["endTimeUnixNano"])
    out += attrs_pb(s["attributes"], 9)
    for e in s["events"]:
        out += field_bytes(11, field_fixed64(1, e["timeUnixNano"]) + field_bytes(2, e["name"].encode())
                           + attrs_pb(e["attributes"], 3))
    st = s["status"]
    status = (field_bytes(2, st["message"].encode()) if st["message"] else b"") + \
        (field_varint(3, st["code"]) if st["code"] else b"")
    if status:
        out += field_bytes(15, status)
    return out


def to_protobuf(resources):
    out = b""
    for r in resources:
        scope = field_bytes(1, field_bytes(1, r["scope"].encode()))
        scope_spans = scope + b"".join(field_bytes(2, span_pb(s)) for s in r["spans"])
        rs = field_bytes(1, attrs_pb(r["attributes"], 1)) + field_bytes(2, scope_spans)
        out += field_bytes(1, rs)
    return out


def read_fields(data):
    """{field number: [values]} of one protobuf message (varints as int,
    length-delimited as bytes)."""
    fields, i = {}, 0
    while i < len(data):
        key, i = read_varint(data, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = read_varint(data, i)
        elif wire == 2:
            n, i = read_varint(data, i)
            v, i = data[i:i + n], i + n
        elif wire == 1:
            v, i = data[i:i + 8], i + 8
        elif wire == 5:
            v, i = data[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire}")
        fields.setdefault(num, []).append(v)
    return fields


def read_varint(data, i):
    n = shift = 0
    while True:
        b = data[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def partial_success_pb(body):
    """(rejected_spans, error_message) of an ExportTraceServiceResponse."""
    ps = read_fields(body).get(1)
    if not ps:
        return 0, ""
    f = read_fields(ps[0])
    return f.get(1, [0])[0], f.get(2, [b""])[0].decode()


def status_pb(body):
    """(code, message) of a google.rpc.Status."""
    f = read_fields(body)
    return f.get(1, [0])[0], f.get(2, [b""])[0].decode()


# ---------------------------------------------------------------- ids


def derived_uuid(ns, name):
    d = bytearray(hashlib.sha256(ns.encode() + b"\0" + name).digest()[:16])
    d[6] = (d[6] & 0x0F) | 0x80
    d[8] = (d[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(d)))


def execution_id(workflow_id, trace_hex):
    """The execution a trace gets in a workflow (src/domain/otlp_map.c)."""
    return derived_uuid("agora.otlp.execution", workflow_id.encode() + bytes.fromhex(trace_hex))


def compress(body, encoding):
    return gzip.compress(body) if encoding == "gzip" else zlib.compress(body)
