/* agora-upload: sends workflow execution payloads (files of the ingest
 * request's JSON body) to Agora Cloud, and keeps what it could not send.
 *
 *   agora-upload [--url URL] [--api-key-file F | --token-file F] [--spool DIR] FILE... | -
 *   agora-upload [--url URL] [--api-key-file F | --token-file F] --drain DIR
 *
 * Each payload is POSTed to URL/api/executions/ingest with the lowercase hex
 * SHA-256 of its bytes as Idempotency-Key, so a payload sent twice (a retry
 * whose answer was lost, a spool drained by two programs) is stored once.
 * Failures that may pass (no connection, 5xx, 429) are retried with
 * exponential backoff and jitter, never earlier than a Retry-After says;
 * when one payload has used all its retries the server is taken to be
 * away and nothing more is tried. What was not sent goes to the spool
 * (--spool; ops/spool.h), which --drain sends later. A payload the server
 * refuses (not JSON, 422...) is reported with the server's path and
 * message and set aside in DIR/rejected/ with the answer: never retried,
 * never lost. man/agora-upload.1 is the user's manual; the exit codes are
 * enum upload_exit.
 *
 * Payloads go out over --parallel connections, one worker thread each,
 * fed in order by the main thread through a small queue; two payloads with
 * the same execution_id (the parts of a live run) are never in flight
 * together, so they arrive in order.
 *
 * Credentials are read from files only (never the command line, where
 * every user can read them in /proc), go into one header per connection,
 * and are never printed. TLS is always verified. Out of memory aborts
 * (util/buf.h): the spool is written atomically, so nothing kept is
 * half-written, and the input files are never modified.
 *
 * This file is main, the run's orchestration: it checks the settings,
 * starts the workers, watches the signals and chooses the exit code. The
 * other parts of the program are listed in upload.h, which they share. */
#include "main/upload.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The exit codes (man/agora-upload.1, --help). */
enum upload_exit {
    EXIT_ALL_STORED = 0,   /* every payload is stored */
    EXIT_PARTIAL = 1,      /* some stored, others not sent (kept in the spool, or left) */
    EXIT_REFUSED = 2,      /* all sent; the server refused some (reported, set aside) */
    EXIT_UNREACHABLE = 3,  /* nothing stored: the server could not be reached */
    EXIT_NOT_ACCEPTED = 4, /* credentials refused, certificate not trusted, or not the API */
    EXIT_USAGE = 5,        /* bad options or settings, or a local error (unreadable file, spool) */
};

/* The signals that stop a run. */
static void stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
}

/* SIGINT, SIGTERM, SIGHUP: the first stops the run (transfers in hand are
 * aborted, what was not sent is kept); a second exits at once (the spool
 * is written atomically, so nothing kept is damaged). */
static void *watch_signals(void *arg)
{
    struct run *run = arg;
    sigset_t set;
    int sig;
    stop_signals(&set);
    if (sigwait(&set, &sig) != 0)
        return NULL;
    stop_run(run, INTERRUPTED, "interrupted (signal %d): keeping what was not sent; again to quit at once", sig);
    if (sigwait(&set, &sig) == 0)
        _exit(128 + sig);
    return NULL;
}

static int exit_code(const struct run *run)
{
    if (run->not_accepted)
        return EXIT_NOT_ACCEPTED;
    if (run->failed)
        return EXIT_USAGE;
    if (run->kept || run->unsent)
        return run->stored ? EXIT_PARTIAL : EXIT_UNREACHABLE;
    return run->refused ? EXIT_REFUSED : EXIT_ALL_STORED;
}

