/* json-c trees built from the one-pass scanner (json_scan.h), for the
 * bodies that handlers check field by field (json_in.h: json_parse_shaped).
 *
 * json-c's own parser builds every value: an object costs a worker about
 * 800 bytes of memory for the 3 bytes of "{},", so a 1 MiB body of empty
 * objects in a field no check reads cost 274 MB, and 8 MiB 2.1 GB. Here
 * the scanner walks the text and only what a check can look at becomes a
 * json-c value; the rest is skipped in place (its syntax still checked):
 * - where the shape expects a scalar (or the member is unknown), a
 *   container becomes an empty one of its type, which every check refuses
 *   as it would refuse the whole one ("must be a string", "must be an
 *   object");
 * - of the members an object's shape does not know, only the first is
 *   kept: the checks name the first unknown member and stop;
 * - of an array's items, max_items + 1 are kept: the checks refuse an
 *   array longer than max_items before looking at its items.
 * So the tree has at most a fixed number of values per shape position,
 * and its strings are no longer than the body's.
 *
 * The verdicts are json_parse_strict's (json-c strict behind the lexical
 * pre-check): the scanner follows json-c's grammar, depth rule and
 * reasons, a repeated key keeps the last value at the place of the first
 * (json_object_object_add), a lexical problem anywhere wins over a grammar
 * one (js_settle). Beyond that, one rule of the API: a number out of a
 * double's range (jnum_fits_double) anywhere in the body, built or
 * skipped, refuses it (JSON_WHY_RANGE). When json-c cannot allocate, the
 * tree is freed and the answer is JSON_WHY_NO_MEMORY, unless the text is
 * not JSON, which is said instead. */
#include "json/json_tree.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/json_scan.h"

const char JSON_WHY_NO_MEMORY[] = "not enough memory to read the body";
const char JSON_WHY_RANGE[] = "the body holds a number out of range";

/* What building a value came to. */
enum built { B_OK = 0, B_STOP = -1, B_NO_MEMORY = -2 };

struct builder {
    struct jscan s;
    bool full;        /* no shape: build everything */
    bool out_of_range; /* a number out of range was seen */
};

static enum built build(struct builder *b, int level, const struct json_shape *shape, bool scalar,
                        struct json_object **out);

/* A string token's value as a json-c string. */
static enum built new_string(const struct jstr *str, struct json_object **out)
{
    if (!str->escaped) {
        *out = json_object_new_string_len(str->raw, (int)str->len);
    } else {
        char *buf = malloc(str->len ? str->len : 1); /* unescaping never lengthens */
        if (!buf)
            return B_NO_MEMORY;
        size_t n = jstr_unescape(str, buf, str->len);
        *out = json_object_new_string_len(buf, (int)n);
        free(buf);
    }
    return *out ? B_OK : B_NO_MEMORY;
}

/* A number as json-c reads it: an integer literal as int64 (a positive
 * one above INT64_MAX as uint64, both clamped), another as a double that
 * keeps its literal for printing. */
static enum built new_number(const struct jnum *n, struct json_object **out)
{
    if (!n->is_double) {
        int64_t i = jnum_int64(n);
        uint64_t u = 0;
        if (i == INT64_MAX) { /* positive, maybe above: read it again */
            bool over = false;
            for (size_t k = 0; k < n->len && !over; k++) {
                unsigned d = (unsigned)(n->raw[k] - '0');
                over = u > (UINT64_MAX - d) / 10;
                u = over ? UINT64_MAX : u * 10 + d;
            }
        }
        *out = u > (uint64_t)INT64_MAX ? json_object_new_uint64(u) : json_object_new_int64(i);
        return *out ? B_OK : B_NO_MEMORY;
    }
    char *lit = malloc(n->len + 1);
    if (!lit)
        return B_NO_MEMORY;
    memcpy(lit, n->raw, n->len);
    lit[n->len] = '\0';
    *out = json_object_new_double_s(jnum_double(n), lit);
    free(lit);
    return *out ? B_OK : B_NO_MEMORY;
}

