#!/usr/bin/env python3
"""PostgreSQL's own time per API request, from its statement log.

  pgtime.py LOGFILE FROM_LINE      prints {"requests", "p50_ms", "p99_ms", "mean_ms"}
  pgtime.py LOGFILE FROM_LINE TEXT adds the part of each request spent in the
                                   statements whose text holds TEXT:
                                   {"match_p50_ms", "match_mean_ms", "match_share"}

Reads the log lines after FROM_LINE written with log_min_duration_statement
= 0 (bench/run.sh turns it on around a batch of requests), groups them by
backend pid (one worker, one connection, one request at a time) and cuts
each group at every BEGIN: a request is the sum of the parse, bind and
execute durations of the statements from one BEGIN to the next. This is the
time the database spends on a read, whatever the load on the machine does to
the HTTP latency around it. Sessions that ran ALTER SYSTEM (the benchmark's
own) are left out.
"""

import json
import re
import sys

LINE = re.compile(r"\[(\d+)\] LOG:  duration: ([0-9.]+) ms  (?:parse|bind|execute|statement)[^:]*: (.*)")


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write(__doc__)
        return 2
    skip = int(argv[1])
    match = argv[2] if len(argv) == 3 else None
    requests = []
    current = {}
    bad_pids = set()
    with open(argv[0], errors="replace") as f:
        for n, line in enumerate(f):
            if n < skip:
                continue
            m = LINE.search(line)
            if not m:
                continue
            pid, ms, sql = m.group(1), float(m.group(2)), m.group(3)
            if "ALTER SYSTEM" in sql or "pg_reload_conf" in sql:
                bad_pids.add(pid)
                continue
            if sql.startswith("BEGIN") and line.split("duration:")[1].strip().split()[2] == "parse":
                if pid in current:
                    requests.append((pid, current[pid]))
                current[pid] = [0.0, 0.0]
            if pid in current:
                current[pid][0] += ms
                if match and match in sql:
                    current[pid][1] += ms
    requests.extend(current.items())
    kept = [t for pid, t in requests if pid not in bad_pids]
    if not kept:
        print(json.dumps({"requests": 0}))
        return 0
    times = sorted(t for t, _ in kept)
    pick = lambda xs, q: xs[min(len(xs) - 1, int((len(xs) - 1) * q))]
    out = {"requests": len(times), "p50_ms": round(pick(times, 0.5), 3), "p99_ms": round(pick(times, 0.99), 3),
           "mean_ms": round(sum(times) / len(times), 3)}
    if match:
        parts = sorted(m for _, m in kept)
        out.update({"match_p50_ms": round(pick(parts, 0.5), 3), "match_mean_ms": round(sum(parts) / len(parts), 3),
                    "match_share": round(sum(parts) / sum(times), 4) if sum(times) else None})
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
