"""Times GET requests of the statistics routes for bench/stats.sh: for
each named URL, 3 warm-up requests, then N in a row on one keep-alive TLS
connection (concurrency 1); prints one JSON line per URL with the status
seen, the answer's size and p50/p95/p99/max in ms.

    python3 bench/stats_reads.py HOST PORT CA_FILE TOKEN_FILE N name=path...
"""
import http.client
import json
import ssl
import sys
import time


def main():
    host, port, ca, token_file, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
    with open(token_file) as f:
        token = f.read().strip()
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    for arg in sys.argv[6:]:
        name, path = arg.split("=", 1)
        conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=60)
        times, size = [], 0
        for i in range(n + 3):
            t0 = time.perf_counter()
            conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            resp = conn.getresponse()
            body = resp.read()
            dt = (time.perf_counter() - t0) * 1000
            if resp.status != 200:
                sys.exit(f"{name}: {resp.status} {body[:200]!r}")
            size = len(body)
            if i >= 3:
                times.append(dt)
        conn.close()
        times.sort()

        def pct(p):
            return round(times[min(len(times) - 1, int(p * len(times)))], 1)

        print(json.dumps({"name": name, "requests": n, "bytes": size, "p50_ms": pct(0.50), "p95_ms": pct(0.95),
                          "p99_ms": pct(0.99), "max_ms": round(times[-1], 1)}))


if __name__ == "__main__":
    main()
