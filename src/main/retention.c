/* agora-retention: applies the retention policies (sql/024) once and
 * exits; a systemd timer (agora-retention.timer) or ./run.sh runs it
 * periodically. It first makes the item tables' monthly partitions ahead
 * and drops whole months that have expired (retention_partitions.c). Then
 * for each project with a policy it removes, in batches of --batch rows
 * per transaction (so ingest is never blocked for longer than one batch),
 * first the expired payloads (events, spans, snapshots; from the runs after
 * the project's payload mark, sql/028), then the expired runs with
 * everything they own, then it trims the large fields of the runs kept
 * past their payload window (after its own mark, sql/026). Each project is held
 * under a session advisory lock: a second job running at once skips the
 * project and says so. Stops starting batches after --max-seconds. Prints
 * one JSON object of what it removed and trimmed and records a row per
 * project in agora.retention_runs, which the API shows. Connects with
 * AGORA_ADMIN_DATABASE_URL (or _FILE): the functions are not the workers'.
 * With --every S it runs again every S seconds until SIGTERM (./run.sh
 * starts it so, under agora-supervise; systemd uses the timer instead). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "db/pg_json.h"
#include "main/retention_partitions.h"
#include "ops/config.h"
#include "ops/signals.h"

/* The lock's first key: the job's own space of advisory locks (the
 * second is the project). */
#define RETENTION_LOCK_SPACE "2404"

