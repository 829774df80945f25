/* copyload: the benchmark's ceiling. Loads the rows of one ingest payload
 * with COPY, one transaction per payload, from CLIENTS connections at once
 * for SECONDS, and prints one JSON line with the totals:
 *
 *   copyload CONNINFO TEMPLATE CLIENTS SECONDS
 *
 * TEMPLATE (bench/gen.py copy) holds one section per table: a line
 * "@@COPY <statement> FROM STDIN" and that table's rows in COPY text
 * format. Every occurrence of the placeholder execution id is replaced, per
 * transaction, by a fresh one, so each transaction writes a new execution
 * with its items (a placeholder is PLACEHOLDER_PREFIX and 4 hex digits:
 * its first 32 characters are replaced, so a template may hold several
 * ids, "...ffff0000", "...ffff0001", ..., each fresh in each transaction;
 * bench/otlp.sh's have one per trace and node execution).
 *
 * The fresh ids are random (each placeholder its own random 32 characters
 * per transaction), as the ingest's are: a client sends uuid4s, and the
 * OTLP ingest derives its execution and node-execution ids from random
 * trace ids. COPYLOAD_IDS=sequential gives the earlier ids instead, one
 * prefix per transaction counting up per client, which every placeholder
 * of the transaction shares: those land next to each other in every
 * index that leads with them (the last leaf pages, in cache), which the
 * ingest's rows never do (BENCHMARKS.md, "OpenTelemetry ingest").
 *
 * Each transaction: BEGIN; COPY executions; COPY node_executions; COPY
 * telemetry_spans; COPY telemetry_events; COPY shared_state_snapshots;
 * COMMIT. Durability is whatever the server has (synchronous_commit is not
 * touched).
 *
 * Each client is a process with its own connection; they start together
 * and stop issuing transactions at the deadline. Output: transactions,
 * rows, elapsed seconds (start to the last commit), errors, p50/p99
 * transaction latency in ms. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#define PLACEHOLDER_PREFIX "ffffffff-ffff-4fff-bfff-ffffffff"
#define PREFIX_LEN 32
#define MAX_SECTIONS 16
#define MAX_CLIENTS 256

struct section {
    char *stmt;     /* COPY ... FROM STDIN */
    char *data;     /* rows, with the placeholder */
    size_t len;
    size_t *at;     /* placeholder offsets in data */
    unsigned *num;  /* each one's slot: one per distinct placeholder */
    size_t nat;
    long rows;
};

