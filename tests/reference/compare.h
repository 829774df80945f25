/* REFERENCE ONLY: the differential checks of the body parser
 * (compare_tree.c) against the former json-c parser, and the inputs they
 * walk (compare.c). */
#ifndef AGORA_COMPARE_H
#define AGORA_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "ops/config.h"

/* Calls fn with the name, text (its first MiB) and length of each .json
 * file of JSONTestSuite's test_parsing directory (AGORA_JSONTESTSUITE, else
 * ../shared/testdata/JSONTestSuite/test_parsing). The number of files, or
 * -1 when the directory cannot be opened. */
long ref_each_suite_file(void (*fn)(void *ctx, const char *name, const char *text, size_t len), void *ctx);

/* Calls fn on every text one byte away from text (len bytes): cut at each
 * length, each byte deleted, doubled, and replaced by each of bytes
 * (nbytes) that differs from it; what says which. */
void ref_each_byte_change(const char *text, size_t len, const char *bytes, size_t nbytes,
                          void (*fn)(void *ctx, const char *what, const char *body, size_t len), void *ctx);

/* compare_tree.c: the parser of the tenancy and workflow bodies
 * (json_tree.c) against the former json-c one. 0 when json_parse_strict
 * and ref_json_parse_strict agree on text (the verdict, the reason, the
 * printed tree), but for a number beyond a double, which only the new one
 * refuses; else -1 with what differs in report. */
int ref_compare_tree(const char *text, size_t len, int max_depth, char *report, size_t cap);
/* 0 when the workflow checks answer the same on the tree of the workflow
 * body's shape as on the whole tree (the parse verdict, the path and
 * message of a refusal, the nodes and edges that would be stored); else
 * -1 with what differs. */
int ref_compare_shaped(const char *text, size_t len, int max_depth, char *report, size_t cap);

#endif
