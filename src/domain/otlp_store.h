/* Storing the spans of a decoded OTLP trace export (otlp_model.h) as
 * Agora's executions, spans, events and node executions (README
 * "OpenTelemetry"): which workflow each resource's spans go to, one
 * execution per trace and workflow, nodes and usage as otlp_map.h says.
 * A constant number of statements whatever the number of spans (the
 * steps are in otlp_store.c). Runs inside the caller's transaction
 * (db_begin_as), so row-level security decides what the caller can see
 * and write; nothing here begins, commits or rolls back. */
#ifndef AGORA_OTLP_STORE_H
#define AGORA_OTLP_STORE_H

#include <stddef.h>

#include "auth/identity.h"
#include "db/db.h"
#include "otlp/otlp_model.h"

/* At most this many executions of one request get a live message (one
 * statement each): an export of many traces at once is a bulk load, which
 * nobody watches trace by trace; its executions are read through the API. */
#define OTLP_LIVE_MAX 16

struct otlp_store_result {
    size_t rejected;   /* spans refused here (their resource could not be
                          placed, their execution id is taken), besides
                          those the decoder rejected */
    char message[512]; /* why the first of them was, with its place; "" when none */
    long long executions, spans, events, node_executions; /* executions that got spans; rows inserted */
};

/* Stores the spans of req that are not rejected in the caller's open
 * transaction; the caller commits on DB_OK and rolls back otherwise (then
 * nothing was written). Spans refused for their placement are counted in
 * out, never an error: the rest are stored. Failures are the connection's
 * (DB_UNAVAILABLE, DB_TIMEOUT) or DB_ERROR. */
enum db_status otlp_store(struct db *db, const struct identity *who, const struct otlp_request *req,
                          struct otlp_store_result *out);

#endif
