#!/usr/bin/env python3
"""One failover under ingest load, for bench/replication.sh.

    failover.py BASE CA_FILE TOKEN_FILE BODY_FILE TAG CONC BEFORE_S AFTER_S KILL_CMD PROMOTE_CMD ACKED_FILE

CONC clients POST BODY_FILE to BASE/api/executions/ingest, each request
with a session_id of its own (TAG-client-n) and an Idempotency-Key; a
client that gets anything but 200/201 (503 while no server accepts writes,
or a broken connection) sends the same body with the same key again until
it is acknowledged, as a retry-safe client does. After BEFORE_S seconds
KILL_CMD runs (the primary dies), then PROMOTE_CMD (the standby is
promoted); the load goes on until AFTER_S seconds after the first
acknowledged ingest sent once KILL_CMD had returned.

Writes the acknowledged session ids to ACKED_FILE, one a line, and prints
one JSON line: acknowledged (and before the kill), answers by status,
transport errors, the seconds KILL_CMD and PROMOTE_CMD took, and
first_success_s: from the start of KILL_CMD to that first acknowledgement.
"""
import http.client
import json
import ssl
import subprocess
import sys
import threading
import time
import uuid


def main():
    (base, ca, token_file, body_file, tag, conc, before_s, after_s,
     kill_cmd, promote_cmd, acked_file) = sys.argv[1:12]
    conc, before_s, after_s = int(conc), float(before_s), float(after_s)
    host, port = base.split("//", 1)[1].rsplit(":", 1)
    with open(token_file) as f:
        token = f.read().strip()
    with open(body_file) as f:
        template = json.load(f)
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False

    stop = threading.Event()
    lock = threading.Lock()
    acked = []                # (sent, answered, session)
    statuses = {}
    transport = [0]

    def client(n):
        conn = None
        i = 0
        while not stop.is_set():
            session = f"{tag}-{n}-{i}"
            body = json.dumps(dict(template, session_id=session)).encode()
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                       "Idempotency-Key": str(uuid.uuid4())}
            while True:
                sent = time.monotonic()
                try:
                    if conn is None:
                        conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=60)
                    conn.request("POST", "/api/executions/ingest", body=body, headers=headers)
                    r = conn.getresponse()
                    r.read()
                    status = r.status
                except (OSError, http.client.HTTPException):
                    if conn is not None:
                        conn.close()
                    conn = None
                    status = None
                answered = time.monotonic()
                with lock:
                    if status is None:
                        transport[0] += 1
                    else:
                        statuses[status] = statuses.get(status, 0) + 1
                    if status in (200, 201):
                        acked.append((sent, answered, session))
                if status in (200, 201):
                    break
                if stop.is_set():
                    return  # never acknowledged: not counted as acknowledged
                time.sleep(0.05)
            i += 1

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(conc)]
    for t in threads:
        t.start()
    time.sleep(before_s)
    t_kill = time.monotonic()
    with lock:
        before = len(acked)
    subprocess.run(["bash", "-c", kill_cmd], check=True, stdout=subprocess.DEVNULL)
    t_killed = time.monotonic()
    subprocess.run(["bash", "-c", promote_cmd], check=True, stdout=subprocess.DEVNULL)
    t_promoted = time.monotonic()
    first = None
    deadline = t_promoted + 60
    while first is None and time.monotonic() < deadline:
        time.sleep(0.02)
        with lock:
            after = [a for s, a, _ in acked if s >= t_killed]
        if after:
            first = min(after)
    if first is not None:
        time.sleep(max(0.0, first + after_s - time.monotonic()))
    stop.set()
    for t in threads:
        t.join(timeout=90)
    with open(acked_file, "w") as f:
        f.writelines(f"{s}\n" for _, _, s in acked)
    print(json.dumps({
        "acknowledged": len(acked), "acknowledged_before_kill": before,
        "statuses": {str(k): v for k, v in sorted(statuses.items())}, "transport_errors": transport[0],
        "kill_s": round(t_killed - t_kill, 3), "promote_s": round(t_promoted - t_killed, 3),
        "first_success_s": round(first - t_kill, 3) if first is not None else None,
    }))


if __name__ == "__main__":
    main()
