/* The client side of POST /api/executions/ingest, as agora-upload (and any
 * C client) needs it: the route's URL from what a user configures, how to
 * read an answer (stored, refused for good, worth retrying, or a reason to
 * stop sending at all), and the one member of a payload that orders
 * uploads (a live run's execution_id). Pure: no I/O, no libcurl; unit-
 * tested (tests/unit/test_ingest_client.c) and fuzzed (fuzz/fuzz_ingest_client.c).
 *
 * The Idempotency-Key a client sends is the lowercase hex SHA-256 of the
 * body bytes (sha256_hex, util/sha256.h), as the Python client's: a retry
 * of the same payload, by either program, replays the first answer and
 * stores nothing twice. */
#ifndef AGORA_INGEST_CLIENT_H
#define AGORA_INGEST_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util/buf.h"

/* The ingest URL from what users configure: the API base
 * (https://HOST/api) or the bare site URL (https://HOST, then /api is
 * added), with or without a trailing slash. Only https, no user
 * information (credentials never go in a URL), no query or fragment, only
 * visible ASCII. 0 with the URL appended to out, or -1 with *why (static
 * text) and out unchanged. */
int ingest_url(const char *url, struct buf *out, const char **why);

/* What to do with a payload after one attempt. */
enum ingest_verdict {
    IV_STORED,  /* 200/201 with an execution_id (a replay too), or 409 for an
                   execution already closed: the server has it */
    IV_REFUSED, /* the payload itself is bad (400, 413, 422, a 404 or 409
                   naming a field): retrying cannot help; set it aside */
    IV_RETRY,   /* 408, 429, 500, 502, 503, 504, a 409 without a field
                   (Idempotency-Key busy): the same request may work later */
    IV_STOP,    /* nothing else will work either: 401/403 (credentials),
                   a 404 without a field (not the ingest route), a
                   redirect, any other status, or a success that is not the
                   API's answer: stop sending */
};

/* Room for the server's words, sanitized (no control or format
 * characters) since they are printed to a terminal. */
#define INGEST_ANSWER_CODE_MAX 48
#define INGEST_ANSWER_PATH_MAX 256
#define INGEST_ANSWER_MESSAGE_MAX 512
#define INGEST_ANSWER_ID_MAX 64

/* One answer, filled by ingest_answer_header() and ingest_answer_verdict(). */
struct ingest_answer {
    long status;             /* the HTTP status (the caller sets it) */
    bool replayed;           /* Idempotent-Replayed: true */
    bool closed;             /* a 409: the execution was already closed */
    long long retry_after_s; /* Retry-After in seconds, -1 without one */
    char code[INGEST_ANSWER_CODE_MAX];
    char path[INGEST_ANSWER_PATH_MAX];
    char message[INGEST_ANSWER_MESSAGE_MAX];
    char request_id[INGEST_ANSWER_ID_MAX];
    char execution_id[INGEST_ANSWER_ID_MAX];
};

void ingest_answer_init(struct ingest_answer *a);
/* One header line as received ("Name: value\r\n", len bytes, not NUL-
 * terminated). A status line ("HTTP/...") starts a new answer (after a
 * 100 Continue), forgetting the headers seen so far. now: for a
 * Retry-After given as a date. */
void ingest_answer_header(struct ingest_answer *a, const char *line, size_t len, time_t now);
/* Reads the body (len bytes, JSON or not) of an answer whose status is set
 * and decides. Fills code, path, message, request_id from the API's error
 * object, execution_id from a success. */
enum ingest_verdict ingest_answer_verdict(struct ingest_answer *a, const char *body, size_t len);

/* One line for a person: "422 validation_failed at node_executions[3].status:
 * MESSAGE (request ID)", the parts the answer has. */
void ingest_answer_describe(const struct ingest_answer *a, struct buf *out);
/* The answer as a JSON object, to keep beside a refused payload:
 * {"source","status","code","path","message","request_id"}, the strings
 * the answer has; source is where the payload came from. */
void ingest_answer_json(const struct ingest_answer *a, const char *source, struct buf *out);

/* The longest execution_id kept: a UUID is 36; a longer one is refused by
 * the server anyway. */
#define INGEST_EXECUTION_ID_MAX 64
/* The payload's top-level execution_id (the last one, as the server reads
 * a repeated member), lowercased, into out: true, or false when it has
 * none, it is not a string, is longer than INGEST_EXECUTION_ID_MAX, or the
 * text is not a JSON object. Payloads of one live run must reach the
 * server in order (a closing one first would close it), so uploads with
 * the same execution_id never overlap. */
bool ingest_payload_execution_id(const char *text, size_t len, char out[INGEST_EXECUTION_ID_MAX + 1]);

#endif
