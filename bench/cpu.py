#!/usr/bin/env python3
"""CPU seconds used so far by each part of a running Agora stack.

  cpu.py AGORA_VAR     prints {"postgres": s, "workers": s, "nginx": s, "live": s}

Each figure is the user + system time of the part's parent process, of its
live descendants, and of its descendants that already exited (the parent's
cutime/cstime: a COPY backend that has ended is counted there). bench/run.sh
takes one snapshot before and one after a phase; the difference divided by
the payloads stored is the CPU cost of one payload in each part.
"""

import json
import os
import sys

TICK = os.sysconf("SC_CLK_TCK")


def stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    # fields from state (3rd): ppid is rest[1]; utime, stime, cutime, cstime are 14..17
    return {"ppid": int(rest[1]), "utime": int(rest[11]), "stime": int(rest[12]),
            "cutime": int(rest[13]), "cstime": int(rest[14])}


def all_stats():
    out = {}
    for e in os.listdir("/proc"):
        if e.isdigit():
            st = stat(e)
            if st:
                out[int(e)] = st
    return out


def tree_seconds(root, stats):
    """Own + exited children's time of root, plus own time of every live
    descendant (whose exited children are in their own cutime)."""
    if root not in stats:
        return None
    kids = {}
    for pid, st in stats.items():
        kids.setdefault(st["ppid"], []).append(pid)
    total = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        st = stats[pid]
        total += st["utime"] + st["stime"] + st["cutime"] + st["cstime"]
        todo.extend(kids.get(pid, []))
    return total / TICK


def first_int(path):
    try:
        with open(path) as f:
            return int("".join(ch for ch in f.readline() if ch.isdigit()))
    except (OSError, ValueError):
        return None


def read_env(var):
    """The stack's settings, from the env file ./run.sh writes in AGORA_VAR."""
    env = {}
    with open(os.path.join(var, "env")) as f:
        for line in f:
            if line.startswith("export ") and "=" in line:
                k, v = line[7:].strip().split("=", 1)
                env[k] = v.strip("'")
    return env


def main(argv):
    if len(argv) != 1:
        sys.stderr.write(__doc__)
        return 2
    var = argv[0]
    env = read_env(var)
    stats = all_stats()
    roots = {
        "postgres": first_int(os.path.join(env.get("AGORA_PG_DATA", ""), "postmaster.pid")),
        "workers": first_int(env.get("AGORA_WORKERS_PIDFILE", os.path.join(var, "run", "workers.pid"))),
        "nginx": first_int(os.path.join(var, "run", "nginx.pid")),
        # agora-live, the live publisher (under its own agora-supervise)
        "live": first_int(os.path.join(var, "run", "live.pid")),
    }
    print(json.dumps({k: (tree_seconds(p, stats) if p else None) for k, p in roots.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
