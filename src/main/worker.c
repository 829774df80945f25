/* agora-worker: one FastCGI worker process. spawn-fcgi hands the
 * listening socket as fd 0 to agora-supervise (src/main/supervise.c), which forks
 * N of them and starts again any that dies. Each worker serves one request at a time over one persistent
 * database connection. SIGTERM lets the request in hand finish, then exits. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fcgiapp.h>

#include "http/access_log.h"
#include "domain/webhook_target.h"
#include "ops/config.h"
#include "db/db.h"
#include "http/fcgi_io.h"
#include "ops/metrics.h"
#include "ops/signals.h"
#include "http/request.h"
#include "http/router.h"
#include "handlers/routes.h"

/* SIGTERM, SIGINT, SIGQUIT and SIGUSR1 all mean "finish and go".
 * agora-supervise sends SIGTERM; SIGQUIT stays a stop too because Debian
 * 12's multiwatch (1.0.0-rc1+really1.0.0), which supervised the workers
 * before, sent it for `-s TERM`, and its default action would kill the
 * worker in the middle of a request (and skip its exit path). The stop
 * breaks the blocking accept() so an idle worker exits at once
 * (FCGI_FAIL_ACCEPT_ON_INTR below). */
static const int extra_stop_signals[] = {SIGQUIT, SIGUSR1};

/* Free heap above this after a request goes back to the kernel. Below
 * it, the next request reuses the pages instead of faulting them in
 * again: at 4 MiB every OTLP request of 500 spans gave its pages back and
 * took them again, a fifth of the worker's time (BENCHMARKS.md,
 * "OpenTelemetry ingest", the worker's allocations). */
#define IDLE_HEAP_KEEP (16u << 20)

/* glibc's allocator, set for a process that builds and drops a request's
 * worth of small objects (decoded spans, json-c values) and a few large
 * buffers (parameters of megabytes) per request: no fastbins, whose
 * consolidation before each large allocation walked every small block the
 * request had freed; large buffers from the heap up to 4 MiB (mmap'ed
 * above it, given back at once), and the heap's top trimmed only past
 * IDLE_HEAP_KEEP. Measured on the OTLP path (decode, plan, parameters of
 * a 500-span request): 6.1 ms before, 4.1 ms after. */
static void tune_allocator(void)
{
    mallopt(M_MXFAST, 0);
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, (int)IDLE_HEAP_KEEP);
}

/* glibc keeps freed memory for reuse, and a large request (a 1 MiB body,
 * thousands of rows) leaves it fragmented, so the top-of-heap trim never
 * fires: the worker's RSS would stay at the largest request's peak.
 * malloc_trim(0) also hands back whole free pages inside the heap. Only
 * when there is much to give back, so small requests pay nothing but the
 * mallinfo2() walk. */
static void release_idle_memory(void)
{
    struct mallinfo2 mi = mallinfo2();
    if (mi.fordblks > IDLE_HEAP_KEEP)
        malloc_trim(0);
}

static uint64_t elapsed_us(const struct timespec *from)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long us = (now.tv_sec - from->tv_sec) * 1000000LL + (now.tv_nsec - from->tv_nsec) / 1000;
    return us > 0 ? (uint64_t)us : 0;
}

/* The shared metrics block, or NULL: a worker without one still serves,
 * and its /api/metrics answers 503. */
static struct metrics_block *open_metrics(const struct config *cfg)
{
    char err[512];
    struct metrics_route labels[METRICS_MAX_ROUTES];
    if (!cfg->metrics_file) {
        fprintf(stderr, "agora-worker: metrics off: set AGORA_METRICS_FILE (or AGORA_VAR)\n");
        return NULL;
    }
    struct metrics_block *m = metrics_block_open(cfg->metrics_file, labels, agora_routes_metric_labels(labels), err,
                                                 sizeof err);
    if (!m)
        fprintf(stderr, "agora-worker: metrics unavailable: %s\n", err);
    return m;
}

int main(void)
{
    struct config cfg;
    char err[256];
    tune_allocator();
    if (config_load(&cfg, config_getenv, NULL, err, sizeof err) < 0) {
        fprintf(stderr, "agora-worker: bad configuration: %s\n", err);
        return 2;
    }
    if (!cfg.database_url) {
        fprintf(stderr, "agora-worker: bad configuration: AGORA_DATABASE_URL: required\n");
        config_free(&cfg);
        return 2;
    }
    unsigned allow;
    const char *why;
    if (webhook_allow_parse(cfg.webhook_allow ? cfg.webhook_allow : "", &allow, &why) < 0) {
        fprintf(stderr, "agora-worker: bad configuration: AGORA_WEBHOOK_ALLOW: %s\n", why);
        config_free(&cfg);
        return 2;
    }
    if (signals_install_stop(extra_stop_signals, sizeof extra_stop_signals / sizeof extra_stop_signals[0]) < 0 ||
        FCGX_Init() != 0) {
        fprintf(stderr, "agora-worker: cannot initialise: %s\n", strerror(errno));
        config_free(&cfg);
        return 1;
    }
    FCGX_Request fr;
    if (FCGX_InitRequest(&fr, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        fprintf(stderr, "agora-worker: cannot initialise the FastCGI request\n");
        config_free(&cfg);
        return 1;
    }

    /* A database that is down now is not fatal: requests answer 503 until
     * it is back. */
    struct metrics_block *metrics = open_metrics(&cfg);
    metrics_install(metrics);
    struct db db, read_db;
    db_init(&db, &cfg);
    db_init_read(&read_db, &cfg);

    static char path[8192];
    while (!signals_stop_requested()) {
        if (FCGX_Accept_r(&fr) < 0) {
            if (signals_stop_requested())
                break;
            if (errno == EINTR)
                continue;
            fprintf(stderr, "agora-worker: accept failed: %s\n", strerror(errno));
            break;
        }
        struct timespec wall, t0;
        clock_gettime(CLOCK_REALTIME, &wall);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        metrics_request_begin();
        struct req r;
        req_init(&r);
        fcgi_fill_request(&r, &fr, path, sizeof path);
        r.cfg = &cfg;
        r.db = &db;
        r.read_db = cfg.read_database_url ? &read_db : NULL;
        router_dispatch(agora_routes, agora_routes_count, &r);
        uint64_t us = elapsed_us(&t0);
        metrics_request_end(r.route ? (int)(r.route - agora_routes) : -1, r.status, us);
        if (cfg.access_log)
            access_log_request(&r, &wall, us);
        req_release(&r);
        fcgi_finish(&fr);
        release_idle_memory();
    }
    FCGX_Free(&fr, 1);
    db_close(&db);
    db_close(&read_db);
    metrics_install(NULL);
    metrics_block_close(metrics);
    config_free(&cfg);
    return 0;
}
