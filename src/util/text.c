/* Byte-level text checks shared by the JSON reader, the error writer, the
 * query parser and the API-key parser, and the rule for the characters of
 * names. */
#include "util/text.h"

#include <stdbool.h>
#include <string.h>

size_t utf8_seq_len(const unsigned char *s, size_t left)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t n;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (left < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if ((s[k] & 0xC0) != 0x80)
            return 0;
    return n;
}

int hex_digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int base64_digit_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' || c == '-' ? 62 : c == '/' || c == '_' ? 63 : -1;
}

long hex4_value(const char *p, const char *end)
{
    long v = 0;
    for (int k = 0; k < 4; k++) {
        int d = end - p > k ? hex_digit_value(p[k]) : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

uint32_t utf8_decode(const unsigned char *s, size_t n)
{
    uint32_t cp = n == 1 ? s[0] : n == 2 ? s[0] & 0x1Fu : n == 3 ? s[0] & 0x0Fu : s[0] & 0x07u;
    for (size_t k = 1; k < n; k++)
        cp = (cp << 6) | (s[k] & 0x3Fu);
    return cp;
}

/* Unicode 15.0's format characters (general category Cf), as ranges in
 * order (UnicodeData.txt). */
static const uint32_t format_ranges[][2] = {
    {0x00AD, 0x00AD},   {0x0600, 0x0605},   {0x061C, 0x061C},   {0x06DD, 0x06DD},
    {0x070F, 0x070F},   {0x0890, 0x0891},   {0x08E2, 0x08E2},   {0x180E, 0x180E},
    {0x200B, 0x200F},   {0x202A, 0x202E},   {0x2060, 0x2064},   {0x2066, 0x206F},
    {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
    {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
    {0xE0020, 0xE007F},
};

enum name_char name_char_class(uint32_t cp)
{
    if (cp < 0xA0)
        return cp < 0x20 || cp >= 0x7F ? NAME_CHAR_CONTROL : NAME_CHAR_OK;
    size_t lo = 0, hi = sizeof format_ranges / sizeof format_ranges[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < format_ranges[mid][0])
            hi = mid;
        else if (cp > format_ranges[mid][1])
            lo = mid + 1;
        else
            return NAME_CHAR_FORMAT;
    }
    return NAME_CHAR_OK;
}

enum name_char name_text_class_slow(const unsigned char *p, const unsigned char *end)
{
    while (p < end) {
        if (*p >= 0x20 && *p < 0x7f) {
            p++;
            continue;
        }
        if (*p < 0x80)
            return NAME_CHAR_CONTROL;
        size_t n = utf8_seq_len(p, (size_t)(end - p));
        if (n == 0) /* not from a validated text: a byte that is no character */
            return NAME_CHAR_CONTROL;
        enum name_char c = name_char_class(utf8_decode(p, n));
        if (c != NAME_CHAR_OK)
            return c;
        p += n;
    }
    return NAME_CHAR_OK;
}

const char *name_char_rule(enum name_char c)
{
    switch (c) {
    case NAME_CHAR_CONTROL:
        return "must not contain control characters";
    case NAME_CHAR_FORMAT:
        return "must not contain invisible format characters (Unicode Cf, such as bidi overrides and "
               "zero-width spaces)";
    case NAME_CHAR_OK:
        break;
    }
    return "is fine";
}

void sanitize_text(char *dst, size_t dstlen, const char *src)
{
    if (dstlen == 0)
        return;
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)src;
    /* Whole characters only: bytes that are not well-formed UTF-8 are
     * dropped (the text goes into JSON, which must be UTF-8), and so are
     * the characters a name may not hold (control and invisible format
     * characters, text.h), which could hide or reorder the text around
     * them; a character that does not fit ends the copy. */
    while (*p) {
        size_t n = utf8_seq_len(p, strnlen((const char *)p, 4));
        if (n == 0) {
            p++;
            continue;
        }
        if (name_char_class(utf8_decode(p, n)) != NAME_CHAR_OK) {
            p += n;
            continue;
        }
        if (o + n >= dstlen)
            break;
        memcpy(dst + o, p, n);
        o += n;
        p += n;
    }
    dst[o] = '\0';
}

void hex_encode(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = "0123456789abcdef"[in[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

int decimal_parse(const char *s, long long max, long long *out)
{
    long long v = 0;
    if (!s || !*s || max < 0)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (max - (*s - '0')) / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 0;
}

long number_decimal_places(const char *s)
{
    const char *p = s, *frac = NULL, *end;
    long frac_len = 0, exp = 0;
    bool exp_neg = false;
    if (!s)
        return -1;
    if (*p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    while (*p >= '0' && *p <= '9')
        p++;
    end = p; /* one past the last digit of the mantissa */
    if (*p == '.') {
        frac = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        frac_len = p - frac;
        if (frac_len == 0)
            return -1;
        end = p;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            exp_neg = *p++ == '-';
        if (*p < '0' || *p > '9')
            return -1;
        /* Capped: any exponent beyond a double's is as good as another. */
        for (; *p >= '0' && *p <= '9'; p++)
            exp = exp < 100000 ? exp * 10 + (*p - '0') : 100000;
    }
    if (*p)
        return -1;
    /* Trailing zeros of the mantissa are no decimals: 2.50 has one. */
    long places = frac_len + (exp_neg ? exp : -exp);
    for (const char *q = end - 1; places > 0 && q >= s && (*q == '0' || *q == '.'); q--)
        if (*q == '0')
            places--;
    return places > 0 ? places : 0;
}
