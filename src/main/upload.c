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
 * half-written, and the input files are never modified. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "domain/ingest_client.h"
#include "ops/config.h"
#include "ops/spool.h"
#include "util/buf.h"
#include "util/retry.h"
#include "util/sha256.h"
#include "util/text.h"

/* The exit codes (man/agora-upload.1, --help). */
enum upload_exit {
    EXIT_ALL_STORED = 0,   /* every payload is stored */
    EXIT_PARTIAL = 1,      /* some stored, others not sent (kept in the spool, or left) */
    EXIT_REFUSED = 2,      /* all sent; the server refused some (reported, set aside) */
    EXIT_UNREACHABLE = 3,  /* nothing stored: the server could not be reached */
    EXIT_NOT_ACCEPTED = 4, /* credentials refused, certificate not trusted, or not the API */
    EXIT_USAGE = 5,        /* bad options or settings, or a local error (unreadable file, spool) */
};

#define PARALLEL_DEFAULT 4u
#define PARALLEL_MAX 32u
#define RETRIES_DEFAULT 8u
#define RETRIES_MAX 100u
#define TIMEOUT_DEFAULT_S 120L
#define CONNECT_TIMEOUT_S 10L
/* The part of an answer kept: the API's answers are far smaller. */
#define ANSWER_KEEP_BYTES 65536u
#define KEY_LEN (2 * SHA256_LEN)

static const char usage_text[] =
    "Usage: agora-upload [OPTION]... FILE...\n"
    "       agora-upload [OPTION]... -            (one payload from standard input)\n"
    "       agora-upload [OPTION]... --drain DIR  (send what a spool holds)\n"
    "\n"
    "Sends workflow execution payloads (JSON files, each the body of POST /api/executions/ingest)\n"
    "to Agora Cloud, each with the SHA-256 of its bytes as Idempotency-Key: a payload sent twice\n"
    "is stored once.\n"
    "\n"
    "  --url URL            the API (https://HOST/api) or the site (https://HOST); default $AGORA_URL\n"
    "  --api-key-file F     a file holding a project API key (agk_...); or $AGORA_API_KEY_FILE\n"
    "  --token-file F       a file holding a user's token (JWT); or $AGORA_TOKEN_FILE\n"
    "  --ca-file F          trust the certificates in F (default: the system's, or $SSL_CERT_FILE)\n"
    "  --spool DIR          keep what could not be sent in DIR (and refused payloads in DIR/rejected)\n"
    "  --drain DIR          send the payloads kept in DIR; remove each once stored\n"
    "  --retries N          retries per payload before giving up on the server (default 8)\n"
    "  --parallel N         payloads in flight at once, 1..32 (default 4)\n"
    "  --timeout S          seconds one attempt may take (default 120)\n"
    "  --no-progress        no progress bar (shown on a terminal for several payloads)\n"
    "  -q, --quiet          print only problems\n"
    "  -v, --verbose        also print each payload stored\n"
    "  -h, --help           this help;  --version  the version\n"
    "\n"
    "Retries (no connection, 429, 5xx) back off exponentially with jitter, from 0.5 s to 30 s,\n"
    "and never come sooner than the server's Retry-After. Refused payloads (400, 413, 422...)\n"
    "are reported with the server's path and message and never retried.\n"
    "\n"
    "Exit status:\n"
    "  0  every payload is stored (a replayed answer, or a 409 for an execution already\n"
    "     closed, counts as stored)\n"
    "  1  partial: some payloads stored, others not sent (kept in the spool with --spool)\n"
    "  2  refused: every payload was sent, and the server refused some\n"
    "  3  unreachable: nothing stored, the server could not be reached (the payloads are\n"
    "     kept in the spool with --spool)\n"
    "  4  not accepted: credentials refused (401, 403), certificate not trusted, or the URL\n"
    "     is not the Agora API; nothing more was sent\n"
    "  5  usage error, or a local error (an unreadable file, a spool that cannot be written)\n"
    "\n"
    "See agora-upload(1).\n";

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

/* ------------------------------------------------------------------ output */

