/* Prometheus metrics shared by all worker processes. agora-supervise forks N
 * workers and nginx hands a scrape to any one of them, so the counters live
 * in one file mapped MAP_SHARED by every worker (AGORA_METRICS_FILE): each
 * worker claims a slot at start and writes only that slot, with relaxed
 * atomics and no lock on the request path; GET /api/metrics sums the slots.
 * A restarted worker re-claims a dead worker's slot and keeps its counts,
 * so totals stay monotonic. The file format is described in metrics.c.
 *
 * The recording calls (metrics_request_*, metrics_ingested, metrics_db_*)
 * act on the block installed with metrics_install and do nothing when none
 * is: unit tests and a worker whose block could not be set up run as
 * usual. That installed block is the one global besides the worker's
 * configuration and connection. */
#ifndef AGORA_METRICS_H
#define AGORA_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Room for the route table: entries 0..METRICS_MAX_ROUTES-2 are routes by
 * their index in the table, the last one counts requests no route matched
 * (404, 405). A table with more routes cannot open a block. */
#define METRICS_MAX_ROUTES 64
#define METRICS_UNMATCHED (METRICS_MAX_ROUTES - 1)
/* Slots in the file: the most workers that can record at once. */
#define METRICS_SLOTS 128
/* Latency buckets, upper bounds in microseconds (1 ms .. 10 s), plus +Inf. */
#define METRICS_BUCKETS 13

struct metrics_block;

/* A route as the metrics name it: its labels, by its index in the route
 * table. The strings are borrowed and must outlive the block (the route
 * table's literals). */
struct metrics_route {
    const char *method;
    const char *pattern;
};

/* What a failed database call was, as counted (db.c classifies). */
enum metrics_db_kind { MDB_CONNECT_FAILED, MDB_CONNECTION_LOST, MDB_TIMEOUT, MDB_CONFLICT, MDB_NOT_FOUND,
                       MDB_FORBIDDEN, MDB_INVALID, MDB_STATEMENT_FAILED, MDB_COUNT };

/* Maps the metrics file at path (creating it with mode 0600 when missing),
 * checks it is ours (magic, version, size, and the layout of this route
 * table), and claims a slot for this process: a free slot or one whose
 * process is dead, whose counts are kept (its in-flight gauge is zeroed).
 * An existing file of another layout is started afresh only when no live
 * process holds a slot in it; a file that is not a metrics file is never
 * touched. Returns the block (the caller closes it), or NULL with a one-line
 * reason in err. */
struct metrics_block *metrics_block_open(const char *path, const struct metrics_route *routes, size_t nroutes,
                                         char *err, size_t errlen);
/* Maps an existing metrics file of this route table read-only, holding no
 * slot, for rendering only (agora-admin metrics). NULL with a reason in err
 * when it is missing, not ours or of another layout. The file is never
 * changed. */
struct metrics_block *metrics_block_read(const char *path, const struct metrics_route *routes, size_t nroutes,
                                         char *err, size_t errlen);
/* Gives the slot back (its counts stay in the file) and unmaps. NULL is a
 * no-op. */
void metrics_block_close(struct metrics_block *m);
/* Which slot this process holds (for tests). */
int metrics_block_slot(const struct metrics_block *m);

/* Makes m the block the recording calls write to (NULL: none). Borrowed:
 * install NULL before closing it. */
void metrics_install(struct metrics_block *m);
struct metrics_block *metrics_installed(void);

/* A request was accepted: the in-flight gauge goes up. */
void metrics_request_begin(void);
/* A request was answered: route_index is the route's index in the table,
 * or -1 when none matched; status the HTTP status sent; duration in
 * microseconds. The in-flight gauge goes down. */
void metrics_request_end(int route_index, int status, uint64_t duration_us);
/* Rows an ingest committed: one execution when it created one, and the
 * items of each table. */
void metrics_ingested(bool new_execution, size_t node_executions, size_t spans, size_t events, size_t snapshots);
/* A database call failed, of kind k (MDB_CONNECT_FAILED is
 * metrics_db_connect_failed's). */
void metrics_db_failure(enum metrics_db_kind k);
/* A connection to the database could not be made. */
void metrics_db_connect_failed(void);

/* Which latency bucket a duration falls in: the first whose upper bound is
 * >= duration_us, or METRICS_BUCKETS for +Inf. */
int metrics_bucket_index(uint64_t duration_us);

/* Appends the sum over every slot of m in the Prometheus text exposition
 * format 0.0.4, naming routes from the table (the one m was opened with).
 * Label values are escaped (\\, \", \n). */
void metrics_render(const struct metrics_block *m, struct buf *out);

#endif
