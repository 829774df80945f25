/* The worker's PostgreSQL connection. Three promises: a request never waits
 * longer than the connect or statement timeout (503 instead of a hang), a
 * database restart heals by itself (the connection is re-made on the next
 * request, and a BEGIN that finds it broken is retried once on a fresh
 * one), and every authenticated statement runs with the caller's identity
 * set for row-level security. */
#include "db/db.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/text.h"
#include "ops/config.h"
#include "ops/metrics.h"

static void log_conn_failure(PGconn *conn, const char *what)
{
    /* PQerrorMessage can name host and user but never the password. */
    const char *msg = conn ? PQerrorMessage(conn) : "out of memory";
    char clean[300];
    sanitize_text(clean, sizeof clean, msg);
    fprintf(stderr, "agora: db: %s: %s\n", what, clean);
}

static PGconn *connect_to(const char *url, long connect_timeout_s, long statement_timeout_ms,
                          long stale_minutes)
{
    char timeout[24], options[160];
    snprintf(timeout, sizeof timeout, "%ld", connect_timeout_s);
    /* idle_in_transaction: a worker killed mid-request must not hold locks. */
    /* TimeZone=UTC: offset-less timestamps from clients are UTC (contract 4). */
    /* agora.stale_minutes: when the read routes call a running execution
     * stale (AGORA_STALE_MINUTES, execution_reads.c). */
    snprintf(options, sizeof options,
             "-c statement_timeout=%ld -c idle_in_transaction_session_timeout=60000 -c TimeZone=UTC"
             " -c agora.stale_minutes=%ld",
             statement_timeout_ms, stale_minutes);
    /* dbname is expanded as a conninfo string or URL; the keywords after it
     * override what it says, so the timeouts always hold. */
    const char *const keys[] = {"dbname", "connect_timeout", "application_name", "options",
                                "keepalives", "keepalives_idle", "keepalives_interval",
                                "keepalives_count", NULL};
    const char *const vals[] = {url, timeout, "agora-worker", options, "1", "10", "5", "3", NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        metrics_db_connect_failed();
        log_conn_failure(conn, "connect failed");
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

void db_init(struct db *db, const struct config *cfg)
{
    memset(db, 0, sizeof *db);
    stmt_cache_init(&db->stmts);
    db->cfg = cfg;
    if (cfg->database_url)
        db->conn = connect_to(cfg->database_url, cfg->connect_timeout_s, cfg->statement_timeout_ms, cfg->stale_minutes);
}

int db_open_url(struct db *db, const char *url, long connect_timeout_s)
{
    memset(db, 0, sizeof *db);
    stmt_cache_init(&db->stmts);
    db->conn = connect_to(url, connect_timeout_s, 0, CONFIG_STALE_MINUTES_DEFAULT);
    return db->conn ? 0 : -1;
}

void db_close(struct db *db)
{
    PQfinish(db->conn);
    db->conn = NULL;
    db->in_tx = false;
    /* Prepared statements live and die with the connection. */
    stmt_cache_clear(&db->stmts);
    db->stmts_stale = false;
}

static enum db_status reconnect(struct db *db)
{
    db_close(db);
    if (!db->cfg || !db->cfg->database_url)
        return DB_UNAVAILABLE;
    db->conn = connect_to(db->cfg->database_url, db->cfg->connect_timeout_s, db->cfg->statement_timeout_ms,
                          db->cfg->stale_minutes);
    return db->conn ? DB_OK : DB_UNAVAILABLE;
}

enum db_status db_ensure(struct db *db)
{
    if (db->conn && PQstatus(db->conn) == CONNECTION_OK && !(db->stmts_stale && !db->in_tx))
        return DB_OK;
    return reconnect(db);
}

enum db_status db_status_from_sqlstate(const char *s)
{
    if (!s || strlen(s) != 5)
        return DB_ERROR;
    if (strncmp(s, "08", 2) == 0 || strncmp(s, "53", 2) == 0 || strcmp(s, "57P01") == 0 ||
        strcmp(s, "57P02") == 0 || strcmp(s, "57P03") == 0 || strcmp(s, "25P03") == 0)
        return DB_UNAVAILABLE;
    if (strcmp(s, "57014") == 0 || strcmp(s, "55P03") == 0)
        return DB_TIMEOUT;
    if (strcmp(s, "23505") == 0 || strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0)
        return DB_CONFLICT;
    if (strcmp(s, "42501") == 0)
        return DB_FORBIDDEN;
    if (strcmp(s, "23503") == 0)
        return DB_NOT_FOUND;
    if (strncmp(s, "22", 2) == 0 || strcmp(s, "23514") == 0 || strcmp(s, "23502") == 0)
        return DB_INVALID;
    return DB_ERROR;
}

/* Classifies a failed result; a broken connection wins over any SQLSTATE. */
/* How a failed statement is counted in the metrics. */
static enum metrics_db_kind metrics_kind(enum db_status st)
{
    switch (st) {
    case DB_UNAVAILABLE: return MDB_CONNECTION_LOST;
    case DB_TIMEOUT: return MDB_TIMEOUT;
    case DB_CONFLICT: return MDB_CONFLICT;
    case DB_NOT_FOUND: return MDB_NOT_FOUND;
    case DB_FORBIDDEN: return MDB_FORBIDDEN;
    case DB_INVALID: return MDB_INVALID;
    case DB_OK:
    case DB_ERROR: break;
    }
    return MDB_STATEMENT_FAILED;
}

static enum db_status classify(struct db *db, PGresult *res)
{
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK)
        return DB_UNAVAILABLE;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    /* No SQLSTATE: libpq made the error itself and the server never judged
     * the statement. That is a connection going away (a server killed under
     * a query can report "server closed the connection" while libpq still
     * calls the connection OK), so the caller may retry, and this
     * connection is replaced before the next request. */
    enum db_status st = state ? db_status_from_sqlstate(state) : DB_UNAVAILABLE;
    if (!state)
        db->stmts_stale = true;
    if (st == DB_ERROR || st == DB_TIMEOUT || st == DB_UNAVAILABLE) {
        char clean[300];
        const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        sanitize_text(clean, sizeof clean, primary ? primary : PQerrorMessage(db->conn));
        fprintf(stderr, "agora: db: sqlstate=%s %s\n", state ? state : "?", clean);
    }
    return st;
}

static bool result_ok(const PGresult *res)
{
    ExecStatusType rs = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    return rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK;
}

/* Runs sql by name, preparing it first on this connection's first use
 * (one extra round trip, once). Returns the statement's result, or the
 * failed PREPARE's. */
static PGresult *run_prepared(struct db *db, const char *sql, int nparams, const char *const *params)
{
    char name[STMT_CACHE_NAME_LEN];
    int slot = stmt_cache_find(&db->stmts, sql);
    if (slot < 0) {
        slot = stmt_cache_next(&db->stmts);
        if (slot < 0)
            return PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
        stmt_cache_name(slot, name);
        PGresult *prep = PQprepare(db->conn, name, sql, nparams, NULL);
        if (!result_ok(prep))
            return prep;
        PQclear(prep);
        /* Out of memory for the copy: the server holds a statement under
         * a name the table would hand out again, so start over on a new
         * connection after this request. */
        if (stmt_cache_add(&db->stmts, sql) != slot)
            db->stmts_stale = true;
    } else {
        stmt_cache_name(slot, name);
    }
    return PQexecPrepared(db->conn, name, nparams, params, NULL, NULL, 0);
}

enum db_status db_exec(struct db *db, const char *sql, int nparams, const char *const *params, PGresult **out)
{
    if (out)
        *out = NULL;
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK)
        return DB_UNAVAILABLE;
    PGresult *res = stmt_cache_wanted(sql) ? run_prepared(db, sql, nparams, params)
                                           : PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (!result_ok(res)) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        /* 26000: a prepared statement is gone (someone ran DEALLOCATE);
         * 0A000: "cached plan must not change result type" after a
         * migration. Either way the names are no longer to be trusted. */
        if (state && (strcmp(state, "26000") == 0 || strcmp(state, "0A000") == 0))
            db->stmts_stale = true;
        enum db_status st = classify(db, res);
        metrics_db_failure(metrics_kind(st));
        PQclear(res);
        return st;
    }
    clock_gettime(CLOCK_MONOTONIC, &db->last_ok);
    if (out)
        *out = res;
    else
        PQclear(res);
    return DB_OK;
}

