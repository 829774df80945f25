#!/usr/bin/env python3
"""Asks for N live tickets and prints their subscription paths, one a line
(bench/live.sh hands them to bench/live_subscribers.c).

  WRK_TOKEN=... live_tickets.py BASE_URL CA_FILE N BODY

BODY is the ticket request, e.g. '{"project_id": "<uuid>"}'. One POST
/api/live/tickets per ticket (a ticket opens one subscription), over 4
keep-alive HTTPS connections at once. The token comes from the
environment, never the command line. Only the standard library.
"""

import http.client
import json
import os
import ssl
import sys
import threading
import urllib.parse

CONNECTIONS = 4


def fetch(base, ctx, body, n, out, errors):
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPSConnection(url.hostname, url.port, context=ctx, timeout=60)
    headers = {"Authorization": "Bearer " + os.environ["WRK_TOKEN"], "Content-Type": "application/json"}
    for _ in range(n):
        conn.request("POST", "/api/live/tickets", body=body, headers=headers)
        r = conn.getresponse()
        text = r.read()
        if r.status != 201:
            errors.append(f"POST /api/live/tickets answered {r.status}: {text[:300]!r}")
            return
        out.append(json.loads(text)["path"])


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    base, ca, n, body = argv[0], argv[1], int(argv[2]), argv[3]
    ctx = ssl.create_default_context(cafile=ca)
    out, errors = [], []
    threads = [threading.Thread(target=fetch, args=(base, ctx, body, n // CONNECTIONS + (i < n % CONNECTIONS),
                                                    out, errors)) for i in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors or len(out) != n:
        sys.stderr.write("live_tickets: " + (errors[0] if errors else f"{len(out)} of {n} tickets") + "\n")
        return 1
    sys.stdout.write("".join(p + "\n" for p in out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
