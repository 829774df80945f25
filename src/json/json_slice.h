/* Cutting top-level members out of a JSON object's text, without parsing
 * it: ingest sends PostgreSQL only the parts a statement reads (the node
 * executions, the execution-level fields), so PostgreSQL parses each byte
 * of a large body once, not once per statement. The text must already be
 * known to be valid JSON (the ingest validator proved it): tracking
 * strings and nesting is then enough. */
#ifndef AGORA_JSON_SLICE_H
#define AGORA_JSON_SLICE_H

#include <stddef.h>

#include "util/buf.h"

/* Where a top-level member's value lies in the text: s[from..to). */
struct json_span {
    size_t from, to;
    int found;
};

/* One pass over the object text s (len bytes): for each name of keys
 * (NULL-terminated, at most JSON_SLICE_MAX_KEYS), the span of its value,
 * or found 0 when absent. A repeated member counts as its last
 * occurrence, as for jsonb. Returns 0, or -1 when s is not an object or
 * spells a top-level name with a backslash escape, which this scan does
 * not decode: the caller then sends the whole text instead. */
#define JSON_SLICE_MAX_KEYS 16
int json_slice_find(const char *s, size_t len, const char *const *keys, struct json_span *spans);

/* Appends to out the object {"k": v, ...} of the found members among the
 * first n of keys/spans, each value copied verbatim, in that order. */
void json_slice_object(const char *s, const char *const *keys, const struct json_span *spans, size_t n,
                       struct buf *out);

/* Both at once: 0 with the object appended, or -1 with out unchanged. */
int json_slice_members(const char *s, size_t len, const char *const *keys, struct buf *out);

#endif
