"""The workers outlive their database and their own crashes: 503 (never a
hang) while PostgreSQL is down, healed without a restart when it is back,
and a killed worker replaced by multiwatch."""
import os
import signal
import time

from conftest import wait_for


def test_database_restart_is_healed_without_restarting_workers(stack):
    tok = stack.token(stack.new_user())
    assert stack.request("GET", "/api/health").status == 200
    pids_before = sorted(stack.workers_pids())
    assert pids_before

    stack.pg_stop()
    try:
        for path, token in (("/api/health", None), ("/api/projects", tok), ("/api/organizations", tok)):
            t0 = time.monotonic()
            r = stack.request("GET", path, token=token, timeout=10)
            elapsed = time.monotonic() - t0
            assert r.status == 503, (path, r.status, r.body)
            assert r.json()["error"]["code"] == "unavailable"
            assert elapsed < 2.0, (path, elapsed)
    finally:
        stack.pg_start()

    # Every worker heals: ask more times than there are workers.
    assert wait_for(lambda: stack.request("GET", "/api/health").status == 200)
    for _ in range(8):
        assert stack.request("GET", "/api/health").status == 200
        assert stack.request("GET", "/api/organizations", token=tok).status == 200
    assert sorted(stack.workers_pids()) == pids_before


def test_a_killed_worker_is_replaced(stack):
    pids = stack.workers_pids()
    assert len(pids) >= 2
    victim = pids[0]
    os.kill(victim, signal.SIGKILL)
    assert wait_for(lambda: victim not in stack.workers_pids() and len(stack.workers_pids()) == len(pids))
    for _ in range(6):
        assert stack.request("GET", "/api/health").status == 200


def test_sigterm_lets_the_request_in_hand_finish(stack):
    import subprocess
    import threading

    tok = stack.token(stack.new_user())
    assert stack.request("GET", "/api/organizations", token=tok).status == 200
    # Hold a lock the request will wait on, so it is surely in hand when the
    # signal arrives.
    holder = subprocess.Popen(
        ["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", stack.env["AGORA_ADMIN_DATABASE_URL"], "-c",
         "BEGIN; LOCK TABLE agora.organizations IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(3); COMMIT;"],
        env=stack.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: stack.psql_admin(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'organizations' AND l.mode = 'AccessExclusiveLock' AND l.granted").strip() == "1")
        result = {}
        t = threading.Thread(target=lambda: result.update(
            r=stack.request("GET", "/api/organizations", token=tok, timeout=20)))
        t.start()
        # Wait until a worker is blocked on the lock, then signal every worker.
        assert wait_for(lambda: stack.psql_admin(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'agora-worker' "
            "AND wait_event_type = 'Lock'").strip() == "1")
        pids = stack.workers_pids()
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
        t.join(20)
        assert result["r"].status == 200, result["r"].body
        # They exited, and multiwatch started fresh ones.
        assert wait_for(lambda: set(stack.workers_pids()).isdisjoint(pids)
                        and len(stack.workers_pids()) == len(pids))
    finally:
        holder.wait(20)
    assert stack.wait_healthy().status == 200
