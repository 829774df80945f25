/* What differs between two shared states (see state_diff.h): json-c trees
 * of the two texts, walked together.
 *
 * Numbers: an integer and a decimal are compared by value (PostgreSQL
 * prints a jsonb 1.0 as "1.0", and a client may send either), decimals as
 * doubles. json-c clamps integers beyond 64 bits, so two such integers that
 * differ only past that compare equal: states hold counters and ids, not
 * 70-bit numbers, and the viewer (JavaScript numbers) is no more exact. */
#include "domain/state_diff.h"

#include <json-c/json.h>
#include <limits.h>
#include <string.h>

/* A parsed state; ok is false when the text did not parse (a JSON null
 * parses to a NULL tree with ok true). */
struct parsed {
    struct json_object *v;
    bool ok;
};

static struct parsed parse(const char *text)
{
    struct parsed p = {NULL, false};
    size_t len = strlen(text);
    if (len > INT_MAX)
        return p;
    struct json_tokener *tok = json_tokener_new_ex(STATE_DIFF_PARSE_DEPTH);
    if (!tok)
        return p;
    /* Strict: jsonb's text is plain JSON, and json-c's extensions (NaN,
     * single quotes) would only let a stranger text compare. */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    p.v = json_tokener_parse_ex(tok, text, (int)len);
    p.ok = json_tokener_get_error(tok) == json_tokener_success && json_tokener_get_parse_end(tok) == len;
    if (!p.ok) {
        json_object_put(p.v);
        p.v = NULL;
    }
    json_tokener_free(tok);
    return p;
}

static bool is_number(enum json_type t)
{
    return t == json_type_int || t == json_type_double;
}

static bool value_equal(struct json_object *a, struct json_object *b)
{
    enum json_type ta = json_object_get_type(a), tb = json_object_get_type(b);
    if (ta != tb) {
        if (is_number(ta) && is_number(tb))
            return json_object_get_double(a) == json_object_get_double(b);
        return false;
    }
    switch (ta) {
    case json_type_null:
        return true;
    case json_type_boolean:
        return json_object_get_boolean(a) == json_object_get_boolean(b);
    case json_type_double:
        return json_object_get_double(a) == json_object_get_double(b);
    case json_type_int:
        return json_object_equal(a, b) != 0; /* int64 and uint64 both */
    case json_type_string:
        return json_object_get_string_len(a) == json_object_get_string_len(b) &&
               memcmp(json_object_get_string(a), json_object_get_string(b),
                      (size_t)json_object_get_string_len(a)) == 0;
    case json_type_array: {
        size_t n = json_object_array_length(a);
        if (n != json_object_array_length(b))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!value_equal(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i)))
                return false;
        return true;
    }
    case json_type_object: {
        if (json_object_object_length(a) != json_object_object_length(b))
            return false;
        json_object_object_foreach(a, key, va) {
            struct json_object *vb;
            if (!json_object_object_get_ex(b, key, &vb) || !value_equal(va, vb))
                return false;
        }
        return true;
    }
    }
    return false;
}

int state_equal(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    if (strcmp(a, b) == 0)
        return 1;
    struct parsed pa = parse(a), pb = parse(b);
    int eq = pa.ok && pb.ok && value_equal(pa.v, pb.v);
    json_object_put(pa.v);
    json_object_put(pb.v);
    return eq;
}

/* ------------------------------------------------------------------ the diff */

enum kind { CHANGED, ADDED, REMOVED };

struct diff {
    struct buf lists[3]; /* the entries of each kind, comma-separated */
    size_t found, written, max;
    size_t *budget;
    bool truncated;
    struct buf path;
};

/* A key that may stand bare in a path: the viewer's SIMPLE_KEY,
 * /^[A-Za-z_$][A-Za-z0-9_$-]*$/. */
static bool simple_key(const char *k)
{
    if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') || *k == '_' || *k == '$'))
        return false;
    for (k++; *k; k++)
        if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_' ||
              *k == '$' || *k == '-'))
            return false;
    return true;
}

/* Appends key to the path as the viewer's joinPath does: a.b, a["x y"]. */
static void join_path(struct buf *path, const char *key)
{
    if (simple_key(key)) {
        if (path->len)
            buf_putc(path, '.');
        buf_puts(path, key);
        return;
    }
    buf_putc(path, '[');
    buf_json_string(path, key, strlen(key));
    buf_putc(path, ']');
}

