/* REFERENCE ONLY: the span and event columns of an OTLP plan
 * (domain/otlp_plan.h, struct otlp_docs: PostgreSQL array literals and
 * JSON arrays) read back into one JSON object per span and per event, as
 * PostgreSQL's unnest() of step 5 (domain/otlp_sql.c) pairs them up, for
 * the checks of tests/unit/test_otlp_plan.c and fuzz/fuzz_otlp_store.c.
 * Not linked into the worker. */
#ifndef AGORA_OTLP_COLUMNS_READ_H
#define AGORA_OTLP_COLUMNS_READ_H

#include <stddef.h>

#include <json-c/json.h>

#include "domain/otlp_plan.h"

/* The spans of d as a JSON array of objects, keyed as the span columns'
 * SQL names (x, s, p, n, k, st, et, d, c, a, nn, cid, nt, em, ti, tout,
 * cr, cc, model, prov), a NULL element left out, d a double, the counts
 * integers, a the span's attributes; node true for a node (cid not NULL).
 * NULL, with why set, when a literal does not parse as PostgreSQL would
 * (array_in), holds a NUL, or the columns differ in length. */
struct json_object *otlp_columns_spans(const struct otlp_docs *d, const char **why);

/* The events of d likewise (x, s, nn: the execution, id and node name of
 * its span; ty, ts, d); NULL with why set when malformed or an event
 * names no span of spans (otlp_columns_spans of the same d) with that
 * execution, id and node name. */
struct json_object *otlp_columns_events(const struct otlp_docs *d, struct json_object *spans, const char **why);

#endif
