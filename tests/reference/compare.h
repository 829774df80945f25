/* REFERENCE ONLY: the differential check of the one-pass ingest validator
 * against the former json-c pipeline (compare.c says what must agree). */
#ifndef AGORA_COMPARE_H
#define AGORA_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* 0 when ingest_validate() and the former pipeline agree on text, else -1
 * with what differs in report. exact: agree fully even when keys repeat
 * (right when only schema fields repeat, not keys in blobs or unknown
 * fields). */
int ref_compare(const struct config *cfg, const char *text, size_t len, bool exact, char *report, size_t cap);
/* True when text is JSON (for the former parser) with a key repeated in
 * some object. */
bool ref_has_repeated_keys(const char *text, size_t len, int max_depth);
/* True when text holds, outside strings, an integer literal (no fraction,
 * no exponent) of more than 308 digits. */
bool ref_has_huge_integer(const char *text, size_t len);

#endif
