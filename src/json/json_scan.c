/* The one-pass JSON scanner (json_scan.h): lexing, json-c's grammar and
 * depth rule, and a value skipper that checks blobs, all on the text in
 * place. The readings of single tokens are json_value.c's.
 *
 * Speed matters here: an ingest body is mostly string bytes inside blobs.
 * Strings are scanned 16 bytes at a time (SSE2; 8 in portable C elsewhere)
 * for the only bytes that need a look (quote, backslash, control
 * characters, non-ASCII), so ASCII runs cost a few instructions per block;
 * non-ASCII goes through utf8_seq_len. */
#include "json/json_scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

const char JSON_WHY_NUL_KEY[] = "object keys must not contain NUL (\\u0000)";

static const char WHY_END[] = "unexpected end of data";
static const char WHY_CHAR[] = "unexpected character";
static const char WHY_DEPTH[] = "JSON nested too deeply";

/* ---- lexing (the rules of the former pre-check, reasons included) ----- */

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && is_ws(*p))
        p++;
    return p;
}

#if defined(__SSE2__)
#include <emmintrin.h>
/* Advances p over the bytes that need no look (not a quote, a backslash,
 * below 0x20 or above 0x7f), 16 at a time; stops at one, or with fewer
 * than 16 bytes left. SSE2 is part of x86-64. */
static inline const char *skip_plain(const char *p, const char *end)
{
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* Signed: below 0x20 catches 0x80..0xff too. */
        __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
                                    _mm_cmpgt_epi8(space, x));
        int mask = _mm_movemask_epi8(stop);
        if (mask)
            return p + __builtin_ctz((unsigned)mask);
        p += 16;
    }
    return p;
}
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)
/* A mask whose lowest set bit marks the first of the 8 bytes in x that is
 * a quote, a backslash, below 0x20 or above 0x7f (higher bits may be
 * spurious: only the lowest is used). */
static inline uint64_t string_stops(uint64_t x)
{
    uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
    return (((q - ONES) & ~q) | ((b - ONES) & ~b) | ((x - ONES * 0x20) & ~x) | x) & HIGHS;
}
/* The same as above, 8 bytes at a time, in portable C. */
static inline const char *skip_plain(const char *p, const char *end)
{
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t m = string_stops(x);
        if (m)
            return p + (__builtin_ctzll(m) >> 3);
        p += 8;
    }
    return p;
}
#else
static inline const char *skip_plain(const char *p, const char *end)
{
    (void)end;
    return p;
}
#endif

/* Lexes the string whose opening quote is at p. 0: *next is after it;
 * 1: the text ends inside it (json-c's to report); -1: a lexical problem
 * in *why. */
static int lex_string(const char *p, const char *end, struct jstr *out, const char **next, const char **why)
{
    const char *start = ++p;
    bool escaped = false, has_nul = false;
    for (;;) {
        p = skip_plain(p, end);
        if (p >= end)
            return 1;
        unsigned char ch = (unsigned char)*p;
        if (ch == '"')
            break;
        if (ch == '\\') {
            if (end - p < 2)
                return 1;
            char e = p[1];
            escaped = true;
            if (e == 'u') {
                long cp = hex4_value(p + 2, end);
                if (cp < 0) {
                    *why = "invalid \\u escape in a string";
                    return -1;
                }
                p += 6;
                /* PostgreSQL refuses what is not a character. */
                if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    *why = "unpaired UTF-16 surrogate in a \\u escape";
                    return -1;
                }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    long lo = end - p > 1 && p[0] == '\\' && p[1] == 'u' ? hex4_value(p + 2, end) : -1;
                    if (lo < 0xDC00 || lo > 0xDFFF) {
                        *why = "unpaired UTF-16 surrogate in a \\u escape";
                        return -1;
                    }
                    p += 6;
                }
                if (cp == 0)
                    has_nul = true;
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' ||
                       e == 't') {
                p += 2;
            } else {
                *why = "invalid escape in a string";
                return -1;
            }
        } else if (ch < 0x20) {
            *why = "control character in a string (escape it)";
            return -1;
        } else if (ch >= 0x80) {
            size_t n = utf8_seq_len((const unsigned char *)p, (size_t)(end - p));
            if (n == 0) {
                *why = "invalid UTF-8";
                return -1;
            }
            p += n;
        } else {
            p++;
        }
    }
    out->raw = start;
    out->len = (size_t)(p - start);
    out->escaped = escaped;
    out->has_nul = has_nul;
    *next = p + 1;
    /* json-c cut object keys at a NUL, so a validator could never see it
     * there: refused on the text, wherever the string stands. */
    if (has_nul) {
        const char *q = skip_ws(*next, end);
        if (q < end && *q == ':') {
            *why = JSON_WHY_NUL_KEY;
            return -1;
        }
    }
    return 0;
}

