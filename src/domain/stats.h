/* Workflow and project statistics (GET /api/workflows/{id}/stats,
 * GET /api/projects/{id}/stats; README "Workflow and project statistics"):
 * executions per time bucket by status with success rate and duration
 * percentiles, per node runs, failures, retries and phase percentiles, the
 * top errors, tokens and cost. Read from the rollups of
 * sql/011_stats_rollups.sql and sql/013_stats_deltas.sql in the caller's transaction, so row-level
 * security decides what is seen; the cost does not grow with the number
 * of executions, only with the window's hours. */
#ifndef AGORA_STATS_H
#define AGORA_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "db/db.h"

enum stats_scope { STATS_WORKFLOW, STATS_PROJECT };
enum stats_bucket { STATS_HOUR, STATS_DAY };

/* The longest windows, in buckets: a month of hours, a year of days. */
#define STATS_MAX_HOURS (31 * 24)
#define STATS_MAX_DAYS 366

/* A window [since, until) in microseconds since the epoch, both on bucket
 * boundaries (UTC). */
struct stats_window {
    int64_t since_us, until_us;
    enum stats_bucket bucket;
};

/* The window of a request: bucket is "hour", "day" or NULL (day); since
 * and until are NULL when not given (until: now_us; since: 24 hours before
 * until for hours, 30 days for days). since is rounded down and until up
 * to the bucket. 0 and *out, or -1 with *path (the parameter at fault) and
 * *why (a static message) when bucket is unknown, since is not before
 * until, or the window has more buckets than allowed. Pure. */
int stats_window_make(const int64_t *since_us, const int64_t *until_us, const char *bucket, int64_t now_us,
                      struct stats_window *out, const char **path, const char **why);

/* Takes the project's fold lock for the rest of the transaction (sql/021):
 * a delete that cascades to the rollups calls it first, so it never
 * deadlocks with a fold writing them. */
enum db_status stats_hold(struct db *db, const char *project_id);

/* The statistics of workflow or project id (a canonical UUID) over w.
 * DB_NOT_FOUND when the caller cannot see it. Runs in the caller's
 * transaction (db_begin_as as who), which it commits once the project's
 * pending deltas are folded, then begins again as who, so the answer
 * counts every ingest committed before the call. With a hot standby
 * (read_db, else NULL) the rollups are then read there, once it has
 * replayed the fold (db/replica.h, waiting up to read_wait_ms), else on
 * db. On DB_OK *out is a new reference the caller owns (the README
 * documents its members). */
enum db_status stats_read(struct db *db, struct db *read_db, long read_wait_ms, const struct identity *who,
                          enum stats_scope scope, const char *id, const struct stats_window *w,
                          struct json_object **out);

#endif
