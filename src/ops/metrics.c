/* The shared metrics block: making and checking the file, claiming a slot
 * per worker, and the recording calls that write this worker's slot. The
 * file format is in metrics_file.h; summing and rendering in
 * metrics_text.c. See metrics.h for the why. */
#include "ops/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/metrics_file.h"

const int metrics_status_codes[METRICS_NSTATUS - 1] = {200, 201, 204, 400, 401, 403, 404, 405,
                                                      409, 413, 415, 422, 500, 502, 503};
const uint64_t metrics_bucket_us[METRICS_BUCKETS] = {1000, 2500, 5000, 10000, 25000, 50000, 100000,
                                                     250000, 500000, 1000000, 2500000, 5000000, 10000000};
const char *const metrics_bucket_le[METRICS_BUCKETS + 1] = {"0.001", "0.0025", "0.005", "0.01", "0.025",
                                                            "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
                                                            "10", "+Inf"};
const char *const metrics_table_names[MT_COUNT] = {"executions", "node_executions", "telemetry_spans",
                                                   "telemetry_events", "shared_state_snapshots"};
const char *const metrics_db_kind_names[MDB_COUNT] = {"connect_failed", "connection_lost", "timeout",
                                                      "conflict", "not_found", "forbidden", "invalid",
                                                      "statement_failed"};

/* The block the recording calls write to; NULL when none. */
static struct metrics_block *installed;

static void add(uint64_t *p, uint64_t v) { __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }

/* ---------------------------------------------------------------- processes */

/* A process's start time (clock ticks since boot) from /proc/PID/stat, and
 * whether it is still running (not a zombie). false when it does not exist
 * or /proc cannot tell. */
static bool proc_starttime(pid_t pid, uint64_t *out, bool *running)
{
    char path[48], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0)
        return false;
    text[n] = '\0';
    /* The command name (field 2) may hold spaces and parentheses: fields
     * are counted from the last ')'. Field 3 is the state, 22 the start. */
    char *p = strrchr(text, ')');
    if (!p || p[1] != ' ')
        return false;
    p += 2;
    *running = *p != 'Z' && *p != 'X';
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p)
            return false;
        p++;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 10);
    if (errno || end == p)
        return false;
    *out = v;
    return true;
}

bool metrics_holder_alive(int32_t pid, uint64_t starttime)
{
    if (pid <= 0)
        return false;
    uint64_t now;
    bool running;
    if (proc_starttime(pid, &now, &running))
        return running && (starttime == 0 || now == starttime);
    return kill(pid, 0) == 0 || errno == EPERM;
}

/* ---------------------------------------------------------------- layout */

static void fnv(uint64_t *h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        *h ^= *p;
        *h *= 1099511628211ULL;
    }
    *h ^= '\n';
    *h *= 1099511628211ULL;
}

static uint64_t layout_hash(const struct metrics_route *routes, size_t nroutes)
{
    uint64_t h = 14695981039346656037ULL;
    char num[64];
    snprintf(num, sizeof num, "routes %d statuses %d buckets %d", METRICS_MAX_ROUTES, METRICS_NSTATUS,
             METRICS_BUCKETS);
    fnv(&h, num);
    for (size_t i = 0; i < nroutes; i++) {
        fnv(&h, routes[i].method);
        fnv(&h, routes[i].pattern);
    }
    for (int i = 0; i < METRICS_NSTATUS - 1; i++) {
        snprintf(num, sizeof num, "%d", metrics_status_codes[i]);
        fnv(&h, num);
    }
    for (int i = 0; i <= METRICS_BUCKETS; i++)
        fnv(&h, metrics_bucket_le[i]);
    for (int i = 0; i < MT_COUNT; i++)
        fnv(&h, metrics_table_names[i]);
    for (int i = 0; i < MDB_COUNT; i++)
        fnv(&h, metrics_db_kind_names[i]);
    return h;
}

/* ---------------------------------------------------------------- opening */

enum check { FILE_OURS, FILE_FRESH, FILE_REFUSED };

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* A file of our magic but another layout: is any slot held by a live
 * process? Reads only the fields every version keeps in place. */
static int32_t live_holder_in_other_layout(int fd, const struct metrics_header *h, off_t size)
{
    if (h->header_size < METRICS_HEADER_SIZE || h->slot_size < 16 || h->nslots > 1u << 20 ||
        (uint64_t)h->header_size + (uint64_t)h->slot_size * h->nslots > (uint64_t)size)
        return 0; /* no slots we can read: nobody can be using it sensibly */
    for (uint32_t i = 0; i < h->nslots; i++) {
        struct { int32_t pid; uint32_t reserved; uint64_t starttime; } s;
        off_t at = (off_t)h->header_size + (off_t)i * h->slot_size;
        if (pread(fd, &s, sizeof s, at) != (ssize_t)sizeof s)
            return 0;
        if (metrics_holder_alive(s.pid, s.starttime))
            return s.pid;
    }
    return 0;
}

