#!/usr/bin/env python3
"""Payload generator for the Agora Cloud benchmark (bench/run.sh).

  gen.py payloads OUTDIR WORKFLOW_ID
      writes OUTDIR/{S,M,L}-{0..3}.json: ingest bodies of fixed sizes, and
      OUTDIR/sizes.json (items and rows per payload, body bytes)
  gen.py copy OUTDIR SIZE ORG PROJECT WORKFLOW NODES_JSON
      writes OUTDIR/copy-SIZE.txt: the rows of payload SIZE-0 as COPY text,
      one section per table, for bench/copyload.c. NODES_JSON maps node
      names to the workflow's node ids (what ingest resolves by name).
  gen.py cursor MICROS ID
      prints the opaque keyset cursor (src/util/cursor.c) for a list position

Sizes (node executions / spans / events / snapshots):
  S = 5 / 15 / 30 / 5, M = 20 / 60 / 200 / 20, L = 200 / 600 / 2,000 / 200.
Each node execution has 3 spans (prep, exec, post), 1 snapshot and an
equal share of the events. Blobs (event data, span attributes, snapshot
state) are a few hundred bytes each, like a real LLM workflow's: model
names, token counts, prompt excerpts, a growing shared dict. Everything is
deterministic (fixed seeds), so two runs send the same bytes.

Only the standard library: it runs on a fresh Debian with python3.
"""

import base64
import datetime as dt
import json
import os
import random
import sys

SIZES = {
    "S": (5, 15, 30, 5),
    "M": (20, 60, 200, 20),
    "L": (200, 600, 2000, 200),
}
VARIANTS = 4
# The COPY templates carry this id where the execution's goes; copyload
# replaces it with a fresh id per transaction.
PLACEHOLDER = "ffffffff-ffff-4fff-bfff-ffffffffffff"

WORDS = ("order invoice customer amount currency total record batch model prompt "
         "completion token cache retry validate transform summary document page "
         "chunk embedding vector query answer source context window budget").split()
EVENT_TYPES = ["node_start", "prep_complete", "llm_request", "llm_response",
               "tool_call", "exec_complete", "post_complete", "node_end"]
MODELS = ["gpt-4o-mini", "claude-3-5-sonnet", "llama-3.1-70b", "mistral-large"]


def ts(base, ms):
    """RFC 3339 without offset (UTC), millisecond precision, like the
    reference client."""
    t = base + dt.timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}"


def sentence(rnd, n):
    return " ".join(rnd.choice(WORDS) for _ in range(n))


def hexid(rnd, digits):
    return "".join(rnd.choice("0123456789abcdef") for _ in range(digits))


