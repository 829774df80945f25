#!/usr/bin/env python3
"""Turns a bench/live.sh results directory into its Markdown section.

  live_report.py RESULTS_DIR

Every figure comes from the JSON files bench/live.sh wrote; nothing is
estimated here except the arithmetic shown (ratios, per-subscriber and
per-ingest figures).
"""

import math
import os
import sys

from report import fmt, lines, load, machine_lines, mark, merged_cpu, merged_wrk, ok_rps, errors, segments


CPU_PARTS = ("nginx", "workers", "postgres", "live", "client")


def cpu_cells(c):
    """CPU ms per stored ingest: nginx, workers, PostgreSQL, agora-live, wrk."""
    if not c or not c.get("stored"):
        return ["n/a"] * 5
    n = c["stored"]
    return [f"{c[k] * 1000 / n:.2f}" for k in CPU_PARTS]


def cpu_per_ingest(c):
    """The whole stack's CPU (and wrk's) per stored ingest, in seconds;
    None without data."""
    return sum(c[k] for k in CPU_PARTS) / c["stored"] if c and c.get("stored") else None


def cpu_ratio(base, other):
    """What the cores alone allow: base's CPU per ingest over other's, as
    a percentage cell (the throughput ratio when the stack is CPU-bound)."""
    a, b = cpu_per_ingest(base), cpu_per_ingest(other)
    return f"{a / b:.0%}" if a and b else "n/a"


