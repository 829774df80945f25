/* Authentication: who is calling. A Bearer JWT is verified by auth/jwt.c;
 * an "agk_" API key is looked up by id and its hash compared in constant
 * time. Every failure is the same 401 to the client; the reason is logged
 * without the credential. */
#ifndef AGORA_AUTHENTICATE_H
#define AGORA_AUTHENTICATE_H

#include <stddef.h>

#include "http/request.h"

/* Finds the credential in an Authorization header value: "Bearer " (scheme
 * case-insensitive) then the token, no spaces inside. 0 and *tok, *len set,
 * or -1. */
int auth_bearer_token(const char *header, const char **tok, size_t *len);

/* True when the query string carries a credential (access_token, token,
 * api_key, apikey, key, jwt): such requests are refused, since URLs end up
 * in logs and browser history. */
int auth_query_has_credential(const char *query);

/* Establishes r->who from r->authorization (JWT or API key; API keys are
 * looked up through r->db). 0, or -1 after replying (401, or 503 when the
 * database is needed and down). */
int auth_identify_or_reply(struct req *r);

#endif