/* The key's value, NUL-terminated, in buf when it fits (cap bytes), else
 * in a new allocation that *heap owns. NULL when out of memory. The
 * scanner refused any NUL in a key. */
static const char *key_text(const struct jstr *key, char *buf, size_t cap, char **heap)
{
    *heap = NULL;
    size_t need = key->len + 1; /* unescaping never lengthens */
    char *dst = buf;
    if (need > cap && !(dst = *heap = malloc(need)))
        return NULL;
    size_t n = jstr_unescape(key, dst, key->len);
    dst[n] = '\0';
    return dst;
}

/* The shape of the member named key in an object of this shape: *known
 * false when the shape does not name it; NULL shape with *scalar for a
 * member whose value is a scalar. */
static const struct json_shape *member_shape(const struct json_shape *shape, const char *key, bool *known,
                                             bool *scalar)
{
    *known = false;
    *scalar = true;
    for (size_t i = 0; shape->names[i]; i++) {
        if (strcmp(shape->names[i], key) == 0) {
            const struct json_shape *m = shape->shapes ? shape->shapes[i] : NULL;
            *known = true;
            *scalar = m == NULL;
            return m;
        }
    }
    return NULL;
}

/* Walks the object at s->p into obj. */
static enum built build_members(struct builder *b, int level, const struct json_shape *shape,
                                struct json_object *obj)
{
    struct jcont c;
    struct jstr key;
    bool kept_unknown = false;
    int rc;
    js_enter(&b->s, &c, level);
    while ((rc = js_next(&b->s, &c, &key)) > 0) {
        char small[64], *heap;
        const char *k = key_text(&key, small, sizeof small, &heap);
        if (!k)
            return B_NO_MEMORY;
        bool known = true, scalar = false;
        const struct json_shape *m = b->full ? NULL : member_shape(shape, k, &known, &scalar);
        enum built r;
        if (!b->full && !known && kept_unknown) {
            enum jblob blob = JB_OK;
            r = js_skip(&b->s, level + 1, &blob) < 0 ? B_STOP : B_OK;
            b->out_of_range |= blob == JB_RANGE;
        } else {
            struct json_object *v = NULL;
            kept_unknown |= !known;
            r = build(b, level + 1, m, scalar, &v);
            if (r == B_OK && json_object_object_add(obj, k, v) < 0) {
                json_object_put(v);
                r = B_NO_MEMORY;
            }
        }
        free(heap);
        if (r != B_OK)
            return r;
    }
    return rc < 0 ? B_STOP : B_OK;
}

/* Walks the array at s->p into arr. */
static enum built build_items(struct builder *b, int level, const struct json_shape *shape,
                              struct json_object *arr)
{
    struct jcont c;
    struct jstr unused;
    size_t n = 0;
    int rc;
    js_enter(&b->s, &c, level);
    while ((rc = js_next(&b->s, &c, &unused)) > 0) {
        if (!b->full && n > shape->max_items) {
            enum jblob blob = JB_OK;
            if (js_skip(&b->s, level + 1, &blob) < 0)
                return B_STOP;
            b->out_of_range |= blob == JB_RANGE;
            continue;
        }
        struct json_object *v = NULL;
        enum built r = build(b, level + 1, b->full ? NULL : shape->items, !b->full && !shape->items, &v);
        if (r == B_OK && json_object_array_add(arr, v) < 0) {
            json_object_put(v);
            r = B_NO_MEMORY;
        }
        if (r != B_OK)
            return r;
        n++;
    }
    return rc < 0 ? B_STOP : B_OK;
}

/* Builds the value at s->p, of the given level, as the shape says (b->full:
 * everything; scalar: a scalar is expected; else shape). *out is a new
 * reference, NULL for null; on failure nothing is left to free. */
