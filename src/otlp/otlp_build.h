/* What the two OTLP decoders (otlp_proto.c, otlp_json.c) share to build
 * the model of otlp_model.h: the memory budget, the rules of a span and
 * the attribute values as json-c objects. Internal to otlp_decode (a part
 * of that module, tests/check_layers.py). */
#ifndef AGORA_OTLP_BUILD_H
#define AGORA_OTLP_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "otlp/otlp_decode.h"
#include "otlp/otlp_model.h"

/* One decoding under way. */
struct otlp_build {
    size_t budget;      /* bytes it may still use */
    bool over;          /* the budget ran out: the decoding stops, OTLP_ERR_DECODED_SIZE */
    const char *reject; /* the first rule broken by the span, scope or resource being read */
};

/* What the model's parts cost against the budget, besides their strings:
 * measured on json-c 0.16 (an object comes with a hash table of 16
 * entries), rounded up. */
#define OB_COST_VALUE 64    /* a json-c scalar, or an array without its slots */
#define OB_COST_STRING 16   /* a string's block, besides its bytes */
#define OB_COST_OBJECT 800  /* an empty json-c object */
#define OB_COST_MEMBER 48   /* a member of an object, besides its key */
#define OB_COST_ITEM 16     /* an item's slot in an array (grown by doubling) */

/* The budget of a body of len bytes under lim. */
void ob_init(struct otlp_build *b, const struct otlp_limits *lim, size_t len);
/* Takes n bytes from the budget: false (and b->over) when they are not
 * there. */
bool ob_charge(struct otlp_build *b, size_t n);
/* Notes a broken rule: the first one of the part being read is kept. */
static inline void ob_reject(struct otlp_build *b, const char *why)
{
    if (!b->reject)
        b->reject = why;
}

/* A new array of n zeroed items of size bytes, charged; NULL (over) when
 * the budget runs out. n 0 gives NULL without failing: check b->over. */
void *ob_array(struct otlp_build *b, size_t n, size_t size);
/* Makes room for item n of an array of n items (arr, grown by doubling
 * from 4, its capacity a function of n; new items zeroed, charged): the
 * array, maybe moved, or NULL when the budget runs out (arr is then still
 * the caller's). For arrays whose length is not known in advance. */
void *ob_push(struct otlp_build *b, void *arr, size_t n, size_t size);
/* A NUL-terminated copy of s (len bytes), charged; NULL when the budget
 * runs out. A copy that is not well-formed UTF-8 (util/text.h's rule) or
 * holds a NUL rejects with bad_utf8 or OB_WHY_NUL. */
char *ob_string(struct otlp_build *b, const char *s, size_t len, const char *bad_utf8);
extern const char OB_WHY_NUL[];

/* Sets one of a span's ids from its bytes (the protobuf field, or the
 * JSON hex digits decoded), rejecting the span for a wrong length; an id
 * of length 0 or all zeros leaves it zero (no parent, for a parent). */
enum ob_id { OB_TRACE_ID, OB_SPAN_ID, OB_PARENT_ID };
void ob_span_id(struct otlp_build *b, struct otlp_span *s, enum ob_id which, const uint8_t *id, size_t len);
/* The rules of a span that hold once it is read: trace and span ids set
 * (not all zero), its times (start set, end not before it, neither beyond
 * INT64_MAX, nor an event's), its kind and status code in range (else
 * UNSPECIFIED and UNSET). */
void ob_span_rules(struct otlp_build *b, struct otlp_span *s);
/* Counts the spans, and rejects every span of a rejected resource or
 * scope (with the resource's or scope's reason, unless it has its own). */
void ob_finish(struct otlp_request *req);

/* Attribute values (otlp_model.h): NULL when the budget runs out, and
 * json-c's own failures abort (out of memory). */
struct json_object *ob_json_string(struct otlp_build *b, const char *s, size_t len);
struct json_object *ob_json_int64(struct otlp_build *b, int64_t v);
struct json_object *ob_json_double(struct otlp_build *b, double d);
struct json_object *ob_json_bytes(struct otlp_build *b, const uint8_t *data, size_t len);
struct json_object *ob_json_bool(struct otlp_build *b, bool v);
/* A new empty array or object (a kvlist), charged. */
struct json_object *ob_json_array(struct otlp_build *b);
struct json_object *ob_json_object(struct otlp_build *b);
/* Appends val to the array arr, stealing it (NULL is JSON null); false
 * when the budget runs out (val is released). */
bool ob_item(struct otlp_build *b, struct json_object *arr, struct json_object *val);
/* Adds the attribute key (len bytes) = val, stealing val (NULL is JSON
 * null), to the set, or with set NULL to the json-c object obj (a
 * kvlist's, where a repeated key keeps its last value). A key that is not
 * UTF-8 or holds a NUL rejects with OB_WHY_ATTR_UTF8 or OB_WHY_NUL. false
 * when the budget runs out (val is released). */
bool ob_attr(struct otlp_build *b, struct otlp_attrs *set, struct json_object *obj, const char *key, size_t len,
             struct json_object *val);
extern const char OB_WHY_ATTR_UTF8[];

/* Writes the why of an error into why (cap bytes). */
enum otlp_err ob_fail(enum otlp_err err, const char *text, char *why, size_t cap);

/* Aborts when json-c could not allocate: the project's out-of-memory
 * policy. Returns o. */
struct json_object *ob_json_ok(struct json_object *o);

#endif
