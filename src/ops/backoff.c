/* Restart delays of the worker supervisor: see backoff.h. */
#include "ops/backoff.h"

uint32_t backoff_next_ms(uint32_t prev_ms, uint64_t lived_ms)
{
    if (lived_ms >= BACKOFF_HEALTHY_MS || prev_ms < BACKOFF_FIRST_MS)
        return BACKOFF_FIRST_MS;
    if (prev_ms >= BACKOFF_MAX_MS / 2)
        return BACKOFF_MAX_MS;
    return prev_ms * 2;
}