/* strerror(3) for the worker threads (glibc's strerror_r, thread-safe). */
static const char *error_text(int err, char *space, size_t size)
{
    return strerror_r(err, space, size);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Draws the progress bar (mu held): at most ten times a second, and
 * always when forced. */
static void draw_bar(struct run *run, bool force)
{
    if (!run->bar || (!force && seconds_since(&run->drawn) < 0.1))
        return;
    clock_gettime(CLOCK_MONOTONIC, &run->drawn);
    enum { WIDTH = 24 };
    char bar[WIDTH + 1];
    size_t fill = run->total ? run->done * WIDTH / run->total : WIDTH;
    for (size_t i = 0; i < WIDTH; i++)
        bar[i] = i < fill ? '#' : '-';
    bar[WIDTH] = '\0';
    double secs = seconds_since(&run->started);
    char line[256];
    int n = snprintf(line, sizeof line, "[%s] %zu/%zu  stored %zu  refused %zu  kept %zu  %.0f/s%s%s", bar,
                     run->done, run->total, run->stored, run->refused, run->kept + run->unsent,
                     secs > 0 ? (double)run->done / secs : 0.0, run->retrying ? "  retrying: " : "",
                     run->retrying ? run->retry_note : "");
    if (n < 0)
        return;
    if (run->columns > 1 && n >= run->columns)
        line[run->columns - 1] = '\0';
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
}

static void clear_bar(struct run *run)
{
    if (run->bar)
        fputs("\r\033[K", stderr);
}

/* Prints one line to stderr (mu held), above the progress bar. */
static void say_locked(struct run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say_locked(struct run *run, const char *fmt, ...)
{
    va_list ap;
    clear_bar(run);
    fputs("agora-upload: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    draw_bar(run, true);
}

/* ------------------------------------------------------------------ options */

static int parse_count(const char *opt, const char *s, long long lo, long long hi, long long *out)
{
    if (decimal_parse(s, hi, out) < 0 || *out < lo) {
        fprintf(stderr, "agora-upload: %s takes a whole number from %lld to %lld\n", opt, lo, hi);
        return -1;
    }
    return 0;
}

/* Fills opt from argv; 0, 1 when --help or --version answered, or -1. */
static int parse_options(int argc, char **argv, struct options *opt)
{
    enum { O_URL = 256, O_KEY, O_TOKEN, O_CA, O_SPOOL, O_DRAIN, O_RETRIES, O_PARALLEL, O_TIMEOUT, O_NOPROG,
           O_VERSION };
    static const struct option longs[] = {
        {"url", required_argument, NULL, O_URL},           {"api-key-file", required_argument, NULL, O_KEY},
        {"token-file", required_argument, NULL, O_TOKEN},  {"ca-file", required_argument, NULL, O_CA},
        {"spool", required_argument, NULL, O_SPOOL},       {"drain", required_argument, NULL, O_DRAIN},
        {"retries", required_argument, NULL, O_RETRIES},   {"parallel", required_argument, NULL, O_PARALLEL},
        {"timeout", required_argument, NULL, O_TIMEOUT},   {"no-progress", no_argument, NULL, O_NOPROG},
        {"quiet", no_argument, NULL, 'q'},                 {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},                  {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0},
    };
    long long v;
    int c;

    memset(opt, 0, sizeof *opt);
    opt->retries = RETRIES_DEFAULT;
    opt->parallel = PARALLEL_DEFAULT;
    opt->timeout_s = TIMEOUT_DEFAULT_S;
    opt->progress = true;
    while ((c = getopt_long(argc, argv, "qvh", longs, NULL)) != -1) {
        switch (c) {
        case O_URL: opt->url = optarg; break;
        case O_KEY: opt->api_key_file = optarg; break;
        case O_TOKEN: opt->token_file = optarg; break;
        case O_CA: opt->ca_file = optarg; break;
        case O_SPOOL: opt->spool = optarg; break;
        case O_DRAIN: opt->drain = optarg; break;
        case O_RETRIES:
            if (parse_count("--retries", optarg, 0, RETRIES_MAX, &v) < 0)
                return -1;
            opt->retries = (unsigned)v;
            break;
        case O_PARALLEL:
            if (parse_count("--parallel", optarg, 1, PARALLEL_MAX, &v) < 0)
                return -1;
            opt->parallel = (unsigned)v;
            break;
        case O_TIMEOUT:
            if (parse_count("--timeout", optarg, 1, 86400, &v) < 0)
                return -1;
            opt->timeout_s = (long)v;
            break;
        case O_NOPROG: opt->progress = false; break;
        case 'q': opt->quiet = true; break;
        case 'v': opt->verbose = true; break;
        case 'h': fputs(usage_text, stdout); return 1;
        case O_VERSION: printf("agora-upload %s\n", PACKAGE_VERSION); return 1;
        default: fputs("Try 'agora-upload --help'.\n", stderr); return -1;
        }
    }
    opt->inputs = argv + optind;
    opt->n_inputs = argc - optind;
    if (!opt->url)
        opt->url = getenv("AGORA_URL");
    const char *problem = NULL;
    if (!opt->url || !*opt->url)
        problem = "no URL: give --url https://HOST/api (or set AGORA_URL)";
    else if (opt->api_key_file && opt->token_file)
        problem = "give --api-key-file or --token-file, not both";
    else if (opt->drain && opt->spool)
        problem = "--drain sends a spool: it takes no --spool";
    else if (opt->drain && opt->n_inputs > 0)
        problem = "--drain takes no FILE";
    else if (!opt->drain && opt->n_inputs == 0)
        problem = "nothing to send: give FILE..., - (standard input) or --drain DIR";
    for (int i = 0, dashes = 0; !problem && i < opt->n_inputs; i++)
        if (strcmp(opt->inputs[i], "-") == 0 && ++dashes > 1)
            problem = "standard input (-) holds one payload: give it once";
    if (problem) {
        fprintf(stderr, "agora-upload: %s\nTry 'agora-upload --help'.\n", problem);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ credentials */

/* The credential settings: AGORA_API_KEY_FILE or AGORA_TOKEN_FILE, which
 * the options set. The values themselves (AGORA_API_KEY...) are never
 * taken: a credential is read from a file only. */
struct credential_source {
    const char *file_var;
    const char *file;
};

static const char *credential_get(const char *name, void *ctx)
{
    const struct credential_source *src = ctx;
    return strcmp(name, src->file_var) == 0 ? src->file : NULL;
}

/* Reads the credential and returns the "Authorization: Bearer ..." line
 * (the caller wipes and frees it), or NULL after saying why (never with
 * the value). */
static char *read_authorization(const struct options *opt)
{
    struct credential_source src = {NULL, NULL};
    bool is_key;
    const char *env_key = getenv("AGORA_API_KEY_FILE"), *env_token = getenv("AGORA_TOKEN_FILE");
    if (opt->api_key_file || opt->token_file) {
        is_key = opt->api_key_file != NULL;
        src.file = is_key ? opt->api_key_file : opt->token_file;
    } else if (env_key && *env_key && env_token && *env_token) {
        fputs("agora-upload: AGORA_API_KEY_FILE and AGORA_TOKEN_FILE are both set: give one\n", stderr);
        return NULL;
    } else if ((env_key && *env_key) || (env_token && *env_token)) {
        is_key = env_key && *env_key;
        src.file = is_key ? env_key : env_token;
    } else {
        fputs("agora-upload: no credentials: give --api-key-file FILE or --token-file FILE\n", stderr);
        return NULL;
    }
    src.file_var = is_key ? "AGORA_API_KEY_FILE" : "AGORA_TOKEN_FILE";

    unsigned char *cred = NULL;
    size_t len = 0;
    char err[512] = "";
    const char *what = is_key ? "--api-key-file" : "--token-file";
    if (config_secret(is_key ? "AGORA_API_KEY" : "AGORA_TOKEN", credential_get, &src, true, &cred, &len, err,
                      sizeof err) <= 0) {
        /* err names the variable and the file, never the value. */
        fprintf(stderr, "agora-upload: %s: %s\n", what, err[0] ? err : "no credential");
        return NULL;
    }
    /* A header value: visible ASCII only, so nothing can end the header
     * early; and the shape of the kind claimed, to catch swapped files. */
    bool ok = true;
    size_t dots = 0;
    for (size_t i = 0; i < len; i++) {
        ok = ok && cred[i] > 0x20 && cred[i] < 0x7f;
        dots += cred[i] == '.';
    }
    if (!ok || (is_key ? strncmp((const char *)cred, "agk_", 4) != 0 : dots != 2)) {
        fprintf(stderr, "agora-upload: %s: %s does not hold %s\n", what, src.file,
                is_key ? "an API key (agk_... on one line)" : "a token (a JWT on one line)");
        explicit_bzero(cred, len);
        free(cred);
        return NULL;
    }
    struct buf line;
    buf_init(&line);
    buf_puts(&line, "Authorization: Bearer ");
    buf_append(&line, cred, len);
    explicit_bzero(cred, len);
    free(cred);
    return buf_steal(&line);
}

/* ------------------------------------------------------------------ workers: HTTP */

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

/* The worker's connection: options that hold for every payload. The
 * Authorization line is copied into the header list (auth is wiped by the
 * caller). 0 or -1. */
static int worker_init(struct worker *w, struct run *run, unsigned index, const char *auth)
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

static void worker_free(struct worker *w)
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

/* ------------------------------------------------------------------ workers: the run */

/* Stops the run for reason and says why. The first reason stays, except
 * that an interruption always wins: it aborts the transfers in hand. */
static void stop_run(struct run *run, enum stop why, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void stop_run(struct run *run, enum stop why, const char *fmt, ...)
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

/* Sends one payload, retrying what may pass. */
static enum outcome send_job(struct worker *w, const struct job *j)
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

/* What becomes of a payload once its outcome is known: the line to say
 * (when print), and whether a local step failed. */
struct fate {
    struct buf msg;
    bool print, failed;
};

/* Adds "SEP WHAT DIR: <errno's text>" for a local step that failed. */
static void fail_step(struct fate *f, const char *sep, const char *what, const char *dir)
{
    char es[128];
    f->print = f->failed = true;
    buf_printf(&f->msg, "%s %s %s: %s", sep, what, dir, error_text(errno, es, sizeof es));
}

/* Stored: a drained payload leaves the spool. */
static void fate_stored(struct run *run, const struct job *j, const struct ingest_answer *a, struct fate *f)
{
    f->print = run->opt->verbose;
    buf_printf(&f->msg, "%s: stored as %s (%ld%s)", j->label, a->execution_id[0] ? a->execution_id : "-", a->status,
               a->closed ? ", the execution was already closed" : a->replayed ? ", replayed" : "");
    /* Should the removal fail, the next drain sends it again, replayed. */
    if (j->spool_name && spool_remove(run->spool_dir, j->spool_name) < 0)
        fail_step(f, ";", "cannot remove it from", run->spool_dir);
}

/* Refused: reported; set aside in rejected/ when there is a spool (a
 * drained payload is moved there, another is copied with its reason). */
static void fate_refused(struct run *run, const struct job *j, const struct ingest_answer *a, struct fate *f)
{
    const char *dir = run->spool_dir;
    char name[SPOOL_NAME_MAX];
    struct buf reason;
    buf_init(&reason);
    f->print = true;
    buf_printf(&f->msg, "%s: refused: ", j->label);
    ingest_answer_describe(a, &f->msg);
    ingest_answer_json(a, j->label, &reason);
    if (j->spool_name) {
        if (spool_reject(dir, j->spool_name, reason.data, reason.len) == 0)
            buf_printf(&f->msg, "; moved to %s/%s/%s", dir, SPOOL_REJECTED, j->spool_name);
        else
            fail_step(f, ";", "it stays pending: cannot move it aside in", dir);
    } else if (dir) {
        if (spool_put_rejected(dir, j->body.data ? j->body.data : "", j->body.len, reason.data, reason.len, name) == 0)
            buf_printf(&f->msg, "; set aside as %s/%s/%s", dir, SPOOL_REJECTED, name);
        else
            fail_step(f, ";", "cannot set it aside in", dir);
    }
    buf_free(&reason);
}

/* Not sent: kept in the spool when there is one (a drained payload is
 * already there), listed otherwise. Returns true when it is kept. */
static bool fate_unsent(struct run *run, const struct job *j, struct fate *f)
{
    const char *dir = run->spool_dir;
    char name[SPOOL_NAME_MAX];
    if (j->spool_name)
        return true;
    if (!dir) {
        f->print = !run->opt->quiet || j->from_stdin;
        buf_printf(&f->msg, "%s: not sent%s", j->label,
                   j->from_stdin ? " (the payload read from standard input is lost: use --spool DIR to keep it)" : "");
        return false;
    }
    if (spool_put(dir, j->body.data ? j->body.data : "", j->body.len, name) < 0) {
        buf_printf(&f->msg, "%s: not sent%s", j->label, j->from_stdin ? " and lost" : "");
        fail_step(f, ",", "and cannot be kept in", dir);
        return false;
    }
    f->print = run->opt->verbose;
    buf_printf(&f->msg, "%s: not sent; kept as %s/%s", j->label, dir, name);
    return true;
}

/* Does what the outcome asks with the payload, counts it and reports it. */
static void settle(struct run *run, const struct job *j, enum outcome o, const struct ingest_answer *a)
{
    struct fate f = {.print = false, .failed = false};
    bool kept = false;
    buf_init(&f.msg);
    if (o == OUT_STORED)
        fate_stored(run, j, a, &f);
    else if (o == OUT_REFUSED)
        fate_refused(run, j, a, &f);
    else
        kept = fate_unsent(run, j, &f);

    pthread_mutex_lock(&run->mu);
    run->done++;
    run->failed += f.failed;
    if (o == OUT_STORED) {
        run->stored++;
        run->replayed += a->replayed;
        run->closed_runs += a->closed;
    } else if (o == OUT_REFUSED) {
        run->refused++;
    } else if (kept) {
        run->kept++;
    } else if (!f.failed) {
        run->unsent++;
    }
    if (f.print)
        say_locked(run, "%s", f.msg.data);
    else
        draw_bar(run, run->done == run->total);
    pthread_mutex_unlock(&run->mu);
    buf_free(&f.msg);
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

static void *worker_main(void *arg)
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

/* ------------------------------------------------------------------ main thread: reading, queueing */

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

static void close_queue(struct run *run)
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

/* Feeds every input to the workers, in order. */
static void produce(struct run *run, const struct spool_list *pending)
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

/* ------------------------------------------------------------------ main */

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

static void summary(struct run *run)
{
    const char *dir = run->spool_dir;
    double secs = seconds_since(&run->started);
    struct buf s;
    buf_init(&s);
    buf_printf(&s, "%zu payload%s: %zu stored", run->total, run->total == 1 ? "" : "s", run->stored);
    if (run->replayed && run->closed_runs)
        buf_printf(&s, " (%zu replayed, %zu to closed executions)", run->replayed, run->closed_runs);
    else if (run->replayed || run->closed_runs)
        buf_printf(&s, " (%zu %s)", run->replayed + run->closed_runs,
                   run->replayed ? "replayed" : "to closed executions");
    if (run->refused)
        buf_printf(&s, ", %zu refused", run->refused);
    if (run->kept)
        buf_printf(&s, ", %zu kept in %s", run->kept, dir);
    if (run->unsent)
        buf_printf(&s, ", %zu not sent", run->unsent);
    if (run->failed)
        buf_printf(&s, ", %zu local error%s", run->failed, run->failed == 1 ? "" : "s");
    buf_printf(&s, "; %.1f s, %.1f payloads/s", secs, secs > 0 ? (double)run->total / secs : 0.0);
    clear_bar(run);
    fprintf(stderr, "agora-upload: %s\n", s.data);
    buf_free(&s);
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
