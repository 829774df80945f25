/* Unit tests of the shared metrics block (src/ops/metrics.c): the file is made
 * and checked, slots are claimed per process (real child processes, forked
 * here), a dead process's slot is re-claimed with its counts, a scrape sums
 * every slot, latencies land in the right bucket, and the text rendering
 * escapes label values. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "ops/metrics.h"
#include "handlers/routes.h"

static const struct metrics_route table[] = {
    {"GET", "/api/a"},
    {"POST", "/api/b/{id}"},
};
static const size_t ntable = sizeof table / sizeof table[0];

static char path[64];

static void make_path(void)
{
    strcpy(path, "/tmp/agora-metrics-test-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
    close(fd); /* an empty file: the block makes it */
}

static void remove_path(void)
{
    unlink(path);
}

TestSuite(metrics, .init = make_path, .fini = remove_path);

static struct metrics_block *open_or_fail(const struct metrics_route *routes, size_t n)
{
    char err[512] = "";
    struct metrics_block *m = metrics_block_open(path, routes, n, err, sizeof err);
    cr_assert_not_null(m, "metrics_block_open failed: %s", err);
    return m;
}

/* The whole exposition text of m (the caller frees it). */
static char *render(const struct metrics_block *m)
{
    struct buf b;
    buf_init(&b);
    metrics_render(m, &b);
    return buf_steal(&b);
}

/* The value of the sample line that starts with series (name and labels
 * exactly as rendered), or -1 when there is none. */
static long long sample(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        if (!eol)
            eol = line + strlen(line);
        if ((size_t)(eol - line) > n && strncmp(line, series, n) == 0 && line[n] == ' ')
            return atoll(line + n + 1);
        line = *eol ? eol + 1 : eol;
    }
    return -1;
}

/* The value text of the sample line that starts with series, copied into
 * out; "" when there is none. */
static const char *sample_text(const char *text, const char *series, char *out, size_t outlen)
{
    size_t n = strlen(series);
    out[0] = '\0';
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        if (!eol)
            eol = line + strlen(line);
        if ((size_t)(eol - line) > n && strncmp(line, series, n) == 0 && line[n] == ' ') {
            snprintf(out, outlen, "%.*s", (int)(eol - line - (long)n - 1), line + n + 1);
            break;
        }
        line = *eol ? eol + 1 : eol;
    }
    return out;
}

/* Runs fn in a child process that exits without closing its block, as a
 * worker killed by a signal does; waits for it. */
static void in_crashing_child(void (*fn)(void))
{
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        fn();
        _exit(0);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed (status %d)", status);
}

static void child_records_three_requests_and_stays_in_flight(void)
{
    char err[512];
    struct metrics_block *m = metrics_block_open(path, table, ntable, err, sizeof err);
    if (!m)
        _exit(10);
    metrics_install(m);
    for (int i = 0; i < 3; i++) {
        metrics_request_begin();
        metrics_request_end(0, 200, 1500);
    }
    metrics_ingested(true, 4, 3, 2, 1);
    metrics_request_begin(); /* killed in the middle of a request */
    if (metrics_block_slot(m) != 0)
        _exit(11);
}

static void child_records_two_404s(void)
{
    char err[512];
    struct metrics_block *m = metrics_block_open(path, table, ntable, err, sizeof err);
    if (!m)
        _exit(10);
    metrics_install(m);
    metrics_request_end(-1, 404, 200);
    metrics_request_end(-1, 404, 300);
    metrics_request_end(0, 200, 100);
}

Test(metrics, a_fresh_file_gets_the_documented_header_and_size)
{
    struct metrics_block *m = open_or_fail(table, ntable);
    cr_assert_eq(metrics_block_slot(m), 0);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_size, 2056256, "file size %lld", (long long)st.st_size);
    cr_assert_eq(st.st_mode & 0777, 0600);
    unsigned char head[16];
    int fd = open(path, O_RDONLY);
    cr_assert_eq(read(fd, head, sizeof head), (ssize_t)sizeof head);
    close(fd);
    cr_assert_eq(memcmp(head, "AGORAMTR", 8), 0);
    uint32_t version, header_size;
    memcpy(&version, head + 8, 4);
    memcpy(&header_size, head + 12, 4);
    cr_assert_eq(version, 2);
    cr_assert_eq(header_size, 64);
    metrics_block_close(m);
}

