/* PostgreSQL array literals in text format ('{a,"b c",NULL}'), written
 * element by element into a buf: how a statement takes a column of many
 * rows as one parameter (unnest($1::text[], $2::uuid[], ...)) without the
 * JSON around each value that PostgreSQL would have to parse and take
 * apart. Pure string building, no libpq. */
#ifndef AGORA_PG_ARRAY_H
#define AGORA_PG_ARRAY_H

#include <stddef.h>

#include "util/buf.h"

/* Starts the literal: b must be empty (reset) before. */
void pg_array_open(struct buf *b);
/* An element written as it is: only for texts that need no quotes (UUIDs,
 * numbers, hex, ISO timestamps: no space, comma, quote, backslash or
 * brace, never "NULL"); NULL s: a NULL element. */
void pg_array_raw(struct buf *b, const char *s);
/* Starts an element the caller then appends itself (the same rule as
 * pg_array_raw's text): the comma before every one but the first ('{' is
 * the literal's first byte). */
void pg_array_sep(struct buf *b);
/* A NULL element. */
void pg_array_null(struct buf *b);
/* s quoted, its quotes and backslashes escaped; a byte that is not part
 * of well-formed UTF-8 becomes U+FFFD (PostgreSQL refuses such text).
 * NULL s: a NULL element. */
void pg_array_text(struct buf *b, const char *s);
/* Ends the literal and NUL-terminates it (a parameter's text). */
void pg_array_close(struct buf *b);

#endif