def payload(size, variant, workflow_id):
    n_ne, n_sp, n_ev, n_ss = SIZES[size]
    rnd = random.Random(f"{size}-{variant}")
    base = dt.datetime(2024, 11, 26, 12, 0, 0) + dt.timedelta(minutes=variant)
    n_nodes = min(n_ne, 20)  # a workflow of up to 20 nodes; L loops over them
    node_names = [f"node_{i:02d}_{rnd.choice(WORDS)}" for i in range(n_nodes)]
    trace = hexid(rnd, 32)
    root_span = hexid(rnd, 16)
    nes, spans, events, snaps = [], [], [], []
    state = {"input": f"s3://bench/{size}/{variant}/input.jsonl", "records": 128, "history": []}
    t = 0
    per_node_events = n_ev // n_ne
    extra_events = n_ev - per_node_events * n_ne
    for i in range(n_ne):
        name = node_names[i % n_nodes]
        prep, exe, post = rnd.randint(1, 9), rnd.randint(40, 900), rnd.randint(1, 9)
        dur = prep + exe + post
        failed = rnd.random() < 0.05
        nes.append({
            "node_name": name,
            "node_type": "LLMNode" if i % 3 == 1 else "AuditedNode",
            "status": "error" if failed else "success",
            "started_at": ts(base, t),
            "completed_at": ts(base, t + dur),
            "prep_duration_ms": prep,
            "exec_duration_ms": exe,
            "post_duration_ms": post,
            "retry_count": 1 if failed else 0,
            "action": "retry" if failed else "default",
            "error": {"type": "ValidationError", "message": sentence(rnd, 12)} if failed else None,
        })
        # Spans: prep, exec, post of this node, children of the run's root.
        offs = {"prep": (0, prep), "exec": (prep, prep + exe), "post": (prep + exe, dur)}
        for phase in ("prep", "exec", "post"):
            a, b = offs[phase]
            spans.append({
                "trace_id": trace,
                "span_id": hexid(rnd, 16),
                "parent_span_id": root_span,
                "name": f"{name}.{phase}",
                "kind": "internal" if phase != "exec" else "client",
                "start_time": ts(base, t + a),
                "end_time": ts(base, t + b),
                "duration_ms": b - a,
                "status": "error" if failed and phase == "exec" else "ok",
                "attributes": {
                    "agora.node": name,
                    "agora.phase": phase,
                    "agora.retry": 1 if failed else 0,
                    "llm.model": rnd.choice(MODELS),
                    "llm.prompt_tokens": rnd.randint(100, 4000),
                    "llm.completion_tokens": rnd.randint(10, 800),
                    "http.url": f"https://llm.example.internal/v1/chat/{hexid(rnd, 8)}",
                    "note": sentence(rnd, 14),
                },
                "node_name": name,
            })
        k = per_node_events + (1 if i < extra_events else 0)
        for j in range(k):
            events.append({
                "event_type": EVENT_TYPES[j % len(EVENT_TYPES)],
                "timestamp": ts(base, t + (dur * j) // max(k, 1)),
                "node_name": name,
                "data": {
                    "attempt": 1,
                    "model": rnd.choice(MODELS),
                    "input_tokens": rnd.randint(100, 4000),
                    "output_tokens": rnd.randint(10, 800),
                    "latency_ms": rnd.randint(20, 900),
                    "prompt_preview": sentence(rnd, 18),
                    "tags": [rnd.choice(WORDS) for _ in range(3)],
                },
            })
        state["history"] = (state["history"] + [f"{name}:{'error' if failed else 'ok'}"])[-6:]
        state["last_output"] = sentence(rnd, 16)
        state["processed"] = i + 1
        state["totals"] = {"amount": round(rnd.uniform(10, 10000), 2), "currency": "EUR"}
        snaps.append({
            "sequence": i,
            "timestamp": ts(base, t + dur),
            "node_name": name,
            "phase": "after",
            "state": json.loads(json.dumps(state)),
        })
        t += dur + rnd.randint(1, 5)
    assert (len(nes), len(spans), len(events), len(snaps)) == SIZES[size]
    return {
        "workflow_id": workflow_id,
        "session_id": f"bench-{size}-{variant}",
        "status": "success",
        "started_at": ts(base, 0),
        "completed_at": ts(base, t),
        "duration_ms": t,
        "metadata": {"bench": True, "size": size, "variant": variant, "client": "agora-bench/1"},
        "node_executions": nes,
        "telemetry_events": events,
        "telemetry_spans": spans,
        "shared_state_snapshots": snaps,
    }


def body_text(p):
    # What the reference (Python) client sends: json.dumps' default separators.
    return json.dumps(p)


def cmd_payloads(outdir, workflow_id):
    os.makedirs(outdir, exist_ok=True)
    info = {}
    for size, counts in SIZES.items():
        lens = []
        for v in range(VARIANTS):
            text = body_text(payload(size, v, workflow_id))
            with open(os.path.join(outdir, f"{size}-{v}.json"), "w", encoding="utf-8") as f:
                f.write(text)
            lens.append(len(text.encode("utf-8")))
        info[size] = {"items": list(counts), "rows": 1 + sum(counts),
                      "body_bytes": sum(lens) // len(lens)}
    with open(os.path.join(outdir, "sizes.json"), "w") as f:
        json.dump(info, f, indent=1)


# ------------------------------------------------------------------ COPY

def copy_value(v):
    """One field of PostgreSQL's COPY text format."""
    if v is None:
        return "\\N"
    if isinstance(v, (dict, list)):
        v = json.dumps(v, separators=(",", ":"), ensure_ascii=False)
    elif isinstance(v, bool):
        v = "true" if v else "false"
    else:
        v = str(v)
    return (v.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
            .replace("\t", "\\t"))


def copy_row(values):
    return "\t".join(copy_value(v) for v in values) + "\n"


def utc(t):
    """The payload's offset-less timestamps are UTC (sessions run in UTC)."""
    return None if t is None else t + "Z"


def cmd_copy(outdir, size, org, project, workflow, nodes_json):
    with open(nodes_json) as f:
        nodes = json.load(f)
    p = payload(size, 0, workflow)
    e = PLACEHOLDER
    # The run's created_at, which its items copy (sql/025's partition key
    # and foreign key): one fixed instant for every copied run, in this
    # month's partition.
    created = dt.datetime.now(dt.timezone.utc).isoformat()
    common = [created, org, project, e]
    out = []
    n_ne, n_sp, n_ev, n_ss = SIZES[size]
    out.append("@@COPY agora.executions (id, organization_id, project_id, workflow_id, session_id,"
               " status, started_at, completed_at, duration_ms, error, metadata,"
               " node_executions_count, telemetry_spans_count, telemetry_events_count,"
               " shared_state_snapshots_count, created_at) FROM STDIN\n")
    out.append(copy_row([e, org, project, workflow, p["session_id"], p["status"],
                         utc(p["started_at"]), utc(p["completed_at"]), p["duration_ms"],
                         p.get("error"), p["metadata"], n_ne, n_sp, n_ev, n_ss, created]))
    out.append("@@COPY agora.node_executions (run_created_at, organization_id, project_id, execution_id, node_id,"
               " node_name, node_type, status, started_at, completed_at, prep_duration_ms,"
               " exec_duration_ms, post_duration_ms, retry_count, action, error) FROM STDIN\n")
    for x in p["node_executions"]:
        out.append(copy_row(common + [nodes[x["node_name"]], x["node_name"], x["node_type"],
                                      x["status"], utc(x["started_at"]), utc(x["completed_at"]),
                                      x["prep_duration_ms"], x["exec_duration_ms"],
                                      x["post_duration_ms"], x["retry_count"], x["action"],
                                      x["error"]]))
    out.append("@@COPY agora.telemetry_spans (run_created_at, organization_id, project_id, execution_id, trace_id,"
               " span_id, parent_span_id, name, kind, start_time, end_time, duration_ms, status,"
               " attributes, node_name) FROM STDIN\n")
    for x in p["telemetry_spans"]:
        out.append(copy_row(common + [x["trace_id"], x["span_id"], x["parent_span_id"], x["name"],
                                      x["kind"], utc(x["start_time"]), utc(x["end_time"]),
                                      x["duration_ms"], x["status"], x["attributes"],
                                      x["node_name"]]))
    out.append("@@COPY agora.telemetry_events (run_created_at, organization_id, project_id, execution_id,"
               " event_type, \"timestamp\", node_name, data) FROM STDIN\n")
    for x in p["telemetry_events"]:
        out.append(copy_row(common + [x["event_type"], utc(x["timestamp"]), x["node_name"],
                                      x["data"]]))
    out.append("@@COPY agora.shared_state_snapshots (run_created_at, organization_id, project_id, execution_id,"
               " sequence, \"timestamp\", node_name, phase, state) FROM STDIN\n")
    for x in p["shared_state_snapshots"]:
        out.append(copy_row(common + [x["sequence"], utc(x["timestamp"]), x["node_name"],
                                      x["phase"], x["state"]]))
    with open(os.path.join(outdir, f"copy-{size}.txt"), "w", encoding="utf-8") as f:
        f.write("".join(out))


def fnv1a(h, data):
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def list_scope():
    """The scope src/handlers/executions.c gives GET /api/executions
    without filters: FNV-1a over the list's name and each filter's name,
    each followed by a NUL, and an absent value's marker byte."""
    h = fnv1a(2166136261, b"executions\0")
    for name in ("workflow_id", "project_id", "status", "session_id", "since", "until"):
        h = fnv1a(fnv1a(h, name.encode() + b"\0"), b"\x01")
    return h


def cmd_cursor(micros, ident):
    raw = f"2:{list_scope():08x}:{int(micros)}:{ident}".encode()
    print(base64.urlsafe_b64encode(raw).decode().rstrip("="))


def main(argv):
    if len(argv) >= 3 and argv[0] == "payloads":
        cmd_payloads(argv[1], argv[2])
    elif len(argv) == 7 and argv[0] == "copy":
        cmd_copy(*argv[1:])
    elif len(argv) == 3 and argv[0] == "cursor":
        cmd_cursor(argv[1], argv[2])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
