/* Minting JWTs, for agora-admin (development tokens) and the tests. The
 * server never mints tokens for itself: users bring them from their
 * identity provider. */
#ifndef AGORA_TOKEN_H
#define AGORA_TOKEN_H

#include <stddef.h>

#include <jwt.h>

#include "ops/config.h"

/* Returns a new signed token (caller frees) or NULL. key is the HS256
 * secret or the PEM private key for RS256/ES256. aud and iss may be NULL;
 * nbf < 0 means no nbf claim. */
char *token_mint(enum jwt_pin alg, const unsigned char *key, size_t keylen, const char *sub,
                 long long iat, long long exp, long long nbf, const char *aud, const char *iss);

/* libjwt's algorithm for a pinned one: the one place the two meet. */
jwt_alg_t token_jwt_alg(enum jwt_pin pin);

#endif