Test(metrics, each_live_process_claims_its_own_slot)
{
    struct metrics_block *m = open_or_fail(table, ntable);
    cr_assert_eq(metrics_block_slot(m), 0);
    pid_t pid = fork();
    if (pid == 0) {
        char err[512];
        struct metrics_block *c = metrics_block_open(path, table, ntable, err, sizeof err);
        _exit(c ? metrics_block_slot(c) : 100);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status));
    cr_assert_eq(WEXITSTATUS(status), 1, "the child got slot %d while slot 0 is held", WEXITSTATUS(status));
    metrics_block_close(m);
}

Test(metrics, a_dead_workers_slot_is_reclaimed_and_keeps_its_counts)
{
    in_crashing_child(child_records_three_requests_and_stays_in_flight);
    struct metrics_block *m = open_or_fail(table, ntable);
    cr_assert_eq(metrics_block_slot(m), 0, "the dead child's slot 0 should be re-claimed");
    char *text = render(m);
    cr_assert_eq(sample(text, "agora_http_requests_total{route=\"/api/a\",method=\"GET\",status=\"200\"}"), 3,
                 "%s", text);
    cr_assert_eq(sample(text, "agora_ingested_rows_total{table=\"executions\"}"), 1, "%s", text);
    cr_assert_eq(sample(text, "agora_ingested_rows_total{table=\"node_executions\"}"), 4, "%s", text);
    cr_assert_eq(sample(text, "agora_ingested_rows_total{table=\"telemetry_spans\"}"), 3, "%s", text);
    cr_assert_eq(sample(text, "agora_ingested_rows_total{table=\"telemetry_events\"}"), 2, "%s", text);
    cr_assert_eq(sample(text, "agora_ingested_rows_total{table=\"shared_state_snapshots\"}"), 1, "%s", text);
    /* The dead child's request in hand is no longer in flight. */
    cr_assert_eq(sample(text, "agora_http_requests_in_flight"), 0, "%s", text);
    cr_assert_eq(sample(text, "agora_workers"), 1, "%s", text);
    cr_assert_eq(sample(text, "agora_worker_starts_total"), 2, "%s", text);
    free(text);
    metrics_block_close(m);
}