/* The one cursor name db_stream uses: a request streams one result at a
 * time, and the cursor is closed (or the transaction aborted) before the
 * next. */
#define STREAM_CURSOR "agora_stream"

enum db_status db_stream(struct db *db, const char *sql, int nparams, const char *const *params,
                         int batch, db_batch_fn fn, void *ctx)
{
    if (!db->in_tx || batch <= 0) {
        fprintf(stderr, "agora: db: db_stream needs an open transaction and a positive batch\n");
        return DB_ERROR;
    }
    struct buf declare;
    buf_init(&declare);
    buf_printf(&declare, "DECLARE " STREAM_CURSOR " NO SCROLL CURSOR FOR %s", sql);
    enum db_status st = db_exec(db, declare.data, nparams, params, NULL);
    buf_free(&declare);
    if (st != DB_OK)
        return st;

    char fetch[64];
    snprintf(fetch, sizeof fetch, "FETCH FORWARD %d FROM " STREAM_CURSOR, batch);
    for (;;) {
        PGresult *res = NULL;
        st = db_exec(db, fetch, 0, NULL, &res);
        if (st != DB_OK)
            return st;
        int n = PQntuples(res);
        int go_on = fn(ctx, res);
        PQclear(res);
        if (go_on < 0 || n < batch)
            break;
    }
    return db_exec(db, "CLOSE " STREAM_CURSOR, 0, NULL, NULL);
}

