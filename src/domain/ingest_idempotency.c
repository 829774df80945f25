/* Idempotency keys of the ingest (README "Retries and Idempotency-Key"):
 * claiming a key before anything is written (step 2 of ingest_store.c),
 * storing the answer a replay sends (step 8), and forgetting old keys.
 * A part of the ingest_store module (ingest_idempotency.h). */
#include "domain/ingest_idempotency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "domain/ingest_sql.h"

/* Seconds between two purges by one worker. */
#define PURGE_INTERVAL_S 600

/* Step 2. *owned true: the key is ours (a first request) and the ingest
 * goes on. Otherwise out holds the replay (DB_OK, out->replayed) or the
 * reason there is none. */
enum db_status ingest_idem_claim(struct db *db, const char *org, const struct ingest_input *in,
                                 const char *hash_hex, bool *owned, struct ingest_result *out)
{
    PGresult *res = NULL;
    const char *claim[3] = {org, in->idem_key, hash_hex};
    enum db_status st = db_exec(db, SQL_IDEM_CLAIM, 3, claim, &res);

    *owned = false;
    if (st != DB_OK)
        return st;
    *owned = PQntuples(res) == 1;
    PQclear(res);
    if (*owned)
        return DB_OK;

    const char *read[3] = {in->idem_key, hash_hex, org};
    if ((st = db_exec(db, SQL_IDEM_READ, 3, read, &res)) != DB_OK)
        return st;
    if (PQntuples(res) != 1) {
        /* Purged between the two statements: the client may simply retry. */
        st = ingest_fail(out, DB_CONFLICT, NULL, "this Idempotency-Key is busy; retry");
    } else if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        st = ingest_fail(out, DB_INVALID, "Idempotency-Key", "the key was used with a different body");
    } else if (PQgetisnull(res, 0, 1) || PQgetisnull(res, 0, 2) || PQgetisnull(res, 0, 3)) {
        /* Only an uncommitted first request has no answer, and the claim
         * waited for that to commit; kept for safety. */
        st = ingest_fail(out, DB_CONFLICT, NULL,
                  "a request with this Idempotency-Key is still in progress; retry later");
    } else {
        out->replayed = true;
        out->http_status = atoi(PQgetvalue(res, 0, 1));
        ingest_copy_field(out->execution_id, sizeof out->execution_id, res, 0, 2);
        ingest_copy_field(out->status, sizeof out->status, res, 0, 3);
        for (int i = 0; i < IT_COUNT; i++)
            out->counts[i] = PQgetisnull(res, 0, 4 + i) ? 0 : strtoll(PQgetvalue(res, 0, 4 + i), NULL, 10);
    }
    PQclear(res);
    return st;
}

/* Step 8: the answer, as the replay will send it. */
enum db_status ingest_idem_store(struct db *db, const char *org, const struct ingest_input *in,
                                 struct ingest_result *out)
{
    struct json_object *answer = ingest_answer(out);
    const char *text = json_object_to_json_string_ext(answer, JSON_C_TO_STRING_PLAIN);
    char status[8];
    snprintf(status, sizeof status, "%d", out->http_status);
    const char *params[5] = {in->idem_key, status, text, out->execution_id, org};
    enum db_status st = text ? db_exec(db, SQL_IDEM_STORE, 5, params, NULL) : DB_ERROR;
    json_object_put(answer);
    return st;
}

bool ingest_idempotency_key_valid(const char *key)
{
    size_t n = 0;
    if (!key)
        return false;
    for (; key[n]; n++)
        if ((unsigned char)key[n] < 0x21 || (unsigned char)key[n] > 0x7e || n >= INGEST_IDEM_KEY_MAX)
            return false;
    return n > 0;
}

void ingest_purge_old_keys(struct db *db)
{
    /* Worker-level state on purpose: a worker is one single-threaded
     * process serving one request at a time, so a static needs no lock, and
     * "at most once per 10 minutes per worker" is all we promise. N workers
     * purge at most N times per interval, each deleting little; keys live at
     * least 24 hours whoever purges. A worker restart purges at its first
     * ingest, which is harmless. */
    static struct timespec last;
    static bool done_once;
    struct timespec now;

    if (db->in_tx || clock_gettime(CLOCK_MONOTONIC, &now) != 0)
        return;
    if (done_once && now.tv_sec - last.tv_sec < PURGE_INTERVAL_S)
        return;
    last = now;
    done_once = true;
    /* Outside any transaction: autocommit, as agora_definer (SECURITY
     * DEFINER), for every tenant at once. */
    enum db_status st = db_exec(db, SQL_PURGE, 0, NULL, NULL);
    if (st != DB_OK)
        fprintf(stderr, "agora: ingest: purging old idempotency keys failed (status %d); will retry later\n",
                (int)st);
}