static enum built build(struct builder *b, int level, const struct json_shape *shape, bool scalar,
                        struct json_object **out)
{
    *out = NULL;
    switch (js_peek(&b->s)) {
    case JT_STRING: {
        struct jstr str;
        if (js_string(&b->s, &str) < 0)
            return B_STOP;
        return new_string(&str, out);
    }
    case JT_NUMBER: {
        struct jnum n;
        if (js_number(&b->s, &n) < 0)
            return B_STOP;
        b->out_of_range |= jnum_may_overflow(&n) && !jnum_fits_double(&n);
        return new_number(&n, out);
    }
    case JT_BOOL: {
        bool t = *b->s.p == 't';
        if (js_literal(&b->s) < 0)
            return B_STOP;
        *out = json_object_new_boolean(t);
        return *out ? B_OK : B_NO_MEMORY;
    }
    case JT_NULL:
        return js_literal(&b->s) < 0 ? B_STOP : B_OK;
    case JT_OBJECT:
    case JT_ARRAY: {
        bool object = *b->s.p == '{';
        bool wanted = b->full || (!scalar && shape && shape->kind == (object ? JSHAPE_OBJECT : JSHAPE_ARRAY));
        *out = object ? json_object_new_object() : json_object_new_array();
        if (!*out)
            return B_NO_MEMORY;
        enum built r;
        if (!wanted) {
            /* Its type is all a check can see of it: an empty one. */
            enum jblob blob = JB_OK;
            r = js_skip(&b->s, level, &blob) < 0 ? B_STOP : B_OK;
            b->out_of_range |= blob == JB_RANGE;
        } else {
            r = object ? build_members(b, level, shape, *out) : build_items(b, level, shape, *out);
        }
        if (r != B_OK) {
            json_object_put(*out);
            *out = NULL;
        }
        return r;
    }
    case JT_NONE:
        break;
    }
    /* What js_skip says about a value that cannot start here. */
    return js_skip(&b->s, level, NULL) < 0 ? B_STOP : B_OK;
}

struct json_object *json_parse_shaped(const char *text, size_t len, int max_depth, const struct json_shape *shape,
                                      const char **why)
{
    struct builder b = {.full = shape == NULL};
    struct json_object *obj = NULL;
    *why = NULL;
    if (len > (size_t)INT32_MAX) {
        *why = "body too large to parse";
        return NULL;
    }
    js_init(&b.s, text, len, max_depth);
    enum built r = build(&b, 1, shape, false, &obj);
    if (r == B_OK && js_finish(&b.s) < 0)
        r = B_STOP;
    if (r == B_NO_MEMORY) {
        /* Free what was built, then tell bad JSON from a lack of memory
         * by a scan that allocates nothing. */
        json_object_put(obj);
        obj = NULL;
        js_init(&b.s, text, len, max_depth);
        r = js_skip(&b.s, 1, NULL) < 0 || js_finish(&b.s) < 0 ? B_STOP : B_NO_MEMORY;
        *why = JSON_WHY_NO_MEMORY;
    }
    if (r == B_STOP) {
        json_object_put(obj);
        obj = NULL;
        js_settle(&b.s);
        *why = len == 0 ? "unexpected end of JSON" : b.s.why;
        return NULL;
    }
    if (r == B_OK && b.out_of_range) {
        json_object_put(obj);
        obj = NULL;
        *why = JSON_WHY_RANGE;
    }
    return obj;
}

struct json_object *json_parse_strict(const char *text, size_t len, int max_depth, const char **why)
{
    return json_parse_shaped(text, len, max_depth, NULL, why);
}

const char *json_unknown_key(struct json_object *obj, const char *const *allowed)
{
    json_object_object_foreach(obj, key, val) {
        (void)val;
        const char *const *a = allowed;
        while (*a && strcmp(*a, key) != 0)
            a++;
        if (!*a)
            return key;
    }
    return NULL;
}
