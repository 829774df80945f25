/* UUID text handling: strict validation of the canonical 36-character form
 * (what PostgreSQL's uuid type prints) and random version-4 generation from
 * getrandom(2), and name-based version-8 ones (SHA-256). */
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
/* Writes the lowercase canonical UUID named by the bytes name (len) in
 * the namespace ns (a short label; a NUL separates the two): the first 16
 * bytes of SHA-256(ns, NUL, name) as a version-8 UUID (RFC 9562's custom
 * version; v5 is the same construction with SHA-1). The same name always
 * gives the same UUID, so a resent record finds the row it made before. */
void uuid_v8_name(const char *ns, const void *name, size_t len, char out[UUID_STR_LEN + 1]);
/* Copies s lowercased into out (s must be valid). */
void uuid_lower(const char *s, char out[UUID_STR_LEN + 1]);

#endif