struct job {
    PGconn *conn;
    long batch;
    double deadline; /* monotonic seconds */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


/* Runs sql (a batch for the project, cutoff and batch size) until its
 * first column says it found nothing, time runs out or a stop arrives.
 * Adds its last column (what went) to *added: a one-column batch says
 * both at once. 0 done, 1 out of time, -1 error. */
static int batches(struct job *j, const char *sql, const char *project, const char *cutoff, long long *added)
{
    char batch[24];
    snprintf(batch, sizeof batch, "%ld", j->batch);
    const char *params[3] = {project, cutoff, batch};
    for (;;) {
        if (now_s() >= j->deadline || signals_stop_requested())
            return 1;
        PGresult *res = retention_one(j->conn, sql, 3, params);
        if (!res)
            return -1;
        long long found = atoll(PQgetvalue(res, 0, 0));
        *added += atoll(PQgetvalue(res, 0, PQnfields(res) - 1));
        PQclear(res);
        if (found == 0)
            return 0;
    }
}

/* The runs step (sql/024): a batch returns how many runs went, and
 * finding none is the end. Adds them to *removed. */
static int expire(struct job *j, const char *project, const char *cutoff, long long *removed)
{
    return batches(j, "SELECT agora.retention_runs_batch($1::uuid, $2::timestamptz, $3::int)", project, cutoff,
                   removed);
}

/* The payload step (sql/028) and the trim step (sql/026) resume after a
 * mark: a batch may look at runs and remove or trim nothing (their rows
 * went with a dropped month, their fields are small), so the runs it
 * looked at, not what it did, say when to stop. payloads() adds the rows
 * removed to *removed, trim() the fields trimmed to *trimmed. */
static int payloads(struct job *j, const char *project, const char *cutoff, long long *removed)
{
    return batches(j, "SELECT runs, removed FROM agora.retention_payload_batch($1::uuid, $2::timestamptz, $3::int)",
                   project, cutoff, removed);
}

static int trim(struct job *j, const char *project, const char *cutoff, long long *trimmed)
{
    return batches(j, "SELECT runs, trimmed FROM agora.retention_trim_batch($1::uuid, $2::timestamptz, $3::int)",
                   project, cutoff, trimmed);
}

/* What a job removed and trimmed, over its projects. */
struct totals {
    long long runs, rows, trimmed;
};

/* One project: its lock, its payloads, its runs, its trims, its record.
 * Adds the project's outcome to out and its counts to *sum. 0, or -1 on a
 * database error. */
static int project(struct job *j, const PGresult *p, int row, struct json_object *out, struct totals *sum)
{
    const char *id = PQgetvalue(p, row, 0), *started = PQgetvalue(p, row, 3);
    const char *payload_cutoff = PQgetisnull(p, row, 2) ? NULL : PQgetvalue(p, row, 2);
    const char *runs_cutoff = PQgetisnull(p, row, 1) ? NULL : PQgetvalue(p, row, 1);
    long long runs = 0, rows = 0, trimmed = 0;
    const char *outcome = "skipped_locked";
    int rc = 0;
    const char *lp[1] = {id};
    PGresult *res =
        retention_one(j->conn, "SELECT pg_try_advisory_lock(" RETENTION_LOCK_SPACE ", hashtext($1))", 1, lp);
    if (!res)
        return -1;
    bool locked = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (locked) {
        /* Payloads first: the runs that expire too then go with little
         * left to cascade, so a runs batch stays small. */
        int a = payload_cutoff ? payloads(j, id, payload_cutoff, &rows) : 0;
        int b = a == 0 && runs_cutoff ? expire(j, id, runs_cutoff, &runs) : a;
        /* Trims last: the runs that expired are gone, not trimmed first. */
        int c = b == 0 && payload_cutoff ? trim(j, id, payload_cutoff, &trimmed) : b;
        outcome = c == 0 ? "done" : "partial";
        rc = a < 0 || b < 0 || c < 0 ? -1 : 0;
        if ((res = retention_one(j->conn, "SELECT pg_advisory_unlock(" RETENTION_LOCK_SPACE ", hashtext($1))", 1, lp)))
            PQclear(res);
    }
    char nruns[24], nrows[24], ntrimmed[24];
    snprintf(nruns, sizeof nruns, "%lld", runs);
    snprintf(nrows, sizeof nrows, "%lld", rows);
    snprintf(ntrimmed, sizeof ntrimmed, "%lld", trimmed);
    const char *rp[6] = {id, started, nruns, nrows, ntrimmed, outcome};
    if (rc == 0 && (res = retention_one(j->conn,
                                        "SELECT 1 FROM agora.retention_record($1::uuid, $2::timestamptz,"
                                        " $3::bigint, $4::bigint, $5::bigint, $6)",
                                        6, rp)))
        PQclear(res);
    else
        rc = -1;
    struct json_object *o = json_must(json_object_new_object());
    json_object_object_add(o, "project_id", json_must(json_object_new_string(id)));
    json_object_object_add(o, "outcome", json_must(json_object_new_string(rc < 0 ? "error" : outcome)));
    json_object_object_add(o, "runs_removed", json_must(json_object_new_int64(runs)));
    json_object_object_add(o, "payload_rows_removed", json_must(json_object_new_int64(rows)));
    json_object_object_add(o, "fields_trimmed", json_must(json_object_new_int64(trimmed)));
    json_object_array_add(out, o);
    sum->runs += runs;
    sum->rows += rows;
    sum->trimmed += trimmed;
    return rc;
}

static int usage(FILE *f)
{
    fputs("usage: agora-retention [--batch N] [--max-seconds S] [--every S]\n"
          "  removes expired runs and payloads, trims large fields (policies: /api/projects/{id}/retention)\n"
          "  --batch N        rows per transaction, and at most N runs, 1..100000 (default 500)\n"
          "  --max-seconds S  start no batch after S seconds, 1..86400 (default 600)\n"
          "  --every S        run again every S seconds (60..604800) until SIGTERM\n"
          "Connects with AGORA_ADMIN_DATABASE_URL (or AGORA_ADMIN_DATABASE_URL_FILE).\n",
          f);
    return f == stderr ? 2 : 0;
}

static int number(const char *flag, const char *v, long lo, long hi, long *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end || n < lo || n > hi) {
        fprintf(stderr, "agora-retention: %s must be %ld..%ld\n", flag, lo, hi);
        return -1;
    }
    *out = n;
    return 0;
}

