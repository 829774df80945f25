/* The API's route table: every route of the contract in one place. */
#ifndef AGORA_ROUTES_H
#define AGORA_ROUTES_H

#include <stddef.h>

#include "http/router.h"
#include "ops/metrics.h"

extern const struct route agora_routes[];
extern const size_t agora_routes_count;

/* The metrics' labels of the routes, in table order, into out (room for
 * METRICS_MAX_ROUTES); returns how many (agora_routes_count, which
 * metrics_block_open checks against its room). */
size_t agora_routes_metric_labels(struct metrics_route out[METRICS_MAX_ROUTES]);

#endif
