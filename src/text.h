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

#endif
