#!/usr/bin/env python3
"""What CloudAuditLogger costs a workflow per node, in microseconds: the same
flow of N small nodes run with the plain Node/Flow and with
AuditedNode/AuditedFlow recording it (state snapshots on, then off), and
what turning the record into request bodies costs per node at upload
(nothing is sent: the network is the server's figure, not the client's).

    python3 clients/python/bench_overhead.py [--nodes 1000] [--runs 30]

Each node reads and writes a small shared state (about 300 bytes of JSON:
a counter, a few strings, a list, a nested dict), as a workflow step would.
Times are the thread's CPU time (time.thread_time), so that other
processes competing for the CPU do not count; each figure is the median
over the runs of (time / nodes), and the best run's. The overhead is
audited minus plain.
"""

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))

from agora_cloud import AuditedFlow, AuditedNode, CloudAuditLogger, Flow, Node  # noqa: E402

WORKFLOW_ID = "0f2d6c52-54a5-4c1e-9d7e-3c3b1f0a9e11"
clock = time.thread_time


class Work:
    """The node's own work, the same in both flows."""

    def prep(self, shared):
        return shared["count"]

    def exec(self, count):
        return count + 1

    def post(self, shared, count, result):
        shared["count"] = result
        shared["last"] = self.name
        return None


class PlainStep(Work, Node):
    pass


class AuditedStep(Work, AuditedNode):
    pass


def chain(cls, n):
    nodes = [cls(f"step{i}") for i in range(n)]
    for a, b in zip(nodes, nodes[1:]):
        a >> b
    return nodes[0]


def state():
    return {"count": 0, "last": None, "user": "ada@example.org", "question": "What is the plan?" * 3,
            "items": list(range(10)), "context": {"model": "m-1", "temperature": 0.2, "tags": ["a", "b"]}}


def per_node_us(seconds, n):
    return seconds / n * 1e6


def run_plain(start, n):
    t = clock()
    Flow("bench", start=start).run(state())
    return per_node_us(clock() - t, n)


def new_logger(spool, **kw):
    # An address nothing is asked of: auto_upload is off and nothing is sent.
    return CloudAuditLogger("bench", "https://127.0.0.1:9/api", api_key="agk_bench", workflow_id=WORKFLOW_ID,
                            auto_upload=False, spool_dir=spool, **kw)


def run_audited(start, n, spool, **kw):
    logger = new_logger(spool, **kw)
    t = clock()
    AuditedFlow("bench", logger, start=start).run(state())
    elapsed = clock() - t
    logger.mark_complete("success")
    t = clock()
    bodies = logger._take(final=True)  # what upload() builds before sending
    build = clock() - t
    return per_node_us(elapsed, n), per_node_us(build, n), sum(len(b) for b, _ in bodies) / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    n = args.nodes
    spool = tempfile.mkdtemp(prefix="agora-bench-")
    try:
        plain_start, audited_start = chain(PlainStep, n), chain(AuditedStep, n)
        plain, rec, rec_nostate, build, size = [], [], [], [], []
        for _ in range(args.runs):
            plain.append(run_plain(plain_start, n))
            r, b, s = run_audited(audited_start, n, spool)
            rec.append(r)
            build.append(b)
            size.append(s)
            rec_nostate.append(run_audited(audited_start, n, spool, capture_state=False)[0])
    finally:
        shutil.rmtree(spool, ignore_errors=True)
    def row(label, values, base=None, extra=""):
        med, best = statistics.median(values), min(values)
        over = "" if base is None else f"  overhead {med - statistics.median(base):7.2f} (best {best - min(base):.2f})"
        print(f"  {label:34s} {med:8.2f} us/node (best {best:.2f}){over}{extra}")

    print(f"python {platform.python_version()} on {platform.machine()}, {n} nodes x {args.runs} runs, "
          "CPU time (median, and best run)")
    row("plain Node/Flow", plain)
    row("audited, state snapshots on", rec, plain)
    row("audited, state snapshots off", rec_nostate, plain)
    row("building the request bodies", build, extra=f"  {statistics.median(size):.0f} bytes/node")

if __name__ == "__main__":
    main()
