/* Verifying a user's JWT: the one pinned algorithm, every claim checked
 * here (libjwt checks none). Pure: the caller answers a refusal. */
#ifndef AGORA_JWT_H
#define AGORA_JWT_H

#include <stddef.h>

#include "util/uuid.h"

struct config;

/* Verifies a JWT (len bytes) at time now (Unix seconds): signature under the
 * configured algorithm and key, the header's alg equal to the pinned one,
 * exp required and in the future, nbf and iat not in the future (leeway
 * allowed), aud and iss equal to the configured values when set, sub a
 * UUID. 0 with user_id set (lowercase), or -1 with *why a static reason. */
int auth_verify_jwt(const struct config *cfg, const char *token, size_t len, long long now,
                    char user_id[UUID_STR_LEN + 1], const char **why);

#endif
