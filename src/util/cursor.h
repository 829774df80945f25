/* Opaque keyset cursors: a position in a list ordered by (timestamp, id),
 * handed to clients as next_cursor and taken back as ?cursor=. The text is
 * base64url, versioned, and decoded strictly: anything malformed is a 422,
 * never a database error. A cursor is bound to its list and filters by a
 * scope (a hash of the list's name and its canonical filter values), so a
 * cursor of another list, or of the same list under other filters, is
 * refused instead of silently paging from a position that means nothing
 * there. The scope is a consistency check, not a secret: a client may
 * forge any cursor, and row-level security still decides what it reads. */
#ifndef AGORA_CURSOR_H
#define AGORA_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#define CURSOR_TEXT_MAX 96
#define CURSOR_ID_MAX 40

struct cursor {
    uint32_t scope;               /* cursor_scope_* of the list it pages */
    int64_t micros;               /* the sort timestamp (or sequence), microseconds */
    char id[CURSOR_ID_MAX + 1];   /* the row's id: a UUID or a decimal bigint */
};

/* What is wrong with a cursor that does not belong to the list it is sent
 * to (or does not decode at all), after the parameter's name: every list
 * answers "cursor " CURSOR_MISMATCH. */
#define CURSOR_MISMATCH "is not a next_cursor of this list with these filters"

/* A list's scope: start with the list's name, then add each filter in a
 * fixed order, its value canonical (lowercase UUIDs, ts_format text) or
 * NULL when absent. Absent and empty differ. */
uint32_t cursor_scope_begin(const char *list);
uint32_t cursor_scope_add(uint32_t scope, const char *name, const char *value);

/* Encodes c into out (NUL-terminated). */
void cursor_encode(const struct cursor *c, char out[CURSOR_TEXT_MAX + 1]);
/* Decodes text; 0, or -1 when it is not a cursor this server made. */
int cursor_decode(const char *text, struct cursor *c);

#endif
