/* Parsing a JSON text into a json-c tree of only what a body's checks read
 * (json_tree.c), so that a hostile body costs a small multiple of its size:
 * built on the one-pass scanner (json_scan.h). */
#ifndef AGORA_JSON_TREE_H
#define AGORA_JSON_TREE_H

#include <stddef.h>

#include <json-c/json.h>

/* What a body may hold where its checks look, so that parsing builds only
 * that (json_tree.c): an object with known members, each a scalar or of a
 * shape of its own, or an array of items of one shape, of which the
 * checks refuse more than max_items. */
enum json_shape_kind { JSHAPE_OBJECT, JSHAPE_ARRAY };
struct json_shape {
    enum json_shape_kind kind;
    const char *const *names;                /* OBJECT: the known members, NULL-terminated */
    const struct json_shape *const *shapes;  /* OBJECT: the shape of each, as names (NULL: a scalar);
                                                NULL: all are scalars */
    const struct json_shape *items;          /* ARRAY: the items' shape (NULL: scalars) */
    size_t max_items;                        /* ARRAY: the checks' limit */
};

/* Reasons json_parse_shaped gives besides the scanner's: a number beyond
 * a double (422, as in an ingest body), and a failed allocation (503). */
extern const char JSON_WHY_RANGE[];
extern const char JSON_WHY_NO_MEMORY[];

/* Parses text (len bytes) as one JSON value, as json-c's strict mode with
 * UTF-8 validated and depth limited would, nothing after the value but
 * whitespace, into a json-c tree that holds what the checks of a body of
 * this shape can read (shape NULL: everything). Where the shape wants a
 * scalar, a container is an empty one of its type; of an object's
 * unknown members only the first is kept; of an array's items, at most
 * max_items + 1. So memory stays within a small multiple of the text
 * whatever it holds. Returns a new reference, or NULL with a short reason
 * in why (static text). The text "null" is valid: NULL with *why NULL. A
 * NUL in an object key, which json-c would silently cut, gives
 * JSON_WHY_NUL_KEY (json_scan.h): the body answers 422, like a NUL in a
 * value; a number out of a double's range anywhere, JSON_WHY_RANGE; when
 * memory runs out, JSON_WHY_NO_MEMORY (unless the text is not JSON). */
struct json_object *json_parse_shaped(const char *text, size_t len, int max_depth, const struct json_shape *shape,
                                      const char **why);
/* json_parse_shaped with no shape: the whole tree. */
struct json_object *json_parse_strict(const char *text, size_t len, int max_depth,
                                      const char **why);

/* The shape of a flat body: an object of the given members (the NULL-
 * terminated names), all scalars. */
#define JSON_FLAT_SHAPE(names) {JSHAPE_OBJECT, (names), NULL, NULL, 0}

/* The first member of obj whose name is not among the NULL-terminated
 * allowed names (borrowed from obj), or NULL when there is none: for
 * bodies that refuse unknown fields. */
const char *json_unknown_key(struct json_object *obj, const char *const *allowed);

#endif
