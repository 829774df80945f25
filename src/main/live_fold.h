/* agora-live's second task: folding the statistics deltas into the
 * rollups (sql/013_stats_deltas.sql, agora.stats_fold) every few seconds,
 * so a statistics read finds few deltas pending. On a connection of its
 * own and without blocking: agora-live's loop polls live_fold_fd() beside
 * its LISTEN socket and calls live_fold_step(), and a fold never delays a
 * live message (the LISTEN connection gets no notification while it runs
 * a statement). */
#ifndef AGORA_LIVE_FOLD_H
#define AGORA_LIVE_FOLD_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

/* AGORA_STATS_FOLD_SECONDS: its default and largest value (0: no fold). */
#define LIVE_FOLD_SECONDS_DEFAULT 2
#define LIVE_FOLD_SECONDS_MAX 3600

struct live_fold {
    const char *url;      /* borrowed: the database URL, valid as long as this */
    PGconn *conn;         /* owned; NULL while not connected */
    uint64_t period_ms;   /* 0: folding is off */
    uint64_t next_ms;     /* when the next fold starts (now_ms clock) */
    bool busy;            /* a fold was sent and its result not read yet */
    unsigned long folds, rows, failures; /* folds done, delta rows they took, failures */
};

/* The first fold is due one period after now_ms. */
void live_fold_init(struct live_fold *f, const char *url, uint64_t period_ms, uint64_t now_ms);
/* The socket to poll for input while a fold runs, else -1. */
int live_fold_fd(const struct live_fold *f);
/* Milliseconds until a fold is due (0: now), or -1 while one runs or
 * folding is off. */
int live_fold_wait_ms(const struct live_fold *f, uint64_t now_ms);
/* Reads a finished fold's result, then starts the next fold when it is due
 * (connecting first when needed). A failure is logged and the fold tried
 * again a period later. Never waits for the server, but for connecting. */
void live_fold_step(struct live_fold *f, uint64_t now_ms);
void live_fold_free(struct live_fold *f);

#endif