/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?, not followed by
 * what would continue a word or a number. */
static int lex_number(const char *p, const char *end, struct jnum *out, const char **next, const char **why)
{
    const char *start = p;
    bool is_double = false;
    if (*p == '-')
        p++;
    if (p < end && *p == '0') {
        p++;
    } else if (p < end && is_digit(*p)) {
        while (p < end && is_digit(*p))
            p++;
    } else {
        goto malformed;
    }
    if (p < end && *p == '.') {
        is_double = true;
        if (++p >= end || !is_digit(*p))
            goto malformed;
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        is_double = true;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p))
            goto malformed;
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (is_alpha(*p) || is_digit(*p) || *p == '.' || *p == '+' || *p == '-'))
        goto malformed;
    out->raw = start;
    out->len = (size_t)(p - start);
    out->is_double = is_double;
    *next = p;
    return 0;
malformed:
    *why = "malformed number";
    return -1;
}

/* A run of letters: true, false or null. */
static int lex_word(const char *p, const char *end, const char **next, const char **why)
{
    const char *start = p;
    while (p < end && is_alpha(*p))
        p++;
    size_t n = (size_t)(p - start);
    if ((n == 4 && (memcmp(start, "true", 4) == 0 || memcmp(start, "null", 4) == 0)) ||
        (n == 5 && memcmp(start, "false", 5) == 0)) {
        *next = p;
        return 0;
    }
    *why = "unexpected word (only true, false and null are literals)";
    return -1;
}

/* The first lexical problem from p on, token by token, or NULL. */
static const char *lex_rest(const char *p, const char *end)
{
    const char *why = NULL;
    while (p < end) {
        char c = *p;
        if (is_ws(c) || c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':') {
            p++;
        } else if (c == '"') {
            struct jstr s;
            int rc = lex_string(p, end, &s, &p, &why);
            if (rc != 0)
                return rc < 0 ? why : NULL; /* unterminated: json-c's to report */
        } else if (c == '-' || is_digit(c)) {
            struct jnum n;
            if (lex_number(p, end, &n, &p, &why) < 0)
                return why;
        } else if (is_alpha(c)) {
            if (lex_word(p, end, &p, &why) < 0)
                return why;
        } else if ((unsigned char)c >= 0x80) {
            return utf8_seq_len((const unsigned char *)p, (size_t)(end - p)) ? WHY_CHAR : "invalid UTF-8";
        } else {
            return WHY_CHAR;
        }
    }
    return NULL;
}

const char *js_lex_problem(const char *text, size_t len)
{
    return lex_rest(text, text + len);
}

size_t json_compact(char *dst, const char *src, size_t len)
{
    const char *p = src, *end = src + len, *why = NULL;
    size_t o = 0;
    while (p < end) {
        if (is_ws(*p)) {
            p++;
        } else if (*p == '"') {
            struct jstr s;
            const char *next = end; /* not a string: the rest as it is */
            lex_string(p, end, &s, &next, &why);
            memmove(dst + o, p, (size_t)(next - p));
            o += (size_t)(next - p);
            p = next;
        } else {
            dst[o++] = *p++;
        }
    }
    return o;
}

/* ---- the scanner ------------------------------------------------------- */

static int stop_lexical(struct jscan *s, const char *why)
{
    s->stop = JS_LEXICAL;
    s->why = why;
    return -1;
}

static int stop_syntax(struct jscan *s, const char *why)
{
    s->stop = JS_SYNTAX;
    s->why = why;
    return -1;
}

void js_init(struct jscan *s, const char *text, size_t len, int max_depth)
{
    s->p = text;
    s->end = text + len;
    s->max_depth = max_depth;
    s->stop = JS_RUNNING;
    s->why = NULL;
    s->num_end = NULL;
}

enum jtype js_peek(struct jscan *s)
{
    s->p = skip_ws(s->p, s->end);
    if (s->p >= s->end)
        return JT_NONE;
    switch (*s->p) {
    case '"':
        return JT_STRING;
    case '{':
        return JT_OBJECT;
    case '[':
        return JT_ARRAY;
    case 't':
    case 'f':
        return JT_BOOL;
    case 'n':
        return JT_NULL;
    case '-':
        return JT_NUMBER;
    default:
        return is_digit(*s->p) ? JT_NUMBER : JT_NONE;
    }
}

