/* Reading JSON bodies strictly. json-c coerces silently ("123" becomes 123,
 * large numbers clamp), so every getter checks the type first, and each
 * ..._or_reply helper answers the client itself (400/422 with the field's
 * path) and returns -1, so a handler only has to return. */
#ifndef AGORA_JSON_IN_H
#define AGORA_JSON_IN_H

#include <stdbool.h>
#include <json-c/json.h>

#include "json/json_scan.h"
#include "json/json_tree.h"
#include "http/request.h"
#include "util/timestamp.h"

/* Parses r->body as a JSON object of the given shape (json_parse_shaped).
 * No body, bad JSON or invalid UTF-8: 400 bad_json; another type, a NUL in
 * a key or a number out of range: 422; out of memory: 503 unavailable.
 * Returns a new reference or NULL (replied). */
struct json_object *json_body_object_or_reply(struct req *r, const struct json_shape *shape);

enum jfield { JF_OPTIONAL = 0, JF_REQUIRED = 1 };

/* Reads obj[key] as a name: a string of 1..maxlen bytes without NUL,
 * control or format characters (text.h, name_char_class). *out is
 * borrowed from obj (NULL when optional and absent or null). 0 on
 * success, -1 when it replied 422 with path = key. */
int json_string_or_reply(struct req *r, struct json_object *obj, const char *key,
                         enum jfield need, size_t maxlen, const char **out);
/* Reads obj[key] as a canonical UUID string; *out as for json_string. */
int json_uuid_or_reply(struct req *r, struct json_object *obj, const char *key,
                       enum jfield need, const char **out);
/* Reads obj[key] as a number from 0 to max with at most places decimals
 * (trailing zeros aside); *out is its text as the body spelt it (or the
 * integer's decimal digits), borrowed from obj, for PostgreSQL's numeric,
 * which keeps every digit a double would round. */
int json_decimal_or_reply(struct req *r, struct json_object *obj, const char *key, enum jfield need, double max,
                          long places, const char **out);
/* Reads obj[key] as an RFC 3339 timestamp (timestamp.h), rewritten
 * canonically into store; *out is store, or NULL when optional and absent
 * or null. */
int json_timestamp_or_reply(struct req *r, struct json_object *obj, const char *key, enum jfield need,
                            char store[TS_TEXT_LEN + 1], const char **out);
/* Reads obj[key] as one of the NULL-terminated choices. */
int json_enum_or_reply(struct req *r, struct json_object *obj, const char *key,
                       enum jfield need, const char *const *choices, const char **out);
/* Rejects members other than the NULL-terminated allowed names (422 with
 * the unknown member's path), so typos are not silently ignored. */
int json_only_keys_or_reply(struct req *r, struct json_object *obj, const char *const *allowed);

#endif
