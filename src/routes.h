/* The API's route table: every route of the contract in one place. */
#ifndef AGORA_ROUTES_H
#define AGORA_ROUTES_H

#include <stddef.h>

#include "router.h"

extern const struct route agora_routes[];
extern const size_t agora_routes_count;

#endif
