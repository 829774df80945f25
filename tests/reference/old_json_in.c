/* REFERENCE ONLY, not built into the worker: how a body was parsed before
 * the one-pass scanner. The lexical pre-check and json_parse_strict as
 * src/http/json_body.c had them (json-c in strict mode builds the tree).
 * Kept unchanged but for names, for the differential test of json_tree.c. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "json/json_scan.h"
#include "reference.h"
#include "util/text.h"

/* The value of 4 hex digits at text[at], or -1. */
static long hex4(const char *text, size_t len, size_t at)
{
    long v = 0;
    for (size_t k = 0; k < 4; k++) {
        int d = at + k < len ? hex_digit_value(text[at + k]) : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Checks that text holds only RFC 8259 tokens and well-formed UTF-8.
 * json-c's strict mode (0.16) still takes single-quoted names, NaN and
 * Infinity, "1.", raw control characters inside strings, and UTF-8 that is
 * only structurally valid (overlongs, surrogates); this pass refuses them
 * before json-c builds anything. Grammar and depth stay json-c's job.
 * NULL when the tokens are fine, else a static reason. */
static const char *json_lex_problem(const char *text, size_t len)
{
    static const char *const literals[] = {"true", "false", "null"};
    size_t i = 0;
    while (i < len) {
        char c = text[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '{' || c == '}' || c == '[' ||
            c == ']' || c == ',' || c == ':') {
            i++;
        } else if (c == '"') {
            bool has_nul = false;
            for (i++;; ) {
                if (i >= len)
                    return NULL; /* unterminated: json-c reports it */
                unsigned char ch = (unsigned char)text[i];
                if (ch == '"') {
                    i++;
                    break;
                }
                if (ch == '\\') {
                    if (i + 1 >= len)
                        return NULL;
                    char e = text[i + 1];
                    if (e == 'u') {
                        long cp = hex4(text, len, i + 2);
                        if (cp < 0)
                            return "invalid \\u escape in a string";
                        i += 6;
                        /* PostgreSQL refuses what is not a character. */
                        if (cp >= 0xDC00 && cp <= 0xDFFF)
                            return "unpaired UTF-16 surrogate in a \\u escape";
                        if (cp >= 0xD800 && cp <= 0xDBFF) {
                            long lo = i + 1 < len && text[i] == '\\' && text[i + 1] == 'u' ? hex4(text, len, i + 2) : -1;
                            if (lo < 0xDC00 || lo > 0xDFFF)
                                return "unpaired UTF-16 surrogate in a \\u escape";
                            i += 6;
                        }
                        if (cp == 0)
                            has_nul = true;
                    } else if (strchr("\"\\/bfnrt", e) && e != '\0') {
                        i += 2;
                    } else {
                        return "invalid escape in a string";
                    }
                } else if (ch < 0x20) {
                    return "control character in a string (escape it)";
                } else {
                    size_t n = utf8_seq_len((const unsigned char *)text + i, len - i);
                    if (n == 0)
                        return "invalid UTF-8";
                    i += n;
                }
            }
            /* json-c cuts object keys at a NUL, so the validator could
             * never see it there: refuse it here. */
            if (has_nul) {
                size_t j = i;
                while (j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r'))
                    j++;
                if (j < len && text[j] == ':')
                    return JSON_WHY_NUL_KEY;
            }
        } else if (c == '-' || is_digit(c)) {
            /* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
            if (c == '-')
                i++;
            if (i < len && text[i] == '0') {
                i++;
            } else if (i < len && is_digit(text[i])) {
                while (i < len && is_digit(text[i]))
                    i++;
            } else {
                return "malformed number";
            }
            if (i < len && text[i] == '.') {
                if (++i >= len || !is_digit(text[i]))
                    return "malformed number";
                while (i < len && is_digit(text[i]))
                    i++;
            }
            if (i < len && (text[i] == 'e' || text[i] == 'E')) {
                i++;
                if (i < len && (text[i] == '+' || text[i] == '-'))
                    i++;
                if (i >= len || !is_digit(text[i]))
                    return "malformed number";
                while (i < len && is_digit(text[i]))
                    i++;
            }
            if (i < len && (isalnum((unsigned char)text[i]) || text[i] == '.' || text[i] == '+' || text[i] == '-'))
                return "malformed number";
        } else if (isalpha((unsigned char)c)) {
            size_t start = i;
            while (i < len && isalpha((unsigned char)text[i]))
                i++;
            bool known = false;
            for (size_t k = 0; k < sizeof literals / sizeof literals[0] && !known; k++)
                known = strlen(literals[k]) == i - start && memcmp(literals[k], text + start, i - start) == 0;
            if (!known)
                return "unexpected word (only true, false and null are literals)";
        } else if ((unsigned char)c >= 0x80) {
            return utf8_seq_len((const unsigned char *)text + i, len - i) ? "unexpected character" : "invalid UTF-8";
        } else {
            return "unexpected character";
        }
    }
    return NULL;
}

struct json_object *ref_json_parse_strict(const char *text, size_t len, int max_depth, const char **why)
{
    *why = NULL;
    if (len > (size_t)INT32_MAX) {
        *why = "body too large to parse";
        return NULL;
    }
    if ((*why = json_lex_problem(text, len)) != NULL)
        return NULL;
    struct json_tokener *tok = json_tokener_new_ex(max_depth);
    if (!tok) {
        *why = "parser unavailable";
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    if (!obj && jerr == json_tokener_continue && len > 0) {
        /* A bare number or literal at the very end may continue in a next
         * chunk as far as json-c knows: a NUL byte tells it the text ended. */
        obj = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
        end = len;
    }
    /* json-c returns NULL for the literal null, with success. */
    if (!obj && jerr != json_tokener_success) {
        if (jerr == json_tokener_continue)
            *why = "unexpected end of JSON";
        else if (jerr == json_tokener_error_depth)
            *why = "JSON nested too deeply";
        else if (jerr == json_tokener_error_parse_utf8_string)
            *why = "invalid UTF-8";
        else
            *why = json_tokener_error_desc(jerr);
        goto fail;
    }
    /* Anything but whitespace after the value is an error. */
    for (size_t i = end; i < len; i++) {
        char c = text[i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            *why = "unexpected data after the JSON value";
            json_object_put(obj);
            obj = NULL;
            goto fail;
        }
    }
fail:
    json_tokener_free(tok);
    return obj;
}
