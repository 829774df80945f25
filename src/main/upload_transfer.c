/* One payload's HTTP exchange, on a worker's own libcurl connection: the
 * POST to the ingest route with its Idempotency-Key, the verdict on the
 * answer (domain/ingest_client.h), and the retries of what may pass,
 * backing off with jitter (util/retry.h) and never sooner than a
 * Retry-After. TLS is always verified, https only, no redirects. A
 * signal's stop aborts a transfer in hand. */
#include "main/upload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util/retry.h"

#define CONNECT_TIMEOUT_S 10L
/* The part of an answer kept: the API's answers are far smaller. */
#define ANSWER_KEEP_BYTES 65536u

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct worker *w = ctx;
    size_t len = size * n;
    if (w->answer.len < ANSWER_KEEP_BYTES)
        buf_append(&w->answer, data, len < ANSWER_KEEP_BYTES - w->answer.len ? len : ANSWER_KEEP_BYTES - w->answer.len);
    return len;
}

static size_t on_header(char *line, size_t size, size_t n, void *ctx)
{
    struct worker *w = ctx;
    ingest_answer_header(&w->a, line, size * n, time(NULL));
    return size * n;
}

/* Aborts a transfer in hand on SIGINT/SIGTERM. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    struct worker *w = ctx;
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return atomic_load(&w->run->stop) == INTERRUPTED;
}

int worker_init(struct worker *w, struct run *run, unsigned index, const char *auth)
{
    const struct options *opt = run->opt;
    char key_line[32 + KEY_LEN];
    memset(w, 0, sizeof *w);
    w->run = run;
    w->index = index;
    buf_init(&w->answer);
    if (!(w->curl = curl_easy_init()))
        return -1;
    /* The key's header holds a placeholder of the key's length, rewritten
     * in place for each payload: the list (with its copy of the
     * credential) is made once. */
    snprintf(key_line, sizeof key_line, "Idempotency-Key: %0*d", KEY_LEN, 0);
    const char *lines[] = {auth, "Content-Type: application/json", key_line};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        struct curl_slist *l = curl_slist_append(w->headers, lines[i]);
        if (!l)
            return -1;
        w->headers = l;
    }
    struct curl_slist *last = w->headers;
    while (last->next)
        last = last->next;
    w->key_value = last->data + strlen("Idempotency-Key: ");

    CURL *c = w->curl;
    const char *ca = opt->ca_file ? opt->ca_file : getenv("SSL_CERT_FILE");
    const char *ca_dir = opt->ca_file ? NULL : getenv("SSL_CERT_DIR");
    if (curl_easy_setopt(c, CURLOPT_URL, run->ingest_url) != CURLE_OK ||
        /* ingest_url() allows https only; no other scheme, even by mistake. */
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: CURLOPT_PROTOCOLS is deprecated */
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK ||
#else
        curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS) != CURLE_OK ||
#endif
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
        (ca && *ca && curl_easy_setopt(c, CURLOPT_CAINFO, ca) != CURLE_OK) ||
        (ca_dir && *ca_dir && curl_easy_setopt(c, CURLOPT_CAPATH, ca_dir) != CURLE_OK) ||
        curl_easy_setopt(c, CURLOPT_POST, 1L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, w->headers) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_USERAGENT, "agora-upload/" PACKAGE_VERSION) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_TIMEOUT, opt->timeout_s) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, w->errbuf) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_WRITEDATA, w) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_HEADERDATA, w) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, w) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) != CURLE_OK)
        return -1;
    return 0;
}

void worker_free(struct worker *w)
{
    if (w->curl)
        curl_easy_cleanup(w->curl);
    /* The list holds a copy of the credential. */
    for (struct curl_slist *l = w->headers; l; l = l->next)
        explicit_bzero(l->data, strlen(l->data));
    curl_slist_free_all(w->headers);
    buf_free(&w->answer);
}

/* Transport failures that no retry can mend: the certificate, the
 * program's own setup. The rest (refused, reset, timed out, name not
 * resolved) may pass. */
