/* Authentication: who is calling. A Bearer JWT is verified against the one
 * pinned algorithm and its claims checked here (libjwt checks none); an
 * "agk_" API key is looked up by id and its hash compared in constant
 * time. Every failure is the same 401 to the client; the reason is logged
 * without the credential. */
#ifndef AGORA_AUTH_H
#define AGORA_AUTH_H

#include <stddef.h>

#include "request.h"

struct config;

/* Finds the credential in an Authorization header value: "Bearer " (scheme
 * case-insensitive) then the token, no spaces inside. 0 and *tok, *len set,
 * or -1. */
int auth_bearer_token(const char *header, const char **tok, size_t *len);

/* Verifies a JWT (len bytes) at time now (Unix seconds): signature under the
 * configured algorithm and key, the header's alg equal to the pinned one,
 * exp required and in the future, nbf and iat not in the future (leeway
 * allowed), aud and iss equal to the configured values when set, sub a
 * UUID. 0 with user_id set (lowercase), or -1 with *why a static reason. */
int auth_verify_jwt(const struct config *cfg, const char *token, size_t len, long long now,
                    char user_id[UUID_STR_LEN + 1], const char **why);

/* True when the query string carries a credential (access_token, token,
 * api_key, apikey, key, jwt): such requests are refused, since URLs end up
 * in logs and browser history. */
int auth_query_has_credential(const char *query);

/* Establishes r->who from r->authorization (JWT or API key; API keys are
 * looked up through r->db). 0, or -1 after replying (401, or 503 when the
 * database is needed and down). */
int auth_identify_or_reply(struct req *r);

#endif
