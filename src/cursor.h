/* Opaque keyset cursors: a position in a list ordered by (timestamp, id),
 * handed to clients as next_cursor and taken back as ?cursor=. The text is
 * base64url, versioned, and decoded strictly: anything malformed is a 422,
 * never a database error. */
#ifndef AGORA_CURSOR_H
#define AGORA_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#define CURSOR_TEXT_MAX 96
#define CURSOR_ID_MAX 40

struct cursor {
    int64_t micros;               /* the sort timestamp (or sequence), microseconds */
    char id[CURSOR_ID_MAX + 1];   /* the row's id: a UUID or a decimal bigint */
};

/* Encodes c into out (NUL-terminated). */
void cursor_encode(const struct cursor *c, char out[CURSOR_TEXT_MAX + 1]);
/* Decodes text; 0, or -1 when it is not a cursor this server made. */
int cursor_decode(const char *text, struct cursor *c);

#endif
