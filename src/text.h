/* Byte-level text checks: well-formed UTF-8 and hex digits. */
#ifndef AGORA_TEXT_H
#define AGORA_TEXT_H

#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at s (at most left bytes):
 * RFC 3629, so no overlong forms, no surrogates, nothing above U+10FFFF
 * (PostgreSQL refuses all of these). 0 when malformed or cut short. */
size_t utf8_seq_len(const unsigned char *s, size_t left);
/* 0..15 for a hex digit of either case, -1 otherwise. */
int hex_digit_value(char c);
/* The value of the 4 hex digits at p (a \uXXXX escape's), or -1 when
 * fewer than 4 bytes are left before end or one is not a hex digit. */
long hex4_value(const char *p, const char *end);

/* Removes the whitespace outside strings from JSON text (len bytes) into
 * dst, which may be src itself; returns the new length. PostgreSQL's JSON
 * output has " : " and ", " between members; clients get compact JSON. */
size_t json_compact(char *dst, const char *src, size_t len);

#endif
