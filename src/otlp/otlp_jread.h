/* The reader of OTLP/JSON shared by its two parts: otlp_json.c (the
 * messages down to a span, and the readers of single members) and
 * otlp_json_value.c (attributes and their AnyValues). Internal to
 * otlp_decode (a part of that module, tests/check_layers.py).
 *
 * Every reader returns true, or false with the error in the jreader;
 * those of a member take the value at the scanner's cursor, of the given
 * level (json_scan.h's levels: the body's object is 1), and treat null as
 * an absent member. */
#ifndef AGORA_OTLP_JREAD_H
#define AGORA_OTLP_JREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "json/json_scan.h"
#include "otlp/otlp_build.h"

struct jreader {
    struct jscan s;
    struct otlp_build *b;
    enum otlp_err err; /* when a reader returned false */
    const char *why;   /* static text; NULL: the scanner's reason */
    int any_depth;     /* AnyValues being read, one in another */
    char text[80];     /* a why made for the member at hand */
};

/* Set the error and return false. */
bool jr_fail(struct jreader *r, enum otlp_err err, const char *why);
/* After a builder of otlp_build.h gave nothing: the budget ran out. */
bool jr_over(struct jreader *r);
/* After the scanner stopped: its reason is the error's. */
bool jr_stopped(struct jreader *r);

/* Whether the key is camel or snake (ASCII names under 32 bytes). */
bool jr_key_is(const struct jstr *k, const char *camel, const char *snake);
/* True (and consumed) when the value at the cursor is null. */
bool jr_null(struct jreader *r);
/* Whether the value at the cursor is of type want; if not, the error is
 * why, or the scanner's when no value starts there. */
bool jr_expect(struct jreader *r, enum jtype want, const char *why);
/* A string's value: its raw bytes, or unescaped into *heap (the caller
 * frees it). */
const char *jr_string_value(const struct jstr *str, size_t *len, char **heap);
/* proto3's integers: a JSON number (integral) or a string of decimal
 * digits, negative only when is_signed, at most max (and at least -max-1);
 * *v holds a negative one's two's complement. */
bool jr_integer(struct jreader *r, bool is_signed, uint64_t max, uint64_t *v, const char *why);

/* Calls item(r, level + 1, ctx) on each value of the array at level
 * (null: none; anything else but an array is the error why). */
typedef bool (*jr_item)(struct jreader *r, int level, void *ctx);
bool jr_array(struct jreader *r, int level, const char *why, jr_item item, void *ctx);

/* An array of KeyValues at level, added to the set, or with set NULL to
 * the object obj (ob_attr): otlp_json_value.c. */
bool jr_attributes(struct jreader *r, int level, struct otlp_attrs *set, struct json_object *obj);

#endif
