/* REFERENCE ONLY: reading the OTLP plan's columns back (otlp_columns_read.h). */
#include "otlp_columns_read.h"

#include "util/text.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Whether s (NUL-terminated) is well-formed UTF-8, as PostgreSQL's text
 * input requires. */
static bool utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t left = strlen(s);
    while (left > 0) {
        size_t n = utf8_seq_len(p, left);
        if (n == 0)
            return false;
        p += n;
        left -= n;
    }
    return true;
}

/* One array literal's elements (NULL for a NULL one); n of them. */
struct elems {
    char **v;
    size_t n;
};

static void elems_free(struct elems *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i]);
    free(e->v);
    e->v = NULL;
    e->n = 0;
}

static void elems_push(struct elems *e, char *s)
{
    char **v = realloc(e->v, (e->n + 1) * sizeof *v);
    if (!v)
        abort();
    e->v = v;
    e->v[e->n++] = s;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* A one-dimensional literal of text, len bytes (its NUL excluded), as
 * array_in reads it: quoted elements with backslash escapes, unquoted ones
 * up to a comma or brace (NULL, in any case, is a NULL), no empty unquoted
 * element. false when malformed. */
static bool parse_literal(const char *text, size_t len, struct elems *out)
{
    const char *p = text, *end = text + len;
    if (memchr(text, '\0', len) || p == end || *p++ != '{')
        return false;
    if (p < end && *p == '}')
        return p + 1 == end;
    for (;;) {
        struct buf b;
        buf_init(&b);
        while (p < end && is_space(*p))
            p++;
        if (p < end && *p == '"') {
            for (p++; p < end && *p != '"'; p++) {
                if (*p == '\\' && ++p == end)
                    break;
                buf_putc(&b, *p);
            }
            if (p == end) {
                buf_free(&b);
                return false;
            }
            p++;
            while (p < end && is_space(*p))
                p++;
            buf_putc(&b, '\0');
            if (!utf8_ok(b.data)) {
                buf_free(&b);
                return false;
            }
            elems_push(out, buf_steal(&b));
        } else {
            const char *from = p;
            while (p < end && *p != ',' && *p != '}' && *p != '"' && *p != '\\' && *p != '{')
                p++;
            const char *to = p;
            while (to > from && is_space(to[-1]))
                to--;
            buf_free(&b);
            if (to == from)
                return false;
            if (to - from == 4 && strncasecmp(from, "NULL", 4) == 0)
                elems_push(out, NULL);
            else
                elems_push(out, xstrndup(from, (size_t)(to - from)));
        }
        if (p == end)
            return false;
        if (*p == '}')
            return p + 1 == end;
        if (*p++ != ',')
            return false;
    }
}

/* The JSON array parameter b (its NUL excluded), or NULL. */
static struct json_object *parse_json(const struct buf *b)
{
    struct json_tokener *tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH * 4);
    if (!tok)
        abort();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    size_t len = b->len ? b->len - 1 : 0;
    struct json_object *d = json_tokener_parse_ex(tok, b->data, (int)len);
    if (d && (json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) != len ||
              !json_object_is_type(d, json_type_array))) {
        json_object_put(d);
        d = NULL;
    }
    json_tokener_free(tok);
    return d;
}

enum kind { K_TEXT, K_INT, K_DOUBLE, K_JSON };

struct column {
    const char *name;
    enum kind kind;
};

/* The columns of n, named and typed by cols, as one array of objects. */
static struct json_object *read_columns(const struct buf *c, const struct column *cols, size_t n, const char **why)
{
    struct elems *e = calloc(n, sizeof *e);
    struct json_object **json = calloc(n, sizeof *json), *rows = NULL;
    size_t count = 0;
    if (!e || !json)
        abort();
    for (size_t k = 0; k < n; k++) {
        size_t len;
        if (cols[k].kind == K_JSON) {
            if (!(json[k] = parse_json(&c[k]))) {
                *why = cols[k].name;
                goto done;
            }
            len = json_object_array_length(json[k]);
        } else {
            if (c[k].len == 0 || c[k].data[c[k].len - 1] != '\0' || !parse_literal(c[k].data, c[k].len - 1, &e[k])) {
                *why = cols[k].name;
                goto done;
            }
            len = e[k].n;
        }
        if (k > 0 && len != count) {
            *why = "columns of different lengths";
            goto done;
        }
        count = len;
    }
    rows = json_object_new_array();
    for (size_t i = 0; i < count; i++) {
        struct json_object *o = json_object_new_object();
        for (size_t k = 0; k < n; k++) {
            struct json_object *v = NULL;
            if (cols[k].kind == K_JSON)
                v = json_object_get(json_object_array_get_idx(json[k], i));
            else if (!e[k].v[i])
                continue;
            else if (cols[k].kind == K_INT)
                v = json_object_new_int64(strtoll(e[k].v[i], NULL, 10));
            else if (cols[k].kind == K_DOUBLE)
                v = json_object_new_double(strtod(e[k].v[i], NULL));
            else
                v = json_object_new_string(e[k].v[i]);
            json_object_object_add(o, cols[k].name, v);
        }
        json_object_array_add(rows, o);
    }
done:
    for (size_t k = 0; k < n; k++) {
        elems_free(&e[k]);
        json_object_put(json[k]);
    }
    free(e);
    free(json);
    return rows;
}