int js_string(struct jscan *s, struct jstr *out)
{
    const char *why = NULL;
    int rc = lex_string(s->p, s->end, out, &s->p, &why);
    if (rc < 0)
        return stop_lexical(s, why);
    if (rc > 0) {
        s->p = s->end;
        return stop_syntax(s, WHY_END);
    }
    return 0;
}

int js_number(struct jscan *s, struct jnum *out)
{
    const char *why = NULL;
    if (lex_number(s->p, s->end, out, &s->p, &why) < 0)
        return stop_lexical(s, why);
    s->num_end = s->p;
    return 0;
}

int js_literal(struct jscan *s)
{
    const char *why = NULL;
    if (lex_word(s->p, s->end, &s->p, &why) < 0)
        return stop_lexical(s, why);
    return 0;
}

void js_enter(struct jscan *s, struct jcont *c, int level)
{
    c->level = level;
    c->close = *s->p == '{' ? '}' : ']';
    c->first = true;
    s->p++;
}

/* json-c's order of checks and words for each, so a broken body gets the
 * reason it got before. */
int js_next(struct jscan *s, struct jcont *c, struct jstr *key)
{
    bool object = c->close == '}';
    s->p = skip_ws(s->p, s->end);
    if (s->p >= s->end)
        return stop_syntax(s, WHY_END);
    if (*s->p == c->close) {
        s->p++;
        return 0;
    }
    if (c->first) {
        c->first = false;
        if (object && *s->p != '"')
            return stop_syntax(s, "quoted object property name expected");
    } else {
        if (*s->p != ',') {
            /* json-c ends a number only at whitespace , ] or }. */
            if (s->p == s->num_end && *s->p && strchr("\"{[:", *s->p))
                return stop_syntax(s, "number expected");
            return stop_syntax(s, object ? "object value separator ',' expected"
                                         : "array value separator ',' expected");
        }
        s->p = skip_ws(s->p + 1, s->end);
        if (s->p >= s->end)
            return stop_syntax(s, WHY_END);
        if (object && *s->p != '"')
            return stop_syntax(s, *s->p == '}' ? WHY_CHAR : "quoted object property name expected");
    }
    if (object) {
        if (js_string(s, key) < 0)
            return -1;
        s->p = skip_ws(s->p, s->end);
        if (s->p >= s->end)
            return stop_syntax(s, WHY_END);
        if (*s->p != ':')
            return stop_syntax(s, "object property name separator ':' expected");
        s->p = skip_ws(s->p + 1, s->end);
        if (s->p >= s->end)
            return stop_syntax(s, WHY_END);
    }
    if (c->level >= s->max_depth)
        return stop_syntax(s, WHY_DEPTH);
    return 1;
}

int js_skip(struct jscan *s, int level, enum jblob *blob)
{
    switch (js_peek(s)) {
    case JT_STRING: {
        struct jstr str;
        if (js_string(s, &str) < 0)
            return -1;
        if (blob && str.has_nul && *blob == JB_OK)
            *blob = JB_NUL;
        return 0;
    }
    case JT_NUMBER: {
        struct jnum n;
        if (js_number(s, &n) < 0)
            return -1;
        if (blob && *blob == JB_OK && jnum_may_overflow(&n) && !jnum_fits_double(&n))
            *blob = JB_RANGE;
        return 0;
    }
    case JT_NULL:
    case JT_BOOL:
        return js_literal(s);
    case JT_ARRAY:
    case JT_OBJECT: {
        struct jcont c;
        struct jstr key;
        int rc;
        js_enter(s, &c, level);
        while ((rc = js_next(s, &c, &key)) > 0)
            if (js_skip(s, level + 1, blob) < 0)
                return -1;
        return rc;
    }
    case JT_NONE:
        break;
    }
    return stop_syntax(s, s->p < s->end ? WHY_CHAR : WHY_END);
}

int js_finish(struct jscan *s)
{
    s->p = skip_ws(s->p, s->end);
    if (s->p < s->end)
        return stop_syntax(s, WHY_CHAR);
    return 0;
}

void js_settle(struct jscan *s)
{
    if (s->stop != JS_SYNTAX)
        return;
    const char *why = lex_rest(s->p, s->end);
    if (why) {
        s->stop = JS_LEXICAL;
        s->why = why;
    }
}
