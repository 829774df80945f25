/* Strict JSON input: request bodies as json-c objects (parsed by
 * json_tree.c) and typed field access that answers the client on the
 * first bad field. */
#include "http/json_body.h"

#include <stdio.h>
#include <string.h>

#include "http/errors.h"
#include "json/json_scan.h"
#include "util/text.h"
#include "util/timestamp.h"
#include "util/uuid.h"
#include "ops/config.h"

struct json_object *json_body_object_or_reply(struct req *r, const struct json_shape *shape)
{
    if (!r->body || r->body_len == 0) {
        reply_error(r, E_BAD_JSON, NULL, "a JSON body is required");
        return NULL;
    }
    const char *why = NULL;
    struct json_object *obj = json_parse_shaped(r->body, r->body_len, r->cfg->max_depth, shape, &why);
    if (!obj && (why == JSON_WHY_NUL_KEY || why == JSON_WHY_RANGE)) {
        reply_error(r, E_VALIDATION, NULL, "%s", why);
        return NULL;
    }
    if (!obj && why == JSON_WHY_NO_MEMORY) {
        reply_error(r, E_UNAVAILABLE, NULL, "%s now: the server is short of memory, try again later", why);
        return NULL;
    }
    if (!obj && why) {
        reply_error(r, E_BAD_JSON, NULL, "malformed JSON: %s", why);
        return NULL;
    }
    if (!json_object_is_type(obj, json_type_object)) { /* null included */
        json_object_put(obj);
        reply_error(r, E_VALIDATION, NULL, "the body must be a JSON object");
        return NULL;
    }
    return obj;
}

/* Fetches obj[key]: 1 when present and not null, 0 when absent or null
 * (allowed when optional), -1 after replying that it is required. */
static int field_or_reply(struct req *r, struct json_object *obj, const char *key, enum jfield need,
                          struct json_object **val)
{
    *val = NULL;
    if (!json_object_object_get_ex(obj, key, val) || json_object_is_type(*val, json_type_null)) {
        *val = NULL;
        if (need == JF_REQUIRED)
            return reply_error(r, E_VALIDATION, key, "%s is required", key);
        return 0;
    }
    return 1;
}

int json_string_or_reply(struct req *r, struct json_object *obj, const char *key, enum jfield need,
                         size_t maxlen, const char **out)
{
    struct json_object *val;
    *out = NULL;
    int rc = field_or_reply(r, obj, key, need, &val);
    if (rc <= 0)
        return rc;
    if (!json_object_is_type(val, json_type_string))
        return reply_error(r, E_VALIDATION, key, "%s must be a string", key);
    const char *s = json_object_get_string(val);
    size_t len = (size_t)json_object_get_string_len(val);
    if (len == 0)
        return reply_error(r, E_VALIDATION, key, "%s must not be empty", key);
    if (len > maxlen)
        return reply_error(r, E_VALIDATION, key, "%s is longer than %zu bytes", key, maxlen);
    if (strlen(s) != len)
        return reply_error(r, E_VALIDATION, key, "%s must not contain NUL characters", key);
    enum name_char c = name_text_class(s, len);
    if (c != NAME_CHAR_OK)
        return reply_error(r, E_VALIDATION, key, "%s %s", key, name_char_rule(c));
    *out = s;
    return 0;
}

int json_uuid_or_reply(struct req *r, struct json_object *obj, const char *key, enum jfield need,
                       const char **out)
{
    struct json_object *val;
    *out = NULL;
    int rc = field_or_reply(r, obj, key, need, &val);
    if (rc <= 0)
        return rc;
    if (!json_object_is_type(val, json_type_string) ||
        !uuid_valid_n(json_object_get_string(val), (size_t)json_object_get_string_len(val)))
        return reply_error(r, E_VALIDATION, key, "%s must be a UUID", key);
    *out = json_object_get_string(val);
    return 0;
}

int json_decimal_or_reply(struct req *r, struct json_object *obj, const char *key, enum jfield need, double max,
                          long places, const char **out)
{
    struct json_object *val;
    *out = NULL;
    int rc = field_or_reply(r, obj, key, need, &val);
    if (rc <= 0)
        return rc;
    if (!json_object_is_type(val, json_type_int) && !json_object_is_type(val, json_type_double))
        return reply_error(r, E_VALIDATION, key, "%s must be a number", key);
    double d = json_object_get_double(val);
    const char *text = json_object_get_string(val);
    if (d < 0)
        return reply_error(r, E_VALIDATION, key, "%s must not be negative", key);
    if (d > max)
        return reply_error(r, E_VALIDATION, key, "%s must be at most %.0f", key, max);
    if (number_decimal_places(text) > places)
        return reply_error(r, E_VALIDATION, key, "%s must have at most %ld decimals", key, places);
    *out = text;
    return 0;
}

int json_timestamp_or_reply(struct req *r, struct json_object *obj, const char *key, enum jfield need,
                            char store[TS_TEXT_LEN + 1], const char **out)
{
    struct json_object *val;
    int64_t micros;
    *out = NULL;
    int rc = field_or_reply(r, obj, key, need, &val);
    if (rc <= 0)
        return rc;
    if (!json_object_is_type(val, json_type_string) ||
        ts_parse(json_object_get_string(val), (size_t)json_object_get_string_len(val), &micros) < 0)
        return reply_error(r, E_VALIDATION, key, "%s must be an RFC 3339 timestamp", key);
    ts_format(micros, store);
    *out = store;
    return 0;
}

int json_enum_or_reply(struct req *r, struct json_object *obj, const char *key, enum jfield need,
                       const char *const *choices, const char **out)
{
    struct json_object *val;
    *out = NULL;
    int rc = field_or_reply(r, obj, key, need, &val);
    if (rc <= 0)
        return rc;
    if (json_object_is_type(val, json_type_string)) {
        const char *s = json_object_get_string(val);
        size_t len = (size_t)json_object_get_string_len(val);
        for (const char *const *c = choices; *c; c++) {
            if (strlen(*c) == len && memcmp(*c, s, len) == 0) {
                *out = *c;
                return 0;
            }
        }
    }
    char list[256] = "";
    for (const char *const *c = choices; *c; c++) {
        if (c != choices)
            strncat(list, ", ", sizeof list - strlen(list) - 1);
        strncat(list, *c, sizeof list - strlen(list) - 1);
    }
    return reply_error(r, E_VALIDATION, key, "%s must be one of: %s", key, list);
}

int json_only_keys_or_reply(struct req *r, struct json_object *obj, const char *const *allowed)
{
    const char *key = json_unknown_key(obj, allowed);
    if (key) {
        char path[128];
        sanitize_text(path, sizeof path, key);
        return reply_error(r, E_VALIDATION, path, "unknown field %s", path);
    }
    return 0;
}
