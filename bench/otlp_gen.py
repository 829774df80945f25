#!/usr/bin/env python3
"""OTLP trace export bodies for bench/otlp.sh, deterministic.

  otlp_gen.py OUTDIR SERVICE
      writes OUTDIR/otlp-N.pb and OUTDIR/otlp-N.json for N in SIZES (spans
      per request), the same spans in both formats, and OUTDIR/otlp.json:
      per size, the trace ids, spans, events, nodes and body sizes; and
      OUTDIR/otlp-wide.pb and .json: WIDE traces of one span each (a
      node, with one event), as a service's batch of short traces sends
      them, the shape whose per-execution work the others barely touch.

Each request holds several traces of one agent run each, as an
instrumented application's batch span processor sends them: an
invoke_agent root; per step a chat span (gen_ai.* request and usage
attributes, a prompt and a completion of a few hundred bytes, two events),
an execute_tool span and the HTTP client span under it. Attribute sizes
follow what the OpenTelemetry GenAI instrumentations record with content
capture on. Every trace id starts with MARKER (8 bytes): bench/wrk.lua
(unique=MARKER) puts 8 fresh bytes there in each request, so every request
is new traces and new executions, never a resend (which stores nothing).

The encoders are the integration tests' (tests/integration/otlp_bodies.py).
"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from otlp_bodies import event, resource, span, to_json, to_protobuf  # noqa: E402

MARKER = "9e3779b97f4a7c15"
# spans per request: traces x (1 root + steps x 3)
SIZES = {100: (3, 11), 500: (9, 18)}  # 3 x 34 = 102, 9 x 55 = 495 spans
T0 = 1_764_000_000_000_000_000  # 2025-11-24 in nanoseconds, within sql/009's prices
MS = 1_000_000
WORDS = ("the agent reads the ticket and plans which tool to call next with the customer's order id and "
         "the refund policy in mind before it writes a short answer citing the policy section").split()


def text(rnd, n):
    return " ".join(rnd.choice(WORDS) for _ in range(n))


def trace_of(rnd, k, steps, service):
    trace = MARKER + f"{k:016x}"
    ids = iter(f"{rnd.getrandbits(64) | 1:016x}" for _ in range(1 + steps * 3))
    root = next(ids)
    t = T0 + k * 60_000 * MS
    spans = []
    events = nodes = 0
    at = t + 5 * MS
    for i in range(steps):
        chat, tool, http = next(ids), next(ids), next(ids)
        tin, tout = rnd.randint(600, 4000), rnd.randint(50, 600)
        prompt, answer = text(rnd, 60), text(rnd, 30)
        spans.append(span(trace, chat, "chat gpt-4o", at, at + 800 * MS, parent=root, kind=3, attrs={
            "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4o", "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.request.temperature": 0.2, "gen_ai.request.max_tokens": 1024,
            "gen_ai.response.id": f"chatcmpl-{rnd.getrandbits(96):024x}", "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.usage.input_tokens": tin, "gen_ai.usage.output_tokens": tout,
            "gen_ai.conversation.id": f"conv-{k}", "server.address": "api.openai.com", "server.port": 443,
            "gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": prompt,
            "gen_ai.completion.0.role": "assistant", "gen_ai.completion.0.content": answer,
        }, events=[event("gen_ai.user.message", at + MS, {"gen_ai.system": "openai", "content": prompt[:120]}),
                   event("gen_ai.choice", at + 799 * MS, {"index": 0, "finish_reason": "stop"})]))
        at += 810 * MS
        spans.append(span(trace, tool, "execute_tool lookup_order", at, at + 300 * MS, parent=root, attrs={
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": f"lookup_{i % 4}",
            "gen_ai.tool.call.id": f"call_{rnd.getrandbits(64):016x}", "gen_ai.tool.type": "function",
            "gen_ai.tool.description": text(rnd, 12),
        }))
        spans.append(span(trace, http, "GET", at + 10 * MS, at + 290 * MS, parent=tool, kind=3, attrs={
            "http.request.method": "GET", "url.full": f"https://orders.internal/api/orders/{rnd.randint(1, 10**6)}",
            "server.address": "orders.internal", "server.port": 443, "http.response.status_code": 200,
            "network.protocol.version": "1.1", "user_agent.original": "python-httpx/0.27.0",
        }))
        at += 310 * MS
        events += 2
        nodes += 2
    spans.append(span(trace, root, "invoke_agent support", t, at + 5 * MS, status=1, attrs={
        "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support",
        "gen_ai.agent.id": "asst_support", "session.id": f"bench-otlp-{k}",
    }))
    return trace, spans, events, nodes + 1


WIDE = 500  # one-span traces in the wide body


def wide_trace(rnd, k):
    trace = MARKER + f"{k:016x}"
    t = T0 + k * MS
    return trace, span(trace, f"{rnd.getrandbits(64) | 1:016x}", "GET /orders", t, t + 20 * MS, kind=2, attrs={
        "http.request.method": "GET", "http.route": "/orders", "http.response.status_code": 200,
        "agora.node.name": "handler",
    }, events=[event("done", t + MS, {"ok": True})])


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    outdir, service = argv
    info = {}
    for size, (traces, steps) in SIZES.items():
        rnd = random.Random(size)
        res = {"service.name": service, "service.version": "1.4.2", "deployment.environment.name": "bench",
               "telemetry.sdk.language": "python", "telemetry.sdk.name": "opentelemetry",
               "telemetry.sdk.version": "1.33.0", "host.name": "bench-host"}
        spans, trace_ids, n_events, n_nodes = [], [], 0, 0
        for k in range(traces):
            trace, ss, ev, nn = trace_of(rnd, size * 1000 + k, steps, service)
            trace_ids.append(trace)
            spans += ss
            n_events += ev
            n_nodes += nn
        body = [resource(res, spans, scope="opentelemetry.instrumentation.openai_v2")]
        pb, js = to_protobuf(body), to_json(body)
        with open(os.path.join(outdir, f"otlp-{size}.pb"), "wb") as f:
            f.write(pb)
        with open(os.path.join(outdir, f"otlp-{size}.json"), "wb") as f:
            f.write(js)
        info[size] = {"traces": trace_ids, "spans": len(spans), "events": n_events, "nodes": n_nodes,
                      "protobuf_bytes": len(pb), "json_bytes": len(js)}
    rnd = random.Random(WIDE)
    traces = [wide_trace(rnd, 900_000 + k) for k in range(WIDE)]
    body = [resource({"service.name": service, "telemetry.sdk.language": "python"}, [s for _, s in traces],
                     scope="opentelemetry.instrumentation.fastapi")]
    pb, js = to_protobuf(body), to_json(body)
    for ext, data in (("pb", pb), ("json", js)):
        with open(os.path.join(outdir, f"otlp-wide.{ext}"), "wb") as f:
            f.write(data)
    info["wide"] = {"traces": [t for t, _ in traces], "spans": WIDE, "events": WIDE, "nodes": WIDE,
                    "protobuf_bytes": len(pb), "json_bytes": len(js)}
    with open(os.path.join(outdir, "otlp.json"), "w") as f:
        json.dump({"marker": MARKER, "sizes": info}, f)


if __name__ == "__main__":
    main(sys.argv[1:])
