/* Cutting top-level members out of a JSON object's text, without parsing
 * it: ingest sends PostgreSQL only the parts a statement reads (the node
 * executions, the execution-level fields), so PostgreSQL parses each byte
 * of a large body once, not once per statement. The text must already be
 * known to be valid JSON (the ingest validator proved it): tracking
 * strings and nesting is then enough. */
#ifndef AGORA_JSON_SLICE_H
#define AGORA_JSON_SLICE_H

#include <stddef.h>

#include "buf.h"

/* Appends to out the object {"k": v, ...} of the top-level members of the
 * object text s (len bytes) whose names are among keys (NULL-terminated
 * list, at most 16), each value copied verbatim; absent members are left
 * out. A repeated member counts as its last occurrence, as for jsonb.
 * Returns 0, or -1 (out unchanged) when s is not an object or spells a
 * top-level name with a backslash escape, which this scan does not decode:
 * the caller then sends the whole text instead. */
int json_slice_members(const char *s, size_t len, const char *const *keys, struct buf *out);

#endif
