/* agora-live: publishes committed ingests to this host's nginx (Nchan).
 *
 *   AGORA_DATABASE_URL[_FILE]=... AGORA_LIVE_PUBLISH_SOCKET=/path/live-pub.sock agora-live
 *
 * One per nginx host. It LISTENs on PostgreSQL's agora_live channel, where
 * every ingest's transaction queues its messages (domain/live_announce.c);
 * PostgreSQL delivers them only on commit, in commit order, to every
 * listener, so each host's Nchan gets every message in the same order and
 * nothing rolled back is ever published. Each message is POSTed to the
 * local Nchan publisher location ("/pub/<channel>") over a unix socket
 * that only nginx and this process can reach (run.sh).
 *
 * A project channel's updates (rows, domain/live_announce.h) are coalesced
 * (domain/live_batch.c): held for AGORA_LIVE_BATCH_MS (default 500; 0: not
 * held) after the first, then published as one message under one list of
 * column names, because nginx writes each message to every
 * subscriber and a watched busy project would otherwise cost nginx as much
 * CPU as the ingests themselves (BENCHMARKS.md, "Live monitoring"). An
 * execution channel's messages go out at once: a run's page shows each
 * append as it commits.
 *
 * When the database goes away it reconnects with the workers' backoff
 * (100 ms doubling to 30 s). Messages committed while it was away are not
 * published: subscribers notice the gap by `seq` and reload through the
 * API (docs/LIVE.md section 4). A message Nchan refuses is logged and
 * dropped for the same reason: a late message is worth less than a
 * publisher that keeps up.
 *
 * It also folds the statistics deltas into the rollups every
 * AGORA_STATS_FOLD_SECONDS (default 2; 0: never), on a connection of its
 * own (live_fold.h): the statistics routes fold what is pending before
 * they read, and this keeps that little.
 *
 * SIGTERM, SIGINT: publishes what it holds, then exits 0. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libpq-fe.h>

#include "domain/live_announce.h"
#include "domain/live_batch.h"
#include "json/json_scan.h"
#include "main/live_fold.h"
#include "ops/backoff.h"
#include "ops/config.h"
#include "ops/signals.h"

static void sleep_ms(uint32_t ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (!signals_stop_requested() && nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Discards Nchan's answer (channel statistics). */
static size_t ignore_body(char *data, size_t size, size_t n, void *ctx)
{
    (void)data;
    (void)ctx;
    return size * n;
}

struct publisher {
    CURL *curl;
    struct curl_slist *headers;
    const char *socket_path;
    unsigned long notices;           /* live messages received */
    unsigned long published, dropped; /* messages (single or batch) sent to nginx, or not */
};

static int publisher_init(struct publisher *p, const char *socket_path)
{
    memset(p, 0, sizeof *p);
    p->socket_path = socket_path;
    p->curl = curl_easy_init();
    p->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!p->curl || !p->headers)
        return -1;
    /* One handle for every message: the connection to nginx is kept. */
    if (curl_easy_setopt(p->curl, CURLOPT_UNIX_SOCKET_PATH, socket_path) != CURLE_OK ||
        curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, p->headers) != CURLE_OK ||
        curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, ignore_body) != CURLE_OK ||
        curl_easy_setopt(p->curl, CURLOPT_TIMEOUT_MS, 2000L) != CURLE_OK ||
        curl_easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK)
        return -1;
    return 0;
}

static void publisher_free(struct publisher *p)
{
    curl_slist_free_all(p->headers);
    if (p->curl)
        curl_easy_cleanup(p->curl);
}

/* Publishes message (len bytes) on channel: a live_emit_fn. A refused
 * publish is logged and dropped. */
static void publish(void *ctx, const char *channel, const char *message, size_t len)
{
    struct publisher *p = ctx;
    char url[64 + LIVE_CHANNEL_MAX];
    snprintf(url, sizeof url, "http://localhost/pub/%s", channel);
    long code = 0;
    CURLcode rc;
    if ((rc = curl_easy_setopt(p->curl, CURLOPT_URL, url)) != CURLE_OK ||
        (rc = curl_easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE, (long)len)) != CURLE_OK ||
        (rc = curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, message)) != CURLE_OK ||
        (rc = curl_easy_perform(p->curl)) != CURLE_OK ||
        (rc = curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &code)) != CURLE_OK || code < 200 || code > 299) {
        fprintf(stderr, "agora-live: publish to %s on %s failed: %s (HTTP %ld); message dropped\n", channel,
                p->socket_path, rc != CURLE_OK ? curl_easy_strerror(rc) : "refused", code);
        p->dropped++;
        return;
    }
    p->published++;
}

/* A project channel's message waits in batcher for its window; any other
 * goes out at once. A bad payload is logged and dropped. The message is
 * compacted in place first (payload is the notification's own memory):
 * PostgreSQL writes jsonb with ", " and ": ", a tenth of what every
 * subscriber would otherwise be sent. */
