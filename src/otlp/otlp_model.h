/* The plain C model of one OTLP trace export (ExportTraceServiceRequest),
 * what otlp_decode.h makes of a protobuf or JSON body, whichever it was:
 * resources -> scopes -> spans, in the order of the body. The domain maps
 * it to its tables; nothing here knows about them.
 *
 * Ownership: the request owns everything below it (arrays, strings, json-c
 * objects); otlp_request_free() releases it all. Strings are never NULL
 * (an absent one is empty), NUL-terminated and, in a span that is not
 * rejected, well-formed UTF-8 without NUL.
 *
 * An attribute set is an array of keys and json-c values, in the body's
 * order; otlp_attrs_json() writes it as the JSON object jsonb stores. A
 * value is a string, boolean, integer within +-2^53, finite double, array
 * or object (OTLP's kvlist; a repeated key keeps its last value), or
 * NULL (JSON null) for an empty one; an integer beyond +-2^53 is its
 * decimal text, NaN and the infinities are "NaN", "Infinity" and
 * "-Infinity" (proto3's JSON spelling), bytes are standard base64 with
 * padding. Not a json-c object itself: an object costs about 800 bytes
 * before its first member (a hash table of 16 entries), more than most
 * events take in the body.
 *
 * A span that breaks a rule of OTLP (ids of the wrong length or all
 * zero, a string that is not UTF-8, an end before its start, ...) is kept
 * in place with `rejected` set to why; so is every span of a resource or
 * scope whose own attributes break one. The rest of the request stands:
 * OTLP answers such a request with a partial success naming how many
 * spans were rejected. What a rejected span holds is as it came, not for
 * storing: its ids may be zeros, its strings not UTF-8. */
#ifndef AGORA_OTLP_MODEL_H
#define AGORA_OTLP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "util/buf.h"

/* OTLP's Span.SpanKind; a value outside it is read as UNSPECIFIED. */
enum otlp_span_kind {
    OTLP_KIND_UNSPECIFIED = 0,
    OTLP_KIND_INTERNAL = 1,
    OTLP_KIND_SERVER = 2,
    OTLP_KIND_CLIENT = 3,
    OTLP_KIND_PRODUCER = 4,
    OTLP_KIND_CONSUMER = 5,
};

/* OTLP's Status.StatusCode; a value outside it is read as UNSET. */
enum otlp_status_code {
    OTLP_STATUS_UNSET = 0,
    OTLP_STATUS_OK = 1,
    OTLP_STATUS_ERROR = 2,
};

struct otlp_attr {
    char *key;
    size_t key_len; /* strlen(key): lookups compare lengths first */
    struct json_object *value; /* NULL: JSON null */
};

struct otlp_attrs {
    struct otlp_attr *items;
    size_t n;
};

struct otlp_event {
    char *name;
    uint64_t time_unix_nano;
    struct otlp_attrs attributes;
    uint32_t dropped_attributes_count;
};

struct otlp_span {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t parent_span_id[8]; /* zeros when !has_parent */
    bool has_parent;           /* false for a root span (empty or all-zero parent id) */
    uint32_t flags;            /* W3C trace flags in the low 8 bits */
    char *trace_state;
    char *name;
    enum otlp_span_kind kind;
    uint64_t start_unix_nano;  /* not 0, at most INT64_MAX, when not rejected */
    uint64_t end_unix_nano;    /* >= start_unix_nano, at most INT64_MAX */
    enum otlp_status_code status_code;
    char *status_message;
    struct otlp_attrs attributes;
    struct otlp_event *events;
    size_t n_events;
    size_t n_links; /* links are counted, not kept */
    uint32_t dropped_attributes_count;
    uint32_t dropped_events_count;
    uint32_t dropped_links_count;
    const char *rejected; /* NULL, or why the span is refused (static text) */
};

/* An instrumentation scope and its spans (ScopeSpans). */
struct otlp_scope {
    char *name;
    char *version;
    struct otlp_attrs attributes;
    uint32_t dropped_attributes_count;
    char *schema_url;
    struct otlp_span *spans;
    size_t n_spans;
    const char *rejected; /* set when the scope's own strings break a rule */
};

/* A resource and its scopes (ResourceSpans). */
struct otlp_resource {
    struct otlp_attrs attributes;
    uint32_t dropped_attributes_count;
    char *schema_url;
    struct otlp_scope *scopes;
    size_t n_scopes;
    const char *rejected; /* set when the resource's attributes break a rule */
};

struct otlp_request {
    struct otlp_resource *resources;
    size_t n_resources;
    size_t n_spans;    /* every span, rejected or not */
    size_t n_rejected; /* spans with `rejected` set */
};

/* Frees the request and all it owns. NULL is a no-op. */
void otlp_request_free(struct otlp_request *req);

/* Appends the attributes to out as one JSON object ({} when there are
 * none). A repeated key is written each time, in order: JSON readers
 * (PostgreSQL's jsonb among them) keep the last. */
void otlp_attrs_json(const struct otlp_attrs *attrs, struct buf *out);
/* The value of the last attribute named key (borrowed; NULL for JSON
 * null), or NULL with *found false. */
struct json_object *otlp_attr_get(const struct otlp_attrs *attrs, const char *key, bool *found);

/* The first rejected span (NULL when none), and where it stands. */
const struct otlp_span *otlp_first_rejected(const struct otlp_request *req, size_t *resource, size_t *scope,
                                            size_t *span);

/* Writes OTLP's partial-success error message for the request into msg
 * (cap bytes, NUL-terminated, cut if need be): how many spans were
 * rejected and why the first one was, with its place, e.g. "2 of 5 spans
 * rejected; the first (resourceSpans[0].scopeSpans[1].spans[3]): span_id
 * must be 8 bytes". Empty when nothing was rejected. */
void otlp_rejection_message(const struct otlp_request *req, char *msg, size_t cap);

#endif