/* One pass over every project with a policy: 0, or 1 after an error. */
static int run_once(const char *url, long batch, long max_seconds)
{
    struct job j = {.batch = batch};
    int rc = 1;
    const char *keys[] = {"dbname", "application_name", NULL}, *vals[] = {url, "agora-retention", NULL};
    j.conn = PQconnectdbParams(keys, vals, 1);
    double t0 = now_s();
    j.deadline = t0 + (double)max_seconds;
    struct json_object *projects = json_must(json_object_new_array());
    PGresult *p = NULL;
    if (PQstatus(j.conn) != CONNECTION_OK) {
        fprintf(stderr, "agora-retention: %s", PQerrorMessage(j.conn));
        goto fail;
    }
    /* Whole expired months first (sql/025): the batches then find less. */
    struct partitions_outcome parts;
    if (partitions_maintain(j.conn, signals_stop_requested, &parts) < 0)
        goto fail;
    /* Cutoffs fixed once, from the server's clock, for the whole run. */
    p = PQexec(j.conn, "SELECT project_id,"
                       " now() - make_interval(days => runs_days),"
                       " now() - make_interval(days => COALESCE(payload_days, runs_days)),"
                       " now() FROM agora.retention_projects()");
    if (PQresultStatus(p) != PGRES_TUPLES_OK) {
        fprintf(stderr, "agora-retention: %s", PQerrorMessage(j.conn));
        goto fail;
    }
    rc = 0;
    struct totals sum = {0};
    for (int i = 0; i < PQntuples(p); i++)
        if (project(&j, p, i, projects, &sum) < 0)
            rc = 1;
    struct json_object *out = json_must(json_object_new_object());
    json_object_object_add(out, "runs_removed", json_must(json_object_new_int64(sum.runs)));
    json_object_object_add(out, "payload_rows_removed", json_must(json_object_new_int64(sum.rows)));
    json_object_object_add(out, "fields_trimmed", json_must(json_object_new_int64(sum.trimmed)));
    json_object_object_add(out, "partitions_created", json_must(json_object_new_int64(parts.created)));
    json_object_object_add(out, "partitions_dropped", json_must(json_object_new_int64(parts.dropped)));
    json_object_object_add(out, "seconds", json_must(json_object_new_double(now_s() - t0)));
    json_object_object_add(out, "projects", json_object_get(projects));
    puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
    fflush(stdout);
    json_object_put(out);
fail:
    json_object_put(projects);
    PQclear(p);
    PQfinish(j.conn);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"batch", required_argument, NULL, 'b'},
        {"max-seconds", required_argument, NULL, 's'},
        {"every", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long batch = 500, max_seconds = 600, every = 0;
    int c, rc;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'b': if (number("--batch", optarg, 1, 100000, &batch) < 0) return 2; break;
        case 's': if (number("--max-seconds", optarg, 1, 86400, &max_seconds) < 0) return 2; break;
        case 'e': if (number("--every", optarg, 60, 604800, &every) < 0) return 2; break;
        case 'h': return usage(stdout);
        default: return usage(stderr);
        }
    }
    if (optind < argc)
        return usage(stderr);

    unsigned char *url = NULL;
    size_t len;
    char err[512];
    int found = config_secret("AGORA_ADMIN_DATABASE_URL", config_getenv, NULL, true, &url, &len, err, sizeof err);
    if (found <= 0) {
        fprintf(stderr, "agora-retention: %s\n", found < 0 ? err : "AGORA_ADMIN_DATABASE_URL is not set");
        return 1;
    }
    if (signals_install_stop(NULL, 0) < 0) {
        perror("agora-retention: signals");
        rc = 1;
        goto done;
    }
    rc = run_once((const char *)url, batch, max_seconds);
    /* --every: an error is reported and retried at the next pass. */
    while (every && !signals_stop_requested()) {
        struct timespec left = {.tv_sec = every};
        if (nanosleep(&left, NULL) < 0 || signals_stop_requested())
            break;
        rc = run_once((const char *)url, batch, max_seconds);
    }
done:
    explicit_bzero(url, len);
    free(url);
    return every ? 0 : rc;
}
