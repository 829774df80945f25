/* The retention job's partition step (sql/025): monthly partitions of the
 * item tables are made ahead, and whole months that every project with
 * runs in them has let expire are dropped, before the job's batches
 * delete what is left row by row. */
#ifndef AGORA_RETENTION_PARTITIONS_H
#define AGORA_RETENTION_PARTITIONS_H

#include <libpq-fe.h>

/* Months made ahead of the current one on every pass. */
#define PARTITIONS_MONTHS_AHEAD 3
/* How long a drop waits for the parent's lock (ingests in flight) before
 * it leaves the partition to the next pass, in milliseconds. */
#define PARTITIONS_LOCK_MS 200

/* One statement of the job returning one row: a new PGresult, or NULL
 * after printing why to stderr. Both of the job's steps call it. */
PGresult *retention_one(PGconn *conn, const char *sql, int n, const char *const *params);

struct partitions_outcome {
    long long created;
    long long dropped;
};

/* Makes the partitions ahead, then drops expired ones, one per
 * transaction, until none is left, stop() says so (may be NULL) or an
 * error. 0, or -1 after printing the error to stderr. */
int partitions_maintain(PGconn *conn, int (*stop)(void), struct partitions_outcome *out);

#endif
