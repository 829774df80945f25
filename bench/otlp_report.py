#!/usr/bin/env python3
"""The table of bench/otlp.sh, in Markdown, from its results directory.

  otlp_report.py RESULTS
"""
import json
import os
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(x) for x in f if x.strip()]


def segments(res, prefix):
    k = 1
    while os.path.exists(os.path.join(res, f"{prefix}-{k}.json")):
        yield k
        k += 1


def main(argv):
    res = argv[0]
    m = load(os.path.join(res, "machine.json"))
    bodies = load(os.path.join(res, "otlp-bodies.json"))["sizes"]
    stored = load(os.path.join(res, "stored.json"))
    conc = load(os.path.join(res, "conf.json"))["conc"]
    pg = load(os.path.join(res, "pg.json"))
    out = []
    w = out.append
    w(f"### OpenTelemetry ingest · {m['date']} · commit {m['commit']}\n")
    w(f"Machine: {m['cpu']}, {m['cores']} cores, {m['mem']}, {m['os']} (kernel {m['kernel']}); PostgreSQL "
      f"{pg.get('server_version', '?')}, nginx {m['nginx']}, "
      f"wrk {m['wrk']}, {m['workers']} FastCGI workers. Load average (1/5/15 min) at start {m['load_start']}, "
      f"at end {m.get('load_end', '?')}; at each segment: "
      + ", ".join(x["load"].split()[0] for x in lines(os.path.join(res, "load.jsonl"))) + ".  ")
    w(f"Durability: synchronous_commit={pg.get('synchronous_commit')}, fsync={pg.get('fsync')}; "
      f"shared_buffers={pg.get('shared_buffers')} (the stack's defaults). Everything (wrk, nginx, workers, "
      "PostgreSQL, copyload) shares the same cores, with whatever else the machine runs.\n")
    w("COPY loads the rows with random ids, as the ingest's are (the ceiling, \"ingest / COPY\"); the last "
      "two columns are COPY with copyload's earlier sequential ids, side by side in every index, as the "
      "earlier figures of this section were measured.\n")
    w("| spans / request (traces, body) | format | conc. | ingest req/s | ingest spans/s | p50 ms | p99 ms | errors "
      "| COPY tx/s | COPY spans/s | ingest / COPY | CPU ms per request: nginx / workers / PostgreSQL "
      "| COPY: PostgreSQL | COPY, sequential ids: tx/s, PostgreSQL ms | ingest / COPY, sequential ids |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---:|")
    ratios = {}
    seq_ratios = {}
    for size, b in bodies.items():
        ntr = len(b["traces"])
        for fmt in ("protobuf", "json"):
            ing = [load(os.path.join(res, f"otlp-{size}-{fmt}-{k}.json"))
                   for k in segments(res, f"otlp-{size}-{fmt}")]
            if not ing:
                continue
            cop = [load(os.path.join(res, f"copy-otlp-{size}-{fmt}-{k}.json")) for k in range(1, len(ing) + 1)]
            cpu_i = [load(os.path.join(res, f"cpu-otlp-{size}-{fmt}-{k}.json")) for k in range(1, len(ing) + 1)]
            cpu_c = [load(os.path.join(res, f"cpu-copy-otlp-{size}-{fmt}-{k}.json")) for k in range(1, len(ing) + 1)]
            seq = [load(os.path.join(res, f"copyseq-otlp-{size}-{fmt}-{k}.json")) for k in range(1, len(ing) + 1)
                   if os.path.exists(os.path.join(res, f"copyseq-otlp-{size}-{fmt}-{k}.json"))]
            cpu_s = [load(os.path.join(res, f"cpu-copyseq-otlp-{size}-{fmt}-{k}.json")) for k in range(1, len(seq) + 1)]
            ok = sum(x["requests"] - x["errors_status"] for x in ing)
            secs = sum(x["duration_s"] for x in ing)
            errors = sum(x["errors_status"] + x["errors_connect"] + x["errors_read"] + x["errors_write"]
                         + x["errors_timeout"] for x in ing)
            rps = ok / secs
            ctx = sum(x["transactions"] for x in cop)
            csecs = sum(x["elapsed_s"] for x in cop)
            cps = ctx / csecs
            p50 = sorted(x["p50_ms"] for x in ing)[len(ing) // 2]
            p99 = max(x["p99_ms"] for x in ing)

            def per(cpus, part):
                reqs = sum(c["stored"] for c in cpus) / ntr
                return 1000 * sum(c[part] for c in cpus) / reqs if reqs else float("nan")

            body = b["protobuf_bytes"] if fmt == "protobuf" else b["json_bytes"]
            ratio = rps / cps
            ratios[(size, fmt)] = ratio
            seq_cell, seq_ratio_cell = "-", "-"
            if seq:
                sps = sum(x["transactions"] for x in seq) / sum(x["elapsed_s"] for x in seq)
                seq_ratios[(size, fmt)] = rps / sps
                seq_cell = f"{sps:,.1f}, {per(cpu_s, 'postgres'):.1f}"
                seq_ratio_cell = f"{100 * rps / sps:.0f}%"
            w(f"| {b['spans']} ({ntr}, {body / 1024:,.0f} KiB) | {fmt} | {conc} | "
              f"{rps:,.1f} | {rps * b['spans']:,.0f} | {p50:,.1f} | {p99:,.1f} | {errors} | {cps:,.1f} | "
              f"{cps * b['spans']:,.0f} | {100 * ratio:.0f}% | "
              f"{per(cpu_i, 'nginx'):.1f} / {per(cpu_i, 'workers'):.1f} / {per(cpu_i, 'postgres'):.1f} | "
              f"{per(cpu_c, 'postgres'):.1f} | {seq_cell} | {seq_ratio_cell} |")
    w("")
    per_request = "; ".join(f"{b['spans']} spans, {b['events']} events, {b['nodes']} node executions, "
                            f"{len(b['traces'])} executions" for size, b in bodies.items()
                            if any(True for f in ("protobuf", "json") for _ in segments(res, f"otlp-{size}-{f}")))
    w(f"Rows per request: {per_request}. "
      f"Stored over the run: {stored['executions']:,} executions, {stored['spans']:,} spans, "
      f"{stored['events']:,} events, {stored['nodes']:,} node executions ({stored['running']} left running).")
    for (size, fmt), r in ratios.items():
        if fmt == "json" and (size, "protobuf") in ratios:
            w(f"- {size} spans: JSON / protobuf = {100 * r / ratios[(size, 'protobuf')]:.0f}% of the protobuf rate.")
    goal = [f"{size} spans, protobuf: {100 * r:.0f}% ({'met' if r >= 0.6 else 'not met'})"
            for (size, fmt), r in ratios.items() if fmt == "protobuf"]
    w(f"- Goal, protobuf ingest >= 60% of COPY at concurrency 8: {'; '.join(goal)}.")
    if seq_ratios:
        w("- Against COPY with sequential ids: " + "; ".join(
            f"{size} spans, protobuf: {100 * r:.0f}%" for (size, fmt), r in seq_ratios.items() if fmt == "protobuf")
          + ".")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
