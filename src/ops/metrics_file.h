/* The layout of the shared metrics file, for metrics.c (which makes,
 * claims and writes it) and metrics_text.c (which sums and renders it).
 * Internal: nothing else includes this.
 *
 * File format, version 2 (METRICS_FILE_VERSION). Native byte order and
 * alignment: the file is shared by the processes of one machine only.
 *
 *   offset 0    header, 64 bytes (struct metrics_header):
 *                 0  magic "AGORAMTR" (8 bytes, no NUL)
 *                 8  version (u32) = 2
 *                12  header_size (u32) = 64
 *                16  file_size (u64) = 64 + 128 * 16064 = 2056256
 *                24  slot_size (u32) = 16064
 *                28  nslots (u32) = 128
 *                32  layout (u64): FNV-1a of every label the slots are
 *                    indexed by (routes "METHOD pattern", statuses, bucket
 *                    bounds, tables, error kinds), so a binary with another
 *                    route table never misreads the counts
 *                40  nroutes (u32): routes in that table
 *                44  reserved, zero
 *   offset 64   nslots slots of slot_size bytes (struct metrics_slot):
 *                 0  pid (i32), 0 when free
 *                 8  starttime (u64): the process's start time in clock
 *                    ticks (/proc/PID/stat field 22), so a recycled pid is
 *                    not taken for the worker that held the slot
 *                16  claims (u64): processes that have held the slot
 *                24  in_flight (u64), then the counters (u64 each):
 *                    requests[64 routes][16 statuses],
 *                    latency[64 routes][13 buckets + +Inf],
 *                    latency_sum_us[64 routes], ingested[5 tables],
 *                    db_errors[8 kinds]
 *
 * Every later version keeps magic, version, header_size, file_size,
 * slot_size and nslots where they are, and pid and starttime at the start
 * of a slot: that is how a worker of any version tells whether a file of
 * another layout is still in use before starting it afresh.
 *
 * Concurrency: opening (create, check, claim a slot) happens under an
 * exclusive flock(2) on the file; afterwards each process writes only its
 * own slot with relaxed atomic adds and stores, and a scrape reads every
 * slot with relaxed atomic loads. A scrape may see one request's counters
 * half-updated (its status counted, its latency not yet): Prometheus
 * tolerates that, and _count is derived from the buckets so a histogram is
 * always consistent with itself. */
#ifndef AGORA_METRICS_FILE_H
#define AGORA_METRICS_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/metrics.h"

#define METRICS_FILE_MAGIC "AGORAMTR"
#define METRICS_FILE_VERSION 2
#define METRICS_NSTATUS 16 /* 15 known statuses, then "other" */

enum metrics_table { MT_EXECUTIONS, MT_NODE_EXECUTIONS, MT_TELEMETRY_SPANS, MT_TELEMETRY_EVENTS,
                     MT_SHARED_STATE_SNAPSHOTS, MT_COUNT };


/* The labels the counters are indexed by (metrics.c). */
extern const int metrics_status_codes[METRICS_NSTATUS - 1];
extern const uint64_t metrics_bucket_us[METRICS_BUCKETS];
extern const char *const metrics_bucket_le[METRICS_BUCKETS + 1];
extern const char *const metrics_table_names[MT_COUNT];
extern const char *const metrics_db_kind_names[MDB_COUNT];

struct metrics_header {
    char magic[8];
    uint32_t version;
    uint32_t header_size;
    uint64_t file_size;
    uint32_t slot_size;
    uint32_t nslots;
    uint64_t layout;
    uint32_t nroutes;
    uint32_t reserved[5];
};

struct metrics_slot {
    int32_t pid;
    uint32_t reserved;
    uint64_t starttime;
    uint64_t claims;
    uint64_t in_flight;
    uint64_t requests[METRICS_MAX_ROUTES][METRICS_NSTATUS];
    uint64_t latency[METRICS_MAX_ROUTES][METRICS_BUCKETS + 1];
    uint64_t latency_sum_us[METRICS_MAX_ROUTES];
    uint64_t ingested[MT_COUNT];
    uint64_t db_errors[MDB_COUNT];
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct metrics_header) == 64, "the header is 64 bytes");
_Static_assert(sizeof(struct metrics_slot) == 16064, "a slot is 16064 bytes (update the format comment)");

#define METRICS_HEADER_SIZE sizeof(struct metrics_header)
#define METRICS_SLOT_SIZE sizeof(struct metrics_slot)
#define METRICS_FILE_SIZE (METRICS_HEADER_SIZE + METRICS_SLOTS * METRICS_SLOT_SIZE)

struct metrics_block {
    unsigned char *map;         /* METRICS_FILE_SIZE bytes, MAP_SHARED */
    struct metrics_header *hdr;
    struct metrics_slot *slots; /* METRICS_SLOTS of them */
    struct metrics_slot *mine;  /* the slot this process writes */
    size_t nroutes;
    struct metrics_route routes[METRICS_MAX_ROUTES]; /* labels, copied at open */
};

static inline uint64_t metrics_load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Whether the process that claimed a slot (pid, its start time) lives. */
bool metrics_holder_alive(int32_t pid, uint64_t starttime);

#endif