int main(int argc, char **argv)
{
    struct options opt;
    struct run run;
    struct buf url;
    struct spool_list pending = {NULL, 0};
    struct worker *workers = NULL;
    char *auth = NULL;
    const char *why = NULL;
    unsigned started = 0;
    int lock_fd = -1;
    bool curl_ready = false, run_ready = false;
    int rc = parse_options(argc, argv, &opt);
    if (rc != 0)
        return rc > 0 ? EXIT_ALL_STORED : EXIT_USAGE;

    rc = EXIT_USAGE;
    buf_init(&url);
    memset(&run, 0, sizeof run);
    if (ingest_url(opt.url, &url, &why) < 0) {
        fprintf(stderr, "agora-upload: --url: %s\n", why);
        goto out;
    }
    if (!(auth = read_authorization(&opt)))
        goto out;
    run.spool_dir = opt.drain ? opt.drain : opt.spool;
    if (run.spool_dir && spool_prepare(run.spool_dir) < 0) {
        fprintf(stderr, "agora-upload: cannot use %s as the spool: %s\n", run.spool_dir, strerror(errno));
        goto out;
    }
    if (opt.drain && (lock_fd = spool_lock(opt.drain)) < 0) {
        if (lock_fd == -2)
            fprintf(stderr, "agora-upload: another drainer is sending %s (it holds %s/.lock); nothing sent\n",
                    opt.drain, opt.drain);
        else
            fprintf(stderr, "agora-upload: cannot lock %s: %s\n", opt.drain, strerror(errno));
        goto out;
    }
    if (opt.drain && spool_list(opt.drain, &pending) < 0) {
        fprintf(stderr, "agora-upload: cannot list %s: %s\n", opt.drain, strerror(errno));
        goto out;
    }

    run.opt = &opt;
    run.ingest_url = url.data;
    run.total = opt.drain ? pending.count : (size_t)opt.n_inputs;
    run.workers = run.total < opt.parallel ? (unsigned)(run.total ? run.total : 1) : opt.parallel;
    run.queue_max = 2 * (size_t)run.workers;
    run.inflight = xcalloc(run.workers, sizeof *run.inflight);
    atomic_init(&run.stop, GO);
    struct winsize ws;
    run.bar = opt.progress && !opt.quiet && run.total > 1 && isatty(STDERR_FILENO);
    run.columns = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 80;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0 || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&run.changed, &ca) != 0 || pthread_mutex_init(&run.mu, NULL) != 0) {
        fputs("agora-upload: cannot set up threads\n", stderr);
        goto out;
    }
    pthread_condattr_destroy(&ca);
    run_ready = true;
    clock_gettime(CLOCK_MONOTONIC, &run.started);
    run.drawn = run.started;

    /* Signals go to the watcher thread alone; SIGPIPE is an error return
     * (libcurl's NOSIGNAL leaves it to us). */
    sigset_t set;
    pthread_t watcher;
    stop_signals(&set);
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 ||
        pthread_create(&watcher, NULL, watch_signals, &run) != 0 || pthread_detach(watcher) != 0) {
        fputs("agora-upload: cannot set up signals\n", stderr);
        goto out;
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("agora-upload: cannot initialise libcurl\n", stderr);
        goto out;
    }
    curl_ready = true;
    workers = xcalloc(run.workers, sizeof *workers);
    for (unsigned i = 0; i < run.workers; i++) {
        if (worker_init(&workers[i], &run, i, auth) < 0) {
            fputs("agora-upload: cannot set up libcurl\n", stderr);
            goto out;
        }
    }
    explicit_bzero(auth, strlen(auth));
    for (; started < run.workers; started++) {
        if (pthread_create(&workers[started].thread, NULL, worker_main, &workers[started]) != 0) {
            fputs("agora-upload: cannot start a thread\n", stderr);
            break;
        }
    }
    if (started == 0)
        goto out;
    produce(&run, opt.drain ? &pending : NULL);
    for (unsigned i = 0; i < started; i++)
        pthread_join(workers[i].thread, NULL);
    started = 0;
    if (opt.drain && spool_sync(opt.drain) < 0)
        fprintf(stderr, "agora-upload: cannot sync %s: %s\n", opt.drain, strerror(errno));
    if (!opt.quiet && (run.total > 1 || exit_code(&run) != EXIT_ALL_STORED))
        summary(&run);
    else
        clear_bar(&run);
    rc = exit_code(&run);

out:
    if (started > 0) {
        /* Threads that did start wait for a queue that never fills. */
        close_queue(&run);
        for (unsigned i = 0; i < started; i++)
            pthread_join(workers[i].thread, NULL);
    }
    for (unsigned i = 0; workers && i < run.workers; i++)
        worker_free(&workers[i]);
    free(workers);
    if (curl_ready)
        curl_global_cleanup();
    if (run_ready) {
        pthread_cond_destroy(&run.changed);
        pthread_mutex_destroy(&run.mu);
    }
    free(run.inflight);
    spool_list_free(&pending);
    if (lock_fd >= 0)
        close(lock_fd);
    if (auth) {
        explicit_bzero(auth, strlen(auth));
        free(auth);
    }
    buf_free(&url);
    return rc;
}
