/* Folding the statistics deltas from agora-live (live_fold.h). */
#include "main/live_fold.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/stringify.h"

/* Delta rows per fold, at most: a backlog (agora-live was down, a bulk
 * load) is folded in steps of this many, one right after the other, so no
 * fold holds a project's fold lock (which a read of it waits for) long. */
#define FOLD_ROWS 500
#define FOLD_SQL "SELECT agora.stats_fold(NULL, " STRINGIFY(FOLD_ROWS) ")"

void live_fold_init(struct live_fold *f, const char *url, uint64_t period_ms, uint64_t now_ms)
{
    memset(f, 0, sizeof *f);
    f->url = url;
    f->period_ms = period_ms;
    f->next_ms = now_ms + period_ms;
}

int live_fold_fd(const struct live_fold *f)
{
    return f->busy && f->conn ? PQsocket(f->conn) : -1;
}

int live_fold_wait_ms(const struct live_fold *f, uint64_t now_ms)
{
    if (f->period_ms == 0 || f->busy)
        return -1;
    return f->next_ms > now_ms ? (int)(f->next_ms - now_ms) : 0;
}

static void drop_connection(struct live_fold *f)
{
    PQfinish(f->conn);
    f->conn = NULL;
    f->busy = false;
}

/* The fold's results, once all have arrived: logs a failure. */
static void finish(struct live_fold *f, uint64_t now_ms)
{
    if (!PQconsumeInput(f->conn)) {
        fprintf(stderr, "agora-live: statistics fold: %s", PQerrorMessage(f->conn));
        f->failures++;
        drop_connection(f);
        f->next_ms = now_ms + f->period_ms;
        return;
    }
    if (PQisBusy(f->conn))
        return;
    PGresult *res;
    unsigned long rows = 0;
    while ((res = PQgetResult(f->conn)) != NULL) {
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
            f->folds++;
            rows = strtoul(PQgetvalue(res, 0, 0), NULL, 10);
            f->rows += rows;
        } else {
            fprintf(stderr, "agora-live: statistics fold failed: %s", PQresultErrorMessage(res));
            f->failures++;
        }
        PQclear(res);
    }
    f->busy = false;
    /* A full step: more is pending, go on at once. */
    f->next_ms = rows >= FOLD_ROWS ? now_ms : now_ms + f->period_ms;
    if (PQstatus(f->conn) != CONNECTION_OK)
        drop_connection(f);
}

void live_fold_step(struct live_fold *f, uint64_t now_ms)
{
    if (f->busy) {
        finish(f, now_ms);
        return;
    }
    if (f->period_ms == 0 || now_ms < f->next_ms)
        return;
    f->next_ms = now_ms + f->period_ms;
    if (!f->conn) {
        f->conn = PQconnectdb(f->url);
        if (PQstatus(f->conn) != CONNECTION_OK) {
            fprintf(stderr, "agora-live: statistics fold: cannot connect: %s", PQerrorMessage(f->conn));
            f->failures++;
            drop_connection(f);
            return;
        }
    }
    /* One transaction of its own (no BEGIN: the statement is one). */
    if (!PQsendQuery(f->conn, FOLD_SQL)) {
        fprintf(stderr, "agora-live: statistics fold: %s", PQerrorMessage(f->conn));
        f->failures++;
        drop_connection(f);
        return;
    }
    f->busy = true;
}

void live_fold_free(struct live_fold *f)
{
    PQfinish(f->conn);
    f->conn = NULL;
}
