/* Restart delays of the worker supervisor (src/main/supervise.c): exponential
 * per worker slot, so a worker that keeps dying is started again ever more
 * slowly, but never given up on. Pure arithmetic, unit-tested
 * (tests/unit/test_backoff.c). */
#ifndef AGORA_BACKOFF_H
#define AGORA_BACKOFF_H

#include <stdint.h>

/* The first delay, and the one after a worker that ran long enough. */
#define BACKOFF_FIRST_MS 100u
/* The longest delay: a slot whose worker dies at once is retried this often. */
#define BACKOFF_MAX_MS 30000u
/* A worker that lived this long was healthy: its slot starts over. */
#define BACKOFF_HEALTHY_MS 10000u

/* How long to wait before starting a worker again in a slot whose worker
 * has just died, in milliseconds. prev_ms: the delay the slot waited before
 * starting the worker that died (0 when it did not wait: the first start);
 * lived_ms: how long that worker ran. 100, 200, 400, ... 25600, then 30000
 * for ever while each worker dies within 10 s; 100 again after one that
 * lived 10 s or more. */
uint32_t backoff_next_ms(uint32_t prev_ms, uint64_t lived_ms);

#endif