static enum check check_file(int fd, off_t size, uint64_t layout, size_t nroutes, const char *path,
                             bool reader, char *err, size_t errlen)
{
    struct metrics_header h;
    if (size == 0)
        return FILE_FRESH;
    memset(&h, 0, sizeof h);
    if (pread(fd, &h, sizeof h, 0) < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return FILE_REFUSED;
    }
    /* A creator that died between sizing the file and writing the magic
     * (written last) left it exactly this size and all zero up front. */
    if ((uint64_t)size == METRICS_FILE_SIZE && all_zero(&h, sizeof h))
        return FILE_FRESH;
    if (size < (off_t)METRICS_HEADER_SIZE || memcmp(h.magic, METRICS_FILE_MAGIC, 8) != 0) {
        snprintf(err, errlen, "%s is not an Agora metrics file (no magic); not touching it", path);
        return FILE_REFUSED;
    }
    if (h.version == METRICS_FILE_VERSION && h.header_size == METRICS_HEADER_SIZE && h.file_size == METRICS_FILE_SIZE &&
        (uint64_t)size == METRICS_FILE_SIZE && h.slot_size == METRICS_SLOT_SIZE && h.nslots == METRICS_SLOTS &&
        h.layout == layout && h.nroutes == nroutes)
        return FILE_OURS;
    int32_t holder = live_holder_in_other_layout(fd, &h, size);
    if (holder) {
        snprintf(err, errlen,
                 "%s has another layout (version %" PRIu32 ", another route table?) and pid %" PRId32
                 " still uses it: restart every worker",
                 path, h.version, holder);
        return FILE_REFUSED;
    }
    if (!reader)
        fprintf(stderr, "agora-worker: metrics: %s had another layout and no live user: starting it afresh\n",
                path);
    return FILE_FRESH;
}

/* Claims the first slot that is free or whose holder is dead; its counts
 * stay. Under the file lock. */
static struct metrics_slot *claim_slot(struct metrics_block *m)
{
    pid_t me = getpid();
    uint64_t start = 0;
    bool running;
    if (!proc_starttime(me, &start, &running))
        start = 0;
    for (int i = 0; i < METRICS_SLOTS; i++) {
        struct metrics_slot *s = &m->slots[i];
        int32_t pid = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);
        if (pid != 0 && metrics_holder_alive(pid, metrics_load(&s->starttime)))
            continue;
        __atomic_store_n(&s->in_flight, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&s->starttime, start, __ATOMIC_RELAXED);
        add(&s->claims, 1);
        __atomic_store_n(&s->pid, (int32_t)me, __ATOMIC_RELEASE);
        return s;
    }
    return NULL;
}

struct metrics_block *metrics_block_open(const char *path, const struct metrics_route *routes, size_t nroutes,
                                         char *err, size_t errlen)
{
    struct metrics_block *m = NULL;
    void *map = MAP_FAILED;
    struct stat st;
    int fd = -1;

    if (nroutes > METRICS_UNMATCHED) {
        snprintf(err, errlen, "the route table has %zu routes; the metrics block has room for %d", nroutes,
                 METRICS_UNMATCHED);
        goto fail;
    }
    uint64_t layout = layout_hash(routes, nroutes);
    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        goto fail;
    }
    if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0) {
        snprintf(err, errlen, "cannot lock %s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
        goto fail;
    }
    enum check c = check_file(fd, st.st_size, layout, nroutes, path, false, err, errlen);
    if (c == FILE_REFUSED)
        goto fail;
    /* Starting afresh: size 0 then full size, so every byte reads zero. */
    if (c == FILE_FRESH && (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)METRICS_FILE_SIZE) < 0)) {
        snprintf(err, errlen, "cannot size %s: %s", path, strerror(errno));
        goto fail;
    }
    map = mmap(NULL, METRICS_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        snprintf(err, errlen, "cannot map %s: %s", path, strerror(errno));
        goto fail;
    }
    m = xcalloc(1, sizeof *m);
    m->map = map;
    m->hdr = map;
    m->slots = (struct metrics_slot *)(m->map + METRICS_HEADER_SIZE);
    m->nroutes = nroutes;
    memcpy(m->routes, routes, nroutes * sizeof *routes);
    if (c == FILE_FRESH) {
        struct metrics_header *h = m->hdr;
        h->version = METRICS_FILE_VERSION;
        h->header_size = METRICS_HEADER_SIZE;
        h->file_size = METRICS_FILE_SIZE;
        h->slot_size = METRICS_SLOT_SIZE;
        h->nslots = METRICS_SLOTS;
        h->layout = layout;
        h->nroutes = (uint32_t)nroutes;
        __atomic_thread_fence(__ATOMIC_RELEASE);
        memcpy(h->magic, METRICS_FILE_MAGIC, 8); /* last: the file is complete */
    }
    m->mine = claim_slot(m);
    if (!m->mine) {
        snprintf(err, errlen, "all %d slots of %s are held by live processes", METRICS_SLOTS, path);
        goto fail;
    }
    flock(fd, LOCK_UN);
    close(fd); /* the mapping stays */
    return m;