Test(metrics, a_dead_workers_in_flight_request_is_not_counted_before_reclaim)
{
    struct metrics_block *m = open_or_fail(table, ntable); /* slot 0: ours, alive */
    pid_t pid = fork();
    if (pid == 0) {
        char err[512];
        struct metrics_block *c = metrics_block_open(path, table, ntable, err, sizeof err);
        if (!c)
            _exit(10);
        metrics_install(c);
        metrics_request_end(0, 200, 10);
        metrics_request_begin();
        _exit(0); /* dies with a request in flight */
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    metrics_install(m);
    metrics_request_begin(); /* ours: this scrape */
    char *text = render(m);
    cr_assert_eq(sample(text, "agora_http_requests_in_flight"), 1, "%s", text);
    cr_assert_eq(sample(text, "agora_http_requests_total{route=\"/api/a\",method=\"GET\",status=\"200\"}"), 1,
                 "%s", text);
    cr_assert_eq(sample(text, "agora_workers"), 1, "%s", text);
    free(text);
    metrics_install(NULL);
    metrics_block_close(m);
}

Test(metrics, a_scrape_sums_every_slot)
{
    struct metrics_block *m = open_or_fail(table, ntable); /* holds slot 0 */
    in_crashing_child(child_records_two_404s);             /* slot 1 */
    in_crashing_child(child_records_two_404s);             /* slot 1 again: its holder died */
    metrics_install(m);
    metrics_request_end(-1, 404, 100);
    char *text = render(m);
    char v[64];
    cr_assert_eq(sample(text, "agora_http_requests_total{route=\"unmatched\",method=\"other\",status=\"404\"}"), 5,
                 "%s", text);
    cr_assert_eq(sample(text, "agora_http_requests_total{route=\"/api/a\",method=\"GET\",status=\"200\"}"), 2,
                 "%s", text);
    cr_assert_eq(sample(text, "agora_http_request_duration_seconds_count{route=\"unmatched\",method=\"other\"}"), 5,
                 "%s", text);
    cr_assert_str_eq(sample_text(text, "agora_http_request_duration_seconds_sum{route=\"unmatched\",method=\"other\"}",
                                 v, sizeof v), "0.001100", "%s", text);
    cr_assert_eq(sample(text, "agora_worker_starts_total"), 3, "%s", text);
    free(text);
    metrics_install(NULL);
    metrics_block_close(m);
}

Test(metrics, a_closed_slot_is_given_back_and_its_counts_stay)
{
    struct metrics_block *m = open_or_fail(table, ntable);
    metrics_install(m);
    metrics_request_end(1, 201, 5);
    metrics_install(NULL);
    metrics_block_close(m);
    m = open_or_fail(table, ntable);
    cr_assert_eq(metrics_block_slot(m), 0);
    char *text = render(m);
    cr_assert_eq(sample(text, "agora_http_requests_total{route=\"/api/b/{id}\",method=\"POST\",status=\"201\"}"), 1,
                 "%s", text);
    free(text);
    metrics_block_close(m);
}

Test(metrics, durations_land_in_the_first_bucket_that_holds_them)
{
    cr_assert_eq(metrics_bucket_index(0), 0);
    cr_assert_eq(metrics_bucket_index(1000), 0);    /* le is inclusive: 1 ms is <= 0.001 */
    cr_assert_eq(metrics_bucket_index(1001), 1);
    cr_assert_eq(metrics_bucket_index(2500), 1);
    cr_assert_eq(metrics_bucket_index(99999), 6);   /* < 0.1 s */
    cr_assert_eq(metrics_bucket_index(1000000), 9); /* 1 s */
    cr_assert_eq(metrics_bucket_index(10000000), 12);
    cr_assert_eq(metrics_bucket_index(10000001), METRICS_BUCKETS); /* +Inf */

    struct metrics_block *m = open_or_fail(table, ntable);
    metrics_install(m);
    metrics_request_end(0, 200, 1000);     /* le 0.001 */
    metrics_request_end(0, 200, 3000);     /* le 0.005 */
    metrics_request_end(0, 200, 60000000); /* a minute: +Inf only */
    char *text = render(m);
    const char *b = "agora_http_request_duration_seconds_bucket{route=\"/api/a\",method=\"GET\",le=";
    char series[200], v[64];
    static const struct { const char *le; long long want; } cum[] = {
        {"0.001", 1}, {"0.0025", 1}, {"0.005", 2}, {"0.01", 2}, {"5", 2}, {"10", 2}, {"+Inf", 3},
    };
    for (size_t i = 0; i < sizeof cum / sizeof cum[0]; i++) {
        snprintf(series, sizeof series, "%s\"%s\"}", b, cum[i].le);
        cr_assert_eq(sample(text, series), cum[i].want, "%s: %s", series, text);
    }
    cr_assert_eq(sample(text, "agora_http_request_duration_seconds_count{route=\"/api/a\",method=\"GET\"}"), 3);
    cr_assert_str_eq(sample_text(text, "agora_http_request_duration_seconds_sum{route=\"/api/a\",method=\"GET\"}", v,
                                 sizeof v), "60.004000");
    /* A route nobody called has no histogram. */
    cr_assert_null(strstr(text, "route=\"/api/b/{id}\""), "%s", text);
    free(text);
    metrics_install(NULL);
    metrics_block_close(m);
}

Test(metrics, label_values_are_escaped)
{
    static const struct metrics_route odd[] = {
        {"GET", "/api/q\"uote\\back\nline"},
    };
    struct metrics_block *m = open_or_fail(odd, 1);
    metrics_install(m);
    metrics_request_end(0, 418, 10);
    char *text = render(m);
    const char *want = "agora_http_requests_total{route=\"/api/q\\\"uote\\\\back\\nline\",method=\"GET\",status=\"other\"} 1\n";
    cr_assert_not_null(strstr(text, want), "missing %s in:\n%s", want, text);
    /* Every line is a comment or a sample: no raw newline escaped a value. */
    for (const char *line = text; *line; line = strchr(line, '\n') + 1)
        cr_assert(line[0] == '#' || strncmp(line, "agora_", 6) == 0, "stray line in:\n%s", text);
    free(text);
    metrics_install(NULL);
    metrics_block_close(m);
}

Test(metrics, every_family_has_help_and_type_and_database_errors_by_kind)
{
    struct metrics_block *m = open_or_fail(table, ntable);
    metrics_install(m);
    metrics_db_failure(MDB_CONNECTION_LOST);
    metrics_db_failure(MDB_STATEMENT_FAILED);
    metrics_db_failure(MDB_STATEMENT_FAILED);
    metrics_db_failure(MDB_COUNT); /* not a kind: ignored */
    metrics_db_connect_failed();
    char *text = render(m);
    cr_assert_eq(sample(text, "agora_db_errors_total{kind=\"connection_lost\"}"), 1, "%s", text);
    cr_assert_eq(sample(text, "agora_db_errors_total{kind=\"statement_failed\"}"), 2, "%s", text);
    cr_assert_eq(sample(text, "agora_db_errors_total{kind=\"connect_failed\"}"), 1, "%s", text);
    cr_assert_eq(sample(text, "agora_db_errors_total{kind=\"timeout\"}"), 0, "%s", text);
    static const char *const families[] = {
        "agora_http_requests_total counter", "agora_http_request_duration_seconds histogram",
        "agora_http_requests_in_flight gauge", "agora_ingested_rows_total counter",
        "agora_db_errors_total counter", "agora_workers gauge", "agora_worker_starts_total counter",
    };
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        char t[128], h[128];
        snprintf(t, sizeof t, "# TYPE %s\n", families[i]);
        snprintf(h, sizeof h, "# HELP %.*s ", (int)strcspn(families[i], " "), families[i]);
        cr_assert_not_null(strstr(text, t), "no %s", t);
        cr_assert_not_null(strstr(text, h), "no %s", h);
    }
    free(text);
    metrics_install(NULL);
    metrics_block_close(m);
}