static const struct column SPAN_COLS[OSC_COUNT] = {
    [OSC_EXEC] = {"x", K_TEXT},    [OSC_SPAN] = {"s", K_TEXT},     [OSC_PARENT] = {"p", K_TEXT},
    [OSC_NAME] = {"n", K_TEXT},    [OSC_KIND] = {"k", K_TEXT},     [OSC_START] = {"st", K_TEXT},
    [OSC_END] = {"et", K_TEXT},    [OSC_DUR] = {"d", K_DOUBLE},    [OSC_STATUS] = {"c", K_TEXT},
    [OSC_ATTRS] = {"a", K_JSON},   [OSC_NODE] = {"nn", K_TEXT},    [OSC_CID] = {"cid", K_TEXT},
    [OSC_NTYPE] = {"nt", K_TEXT},  [OSC_ERR] = {"em", K_TEXT},     [OSC_TIN] = {"ti", K_INT},
    [OSC_TOUT] = {"tout", K_INT},  [OSC_TCR] = {"cr", K_INT},      [OSC_TCC] = {"cc", K_INT},
    [OSC_MODEL] = {"model", K_TEXT}, [OSC_PROV] = {"prov", K_TEXT},
};

static const struct column EVENT_COLS[OEC_COUNT] = {
    [OEC_EXEC] = {"x", K_TEXT}, [OEC_SPAN] = {"s", K_TEXT},  [OEC_NODE] = {"nn", K_TEXT},
    [OEC_TYPE] = {"ty", K_TEXT}, [OEC_TIME] = {"ts", K_TEXT}, [OEC_DATA] = {"d", K_JSON}};

struct json_object *otlp_columns_spans(const struct otlp_docs *d, const char **why)
{
    struct json_object *rows = read_columns(d->spans, SPAN_COLS, OSC_COUNT, why), *v;
    for (size_t i = 0; rows && i < json_object_array_length(rows); i++) {
        struct json_object *o = json_object_array_get_idx(rows, i);
        if (json_object_object_get_ex(o, "cid", &v))
            json_object_object_add(o, "node", json_object_new_boolean(1));
    }
    return rows;
}

/* Whether two objects hold the same value under key (both absent: the
 * same). */
static bool same_member(struct json_object *a, struct json_object *b, const char *key)
{
    struct json_object *va, *vb;
    bool ha = json_object_object_get_ex(a, key, &va), hb = json_object_object_get_ex(b, key, &vb);
    return ha == hb && (!ha || json_object_equal(va, vb));
}

/* The span of spans the event ev names (its execution and span id), with
 * the same node name, or NULL. */
static struct json_object *span_of(struct json_object *spans, struct json_object *ev)
{
    for (size_t i = 0; i < json_object_array_length(spans); i++) {
        struct json_object *s = json_object_array_get_idx(spans, i);
        if (same_member(s, ev, "x") && same_member(s, ev, "s") && same_member(s, ev, "nn"))
            return s;
    }
    return NULL;
}

struct json_object *otlp_columns_events(const struct otlp_docs *d, struct json_object *spans, const char **why)
{
    struct json_object *rows = read_columns(d->events, EVENT_COLS, OEC_COUNT, why);
    for (size_t i = 0; rows && i < json_object_array_length(rows); i++) {
        struct json_object *o = json_object_array_get_idx(rows, i);
        if (!span_of(spans, o)) {
            *why = "an event of no span, or not of its span's execution and node";
            json_object_put(rows);
            return NULL;
        }
    }
    return rows;
}
