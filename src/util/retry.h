/* When a client tries again: the delays of agora-upload's retries
 * (exponential, with jitter, so many clients that lost the same server do
 * not come back in step) and the server's own word on it, a Retry-After
 * header. Pure, unit-tested (tests/unit/test_retry.c), fuzzed (the
 * ingest_client target). */
#ifndef AGORA_RETRY_H
#define AGORA_RETRY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The delay before the first retry, before jitter. */
#define RETRY_FIRST_MS 500u
/* The longest delay before jitter: later retries wait 15..30 s. */
#define RETRY_MAX_MS 30000u
/* A Retry-After beyond this is not waited for: the payload is kept for a
 * later run instead of holding the program for an hour. */
#define RETRY_AFTER_MAX_S 300

/* The delay before retry number attempt (1 for the first retry), in
 * milliseconds: 500, 1000, 2000, ... doubling up to 30000, each then drawn
 * uniformly from its upper half ("equal jitter": never less than half, so
 * the backoff still grows) using rnd, a random number. */
uint32_t retry_delay_ms(unsigned attempt, uint32_t rnd);

/* Reads a Retry-After value (len bytes, optional whitespace around it):
 * delay-seconds (digits only) or an HTTP-date in any of the three forms
 * RFC 9110 section 5.6.7 asks recipients to accept (IMF-fixdate
 * "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT",
 * asctime "Sun Nov  6 08:49:37 1994"). 0 with *seconds set to the wait from
 * now (0 for a date in the past; at most 10^9), or -1 when it is neither. */
int retry_after_parse(const char *value, size_t len, time_t now, long long *seconds);

#endif