def pct(xs, p):
    """Nearest-rank percentile (p in 0..1) of xs, None when empty."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, math.ceil(len(xs) * p) - 1))] if xs else None


def latencies(x, commits):
    """From bench/live_latency.mjs's appends and their commit times: the
    latency from the commit to the message in the page and to its Gantt
    row (ms), the message's from the answer and the request, the ingest's
    own time, and how many messages beat the answer."""
    got = [d for d in x["detail"] if d["at"] is not None]
    committed = [d for d in x["detail"] if d["id"] in commits]
    return {
        "appends": len(x["detail"]), "seen": len(got), "viewer_live": x.get("viewer_live", False),
        "drawn": sum(1 for d in x["detail"] if d.get("dom") is not None),
        "answer": [d["at"] - d["t1"] for d in got], "request": [d["at"] - d["t0"] for d in got],
        "ingest": [d["t1"] - d["t0"] for d in x["detail"]],
        "commit": [d["at"] - commits[d["id"]] for d in committed if d["at"] is not None],
        "dom": [d["dom"] - commits[d["id"]] for d in committed if d.get("dom") is not None],
        "commit_to_answer": [d["t1"] - commits[d["id"]] for d in committed],
        "before_answer": sum(1 for d in got if d["at"] < d["t1"]),
    }


def latency_row(label, lt, load_at):
    def p(k, q):
        return fmt(pct(lt[k], q), 1)

    def four(k):
        return f"{p(k, 0.5)} / {p(k, 0.95)} / {p(k, 0.99)} / {p(k, 1)}" if lt[k] else "n/a"
    return (f"| {label} | {lt['appends']} | {lt['seen']} / {lt['drawn'] if lt['viewer_live'] else 'n/a'} | "
            f"{four('commit')} | {four('dom')} | {p('answer', 0.5)} / {p('answer', 0.95)} | "
            f"{p('request', 0.5)} / {p('request', 0.95)} | {p('ingest', 0.5)} / {p('ingest', 0.95)} | "
            f"{p('commit_to_answer', 0.5)} / {p('commit_to_answer', 0.95)} | {lt['before_answer']} | {load_at} |")


def main(argv):
    if len(argv) != 1:
        sys.stderr.write(__doc__)
        return 2
    res = argv[0]
    m = load(os.path.join(res, "machine.json"), {})
    pg = load(os.path.join(res, "pg.json"), {})
    s = load(os.path.join(res, "live-setup.json"), {})
    loads = {x["phase"]: x["load"] for x in lines(os.path.join(res, "phases.jsonl"))}

    def load_of(prefix):
        return next((v for k, v in loads.items() if k.startswith(prefix)), "?")

    subs = s.get("subscribers", 0)
    out = []
    w = out.append
    w(f"### Live monitoring · {m.get('date', '?')} · commit {m.get('commit', '?')}\n")
    out.extend(machine_lines(m, pg))
    w(f"Subscribers: {subs:,} over {s.get('http', '?')}, each with its own ticket and TLS connection "
      f"(bench/live_subscribers.c); tickets live {s.get('ticket_seconds', '?')} s. nginx: "
      f"{s.get('nginx_workers', '?')} worker processes x worker_connections {s.get('worker_connections', '?')}, "
      f"open files per nginx worker {s.get('nginx_nofile', '?')}, per client {s.get('client_nofile', '?')}; "
      f"nchan_shared_memory_size {s.get('nchan_shm', '?')}.\n")

    # ---------------------------------------------------------------- latency
    lat = {}
    for name in ("idle", "load", "idle-graph"):
        x = load(os.path.join(res, f"latency-{name}.json"))
        if x:
            lat[name] = latencies(x, load(os.path.join(res, f"commits-{name}.json"), {}))
    bg = load(os.path.join(res, "latency-load-wrk.json"))
    viewer = all(x["viewer_live"] for x in lat.values()) and bool(lat)
    page = ("the viewer's execution page for the run, signed in, following it over its own EventSource; "
            "an init script notes each message's arrival and when each new node's Gantt row enters the DOM "
            "(the page keeps the chart scrolled to its end, as a user following the run)" if viewer else
            "a page of the stack's own origin with an EventSource on the run's channel (the viewer on this "
            "commit does not follow a run live, so there is no Gantt figure)")
    w(f"**Commit -> browser**: Chromium (headless, Debian's): {page}. {s.get('appends', '?')} appends to the "
      f"run, {s.get('gap_ms', '?')} ms apart, each one node execution with its spans, events and snapshot "
      f"({s.get('size', '?')}'s per-node share); the page shows its default Events tab (refreshed whenever a "
      f"message adds events) except in the last row. Latency from the append's commit (PostgreSQL's commit "
      f"timestamp, track_commit_timestamp) to the message and to the Gantt row (p50 / p95 / p99 / max), and "
      f"for comparison the message's from the ingest's answer and from the start of its request. All clocks "
      f"are the same machine's wall clock (the page's and Node's performance.timeOrigin + now()).\n")
    w("| stack | appends | messages / rows drawn | ms commit -> message | ms commit -> Gantt row "
      "| from answer p50 / p95 | from request p50 / p95 | ingest p50 / p95 ms | commit -> answer p50 / p95 "
      "| messages before the answer | load at start |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    if "idle" in lat:
        w(latency_row("idle", lat["idle"], load_of("1a.")))
    if "load" in lat:
        extra = f" ({fmt(ok_rps(bg), 1)} req/s)" if bg else ""
        w(latency_row(f"{s.get('size', '?')} ingest at concurrency {s.get('conc', '?')}{extra}", lat["load"],
                      load_of("1b.")))
    if "idle-graph" in lat:
        w(latency_row("idle, Graph tab open", lat["idle-graph"], load_of("1c.")))
    key, what = ("dom", "the Gantt row") if viewer else ("commit", "the message in the page")
    p95s = [pct(x[key], 0.95) for x in lat.values() if x[key]]
    if p95s:
        w(f"\nTarget p95 < 300 ms from commit to {what}: worst p95 {max(p95s):.1f} ms: {mark(max(p95s) < 300)}.\n")

    # ---------------------------------------------------------------- ingest with subscribers
    base = merged_wrk(res, "ingest-none")
    base_rps = ok_rps(base) if base else None
    w(f"**Ingest with {subs:,} subscribers**: {s.get('size', '?')} at concurrency {s.get('conc', '?')} (wrk), "
      f"{s.get('rounds', '?')} rounds of {s.get('seconds', '?')} s per case, the cases alternating; "
      f"\"project channel\": every ingest is one message to each subscriber; \"idle channel\": the "
      f"subscribers hold an execution's channel that gets no message. CPU in ms per stored ingest; "
      f"\"as CPU predicts\": the ratio of the whole stack's CPU per ingest (wrk's included, the "
      f"subscribers' client's not: real subscribers are elsewhere), what the throughput ratio would be "
      f"on cores the stack has to itself. Messages counted per subscriber from the start of each segment, "
      f"against the ingests stored in it.\n")
    w("| subscribers | ingest req/s | vs none | vs none as CPU predicts | p50 ms | p99 ms | errors | CPU: nginx "
      "| workers | PostgreSQL | agora-live | wrk | subscriber client CPU s "
      "| messages per subscriber: expected / min / max | subscriptions failed / closed early "
      "| time to open all, s (p50 / p99 ms each) |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|")
    base_cpu = merged_cpu(res, "cpu-ingest-none")
    ratios = {}
    for case, label in (("none", "none"), ("fanout", f"{subs:,} on the project channel"),
                        ("idle", f"{subs:,} on an idle channel")):
        iw = merged_wrk(res, f"ingest-{case}")
        if not iw:
            continue
        r = ok_rps(iw)
        ratios[case] = r / base_rps if base_rps else None
        cpu = merged_cpu(res, f"cpu-ingest-{case}")
        cells = cpu_cells(cpu)
        sub_cells = ["", "", "", ""]
        if case != "none":
            subs_runs = segments(res, f"subs-{case}")
            stored = [x["stored"] for x in segments(res, f"cpu-ingest-{case}")]
            exp = "+".join(str(x if case == "fanout" else 0) for x in stored)
            sub_cells = [
                f"{sum(x['cpu_s'] for x in subs_runs):.1f}",
                f"{exp} / {'+'.join(str(x['messages_min']) for x in subs_runs)} / "
                f"{'+'.join(str(x['messages_max']) for x in subs_runs)}",
                f"{sum(x['failed'] for x in subs_runs)} / {sum(x['closed_early'] for x in subs_runs)}",
                ", ".join(f"{x['open_all_s']:.1f} ({x['open_ms_p50']:.0f} / {x['open_ms_p99']:.0f})" for x in subs_runs),
            ]
        w(f"| {label} | {fmt(r, 1)} | {'' if case == 'none' else format(ratios[case], '.0%')} | "
          f"{'' if case == 'none' else cpu_ratio(base_cpu, cpu)} | "
          f"{fmt(iw['p50_ms'], 1)} | {fmt(iw['p99_ms'], 1)} | {errors(iw)} | {' | '.join(cells)} | "
          f"{' | '.join(sub_cells)} |")
    tickets = [x["seconds"] for case in ("fanout", "idle") for x in segments(res, f"tickets-{case}")]
    if tickets:
        w(f"\nTickets: {subs:,} took {min(tickets):.1f} to {max(tickets):.1f} s to get (POST /api/live/tickets, "
          f"4 connections at once), before each case with subscribers; then the subscriptions open at most "
          f"64 at a time, each authorized by a worker.")
    w("")
    runs = segments(res, "subs-fanout")
    stored = [x["stored"] for x in segments(res, "cpu-ingest-fanout")]
    if runs and len(runs) == len(stored):
        short = sum(x["opened"] - x["open_at_end"] + x["failed"] for x in runs)
        whole = all(x["messages_min"] == n for x, n in zip(runs, stored))
        w(f"- Every subscriber on the project channel received every message of its segment "
          f"({sum(x['messages_sum'] for x in runs):,} messages in all): {'yes' if whole and not short else 'no'}"
          + ("" if not short else f" ({short} subscriptions failed or closed)"))
        events = sum(x.get("events_sum", x["messages_sum"]) for x in runs)
        if events:
            # agora-live coalesces a project channel's messages (AGORA_LIVE_BATCH_MS): nginx writes
            # one event per batch to each subscriber, not one per ingest.
            w(f"- Events nginx wrote to the project channel's subscribers: {events:,} for "
              f"{sum(x['messages_sum'] for x in runs):,} messages "
              f"({sum(x['messages_sum'] for x in runs) / events:.1f} messages an event)")
    for case, label in (("fanout", "project channel (every ingest fans out)"), ("idle", "idle channel")):
        if ratios.get(case) is not None:
            w(f"- Target with >= 90% of without, {label}: {ratios[case]:.0%}: {mark(ratios[case] >= 0.9)}")
    w(f"- Load average at each segment's start: " + "; ".join(
        f"{k.split(': ', 1)[-1]} {v}" for k, v in loads.items() if k.startswith("2.")) + "\n")

    # ---------------------------------------------------------------- memory
    mem = lines(os.path.join(res, "nginx-mem.jsonl"))
    if mem:
        w("**nginx memory**: all of nginx's processes (master and workers), from /proc/PID/smaps_rollup; "
          "PSS divides shared pages among the processes that map them, so the sum counts each page once.\n")
        w("| when | processes | RSS MiB | PSS MiB | PSS anon MiB | PSS shmem MiB | workers' descriptors | load |")
        w("|---|---:|---:|---:|---:|---:|---:|---|")
        for x in mem:
            w(f"| {x['label']} | {x['processes']} | {x['rss_kb'] / 1024:.1f} | {x['pss_kb'] / 1024:.1f} | "
              f"{x['pss_anon_kb'] / 1024:.1f} | {x['pss_shmem_kb'] / 1024:.1f} | {x['worker_fds']} | {x['load']} |")
        before = mem[0]
        opened = next((x for x in mem if x["label"].endswith("open")), None)
        fanned = next((x for x in mem if "fan-out" in x["label"]), None)
        if opened and subs:
            w(f"\nPer subscriber, open and idle: {(opened['rss_kb'] - before['rss_kb']) / subs:.1f} KiB RSS, "
              f"{(opened['pss_kb'] - before['pss_kb']) / subs:.1f} KiB PSS"
              + (f"; after the fan-out: {(fanned['pss_kb'] - before['pss_kb']) / subs:.1f} KiB PSS"
                 if fanned else "") +
              f". Nchan's shared memory zone (nchan_shared_memory_size {s.get('nchan_shm', '?')}) is mapped "
              f"whole when nginx starts, but only the pages Nchan has written count in RSS/PSS (the shmem "
              f"column): the zone's size is a ceiling set up front, not memory that grows per subscriber.\n")

    # ---------------------------------------------------------------- NOTIFY
    on, off = merged_wrk(res, "notify-on"), merged_wrk(res, "notify-off")
    ann = load(os.path.join(res, "pg-announce.json"))
    com = load(os.path.join(res, "pg-commit.json"))
    if on and off:
        w(f"**NOTIFY's own cost**: {s.get('size', '?')} at concurrency {s.get('conc', '?')}, as shipped vs with "
          f"`pg_notify` shadowed by a no-op for the workers' database role (a schema first on its "
          f"search_path, on this throwaway stack only): the message is still built, but nothing is queued, "
          f"committed through the notification queue or published. {s.get('rounds', '?')} x "
          f"{s.get('seconds', '?')} s each, alternating.\n")
        w("| NOTIFY | ingest req/s | p50 ms | p99 ms | errors | CPU: nginx | workers | PostgreSQL | agora-live | wrk "
          "| CPU ms per ingest, all |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for label, x, name in (("as shipped", on, "notify-on"), ("no-op", off, "notify-off")):
            w(f"| {label} | {fmt(ok_rps(x), 1)} | {fmt(x['p50_ms'], 1)} | {fmt(x['p99_ms'], 1)} | {errors(x)} | "
              f"{' | '.join(cpu_cells(merged_cpu(res, 'cpu-' + name)))} | "
              f"{fmt((cpu_per_ingest(merged_cpu(res, 'cpu-' + name)) or 0) * 1000, 2)} |")
        w(f"\nAs shipped / no-op: {ok_rps(on) / ok_rps(off):.0%}; as the CPU per ingest predicts: "
          f"{cpu_ratio(merged_cpu(res, 'cpu-notify-off'), merged_cpu(res, 'cpu-notify-on'))}.")
        for label, name in (("as shipped", "notify-on"), ("no-op", "notify-off")):
            seen = {}
            k = 1
            while os.path.exists(os.path.join(res, f"waits-{name}-{k}.txt")):
                with open(os.path.join(res, f"waits-{name}-{k}.txt")) as fh:
                    for ln in fh:
                        if ln.strip():
                            seen[ln.strip()] = seen.get(ln.strip(), 0) + 1
                k += 1
            total = sum(seen.values())
            if total:
                top = sorted(seen.items(), key=lambda kv: -kv[1])[:5]
                w(f"What the workers' sessions in a transaction were doing, {label} ({total} samples): "
                  + ", ".join(f"{e} {n / total:.0%}" for e, n in top) + ".")
    if ann and ann.get("requests"):
        w(f"Building and queueing the two messages (the statement in src/domain/live_announce.c) takes "
          f"{ann['match_mean_ms']:.2f} ms of PostgreSQL's {ann['mean_ms']:.2f} ms per {s.get('size', '?')} ingest "
          f"({ann['match_share']:.1%}; p50 {ann['match_p50_ms']:.2f} ms), COMMIT "
          f"{com['match_mean_ms']:.2f} ms (statement log, {ann['requests']} ingests one at a time).\n"
          if com else "\n")

    # ---------------------------------------------------------------- logs
    lg = load(os.path.join(res, "logs.json"), {})
    if lg:
        w(f"**Logs**: agora-live: {lg.get('live_stop') or 'no stop line'}; other lines in live.log: "
          f"{lg.get('live_log_lines')}; nginx-error.log lines at warn or worse: {lg.get('nginx_error_lines')} "
          f"(\"worker_connections are not enough\": {lg.get('worker_connections_not_enough')}); answers with a "
          f"5xx from upstream: {lg.get('upstream_5xx')}; subscriptions by status in the access log: "
          f"{', '.join(f'{k}: {v}' for k, v in (lg.get('live_statuses') or {}).items()) or 'none'} "
          f"(499: the subscriber ended it, as the benchmark's clients do).")
        for f, what in (("live-log-findings.txt", "live.log"), ("nginx-log-findings.txt", "nginx-error.log")):
            try:
                with open(os.path.join(res, f)) as fh:
                    first = [ln.rstrip() for ln in fh][:5]
            except OSError:
                first = []
            if first:
                w(f"\nFirst lines of {what}:\n")
                w("```\n" + "\n".join(first) + "\n```")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
