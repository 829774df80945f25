/* The run's threads and what passes between them. The main thread reads
 * each input (a file, standard input, or a spool entry) into a job and
 * queues it, at most two per worker ahead; each worker takes the next job
 * it may send (never one whose execution another worker is sending, so
 * the parts of a live run arrive in order), sends it and settles it.
 * Stopping the run (the server given up on, credentials refused, a
 * signal) is said once and seen by every thread. */
#include "main/upload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/sha256.h"

void stop_run(struct run *run, enum stop why, const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&run->mu);
    int expected = GO;
    bool first = atomic_compare_exchange_strong(&run->stop, &expected, why);
    if (!first && why == INTERRUPTED && expected != INTERRUPTED) {
        atomic_store(&run->stop, INTERRUPTED);
        first = true;
    }
    if (why == NOT_ACCEPTED)
        run->not_accepted = true;
    if (first) {
        struct buf msg;
        buf_init(&msg);
        va_start(ap, fmt);
        buf_vprintf(&msg, fmt, ap);
        va_end(ap);
        say_locked(run, "%s", msg.data);
        buf_free(&msg);
    }
    pthread_cond_broadcast(&run->changed);
    pthread_mutex_unlock(&run->mu);
}

static void job_free(struct job *j)
{
    if (!j)
        return;
    free(j->label);
    free(j->spool_name);
    buf_free(&j->body);
    free(j);
}

/* The next payload this worker may send (mu not held): the queue's head,
 * once no other worker is sending one of the same execution; NULL when the
 * queue is closed and empty. */
static struct job *take_job(struct run *run, unsigned self)
{
    struct job *j = NULL;
    pthread_mutex_lock(&run->mu);
    for (;;) {
        struct job *h = run->head;
        bool busy = false;
        for (unsigned i = 0; h && h->execution_id[0] && i < run->workers && !busy; i++)
            busy = i != self && strcmp(run->inflight[i], h->execution_id) == 0;
        if (h && !busy) {
            j = h;
            run->head = h->next;
            if (!run->head)
                run->tail = NULL;
            run->queued--;
            memcpy(run->inflight[self], h->execution_id, sizeof run->inflight[self]);
            pthread_cond_broadcast(&run->changed);
            break;
        }
        if (!h && run->closed)
            break;
        pthread_cond_wait(&run->changed, &run->mu);
    }
    pthread_mutex_unlock(&run->mu);
    return j;
}

void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct run *run = w->run;
    struct job *j;
    while ((j = take_job(run, w->index)) != NULL) {
        ingest_answer_init(&w->a);
        enum outcome o = atomic_load(&run->stop) == GO ? send_job(w, j) : OUT_UNSENT;
        settle(run, j, o, &w->a);
        pthread_mutex_lock(&run->mu);
        run->inflight[w->index][0] = '\0';
        pthread_cond_broadcast(&run->changed);
        pthread_mutex_unlock(&run->mu);
        job_free(j);
    }
    return NULL;
}

static void push_job(struct run *run, struct job *j)
{
    pthread_mutex_lock(&run->mu);
    while (run->queued >= run->queue_max)
        pthread_cond_wait(&run->changed, &run->mu);
    if (run->tail)
        run->tail->next = j;
    else
        run->head = j;
    run->tail = j;
    run->queued++;
    pthread_cond_broadcast(&run->changed);
    pthread_mutex_unlock(&run->mu);
}

void close_queue(struct run *run)
{
    pthread_mutex_lock(&run->mu);
    run->closed = true;
    pthread_cond_broadcast(&run->changed);
    pthread_mutex_unlock(&run->mu);
}

/* An input that never became a job. */
enum skip { SKIP_FAILED, SKIP_KEPT, SKIP_UNSENT, SKIP_GONE };

/* Counts and reports an input that never became a job. */
static void skip_input(struct run *run, enum skip kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void skip_input(struct run *run, enum skip kind, const char *fmt, ...)
{
    va_list ap;
    struct buf msg;
    buf_init(&msg);
    va_start(ap, fmt);
    buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&run->mu);
    run->done++;
    run->failed += kind == SKIP_FAILED;
    run->kept += kind == SKIP_KEPT;
    run->unsent += kind == SKIP_UNSENT;
    if (msg.len)
        say_locked(run, "%s", msg.data);
    else
        draw_bar(run, run->done == run->total);
    pthread_mutex_unlock(&run->mu);
    buf_free(&msg);
}

/* Reads input i (a path, "-", or a spool name) into a new job, or NULL
 * after reporting why. */
static struct job *read_job(struct run *run, const char *input, bool from_spool)
{
    struct job *j = xcalloc(1, sizeof *j);
    char es[128];
    int rc;
    buf_init(&j->body);
    if (from_spool) {
        j->label = xstrdup(input);
        j->spool_name = xstrdup(input);
        rc = spool_read(run->spool_dir, input, &j->body);
    } else if (strcmp(input, "-") == 0) {
        j->label = xstrdup("(stdin)");
        j->from_stdin = true;
        rc = spool_read_fd(STDIN_FILENO, &j->body);
    } else {
        j->label = xstrdup(input);
        int fd = open(input, O_RDONLY | O_CLOEXEC);
        rc = fd < 0 ? -1 : spool_read_fd(fd, &j->body);
        if (fd >= 0)
            close(fd);
    }
    if (rc < 0 && from_spool && errno == ENOENT) {
        skip_input(run, SKIP_GONE, "%s", ""); /* another drain sent it meanwhile */
        job_free(j);
        return NULL;
    }
    if (rc < 0) {
        skip_input(run, SKIP_FAILED, "%s: cannot read: %s", j->label, error_text(errno, es, sizeof es));
        job_free(j);
        return NULL;
    }
    sha256_hex(j->body.len ? j->body.data : "", j->body.len, j->key);
    if (!ingest_payload_execution_id(j->body.data ? j->body.data : "", j->body.len, j->execution_id))
        j->execution_id[0] = '\0';
    return j;
}

void produce(struct run *run, const struct spool_list *pending)
{
    const struct options *opt = run->opt;
    size_t n = pending ? pending->count : (size_t)opt->n_inputs;
    for (size_t i = 0; i < n; i++) {
        const char *input = pending ? pending->items[i].name : opt->inputs[i];
        if (atomic_load(&run->stop) != GO && pending) {
            /* A drain that stopped: the rest stays in the spool. */
            skip_input(run, SKIP_KEPT, "%s", "");
            continue;
        }
        if (atomic_load(&run->stop) != GO && !run->spool_dir) {
            /* Nowhere to keep it: no need to read it. */
            skip_input(run, SKIP_UNSENT, "%s: not sent", strcmp(input, "-") == 0 ? "(stdin)" : input);
            continue;
        }
        struct job *j = read_job(run, input, pending != NULL);
        if (j)
            push_job(run, j);
    }
    close_queue(run);
}
