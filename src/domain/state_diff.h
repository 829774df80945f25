/* What differs between two shared states (JSON texts, as PostgreSQL prints
 * jsonb): the comparison of two runs asks whether the state a node started
 * from was equal, and shows how the states after it differ. The same
 * notion as the viewer's nginx/www/js/statediff.js: objects are compared
 * key by key down to STATE_DIFF_DEPTH levels, arrays and scalars as whole
 * values; paths read "a.b", with keys that are not identifiers quoted
 * ('items["a b"]'); a state that is not an object is one value at path
 * "(state)". Pure: no database, no HTTP. */
#ifndef AGORA_STATE_DIFF_H
#define AGORA_STATE_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* Objects nested deeper than this are compared as whole values (the
 * viewer's depth). */
#define STATE_DIFF_DEPTH 8
/* A value longer than this (as JSON text) is shown as null with
 * "truncated": true on its entry. */
#define STATE_DIFF_VALUE_MAX 1024
/* json-c's nesting limit for the states: ingest refuses bodies nested
 * deeper than 64, so a stored state always fits. */
#define STATE_DIFF_PARSE_DEPTH 128

/* 1 when the two JSON texts hold equal values (key order and number
 * spelling aside), 0 when not. NULL stands for "no snapshot": two NULLs
 * are equal, a NULL and a state are not. A text that does not parse is
 * equal only to the same text. */
int state_equal(const char *a, const char *b);

/* Appends to out the diff of b against a as one JSON object:
 *   {"equal":bool,"changed":[{"path","a","b"}],"added":[{"path","value"}],
 *    "removed":[{"path","value"}],"truncated":bool}
 * "added" is in b only, "removed" in a only. At most max_entries entries
 * are written in all (then "truncated" is true); *budget, when not NULL,
 * is a count of entries shared by several calls, decreased by what this
 * one writes and capping it too. Texts as for state_equal (NULL is no
 * state: a diff against it shows the whole other state added or
 * removed at "(state)"). Returns the number of differences found, written
 * or not. */
size_t state_diff_write(const char *a, const char *b, size_t max_entries, size_t *budget, struct buf *out);

#endif
