/* The pure part of storing an OTLP request (otlp_store.c): which spans
 * are stored, grouped into one execution per workflow and trace, each
 * span's node (otlp_map.h) or its nearest node ancestor's, and the
 * parameters the statements of otlp_sql.c unpack (described there): JSON
 * documents for the executions and nodes, typed PostgreSQL arrays for the
 * spans and events, one per statement's need, so each byte is parsed by
 * PostgreSQL once. No database: the placements come in (otlp_place.h),
 * so fuzz/fuzz_otlp_store.c and the unit tests build plans from decoded
 * models alone. */
#ifndef AGORA_OTLP_PLAN_H
#define AGORA_OTLP_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "domain/otlp_columns.h"
#include "domain/otlp_map.h"
#include "domain/otlp_place.h"
#include "otlp/otlp_model.h"
#include "util/buf.h"

/* What otlp_store() reports (otlp_store.h); the refusals are counted here. */
struct otlp_store_result {
    size_t rejected;   /* spans refused here (their resource could not be
                          placed, their execution id is taken), besides
                          those the decoder rejected */
    char message[512]; /* why the first of them was, with its place; "" when none */
    long long executions, spans, events, node_executions; /* executions that got spans; rows inserted */
};

/* One span to store. All pointers borrowed from the request or the
 * placements. */
struct otlp_ref {
    const char *workflow; /* its resource's (struct otlp_place) */
    size_t resource;
    const struct otlp_span *span;
    struct otlp_node_role role; /* name NULL: not a node */
    const char *node_name;      /* its own, or its nearest node ancestor's, or NULL */
    size_t seq;                 /* its place in the request, which breaks ties */
    bool has_usage;             /* a node reporting tokens: usage holds them */
    struct otlp_usage usage;
};

/* One execution: refs[first .. first + n), sorted by span id. */
struct otlp_exec {
    char id[UUID_STR_LEN + 1];
    size_t first, n;
    bool inserted, kept; /* set by otlp_store.c from the database's answers */
};

struct otlp_plan {
    struct otlp_ref *refs;
    size_t n_refs;
    struct otlp_exec *execs;
    size_t n_execs;
    bool any_node; /* some span is a node */
    size_t n_dups; /* spans left out: the same span (trace and span id) came
                      earlier in the request, in the same workflow */
};

/* The parameters of otlp_sql.c, each NUL-terminated. */
struct otlp_docs {
    struct buf execs;                /* "e", JSON: one per execution, with its final fields when new */
    struct buf usage;                /* "u", JSON: one per node span reporting tokens */
    struct buf nodes;                /* "n", JSON: one per node span, its node's name and type */
    struct buf spans[OSC_COUNT];     /* the spans, by column */
    struct buf events[OEC_COUNT];    /* the span events, by column */
};

/* Counts n spans of resource refused, and words why the first refusal
 * was in out->message ("resourceSpans[R]: why"). */
void otlp_plan_reject(struct otlp_store_result *out, size_t resource, const char *why, size_t n);

/* Fills p (zeroed by the caller) from the spans of req that are not
 * rejected, placed by pl (one entry per resource): the spans of a resource
 * with a reject are counted in out (otlp_plan_reject), the rest sorted by
 * workflow, trace and span id, a span sent twice kept once (the first
 * sent, with its events; p->n_dups counts the others), grouped into
 * executions, each span's node and usage decided. p borrows from req and pl; otlp_plan_free releases what
 * it owns. */
void otlp_plan_build(const struct otlp_request *req, const struct otlp_place *pl, struct otlp_plan *p,
                     struct otlp_store_result *out);

/* Writes the parameters of otlp_sql.c for every execution of p into d
 * (otlp_docs_init'ed by the caller, who frees them with otlp_docs_free). */
void otlp_plan_json(const struct otlp_request *req, const struct otlp_place *pl, const struct otlp_plan *p,
                    struct otlp_docs *d);

void otlp_docs_init(struct otlp_docs *d);
void otlp_docs_free(struct otlp_docs *d);

void otlp_plan_free(struct otlp_plan *p);

#endif
