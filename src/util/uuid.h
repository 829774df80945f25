/* UUID text handling: strict validation of the canonical 36-character form
 * (what PostgreSQL's uuid type prints) and random version-4 generation from
 * getrandom(2). */
#ifndef AGORA_UUID_H
#define AGORA_UUID_H

#include <stdbool.h>
#include <stddef.h>

#define UUID_STR_LEN 36

/* True when s is exactly 8-4-4-4-12 hex digits (either case). */
bool uuid_valid(const char *s);
bool uuid_valid_n(const char *s, size_t len);
/* Writes a lowercase canonical v4 UUID and its NUL to out. 0, or -1 when the
 * kernel's random source fails. */
int uuid_v4(char out[UUID_STR_LEN + 1]);
/* Copies s lowercased into out (s must be valid). */
void uuid_lower(const char *s, char out[UUID_STR_LEN + 1]);

#endif