static struct section sections[MAX_SECTIONS];
static int nsections;
static unsigned nums[0x10000]; /* the distinct placeholders (last 4 hex digits) */
static unsigned n_nums;
static int sequential_ids; /* COPYLOAD_IDS=sequential */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "copyload: %s\n", what);
    exit(1);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open the template");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (!p || fread(p, 1, (size_t)n, f) != (size_t)n)
        die("cannot read the template");
    p[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void parse_template(char *text)
{
    char *p = text;
    while (*p) {
        if (strncmp(p, "@@", 2) != 0)
            die("template: expected an @@COPY line");
        if (nsections == MAX_SECTIONS)
            die("template: too many sections");
        struct section *s = &sections[nsections++];
        char *eol = strchr(p, '\n');
        if (!eol)
            die("template: unterminated @@COPY line");
        *eol = '\0';
        s->stmt = p + 2;
        char *data = eol + 1, *end = strstr(data, "\n@@");
        end = end ? end + 1 : data + strlen(data);
        s->len = (size_t)(end - data);
        s->data = malloc(s->len + 1);
        memcpy(s->data, data, s->len);
        s->data[s->len] = '\0';
        for (size_t i = 0; i < s->len; i++)
            if (s->data[i] == '\n')
                s->rows++;
        s->at = malloc(sizeof *s->at * (s->len / 36 + 1));
        s->num = malloc(sizeof *s->num * (s->len / 36 + 1));
        for (char *q = s->data; (q = strstr(q, PLACEHOLDER_PREFIX)); q += 36) {
            char hex[5] = {0};
            memcpy(hex, q + PREFIX_LEN, 4);
            unsigned num = (unsigned)strtoul(hex, NULL, 16) & 0xffff, slot = 0;
            while (slot < n_nums && nums[slot] != num)
                slot++;
            if (slot == n_nums)
                nums[n_nums++] = num;
            s->num[s->nat] = slot;
            s->at[s->nat++] = (size_t)(q - s->data);
        }
        p = end;
    }
}

static int ok(PGresult *res, ExecStatusType want)
{
    int good = res && PQresultStatus(res) == want;
    if (!good)
        fprintf(stderr, "copyload: %s", res ? PQresultErrorMessage(res) : "no result\n");
    PQclear(res);
    return good;
}

/* splitmix64: the random ids' bits. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* prefix[n * PREFIX_LEN ...]: the first 32 characters of slot n's
 * id in the next transaction, a uuid4's ("xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxx"),
 * or seq for all (COPYLOAD_IDS=sequential). */
static void fresh_prefixes(char *prefix, uint64_t *state, const char *seq)
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned n = 0; n < n_nums; n++) {
        char *p = prefix + (size_t)n * PREFIX_LEN;
        if (sequential_ids) {
            memcpy(p, seq, PREFIX_LEN);
            continue;
        }
        uint64_t r[2] = {next_random(state), next_random(state)};
        for (int i = 0, bit = 0; i < PREFIX_LEN; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23)
                p[i] = '-';
            else if (i == 14)
                p[i] = '4';
            else if (i == 19)
                p[i] = "89ab"[r[1] >> 62];
            else {
                p[i] = digits[(r[bit / 64] >> (bit % 64)) & 15];
                bit += 4;
            }
        }
    }
}

/* One payload's transaction, the placeholders of slot n taking prefix n (fresh_prefixes)
 * and its own 4 digits. 0 or -1. */
static int load_one(PGconn *c, const char *prefix)
{
    if (!ok(PQexec(c, "BEGIN"), PGRES_COMMAND_OK))
        return -1;
    for (int i = 0; i < nsections; i++) {
        struct section *s = &sections[i];
        for (size_t k = 0; k < s->nat; k++)
            memcpy(s->data + s->at[k], prefix + (size_t)s->num[k] * PREFIX_LEN, PREFIX_LEN);
        if (!ok(PQexec(c, s->stmt), PGRES_COPY_IN))
            goto fail;
        if (PQputCopyData(c, s->data, (int)s->len) != 1 || PQputCopyEnd(c, NULL) != 1)
            goto fail;
        if (!ok(PQgetResult(c), PGRES_COMMAND_OK))
            goto fail;
        PGresult *extra;
        while ((extra = PQgetResult(c)))
            PQclear(extra);
    }
    if (!ok(PQexec(c, "COMMIT"), PGRES_COMMAND_OK))
        return -1;
    return 0;
fail:
    PQclear(PQexec(c, "ROLLBACK"));
    return -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* What a client reports through its pipe: a header, then latencies. */
struct report {
    long tx, errors;
    double first_start, last_end;
    long nlat;
};

static void client(int idx, const char *conninfo, double start, double deadline, int fd)
{
    PGconn *c = PQconnectdb(conninfo);
    struct report rep = {0};
    size_t cap = 1024;
    double *lat = malloc(cap * sizeof *lat);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "copyload: connect: %s", PQerrorMessage(c));
        rep.errors = 1;
    } else {
        double t = now_s();
        if (start > t)
            usleep((useconds_t)((start - t) * 1e6));
        rep.first_start = now_s();
        unsigned long n = 0;
        uint32_t tag = (uint32_t)getpid() ^ (uint32_t)time(NULL) << 8;
        uint64_t state = (uint64_t)tag << 32 ^ (uint64_t)idx;
        char *prefix = malloc((size_t)(n_nums ? n_nums : 1) * PREFIX_LEN);
        while (now_s() < deadline) {
            char id[40];
            snprintf(id, sizeof id, "%08x-%04x-4%03x-8%03x-%012lx", tag, idx & 0xffff,
                     (unsigned)(n >> 12) & 0xfff, (unsigned)n & 0xfff, (unsigned long)n);
            n++;
            fresh_prefixes(prefix, &state, id);
            double t0 = now_s();
            if (load_one(c, prefix) < 0) {
                rep.errors++;
                if (PQstatus(c) != CONNECTION_OK)
                    break;
                continue;
            }
            double t1 = now_s();
            if ((size_t)rep.nlat == cap)
                lat = realloc(lat, (cap *= 2) * sizeof *lat);
            lat[rep.nlat++] = (t1 - t0) * 1000.0;
            rep.tx++;
            rep.last_end = t1;
        }
        free(prefix);
    }
    PQfinish(c);
    if (write(fd, &rep, sizeof rep) != sizeof rep ||
        (rep.nlat && write(fd, lat, (size_t)rep.nlat * sizeof *lat) != (ssize_t)(rep.nlat * sizeof *lat)))
        _exit(1);
    _exit(0);
}

