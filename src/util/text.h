/* Byte-level text checks: well-formed UTF-8, hex digits, and the one rule
 * for the characters of names and identifiers. */
#ifndef AGORA_TEXT_H
#define AGORA_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed UTF-8 sequence at s (at most left bytes):
 * RFC 3629, so no overlong forms, no surrogates, nothing above U+10FFFF
 * (PostgreSQL refuses all of these). 0 when malformed or cut short. */
size_t utf8_seq_len(const unsigned char *s, size_t left);
/* The code point of the well-formed sequence of n bytes (1..4) at s. */
uint32_t utf8_decode(const unsigned char *s, size_t n);
/* 0..15 for a hex digit of either case, -1 otherwise. */
int hex_digit_value(char c);
/* 0..63 for a digit of either base64 alphabet of RFC 4648 (62 is '+' or
 * '-', 63 '/' or '_'), -1 otherwise: a decoder that takes one alphabet
 * only checks for the other's two. */
int base64_digit_value(char c);
/* The value of the 4 hex digits at p (a \uXXXX escape's), or -1 when
 * fewer than 4 bytes are left before end or one is not a hex digit. */
long hex4_value(const char *p, const char *end);

/* Names and identifiers (of organizations, projects, API keys, workflows,
 * nodes; session ids, node names, event types... in an ingest payload) are
 * shown to people and compared by eye, so they may hold no character that
 * is invisible or changes how the text around it is shown:
 * - NAME_CHAR_CONTROL: a control character (Unicode Cc): C0 (U+0000 to
 *   U+001F), DEL (U+007F) and C1 (U+0080 to U+009F);
 * - NAME_CHAR_FORMAT: a format character (Unicode general category Cf,
 *   Unicode 15.0): bidi embeddings, overrides, isolates and marks
 *   (U+202A..U+202E, U+2066..U+2069, U+200E, U+200F, U+061C), zero-width
 *   characters (U+200B..U+200D, U+2060, U+FEFF), the soft hyphen, tags
 *   (U+E0001, U+E0020..U+E007F), and the rest of Cf. "\u202egnp.exe" is
 *   shown as "exe.png", and "run\u200b1" looks like "run1".
 * Free text (descriptions, error messages, blobs) keeps them all. */
enum name_char { NAME_CHAR_OK, NAME_CHAR_CONTROL, NAME_CHAR_FORMAT };
enum name_char name_char_class(uint32_t cp);
/* The class of the first character of s (len bytes of well-formed UTF-8)
 * that a name may not hold, or NAME_CHAR_OK. Inline, as every name of an
 * ingest body goes through it: printable ASCII, the common case, is
 * checked eight bytes at a time (the last eight, overlapping, settle the
 * tail); the rest goes to name_text_class_slow, from the first chunk that
 * is not all printable ASCII. */
enum name_char name_text_class_slow(const unsigned char *p, const unsigned char *end);

/* True when the 8 bytes at p are all printable ASCII: none below 0x20
 * (x - 0x20 borrows into the top bit of such a byte only) and none from
 * 0x7F up (x + 1 or x itself has the top bit set). */
static inline int text_printable8(const unsigned char *p)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    uint64_t x;
    __builtin_memcpy(&x, p, 8);
    return !((((x - ones * 0x20) & ~x) | (x + ones) | x) & highs);
}

static inline enum name_char name_text_class(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (end - p >= 8 && text_printable8(p))
        p += 8;
    if (p == end || (end - p < 8 && len >= 8 && text_printable8(end - 8)))
        return NAME_CHAR_OK;
    return name_text_class_slow(p, end);
}
/* What to say about a refused class: "must not contain ..." (static). */
const char *name_char_rule(enum name_char c);

/* Copies src into dst (dstlen bytes), dropping control and format
 * characters (text.h, name_char_class) and bytes that are not UTF-8, and
 * cutting at a UTF-8 character boundary. */
void sanitize_text(char *dst, size_t dstlen, const char *src);

/* Writes the n bytes of in as 2n lowercase hex digits and a NUL. */
void hex_encode(const unsigned char *in, size_t n, char *out);

/* Strict decimal: one or more ASCII digits and nothing else (no sign, no
 * spaces), at most max (>= 0), without overflow. 0 with *out set, or -1.
 * The one rule for settings, Content-Length and limits (cursors have their
 * own canonical signed form, cursor.c). */
int decimal_parse(const char *s, long long max, long long *out);

/* How many decimals the JSON number s (its text: "2.50", "1e-3", "25e-1")
 * has once trailing zeros are dropped: 1, 3, 1; 0 for an integer. -1 when
 * s is not a JSON number. */
long number_decimal_places(const char *s);

#endif