fail:
    if (map != MAP_FAILED)
        munmap(map, METRICS_FILE_SIZE);
    free(m);
    if (fd >= 0)
        close(fd); /* releases the lock too */
    return NULL;
}

struct metrics_block *metrics_block_read(const char *path, const struct metrics_route *routes, size_t nroutes,
                                         char *err, size_t errlen)
{
    struct stat st;
    err[0] = '\0';
    void *map = MAP_FAILED;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
        goto fail;
    }
    if (nroutes > METRICS_UNMATCHED ||
        check_file(fd, st.st_size, layout_hash(routes, nroutes), nroutes, path, true, err, errlen) != FILE_OURS) {
        if (!err[0])
            snprintf(err, errlen, "%s holds no metrics of this version of the workers", path);
        goto fail;
    }
    map = mmap(NULL, METRICS_FILE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        snprintf(err, errlen, "cannot map %s: %s", path, strerror(errno));
        goto fail;
    }
    close(fd);
    struct metrics_block *m = xcalloc(1, sizeof *m);
    m->map = map;
    m->hdr = map;
    m->slots = (struct metrics_slot *)(m->map + METRICS_HEADER_SIZE);
    m->nroutes = nroutes;
    memcpy(m->routes, routes, nroutes * sizeof *routes);
    return m; /* m->mine stays NULL: a reader holds no slot */
fail:
    close(fd);
    return NULL;
}

void metrics_block_close(struct metrics_block *m)
{
    if (!m)
        return;
    if (installed == m)
        installed = NULL;
    if (m->mine) {
        __atomic_store_n(&m->mine->in_flight, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&m->mine->pid, 0, __ATOMIC_RELEASE);
    }
    munmap(m->map, METRICS_FILE_SIZE);
    free(m);
}

int metrics_block_slot(const struct metrics_block *m)
{
    return (int)(m->mine - m->slots);
}

void metrics_install(struct metrics_block *m)
{
    installed = m;
}

struct metrics_block *metrics_installed(void)
{
    return installed;
}

/* ---------------------------------------------------------------- recording */

int metrics_bucket_index(uint64_t duration_us)
{
    for (int i = 0; i < METRICS_BUCKETS; i++)
        if (duration_us <= metrics_bucket_us[i])
            return i;
    return METRICS_BUCKETS;
}

static int status_index(int status)
{
    for (int i = 0; i < METRICS_NSTATUS - 1; i++)
        if (metrics_status_codes[i] == status)
            return i;
    return METRICS_NSTATUS - 1;
}

void metrics_request_begin(void)
{
    if (installed)
        add(&installed->mine->in_flight, 1);
}

void metrics_request_end(int route_index, int status, uint64_t duration_us)
{
    if (!installed)
        return;
    struct metrics_slot *s = installed->mine;
    int ri = route_index >= 0 && (size_t)route_index < installed->nroutes ? route_index : METRICS_UNMATCHED;
    add(&s->requests[ri][status_index(status)], 1);
    add(&s->latency[ri][metrics_bucket_index(duration_us)], 1);
    add(&s->latency_sum_us[ri], duration_us);
    /* Only this process writes its slot: load and store cannot race. */
    uint64_t n = metrics_load(&s->in_flight);
    if (n > 0)
        __atomic_store_n(&s->in_flight, n - 1, __ATOMIC_RELAXED);
}

void metrics_ingested(bool new_execution, size_t node_executions, size_t spans, size_t events, size_t snapshots)
{
    if (!installed)
        return;
    uint64_t *t = installed->mine->ingested;
    if (new_execution)
        add(&t[MT_EXECUTIONS], 1);
    add(&t[MT_NODE_EXECUTIONS], node_executions);
    add(&t[MT_TELEMETRY_SPANS], spans);
    add(&t[MT_TELEMETRY_EVENTS], events);
    add(&t[MT_SHARED_STATE_SNAPSHOTS], snapshots);
}

void metrics_db_failure(enum metrics_db_kind k)
{
    if (!installed || k < 0 || k >= MDB_COUNT)
        return;
    add(&installed->mine->db_errors[k], 1);
}

void metrics_db_connect_failed(void)
{
    if (installed)
        add(&installed->mine->db_errors[MDB_CONNECT_FAILED], 1);
}

