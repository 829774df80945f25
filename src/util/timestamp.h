/* Timestamps as the API speaks them. Input: RFC 3339 (date, 'T' or 't' or
 * one space, time, optional fraction of 1..9 digits, then 'Z'/'z' or
 * +hh:mm/-hh:mm) and the reference client's offset-less form, which means
 * UTC. Output: RFC 3339 UTC with exactly six fraction digits and a Z. The
 * parser is strict: every field range-checked, calendar-aware (leap years),
 * no leap second 60, years 0001..9999. */
#ifndef AGORA_TIMESTAMP_H
#define AGORA_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>

/* "2024-11-26T12:00:00.123456Z" plus NUL */
#define TS_TEXT_LEN 27

/* The range of this API's timestamps, years 0001 to 9999, in microseconds
 * since the Unix epoch: what ts_parse accepts and a cursor may carry. */
#define TS_MIN_MICROS (-62135596800000000LL)
#define TS_MAX_MICROS 253402300799999999LL

/* Parses s (len bytes, not necessarily NUL-terminated). 0 and *micros =
 * microseconds since 1970-01-01T00:00:00Z (fractions beyond microseconds
 * are rounded half up; PostgreSQL rounds half to even, so an exact half may
 * differ by 1 us from what it stores, which is harmless: ingest stores
 * PostgreSQL's reading of the text), or -1. Offsets are limited to +-15:59,
 * the range PostgreSQL accepts. */
int ts_parse(const char *s, size_t len, int64_t *micros);
/* Writes the canonical text of micros into out. */
void ts_format(int64_t micros, char out[TS_TEXT_LEN + 1]);

#endif
