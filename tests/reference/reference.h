/* REFERENCE ONLY: the former json_parse_strict (lexical pre-check, then
 * json-c in strict mode), for the differential test of the body parser
 * (tests/unit/test_json_tree.c, fuzz/fuzz_json_tree.c). Not linked into
 * the worker. */
#ifndef AGORA_REFERENCE_H
#define AGORA_REFERENCE_H

#include <stddef.h>

#include <json-c/json.h>


/* The former json_parse_strict (json_in.c): lexical pre-check, then json-c. */
struct json_object *ref_json_parse_strict(const char *text, size_t len, int max_depth, const char **why);
#endif