Test(metrics, recording_without_a_block_does_nothing)
{

    metrics_install(NULL);
    metrics_request_begin();
    metrics_request_end(0, 200, 1);
    metrics_ingested(true, 1, 1, 1, 1);
    metrics_db_failure(MDB_STATEMENT_FAILED);
    metrics_db_connect_failed();
    cr_assert_null(metrics_installed());
}

Test(metrics, a_file_that_is_not_ours_is_refused_and_left_alone)
{
    static const char text[] = "not a metrics file, someone's data\n";
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    char err[512] = "";
    cr_assert_null(metrics_block_open(path, table, ntable, err, sizeof err));
    cr_assert_not_null(strstr(err, "not an Agora metrics file"), "%s", err);
    char back[128] = "";
    f = fopen(path, "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(back, sizeof back, f));
    fclose(f);
    cr_assert_str_eq(back, text);
}

Test(metrics, a_file_of_another_layout_is_refused_while_in_use_and_renewed_after)
{
    static const struct metrics_route other[] = {
        {"GET", "/api/other"},
    };
    struct metrics_block *m = open_or_fail(table, ntable); /* held by this live process */
    metrics_install(m);
    metrics_request_end(0, 200, 1);
    metrics_install(NULL);
    char err[512] = "";
    cr_assert_null(metrics_block_open(path, other, 1, err, sizeof err));
    cr_assert_not_null(strstr(err, "another layout"), "%s", err);
    metrics_block_close(m);

    /* Nobody holds it any more: a worker with the new table starts afresh. */
    m = open_or_fail(other, 1);
    char *text = render(m);
    cr_assert_null(strstr(text, "agora_http_requests_total{"), "%s", text);
    cr_assert_eq(sample(text, "agora_worker_starts_total"), 1, "%s", text);
    free(text);
    metrics_block_close(m);
}

Test(metrics, the_route_table_fits_the_block)
{
    cr_assert(agora_routes_count <= METRICS_UNMATCHED, "%zu routes, room for %d", agora_routes_count,
              METRICS_UNMATCHED);
    struct metrics_route labels[METRICS_MAX_ROUTES];
    size_t n = agora_routes_metric_labels(labels);
    cr_assert_eq(n, agora_routes_count);
    for (size_t i = 0; i < n; i++)
        cr_assert(labels[i].method == agora_routes[i].method && labels[i].pattern == agora_routes[i].pattern);
    struct metrics_block *m = open_or_fail(labels, n);
    metrics_block_close(m);
}
