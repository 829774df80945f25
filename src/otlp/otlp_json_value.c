/* OTLP/JSON attributes (part of otlp_decode, with otlp_json.c): arrays of
 * KeyValues whose AnyValues become json-c values of the model
 * (otlp_model.h). An AnyValue is an object with one member naming its
 * type: stringValue, boolValue, intValue (a number or a string),
 * doubleValue (a number, or "NaN", "Infinity", "-Infinity"), bytesValue
 * (base64), arrayValue {"values": [AnyValue...]} or kvlistValue
 * {"values": [KeyValue...]}. Reading recurses once per AnyValue, at most
 * OTLP_MAX_ANY_DEPTH deep. */
#include "otlp/otlp_jread.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/text.h"

static bool read_any(struct jreader *r, int level, struct json_object **out);

/* Decodes base64 text (n bytes, padding optional) into out (room for
 * 3n/4 + 3 bytes): its length, or -1 when it is not base64. */
static long b64_decode(const char *text, size_t n, uint8_t *out)
{
    while (n && text[n - 1] == '=' && n % 4 != 1)
        n--;
    if (n % 4 == 1)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        int d = base64_digit_value(text[i]);
        if (d < 0)
            return -1;
        acc = acc << 6 | (uint32_t)d;
        if (i % 4 == 3) {
            out[o++] = (uint8_t)(acc >> 16);
            out[o++] = (uint8_t)(acc >> 8);
            out[o++] = (uint8_t)acc;
            acc = 0;
        }
    }
    if (n % 4 == 2) {
        out[o++] = (uint8_t)(acc >> 4);
    } else if (n % 4 == 3) {
        out[o++] = (uint8_t)(acc >> 10);
        out[o++] = (uint8_t)(acc >> 2);
    }
    return (long)o;
}

/* stringValue, or bytesValue (bytes) made canonical base64. */
static bool read_string_or_bytes(struct jreader *r, bool bytes, struct json_object **out)
{
    struct jstr str;
    char *heap;
    size_t len;
    if (!jr_expect(r, JT_STRING, "stringValue and bytesValue must be strings"))
        return false;
    if (js_string(&r->s, &str) < 0)
        return jr_stopped(r);
    const char *text = jr_string_value(&str, &len, &heap);
    long n = 0;
    if (bytes) {
        uint8_t *raw = xmalloc(len / 4 * 3 + 3);
        n = b64_decode(text, len, raw);
        *out = n < 0 ? NULL : ob_json_bytes(r->b, raw, (size_t)n);
        free(raw);
    } else {
        *out = ob_json_string(r->b, text, len);
    }
    free(heap);
    if (n < 0)
        return jr_fail(r, OTLP_ERR_MALFORMED, "bytesValue must be base64");
    return *out ? true : jr_over(r);
}

/* doubleValue: a number, or one of proto3's spellings of the specials. */
static bool read_double(struct jreader *r, struct json_object **out)
{
    static const char why[] = "doubleValue must be a number";
    static const char *const specials[] = {"NaN", "Infinity", "-Infinity"};
    static const double values[] = {NAN, INFINITY, -INFINITY};
    struct jstr str;
    struct jnum num;
    double d;
    if (js_peek(&r->s) == JT_STRING) {
        if (js_string(&r->s, &str) < 0)
            return jr_stopped(r);
        int k = 0;
        while (k < 3 && !(strlen(specials[k]) == str.len && memcmp(specials[k], str.raw, str.len) == 0))
            k++;
        if (k == 3)
            return jr_fail(r, OTLP_ERR_MALFORMED, why);
        d = values[k];
    } else {
        if (!jr_expect(r, JT_NUMBER, why))
            return false;
        if (js_number(&r->s, &num) < 0)
            return jr_stopped(r);
        if (!jnum_fits_double(&num))
            return jr_fail(r, OTLP_ERR_MALFORMED, why);
        d = jnum_double(&num);
    }
    return (*out = ob_json_double(r->b, d)) ? true : jr_over(r);
}

/* A scalar member of an AnyValue, by its key, into a new json-c value;
 * *handled false when the key names none. */
static bool read_scalar(struct jreader *r, const struct jstr *key, struct json_object **out, bool *handled)
{
    uint64_t v;
    *handled = true;
    if (jr_key_is(key, "stringValue", "string_value"))
        return read_string_or_bytes(r, false, out);
    if (jr_key_is(key, "bytesValue", "bytes_value"))
        return read_string_or_bytes(r, true, out);
    if (jr_key_is(key, "doubleValue", "double_value"))
        return read_double(r, out);
    if (jr_key_is(key, "boolValue", "bool_value")) {
        if (!jr_expect(r, JT_BOOL, "boolValue must be true or false"))
            return false;
        bool t = *r->s.p == 't';
        if (js_literal(&r->s) < 0)
            return jr_stopped(r);
        *out = ob_json_bool(r->b, t);
    } else if (jr_key_is(key, "intValue", "int_value")) {
        if (!jr_integer(r, true, INT64_MAX, &v, "intValue must be a 64-bit integer"))
            return false;
        *out = ob_json_int64(r->b, (int64_t)v);
    } else {
        *handled = false;
        return true;
    }
    return *out ? true : jr_over(r);
}

