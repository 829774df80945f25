#!/usr/bin/env python3
"""Turns a bench/run.sh results directory into the Markdown report.

  report.py RESULTS_DIR [--append BENCHMARKS.md]

Prints the report; with --append also adds it at the end of the file.
Every figure comes from the JSON files bench/run.sh wrote; nothing is
estimated here except the arithmetic shown (ratios, per-day figures).
"""

import glob
import json
import os
import sys


def load(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def lines(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    out.append(json.loads(line))
    except OSError:
        pass
    return out


def segments(res, prefix):
    """The runs NAME-1.json, NAME-2.json, ... of one alternating phase."""
    out = []
    k = 1
    while True:
        x = load(os.path.join(res, f"{prefix}-{k}.json"))
        if x is None:
            return out
        out.append(x)
        k += 1


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else None


def merged_wrk(res, prefix):
    """wrk segments as one run: counts and durations added; p50 the median
    of the segments' p50s, p99 the largest of their p99s."""
    seg = segments(res, prefix) or ([load(os.path.join(res, prefix + ".json"))] if load(os.path.join(res, prefix + ".json")) else [])
    if not seg:
        return None
    out = {k: sum(x.get(k, 0) for x in seg) for k in ("requests", "duration_s", "bytes", "errors_connect",
                                                      "errors_read", "errors_write", "errors_status",
                                                      "errors_timeout")}
    out["p50_ms"] = median([x["p50_ms"] for x in seg])
    out["p99_ms"] = max(x["p99_ms"] for x in seg)
    out["segments"] = len(seg)
    return out


def merged_copy(res, prefix):
    seg = segments(res, prefix) or ([load(os.path.join(res, prefix + ".json"))] if load(os.path.join(res, prefix + ".json")) else [])
    if not seg:
        return None
    tx = sum(x["transactions"] for x in seg)
    rows = sum(x["rows"] for x in seg)
    el = sum(x["elapsed_s"] for x in seg)
    return {"tx_per_s": tx / el, "rows_per_s": rows / el, "p50_ms": median([x["p50_ms"] for x in seg]),
            "p99_ms": max(x["p99_ms"] for x in seg), "errors": sum(x["errors"] for x in seg)}


def merged_cpu(res, prefix):
    seg = segments(res, prefix) or ([load(os.path.join(res, prefix + ".json"))] if load(os.path.join(res, prefix + ".json")) else [])
    if not seg:
        return None
    # "live" (the live publisher) is absent from results older than it
    return {k: sum(x.get(k) or 0 for x in seg) for k in ("stored", "postgres", "workers", "nginx", "live", "client")}


def fmt(v, digits=0):
    if v is None:
        return "n/a"
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def errors(w):
    return sum(w.get(k, 0) for k in ("errors_connect", "errors_read", "errors_write",
                                      "errors_status", "errors_timeout"))


def ok_rps(w):
    good = w["requests"] - w.get("errors_status", 0)
    return good / w["duration_s"] if w["duration_s"] else 0.0


def ok_rps_any(w):
    """Requests per second whatever the status (the 404 run is all 404s)."""
    return w["requests"] / w["duration_s"] if w["duration_s"] else 0.0


def mark(ok):
    return "**met**" if ok else "**not met**"


def machine_lines(m, pg):
    """The machine, versions, load and durability settings of a run
    (results/machine.json, results/pg.json), as Markdown lines."""
    return [
        f"Machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores, {m.get('mem', '?')}, "
        f"{m.get('os', '?')} (kernel {m.get('kernel', '?')}); PostgreSQL {pg.get('server_version', '?')}, "
        f"nginx {m.get('nginx', '?')}, wrk {m.get('wrk', '?')}, {m.get('workers', '?')} FastCGI workers. "
        f"Load average (1/5/15 min) at start {m.get('load_start', '?')}, at end {m.get('load_end', '?')}.  ",
        f"Durability: synchronous_commit={pg.get('synchronous_commit', '?')}, fsync={pg.get('fsync', '?')}, "
        f"full_page_writes={pg.get('full_page_writes', '?')}, wal_level={pg.get('wal_level', '?')}; "
        f"shared_buffers={pg.get('shared_buffers', '?')}, max_wal_size={pg.get('max_wal_size', '?')} "
        f"(the stack's defaults, nothing tuned). Everything (client, nginx, workers, PostgreSQL) shares "
        f"the same {m.get('cores', '?')} cores.\n",
    ]


def main(argv):
    if not argv:
        sys.stderr.write(__doc__)
        return 2
    res = argv[0]
    append = argv[2] if len(argv) >= 3 and argv[1] == "--append" else None
    m = load(os.path.join(res, "machine.json"), {})
    pg = load(os.path.join(res, "pg.json"), {})
    sizes = load(os.path.join(res, "sizes.json"), {})
    out = []
    w = out.append

    w(f"### {m.get('date', '?')} · commit {m.get('commit', '?')} · {m.get('mode', '?')} run\n")
    out.extend(machine_lines(m, pg))

    # ---------------------------------------------------------------- ingest
    w("**Ingest through nginx + TLS + FastCGI vs the COPY ceiling** (same rows, same tables and "
      "indexes, one transaction per payload; rows = 1 execution + its items; ingest and COPY "
      "alternate in short segments, added up; p50 is the segments' median, p99 their largest)\n")
    w("| size (rows, body) | conc. | ingest req/s | ingest rows/s | p50 ms | p99 ms | errors "
      "| COPY tx/s | COPY rows/s | COPY p50 ms | COPY p99 ms | ingest / COPY |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ratios = {}
    rps = {}
    for s in ("S", "M", "L"):
        info = sizes.get(s, {})
        rows = info.get("rows", 0)
        for c in (1, 8, 32):
            iw = merged_wrk(res, f"ingest-{s}-{c}")
            cp = merged_copy(res, f"copy-{s}-{c}")
            if not iw:
                continue
            r = ok_rps(iw)
            rps[(s, c)] = r
            ratio = (r * rows) / cp["rows_per_s"] if cp and cp.get("rows_per_s") else None
            ratios[(s, c)] = ratio
            label = f"{s} ({rows:,}, {info.get('body_bytes', 0) / 1024:,.0f} KiB)"
            w(f"| {label} | {c} | {fmt(r, 1)} | {fmt(r * rows)} | {fmt(iw['p50_ms'], 1)} | "
              f"{fmt(iw['p99_ms'], 1)} | {errors(iw)} | "
              f"{fmt(cp and cp['tx_per_s'], 1)} | {fmt(cp and cp['rows_per_s'])} | "
              f"{fmt(cp and cp['p50_ms'], 1)} | {fmt(cp and cp['p99_ms'], 1)} | "
              f"{'n/a' if ratio is None else f'{ratio:.0%}'} |")
    ng = load(os.path.join(res, "nginx.json"), {})
    if ng:
        w(f"\nnginx: {ng.get('upstream_5xx', '?')} answers with a 5xx from upstream; "
          f"{ng.get('bodies_buffered_to_disk', '?')} request bodies written to a temporary file "
          f"(bodies over `client_body_buffer_size`, 2 MiB since commit f82ea1f, 1 MiB before).")
    w("")

    # ---------------------------------------------------------------- CPU
    cpu_rows = []
    for s in ("S", "M", "L"):
        for c in (1, 8, 32):
            a = merged_cpu(res, f"cpu-ingest-{s}-{c}")
            b = merged_cpu(res, f"cpu-copy-{s}-{c}")
            if a and b and a.get("stored") and b.get("stored"):
                cpu_rows.append((s, c, a, b))
    if cpu_rows:
        w("**Where the CPU goes**: CPU milliseconds per stored payload (user + system, from /proc; "
          "PostgreSQL counts every server process, the ended ones included)\n")
        w("| size | conc. | ingest: nginx | workers | PostgreSQL | wrk | server total "
          "| COPY: PostgreSQL | copyload | ingest server / COPY server | ingest / COPY as CPU predicts |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for s, c, a, b in cpu_rows:
            n, k = a["stored"], b["stored"]
            srv = (a["nginx"] + a["workers"] + a["postgres"]) * 1000 / n
            copy_srv = b["postgres"] * 1000 / k
            w(f"| {s} | {c} | {a['nginx'] * 1000 / n:.2f} | {a['workers'] * 1000 / n:.2f} | "
              f"{a['postgres'] * 1000 / n:.2f} | {a['client'] * 1000 / n:.2f} | {srv:.2f} | "
              f"{copy_srv:.2f} | {b['client'] * 1000 / k:.2f} | {srv / copy_srv:.2f}x | "
              f"{(copy_srv + b['client'] * 1000 / k) / (srv + a['client'] * 1000 / n):.0%} |")
        w("\nThe last column is the ratio the cores alone allow (both sides' CPU per payload, clients "
          "included): the throughput ratio above falls below it where the ingest side leaves the cores "
          "idle (waits, too few workers) or the machine's other load takes them.\n")

    # ---------------------------------------------------------------- reads
    rsz = {x["label"]: x for x in lines(os.path.join(res, "reads-sizes.jsonl"))}
    checks = {(x["label"], x["read"]): x["items"] for x in lines(os.path.join(res, "reads-check.jsonl"))}
    small = rsz.get("small", {}).get("executions")
    big = rsz.get("big", {}).get("executions")
    w(f"**Reads** (concurrency 1, through nginx + TLS; at {fmt(small)} and at {fmt(big)} stored "
      f"executions; the deep page starts 90% down the list. PostgreSQL's own time per request comes "
      f"from its statement log; the shared buffers a request touches (pg_stat_database) are the "
      f"load-proof measure of the work an index-backed read does)\n")
    w(f"| read | items | p50 ms @{fmt(small)} | p99 ms @{fmt(small)} | p50 ms @{fmt(big)} | "
      f"p99 ms @{fmt(big)} | p50 ratio | p99 ratio | PostgreSQL p50 ms @{fmt(small)} / @{fmt(big)} | "
      f"PostgreSQL ratio | buffers per read @{fmt(small)} / @{fmt(big)} |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    names = {"list_first": "list, first page (limit 50)",
             "list_deep": "list, deep page (keyset cursor)",
             "timeline": "timeline of a 200-node execution",
             "events": "events of a 2,000-event execution"}
    read_ratios = {}
    for key, title in names.items():
        a = load(os.path.join(res, f"read-small-{key}.json"))
        b = load(os.path.join(res, f"read-big-{key}.json"))
        if not a or not b:
            continue
        r50 = b["p50_ms"] / a["p50_ms"] if a["p50_ms"] else None
        r99 = b["p99_ms"] / a["p99_ms"] if a["p99_ms"] else None
        pa = load(os.path.join(res, f"pg-read-small-{key}.json"), {})
        pb = load(os.path.join(res, f"pg-read-big-{key}.json"), {})
        rpg = pb["p50_ms"] / pa["p50_ms"] if pa.get("p50_ms") and pb.get("p50_ms") else None
        rbuf = (pb["buffers_per_request"] / pa["buffers_per_request"]
                if pa.get("buffers_per_request") and pb.get("buffers_per_request") else None)
        read_ratios[key] = (r50, r99, errors(a) + errors(b), rpg, rbuf)
        w(f"| {title} | {checks.get(('big', key), '?')} | {fmt(a['p50_ms'], 2)} | {fmt(a['p99_ms'], 2)} | "
          f"{fmt(b['p50_ms'], 2)} | {fmt(b['p99_ms'], 2)} | {fmt(r50, 2)}x | {fmt(r99, 2)}x | "
          f"{fmt(pa.get('p50_ms'), 2)} / {fmt(pb.get('p50_ms'), 2)} | {fmt(rpg, 2)}x | "
          f"{fmt(pa.get('buffers_per_request'))} / {fmt(pb.get('buffers_per_request'))} |")
    w("")

    # ---------------------------------------------------------------- health
    h = load(os.path.join(res, "health.json"))
    st = load(os.path.join(res, "static.json"))
    nf = load(os.path.join(res, "fastcgi404.json"))
    hs = {x["path"]: x for x in lines(os.path.join(res, "health-sizes.jsonl"))}
    hratio = None
    if h and st:
        hratio = ok_rps(h) / ok_rps(st) if ok_rps(st) else None
        w("**FastCGI hop**: GET /api/health (a worker; it runs `SELECT 1` unless a statement worked "
          "under a second ago) vs nginx serving a static file with the same body, same server block "
          "and TLS (concurrency 8; each URL warmed up for 2 s first)\n")
        w("| URL | response bytes (headers + body) | req/s | p50 ms | p99 ms | errors |")
        w("|---|---:|---:|---:|---:|---:|")
        for name, x, path in (("/api/health", h, "/api/health"),
                              ("static copy", st, "/_bench/static.json"),
                              ("a worker's 404, no database", nf, "/api/_bench_no_such_route")):
            if not x:
                continue
            sz = hs.get(path, {})
            w(f"| {name} | {sz.get('header_bytes', '?')} + {sz.get('body_bytes', '?')} | "
              f"{fmt(ok_rps_any(x))} | {fmt(x['p50_ms'], 2)} | {fmt(x['p99_ms'], 2)} | "
              f"{errors(x) if x is not nf else str(x['errors_status']) + ' (all 404, as asked)'} |")
        if hratio is not None:
            w(f"\nhealth / static = {hratio:.0%}"
              + (f"; worker 404 / static = {ok_rps_any(nf) / ok_rps(st):.0%}" if nf else "") + "\n")

    # ---------------------------------------------------------------- RSS
    rss = lines(os.path.join(res, "rss.jsonl"))
    count = load(os.path.join(res, "rss-count.json"), {}).get("ingests")
    labels = []
    for x in rss:
        if x["label"] not in labels:
            labels.append(x["label"])
    pids = sorted({x["pid"] for x in rss})
    rss_ok = None
    if rss:
        w(f"**Worker memory**: RSS in MiB of each worker (anonymous part in brackets): fresh, during "
          f"and after {fmt(count)} S ingests at concurrency 8, and at the end of the run (after the "
          f"M and L ingests and all reads)\n")
        w("| worker pid | " + " | ".join(labels) + " |")
        w("|---|" + "---:|" * len(labels))
        by = {(x["pid"], x["label"]): x for x in rss}
        worst, growth, worst_end = 0.0, 0.0, 0.0
        for pid in pids:
            cells = []
            for lab in labels:
                x = by.get((pid, lab))
                if x:
                    cells.append(f"{x['rss_kb'] / 1024:.1f} ({x['anon_kb'] / 1024:.1f})")
                    if lab == "end":
                        worst_end = max(worst_end, x["rss_kb"] / 1024)
                    else:
                        worst = max(worst, x["rss_kb"] / 1024)
                else:
                    cells.append("-")
            w(f"| {pid} | " + " | ".join(cells) + " |")
            steps = [by[(pid, lab)]["rss_kb"] for lab in labels if lab.startswith("after") and (pid, lab) in by]
            if len(steps) >= 2:
                growth = max(growth, (steps[-1] - steps[0]) / 1024)
        missing = [pid for pid in pids if (pid, labels[0]) not in by or (pid, labels[-1]) not in by]
        rss_ok = worst < 16 and growth < 1 and not missing
        w(f"\nLargest RSS over the S ingests {worst:.1f} MiB, growth from the first to the last "
          f"step {growth:+.2f} MiB; at the end, after M and L payloads, {worst_end:.1f} MiB"
          + ("; a worker pid changed (a restart)" if missing else "") + ".\n")

    # ---------------------------------------------------------------- targets
    w("**Targets** (issue: M ingest >= 60% of COPY at concurrency 8, L >= 70%, reads at the large "
      "size within 1.5x of the small one, worker RSS < 16 MiB and flat, health >= 50% of static)\n")
    tm, tl = ratios.get(("M", 8)), ratios.get(("L", 8))
    w(f"- M at concurrency 8: ingest / COPY = {'n/a' if tm is None else f'{tm:.0%}'}: {mark(tm is not None and tm >= 0.6)}")
    w(f"- L at concurrency 8: ingest / COPY = {'n/a' if tl is None else f'{tl:.0%}'}: {mark(tl is not None and tl >= 0.7)}")
    if read_ratios:
        worst50 = max(r[0] for r in read_ratios.values() if r[0] is not None)
        worst99 = max(r[1] for r in read_ratios.values() if r[1] is not None)
        rerr = sum(r[2] for r in read_ratios.values())
        pgs = [r[3] for r in read_ratios.values() if r[3] is not None]
        worstpg = max(pgs) if pgs else None
        w(f"- reads at {fmt(big)} vs {fmt(small)}, over HTTP: worst p50 ratio {worst50:.2f}x (worst p99 "
          f"ratio {worst99:.2f}x){', ' + str(rerr) + ' errors' if rerr else ''}: "
          f"{mark(worst50 <= 1.5 and not rerr)}; for context, PostgreSQL's own time: worst p50 ratio "
          f"{fmt(worstpg, 2)}x; buffers touched per read: "
          f"worst ratio {fmt(max([r[4] for r in read_ratios.values() if r[4] is not None], default=None), 2)}x "
          f"(the load average moved from {m.get('load_start', '?')} to {m.get('load_end', '?')} during the run)")
    if rss_ok is not None:
        w(f"- worker RSS < 16 MiB and flat over the {fmt(count)} S ingests: {mark(rss_ok)}; "
          f"after the M and L payloads: {worst_end:.1f} MiB: {mark(worst_end < 16)}")
    if hratio is not None:
        w(f"- health vs static: {hratio:.0%}: {mark(hratio >= 0.5)}")
    w("")

    # ---------------------------------------------------------------- meaning
    m8 = rps.get(("M", 8))
    l8 = rps.get(("L", 8))
    s8 = rps.get(("S", 8))
    if m8:
        w("**What it means**: at concurrency 8 this machine ingests "
          + ", ".join(f"{fmt(r * 86400 / 1e6, 1)} million {s} executions a day ({fmt(r * 86400 * sizes[s]['rows'] / 1e6)} million rows)"
                      for s, r in (("S", s8), ("M", m8), ("L", l8)) if r)
          + ", with durability on, if it does nothing else.\n")
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if append:
        with open(append, "a", encoding="utf-8") as f:
            f.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
