/* The worker's one PostgreSQL connection: connecting with bounded timeouts,
 * healing after the server restarts, running each request in a transaction
 * that carries the caller's identity for row-level security, and turning
 * failures into the statuses handlers map to HTTP. */
#ifndef AGORA_DB_H
#define AGORA_DB_H

#include <stdbool.h>
#include <time.h>
#include <libpq-fe.h>

#include "auth/identity.h"
#include "db/stmt_cache.h"
#include "util/uuid.h"

struct config;

enum db_status {
    DB_OK = 0,
    DB_UNAVAILABLE,  /* no connection, or it broke: 503, the client retries */
    DB_TIMEOUT,      /* statement_timeout or lock timeout: 503 */
    DB_CONFLICT,     /* unique violation (23505) or serialization failure: 409 */
    DB_NOT_FOUND,    /* the row is not visible to the caller: 404 */
    DB_FORBIDDEN,    /* visible, but the caller's role may not do this: 403 */
    DB_INVALID,      /* data exception (22xxx) or check violation: 422 */
    DB_ERROR,        /* anything else: 500, details logged, not shown */
};

/* How many API keys a worker remembers having marked used. */
#define DB_TOUCHED_KEYS 16

struct db {
    PGconn *conn;      /* owned; NULL until the first successful connect */
    const struct config *cfg;
    bool in_tx;
    struct stmt_cache stmts;   /* what conn has prepared (db_exec) */
    bool stmts_stale;          /* statements or connection in doubt: reconnect after this request */
    struct timespec last_ok;   /* CLOCK_MONOTONIC of the last statement that worked */
    /* API keys whose last_used_at this worker updated lately (auth.c). */
    struct {
        char key_id[UUID_STR_LEN + 1];
        time_t at;
    } touched[DB_TOUCHED_KEYS];
};

/* Remembers cfg and tries to connect once; failure is not fatal (the next
 * request retries). Never blocks longer than the connect timeout. */
void db_init(struct db *db, const struct config *cfg);
/* Connects with an explicit conninfo (agora-admin). 0 or -1 (message on
 * stderr, without the password). */
int db_open_url(struct db *db, const char *url, long connect_timeout_s);
void db_close(struct db *db);

/* Makes sure the connection is up, reconnecting when it is not. */
enum db_status db_ensure(struct db *db);
/* Is the database reachable? SELECT 1, unless a statement worked less
 * than DB_PING_FRESH_MS ago and the connection is still open (the server
 * has not closed it: checked without a round trip). Health checks. */
#define DB_PING_FRESH_MS 1000
enum db_status db_ping(struct db *db);

/* BEGIN, then agora.begin_request(): sets agora.user_id /
 * agora.project_id / agora.org_id / agora.key_id with set_config(...,
 * true), i.e. SET LOCAL, which the row-level security policies read, and
 * the caller's organizations by role, looked up once per transaction. A connection found broken is reset
 * once and the BEGIN retried, so a database restart costs no request. */
enum db_status db_begin_as(struct db *db, const struct identity *who);
enum db_status db_commit(struct db *db);
/* Rolls back when a transaction is open; harmless otherwise. */
void db_rollback(struct db *db);

/* Runs one statement with text parameters ($1..$n; NULL entries are SQL
 * NULL) and text results. SELECT/INSERT/UPDATE/DELETE/WITH texts are
 * prepared once per connection and executed by name afterwards
 * (stmt_cache.h): texts come from a small constant set (SQL only with
 * parameters); past STMT_CACHE_SLOTS distinct texts, the rest run
 * unprepared. On DB_OK, *out (if out is not NULL) is a result
 * the caller PQclear()s; on failure *out is NULL and the error is logged. */
enum db_status db_exec(struct db *db, const char *sql, int nparams,
                       const char *const *params, PGresult **out);

/* Called by db_stream once per fetched batch, the first time even when the
 * query returned no rows. res is borrowed: valid during the call only.
 * Returns 0 to go on, -1 to stop early (e.g. the client went away). */
typedef int (*db_batch_fn)(void *ctx, const PGresult *res);

/* Runs the query sql ($1..$n text parameters, text results) through a
 * server-side cursor inside the open transaction (DECLARE ... NO SCROLL
 * CURSOR, FETCH batch rows at a time, CLOSE) and hands each batch to fn, so
 * a result of any size needs memory for one batch only. Needs the caller's
 * transaction (db_begin_as): DB_ERROR without one. DB_OK when every row
 * was handed over or fn stopped; otherwise the failure, logged, after any
 * batches fn already got (the transaction is then aborted). */
enum db_status db_stream(struct db *db, const char *sql, int nparams, const char *const *params,
                         int batch, db_batch_fn fn, void *ctx);

/* Maps a PostgreSQL SQLSTATE to a db_status (pure, for tests too). */
enum db_status db_status_from_sqlstate(const char *sqlstate);


#endif