/* One value of an arrayValue, appended to the array ctx. */
static bool read_item(struct jreader *r, int level, void *ctx)
{
    struct json_object *item;
    if (!read_any(r, level, &item))
        return false;
    return ob_item(r->b, ctx, item) || jr_over(r);
}

/* The {"values": [...]} of an arrayValue (kv false) or a kvlistValue at
 * level, into *out: an array, or an object ({} when empty). */
static bool read_list(struct jreader *r, int level, bool kv, struct json_object **out)
{
    struct jcont c;
    struct jstr key;
    int rc = 0;
    if (!(*out = kv ? ob_json_object(r->b) : ob_json_array(r->b)))
        return jr_over(r);
    if (!jr_expect(r, JT_OBJECT, "arrayValue and kvlistValue must be objects"))
        return false;
    js_enter(&r->s, &c, level);
    while ((rc = js_next(&r->s, &c, &key)) > 0) {
        if (!jr_key_is(&key, "values", "values")) {
            if (js_skip(&r->s, level + 1, NULL) < 0)
                return jr_stopped(r);
        } else if (kv ? !jr_attributes(r, level + 1, NULL, *out)
                      : !jr_array(r, level + 1, "values must be an array", read_item, *out)) {
            return false;
        }
    }
    return rc < 0 ? jr_stopped(r) : true;
}

/* An AnyValue at level into *out (NULL: empty). The last member that
 * holds a value wins, as the last field seen does in protobuf. */
static bool read_any(struct jreader *r, int level, struct json_object **out)
{
    struct jcont c;
    struct jstr key;
    int rc = 0;
    bool ok = true;
    *out = NULL;
    if (jr_null(r))
        return true;
    if (!jr_expect(r, JT_OBJECT, "an attribute's value must be an object (AnyValue)"))
        return false;
    /* One deeper than allowed is refused at its first member: an empty
     * AnyValue ({}) nests nothing and is an empty value, as an empty
     * AnyValue message is to the protobuf decoder. */
    bool too_deep = r->any_depth == OTLP_MAX_ANY_DEPTH;
    r->any_depth++;
    js_enter(&r->s, &c, level);
    while (ok && (rc = js_next(&r->s, &c, &key)) > 0) {
        struct json_object *v = NULL;
        bool handled;
        if (too_deep) {
            ok = jr_fail(r, OTLP_ERR_TOO_DEEP, otlp_err_text(OTLP_ERR_TOO_DEEP));
            break;
        }
        if (jr_null(r))
            continue;
        if (jr_key_is(&key, "arrayValue", "array_value"))
            ok = read_list(r, level + 1, false, &v);
        else if (jr_key_is(&key, "kvlistValue", "kvlist_value"))
            ok = read_list(r, level + 1, true, &v);
        else if ((ok = read_scalar(r, &key, &v, &handled)) && !handled && js_skip(&r->s, level + 1, NULL) < 0)
            ok = jr_stopped(r);
        if (v || !ok) {
            json_object_put(*out);
            *out = v;
        }
    }
    r->any_depth--;
    if (ok && rc < 0)
        ok = jr_stopped(r);
    if (!ok) {
        json_object_put(*out);
        *out = NULL;
    }
    return ok;
}

/* Where the KeyValues of an array go (ob_attr). */
struct attrs_target {
    struct otlp_attrs *set;
    struct json_object *obj;
};

/* One KeyValue at level, added to the target ctx. */
static bool read_key_value(struct jreader *r, int level, void *ctx)
{
    struct otlp_attrs *set = ((struct attrs_target *)ctx)->set;
    struct json_object *obj = ((struct attrs_target *)ctx)->obj;
    struct jcont c;
    struct jstr k, str;
    int rc = 0;
    char *heap = NULL, *key_heap = NULL;
    const char *key = "";
    size_t key_len = 0;
    struct json_object *val = NULL;
    bool ok = jr_expect(r, JT_OBJECT, "attributes must be KeyValue objects");
    if (ok)
        js_enter(&r->s, &c, level);
    while (ok && (rc = js_next(&r->s, &c, &k)) > 0) {
        if (jr_key_is(&k, "key", "key")) {
            if (jr_null(r))
                continue;
            if (!(ok = jr_expect(r, JT_STRING, "an attribute's key must be a string")))
                break;
            if (js_string(&r->s, &str) < 0) {
                ok = jr_stopped(r);
                break;
            }
            free(key_heap);
            key = jr_string_value(&str, &key_len, &heap); /* points into the body unless escaped */
            key_heap = heap;
        } else if (jr_key_is(&k, "value", "value")) {
            json_object_put(val);
            ok = read_any(r, level + 1, &val);
        } else if (js_skip(&r->s, level + 1, NULL) < 0) {
            ok = jr_stopped(r);
        }
    }
    if (ok && rc < 0)
        ok = jr_stopped(r);
    if (ok && !ob_attr(r->b, set, obj, key, key_len, val))
        ok = jr_over(r); /* val was released */
    else if (!ok)
        json_object_put(val);
    free(key_heap);
    return ok;
}

bool jr_attributes(struct jreader *r, int level, struct otlp_attrs *set, struct json_object *obj)
{
    return jr_array(r, level, "attributes must be an array", read_key_value, &(struct attrs_target){set, obj});
}
