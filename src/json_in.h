/* Reading JSON bodies strictly. json-c coerces silently ("123" becomes 123,
 * large numbers clamp), so every getter checks the type first, and each
 * ..._or_reply helper answers the client itself (400/422 with the field's
 * path) and returns -1, so a handler only has to return. */
#ifndef AGORA_JSON_IN_H
#define AGORA_JSON_IN_H

#include <stdbool.h>
#include <json-c/json.h>

#include "json_scan.h"
#include "request.h"

/* Parses text (len bytes) as one JSON value: strict mode, UTF-8 validated,
 * depth limited, nothing after the value but whitespace. Returns a new
 * reference, or NULL with a short reason in why (static text). The text
 * "null" is valid: NULL with *why NULL. A NUL in an object key, which
 * json-c would silently cut, gives JSON_WHY_NUL_KEY (json_scan.h): the body
 * answers 422, like a NUL in a value. */
struct json_object *json_parse_strict(const char *text, size_t len, int max_depth,
                                      const char **why);

/* Parses r->body as a JSON object. No body, bad JSON or invalid UTF-8: 400
 * bad_json; another type: 422. Returns a new reference or NULL (replied). */
struct json_object *json_body_object_or_reply(struct req *r);

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
/* Reads obj[key] as one of the NULL-terminated choices. */
int json_enum_or_reply(struct req *r, struct json_object *obj, const char *key,
                       enum jfield need, const char *const *choices, const char **out);
/* Rejects members other than the NULL-terminated allowed names (422 with
 * the unknown member's path), so typos are not silently ignored. */
int json_only_keys_or_reply(struct req *r, struct json_object *obj, const char *const *allowed);

#endif