static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: copyload CONNINFO TEMPLATE CLIENTS SECONDS\n");
        return 2;
    }
    int clients = atoi(argv[3]);
    double seconds = atof(argv[4]);
    if (clients < 1 || clients > MAX_CLIENTS || seconds <= 0)
        die("CLIENTS must be 1..256 and SECONDS positive");
    const char *ids = getenv("COPYLOAD_IDS");
    sequential_ids = ids && strcmp(ids, "sequential") == 0;
    if (ids && !sequential_ids && strcmp(ids, "random") != 0)
        die("COPYLOAD_IDS must be random or sequential");
    size_t len;
    parse_template(slurp(argv[2], &len));
    long rows = 0;
    for (int i = 0; i < nsections; i++)
        rows += sections[i].rows;

    /* Connections are made before the start time, so connecting is not
     * measured. */
    double start = now_s() + 0.5 + clients * 0.02, deadline = start + seconds;
    int fds[MAX_CLIENTS];
    pid_t pids[MAX_CLIENTS];
    for (int i = 0; i < clients; i++) {
        int p[2];
        if (pipe(p) < 0)
            die("pipe");
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            close(p[0]);
            client(i, argv[1], start, deadline, p[1]);
        }
        close(p[1]);
        fds[i] = p[0];
        pids[i] = pid;
    }
    long tx = 0, errors = 0, nlat = 0;
    double last = start;
    double *all = NULL;
    for (int i = 0; i < clients; i++) {
        struct report rep;
        if (read_all(fds[i], &rep, sizeof rep) < 0) {
            errors++;
            continue;
        }
        all = realloc(all, (size_t)(nlat + rep.nlat + 1) * sizeof *all);
        if (rep.nlat && read_all(fds[i], all + nlat, (size_t)rep.nlat * sizeof *all) < 0)
            die("short read from a client");
        nlat += rep.nlat;
        tx += rep.tx;
        errors += rep.errors;
        if (rep.last_end > last)
            last = rep.last_end;
        close(fds[i]);
    }
    for (int i = 0; i < clients; i++)
        waitpid(pids[i], NULL, 0);
    double p50 = 0, p99 = 0;
    if (nlat) {
        qsort(all, (size_t)nlat, sizeof *all, cmp_double);
        p50 = all[(size_t)((nlat - 1) * 0.50)];
        p99 = all[(size_t)((nlat - 1) * 0.99)];
    }
    double elapsed = last - start;
    if (elapsed <= 0)
        elapsed = seconds;
    printf("{\"clients\":%d,\"transactions\":%ld,\"rows_per_tx\":%ld,\"rows\":%ld,\"elapsed_s\":%.3f,"
           "\"tx_per_s\":%.2f,\"rows_per_s\":%.1f,\"errors\":%ld,\"p50_ms\":%.2f,\"p99_ms\":%.2f}\n",
           clients, tx, rows, tx * rows, elapsed, tx / elapsed, (double)(tx * rows) / elapsed, errors, p50,
           p99);
    free(all);
    return errors && !tx ? 1 : 0;
}
