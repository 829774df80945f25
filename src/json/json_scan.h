/* A one-pass JSON scanner over text in memory: tokens, a pull interface
 * over objects and arrays, and a value skipper, with no allocation and no
 * tree. Callers walk the document themselves (ingest_validate.c does, with
 * its field tables) and read only the tokens they need.
 *
 * It accepts exactly what json_parse_strict (json_in.c) accepted when it was
 * json-c behind a lexical pre-check, with the same reasons:
 * - a lexical problem (a bad escape, invalid UTF-8, a raw control character
 *   in a string, a malformed number, an unknown word, a NUL in an object
 *   key) wins over anything else, wherever it is in the text, as the
 *   pre-check ran over the whole text before json-c;
 * - otherwise the first grammar problem, with json-c's words for it,
 *   including json-c's depth rule: every value, scalar or not, counts one
 *   level, the top value is level 1, and a value deeper than max_depth is
 *   refused when its first byte is seen.
 * A scan therefore stops on a lexical problem at once; on a grammar
 * problem it stops too, and js_settle() lexes the rest of the text for a
 * lexical problem that would have been reported instead.
 *
 * json_scan.c has the scanner, json_value.c the readings of single
 * tokens (jnum_*, jstr_*). */
#ifndef AGORA_JSON_SCAN_H
#define AGORA_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The reason for a NUL (\u0000) in an object key. json-c cut names there,
 * so it was refused on the text; the body answers 422, like a NUL in a
 * value, not 400. */
extern const char JSON_WHY_NUL_KEY[];

enum js_stop {
    JS_RUNNING, /* no problem so far */
    JS_LEXICAL, /* why: a lexical problem (or JSON_WHY_NUL_KEY) */
    JS_SYNTAX,  /* why: a grammar or depth problem; call js_settle() */
};

struct jscan {
    const char *p;   /* the cursor */
    const char *end;
    int max_depth;
    enum js_stop stop;
    const char *why;     /* static text, when stopped */
    const char *num_end; /* just after the last number (json-c words a
                            separator missing right there differently) */
};

/* A value's type, from its first byte. */
enum jtype { JT_NONE, JT_NULL, JT_BOOL, JT_NUMBER, JT_STRING, JT_ARRAY, JT_OBJECT };

/* A string token: the bytes between the quotes, still escaped, lexically
 * valid (escapes well formed, surrogates paired, UTF-8 well formed). */
struct jstr {
    const char *raw;
    size_t len;
    bool escaped; /* holds a backslash: raw is not the value's bytes */
    bool has_nul; /* holds \u0000 */
};

/* A number token, lexically valid (RFC 8259). json-c's reading: a double
 * when it has a fraction or an exponent, else a 64-bit integer. */
struct jnum {
    const char *raw;
    size_t len;
    bool is_double;
};

/* A container being walked. */
struct jcont {
    int level; /* the container's own level (the top value is 1) */
    char close;
    bool first;
};

/* What js_skip found in the strings and numbers of a blob. */
enum jblob { JB_OK, JB_NUL, JB_RANGE };

void js_init(struct jscan *s, const char *text, size_t len, int max_depth);

/* Skips whitespace; the type of the value that starts there (JT_NONE at
 * the end of the text or before a byte no value starts with). */
enum jtype js_peek(struct jscan *s);

/* Reads the token at s->p (after js_peek): 0, or -1 when the scan
 * stopped. */
int js_string(struct jscan *s, struct jstr *out);
int js_number(struct jscan *s, struct jnum *out);
int js_literal(struct jscan *s);

/* Enters the object or array at s->p, a value of the given level. */
void js_enter(struct jscan *s, struct jcont *c, int level);
/* Moves to c's next value: 1 when one starts at s->p (for an object, after
 * its key, into *key, and the colon), 0 when c closed, -1 when the scan
 * stopped. Checks the value's depth. */
int js_next(struct jscan *s, struct jcont *c, struct jstr *key);

/* Skips the value at s->p (after js_peek), of the given level. With blob
 * non-NULL, notes in it (when still JB_OK) the first string holding a NUL
 * or number that does not fit a double (jnum_fits_double). 0, or -1 when
 * the scan stopped. */
int js_skip(struct jscan *s, int level, enum jblob *blob);

/* After the top value: only whitespace may follow. 0 or -1. */
int js_finish(struct jscan *s);

/* After a grammar stop: looks for a lexical problem in the rest of the
 * text, which then becomes the reason (as the pre-check would have found
 * it first). */
void js_settle(struct jscan *s);

/* The first lexical problem in text (see the top), or NULL. */
const char *js_lex_problem(const char *text, size_t len);

/* Removes the whitespace outside strings from JSON text (len bytes) into
 * dst, which may be src itself; returns the new length. PostgreSQL's JSON
 * output has " : " and ", " between members; clients get compact JSON.
 * Strings are found by the scanner's own lexer; from a string that is not
 * lexically valid on, the text is copied as it is. */
size_t json_compact(char *dst, const char *src, size_t len);

/* The one range rule for numbers, whatever their spelling: a number fits
 * when strtod reads it as a finite double that is not 0 unless the
 * literal is a zero (so 1e309, -1e400, 1e-400 and 1 followed by 309 zeros
 * do not fit, 1.7976931348623157e308 and 4.9e-324 do). Durations go to
 * double precision columns, which need it, and the same rule holds for
 * every number of a body, blobs and unknown fields included. */
bool jnum_fits_double(const struct jnum *n);
/* False when n surely fits: an integer of at most 308 digits (below
 * 1e308), the common case, decided without a call. */
static inline bool jnum_may_overflow(const struct jnum *n)
{
    return n->is_double || n->len > 308;
}
/* Its double (strtod's, correctly rounded whatever the length); its
 * integer clamped to 64 bits, as json-c read it. */
double jnum_double(const struct jnum *n);
int64_t jnum_int64(const struct jnum *n);

/* Iterates over a string's characters, escapes decoded. */
struct jstr_iter {
    const char *p;
    const char *end;
};
void jstr_iter_init(struct jstr_iter *it, const struct jstr *s);
/* The next code point and its UTF-8 bytes in utf8[] (the return, 1..4),
 * or 0 at the end. */
size_t jstr_iter_next(struct jstr_iter *it, uint32_t *cp, char utf8[4]);

/* Writes the first cap bytes of the string's value into dst (no NUL) and
 * returns the value's full length in bytes. */
size_t jstr_unescape(const struct jstr *s, char *dst, size_t cap);

#endif