static bool transport_failure_is_final(CURLcode rc)
{
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
        return true;
    default:
        return false;
    }
}

/* One attempt: the verdict, and what happened in note. */
static enum ingest_verdict attempt(struct worker *w, const struct job *j, struct buf *note)
{
    ingest_answer_init(&w->a);
    buf_reset(&w->answer);
    w->errbuf[0] = '\0';
    memcpy(w->key_value, j->key, KEY_LEN);
    CURLcode rc;
    if ((rc = curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, j->body.len ? j->body.data : "")) != CURLE_OK ||
        (rc = curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->body.len)) != CURLE_OK ||
        (rc = curl_easy_perform(w->curl)) != CURLE_OK ||
        (rc = curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &w->a.status)) != CURLE_OK) {
        buf_puts(note, w->errbuf[0] ? w->errbuf : curl_easy_strerror(rc));
        return transport_failure_is_final(rc) ? IV_STOP : IV_RETRY;
    }
    enum ingest_verdict v = ingest_answer_verdict(&w->a, w->answer.data, w->answer.len);
    ingest_answer_describe(&w->a, note);
    return v;
}

/* Waits ms milliseconds, or less when the run stops; true when it did. */
static bool wait_or_stop(struct run *run, uint32_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&run->mu);
    while (atomic_load(&run->stop) == GO && pthread_cond_timedwait(&run->changed, &run->mu, &until) != ETIMEDOUT)
        ;
    bool stopped = atomic_load(&run->stop) != GO;
    pthread_mutex_unlock(&run->mu);
    return stopped;
}

static uint32_t random_u32(void)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (uint32_t)clock(); /* jitter only: any variation will do */
    return r;
}

enum outcome send_job(struct worker *w, const struct job *j)
{
    struct run *run = w->run;
    struct buf note;
    enum outcome out = OUT_UNSENT;
    buf_init(&note);
    for (unsigned tries = 0;; tries++) {
        buf_reset(&note);
        enum ingest_verdict v = attempt(w, j, &note);
        if (v == IV_STORED || v == IV_REFUSED) {
            out = v == IV_STORED ? OUT_STORED : OUT_REFUSED;
            break;
        }
        if (atomic_load(&run->stop) != GO)
            break; /* interrupted, or another payload gave up on the server */
        if (v == IV_STOP) {
            stop_run(run, NOT_ACCEPTED, "%s: not accepted: %s; stopping (nothing more is sent)", j->label,
                     note.data);
            break;
        }
        if (tries >= run->opt->retries) {
            stop_run(run, GAVE_UP, "%s: %s, after %u attempt%s; giving up on the server for now", j->label,
                     note.data, tries + 1, tries ? "s" : "");
            break;
        }
        if (w->a.retry_after_s > RETRY_AFTER_MAX_S) {
            stop_run(run, GAVE_UP, "%s: %s, and the server asks to wait %lld s; not waiting", j->label, note.data,
                     w->a.retry_after_s);
            break;
        }
        uint32_t delay = retry_delay_ms(tries + 1, random_u32());
        if (w->a.retry_after_s >= 0 && (uint64_t)w->a.retry_after_s * 1000 > delay)
            delay = (uint32_t)w->a.retry_after_s * 1000;
        pthread_mutex_lock(&run->mu);
        run->retrying++;
        snprintf(run->retry_note, sizeof run->retry_note, "%s", note.data);
        if (run->bar)
            draw_bar(run, true);
        else if (!run->opt->quiet)
            say_locked(run, "%s: %s; retry %u of %u in %.1f s", j->label, note.data, tries + 1, run->opt->retries,
                       delay / 1000.0);
        pthread_mutex_unlock(&run->mu);
        bool stopped = wait_or_stop(run, delay);
        pthread_mutex_lock(&run->mu);
        run->retrying--;
        pthread_mutex_unlock(&run->mu);
        if (stopped)
            break;
    }
    buf_free(&note);
    return out;
}