static enum db_status exec_simple(struct db *db, const char *sql)
{
    return db_exec(db, sql, 0, NULL, NULL);
}

/* True when a statement worked less than DB_PING_FRESH_MS ago and nothing
 * has arrived on the idle connection since. A server that stops or
 * restarts sends its backends' clients an error and closes their sockets,
 * which then turn readable; so does anything else unasked for. Either way
 * the caller falls back to a real round trip. */
static bool recently_alive(struct db *db)
{
    struct timespec now;
    if (!db->conn || db->in_tx || PQstatus(db->conn) != CONNECTION_OK || db->last_ok.tv_sec == 0 ||
        clock_gettime(CLOCK_MONOTONIC, &now) < 0)
        return false;
    long long ms = (long long)(now.tv_sec - db->last_ok.tv_sec) * 1000 +
                   (now.tv_nsec - db->last_ok.tv_nsec) / 1000000;
    if (ms < 0 || ms >= DB_PING_FRESH_MS)
        return false;
    struct pollfd p = {.fd = PQsocket(db->conn), .events = POLLIN};
    return poll(&p, 1, 0) == 0;
}

enum db_status db_ping(struct db *db)
{
    if (recently_alive(db))
        return DB_OK;
    enum db_status st = db_ensure(db);
    if (st != DB_OK)
        return st;
    st = exec_simple(db, "SELECT 1");
    /* The server may have restarted since the last request: try once more
     * on a fresh connection before calling it down. */
    if (st == DB_UNAVAILABLE && reconnect(db) == DB_OK)
        st = exec_simple(db, "SELECT 1");
    return st;
}

enum db_status db_begin_as(struct db *db, const struct identity *who)
{
    enum db_status st = db_ensure(db);
    if (st != DB_OK)
        return st;
    st = exec_simple(db, "BEGIN");
    if (st == DB_UNAVAILABLE) {
        if (reconnect(db) != DB_OK)
            return DB_UNAVAILABLE;
        st = exec_simple(db, "BEGIN");
    }
    if (st != DB_OK)
        return st;
    db->in_tx = true;
    const char *params[4] = {who->user_id, who->project_id, who->org_id, who->key_id};
    /* Sets the identity and looks up the caller's organizations once for
     * the whole transaction (sql/005). */
    st = db_exec(db, "SELECT agora.begin_request($1, $2, $3, $4)", 4, params, NULL);
    if (st != DB_OK)
        db_rollback(db);
    return st;
}

enum db_status db_commit(struct db *db)
{
    if (!db->in_tx)
        return DB_OK;
    PGresult *res = NULL;
    enum db_status st = db_exec(db, "COMMIT", 0, NULL, &res);
    db->in_tx = false;
    /* COMMIT of a transaction that already failed reports ROLLBACK. */
    if (st == DB_OK && strcmp(PQcmdStatus(res), "COMMIT") != 0)
        st = DB_ERROR;
    PQclear(res);
    return st;
}

void db_rollback(struct db *db)
{
    if (!db->in_tx)
        return;
    db->in_tx = false;
    if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
        PQclear(PQexec(db->conn, "ROLLBACK"));
}