static void take_notice(struct publisher *p, struct live_batcher *batcher, char *payload, uint64_t now_ms)
{
    char channel[LIVE_CHANNEL_MAX + 1];
    const char *parsed;
    if (live_notice_parse(payload, channel, &parsed) < 0) {
        fprintf(stderr, "agora-live: dropped a notification that is not a live message\n");
        p->dropped++;
        return;
    }
    p->notices++;
    char *message = payload + (parsed - payload);
    size_t len = json_compact(message, message, strlen(message));
    message[len] = '\0';
    if (strncmp(channel, "project/", 8) == 0)
        live_batcher_add(batcher, channel, message, now_ms, publish, p);
    else
        publish(p, channel, message, len);
}

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* A connection that listens, or NULL (logged). */
static PGconn *connect_and_listen(const char *url)
{
    PGconn *conn = PQconnectdb(url);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "agora-live: cannot connect to the database: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    PGresult *res = PQexec(conn, "LISTEN " LIVE_NOTIFY_CHANNEL);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) {
        fprintf(stderr, "agora-live: LISTEN failed: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* Serves one connection until it breaks or we are stopping, folding the
 * statistics when due; windows still open then are the caller's to
 * publish. */
static void serve(PGconn *conn, struct publisher *p, struct live_batcher *batcher, struct live_fold *fold)
{
    /* Idle this long, the connection is checked with a round trip (a
     * server that vanished without closing the socket). */
    const int idle_check_ms = 30000;
    int next_due = -1;
    while (!signals_stop_requested()) {
        struct pollfd pfd[2] = {{PQsocket(conn), POLLIN, 0}, {live_fold_fd(fold), POLLIN, 0}};
        int timeout = next_due >= 0 && next_due < idle_check_ms ? next_due : idle_check_ms;
        int fold_due = live_fold_wait_ms(fold, now_ms());
        if (fold_due >= 0 && fold_due < timeout)
            timeout = fold_due;
        int n = poll(pfd, 2, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "agora-live: poll: %s\n", strerror(errno));
            return;
        }
        if (n == 0 && timeout < idle_check_ms) {
            /* a window ended or a fold is due: below */
        } else if (n == 0) {
            PGresult *res = PQexec(conn, "SELECT 1");
            bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
            PQclear(res);
            if (!ok)
                return;
        } else if (!PQconsumeInput(conn)) {
            return;
        }
        live_fold_step(fold, now_ms());
        PGnotify *note;
        while ((note = PQnotifies(conn)) != NULL) {
            take_notice(p, batcher, note->extra, now_ms());
            PQfreemem(note);
        }
        next_due = live_batcher_due(batcher, now_ms(), publish, p);
        if (PQstatus(conn) != CONNECTION_OK)
            return;
    }
}

int main(void)
{
    char err[256] = "";
    unsigned char *url = NULL;
    size_t url_len = 0;
    long long batch_ms, fold_s;
    const char *socket_path = getenv("AGORA_LIVE_PUBLISH_SOCKET");
    if (config_secret("AGORA_DATABASE_URL", config_getenv, NULL, true, &url, &url_len, err, sizeof err) <= 0 ||
        !socket_path || !*socket_path ||
        config_number("AGORA_LIVE_BATCH_MS", LIVE_BATCH_MS_DEFAULT, 0, LIVE_BATCH_MS_MAX, config_getenv, NULL,
                      &batch_ms, err, sizeof err) < 0 ||
        config_number("AGORA_STATS_FOLD_SECONDS", LIVE_FOLD_SECONDS_DEFAULT, 0, LIVE_FOLD_SECONDS_MAX, config_getenv,
                      NULL, &fold_s, err, sizeof err) < 0) {
        fprintf(stderr, "agora-live: bad configuration: %s\n",
                !url ? (err[0] ? err : "AGORA_DATABASE_URL: required")
                     : (!socket_path || !*socket_path) ? "AGORA_LIVE_PUBLISH_SOCKET: required" : err);
        free(url);
        return 2;
    }
    struct publisher p;
    if (signals_install_stop(NULL, 0) < 0 || curl_global_init(CURL_GLOBAL_NOTHING) != CURLE_OK ||
        publisher_init(&p, socket_path) < 0) {
        fprintf(stderr, "agora-live: cannot initialise\n");
        free(url);
        return 1;
    }
    struct live_batcher *batcher = live_batcher_new((uint32_t)batch_ms);
    struct live_fold fold;
    live_fold_init(&fold, (const char *)url, (uint64_t)fold_s * 1000u, now_ms());
    fprintf(stderr, "agora-live: publishing to %s (project channels every %lld ms); statistics folded every %lld s\n",
            socket_path, batch_ms, fold_s);
    uint32_t delay = 0;
    bool listened_before = false;
    while (!signals_stop_requested()) {
        struct timespec began;
        clock_gettime(CLOCK_MONOTONIC, &began);
        PGconn *conn = connect_and_listen((const char *)url);
        if (conn) {
            if (listened_before)
                fprintf(stderr, "agora-live: listening again; messages committed meanwhile were not "
                                "published (subscribers resync by seq)\n");
            listened_before = true;
            serve(conn, &p, batcher, &fold);
            PQfinish(conn);
        }
        /* What was received had committed: publish it now rather than
         * after the reconnect's backoff, or never (stopping). */
        live_batcher_flush(batcher, publish, &p);
        if (signals_stop_requested())
            break;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long lived = (now.tv_sec - began.tv_sec) * 1000LL + (now.tv_nsec - began.tv_nsec) / 1000000;
        delay = backoff_next_ms(delay, lived > 0 ? (uint64_t)lived : 0);
        fprintf(stderr, "agora-live: database connection lost; retrying in %u ms\n", delay);
        sleep_ms(delay);
    }
    fprintf(stderr, "agora-live: stopping (%lu messages received; %lu published, %lu dropped; %lu statistics folds "
                    "of %lu delta rows, %lu failed)\n",
            p.notices, p.published, p.dropped, fold.folds, fold.rows, fold.failures);
    live_fold_free(&fold);
    live_batcher_free(batcher);
    publisher_free(&p);
    curl_global_cleanup();
    free(url);
    return 0;
}
