/* Opaque keyset cursors. The text is base64url without padding (RFC 4648
 * section 5) of "2:<scope>:<micros>:<id>": a version, the list's scope as
 * eight lowercase hex digits, the sort key as a decimal int64 (negative
 * before 1970), and the row's id, 1..40 characters of [0-9a-f-] (a
 * lowercase UUID or a decimal bigint). Decoding accepts only what
 * cursor_encode writes: the canonical base64url (unused bits zero),
 * version 2, a canonical decimal (no '+', no leading zeros, no "-0", no
 * spaces, no overflow) and the exact structure. Anything else is -1, which
 * a handler answers with 422, before any SQL sees it. Version 1 cursors
 * (unscoped) are refused: a client holding one starts its list again. */
#include "util/cursor.h"

#include <stdbool.h>
#include <string.h>

#include "util/text.h"

/* "2:" + scope + ":" + "-9223372036854775808" + ":" + id: the longest
 * raw cursor; its base64url text fits CURSOR_TEXT_MAX. */
#define SCOPE_HEX 8
#define RAW_MAX (2 + SCOPE_HEX + 1 + 20 + 1 + CURSOR_ID_MAX)
_Static_assert((RAW_MAX * 4 + 2) / 3 <= CURSOR_TEXT_MAX, "CURSOR_TEXT_MAX holds the longest cursor");

static const char hex_lower[] = "0123456789abcdef";

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url only: '+' and '/' are standard base64's. */
static int b64url_value(char c)
{
    return c == '+' || c == '/' ? -1 : base64_digit_value(c);
}

/* FNV-1a, 32 bits: a scope only needs to tell lists apart, not to resist
 * a forger (see cursor.h). Each field is followed by a separator byte that
 * no field holds, and an absent value has its own marker. */
static uint32_t fnv1a(uint32_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT32_C(16777619);
    }
    return h;
}

uint32_t cursor_scope_begin(const char *list)
{
    return fnv1a(UINT32_C(2166136261), list, strlen(list) + 1);
}

uint32_t cursor_scope_add(uint32_t scope, const char *name, const char *value)
{
    static const char absent = '\x01';
    scope = fnv1a(scope, name, strlen(name) + 1);
    return value ? fnv1a(scope, value, strlen(value) + 1) : fnv1a(scope, &absent, 1);
}

static bool id_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-';
}

/* Writes v in decimal at p; returns the end. */
static char *put_i64(char *p, int64_t v)
{
    char tmp[20];
    size_t n = 0;
    /* Unsigned magnitude: -INT64_MIN does not fit in int64_t. */
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (v < 0)
        *p++ = '-';
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* The id is written as given (at most CURSOR_ID_MAX bytes); callers pass
 * lowercase UUIDs or decimal ids, which cursor_decode takes back. */
void cursor_encode(const struct cursor *c, char out[CURSOR_TEXT_MAX + 1])
{
    unsigned char raw[RAW_MAX];
    char *p = (char *)raw;
    *p++ = '2';
    *p++ = ':';
    for (int shift = 28; shift >= 0; shift -= 4)
        *p++ = hex_lower[c->scope >> shift & 15];
    *p++ = ':';
    p = put_i64(p, c->micros);
    *p++ = ':';
    size_t idlen = strnlen(c->id, CURSOR_ID_MAX);
    memcpy(p, c->id, idlen);
    p += idlen;
    size_t n = (size_t)(p - (char *)raw), o = 0, i = 0;

    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];
        out[o++] = b64url[v >> 18];
        out[o++] = b64url[v >> 12 & 63];
        out[o++] = b64url[v >> 6 & 63];
        out[o++] = b64url[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)raw[i] << 16;
        out[o++] = b64url[v >> 18];
        out[o++] = b64url[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8;
        out[o++] = b64url[v >> 18];
        out[o++] = b64url[v >> 12 & 63];
        out[o++] = b64url[v >> 6 & 63];
    }
    out[o] = '\0';
}

/* Decodes text (n characters) into raw; returns the byte count, or -1 when
 * it is not canonical unpadded base64url. */
static int b64url_decode(const char *text, size_t n, unsigned char *raw, size_t rawcap)
{
    if (n % 4 == 1)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        size_t chunk = n - i < 4 ? n - i : 4;
        unsigned v = 0;
        for (size_t k = 0; k < 4; k++) {
            int d = 0;
            if (k < chunk && (d = b64url_value(text[i + k])) < 0)
                return -1;
            v = v << 6 | (unsigned)d;
        }
        size_t bytes = chunk - 1; /* 4 chars: 3 bytes, 3: 2, 2: 1 */
        /* The bits past the last byte must be zero: one text per cursor. */
        if ((bytes == 1 && (v & 0xffff)) || (bytes == 2 && (v & 0xff)))
            return -1;
        if (o + bytes > rawcap)
            return -1;
        raw[o++] = (unsigned char)(v >> 16);
        if (bytes > 1)
            raw[o++] = (unsigned char)(v >> 8);
        if (bytes > 2)
            raw[o++] = (unsigned char)v;
    }
    return (int)o;
}

int cursor_decode(const char *text, struct cursor *c)
{
    unsigned char raw[RAW_MAX];
    if (!text)
        return -1;
    size_t n = strnlen(text, CURSOR_TEXT_MAX + 1);
    if (n == 0 || n > CURSOR_TEXT_MAX)
        return -1;
    int got = b64url_decode(text, n, raw, sizeof raw);
    if (got < 0)
        return -1;
    const char *s = (const char *)raw, *end = s + got;

    if (end - s < 2 + SCOPE_HEX + 1 || s[0] != '2' || s[1] != ':' || s[2 + SCOPE_HEX] != ':')
        return -1;
    uint32_t scope = 0;
    for (int k = 0; k < SCOPE_HEX; k++) {
        const char *d = s[2 + k] ? memchr(hex_lower, s[2 + k], sizeof hex_lower - 1) : NULL;
        if (!d)
            return -1;
        scope = scope << 4 | (uint32_t)(d - hex_lower);
    }
    s += 2 + SCOPE_HEX + 1;

    /* -?(0|[1-9][0-9]*), accumulated negatively so INT64_MIN fits. */
    bool neg = s < end && *s == '-';
    if (neg)
        s++;
    if (s >= end || *s < '0' || *s > '9' || (*s == '0' && s + 1 < end && s[1] >= '0' && s[1] <= '9'))
        return -1;
    if (neg && *s == '0')
        return -1; /* "-0" */
    int64_t acc = 0;
    for (; s < end && *s >= '0' && *s <= '9'; s++) {
        int dgt = *s - '0';
        if (acc < (INT64_MIN + dgt) / 10)
            return -1;
        acc = acc * 10 - dgt;
    }
    if (!neg) {
        if (acc == INT64_MIN)
            return -1;
        acc = -acc;
    }

    if (s >= end || *s != ':')
        return -1;
    s++;
    size_t idlen = (size_t)(end - s);
    if (idlen < 1 || idlen > CURSOR_ID_MAX)
        return -1;
    for (size_t k = 0; k < idlen; k++)
        if (!id_char(s[k]))
            return -1;

    c->scope = scope;
    c->micros = acc;
    memcpy(c->id, s, idlen);
    c->id[idlen] = '\0';
    return 0;
}
