/* The parts of agora-upload and what they share: the options, a payload
 * on its way (struct job), the run that the main thread and the worker
 * threads share (struct run), a worker and its connection. Internal to
 * the program: only src/main/upload*.c include it.
 *
 *   upload.c              main: settings, threads, signals, exit code
 *   upload_options.c      the command line and --help
 *   upload_credentials.c  the credential file -> the Authorization line
 *   upload_queue.c        reading inputs into jobs, the queue, the
 *                         workers' loop, stopping the run
 *   upload_transfer.c     a worker's connection: one payload's HTTP
 *                         exchange, its retries and Retry-After
 *   upload_outcome.c      what becomes of a payload once its outcome is
 *                         known: the spool, rejected/, the counts
 *   upload_report.c       messages, the progress bar, the summary
 *
 * Locking: run->mu guards every field of struct run but stop (atomic);
 * say_locked and draw_bar expect it held, the functions that say "Takes
 * mu" take it themselves. */
#ifndef AGORA_MAIN_UPLOAD_H
#define AGORA_MAIN_UPLOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <curl/curl.h>

#include "domain/ingest_client.h"
#include "ops/spool.h"
#include "util/buf.h"
#include "util/sha256.h"

/* The Idempotency-Key: the lowercase hex SHA-256 of the payload. */
#define KEY_LEN (2 * SHA256_LEN)

struct options {
    const char *url;
    const char *api_key_file, *token_file, *ca_file;
    const char *spool, *drain;
    unsigned retries, parallel;
    long timeout_s;
    bool progress, quiet, verbose;
    char **inputs;
    int n_inputs;
};

/* One payload on its way. */
struct job {
    struct job *next;
    char *label;      /* what the user calls it: a path, "(stdin)", or the spool's name */
    char *spool_name; /* --drain: its name in the spool directory */
    bool from_stdin;
    struct buf body;
    char key[KEY_LEN + 1];
    char execution_id[INGEST_EXECUTION_ID_MAX + 1]; /* "" when it has none */
};

enum outcome { OUT_STORED, OUT_REFUSED, OUT_UNSENT };

/* Why nothing more is sent. */
enum stop { GO, GAVE_UP, NOT_ACCEPTED, INTERRUPTED };

/* What the workers and the main thread share. mu guards everything but
 * stop, which the transfer callbacks read without it; changed is
 * broadcast on every change of the queue, the in-flight ids or stop. */
struct run {
    const struct options *opt;
    const char *ingest_url;
    const char *spool_dir; /* --spool or --drain */
    pthread_mutex_t mu;
    pthread_cond_t changed;
    struct job *head, *tail;
    size_t queued, queue_max;
    bool closed;
    char (*inflight)[INGEST_EXECUTION_ID_MAX + 1]; /* per worker: the execution_id it sends */
    unsigned workers;
    atomic_int stop;
    bool not_accepted;
    /* counts */
    size_t total, done, stored, replayed, closed_runs, refused, kept, unsent, failed;
    unsigned retrying;
    char retry_note[96];
    /* the progress bar */
    bool bar;
    int columns;
    struct timespec started, drawn;
};

struct worker {
    struct run *run;
    unsigned index;
    pthread_t thread;
    CURL *curl;
    struct curl_slist *headers;
    char *key_value; /* inside headers: the Idempotency-Key value, rewritten per payload */
    struct buf answer;
    struct ingest_answer a;
    char errbuf[CURL_ERROR_SIZE];
};

/* ---- upload_options.c */

/* Fills opt from argv (opt borrows argv's strings); 0, 1 when --help or
 * --version answered, or -1 after saying why on stderr. */
int parse_options(int argc, char **argv, struct options *opt);

/* ---- upload_credentials.c */

/* Reads the credential and returns the "Authorization: Bearer ..." line
 * (the caller wipes and frees it), or NULL after saying why (never with
 * the value). */
char *read_authorization(const struct options *opt);

/* ---- upload_queue.c */

/* Stops the run for why and says why (printf format). The first reason
 * stays, except that an interruption always wins: it aborts the
 * transfers in hand. Takes mu. */
void stop_run(struct run *run, enum stop why, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Feeds every input (pending's names when draining, else the options'
 * inputs) to the workers, in order, then closes the queue. Main thread. */
void produce(struct run *run, const struct spool_list *pending);

/* Closes the queue: the workers end once it is empty. Takes mu. */
void close_queue(struct run *run);

/* A worker thread (arg: its struct worker): takes, sends and settles jobs
 * until the queue is closed and empty. */
void *worker_main(void *arg);

/* ---- upload_transfer.c */

/* The worker's connection: options that hold for every payload. The
 * Authorization line is copied into the header list (auth is wiped by the
 * caller). 0 or -1; worker_free is due either way. */
int worker_init(struct worker *w, struct run *run, unsigned index, const char *auth);
void worker_free(struct worker *w);

/* Sends one payload, retrying what may pass; w->a holds the last answer. */
enum outcome send_job(struct worker *w, const struct job *j);

/* ---- upload_outcome.c */

/* Does what the outcome asks with the payload (a the answer when stored
 * or refused), counts it and reports it. Takes mu. */
void settle(struct run *run, const struct job *j, enum outcome o, const struct ingest_answer *a);

/* ---- upload_report.c */

/* strerror(3) for the worker threads (glibc's strerror_r, thread-safe). */
const char *error_text(int err, char *space, size_t size);

/* Draws the progress bar (mu held): at most ten times a second, and
 * always when forced. */
void draw_bar(struct run *run, bool force);

/* Clears the progress bar's line, when there is a bar. */
void clear_bar(struct run *run);

/* Prints one line to stderr (mu held), above the progress bar. */
void say_locked(struct run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The closing line: the counts, the time taken, the rate. */
void summary(struct run *run);

#endif
