/* Chooses the primary or the hot standby for one read (AGORA_READ_DATABASE_URL).
 *
 * Read-your-writes without shared state: before a read runs on the standby,
 * the standby must have replayed the primary's WAL up to where it was when
 * the read arrived. Any write acknowledged to anyone before that moment
 * (the caller's own included, whichever worker or host took it) is then
 * visible. It costs one statement on the primary that reads no table, and
 * leaves the read itself, the expensive part, to the standby. */
#include "db/replica.h"

#include <string.h>
#include <time.h>

/* How often a lagging standby is asked again while a read waits. */
#define REPLICA_POLL_MS 2

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)((now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000);
}

/* The primary's WAL flush position ("16/B374D848"), outside any
 * transaction; false when the primary cannot say (the read then goes to
 * the primary, which reports the real failure). Flush, not write: every
 * acknowledged commit is flushed (synchronous_commit is on), and the
 * standby only receives flushed WAL, so a write position ahead of it
 * (vacuum's WAL, flushed by the background writer up to 200 ms later)
 * would make reads wait for WAL that holds no commit anyone was told of. */
static bool primary_position(struct db *primary, char *lsn, size_t len)
{
    PGresult *res = NULL;
    bool ok = db_ensure(primary) == DB_OK &&
              db_exec(primary, "SELECT pg_current_wal_flush_lsn()::text", 0, NULL, &res) == DB_OK &&
              PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) && (size_t)PQgetlength(res, 0, 0) < len;
    if (ok)
        memcpy(lsn, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0) + 1);
    PQclear(res);
    return ok;
}

/* 1: replayed up to lsn; 0: not yet; -1: cannot tell (down, or promoted:
 * a server out of recovery has no replay position and is not our standby
 * any more). */
static int replayed(struct db *replica, const char *lsn)
{
    const char *params[1] = {lsn};
    PGresult *res = NULL;
    if (db_exec(replica, "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", 1, params, &res) != DB_OK)
        return -1;
    int rc = -1;
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        rc = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return rc;
}

struct db *db_for_read(struct db *primary, struct db *replica, long wait_ms)
{
    char lsn[32];
    if (!replica || !replica->url || !primary_position(primary, lsn, sizeof lsn) || db_ensure(replica) != DB_OK)
        return primary;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int rc = replayed(replica, lsn);
        if (rc != 0)
            return rc == 1 ? replica : primary;
        if (elapsed_ms(&t0) >= wait_ms)
            return primary;
        struct timespec pause = {0, REPLICA_POLL_MS * 1000000L};
        nanosleep(&pause, NULL);
    }
}
