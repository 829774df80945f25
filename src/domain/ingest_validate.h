/* Validation of the ingest payload (contract section 4), before anything
 * touches the database. One pass over the body's text (json_scan.h), no
 * tree: JSON syntax, UTF-8, depth, and every field's type, enum,
 * timestamp, UUID, number and string limit, reporting the first bad field
 * with its path, e.g. "telemetry_events[499].timestamp". Unknown fields are
 * ignored, so newer clients keep working against this server. Pure: no
 * I/O, so it is unit-tested table by table. */
#ifndef AGORA_INGEST_VALIDATE_H
#define AGORA_INGEST_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "ops/config.h"
#include "util/uuid.h"

/* Longest started_at text kept in the summary (a valid one has at most 35
 * bytes: date, time, nine fraction digits, offset). */
#define INGEST_TIME_MAX 47

enum ingest_table {
    IT_NODE_EXECUTIONS,
    IT_TELEMETRY_SPANS,
    IT_TELEMETRY_EVENTS,
    IT_SHARED_STATE_SNAPSHOTS,
    IT_COUNT
};

/* The payload's key for each table ("node_executions", ...). */
extern const char *const ingest_table_names[IT_COUNT];

/* The top-level members whose text the ingest's small statements read
 * (ingest_store.c): the validator records where each one's value lies, so
 * the body is not scanned a second time. */
enum ingest_member {
    IM_NODE_EXECUTIONS,
    IM_COMPLETED_AT,
    IM_DURATION_MS,
    IM_ERROR,
    IM_METADATA,
    IM_COUNT
};

/* Each member's name as the body spells it once unescaped. */
extern const char *const ingest_member_names[IM_COUNT];

/* A member's value in the body's text: text[at .. at + len), verbatim
 * (null included); len 0 when the member is absent (no value is empty). */
struct ingest_span {
    size_t at, len;
};

struct ingest_summary {
    char workflow_id[UUID_STR_LEN + 1];   /* lowercased */
    char execution_id[UUID_STR_LEN + 1];  /* lowercased; "" when absent */
    const char *status;                   /* static: running/success/error/cancelled */
    bool terminal;                        /* status is success, error or cancelled */
    size_t counts[IT_COUNT];              /* items of each kind in this payload */
    bool any_node_id;                     /* some node execution names a node_id */
    bool any_node_by_name;                /* some node execution has no node_id */
    bool any_usage;                       /* some node execution sends input_tokens or
                                             output_tokens (not null) */
    char started_at[INGEST_TIME_MAX + 1]; /* the payload's started_at, unescaped */
    size_t session_id_len;                /* bytes of the unescaped session_id */
    size_t session_id_at;                 /* where its (escaped) text is in the body */
    size_t session_id_raw_len;
    struct ingest_span spans[IM_COUNT];   /* by enum ingest_member; a repeated member's
                                             last value (jsonb keeps that one), its name
                                             matched with escapes decoded */
};

/* What ingest_validate() decided. */
enum ingest_verdict {
    INGEST_VALID = 0,
    INGEST_BAD_JSON,  /* 400 bad_json: not JSON, invalid UTF-8, too deep */
    INGEST_INVALID,   /* 422: JSON, but not a valid payload */
};

/* Validates the body text (len bytes, need not be NUL-terminated) against
 * the contract and cfg's limits (max_depth for nesting, max_items per
 * array, max_string_bytes outside data/state/attributes/metadata/error).
 * INGEST_VALID with out filled; otherwise path (NUL-terminated, "" when no
 * field is at fault) and msg, a human message: for INGEST_BAD_JSON
 * "malformed JSON: <reason>". Syntax comes first: a body that is not JSON
 * is INGEST_BAD_JSON even when an earlier field already broke the schema. */
enum ingest_verdict ingest_validate(const struct config *cfg, const char *text, size_t len,
                                    struct ingest_summary *out, char *path, size_t pathlen, char *msg,
                                    size_t msglen);

/* Writes the session_id of a body ingest_validate() passed (text is that
 * body) into dst, unescaped and NUL-terminated: sum->session_id_len + 1
 * bytes. */
void ingest_session_id(const char *text, const struct ingest_summary *sum, char *dst);

/* The statuses an execution can have (NULL-terminated): what an ingest
 * accepts and what the list filters on. */
extern const char *const execution_statuses[];

#endif
