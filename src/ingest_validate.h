/* Validation of the ingest payload (contract section 4), before anything
 * touches the database. It walks the json-c tree once, checks every field's
 * type before reading it (json-c's getters coerce silently), every enum,
 * timestamp, UUID, number and string limit, and stops at the first bad
 * field with its path, e.g. "telemetry_events[499].timestamp". Unknown
 * fields are ignored, so newer clients keep working against this server.
 * Pure: no I/O, so it is unit-tested table by table. */
#ifndef AGORA_INGEST_VALIDATE_H
#define AGORA_INGEST_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "config.h"
#include "uuid.h"

enum ingest_table {
    IT_NODE_EXECUTIONS,
    IT_TELEMETRY_SPANS,
    IT_TELEMETRY_EVENTS,
    IT_SHARED_STATE_SNAPSHOTS,
    IT_COUNT
};

/* The payload's key for each table ("node_executions", ...). */
extern const char *const ingest_table_names[IT_COUNT];

struct ingest_summary {
    char workflow_id[UUID_STR_LEN + 1];   /* lowercased */
    char execution_id[UUID_STR_LEN + 1];  /* lowercased; "" when absent */
    const char *status;                   /* static: running/success/error/cancelled */
    bool terminal;                        /* status is success, error or cancelled */
    size_t counts[IT_COUNT];              /* items of each kind in this payload */
    bool any_node_id;                     /* some node execution names a node_id */
    bool any_node_by_name;                /* some node execution has no node_id */
};

/* Validates payload (any json type) against the contract and cfg's limits
 * (max_items per array, max_string_bytes outside data/state/attributes/
 * metadata/error, max_depth is already enforced by the parser). 0 with out
 * filled, or -1 with path (NUL-terminated, "" when the body itself is at
 * fault) and a human message. */
int ingest_validate(const struct config *cfg, struct json_object *payload, struct ingest_summary *out,
                    char *path, size_t pathlen, char *msg, size_t msglen);

#endif