static void cut_path(struct buf *path, size_t len)
{
    path->len = len;
    if (path->data)
        path->data[len] = '\0';
}

/* Writes v as a member value: its JSON, or null when longer than
 * STATE_DIFF_VALUE_MAX (*cut set). */
static void put_value(struct buf *out, struct json_object *v, bool *cut)
{
    size_t len = 0;
    const char *text = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
                                                         &len);
    if (!text)
        agora_oom();
    if (len > STATE_DIFF_VALUE_MAX) {
        buf_puts(out, "null");
        *cut = true;
        return;
    }
    buf_append(out, text, len);
}

static void entry(struct diff *d, enum kind kind, struct json_object *a, struct json_object *b)
{
    d->found++;
    if (d->written == d->max || (d->budget && *d->budget == 0)) {
        d->truncated = true;
        return;
    }
    d->written++;
    if (d->budget)
        (*d->budget)--;
    struct buf *l = &d->lists[kind];
    bool cut = false;
    if (l->len)
        buf_putc(l, ',');
    buf_puts(l, "{\"path\":");
    if (d->path.len)
        buf_json_string(l, d->path.data, d->path.len);
    else
        buf_puts(l, "\"(state)\"");
    if (kind == CHANGED) {
        buf_puts(l, ",\"a\":");
        put_value(l, a, &cut);
        buf_puts(l, ",\"b\":");
        put_value(l, b, &cut);
    } else {
        buf_puts(l, ",\"value\":");
        put_value(l, kind == ADDED ? b : a, &cut);
    }
    if (cut)
        buf_puts(l, ",\"truncated\":true");
    buf_putc(l, '}');
}

static void walk(struct diff *d, struct json_object *a, struct json_object *b, int depth)
{
    if (json_object_is_type(a, json_type_object) && json_object_is_type(b, json_type_object) &&
        depth < STATE_DIFF_DEPTH) {
        size_t mark = d->path.len;
        json_object_object_foreach(a, ka, va) {
            struct json_object *vb;
            join_path(&d->path, ka);
            if (json_object_object_get_ex(b, ka, &vb))
                walk(d, va, vb, depth + 1);
            else
                entry(d, REMOVED, va, NULL);
            cut_path(&d->path, mark);
        }
        json_object_object_foreach(b, kb, vb2) {
            if (json_object_object_get_ex(a, kb, NULL))
                continue;
            join_path(&d->path, kb);
            entry(d, ADDED, NULL, vb2);
            cut_path(&d->path, mark);
        }
        return;
    }
    if (!value_equal(a, b))
        entry(d, CHANGED, a, b);
}

static void write_list(struct buf *out, const char *name, const struct buf *l)
{
    buf_printf(out, ",\"%s\":[", name);
    if (l->len)
        buf_append(out, l->data, l->len);
    buf_putc(out, ']');
}

size_t state_diff_write(const char *a, const char *b, size_t max_entries, size_t *budget, struct buf *out)
{
    struct diff d = {.max = max_entries, .budget = budget};
    struct parsed pa = {NULL, true}, pb = {NULL, true};
    for (int i = 0; i < 3; i++)
        buf_init(&d.lists[i]);
    buf_init(&d.path);

    if (a && b && strcmp(a, b) == 0) {
        /* the same text: equal without parsing */
    } else if (!a || !b) {
        /* One side has no snapshot: the other's state, whole. */
        if (a || b) {
            struct parsed p = parse(a ? a : b);
            entry(&d, a ? REMOVED : ADDED, p.v, p.v);
            json_object_put(p.v);
        }
    } else {
        pa = parse(a);
        pb = parse(b);
        if (pa.ok && pb.ok)
            walk(&d, pa.v, pb.v, 0);
        else
            entry(&d, CHANGED, NULL, NULL); /* cannot happen with jsonb's text: shown as unknown */
    }
    buf_printf(out, "{\"equal\":%s", d.found ? "false" : "true");
    write_list(out, "changed", &d.lists[CHANGED]);
    write_list(out, "added", &d.lists[ADDED]);
    write_list(out, "removed", &d.lists[REMOVED]);
    buf_printf(out, ",\"truncated\":%s}", d.truncated ? "true" : "false");

    json_object_put(pa.v);
    json_object_put(pb.v);
    for (int i = 0; i < 3; i++)
        buf_free(&d.lists[i]);
    buf_free(&d.path);
    return d.found;
}
